/* merge.c - streaming merge of segments (see merge.h). */
#include "indexer/merge.h"

#include <pthread.h>
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

/* The terms of one range, [from, to) in byte order (no bound when the
 * length is 0), merged into w.  Each range has its own copy of the sources
 * (their iterators), so two ranges can be merged by two threads at once. */
typedef struct term_range {
    segment_writer *w;
    source *src;
    size_t nsources;
    const char *from, *to;
    size_t from_len, to_len;
    int release; /* give back the pages read (only the range that starts at 0) */
    int rc;
    se_error err;
} term_range;

static int merge_terms(term_range *r, se_error *err)
{
    source *src = r->src;
    size_t nsources = r->nsources;
    segment_writer *w = r->w;
    int rc = SE_OK;
    for (size_t s = 0; s < nsources && rc == SE_OK; s++) {
        seg_term_iter_init(&src[s].it, src[s].seg);
        rc = advance(&src[s], err);
        while (rc == SE_OK && src[s].live && r->from_len &&
               seg_term_cmp(src[s].it.term, src[s].it.term_len, r->from, r->from_len) < 0)
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
        if (r->to_len && seg_term_cmp(min->it.term, min->it.term_len, r->to, r->to_len) >= 0) break;
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
            if (r->release && doc_end - sr->released_doc >= RELEASE_STEP) {
                fio_map_release(segment_file(sr->seg, SEG_POST), doc_end);
                sr->released_doc = doc_end;
            }
            if (r->release && pos_end - sr->released_pos >= RELEASE_STEP) {
                fio_map_release(segment_file(sr->seg, SEG_POS), pos_end);
                sr->released_pos = pos_end;
            }
            if (rc == SE_OK) rc = advance(sr, err);
        }
        if (rc == SE_OK && started) rc = segw_end_term(w, err);
    }
    free(cur);
    free(positions);
    return rc;
}

static void *merge_terms_thread(void *arg)
{
    term_range *r = arg;
    r->rc = merge_terms(r, &r->err);
    return NULL;
}

/* The share of the postings bytes (.doc and .pos) that the calling thread
 * merges when a second thread takes the rest.  The calling thread copies
 * the store as well, but the upper terms cost more per byte (the
 * title-field terms, 0x01 + term, come first and are cheap): on the
 * Wikipedia paragraphs, with the split at 2/5 of the bytes, the calling
 * thread used 1.7 s of CPU (0.4 s of it the store) and the other 2.5 s;
 * at half the bytes the two are about even. */
#define FIRST_SHARE_NUM 1
#define FIRST_SHARE_DEN 2

/* Where the second thread's terms begin: the term of the largest source
 * (by documents; the batches of one run are alike) at which its postings
 * bytes pass the first thread's share.  0 when there is no such term. */
static int choose_split(const source *src, size_t nsources, char *split, size_t *split_len,
                        se_error *err)
{
    const source *big = &src[0];
    for (size_t s = 1; s < nsources; s++)
        if (segment_ndocs(src[s].seg) > segment_ndocs(big->seg)) big = &src[s];
    uint64_t total = 0, sum = 0;
    seg_term_iter it;
    seg_term_info info;
    int rc;
    seg_term_iter_init(&it, big->seg);
    while ((rc = seg_term_iter_next(&it, &info, err)) == 1) total += info.doc_len + info.pos_len;
    if (rc < 0) return rc;
    uint64_t want = total / FIRST_SHARE_DEN * FIRST_SHARE_NUM;
    seg_term_iter_init(&it, big->seg);
    while ((rc = seg_term_iter_next(&it, &info, err)) == 1) {
        if (sum > 0 && sum >= want) {
            memcpy(split, it.term, it.term_len);
            *split_len = it.term_len;
            return SE_OK;
        }
        sum += info.doc_len + info.pos_len;
    }
    *split_len = 0;
    return rc < 0 ? rc : SE_OK;
}

/* The merged segment's document lengths, in its document order (what a
 * postings part needs to know of the documents). */
static uint32_t *merged_lengths(const source *src, size_t nsources, uint32_t ndocs)
{
    uint32_t *lens = malloc((ndocs ? ndocs : 1) * sizeof *lens);
    if (!lens) return NULL;
    size_t k = 0;
    for (size_t s = 0; s < nsources; s++) {
        const uint32_t *l = segment_lengths(src[s].seg);
        uint32_t n = segment_ndocs(src[s].seg);
        for (uint32_t d = 0; d < n; d++)
            if (!src[s].deleted || !dels_is_deleted(src[s].deleted, d)) lens[k++] = l[d];
    }
    return lens;
}

static int merge(segment *const *sources, size_t nsources, const char *dir, uint32_t number,
                 int store_level, int reuse_chunks, unsigned threads, seg_meta *meta, se_error *err)
{
    source *src = calloc(nsources ? 2 * nsources : 1, sizeof *src);
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
    /* With a second thread, the terms from `split` on are merged by it into
     * a postings part while this thread copies the store and merges the
     * terms before `split`; the part is then appended, giving the bytes of
     * a merge on one thread. */
    char split[256];
    size_t split_len = 0;
    uint32_t *lens = NULL;
    segment_writer *part = NULL;
    term_range second = {0};
    int started = 0;
    if (rc == SE_OK && threads > 1 && nsources > 1 && base > 0)
        rc = choose_split(src, nsources, split, &split_len, err);
    if (rc == SE_OK && split_len > 0) {
        lens = merged_lengths(src, nsources, (uint32_t)base);
        if (!lens) rc = se_fail(err, SE_NOMEM, "out of memory");
        if (rc == SE_OK) rc = segw_part_create(&part, number, lens, (uint32_t)base, err);
        if (rc == SE_OK) {
            memcpy(src + nsources, src, nsources * sizeof *src);
            second = (term_range){.w = part,
                                  .src = src + nsources,
                                  .nsources = nsources,
                                  .from = split,
                                  .from_len = split_len};
            pthread_t th;
            /* Without a thread, the range is merged below by this one. */
            started = pthread_create(&th, NULL, merge_terms_thread, &second) == 0;
            if (started) {
                if (rc == SE_OK) rc = copy_documents(w, src, nsources, reuse_chunks, err);
                term_range first = {.w = w,
                                    .src = src,
                                    .nsources = nsources,
                                    .to = split,
                                    .to_len = split_len,
                                    .release = 1};
                if (rc == SE_OK) rc = merge_terms(&first, err);
                pthread_join(th, NULL);
            } else {
                rc = copy_documents(w, src, nsources, reuse_chunks, err);
                term_range first = {
                    .w = w, .src = src, .nsources = nsources, .to = split, .to_len = split_len};
                if (rc == SE_OK) rc = merge_terms(&first, err);
                if (rc == SE_OK) second.rc = merge_terms(&second, &second.err);
            }
            if (rc == SE_OK && second.rc != SE_OK)
                rc = se_fail(err, second.rc, "%s", second.err.msg);
            if (rc == SE_OK)
                rc = segw_part_append(w, part, err);
            else
                segw_abort(part);
            part = NULL;
        }
    } else if (rc == SE_OK) {
        rc = copy_documents(w, src, nsources, reuse_chunks, err);
        term_range all = {.w = w, .src = src, .nsources = nsources, .release = 1};
        if (rc == SE_OK) rc = merge_terms(&all, err);
    }
    free(lens);
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
    return merge(sources, nsources, dir, number, store_level, 0, 1, meta, err);
}

int merge_segments_same_level(segment *const *sources, size_t nsources, const char *dir,
                              uint32_t number, int store_level, unsigned threads, seg_meta *meta,
                              se_error *err)
{
    return merge(sources, nsources, dir, number, store_level, 1, threads, meta, err);
}
