/*
 * test_input.c - unit tests for indexer/input.c (document sources).
 *
 * Each test gets a fresh directory made with mkdtemp under /tmp (removed by
 * the fixture afterwards), writes the files it needs there - text files,
 * JSONL, gzip and zstd streams made with zlib and libzstd - runs a reader
 * over them and compares every document and warning it gets.  The last
 * tests read the shared seed articles and the start of the SciFact corpus.
 */
#include <criterion/criterion.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "common/segment.h"
#include "indexer/input.h"

/* ------------------------------------------------------------- fixture */

static char g_tmp[64];

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    if (flag == FTW_DP || flag == FTW_D || flag == FTW_DNR)
        (void)rmdir(path);
    else
        (void)unlink(path);
    return 0;
}

static int unlock_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)ftw;
    if (flag != FTW_SL && flag != FTW_SLN) chmod(path, (st->st_mode & 07777) | 0700);
    return 0;
}

static void setup(void)
{
    strcpy(g_tmp, "/tmp/test_input_XXXXXX");
    cr_assert_not_null(mkdtemp(g_tmp));
}

static void teardown(void)
{
    if (!g_tmp[0]) return;
    chmod(g_tmp, 0700);
    nftw(g_tmp, unlock_entry, 16, FTW_PHYS);
    nftw(g_tmp, remove_entry, 16, FTW_PHYS | FTW_DEPTH);
}

TestSuite(input, .init = setup, .fini = teardown);

/* A path under the test directory (a ring of buffers, so several can be
 * live at once). */
static const char *P(const char *rel)
{
    static char ring[8][PATH_MAX];
    static int next;
    char *b = ring[next++ % 8];
    snprintf(b, PATH_MAX, "%s/%s", g_tmp, rel);
    return b;
}

static void make_dirs_for(const char *path)
{
    char buf[PATH_MAX];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *s = buf + strlen(g_tmp) + 1; (s = strchr(s, '/')); s++) {
        *s = '\0';
        mkdir(buf, 0755);
        *s = '/';
    }
}

static void write_bytes(const char *rel, const void *data, size_t len)
{
    const char *path = P(rel);
    make_dirs_for(path);
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f, "cannot create %s", path);
    cr_assert_eq(fwrite(data, 1, len, f), len);
    cr_assert_eq(fclose(f), 0);
}

static void write_str(const char *rel, const char *s)
{
    write_bytes(rel, s, strlen(s));
}

static void write_zstd(const char *rel, const char *s, size_t len, int level)
{
    size_t cap = ZSTD_compressBound(len);
    char *z = malloc(cap);
    cr_assert_not_null(z);
    size_t n = ZSTD_compress(z, cap, s, len, level);
    cr_assert(!ZSTD_isError(n));
    write_bytes(rel, z, n);
    free(z);
}

/* Write s as gzip; `append` adds another gzip member to the file. */
static void write_gzip(const char *rel, const char *s, bool append)
{
    const char *path = P(rel);
    make_dirs_for(path);
    gzFile g = gzopen(path, append ? "ab" : "wb");
    cr_assert_not_null(g);
    cr_assert_eq(gzwrite(g, s, (unsigned)strlen(s)), (int)strlen(s));
    cr_assert_eq(gzclose(g), Z_OK);
}

/* --------------------------------------------------------- collecting */

typedef struct got_doc {
    char *id, *title, *text, *source;
    size_t title_len, text_len;
    uint64_t line;
} got_doc;

typedef struct run_result {
    got_doc docs[64];
    size_t ndocs;
    char *warns[64]; /* "line|message" */
    char *warn_src[64];
    size_t nwarns;
    int rc; /* last input_next result: 0 or an error */
    se_error err;
    input_stats stats;
} run_result;

static char *dup_n(const char *s, size_t n)
{
    char *p = malloc(n + 1);
    cr_assert_not_null(p);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

static void collect_warn(void *ctx, const char *source, uint64_t line, const char *msg)
{
    run_result *res = ctx;
    cr_assert_not_null(source);
    cr_assert_not_null(msg);
    if (res->nwarns == 64) return;
    char buf[1024];
    snprintf(buf, sizeof buf, "%" PRIu64 "|%s", line, msg);
    res->warn_src[res->nwarns] = strdup(source);
    res->warns[res->nwarns++] = strdup(buf);
}

static void check_utf8(const char *s, size_t n)
{
    /* every document handed out must be valid UTF-8 without NUL */
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        cr_assert_neq(c, 0, "NUL at %zu", i);
        size_t k = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
        cr_assert(c < 0x80 || (c >= 0xC2 && c <= 0xF4), "bad lead byte at %zu", i);
        cr_assert(i + k <= n, "truncated sequence at %zu", i);
        for (size_t j = 1; j < k; j++)
            cr_assert_eq((unsigned char)s[i + j] & 0xC0, 0x80, "bad continuation at %zu", i);
        i += k;
    }
}

static void run_paths(run_result *res, const char *const *paths, size_t n, size_t max_doc)
{
    memset(res, 0, sizeof *res);
    input_options opts = {.max_doc_bytes = max_doc, .warn = collect_warn, .warn_ctx = res};
    input_reader *r = NULL;
    se_error err = {0};
    int rc = input_open(&r, paths, n, &opts, &err);
    cr_assert_eq(rc, SE_OK, "input_open: %s", err.msg);
    input_doc d;
    while ((rc = input_next(r, &d, &res->err)) == 1) {
        cr_assert_lt(res->ndocs, 64);
        check_utf8(d.id, d.id_len);
        check_utf8(d.title, d.title_len);
        check_utf8(d.text, d.text_len);
        got_doc *g = &res->docs[res->ndocs++];
        g->id = dup_n(d.id, d.id_len);
        g->title = dup_n(d.title, d.title_len);
        g->text = dup_n(d.text, d.text_len);
        g->title_len = d.title_len;
        g->text_len = d.text_len;
        g->source = strdup(d.source);
        g->line = d.line;
    }
    res->rc = rc;
    res->stats = input_get_stats(r);
    input_close(r);
}

static void run1(run_result *res, const char *path, size_t max_doc)
{
    const char *paths[] = {path};
    run_paths(res, paths, 1, max_doc);
}

static void free_result(run_result *res)
{
    for (size_t i = 0; i < res->ndocs; i++) {
        free(res->docs[i].id);
        free(res->docs[i].title);
        free(res->docs[i].text);
        free(res->docs[i].source);
    }
    for (size_t i = 0; i < res->nwarns; i++) {
        free(res->warns[i]);
        free(res->warn_src[i]);
    }
    memset(res, 0, sizeof *res);
}

static void expect_ids(const run_result *res, const char *const *ids, size_t n)
{
    for (size_t i = 0; i < res->ndocs && i < n; i++)
        cr_expect_str_eq(res->docs[i].id, ids[i], "doc %zu", i);
    cr_assert_eq(res->ndocs, n, "got %zu documents, expected %zu", res->ndocs, n);
}

static bool has_warning(const run_result *res, const char *want)
{
    for (size_t i = 0; i < res->nwarns; i++)
        if (strcmp(res->warns[i], want) == 0) return true;
    return false;
}

static void dump_warnings(const run_result *res)
{
    for (size_t i = 0; i < res->nwarns; i++)
        cr_log_info("warning %s: %s", res->warn_src[i], res->warns[i]);
}

static bool running_as_root_like(const char *path)
{
    /* chmod 000 does not stop root (or CAP_DAC_OVERRIDE) from reading */
    return access(path, R_OK) == 0;
}

/* ------------------------------------------------------- directory walk */

static void make_tree(void)
{
    write_str("d/b.txt", "b title\nb text\n");
    write_str("d/B.txt", "B title\nB text\n");
    write_str("d/a.txt", "a title\na text\n");
    write_str("d/a/y.txt", "y title\ny text\n");
    write_str("d/a/x.md", "# x title\nx text\n");
    write_str("d/c.jsonl", "{\"id\":\"j1\",\"title\":\"J one\",\"text\":\"jt\"}\n");
    write_str("d/deep/er/z.txt", "z\n");
    write_str("d/.hidden.txt", "hidden\n");
    write_str("d/.hid/h.txt", "hidden dir\n");
    write_str("d/other.csv", "a,b\n");
    write_str("d/README", "no extension\n");
    write_str("d/upper.TXT", "upper case extension\n");
    write_str("d/notes.json", "{}\n");
    cr_assert_eq(symlink("a", P("d/link_dir")), 0);
    cr_assert_eq(symlink("b.txt", P("d/link_file.txt")), 0);
    cr_assert_eq(symlink("missing.txt", P("d/broken.txt")), 0);
}

static const char *const tree_ids[] = {"B.txt", "a/x.md", "a/y.txt",       "a.txt",
                                       "b.txt", "j1",     "deep/er/z.txt", "link_file.txt"};
#define TREE_N (sizeof tree_ids / sizeof *tree_ids)

Test(input, directory_walk_order_and_filters)
{
    make_tree();
    run_result res;
    run1(&res, P("d"), 0);
    dump_warnings(&res);
    cr_assert_eq(res.rc, 0, "%s", res.err.msg);
    expect_ids(&res, tree_ids, TREE_N);
    cr_expect_str_eq(res.docs[0].source, P("d/B.txt"));
    cr_expect_str_eq(res.docs[1].source, P("d/a/x.md"));
    cr_expect_str_eq(res.docs[1].title, "# x title");
    cr_expect_str_eq(res.docs[5].source, P("d/c.jsonl"));
    cr_expect_eq(res.docs[5].line, 1);
    cr_expect_eq(res.docs[0].line, 0);
    cr_expect_str_eq(res.docs[7].title, "b title");
    /* the dangling link is the only warning */
    cr_assert_eq(res.nwarns, 1);
    cr_expect_str_eq(res.warn_src[0], P("d/broken.txt"));
    cr_expect(strstr(res.warns[0], "symbolic link") != NULL, "%s", res.warns[0]);
    cr_expect_eq(res.stats.documents, TREE_N);
    cr_expect_eq(res.stats.skipped, 1);
    free_result(&res);
}

Test(input, trailing_slashes_do_not_matter)
{
    make_tree();
    char with_slash[PATH_MAX], with_two[PATH_MAX];
    snprintf(with_slash, sizeof with_slash, "%s/", P("d"));
    snprintf(with_two, sizeof with_two, "%s//", P("d"));
    const char *variants[] = {with_slash, with_two};
    for (size_t v = 0; v < 2; v++) {
        run_result res;
        run1(&res, variants[v], 0);
        cr_assert_eq(res.rc, 0);
        expect_ids(&res, tree_ids, TREE_N);
        cr_expect_str_eq(res.docs[0].source, P("d/B.txt"));
        free_result(&res);
    }
}

Test(input, relative_directory_ids)
{
    make_tree();
    cr_assert_eq(chdir(g_tmp), 0);
    const char *variants[] = {"d", "d/", "./d", "./d//"};
    const char *sources[] = {"d/B.txt", "d/B.txt", "./d/B.txt", "./d/B.txt"};
    for (size_t v = 0; v < 4; v++) {
        run_result res;
        run1(&res, variants[v], 0);
        cr_assert_eq(res.rc, 0);
        expect_ids(&res, tree_ids, TREE_N);
        cr_expect_str_eq(res.docs[0].source, sources[v]);
        free_result(&res);
    }
    cr_assert_eq(chdir("d"), 0);
    run_result res;
    run1(&res, ".", 0);
    expect_ids(&res, tree_ids, TREE_N);
    cr_expect_str_eq(res.docs[0].source, "./B.txt");
    free_result(&res);
}

Test(input, explicit_file_ids)
{
    write_str("x/y.txt", "Title\nText\n");
    write_str("x/notes.csv", "csv title\nrest\n");
    write_str("x/.hidden.txt", "hidden but named\n");
    cr_assert_eq(chdir(g_tmp), 0);
    const char *paths[] = {"./x/y.txt",   "x/y.txt",       ".//x/y.txt",
                           "x/notes.csv", "x/.hidden.txt", P("x/y.txt")};
    run_result res;
    run_paths(&res, paths, 6, 0);
    cr_assert_eq(res.rc, 0);
    const char *ids[] = {"x/y.txt",     "x/y.txt",       "x/y.txt",
                         "x/notes.csv", "x/.hidden.txt", P("x/y.txt")};
    expect_ids(&res, ids, 6);
    cr_expect_str_eq(res.docs[0].source, "./x/y.txt");
    cr_expect_str_eq(res.docs[3].title, "csv title");
    cr_expect_str_eq(res.docs[4].title, "hidden but named");
    free_result(&res);
}

Test(input, several_paths_in_order)
{
    make_tree();
    write_str("single.txt", "Single\n");
    write_str("more.jsonl", "{\"id\":\"m\",\"text\":\"x\"}\n");
    const char *paths[] = {P("single.txt"), P("d/a"), P("more.jsonl")};
    run_result res;
    run_paths(&res, paths, 3, 0);
    const char *ids[] = {P("single.txt"), "x.md", "y.txt", "m"};
    expect_ids(&res, ids, 4);
    free_result(&res);
}

/* ------------------------------------------------------------ text files */

static void expect_text_doc(const char *content, size_t len, const char *title, const char *text)
{
    write_bytes("doc.txt", content, len);
    run_result res;
    run1(&res, P("doc.txt"), 0);
    dump_warnings(&res);
    cr_assert_eq(res.ndocs, 1);
    cr_expect_str_eq(res.docs[0].title, title);
    cr_expect_str_eq(res.docs[0].text, text);
    cr_expect_eq(res.nwarns, 0);
    free_result(&res);
}

#define TEXT_DOC(lit, title, text) expect_text_doc(lit, sizeof(lit) - 1, title, text)

Test(input, title_and_text)
{
    TEXT_DOC("Hello\nworld\n", "Hello", "world\n");
    TEXT_DOC("  Spaced title \t\nbody", "Spaced title", "body");
    TEXT_DOC("\xEF\xBB\xBFWith BOM\nbody", "With BOM", "body");
    TEXT_DOC("\xEF\xBB\xBF  Title here \t\r\nline two\r\nline three\r\n", "Title here",
             "line two\r\nline three\r\n");
    TEXT_DOC("\n \r\n\t\n  Real title\nbody", "Real title", "body");
    TEXT_DOC("Only a title", "Only a title", "");
    TEXT_DOC("Only a title\n", "Only a title", "");
    TEXT_DOC("\n\nAfter blanks", "After blanks", "");
    TEXT_DOC("Caf\xC3\xA9 \xE2\x82\xAC\nna\xC3\xAFve", "Caf\xC3\xA9 \xE2\x82\xAC", "na\xC3\xAFve");
}

Test(input, whitespace_only_first_line_then_text)
{
    TEXT_DOC("   \n\n  \nx", "x", "");
}

Test(input, overlong_first_line)
{
    /* 2 MB on one line of 3-byte characters: the title is cut at 510 bytes */
    size_t n = (2u << 20) / 3 * 3;
    char *s = malloc(n);
    cr_assert_not_null(s);
    for (size_t i = 0; i < n; i += 3) memcpy(s + i, "\xE2\x82\xAC", 3);
    write_bytes("long.txt", s, n);
    run_result res;
    run1(&res, P("long.txt"), 0);
    cr_assert_eq(res.ndocs, 1);
    cr_expect_eq(res.docs[0].title_len, 510);
    cr_expect(memcmp(res.docs[0].title, s, 510) == 0);
    cr_expect_eq(res.docs[0].text_len, n);
    cr_expect(memcmp(res.docs[0].text, s, n) == 0);
    free_result(&res);
    free(s);

    /* exactly INPUT_MAX_TITLE_BYTES is still a headline */
    char line[600];
    memset(line, 'a', sizeof line);
    memcpy(line + INPUT_MAX_TITLE_BYTES, "\nrest", 5);
    write_bytes("edge.txt", line, INPUT_MAX_TITLE_BYTES + 5);
    run1(&res, P("edge.txt"), 0);
    cr_assert_eq(res.ndocs, 1);
    cr_expect_eq(res.docs[0].title_len, INPUT_MAX_TITLE_BYTES);
    cr_expect_str_eq(res.docs[0].text, "rest");
    free_result(&res);

    /* one more byte: title is the first 512 bytes, text the whole file */
    memset(line, 'a', sizeof line);
    memcpy(line + INPUT_MAX_TITLE_BYTES + 1, "\nrest", 5);
    write_bytes("edge2.txt", line, INPUT_MAX_TITLE_BYTES + 6);
    run1(&res, P("edge2.txt"), 0);
    cr_assert_eq(res.ndocs, 1);
    cr_expect_eq(res.docs[0].title_len, INPUT_MAX_TITLE_BYTES);
    cr_expect_eq(res.docs[0].text_len, INPUT_MAX_TITLE_BYTES + 6);
    free_result(&res);
}

Test(input, empty_and_binary_files_skipped)
{
    write_str("t/0empty.txt", "");
    write_str("t/1blank.txt", " \n\t\r\n  \n");
    write_bytes("t/2nul.txt", "Title\nab\0cd", 11);
    unsigned char junk[4096];
    for (size_t i = 0; i < sizeof junk; i++) junk[i] = (unsigned char)(0x80 + (i * 7) % 0x7F);
    write_bytes("t/3junk.txt", junk, sizeof junk);
    write_str("t/4bom_only.txt", "\xEF\xBB\xBF\n");
    write_str("t/5good.txt", "good\n");
    run_result res;
    run1(&res, P("t"), 0);
    const char *ids[] = {"5good.txt"};
    expect_ids(&res, ids, 1);
    cr_assert_eq(res.nwarns, 5);
    cr_expect_str_eq(res.warns[0], "0|empty document, skipped");
    cr_expect_str_eq(res.warn_src[0], P("t/0empty.txt"));
    cr_expect_str_eq(res.warns[1], "0|empty document, skipped");
    cr_expect_str_eq(res.warns[2], "0|binary file, skipped");
    cr_expect_str_eq(res.warn_src[2], P("t/2nul.txt"));
    cr_expect_str_eq(res.warns[3], "0|binary file, skipped");
    cr_expect_str_eq(res.warns[4], "0|empty document, skipped");
    cr_expect_eq(res.stats.skipped, 5);
    cr_expect_eq(res.stats.documents, 1);
    free_result(&res);
}

Test(input, invalid_utf8_repaired)
{
    char in[512], want[512];
    size_t n = 0, w = 0;
#define ADD(buf, len, lit)                                                                         \
    do {                                                                                           \
        memcpy(buf + len, lit, sizeof(lit) - 1);                                                   \
        len += sizeof(lit) - 1;                                                                    \
    } while (0)
    ADD(in, n, "Ti\xFFtle\n");
    ADD(want, w, "Ti\xEF\xBF\xBDtle\n");
    for (int i = 0; i < 200; i++) {
        ADD(in, n, "a");
        ADD(want, w, "a");
    }
    ADD(in, n, "b\xE2\x82"); /* truncated 3-byte sequence: one U+FFFD */
    ADD(want, w, "b\xEF\xBF\xBD");
    ADD(in, n, "c\xED\xA0\x80"); /* encoded surrogate: three */
    ADD(want, w, "c\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
    ADD(in, n, "d\xC0\xAF"); /* overlong: two */
    ADD(want, w, "d\xEF\xBF\xBD\xEF\xBF\xBD");
    ADD(in, n, "e\xF0\x9F\x98"); /* truncated 4-byte: one */
    ADD(want, w, "e\xEF\xBF\xBD");
    ADD(in, n, "f\xE2\x82\xAC\xF0\x9F\x98\x80"); /* valid */
    ADD(want, w, "f\xE2\x82\xAC\xF0\x9F\x98\x80");
    ADD(in, n, "\xF4\x90\x80\x80g"); /* above U+10FFFF: four */
    ADD(want, w, "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBDg");
#undef ADD
    write_bytes("bad.txt", in, n);
    run_result res;
    run1(&res, P("bad.txt"), 0);
    cr_assert_eq(res.ndocs, 1);
    cr_expect_str_eq(res.docs[0].title, "Ti\xEF\xBF\xBDtle");
    size_t title_line = strlen("Ti\xEF\xBF\xBDtle\n");
    cr_assert_eq(res.docs[0].text_len, w - title_line);
    cr_expect(memcmp(res.docs[0].text, want + title_line, w - title_line) == 0);
    cr_assert_eq(res.nwarns, 1);
    cr_expect_str_eq(res.warns[0], "0|12 invalid UTF-8 sequences replaced");
    cr_expect_eq(res.stats.repaired_utf8, 1);
    cr_expect_eq(res.stats.skipped, 0);
    free_result(&res);
}

Test(input, max_doc_bytes_for_text_files)
{
    char buf[101];
    memset(buf, 'x', sizeof buf);
    buf[10] = '\n';
    write_bytes("m/a_ok.txt", buf, 100);
    write_bytes("m/b_big.txt", buf, 101);
    run_result res;
    run1(&res, P("m"), 100);
    const char *ids[] = {"a_ok.txt"};
    expect_ids(&res, ids, 1);
    cr_assert_eq(res.nwarns, 1);
    cr_expect(strstr(res.warns[0], "larger than 100 bytes") != NULL, "%s", res.warns[0]);
    cr_expect_str_eq(res.warn_src[0], P("m/b_big.txt"));
    cr_expect_eq(res.stats.skipped, 1);
    cr_expect_eq(res.stats.bytes_read, 100);
    free_result(&res);
}

Test(input, compressed_text_file)
{
    write_gzip("note.txt", "Gzipped title\ngzipped body\n", false);
    run_result res;
    run1(&res, P("note.txt"), 0);
    cr_assert_eq(res.ndocs, 1);
    cr_expect_str_eq(res.docs[0].title, "Gzipped title");
    cr_expect_str_eq(res.docs[0].text, "gzipped body\n");
    free_result(&res);
}

/* ------------------------------------------------------------------ JSONL */

Test(input, jsonl_documents_and_warnings)
{
    const char *jsonl =
        "{\"_id\": \"a\", \"title\": \"T\", \"text\": \"x\", \"url\": 1}\n" /* 1 */
        "{\"id\": \"b\", \"text\": \"y\"}\n"                                /* 2 */
        "{\"id\": 42, \"title\": \"n\"}\n"                                  /* 3 */
        "{\"title\": \"no id\"}\n"                                          /* 4 */
        "{\"id\": \"bad\", \"text\": }\n"                                   /* 5 */
        "\n"                                                                /* 6 */
        "[1, 2]\n"                                                          /* 7 */
        "{\"id\": \"c\", \"title\": 5}\n"                                   /* 8 */
        "{\"id\": \"d\", \"title\": \"\\u00e9\\ud83d\\ude00\\u0000x\", "
        "\"text\": \"a\\u0000b\\n\\\"q\\\"\"}\r\n"                            /* 9 */
        "  \t\r\n"                                                            /* 10 */
        "{\"id\": -7, \"_id\": \"e\", \"text\": \"both\", \"title\": null}\n" /* 11 */
        "{\"id\": true, \"text\": \"t\"}\n"                                   /* 12 */
        "{\"id\": \"f\", \"text\": \"  \", \"title\": \"\"}\n"                /* 13 */
        "\"just a string\"\n"                                                 /* 14 */
        "{\"id\": \"g\", \"text\": \"x\\ud800y\", \"t\": \"\\\\ud800\"}\n"    /* 15 */
        "{\"id\": 18446744073709551616}\n"                                    /* 16 */
        "{\"id\": -9, \"text\": \"last line, no newline\"}";                  /* 17 */
    write_str("docs.jsonl", jsonl);
    run_result res;
    run1(&res, P("docs.jsonl"), 0);
    dump_warnings(&res);
    cr_assert_eq(res.rc, 0);
    const char *ids[] = {"a", "b", "42", "d", "e", "g", "-9"};
    expect_ids(&res, ids, 7);
    uint64_t lines[] = {1, 2, 3, 9, 11, 15, 17};
    for (size_t i = 0; i < 7; i++) cr_expect_eq(res.docs[i].line, lines[i], "doc %zu", i);
    cr_expect_str_eq(res.docs[0].title, "T");
    cr_expect_str_eq(res.docs[0].text, "x");
    cr_expect_str_eq(res.docs[0].source, P("docs.jsonl"));
    cr_expect_str_eq(res.docs[1].title, "");
    cr_expect_str_eq(res.docs[1].text, "y");
    cr_expect_str_eq(res.docs[2].title, "n");
    cr_expect_str_eq(res.docs[2].text, "");
    /* escapes: U+00E9, a surrogate pair (U+1F600), NUL turned into a space */
    cr_expect_str_eq(res.docs[3].title, "\xC3\xA9\xF0\x9F\x98\x80 x");
    cr_expect_eq(res.docs[3].title_len, 8);
    cr_expect_str_eq(res.docs[3].text, "a b\n\"q\"");
    cr_expect_eq(res.docs[3].text_len, 7);
    cr_expect_str_eq(res.docs[4].text, "both");
    cr_expect_str_eq(res.docs[4].title, "");
    /* a lone surrogate escape becomes U+FFFD */
    cr_expect_str_eq(res.docs[5].text, "x\xEF\xBF\xBDy");
    cr_expect_str_eq(res.docs[6].text, "last line, no newline");

    cr_assert(has_warning(&res, "4|no \"_id\" or \"id\", skipped"));
    bool malformed = false;
    for (size_t i = 0; i < res.nwarns; i++)
        if (strncmp(res.warns[i], "5|malformed JSON (", 18) == 0 &&
            strstr(res.warns[i], "), skipped"))
            malformed = true;
    cr_expect(malformed, "no malformed-JSON warning for line 5");
    cr_expect(has_warning(&res, "7|not a JSON object, skipped"));
    cr_expect(has_warning(&res, "8|\"title\" is not a string, skipped"));
    cr_expect(has_warning(&res, "12|\"id\" is not a string or integer, skipped"));
    cr_expect(has_warning(&res, "13|empty document, skipped"));
    cr_expect(has_warning(&res, "14|not a JSON object, skipped"));
    cr_expect(has_warning(&res, "15|1 invalid UTF-8 sequences replaced"));
    bool big = false;
    for (size_t i = 0; i < res.nwarns; i++)
        if (strncmp(res.warns[i], "16|malformed JSON (", 19) == 0) big = true;
    cr_expect(big, "no warning for the out-of-range integer id");
    cr_expect_eq(res.nwarns, 9);
    cr_expect_eq(res.stats.documents, 7);
    cr_expect_eq(res.stats.skipped, 8);
    cr_expect_eq(res.stats.repaired_utf8, 1);
    cr_expect_eq(res.stats.bytes_read, strlen(jsonl));
    free_result(&res);
}

Test(input, jsonl_crlf_bom_and_invalid_utf8)
{
    const char *jsonl = "\xEF\xBB\xBF{\"id\":\"1\",\"title\":\"one\"}\r\n"
                        "\r\n"
                        "{\"id\":\"2\",\"text\":\"caf\xE9 ok\"}\r\n"
                        "{\"id\":\"3\",\"text\":\"\xff\xfe\xfd\"}\r\n";
    write_str("crlf.jsonl", jsonl);
    run_result res;
    run1(&res, P("crlf.jsonl"), 0);
    dump_warnings(&res);
    const char *ids[] = {"1", "2"};
    expect_ids(&res, ids, 2);
    cr_expect_str_eq(res.docs[0].title, "one");
    cr_expect_eq(res.docs[1].line, 3);
    cr_expect_str_eq(res.docs[1].text, "caf\xEF\xBF\xBD ok");
    cr_expect(has_warning(&res, "3|1 invalid UTF-8 sequences replaced"));
    /* 3 bad bytes in a 26-byte line is over 10%: binary */
    cr_expect(has_warning(&res, "4|binary data, skipped"));
    cr_expect_eq(res.nwarns, 2);
    free_result(&res);
}

Test(input, jsonl_long_lines)
{
    size_t big = 70000, huge = 1000000;
    size_t cap = big + huge + 4096;
    char *s = malloc(cap), *p = s;
    cr_assert_not_null(s);
    p += sprintf(p, "{\"id\":\"too long\",\"text\":\"");
    memset(p, 'x', big);
    p += big;
    p += sprintf(p, "\"}\n{\"id\":\"ok\",\"text\":\"fine\"}\n{\"id\":\"large\",\"text\":\"");
    memset(p, 'y', 150);
    p += 150;
    p += sprintf(p, "\"}\n{\"id\":\"after\",\"text\":\"z\"}\n");
    write_bytes("long.jsonl", s, (size_t)(p - s));
    run_result res;
    run1(&res, P("long.jsonl"), 100);
    dump_warnings(&res);
    const char *ids[] = {"ok", "after"};
    expect_ids(&res, ids, 2);
    cr_expect_eq(res.docs[0].line, 2);
    cr_expect_eq(res.docs[1].line, 4);
    cr_assert_eq(res.nwarns, 2);
    cr_expect(strncmp(res.warns[0], "1|longer than ", 14) == 0, "%s", res.warns[0]);
    cr_expect_str_eq(res.warns[1], "3|document larger than 100 bytes, skipped");
    free_result(&res);

    /* a long line spanning many read chunks is put together */
    p = s;
    p += sprintf(p, "{\"id\":\"one\",\"text\":\"");
    for (size_t i = 0; i < huge; i++) p[i] = (char)('a' + i % 26);
    p += huge;
    p += sprintf(p, "\"}\n{\"id\":\"two\",\"title\":\"t\"}");
    write_zstd("huge.jsonl.zst", s, (size_t)(p - s), 3);
    run1(&res, P("huge.jsonl.zst"), 0);
    dump_warnings(&res);
    const char *ids2[] = {"one", "two"};
    expect_ids(&res, ids2, 2);
    cr_assert_eq(res.docs[0].text_len, huge);
    for (size_t i = 0; i < huge; i++)
        if (res.docs[0].text[i] != (char)('a' + i % 26)) cr_assert_fail("text differs at %zu", i);
    cr_expect_str_eq(res.docs[1].title, "t");
    cr_expect_eq(res.nwarns, 0);
    free_result(&res);
    free(s);
}

/* ------------------------------------------------------------ compression */

static const char *const small_jsonl = "{\"id\":\"z1\",\"title\":\"first\",\"text\":\"one\"}\n"
                                       "{\"id\":\"z2\",\"title\":\"second\",\"text\":\"two\"}\n";

Test(input, gzip_jsonl)
{
    write_gzip("c/a.jsonl.gz", small_jsonl, false);
    const char *member2 = "{\"id\":\"z3\",\"text\":\"second member\"}\n";
    write_gzip("c/a.jsonl.gz", member2, true);
    run_result res;
    run1(&res, P("c"), 0);
    const char *ids[] = {"z1", "z2", "z3"};
    expect_ids(&res, ids, 3);
    cr_expect_str_eq(res.docs[1].title, "second");
    cr_expect_str_eq(res.docs[2].text, "second member");
    cr_expect_eq(res.docs[2].line, 3);
    cr_expect_str_eq(res.docs[0].source, P("c/a.jsonl.gz"));
    cr_expect_eq(res.stats.bytes_read, strlen(small_jsonl) + strlen(member2));
    cr_expect_eq(res.nwarns, 0);
    free_result(&res);
}

Test(input, zstd_jsonl_and_magic_detection)
{
    write_zstd("c/b.jsonl.zst", small_jsonl, strlen(small_jsonl), 19);
    /* zstd data under a plain name, plain data under a .gz name */
    write_zstd("c/c.jsonl", small_jsonl, strlen(small_jsonl), 1);
    write_str("c/d.jsonl.gz", "{\"id\":\"plain\",\"text\":\"not compressed\"}\n");
    /* two frames one after the other */
    size_t cap = ZSTD_compressBound(100) * 2;
    char *z = malloc(cap);
    const char *f1 = "{\"id\":\"f1\",\"text\":\"a\"}\n", *f2 = "{\"id\":\"f2\",\"text\":\"b\"}\n";
    size_t n1 = ZSTD_compress(z, cap, f1, strlen(f1), 1);
    size_t n2 = ZSTD_compress(z + n1, cap - n1, f2, strlen(f2), 1);
    cr_assert(!ZSTD_isError(n1) && !ZSTD_isError(n2));
    write_bytes("c/e.jsonl.zst", z, n1 + n2);
    free(z);
    run_result res;
    run1(&res, P("c"), 0);
    dump_warnings(&res);
    cr_assert_eq(res.rc, 0, "%s", res.err.msg);
    const char *ids[] = {"z1", "z2", "z1", "z2", "plain", "f1", "f2"};
    expect_ids(&res, ids, 7);
    cr_expect_str_eq(res.docs[1].text, "two");
    cr_expect_eq(res.nwarns, 0);
    free_result(&res);
}

static void expect_fatal(const char *rel, const char *what)
{
    run_result res;
    run1(&res, P(rel), 0);
    cr_expect_lt(res.rc, 0, "%s: no error", rel);
    cr_expect(strstr(res.err.msg, P(rel)) != NULL, "message does not name the file: %s",
              res.err.msg);
    cr_expect(strstr(res.err.msg, what) != NULL, "message: %s", res.err.msg);
    free_result(&res);
}

Test(input, corrupt_compressed_streams_are_fatal)
{
    unsigned char bad[64] = {0x28, 0xB5, 0x2F, 0xFD};
    for (size_t i = 4; i < sizeof bad; i++) bad[i] = (unsigned char)(i * 37);
    write_bytes("bad.jsonl.zst", bad, sizeof bad);
    expect_fatal("bad.jsonl.zst", "zstd");

    /* a truncated stream: the documents before the cut come out first */
    char *s = malloc(2000000), *p = s;
    for (int i = 0; i < 20000; i++)
        p += sprintf(p, "{\"id\":\"%d\",\"text\":\"document number %d %x\"}\n", i, i * 7, i * 31);
    size_t cap = ZSTD_compressBound((size_t)(p - s));
    char *z = malloc(cap);
    size_t zn = ZSTD_compress(z, cap, s, (size_t)(p - s), 1);
    cr_assert(!ZSTD_isError(zn));
    write_bytes("cut.jsonl.zst", z, zn / 2);
    input_reader *r;
    const char *cut[] = {P("cut.jsonl.zst")};
    se_error err = {0};
    cr_assert_eq(input_open(&r, cut, 1, NULL, &err), SE_OK);
    input_doc d;
    int rc;
    size_t ndocs = 0;
    while ((rc = input_next(r, &d, &err)) == 1) ndocs++;
    cr_expect_lt(rc, 0);
    cr_expect(strstr(err.msg, P("cut.jsonl.zst")) != NULL, "%s", err.msg);
    cr_expect(strstr(err.msg, "truncated") != NULL, "%s", err.msg);
    cr_expect_gt(ndocs, 1000);
    cr_expect_lt(ndocs, 20000);
    input_close(r);
    free(z);
    free(s);

    unsigned char badgz[32] = {0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 3};
    for (size_t i = 10; i < sizeof badgz; i++) badgz[i] = 0xFF;
    write_bytes("bad.jsonl.gz", badgz, sizeof badgz);
    expect_fatal("bad.jsonl.gz", "gzip");

    write_gzip("cut.jsonl.gz", small_jsonl, false);
    cr_assert_eq(truncate(P("cut.jsonl.gz"), 20), 0);
    expect_fatal("cut.jsonl.gz", "gzip");

    /* the error is sticky, and closing after it is fine */
    const char *paths[] = {P("bad.jsonl.zst")};
    cr_assert_eq(input_open(&r, paths, 1, NULL, &err), SE_OK);
    rc = input_next(r, &d, &err);
    cr_expect_lt(rc, 0);
    cr_expect_eq(input_next(r, &d, NULL), rc);
    input_close(r);
}

/* -------------------------------------------------------- paths, stdin */

Test(input, missing_and_unreadable_paths)
{
    write_str("ok.txt", "fine\n");
    input_reader *r = (input_reader *)1;
    se_error err = {0};
    const char *paths[] = {P("ok.txt"), P("nope.txt")};
    int rc = input_open(&r, paths, 2, NULL, &err);
    cr_expect_eq(rc, SE_NOTFOUND);
    cr_expect_null(r);
    cr_expect(strstr(err.msg, P("nope.txt")) != NULL, "%s", err.msg);
    cr_expect(strstr(err.msg, strerror(ENOENT)) != NULL, "%s", err.msg);

    const char *under_file[] = {P("ok.txt/x")};
    cr_expect_eq(input_open(&r, under_file, 1, NULL, &err), SE_NOTFOUND);

    write_str("locked.txt", "secret\n");
    cr_assert_eq(chmod(P("locked.txt"), 0), 0);
    cr_assert_eq(mkdir(P("lockeddir"), 0755), 0);
    cr_assert_eq(chmod(P("lockeddir"), 0), 0);
    const char *locked[] = {P("locked.txt"), P("lockeddir")};
    for (size_t i = 0; i < 2; i++) {
        if (running_as_root_like(locked[i])) {
            cr_log_info("running with read access to everything: skipping the chmod 000 check");
            continue;
        }
        rc = input_open(&r, locked + i, 1, NULL, &err);
        cr_expect_eq(rc, SE_IO);
        cr_expect(strstr(err.msg, locked[i]) != NULL, "%s", err.msg);
        cr_expect(strstr(err.msg, strerror(EACCES)) != NULL, "%s", err.msg);
    }

    /* no paths: nothing to read */
    cr_assert_eq(input_open(&r, NULL, 0, NULL, &err), SE_OK);
    input_doc d;
    cr_expect_eq(input_next(r, &d, &err), 0);
    input_close(r);
    input_close(NULL);
}

Test(input, unreadable_entries_in_a_walk_are_skipped)
{
    write_str("w/a.txt", "a\n");
    write_str("w/b.txt", "b\n");
    write_str("w/c/d.txt", "d\n");
    write_str("w/e.txt", "e\n");
    chmod(P("w/b.txt"), 0);
    chmod(P("w/c"), 0);
    run_result res;
    run1(&res, P("w"), 0);
    if (running_as_root_like(P("w/b.txt"))) {
        const char *ids[] = {"a.txt", "b.txt", "c/d.txt", "e.txt"};
        expect_ids(&res, ids, 4);
    } else {
        const char *ids[] = {"a.txt", "e.txt"};
        expect_ids(&res, ids, 2);
        cr_expect_eq(res.nwarns, 2);
        cr_expect_eq(res.stats.skipped, 2);
    }
    cr_expect_eq(res.rc, 0);
    free_result(&res);
}

Test(input, stdin_jsonl)
{
    write_str("in.jsonl", "{\"id\":\"s1\",\"text\":\"from stdin\"}\nnot json\n{\"id\":\"s2\"}\n");
    int fd = open(P("in.jsonl"), O_RDONLY);
    cr_assert_geq(fd, 0);
    cr_assert_eq(dup2(fd, STDIN_FILENO), STDIN_FILENO);
    close(fd);
    run_result res;
    run1(&res, "-", 0);
    const char *ids[] = {"s1"};
    expect_ids(&res, ids, 1);
    cr_expect_str_eq(res.docs[0].source, "-");
    cr_expect_str_eq(res.docs[0].text, "from stdin");
    cr_expect_eq(res.nwarns, 2);
    cr_expect_str_eq(res.warn_src[0], "-");
    cr_expect(strncmp(res.warns[0], "2|malformed JSON", 16) == 0, "%s", res.warns[0]);
    free_result(&res);

    /* compressed standard input, read from a pipe */
    size_t cap = ZSTD_compressBound(strlen(small_jsonl));
    char *z = malloc(cap);
    size_t zn = ZSTD_compress(z, cap, small_jsonl, strlen(small_jsonl), 3);
    int pfd[2];
    cr_assert_eq(pipe(pfd), 0);
    cr_assert_eq(write(pfd[1], z, zn), (ssize_t)zn);
    close(pfd[1]);
    free(z);
    cr_assert_eq(dup2(pfd[0], STDIN_FILENO), STDIN_FILENO);
    close(pfd[0]);
    run1(&res, "-", 0);
    const char *ids2[] = {"z1", "z2"};
    expect_ids(&res, ids2, 2);
    free_result(&res);
}

Test(input, close_midway)
{
    make_tree();
    write_gzip("d/g.jsonl.gz", small_jsonl, false);
    write_zstd("d/h.jsonl.zst", small_jsonl, strlen(small_jsonl), 3);
    for (int stop = 0; stop < 14; stop++) {
        input_reader *r;
        const char *paths[] = {P("d"), P("d/a")};
        se_error err;
        cr_assert_eq(input_open(&r, paths, 2, NULL, &err), SE_OK);
        input_doc d;
        for (int i = 0; i < stop; i++)
            if (input_next(r, &d, &err) != 1) break;
        input_close(r);
    }
}

/* ------------------------------------------------------------ real data */

Test(input, seed_articles)
{
    const char *dir = getenv("SE_SEEDS_DIR");
    if (!dir) dir = "../shared/seeds";
    struct stat st;
    if (stat(dir, &st) != 0) cr_skip_test("no seeds directory at %s", dir);
    run_result res;
    run1(&res, dir, 0);
    dump_warnings(&res);
    cr_assert_eq(res.rc, 0, "%s", res.err.msg);
    const char *ids[] = {"000_4ba38f661be85159.txt", "001_5417c789047b9aae.txt",
                         "002_14ac94f3dac0b736.txt", "003_d93352f288e00e73.txt",
                         "004_aae3888f8c13e543.txt"};
    expect_ids(&res, ids, 5);
    cr_expect_str_eq(res.docs[0].title, "JRB - Fotolia");
    for (size_t i = 0; i < res.ndocs; i++) {
        cr_expect_gt(res.docs[i].title_len, 0);
        cr_expect_gt(res.docs[i].text_len, 100);
    }
    cr_expect_eq(res.nwarns, 0);
    free_result(&res);
}

Test(input, scifact_first_thousand)
{
    const char *data = getenv("SE_DATA_DIR");
    if (!data) data = "../shared/data";
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/scifact/corpus.jsonl", data);
    struct stat st;
    if (stat(path, &st) != 0) cr_skip_test("no SciFact corpus at %s", path);
    input_reader *r;
    const char *paths[] = {path};
    run_result warns = {0};
    input_options opts = {.warn = collect_warn, .warn_ctx = &warns};
    se_error err;
    cr_assert_eq(input_open(&r, paths, 1, &opts, &err), SE_OK, "%s", err.msg);
    input_doc d;
    size_t n = 0;
    while (n < 1000) {
        int rc = input_next(r, &d, &err);
        cr_assert_eq(rc, 1, "document %zu: rc %d %s", n, rc, rc < 0 ? err.msg : "");
        if (n == 0) {
            cr_expect(d.id_len == 4 && memcmp(d.id, "4983", 4) == 0);
            cr_expect(d.title_len > 30 && memcmp(d.title, "Microstructural development", 27) == 0);
        }
        cr_expect_gt(d.id_len, 0);
        cr_expect_gt(d.text_len + d.title_len, 0);
        cr_expect_eq(d.line, n + 1);
        n++;
    }
    cr_expect_eq(warns.nwarns, 0);
    input_stats s = input_get_stats(r);
    cr_expect_eq(s.documents, 1000);
    input_close(r);
    free_result(&warns);
}

/* What the documented JSONL rules make of one line, decided by jansson
 * alone: 1 with the fields (NUL characters as spaces), or 0 when the line
 * gives no document. */
static int reference_doc(const char *line, char **id, char **title, char **text)
{
    json_t *j = json_loadb(line, strlen(line), JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    if (!j) return 0;
    int ok = json_is_object(j);
    json_t *idv = ok ? json_object_get(j, "_id") : NULL;
    if (ok && !idv) idv = json_object_get(j, "id");
    char buf[32];
    const char *ids = NULL;
    size_t id_len = 0;
    if (idv && json_is_string(idv)) {
        ids = json_string_value(idv);
        id_len = json_string_length(idv);
    } else if (idv && json_is_integer(idv)) {
        id_len =
            (size_t)snprintf(buf, sizeof buf, "%" JSON_INTEGER_FORMAT, json_integer_value(idv));
        ids = buf;
    }
    ok = ok && ids && id_len > 0;
    const char *names[2] = {"title", "text"};
    char *out[2] = {NULL, NULL};
    for (int f = 0; f < 2 && ok; f++) {
        json_t *v = json_object_get(j, names[f]);
        if (v && !json_is_null(v) && !json_is_string(v)) ok = 0;
        const char *s = v && json_is_string(v) ? json_string_value(v) : "";
        size_t n = v && json_is_string(v) ? json_string_length(v) : 0;
        out[f] = dup_n(s, n);
        for (size_t i = 0; i < n; i++)
            if (out[f][i] == '\0') out[f][i] = ' ';
    }
    /* A document of blanks only is skipped as empty. */
    if (ok && strspn(out[0], " \t\n\r\v\f") == strlen(out[0]) &&
        strspn(out[1], " \t\n\r\v\f") == strlen(out[1]))
        ok = 0;
    if (ok) {
        *id = dup_n(ids, id_len);
        for (size_t i = 0; i < id_len; i++)
            if ((*id)[i] == '\0') (*id)[i] = ' ';
        *title = out[0];
        *text = out[1];
    } else {
        free(out[0]);
        free(out[1]);
    }
    json_decref(j);
    return ok;
}

/* The reader takes plain lines without jansson: whatever it does, every
 * line must give exactly the document jansson's reading gives (or none). */
Test(input, jsonl_lines_read_as_jansson_reads_them)
{
    static const char *const lines[] = {
        "{\"id\": \"a1\", \"title\": \"Plain\", \"text\": \"words here\"}",
        "{\"text\": \"first\", \"id\": \"a2\", \"title\": \"order\"}",
        "{\"id\":\"a3\",\"title\":\"tight\",\"text\":\"no spaces\"}",
        " \t{ \"id\" : \"a4\" , \"text\" : \"spaced\" } \r",
        "{\"id\": \"a5\", \"text\": \"dup\", \"text\": \"later wins\"}",
        "{\"id\": \"a6\", \"_id\": \"u6\", \"id\": \"again\", \"text\": \"_id wins\"}",
        "{\"id\": 123456789012345678, \"text\": \"18 digits\"}",
        "{\"id\": 1234567890123456789, \"text\": \"19 digits\"}",
        "{\"id\": -0, \"text\": \"minus zero\"}",
        "{\"id\": 007, \"text\": \"leading zeros\"}",
        "{\"id\": 1.5, \"text\": \"real id\"}",
        "{\"id\": \"a12\", \"n\": 2.5e3, \"text\": \"real elsewhere\"}",
        "{\"id\": \"a13\", \"m\": {\"k\": [1, 2]}, \"text\": \"nested elsewhere\"}",
        "{\"id\": \"a14\", \"flag\": true, \"none\": null, \"no\": false, \"text\": \"literals\"}",
        "{\"id\": \"a15\", \"title\": null, \"text\": null}",
        "{\"id\": \"a16\", \"title\": true, \"text\": \"title not a string\"}",
        "{\"id\": \"a17\", \"t\\u0069tle\": \"escaped key\", \"text\": \"x\"}",
        "{\"id\": \"a18\", \"text\": \"esc \\\" \\\\ \\/ \\b \\f \\n \\r \\t end\"}",
        "{\"id\": \"a19\", \"text\": \"\\u00e9\\u4e2d\\ud83d\\ude00 \\u0041\"}",
        "{\"id\": \"a\\u0000b\", \"text\": \"nul in id \\u0000 and text\"}",
        "{\"id\": \"a21\", \"text\": \"lone \\udc00 low\"}",
        "{\"id\": \"a22\", \"text\": \"bad \\x escape\"}",
        "{\"id\": \"a23\", \"text\": \"raw\ttab\"}",
        "{\"id\": \"a24\", \"text\": \"trailing\"} x",
        "{\"id\": \"a25\", \"text\": \"trailing comma\",}",
        "{\"id\": \"a26\" \"text\": \"no comma\"}",
        "{\"id\": \"\", \"text\": \"empty id\"}",
        "{}",
        "{\"id\": \"a29\", \"text\": \"unterminated}",
        "{\"id\": \"a30\", \"text\": \"short \\u12\"}",
        "{\"id\": \"a31\", \"text\": \"caf\xC3\xA9 raw utf-8\"}",
        "{\"id\": [1], \"text\": \"array id\"}",
        "{\"id\": \"a33\", \"text\": \"x\", \"k\": -}",
        "{\"id\": \"a34\", \"title\": \"\\ud800\\udc00 pair\", \"text\": \"y\"}",
    };
    size_t n = sizeof lines / sizeof lines[0];
    size_t len = 0;
    for (size_t i = 0; i < n; i++) len += strlen(lines[i]) + 1;
    char *all = malloc(len + 1), *p = all;
    cr_assert_not_null(all);
    for (size_t i = 0; i < n; i++) p += sprintf(p, "%s\n", lines[i]);
    write_str("diff.jsonl", all);
    free(all);
    run_result res;
    run1(&res, P("diff.jsonl"), 0);
    cr_assert_eq(res.rc, 0);
    size_t k = 0, expected = 0;
    for (size_t i = 0; i < n; i++) {
        char *id, *title, *text;
        if (!reference_doc(lines[i], &id, &title, &text)) {
            /* No document from this line, unless a lone surrogate was
             * repaired (jansson alone refuses the line). */
            if (k < res.ndocs && res.docs[k].line == i + 1) {
                cr_expect(strstr(lines[i], "\\ud") || strstr(lines[i], "\\udc"),
                          "line %zu gave a document jansson does not: %s", i + 1, lines[i]);
                k++;
            }
            continue;
        }
        expected++;
        cr_assert_lt(k, res.ndocs, "line %zu gave no document: %s", i + 1, lines[i]);
        const got_doc *g = &res.docs[k++];
        cr_expect_eq(g->line, i + 1, "line %zu: %s", i + 1, lines[i]);
        cr_expect_str_eq(g->id, id, "line %zu", i + 1);
        cr_expect_str_eq(g->title, title, "line %zu", i + 1);
        cr_expect_str_eq(g->text, text, "line %zu", i + 1);
        free(id);
        free(title);
        free(text);
    }
    cr_expect_eq(k, res.ndocs, "more documents than lines that make one");
    cr_expect_geq(expected, 15);
    free_result(&res);
}

/* Ids of up to SEG_MAX_ID_LEN bytes are taken; a longer JSONL id or text
 * file path is skipped with a warning, and the documents around it are not. */
Test(input, ids_longer_than_the_limit_skipped)
{
    char *s = malloc(3 * SEG_MAX_ID_LEN + 256);
    cr_assert_not_null(s);
    char *p = s;
    p += sprintf(p, "{\"id\":\"");
    memset(p, 'a', SEG_MAX_ID_LEN);
    p += SEG_MAX_ID_LEN;
    p += sprintf(p, "\",\"text\":\"at the limit\"}\n{\"id\":\"");
    memset(p, 'b', SEG_MAX_ID_LEN + 1);
    p += SEG_MAX_ID_LEN + 1;
    p += sprintf(p, "\",\"text\":\"over it\"}\n{\"id\":\"after\",\"text\":\"z\"}\n");
    write_bytes("ids.jsonl", s, (size_t)(p - s));
    run_result res;
    run1(&res, P("ids.jsonl"), 0);
    dump_warnings(&res);
    cr_assert_eq(res.ndocs, 2);
    cr_expect_eq(strlen(res.docs[0].id), SEG_MAX_ID_LEN);
    cr_expect_str_eq(res.docs[1].id, "after");
    cr_assert_eq(res.nwarns, 1);
    cr_expect(strstr(res.warns[0], "2|\"id\" longer than 1024 bytes, skipped") != NULL, "%s",
              res.warns[0]);
    cr_expect_eq(res.stats.skipped, 1);
    free_result(&res);
    free(s);
}
