/*
 * test_inverter.c - unit tests for indexer/inverter.c and indexer/merge.c.
 *
 * Random documents (random terms from a skewed vocabulary, so that some
 * terms have long postings lists and some documents repeat a term hundreds
 * of times; positions increasing with occasional large jumps) are fed to an
 * inverter, written with inverter_write into a segment, and read back with
 * the segment reader: every term, posting, tf and position is compared with
 * a reference built directly in the test.  Then several batches through one
 * inverter, a document abandoned half-way, and merge_segments: the merge of
 * segments holding consecutive slices of a collection must equal a segment
 * built from the whole collection at once (same terms, postings, positions,
 * documents; byte-identical files).
 *
 * Every test works in a fresh mkdtemp directory under /tmp.
 */
#include <criterion/criterion.h>

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "common/postings.h"
#include "common/segment.h"
#include "common/status.h"
#include "indexer/inverter.h"
#include "indexer/merge.h"
#include "indexer/segment_writer.h"
#include "tests/support/fsutil.h"

/* ------------------------------------------------------------- fixture */

static char g_tmp[1024];

static void setup(void)
{
    char *dir = fs_mkdtemp("test_inverter_");
    cr_assert_not_null(dir);
    snprintf(g_tmp, sizeof g_tmp, "%s", dir);
    free(dir);
}

static void teardown(void)
{
    if (g_tmp[0]) fs_rm_rf(g_tmp);
}

TestSuite(inverter, .init = setup, .fini = teardown, .timeout = 60);

static uint64_t rng_state;
static uint64_t rnd(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}
static uint64_t below(uint64_t n)
{
    return n ? rnd() % n : 0;
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    cr_assert_not_null(p, "out of memory");
    return p;
}

static void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    cr_assert_not_null(p, "out of memory");
    return p;
}

static int bytes_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
    size_t n = alen < blen ? alen : blen;
    int c = n ? memcmp(a, b, n) : 0;
    return c ? c : (alen < blen ? -1 : alen > blen);
}

/* ------------------------------------------------------------- corpus */

typedef struct vterm {
    char s[256];
    size_t len;
} vterm;

typedef struct tdoc {
    char id[32], title[64], text[96];
    size_t id_len, title_len, text_len;
    uint32_t ntok;
    uint32_t *term; /* vocabulary index of each token */
    uint32_t *pos;  /* its position */
} tdoc;

typedef struct corpus {
    vterm *vocab;
    size_t nvocab;
    tdoc *docs;
    uint32_t ndocs;
} corpus;

static int vterm_cmp(const void *a, const void *b)
{
    const vterm *x = a, *y = b;
    return bytes_cmp(x->s, x->len, y->s, y->len);
}

/* A sorted vocabulary of distinct terms: short ones from a small alphabet
 * (many shared prefixes), some long, some 255 bytes, some non-ASCII. */
static void make_vocab(corpus *c, size_t want)
{
    c->vocab = xmalloc(want * sizeof *c->vocab);
    size_t n = 0;
    while (n < want) {
        vterm *v = &c->vocab[n];
        uint64_t kind = below(100);
        size_t len = kind < 80 ? 1 + below(8) : kind < 95 ? 9 + below(60) : kind < 98 ? 255 : 2;
        for (size_t i = 0; i < len; i++) v->s[i] = (char)('a' + below(kind < 80 ? 4 : 26));
        if (kind >= 98) {
            v->s[0] = (char)(0xc3 + below(2));
            v->s[1] = (char)(0x80 + below(64));
        }
        v->len = len;
        n++;
    }
    qsort(c->vocab, n, sizeof *c->vocab, vterm_cmp);
    size_t u = 0;
    for (size_t i = 0; i < n; i++)
        if (u == 0 || vterm_cmp(&c->vocab[u - 1], &c->vocab[i]) != 0) c->vocab[u++] = c->vocab[i];
    c->nvocab = u;
}

/* A term index skewed towards the front of a shuffled order: the first
 * few are in most documents, most are rare. */
static uint32_t pick_term(const corpus *c)
{
    uint64_t r = below(100);
    size_t n = c->nvocab;
    if (r < 30) return (uint32_t)below(n < 8 ? n : 8);
    if (r < 60) return (uint32_t)below(n < 100 ? n : 100);
    return (uint32_t)below(n);
}

static void make_docs(corpus *c, uint32_t ndocs)
{
    c->ndocs = ndocs;
    c->docs = calloc(ndocs ? ndocs : 1, sizeof *c->docs);
    cr_assert_not_null(c->docs);
    for (uint32_t d = 0; d < ndocs; d++) {
        tdoc *x = &c->docs[d];
        x->id_len = (size_t)snprintf(x->id, sizeof x->id, "doc-%u", d);
        x->title_len = (size_t)snprintf(x->title, sizeof x->title, "Title %llx",
                                        (unsigned long long)(rnd() >> (below(64))));
        x->text_len = below(5) ? (size_t)snprintf(x->text, sizeof x->text, "text of %u: %llx", d,
                                                  (unsigned long long)rnd())
                               : 0;
        uint64_t r = below(100);
        uint32_t ntok = r < 5 ? 0 : r < 97 ? (uint32_t)below(120) : 1000 + (uint32_t)below(4000);
        x->ntok = ntok;
        x->term = xmalloc(ntok * sizeof *x->term);
        x->pos = xmalloc(ntok * sizeof *x->pos);
        uint32_t p = (uint32_t)below(3);
        uint32_t repeat = below(20) == 0 ? pick_term(c) : UINT32_MAX;
        for (uint32_t k = 0; k < ntok; k++) {
            if (k > 0) {
                uint64_t g = below(100);
                /* Mostly the next position; sometimes a hole (a skipped
                 * token, a title/text boundary) or a large jump.  Never the
                 * same position twice. */
                p += g < 90   ? 1
                     : g < 98 ? 2 + (uint32_t)below(5)
                              : 1000 + (uint32_t)below(1u << 20);
            }
            x->term[k] = repeat != UINT32_MAX && below(2) ? repeat : pick_term(c);
            x->pos[k] = p;
        }
    }
}

static void corpus_free(corpus *c)
{
    for (uint32_t d = 0; d < c->ndocs; d++) {
        free(c->docs[d].term);
        free(c->docs[d].pos);
    }
    free(c->docs);
    free(c->vocab);
}

/* ------------------------------------------------------------- reference */

typedef struct rlist {
    uint32_t df, cap;
    uint32_t *docs, *tfs;
    uint32_t *pstart; /* df + 1 */
    uint32_t *pos;
    uint32_t npos, pos_cap;
} rlist;

/* Postings of docs [lo, hi) of c, doc ids counted from lo. */
static rlist *reference(const corpus *c, uint32_t lo, uint32_t hi)
{
    rlist *ref = calloc(c->nvocab, sizeof *ref);
    cr_assert_not_null(ref);
    for (uint32_t d = lo; d < hi; d++) {
        const tdoc *x = &c->docs[d];
        uint32_t local = d - lo;
        for (uint32_t k = 0; k < x->ntok; k++) {
            rlist *l = &ref[x->term[k]];
            if (l->df == 0 || l->docs[l->df - 1] != local) {
                if (l->df + 1 >= l->cap) {
                    l->cap = l->cap ? 2 * l->cap : 16;
                    l->docs = xrealloc(l->docs, l->cap * sizeof *l->docs);
                    l->tfs = xrealloc(l->tfs, l->cap * sizeof *l->tfs);
                    l->pstart = xrealloc(l->pstart, (l->cap + 1) * sizeof *l->pstart);
                }
                l->docs[l->df] = local;
                l->tfs[l->df] = 0;
                l->pstart[l->df] = l->npos;
                l->df++;
            }
            if (l->npos == l->pos_cap) {
                l->pos_cap = l->pos_cap ? 2 * l->pos_cap : 16;
                l->pos = xrealloc(l->pos, l->pos_cap * sizeof *l->pos);
            }
            l->pos[l->npos++] = x->pos[k];
            l->tfs[l->df - 1]++;
        }
    }
    for (size_t t = 0; t < c->nvocab; t++)
        if (ref[t].df) ref[t].pstart[ref[t].df] = ref[t].npos;
    return ref;
}

static void reference_free(rlist *ref, size_t n)
{
    for (size_t t = 0; t < n; t++) {
        free(ref[t].docs);
        free(ref[t].tfs);
        free(ref[t].pstart);
        free(ref[t].pos);
    }
    free(ref);
}

/* ------------------------------------------------------------- building */

static uint64_t content_hash(const tdoc *x)
{
    return XXH3_64bits_withSeed(x->text, x->text_len, XXH3_64bits(x->title, x->title_len));
}

/* Invert docs [lo, hi) with inv and write them as segment `number`. */
static void build_segment(inverter *inv, const corpus *c, uint32_t lo, uint32_t hi, uint32_t number,
                          seg_meta *meta)
{
    segment_writer *w;
    se_error err = {0};
    cr_assert_eq(segw_create(&w, g_tmp, number, 3, &err), SE_OK, "%s", err.msg);
    for (uint32_t d = lo; d < hi; d++) {
        const tdoc *x = &c->docs[d];
        for (uint32_t k = 0; k < x->ntok; k++) {
            const vterm *v = &c->vocab[x->term[k]];
            cr_assert_eq(inverter_add_token(inv, v->s, v->len, x->pos[k]), SE_OK);
        }
        seg_document sd = {x->id, x->id_len, x->title, x->title_len, x->text, x->text_len};
        cr_assert_eq(segw_add_document(w, &sd, x->ntok, 0, content_hash(x), &err), SE_OK, "%s",
                     err.msg);
        cr_assert_eq(inverter_end_document(inv, d - lo), SE_OK);
    }
    cr_assert_gt(inverter_memory(inv), 0);
    cr_assert_eq(inverter_write(inv, w, &err), SE_OK, "%s", err.msg);
    cr_assert_eq(inverter_terms(inv), 0, "the inverter is empty after a write");
    cr_assert_eq(segw_finish(w, meta, &err), SE_OK, "%s", err.msg);
}

static segment *open_segment(const seg_meta *meta)
{
    segment *s;
    se_error err = {0};
    cr_assert_eq(segment_open(&s, g_tmp, meta, 1, &err), SE_OK, "%s", err.msg);
    return s;
}

/* ------------------------------------------------------------- checks */

static void check_postings(const segment *s, const seg_term_info *info, const rlist *l,
                           const char *what)
{
    postings_cursor *c = xmalloc(sizeof *c);
    uint32_t *buf = xmalloc((info->max_tf ? info->max_tf : 1) * sizeof *buf);
    postings_cursor_open(c, s, info);
    cr_assert_eq(info->df, l->df, "%s: df", what);
    uint64_t cf = 0;
    uint32_t max_tf = 0;
    for (uint32_t k = 0; k < l->df; k++) {
        cf += l->tfs[k];
        if (l->tfs[k] > max_tf) max_tf = l->tfs[k];
    }
    cr_assert_eq(info->cf, cf, "%s: cf", what);
    cr_assert_eq(info->max_tf, max_tf, "%s: max tf", what);
    for (uint32_t k = 0; k < l->df; k++) {
        uint32_t d = k ? postings_cursor_next(c) : c->doc;
        cr_assert_eq(d, l->docs[k], "%s: posting %u: doc %u, want %u", what, k, d, l->docs[k]);
        cr_assert_eq(postings_cursor_freq(c), l->tfs[k], "%s: doc %u tf", what, d);
        uint32_t n = postings_cursor_positions(c, buf, l->tfs[k]);
        cr_assert_eq(n, l->tfs[k], "%s: doc %u positions", what, d);
        for (uint32_t i = 0; i < n; i++)
            cr_assert_eq(buf[i], l->pos[l->pstart[k] + i], "%s: doc %u position %u", what, d, i);
    }
    cr_assert_eq(postings_cursor_next(c), POSTINGS_END, "%s: more postings than expected", what);
    cr_assert_eq(c->status, SE_OK);
    free(buf);
    free(c);
}

/* The segment holds exactly the reference's terms, postings and positions,
 * and documents [lo, hi) of c. */
static void check_segment(const segment *s, const corpus *c, uint32_t lo, uint32_t hi)
{
    rlist *ref = reference(c, lo, hi);
    seg_term_iter it;
    seg_term_iter_init(&it, s);
    seg_term_info info;
    se_error err = {0};
    size_t seen = 0;
    for (size_t t = 0; t < c->nvocab; t++) {
        if (ref[t].df == 0) continue;
        const vterm *v = &c->vocab[t];
        cr_assert_eq(seg_term_iter_next(&it, &info, &err), 1, "missing term %zu: %s", t, err.msg);
        cr_assert_eq(bytes_cmp(it.term, it.term_len, v->s, v->len), 0,
                     "term %zu: got \"%.*s\", want \"%.*s\"", t, (int)it.term_len, it.term,
                     (int)v->len, v->s);
        check_postings(s, &info, &ref[t], it.term);
        seen++;
    }
    cr_assert_eq(seg_term_iter_next(&it, &info, &err), 0, "extra term \"%s\"", it.term);
    cr_assert_eq(segment_nterms(s), seen);
    /* Absent vocabulary terms are not found. */
    for (size_t t = 0; t < c->nvocab; t++)
        if (ref[t].df == 0)
            cr_assert_eq(segment_lookup(s, c->vocab[t].s, c->vocab[t].len, &info, &err), 0);
    /* Documents. */
    cr_assert_eq(segment_ndocs(s), hi - lo);
    seg_store_buffer b;
    seg_store_buffer_init(&b);
    uint64_t total = 0;
    for (uint32_t d = lo; d < hi; d++) {
        const tdoc *x = &c->docs[d];
        seg_document got;
        cr_assert_eq(segment_document(s, d - lo, &b, &got, &err), SE_OK, "%s", err.msg);
        cr_assert_eq(got.id_len, x->id_len);
        cr_assert_eq(memcmp(got.id, x->id, x->id_len), 0);
        cr_assert_eq(got.title_len, x->title_len);
        cr_assert(x->title_len == 0 || memcmp(got.title, x->title, x->title_len) == 0);
        cr_assert_eq(got.text_len, x->text_len);
        cr_assert(x->text_len == 0 || memcmp(got.text, x->text, x->text_len) == 0);
        cr_assert_eq(segment_lengths(s)[d - lo], x->ntok);
        cr_assert_eq(segment_id_hash(s, d - lo), XXH3_64bits(x->id, x->id_len));
        cr_assert_eq(segment_content_hash(s, d - lo), content_hash(x));
        total += x->ntok;
    }
    cr_assert_eq(segment_total_len(s), total);
    seg_store_buffer_free(&b);
    reference_free(ref, c->nvocab);
}

/* ------------------------------------------------------------- tests */

Test(inverter, single_batch)
{
    rng_state = 11;
    corpus c = {0};
    make_vocab(&c, 3000);
    make_docs(&c, 1500);
    inverter *inv;
    cr_assert_eq(inverter_new(&inv), SE_OK);
    cr_assert_eq(inverter_terms(inv), 0);
    seg_meta meta;
    build_segment(inv, &c, 0, c.ndocs, 1, &meta);
    segment *s = open_segment(&meta);
    /* Some terms have long lists (skip tables), some documents a high tf. */
    seg_term_info info;
    const vterm *v = &c.vocab[0];
    cr_assert_eq(segment_lookup(s, v->s, v->len, &info, NULL), 1);
    cr_assert_gt(info.df, 2 * SEG_BLOCK, "df %u", info.df);
    check_segment(s, &c, 0, c.ndocs);
    segment_close(s);
    inverter_free(inv);
    corpus_free(&c);
}

/* One document with one term thousands of times and a term that occurs
 * once, then nothing else: the postings streams cross many slices. */
Test(inverter, long_streams)
{
    rng_state = 12;
    corpus c = {0};
    make_vocab(&c, 4);
    c.ndocs = 3;
    c.docs = calloc(3, sizeof *c.docs);
    for (uint32_t d = 0; d < 3; d++) {
        tdoc *x = &c.docs[d];
        x->id_len = (size_t)sprintf(x->id, "%u", d);
        uint32_t n = d == 1 ? 200000 : 3;
        x->ntok = n;
        x->term = xmalloc(n * sizeof *x->term);
        x->pos = xmalloc(n * sizeof *x->pos);
        for (uint32_t k = 0; k < n; k++) {
            x->term[k] = d == 1 ? (k % 1000 == 999 ? 1 : 0) : (uint32_t)k % (uint32_t)c.nvocab;
            x->pos[k] = k * (d == 2 ? 1000000u : 3u);
        }
    }
    inverter *inv;
    cr_assert_eq(inverter_new(&inv), SE_OK);
    seg_meta meta;
    build_segment(inv, &c, 0, 3, 1, &meta);
    segment *s = open_segment(&meta);
    check_segment(s, &c, 0, 3);
    segment_close(s);
    inverter_free(inv);
    corpus_free(&c);
}

/* Distinct terms enough to grow the hash table several times. */
Test(inverter, many_terms)
{
    rng_state = 13;
    corpus c = {0};
    make_vocab(&c, 200000);
    make_docs(&c, 3000);
    inverter *inv;
    cr_assert_eq(inverter_new(&inv), SE_OK);
    seg_meta meta;
    build_segment(inv, &c, 0, c.ndocs, 1, &meta);
    segment *s = open_segment(&meta);
    cr_assert_gt(segment_nterms(s), 40000, "%llu terms", (unsigned long long)segment_nterms(s));
    check_segment(s, &c, 0, c.ndocs);
    segment_close(s);
    inverter_free(inv);
    corpus_free(&c);
}

Test(inverter, batches_reuse_inverter)
{
    rng_state = 14;
    corpus c = {0};
    make_vocab(&c, 2000);
    make_docs(&c, 1200);
    inverter *inv;
    cr_assert_eq(inverter_new(&inv), SE_OK);
    uint32_t cuts[] = {0, 500, 501, 501, 900, 1200};
    seg_meta meta[5];
    for (int b = 0; b < 5; b++) build_segment(inv, &c, cuts[b], cuts[b + 1], (uint32_t)b, &meta[b]);
    for (int b = 0; b < 5; b++) {
        segment *s = open_segment(&meta[b]);
        check_segment(s, &c, cuts[b], cuts[b + 1]);
        segment_close(s);
    }
    inverter_free(inv);
    corpus_free(&c);
}

/* A document given up half-way leaves no trace, including the terms only
 * it had introduced. */
Test(inverter, abandoned_document)
{
    inverter *inv;
    cr_assert_eq(inverter_new(&inv), SE_OK);
    segment_writer *w;
    se_error err = {0};
    cr_assert_eq(segw_create(&w, g_tmp, 1, 1, &err), SE_OK);
    seg_document sd = {"x", 1, "", 0, "", 0};
    /* doc 0: "apple banana apple" */
    cr_assert_eq(inverter_add_token(inv, "apple", 5, 0), SE_OK);
    cr_assert_eq(inverter_add_token(inv, "banana", 6, 1), SE_OK);
    cr_assert_eq(inverter_add_token(inv, "apple", 5, 2), SE_OK);
    cr_assert_eq(inverter_end_document(inv, 0), SE_OK);
    cr_assert_eq(segw_add_document(w, &sd, 3, 0, 0, &err), SE_OK);
    /* abandoned: "apple cherry" */
    cr_assert_eq(inverter_add_token(inv, "apple", 5, 0), SE_OK);
    cr_assert_eq(inverter_add_token(inv, "cherry", 6, 1), SE_OK);
    inverter_abandon_document(inv);
    /* doc 1: "banana apple" */
    cr_assert_eq(inverter_add_token(inv, "banana", 6, 0), SE_OK);
    cr_assert_eq(inverter_add_token(inv, "apple", 5, 1), SE_OK);
    cr_assert_eq(inverter_end_document(inv, 1), SE_OK);
    cr_assert_eq(segw_add_document(w, &sd, 2, 0, 0, &err), SE_OK);
    cr_assert_eq(inverter_write(inv, w, &err), SE_OK, "%s", err.msg);
    seg_meta meta;
    cr_assert_eq(segw_finish(w, &meta, &err), SE_OK, "%s", err.msg);
    segment *s = open_segment(&meta);
    cr_assert_eq(segment_nterms(s), 2);
    seg_term_info info;
    cr_assert_eq(segment_lookup(s, "cherry", 6, &info, NULL), 0);
    cr_assert_eq(segment_lookup(s, "apple", 5, &info, NULL), 1);
    cr_assert_eq(info.df, 2);
    cr_assert_eq(info.cf, 3);
    postings_cursor c;
    uint32_t pos[4];
    postings_cursor_open(&c, s, &info);
    cr_assert_eq(c.doc, 0);
    cr_assert_eq(postings_cursor_positions(&c, pos, 4), 2);
    cr_assert_eq(pos[0], 0);
    cr_assert_eq(pos[1], 2);
    cr_assert_eq(postings_cursor_next(&c), 1);
    cr_assert_eq(postings_cursor_positions(&c, pos, 4), 1);
    cr_assert_eq(pos[0], 1);
    cr_assert_eq(segment_lookup(s, "banana", 6, &info, NULL), 1);
    cr_assert_eq(info.df, 2);
    segment_close(s);
    inverter_free(inv);
}

/* Different terms may share a position (positions need not increase from
 * one token to the next, only never decrease). */
Test(inverter, shared_positions)
{
    inverter *inv;
    cr_assert_eq(inverter_new(&inv), SE_OK);
    segment_writer *w;
    se_error err = {0};
    cr_assert_eq(segw_create(&w, g_tmp, 1, 1, &err), SE_OK);
    seg_document sd = {"x", 1, "", 0, "", 0};
    cr_assert_eq(inverter_add_token(inv, "b", 1, 4), SE_OK);
    cr_assert_eq(inverter_add_token(inv, "a", 1, 4), SE_OK);
    cr_assert_eq(inverter_add_token(inv, "a", 1, 5), SE_OK);
    cr_assert_eq(inverter_add_token(inv, "c", 1, 5), SE_OK);
    cr_assert_eq(inverter_add_token(inv, "b", 1, 5), SE_OK);
    cr_assert_eq(inverter_end_document(inv, 0), SE_OK);
    cr_assert_eq(segw_add_document(w, &sd, 5, 0, 0, &err), SE_OK);
    cr_assert_eq(inverter_write(inv, w, &err), SE_OK, "%s", err.msg);
    seg_meta meta;
    cr_assert_eq(segw_finish(w, &meta, &err), SE_OK, "%s", err.msg);
    segment *s = open_segment(&meta);
    const char *terms[] = {"a", "b", "c"};
    const uint32_t want[3][2] = {{4, 5}, {4, 5}, {5, 0}};
    for (int t = 0; t < 3; t++) {
        seg_term_info info;
        cr_assert_eq(segment_lookup(s, terms[t], 1, &info, NULL), 1);
        postings_cursor c;
        uint32_t pos[2];
        postings_cursor_open(&c, s, &info);
        uint32_t n = postings_cursor_positions(&c, pos, 2);
        cr_assert_eq(n, t < 2 ? 2 : 1);
        for (uint32_t k = 0; k < n; k++) cr_assert_eq(pos[k], want[t][k]);
    }
    segment_close(s);
    inverter_free(inv);
}

Test(inverter, rejects_bad_terms)
{
    inverter *inv;
    cr_assert_eq(inverter_new(&inv), SE_OK);
    char t[256];
    memset(t, 'a', sizeof t);
    cr_assert_eq(inverter_add_token(inv, t, 0, 0), SE_INVALID);
    cr_assert_eq(inverter_add_token(inv, t, 256, 0), SE_INVALID);
    cr_assert_eq(inverter_add_token(inv, t, 255, 0), SE_OK);
    inverter_free(inv);
    inverter_free(NULL);
}

/* ------------------------------------------------------------- merge */

static void check_same_segments(const segment *a, const segment *b)
{
    cr_assert_eq(segment_ndocs(a), segment_ndocs(b));
    cr_assert_eq(segment_nterms(a), segment_nterms(b));
    cr_assert_eq(segment_total_len(a), segment_total_len(b));
    seg_term_iter ia, ib;
    seg_term_iter_init(&ia, a);
    seg_term_iter_init(&ib, b);
    seg_term_info fa, fb;
    se_error err = {0};
    for (;;) {
        int ra = seg_term_iter_next(&ia, &fa, &err), rb = seg_term_iter_next(&ib, &fb, &err);
        cr_assert_eq(ra, rb);
        if (ra == 0) break;
        cr_assert_eq(ra, 1);
        cr_assert_eq(bytes_cmp(ia.term, ia.term_len, ib.term, ib.term_len), 0);
        cr_assert(fa.df == fb.df && fa.cf == fb.cf && fa.max_tf == fb.max_tf &&
                      fa.min_len == fb.min_len && fa.doc_len == fb.doc_len &&
                      fa.pos_len == fb.pos_len && fa.doc_off == fb.doc_off &&
                      fa.pos_off == fb.pos_off,
                  "term %s: dictionary entries differ", ia.term);
    }
    for (int f = 0; f < SEG_NFILES; f++) {
        const fio_map *ma = segment_file(a, f), *mb = segment_file(b, f);
        cr_assert_eq(ma->size, mb->size, "file .%s", seg_file_ext[f]);
        cr_assert_eq(memcmp(ma->data, mb->data, ma->size), 0, "file .%s", seg_file_ext[f]);
    }
}

Test(inverter, merge_equals_single_build)
{
    rng_state = 15;
    corpus c = {0};
    make_vocab(&c, 2500);
    make_docs(&c, 2000);
    inverter *inv;
    cr_assert_eq(inverter_new(&inv), SE_OK);
    /* Slices of the collection, one of them empty, one a single document. */
    uint32_t cuts[] = {0, 700, 700, 1300, 1301, 2000};
    enum { NS = 5 };
    seg_meta meta[NS], whole_meta, merged_meta;
    segment *src[NS];
    for (int i = 0; i < NS; i++) {
        build_segment(inv, &c, cuts[i], cuts[i + 1], (uint32_t)i + 1, &meta[i]);
        src[i] = open_segment(&meta[i]);
    }
    build_segment(inv, &c, 0, c.ndocs, 20, &whole_meta);
    se_error err = {0};
    cr_assert_eq(merge_segments(src, NS, g_tmp, 30, 3, &merged_meta, &err), SE_OK, "%s", err.msg);
    cr_assert_eq(merged_meta.number, 30);
    cr_assert_eq(merged_meta.ndocs, c.ndocs);
    cr_assert_eq(merged_meta.nterms, whole_meta.nterms);
    cr_assert_eq(merged_meta.total_len, whole_meta.total_len);
    segment *whole = open_segment(&whole_meta), *merged = open_segment(&merged_meta);
    check_segment(merged, &c, 0, c.ndocs);
    check_segment(whole, &c, 0, c.ndocs);
    check_same_segments(merged, whole);
    for (int f = 0; f < SEG_NFILES; f++)
        cr_assert_eq(merged_meta.files[f].checksum, whole_meta.files[f].checksum);

    /* Merging one segment copies it; merging the merge with an empty one
     * changes nothing either. */
    seg_meta one_meta, again_meta;
    cr_assert_eq(merge_segments(&whole, 1, g_tmp, 31, 3, &one_meta, &err), SE_OK, "%s", err.msg);
    segment *pair[2] = {src[1], merged};
    cr_assert_eq(merge_segments(pair, 2, g_tmp, 32, 3, &again_meta, &err), SE_OK, "%s", err.msg);
    segment *one = open_segment(&one_meta), *again = open_segment(&again_meta);
    check_same_segments(one, whole);
    check_same_segments(again, whole);
    segment_close(one);
    segment_close(again);

    /* Nothing to merge: an empty segment. */
    seg_meta none_meta;
    cr_assert_eq(merge_segments(NULL, 0, g_tmp, 33, 3, &none_meta, &err), SE_OK, "%s", err.msg);
    cr_assert_eq(none_meta.ndocs, 0);
    cr_assert_eq(none_meta.nterms, 0);
    segment *none = open_segment(&none_meta);
    segment_close(none);

    /* The target's files exist already: refused, sources untouched. */
    cr_assert_neq(merge_segments(src, NS, g_tmp, 30, 3, &none_meta, &err), SE_OK);
    segment_close(merged);
    merged = open_segment(&merged_meta);
    segment_close(merged);

    segment_close(whole);
    for (int i = 0; i < NS; i++) segment_close(src[i]);
    inverter_free(inv);
    corpus_free(&c);
}

/* A tf larger than the caller's buffer (a max tf lying in a checksum-valid
 * dictionary) ends the cursor as corrupt instead of overflowing. */
Test(inverter, positions_respect_capacity)
{
    char dir[] = "/tmp/se-cap-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    inverter *inv;
    cr_assert_eq(inverter_new(&inv), SE_OK);
    segment_writer *w;
    cr_assert_eq(segw_create(&w, dir, 0, 1, NULL), SE_OK);
    seg_document d = {"d", 1, "", 0, "x x x", 5};
    cr_assert_eq(segw_add_document(w, &d, 3, 0, 2, NULL), SE_OK);
    for (uint32_t p = 0; p < 3; p++) cr_assert_eq(inverter_add_token(inv, "x", 1, p), SE_OK);
    cr_assert_eq(inverter_end_document(inv, 0), SE_OK);
    cr_assert_eq(inverter_write(inv, w, NULL), SE_OK);
    seg_meta meta;
    cr_assert_eq(segw_finish(w, &meta, NULL), SE_OK);
    segment *s;
    cr_assert_eq(segment_open(&s, dir, &meta, 1, NULL), SE_OK);
    seg_term_info info;
    cr_assert_eq(segment_lookup(s, "x", 1, &info, NULL), 1);
    postings_cursor c;
    uint32_t pos[3];
    postings_cursor_open(&c, s, &info);
    cr_assert_eq(postings_cursor_positions(&c, pos, 2), 0);
    cr_assert_eq(c.status, SE_CORRUPT);
    segment_close(s);
    inverter_free(inv);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    cr_assert_eq(system(cmd), 0);
}
