/*
 * build.h - adding, replacing and deleting documents in an index directory.
 *
 * build_index updates the index in dir from an input reader:
 *   - a document whose id is new is added;
 *   - a document whose id is in the index with different content (XXH3 of
 *     title and text) replaces it: the old copy is marked deleted;
 *   - a document whose id and content are already there is skipped;
 *   - an id given twice in one run: the later copy wins;
 *   - ids in opt->delete_ids are deleted (before the input is read, so an
 *     id both deleted and given in the input ends up replaced);
 *   - in BUILD_SYNC mode, every document the input did not mention is
 *     deleted as well, so the index holds exactly the input afterwards;
 *   - in BUILD_REBUILD mode the index is written from scratch: the previous
 *     segments are dropped whole at the commit.
 * New documents are inverted in memory, written as a segment whenever the
 * in-memory batch passes the memory budget, and the batch segments merged
 * into one.  Deletions are recorded in new deletions files beside the
 * existing segments (common/deletions.h); existing segments are never
 * rewritten by this step.  Everything is then committed as one new manifest
 * generation (nothing is committed when nothing changed).  After the commit
 * the merge policy runs (merge_policy.h), each merge a commit of its own;
 * opt->optimize merges everything into one segment.
 *
 * It holds the index's writer lock throughout.  On an error before the
 * commit nothing is committed: the previous generation stays current and
 * the files written so far are removed; a directory created by this run is
 * removed again.  An error while merging after the commit leaves the
 * documents committed (st->generation says which generation).
 *
 * With opt->threads > 1 the documents to add are indexed by that many
 * worker threads, in ranges of consecutive documents, while the calling
 * thread reads the input; the index written is byte for byte the one a
 * single thread writes.  Callbacks are called from the calling thread only.
 *
 * Not thread-safe: one build per index at a time (the lock enforces it
 * across processes).
 */
#ifndef SE_BUILD_H
#define SE_BUILD_H

#include <stddef.h>
#include <stdint.h>

#include "common/analyzer.h"
#include "common/status.h"
#include "indexer/input.h"

#define BUILD_DEFAULT_MEMORY ((size_t)256 << 20)
/* Analysis of a new index: Porter's stemmer, stop words kept ("porter";
 * chosen on SciFact's train queries, see bench/EVAL.md). */
#define BUILD_DEFAULT_ANALYSIS ANALYZER_PORTER

enum build_mode { BUILD_UPDATE = 0, BUILD_SYNC, BUILD_REBUILD };

typedef struct build_stats {
    uint64_t documents;   /* documents written into new segments (added + replaced) */
    uint64_t added;       /* ids that were not in the index */
    uint64_t replaced;    /* ids whose content changed */
    uint64_t unchanged;   /* ids whose content was already indexed (skipped) */
    uint64_t superseded;  /* copies of an id given again later in the same run */
    uint64_t deleted;     /* documents deleted (--delete, --sync) */
    uint64_t not_found;   /* ids asked to be deleted that the index does not hold */
    uint64_t tokens;      /* indexed tokens */
    uint64_t bytes;       /* bytes of title and text indexed */
    uint64_t long_terms;  /* tokens skipped for exceeding the term length limit */
    uint64_t cut_docs;    /* documents indexed only up to ANALYZER_MAX_POSITIONS */
    uint64_t batches;     /* segments written before the final merge */
    uint64_t merges;      /* merges committed by the merge policy / optimize */
    uint64_t terms;       /* distinct terms in the new segment */
    uint64_t index_bytes; /* size of the new segment's files */
    uint64_t generation;  /* last committed manifest generation (0: none) */
    uint32_t segments;    /* segments in that generation */
    uint64_t live_docs;   /* documents in that generation */
    int committed;        /* a new generation was committed by this run */
    int commit_unknown;   /* writing the manifest failed at a point where it may
                             or may not have replaced the previous one */
    double seconds;
    /* Wall time of the phases, in seconds: reading the input (and, with
     * threads, indexing it), waiting for the last ranges, writing the last
     * batch and the deletions files, the final merge, the commit and the
     * merge policy. */
    double read_seconds, drain_seconds, flush_seconds, merge_seconds, commit_seconds,
        policy_seconds;
    int input_error; /* set when the failure came from the input side */
} build_stats;

typedef struct build_options {
    size_t memory_budget; /* bytes; 0 = BUILD_DEFAULT_MEMORY */
    int store_level;      /* zlib level of the document store; 0 = default (1) */
    enum build_mode mode;
    const char *const *delete_ids; /* documents to delete by id */
    size_t ndelete_ids;
    int optimize;          /* merge into one segment without deletions at the end */
    int no_merge;          /* do not run the merge policy */
    unsigned merge_factor; /* 0 = MERGE_POLICY_FACTOR */
    /* Analyzer settings (analyzer.h) for a new index or a rebuild.  Not
     * given: an existing index keeps its own, a new one gets
     * BUILD_DEFAULT_ANALYSIS; given and different from an existing index's
     * without BUILD_REBUILD: SE_INVALID. */
    int analysis_given;
    uint32_t analysis;
    unsigned threads; /* indexing threads; 0 or 1 = the calling thread only */
    /* Called about twice a second while indexing; may be NULL. */
    void (*progress)(void *ctx, const build_stats *st);
    void *progress_ctx;
    /* Called for each id of delete_ids the index does not hold; may be NULL. */
    void (*not_found)(void *ctx, const char *id);
    void *not_found_ctx;
    /* Documents from the caller instead of an input reader (used when `in`
     * is NULL; may be NULL): returns 1 with *doc filled (valid UTF-8, valid
     * until the next call), 0 at the end, or a negative SE_ code with the
     * message in *err. */
    int (*next_document)(void *ctx, input_doc *doc, se_error *err);
    void *next_document_ctx;
    /* The caller already holds dir's writer lock (index_lock_acquire) and
     * releases it itself; build_index neither takes nor releases it. */
    int lock_held;
    /* Called for each document with tokens past ANALYZER_MAX_POSITIONS (not
     * indexed); source and line as in input_doc.  May be NULL. */
    void (*warn)(void *ctx, const char *source, uint64_t line, const char *message);
    void *warn_ctx;
} build_options;

/* `in` may be NULL (documents from opt->next_document, or only deletions
 * and merges).  Returns SE_OK or an error with the message in *err; *st is
 * filled in either case. */
int build_index(const char *dir, input_reader *in, const build_options *opt, build_stats *st,
                se_error *err);

#endif
