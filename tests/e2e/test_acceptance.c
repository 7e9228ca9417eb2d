/*
 * test_acceptance.c - end-to-end acceptance tests: bin/index over the
 * repository's corpus/ and the shared seed articles, then bin/search.
 *
 *   - "ethical responsibility" ranks the articles that contain that phrase
 *     in its top four; the quoted phrase returns exactly them; "ethical
 *     -responsibility" returns none of them.  Which articles contain the
 *     phrase is worked out here by reading corpus/ (case-insensitively, white
 *     space folded, at word boundaries, so quotes around it do not matter),
 *     not hard-coded;
 *   - exit status 0 with hits, 1 without;
 *   - indexing a directory gives each file its name (relative path) as id;
 *   - a failed run (a missing input path, nothing to index) leaves the
 *     previous generation exactly as it was, answering queries identically;
 *     a successful run replaces it and removes the old segment files.
 *
 * Every test works in its own mkdtemp directory, removed by the fixture.
 */
#include <criterion/criterion.h>

#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tests/e2e/expect.h"
#include "tests/support/e2e.h"
#include "tests/support/fsutil.h"
#include "tests/support/run.h"

#define CORPUS  "corpus"
#define PHRASE  "ethical responsibility"
#define TIMEOUT 60.0

/* ------------------------------------------------------------- fixture */

static char *g_tmp;
static char g_index[4096];

static void setup(void)
{
    g_tmp = fs_mkdtemp("se_e2e_accept_");
    cr_assert_not_null(g_tmp, "mkdtemp failed");
    cr_assert_eq(fs_join(g_index, sizeof g_index, g_tmp, "index"), 0);
}

static void teardown(void)
{
    if (g_tmp) fs_rm_rf(g_tmp);
    free(g_tmp);
    g_tmp = NULL;
}

TestSuite(acceptance, .init = setup, .fini = teardown, .timeout = 120);

/* ------------------------------------------------------------- helpers */

/* A list of file names (document ids). */
typedef struct names {
    size_t n;
    char *v[64];
} names;

static void names_free(names *s)
{
    for (size_t i = 0; i < s->n; i++) free(s->v[i]);
    s->n = 0;
}

static int names_has(const names *s, const char *name)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->v[i], name) == 0) return 1;
    return 0;
}

static int is_article(const char *name)
{
    size_t n = strlen(name);
    if (name[0] == '.') return 0;
    return (n > 4 && strcmp(name + n - 4, ".txt") == 0) ||
           (n > 3 && strcmp(name + n - 3, ".md") == 0);
}

/* Does text contain the phrase (lower-case words separated by single
 * spaces) case-insensitively, with any run of white space between its words,
 * and not inside a longer word? */
static int contains_phrase(const char *text, const char *phrase)
{
    size_t n = strlen(text), m = 0;
    char *norm = malloc(n + 1);
    cr_assert_not_null(norm);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)text[i];
        if (isspace(c)) {
            if (m == 0 || norm[m - 1] != ' ') norm[m++] = ' ';
        } else {
            norm[m++] = (char)tolower(c);
        }
    }
    norm[m] = 0;
    int found = 0;
    size_t plen = strlen(phrase);
    for (const char *p = norm; !found && (p = strstr(p, phrase)) != NULL; p++) {
        int before = p > norm && isalnum((unsigned char)p[-1]);
        int after = isalnum((unsigned char)p[plen]);
        found = !before && !after;
    }
    free(norm);
    return found;
}

/* The articles of dir (their names, which are their ids), and those of them
 * that contain phrase. */
static void scan_articles(const char *dir, const char *phrase, names *all, names *with)
{
    all->n = 0;
    if (with) with->n = 0;
    DIR *d = opendir(dir);
    cr_assert_not_null(d, "cannot read %s", dir);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!is_article(e->d_name)) continue;
        cr_assert_lt(all->n, 64);
        all->v[all->n++] = strdup(e->d_name);
        if (!with) continue;
        char path[4096];
        cr_assert_eq(fs_join(path, sizeof path, dir, e->d_name), 0);
        char *text = fs_read_file(path, NULL);
        cr_assert_not_null(text, "cannot read %s", path);
        if (contains_phrase(text, phrase)) with->v[with->n++] = strdup(e->d_name);
        free(text);
    }
    closedir(d);
}

static void index_into(const char *dir, const char *input)
{
    run_result r;
    e2e_run(&r, TIMEOUT, "index", "-i", dir, input, NULL);
    EXPECT_EXIT(&r, 0, "index");
    run_result_free(&r);
}

/* search --json over the index; checks the exit status (0 with hits, 1
 * without) and returns the parsed hits. */
static void search_json(const char *dir, const char *query, const char *k, e2e_hits *h)
{
    run_result r;
    e2e_run(&r, TIMEOUT, "search", "-i", dir, "--json", "-k", k, query, NULL);
    char why[512];
    cr_assert_eq(e2e_parse_hits(r.out, 1, h, why, sizeof why), 0, "search %s: %s", query, why);
    EXPECT_EXIT(&r, h->n ? 0 : 1, query);
    if (h->n == 0) EXPECT_STDOUT_EMPTY(&r, query);
    run_result_free(&r);
}

/* The ids of the text output's hit lines (" 1. ID  (score ...)"), in order. */
static void text_ids(const char *out, names *ids)
{
    ids->n = 0;
    for (const char *p = out; *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        unsigned rank;
        int off = 0;
        if (sscanf(p, " %u. %n", &rank, &off) == 1 && off > 0 && (size_t)off < len) {
            const char *id = p + off, *end = strstr(id, "  (score ");
            if (end && end < p + len && ids->n < 64) {
                cr_assert_eq(rank, ids->n + 1, "text output ranks out of order:\n%s", out);
                ids->v[ids->n++] = strndup(id, (size_t)(end - id));
            }
        }
        p = nl ? nl + 1 : p + len;
    }
}

/* ------------------------------------------------------------- tests */

Test(acceptance, corpus_has_three_articles_with_the_phrase)
{
    names all, with;
    scan_articles(CORPUS, PHRASE, &all, &with);
    cr_assert_eq(all.n, 5, "corpus/ should hold the five articles, found %zu", all.n);
    cr_assert_eq(with.n, 3, "three articles should contain \"%s\", found %zu", PHRASE, with.n);
    names_free(&all);
    names_free(&with);
}

Test(acceptance, words_rank_the_phrase_articles_in_the_top_four)
{
    names all, with;
    scan_articles(CORPUS, PHRASE, &all, &with);
    cr_assert_gt(with.n, 0);
    index_into(g_index, CORPUS);

    e2e_hits h;
    search_json(g_index, PHRASE, "4", &h);
    cr_assert_eq(h.n, 4, "every article has one of the words; -k 4 gives 4 hits, got %zu", h.n);
    for (size_t i = 0; i < with.n; i++)
        cr_assert_geq(e2e_hits_find(&h, with.v[i]), 0, "%s is not in the top four", with.v[i]);
    e2e_hits_free(&h);

    /* The default text output agrees. */
    run_result r;
    e2e_run(&r, TIMEOUT, "search", "-i", g_index, PHRASE, NULL);
    EXPECT_EXIT(&r, 0, "search (text)");
    names ids;
    text_ids(r.out, &ids);
    cr_assert_eq(ids.n, all.n, "text output should list all %zu articles:\n%s", all.n, r.out);
    for (size_t i = 0; i < with.n; i++) {
        size_t at = 0;
        while (at < ids.n && strcmp(ids.v[at], with.v[i]) != 0) at++;
        cr_assert_lt(at, 4, "%s is not in the top four of the text output:\n%s", with.v[i], r.out);
    }
    cr_assert(strstr(r.out, "matching documents of 5"), "no summary line:\n%s", r.out);
    names_free(&ids);
    run_result_free(&r);
    names_free(&all);
    names_free(&with);
}

Test(acceptance, quoted_phrase_returns_exactly_the_phrase_articles)
{
    names all, with;
    scan_articles(CORPUS, PHRASE, &all, &with);
    index_into(g_index, CORPUS);
    e2e_hits h;
    search_json(g_index, "\"" PHRASE "\"", "100", &h);
    cr_assert_eq(h.n, with.n, "expected %zu hits, got %zu", with.n, h.n);
    for (size_t i = 0; i < h.n; i++) {
        cr_assert(names_has(&with, h.hits[i].id), "%s does not contain the phrase", h.hits[i].id);
        cr_assert_eq(h.hits[i].rank, (long)i + 1);
        if (i) cr_assert_leq(h.hits[i].score, h.hits[i - 1].score, "scores not descending");
    }
    e2e_hits_free(&h);

    /* Curly quotes work like straight ones. */
    search_json(g_index, "\xe2\x80\x9c" PHRASE "\xe2\x80\x9d", "100", &h);
    cr_assert_eq(h.n, with.n, "curly-quoted phrase: expected %zu hits, got %zu", with.n, h.n);
    e2e_hits_free(&h);
    names_free(&all);
    names_free(&with);
}

Test(acceptance, excluded_word_removes_the_phrase_articles)
{
    names all, with;
    scan_articles(CORPUS, PHRASE, &all, &with);
    index_into(g_index, CORPUS);
    e2e_hits h;
    search_json(g_index, "ethical -responsibility", "100", &h); /* checks exit 0 / 1 */
    for (size_t i = 0; i < with.n; i++)
        cr_assert_lt(e2e_hits_find(&h, with.v[i]), 0, "%s contains \"responsibility\"", with.v[i]);
    e2e_hits_free(&h);
    names_free(&all);
    names_free(&with);
}

Test(acceptance, exit_status_zero_with_hits_one_without)
{
    index_into(g_index, CORPUS);
    run_result r;
    e2e_run(&r, TIMEOUT, "search", "-i", g_index, "mi5", NULL);
    EXPECT_EXIT(&r, 0, "search mi5");
    run_result_free(&r);

    e2e_run(&r, TIMEOUT, "search", "-i", g_index, "xylophonequux", NULL);
    EXPECT_EXIT(&r, 1, "search for a word in no article");
    cr_assert(strstr(r.out, "0 matching documents"), "text output without hits:\n%s", r.out);
    run_result_free(&r);

    e2e_run(&r, TIMEOUT, "search", "-i", g_index, "--json", "xylophonequux", NULL);
    EXPECT_EXIT(&r, 1, "search --json for a word in no article");
    EXPECT_STDOUT_EMPTY(&r, "search --json without hits");
    run_result_free(&r);
}

Test(acceptance, seed_ids_are_the_file_names)
{
    const char *seeds = e2e_seeds_dir();
    names all;
    scan_articles(seeds, NULL, &all, NULL);
    cr_assert_gt(all.n, 0, "no articles in %s", seeds);
    index_into(g_index, seeds);
    e2e_hits h;
    search_json(g_index, "mi5 OR the", "1000", &h);
    cr_assert_eq(h.n, all.n, "expected every seed (%zu) to match, got %zu", all.n, h.n);
    for (size_t i = 0; i < h.n; i++)
        cr_assert(names_has(&all, h.hits[i].id), "id %s is not a file name in %s", h.hits[i].id,
                  seeds);
    for (size_t i = 0; i < all.n; i++)
        cr_assert_geq(e2e_hits_find(&h, all.v[i]), 0, "%s has no hit", all.v[i]);
    e2e_hits_free(&h);
    names_free(&all);
}

/* The previous generation, as files and as answers. */
typedef struct generation {
    char *listing;
    char *answer;
} generation;

static const char *const g_lock_only[] = {"LOCK", NULL}; /* LOCK holds the last writer's pid */

static void record_generation(generation *g)
{
    g->listing = fs_dir_listing(g_index, g_lock_only);
    cr_assert_not_null(g->listing);
    run_result r;
    e2e_run(&r, TIMEOUT, "search", "-i", g_index, "--json", "-k", "100", "mi5 OR the", NULL);
    EXPECT_EXIT(&r, 0, "search the previous generation");
    g->answer = r.out;
    r.out = NULL;
    run_result_free(&r);
}

static void expect_generation(const generation *g, const char *after)
{
    char *listing = fs_dir_listing(g_index, g_lock_only);
    cr_assert_not_null(listing);
    cr_assert_str_eq(listing, g->listing, "after %s the index directory changed", after);
    free(listing);
    run_result r;
    e2e_run(&r, TIMEOUT, "search", "-i", g_index, "--json", "-k", "100", "mi5 OR the", NULL);
    EXPECT_EXIT(&r, 0, "search after a failed run");
    cr_assert_str_eq(r.out, g->answer, "after %s the answers changed", after);
    run_result_free(&r);
}

static void generation_free(generation *g)
{
    free(g->listing);
    free(g->answer);
}

Test(acceptance, failed_run_keeps_the_previous_generation)
{
    index_into(g_index, CORPUS);
    generation g;
    record_generation(&g);

    /* A missing input path, after a good one. */
    char missing[4096];
    cr_assert_eq(fs_join(missing, sizeof missing, g_tmp, "no-such-dir"), 0);
    run_result r;
    e2e_run(&r, TIMEOUT, "index", "-i", g_index, CORPUS, missing, NULL);
    EXPECT_EXIT(&r, 4, "index with a missing path");
    EXPECT_STDERR_HAS(&r, missing, "index with a missing path");
    run_result_free(&r);
    expect_generation(&g, "a missing input path");

    /* Nothing to index: a directory holding only an empty article. */
    char empty_dir[4096], empty_file[4096];
    cr_assert_eq(fs_join(empty_dir, sizeof empty_dir, g_tmp, "empty"), 0);
    cr_assert_eq(mkdir(empty_dir, 0755), 0);
    cr_assert_eq(fs_join(empty_file, sizeof empty_file, empty_dir, "blank.txt"), 0);
    cr_assert_eq(fs_write_str(empty_file, ""), 0);
    e2e_run(&r, TIMEOUT, "index", "--rebuild", "-i", g_index, empty_dir, NULL);
    EXPECT_EXIT(&r, 4, "index --rebuild with nothing to index");
    EXPECT_STDERR_HAS(&r, "no documents", "index --rebuild with nothing to index");
    run_result_free(&r);
    expect_generation(&g, "a rebuild with nothing to index");
    e2e_run(&r, TIMEOUT, "index", "--sync", "-i", g_index, empty_dir, NULL);
    EXPECT_EXIT(&r, 4, "index --sync with nothing to index");
    EXPECT_STDERR_HAS(&r, "refusing to --sync", "index --sync with nothing to index");
    run_result_free(&r);
    expect_generation(&g, "a sync with nothing to index");
    /* Adding nothing is not an error (exit 1 for the warning about the
     * empty file), and commits nothing. */
    e2e_run(&r, TIMEOUT, "index", "-i", g_index, empty_dir, NULL);
    EXPECT_EXIT(&r, 1, "index with nothing to add");
    EXPECT_STDERR_HAS(&r, "nothing changed", "index with nothing to add");
    run_result_free(&r);
    expect_generation(&g, "a run with nothing to add");
    generation_free(&g);
}

Test(acceptance, rebuild_replaces_the_generation)
{
    index_into(g_index, CORPUS);
    char *before = fs_dir_listing(g_index, g_lock_only);
    run_result r;
    e2e_run(&r, TIMEOUT, "index", "--rebuild", "-i", g_index, e2e_seeds_dir(), NULL);
    EXPECT_EXIT(&r, 0, "index --rebuild");
    run_result_free(&r);
    char *after = fs_dir_listing(g_index, g_lock_only);
    cr_assert_str_neq(before, after);
    /* Only the new generation's files remain: MANIFEST, LOCK and one
     * segment of five files. */
    cr_assert_eq(fs_count_entries(g_index), 7, "index directory holds:\n%s", after);
    free(before);
    free(after);

    names seeds;
    scan_articles(e2e_seeds_dir(), NULL, &seeds, NULL);
    e2e_hits h;
    search_json(g_index, "mi5 OR the", "1000", &h);
    cr_assert_eq(h.n, seeds.n);
    for (size_t i = 0; i < h.n; i++) cr_assert(names_has(&seeds, h.hits[i].id));
    e2e_hits_free(&h);
    names_free(&seeds);
}
