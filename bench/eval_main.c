/*
 * eval_main.c - bin/eval: trec_eval-style evaluation of a TREC run.
 *
 *     bin/eval [-q] [-m METRIC]... QRELS RUN
 *
 * The metrics and the reading of both files are in trec_eval_metrics.c; this
 * layer parses options, prints `name<TAB>qid|all<TAB>value` lines as
 * trec_eval does, and turns status codes into one message and an exit code.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/trec_eval_metrics.h"
#include "common/version.h"

enum {
    EXIT_OK = 0,
    EXIT_INPUT = 1, /* a file unreadable or malformed, no judged query, out of memory */
    EXIT_USAGE = 2,
};

static const char *progname = "eval";

static void usage(FILE *out)
{
    fprintf(out,
            "usage: %s [-q] [-m METRIC]... QRELS RUN\n"
            "Evaluate a TREC run ('qid Q0 docid rank score tag', RUN '-' = stdin) against\n"
            "judgements, BEIR ('query-id corpus-id score', header line) or TREC\n"
            "('qid 0 docid rel'), detected from the first line.\n"
            "\n"
            "As trec_eval: each query's ranking is re-sorted by score descending, ties by\n"
            "docid descending (the rank column is ignored), and cut at %d; a docid\n"
            "repeated within a query is an error; relevance > 0 is relevant and is the\n"
            "nDCG gain.  Averages are over the queries with a relevant judgement; such a\n"
            "query missing from the run counts as 0 (trec_eval -c).\n"
            "\n"
            "  -q            also print each query's values (name<TAB>qid<TAB>value)\n"
            "  -m METRIC     print only this metric (repeatable; 'ndcg_cut.10' also works):\n"
            "                num_q num_ret num_rel num_rel_ret ndcg_cut_10 map_cut_1000\n"
            "                recall_100 recall_1000 P_10 mrr_cut_10\n"
            "  -h, --help    this help\n"
            "  -V, --version print the version\n"
            "\n"
            "Output: one line per metric, 'name<TAB>all<TAB>value' (4 decimals).\n"
            "Exit status: 0 evaluated; 1 an input file unreadable or malformed (file:line\n"
            "named), no judged query, or out of memory; 2 usage error.\n",
            progname, TEV_DEPTH);
}

static void print_value(tev_metric m, const char *who, double v)
{
    if (tev_metric_is_count(m))
        printf("%s\t%s\t%.0f\n", tev_metric_name(m), who, v);
    else
        printf("%s\t%s\t%.4f\n", tev_metric_name(m), who, v);
}

int main(int argc, char **argv)
{
    int per_query = 0, any_selected = 0, want_num_q = 0;
    int selected[TEV_NMETRICS] = {0};
    static const struct option longopts[] = {
        {"help", no_argument, 0, 'h'}, {"version", no_argument, 0, 'V'}, {0, 0, 0, 0}};
    int opt;
    argv[0] = (char *)progname; /* getopt's own messages: "eval: ..." like ours */
    while ((opt = getopt_long(argc, argv, "qm:hV", longopts, NULL)) != -1) {
        switch (opt) {
        case 'q':
            per_query = 1;
            break;
        case 'm': {
            any_selected = 1;
            if (strcmp(optarg, "num_q") == 0) {
                want_num_q = 1;
                break;
            }
            int m = tev_metric_lookup(optarg);
            if (m < 0) {
                fprintf(stderr, "%s: unknown metric '%s' (see --help)\n", progname, optarg);
                return EXIT_USAGE;
            }
            selected[m] = 1;
            break;
        }
        case 'h':
            usage(stdout);
            return EXIT_OK;
        case 'V':
            printf("%s %s\n", progname, SE_VERSION);
            return EXIT_OK;
        default:
            usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (argc - optind != 2) {
        fprintf(stderr, "%s: expected two files, QRELS and RUN (see --help)\n", progname);
        return EXIT_USAGE;
    }
    if (!any_selected) {
        want_num_q = 1;
        for (int m = 0; m < TEV_NMETRICS; m++) selected[m] = 1;
    }

    tev_error err = {0};
    tev_qrels *qrels = NULL;
    tev_run *run = NULL;
    tev_result res = {0};
    int rc = tev_qrels_load(argv[optind], &qrels, &err);
    if (rc == TEV_OK) rc = tev_run_load(argv[optind + 1], &run, &err);
    if (rc == TEV_OK) rc = tev_evaluate(qrels, run, &res, &err);
    if (rc == TEV_OK && res.nqueries == 0)
        snprintf(err.msg, sizeof err.msg, "%s: no query has a relevant judgement (relevance > 0)",
                 argv[optind]);
    if (rc != TEV_OK || res.nqueries == 0) {
        fprintf(stderr, "%s: %s\n", progname, err.msg);
        tev_qrels_free(qrels);
        tev_run_free(run);
        tev_result_free(&res);
        return EXIT_INPUT;
    }
    /* All zeros is a legitimate score, but usually means the two files use
     * different query ids: say so rather than print a quiet 0.0000. */
    if (res.all[TEV_NUM_RET] == 0)
        fprintf(stderr, "%s: warning: none of the %zu judged queries has a document in %s\n",
                progname, res.nqueries, argv[optind + 1]);

    if (per_query)
        for (size_t i = 0; i < res.nqueries; i++)
            for (int m = 0; m < TEV_NMETRICS; m++)
                if (selected[m])
                    print_value((tev_metric)m, res.queries[i].qid, res.queries[i].value[m]);
    if (want_num_q) printf("num_q\tall\t%zu\n", res.nqueries);
    for (int m = 0; m < TEV_NMETRICS; m++)
        if (selected[m]) print_value((tev_metric)m, "all", res.all[m]);

    tev_qrels_free(qrels);
    tev_run_free(run);
    tev_result_free(&res);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        perror("eval: writing the output");
        return EXIT_INPUT;
    }
    return EXIT_OK;
}
