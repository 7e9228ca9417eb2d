/*
 * test_verify.c - `index --verify` and `index --stats`, and damage
 * detection by both programs.
 *
 * An index of corpus/ is built once per test in a mkdtemp directory.  Then,
 * for every file of the index (MANIFEST and the five segment files), bytes
 * are flipped one at a time at the header, the footer and a spread of
 * offsets in between: `index --verify` must fail with exit 3 naming that
 * file, and `search` must fail with exit 3 before printing any result.
 * After each trial the file is restored and --verify passes again.
 */
#include <criterion/criterion.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/e2e/expect.h"
#include "tests/support/e2e.h"
#include "tests/support/fsutil.h"
#include "tests/support/run.h"

#define TIMEOUT          60.0
#define OFFSETS_PER_FILE 24

static char *g_tmp;
static char g_index[4096];

static void setup(void)
{
    g_tmp = fs_mkdtemp("se-verify");
    cr_assert_not_null(g_tmp);
    cr_assert_eq(fs_join(g_index, sizeof g_index, g_tmp, "ix"), 0);
    run_result r;
    e2e_run(&r, TIMEOUT, "index", "-q", "-i", g_index, "corpus", NULL);
    cr_assert_eq(r.exit_code, 0, "indexing corpus/: %s", run_describe(&r));
    run_result_free(&r);
}

static void teardown(void)
{
    if (g_tmp) fs_rm_rf(g_tmp);
    free(g_tmp);
    g_tmp = NULL;
}

TestSuite(verify, .init = setup, .fini = teardown);

Test(verify, intact_index_passes_and_stats_describe_it)
{
    run_result r;
    e2e_run(&r, TIMEOUT, "index", "--verify", "-i", g_index, NULL);
    cr_assert_eq(r.exit_code, 0, "%s", run_describe(&r));
    cr_assert(strstr(r.out, "ok: generation 1, 1 segment(s), 5 documents") != NULL, "%s", r.out);
    run_result_free(&r);
    e2e_run(&r, TIMEOUT, "index", "--stats", "-i", g_index, NULL);
    cr_assert_eq(r.exit_code, 0, "%s", run_describe(&r));
    cr_assert(strstr(r.out, "documents   5 live, 0 deleted\n") != NULL, "%s", r.out);
    cr_assert(strstr(r.out, "per posting") != NULL, "%s", r.out);
    run_result_free(&r);
    e2e_run(&r, TIMEOUT, "index", "--verify", "-i", g_index, "corpus", NULL);
    cr_assert_eq(r.exit_code, 2, "a PATH with --verify is a usage error: %s", run_describe(&r));
    run_result_free(&r);
}

Test(verify, missing_index_is_reported)
{
    char missing[4096];
    fs_join(missing, sizeof missing, g_tmp, "nothing-here");
    run_result r;
    e2e_run(&r, TIMEOUT, "index", "--verify", "-i", missing, NULL);
    cr_assert_eq(r.exit_code, 3, "%s", run_describe(&r));
    cr_assert(strstr(r.err, "no index") != NULL, "%s", r.err);
    run_result_free(&r);
}

/* Flip byte `off` of `path`, check both programs refuse the index and name
 * the file, then restore it. */
static void flip_and_check(const char *path, const char *name, size_t off)
{
    size_t len;
    char *orig = fs_read_file(path, &len);
    cr_assert_not_null(orig);
    cr_assert_lt(off, len);
    char *bad = malloc(len);
    cr_assert_not_null(bad);
    memcpy(bad, orig, len);
    bad[off] ^= 0x5a;
    cr_assert_eq(fs_write_file(path, bad, len), 0);

    run_result r;
    e2e_run(&r, TIMEOUT, "index", "--verify", "-i", g_index, NULL);
    cr_expect_eq(r.exit_code, 3, "%s byte %zu: --verify: %s", name, off, run_describe(&r));
    cr_expect(strstr(r.err, name) != NULL, "%s byte %zu: message does not name it: %s", name, off,
              r.err);
    run_result_free(&r);
    e2e_run(&r, TIMEOUT, "search", "-i", g_index, "--json", "mi5 OR the", NULL);
    cr_expect_eq(r.exit_code, 3, "%s byte %zu: search: %s", name, off, run_describe(&r));
    cr_expect_eq(r.out_len, 0, "%s byte %zu: search printed results from a damaged index", name,
                 off);
    run_result_free(&r);

    cr_assert_eq(fs_write_file(path, orig, len), 0);
    free(bad);
    free(orig);
}

Test(verify, every_file_kind_detects_flipped_bytes, .timeout = 300)
{
    DIR *d = opendir(g_index);
    cr_assert_not_null(d);
    struct dirent *e;
    int files = 0;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || strcmp(e->d_name, "LOCK") == 0) continue;
        char path[4096];
        fs_join(path, sizeof path, g_index, e->d_name);
        size_t len;
        char *data = fs_read_file(path, &len);
        cr_assert_not_null(data);
        free(data);
        files++;
        /* header, footer, and evenly spread offsets in between */
        size_t offs[OFFSETS_PER_FILE];
        size_t n = 0;
        for (size_t k = 0; k < 8; k++) offs[n++] = k * 2;
        for (size_t k = 0; k < 8; k++) offs[n++] = len - 1 - k * 2;
        while (n < OFFSETS_PER_FILE) offs[n] = (len / (OFFSETS_PER_FILE - 15)) * (n - 15), n++;
        for (size_t k = 0; k < n; k++) flip_and_check(path, e->d_name, offs[k] % len);
    }
    closedir(d);
    cr_assert_eq(files, 6, "expected MANIFEST and five segment files, saw %d", files);
    run_result r;
    e2e_run(&r, TIMEOUT, "index", "--verify", "-i", g_index, NULL);
    cr_assert_eq(r.exit_code, 0, "restored index: %s", run_describe(&r));
    run_result_free(&r);
}
