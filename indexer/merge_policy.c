/* merge_policy.c - logarithmic merge policy and merges with commits (see merge_policy.h). */
#include "indexer/merge_policy.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "indexer/commit.h"
#include "indexer/merge.h"

static unsigned level_of(uint64_t live, unsigned factor)
{
    unsigned level = 0;
    while (live >= factor) {
        live /= factor;
        level++;
    }
    return level;
}

static uint64_t live_docs(const seg_meta *s)
{
    return s->ndocs - s->ndeleted;
}

size_t merge_policy_next(const manifest *m, unsigned factor, int optimize, uint32_t *pick)
{
    if (factor < 2) factor = MERGE_POLICY_FACTOR;
    if (factor > MERGE_MAX_FANIN) factor = MERGE_MAX_FANIN;
    uint32_t n = m->nsegments;
    if (optimize) {
        if (n == 0 || (n == 1 && m->segments[0].ndeleted == 0)) return 0;
        size_t take = n < MERGE_MAX_FANIN ? n : MERGE_MAX_FANIN;
        for (size_t i = 0; i < take; i++) pick[i] = (uint32_t)i;
        return take;
    }
    /* The lowest level holding `factor` segments: merge its oldest ones. */
    for (unsigned level = 0; level < 64; level++) {
        size_t count = 0, higher = 0;
        for (uint32_t i = 0; i < n; i++) {
            unsigned l = level_of(live_docs(&m->segments[i]), factor);
            if (l == level) count++;
            if (l > level) higher++;
        }
        if (count >= factor) {
            size_t got = 0;
            for (uint32_t i = 0; i < n && got < factor; i++)
                if (level_of(live_docs(&m->segments[i]), factor) == level) pick[got++] = i;
            return got;
        }
        if (higher == 0) break;
    }
    /* A segment that is mostly dead weight: rewrite it without its deleted
     * documents (a fully deleted one disappears). */
    for (uint32_t i = 0; i < n; i++)
        if ((uint64_t)m->segments[i].ndeleted * 3 > m->segments[i].ndocs) {
            pick[0] = i;
            return 1;
        }
    return 0;
}

static void remove_segment(const char *dir, uint32_t number)
{
    for (int f = 0; f < SEG_NFILES; f++) {
        char path[4096];
        if (seg_file_path(path, sizeof path, dir, number, (enum seg_file)f) == SE_OK) unlink(path);
    }
}

/* One merge of the picked segments, committed. */
static int merge_once(const char *dir, manifest *m, const uint32_t *pick, size_t npick,
                      int store_level, merge_run_stats *st, se_error *err)
{
    segment *segs[MERGE_MAX_FANIN] = {0};
    uint64_t live = 0, dead = 0;
    int rc = SE_OK;
    for (size_t i = 0; i < npick && rc == SE_OK; i++) {
        const seg_meta *sm = &m->segments[pick[i]];
        live += live_docs(sm);
        dead += sm->ndeleted;
        rc = segment_open(&segs[i], dir, sm, 1, err);
    }
    seg_meta merged;
    int have = 0;
    if (rc == SE_OK && live > 0) {
        rc = merge_segments(segs, npick, dir, m->next_segment, store_level, &merged, err);
        have = rc == SE_OK;
    }
    for (size_t i = 0; i < npick; i++) segment_close(segs[i]);
    if (rc != SE_OK) return rc;

    manifest next = {.generation = m->generation + 1,
                     .next_segment = m->next_segment + (have ? 1 : 0),
                     .nsegments = m->nsegments - (uint32_t)npick + (uint32_t)have,
                     .analysis = m->analysis};
    next.segments = calloc(next.nsegments ? next.nsegments : 1, sizeof *next.segments);
    if (!next.segments) {
        if (have) remove_segment(dir, merged.number);
        return se_fail(err, SE_NOMEM, "out of memory");
    }
    /* The merged segment takes the place of the first one it replaces. */
    uint32_t out = 0;
    size_t p = 0;
    for (uint32_t i = 0; i < m->nsegments; i++) {
        if (p < npick && pick[p] == i) {
            if (p == 0 && have) next.segments[out++] = merged;
            p++;
            continue;
        }
        next.segments[out++] = m->segments[i];
    }
    int in_place;
    rc = commit_manifest(dir, &next, &in_place, err);
    if (rc != SE_OK && in_place) {
        /* In place but not durable: keep every file (see commit.h). */
        manifest_free(m);
        *m = next;
        st->merges++;
        return rc;
    }
    if (rc != SE_OK) {
        if (have) remove_segment(dir, merged.number);
        free(next.segments);
        return rc;
    }
    manifest_free(m);
    *m = next;
    remove_unreferenced(dir, m);
    st->merges++;
    st->docs_rewritten += live;
    st->deleted_purged += dead;
    return SE_OK;
}

int merge_policy_apply(const char *dir, manifest *m, unsigned factor, int optimize, int store_level,
                       merge_run_stats *st, se_error *err)
{
    memset(st, 0, sizeof *st);
    uint32_t pick[MERGE_MAX_FANIN];
    size_t n;
    while ((n = merge_policy_next(m, factor, optimize, pick)) > 0) {
        int rc = merge_once(dir, m, pick, n, store_level, st, err);
        if (rc != SE_OK) return rc;
    }
    return SE_OK;
}
