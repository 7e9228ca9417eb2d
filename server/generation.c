/*
 * generation.c - loading, reference counting and replacing generations.
 */
#include "server/generation.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "common/manifest.h"

static double wall_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void gen_destroy(gen *g)
{
    docmap_free(&g->ids);
    index_close(g->ix);
    atomic_fetch_sub(&g->store->alive, 1);
    free(g);
}

static int gen_load(gen_store *st, gen **out, se_error *err)
{
    double t0 = mono_ms();
    gen *g = calloc(1, sizeof *g);
    if (!g) return se_fail(err, SE_NOMEM, "out of memory");
    int rc = index_open(&g->ix, st->dir, err);
    if (rc != SE_OK) {
        free(g);
        return rc;
    }
    rc = docmap_build(&g->ids, g->ix, err);
    if (rc != SE_OK) {
        index_close(g->ix);
        free(g);
        return rc;
    }
    g->store = st;
    g->serial = ++st->next_serial;
    g->loaded_at = wall_seconds();
    g->load_ms = mono_ms() - t0;
    atomic_init(&g->refs, 1); /* the store's reference */
    atomic_fetch_add(&st->alive, 1);
    *out = g;
    return SE_OK;
}

/* Stat MANIFEST into the store's "last seen" fields; 1 when they changed. */
static int manifest_stamp(gen_store *st)
{
    char path[4096];
    struct stat sb;
    if (snprintf(path, sizeof path, "%s/%s", st->dir, MANIFEST_NAME) >= (int)sizeof path ||
        stat(path, &sb) != 0)
        return 1; /* let manifest_read report what is wrong */
    long long mtime = (long long)sb.st_mtim.tv_sec * 1000000000LL + sb.st_mtim.tv_nsec;
    int changed = sb.st_dev != st->man_dev || sb.st_ino != st->man_ino ||
                  sb.st_size != st->man_size || mtime != st->man_mtime_ns;
    st->man_dev = sb.st_dev;
    st->man_ino = sb.st_ino;
    st->man_size = sb.st_size;
    st->man_mtime_ns = mtime;
    return changed;
}

int gen_store_open(gen_store *st, const char *dir, se_error *err)
{
    memset(st, 0, sizeof *st);
    st->dir = strdup(dir);
    if (!st->dir) return se_fail(err, SE_NOMEM, "out of memory");
    atomic_init(&st->alive, 0);
    atomic_init(&st->reloads, 0);
    atomic_init(&st->reload_errors, 0);
    manifest_stamp(st);
    int rc = gen_load(st, &st->current, err);
    if (rc != SE_OK) {
        free(st->dir);
        return rc;
    }
    pthread_mutex_init(&st->lock, NULL);
    return SE_OK;
}

void gen_store_close(gen_store *st)
{
    if (st->current) gen_release(st->current);
    st->current = NULL;
    pthread_mutex_destroy(&st->lock);
    free(st->dir);
    st->dir = NULL;
}

gen *gen_acquire(gen_store *st)
{
    pthread_mutex_lock(&st->lock);
    gen *g = st->current;
    atomic_fetch_add(&g->refs, 1);
    pthread_mutex_unlock(&st->lock);
    return g;
}

void gen_release(gen *g)
{
    if (atomic_fetch_sub(&g->refs, 1) == 1) gen_destroy(g);
}

int gen_store_refresh(gen_store *st, int *changed, se_error *err)
{
    *changed = 0;
    if (!manifest_stamp(st)) return SE_OK;
    manifest man;
    int rc = manifest_read(st->dir, &man, err);
    if (rc != SE_OK) {
        st->man_ino = 0; /* look again next time */
        atomic_fetch_add(&st->reload_errors, 1);
        return rc;
    }
    uint64_t generation = man.generation;
    manifest_free(&man);
    /* Only this thread replaces current, so reading it unlocked is safe. */
    if (generation == st->current->ix->man.generation) return SE_OK;
    gen *g = NULL;
    rc = gen_load(st, &g, err);
    if (rc != SE_OK) {
        st->man_ino = 0;
        atomic_fetch_add(&st->reload_errors, 1);
        return rc;
    }
    pthread_mutex_lock(&st->lock);
    gen *old = st->current;
    st->current = g;
    pthread_mutex_unlock(&st->lock);
    gen_release(old);
    atomic_fetch_add(&st->reloads, 1);
    *changed = 1;
    return SE_OK;
}
