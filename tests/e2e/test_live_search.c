/*
 * test_live_search.c - searches running while bin/index updates the index
 * always see one complete generation, and a second writer on an existing
 * index is refused while the first one runs.
 *
 *   - A series of incremental runs (new documents, replacements, --delete,
 *     --sync, one --optimize; -m 4 and --merge-factor 2, so merges follow
 *     most commits) goes over an index of synthetic documents (docgen.h),
 *     every one of which contains DOCGEN_COMMON_WORD.  While each run is
 *     going, `search` is run in a loop, alternately:
 *       * `--json --no-snippets -k 100000 <word>`: every live document,
 *         with its id and title (which holds its version).  The answer must
 *         be exactly the documents before the run or exactly those after
 *         it: no id twice (a replaced document's old and new copies), none
 *         missing, no deleted one, no stale version;
 *       * the text format with -k 1, whose first line "N matching
 *         documents of M" must have M = the document count before or after
 *         the run (N, a lower bound when the searcher prunes, must be
 *         between 1 and M).
 *     Every search exits 0 (never an error: a reader racing a commit and
 *     the removal of the old files must retry, not fail).  While a search
 *     process runs, the test also reads the whole index in-process
 *     (index_open, segment_document) in a loop, with the same
 *     requirement.  After each run the index holds the planned documents.
 *   - Two writers on an existing index: the second one, started once the
 *     first holds the lock, and again once the first has committed and is
 *     merging, exits 3 with "being written by pid <first>" and commits
 *     nothing; the first one's documents are what the index holds.
 *
 * Environment: SE_E2E_SCALE (default 1) scales the document counts and the
 * number of runs.
 */
#include <criterion/criterion.h>

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tests/e2e/expect.h"
#include "tests/support/docgen.h"
#include "tests/support/e2e.h"
#include "tests/support/fsutil.h"
#include "tests/support/run.h"

#define TIMEOUT   120.0
#define BASE_DOCS 800
#define RUNS      12

/* ------------------------------------------------------------- fixture */

static char *g_tmp;
static char g_index[4096];

static void setup(void)
{
    g_tmp = fs_mkdtemp_fast("se_e2e_live_");
    cr_assert_not_null(g_tmp, "mkdtemp failed");
    cr_assert_eq(fs_join(g_index, sizeof g_index, g_tmp, "index"), 0);
}

static void teardown(void)
{
    if (g_tmp) fs_rm_rf(g_tmp);
    free(g_tmp);
    g_tmp = NULL;
}

TestSuite(live_search, .init = setup, .fini = teardown, .timeout = 300);

/* ------------------------------------------------------------- helpers */

static double scale(void)
{
    const char *s = getenv("SE_E2E_SCALE");
    double v = s && *s ? strtod(s, NULL) : 1.0;
    return v < 0.05 ? 0.05 : v > 100 ? 100 : v;
}

static uint32_t scaled(uint32_t n)
{
    double v = n * scale();
    return v < 1 ? 1 : (uint32_t)v;
}

static uint64_t g_rng = 0x11FE5EA5C4ull;

static uint32_t rng_below(uint32_t n)
{
    uint64_t z = (g_rng += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return n ? (uint32_t)((z ^ (z >> 31)) % n) : 0;
}

/* The ids of s that are live (or absent), shuffled. */
static uint32_t *ids_where(const docset *s, int live, uint32_t *n)
{
    uint32_t *v = malloc((size_t)s->nids * sizeof *v);
    cr_assert_not_null(v);
    *n = 0;
    for (uint32_t i = 0; i < s->nids; i++)
        if ((s->version[i] != 0) == (live != 0)) v[(*n)++] = i;
    for (uint32_t i = *n; i > 1; i--) {
        uint32_t j = rng_below(i), t = v[i - 1];
        v[i - 1] = v[j];
        v[j] = t;
    }
    return v;
}

static void expect_state(const char *dir, const docset *want, const char *what)
{
    docset got;
    cr_assert_eq(docset_init(&got, want->nids), 0);
    char why[512];
    cr_assert_eq(docgen_read_index(dir, &got, NULL, why, sizeof why), 0, "%s: %s", what, why);
    char diff[1024];
    docset_diff(&got, want, diff, sizeof diff);
    cr_assert(docset_equal(&got, want), "%s: the index does not hold the expected documents: %s",
              what, diff);
    docset_free(&got);
}

/* A planned run: its arguments after "-q -i DIR" and the documents after it. */
typedef struct plan {
    const char *argv[4096];
    size_t argc;
    char *owned[4096]; /* strings to free */
    size_t nowned;
    char input[4096];
    docset after;
    const char *label;
} plan;

static void plan_arg(plan *p, const char *a)
{
    cr_assert_lt(p->argc, sizeof p->argv / sizeof p->argv[0]);
    p->argv[p->argc++] = a;
}

static void free_plan(plan *p)
{
    for (size_t i = 0; i < p->nowned; i++) free(p->owned[i]);
    docset_free(&p->after);
}

/* Kinds of run, in turn: add and replace; delete; sync; replace many and
 * optimize. */
static void make_plan(plan *p, const docset *cur, uint32_t *lastv, int step, int kind)
{
    memset(p, 0, sizeof *p);
    cr_assert_eq(docset_copy(&p->after, cur), 0);
    plan_arg(p, "-m");
    plan_arg(p, "4");
    plan_arg(p, "--merge-factor");
    plan_arg(p, "2");
    uint32_t nlive, nabsent;
    uint32_t *live = ids_where(cur, 1, &nlive), *absent = ids_where(cur, 0, &nabsent);
    snprintf(p->input, sizeof p->input, "%s/run-%02d.jsonl", g_tmp, step);
    uint32_t nnew = 0, nrep = 0, ndrop = 0, keep = 0;
    switch (kind) {
    case 0:
        p->label = "add and replace";
        nnew = scaled(150);
        nrep = scaled(150);
        break;
    case 1:
        p->label = "--delete";
        ndrop = scaled(80);
        break;
    case 2:
        p->label = "--sync";
        plan_arg(p, "--sync");
        nnew = scaled(50);
        nrep = scaled(50);
        ndrop = scaled(100);
        keep = 1;
        break;
    default:
        p->label = "replace and --optimize";
        plan_arg(p, "--optimize");
        nrep = scaled(300);
        break;
    }
    if (nnew > nabsent) nnew = nabsent;
    cr_assert_lt(nrep + ndrop, nlive, "too few documents left");
    if (kind == 1) {
        plan_arg(p, "--delete");
        for (uint32_t i = 0; i < ndrop; i++) {
            docgen_doc d;
            cr_assert_eq(docgen_make(&d, live[i], 1), 0);
            p->owned[p->nowned] = strdup(d.id);
            plan_arg(p, p->owned[p->nowned++]);
            docgen_doc_free(&d);
            p->after.version[live[i]] = 0;
        }
    } else {
        FILE *f = fopen(p->input, "w");
        cr_assert_not_null(f);
        for (uint32_t i = 0; i < nnew; i++) {
            uint32_t id = absent[i];
            p->after.version[id] = ++lastv[id];
            cr_assert_eq(docgen_write_jsonl(f, id, lastv[id]), 0);
        }
        for (uint32_t i = 0; i < nrep; i++) {
            uint32_t id = live[i];
            p->after.version[id] = ++lastv[id];
            cr_assert_eq(docgen_write_jsonl(f, id, lastv[id]), 0);
        }
        /* --sync: the rest is given unchanged, but for the last ndrop. */
        for (uint32_t i = nrep; keep && i < nlive - ndrop; i++)
            cr_assert_eq(docgen_write_jsonl(f, live[i], cur->version[live[i]]), 0);
        for (uint32_t i = nlive - ndrop; keep && i < nlive; i++) p->after.version[live[i]] = 0;
        cr_assert_eq(fclose(f), 0);
        plan_arg(p, p->input);
    }
    free(live);
    free(absent);
}

static void start_plan(run_child **c, const char *dir, const plan *p)
{
    const char **args = calloc(p->argc + 4, sizeof *args);
    cr_assert_not_null(args);
    size_t n = 0;
    args[n++] = "-q";
    args[n++] = "-i";
    args[n++] = dir;
    for (size_t i = 0; i < p->argc; i++) args[n++] = p->argv[i];
    cr_assert_eq(e2e_start(c, "index", args, n), 0, "cannot start %s/index: %s", e2e_bin_dir(),
                 strerror(errno));
    free(args);
}

static void build_base(docset *cur, uint32_t *lastv, uint32_t n)
{
    char path[4096];
    cr_assert_eq(fs_join(path, sizeof path, g_tmp, "base.jsonl"), 0);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    for (uint32_t i = 0; i < n; i++) {
        cur->version[i] = lastv[i] = 1;
        cr_assert_eq(docgen_write_jsonl(f, i, 1), 0);
    }
    cr_assert_eq(fclose(f), 0);
    run_result r;
    e2e_run(&r, TIMEOUT, "index", "-q", "-i", g_index, "-m", "4", "--merge-factor", "2", path,
            NULL);
    EXPECT_EXIT(&r, 0, "the first build");
    run_result_free(&r);
}

/* ------------------------------------------------------------- searching */

/* Start a search: `full` for --json over every document, else the text
 * format with -k 1 (a count only). */
static void search_start(run_child **c, int full, uint32_t nids)
{
    char k[32];
    snprintf(k, sizeof k, "%u", nids);
    const char *json[] = {"-i", g_index, "--json", "--no-snippets", "-k", k, DOCGEN_COMMON_WORD};
    const char *count[] = {"-i", g_index, "-k", "1", "--no-snippets", DOCGEN_COMMON_WORD};
    int rc = full ? e2e_start(c, "search", json, 7) : e2e_start(c, "search", count, 6);
    cr_assert_eq(rc, 0, "cannot start %s/search: %s", e2e_bin_dir(), strerror(errno));
}

/* The documents a --json search returned, as a docset. */
static void parse_full(const run_result *r, docset *seen, const char *what)
{
    EXPECT_EXIT(r, 0, what);
    e2e_hits h;
    char why[512];
    cr_assert_eq(e2e_parse_hits(r->out, 0, &h, why, sizeof why), 0, "%s: %s", what, why);
    memset(seen->version, 0, (size_t)seen->nids * sizeof *seen->version);
    for (size_t i = 0; i < h.n; i++) {
        uint32_t n;
        unsigned tn, tv;
        cr_assert_eq(docgen_parse_id(h.hits[i].id, strlen(h.hits[i].id), &n), 0,
                     "%s: unexpected id %s", what, h.hits[i].id);
        cr_assert_lt(n, seen->nids);
        cr_assert(sscanf(h.hits[i].title, "Document %u version %u", &tn, &tv) == 2 && tn == n &&
                      tv > 0,
                  "%s: %s has the title \"%s\"", what, h.hits[i].id, h.hits[i].title);
        cr_assert_eq(seen->version[n], 0,
                     "%s: %s returned twice (versions %u and %u): a replaced document's old and "
                     "new copies seen together",
                     what, h.hits[i].id, seen->version[n], tv);
        seen->version[n] = tv;
    }
    e2e_hits_free(&h);
}

/* The text format's count line: N matching documents of M.  M is the
 * generation's document count; N is exact only when k covers every match
 * (below that the searcher may prune and count a lower bound), so -k 1
 * keeps this search cheap and only M is compared exactly. */
static void parse_count(const run_result *r, unsigned long *matches, unsigned long *total,
                        const char *what)
{
    EXPECT_EXIT(r, 0, what);
    /* A pruned count may be printed as "at least N ...". */
    const char *line = strncmp(r->out, "at least ", 9) == 0 ? r->out + 9 : r->out;
    cr_assert(sscanf(line, "%lu matching document%*[s] of %lu", matches, total) == 2 ||
                  sscanf(line, "%lu matching document of %lu", matches, total) == 2,
              "%s: no count line:\n%.300s", what, r->out);
}

/* seen is one of the two generations: returns 0 for before, 1 for after. */
static int which_generation(const docset *seen, const docset *before, const docset *after,
                            const char *what)
{
    int b = docset_equal(seen, before), a = docset_equal(seen, after);
    if (!b && !a) {
        char d1[1024], d2[1024];
        docset_diff(seen, before, d1, sizeof d1);
        docset_diff(seen, after, d2, sizeof d2);
        cr_assert_fail("%s: the answer is neither generation\n vs before: %s\n vs after: %s", what,
                       d1, d2);
    }
    return a;
}

Test(live_search, every_answer_is_one_complete_generation)
{
    uint32_t base = scaled(BASE_DOCS), pool = base * 2;
    int runs = (int)fmax(4, round(RUNS * scale()));
    docset cur, seen;
    cr_assert_eq(docset_init(&cur, pool), 0);
    cr_assert_eq(docset_init(&seen, pool), 0);
    uint32_t *lastv = calloc(pool, sizeof *lastv);
    cr_assert_not_null(lastv);
    build_base(&cur, lastv, base);

    unsigned long searches = 0, full[2] = {0}, counted = 0, reads[2] = {0};
    for (int step = 0; step < runs; step++) {
        plan p;
        make_plan(&p, &cur, lastv, step, step % 4);
        uint32_t nbefore = docset_count(&cur), nafter = docset_count(&p.after);
        run_child *w;
        start_plan(&w, g_index, &p);
        char what[128];
        /* Keep one search process going until the writer is done (and one
         * more after), and meanwhile read the index in-process, as a
         * searcher opens it, again and again. */
        for (int i = 0, done = 0; !done; i++) {
            done = run_child_done(w);
            snprintf(what, sizeof what, "run %d (%s), search %d", step, p.label, i);
            /* A full answer costs a stored-document fetch per hit, so most
             * searches only count; which ones are full shifts from run to
             * run, so that full answers come early and late in a run. */
            int is_full = (i + step) % 3 == 0;
            run_child *s;
            search_start(&s, is_full, pool);
            do {
                char why[512];
                cr_assert_eq(docgen_read_index(g_index, &seen, NULL, why, sizeof why), 0,
                             "%s: reading the index in-process: %s", what, why);
                reads[which_generation(&seen, &cur, &p.after, what)]++;
            } while (!run_child_done(s));
            run_result r;
            run_wait(s, TIMEOUT, &r);
            if (is_full) {
                parse_full(&r, &seen, what);
                full[which_generation(&seen, &cur, &p.after, what)]++;
            } else {
                unsigned long matches, total;
                parse_count(&r, &matches, &total, what);
                cr_assert(matches >= 1 && matches <= total, "%s: %lu matching documents of %lu",
                          what, matches, total);
                cr_assert(total == nbefore || total == nafter,
                          "%s: %lu documents; the generations have %u and %u", what, total, nbefore,
                          nafter);
                counted++;
            }
            run_result_free(&r);
            searches++;
        }
        run_result r;
        run_wait(w, TIMEOUT, &r);
        snprintf(what, sizeof what, "run %d (%s)", step, p.label);
        EXPECT_EXIT(&r, 0, what);
        run_result_free(&r);
        expect_state(g_index, &p.after, what);
        docset_free(&cur);
        cr_assert_eq(docset_copy(&cur, &p.after), 0);
        free_plan(&p);
    }
    run_result r;
    e2e_run(&r, TIMEOUT, "index", "--verify", "-i", g_index, NULL);
    EXPECT_EXIT(&r, 0, "--verify at the end");
    run_result_free(&r);
    fprintf(stderr,
            "live_search: %d runs, %lu searches during them: %lu full answers saw the "
            "generation before the run, %lu the one after; %lu counts checked; in-process "
            "reads: %lu before, %lu after\n",
            runs, searches, full[0], full[1], counted, reads[0], reads[1]);
    docset_free(&cur);
    docset_free(&seen);
    free(lastv);
}

/* ------------------------------------------------------------- two writers */

/* The pid in DIR/LOCK, or 0. */
static long lock_pid(const char *dir)
{
    char path[4096];
    if (fs_join(path, sizeof path, dir, "LOCK") != 0) return 0;
    char *s = fs_read_file(path, NULL);
    long pid = s ? strtol(s, NULL, 10) : 0;
    free(s);
    return pid;
}

static ino_t manifest_inode(const char *dir)
{
    char path[4096];
    struct stat st;
    if (fs_join(path, sizeof path, dir, "MANIFEST") != 0 || stat(path, &st) != 0) return 0;
    return st.st_ino;
}

Test(live_search, second_writer_on_an_existing_index_is_refused)
{
    uint32_t base = scaled(BASE_DOCS), pool = base * 2;
    docset cur;
    cr_assert_eq(docset_init(&cur, pool), 0);
    uint32_t *lastv = calloc(pool, sizeof *lastv);
    cr_assert_not_null(lastv);
    build_base(&cur, lastv, base);

    /* Round 0: the second writer comes once the first holds the lock;
     * round 1: once the first has committed and is merging (--optimize of
     * the whole index). */
    for (int round = 0; round < 2; round++) {
        plan p;
        make_plan(&p, &cur, lastv, 100 + round, 3);
        /* The id the second writer tries to delete stays live in p. */
        uint32_t victim = 0;
        while (!p.after.version[victim]) victim++;
        docgen_doc d;
        cr_assert_eq(docgen_make(&d, victim, 1), 0);
        ino_t ino = manifest_inode(g_index);
        run_child *a;
        start_plan(&a, g_index, &p);
        pid_t apid = run_child_pid(a);
        struct timespec nap = {0, 200000};
        for (int i = 0; i < 1000000; i++) {
            if (run_child_done(a)) break;
            if (lock_pid(g_index) == (long)apid && (round == 0 || manifest_inode(g_index) != ino))
                break;
            nanosleep(&nap, NULL);
        }
        run_result rb, ra;
        e2e_run(&rb, TIMEOUT, "index", "-q", "-i", g_index, "--delete", d.id, NULL);
        int a_still = !run_child_done(a);
        run_wait(a, TIMEOUT, &ra);
        const char *what = round == 0 ? "a writer while another holds the lock"
                                      : "a writer while another is merging";
        EXPECT_EXIT(&ra, 0, "the first writer");
        if (rb.exit_code == 0) {
            /* Only acceptable if the first had ended before the second took
             * the lock.  The second may start slowly (under valgrind or
             * AddressSanitizer: an asan CI run saw the first end while the
             * second was starting), so what can be checked is that the
             * first was no longer running when the second had finished. */
            cr_assert(!a_still, "%s: both writers succeeded:\n%s", what, rb.err);
            /* A note, not cr_log_warn: Criterion exits non-zero after a
             * warning, and this is a legitimate interleaving. */
            fprintf(stderr, "live_search: %s: the first writer finished too early; not checked\n",
                    what);
            p.after.version[victim] = 0;
        } else {
            char want[64];
            snprintf(want, sizeof want, "being written by pid %ld", (long)apid);
            EXPECT_EXIT(&rb, 3, what);
            EXPECT_STDERR_HAS(&rb, want, what);
            EXPECT_STDERR_HAS(&rb, "nothing was committed", what);
            if (!a_still) cr_log_info("%s: the first writer ended right after", what);
        }
        run_result_free(&ra);
        run_result_free(&rb);
        expect_state(g_index, &p.after, what);
        docgen_doc_free(&d);
        docset_free(&cur);
        cr_assert_eq(docset_copy(&cur, &p.after), 0);
        free_plan(&p);
    }
    docset_free(&cur);
    free(lastv);
}
