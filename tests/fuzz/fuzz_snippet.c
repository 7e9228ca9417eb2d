/*
 * fuzz_snippet.c - snippet selection and rendering (searcher/snippet.h) on
 * arbitrary document text and query terms.
 *
 * Input: byte 0 is the window (0 = whole text, as for titles), byte 1 picks
 * how the highlight is made, then the text.  The text is first repaired to
 * valid UTF-8 the way the indexer stores documents (each invalid byte
 * becomes U+FFFD here; the store only ever holds valid UTF-8).  The
 * highlight's terms and phrases are taken from the text's own tokens, so
 * that they actually match: every few tokens a single term, a run of
 * consecutive tokens as a phrase (with its real position offsets), and some
 * terms that occur nowhere.
 *
 * Checked: snippet_make succeeds; the result is valid UTF-8 with no NUL;
 * highlight markers (bytes that do not occur in the text) open and close in
 * turn; with the markers and ellipses removed and white space collapsed,
 * the snippet is a piece of the collapsed text.
 */
#include "tests/fuzz/fuzz_util.h"

#include "common/analyzer.h"
#include "searcher/search.h"
#include "searcher/snippet.h"

#define SN_MAX_TERMS   64
#define SN_MAX_PHRASES 8
#define SN_PHRASE_MAX  80 /* longer than the 64 terms snippet.c highlights */

static analyzer *sn_an;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    if (analyzer_new(&sn_an) != SE_OK) abort();
    return 0;
}

/* Replace each byte that does not start a valid sequence with U+FFFD. */
static char *sn_repair(const uint8_t *s, size_t n, size_t *out_len)
{
    char *o = malloc(3 * n + 1);
    if (!o) abort();
    size_t j = 0;
    for (size_t i = 0; i < n;) {
        size_t k = 1;
        while (k <= 4 && i + k <= n && !fuzz_utf8_valid(s + i, k)) k++;
        if (k <= 4 && i + k <= n) {
            memcpy(o + j, s + i, k);
            j += k;
            i += k;
        } else {
            memcpy(o + j, "\xEF\xBF\xBD", 3);
            j += 3;
            i++;
        }
    }
    o[j] = 0;
    *out_len = j;
    return o;
}

static int sn_is_space(char c)
{
    return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

/* s with runs of the snippet's white space folded to one space, trimmed. */
static char *sn_collapse(const char *s, size_t n, size_t *out_len)
{
    char *o = malloc(n + 1);
    if (!o) abort();
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        if (sn_is_space(s[i])) {
            if (j > 0 && o[j - 1] != ' ') o[j++] = ' ';
        } else {
            o[j++] = s[i];
        }
    }
    while (j > 0 && o[j - 1] == ' ') j--;
    o[j] = 0;
    *out_len = j;
    return o;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_bytes in = {data, size};
    size_t window = fuzz_u8(&in) % 72;
    uint8_t mode = fuzz_u8(&in);
    size_t len;
    char *text = sn_repair(in.p, in.n, &len);

    /* Collect the text's tokens (copies: token text is the analyzer's). */
    static char terms[SN_MAX_TERMS][ANALYZER_MAX_TERM_BYTES + 1];
    static uint32_t tpos[SN_MAX_TERMS];
    size_t nterms_seen = 0;
    analyzer_reset(sn_an, text, len, 0);
    analyzer_token t;
    while (nterms_seen < SN_MAX_TERMS && analyzer_next(sn_an, &t)) {
        memcpy(terms[nterms_seen], t.term, t.term_len + 1);
        tpos[nterms_seen] = t.position;
        nterms_seen++;
    }

    /* The highlight: single terms every (mode % 5 + 1) tokens, a phrase of
     * consecutive tokens every (mode / 5 % 7 + 2) tokens, two absent terms. */
    const char *single[SN_MAX_TERMS + 2];
    size_t nsingle = 0;
    size_t step = mode % 5 + 1;
    for (size_t i = mode % 3; i < nterms_seen; i += step) single[nsingle++] = terms[i];
    single[nsingle++] = "zzzqqqabsent";
    single[nsingle++] = "\xE2\x80\x9C"; /* not a term the analyzer makes */

    search_phrase phrases[SN_MAX_PHRASES];
    static const char *pterms[SN_MAX_PHRASES][SN_PHRASE_MAX];
    static uint32_t poffs[SN_MAX_PHRASES][SN_PHRASE_MAX];
    size_t nph = 0, plen = mode / 5 % 7 + 2;
    for (size_t i = 0; i < nterms_seen && nph < SN_MAX_PHRASES; i += plen + 1) {
        size_t k = 0;
        for (; k < plen && i + k < nterms_seen; k++) {
            pterms[nph][k] = terms[i + k];
            poffs[nph][k] = tpos[i + k] - tpos[i];
        }
        phrases[nph].nterms = k;
        phrases[nph].terms = pterms[nph];
        phrases[nph].offsets = poffs[nph];
        nph++;
    }
    if (mode & 0x80 && nph < SN_MAX_PHRASES && nterms_seen > 0) {
        /* A phrase longer than 64 terms, all the same word. */
        for (size_t k = 0; k < SN_PHRASE_MAX; k++) {
            pterms[nph][k] = terms[0];
            poffs[nph][k] = (uint32_t)k;
        }
        phrases[nph].nterms = SN_PHRASE_MAX;
        phrases[nph].terms = pterms[nph];
        phrases[nph].offsets = poffs[nph];
        nph++;
    }
    search_highlight hl = {nsingle, single, nph, phrases};
    if (mode & 0x40) hl.nterms = 0; /* phrases only */

    /* Markers: bytes that cannot occur in valid UTF-8 text would make the
     * result invalid, so use control bytes that the text does not contain. */
    int markers_unique = memchr(text, '\x01', len) == NULL && memchr(text, '\x02', len) == NULL;
    snippet_options opt = {window, "\x01", "\x02"};
    char *snip = NULL;
    int rc = snippet_make(sn_an, &hl, text, len, &opt, &snip);
    FUZZ_CHECK(rc == SE_OK && snip != NULL, "snippet_make failed: %d", rc);
    size_t slen = strlen(snip);
    FUZZ_CHECK(fuzz_utf8_valid((const uint8_t *)snip, slen), "snippet is not valid UTF-8");

    if (markers_unique && memchr(text, 0, len) == NULL) {
        /* Markers alternate; strip them and the ellipses. */
        char *plain = malloc(slen + 1);
        if (!plain) abort();
        size_t j = 0;
        int inside = 0;
        for (size_t i = 0; i < slen; i++) {
            if (snip[i] == '\x01') {
                FUZZ_CHECK(!inside, "nested highlight at %zu", i);
                inside = 1;
            } else if (snip[i] == '\x02') {
                FUZZ_CHECK(inside, "highlight closed without opening at %zu", i);
                inside = 0;
            } else {
                plain[j++] = snip[i];
            }
        }
        FUZZ_CHECK(!inside, "highlight left open");
        plain[j] = 0;
        /* A "…" marks a cut at either end; what lies between is text.  (If
         * the text itself has one there, dropping it still leaves a piece
         * of the text.) */
        const char *ell = "\xE2\x80\xA6";
        char *body = plain;
        size_t blen = j;
        if (blen >= 3 && memcmp(body, ell, 3) == 0) {
            body += 3;
            blen -= 3;
        }
        if (blen >= 3 && memcmp(body + blen - 3, ell, 3) == 0) blen -= 3;
        size_t clen, blen2;
        char *ctext = sn_collapse(text, len, &clen);
        char *cbody = sn_collapse(body, blen, &blen2);
        char *cb = cbody;
        while (*cb == ' ') {
            cb++;
            blen2--;
        }
        FUZZ_CHECK(blen2 == 0 || memmem(ctext, clen, cb, blen2) != NULL,
                   "snippet text is not a piece of the document: [%s]", cb);
        free(ctext);
        free(cbody);
        free(plain);
    }
    free(snip);
    free(text);
    return 0;
}
