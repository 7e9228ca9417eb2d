/*
 * test_libsearch.c - the public API (include/libsearch.h), used only
 * through that header: a writer adds, replaces and deletes documents and
 * commits; searches see exactly the committed generation until reopened;
 * the last operation on an id within a commit wins; a second writer is
 * locked out, in this process and in another (bin/index, from SE_BIN_DIR); bad arguments, a missing
 * index and damaged files give the documented codes and messages; searches in several threads over
 * one shared index agree with a single-threaded run.
 */
#include <dirent.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include <unistd.h>

#include "include/libsearch.h"
#include "tests/support/e2e.h"
#include "tests/support/fsutil.h"
#include "tests/support/run.h"

static char *g_tmp;
static char g_dir[4096];

static void setup(void)
{
    g_tmp = fs_mkdtemp_fast("libsearch-");
    cr_assert_not_null(g_tmp);
    fs_join(g_dir, sizeof g_dir, g_tmp, "ix");
}

static void teardown(void)
{
    fs_rm_rf(g_tmp);
    free(g_tmp);
}

TestSuite(libsearch, .init = setup, .fini = teardown);

#define OK(call, handle_msg)                                                                       \
    do {                                                                                           \
        int rc_ = (call);                                                                          \
        cr_assert_eq(rc_, SRCH_OK, "%s: %s (%s)", #call, srch_status_name(rc_), (handle_msg));     \
    } while (0)

static void commit_docs(const char *dir, const char *const (*docs)[3], size_t n,
                        srch_commit_info *info)
{
    srch_writer *w;
    OK(srch_writer_open(&w, dir), srch_writer_errmsg(w));
    for (size_t i = 0; i < n; i++)
        OK(srch_writer_add(w, docs[i][0], docs[i][1], docs[i][2]), srch_writer_errmsg(w));
    OK(srch_writer_commit(w, info), srch_writer_errmsg(w));
    srch_writer_close(w);
}

/* Run q on ix; the ids of the hits, best first, joined by spaces. */
static void hit_ids(const srch_index *ix, const char *q, char *out, size_t cap)
{
    srch_search *s;
    OK(srch_search_new(&s, ix), "");
    srch_options o;
    srch_options_init(&o);
    o.exhaustive = 1;
    OK(srch_search_run(s, q, &o), srch_search_errmsg(s));
    out[0] = 0;
    srch_hit h;
    int rc;
    while ((rc = srch_search_next(s, &h)) == 1) {
        size_t len = strlen(out);
        snprintf(out + len, cap - len, "%s%s", len ? " " : "", h.id);
    }
    cr_assert_eq(rc, 0, "srch_search_next: %s", srch_search_errmsg(s));
    srch_search_free(s);
}

static const char *const three[][3] = {
    {"a", "The river", "A river runs under the old stone bridge."},
    {"b", "Markets", "The market by the river sells stone fruit."},
    {"c", "Music", "Singing in the north; a song about ancient cities."},
};

Test(libsearch, add_commit_search)
{
    srch_commit_info info;
    commit_docs(g_dir, three, 3, &info);
    cr_assert_eq(info.added, 3);
    cr_assert_eq(info.committed, 1);
    cr_assert_eq(info.generation, 1);
    cr_assert_eq(info.documents, 3);

    srch_index *ix;
    OK(srch_index_open(&ix, g_dir), srch_index_errmsg(ix));
    cr_assert_eq(srch_index_documents(ix), 3);
    cr_assert_eq(srch_index_generation(ix), 1);
    srch_search *s;
    OK(srch_search_new(&s, ix), "");
    srch_options o;
    srch_options_init(&o);
    o.highlight_open = "[";
    o.highlight_close = "]";
    OK(srch_search_run(s, "river", &o), srch_search_errmsg(s));
    int exact = 0;
    cr_assert_eq(srch_search_matches(s, &exact), 2);
    cr_assert_eq(srch_search_hit_count(s), 2);
    srch_hit h;
    cr_assert_eq(srch_search_next(s, &h), 1);
    cr_assert_eq(h.rank, 1);
    /* "a" has "river" in the title and the text. */
    cr_assert_str_eq(h.id, "a");
    cr_assert_str_eq(h.title, "The river");
    cr_assert(h.score > 0);
    cr_assert_not_null(strstr(h.snippet, "[river]"), "snippet: %s", h.snippet);
    double first = h.score;
    cr_assert_eq(srch_search_next(s, &h), 1);
    cr_assert_str_eq(h.id, "b");
    cr_assert(h.score < first);
    cr_assert_eq(srch_search_next(s, &h), 0);

    /* A phrase, literal mode, AND as the default operator, no snippets. */
    OK(srch_search_run(s, "\"stone bridge\"", NULL), srch_search_errmsg(s));
    cr_assert_eq(srch_search_hit_count(s), 1);
    o.literal = 1;
    OK(srch_search_run(s, "\"stone fruit\" AND", &o), srch_search_errmsg(s));
    cr_assert_eq(srch_search_hit_count(s), 2, "literal: any of stone, fruit, and");
    o.literal = 0;
    o.default_and = 1;
    o.snippets = 0;
    OK(srch_search_run(s, "river stone fruit", &o), srch_search_errmsg(s));
    cr_assert_eq(srch_search_hit_count(s), 1);
    cr_assert_eq(srch_search_next(s, &h), 1);
    cr_assert_str_eq(h.id, "b");
    cr_assert_null(h.snippet);
    OK(srch_search_run(s, "zebra", NULL), srch_search_errmsg(s));
    cr_assert_eq(srch_search_hit_count(s), 0);
    cr_assert_eq(srch_search_next(s, &h), 0);
    srch_search_free(s);
    srch_index_close(ix);
}

Test(libsearch, replace_delete_and_reopen)
{
    commit_docs(g_dir, three, 3, NULL);
    srch_index *old;
    OK(srch_index_open(&old, g_dir), srch_index_errmsg(old));

    srch_writer *w;
    OK(srch_writer_open(&w, g_dir), srch_writer_errmsg(w));
    OK(srch_writer_add(w, "b", "Markets", "Now the market sells only bread."),
       srch_writer_errmsg(w));
    OK(srch_writer_add(w, "a", three[0][1], three[0][2]), srch_writer_errmsg(w)); /* unchanged */
    OK(srch_writer_delete(w, "c"), srch_writer_errmsg(w));
    OK(srch_writer_delete(w, "no-such-id"), srch_writer_errmsg(w));
    cr_assert_eq(srch_writer_pending(w), 4);
    srch_commit_info info;
    OK(srch_writer_commit(w, &info), srch_writer_errmsg(w));
    cr_assert_eq(srch_writer_pending(w), 0);
    cr_assert_eq(info.added, 0);
    cr_assert_eq(info.replaced, 1);
    cr_assert_eq(info.unchanged, 1);
    cr_assert_eq(info.deleted, 1);
    cr_assert_eq(info.not_found, 1);
    /* Generation 2 holds the changes; the merge policy then rewrites the
     * segment that lost two of its three documents as generation 3. */
    cr_assert_eq(info.generation, 3);
    cr_assert_eq(info.documents, 2);
    /* Nothing pending: nothing committed. */
    OK(srch_writer_commit(w, &info), srch_writer_errmsg(w));
    cr_assert_eq(info.committed, 0);
    cr_assert_eq(info.generation, 3);
    srch_writer_close(w);

    /* The open index still sees generation 1. */
    char ids[256];
    hit_ids(old, "song", ids, sizeof ids);
    cr_assert_str_eq(ids, "c");
    hit_ids(old, "bread", ids, sizeof ids);
    cr_assert_str_eq(ids, "");

    srch_index *cur;
    OK(srch_index_reopen(old, &cur), srch_index_errmsg(old));
    cr_assert_not_null(cur);
    cr_assert_eq(srch_index_generation(cur), 3);
    cr_assert_eq(srch_index_documents(cur), 2);
    hit_ids(cur, "song", ids, sizeof ids);
    cr_assert_str_eq(ids, "");
    hit_ids(cur, "bread", ids, sizeof ids);
    cr_assert_str_eq(ids, "b");
    hit_ids(cur, "river", ids, sizeof ids);
    cr_assert_str_eq(ids, "a", "b's new text has no river");
    srch_index *again;
    OK(srch_index_reopen(cur, &again), srch_index_errmsg(cur));
    cr_assert_null(again, "already current");
    srch_index_close(old);
    srch_index_close(cur);
}

Test(libsearch, last_operation_per_id_wins)
{
    commit_docs(g_dir, three, 1, NULL);
    srch_writer *w;
    OK(srch_writer_open(&w, g_dir), srch_writer_errmsg(w));
    OK(srch_writer_add(w, "x", "", "first copy of x, wolf"), srch_writer_errmsg(w));
    OK(srch_writer_delete(w, "x"), srch_writer_errmsg(w));
    OK(srch_writer_add(w, "y", "", "first copy of y, owl"), srch_writer_errmsg(w));
    OK(srch_writer_add(w, "y", "", "second copy of y, heron"), srch_writer_errmsg(w));
    OK(srch_writer_delete(w, "a"), srch_writer_errmsg(w));
    OK(srch_writer_add(w, "a", "Back", "a comes back as a lynx"), srch_writer_errmsg(w));
    srch_commit_info info;
    OK(srch_writer_commit(w, &info), srch_writer_errmsg(w));
    srch_writer_close(w);
    cr_assert_eq(info.documents, 2, "a and y");
    cr_assert_eq(info.not_found, 1, "x was never in the index");

    srch_index *ix;
    OK(srch_index_open(&ix, g_dir), srch_index_errmsg(ix));
    char ids[256];
    hit_ids(ix, "wolf OR owl", ids, sizeof ids);
    cr_assert_str_eq(ids, "");
    hit_ids(ix, "heron", ids, sizeof ids);
    cr_assert_str_eq(ids, "y");
    hit_ids(ix, "lynx", ids, sizeof ids);
    cr_assert_str_eq(ids, "a");
    hit_ids(ix, "bridge", ids, sizeof ids);
    cr_assert_str_eq(ids, "");
    srch_index_close(ix);
}

Test(libsearch, one_writer_at_a_time)
{
    srch_writer *w1, *w2;
    OK(srch_writer_open(&w1, g_dir), srch_writer_errmsg(w1));
    int rc = srch_writer_open(&w2, g_dir);
    cr_assert_eq(rc, SRCH_LOCKED, "second writer: %s", srch_status_name(rc));
    cr_assert_not_null(strstr(srch_writer_errmsg(w2), "being written by pid"), "%s",
                       srch_writer_errmsg(w2));
    cr_assert_eq(srch_writer_add(w2, "a", "t", "x"), SRCH_INVALID, "a failed writer refuses work");
    srch_writer_close(w2);
    /* The lock holds across processes: bin/index is refused too, naming us. */
    run_result r;
    e2e_run(&r, 60.0, "index", "-q", "-i", g_dir, "--delete", "a", NULL);
    char holder[64];
    snprintf(holder, sizeof holder, "being written by pid %ld", (long)getpid());
    cr_assert_eq(r.exit_code, 3, "index while a library writer is open: %s\n%s", run_describe(&r),
                 r.err);
    cr_assert_not_null(strstr(r.err, holder), "%s", r.err);
    run_result_free(&r);
    OK(srch_writer_add(w1, "a", "t", "text"), srch_writer_errmsg(w1));
    OK(srch_writer_commit(w1, NULL), srch_writer_errmsg(w1));
    srch_writer_close(w1);
    OK(srch_writer_open(&w2, g_dir), srch_writer_errmsg(w2));
    srch_writer_close(w2);
    e2e_run(&r, 60.0, "index", "-q", "-i", g_dir, "--delete", "a", NULL);
    cr_assert_eq(r.exit_code, 0, "index after the writer closed: %s\n%s", run_describe(&r), r.err);
    run_result_free(&r);
}

Test(libsearch, uncommitted_new_directory_is_removed)
{
    srch_writer *w;
    OK(srch_writer_open(&w, g_dir), srch_writer_errmsg(w));
    cr_assert(fs_is_dir(g_dir));
    OK(srch_writer_add(w, "a", "t", "never committed"), srch_writer_errmsg(w));
    srch_writer_close(w);
    cr_assert(!fs_exists(g_dir), "the writer created it and committed nothing");
}

Test(libsearch, bad_arguments)
{
    cr_assert_eq(srch_index_open(NULL, g_dir), SRCH_INVALID);
    srch_index *ix;
    cr_assert_eq(srch_index_open(&ix, NULL), SRCH_INVALID);
    cr_assert_neq(srch_index_errmsg(ix)[0], 0);
    cr_assert_eq(srch_index_generation(ix), 0);
    srch_search *s = (srch_search *)1;
    cr_assert_eq(srch_search_new(&s, ix), SRCH_INVALID, "a failed index cannot be searched");
    cr_assert_null(s);
    srch_index_close(ix);

    srch_writer *w;
    cr_assert_eq(srch_writer_open(&w, ""), SRCH_INVALID);
    srch_writer_close(w);
    OK(srch_writer_open(&w, g_dir), srch_writer_errmsg(w));
    cr_assert_eq(srch_writer_add(w, NULL, "t", "x"), SRCH_INVALID);
    cr_assert_eq(srch_writer_add(w, "", "t", "x"), SRCH_INVALID);
    cr_assert_eq(srch_writer_add(w, "e", "", NULL), SRCH_INVALID);
    cr_assert_not_null(strstr(srch_writer_errmsg(w), "no title and no text"), "%s",
                       srch_writer_errmsg(w));
    cr_assert_eq(srch_writer_add(w, "u", "t", "caf\xe9"), SRCH_INVALID);
    cr_assert_not_null(strstr(srch_writer_errmsg(w), "UTF-8"), "%s", srch_writer_errmsg(w));
    cr_assert_eq(srch_writer_add(w, "\xff", "t", "x"), SRCH_INVALID);
    cr_assert_eq(srch_writer_delete(w, NULL), SRCH_INVALID);
    cr_assert_eq(srch_writer_pending(w), 0, "rejected documents are not queued");
    OK(srch_writer_add(w, "ok", "Title", "caf\xc3\xa9 text"), srch_writer_errmsg(w));
    OK(srch_writer_commit(w, NULL), srch_writer_errmsg(w));
    srch_writer_close(w);

    OK(srch_index_open(&ix, g_dir), srch_index_errmsg(ix));
    OK(srch_search_new(&s, ix), "");
    cr_assert_eq(srch_search_run(s, NULL, NULL), SRCH_INVALID);
    srch_options o;
    srch_options_init(&o);
    o.k = 0;
    cr_assert_eq(srch_search_run(s, "cafe", &o), SRCH_INVALID);
    o.k = 100001;
    cr_assert_eq(srch_search_run(s, "cafe", &o), SRCH_INVALID);
    srch_options_init(&o);
    o.b = 1.5;
    cr_assert_eq(srch_search_run(s, "cafe", &o), SRCH_INVALID);
    srch_options_init(&o);
    o.k1 = NAN;
    cr_assert_eq(srch_search_run(s, "cafe", &o), SRCH_INVALID);
    cr_assert_not_null(strstr(srch_search_errmsg(s), "k1"), "%s", srch_search_errmsg(s));
    cr_assert_eq(srch_search_run(s, "cafe AND", NULL), SRCH_SYNTAX);
    cr_assert_not_null(strstr(srch_search_errmsg(s), "column 6"), "%s", srch_search_errmsg(s));
    cr_assert_eq(srch_search_hit_count(s), 0, "a failed query leaves no hits");
    OK(srch_search_run(s, "cafe", NULL), srch_search_errmsg(s));
    cr_assert_eq(srch_search_hit_count(s), 1, "the accent is folded");
    srch_search_free(s);
    srch_index_close(ix);
    cr_assert_str_eq(srch_status_name(SRCH_CORRUPT), "corrupt index");
    cr_assert_eq(strchr(srch_version(), '.') != NULL, 1);
}

Test(libsearch, missing_index)
{
    srch_index *ix;
    cr_assert_eq(srch_index_open(&ix, g_dir), SRCH_NOTFOUND);
    cr_assert_not_null(strstr(srch_index_errmsg(ix), "no index at"), "%s", srch_index_errmsg(ix));
    cr_assert_eq(srch_index_documents(ix), 0);
    srch_index_close(ix);
}

Test(libsearch, foreign_directory_refused)
{
    char path[4096];
    fs_join(path, sizeof path, g_tmp, "notes.txt");
    cr_assert_eq(fs_write_str(path, "not an index\n"), 0);
    srch_writer *w;
    cr_assert_eq(srch_writer_open(&w, g_tmp), SRCH_INVALID);
    cr_assert_not_null(strstr(srch_writer_errmsg(w), "not an index directory"), "%s",
                       srch_writer_errmsg(w));
    srch_writer_close(w);
}

/* The path of the first file in dir whose name ends with suffix. */
static void find_file(const char *dir, const char *suffix, char *out, size_t cap)
{
    DIR *d = opendir(dir);
    cr_assert_not_null(d);
    struct dirent *e;
    out[0] = 0;
    while ((e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name), m = strlen(suffix);
        if (n > m && strcmp(e->d_name + n - m, suffix) == 0) {
            fs_join(out, cap, dir, e->d_name);
            break;
        }
    }
    closedir(d);
    cr_assert_neq(out[0], 0, "no *%s in %s", suffix, dir);
}

static void flip_byte(const char *path, size_t at_from_end)
{
    size_t len;
    char *data = fs_read_file(path, &len);
    cr_assert_not_null(data);
    cr_assert_gt(len, at_from_end);
    data[len - at_from_end] ^= 0x20;
    cr_assert_eq(fs_write_file(path, data, len), 0);
    free(data);
}

Test(libsearch, corrupted_files)
{
    commit_docs(g_dir, three, 3, NULL);
    char path[4096];
    find_file(g_dir, ".doc", path, sizeof path);
    flip_byte(path, 40);
    srch_index *ix;
    cr_assert_eq(srch_index_open(&ix, g_dir), SRCH_CORRUPT);
    const char *name = strrchr(path, '/') + 1;
    cr_assert_not_null(strstr(srch_index_errmsg(ix), name), "names %s: %s", name,
                       srch_index_errmsg(ix));
    srch_index_close(ix);

    fs_join(path, sizeof path, g_dir, "MANIFEST");
    flip_byte(path, 30);
    srch_writer *w;
    cr_assert_eq(srch_writer_open(&w, g_dir), SRCH_CORRUPT, "%s", srch_writer_errmsg(w));
    cr_assert_not_null(strstr(srch_writer_errmsg(w), "MANIFEST"), "%s", srch_writer_errmsg(w));
    srch_writer_close(w);
    /* The failed writer released the lock. */
    cr_assert_eq(fs_write_str(path, "not a manifest at all, just some text\n"), 0);
    cr_assert_eq(srch_writer_open(&w, g_dir), SRCH_FORMAT, "%s", srch_writer_errmsg(w));
    srch_writer_close(w);
    cr_assert_eq(srch_index_open(&ix, g_dir), SRCH_FORMAT);
    srch_index_close(ix);
}

/* ---- many searches over one index ---- */

#define THREADS 4
#define ROUNDS  20

static const char *const queries[] = {"river",         "stone OR song",  "\"the market\"",
                                      "-bridge river", "ancient cities", "bread"};
#define NQUERIES (sizeof queries / sizeof queries[0])

typedef struct worker {
    const srch_index *ix;
    char out[NQUERIES][512];
    int failed;
} worker;

static void run_queries(const srch_index *ix, char out[NQUERIES][512], int *failed)
{
    srch_search *s;
    if (srch_search_new(&s, ix) != SRCH_OK) {
        *failed = 1;
        return;
    }
    for (size_t q = 0; q < NQUERIES; q++) {
        out[q][0] = 0;
        if (srch_search_run(s, queries[q], NULL) != SRCH_OK) *failed = 1;
        srch_hit h;
        while (srch_search_next(s, &h) == 1) {
            size_t len = strlen(out[q]);
            snprintf(out[q] + len, 512 - len, "%s %.6f %s|", h.id, h.score, h.snippet);
        }
    }
    srch_search_free(s);
}

static void *worker_main(void *arg)
{
    worker *wk = arg;
    char out[NQUERIES][512];
    for (int r = 0; r < ROUNDS; r++) {
        run_queries(wk->ix, out, &wk->failed);
        if (r == 0)
            memcpy(wk->out, out, sizeof out);
        else if (memcmp(wk->out, out, sizeof out) != 0)
            wk->failed = 1;
    }
    return NULL;
}

Test(libsearch, searches_in_threads_share_one_index)
{
    static const char *const more[][3] = {
        {"d", "Bread", "The market sells bread, river fish and stone fruit."},
        {"e", "Cities", "Ancient cities by the river; the market square."},
    };
    commit_docs(g_dir, three, 3, NULL);
    commit_docs(g_dir, more, 2, NULL);
    srch_index *ix;
    OK(srch_index_open(&ix, g_dir), srch_index_errmsg(ix));
    char expected[NQUERIES][512];
    int failed = 0;
    run_queries(ix, expected, &failed);
    cr_assert_eq(failed, 0);
    cr_assert_neq(expected[0][0], 0);
    static worker wk[THREADS];
    pthread_t th[THREADS];
    for (int i = 0; i < THREADS; i++) {
        wk[i] = (worker){.ix = ix};
        cr_assert_eq(pthread_create(&th[i], NULL, worker_main, &wk[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(th[i], NULL);
        cr_assert_eq(wk[i].failed, 0, "thread %d", i);
        for (size_t q = 0; q < NQUERIES; q++)
            cr_assert_str_eq(wk[i].out[q], expected[q], "thread %d, query %s", i, queries[q]);
    }
    srch_index_close(ix);
}
