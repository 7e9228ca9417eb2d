/*
 * postings.h - a cursor over one term's postings in one segment.
 *
 * The cursor walks the term's documents in increasing id order, one decoded
 * 128-doc block at a time (docs[] and freqs[] hold the block; a full
 * block's tfs are decoded when first read, through postings_cursor_freq or
 * postings_cursor_block_freqs, never directly from freqs[]), and skips
 * whole blocks through the skip table in postings_cursor_advance without
 * decoding them.  The skip table also gives each block's impacts (its
 * (tf, length) frontier, common/impacts.h) and lets a caller find the block
 * holding a document without moving the cursor, for block-max pruning.  Positions are decoded only
 * when asked for, for the current document: in a full block (bit-packed positions) by unpacking
 * only the 128-value group(s) holding them; elsewhere (variable-byte) by
 * skipping the earlier documents' positions.
 *
 * Malformed data (a block that runs past the term's extent, a width above
 * 32, a doc id outside the segment) ends the cursor and sets `status` to
 * SE_CORRUPT; callers check status once after evaluating a query.
 *
 * Allocation-free; a cursor is used by one thread.
 */
#ifndef SE_POSTINGS_H
#define SE_POSTINGS_H

#include <stdint.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "common/impacts.h"
#include "common/segment.h"

#define POSTINGS_END UINT32_MAX

typedef struct postings_cursor {
    uint32_t doc;     /* current document, POSTINGS_END when exhausted */
    int status;       /* SE_OK, or SE_CORRUPT once malformed data was met */
    uint32_t i;       /* index of the current document within the block */
    uint32_t count;   /* documents in the loaded block */
    uint32_t block;   /* index of the loaded block */
    uint32_t nblocks; /* blocks in the skip table (0: short list, no table) */
    uint32_t df, ndocs;
    const uint8_t *start, *end; /* the term's bytes in .doc */
    const uint8_t *skip;        /* skip table, or NULL */
    uint32_t impacts_end;       /* end of the blocks' impacts (= first block's data),
                                   relative to start */
    const uint8_t *next;        /* where the next block's data begins */
    /* A full block's tfs are decoded only when first asked for: a cursor
     * that a rarer list moves from block to block mostly leaves a block
     * without reading any.  freq_ptr is their patched block (its size was
     * checked when the block was loaded), NULL once freqs[] holds them. */
    const uint8_t *freq_ptr;
    const uint8_t *pos_start, *pos_end; /* the term's bytes in .pos */
    const uint8_t *pos_ptr;             /* variable-byte: positions of docs[pos_doc] start
                                           here; packed: end of what was read */
    uint32_t pos_doc;                   /* first document whose positions are unread */
    /* Packed positions of a full block: values are numbered 0 ... total-1
     * in document order; groups of SEG_BLOCK values, then a variable-byte
     * tail of total % SEG_BLOCK. */
    int pos_packed;
    uint32_t pos_groups;   /* full groups; UINT32_MAX until first needed */
    const uint8_t *pg_ptr; /* start of group pg_next */
    uint32_t pg_next;      /* group at pg_ptr */
    uint32_t pg_cached;    /* group decoded into pvals, UINT32_MAX: none */
    const uint8_t
        *tail_ptr; /* variable-byte tail at value number tail_index (NULL: not found yet) */
    uint64_t tail_index;
    uint32_t docs[SEG_BLOCK];
    uint32_t freqs[SEG_BLOCK];
    uint32_t pvals[SEG_BLOCK]; /* the decoded group */
    /* Bit width of the loaded full block's largest tf - 1 (from its patched
     * block, once decoded).  At most 24, the 128 tfs sum below 2^31, so
     * tf_sums can be kept in 32 bits. */
    unsigned freq_bits;
    /* Packed positions: tf_sums[k], the value number one past docs[k]'s
     * last position (the sum of the tfs up to k), filled when the block's positions are first
     * read, if freq_bits <= 24; otherwise each document's first value
     * number is summed in 64 bits when asked for. */
    uint32_t tf_sums[SEG_BLOCK];
} postings_cursor;

/* Position the cursor on the term's first document. */
void postings_cursor_open(postings_cursor *c, const segment *s, const seg_term_info *info);

/* Move to another block for postings_cursor_next. */
uint32_t postings_cursor_next_block(postings_cursor *c);

/* Move to the next document; returns the new current doc.  A step within
 * the loaded block is inline: unions take it once per candidate and list. */
static inline uint32_t postings_cursor_next(postings_cursor *c)
{
    if (c->doc == POSTINGS_END) return POSTINGS_END;
    if (++c->i < c->count) return c->doc = c->docs[c->i];
    return postings_cursor_next_block(c);
}

/* (postings_cursor_advance, for a target past the loaded block.) */
uint32_t postings_cursor_advance_past_block(postings_cursor *c, uint32_t target);

/* The first index j in [i, count) with docs[j] >= target, given docs[i]
 * < target <= docs[count - 1] or docs[i] >= target (then i).  Cursors
 * that a rarer list moves mostly land a few documents on, so the next
 * eight are compared at once (SSE2: ids are below 2^31, so a signed
 * compare is exact); a longer jump is a binary search whose steps are
 * arithmetic, not branches (the direction of each step is unpredictable).
 * Both paths return the same index. */
static inline uint32_t postings_block_seek(const uint32_t *docs, uint32_t i, uint32_t count,
                                           uint32_t target)
{
    if (docs[i] >= target) return i;
#if defined(__SSE2__)
    if (i + 8 <= count) {
        __m128i t = _mm_set1_epi32((int)(target - 1));
        __m128i a = _mm_cmpgt_epi32(_mm_loadu_si128((const __m128i *)(const void *)(docs + i)), t);
        __m128i b =
            _mm_cmpgt_epi32(_mm_loadu_si128((const __m128i *)(const void *)(docs + i + 4)), t);
        unsigned m = (unsigned)_mm_movemask_ps(_mm_castsi128_ps(a)) |
                     (unsigned)_mm_movemask_ps(_mm_castsi128_ps(b)) << 4;
        if (m) return i + (uint32_t)__builtin_ctz(m);
        i += 7; /* docs[i] < target still */
    }
#endif
    /* The answer is the number of documents below the target.  In a full
     * block: seven halvings of the whole block, a fixed sequence the
     * compiler unrolls; elsewhere over (i, count - 1], where the last
     * document is >= target. */
    if (count == SEG_BLOCK) {
        uint32_t pos = 0;
        for (uint32_t step = SEG_BLOCK / 2; step > 0; step >>= 1)
            pos += (uint32_t)(docs[pos + step - 1] < target) * step;
        return pos;
    }
    const uint32_t *base = docs + i + 1;
    uint32_t len = count - 1 - i;
    while (len > 1) {
        uint32_t half = len / 2;
        base += (uint32_t)(base[half - 1] < target) * half;
        len -= half;
    }
    return (uint32_t)(base - docs);
}

/* Move to the first document >= target (never backwards); returns it.
 * Inline while the target is in the loaded block: a rarer list moves a
 * common one mostly within its block. */
static inline uint32_t postings_cursor_advance(postings_cursor *c, uint32_t target)
{
    if (c->doc >= target) return c->doc;
    if (c->docs[c->count - 1] < target) return postings_cursor_advance_past_block(c, target);
    c->i = postings_block_seek(c->docs, c->i, c->count, target);
    return c->doc = c->docs[c->i];
}

/* Decode the loaded block's tfs into freqs[] (see freq_ptr).  SE_OK, or
 * SE_CORRUPT with the cursor ended. */
int postings_cursor_decode_freqs(postings_cursor *c);

/* The loaded block's tfs, freqs[0 .. count): for block-at-a-time loops.
 * NULL on malformed data (the cursor has ended). */
static inline const uint32_t *postings_cursor_block_freqs(postings_cursor *c)
{
    if (c->freq_ptr && postings_cursor_decode_freqs(c) != SE_OK) return NULL;
    return c->freqs;
}

/* The current document's tf: >= 1, or 0 on malformed data (the cursor has
 * ended with status SE_CORRUPT). */
static inline uint32_t postings_cursor_freq(postings_cursor *c)
{
    if (c->freq_ptr && postings_cursor_decode_freqs(c) != SE_OK) return 0;
    return c->freqs[c->i];
}

/* Decode the current document's positions into out, which has room for
 * `cap` values (size it by the term's max tf).  Returns the count, or 0 and
 * sets status on malformed data, including a tf above cap. */
uint32_t postings_cursor_positions(postings_cursor *c, uint32_t *out, uint32_t cap);

/* The skip table, read without decoding any block (so without moving the
 * cursor): for block-max pruning ("shallow" moves) and --verify.
 *
 * postings_block_find: the first block b >= from whose last document is
 * >= target, or nblocks when there is none (also for a short list, whose
 * nblocks is 0).  postings_block_last: block b's last document (b <
 * nblocks). */
uint32_t postings_block_find(const postings_cursor *c, uint32_t from, uint32_t target);
uint32_t postings_block_last(const postings_cursor *c, uint32_t b);

/* Block b's impacts into out (room for IMPACTS_MAX pairs, increasing tf):
 * returns their count, or 0 for a short list or b >= nblocks, and for
 * malformed impacts, which also end the cursor with status SE_CORRUPT. */
uint32_t postings_block_impacts(postings_cursor *c, uint32_t b, impact *out);

/* Block b's last doc and impacts, with the largest tf and the shortest
 * length among them.  SE_INVALID for a short list or b >= nblocks,
 * SE_CORRUPT (cursor ended) for malformed impacts. */
typedef struct postings_block_info {
    uint32_t last_doc, max_tf, min_len;
    uint32_t nimpacts;
    impact impacts[IMPACTS_MAX];
} postings_block_info;
int postings_block(postings_cursor *c, uint32_t b, postings_block_info *out);

#endif
