/*
 * fsutil.c - file-system helpers for tests (fsutil.h).
 *
 * Recursive removal is a post-order nftw walk that never follows symbolic
 * links; a first pre-order walk gives directories owner rwx so that a
 * chmod 000 left by a test cannot stop the removal.
 */
#include "tests/support/fsutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char *mkdtemp_in(const char *base, const char *prefix)
{
    size_t cap = strlen(base) + strlen(prefix) + 16;
    char *path = malloc(cap);
    if (!path) return NULL;
    snprintf(path, cap, "%s/%sXXXXXX", base, prefix);
    if (!mkdtemp(path)) {
        int e = errno;
        free(path);
        errno = e;
        return NULL;
    }
    return path;
}

char *fs_mkdtemp(const char *prefix)
{
    const char *tmp = getenv("TMPDIR");
    if (!tmp || !*tmp) tmp = "/tmp";
    return mkdtemp_in(tmp, prefix);
}

char *fs_mkdtemp_fast(const char *prefix)
{
    if (fs_is_dir("/dev/shm") && access("/dev/shm", W_OK | X_OK) == 0) {
        char *path = mkdtemp_in("/dev/shm", prefix);
        if (path) return path;
    }
    return fs_mkdtemp(prefix);
}

static int unlock_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)ftw;
    if (flag == FTW_D || flag == FTW_DNR) chmod(path, (st->st_mode & 07777) | 0700);
    return 0;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    if (flag == FTW_DP || flag == FTW_D || flag == FTW_DNR)
        rmdir(path);
    else
        unlink(path);
    return 0;
}

int fs_rm_rf(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0) return errno == ENOENT ? 0 : -1;
    if (!S_ISDIR(st.st_mode)) return unlink(path);
    /* Repeat the unlock walk until it stops uncovering new directories
     * (a directory made unreadable hides its children from the first). */
    for (int i = 0; i < 8; i++) nftw(path, unlock_entry, 16, FTW_PHYS);
    nftw(path, remove_entry, 16, FTW_PHYS | FTW_DEPTH);
    return lstat(path, &st) == 0 ? -1 : 0;
}

int fs_join(char *buf, size_t cap, const char *dir, const char *name)
{
    int n = snprintf(buf, cap, "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= cap) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return 0;
}

int fs_write_file(const char *path, const void *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return -1;
    const char *p = data;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            int e = errno;
            close(fd);
            errno = e;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return close(fd);
}

int fs_write_str(const char *path, const char *s)
{
    return fs_write_file(path, s, strlen(s));
}

char *fs_read_file(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        if (cap - n < 2) {
            char *b = realloc(buf, cap * 2);
            if (!b) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = b;
            cap *= 2;
        }
        ssize_t got = read(fd, buf + n, cap - n - 1);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) {
            free(buf);
            buf = NULL;
            break;
        }
        if (got == 0) break;
        n += (size_t)got;
    }
    int e = errno;
    close(fd);
    if (!buf) {
        errno = e;
        return NULL;
    }
    buf[n] = 0;
    if (len) *len = n;
    return buf;
}

int fs_copy_file(const char *from, const char *to)
{
    size_t len;
    char *data = fs_read_file(from, &len);
    if (!data) return -1;
    int rc = fs_write_file(to, data, len);
    free(data);
    return rc;
}

int fs_copy_dir_files(const char *from, const char *to)
{
    DIR *d = opendir(from);
    if (!d) return -1;
    int rc = 0;
    struct dirent *e;
    while (rc == 0 && (e = readdir(d)) != NULL) {
        char src[4096], dst[4096];
        struct stat st;
        if (fs_join(src, sizeof src, from, e->d_name) != 0 ||
            fs_join(dst, sizeof dst, to, e->d_name) != 0) {
            rc = -1;
            break;
        }
        if (lstat(src, &st) != 0 || !S_ISREG(st.st_mode)) continue;
        rc = fs_copy_file(src, dst);
    }
    int e2 = errno;
    closedir(d);
    errno = e2;
    return rc;
}

int fs_exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

int fs_is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static uint64_t fnv1a(const char *p, size_t n)
{
    uint64_t h = 14695981039346656037ull;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)p[i];
        h *= 1099511628211ull;
    }
    return h;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int listed_size_only(const char *name, const char *const *size_only)
{
    for (size_t i = 0; size_only && size_only[i]; i++)
        if (strcmp(name, size_only[i]) == 0) return 1;
    return 0;
}

char *fs_dir_listing(const char *dir, const char *const *size_only)
{
    DIR *d = opendir(dir);
    if (!d) return NULL;
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    int failed = 0;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            char **nn = realloc(names, cap * sizeof *nn);
            if (!nn) {
                failed = 1;
                break;
            }
            names = nn;
        }
        if (!(names[n] = strdup(e->d_name))) {
            failed = 1;
            break;
        }
        n++;
    }
    closedir(d);
    if (n) qsort(names, n, sizeof *names, cmp_names);
    char *out = NULL;
    size_t out_len = 0;
    FILE *f = failed ? NULL : open_memstream(&out, &out_len);
    for (size_t i = 0; f && i < n; i++) {
        char path[4096];
        struct stat st;
        if (fs_join(path, sizeof path, dir, names[i]) != 0 || lstat(path, &st) != 0) {
            fprintf(f, "%s ?\n", names[i]);
        } else if (S_ISDIR(st.st_mode)) {
            fprintf(f, "%s/\n", names[i]);
        } else if (S_ISLNK(st.st_mode)) {
            char target[4096];
            ssize_t len = readlink(path, target, sizeof target - 1);
            target[len > 0 ? len : 0] = 0;
            fprintf(f, "%s -> %s\n", names[i], target);
        } else if (listed_size_only(names[i], size_only)) {
            fprintf(f, "%s\n", names[i]);
        } else {
            size_t len = 0;
            char *data = fs_read_file(path, &len);
            fprintf(f, "%s %zu %016llx\n", names[i], len,
                    data ? (unsigned long long)fnv1a(data, len) : 0ull);
            free(data);
        }
    }
    for (size_t i = 0; i < n; i++) free(names[i]);
    free(names);
    if (!f) return NULL;
    if (fclose(f) != 0) {
        free(out);
        return NULL;
    }
    return out;
}

int fs_count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) n++;
    closedir(d);
    return n;
}
