/* ixfiles.c - index directory contents against the manifest (ixfiles.h). */
#include "tests/support/ixfiles.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/manifest.h"
#include "common/segment.h"
#include "tests/support/fsutil.h"

typedef struct names {
    char (*v)[64];
    size_t n;
    int *seen;
} names;

static int names_find(const names *s, const char *name)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->v[i], name) == 0) return (int)i;
    return -1;
}

int ixfiles_check_exact(const char *dir, char *why, size_t cap)
{
    manifest m;
    se_error err = {0};
    if (manifest_read(dir, &m, &err) != SE_OK) {
        snprintf(why, cap, "%s", err.msg);
        return -1;
    }
    names want = {0};
    size_t max = 2 + (size_t)m.nsegments * (SEG_NFILES + 1);
    want.v = calloc(max, sizeof *want.v);
    want.seen = calloc(max, sizeof *want.seen);
    int rc = 0;
    if (!want.v || !want.seen) {
        snprintf(why, cap, "out of memory");
        rc = -1;
        goto out;
    }
    snprintf(want.v[want.n++], 64, "MANIFEST");
    snprintf(want.v[want.n++], 64, "LOCK");
    for (uint32_t i = 0; i < m.nsegments; i++) {
        const seg_meta *s = &m.segments[i];
        for (int f = 0; f < SEG_NFILES; f++)
            snprintf(want.v[want.n++], 64, "s%08u.%s", s->number, seg_file_ext[f]);
        if (s->del_gen)
            snprintf(want.v[want.n++], 64, "s%08u_%llu.del", s->number,
                     (unsigned long long)s->del_gen);
    }
    DIR *d = opendir(dir);
    if (!d) {
        snprintf(why, cap, "cannot read %s", dir);
        rc = -1;
        goto out;
    }
    struct dirent *e;
    char problem[512] = "";
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        int i = names_find(&want, e->d_name);
        if (i < 0 && !problem[0])
            snprintf(problem, sizeof problem,
                     "%.255s is not referenced by the manifest (generation %llu)", e->d_name,
                     (unsigned long long)m.generation);
        if (i >= 0) want.seen[i] = 1;
    }
    closedir(d);
    for (size_t i = 0; i < want.n && !problem[0]; i++)
        if (!want.seen[i])
            snprintf(problem, sizeof problem, "%s is referenced by the manifest but missing",
                     want.v[i]);
    if (problem[0]) {
        char *listing = fs_dir_listing(dir, NULL);
        snprintf(why, cap, "%s; the directory holds:\n%s", problem, listing ? listing : "?");
        free(listing);
        rc = -1;
    }
out:
    free(want.v);
    free(want.seen);
    manifest_free(&m);
    return rc;
}
