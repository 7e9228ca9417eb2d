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
 * BM25F (fielded scoring, Robertson, Zaragoza and Taylor 2004, in the
 * "simple BM25F" form): a document is a title and a body, the body being
 * the indexed text minus the title (title tokens are part of the one
 * combined field the index keeps).  With W the title's weight, b_t its b,
 * lt / avg_t the title's length and average length, lb / avg_b the body's
 * (avg_b = (total length - total title length) / N), tf_t the term's
 * occurrences in the title and tf_b = tf - tf_t those in the body:
 *
 *   tf' = W tf_t / (1 - b_t + b_t lt / avg_t) + tf_b / (1 - b + b lb / avg_b)
 *
 * (a field whose tf is 0 adds nothing), and the term scores as its
 * variant's formula with tf / L replaced by tf', i.e. with tf = tf' and
 * L = 1 in the unified formula:
 *
 *   lucene, robertson  idf * tf' / (tf' + k1)
 *   atire              idf * (k1 + 1) tf' / (tf' + k1)
 *   bm25l              idf * (k1 + 1)(tf' + delta) / (k1 + tf' + delta)
 *   bm25plus           idf * ((k1 + 1) tf' / (tf' + k1) + delta)
 *
 * so every variant has a BM25F form, with its own idf from the combined
 * field's df as without fields.  W = 0 is no fielded scoring at all (the
 * formula above is not used, so scores are exactly the single-field ones).
 * As tf' grows the score rises towards a + c (bm25f_bound), which bounds
 * any document's contribution.  Phrases are scored on the combined field
 * in either case.
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

/* BM25F: the weight and length normalisation of the two fields. */
typedef struct bm25f_model {
    float weight;                /* W > 0 */
    float title_base, title_per; /* 1 - b_t + b_t * lt / avg_t = base + per * lt */
    float body_base, body_per;   /* 1 - b + b * lb / avg_b */
    int lucene_norms;
    double avg_title, avg_body;
} bm25f_model;

/* Set up *f for title weight `weight` (> 0, at most 1000), the title's b
 * `title_b` and the body's b (both in [0, 1]), over ndocs live documents
 * totalling total_len tokens of which total_title_len are title tokens.
 * SE_INVALID (message in err) for parameters out of range. */
int bm25f_model_init(bm25f_model *f, float weight, float title_b, float b, int lucene_norms,
                     uint64_t ndocs, uint64_t total_len, uint64_t total_title_len, se_error *err);

/* tf' of a term with tf_title occurrences in a title of title_len tokens
 * and tf_body in a body of body_len tokens. */
static inline float bm25f_tf(const bm25f_model *f, uint32_t tf_title, uint32_t title_len,
                             uint32_t tf_body, uint32_t body_len)
{
    float x = 0;
    if (f->lucene_norms) {
        title_len = bm25_lucene_length(title_len);
        body_len = bm25_lucene_length(body_len);
    }
    /* A norm of 0 (b = 1, an empty field) goes with a tf of 0 except in a
     * damaged index; either way the field adds nothing rather than a
     * division by zero. */
    float nt = f->title_base + f->title_per * (float)title_len;
    float nb = f->body_base + f->body_per * (float)body_len;
    if (tf_title && nt > 0) x += f->weight * (float)tf_title / nt;
    if (tf_body && nb > 0) x += (float)tf_body / nb;
    return x;
}

/* A term's BM25F contribution for tf' (bm25f_tf). */
static inline float bm25f_score(const bm25_term *t, float tfp)
{
    return t->a * (tfp + t->d) / (tfp + t->k) + t->c;
}

/* Above every bm25f_score of the term when t->a >= 0 (k >= d in every
 * variant, so the fraction stays at or below 1, in float as well). */
static inline float bm25f_bound(const bm25_term *t)
{
    return t->a + t->c;
}

/* A term's contribution to a document where it occurs tf times (tf >= 1),
 * L = bm25_doc_norm of the document. */
static inline float bm25_score(const bm25_term *t, uint32_t tf, float norm)
{
    float f = (float)tf;
    return t->a * (f + t->d * norm) / (f + t->k * norm) + t->c;
}

#endif
