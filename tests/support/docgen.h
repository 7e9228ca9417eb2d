/*
 * docgen.h - deterministic synthetic documents for tests that update an
 * index many times, a model of which documents an index should hold, and
 * reading the live documents back from an index in-process.
 *
 * Document n exists in versions 1, 2, ...: its id is "doc<n, 6 digits>",
 * its title "Document <n> version <v> <word> <word>", and its text the word
 * DOCGEN_COMMON_WORD followed by 40 to 160 words drawn from a synthetic
 * vocabulary of letters-only words with a skewed distribution (a few words
 * occur in most documents, so some postings lists are long enough for skip
 * tables; most are rare).  Everything is a function of (n, v), so a test
 * only has to remember the version of every id (a docset) to know the
 * exact title and text each live document must have.
 *
 * Functions return 0 on success and -1 on failure; none prints or aborts.
 * Not thread-safe (the vocabulary is built on first use).
 */
#ifndef TESTS_DOCGEN_H
#define TESTS_DOCGEN_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* In every document's text, and in no title: a query for it matches every
 * live document. */
#define DOCGEN_COMMON_WORD "quokka"

typedef struct docgen_doc {
    char id[24];
    char title[160];
    char *text; /* malloc'd */
} docgen_doc;

/* Document n, version v (v >= 1). */
int docgen_make(docgen_doc *d, uint32_t n, uint32_t v);
void docgen_doc_free(docgen_doc *d);

/* One JSONL line {"id": ..., "title": ..., "text": ...} for document n,
 * version v. */
int docgen_write_jsonl(FILE *f, uint32_t n, uint32_t v);

/* "doc000123" -> 123; -1 for anything else. */
int docgen_parse_id(const char *id, size_t len, uint32_t *n);

/* Which version of each id 0 .. nids-1 an index holds (0: none). */
typedef struct docset {
    uint32_t nids;
    uint32_t *version;
} docset;

int docset_init(docset *s, uint32_t nids); /* all absent */
int docset_copy(docset *dst, const docset *src);
void docset_free(docset *s);
uint32_t docset_count(const docset *s); /* live documents */
int docset_equal(const docset *a, const docset *b);
/* The first few differences between a and b, as text for a message. */
void docset_diff(const docset *a, const docset *b, char *buf, size_t cap);

/* Open the index in dir (common/index.h, as a searcher would) and record
 * every live document in *s, which must have been initialised (its nids
 * bounds the ids accepted).  Each live document must be exactly one
 * docgen document: its id parsed, its version read from its title, and
 * title and text equal to docgen_make's; an id may be live only once.
 * *generation (may be NULL) receives the manifest generation.  Returns 0,
 * or -1 with the reason in why. */
int docgen_read_index(const char *dir, docset *s, uint64_t *generation, char *why, size_t cap);

#endif
