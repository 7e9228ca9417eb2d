/* commit.c - index directory, lock, manifest commit, cleanup (see commit.h). */
#include "indexer/commit.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/fileio.h"

/* Does `name` look like a file this engine writes into an index?  For
 * segment files *is_segment is 1; for deletions files 2, with *del_gen. */
static int is_index_file(const char *name, uint32_t *segno, int *is_segment, uint64_t *del_gen)
{
    *is_segment = 0;
    unsigned long long gen;
    unsigned dn;
    int dused = 0;
    if (name[0] == 's' && sscanf(name, "s%8u_%20llu.del%n", &dn, &gen, &dused) == 2 &&
        dused == (int)strlen(name) && name[9] == '_') {
        *segno = dn;
        *del_gen = gen;
        *is_segment = 2;
        return 1;
    }
    if (strcmp(name, MANIFEST_NAME) == 0 || strcmp(name, INDEX_LOCK_NAME) == 0) return 1;
    if (strncmp(name, MANIFEST_NAME ".tmp-", strlen(MANIFEST_NAME ".tmp-")) == 0) return 1;
    unsigned n;
    char ext[8];
    int used = 0;
    if (name[0] == 's' && sscanf(name, "s%8u.%3s%n", &n, ext, &used) == 2 &&
        used == (int)strlen(name) && strlen(name) == 13) {
        for (int f = 0; f < SEG_NFILES; f++)
            if (strcmp(ext, seg_file_ext[f]) == 0) {
                *segno = n;
                *is_segment = 1;
                return 1;
            }
    }
    return 0;
}

int index_dir_prepare(const char *dir, int *created, se_error *err)
{
    *created = 0;
    struct stat st;
    if (stat(dir, &st) != 0) {
        if (errno != ENOENT)
            return se_fail(err, SE_IO, "cannot access %s: %s", dir, strerror(errno));
        if (mkdir(dir, 0755) == 0) {
            *created = 1;
            return SE_OK;
        }
        /* EEXIST: another writer created it since our stat; check it like
         * any existing directory (the lock then decides who writes). */
        if (errno != EEXIST || stat(dir, &st) != 0)
            return se_fail(err, se_errno_code(errno), "cannot create index directory %s: %s", dir,
                           strerror(errno));
    }
    if (!S_ISDIR(st.st_mode))
        return se_fail(err, SE_INVALID, "%s exists and is not a directory", dir);
    DIR *d = opendir(dir);
    if (!d) return se_fail(err, SE_IO, "cannot read directory %s: %s", dir, strerror(errno));
    int has_manifest = 0, foreign = 0;
    char example[256] = "";
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        uint32_t n;
        uint64_t gen;
        int seg;
        if (strcmp(e->d_name, MANIFEST_NAME) == 0) has_manifest = 1;
        if (!is_index_file(e->d_name, &n, &seg, &gen) && !foreign++)
            snprintf(example, sizeof example, "%s", e->d_name);
    }
    closedir(d);
    if (foreign && !has_manifest)
        return se_fail(err, SE_INVALID,
                       "%s is not an index directory (it holds other files, e.g. %s); "
                       "refusing to write into it",
                       dir, example);
    return SE_OK;
}

/* The pid the holder of the lock wrote into it.  The holder writes it just
 * after its flock succeeds, so a contender can look in between and find the
 * file empty, or still holding the pid of an earlier writer that has ended:
 * retry for a few milliseconds before settling for "another process". */
static long lock_holder_pid(int fd)
{
    for (int attempt = 0; attempt < 100; attempt++) {
        char buf[32] = "";
        ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
        long pid = n > 0 ? strtol(buf, NULL, 10) : 0;
        if (pid > 0 && buf[n - 1] == '\n' && (kill((pid_t)pid, 0) == 0 || errno == EPERM))
            return pid;
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    return 0;
}

int index_lock_acquire(const char *dir, int *fd_out, se_error *err)
{
    char path[4096];
    if (snprintf(path, sizeof path, "%s/%s", dir, INDEX_LOCK_NAME) >= (int)sizeof path)
        return se_fail(err, SE_INVALID, "index path too long: %s", dir);
    int fd = -1;
    for (int attempt = 0;; attempt++) {
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0)
            return se_fail(err, se_errno_code(errno), "cannot open lock file %s: %s", path,
                           strerror(errno));
        if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
            int e = errno;
            long pid = e == EWOULDBLOCK ? lock_holder_pid(fd) : 0;
            close(fd);
            if (e == EWOULDBLOCK) {
                if (pid > 0)
                    return se_fail(err, SE_LOCKED, "index %s is being written by pid %ld", dir,
                                   pid);
                return se_fail(err, SE_LOCKED, "index %s is being written by another process", dir);
            }
            return se_fail(err, SE_IO, "cannot lock %s: %s", path, strerror(e));
        }
        /* A writer that created the directory and failed unlinks LOCK
         * before releasing it; a lock on such an orphan excludes nobody.
         * Make sure the file we locked is still the one at the path. */
        struct stat held, now;
        if (fstat(fd, &held) == 0 && stat(path, &now) == 0 && held.st_dev == now.st_dev &&
            held.st_ino == now.st_ino)
            break;
        close(fd);
        if (attempt == 10)
            return se_fail(err, SE_LOCKED, "index %s: its lock file keeps being replaced", dir);
    }
    char pid[32];
    int len = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)len, 0) != len) {
        /* The pid is only informational; the flock is what excludes. */
    }
    *fd_out = fd;
    return SE_OK;
}

void index_lock_release(int fd)
{
    if (fd < 0) return;
    flock(fd, LOCK_UN);
    close(fd);
}

int commit_manifest(const char *dir, const manifest *m, int *in_place, se_error *err)
{
    *in_place = 0;
    uint8_t *buf;
    size_t len;
    /* The new segment and deletions files are fsynced, but their directory
     * entries are only durable once the directory is: do that before the
     * manifest that names them can become durable. */
    int rc = fio_fsync_dir(dir, err);
    if (rc != SE_OK) return rc;
    rc = manifest_encode(m, &buf, &len, err);
    if (rc != SE_OK) return rc;
    rc = fio_replace_file_ex(dir, MANIFEST_NAME, buf, len, in_place, err);
    free(buf);
    return rc;
}

int remove_unreferenced(const char *dir, const manifest *m)
{
    DIR *d = opendir(dir);
    if (!d) return 0;
    int removed = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        uint32_t n = 0;
        uint64_t gen = 0;
        int seg;
        if (!is_index_file(e->d_name, &n, &seg, &gen)) continue;
        int doomed = 0;
        if (seg == 1) {
            doomed = 1;
            for (uint32_t i = 0; i < m->nsegments; i++)
                if (m->segments[i].number == n) doomed = 0;
        } else if (seg == 2) {
            doomed = 1;
            for (uint32_t i = 0; i < m->nsegments; i++)
                if (m->segments[i].number == n && m->segments[i].del_gen == gen) doomed = 0;
        } else if (strncmp(e->d_name, MANIFEST_NAME ".tmp-", strlen(MANIFEST_NAME ".tmp-")) == 0) {
            doomed = 1;
        }
        if (doomed) {
            char path[4096];
            if (snprintf(path, sizeof path, "%s/%s", dir, e->d_name) < (int)sizeof path &&
                unlink(path) == 0)
                removed++;
        }
    }
    closedir(d);
    return removed;
}
