/*
 * manifest.h - the commit point of an index: which segments make it up.
 *
 * <index>/MANIFEST is one framed file (fileio.h, magic "SEIXMANI"); the
 * header word at offset 12 (reserved in other files) holds the analysis
 * settings the index was built with (analyzer.h; 0 = the defaults):
 *   u64 generation        increases by one with every commit
 *   u32 next segment      number the next new segment will take
 *   u32 segment count
 *   per segment (144 bytes): u32 number, u32 documents, u64 total length,
 *     u64 terms, then for .tdx .doc .pos .len .sto: u64 size, u64 checksum;
 *     then the deletions file: u64 generation (0: none), u32 deleted
 *     documents, u32 reserved (0), u64 size, u64 checksum; then u64 total
 *     title length (the title tokens among the total length, <= it)
 * A commit writes a new MANIFEST under a temporary name, fsyncs it and
 * renames it over the old one (indexer/commit.c), so a reader sees either
 * the old generation or the new one, never a mixture.
 *
 * Ownership: manifest_read fills a manifest whose segment array the caller
 * releases with manifest_free.  Pure functions apart from the file read.
 */
#ifndef SE_MANIFEST_H
#define SE_MANIFEST_H

#include <stddef.h>
#include <stdint.h>

#include "common/segment.h"
#include "common/status.h"

#define MANIFEST_NAME         "MANIFEST"
#define MANIFEST_MAGIC        "SEIXMANI"
#define MANIFEST_MAX_SEGMENTS 65536

typedef struct manifest {
    uint64_t generation;
    uint32_t next_segment;
    uint32_t nsegments;
    uint32_t analysis; /* analyzer settings (ANALYZER_*) of every segment */
    seg_meta *segments;
} manifest;

/* Read <dir>/MANIFEST.  SE_NOTFOUND when the directory has none, SE_CORRUPT
 * or SE_FORMAT when it fails validation (SE_FORMAT also for analysis
 * settings this program does not know), SE_IO, SE_NOMEM. */
int manifest_read(const char *dir, manifest *m, se_error *err);

/* Serialise m into a malloc'd framed buffer. */
int manifest_encode(const manifest *m, uint8_t **buf, size_t *len, se_error *err);

/* Parse a framed buffer (validates everything). */
int manifest_decode(const uint8_t *buf, size_t len, const char *what, manifest *m, se_error *err);

void manifest_free(manifest *m);

#endif
