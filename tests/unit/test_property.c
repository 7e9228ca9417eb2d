/*
 * test_property.c - property test: the searcher's top k against a
 * brute-force reference scorer.
 *
 * Each round draws a random corpus from a fixed-seed PRNG (splitmix64):
 * mostly 1-60 documents, in about one round in seven 129-2000 shorter ones
 * (so that frequent terms get several bit-packed postings blocks and skip
 * tables, and conjunctions skip through them).  The vocabulary, 12-40 words,
 * comes from a pool that mixes plain words, inflections that stem alike
 * (run/running/runs), capitals and accents (Café, CAFÉ, café), apostrophes
 * (Parker's, Parker’s), hyphenated words that split into two tokens
 * (e-mail), a ligature, Han characters, punctuation-only "words" that yield
 * no token, and one token longer than ANALYZER_MAX_TERM_BYTES (skipped by
 * the analyzer, but it takes a position).  Words are drawn Zipf-style, so a
 * few are frequent; documents have 0-80 text words (repeats are common, a
 * few documents are one word over and over) and 0-6 title words, some only a
 * title.  The corpus is written as JSONL into a mkdtemp directory and indexed
 * with input_open + build_index, about half of the rounds with a 1-64 KiB
 * memory budget: then every document becomes a batch segment of its own
 * (the inverter's fixed overhead is over 1 MiB) and build_index merges them
 * all, so the merge path is checked as well.
 *
 * Random queries are run through searcher_run and through a reference
 * scorer written here that knows nothing of postings, cursors or iterators:
 *
 *  - Documents: the title is analysed from position 0, the text from the
 *    title's analyzer_position() + 1 (as indexer/build.c does); a document is
 *    a position -> term table, and its length is its number of tokens.
 *  - Queries: the tree from query_parse (the parser has its own tests) is
 *    interpreted recursively with the rules of query.h and search.c's plan:
 *    a word or a quoted phrase is analysed into terms (zero terms: the leaf
 *    is dropped from its parent; one: a term; several: a phrase whose i-th
 *    term must stand at p + offset_i, the offsets being analyzer positions);
 *    a BOOL matches when all MUST clauses match, no MUST_NOT clause matches,
 *    and, without MUST clauses, at least one SHOULD clause matches; a BOOL
 *    left without positive clauses is dropped as well (at the root: nothing
 *    matches).  The score is the sum over the matching MUST and SHOULD
 *    clauses of BM25: idf * tf / (tf + k1 * (1 - b + b * len / avgdl)),
 *    idf = ln(1 + (N - df + 0.5) / (df + 0.5)), summed over a phrase's terms,
 *    a phrase's tf being its number of start positions.  All in double.
 *  - Ranking: score descending, ties by XXH3_64bits(id) ascending.
 *
 * The engine must report the same number of matching documents, the same
 * number of hits (min(k, matches)), and at each rank the reference's
 * document with a score within 1e-4 relative.  The engine scores in float,
 * so documents whose reference scores are within 1e-5 relative of each other
 * may come out in either order; check_query explains how such tie groups are
 * compared.  On top of that, each query is run again with a k above the
 * number of matches, and the engine's full ranking must be strictly ordered
 * (float score, then id hash) with the top k as its exact prefix: that pins
 * the hash tie-break and the heap's choice at the k-th place, which the
 * tolerant comparison cannot see.
 *
 * Queries mix single words (present, absent, case variants, punctuation),
 * disjunctions, +required, -excluded, NOT, AND, OR, parentheses, quoted
 * phrases (random ones, ones with a repeated word like "a b a", and ones
 * cut from a document so they do match), --and mode, --literal mode (the
 * same strings read as plain words, a word the analyzer splits giving one
 * clause per term), k in {1, 3, 10, 100}, k1 in [0.5, 2] and b in [0, 1];
 * in half of the queries another BM25 variant than lucene (robertson,
 * atire, bm25l, bm25plus; delta in [0, 2]) with its own idf and formula in
 * the reference, in a fifth Lucene's rounded lengths, and in two fifths
 * BM25F with a title weight in (0, 4] and the title's own b (the reference
 * counts a term's title occurrences from the title's positions and scores
 * bm25.h's formula in double).  Repeated words are
 * scored separately by the reference and once with a weight by the engine.
 * Each round's index uses one of the four analyzer settings (seed mod 4:
 * stop words, Porter stemmer), the reference the same analyzer.
 *
 * Environment: SE_PROPERTY_SEED (first round's seed), SE_PROPERTY_ROUNDS
 * (default 60; 24 under AddressSanitizer, where every batch segment costs
 * ~30 ms), SE_PROPERTY_VERBOSE (one line per round).  Every failing query is
 * printed with its round's seed; SE_PROPERTY_SEED=<seed> SE_PROPERTY_ROUNDS=1
 * replays that round, queries included.  Files go to $TMPDIR, else /dev/shm
 * when writable, else /tmp (the indexer fsyncs every file it writes, which
 * on a disk makes the ~1000 batch segments cost seconds).
 */
#include <ftw.h>
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <xxhash.h>

#include "common/analyzer.h"
#include "common/index.h"
#include "common/segment.h"
#include "common/status.h"
#include "indexer/build.h"
#include "indexer/input.h"
#include "searcher/query.h"
#include "searcher/search.h"

#define DEFAULT_SEED 0x5eed2024u
#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZED 1
#endif
#endif
#ifndef SANITIZED
#define SANITIZED 0
#endif

#define DEFAULT_ROUNDS  (SANITIZED ? 24 : 60)
#define QUERIES         100  /* per round */
#define SMALL_DOCS      60   /* most rounds: 1..SMALL_DOCS documents */
#define MAX_DOCS        2000 /* the others: SEG_BLOCK+1..MAX_DOCS, shorter */
#define MAX_TEXT_WORDS  80
#define MAX_TITLE_WORDS 6
#define MAX_VOCAB       40
#define MAX_LEAF_TERMS  64
#define NO_TERM         UINT32_MAX
#define SCORE_TOL       1e-4 /* relative score tolerance (engine floats vs. doubles) */
#define TIE_TOL         1e-5 /* reference scores this close may come out in either order */
#define MAX_REPORTS     10   /* failing queries printed in full */

/* ---- PRNG: splitmix64 ---------------------------------------------- */

typedef struct rng {
    uint64_t s;
} rng;

static uint64_t rng_next(rng *r)
{
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Uniform in [0, n), n > 0. */
static uint32_t rng_below(rng *r, uint32_t n)
{
    return (uint32_t)(rng_next(r) % n);
}

static double rng_unit(rng *r)
{
    return (double)(rng_next(r) >> 11) * 0x1p-53;
}

static int rng_chance(rng *r, double p)
{
    return rng_unit(r) < p;
}

/* ---- growable strings ---------------------------------------------- */

typedef struct sbuf {
    char *s;
    size_t len, cap;
} sbuf;

static void sb_addn(sbuf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1) cap *= 2;
        b->s = realloc(b->s, cap);
        cr_assert_not_null(b->s);
        b->cap = cap;
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = 0;
}

static void sb_add(sbuf *b, const char *s)
{
    sb_addn(b, s, strlen(s));
}

static void sb_clear(sbuf *b)
{
    b->len = 0;
    if (b->s) b->s[0] = 0;
}

/* Append s as the contents of a JSON string. */
static void sb_add_json(sbuf *b, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        char esc[8];
        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            sb_addn(b, esc, 2);
        } else if (c == '\n') {
            sb_add(b, "\\n");
        } else if (c == '\t') {
            sb_add(b, "\\t");
        } else if (c < 0x20) {
            snprintf(esc, sizeof esc, "\\u%04x", c);
            sb_add(b, esc);
        } else {
            sb_addn(b, (const char *)s, 1);
        }
    }
}

/* ---- the word pool ------------------------------------------------- */

/* Longer than ANALYZER_MAX_TERM_BYTES: skipped, but it takes a position. */
#define LONG_WORD                                                                                  \
    "pneumonoultramicroscopicsilicovolcanoconiosispneumonoultramicroscopicsilicovolcano"

/* Includes a ligature (ﬁsh), a curly apostrophe (Parker’s), Han characters
 * and an em dash; the source file is UTF-8. */
static const char *const POOL[] = {
    "the",     "a",       "of",        "and",         "in",       "to",       "is",
    "it",      "search",  "searching", "searches",    "searcher", "engine",   "engines",
    "index",   "indexes", "indexing",  "indexed",     "query",    "queries",  "run",
    "running", "runs",    "ran",       "cat",         "cats",     "Cat",      "dog",
    "DOGS",    "fish",    "fishing",   "ﬁsh",         "Café",     "cafe",     "CAFÉ",
    "café",    "naïve",   "naive",     "résumé",      "resume",   "Parker's", "Parker’s",
    "parker",  "don't",   "o'clock",   "rock'n'roll", "e-mail",   "email",    "Straße",
    "strasse", "über",    "Zürich",    "ZURICH",      "blue",     "green",    "red",
    "apple",   "apples",  "42",        "3.14",        "2024",     "data",     "database",
    "fast",    "faster",  "fastest",   "word",        "words",    "日本",     "東京",
    "!!",      "—",       "&",         "...",         LONG_WORD,
};
#define NPOOL (sizeof POOL / sizeof POOL[0])

/* Words no corpus contains. */
static const char *const ABSENT[] = {"zyzzyva", "quokka", "Xylograph", "blorp", "nonexistent"};
/* Query words that analyse to nothing. */
static const char *const PUNCT[] = {"!!", "&", "...", "—"};

/* Separators between words in documents. */
static const char *const SEPS[] = {" ",  " ",  " ",  " ",  "  ", ", ", ". ",  "\n",
                                   "; ", " (", ") ", "\"", "\t", "-",  " / ", ": "};

/* ---- the corpus and its reference index ---------------------------- */

typedef struct rdoc {
    char id[16];
    uint64_t id_hash;
    uint32_t title_words[MAX_TITLE_WORDS], ntitle; /* indices into corpus.vocab */
    uint32_t text_words[MAX_TEXT_WORDS], ntext;
    char *title, *text;
    uint32_t *term_at; /* term id at each position, NO_TERM in the gaps */
    uint32_t npos;
    uint32_t len;        /* tokens */
    uint32_t title_len;  /* tokens of the title */
    uint32_t title_npos; /* positions below this are the title's */
} rdoc;

typedef struct corpus {
    const char *vocab[MAX_VOCAB];
    uint32_t nvocab;
    double zipf_total;
    rdoc docs[MAX_DOCS];
    uint32_t ndocs;
    char **terms; /* interned analysed terms */
    uint32_t *df;
    uint32_t nterms, terms_cap;
    uint64_t total_len;
    uint64_t total_title_len;
} corpus;

static uint32_t term_find(const corpus *c, const char *t)
{
    for (uint32_t i = 0; i < c->nterms; i++)
        if (strcmp(c->terms[i], t) == 0) return i;
    return NO_TERM;
}

static uint32_t term_intern(corpus *c, const char *t)
{
    uint32_t id = term_find(c, t);
    if (id != NO_TERM) return id;
    if (c->nterms == c->terms_cap) {
        c->terms_cap = c->terms_cap ? 2 * c->terms_cap : 64;
        c->terms = realloc(c->terms, c->terms_cap * sizeof *c->terms);
        c->df = realloc(c->df, c->terms_cap * sizeof *c->df);
        cr_assert(c->terms && c->df);
    }
    c->terms[c->nterms] = strdup(t);
    cr_assert_not_null(c->terms[c->nterms]);
    c->df[c->nterms] = 0;
    return c->nterms++;
}

static void corpus_free(corpus *c)
{
    for (uint32_t i = 0; i < c->ndocs; i++) {
        free(c->docs[i].title);
        free(c->docs[i].text);
        free(c->docs[i].term_at);
    }
    for (uint32_t i = 0; i < c->nterms; i++) free(c->terms[i]);
    free(c->terms);
    free(c->df);
    memset(c, 0, sizeof *c);
}

/* A vocabulary word, Zipf-distributed over the vocabulary's order. */
static uint32_t zipf_word(rng *r, const corpus *c)
{
    double x = rng_unit(r) * c->zipf_total;
    for (uint32_t i = 0; i < c->nvocab; i++) {
        x -= 1.0 / (i + 1);
        if (x < 0) return i;
    }
    return c->nvocab - 1;
}

static char *join_words(rng *r, const corpus *c, const uint32_t *w, uint32_t n)
{
    sbuf b = {0};
    sb_add(&b, "");
    for (uint32_t i = 0; i < n; i++) {
        if (i > 0) sb_add(&b, SEPS[rng_below(r, sizeof SEPS / sizeof SEPS[0])]);
        sb_add(&b, c->vocab[w[i]]);
    }
    return b.s;
}

/* Analyse one document into its position -> term table, the way
 * indexer/build.c positions tokens: title from 0, text from the position
 * after the title's last plus one. */
static void analyse_doc(corpus *c, analyzer *an, rdoc *d)
{
    uint32_t cap = 64, *terms = malloc(cap * sizeof *terms), *pos = malloc(cap * sizeof *pos);
    uint32_t n = 0;
    cr_assert(terms && pos);
    const char *field[2] = {d->title, d->text};
    uint32_t first = 0;
    for (int f = 0; f < 2; f++) {
        analyzer_reset(an, field[f], strlen(field[f]), first);
        analyzer_token tok;
        while (analyzer_next(an, &tok)) {
            if (n == cap) {
                cap *= 2;
                terms = realloc(terms, cap * sizeof *terms);
                pos = realloc(pos, cap * sizeof *pos);
                cr_assert(terms && pos);
            }
            terms[n] = term_intern(c, tok.term);
            pos[n] = tok.position;
            n++;
        }
        if (f == 0) {
            d->title_len = n;
            d->title_npos = analyzer_position(an);
        }
        first = analyzer_position(an) + 1;
    }
    d->len = n;
    d->npos = n ? pos[n - 1] + 1 : 0;
    d->term_at = malloc((d->npos + 1) * sizeof *d->term_at);
    cr_assert_not_null(d->term_at);
    for (uint32_t i = 0; i < d->npos; i++) d->term_at[i] = NO_TERM;
    for (uint32_t i = 0; i < n; i++) {
        cr_assert(d->term_at[pos[i]] == NO_TERM, "two tokens at position %u", pos[i]);
        d->term_at[pos[i]] = terms[i];
    }
    /* document frequencies: count each distinct term once */
    for (uint32_t i = 0; i < n; i++) {
        int seen = 0;
        for (uint32_t j = 0; j < i && !seen; j++) seen = terms[j] == terms[i];
        if (!seen) c->df[terms[i]]++;
    }
    c->total_len += n;
    c->total_title_len += d->title_len;
    free(terms);
    free(pos);
}

static void make_corpus(rng *r, corpus *c, analyzer *an)
{
    memset(c, 0, sizeof *c);
    /* vocabulary: a random subset of the pool in random order */
    uint32_t idx[NPOOL];
    for (uint32_t i = 0; i < NPOOL; i++) idx[i] = i;
    for (uint32_t i = NPOOL - 1; i > 0; i--) {
        uint32_t j = rng_below(r, i + 1), t = idx[i];
        idx[i] = idx[j];
        idx[j] = t;
    }
    c->nvocab = 12 + rng_below(r, MAX_VOCAB - 12 + 1);
    for (uint32_t i = 0; i < c->nvocab; i++) {
        c->vocab[i] = POOL[idx[i]];
        c->zipf_total += 1.0 / (i + 1);
    }
    /* Some rounds have many more than SEG_BLOCK (mostly short) documents,
     * so that frequent terms get several bit-packed blocks and skip tables,
     * and conjunctions skip through them. */
    int large = rng_chance(r, 0.15);
    uint32_t max_text = large ? MAX_TEXT_WORDS / 4 : MAX_TEXT_WORDS;
    if (large)
        c->ndocs = SEG_BLOCK + 1 + rng_below(r, MAX_DOCS - SEG_BLOCK);
    else
        c->ndocs = 1 + rng_below(r, SMALL_DOCS);
    for (uint32_t i = 0; i < c->ndocs; i++) {
        rdoc *d = &c->docs[i];
        snprintf(d->id, sizeof d->id, "d%u", i);
        d->id_hash = XXH3_64bits(d->id, strlen(d->id));
        d->ntitle = rng_chance(r, 0.3) ? 0 : rng_below(r, MAX_TITLE_WORDS + 1);
        d->ntext = rng_chance(r, 0.1) ? 0 : rng_below(r, max_text + 1);
        if (rng_chance(r, 0.2) && d->ntext > 10) d->ntext /= 8; /* more short documents */
        if (d->ntitle == 0 && d->ntext == 0) d->ntitle = 1;     /* blank documents are skipped */
        /* a few documents are one word over and over (high tf) */
        uint32_t spam = rng_chance(r, 0.03) ? zipf_word(r, c) : NO_TERM;
        for (uint32_t j = 0; j < d->ntitle; j++) d->title_words[j] = zipf_word(r, c);
        for (uint32_t j = 0; j < d->ntext; j++) {
            /* otherwise, sometimes repeat the previous word or the one before */
            if (spam != NO_TERM)
                d->text_words[j] = spam;
            else if (j >= 2 && rng_chance(r, 0.08))
                d->text_words[j] = d->text_words[j - 1 - rng_below(r, 2)];
            else
                d->text_words[j] = zipf_word(r, c);
        }
        d->title = join_words(r, c, d->title_words, d->ntitle);
        d->text = join_words(r, c, d->text_words, d->ntext);
        analyse_doc(c, an, d);
    }
}

static void write_jsonl(rng *r, const corpus *c, const char *path)
{
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f, "cannot create %s", path);
    sbuf b = {0};
    for (uint32_t i = 0; i < c->ndocs; i++) {
        const rdoc *d = &c->docs[i];
        sb_clear(&b);
        sb_add(&b, "{\"id\":\"");
        sb_add(&b, d->id);
        sb_add(&b, "\"");
        if (d->title[0] || rng_chance(r, 0.5)) {
            sb_add(&b, ",\"title\":\"");
            sb_add_json(&b, d->title);
            sb_add(&b, "\"");
        }
        if (d->text[0] || rng_chance(r, 0.5)) {
            sb_add(&b, ",\"text\":\"");
            sb_add_json(&b, d->text);
            sb_add(&b, "\"");
        }
        sb_add(&b, "}\n");
        fputs(b.s, f);
    }
    free(b.s);
    cr_assert_eq(fclose(f), 0);
}

/* ---- building the engine's index ----------------------------------- */

static void count_warning(void *ctx, const char *source, uint64_t line, const char *message)
{
    fprintf(stderr, "test_property: unexpected input warning: %s:%" PRIu64 ": %s\n", source, line,
            message);
    (*(int *)ctx)++;
}

static void build(const char *jsonl, const char *dir, size_t budget, uint32_t analysis,
                  build_stats *st)
{
    int warnings = 0;
    input_options io = {.warn = count_warning, .warn_ctx = &warnings};
    input_reader *in;
    se_error err = {0};
    const char *paths[1] = {jsonl};
    int rc = input_open(&in, paths, 1, &io, &err);
    cr_assert_eq(rc, SE_OK, "input_open: %s", err.msg);
    build_options bo = {.memory_budget = budget, .analysis_given = 1, .analysis = analysis};
    rc = build_index(dir, in, &bo, st, &err);
    input_close(in);
    cr_assert_eq(rc, SE_OK, "build_index: %s", err.msg);
    cr_assert_eq(warnings, 0);
}

/* ---- the reference evaluator --------------------------------------- */

enum { R_NONE, R_LEAF, R_BOOL };

typedef struct rnode {
    int kind;
    /* R_LEAF: terms (NO_TERM when in no document) at offsets from the first */
    uint32_t nterms;
    uint32_t terms[MAX_LEAF_TERMS];
    uint32_t offsets[MAX_LEAF_TERMS];
    double idf;
    /* R_BOOL */
    size_t nch;
    struct rnode **ch;
    query_occur *occ;
} rnode;

static void rnode_free(rnode *n)
{
    if (!n) return;
    for (size_t i = 0; i < n->nch; i++) rnode_free(n->ch[i]);
    free(n->ch);
    free(n->occ);
    free(n);
}

/* The idf of each BM25 variant (searcher/bm25.h). */
static double ref_idf(const search_options *so, uint32_t ndocs, uint32_t df)
{
    double n = ndocs, f = df;
    if (df == 0) return 0; /* matches nothing anyway */
    switch (so->variant) {
    case BM25_ROBERTSON:
        return log((n - f + 0.5) / (f + 0.5));
    case BM25_ATIRE:
        return log(n / f);
    case BM25_L:
        return log((n + 1) / (f + 0.5));
    case BM25_PLUS:
        return log((n + 1) / f);
    default:
        return log(1.0 + (n - f + 0.5) / (f + 0.5));
    }
}

/* The length Lucene's one-byte norm keeps: below 40 all of it, above it
 * 24 + the top four significant bits of the rest. */
static double ref_lucene_length(uint32_t len)
{
    if (len < 40) return len;
    uint64_t x = len - 24, unit = 1;
    while (x >> 4) {
        x >>= 1;
        unit <<= 1;
    }
    return (double)(x * unit + 24);
}

/* A term's BM25 in a document: tf occurrences, length normalisation
 * L = 1 - b + b * len / avgdl. */
static double ref_score(const search_options *so, double idf, uint32_t tf, double L)
{
    double k1 = so->k1, delta = so->delta;
    switch (so->variant) {
    case BM25_ATIRE:
        return idf * (k1 + 1) * tf / (tf + k1 * L);
    case BM25_L: {
        double c = tf / L;
        return idf * (k1 + 1) * (c + delta) / (k1 + c + delta);
    }
    case BM25_PLUS:
        return idf * ((k1 + 1) * tf / (tf + k1 * L) + delta);
    default: /* lucene, robertson */
        return idf * tf / (tf + k1 * L);
    }
}

/* BM25F (searcher/bm25.h), straight from its definition: the title's and
 * the body's tf, each divided by its field's length normalisation, the
 * title's weighted, then the variant's saturation of that sum. */
static double ref_score_fielded(const search_options *so, const corpus *c, double idf,
                                const rdoc *d, uint32_t term)
{
    uint32_t tf_title = 0, tf_body = 0;
    for (uint32_t p = 0; p < d->npos; p++)
        if (d->term_at[p] == term) {
            if (p < d->title_npos)
                tf_title++;
            else
                tf_body++;
        }
    double n = c->ndocs ? c->ndocs : 1;
    double avg_title = c->total_title_len / n, avg_body = (c->total_len - c->total_title_len) / n;
    if (avg_title <= 0) avg_title = 1;
    if (avg_body <= 0) avg_body = 1;
    double lt = d->title_len, lb = d->len - d->title_len;
    if (so->lucene_norms) {
        lt = ref_lucene_length(d->title_len);
        lb = ref_lucene_length(d->len - d->title_len);
    }
    double bt = so->title_b, b = so->b, k1 = so->k1, delta = so->delta;
    double tfp = 0;
    if (tf_title) tfp += so->title_weight * tf_title / (1 - bt + bt * lt / avg_title);
    if (tf_body) tfp += tf_body / (1 - b + b * lb / avg_body);
    switch (so->variant) {
    case BM25_ATIRE:
        return idf * (k1 + 1) * tfp / (tfp + k1);
    case BM25_L:
        return idf * (k1 + 1) * (tfp + delta) / (k1 + tfp + delta);
    case BM25_PLUS:
        return idf * ((k1 + 1) * tfp / (tfp + k1) + delta);
    default: /* lucene, robertson */
        return idf * tfp / (tfp + k1);
    }
}

/* Analyse the words of a term or phrase, each from where the previous one's
 * positions end, so a phrase's offsets are the analyzer's positions. */
static rnode *ref_leaf(const corpus *c, analyzer *an, const search_options *so, char *const *words,
                       size_t nwords)
{
    rnode *n = calloc(1, sizeof *n);
    cr_assert_not_null(n);
    uint32_t pos = 0, first = 0;
    for (size_t w = 0; w < nwords; w++) {
        analyzer_reset(an, words[w], strlen(words[w]), pos);
        analyzer_token tok;
        while (analyzer_next(an, &tok)) {
            cr_assert_lt(n->nterms, MAX_LEAF_TERMS);
            if (n->nterms == 0) first = tok.position;
            n->terms[n->nterms] = term_find(c, tok.term);
            n->offsets[n->nterms] = tok.position - first;
            n->idf += ref_idf(so, c->ndocs,
                              n->terms[n->nterms] == NO_TERM ? 0 : c->df[n->terms[n->nterms]]);
            n->nterms++;
        }
        pos = analyzer_position(an);
    }
    n->kind = n->nterms ? R_LEAF : R_NONE;
    return n;
}

/* Literal mode: the terms of a word that analyses into several, each a
 * leaf of its own, as clauses of n with occurrence occ. */
static void ref_add_split(const corpus *c, const search_options *so, rnode *n, const rnode *leaf,
                          query_occur occ)
{
    for (uint32_t i = 0; i < leaf->nterms; i++) {
        rnode *t = calloc(1, sizeof *t);
        cr_assert_not_null(t);
        t->kind = R_LEAF;
        t->nterms = 1;
        t->terms[0] = leaf->terms[i];
        t->idf = ref_idf(so, c->ndocs, leaf->terms[i] == NO_TERM ? 0 : c->df[leaf->terms[i]]);
        n->ch[n->nch] = t;
        n->occ[n->nch++] = occ;
    }
}

static rnode *ref_plan(const corpus *c, analyzer *an, const search_options *so, const query_node *q)
{
    if (q->kind == QUERY_WORD) {
        rnode *leaf = ref_leaf(c, an, so, q->words, 1);
        if (!so->literal || leaf->nterms < 2) return leaf;
        rnode *n = calloc(1, sizeof *n);
        cr_assert_not_null(n);
        n->kind = R_BOOL;
        n->ch = calloc(leaf->nterms, sizeof *n->ch);
        n->occ = calloc(leaf->nterms, sizeof *n->occ);
        cr_assert(n->ch && n->occ);
        ref_add_split(c, so, n, leaf, so->default_and ? QUERY_MUST : QUERY_SHOULD);
        rnode_free(leaf);
        return n;
    }
    if (q->kind == QUERY_PHRASE) return ref_leaf(c, an, so, q->words, q->nwords);
    rnode *n = calloc(1, sizeof *n);
    cr_assert_not_null(n);
    n->kind = R_BOOL;
    n->ch = calloc(MAX_LEAF_TERMS * (q->nclauses + 1), sizeof *n->ch);
    n->occ = calloc(MAX_LEAF_TERMS * (q->nclauses + 1), sizeof *n->occ);
    cr_assert(n->ch && n->occ);
    size_t positive = 0;
    for (size_t i = 0; i < q->nclauses; i++) {
        rnode *ch = ref_plan(c, an, so, q->clauses[i].node);
        if (ch->kind == R_NONE) { /* analysed to nothing: the clause is dropped */
            rnode_free(ch);
            continue;
        }
        if (so->literal && ch->kind == R_LEAF && ch->nterms > 1) {
            ref_add_split(c, so, n, ch, q->clauses[i].occur);
            if (q->clauses[i].occur != QUERY_MUST_NOT) positive++;
            rnode_free(ch);
            continue;
        }
        n->ch[n->nch] = ch;
        n->occ[n->nch++] = q->clauses[i].occur;
        if (q->clauses[i].occur != QUERY_MUST_NOT) positive++;
    }
    /* nothing left to match: dropped like an empty leaf */
    if (positive == 0) n->kind = R_NONE;
    return n;
}

/* Does node n match document d?  If so, *score is its BM25 score; `norm` is
 * 1 - b + b * len / avgdl.  With a title weight, a term (not a phrase)
 * scores with BM25F. */
static int ref_eval(const rnode *n, const search_options *so, const corpus *c, const rdoc *d,
                    double norm, double *score)
{
    *score = 0;
    if (n->kind == R_LEAF) {
        for (uint32_t i = 0; i < n->nterms; i++)
            if (n->terms[i] == NO_TERM) return 0;
        uint32_t tf = 0;
        for (uint32_t p = 0; p < d->npos; p++) {
            int ok = 1;
            for (uint32_t i = 0; i < n->nterms && ok; i++)
                ok = p + n->offsets[i] < d->npos && d->term_at[p + n->offsets[i]] == n->terms[i];
            tf += (uint32_t)ok;
        }
        if (tf == 0) return 0;
        if (so->title_weight > 0 && n->nterms == 1)
            *score = ref_score_fielded(so, c, n->idf, d, n->terms[0]);
        else
            *score = ref_score(so, n->idf, tf, norm);
        return 1;
    }
    if (n->kind != R_BOOL) return 0;
    double sum = 0;
    int nmust = 0, nshould = 0;
    for (size_t i = 0; i < n->nch; i++) {
        double s;
        int m = ref_eval(n->ch[i], so, c, d, norm, &s);
        switch (n->occ[i]) {
        case QUERY_MUST:
            if (!m) return 0;
            sum += s;
            nmust++;
            break;
        case QUERY_MUST_NOT:
            if (m) return 0;
            break;
        case QUERY_SHOULD:
            if (m) {
                sum += s;
                nshould++;
            }
            break;
        }
    }
    if (nmust == 0 && nshould == 0) return 0;
    *score = sum;
    return 1;
}

typedef struct ref_hit {
    uint32_t doc;
    double score;
    uint64_t hash;
} ref_hit;

static int cmp_ref_hit(const void *a, const void *b)
{
    const ref_hit *x = a, *y = b;
    if (x->score != y->score) return x->score > y->score ? -1 : 1;
    return x->hash < y->hash ? -1 : x->hash > y->hash;
}

/* ---- query generation ---------------------------------------------- */

static void gen_word(rng *r, const corpus *c, sbuf *q)
{
    double x = rng_unit(r);
    if (x < 0.35) {
        sb_add(q, c->vocab[zipf_word(r, c)]);
    } else if (x < 0.70) {
        sb_add(q, c->vocab[rng_below(r, c->nvocab)]);
    } else if (x < 0.80) {
        /* a case variant: upper case (only for words longer than three
         * bytes, so it is never AND, OR or NOT) or capitalised */
        const char *w = c->vocab[rng_below(r, c->nvocab)];
        size_t n = strlen(w);
        int upper = n > 3 && rng_chance(r, 0.5);
        for (size_t i = 0; i < n; i++) {
            char ch = w[i];
            if ((upper || i == 0) && ch >= 'a' && ch <= 'z') ch = (char)(ch - 'a' + 'A');
            sb_addn(q, &ch, 1);
        }
    } else if (x < 0.88) {
        sb_add(q, POOL[rng_below(r, NPOOL)]); /* often not in this corpus */
    } else if (x < 0.95) {
        sb_add(q, ABSENT[rng_below(r, sizeof ABSENT / sizeof ABSENT[0])]);
    } else {
        sb_add(q, PUNCT[rng_below(r, sizeof PUNCT / sizeof PUNCT[0])]);
    }
}

static void gen_phrase(rng *r, const corpus *c, sbuf *q)
{
    sb_add(q, "\"");
    double x = rng_unit(r);
    const rdoc *d = &c->docs[rng_below(r, c->ndocs)];
    int title = d->ntitle >= 2 && rng_chance(r, 0.25);
    const uint32_t *words = title ? d->title_words : d->text_words;
    uint32_t nwords = title ? d->ntitle : d->ntext;
    if (x < 0.45 && nwords >= 2) {
        /* cut from a document's title or text: it matches at least there */
        uint32_t n = 2 + rng_below(r, 2);
        if (n > nwords) n = nwords;
        uint32_t start = rng_below(r, nwords - n + 1);
        for (uint32_t i = 0; i < n; i++) {
            if (i) sb_add(q, " ");
            sb_add(q, c->vocab[words[start + i]]);
        }
    } else if (x < 0.60) {
        /* a repeated word: "a a" or "a b a" */
        const char *a = c->vocab[zipf_word(r, c)];
        sb_add(q, a);
        if (rng_chance(r, 0.5)) {
            sb_add(q, " ");
            sb_add(q, c->vocab[zipf_word(r, c)]);
        }
        sb_add(q, " ");
        sb_add(q, a);
    } else if (x < 0.65) {
        gen_word(r, c, q); /* a one-word phrase */
    } else {
        uint32_t n = 2 + rng_below(r, 2);
        for (uint32_t i = 0; i < n; i++) {
            if (i) sb_add(q, " ");
            if (rng_chance(r, 0.8))
                sb_add(q, c->vocab[zipf_word(r, c)]);
            else
                gen_word(r, c, q);
        }
    }
    sb_add(q, "\"");
}

static void gen_list(rng *r, const corpus *c, sbuf *q, int depth);

static void gen_item(rng *r, const corpus *c, sbuf *q, int depth)
{
    double x = rng_unit(r);
    if (x < 0.12)
        sb_add(q, "+");
    else if (x < 0.24)
        sb_add(q, "-");
    else if (x < 0.29)
        sb_add(q, "NOT ");
    x = rng_unit(r);
    if (depth < 2 && x < 0.18) {
        sb_add(q, "(");
        gen_list(r, c, q, depth + 1);
        sb_add(q, ")");
    } else if (x < 0.40) {
        gen_phrase(r, c, q);
    } else {
        gen_word(r, c, q);
    }
}

static void gen_list(rng *r, const corpus *c, sbuf *q, int depth)
{
    uint32_t n = 1 + rng_below(r, 4);
    for (uint32_t i = 0; i < n; i++) {
        if (i) {
            double x = rng_unit(r);
            sb_add(q, x < 0.6 ? " " : x < 0.8 ? " OR " : " AND ");
        }
        gen_item(r, c, q, depth);
    }
}

/* ---- comparing engine and reference -------------------------------- */

typedef struct round_ctx {
    uint64_t seed;
    const corpus *c;
    const index_reader *ix;
    searcher *s;
    analyzer *an;
    seg_store_buffer store;
    ref_hit *ref;      /* MAX_DOCS */
    double *ref_score; /* per document, NAN when it does not match */
} round_ctx;

typedef struct totals {
    uint64_t queries, rejected, matched, hits, failures, docs, batches, tie_groups, pruned,
        explained, fielded, fielded_pruned;
} totals;

static void print_case(const round_ctx *rc, const char *query, const search_options *so,
                       size_t nref, const search_result *res, const uint32_t *engine_docs,
                       size_t nengine)
{
    fprintf(stderr,
            "  seed %" PRIu64 " (SE_PROPERTY_SEED=%" PRIu64 " SE_PROPERTY_ROUNDS=1), %u docs\n"
            "  query [%s] k=%u k1=%.9g b=%.9g%s%s\n"
            "  reference: %zu matches; engine: %" PRIu64 " matches, %zu hits\n",
            rc->seed, rc->seed, rc->c->ndocs, query, so->k, (double)so->k1, (double)so->b,
            so->default_and ? " --and" : "", so->literal ? " --literal" : "", nref, res->matches,
            res->nhits);
    fprintf(stderr, "  variant %s delta %.9g%s title weight %.9g title b %.9g\n",
            bm25_variant_name(so->variant), (double)so->delta,
            so->lucene_norms ? " lucene norms," : ",", (double)so->title_weight,
            (double)so->title_b);
    size_t show = nref > so->k ? so->k : nref;
    if (show < res->nhits) show = res->nhits;
    if (show > 15) show = 15;
    for (size_t i = 0; i < show; i++) {
        fprintf(stderr, "   %2zu  ", i);
        if (i < nref)
            fprintf(stderr, "ref %-4s %.7f", rc->c->docs[rc->ref[i].doc].id, rc->ref[i].score);
        else
            fprintf(stderr, "%-21s", "-");
        if (i < nengine)
            fprintf(stderr, "   engine %-4s %.7f",
                    engine_docs[i] == NO_TERM ? "?" : rc->c->docs[engine_docs[i]].id,
                    (double)res->hits[i].score);
        fprintf(stderr, "\n");
    }
    for (size_t i = 0; i < rc->c->nterms && i < 200; i++) {
        if (i == 0) fprintf(stderr, "  terms (df):");
        fprintf(stderr, " %s(%u)", rc->c->terms[i], rc->c->df[i]);
    }
    fprintf(stderr, "\n");
}

/* Run one query through both and compare; returns 1 if they agree. */
static int check_query(round_ctx *rc, const char *query, const search_options *so, totals *tot)
{
    const corpus *c = rc->c;
    char why[1024] = "";
    tot->queries++;
    if (so->title_weight > 0) tot->fielded++;

    query_options qo = {.default_and = so->default_and, .literal = so->literal};
    query_node *q = NULL;
    se_error err = {0};
    int prc = query_parse(query, strlen(query), &qo, &q, &err);
    search_result res;
    int erc = searcher_run(rc->s, query, strlen(query), so, &res, &err);
    if (prc != SE_OK) {
        tot->rejected++;
        if (erc == prc) return 1;
        fprintf(stderr, "test_property: query [%s]: parser says %d, searcher %d (%s)\n", query, prc,
                erc, err.msg);
        return 0;
    }

    /* the reference */
    rnode *plan = ref_plan(c, rc->an, so, q);
    query_free(q);
    double avgdl = c->ndocs ? (double)c->total_len / c->ndocs : 1.0;
    if (avgdl <= 0) avgdl = 1.0;
    size_t nref = 0;
    for (uint32_t i = 0; i < c->ndocs; i++) {
        const rdoc *d = &c->docs[i];
        double len = so->lucene_norms ? ref_lucene_length(d->len) : d->len;
        double norm = 1.0 - so->b + so->b * len / avgdl, score;
        rc->ref_score[i] = NAN;
        if (plan->kind != R_NONE && ref_eval(plan, so, c, d, norm, &score)) {
            rc->ref_score[i] = score;
            rc->ref[nref++] = (ref_hit){i, score, d->id_hash};
        }
    }
    rnode_free(plan);
    qsort(rc->ref, nref, sizeof *rc->ref, cmp_ref_hit);
    if (nref) tot->matched++;

    int ok = 1;
    if (erc != SE_OK) {
        snprintf(why, sizeof why, "searcher_run failed: %s", err.msg);
        ok = 0;
        memset(&res, 0, sizeof res);
    }
    /* the engine's hits as document numbers of the corpus (NO_TERM when the
     * id is not one of ours) */
    uint32_t engine_docs[MAX_DOCS];
    size_t nengine = res.nhits < MAX_DOCS ? res.nhits : MAX_DOCS;
    for (size_t i = 0; i < nengine; i++) {
        const search_hit *h = &res.hits[i];
        seg_document sd;
        char id[16] = "";
        unsigned num;
        engine_docs[i] = NO_TERM;
        if (h->segment >= rc->ix->nsegments) continue;
        int drc = segment_document(rc->ix->segments[h->segment], h->doc, &rc->store, &sd, &err);
        cr_assert_eq(drc, SE_OK, "segment_document: %s", err.msg);
        if (sd.id_len < sizeof id) memcpy(id, sd.id, sd.id_len);
        if (sscanf(id, "d%u", &num) == 1 && num < c->ndocs && strcmp(c->docs[num].id, id) == 0)
            engine_docs[i] = num;
    }
    size_t want = nref < so->k ? nref : so->k;
    if (ok && res.matches != nref) {
        snprintf(why, sizeof why, "%" PRIu64 " matches, the reference has %zu", res.matches, nref);
        ok = 0;
    }
    if (ok && res.nhits != want) {
        snprintf(why, sizeof why, "%zu hits, expected %zu", res.nhits, want);
        ok = 0;
    }
    uint8_t seen[MAX_DOCS] = {0};
    for (size_t i = 0; ok && i < res.nhits; i++) {
        uint32_t num = engine_docs[i];
        if (num == NO_TERM) {
            snprintf(why, sizeof why, "rank %zu: (segment %u, doc %u) is no corpus document", i,
                     res.hits[i].segment, res.hits[i].doc);
            ok = 0;
        } else if (res.hits[i].id_hash != c->docs[num].id_hash) {
            snprintf(why, sizeof why, "rank %zu: id hash %016" PRIx64 ", XXH3 says %016" PRIx64, i,
                     res.hits[i].id_hash, c->docs[num].id_hash);
            ok = 0;
        } else if (seen[num]++) {
            snprintf(why, sizeof why, "rank %zu: document %s returned twice", i, c->docs[num].id);
            ok = 0;
        }
    }
    /*
     * Rank by rank.  The reference list is cut into tie groups: maximal runs
     * in which each score is within TIE_TOL (relative) of the next.  The
     * engine sums float scores, so inside a group its order may differ from
     * the reference's exact (double) order, and hash tie-breaks apply to
     * its float ties, not ours.  So the document at engine rank i must be
     * one of the reference tie group covering rank i.  Since no document
     * repeats, a group lying wholly inside the top k holds the same set of
     * documents in both lists; for the group straddling the k-th rank, the
     * engine may pick any of its members for the remaining places, so only
     * membership is checked.  Outside ties (groups of one) this is exact
     * equality of ids.  Scores are compared both with the reference's score
     * of the same document and with the reference's score at that rank.
     */
    size_t gstart = 0, gend = 0;
    for (size_t i = 0; ok && i < res.nhits; i++) {
        if (i >= gend) {
            gstart = i;
            gend = i + 1;
            while (gend < nref && rc->ref[gend - 1].score - rc->ref[gend].score <=
                                      TIE_TOL * fmax(1.0, fabs(rc->ref[gend - 1].score)))
                gend++;
            if (gend - gstart > 1) tot->tie_groups++;
        }
        uint32_t doc = engine_docs[i];
        double got = res.hits[i].score, sref = rc->ref_score[doc], rank_ref = rc->ref[i].score;
        int in_group = 0;
        for (size_t j = gstart; j < gend && !in_group; j++) in_group = rc->ref[j].doc == doc;
        if (isnan(sref)) {
            snprintf(why, sizeof why, "rank %zu: %s does not match the query", i, c->docs[doc].id);
            ok = 0;
        } else if (fabs(got - sref) > SCORE_TOL * fmax(1.0, fabs(sref))) {
            snprintf(why, sizeof why, "rank %zu: %s scored %.7f, the reference %.7f", i,
                     c->docs[doc].id, got, sref);
            ok = 0;
        } else if (fabs(got - rank_ref) > SCORE_TOL * fmax(1.0, fabs(rank_ref)) || !in_group) {
            snprintf(why, sizeof why, "rank %zu: %s (%.7f), the reference has %s (%.7f)", i,
                     c->docs[doc].id, got, c->docs[rc->ref[i].doc].id, rank_ref);
            ok = 0;
        }
    }
    /*
     * Self-consistency, free of the reference's tolerances: the full ranking
     * (k above any possible number of matches) must be in strict order of
     * float score descending, id hash ascending, and the top k must be its
     * first k entries with identical scores: the heap keeps exactly the k
     * best, and at a cut through tied scores, the smallest hashes.
     */
    search_hit top[MAX_DOCS];
    if (ok) {
        memcpy(top, res.hits, res.nhits * sizeof *top);
        res.hits = top; /* the next run reuses the searcher's buffer */
        search_options all = *so;
        all.k = 4 * MAX_DOCS;
        search_result full;
        int frc = searcher_run(rc->s, query, strlen(query), &all, &full, &err);
        if (frc != SE_OK || full.matches != res.matches || full.nhits != full.matches) {
            snprintf(why, sizeof why, "with k=%u: status %d, %" PRIu64 " matches, %zu hits", all.k,
                     frc, full.matches, full.nhits);
            ok = 0;
        }
        for (size_t i = 1; ok && i < full.nhits; i++) {
            const search_hit *x = &full.hits[i - 1], *y = &full.hits[i];
            if (!(x->score > y->score || (x->score == y->score && x->id_hash < y->id_hash))) {
                snprintf(why, sizeof why,
                         "with k=%u: ranks %zu and %zu out of order: %.9g/%016" PRIx64
                         " then %.9g/%016" PRIx64,
                         all.k, i - 1, i, (double)x->score, x->id_hash, (double)y->score,
                         y->id_hash);
                ok = 0;
            }
        }
        for (size_t i = 0; ok && i < res.nhits; i++) {
            const search_hit *x = &top[i], *y = &full.hits[i];
            if (x->segment != y->segment || x->doc != y->doc || x->score != y->score) {
                snprintf(why, sizeof why, "rank %zu: (%u, %u) %.9g, but with k=%u: (%u, %u) %.9g",
                         i, x->segment, x->doc, (double)x->score, all.k, y->segment, y->doc,
                         (double)y->score);
                ok = 0;
            }
        }
    }
    /*
     * Dynamic pruning (the default) must return exactly the exhaustive top
     * k: same documents, same float scores, same order; its match count is
     * a lower bound, exact when it says so.
     */
    if (ok) {
        search_options pruned = *so;
        pruned.exhaustive = 0;
        search_result pr;
        int prc2 = searcher_run(rc->s, query, strlen(query), &pruned, &pr, &err);
        if (prc2 != SE_OK || pr.nhits != res.nhits || pr.matches > res.matches ||
            (pr.matches_exact && pr.matches != res.matches)) {
            snprintf(why, sizeof why,
                     "pruned: status %d, %zu hits, %" PRIu64 " matches (%s), exhaustive %zu hits, "
                     "%" PRIu64 " matches",
                     prc2, pr.nhits, pr.matches, pr.matches_exact ? "exact" : "lower bound",
                     res.nhits, res.matches);
            ok = 0;
        }
        for (size_t i = 0; ok && i < res.nhits; i++) {
            const search_hit *x = &top[i], *y = &pr.hits[i];
            if (x->segment != y->segment || x->doc != y->doc || x->score != y->score) {
                snprintf(why, sizeof why,
                         "pruned rank %zu: (%u, %u) %.9g, exhaustive (%u, %u) %.9g", i, y->segment,
                         y->doc, (double)y->score, x->segment, x->doc, (double)x->score);
                ok = 0;
            }
        }
        if (ok && pr.stats.pruned) tot->pruned++;
        if (ok && pr.stats.pruned && so->title_weight > 0) tot->fielded_pruned++;
        /* Explanations: the contributions add up to the score. */
        search_explain_term terms[256];
        for (size_t i = 0; ok && i < res.nhits && i < 5; i++) {
            size_t n;
            int xrc = searcher_explain(rc->s, &top[i], terms, 256, &n, &err);
            double sum = 0;
            for (size_t e = 0; e < n && e < 256; e++) sum += terms[e].contribution;
            if (xrc != SE_OK || n == 0 || n > 256 ||
                fabs(sum - (double)top[i].score) > 1e-5 * fabs((double)top[i].score)) {
                snprintf(why, sizeof why,
                         "explain rank %zu: status %d, %zu terms summing to %.9g, score %.9g", i,
                         xrc, n, sum, (double)top[i].score);
                ok = 0;
            }
        }
        tot->explained += res.nhits < 5 ? res.nhits : 5;
    }
    tot->hits += res.nhits;
    if (!ok) {
        if (tot->failures < MAX_REPORTS) {
            fprintf(stderr, "test_property: MISMATCH: %s\n", why);
            print_case(rc, query, so, nref, &res, engine_docs, nengine);
        }
        tot->failures++;
    }
    return ok;
}

/* ---- rounds --------------------------------------------------------- */

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

static void remove_tree(const char *path)
{
    nftw(path, remove_entry, 16, FTW_PHYS | FTW_DEPTH);
}

static uint64_t env_u64(const char *name, uint64_t dflt)
{
    const char *v = getenv(name);
    if (!v || !*v) return dflt;
    char *end;
    unsigned long long x = strtoull(v, &end, 0);
    cr_assert(*end == 0, "%s must be a number", name);
    return x;
}

static void run_round(uint64_t seed, const char *base, totals *tot)
{
    rng r = {seed};
    /* The analyzer settings (stop words, stemmer) take turns by seed. */
    uint32_t analysis = (uint32_t)(seed % 4);
    analyzer *an;
    cr_assert_eq(analyzer_new_with(&an, analysis), SE_OK);
    corpus *c = malloc(sizeof *c);
    cr_assert_not_null(c);
    make_corpus(&r, c, an);

    char dir[640], jsonl[700], idx[700];
    snprintf(dir, sizeof dir, "%s/r%" PRIu64, base, seed);
    cr_assert_eq(mkdir(dir, 0700), 0, "mkdir %s", dir);
    snprintf(jsonl, sizeof jsonl, "%s/corpus.jsonl", dir);
    snprintf(idx, sizeof idx, "%s/index", dir);
    write_jsonl(&r, c, jsonl);
    /* Half of the rounds with a tiny budget (1-64 KiB): a batch segment
     * for every document (the inverter's fixed overhead alone is over
     * 1 MiB), all merged at the end.  The large corpora, which would write
     * a thousand segments, get one less often (time: see the top). */
    size_t budget = 0;
    if (rng_chance(&r, c->ndocs > SMALL_DOCS ? 0.1 : 0.5))
        budget = (size_t)1024 << rng_below(&r, 7);
    build_stats st;
    build(jsonl, idx, budget, analysis, &st);
    cr_assert_eq(st.documents, c->ndocs);
    if (getenv("SE_PROPERTY_VERBOSE"))
        fprintf(stderr,
                "test_property: seed %" PRIu64 ": %u documents, %u words, %u terms, %" PRIu64
                " tokens; budget %zu: %" PRIu64 " batch segment(s)\n",
                seed, c->ndocs, c->nvocab, c->nterms, c->total_len, budget, st.batches);
    tot->docs += c->ndocs;
    tot->batches += st.batches;

    index_reader *ix;
    se_error err = {0};
    cr_assert_eq(index_open(&ix, idx, &err), SE_OK, "index_open: %s", err.msg);
    cr_assert_eq(ix->ndocs, c->ndocs);
    cr_assert_eq(ix->total_len, c->total_len, "index has %" PRIu64 " tokens, reference %" PRIu64,
                 ix->total_len, c->total_len);
    cr_assert_eq(ix->total_title_len, c->total_title_len,
                 "index has %" PRIu64 " title tokens, reference %" PRIu64, ix->total_title_len,
                 c->total_title_len);

    round_ctx rc = {.seed = seed, .c = c, .ix = ix, .an = an};
    cr_assert_eq(searcher_new(&rc.s, ix, &err), SE_OK, "searcher_new: %s", err.msg);
    seg_store_buffer_init(&rc.store);
    rc.ref = malloc(MAX_DOCS * sizeof *rc.ref);
    rc.ref_score = malloc(MAX_DOCS * sizeof *rc.ref_score);
    cr_assert(rc.ref && rc.ref_score);

    static const uint32_t ks[] = {1, 3, 10, 100};
    sbuf q = {0};
    for (int i = 0; i < QUERIES; i++) {
        sb_clear(&q);
        sb_add(&q, "");
        gen_list(&r, c, &q, 0);
        search_options so = {.k = ks[rng_below(&r, 4)],
                             .k1 = (float)(0.5 + 1.5 * rng_unit(&r)),
                             .b = (float)rng_unit(&r),
                             .default_and = rng_chance(&r, 0.3),
                             .exhaustive = 1};
        if (rng_chance(&r, 0.1)) so.b = (float)rng_below(&r, 2); /* the ends: 0 and 1 */
        so.literal = rng_chance(&r, 0.05);
        /* BM25 variants: lucene in about half of the queries */
        if (rng_chance(&r, 0.5)) {
            so.variant = (bm25_variant)(1 + rng_below(&r, 4));
            so.delta = (float)(2 * rng_unit(&r));
        }
        so.lucene_norms = rng_chance(&r, 0.2);
        /* BM25F in about two queries of five: title weight in (0, 4],
         * its own b anywhere in [0, 1], the ends included */
        if (rng_chance(&r, 0.4)) {
            so.title_weight = (float)(0.05 + 3.95 * rng_unit(&r));
            so.title_b = rng_chance(&r, 0.2) ? (float)rng_below(&r, 2) : (float)rng_unit(&r);
        }
        check_query(&rc, q.s, &so, tot);
    }
    free(q.s);
    free(rc.ref);
    free(rc.ref_score);
    seg_store_buffer_free(&rc.store);
    searcher_free(rc.s);
    index_close(ix);
    corpus_free(c);
    free(c);
    analyzer_free(an);
    remove_tree(dir);
}

/* The test's directory, removed by the fini hook also when an assertion
 * ends the test early. */
static char g_base[512];

static void cleanup(void)
{
    if (g_base[0]) remove_tree(g_base);
    g_base[0] = 0;
}

Test(property, engine_matches_reference, .fini = cleanup, .timeout = 600)
{
    uint64_t seed = env_u64("SE_PROPERTY_SEED", DEFAULT_SEED);
    uint64_t rounds = env_u64("SE_PROPERTY_ROUNDS", DEFAULT_ROUNDS);
    /* $TMPDIR, else /dev/shm, else /tmp: see the top of the file */
    const char *tmp = getenv("TMPDIR");
    if (!tmp || !*tmp) tmp = access("/dev/shm", W_OK | X_OK) == 0 ? "/dev/shm" : "/tmp";
    char base[sizeof g_base];
    snprintf(base, sizeof base, "%s/test_property_XXXXXX", tmp);
    cr_assert_not_null(mkdtemp(base), "mkdtemp %s", base);
    memcpy(g_base, base, sizeof base);

    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    totals tot = {0};
    for (uint64_t i = 0; i < rounds; i++) {
        uint64_t before = tot.failures;
        run_round(seed + i, base, &tot);
        if (tot.failures > before)
            fprintf(stderr, "test_property: round with seed %" PRIu64 ": %" PRIu64 " failure(s)\n",
                    seed + i, tot.failures - before);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    cleanup();
    fprintf(stderr,
            "test_property: %" PRIu64 " rounds (seeds %" PRIu64 "..%" PRIu64 "), %" PRIu64
            " documents, %" PRIu64 " batch segments; %" PRIu64 " queries (%" PRIu64
            " rejected by the parser, %" PRIu64 " matching something), %" PRIu64
            " hits compared, %" PRIu64 " tie groups; %" PRIu64
            " queries pruned, equal to exhaustive; %" PRIu64 " hits explained; %" PRIu64
            " BM25F queries (%" PRIu64 " pruned); %" PRIu64 " failed; %.2f s\n",
            rounds, seed, seed + rounds - 1, tot.docs, tot.batches, tot.queries, tot.rejected,
            tot.matched, tot.hits, tot.tie_groups, tot.pruned, tot.explained, tot.fielded,
            tot.fielded_pruned, tot.failures,
            (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
    cr_assert_eq(tot.failures, 0, "%" PRIu64 " of %" PRIu64 " queries disagree with the reference",
                 tot.failures, tot.queries);
}
