/*
 * e2e.c - running the engine's binaries and reading their JSON output
 * (e2e.h).  JSON is parsed with jansson, which every test links.
 */
#include "tests/support/e2e.h"

#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *env_or(const char *name, const char *fallback)
{
    const char *v = getenv(name);
    return v && *v ? v : fallback;
}

const char *e2e_bin_dir(void)
{
    return env_or("SE_BIN_DIR", "bin");
}

const char *e2e_data_dir(void)
{
    return env_or("SE_DATA_DIR", "../shared/data");
}

const char *e2e_seeds_dir(void)
{
    return env_or("SE_SEEDS_DIR", "../shared/seeds");
}

/* Another build may be replacing the binaries while tests run: while the
 * linker rewrites one, starting it can fail with ETXTBSY, EACCES or ENOENT
 * for a moment.  Retry those for up to about two seconds. */
static int transient_start_error(int e)
{
    return e == ETXTBSY || e == EACCES || e == ENOENT;
}

#define START_ATTEMPTS 50

static void start_pause(void)
{
    struct timespec ts = {0, 40000000};
    nanosleep(&ts, NULL);
}

static char **make_argv(char *path, size_t cap, const char *prog, const char *const *args, size_t n)
{
    snprintf(path, cap, "%s/%s", e2e_bin_dir(), prog);
    char **argv = calloc(n + 2, sizeof *argv);
    if (!argv) return NULL;
    argv[0] = path;
    for (size_t i = 0; i < n; i++) argv[i + 1] = (char *)args[i];
    return argv;
}

int e2e_runv_opts(run_result *r, double timeout, const run_options *opts, const char *stdin_path,
                  const char *prog, const char *const *args, size_t n)
{
    char path[4096];
    char **argv = make_argv(path, sizeof path, prog, args, n);
    if (!argv) {
        memset(r, 0, sizeof *r);
        r->exit_code = -1;
        r->out = calloc(1, 1);
        r->err = calloc(1, 1);
        errno = ENOMEM;
        return -1;
    }
    int rc;
    for (int attempt = 0;; attempt++) {
        rc = run_argv_opts(argv, stdin_path, opts, timeout, r);
        if (rc == 0 || r->exit_code != -1 || !transient_start_error(errno) ||
            attempt + 1 == START_ATTEMPTS)
            break;
        run_result_free(r);
        start_pause();
    }
    free(argv);
    return rc;
}

int e2e_start(run_child **c, const char *prog, const char *const *args, size_t n)
{
    char path[4096];
    char **argv = make_argv(path, sizeof path, prog, args, n);
    if (!argv) {
        errno = ENOMEM;
        return -1;
    }
    int rc;
    for (int attempt = 0;; attempt++) {
        rc = run_start(c, argv, NULL);
        if (rc == 0 || !transient_start_error(errno) || attempt + 1 == START_ATTEMPTS) break;
        start_pause();
    }
    int e = errno;
    free(argv);
    errno = e;
    return rc;
}

int e2e_runv_stdin(run_result *r, double timeout, const char *stdin_path, const char *prog,
                   const char *const *args, size_t n)
{
    return e2e_runv_opts(r, timeout, NULL, stdin_path, prog, args, n);
}

int e2e_runv(run_result *r, double timeout, const char *prog, const char *const *args, size_t n)
{
    return e2e_runv_stdin(r, timeout, NULL, prog, args, n);
}

int e2e_run(run_result *r, double timeout, const char *prog, ...)
{
    const char *args[64];
    size_t n = 0;
    va_list ap;
    va_start(ap, prog);
    const char *a;
    while ((a = va_arg(ap, const char *)) != NULL && n < sizeof args / sizeof args[0])
        args[n++] = a;
    va_end(ap);
    return e2e_runv(r, timeout, prog, args, n);
}

static char *dup_string_member(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    return json_is_string(v) ? strdup(json_string_value(v)) : NULL;
}

int e2e_parse_hits(const char *out, int want_snippet, e2e_hits *h, char *why, size_t why_cap)
{
    memset(h, 0, sizeof *h);
    size_t cap = 0, lineno = 0;
    const char *p = out;
    if (why_cap) why[0] = 0;
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        lineno++;
        json_error_t jerr;
        json_t *o = json_loadb(p, len, 0, &jerr);
        const char *bad = NULL;
        if (!o)
            bad = jerr.text;
        else if (!json_is_object(o))
            bad = "not a JSON object";
        else if (!json_is_integer(json_object_get(o, "rank")))
            bad = "no integer \"rank\"";
        else if (!json_is_string(json_object_get(o, "id")))
            bad = "no string \"id\"";
        else if (!json_is_number(json_object_get(o, "score")))
            bad = "no number \"score\"";
        else if (!json_is_string(json_object_get(o, "title")))
            bad = "no string \"title\"";
        else if (want_snippet && !json_is_string(json_object_get(o, "snippet")))
            bad = "no string \"snippet\"";
        if (bad) {
            snprintf(why, why_cap, "line %zu: %s: %.*s", lineno, bad, (int)(len > 300 ? 300 : len),
                     p);
            json_decref(o);
            e2e_hits_free(h);
            return -1;
        }
        if (h->n == cap) {
            cap = cap ? cap * 2 : 16;
            e2e_hit *nh = realloc(h->hits, cap * sizeof *nh);
            if (!nh) {
                snprintf(why, why_cap, "out of memory");
                json_decref(o);
                e2e_hits_free(h);
                return -1;
            }
            h->hits = nh;
        }
        e2e_hit *x = &h->hits[h->n++];
        x->qid = dup_string_member(o, "qid");
        x->rank = (long)json_integer_value(json_object_get(o, "rank"));
        x->id = dup_string_member(o, "id");
        x->score = json_number_value(json_object_get(o, "score"));
        x->title = dup_string_member(o, "title");
        x->snippet = dup_string_member(o, "snippet");
        json_decref(o);
        p = nl ? nl + 1 : p + len;
    }
    return 0;
}

long e2e_hits_find(const e2e_hits *h, const char *id)
{
    for (size_t i = 0; i < h->n; i++)
        if (strcmp(h->hits[i].id, id) == 0) return (long)i;
    return -1;
}

void e2e_hits_free(e2e_hits *h)
{
    for (size_t i = 0; i < h->n; i++) {
        free(h->hits[i].qid);
        free(h->hits[i].id);
        free(h->hits[i].title);
        free(h->hits[i].snippet);
    }
    free(h->hits);
    h->hits = NULL;
    h->n = 0;
}
