/*
 * test_alloc_faults.c - every allocation failure path ends in a clean error.
 *
 * This binary is linked with -Wl,--wrap for malloc, calloc, realloc,
 * strdup and aligned_alloc (Makefile), so every allocation the engine's own
 * code makes (common/, indexer/, searcher/ are linked in statically) goes
 * through the wrappers below; allocations inside shared libraries (zlib,
 * zstd, jansson, libstemmer, utf8proc) are not counted.  (jansson 2.14 does
 * not survive every allocation failure: one in its string lexer ends in
 * assert(0), others come back as syntax errors.  A separate test gives it
 * an allocator that always fails, which it reports cleanly, and checks that
 * the indexer calls that out of memory rather than malformed input.)
 * A test arms the wrappers
 * with "fail the n-th allocation from now", runs one operation, disarms
 * them, and repeats for n = 1, 2, 3, ... until the operation no longer
 * reaches an n-th allocation: every allocation of the operation has then
 * failed once.
 *
 * Indexing: an index of one corpus (generation 1) is updated with a batch
 * that adds, replaces and deletes documents, with a tiny memory budget and
 * merge factor 2 so batches, deletions files and merges all happen.  After
 * each failing run the result must be a clean error (SE_NOMEM, or SE_IO from
 * a library that reports its own allocation failure as an I/O problem) and
 * the directory byte-for-byte the previous generation; or, when the failure
 * hit a merge after the commit, the committed generation, complete.  Before
 * the next run the directory is restored.
 *
 * The final merge of a run with threads, on two threads: each failure is
 * a clean SE_NOMEM without debris, and the merge without one writes the
 * bytes of a merge on one thread.
 *
 * A fresh index: a new directory built from a directory of text files
 * (one repaired, one skipped) and plain and gzip JSONL; each failure must
 * leave no directory behind.
 *
 * Searching: index_open, searcher_new, queries of every kind and the
 * snippets of their hits: each failure is SE_NOMEM, the index directory is
 * untouched, and an unfailed run gives the same hits and snippets as the
 * reference run.
 *
 * The library: a writer session (open, add, replace, delete, commit, close)
 * and a reader session (open, search, every hit with its snippet) through
 * include/libsearch.h: each failure is SRCH_NOMEM (or SRCH_IO, as above)
 * with a message, the index is the previous or the committed generation,
 * and an unfailed reader session prints exactly the reference hits.
 *
 * Leaks: `make asan` runs this under LeakSanitizer, which fails the test
 * binary if any failure path leaks.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <xxhash.h>

#include <criterion/criterion.h>
#include <jansson.h>
#include <zlib.h>

#include "common/index.h"
#include "include/libsearch.h"
#include "indexer/build.h"
#include "indexer/input.h"
#include "indexer/merge.h"
#include "indexer/verify.h"
#include "searcher/search.h"
#include "searcher/snippet.h"
#include "tests/support/fsutil.h"

/* ---- the wrapped allocators ---- */

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
char *__real_strdup(const char *s);
void *__real_aligned_alloc(size_t align, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);
char *__wrap_strdup(const char *s);
void *__wrap_aligned_alloc(size_t align, size_t n);

static uint64_t g_fail_at; /* 0: never */
static uint64_t g_count;   /* allocations since arming (counted atomically: a merge
                              allocates from two threads) */
static int g_failed;       /* the armed failure happened */

static int should_fail(void)
{
    if (!g_fail_at) return 0;
    if (__atomic_add_fetch(&g_count, 1, __ATOMIC_RELAXED) != g_fail_at) return 0;
    g_failed = 1;
    return 1;
}

void *__wrap_malloc(size_t n)
{
    return should_fail() ? NULL : __real_malloc(n);
}
void *__wrap_calloc(size_t n, size_t size)
{
    return should_fail() ? NULL : __real_calloc(n, size);
}
void *__wrap_realloc(void *p, size_t n)
{
    return should_fail() ? NULL : __real_realloc(p, n);
}
char *__wrap_strdup(const char *s)
{
    return should_fail() ? NULL : __real_strdup(s);
}
void *__wrap_aligned_alloc(size_t align, size_t n)
{
    return should_fail() ? NULL : __real_aligned_alloc(align, n);
}

static void arm(uint64_t n)
{
    g_count = 0;
    g_failed = 0;
    g_fail_at = n;
}

static void disarm(void)
{
    g_fail_at = 0;
}

/* ---- fixtures ---- */

static char *g_tmp;

static void setup(void)
{
    g_tmp = fs_mkdtemp_fast("se-allocfaults-");
    cr_assert_not_null(g_tmp);
}

static void teardown(void)
{
    if (g_tmp) fs_rm_rf(g_tmp);
    free(g_tmp);
}

TestSuite(alloc_faults, .init = setup, .fini = teardown, .timeout = 900);

static void path(char *buf, size_t cap, const char *name)
{
    cr_assert_eq(fs_join(buf, cap, g_tmp, name), 0);
}

static void write_jsonl(const char *file, uint32_t first, uint32_t n, const char *variant)
{
    FILE *f = fopen(file, "w");
    cr_assert_not_null(f);
    static const char *const words[] = {"river", "stone",  "bridge", "market", "ethical",
                                        "cyber", "police", "power",  "north",  "music"};
    for (uint32_t i = first; i < first + n; i++) {
        fprintf(f, "{\"id\": \"d%u\", \"title\": \"%s %s\", \"text\": \"", i, words[i % 10],
                variant);
        for (uint32_t w = 0; w < 30 + i % 40; w++)
            fprintf(f, "%s%s", w ? " " : "", words[(i * 7 + w * 3) % 10]);
        fprintf(f, " %s\"}\n", variant);
    }
    cr_assert_eq(fclose(f), 0);
}

static int run_build(const char *dir, const char *jsonl, const build_options *bo, build_stats *st,
                     se_error *err)
{
    input_reader *in = NULL;
    memset(st, 0, sizeof *st);
    const char *paths[1] = {jsonl};
    input_options io = {0};
    int rc = jsonl ? input_open(&in, paths, 1, &io, err) : SE_OK;
    if (rc == SE_OK) rc = build_index(dir, in, bo, st, err);
    input_close(in);
    return rc;
}

static void copy_dir(const char *from, const char *to)
{
    fs_rm_rf(to);
    cr_assert_eq(mkdir(to, 0755), 0, "mkdir %s", to);
    cr_assert_eq(fs_copy_dir_files(from, to), 0, "copy %s -> %s", from, to);
}

static const char *const g_lock_only[] = {"LOCK", NULL};

Test(alloc_faults, every_allocation_of_an_update)
{
    char pristine[4096], dir[4096], base[4096], batch[4096];
    path(pristine, sizeof pristine, "pristine");
    path(dir, sizeof dir, "index");
    path(base, sizeof base, "base.jsonl");
    path(batch, sizeof batch, "batch.jsonl");
    write_jsonl(base, 0, 16, "first");
    /* Half new ids, half replacements of existing ones. */
    write_jsonl(batch, 12, 8, "second");
    se_error err = {0};
    build_stats st;
    build_options bo0 = {.merge_factor = 2};
    cr_assert_eq(run_build(pristine, base, &bo0, &st, &err), SE_OK, "%s", err.msg);
    /* A second segment with a deletions file, so merges meet deletions. */
    const char *del[] = {"d3", "d7", "d10"};
    build_options bo1 = {.no_merge = 1, .delete_ids = del, .ndelete_ids = 3};
    cr_assert_eq(run_build(pristine, NULL, &bo1, &st, &err), SE_OK, "%s", err.msg);
    char *before = fs_dir_listing(pristine, g_lock_only);
    cr_assert_not_null(before);

    const char *del2[] = {"d1", "d2", "d15"};
    build_options bo = {.memory_budget = 16 << 10, /* several batches */
                        .merge_factor = 2,
                        .delete_ids = del2,
                        .ndelete_ids = 3};
    /* The reference run, and the number of allocations it makes. */
    copy_dir(pristine, dir);
    arm(UINT64_MAX);
    int rc = run_build(dir, batch, &bo, &st, &err);
    uint64_t total = g_count;
    disarm();
    cr_assert_eq(rc, SE_OK, "%s", err.msg);
    index_description want;
    cr_assert_eq(index_verify(dir, &want, &err), SE_OK, "%s", err.msg);

    uint64_t clean = 0, committed = 0;
    for (uint64_t n = 1; n <= total + 1; n++) {
        copy_dir(pristine, dir);
        memset(&err, 0, sizeof err);
        arm(n);
        rc = run_build(dir, batch, &bo, &st, &err);
        int failed = g_failed;
        disarm();
        if (!failed) {
            cr_assert_eq(rc, SE_OK, "no failure injected at %llu, yet: %s", (unsigned long long)n,
                         err.msg);
            break;
        }
        if (rc == SE_OK) {
            /* A failure the engine could work around (none expected, but a
             * correct result is a correct result). */
            index_description d;
            cr_assert_eq(index_verify(dir, &d, &err), SE_OK, "allocation %llu: %s",
                         (unsigned long long)n, err.msg);
            cr_assert_eq(d.documents, want.documents);
            continue;
        }
        cr_assert(rc == SE_NOMEM || rc == SE_IO, "allocation %llu: status %d (%s)",
                  (unsigned long long)n, rc, err.msg);
        cr_assert_neq(err.msg[0], 0, "allocation %llu: no message", (unsigned long long)n);
        if (st.committed) {
            /* The update was committed; a merge after it failed. */
            index_description d;
            cr_assert_eq(index_verify(dir, &d, &err), SE_OK, "allocation %llu: %s",
                         (unsigned long long)n, err.msg);
            cr_assert_eq(d.documents, want.documents, "allocation %llu", (unsigned long long)n);
            committed++;
        } else {
            char *after = fs_dir_listing(dir, g_lock_only);
            cr_assert_not_null(after);
            cr_assert_str_eq(after, before, "allocation %llu (%s): the index changed",
                             (unsigned long long)n, err.msg);
            free(after);
            clean++;
        }
    }
    free(before);
    printf("alloc_faults: update: %llu allocations, each failed once: %llu left the previous "
           "generation, %llu failed in a merge after the commit\n",
           (unsigned long long)total, (unsigned long long)clean, (unsigned long long)committed);
}

typedef struct hitkey {
    uint32_t segment, doc;
    float score;
} hitkey;

/* The snippet of every hit, hashed into one number per query. */
static int snippets_of(analyzer *an, const index_reader *ix, const searcher *s,
                       const search_result *r, seg_store_buffer *store, uint64_t *hash,
                       se_error *err)
{
    *hash = 0;
    const search_highlight *hl = searcher_highlight(s);
    snippet_options so = {32, "[", "]"};
    for (size_t i = 0; i < r->nhits; i++) {
        seg_document d;
        int rc = segment_document(ix->segments[r->hits[i].segment], r->hits[i].doc, store, &d, err);
        if (rc != SE_OK) return rc;
        char *snip = NULL;
        rc = snippet_make(an, hl, d.text, d.text_len, &so, &snip);
        if (rc != SE_OK) return se_fail(err, rc, "out of memory making a snippet");
        *hash = *hash * 31 + XXH3_64bits(snip, strlen(snip));
        free(snip);
    }
    return SE_OK;
}

/* Open, search every query and make its snippets, compare with the
 * reference; returns the status. */
static int search_all(const char *dir, const char *const *queries, size_t nq, hitkey (*ref)[10],
                      size_t *nref, uint64_t *snip_ref, int record, se_error *err)
{
    index_reader *ix = NULL;
    searcher *s = NULL;
    analyzer *an = NULL;
    seg_store_buffer store;
    seg_store_buffer_init(&store);
    int rc = index_open(&ix, dir, err);
    if (rc == SE_OK) rc = searcher_new(&s, ix, err);
    if (rc == SE_OK && analyzer_new(&an) != SE_OK) rc = se_fail(err, SE_NOMEM, "out of memory");
    for (size_t q = 0; q < nq && rc == SE_OK; q++) {
        search_options so = {.k = 10, .k1 = SEARCH_DEFAULT_K1, .b = SEARCH_DEFAULT_B};
        search_result r;
        uint64_t snips;
        rc = searcher_run(s, queries[q], strlen(queries[q]), &so, &r, err);
        if (rc == SE_OK) rc = snippets_of(an, ix, s, &r, &store, &snips, err);
        if (rc != SE_OK) break;
        if (record) {
            nref[q] = r.nhits;
            snip_ref[q] = snips;
            for (size_t i = 0; i < r.nhits; i++)
                ref[q][i] = (hitkey){r.hits[i].segment, r.hits[i].doc, r.hits[i].score};
        } else {
            cr_assert_eq(r.nhits, nref[q], "query %s", queries[q]);
            cr_assert_eq(snips, snip_ref[q], "query %s: other snippets", queries[q]);
            for (size_t i = 0; i < r.nhits; i++)
                cr_assert(ref[q][i].segment == r.hits[i].segment &&
                              ref[q][i].doc == r.hits[i].doc && ref[q][i].score == r.hits[i].score,
                          "query %s rank %zu", queries[q], i);
        }
    }
    seg_store_buffer_free(&store);
    analyzer_free(an);
    searcher_free(s);
    index_close(ix);
    return rc;
}

Test(alloc_faults, every_allocation_of_a_search)
{
    char dir[4096], base[4096], batch[4096];
    path(dir, sizeof dir, "index");
    path(base, sizeof base, "base.jsonl");
    path(batch, sizeof batch, "batch.jsonl");
    write_jsonl(base, 0, 300, "first");
    write_jsonl(batch, 250, 20, "second");
    se_error err = {0};
    build_stats st;
    build_options bo = {.no_merge = 1};
    cr_assert_eq(run_build(dir, base, &bo, &st, &err), SE_OK, "%s", err.msg);
    cr_assert_eq(run_build(dir, batch, &bo, &st, &err), SE_OK, "%s", err.msg);
    static const char *const queries[] = {
        "river",          "river stone OR bridge",  "+ethical +music",      "\"river stone\"",
        "police -market", "(north OR south) power", "nothing-matches-this", "first second"};
    size_t nq = sizeof queries / sizeof queries[0];
    hitkey ref[sizeof queries / sizeof queries[0]][10];
    size_t nref[sizeof queries / sizeof queries[0]];
    uint64_t snip_ref[sizeof queries / sizeof queries[0]];
    char *before = fs_dir_listing(dir, NULL);
    cr_assert_not_null(before);
    arm(UINT64_MAX);
    int rc = search_all(dir, queries, nq, ref, nref, snip_ref, 1, &err);
    uint64_t total = g_count;
    disarm();
    cr_assert_eq(rc, SE_OK, "%s", err.msg);
    uint64_t failures = 0;
    for (uint64_t n = 1; n <= total + 1; n++) {
        memset(&err, 0, sizeof err);
        arm(n);
        rc = search_all(dir, queries, nq, ref, nref, snip_ref, 0, &err);
        int failed = g_failed;
        disarm();
        char *after = fs_dir_listing(dir, NULL);
        cr_assert_not_null(after);
        cr_assert_str_eq(after, before, "allocation %llu: a search changed the index",
                         (unsigned long long)n);
        free(after);
        if (!failed) {
            cr_assert_eq(rc, SE_OK, "%s", err.msg);
            break;
        }
        if (rc == SE_OK) continue; /* a failure the search could do without */
        cr_assert_eq(rc, SE_NOMEM, "allocation %llu: status %d (%s)", (unsigned long long)n, rc,
                     err.msg);
        cr_assert_neq(err.msg[0], 0);
        failures++;
    }
    free(before);
    printf("alloc_faults: search: %llu allocations, %llu failed cleanly\n",
           (unsigned long long)total, (unsigned long long)failures);
}

/* ---- the public API (include/libsearch.h) over the same machinery ---- */

/* A writer session: open, three replacements and three additions, one
 * deletion, commit, close.  The message of a failure must not be empty. */
static int api_write(const char *dir, srch_commit_info *info)
{
    memset(info, 0, sizeof *info);
    srch_writer *w = NULL;
    int rc = srch_writer_open(&w, dir);
    for (uint32_t i = 13; i < 19 && rc == SRCH_OK; i++) {
        char id[16], text[96];
        snprintf(id, sizeof id, "d%u", i);
        snprintf(text, sizeof text, "river stone api copy %u of the bridge market", i);
        rc = srch_writer_add(w, id, "api", text);
    }
    if (rc == SRCH_OK) rc = srch_writer_delete(w, "d4");
    if (rc == SRCH_OK) rc = srch_writer_commit(w, info);
    if (rc != SRCH_OK)
        cr_assert_neq(srch_writer_errmsg(w)[0], 0, "status %d without a message", rc);
    srch_writer_close(w);
    return rc;
}

/* A reader session: open, search, every hit with its snippet, into out. */
static int api_read(const char *dir, char *out, size_t cap)
{
    static const char *const queries[] = {"river", "\"stone api\" OR market", "police -river"};
    out[0] = 0;
    srch_index *ix = NULL;
    srch_search *s = NULL;
    int rc = srch_index_open(&ix, dir);
    if (rc == SRCH_OK) rc = srch_search_new(&s, ix);
    for (size_t q = 0; q < 3 && rc == SRCH_OK; q++) {
        rc = srch_search_run(s, queries[q], NULL);
        srch_hit h;
        int got;
        while (rc == SRCH_OK && (got = srch_search_next(s, &h)) != 0) {
            if (got < 0) {
                rc = got;
                break;
            }
            size_t len = strlen(out);
            snprintf(out + len, cap - len, "%s %.6f %s|", h.id, h.score, h.snippet);
        }
    }
    /* srch_search_new has no handle to leave a message in when it fails:
     * its code says everything. */
    if (rc != SRCH_OK && (s || rc != SRCH_NOMEM || srch_index_generation(ix) == 0)) {
        const char *msg = s ? srch_search_errmsg(s) : srch_index_errmsg(ix);
        cr_assert_neq(msg[0], 0, "status %d without a message (%s)", rc,
                      s ? "search" : "index open");
    }
    srch_search_free(s);
    srch_index_close(ix);
    return rc;
}

Test(alloc_faults, every_allocation_of_the_library_api)
{
    char pristine[4096], dir[4096], base[4096];
    path(pristine, sizeof pristine, "pristine");
    path(dir, sizeof dir, "index");
    path(base, sizeof base, "base.jsonl");
    write_jsonl(base, 0, 16, "first");
    se_error err = {0};
    build_stats st;
    build_options bo0 = {0};
    cr_assert_eq(run_build(pristine, base, &bo0, &st, &err), SE_OK, "%s", err.msg);
    char *before = fs_dir_listing(pristine, g_lock_only);
    cr_assert_not_null(before);

    copy_dir(pristine, dir);
    srch_commit_info info;
    arm(UINT64_MAX);
    int rc = api_write(dir, &info);
    uint64_t write_total = g_count;
    disarm();
    cr_assert_eq(rc, SRCH_OK);
    cr_assert_eq(info.documents, 18, "16 + 3 new - 1 deleted");
    static char want[65536], got[65536];
    arm(UINT64_MAX);
    rc = api_read(dir, want, sizeof want);
    uint64_t read_total = g_count;
    disarm();
    cr_assert_eq(rc, SRCH_OK);
    cr_assert_neq(want[0], 0);

    uint64_t write_failures = 0, read_failures = 0;
    for (uint64_t n = 1; n <= write_total + 1; n++) {
        copy_dir(pristine, dir);
        arm(n);
        rc = api_write(dir, &info);
        int failed = g_failed;
        disarm();
        if (!failed) {
            cr_assert_eq(rc, SRCH_OK, "no failure injected at %llu", (unsigned long long)n);
            break;
        }
        if (rc != SRCH_OK) {
            cr_assert(rc == SRCH_NOMEM || rc == SRCH_IO, "allocation %llu: status %d",
                      (unsigned long long)n, rc);
            write_failures++;
        }
        if (rc == SRCH_OK || info.committed) {
            index_description d;
            cr_assert_eq(index_verify(dir, &d, &err), SE_OK, "allocation %llu: %s",
                         (unsigned long long)n, err.msg);
            cr_assert_eq(d.documents, 18, "allocation %llu", (unsigned long long)n);
        } else {
            char *after = fs_dir_listing(dir, g_lock_only);
            cr_assert_not_null(after);
            cr_assert_str_eq(after, before, "allocation %llu: the index changed",
                             (unsigned long long)n);
            free(after);
        }
    }

    copy_dir(pristine, dir);
    cr_assert_eq(api_write(dir, &info), SRCH_OK);
    for (uint64_t n = 1; n <= read_total + 1; n++) {
        arm(n);
        rc = api_read(dir, got, sizeof got);
        int failed = g_failed;
        disarm();
        if (!failed || rc == SRCH_OK) {
            cr_assert_eq(rc, SRCH_OK, "allocation %llu", (unsigned long long)n);
            cr_assert_str_eq(got, want, "allocation %llu", (unsigned long long)n);
            if (!failed) break;
            continue;
        }
        cr_assert_eq(rc, SRCH_NOMEM, "allocation %llu: status %d", (unsigned long long)n, rc);
        read_failures++;
    }
    free(before);
    printf("alloc_faults: library: writer session %llu allocations (%llu failed cleanly), reader "
           "session %llu allocations (%llu failed cleanly)\n",
           (unsigned long long)write_total, (unsigned long long)write_failures,
           (unsigned long long)read_total, (unsigned long long)read_failures);
}

/* Inputs of every kind for a fresh index. */
static void write_mixed_inputs(const char *in)
{
    char p[4200];
    cr_assert_eq(mkdir(in, 0755), 0);
    for (int i = 0; i < 6; i++) {
        snprintf(p, sizeof p, "%s/doc%02d.txt", in, i);
        FILE *f = fopen(p, "w");
        cr_assert_not_null(f);
        fprintf(f, "Title %d river\n\n", i);
        for (int w = 0; w < 40 + i * 13; w++) fprintf(f, "w%d ", (w * 7 + i) % 53);
        if (i == 3) fputs("bad \xFF byte", f); /* repaired */
        if (i == 5) fputc(0, f);               /* binary: skipped */
        cr_assert_eq(fclose(f), 0);
    }
    /* More than one store chunk (SEG_STORE_CHUNK) of text: a batch is cut
     * only where a chunk closes, and the walk must cover batch merges. */
    snprintf(p, sizeof p, "%s/big.jsonl", in);
    FILE *b = fopen(p, "w");
    cr_assert_not_null(b);
    for (int i = 0; i < 12; i++) {
        fprintf(b, "{\"id\": \"big%d\", \"text\": \"", i);
        for (int w = 0; w < 800; w++) fprintf(b, "w%d ", (w * 11 + i) % 97);
        fputs("end\"}\n", b);
    }
    cr_assert_eq(fclose(b), 0);
    snprintf(p, sizeof p, "%s/lines.jsonl", in);
    write_jsonl(p, 100, 4, "plain");
    FILE *f = fopen(p, "a");
    cr_assert_not_null(f);
    fputs("{\"id\": \"broken\"\n[1]\n{\"id\": \"s1\", \"text\": \"lone \\ud800 x\"}\n", f);
    cr_assert_eq(fclose(f), 0);
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s/../gz.tmp", in);
    write_jsonl(tmp, 200, 4, "zipped");
    size_t len;
    char *data = fs_read_file(tmp, &len);
    cr_assert_not_null(data);
    snprintf(p, sizeof p, "%s/zipped.jsonl.gz", in);
    gzFile g = gzopen(p, "wb");
    cr_assert_not_null(g);
    cr_assert_eq(gzwrite(g, data, (unsigned)len), (int)len);
    cr_assert_eq(gzclose(g), Z_OK);
    free(data);
}

static void *json_no_memory(size_t n)
{
    (void)n;
    return NULL;
}

Test(alloc_faults, jansson_out_of_memory_is_an_error_not_a_skipped_line)
{
    char dir[4096], jsonl[4096];
    path(dir, sizeof dir, "index");
    path(jsonl, sizeof jsonl, "docs.jsonl");
    write_jsonl(jsonl, 0, 5, "first");
    se_error err = {0};
    build_stats st;
    build_options bo = {0};
    cr_assert_eq(run_build(dir, jsonl, &bo, &st, &err), SE_OK, "%s", err.msg);
    char *before = fs_dir_listing(dir, g_lock_only);
    cr_assert_not_null(before);
    /* Lines with a nested value: plain ones are read without jansson. */
    FILE *f = fopen(jsonl, "w");
    cr_assert_not_null(f);
    for (int i = 3; i < 8; i++)
        fprintf(f, "{\"id\": \"d%d\", \"meta\": {\"n\": %d}, \"text\": \"river second\"}\n", i, i);
    cr_assert_eq(fclose(f), 0);
    json_set_alloc_funcs(json_no_memory, free);
    int rc = run_build(dir, jsonl, &bo, &st, &err);
    json_set_alloc_funcs(malloc, free);
    cr_assert_eq(rc, SE_NOMEM, "status %d (%s)", rc, err.msg);
    cr_assert(strstr(err.msg, "docs.jsonl:1: out of memory"), "%s", err.msg);
    char *after = fs_dir_listing(dir, g_lock_only);
    cr_assert_not_null(after);
    cr_assert_str_eq(after, before, "the index changed");
    free(before);
    free(after);
}

/* The final merge of a run with threads: a second thread merges the upper
 * terms into a postings part.  Each failure is SE_NOMEM with the new
 * segment's files removed; the run without a failure writes the bytes of
 * the merge on one thread. */
Test(alloc_faults, every_allocation_of_a_merge_on_two_threads)
{
    char dir[4096], in[4096];
    path(dir, sizeof dir, "index");
    path(in, sizeof in, "in.jsonl");
    se_error err = {0};
    build_stats st;
    build_options bo = {.no_merge = 1};
    for (uint32_t k = 0; k < 3; k++) {
        write_jsonl(in, k * 40, 40, "part");
        cr_assert_eq(run_build(dir, in, &bo, &st, &err), SE_OK, "%s", err.msg);
    }
    manifest m;
    cr_assert_eq(manifest_read(dir, &m, &err), SE_OK, "%s", err.msg);
    cr_assert_eq(m.nsegments, 3);
    segment *segs[3];
    for (uint32_t i = 0; i < 3; i++)
        cr_assert_eq(segment_open(&segs[i], dir, &m.segments[i], 1, &err), SE_OK, "%s", err.msg);
    seg_meta ref;
    cr_assert_eq(merge_segments_same_level(segs, 3, dir, 900, 1, 1, &ref, &err), SE_OK, "%s",
                 err.msg);
    cr_assert_gt(ref.nterms, 10);
    uint64_t failures = 0;
    for (uint64_t n = 1;; n++) {
        seg_meta meta;
        memset(&err, 0, sizeof err);
        arm(n);
        int rc = merge_segments_same_level(segs, 3, dir, 901, 1, 2, &meta, &err);
        int failed = g_failed;
        disarm();
        if (!failed) {
            cr_assert_eq(rc, SE_OK, "%s", err.msg);
            for (int f = 0; f < SEG_NFILES; f++) {
                cr_assert_eq(meta.files[f].size, ref.files[f].size);
                cr_assert_eq(meta.files[f].checksum, ref.files[f].checksum);
            }
            break;
        }
        cr_assert_eq(rc, SE_NOMEM, "allocation %llu: status %d (%s)", (unsigned long long)n, rc,
                     err.msg);
        cr_assert_neq(err.msg[0], 0);
        for (int f = 0; f < SEG_NFILES; f++) {
            char file[4096];
            cr_assert_eq(seg_file_path(file, sizeof file, dir, 901, (enum seg_file)f), SE_OK);
            cr_assert(!fs_exists(file), "allocation %llu: %s left behind", (unsigned long long)n,
                      file);
        }
        failures++;
    }
    cr_assert_gt(failures, 10);
    for (uint32_t i = 0; i < 3; i++) segment_close(segs[i]);
    manifest_free(&m);
    printf("alloc_faults: merge on two threads: %llu allocations failed cleanly\n",
           (unsigned long long)failures);
}

Test(alloc_faults, every_allocation_of_a_fresh_index)
{
    char in[4096], dir[4096];
    path(in, sizeof in, "in");
    path(dir, sizeof dir, "fresh");
    write_mixed_inputs(in);
    se_error err = {0};
    build_stats st;
    build_options bo = {.memory_budget = 16 << 10, .merge_factor = 2};
    arm(UINT64_MAX);
    int rc = run_build(dir, in, &bo, &st, &err);
    uint64_t total = g_count;
    disarm();
    cr_assert_eq(rc, SE_OK, "%s", err.msg);
    cr_assert_gt(st.batches, 1);
    index_description want;
    cr_assert_eq(index_verify(dir, &want, &err), SE_OK, "%s", err.msg);
    cr_assert_eq(want.documents, 5 + 12 + 4 + 1 + 4, "the reference run indexed everything usable");

    uint64_t failures = 0;
    for (uint64_t n = 1; n <= total + 1; n++) {
        fs_rm_rf(dir);
        memset(&err, 0, sizeof err);
        arm(n);
        rc = run_build(dir, in, &bo, &st, &err);
        int failed = g_failed;
        disarm();
        if (!failed) {
            cr_assert_eq(rc, SE_OK, "no failure injected at %llu, yet: %s", (unsigned long long)n,
                         err.msg);
            break;
        }
        if (rc == SE_OK) {
            index_description d;
            cr_assert_eq(index_verify(dir, &d, &err), SE_OK, "allocation %llu: %s",
                         (unsigned long long)n, err.msg);
            cr_assert_eq(d.documents, want.documents, "allocation %llu: a failure lost documents",
                         (unsigned long long)n);
            continue;
        }
        cr_assert(rc == SE_NOMEM || rc == SE_IO, "allocation %llu: status %d (%s)",
                  (unsigned long long)n, rc, err.msg);
        cr_assert_neq(err.msg[0], 0);
        if (st.committed) {
            index_description d;
            cr_assert_eq(index_verify(dir, &d, &err), SE_OK, "allocation %llu: %s",
                         (unsigned long long)n, err.msg);
            cr_assert_eq(d.documents, want.documents);
        } else {
            cr_assert(!fs_exists(dir), "allocation %llu (%s): the new directory was left behind",
                      (unsigned long long)n, err.msg);
        }
        failures++;
    }
    printf("alloc_faults: fresh index: %llu allocations, %llu failed cleanly\n",
           (unsigned long long)total, (unsigned long long)failures);
}
