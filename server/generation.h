/*
 * generation.h - the index generation a server answers from, replaced
 * without a restart when a writer commits a new one.
 *
 * A gen is one open index_reader (common/index.h) plus its id map
 * (docmap.h).  The store holds the current gen; every request takes a
 * reference with gen_acquire and drops it with gen_release.  When
 * gen_store_refresh finds that MANIFEST names another generation, it opens
 * it, makes it current and drops the store's own reference to the old
 * one: requests still running on the old gen finish on it, and the last
 * gen_release closes it (unmapping its files).  So at most a few gens are
 * open at once, and an old one never outlives its last request.
 *
 * Thread-safety: gen_acquire, gen_release and the counters may be used from
 * any thread; gen_store_refresh from one thread at a time (the server calls
 * it from its main loop); gen_store_open / gen_store_close before and after
 * every other use.  A gen is immutable while referenced.
 * Errors: SE_* codes with a message in *err; nothing is printed.
 */
#ifndef SE_SERVER_GENERATION_H
#define SE_SERVER_GENERATION_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/index.h"
#include "common/status.h"
#include "server/docmap.h"

typedef struct gen_store gen_store;

typedef struct gen {
    index_reader *ix;
    docmap ids;
    uint64_t serial;  /* distinct for every gen a store loads (never reused) */
    double loaded_at; /* seconds since the epoch */
    double load_ms;   /* time index_open + docmap_build took */
    atomic_uint refs;
    gen_store *store;
} gen;

struct gen_store {
    char *dir;
    pthread_mutex_t lock; /* guards current */
    gen *current;
    uint64_t next_serial;
    /* MANIFEST as last seen by gen_store_refresh (inode, size, mtime): a
     * commit renames a new file over it, so any change of these means
     * "read it again". */
    dev_t man_dev;
    ino_t man_ino;
    off_t man_size;
    long long man_mtime_ns;
    atomic_uint alive;           /* gens loaded and not yet closed */
    atomic_ullong reloads;       /* new generations made current */
    atomic_ullong reload_errors; /* failed attempts to open a new generation */
};

/* Open the index in dir as the first current gen.  SE_NOTFOUND (no index
 * there), SE_CORRUPT / SE_FORMAT / SE_IO (message names the file), SE_NOMEM. */
int gen_store_open(gen_store *st, const char *dir, se_error *err);

/* Release the current gen and the store.  Every acquired gen must have been
 * released before. */
void gen_store_close(gen_store *st);

/* The current gen with one more reference. */
gen *gen_acquire(gen_store *st);
void gen_release(gen *g);

/* Check MANIFEST; when it names a generation other than the current one,
 * open that and make it current.  *changed is set to 1 then, else 0.
 * On failure the current gen stays as it was and the error is returned
 * (the next call tries again). */
int gen_store_refresh(gen_store *st, int *changed, se_error *err);

#endif
