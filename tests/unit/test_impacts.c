/*
 * test_impacts.c - per-block impacts: common/impacts.c (frontier, coding),
 * the segment writer that stores them and the postings cursor that reads
 * them back.
 *
 *   - impacts_frontier against a brute-force frontier on random blocks
 *     (narrow and wide tf and length ranges, independent and correlated):
 *     every pair undominated and
 *     every document dominated by a pair; past IMPACTS_MAX pairs, every
 *     document still dominated by a returned pair and the order strict;
 *   - the BM25 bound of a frontier (the best score of its pairs) is at
 *     least every document's score for every variant and several k1, b,
 *     average lengths and Lucene norms, and equals the best document's
 *     score when the frontier is exact;
 *   - impacts_encode / impacts_decode round trips, and decode refuses
 *     empty, truncated, too long and out-of-range input;
 *   - a segment written with long lists returns, for every block, the
 *     frontier of the block's documents (postings_block_impacts), and the
 *     skip table moves (postings_block_find) agree with the blocks;
 *   - damaged impacts in .doc (checksums made to match) end the cursor
 *     with SE_CORRUPT instead of being trusted.
 * Random data comes from splitmix64 with fixed seeds.
 */
#include <criterion/criterion.h>

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "common/codec.h"
#include "common/fileio.h"
#include "common/impacts.h"
#include "common/postings.h"
#include "common/segment.h"
#include "indexer/segment_writer.h"
#include "searcher/bm25.h"
#include "tests/support/fsutil.h"

static uint64_t g_rng;

static uint64_t rnd(void)
{
    uint64_t z = (g_rng += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint32_t below(uint32_t n)
{
    return (uint32_t)(rnd() % n);
}

/* A random block of n documents: tfs in 1 ... maxtf, lengths in 1 ... maxlen. */
static void random_block(uint32_t *tfs, uint32_t *lens, size_t n, uint32_t maxtf, uint32_t maxlen)
{
    for (size_t k = 0; k < n; k++) {
        tfs[k] = 1 + below(maxtf);
        lens[k] = 1 + below(maxlen);
    }
}

static int dominates(impact a, uint32_t tf, uint32_t len)
{
    return a.tf >= tf && a.len <= len;
}

/* The exact frontier, by definition: pairs no other document dominates
 * strictly, duplicates once. */
static size_t brute_frontier(const uint32_t *tfs, const uint32_t *lens, size_t n, impact *out)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        int dominated = 0;
        for (size_t j = 0; j < n && !dominated; j++)
            dominated =
                tfs[j] >= tfs[i] && lens[j] <= lens[i] && (tfs[j] != tfs[i] || lens[j] != lens[i]);
        int dup = 0;
        for (size_t j = 0; j < m && !dup; j++) dup = out[j].tf == tfs[i] && out[j].len == lens[i];
        if (!dominated && !dup) out[m++] = (impact){tfs[i], lens[i]};
    }
    /* increasing tf */
    for (size_t i = 1; i < m; i++)
        for (size_t j = i; j > 0 && out[j - 1].tf > out[j].tf; j--) {
            impact t = out[j];
            out[j] = out[j - 1];
            out[j - 1] = t;
        }
    return m;
}

static void check_frontier(const uint32_t *tfs, const uint32_t *lens, size_t n, const char *what)
{
    impact got[IMPACTS_MAX], want[SEG_BLOCK];
    size_t ng = impacts_frontier(tfs, lens, n, got);
    size_t nw = brute_frontier(tfs, lens, n, want);
    cr_assert(ng >= 1 && ng <= IMPACTS_MAX, "%s: %zu pairs", what, ng);
    for (size_t i = 1; i < ng; i++)
        cr_assert(got[i].tf > got[i - 1].tf && got[i].len > got[i - 1].len,
                  "%s: pairs %zu, %zu not strictly increasing", what, i - 1, i);
    for (size_t k = 0; k < n; k++) {
        int covered = 0;
        for (size_t i = 0; i < ng && !covered; i++) covered = dominates(got[i], tfs[k], lens[k]);
        cr_assert(covered, "%s: document %zu (tf %u, length %u) above every pair", what, k, tfs[k],
                  lens[k]);
    }
    if (nw <= IMPACTS_MAX) {
        cr_assert_eq(ng, nw, "%s: %zu pairs, the frontier has %zu", what, ng, nw);
        cr_assert_eq(memcmp(got, want, nw * sizeof *want), 0, "%s: not the frontier", what);
    } else {
        cr_assert_eq(ng, IMPACTS_MAX, "%s: a capped frontier uses every slot", what);
        /* The extremes stay exact: the largest tf and the shortest length. */
        cr_assert_eq(got[ng - 1].tf, want[nw - 1].tf, "%s", what);
        cr_assert_eq(got[0].len, want[0].len, "%s", what);
    }
}

Test(impacts, frontier_of_random_blocks)
{
    uint32_t tfs[SEG_BLOCK], lens[SEG_BLOCK];
    static const uint32_t shapes[][2] = {{1, 1},     {1, 500},   {3, 50},         {8, 300},
                                         {40, 2000}, {200, 200}, {100000, 100000}};
    size_t capped = 0;
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        g_rng = 1000 + s;
        for (int round = 0; round < 300; round++) {
            size_t n = round % 3 == 0 ? 1 + below(SEG_BLOCK) : SEG_BLOCK;
            random_block(tfs, lens, n, shapes[s][0], shapes[s][1]);
            if (round % 2) /* longer documents repeat the term more: long frontiers */
                for (size_t k = 0; k < n; k++) lens[k] = tfs[k] * 7 + below(10);
            char what[64];
            snprintf(what, sizeof what, "shape %zu round %d", s, round);
            check_frontier(tfs, lens, n, what);
            impact all[SEG_BLOCK];
            if (brute_frontier(tfs, lens, n, all) > IMPACTS_MAX) capped++;
        }
    }
    cr_assert_gt(capped, 50, "the random blocks must exercise the cap");
}

Test(impacts, frontier_of_a_long_staircase_is_capped_safely)
{
    /* 128 documents each on the frontier: tf k + 1, length 10 (k + 1). */
    uint32_t tfs[SEG_BLOCK], lens[SEG_BLOCK];
    for (uint32_t k = 0; k < SEG_BLOCK; k++) {
        tfs[k] = k + 1;
        lens[k] = 10 * (k + 1);
    }
    check_frontier(tfs, lens, SEG_BLOCK, "staircase");
    tfs[0] = 7;
    lens[0] = 3;
    check_frontier(tfs, lens, 1, "one document");
    impact one[IMPACTS_MAX];
    cr_assert_eq(impacts_frontier(tfs, lens, 1, one), 1);
    cr_assert_eq(one[0].tf, 7);
    cr_assert_eq(one[0].len, 3);
    cr_assert_eq(impacts_frontier(tfs, lens, 0, one), 0);
}

static float best_score(const bm25_model *m, const bm25_term *t, const impact *p, size_t n)
{
    float best = 0;
    for (size_t i = 0; i < n; i++) {
        float x = bm25_score(t, p[i].tf, bm25_doc_norm(m, p[i].len));
        if (x > best) best = x;
    }
    return best;
}

Test(impacts, bound_holds_for_every_model)
{
    static const bm25_variant variants[] = {BM25_LUCENE, BM25_ROBERTSON, BM25_ATIRE, BM25_L,
                                            BM25_PLUS};
    static const float k1s[] = {0.3f, 0.9f, 1.2f, 2.0f, 10.0f};
    static const float bs[] = {0.0f, 0.4f, 0.75f, 1.0f};
    uint32_t tfs[SEG_BLOCK], lens[SEG_BLOCK];
    g_rng = 77;
    size_t exact = 0;
    for (int round = 0; round < 60; round++) {
        random_block(tfs, lens, SEG_BLOCK, round % 2 ? 6 : 60, round % 3 ? 400 : 5000);
        impact fr[IMPACTS_MAX], all[SEG_BLOCK];
        size_t nf = impacts_frontier(tfs, lens, SEG_BLOCK, fr);
        int is_exact = brute_frontier(tfs, lens, SEG_BLOCK, all) <= IMPACTS_MAX;
        for (size_t v = 0; v < sizeof variants / sizeof variants[0]; v++)
            for (size_t i = 0; i < sizeof k1s / sizeof k1s[0]; i++)
                for (size_t j = 0; j < sizeof bs / sizeof bs[0]; j++)
                    for (int norms = 0; norms < 2; norms++) {
                        bm25_params p = {variants[v], k1s[i], bs[j], 0.5f, norms};
                        bm25_model m;
                        se_error err;
                        uint64_t ndocs = 100000;
                        cr_assert_eq(bm25_model_init(&m, &p, ndocs, ndocs * (20 + round * 7), &err),
                                     SE_OK);
                        /* A term in 1% of the documents: positive idf for every variant. */
                        bm25_term t = bm25_term_make(&m, bm25_idf(&m, 1000), 1.0f);
                        float bound = best_score(&m, &t, fr, nf), top = 0;
                        for (size_t k = 0; k < SEG_BLOCK; k++) {
                            float x = bm25_score(&t, tfs[k], bm25_doc_norm(&m, lens[k]));
                            if (x > top) top = x;
                            /* The searcher allows the same relative margin for rounding. */
                            cr_assert((double)bound * (1 + 1e-5) >= x,
                                      "round %d variant %zu k1 %g b %g norms %d: document %zu "
                                      "scores %.9g above the bound %.9g",
                                      round, v, k1s[i], bs[j], norms, k, x, bound);
                        }
                        if (is_exact) {
                            cr_assert((double)bound <= (double)top * (1 + 1e-6) &&
                                          (double)bound >= (double)top * (1 - 1e-6),
                                      "round %d variant %zu k1 %g b %g: bound %.9g, best "
                                      "document %.9g",
                                      round, v, k1s[i], bs[j], bound, top);
                            exact++;
                        }
                    }
    }
    cr_assert_gt(exact, 1000, "most random blocks have exact frontiers");
}

Test(impacts, coding_round_trip_and_malformed_input)
{
    uint32_t tfs[SEG_BLOCK], lens[SEG_BLOCK];
    g_rng = 5;
    for (int round = 0; round < 500; round++) {
        random_block(tfs, lens, SEG_BLOCK, round % 2 ? 5 : 100000, round % 5 ? 300 : UINT32_MAX);
        impact fr[IMPACTS_MAX], back[IMPACTS_MAX];
        size_t n = impacts_frontier(tfs, lens, SEG_BLOCK, fr);
        uint8_t buf[IMPACTS_ENCODED_MAX];
        size_t len = impacts_encode(fr, n, buf);
        cr_assert(len >= 2 * n && len <= IMPACTS_ENCODED_MAX);
        cr_assert_eq(impacts_decode(buf, buf + len, back), n, "round %d", round);
        cr_assert_eq(memcmp(fr, back, n * sizeof *fr), 0, "round %d", round);
        /* Cut anywhere inside: never more pairs than were whole, and a cut
         * inside a pair is refused. */
        for (size_t cut = 0; cut < len; cut++) {
            size_t got = impacts_decode(buf, buf + cut, back);
            cr_assert(got < n, "round %d cut %zu", round, cut);
        }
    }
    uint8_t b[64];
    impact out[IMPACTS_MAX];
    cr_assert_eq(impacts_decode(b, b, out), 0, "empty");
    b[0] = 0; /* tf 0 */
    b[1] = 5;
    cr_assert_eq(impacts_decode(b, b + 2, out), 0, "tf 0");
    b[0] = 1;
    cr_assert_eq(impacts_decode(b, b + 1, out), 0, "half a pair");
    memset(b, 1, sizeof b); /* 32 pairs (1, 1), (+2, +2) ...: too many */
    cr_assert_eq(impacts_decode(b, b + 2 * IMPACTS_MAX, out), IMPACTS_MAX);
    cr_assert_eq(impacts_decode(b, b + 2 * IMPACTS_MAX + 2, out), 0, "more than IMPACTS_MAX");
    /* tf 2^32 - 1, then one more: past 2^32 - 1. */
    uint8_t big[] = {0xff, 0xff, 0xff, 0xff, 0x0f, 1, 0, 0};
    cr_assert_eq(impacts_decode(big, big + 2 + 4, out), 1);
    cr_assert_eq(out[0].tf, UINT32_MAX);
    cr_assert_eq(impacts_decode(big, big + sizeof big, out), 0, "tf overflow");
    uint8_t longlen[] = {1, 0xff, 0xff, 0xff, 0xff, 0x0f, 0, 0};
    cr_assert_eq(impacts_decode(longlen, longlen + 6, out), 1);
    cr_assert_eq(impacts_decode(longlen, longlen + sizeof longlen, out), 0, "length overflow");
}

/* ---- through the segment writer and the postings cursor ---- */

#define NDOCS 6000
#define NTERM 3

static char g_tmp[1024];
static uint32_t g_len[NDOCS];
/* term t: documents where (d % (t + 1)) == 0, tf from the seed */
static uint32_t g_tf[NTERM][NDOCS];

static void setup(void)
{
    char *dir = fs_mkdtemp("test_impacts_");
    cr_assert_not_null(dir);
    snprintf(g_tmp, sizeof g_tmp, "%s", dir);
    free(dir);
}

static void teardown(void)
{
    if (g_tmp[0]) fs_rm_rf(g_tmp);
}

static void write_segment(seg_meta *meta)
{
    segment_writer *w;
    se_error err;
    cr_assert_eq(segw_create(&w, g_tmp, 1, 1, &err), SE_OK, "%s", err.msg);
    g_rng = 42;
    for (uint32_t d = 0; d < NDOCS; d++) {
        char id[32];
        int n = snprintf(id, sizeof id, "doc%u", d);
        seg_document doc = {id, (size_t)n, "", 0, "x", 1};
        g_len[d] = 1 + below(d % 7 == 0 ? 3000 : 200);
        cr_assert_eq(segw_add_document(w, &doc, g_len[d], 0, d, &err), SE_OK, "%s", err.msg);
    }
    uint32_t pos[64];
    for (uint32_t p = 0; p < 64; p++) pos[p] = p * 2;
    for (int t = 0; t < NTERM; t++) {
        char term[8];
        int n = snprintf(term, sizeof term, "t%d", t);
        cr_assert_eq(segw_begin_term(w, term, (size_t)n, &err), SE_OK, "%s", err.msg);
        for (uint32_t d = 0; d < NDOCS; d++) {
            g_tf[t][d] = 0;
            if (d % (uint32_t)(t + 1) != 0) continue;
            g_tf[t][d] = 1 + (below(4) == 0 ? below(t == 2 ? 60 : 6) : 0);
            cr_assert_eq(segw_add_posting(w, d, g_tf[t][d], pos, &err), SE_OK, "%s", err.msg);
        }
        cr_assert_eq(segw_end_term(w, &err), SE_OK, "%s", err.msg);
    }
    cr_assert_eq(segw_finish(w, meta, &err), SE_OK, "%s", err.msg);
}

static segment *open_segment(const seg_meta *meta)
{
    segment *s;
    se_error err;
    cr_assert_eq(segment_open(&s, g_tmp, meta, 1, &err), SE_OK, "%s", err.msg);
    return s;
}

static void lookup(const segment *s, int t, seg_term_info *info)
{
    char term[8];
    int n = snprintf(term, sizeof term, "t%d", t);
    se_error err;
    cr_assert_eq(segment_lookup(s, term, (size_t)n, info, &err), 1);
}

TestSuite(impacts_segment, .init = setup, .fini = teardown);

Test(impacts_segment, every_block_stores_its_frontier)
{
    seg_meta meta;
    write_segment(&meta);
    segment *s = open_segment(&meta);
    postings_cursor *c = malloc(sizeof *c);
    cr_assert_not_null(c);
    for (int t = 0; t < NTERM; t++) {
        seg_term_info info;
        lookup(s, t, &info);
        postings_cursor_open(c, s, &info);
        uint32_t nb = (info.df + SEG_BLOCK - 1) / SEG_BLOCK;
        cr_assert_eq(c->nblocks, nb);
        uint32_t docs[NDOCS], tfs[NDOCS], lens[NDOCS], n = 0;
        for (uint32_t d = 0; d < NDOCS; d++)
            if (g_tf[t][d]) {
                docs[n] = d;
                tfs[n] = g_tf[t][d];
                lens[n++] = g_len[d];
            }
        cr_assert_eq(n, info.df);
        uint32_t prev_block = 0;
        for (uint32_t b = 0; b < nb; b++) {
            uint32_t lo = b * SEG_BLOCK, cnt = n - lo < SEG_BLOCK ? n - lo : SEG_BLOCK;
            impact want[IMPACTS_MAX], got[IMPACTS_MAX];
            size_t nw = impacts_frontier(tfs + lo, lens + lo, cnt, want);
            cr_assert_eq(postings_block_impacts(c, b, got), nw, "term %d block %u", t, b);
            cr_assert_eq(memcmp(got, want, nw * sizeof *want), 0, "term %d block %u", t, b);
            cr_assert_eq(postings_block_last(c, b), docs[lo + cnt - 1]);
            /* Shallow moves: the block holding a document, from any earlier block. */
            cr_assert_eq(postings_block_find(c, prev_block, docs[lo]), b);
            cr_assert_eq(postings_block_find(c, 0, docs[lo + cnt - 1]), b);
            prev_block = b;
        }
        cr_assert_eq(postings_block_find(c, 0, docs[n - 1] + 1), nb, "past the end");
        cr_assert_eq(postings_block_impacts(c, nb, NULL), 0);
        cr_assert_eq(c->status, SE_OK);
        /* The cursor still reads the documents after the impacts. */
        uint32_t k = 0;
        for (uint32_t d = c->doc; d != POSTINGS_END; d = postings_cursor_next(c), k++) {
            cr_assert_eq(d, docs[k]);
            cr_assert_eq(postings_cursor_freq(c), tfs[k]);
        }
        cr_assert_eq(k, n);
        cr_assert_eq(c->status, SE_OK);
    }
    free(c);
    segment_close(s);
}

/* Rewrite .doc with `edit` applied to the term's bytes at `at`, with the
 * footer made to match, and open it without the manifest's checksum. */
static segment *damage(const seg_meta *meta, uint64_t at, const uint8_t *bytes, size_t n)
{
    char path[PATH_MAX];
    cr_assert_eq(seg_file_path(path, sizeof path, g_tmp, 1, SEG_POST), SE_OK);
    size_t len;
    char *data = fs_read_file(path, &len);
    cr_assert_not_null(data);
    cr_assert(at + n <= len - FIO_FOOTER_SIZE);
    memcpy(data + at, bytes, n);
    fio_put64(data + len - 8, XXH3_64bits(data, len - 8));
    cr_assert_eq(fs_write_file(path, data, len), 0);
    free(data);
    segment *s;
    se_error err;
    cr_assert_eq(segment_open(&s, g_tmp, meta, 0, &err), SE_OK, "%s", err.msg);
    return s;
}

Test(impacts_segment, damaged_impacts_are_refused)
{
    seg_meta meta;
    write_segment(&meta);
    char path[PATH_MAX], saved[PATH_MAX + 8];
    cr_assert_eq(seg_file_path(path, sizeof path, g_tmp, 1, SEG_POST), SE_OK);
    snprintf(saved, sizeof saved, "%s.saved", path);
    size_t orig_len;
    char *orig = fs_read_file(path, &orig_len);
    cr_assert_not_null(orig);
    segment *s = open_segment(&meta);
    seg_term_info info;
    lookup(s, 0, &info);
    segment_close(s);
    uint32_t nb = (info.df + SEG_BLOCK - 1) / SEG_BLOCK;
    uint64_t table = info.doc_off, area = table + (uint64_t)nb * SEG_SKIP_ENTRY;
    uint8_t e[4];
    postings_cursor *c = malloc(sizeof *c);
    cr_assert_not_null(c);
    impact got[IMPACTS_MAX];
    struct {
        const char *what;
        uint64_t at;
        uint8_t bytes[4];
        size_t n;
        int at_open; /* the cursor refuses it when opened */
    } cases[] = {
        {"a pair cut by the block's end", table + 12, {0}, 4, 0},
        {"tf 0", area, {0}, 1, 0},
        {"block 0 impacts end past the area", table + 12, {0xff, 0xff, 0, 0}, 4, 0},
        {"block 0 impacts end before they start", table + 12, {0, 0, 0, 0}, 4, 0},
        {"last block impacts end past the term",
         table + (uint64_t)(nb - 1) * SEG_SKIP_ENTRY + 12,
         {0xff, 0xff, 0xff, 0x7f},
         4,
         1},
        {"last block impacts end inside the table",
         table + (uint64_t)(nb - 1) * SEG_SKIP_ENTRY + 12,
         {4, 0, 0, 0},
         4,
         1},
    };
    fio_put32(cases[0].bytes, nb * SEG_SKIP_ENTRY + 1); /* one byte of impacts */
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cr_assert_eq(fs_write_file(path, orig, orig_len), 0);
        memcpy(e, cases[i].bytes, 4);
        s = damage(&meta, cases[i].at, e, cases[i].n);
        postings_cursor_open(c, s, &info);
        if (cases[i].at_open) {
            cr_assert_eq(c->status, SE_CORRUPT, "%s: accepted when opened", cases[i].what);
            cr_assert_eq(c->doc, POSTINGS_END, "%s", cases[i].what);
        } else {
            cr_assert_eq(c->status, SE_OK, "%s", cases[i].what);
            cr_assert_eq(postings_block_impacts(c, 0, got), 0, "%s: impacts accepted",
                         cases[i].what);
            cr_assert_eq(c->status, SE_CORRUPT, "%s", cases[i].what);
            cr_assert_eq(c->doc, POSTINGS_END, "%s: the cursor goes on", cases[i].what);
        }
        segment_close(s);
    }
    free(orig);
    free(c);
}

/* A full block's tfs are decoded only when first read (postings.h): a
 * malformed tf block whose header still gives the right size is let
 * through when the block is loaded, so reading a tf (or positions) must
 * then end the cursor with SE_CORRUPT. */
Test(impacts_segment, damaged_tfs_are_refused_when_read)
{
    /* 128 documents, one block: tf 1 everywhere but tf 1000 for document
     * 5, so the tfs' patched block is w = 0 with one exception. */
    segment_writer *w;
    se_error err;
    cr_assert_eq(segw_create(&w, g_tmp, 1, 1, &err), SE_OK, "%s", err.msg);
    for (uint32_t d = 0; d < SEG_BLOCK; d++) {
        char id[32];
        int n = snprintf(id, sizeof id, "doc%u", d);
        seg_document doc = {id, (size_t)n, "", 0, "x", 1};
        cr_assert_eq(segw_add_document(w, &doc, 2000, 0, d, &err), SE_OK, "%s", err.msg);
    }
    static uint32_t pos[1000];
    for (uint32_t p = 0; p < 1000; p++) pos[p] = p;
    cr_assert_eq(segw_begin_term(w, "x", 1, &err), SE_OK, "%s", err.msg);
    for (uint32_t d = 0; d < SEG_BLOCK; d++)
        cr_assert_eq(segw_add_posting(w, d, d == 5 ? 1000 : 1, pos, &err), SE_OK, "%s", err.msg);
    cr_assert_eq(segw_end_term(w, &err), SE_OK, "%s", err.msg);
    seg_meta meta;
    cr_assert_eq(segw_finish(w, &meta, &err), SE_OK, "%s", err.msg);

    char path[PATH_MAX];
    cr_assert_eq(seg_file_path(path, sizeof path, g_tmp, 1, SEG_POST), SE_OK);
    size_t orig_len;
    char *orig = fs_read_file(path, &orig_len);
    cr_assert_not_null(orig);
    segment *s = open_segment(&meta);
    seg_term_info info;
    cr_assert_eq(segment_lookup(s, "x", 1, &info, &err), 1);
    postings_cursor *c = malloc(sizeof *c);
    cr_assert_not_null(c);
    postings_cursor_open(c, s, &info);
    cr_assert_eq(c->status, SE_OK);
    cr_assert_eq(c->count, SEG_BLOCK);
    /* The block's data: the gaps' patched block, then the tfs'. */
    const uint8_t *gaps = c->start + c->impacts_end;
    size_t gsize = codec_patched_size(gaps, c->end);
    cr_assert_gt(gsize, 0);
    uint64_t tfs_at = info.doc_off + c->impacts_end + gsize;
    const uint8_t *tfs = gaps + gsize;
    cr_assert_eq(tfs[0], 0, "tfs' width");
    cr_assert_eq(tfs[1], 1, "tfs' exceptions");
    cr_assert_eq(tfs[3], 5, "the exception's index");
    segment_close(s);

    /* The exception's index made 200: same size, not decodable. */
    uint32_t out[1000];
    for (int reader = 0; reader < 2; reader++) {
        cr_assert_eq(fs_write_file(path, orig, orig_len), 0);
        uint8_t bad = 200;
        s = damage(&meta, tfs_at + 3, &bad, 1);
        postings_cursor_open(c, s, &info);
        cr_assert_eq(c->status, SE_OK, "the tfs are not read when the block is loaded");
        cr_assert_eq(c->doc, 0);
        cr_assert_eq(postings_cursor_advance(c, 7), 7, "documents are still read");
        if (reader == 0)
            cr_assert_eq(postings_cursor_freq(c), 0);
        else
            cr_assert_eq(postings_cursor_positions(c, out, 1000), 0);
        cr_assert_eq(c->status, SE_CORRUPT);
        cr_assert_eq(c->doc, POSTINGS_END);
        segment_close(s);
    }

    /* Undamaged, the same reads give the tfs and positions. */
    cr_assert_eq(fs_write_file(path, orig, orig_len), 0);
    s = open_segment(&meta);
    postings_cursor_open(c, s, &info);
    cr_assert_eq(postings_cursor_advance(c, 5), 5);
    cr_assert_eq(postings_cursor_positions(c, out, 1000), 1000);
    cr_assert_eq(out[999], 999);
    cr_assert_eq(postings_cursor_freq(c), 1000);
    cr_assert_eq(postings_cursor_next(c), 6);
    cr_assert_eq(postings_cursor_freq(c), 1);
    cr_assert_eq(c->status, SE_OK);
    segment_close(s);
    free(orig);
    free(c);
}
