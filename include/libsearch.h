/*
 * libsearch.h - the search engine as a C library: ranked full-text search
 * (BM25, phrases, boolean operators) over an on-disk index, and a writer
 * that adds, replaces and deletes documents in it.
 *
 * Link with `pkg-config --cflags --libs libsearch` (add --static for the
 * archive).  Every name starts with srch_ / SRCH_.
 *
 * Errors: every function that can fail returns SRCH_OK (0) or a negative
 * SRCH_ code, and keeps a message in the handle it was called on, read with
 * srch_index_errmsg / srch_search_errmsg / srch_writer_errmsg (valid until
 * the next call on that handle).  The open functions set *out even when they
 * fail (except for SRCH_NOMEM before anything was allocated, when *out is
 * NULL), so that the message can be read; such a failed handle may only be
 * passed to its errmsg and close functions.  Nothing is printed, nothing
 * exits, and there is no global state.
 *
 * Ownership: each handle is created by one function and freed by its close
 * or free function (NULL is accepted).  Strings returned belong to the
 * handle and are valid until the call named with them.
 *
 * Thread-safety: an srch_index is immutable once open and may be shared by
 * any number of threads (only srch_index_reopen, which keeps its message in
 * the handle, is for one thread at a time).  An srch_search (analyzer, scratch buffers, the
 * last result) belongs to one thread at a time: use one per thread, all
 * over the same srch_index if wanted.  An srch_index must outlive the
 * searches created on it.  An srch_writer is used by one thread at a time;
 * it holds the index's writer lock (a flock on DIR/LOCK) from open to
 * close, so there is at most one writer per index across processes: a
 * second srch_writer_open fails with SRCH_LOCKED.  Readers never lock: a
 * commit does not disturb open indexes, which keep seeing the generation
 * they opened until reopened.
 */
#ifndef LIBSEARCH_H
#define LIBSEARCH_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The library is compiled with -fvisibility=hidden and SRCH_BUILDING_LIBRARY
 * defined, so only the functions marked SRCH_API are exported. */
#if defined(__GNUC__) && defined(SRCH_BUILDING_LIBRARY)
#define SRCH_API __attribute__((visibility("default")))
#else
#define SRCH_API
#endif

/* Status codes. */
#define SRCH_OK       0
#define SRCH_NOMEM    (-1)  /* an allocation failed */
#define SRCH_IO       (-2)  /* open/read/write/fsync/rename failed */
#define SRCH_CORRUPT  (-3)  /* an index file failed a checksum or bounds check */
#define SRCH_FORMAT   (-4)  /* not an index, or a format version this library does not read */
#define SRCH_INVALID  (-5)  /* bad argument or bad document */
#define SRCH_SYNTAX   (-6)  /* query syntax error (the message names the column) */
#define SRCH_LIMIT    (-7)  /* a documented limit was exceeded (query size, k, ...) */
#define SRCH_NOTFOUND (-8)  /* no index in that directory */
#define SRCH_LOCKED   (-9)  /* another writer holds the index lock */
#define SRCH_NOSPC    (-10) /* no space left on the device */

/* Short fixed name of a status code ("corrupt index", ...). */
SRCH_API const char *srch_status_name(int code);

/* The library's version, "MAJOR.MINOR.PATCH". */
SRCH_API const char *srch_version(void);

/* ---- reading ---- */

typedef struct srch_index srch_index;

/* Open the current generation of the index in dir (every file's checksum
 * is verified).  SRCH_NOTFOUND when dir holds no index, SRCH_CORRUPT /
 * SRCH_FORMAT naming the bad file, SRCH_IO, SRCH_NOMEM, SRCH_INVALID for a
 * NULL argument. */
SRCH_API int srch_index_open(srch_index **out, const char *dir);

/* Open the generation committed since ix was opened: *out is a new handle,
 * or NULL when ix is still current.  ix stays valid either way (close it
 * once its searches are done).  Errors as srch_index_open; the message is
 * in ix. */
SRCH_API int srch_index_reopen(srch_index *ix, srch_index **out);

SRCH_API uint64_t srch_index_generation(const srch_index *ix);
SRCH_API uint64_t srch_index_documents(const srch_index *ix); /* live documents */
SRCH_API const char *srch_index_errmsg(const srch_index *ix);
SRCH_API void srch_index_close(srch_index *ix);

/* Query options; start from srch_options_init's defaults. */
typedef struct srch_options {
    uint32_t k;                  /* hits wanted, 1..100000 (default 10) */
    double k1, b;                /* BM25 parameters, k1 in [0, 100], b in [0, 1] (1.2, 0.75) */
    int default_and;             /* juxtaposed words are all required (default: any) */
    int literal;                 /* plain words: no operators, quotes or parentheses */
    int exhaustive;              /* score every match, so the match count is exact */
    int snippets;                /* make a snippet per hit (default 1) */
    unsigned snippet_words;      /* words per snippet (default 32) */
    const char *highlight_open;  /* around highlighted words (default "**") */
    const char *highlight_close; /* (default "**") */
} srch_options;

SRCH_API void srch_options_init(srch_options *opt);

/* Query syntax: words (any may match), "a phrase", +required, -excluded,
 * AND, OR, NOT and parentheses; see search(1). */

typedef struct srch_search srch_search;

/* A search over ix; SRCH_NOMEM or SRCH_INVALID (*out NULL then). */
SRCH_API int srch_search_new(srch_search **out, const srch_index *ix);

/* Run a query (opt NULL: defaults).  SRCH_OK even with no hit;
 * SRCH_SYNTAX / SRCH_LIMIT for a bad query, SRCH_INVALID for bad options,
 * SRCH_CORRUPT, SRCH_NOMEM.  Replaces the previous result. */
SRCH_API int srch_search_run(srch_search *s, const char *query, const srch_options *opt);

/* Documents that matched the last query.  *exact (may be NULL) is 0 when
 * the count is a lower bound (pruning skipped documents that could not
 * reach the top k; see srch_options.exhaustive). */
SRCH_API uint64_t srch_search_matches(const srch_search *s, int *exact);
SRCH_API size_t srch_search_hit_count(const srch_search *s);

/* One hit.  The strings are NUL-terminated and valid until the next
 * srch_search_next / srch_search_run / srch_search_free; snippet is NULL
 * when snippets are off. */
typedef struct srch_hit {
    size_t rank; /* 1 for the best hit */
    const char *id;
    double score;
    const char *title;
    const char *snippet; /* best passage, query words between the highlight markers */
} srch_hit;

/* The next hit of the last query, best first: 1 with *hit filled, 0 after
 * the last one, or a negative code (SRCH_CORRUPT, SRCH_NOMEM). */
SRCH_API int srch_search_next(srch_search *s, srch_hit *hit);

SRCH_API const char *srch_search_errmsg(const srch_search *s);
SRCH_API void srch_search_free(srch_search *s);

/* ---- writing ---- */

typedef struct srch_writer srch_writer;

/* Open dir for writing, creating the directory if it does not exist, and
 * take its writer lock (held until srch_writer_close).  SRCH_LOCKED (with
 * the holder's pid in the message), SRCH_INVALID (dir is a directory
 * holding other files), SRCH_IO, SRCH_NOMEM. */
SRCH_API int srch_writer_open(srch_writer **out, const char *dir);

/* Add a document (UTF-8; the title or the text may be empty, not both).
 * When the index already holds a document with this id, it is replaced;
 * when that copy has the same title and text, it is left as it is.  The
 * strings are copied and kept in memory until the commit (commit a large
 * load every so many documents).  Changes take effect at
 * srch_writer_commit; the last add or delete of an id wins.
 * SRCH_INVALID (NULL or empty id, invalid UTF-8, empty document, larger
 * than 64 MiB), SRCH_NOMEM. */
SRCH_API int srch_writer_add(srch_writer *w, const char *id, const char *title, const char *text);

/* Delete the document with this id (nothing happens at the commit if the
 * index does not hold it; srch_commit_info.not_found counts those). */
SRCH_API int srch_writer_delete(srch_writer *w, const char *id);

typedef struct srch_commit_info {
    uint64_t generation; /* current generation after the commit (0: no index yet) */
    uint64_t documents;  /* live documents in it */
    uint64_t added, replaced, unchanged, deleted;
    uint64_t not_found; /* deleted ids the index did not hold */
    int committed;      /* a new generation was written (0: nothing changed) */
} srch_commit_info;

/* Make the pending changes one new generation, atomically: readers see all
 * of them or none, and on failure the index is unchanged (the pending
 * changes are kept, so the commit may be retried).  Segments are merged
 * afterwards as by index(1).  info may be NULL.  SRCH_IO, SRCH_NOSPC,
 * SRCH_CORRUPT / SRCH_FORMAT (the existing index is damaged), SRCH_NOMEM. */
SRCH_API int srch_writer_commit(srch_writer *w, srch_commit_info *info);

/* Changes added since the last commit (documents and deletions). */
SRCH_API size_t srch_writer_pending(const srch_writer *w);

SRCH_API const char *srch_writer_errmsg(const srch_writer *w);

/* Discard uncommitted changes and release the lock. */
SRCH_API void srch_writer_close(srch_writer *w);

#ifdef __cplusplus
}
#endif

#endif
