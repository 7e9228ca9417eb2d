/*
 * test_output.c - end-to-end tests of bin/search's output formats over an
 * index of corpus/ (built once per test in a mkdtemp directory):
 *
 *   - --json: every line a JSON object with rank, id, score, title and
 *     snippet; ranks 1..n, scores descending; --no-snippets drops the
 *     snippet; a control character in a document stays escaped JSON;
 *   - --format trec with --batch: "qid Q0 docid rank score tag" for
 *     "qid<TAB>query" lines and plain lines (qid = line number), the same
 *     documents in the same order as --json; a bad query in the batch is
 *     reported by its qid and the others still run; --threads N gives the
 *     same bytes as one thread;
 *   - -k limits the hits;
 *   - highlighting in plain (non-tty) output: "**" around the matched words,
 *     a quoted phrase inside one marked run; --color always uses SGR bold.
 */
#include <criterion/criterion.h>

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tests/e2e/expect.h"
#include "tests/support/e2e.h"
#include "tests/support/fsutil.h"
#include "tests/support/run.h"

#define CORPUS  "corpus"
#define TIMEOUT 60.0

/* ------------------------------------------------------------- fixture */

static char *g_tmp;
static char g_index[4096];

static void setup(void)
{
    g_tmp = fs_mkdtemp("se_e2e_output_");
    cr_assert_not_null(g_tmp, "mkdtemp failed");
    cr_assert_eq(fs_join(g_index, sizeof g_index, g_tmp, "index"), 0);
    run_result r;
    e2e_run(&r, TIMEOUT, "index", "-q", "-i", g_index, CORPUS, NULL);
    EXPECT_EXIT(&r, 0, "index corpus/");
    run_result_free(&r);
}

static void teardown(void)
{
    if (g_tmp) fs_rm_rf(g_tmp);
    free(g_tmp);
    g_tmp = NULL;
}

TestSuite(output, .init = setup, .fini = teardown, .timeout = 120);

/* ------------------------------------------------------------- helpers */

static void search_json(const char *query, const char *k, int want_snippet, e2e_hits *h)
{
    run_result r;
    if (want_snippet)
        e2e_run(&r, TIMEOUT, "search", "-i", g_index, "--json", "-k", k, query, NULL);
    else
        e2e_run(&r, TIMEOUT, "search", "-i", g_index, "--json", "--no-snippets", "-k", k, query,
                NULL);
    char why[512];
    cr_assert_eq(e2e_parse_hits(r.out, want_snippet, h, why, sizeof why), 0, "%s: %s", query, why);
    EXPECT_EXIT(&r, h->n ? 0 : 1, query);
    run_result_free(&r);
}

/* The marked runs of s (text between an opening and a closing marker),
 * lower-cased, white space folded; returns how many were found. */
static size_t marked_runs(const char *s, const char *open, const char *close, char runs[][128],
                          size_t max)
{
    size_t n = 0, olen = strlen(open), clen = strlen(close);
    const char *p = s;
    while ((p = strstr(p, open)) != NULL) {
        const char *start = p + olen, *end = strstr(start, close);
        cr_assert_not_null(end, "unclosed highlight in: %s", s);
        if (n < max) {
            size_t m = 0;
            for (const char *q = start; q < end && m < 127; q++) {
                unsigned char c = (unsigned char)*q;
                if (isspace(c)) {
                    if (m && runs[n][m - 1] != ' ') runs[n][m++] = ' ';
                } else {
                    runs[n][m++] = (char)tolower(c);
                }
            }
            runs[n][m] = 0;
        }
        n++;
        p = end + clen;
    }
    return n;
}

/* ------------------------------------------------------------- tests */

Test(output, json_lines_are_objects_with_every_field)
{
    e2e_hits h;
    search_json("mi5 surveillance", "10", 1, &h);
    cr_assert_eq(h.n, 5, "every article mentions MI5; got %zu hits", h.n);
    for (size_t i = 0; i < h.n; i++) {
        const e2e_hit *x = &h.hits[i];
        cr_assert_eq(x->rank, (long)i + 1, "ranks must be 1..n");
        cr_assert_gt(strlen(x->id), 4);
        cr_assert(strstr(x->id, ".txt"), "id %s is not an article file name", x->id);
        cr_assert_gt(x->score, 0.0);
        if (i) cr_assert_leq(x->score, h.hits[i - 1].score, "scores must not increase");
        cr_assert_gt(strlen(x->title), 0, "%s has an empty title", x->id);
        cr_assert_gt(strlen(x->snippet), 0, "%s has an empty snippet", x->id);
        cr_assert_null(x->qid, "no qid outside --batch");
    }
    e2e_hits_free(&h);

    search_json("mi5 surveillance", "10", 0, &h);
    cr_assert_eq(h.n, 5);
    for (size_t i = 0; i < h.n; i++) cr_assert_null(h.hits[i].snippet, "--no-snippets");
    e2e_hits_free(&h);
}

Test(output, json_escapes_control_characters)
{
    /* A document whose title and text hold a tab, an escape and a quote. */
    char dir[4096], file[4096], index2[4096];
    cr_assert_eq(fs_join(dir, sizeof dir, g_tmp, "odd"), 0);
    cr_assert_eq(mkdir(dir, 0755), 0);
    cr_assert_eq(fs_join(file, sizeof file, dir, "odd.txt"), 0);
    cr_assert_eq(fs_write_str(file, "Tab\there \"quoted\" \x1b[31mred\n"
                                    "Body with zanzibarword and a \\ backslash\x01.\n"),
                 0);
    cr_assert_eq(fs_join(index2, sizeof index2, g_tmp, "index2"), 0);
    run_result r;
    e2e_run(&r, TIMEOUT, "index", "-q", "-i", index2, dir, NULL);
    EXPECT_EXIT(&r, 0, "index odd.txt");
    run_result_free(&r);

    e2e_run(&r, TIMEOUT, "search", "-i", index2, "--json", "zanzibarword", NULL);
    EXPECT_EXIT(&r, 0, "search --json");
    e2e_hits h;
    char why[512];
    cr_assert_eq(e2e_parse_hits(r.out, 1, &h, why, sizeof why), 0, "%s", why);
    cr_assert_eq(h.n, 1);
    cr_assert_str_eq(h.hits[0].title, "Tab\there \"quoted\" \x1b[31mred");
    cr_assert(strstr(h.hits[0].snippet, "**zanzibarword**"), "snippet: %s", h.hits[0].snippet);
    e2e_hits_free(&h);
    run_result_free(&r);

    /* Plain text output never passes a raw escape through. */
    e2e_run(&r, TIMEOUT, "search", "-i", index2, "zanzibarword", NULL);
    EXPECT_EXIT(&r, 0, "search (text)");
    cr_assert_null(memchr(r.out, 0x1b, r.out_len), "escape character in text output:\n%s", r.out);
    run_result_free(&r);
}

Test(output, k_limits_the_hits)
{
    const char *ks[] = {"1", "2", "4", "5", "100"};
    const size_t want[] = {1, 2, 4, 5, 5};
    e2e_hits all;
    search_json("mi5 OR the", "100", 1, &all);
    cr_assert_eq(all.n, 5);
    for (size_t i = 0; i < sizeof ks / sizeof ks[0]; i++) {
        e2e_hits h;
        search_json("mi5 OR the", ks[i], 1, &h);
        cr_assert_eq(h.n, want[i], "-k %s: %zu hits", ks[i], h.n);
        /* The top k are a prefix of the full ranking. */
        for (size_t j = 0; j < h.n; j++) cr_assert_str_eq(h.hits[j].id, all.hits[j].id);
        e2e_hits_free(&h);
    }
    e2e_hits_free(&all);

    run_result r;
    e2e_run(&r, TIMEOUT, "search", "-i", g_index, "-k", "2", "--exhaustive", "mi5 OR the", NULL);
    EXPECT_EXIT(&r, 0, "search -k 2 --exhaustive (text)");
    cr_assert(strstr(r.out, "5 matching documents of 5, top 2"), "summary line:\n%s", r.out);
    cr_assert(strstr(r.out, "\n 2. ") && !strstr(r.out, "\n 3. "), "text hits:\n%s", r.out);
    run_result_free(&r);
    /* Pruning may stop counting early: the count is then a lower bound and
     * says so; the hits are the same. */
    e2e_run(&r, TIMEOUT, "search", "-i", g_index, "-k", "2", "mi5 OR the", NULL);
    EXPECT_EXIT(&r, 0, "search -k 2 (text)");
    cr_assert(strstr(r.out, " matching documents of 5, top 2"), "summary line:\n%s", r.out);
    cr_assert(strncmp(r.out, "5 matching", 10) == 0 || strncmp(r.out, "at least ", 9) == 0,
              "summary line:\n%s", r.out);
    cr_assert(strstr(r.out, "\n 2. ") && !strstr(r.out, "\n 3. "), "text hits:\n%s", r.out);
    run_result_free(&r);
}

Test(output, trec_batch_lines)
{
    char batch[4096];
    cr_assert_eq(fs_join(batch, sizeof batch, g_tmp, "queries.tsv"), 0);
    cr_assert_eq(fs_write_str(batch, "q1\tethical responsibility\n"
                                     "mi5 surveillance powers\n"
                                     "\n"
                                     "q4\txylophonequux\n"
                                     "q5\t\"ethical responsibility\"\r\n"),
                 0);
    run_result r;
    e2e_run(&r, TIMEOUT, "search", "-i", g_index, "--format", "trec", "--tag", "mytag", "-k", "3",
            "--batch", batch, NULL);
    EXPECT_EXIT(&r, 0, "search --batch --format trec");

    /* Each line: qid Q0 docid rank score tag. */
    struct {
        const char *qid;
        size_t lines;
    } seen[] = {{"q1", 0}, {"2", 0}, {"q4", 0}, {"q5", 0}};
    char last_qid[64] = "";
    int last_rank = 0;
    double last_score = 0;
    size_t nlines = 0;
    for (char *line = strtok(r.out, "\n"); line; line = strtok(NULL, "\n")) {
        char qid[64], q0[8], docid[512], tag[64], extra[8];
        int rank;
        double score;
        int got = sscanf(line, "%63s %7s %511s %d %lf %63s %7s", qid, q0, docid, &rank, &score, tag,
                         extra);
        cr_assert_eq(got, 6, "not a TREC run line: '%s'", line);
        cr_assert_str_eq(q0, "Q0");
        cr_assert_str_eq(tag, "mytag");
        cr_assert(strstr(docid, ".txt"), "docid %s", docid);
        if (strcmp(qid, last_qid) != 0) {
            cr_assert_eq(rank, 1, "ranks start at 1 for each query: '%s'", line);
        } else {
            cr_assert_eq(rank, last_rank + 1, "ranks consecutive: '%s'", line);
            cr_assert_leq(score, last_score, "scores descending: '%s'", line);
        }
        cr_assert_leq(rank, 3, "-k 3");
        size_t j = 0;
        while (j < 4 && strcmp(seen[j].qid, qid) != 0) j++;
        cr_assert_lt(j, 4, "unexpected qid %s", qid);
        seen[j].lines++;
        snprintf(last_qid, sizeof last_qid, "%s", qid);
        last_rank = rank;
        last_score = score;
        nlines++;
    }
    cr_assert_eq(seen[0].lines, 3, "q1 lines");
    cr_assert_eq(seen[1].lines, 3, "plain line 2 gets qid 2");
    cr_assert_eq(seen[2].lines, 0, "q4 has no hits");
    cr_assert_eq(seen[3].lines, 3, "q5 lines (CRLF line end)");
    cr_assert_eq(nlines, 9);
    run_result_free(&r);
}

Test(output, trec_and_json_agree)
{
    char batch[4096];
    cr_assert_eq(fs_join(batch, sizeof batch, g_tmp, "one.tsv"), 0);
    cr_assert_eq(fs_write_str(batch, "7\tsocial media companies\n"), 0);
    run_result r;
    e2e_run(&r, TIMEOUT, "search", "-i", g_index, "--format", "trec", "--batch", batch, NULL);
    EXPECT_EXIT(&r, 0, "trec");
    e2e_hits h;
    search_json("social media companies", "10", 0, &h);
    size_t i = 0;
    for (char *line = strtok(r.out, "\n"); line; line = strtok(NULL, "\n"), i++) {
        char docid[512];
        int rank;
        cr_assert_eq(sscanf(line, "7 Q0 %511s %d", docid, &rank), 2, "line '%s'", line);
        cr_assert_lt(i, h.n);
        cr_assert_str_eq(docid, h.hits[i].id, "rank %d differs between trec and json", rank);
    }
    cr_assert_eq(i, h.n);
    e2e_hits_free(&h);
    run_result_free(&r);

    /* --batch with --json carries the qid. */
    e2e_run(&r, TIMEOUT, "search", "-i", g_index, "--json", "--batch", batch, NULL);
    EXPECT_EXIT(&r, 0, "json batch");
    char why[512];
    cr_assert_eq(e2e_parse_hits(r.out, 1, &h, why, sizeof why), 0, "%s", why);
    cr_assert_gt(h.n, 0);
    for (i = 0; i < h.n; i++) cr_assert_str_eq(h.hits[i].qid, "7");
    e2e_hits_free(&h);
    run_result_free(&r);
}

Test(output, bad_query_in_a_batch_is_reported_and_the_rest_run)
{
    char batch[4096];
    cr_assert_eq(fs_join(batch, sizeof batch, g_tmp, "bad.tsv"), 0);
    cr_assert_eq(fs_write_str(batch, "a\tmi5\nb\t(unclosed\nc\tsurveillance\n"), 0);
    run_result r;
    e2e_run(&r, TIMEOUT, "search", "-i", g_index, "--format", "trec", "--batch", batch, NULL);
    EXPECT_EXIT(&r, 2, "batch with a bad query");
    EXPECT_STDERR_HAS(&r, "query b", "batch with a bad query");
    EXPECT_STDERR_HAS(&r, "column", "batch with a bad query");
    cr_assert(strstr(r.out, "a Q0 "), "query a ran:\n%s", r.out);
    cr_assert(strstr(r.out, "c Q0 "), "query c ran:\n%s", r.out);
    run_result_free(&r);
}

/* --threads: the same bytes as one thread (json and trec carry no
 * timings), in input order, for a batch longer than the thread count with a
 * bad query among them; a bad --threads value is a usage error. */
Test(output, threaded_batch_equals_one_thread)
{
    static const char *const words[] = {"mi5",     "surveillance", "ethical",    "responsibility",
                                        "media",   "companies",    "terror",     "threat",
                                        "\"cyber", "powers",       "government", "xylophonequux"};
    char batch[4096], buf[16384] = "";
    cr_assert_eq(fs_join(batch, sizeof batch, g_tmp, "many.tsv"), 0);
    size_t len = 0, nw = sizeof words / sizeof *words;
    for (size_t i = 0; i < 300; i++)
        len += (size_t)snprintf(buf + len, sizeof buf - len, "q%zu\t%s %s\n", i, words[i % nw],
                                words[(i * 7 + 3) % nw]);
    cr_assert_lt(len, sizeof buf);
    cr_assert_eq(fs_write_str(batch, buf), 0);
    const char *formats[] = {"trec", "json"};
    for (size_t f = 0; f < 2; f++) {
        run_result one, many;
        e2e_run(&one, TIMEOUT, "search", "-i", g_index, "--format", formats[f], "-k", "5",
                "--batch", batch, NULL);
        e2e_run(&many, TIMEOUT, "search", "-i", g_index, "--format", formats[f], "-k", "5",
                "--threads", "3", "--batch", batch, NULL);
        cr_assert_eq(one.exit_code, 2, "the unbalanced quote is a bad query (%s)", formats[f]);
        cr_assert_eq(many.exit_code, one.exit_code, "same exit status (%s)", formats[f]);
        cr_assert_gt(one.out_len, 1000, "the batch found something (%s)", formats[f]);
        cr_assert_eq(many.out_len, one.out_len, "same output length (%s)", formats[f]);
        cr_assert_eq(memcmp(many.out, one.out, one.out_len), 0, "same output (%s)", formats[f]);
        cr_assert_str_eq(many.err, one.err, "same messages (%s)", formats[f]);
        run_result_free(&one);
        run_result_free(&many);
    }
    run_result r;
    e2e_run(&r, TIMEOUT, "search", "-i", g_index, "--threads", "x", "--batch", batch, NULL);
    EXPECT_EXIT(&r, 2, "--threads x");
    EXPECT_STDERR_HAS(&r, "--threads", "--threads x");
    run_result_free(&r);
}

Test(output, words_are_highlighted_in_plain_output)
{
    run_result r;
    e2e_run(&r, TIMEOUT, "search", "-i", g_index, "ethical responsibility", NULL);
    EXPECT_EXIT(&r, 0, "search (text)");
    cr_assert_null(memchr(r.out, 0x1b, r.out_len), "no SGR codes when stdout is no terminal");
    char runs[256][128];
    size_t n = marked_runs(r.out, "**", "**", runs, 256);
    cr_assert_gt(n, 0, "no highlights:\n%s", r.out);
    int ethical = 0;
    for (size_t i = 0; i < n && i < 256; i++) {
        /* Every marked run is one of the query's words (in some form). */
        int ok = strncmp(runs[i], "ethic", 5) == 0 || strncmp(runs[i], "respons", 7) == 0;
        cr_assert(ok, "unexpected highlighted run '%s' in:\n%s", runs[i], r.out);
        cr_assert_null(strchr(runs[i], ' '), "separate words are marked separately: '%s'", runs[i]);
        ethical += strcmp(runs[i], "ethical") == 0;
    }
    cr_assert_geq(ethical, 3, "\"ethical\" should be marked in the three snippets:\n%s", r.out);
    run_result_free(&r);
}

Test(output, phrase_is_one_highlighted_run)
{
    const char *outputs[2];
    run_result r[2];
    e2e_run(&r[0], TIMEOUT, "search", "-i", g_index, "\"ethical responsibility\"", NULL);
    e2e_run(&r[1], TIMEOUT, "search", "-i", g_index, "--json", "\"ethical responsibility\"", NULL);
    for (int t = 0; t < 2; t++) {
        EXPECT_EXIT(&r[t], 0, "phrase search");
        outputs[t] = r[t].out;
        char runs[64][128];
        size_t n = marked_runs(outputs[t], "**", "**", runs, 64);
        cr_assert_geq(n, 3, "each of the three snippets shows the phrase:\n%s", outputs[t]);
        for (size_t i = 0; i < n && i < 64; i++)
            cr_assert_str_eq(runs[i], "ethical responsibility",
                             "a phrase is highlighted as one run, only where it occurs:\n%s",
                             outputs[t]);
        run_result_free(&r[t]);
    }
}

Test(output, color_always_uses_bold)
{
    run_result r;
    e2e_run(&r, TIMEOUT, "search", "-i", g_index, "--color", "always", "mi5", NULL);
    EXPECT_EXIT(&r, 0, "--color always");
    cr_assert(strstr(r.out, "\x1b[1m") && strstr(r.out, "\x1b[0m"), "bold markers:\n%s", r.out);
    cr_assert_null(strstr(r.out, "**"), "no ** markers with colour:\n%s", r.out);
    run_result_free(&r);

    e2e_run(&r, TIMEOUT, "search", "-i", g_index, "--color", "sometimes", "mi5", NULL);
    EXPECT_EXIT(&r, 2, "--color sometimes");
    EXPECT_STDERR_HAS(&r, "--color", "--color sometimes");
    run_result_free(&r);
}

/* The explanations of bin/search's text output: under each hit "score S =
 * sum of:" and one line per contribution "C  term|phrase T: idf ..."; the
 * contributions must add up to the hit's score (4 decimals each).  With
 * `fielded`, every term line shows its title and body parts.  Returns the
 * number of hits. */
static size_t check_explanations(const run_result *r, int fielded)
{
    size_t hits = 0;
    const char *p = r->out;
    while ((p = strstr(p, "(score ")) != NULL) {
        double score = strtod(p + 7, NULL);
        const char *sum = strstr(p, "= sum of:\n");
        cr_assert_not_null(sum, "no explanation after a hit:\n%s", r->out);
        const char *line = sum + strlen("= sum of:\n");
        double total = 0;
        size_t n = 0;
        while (strncmp(line, "      ", 6) == 0) {
            char *end;
            total += strtod(line + 6, &end);
            int term = strncmp(end, "  term ", 7) == 0;
            cr_assert(term || strncmp(end, "  phrase ", 9) == 0, "explanation line: %.80s", line);
            cr_assert_not_null(strstr(line, "idf "));
            const char *eol = strchr(line, '\n');
            cr_assert_not_null(eol);
            const char *title = strstr(line, "; title tf "), *body = strstr(line, "; body tf ");
            if (fielded && term)
                cr_assert(title && body && title < eol && body < eol,
                          "no title and body parts: %.200s", line);
            else
                cr_assert(!title || title > eol, "title part where none is scored: %.200s", line);
            n++;
            line = eol + 1;
        }
        cr_assert_gt(n, 0);
        cr_assert(fabs(total - score) <= 0.0001 * (double)n + 1e-9, "%.4f != %.4f:\n%s", total,
                  score, r->out);
        hits++;
        p = line;
    }
    return hits;
}

/* --explain: the contributions add up to the score, exclusions never
 * score; with --title-weight the terms show their title and body parts and
 * still add up. */
Test(output, explain_adds_up_to_the_score)
{
    run_result r;
    e2e_run(&r, TIMEOUT, "search", "-i", g_index, "--explain", "--no-snippets", "-k", "5",
            "ethical responsibility OR \"social media\" -facebook", NULL);
    EXPECT_EXIT(&r, 0, "search --explain");
    cr_assert_gt(check_explanations(&r, 0), 0, "%s", r.out);
    cr_assert_null(strstr(r.out, "facebook:"), "exclusions never score:\n%s", r.out);
    run_result_free(&r);
    e2e_run(&r, TIMEOUT, "search", "-i", g_index, "--explain", "--no-snippets", "-k", "5",
            "--title-weight", "2.5", "--title-b", "0.3", "mi5 threat OR \"social media\" -facebook",
            NULL);
    EXPECT_EXIT(&r, 0, "search --explain --title-weight");
    cr_assert_gt(check_explanations(&r, 1), 0, "%s", r.out);
    cr_assert_not_null(strstr(r.out, "title tf 1,"), "some hit has a title match:\n%s", r.out);
    run_result_free(&r);
}

/* --title-weight: a document with the query word in its headline (and
 * nowhere else) outranks one with the word five times in a long text, which
 * wins without the title weight.  Out-of-range values are usage errors. */
Test(output, title_weight_ranks_headlines_up)
{
    char src[4096], ix[4096];
    cr_assert_eq(fs_join(src, sizeof src, g_tmp, "docs.jsonl"), 0);
    cr_assert_eq(fs_join(ix, sizeof ix, g_tmp, "titles"), 0);
    const char *filler =
        "\"text\":\"The town held its usual events this week with many visitors and good "
        "weather.\"}\n";
    char docs[4096];
    snprintf(docs, sizeof docs,
             "{\"id\":\"headline\",\"title\":\"Volcano erupts\",\"text\":\"Ash fell on the town "
             "and the roads were closed for the day.\"}\n"
             "{\"id\":\"minutes\",\"title\":\"Council meeting minutes\",\"text\":\"The committee "
             "met on Tuesday to discuss the budget for the coming year, the state of the roads, a "
             "volcano tour for schools, the library hours and the new bus timetable. Members asked "
             "about the volcano museum, the swimming pool, the parking fees and the market square. "
             "The volcano exhibition was postponed until the spring, and the meeting closed after "
             "the reports on the harbour, the volcano trail and the volcano hut.\"}\n"
             "{\"id\":\"f1\",\"title\":\"Harbour news\",%s"
             "{\"id\":\"f2\",\"title\":\"Market day\",%s"
             "{\"id\":\"f3\",\"title\":\"Library hours\",%s",
             filler, filler, filler);
    cr_assert_eq(fs_write_str(src, docs), 0);
    run_result r;
    e2e_run(&r, TIMEOUT, "index", "-q", "-i", ix, src, NULL);
    EXPECT_EXIT(&r, 0, "index");
    run_result_free(&r);
    const char *weights[] = {NULL, "0", "3"};
    const char *first[] = {"minutes", "minutes", "headline"};
    for (size_t i = 0; i < 3; i++) {
        if (weights[i])
            e2e_run(&r, TIMEOUT, "search", "-i", ix, "--format", "trec", "--title-weight",
                    weights[i], "volcano", NULL);
        else
            e2e_run(&r, TIMEOUT, "search", "-i", ix, "--format", "trec", "volcano", NULL);
        EXPECT_EXIT(&r, 0, "search volcano");
        char want1[64], want2[64];
        snprintf(want1, sizeof want1, "1 Q0 %s 1 ", first[i]);
        snprintf(want2, sizeof want2, "1 Q0 %s 2 ",
                 strcmp(first[i], "minutes") == 0 ? "headline" : "minutes");
        cr_assert(strncmp(r.out, want1, strlen(want1)) == 0 && strstr(r.out, want2),
                  "--title-weight %s:\n%s", weights[i] ? weights[i] : "(none)", r.out);
        run_result_free(&r);
    }
    const char *bad[][2] = {{"--title-weight", "-1"},
                            {"--title-weight", "1001"},
                            {"--title-weight", "x"},
                            {"--title-b", "1.5"}};
    for (size_t i = 0; i < 4; i++) {
        e2e_run(&r, TIMEOUT, "search", "-i", ix, "--title-weight", "1", bad[i][0], bad[i][1],
                "volcano", NULL);
        EXPECT_EXIT(&r, 2, bad[i][0]);
        run_result_free(&r);
    }
    /* --title-b without a title weight would be silently ignored: refused. */
    e2e_run(&r, TIMEOUT, "search", "-i", ix, "--title-b", "0.5", "volcano", NULL);
    EXPECT_EXIT(&r, 2, "--title-b alone");
    cr_assert_not_null(strstr(r.err, "--title-weight"), "%s", r.err);
    run_result_free(&r);
}
