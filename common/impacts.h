/*
 * impacts.h - per-block score bounds of a postings list ("impacts").
 *
 * A block's impacts are the (tf, document length) pairs of its documents
 * that no other document of the block dominates, i.e. none has tf >= and
 * length <= with one of them strictly better: the Pareto frontier.  Every
 * BM25 variant of searcher/bm25.h (with a non-negative idf) rises with tf
 * and does not rise with length, so the largest score any document of the
 * block can get, for any k1, b, variant and average length chosen at query
 * time, is the largest score of a frontier pair.
 *
 * Sorted by increasing tf, a frontier has strictly increasing lengths too.
 * It is capped at IMPACTS_MAX pairs: a longer one has neighbours (t1, l1),
 * (t2, l2) replaced by (t2, l1), which dominates both, until it fits; the
 * pairs are then upper bounds rather than exact, and the order stays
 * strictly increasing in both members.
 *
 * Encoding (docs/FORMAT.md, `.doc`): the pairs in that order, the first as
 * varint tf, varint length, each next one as varint (tf - previous tf - 1),
 * varint (length - previous length - 1).  The count is not stored: the
 * pairs fill a byte range the skip table gives.
 *
 * Pure functions, no allocation; thread-safe.
 */
#ifndef SE_IMPACTS_H
#define SE_IMPACTS_H

#include <stddef.h>
#include <stdint.h>

#include "common/codec.h"

#define IMPACTS_MAX         8
#define IMPACTS_ENCODED_MAX (IMPACTS_MAX * 2 * CODEC_VARINT32_MAX)

typedef struct impact {
    uint32_t tf, len;
} impact;

/* The frontier of n >= 1 documents (tfs[k] >= 1, lens[k]), capped at
 * IMPACTS_MAX pairs, into out (room for IMPACTS_MAX) in increasing tf
 * order.  Returns the number of pairs (1 ... IMPACTS_MAX; 0 when n is 0). */
size_t impacts_frontier(const uint32_t *tfs, const uint32_t *lens, size_t n, impact *out);

/* Encode n pairs as produced by impacts_frontier at out (room for
 * IMPACTS_ENCODED_MAX bytes); returns the bytes written. */
size_t impacts_encode(const impact *in, size_t n, uint8_t *out);

/* Decode the pairs filling [p, end) exactly into out (room for
 * IMPACTS_MAX).  Returns their count, or 0 when the bytes are malformed:
 * empty, truncated, more than IMPACTS_MAX pairs, a tf of 0, or a value
 * past 2^32 - 1. */
size_t impacts_decode(const uint8_t *p, const uint8_t *end, impact *out);

#endif
