/*
 * fuzz_util.h - helpers shared by the libFuzzer targets in tests/fuzz/.
 *
 * Every target is also compiled without libFuzzer into the Criterion test
 * tests/unit/test_fuzz_regressions.c, which includes several targets in one
 * translation unit: so everything here is static inline behind an include
 * guard, and each target prefixes its own static names.
 *
 * A failed invariant prints what was wrong and aborts: libFuzzer (and
 * Criterion) treat the abort as a crash and keep the input.
 */
#ifndef SE_FUZZ_UTIL_H
#define SE_FUZZ_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond, ...)                                                                      \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: invariant failed: %s: ", __FILE__, __LINE__, #cond);           \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* A byte reader over the fuzz input: the first bytes choose options, the
 * rest is the payload.  Reading past the end yields zeros, so every input
 * is usable whatever its length. */
typedef struct fuzz_bytes {
    const uint8_t *p;
    size_t n;
} fuzz_bytes;

static inline uint8_t fuzz_u8(fuzz_bytes *b)
{
    if (b->n == 0) return 0;
    b->n--;
    return *b->p++;
}

static inline uint16_t fuzz_u16(fuzz_bytes *b)
{
    uint16_t lo = fuzz_u8(b);
    return (uint16_t)(lo | (uint16_t)fuzz_u8(b) << 8);
}

static inline uint32_t fuzz_u32(fuzz_bytes *b)
{
    uint32_t lo = fuzz_u16(b);
    return lo | (uint32_t)fuzz_u16(b) << 16;
}

/* Strict UTF-8 (no overlongs, surrogates or code points above U+10FFFF). */
static inline int fuzz_utf8_valid(const uint8_t *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        size_t len;
        uint8_t lo = 0x80, hi = 0xBF;
        if (c < 0x80) {
            i++;
            continue;
        } else if (c >= 0xC2 && c <= 0xDF) {
            len = 2;
        } else if (c >= 0xE0 && c <= 0xEF) {
            len = 3;
            if (c == 0xE0) lo = 0xA0;
            if (c == 0xED) hi = 0x9F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            len = 4;
            if (c == 0xF0) lo = 0x90;
            if (c == 0xF4) hi = 0x8F;
        } else {
            return 0;
        }
        if (n - i < len) return 0;
        if (s[i + 1] < lo || s[i + 1] > hi) return 0;
        for (size_t k = 2; k < len; k++)
            if ((s[i + k] & 0xC0) != 0x80) return 0;
        i += len;
    }
    return 1;
}

/* A heap copy of exactly n bytes (at least one allocated), so that
 * AddressSanitizer sees any read past the end of what the code was given. */
static inline uint8_t *fuzz_dup(const uint8_t *p, size_t n)
{
    uint8_t *c = malloc(n ? n : 1);
    if (!c) abort();
    if (n) memcpy(c, p, n);
    return c;
}

/* dir + "/" + name into buf; a path that does not fit is a broken set-up. */
static inline void fuzz_join(char *buf, size_t cap, const char *dir, const char *name)
{
    int n = snprintf(buf, cap, "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= cap) {
        fprintf(stderr, "fuzz: path too long: %s/%s\n", dir, name);
        abort();
    }
}

static inline int fuzz_write_file(const char *path, const void *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return -1;
    const uint8_t *p = data;
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            close(fd);
            return -1;
        }
        p += w;
        len -= (size_t)w;
    }
    return close(fd);
}

static inline int fuzz_rm_entry(const char *path, const struct stat *st, int flag, struct FTW *f)
{
    (void)st;
    (void)f;
    if (flag == FTW_DP || flag == FTW_D || flag == FTW_DNR)
        rmdir(path);
    else
        unlink(path);
    return 0;
}

static inline void fuzz_rm_rf(const char *path)
{
    nftw(path, fuzz_rm_entry, 16, FTW_PHYS | FTW_DEPTH);
}

/* A fresh private directory for one process's scratch files: in /dev/shm
 * when it is writable (the targets rewrite files on every input, and a disk
 * would make that the bottleneck), else in $TMPDIR or /tmp.  Returns a
 * malloc'd path; aborts when no directory can be made, since a target
 * cannot run without one. */
static inline char *fuzz_make_tmpdir(const char *prefix)
{
    const char *bases[3] = {"/dev/shm", getenv("TMPDIR"), "/tmp"};
    for (int i = 0; i < 3; i++) {
        if (!bases[i] || !*bases[i] || access(bases[i], W_OK) != 0) continue;
        size_t cap = strlen(bases[i]) + strlen(prefix) + 16;
        char *path = malloc(cap);
        if (!path) abort();
        snprintf(path, cap, "%s/%sXXXXXX", bases[i], prefix);
        if (mkdtemp(path)) return path;
        free(path);
    }
    fprintf(stderr, "fuzz: cannot create a temporary directory\n");
    abort();
}

#endif
