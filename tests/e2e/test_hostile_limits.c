/*
 * test_hostile_limits.c - every documented limit (README, "Limits"), just
 * at it and just over it, through the real binaries:
 *   term length      64 bytes after folding: a 64-byte word is indexed and
 *                    found, a 65-byte one is not indexed, still takes a
 *                    position (no phrase across it) and is counted in the
 *                    run's summary; the same for words of astral-plane
 *                    letters that fold to one byte each;
 *   document size    --max-doc-mb: a text file and a JSONL document of
 *                    exactly the limit are indexed, one byte more skipped;
 *   positions        ANALYZER_MAX_POSITIONS per document: a document whose
 *                    last token takes the last position is indexed whole;
 *                    one token more and that token is not indexed, with a
 *                    warning naming the document, a count in the summary
 *                    and exit status 1; replacing the cut document (its
 *                    terms are counted again for the deletions file) leaves
 *                    an index that passes --verify;
 *   query            1,024 words, 32 levels of parentheses, 65,536 bytes,
 *                    -k 100000: accepted; one more of any: exit 2 with a
 *                    message.
 * SE_HOSTILE_SCALE below 1 (make valgrind) leaves out the positions case,
 * whose documents are 34 MB each (the analyzer's unit tests cover the limit
 * in-process).
 */
#include <criterion/criterion.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/analyzer.h"
#include "searcher/query.h"
#include "tests/e2e/expect.h"
#include "tests/support/e2e.h"
#include "tests/support/fsutil.h"
#include "tests/support/run.h"

#define TIMEOUT 300.0

static char *g_tmp;
static char g_index[4096];

static void setup(void)
{
    g_tmp = fs_mkdtemp_fast("se_e2e_limits_");
    cr_assert_not_null(g_tmp, "mkdtemp failed");
    cr_assert_eq(fs_join(g_index, sizeof g_index, g_tmp, "index"), 0);
}

static void teardown(void)
{
    if (g_tmp) fs_rm_rf(g_tmp);
    free(g_tmp);
    g_tmp = NULL;
}

TestSuite(limits, .init = setup, .fini = teardown, .timeout = 600);

static const char *P(const char *rel)
{
    static char ring[8][4096];
    static int next;
    char *b = ring[next++ % 8];
    cr_assert_eq(fs_join(b, 4096, g_tmp, rel), 0);
    return b;
}

/* n copies of the UTF-8 character c, then a NUL; malloc'd. */
static char *repeat_char(const char *c, size_t n)
{
    size_t k = strlen(c);
    char *s = malloc(n * k + 1);
    cr_assert_not_null(s);
    for (size_t i = 0; i < n; i++) memcpy(s + i * k, c, k);
    s[n * k] = '\0';
    return s;
}

/* Number of hits of `query` (exit 0 with hits or 1 without). */
static size_t hits(const char *query)
{
    run_result r;
    const char *args[] = {"-i", g_index, "--json", "--no-snippets", "-k", "100", "--", query};
    e2e_runv(&r, TIMEOUT, "search", args, 8);
    e2e_hits h;
    char why[512];
    cr_assert_eq(e2e_parse_hits(r.out, 0, &h, why, sizeof why), 0, "%s", why);
    EXPECT_EXIT(&r, h.n ? 0 : 1, query);
    size_t n = h.n;
    e2e_hits_free(&h);
    run_result_free(&r);
    return n;
}

static void verify_ok(void)
{
    run_result r;
    e2e_run(&r, TIMEOUT, "index", "-i", g_index, "--verify", NULL);
    EXPECT_EXIT(&r, 0, "index --verify");
    run_result_free(&r);
}

Test(limits, term_length_at_and_over_64_bytes)
{
    char *at = repeat_char("q", 64), *over = repeat_char("r", 65);
    /* Mathematical bold small s / t (4 bytes each, folding to 1 byte). */
    char *bold_at = repeat_char("\xF0\x9D\x90\xAC", 64),
         *bold_over = repeat_char("\xF0\x9D\x90\xAD", 65);
    size_t cap = 4096;
    char *text = malloc(cap);
    cr_assert_not_null(text);
    snprintf(text, cap, "Words at the limit\n\nalpha %s omega %s delta %s gamma %s epsilon\n", at,
             over, bold_at, bold_over);
    cr_assert_eq(fs_write_str(P("words.txt"), text), 0);
    run_result r;
    e2e_run(&r, TIMEOUT, "index", "-i", g_index, P("words.txt"), NULL);
    EXPECT_EXIT(&r, 0, "index words at the term length limit");
    EXPECT_STDERR_HAS(&r,
                      "0 input(s) skipped, 0 repaired (invalid UTF-8), 2 over-long token(s) "
                      "not indexed",
                      "the summary counts the two over-long words");
    run_result_free(&r);

    cr_assert_eq(hits(at), 1, "a 64-byte word is a term");
    cr_assert_eq(hits(over), 0, "a 65-byte word is not");
    char *s = repeat_char("s", 64);
    cr_assert_eq(hits(s), 1, "64 bold letters fold to a 64-byte term");
    cr_assert_eq(hits(bold_at), 1, "the bold query folds the same way");
    cr_assert_eq(hits(bold_over), 0, "65 bold letters fold to 65 bytes: not a term");
    /* The over-long word keeps its position: no phrase matches across it. */
    snprintf(text, cap, "\"alpha %s\"", at);
    cr_assert_eq(hits(text), 1);
    cr_assert_eq(hits("\"omega delta\""), 0);
    cr_assert_eq(hits("omega delta"), 1);
    cr_assert_eq(hits("\"gamma epsilon\""), 0);
    verify_ok();
    free(s);
    free(text);
    free(at);
    free(over);
    free(bold_at);
    free(bold_over);
}

/* A text file of exactly `size` bytes: a title line, then words. */
static void write_text_of_size(const char *path, size_t size)
{
    char *s = malloc(size + 1);
    cr_assert_not_null(s);
    const char *head = "Sized document\n\nsizemark ";
    size_t k = strlen(head);
    memcpy(s, head, k);
    for (size_t i = k; i < size; i++) s[i] = (i - k) % 6 == 5 ? ' ' : (char)('a' + (i % 7));
    s[size - 1] = '\n';
    cr_assert_eq(fs_write_file(path, s, size), 0);
    free(s);
}

/* A JSONL line whose title and text have size bytes together. */
static void append_jsonl_of_size(FILE *f, const char *id, size_t size)
{
    const char *title = "Sized", *mark = "jsonmark ";
    fprintf(f, "{\"id\": \"%s\", \"title\": \"%s\", \"text\": \"%s", id, title, mark);
    for (size_t i = strlen(title) + strlen(mark); i < size; i++)
        fputc(i % 6 == 5 ? ' ' : 'a' + (int)(i % 7), f);
    fputs("\"}\n", f);
}

Test(limits, document_size_at_and_over_max_doc_mb)
{
    const size_t mb = 1 << 20;
    cr_assert_eq(mkdir(P("docs"), 0755), 0);
    write_text_of_size(P("docs/at.txt"), mb);
    write_text_of_size(P("docs/over.txt"), mb + 1);
    FILE *f = fopen(P("docs/sized.jsonl"), "w");
    cr_assert_not_null(f);
    append_jsonl_of_size(f, "json-at", mb);
    append_jsonl_of_size(f, "json-over", mb + 1);
    cr_assert_eq(fclose(f), 0);
    run_result r;
    e2e_run(&r, TIMEOUT, "index", "-i", g_index, "--max-doc-mb", "1", P("docs"), NULL);
    EXPECT_EXIT(&r, 1, "index documents at and over 1 MiB");
    char want[4200];
    snprintf(want, sizeof want, "warning: %s: larger than 1048576 bytes (file is 1048577 bytes)",
             P("docs/over.txt"));
    EXPECT_STDERR_HAS(&r, want, "the text file over the limit");
    snprintf(want, sizeof want, "warning: %s:2: document larger than 1048576 bytes, skipped",
             P("docs/sized.jsonl"));
    EXPECT_STDERR_HAS(&r, want, "the JSONL document over the limit");
    EXPECT_STDERR_HAS(&r, "index: 2 added,", "the two at the limit are indexed");
    EXPECT_STDERR_HAS(&r, "2 input(s) skipped", "the two over it are counted");
    cr_assert(strstr(r.err, "at.txt") == NULL && strstr(r.err, ":1: ") == NULL,
              "no warning about the documents at the limit:\n%s", r.err);
    run_result_free(&r);
    cr_assert_eq(hits("sizemark"), 1);
    cr_assert_eq(hits("jsonmark"), 1);
    verify_ok();
}

/* A JSONL document "Alpha beta" (positions 0 and 1; the text starts at 3)
 * with ntext single-letter tokens, the last one `last`. */
static void write_positions_doc(const char *path, const char *id, uint32_t ntext, const char *last)
{
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fprintf(f, "{\"id\": \"%s\", \"title\": \"Alpha beta\", \"text\": \"", id);
    static const char letters[] = "abcdefgh";
    for (uint32_t i = 0; i + 1 < ntext; i++) {
        fputc(letters[i % 8], f);
        fputc(' ', f);
    }
    fprintf(f, "%s\"}\n", last);
    cr_assert_eq(fclose(f), 0);
}

static double scale(void)
{
    const char *s = getenv("SE_HOSTILE_SCALE");
    double v = s && *s ? strtod(s, NULL) : 1.0;
    return v > 0 ? v : 1.0;
}

Test(limits, positions_at_and_over_the_limit)
{
    if (scale() < 1.0) {
        cr_log_info("SE_HOSTILE_SCALE < 1: the 34 MB documents of this test are left out");
        return;
    }
    const uint32_t limit = ANALYZER_MAX_POSITIONS;
    char want[512];
    run_result r;

    /* At (pos-at): title 0-1, gap 2, text 3 .. limit - 1.  Over
     * (pos-over): one token more, and that one is cut.  Both go into one
     * segment, so that replacing the cut one below writes a deletions file
     * beside a live document. */
    write_positions_doc(P("at.jsonl"), "pos-at", limit - 3, "zzlast");
    write_positions_doc(P("over.jsonl"), "pos-over", limit - 2, "zzcut");
    e2e_run(&r, TIMEOUT, "index", "-i", g_index, P("at.jsonl"), P("over.jsonl"), NULL);
    EXPECT_EXIT(&r, 1, "a document one token over the limit");
    snprintf(want, sizeof want,
             "warning: %s:1: document pos-over has more than %lu positions: only the first %lu "
             "are indexed",
             P("over.jsonl"), (unsigned long)limit, (unsigned long)limit);
    EXPECT_STDERR_HAS(&r, want, "the warning names the document");
    cr_assert(strstr(r.err, "pos-at") == NULL, "no warning about the document at the limit:\n%s",
              r.err);
    snprintf(want, sizeof want, "index: 1 document(s) cut at %lu positions", (unsigned long)limit);
    EXPECT_STDERR_HAS(&r, want, "the summary counts it");
    snprintf(want, sizeof want, "indexed 2 documents (%lu tokens", 2 * ((unsigned long)limit - 1));
    EXPECT_STDERR_HAS(&r, want, "both up to the last position");
    EXPECT_STDERR_HAS(&r, "in 1 segment(s)", "one segment");
    run_result_free(&r);
    cr_assert_eq(hits("zzlast"), 1, "the token at the last position is indexed");
    cr_assert_eq(hits("zzcut"), 0, "the token past the limit is not indexed");
    verify_ok();

    /* Replacing the cut document counts its terms again for the deletions
     * file; they must be the indexed ones (zzcut is not among them). */
    cr_assert_eq(
        fs_write_str(P("small.jsonl"),
                     "{\"id\": \"pos-over\", \"title\": \"Small\", \"text\": \"zzcut\"}\n"),
        0);
    e2e_run(&r, TIMEOUT, "index", "-i", g_index, "--no-merge", P("small.jsonl"), NULL);
    EXPECT_EXIT(&r, 0, "replace the cut document");
    EXPECT_STDERR_HAS(&r, "0 added, 1 replaced", "replaced");
    run_result_free(&r);
    verify_ok();
    cr_assert_eq(hits("zzcut"), 1);
    cr_assert_eq(hits("alpha"), 1, "only pos-at still has the title Alpha beta");
    e2e_run(&r, TIMEOUT, "index", "-i", g_index, "--stats", NULL);
    EXPECT_EXIT(&r, 0, "--stats");
    cr_assert(strstr(r.out, "1 deleted"), "the cut document's old copy is a deletion:\n%s", r.out);
    run_result_free(&r);
}

/* A query of n words of `len` letters each. */
static char *words_query(size_t n, size_t len)
{
    char *s = malloc(n * (len + 1) + 1);
    cr_assert_not_null(s);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (i) s[k++] = ' ';
        for (size_t j = 0; j < len; j++) s[k++] = (char)('a' + (i + j) % 26);
    }
    s[k] = '\0';
    return s;
}

static void search_status(const char *query, int want_code, const char *message)
{
    run_result r;
    const char *args[] = {"-i", g_index, "--no-snippets", "--", query};
    e2e_runv(&r, TIMEOUT, "search", args, 5);
    if (want_code == 2) {
        EXPECT_EXIT(&r, 2, message);
        EXPECT_STDERR_HAS(&r, message, "the message says which limit");
    } else {
        cr_assert(r.exit_code == 0 || r.exit_code == 1, "%s: %s\n%s", message, run_describe(&r),
                  r.err);
        EXPECT_EXIT(&r, r.exit_code, message);
    }
    run_result_free(&r);
}

Test(limits, query_words_depth_bytes_and_k)
{
    cr_assert_eq(fs_write_str(P("one.txt"), "One\n\nalpha beta gamma\n"), 0);
    run_result r;
    e2e_run(&r, TIMEOUT, "index", "-i", g_index, P("one.txt"), NULL);
    EXPECT_EXIT(&r, 0, "index");
    run_result_free(&r);

    char *q = words_query(QUERY_MAX_WORDS, 3);
    search_status(q, 0, "1024 words");
    free(q);
    q = words_query(QUERY_MAX_WORDS + 1, 3);
    search_status(q, 2, "more than 1024 words");
    free(q);

    /* 1,024 words of 63 letters and 1,023 blanks: 65,535 bytes; one more
     * letter makes 65,536 (accepted), two more 65,537. */
    q = words_query(QUERY_MAX_WORDS, 63);
    size_t n = strlen(q);
    cr_assert_eq(n, QUERY_MAX_BYTES - 1);
    char *longer = malloc(n + 3);
    cr_assert_not_null(longer);
    memcpy(longer, q, n);
    memcpy(longer + n, "xy", 3);
    longer[n + 1] = '\0';
    search_status(longer, 0, "a query of 65536 bytes");
    longer[n + 1] = 'y';
    search_status(longer, 2, "the limit is 65536 bytes");
    free(longer);
    free(q);

    char deep[256];
    size_t k = 0;
    for (int i = 0; i < QUERY_MAX_DEPTH; i++) deep[k++] = '(';
    memcpy(deep + k, "alpha", 5);
    k += 5;
    for (int i = 0; i < QUERY_MAX_DEPTH; i++) deep[k++] = ')';
    deep[k] = '\0';
    search_status(deep, 0, "32 levels of parentheses");
    char deeper[260];
    snprintf(deeper, sizeof deeper, "(%s)", deep);
    search_status(deeper, 2, "nests more than 32 levels deep");

    e2e_run(&r, TIMEOUT, "search", "-i", g_index, "-k", "100000", "alpha", NULL);
    EXPECT_EXIT(&r, 0, "-k 100000");
    run_result_free(&r);
    e2e_run(&r, TIMEOUT, "search", "-i", g_index, "-k", "100001", "alpha", NULL);
    EXPECT_EXIT(&r, 2, "-k 100001");
    EXPECT_STDERR_HAS(&r, "-k takes a number from 1 to 100000", "-k 100001");
    run_result_free(&r);
}
