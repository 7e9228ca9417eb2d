/*
 * merge.h - merging segments into one.
 *
 * Deleted documents are dropped (and terms left without a live document);
 * the others keep their order (segment by segment); terms are merged in
 * sorted order with a k-way merge of the dictionaries, and each term's
 * postings are streamed through postings cursors into the new segment, so
 * memory holds one term's postings at a time, never a whole segment.
 *
 * Returns SE_OK with *meta describing the new segment, or an error with the
 * new segment's files removed.  The sources are only read.
 */
#ifndef SE_MERGE_H
#define SE_MERGE_H

#include <stddef.h>
#include <stdint.h>

#include "common/segment.h"
#include "common/status.h"

int merge_segments(segment *const *sources, size_t nsources, const char *dir, uint32_t number,
                   int store_level, seg_meta *meta, se_error *err);

/* The same, for sources whose stores were all written at store_level (the
 * batch segments of one run): their full, wholly live store chunks that
 * start where the new segment's store would start a chunk anyway are copied
 * without being decompressed and compressed again.  The result is byte for
 * byte what merge_segments writes.  With threads > 1 a second thread merges
 * the upper part of the terms (into a postings part, segment_writer.h)
 * while the calling thread copies the store and merges the lower part;
 * the bytes are the same. */
int merge_segments_same_level(segment *const *sources, size_t nsources, const char *dir,
                              uint32_t number, int store_level, unsigned threads, seg_meta *meta,
                              se_error *err);

#endif
