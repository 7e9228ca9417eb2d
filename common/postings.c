/*
 * postings.c - the postings cursor (see postings.h).
 *
 * A term's bytes in .doc, for df >= SEG_BLOCK:
 *   skip table   nblocks x 16 bytes {u32 last doc, u32 end of the block's data
 *                (offset from the term's start), u32 start of the block's
 *                positions (offset from the term's start in .pos), u32 end of
 *                the block's impacts (offset from the term's start)}
 *   impacts      per block, its (tf, length) frontier (common/impacts.h); the
 *                first block's start right after the table, each later
 *                block's where the previous one's end
 *   full blocks  128 (doc gap - 1) as a patched block, then 128 (tf - 1)
 *                as another (codec.h)
 *   tail block   (df % 128 docs, when non-zero) variable-byte pairs
 * and for df < SEG_BLOCK only the variable-byte pairs.  A variable-byte pair
 * is varint((gap - 1) << 1 | (tf == 1)) followed by varint(tf) when tf != 1,
 * where gap is the difference to the previous doc id (the first doc of the
 * list counts from -1).
 *
 * Positions (.pos): per document its first position, then gaps (>= 1) to
 * the previous one.  A full block's values (total = the sum of its tfs) are
 * coded as total / 128 patched blocks (codec.h), then total % 128 varints.
 * Other blocks (short lists, the tail block) code every value as a varint.
 */
#include "common/postings.h"

#include "common/codec.h"
#include "common/impacts.h"

static uint32_t cursor_fail(postings_cursor *c)
{
    c->status = SE_CORRUPT;
    c->doc = POSTINGS_END;
    c->count = 0;
    c->i = 0;
    c->block = c->nblocks;
    c->next = c->end;
    c->freq_ptr = NULL;
    return POSTINGS_END;
}

/* Decode `n` variable-byte pairs starting at c->next into docs[]/freqs[]. */
static int decode_tail(postings_cursor *c, uint32_t n, uint32_t prev, const uint8_t *limit)
{
    const uint8_t *p = c->next;
    for (uint32_t k = 0; k < n; k++) {
        uint64_t v;
        p = codec_varint_get64(p, limit, &v);
        if (!p) return SE_CORRUPT;
        uint32_t tf = 1;
        if (!(v & 1)) {
            p = codec_varint_get32(p, limit, &tf);
            if (!p || tf < 2) return SE_CORRUPT;
        }
        /* prev == UINT32_MAX stands for doc -1 before the first posting. */
        uint64_t doc = (prev == UINT32_MAX ? 0 : (uint64_t)prev + 1) + (v >> 1);
        if (doc >= c->ndocs) return SE_CORRUPT;
        prev = (uint32_t)doc;
        c->docs[k] = prev;
        c->freqs[k] = tf;
    }
    c->next = p;
    return SE_OK;
}

static inline uint32_t skip_u32(const postings_cursor *c, uint32_t b, unsigned field)
{
    return fio_le32(c->skip + (size_t)b * SEG_SKIP_ENTRY + field * 4);
}

/* Decode the group at c->pg_ptr (group number c->pg_next) into pvals. */
static int decode_group(postings_cursor *c)
{
    unsigned bits;
    size_t size = codec_patched_decode128(c->pg_ptr, c->pos_end, c->pvals, &bits);
    if (size == 0) return SE_CORRUPT;
    c->pg_cached = c->pg_next;
    c->pg_ptr += size;
    c->pg_next++;
    return SE_OK;
}

/* Step pg_ptr over whole groups up to group g (>= pg_next). */
static int seek_group(postings_cursor *c, uint32_t g)
{
    while (c->pg_next < g) {
        size_t size = codec_patched_size(c->pg_ptr, c->pos_end);
        if (size == 0) return SE_CORRUPT;
        c->pg_ptr += size;
        c->pg_next++;
    }
    return SE_OK;
}

/* Load block b (b < nblocks, or b == 0 for a short list). */
static int load_block(postings_cursor *c, uint32_t b)
{
    uint32_t prev = UINT32_MAX;
    const uint8_t *limit = c->end;
    if (c->skip) {
        if (b > 0) prev = skip_u32(c, b - 1, 0);
        uint64_t start = b == 0 ? c->impacts_end : skip_u32(c, b - 1, 1);
        uint64_t stop = skip_u32(c, b, 1);
        if (start > stop || stop > (uint64_t)(c->end - c->start)) return SE_CORRUPT;
        c->next = c->start + start;
        limit = c->start + stop;
        uint32_t pos_off = skip_u32(c, b, 2);
        if (pos_off > (uint64_t)(c->pos_end - c->pos_start)) return SE_CORRUPT;
        c->pos_ptr = c->pos_start + pos_off;
    } else {
        c->next = c->start;
        c->pos_ptr = c->pos_start;
    }
    c->pos_doc = 0;
    uint32_t full = c->df / SEG_BLOCK;
    c->pos_packed = c->skip && b < full;
    c->pos_groups = UINT32_MAX;
    if (c->skip && b < full) {
        /* Only the gaps are decoded here; the tfs' patched block is only
         * sized from its header (postings_cursor_decode_freqs decodes it). */
        unsigned wg;
        size_t gsize = codec_patched_decode128(c->next, limit, c->docs, &wg);
        size_t tsize = gsize ? codec_patched_size(c->next + gsize, limit) : 0;
        if (tsize == 0 || (size_t)(limit - c->next) != gsize + tsize) return SE_CORRUPT;
        codec_gaps_to_docs(c->docs, SEG_BLOCK, prev);
        /* 128 gaps of at most 2^24 cannot wrap past 2^32 from an id below
         * 2^31; wider ones might, which would make ids go backwards. */
        if (wg > 24)
            for (int k = 1; k < SEG_BLOCK; k++)
                if (c->docs[k] <= c->docs[k - 1]) return SE_CORRUPT;
        /* The gaps may not wrap around and the block must end where the
         * skip table says; both together bound every id in the block. */
        if (c->docs[SEG_BLOCK - 1] != skip_u32(c, b, 0) || c->docs[SEG_BLOCK - 1] >= c->ndocs ||
            (prev != UINT32_MAX && c->docs[0] <= prev) || c->docs[0] > c->docs[SEG_BLOCK - 1])
            return SE_CORRUPT;
        c->freq_ptr = c->next + gsize;
        c->count = SEG_BLOCK;
        c->next = limit;
    } else {
        uint32_t n = c->skip ? c->df - full * SEG_BLOCK : c->df;
        c->freq_ptr = NULL;
        if (n == 0 || n > SEG_BLOCK) return SE_CORRUPT;
        if (decode_tail(c, n, prev, limit) != SE_OK) return SE_CORRUPT;
        if (c->skip && (c->next != limit || c->docs[n - 1] != skip_u32(c, b, 0))) return SE_CORRUPT;
        c->count = n;
    }
    c->block = b;
    c->i = 0;
    c->doc = c->docs[0];
    return SE_OK;
}

/* v[k] += 1 over a block (a block's tfs are stored minus 1): sixteen at a
 * time, as -O2 does not vectorize the loop. */
static inline void add_one(uint32_t *v)
{
#if defined(__SSE2__)
    const __m128i one = _mm_set1_epi32(1);
    for (int k = 0; k < SEG_BLOCK; k += 16) {
        __m128i *p = (__m128i *)(void *)(v + k);
        _mm_storeu_si128(p, _mm_add_epi32(_mm_loadu_si128(p), one));
        _mm_storeu_si128(p + 1, _mm_add_epi32(_mm_loadu_si128(p + 1), one));
        _mm_storeu_si128(p + 2, _mm_add_epi32(_mm_loadu_si128(p + 2), one));
        _mm_storeu_si128(p + 3, _mm_add_epi32(_mm_loadu_si128(p + 3), one));
    }
#else
    for (int k = 0; k < SEG_BLOCK; k++) v[k] += 1;
#endif
}

/* end[k] = v[0] + ... + v[k] over a block, in 32 bits (the caller knows
 * the sum cannot wrap).  Four lanes at a time: the vector plus itself
 * shifted by one lane, then by two, plus the running total. */
static inline void inclusive_sums(const uint32_t *v, uint32_t *end)
{
#if defined(__SSE2__)
    __m128i run = _mm_setzero_si128();
    for (int k = 0; k < SEG_BLOCK; k += 4) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(v + k));
        x = _mm_add_epi32(x, _mm_slli_si128(x, 4));
        x = _mm_add_epi32(x, _mm_slli_si128(x, 8));
        x = _mm_add_epi32(x, run);
        _mm_storeu_si128((__m128i *)(void *)(end + k), x);
        run = _mm_shuffle_epi32(x, 0xff);
    }
#else
    uint32_t total = 0;
    for (int k = 0; k < SEG_BLOCK; k++) end[k] = total += v[k];
#endif
}

int postings_cursor_decode_freqs(postings_cursor *c)
{
    if (!c->freq_ptr) return c->status;
    unsigned wt;
    /* load_block checked that this patched block ends at c->next. */
    size_t size = codec_patched_decode128(c->freq_ptr, c->next, c->freqs, &wt);
    c->freq_ptr = NULL;
    if (size == 0) {
        cursor_fail(c);
        return SE_CORRUPT;
    }
    c->freq_bits = wt;
    add_one(c->freqs);
    /* A 32-bit tf - 1 of 2^32 - 1 would wrap to tf 0. */
    if (wt == 32)
        for (int k = 0; k < SEG_BLOCK; k++)
            if (c->freqs[k] == 0) {
                cursor_fail(c);
                return SE_CORRUPT;
            }
    return SE_OK;
}

void postings_cursor_open(postings_cursor *c, const segment *s, const seg_term_info *info)
{
    const fio_map *dm = segment_file(s, SEG_POST), *pm = segment_file(s, SEG_POS);
    c->status = SE_OK;
    c->df = info->df;
    c->ndocs = segment_ndocs(s);
    /* Extents were bounds-checked against the files by the dictionary. */
    c->start = dm->data + info->doc_off;
    c->end = c->start + info->doc_len;
    c->pos_start = pm->data + info->pos_off;
    c->pos_end = c->pos_start + info->pos_len;
    c->skip = NULL;
    c->nblocks = 0;
    c->freq_ptr = NULL;
    if (info->df >= SEG_BLOCK) {
        c->nblocks = (info->df + SEG_BLOCK - 1) / SEG_BLOCK;
        uint64_t table = (uint64_t)c->nblocks * SEG_SKIP_ENTRY;
        if (table > info->doc_len) {
            c->nblocks = 0;
            cursor_fail(c);
            return;
        }
        c->skip = c->start;
        /* The impacts lie between the table and the first block. */
        c->impacts_end = skip_u32(c, c->nblocks - 1, 3);
        if (c->impacts_end < table || c->impacts_end > info->doc_len) {
            /* No table either: nothing may follow the bad offset. */
            c->skip = NULL;
            c->nblocks = 0;
            cursor_fail(c);
            return;
        }
    }
    if (load_block(c, 0) != SE_OK) cursor_fail(c);
}

static uint32_t next_block(postings_cursor *c)
{
    uint32_t b = c->block + 1;
    if (b >= c->nblocks) {
        c->doc = POSTINGS_END;
        c->i = c->count;
        return POSTINGS_END;
    }
    if (load_block(c, b) != SE_OK) return cursor_fail(c);
    return c->doc;
}

uint32_t postings_cursor_next_block(postings_cursor *c)
{
    if (c->doc == POSTINGS_END) return POSTINGS_END;
    return next_block(c);
}

uint32_t postings_block_find(const postings_cursor *c, uint32_t from, uint32_t target)
{
    uint32_t b = from;
    if (b < c->nblocks && skip_u32(c, b, 0) < target) {
        /* Gallop, then bisect: last(lo) < target <= last(hi) (hi ==
         * nblocks: past the end).  A rare lead term makes long jumps
         * through a common term's table. */
        uint32_t lo = b, hi, step = 1;
        for (;;) {
            hi = lo + step;
            if (hi >= c->nblocks) {
                hi = c->nblocks;
                break;
            }
            if (skip_u32(c, hi, 0) >= target) break;
            lo = hi;
            step <<= 1;
        }
        while (hi - lo > 1) {
            uint32_t mid = lo + (hi - lo) / 2;
            if (skip_u32(c, mid, 0) >= target)
                hi = mid;
            else
                lo = mid;
        }
        b = hi;
    }
    return b < c->nblocks ? b : c->nblocks;
}

uint32_t postings_block_last(const postings_cursor *c, uint32_t b)
{
    return skip_u32(c, b, 0);
}

uint32_t postings_cursor_advance_past_block(postings_cursor *c, uint32_t target)
{
    /* Find the first later block whose last doc reaches the target,
     * without decoding the ones in between. */
    uint32_t b = c->skip ? postings_block_find(c, c->block + 1, target) : c->nblocks;
    if (b >= c->nblocks) {
        c->doc = POSTINGS_END;
        c->i = c->count;
        return POSTINGS_END;
    }
    if (load_block(c, b) != SE_OK) return cursor_fail(c);
    c->i = postings_block_seek(c->docs, 0, c->count, target);
    return c->doc = c->docs[c->i];
}

/* Positions of the current document of a full block (see the top). */
static uint32_t packed_positions(postings_cursor *c, uint32_t *out)
{
    /* tf_sums in 32 bits when the block's tfs are below 2^24 (their sum
     * is then below 2^31); otherwise in 64 bits, summed here each time
     * (such a block holds a document with over 16 million positions of
     * the term, whose decoding dwarfs the sum). */
    int narrow = c->freq_bits <= 24;
    if (c->pos_groups == UINT32_MAX) { /* first use in this block */
        uint64_t total = 0;
        if (narrow) {
            inclusive_sums(c->freqs, c->tf_sums);
            total = c->tf_sums[SEG_BLOCK - 1];
        } else {
            for (uint32_t k = 0; k < SEG_BLOCK; k++) total += c->freqs[k];
        }
        c->pos_groups = (uint32_t)(total / SEG_BLOCK);
        c->pg_ptr = c->pos_ptr;
        c->pg_next = 0;
        c->pg_cached = UINT32_MAX;
        c->tail_ptr = NULL;
    }
    uint64_t at = 0;
    if (narrow) {
        at = c->i > 0 ? c->tf_sums[c->i - 1] : 0;
    } else {
        for (uint32_t k = 0; k < c->i; k++) at += c->freqs[k];
    }
    uint32_t tf = c->freqs[c->i], pos = 0;
    uint64_t in_groups = (uint64_t)c->pos_groups * SEG_BLOCK;
    for (uint32_t k = 0; k < tf;) {
        uint64_t v = at + k;
        if (v < in_groups) {
            uint32_t g = (uint32_t)(v / SEG_BLOCK);
            if (g != c->pg_cached && (seek_group(c, g) != SE_OK || decode_group(c) != SE_OK))
                return 0;
            uint32_t j = (uint32_t)(v % SEG_BLOCK), n = SEG_BLOCK - j;
            if (n > tf - k) n = tf - k;
            for (uint32_t m = 0; m < n; m++, k++) {
                uint32_t gap = c->pvals[j + m];
                if ((k > 0 && gap == 0) || gap > UINT32_MAX - pos) return 0;
                pos += gap;
                out[k] = pos;
            }
        } else {
            if (!c->tail_ptr) {
                if (seek_group(c, c->pos_groups) != SE_OK) return 0;
                c->tail_ptr = c->pg_ptr;
                c->tail_index = in_groups;
            }
            const uint8_t *p = c->tail_ptr;
            if (v > c->tail_index) p = codec_varint_skip(p, c->pos_end, v - c->tail_index);
            for (; p && k < tf; k++) {
                uint32_t gap;
                p = codec_varint_get32(p, c->pos_end, &gap);
                if (!p || (k > 0 && gap == 0) || gap > UINT32_MAX - pos) return 0;
                pos += gap;
                out[k] = pos;
            }
            if (!p) return 0;
            c->tail_ptr = p;
            c->tail_index = at + tf;
        }
    }
    c->pos_doc = c->i + 1;
    if (c->pos_doc == SEG_BLOCK) {
        /* The block's positions must end where the next block's begin. */
        const uint8_t *end = c->tail_ptr;
        if (at + tf > in_groups) {
            if (!end || c->tail_index != at + tf) return 0;
        } else {
            if (seek_group(c, c->pos_groups) != SE_OK) return 0;
            end = c->pg_ptr;
        }
        const uint8_t *want =
            c->block + 1 < c->nblocks ? c->pos_start + skip_u32(c, c->block + 1, 2) : c->pos_end;
        if (end != want) return 0;
        c->pos_ptr = end;
    }
    return tf;
}

uint32_t postings_cursor_positions(postings_cursor *c, uint32_t *out, uint32_t cap)
{
    if (c->doc == POSTINGS_END || postings_cursor_decode_freqs(c) != SE_OK) return 0;
    if (c->freqs[c->i] > cap) {
        cursor_fail(c);
        return 0;
    }
    if (c->pos_packed) {
        if (c->pos_doc > c->i) return 0; /* cannot happen: cursors only move forward */
        uint32_t n = packed_positions(c, out);
        if (n == 0) cursor_fail(c);
        return n;
    }
    /* Skip the positions of the documents before the current one. */
    if (c->pos_doc > c->i) return 0; /* cannot happen: cursors only move forward */
    uint64_t skip = 0;
    for (uint32_t k = c->pos_doc; k < c->i; k++) skip += c->freqs[k];
    const uint8_t *p = c->pos_ptr;
    if (skip) p = codec_varint_skip(p, c->pos_end, skip);
    if (!p) {
        cursor_fail(c);
        return 0;
    }
    uint32_t tf = c->freqs[c->i], pos = 0;
    for (uint32_t k = 0; k < tf; k++) {
        uint32_t gap;
        p = codec_varint_get32(p, c->pos_end, &gap);
        if (!p || (k > 0 && gap == 0) || gap > UINT32_MAX - pos) {
            cursor_fail(c);
            return 0;
        }
        pos += gap;
        out[k] = pos;
    }
    c->pos_ptr = p;
    c->pos_doc = c->i + 1;
    return tf;
}

uint32_t postings_block_impacts(postings_cursor *c, uint32_t b, impact *out)
{
    if (!c->skip || b >= c->nblocks) return 0;
    uint32_t start = b == 0 ? c->nblocks * SEG_SKIP_ENTRY : skip_u32(c, b - 1, 3);
    uint32_t stop = skip_u32(c, b, 3);
    size_t n = 0;
    if (start <= stop && stop <= c->impacts_end)
        n = impacts_decode(c->start + start, c->start + stop, out);
    if (n == 0) cursor_fail(c);
    return (uint32_t)n;
}

int postings_block(postings_cursor *c, uint32_t b, postings_block_info *out)
{
    if (!c->skip || b >= c->nblocks) return SE_INVALID;
    uint32_t n = postings_block_impacts(c, b, out->impacts);
    if (n == 0) return SE_CORRUPT;
    out->nimpacts = n;
    out->last_doc = skip_u32(c, b, 0);
    /* In increasing tf order the lengths increase too. */
    out->max_tf = out->impacts[n - 1].tf;
    out->min_len = out->impacts[0].len;
    return SE_OK;
}
