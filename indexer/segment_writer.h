/*
 * segment_writer.h - writes one immutable segment (five files, see
 * common/segment.h and docs/FORMAT.md).
 *
 * Order of calls: segw_create; every document with segw_add_document (doc
 * ids are assigned 0, 1, 2, ... in call order); then every term in strictly
 * increasing byte order: segw_begin_term, its postings in increasing doc
 * order with segw_add_posting, segw_end_term; finally segw_finish, which
 * writes trailers and footers, fsyncs every file and fills in the segment's
 * manifest entry.  segw_abort removes the files of an unfinished segment.
 *
 * Memory: documents' lengths, title lengths and content hashes (16 bytes
 * each), their
 * front-coded ids, one term's postings
 * (not its positions, which stream to disk) and the dictionary block index.
 *
 * Errors are sticky: after a failure every call returns the first error and
 * the caller should segw_abort.  Not thread-safe.
 */
#ifndef SE_SEGMENT_WRITER_H
#define SE_SEGMENT_WRITER_H

#include <stddef.h>
#include <stdint.h>

#include "common/segment.h"
#include "common/status.h"

typedef struct segment_writer segment_writer;

/* Create the files of segment `number` in dir (they must not exist).
 * store_level is the zlib level for the document store (1..9). */
int segw_create(segment_writer **out, const char *dir, uint32_t number, int store_level,
                se_error *err);

/* Add the next document: its stored fields, length in tokens, the title's
 * length in tokens (at most the length) and content hash.  The id must be
 * 1 ... SEG_MAX_ID_LEN bytes (else SE_INVALID). */
int segw_add_document(segment_writer *w, const seg_document *doc, uint32_t length,
                      uint32_t title_length, uint64_t content_hash, se_error *err);

/* The store is cut into chunks in document order: a document's record
 * (segw_store_record_bytes) joins the open chunk, and the chunk is closed
 * and compressed as soon as it holds SEG_STORE_CHUNK bytes or more.  So the
 * chunks depend only on the sequence of documents, and a run of documents
 * that starts on an empty chunk is cut the same way in every segment. */
size_t segw_store_record_bytes(const seg_document *doc);
/* 1 when the open store chunk is empty (the last document closed a chunk,
 * or there is none). */
int segw_store_chunk_empty(const segment_writer *w);

/* Copying a closed chunk of another segment without recompressing it: add
 * its documents' table entries with segw_add_document_entry (no store
 * record), then the chunk itself with segw_add_store_chunk, whose `ndocs`
 * must be the number of entries added since the last chunk.  Only valid when
 * the open chunk is empty, and only meaningful when the chunk was written at
 * this writer's store level (the caller's promise: the bytes are taken as
 * they are). */
int segw_add_document_entry(segment_writer *w, const char *id, size_t id_len, uint32_t length,
                            uint32_t title_length, uint64_t content_hash, se_error *err);
int segw_add_store_chunk(segment_writer *w, uint32_t ndocs, uint32_t raw_len, const uint8_t *zdata,
                         uint32_t zlen, se_error *err);

int segw_begin_term(segment_writer *w, const char *term, size_t len, se_error *err);
/* positions: tf strictly increasing token positions. */
int segw_add_posting(segment_writer *w, uint32_t doc, uint32_t tf, const uint32_t *positions,
                     se_error *err);
int segw_end_term(segment_writer *w, se_error *err);

/* Postings parts: a range of terms written by another thread.  A part
 * knows the segment's documents only by their number and lengths (the
 * caller's array, read while the part is used, so the part and the
 * segment's writer may be used by two threads at once).  It takes terms and
 * postings as a writer does (segw_begin_term, segw_add_posting,
 * segw_end_term) but keeps its .doc and .pos bytes and its dictionary
 * entries in memory.  Once w holds those ndocs documents and has ended its
 * last term, which must sort before the part's terms, segw_part_append
 * writes the part's bytes after w's and its entries into w's dictionary,
 * exactly as if w had written those terms itself, and frees the part (in
 * every case).  segw_abort frees a part that is not appended. */
int segw_part_create(segment_writer **out, uint32_t number, const uint32_t *lengths, uint32_t ndocs,
                     se_error *err);
int segw_part_append(segment_writer *w, segment_writer *part, se_error *err);

/* Complete the segment; on success *meta describes it (for the manifest).
 * Frees the writer in every case (files removed on failure). */
int segw_finish(segment_writer *w, seg_meta *meta, se_error *err);

void segw_abort(segment_writer *w);

uint32_t segw_ndocs(const segment_writer *w);

#endif
