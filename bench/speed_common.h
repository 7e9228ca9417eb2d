/*
 * speed_common.h - what the query-speed drivers written in C and C++ share
 * (bench/bench_search.c, bench/peers/fts5_bench.c, bench/peers/xapian_bench.cc;
 * bench/peers/LuceneBench.java does the same in Java): reading a query file,
 * the clock, and turning one pass of latencies into the line every driver
 * prints, so that all engines are summarised by the same arithmetic.
 *
 * A query file holds one query per line in the search-benchmark-game syntax
 * (bench/speed_prep.c writes them): plain words (any of them), +word
 * (required), -word (excluded) and "quoted phrases".  Each driver turns that
 * into its engine's own query form.
 *
 * The summary line is tab-separated:
 *     engine  type  queries  mean_us  p50_us  p99_us  qps  nonempty  hits
 * with p50/p99 by nearest rank over the sorted latencies, qps = queries /
 * summed latency (one thread, back to back), nonempty = queries with at
 * least one hit and hits = hits returned in all (at most k per query): the
 * last two let a reader check that the engines did comparable work.
 *
 * With --queries-out FILE every driver also writes each timed query's
 * latency (speed_dump).
 *
 * Header-only (static functions) so that each driver stays one file plus
 * this; valid C11 and C++.
 */
#ifndef SE_BENCH_SPEED_COMMON_H
#define SE_BENCH_SPEED_COMMON_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct speed_queries {
    char **q;
    size_t n;
} speed_queries;

/* Monotonic time in nanoseconds. */
static inline double speed_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* Read the non-empty lines of path.  0 on success, -1 (message printed). */
static inline int speed_read_queries(const char *path, speed_queries *out)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        perror(path);
        return -1;
    }
    size_t cap = 0;
    out->q = NULL;
    out->n = 0;
    char *line = NULL;
    size_t lcap = 0;
    ssize_t len;
    while ((len = getline(&line, &lcap, f)) > 0) {
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = 0;
        if (len == 0) continue;
        if (out->n == cap) {
            cap = cap ? 2 * cap : 256;
            char **nq = (char **)realloc(out->q, cap * sizeof *nq);
            if (!nq) {
                fclose(f);
                free(line);
                fprintf(stderr, "%s: out of memory\n", path);
                return -1;
            }
            out->q = nq;
        }
        out->q[out->n++] = strdup(line);
    }
    free(line);
    fclose(f);
    return 0;
}

static inline void speed_free_queries(speed_queries *qs)
{
    for (size_t i = 0; i < qs->n; i++) free(qs->q[i]);
    free(qs->q);
    qs->q = NULL;
    qs->n = 0;
}

static inline int speed_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of sorted v[0..n), p in (0, 1]. */
static inline double speed_percentile(const double *v, size_t n, double p)
{
    if (n == 0) return 0;
    size_t rank = (size_t)ceil(p * (double)n);
    if (rank < 1) rank = 1;
    if (rank > n) rank = n;
    return v[rank - 1];
}

/* Print the summary line of one pass; lat_ns[0..n) is sorted in place. */
static inline void speed_report(FILE *out, const char *engine, const char *type, double *lat_ns,
                                size_t n, size_t nonempty, unsigned long long hits)
{
    double sum = 0;
    for (size_t i = 0; i < n; i++) sum += lat_ns[i];
    qsort(lat_ns, n, sizeof *lat_ns, speed_cmp_double);
    double mean_us = n ? sum / (double)n / 1e3 : 0;
    fprintf(out, "%s\t%s\t%zu\t%.1f\t%.1f\t%.1f\t%.1f\t%zu\t%llu\n", engine, type, n, mean_us,
            speed_percentile(lat_ns, n, 0.50) / 1e3, speed_percentile(lat_ns, n, 0.99) / 1e3,
            sum > 0 ? (double)n / (sum / 1e9) : 0, nonempty, hits);
    fflush(out);
}

/* One line per timed query, for looking at single queries afterwards:
 * engine, type, query, microseconds, hits.  No-op when f is NULL. */
static inline void speed_dump(FILE *f, const char *engine, const char *type, const char *query,
                              double ns, size_t hits)
{
    if (f) fprintf(f, "%s\t%s\t%s\t%.1f\t%zu\n", engine, type, query, ns / 1e3, hits);
}

/* Open the --queries-out file (NULL path: none).  Exits on failure. */
static inline FILE *speed_open_dump(const char *path)
{
    if (!path) return NULL;
    FILE *f = fopen(path, "w");
    if (!f) {
        perror(path);
        exit(2);
    }
    return f;
}

/* --serve: after the warm-up a driver prints "ready", then reads requests
 * "TYPE<TAB>PATH" from standard input, one per line: a timed pass over
 * the TYPE queries, their latencies written to PATH (as speed_dump), the
 * summary line printed (as speed_report) and then "end".  The benchmark
 * alternates the engines' passes type by type, so that the machine's
 * changes of speed weigh on each engine alike.  Returns 1 with type and
 * path pointing into line (modified), 0 at end of input, -1 for a
 * malformed line. */
static inline int speed_serve_next(char *line, size_t cap, char **type, char **path)
{
    if (!fgets(line, (int)cap, stdin)) return 0;
    size_t len = strlen(line);
    if (len && line[len - 1] == '\n') line[--len] = 0;
    char *tab = strchr(line, '\t');
    if (!tab || tab == line || !tab[1]) return -1;
    *tab = 0;
    *type = line;
    *path = tab + 1;
    return 1;
}

/* Split a "type=path" argument; returns 0, or -1 when there is no '='. */
static inline int speed_split_arg(char *arg, char **type, char **path)
{
    char *eq = strchr(arg, '=');
    if (!eq || eq == arg) return -1;
    *eq = 0;
    *type = arg;
    *path = eq + 1;
    return 0;
}

#endif
