/*
 * docmap.h - find a live document of an open index by its id.
 *
 * Built once per loaded generation: an open-addressing hash table keyed by
 * the XXH3-64 id hash the document table already stores (segment.h), whose
 * slots hold a 32-bit global document number (the segment's first global
 * number plus the document within it).  A lookup probes by hash and
 * compares the id bytes in the document table, so a hash collision never
 * returns the wrong document.  Deleted documents are left out.  With the
 * table at most half full, 1.2 million documents take 16 MiB.
 *
 * Ownership: the map points into the index_reader it was built from, which
 * must outlive it.  Thread-safety: immutable once built; share freely.
 * Errors: docmap_build returns SE_OK or SE_NOMEM.
 */
#ifndef SE_SERVER_DOCMAP_H
#define SE_SERVER_DOCMAP_H

#include <stddef.h>
#include <stdint.h>

#include "common/index.h"
#include "common/status.h"

typedef struct docmap {
    const index_reader *ix;
    uint32_t *slots; /* global document number, DOCMAP_EMPTY when free */
    uint64_t mask;   /* slots - 1 (a power of two minus one) */
    uint64_t *first; /* nsegments + 1 entries: first global number of each segment */
    uint64_t count;  /* documents in the map */
} docmap;

int docmap_build(docmap *m, const index_reader *ix, se_error *err);
void docmap_free(docmap *m);

/* 1 and *seg / *doc when a live document has this id, else 0. */
int docmap_find(const docmap *m, const char *id, size_t len, uint32_t *seg, uint32_t *doc);

#endif
