/*
 * beir_batch.c - the judged queries of one qrels split as a batch file for
 * `bin/search --batch` (and bench/peers/fts5_run).
 *
 *     beir_batch QUERIES.jsonl QRELS > batch.tsv
 *
 * Reads BEIR queries ({"_id", "text", ...} per line) and judgements in either
 * format bin/eval reads, and writes `qid<TAB>text` for every query with at
 * least one relevant judgement, in the order of QUERIES.jsonl.  Tabs, CRs and
 * newlines inside a query become spaces, since the batch format is one query
 * per line.  Fails (exit 1) if a judged query is missing from QUERIES.jsonl,
 * so an evaluation never silently drops queries.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/trec_eval_metrics.h"

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: beir_batch QUERIES.jsonl QRELS > batch.tsv\n");
        return 2;
    }
    tev_error err = {0};
    tev_qrels *qrels = NULL;
    if (tev_qrels_load(argv[2], &qrels, &err) != TEV_OK) {
        fprintf(stderr, "beir_batch: %s\n", err.msg);
        return 1;
    }
    FILE *f = fopen(argv[1], "r");
    if (!f) {
        perror(argv[1]);
        return 1;
    }
    char *line = NULL;
    size_t cap = 0, written = 0;
    ssize_t n;
    unsigned long lineno = 0;
    int status = 0;
    while ((n = getline(&line, &cap, f)) > 0) {
        lineno++;
        json_error_t jerr;
        json_t *o = json_loadb(line, (size_t)n, 0, &jerr);
        json_t *jid = json_object_get(o, "_id"), *jtext = json_object_get(o, "text");
        if (!json_is_object(o) || !(json_is_string(jid) || json_is_integer(jid)) ||
            !json_is_string(jtext)) {
            fprintf(stderr, "beir_batch: %s:%lu: not a query object with _id and text\n", argv[1],
                    lineno);
            json_decref(o);
            status = 1;
            break;
        }
        char idbuf[32];
        const char *id = idbuf;
        if (json_is_string(jid))
            id = json_string_value(jid);
        else
            snprintf(idbuf, sizeof idbuf, "%lld", (long long)json_integer_value(jid));
        if (tev_qrels_num_rel(qrels, id) > 0) {
            fputs(id, stdout);
            putchar('\t');
            for (const char *p = json_string_value(jtext); *p; p++)
                putchar(*p == '\t' || *p == '\n' || *p == '\r' ? ' ' : *p);
            putchar('\n');
            written++;
        }
        json_decref(o);
    }
    free(line);
    fclose(f);
    size_t judged = tev_qrels_num_judged(qrels);
    if (status == 0 && written != judged) {
        fprintf(stderr, "beir_batch: %zu queries judged in %s, %zu written from %s\n", judged,
                argv[2], written, argv[1]);
        status = 1;
    }
    tev_qrels_free(qrels);
    if (fflush(stdout) != 0) status = 1;
    return status;
}
