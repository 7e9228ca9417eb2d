/*
 * run.c - child processes with a time limit and captured output (run.h).
 *
 * posix_spawnp starts the child with stdout and stderr redirected to two
 * temporary files that are unlinked as soon as they are open; the parent
 * polls waitpid with a short, growing sleep until the child ends or the
 * deadline passes, then reads both files back from offset 0.
 */
#include "tests/support/run.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

struct run_child {
    pid_t pid;
    int out_fd, err_fd;
    int done; /* waitpid has reaped the child */
    int status;
    double started;
    double timeout_scale; /* 1, or SE_RUN_TIMEOUT_SCALE for a wrapped child */
};

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The signals whose dispositions are reset to the default in a child. */
static const int reset_signals[] = {SIGPIPE, SIGINT,  SIGTERM, SIGQUIT, SIGHUP,
                                    SIGCHLD, SIGALRM, SIGUSR1, SIGUSR2};

static int temp_fd(void)
{
    const char *dir = getenv("TMPDIR");
    char path[4096];
    snprintf(path, sizeof path, "%s/run_capture_XXXXXX", dir && *dir ? dir : "/tmp");
    int fd = mkostemp(path, O_CLOEXEC);
    if (fd >= 0) unlink(path);
    return fd;
}

/* ---- the wrapper command (SE_RUN_WRAPPER) ---- */

/* Is prog in the directory $SE_BIN_DIR (default "bin")? */
static int in_bin_dir(const char *prog)
{
    const char *dir = getenv("SE_BIN_DIR");
    if (!dir || !*dir) dir = "bin";
    size_t n = strlen(dir);
    while (n > 1 && dir[n - 1] == '/') n--;
    const char *slash = strrchr(prog, '/');
    return slash && (size_t)(slash - prog) == n && memcmp(prog, dir, n) == 0;
}

/* *out = argv with the wrapper's words in front, or NULL when argv[0] is
 * not to be wrapped (the caller then uses argv as it is).  The vector and
 * the words' text are one allocation: free(*out) releases both.  Returns 0,
 * or -1 with errno when out of memory. */
static int wrap_argv(char *const argv[], char ***out)
{
    *out = NULL;
    const char *spec = getenv("SE_RUN_WRAPPER");
    if (!spec || !*spec || !argv[0] || !in_bin_dir(argv[0])) return 0;
    size_t nwords = 0, nargs = 0, len = strlen(spec);
    for (const char *p = spec; *p;) {
        while (*p == ' ' || *p == '\t') p++;
        if (!*p) break;
        nwords++;
        while (*p && *p != ' ' && *p != '\t') p++;
    }
    while (argv[nargs]) nargs++;
    if (nwords == 0) return 0;
    /* [nwords + nargs + 1 pointers][a copy of spec with NULs between words] */
    size_t vec = (nwords + nargs + 1) * sizeof(char *);
    char **v = malloc(vec + len + 1);
    if (!v) return -1;
    char *words = (char *)v + vec;
    memcpy(words, spec, len + 1);
    size_t k = 0;
    for (char *p = words; *p;) {
        while (*p == ' ' || *p == '\t') *p++ = '\0';
        if (!*p) break;
        v[k++] = p;
        while (*p && *p != ' ' && *p != '\t') p++;
    }
    for (size_t i = 0; i < nargs; i++) v[k++] = argv[i];
    v[k] = NULL;
    *out = v;
    return 0;
}

/* The factor applied to the time limit of a wrapped child. */
static double timeout_scale(char *const argv[])
{
    const char *spec = getenv("SE_RUN_WRAPPER");
    if (!spec || !*spec || !argv[0] || !in_bin_dir(argv[0])) return 1.0;
    const char *s = getenv("SE_RUN_TIMEOUT_SCALE");
    char *end;
    double v = s && *s ? strtod(s, &end) : 1.0;
    if (!s || !*s || *end || !(v >= 1.0) || v > 1000.0) v = 1.0;
    return v;
}

int run_start(run_child **out, char *const argv[], const char *stdin_path)
{
    *out = NULL;
    char **wrapped = NULL;
    run_child *c = calloc(1, sizeof *c);
    if (!c || wrap_argv(argv, &wrapped) != 0) {
        free(c);
        return -1;
    }
    c->timeout_scale = timeout_scale(argv);
    c->out_fd = temp_fd();
    c->err_fd = temp_fd();
    if (c->out_fd < 0 || c->err_fd < 0) goto fail;

    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&attr);
    posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, stdin_path ? stdin_path : "/dev/null",
                                     O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, c->out_fd, STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&fa, c->err_fd, STDERR_FILENO);
    sigset_t none, defaults;
    sigemptyset(&none);
    sigemptyset(&defaults);
    for (size_t i = 0; i < sizeof reset_signals / sizeof reset_signals[0]; i++)
        sigaddset(&defaults, reset_signals[i]);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &defaults);
    posix_spawnattr_setpgroup(&attr, 0);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
                                        POSIX_SPAWN_SETPGROUP);
    c->started = now_seconds();
    int rc = posix_spawnp(&c->pid, wrapped ? wrapped[0] : argv[0], &fa, &attr,
                          wrapped ? wrapped : argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    free(wrapped);
    wrapped = NULL;
    if (rc != 0) {
        errno = rc;
        goto fail;
    }
    *out = c;
    return 0;
fail:;
    int e = errno;
    free(wrapped);
    if (c->out_fd >= 0) close(c->out_fd);
    if (c->err_fd >= 0) close(c->err_fd);
    free(c);
    errno = e;
    return -1;
}

/* In the forked child: report errno through the pipe and end. */
static void child_fail(int report_fd)
{
    int e = errno;
    ssize_t n = write(report_fd, &e, sizeof e);
    (void)n;
    _exit(127);
}

static void child_exec(char *const argv[], const char *stdin_path, const run_options *o, int out_fd,
                       int err_fd, int report_fd)
{
    setpgid(0, 0);
    int in = open(stdin_path ? stdin_path : "/dev/null", O_RDONLY);
    if (in < 0) child_fail(report_fd);
    if (dup2(in, STDIN_FILENO) < 0 || dup2(out_fd, STDOUT_FILENO) < 0 ||
        dup2(err_fd, STDERR_FILENO) < 0)
        child_fail(report_fd);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_DFL;
    for (size_t i = 0; i < sizeof reset_signals / sizeof reset_signals[0]; i++)
        sigaction(reset_signals[i], &sa, NULL);
    /* An ignored disposition survives exec: the program then sees EFBIG
     * from write(2) instead of being killed by the signal. */
    sa.sa_handler = o->ignore_sigxfsz ? SIG_IGN : SIG_DFL;
    sigaction(SIGXFSZ, &sa, NULL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    if (o->fsize_limit > 0) {
        struct rlimit rl = {(rlim_t)o->fsize_limit, (rlim_t)o->fsize_limit};
        if (setrlimit(RLIMIT_FSIZE, &rl) != 0) child_fail(report_fd);
    }
    /* Group first: after setuid the process may no longer change it. */
    if (o->gid >= 0 && (setgroups(0, NULL) != 0 || setgid((gid_t)o->gid) != 0))
        child_fail(report_fd);
    if (o->uid >= 0 && setuid((uid_t)o->uid) != 0) child_fail(report_fd);
    execvp(argv[0], argv);
    child_fail(report_fd);
}

int run_start_opts(run_child **out, char *const argv[], const char *stdin_path,
                   const run_options *opts)
{
    if (!opts) return run_start(out, argv, stdin_path);
    *out = NULL;
    char **wrapped = NULL;
    run_child *c = calloc(1, sizeof *c);
    if (!c || (!opts->unwrapped && wrap_argv(argv, &wrapped) != 0)) {
        free(c);
        return -1;
    }
    c->timeout_scale = opts->unwrapped ? 1.0 : timeout_scale(argv);
    int report[2] = {-1, -1};
    c->out_fd = temp_fd();
    c->err_fd = temp_fd();
    if (c->out_fd < 0 || c->err_fd < 0 || pipe2(report, O_CLOEXEC) != 0) goto fail;
    c->started = now_seconds();
    c->pid = fork();
    if (c->pid < 0) goto fail;
    if (c->pid == 0)
        child_exec(wrapped ? wrapped : argv, stdin_path, opts, c->out_fd, c->err_fd, report[1]);
    free(wrapped);
    wrapped = NULL;
    /* Also here, so that the group exists before run_wait may signal it. */
    setpgid(c->pid, c->pid);
    close(report[1]);
    report[1] = -1;
    int child_errno = 0;
    ssize_t n;
    do n = read(report[0], &child_errno, sizeof child_errno);
    while (n < 0 && errno == EINTR);
    close(report[0]);
    report[0] = -1;
    if (n == (ssize_t)sizeof child_errno) {
        /* The child never reached the program: reap it and fail like
         * posix_spawnp does. */
        while (waitpid(c->pid, NULL, 0) < 0 && errno == EINTR) {
        }
        errno = child_errno;
        goto fail;
    }
    *out = c;
    return 0;
fail:;
    int e = errno;
    free(wrapped);
    if (report[0] >= 0) close(report[0]);
    if (report[1] >= 0) close(report[1]);
    if (c->out_fd >= 0) close(c->out_fd);
    if (c->err_fd >= 0) close(c->err_fd);
    free(c);
    errno = e;
    return -1;
}

pid_t run_child_pid(const run_child *c)
{
    return c->pid;
}

int run_child_done(run_child *c)
{
    if (c->done) return 1;
    pid_t p;
    do p = waitpid(c->pid, &c->status, WNOHANG);
    while (p < 0 && errno == EINTR);
    if (p == c->pid) c->done = 1;
    return c->done;
}

/* Read a whole capture file into a NUL-terminated buffer. */
static int slurp(int fd, char **buf, size_t *len)
{
    *buf = NULL;
    *len = 0;
    struct stat st;
    if (fstat(fd, &st) != 0) goto empty;
    size_t size = (size_t)st.st_size;
    char *p = malloc(size + 1);
    if (!p) goto empty;
    size_t got = 0;
    while (got < size) {
        ssize_t n = pread(fd, p + got, size - got, (off_t)got);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        got += (size_t)n;
    }
    p[got] = 0;
    *buf = p;
    *len = got;
    return got == size ? 0 : -1;
empty:
    *buf = calloc(1, 1);
    return -1;
}

int run_wait(run_child *c, double timeout_seconds, run_result *res)
{
    memset(res, 0, sizeof *res);
    res->exit_code = -1;
    double deadline = c->started + timeout_seconds * c->timeout_scale;
    long nap_ns = 100000; /* 0.1 ms, doubling up to 10 ms */
    while (!run_child_done(c)) {
        if (now_seconds() >= deadline) {
            kill(-c->pid, SIGKILL);
            kill(c->pid, SIGKILL);
            while (waitpid(c->pid, &c->status, 0) < 0 && errno == EINTR) {
            }
            c->done = 1;
            res->timed_out = 1;
            break;
        }
        struct timespec ts = {0, nap_ns};
        nanosleep(&ts, NULL);
        if (nap_ns < 10000000) nap_ns *= 2;
    }
    res->seconds = now_seconds() - c->started;
    if (WIFEXITED(c->status)) res->exit_code = WEXITSTATUS(c->status);
    if (WIFSIGNALED(c->status)) res->signal = WTERMSIG(c->status);
    int rc = slurp(c->out_fd, &res->out, &res->out_len);
    if (slurp(c->err_fd, &res->err, &res->err_len) != 0) rc = -1;
    close(c->out_fd);
    close(c->err_fd);
    free(c);
    if (!res->out || !res->err) rc = -1;
    return rc;
}

int run_argv_opts(char *const argv[], const char *stdin_path, const run_options *opts,
                  double timeout_seconds, run_result *res)
{
    run_child *c;
    if (run_start_opts(&c, argv, stdin_path, opts) != 0) {
        int e = errno;
        memset(res, 0, sizeof *res);
        res->exit_code = -1;
        res->out = calloc(1, 1);
        res->err = strdup(strerror(e));
        res->err_len = res->err ? strlen(res->err) : 0;
        errno = e;
        return -1;
    }
    return run_wait(c, timeout_seconds, res);
}

int run_argv_stdin(char *const argv[], const char *stdin_path, double timeout_seconds,
                   run_result *res)
{
    return run_argv_opts(argv, stdin_path, NULL, timeout_seconds, res);
}

int run_argv(char *const argv[], double timeout_seconds, run_result *res)
{
    return run_argv_stdin(argv, NULL, timeout_seconds, res);
}

const char *run_describe(const run_result *res)
{
    static _Thread_local char buf[96];
    if (res->timed_out)
        snprintf(buf, sizeof buf, "timed out after %.1f s", res->seconds);
    else if (res->signal)
        snprintf(buf, sizeof buf, "signal %d (%s)", res->signal, strsignal(res->signal));
    else if (res->exit_code >= 0)
        snprintf(buf, sizeof buf, "exit %d", res->exit_code);
    else
        snprintf(buf, sizeof buf, "did not run");
    return buf;
}

void run_result_free(run_result *res)
{
    free(res->out);
    free(res->err);
    res->out = res->err = NULL;
    res->out_len = res->err_len = 0;
}
