/*
 * deletions.h - a segment's deleted documents: the .del file.
 *
 * Segments are immutable, so deleting or replacing a document records it in
 * a deletions file beside the segment, <dir>/s<number, 8 digits>_<gen>.del,
 * a new file every time the set grows (gen: the manifest generation that
 * commits it); the manifest names the current one.  Besides the bitmap, the file keeps for every
 * term of the deleted documents how many of them contain it, so that searchers can subtract those
 * from the segment's document frequencies: BM25 over an index with deletions then scores exactly
 * like a fresh index built without the deleted documents.
 *
 * Body (after the 16-byte frame header, docs/FORMAT.md "Deletions"):
 *   u32 ndocs            the segment's document count
 *   u32 ndeleted         set bits in the bitmap (1..ndocs)
 *   u64 deleted_len      sum of the deleted documents' lengths
 *   u64 nterms           entries in the term table
 *   u64 blob_len         bytes of the term blob
 *   bitmap               ceil(ndocs / 64) u64 words; bit d % 64 of word d / 64
 *                        set when document d is deleted; bits >= ndocs zero
 *   term index           nterms x {u32 blob offset, u32 count}: term i is
 *                        blob[offset_i, offset_{i+1}) (the last one ends at
 *                        blob_len), terms strictly increasing in byte order,
 *                        1..255 bytes, count in 1..ndeleted
 *   term blob
 *
 * Reading: dels_open maps and validates the whole file (framing, checksum,
 * every field above), so lookups afterwards need no checks.  Writing: a
 * dels_builder collects deletions in memory (starting from an existing
 * file's content) and dels_write writes a new file.  Not thread-safe per
 * object; an open dels is immutable and may be shared.
 */
#ifndef SE_DELETIONS_H
#define SE_DELETIONS_H

#include <stddef.h>
#include <stdint.h>

#include "common/fileio.h"
#include "common/status.h"

#define DELS_MAGIC "SEIXDELS"

/* "<dir>/s<number, %08u>_<gen>.del" into buf; SE_OK or SE_INVALID when
 * too long.  gen is the manifest generation that first referenced the file,
 * so every new deletions file has a new name. */
int dels_file_path(char *buf, size_t cap, const char *dir, uint32_t number, uint64_t gen);

typedef struct dels {
    fio_map map;
    uint32_t ndocs, ndeleted;
    uint64_t deleted_len;
    uint64_t nterms;
    const uint64_t *bits; /* (ndocs + 63) / 64 words, in the mapping */
    const uint8_t *index; /* nterms x 8 bytes */
    const uint8_t *blob;
    uint64_t blob_len;
} dels;

/* Open and validate `path` for a segment of `ndocs` documents.  SE_OK,
 * SE_NOTFOUND, SE_IO, SE_FORMAT or SE_CORRUPT (path named in *err). */
int dels_open(dels *d, const char *path, uint32_t ndocs, se_error *err);
void dels_close(dels *d);

static inline int dels_is_deleted(const uint64_t *bits, uint32_t doc)
{
    return (int)((bits[doc >> 6] >> (doc & 63)) & 1);
}

/* How many deleted documents contain `term` (0 when none). */
uint32_t dels_term_count(const dels *d, const char *term, size_t len);

/* Entry i of the term table (i < nterms). */
void dels_term_at(const dels *d, uint64_t i, const char **term, size_t *len, uint32_t *count);

/* ---- building a new generation ---- */
typedef struct dels_builder dels_builder;

/* An empty set for a segment of ndocs documents, optionally starting from an
 * open file's content (from may be NULL).  SE_OK or SE_NOMEM. */
int dels_builder_new(dels_builder **out, uint32_t ndocs, const dels *from);
void dels_builder_free(dels_builder *b);

/* Mark doc deleted.  Returns 1 when it was live (then add its length and,
 * through dels_builder_add_term, each distinct term it contains), 0 when it
 * was already deleted. */
int dels_builder_delete(dels_builder *b, uint32_t doc, uint32_t length);

/* Count `term` once for the document last passed to dels_builder_delete
 * (repeated calls for the same term and document count once).  SE_OK,
 * SE_NOMEM, or SE_INVALID for a term of 0 or more than 255 bytes. */
int dels_builder_add_term(dels_builder *b, const char *term, size_t len);

uint32_t dels_builder_ndeleted(const dels_builder *b);
uint64_t dels_builder_deleted_len(const dels_builder *b);
const uint64_t *dels_builder_bits(const dels_builder *b);

/* Write the set as `path` (which must not exist), fsynced; *size and
 * *checksum receive the file's.  SE_OK, SE_IO, SE_NOSPC or SE_NOMEM. */
int dels_write(const dels_builder *b, const char *path, uint64_t *size, uint64_t *checksum,
               se_error *err);

#endif
