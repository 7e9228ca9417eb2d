/*
 * build.c - the indexing pipeline: input -> analyzer -> inverter -> segment
 * writer; deletions of replaced and removed documents; batch segments
 * merged; an atomic commit; then the merge policy (see build.h).
 *
 * Positions: a document's title tokens come first, then one position is
 * left empty, then the text's tokens, so no phrase matches across the
 * boundary.  A document's length is its number of indexed tokens.
 *
 * Identity: documents are found by the XXH3-64 of their id, kept in an
 * in-memory table of every live document (16-byte slots, at most 3/4 full:
 * 32 MB for 1.2 million documents).  Before an existing
 * document is replaced its stored id is compared with the new one, so a
 * 64-bit hash collision adds a document instead of replacing the wrong
 * one.
 *
 * Targets: every segment documents may be deleted from during the run,
 * the existing ones first, then the batch segments this run writes.  Each
 * keeps the list of its documents to delete; they are applied after the
 * input is consumed, as new deletions files (which also count, per term,
 * the deleted documents containing it, by analysing their stored text
 * again).
 */
#include "indexer/build.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

#include "common/analyzer.h"
#include "common/deletions.h"
#include "common/manifest.h"
#include "indexer/commit.h"
#include "indexer/inverter.h"
#include "indexer/merge.h"
#include "indexer/merge_policy.h"
#include "indexer/segment_writer.h"

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- the id table ---- */

#define SLOT_EMPTY 0           /* zero, so a fresh table is calloc'd pages */
#define SLOT_GONE  UINT32_MAX  /* deleted entry: lookups probe past it */
#define SEEN_BIT   0x80000000u /* doc field: the input mentioned this document */

typedef struct id_slot {
    uint64_t id_hash;
    uint32_t target1; /* target index + 1, or SLOT_EMPTY / SLOT_GONE */
    uint32_t doc;     /* document number | SEEN_BIT */
} id_slot;

static inline uint32_t slot_target(const id_slot *s)
{
    return s->target1 - 1;
}

typedef struct id_table {
    id_slot *slots;
    size_t cap, used; /* used counts live and gone slots */
} id_table;

static int idt_grow(id_table *t, size_t min_live)
{
    size_t cap = 1024;
    while (cap * 2 < min_live * 3) cap *= 2; /* load at most 2/3 after growing */
    id_slot *s = calloc(cap, sizeof *s);
    if (!s) return SE_NOMEM;
    size_t used = 0;
    for (size_t i = 0; i < t->cap; i++) {
        if (t->slots[i].target1 == SLOT_EMPTY || t->slots[i].target1 == SLOT_GONE) continue;
        size_t j = (size_t)t->slots[i].id_hash & (cap - 1);
        while (s[j].target1 != SLOT_EMPTY) j = (j + 1) & (cap - 1);
        s[j] = t->slots[i];
        used++;
    }
    free(t->slots);
    t->slots = s;
    t->cap = cap;
    t->used = used;
    return SE_OK;
}

static id_slot *idt_find(const id_table *t, uint64_t id_hash)
{
    if (!t->cap) return NULL;
    for (size_t j = (size_t)id_hash & (t->cap - 1);; j = (j + 1) & (t->cap - 1)) {
        id_slot *s = &t->slots[j];
        if (s->target1 == SLOT_EMPTY) return NULL;
        if (s->target1 != SLOT_GONE && s->id_hash == id_hash) return s;
    }
}

static int idt_insert(id_table *t, uint64_t id_hash, uint32_t target, uint32_t doc)
{
    if ((t->used + 1) * 4 > t->cap * 3 && idt_grow(t, t->used + 1) != SE_OK) return SE_NOMEM;
    size_t j = (size_t)id_hash & (t->cap - 1);
    while (t->slots[j].target1 != SLOT_EMPTY) j = (j + 1) & (t->cap - 1);
    t->slots[j] = (id_slot){id_hash, target + 1, doc};
    t->used++;
    return SE_OK;
}

/* ---- state ---- */

typedef struct target {
    segment *seg;  /* open; batch segments are opened once written */
    seg_meta meta; /* its manifest entry, updated when deletions are applied */
    int is_batch;
    int written;       /* batch segment finished (meta valid) */
    int dropped;       /* every document deleted: leaves the manifest */
    uint64_t *content; /* batch segments: content hash of each document */
    uint32_t ndocs_written;
    uint32_t *pending; /* documents to delete */
    size_t npending, cap_pending;
} target;

typedef struct build_state {
    const char *dir;
    const build_options *opt;
    build_stats *st;
    analyzer *an;
    inverter *inv;
    segment_writer *w; /* the open batch segment, or NULL */
    uint32_t w_target; /* its target */
    uint32_t next_number;
    uint64_t new_gen; /* generation the commit will have */
    target *targets;
    size_t ntargets, cap_targets, nold;
    id_table ids;
    size_t content_cap; /* capacity of the open batch's content array */
    int commit_unknown; /* a commit failed: the current generation is unknown */
} build_state;

static int add_target(build_state *b, uint32_t *index)
{
    if (b->ntargets == b->cap_targets) {
        size_t cap = b->cap_targets ? b->cap_targets * 2 : 16;
        target *t = realloc(b->targets, cap * sizeof *t);
        if (!t) return SE_NOMEM;
        b->targets = t;
        b->cap_targets = cap;
    }
    memset(&b->targets[b->ntargets], 0, sizeof *b->targets);
    *index = (uint32_t)b->ntargets++;
    return SE_OK;
}

static int push_pending(target *t, uint32_t doc)
{
    if (t->npending == t->cap_pending) {
        size_t cap = t->cap_pending ? t->cap_pending * 2 : 16;
        uint32_t *p = realloc(t->pending, cap * sizeof *p);
        if (!p) return SE_NOMEM;
        t->pending = p;
        t->cap_pending = cap;
    }
    t->pending[t->npending++] = doc;
    return SE_OK;
}

static int analyse_field(build_state *b, const char *text, size_t len, uint32_t first,
                         uint32_t *next, uint32_t *ntokens)
{
    analyzer_reset(b->an, text, len, first);
    analyzer_token tok;
    while (analyzer_next(b->an, &tok)) {
        int rc = inverter_add_token(b->inv, tok.term, tok.term_len, tok.position);
        if (rc != SE_OK) return rc;
        (*ntokens)++;
    }
    *next = analyzer_position(b->an);
    return SE_OK;
}

static int flush_batch(build_state *b, se_error *err)
{
    if (!b->w) return SE_OK;
    target *t = &b->targets[b->w_target];
    int rc = inverter_write(b->inv, b->w, err);
    if (rc != SE_OK) {
        segw_abort(b->w);
        b->w = NULL;
        return rc;
    }
    rc = segw_finish(b->w, &t->meta, err);
    b->w = NULL;
    /* The inverter's pages are free again; give them back to the system so
     * that the id table and other small allocations made meanwhile do not
     * pin them for the rest of the run (and the merge after it). */
    malloc_trim(0);
    if (rc != SE_OK) return rc;
    t->written = 1;
    b->st->batches++;
    return SE_OK;
}

static int add_document(build_state *b, const input_doc *d, uint64_t id_hash, uint64_t content,
                        uint32_t *tgt, uint32_t *docno, se_error *err)
{
    if (!b->w) {
        uint32_t ti;
        if (add_target(b, &ti) != SE_OK) return se_fail(err, SE_NOMEM, "out of memory");
        target *t = &b->targets[ti];
        t->is_batch = 1;
        int rc = segw_create(&b->w, b->dir, b->next_number++, b->opt->store_level, err);
        if (rc != SE_OK) return rc;
        b->w_target = ti;
        b->content_cap = 0;
    }
    target *t = &b->targets[b->w_target];
    uint32_t doc = segw_ndocs(b->w);
    if (doc == b->content_cap) {
        size_t cap = b->content_cap ? b->content_cap * 2 : 1024;
        uint64_t *c = realloc(t->content, cap * sizeof *c);
        if (!c) return se_fail(err, SE_NOMEM, "out of memory");
        t->content = c;
        b->content_cap = cap;
    }
    uint32_t ntokens = 0, next = 0;
    uint64_t cut = analyzer_get_stats(b->an).cut_texts;
    int rc = analyse_field(b, d->title, d->title_len, 0, &next, &ntokens);
    if (rc == SE_OK) rc = analyse_field(b, d->text, d->text_len, next + 1, &next, &ntokens);
    if (rc != SE_OK) {
        inverter_abandon_document(b->inv);
        return se_fail(err, rc, "%s: out of memory indexing document %.*s", d->source,
                       (int)(d->id_len > 200 ? 200 : d->id_len), d->id);
    }
    if (analyzer_get_stats(b->an).cut_texts != cut) {
        b->st->cut_docs++;
        if (b->opt->warn) {
            char msg[512];
            snprintf(msg, sizeof msg,
                     "document %.*s has more than %lu positions: only the first %lu are indexed "
                     "(it is stored whole)",
                     (int)(d->id_len > 200 ? 200 : d->id_len), d->id,
                     (unsigned long)ANALYZER_MAX_POSITIONS, (unsigned long)ANALYZER_MAX_POSITIONS);
            b->opt->warn(b->opt->warn_ctx, d->source, d->line, msg);
        }
    }
    seg_document sd = {d->id, d->id_len, d->title, d->title_len, d->text, d->text_len};
    rc = segw_add_document(b->w, &sd, ntokens, id_hash, content, err);
    if (rc == SE_OK) rc = inverter_end_document(b->inv, doc);
    if (rc != SE_OK) return se_fail(err, rc, "indexing document failed: %s", se_status_name(rc));
    t->content[doc] = content;
    t->ndocs_written = doc + 1;
    *tgt = b->w_target;
    *docno = doc;
    b->st->documents++;
    b->st->tokens += ntokens;
    b->st->bytes += d->title_len + d->text_len;
    if (inverter_memory(b->inv) >= b->opt->memory_budget) return flush_batch(b, err);
    return SE_OK;
}

/* Existing segments are opened for their document table only (a writer
 * adding documents reads nothing else); the rest is mapped and verified
 * when a document of the segment is replaced or deleted. */
static int open_fully(build_state *b, target *t, se_error *err)
{
    if (t->seg && !segment_is_doctab_only(t->seg)) return SE_OK;
    segment_close(t->seg);
    t->seg = NULL;
    return segment_open(&t->seg, b->dir, &t->meta, 1, err);
}

/* One input document: add, replace or skip. */
static int take_document(build_state *b, const input_doc *d, se_error *err)
{
    uint64_t id_hash = XXH3_64bits(d->id, d->id_len);
    /* Content hash: the text hashed with the title's hash as seed. */
    uint64_t content =
        XXH3_64bits_withSeed(d->text, d->text_len, XXH3_64bits(d->title, d->title_len));
    id_slot *s = idt_find(&b->ids, id_hash);
    int replaces = 0;
    if (s) {
        target *t = &b->targets[slot_target(s)];
        uint32_t doc = s->doc & ~SEEN_BIT;
        uint64_t have = t->is_batch ? t->content[doc] : segment_content_hash(t->seg, doc);
        if (have == content) {
            b->st->unchanged++;
            s->doc |= SEEN_BIT;
            return SE_OK;
        }
        int same = 1;
        if (!t->is_batch) {
            const char *id;
            size_t id_len;
            segment_doc_id(t->seg, doc, &id, &id_len);
            same = id_len == d->id_len && memcmp(id, d->id, id_len) == 0;
        }
        if (same) {
            if (push_pending(t, doc) != SE_OK) return se_fail(err, SE_NOMEM, "out of memory");
            if (t->is_batch)
                b->st->superseded++;
            else
                b->st->replaced++;
            replaces = 1;
        } else {
            s = NULL; /* two ids with one hash: keep both documents */
        }
    }
    uint32_t tgt = 0, docno = 0;
    /* The slot pointer may move when the table grows: look it up again. */
    int rc = add_document(b, d, id_hash, content, &tgt, &docno, err);
    if (rc != SE_OK) return rc;
    if (replaces) {
        s = idt_find(&b->ids, id_hash);
        s->target1 = tgt + 1;
        s->doc = docno | SEEN_BIT;
    } else {
        if (!s && idt_find(&b->ids, id_hash) == NULL &&
            idt_insert(&b->ids, id_hash, tgt, docno | SEEN_BIT) != SE_OK)
            return se_fail(err, SE_NOMEM, "out of memory");
        b->st->added++;
    }
    return SE_OK;
}

static int delete_by_id(build_state *b, const char *id, se_error *err)
{
    uint64_t id_hash = XXH3_64bits(id, strlen(id));
    id_slot *s = idt_find(&b->ids, id_hash);
    if (!s) {
        b->st->not_found++;
        if (b->opt->not_found) b->opt->not_found(b->opt->not_found_ctx, id);
        return SE_OK;
    }
    if (push_pending(&b->targets[slot_target(s)], s->doc & ~SEEN_BIT) != SE_OK)
        return se_fail(err, SE_NOMEM, "out of memory");
    s->target1 = SLOT_GONE;
    b->st->deleted++;
    return SE_OK;
}

/* --sync: delete every existing document the input did not mention. */
static int delete_unseen(build_state *b, se_error *err)
{
    for (size_t i = 0; i < b->ids.cap; i++) {
        id_slot *s = &b->ids.slots[i];
        if (s->target1 == SLOT_EMPTY || s->target1 == SLOT_GONE || slot_target(s) >= b->nold ||
            (s->doc & SEEN_BIT))
            continue;
        if (push_pending(&b->targets[slot_target(s)], s->doc) != SE_OK)
            return se_fail(err, SE_NOMEM, "out of memory");
        s->target1 = SLOT_GONE;
        b->st->deleted++;
    }
    return SE_OK;
}

/* Count the distinct terms of a deleted document into the builder. */
static int count_deleted_terms(build_state *b, const segment *seg, uint32_t doc,
                               seg_store_buffer *buf, dels_builder *db, se_error *err)
{
    seg_document sd;
    int rc = segment_document(seg, doc, buf, &sd, err);
    if (rc != SE_OK) return rc;
    const char *field[2] = {sd.title, sd.text};
    size_t len[2] = {sd.title_len, sd.text_len};
    /* The same positions as add_document gave them, so that a document cut
     * at ANALYZER_MAX_POSITIONS yields the same terms. */
    uint32_t first = 0;
    for (int f = 0; f < 2; f++) {
        analyzer_reset(b->an, field[f], len[f], first);
        analyzer_token tok;
        while (analyzer_next(b->an, &tok)) {
            rc = dels_builder_add_term(db, tok.term, tok.term_len);
            if (rc != SE_OK)
                return se_fail(err, rc, "out of memory recording deletions in segment %u",
                               segment_number(seg));
        }
        first = analyzer_position(b->an) + 1;
    }
    return SE_OK;
}

/* Write the pending deletions of target t as a new deletions file. */
static int apply_deletions(build_state *b, target *t, seg_store_buffer *buf, se_error *err)
{
    int rc = open_fully(b, t, err);
    if (rc != SE_OK) return rc;
    dels_builder *db;
    if (dels_builder_new(&db, segment_ndocs(t->seg), segment_deletions(t->seg)) != SE_OK)
        return se_fail(err, SE_NOMEM, "out of memory");
    const uint32_t *lengths = segment_lengths(t->seg);
    for (size_t i = 0; i < t->npending && rc == SE_OK; i++) {
        uint32_t doc = t->pending[i];
        if (dels_builder_delete(db, doc, lengths[doc]))
            rc = count_deleted_terms(b, t->seg, doc, buf, db, err);
    }
    if (rc == SE_OK && dels_builder_ndeleted(db) == segment_ndocs(t->seg)) {
        t->dropped = 1;
    } else if (rc == SE_OK) {
        char path[4096];
        rc = dels_file_path(path, sizeof path, b->dir, t->meta.number, b->new_gen);
        if (rc != SE_OK) rc = se_fail(err, SE_INVALID, "index path too long: %s", b->dir);
        if (rc == SE_OK) rc = dels_write(db, path, &t->meta.del.size, &t->meta.del.checksum, err);
        if (rc == SE_OK) {
            t->meta.del_gen = b->new_gen;
            t->meta.ndeleted = dels_builder_ndeleted(db);
        }
    }
    dels_builder_free(db);
    if (t->is_batch) { /* reopened with its deletions by the merge */
        segment_close(t->seg);
        t->seg = NULL;
    }
    return rc;
}

/* Merge the live batch segments into one (*have = 0 when there are none):
 * MERGE_MAX_FANIN at a time, the result taking their place. */
static int merge_batches(build_state *b, seg_meta *final, int *have, se_error *err)
{
    size_t n = 0;
    seg_meta *metas = malloc((b->ntargets - b->nold + 1) * sizeof *metas);
    if (!metas) return se_fail(err, SE_NOMEM, "out of memory");
    for (size_t i = b->nold; i < b->ntargets; i++)
        if (b->targets[i].written && !b->targets[i].dropped) metas[n++] = b->targets[i].meta;
    int rc = SE_OK;
    while (n > 1 && rc == SE_OK) {
        size_t k = n < MERGE_MAX_FANIN ? n : MERGE_MAX_FANIN;
        segment *segs[MERGE_MAX_FANIN] = {0};
        for (size_t i = 0; i < k && rc == SE_OK; i++)
            rc = segment_open(&segs[i], b->dir, &metas[i], 1, err);
        seg_meta merged;
        if (rc == SE_OK)
            rc = merge_segments(segs, k, b->dir, b->next_number++, b->opt->store_level, &merged,
                                err);
        for (size_t i = 0; i < k; i++) segment_close(segs[i]);
        if (rc != SE_OK) break;
        /* The merged batches' files are debris now: removed at the commit. */
        metas[0] = merged;
        memmove(metas + 1, metas + k, (n - k) * sizeof *metas);
        n -= k - 1;
    }
    *have = rc == SE_OK && n == 1;
    if (*have) *final = metas[0];
    free(metas);
    return rc;
}

static int open_existing(build_state *b, const manifest *old, se_error *err)
{
    uint64_t live = 0;
    for (uint32_t i = 0; i < old->nsegments; i++) live += old->segments[i].ndocs;
    if (idt_grow(&b->ids, live + 1024) != SE_OK) return se_fail(err, SE_NOMEM, "out of memory");
    for (uint32_t i = 0; i < old->nsegments; i++) {
        uint32_t ti;
        if (add_target(b, &ti) != SE_OK) return se_fail(err, SE_NOMEM, "out of memory");
        target *t = &b->targets[ti];
        t->meta = old->segments[i];
        int rc = segment_open_doctab(&t->seg, b->dir, &t->meta, err);
        if (rc != SE_OK) return rc;
        b->nold++;
        const uint64_t *deleted = segment_deleted_bits(t->seg);
        for (uint32_t d = 0; d < segment_ndocs(t->seg); d++) {
            if (deleted && dels_is_deleted(deleted, d)) continue;
            uint64_t h = segment_id_hash(t->seg, d);
            /* Two live documents with one id hash cannot come from this
             * writer; keep the first, like a lookup would. */
            if (!idt_find(&b->ids, h) && idt_insert(&b->ids, h, ti, d) != SE_OK)
                return se_fail(err, SE_NOMEM, "out of memory");
        }
    }
    return SE_OK;
}

static void free_state(build_state *b)
{
    if (b->w) segw_abort(b->w);
    for (size_t i = 0; i < b->ntargets; i++) {
        segment_close(b->targets[i].seg);
        free(b->targets[i].pending);
        free(b->targets[i].content);
    }
    free(b->targets);
    free(b->ids.slots);
    analyzer_free(b->an);
    inverter_free(b->inv);
}

static int read_input(build_state *b, input_reader *in, double t0, se_error *err)
{
    const build_options *opt = b->opt;
    build_stats *st = b->st;
    double last_progress = t0;
    int rc = SE_OK;
    while (rc == SE_OK) {
        input_doc d;
        int got = input_next(in, &d, err);
        if (got < 0) {
            rc = got;
            st->input_error = 1;
        }
        if (got <= 0) break;
        rc = take_document(b, &d, err);
        double t = now_seconds();
        if (opt->progress && t - last_progress >= 0.5) {
            last_progress = t;
            st->seconds = t - t0;
            opt->progress(opt->progress_ctx, st);
        }
    }
    return rc;
}

/* Everything up to and including the commit of the new generation. */
static int update(build_state *b, input_reader *in, manifest *old, manifest *next, double t0,
                  se_error *err)
{
    const build_options *opt = b->opt;
    build_stats *st = b->st;
    int rc = SE_OK;
    if (opt->mode != BUILD_REBUILD)
        rc = open_existing(b, old, err);
    else if (idt_grow(&b->ids, 1024) != SE_OK)
        rc = se_fail(err, SE_NOMEM, "out of memory");
    for (size_t i = 0; i < opt->ndelete_ids && rc == SE_OK; i++)
        rc = delete_by_id(b, opt->delete_ids[i], err);
    uint64_t mentioned = 0;
    if (rc == SE_OK && in) {
        rc = read_input(b, in, t0, err);
        mentioned = st->documents + st->unchanged;
    }
    if (b->an) st->long_terms = analyzer_get_stats(b->an).skipped_long;
    if (rc == SE_OK && in && mentioned == 0 && (opt->mode != BUILD_UPDATE || b->nold == 0)) {
        st->input_error = 1;
        if (opt->mode == BUILD_SYNC && b->nold > 0)
            rc = se_fail(err, SE_INVALID,
                         "the input holds no documents; refusing to --sync, which would delete "
                         "every document of the index");
        else
            rc = se_fail(err, SE_INVALID, "no documents to index");
    }
    if (rc == SE_OK && opt->mode == BUILD_SYNC) rc = delete_unseen(b, err);
    if (rc == SE_OK) rc = flush_batch(b, err);

    seg_store_buffer buf;
    seg_store_buffer_init(&buf);
    for (size_t i = 0; i < b->ntargets && rc == SE_OK; i++)
        if (b->targets[i].npending) rc = apply_deletions(b, &b->targets[i], &buf, err);
    seg_store_buffer_free(&buf);

    seg_meta final;
    int have = 0;
    if (rc == SE_OK) rc = merge_batches(b, &final, &have, err);
    if (rc != SE_OK) return rc;

    int changed = have || st->deleted || st->replaced || opt->mode == BUILD_REBUILD;
    if (!changed) return SE_OK;
    next->generation = b->new_gen;
    next->next_segment = b->next_number;
    next->segments = calloc(b->nold + 1, sizeof *next->segments);
    if (!next->segments) return se_fail(err, SE_NOMEM, "out of memory");
    for (size_t i = 0; i < b->nold; i++)
        if (!b->targets[i].dropped) next->segments[next->nsegments++] = b->targets[i].meta;
    if (have) {
        next->segments[next->nsegments++] = final;
        st->terms = final.nterms;
        for (int f = 0; f < SEG_NFILES; f++) st->index_bytes += final.files[f].size;
    }
    int in_place;
    rc = commit_manifest(b->dir, next, &in_place, err);
    if (rc != SE_OK && in_place) {
        /* The new manifest is in place but its directory was not synced: a
         * crash could bring the previous one back, so neither generation's
         * files may be deleted; the next writer cleans up. */
        b->commit_unknown = 1;
        st->committed = 1;
    }
    if (rc != SE_OK) return rc;
    st->committed = 1;
    return SE_OK;
}

int build_index(const char *dir, input_reader *in, const build_options *opt_in, build_stats *st,
                se_error *err)
{
    build_options opt = *opt_in;
    if (opt.memory_budget == 0) opt.memory_budget = BUILD_DEFAULT_MEMORY;
    if (opt.store_level == 0) opt.store_level = 1;
    memset(st, 0, sizeof *st);
    double t0 = now_seconds();

    int created = 0, lock = -1;
    int rc = index_dir_prepare(dir, &created, err);
    if (rc != SE_OK) return rc;
    rc = index_lock_acquire(dir, &lock, err);
    if (rc != SE_OK) {
        if (created) rmdir(dir);
        return rc;
    }
    manifest old, next = {0};
    rc = manifest_read(dir, &old, err);
    if (rc == SE_NOTFOUND) {
        memset(&old, 0, sizeof old);
        rc = SE_OK;
    }
    /* Only a manifest we could read (or the certainty that there is none)
     * tells which files are debris: with a damaged or unreadable one, or one
     * of a newer format, nothing may be deleted. */
    int know_files = rc == SE_OK;
    build_state b = {.dir = dir, .opt = &opt, .st = st};
    if (rc == SE_OK) {
        /* We hold the lock: anything the current manifest does not name is
         * debris of an interrupted run. */
        remove_unreferenced(dir, &old);
        b.next_number = old.next_segment;
        b.new_gen = old.generation + 1;
        if (analyzer_new(&b.an) != SE_OK || inverter_new(&b.inv) != SE_OK)
            rc = se_fail(err, SE_NOMEM, "out of memory");
    }
    if (rc == SE_OK) rc = update(&b, in, &old, &next, t0, err);
    if (b.commit_unknown) {
        know_files = 0;
        st->commit_unknown = 1;
    }
    free_state(&b);
    manifest *current = &old;
    if (st->committed) {
        manifest_free(&old);
        current = &next;
    } else {
        manifest_free(&next);
    }
    /* Files the current generation does not name: the previous
     * generation's after a commit, this run's after a failure. */
    if (know_files) remove_unreferenced(dir, current);
    if (rc == SE_OK && !opt.no_merge) {
        merge_run_stats ms;
        uint64_t gen = current->generation;
        rc = merge_policy_apply(dir, current, opt.merge_factor, opt.optimize, opt.store_level, &ms,
                                err);
        st->merges = ms.merges;
        if (current->generation != gen) st->committed = 1;
    }
    st->generation = current->generation;
    st->segments = current->nsegments;
    for (uint32_t i = 0; i < current->nsegments; i++)
        st->live_docs += current->segments[i].ndocs - current->segments[i].ndeleted;
    int keep_dir = current->generation > 0;
    manifest_free(current);
    if (!keep_dir && created) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, INDEX_LOCK_NAME);
        unlink(path);
        index_lock_release(lock);
        rmdir(dir);
    } else {
        index_lock_release(lock);
    }
    st->seconds = now_seconds() - t0;
    return rc;
}
