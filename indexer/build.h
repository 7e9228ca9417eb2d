/*
 * build.h - indexing documents into an index directory.
 *
 * build_index reads every document from an input reader, analyses it,
 * inverts it in memory, writes a segment whenever the in-memory batch passes
 * the memory budget, merges the batch segments into one at the end, and
 * commits a new manifest generation whose only segment is the new one (the
 * previous generation's files are removed after the commit).  It holds the
 * index's writer lock throughout.  On any error nothing is committed: the
 * previous generation stays current and the files written so far are
 * removed; a directory created by this run is removed again.
 *
 * Not thread-safe: one build per index at a time (the lock enforces it
 * across processes).
 */
#ifndef SE_BUILD_H
#define SE_BUILD_H

#include <stddef.h>
#include <stdint.h>

#include "common/status.h"
#include "indexer/input.h"

#define BUILD_DEFAULT_MEMORY ((size_t)256 << 20)

typedef struct build_stats {
    uint64_t documents;   /* indexed */
    uint64_t tokens;      /* indexed tokens */
    uint64_t bytes;       /* bytes of title and text indexed */
    uint64_t long_terms;  /* tokens skipped for exceeding the term length limit */
    uint64_t batches;     /* segments written before the final merge */
    uint64_t terms;       /* distinct terms in the final segment */
    uint64_t index_bytes; /* size of the committed segment's files */
    uint64_t generation;  /* committed manifest generation */
    double seconds;
    int input_error; /* set when the failure came from the input side */
} build_stats;

typedef struct build_options {
    size_t memory_budget; /* bytes; 0 = BUILD_DEFAULT_MEMORY */
    int store_level;      /* zlib level of the document store; 0 = default (1) */
    /* Called about twice a second while indexing; may be NULL. */
    void (*progress)(void *ctx, const build_stats *st);
    void *progress_ctx;
} build_options;

int build_index(const char *dir, input_reader *in, const build_options *opt, build_stats *st,
                se_error *err);

#endif
