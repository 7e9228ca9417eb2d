/*
 * run.h - run a program as a child process, with a time limit, and capture
 * its exit status, standard output and standard error.
 *
 * The child's stdout and stderr go to unlinked temporary files (not pipes),
 * so a child that writes a lot can never block on a full pipe while the
 * parent waits, and a child started with run_start may run unattended.
 * Its stdin is /dev/null unless a file is named.  The child is the leader of
 * a new process group; on timeout the whole group is killed with SIGKILL.
 * Signal dispositions a test framework may have set (SIGPIPE, SIGINT, ...)
 * are reset to their defaults in the child, and its signal mask is cleared.
 *
 * Typical use:
 *     run_result r;
 *     char *argv[] = {"bin/search", "-k", "3", "query", NULL};
 *     if (run_argv(argv, 10.0, &r) != 0) ...;     // could not start
 *     ... r.exit_code, r.out, r.err ...
 *     run_result_free(&r);
 *
 * Wrapper: when the environment variable SE_RUN_WRAPPER is set (e.g.
 * "valgrind -q --leak-check=full"), a child whose program lies in the
 * directory $SE_BIN_DIR (default "bin": the engine's own binaries, not
 * system tools) is started as that command followed by its argv; the
 * words are separated by blanks (no quoting).  The time limit of such a
 * child is multiplied by SE_RUN_TIMEOUT_SCALE (a number >= 1, default 1),
 * since wrappers such as valgrind run programs many times slower.  Both
 * variables are read at each start.  run_options.unwrapped exempts a child.
 *
 * Thread-safety: run_describe returns a thread-local buffer; everything else
 * keeps its state in the caller's structures.  Children are reaped with
 * waitpid on their pid, so the caller must not ignore SIGCHLD or reap
 * children elsewhere.
 */
#ifndef TESTS_RUN_H
#define TESTS_RUN_H

#include <stddef.h>
#include <sys/types.h>

typedef struct run_result {
    int exit_code; /* 0..255 when the child exited normally, else -1 */
    int signal;    /* the signal that ended the child, or 0 */
    int timed_out; /* 1 when the child was killed for exceeding the time limit */
    char *out;     /* everything written to stdout, NUL-terminated (never NULL) */
    size_t out_len;
    char *err; /* everything written to stderr, NUL-terminated (never NULL) */
    size_t err_len;
    double seconds; /* wall-clock run time */
} run_result;

typedef struct run_child run_child;

/* Start argv[0] (searched in PATH when it has no '/') with arguments argv
 * (NULL-terminated).  stdin_path may be NULL (then /dev/null).  Returns 0 and
 * *out, or -1 with errno set when the child could not be started. */
int run_start(run_child **out, char *const argv[], const char *stdin_path);

/* The child's process id (also its process group id). */
pid_t run_child_pid(const run_child *c);

/* Has the child ended?  Non-blocking: 1 if it has (its status is kept for
 * run_wait), 0 if it is still running. */
int run_child_done(run_child *c);

/* Wait up to timeout_seconds for the child to end (killing its process group
 * when the time is up), collect its output into *res and free c.  Returns 0,
 * or -1 if the output could not be read (res is still filled as far as
 * possible). */
int run_wait(run_child *c, double timeout_seconds, run_result *res);

/* Extra conditions for a child, for tests of resource exhaustion and
 * permissions.  A zeroed struct changes nothing except that uid and gid 0
 * would mean root: use RUN_OPTIONS_NONE as the starting point. */
typedef struct run_options {
    long long fsize_limit; /* RLIMIT_FSIZE in bytes (soft and hard); <= 0: unchanged */
    int ignore_sigxfsz;    /* SIGXFSZ ignored, so an over-limit write fails with EFBIG */
    long uid, gid;         /* setgid/setuid (supplementary groups dropped); < 0: unchanged */
    int unwrapped;         /* start the program itself even when SE_RUN_WRAPPER is set */
} run_options;

#define RUN_OPTIONS_NONE ((run_options){0, 0, -1, -1, 0})

/* run_start with options (NULL: none).  The child is forked, the options
 * applied, then argv[0] executed; an error applying them or executing the
 * program is returned here as -1 with errno, as with run_start. */
int run_start_opts(run_child **out, char *const argv[], const char *stdin_path,
                   const run_options *opts);

/* run_start_opts + run_wait. */
int run_argv_opts(char *const argv[], const char *stdin_path, const run_options *opts,
                  double timeout_seconds, run_result *res);

/* run_start + run_wait. */
int run_argv(char *const argv[], double timeout_seconds, run_result *res);

/* Same, reading stdin from a file. */
int run_argv_stdin(char *const argv[], const char *stdin_path, double timeout_seconds,
                   run_result *res);

/* "exit 3", "signal 11 (Segmentation fault)" or "timed out after 5.0 s", for
 * assertion messages (a thread-local buffer, valid until the next call). */
const char *run_describe(const run_result *res);

void run_result_free(run_result *res);

#endif
