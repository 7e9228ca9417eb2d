/*
 * docmap.c - id -> (segment, document) table over one open generation.
 *
 * Layout: slots[h & mask], linear probing.  A slot holds g = first[s] + d
 * for document d of segment s; the segment is recovered by a binary search
 * over first[] (a few dozen segments at most, by the merge policy).
 */
#include "server/docmap.h"

#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "common/deletions.h"

#define DOCMAP_EMPTY UINT32_MAX

static void locate(const docmap *m, uint32_t g, uint32_t *seg, uint32_t *doc)
{
    uint32_t lo = 0, hi = m->ix->nsegments; /* first[lo] <= g < first[hi] */
    while (hi - lo > 1) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (m->first[mid] <= g)
            lo = mid;
        else
            hi = mid;
    }
    *seg = lo;
    *doc = (uint32_t)(g - m->first[lo]);
}

static int same_id(const docmap *m, uint32_t g, uint64_t hash, const char *id, size_t len)
{
    uint32_t s, d;
    locate(m, g, &s, &d);
    const segment *seg = m->ix->segments[s];
    if (segment_id_hash(seg, d) != hash) return 0;
    char have[SEG_MAX_ID_LEN];
    size_t have_len = segment_doc_id(seg, d, have);
    return have_len == len && memcmp(have, id, len) == 0;
}

int docmap_build(docmap *m, const index_reader *ix, se_error *err)
{
    memset(m, 0, sizeof *m);
    m->ix = ix;
    m->first = calloc((size_t)ix->nsegments + 1, sizeof *m->first);
    if (!m->first) return se_fail(err, SE_NOMEM, "out of memory building the id map");
    uint64_t total = 0;
    for (uint32_t s = 0; s < ix->nsegments; s++) {
        m->first[s] = total;
        total += segment_ndocs(ix->segments[s]);
    }
    m->first[ix->nsegments] = total;
    uint64_t cap = 16;
    while (cap < 2 * ix->ndocs) cap *= 2;
    m->slots = malloc(cap * sizeof *m->slots);
    if (!m->slots) {
        docmap_free(m);
        return se_fail(err, SE_NOMEM, "out of memory building the id map");
    }
    memset(m->slots, 0xff, cap * sizeof *m->slots);
    m->mask = cap - 1;
    for (uint32_t s = 0; s < ix->nsegments; s++) {
        const segment *seg = ix->segments[s];
        const uint64_t *bits = segment_deleted_bits(seg);
        uint32_t n = segment_ndocs(seg);
        for (uint32_t d = 0; d < n; d++) {
            if (bits && dels_is_deleted(bits, d)) continue;
            /* Live documents never share an id; should a damaged index
             * hold two, the first one is kept and the table stays within
             * its capacity (it was sized from the live count). */
            if (m->count >= ix->ndocs) break;
            uint64_t h = segment_id_hash(seg, d);
            uint32_t g = (uint32_t)(m->first[s] + d);
            char id[SEG_MAX_ID_LEN];
            size_t len = segment_doc_id(seg, d, id);
            uint64_t i = h & m->mask;
            while (m->slots[i] != DOCMAP_EMPTY && !same_id(m, m->slots[i], h, id, len))
                i = (i + 1) & m->mask;
            if (m->slots[i] == DOCMAP_EMPTY) {
                m->slots[i] = g;
                m->count++;
            }
        }
    }
    return SE_OK;
}

void docmap_free(docmap *m)
{
    free(m->slots);
    free(m->first);
    memset(m, 0, sizeof *m);
}

int docmap_find(const docmap *m, const char *id, size_t len, uint32_t *seg, uint32_t *doc)
{
    if (!m->slots) return 0;
    uint64_t h = XXH3_64bits(id, len);
    for (uint64_t i = h & m->mask; m->slots[i] != DOCMAP_EMPTY; i = (i + 1) & m->mask) {
        if (same_id(m, m->slots[i], h, id, len)) {
            locate(m, m->slots[i], seg, doc);
            return 1;
        }
    }
    return 0;
}
