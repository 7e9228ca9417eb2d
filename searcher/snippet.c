/*
 * snippet.c - choosing and rendering the highlighted passage (snippet.h).
 *
 * Tokens of the scanned text are collected with their byte ranges and
 * positions; each gets the index of the query term it equals (or -1).
 * Single terms mark their tokens directly; a phrase marks the tokens of each
 * place where all its terms stand at the right relative positions, and the
 * marked tokens of one occurrence are joined into one highlighted run.
 */
#include "searcher/snippet.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct tok {
    size_t start, end;
    uint32_t position;
    int term; /* index into the merged term list, or -1 */
    int mark; /* highlighted */
    int join; /* highlighted together with the next token (same phrase occurrence) */
    int leaf; /* which query leaf (term or phrase) the mark belongs to, for scoring */
} tok;

typedef struct sbuf {
    char *p;
    size_t len, cap;
    int oom;
} sbuf;

static void sb_put(sbuf *b, const char *s, size_t n)
{
    if (b->oom) return;
    if (b->cap - b->len < n + 1) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap - b->len < n + 1) cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
}

/* Append text with runs of white space (incl. newlines) folded to one space. */
static void sb_text(sbuf *b, const char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        size_t j = i;
        while (j < n && s[j] != ' ' && s[j] != '\n' && s[j] != '\r' && s[j] != '\t') j++;
        sb_put(b, s + i, j - i);
        if (j < n) {
            while (j < n && (s[j] == ' ' || s[j] == '\n' || s[j] == '\r' || s[j] == '\t')) j++;
            if (b->len == 0 || b->p[b->len - 1] != ' ') sb_put(b, " ", 1);
        }
        i = j;
    }
}

/* Index of `term` in hl's combined list: single terms first, then phrase
 * terms; -1 if absent. */
static int term_index(const search_highlight *hl, const char *term, size_t len)
{
    int idx = 0;
    for (size_t i = 0; i < hl->nterms; i++, idx++)
        if (strlen(hl->terms[i]) == len && memcmp(hl->terms[i], term, len) == 0) return idx;
    for (size_t p = 0; p < hl->nphrases; p++)
        for (size_t i = 0; i < hl->phrases[p].nterms; i++, idx++)
            if (strlen(hl->phrases[p].terms[i]) == len &&
                memcmp(hl->phrases[p].terms[i], term, len) == 0)
                return idx;
    return -1;
}

int snippet_make(analyzer *an, const search_highlight *hl, const char *text, size_t len,
                 const snippet_options *opt, char **out)
{
    *out = NULL;
    size_t scan = len < SNIPPET_SCAN_BYTES ? len : SNIPPET_SCAN_BYTES;
    tok *toks = NULL;
    size_t n = 0, cap = 0;
    analyzer_reset(an, text, scan, 0);
    analyzer_token t;
    int rc = SE_OK;
    while (analyzer_next(an, &t)) {
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 256;
            tok *nt = realloc(toks, nc * sizeof *nt);
            if (!nt) {
                rc = SE_NOMEM;
                break;
            }
            toks = nt;
            cap = nc;
        }
        tok *k = &toks[n++];
        k->start = t.start;
        k->end = t.end;
        k->position = t.position;
        k->term = term_index(hl, t.term, t.term_len);
        k->mark = k->join = 0;
        k->leaf = -1;
    }
    if (rc != SE_OK) {
        free(toks);
        return rc;
    }
    /* Single terms. */
    int leaf = 0;
    for (size_t i = 0; i < n; i++)
        if (toks[i].term >= 0 && (size_t)toks[i].term < hl->nterms) {
            toks[i].mark = 1;
            toks[i].leaf = toks[i].term;
        }
    leaf = (int)hl->nterms;
    /* Phrases: for each token, look for the phrase's terms at their
     * offsets (token positions increase along toks).  Terms are compared by
     * their index in the combined list, which term_index gives as the first
     * equal entry for query and document alike. */
    for (size_t p = 0; p < hl->nphrases; p++, leaf++) {
        const search_phrase *ph = &hl->phrases[p];
        /* A phrase longer than 64 terms is highlighted by its first 64. */
        int want_idx[64] = {0};
        size_t nt = ph->nterms < 64 ? ph->nterms : 64;
        if (nt == 0) continue;
        for (size_t j = 0; j < nt; j++)
            want_idx[j] = term_index(hl, ph->terms[j], strlen(ph->terms[j]));
        for (size_t i = 0; i < n; i++) {
            if (toks[i].term != want_idx[0]) continue;
            int ok = 1;
            size_t last = i;
            for (size_t j = 1; j < nt && ok; j++) {
                uint64_t want = (uint64_t)toks[i].position + ph->offsets[j];
                size_t q = last;
                while (q < n && toks[q].position < want) q++;
                ok = q < n && toks[q].position == want && toks[q].term == want_idx[j];
                last = q;
            }
            if (!ok) continue;
            for (size_t q = i; q <= last; q++) {
                toks[q].mark = 1;
                toks[q].leaf = leaf;
                toks[q].join = q < last;
            }
        }
    }

    /* Window: most distinct leaves, then most marks, then earliest. */
    size_t w = opt->window ? opt->window : n;
    if (w > n) w = n;
    size_t best = 0;
    int nleaves = leaf > 0 ? leaf : 1;
    int *seen = calloc((size_t)nleaves, sizeof *seen);
    if (!seen) {
        free(toks);
        return SE_NOMEM;
    }
    if (opt->window && n > w) {
        long best_score = -1;
        int distinct = 0;
        long marks = 0;
        for (size_t i = 0; i < n; i++) {
            if (toks[i].mark) {
                marks++;
                if (seen[toks[i].leaf]++ == 0) distinct++;
            }
            if (i >= w) {
                tok *o = &toks[i - w];
                if (o->mark) {
                    marks--;
                    if (--seen[o->leaf] == 0) distinct--;
                }
            }
            if (i + 1 >= w) {
                /* distinct leaves first, then marks (at most w) */
                long score = (long)distinct * (long)(w + 1) + marks;
                if (score > best_score) {
                    best_score = score;
                    best = i + 1 - w;
                }
            }
        }
        /* Start a little before the first match so it has context. */
        size_t first = best;
        while (first < best + w && !toks[first].mark) first++;
        if (first < best + w && first > best + w / 4) {
            size_t shift = first - (best + w / 4);
            best = best + shift + w <= n ? best + shift : n - w;
        }
    }
    free(seen);

    sbuf b = {0};
    sb_put(&b, "", 0);
    if (n == 0) {
        /* No tokens: show the start of the text. */
        size_t m = len < 200 ? len : 200;
        while (m < len && m > 0 && ((unsigned char)text[m] & 0xC0) == 0x80) m--;
        sb_text(&b, text, m);
        if (m < len) sb_put(&b, "…", strlen("…"));
    } else {
        size_t from = best, to = best + w; /* tokens [from, to) */
        size_t start = from == 0 ? 0 : toks[from].start;
        size_t end = to >= n && scan == len ? len : toks[to - 1].end;
        if (start > 0) sb_put(&b, "…", strlen("…"));
        size_t at = start;
        for (size_t i = from; i < to; i++) {
            if (!toks[i].mark) continue;
            sb_text(&b, text + at, toks[i].start - at);
            size_t j = i;
            while (toks[j].join && j + 1 < to) j++;
            sb_put(&b, opt->open, strlen(opt->open));
            sb_text(&b, text + toks[i].start, toks[j].end - toks[i].start);
            sb_put(&b, opt->close, strlen(opt->close));
            at = toks[j].end;
            i = j;
        }
        sb_text(&b, text + at, end - at);
        if (end < len) sb_put(&b, "…", strlen("…"));
    }
    free(toks);
    if (b.oom) {
        free(b.p);
        return SE_NOMEM;
    }
    /* Trim the spaces that collapsing may leave at either end. */
    size_t s0 = 0;
    while (s0 < b.len && b.p[s0] == ' ') s0++;
    while (b.len > s0 && b.p[b.len - 1] == ' ') b.len--;
    memmove(b.p, b.p + s0, b.len - s0);
    b.p[b.len - s0] = 0;
    *out = b.p;
    return SE_OK;
}
