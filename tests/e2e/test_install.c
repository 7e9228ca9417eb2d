/*
 * test_install.c - `make install` into a temporary prefix, then the
 * installed library used the way a program outside the tree would use it:
 *
 *   - the prefix holds bin/index, bin/search, lib/libsearch.a, the shared
 *     library with its soname and development symlinks, include/libsearch.h,
 *     lib/pkgconfig/libsearch.pc and the man pages, which `man -M` renders;
 *   - the shared library exports only srch_ symbols;
 *   - docs/example.c compiles with `pkg-config --cflags --libs libsearch`
 *     (-std=c11 -pedantic -Wall -Wextra -Werror) against the shared library,
 *     and once statically with `pkg-config --static`;
 *   - both programs, run on an index of the seed articles built by the
 *     installed bin/index, print the same matches, ids, scores, titles and
 *     snippets as the installed bin/search --json;
 *   - DESTDIR stages under another root with the .pc naming the real
 *     prefix, and `make uninstall` removes every installed file again.
 *
 * make runs from the repository root with the build directory the test
 * binaries were built with (SE_BUILD_DIR, SE_BIN_DIR), so it finds
 * everything built and only copies.  Under sanitizers (SE_SAN_FLAGS) the
 * example is compiled with the same flags and the static link, which the
 * sanitizer runtimes do not support, is left out.
 */
#include <criterion/criterion.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/e2e/expect.h"
#include "tests/support/e2e.h"
#include "tests/support/fsutil.h"
#include "tests/support/run.h"

#define TIMEOUT 600.0

static char *g_tmp;

static void setup(void)
{
    g_tmp = fs_mkdtemp("se_e2e_install_");
    cr_assert_not_null(g_tmp);
}

static void teardown(void)
{
    if (g_tmp) fs_rm_rf(g_tmp);
    free(g_tmp);
    g_tmp = NULL;
}

TestSuite(install, .init = setup, .fini = teardown, .timeout = 900);

static const char *env_or(const char *name, const char *fallback)
{
    const char *v = getenv(name);
    return v ? v : fallback;
}

/* Run a shell script (with T, BUILD, BINDIR, SAN and SEEDS in its
 * environment) and return its result. */
static void sh(run_result *r, const char *script)
{
    char env[8192];
    snprintf(env, sizeof env,
             "unset MAKEFLAGS MFLAGS MAKELEVEL; T='%s'; BUILD='%s'; BINDIR='%s'; SAN='%s'; "
             "SEEDS='%s'; export PKG_CONFIG_PATH=\"$T/prefix/lib/pkgconfig\"; %s",
             g_tmp, env_or("SE_BUILD_DIR", "build"), e2e_bin_dir(), env_or("SE_SAN_FLAGS", ""),
             e2e_seeds_dir(), script);
    char *argv[] = {"/bin/sh", "-c", env, NULL};
    cr_assert_eq(run_argv(argv, TIMEOUT, r), 0, "cannot run /bin/sh");
}

#define SH_OK(r, script)                                                                           \
    do {                                                                                           \
        sh((r), (script));                                                                         \
        EXPECT_EXIT((r), 0, (script));                                                             \
    } while (0)

static void make_install(void)
{
    run_result r;
    SH_OK(&r, "make --no-print-directory -s install PREFIX=\"$T/prefix\" BUILD=\"$BUILD\" "
              "BINDIR=\"$BINDIR\" >/dev/null");
    run_result_free(&r);
}

/* The example's output for one hit: "N. id (score S)", title, snippet. */
static void expect_example_matches_search(const char *example_cmd, const char *query)
{
    char script[4096];
    snprintf(script, sizeof script, "%s \"$T/ix\" '%s'", example_cmd, query);
    run_result ex;
    sh(&ex, script);
    EXPECT_EXIT(&ex, 0, script);

    snprintf(script, sizeof script, "\"$T/prefix/bin/search\" -i \"$T/ix\" --json '%s'", query);
    run_result js;
    SH_OK(&js, script);
    e2e_hits hits;
    char why[512];
    cr_assert_eq(e2e_parse_hits(js.out, 1, &hits, why, sizeof why), 0, "%s", why);
    cr_assert_gt(hits.n, 0, "query %s finds nothing in the seeds", query);

    snprintf(script, sizeof script, "\"$T/prefix/bin/search\" -i \"$T/ix\" '%s'", query);
    run_result tx;
    SH_OK(&tx, script);
    /* "N matching documents of M" is the start of search's first line. */
    const char *nl = strchr(ex.out, '\n');
    cr_assert_not_null(nl, "%s", ex.out);
    size_t head = (size_t)(nl - ex.out);
    cr_assert(strncmp(tx.out, ex.out, head) == 0 && tx.out[head] == ',',
              "example says \"%.*s\", search says %s", (int)head, ex.out, tx.out);

    /* Then per hit "rank. id (score S)", "   title", "   snippet". */
    char *line = (char *)nl + 1;
    for (size_t i = 0; i < hits.n; i++) {
        const e2e_hit *h = &hits.hits[i];
        char *lines[3];
        for (int l = 0; l < 3; l++) {
            char *end = strchr(line, '\n');
            cr_assert_not_null(end, "%s: hit %zu is cut short:\n%s", example_cmd, i + 1, ex.out);
            *end = 0;
            lines[l] = line;
            line = end + 1;
        }
        long rank;
        char id[256];
        double score;
        cr_assert_eq(sscanf(lines[0], "%ld. %255s (score %lf)", &rank, id, &score), 3, "%s",
                     lines[0]);
        cr_assert_eq(rank, h->rank);
        cr_assert_str_eq(id, h->id, "%s: hit %zu", example_cmd, i + 1);
        cr_assert(fabs(score - h->score) < 1e-4, "%s: %s scores %f, search says %f", example_cmd,
                  id, score, h->score);
        cr_assert(strncmp(lines[1], "   ", 3) == 0 && strcmp(lines[1] + 3, h->title) == 0,
                  "title of %s: \"%s\", search says \"%s\"", id, lines[1], h->title);
        cr_assert(strncmp(lines[2], "   ", 3) == 0 && strcmp(lines[2] + 3, h->snippet) == 0,
                  "snippet of %s: \"%s\", search says \"%s\"", id, lines[2], h->snippet);
    }
    cr_assert_eq(*line, 0, "%s prints more hits than search: %s", example_cmd, line);
    e2e_hits_free(&hits);
    run_result_free(&ex);
    run_result_free(&js);
    run_result_free(&tx);
}

static void destdir_and_uninstall(void)
{
    run_result r;
    SH_OK(&r, "make --no-print-directory -s install DESTDIR=\"$T/stage\" PREFIX=/opt/se "
              "BUILD=\"$BUILD\" BINDIR=\"$BINDIR\" >/dev/null && "
              "grep -qx 'prefix=/opt/se' \"$T/stage/opt/se/lib/pkgconfig/libsearch.pc\" && "
              "test -x \"$T/stage/opt/se/bin/search\" && "
              "test -x \"$T/stage/opt/se/bin/searchd\" && "
              "find \"$T/stage\" ! -type d | wc -l");
    /* 3 programs, 2 libraries + 2 symlinks, header, .pc, 3 man pages. */
    cr_assert_eq(atoi(r.out), 12, "files and symlinks installed:\n%s", r.out);
    run_result_free(&r);
    SH_OK(&r, "make --no-print-directory -s uninstall DESTDIR=\"$T/stage\" PREFIX=/opt/se "
              "BUILD=\"$BUILD\" BINDIR=\"$BINDIR\" && find \"$T/stage\" ! -type d");
    cr_assert_eq(r.out_len, 0, "left behind after uninstall:\n%s", r.out);
    run_result_free(&r);
}

/* One test: two makes running at once could race on anything out of date. */
Test(install, pkg_config_example_against_the_installed_library)
{
    make_install();
    run_result r;
    static const char *const files[] = {"bin/index",
                                        "bin/search",
                                        "lib/libsearch.a",
                                        "lib/libsearch.so",
                                        "include/libsearch.h",
                                        "lib/pkgconfig/libsearch.pc",
                                        "share/man/man1/index.1",
                                        "share/man/man1/search.1",
                                        "share/man/man3/libsearch.3"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/prefix/%s", g_tmp, files[i]);
        cr_assert(fs_exists(path), "make install did not install %s", files[i]);
    }
    /* The development symlink leads to the soname, which leads to the file. */
    SH_OK(&r, "cd \"$T/prefix/lib\" && test -L libsearch.so && test -L libsearch.so.0 && "
              "test -f \"$(readlink -f libsearch.so)\" && "
              "readelf -d libsearch.so | grep -q 'SONAME.*libsearch.so.0'");
    run_result_free(&r);

    /* Only the public API is exported. */
    SH_OK(&r, "nm -D --defined-only \"$T/prefix/lib/libsearch.so\" | awk '$2 != \"A\"'");
    size_t exported = 0;
    for (char *line = r.out; *line;) {
        char *end = strchr(line, '\n');
        if (end) *end = 0;
        const char *name = strrchr(line, ' ');
        cr_assert_not_null(name, "nm line: %s", line);
        cr_assert_eq(strncmp(name + 1, "srch_", 5), 0, "exported: %s", name + 1);
        exported++;
        if (!end) break;
        line = end + 1;
    }
    cr_assert_geq(exported, 20, "the API's functions are exported:\n%s", r.out);
    run_result_free(&r);

    SH_OK(&r, "pkg-config --modversion libsearch");
    char version[64];
    snprintf(version, sizeof version, "%s", r.out);
    run_result_free(&r);
    SH_OK(&r, "\"$T/prefix/bin/search\" --version");
    cr_assert_not_null(strstr(r.out, version), "pkg-config says %s, search --version %s", version,
                       r.out);
    run_result_free(&r);

    /* man -M renders each page. */
    static const char *const pages[] = {"index", "search", "libsearch"};
    for (size_t i = 0; i < 3; i++) {
        char script[512];
        snprintf(script, sizeof script,
                 "MANPAGER=cat PAGER=cat MANWIDTH=80 man -M \"$T/prefix/share/man\" %s 2>&1",
                 pages[i]);
        SH_OK(&r, script);
        cr_assert_not_null(strstr(r.out, "NAME"), "man %s:\n%.2000s", pages[i], r.out);
        cr_assert_not_null(strstr(r.out, i < 2 ? "EXIT STATUS" : "THREAD SAFETY"),
                           "man %s:\n%.2000s", pages[i], r.out);
        run_result_free(&r);
    }

    SH_OK(&r, "\"$T/prefix/bin/index\" -q -i \"$T/ix\" \"$SEEDS\"");
    run_result_free(&r);

    SH_OK(&r, "cc $SAN -std=c11 -pedantic -Wall -Wextra -Werror -o \"$T/example\" docs/example.c "
              "$(pkg-config --cflags --libs libsearch) && "
              "readelf -d \"$T/example\" | grep -q 'NEEDED.*libsearch.so.0'");
    run_result_free(&r);
    expect_example_matches_search("LD_LIBRARY_PATH=\"$T/prefix/lib\" \"$T/example\"",
                                  "\"ethical responsibility\"");
    expect_example_matches_search("LD_LIBRARY_PATH=\"$T/prefix/lib\" \"$T/example\"",
                                  "security OR powers");

    if (env_or("SE_SAN_FLAGS", "")[0] == 0) {
        SH_OK(&r, "cc -static -std=c11 -o \"$T/example-static\" docs/example.c "
                  "$(pkg-config --static --cflags --libs libsearch) && "
                  "! readelf -d \"$T/example-static\" | grep -q 'NEEDED.*libsearch'");
        run_result_free(&r);
        expect_example_matches_search("\"$T/example-static\"", "\"ethical responsibility\"");
    }

    /* A query error goes to stderr with the example's exit code 2. */
    sh(&r, "LD_LIBRARY_PATH=\"$T/prefix/lib\" \"$T/example\" \"$T/ix\" 'mi5 AND'");
    EXPECT_EXIT(&r, 2, "example with a bad query");
    EXPECT_STDERR_HAS(&r, "column 5", "example with a bad query");
    run_result_free(&r);

    destdir_and_uninstall();
}
