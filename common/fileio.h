/*
 * fileio.h - checksummed files, durable writes and read-only mappings.
 *
 * Every index file is framed the same way (see docs/FORMAT.md):
 *
 *   offset 0   8 bytes  magic, ASCII, names the file kind ("SEIXTDIC", ...)
 *   offset 8   u32      format version (FIO_FORMAT_VERSION)
 *   offset 12  u32      reserved, 0
 *   ...        body (kind-specific)
 *   size-16    u64      total file size in bytes, footer included
 *   size-8     u64      XXH3-64 of bytes [0, size-8)
 *
 * All integers on disk are little-endian.  fio_writer produces this framing
 * while streaming the body through a buffer; fio_map_open maps a file and
 * validates magic, version, size and checksum before handing out a pointer.
 *
 * Errors are SE_ codes with the path in the message; nothing here prints.
 * Not thread-safe per object; distinct objects may be used concurrently.
 */
#ifndef SE_FILEIO_H
#define SE_FILEIO_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "common/status.h"

#define FIO_FORMAT_VERSION 4
#define FIO_HEADER_SIZE    16
#define FIO_FOOTER_SIZE    16

/* ---- little-endian helpers (unaligned-safe) ---- */
static inline uint32_t fio_le32(const void *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v; /* this code base targets little-endian hosts: see common/fileio.c */
}
static inline uint64_t fio_le64(const void *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}
static inline void fio_put32(void *p, uint32_t v)
{
    memcpy(p, &v, 4);
}
static inline void fio_put64(void *p, uint64_t v)
{
    memcpy(p, &v, 8);
}

/* ---- writing ---- */
typedef struct fio_writer fio_writer;

/* Create `path` (must not exist: O_EXCL) and write the header for `magic`
 * (8 bytes).  Returns SE_OK, SE_IO, SE_NOSPC or SE_NOMEM. */
int fio_writer_create(fio_writer **out, const char *path, const char magic[8], se_error *err);

/* Append bytes to the body.  Errors are sticky: after a failure every later
 * call returns the same code, so callers may check once at the end. */
int fio_write(fio_writer *w, const void *data, size_t len);
int fio_write_u32(fio_writer *w, uint32_t v);
int fio_write_u64(fio_writer *w, uint64_t v);
int fio_write_varint(fio_writer *w, uint64_t v);
/* Pad with zero bytes until the file offset is a multiple of `align`. */
int fio_write_align(fio_writer *w, size_t align);

/* Current file offset (header included) of the next byte written. */
uint64_t fio_writer_offset(const fio_writer *w);

/* Write the footer, fsync, close.  On success *size and *checksum (may be
 * NULL) receive the file's size and its footer checksum.  The writer is freed
 * in every case. */
int fio_writer_finish(fio_writer *w, uint64_t *size, uint64_t *checksum, se_error *err);

/* Close and unlink a file being written (after an error).  Frees the writer. */
void fio_writer_abort(fio_writer *w);

/* ---- reading ---- */
typedef struct fio_map {
    const uint8_t *data; /* whole file, header and footer included */
    size_t size;
    const uint8_t *body; /* data + FIO_HEADER_SIZE */
    size_t body_size;    /* size - header - footer */
    uint64_t checksum;   /* the footer checksum (verified by fio_map_open) */
} fio_map;

/* Map `path` read-only and validate its framing: magic equal to `magic`,
 * supported version, recorded size equal to the real size, checksum correct.
 * Returns SE_OK, SE_NOTFOUND, SE_IO, SE_FORMAT (wrong magic/version) or
 * SE_CORRUPT (size or checksum mismatch), with the path in the message. */
int fio_map_open(fio_map *m, const char *path, const char magic[8], se_error *err);
/* The same without the whole-file checksum (m->checksum is the footer's
 * recorded value, unverified): for a reader that uses one region of a
 * large file and verifies that region by a checksum of its own (the
 * document store's content hashes, docs/FORMAT.md). */
int fio_map_open_unverified(fio_map *m, const char *path, const char magic[8], se_error *err);
void fio_map_close(fio_map *m);

/* Tell the kernel the bytes [0, upto) of the mapping will not be read again
 * soon, so they stop counting towards this process's resident memory (they
 * stay in the page cache).  Used by streaming passes such as merges. */
void fio_map_release(const fio_map *m, uint64_t upto);

/* Read a whole (small) file into a malloc'd buffer. */
int fio_read_file(const char *path, uint8_t **data, size_t *size, se_error *err);

/* ---- durability ---- */
/* fsync a directory so that creations, renames and unlinks in it persist. */
int fio_fsync_dir(const char *dir, se_error *err);

/* Write `data` to dir/name atomically: write dir/name.tmp-<pid>, fsync,
 * rename over dir/name, fsync dir.  On failure the old file is untouched and
 * the temporary is removed. */
int fio_replace_file(const char *dir, const char *name, const void *data, size_t len,
                     se_error *err);
/* The same; *renamed tells whether the new file took the old one's place
 * (then only the directory fsync can have failed: the new content is what
 * readers see, but it may not survive a crash). */
int fio_replace_file_ex(const char *dir, const char *name, const void *data, size_t len,
                        int *renamed, se_error *err);

/* Bytes left to check the framing of an in-memory file image (used by the
 * manifest, which is read whole rather than mapped). */
int fio_check_frame(const uint8_t *data, size_t size, const char magic[8], const char *what,
                    se_error *err);

/* XXH3-64 of a buffer (the checksum used everywhere). */
uint64_t fio_hash(const void *data, size_t len);

#endif
