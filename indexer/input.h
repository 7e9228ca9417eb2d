/*
 * input.h - where documents come from: files, directories, JSONL, stdin.
 *
 * Each path given is one of:
 *   "-"          JSONL read from standard input;
 *   a directory  walked recursively in byte order of names; files ending in
 *                .txt or .md are text documents, .jsonl / .jsonl.gz /
 *                .jsonl.zst are JSONL; names starting with '.' are skipped,
 *                symbolic links to directories are not followed;
 *   a file       JSONL if its name ends in .jsonl, .jsonl.gz or .jsonl.zst,
 *                otherwise a text document.
 * Compression is recognised by the file's magic bytes (zstd, gzip), not
 * only by its name.
 *
 * A text document's id is its path relative to the directory given (or the
 * path as given, for a file named directly); its title is its first line
 * (trimmed) and its text the rest.  When the first line is longer than
 * INPUT_MAX_TITLE_BYTES it is no headline: the title is its first
 * INPUT_MAX_TITLE_BYTES bytes cut at a character boundary, and the text is
 * the whole file.  A leading UTF-8 BOM is dropped.
 *
 * A JSONL line is an object with "_id" or "id" (string or integer), "title"
 * (string, optional) and "text" (string, optional); other members are
 * ignored.  Blank lines are skipped silently.
 *
 * Every document handed out is valid UTF-8: invalid sequences are replaced
 * by U+FFFD and reported as a warning (also in a text file's id, which comes
 * from its file name).  Documents that cannot be used are
 * skipped with a warning naming the file (and line) and the reason:
 *   binary (a NUL byte, or mostly invalid UTF-8), empty (no title and no
 *   text), larger than opts.max_doc_bytes, malformed JSON, not an object,
 *   missing id, an id longer than SEG_MAX_ID_LEN bytes.
 * Fatal errors end the run (input_next returns < 0): a path that does not
 * exist or cannot be read, a read error, a corrupt compressed stream.
 *
 * Ownership: a document's strings belong to the reader and are valid until
 * the next input_next or input_close.  Not thread-safe; one reader per thread.
 */
#ifndef SE_INPUT_H
#define SE_INPUT_H

#include <stddef.h>
#include <stdint.h>

#include "common/status.h"

#define INPUT_MAX_TITLE_BYTES       512
#define INPUT_DEFAULT_MAX_DOC_BYTES ((size_t)64 << 20)

typedef struct input_doc {
    const char *id;
    size_t id_len;
    const char *title;
    size_t title_len;
    const char *text;
    size_t text_len;
    const char *source; /* file the document came from ("-" for stdin) */
    uint64_t line;      /* JSONL line number (1-based); 0 for text files */
} input_doc;

typedef struct input_options {
    size_t max_doc_bytes; /* 0 = INPUT_DEFAULT_MAX_DOC_BYTES */
    /* Called for each skipped document or repaired input; may be NULL.
     * `line` is 0 when not applicable. */
    void (*warn)(void *ctx, const char *source, uint64_t line, const char *message);
    void *warn_ctx;
} input_options;

typedef struct input_stats {
    uint64_t documents;     /* handed out */
    uint64_t skipped;       /* skipped with a warning */
    uint64_t repaired_utf8; /* documents in which invalid UTF-8 was replaced */
    uint64_t bytes_read;    /* raw (decompressed) bytes consumed */
} input_stats;

typedef struct input_reader input_reader;

/* Prepare to read the given paths in order.  Checks that each exists and is
 * readable up front (SE_IO / SE_NOTFOUND with the path in *err), so that a
 * typo fails before any work is done.  Returns SE_OK or an error. */
int input_open(input_reader **out, const char *const *paths, size_t npaths,
               const input_options *opts, se_error *err);

/* Next document: 1 and *doc filled, 0 at the end, or a negative SE_ code
 * (message in *err) on a fatal error. */
int input_next(input_reader *r, input_doc *doc, se_error *err);

input_stats input_get_stats(const input_reader *r);

void input_close(input_reader *r);

#endif
