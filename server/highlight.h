/*
 * highlight.h - query matches as HTML: text escaped (& < > " '), each
 * match wrapped in <mark>...</mark>.
 *
 * hl_snippet_html is searcher/snippet.h's passage (white space collapsed,
 * "…" at cuts) rendered as HTML.  hl_text_html keeps the text as it is
 * (line breaks included) for an article view: it marks every token that
 * matches a query term, and a phrase's tokens only where they occur as the
 * phrase (one <mark> over the whole occurrence).  Only the first
 * SNIPPET_SCAN_BYTES are searched for matches; text after that is escaped
 * unmarked.
 *
 * Ownership: results are malloc'd, owned by the caller.  Thread-safety:
 * uses the caller's analyzer, otherwise pure.  Errors: SE_OK or SE_NOMEM.
 */
#ifndef SE_SERVER_HIGHLIGHT_H
#define SE_SERVER_HIGHLIGHT_H

#include <stddef.h>

#include "common/analyzer.h"
#include "searcher/search.h"

/* The passage of about `window` tokens (0: the whole scanned text). */
int hl_snippet_html(analyzer *an, const search_highlight *hl, const char *text, size_t len,
                    size_t window, char **out);

int hl_text_html(analyzer *an, const search_highlight *hl, const char *text, size_t len,
                 char **out);

/* Text in which HL_MARK_OPEN / HL_MARK_CLOSE bytes delimit matches -> HTML.
 * NULL when out of memory. */
#define HL_MARK_OPEN  '\x01'
#define HL_MARK_CLOSE '\x02'
char *hl_marked_to_html(const char *s, size_t n);

#endif
