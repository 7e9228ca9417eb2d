/*
 * trec_eval_metrics.c - reading TREC runs and qrels, and the metrics of
 * trec_eval_metrics.h.
 *
 * Both files are held as flat arrays of entries sorted by (qid, docid), with
 * one "group" per query pointing at its slice: lookups are binary searches,
 * and nothing is hashed, so the order of every output is fixed by strcmp.
 * Strings live in a chunked pool freed at once; consecutive lines of one
 * query share its qid string.
 */
#include "bench/trec_eval_metrics.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static int fail(tev_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(tev_error *err, int code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        err->code = code;
    }
    return code;
}

/* ---- metric names ---------------------------------------------------- */

static const char *const metric_names[TEV_NMETRICS] = {
    [TEV_NUM_RET] = "num_ret",           [TEV_NUM_REL] = "num_rel",
    [TEV_NUM_REL_RET] = "num_rel_ret",   [TEV_NDCG_CUT_10] = "ndcg_cut_10",
    [TEV_MAP_CUT_1000] = "map_cut_1000", [TEV_RECALL_100] = "recall_100",
    [TEV_RECALL_1000] = "recall_1000",   [TEV_P_10] = "P_10",
    [TEV_MRR_CUT_10] = "mrr_cut_10",
};

const char *tev_metric_name(tev_metric m)
{
    return (unsigned)m < TEV_NMETRICS ? metric_names[m] : "?";
}

int tev_metric_is_count(tev_metric m)
{
    return m == TEV_NUM_RET || m == TEV_NUM_REL || m == TEV_NUM_REL_RET;
}

int tev_metric_lookup(const char *name)
{
    for (int m = 0; m < TEV_NMETRICS; m++) {
        const char *a = metric_names[m], *b = name;
        /* trec_eval writes the cut with a dot (-m ndcg_cut.10). */
        while (*a && (*a == *b || (*a == '_' && *b == '.'))) a++, b++;
        if (!*a && !*b) return m;
    }
    return TEV_INVALID;
}

/* ---- string pool ----------------------------------------------------- */

typedef struct pool_block {
    struct pool_block *next;
    size_t used, cap;
    char data[];
} pool_block;

typedef struct pool {
    pool_block *head;
} pool;

#define POOL_BLOCK (64 * 1024)

static char *pool_strdup(pool *p, const char *s)
{
    size_t n = strlen(s) + 1;
    pool_block *b = p->head;
    if (!b || b->cap - b->used < n) {
        size_t cap = n > POOL_BLOCK ? n : POOL_BLOCK;
        b = malloc(sizeof *b + cap);
        if (!b) return NULL;
        b->next = p->head;
        b->used = 0;
        b->cap = cap;
        p->head = b;
    }
    char *d = b->data + b->used;
    memcpy(d, s, n);
    b->used += n;
    return d;
}

static void pool_free(pool *p)
{
    for (pool_block *b = p->head, *next; b; b = next) {
        next = b->next;
        free(b);
    }
    p->head = NULL;
}

/* ---- shared structures ----------------------------------------------- */

typedef struct group {
    const char *qid;
    size_t start, n; /* the query's slice of the entry array */
    size_t nrel;     /* judgements with rel > 0 (qrels only) */
} group;

typedef struct judgement {
    const char *qid, *docid;
    long rel;
    unsigned long line;
} judgement;

struct tev_qrels {
    tev_qrels_format format;
    pool strings;
    judgement *j;
    size_t nj;
    group *g;
    size_t ng;
};

typedef struct hit {
    const char *qid, *docid;
    float score; /* trec_eval keeps scores as float: digits beyond that tie */
    unsigned long line;
} hit;

struct tev_run {
    pool strings;
    hit *h;
    size_t nh;
    group *g;
    size_t ng;
};

/* Grow *arr (of element size `size`) so that it holds at least n + 1. */
static int reserve(void **arr, size_t *cap, size_t n, size_t size)
{
    if (n < *cap) return TEV_OK;
    size_t ncap = *cap ? *cap * 2 : 1024;
    if (ncap > SIZE_MAX / size) return TEV_NOMEM;
    void *p = realloc(*arr, ncap * size);
    if (!p) return TEV_NOMEM;
    *arr = p;
    *cap = ncap;
    return TEV_OK;
}

/* Split `line` in place at spaces and tabs.  Stores at most `max` fields and
 * returns how many there are (possibly more than `max`). */
static size_t split_fields(char *line, char **fields, size_t max)
{
    size_t n = 0;
    char *p = line;
    for (;;) {
        while (*p == ' ' || *p == '\t') p++;
        if (!*p) return n;
        if (n < max) fields[n] = p;
        n++;
        while (*p && *p != ' ' && *p != '\t') p++;
        if (*p) *p++ = 0;
    }
}

static int parse_long(const char *s, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || *end || errno) return 0;
    *out = v;
    return 1;
}

/* The next line of `f` without its line ending, or NULL at the end (then
 * *rc is TEV_OK) or on a read error (*rc is TEV_IO).  Blank lines are
 * skipped; *lineno counts every line read. */
static char *next_line(FILE *f, char **buf, size_t *cap, unsigned long *lineno, int *rc)
{
    ssize_t n;
    *rc = TEV_OK;
    while ((n = getline(buf, cap, f)) >= 0) {
        ++*lineno;
        char *s = *buf;
        while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r')) s[--n] = 0;
        /* A NUL inside a line would silently cut a field short. */
        if (memchr(s, 0, (size_t)n)) {
            *rc = TEV_SYNTAX;
            return s;
        }
        for (ssize_t i = 0; i < n; i++)
            if (s[i] != ' ' && s[i] != '\t') return s;
    }
    if (ferror(f)) *rc = TEV_IO;
    return NULL;
}

/* Intern `qid`: reuse the previous entry's copy when it is the same query. */
static const char *intern_qid(pool *p, const char *prev, const char *qid)
{
    if (prev && strcmp(prev, qid) == 0) return prev;
    return pool_strdup(p, qid);
}

/* Build one group per run of equal qids in an array sorted by qid; the qid
 * pointer of each entry is at `qid_offset` within it. */
static int make_groups(const void *arr, size_t n, size_t size, size_t qid_offset, group **out,
                       size_t *nout)
{
    *out = NULL;
    *nout = 0;
    size_t cap = 0;
    const char *base = arr;
    for (size_t i = 0; i < n; i++) {
        const char *qid;
        memcpy(&qid, base + i * size + qid_offset, sizeof qid);
        if (*nout && strcmp((*out)[*nout - 1].qid, qid) == 0) {
            (*out)[*nout - 1].n++;
            continue;
        }
        if (reserve((void **)out, &cap, *nout, sizeof **out) != TEV_OK) {
            free(*out);
            *out = NULL;
            *nout = 0;
            return TEV_NOMEM;
        }
        (*out)[(*nout)++] = (group){qid, i, 1, 0};
    }
    return TEV_OK;
}

static const group *find_group(const group *g, size_t ng, const char *qid)
{
    size_t lo = 0, hi = ng;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(g[mid].qid, qid);
        if (c == 0) return &g[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* ---- qrels ----------------------------------------------------------- */

static int cmp_judgement(const void *a, const void *b)
{
    const judgement *x = a, *y = b;
    int c = strcmp(x->qid, y->qid);
    if (c) return c;
    c = strcmp(x->docid, y->docid);
    if (c) return c;
    return (x->line > y->line) - (x->line < y->line);
}

void tev_qrels_free(tev_qrels *q)
{
    if (!q) return;
    pool_free(&q->strings);
    free(q->j);
    free(q->g);
    free(q);
}

tev_qrels_format tev_qrels_format_of(const tev_qrels *q)
{
    return q->format;
}

size_t tev_qrels_num_rel(const tev_qrels *q, const char *qid)
{
    const group *g = find_group(q->g, q->ng, qid);
    return g ? g->nrel : 0;
}

size_t tev_qrels_num_judged(const tev_qrels *q)
{
    size_t n = 0;
    for (size_t k = 0; k < q->ng; k++)
        if (q->g[k].nrel) n++;
    return n;
}

/* Sort, reject repeated pairs, and group by query. */
static int qrels_finish(tev_qrels *q, const char *name, tev_error *err)
{
    if (q->nj > 1) qsort(q->j, q->nj, sizeof *q->j, cmp_judgement);
    /* Report the repeat that comes first in the file, not in sort order. */
    const judgement *dup = NULL;
    for (size_t i = 1; i < q->nj; i++)
        if (strcmp(q->j[i].qid, q->j[i - 1].qid) == 0 &&
            strcmp(q->j[i].docid, q->j[i - 1].docid) == 0 && (!dup || q->j[i].line < dup->line))
            dup = &q->j[i];
    if (dup) {
        /* The sort puts the earlier line just before it. */
        const judgement *first = dup - 1;
        return fail(err, TEV_DUPLICATE,
                    "%s:%lu: query %s, document %s is judged twice (first at line %lu)", name,
                    dup->line, dup->qid, dup->docid, first->line);
    }
    if (make_groups(q->j, q->nj, sizeof *q->j, offsetof(judgement, qid), &q->g, &q->ng) != TEV_OK)
        return fail(err, TEV_NOMEM, "%s: out of memory", name);
    for (size_t k = 0; k < q->ng; k++)
        for (size_t i = q->g[k].start; i < q->g[k].start + q->g[k].n; i++)
            if (q->j[i].rel > 0) q->g[k].nrel++;
    return TEV_OK;
}

int tev_qrels_read(FILE *f, const char *name, tev_qrels **out, tev_error *err)
{
    *out = NULL;
    tev_qrels *q = calloc(1, sizeof *q);
    if (!q) return fail(err, TEV_NOMEM, "%s: out of memory", name);
    q->format = TEV_QRELS_TREC;
    char *buf = NULL, *line;
    size_t bufcap = 0, cap = 0, want = 0;
    unsigned long lineno = 0;
    const char *prev_qid = NULL;
    int rc = TEV_OK, lrc = TEV_OK;
    while (rc == TEV_OK && (line = next_line(f, &buf, &bufcap, &lineno, &lrc))) {
        if (lrc != TEV_OK) {
            rc = fail(err, lrc, "%s:%lu: NUL byte in line", name, lineno);
            break;
        }
        char *fl[5];
        size_t nf = split_fields(line, fl, 5);
        long rel;
        if (!want) {
            /* The first line decides the format. */
            if (nf == 3) {
                q->format = TEV_QRELS_BEIR;
                want = 3;
                if (!parse_long(fl[2], &rel)) continue; /* the header */
            } else if (nf == 4) {
                want = 4;
            } else {
                rc = fail(err, TEV_SYNTAX,
                          "%s:%lu: %zu fields: not qrels (BEIR 'query-id corpus-id score' or "
                          "TREC 'qid 0 docid rel')",
                          name, lineno, nf);
                break;
            }
        }
        if (nf != want) {
            rc = fail(err, TEV_SYNTAX, "%s:%lu: %zu fields, expected %zu as in %s qrels (%s)", name,
                      lineno, nf, want, want == 3 ? "BEIR" : "TREC",
                      want == 3 ? "query-id corpus-id score" : "qid 0 docid rel");
            break;
        }
        const char *qid = fl[0], *docid = want == 3 ? fl[1] : fl[2], *rels = fl[want - 1];
        if (!parse_long(rels, &rel)) {
            rc = fail(err, TEV_SYNTAX, "%s:%lu: relevance '%s' is not an integer", name, lineno,
                      rels);
            break;
        }
        if (reserve((void **)&q->j, &cap, q->nj, sizeof *q->j) != TEV_OK) {
            rc = fail(err, TEV_NOMEM, "%s: out of memory", name);
            break;
        }
        const char *iq = intern_qid(&q->strings, prev_qid, qid);
        const char *id = iq ? pool_strdup(&q->strings, docid) : NULL;
        if (!id) {
            rc = fail(err, TEV_NOMEM, "%s: out of memory", name);
            break;
        }
        prev_qid = iq;
        q->j[q->nj++] = (judgement){iq, id, rel, lineno};
    }
    if (rc == TEV_OK && lrc == TEV_IO)
        rc = fail(err, TEV_IO, "%s: read error: %s", name, strerror(errno));
    free(buf);
    if (rc == TEV_OK) rc = qrels_finish(q, name, err);
    if (rc != TEV_OK) {
        tev_qrels_free(q);
        return rc;
    }
    *out = q;
    return TEV_OK;
}

int tev_qrels_load(const char *path, tev_qrels **out, tev_error *err)
{
    *out = NULL;
    FILE *f = fopen(path, "r");
    if (!f) return fail(err, TEV_IO, "%s: cannot open: %s", path, strerror(errno));
    int rc = tev_qrels_read(f, path, out, err);
    fclose(f);
    return rc;
}

/* ---- run ------------------------------------------------------------- */

static int cmp_hit_docid(const void *a, const void *b)
{
    const hit *x = a, *y = b;
    int c = strcmp(x->qid, y->qid);
    if (c) return c;
    c = strcmp(x->docid, y->docid);
    if (c) return c;
    return (x->line > y->line) - (x->line < y->line);
}

/* trec_eval's ranking order: score descending, then docid descending. */
static int cmp_hit_rank(const void *a, const void *b)
{
    const hit *x = a, *y = b;
    if (x->score > y->score) return -1;
    if (x->score < y->score) return 1;
    return strcmp(y->docid, x->docid);
}

void tev_run_free(tev_run *r)
{
    if (!r) return;
    pool_free(&r->strings);
    free(r->h);
    free(r->g);
    free(r);
}

static int run_finish(tev_run *r, const char *name, tev_error *err)
{
    if (r->nh > 1) qsort(r->h, r->nh, sizeof *r->h, cmp_hit_docid);
    const hit *dup = NULL;
    for (size_t i = 1; i < r->nh; i++)
        if (strcmp(r->h[i].qid, r->h[i - 1].qid) == 0 &&
            strcmp(r->h[i].docid, r->h[i - 1].docid) == 0 && (!dup || r->h[i].line < dup->line))
            dup = &r->h[i];
    if (dup)
        return fail(err, TEV_DUPLICATE,
                    "%s:%lu: document %s appears twice for query %s (first at line %lu)", name,
                    dup->line, dup->docid, dup->qid, dup[-1].line);
    if (make_groups(r->h, r->nh, sizeof *r->h, offsetof(hit, qid), &r->g, &r->ng) != TEV_OK)
        return fail(err, TEV_NOMEM, "%s: out of memory", name);
    for (size_t k = 0; k < r->ng; k++)
        qsort(r->h + r->g[k].start, r->g[k].n, sizeof *r->h, cmp_hit_rank);
    return TEV_OK;
}

int tev_run_read(FILE *f, const char *name, tev_run **out, tev_error *err)
{
    *out = NULL;
    tev_run *r = calloc(1, sizeof *r);
    if (!r) return fail(err, TEV_NOMEM, "%s: out of memory", name);
    char *buf = NULL, *line;
    size_t bufcap = 0, cap = 0;
    unsigned long lineno = 0;
    const char *prev_qid = NULL;
    int rc = TEV_OK, lrc = TEV_OK;
    while (rc == TEV_OK && (line = next_line(f, &buf, &bufcap, &lineno, &lrc))) {
        if (lrc != TEV_OK) {
            rc = fail(err, lrc, "%s:%lu: NUL byte in line", name, lineno);
            break;
        }
        char *fl[7];
        size_t nf = split_fields(line, fl, 7);
        if (nf != 6) {
            rc = fail(err, TEV_SYNTAX,
                      "%s:%lu: %zu fields, expected 6 (qid Q0 docid rank score tag)", name, lineno,
                      nf);
            break;
        }
        char *end;
        double score = strtod(fl[4], &end);
        if (end == fl[4] || *end || !isfinite(score) || fabs(score) > FLT_MAX) {
            rc = fail(err, TEV_SYNTAX, "%s:%lu: score '%s' is not a number in float range", name,
                      lineno, fl[4]);
            break;
        }
        if (reserve((void **)&r->h, &cap, r->nh, sizeof *r->h) != TEV_OK) {
            rc = fail(err, TEV_NOMEM, "%s: out of memory", name);
            break;
        }
        const char *iq = intern_qid(&r->strings, prev_qid, fl[0]);
        const char *id = iq ? pool_strdup(&r->strings, fl[2]) : NULL;
        if (!id) {
            rc = fail(err, TEV_NOMEM, "%s: out of memory", name);
            break;
        }
        prev_qid = iq;
        r->h[r->nh++] = (hit){iq, id, (float)score, lineno};
    }
    if (rc == TEV_OK && lrc == TEV_IO)
        rc = fail(err, TEV_IO, "%s: read error: %s", name, strerror(errno));
    free(buf);
    if (rc == TEV_OK) rc = run_finish(r, name, err);
    if (rc != TEV_OK) {
        tev_run_free(r);
        return rc;
    }
    *out = r;
    return TEV_OK;
}

int tev_run_load(const char *path, tev_run **out, tev_error *err)
{
    *out = NULL;
    if (strcmp(path, "-") == 0) return tev_run_read(stdin, "<stdin>", out, err);
    FILE *f = fopen(path, "r");
    if (!f) return fail(err, TEV_IO, "%s: cannot open: %s", path, strerror(errno));
    int rc = tev_run_read(f, path, out, err);
    fclose(f);
    return rc;
}

/* ---- evaluation ------------------------------------------------------ */

static int cmp_long_desc(const void *a, const void *b)
{
    long x = *(const long *)a, y = *(const long *)b;
    return (x < y) - (x > y);
}

/* The relevance of `docid` in the judgements of one query (0 if unjudged). */
static long rel_of(const tev_qrels *q, const group *g, const char *docid)
{
    size_t lo = g->start, hi = g->start + g->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(q->j[mid].docid, docid);
        if (c == 0) return q->j[mid].rel;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

/* One query's metrics.  `gains` has room for the query's nrel gains. */
static void eval_query(const tev_qrels *q, const group *jg, const tev_run *run, const group *rg,
                       long *gains, double *v)
{
    size_t ng = 0;
    for (size_t i = jg->start; i < jg->start + jg->n; i++)
        if (q->j[i].rel > 0) gains[ng++] = q->j[i].rel;
    qsort(gains, ng, sizeof *gains, cmp_long_desc);
    double idcg = 0;
    for (size_t i = 0; i < ng && i < 10; i++) idcg += (double)gains[i] / log2((double)i + 2);

    size_t depth = rg ? (rg->n < TEV_DEPTH ? rg->n : TEV_DEPTH) : 0;
    size_t relret = 0, rel10 = 0, rel100 = 0;
    double dcg = 0, sum_prec = 0, rr = 0;
    for (size_t i = 0; i < depth; i++) {
        long rel = rel_of(q, jg, run->h[rg->start + i].docid);
        if (rel <= 0) continue;
        relret++;
        sum_prec += (double)relret / (double)(i + 1);
        if (i < 10) {
            dcg += (double)rel / log2((double)i + 2);
            if (++rel10 == 1) rr = 1.0 / (double)(i + 1);
        }
        if (i < 100) rel100++;
    }
    double nrel = (double)jg->nrel;
    v[TEV_NUM_RET] = (double)depth;
    v[TEV_NUM_REL] = nrel;
    v[TEV_NUM_REL_RET] = (double)relret;
    v[TEV_NDCG_CUT_10] = idcg > 0 ? dcg / idcg : 0;
    v[TEV_MAP_CUT_1000] = sum_prec / nrel;
    v[TEV_RECALL_100] = (double)rel100 / nrel;
    v[TEV_RECALL_1000] = (double)relret / nrel;
    v[TEV_P_10] = (double)rel10 / 10.0;
    v[TEV_MRR_CUT_10] = rr;
}

void tev_result_free(tev_result *r)
{
    if (!r) return;
    for (size_t i = 0; i < r->nqueries; i++) free(r->queries[i].qid);
    free(r->queries);
    memset(r, 0, sizeof *r);
}

int tev_evaluate(const tev_qrels *qrels, const tev_run *run, tev_result *out, tev_error *err)
{
    memset(out, 0, sizeof *out);
    size_t judged = 0, maxrel = 0;
    for (size_t k = 0; k < qrels->ng; k++) {
        if (qrels->g[k].nrel) judged++;
        if (qrels->g[k].nrel > maxrel) maxrel = qrels->g[k].nrel;
    }
    if (!judged) return TEV_OK;
    tev_query_result *qr = calloc(judged, sizeof *qr);
    long *gains = malloc(maxrel * sizeof *gains);
    if (!qr || !gains) {
        free(qr);
        free(gains);
        return fail(err, TEV_NOMEM, "out of memory");
    }
    out->queries = qr;
    for (size_t k = 0; k < qrels->ng; k++) {
        const group *jg = &qrels->g[k];
        if (!jg->nrel) continue;
        tev_query_result *r = &out->queries[out->nqueries];
        r->qid = strdup(jg->qid);
        if (!r->qid) {
            free(gains);
            tev_result_free(out);
            return fail(err, TEV_NOMEM, "out of memory");
        }
        out->nqueries++;
        eval_query(qrels, jg, run, find_group(run->g, run->ng, jg->qid), gains, r->value);
        for (int m = 0; m < TEV_NMETRICS; m++) out->all[m] += r->value[m];
    }
    free(gains);
    for (int m = 0; m < TEV_NMETRICS; m++)
        if (!tev_metric_is_count((tev_metric)m)) out->all[m] /= (double)out->nqueries;
    return TEV_OK;
}
