/*
 * test_threads.c - `index --threads N` writes the index one thread writes.
 *
 * Generated documents (docgen.h) are indexed with --threads 1 and with
 * --threads 2 and 3, always with -m 4 (the smallest budget), so that one
 * thread cuts the input into several batches and the workers into several
 * ranges (the run's summary must say so).  The input holds ids given twice
 * (the later copy wins), so superseded documents are deleted from batch
 * segments before the final merge.  After each run:
 *   - the live documents, read in-process, are exactly the expected ones;
 *   - the segment files are byte for byte those of the one-thread index
 *     (same document numbers, postings, store chunks);
 *   - `search --json` gives the same hits, ids and scores for a set of
 *     queries, and the common word matches every document.
 * Then every index is updated by a second input (new ids, changed ones,
 * unchanged ones) with --sync, with the same thread counts, and the same
 * checks are made again; `--verify` passes on every index.
 */
#include <criterion/criterion.h>

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/e2e/expect.h"
#include "tests/support/docgen.h"
#include "tests/support/e2e.h"
#include "tests/support/fsutil.h"
#include "tests/support/run.h"

#define TIMEOUT 300.0
#define NDOCS   9000 /* about 8 MB of text: several batches and ranges at -m 4 */
#define NIDS    (NDOCS + 1000)

static char *g_tmp;

static void setup(void)
{
    g_tmp = fs_mkdtemp_fast("se_e2e_threads_");
    cr_assert_not_null(g_tmp, "mkdtemp failed");
}

static void teardown(void)
{
    if (g_tmp) fs_rm_rf(g_tmp);
    free(g_tmp);
    g_tmp = NULL;
}

TestSuite(threads, .init = setup, .fini = teardown, .timeout = 600);

/* First input: ids 0..NDOCS-1 at version 1, then every 7th id again at
 * version 2 (superseding the first copy).  Second input (--sync): ids
 * 500..NIDS-1, every 5th of them at a new version. */
static void write_inputs(const char *first, const char *second, docset *after1, docset *after2)
{
    FILE *f = fopen(first, "w");
    cr_assert_not_null(f);
    cr_assert_eq(docset_init(after1, NIDS), 0);
    for (uint32_t n = 0; n < NDOCS; n++) {
        cr_assert_eq(docgen_write_jsonl(f, n, 1), 0);
        after1->version[n] = 1;
    }
    for (uint32_t n = 0; n < NDOCS; n += 7) {
        cr_assert_eq(docgen_write_jsonl(f, n, 2), 0);
        after1->version[n] = 2;
    }
    cr_assert_eq(fclose(f), 0);

    f = fopen(second, "w");
    cr_assert_not_null(f);
    cr_assert_eq(docset_init(after2, NIDS), 0);
    for (uint32_t n = 1500; n < NIDS; n++) {
        uint32_t v = n < NDOCS ? after1->version[n] : 1;
        if (n % 5 == 0) v++;
        cr_assert_eq(docgen_write_jsonl(f, n, v), 0);
        after2->version[n] = v;
    }
    cr_assert_eq(fclose(f), 0);
}

/* The file of extension ext of the index's only segment, read whole. */
static char *segment_file(const char *dir, const char *ext, size_t *len)
{
    DIR *d = opendir(dir);
    cr_assert_not_null(d, "cannot open %s", dir);
    char name[512] = "";
    int found = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        size_t n = strlen(de->d_name), k = strlen(ext);
        if (de->d_name[0] != 's' || n <= k + 1 || de->d_name[n - k - 1] != '.' ||
            strcmp(de->d_name + n - k, ext) != 0)
            continue;
        found++;
        snprintf(name, sizeof name, "%s", de->d_name);
    }
    closedir(d);
    cr_assert_eq(found, 1, "%s: expected one .%s file, found %d", dir, ext, found);
    char path[4096];
    cr_assert_eq(fs_join(path, sizeof path, dir, name), 0);
    char *data = fs_read_file(path, len);
    cr_assert_not_null(data, "cannot read %s", path);
    return data;
}

static void expect_same_files(const char *a, const char *b)
{
    static const char *const ext[] = {"tdx", "doc", "pos", "len", "sto"};
    for (size_t i = 0; i < sizeof ext / sizeof ext[0]; i++) {
        size_t la, lb;
        char *da = segment_file(a, ext[i], &la), *db = segment_file(b, ext[i], &lb);
        cr_expect(la == lb && memcmp(da, db, la) == 0, ".%s differs between %s and %s", ext[i], a,
                  b);
        free(da);
        free(db);
    }
}

static void expect_documents(const char *dir, const docset *want)
{
    docset got;
    cr_assert_eq(docset_init(&got, NIDS), 0);
    char why[512] = "";
    cr_assert_eq(docgen_read_index(dir, &got, NULL, why, sizeof why), 0, "%s: %s", dir, why);
    char diff[1024] = "";
    if (!docset_equal(&got, want)) docset_diff(&got, want, diff, sizeof diff);
    cr_assert(docset_equal(&got, want), "%s: documents differ from the model: %s", dir, diff);
    docset_free(&got);
}

/* `search --json -k 200 --exhaustive` output for each query. */
static char *search_all(const char *dir, const char *const *queries, size_t nq)
{
    size_t cap = 1, len = 0;
    char *all = calloc(1, 1);
    cr_assert_not_null(all);
    for (size_t q = 0; q < nq; q++) {
        run_result r;
        e2e_run(&r, TIMEOUT, "search", "-i", dir, "--json", "--no-snippets", "--exhaustive", "-k",
                "200", queries[q], NULL);
        EXPECT_EXIT(&r, 0, queries[q]);
        cr_assert_gt(r.out_len, 0, "%s: no hits", queries[q]);
        size_t n = strlen(queries[q]) + r.out_len + 2;
        char *p = realloc(all, cap + n);
        cr_assert_not_null(p);
        all = p;
        cap += n;
        len += (size_t)sprintf(all + len, "%s\n%s", queries[q], r.out);
        run_result_free(&r);
    }
    return all;
}

static void run_index(const char *dir, const char *threads, const char *input, int sync)
{
    run_result r;
    if (sync)
        e2e_run(&r, TIMEOUT, "index", "-i", dir, "-m", "4", "--threads", threads, "--sync", input,
                NULL);
    else
        e2e_run(&r, TIMEOUT, "index", "-i", dir, "-m", "4", "--threads", threads, input, NULL);
    EXPECT_EXIT(&r, 0, "index");
    /* The first run (9000 documents) is cut into several batches or
     * ranges, which the final merge has to put back in order. */
    const char *from = strstr(r.err, "from ");
    cr_assert_not_null(from, "no summary:\n%s", r.err);
    if (!sync) cr_assert_gt(strtol(from + 5, NULL, 10), 1, "one batch only:\n%s", r.err);
    run_result_free(&r);
    e2e_run(&r, TIMEOUT, "index", "-i", dir, "--verify", NULL);
    EXPECT_EXIT(&r, 0, "index --verify");
    run_result_free(&r);
}

Test(threads, same_index_and_results_for_any_thread_count)
{
    char first[4096], second[4096];
    cr_assert_eq(fs_join(first, sizeof first, g_tmp, "first.jsonl"), 0);
    cr_assert_eq(fs_join(second, sizeof second, g_tmp, "second.jsonl"), 0);
    docset after1, after2;
    write_inputs(first, second, &after1, &after2);

    /* Queries: the word in every document, words of a few titles, a phrase,
     * and a boolean query. */
    docgen_doc d;
    cr_assert_eq(docgen_make(&d, 5234, 1), 0);
    char title_words[200], phrase[220];
    const char *t = strstr(d.title, "version 1 ");
    cr_assert_not_null(t);
    snprintf(title_words, sizeof title_words, "%s", t + strlen("version 1 "));
    snprintf(phrase, sizeof phrase, "\"%s\"", title_words);
    docgen_doc_free(&d);
    const char *queries[] = {DOCGEN_COMMON_WORD, title_words, phrase, "document version 2",
                             "+version document"};
    size_t nq = sizeof queries / sizeof queries[0];

    static const char *const threads[] = {"1", "2", "3"};
    char dirs[3][4096];
    char *results[2][3];
    for (int k = 0; k < 3; k++) {
        char name[32];
        snprintf(name, sizeof name, "index-t%s", threads[k]);
        cr_assert_eq(fs_join(dirs[k], sizeof dirs[k], g_tmp, name), 0);
    }
    for (int round = 0; round < 2; round++) {
        for (int k = 0; k < 3; k++) {
            run_index(dirs[k], threads[k], round ? second : first, round);
            expect_documents(dirs[k], round ? &after2 : &after1);
            results[round][k] = search_all(dirs[k], queries, nq);
        }
        for (int k = 1; k < 3; k++) {
            if (round == 0) expect_same_files(dirs[0], dirs[k]);
            cr_expect_str_eq(results[round][k], results[round][0],
                             "round %d: --threads %s searches differently from --threads 1",
                             round + 1, threads[k]);
        }
        /* The common word matches every live document. */
        uint32_t want = docset_count(round ? &after2 : &after1);
        size_t lines = 0;
        for (const char *p = results[round][0]; (p = strstr(p, "\"rank\"")) != NULL; p++) lines++;
        cr_expect_geq(lines, want < 200 ? want : 200, "too few hits for %s", DOCGEN_COMMON_WORD);
        for (int k = 0; k < 3; k++) free(results[round][k]);
    }
    docset_free(&after1);
    docset_free(&after2);
}
