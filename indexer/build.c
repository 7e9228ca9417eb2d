/*
 * build.c - the indexing pipeline: input -> analyzer -> inverter -> segment
 * writer; deletions of replaced and removed documents; batch segments
 * merged; an atomic commit; then the merge policy (see build.h).
 *
 * Positions: a document's title tokens come first, then one position is
 * left empty, then the text's tokens, so no phrase matches across the
 * boundary.  A document's length is its number of indexed tokens.  Each
 * title token is also added as a title-field term (SEG_TITLE_PREFIX and
 * the term, same position), and the title's number of tokens is the
 * document's title length, so that fielded scoring (BM25F) can tell title
 * occurrences from body ones at query time.
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
#include <pthread.h>
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

typedef struct index_pool index_pool;

typedef struct build_state {
    const char *dir;
    const build_options *opt;
    build_stats *st;
    analyzer *an;
    uint32_t analysis; /* the settings of b->an, recorded in the manifest */
    analyzer *scan_an; /* for scan_for_cut, made on first use */
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
    index_pool *pool;   /* worker threads when opt->threads > 1 */
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

/* Analyse one field into the inverter; a title's tokens also go in as
 * title-field terms. */
static int analyse_field(analyzer *an, inverter *inv, const char *text, size_t len, uint32_t first,
                         int title, uint32_t *next, uint32_t *ntokens)
{
    analyzer_reset(an, text, len, first);
    analyzer_token tok;
    char fielded[SEG_MAX_TERM_LEN + 1];
    fielded[0] = SEG_TITLE_PREFIX;
    while (analyzer_next(an, &tok)) {
        int rc = inverter_add_token(inv, tok.term, tok.term_len, tok.position);
        if (rc == SE_OK && title && tok.term_len < SEG_MAX_TERM_LEN) {
            memcpy(fielded + 1, tok.term, tok.term_len);
            rc = inverter_add_token(inv, fielded, tok.term_len + 1, tok.position);
        }
        if (rc != SE_OK) return rc;
        (*ntokens)++;
    }
    *next = analyzer_position(an);
    return SE_OK;
}

/* One document through the analyzer into the inverter (title positions
 * first, one position left empty, then the text) and into the segment. */
static int index_document(analyzer *an, inverter *inv, segment_writer *w, const seg_document *sd,
                          uint32_t doc, uint64_t content, uint32_t *ntokens, int *cut,
                          se_error *err)
{
    uint32_t next = 0, title_tokens;
    uint64_t cut_before = analyzer_get_stats(an).cut_texts;
    *ntokens = 0;
    int rc = analyse_field(an, inv, sd->title, sd->title_len, 0, 1, &next, ntokens);
    title_tokens = *ntokens;
    if (rc == SE_OK)
        rc = analyse_field(an, inv, sd->text, sd->text_len, next + 1, 0, &next, ntokens);
    if (rc != SE_OK) {
        inverter_abandon_document(inv);
        return se_fail(err, rc, "out of memory indexing document %.*s",
                       (int)(sd->id_len > 200 ? 200 : sd->id_len), sd->id);
    }
    *cut = analyzer_get_stats(an).cut_texts != cut_before;
    rc = segw_add_document(w, sd, *ntokens, title_tokens, content, err);
    if (rc == SE_OK) rc = inverter_end_document(inv, doc);
    if (rc != SE_OK) return se_fail(err, rc, "indexing document failed: %s", se_status_name(rc));
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

/* A document with tokens past ANALYZER_MAX_POSITIONS: counted, and named
 * through opt->warn. */
static void report_cut(build_state *b, const input_doc *d)
{
    b->st->cut_docs++;
    if (!b->opt->warn) return;
    char msg[512];
    snprintf(msg, sizeof msg,
             "document %.*s has more than %lu positions: only the first %lu are indexed "
             "(it is stored whole)",
             (int)(d->id_len > 200 ? 200 : d->id_len), d->id, (unsigned long)ANALYZER_MAX_POSITIONS,
             (unsigned long)ANALYZER_MAX_POSITIONS);
    b->opt->warn(b->opt->warn_ctx, d->source, d->line, msg);
}

static int add_document(build_state *b, const input_doc *d, uint64_t content, uint32_t *tgt,
                        uint32_t *docno, se_error *err)
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
    uint32_t ntokens = 0;
    seg_document sd = {d->id, d->id_len, d->title, d->title_len, d->text, d->text_len};
    int cut = 0;
    int rc = index_document(b->an, b->inv, b->w, &sd, doc, content, &ntokens, &cut, err);
    if (rc != SE_OK) return rc;
    if (cut) report_cut(b, d);
    t->content[doc] = content;
    t->ndocs_written = doc + 1;
    *tgt = b->w_target;
    *docno = doc;
    b->st->documents++;
    b->st->tokens += ntokens;
    b->st->bytes += d->title_len + d->text_len;
    /* A full batch is cut where its store chunk closes, so that the final
     * merge can take its chunks as they are (merge_segments_same_level). */
    if (inverter_memory(b->inv) >= b->opt->memory_budget && segw_store_chunk_empty(b->w))
        return flush_batch(b, err);
    return SE_OK;
}

/* ---- parallel indexing (threads > 1) ----
 *
 * The reading thread keeps doing everything that depends on input order
 * (reading, the id table, deciding add / replace / skip) and cuts the
 * documents to add into ranges of consecutive documents.  Each range is
 * copied into a job (the input's strings do not outlive input_next) and
 * handed to one of the worker threads, which analyses and inverts it with
 * its own analyzer and inverter and writes it as one batch segment, store
 * compression included.  Ranges end where a store chunk closes (the reader
 * follows the writer's chunk rule with segw_store_record_bytes), so the
 * final merge of the batch segments, in range order, copies every full
 * chunk and writes the same segment as one thread would: same document
 * numbers, same bytes.
 *
 * Jobs cycle FREE -> FILLING (reader) -> READY -> RUNNING (a worker) ->
 * DONE -> FREE (the reader collects the result into the range's target).
 * Only the reader touches build_state; workers see their job and the pool's
 * constant fields.  One mutex guards the states; `work` wakes workers,
 * `done` wakes the reader. */

enum job_state { JOB_FREE, JOB_FILLING, JOB_READY, JOB_RUNNING, JOB_DONE };

typedef struct range_doc {
    size_t off; /* of the id in the job's bytes; the title and text follow it */
    size_t id_len, title_len, text_len;
    uint64_t content;
} range_doc;

typedef struct range_job {
    enum job_state state;
    uint64_t seq; /* dispatch order: workers take the oldest ready job */
    uint32_t target, number;
    char *bytes;
    size_t nbytes, cap_bytes;
    range_doc *docs;
    size_t ndocs, cap_docs;
    size_t chunk_fill; /* bytes in the store chunk the next document joins */
    /* results, written by the worker */
    int rc;
    se_error err;
    seg_meta meta;
    uint64_t tokens;
} range_job;

typedef struct index_pool index_pool;

typedef struct index_worker {
    index_pool *pool;
    pthread_t thread;
    int started;
    analyzer *an;
    inverter *inv;
} index_worker;

struct index_pool {
    pthread_mutex_t mu;
    pthread_cond_t work, done;
    int stop;
    range_job *jobs;
    size_t njobs;
    index_worker *workers;
    unsigned nworkers;
    uint64_t next_seq;
    const char *dir;
    int store_level;
    size_t range_bytes; /* a range is closed once it holds this much */
    range_job *filling; /* the job the reader is filling, or NULL */
};

#define RANGE_MIN_BYTES ((size_t)256 << 10)
#define RANGE_MAX_BYTES ((size_t)16 << 20)

static int run_range(index_worker *wk, range_job *j)
{
    index_pool *p = wk->pool;
    segment_writer *w;
    int rc = segw_create(&w, p->dir, j->number, p->store_level, &j->err);
    if (rc != SE_OK) return rc;
    for (size_t i = 0; i < j->ndocs && rc == SE_OK; i++) {
        const range_doc *rd = &j->docs[i];
        const char *base = j->bytes + rd->off;
        seg_document sd = {base,
                           rd->id_len,
                           base + rd->id_len,
                           rd->title_len,
                           base + rd->id_len + rd->title_len,
                           rd->text_len};
        uint32_t ntokens;
        int cut; /* reported by the main thread when it took the document */
        rc = index_document(wk->an, wk->inv, w, &sd, (uint32_t)i, rd->content, &ntokens, &cut,
                            &j->err);
        j->tokens += ntokens;
    }
    if (rc == SE_OK) rc = inverter_write(wk->inv, w, &j->err);
    if (rc != SE_OK) {
        segw_abort(w);
        return rc;
    }
    return segw_finish(w, &j->meta, &j->err);
}

/* The oldest ready job, or NULL.  Called with the mutex held. */
static range_job *next_ready(index_pool *p)
{
    range_job *best = NULL;
    for (size_t i = 0; i < p->njobs; i++)
        if (p->jobs[i].state == JOB_READY && (!best || p->jobs[i].seq < best->seq))
            best = &p->jobs[i];
    return best;
}

static void *worker_main(void *arg)
{
    index_worker *wk = arg;
    index_pool *p = wk->pool;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        range_job *j = NULL;
        while (!p->stop && !(j = next_ready(p))) pthread_cond_wait(&p->work, &p->mu);
        if (!j) break;
        j->state = JOB_RUNNING;
        pthread_mutex_unlock(&p->mu);
        j->tokens = 0;
        j->rc = run_range(wk, j);
        pthread_mutex_lock(&p->mu);
        j->state = JOB_DONE;
        if (j->rc != SE_OK) p->stop = 1; /* the run fails: take no more jobs */
        pthread_cond_broadcast(&p->done);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

static void pool_free(index_pool *p)
{
    if (!p) return;
    pthread_mutex_lock(&p->mu);
    p->stop = 1;
    pthread_cond_broadcast(&p->work);
    pthread_mutex_unlock(&p->mu);
    for (unsigned i = 0; i < p->nworkers; i++) {
        if (p->workers[i].started) pthread_join(p->workers[i].thread, NULL);
        analyzer_free(p->workers[i].an);
        inverter_free(p->workers[i].inv);
    }
    for (size_t i = 0; i < p->njobs; i++) {
        free(p->jobs[i].bytes);
        free(p->jobs[i].docs);
    }
    free(p->jobs);
    free(p->workers);
    pthread_cond_destroy(&p->work);
    pthread_cond_destroy(&p->done);
    pthread_mutex_destroy(&p->mu);
    free(p);
}

static int pool_new(index_pool **out, const char *dir, const build_options *opt, uint32_t analysis,
                    se_error *err)
{
    *out = NULL;
    index_pool *p = calloc(1, sizeof *p);
    if (!p) return se_fail(err, SE_NOMEM, "out of memory");
    if (pthread_mutex_init(&p->mu, NULL) != 0) {
        free(p);
        return se_fail(err, SE_NOMEM, "cannot create a mutex");
    }
    pthread_cond_init(&p->work, NULL);
    pthread_cond_init(&p->done, NULL);
    p->dir = dir;
    p->store_level = opt->store_level;
    p->nworkers = opt->threads;
    /* Small ranges keep the workers evenly loaded at the end of the input;
     * all ranges in memory together stay within the budget. */
    size_t range = opt->memory_budget / (4 * (size_t)opt->threads);
    p->range_bytes = range < RANGE_MIN_BYTES   ? RANGE_MIN_BYTES
                     : range > RANGE_MAX_BYTES ? RANGE_MAX_BYTES
                                               : range;
    p->njobs = (size_t)p->nworkers + 2; /* one filling, one ready, one per worker */
    p->jobs = calloc(p->njobs, sizeof *p->jobs);
    p->workers = calloc(p->nworkers, sizeof *p->workers);
    if (!p->jobs || !p->workers) {
        pool_free(p);
        return se_fail(err, SE_NOMEM, "out of memory");
    }
    for (unsigned i = 0; i < p->nworkers; i++) {
        index_worker *wk = &p->workers[i];
        wk->pool = p;
        if (analyzer_new_with(&wk->an, analysis) != SE_OK || inverter_new(&wk->inv) != SE_OK) {
            pool_free(p);
            return se_fail(err, SE_NOMEM, "out of memory");
        }
        if (pthread_create(&wk->thread, NULL, worker_main, wk) != 0) {
            unsigned n = p->nworkers;
            pool_free(p);
            return se_fail(err, SE_NOMEM, "cannot start indexing thread %u of %u", i + 1, n);
        }
        wk->started = 1;
    }
    *out = p;
    return SE_OK;
}

/* Take the results of finished jobs into their targets.  Called by the
 * reader with the mutex held; returns the first failure. */
static int collect_done(build_state *b, se_error *err)
{
    index_pool *p = b->pool;
    int rc = SE_OK;
    for (size_t i = 0; i < p->njobs; i++) {
        range_job *j = &p->jobs[i];
        if (j->state != JOB_DONE) continue;
        j->state = JOB_FREE;
        if (j->rc != SE_OK) {
            if (rc == SE_OK) rc = se_fail(err, j->rc, "%s", j->err.msg);
            continue;
        }
        target *t = &b->targets[j->target];
        t->meta = j->meta;
        t->written = 1;
        b->st->batches++;
        b->st->tokens += j->tokens;
    }
    return rc;
}

/* Wait until a job is free (mode 0) or until every job is (mode 1). */
static int pool_wait(build_state *b, int all, range_job **out, se_error *err)
{
    index_pool *p = b->pool;
    pthread_mutex_lock(&p->mu);
    int rc = SE_OK;
    for (;;) {
        rc = collect_done(b, err);
        if (rc != SE_OK) break;
        size_t nfree = 0;
        range_job *j = NULL;
        for (size_t i = 0; i < p->njobs; i++)
            if (p->jobs[i].state == JOB_FREE) {
                nfree++;
                if (!j) j = &p->jobs[i];
            }
        if (!all && j) {
            j->state = JOB_FILLING;
            *out = j;
            break;
        }
        if (all && nfree == p->njobs) break;
        pthread_cond_wait(&p->done, &p->mu);
    }
    pthread_mutex_unlock(&p->mu);
    return rc;
}

static void pool_dispatch(index_pool *p)
{
    range_job *j = p->filling;
    p->filling = NULL;
    if (!j) return;
    pthread_mutex_lock(&p->mu);
    if (j->ndocs == 0) {
        j->state = JOB_FREE;
    } else {
        j->state = JOB_READY;
        j->seq = p->next_seq++;
        pthread_cond_signal(&p->work);
    }
    pthread_mutex_unlock(&p->mu);
}

/* Every range handed out and written (the threaded flush_batch). */
static int pool_finish(build_state *b, se_error *err)
{
    pool_dispatch(b->pool);
    return pool_wait(b, 1, NULL, err);
}

static int job_reserve(range_job *j, size_t bytes)
{
    if (j->ndocs == j->cap_docs) {
        size_t cap = j->cap_docs ? j->cap_docs * 2 : 1024;
        range_doc *d = realloc(j->docs, cap * sizeof *d);
        if (!d) return SE_NOMEM;
        j->docs = d;
        j->cap_docs = cap;
    }
    if (j->cap_bytes - j->nbytes < bytes) {
        size_t cap = j->cap_bytes ? j->cap_bytes : (size_t)1 << 20;
        while (cap - j->nbytes < bytes) {
            if (cap > SIZE_MAX / 2) return SE_NOMEM;
            cap *= 2;
        }
        char *nb = realloc(j->bytes, cap);
        if (!nb) return SE_NOMEM;
        j->bytes = nb;
        j->cap_bytes = cap;
    }
    return SE_OK;
}

/* The threaded add_document: the document joins the range being filled. */
/* Whether the analyzer will cut a document at ANALYZER_MAX_POSITIONS, found
 * by analysing it once more with an analyzer of the main thread's own (only
 * a text of that many bytes can be cut), so that the warning comes in input
 * order while a worker indexes the document. */
static int scan_for_cut(build_state *b, const input_doc *d, int *cut, se_error *err)
{
    if (!b->scan_an && analyzer_new_with(&b->scan_an, b->analysis) != SE_OK)
        return se_fail(err, SE_NOMEM, "out of memory");
    analyzer *an = b->scan_an;
    uint64_t before = analyzer_get_stats(an).cut_texts;
    analyzer_token tok;
    analyzer_reset(an, d->title, d->title_len, 0);
    while (analyzer_next(an, &tok)) {
    }
    analyzer_reset(an, d->text, d->text_len, analyzer_position(an) + 1);
    while (analyzer_next(an, &tok)) {
    }
    *cut = analyzer_get_stats(an).cut_texts != before;
    return SE_OK;
}

static int add_document_parallel(build_state *b, const input_doc *d, uint64_t content,
                                 uint32_t *tgt, uint32_t *docno, se_error *err)
{
    index_pool *p = b->pool;
    if ((uint64_t)d->title_len + d->text_len + 1 >= ANALYZER_MAX_POSITIONS) {
        int cut = 0;
        int rc = scan_for_cut(b, d, &cut, err);
        if (rc != SE_OK) return rc;
        if (cut) report_cut(b, d);
    }
    if (!p->filling) {
        range_job *j = NULL;
        int rc = pool_wait(b, 0, &j, err);
        if (rc != SE_OK) return rc;
        uint32_t ti;
        if (add_target(b, &ti) != SE_OK) {
            pthread_mutex_lock(&p->mu);
            j->state = JOB_FREE;
            pthread_mutex_unlock(&p->mu);
            return se_fail(err, SE_NOMEM, "out of memory");
        }
        b->targets[ti].is_batch = 1;
        j->target = ti;
        j->number = b->next_number++;
        j->nbytes = j->ndocs = j->chunk_fill = 0;
        j->rc = SE_OK;
        p->filling = j;
        b->content_cap = 0;
    }
    range_job *j = p->filling;
    target *t = &b->targets[j->target];
    if (j->ndocs >= SEG_MAX_DOCS) return se_fail(err, SE_LIMIT, "too many documents in a batch");
    uint32_t doc = (uint32_t)j->ndocs;
    if (doc == b->content_cap) {
        size_t cap = b->content_cap ? b->content_cap * 2 : 1024;
        uint64_t *c = realloc(t->content, cap * sizeof *c);
        if (!c) return se_fail(err, SE_NOMEM, "out of memory");
        t->content = c;
        b->content_cap = cap;
    }
    size_t need = d->id_len + d->title_len + d->text_len;
    if (job_reserve(j, need) != SE_OK) return se_fail(err, SE_NOMEM, "out of memory");
    range_doc *rd = &j->docs[j->ndocs++];
    *rd = (range_doc){j->nbytes, d->id_len, d->title_len, d->text_len, content};
    memcpy(j->bytes + j->nbytes, d->id, d->id_len);
    memcpy(j->bytes + j->nbytes + d->id_len, d->title, d->title_len);
    memcpy(j->bytes + j->nbytes + d->id_len + d->title_len, d->text, d->text_len);
    j->nbytes += need;
    t->content[doc] = content;
    t->ndocs_written = doc + 1;
    *tgt = j->target;
    *docno = doc;
    b->st->documents++;
    b->st->bytes += d->title_len + d->text_len;
    /* Follow the writer's chunk rule: a range ends where a chunk closes. */
    seg_document sd = {d->id, d->id_len, d->title, d->title_len, d->text, d->text_len};
    j->chunk_fill += segw_store_record_bytes(&sd);
    if (j->chunk_fill >= SEG_STORE_CHUNK) j->chunk_fill = 0;
    if (j->nbytes >= p->range_bytes && j->chunk_fill == 0) pool_dispatch(p);
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
            char id[SEG_MAX_ID_LEN];
            size_t id_len = segment_doc_id(t->seg, doc, id);
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
    int rc = b->pool ? add_document_parallel(b, d, content, &tgt, &docno, err)
                     : add_document(b, d, content, &tgt, &docno, err);
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
        char fielded[SEG_MAX_TERM_LEN + 1];
        fielded[0] = SEG_TITLE_PREFIX;
        while (analyzer_next(b->an, &tok)) {
            rc = dels_builder_add_term(db, tok.term, tok.term_len);
            if (rc == SE_OK && f == 0 && tok.term_len < SEG_MAX_TERM_LEN) {
                /* the title-field term too (analyse_field) */
                memcpy(fielded + 1, tok.term, tok.term_len);
                rc = dels_builder_add_term(db, fielded, tok.term_len + 1);
            }
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
            rc = merge_segments_same_level(segs, k, b->dir, b->next_number++, b->opt->store_level,
                                           b->opt->threads, &merged, err);
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
    pool_free(b->pool);
    if (b->w) segw_abort(b->w);
    for (size_t i = 0; i < b->ntargets; i++) {
        segment_close(b->targets[i].seg);
        free(b->targets[i].pending);
        free(b->targets[i].content);
    }
    free(b->targets);
    free(b->ids.slots);
    analyzer_free(b->an);
    analyzer_free(b->scan_an);
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
        int got =
            in ? input_next(in, &d, err) : opt->next_document(opt->next_document_ctx, &d, err);
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
    int has_input = in || opt->next_document;
    double t = now_seconds();
    if (rc == SE_OK && has_input) {
        rc = read_input(b, in, t0, err);
        mentioned = st->documents + st->unchanged;
    }
    st->read_seconds = now_seconds() - t;
    t = now_seconds();
    if (rc == SE_OK && b->pool) rc = pool_finish(b, err);
    st->drain_seconds = now_seconds() - t;
    t = now_seconds();
    if (b->an) st->long_terms = analyzer_get_stats(b->an).skipped_long;
    for (unsigned i = 0; b->pool && i < b->pool->nworkers; i++)
        st->long_terms += analyzer_get_stats(b->pool->workers[i].an).skipped_long;
    if (rc == SE_OK && has_input && mentioned == 0 && (opt->mode != BUILD_UPDATE || b->nold == 0)) {
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

    st->flush_seconds = now_seconds() - t;
    t = now_seconds();
    seg_meta final;
    int have = 0;
    if (rc == SE_OK) rc = merge_batches(b, &final, &have, err);
    st->merge_seconds = now_seconds() - t;
    if (rc != SE_OK) return rc;
    t = now_seconds();

    int changed = have || st->deleted || st->replaced || opt->mode == BUILD_REBUILD;
    if (!changed) return SE_OK;
    next->generation = b->new_gen;
    next->analysis = b->analysis;
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
    st->commit_seconds = now_seconds() - t;
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
    if (opt.threads == 0) opt.threads = 1;
    memset(st, 0, sizeof *st);
    double t0 = now_seconds();

    int created = 0, lock = -1;
    int rc = index_dir_prepare(dir, &created, err);
    if (rc != SE_OK) return rc;
    if (!opt.lock_held) rc = index_lock_acquire(dir, &lock, err);
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
        /* An index keeps the analysis it was built with; only a rebuild (or
         * the first run) may choose another. */
        b.analysis = old.generation ? old.analysis : BUILD_DEFAULT_ANALYSIS;
        if (opt.analysis_given && opt.analysis != b.analysis && old.generation &&
            opt.mode != BUILD_REBUILD)
            rc = se_fail(err, SE_INVALID,
                         "%s was built with analyzer %s; changing it needs --rebuild", dir,
                         analyzer_settings_name(b.analysis));
        else if (opt.analysis_given)
            b.analysis = opt.analysis;
        if (rc == SE_OK &&
            (analyzer_new_with(&b.an, b.analysis) != SE_OK || inverter_new(&b.inv) != SE_OK))
            rc = se_fail(err, SE_NOMEM, "out of memory");
        if (rc == SE_OK && in && opt.threads > 1)
            rc = pool_new(&b.pool, dir, &opt, b.analysis, err);
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
        double tp = now_seconds();
        merge_run_stats ms;
        uint64_t gen = current->generation;
        rc = merge_policy_apply(dir, current, opt.merge_factor, opt.optimize, opt.store_level, &ms,
                                err);
        st->merges = ms.merges;
        if (current->generation != gen) st->committed = 1;
        st->policy_seconds = now_seconds() - tp;
    }
    st->generation = current->generation;
    st->segments = current->nsegments;
    for (uint32_t i = 0; i < current->nsegments; i++)
        st->live_docs += current->segments[i].ndocs - current->segments[i].ndeleted;
    int keep_dir = current->generation > 0;
    manifest_free(current);
    if (!keep_dir && created && !opt.lock_held) {
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
