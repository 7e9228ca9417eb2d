/*
 * analyzer.h - the one analysis chain used at index time and at query time.
 *
 * Text (UTF-8, possibly invalid) -> tokens -> folded -> Snowball English stems.
 *
 *  - Decoding: invalid or truncated UTF-8 sequences are treated as a single
 *    separator byte each; they never crash and never swallow the bytes of a
 *    neighbouring valid character.
 *  - Tokens are maximal runs of letters and digits (Unicode categories L*, N*,
 *    with combining marks M* allowed inside a token).  An apostrophe
 *    (U+0027, U+2019, U+2018, U+02BC, U+FF07) between two letters joins them
 *    and is normalised to U+0027, so Parker's and Parker’s both stem to
 *    "parker".  Han, Hiragana, Katakana and Hangul characters are one token
 *    each.  Everything else (punctuation, curly quotes, symbols, spaces)
 *    separates tokens.
 *  - Folding: Unicode case folding (ß -> ss), compatibility decomposition and
 *    removal of combining marks (É -> e, Ä -> a, ﬁ -> fi), so the index holds
 *    lower-case, accent-free terms.
 *  - Stemming: Snowball "english" through libstemmer.
 *  - Stop words are kept (phrase queries need them).
 *
 * Those are the defaults (ANALYZER_DEFAULT = 0).  An index records the
 * settings it was built with (MANIFEST header), as a u32 of these bits:
 *  - ANALYZER_STOPWORDS: the stop words listed in analyzer.c are dropped
 *    after folding; each still takes its position, so a phrase keeps its
 *    gaps ("university of london" matches "university in london").
 *  - ANALYZER_PORTER: libstemmer's "porter" (Porter's original algorithm)
 *    instead of "english" (Porter2).
 * Settings have names for the command line: "english" (0), "english-stop",
 * "porter", "porter-stop".
 *  - Tokens longer than ANALYZER_MAX_TERM_BYTES after folding are skipped and
 *    counted, but still take a position, so a phrase never matches across them.
 *
 * Positions count tokens from the `first_position` given to analyzer_reset.
 * A position is below ANALYZER_MAX_POSITIONS: when the next token (indexed
 * or over-long) would reach it, the rest of the text is not analysed and
 * stats.cut_texts counts the text as cut.  This bounds the memory one
 * document takes while it is inverted (12 bytes per token, so 192 MiB);
 * ordinary text of the default 64 MiB document size limit (four bytes or
 * more per token) never reaches it.
 *
 * Thread-safety: an analyzer is not thread-safe (libstemmer keeps state);
 * use one per thread.  Ownership: token text is owned by the analyzer and
 * valid until the next analyzer_next / analyzer_reset / analyzer_free.
 */
#ifndef SE_ANALYZER_H
#define SE_ANALYZER_H

#include <stddef.h>
#include <stdint.h>

#define ANALYZER_MAX_TERM_BYTES 64
#define ANALYZER_MAX_POSITIONS  (UINT32_C(1) << 24) /* 16,777,216 */

typedef struct analyzer analyzer;

typedef struct analyzer_token {
    const char *term;  /* folded, stemmed, NUL-terminated; owned by the analyzer */
    size_t term_len;   /* bytes, 1..ANALYZER_MAX_TERM_BYTES */
    uint32_t position; /* token index */
    size_t start, end; /* byte range [start, end) of the original token in the input */
} analyzer_token;

typedef struct analyzer_stats {
    uint64_t tokens;       /* tokens returned */
    uint64_t skipped_long; /* tokens skipped for exceeding ANALYZER_MAX_TERM_BYTES */
    uint64_t invalid_utf8; /* invalid byte sequences seen */
    uint64_t cut_texts;    /* texts cut at ANALYZER_MAX_POSITIONS */
} analyzer_stats;

#define ANALYZER_DEFAULT   0u
#define ANALYZER_STOPWORDS 0x1u
#define ANALYZER_PORTER    0x2u
#define ANALYZER_KNOWN     (ANALYZER_STOPWORDS | ANALYZER_PORTER)

/* Create an analyzer with the default settings.  Returns SE_OK, SE_NOMEM,
 * or SE_INVALID if libstemmer has no English stemmer. */
int analyzer_new(analyzer **out);

/* Create one with the given settings: SE_INVALID also for unknown bits. */
int analyzer_new_with(analyzer **out, uint32_t settings);

/* Settings by name ("english", "english-stop", "porter", "porter-stop"):
 * SE_OK or SE_INVALID; and the name of settings (NULL if unknown). */
int analyzer_settings_parse(const char *name, uint32_t *settings);
const char *analyzer_settings_name(uint32_t settings);
void analyzer_free(analyzer *a);

/* Start analysing text[0..len).  The text is not copied: it must stay valid
 * while tokens are read. */
void analyzer_reset(analyzer *a, const char *text, size_t len, uint32_t first_position);

/* Next token: returns 1 and fills *tok, or 0 at the end of the text. */
int analyzer_next(analyzer *a, analyzer_token *tok);

/* Position that the next token would get (after the end: one past the last). */
uint32_t analyzer_position(const analyzer *a);

/* Stem one already-folded word (for tests and tools); the result is owned by
 * the analyzer like token text.  Returns NULL on allocation failure. */
const char *analyzer_stem(analyzer *a, const char *word, size_t len, size_t *out_len);

/* Running counters since analyzer_new.  skipped_long and invalid_utf8 are
 * counted as the text is scanned, which runs a few tokens ahead of the
 * tokens returned; once analyzer_next has returned 0 they are exact. */
analyzer_stats analyzer_get_stats(const analyzer *a);

#endif
