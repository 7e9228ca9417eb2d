/*
 * test_bm25.c - the ranking math of searcher/search.c on tiny indexes.
 *
 * Small collections are indexed through the real pipeline (build_index over
 * a JSONL file in a mkdtemp directory), searched with searcher_run, and the
 * scores compared with BM25 values worked out by hand below (every step is
 * written out; the numbers were not produced by re-running the formula in
 * code):
 *     idf   = ln(1 + (N - df + 0.5) / (df + 0.5))
 *     K     = k1 * (1 - b + b * dl / avgdl)
 *     score = idf * tf / (tf + K)
 * for (k1, b) = (0.9, 0.4) and (1.2, 0.75).  A phrase scores
 * with the sum of its terms' idfs and tf = its number of occurrences.
 * Then every other variant of searcher/bm25.h (robertson with its negative
 * idf, atire, bm25l, bm25plus), Lucene's rounded lengths, repeated query
 * words (scored once with a weight), and --literal's split words.
 * Then phrase matching: repeated terms ("dog dog", "dog cat dog"), no match
 * across the title/text boundary; and ties, which must come out ordered by
 * the XXH3-64 of the document id, within one segment and across segments
 * (an index written with segment_writer and a hand-made manifest).
 *
 * The words used (cat, dog, bird, fish, red) are their own stems.
 */
#include <criterion/criterion.h>

#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "common/fileio.h"
#include "common/index.h"
#include "common/manifest.h"
#include "common/segment.h"
#include "common/status.h"
#include "indexer/build.h"
#include "indexer/input.h"
#include "indexer/segment_writer.h"
#include "indexer/verify.h"
#include "searcher/search.h"
#include "tests/support/fsutil.h"

/* ------------------------------------------------------------- fixture */

static char g_tmp[1024];

static void setup(void)
{
    char *dir = fs_mkdtemp("test_bm25_");
    cr_assert_not_null(dir);
    snprintf(g_tmp, sizeof g_tmp, "%s", dir);
    free(dir);
}

static void teardown(void)
{
    if (g_tmp[0]) fs_rm_rf(g_tmp);
}

TestSuite(bm25, .init = setup, .fini = teardown);

static const char *P(const char *rel)
{
    static char ring[8][PATH_MAX];
    static int next;
    char *b = ring[next++ % 8];
    snprintf(b, PATH_MAX, "%s/%s", g_tmp, rel);
    return b;
}

/* ------------------------------------------------------------- helpers */

/* Index the JSONL text into g_tmp/<name> and open it. */
static index_reader *build(const char *name, const char *jsonl)
{
    char src[PATH_MAX];
    snprintf(src, sizeof src, "%s/%s.jsonl", g_tmp, name);
    FILE *f = fopen(src, "w");
    cr_assert_not_null(f);
    fputs(jsonl, f);
    cr_assert_eq(fclose(f), 0);
    const char *paths[] = {src};
    input_options io = {0};
    input_reader *in;
    se_error err = {0};
    cr_assert_eq(input_open(&in, paths, 1, &io, &err), SE_OK, "%s", err.msg);
    build_options bo = {0};
    build_stats st;
    cr_assert_eq(build_index(P(name), in, &bo, &st, &err), SE_OK, "%s", err.msg);
    input_close(in);
    index_reader *ix;
    cr_assert_eq(index_open(&ix, P(name), &err), SE_OK, "%s", err.msg);
    return ix;
}

typedef struct hit {
    char id[64];
    float score;
} hit;

/* Run a query; the hits' ids and scores go to out[], the count is returned
 * and *matches gets the number of matching documents. */
static size_t run_opt(const index_reader *ix, const char *q, const search_options *opt, hit *out,
                      uint64_t *matches)
{
    searcher *s;
    se_error err = {0};
    cr_assert_eq(searcher_new(&s, ix, &err), SE_OK, "%s", err.msg);
    search_result res;
    cr_assert_eq(searcher_run(s, q, strlen(q), opt, &res, &err), SE_OK, "%s: %s", q, err.msg);
    seg_store_buffer buf;
    seg_store_buffer_init(&buf);
    for (size_t i = 0; i < res.nhits; i++) {
        seg_document d;
        const search_hit *h = &res.hits[i];
        cr_assert_lt(h->segment, ix->nsegments);
        cr_assert_eq(segment_document(ix->segments[h->segment], h->doc, &buf, &d, &err), SE_OK);
        cr_assert_lt(d.id_len, sizeof out[i].id);
        memcpy(out[i].id, d.id, d.id_len);
        out[i].id[d.id_len] = 0;
        out[i].score = h->score;
        cr_assert_eq(h->id_hash, XXH3_64bits(d.id, d.id_len));
    }
    seg_store_buffer_free(&buf);
    if (matches) *matches = res.matches;
    size_t n = res.nhits;
    searcher_free(s);
    return n;
}

static size_t run(const index_reader *ix, const char *q, uint32_t k, float k1, float b, hit *out,
                  uint64_t *matches)
{
    search_options opt = {.k = k, .k1 = k1, .b = b};
    return run_opt(ix, q, &opt, out, matches);
}

#define TOL 2e-6

/* The hits must be exactly ids[] in this order with these scores. */
static void expect(const index_reader *ix, const char *q, float k1, float b, size_t n,
                   const char *const *ids, const double *scores)
{
    hit h[16];
    uint64_t matches;
    size_t got = run(ix, q, 10, k1, b, h, &matches);
    cr_assert_eq(got, n, "%s (k1=%g b=%g): %zu hits, want %zu", q, k1, b, got, n);
    cr_assert_eq(matches, n, "%s: matches", q);
    for (size_t i = 0; i < n; i++) {
        cr_assert_str_eq(h[i].id, ids[i], "%s (k1=%g b=%g): hit %zu is %s, want %s", q, k1, b, i,
                         h[i].id, ids[i]);
        cr_assert(fabs(h[i].score - scores[i]) < TOL, "%s (k1=%g b=%g): %s scores %.7f, want %.6f",
                  q, k1, b, ids[i], h[i].score, scores[i]);
    }
}

/* The same with any options, both pruned and exhaustive. */
static void expect_opt(const index_reader *ix, const char *q, search_options opt, size_t n,
                       const char *const *ids, const double *scores)
{
    for (int exhaustive = 0; exhaustive < 2; exhaustive++) {
        hit h[16];
        uint64_t matches;
        opt.k = 10;
        opt.exhaustive = exhaustive;
        const char *v = bm25_variant_name(opt.variant);
        size_t got = run_opt(ix, q, &opt, h, &matches);
        cr_assert_eq(got, n, "%s (%s, exhaustive %d): %zu hits, want %zu", q, v, exhaustive, got,
                     n);
        for (size_t i = 0; i < n; i++) {
            cr_assert_str_eq(h[i].id, ids[i], "%s (%s): hit %zu is %s, want %s", q, v, i, h[i].id,
                             ids[i]);
            cr_assert(fabs(h[i].score - scores[i]) < TOL, "%s (%s): %s scores %.7f, want %.6f", q,
                      v, ids[i], h[i].score, scores[i]);
        }
    }
}

/* ------------------------------------------------------------- BM25 */

/*
 * Collection A: N = 4 documents, no titles.
 *   a1 "cat dog cat"                dl 3   cat 2, dog 1
 *   a2 "dog bird"                   dl 2   dog 1, bird 1
 *   a3 "cat bird bird cat cat red"  dl 6   cat 3, bird 2, red 1
 *   a4 "cat fish"                   dl 2   cat 1, fish 1
 * total 13, avgdl = 13 / 4 = 3.25.
 * df: cat 3, dog 2, bird 2, red 1, fish 1.
 *
 * idf(df=3) = ln(1 + (4 - 3 + 0.5) / 3.5) = ln(1 + 0.428571) = ln 1.428571 = 0.356675
 * idf(df=2) = ln(1 + (4 - 2 + 0.5) / 2.5) = ln 2                          = 0.693147
 * idf(df=1) = ln(1 + (4 - 1 + 0.5) / 1.5) = ln 3.333333                   = 1.203973
 */
static const char corpus_a[] = "{\"id\": \"a1\", \"text\": \"cat dog cat\"}\n"
                               "{\"id\": \"a2\", \"text\": \"dog bird\"}\n"
                               "{\"id\": \"a3\", \"text\": \"cat bird bird cat cat red\"}\n"
                               "{\"id\": \"a4\", \"text\": \"cat fish\"}\n";

Test(bm25, k1_09_b_04)
{
    index_reader *ix = build("a", corpus_a);
    cr_assert_eq(ix->ndocs, 4);
    cr_assert_eq(ix->total_len, 13);
    /*
     * k1 = 0.9, b = 0.4:  K(dl) = 0.9 * (0.6 + 0.4 * dl / 3.25)
     *   K(2) = 0.9 * (0.6 + 0.246154) = 0.9 * 0.846154 = 0.761538
     *   K(3) = 0.9 * (0.6 + 0.369231) = 0.9 * 0.969231 = 0.872308
     *   K(6) = 0.9 * (0.6 + 0.738462) = 0.9 * 1.338462 = 1.204615
     * "cat":
     *   a3: 0.356675 * 3 / (3 + 1.204615) = 1.070025 / 4.204615 = 0.254488
     *   a1: 0.356675 * 2 / (2 + 0.872308) = 0.713350 / 2.872308 = 0.248354
     *   a4: 0.356675 * 1 / (1 + 0.761538) = 0.356675 / 1.761538 = 0.202479
     */
    const char *cat_ids[] = {"a3", "a1", "a4"};
    const double cat[] = {0.254488, 0.248354, 0.202479};
    expect(ix, "cat", 0.9f, 0.4f, 3, cat_ids, cat);
    /*
     * "dog":
     *   a2: 0.693147 * 1 / (1 + 0.761538) = 0.693147 / 1.761538 = 0.393490
     *   a1: 0.693147 * 1 / (1 + 0.872308) = 0.693147 / 1.872308 = 0.370210
     * "cat dog" (either): a1 = 0.248354 + 0.370210 = 0.618564, a2 = 0.393490,
     *   a3 = 0.254488, a4 = 0.202479.
     */
    const char *or_ids[] = {"a1", "a2", "a3", "a4"};
    const double or_scores[] = {0.618564, 0.393490, 0.254488, 0.202479};
    expect(ix, "cat dog", 0.9f, 0.4f, 4, or_ids, or_scores);
    /* "+cat +dog": only a1, same sum. */
    const char *and_ids[] = {"a1"};
    const double and_scores[] = {0.618564};
    expect(ix, "+cat +dog", 0.9f, 0.4f, 1, and_ids, and_scores);
    /* "fish": a4 only: 1.203973 / (1 + 0.761538) = 1.203973 / 1.761538 = 0.683478 */
    const char *fish_ids[] = {"a4"};
    const double fish[] = {0.683478};
    expect(ix, "fish", 0.9f, 0.4f, 1, fish_ids, fish);
    /*
     * Phrase "bird cat": in a3 once (bird at 3, cat at 4).
     *   idf = 0.693147 + 0.356675 = 1.049822
     *   a3: 1.049822 * 1 / (1 + 1.204615) = 1.049822 / 2.204615 = 0.476193
     */
    const char *ph_ids[] = {"a3"};
    const double ph[] = {0.476193};
    expect(ix, "\"bird cat\"", 0.9f, 0.4f, 1, ph_ids, ph);
    /* A word absent from the index: nothing. */
    expect(ix, "zebra", 0.9f, 0.4f, 0, NULL, NULL);
    index_close(ix);
}

Test(bm25, k1_12_b_075)
{
    index_reader *ix = build("a", corpus_a);
    /*
     * k1 = 1.2, b = 0.75:  K(dl) = 1.2 * (0.25 + 0.75 * dl / 3.25)
     *   K(2) = 1.2 * (0.25 + 0.461538) = 1.2 * 0.711538 = 0.853846
     *   K(3) = 1.2 * (0.25 + 0.692308) = 1.2 * 0.942308 = 1.130769
     *   K(6) = 1.2 * (0.25 + 1.384615) = 1.2 * 1.634615 = 1.961538
     * "cat" - the longer a3 now falls behind a1:
     *   a1: 0.713350 / (2 + 1.130769) = 0.713350 / 3.130769 = 0.227851
     *   a3: 1.070025 / (3 + 1.961538) = 1.070025 / 4.961538 = 0.215664
     *   a4: 0.356675 / (1 + 0.853846) = 0.356675 / 1.853846 = 0.192397
     */
    const char *cat_ids[] = {"a1", "a3", "a4"};
    const double cat[] = {0.227851, 0.215664, 0.192397};
    expect(ix, "cat", 1.2f, 0.75f, 3, cat_ids, cat);
    /*
     * "dog":
     *   a2: 0.693147 / (1 + 0.853846) = 0.693147 / 1.853846 = 0.373897
     *   a1: 0.693147 / (1 + 1.130769) = 0.693147 / 2.130769 = 0.325304
     * "cat dog": a1 = 0.227851 + 0.325304 = 0.553155, a2 = 0.373897,
     *   a3 = 0.215664, a4 = 0.192397.
     */
    const char *or_ids[] = {"a1", "a2", "a3", "a4"};
    const double or_scores[] = {0.553155, 0.373897, 0.215664, 0.192397};
    expect(ix, "cat dog", 1.2f, 0.75f, 4, or_ids, or_scores);
    /* "fish": 1.203973 / (1 + 0.853846) = 1.203973 / 1.853846 = 0.649446 */
    const char *fish_ids[] = {"a4"};
    const double fish[] = {0.649446};
    expect(ix, "fish", 1.2f, 0.75f, 1, fish_ids, fish);
    /* "bird cat": 1.049822 / (1 + 1.961538) = 1.049822 / 2.961538 = 0.354485 */
    const char *ph_ids[] = {"a3"};
    const double ph[] = {0.354485};
    expect(ix, "\"bird cat\"", 1.2f, 0.75f, 1, ph_ids, ph);
    /*
     * b = 0: no length normalisation, K = k1 = 1.2 everywhere.
     *   "cat": a3 0.356675 * 3 / 4.2 = 0.254768, a1 0.713350 / 3.2 = 0.222922,
     *          a4 0.356675 / 2.2 = 0.162125
     */
    const double flat[] = {0.254768, 0.222922, 0.162125};
    const char *flat_ids[] = {"a3", "a1", "a4"};
    expect(ix, "cat", 1.2f, 0.0f, 3, flat_ids, flat);
    index_close(ix);
}

/* ------------------------------------------------------------- variants */

/*
 * Collection A with k1 = 1.2, b = 0.75, every variant of bm25.h.
 *   L(dl) = 0.25 + 0.75 * dl / 3.25:  L(2) = 0.711538, L(3) = 0.942308,
 *   L(6) = 1.634615;  K = 1.2 L:  K(2) = 0.853846, K(3) = 1.130769,
 *   K(6) = 1.961538.   "cat": df 3; a1 tf 2 dl 3, a3 tf 3 dl 6, a4 tf 1 dl 2.
 */
Test(bm25, variants)
{
    index_reader *ix = build("a", corpus_a);
    search_options o = {.k1 = 1.2f, .b = 0.75f};
    const char *cat_ids[] = {"a1", "a3", "a4"};
    /*
     * robertson: idf = ln((4 - 3 + 0.5) / 3.5) = ln 0.428571 = -0.847298, so
     * more occurrences score lower and the order turns around:
     *   a4: -0.847298 / 1.853846 = -0.457049
     *   a3: -0.847298 * 3 / (3 + 1.961538) = -2.541894 / 4.961538 = -0.512320
     *   a1: -0.847298 * 2 / (2 + 1.130769) = -1.694596 / 3.130769 = -0.541271
     */
    o.variant = BM25_ROBERTSON;
    const char *rob_ids[] = {"a4", "a3", "a1"};
    const double rob[] = {-0.457049, -0.512320, -0.541271};
    expect_opt(ix, "cat", o, 3, rob_ids, rob);
    /* "fish" (df 1): idf = ln(3.5 / 1.5) = ln 2.333333 = 0.847298;
     *   a4: 0.847298 / (1 + 0.853846) = 0.457049 */
    const char *fish_ids[] = {"a4"};
    const double rob_fish[] = {0.457049};
    expect_opt(ix, "fish", o, 1, fish_ids, rob_fish);
    /*
     * atire: idf = ln(4 / 3) = 0.287682, times k1 + 1 = 2.2: 0.632901
     *   a1: 0.632901 * 2 / 3.130769 = 1.265801 / 3.130769 = 0.404310
     *   a3: 0.632901 * 3 / 4.961538 = 1.898702 / 4.961538 = 0.382684
     *   a4: 0.632901 / 1.853846 = 0.341399
     */
    o.variant = BM25_ATIRE;
    const double atire[] = {0.404310, 0.382684, 0.341399};
    expect_opt(ix, "cat", o, 3, cat_ids, atire);
    /* "fish": idf = ln 4 = 1.386294; a4: 1.386294 * 2.2 / 1.853846 = 1.645146 */
    const double atire_fish[] = {1.645146};
    expect_opt(ix, "fish", o, 1, fish_ids, atire_fish);
    /*
     * bm25l, delta 0.5: idf = ln(5 / 3.5) = 0.356675, times 2.2: 0.784685;
     * c = tf / L, score = 0.784685 (c + 0.5) / (1.2 + c + 0.5)
     *   a1: c = 2 / 0.942308 = 2.122449; 2.622449 / 3.822449 = 0.686065 -> 0.538345
     *   a3: c = 3 / 1.634615 = 1.835294; 2.335294 / 3.535294 = 0.660566 -> 0.518336
     *   a4: c = 1 / 0.711538 = 1.405405; 1.905405 / 3.105405 = 0.613577 -> 0.481465
     */
    o.variant = BM25_L;
    o.delta = 0.5f;
    const double bl[] = {0.538345, 0.518336, 0.481465};
    expect_opt(ix, "cat", o, 3, cat_ids, bl);
    /*
     * bm25plus, delta 1: idf = ln(5 / 3) = 0.510826;
     * score = 0.510826 (2.2 tf / (tf + K) + 1)
     *   a1: 4.4 / 3.130769 = 1.405405; 2.405405 * 0.510826 = 1.228743
     *   a3: 6.6 / 4.961538 = 1.330233; 2.330233 * 0.510826 = 1.190343
     *   a4: 2.2 / 1.853846 = 1.186722; 2.186722 * 0.510826 = 1.117034
     */
    o.variant = BM25_PLUS;
    o.delta = 1.0f;
    const double bp[] = {1.228743, 1.190343, 1.117034};
    expect_opt(ix, "cat", o, 3, cat_ids, bp);
    /*
     * delta 0 makes bm25plus atire with idf ln(5 / df).  "+cat +dog -bird":
     * only a1.  cat: 0.510826 * 1.405405 = 0.717917; dog: idf = ln(5 / 2) =
     * 0.916291, 2.2 / (1 + 1.130769) = 1.032491, 0.916291 * 1.032491 =
     * 0.946062; sum 1.663979.
     */
    o.delta = 0;
    const char *a1[] = {"a1"};
    const double bp0[] = {1.663979};
    expect_opt(ix, "+cat +dog -bird", o, 1, a1, bp0);
    index_close(ix);
}

/*
 * Lucene's one-byte norms keep 4 significant bits of dl - 24 from 40 up.
 *   39 -> 39, 40 -> 40, 41: 17 = 10001b -> 10000b = 16 -> 40,
 *   100: 76 = 1001100b -> 1001000b = 72 -> 96,
 *   1000: 976 = 1111010000b -> 1111000000b = 960 -> 984,
 *   2^32 - 1: 4294967271 -> f0000000h = 4026531840 -> 4026531864.
 */
Test(bm25, lucene_lengths)
{
    const uint32_t in[] = {0, 1, 23, 24, 39, 40, 41, 100, 1000, UINT32_MAX};
    const uint32_t out[] = {0, 1, 23, 24, 39, 40, 40, 96, 984, 4026531864u};
    for (size_t i = 0; i < sizeof in / sizeof in[0]; i++)
        cr_assert_eq(bm25_lucene_length(in[i]), out[i], "%u -> %u, want %u", in[i],
                     bm25_lucene_length(in[i]), out[i]);
    for (uint32_t dl = 1; dl < 100000; dl++)
        cr_assert_leq(bm25_lucene_length(dl - 1), bm25_lucene_length(dl), "not monotone at %u", dl);
}

/*
 * Collection C: c1 is "cat" and 99 x "dog" (dl 100), c2 "cat" (dl 1);
 * avgdl = 101 / 2 = 50.5 (exact, also with Lucene norms).
 * idf(cat) = ln(1 + 0.5 / 2.5) = ln 1.2 = 0.182322.  k1 = 1.2, b = 0.75:
 *   exact:        L(100) = 0.25 + 0.75 * 100 / 50.5 = 1.735149, K = 2.082178,
 *                 c1 = 0.182322 / 3.082178 = 0.059153
 *   Lucene norms: dl 100 counts as 96: L = 0.25 + 0.75 * 96 / 50.5 = 1.675743,
 *                 K = 2.010891, c1 = 0.182322 / 3.010891 = 0.060554
 *   c2 either way: L(1) = 0.264851, K = 0.317822, 0.182322 / 1.317822 = 0.138351
 */
Test(bm25, lucene_norms)
{
    char doc[1024] = "{\"id\": \"c1\", \"text\": \"cat";
    for (int i = 0; i < 99; i++) strcat(doc, " dog");
    strcat(doc, "\"}\n{\"id\": \"c2\", \"text\": \"cat\"}\n");
    index_reader *ix = build("c", doc);
    cr_assert_eq(ix->total_len, 101);
    search_options o = {.k1 = 1.2f, .b = 0.75f};
    const char *ids[] = {"c2", "c1"};
    const double exact[] = {0.138351, 0.059153}, norms[] = {0.138351, 0.060554};
    expect_opt(ix, "cat", o, 2, ids, exact);
    o.lucene_norms = 1;
    expect_opt(ix, "cat", o, 2, ids, norms);
    index_close(ix);
}

/*
 * A repeated query word is scored once, its contribution times its count:
 * "cat cat dog" at k1 = 0.9, b = 0.4 (values of Test(bm25, k1_09_b_04)):
 *   a1: 2 * 0.248354 + 0.370210 = 0.866918, a3: 2 * 0.254488 = 0.508976,
 *   a4: 2 * 0.202479 = 0.404958, a2: 0.393490.
 * Its explanation has two entries (cat with weight 2, dog), adding up.
 */
Test(bm25, repeated_words)
{
    index_reader *ix = build("a", corpus_a);
    search_options o = {.k1 = 0.9f, .b = 0.4f};
    const char *ids[] = {"a1", "a3", "a4", "a2"};
    const double scores[] = {0.866918, 0.508976, 0.404958, 0.393490};
    expect_opt(ix, "cat cat dog", o, 4, ids, scores);
    expect_opt(ix, "cat dog cat", o, 4, ids, scores);
    o.literal = 1;
    expect_opt(ix, "cat dog cat", o, 4, ids, scores);
    /* required twice: still required, weight 2 */
    o.literal = 0;
    const char *a1[] = {"a1"};
    const double a1_score[] = {0.866918};
    expect_opt(ix, "+cat cat +dog", o, 1, a1, a1_score);

    searcher *s;
    se_error err = {0};
    cr_assert_eq(searcher_new(&s, ix, &err), SE_OK);
    search_result res;
    o.k = 10;
    cr_assert_eq(searcher_run(s, "cat dog cat", 11, &o, &res, &err), SE_OK);
    cr_assert_eq(res.nhits, 4);
    search_explain_term why[8];
    size_t n;
    cr_assert_eq(searcher_explain(s, &res.hits[0], why, 8, &n, &err), SE_OK);
    cr_assert_eq(n, 2, "one entry per distinct term, not %zu", n);
    cr_assert_str_eq(why[0].text, "cat");
    cr_assert_eq(why[0].weight, 2.0f);
    cr_assert_str_eq(why[1].text, "dog");
    cr_assert_eq(why[1].weight, 1.0f);
    cr_assert(fabs(why[0].contribution + why[1].contribution - res.hits[0].score) < TOL);
    cr_assert(fabs(why[0].contribution - 2 * 0.248354) < TOL);
    searcher_free(s);
    index_close(ix);
}

/*
 * A word the analyzer splits ("cat-dog") is a phrase in the query language
 * and separate words with --literal.  k1 = 0.9, b = 0.4:
 *   phrase: only a1 (cat 0, dog 1); idf 0.356675 + 0.693147 = 1.049822,
 *     1.049822 / (1 + 0.872308) = 0.560710
 *   literal: as "cat dog": a1 0.618564, a2 0.393490, a3 0.254488, a4 0.202479
 */
Test(bm25, literal_split_words)
{
    index_reader *ix = build("a", corpus_a);
    search_options o = {.k1 = 0.9f, .b = 0.4f};
    const char *ph_ids[] = {"a1"};
    const double ph[] = {0.560710};
    expect_opt(ix, "cat-dog", o, 1, ph_ids, ph);
    o.literal = 1;
    const char *ids[] = {"a1", "a2", "a3", "a4"};
    const double scores[] = {0.618564, 0.393490, 0.254488, 0.202479};
    expect_opt(ix, "cat-dog", o, 4, ids, scores);
    expect_opt(ix, "(cat-dog", o, 4, ids, scores);
    /* with --and both parts are required: a1 only */
    o.default_and = 1;
    const double and_score[] = {0.618564};
    expect_opt(ix, "cat-dog", o, 1, ph_ids, and_score);
    index_close(ix);
}

/* ------------------------------------------------------------- phrases */

/*
 * Collection B: N = 5, total 18 tokens, avgdl = 3.6.
 *   b1 "dog dog dog"                    dl 3
 *   b2 "dog cat dog cat dog"            dl 5
 *   b3 "dog cat cat dog"                dl 4
 *   b4 title "red cat", text "dog bird" dl 4 (positions: red 0, cat 1, -
 *                                        2 left empty -, dog 3, bird 4)
 *   b5 "cat dog"                        dl 2
 * df: dog 5, cat 4, red 1, bird 1.
 *   idf(dog) = ln(1 + 0.5 / 5.5) = ln 1.090909 = 0.087011
 *   idf(cat) = ln(1 + 1.5 / 4.5) = ln 1.333333 = 0.287682
 * k1 = 0.9, b = 0.4:  K(dl) = 0.9 * (0.6 + 0.4 * dl / 3.6)
 *   K(2) = 0.9 * 0.822222 = 0.740000    K(3) = 0.9 * 0.933333 = 0.840000
 *   K(4) = 0.9 * 1.044444 = 0.940000    K(5) = 0.9 * 1.155556 = 1.040000
 */
static const char corpus_b[] = "{\"id\": \"b1\", \"text\": \"dog dog dog\"}\n"
                               "{\"id\": \"b2\", \"text\": \"dog cat dog cat dog\"}\n"
                               "{\"id\": \"b3\", \"text\": \"dog cat cat dog\"}\n"
                               "{\"id\": \"b4\", \"title\": \"red cat\", \"text\": \"dog bird\"}\n"
                               "{\"id\": \"b5\", \"text\": \"cat dog\"}\n";

Test(bm25, phrases)
{
    index_reader *ix = build("b", corpus_b);
    cr_assert_eq(ix->total_len, 18);
    /*
     * "dog dog": b1 only, twice (overlapping: from positions 1 and 2).
     *   idf = 2 * 0.087011 = 0.174023
     *   b1: 0.174023 * 2 / (2 + 0.84) = 0.348046 / 2.84 = 0.122551
     * (b3 and b4 have two dogs, never adjacent; in b4 the title's last
     * token and the text's first are not adjacent either.)
     */
    const char *dd_ids[] = {"b1"};
    const double dd[] = {0.122551};
    expect(ix, "\"dog dog\"", 0.9f, 0.4f, 1, dd_ids, dd);
    /*
     * "dog cat dog": b2 twice (from dog 1 and dog 3); b3 has "dog cat cat".
     *   idf = 0.087011 + 0.287682 + 0.087011 = 0.461705
     *   b2: 0.461705 * 2 / (2 + 1.04) = 0.923409 / 3.04 = 0.303753
     */
    const char *dcd_ids[] = {"b2"};
    const double dcd[] = {0.303753};
    expect(ix, "\"dog cat dog\"", 0.9f, 0.4f, 1, dcd_ids, dcd);
    /*
     * "cat dog": b2 twice, b3 once, b5 once; not b4, whose "cat" ends the
     * title and "dog" starts the text.
     *   idf = 0.287682 + 0.087011 = 0.374693
     *   b2: 0.374693 * 2 / (2 + 1.04) = 0.749387 / 3.04 = 0.246509
     *   b5: 0.374693 / (1 + 0.74) = 0.374693 / 1.74 = 0.215341
     *   b3: 0.374693 / (1 + 0.94) = 0.374693 / 1.94 = 0.193141
     */
    const char *cd_ids[] = {"b2", "b5", "b3"};
    const double cd[] = {0.246509, 0.215341, 0.193141};
    expect(ix, "\"cat dog\"", 0.9f, 0.4f, 3, cd_ids, cd);
    /*
     * k1 = 1.2, b = 0.75: K(dl) = 1.2 * (0.25 + 0.75 * dl / 3.6)
     *   K(2) = 1.2 * 0.666667 = 0.8, K(4) = 1.2 * 1.083333 = 1.3,
     *   K(5) = 1.2 * 1.291667 = 1.55
     *   b2: 0.749387 / 3.55 = 0.211095
     *   b5: 0.374693 / 1.8  = 0.208163
     *   b3: 0.374693 / 2.3  = 0.162910
     */
    const double cd12[] = {0.211095, 0.208163, 0.162910};
    expect(ix, "\"cat dog\"", 1.2f, 0.75f, 3, cd_ids, cd12);
    /* Phrases inside one field do match: the title's, the text's. */
    hit h[8];
    cr_assert_eq(run(ix, "\"red cat\"", 10, 0.9f, 0.4f, h, NULL), 1);
    cr_assert_str_eq(h[0].id, "b4");
    cr_assert_eq(run(ix, "\"dog bird\"", 10, 0.9f, 0.4f, h, NULL), 1);
    cr_assert_str_eq(h[0].id, "b4");
    /* ...but never across the boundary, nor across the empty position. */
    cr_assert_eq(run(ix, "\"red cat dog\"", 10, 0.9f, 0.4f, h, NULL), 0);
    cr_assert_eq(run(ix, "\"cat dog bird\"", 10, 0.9f, 0.4f, h, NULL), 0);
    /* Three in a row, twice the same word. */
    cr_assert_eq(run(ix, "\"dog dog dog\"", 10, 0.9f, 0.4f, h, NULL), 1);
    cr_assert_str_eq(h[0].id, "b1");
    cr_assert_eq(run(ix, "\"dog dog dog dog\"", 10, 0.9f, 0.4f, h, NULL), 0);
    cr_assert_eq(run(ix, "\"cat cat\"", 10, 0.9f, 0.4f, h, NULL), 1);
    cr_assert_str_eq(h[0].id, "b3");
    cr_assert_eq(run(ix, "\"cat dog cat dog\"", 10, 0.9f, 0.4f, h, NULL), 1);
    cr_assert_str_eq(h[0].id, "b2");
    index_close(ix);
}

/* ------------------------------------------------------------- ties */

static int cmp_hash(const void *a, const void *b)
{
    const char *x = *(const char *const *)a, *y = *(const char *const *)b;
    uint64_t hx = XXH3_64bits(x, strlen(x)), hy = XXH3_64bits(y, strlen(y));
    return hx < hy ? -1 : hx > hy;
}

/* Equal scores come out by increasing XXH3-64 of the id, and a smaller k
 * keeps a prefix of that order. */
static void check_ties(const index_reader *ix, const char *q, const char **ids, size_t n)
{
    qsort(ids, n, sizeof *ids, cmp_hash);
    hit h[16];
    cr_assert_eq(run(ix, q, 16, 0.9f, 0.4f, h, NULL), n);
    for (size_t i = 0; i < n; i++) {
        cr_assert_str_eq(h[i].id, ids[i], "tie order at %zu", i);
        cr_assert_eq(h[i].score, h[0].score, "the scores are equal");
    }
    for (uint32_t k = 1; k < n; k++) {
        hit p[16];
        cr_assert_eq(run(ix, q, k, 0.9f, 0.4f, p, NULL), k);
        for (uint32_t i = 0; i < k; i++) cr_assert_str_eq(p[i].id, ids[i], "k=%u hit %u", k, i);
    }
}

Test(bm25, ties_one_segment)
{
    index_reader *ix = build("c", "{\"id\": \"t-1\", \"text\": \"fish bird\"}\n"
                                  "{\"id\": \"t-2\", \"text\": \"fish bird\"}\n"
                                  "{\"id\": \"x\", \"text\": \"cat dog red\"}\n"
                                  "{\"id\": \"t-3\", \"text\": \"bird fish\"}\n"
                                  "{\"id\": \"t-4\", \"text\": \"fish bird\"}\n"
                                  "{\"id\": \"t-5\", \"text\": \"fish bird\"}\n"
                                  "{\"id\": \"t-6\", \"text\": \"bird fish\"}\n");
    const char *ids[] = {"t-1", "t-2", "t-3", "t-4", "t-5", "t-6"};
    check_ties(ix, "fish", ids, 6);
    check_ties(ix, "fish bird", ids, 6);
    index_close(ix);
}

/* Segment `number` holding the given ids, each a document "fish" (dl 1,
 * term "fish" at position 0), and one other document "cat". */
static void tie_segment(const char *dir, uint32_t number, const char *const *ids, size_t n,
                        seg_meta *meta)
{
    segment_writer *w;
    se_error err = {0};
    cr_assert_eq(segw_create(&w, dir, number, 1, &err), SE_OK, "%s", err.msg);
    for (size_t i = 0; i <= n; i++) {
        const char *id = i < n ? ids[i] : "other";
        const char *text = i < n ? "fish" : "cat";
        seg_document d = {id, strlen(id), "", 0, text, strlen(text)};
        cr_assert_eq(segw_add_document(w, &d, 1, 0, 0, &err), SE_OK);
    }
    uint32_t pos = 0;
    cr_assert_eq(segw_begin_term(w, "cat", 3, &err), SE_OK);
    cr_assert_eq(segw_add_posting(w, (uint32_t)n, 1, &pos, &err), SE_OK);
    cr_assert_eq(segw_end_term(w, &err), SE_OK);
    cr_assert_eq(segw_begin_term(w, "fish", 4, &err), SE_OK);
    for (uint32_t d = 0; d < n; d++) cr_assert_eq(segw_add_posting(w, d, 1, &pos, &err), SE_OK);
    cr_assert_eq(segw_end_term(w, &err), SE_OK);
    cr_assert_eq(segw_finish(w, meta, &err), SE_OK, "%s", err.msg);
}

Test(bm25, ties_across_segments)
{
    const char *dir = P("multi");
    cr_assert_eq(mkdir(dir, 0755), 0);
    const char *s0[] = {"tie-a", "tie-b", "tie-c", "tie-d"};
    const char *s1[] = {"tie-e", "tie-f"};
    const char *s2[] = {"tie-g", "tie-h", "tie-i"};
    seg_meta metas[3];
    tie_segment(dir, 0, s0, 4, &metas[0]);
    tie_segment(dir, 1, s1, 2, &metas[1]);
    tie_segment(dir, 2, s2, 3, &metas[2]);
    manifest m = {.generation = 1, .next_segment = 3, .nsegments = 3, .segments = metas};
    uint8_t *buf;
    size_t len;
    se_error err = {0};
    cr_assert_eq(manifest_encode(&m, &buf, &len, &err), SE_OK);
    cr_assert_eq(fio_replace_file(dir, MANIFEST_NAME, buf, len, &err), SE_OK, "%s", err.msg);
    free(buf);
    index_reader *ix;
    cr_assert_eq(index_open(&ix, dir, &err), SE_OK, "%s", err.msg);
    cr_assert_eq(ix->ndocs, 12);
    const char *ids[] = {"tie-a", "tie-b", "tie-c", "tie-d", "tie-e",
                         "tie-f", "tie-g", "tie-h", "tie-i"};
    check_ties(ix, "fish", ids, 9);
    /*
     * The score itself: N = 12, df = 9, avgdl = 1, dl = 1, so K = k1.
     *   idf = ln(1 + (12 - 9 + 0.5) / 9.5) = ln 1.368421 = 0.313658
     *   score = 0.313658 * 1 / (1 + 0.9) = 0.165083
     */
    hit h[10];
    cr_assert_eq(run(ix, "fish", 10, 0.9f, 0.4f, h, NULL), 9);
    cr_assert(fabs(h[0].score - 0.165083) < TOL, "%.7f", h[0].score);
    index_close(ix);
}

/* ------------------------------------------------------------- analysis */

/* Index jsonl into g_tmp/<name> with these build options; returns the
 * status (message in err). */
static int build_with(const char *name, const char *jsonl, const build_options *bo, se_error *err)
{
    char src[PATH_MAX];
    snprintf(src, sizeof src, "%s/%s.jsonl", g_tmp, name);
    FILE *f = fopen(src, "w");
    cr_assert_not_null(f);
    fputs(jsonl, f);
    cr_assert_eq(fclose(f), 0);
    const char *paths[] = {src};
    input_options io = {0};
    input_reader *in;
    cr_assert_eq(input_open(&in, paths, 1, &io, err), SE_OK, "%s", err->msg);
    build_stats st;
    int rc = build_index(P(name), in, bo, &st, err);
    input_close(in);
    return rc;
}

/*
 * The index records its analyzer settings and the searcher analyses queries
 * with them: with stop words dropped, "the" is in no document and scores
 * nothing.  Collection D: d1 "the cat", d2 "the dog"; N = 2, lengths 1 and 1
 * (stop words take no length), avgdl 1; idf(cat) = ln(1 + 1.5 / 1.5) = ln 2
 * = 0.693147; k1 = 1.2, b = 0.75: d1 = 0.693147 / (1 + 1.2) = 0.315067.
 * Another analyzer for an existing index needs a rebuild.
 */
Test(bm25, index_analysis)
{
    static const char docs[] = "{\"id\": \"d1\", \"text\": \"the cat\"}\n"
                               "{\"id\": \"d2\", \"text\": \"the dog\"}\n";
    se_error err = {0};
    build_options bo = {.analysis_given = 1, .analysis = ANALYZER_STOPWORDS};
    cr_assert_eq(build_with("d", docs, &bo, &err), SE_OK, "%s", err.msg);
    index_reader *ix;
    cr_assert_eq(index_open(&ix, P("d"), &err), SE_OK, "%s", err.msg);
    cr_assert_eq(ix->man.analysis, ANALYZER_STOPWORDS);
    cr_assert_eq(ix->total_len, 2);
    search_options o = {.k1 = 1.2f, .b = 0.75f};
    const char *ids[] = {"d1"};
    const double scores[] = {0.315067};
    expect_opt(ix, "the cat", o, 1, ids, scores);
    expect_opt(ix, "the", o, 0, NULL, NULL);
    index_close(ix);

    /* another analyzer without a rebuild: refused, nothing changes */
    bo.analysis = ANALYZER_PORTER;
    cr_assert_eq(build_with("d", docs, &bo, &err), SE_INVALID);
    cr_assert_not_null(strstr(err.msg, "english-stop"), "%s", err.msg);
    cr_assert_not_null(strstr(err.msg, "--rebuild"), "%s", err.msg);
    /* an update without a choice keeps the index's */
    build_options keep = {0};
    cr_assert_eq(build_with("d", "{\"id\": \"d3\", \"text\": \"the fish\"}\n", &keep, &err), SE_OK,
                 "%s", err.msg);
    cr_assert_eq(index_open(&ix, P("d"), &err), SE_OK, "%s", err.msg);
    cr_assert_eq(ix->man.analysis, ANALYZER_STOPWORDS);
    cr_assert_eq(ix->total_len, 3);
    index_close(ix);
    /* a rebuild may change it; a new index gets the default */
    bo.mode = BUILD_REBUILD;
    cr_assert_eq(build_with("d", docs, &bo, &err), SE_OK, "%s", err.msg);
    cr_assert_eq(index_open(&ix, P("d"), &err), SE_OK, "%s", err.msg);
    cr_assert_eq(ix->man.analysis, ANALYZER_PORTER);
    cr_assert_eq(ix->total_len, 4);
    index_close(ix);
    cr_assert_eq(build_with("e", docs, &keep, &err), SE_OK, "%s", err.msg);
    cr_assert_eq(index_open(&ix, P("e"), &err), SE_OK, "%s", err.msg);
    cr_assert_eq(ix->man.analysis, BUILD_DEFAULT_ANALYSIS);
    index_close(ix);
}

/* ------------------------------------------------------------- BM25F */

/* Titles and texts of stems that Porter leaves alone:
 *   f1 title "cat",      text "dog dog"              length 3, title 1
 *   f2 title "dog bird", text "fish"                 length 3, title 2
 *   f3 title "fish",     text "cat bird fish bird"   length 5, title 1
 *   f4 no title,         text "bird bird fish dog"   length 4, title 0
 * N = 4, total length 15 of which 4 title tokens: avg_t = 1, avg_b = 11/4. */
static const char *corpus_f = "{\"id\":\"f1\",\"title\":\"cat\",\"text\":\"dog dog\"}\n"
                              "{\"id\":\"f2\",\"title\":\"dog bird\",\"text\":\"fish\"}\n"
                              "{\"id\":\"f3\",\"title\":\"fish\",\"text\":\"cat bird fish bird\"}\n"
                              "{\"id\":\"f4\",\"text\":\"bird bird fish dog\"}\n";

Test(bm25, bm25f_title_weight)
{
    index_reader *ix = build("f", corpus_f);
    cr_assert_eq(ix->ndocs, 4);
    cr_assert_eq(ix->total_len, 15);
    cr_assert_eq(ix->total_title_len, 4);
    search_options o = {.k1 = 1.2f, .b = 0.75f, .title_weight = 2, .title_b = 0.5f};
    /*
     * W = 2, b_t = 0.5, b = 0.75, k1 = 1.2:
     *   title norm 0.5 + 0.5 * lt / 1,  body norm 0.25 + 0.75 * lb / 2.75
     * "cat": df 2, idf = ln(1 + 2.5 / 2.5) = 0.693147
     *   f1, title only: tf' = 2 * 1 / (0.5 + 0.5) = 2
     *       0.693147 * 2 / (2 + 1.2) = 0.433217
     *   f3, body only (lb = 4): tf' = 1 / (0.25 + 1.090909) = 0.745763
     *       0.693147 * 0.745763 / 1.945763 = 0.265666
     * Without the title weight f1 and f3 score 0.343142 and 0.277259: the
     * title match moves up by a quarter, the body match down.
     */
    const char *cat_ids[] = {"f1", "f3"};
    const double cat[] = {0.433217, 0.265666};
    expect_opt(ix, "cat", o, 2, cat_ids, cat);
    /*
     * "fish": df 3, idf = ln(1 + 1.5 / 3.5) = 0.356675
     *   f3, both: tf' = 2 + 0.745763 = 2.745763
     *       0.356675 * 2.745763 / 3.945763 = 0.248202
     *   f2, body (lb = 1): tf' = 1 / (0.25 + 0.272727) = 1.913043
     *       0.356675 * 1.913043 / 3.113043 = 0.219186
     *   f4, body (lb = 4): tf' = 0.745763 -> 0.136705
     */
    const char *fish_ids[] = {"f3", "f2", "f4"};
    const double fish[] = {0.248202, 0.219186, 0.136705};
    expect_opt(ix, "fish", o, 3, fish_ids, fish);
    /* Both words: f3 = 0.265666 + 0.248202 = 0.513868 leads. */
    const char *or_ids[] = {"f3", "f1", "f2", "f4"};
    const double or_scores[] = {0.513868, 0.433217, 0.219186, 0.136705};
    expect_opt(ix, "cat fish", o, 4, or_ids, or_scores);
    /* Other variants, same tf': atire f1 "cat" = ln 2 * 2.2 * 2 / 3.2 =
     * 0.953077; bm25plus f3 "fish" = ln(5/3) * (2.2 * 2.745763 / 3.945763 +
     * 1) = 1.292863; bm25l (delta 0.5) f3 "fish" = ln(5/3.5) * 2.2 *
     * 3.245763 / 4.445763 = 0.572883. */
    search_options v = o;
    v.variant = BM25_ATIRE;
    const char *f1[] = {"f1"};
    const double atire[] = {0.953077};
    expect_opt(ix, "+cat -fish", v, 1, f1, atire);
    v.variant = BM25_PLUS;
    v.delta = 1;
    const char *f3[] = {"f3"};
    const double plus[] = {1.292863};
    expect_opt(ix, "+fish -dog", v, 1, f3, plus);
    v.variant = BM25_L;
    v.delta = 0.5f;
    const double bm25l[] = {0.572883};
    expect_opt(ix, "+fish -dog", v, 1, f3, bm25l);
    /* A phrase keeps the combined field's score: "cat bird" occurs in f3's
     * text once, idf 0.693147 + ln(1 + 1.5 / 3.5) = 1.049822, dl 5, avgdl
     * 3.75: 1.049822 / (1 + 1.2 * (0.25 + 0.75 * 5 / 3.75)) = 0.419929. */
    const double phrase[] = {0.419929};
    expect_opt(ix, "\"cat bird\"", o, 1, f3, phrase);
    index_close(ix);
}

/* The title weight 0 is the single-field score exactly, and the explanation
 * of a BM25F term shows the title and body parts it was computed from. */
Test(bm25, bm25f_off_and_explained)
{
    index_reader *ix = build("f", corpus_f);
    const char *q = "cat fish dog";
    search_options plain = {.k = 10, .k1 = 1.2f, .b = 0.75f};
    search_options off = plain;
    off.title_b = 0.3f; /* ignored while the weight is 0 */
    hit a[16], b[16];
    size_t na = run_opt(ix, q, &plain, a, NULL), nb = run_opt(ix, q, &off, b, NULL);
    cr_assert_eq(na, 4);
    cr_assert_eq(nb, na);
    for (size_t i = 0; i < na; i++) {
        cr_assert_str_eq(a[i].id, b[i].id);
        cr_assert_eq(a[i].score, b[i].score, "%s: %.9g != %.9g", a[i].id, a[i].score, b[i].score);
    }
    searcher *s;
    se_error err = {0};
    cr_assert_eq(searcher_new(&s, ix, &err), SE_OK);
    search_options o = {.k = 1, .k1 = 1.2f, .b = 0.75f, .title_weight = 2, .title_b = 0.5f};
    search_result res;
    cr_assert_eq(searcher_run(s, "+fish +cat", 10, &o, &res, &err), SE_OK, "%s", err.msg);
    cr_assert_eq(res.nhits, 1);
    search_explain_term e[4];
    size_t n;
    cr_assert_eq(searcher_explain(s, &res.hits[0], e, 4, &n, &err), SE_OK, "%s", err.msg);
    cr_assert_eq(n, 2);
    /* f3: fish in the title once and the text once, cat in the text once. */
    cr_assert_str_eq(e[0].text, "fish");
    cr_assert(e[0].fielded);
    cr_assert_eq(e[0].tf, 2);
    cr_assert_eq(e[0].title_tf, 1);
    cr_assert_eq(e[0].title_len, 1);
    cr_assert_eq(e[0].body_tf, 1);
    cr_assert_eq(e[0].body_len, 4);
    cr_assert(fabs(e[0].title_avg - 1.0) < 1e-9 && fabs(e[0].body_avg - 2.75) < 1e-9);
    cr_assert(fabs(e[0].tf_fielded - 2.745763) < 1e-5, "%.7f", e[0].tf_fielded);
    cr_assert(fabs(e[0].contribution - 0.248202) < TOL, "%.7f", e[0].contribution);
    cr_assert_str_eq(e[1].text, "cat");
    cr_assert_eq(e[1].title_tf, 0);
    cr_assert_eq(e[1].body_tf, 1);
    cr_assert(fabs(e[1].contribution - 0.265666) < TOL, "%.7f", e[1].contribution);
    cr_assert(fabs(e[0].contribution + e[1].contribution - res.hits[0].score) < 1e-6);
    /* Out of range: refused. */
    o.title_weight = -1;
    cr_assert_eq(searcher_run(s, "cat", 3, &o, &res, &err), SE_INVALID);
    o.title_weight = 2;
    o.title_b = 1.5f;
    cr_assert_eq(searcher_run(s, "cat", 3, &o, &res, &err), SE_INVALID);
    searcher_free(s);
    index_close(ix);
}

/* ------------------------------------------------------------- BM25F, damaged */

/* A one-segment index in g_tmp/<name> of two documents: "f0" (title "fish",
 * no text: length 1) and "f1" (text "fish fish": length 2).  The document
 * table records title lengths t0 and t1, and the title-field term "\1fish"
 * has a posting in f0 with tf ttf (0: none): a consistent index has t0 = 1,
 * t1 = 0, ttf = 1. */
static void fielded_segment(const char *name, uint32_t t0, uint32_t t1, uint32_t ttf)
{
    const char *dir = P(name);
    cr_assert_eq(mkdir(dir, 0755), 0);
    segment_writer *w;
    se_error err = {0};
    seg_meta meta;
    cr_assert_eq(segw_create(&w, dir, 0, 1, &err), SE_OK, "%s", err.msg);
    seg_document d0 = {"f0", 2, "fish", 4, "", 0}, d1 = {"f1", 2, "", 0, "fish fish", 9};
    /* the content hash --verify recomputes: the text's, seeded with the title's */
    uint64_t h0 = XXH3_64bits_withSeed(d0.text, d0.text_len, XXH3_64bits(d0.title, d0.title_len));
    uint64_t h1 = XXH3_64bits_withSeed(d1.text, d1.text_len, XXH3_64bits(d1.title, d1.title_len));
    cr_assert_eq(segw_add_document(w, &d0, 1, t0, h0, &err), SE_OK, "%s", err.msg);
    cr_assert_eq(segw_add_document(w, &d1, 2, t1, h1, &err), SE_OK, "%s", err.msg);
    uint32_t pos[2] = {0, 1}, text_pos[2] = {2, 3};
    if (ttf) {
        cr_assert_eq(segw_begin_term(w, "\1fish", 5, &err), SE_OK);
        cr_assert_eq(segw_add_posting(w, 0, ttf, pos, &err), SE_OK);
        cr_assert_eq(segw_end_term(w, &err), SE_OK);
    }
    cr_assert_eq(segw_begin_term(w, "fish", 4, &err), SE_OK);
    cr_assert_eq(segw_add_posting(w, 0, 1, pos, &err), SE_OK);
    cr_assert_eq(segw_add_posting(w, 1, 2, text_pos, &err), SE_OK);
    cr_assert_eq(segw_end_term(w, &err), SE_OK);
    cr_assert_eq(segw_finish(w, &meta, &err), SE_OK, "%s", err.msg);
    manifest m = {.generation = 1, .next_segment = 1, .nsegments = 1, .segments = &meta};
    uint8_t *buf;
    size_t len;
    cr_assert_eq(manifest_encode(&m, &buf, &len, &err), SE_OK);
    cr_assert_eq(fio_replace_file(dir, MANIFEST_NAME, buf, len, &err), SE_OK, "%s", err.msg);
    free(buf);
}

/* --verify checks that each document's title-field terms hold exactly its
 * title length; a title tf above the document's tf (which only a damaged
 * index can have) scores as no body occurrence, never a wrapped count. */
Test(bm25, bm25f_damaged_title_fields)
{
    se_error err = {0};
    index_description d;
    fielded_segment("good", 1, 0, 1);
    cr_assert_eq(index_verify(P("good"), &d, &err), SE_OK, "%s", err.msg);
    fielded_segment("missing", 1, 1, 1); /* f1 claims a title token it does not have */
    cr_assert_eq(index_verify(P("missing"), &d, &err), SE_CORRUPT);
    cr_assert_not_null(strstr(err.msg, "title"), "%s", err.msg);
    fielded_segment("extra", 0, 0, 1); /* f0's title-field posting, with no title length */
    cr_assert_eq(index_verify(P("extra"), &d, &err), SE_CORRUPT);
    cr_assert_not_null(strstr(err.msg, "title"), "%s", err.msg);
    fielded_segment("over", 1, 0, 2); /* title tf 2, the document's tf 1 */
    cr_assert_eq(index_verify(P("over"), &d, &err), SE_CORRUPT);
    index_reader *ix;
    cr_assert_eq(index_open(&ix, P("over"), &err), SE_OK, "%s", err.msg);
    search_options o = {.k1 = 1.2f, .b = 0.75f, .title_weight = 2, .title_b = 0.5f};
    /* N = 2, total 3, titles 1: avg_t = 0.5, avg_b = 1.  idf("fish", df 2) =
     * ln(1 + 0.5 / 2.5) = 0.182322.
     *   f0: title tf 2 (body tf 1 - 2 -> 0), lt 1: tf' = 2 * 2 / (0.5 + 0.5 *
     *       1 / 0.5) = 2.666667; 0.182322 * 2.666667 / 3.866667 = 0.125739
     *   f1: body tf 2, lb 2: tf' = 2 / (0.25 + 0.75 * 2) = 1.142857;
     *       0.182322 * 1.142857 / 2.342857 = 0.088937 */
    const char *ids[] = {"f0", "f1"};
    const double scores[] = {0.125739, 0.088937};
    expect_opt(ix, "fish", o, 2, ids, scores);
    index_close(ix);
}
