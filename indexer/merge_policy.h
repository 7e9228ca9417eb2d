/*
 * merge_policy.h - which segments to merge, and merging them with commits.
 *
 * The policy is logarithmic in the live document count.  A segment with n
 * live documents sits at level floor(log_F(n)) (F, the merge factor,
 * defaults to 10).  Whenever a level holds F segments, F of them (the oldest
 * first, in manifest order) are merged into one, which lands one level up
 * or more; this repeats until every level holds fewer than F.  A segment
 * more than a third of whose documents are deleted is rewritten on its own
 * (merges always drop deleted documents).  So an index of N live documents
 * has at most (F - 1) * (floor(log_F(N)) + 1) segments after every run,
 * however the documents arrived, and each document is rewritten about
 * log_F(N) times over its life.
 *
 * merge_policy_apply performs the merges the policy (or `optimize`: merge
 * everything into one segment without deletions) asks for, each one a new
 * segment written and fsynced, then committed as a new manifest generation,
 * then the merged segments' files removed.  A crash between steps leaves the
 * last committed generation intact; the next writer removes the debris.
 * The caller holds the writer lock.
 */
#ifndef SE_MERGE_POLICY_H
#define SE_MERGE_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "common/manifest.h"
#include "common/status.h"

#define MERGE_POLICY_FACTOR 10
#define MERGE_MAX_FANIN     32 /* segments opened by one merge (each holds 5-6 mappings) */

/* Choose the next merge for m: fills pick[] with indexes into m->segments
 * in increasing order and returns how many (0: nothing to merge).  pick
 * must have room for MERGE_MAX_FANIN entries. */
size_t merge_policy_next(const manifest *m, unsigned factor, int optimize, uint32_t *pick);

typedef struct merge_run_stats {
    uint64_t merges;         /* merges committed */
    uint64_t docs_rewritten; /* live documents copied by them */
    uint64_t deleted_purged; /* deleted documents dropped by them */
} merge_run_stats;

/* Merge until the policy is satisfied.  *m is the current (committed)
 * generation; on return it is the latest committed one, also after an
 * error (the merges committed before it stay).  factor 0 means
 * MERGE_POLICY_FACTOR. */
int merge_policy_apply(const char *dir, manifest *m, unsigned factor, int optimize, int store_level,
                       merge_run_stats *st, se_error *err);

#endif
