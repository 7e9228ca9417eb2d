/*
 * bm25.c - BM25 variants (bm25.h): names, idf, and the per-term constants
 * of the unified formula  a * (tf + d * L) / (tf + k * L) + c.
 *
 * How each variant maps onto it (s = tf_scale, delta as given):
 *   lucene, robertson  a = idf,      k = k1,         d = 0,     c = 0
 *   atire              a = idf (k1+1), k = k1,       d = 0,     c = 0
 *   bm25plus           a = idf (k1+1), k = k1,       d = 0,     c = idf delta
 *   bm25l              a = idf (k1+1), k = k1+delta, d = delta, c = 0
 * bm25l: (k1+1)(c' + delta) / (k1 + c' + delta) with c' = tf / L equals
 * (k1+1)(tf + delta L) / (tf + (k1 + delta) L) once both sides of the
 * fraction are multiplied by L (> 0 for any document that has a term).
 */
#include "searcher/bm25.h"

#include <math.h>
#include <string.h>

static const struct {
    const char *name;
    bm25_variant v;
} variants[] = {
    {"lucene", BM25_LUCENE}, {"robertson", BM25_ROBERTSON}, {"atire", BM25_ATIRE},
    {"bm25l", BM25_L},       {"bm25plus", BM25_PLUS},       {"bm25+", BM25_PLUS},
};

int bm25_variant_parse(const char *name, bm25_variant *out)
{
    for (size_t i = 0; i < sizeof variants / sizeof variants[0]; i++)
        if (strcmp(name, variants[i].name) == 0) {
            *out = variants[i].v;
            return SE_OK;
        }
    return SE_INVALID;
}

const char *bm25_variant_name(bm25_variant v)
{
    for (size_t i = 0; i < sizeof variants / sizeof variants[0]; i++)
        if (variants[i].v == v) return variants[i].name;
    return "unknown";
}

int bm25_model_init(bm25_model *m, const bm25_params *p, uint64_t ndocs, uint64_t total_len,
                    se_error *err)
{
    memset(m, 0, sizeof *m);
    if (!(p->k1 >= 0 && p->k1 <= 100) || !(p->b >= 0 && p->b <= 1))
        return se_fail(err, SE_INVALID, "BM25 parameters out of range (k1 in [0,100], b in [0,1])");
    if (!(p->delta >= 0 && p->delta <= 100))
        return se_fail(err, SE_INVALID, "BM25 delta out of range ([0,100])");
    if ((unsigned)p->variant > BM25_PLUS)
        return se_fail(err, SE_INVALID, "unknown BM25 variant %d", (int)p->variant);
    double avgdl = ndocs ? (double)total_len / (double)ndocs : 1.0;
    if (avgdl <= 0) avgdl = 1.0;
    m->variant = p->variant;
    m->ndocs = ndocs;
    m->avgdl = avgdl;
    m->lucene_norms = p->lucene_norms != 0;
    m->len_base = 1.0f - p->b;
    m->len_per_token = (float)(p->b / avgdl);
    m->k = p->k1;
    m->d = 0;
    m->tf_scale = p->variant == BM25_LUCENE || p->variant == BM25_ROBERTSON ? 1.0f : p->k1 + 1.0f;
    m->delta_add = p->variant == BM25_PLUS ? p->delta : 0.0f;
    if (p->variant == BM25_L) {
        m->k = p->k1 + p->delta;
        m->d = p->delta;
    }
    return SE_OK;
}

int bm25f_model_init(bm25f_model *f, float weight, float title_b, float b, int lucene_norms,
                     uint64_t ndocs, uint64_t total_len, uint64_t total_title_len, se_error *err)
{
    memset(f, 0, sizeof *f);
    if (!(weight > 0 && weight <= 1000))
        return se_fail(err, SE_INVALID, "title weight out of range ((0, 1000])");
    if (!(title_b >= 0 && title_b <= 1) || !(b >= 0 && b <= 1))
        return se_fail(err, SE_INVALID, "BM25F b out of range ([0, 1])");
    if (total_title_len > total_len) total_title_len = total_len; /* damaged: keep it sane */
    double n = ndocs ? (double)ndocs : 1.0;
    double avg_t = (double)total_title_len / n, avg_b = (double)(total_len - total_title_len) / n;
    /* An average of 0 means no document has that field: its tf is 0. */
    if (avg_t <= 0) avg_t = 1.0;
    if (avg_b <= 0) avg_b = 1.0;
    f->weight = weight;
    f->avg_title = avg_t;
    f->avg_body = avg_b;
    f->lucene_norms = lucene_norms != 0;
    f->title_base = 1.0f - title_b;
    f->title_per = (float)(title_b / avg_t);
    f->body_base = 1.0f - b;
    f->body_per = (float)(b / avg_b);
    return SE_OK;
}

double bm25_idf(const bm25_model *m, uint64_t df)
{
    if (df == 0) return 0;
    if (df > m->ndocs) df = m->ndocs;
    double n = (double)m->ndocs, f = (double)df;
    switch (m->variant) {
    case BM25_ROBERTSON:
        return log((n - f + 0.5) / (f + 0.5));
    case BM25_ATIRE:
        return log(n / f);
    case BM25_L:
        return log((n + 1) / (f + 0.5));
    case BM25_PLUS:
        return log((n + 1) / f);
    case BM25_LUCENE:
    default:
        return log(1.0 + (n - f + 0.5) / (f + 0.5));
    }
}

bm25_term bm25_term_make(const bm25_model *m, double idf, float weight)
{
    bm25_term t;
    t.a = (float)(idf * (double)weight * (double)m->tf_scale);
    t.c = (float)(idf * (double)weight * (double)m->delta_add);
    t.k = m->k;
    t.d = m->d;
    return t;
}
