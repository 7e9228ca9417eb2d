/*
 * highlight.c - query matches as HTML.
 *
 * Both functions first produce "marked" text, in which the bytes
 * HL_MARK_OPEN and HL_MARK_CLOSE stand for <mark> and </mark>, then escape
 * it.  Those two control bytes must not come from the document itself, so
 * a text holding them is first copied with them blanked (same length, so
 * every offset stays valid).
 */
#include "server/highlight.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "searcher/snippet.h"

char *hl_marked_to_html(const char *s, size_t n)
{
    size_t need = 1;
    for (size_t i = 0; i < n; i++) {
        switch (s[i]) {
        case '&':
            need += sizeof "&amp;" - 1;
            break;
        case '<':
        case '>':
            need += sizeof "&lt;" - 1;
            break;
        case '"':
            need += sizeof "&quot;" - 1;
            break;
        case '\'':
            need += sizeof "&#39;" - 1;
            break;
        case HL_MARK_OPEN:
            need += sizeof "<mark>" - 1;
            break;
        case HL_MARK_CLOSE:
            need += sizeof "</mark>" - 1;
            break;
        default:
            need += 1;
        }
    }
    char *out = malloc(need), *p = out;
    if (!out) return NULL;
    for (size_t i = 0; i < n; i++) {
        const char *rep;
        switch (s[i]) {
        case '&':
            rep = "&amp;";
            break;
        case '<':
            rep = "&lt;";
            break;
        case '>':
            rep = "&gt;";
            break;
        case '"':
            rep = "&quot;";
            break;
        case '\'':
            rep = "&#39;";
            break;
        case HL_MARK_OPEN:
            rep = "<mark>";
            break;
        case HL_MARK_CLOSE:
            rep = "</mark>";
            break;
        default:
            *p++ = s[i];
            continue;
        }
        size_t len = strlen(rep);
        memcpy(p, rep, len);
        p += len;
    }
    *p = 0;
    return out;
}

/* text, or a malloc'd copy of it with the marker bytes blanked (*copy set,
 * to be freed); NULL when out of memory. */
static const char *without_markers(const char *text, size_t len, char **copy)
{
    *copy = NULL;
    if (!memchr(text, HL_MARK_OPEN, len) && !memchr(text, HL_MARK_CLOSE, len)) return text;
    *copy = malloc(len ? len : 1);
    if (!*copy) return NULL;
    for (size_t i = 0; i < len; i++)
        (*copy)[i] = (text[i] == HL_MARK_OPEN || text[i] == HL_MARK_CLOSE) ? ' ' : text[i];
    return *copy;
}

int hl_snippet_html(analyzer *an, const search_highlight *hl, const char *text, size_t len,
                    size_t window, char **out)
{
    *out = NULL;
    size_t scan = len < SNIPPET_SCAN_BYTES ? len : SNIPPET_SCAN_BYTES;
    char *copy;
    const char *src = without_markers(text, scan, &copy);
    if (!src) return SE_NOMEM;
    if (copy) len = scan;
    const char open[2] = {HL_MARK_OPEN, 0}, close[2] = {HL_MARK_CLOSE, 0};
    snippet_options so = {window, open, close};
    char *marked = NULL;
    int rc = snippet_make(an, hl, src, len, &so, &marked);
    free(copy);
    if (rc != SE_OK) return rc;
    *out = hl_marked_to_html(marked, strlen(marked));
    free(marked);
    return *out ? SE_OK : SE_NOMEM;
}

/* A token of the text whose term occurs in the query. */
typedef struct hl_token {
    size_t start, end; /* bytes */
    uint32_t position;
    const char *term;         /* the query's copy of the term */
    unsigned char mark, join; /* join: one <mark> runs on to the next token */
} hl_token;

static const char *query_term(const search_highlight *hl, const char *t, size_t len)
{
    for (size_t i = 0; i < hl->nterms; i++)
        if (strlen(hl->terms[i]) == len && !memcmp(hl->terms[i], t, len)) return hl->terms[i];
    for (size_t p = 0; p < hl->nphrases; p++)
        for (size_t i = 0; i < hl->phrases[p].nterms; i++)
            if (strlen(hl->phrases[p].terms[i]) == len && !memcmp(hl->phrases[p].terms[i], t, len))
                return hl->phrases[p].terms[i];
    return NULL;
}

static int is_single_term(const search_highlight *hl, const char *t)
{
    for (size_t i = 0; i < hl->nterms; i++)
        if (!strcmp(hl->terms[i], t)) return 1;
    return 0;
}

/* Mark every occurrence of phrase ph among toks[0..n) (sorted by
 * position, one token per position). */
static void mark_phrase(hl_token *toks, size_t n, const search_phrase *ph)
{
    if (ph->nterms == 0) return;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(toks[i].term, ph->terms[0]) != 0) continue;
        size_t k = i, last = i;
        int ok = 1;
        for (size_t j = 1; ok && j < ph->nterms; j++) {
            uint32_t want = toks[i].position + ph->offsets[j];
            while (k < n && toks[k].position < want) k++;
            ok = k < n && toks[k].position == want && !strcmp(toks[k].term, ph->terms[j]);
            if (ok) last = k;
        }
        if (!ok) continue;
        for (size_t m = i; m <= last; m++) {
            toks[m].mark = 1;
            if (m < last) toks[m].join = 1;
        }
    }
}

int hl_text_html(analyzer *an, const search_highlight *hl, const char *text, size_t len, char **out)
{
    *out = NULL;
    char *copy;
    const char *src = without_markers(text, len, &copy);
    if (!src) return SE_NOMEM;
    size_t scan = len < SNIPPET_SCAN_BYTES ? len : SNIPPET_SCAN_BYTES;
    hl_token *toks = NULL;
    size_t n = 0, cap = 0;
    analyzer_reset(an, src, scan, 0);
    analyzer_token t;
    while (analyzer_next(an, &t)) {
        const char *term = query_term(hl, t.term, t.term_len);
        if (!term) continue;
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 64;
            hl_token *nt = realloc(toks, nc * sizeof *nt);
            if (!nt) {
                free(toks);
                free(copy);
                return SE_NOMEM;
            }
            toks = nt;
            cap = nc;
        }
        toks[n++] = (hl_token){t.start, t.end, t.position, term, 0, 0};
    }
    for (size_t i = 0; i < n; i++)
        if (is_single_term(hl, toks[i].term)) toks[i].mark = 1;
    for (size_t p = 0; p < hl->nphrases; p++) mark_phrase(toks, n, &hl->phrases[p]);

    /* The marked text: at most two marker bytes per token. */
    char *marked = malloc(len + 2 * n + 1), *p = marked;
    if (!marked) {
        free(toks);
        free(copy);
        return SE_NOMEM;
    }
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        if (!toks[i].mark) continue;
        int opens = i == 0 || !toks[i - 1].join || !toks[i - 1].mark;
        if (opens) {
            memcpy(p, src + at, toks[i].start - at);
            p += toks[i].start - at;
            *p++ = HL_MARK_OPEN;
            at = toks[i].start;
        }
        if (!toks[i].join) {
            memcpy(p, src + at, toks[i].end - at);
            p += toks[i].end - at;
            *p++ = HL_MARK_CLOSE;
            at = toks[i].end;
        }
    }
    memcpy(p, src + at, len - at);
    p += len - at;
    free(toks);
    free(copy);
    *out = hl_marked_to_html(marked, (size_t)(p - marked));
    free(marked);
    return *out ? SE_OK : SE_NOMEM;
}
