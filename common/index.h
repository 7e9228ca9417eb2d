/*
 * index.h - an open index: the current manifest generation and its
 * segments, with the collection statistics BM25 needs.
 *
 * index_open reads MANIFEST and opens (maps and verifies) every segment it
 * names.  If a segment file vanished because a writer committed a newer
 * generation meanwhile, it rereads the manifest and tries again, so a reader
 * always ends up with one complete generation.
 *
 * Thread-safety: an open index is immutable; share it between threads.
 */
#ifndef SE_INDEX_H
#define SE_INDEX_H

#include <stdint.h>

#include "common/manifest.h"
#include "common/segment.h"
#include "common/status.h"

typedef struct index_reader {
    char *dir;
    manifest man;
    uint32_t nsegments;
    segment **segments;
    uint64_t ndocs;           /* live (not deleted) documents in all segments */
    uint64_t ndeleted;        /* deleted documents still in segments */
    uint64_t total_len;       /* sum of the live documents' lengths */
    uint64_t total_title_len; /* ... and of their title lengths (part of total_len) */
} index_reader;

/* Open the index in dir.  SE_NOTFOUND (no index there: message says so),
 * SE_CORRUPT / SE_FORMAT naming the bad file, SE_IO, SE_NOMEM. */
int index_open(index_reader **out, const char *dir, se_error *err);
void index_close(index_reader *ix);

/* The number of live documents containing the term, over all segments (0
 * if absent); negative SE_CORRUPT on a malformed dictionary. */
int64_t index_doc_freq(const index_reader *ix, const char *term, size_t len, se_error *err);

/* index_doc_freq, also giving each segment's dictionary entry for the term
 * in infos[0 .. nsegments) (df 0: the segment lacks it; entries have
 * df >= 1), so that a search need not look it up again. */
int64_t index_term_infos(const index_reader *ix, const char *term, size_t len, seg_term_info *infos,
                         se_error *err);

#endif
