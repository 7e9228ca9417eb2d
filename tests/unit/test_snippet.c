/*
 * test_snippet.c - unit tests for searcher/snippet.c (snippet_make).
 *
 * Highlights are built the way the searcher builds them: single terms and
 * phrases of analysed (stemmed) terms; the words of a test are run through
 * the same analyzer to get them.  Markers are "[" and "]" unless a test is
 * about markers, so most expectations are exact strings.  Covered: the
 * window with the most distinct query matches (then the most matches, then
 * the earliest), the context kept before the first match, phrases marked as
 * one run and only where they occur as phrases, ellipses, white space
 * collapsing, texts with no match or no token at all, empty text, UTF-8
 * never cut inside a character, and texts longer than SNIPPET_SCAN_BYTES.
 */
#include <criterion/criterion.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/analyzer.h"
#include "common/status.h"
#include "searcher/search.h"
#include "searcher/snippet.h"

/* ------------------------------------------------------------- fixture */

static analyzer *g_an;

static void setup(void)
{
    cr_assert_eq(analyzer_new(&g_an), SE_OK);
}

static void teardown(void)
{
    analyzer_free(g_an);
}

TestSuite(snippet, .init = setup, .fini = teardown);

/* A query: up to 8 terms and 4 phrases of up to 8 words each. */
typedef struct query {
    char *terms[8];
    char *pterms[4][8];
    uint32_t offsets[4][8];
    search_phrase phrases[4];
    search_highlight hl;
} query;

/* The analysed form of one word. */
static char *term_of(const char *word)
{
    analyzer_reset(g_an, word, strlen(word), 0);
    analyzer_token t;
    cr_assert(analyzer_next(g_an, &t), "\"%s\" gives no term", word);
    return strndup(t.term, t.term_len);
}

/* Words separated by spaces; "|" separates the phrases, e.g.
 * make_query(&q, "fox jump", "new york|big apple"). */
static void make_query(query *q, const char *terms, const char *phrases)
{
    memset(q, 0, sizeof *q);
    char buf[512];
    snprintf(buf, sizeof buf, "%s", terms ? terms : "");
    size_t nt = 0;
    for (char *save, *w = strtok_r(buf, " ", &save); w; w = strtok_r(NULL, " ", &save))
        q->terms[nt++] = term_of(w);
    q->hl.nterms = nt;
    q->hl.terms = (const char **)q->terms;
    snprintf(buf, sizeof buf, "%s", phrases ? phrases : "");
    size_t np = 0;
    for (char *save, *p = strtok_r(buf, "|", &save); p; p = strtok_r(NULL, "|", &save)) {
        size_t n = 0;
        for (char *s2, *w = strtok_r(p, " ", &s2); w; w = strtok_r(NULL, " ", &s2)) {
            q->pterms[np][n] = term_of(w);
            q->offsets[np][n] = (uint32_t)n;
            n++;
        }
        q->phrases[np].nterms = n;
        q->phrases[np].terms = (const char **)q->pterms[np];
        q->phrases[np].offsets = q->offsets[np];
        np++;
    }
    q->hl.nphrases = np;
    q->hl.phrases = q->phrases;
}

static void free_query(query *q)
{
    for (size_t i = 0; i < 8; i++) free(q->terms[i]);
    for (size_t p = 0; p < 4; p++)
        for (size_t i = 0; i < 8; i++) free(q->pterms[p][i]);
}

static char *snip_len(const query *q, const char *text, size_t len, size_t window, const char *open,
                      const char *close)
{
    snippet_options opt = {.window = window, .open = open, .close = close};
    char *out = NULL;
    cr_assert_eq(snippet_make(g_an, &q->hl, text, len, &opt, &out), SE_OK);
    cr_assert_not_null(out);
    return out;
}

static char *snip(const query *q, const char *text, size_t window)
{
    return snip_len(q, text, strlen(text), window, "[", "]");
}

/* snippet(terms, phrases, text, window) must equal want. */
static void check(const char *terms, const char *phrases, const char *text, size_t window,
                  const char *want)
{
    query q;
    make_query(&q, terms, phrases);
    char *got = snip(&q, text, window);
    cr_assert_str_eq(got, want,
                     "terms \"%s\" phrases \"%s\" window %zu:\n got  \"%s\"\n want \"%s\"",
                     terms ? terms : "", phrases ? phrases : "", window, got, want);
    free(got);
    free_query(&q);
}

static int valid_utf8(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        unsigned char c = p[i];
        size_t k;
        if (c < 0x80)
            k = 0;
        else if (c >= 0xc2 && c < 0xe0)
            k = 1;
        else if (c >= 0xe0 && c < 0xf0)
            k = 2;
        else if (c >= 0xf0 && c < 0xf5)
            k = 3;
        else
            return 0;
        if (k > n - i - 1) return 0;
        for (size_t j = 1; j <= k; j++)
            if ((p[i + j] & 0xc0) != 0x80) return 0;
        i += k + 1;
    }
    return 1;
}

/* "w0 w1 ... w(n-1)" with word `at` replaced by `word` (at < 0: none). */
static char *numbered(int n, int at, const char *word)
{
    size_t cap = (size_t)n * 8 + 64;
    char *s = malloc(cap);
    size_t len = 0;
    for (int i = 0; i < n; i++)
        len += (size_t)(i == at ? snprintf(s + len, cap - len, "%s%s", i ? " " : "", word)
                                : snprintf(s + len, cap - len, "%sw%d", i ? " " : "", i));
    return s;
}

/* ------------------------------------------------------------- basics */

Test(snippet, whole_text)
{
    check("fox", NULL, "The quick brown fox jumps over the lazy dog", 0,
          "The quick brown [fox] jumps over the lazy dog");
    /* Terms are matched after analysis: case, stemming, accents. */
    check("jumping", NULL, "The fox JUMPS, jumped and jumps.", 0,
          "The fox [JUMPS], [jumped] and [jumps].");
    check("cafe", NULL, "Un Café au café", 0, "Un [Café] au [café]");
    /* Two terms side by side are two runs. */
    check("quick brown", NULL, "The quick brown fox", 0, "The [quick] [brown] fox");
    /* Punctuation stays, outside the markers. */
    check("dog", NULL, "(dog), \"dog\"!", 0, "([dog]), \"[dog]\"!");
    /* A window larger than the text shows it all, without ellipses. */
    check("fox", NULL, "a fox b", 50, "a [fox] b");
    check("fox", NULL, "a fox b", 3, "a [fox] b");
}

Test(snippet, markers)
{
    query q;
    make_query(&q, "fox", "lazy dog");
    const char *text = "the fox and the lazy dog";
    char *s = snip_len(&q, text, strlen(text), 0, "\033[1m", "\033[0m");
    cr_assert_str_eq(s, "the \033[1mfox\033[0m and the \033[1mlazy dog\033[0m");
    free(s);
    s = snip_len(&q, text, strlen(text), 0, "**", "**");
    cr_assert_str_eq(s, "the **fox** and the **lazy dog**");
    free(s);
    s = snip_len(&q, text, strlen(text), 0, "", "");
    cr_assert_str_eq(s, text);
    free(s);
    s = snip_len(&q, text, strlen(text), 0, "<b class=\"hit\">", "</b>");
    cr_assert_str_eq(s, "the <b class=\"hit\">fox</b> and the <b class=\"hit\">lazy dog</b>");
    free(s);
    free_query(&q);
}

Test(snippet, whitespace_collapsed)
{
    check("fox", NULL, "  the\tquick \n\n brown\r\n  fox   ", 0, "the quick brown [fox]");
    check(NULL, NULL, "a \t\n b", 0, "a b");
    /* ...inside a highlighted phrase too. */
    check(NULL, "new york", "in New \n\t York  now", 0, "in [New York] now");
    check("x", NULL, "\n\n\n", 0, "");
}

Test(snippet, empty_and_tokenless_text)
{
    check("fox", NULL, "", 0, "");
    check("fox", NULL, "", 10, "");
    /* No token at all: the start of the text is shown. */
    check("fox", NULL, "!!! ... ???", 5, "!!! ... ???");
    check("fox", NULL, "  --  --  ", 5, "-- --");
    /* ...at most 200 bytes of it. */
    char text[600];
    memset(text, '-', 500);
    text[500] = 0;
    query q;
    make_query(&q, "fox", NULL);
    char *s = snip(&q, text, 5);
    char want[300];
    memset(want, '-', 200);
    strcpy(want + 200, "…");
    cr_assert_str_eq(s, want);
    free(s);
    free_query(&q);
}

/* ------------------------------------------------------------- windows */

Test(snippet, no_match_shows_start)
{
    char *text = numbered(30, -1, NULL);
    check("fox", NULL, text, 5, "w0 w1 w2 w3 w4…");
    check(NULL, NULL, text, 3, "w0 w1 w2…");
    free(text);
}

Test(snippet, ellipses)
{
    /* The match at the start: no leading ellipsis. */
    char *text = numbered(30, 0, "fox");
    check("fox", NULL, text, 4, "[fox] w1 w2 w3…");
    free(text);
    /* At the end: no trailing ellipsis. */
    text = numbered(30, 29, "fox");
    check("fox", NULL, text, 4, "…w26 w27 w28 [fox]");
    free(text);
    /* In the middle: both, and the window starts window/4 tokens before
     * the match (8 / 4 = 2), so the match has some context. */
    text = numbered(30, 15, "fox");
    check("fox", NULL, text, 8, "…w13 w14 [fox] w16 w17 w18 w19 w20…");
    free(text);
    /* Close to the end: the window cannot move past the last token. */
    text = numbered(30, 27, "fox");
    check("fox", NULL, text, 8, "…w22 w23 w24 w25 w26 [fox] w28 w29");
    free(text);
    /* Punctuation after the last token of a cut window is cut too. */
    check("fox", NULL, "fox one, two. three!", 2, "[fox] one…");
    /* The whole text: no ellipsis even if it ends with punctuation. */
    check("fox", NULL, "fox one, two. three!", 4, "[fox] one, two. three!");
}

Test(snippet, window_most_distinct_terms)
{
    /* "alpha" four times early; "alpha beta" once later: the window with
     * both terms wins over the one with more matches. */
    const char *text = "alpha alpha x alpha alpha x y z u v w x y z u v w "
                       "k l m n o p alpha beta q r s t u v w x y z";
    check("alpha beta", NULL, text, 6, "…p [alpha] [beta] q r s…");
    /* Equal distinct terms: the window with more matches. */
    text = "alpha x x x x x x x x x x beta x x x x x x x x x x x alpha beta alpha x x x x x x x x";
    check("alpha beta", NULL, text, 5, "…x [alpha] [beta] [alpha] x…");
    /* All equal: the earliest (with a window of 3 there is no room for
     * context before the match: 3 / 4 = 0). */
    text = "x x x x alpha x x x x x x x x x x alpha x x x x";
    check("alpha", NULL, text, 3, "…[alpha] x x…");
    /* A phrase counts as one distinct match; its words alone do not. */
    text = "new x x x x x york x x x x x x x x x new york x x x x x x new x york";
    check(NULL, "new york", text, 4, "…x [new york] x…");
}

/* ------------------------------------------------------------- phrases */

Test(snippet, phrases)
{
    /* Only where the words stand together, in order, as one run. */
    check(NULL, "new york", "new cars in york, not York New, but New York city", 0,
          "new cars in york, not York New, but [New York] city");
    /* Punctuation between the words does not break a phrase (positions
     * are consecutive); it stays inside the run. */
    check(NULL, "new york", "New-York", 0, "[New-York]");
    /* Repeated words: overlapping occurrences make one run. */
    check(NULL, "dog dog", "dog cat dog dog dog cat dog", 0, "dog cat [dog dog dog] cat dog");
    check(NULL, "dog cat dog", "dog cat dog cat dog cat cat dog", 0,
          "[dog cat dog cat dog] cat cat dog");
    /* Two occurrences apart are two runs. */
    check(NULL, "big apple", "big apple and big apple", 0, "[big apple] and [big apple]");
    /* A phrase and a term: the term alone is marked everywhere. */
    check("city", "new york", "new york city and york city", 0,
          "[new york] [city] and york [city]");
    /* Two phrases. */
    check(NULL, "new york|big apple", "the big apple is new york", 0,
          "the [big apple] is [new york]");
    /* Three words, only the full sequence. */
    check(NULL, "the lazy dog", "the lazy cat and the dog and the lazy dog", 0,
          "the lazy cat and the dog and [the lazy dog]");
}

/* ------------------------------------------------------------- UTF-8 */

Test(snippet, utf8_never_cut)
{
    /* No token: 200 bytes would end inside a three-byte character. */
    char text[400] = "";
    for (int i = 0; i < 100; i++) strcat(text, "\xe2\x82\xac"); /* € */
    query q;
    make_query(&q, "fox", NULL);
    char *s = snip(&q, text, 5);
    cr_assert(valid_utf8(s, strlen(s)), "%s", s);
    cr_assert_eq(strlen(s), 66 * 3 + strlen("…"));
    free(s);
    /* Two-byte characters starting at an odd offset. */
    text[0] = '.';
    text[1] = 0;
    for (int i = 0; i < 150; i++) strcat(text, "\xc2\xa7"); /* § */
    s = snip(&q, text, 5);
    cr_assert(valid_utf8(s, strlen(s)), "%s", s);
    free(s);
    free_query(&q);
    /* Windows over non-ASCII words are cut at token boundaries. */
    check("naive", NULL, "àé café naïve résumé über ñandú œuvre", 2, "…[naïve] résumé…");
    check("uber", NULL, "日本語 über 日本語", 1, "…[über]…");
    check(NULL, NULL, "日本語のテキスト", 2, "日本…");
}

/* ------------------------------------------------------------- long text */

Test(snippet, very_long_text)
{
    /* 3 MiB of four-letter words ("aaaa bbbb ..."); "fish" once before
     * and "bird" once after the first SNIPPET_SCAN_BYTES. */
    size_t len = 3u << 20;
    char *text = malloc(len + 1);
    for (size_t i = 0; i < len; i++) text[i] = i % 5 == 4 ? ' ' : (char)('a' + (i / 5) % 26);
    text[len] = 0;
    memcpy(text + 1000, "fish", 4);
    memcpy(text + 2000000, "bird", 4);
    query q;
    make_query(&q, "bird fish", NULL);
    char *s = snip_len(&q, text, len, 10, "[", "]");
    /* Only the first match is seen; the window is around it. */
    cr_assert_str_eq(s, "…qqqq rrrr [fish] tttt uuuu vvvv wwww xxxx yyyy zzzz…");
    free(s);
    /* With only the far match, nothing matches: the start is shown. */
    memcpy(text + 1000, "ssss", 4);
    s = snip_len(&q, text, len, 3, "[", "]");
    cr_assert_str_eq(s, "aaaa bbbb cccc…");
    free(s);
    /* The whole (scanned) text: ends with an ellipsis, no crash. */
    s = snip_len(&q, text, len, 0, "[", "]");
    cr_assert_lt(strlen(s), SNIPPET_SCAN_BYTES + 16);
    cr_assert_gt(strlen(s), SNIPPET_SCAN_BYTES - 16);
    cr_assert_eq(strcmp(s + strlen(s) - strlen("…"), "…"), 0);
    free(s);
    /* A two-byte character straddling the scan limit is not cut: words of
     * four "é" and a space, from offset 1 on. */
    text[0] = 'x';
    for (size_t i = 1; i < len; i++) {
        size_t u = (i - 1) % 9;
        text[i] = u == 8 ? ' ' : u % 2 == 0 ? (char)0xc3 : (char)0xa9;
    }
    cr_assert_eq((unsigned char)text[SNIPPET_SCAN_BYTES - 1], 0xc3);
    s = snip_len(&q, text, len, 0, "[", "]");
    cr_assert(valid_utf8(s, strlen(s)));
    cr_assert_gt(strlen(s), SNIPPET_SCAN_BYTES - 16);
    free(s);
    s = snip_len(&q, text, len, 7, "[", "]");
    cr_assert(valid_utf8(s, strlen(s)));
    free(s);
    free_query(&q);
    free(text);
}
