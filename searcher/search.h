/*
 * search.h - ranked retrieval over an open index.
 *
 * searcher_run parses a query (query.h), analyses its words with the
 * analyzer settings of the index (its manifest's), and evaluates it segment
 * by segment, document at a time, into a top-k heap:
 *   - a word is a term; a word that analyses into several terms, and a
 *     quoted phrase, match only where the terms stand at consecutive
 *     positions (after stemming); with `literal` such a word is its terms,
 *     each a clause of its own;
 *   - BM25 scores every matching term and phrase and adds them up, by
 *     default Lucene's variant
 *       idf * tf / (tf + k1 * (1 - b + b * dl / avgdl)),
 *       idf = ln(1 + (N - df + 0.5) / (df + 0.5)),
 *     or another of bm25.h, with N, avgdl and df taken over the whole index;
 *     a phrase's tf is the number of its occurrences in the document and its
 *     idf the sum of its terms' idfs;
 *   - a term or phrase repeated among the clauses of one boolean node (with
 *     the same occurrence, or required and optional) is evaluated once and
 *     its contribution multiplied by its count, so "to be or not to be"
 *     reads four postings lists, not six, and scores as before up to float
 *     rounding (2 x instead of x + x added in another order);
 *   - with title_weight > 0, terms (not phrases) are scored with BM25F
 *     (bm25.h): the title's occurrences (the index's title-field terms) and
 *     length with weight title_weight and b title_b, the rest of the
 *     document as the body with b; title_weight 0 (the default) scores the
 *     one combined field as above;
 *   - MUST_NOT clauses filter and never score.
 * A single term or a disjunction of terms is evaluated with block-max
 * MaxScore (search.c), which returns exactly the exhaustive top k but counts
 * matches only as a lower bound; search_options.exhaustive turns it off.
 * Hits are ordered by score, ties by the hash of the document id, so the
 * order does not depend on how documents are spread over segments.
 *
 * Thread-safety: a searcher holds an analyzer and scratch buffers: one per
 * thread.  The index_reader it uses may be shared.
 */
#ifndef SE_SEARCH_H
#define SE_SEARCH_H

#include <stddef.h>
#include <stdint.h>

#include "common/index.h"
#include "common/status.h"
#include "searcher/bm25.h"

#define SEARCH_DEFAULT_K1       1.2f
#define SEARCH_DEFAULT_B        0.75f
#define SEARCH_DEFAULT_TITLE_B  0.75f /* bin/search's --title-b */
#define SEARCH_MAX_TITLE_WEIGHT 1000.0f
#define SEARCH_MAX_K            100000

typedef struct search_options {
    uint32_t k;           /* hits wanted (1..SEARCH_MAX_K) */
    float k1, b;          /* BM25 parameters */
    bm25_variant variant; /* BM25_LUCENE (0) unless chosen */
    float delta;          /* bm25l / bm25plus: see BM25_DEFAULT_DELTA_* */
    int lucene_norms;     /* document lengths rounded as Lucene's one-byte norms */
    int default_and;      /* juxtaposed words are all required (--and) */
    int literal;          /* the query is plain words: no operators, quotes or parentheses,
                             and a word the analyzer splits (IL-6) gives one clause per term
                             instead of a phrase */
    int exhaustive;       /* score every match (exact `matches`); otherwise dynamic pruning
                             may skip documents that cannot reach the top k */
    float title_weight;   /* BM25F title weight W in [0, SEARCH_MAX_TITLE_WEIGHT]; 0 (the
                             zero of the struct) scores one combined field */
    float title_b;        /* the title's b in [0, 1] when title_weight > 0 (the body keeps b);
                             SEARCH_DEFAULT_TITLE_B is bin/search's default */
} search_options;

typedef struct search_hit {
    uint32_t segment; /* index into index_reader.segments */
    uint32_t doc;     /* document within the segment */
    uint64_t id_hash;
    float score;
} search_hit;

/* What evaluation did, for measuring pruning. */
typedef struct search_stats {
    uint64_t documents_scored; /* documents whose full score was computed */
    uint64_t postings_scored;  /* term contributions computed by the pruned path */
    uint64_t blocks_skipped;   /* stretches skipped on block bounds */
    uint64_t postings_total;   /* postings in the query terms' lists: what scoring every
                                  match of a disjunction would take */
    int pruned;                /* some matching document may not have been counted */
} search_stats;

typedef struct search_result {
    search_hit *hits; /* best first; owned by the searcher until the next run */
    size_t nhits;
    uint64_t matches;  /* documents that matched the query (a lower bound when
                          !matches_exact) */
    int matches_exact; /* 1 unless pruning skipped documents */
    search_stats stats;
} search_result;

/* What a hit's snippet should highlight: the query's positive terms and
 * phrases, as analysed terms. */
typedef struct search_phrase {
    size_t nterms;
    const char **terms;
    const uint32_t *offsets; /* position of each term relative to the first */
} search_phrase;

typedef struct search_highlight {
    size_t nterms;
    const char **terms; /* single terms */
    size_t nphrases;
    const search_phrase *phrases;
} search_highlight;

typedef struct searcher searcher;

int searcher_new(searcher **out, const index_reader *ix, se_error *err);
void searcher_free(searcher *s);

/* Run one query.  SE_OK (possibly with no hits), SE_SYNTAX / SE_LIMIT for a
 * bad query, SE_CORRUPT if an index structure turned out malformed (no
 * results are returned then), SE_NOMEM. */
int searcher_run(searcher *s, const char *query, size_t len, const search_options *opt,
                 search_result *res, se_error *err);

/* Why a hit scored as it did: one entry per matching term or phrase that
 * adds to its score (exclusions and non-matching clauses are left out).
 * The contribution is the variant's BM25 of (idf, tf, dl, avgdl) times the
 * weight; the contributions add up to the hit's score (up to float
 * rounding). */
typedef struct search_explain_term {
    const char *text; /* the analysed term, or a phrase's terms joined by spaces */
    int phrase;
    float idf;    /* the variant's idf (a phrase: its terms' sum) */
    float weight; /* times the term or phrase is repeated in the query */
    uint32_t tf;  /* occurrences (of the whole phrase, for a phrase) */
    uint32_t dl;  /* document length in tokens, as scored (lucene_norms: rounded) */
    double avgdl;
    float contribution;
    /* BM25F (a term with title_weight > 0): the title's and the body's tf,
     * length (as scored) and average length, and tf' (bm25.h). */
    int fielded;
    uint32_t title_tf, title_len, body_tf, body_len;
    double title_avg, body_avg;
    float tf_fielded;
} search_explain_term;

/* Explain a hit of the last searcher_run (strings valid until the next
 * run).  Fills up to cap entries; *n is the number of contributions (which
 * may exceed cap).  SE_OK, SE_INVALID (not a hit of the last query),
 * SE_CORRUPT, SE_NOMEM. */
int searcher_explain(searcher *s, const search_hit *hit, search_explain_term *out, size_t cap,
                     size_t *n, se_error *err);

/* Terms and phrases of the last query, for snippets; valid until the next
 * searcher_run. */
const search_highlight *searcher_highlight(const searcher *s);

#endif
