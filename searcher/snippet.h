/*
 * snippet.h - the passage shown under a hit, with the query highlighted.
 *
 * snippet_make analyses (a prefix of) a document's text with the same
 * analyzer as the index, marks the tokens that match a query term, or that
 * are part of an occurrence of a query phrase (so a phrase is highlighted
 * only where it occurs as a phrase), and picks the window of about
 * `window` tokens with the most distinct query matches (then the most
 * matches, then the earliest).  The passage is cut at token boundaries,
 * white space is collapsed to single spaces, "…" marks a cut, and each
 * highlighted run is wrapped in the caller's open/close markers.
 *
 * Ownership: the returned string is malloc'd and owned by the caller.
 * Thread-safety: uses the caller's analyzer; otherwise pure.
 */
#ifndef SE_SNIPPET_H
#define SE_SNIPPET_H

#include <stddef.h>

#include "common/analyzer.h"
#include "common/status.h"
#include "searcher/search.h"

#define SNIPPET_SCAN_BYTES ((size_t)1 << 20) /* only this much of a document is scanned */

typedef struct snippet_options {
    size_t window;    /* tokens in the passage; 0 = whole text (for titles) */
    const char *open; /* highlight markers, e.g. "\033[1m" / "\033[0m" or "**" / "**" */
    const char *close;
} snippet_options;

/* Build the passage for text[0..len).  Returns SE_OK with *out set, or
 * SE_NOMEM. */
int snippet_make(analyzer *an, const search_highlight *hl, const char *text, size_t len,
                 const snippet_options *opt, char **out);

#endif
