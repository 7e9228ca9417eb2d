/*
 * test_fileio.c - unit tests for common/fileio.c (framed, checksummed files).
 *
 * Every test works in a fresh directory made with mkdtemp under /tmp and
 * removed by the fixture.  The writer tests read the produced bytes back
 * raw and check the framing by hand (magic, version, reserved word, body,
 * footer size, XXH3-64 of everything before the checksum); the reader tests
 * hand fio_map_open damaged files (missing, wrong magic, another index
 * file's magic, other versions, truncated, extended, every single byte
 * flipped) and check the status code.  The last tests cover
 * fio_replace_file, fio_read_file and the sticky write errors, provoked by
 * putting /dev/full under a writer's descriptor.
 */
#include <criterion/criterion.h>

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "common/fileio.h"
#include "common/status.h"
#include "tests/support/fsutil.h"

/* ------------------------------------------------------------- fixture */

static char g_tmp[1024];

static void setup(void)
{
    char *dir = fs_mkdtemp("test_fileio_");
    cr_assert_not_null(dir);
    snprintf(g_tmp, sizeof g_tmp, "%s", dir);
    free(dir);
}

static void teardown(void)
{
    if (g_tmp[0]) fs_rm_rf(g_tmp);
}

TestSuite(fileio, .init = setup, .fini = teardown);

/* A path under the test directory (a ring of buffers, several may be live). */
static const char *P(const char *rel)
{
    static char ring[8][PATH_MAX];
    static int next;
    char *b = ring[next++ % 8];
    snprintf(b, PATH_MAX, "%s/%s", g_tmp, rel);
    return b;
}

static void write_raw(const char *path, const void *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    cr_assert_geq(fd, 0, "cannot create %s", path);
    cr_assert_eq(write(fd, data, len), (ssize_t)len);
    cr_assert_eq(close(fd), 0);
}

static uint8_t *read_raw(const char *path, size_t *len)
{
    uint8_t *data;
    se_error err = {0};
    cr_assert_eq(fio_read_file(path, &data, len, &err), SE_OK, "%s", err.msg);
    return data;
}

static int exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void)
{
    /* splitmix64 */
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Write a framed file with the given magic and body; returns its size. */
static uint64_t make_file(const char *path, const char magic[8], const void *body, size_t len)
{
    fio_writer *w;
    se_error err = {0};
    cr_assert_eq(fio_writer_create(&w, path, magic, &err), SE_OK, "%s", err.msg);
    cr_assert_eq(fio_write(w, body, len), SE_OK);
    uint64_t size = 0, sum = 0;
    cr_assert_eq(fio_writer_finish(w, &size, &sum, &err), SE_OK, "%s", err.msg);
    return size;
}

/* Re-seal an image in memory after editing it: rewrite the footer's size
 * and checksum so that only the edited field is wrong. */
static void reseal(uint8_t *data, size_t size)
{
    fio_put64(data + size - 16, size);
    fio_put64(data + size - 8, XXH3_64bits(data, size - 8));
}

static int map_code(const char *path, const char magic[8])
{
    fio_map m;
    se_error err = {0};
    int rc = fio_map_open(&m, path, magic, &err);
    if (rc == SE_OK)
        fio_map_close(&m);
    else
        cr_assert_neq(err.msg[0], 0, "an error without a message");
    return rc;
}

/* ------------------------------------------------------------- writer */

Test(fileio, writer_framing)
{
    const char *path = P("a.bin");
    fio_writer *w;
    se_error err = {0};
    cr_assert_eq(fio_writer_create(&w, path, "SEIXTEST", &err), SE_OK, "%s", err.msg);
    cr_assert_eq(fio_writer_offset(w), FIO_HEADER_SIZE);
    /* Body: 3 raw bytes, u32, u64, varints, alignment to 8. */
    cr_assert_eq(fio_write(w, "abc", 3), SE_OK);
    cr_assert_eq(fio_write_u32(w, 0x11223344u), SE_OK);
    cr_assert_eq(fio_write_u64(w, 0x0102030405060708ull), SE_OK);
    cr_assert_eq(fio_write_varint(w, 0), SE_OK);
    cr_assert_eq(fio_write_varint(w, 300), SE_OK);
    cr_assert_eq(fio_write_varint(w, UINT64_MAX), SE_OK);
    cr_assert_eq(fio_writer_offset(w), 16 + 3 + 4 + 8 + 1 + 2 + 10);
    cr_assert_eq(fio_write_align(w, 8), SE_OK);
    cr_assert_eq(fio_writer_offset(w), 48);
    cr_assert_eq(fio_write_align(w, 8), SE_OK); /* already aligned: nothing */
    cr_assert_eq(fio_writer_offset(w), 48);
    cr_assert_eq(fio_write(w, "", 0), SE_OK);
    cr_assert_eq(fio_write(w, "Z", 1), SE_OK);
    uint64_t size = 0, sum = 0;
    cr_assert_eq(fio_writer_finish(w, &size, &sum, &err), SE_OK, "%s", err.msg);
    cr_assert_eq(size, 49 + FIO_FOOTER_SIZE);

    size_t len;
    uint8_t *d = read_raw(path, &len);
    cr_assert_eq(len, size);
    cr_assert_eq(memcmp(d, "SEIXTEST", 8), 0);
    cr_assert_eq(fio_le32(d + 8), FIO_FORMAT_VERSION);
    cr_assert_eq(fio_le32(d + 12), 0);
    cr_assert_eq(memcmp(d + 16, "abc", 3), 0);
    cr_assert_eq(fio_le32(d + 19), 0x11223344u);
    cr_assert_eq(fio_le64(d + 23), 0x0102030405060708ull);
    cr_assert_eq(d[31], 0);
    cr_assert_eq(d[32], 0xac);
    cr_assert_eq(d[33], 0x02);
    for (int i = 0; i < 9; i++) cr_assert_eq(d[34 + i], 0xff);
    cr_assert_eq(d[43], 0x01);
    for (int i = 44; i < 48; i++) cr_assert_eq(d[i], 0, "padding byte %d", i);
    cr_assert_eq(d[48], 'Z');
    cr_assert_eq(fio_le64(d + len - 16), len);
    cr_assert_eq(fio_le64(d + len - 8), XXH3_64bits(d, len - 8));
    cr_assert_eq(fio_le64(d + len - 8), sum);
    cr_assert_eq(fio_hash(d, len - 8), sum);

    fio_map m;
    cr_assert_eq(fio_map_open(&m, path, "SEIXTEST", &err), SE_OK, "%s", err.msg);
    cr_assert_eq(m.size, len);
    cr_assert_eq(m.body, m.data + FIO_HEADER_SIZE);
    cr_assert_eq(m.body_size, 33);
    cr_assert_eq(m.checksum, sum);
    cr_assert_eq(memcmp(m.data, d, len), 0);
    cr_assert_eq(fio_check_frame(m.data, m.size, "SEIXTEST", "x", &err), SE_OK);
    fio_map_close(&m);
    cr_assert_null(m.data);
    fio_map_close(&m); /* closing twice is harmless */
    free(d);
}

Test(fileio, empty_body)
{
    const char *path = P("e.bin");
    cr_assert_eq(make_file(path, "SEIXEMPT", "", 0), 32);
    fio_map m;
    se_error err = {0};
    cr_assert_eq(fio_map_open(&m, path, "SEIXEMPT", &err), SE_OK, "%s", err.msg);
    cr_assert_eq(m.body_size, 0);
    cr_assert_eq(m.size, 32);
    fio_map_close(&m);
}

/* Bodies of several MiB written in pieces of every size class (tiny, just
 * below, at and above the 1 MiB buffer) come back byte for byte. */
Test(fileio, large_body)
{
    const char *path = P("big.bin");
    size_t total = 7u << 20;
    uint8_t *body = malloc(total);
    cr_assert_not_null(body);
    for (size_t i = 0; i < total; i++) body[i] = (uint8_t)(rnd() >> 56);
    fio_writer *w;
    se_error err = {0};
    cr_assert_eq(fio_writer_create(&w, path, "SEIXLARG", &err), SE_OK);
    size_t pieces[] = {1, 7, (1u << 20) - 1, 1u << 20, (1u << 20) + 1, 3, 4096, 100000};
    size_t at = 0, k = 0;
    while (at < total) {
        size_t n = pieces[k++ % 8];
        if (n > total - at) n = total - at;
        cr_assert_eq(fio_write(w, body + at, n), SE_OK);
        at += n;
        cr_assert_eq(fio_writer_offset(w), FIO_HEADER_SIZE + at);
    }
    uint64_t size, sum;
    cr_assert_eq(fio_writer_finish(w, &size, &sum, &err), SE_OK, "%s", err.msg);
    cr_assert_eq(size, total + 32);
    fio_map m;
    cr_assert_eq(fio_map_open(&m, path, "SEIXLARG", &err), SE_OK, "%s", err.msg);
    cr_assert_eq(m.body_size, total);
    cr_assert_eq(memcmp(m.body, body, total), 0);
    cr_assert_eq(m.checksum, sum);
    fio_map_close(&m);
    free(body);
}

Test(fileio, create_refuses_existing_file)
{
    const char *path = P("x.bin");
    write_raw(path, "hello", 5);
    fio_writer *w = (fio_writer *)1;
    se_error err = {0};
    cr_assert_eq(fio_writer_create(&w, path, "SEIXTEST", &err), SE_IO);
    cr_assert_null(w);
    cr_assert_not_null(strstr(err.msg, path), "message names the path: %s", err.msg);
    size_t len;
    uint8_t *d = read_raw(path, &len);
    cr_assert_eq(len, 5, "the existing file is untouched");
    free(d);
    cr_assert_eq(fio_writer_create(&w, P("nodir/x.bin"), "SEIXTEST", &err), SE_IO);
}

Test(fileio, abort_removes_file)
{
    const char *path = P("ab.bin");
    fio_writer *w;
    cr_assert_eq(fio_writer_create(&w, path, "SEIXTEST", NULL), SE_OK);
    cr_assert_eq(fio_write(w, "data", 4), SE_OK);
    cr_assert(exists(path));
    fio_writer_abort(w);
    cr_assert(!exists(path));
    fio_writer_abort(NULL);
}

/* Find the descriptor the writer opened for `path` in /proc/self/fd. */
static int writer_fd(const char *path)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d) return -1;
    int found = -1;
    struct dirent *e;
    while ((e = readdir(d))) {
        char link[PATH_MAX], target[PATH_MAX];
        snprintf(link, sizeof link, "/proc/self/fd/%s", e->d_name);
        ssize_t n = readlink(link, target, sizeof target - 1);
        if (n <= 0) continue;
        target[n] = 0;
        if (strcmp(target, path) == 0) found = atoi(e->d_name);
    }
    closedir(d);
    return found;
}

/* A full disk: /dev/full is put under the writer's descriptor, so the first
 * flush fails with ENOSPC.  The error is sticky, finish reports it and
 * removes the file. */
Test(fileio, sticky_write_error)
{
    const char *path = P("full.bin");
    fio_writer *w;
    se_error err = {0};
    cr_assert_eq(fio_writer_create(&w, path, "SEIXTEST", &err), SE_OK);
    int fd = writer_fd(path);
    int full = open("/dev/full", O_WRONLY);
    if (fd < 0 || full < 0) {
        fio_writer_abort(w);
        if (full >= 0) close(full);
        cr_skip_test("/proc/self/fd or /dev/full not available");
    }
    cr_assert_eq(dup2(full, fd), fd);
    close(full);
    cr_assert_eq(fio_write(w, "small", 5), SE_OK, "buffered: no write yet");
    size_t big = (1u << 20) + 10;
    uint8_t *buf = calloc(1, big);
    cr_assert_not_null(buf);
    cr_assert_eq(fio_write(w, buf, big), SE_NOSPC);
    cr_assert_eq(fio_write(w, "more", 4), SE_NOSPC, "errors are sticky");
    cr_assert_eq(fio_write_u32(w, 1), SE_NOSPC);
    cr_assert_eq(fio_write_u64(w, 1), SE_NOSPC);
    cr_assert_eq(fio_write_varint(w, 1), SE_NOSPC);
    cr_assert_eq(fio_write_align(w, 4096), SE_NOSPC);
    cr_assert_eq(fio_writer_finish(w, NULL, NULL, &err), SE_NOSPC);
    cr_assert_eq(err.code, SE_NOSPC);
    cr_assert_not_null(strstr(err.msg, path), "%s", err.msg);
    cr_assert(!exists(path), "the partial file is removed");
    free(buf);
}

/* The same with an error that only shows at finish (everything buffered). */
Test(fileio, write_error_at_finish)
{
    const char *path = P("full2.bin");
    fio_writer *w;
    se_error err = {0};
    cr_assert_eq(fio_writer_create(&w, path, "SEIXTEST", &err), SE_OK);
    int fd = writer_fd(path);
    int full = open("/dev/full", O_WRONLY);
    if (fd < 0 || full < 0) {
        fio_writer_abort(w);
        if (full >= 0) close(full);
        cr_skip_test("/proc/self/fd or /dev/full not available");
    }
    cr_assert_eq(dup2(full, fd), fd);
    close(full);
    cr_assert_eq(fio_write(w, "abc", 3), SE_OK);
    uint64_t size = 77, sum = 77;
    cr_assert_eq(fio_writer_finish(w, &size, &sum, &err), SE_NOSPC);
    cr_assert_eq(size, 77, "outputs untouched on failure");
    cr_assert(!exists(path));
}

/* ------------------------------------------------------------- reader */

Test(fileio, map_missing)
{
    fio_map m;
    se_error err = {0};
    cr_assert_eq(fio_map_open(&m, P("nope.bin"), "SEIXTEST", &err), SE_NOTFOUND);
    cr_assert_not_null(strstr(err.msg, "nope.bin"), "%s", err.msg);
    cr_assert_null(m.data);
    cr_assert_eq(fio_map_open(&m, P("nodir/nope.bin"), "SEIXTEST", NULL), SE_NOTFOUND);
}

Test(fileio, map_not_regular)
{
    cr_assert_eq(mkdir(P("adir"), 0755), 0);
    cr_assert_eq(map_code(P("adir"), "SEIXTEST"), SE_CORRUPT);
}

Test(fileio, map_wrong_magic)
{
    const char *path = P("m.bin");
    make_file(path, "SEIXTDIC", "body", 4);
    cr_assert_eq(map_code(path, "SEIXTDIC"), SE_OK);
    /* Another kind of index file. */
    cr_assert_eq(map_code(path, "SEIXPOST"), SE_CORRUPT);
    /* Not an index file at all: another magic, checksum made valid. */
    size_t len;
    uint8_t *d = read_raw(path, &len);
    memcpy(d, "GARBAGE!", 8);
    reseal(d, len);
    write_raw(path, d, len);
    cr_assert_eq(map_code(path, "SEIXTDIC"), SE_FORMAT);
    /* Text that merely is long enough. */
    const char *text = "this is a plain text file, not an index file at all\n";
    write_raw(path, text, strlen(text));
    cr_assert_eq(map_code(path, "SEIXTDIC"), SE_FORMAT);
    free(d);
}

Test(fileio, map_bad_version)
{
    const char *path = P("v.bin");
    make_file(path, "SEIXTEST", "0123456789", 10);
    size_t len;
    uint8_t *d = read_raw(path, &len);
    uint32_t versions[] = {0, FIO_FORMAT_VERSION + 1, 0x01000000u, UINT32_MAX};
    for (size_t i = 0; i < sizeof versions / sizeof versions[0]; i++) {
        fio_put32(d + 8, versions[i]);
        reseal(d, len);
        write_raw(path, d, len);
        se_error err = {0};
        fio_map m;
        cr_assert_eq(fio_map_open(&m, path, "SEIXTEST", &err), SE_FORMAT, "version %u",
                     versions[i]);
        cr_assert_not_null(strstr(err.msg, "version"), "%s", err.msg);
    }
    free(d);
}

Test(fileio, map_truncated_and_extended)
{
    const char *path = P("t.bin");
    uint8_t body[100];
    for (int i = 0; i < 100; i++) body[i] = (uint8_t)(i * 7);
    make_file(path, "SEIXTEST", body, sizeof body);
    size_t len;
    uint8_t *d = read_raw(path, &len);
    cr_assert_eq(len, 132);
    /* Every truncation, down to the empty file. */
    for (size_t n = 0; n < len; n++) {
        write_raw(path, d, n);
        cr_assert_eq(map_code(path, "SEIXTEST"), SE_CORRUPT, "length %zu", n);
    }
    /* Extra bytes after the footer. */
    uint8_t *longer = malloc(len + 16);
    memcpy(longer, d, len);
    memset(longer + len, 0, 16);
    for (size_t extra = 1; extra <= 16; extra++) {
        write_raw(path, longer, len + extra);
        cr_assert_eq(map_code(path, "SEIXTEST"), SE_CORRUPT, "extra %zu", extra);
    }
    /* The recorded size is wrong but the checksum matches it. */
    fio_put64(d + len - 16, len + 1);
    fio_put64(d + len - 8, XXH3_64bits(d, len - 8));
    write_raw(path, d, len);
    cr_assert_eq(map_code(path, "SEIXTEST"), SE_CORRUPT);
    free(longer);
    free(d);
}

/* Every single-byte change of a small file is caught: XOR with several
 * masks, so both one-bit flips and whole-byte changes are covered. */
Test(fileio, every_byte_flip_detected)
{
    const char *path = P("f.bin");
    uint8_t body[40];
    for (int i = 0; i < 40; i++) body[i] = (uint8_t)(rnd() >> 56);
    make_file(path, "SEIXPOSI", body, sizeof body);
    size_t len;
    uint8_t *d = read_raw(path, &len);
    cr_assert_eq(map_code(path, "SEIXPOSI"), SE_OK);
    const uint8_t masks[] = {0x01, 0x80, 0xff, 0x5a};
    for (size_t i = 0; i < len; i++) {
        for (size_t k = 0; k < sizeof masks; k++) {
            d[i] ^= masks[k];
            write_raw(path, d, len);
            int rc = map_code(path, "SEIXPOSI");
            cr_assert(rc == SE_CORRUPT || rc == SE_FORMAT, "byte %zu ^ %02x accepted (%d)", i,
                      masks[k], rc);
            /* In-memory check agrees. */
            cr_assert_eq(fio_check_frame(d, len, "SEIXPOSI", "mem", NULL), rc);
            d[i] ^= masks[k];
        }
    }
    free(d);
}

Test(fileio, check_frame_in_memory)
{
    uint8_t img[64] = {0};
    memcpy(img, "SEIXMANI", 8);
    fio_put32(img + 8, FIO_FORMAT_VERSION);
    reseal(img, sizeof img);
    se_error err = {0};
    cr_assert_eq(fio_check_frame(img, sizeof img, "SEIXMANI", "img", &err), SE_OK);
    cr_assert_eq(fio_check_frame(img, 31, "SEIXMANI", "img", &err), SE_CORRUPT);
    cr_assert_not_null(strstr(err.msg, "img"), "%s", err.msg);
    cr_assert_eq(fio_check_frame(img, 32, "SEIXMANI", "img", &err), SE_CORRUPT);
    cr_assert_eq(fio_check_frame(img, sizeof img, "SEIXSTOR", "img", &err), SE_CORRUPT);
    /* An index file of some kind is "corrupt" whatever was expected... */
    cr_assert_eq(fio_check_frame(img, sizeof img, "NOTANIDX", "img", &err), SE_CORRUPT);
    /* ...a file that is no index file at all is "not an index". */
    memcpy(img, "SEIYMANI", 8);
    reseal(img, sizeof img);
    cr_assert_eq(fio_check_frame(img, sizeof img, "SEIXMANI", "img", &err), SE_FORMAT);
}

/* ------------------------------------------------------------- helpers */

Test(fileio, replace_file)
{
    const char *name = "MANIFEST";
    se_error err = {0};
    cr_assert_eq(fio_replace_file(g_tmp, name, "first", 5, &err), SE_OK, "%s", err.msg);
    size_t len;
    uint8_t *d = read_raw(P(name), &len);
    cr_assert_eq(len, 5);
    cr_assert_eq(memcmp(d, "first", 5), 0);
    free(d);

    /* A reader holding the old file keeps seeing the old contents: the new
     * file is renamed over it, not written in place. */
    int old = open(P(name), O_RDONLY);
    cr_assert_geq(old, 0);
    struct stat st_old, st_new;
    cr_assert_eq(fstat(old, &st_old), 0);
    char big[10000];
    for (size_t i = 0; i < sizeof big; i++) big[i] = (char)('a' + i % 26);
    cr_assert_eq(fio_replace_file(g_tmp, name, big, sizeof big, &err), SE_OK, "%s", err.msg);
    char back[16] = {0};
    cr_assert_eq(pread(old, back, sizeof back, 0), 5);
    cr_assert_str_eq(back, "first");
    close(old);
    cr_assert_eq(stat(P(name), &st_new), 0);
    cr_assert_neq(st_new.st_ino, st_old.st_ino);
    d = read_raw(P(name), &len);
    cr_assert_eq(len, sizeof big);
    cr_assert_eq(memcmp(d, big, len), 0);
    free(d);

    /* Empty contents. */
    cr_assert_eq(fio_replace_file(g_tmp, name, "", 0, &err), SE_OK);
    d = read_raw(P(name), &len);
    cr_assert_eq(len, 0);
    free(d);

    /* Only the file itself is left: no temporaries. */
    DIR *dir = opendir(g_tmp);
    cr_assert_not_null(dir);
    struct dirent *e;
    int files = 0;
    while ((e = readdir(dir)))
        if (e->d_name[0] != '.') {
            files++;
            cr_assert_str_eq(e->d_name, name);
        }
    closedir(dir);
    cr_assert_eq(files, 1);
}

Test(fileio, replace_file_failure_leaves_old)
{
    se_error err = {0};
    /* The target is a non-empty directory: the rename fails. */
    cr_assert_eq(mkdir(P("target"), 0755), 0);
    write_raw(P("target/keep"), "k", 1);
    int rc = fio_replace_file(g_tmp, "target", "new", 3, &err);
    cr_assert_neq(rc, SE_OK);
    cr_assert_not_null(strstr(err.msg, "target"), "%s", err.msg);
    cr_assert(exists(P("target/keep")));
    DIR *dir = opendir(g_tmp);
    struct dirent *e;
    while ((e = readdir(dir)))
        cr_assert_null(strstr(e->d_name, ".tmp-"), "temporary left: %s", e->d_name);
    closedir(dir);
    /* A directory that does not exist. */
    cr_assert_neq(fio_replace_file(P("missing"), "x", "new", 3, &err), SE_OK);
    /* A name too long for the path buffer. */
    char longname[5000];
    memset(longname, 'n', sizeof longname - 1);
    longname[sizeof longname - 1] = 0;
    cr_assert_eq(fio_replace_file(g_tmp, longname, "x", 1, &err), SE_INVALID);
}

Test(fileio, read_file)
{
    se_error err = {0};
    uint8_t *d = (uint8_t *)1;
    size_t len = 1;
    cr_assert_eq(fio_read_file(P("none"), &d, &len, &err), SE_NOTFOUND);
    cr_assert_null(d);
    cr_assert_eq(len, 0);
    /* Sizes around the initial 4 KiB buffer and well past it. */
    size_t sizes[] = {0, 1, 4095, 4096, 4097, 8192, 100000};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        uint8_t *src = malloc(sizes[i] + 1);
        for (size_t k = 0; k < sizes[i]; k++) src[k] = (uint8_t)(rnd() >> 56);
        write_raw(P("r.bin"), src, sizes[i]);
        cr_assert_eq(fio_read_file(P("r.bin"), &d, &len, &err), SE_OK, "%s", err.msg);
        cr_assert_eq(len, sizes[i]);
        cr_assert(sizes[i] == 0 || memcmp(d, src, len) == 0);
        free(d);
        free(src);
    }
    /* A directory cannot be read. */
    cr_assert_eq(fio_read_file(g_tmp, &d, &len, &err), SE_IO);
}

Test(fileio, fsync_dir)
{
    se_error err = {0};
    cr_assert_eq(fio_fsync_dir(g_tmp, &err), SE_OK);
    cr_assert_eq(fio_fsync_dir(P("missing"), &err), SE_IO);
    cr_assert_not_null(strstr(err.msg, "missing"), "%s", err.msg);
    write_raw(P("plain"), "x", 1);
    cr_assert_eq(fio_fsync_dir(P("plain"), &err), SE_IO);
}
