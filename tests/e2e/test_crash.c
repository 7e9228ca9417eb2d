/*
 * test_crash.c - bin/index killed with SIGKILL at random moments never
 * leaves anything but a complete generation.
 *
 * One index is updated by a sequence of trials.  Each trial plans a run
 * from the current documents (splitmix64, fixed seed): new ids, replaced
 * ids with new text, unchanged ones, sometimes an id twice (the later copy
 * wins), sometimes --sync (the ids left out disappear) or --rebuild (the
 * same input, the index rewritten from it), sometimes a --delete run;
 * sometimes --optimize; --threads 1, 2 or 3 in turn; always -m 4 (the smallest budget)
 * and --merge-factor 2 or 3, so the merge policy rewrites segments after
 * most commits.  The test keeps the version of every id (docgen.h), so it
 * knows the exact documents before the run and after it.
 *
 * A trial first runs the same command uninterrupted on a copy of the index
 * and times it, noting when MANIFEST is first replaced (the run's own
 * commit; later replacements are merges).  The copy must then hold exactly
 * the planned documents, which checks the model against the engine.  Then
 * the run is started on the real index and its process group killed with
 * SIGKILL at a moment drawn uniformly over the measured duration, or, for
 * some trials, in the first 2 ms (before or while it takes the lock) or at
 * a random delay after the test sees the run's commit, up to 90% of the
 * measured time from commit to end (while merging, or removing the files
 * the commit made obsolete).  After the kill:
 *   - `index --verify` exits 0;
 *   - the live documents, read in-process (index_open, segment_document),
 *     are exactly those before the run or exactly those after it (every
 *     id, title and text), never a mixture, a duplicate or a lost one;
 *     and the manifest generation agrees (unchanged iff the documents
 *     are);
 *   - `search` counts every document;
 * and the next trial starts from whichever state was found, so later
 * writers also have to clean up after killed ones.
 *
 * Finally one uninterrupted run, after which the directory holds only
 * MANIFEST, LOCK and the files the manifest references (five per segment
 * and the deletions files it names).  The test prints how many kills
 * landed before the commit, after it with merges still due, after the
 * merges, or after the run had already finished.
 *
 * A second test kills the very first build of an index: no MANIFEST (and
 * "no index" from search and --verify) or the complete index, and the build
 * run again succeeds without leaving debris.
 *
 * Environment: SE_E2E_SCALE (default 1) scales the document counts and the
 * number of trials (24 at scale 1); SE_CRASH_TRIALS sets the trial count;
 * SE_CRASH_SEED the seed.
 */
#include <criterion/criterion.h>

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/manifest.h"
#include "common/segment.h"
#include "indexer/merge_policy.h"
#include "tests/e2e/expect.h"
#include "tests/support/docgen.h"
#include "tests/support/e2e.h"
#include "tests/support/fsutil.h"
#include "tests/support/ixfiles.h"
#include "tests/support/run.h"

#define TIMEOUT       120.0
#define BASE_DOCS     1200
#define DEFAULT_SEED  0xC4A5E5EEDull
#define DEFAULT_TRIAL 24

/* ------------------------------------------------------------- fixture */

static char *g_tmp;
static char g_index[4096], g_scratch[4096];

static void setup(void)
{
    g_tmp = fs_mkdtemp_fast("se_e2e_crash_");
    cr_assert_not_null(g_tmp, "mkdtemp failed");
    cr_assert_eq(fs_join(g_index, sizeof g_index, g_tmp, "index"), 0);
    cr_assert_eq(fs_join(g_scratch, sizeof g_scratch, g_tmp, "scratch"), 0);
}

static void teardown(void)
{
    if (g_tmp) fs_rm_rf(g_tmp);
    free(g_tmp);
    g_tmp = NULL;
}

TestSuite(crash, .init = setup, .fini = teardown, .timeout = 600);

/* ------------------------------------------------------------- helpers */

static double env_double(const char *name, double fallback, double lo, double hi)
{
    const char *s = getenv(name);
    char *end;
    double v = s && *s ? strtod(s, &end) : fallback;
    if (s && *s && *end) v = fallback;
    return v < lo ? lo : v > hi ? hi : v;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_s(double s)
{
    if (s <= 0) return;
    struct timespec ts = {(time_t)s, (long)((s - floor(s)) * 1e9)};
    nanosleep(&ts, NULL);
}

typedef struct rng {
    uint64_t s;
} rng;

static uint64_t rng_next(rng *r)
{
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static uint32_t rng_below(rng *r, uint32_t n)
{
    return n ? (uint32_t)(rng_next(r) % n) : 0;
}

static double rng_unit(rng *r)
{
    return (double)(rng_next(r) >> 11) / 9007199254740992.0;
}

/* A count in [lo, hi] scaled by SE_E2E_SCALE, at least 1. */
static uint32_t scaled(rng *r, double scale, uint32_t lo, uint32_t hi)
{
    double v = (lo + rng_below(r, hi - lo + 1)) * scale;
    return v < 1 ? 1 : (uint32_t)v;
}

/* Ids with (live != 0) or without (live == 0) a document, shuffled. */
static uint32_t *pick_ids(const docset *s, int live, rng *r, uint32_t *n)
{
    uint32_t *v = malloc((size_t)s->nids * sizeof *v);
    cr_assert_not_null(v);
    *n = 0;
    for (uint32_t i = 0; i < s->nids; i++)
        if ((s->version[i] != 0) == (live != 0)) v[(*n)++] = i;
    for (uint32_t i = *n; i > 1; i--) {
        uint32_t j = rng_below(r, i);
        uint32_t t = v[i - 1];
        v[i - 1] = v[j];
        v[j] = t;
    }
    return v;
}

static void read_state(const char *dir, docset *s, uint64_t *gen)
{
    char why[512];
    cr_assert_eq(docgen_read_index(dir, s, gen, why, sizeof why), 0, "reading %s: %s", dir, why);
}

static void expect_verify_ok(const char *dir, const char *what)
{
    run_result r;
    e2e_run(&r, TIMEOUT, "index", "--verify", "-i", dir, NULL);
    EXPECT_EXIT(&r, 0, what);
    cr_assert(strstr(r.out, ": ok: ") != NULL, "%s: --verify printed:\n%s", what, r.out);
    run_result_free(&r);
}

/* `search` counts every live document: each holds DOCGEN_COMMON_WORD.  With
 * k below the number of matches the searcher may prune and count only a
 * lower bound, so k covers them all. */
static void expect_search_counts(const char *dir, uint32_t ndocs, const char *what)
{
    run_result r;
    e2e_run(&r, TIMEOUT, "search", "-i", dir, "-k", "100000", "--no-snippets", DOCGEN_COMMON_WORD,
            NULL);
    EXPECT_EXIT(&r, ndocs ? 0 : 1, what);
    char want[96];
    snprintf(want, sizeof want, "%u matching document%s of %u,", ndocs, ndocs == 1 ? "" : "s",
             ndocs);
    cr_assert(strncmp(r.out, want, strlen(want)) == 0, "%s: expected \"%s\", got:\n%.500s", what,
              want, r.out);
    run_result_free(&r);
}

/* The directory holds MANIFEST, LOCK and exactly the files the manifest
 * references. */
static void expect_no_orphans(const char *dir)
{
    char why[8192];
    cr_assert_eq(ixfiles_check_exact(dir, why, sizeof why), 0, "%s", why);
}

/* ------------------------------------------------------------- plans */

enum kind { K_UPDATE, K_SYNC, K_DELETE, K_REBUILD };
static const char *const kind_name[] = {"update", "sync", "delete", "rebuild"};

typedef struct plan {
    enum kind kind;
    int optimize;
    unsigned factor;
    unsigned threads; /* --threads: 1, 2 or 3 by trial, so workers get killed too */
    char input[4096];
    char **ids; /* --delete */
    uint32_t nids;
    docset after;
    uint32_t nnew, nreplaced, nunchanged, ndeleted, nduplicates;
} plan;

typedef struct entry {
    uint32_t n, v;
} entry;

static uint32_t *g_lastv; /* the last version written of every id */
static uint32_t g_pool;   /* ids 0 .. g_pool-1 */

static void write_entries(const char *path, const entry *e, size_t n)
{
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f, "cannot write %s", path);
    for (size_t i = 0; i < n; i++)
        cr_assert_eq(docgen_write_jsonl(f, e[i].n, e[i].v), 0, "writing %s", path);
    cr_assert_eq(fclose(f), 0, "writing %s", path);
}

/* A run from `cur`: kind, options, input and the documents after it.  With
 * `force_update` the run is a plain update (the final run). */
static void make_plan(plan *p, const docset *cur, rng *r, double scale, int trial, int force_update)
{
    memset(p, 0, sizeof *p);
    cr_assert_eq(docset_copy(&p->after, cur), 0);
    uint32_t r100 = rng_below(r, 100);
    p->kind = force_update ? K_UPDATE
              : r100 < 15  ? K_DELETE
              : r100 < 30  ? K_SYNC
              : r100 < 38  ? K_REBUILD
                           : K_UPDATE;
    /* --sync and --rebuild take the complete new set of documents. */
    int complete = p->kind == K_SYNC || p->kind == K_REBUILD;
    p->factor = rng_below(r, 4) ? 2 : 3;
    p->threads = 1 + (unsigned)trial % 3; /* not drawn: the trials' plans stay as they were */
    p->optimize = !force_update && rng_below(r, 100) < 30;
    uint32_t nlive, nabsent;
    uint32_t *live = pick_ids(cur, 1, r, &nlive);
    uint32_t *absent = pick_ids(cur, 0, r, &nabsent);

    if (p->kind == K_DELETE) {
        uint32_t k = scaled(r, scale, 20, 80);
        if (k > nlive / 4) k = nlive / 4;
        p->ids = calloc(k ? k : 1, sizeof *p->ids);
        cr_assert_not_null(p->ids);
        for (uint32_t i = 0; i < k; i++) {
            docgen_doc d;
            cr_assert_eq(docgen_make(&d, live[i], 1), 0);
            p->ids[i] = strdup(d.id);
            docgen_doc_free(&d);
            p->after.version[live[i]] = 0;
        }
        p->nids = k;
        p->ndeleted = k;
    } else {
        entry *e = malloc(((size_t)nlive + nabsent + 8) * sizeof *e);
        cr_assert_not_null(e);
        size_t n = 0;
        uint32_t nnew = scaled(r, scale, 80, 250);
        if (nnew > nabsent) nnew = nabsent;
        for (uint32_t i = 0; i < nnew; i++) {
            uint32_t id = absent[i];
            e[n++] = (entry){id, ++g_lastv[id]};
            p->after.version[id] = g_lastv[id];
        }
        uint32_t nrep = scaled(r, scale, 30, 120), nsame = rng_below(r, (uint32_t)(40 * scale) + 1);
        uint32_t ndrop = complete ? scaled(r, scale, 30, 120) : 0;
        if (nrep + nsame + ndrop > nlive) nrep = nsame = ndrop = 0;
        for (uint32_t i = 0; i < nrep; i++) {
            uint32_t id = live[i];
            e[n++] = (entry){id, ++g_lastv[id]};
            p->after.version[id] = g_lastv[id];
        }
        /* --sync, --rebuild: everything else is given unchanged, except
         * the last ndrop ids, which must disappear. */
        uint32_t same_end = complete ? nlive - ndrop : nrep + nsame;
        for (uint32_t i = nrep; i < same_end; i++) e[n++] = (entry){live[i], cur->version[live[i]]};
        for (uint32_t i = nlive - ndrop; i < nlive; i++) p->after.version[live[i]] = 0;
        for (size_t i = n; i > 1; i--) {
            size_t j = rng_below(r, (uint32_t)i);
            entry t = e[i - 1];
            e[i - 1] = e[j];
            e[j] = t;
        }
        /* Sometimes an id twice: an earlier copy with other text goes
         * first; the one already in the list is later and wins. */
        if (rng_below(r, 100) < 30 && nnew + nrep > 0) {
            uint32_t dups = 1 + rng_below(r, 3);
            for (uint32_t k = 0; k < dups; k++) {
                int from_replaced = nnew == 0 || (nrep > 0 && k % 2);
                uint32_t id = from_replaced ? live[rng_below(r, nrep)] : absent[rng_below(r, nnew)];
                memmove(e + 1, e, n * sizeof *e);
                e[0] = (entry){id, ++g_lastv[id]};
                n++;
                p->nduplicates++;
            }
        }
        snprintf(p->input, sizeof p->input, "%s/batch-%03d.jsonl", g_tmp, trial);
        write_entries(p->input, e, n);
        free(e);
        p->nnew = nnew;
        p->nreplaced = nrep;
        p->nunchanged = same_end - nrep;
        p->ndeleted = ndrop;
    }
    free(live);
    free(absent);
}

static void free_plan(plan *p)
{
    for (uint32_t i = 0; i < p->nids; i++) free(p->ids[i]);
    free(p->ids);
    docset_free(&p->after);
}

static void start_plan(const plan *p, const char *dir, run_child **c)
{
    char factor[8], threads[8];
    snprintf(factor, sizeof factor, "%u", p->factor);
    snprintf(threads, sizeof threads, "%u", p->threads);
    size_t cap = 16 + p->nids, n = 0;
    const char **args = calloc(cap, sizeof *args);
    cr_assert_not_null(args);
    args[n++] = "-q";
    args[n++] = "-i";
    args[n++] = dir;
    args[n++] = "-m";
    args[n++] = "4";
    args[n++] = "--merge-factor";
    args[n++] = factor;
    args[n++] = "--threads";
    args[n++] = threads;
    if (p->optimize) args[n++] = "--optimize";
    if (p->kind == K_SYNC) args[n++] = "--sync";
    if (p->kind == K_REBUILD) args[n++] = "--rebuild";
    if (p->kind == K_DELETE) {
        args[n++] = "--delete";
        for (uint32_t i = 0; i < p->nids; i++) args[n++] = p->ids[i];
    } else {
        args[n++] = p->input;
    }
    cr_assert_eq(e2e_start(c, "index", args, n), 0, "cannot start %s/index: %s", e2e_bin_dir(),
                 strerror(errno));
    free(args);
}

static ino_t manifest_inode(const char *dir)
{
    char path[4096];
    struct stat st;
    if (fs_join(path, sizeof path, dir, "MANIFEST") != 0 || stat(path, &st) != 0) return 0;
    return st.st_ino;
}

/* Timings of an uninterrupted run, from its start. */
typedef struct timing {
    double commit; /* MANIFEST first replaced (< 0: not seen) */
    double end;
    uint64_t gen_before, gen_after;
} timing;

/* Run p uninterrupted on a copy of the index, time it, and check that it
 * produces exactly p->after. */
static void calibrate(const plan *p, timing *t)
{
    fs_rm_rf(g_scratch);
    cr_assert_eq(mkdir(g_scratch, 0755), 0);
    cr_assert_eq(fs_copy_dir_files(g_index, g_scratch), 0, "copying the index");
    docset s;
    cr_assert_eq(docset_init(&s, g_pool), 0);
    read_state(g_scratch, &s, &t->gen_before);
    ino_t ino = manifest_inode(g_scratch);
    run_child *c;
    double t0 = now_s();
    start_plan(p, g_scratch, &c);
    t->commit = -1;
    while (!run_child_done(c)) {
        if (t->commit < 0 && manifest_inode(g_scratch) != ino) t->commit = now_s() - t0;
        sleep_s(0.0003);
    }
    t->end = now_s() - t0;
    run_result r;
    run_wait(c, TIMEOUT, &r);
    EXPECT_EXIT(&r, 0, "uninterrupted run on a copy");
    run_result_free(&r);
    read_state(g_scratch, &s, &t->gen_after);
    char diff[1024];
    docset_diff(&s, &p->after, diff, sizeof diff);
    cr_assert(docset_equal(&s, &p->after),
              "the uninterrupted %s run did not produce the expected documents: %s",
              kind_name[p->kind], diff);
    docset_free(&s);
}

/* ------------------------------------------------------------- test */

enum phase { P_BEFORE, P_MERGING, P_AFTER, P_FINISHED, P_COUNT };
static const char *const phase_name[] = {"before the commit", "after the commit, merges still due",
                                         "after the commit and merges (cleanup/exit)",
                                         "after the run had finished"};

/* Merges the policy still wants in dir's current generation. */
static size_t merges_due(const char *dir, const plan *p)
{
    manifest m;
    se_error err = {0};
    cr_assert_eq(manifest_read(dir, &m, &err), SE_OK, "%s", err.msg);
    uint32_t pick[MERGE_MAX_FANIN];
    size_t n = merge_policy_next(&m, p->factor, p->optimize, pick);
    manifest_free(&m);
    return n;
}

Test(crash, sigkill_at_random_moments_leaves_one_complete_generation)
{
    double scale = env_double("SE_E2E_SCALE", 1.0, 0.05, 100.0);
    int trials =
        (int)env_double("SE_CRASH_TRIALS", fmax(1.0, round(DEFAULT_TRIAL * scale)), 1, 100000);
    rng r = {(uint64_t)env_double("SE_CRASH_SEED", (double)DEFAULT_SEED, 0, 1e18)};
    uint32_t base = (uint32_t)fmax(50.0, BASE_DOCS * scale);
    g_pool = base * 2;
    g_lastv = calloc(g_pool, sizeof *g_lastv);
    cr_assert_not_null(g_lastv);

    /* The starting index. */
    docset cur, found;
    cr_assert_eq(docset_init(&cur, g_pool), 0);
    cr_assert_eq(docset_init(&found, g_pool), 0);
    {
        entry *e = malloc(base * sizeof *e);
        cr_assert_not_null(e);
        for (uint32_t i = 0; i < base; i++) {
            e[i] = (entry){i, ++g_lastv[i]};
            cur.version[i] = g_lastv[i];
        }
        char path[4096];
        snprintf(path, sizeof path, "%s/base.jsonl", g_tmp);
        write_entries(path, e, base);
        free(e);
        run_result res;
        e2e_run(&res, TIMEOUT, "index", "-q", "-i", g_index, "-m", "4", "--merge-factor", "2", path,
                NULL);
        EXPECT_EXIT(&res, 0, "the first build");
        run_result_free(&res);
        uint64_t gen;
        read_state(g_index, &found, &gen);
        cr_assert(docset_equal(&found, &cur), "the first build is not the input");
    }

    int count[P_COUNT] = {0}, early = 0, aimed_after_commit = 0, aimed_at_merges = 0;
    double t_start = now_s();
    for (int trial = 0; trial < trials; trial++) {
        plan p;
        make_plan(&p, &cur, &r, scale, trial, 0);
        timing t;
        calibrate(&p, &t);

        /* When to kill: mostly uniform over the measured run; some very
         * early; some at a random moment between the run's commit, which
         * the test watches for (MANIFEST replaced), and its measured end:
         * while the merges run, or, without merges, while the files the
         * commit made obsolete are removed.  A time measured on the copy
         * would not do for these: on a loaded machine the real run's
         * commit comes later. */
        double u = rng_unit(&r), when;
        int after_commit = 0;
        if (u < 0.15) {
            when = rng_unit(&r) * 0.002;
            early++;
        } else if (u < 0.45 && t.commit >= 0) {
            when = rng_unit(&r) * 0.9 * (t.end - t.commit);
            after_commit = 1;
            aimed_after_commit++;
            if (t.gen_after > t.gen_before + 1) aimed_at_merges++;
        } else {
            when = rng_unit(&r) * t.end;
        }

        uint64_t gen_before;
        read_state(g_index, &found, &gen_before);
        cr_assert(docset_equal(&found, &cur), "trial %d: the index changed between runs", trial);
        ino_t ino = manifest_inode(g_index);
        run_child *c;
        double t0 = now_s();
        start_plan(&p, g_index, &c);
        int killed = 0;
        for (;;) {
            if (run_child_done(c)) break;
            if (after_commit == 1) {
                if (manifest_inode(g_index) == ino) {
                    sleep_s(0.0002);
                    continue;
                }
                t0 = now_s(); /* the delay counts from the commit */
                after_commit = 2;
            }
            double left = when - (now_s() - t0);
            if (left <= 0) {
                /* Not reaped yet, so the group id cannot have been reused. */
                killed = kill(-run_child_pid(c), SIGKILL) == 0;
                break;
            }
            sleep_s(left < 0.001 ? left : 0.001);
        }
        run_result res;
        run_wait(c, TIMEOUT, &res);
        char what[160];
        snprintf(what, sizeof what, "trial %d (%s%s, factor %u, kill at %.1f ms%s of %.1f)", trial,
                 kind_name[p.kind], p.optimize ? " --optimize" : "", p.factor, when * 1e3,
                 after_commit ? " after the commit" : "", t.end * 1e3);
        if (res.signal == SIGKILL) {
            cr_assert(killed, "%s: killed by someone else", what);
        } else {
            /* It ended before the kill: then it must have succeeded. */
            EXPECT_EXIT(&res, 0, what);
        }
        run_result_free(&res);

        expect_verify_ok(g_index, what);
        uint64_t gen;
        read_state(g_index, &found, &gen);
        enum phase ph;
        if (docset_equal(&found, &cur)) {
            cr_assert_eq(gen, gen_before,
                         "%s: documents as before, but the generation went from %llu to %llu", what,
                         (unsigned long long)gen_before, (unsigned long long)gen);
            cr_assert_eq(res.signal, SIGKILL, "%s: a finished run changed nothing", what);
            ph = P_BEFORE;
        } else if (docset_equal(&found, &p.after)) {
            cr_assert_gt(gen, gen_before, "%s: new documents under the old generation", what);
            ph = res.signal != SIGKILL ? P_FINISHED : merges_due(g_index, &p) ? P_MERGING : P_AFTER;
        } else {
            char d1[1024], d2[1024];
            docset_diff(&found, &cur, d1, sizeof d1);
            docset_diff(&found, &p.after, d2, sizeof d2);
            cr_assert_fail("%s: the index holds neither the documents before the run nor "
                           "those after it (generation %llu, was %llu)\n vs before: %s\n vs "
                           "after: %s",
                           what, (unsigned long long)gen, (unsigned long long)gen_before, d1, d2);
        }
        count[ph]++;
        expect_search_counts(g_index, docset_count(&found), what);
        docset_free(&cur);
        cr_assert_eq(docset_copy(&cur, &found), 0);
        free_plan(&p);
    }

    /* One last run, uninterrupted: it clears the debris of the killed ones. */
    plan p;
    make_plan(&p, &cur, &r, scale, trials, 1);
    run_child *c;
    start_plan(&p, g_index, &c);
    run_result res;
    run_wait(c, TIMEOUT, &res);
    EXPECT_EXIT(&res, 0, "the final run");
    run_result_free(&res);
    expect_verify_ok(g_index, "after the final run");
    read_state(g_index, &found, NULL);
    cr_assert(docset_equal(&found, &p.after), "the final run's documents");
    expect_no_orphans(g_index);
    expect_search_counts(g_index, docset_count(&found), "after the final run");

    char summary[640];
    snprintf(summary, sizeof summary,
             "crash: %d trials in %.1f s (%d kills aimed at the first 2 ms, %d after the commit, "
             "%d of them at runs that merged): %d %s, %d %s, %d %s, %d %s; final index %u "
             "documents",
             trials, now_s() - t_start, early, aimed_after_commit, aimed_at_merges, count[P_BEFORE],
             phase_name[P_BEFORE], count[P_MERGING], phase_name[P_MERGING], count[P_AFTER],
             phase_name[P_AFTER], count[P_FINISHED], phase_name[P_FINISHED], docset_count(&found));
    /* Criterion hides cr_log_info by default; this line is the report. */
    fprintf(stderr, "%s\n", summary);
    if (count[P_BEFORE] == 0 || count[P_MERGING] + count[P_AFTER] == 0)
        fprintf(stderr, "crash: no kill landed %s this time\n",
                count[P_BEFORE] ? "after the commit" : "before the commit");
    free_plan(&p);
    docset_free(&cur);
    docset_free(&found);
    free(g_lastv);
    g_lastv = NULL;
}

/*
 * A first build killed at a random moment leaves either no index at all
 * (no MANIFEST: search and --verify say so with exit 3) or the complete
 * one; either way the same build run again succeeds and leaves exactly the
 * manifest's files.
 */
Test(crash, sigkill_during_the_first_build)
{
    double scale = env_double("SE_E2E_SCALE", 1.0, 0.05, 100.0);
    int trials = (int)fmax(2.0, round(8 * scale));
    uint32_t ndocs = (uint32_t)fmax(50.0, 600 * scale);
    rng r = {(uint64_t)env_double("SE_CRASH_SEED", (double)DEFAULT_SEED, 0, 1e18) + 1};
    docset all, found;
    cr_assert_eq(docset_init(&all, ndocs), 0);
    cr_assert_eq(docset_init(&found, ndocs), 0);
    entry *e = malloc(ndocs * sizeof *e);
    cr_assert_not_null(e);
    for (uint32_t i = 0; i < ndocs; i++) {
        e[i] = (entry){i, 1};
        all.version[i] = 1;
    }
    plan p;
    memset(&p, 0, sizeof p);
    p.kind = K_UPDATE;
    p.factor = 2;
    p.threads = 2;
    snprintf(p.input, sizeof p.input, "%s/first.jsonl", g_tmp);
    write_entries(p.input, e, ndocs);
    free(e);

    /* How long an uninterrupted first build takes. */
    fs_rm_rf(g_scratch);
    run_child *c;
    double t0 = now_s();
    start_plan(&p, g_scratch, &c);
    run_result res;
    run_wait(c, TIMEOUT, &res);
    double took = now_s() - t0;
    EXPECT_EXIT(&res, 0, "an uninterrupted first build");
    run_result_free(&res);

    int none = 0, complete = 0, finished = 0;
    for (int trial = 0; trial < trials; trial++) {
        fs_rm_rf(g_index);
        double when = rng_unit(&r) * took;
        char what[96];
        snprintf(what, sizeof what, "first build killed at %.1f ms of %.1f", when * 1e3,
                 took * 1e3);
        t0 = now_s();
        start_plan(&p, g_index, &c);
        int killed = 0;
        while (!run_child_done(c)) {
            double left = when - (now_s() - t0);
            if (left <= 0) {
                killed = kill(-run_child_pid(c), SIGKILL) == 0;
                break;
            }
            sleep_s(left < 0.001 ? left : 0.001);
        }
        run_wait(c, TIMEOUT, &res);
        if (res.signal != SIGKILL) EXPECT_EXIT(&res, 0, what);
        cr_assert(res.signal != SIGKILL || killed, "%s: killed by someone else", what);
        run_result_free(&res);
        char manifest_path[4096];
        cr_assert_eq(fs_join(manifest_path, sizeof manifest_path, g_index, "MANIFEST"), 0);
        if (!fs_exists(manifest_path)) {
            e2e_run(&res, TIMEOUT, "search", "-i", g_index, DOCGEN_COMMON_WORD, NULL);
            EXPECT_EXIT(&res, 3, what);
            EXPECT_STDERR_HAS(&res, "no index", what);
            run_result_free(&res);
            e2e_run(&res, TIMEOUT, "index", "--verify", "-i", g_index, NULL);
            EXPECT_EXIT(&res, 3, what);
            run_result_free(&res);
            none++;
        } else {
            expect_verify_ok(g_index, what);
            read_state(g_index, &found, NULL);
            cr_assert(docset_equal(&found, &all), "%s: an incomplete first generation", what);
            if (killed)
                complete++;
            else
                finished++;
        }
        start_plan(&p, g_index, &c);
        run_wait(c, TIMEOUT, &res);
        EXPECT_EXIT(&res, 0, "the first build run again");
        run_result_free(&res);
        read_state(g_index, &found, NULL);
        cr_assert(docset_equal(&found, &all), "%s, then run again: not every document", what);
        expect_no_orphans(g_index);
    }
    fprintf(stderr,
            "crash: first build, %d trials: %d killed before the commit (no index), %d after it, "
            "%d finished before the kill\n",
            trials, none, complete, finished);
    docset_free(&all);
    docset_free(&found);
}
