/*
 * verify.h - checking an index completely, and describing it.
 *
 * index_verify opens the current generation (which checks every file's
 * framing and checksum against the manifest) and then walks every
 * structure: the dictionary's order and extents, every posting list (doc
 * ids, frequencies, skip entries, impacts, df and total tf against the
 * dictionary, positions), every stored document (ids and contents against
 * the hashes in the document table) and the document lengths.  It stops at
 * the first problem and describes it, with the file, in *err.
 *
 * index_describe gathers the figures `index --stats` prints.
 * Both only read; they take no lock (a concurrent commit is seen as a
 * consistent older or newer generation).
 */
#ifndef SE_VERIFY_H
#define SE_VERIFY_H

#include <stdint.h>

#include "common/segment.h"
#include "common/status.h"

typedef struct index_description {
    uint64_t generation;
    uint32_t segments;
    uint64_t documents; /* live */
    uint64_t deleted;   /* deleted, still in segments until they are merged */
    uint64_t terms;     /* summed over segments; title-field terms not included */
    uint64_t postings;  /* summed df (deleted documents' postings included) */
    uint64_t positions; /* summed cf (likewise) */
    /* The title-field terms (SEG_TITLE_PREFIX, see docs/FORMAT.md), counted
     * apart so that the figures above are those of the one searchable field
     * (title and text), comparable with other engines' single field. */
    uint64_t title_terms, title_postings, title_positions;
    uint64_t tokens; /* summed lengths of the live documents */
    uint64_t file_bytes[SEG_NFILES];
    uint64_t deletions_bytes; /* .del files */
    uint64_t manifest_bytes;
} index_description;

/* SE_OK when everything checks out; SE_CORRUPT / SE_FORMAT / SE_NOTFOUND /
 * SE_IO / SE_NOMEM with the problem in *err.  *d (may be NULL) is filled
 * on success. */
int index_verify(const char *dir, index_description *d, se_error *err);

/* The figures only (framing and checksums are still verified on open). */
int index_describe(const char *dir, index_description *d, se_error *err);

#endif
