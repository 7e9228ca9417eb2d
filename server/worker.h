/*
 * worker.h - what one server thread needs to answer requests: a searcher
 * (searcher/search.h: one per thread), an analyzer for snippets, and a
 * document store buffer.
 *
 * A searcher is tied to the index it was created for, so worker_bind
 * recreates it when a request runs on a gen other than the last one (gens
 * are told apart by their serial, never by address, as a new gen may be
 * allocated where a closed one was); the store buffer's cached chunk is
 * dropped at the same time.  Between requests the worker holds no
 * reference to a gen, so old generations are closed as soon as their last
 * request ends.
 *
 * Ownership: the worker owns its members; free it with worker_free.
 * Thread-safety: one thread at a time.
 * Errors: SE_OK or SE_NOMEM (message in *err).
 */
#ifndef SE_SERVER_WORKER_H
#define SE_SERVER_WORKER_H

#include <stdint.h>

#include "common/analyzer.h"
#include "common/segment.h"
#include "common/status.h"
#include "searcher/search.h"
#include "server/generation.h"

typedef struct worker {
    searcher *s;       /* NULL until the first bind */
    uint64_t serial;   /* serial of the gen s was created for */
    analyzer *an;      /* for snippets: analyses as the bound generation's index does */
    uint32_t analysis; /* an's settings (ANALYZER_*) */
    seg_store_buffer store;
} worker;

int worker_new(worker **out, se_error *err);
void worker_free(worker *w);

/* Make w->s a searcher over g->ix (g must be held by the caller), and w->an
 * an analyzer with that index's settings. */
int worker_bind(worker *w, const gen *g, se_error *err);

#endif
