/*
 * search.c - query planning and document-at-a-time evaluation (search.h).
 *
 * 1. Plan: the parsed query tree becomes a plan tree whose leaves are terms
 *    and phrases of analysed terms, each with its idf from index-wide
 *    statistics.  Words that analyse to nothing are dropped.
 * 2. Per segment, the plan becomes a tree of iterators over postings
 *    cursors.  Every iterator exposes its current document; `next` and
 *    `advance(target)` move it forward.  A boolean node with required
 *    clauses leapfrogs them (rarest first) and filters out excluded ones;
 *    one without is the union of its optional clauses.  A phrase is a
 *    conjunction whose candidates are confirmed by their positions.
 * 3. Each matching document is scored (sum of its matching leaves' BM25)
 *    and offered to a bounded min-heap holding the best k so far.
 *
 * All per-query memory comes from one arena released when the next query
 * starts, so evaluation itself does not allocate.
 */
#include "searcher/search.h"

#include <math.h>
#include <stdlib.h>

#include "common/analyzer.h"
#include "common/postings.h"
#include "searcher/bm25.h"
#include "searcher/query.h"

#define MAX_QUERY_TERMS 4096

/* ---- arena ---- */

typedef struct arena_chunk {
    struct arena_chunk *next;
    size_t used, cap;
    max_align_t data[];
} arena_chunk;

typedef struct arena {
    arena_chunk *head;
} arena;

static void *arena_alloc(arena *a, size_t size)
{
    size = (size + sizeof(max_align_t) - 1) & ~(sizeof(max_align_t) - 1);
    arena_chunk *c = a->head;
    if (!c || c->cap - c->used < size) {
        size_t cap = size > (1u << 16) ? size : (1u << 16);
        c = malloc(sizeof *c + cap);
        if (!c) return NULL;
        c->next = a->head;
        c->used = 0;
        c->cap = cap;
        a->head = c;
    }
    void *p = (char *)c->data + c->used;
    c->used += size;
    return p;
}

static void *arena_zalloc(arena *a, size_t size)
{
    void *p = arena_alloc(a, size);
    if (p) memset(p, 0, size);
    return p;
}

static char *arena_strdup(arena *a, const char *s, size_t len)
{
    char *p = arena_alloc(a, len + 1);
    if (p) {
        memcpy(p, s, len);
        p[len] = 0;
    }
    return p;
}

static void arena_reset(arena *a)
{
    while (a->head) {
        arena_chunk *n = a->head->next;
        free(a->head);
        a->head = n;
    }
}

/* ---- plan ---- */

enum { P_NONE, P_TERM, P_PHRASE, P_BOOL };

typedef struct pnode {
    int kind;
    /* P_TERM (nterms == 1) and P_PHRASE */
    size_t nterms;
    char **terms;
    uint32_t *offsets;
    /* infos[i][segment]: term i's dictionary entry in each segment (df 0:
     * absent), found when planning, so evaluation need not look it up */
    seg_term_info **infos;
    float idf;
    float weight; /* times the leaf occurs in its clause list (query term frequency) */
    int absent;   /* some term occurs nowhere: matches nothing */
    /* P_BOOL */
    size_t nch;
    struct pnode **ch;
    query_occur *occ;
} pnode;

/* ---- iterators ---- */

enum { IT_EMPTY, IT_TERM, IT_PHRASE, IT_AND, IT_OR };

/* Block-max pruning of one cursor scored with one term's constants: ub,
 * its bound over the segment (for a list without skip table), and the
 * bound of one block (block: UINT32_MAX none yet, nblocks past the end;
 * last: its last document), cached because many candidates ask about the
 * same block. */
typedef struct block_cache {
    postings_cursor *pc;
    const bm25_term *bt;
    int fielded; /* BM25F: the impacts (combined field) bound nothing; ub is the bound */
    float ub, max;
    uint32_t block, last;
} block_cache;

typedef struct iter {
    int kind;
    uint32_t doc;
    uint64_t cost;            /* estimated documents: orders conjunctions */
    bm25_term bt;             /* IT_TERM, IT_PHRASE: scoring constants */
    postings_cursor *pc;      /* IT_TERM */
    postings_cursor *tc;      /* IT_TERM with BM25F: its title-field term, NULL when no
                                 title of the segment has it */
    uint32_t max_tf, min_len; /* IT_TERM: the term's impact in this segment */
    /* IT_PHRASE */
    size_t n;
    postings_cursor **pcs;   /* a term repeated in the phrase shares its first cursor */
    postings_cursor **align; /* the distinct cursors by increasing df: the order
                                phrase_align moves them in */
    size_t nalign;
    const uint32_t *offsets;
    size_t *first; /* first[i]: the first term with the same cursor as term i */
    /* extra[i]: the other offsets of term i's word in the phrase.  A word
     * at m offsets occurs at least P + m - 1 times in a document where the
     * phrase occurs P times (the sum of P starts and m offsets has at
     * least P + m - 1 elements), so P <= tf - extra. */
    uint32_t *extra;
    uint32_t **pos;    /* pos[i]: term first[i]'s positions in the current doc ... */
    uint32_t *pos_doc; /* ... decoded when pos_doc[first[i]] is that doc */
    uint32_t *npos;
    uint32_t *cand;   /* scratch for phrase_freq: candidate starts */
    uint32_t *maxtf;  /* room in pos[i]: the term's max tf */
    uint32_t *minlen; /* the term's shortest document (its impact with maxtf) */
    size_t *at;       /* scratch for phrase_freq */
    uint32_t freq;
    /* IT_AND (must non-empty) / IT_OR (should only) */
    size_t nmust, nshould, nnot;
    struct iter **must, **should, **nots;
} iter;

struct searcher {
    const index_reader *ix;
    analyzer *an;
    arena ar;
    search_hit *heap;
    size_t heap_cap;
    search_highlight hl;
    /* cursors of the segment being evaluated, for the corruption check */
    postings_cursor **cursors;
    size_t ncursors, cursors_cap;
    int oom;
    search_stats stats;
    /* the last query, for searcher_explain */
    const pnode *plan;
    search_options opt;
    bm25_model model;
    /* BM25F (opt.title_weight > 0), and the lengths of the segment being
     * evaluated or explained */
    int fielded;
    bm25f_model fmodel;
    const uint32_t *lengths, *title_lengths;
    /* bm25_doc_norm of seg_length_floor(c) for each length code c, for
     * bounds; made again when the model's length terms change. */
    float code_norm[256];
    float code_norm_base, code_norm_per;
    int code_norm_lucene, code_norm_made;
};

int searcher_new(searcher **out, const index_reader *ix, se_error *err)
{
    searcher *s = calloc(1, sizeof *s);
    if (!s) return se_fail(err, SE_NOMEM, "out of memory");
    if (analyzer_new_with(&s->an, ix->man.analysis) != SE_OK) {
        free(s);
        return se_fail(err, SE_NOMEM, "cannot create the analyzer");
    }
    s->ix = ix;
    *out = s;
    return SE_OK;
}

void searcher_free(searcher *s)
{
    if (!s) return;
    arena_reset(&s->ar);
    analyzer_free(s->an);
    free(s->heap);
    free(s->cursors);
    free(s);
}

const search_highlight *searcher_highlight(const searcher *s)
{
    return &s->hl;
}

typedef struct plan_ctx {
    searcher *s;
    int split_words;   /* literal mode: a word's terms count separately */
    query_occur words; /* ... as this clause, for a query of one word */
    size_t nterms;
    se_error *err;
    int rc;
} plan_ctx;

/* Analyse `text` into a term or phrase leaf. */
static pnode *plan_leaf(plan_ctx *pc, const char *text, size_t len)
{
    searcher *s = pc->s;
    pnode *n = arena_zalloc(&s->ar, sizeof *n);
    if (!n) goto oom;
    size_t cap = 8;
    n->terms = arena_alloc(&s->ar, cap * sizeof *n->terms);
    n->offsets = arena_alloc(&s->ar, cap * sizeof *n->offsets);
    if (!n->terms || !n->offsets) goto oom;
    analyzer_reset(s->an, text, len, 0);
    analyzer_token tok;
    uint32_t first = 0;
    while (analyzer_next(s->an, &tok)) {
        if (++pc->nterms > MAX_QUERY_TERMS) {
            pc->rc = se_fail(pc->err, SE_LIMIT, "query has more than %d terms", MAX_QUERY_TERMS);
            return NULL;
        }
        if (n->nterms == cap) {
            char **t = arena_alloc(&s->ar, 2 * cap * sizeof *t);
            uint32_t *o = arena_alloc(&s->ar, 2 * cap * sizeof *o);
            if (!t || !o) goto oom;
            memcpy(t, n->terms, cap * sizeof *t);
            memcpy(o, n->offsets, cap * sizeof *o);
            n->terms = t;
            n->offsets = o;
            cap *= 2;
        }
        if (n->nterms == 0) first = tok.position;
        n->terms[n->nterms] = arena_strdup(&s->ar, tok.term, tok.term_len);
        if (!n->terms[n->nterms]) goto oom;
        n->offsets[n->nterms] = tok.position - first;
        n->nterms++;
    }
    if (n->nterms == 0) {
        n->kind = P_NONE;
        return n;
    }
    n->kind = n->nterms == 1 ? P_TERM : P_PHRASE;
    n->weight = 1;
    const index_reader *ix = s->ix;
    n->infos = arena_alloc(&s->ar, n->nterms * sizeof *n->infos);
    if (!n->infos) goto oom;
    double idf = 0;
    for (size_t i = 0; i < n->nterms; i++) {
        n->infos[i] = arena_alloc(&s->ar, (ix->nsegments ? ix->nsegments : 1) * sizeof **n->infos);
        if (!n->infos[i]) goto oom;
        int64_t df = index_term_infos(ix, n->terms[i], strlen(n->terms[i]), n->infos[i], pc->err);
        if (df < 0) {
            pc->rc = (int)df;
            return NULL;
        }
        if (df == 0) n->absent = 1;
        idf += bm25_idf(&s->model, (uint64_t)df);
    }
    n->idf = (float)idf;
    return n;
oom:
    pc->rc = se_fail(pc->err, SE_NOMEM, "out of memory");
    return NULL;
}

/* Same term, or same phrase with the same offsets? */
static int same_leaf(const pnode *a, const pnode *b)
{
    if ((a->kind != P_TERM && a->kind != P_PHRASE) || a->kind != b->kind || a->nterms != b->nterms)
        return 0;
    for (size_t i = 0; i < a->nterms; i++)
        if (a->offsets[i] != b->offsets[i] || strcmp(a->terms[i], b->terms[i]) != 0) return 0;
    return 1;
}

/* Fold leaf c (occurrence occ) into an equal earlier clause of n: the same
 * exclusion is dropped; a positive repeat adds its weight to the first one,
 * which becomes required if either was.  Returns 1 when folded. */
static int fold_repeat(pnode *n, pnode *c, query_occur occ)
{
    for (size_t j = 0; j < n->nch; j++) {
        if (!same_leaf(n->ch[j], c) || (occ == QUERY_MUST_NOT) != (n->occ[j] == QUERY_MUST_NOT))
            continue;
        if (occ != QUERY_MUST_NOT) {
            n->ch[j]->weight += c->weight;
            if (occ == QUERY_MUST) n->occ[j] = QUERY_MUST;
        }
        return 1;
    }
    return 0;
}

/* Add clause c to n (capacity *cap): a repeat is folded into its first
 * occurrence; in literal mode a word that analysed into several terms adds
 * each term as a clause of its own instead of a phrase. */
static int plan_add(plan_ctx *pc, pnode *n, size_t *cap, pnode *c, query_occur occ)
{
    searcher *s = pc->s;
    size_t parts = c->kind == P_PHRASE && pc->split_words ? c->nterms : 1;
    for (size_t i = 0; i < parts; i++) {
        pnode *t = c;
        if (parts > 1) {
            int64_t df = index_doc_freq(s->ix, c->terms[i], strlen(c->terms[i]), pc->err);
            if (df < 0) return pc->rc = (int)df;
            t = arena_zalloc(&s->ar, sizeof *t);
            if (!t) return pc->rc = se_fail(pc->err, SE_NOMEM, "out of memory");
            t->kind = P_TERM;
            t->nterms = 1;
            t->terms = &c->terms[i];
            t->infos = c->infos ? &c->infos[i] : NULL;
            t->offsets = &c->offsets[0]; /* 0 */
            t->idf = (float)bm25_idf(&s->model, (uint64_t)df);
            t->weight = 1;
            t->absent = df == 0;
        }
        if (fold_repeat(n, t, occ)) continue;
        if (n->nch == *cap) {
            pnode **ch = arena_alloc(&s->ar, 2 * *cap * sizeof *ch);
            query_occur *o = arena_alloc(&s->ar, 2 * *cap * sizeof *o);
            if (!ch || !o) return pc->rc = se_fail(pc->err, SE_NOMEM, "out of memory");
            memcpy(ch, n->ch, *cap * sizeof *ch);
            memcpy(o, n->occ, *cap * sizeof *o);
            n->ch = ch;
            n->occ = o;
            *cap *= 2;
        }
        n->ch[n->nch] = t;
        n->occ[n->nch] = occ;
        n->nch++;
    }
    return SE_OK;
}

static pnode *plan_node(plan_ctx *pc, const query_node *q)
{
    searcher *s = pc->s;
    if (q->kind == QUERY_WORD) {
        pnode *leaf = plan_leaf(pc, q->words[0], strlen(q->words[0]));
        if (!leaf || leaf->kind != P_PHRASE || !pc->split_words) return leaf;
        /* a literal query of one word that splits: its terms, as clauses */
        size_t cap = leaf->nterms;
        pnode *n = arena_zalloc(&s->ar, sizeof *n);
        if (n) n->ch = arena_alloc(&s->ar, cap * sizeof *n->ch);
        if (n) n->occ = arena_alloc(&s->ar, cap * sizeof *n->occ);
        if (!n || !n->ch || !n->occ) {
            pc->rc = se_fail(pc->err, SE_NOMEM, "out of memory");
            return NULL;
        }
        n->kind = P_BOOL;
        if (plan_add(pc, n, &cap, leaf, pc->words) != SE_OK) return NULL;
        return n->nch == 1 ? n->ch[0] : n;
    }
    if (q->kind == QUERY_PHRASE) {
        /* Join the words with spaces and analyse them as one text, so the
         * positions come out consecutive. */
        size_t len = 0;
        for (size_t i = 0; i < q->nwords; i++) len += strlen(q->words[i]) + 1;
        char *joined = arena_alloc(&s->ar, len + 1);
        if (!joined) {
            pc->rc = se_fail(pc->err, SE_NOMEM, "out of memory");
            return NULL;
        }
        size_t at = 0;
        for (size_t i = 0; i < q->nwords; i++) {
            size_t l = strlen(q->words[i]);
            memcpy(joined + at, q->words[i], l);
            at += l;
            joined[at++] = ' ';
        }
        return plan_leaf(pc, joined, at);
    }
    size_t cap = q->nclauses + 1;
    pnode *n = arena_zalloc(&s->ar, sizeof *n);
    if (n) n->ch = arena_alloc(&s->ar, cap * sizeof *n->ch);
    if (n) n->occ = arena_alloc(&s->ar, cap * sizeof *n->occ);
    if (!n || !n->ch || !n->occ) {
        pc->rc = se_fail(pc->err, SE_NOMEM, "out of memory");
        return NULL;
    }
    n->kind = P_BOOL;
    for (size_t i = 0; i < q->nclauses; i++) {
        pnode *c = plan_node(pc, q->clauses[i].node);
        if (!c) return NULL;
        if (c->kind == P_NONE) continue;
        if (plan_add(pc, n, &cap, c, q->clauses[i].occur) != SE_OK) return NULL;
    }
    size_t positive = 0, negative = 0;
    for (size_t i = 0; i < n->nch; i++) {
        if (n->occ[i] == QUERY_MUST_NOT)
            negative++;
        else
            positive++;
    }
    if (positive == 0) {
        n->kind = P_NONE;
        return n;
    }
    if (positive == 1 && negative == 0) return n->ch[0];
    return n;
}

/* Collect positive leaves for highlighting. */
static int collect_highlight(searcher *s, const pnode *n, size_t *nt, size_t *np, int count_only)
{
    if (n->kind == P_TERM) {
        if (!count_only) s->hl.terms[*nt] = n->terms[0];
        (*nt)++;
    } else if (n->kind == P_PHRASE) {
        if (!count_only) {
            search_phrase *p = (search_phrase *)&s->hl.phrases[*np];
            p->nterms = n->nterms;
            p->terms = (const char **)n->terms;
            p->offsets = n->offsets;
        }
        (*np)++;
    } else if (n->kind == P_BOOL) {
        for (size_t i = 0; i < n->nch; i++)
            if (n->occ[i] != QUERY_MUST_NOT) collect_highlight(s, n->ch[i], nt, np, count_only);
    }
    return SE_OK;
}

/* ---- building iterators for one segment ---- */

typedef struct eval_ctx {
    searcher *s;
    const segment *seg;
    uint32_t si; /* its number */
    se_error *err;
    int rc;
} eval_ctx;

/* Open a cursor on the term (NULL when the segment lacks it, or on an
 * error, in ec->rc).  cached: the term's entry found when planning (df 0:
 * absent), or NULL to look it up. */
static postings_cursor *open_cursor(eval_ctx *ec, const char *term, const seg_term_info *cached,
                                    uint64_t *df, seg_term_info *info_out)
{
    searcher *s = ec->s;
    seg_term_info info;
    int found;
    if (cached) {
        info = *cached;
        found = info.df > 0;
    } else {
        found = segment_lookup(ec->seg, term, strlen(term), &info, ec->err);
    }
    if (found < 0) {
        ec->rc = found;
        return NULL;
    }
    if (found == 0) {
        *df = 0;
        return NULL;
    }
    postings_cursor *c = arena_alloc(&s->ar, sizeof *c);
    if (!c) goto oom;
    if (s->ncursors == s->cursors_cap) {
        size_t cap = s->cursors_cap ? s->cursors_cap * 2 : 64;
        postings_cursor **nc = realloc(s->cursors, cap * sizeof *nc);
        if (!nc) goto oom;
        s->cursors = nc;
        s->cursors_cap = cap;
    }
    s->cursors[s->ncursors++] = c;
    postings_cursor_open(c, ec->seg, &info);
    *df = info.df;
    if (info_out) *info_out = info;
    return c;
oom:
    ec->rc = se_fail(ec->err, SE_NOMEM, "out of memory");
    return NULL;
}

static iter *empty_iter(eval_ctx *ec)
{
    iter *it = arena_zalloc(&ec->s->ar, sizeof *it);
    if (!it) {
        ec->rc = se_fail(ec->err, SE_NOMEM, "out of memory");
        return NULL;
    }
    it->kind = IT_EMPTY;
    it->doc = POSTINGS_END;
    return it;
}

static int cmp_cost(const void *a, const void *b)
{
    const iter *x = *(iter *const *)a, *y = *(iter *const *)b;
    return x->cost < y->cost ? -1 : x->cost > y->cost;
}

/* Insert c into a[0..n), kept by increasing df (after equal ones): the
 * order in which candidates are checked against cursors, so that the most
 * common lists are moved last, only to documents all rarer ones hold. */
static void insert_by_df(postings_cursor **a, size_t n, postings_cursor *c)
{
    while (n > 0 && a[n - 1]->df > c->df) {
        a[n] = a[n - 1];
        n--;
    }
    a[n] = c;
}

static uint32_t iter_advance(iter *it, uint32_t target);
static uint32_t iter_next(iter *it);
static uint32_t phrase_align(iter *it, uint32_t doc);
static uint32_t and_align(iter *it, uint32_t doc);
static uint32_t or_settle(iter *it);

static iter *build_iter(eval_ctx *ec, const pnode *n)
{
    searcher *s = ec->s;
    if (n->kind == P_NONE || ((n->kind == P_TERM || n->kind == P_PHRASE) && n->absent))
        return empty_iter(ec);
    if (n->kind == P_TERM) {
        uint64_t df;
        seg_term_info info;
        postings_cursor *c =
            open_cursor(ec, n->terms[0], n->infos ? &n->infos[0][ec->si] : NULL, &df, &info);
        if (!c) return ec->rc == SE_OK ? empty_iter(ec) : NULL;
        iter *it = arena_zalloc(&s->ar, sizeof *it);
        if (!it) goto oom;
        it->kind = IT_TERM;
        it->pc = c;
        if (s->fielded) {
            /* The title-field term: SEG_TITLE_PREFIX and the term. */
            char fielded[SEG_MAX_TERM_LEN + 1];
            size_t len = strlen(n->terms[0]);
            if (len < SEG_MAX_TERM_LEN) {
                fielded[0] = SEG_TITLE_PREFIX;
                memcpy(fielded + 1, n->terms[0], len + 1);
                uint64_t tdf;
                it->tc = open_cursor(ec, fielded, NULL, &tdf, NULL);
                if (!it->tc && ec->rc != SE_OK) return NULL;
            }
        }
        it->max_tf = info.max_tf;
        it->min_len = info.min_len;
        it->bt = bm25_term_make(&s->model, n->idf, n->weight);
        it->cost = df;
        it->doc = c->doc;
        return it;
    }
    if (n->kind == P_PHRASE) {
        iter *it = arena_zalloc(&s->ar, sizeof *it);
        if (!it) goto oom;
        it->kind = IT_PHRASE;
        it->n = n->nterms;
        it->bt = bm25_term_make(&s->model, n->idf, n->weight);
        it->offsets = n->offsets;
        it->pcs = arena_alloc(&s->ar, n->nterms * sizeof *it->pcs);
        it->pos = arena_alloc(&s->ar, n->nterms * sizeof *it->pos);
        it->npos = arena_zalloc(&s->ar, n->nterms * sizeof *it->npos);
        it->at = arena_alloc(&s->ar, n->nterms * sizeof *it->at);
        it->maxtf = arena_alloc(&s->ar, n->nterms * sizeof *it->maxtf);
        it->minlen = arena_alloc(&s->ar, n->nterms * sizeof *it->minlen);
        if (!it->pcs || !it->pos || !it->npos || !it->at || !it->maxtf || !it->minlen) goto oom;
        it->first = arena_alloc(&s->ar, n->nterms * sizeof *it->first);
        it->pos_doc = arena_alloc(&s->ar, n->nterms * sizeof *it->pos_doc);
        it->extra = arena_zalloc(&s->ar, n->nterms * sizeof *it->extra);
        if (!it->first || !it->pos_doc || !it->extra) goto oom;
        it->cost = UINT64_MAX;
        uint32_t cand_room = 1;
        for (size_t i = 0; i < n->nterms; i++) {
            /* A repeated term ("to be or not to be") is read once: its
             * cursor and positions serve each of its offsets. */
            size_t j = 0;
            while (j < i && strcmp(n->terms[j], n->terms[i]) != 0) j++;
            it->first[i] = j;
            it->pos_doc[i] = POSTINGS_END;
            if (j < i) {
                it->pcs[i] = it->pcs[j];
                it->maxtf[i] = it->maxtf[j];
                it->minlen[i] = it->minlen[j];
                it->pos[i] = it->pos[j];
                continue;
            }
            uint64_t df;
            seg_term_info info;
            it->pcs[i] =
                open_cursor(ec, n->terms[i], n->infos ? &n->infos[i][ec->si] : NULL, &df, &info);
            if (!it->pcs[i]) return ec->rc == SE_OK ? empty_iter(ec) : NULL;
            it->maxtf[i] = info.max_tf;
            it->minlen[i] = info.min_len;
            it->pos[i] = arena_alloc(&s->ar, (size_t)info.max_tf * sizeof **it->pos);
            if (!it->pos[i]) goto oom;
            if (info.max_tf > cand_room) cand_room = info.max_tf;
            if (df < it->cost) it->cost = df;
        }
        /* extra[i]: the distinct offsets of term i's word, less one */
        for (size_t i = 0; i < n->nterms; i++)
            for (size_t x = it->first[i] + 1; x < n->nterms; x++) {
                if (it->first[x] != it->first[i]) continue;
                size_t y = it->first[i];
                while (y < x && !(it->first[y] == it->first[i] && n->offsets[y] == n->offsets[x]))
                    y++;
                it->extra[i] += y == x; /* an offset not met before */
            }
        it->cand = arena_alloc(&s->ar, (size_t)cand_room * sizeof *it->cand);
        it->align = arena_alloc(&s->ar, n->nterms * sizeof *it->align);
        if (!it->cand || !it->align) goto oom;
        for (size_t i = 0; i < n->nterms; i++)
            if (it->first[i] == i) insert_by_df(it->align, it->nalign++, it->pcs[i]);
        phrase_align(it, it->pcs[0]->doc);
        return it;
    }
    /* P_BOOL */
    iter *it = arena_zalloc(&s->ar, sizeof *it);
    if (!it) goto oom;
    it->must = arena_alloc(&s->ar, n->nch * sizeof *it->must);
    it->should = arena_alloc(&s->ar, n->nch * sizeof *it->should);
    it->nots = arena_alloc(&s->ar, n->nch * sizeof *it->nots);
    if (!it->must || !it->should || !it->nots) goto oom;
    int must_empty = 0;
    for (size_t i = 0; i < n->nch; i++) {
        iter *c = build_iter(ec, n->ch[i]);
        if (!c) return NULL;
        if (n->occ[i] == QUERY_MUST) {
            if (c->kind == IT_EMPTY) must_empty = 1;
            it->must[it->nmust++] = c;
        } else if (n->occ[i] == QUERY_SHOULD) {
            if (c->kind != IT_EMPTY) it->should[it->nshould++] = c;
        } else if (c->kind != IT_EMPTY) {
            it->nots[it->nnot++] = c;
        }
    }
    if (must_empty || (it->nmust == 0 && it->nshould == 0)) return empty_iter(ec);
    if (it->nmust > 0) {
        it->kind = IT_AND;
        qsort(it->must, it->nmust, sizeof *it->must, cmp_cost);
        it->cost = it->must[0]->cost;
        and_align(it, it->must[0]->doc);
    } else {
        it->kind = IT_OR;
        it->cost = 0;
        for (size_t i = 0; i < it->nshould; i++) it->cost += it->should[i]->cost;
        or_settle(it);
    }
    return it;
oom:
    ec->rc = se_fail(ec->err, SE_NOMEM, "out of memory");
    return NULL;
}

/* ---- iterator movement ---- */

/* Term i's positions in the current document (decoded once for all the
 * offsets of a repeated term); *np their count, 0 on malformed data. */
static const uint32_t *phrase_positions(iter *it, size_t i, uint32_t *np)
{
    size_t f = it->first[i];
    postings_cursor *c = it->pcs[f];
    if (it->pos_doc[f] != c->doc) {
        it->npos[f] = postings_cursor_positions(c, it->pos[f], it->maxtf[f]);
        it->pos_doc[f] = it->npos[f] ? c->doc : POSTINGS_END;
    }
    *np = it->npos[f];
    return it->pos[f];
}

/* Count the phrase's occurrences in the current document (all cursors are
 * on it): positions p such that term i stands at p + offsets[i].
 *
 * The term with the fewest occurrences here (smallest tf) is decoded first
 * and gives the candidate starts p; each other term, in increasing tf,
 * keeps those it confirms, and once none is left the remaining terms'
 * positions are never decoded (a cursor skips unread positions when it
 * moves on).  The count is that of every p of term 0 confirmed by all the
 * others, whatever the order. */
static uint32_t phrase_freq(iter *it)
{
    size_t n = it->n, *order = it->at;
    for (size_t i = 0; i < n; i++) {
        uint32_t tf = postings_cursor_freq(it->pcs[i]);
        if (tf == 0) return 0; /* malformed: the cursor has ended, the query fails */
        size_t j = i;
        while (j > 0 && postings_cursor_freq(it->pcs[order[j - 1]]) > tf) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = i;
    }
    /* Candidates from the rarest term here, as starts p = q - offsets[a]
     * (q >= offsets[a]). */
    size_t a = order[0];
    uint32_t np, off = it->offsets[a], nc = 0;
    const uint32_t *pa = phrase_positions(it, a, &np);
    if (np == 0) return 0;
    uint32_t *cand = it->cand;
    for (uint32_t k = 0; k < np; k++)
        if (pa[k] >= off) cand[nc++] = pa[k] - off;
    for (size_t r = 1; r < n && nc > 0; r++) {
        size_t i = order[r];
        const uint32_t *pos = phrase_positions(it, i, &np);
        if (np == 0) return 0;
        uint32_t at = 0, m = 0;
        for (uint32_t k = 0; k < nc; k++) {
            uint64_t want = (uint64_t)cand[k] + it->offsets[i];
            while (at < np && pos[at] < want) at++;
            if (at < np && pos[at] == want) cand[m++] = cand[k];
        }
        nc = m;
    }
    return nc;
}

static int excluded(iter *it, uint32_t doc)
{
    for (size_t i = 0; i < it->nnot; i++)
        if (iter_advance(it->nots[i], doc) == doc) return 1;
    return 0;
}

/* Leapfrog the required clauses from `doc` until they agree and the
 * document passes the exclusions. */
static uint32_t and_align(iter *it, uint32_t doc)
{
    while (doc != POSTINGS_END) {
        int agreed = 1;
        for (size_t i = 1; i < it->nmust; i++) {
            uint32_t d = iter_advance(it->must[i], doc);
            if (d != doc) {
                doc = iter_advance(it->must[0], d);
                agreed = 0;
                break;
            }
        }
        if (!agreed) continue;
        if (!excluded(it, doc)) break;
        doc = iter_next(it->must[0]);
    }
    return it->doc = doc;
}

/* The rarest lists first: a document most of them lack is passed over
 * before the common lists, which load a block for nearly every
 * candidate, are moved to it.  (Any order finds the same documents.) */
static uint32_t phrase_align(iter *it, uint32_t doc)
{
    while (doc != POSTINGS_END) {
        int agreed = 1;
        for (size_t i = 0; i < it->nalign; i++) {
            uint32_t d = postings_cursor_advance(it->align[i], doc);
            if (d != doc) {
                doc = d;
                agreed = 0;
                break;
            }
        }
        if (!agreed) continue;
        it->freq = phrase_freq(it);
        if (it->freq > 0) break;
        doc = postings_cursor_next(it->pcs[0]);
    }
    return it->doc = doc;
}

static uint32_t or_min(iter *it)
{
    uint32_t doc = POSTINGS_END;
    for (size_t i = 0; i < it->nshould; i++)
        if (it->should[i]->doc < doc) doc = it->should[i]->doc;
    return doc;
}

static uint32_t or_settle(iter *it)
{
    uint32_t doc = or_min(it);
    while (doc != POSTINGS_END && excluded(it, doc)) {
        for (size_t i = 0; i < it->nshould; i++)
            if (it->should[i]->doc == doc) iter_next(it->should[i]);
        doc = or_min(it);
    }
    return it->doc = doc;
}

static uint32_t iter_advance(iter *it, uint32_t target)
{
    if (it->doc >= target) return it->doc;
    switch (it->kind) {
    case IT_TERM:
        return it->doc = postings_cursor_advance(it->pc, target);
    case IT_PHRASE:
        return phrase_align(it, postings_cursor_advance(it->pcs[0], target));
    case IT_AND:
        return and_align(it, iter_advance(it->must[0], target));
    case IT_OR:
        for (size_t i = 0; i < it->nshould; i++)
            if (it->should[i]->doc < target) iter_advance(it->should[i], target);
        return or_settle(it);
    default:
        return it->doc = POSTINGS_END;
    }
}

static uint32_t iter_next(iter *it)
{
    if (it->doc == POSTINGS_END) return POSTINGS_END;
    switch (it->kind) {
    case IT_TERM:
        return it->doc = postings_cursor_next(it->pc);
    case IT_PHRASE:
        return phrase_align(it, postings_cursor_next(it->pcs[0]));
    case IT_AND:
        return and_align(it, iter_next(it->must[0]));
    case IT_OR: {
        uint32_t cur = it->doc;
        for (size_t i = 0; i < it->nshould; i++)
            if (it->should[i]->doc == cur) iter_next(it->should[i]);
        return or_settle(it);
    }
    default:
        return POSTINGS_END;
    }
}

/* The title tf of term iterator t in document d (its title cursor moves
 * forward to d). */
static inline uint32_t title_tf(iter *t, uint32_t d)
{
    if (!t->tc || postings_cursor_advance(t->tc, d) != d) return 0;
    return postings_cursor_freq(t->tc);
}

/* tf' of term iterator t in document d of the current segment, where the
 * term occurs tf times in all (BM25F). */
static inline float fielded_tf(const searcher *s, iter *t, uint32_t d, uint32_t tf)
{
    uint32_t ttf = title_tf(t, d), tl = s->title_lengths[d];
    /* ttf <= tf and tl <= the length unless the index is damaged: the
     * body's counts are then 0, never a wrapped value. */
    return bm25f_tf(&s->fmodel, ttf, tl, tf > ttf ? tf - ttf : 0,
                    s->lengths[d] > tl ? s->lengths[d] - tl : 0);
}

/* A term's contribution to document d of the current segment, where it
 * occurs tf times; norm is the document's bm25_doc_norm.  Every path
 * (exhaustive, pruned, explain) scores a term through this one function,
 * so they agree to the bit. */
static inline float term_score(const searcher *s, iter *t, uint32_t d, uint32_t tf, float norm)
{
    if (!s->fielded) return bm25_score(&t->bt, tf, norm);
    return bm25f_score(&t->bt, fielded_tf(s, t, d, tf));
}

/* An upper bound of a term's contribution in any document whose tf and
 * length are within (max_tf, min_len); with BM25F the variant's limit
 * (bm25f_bound), since the title tf and length are not in the impacts. */
static inline float term_bound(const searcher *s, const iter *t, uint32_t max_tf, uint32_t min_len)
{
    if (s->fielded) return bm25f_bound(&t->bt);
    return bm25_score(&t->bt, max_tf, bm25_doc_norm(&s->model, min_len));
}

/* BM25 of the current document for this subtree; `norm` is its
 * bm25_doc_norm. */
static float iter_score(const searcher *s, iter *it, uint32_t doc, float norm)
{
    switch (it->kind) {
    case IT_TERM:
        return term_score(s, it, doc, postings_cursor_freq(it->pc), norm);
    case IT_PHRASE:
        return bm25_score(&it->bt, it->freq, norm);
    case IT_AND: {
        float sum = 0;
        for (size_t i = 0; i < it->nmust; i++) sum += iter_score(s, it->must[i], doc, norm);
        for (size_t i = 0; i < it->nshould; i++)
            if (iter_advance(it->should[i], doc) == doc)
                sum += iter_score(s, it->should[i], doc, norm);
        return sum;
    }
    case IT_OR: {
        float sum = 0;
        for (size_t i = 0; i < it->nshould; i++)
            if (it->should[i]->doc == doc) sum += iter_score(s, it->should[i], doc, norm);
        return sum;
    }
    default:
        return 0;
    }
}

/* ---- top k ---- */

/* a ranks below b: lower score, or equal score and larger id hash. */
static inline int worse(const search_hit *a, const search_hit *b)
{
    return a->score < b->score || (a->score == b->score && a->id_hash > b->id_hash);
}

/* The heap's hits get their id hash only when a tie asks for it (a random
 * read of the segment's hash table, a cache miss, for every hit that
 * enters the heap otherwise); 0 stands for "not looked up", and a hash
 * that is 0 is just looked up again.  searcher_run fills in the rest
 * before sorting. */
static inline void hit_hash(const searcher *s, search_hit *h)
{
    if (h->id_hash == 0) h->id_hash = segment_id_hash(s->ix->segments[h->segment], h->doc);
}

/* worse(), the hashes looked up for a tie first. */
static inline int heap_worse(const searcher *s, search_hit *a, search_hit *b)
{
    if (a->score == b->score) {
        hit_hash(s, a);
        hit_hash(s, b);
    }
    return worse(a, b);
}

static void heap_sift_down(const searcher *s, search_hit *h, size_t n, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && heap_worse(s, &h[l], &h[m])) m = l;
        if (r < n && heap_worse(s, &h[r], &h[m])) m = r;
        if (m == i) return;
        search_hit t = h[i];
        h[i] = h[m];
        h[m] = t;
        i = m;
    }
}

static void heap_sift_up(const searcher *s, search_hit *h, size_t i)
{
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!heap_worse(s, &h[i], &h[p])) return;
        search_hit t = h[i];
        h[i] = h[p];
        h[p] = t;
        i = p;
    }
}

static int cmp_hits(const void *a, const void *b)
{
    const search_hit *x = a, *y = b;
    if (worse(x, y)) return 1;
    if (worse(y, x)) return -1;
    return 0;
}

static int check_cursors(const searcher *s, const segment *seg, se_error *err)
{
    for (size_t i = 0; i < s->ncursors; i++)
        if (s->cursors[i]->status != SE_OK)
            return se_fail(err, SE_CORRUPT, "%s/s%08u.doc: malformed postings", s->ix->dir,
                           segment_number(seg));
    return SE_OK;
}

/* Offer a hit to the top-k heap (the same rule as the exhaustive loop). */
static inline void heap_offer(searcher *s, size_t *n, size_t k, search_hit h)
{
    search_hit *heap = s->heap;
    if (*n == k && h.score < heap[0].score) return;
    h.id_hash = 0;
    if (*n < k) {
        heap[*n] = h;
        heap_sift_up(s, heap, (*n)++);
    } else if (heap_worse(s, &heap[0], &h)) {
        heap[0] = h;
        heap_sift_down(s, heap, *n, 0);
    }
}

/* ---- dynamic pruning: block-max MaxScore ----
 *
 * For a query that is one term, or a disjunction of terms (with optional
 * exclusions), the top k need not look at every match.  Each term has an
 * upper bound on what it can add to a score: its BM25 at the highest tf and
 * the shortest document among its postings (kept in the dictionary), and per
 * 128-document block the best score of the block's impacts, the (tf,
 * length) pairs no other document of the block beats on both (stored in
 * .doc, common/impacts.h): that is the block's exact maximum for whatever
 * variant, k1 and b the query uses.  Terms sorted by bound: the weakest
 * ones whose bounds together cannot beat the k-th best score so far (the
 * threshold) are "non-essential": a document containing only them cannot
 * enter the top k, so candidates come from the essential terms only, and
 * non-essential terms are looked up (advance) only while the candidate can
 * still make it.  The split is made per window of documents, each term
 * bounded by its block there (terms that are non-essential by their
 * segment bounds keep those), so that a term weak in a window leaves the
 * candidates; a window where no document can beat the threshold is passed
 * over in the skip tables without decoding a block.
 *
 * Results equal the exhaustive evaluation's exactly: a candidate's final
 * score is summed in the same order as iter_score sums it, a document is
 * skipped only when a bound says it scores below the threshold (with a
 * relative margin covering float rounding in the bounds, and never when it
 * could tie, since ties are decided by id hash), and the heap rule is the
 * same.  `matches` then counts only fully scored documents: a lower bound. */

#define PRUNE_MAX_TERMS 64
#define BOUND_MARGIN    1e-5 /* relative: bounds are float sums of float terms */

/* Bounds from (tf, length) impacts hold only for a term whose score rises
 * with tf: not for a negative idf (robertson, df > N/2; bm25.h). */
static int bounded(const iter *t)
{
    return t->kind == IT_TERM && t->bt.a >= 0 && t->bt.c >= 0;
}

static int prunable(const iter *root)
{
    if (root->kind == IT_TERM) return bounded(root);
    if (root->kind != IT_OR || root->nshould > PRUNE_MAX_TERMS) return 0;
    for (size_t i = 0; i < root->nshould; i++)
        if (!bounded(root->should[i])) return 0;
    return 1;
}

static inline int below(double bound, float threshold)
{
    return bound * (1.0 + BOUND_MARGIN) < (double)threshold;
}

static void block_cache_init(block_cache *bc, postings_cursor *pc, const bm25_term *bt, float ub,
                             int fielded)
{
    bc->pc = pc;
    bc->fielded = fielded;
    bc->bt = bt;
    bc->ub = ub;
    bc->block = UINT32_MAX;
    bc->last = 0;
    bc->max = 0;
}

/* Largest score of a document of block b (< nblocks): the best of its
 * impacts. */
static float block_bound(const bm25_model *m, block_cache *bc, uint32_t b)
{
    if (b == bc->block) return bc->max;
    impact im[IMPACTS_MAX];
    uint32_t n = bc->fielded ? 0 : postings_block_impacts(bc->pc, b, im);
    float best = n ? 0 : bc->ub; /* BM25F, or malformed: the cursor has failed, the query will */
    for (uint32_t i = 0; i < n; i++) {
        float x = bm25_score(bc->bt, im[i].tf, bm25_doc_norm(m, im[i].len));
        best = x > best ? x : best;
    }
    bc->block = b;
    bc->last = postings_block_last(bc->pc, b);
    bc->max = best;
    return best;
}

/* Upper bound of the cursor's score for the documents d ... *last: the
 * bound of the block holding d, found in the skip table without decoding or
 * moving the cursor (a shallow move); 0 past the list's last document; ub
 * for a list without skip table.  d must not decrease from one call to the
 * next. */
static float bound_at(const bm25_model *m, block_cache *bc, uint32_t d, uint32_t *last)
{
    postings_cursor *c = bc->pc;
    if (bc->block != UINT32_MAX && d <= bc->last) {
        *last = bc->last;
        return bc->max;
    }
    if (!c->skip) {
        *last = POSTINGS_END - 1;
        return bc->ub;
    }
    uint32_t b = postings_block_find(c, bc->block == UINT32_MAX ? 0 : bc->block, d);
    if (b >= c->nblocks) {
        bc->block = c->nblocks;
        bc->last = POSTINGS_END - 1;
        bc->max = 0;
        *last = bc->last;
        return 0;
    }
    float x = block_bound(m, bc, b);
    *last = bc->last;
    return x;
}

/* order[0..n): term indexes by increasing bound (ties in index order);
 * prefix[j]: the sum of the j smallest bounds. */
static void order_by_bound(const float *bound, size_t n, uint32_t *order, double *prefix)
{
    for (size_t i = 0; i < n; i++) {
        size_t j = i;
        while (j > 0 && bound[order[j - 1]] > bound[i]) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = (uint32_t)i;
    }
    prefix[0] = 0;
    for (size_t j = 0; j < n; j++) prefix[j + 1] = prefix[j] + bound[order[j]];
}

/* Candidates' lengths (and the conjunctions' lead length codes) are
 * prefetched this many postings ahead of the one being scored: on a cold
 * cache each is a miss of its own.  Distances 3, 6 and 12 measured alike
 * on the benchmark's unions (one CPU, memory swept between passes). */
#define LENGTH_PREFETCH 6

static int eval_pruned(searcher *s, uint32_t si, iter *root, size_t k, size_t *nheap,
                       uint64_t *matches, se_error *err)
{
    (void)err;
    const bm25_model *m = &s->model;
    const segment *seg = s->ix->segments[si];
    const uint32_t *lengths = segment_lengths(seg);
    const uint8_t *codes = segment_length_codes(seg);
    const uint64_t *deleted = segment_deleted_bits(seg);
    iter *single[1] = {root};
    iter **terms = root->kind == IT_TERM ? single : root->should;
    size_t n = root->kind == IT_TERM ? 1 : root->nshould;
    size_t nnot = root->kind == IT_TERM ? 0 : root->nnot;

    /* order[]: term indexes by increasing bound; prefix[j]: sum of the j
     * smallest bounds. */
    uint32_t order[PRUNE_MAX_TERMS] = {0};
    float ub[PRUNE_MAX_TERMS] = {0}, contrib[PRUNE_MAX_TERMS], wb[PRUNE_MAX_TERMS];
    block_cache bc[PRUNE_MAX_TERMS];
    double prefix[PRUNE_MAX_TERMS + 1];
    for (size_t i = 0; i < n; i++) {
        ub[i] = term_bound(s, terms[i], terms[i]->max_tf, terms[i]->min_len);
        block_cache_init(&bc[i], terms[i]->pc, &terms[i]->bt, ub[i], s->fielded);
        contrib[i] = 0;
    }
    order_by_bound(ub, n, order, prefix);

    size_t nh = *nheap;
    float threshold = nh == k ? s->heap[0].score : -1.0f;
    if (n == 1 && nnot == 0) {
        /* One term: whole blocks at a time straight from the cursor's
         * arrays.  Blocks whose bound cannot beat the threshold are passed
         * over in the skip table, and only the next one that can is
         * decoded. */
        iter *t = terms[0];
        postings_cursor *c = t->pc;
        while (c->doc != POSTINGS_END) {
            if (threshold >= 0 && c->skip) {
                uint32_t b = c->block;
                while (b < c->nblocks && below(block_bound(m, &bc[0], b), threshold)) {
                    b++;
                    s->stats.blocks_skipped++;
                }
                if (b != c->block) {
                    s->stats.pruned = 1;
                    if (b == c->nblocks) break;
                    postings_cursor_advance(c, postings_block_last(c, b - 1) + 1);
                    continue;
                }
            }
            const uint32_t *freqs = postings_cursor_block_freqs(c);
            if (!freqs) break; /* malformed: the cursor has ended, the query fails */
            for (uint32_t i = c->i; i < c->count; i++) {
                uint32_t d = c->docs[i];
                if (deleted && dels_is_deleted(deleted, d)) continue;
                (*matches)++;
                s->stats.documents_scored++;
                s->stats.postings_scored++;
                /* at the length code's norm first: the length is read only
                 * for a document that may enter the top k */
                if (nh == k && !s->fielded &&
                    below(bm25_score(&t->bt, freqs[i], s->code_norm[codes[d]]), threshold))
                    continue;
                float score = term_score(s, t, d, freqs[i], bm25_doc_norm(m, lengths[d]));
                if (nh == k && score < threshold) continue;
                heap_offer(s, &nh, k, (search_hit){si, d, 0, score});
                if (nh == k) threshold = s->heap[0].score;
            }
            c->i = c->count - 1;
            postings_cursor_next(c);
        }
        t->doc = POSTINGS_END;
        *nheap = nh;
        return SE_OK;
    }
    /* Windows.  Before the heap is full every term is essential, in one
     * window holding every document.  After, the documents are taken a
     * window at a time: [from, wend], wend the end of the shortest of the
     * terms' blocks holding `from`, where each term is bounded by its
     * block's impacts (wb) instead of its segment bound.  The terms are
     * ordered by those bounds and split as above (within a window the
     * split only moves up, as the threshold rises); when even the sum of
     * all of them cannot beat the threshold the window is skipped by the
     * skip tables alone, without decoding. */
    uint32_t gorder[PRUNE_MAX_TERMS]; /* order and prefix by segment bounds */
    double gprefix[PRUNE_MAX_TERMS + 1];
    memcpy(gorder, order, n * sizeof *order);
    memcpy(gprefix, prefix, (n + 1) * sizeof *prefix);
    size_t gne = 0; /* gorder[0..gne) are non-essential by segment bounds */
    size_t ne = 0;  /* order[0..ne) are non-essential in this window */
    uint32_t from = 0, wend = POSTINGS_END - 1;
    for (;;) {
        if (threshold >= 0) {
            /* Terms whose segment bounds together stay below the
             * threshold (the weakest, often very common words) keep those
             * bounds: their blocks are short, and would make the windows
             * short and many, for no gain. */
            while (gne < n && below(gprefix[gne + 1], threshold)) gne++;
            uint32_t last = POSTINGS_END - 1;
            for (size_t j = 0; j < n; j++) {
                uint32_t i = gorder[j], l;
                if (j < gne) {
                    wb[i] = ub[i];
                    continue;
                }
                wb[i] = bound_at(m, &bc[i], from, &l);
                if (l < last) last = l;
            }
            order_by_bound(wb, n, order, prefix);
            wend = last;
            if (below(prefix[n], threshold)) {
                s->stats.blocks_skipped++;
                s->stats.pruned = 1;
                if (last == POSTINGS_END - 1) break;
                from = last + 1;
                continue;
            }
            ne = 0;
            while (ne < n && below(prefix[ne + 1], threshold)) ne++;
            if (ne > 0) s->stats.pruned = 1; /* their documents here are not all counted */
            for (size_t j = ne; j < n; j++) {
                iter *t = terms[order[j]];
                if (t->doc < from) t->doc = postings_cursor_advance(t->pc, from);
            }
        }
        /* The window's candidates: the documents of its essential terms. */
        int first = threshold < 0;
        /* The split is as far as the threshold it was made at allows: it
         * can only move when the threshold has risen. */
        float split_threshold = threshold;
        for (;;) {
            if (threshold != split_threshold) {
                while (ne < n && threshold >= 0 && below(prefix[ne + 1], threshold)) {
                    ne++;
                    s->stats.pruned = 1;
                }
                split_threshold = threshold;
            }
            uint32_t d = POSTINGS_END;
            for (size_t j = ne; j < n; j++)
                if (terms[order[j]]->doc < d) d = terms[order[j]]->doc;
            if (d > wend) {
                from = wend + 1; /* POSTINGS_END after the last window */
                break;
            }

            /* Essential terms on d, then non-essential ones from the
             * strongest down while the candidate can still beat the
             * threshold, each counted at its window bound until it is read. */
            double bound = prefix[ne];
            for (size_t j = ne; j < n; j++) {
                iter *t = terms[order[j]];
                if (t->doc != d) continue;
                contrib[order[j]] =
                    term_score(s, t, d, postings_cursor_freq(t->pc), bm25_doc_norm(m, lengths[d]));
                bound += contrib[order[j]];
                s->stats.postings_scored++;
            }
            int gone = deleted && dels_is_deleted(deleted, d), cut = 0;
            for (size_t j = ne; j-- > 0 && !gone;) {
                if (below(bound, threshold)) {
                    cut = 1; /* cannot reach the top k: its other terms stay unread */
                    break;
                }
                iter *t = terms[order[j]];
                bound -= wb[order[j]];
                /* (inline when the list is already there or past d) */
                t->doc = t->pc->doc >= d ? t->pc->doc : postings_cursor_advance(t->pc, d);
                if (t->doc == d) {
                    contrib[order[j]] = term_score(s, t, d, postings_cursor_freq(t->pc),
                                                   bm25_doc_norm(m, lengths[d]));
                    bound += contrib[order[j]];
                    s->stats.postings_scored++;
                }
            }
            for (size_t i = 0; i < nnot && !gone && !cut; i++)
                if (iter_advance(root->nots[i], d) == d) gone = 1;
            if (cut) {
                s->stats.pruned = 1;
            } else if (!gone) {
                /* The exhaustive sum, in the exhaustive order. */
                float score = 0;
                for (size_t i = 0; i < n; i++)
                    if (terms[i]->doc == d) score += contrib[i];
                (*matches)++;
                s->stats.documents_scored++;
                heap_offer(s, &nh, k, (search_hit){si, d, 0, score});
                if (nh == k) threshold = s->heap[0].score;
            }
            /* contrib[i] needs no reset: it is read only for a term on d,
             * and every such term's was set for d above. */
            for (size_t j = ne; j < n; j++) {
                iter *t = terms[order[j]];
                if (t->doc != d) continue;
                t->doc = postings_cursor_next(t->pc);
                /* The length of a candidate a few documents on: each is a
                 * cache miss on a cold cache, which this loop is too long
                 * for the processor to start ahead by itself. */
                const postings_cursor *pc = t->pc;
                if (pc->i + LENGTH_PREFETCH < pc->count)
                    __builtin_prefetch(&lengths[pc->docs[pc->i + LENGTH_PREFETCH]]);
            }
            if (first && threshold >= 0) {
                /* the heap is full: windows from here on */
                from = d + 1;
                break;
            }
        }
        if (from == POSTINGS_END) break;
    }
    /* Whatever the essential lists still hold was not looked at. */
    for (size_t j = 0; j < n; j++)
        if (terms[j]->doc != POSTINGS_END) s->stats.pruned = 1;
    *nheap = nh;
    return SE_OK;
}

/* ---- dynamic pruning of conjunctions and phrases ----
 *
 * A query whose required clauses are terms or phrases (`+a +b`, `"a b"`,
 * `+"a b" c`, with optional terms and exclusions) is evaluated on the
 * clauses' cursors directly.  Once the required cursors agree on a
 * document, a bound is taken before any position is read: the required
 * terms' exact scores, each phrase's score at tf = the smallest of its
 * terms' tfs (a phrase cannot occur more often than its rarest word), and
 * the optional terms' bounds.  Below the threshold the document is dropped
 * and its phrase positions are never decoded, which is where phrases of
 * common words spend their time.
 *
 * Conjunctions of terms also pass over the lead's blocks whose impacts,
 * with the other clauses at their segment bounds, cannot beat the
 * threshold (see eval_pruned_conj for why not the other lists' blocks, and
 * not for phrases).
 *
 * A document that survives is scored exactly as iter_score would (same
 * clauses, same order, same float operations), so results equal the
 * exhaustive evaluation's. */

#define PRUNE_MAX_CURSORS 64

typedef struct conj_clause {
    iter *it;              /* IT_TERM or IT_PHRASE */
    postings_cursor **cur; /* the clause's cursors */
    size_t ncur;
    uint32_t freq_doc; /* it->freq holds the phrase frequency of this doc */
} conj_clause;

/* Bounds need a score that grows with tf (bounded() above). */
static int bounded_clause(const iter *c)
{
    return c->bt.a >= 0 && c->bt.c >= 0;
}

static int prunable_conj(const iter *root)
{
    size_t ncur = 0;
    if (root->kind == IT_PHRASE) return root->n <= PRUNE_MAX_CURSORS && bounded_clause(root);
    if (root->kind != IT_AND || root->nmust + root->nshould > PRUNE_MAX_TERMS) return 0;
    for (size_t i = 0; i < root->nmust; i++) {
        const iter *c = root->must[i];
        if (!bounded_clause(c)) return 0;
        if (c->kind == IT_TERM)
            ncur++;
        else if (c->kind == IT_PHRASE)
            ncur += c->n;
        else
            return 0;
    }
    /* Optional terms beside required ones (`+a b`): terms only. */
    for (size_t i = 0; i < root->nshould; i++)
        if (!bounded(root->should[i])) return 0;
    return ncur <= PRUNE_MAX_CURSORS;
}

/* See precheck in eval_pruned_conj: 2, 4, 8, 16, 32 and 128 were tried on
 * the benchmark's phrases (cache misses with the cache flushed per query),
 * 4 and 8 fewest, 8 with fewer instructions. */
#define PRECHECK_LEAD_DOCS 8

static int eval_pruned_conj(searcher *s, uint32_t si, iter *root, size_t k, size_t *nheap,
                            uint64_t *matches)
{
    const bm25_model *m = &s->model;
    const segment *seg = s->ix->segments[si];
    const uint32_t *lengths = segment_lengths(seg);
    const uint8_t *codes = segment_length_codes(seg);
    const uint64_t *deleted = segment_deleted_bits(seg);
    conj_clause must[PRUNE_MAX_TERMS];
    iter *single[1] = {root};
    iter **musts = root->kind == IT_PHRASE ? single : root->must;
    size_t nmust = root->kind == IT_PHRASE ? 1 : root->nmust;
    size_t nnot = root->kind == IT_PHRASE ? 0 : root->nnot;

    /* The lead: the required list with the fewest documents.  cub[i]:
     * clause i's bound over the segment (a phrase's, at each of its terms'
     * impact, the smallest). */
    postings_cursor *lead = NULL;
    size_t lead_clause = 0;
    uint32_t lead_extra = 0; /* a phrase lead's extra (iter.extra) */
    float cub[PRUNE_MAX_TERMS];
    int phrases = 0;
    for (size_t i = 0; i < nmust; i++) {
        conj_clause *cl = &must[i];
        iter *it = musts[i];
        cl->it = it;
        cl->freq_doc = POSTINGS_END;
        if (it->kind == IT_TERM) {
            cl->cur = &it->pc;
            cl->ncur = 1;
        } else {
            cl->cur = it->pcs;
            cl->ncur = it->n;
            cl->freq_doc = it->doc; /* build_iter aligned it and counted it->freq */
            phrases = 1;
        }
        cub[i] = it->kind == IT_TERM ? term_bound(s, it, it->max_tf, it->min_len) : INFINITY;
        for (size_t j = 0; j < cl->ncur; j++) {
            if (it->kind == IT_PHRASE) {
                float x = bm25_score(&it->bt, it->maxtf[j], bm25_doc_norm(m, it->minlen[j]));
                if (x < cub[i]) cub[i] = x;
            }
            if (!lead || cl->cur[j]->df < lead->df) {
                lead = cl->cur[j];
                lead_clause = i;
                lead_extra = it->kind == IT_PHRASE ? it->extra[j] : 0;
            }
        }
    }

    if (!lead) return SE_OK; /* no required clause: prunable_conj does not allow it */
    /* Every required cursor, by increasing df (any order finds the same
     * documents). */
    postings_cursor *align[PRUNE_MAX_CURSORS];
    size_t nalign = 0;
    for (size_t i = 0; i < nmust; i++)
        for (size_t j = 0; j < must[i].ncur; j++) {
            postings_cursor *c = must[i].cur[j];
            if (!c) continue; /* cannot be: build_iter opened every cursor */
            if (must[i].it->kind == IT_PHRASE && must[i].it->first[j] != j) continue; /* shared */
            insert_by_df(align, nalign++, c);
        }
    /* Optional terms (`+a b`): each adds at most its bound; when the
     * required clauses together cannot reach the threshold, a document
     * needs one of them, and they join the alignment as "one of". */
    iter **opts = root->kind == IT_AND ? root->should : NULL;
    size_t nopt = root->kind == IT_AND ? root->nshould : 0;
    double opt_bound = 0, must_bound = 0, rest;
    for (size_t o = 0; o < nopt; o++)
        opt_bound += term_bound(s, opts[o], opts[o]->max_tf, opts[o]->min_len);
    rest = opt_bound;
    for (size_t i = 0; i < nmust; i++) {
        must_bound += cub[i];
        if (i != lead_clause) rest += cub[i];
    }
    /* Block bounds of the lead's list, with the other clauses at their
     * segment bounds (rest): a lead block whose documents cannot beat the
     * threshold even so is passed over in the skip table, without decoding
     * it or moving the other cursors.  (The other lists' own blocks are
     * shorter and would cost a bound for every few candidates.)  Only
     * without phrases: their candidates are already bounded by their
     * terms' exact tfs before any position is read, and on the benchmark's
     * phrases the block bounds cost more than they saved. */
    block_cache lbc;
    block_cache_init(&lbc, lead, &must[lead_clause].it->bt, cub[lead_clause],
                     s->fielded && must[lead_clause].it->kind == IT_TERM);
    /* The lead-only check below reads the candidate's length code, a cache
     * miss on a cold cache, to spare moving the other lists to it.  That
     * pays when those moves load blocks: for a phrase, when the other lists
     * have, together, at least one block for every PRECHECK_LEAD_DOCS
     * documents of the lead ("the" beside a rarer word); not when they are
     * about as rare as the lead, where a move mostly stays in the block. */
    int precheck = nmust == 1 && !phrases;
    if (phrases) {
        uint64_t blocks = 0;
        for (size_t j = 0; j < nalign; j++)
            if (align[j] != lead) blocks += align[j]->nblocks;
        precheck = blocks * PRECHECK_LEAD_DOCS >= lead->df;
    }
    uint32_t region_end = 0;        /* [.., region_end] was found worth looking at */
    float region_threshold = -2.0f; /* ... at this threshold */
    size_t nh = *nheap;
    float threshold = nh == k ? s->heap[0].score : -1.0f;
    uint32_t d = lead->doc;
    while (d != POSTINGS_END) {
        /* The length code of a lead document a few on (see
         * LENGTH_PREFETCH). */
        if (lead->i + LENGTH_PREFETCH < lead->count)
            __builtin_prefetch(&codes[lead->docs[lead->i + LENGTH_PREFETCH]]);
        if (!phrases && threshold >= 0 && !(d <= region_end && threshold == region_threshold)) {
            uint32_t from = d, last;
            for (;;) {
                float lb = bound_at(m, &lbc, from, &last);
                if (lb > cub[lead_clause]) lb = cub[lead_clause];
                if (!below(rest + lb, threshold)) break;
                s->stats.blocks_skipped++;
                s->stats.pruned = 1;
                if (last >= POSTINGS_END - 1) {
                    from = POSTINGS_END;
                    break;
                }
                from = last + 1;
            }
            if (from != d) {
                d = from == POSTINGS_END ? POSTINGS_END : postings_cursor_advance(lead, from);
                continue;
            }
            region_end = last;
            region_threshold = threshold;
        }
        /* Before the other lists are moved to d: the lead's exact
         * contribution (a phrase's at most its term's tf) with the others
         * at their segment bounds.  A candidate that cannot pass the
         * threshold even so costs no block of the longer lists.  Not
         * between several terms alone: there the others' bounds are loose,
         * and reading the length of every candidate of the lead (a cache
         * miss each, on a cold cache) cost more than the check saved. */
        if (threshold >= 0 && precheck) {
            iter *lt = must[lead_clause].it;
            uint32_t tf = postings_cursor_freq(lead);
            if (tf == 0) break;     /* malformed: the cursor has ended, check_cursors reports it */
            if (tf <= lead_extra) { /* too few for the phrase to occur at all */
                d = postings_cursor_next(lead);
                continue;
            }
            tf -= lead_extra;
            float ln = s->code_norm[codes[d]]; /* at most the norm: a bound */
            double b = rest + (lt->kind == IT_TERM ? term_score(s, lt, d, tf, ln)
                                                   : bm25_score(&lt->bt, tf, ln));
            if (below(b, threshold)) {
                s->stats.pruned = 1;
                d = postings_cursor_next(lead);
                continue;
            }
        }
        /* Align every required cursor on d. */
        int moved = 0;
        for (size_t j = 0; j < nalign; j++) {
            postings_cursor *c = align[j];
            /* (inline when the list is already on d, as the lead is) */
            uint32_t x = c->doc >= d ? c->doc : postings_cursor_advance(c, d);
            if (x != d) {
                d = x == POSTINGS_END || lead->doc >= x ? x : postings_cursor_advance(lead, x);
                moved = 1;
                break;
            }
        }
        if (moved) continue;
        if (nopt > 0 && threshold >= 0 && below(must_bound, threshold)) {
            uint32_t x = POSTINGS_END;
            for (size_t o = 0; o < nopt; o++) {
                uint32_t y = iter_advance(opts[o], d);
                if (y < x) x = y;
            }
            if (x != d) {
                s->stats.pruned = 1;
                d = x == POSTINGS_END ? x : postings_cursor_advance(lead, x);
                continue;
            }
        }
        if (deleted && dels_is_deleted(deleted, d)) {
            d = postings_cursor_next(lead);
            continue;
        }
        if (threshold >= 0 && (phrases || !s->fielded)) {
            /* Candidate bound: the terms at their tfs, phrases at their
             * terms' smallest tf, at the length code's norm (the length
             * itself is read only for a document that passes). */
            float qn = s->code_norm[codes[d]];
            double bound = 0;
            int impossible = 0;
            for (size_t i = 0; i < nmust; i++) {
                uint32_t tf = UINT32_MAX;
                for (size_t j = 0; j < must[i].ncur; j++) {
                    postings_cursor *c = must[i].cur[j];
                    if (!c) continue; /* cannot be: build_iter opened every cursor */
                    uint32_t f = postings_cursor_freq(c);
                    if (must[i].it->kind == IT_PHRASE) {
                        uint32_t x = must[i].it->extra[j];
                        f = f > x ? f - x : 0;
                    }
                    if (f < tf) tf = f;
                }
                impossible |= tf == 0; /* a phrase whose word is too rare here */
                bound += must[i].it->kind == IT_TERM ? term_score(s, must[i].it, d, tf, qn)
                                                     : bm25_score(&must[i].it->bt, tf, qn);
            }
            if (impossible || below(bound + opt_bound, threshold)) {
                s->stats.pruned |= !impossible;
                d = postings_cursor_next(lead);
                continue;
            }
        }
        /* Verify the phrases, then the exclusions (the exact length is
         * read only for a match: a cache miss for most candidates). */
        int match = 1;
        for (size_t i = 0; i < nmust && match; i++) {
            iter *it = must[i].it;
            if (it->kind != IT_PHRASE) continue;
            if (must[i].freq_doc != d) {
                it->freq = phrase_freq(it);
                must[i].freq_doc = d;
            }
            match = it->freq > 0;
        }
        for (size_t i = 0; i < nnot && match; i++)
            if (iter_advance(root->nots[i], d) == d) match = 0;
        if (match) {
            float norm = bm25_doc_norm(m, lengths[d]);
            /* The exhaustive sum (iter_score), in its order. */
            float score = 0;
            for (size_t i = 0; i < nmust; i++) {
                iter *it = must[i].it;
                score += it->kind == IT_TERM
                             ? term_score(s, it, d, postings_cursor_freq(it->pc), norm)
                             : bm25_score(&it->bt, it->freq, norm);
                s->stats.postings_scored += must[i].ncur;
            }
            if (nopt > 0) {
                if (threshold >= 0 && below(score + opt_bound, threshold)) {
                    s->stats.pruned = 1;
                    d = postings_cursor_next(lead);
                    continue;
                }
                for (size_t o = 0; o < nopt; o++)
                    if (iter_advance(opts[o], d) == d) {
                        score += term_score(s, opts[o], d, postings_cursor_freq(opts[o]->pc), norm);
                        s->stats.postings_scored++;
                    }
            }
            (*matches)++;
            s->stats.documents_scored++;
            heap_offer(s, &nh, k, (search_hit){si, d, 0, score});
            if (nh == k) threshold = s->heap[0].score;
        }
        d = postings_cursor_next(lead);
    }
    root->doc = POSTINGS_END;
    *nheap = nh;
    return SE_OK;
}

static int eval_segment(searcher *s, uint32_t si, const pnode *plan, const search_options *opt,
                        size_t *nheap, uint64_t *matches, se_error *err)
{
    const segment *seg = s->ix->segments[si];
    eval_ctx ec = {.s = s, .seg = seg, .si = si, .err = err, .rc = SE_OK};
    s->ncursors = 0;
    s->lengths = segment_lengths(seg);
    s->title_lengths = segment_title_lengths(seg);
    iter *root = build_iter(&ec, plan);
    if (!root) return ec.rc != SE_OK ? ec.rc : se_fail(err, SE_NOMEM, "out of memory");
    for (size_t i = 0; i < s->ncursors; i++) s->stats.postings_total += s->cursors[i]->df;
    const uint32_t *lengths = segment_lengths(seg);
    if (!opt->exhaustive && prunable(root)) {
        int rc = eval_pruned(s, si, root, opt->k, nheap, matches, err);
        if (rc != SE_OK) return rc;
        return check_cursors(s, seg, err);
    }
    if (!opt->exhaustive && prunable_conj(root)) {
        eval_pruned_conj(s, si, root, opt->k, nheap, matches);
        return check_cursors(s, seg, err);
    }
    size_t n = *nheap, k = opt->k;
    const uint64_t *deleted = segment_deleted_bits(seg);
    for (uint32_t doc = root->doc; doc != POSTINGS_END; doc = iter_next(root)) {
        if (deleted && dels_is_deleted(deleted, doc)) continue;
        (*matches)++;
        s->stats.documents_scored++;
        float score = iter_score(s, root, doc, bm25_doc_norm(&s->model, lengths[doc]));
        heap_offer(s, &n, k, (search_hit){si, doc, 0, score});
    }
    *nheap = n;
    return check_cursors(s, seg, err);
}

int searcher_run(searcher *s, const char *query, size_t len, const search_options *opt,
                 search_result *res, se_error *err)
{
    memset(res, 0, sizeof *res);
    memset(&s->hl, 0, sizeof s->hl);
    arena_reset(&s->ar);
    if (opt->k == 0 || opt->k > SEARCH_MAX_K)
        return se_fail(err, SE_INVALID, "k must be between 1 and %d", SEARCH_MAX_K);
    bm25_params bp = {opt->variant, opt->k1, opt->b, opt->delta, opt->lucene_norms};
    int rc = bm25_model_init(&s->model, &bp, s->ix->ndocs, s->ix->total_len, err);
    if (rc != SE_OK) return rc;
    if (!s->code_norm_made || s->code_norm_base != s->model.len_base ||
        s->code_norm_per != s->model.len_per_token ||
        s->code_norm_lucene != s->model.lucene_norms) {
        for (unsigned c = 0; c < 256; c++)
            s->code_norm[c] = bm25_doc_norm(&s->model, seg_length_floor((uint8_t)c));
        s->code_norm_base = s->model.len_base;
        s->code_norm_per = s->model.len_per_token;
        s->code_norm_lucene = s->model.lucene_norms;
        s->code_norm_made = 1;
    }
    if (!(opt->title_weight >= 0 && opt->title_weight <= SEARCH_MAX_TITLE_WEIGHT))
        return se_fail(err, SE_INVALID, "title weight out of range ([0, %g])",
                       (double)SEARCH_MAX_TITLE_WEIGHT);
    s->fielded = opt->title_weight > 0;
    if (s->fielded) {
        rc =
            bm25f_model_init(&s->fmodel, opt->title_weight, opt->title_b, opt->b, opt->lucene_norms,
                             s->ix->ndocs, s->ix->total_len, s->ix->total_title_len, err);
        if (rc != SE_OK) return rc;
    }
    query_options qo = {.default_and = opt->default_and, .literal = opt->literal};
    query_node *q;
    rc = query_parse(query, len, &qo, &q, err);
    if (rc != SE_OK) return rc;
    plan_ctx pc = {.s = s,
                   .split_words = opt->literal,
                   .words = opt->default_and ? QUERY_MUST : QUERY_SHOULD,
                   .err = err,
                   .rc = SE_OK};
    s->plan = NULL;
    pnode *plan = plan_node(&pc, q);
    query_free(q);
    if (!plan) return pc.rc != SE_OK ? pc.rc : se_fail(err, SE_NOMEM, "out of memory");
    s->plan = plan;
    s->opt = *opt;

    size_t nt = 0, np = 0;
    collect_highlight(s, plan, &nt, &np, 1);
    s->hl.terms = arena_alloc(&s->ar, (nt + 1) * sizeof *s->hl.terms);
    s->hl.phrases = arena_alloc(&s->ar, (np + 1) * sizeof *s->hl.phrases);
    if (!s->hl.terms || !s->hl.phrases) return se_fail(err, SE_NOMEM, "out of memory");
    s->hl.nterms = nt;
    s->hl.nphrases = np;
    nt = np = 0;
    collect_highlight(s, plan, &nt, &np, 0);

    if (s->heap_cap < opt->k) {
        search_hit *h = realloc(s->heap, opt->k * sizeof *h);
        if (!h) return se_fail(err, SE_NOMEM, "out of memory");
        s->heap = h;
        s->heap_cap = opt->k;
    }
    size_t n = 0;
    uint64_t matches = 0;
    memset(&s->stats, 0, sizeof s->stats);
    for (uint32_t si = 0; si < s->ix->nsegments && plan->kind != P_NONE; si++) {
        rc = eval_segment(s, si, plan, opt, &n, &matches, err);
        if (rc != SE_OK) return rc;
    }
    for (size_t i = 0; i < n; i++) hit_hash(s, &s->heap[i]);
    qsort(s->heap, n, sizeof *s->heap, cmp_hits);
    res->hits = s->heap;
    res->nhits = n;
    res->matches = matches;
    res->matches_exact = !s->stats.pruned;
    res->stats = s->stats;
    return SE_OK;
}

/* ---- explanations ---- */

typedef struct explain_ctx {
    eval_ctx ec;
    uint32_t doc;
    float norm;
    uint32_t dl;
    double avgdl;
    search_explain_term *out;
    size_t cap, n;
} explain_ctx;

static char *leaf_text(searcher *s, const pnode *n)
{
    size_t len = 1;
    for (size_t i = 0; i < n->nterms; i++) len += strlen(n->terms[i]) + 1;
    char *t = arena_alloc(&s->ar, len), *p = t;
    if (!t) return NULL;
    for (size_t i = 0; i < n->nterms; i++) {
        size_t l = strlen(n->terms[i]);
        if (i) *p++ = ' ';
        memcpy(p, n->terms[i], l);
        p += l;
    }
    *p = 0;
    return t;
}

/* Does n match the document?  Adds the contributions of its scoring
 * leaves; on a mismatch what it added is taken back. */
static int explain_node(explain_ctx *x, const pnode *n)
{
    if (x->ec.rc != SE_OK) return 0;
    if (n->kind == P_TERM || n->kind == P_PHRASE) {
        iter *it = build_iter(&x->ec, n);
        if (!it || it->kind == IT_EMPTY || iter_advance(it, x->doc) != x->doc) return 0;
        if (x->n < x->cap) {
            search_explain_term *e = &x->out[x->n];
            e->text = leaf_text(x->ec.s, n);
            if (!e->text) {
                x->ec.rc = se_fail(x->ec.err, SE_NOMEM, "out of memory");
                return 0;
            }
            e->phrase = n->kind == P_PHRASE;
            e->idf = n->idf;
            e->weight = n->weight;
            e->tf = it->kind == IT_TERM ? postings_cursor_freq(it->pc) : it->freq;
            e->dl = x->dl;
            e->avgdl = x->avgdl;
            e->fielded = 0;
            const searcher *s = x->ec.s;
            if (it->kind == IT_TERM && s->fielded) {
                uint32_t d = x->doc, tl = s->title_lengths[d], ttf = title_tf(it, d);
                const bm25f_model *f = &s->fmodel;
                e->fielded = 1;
                e->title_tf = ttf;
                e->body_tf = e->tf > ttf ? e->tf - ttf : 0;
                e->title_len = f->lucene_norms ? bm25_lucene_length(tl) : tl;
                e->body_len = s->lengths[d] > tl ? s->lengths[d] - tl : 0;
                if (f->lucene_norms) e->body_len = bm25_lucene_length(e->body_len);
                e->title_avg = f->avg_title;
                e->body_avg = f->avg_body;
                e->tf_fielded = fielded_tf(s, it, d, e->tf);
            }
            e->contribution = iter_score(s, it, x->doc, x->norm);
        }
        x->n++;
        return 1;
    }
    if (n->kind != P_BOOL) return 0;
    size_t mark = x->n;
    int has_must = 0, any = 0, ok = 1;
    for (size_t i = 0; i < n->nch && ok; i++) {
        if (n->occ[i] == QUERY_MUST_NOT) {
            size_t before = x->n;
            if (explain_node(x, n->ch[i])) ok = 0;
            x->n = before; /* exclusions never score */
        } else if (n->occ[i] == QUERY_MUST) {
            has_must = 1;
            if (!explain_node(x, n->ch[i])) ok = 0;
        } else if (explain_node(x, n->ch[i])) {
            any = 1;
        }
    }
    if (!ok || (!has_must && !any)) {
        x->n = mark;
        return 0;
    }
    return 1;
}

int searcher_explain(searcher *s, const search_hit *hit, search_explain_term *out, size_t cap,
                     size_t *n, se_error *err)
{
    *n = 0;
    if (!s->plan || hit->segment >= s->ix->nsegments)
        return se_fail(err, SE_INVALID, "no such hit in the last query");
    const segment *seg = s->ix->segments[hit->segment];
    if (hit->doc >= segment_ndocs(seg)) return se_fail(err, SE_INVALID, "no such document");
    uint32_t dl = segment_lengths(seg)[hit->doc];
    s->lengths = segment_lengths(seg);
    s->title_lengths = segment_title_lengths(seg);
    explain_ctx x = {.ec = {.s = s, .seg = seg, .si = hit->segment, .err = err, .rc = SE_OK},
                     .doc = hit->doc,
                     .norm = bm25_doc_norm(&s->model, dl),
                     .dl = s->model.lucene_norms ? bm25_lucene_length(dl) : dl,
                     .avgdl = s->model.avgdl,
                     .out = out,
                     .cap = cap};
    s->ncursors = 0;
    explain_node(&x, s->plan);
    if (x.ec.rc != SE_OK) return x.ec.rc;
    int rc = check_cursors(s, seg, err);
    if (rc != SE_OK) return rc;
    *n = x.n;
    return SE_OK;
}
