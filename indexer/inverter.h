/*
 * inverter.h - the in-memory inverted index of one batch of documents.
 *
 * Feed it each document's analysed tokens (inverter_add_token), close the
 * document (inverter_end_document), and when the batch is full
 * (inverter_memory passes the budget) or the input ends, write every term's
 * postings in sorted term order into a segment writer (inverter_write),
 * which also empties the inverter for the next batch.
 *
 * Memory: a hash table of terms, the term bytes, and per term one chain of
 * growing slices in large pages holding its postings as variable-byte
 * (doc delta, tf, position gaps...) records.  inverter_memory reports all of
 * it.  Not thread-safe; distinct inverters may be used in different threads.
 */
#ifndef SE_INVERTER_H
#define SE_INVERTER_H

#include <stddef.h>
#include <stdint.h>

#include "common/status.h"
#include "indexer/segment_writer.h"

typedef struct inverter inverter;

int inverter_new(inverter **out);
void inverter_free(inverter *inv);

/* Add one token of the current document.  Positions must not decrease.
 * Returns SE_OK or SE_NOMEM (the document should then be abandoned). */
int inverter_add_token(inverter *inv, const char *term, size_t len, uint32_t position);

/* Close the current document as batch-local doc id `doc` (0, 1, 2...). */
int inverter_end_document(inverter *inv, uint32_t doc);

/* Forget the tokens of the current (unfinished) document. */
void inverter_abandon_document(inverter *inv);

size_t inverter_memory(const inverter *inv);
size_t inverter_terms(const inverter *inv);

/* Write all terms into w (whose documents have all been added), then reset. */
int inverter_write(inverter *inv, segment_writer *w, se_error *err);

#endif
