/*
 * fileio.c - checksummed files, durable writes and read-only mappings.
 *
 * The writer streams the body through a 1 MiB buffer and feeds every byte to
 * an incremental XXH3 state, so the checksum costs no second pass.  The
 * reader maps the file and recomputes the checksum before anyone follows an
 * offset read from it.
 */
#include "common/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "common/codec.h"

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
               "the on-disk format is little-endian and read with memcpy: port fio_le32/64 first");

#define WRITE_BUFFER (1u << 20)

struct fio_writer {
    int fd;
    int status; /* sticky: first error */
    int saved_errno;
    uint64_t offset; /* bytes handed to fio_write so far, header included */
    size_t used;
    XXH3_state_t *hash;
    char *path;
    uint8_t buf[WRITE_BUFFER];
};

uint64_t fio_hash(const void *data, size_t len)
{
    return XXH3_64bits(data, len);
}

/* write(2) the whole range, retrying on EINTR and short writes. */
static int write_all(int fd, const uint8_t *p, size_t len, int *saved_errno)
{
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR) continue;
            *saved_errno = errno;
            return se_errno_code(errno);
        }
        if (n == 0) {
            *saved_errno = ENOSPC;
            return SE_NOSPC;
        }
        p += n;
        len -= (size_t)n;
    }
    return SE_OK;
}

static int flush_buffer(fio_writer *w)
{
    if (w->status != SE_OK || w->used == 0) return w->status;
    w->status = write_all(w->fd, w->buf, w->used, &w->saved_errno);
    w->used = 0;
    return w->status;
}

int fio_writer_create(fio_writer **out, const char *path, const char magic[8], se_error *err)
{
    *out = NULL;
    fio_writer *w = malloc(sizeof *w);
    if (!w) return se_fail(err, SE_NOMEM, "%s: out of memory", path);
    w->path = strdup(path);
    w->hash = XXH3_createState();
    if (!w->path || !w->hash) {
        free(w->path);
        XXH3_freeState(w->hash);
        free(w);
        return se_fail(err, SE_NOMEM, "%s: out of memory", path);
    }
    XXH3_64bits_reset(w->hash);
    w->fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (w->fd < 0) {
        int e = errno;
        free(w->path);
        XXH3_freeState(w->hash);
        free(w);
        return se_fail(err, se_errno_code(e), "cannot create %s: %s", path, strerror(e));
    }
    w->status = SE_OK;
    w->saved_errno = 0;
    w->offset = 0;
    w->used = 0;
    uint8_t header[FIO_HEADER_SIZE] = {0};
    memcpy(header, magic, 8);
    fio_put32(header + 8, FIO_FORMAT_VERSION);
    fio_write(w, header, sizeof header);
    *out = w;
    return SE_OK;
}

int fio_write(fio_writer *w, const void *data, size_t len)
{
    /* len == 0 may come with data == NULL (an empty array), which memcpy
     * must not be given. */
    if (w->status != SE_OK || len == 0) return w->status;
    XXH3_64bits_update(w->hash, data, len);
    w->offset += len;
    const uint8_t *p = data;
    if (len >= WRITE_BUFFER) {
        if (flush_buffer(w) != SE_OK) return w->status;
        w->status = write_all(w->fd, p, len, &w->saved_errno);
        return w->status;
    }
    if (w->used + len > WRITE_BUFFER && flush_buffer(w) != SE_OK) return w->status;
    memcpy(w->buf + w->used, p, len);
    w->used += len;
    return SE_OK;
}

int fio_write_u32(fio_writer *w, uint32_t v)
{
    uint8_t b[4];
    fio_put32(b, v);
    return fio_write(w, b, 4);
}

int fio_write_u64(fio_writer *w, uint64_t v)
{
    uint8_t b[8];
    fio_put64(b, v);
    return fio_write(w, b, 8);
}

int fio_write_varint(fio_writer *w, uint64_t v)
{
    uint8_t b[CODEC_VARINT64_MAX];
    return fio_write(w, b, codec_varint_put64(b, v));
}

int fio_write_align(fio_writer *w, size_t align)
{
    static const uint8_t zeros[64];
    size_t rem = (size_t)(w->offset % align);
    if (rem == 0) return w->status;
    return fio_write(w, zeros, align - rem);
}

uint64_t fio_writer_offset(const fio_writer *w)
{
    return w->offset;
}

static void writer_free(fio_writer *w)
{
    XXH3_freeState(w->hash);
    free(w->path);
    free(w);
}

int fio_writer_finish(fio_writer *w, uint64_t *size, uint64_t *checksum, se_error *err)
{
    /* The footer's size field is covered by the checksum; the checksum is not. */
    uint64_t total = w->offset + FIO_FOOTER_SIZE;
    fio_write_u64(w, total);
    uint64_t sum = XXH3_64bits_digest(w->hash);
    uint8_t b[8];
    fio_put64(b, sum);
    if (w->used + 8 > WRITE_BUFFER) flush_buffer(w);
    if (w->status == SE_OK) {
        memcpy(w->buf + w->used, b, 8);
        w->used += 8;
    }
    flush_buffer(w);
    if (w->status == SE_OK && fsync(w->fd) != 0) {
        w->saved_errno = errno;
        w->status = se_errno_code(errno);
    }
    int rc = w->status;
    if (close(w->fd) != 0 && rc == SE_OK) {
        w->saved_errno = errno;
        rc = se_errno_code(errno);
    }
    if (rc != SE_OK) {
        se_fail(err, rc, "writing %s: %s", w->path, strerror(w->saved_errno));
        unlink(w->path);
        writer_free(w);
        return rc;
    }
    if (size) *size = total;
    if (checksum) *checksum = sum;
    writer_free(w);
    return SE_OK;
}

void fio_writer_abort(fio_writer *w)
{
    if (!w) return;
    close(w->fd);
    unlink(w->path);
    writer_free(w);
}

/* Everything fio_check_frame checks but the checksum. */
static int check_frame_fields(const uint8_t *data, size_t size, const char magic[8],
                              const char *what, se_error *err)
{
    if (size < FIO_HEADER_SIZE + FIO_FOOTER_SIZE)
        return se_fail(err, SE_CORRUPT, "%s: truncated (%zu bytes)", what, size);
    if (memcmp(data, magic, 8) != 0) {
        if (memcmp(data, "SEIX", 4) == 0)
            return se_fail(err, SE_CORRUPT, "%s: wrong file kind (%.8s, expected %.8s)", what,
                           (const char *)data, magic);
        return se_fail(err, SE_FORMAT, "%s: not an index file (bad magic)", what);
    }
    uint32_t version = fio_le32(data + 8);
    /* An older index cannot be upgraded in place (the writer refuses a
     * manifest it cannot read): the way out is a new index. */
    if (version < FIO_FORMAT_VERSION)
        return se_fail(err, SE_FORMAT,
                       "%s: format version %u, this program reads version %u: re-index the "
                       "documents into a new index directory",
                       what, version, FIO_FORMAT_VERSION);
    if (version != FIO_FORMAT_VERSION)
        return se_fail(err, SE_FORMAT, "%s: format version %u, this program reads version %u", what,
                       version, FIO_FORMAT_VERSION);
    uint64_t recorded = fio_le64(data + size - 16);
    if (recorded != size)
        return se_fail(err, SE_CORRUPT, "%s: size is %zu bytes but the footer says %llu", what,
                       size, (unsigned long long)recorded);
    return SE_OK;
}

int fio_check_frame(const uint8_t *data, size_t size, const char magic[8], const char *what,
                    se_error *err)
{
    int rc = check_frame_fields(data, size, magic, what, err);
    if (rc != SE_OK) return rc;
    uint64_t want = fio_le64(data + size - 8);
    uint64_t got = XXH3_64bits(data, size - 8);
    if (want != got)
        return se_fail(err, SE_CORRUPT, "%s: checksum mismatch (stored %016llx, computed %016llx)",
                       what, (unsigned long long)want, (unsigned long long)got);
    return SE_OK;
}

static int map_open(fio_map *m, const char *path, const char magic[8], int verify, se_error *err)
{
    memset(m, 0, sizeof *m);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        return se_fail(err, e == ENOENT ? SE_NOTFOUND : SE_IO, "cannot open %s: %s", path,
                       strerror(e));
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return se_fail(err, SE_IO, "cannot stat %s: %s", path, strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return se_fail(err, SE_CORRUPT, "%s: not a regular file", path);
    }
    size_t size = (size_t)st.st_size;
    if (size < FIO_HEADER_SIZE + FIO_FOOTER_SIZE) {
        close(fd);
        return se_fail(err, SE_CORRUPT, "%s: truncated (%zu bytes)", path, size);
    }
    void *p = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
    int e = errno;
    close(fd);
    if (p == MAP_FAILED) return se_fail(err, SE_IO, "cannot map %s: %s", path, strerror(e));
    int rc = verify ? fio_check_frame(p, size, magic, path, err)
                    : check_frame_fields(p, size, magic, path, err);
    if (rc != SE_OK) {
        munmap(p, size);
        return rc;
    }
    m->data = p;
    m->size = size;
    m->body = m->data + FIO_HEADER_SIZE;
    m->body_size = size - FIO_HEADER_SIZE - FIO_FOOTER_SIZE;
    m->checksum = fio_le64(m->data + size - 8);
    /* Verifying paged the whole file in; drop it from our resident set (it
     * stays in the page cache), so opening many large segments at once, as
     * a merge does, does not look like using their size in memory. */
    fio_map_release(m, UINT64_MAX);
    return SE_OK;
}

int fio_map_open(fio_map *m, const char *path, const char magic[8], se_error *err)
{
    return map_open(m, path, magic, 1, err);
}

int fio_map_open_unverified(fio_map *m, const char *path, const char magic[8], se_error *err)
{
    return map_open(m, path, magic, 0, err);
}

void fio_map_release(const fio_map *m, uint64_t upto)
{
    long page = sysconf(_SC_PAGESIZE);
    if (!m->data || page <= 0) return;
    if (upto > m->size) upto = m->size;
    upto -= upto % (uint64_t)page;
    if (upto > 0) madvise((void *)m->data, upto, MADV_DONTNEED);
}

void fio_map_close(fio_map *m)
{
    if (m->data) munmap((void *)m->data, m->size);
    memset(m, 0, sizeof *m);
}

int fio_read_file(const char *path, uint8_t **data, size_t *size, se_error *err)
{
    *data = NULL;
    *size = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        return se_fail(err, e == ENOENT ? SE_NOTFOUND : SE_IO, "cannot open %s: %s", path,
                       strerror(e));
    }
    size_t cap = 4096, len = 0;
    uint8_t *buf = malloc(cap);
    if (!buf) {
        close(fd);
        return se_fail(err, SE_NOMEM, "%s: out of memory", path);
    }
    for (;;) {
        if (len == cap) {
            uint8_t *nb = cap > ((size_t)1 << 30) ? NULL : realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                close(fd);
                return se_fail(err, SE_NOMEM, "%s: too large to read", path);
            }
            buf = nb;
            cap *= 2;
        }
        ssize_t n = read(fd, buf + len, cap - len);
        if (n < 0) {
            if (errno == EINTR) continue;
            int e = errno;
            free(buf);
            close(fd);
            return se_fail(err, SE_IO, "reading %s: %s", path, strerror(e));
        }
        if (n == 0) break;
        len += (size_t)n;
    }
    close(fd);
    *data = buf;
    *size = len;
    return SE_OK;
}

int fio_fsync_dir(const char *dir, se_error *err)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        return se_fail(err, SE_IO, "cannot open directory %s: %s", dir, strerror(e));
    }
    int rc = SE_OK;
    if (fsync(fd) != 0 && errno != EINVAL) {
        int e = errno;
        rc = se_fail(err, se_errno_code(e), "fsync of directory %s: %s", dir, strerror(e));
    }
    close(fd);
    return rc;
}

int fio_replace_file(const char *dir, const char *name, const void *data, size_t len, se_error *err)
{
    int renamed;
    return fio_replace_file_ex(dir, name, data, len, &renamed, err);
}

int fio_replace_file_ex(const char *dir, const char *name, const void *data, size_t len,
                        int *renamed, se_error *err)
{
    *renamed = 0;
    char tmp[4096], final[4096];
    if (snprintf(tmp, sizeof tmp, "%s/%s.tmp-%ld", dir, name, (long)getpid()) >= (int)sizeof tmp ||
        snprintf(final, sizeof final, "%s/%s", dir, name) >= (int)sizeof final)
        return se_fail(err, SE_INVALID, "path too long: %s/%s", dir, name);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        int e = errno;
        return se_fail(err, se_errno_code(e), "cannot create %s: %s", tmp, strerror(e));
    }
    int saved = 0;
    int rc = write_all(fd, data, len, &saved);
    if (rc == SE_OK && fsync(fd) != 0) {
        saved = errno;
        rc = se_errno_code(errno);
    }
    if (close(fd) != 0 && rc == SE_OK) {
        saved = errno;
        rc = se_errno_code(errno);
    }
    if (rc == SE_OK && rename(tmp, final) != 0) {
        saved = errno;
        rc = se_errno_code(errno);
    }
    if (rc != SE_OK) {
        unlink(tmp);
        return se_fail(err, rc, "writing %s: %s", final, strerror(saved));
    }
    *renamed = 1;
    return fio_fsync_dir(dir, err);
}
