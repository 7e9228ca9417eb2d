/*
 * test_eval.c - unit tests for bench/trec_eval_metrics.c (bin/eval).
 *
 * Every expected value below was worked out by hand from trec_eval's
 * definitions; the arithmetic is written next to it (logarithms to six
 * decimals: log2 3 = 1.584963, log2 5 = 2.321928, log2 6 = 2.584963).
 * Values must agree to 4 decimals, the precision bin/eval prints.
 *
 * Inputs are written to a temporary file and read through the same
 * tev_*_read functions bin/eval uses.
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/trec_eval_metrics.h"

#define EPS 5e-5 /* half a unit of the 4th decimal */

static FILE *text_file(const char *text, size_t len)
{
    FILE *f = tmpfile();
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(text, 1, len, f), len);
    rewind(f);
    return f;
}

static tev_qrels *qrels_of(const char *text)
{
    FILE *f = text_file(text, strlen(text));
    tev_qrels *q = NULL;
    tev_error err = {0};
    int rc = tev_qrels_read(f, "qrels", &q, &err);
    fclose(f);
    cr_assert_eq(rc, TEV_OK, "qrels: %s", err.msg);
    return q;
}

static tev_run *run_of(const char *text)
{
    FILE *f = text_file(text, strlen(text));
    tev_run *r = NULL;
    tev_error err = {0};
    int rc = tev_run_read(f, "run", &r, &err);
    fclose(f);
    cr_assert_eq(rc, TEV_OK, "run: %s", err.msg);
    return r;
}

/* Evaluate run text against qrels text into *res. */
static void evaluate(const char *qrels_text, const char *run_text, tev_result *res)
{
    tev_qrels *q = qrels_of(qrels_text);
    tev_run *r = run_of(run_text);
    tev_error err = {0};
    cr_assert_eq(tev_evaluate(q, r, res, &err), TEV_OK, "%s", err.msg);
    tev_qrels_free(q);
    tev_run_free(r);
}

static void expect(const double *v, tev_metric m, double want)
{
    cr_expect_float_eq(v[m], want, EPS, "%s: got %.6f, want %.6f", tev_metric_name(m), v[m], want);
}

/* Read `text` as qrels (is_run = 0) or a run and expect failure `code` with
 * `needle` in the message. */
static void expect_error(int is_run, const char *text, size_t len, int code, const char *needle)
{
    FILE *f = text_file(text, len);
    tev_error err = {0};
    int rc;
    if (is_run) {
        tev_run *r = (tev_run *)1;
        rc = tev_run_read(f, "run", &r, &err);
        cr_expect_null(r, "no run on failure");
    } else {
        tev_qrels *q = (tev_qrels *)1;
        rc = tev_qrels_read(f, "qrels", &q, &err);
        cr_expect_null(q, "no qrels on failure");
    }
    fclose(f);
    cr_expect_eq(rc, code, "code %d, want %d (%s)", rc, code, err.msg);
    cr_expect_eq(err.code, code);
    cr_expect_not_null(strstr(err.msg, needle), "message '%s' lacks '%s'", err.msg, needle);
}

/* ---- the metrics on one query --------------------------------------- */

/* Graded judgements, a tie in score, an unjudged document, fewer than 10
 * hits, and a rank column that contradicts the scores (it must be ignored).
 *
 * Judged: A 3, B 2, C 0, D 1, E 1  ->  R = 4 relevant (A, B, D, E).
 * Run scores: X 5, A 4, C 4, B 3, E 1.  A and C tie at 4: trec_eval puts
 * the larger docid first, so the order is
 *     rank 1 X (unjudged, 0)   2 C (0)   3 A (3)   4 B (2)   5 E (1)
 */
static const char *graded_qrels = "q1 0 A 3\nq1 0 B 2\nq1 0 C 0\nq1 0 D 1\nq1 0 E 1\n";
static const char *graded_run = "q1 Q0 E 1 1.0 t\n"
                                "q1 Q0 B 2 3.0 t\n"
                                "q1 Q0 A 3 4.0 t\n"
                                "q1 Q0 X 4 5.0 t\n"
                                "q1\tQ0\tC\t5\t4.0\tt\n";

Test(eval, graded_gains_and_ties)
{
    tev_result res;
    evaluate(graded_qrels, graded_run, &res);
    cr_assert_eq(res.nqueries, 1);
    cr_expect_str_eq(res.queries[0].qid, "q1");
    const double *v = res.queries[0].value;
    expect(v, TEV_NUM_RET, 5);
    expect(v, TEV_NUM_REL, 4);
    expect(v, TEV_NUM_REL_RET, 3);
    /* DCG@10  = 3/log2(4) + 2/log2(5) + 1/log2(6)
     *         = 1.5 + 0.861353 + 0.386853 = 2.748206
     * ideal: gains 3, 2, 1, 1 at ranks 1..4
     * IDCG@10 = 3/log2(2) + 2/log2(3) + 1/log2(4) + 1/log2(5)
     *         = 3 + 1.261860 + 0.5 + 0.430677 = 5.192536
     * nDCG@10 = 2.748206 / 5.192536 = 0.529261
     * (breaking the tie the other way, A before C, would give
     *  (3/log2(3) + 2/log2(5) + 1/log2(6)) / 5.192536 = 0.604906) */
    expect(v, TEV_NDCG_CUT_10, 0.529261);
    /* AP = (P@3 + P@4 + P@5) / R = (1/3 + 2/4 + 3/5) / 4
     *    = (0.333333 + 0.5 + 0.6) / 4 = 1.433333 / 4 = 0.358333 */
    expect(v, TEV_MAP_CUT_1000, 0.358333);
    /* 3 of the 4 relevant documents are retrieved at all. */
    expect(v, TEV_RECALL_100, 0.75);
    expect(v, TEV_RECALL_1000, 0.75);
    /* P@10 divides by 10 even with only 5 hits: 3 / 10. */
    expect(v, TEV_P_10, 0.3);
    /* First relevant at rank 3: 1/3. */
    expect(v, TEV_MRR_CUT_10, 0.333333);
    /* One query: the means are the query's values. */
    for (int m = 0; m < TEV_NMETRICS; m++) expect(res.all, (tev_metric)m, v[m]);
    tev_result_free(&res);
}

/* Ideal DCG is taken from the judgements, not from what was retrieved, and
 * only its 10 best gains count.  12 relevant documents: r1..r2 with rel 2,
 * r3..r12 with rel 1; the run retrieves only r12 (rel 1), at rank 1.
 *     DCG@10  = 1/log2(2) = 1
 *     IDCG@10 = 2/1 + 2/log2(3) + 1/log2(4) + ... + 1/log2(11)
 *             = 2 + 1.261860 + (0.5 + 0.430677 + 0.386853 + 0.356207
 *               + 0.333333 + 0.315465 + 0.301030 + 0.289065)
 *             = 3.261860 + 2.912630 = 6.174490 (6.174489 unrounded)
 *     nDCG@10 = 1 / 6.174489 = 0.161957
 *     AP      = (1/1) / 12 = 0.083333 */
Test(eval, ideal_from_the_judgements_cut_at_10)
{
    char qrels[512];
    size_t len = 0;
    for (int i = 1; i <= 12; i++)
        len += (size_t)snprintf(qrels + len, sizeof qrels - len, "q r%d %d\n", i, i <= 2 ? 2 : 1);
    tev_result res;
    evaluate(qrels, "q Q0 r12 1 9.5 t\n", &res);
    cr_assert_eq(res.nqueries, 1);
    const double *v = res.queries[0].value;
    expect(v, TEV_NDCG_CUT_10, 0.161957);
    expect(v, TEV_MAP_CUT_1000, 0.083333);
    expect(v, TEV_P_10, 0.1);
    expect(v, TEV_MRR_CUT_10, 1.0);
    expect(v, TEV_RECALL_100, 1.0 / 12);
    tev_result_free(&res);
}

/* The cuts: one relevant document at rank 11 is outside every @10 metric
 * but inside recall@100 and MAP; with R = 2 and the second relevant one at
 * rank 150, recall@100 = 1/2 and recall@1000 = 2/2; a document at rank 1001
 * is not retrieved at all (num_ret = 1000). */
Test(eval, cuts_at_10_100_1000)
{
    /* q: relevant d11 and d150 of 1001 documents d1..d1001, score 2000 - i. */
    size_t cap = 1001 * 40, len = 0;
    char *run = malloc(cap);
    cr_assert_not_null(run);
    for (int i = 1; i <= 1001; i++)
        len += (size_t)snprintf(run + len, cap - len, "q Q0 d%d %d %d t\n", i, i, 2000 - i);
    tev_result res;
    evaluate("q 0 d11 1\nq 0 d150 1\nq 0 d1001 1\n", run, &res);
    cr_assert_eq(res.nqueries, 1);
    const double *v = res.queries[0].value;
    /* R = 3 (d11, d150, d1001); d1001 is past the depth of 1000. */
    expect(v, TEV_NUM_RET, 1000);
    expect(v, TEV_NUM_REL_RET, 2);
    expect(v, TEV_NDCG_CUT_10, 0);
    expect(v, TEV_P_10, 0);
    expect(v, TEV_MRR_CUT_10, 0);
    /* recall@100 = 1/3 (d11); recall@1000 = 2/3 (d11, d150) */
    expect(v, TEV_RECALL_100, 0.333333);
    expect(v, TEV_RECALL_1000, 0.666667);
    /* AP = (1/11 + 2/150) / 3 = (0.090909 + 0.013333) / 3 = 0.034747 */
    expect(v, TEV_MAP_CUT_1000, 0.034747);
    tev_result_free(&res);
    free(run);
}

/* MRR@10 is the first relevant document's reciprocal rank, even when more
 * follow: relevant at ranks 4 and 7 -> 1/4; P@10 = 2/10. */
Test(eval, reciprocal_rank_of_the_first)
{
    tev_result res;
    evaluate("q 0 d4 1\nq 0 d7 1\n",
             "q Q0 d1 1 10 t\nq Q0 d2 2 9 t\nq Q0 d3 3 8 t\nq Q0 d4 4 7 t\nq Q0 d5 5 6 t\n"
             "q Q0 d6 6 5 t\nq Q0 d7 7 4 t\n",
             &res);
    const double *v = res.queries[0].value;
    expect(v, TEV_MRR_CUT_10, 0.25);
    expect(v, TEV_P_10, 0.2);
    /* AP = (1/4 + 2/7) / 2 = (0.25 + 0.285714) / 2 = 0.267857 */
    expect(v, TEV_MAP_CUT_1000, 0.267857);
    /* DCG = 1/log2(5) + 1/log2(8) = 0.430677 + 0.333333 = 0.764010
     * IDCG = 1 + 1/log2(3) = 1 + 0.630930 = 1.630930
     * nDCG = 0.764010 / 1.630930 = 0.468451 */
    expect(v, TEV_NDCG_CUT_10, 0.468451);
    tev_result_free(&res);
}

/* ---- which queries are averaged ---------------------------------------- */

/* q1: one relevant document, retrieved at rank 2.
 * q2: one relevant document (rel 2), no hits in the run: counts as 0.
 * q3: judged, but nothing relevant (rel 0): excluded although it has hits.
 * q4: in the run only: ignored.
 * q1 alone: nDCG = (1/log2(3)) / 1 = 0.630930, AP = 1/2, R@100 = 1,
 * P@10 = 1/10, MRR = 1/2.  Means over q1 and q2: half of each. */
Test(eval, averaged_over_judged_queries)
{
    tev_result res;
    evaluate("query-id\tcorpus-id\tscore\nq1\ta\t1\nq2\tb\t2\nq3\tc\t0\n",
             "q1 Q0 z 1 2.0 t\nq1 Q0 a 2 1.0 t\nq3 Q0 c 1 1.0 t\nq4 Q0 a 1 1.0 t\n", &res);
    cr_assert_eq(res.nqueries, 2);
    cr_expect_str_eq(res.queries[0].qid, "q1");
    cr_expect_str_eq(res.queries[1].qid, "q2");
    expect(res.queries[0].value, TEV_NDCG_CUT_10, 0.630930);
    for (int m = 0; m < TEV_NMETRICS; m++)
        expect(res.queries[1].value, (tev_metric)m, m == TEV_NUM_REL ? 1 : 0);
    expect(res.all, TEV_NDCG_CUT_10, 0.315465); /* (0.630930 + 0) / 2 */
    expect(res.all, TEV_MAP_CUT_1000, 0.25);    /* (0.5 + 0) / 2 */
    expect(res.all, TEV_RECALL_100, 0.5);       /* (1 + 0) / 2 */
    expect(res.all, TEV_RECALL_1000, 0.5);
    expect(res.all, TEV_P_10, 0.05);       /* (0.1 + 0) / 2 */
    expect(res.all, TEV_MRR_CUT_10, 0.25); /* (0.5 + 0) / 2 */
    /* Counts are summed: 2 + 0 retrieved, 1 + 1 relevant, 1 + 0 found. */
    expect(res.all, TEV_NUM_RET, 2);
    expect(res.all, TEV_NUM_REL, 2);
    expect(res.all, TEV_NUM_REL_RET, 1);
    tev_result_free(&res);
}

Test(eval, queries_in_strcmp_order)
{
    tev_result res;
    evaluate("9 0 a 1\n10 0 a 1\n2 0 a 1\n", "", &res);
    cr_assert_eq(res.nqueries, 3);
    cr_expect_str_eq(res.queries[0].qid, "10");
    cr_expect_str_eq(res.queries[1].qid, "2");
    cr_expect_str_eq(res.queries[2].qid, "9");
    tev_result_free(&res);
}

Test(eval, no_judged_query)
{
    tev_result res;
    evaluate("q 0 a 0\n", "q Q0 a 1 1 t\n", &res);
    cr_expect_eq(res.nqueries, 0);
    cr_expect_null(res.queries);
    for (int m = 0; m < TEV_NMETRICS; m++) expect(res.all, (tev_metric)m, 0);
    tev_result_free(&res);
}

/* ---- ties and scores ------------------------------------------------- */

/* Three-way tie: docids in descending strcmp order, "b" > "a2" > "a10".
 * Only "a10" is relevant: it comes third, MRR = 1/3. */
Test(eval, ties_by_docid_descending)
{
    tev_result res;
    evaluate("q 0 a10 1\n", "q Q0 a10 1 7 t\nq Q0 b 2 7 t\nq Q0 a2 3 7.0 t\n", &res);
    expect(res.queries[0].value, TEV_MRR_CUT_10, 0.333333);
    tev_result_free(&res);
}

/* trec_eval stores scores as float: 33.0000002 and 33.0000001 are both
 * 33.0f, so they tie and "b" (larger docid) comes first although its score
 * as written is lower.  Relevant "a" is then at rank 2: MRR = 1/2. */
Test(eval, scores_compared_as_float)
{
    tev_result res;
    evaluate("q 0 a 1\n", "q Q0 a 1 33.0000002 t\nq Q0 b 2 33.0000001 t\n", &res);
    expect(res.queries[0].value, TEV_MRR_CUT_10, 0.5);
    tev_result_free(&res);
    /* A difference a float does see is kept: a first, MRR = 1. */
    evaluate("q 0 a 1\n", "q Q0 a 1 33.001 t\nq Q0 b 2 33.0 t\n", &res);
    expect(res.queries[0].value, TEV_MRR_CUT_10, 1.0);
    tev_result_free(&res);
}

Test(eval, negative_and_exponent_scores)
{
    tev_result res;
    /* -1e-3 > -2: "a" first. */
    evaluate("q 0 a 1\n", "q Q0 b 1 -2 t\nq Q0 a 2 -1e-3 t\n", &res);
    expect(res.queries[0].value, TEV_MRR_CUT_10, 1.0);
    tev_result_free(&res);
}

/* ---- the two qrels formats ------------------------------------------- */

Test(eval, qrels_formats)
{
    /* BEIR with the header and CRLF line ends (as BEIR ships them). */
    tev_qrels *q = qrels_of("query-id\tcorpus-id\tscore\r\n1\t31715818\t1\r\n3\t14717500\t2\r\n");
    cr_expect_eq(tev_qrels_format_of(q), TEV_QRELS_BEIR);
    cr_expect_eq(tev_qrels_num_rel(q, "1"), 1);
    cr_expect_eq(tev_qrels_num_rel(q, "3"), 1);
    cr_expect_eq(tev_qrels_num_rel(q, "2"), 0);
    cr_expect_eq(tev_qrels_num_judged(q), 2);
    tev_qrels_free(q);

    /* BEIR without a header: the first line is a judgement. */
    q = qrels_of("1 a 1\n1 b 0\n");
    cr_expect_eq(tev_qrels_format_of(q), TEV_QRELS_BEIR);
    cr_expect_eq(tev_qrels_num_rel(q, "1"), 1);
    tev_qrels_free(q);

    /* TREC, with blank lines, tabs and a negative relevance (not relevant). */
    q = qrels_of("\n301 0 FBIS3-10082 1\n  \n301\t0\tFBIS3-10169 -1\n302 0 x 4\n");
    cr_expect_eq(tev_qrels_format_of(q), TEV_QRELS_TREC);
    cr_expect_eq(tev_qrels_num_rel(q, "301"), 1);
    cr_expect_eq(tev_qrels_num_rel(q, "302"), 1);
    cr_expect_eq(tev_qrels_num_judged(q), 2);
    tev_qrels_free(q);

    /* An empty file is no judgement at all. */
    q = qrels_of("");
    cr_expect_eq(tev_qrels_num_judged(q), 0);
    tev_qrels_free(q);
}

/* The same judgements in both formats give the same numbers. */
Test(eval, formats_agree)
{
    tev_result a, b;
    evaluate(graded_qrels, graded_run, &a);
    evaluate("query-id\tcorpus-id\tscore\nq1\tA\t3\nq1\tB\t2\nq1\tC\t0\nq1\tD\t1\nq1\tE\t1\n",
             graded_run, &b);
    for (int m = 0; m < TEV_NMETRICS; m++)
        cr_expect_eq(a.all[m], b.all[m], "%s", tev_metric_name((tev_metric)m));
    tev_result_free(&a);
    tev_result_free(&b);
}

/* ---- malformed input ------------------------------------------------- */

#define RUN_ERROR(text, code, needle)   expect_error(1, text, sizeof(text) - 1, code, needle)
#define QRELS_ERROR(text, code, needle) expect_error(0, text, sizeof(text) - 1, code, needle)

Test(eval, malformed_runs)
{
    RUN_ERROR("q Q0 a 1 1.0 t\nq Q0 b 2 1.0\n", TEV_SYNTAX, "run:2: 5 fields, expected 6");
    RUN_ERROR("q Q0 a 1 1.0 t extra\n", TEV_SYNTAX, "run:1: 7 fields");
    RUN_ERROR("\n\nq Q0 a 1 high t\n", TEV_SYNTAX, "run:3: score 'high'");
    RUN_ERROR("q Q0 a 1 1.5x t\n", TEV_SYNTAX, "run:1: score '1.5x'");
    RUN_ERROR("q Q0 a 1 nan t\n", TEV_SYNTAX, "run:1: score 'nan'");
    RUN_ERROR("q Q0 a 1 inf t\n", TEV_SYNTAX, "run:1: score 'inf'");
    RUN_ERROR("q Q0 a 1 1e39 t\n", TEV_SYNTAX, "run:1: score '1e39' is not a number in float");
    RUN_ERROR("q Q0 a 1 1 t\nq Q0 a\0 2 1 t\n", TEV_SYNTAX, "run:2: NUL byte");
    /* A docid repeated within a query is an error; the same docid under
     * another query is not. */
    RUN_ERROR("q Q0 a 1 3 t\nq Q0 b 2 2 t\nr Q0 a 1 1 t\nq Q0 a 3 1 t\n", TEV_DUPLICATE,
              "run:4: document a appears twice for query q (first at line 1)");
}

Test(eval, malformed_qrels)
{
    QRELS_ERROR("q a\n", TEV_SYNTAX, "qrels:1: 2 fields: not qrels");
    QRELS_ERROR("q 0 a 1 x\n", TEV_SYNTAX, "qrels:1: 5 fields");
    QRELS_ERROR("q 0 a 1\nq b 1\n", TEV_SYNTAX, "qrels:2: 3 fields, expected 4 as in TREC");
    QRELS_ERROR("query-id\tcorpus-id\tscore\nq\ta\t1\nq\t0\tb\t1\n", TEV_SYNTAX,
                "qrels:3: 4 fields, expected 3 as in BEIR");
    QRELS_ERROR("q 0 a high\n", TEV_SYNTAX, "qrels:1: relevance 'high' is not an integer");
    QRELS_ERROR("h1 h2 h3\nq a 1.5\n", TEV_SYNTAX, "qrels:2: relevance '1.5'");
    QRELS_ERROR("q 0 a 1\nq 0 b 0\nq 0 a 0\n", TEV_DUPLICATE,
                "qrels:3: query q, document a is judged twice (first at line 1)");
}

Test(eval, missing_files)
{
    tev_qrels *q = (tev_qrels *)1;
    tev_run *r = (tev_run *)1;
    tev_error err = {0};
    cr_expect_eq(tev_qrels_load("/nonexistent/qrels.tsv", &q, &err), TEV_IO);
    cr_expect_null(q);
    cr_expect_not_null(strstr(err.msg, "/nonexistent/qrels.tsv: cannot open"), "%s", err.msg);
    cr_expect_eq(tev_run_load("/nonexistent/run.trec", &r, NULL), TEV_IO);
    cr_expect_null(r);
}

/* ---- metric names ---------------------------------------------------- */

Test(eval, metric_names)
{
    cr_expect_eq(tev_metric_lookup("ndcg_cut_10"), TEV_NDCG_CUT_10);
    cr_expect_eq(tev_metric_lookup("ndcg_cut.10"), TEV_NDCG_CUT_10);
    cr_expect_eq(tev_metric_lookup("P.10"), TEV_P_10);
    cr_expect_eq(tev_metric_lookup("map_cut.1000"), TEV_MAP_CUT_1000);
    cr_expect_eq(tev_metric_lookup("recall_100"), TEV_RECALL_100);
    cr_expect_eq(tev_metric_lookup("mrr_cut_10"), TEV_MRR_CUT_10);
    cr_expect_eq(tev_metric_lookup("ndcg"), TEV_INVALID);
    cr_expect_eq(tev_metric_lookup("ndcg_cut_100"), TEV_INVALID);
    cr_expect_eq(tev_metric_lookup(""), TEV_INVALID);
    for (int m = 0; m < TEV_NMETRICS; m++)
        cr_expect_eq(tev_metric_lookup(tev_metric_name((tev_metric)m)), m);
}
