/*
 * test_concurrency.c - two bin/index runs on the same new index at once.
 *
 * The index directory has one writer at a time (a flock on DIR/LOCK, which
 * holds the writer's pid).  Over a larger input (BEIR SciFact, 5,183
 * documents, about 8 MB) two runs must end with exactly one success and one
 * failure with exit 3 and "being written by pid N"; the survivor's index
 * must be complete and clean.
 *
 *   - overlapping: the second run starts once DIR/LOCK names the first run's
 *     pid while that run is still alive, so the two really overlap (if the
 *     first had already finished by then, both may succeed one after the
 *     other; that is accepted only when the index is valid);
 *   - simultaneous: both start back to back on a directory that does not
 *     exist yet (racing for its creation as well), twice; the runs
 *     must never both fail, nor fail any other way;
 *   - a search while the index is rebuilt sees a complete generation;
 *   - a writer killed with SIGKILL mid-run leaves the previous generation
 *     answering as before, and the next writer removes its debris.
 */
#include <criterion/criterion.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tests/e2e/expect.h"
#include "tests/support/e2e.h"
#include "tests/support/fsutil.h"
#include "tests/support/run.h"

#define TIMEOUT 120.0

/* ------------------------------------------------------------- fixture */

static char *g_tmp;
static char g_input[4096];

static void setup(void)
{
    g_tmp = fs_mkdtemp("se_e2e_concurrency_");
    cr_assert_not_null(g_tmp, "mkdtemp failed");
    snprintf(g_input, sizeof g_input, "%s/scifact/corpus.jsonl", e2e_data_dir());
}

static void teardown(void)
{
    if (g_tmp) fs_rm_rf(g_tmp);
    free(g_tmp);
    g_tmp = NULL;
}

TestSuite(concurrency, .init = setup, .fini = teardown, .timeout = 300);

/* ------------------------------------------------------------- helpers */

/* Documents in the JSONL input: its non-blank lines. */
static unsigned long count_documents(void)
{
    char *data = fs_read_file(g_input, NULL);
    cr_assert_not_null(data, "cannot read %s (SE_DATA_DIR)", g_input);
    unsigned long n = 0;
    for (char *p = data; *p;) {
        char *nl = strchr(p, '\n');
        if ((nl ? nl : p + strlen(p)) > p) n++;
        p = nl ? nl + 1 : p + strlen(p);
    }
    free(data);
    return n;
}

static void start_index(run_child **c, const char *dir)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/index", e2e_bin_dir());
    char *argv[] = {path, "-q", "-i", (char *)dir, g_input, NULL};
    cr_assert_eq(run_start(c, argv, NULL), 0, "cannot start %s", path);
}

/* The pid recorded in DIR/LOCK, or 0. */
static long lock_pid(const char *dir)
{
    char path[4096];
    if (fs_join(path, sizeof path, dir, "LOCK") != 0) return 0;
    char *s = fs_read_file(path, NULL);
    long pid = s ? strtol(s, NULL, 10) : 0;
    free(s);
    return pid;
}

/* The index in dir is complete: every document is found, and the directory
 * holds nothing but MANIFEST, LOCK and one segment's five files. */
static void expect_valid_index(const char *dir, unsigned long ndocs)
{
    run_result r;
    e2e_run(&r, TIMEOUT, "search", "-i", dir, "-k", "1", "the OR of OR a", NULL);
    EXPECT_EXIT(&r, 0, "search the index");
    char want[64];
    snprintf(want, sizeof want, " of %lu, top 1", ndocs);
    cr_assert(strstr(r.out, want), "the index should hold %lu documents:\n%s", ndocs, r.out);
    run_result_free(&r);
    char *listing = fs_dir_listing(dir, NULL);
    cr_assert_not_null(listing);
    cr_assert_eq(fs_count_entries(dir), 7, "unexpected files in the index:\n%s", listing);
    free(listing);
}

/* One run succeeded and the other was refused because of the lock. */
static void expect_one_refused(const run_result *winner, const run_result *loser, long winner_pid)
{
    EXPECT_EXIT(winner, 0, "the writer that got the lock");
    EXPECT_EXIT(loser, 3, "the second writer");
    EXPECT_STDERR_HAS(loser, "being written by pid", "the second writer");
    if (winner_pid > 0) {
        char want[64];
        snprintf(want, sizeof want, "being written by pid %ld", winner_pid);
        EXPECT_STDERR_HAS(loser, want, "the second writer names the first");
    }
    EXPECT_STDERR_HAS(loser, "nothing was committed", "the second writer");
}

/* ------------------------------------------------------------- tests */

Test(concurrency, second_writer_is_refused_while_the_first_runs)
{
    unsigned long ndocs = count_documents();
    char dir[4096];
    cr_assert_eq(fs_join(dir, sizeof dir, g_tmp, "index"), 0);

    run_child *a, *b;
    start_index(&a, dir);
    pid_t apid = run_child_pid(a);
    /* Wait until the first run holds the lock (its pid is written after
     * the flock succeeds), polling every 0.2 ms. */
    int a_running = 1;
    struct timespec nap = {0, 200000};
    for (int i = 0; i < 100000; i++) {
        if (lock_pid(dir) == (long)apid) break;
        if (run_child_done(a)) {
            a_running = 0;
            break;
        }
        nanosleep(&nap, NULL);
    }
    a_running = a_running && !run_child_done(a) && kill(apid, 0) == 0;
    start_index(&b, dir);
    pid_t bpid = run_child_pid(b);
    run_result ra, rb;
    run_wait(b, TIMEOUT, &rb);
    run_wait(a, TIMEOUT, &ra);

    if (ra.exit_code == 0 && rb.exit_code == 0) {
        /* Acceptable only when they did not overlap after all. */
        cr_assert(!a_running, "both writers succeeded although the first was running:\n%s\n%s",
                  ra.err, rb.err);
        EXPECT_EXIT(&ra, 0, "the first writer");
        EXPECT_EXIT(&rb, 0, "the second writer");
        fprintf(stderr, "concurrency: the first writer finished before the second took the lock\n");
    } else {
        expect_one_refused(&ra, &rb, (long)apid);
    }
    cr_assert_neq(lock_pid(dir), (long)bpid, "the refused writer must not take over LOCK");
    expect_valid_index(dir, ndocs);
    run_result_free(&ra);
    run_result_free(&rb);
}

Test(concurrency, simultaneous_writers_on_a_new_directory)
{
    unsigned long ndocs = count_documents();
    for (int round = 0; round < 2; round++) {
        char dir[4096], name[32];
        snprintf(name, sizeof name, "index%d", round);
        cr_assert_eq(fs_join(dir, sizeof dir, g_tmp, name), 0);
        run_child *a, *b;
        start_index(&a, dir);
        start_index(&b, dir);
        long apid = run_child_pid(a), bpid = run_child_pid(b);
        run_result ra, rb;
        run_wait(a, TIMEOUT, &ra);
        run_wait(b, TIMEOUT, &rb);
        if (ra.exit_code == 0 && rb.exit_code == 0) {
            EXPECT_EXIT(&ra, 0, "writer a");
            EXPECT_EXIT(&rb, 0, "writer b");
            fprintf(stderr, "concurrency: round %d: the writers ran one after the other\n", round);
        } else if (ra.exit_code == 0)
            expect_one_refused(&ra, &rb, apid);
        else
            expect_one_refused(&rb, &ra, bpid);
        expect_valid_index(dir, ndocs);
        run_result_free(&ra);
        run_result_free(&rb);
    }
}

Test(concurrency, search_during_a_rebuild_sees_a_complete_generation)
{
    unsigned long ndocs = count_documents();
    char dir[4096];
    cr_assert_eq(fs_join(dir, sizeof dir, g_tmp, "index"), 0);
    run_result r;
    e2e_run(&r, TIMEOUT, "index", "-q", "-i", dir, g_input, NULL);
    EXPECT_EXIT(&r, 0, "first build");
    run_result_free(&r);

    /* Rebuild while searching: every search sees all documents, from the
     * old generation or the new one. */
    run_child *w;
    start_index(&w, dir);
    int searches = 0;
    char want[64];
    snprintf(want, sizeof want, " of %lu, top 1", ndocs);
    do {
        e2e_run(&r, TIMEOUT, "search", "-i", dir, "-k", "1", "cell", NULL);
        EXPECT_EXIT(&r, 0, "search during a rebuild");
        cr_assert(strstr(r.out, want), "search during a rebuild:\n%s", r.out);
        run_result_free(&r);
        searches++;
    } while (!run_child_done(w));
    run_wait(w, TIMEOUT, &r);
    EXPECT_EXIT(&r, 0, "the rebuild");
    run_result_free(&r);
    cr_assert_gt(searches, 0);
    expect_valid_index(dir, ndocs);
}

Test(concurrency, killed_writer_leaves_the_previous_generation)
{
    char dir[4096];
    cr_assert_eq(fs_join(dir, sizeof dir, g_tmp, "index"), 0);
    run_result r;
    e2e_run(&r, TIMEOUT, "index", "-q", "-i", dir, "corpus", NULL);
    EXPECT_EXIT(&r, 0, "index corpus/");
    run_result_free(&r);
    e2e_run(&r, TIMEOUT, "search", "-i", dir, "--json", "ethical responsibility", NULL);
    EXPECT_EXIT(&r, 0, "search the first generation");
    char *answer = r.out;
    r.out = NULL;
    run_result_free(&r);

    /* kill -9 a rebuild from the larger input once it holds the lock and
     * has had a moment to write segment files. */
    run_child *w;
    start_index(&w, dir);
    pid_t pid = run_child_pid(w);
    struct timespec nap = {0, 200000};
    for (int i = 0; i < 100000 && lock_pid(dir) != (long)pid && !run_child_done(w); i++)
        nanosleep(&nap, NULL);
    struct timespec moment = {0, 150000000};
    nanosleep(&moment, NULL);
    int killed = !run_child_done(w) && kill(pid, SIGKILL) == 0;
    run_wait(w, TIMEOUT, &r);
    if (killed) cr_assert_eq(r.signal, SIGKILL, "%s", run_describe(&r));
    run_result_free(&r);

    if (killed) {
        e2e_run(&r, TIMEOUT, "search", "-i", dir, "--json", "ethical responsibility", NULL);
        EXPECT_EXIT(&r, 0, "search after the writer was killed");
        cr_assert_str_eq(r.out, answer, "the previous generation answers as before");
        run_result_free(&r);
    } else {
        fprintf(stderr, "concurrency: the rebuild finished before it could be killed\n");
    }
    free(answer);

    /* The next writer clears whatever the killed one left behind. */
    e2e_run(&r, TIMEOUT, "index", "-q", "-i", dir, "corpus", NULL);
    EXPECT_EXIT(&r, 0, "index after a killed writer");
    run_result_free(&r);
    expect_valid_index(dir, 5);
}
