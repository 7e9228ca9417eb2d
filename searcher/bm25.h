/*
 * bm25.h - the BM25 scoring variants, chosen by name at query time.
 *
 * Definitions as compared by Kamphuis, de Vries, Boytsov and Lin, "Which
 * BM25 Do You Mean?" (ECIR 2020), with N live documents, df the term's
 * document frequency, tf its frequency in the document, and
 * L = 1 - b + b * dl / avgdl the length normalisation:
 *
 *   lucene     ln(1 + (N - df + 0.5) / (df + 0.5)) * tf / (tf + k1 * L)
 *   robertson  ln((N - df + 0.5) / (df + 0.5))     * tf / (tf + k1 * L)
 *   atire      ln(N / df)                          * (k1 + 1) tf / (tf + k1 * L)
 *   bm25l      ln((N + 1) / (df + 0.5))            * (k1 + 1)(c + delta) / (k1 + c + delta),
 *                                                    c = tf / L
 *   bm25plus   ln((N + 1) / df)                    * ((k1 + 1) tf / (tf + k1 * L) + delta)
 *
 * summed over the query terms a document contains.  Every variant is one
 * formula with per-term constants (bm25_term):
 *
 *   score = a * (tf + d * L) / (tf + k * L) + c
 *
 * (bm25l: multiply its fraction by L/L), so scoring a posting is two
 * multiply-adds and a division, with no branch and no function pointer.
 * With a >= 0 the score rises with tf and does not rise with L (k >= d),
 * which is what the pruning bounds of search.c rely on; only robertson can
 * have a < 0 (a term in more than half of the documents), and then the
 * caller must not use (max tf, min length) as an upper bound.
 *
 * Lengths: dl is the exact token count, or with lucene_norms the length
 * Lucene's one-byte norm gives back (exact below 24, then 4 significant
 * bits: 100 -> 96); avgdl is always exact, as in Lucene.
 *
 * Pure functions and plain data: thread-safe.
 */
#ifndef SE_BM25_H
#define SE_BM25_H

#include <stdint.h>

#include "common/status.h"

typedef enum bm25_variant {
    BM25_LUCENE = 0,
    BM25_ROBERTSON,
    BM25_ATIRE,
    BM25_L,
    BM25_PLUS,
} bm25_variant;

#define BM25_DEFAULT_DELTA_L    0.5f /* Lv and Zhai's values */
#define BM25_DEFAULT_DELTA_PLUS 1.0f

typedef struct bm25_params {
    bm25_variant variant;
    float k1, b;      /* k1 in [0, 100], b in [0, 1] */
    float delta;      /* bm25l and bm25plus only, in [0, 100] */
    int lucene_norms; /* quantise document lengths as Lucene does */
} bm25_params;

/* One query's scoring model: parameters plus collection statistics. */
typedef struct bm25_model {
    bm25_variant variant;
    float len_base, len_per_token; /* L = len_base + len_per_token * dl */
    float k, d;                    /* of the unified formula */
    float tf_scale;                /* 1 (lucene, robertson) or k1 + 1 */
    float delta_add;               /* delta for bm25plus, else 0 */
    int lucene_norms;
    uint64_t ndocs;
    double avgdl;
} bm25_model;

/* A scored term or phrase: the constants of the unified formula. */
typedef struct bm25_term {
    float a, c, k, d;
} bm25_term;

/* "lucene", "robertson", "atire", "bm25l", "bm25plus" (also "bm25+").
 * SE_OK or SE_INVALID. */
int bm25_variant_parse(const char *name, bm25_variant *out);
const char *bm25_variant_name(bm25_variant v);

/* Set up *m for a collection of ndocs live documents totalling total_len
 * tokens.  SE_INVALID (message in err) for parameters out of range. */
int bm25_model_init(bm25_model *m, const bm25_params *p, uint64_t ndocs, uint64_t total_len,
                    se_error *err);

/* The variant's idf for a term in df documents; 0 when df is 0 (the term
 * matches nothing).  df above ndocs (a damaged index) is taken as ndocs. */
double bm25_idf(const bm25_model *m, uint64_t df);

/* The constants of a term (or phrase) with that idf, occurring `weight`
 * times in the query (its contribution is multiplied by weight). */
bm25_term bm25_term_make(const bm25_model *m, double idf, float weight);

/* The length Lucene's one-byte norm keeps of dl tokens: lengths below 40
 * exactly; above, dl - 24 keeps its 4 most significant bits (Lucene's
 * SmallFloat.intToByte4: 24 exact values, then 4-bit floating point). */
static inline uint32_t bm25_lucene_length(uint32_t dl)
{
    if (dl < 40) return dl;
    uint32_t x = dl - 24;
    int shift = 28 - __builtin_clz(x); /* bits below the top 4 */
    return ((x >> shift) << shift) + 24;
}

/* L of a document of dl tokens. */
static inline float bm25_doc_norm(const bm25_model *m, uint32_t dl)
{
    float len = (float)(m->lucene_norms ? bm25_lucene_length(dl) : dl);
    return m->len_base + m->len_per_token * len;
}

/* A term's contribution to a document where it occurs tf times (tf >= 1),
 * L = bm25_doc_norm of the document. */
static inline float bm25_score(const bm25_term *t, uint32_t tf, float norm)
{
    float f = (float)tf;
    return t->a * (f + t->d * norm) / (f + t->k * norm) + t->c;
}

#endif
