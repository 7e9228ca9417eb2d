/*
 * test_analyzer.c - unit tests of the analysis chain (common/analyzer.h).
 *
 * Most tests run a string through analyzer_reset/analyzer_next and compare
 * the space-joined terms with what the contract promises; every run also
 * checks the invariants any token must keep (length, NUL, offsets inside the
 * text and increasing, positions increasing).  Byte strings with invalid
 * UTF-8 are written as separate literals ("abc" "\xff" "def") so that a hex
 * escape never swallows the letters after it.
 */
#include <criterion/criterion.h>
#include <libstemmer.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "common/analyzer.h"
#include "common/status.h"

#define MAX_TOKENS 256

typedef struct tk {
    char term[ANALYZER_MAX_TERM_BYTES + 1];
    size_t len;
    uint32_t pos;
    size_t start, end;
} tk;

static analyzer *A;
static tk toks[MAX_TOKENS];
static char joined[MAX_TOKENS * (ANALYZER_MAX_TERM_BYTES + 1) + 1];

static void setup(void)
{
    cr_assert_eq(analyzer_new(&A), SE_OK);
}

static void teardown(void)
{
    analyzer_free(A);
    A = NULL;
}

TestSuite(analyzer, .init = setup, .fini = teardown);

/* Analyse text[0..len) from position `first` into toks[], checking the
 * invariants of every token.  Returns the number of tokens. */
static size_t run_n(const char *text, size_t len, uint32_t first)
{
    analyzer_stats before = analyzer_get_stats(A);
    analyzer_reset(A, text, len, first);
    cr_assert_eq(analyzer_position(A), first);
    analyzer_token t;
    size_t n = 0, prev_end = 0;
    uint32_t prev_pos = first;
    while (analyzer_next(A, &t)) {
        cr_assert_lt(n, MAX_TOKENS);
        cr_assert(t.term_len >= 1 && t.term_len <= ANALYZER_MAX_TERM_BYTES, "term_len %zu",
                  t.term_len);
        cr_assert_eq(strlen(t.term), t.term_len);
        cr_assert(t.start < t.end && t.end <= len, "offsets [%zu,%zu) of %zu", t.start, t.end, len);
        cr_assert_geq(t.start, prev_end);
        cr_assert(n == 0 ? t.position >= first : t.position > prev_pos);
        cr_assert_lt(t.position, analyzer_position(A));
        memcpy(toks[n].term, t.term, t.term_len + 1);
        toks[n].len = t.term_len;
        toks[n].pos = t.position;
        toks[n].start = t.start;
        toks[n].end = t.end;
        prev_end = t.end;
        prev_pos = t.position;
        n++;
    }
    cr_assert_eq(analyzer_next(A, &t), 0, "the end is sticky");
    cr_assert_eq(analyzer_get_stats(A).tokens - before.tokens, n);
    return n;
}

/* The terms of `text`, joined by single spaces. */
static const char *terms_n(const char *text, size_t len)
{
    size_t n = run_n(text, len, 0);
    char *w = joined;
    for (size_t i = 0; i < n; i++) {
        if (i) *w++ = ' ';
        memcpy(w, toks[i].term, toks[i].len);
        w += toks[i].len;
    }
    *w = '\0';
    return joined;
}

static const char *terms(const char *text)
{
    return terms_n(text, strlen(text));
}

/* Terms of `a` and `b` must be the same. */
static void assert_same_terms(const char *a, const char *b)
{
    char first[sizeof joined];
    snprintf(first, sizeof first, "%s", terms(a));
    cr_assert_str_eq(first, terms(b), "\"%s\" and \"%s\" analyse differently", a, b);
}

/* Every character is lower-case (case folding is a no-op) and unaccented
 * (canonical decomposition gives one code point, with no marks). */
static int lower_and_unaccented(const char *s)
{
    utf8proc_ssize_t len = (utf8proc_ssize_t)strlen(s);
    const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
    while (len > 0) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t n = utf8proc_iterate(p, len, &cp);
        if (n <= 0) return 0;
        utf8proc_int32_t buf[8];
        int bc = 0;
        utf8proc_ssize_t d =
            utf8proc_decompose_char(cp, buf, 8, UTF8PROC_CASEFOLD | UTF8PROC_DECOMPOSE, &bc);
        if (d != 1 || buf[0] != cp) return 0;
        utf8proc_category_t c = utf8proc_category(cp);
        if (c == UTF8PROC_CATEGORY_LU || c == UTF8PROC_CATEGORY_LT) return 0;
        if (c == UTF8PROC_CATEGORY_MN || c == UTF8PROC_CATEGORY_MC) return 0;
        p += n;
        len -= n;
    }
    return 1;
}

Test(analyzer, empty_input)
{
    cr_assert_eq(run_n("", 0, 0), 0);
    cr_assert_eq(run_n(NULL, 0, 7), 0);
    cr_assert_eq(analyzer_position(A), 7);
    analyzer_stats s = analyzer_get_stats(A);
    cr_assert_eq(s.tokens, 0);
    cr_assert_eq(s.skipped_long, 0);
    cr_assert_eq(s.invalid_utf8, 0);
}

Test(analyzer, pure_punctuation)
{
    const char *text = "!!! ... --- ,,, ;:?()[]{} \"\" ' '' `~@#$%^&*_+=|\\/<> \t\r\n"
                       "“” ‘’ « » — – … • © ® ™ € £ ° ± × ÷ ¿ ¡ \u00a0 \u2003 \u200b 😀";
    cr_assert_eq(run_n(text, strlen(text), 0), 0);
    cr_assert_eq(analyzer_position(A), 0);
    cr_assert_eq(analyzer_get_stats(A).invalid_utf8, 0);
}

Test(analyzer, possessive_apostrophes)
{
    cr_assert_str_eq(terms("Parker's"), "parker");
    cr_assert_str_eq(terms("Parker’s"), "parker");      /* U+2019 */
    cr_assert_str_eq(terms("Parker‘s"), "parker");      /* U+2018 */
    cr_assert_str_eq(terms("Parker\u02bcs"), "parker"); /* modifier letter apostrophe */
    cr_assert_str_eq(terms("Parker＇s"), "parker");     /* fullwidth apostrophe */
    cr_assert_str_eq(terms("PARKER'S car"), "parker car");
}

Test(analyzer, curly_quotes_are_separators)
{
    size_t n = run_n("“ethical responsibility”", strlen("“ethical responsibility”"), 0);
    cr_assert_eq(n, 2);
    cr_assert_str_eq(toks[0].term, "ethic");
    cr_assert_str_eq(toks[1].term, "respons");
    cr_assert_eq(toks[0].pos, 0);
    cr_assert_eq(toks[1].pos, 1);
    assert_same_terms("“ethical responsibility”", "ethical responsibility");
    assert_same_terms("‘ethical responsibility’", "\"ethical responsibility\"");
    assert_same_terms("«ethical» „responsibility“", "ethical responsibility");
}

Test(analyzer, case_folding)
{
    cr_assert_str_eq(terms("É"), "e");
    cr_assert_str_eq(terms("Ä"), "a");
    cr_assert_str_eq(terms("ß"), "ss");
    cr_assert_str_eq(terms("Straße"), "strass");
    assert_same_terms("STRASSE", "straße");
    assert_same_terms("ÉCOLE", "école");
    assert_same_terms("école", "ecole");
    assert_same_terms("Ärger", "arger");
    /* Final and non-final sigma fold together, upper-case too. */
    assert_same_terms("ΣΟΦΟΣ", "σοφος");
    assert_same_terms("σοφος", "σοφοσ");
    cr_assert_str_eq(terms("Σ ς σ"), "σ σ σ");
    /* Turkish dotted capital I: full case folding gives i + U+0307, and the
     * mark is stripped, so it ends up as a plain "i". */
    cr_assert_str_eq(terms("İ"), "i");
    assert_same_terms("İSTANBUL", "istanbul");
    /* Dotless ı is already lower-case and has no decomposition: kept. */
    cr_assert_str_eq(terms("ı"), "ı");
    const char *samples[] = {"É", "Ä", "ß", "Σ",        "ς",      "İ", "ı", "Ǆ",    "ǅ", "Ω", "Ω",
                             "Å", "Å", "Ⅻ", "Ｗｉｋｉ", "ＡＢＣ", "Ø", "Ł", "Þórr", "Ŀ", "ﬀ", "ẞ"};
    for (size_t i = 0; i < sizeof samples / sizeof *samples; i++) {
        size_t n = run_n(samples[i], strlen(samples[i]), 0);
        cr_assert_eq(n, 1, "%s", samples[i]);
        cr_assert(lower_and_unaccented(toks[0].term), "%s -> %s", samples[i], toks[0].term);
    }
    cr_assert_str_eq(terms("Ｗｉｋｉ"), "wiki"); /* fullwidth: compatibility decomposition */
    cr_assert_str_eq(terms("ẞ"), "ss");
}

Test(analyzer, accents_removed)
{
    assert_same_terms("naïve", "naive");
    assert_same_terms("café", "cafe");
    assert_same_terms("cafe\u0301", "cafe");   /* decomposed é */
    assert_same_terms("nai\u0308ve", "naive"); /* decomposed ï inside a word */
    assert_same_terms("Ångström", "angstrom");
    assert_same_terms("façade", "facade");
    assert_same_terms("résumé", "resume");
    assert_same_terms("Mañana", "manana");
}

Test(analyzer, ligatures)
{
    cr_assert_str_eq(terms("ﬁ"), "fi");
    assert_same_terms("ﬁnance", "finance");
    assert_same_terms("eﬀect", "effect");
    assert_same_terms("ﬂower", "flower");
}

Test(analyzer, digits_and_mixed)
{
    cr_assert_str_eq(terms("mi5 2015 MI5"), "mi5 2015 mi5");
    cr_assert_str_eq(terms("3.14 1,000 4x4 B2B"), "3 14 1 000 4x4 b2b");
    cr_assert_str_eq(terms("٣٤"), "٣٤"); /* Arabic-Indic digits are digits */
    cr_assert_str_eq(terms("²"), "2");   /* compatibility decomposition */
}

Test(analyzer, hyphens_split)
{
    cr_assert_str_eq(terms("well-known"), "well known");
    cr_assert_str_eq(terms("state-of-the-art"), "state of the art");
    cr_assert_str_eq(terms("1990–2000"), "1990 2000"); /* en dash */
    cr_assert_str_eq(terms("e-mail"), "e mail");
}

Test(analyzer, leading_and_trailing_apostrophes)
{
    cr_assert_str_eq(terms("'tis"), "tis");
    cr_assert_str_eq(terms("dogs'"), "dog");
    cr_assert_str_eq(terms("'quoted'"), "quot");
    cr_assert_str_eq(terms("’quoted’"), "quot");
    cr_assert_str_eq(terms("rock 'n' roll"), "rock n roll");
    cr_assert_str_eq(terms("''a''"), "a");
    cr_assert_str_eq(terms("don't"), "don't");
    cr_assert_str_eq(terms("o'clock"), "o'clock");
    cr_assert_str_eq(terms("a''b"), "a b");  /* two apostrophes never join */
    cr_assert_str_eq(terms("90's"), "90 s"); /* joins letters, not digits */
    cr_assert_str_eq(terms("x'9"), "x 9");
    cr_assert_str_eq(terms("e\u0301's"), "e"); /* a mark keeps its letter's class */
    size_t n = run_n("'tis", 4, 0);
    cr_assert_eq(n, 1);
    cr_assert_eq(toks[0].start, 1);
    cr_assert_eq(toks[0].end, 4);
}

/* One invalid-UTF-8 case: the terms that must survive and how many invalid
 * sequences the analyzer must count. */
static void check_invalid(const char *text, const char *expect, uint64_t invalid)
{
    uint64_t before = analyzer_get_stats(A).invalid_utf8;
    cr_assert_str_eq(terms(text), expect, "terms of an invalid-UTF-8 case");
    cr_assert_eq(analyzer_get_stats(A).invalid_utf8 - before, invalid, "invalid count for \"%s\"",
                 expect);
}

Test(analyzer, invalid_utf8)
{
    check_invalid("abc"
                  "\xff"
                  "def",
                  "abc def", 1);
    check_invalid("abc"
                  "\xe2\x80",
                  "abc", 1); /* truncated at the end */
    check_invalid("abc"
                  "\xe2\x80"
                  "def",
                  "abc def", 1); /* truncated in the middle */
    check_invalid("abc"
                  "\xe2"
                  "\xc3\xa9t\xc3\xa9",
                  "abc ete", 1); /* never eats the valid é after it */
    check_invalid("abc"
                  "\xf0\x9f\x98"
                  "\xc3\xa9",
                  "abc e", 1);
    check_invalid("ab"
                  "\xc3"
                  "zz",
                  "ab zz", 1);
    check_invalid("a"
                  "\xc0\xaf"
                  "b",
                  "a b", 2); /* overlong '/' */
    check_invalid("a"
                  "\xe0\x80\xaf"
                  "b",
                  "a b", 3); /* three-byte overlong */
    check_invalid("a"
                  "\xf0\x80\x80\xaf"
                  "b",
                  "a b", 4); /* four-byte overlong */
    check_invalid("x"
                  "\xed\xa0\x80"
                  "y",
                  "x y", 3); /* UTF-16 surrogate */
    check_invalid("x"
                  "\xed\xb0\x80\xed\xa0\x80"
                  "y",
                  "x y", 6);
    check_invalid("x"
                  "\xf4\x90\x80\x80"
                  "y",
                  "x y", 4); /* above U+10FFFF */
    check_invalid("x"
                  "\xf5\x80\x80\x80"
                  "y",
                  "x y", 4);
    check_invalid("a"
                  "\x80\x80"
                  "b",
                  "a b", 2); /* stray continuation bytes */
    check_invalid("\x80"
                  "start",
                  "start", 1);
    check_invalid("caf"
                  "\xff"
                  "e",
                  "caf e", 1); /* inside a word */
    check_invalid("dog'"
                  "\xff",
                  "dog", 1); /* after an apostrophe */
    check_invalid("dog'"
                  "\xc3",
                  "dog", 1);
    check_invalid("na"
                  "\xcc"
                  "ve",
                  "na ve", 1); /* truncated combining mark */
    check_invalid("\xfe\xff"
                  "bom",
                  "bom", 2);
    check_invalid("a😀b", "a b", 0); /* valid four-byte character: a symbol */
    check_invalid("東"
                  "\xe6\x9d"
                  "京",
                  "東 京", 1);
    /* Offsets stay those of the original bytes. */
    const char *t = "\xff\xfe"
                    "abc"
                    "\xc0"
                    "d";
    cr_assert_eq(run_n(t, strlen(t), 0), 2);
    cr_assert_eq(toks[0].start, 2);
    cr_assert_eq(toks[0].end, 5);
    cr_assert_eq(toks[1].start, 6);
    cr_assert_eq(toks[1].end, 7);
}

Test(analyzer, over_long_token_skipped_but_positioned)
{
    char text[256];
    char longword[80];
    memset(longword, 'a', 70);
    longword[70] = '\0';
    snprintf(text, sizeof text, "short %s next", longword);
    size_t n = run_n(text, strlen(text), 0);
    cr_assert_eq(n, 2);
    cr_assert_str_eq(toks[0].term, "short");
    cr_assert_str_eq(toks[1].term, "next");
    cr_assert_eq(toks[0].pos, 0);
    cr_assert_eq(toks[1].pos, 2);
    cr_assert_eq(analyzer_position(A), 3);
    cr_assert_eq(analyzer_get_stats(A).skipped_long, 1);

    /* 64 bytes is the limit: kept; 65: skipped. */
    memset(longword, 'b', 64);
    longword[64] = '\0';
    cr_assert_eq(run_n(longword, 64, 0), 1);
    cr_assert_eq(toks[0].len, 64);
    memset(longword, 'b', 65);
    longword[65] = '\0';
    cr_assert_eq(run_n(longword, 65, 10), 0);
    cr_assert_eq(analyzer_position(A), 11, "a skipped token at the end still counts");
    cr_assert_eq(analyzer_get_stats(A).skipped_long, 2);

    /* The limit applies after folding: 33 ß are 66 source bytes and fold to
     * 66 bytes (skipped); 22 ﬁ are 66 source bytes but fold to 44 (kept). */
    char buf[128] = "";
    for (int i = 0; i < 33; i++) strcat(buf, "ß");
    cr_assert_eq(run_n(buf, strlen(buf), 0), 0);
    cr_assert_eq(analyzer_get_stats(A).skipped_long, 3);
    buf[0] = '\0';
    for (int i = 0; i < 22; i++) strcat(buf, "ﬁ");
    cr_assert_eq(run_n(buf, strlen(buf), 0), 1);
    cr_assert_eq(toks[0].len, 44);
    cr_assert_eq(toks[0].end, 66);
    cr_assert_eq(analyzer_get_stats(A).skipped_long, 3);
}

Test(analyzer, cjk_one_token_per_character)
{
    size_t n = run_n("東京タワー", strlen("東京タワー"), 0);
    cr_assert_eq(n, 5);
    const char *expect[] = {"東", "京", "タ", "ワ", "ー"};
    for (size_t i = 0; i < n; i++) {
        cr_assert_str_eq(toks[i].term, expect[i]);
        cr_assert_eq(toks[i].pos, i);
        cr_assert_eq(toks[i].start, 3 * i);
        cr_assert_eq(toks[i].end, 3 * i + 3);
    }
    /* Marks are stripped, kana voicing marks too: が -> か. */
    cr_assert_str_eq(terms("ひらがな"), "ひ ら か な");
    cr_assert_str_eq(terms("한국어"), "한 국 어"); /* Hangul syllables kept whole */
    cr_assert_str_eq(terms("abc東京def"), "abc 東 京 def");
    cr_assert_str_eq(terms("東's"), "東 s");
    cr_assert_str_eq(terms("ｶﾀｶﾅ"), "カ タ カ ナ"); /* halfwidth -> fullwidth */
    cr_assert_str_eq(terms("中文，日本語。"), "中 文 日 本 語");
}

Test(analyzer, byte_offsets)
{
    const char *text = "Naïve café—“Ünïcode” Parker’s 東京 x\xcc\x81y end";
    size_t n = run_n(text, strlen(text), 0);
    const char *orig[] = {"Naïve", "café", "Ünïcode", "Parker’s", "東", "京", "x\xcc\x81y", "end"};
    cr_assert_eq(n, sizeof orig / sizeof *orig);
    for (size_t i = 0; i < n; i++) {
        size_t len = toks[i].end - toks[i].start;
        cr_assert_eq(len, strlen(orig[i]), "token %zu", i);
        cr_assert(memcmp(text + toks[i].start, orig[i], len) == 0, "token %zu is \"%.*s\"", i,
                  (int)len, text + toks[i].start);
    }
}

Test(analyzer, first_position_and_position)
{
    analyzer_reset(A, "one two three", 13, 100);
    cr_assert_eq(analyzer_position(A), 100);
    analyzer_token t;
    cr_assert(analyzer_next(A, &t));
    cr_assert_eq(t.position, 100);
    cr_assert_eq(analyzer_position(A), 101);
    cr_assert(analyzer_next(A, &t));
    cr_assert_eq(t.position, 101);
    cr_assert(analyzer_next(A, &t));
    cr_assert_eq(t.position, 102);
    cr_assert_str_eq(t.term, "three");
    cr_assert_not(analyzer_next(A, &t));
    cr_assert_eq(analyzer_position(A), 103);
    /* A second field continues after a gap. */
    size_t n = run_n("four five", 9, analyzer_position(A) + 10);
    cr_assert_eq(n, 2);
    cr_assert_eq(toks[0].pos, 113);
    cr_assert_eq(toks[1].pos, 114);
    cr_assert_eq(analyzer_position(A), 115);
}

Test(analyzer, stem_api)
{
    size_t len = 0;
    const char *s = analyzer_stem(A, "running", 7, &len);
    cr_assert_str_eq(s, "run");
    cr_assert_eq(len, 3);
    s = analyzer_stem(A, "", 0, &len);
    cr_assert_str_eq(s, "");
    cr_assert_eq(len, 0);
    /* Stemming a returned term again (it lives in the analyzer's memory). */
    s = analyzer_stem(A, "generalizations", 15, &len);
    cr_assert_str_eq(s, "general");
    s = analyzer_stem(A, s, len, &len);
    cr_assert_str_eq(s, "general");
    /* A word longer than any cache entry goes straight to libstemmer. */
    char big[200];
    for (size_t i = 0; i + 4 < sizeof big; i++) big[i] = "ab"[i % 2];
    memcpy(big + sizeof big - 4, "ing", 4);
    s = analyzer_stem(A, big, strlen(big), &len);
    cr_assert_not_null(s);
    cr_assert_eq(len, sizeof big - 4, "the -ing is removed");
    cr_assert_eq(strlen(s), len);
    cr_assert(memcmp(s, big, len) == 0);
    s = analyzer_stem(A, s, len, &len);
    cr_assert_not_null(s);
    cr_assert_eq(len, sizeof big - 4);
}

/* xorshift64*: a small reproducible random number generator. */
static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint64_t rnd(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ull;
}

Test(analyzer, stem_cache_matches_libstemmer)
{
    struct sb_stemmer *ref = sb_stemmer_new("english", "UTF_8");
    cr_assert_not_null(ref);
    /* 20000 random words over a small alphabet, so that many repeat and many
     * collide in the cache; each is checked three times against a fresh,
     * uncached stemmer. */
    enum { WORDS = 20000 };
    static char words[WORDS][40];
    const char alphabet[] = "aeiouysntrlgdc'";
    for (int i = 0; i < WORDS; i++) {
        size_t len = 1 + rnd() % 38;
        if (i % 3 == 0) len = 1 + rnd() % 6; /* short ones repeat often */
        for (size_t j = 0; j < len; j++) words[i][j] = alphabet[rnd() % (sizeof alphabet - 1)];
        words[i][len] = '\0';
    }
    for (int round = 0; round < 3; round++) {
        for (int k = 0; k < WORDS; k++) {
            int i = round == 1 ? WORDS - 1 - k : (int)(rnd() % WORDS);
            size_t len = strlen(words[i]), got_len = 0;
            const char *got = analyzer_stem(A, words[i], len, &got_len);
            const sb_symbol *want = sb_stemmer_stem(ref, (const sb_symbol *)words[i], (int)len);
            cr_assert_not_null(got);
            cr_assert_not_null(want);
            int want_len = sb_stemmer_length(ref);
            cr_assert(got_len == (size_t)want_len && memcmp(got, want, got_len) == 0,
                      "stem of %s: cached %s, libstemmer %.*s", words[i], got, want_len,
                      (const char *)want);
        }
    }
    sb_stemmer_delete(ref);

    /* The same text analysed repeatedly gives the same terms. */
    const char *text = "The connected connections connect connectively; running runners ran. "
                       "Generalizations generalize generally; the the the";
    char first[sizeof joined];
    snprintf(first, sizeof first, "%s", terms(text));
    for (int i = 0; i < 5; i++) cr_assert_str_eq(terms(text), first);
    cr_assert_str_eq(first, "the connect connect connect connect run runner ran general general "
                            "general the the the");
}

static int valid_utf8(const char *s, size_t len)
{
    const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
    while (len > 0) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t n = utf8proc_iterate(p, (utf8proc_ssize_t)len, &cp);
        if (n <= 0) return 0;
        p += n;
        len -= (size_t)n;
    }
    return 1;
}

Test(analyzer, random_bytes)
{
    /* Bytes drawn from a mix that hits every path: ASCII letters, digits,
     * apostrophes, separators, lead and continuation bytes, and pieces of
     * valid multi-byte characters. */
    static const char *pieces[] = {
        "a",    "Z",    "7", "'",  " ",        "-",           "\xe2\x80\x99",
        "é",    "ß",    "ﬁ", "東", "\xcc\x81", "\x80",        "\xc3",
        "\xe2", "\xf0", "İ", "ς",  "한",       "\xed\xa0\x80"};
    char buf[1024];
    for (int iter = 0; iter < 2000; iter++) {
        size_t len = rnd() % 600;
        for (size_t i = 0; i < len; i++) {
            if (iter % 2 == 0) {
                buf[i] = (char)(rnd() & 0xFF);
            } else {
                const char *p = pieces[rnd() % (sizeof pieces / sizeof *pieces)];
                size_t pl = strlen(p);
                if (i + pl > len) pl = len - i;
                memcpy(buf + i, p, pl);
                i += pl - 1;
            }
        }
        if (iter % 7 == 0) { /* sometimes a very long run of letters */
            size_t at = len ? rnd() % len : 0;
            size_t run = rnd() % 200;
            if (at + run > len) run = len - at;
            memset(buf + at, 'q', run);
        }
        /* Token invariants are checked by run_n; the terms must also be
         * valid UTF-8 and each token's original bytes must be inside it. */
        size_t n = run_n(buf, len, (uint32_t)iter);
        for (size_t i = 0; i < n; i++) {
            cr_assert(valid_utf8(toks[i].term, toks[i].len), "term %zu of buffer %d", i, iter);
            cr_assert(toks[i].end - toks[i].start <= len);
        }
    }
}

Test(analyzer, stats_count_what_happened)
{
    run_n("alpha beta"
          "\xff"
          "gamma",
          15, 0);
    char text[128];
    memset(text, 'z', 100);
    memcpy(text + 100, " delta", 7);
    run_n(text, strlen(text), 0);
    analyzer_stats s = analyzer_get_stats(A);
    cr_assert_eq(s.tokens, 4);
    cr_assert_eq(s.skipped_long, 1);
    cr_assert_eq(s.invalid_utf8, 1);
}

/* ------------------------------------------------------------- settings */

/* Terms of text under the given settings, "term@position" joined by spaces. */
static const char *terms_with(uint32_t settings, const char *text)
{
    static char out[1024];
    analyzer *a;
    cr_assert_eq(analyzer_new_with(&a, settings), SE_OK);
    analyzer_reset(a, text, strlen(text), 0);
    analyzer_token t;
    size_t at = 0;
    out[0] = 0;
    while (analyzer_next(a, &t))
        at += (size_t)snprintf(out + at, sizeof out - at, "%s%s@%u", at ? " " : "", t.term,
                               t.position);
    analyzer_free(a);
    return out;
}

Test(analyzer, settings_names)
{
    const char *names[] = {"english", "english-stop", "porter", "porter-stop"};
    const uint32_t values[] = {0, ANALYZER_STOPWORDS, ANALYZER_PORTER,
                               ANALYZER_PORTER | ANALYZER_STOPWORDS};
    for (size_t i = 0; i < 4; i++) {
        uint32_t v = 99;
        cr_assert_eq(analyzer_settings_parse(names[i], &v), SE_OK);
        cr_assert_eq(v, values[i]);
        cr_assert_str_eq(analyzer_settings_name(values[i]), names[i]);
    }
    uint32_t v;
    cr_assert_eq(analyzer_settings_parse("klingon", &v), SE_INVALID);
    cr_assert_eq(analyzer_settings_parse("", &v), SE_INVALID);
    cr_assert_null(analyzer_settings_name(ANALYZER_KNOWN + 1));
    analyzer *a = (analyzer *)1;
    cr_assert_eq(analyzer_new_with(&a, ANALYZER_KNOWN + 1), SE_INVALID);
    cr_assert_null(a);
}

/* Stop words are dropped after folding (any case, any accent stripping) and
 * keep their positions; words merely starting like one stay. */
Test(analyzer, stop_words)
{
    const char *text = "The cat IS in the hat, and theirs is not THEIR hat; a an";
    cr_assert_str_eq(terms_with(0, "The cat is"), "the@0 cat@1 is@2");
    cr_assert_str_eq(terms_with(ANALYZER_STOPWORDS, text), "cat@1 hat@5 their@7 hat@11");
    cr_assert_str_eq(terms_with(ANALYZER_STOPWORDS, "Thé cat"), "cat@1");
    cr_assert_str_eq(terms_with(ANALYZER_STOPWORDS, "at ate attic"), "ate@1 attic@2");
    cr_assert_str_eq(terms_with(ANALYZER_STOPWORDS, "which whichever"), "whichev@1");
    cr_assert_str_eq(terms_with(ANALYZER_STOPWORDS, "during with zzz"), "zzz@2");
    cr_assert_str_eq(terms_with(ANALYZER_STOPWORDS, "the of and"), "");
}

/* Porter's original algorithm against Snowball English (Porter2) where they
 * differ: Porter turns a final y into i and has no -li or exception rules. */
Test(analyzer, porter_stemmer)
{
    cr_assert_str_eq(terms_with(0, "fairly running cats generously"),
                     "fair@0 run@1 cat@2 generous@3");
    cr_assert_str_eq(terms_with(ANALYZER_PORTER, "fairly running cats generously"),
                     "fairli@0 run@1 cat@2 gener@3");
    cr_assert_str_eq(terms_with(ANALYZER_PORTER | ANALYZER_STOPWORDS, "the fairly"), "fairli@1");
}
