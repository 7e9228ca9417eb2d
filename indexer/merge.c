/* merge.c - streaming merge of segments (see merge.h). */
#include "indexer/merge.h"

#include <stdlib.h>

#include "common/postings.h"
#include "indexer/segment_writer.h"

/* A merge reads every source once, front to back; releasing what it has
 * read every RELEASE_STEP bytes keeps its resident memory flat. */
#define RELEASE_STEP ((uint64_t)32 << 20)

typedef struct source {
    const segment *seg;
    const uint64_t *deleted; /* NULL when the segment has no deletions */
    uint32_t *live_before;   /* per bitmap word: live documents before it */
    uint64_t released_doc, released_pos;
    uint32_t base;
    seg_term_iter it;
    seg_term_info info;
    int live; /* 1 while the iterator holds a term */
} source;

/* The merged number of a live document of a source. */
static inline uint32_t new_doc(const source *s, uint32_t d)
{
    if (!s->deleted) return s->base + d;
    uint64_t below = (1ull << (d & 63)) - 1;
    return s->base + s->live_before[d >> 6] +
           (uint32_t)__builtin_popcountll(~s->deleted[d >> 6] & below);
}

/* Whether documents [first, first + n) of a source are all live. */
static int all_live(const source *s, uint32_t first, uint32_t n)
{
    if (!s->deleted) return 1;
    for (uint32_t d = first; d < first + n; d++)
        if (dels_is_deleted(s->deleted, d)) return 0;
    return 1;
}

/* Documents [first, first + n) of a source, one by one: decompressed and
 * added again (dropping deleted ones). */
static int copy_records(segment_writer *w, const source *s, uint32_t first, uint32_t n,
                        seg_store_buffer *buf, se_error *err)
{
    const uint32_t *lengths = segment_lengths(s->seg);
    const uint32_t *title_lengths = segment_title_lengths(s->seg);
    int rc = SE_OK;
    for (uint32_t d = first; d < first + n && rc == SE_OK; d++) {
        if (s->deleted && dels_is_deleted(s->deleted, d)) continue;
        seg_document doc;
        rc = segment_document(s->seg, d, buf, &doc, err);
        if (rc == SE_OK)
            rc = segw_add_document(w, &doc, lengths[d], title_lengths[d],
                                   segment_content_hash(s->seg, d), err);
    }
    return rc;
}

/* A source's store chunk by chunk.  A chunk that is full (SEG_STORE_CHUNK
 * bytes or more), wholly live, and would start on an empty chunk of the new
 * segment as well is closed at the same document by the writer's rule, so
 * recompressing it would give the same bytes at the same level: it is
 * copied as it is (when reuse_chunks says the levels are equal).  Any other
 * chunk is copied document by document.  The store index and chunk headers
 * were validated when the segment was opened. */
static int copy_store(segment_writer *w, const source *s, int reuse_chunks, seg_store_buffer *buf,
                      se_error *err)
{
    const segment *seg = s->seg;
    uint32_t ndocs = segment_ndocs(seg);
    if (!reuse_chunks || ndocs == 0) return copy_records(w, s, 0, ndocs, buf, err);
    const uint32_t *lengths = segment_lengths(seg);
    const uint32_t *title_lengths = segment_title_lengths(seg);
    uint32_t nchunks = segment_store_nchunks(seg);
    int rc = SE_OK;
    for (uint32_t c = 0; c < nchunks && rc == SE_OK; c++) {
        uint32_t first, n, raw, zlen;
        const uint8_t *zdata;
        segment_store_chunk(seg, c, &first, &n, &raw, &zdata, &zlen);
        if (raw < SEG_STORE_CHUNK || !segw_store_chunk_empty(w) || !all_live(s, first, n)) {
            rc = copy_records(w, s, first, n, buf, err);
            continue;
        }
        for (uint32_t d = first; d < first + n && rc == SE_OK; d++) {
            char id[SEG_MAX_ID_LEN];
            size_t id_len = segment_doc_id(seg, d, id);
            rc = segw_add_document_entry(w, id, id_len, lengths[d], title_lengths[d],
                                         segment_content_hash(seg, d), err);
        }
        if (rc == SE_OK) rc = segw_add_store_chunk(w, n, raw, zdata, zlen, err);
    }
    return rc;
}

static int copy_documents(segment_writer *w, source *src, size_t n, int reuse_chunks, se_error *err)
{
    seg_store_buffer buf;
    seg_store_buffer_init(&buf);
    int rc = SE_OK;
    for (size_t s = 0; s < n && rc == SE_OK; s++) {
        rc = copy_store(w, &src[s], reuse_chunks, &buf, err);
        fio_map_release(segment_file(src[s].seg, SEG_STORE), UINT64_MAX);
    }
    seg_store_buffer_free(&buf);
    return rc;
}

static int advance(source *s, se_error *err)
{
    int rc = seg_term_iter_next(&s->it, &s->info, err);
    if (rc < 0) return rc;
    s->live = rc;
    return SE_OK;
}

static int merge(segment *const *sources, size_t nsources, const char *dir, uint32_t number,
                 int store_level, int reuse_chunks, seg_meta *meta, se_error *err)
{
    source *src = calloc(nsources ? nsources : 1, sizeof *src);
    if (!src) return se_fail(err, SE_NOMEM, "out of memory");
    uint64_t base = 0;
    int rc = SE_OK;
    for (size_t s = 0; s < nsources && rc == SE_OK; s++) {
        source *sr = &src[s];
        sr->seg = sources[s];
        sr->base = (uint32_t)base;
        sr->deleted = segment_deleted_bits(sources[s]);
        uint32_t ndocs = segment_ndocs(sources[s]);
        if (sr->deleted) {
            size_t words = ((size_t)ndocs + 63) / 64;
            sr->live_before = malloc((words ? words : 1) * sizeof *sr->live_before);
            if (!sr->live_before) {
                rc = se_fail(err, SE_NOMEM, "out of memory");
                break;
            }
            uint32_t live = 0;
            for (size_t i = 0; i < words; i++) {
                sr->live_before[i] = live;
                uint64_t valid = (i + 1) * 64 <= ndocs ? ~0ull : (1ull << (ndocs % 64)) - 1;
                live += (uint32_t)__builtin_popcountll(~sr->deleted[i] & valid);
            }
        }
        base += ndocs - segment_ndeleted(sources[s]);
    }
    if (rc == SE_OK && base > SEG_MAX_DOCS)
        rc = se_fail(err, SE_LIMIT, "merge would exceed %u documents", SEG_MAX_DOCS);
    segment_writer *w = NULL;
    if (rc == SE_OK) rc = segw_create(&w, dir, number, store_level, err);
    if (rc != SE_OK) {
        for (size_t s = 0; s < nsources; s++) free(src[s].live_before);
        free(src);
        return rc;
    }
    rc = copy_documents(w, src, nsources, reuse_chunks, err);
    for (size_t s = 0; s < nsources && rc == SE_OK; s++) {
        seg_term_iter_init(&src[s].it, src[s].seg);
        rc = advance(&src[s], err);
    }
    uint32_t *positions = NULL;
    size_t pos_cap = 0;
    postings_cursor *cur = malloc(sizeof *cur);
    if (!cur && rc == SE_OK) rc = se_fail(err, SE_NOMEM, "out of memory");
    while (rc == SE_OK && cur) {
        /* The smallest current term among the sources. */
        const source *min = NULL;
        for (size_t s = 0; s < nsources; s++)
            if (src[s].live && (!min || seg_term_cmp(src[s].it.term, src[s].it.term_len,
                                                     min->it.term, min->it.term_len) < 0))
                min = &src[s];
        if (!min) break;
        char term[256];
        size_t term_len = min->it.term_len;
        memcpy(term, min->it.term, term_len);
        /* The term is written once a live posting turns up: a term whose
         * documents are all deleted disappears. */
        int started = 0;
        for (size_t s = 0; s < nsources && rc == SE_OK; s++) {
            source *sr = &src[s];
            if (!sr->live || sr->it.term_len != term_len ||
                memcmp(sr->it.term, term, term_len) != 0)
                continue;
            if (sr->info.max_tf > pos_cap) {
                size_t cap = pos_cap ? pos_cap : 64;
                while (cap < sr->info.max_tf) cap *= 2;
                uint32_t *np = realloc(positions, cap * sizeof *np);
                if (!np) {
                    rc = se_fail(err, SE_NOMEM, "out of memory");
                    break;
                }
                positions = np;
                pos_cap = cap;
            }
            postings_cursor_open(cur, sr->seg, &sr->info);
            for (uint32_t d = cur->doc; d != POSTINGS_END && rc == SE_OK;
                 d = postings_cursor_next(cur)) {
                if (sr->deleted && dels_is_deleted(sr->deleted, d)) continue;
                if (!started) {
                    rc = segw_begin_term(w, term, term_len, err);
                    if (rc != SE_OK) break;
                    started = 1;
                }
                uint32_t tf = postings_cursor_freq(cur);
                if (tf == 0 || tf > sr->info.max_tf) { /* 0: malformed, the cursor ended */
                    cur->status = SE_CORRUPT;
                    break;
                }
                uint32_t got = postings_cursor_positions(cur, positions, (uint32_t)pos_cap);
                if (got != tf) break;
                rc = segw_add_posting(w, new_doc(sr, d), tf, positions, err);
            }
            if (rc == SE_OK && cur->status != SE_OK)
                rc = se_fail(err, SE_CORRUPT, "segment %u: malformed postings for a term",
                             segment_number(sr->seg));
            uint64_t doc_end = sr->info.doc_off + sr->info.doc_len;
            uint64_t pos_end = sr->info.pos_off + sr->info.pos_len;
            if (doc_end - sr->released_doc >= RELEASE_STEP) {
                fio_map_release(segment_file(sr->seg, SEG_POST), doc_end);
                sr->released_doc = doc_end;
            }
            if (pos_end - sr->released_pos >= RELEASE_STEP) {
                fio_map_release(segment_file(sr->seg, SEG_POS), pos_end);
                sr->released_pos = pos_end;
            }
            if (rc == SE_OK) rc = advance(sr, err);
        }
        if (rc == SE_OK && started) rc = segw_end_term(w, err);
    }
    free(cur);
    free(positions);
    for (size_t s = 0; s < nsources; s++) free(src[s].live_before);
    free(src);
    if (rc != SE_OK) {
        segw_abort(w);
        return rc;
    }
    return segw_finish(w, meta, err);
}

int merge_segments(segment *const *sources, size_t nsources, const char *dir, uint32_t number,
                   int store_level, seg_meta *meta, se_error *err)
{
    return merge(sources, nsources, dir, number, store_level, 0, meta, err);
}

int merge_segments_same_level(segment *const *sources, size_t nsources, const char *dir,
                              uint32_t number, int store_level, seg_meta *meta, se_error *err)
{
    return merge(sources, nsources, dir, number, store_level, 1, meta, err);
}
