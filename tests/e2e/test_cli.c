/*
 * test_cli.c - the command-line conventions every program follows
 * (index, search, eval):
 *
 *   - -h / --help print the usage, with the exit codes, on stdout and exit
 *     0; -V / --version print "PROGRAM VERSION" on stdout and exit 0, the
 *     same version for all three; stderr stays empty;
 *   - an unknown option or a missing option argument exits 2, prints
 *     nothing on stdout, and its first line on stderr is
 *     "PROGRAM: message" (getopt's own messages included);
 *   - a runtime error prints every line as "PROGRAM: message" on stderr.
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/e2e/expect.h"
#include "tests/support/e2e.h"
#include "tests/support/run.h"

#define TIMEOUT 60.0

static const char *const progs[] = {"index", "search", "eval"};
#define NPROGS 3

/* Every line of s starts with "prog: ". */
static void expect_lines_prefixed(const char *s, const char *prog, const char *what)
{
    char prefix[64];
    snprintf(prefix, sizeof prefix, "%s: ", prog);
    cr_assert_neq(*s, 0, "%s: nothing on stderr", what);
    for (const char *line = s; *line;) {
        cr_assert_eq(strncmp(line, prefix, strlen(prefix)), 0, "%s: a line without \"%s\":\n%s",
                     what, prefix, s);
        const char *nl = strchr(line, '\n');
        if (!nl) break;
        line = nl + 1;
    }
}

Test(cli, help_and_version)
{
    char first_version[64] = "";
    for (size_t i = 0; i < NPROGS; i++) {
        static const char *const help[] = {"--help", "-h"}, *const version[] = {"--version", "-V"};
        for (int v = 0; v < 2; v++) {
            run_result r;
            e2e_run(&r, TIMEOUT, progs[i], help[v], NULL);
            EXPECT_EXIT(&r, 0, help[v]);
            cr_assert_eq(strncmp(r.out, "usage: ", 7), 0, "%s %s:\n%s", progs[i], help[v], r.out);
            cr_assert_not_null(strstr(r.out, "Exit status"), "%s %s documents exit codes", progs[i],
                               help[v]);
            cr_assert_not_null(strstr(r.out, "--version"), "%s %s lists --version", progs[i],
                               help[v]);
            cr_assert_eq(r.err_len, 0, "%s %s: stderr %s", progs[i], help[v], r.err);
            run_result_free(&r);

            e2e_run(&r, TIMEOUT, progs[i], version[v], NULL);
            EXPECT_EXIT(&r, 0, version[v]);
            cr_assert_eq(r.err_len, 0, "%s %s: stderr %s", progs[i], version[v], r.err);
            size_t n = strlen(progs[i]);
            cr_assert(strncmp(r.out, progs[i], n) == 0 && r.out[n] == ' ', "%s %s: %s", progs[i],
                      version[v], r.out);
            const char *ver = r.out + n + 1;
            size_t dots = 0;
            for (const char *p = ver; *p && *p != '\n'; p++) dots += *p == '.';
            cr_assert_eq(dots, 2, "%s %s: not MAJOR.MINOR.PATCH: %s", progs[i], version[v], ver);
            if (!first_version[0])
                snprintf(first_version, sizeof first_version, "%s", ver);
            else
                cr_assert_str_eq(ver, first_version, "%s %s", progs[i], version[v]);
            run_result_free(&r);
        }
    }
}

Test(cli, usage_errors_exit_2_with_the_program_name)
{
    for (size_t i = 0; i < NPROGS; i++) {
        /* An unknown long option, an unknown short one, a missing argument. */
        const char *const cases[][2] = {
            {"--no-such-option", "no-such-option"},
            {"-Z", "Z"},
            {i == 2 ? "-m" : "-i", "requires an argument"},
        };
        for (size_t c = 0; c < 3; c++) {
            run_result r;
            e2e_run(&r, TIMEOUT, progs[i], cases[c][0], NULL);
            char what[128];
            snprintf(what, sizeof what, "%s %s", progs[i], cases[c][0]);
            EXPECT_EXIT(&r, 2, what);
            EXPECT_STDOUT_EMPTY(&r, what);
            char prefix[64];
            snprintf(prefix, sizeof prefix, "%s: ", progs[i]);
            cr_assert_eq(strncmp(r.err, prefix, strlen(prefix)), 0, "%s: stderr starts: %.200s",
                         what, r.err);
            const char *nl = strchr(r.err, '\n');
            cr_assert_not_null(nl);
            char first[512];
            snprintf(first, sizeof first, "%.*s", (int)(nl - r.err), r.err);
            cr_assert_not_null(strstr(first, cases[c][1]), "%s: %s", what, first);
            run_result_free(&r);
        }
    }
}

Test(cli, runtime_errors_name_the_program)
{
    run_result r;
    e2e_run(&r, TIMEOUT, "index", "-q", "-i", "/dev/null", "corpus", NULL);
    EXPECT_EXIT(&r, 3, "index -i /dev/null");
    expect_lines_prefixed(r.err, "index", "index -i /dev/null");
    run_result_free(&r);

    e2e_run(&r, TIMEOUT, "search", "-i", "/nonexistent/index", "mi5", NULL);
    EXPECT_EXIT(&r, 3, "search -i /nonexistent/index");
    expect_lines_prefixed(r.err, "search", "search -i /nonexistent/index");
    EXPECT_STDERR_HAS(&r, "no index at /nonexistent/index", "search");
    run_result_free(&r);

    e2e_run(&r, TIMEOUT, "eval", "/nonexistent/qrels", "/nonexistent/run", NULL);
    EXPECT_EXIT(&r, 1, "eval /nonexistent/qrels");
    expect_lines_prefixed(r.err, "eval", "eval /nonexistent/qrels");
    run_result_free(&r);
}
