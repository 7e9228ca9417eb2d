/*
 * bench_search.c - query latency of this engine, for the speed benchmark
 * (bench/run_speed.sh, `make bench`).
 *
 *     bench_search -i INDEX [-k N] [--warmup N] [--engine NAME] [--queries-out FILE]
 *                  [--serve] TYPE=QUERIES...
 *
 * Opens the index once and creates one searcher (one thread), then runs
 * every query of every file through searcher_run --warmup times (default
 * 1) without measuring, so that the index pages are resident and the
 * branch predictors and caches have seen the workload, and then once more,
 * timing each searcher_run call alone with the monotonic clock.  What is
 * timed is exactly what bin/search does for a query before it prints:
 * parsing, analysis, planning (dictionary lookups, idf), evaluation and the
 * top-k sort; not snippets, which need the document store and which the
 * peers are not asked for either.
 *
 * Queries are in the search-benchmark-game syntax (bench/speed_common.h),
 * which is a subset of bin/search's own query language: `+a +b` is an
 * intersection, `"a b"` a phrase, `a b` a union and `-a` an exclusion, so
 * they are passed through unchanged with default options (OR between
 * juxtaposed words, BM25 k1 1.2, b 0.75).
 *
 * With --serve, after the warm-up it runs the timed passes asked for on
 * standard input instead (speed_serve_next in speed_common.h).
 *
 * Prints one summary line per TYPE on standard output (speed_common.h);
 * progress and errors go to standard error.  Exit 0, or 1 if a query
 * failed (it is reported and left out of the figures), 2 on usage or index
 * errors.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/speed_common.h"
#include "common/index.h"
#include "searcher/search.h"

typedef struct qset {
    char *type;
    speed_queries qs;
    int reported; /* its pruning figures were printed (once, from its first pass) */
} qset;

static void usage(void)
{
    fprintf(stderr, "usage: bench_search -i INDEX [-k N] [--warmup N] [--engine NAME] "
                    "[--queries-out FILE] [--serve] TYPE=QUERIES...\n");
    exit(2);
}

/* Pruning figures summed over a query set. */
typedef struct prune_totals {
    unsigned long long postings_scored, postings_total, blocks_skipped, pruned_queries;
} prune_totals;

/* Run every query of one set; when lat is non-NULL record each latency.
 * Returns the number of failed queries. */
static size_t run_set(searcher *s, const qset *set, const search_options *opt, double *lat,
                      size_t *nonempty, unsigned long long *hits, FILE *dump, const char *engine,
                      prune_totals *pt)
{
    size_t failed = 0, n = 0;
    for (size_t i = 0; i < set->qs.n; i++) {
        const char *q = set->qs.q[i];
        search_result res;
        se_error err;
        double t0 = speed_now_ns();
        int rc = searcher_run(s, q, strlen(q), opt, &res, &err);
        double t1 = speed_now_ns();
        if (rc != SE_OK) {
            if (lat) fprintf(stderr, "bench_search: %s query '%s': %s\n", set->type, q, err.msg);
            failed++;
            continue;
        }
        if (lat) {
            lat[n++] = t1 - t0;
            speed_dump(dump, engine, set->type, q, t1 - t0, res.nhits);
            *nonempty += res.nhits > 0;
            *hits += res.nhits;
            pt->postings_scored += res.stats.postings_scored;
            pt->postings_total += res.stats.postings_total;
            pt->blocks_skipped += res.stats.blocks_skipped;
            pt->pruned_queries += (unsigned long long)res.stats.pruned;
        }
    }
    return failed;
}

/* One timed pass over a set: its summary line on standard output, the
 * latencies into dump (may be NULL), and, once per set, the pruning
 * figures on standard error: postings scored by the pruned paths against
 * the postings of the query terms' lists (all of which an exhaustive
 * disjunction scores), meaningful for the disjunctive sets.  Returns the
 * number of failed queries. */
static size_t timed_pass(searcher *s, qset *set, const search_options *opt, double *lat, FILE *dump,
                         const char *engine)
{
    size_t nonempty = 0;
    unsigned long long hits = 0;
    prune_totals pt = {0};
    size_t f = run_set(s, set, opt, lat, &nonempty, &hits, dump, engine, &pt);
    speed_report(stdout, engine, set->type, lat, set->qs.n - f, nonempty, hits);
    if (!set->reported)
        fprintf(stderr,
                "bench_search: pruning\t%s\t%s\tpostings_scored %llu\tpostings_total %llu"
                "\tblocks_skipped %llu\tpruned_queries %llu of %zu\n",
                engine, set->type, pt.postings_scored, pt.postings_total, pt.blocks_skipped,
                pt.pruned_queries, set->qs.n - f);
    set->reported = 1;
    return f;
}

int main(int argc, char **argv)
{
    const char *dir = NULL, *engine = "ours", *dump_path = NULL;
    search_options opt = {.k = 10, .k1 = SEARCH_DEFAULT_K1, .b = SEARCH_DEFAULT_B};
    long warmup = 1;
    int serve = 0;
    static const struct option longopts[] = {
        {"index", required_argument, NULL, 'i'},  {"warmup", required_argument, NULL, 'w'},
        {"engine", required_argument, NULL, 'e'}, {"queries-out", required_argument, NULL, 'q'},
        {"serve", no_argument, NULL, 's'},        {NULL, 0, NULL, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "i:k:", longopts, NULL)) != -1) {
        switch (c) {
        case 'i':
            dir = optarg;
            break;
        case 'k':
            opt.k = (uint32_t)strtoul(optarg, NULL, 10);
            break;
        case 'w':
            warmup = strtol(optarg, NULL, 10);
            break;
        case 'e':
            engine = optarg;
            break;
        case 'q':
            dump_path = optarg;
            break;
        case 's':
            serve = 1;
            break;
        default:
            usage();
        }
    }
    if (!dir || optind >= argc || opt.k == 0 || warmup < 0) usage();
    FILE *dump = speed_open_dump(dump_path);

    size_t nsets = (size_t)(argc - optind);
    qset *sets = calloc(nsets, sizeof *sets);
    if (!sets) return 2;
    size_t maxq = 0;
    for (size_t i = 0; i < nsets; i++) {
        char *path;
        if (speed_split_arg(argv[optind + (int)i], &sets[i].type, &path) != 0) usage();
        if (speed_read_queries(path, &sets[i].qs) != 0) return 2;
        if (sets[i].qs.n > maxq) maxq = sets[i].qs.n;
    }

    se_error err;
    index_reader *ix;
    if (index_open(&ix, dir, &err) != SE_OK) {
        fprintf(stderr, "bench_search: %s\n", err.msg);
        return 2;
    }
    searcher *s;
    if (searcher_new(&s, ix, &err) != SE_OK) {
        fprintf(stderr, "bench_search: %s\n", err.msg);
        return 2;
    }
    fprintf(stderr, "bench_search: %s: %llu documents in %u segment(s)\n", dir,
            (unsigned long long)ix->ndocs, ix->nsegments);

    for (long w = 0; w < warmup; w++)
        for (size_t i = 0; i < nsets; i++)
            run_set(s, &sets[i], &opt, NULL, NULL, NULL, NULL, NULL, NULL);

    double *lat = malloc((maxq ? maxq : 1) * sizeof *lat);
    if (!lat) return 2;
    size_t failed = 0;
    if (serve) {
        printf("ready\n");
        fflush(stdout);
        char line[8192], *type = NULL, *path = NULL;
        int r;
        while ((r = speed_serve_next(line, sizeof line, &type, &path)) != 0) {
            size_t i = 0;
            while (i < nsets && (r < 0 || strcmp(sets[i].type, type) != 0)) i++;
            if (i == nsets) {
                fprintf(stderr, "bench_search: bad request '%s'\n", line);
                failed++;
                break;
            }
            FILE *pd = speed_open_dump(path);
            failed += timed_pass(s, &sets[i], &opt, lat, pd, engine);
            fclose(pd);
            printf("end\n");
            fflush(stdout);
        }
    } else {
        for (size_t i = 0; i < nsets; i++)
            failed += timed_pass(s, &sets[i], &opt, lat, dump, engine);
    }

    free(lat);
    if (dump) fclose(dump);
    for (size_t i = 0; i < nsets; i++) speed_free_queries(&sets[i].qs);
    free(sets);
    searcher_free(s);
    index_close(ix);
    return failed ? 1 : 0;
}
