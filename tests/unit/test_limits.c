/*
 * test_limits.c - the analyzer's limits in-process, just at and just over
 * each: ANALYZER_MAX_TERM_BYTES (a longer token is skipped, counted, and
 * still takes a position) and ANALYZER_MAX_POSITIONS (a token that would
 * take that position ends the text, and the text is counted as cut once).
 * Starting positions near the limit (analyzer_reset's first_position) stand
 * in for texts of four million tokens; tests/e2e/test_hostile_limits.c
 * indexes such documents for real.
 */
#include <criterion/criterion.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/analyzer.h"

static analyzer *A;

static void setup(void)
{
    cr_assert_eq(analyzer_new(&A), 0);
}

static void teardown(void)
{
    analyzer_free(A);
}

TestSuite(limits, .init = setup, .fini = teardown);

#define MAXTOK 16

typedef struct toks {
    size_t n;
    char term[MAXTOK][ANALYZER_MAX_TERM_BYTES + 1];
    uint32_t pos[MAXTOK];
} toks;

/* Analyse text from `first`; returns the tokens, *cut and *longs the
 * increase of the counters. */
static toks run(const char *text, uint32_t first, uint64_t *cut, uint64_t *longs)
{
    analyzer_stats before = analyzer_get_stats(A);
    toks t = {0};
    analyzer_reset(A, text, strlen(text), first);
    analyzer_token tok;
    while (analyzer_next(A, &tok)) {
        cr_assert_lt(t.n, MAXTOK);
        cr_assert_leq(tok.term_len, ANALYZER_MAX_TERM_BYTES);
        memcpy(t.term[t.n], tok.term, tok.term_len);
        t.term[t.n][tok.term_len] = '\0';
        t.pos[t.n++] = tok.position;
    }
    /* The end is sticky. */
    cr_assert_eq(analyzer_next(A, &tok), 0);
    analyzer_stats after = analyzer_get_stats(A);
    *cut = after.cut_texts - before.cut_texts;
    *longs = after.skipped_long - before.skipped_long;
    return t;
}

static char *letters(char c, size_t n, const char *before, const char *after)
{
    size_t a = strlen(before), b = strlen(after);
    char *s = malloc(a + n + b + 1);
    cr_assert_not_null(s);
    memcpy(s, before, a);
    memset(s + a, c, n);
    memcpy(s + a + n, after, b + 1);
    return s;
}

Test(limits, positions_up_to_the_last_one)
{
    const uint32_t last = ANALYZER_MAX_POSITIONS - 1;
    uint64_t cut, longs;
    toks t = run("alpha beta", last - 1, &cut, &longs);
    cr_assert_eq(t.n, 2);
    cr_assert_eq(t.pos[1], last, "the last position is used");
    cr_assert_eq(cut, 0, "a text ending at the last position is whole");
    cr_assert_eq(analyzer_position(A), ANALYZER_MAX_POSITIONS);

    /* Separators and punctuation after the last token do not cut. */
    t = run("alpha ,;  \xE2\x80\x94 ...\n", last, &cut, &longs);
    cr_assert_eq(t.n, 1);
    cr_assert_eq(cut, 0);
}

Test(limits, a_token_past_the_last_position_cuts_the_text)
{
    const uint32_t last = ANALYZER_MAX_POSITIONS - 1;
    uint64_t cut, longs;
    toks t = run("alpha beta gamma delta", last - 1, &cut, &longs);
    cr_assert_eq(t.n, 2, "gamma and delta are past the limit");
    cr_assert_str_eq(t.term[1], "beta");
    cr_assert_eq(t.pos[1], last);
    cr_assert_eq(cut, 1, "counted once per text");
    cr_assert_eq(analyzer_position(A), ANALYZER_MAX_POSITIONS);

    /* Starting at (or past) the limit: nothing, and cut. */
    t = run("alpha", ANALYZER_MAX_POSITIONS, &cut, &longs);
    cr_assert_eq(t.n, 0);
    cr_assert_eq(cut, 1);
    t = run("", ANALYZER_MAX_POSITIONS + 5, &cut, &longs);
    cr_assert_eq(t.n + cut, 0, "an empty text has no token to cut");

    /* The next text starts afresh. */
    t = run("alpha beta", 0, &cut, &longs);
    cr_assert_eq(t.n, 2);
    cr_assert_eq(cut, 0);
}

Test(limits, over_long_tokens_take_positions_up_to_the_limit)
{
    const uint32_t last = ANALYZER_MAX_POSITIONS - 1;
    uint64_t cut, longs;
    char *s = letters('x', ANALYZER_MAX_TERM_BYTES + 1, "alpha ", " beta");
    toks t = run(s, last - 1, &cut, &longs);
    cr_assert_eq(t.n, 1, "alpha; the long token takes the last position; beta is cut");
    cr_assert_eq(longs, 1);
    cr_assert_eq(cut, 1);
    free(s);

    s = letters('x', ANALYZER_MAX_TERM_BYTES + 1, "alpha ", "");
    t = run(s, last - 1, &cut, &longs);
    cr_assert_eq(t.n, 1);
    cr_assert_eq(longs, 1, "the long token takes the last position");
    cr_assert_eq(cut, 0);
    free(s);

    /* An over-long token past the limit is cut, not counted as long. */
    s = letters('x', ANALYZER_MAX_TERM_BYTES + 1, "alpha ", "");
    t = run(s, last, &cut, &longs);
    cr_assert_eq(t.n, 1);
    cr_assert_eq(longs, 0);
    cr_assert_eq(cut, 1);
    free(s);
}

Test(limits, term_length_at_and_over_64_bytes)
{
    uint64_t cut, longs;
    char *s = letters('q', ANALYZER_MAX_TERM_BYTES, "", " z");
    toks t = run(s, 0, &cut, &longs);
    cr_assert_eq(t.n, 2);
    cr_assert_eq(strlen(t.term[0]), ANALYZER_MAX_TERM_BYTES, "64 bytes: a term");
    cr_assert_eq(longs, 0);
    free(s);

    s = letters('q', ANALYZER_MAX_TERM_BYTES + 1, "", " z");
    t = run(s, 0, &cut, &longs);
    cr_assert_eq(t.n, 1, "65 bytes: skipped");
    cr_assert_eq(longs, 1);
    cr_assert_eq(t.pos[0], 1, "but it took position 0");
    free(s);

    /* The limit is on folded bytes: 64 mathematical bold letters (256 bytes
     * of input) fold to 64 ASCII bytes; 65 do not fit. */
    char bold[65 * 4 + 1];
    for (int i = 0; i < 65; i++) memcpy(bold + 4 * i, "\xF0\x9D\x90\x9A", 4); /* bold a */
    bold[64 * 4] = '\0';
    t = run(bold, 0, &cut, &longs);
    cr_assert_eq(t.n, 1);
    cr_assert_eq(strlen(t.term[0]), ANALYZER_MAX_TERM_BYTES);
    bold[64 * 4] = '\xF0';
    bold[65 * 4] = '\0';
    t = run(bold, 0, &cut, &longs);
    cr_assert_eq(t.n, 0);
    cr_assert_eq(longs, 1);
}
