/*
 * test_diskfull.c - bin/index running out of space, or into a directory it
 * may not write, fails cleanly: exit 5 (write failure; 3 accepted for an
 * unwritable directory), an error naming the file, nothing committed, the
 * previous generation byte for byte as it was (LOCK aside, which holds the
 * writer's pid), `--verify` ok and `search` answering exactly as before.
 *
 *   - file-size limit (RLIMIT_FSIZE with SIGXFSZ ignored, so writes fail
 *     with EFBIG, which the engine treats like a full disk):
 *       * while writing the new segment of an update; the same run
 *         succeeds afterwards without the limit;
 *       * while `--optimize` merges several segments;
 *       * while writing a deletions file, and while writing MANIFEST (an
 *         index of many small segments has a manifest larger than the
 *         deletions file of a --delete run);
 *       * in the merge that follows a committed update: then the update
 *         stays committed (the message says so), the index is complete,
 *         and the merge happens on the next run.
 *     Each limit is derived from the file sizes an unlimited run of the
 *     same command produces on a copy of the index.
 *   - a real ENOSPC: a tmpfs of 4 MiB mounted in a private mount
 *     namespace (a forked child calls unshare(CLONE_NEWNS); skipped with
 *     the reason printed when that is not permitted).  The same run is
 *     tried again and again from the same saved index, with the tmpfs
 *     filled so that from nothing to more than enough space is left (even
 *     steps, then bisection between the last failure and the first
 *     success, so the run's last and smallest files fail too), and with
 *     from 0 to enough free inodes (so creating each file fails in turn):
 *     for an update (new segment, deletions file, manifest) and for
 *     --optimize (merged segment, manifest).  Every failing attempt must
 *     fail cleanly, whatever file it was at; a successful one must leave
 *     exactly the planned documents and the manifest's files.
 *   - an unwritable index directory: chmod 0555 when not root; as root
 *     permissions do not bind, so the writer runs as uid/gid 65534 (skipped
 *     with the reason printed if that user cannot run the binaries), once
 *     unable to open LOCK, once able to (LOCK given to that user) but not to
 *     create files, and for a --delete run.  A search by that user answers
 *     as before.
 */
#include <criterion/criterion.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/manifest.h"
#include "tests/e2e/expect.h"
#include "tests/support/docgen.h"
#include "tests/support/e2e.h"
#include "tests/support/fsutil.h"
#include "tests/support/ixfiles.h"
#include "tests/support/run.h"

#define TIMEOUT 60.0
#define NIDS    2000
#define NOBODY  65534

/* ------------------------------------------------------------- fixture */

static char *g_tmp;
static char g_index[4096], g_scratch[4096];

static void setup(void)
{
    g_tmp = fs_mkdtemp_fast("se_e2e_diskfull_");
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

TestSuite(diskfull, .init = setup, .fini = teardown, .timeout = 300);

/* ------------------------------------------------------------- documents */

/* Write documents [from, to) at version v (appending when `append`). */
static void write_docs(const char *path, uint32_t from, uint32_t to, uint32_t v, int append)
{
    FILE *f = fopen(path, append ? "a" : "w");
    cr_assert_not_null(f, "cannot write %s", path);
    for (uint32_t n = from; n < to; n++) cr_assert_eq(docgen_write_jsonl(f, n, v), 0);
    cr_assert_eq(fclose(f), 0);
}

static void set_docs(docset *s, uint32_t from, uint32_t to, uint32_t v)
{
    for (uint32_t n = from; n < to; n++) s->version[n] = v;
}

static void batch_path(char *buf, size_t cap, const char *name)
{
    cr_assert_eq(fs_join(buf, cap, g_tmp, name), 0);
}

/* ------------------------------------------------------------- running */

/* bin/index with the given options (NULL: none) and arguments. */
static void index_opts(run_result *r, const run_options *o, const char *first, ...)
    __attribute__((sentinel));
static void index_opts(run_result *r, const run_options *o, const char *first, ...)
{
    const char *args[64];
    size_t n = 0;
    va_list ap;
    va_start(ap, first);
    for (const char *a = first; a && n < 64; a = va_arg(ap, const char *)) args[n++] = a;
    va_end(ap);
    e2e_runv_opts(r, TIMEOUT, o, NULL, "index", args, n);
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

static void expect_verify_ok(const char *dir, const char *what)
{
    run_result r;
    e2e_run(&r, TIMEOUT, "index", "--verify", "-i", dir, NULL);
    EXPECT_EXIT(&r, 0, what);
    cr_assert(strstr(r.out, ": ok: ") != NULL, "%s: --verify printed:\n%s", what, r.out);
    run_result_free(&r);
}

static void expect_exact_files(const char *dir, const char *what)
{
    char why[8192];
    cr_assert_eq(ixfiles_check_exact(dir, why, sizeof why), 0, "%s: %s", what, why);
}

/* ------------------------------------------------------------- snapshots */

#define NQUERIES 3
static const char *const queries[NQUERIES] = {DOCGEN_COMMON_WORD, "\"document 5\" OR version",
                                              "document AND NOT quokka"};

/* What must not change when a run fails: the directory (LOCK by name only)
 * and the answers to a few queries (ids, scores, titles, snippets). */
typedef struct snapshot {
    char *listing;
    char *answers[NQUERIES];
    int codes[NQUERIES];
} snapshot;

static void take_snapshot(const char *dir, snapshot *s, const run_options *as)
{
    static const char *const lock[] = {"LOCK", NULL};
    s->listing = fs_dir_listing(dir, lock);
    cr_assert_not_null(s->listing);
    for (int q = 0; q < NQUERIES; q++) {
        const char *args[] = {"-i", dir, "--json", "-k", "20", queries[q]};
        run_result r;
        e2e_runv_opts(&r, TIMEOUT, as, NULL, "search", args, 6);
        cr_assert(r.exit_code == 0 || r.exit_code == 1, "search %s: %s\n%s", queries[q],
                  run_describe(&r), r.err);
        s->codes[q] = r.exit_code;
        s->answers[q] = r.out;
        r.out = NULL;
        run_result_free(&r);
    }
}

static void free_snapshot(snapshot *s)
{
    free(s->listing);
    for (int q = 0; q < NQUERIES; q++) free(s->answers[q]);
}

static void expect_unchanged(const char *dir, const snapshot *before, const char *what)
{
    snapshot now;
    take_snapshot(dir, &now, NULL);
    cr_assert_str_eq(now.listing, before->listing,
                     "%s: the index directory changed.\nbefore:\n%s\nafter:\n%s", what,
                     before->listing, now.listing);
    for (int q = 0; q < NQUERIES; q++) {
        cr_assert_eq(now.codes[q], before->codes[q], "%s: search %s", what, queries[q]);
        cr_assert_str_eq(now.answers[q], before->answers[q], "%s: search %s answers differently",
                         what, queries[q]);
    }
    free_snapshot(&now);
    expect_verify_ok(dir, what);
}

/* A run that failed for lack of space: exit 5, an error naming a file of
 * the index (returned in *file when not NULL), nothing committed. */
static void expect_write_failure(const run_result *r, const char *dir, const char *what, char *file,
                                 size_t cap)
{
    EXPECT_EXIT(r, 5, what);
    EXPECT_STDERR_HAS(r, "index: ", what);
    EXPECT_STDERR_HAS(r, "nothing was committed", what);
    char prefix[4200];
    snprintf(prefix, sizeof prefix, "%s/", dir);
    const char *p = strstr(r->err, prefix);
    cr_assert(p != NULL, "%s: the error names no file of %s:\n%s", what, dir, r->err);
    if (file) {
        size_t n = strcspn(p + strlen(prefix), ": \n");
        snprintf(file, cap, "%.*s", (int)n, p + strlen(prefix));
    }
}

/* ------------------------------------------------------------- measuring */

typedef struct new_files {
    size_t n;
    char name[64][64];
    long long size[64];
} new_files;

static long long file_size(const char *dir, const char *name)
{
    char path[4096];
    struct stat st;
    if (fs_join(path, sizeof path, dir, name) != 0 || stat(path, &st) != 0) return -1;
    return (long long)st.st_size;
}

static long long largest_file(const char *dir)
{
    char *l = fs_dir_listing(dir, NULL);
    cr_assert_not_null(l);
    long long max = 0;
    for (char *line = strtok(l, "\n"); line; line = strtok(NULL, "\n")) {
        char name[256];
        long long size;
        if (sscanf(line, "%255s %lld", name, &size) == 2 && size > max) max = size;
    }
    free(l);
    return max;
}

/* Run `index -q -i <copy of the index> args...` without limits on a fresh
 * copy and list the files it left that the index does not have, plus
 * MANIFEST. */
static void measure(new_files *nf, const char *const *args, size_t nargs)
{
    fs_rm_rf(g_scratch);
    cr_assert_eq(mkdir(g_scratch, 0755), 0);
    cr_assert_eq(fs_copy_dir_files(g_index, g_scratch), 0);
    const char *argv[64] = {"-q", "-i", g_scratch};
    size_t n = 3;
    for (size_t i = 0; i < nargs && n < 64; i++) argv[n++] = args[i];
    run_result r;
    e2e_runv(&r, TIMEOUT, "index", argv, n);
    EXPECT_EXIT(&r, 0, "the same run without a limit, on a copy");
    run_result_free(&r);
    memset(nf, 0, sizeof *nf);
    char *l = fs_dir_listing(g_scratch, NULL);
    cr_assert_not_null(l);
    for (char *line = strtok(l, "\n"); line && nf->n < 64; line = strtok(NULL, "\n")) {
        char name[64];
        long long size;
        if (sscanf(line, "%63s %lld", name, &size) != 2) continue;
        if (strcmp(name, "MANIFEST") != 0 && file_size(g_index, name) >= 0) continue;
        snprintf(nf->name[nf->n], sizeof nf->name[0], "%s", name);
        nf->size[nf->n++] = size;
    }
    free(l);
    fs_rm_rf(g_scratch);
}

static long long nf_largest(const new_files *nf, const char *suffix)
{
    long long max = 0;
    for (size_t i = 0; i < nf->n; i++) {
        size_t ln = strlen(nf->name[i]), ls = suffix ? strlen(suffix) : 0;
        if (suffix && (ln < ls || strcmp(nf->name[i] + ln - ls, suffix) != 0)) continue;
        if (nf->size[i] > max) max = nf->size[i];
    }
    return max;
}

static run_options fsize_limit(long long bytes)
{
    run_options o = RUN_OPTIONS_NONE;
    o.fsize_limit = bytes;
    o.ignore_sigxfsz = 1;
    return o;
}

/* ------------------------------------------------------------- (a) RLIMIT_FSIZE */

Test(diskfull, file_size_limit_while_writing_the_new_segment)
{
    docset want;
    cr_assert_eq(docset_init(&want, NIDS), 0);
    char base[4096], batch[4096];
    batch_path(base, sizeof base, "base.jsonl");
    batch_path(batch, sizeof batch, "batch.jsonl");
    write_docs(base, 0, 300, 1, 0);
    set_docs(&want, 0, 300, 1);
    run_result r;
    index_opts(&r, NULL, "-q", "-i", g_index, base, NULL);
    EXPECT_EXIT(&r, 0, "first build");
    run_result_free(&r);

    write_docs(batch, 300, 700, 1, 0);
    write_docs(batch, 0, 50, 2, 1);
    new_files nf;
    const char *args[] = {batch};
    measure(&nf, args, 1);
    long long limit = nf_largest(&nf, NULL) / 4;
    cr_assert_gt(limit, 4096, "the batch is too small to test a limit");

    snapshot before;
    take_snapshot(g_index, &before, NULL);
    run_options o = fsize_limit(limit);
    index_opts(&r, &o, "-q", "-i", g_index, batch, NULL);
    char file[256];
    expect_write_failure(&r, g_index, "update with a file-size limit", file, sizeof file);
    cr_assert(strstr(r.err, "File too large"), "the error should say why:\n%s", r.err);
    run_result_free(&r);
    expect_unchanged(g_index, &before, "after the failed update");
    expect_state(g_index, &want, "after the failed update");
    cr_log_info("limit %lld bytes: the failure named %s", limit, file);

    index_opts(&r, NULL, "-q", "-i", g_index, batch, NULL);
    EXPECT_EXIT(&r, 0, "the same update without the limit");
    run_result_free(&r);
    set_docs(&want, 300, 700, 1);
    set_docs(&want, 0, 50, 2);
    expect_state(g_index, &want, "after the update");
    expect_verify_ok(g_index, "after the update");
    expect_exact_files(g_index, "after the update");
    free_snapshot(&before);
    docset_free(&want);
}

Test(diskfull, file_size_limit_while_optimize_merges)
{
    docset want;
    cr_assert_eq(docset_init(&want, NIDS), 0);
    char path[4096];
    batch_path(path, sizeof path, "base.jsonl");
    write_docs(path, 0, 300, 1, 0);
    set_docs(&want, 0, 300, 1);
    run_result r;
    index_opts(&r, NULL, "-q", "-i", g_index, path, NULL);
    EXPECT_EXIT(&r, 0, "first build");
    run_result_free(&r);
    /* Three more segments, with deletions in the earlier ones. */
    for (uint32_t k = 0; k < 3; k++) {
        batch_path(path, sizeof path, "more.jsonl");
        write_docs(path, 300 + 100 * k, 400 + 100 * k, 1, 0);
        write_docs(path, 20 * k, 20 * k + 20, 2, 1);
        set_docs(&want, 300 + 100 * k, 400 + 100 * k, 1);
        set_docs(&want, 20 * k, 20 * k + 20, 2);
        index_opts(&r, NULL, "-q", "--no-merge", "-i", g_index, path, NULL);
        EXPECT_EXIT(&r, 0, "adding a segment");
        run_result_free(&r);
    }
    manifest m;
    se_error err = {0};
    cr_assert_eq(manifest_read(g_index, &m, &err), SE_OK, "%s", err.msg);
    cr_assert_eq(m.nsegments, 4);
    manifest_free(&m);

    new_files nf;
    const char *args[] = {"--optimize"};
    measure(&nf, args, 1);
    long long have = largest_file(g_index), merged = nf_largest(&nf, NULL);
    cr_assert_gt(merged, have + have / 8,
                 "the merged segment (%lld) should outgrow every file (%lld)", merged, have);
    long long limit = (have + merged) / 2;

    snapshot before;
    take_snapshot(g_index, &before, NULL);
    run_options o = fsize_limit(limit);
    index_opts(&r, &o, "-q", "-i", g_index, "--optimize", NULL);
    char file[256];
    expect_write_failure(&r, g_index, "--optimize with a file-size limit", file, sizeof file);
    run_result_free(&r);
    expect_unchanged(g_index, &before, "after the failed --optimize");
    cr_log_info("limit %lld bytes: the failure named %s", limit, file);

    index_opts(&r, NULL, "-q", "-i", g_index, "--optimize", NULL);
    EXPECT_EXIT(&r, 0, "--optimize without the limit");
    run_result_free(&r);
    cr_assert_eq(manifest_read(g_index, &m, &err), SE_OK, "%s", err.msg);
    cr_assert_eq(m.nsegments, 1, "--optimize leaves one segment");
    cr_assert_eq(m.segments[0].del_gen, 0, "--optimize leaves no deletions");
    manifest_free(&m);
    expect_state(g_index, &want, "after --optimize");
    expect_verify_ok(g_index, "after --optimize");
    expect_exact_files(g_index, "after --optimize");
    free_snapshot(&before);
    docset_free(&want);
}

Test(diskfull, file_size_limit_at_the_deletions_file_and_the_manifest)
{
    docset want;
    cr_assert_eq(docset_init(&want, NIDS), 0);
    char path[4096];
    batch_path(path, sizeof path, "base.jsonl");
    write_docs(path, 0, 20, 1, 0);
    set_docs(&want, 0, 20, 1);
    run_result r;
    index_opts(&r, NULL, "-q", "--no-merge", "-i", g_index, path, NULL);
    EXPECT_EXIT(&r, 0, "first build");
    run_result_free(&r);
    /* Many one-document segments make a manifest of a few KiB. */
    for (uint32_t n = 20; n < 50; n++) {
        write_docs(path, n, n + 1, 1, 0);
        index_opts(&r, NULL, "-q", "--no-merge", "-i", g_index, path, NULL);
        EXPECT_EXIT(&r, 0, "adding a one-document segment");
        run_result_free(&r);
    }
    set_docs(&want, 20, 50, 1);

    new_files nf;
    const char *args[] = {"--no-merge", "--delete", "doc000003"};
    measure(&nf, args, 3);
    long long del = nf_largest(&nf, ".del"), man = nf_largest(&nf, "MANIFEST");
    cr_assert_gt(del, 0, "the --delete run should write a deletions file");
    cr_assert_gt(man, del + 64,
                 "the manifest (%lld) should be larger than the deletions file (%lld)", man, del);

    struct {
        long long limit;
        const char *file, *what;
    } cases[] = {{(del + man) / 2, "MANIFEST", "limit between the deletions file and the manifest"},
                 {del / 2, ".del", "limit below the deletions file"}};
    for (size_t c = 0; c < 2; c++) {
        snapshot before;
        take_snapshot(g_index, &before, NULL);
        run_options o = fsize_limit(cases[c].limit);
        index_opts(&r, &o, "-q", "--no-merge", "-i", g_index, "--delete", "doc000003", NULL);
        char file[256];
        expect_write_failure(&r, g_index, cases[c].what, file, sizeof file);
        cr_assert(strstr(file, cases[c].file), "%s: expected the error to name the %s file:\n%s",
                  cases[c].what, cases[c].file, r.err);
        run_result_free(&r);
        expect_unchanged(g_index, &before, cases[c].what);
        expect_state(g_index, &want, cases[c].what);
        free_snapshot(&before);
    }
    index_opts(&r, NULL, "-q", "--no-merge", "-i", g_index, "--delete", "doc000003", NULL);
    EXPECT_EXIT(&r, 0, "the --delete run without a limit");
    run_result_free(&r);
    want.version[3] = 0;
    expect_state(g_index, &want, "after --delete");
    expect_verify_ok(g_index, "after --delete");
    expect_exact_files(g_index, "after --delete");
    docset_free(&want);
}

Test(diskfull, file_size_limit_in_the_merge_after_a_commit)
{
    docset want;
    cr_assert_eq(docset_init(&want, NIDS), 0);
    char base[4096], batch[4096];
    batch_path(base, sizeof base, "base.jsonl");
    batch_path(batch, sizeof batch, "batch.jsonl");
    write_docs(base, 0, 300, 1, 0);
    set_docs(&want, 0, 300, 1);
    run_result r;
    index_opts(&r, NULL, "-q", "-i", g_index, "--merge-factor", "2", base, NULL);
    EXPECT_EXIT(&r, 0, "first build");
    run_result_free(&r);
    /* 300 more documents: a segment on the same level (factor 2: 256 to
     * 511 documents), so the policy merges the two after the commit. */
    write_docs(batch, 300, 600, 1, 0);
    write_docs(batch, 0, 10, 2, 1);
    new_files alone, merged;
    const char *nomerge[] = {"--no-merge", batch}, *withmerge[] = {"--merge-factor", "2", batch};
    measure(&alone, nomerge, 2);
    measure(&merged, withmerge, 3);
    long long a = nf_largest(&alone, NULL), m = nf_largest(&merged, NULL);
    cr_assert_gt(m, a + a / 8, "the merged segment (%lld) should outgrow the new one (%lld)", m, a);
    long long limit = (a + m) / 2;

    run_options o = fsize_limit(limit);
    index_opts(&r, &o, "-q", "-i", g_index, "--merge-factor", "2", batch, NULL);
    EXPECT_EXIT(&r, 5, "update whose merge hits the limit");
    EXPECT_STDERR_HAS(&r, "the documents were committed (generation 2)", "the failed merge");
    EXPECT_STDERR_HAS(&r, g_index, "the failed merge names the file");
    run_result_free(&r);
    set_docs(&want, 300, 600, 1);
    set_docs(&want, 0, 10, 2);
    expect_state(g_index, &want, "after the failed merge");
    expect_verify_ok(g_index, "after the failed merge");
    expect_exact_files(g_index, "after the failed merge");
    manifest man;
    se_error err = {0};
    cr_assert_eq(manifest_read(g_index, &man, &err), SE_OK, "%s", err.msg);
    cr_assert_eq(man.generation, 2);
    cr_assert_eq(man.nsegments, 2, "the merge did not happen");
    manifest_free(&man);

    /* The same run again: nothing new to index, but the merge is due. */
    index_opts(&r, NULL, "-q", "-i", g_index, "--merge-factor", "2", batch, NULL);
    EXPECT_EXIT(&r, 0, "the same run without the limit");
    run_result_free(&r);
    cr_assert_eq(manifest_read(g_index, &man, &err), SE_OK, "%s", err.msg);
    cr_assert_eq(man.nsegments, 1, "the merge is done now");
    manifest_free(&man);
    expect_state(g_index, &want, "after the merge");
    expect_verify_ok(g_index, "after the merge");
    expect_exact_files(g_index, "after the merge");
    docset_free(&want);
}

/* ------------------------------------------------------------- (b) tmpfs */

/* The tmpfs scenario runs in a forked child (its own mount namespace), which
 * must not use Criterion's assertions: it reports through a pipe, one line
 * per message ("fail: ...", "skip: ...", "info: ...") and its exit status
 * (0 passed, 1 failed, 2 skipped). */
static int g_report = -1;

static void report(const char *kind, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void report(const char *kind, const char *fmt, ...)
{
    char buf[8192];
    int n = snprintf(buf, sizeof buf, "%s: ", kind);
    va_list ap;
    va_start(ap, fmt);
    n += vsnprintf(buf + n, sizeof buf - (size_t)n, fmt, ap);
    va_end(ap);
    if (n > (int)sizeof buf - 2) n = (int)sizeof buf - 2;
    buf[n++] = '\n';
    for (int off = 0; off < n;) {
        ssize_t w = write(g_report, buf + off, (size_t)(n - off));
        if (w <= 0) break;
        off += (int)w;
    }
}

#define CHILD_CHECK(cond, ...)                                                                     \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            report("fail", __VA_ARGS__);                                                           \
            _exit(1);                                                                              \
        }                                                                                          \
    } while (0)

static void child_index(run_result *r, const char *dir, const char *input)
{
    const char *args[] = {"-q", "-i", dir, input};
    e2e_runv(r, TIMEOUT, "index", args, 4);
}

static char *child_snapshot(const char *dir)
{
    static const char *const lock[] = {"LOCK", NULL};
    char *listing = fs_dir_listing(dir, lock);
    CHILD_CHECK(listing, "cannot list %s", dir);
    size_t cap = strlen(listing) + 1;
    char *all = malloc(cap);
    CHILD_CHECK(all, "out of memory");
    memcpy(all, listing, cap);
    free(listing);
    for (int q = 0; q < NQUERIES; q++) {
        const char *args[] = {"-i", dir, "--json", "-k", "20", queries[q]};
        run_result r;
        e2e_runv(&r, TIMEOUT, "search", args, 6);
        CHILD_CHECK(r.exit_code == 0 || r.exit_code == 1, "search %s: %s\n%s", queries[q],
                    run_describe(&r), r.err);
        size_t add = strlen(r.out) + strlen(queries[q]) + 32;
        char *grown = realloc(all, cap + add);
        CHILD_CHECK(grown, "out of memory");
        all = grown;
        cap +=
            (size_t)snprintf(all + cap - 1, add, "-- %s: %d\n%s", queries[q], r.exit_code, r.out);
        run_result_free(&r);
    }
    return all;
}

static long long free_bytes(const char *path)
{
    struct statvfs v;
    if (statvfs(path, &v) != 0) return -1;
    return (long long)v.f_bavail * (long long)v.f_frsize;
}

/* Leave `target` bytes free on the file system of mnt (page rounded). */
static void child_fill(const char *filler, const char *mnt, long long target)
{
    unlink(filler);
    long long room = free_bytes(mnt) - target;
    if (room <= 0) return;
    int fd = open(filler, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    CHILD_CHECK(fd >= 0, "cannot create %s: %s", filler, strerror(errno));
    int rc = posix_fallocate(fd, 0, (off_t)room);
    close(fd);
    CHILD_CHECK(rc == 0, "cannot fill %s: %s", mnt, strerror(rc));
}

typedef struct tmpfs_ctx {
    char mnt[4096], dir[4096], pristine[4096], filler[4096];
    const char *args[8]; /* the run: index -q -i DIR args... */
    size_t nargs;
    char *before; /* child_snapshot of the index before the run */
    docset after; /* the documents after it */
    int failures;
    char named[4096]; /* the files the failures named */
} tmpfs_ctx;

/* tmpfs options: 4 MiB, and an inode limit (a limit can be changed on
 * remount, but not set on one that was mounted without). */
static void child_mount(const tmpfs_ctx *c, unsigned long flags, long long inodes)
{
    char opts[128];
    snprintf(opts, sizeof opts, "size=4m,mode=0755,nr_inodes=%lld", inodes);
    if (mount("se-test-tmpfs", c->mnt, "tmpfs", flags | MS_NOSUID | MS_NODEV, opts) != 0) {
        if (flags & MS_REMOUNT) CHILD_CHECK(0, "remount %s: %s", opts, strerror(errno));
        report("skip", "mount -t tmpfs -o %s: %s", opts, strerror(errno));
        _exit(2);
    }
}

static long long used_inodes(const char *path)
{
    struct statvfs v;
    if (statvfs(path, &v) != 0) return -1;
    return (long long)(v.f_files - v.f_ffree);
}

/* Save the index as it is as the state every attempt starts from. */
static void child_save(tmpfs_ctx *c)
{
    fs_rm_rf(c->pristine);
    CHILD_CHECK(mkdir(c->pristine, 0755) == 0 && fs_copy_dir_files(c->dir, c->pristine) == 0,
                "copying the index");
    free(c->before);
    c->before = child_snapshot(c->dir);
}

/* Put the index back as it was saved. */
static void child_restore(tmpfs_ctx *c)
{
    unlink(c->filler);
    CHILD_CHECK(fs_rm_rf(c->dir) == 0 && mkdir(c->dir, 0755) == 0 &&
                    fs_copy_dir_files(c->pristine, c->dir) == 0,
                "restoring the index: %s", strerror(errno));
}

/* The run under whatever limit the caller set (`limit` describes it): 1
 * if it succeeded (and left exactly the planned documents and files), 0
 * if it failed cleanly. */
static int child_attempt(tmpfs_ctx *c, const char *limit)
{
    const char *argv[16] = {"-q", "-i", c->dir};
    size_t n = 3;
    for (size_t i = 0; i < c->nargs; i++) argv[n++] = c->args[i];
    run_result r;
    e2e_runv(&r, TIMEOUT, "index", argv, n);
    unlink(c->filler);
    char why[8192];
    if (r.exit_code == 0) {
        run_result_free(&r);
        docset got;
        CHILD_CHECK(docset_init(&got, NIDS) == 0, "out of memory");
        CHILD_CHECK(docgen_read_index(c->dir, &got, NULL, why, sizeof why) == 0, "reading: %s",
                    why);
        CHILD_CHECK(docset_equal(&got, &c->after),
                    "%s: the run succeeded without the planned documents", limit);
        docset_free(&got);
        CHILD_CHECK(ixfiles_check_exact(c->dir, why, sizeof why) == 0, "%s: after the run: %s",
                    limit, why);
        return 1;
    }
    CHILD_CHECK(r.exit_code == 5 && !r.signal, "%s: expected exit 5 (or success), got %s\n%s",
                limit, run_describe(&r), r.err);
    CHILD_CHECK(strstr(r.err, "No space left on device") && strstr(r.err, c->dir) &&
                    strstr(r.err, "nothing was committed"),
                "%s: the error should name a file of %s and say why:\n%s", limit, c->dir, r.err);
    const char *p = strstr(r.err, c->dir) + strlen(c->dir) + 1;
    size_t len = strcspn(p, ": \n");
    size_t used = strlen(c->named);
    if (used + len + 4 < sizeof c->named)
        snprintf(c->named + used, sizeof c->named - used, "%s%.*s", used ? ", " : "", (int)len, p);
    run_result_free(&r);
    c->failures++;
    char *now = child_snapshot(c->dir);
    CHILD_CHECK(strcmp(now, c->before) == 0,
                "%s: the failed run changed the index or its answers.\nbefore:\n%s\nafter:\n%s",
                limit, c->before, now);
    free(now);
    const char *vargs[] = {"--verify", "-i", c->dir};
    e2e_runv(&r, TIMEOUT, "index", vargs, 3);
    CHILD_CHECK(r.exit_code == 0, "%s: --verify after the failure: %s\n%s", limit, run_describe(&r),
                r.err);
    run_result_free(&r);
    return 0;
}

/* The run with `target` bytes free. */
static int child_attempt_space(tmpfs_ctx *c, long long target)
{
    char limit[64];
    snprintf(limit, sizeof limit, "%lld bytes free", target);
    child_fill(c->filler, c->mnt, target);
    return child_attempt(c, limit);
}

/* What the run wrote, by the pages of the files it left that the saved
 * copy does not have, MANIFEST included (it is written under a temporary
 * name beside the old one).  Its peak need, as the files it replaces are
 * removed only after the commit. */
static long long new_bytes(const tmpfs_ctx *c)
{
    char *l = fs_dir_listing(c->dir, NULL);
    CHILD_CHECK(l, "cannot list %s", c->dir);
    long long total = 0;
    for (char *line = strtok(l, "\n"); line; line = strtok(NULL, "\n")) {
        char name[256];
        long long size;
        if (sscanf(line, "%255s %lld", name, &size) != 2) continue;
        char path[4096];
        if (strcmp(name, "MANIFEST") != 0 &&
            (fs_join(path, sizeof path, c->pristine, name) != 0 || fs_exists(path)))
            continue;
        total += (size + 4095) / 4096 * 4096;
    }
    free(l);
    return total;
}

/* Free space from nothing to 1.25 times what the run uses, in even steps,
 * then bisect between the last failure and the first success, where the
 * run's last files (deletions, manifest) run out of space.  Ends with the
 * index as the successful run left it. */
static void child_space_sweep(tmpfs_ctx *c, const char *what, int steps)
{
    c->failures = 0;
    c->named[0] = 0;
    CHILD_CHECK(child_attempt_space(c, free_bytes(c->mnt)) == 1, "%s fails with plenty of space",
                what);
    long long need = new_bytes(c);
    CHILD_CHECK(need > 8192, "%s used only %lld bytes", what, need);
    long long lo = -1, hi = -1;
    for (int k = 0; k <= steps && hi < 0; k++) {
        child_restore(c);
        long long target = need * 5 / 4 * k / steps;
        if (child_attempt_space(c, target))
            hi = target;
        else
            lo = target;
    }
    CHILD_CHECK(hi >= 0, "%s failed even with %lld bytes free (it used %lld)", what, lo, need);
    CHILD_CHECK(lo >= 0, "%s succeeded with nothing free", what);
    for (int k = 0; k < 8 && hi - lo > 4096; k++) {
        long long mid = (lo + hi) / 2;
        child_restore(c);
        if (child_attempt_space(c, mid))
            hi = mid;
        else
            lo = mid;
    }
    if (hi - lo > 4096 || c->failures == 0) CHILD_CHECK(0, "%s: the sweep did not converge", what);
    /* The last attempt may have been a failure: finish the run. */
    child_restore(c);
    CHILD_CHECK(child_attempt_space(c, free_bytes(c->mnt)) == 1, "%s with the space back", what);
    report("info",
           "%s: %d attempt(s) failed cleanly with ENOSPC, naming %s; it used %lld bytes and "
           "succeeded with %lld free, not with %lld",
           what, c->failures, c->named, need, hi, lo);
}

/* The same with the number of free inodes: from none to enough, so that
 * creating each new file of the run fails in turn. */
static void child_inode_sweep(tmpfs_ctx *c, const char *what)
{
    c->failures = 0;
    c->named[0] = 0;
    int k;
    for (k = 0; k < 16; k++) {
        child_mount(c, MS_REMOUNT, 100000);
        child_restore(c);
        long long limit = used_inodes(c->mnt) + k;
        child_mount(c, MS_REMOUNT, limit);
        char label[64];
        snprintf(label, sizeof label, "%d free inode(s)", k);
        if (child_attempt(c, label)) break;
    }
    child_mount(c, MS_REMOUNT, 100000);
    CHILD_CHECK(k < 16, "%s failed even with 15 free inodes", what);
    CHILD_CHECK(c->failures > 0, "%s succeeded without a free inode", what);
    report("info",
           "%s: %d attempt(s) failed cleanly for want of inodes, naming %s; it succeeded "
           "with %d free",
           what, c->failures, c->named, k);
}

static void tmpfs_scenario(const char *mnt)
{
    /* Dozens of runs against a 240 s watchdog: too many to run each under
     * a wrapper such as valgrind (make valgrind), so this scenario starts
     * the binaries themselves. */
    unsetenv("SE_RUN_WRAPPER");
    static tmpfs_ctx c;
    snprintf(c.mnt, sizeof c.mnt, "%s", mnt);
    if (unshare(CLONE_NEWNS) != 0) {
        report("skip", "unshare(CLONE_NEWNS): %s", strerror(errno));
        _exit(2);
    }
    /* Private, so that the tmpfs never shows outside this namespace. */
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) {
        report("skip", "making mounts private: %s", strerror(errno));
        _exit(2);
    }
    child_mount(&c, 0, 100000);
    /* The inputs and the saved copy stay outside the tmpfs. */
    char base[4096], batch[4096];
    CHILD_CHECK(fs_join(c.dir, sizeof c.dir, mnt, "index") == 0 &&
                    fs_join(c.filler, sizeof c.filler, mnt, "filler") == 0 &&
                    fs_join(c.pristine, sizeof c.pristine, g_tmp, "pristine") == 0 &&
                    fs_join(base, sizeof base, g_tmp, "base.jsonl") == 0 &&
                    fs_join(batch, sizeof batch, g_tmp, "batch.jsonl") == 0,
                "path too long");
    CHILD_CHECK(docset_init(&c.after, NIDS) == 0, "out of memory");

    run_result r;
    child_index(&r, c.dir, base);
    CHILD_CHECK(r.exit_code == 0, "first build on tmpfs: %s\n%s", run_describe(&r), r.err);
    run_result_free(&r);

    /* An update: 400 new documents, 30 replaced. */
    child_save(&c);
    c.args[0] = batch;
    c.nargs = 1;
    set_docs(&c.after, 0, 600, 1);
    set_docs(&c.after, 0, 30, 2);
    child_space_sweep(&c, "the update", 12);
    child_inode_sweep(&c, "the update");

    /* --optimize of the updated index (two segments, one with deletions):
     * the merged segment's files and the manifest. */
    child_save(&c);
    c.args[0] = "--optimize";
    child_space_sweep(&c, "--optimize", 10);
    free(c.before);
    docset_free(&c.after);
    _exit(0);
}

Test(diskfull, enospc_on_a_small_tmpfs)
{
    char base[4096], batch[4096], mnt[4096];
    batch_path(base, sizeof base, "base.jsonl");
    batch_path(batch, sizeof batch, "batch.jsonl");
    write_docs(base, 0, 200, 1, 0);
    write_docs(batch, 200, 600, 1, 0);
    write_docs(batch, 0, 30, 2, 1);
    cr_assert_eq(fs_join(mnt, sizeof mnt, g_tmp, "mnt"), 0);
    cr_assert_eq(mkdir(mnt, 0755), 0);
    if (geteuid() != 0) {
        fprintf(stderr, "diskfull: ENOSPC on tmpfs skipped: mounting a tmpfs needs root (uid %d)\n",
                (int)geteuid());
        return;
    }
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    fflush(NULL);
    pid_t pid = fork();
    cr_assert_geq(pid, 0, "fork: %s", strerror(errno));
    if (pid == 0) {
        close(fds[0]);
        g_report = fds[1];
        tmpfs_scenario(mnt);
        _exit(1);
    }
    close(fds[1]);
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    cr_assert_not_null(mem);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        struct pollfd pfd = {fds[0], POLLIN, 0};
        int ready = poll(&pfd, 1, 1000);
        char buf[4096];
        ssize_t n = ready > 0 ? read(fds[0], buf, sizeof buf) : 0;
        if (ready > 0 && n <= 0) break;
        if (n > 0) fwrite(buf, 1, (size_t)n, mem);
        struct timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        if (t.tv_sec - t0.tv_sec > 240) {
            kill(pid, SIGKILL);
            break;
        }
    }
    close(fds[0]);
    fclose(mem);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    for (const char *line = text; line && *line;) {
        size_t n = strcspn(line, "\n");
        if (strncmp(line, "info: ", 6) == 0 || strncmp(line, "skip: ", 6) == 0)
            fprintf(stderr, "diskfull: tmpfs: %.*s\n", (int)n, line);
        line += n + (line[n] == '\n');
    }
    if (code == 2)
        fprintf(stderr, "diskfull: ENOSPC on tmpfs skipped: %s\n", text ? text : "");
    else
        cr_assert_eq(code, 0, "the tmpfs scenario failed (status %d): %s", status,
                     text && *text ? text : "(no message)");
    free(text);
}

/* ------------------------------------------------------------- (c) permissions */

/* Can uid NOBODY run the binaries and read the inputs?  NULL if so, else why
 * not. */
static const char *nobody_can_run(const char *input)
{
    static char why[512];
    run_options o = RUN_OPTIONS_NONE;
    o.uid = o.gid = NOBODY;
    run_result r;
    const char *args[] = {"--version"};
    int rc = e2e_runv_opts(&r, TIMEOUT, &o, NULL, "index", args, 1);
    if (rc != 0 || r.exit_code != 0) {
        snprintf(why, sizeof why, "uid %d cannot run %.200s/index: %s %.200s", NOBODY,
                 e2e_bin_dir(), run_describe(&r), r.err);
        run_result_free(&r);
        return why;
    }
    run_result_free(&r);
    char *argv[] = {"/bin/cat", (char *)input, NULL};
    rc = run_argv_opts(argv, NULL, &o, TIMEOUT, &r);
    if (rc != 0 || r.exit_code != 0) {
        snprintf(why, sizeof why, "uid %d cannot read %.200s: %.200s", NOBODY, input, r.err);
        run_result_free(&r);
        return why;
    }
    run_result_free(&r);
    return NULL;
}

static void expect_refused(const run_result *r, const char *what)
{
    cr_assert(!r->signal && !r->timed_out && (r->exit_code == 3 || r->exit_code == 5),
              "%s: expected exit 5 (or 3), got %s\n%s", what, run_describe(r), r->err);
    EXPECT_STDERR_HAS(r, "Permission denied", what);
    EXPECT_STDERR_HAS(r, g_index, what);
    EXPECT_STDERR_HAS(r, "nothing was committed", what);
}

Test(diskfull, unwritable_index_directory)
{
    char base[4096], batch[4096], lock[4096];
    batch_path(base, sizeof base, "base.jsonl");
    batch_path(batch, sizeof batch, "batch.jsonl");
    cr_assert_eq(fs_join(lock, sizeof lock, g_index, "LOCK"), 0);
    write_docs(base, 0, 200, 1, 0);
    write_docs(batch, 200, 400, 1, 0);
    write_docs(batch, 0, 20, 2, 1);
    docset want;
    cr_assert_eq(docset_init(&want, NIDS), 0);
    set_docs(&want, 0, 200, 1);
    run_result r;
    index_opts(&r, NULL, "-q", "-i", g_index, base, NULL);
    EXPECT_EXIT(&r, 0, "first build");
    run_result_free(&r);
    snapshot before;
    take_snapshot(g_index, &before, NULL);

    if (geteuid() != 0) {
        cr_assert_eq(chmod(g_index, 0555), 0);
        index_opts(&r, NULL, "-q", "-i", g_index, batch, NULL);
        expect_refused(&r, "update of a read-only directory");
        run_result_free(&r);
        index_opts(&r, NULL, "-q", "-i", g_index, "--delete", "doc000001", NULL);
        expect_refused(&r, "--delete in a read-only directory");
        run_result_free(&r);
        cr_assert_eq(chmod(g_index, 0755), 0);
        expect_unchanged(g_index, &before, "after the refused runs");
    } else {
        /* Root writes anywhere: run the writer as an unprivileged user, in
         * a directory tree it can enter and read but not write. */
        cr_assert_eq(chmod(g_tmp, 0755), 0);
        cr_assert_eq(chmod(batch, 0644), 0);
        const char *why = nobody_can_run(batch);
        if (why) {
            fprintf(stderr, "diskfull: unwritable directory skipped: %s\n", why);
            free_snapshot(&before);
            docset_free(&want);
            return;
        }
        run_options o = RUN_OPTIONS_NONE;
        o.uid = o.gid = NOBODY;
        index_opts(&r, &o, "-q", "-i", g_index, batch, NULL);
        expect_refused(&r, "update by a user who cannot open LOCK");
        run_result_free(&r);
        expect_unchanged(g_index, &before, "after the refused update");

        /* With the lock file its own, the writer gets as far as creating
         * files. */
        cr_assert_eq(chown(lock, NOBODY, NOBODY), 0);
        index_opts(&r, &o, "-q", "-i", g_index, batch, NULL);
        expect_refused(&r, "update by a user who cannot create files");
        run_result_free(&r);
        index_opts(&r, &o, "-q", "-i", g_index, "--delete", "doc000001", NULL);
        expect_refused(&r, "--delete by a user who cannot create files");
        run_result_free(&r);
        cr_assert_eq(chown(lock, 0, 0), 0);
        expect_unchanged(g_index, &before, "after the refused runs");
        /* Readers need no write access. */
        snapshot as_nobody;
        take_snapshot(g_index, &as_nobody, &o);
        for (int q = 0; q < NQUERIES; q++)
            cr_assert_str_eq(as_nobody.answers[q], before.answers[q], "search as uid %d: %s",
                             NOBODY, queries[q]);
        free_snapshot(&as_nobody);
    }
    expect_state(g_index, &want, "after the refused runs");
    index_opts(&r, NULL, "-q", "-i", g_index, batch, NULL);
    EXPECT_EXIT(&r, 0, "the update with write access");
    run_result_free(&r);
    set_docs(&want, 200, 400, 1);
    set_docs(&want, 0, 20, 2);
    expect_state(g_index, &want, "after the update");
    expect_exact_files(g_index, "after the update");
    free_snapshot(&before);
    docset_free(&want);
}
