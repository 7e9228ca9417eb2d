/*
 * build.c - the indexing pipeline: input -> analyzer -> inverter -> segment
 * writer, batch segments merged, then an atomic commit (see build.h).
 *
 * Positions: a document's title tokens come first, then one position is
 * left empty, then the text's tokens, so no phrase matches across the
 * boundary.  A document's length is its number of indexed tokens.
 */
#include "indexer/build.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

#include "common/analyzer.h"
#include "common/index.h"
#include "common/manifest.h"
#include "indexer/commit.h"
#include "indexer/inverter.h"
#include "indexer/merge.h"
#include "indexer/segment_writer.h"

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

typedef struct build_state {
    const char *dir;
    const build_options *opt;
    build_stats *st;
    analyzer *an;
    inverter *inv;
    segment_writer *w; /* the open batch segment, or NULL */
    uint32_t next_number;
    seg_meta *batches;
    size_t nbatches, batches_cap;
} build_state;

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
    int rc = inverter_write(b->inv, b->w, err);
    if (rc != SE_OK) {
        segw_abort(b->w);
        b->w = NULL;
        return rc;
    }
    if (b->nbatches == b->batches_cap) {
        size_t cap = b->batches_cap ? b->batches_cap * 2 : 8;
        seg_meta *m = realloc(b->batches, cap * sizeof *m);
        if (!m) {
            segw_abort(b->w);
            b->w = NULL;
            return se_fail(err, SE_NOMEM, "out of memory");
        }
        b->batches = m;
        b->batches_cap = cap;
    }
    rc = segw_finish(b->w, &b->batches[b->nbatches], err);
    b->w = NULL;
    if (rc != SE_OK) return rc;
    b->nbatches++;
    b->st->batches++;
    return SE_OK;
}

static int add_document(build_state *b, const input_doc *d, se_error *err)
{
    if (!b->w) {
        int rc = segw_create(&b->w, b->dir, b->next_number++, b->opt->store_level, err);
        if (rc != SE_OK) return rc;
    }
    uint32_t ntokens = 0, next = 0;
    int rc = analyse_field(b, d->title, d->title_len, 0, &next, &ntokens);
    if (rc == SE_OK) rc = analyse_field(b, d->text, d->text_len, next + 1, &next, &ntokens);
    if (rc != SE_OK) {
        inverter_abandon_document(b->inv);
        return se_fail(err, rc, "%s: out of memory indexing document %.*s", d->source,
                       (int)(d->id_len > 200 ? 200 : d->id_len), d->id);
    }
    uint32_t doc = segw_ndocs(b->w);
    seg_document sd = {d->id, d->id_len, d->title, d->title_len, d->text, d->text_len};
    /* Content hash: the text hashed with the title's hash as seed. */
    uint64_t content =
        XXH3_64bits_withSeed(d->text, d->text_len, XXH3_64bits(d->title, d->title_len));
    rc = segw_add_document(b->w, &sd, ntokens, XXH3_64bits(d->id, d->id_len), content, err);
    if (rc == SE_OK) rc = inverter_end_document(b->inv, doc);
    if (rc != SE_OK) return se_fail(err, rc, "indexing document failed: %s", se_status_name(rc));
    b->st->documents++;
    b->st->tokens += ntokens;
    b->st->bytes += d->title_len + d->text_len;
    if (inverter_memory(b->inv) >= b->opt->memory_budget) return flush_batch(b, err);
    return SE_OK;
}

static void remove_segment_files(const char *dir, uint32_t number)
{
    for (int f = 0; f < SEG_NFILES; f++) {
        char path[4096];
        if (seg_file_path(path, sizeof path, dir, number, f) == SE_OK) unlink(path);
    }
}

static void remove_batches(build_state *b)
{
    for (size_t i = 0; i < b->nbatches; i++) remove_segment_files(b->dir, b->batches[i].number);
    b->nbatches = 0;
}

/* At most this many segments are opened by one merge: every open segment
 * holds five mappings, and the process has a limited number of them. */
#define MERGE_FANIN 32

/* Merge the batch segments into one: the first MERGE_FANIN at a time, the
 * result taking their place, so document order is kept. */
static int merge_batches(build_state *b, seg_meta *final, se_error *err)
{
    while (b->nbatches > 1) {
        size_t n = b->nbatches < MERGE_FANIN ? b->nbatches : MERGE_FANIN;
        segment **segs = calloc(n, sizeof *segs);
        if (!segs) return se_fail(err, SE_NOMEM, "out of memory");
        int rc = SE_OK;
        for (size_t i = 0; i < n && rc == SE_OK; i++)
            rc = segment_open(&segs[i], b->dir, &b->batches[i], 1, err);
        seg_meta merged;
        if (rc == SE_OK)
            rc = merge_segments(segs, n, b->dir, b->next_number++, b->opt->store_level, &merged,
                                err);
        for (size_t i = 0; i < n; i++) segment_close(segs[i]);
        free(segs);
        if (rc != SE_OK) return rc;
        for (size_t i = 0; i < n; i++) remove_segment_files(b->dir, b->batches[i].number);
        b->batches[0] = merged;
        memmove(b->batches + 1, b->batches + n, (b->nbatches - n) * sizeof *b->batches);
        b->nbatches -= n - 1;
    }
    *final = b->batches[0];
    b->nbatches = 0;
    return SE_OK;
}

int build_index(const char *dir, input_reader *in, const build_options *opt_in, build_stats *st,
                se_error *err)
{
    build_options opt = *opt_in;
    if (opt.memory_budget == 0) opt.memory_budget = BUILD_DEFAULT_MEMORY;
    if (opt.store_level == 0) opt.store_level = 1;
    memset(st, 0, sizeof *st);
    double t0 = now_seconds(), last_progress = t0;

    int created = 0, lock = -1;
    int rc = index_dir_prepare(dir, &created, err);
    if (rc != SE_OK) return rc;
    rc = index_lock_acquire(dir, &lock, err);
    if (rc != SE_OK) {
        if (created) rmdir(dir);
        return rc;
    }
    manifest old;
    rc = manifest_read(dir, &old, err);
    if (rc == SE_NOTFOUND) {
        memset(&old, 0, sizeof old);
        rc = SE_OK;
    }
    build_state b = {.dir = dir, .opt = &opt, .st = st};
    if (rc == SE_OK) {
        /* We hold the lock: anything the current manifest does not name is
         * debris of an interrupted run. */
        remove_unreferenced(dir, &old);
        b.next_number = old.next_segment;
        if (analyzer_new(&b.an) != SE_OK || inverter_new(&b.inv) != SE_OK)
            rc = se_fail(err, SE_NOMEM, "out of memory");
    }
    while (rc == SE_OK) {
        input_doc d;
        int got = input_next(in, &d, err);
        if (got < 0) {
            rc = got;
            st->input_error = 1;
        }
        if (got <= 0) break;
        rc = add_document(&b, &d, err);
        double t = now_seconds();
        if (opt.progress && t - last_progress >= 0.5) {
            last_progress = t;
            st->seconds = t - t0;
            opt.progress(opt.progress_ctx, st);
        }
    }
    if (rc == SE_OK && st->documents == 0) {
        rc = se_fail(err, SE_INVALID, "no documents to index");
        st->input_error = 1;
    }
    if (rc == SE_OK) rc = flush_batch(&b, err);
    seg_meta final;
    if (rc == SE_OK) rc = merge_batches(&b, &final, err);
    if (rc == SE_OK) {
        manifest next = {.generation = old.generation + 1,
                         .next_segment = b.next_number,
                         .nsegments = 1,
                         .segments = &final};
        rc = commit_manifest(dir, &next, err);
        if (rc == SE_OK) {
            remove_unreferenced(dir, &next);
            st->generation = next.generation;
            st->terms = final.nterms;
            for (int f = 0; f < SEG_NFILES; f++) st->index_bytes += final.files[f].size;
        } else {
            remove_segment_files(dir, final.number);
        }
    }
    if (rc != SE_OK) {
        if (b.w) segw_abort(b.w);
        remove_batches(&b);
    }
    if (b.an) st->long_terms = analyzer_get_stats(b.an).skipped_long;
    analyzer_free(b.an);
    inverter_free(b.inv);
    free(b.batches);
    manifest_free(&old);
    if (rc != SE_OK && created) {
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
