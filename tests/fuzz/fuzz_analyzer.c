/*
 * fuzz_analyzer.c - the analysis chain (common/analyzer.h) on arbitrary
 * bytes.
 *
 * Input: byte 0 and 1 choose where the title ends (the rest is the text), as
 * the indexer analyses a document: title positions from 0, one empty
 * position, then the text.  The bytes are not repaired first, so invalid
 * UTF-8 reaches the decoder as it would from a query.
 *
 * Checked for every token: the term is 1..ANALYZER_MAX_TERM_BYTES bytes,
 * NUL-terminated with no NUL inside, valid UTF-8; positions strictly
 * increase; byte ranges are non-empty, inside the text and in order.  The
 * same text analysed again by the same analyzer (its stem cache now warm)
 * and by a second analyzer with a different cache history must give the
 * same tokens, so a stem-cache collision cannot go unnoticed.
 */
#include "tests/fuzz/fuzz_util.h"

#include "common/analyzer.h"
#include "common/status.h"

#define AN_MAX_TOKENS 8192

typedef struct an_tok {
    char term[ANALYZER_MAX_TERM_BYTES + 1];
    size_t term_len;
    uint32_t position;
    size_t start, end;
} an_tok;

static analyzer *an_warm;  /* lives for the whole run */
static analyzer *an_fresh; /* recreated every AN_FRESH_EVERY inputs */
static unsigned long an_inputs;
static an_tok *an_first, *an_again;

#define AN_FRESH_EVERY 512

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    if (analyzer_new(&an_warm) != SE_OK || analyzer_new(&an_fresh) != SE_OK) abort();
    an_first = calloc(AN_MAX_TOKENS, sizeof *an_first);
    an_again = calloc(AN_MAX_TOKENS, sizeof *an_again);
    if (!an_first || !an_again) abort();
    return 0;
}

/* Analyse text[0..len) from `first`, checking each token; returns the
 * number of tokens recorded in out (at most cap) and sets *next to the
 * position after the text. */
static size_t an_run(analyzer *a, const char *text, size_t len, uint32_t first, an_tok *out,
                     size_t cap, uint32_t *next)
{
    analyzer_stats before = analyzer_get_stats(a);
    analyzer_reset(a, text, len, first);
    FUZZ_CHECK(analyzer_position(a) == first, "reset position %u", analyzer_position(a));
    analyzer_token t;
    size_t n = 0, prev_end = 0;
    uint64_t count = 0;
    int have_prev = 0;
    uint32_t prev_pos = 0;
    while (analyzer_next(a, &t)) {
        count++;
        FUZZ_CHECK(t.term != NULL, "null term");
        FUZZ_CHECK(t.term_len >= 1 && t.term_len <= ANALYZER_MAX_TERM_BYTES, "term length %zu",
                   t.term_len);
        FUZZ_CHECK(t.term[t.term_len] == '\0', "term not NUL-terminated");
        FUZZ_CHECK(memchr(t.term, 0, t.term_len) == NULL, "NUL inside a term");
        FUZZ_CHECK(fuzz_utf8_valid((const uint8_t *)t.term, t.term_len), "term not UTF-8: %.*s",
                   (int)t.term_len, t.term);
        FUZZ_CHECK(t.position >= first, "position %u before first %u", t.position, first);
        FUZZ_CHECK(!have_prev || t.position > prev_pos, "position %u after %u", t.position,
                   prev_pos);
        FUZZ_CHECK(t.start < t.end && t.end <= len, "range [%zu, %zu) of %zu", t.start, t.end, len);
        FUZZ_CHECK(t.start >= prev_end, "token at %zu overlaps the previous one ending at %zu",
                   t.start, prev_end);
        FUZZ_CHECK(analyzer_position(a) == t.position + 1, "position %u after token %u",
                   analyzer_position(a), t.position);
        have_prev = 1;
        prev_pos = t.position;
        prev_end = t.end;
        if (n < cap) {
            memcpy(out[n].term, t.term, t.term_len + 1);
            out[n].term_len = t.term_len;
            out[n].position = t.position;
            out[n].start = t.start;
            out[n].end = t.end;
            n++;
        }
    }
    FUZZ_CHECK(analyzer_next(a, &t) == 0, "tokens after the end");
    analyzer_stats after = analyzer_get_stats(a);
    FUZZ_CHECK(after.tokens - before.tokens == count, "stats count %llu tokens, saw %llu",
               (unsigned long long)(after.tokens - before.tokens), (unsigned long long)count);
    *next = analyzer_position(a);
    FUZZ_CHECK(!have_prev || *next > prev_pos, "end position %u not after %u", *next, prev_pos);
    return n;
}

static void an_same(const an_tok *x, size_t nx, const an_tok *y, size_t ny, const char *what)
{
    FUZZ_CHECK(nx == ny, "%s: %zu tokens vs %zu", what, nx, ny);
    for (size_t i = 0; i < nx; i++) {
        FUZZ_CHECK(x[i].term_len == y[i].term_len &&
                       memcmp(x[i].term, y[i].term, x[i].term_len) == 0,
                   "%s: token %zu is '%s' vs '%s'", what, i, x[i].term, y[i].term);
        FUZZ_CHECK(x[i].position == y[i].position && x[i].start == y[i].start &&
                       x[i].end == y[i].end,
                   "%s: token %zu position/range differ", what, i);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_bytes in = {data, size};
    size_t split = fuzz_u16(&in);
    if (split > in.n) split = in.n;
    /* Exact-size copies: a read past either end is an ASan report. */
    char *title = (char *)fuzz_dup(in.p, split);
    char *text = (char *)fuzz_dup(in.p + split, in.n - split);
    size_t tlen = split, xlen = in.n - split;

    if (++an_inputs % AN_FRESH_EVERY == 0) {
        analyzer_free(an_fresh);
        if (analyzer_new(&an_fresh) != SE_OK) abort();
    }

    uint32_t after_title, after_text;
    size_t nt = an_run(an_warm, title, tlen, 0, an_first, AN_MAX_TOKENS, &after_title);
    size_t nx = an_run(an_warm, text, xlen, after_title + 1, an_first + nt, AN_MAX_TOKENS - nt,
                       &after_text);
    FUZZ_CHECK(nx == 0 || an_first[nt].position > after_title, "text overlaps the title");

    /* Again with a warm cache, and with an analyzer of another history. */
    uint32_t p1, p2;
    size_t mt = an_run(an_warm, title, tlen, 0, an_again, AN_MAX_TOKENS, &p1);
    size_t mx = an_run(an_warm, text, xlen, p1 + 1, an_again + mt, AN_MAX_TOKENS - mt, &p2);
    an_same(an_first, nt + nx, an_again, mt + mx, "same analyzer twice");
    FUZZ_CHECK(p1 == after_title && p2 == after_text, "end positions differ");
    mt = an_run(an_fresh, title, tlen, 0, an_again, AN_MAX_TOKENS, &p1);
    mx = an_run(an_fresh, text, xlen, p1 + 1, an_again + mt, AN_MAX_TOKENS - mt, &p2);
    an_same(an_first, nt + nx, an_again, mt + mx, "two analyzers");

    /* A NULL text is an empty one. */
    uint32_t p0;
    FUZZ_CHECK(an_run(an_warm, NULL, xlen, 7, an_again, AN_MAX_TOKENS, &p0) == 0 && p0 == 7,
               "NULL text");

    free(title);
    free(text);
    return 0;
}
