/*
 * worker.c - per-thread searcher, analyzer and store buffer.
 */
#include "server/worker.h"

#include <stdlib.h>

int worker_new(worker **out, se_error *err)
{
    worker *w = calloc(1, sizeof *w);
    if (!w) return se_fail(err, SE_NOMEM, "out of memory");
    w->analysis = ANALYZER_DEFAULT;
    if (analyzer_new_with(&w->an, w->analysis) != SE_OK) {
        free(w);
        return se_fail(err, SE_NOMEM, "cannot create the analyzer");
    }
    seg_store_buffer_init(&w->store);
    *out = w;
    return SE_OK;
}

void worker_free(worker *w)
{
    if (!w) return;
    searcher_free(w->s);
    analyzer_free(w->an);
    seg_store_buffer_free(&w->store);
    free(w);
}

int worker_bind(worker *w, const gen *g, se_error *err)
{
    if (w->s && w->serial == g->serial) return SE_OK;
    searcher_free(w->s);
    w->s = NULL;
    /* The buffer caches a chunk by segment pointer: forget it, keep the
     * memory. */
    w->store.seg = NULL;
    w->store.chunk = UINT32_MAX;
    if (w->analysis != g->ix->man.analysis) {
        analyzer *an;
        if (analyzer_new_with(&an, g->ix->man.analysis) != SE_OK)
            return se_fail(err, SE_NOMEM, "cannot create the analyzer");
        analyzer_free(w->an);
        w->an = an;
        w->analysis = g->ix->man.analysis;
    }
    int rc = searcher_new(&w->s, g->ix, err);
    if (rc != SE_OK) return rc;
    w->serial = g->serial;
    return SE_OK;
}
