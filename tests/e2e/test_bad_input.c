/*
 * test_bad_input.c - end-to-end tests of bad input to bin/index and
 * bin/search: each must end with a message on stderr naming the problem and
 * the documented exit status, without a crash or a hang (every run has a
 * time limit), and a failed index run must leave nothing behind (a new
 * index directory is removed again; an existing one keeps its generation,
 * see test_acceptance.c).
 *
 * Documents: a binary file, invalid UTF-8, an empty file, a malformed JSONL
 * line (skipped or repaired with a warning, exit 1, the rest indexed); a
 * 50 MB single-line document (indexed, default limit 64 MiB) and documents
 * over the limit (skipped); a missing or unreadable path (exit 4, nothing
 * committed).  Queries: 10,000 words, an unbalanced quote or parenthesis
 * (exit 2, with the column).  Directories: a missing index, a directory
 * that is not an index (exit 3; index refuses to touch it), a damaged
 * MANIFEST or segment file (exit 3, the file named), analysis settings
 * the program does not know or that differ from the index's.  Usage: no
 * arguments, -k 0 and other bad options (exit 2), --help and --version
 * (exit 0).
 */
#include <criterion/criterion.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "tests/e2e/expect.h"
#include "tests/support/e2e.h"
#include "tests/support/fsutil.h"
#include "tests/support/run.h"

#define CORPUS      "corpus"
#define TIMEOUT     60.0
#define BIG_TIMEOUT 240.0 /* the 50 MB document, generous for sanitizer builds */

/* ------------------------------------------------------------- fixture */

static char *g_tmp;
static char g_index[4096];

static void setup(void)
{
    g_tmp = fs_mkdtemp("se_e2e_bad_");
    cr_assert_not_null(g_tmp, "mkdtemp failed");
    cr_assert_eq(fs_join(g_index, sizeof g_index, g_tmp, "index"), 0);
}

static void teardown(void)
{
    if (g_tmp) fs_rm_rf(g_tmp);
    free(g_tmp);
    g_tmp = NULL;
}

TestSuite(bad_input, .init = setup, .fini = teardown, .timeout = 300);

/* ------------------------------------------------------------- helpers */

/* A path under the test directory (a ring of buffers, so several can be
 * live at once). */
static const char *P(const char *rel)
{
    static char ring[8][4096];
    static int next;
    char *b = ring[next++ % 8];
    cr_assert_eq(fs_join(b, 4096, g_tmp, rel), 0);
    return b;
}

static void make_dir(const char *rel)
{
    cr_assert_eq(mkdir(P(rel), 0755), 0, "mkdir %s", rel);
}

static void write_file(const char *rel, const void *data, size_t len)
{
    cr_assert_eq(fs_write_file(P(rel), data, len), 0, "cannot write %s", rel);
}

static void write_str(const char *rel, const char *s)
{
    write_file(rel, s, strlen(s));
}

/* Copy the articles of corpus/ into the directory rel. */
static void copy_corpus(const char *rel)
{
    static const char *const names[] = {
        "2015-09-17-andrew-parker-says-mi5-needs-greater-cyber-security-powers.txt",
        "2015-09-17-mi5-chief-social-networks-have-a-responsibility-to-spy-on-users.txt",
        "2015-09-18-mi5-seeks-access-to-facebook-and-whatsapp.txt",
        "2015-10-06-police-say-social-media-companies-are-undermining-terror-probes.txt",
        "2017-10-17-mi5-boss-warns-of-dramatic-increase-in-uk-terror-threat.txt",
    };
    make_dir(rel);
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char from[4096], to[4096];
        cr_assert_eq(fs_join(from, sizeof from, CORPUS, names[i]), 0);
        cr_assert_eq(fs_join(to, sizeof to, P(rel), names[i]), 0);
        cr_assert_eq(fs_copy_file(from, to), 0, "cannot copy %s", from);
    }
}

/* search --json -k 1000 QUERY on the test's index; checks the exit status
 * against the number of hits. */
static void search_json(const char *query, e2e_hits *h)
{
    run_result r;
    e2e_run(&r, TIMEOUT, "search", "-i", g_index, "--json", "-k", "1000", query, NULL);
    char why[512];
    cr_assert_eq(e2e_parse_hits(r.out, 1, h, why, sizeof why), 0, "%s: %s", query, why);
    EXPECT_EXIT(&r, h->n ? 0 : 1, query);
    run_result_free(&r);
}

/* After a run that committed: the index holds MANIFEST, LOCK and one
 * segment's five files, nothing else. */
static void expect_clean_index(void)
{
    char *listing = fs_dir_listing(g_index, NULL);
    cr_assert_not_null(listing, "no index at %s", g_index);
    cr_assert_eq(fs_count_entries(g_index), 7, "unexpected files in the index:\n%s", listing);
    free(listing);
}

/* After a failed run on a directory that did not exist before. */
static void expect_no_index(const char *what)
{
    cr_assert(!fs_exists(g_index), "%s left %s behind", what, g_index);
}

/* Deterministic pseudo-random numbers (xorshift64*). */
static uint64_t next_random(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ull;
}

/* ------------------------------------------------------------- documents */

Test(bad_input, binary_file_is_skipped_the_rest_indexed)
{
    copy_corpus("in");
    unsigned char noise[4096];
    uint64_t s = 42;
    for (size_t i = 0; i < sizeof noise; i++) noise[i] = (unsigned char)next_random(&s);
    noise[10] = noise[700] = noise[3000] = 0; /* NULs for certain */
    write_file("in/noise.txt", noise, sizeof noise);

    run_result r;
    e2e_run(&r, TIMEOUT, "index", "-i", g_index, P("in"), NULL);
    EXPECT_EXIT(&r, 1, "index with a binary file");
    EXPECT_STDERR_HAS(&r, "noise.txt", "index with a binary file");
    EXPECT_STDERR_HAS(&r, "binary", "index with a binary file");
    run_result_free(&r);

    e2e_hits h;
    expect_clean_index();
    search_json("mi5 OR the", &h);
    cr_assert_eq(h.n, 5, "the five good articles are indexed, got %zu hits", h.n);
    cr_assert_lt(e2e_hits_find(&h, "noise.txt"), 0);
    e2e_hits_free(&h);
}

Test(bad_input, invalid_utf8_is_repaired_and_searchable)
{
    make_dir("in");
    write_str("in/good.txt", "A good article\nNothing wrong with this text about wombats.\n");
    write_str("in/bad.txt", "Broken \xc3 bytes\nSome caf\xe9 text with quokkaword in it "
                            "\xff\xfe and a cut-off \xe2\x82 sequence.\n");
    run_result r;
    e2e_run(&r, TIMEOUT, "index", "-i", g_index, P("in"), NULL);
    EXPECT_EXIT(&r, 1, "index with invalid UTF-8");
    EXPECT_STDERR_HAS(&r, "bad.txt", "index with invalid UTF-8");
    EXPECT_STDERR_HAS(&r, "UTF-8", "index with invalid UTF-8");
    run_result_free(&r);

    expect_clean_index();
    e2e_hits h; /* jansson refuses invalid UTF-8, so this also checks the output */
    search_json("quokkaword", &h);
    cr_assert_eq(h.n, 1);
    cr_assert_str_eq(h.hits[0].id, "bad.txt");
    cr_assert(strstr(h.hits[0].snippet, "**quokkaword**"), "snippet: %s", h.hits[0].snippet);
    cr_assert(strstr(h.hits[0].snippet, "\xef\xbf\xbd"), "U+FFFD in: %s", h.hits[0].snippet);
    e2e_hits_free(&h);
    search_json("wombats", &h);
    cr_assert_eq(h.n, 1);
    cr_assert_str_eq(h.hits[0].id, "good.txt");
    e2e_hits_free(&h);
}

Test(bad_input, empty_file_is_skipped)
{
    copy_corpus("in");
    write_str("in/empty.txt", "");
    run_result r;
    e2e_run(&r, TIMEOUT, "index", "-i", g_index, P("in"), NULL);
    EXPECT_EXIT(&r, 1, "index with an empty file");
    EXPECT_STDERR_HAS(&r, "empty.txt", "index with an empty file");
    EXPECT_STDERR_HAS(&r, "empty document", "index with an empty file");
    run_result_free(&r);
    e2e_hits h;
    search_json("mi5 OR the", &h);
    cr_assert_eq(h.n, 5);
    e2e_hits_free(&h);
}

Test(bad_input, only_empty_files_is_nothing_to_index)
{
    make_dir("in");
    write_str("in/empty.txt", "");
    write_str("in/blank.md", "\n\n   \n");
    run_result r;
    e2e_run(&r, TIMEOUT, "index", "-i", g_index, P("in"), NULL);
    EXPECT_EXIT(&r, 4, "index with nothing to index");
    EXPECT_STDERR_HAS(&r, "no documents", "index with nothing to index");
    EXPECT_STDERR_HAS(&r, "nothing was committed", "index with nothing to index");
    run_result_free(&r);
    expect_no_index("a run with nothing to index");
}

Test(bad_input, malformed_jsonl_lines_are_skipped_with_file_and_line)
{
    make_dir("in");
    write_str("in/docs.jsonl",
              "{\"id\": \"a\", \"title\": \"First\", \"text\": \"alpha aardvark\"}\n"
              "{\"id\": \"b\", \"text\": \"beta\n"
              "{\"id\": \"c\", \"text\": \"gamma aardvark\"}\n"
              "[1, 2, 3]\n"
              "{\"title\": \"no id\", \"text\": \"delta aardvark\"}\n"
              "\n"
              "{\"_id\": 7, \"text\": \"epsilon aardvark\"}\n");
    run_result r;
    e2e_run(&r, TIMEOUT, "index", "-i", g_index, P("in"), NULL);
    EXPECT_EXIT(&r, 1, "index with malformed JSONL");
    EXPECT_STDERR_HAS(&r, "docs.jsonl:2:", "malformed JSON line");
    EXPECT_STDERR_HAS(&r, "malformed JSON", "malformed JSON line");
    EXPECT_STDERR_HAS(&r, "docs.jsonl:4:", "a line that is no object");
    EXPECT_STDERR_HAS(&r, "docs.jsonl:5:", "a line without an id");
    cr_assert_null(strstr(r.err, "docs.jsonl:6:"), "a blank line is no problem:\n%s", r.err);
    run_result_free(&r);

    e2e_hits h;
    expect_clean_index();
    search_json("aardvark", &h);
    cr_assert_eq(h.n, 3, "a, c and 7 are indexed; got %zu", h.n);
    cr_assert_geq(e2e_hits_find(&h, "a"), 0);
    cr_assert_geq(e2e_hits_find(&h, "c"), 0);
    cr_assert_geq(e2e_hits_find(&h, "7"), 0);
    e2e_hits_free(&h);
}

/* Write a single-line document of about `size` bytes of words, with `marker`
 * in the middle.  Words come from the Snowball vocabulary in SE_DATA_DIR,
 * or from a short built-in list when that is missing. */
static void write_big_document(const char *rel, size_t size, const char *marker)
{
    char voc_path[4096];
    snprintf(voc_path, sizeof voc_path, "%s/snowball-english-vocab/voc.txt", e2e_data_dir());
    char *voc = fs_read_file(voc_path, NULL);
    static const char builtin[] = "security\nagency\nintelligence\nnetwork\nlaw\npower\n"
                                  "terror\nthreat\nsurveillance\ncompany\nreport\nchief\n";
    if (!voc) voc = strdup(builtin);
    cr_assert_not_null(voc);
    const char *words[65536];
    size_t nwords = 0;
    for (char *w = strtok(voc, "\n"); w && nwords < 65536; w = strtok(NULL, "\n"))
        if (*w) words[nwords++] = w;
    cr_assert_gt(nwords, 0);

    char *doc = malloc(size + 64);
    cr_assert_not_null(doc);
    size_t len = 0;
    uint64_t s = 7;
    int marked = 0;
    while (len < size) {
        const char *w = words[next_random(&s) % nwords];
        if (!marked && len >= size / 2) {
            w = marker;
            marked = 1;
        }
        size_t n = strlen(w);
        if (len + n + 1 > size + 63) break;
        memcpy(doc + len, w, n);
        doc[len + n] = ' ';
        len += n + 1;
    }
    write_file(rel, doc, len);
    free(doc);
    free(voc);
}

Test(bad_input, fifty_megabyte_single_line_document_is_indexed)
{
    /* The limit's default is 64 MiB. */
    run_result r;
    e2e_run(&r, TIMEOUT, "index", "--help", NULL);
    EXPECT_EXIT(&r, 0, "index --help");
    const char *opt = strstr(r.out, "--max-doc-mb");
    cr_assert_not_null(opt, "--help lists --max-doc-mb:\n%s", r.out);
    const char *eol = strchr(opt, '\n');
    const char *dflt = strstr(opt, "(default 64)");
    cr_assert(dflt && (!eol || dflt < eol), "--max-doc-mb defaults to 64 MiB:\n%s", r.out);
    run_result_free(&r);

    make_dir("in");
    write_big_document("in/big.txt", 50u * 1000 * 1000, "zyzzyvamiddle");
    e2e_run(&r, BIG_TIMEOUT, "index", "-i", g_index, P("in"), NULL);
    EXPECT_EXIT(&r, 0, "index a 50 MB document");
    run_result_free(&r);

    e2e_hits h;
    search_json("zyzzyvamiddle", &h);
    cr_assert_eq(h.n, 1);
    cr_assert_str_eq(h.hits[0].id, "big.txt");
    e2e_hits_free(&h);
}

Test(bad_input, documents_over_the_limit_are_skipped)
{
    make_dir("in");
    write_str("in/small.txt", "Small\nA small article about aardvarks.\n");
    /* Just over the default limit: a sparse file, so it costs no disk. */
    write_str("in/huge.txt", "");
    cr_assert_eq(truncate(P("in/huge.txt"), (64 << 20) + 1), 0);
    write_big_document("in/two-mb.txt", 2u << 20, "aardvarks");

    run_result r;
    e2e_run(&r, TIMEOUT, "index", "-i", g_index, P("in"), NULL);
    EXPECT_EXIT(&r, 1, "index with a document over 64 MiB");
    EXPECT_STDERR_HAS(&r, "huge.txt", "a document over 64 MiB");
    EXPECT_STDERR_HAS(&r, "larger than 67108864 bytes", "a document over 64 MiB");
    cr_assert_null(strstr(r.err, "two-mb.txt"), "2 MiB is under the default:\n%s", r.err);
    run_result_free(&r);

    e2e_run(&r, TIMEOUT, "index", "--rebuild", "--max-doc-mb", "1", "-i", g_index, P("in"), NULL);
    EXPECT_EXIT(&r, 1, "index --max-doc-mb 1");
    EXPECT_STDERR_HAS(&r, "two-mb.txt", "index --max-doc-mb 1");
    EXPECT_STDERR_HAS(&r, "larger than 1048576 bytes", "index --max-doc-mb 1");
    run_result_free(&r);
    e2e_hits h;
    search_json("aardvarks", &h);
    cr_assert_eq(h.n, 1, "only small.txt is left");
    cr_assert_str_eq(h.hits[0].id, "small.txt");
    e2e_hits_free(&h);

    e2e_run(&r, TIMEOUT, "index", "--max-doc-mb", "0", "-i", g_index, P("in"), NULL);
    EXPECT_EXIT(&r, 2, "index --max-doc-mb 0");
    EXPECT_STDERR_HAS(&r, "--max-doc-mb", "index --max-doc-mb 0");
    run_result_free(&r);
}

/* ------------------------------------------------------------- paths */

Test(bad_input, missing_path_fails_before_anything_is_written)
{
    copy_corpus("in");
    run_result r;
    e2e_run(&r, TIMEOUT, "index", "-i", g_index, P("in"), P("does-not-exist"), NULL);
    EXPECT_EXIT(&r, 4, "index with a missing path");
    EXPECT_STDERR_HAS(&r, P("does-not-exist"), "index with a missing path");
    EXPECT_STDERR_HAS(&r, "No such file", "index with a missing path");
    run_result_free(&r);
    expect_no_index("a missing input path");

    e2e_run(&r, TIMEOUT, "index", "-i", g_index, P("does-not-exist/a.jsonl"), NULL);
    EXPECT_EXIT(&r, 4, "index with a missing JSONL file");
    run_result_free(&r);
    expect_no_index("a missing JSONL file");
}

Test(bad_input, unreadable_file)
{
    if (geteuid() == 0) {
        teardown(); /* a skipped test does not run the suite's .fini */
        cr_skip_test("running as root: chmod 000 does not stop root reading");
    }
    copy_corpus("in");
    write_str("in/secret.txt", "Secret\nYou cannot read this.\n");
    cr_assert_eq(chmod(P("in/secret.txt"), 0), 0);

    /* Named on the command line: fatal, nothing committed. */
    run_result r;
    e2e_run(&r, TIMEOUT, "index", "-i", g_index, P("in/secret.txt"), NULL);
    EXPECT_EXIT(&r, 4, "index an unreadable file");
    EXPECT_STDERR_HAS(&r, "secret.txt", "index an unreadable file");
    EXPECT_STDERR_HAS(&r, "Permission denied", "index an unreadable file");
    run_result_free(&r);
    expect_no_index("an unreadable file");

    /* Met in a directory walk: skipped with a warning (input.h). */
    e2e_run(&r, TIMEOUT, "index", "-i", g_index, P("in"), NULL);
    EXPECT_EXIT(&r, 1, "index a directory holding an unreadable file");
    EXPECT_STDERR_HAS(&r, "secret.txt", "index a directory holding an unreadable file");
    run_result_free(&r);

    /* An unreadable directory named on the command line. */
    make_dir("locked");
    write_str("locked/a.txt", "A\nText.\n");
    cr_assert_eq(chmod(P("locked"), 0), 0);
    fs_rm_rf(g_index);
    e2e_run(&r, TIMEOUT, "index", "-i", g_index, P("locked"), NULL);
    EXPECT_EXIT(&r, 4, "index an unreadable directory");
    EXPECT_STDERR_HAS(&r, "locked", "index an unreadable directory");
    run_result_free(&r);
    expect_no_index("an unreadable directory");
}

/* ------------------------------------------------------------- queries */

static void index_corpus(void)
{
    run_result r;
    e2e_run(&r, TIMEOUT, "index", "-q", "-i", g_index, CORPUS, NULL);
    EXPECT_EXIT(&r, 0, "index corpus/");
    run_result_free(&r);
}

Test(bad_input, query_of_ten_thousand_words)
{
    index_corpus();
    size_t cap = 10000 * 12;
    char *q = malloc(cap), *p = q;
    cr_assert_not_null(q);
    for (int i = 0; i < 10000; i++) p += sprintf(p, "%sw%d", i ? " " : "", i);
    run_result r;
    e2e_run(&r, TIMEOUT, "search", "-i", g_index, q, NULL);
    EXPECT_EXIT(&r, 2, "a query of 10,000 words");
    EXPECT_STDERR_HAS(&r, "more than 1024 words", "a query of 10,000 words");
    EXPECT_STDOUT_EMPTY(&r, "a query of 10,000 words");
    run_result_free(&r);

    /* The same through --batch. */
    char *line = malloc(strlen(q) + 8);
    cr_assert_not_null(line);
    sprintf(line, "big\t%s\n", q);
    write_str("batch.tsv", line);
    e2e_run(&r, TIMEOUT, "search", "-i", g_index, "--batch", P("batch.tsv"), NULL);
    EXPECT_EXIT(&r, 2, "a 10,000-word query in a batch");
    EXPECT_STDERR_HAS(&r, "query big", "a 10,000-word query in a batch");
    run_result_free(&r);
    free(line);
    free(q);
}

Test(bad_input, unbalanced_quote_and_parentheses_name_the_column)
{
    index_corpus();
    static const struct {
        const char *query, *what, *column;
    } cases[] = {
        {"ethical \"responsibility", "quote", "column 9"},
        {"(ethical responsibility", "parenthesis", "column 1"},
        {"ethical responsibility)", "parenthesis", "column 23"},
        {"mi5 ((security) powers", "parenthesis", "column 5"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        run_result r;
        e2e_run(&r, TIMEOUT, "search", "-i", g_index, cases[i].query, NULL);
        EXPECT_EXIT(&r, 2, cases[i].query);
        EXPECT_STDERR_HAS(&r, cases[i].what, cases[i].query);
        EXPECT_STDERR_HAS(&r, cases[i].column, cases[i].query);
        EXPECT_STDOUT_EMPTY(&r, cases[i].query);
        run_result_free(&r);
    }
}

/* ------------------------------------------------------------- directories */

Test(bad_input, missing_index_directory)
{
    run_result r;
    e2e_run(&r, TIMEOUT, "search", "-i", g_index, "mi5", NULL);
    EXPECT_EXIT(&r, 3, "search a missing index");
    EXPECT_STDERR_HAS(&r, g_index, "search a missing index");
    EXPECT_STDERR_HAS(&r, "no index", "search a missing index");
    run_result_free(&r);
    expect_no_index("search");
}

Test(bad_input, directory_that_is_not_an_index)
{
    char dir[4096];
    cr_assert_eq(fs_join(dir, sizeof dir, g_tmp, "xyz"), 0);
    make_dir("xyz");
    unsigned char junk[1000];
    uint64_t s = 3;
    for (size_t i = 0; i < sizeof junk; i++) junk[i] = (unsigned char)next_random(&s);
    write_file("xyz/random", junk, sizeof junk);
    char *before = fs_dir_listing(dir, NULL);
    cr_assert_not_null(before);

    run_result r;
    e2e_run(&r, TIMEOUT, "search", "-i", dir, "mi5", NULL);
    EXPECT_EXIT(&r, 3, "search a directory that is not an index");
    EXPECT_STDERR_HAS(&r, dir, "search a directory that is not an index");
    run_result_free(&r);

    e2e_run(&r, TIMEOUT, "index", "-i", dir, CORPUS, NULL);
    EXPECT_EXIT(&r, 3, "index into a directory that is not an index");
    EXPECT_STDERR_HAS(&r, "not an index directory", "index into a non-index directory");
    EXPECT_STDERR_HAS(&r, dir, "index into a non-index directory");
    run_result_free(&r);
    char *after = fs_dir_listing(dir, NULL);
    cr_assert_str_eq(after, before, "the directory must be left untouched");
    free(before);
    free(after);

    /* A plain file where the index should be. */
    write_str("plain-file", "not a directory\n");
    e2e_run(&r, TIMEOUT, "search", "-i", P("plain-file"), "mi5", NULL);
    EXPECT_EXIT(&r, 3, "search a plain file");
    run_result_free(&r);
    e2e_run(&r, TIMEOUT, "index", "-i", P("plain-file"), CORPUS, NULL);
    EXPECT_EXIT(&r, 3, "index into a plain file");
    EXPECT_STDERR_HAS(&r, "not a directory", "index into a plain file");
    run_result_free(&r);
    char *content = fs_read_file(P("plain-file"), NULL);
    cr_assert_str_eq(content, "not a directory\n");
    free(content);
}

Test(bad_input, damaged_manifest)
{
    index_corpus();
    char manifest[4096];
    cr_assert_eq(fs_join(manifest, sizeof manifest, g_index, "MANIFEST"), 0);
    size_t len;
    char *m = fs_read_file(manifest, &len);
    cr_assert_not_null(m);
    cr_assert_gt(len, 20);
    m[len / 2] ^= 0x55;
    cr_assert_eq(fs_write_file(manifest, m, len), 0);
    free(m);
    run_result r;
    e2e_run(&r, TIMEOUT, "search", "-i", g_index, "mi5", NULL);
    EXPECT_EXIT(&r, 3, "search with a damaged MANIFEST");
    EXPECT_STDERR_HAS(&r, "MANIFEST", "search with a damaged MANIFEST");
    run_result_free(&r);
}

Test(bad_input, damaged_segment_files_are_named)
{
    static const char *const files[] = {"s00000000.tdx", "s00000000.doc", "s00000000.pos",
                                        "s00000000.len", "s00000000.sto"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        fs_rm_rf(g_index);
        index_corpus();
        char path[4096];
        cr_assert_eq(fs_join(path, sizeof path, g_index, files[i]), 0);
        size_t len;
        char *data = fs_read_file(path, &len);
        cr_assert_not_null(data, "%s: the first segment is expected to be s00000000", files[i]);
        cr_assert_gt(len, 2);
        data[len / 2] ^= 0x55; /* one flipped byte in the middle */
        cr_assert_eq(fs_write_file(path, data, len), 0);
        free(data);
        run_result r;
        e2e_run(&r, TIMEOUT, "search", "-i", g_index, "ethical responsibility", NULL);
        EXPECT_EXIT(&r, 3, files[i]);
        EXPECT_STDERR_HAS(&r, files[i], "a damaged segment file is named");
        run_result_free(&r);
    }
}

/* ------------------------------------------------------------- usage */

Test(bad_input, usage_errors_exit_two)
{
    index_corpus();
    static const struct {
        const char *prog;
        const char *args[6];
        size_t n;
        const char *says;
    } cases[] = {
        {"index", {NULL}, 0, "no input given"},
        {"index", {"--memory", "0", CORPUS}, 3, "--memory"},
        {"index", {"--store-level", "10", CORPUS}, 3, "--store-level"},
        {"index", {"--no-such-option", CORPUS}, 2, "usage:"},
        {"search", {"-k", "0", "mi5"}, 3, "-k takes a number"},
        {"search", {"-k", "abc", "mi5"}, 3, "-k takes a number"},
        {"search", {"-k", "100001", "mi5"}, 3, "-k takes a number"},
        {"search", {"--k1", "-1", "mi5"}, 3, "--k1"},
        {"search", {"--b", "2", "mi5"}, 3, "--b"},
        {"search", {"--format", "xml", "mi5"}, 3, "--format"},
        {"search", {NULL}, 0, "no query given"},
        {"search", {"mi5", "powers"}, 2, "one argument"},
        {"search", {"--batch", "/dev/null", "mi5"}, 3, "--batch takes no query"},
        {"search", {"--batch", "/nonexistent/queries.tsv"}, 2, "cannot open"},
        {"search", {""}, 1, "empty query"},
        {"search", {"--", "-mi5"}, 2, "nothing to match"},
        {"search", {"mi5 AND"}, 1, "column 5"},
        {"search", {"\"\""}, 1, "empty phrase at column 1"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *args[10];
        size_t n = 0;
        args[n++] = "-i";
        args[n++] = g_index;
        for (size_t j = 0; j < cases[i].n; j++) args[n++] = cases[i].args[j];
        run_result r;
        e2e_runv(&r, TIMEOUT, cases[i].prog, args, n);
        char what[256];
        snprintf(what, sizeof what, "%s %s %s", cases[i].prog, cases[i].n ? cases[i].args[0] : "",
                 cases[i].n > 1 ? cases[i].args[1] : "");
        EXPECT_EXIT(&r, 2, what);
        EXPECT_STDERR_HAS(&r, cases[i].says, what);
        run_result_free(&r);
    }
}

Test(bad_input, help_and_version_exit_zero)
{
    static const char *const progs[] = {"index", "search"};
    for (size_t i = 0; i < 2; i++) {
        run_result r;
        e2e_run(&r, TIMEOUT, progs[i], "--help", NULL);
        EXPECT_EXIT(&r, 0, "--help");
        cr_assert(strstr(r.out, "usage:"), "%s --help:\n%s", progs[i], r.out);
        cr_assert(strstr(r.out, "Exit status"), "%s --help documents exit codes", progs[i]);
        run_result_free(&r);
        e2e_run(&r, TIMEOUT, progs[i], "-h", NULL);
        EXPECT_EXIT(&r, 0, "-h");
        run_result_free(&r);

        e2e_run(&r, TIMEOUT, progs[i], "--version", NULL);
        EXPECT_EXIT(&r, 0, "--version");
        cr_assert_eq(strncmp(r.out, progs[i], strlen(progs[i])), 0, "%s --version: %s", progs[i],
                     r.out);
        cr_assert_gt(r.out_len, strlen(progs[i]) + 2, "a version number follows the name");
        run_result_free(&r);
        e2e_run(&r, TIMEOUT, progs[i], "-V", NULL);
        EXPECT_EXIT(&r, 0, "-V");
        run_result_free(&r);
    }
}

/* The analysis an index records (MANIFEST header word at offset 12): an
 * unknown --analyzer name is a usage error; another analyzer for an existing
 * index is refused with a hint at --rebuild and nothing committed; the
 * searcher analyses queries like the index ("the" is no term of an
 * english-stop index); a MANIFEST claiming settings this program does not
 * know is refused, naming them, even with a valid checksum. */
Test(bad_input, analysis_settings)
{
    copy_corpus("in");
    run_result r;
    e2e_run(&r, TIMEOUT, "index", "--analyzer", "klingon", "-i", g_index, P("in"), NULL);
    EXPECT_EXIT(&r, 2, "index --analyzer klingon");
    EXPECT_STDERR_HAS(&r, "--analyzer", "index --analyzer klingon");
    run_result_free(&r);
    e2e_run(&r, TIMEOUT, "index", "-q", "--analyzer", "english-stop", "-i", g_index, P("in"), NULL);
    EXPECT_EXIT(&r, 0, "index --analyzer english-stop");
    run_result_free(&r);
    write_str("in/extra.txt", "Extra\nA new article about the cat.\n");
    e2e_run(&r, TIMEOUT, "index", "--analyzer", "porter", "-i", g_index, P("in"), NULL);
    EXPECT_EXIT(&r, 3, "index --analyzer porter on an english-stop index");
    EXPECT_STDERR_HAS(&r, "--rebuild", "index --analyzer porter on an english-stop index");
    run_result_free(&r);
    e2e_run(&r, TIMEOUT, "search", "-i", g_index, "the", NULL);
    EXPECT_EXIT(&r, 1, "search for a stop word");
    run_result_free(&r);
    e2e_run(&r, TIMEOUT, "search", "-i", g_index, "--json", "cat", NULL);
    EXPECT_EXIT(&r, 1, "the refused run committed nothing");
    run_result_free(&r);

    char manifest[4096];
    cr_assert_eq(fs_join(manifest, sizeof manifest, g_index, "MANIFEST"), 0);
    size_t len;
    unsigned char *m = (unsigned char *)fs_read_file(manifest, &len);
    cr_assert_not_null(m);
    cr_assert_eq(m[12], 1, "english-stop is recorded as 1");
    m[12] = 0x10;
    uint64_t sum = XXH3_64bits(m, len - 8);
    for (int i = 0; i < 8; i++) m[len - 8 + i] = (unsigned char)(sum >> (8 * i));
    cr_assert_eq(fs_write_file(manifest, m, len), 0);
    free(m);
    e2e_run(&r, TIMEOUT, "search", "-i", g_index, "mi5", NULL);
    EXPECT_EXIT(&r, 3, "search with unknown analysis settings");
    EXPECT_STDERR_HAS(&r, "analysis settings 0x10", "search with unknown analysis settings");
    run_result_free(&r);
}
