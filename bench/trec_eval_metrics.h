/*
 * trec_eval_metrics.h - ranking-quality metrics of a TREC run against
 * relevance judgements, computed the way trec_eval computes them
 * (module prefix tev_).
 *
 * Inputs
 *   Run: lines `qid Q0 docid rank score tag`, fields separated by spaces or
 *   tabs (exactly six).  The rank column is ignored: like trec_eval, each
 *   query's ranking is re-sorted by score descending, ties broken by docid
 *   descending (byte-wise strcmp order), and only the first TEV_DEPTH
 *   documents of that order are evaluated (trec_eval -M1000).  Scores are
 *   compared as single-precision floats, as trec_eval stores them, so two
 *   scores equal to about 7 significant digits are a tie.  A docid that
 *   appears twice for one query is an error (TEV_DUPLICATE), as in trec_eval:
 *   a run that repeats a document is broken, and any choice of which copy to
 *   keep would hide it.
 *
 *   Judgements, in either of two formats, told apart by the first non-blank
 *   line:
 *     - BEIR: `query-id corpus-id score` (three fields; the first line is a
 *       header, skipped, when its third field is not an integer);
 *     - TREC: `qid iteration docid rel` (four fields; iteration ignored).
 *   Every later line must have the same number of fields.  Relevance is an
 *   integer; rel > 0 counts as relevant and is the gain in nDCG, rel <= 0
 *   is judged non-relevant.  A (query, document) pair judged twice is an
 *   error (TEV_DUPLICATE).
 *
 *   In both files, a trailing CR is stripped from each line and blank lines
 *   are skipped.
 *
 * Queries evaluated
 *   Every query of the judgements with at least one relevant document, in
 *   qid order (strcmp).  Such a query absent from the run scores 0 on every
 *   metric (trec_eval -c).  Queries of the run that are not judged, or judged
 *   with no relevant document, are ignored.
 *
 * Metrics (per query; `all` is the mean over the evaluated queries, except
 * for the num_* counts, whose `all` is their sum).  R = number of relevant
 * documents of the query, rank i counts from 1:
 *     num_ret            documents evaluated (at most TEV_DEPTH)
 *     num_rel            R
 *     num_rel_ret        relevant documents among them
 *     ndcg_cut_10        DCG@10 / ideal DCG@10, DCG = sum rel_i / log2(i + 1),
 *                        ideal = the judged gains sorted descending
 *     map_cut_1000       (sum over relevant documents at rank i <= 1000 of
 *                        precision@i) / R
 *     recall_100         relevant documents in the top 100 / R
 *     recall_1000        relevant documents in the top 1000 / R
 *     P_10               relevant documents in the top 10 / 10
 *     mrr_cut_10         1 / rank of the first relevant document if it is
 *                        in the top 10, else 0
 *
 * Errors are values: every function that can fail returns TEV_OK or a
 * negative TEV_* code and never prints.  When `err` is non-NULL it receives
 * the code and a one-line message, starting with `file:line:` for malformed
 * input.  On failure the `out` parameters are left NULL / empty, and nothing
 * needs freeing.
 *
 * Ownership: tev_qrels, tev_run and the arrays of a tev_result belong to the
 * caller once returned and are released with the matching _free function
 * (each accepts NULL).  A tev_result copies what it needs and does not refer
 * to the qrels or run it came from.
 */
#ifndef TEV_TREC_EVAL_METRICS_H
#define TEV_TREC_EVAL_METRICS_H

#include <stddef.h>
#include <stdio.h>

enum {
    TEV_OK = 0,
    TEV_NOMEM = -1,     /* an allocation failed */
    TEV_IO = -2,        /* a file could not be opened or read (errno in message) */
    TEV_SYNTAX = -3,    /* a malformed line (file:line in message) */
    TEV_DUPLICATE = -4, /* a document repeated in one query's ranking or judgements */
    TEV_INVALID = -5,   /* a bad argument (e.g. an unknown metric name) */
};

/* Deepest rank evaluated: the cut of map_cut_1000 and recall_1000. */
#define TEV_DEPTH 1000

#define TEV_ERROR_MAX 512

typedef struct tev_error {
    int code;
    char msg[TEV_ERROR_MAX];
} tev_error;

typedef enum tev_metric {
    TEV_NUM_RET,
    TEV_NUM_REL,
    TEV_NUM_REL_RET,
    TEV_NDCG_CUT_10,
    TEV_MAP_CUT_1000,
    TEV_RECALL_100,
    TEV_RECALL_1000,
    TEV_P_10,
    TEV_MRR_CUT_10,
    TEV_NMETRICS
} tev_metric;

/* The metric's name as printed (see the table above). */
const char *tev_metric_name(tev_metric m);

/* 1 for the num_* counts (printed as integers, summed in `all`), else 0. */
int tev_metric_is_count(tev_metric m);

/* The metric called `name`; trec_eval's dotted spelling ("ndcg_cut.10")
 * is accepted too.  Returns the metric (>= 0) or TEV_INVALID. */
int tev_metric_lookup(const char *name);

typedef enum tev_qrels_format { TEV_QRELS_BEIR, TEV_QRELS_TREC } tev_qrels_format;

typedef struct tev_qrels tev_qrels;
typedef struct tev_run tev_run;

/* Read judgements from `f` (not closed); `name` is used in messages. */
int tev_qrels_read(FILE *f, const char *name, tev_qrels **out, tev_error *err);
/* Open `path` and read it as above. */
int tev_qrels_load(const char *path, tev_qrels **out, tev_error *err);
/* The format detected (TEV_QRELS_TREC for a file with no judgement). */
tev_qrels_format tev_qrels_format_of(const tev_qrels *q);
/* Number of relevant documents (rel > 0) judged for `qid` (0 if none). */
size_t tev_qrels_num_rel(const tev_qrels *q, const char *qid);
/* Number of queries with at least one relevant document: those evaluated. */
size_t tev_qrels_num_judged(const tev_qrels *q);
void tev_qrels_free(tev_qrels *q);

/* Read a run from `f` (not closed); `name` is used in messages. */
int tev_run_read(FILE *f, const char *name, tev_run **out, tev_error *err);
/* Open `path` ("-" = standard input) and read it as above. */
int tev_run_load(const char *path, tev_run **out, tev_error *err);
void tev_run_free(tev_run *r);

typedef struct tev_query_result {
    char *qid;
    double value[TEV_NMETRICS];
} tev_query_result;

typedef struct tev_result {
    size_t nqueries;           /* evaluated queries (num_q) */
    tev_query_result *queries; /* nqueries entries, in qid order */
    double all[TEV_NMETRICS];  /* means (sums for the counts); 0 if nqueries == 0 */
} tev_result;

/* Evaluate `run` against `qrels` into *out (which the caller then releases
 * with tev_result_free).  Fails only for lack of memory. */
int tev_evaluate(const tev_qrels *qrels, const tev_run *run, tev_result *out, tev_error *err);
void tev_result_free(tev_result *r);

#endif
