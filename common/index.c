/* index.c - opening the current generation of an index (see index.h). */
#include "common/index.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#define OPEN_RETRIES 20

static void release(index_reader *ix)
{
    for (uint32_t i = 0; i < ix->nsegments; i++) segment_close(ix->segments[i]);
    free(ix->segments);
    manifest_free(&ix->man);
    ix->segments = NULL;
    ix->nsegments = 0;
}

static int open_generation(index_reader *ix, se_error *err)
{
    int rc = manifest_read(ix->dir, &ix->man, err);
    /* dir/MANIFEST fails with ENOTDIR (SE_IO) when dir is a file. */
    if (rc == SE_NOTFOUND || rc == SE_IO) {
        struct stat st;
        if (stat(ix->dir, &st) != 0)
            return se_fail(err, SE_NOTFOUND, "no index at %s: %s", ix->dir, strerror(errno));
        if (!S_ISDIR(st.st_mode))
            return se_fail(err, SE_NOTFOUND, "no index at %s: not a directory", ix->dir);
        if (rc == SE_NOTFOUND)
            return se_fail(err, SE_NOTFOUND, "no index at %s: the directory has no MANIFEST",
                           ix->dir);
    }
    if (rc != SE_OK) return rc;
    uint32_t n = ix->man.nsegments;
    ix->segments = calloc(n ? n : 1, sizeof *ix->segments);
    if (!ix->segments) return se_fail(err, SE_NOMEM, "out of memory");
    ix->ndocs = 0;
    ix->ndeleted = 0;
    ix->total_len = 0;
    ix->total_title_len = 0;
    for (uint32_t i = 0; i < n; i++) {
        rc = segment_open(&ix->segments[i], ix->dir, &ix->man.segments[i], 1, err);
        if (rc != SE_OK) return rc;
        ix->nsegments = i + 1;
        ix->ndocs += segment_ndocs(ix->segments[i]) - segment_ndeleted(ix->segments[i]);
        ix->ndeleted += segment_ndeleted(ix->segments[i]);
        ix->total_len += segment_total_len(ix->segments[i]) - segment_deleted_len(ix->segments[i]);
        ix->total_title_len +=
            segment_total_title_len(ix->segments[i]) - segment_deleted_title_len(ix->segments[i]);
    }
    return SE_OK;
}

int index_open(index_reader **out, const char *dir, se_error *err)
{
    *out = NULL;
    index_reader *ix = calloc(1, sizeof *ix);
    if (!ix || !(ix->dir = strdup(dir))) {
        free(ix);
        return se_fail(err, SE_NOMEM, "out of memory");
    }
    int rc = SE_OK;
    for (int attempt = 0; attempt < OPEN_RETRIES; attempt++) {
        rc = open_generation(ix, err);
        if (rc == SE_OK) break;
        uint64_t gen = ix->man.generation;
        release(ix);
        if (rc != SE_NOTFOUND || gen == 0) break;
        /* A segment file is missing: was a newer generation committed? */
        manifest again;
        if (manifest_read(dir, &again, NULL) != SE_OK) break;
        uint64_t now = again.generation;
        manifest_free(&again);
        if (now == gen) break;
    }
    if (rc != SE_OK) {
        free(ix->dir);
        free(ix);
        return rc;
    }
    *out = ix;
    return SE_OK;
}

void index_close(index_reader *ix)
{
    if (!ix) return;
    release(ix);
    free(ix->dir);
    free(ix);
}

int64_t index_doc_freq(const index_reader *ix, const char *term, size_t len, se_error *err)
{
    return index_term_infos(ix, term, len, NULL, err);
}

int64_t index_term_infos(const index_reader *ix, const char *term, size_t len, seg_term_info *infos,
                         se_error *err)
{
    int64_t df = 0;
    for (uint32_t i = 0; i < ix->nsegments; i++) {
        seg_term_info one = {0}, *info = infos ? &infos[i] : &one;
        int rc = segment_lookup(ix->segments[i], term, len, info, err);
        if (rc < 0) return rc;
        if (rc == 0) info->df = 0; /* an entry's df is at least 1 */
        if (rc == 1) {
            uint32_t gone = segment_deleted_df(ix->segments[i], term, len);
            if (gone > info->df)
                return se_fail(err, SE_CORRUPT,
                               "%s: segment %u: the deletions file counts more deleted documents "
                               "with a term than hold it",
                               ix->dir, segment_number(ix->segments[i]));
            df += info->df - gone;
        }
    }
    return df;
}
