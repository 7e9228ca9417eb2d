/*
 * test_run.c - unit tests for the test support code the end-to-end tests
 * stand on: tests/support/run.c (child processes with captured output and a
 * time limit) and tests/support/fsutil.c (temporary directories, listings).
 *
 * Children are /bin/sh one-liners, so these tests need nothing but a POSIX
 * shell (and dd, head, id).
 */
#include <criterion/criterion.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/support/fsutil.h"
#include "tests/support/run.h"

static void sh(const char *script, double timeout, run_result *r)
{
    char *argv[] = {"/bin/sh", "-c", (char *)script, NULL};
    cr_assert_eq(run_argv(argv, timeout, r), 0, "cannot run /bin/sh");
}

Test(run, captures_stdout_stderr_and_exit_code)
{
    run_result r;
    sh("printf 'out\\n'; printf 'err' >&2; exit 3", 10, &r);
    cr_assert_eq(r.exit_code, 3);
    cr_assert_eq(r.signal, 0);
    cr_assert_eq(r.timed_out, 0);
    cr_assert_str_eq(r.out, "out\n");
    cr_assert_eq(r.out_len, 4);
    cr_assert_str_eq(r.err, "err");
    cr_assert_str_eq(run_describe(&r), "exit 3");
    run_result_free(&r);
}

Test(run, empty_output_is_an_empty_string)
{
    run_result r;
    sh("exit 0", 10, &r);
    cr_assert_eq(r.exit_code, 0);
    cr_assert_not_null(r.out);
    cr_assert_not_null(r.err);
    cr_assert_eq(r.out_len + r.err_len, 0);
    run_result_free(&r);
}

Test(run, large_output_does_not_block)
{
    run_result r;
    /* 4 MiB on stdout and on stderr: far more than a pipe holds. */
    sh("head -c 4194304 /dev/zero; head -c 4194304 /dev/zero >&2", 30, &r);
    cr_assert_eq(r.exit_code, 0, "%s", run_describe(&r));
    cr_assert_eq(r.out_len, 4194304);
    cr_assert_eq(r.err_len, 4194304);
    run_result_free(&r);
}

Test(run, timeout_kills_the_process_group)
{
    run_result r;
    /* The shell's child must die too (same process group). */
    sh("sleep 30 & sleep 30; echo never", 0.3, &r);
    cr_assert_eq(r.timed_out, 1);
    cr_assert_eq(r.exit_code, -1);
    cr_assert_eq(r.signal, SIGKILL);
    cr_assert_lt(r.seconds, 10.0);
    cr_assert_str_eq(r.out, "");
    cr_assert(strstr(run_describe(&r), "timed out"));
    run_result_free(&r);
}

Test(run, signal_is_reported)
{
    run_result r;
    sh("kill -SEGV $$", 10, &r);
    cr_assert_eq(r.signal, SIGSEGV);
    cr_assert_eq(r.exit_code, -1);
    cr_assert(strstr(run_describe(&r), "signal 11"), "%s", run_describe(&r));
    run_result_free(&r);
}

Test(run, stdin_is_dev_null_or_a_file)
{
    run_result r;
    sh("cat; echo end", 10, &r);
    cr_assert_str_eq(r.out, "end\n");
    run_result_free(&r);

    char *dir = fs_mkdtemp("test_run_");
    cr_assert_not_null(dir);
    char path[4096];
    cr_assert_eq(fs_join(path, sizeof path, dir, "in"), 0);
    cr_assert_eq(fs_write_str(path, "from a file\n"), 0);
    char *argv[] = {"cat", NULL}; /* found through PATH */
    cr_assert_eq(run_argv_stdin(argv, path, 10, &r), 0);
    cr_assert_str_eq(r.out, "from a file\n");
    run_result_free(&r);
    cr_assert_eq(fs_rm_rf(dir), 0);
    free(dir);
}

Test(run, missing_program_fails_to_start_or_exits_127)
{
    run_result r;
    char *argv[] = {"/nonexistent/program", NULL};
    int rc = run_argv(argv, 10, &r);
    /* posix_spawn reports the failure either way, depending on the libc. */
    cr_assert(rc == -1 || r.exit_code == 127, "rc %d, %s", rc, run_describe(&r));
    run_result_free(&r);
}

Test(run, started_child_runs_unattended)
{
    run_child *c;
    char *argv[] = {"/bin/sh", "-c", "sleep 0.2; echo done", NULL};
    cr_assert_eq(run_start(&c, argv, NULL), 0);
    cr_assert_gt(run_child_pid(c), 0);
    cr_assert_eq(run_child_done(c), 0);
    while (!run_child_done(c)) usleep(10000);
    run_result r;
    cr_assert_eq(run_wait(c, 10, &r), 0);
    cr_assert_eq(r.exit_code, 0);
    cr_assert_str_eq(r.out, "done\n");
    run_result_free(&r);
}

Test(fsutil, listing_and_recursive_removal)
{
    char *dir = fs_mkdtemp("test_fsutil_");
    cr_assert_not_null(dir);
    char a[4096], b[4096], sub[4096], deep[4096];
    fs_join(a, sizeof a, dir, "a");
    fs_join(b, sizeof b, dir, "LOCK");
    fs_join(sub, sizeof sub, dir, "sub");
    cr_assert_eq(fs_write_str(a, "alpha"), 0);
    cr_assert_eq(fs_write_str(b, "123\n"), 0);
    cr_assert_eq(mkdir(sub, 0755), 0);
    fs_join(deep, sizeof deep, sub, "x");
    cr_assert_eq(fs_write_str(deep, "x"), 0);
    cr_assert_eq(fs_count_entries(dir), 3);

    static const char *const lock[] = {"LOCK", NULL};
    char *l1 = fs_dir_listing(dir, lock);
    cr_assert_not_null(l1);
    cr_assert(strncmp(l1, "LOCK\na 5 ", 9) == 0, "listing:\n%s", l1);
    cr_assert(strstr(l1, "\nsub/\n"), "listing:\n%s", l1);
    cr_assert_eq(fs_write_str(b, "456\n"), 0); /* size-only: no change */
    char *l2 = fs_dir_listing(dir, lock);
    cr_assert_str_eq(l1, l2);
    cr_assert_eq(fs_write_str(a, "alphA"), 0); /* content: a change */
    char *l3 = fs_dir_listing(dir, lock);
    cr_assert_str_neq(l1, l3);
    free(l1);
    free(l2);
    free(l3);

    size_t len;
    char *data = fs_read_file(a, &len);
    cr_assert_str_eq(data, "alphA");
    cr_assert_eq(len, 5);
    free(data);

    /* Unreadable parts do not stop the removal. */
    cr_assert_eq(chmod(sub, 0), 0);
    cr_assert_eq(fs_rm_rf(dir), 0);
    cr_assert_eq(fs_exists(dir), 0);
    cr_assert_eq(fs_rm_rf(dir), 0, "a missing path is no error");
    free(dir);
}

Test(run, file_size_limit_with_sigxfsz_ignored_gives_efbig)
{
    char *dir = fs_mkdtemp("test_run_");
    cr_assert_not_null(dir);
    char script[4200];
    /* dd reports the failed write and exits non-zero; the shell prints
     * whether the file stopped at the limit. */
    snprintf(script, sizeof script,
             "dd if=/dev/zero of=%s/big bs=1024 count=64 2>&1; echo \"status $?\"; "
             "wc -c < %s/big",
             dir, dir);
    char *argv[] = {"/bin/sh", "-c", script, NULL};
    run_options o = RUN_OPTIONS_NONE;
    o.fsize_limit = 8192;
    o.ignore_sigxfsz = 1;
    run_result r;
    cr_assert_eq(run_argv_opts(argv, NULL, &o, 10, &r), 0, "%s", r.err);
    cr_assert_eq(r.exit_code, 0, "%s", run_describe(&r));
    cr_assert(strstr(r.out, "File too large"), "%s", r.out);
    cr_assert(strstr(r.out, "status 0") == NULL, "%s", r.out);
    cr_assert(strstr(r.out, "\n8192\n"), "%s", r.out);
    run_result_free(&r);

    /* Without ignoring it, SIGXFSZ ends the writer. */
    o.ignore_sigxfsz = 0;
    char *argv2[] = {"/bin/sh", "-c", "exec head -c 65536 /dev/zero > \"$0\"/big2", dir, NULL};
    cr_assert_eq(run_argv_opts(argv2, NULL, &o, 10, &r), 0);
    cr_assert_eq(r.signal, SIGXFSZ, "%s", run_describe(&r));
    run_result_free(&r);
    cr_assert_eq(fs_rm_rf(dir), 0);
    free(dir);
}

Test(run, options_run_as_another_user_and_report_exec_errors)
{
    run_result r;
    run_options o = RUN_OPTIONS_NONE;
    char *missing[] = {"/nonexistent/program", NULL};
    cr_assert_eq(run_argv_opts(missing, NULL, &o, 10, &r), -1);
    cr_assert_eq(errno, ENOENT);
    run_result_free(&r);
    if (geteuid() != 0) {
        cr_log_info("not root: running as another user is not checked");
        return;
    }
    o.uid = o.gid = 65534;
    char *argv[] = {"/bin/sh", "-c", "id -u; id -g; id -G", NULL};
    cr_assert_eq(run_argv_opts(argv, NULL, &o, 10, &r), 0, "%s", r.err);
    cr_assert_eq(r.exit_code, 0, "%s", run_describe(&r));
    cr_assert_str_eq(r.out, "65534\n65534\n65534\n");
    run_result_free(&r);
}

/* SE_RUN_WRAPPER goes in front of programs in $SE_BIN_DIR only, through
 * both ways of starting a child, and not when the options say unwrapped. */
Test(run, wrapper_prefixes_programs_of_the_bin_dir)
{
    cr_assert_eq(setenv("SE_BIN_DIR", "/bin/", 1), 0);
    cr_assert_eq(setenv("SE_RUN_WRAPPER", "  /usr/bin/env\tSE_WRAPPED=yes  SE_TWICE=2 ", 1), 0);
    char *in_dir[] = {"/bin/sh", "-c", "printf '%s %s' \"$SE_WRAPPED\" \"$SE_TWICE\"", NULL};
    char *elsewhere[] = {"/usr/bin/env", "sh", "-c", "printf '[%s]' \"$SE_WRAPPED\"", NULL};
    run_result r;

    cr_assert_eq(run_argv(in_dir, 10, &r), 0, "%s", r.err);
    cr_assert_eq(r.exit_code, 0, "%s: %s", run_describe(&r), r.err);
    cr_assert_str_eq(r.out, "yes 2");
    run_result_free(&r);

    run_options o = RUN_OPTIONS_NONE;
    cr_assert_eq(run_argv_opts(in_dir, NULL, &o, 10, &r), 0, "%s", r.err);
    cr_assert_str_eq(r.out, "yes 2");
    run_result_free(&r);

    o.unwrapped = 1;
    cr_assert_eq(run_argv_opts(in_dir, NULL, &o, 10, &r), 0, "%s", r.err);
    cr_assert_str_eq(r.out, " ");
    run_result_free(&r);

    cr_assert_eq(run_argv(elsewhere, 10, &r), 0, "%s", r.err);
    cr_assert_str_eq(r.out, "[]");
    run_result_free(&r);

    /* A blank wrapper changes nothing. */
    cr_assert_eq(setenv("SE_RUN_WRAPPER", " ", 1), 0);
    cr_assert_eq(run_argv(in_dir, 10, &r), 0, "%s", r.err);
    cr_assert_str_eq(r.out, " ");
    run_result_free(&r);
}

/* The time limit of a wrapped child is scaled by SE_RUN_TIMEOUT_SCALE. */
Test(run, wrapped_child_gets_a_scaled_time_limit)
{
    cr_assert_eq(setenv("SE_BIN_DIR", "/bin", 1), 0);
    cr_assert_eq(setenv("SE_RUN_WRAPPER", "/usr/bin/env", 1), 0);
    cr_assert_eq(setenv("SE_RUN_TIMEOUT_SCALE", "200", 1), 0);
    char *argv[] = {"/bin/sh", "-c", "sleep 0.5; echo done", NULL};
    run_result r;
    cr_assert_eq(run_argv(argv, 0.05, &r), 0, "%s", r.err);
    cr_assert_eq(r.timed_out, 0, "a limit of 0.05 s x 200 = 10 s: %s", run_describe(&r));
    cr_assert_str_eq(r.out, "done\n");
    run_result_free(&r);
    cr_assert_eq(unsetenv("SE_RUN_WRAPPER"), 0);
    cr_assert_eq(run_argv(argv, 0.05, &r), 0, "%s", r.err);
    cr_assert_eq(r.timed_out, 1, "not wrapped: no scaling, %s", run_describe(&r));
    run_result_free(&r);
}
