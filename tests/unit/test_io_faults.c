/*
 * test_io_faults.c - short reads and writes, EINTR, and failing system
 * calls in the engine's file I/O (common/fileio.c, indexer/input.c and
 * everything above them).
 *
 * This binary is linked with -Wl,--wrap for read, write, pread, pwrite and
 * fsync (Makefile), so every such call made by the engine's own code (the
 * static libraries linked in) goes through the wrappers below.  They have
 * three modes:
 *   - off: the real call;
 *   - chaotic: about one call in three fails with EINTR before doing
 *     anything, and read/write/pread/pwrite transfer a random part of what
 *     was asked (at least one byte, at most about half): every loop that
 *     must retry a short transfer gets to;
 *   - fail-at-n: the n-th call of the chosen kinds fails with a chosen
 *     errno (EIO, ENOSPC); the tests walk n = 1, 2, ... until an operation
 *     no longer reaches the n-th call, so every call fails once.
 * Each test compares with a run of the same operation with the wrappers
 * off:
 *   - fileio: a framed file written through fio_writer (small writes and
 *     one larger than the writer's buffer), fio_replace_file and
 *     fio_read_file give the same bytes under chaos;
 *   - input: a directory of text files, plain, gzip and zstd JSONL and JSONL
 *     on standard input yield the same documents and warnings under chaos;
 *     each failing read ends the run with SE_IO naming the file;
 *   - indexing and searching: an index built and searched under chaos has
 *     the same documents and hits; each failing write, fsync and read of an
 *     update ends it with a clean error (SE_IO / SE_NOSPC and a message),
 *     after which the directory is byte for byte the previous generation,
 *     or, when the failure came after the commit (a merge, the directory
 *     fsync), the new generation, complete.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <criterion/criterion.h>

#include "common/fileio.h"
#include "common/index.h"
#include "indexer/build.h"
#include "indexer/input.h"
#include "indexer/verify.h"
#include "searcher/search.h"
#include "tests/support/fsutil.h"

/* ---- the wrapped system calls ---- */

ssize_t __real_read(int fd, void *buf, size_t n);
ssize_t __real_write(int fd, const void *buf, size_t n);
ssize_t __real_pread(int fd, void *buf, size_t n, off_t off);
ssize_t __real_pwrite(int fd, const void *buf, size_t n, off_t off);
int __real_fsync(int fd);
ssize_t __wrap_read(int fd, void *buf, size_t n);
ssize_t __wrap_write(int fd, const void *buf, size_t n);
ssize_t __wrap_pread(int fd, void *buf, size_t n, off_t off);
ssize_t __wrap_pwrite(int fd, const void *buf, size_t n, off_t off);
int __wrap_fsync(int fd);

enum { K_READ = 1, K_WRITE = 2, K_PREAD = 4, K_PWRITE = 8, K_FSYNC = 16 };
enum fault_mode { MODE_OFF, MODE_CHAOS, MODE_FAIL_AT };

static enum fault_mode g_mode;
static unsigned g_kinds;          /* calls that count in MODE_FAIL_AT */
static uint64_t g_fail_at;        /* the call that fails */
static int g_fail_errno;          /* with this errno */
static uint64_t g_calls;          /* counted calls since arming */
static int g_failed;              /* the armed failure happened */
static uint64_t g_rng = 1;        /* chaos */
static uint64_t g_eintr, g_short; /* chaos injected */

static uint64_t next_random(void)
{
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return g_rng;
}

/* Before a call of kind k: -1 with errno set when it is to fail, else 0
 * with *n possibly shortened. */
static int inject(unsigned k, size_t *n)
{
    if (g_mode == MODE_CHAOS) {
        if (k != K_FSYNC && next_random() % 3 == 0) {
            g_eintr++;
            errno = EINTR;
            return -1;
        }
        if (n && *n > 1) {
            size_t cut = 1 + (size_t)(next_random() % ((*n + 1) / 2));
            if (cut < *n) g_short++;
            *n = cut;
        }
    } else if (g_mode == MODE_FAIL_AT && (g_kinds & k) && ++g_calls == g_fail_at) {
        g_failed = 1;
        errno = g_fail_errno;
        return -1;
    }
    return 0;
}

ssize_t __wrap_read(int fd, void *buf, size_t n)
{
    return inject(K_READ, &n) ? -1 : __real_read(fd, buf, n);
}
ssize_t __wrap_write(int fd, const void *buf, size_t n)
{
    return inject(K_WRITE, &n) ? -1 : __real_write(fd, buf, n);
}
ssize_t __wrap_pread(int fd, void *buf, size_t n, off_t off)
{
    return inject(K_PREAD, &n) ? -1 : __real_pread(fd, buf, n, off);
}
ssize_t __wrap_pwrite(int fd, const void *buf, size_t n, off_t off)
{
    return inject(K_PWRITE, &n) ? -1 : __real_pwrite(fd, buf, n, off);
}
int __wrap_fsync(int fd)
{
    return inject(K_FSYNC, NULL) ? -1 : __real_fsync(fd);
}

static void chaos(uint64_t seed)
{
    g_rng = seed | 1;
    g_eintr = g_short = 0;
    g_mode = MODE_CHAOS;
}

static void fail_at(uint64_t n, unsigned kinds, int e)
{
    g_calls = 0;
    g_failed = 0;
    g_fail_at = n;
    g_kinds = kinds;
    g_fail_errno = e;
    g_mode = MODE_FAIL_AT;
}

static void off(void)
{
    g_mode = MODE_OFF;
}

/* ---- fixtures ---- */

static char *g_tmp;

static void setup(void)
{
    off();
    g_tmp = fs_mkdtemp_fast("se-iofaults-");
    cr_assert_not_null(g_tmp);
}

static void teardown(void)
{
    off();
    if (g_tmp) fs_rm_rf(g_tmp);
    free(g_tmp);
}

TestSuite(io_faults, .init = setup, .fini = teardown, .timeout = 900);

static const char *P(const char *rel)
{
    static char ring[8][4096];
    static int next;
    char *b = ring[next++ % 8];
    cr_assert_eq(fs_join(b, 4096, g_tmp, rel), 0);
    return b;
}

static void write_file(const char *path, const void *data, size_t len)
{
    cr_assert_eq(fs_write_file(path, data, len), 0, "cannot write %s", path);
}

/* ---- fileio ---- */

/* A framed file: many small writes, then one larger than the writer's
 * 1 MiB buffer (written directly), then small ones again. */
static int write_framed(const char *path, const uint8_t *big, size_t big_len, se_error *err)
{
    fio_writer *w;
    int rc = fio_writer_create(&w, path, "SEIXTEST", err);
    if (rc != SE_OK) return rc;
    for (uint32_t i = 0; i < 5000; i++) fio_write_varint(w, (uint64_t)i * i);
    fio_write(w, big, big_len);
    for (uint32_t i = 0; i < 100; i++) fio_write_u64(w, i);
    return fio_writer_finish(w, NULL, NULL, err);
}

Test(io_faults, fileio_short_transfers_and_eintr)
{
    size_t big_len = (3u << 20) + 12345;
    uint8_t *big = malloc(big_len);
    cr_assert_not_null(big);
    for (size_t i = 0; i < big_len; i++) big[i] = (uint8_t)(i * 2654435761u >> 13);
    se_error err = {0};
    cr_assert_eq(write_framed(P("plain.bin"), big, big_len, &err), SE_OK, "%s", err.msg);
    chaos(42);
    int rc = write_framed(P("chaos.bin"), big, big_len, &err);
    uint64_t eintr = g_eintr, shorts = g_short;
    off();
    cr_assert_eq(rc, SE_OK, "%s", err.msg);
    cr_assert_gt(eintr, 0);
    cr_assert_gt(shorts, 0);
    size_t a_len, b_len;
    char *a = fs_read_file(P("plain.bin"), &a_len), *b = fs_read_file(P("chaos.bin"), &b_len);
    cr_assert(a && b && a_len == b_len && memcmp(a, b, a_len) == 0,
              "the file written under chaos differs");
    fio_map m;
    cr_assert_eq(fio_map_open(&m, P("chaos.bin"), "SEIXTEST", &err), SE_OK, "%s", err.msg);
    fio_map_close(&m);

    /* fio_replace_file and fio_read_file */
    chaos(7);
    rc = fio_replace_file(g_tmp, "replaced", a, a_len, &err);
    uint8_t *back = NULL;
    size_t back_len = 0;
    if (rc == SE_OK) rc = fio_read_file(P("replaced"), &back, &back_len, &err);
    off();
    cr_assert_eq(rc, SE_OK, "%s", err.msg);
    cr_assert(back_len == a_len && memcmp(back, a, a_len) == 0);
    free(back);
    free(a);
    free(b);
    free(big);
}

Test(io_faults, fileio_failing_calls_are_errors)
{
    static uint8_t big[(1u << 20) + 1];
    se_error err = {0};
    /* Every write and fsync of a framed file, then of a replaced file. */
    for (int e = 0; e < 2; e++) {
        int want = e ? SE_NOSPC : SE_IO;
        uint64_t n;
        for (n = 1;; n++) {
            memset(&err, 0, sizeof err);
            unlink(P("f.bin"));
            fail_at(n, K_WRITE | K_FSYNC, e ? ENOSPC : EIO);
            int rc = write_framed(P("f.bin"), big, sizeof big, &err);
            int failed = g_failed;
            off();
            if (!failed) {
                cr_assert_eq(rc, SE_OK, "%s", err.msg);
                break;
            }
            cr_assert_eq(rc, want, "call %llu: status %d (%s)", (unsigned long long)n, rc, err.msg);
            cr_assert(strstr(err.msg, "f.bin"), "the message names the file: %s", err.msg);
            cr_assert(!fs_exists(P("f.bin")), "call %llu: a failed file is removed",
                      (unsigned long long)n);
        }
        cr_assert_geq(n, 4, "writes and the fsync were walked");
        for (n = 1;; n++) {
            write_file(P("r"), "old", 3);
            fail_at(n, K_WRITE | K_FSYNC, e ? ENOSPC : EIO);
            int rc = fio_replace_file(g_tmp, "r", "new content", 11, &err);
            int failed = g_failed;
            off();
            if (!failed) break;
            cr_assert_neq(rc, SE_OK);
            char *s = fs_read_file(P("r"), NULL);
            /* The fsync of the directory comes after the rename. */
            cr_assert(s && (strcmp(s, "old") == 0 || strcmp(s, "new content") == 0));
            free(s);
            char tmp[64];
            snprintf(tmp, sizeof tmp, "r.tmp-%ld", (long)getpid());
            cr_assert(!fs_exists(P(tmp)), "the temporary file is removed");
        }
    }
    /* Reads. */
    write_file(P("small"), "0123456789", 10);
    fail_at(1, K_READ, EIO);
    uint8_t *data;
    size_t len;
    int rc = fio_read_file(P("small"), &data, &len, &err);
    off();
    cr_assert_eq(rc, SE_IO);
    cr_assert(strstr(err.msg, "small") && strstr(err.msg, strerror(EIO)), "%s", err.msg);
}

/* ---- input ---- */

static void gzip_file(const char *path, const char *data)
{
    gzFile g = gzopen(path, "wb");
    cr_assert_not_null(g);
    cr_assert_eq(gzwrite(g, data, (unsigned)strlen(data)), (int)strlen(data));
    cr_assert_eq(gzclose(g), Z_OK);
}

static void zstd_file(const char *path, const char *data)
{
    size_t n = strlen(data), cap = ZSTD_compressBound(n);
    void *out = malloc(cap);
    cr_assert_not_null(out);
    size_t z = ZSTD_compress(out, cap, data, n, 3);
    cr_assert(!ZSTD_isError(z));
    write_file(path, out, z);
    free(out);
}

/* A JSONL text of n documents with long lines (so lines span reads). */
static char *jsonl_text(const char *prefix, uint32_t n)
{
    size_t cap = (size_t)n * 3000 + 1;
    char *s = malloc(cap), *p = s;
    cr_assert_not_null(s);
    for (uint32_t i = 0; i < n; i++) {
        p += sprintf(p, "{\"id\": \"%s%u\", \"title\": \"T%u\", \"text\": \"", prefix, i, i);
        for (uint32_t w = 0; w < 200 + i * 7 % 300; w++) p += sprintf(p, "w%u ", (w * 31 + i) % 97);
        p += sprintf(p, "\"}\n");
        if (i % 5 == 4) p += sprintf(p, "not json %u\n", i); /* a warning */
    }
    return s;
}

static void make_inputs(void)
{
    cr_assert_eq(mkdir(P("in"), 0755), 0);
    cr_assert_eq(mkdir(P("in/sub"), 0755), 0);
    for (int i = 0; i < 20; i++) {
        char name[64], text[20000];
        snprintf(name, sizeof name, "in/%s/doc%02d.txt", i % 2 ? "sub" : ".", i);
        int k = snprintf(text, sizeof text, "Title %d\n\n", i);
        for (int w = 0; w < 1000 + i * 50; w++)
            k += snprintf(text + k, sizeof text - (size_t)k, "word%d ", (w * 7 + i) % 113);
        if (i == 3) text[k / 2] = '\xFF'; /* repaired, with a warning */
        write_file(P(name), text, (size_t)k);
    }
    char *j = jsonl_text("p", 40);
    write_file(P("in/plain.jsonl"), j, strlen(j));
    free(j);
    j = jsonl_text("g", 30);
    gzip_file(P("in/sub/gz.jsonl.gz"), j);
    free(j);
    j = jsonl_text("z", 30);
    zstd_file(P("in/sub/z.jsonl.zst"), j);
    free(j);
    j = jsonl_text("s", 25);
    write_file(P("stdin.jsonl"), j, strlen(j));
    free(j);
}

/* Everything a reader hands out, as one string; the status in *rc. */
typedef struct capture {
    char *text;
    size_t len;
    FILE *f;
} capture;

static void on_warning(void *ctx, const char *source, uint64_t line, const char *message)
{
    capture *c = ctx;
    fprintf(c->f, "W %s:%llu: %s\n", source, (unsigned long long)line, message);
}

/* Read every document of the inputs (standard input redirected from
 * stdin.jsonl for "-"). */
static int read_all(capture *c, se_error *err)
{
    c->f = open_memstream(&c->text, &c->len);
    cr_assert_not_null(c->f);
    int saved = dup(STDIN_FILENO); /* -1 when the test runs without stdin */
    FILE *in = freopen(P("stdin.jsonl"), "r", stdin);
    cr_assert_not_null(in);
    cr_assert_eq(fileno(in), STDIN_FILENO);
    const char *paths[] = {P("in"), "-"};
    input_options io = {.warn = on_warning, .warn_ctx = c};
    input_reader *r = NULL;
    int rc = input_open(&r, paths, 2, &io, err);
    input_doc d;
    while (rc == SE_OK) {
        int got = input_next(r, &d, err);
        if (got < 0) rc = got;
        if (got <= 0) break;
        fprintf(c->f, "D %.*s|%.*s|%zu|%016llx\n", (int)d.id_len, d.id, (int)d.title_len, d.title,
                d.text_len, (unsigned long long)fio_hash(d.text, d.text_len));
    }
    input_close(r);
    fclose(c->f);
    if (saved >= 0) {
        dup2(saved, STDIN_FILENO);
        close(saved);
    }
    return rc;
}

Test(io_faults, input_short_reads_and_eintr)
{
    make_inputs();
    se_error err = {0};
    capture ref = {0}, got = {0};
    cr_assert_eq(read_all(&ref, &err), SE_OK, "%s", err.msg);
    cr_assert(strstr(ref.text, "D s24|T24|"), "standard input was read");
    cr_assert(strstr(ref.text, "D z29|") && strstr(ref.text, "D g29|"));
    cr_assert(strstr(ref.text, "invalid UTF-8 sequences replaced"));
    for (uint64_t seed = 1; seed <= 5; seed++) {
        chaos(seed);
        int rc = read_all(&got, &err);
        uint64_t shorts = g_short;
        off();
        cr_assert_eq(rc, SE_OK, "seed %llu: %s", (unsigned long long)seed, err.msg);
        cr_assert_gt(shorts, 0);
        cr_assert_str_eq(got.text, ref.text, "seed %llu: other documents or warnings",
                         (unsigned long long)seed);
        free(got.text);
        got.text = NULL;
    }
    free(ref.text);
}

Test(io_faults, input_read_errors_end_the_run)
{
    make_inputs();
    se_error err = {0};
    uint64_t n;
    for (n = 1;; n++) {
        capture got = {0};
        memset(&err, 0, sizeof err);
        fail_at(n, K_READ, EIO);
        int rc = read_all(&got, &err);
        int failed = g_failed;
        off();
        free(got.text);
        if (!failed) {
            cr_assert_eq(rc, SE_OK, "%s", err.msg);
            break;
        }
        cr_assert_eq(rc, SE_IO, "read %llu: status %d (%s)", (unsigned long long)n, rc, err.msg);
        cr_assert(strstr(err.msg, "read error") && strstr(err.msg, strerror(EIO)), "read %llu: %s",
                  (unsigned long long)n, err.msg);
    }
    cr_assert_gt(n, 25, "every file was read at least once");
}

/* ---- indexing and searching ---- */

static int run_build(const char *dir, const build_options *bo, build_stats *st, se_error *err)
{
    const char *paths[] = {P("in")};
    input_options io = {0};
    input_reader *in = NULL;
    memset(st, 0, sizeof *st);
    int rc = input_open(&in, paths, 1, &io, err);
    if (rc == SE_OK) rc = build_index(dir, in, bo, st, err);
    input_close(in);
    return rc;
}

/* Every hit (id hash and score) of a few queries, as a string. */
static int search_text(const char *dir, char **out, se_error *err)
{
    static const char *const queries[] = {"word7", "word1 word2 OR word3", "\"word14 word21\"",
                                          "+word5 -word6", "t5 OR title"};
    size_t len;
    FILE *f = open_memstream(out, &len);
    cr_assert_not_null(f);
    index_reader *ix = NULL;
    searcher *s = NULL;
    int rc = index_open(&ix, dir, err);
    if (rc == SE_OK) rc = searcher_new(&s, ix, err);
    for (size_t q = 0; q < sizeof queries / sizeof queries[0] && rc == SE_OK; q++) {
        search_options so = {.k = 20, .k1 = SEARCH_DEFAULT_K1, .b = SEARCH_DEFAULT_B};
        search_result r;
        rc = searcher_run(s, queries[q], strlen(queries[q]), &so, &r, err);
        for (size_t i = 0; rc == SE_OK && i < r.nhits; i++)
            fprintf(f, "%zu %016llx %.6f\n", q, (unsigned long long)r.hits[i].id_hash,
                    (double)r.hits[i].score);
    }
    searcher_free(s);
    index_close(ix);
    fclose(f);
    return rc;
}

Test(io_faults, index_and_search_under_chaos)
{
    make_inputs();
    char ref_dir[4096], dir[4096];
    snprintf(ref_dir, sizeof ref_dir, "%s", P("ref"));
    snprintf(dir, sizeof dir, "%s", P("chaos"));
    se_error err = {0};
    build_stats st;
    build_options bo = {.memory_budget = 64 << 10, .merge_factor = 2};
    cr_assert_eq(run_build(ref_dir, &bo, &st, &err), SE_OK, "%s", err.msg);
    uint64_t docs = st.documents;
    char *ref = NULL, *got = NULL;
    cr_assert_eq(search_text(ref_dir, &ref, &err), SE_OK, "%s", err.msg);
    cr_assert_gt(strlen(ref), 0);

    chaos(99);
    int rc = run_build(dir, &bo, &st, &err);
    uint64_t eintr = g_eintr, shorts = g_short;
    if (rc == SE_OK) rc = search_text(dir, &got, &err);
    off();
    cr_assert_eq(rc, SE_OK, "%s", err.msg);
    cr_assert_gt(eintr, 0);
    cr_assert_gt(shorts, 0);
    cr_assert_eq(st.documents, docs);
    cr_assert_gt(st.batches, 1, "several batches, so merges ran too");
    cr_assert_str_eq(got, ref, "other hits from the index built under chaos");
    index_description d;
    cr_assert_eq(index_verify(dir, &d, &err), SE_OK, "%s", err.msg);
    cr_assert_eq(d.documents, docs);
    free(ref);
    free(got);
}

static const char *const g_lock_only[] = {"LOCK", NULL};

static void copy_dir(const char *from, const char *to)
{
    fs_rm_rf(to);
    cr_assert_eq(mkdir(to, 0755), 0, "mkdir %s", to);
    cr_assert_eq(fs_copy_dir_files(from, to), 0, "copy %s -> %s", from, to);
}

/* Walk every call of `kinds` of an update of the index in `pristine`:
 * each failure is a clean error and leaves the previous generation (or,
 * after the commit, the new one, complete). */
static void walk_update(const char *pristine, const build_options *bo, unsigned kinds, int e,
                        const char *what)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", P("walk"));
    char *before = fs_dir_listing(pristine, g_lock_only);
    cr_assert_not_null(before);
    se_error err = {0};
    build_stats st;
    copy_dir(pristine, dir);
    cr_assert_eq(run_build(dir, bo, &st, &err), SE_OK, "%s", err.msg);
    index_description want;
    cr_assert_eq(index_verify(dir, &want, &err), SE_OK, "%s", err.msg);
    uint64_t merges = st.merges, batches = st.batches;
    cr_assert_gt(st.replaced, 0, "%s: the update replaces documents", what);
    cr_assert_gt(merges, 0, "%s: the update is followed by a merge", what);

    uint64_t n, clean = 0, after_commit = 0;
    for (n = 1;; n++) {
        copy_dir(pristine, dir);
        memset(&err, 0, sizeof err);
        fail_at(n, kinds, e);
        int rc = run_build(dir, bo, &st, &err);
        int failed = g_failed;
        off();
        if (!failed) {
            cr_assert_eq(rc, SE_OK, "%s: no failure at call %llu, yet: %s", what,
                         (unsigned long long)n, err.msg);
            break;
        }
        cr_assert(rc == SE_IO || rc == SE_NOSPC, "%s call %llu: status %d (%s)", what,
                  (unsigned long long)n, rc, err.msg);
        cr_assert(strstr(err.msg, strerror(e)), "%s call %llu: the message says why: %s", what,
                  (unsigned long long)n, err.msg);
        if (st.committed || st.commit_unknown) {
            index_description d;
            cr_assert_eq(index_verify(dir, &d, &err), SE_OK, "%s call %llu: %s", what,
                         (unsigned long long)n, err.msg);
            cr_assert_eq(d.documents, want.documents, "%s call %llu", what, (unsigned long long)n);
            after_commit++;
        } else {
            char *after = fs_dir_listing(dir, g_lock_only);
            cr_assert_not_null(after);
            cr_assert_str_eq(after, before, "%s call %llu (%s): the index changed", what,
                             (unsigned long long)n, err.msg);
            free(after);
            clean++;
        }
    }
    free(before);
    cr_assert_gt(n, 1, "%s: no call was made", what);
    printf("io_faults: %s: an update of %llu batches and %llu merges made %llu calls; each "
           "failed once: %llu left the previous generation, %llu failed after the commit\n",
           what, (unsigned long long)batches, (unsigned long long)merges,
           (unsigned long long)(n - 1), (unsigned long long)clean,
           (unsigned long long)after_commit);
}

Test(io_faults, every_failing_call_of_an_update)
{
    make_inputs();
    /* The previous generation: two segments.  The update replaces documents
     * of the first (a deletions file) and adds a third segment. */
    char pristine[4096];
    snprintf(pristine, sizeof pristine, "%s", P("pristine"));
    se_error err = {0};
    build_stats st;
    build_options first = {.no_merge = 1, .memory_budget = 256 << 10};
    cr_assert_eq(run_build(pristine, &first, &st, &err), SE_OK, "%s", err.msg);
    /* A second, small segment, which the update's new segment will be
     * merged with after the commit (merge factor 2). */
    cr_assert_eq(fs_write_str(P("in/extra1.txt"), "Extra 1\n\nword7 extra\n"), 0);
    cr_assert_eq(fs_write_str(P("in/extra2.txt"), "Extra 2\n\nword1 extra\n"), 0);
    cr_assert_eq(run_build(pristine, &first, &st, &err), SE_OK, "%s", err.msg);
    cr_assert_eq(st.added, 2);
    /* Change a few documents, so the update replaces them (deletions
     * files) and adds others. */
    cr_assert_eq(fs_write_str(P("in/doc00.txt"), "Title 0\n\nchanged text word7\n"), 0);
    cr_assert_eq(fs_write_str(P("in/sub/doc01.txt"), "Title 1\n\nchanged too word1\n"), 0);
    cr_assert_eq(fs_write_str(P("in/new.txt"), "New\n\nword7 word1 brand new\n"), 0);
    build_options bo = {.memory_budget = 64 << 10, .merge_factor = 2};
    /* (pread and pwrite only touch the lock file's informational pid.) */
    walk_update(pristine, &bo, K_WRITE, EIO, "write EIO");
    walk_update(pristine, &bo, K_WRITE, ENOSPC, "write ENOSPC");
    walk_update(pristine, &bo, K_FSYNC, EIO, "fsync EIO");
    walk_update(pristine, &bo, K_READ, EIO, "read EIO");
}

Test(io_faults, failing_reads_of_a_search)
{
    make_inputs();
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", P("ix"));
    se_error err = {0};
    build_stats st;
    build_options bo = {0};
    cr_assert_eq(run_build(dir, &bo, &st, &err), SE_OK, "%s", err.msg);
    char *ref = NULL;
    cr_assert_eq(search_text(dir, &ref, &err), SE_OK, "%s", err.msg);
    uint64_t n;
    for (n = 1;; n++) {
        char *got = NULL;
        memset(&err, 0, sizeof err);
        fail_at(n, K_READ, EIO);
        int rc = search_text(dir, &got, &err);
        int failed = g_failed;
        off();
        if (!failed) {
            cr_assert_eq(rc, SE_OK, "%s", err.msg);
            cr_assert_str_eq(got, ref);
            free(got);
            break;
        }
        free(got);
        cr_assert_eq(rc, SE_IO, "read %llu: status %d (%s)", (unsigned long long)n, rc, err.msg);
        cr_assert(strstr(err.msg, "MANIFEST"), "%s", err.msg);
    }
    cr_assert_gt(n, 1, "opening the index reads its manifest");
    free(ref);
}
