/*
 * writer.c - the writing half of the public API (include/libsearch.h):
 * srch_writer over indexer/build.h.
 *
 * The writer takes the index lock when opened and keeps it until closed;
 * build_index runs under it (build_options.lock_held).  Adds and deletes
 * are kept in memory, in call order, as copies; a commit reduces them to
 * the last operation per id (pending_op.seq orders them) and hands the
 * surviving documents to build_index through its next_document callback
 * and the deleted ids as build_options.delete_ids, so one commit is one
 * build run: one new generation, then the merge policy.
 */
#define SRCH_BUILDING_LIBRARY 1
#include "include/libsearch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <utf8proc.h>

#include "common/manifest.h"
#include "common/status.h"
#include "indexer/build.h"
#include "indexer/commit.h"
#include "indexer/input.h"

typedef struct pending_op {
    char *id, *title, *text; /* title and text are NULL for a deletion */
    size_t id_len, title_len, text_len;
    size_t seq; /* call order */
} pending_op;

struct srch_writer {
    char *dir;
    int lock_fd;   /* -1 when the open failed */
    int created;   /* the directory was created by srch_writer_open */
    int has_index; /* a generation exists (the directory is kept at close) */
    pending_op *ops;
    size_t nops, cap;
    se_error err;
};

/* The document source of one commit: the surviving adds, in call order. */
typedef struct commit_source {
    pending_op **docs;
    size_t n, next;
} commit_source;

static int utf8_valid(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t used =
            utf8proc_iterate((const utf8proc_uint8_t *)s + i, (utf8proc_ssize_t)(n - i), &cp);
        if (used <= 0) return 0;
        i += (size_t)used;
    }
    return 1;
}

int srch_writer_open(srch_writer **out, const char *dir)
{
    if (!out) return SRCH_INVALID;
    srch_writer *w = calloc(1, sizeof *w);
    *out = w;
    if (!w) return SRCH_NOMEM;
    w->lock_fd = -1;
    if (!dir || !*dir) return se_fail(&w->err, SE_INVALID, "no index directory given");
    w->dir = strdup(dir);
    if (!w->dir) return se_fail(&w->err, SE_NOMEM, "out of memory");
    int rc = index_dir_prepare(dir, &w->created, &w->err);
    if (rc != SE_OK) return rc;
    int fd;
    rc = index_lock_acquire(dir, &fd, &w->err);
    if (rc != SE_OK) {
        if (w->created) rmdir(dir);
        w->created = 0;
        return rc;
    }
    w->lock_fd = fd;
    /* Refuse a damaged or newer-format index now rather than at the first
     * commit, after the caller has handed over its documents. */
    manifest m;
    rc = manifest_read(dir, &m, &w->err);
    if (rc == SE_OK) {
        w->has_index = 1;
        manifest_free(&m);
    } else if (rc == SE_NOTFOUND) {
        rc = SE_OK;
        w->err.msg[0] = 0;
    }
    if (rc != SE_OK) {
        index_lock_release(w->lock_fd);
        w->lock_fd = -1;
    }
    return rc;
}

static int writer_ready(srch_writer *w)
{
    if (!w) return SRCH_INVALID;
    if (w->lock_fd < 0) return se_fail(&w->err, SE_INVALID, "the writer is not open");
    return SE_OK;
}

static int push_op(srch_writer *w, pending_op *op)
{
    if (w->nops == w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 64;
        pending_op *ops = realloc(w->ops, cap * sizeof *ops);
        if (!ops) return SE_NOMEM;
        w->ops = ops;
        w->cap = cap;
    }
    op->seq = w->nops;
    w->ops[w->nops++] = *op;
    return SE_OK;
}

static char *copy_bytes(const char *p, size_t n)
{
    char *c = malloc(n + 1);
    if (c) memcpy(c, p, n + 1);
    return c;
}

static void free_op(pending_op *op)
{
    free(op->id);
    free(op->title);
    free(op->text);
}

static int check_id(srch_writer *w, const char *id)
{
    if (!id || !*id) return se_fail(&w->err, SE_INVALID, "a document needs a non-empty id");
    if (!utf8_valid(id, strlen(id)))
        return se_fail(&w->err, SE_INVALID, "the id is not valid UTF-8");
    return SE_OK;
}

int srch_writer_add(srch_writer *w, const char *id, const char *title, const char *text)
{
    int rc = writer_ready(w);
    if (rc == SE_OK) rc = check_id(w, id);
    if (rc != SE_OK) return rc;
    if (!title) title = "";
    if (!text) text = "";
    pending_op op = {.id_len = strlen(id), .title_len = strlen(title), .text_len = strlen(text)};
    if (op.title_len == 0 && op.text_len == 0)
        return se_fail(&w->err, SE_INVALID, "document %s: no title and no text", id);
    if (op.id_len + op.title_len + op.text_len > INPUT_DEFAULT_MAX_DOC_BYTES)
        return se_fail(&w->err, SE_INVALID, "document %s: larger than %zu MiB", id,
                       INPUT_DEFAULT_MAX_DOC_BYTES >> 20);
    if (!utf8_valid(title, op.title_len))
        return se_fail(&w->err, SE_INVALID, "document %s: the title is not valid UTF-8", id);
    if (!utf8_valid(text, op.text_len))
        return se_fail(&w->err, SE_INVALID, "document %s: the text is not valid UTF-8", id);
    op.id = copy_bytes(id, op.id_len);
    op.title = copy_bytes(title, op.title_len);
    op.text = copy_bytes(text, op.text_len);
    if (!op.id || !op.title || !op.text || push_op(w, &op) != SE_OK) {
        free_op(&op);
        return se_fail(&w->err, SE_NOMEM, "out of memory");
    }
    return SRCH_OK;
}

int srch_writer_delete(srch_writer *w, const char *id)
{
    int rc = writer_ready(w);
    if (rc == SE_OK) rc = check_id(w, id);
    if (rc != SE_OK) return rc;
    pending_op op = {.id_len = strlen(id)};
    op.id = copy_bytes(id, op.id_len);
    if (!op.id || push_op(w, &op) != SE_OK) {
        free_op(&op);
        return se_fail(&w->err, SE_NOMEM, "out of memory");
    }
    return SRCH_OK;
}

size_t srch_writer_pending(const srch_writer *w)
{
    return w ? w->nops : 0;
}

/* By id, then call order: the last of each run of equal ids wins. */
static int cmp_id_seq(const void *a, const void *b)
{
    const pending_op *x = *(pending_op *const *)a, *y = *(pending_op *const *)b;
    int c = seg_term_cmp(x->id, x->id_len, y->id, y->id_len);
    if (c) return c;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int cmp_seq(const void *a, const void *b)
{
    const pending_op *x = *(pending_op *const *)a, *y = *(pending_op *const *)b;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int next_document(void *ctx, input_doc *doc, se_error *err)
{
    (void)err;
    commit_source *src = ctx;
    if (src->next == src->n) return 0;
    const pending_op *op = src->docs[src->next++];
    *doc = (input_doc){.id = op->id,
                       .id_len = op->id_len,
                       .title = op->title,
                       .title_len = op->title_len,
                       .text = op->text,
                       .text_len = op->text_len,
                       .source = "srch_writer_add"};
    return 1;
}

static void clear_ops(srch_writer *w)
{
    for (size_t i = 0; i < w->nops; i++) free_op(&w->ops[i]);
    w->nops = 0;
}

int srch_writer_commit(srch_writer *w, srch_commit_info *info)
{
    if (info) memset(info, 0, sizeof *info);
    int rc = writer_ready(w);
    if (rc != SE_OK) return rc;
    pending_op **order = malloc((w->nops ? w->nops : 1) * sizeof *order);
    const char **deletes = malloc((w->nops ? w->nops : 1) * sizeof *deletes);
    if (!order || !deletes) {
        free(order);
        free(deletes);
        return se_fail(&w->err, SE_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < w->nops; i++) order[i] = &w->ops[i];
    qsort(order, w->nops, sizeof *order, cmp_id_seq);
    size_t nlast = 0;
    for (size_t i = 0; i < w->nops; i++)
        if (i + 1 == w->nops || seg_term_cmp(order[i]->id, order[i]->id_len, order[i + 1]->id,
                                             order[i + 1]->id_len) != 0)
            order[nlast++] = order[i];
    qsort(order, nlast, sizeof *order, cmp_seq);
    commit_source src = {.docs = order};
    size_t ndeletes = 0;
    for (size_t i = 0; i < nlast; i++) {
        if (order[i]->text)
            order[src.n++] = order[i];
        else
            deletes[ndeletes++] = order[i]->id;
    }
    build_options bo = {.mode = BUILD_UPDATE,
                        .delete_ids = deletes,
                        .ndelete_ids = ndeletes,
                        .next_document = src.n ? next_document : NULL,
                        .next_document_ctx = &src,
                        .lock_held = 1};
    build_stats st;
    rc = build_index(w->dir, NULL, &bo, &st, &w->err);
    free(order);
    free(deletes);
    if (st.generation > 0) w->has_index = 1;
    /* Committed, even if a merge after the commit failed: the changes are
     * in the index and must not be applied twice. */
    if (rc == SE_OK || st.committed) clear_ops(w);
    if (info)
        *info = (srch_commit_info){.generation = st.generation,
                                   .documents = st.live_docs,
                                   .added = st.added,
                                   .replaced = st.replaced,
                                   .unchanged = st.unchanged,
                                   .deleted = st.deleted,
                                   .not_found = st.not_found,
                                   .committed = st.committed};
    return rc;
}

const char *srch_writer_errmsg(const srch_writer *w)
{
    return w ? w->err.msg : "out of memory";
}

void srch_writer_close(srch_writer *w)
{
    if (!w) return;
    clear_ops(w);
    free(w->ops);
    if (w->lock_fd >= 0) {
        /* A directory this writer created and never committed to goes
         * again, as after a failed first run of index(1). */
        int remove_dir = w->created && !w->has_index;
        if (remove_dir) {
            char path[4096];
            if (snprintf(path, sizeof path, "%s/%s", w->dir, INDEX_LOCK_NAME) < (int)sizeof path)
                unlink(path);
        }
        index_lock_release(w->lock_fd);
        if (remove_dir) rmdir(w->dir);
    }
    free(w->dir);
    free(w);
}
