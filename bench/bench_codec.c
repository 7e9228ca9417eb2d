/*
 * bench_codec.c - micro-benchmark of the hot loop: block decoding, and
 * decoding + BM25 + top-k over real posting lists (bench/run_speed.sh,
 * `make bench`).
 *
 *     bench_codec [-i INDEX] [-k N] [--min-ms MS] [QUERIES...]
 *
 * Prints Markdown tables on standard output.
 *
 * 1. Block decoding.  For every bit width 1..32, 512 blocks of 128 random
 *    values below 2^w (256 KiB of output, so input and output stay in the
 *    L2 cache and the figure is the decoder's, not the memory's) are packed
 *    with codec_pack128 and unpacked again and again with each
 *    implementation: the portable scalar code, the SSE2 code and the AVX2
 *    code, then AVX2 unpacking followed by the prefix sum that turns doc
 *    gaps into ids (what the postings cursor does for every block of doc
 *    ids).  Integers per second, best of three runs of at least --min-ms
 *    (default 30) each.
 *
 *    codec.h exposes only the dispatching entry point and the scalar one,
 *    so this file compiles common/codec.c into itself (the #include below)
 *    to reach the per-instruction-set tables it dispatches between.  The
 *    engine's own copy of the codec (in build/libcommon.a) is then never
 *    linked: the functions defined here satisfy every reference to it, so
 *    the postings cursor below runs this very code.
 *
 * 2. Real posting lists (with -i).  The terms of the QUERIES files
 *    (analysed with the engine's analyzer: the words of every query, in
 *    the benchmark's query syntax, whose operators the analyzer treats as
 *    separators) are looked up in every segment of INDEX, and their lists
 *    are walked from start to end, each one as a one-term query would be:
 *      - memcpy of the lists' bytes in .doc (the physical bound: reading the
 *        compressed bytes once, and no decoding);
 *      - decoding only: postings_cursor block by block (unpack doc gaps and
 *        tfs, prefix sum, checks), summing the ids so nothing is elided;
 *      - decoding + BM25 + top-k, block at a time: each block's docs and
 *        tfs are scored in a tight loop (idf * tf / (tf + k1 * (1 - b + b *
 *        len / avgdl)), with the document length from the .len table) and
 *        offered to a k-entry min-heap (k = 10) only when they beat its
 *        minimum;
 *      - the same with one postings_cursor_next call per posting, as the
 *        engine's document-at-a-time evaluation (searcher/search.c) walks a
 *        list.
 *    Figures: nanoseconds per posting and postings per second, best of
 *    three passes over all the lists.  The pages of .doc are touched before
 *    measuring, so every variant reads memory-resident bytes.
 */
#include "common/codec.c"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/speed_common.h"
#include "common/analyzer.h"
#include "common/index.h"
#include "common/postings.h"
#include "common/segment.h"
#include "searcher/search.h"

/* ---- timing helper ---- */

typedef void (*bc_work_fn)(void *ctx);

/* Best time in ns of one call of fn(ctx), over three runs of at least
 * min_ns each (repeating the call as often as needed). */
static double bc_best_ns(bc_work_fn fn, void *ctx, double min_ns)
{
    fn(ctx); /* warm caches and predictors */
    double best = 0;
    for (int run = 0; run < 3; run++) {
        unsigned long reps = 0;
        double t0 = speed_now_ns(), t;
        do {
            fn(ctx);
            reps++;
            t = speed_now_ns() - t0;
        } while (t < min_ns);
        double per = t / (double)reps;
        if (run == 0 || per < best) best = per;
    }
    return best;
}

/* ---- 1. block decoding ---- */

#define BC_BLOCKS  512
#define BC_LONG_DF 4096

typedef struct bc_unpack_ctx {
    const uint8_t *packed; /* BC_BLOCKS blocks of 16 * width bytes */
    unsigned width;
    uint32_t *out; /* BC_BLOCKS * 128 */
    const unpack_block_fn *table;
    gaps_fn gaps; /* NULL: unpack only */
} bc_unpack_ctx;

static void bc_unpack_all(void *p)
{
    bc_unpack_ctx *c = p;
    const size_t stride = codec_block_bytes(c->width);
    unpack_block_fn f = c->table[c->width];
    for (size_t b = 0; b < BC_BLOCKS; b++) {
        uint32_t *o = c->out + b * CODEC_BLOCK;
        f(c->packed + b * stride, o);
        if (c->gaps) c->gaps(o, CODEC_BLOCK, UINT32_MAX);
    }
    /* Keep the stores observable. */
    __asm__ volatile("" : : "r"(c->out) : "memory");
}

static uint64_t bc_rng = 0x9e3779b97f4a7c15ull;
static uint32_t bc_random(void)
{
    bc_rng ^= bc_rng << 13;
    bc_rng ^= bc_rng >> 7;
    bc_rng ^= bc_rng << 17;
    return (uint32_t)(bc_rng >> 16);
}

static int bench_blocks(double min_ns)
{
    uint32_t *in = malloc(BC_BLOCKS * CODEC_BLOCK * sizeof *in);
    uint32_t *out = malloc(BC_BLOCKS * CODEC_BLOCK * sizeof *out);
    uint8_t *packed = malloc(BC_BLOCKS * codec_block_bytes(32));
    if (!in || !out || !packed) return -1;
#if CODEC_X86
    const int have_avx2 = __builtin_cpu_supports("avx2");
#else
    const int have_avx2 = 0;
#endif
    printf("### Block decoding (integers per second, 10^9)\n\n");
    printf("%d blocks of 128 random integers below 2^w (L2-resident), best of 3 runs.\n\n",
           BC_BLOCKS);
    printf("| bits | scalar | SSE2 | AVX2 | AVX2 unpack + prefix sum | AVX2 / scalar |\n");
    printf("|---:|---:|---:|---:|---:|---:|\n");
    double sum_scalar = 0, sum_avx2 = 0;
    for (unsigned w = 1; w <= 32; w++) {
        const uint32_t mask = w == 32 ? UINT32_MAX : (1u << w) - 1;
        for (size_t i = 0; i < (size_t)BC_BLOCKS * CODEC_BLOCK; i++) in[i] = bc_random() & mask;
        for (size_t b = 0; b < BC_BLOCKS; b++)
            codec_pack128(in + b * CODEC_BLOCK, w, packed + b * codec_block_bytes(w));
        /* Check every implementation against the input before timing it. */
        bc_unpack_ctx c = {packed, w, out, unpack_scalar_by_width, NULL};
        double rate[4] = {0};
        const unpack_block_fn *tables[3] = {unpack_scalar_by_width, NULL, NULL};
#if CODEC_X86
        tables[1] = unpack_sse2_by_width;
        if (have_avx2) tables[2] = unpack_avx2_by_width;
#endif
        const double n = (double)BC_BLOCKS * CODEC_BLOCK;
        for (int t = 0; t < 3; t++) {
            if (!tables[t]) continue;
            c.table = tables[t];
            c.gaps = NULL;
            bc_unpack_all(&c);
            if (memcmp(out, in, (size_t)n * sizeof *in) != 0) {
                fprintf(stderr, "bench_codec: implementation %d wrong at width %u\n", t, w);
                return -1;
            }
            rate[t] = n / bc_best_ns(bc_unpack_all, &c, min_ns);
        }
#if CODEC_X86
        if (have_avx2) {
            c.table = unpack_avx2_by_width;
            c.gaps = gaps_to_docs_avx2;
            rate[3] = n / bc_best_ns(bc_unpack_all, &c, min_ns);
        }
#endif
        sum_scalar += rate[0];
        sum_avx2 += rate[2];
        printf("| %u | %.2f | %.2f | %.2f | %.2f | %.1f× |\n", w, rate[0], rate[1], rate[2],
               rate[3], rate[0] > 0 ? rate[2] / rate[0] : 0);
    }
    printf("\nMean over the 32 widths: scalar %.2f, AVX2 %.2f (10^9 integers/s).\n\n",
           sum_scalar / 32, sum_avx2 / 32);
    free(in);
    free(out);
    free(packed);
    return 0;
}

/* ---- 2. real posting lists ---- */

typedef struct bc_list {
    const segment *seg;
    seg_term_info info;
    float idf;
} bc_list;

typedef struct bc_lists {
    bc_list *v;
    size_t n, cap;
    uint64_t postings, bytes;
    size_t max_bytes;
    uint8_t *buf;        /* memcpy target */
    float base, per_len; /* BM25 length normalisation: base + per_len * len */
    uint32_t k;
    uint64_t sink;
    float fsink;
} bc_lists;

/* The k best scores so far, in a min-heap (root = the k-th best). */
typedef struct bc_heap {
    float s[64];
    uint32_t d[64];
    uint32_t n, k;
} bc_heap;

static inline void bc_heap_offer(bc_heap *h, float s, uint32_t doc)
{
    if (h->n < h->k) {
        size_t i = h->n++;
        while (i > 0 && h->s[(i - 1) / 2] > s) {
            h->s[i] = h->s[(i - 1) / 2];
            h->d[i] = h->d[(i - 1) / 2];
            i = (i - 1) / 2;
        }
        h->s[i] = s;
        h->d[i] = doc;
        return;
    }
    /* Replace the root and sift down. */
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, m = l;
        if (l >= h->n) break;
        if (l + 1 < h->n && h->s[l + 1] < h->s[l]) m = l + 1;
        if (h->s[m] >= s) break;
        h->s[i] = h->s[m];
        h->d[i] = h->d[m];
        i = m;
    }
    h->s[i] = s;
    h->d[i] = doc;
}

static void bc_memcpy_all(void *p)
{
    bc_lists *L = p;
    for (size_t i = 0; i < L->n; i++) {
        const fio_map *m = segment_file(L->v[i].seg, SEG_POST);
        memcpy(L->buf, m->data + L->v[i].info.doc_off, L->v[i].info.doc_len);
        __asm__ volatile("" : : "r"(L->buf) : "memory");
    }
}

static void bc_decode_all(void *p)
{
    bc_lists *L = p;
    uint64_t sum = 0;
    for (size_t i = 0; i < L->n; i++) {
        postings_cursor c;
        postings_cursor_open(&c, L->v[i].seg, &L->v[i].info);
        while (c.doc != POSTINGS_END) {
            const uint32_t *freqs = postings_cursor_block_freqs(&c);
            if (!freqs) break;
            for (uint32_t j = c.i; j < c.count; j++) sum += c.docs[j] + freqs[j];
            c.i = c.count - 1; /* the next call loads the next block */
            postings_cursor_next(&c);
        }
    }
    L->sink += sum;
}

static void bc_score_blocks(void *p)
{
    bc_lists *L = p;
    float acc = 0;
    for (size_t i = 0; i < L->n; i++) {
        const uint32_t *len = segment_lengths(L->v[i].seg);
        const float idf = L->v[i].idf, base = L->base, per_len = L->per_len;
        bc_heap h = {.k = L->k};
        float min = -1;
        postings_cursor c;
        postings_cursor_open(&c, L->v[i].seg, &L->v[i].info);
        while (c.doc != POSTINGS_END) {
            const uint32_t *freqs = postings_cursor_block_freqs(&c);
            if (!freqs) break;
            for (uint32_t j = c.i; j < c.count; j++) {
                const float tf = (float)freqs[j];
                const float s = idf * tf / (tf + base + per_len * (float)len[c.docs[j]]);
                if (s > min) {
                    bc_heap_offer(&h, s, c.docs[j]);
                    if (h.n == h.k) min = h.s[0];
                }
            }
            c.i = c.count - 1;
            postings_cursor_next(&c);
        }
        acc += h.n ? h.s[0] : 0;
    }
    L->fsink += acc;
}

static void bc_score_next(void *p)
{
    bc_lists *L = p;
    float acc = 0;
    for (size_t i = 0; i < L->n; i++) {
        const uint32_t *len = segment_lengths(L->v[i].seg);
        const float idf = L->v[i].idf, base = L->base, per_len = L->per_len;
        bc_heap h = {.k = L->k};
        float min = -1;
        postings_cursor c;
        postings_cursor_open(&c, L->v[i].seg, &L->v[i].info);
        for (uint32_t d = c.doc; d != POSTINGS_END; d = postings_cursor_next(&c)) {
            const float tf = (float)postings_cursor_freq(&c);
            const float s = idf * tf / (tf + base + per_len * (float)len[d]);
            if (s > min) {
                bc_heap_offer(&h, s, d);
                if (h.n == h.k) min = h.s[0];
            }
        }
        acc += h.n ? h.s[0] : 0;
    }
    L->fsink += acc;
}

/* Add every term of text (analysed) to L, once. */
static int bc_add_terms(bc_lists *L, const index_reader *ix, analyzer *an, const char *text)
{
    analyzer_reset(an, text, strlen(text), 0);
    analyzer_token tok;
    while (analyzer_next(an, &tok)) {
        se_error err;
        int64_t df = index_doc_freq(ix, tok.term, tok.term_len, &err);
        if (df <= 0) continue;
        for (uint32_t si = 0; si < ix->nsegments; si++) {
            seg_term_info info;
            if (segment_lookup(ix->segments[si], tok.term, tok.term_len, &info, &err) != 1)
                continue;
            int dup = 0;
            for (size_t j = 0; j < L->n && !dup; j++)
                dup = L->v[j].seg == ix->segments[si] && L->v[j].info.doc_off == info.doc_off;
            if (dup) continue;
            if (L->n == L->cap) {
                L->cap = L->cap ? 2 * L->cap : 256;
                bc_list *nv = realloc(L->v, L->cap * sizeof *nv);
                if (!nv) return -1;
                L->v = nv;
            }
            double n = (double)ix->ndocs;
            L->v[L->n++] = (bc_list){ix->segments[si], info,
                                     (float)log(1.0 + (n - (double)df + 0.5) / ((double)df + 0.5))};
            L->postings += info.df;
            L->bytes += info.doc_len;
            if (info.doc_len > L->max_bytes) L->max_bytes = info.doc_len;
        }
    }
    return 0;
}

static int bench_lists(const char *dir, char **files, int nfiles, uint32_t k, double min_ns)
{
    se_error err;
    index_reader *ix;
    if (index_open(&ix, dir, &err) != SE_OK) {
        fprintf(stderr, "bench_codec: %s\n", err.msg);
        return -1;
    }
    analyzer *an;
    if (analyzer_new(&an) != SE_OK) return -1;
    bc_lists L = {.k = k};
    for (int f = 0; f < nfiles; f++) {
        speed_queries qs;
        if (speed_read_queries(files[f], &qs) != 0) return -1;
        for (size_t i = 0; i < qs.n; i++)
            if (bc_add_terms(&L, ix, an, qs.q[i]) != 0) return -1;
        speed_free_queries(&qs);
    }
    if (L.n == 0) {
        fprintf(stderr, "bench_codec: no query term is in the index\n");
        return -1;
    }
    double avgdl = ix->ndocs ? (double)ix->total_len / (double)ix->ndocs : 1.0;
    L.base = SEARCH_DEFAULT_K1 * (1.0f - SEARCH_DEFAULT_B);
    L.per_len = (float)(SEARCH_DEFAULT_K1 * SEARCH_DEFAULT_B / avgdl);
    L.buf = malloc(L.max_bytes ? L.max_bytes : 1);
    if (!L.buf) return -1;

    /* Check that the cursor walk sees every posting, and fault the pages in. */
    bc_memcpy_all(&L);
    uint64_t seen = 0;
    for (size_t i = 0; i < L.n; i++) {
        postings_cursor c;
        postings_cursor_open(&c, L.v[i].seg, &L.v[i].info);
        while (c.doc != POSTINGS_END) {
            seen += c.count - c.i;
            c.i = c.count - 1;
            postings_cursor_next(&c);
        }
        if (c.status != SE_OK) {
            fprintf(stderr, "bench_codec: malformed postings\n");
            return -1;
        }
    }
    if (seen != L.postings) {
        fprintf(stderr, "bench_codec: walked %llu postings, expected %llu\n",
                (unsigned long long)seen, (unsigned long long)L.postings);
        return -1;
    }

    /* The long lists alone (at least BC_LONG_DF documents, so mostly full
     * bit-packed blocks), to separate the block decoder from the per-list
     * costs and the variable-byte tails that dominate short lists. */
    bc_lists Lg = L;
    Lg.v = malloc(L.n * sizeof *Lg.v);
    if (!Lg.v) return -1;
    Lg.n = 0;
    Lg.postings = Lg.bytes = 0;
    for (size_t i = 0; i < L.n; i++) {
        if (L.v[i].info.df < BC_LONG_DF) continue;
        Lg.v[Lg.n++] = L.v[i];
        Lg.postings += L.v[i].info.df;
        Lg.bytes += L.v[i].info.doc_len;
    }

    static const struct {
        const char *name;
        bc_work_fn fn;
    } variants[] = {
        {"memcpy of the lists' bytes (bound)", bc_memcpy_all},
        {"decode (unpack + prefix sum + checks)", bc_decode_all},
        {"decode + BM25 + top-k, block at a time", bc_score_blocks},
        {"decode + BM25 + top-k, postings_cursor_next per posting", bc_score_next},
    };
    printf("### Decode + score + top-k over real posting lists\n\n");
    printf("The query terms' lists in %u segment(s), k = %u, best of 3 passes.  All lists: %zu, "
           "%llu postings, %.2f bytes per posting in .doc.  Long lists (df >= %u): %zu, %llu "
           "postings, %.2f bytes per posting.\n\n",
           ix->nsegments, k, L.n, (unsigned long long)L.postings,
           (double)L.bytes / (double)L.postings, BC_LONG_DF, Lg.n, (unsigned long long)Lg.postings,
           Lg.postings ? (double)Lg.bytes / (double)Lg.postings : 0);
    printf("| loop | all: ns / posting | all: 10^6 postings / s | long: ns / posting | long: 10^6 "
           "postings / s |\n|---|---:|---:|---:|---:|\n");
    for (size_t v = 0; v < sizeof variants / sizeof variants[0]; v++) {
        double ns = bc_best_ns(variants[v].fn, &L, min_ns) / (double)L.postings;
        double lns = Lg.n ? bc_best_ns(variants[v].fn, &Lg, min_ns) / (double)Lg.postings : 0;
        printf("| %s | %.2f | %.0f | %.2f | %.0f |\n", variants[v].name, ns, 1e3 / ns, lns,
               lns > 0 ? 1e3 / lns : 0);
    }
    printf("\n");
    L.sink += Lg.sink;
    L.fsink += Lg.fsink;
    free(Lg.v);
    if (L.sink == 42 && L.fsink == 42.0f) printf("\n"); /* keep the sinks alive */
    free(L.buf);
    free(L.v);
    analyzer_free(an);
    index_close(ix);
    return 0;
}

int main(int argc, char **argv)
{
    const char *dir = NULL;
    uint32_t k = 10;
    double min_ms = 30;
    static const struct option longopts[] = {{"index", required_argument, NULL, 'i'},
                                             {"min-ms", required_argument, NULL, 'm'},
                                             {NULL, 0, NULL, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "i:k:", longopts, NULL)) != -1) {
        if (c == 'i')
            dir = optarg;
        else if (c == 'k')
            k = (uint32_t)strtoul(optarg, NULL, 10);
        else if (c == 'm')
            min_ms = strtod(optarg, NULL);
        else
            return 2;
    }
    if (k == 0 || k > 64 || min_ms <= 0) {
        fprintf(stderr, "usage: bench_codec [-i INDEX] [-k 1..64] [--min-ms MS] [QUERIES...]\n");
        return 2;
    }
    if (bench_blocks(min_ms * 1e6) != 0) return 1;
    if (dir && bench_lists(dir, argv + optind, argc - optind, k, min_ms * 1e6) != 0) return 1;
    return 0;
}
