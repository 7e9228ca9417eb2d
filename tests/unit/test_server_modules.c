/*
 * test_server_modules.c - the server's modules without HTTP:
 *
 *   - docmap: over an index of several segments with replaced and deleted
 *     documents (built in-process), every live id maps to the segment and
 *     document holding its current version, and no deleted or unknown id
 *     is found;
 *   - generation: gen_store_refresh picks up a new commit; a gen acquired
 *     before stays open (and searchable) until released, and is closed
 *     then; a refresh without a commit changes nothing;
 *   - worker: a worker rebinds its searcher when the generation changes;
 *   - hl_marked_to_html: escaping and <mark> markup.
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/index.h"
#include "indexer/build.h"
#include "indexer/input.h"
#include "searcher/search.h"
#include "server/api.h"
#include "server/docmap.h"
#include "server/generation.h"
#include "server/highlight.h"
#include "server/worker.h"
#include "tests/support/docgen.h"
#include "tests/support/fsutil.h"

#define NIDS 300

static char *g_tmp;
static char g_index[4096], g_jsonl[4096];

static void setup(void)
{
    g_tmp = fs_mkdtemp_fast("se_unit_server_");
    cr_assert_not_null(g_tmp);
    cr_assert_eq(fs_join(g_index, sizeof g_index, g_tmp, "index"), 0);
    cr_assert_eq(fs_join(g_jsonl, sizeof g_jsonl, g_tmp, "in.jsonl"), 0);
}

static void teardown(void)
{
    if (g_tmp) fs_rm_rf(g_tmp);
    free(g_tmp);
    g_tmp = NULL;
}

TestSuite(server, .init = setup, .fini = teardown, .timeout = 120);

/* Write documents [from, to) in version v and index them (no merge, so
 * every run adds a segment); ids in del are deleted in the same run. */
static void index_run(uint32_t from, uint32_t to, uint32_t v, const char *const *del, size_t ndel)
{
    FILE *f = fopen(g_jsonl, "w");
    cr_assert_not_null(f);
    for (uint32_t n = from; n < to; n++) cr_assert_eq(docgen_write_jsonl(f, n, v), 0);
    cr_assert_eq(fclose(f), 0);
    input_reader *in = NULL;
    se_error err = {0};
    const char *paths[1] = {g_jsonl};
    input_options io = {0};
    if (to > from)
        cr_assert_eq(input_open(&in, paths, 1, &io, &err), SE_OK, "input_open: %s", err.msg);
    build_options bo = {.no_merge = 1, .delete_ids = del, .ndelete_ids = ndel};
    build_stats st;
    int rc = build_index(g_index, in, &bo, &st, &err);
    input_close(in);
    cr_assert_eq(rc, SE_OK, "build_index: %s", err.msg);
}

Test(server, docmap_finds_live_documents_only)
{
    index_run(0, 200, 1, NULL, 0);
    index_run(150, NIDS, 2, NULL, 0); /* 150..199 replaced, 200..299 new */
    const char *del[] = {"doc000007", "doc000160", "doc000250"};
    index_run(0, 0, 0, del, 3);

    docset want;
    cr_assert_eq(docset_init(&want, NIDS), 0);
    char why[512];
    cr_assert_eq(docgen_read_index(g_index, &want, NULL, why, sizeof why), 0, "%s", why);
    cr_assert_eq(docset_count(&want), NIDS - 3);

    index_reader *ix;
    se_error err = {0};
    cr_assert_eq(index_open(&ix, g_index, &err), SE_OK, "%s", err.msg);
    cr_assert_geq(ix->nsegments, 2);
    docmap m;
    cr_assert_eq(docmap_build(&m, ix, &err), SE_OK);
    cr_assert_eq(m.count, NIDS - 3);
    seg_store_buffer buf;
    seg_store_buffer_init(&buf);
    for (uint32_t n = 0; n < NIDS + 20; n++) {
        char id[32];
        snprintf(id, sizeof id, "doc%06u", n);
        uint32_t s, d;
        int found = docmap_find(&m, id, strlen(id), &s, &d);
        uint32_t version = n < NIDS ? want.version[n] : 0;
        cr_assert_eq(found, version != 0, "%s: found %d, version %u", id, found, version);
        if (!found) continue;
        cr_assert_lt(s, ix->nsegments);
        const uint64_t *bits = segment_deleted_bits(ix->segments[s]);
        cr_assert(!bits || !dels_is_deleted(bits, d), "%s maps to a deleted copy", id);
        seg_document sd;
        cr_assert_eq(segment_document(ix->segments[s], d, &buf, &sd, &err), SE_OK);
        cr_assert(sd.id_len == strlen(id) && memcmp(sd.id, id, sd.id_len) == 0);
        docgen_doc g;
        cr_assert_eq(docgen_make(&g, n, version), 0);
        cr_assert(sd.title_len == strlen(g.title) && memcmp(sd.title, g.title, sd.title_len) == 0,
                  "%s: the current version", id);
        docgen_doc_free(&g);
    }
    cr_assert_eq(docmap_find(&m, "", 0, &(uint32_t){0}, &(uint32_t){0}), 0);
    seg_store_buffer_free(&buf);
    docmap_free(&m);
    index_close(ix);
    docset_free(&want);
}

static uint64_t hits_for(worker *w, const char *q)
{
    search_options so = {.k = 10, .k1 = SEARCH_DEFAULT_K1, .b = SEARCH_DEFAULT_B, .exhaustive = 1};
    search_result res;
    se_error err = {0};
    cr_assert_eq(searcher_run(w->s, q, strlen(q), &so, &res, &err), SE_OK, "%s", err.msg);
    return res.matches;
}

Test(server, generations_are_reference_counted)
{
    index_run(0, 50, 1, NULL, 0);
    gen_store st;
    se_error err = {0};
    cr_assert_eq(gen_store_open(&st, g_index, &err), SE_OK, "%s", err.msg);
    int changed = -1;
    cr_assert_eq(gen_store_refresh(&st, &changed, &err), SE_OK);
    cr_assert_eq(changed, 0, "no commit, no change");
    worker *w;
    cr_assert_eq(worker_new(&w, &err), SE_OK);

    gen *old = gen_acquire(&st);
    cr_assert_eq(worker_bind(w, old, &err), SE_OK);
    cr_assert_eq(hits_for(w, DOCGEN_COMMON_WORD), 50);
    cr_assert_eq(atomic_load(&st.alive), 1);

    index_run(50, 80, 1, NULL, 0);
    cr_assert_eq(gen_store_refresh(&st, &changed, &err), SE_OK, "%s", err.msg);
    cr_assert_eq(changed, 1);
    cr_assert_eq(atomic_load(&st.alive), 2, "the old gen is still held");
    cr_assert_eq(old->ix->ndocs, 50);
    cr_assert_eq(hits_for(w, DOCGEN_COMMON_WORD), 50, "the held gen still answers");

    gen *cur = gen_acquire(&st);
    cr_assert_neq(cur, old);
    cr_assert_eq(cur->ix->ndocs, 80);
    cr_assert_gt(cur->serial, old->serial);
    gen_release(old);
    cr_assert_eq(atomic_load(&st.alive), 1, "released: closed");
    cr_assert_eq(worker_bind(w, cur, &err), SE_OK);
    cr_assert_eq(hits_for(w, DOCGEN_COMMON_WORD), 80);
    cr_assert_eq(worker_bind(w, cur, &err), SE_OK);
    cr_assert(w->serial == cur->serial);
    gen_release(cur);

    cr_assert_eq(gen_store_refresh(&st, &changed, &err), SE_OK);
    cr_assert_eq(changed, 0);
    worker_free(w);
    gen_store_close(&st);
    cr_assert_eq(atomic_load(&st.alive), 0);
}

Test(server, marked_text_to_html)
{
    const char in[] = "a<b> & \"c\" 'd' \x01hit\x02 end";
    char *out = hl_marked_to_html(in, sizeof in - 1);
    cr_assert_not_null(out);
    cr_assert_str_eq(out, "a&lt;b&gt; &amp; &quot;c&quot; &#39;d&#39; <mark>hit</mark> end");
    free(out);
    out = hl_marked_to_html("\"\"\"\"", 4); /* the longest escape, repeated */
    cr_assert_str_eq(out, "&quot;&quot;&quot;&quot;");
    free(out);
    out = hl_marked_to_html("", 0);
    cr_assert_str_eq(out, "");
    free(out);
}

/* The article view's highlighting: a term wherever it occurs, a phrase
 * only where it occurs as the phrase (one <mark> over it), line breaks and
 * punctuation kept, text escaped. */
Test(server, whole_text_highlighting)
{
    FILE *f = fopen(g_jsonl, "w");
    cr_assert_not_null(f);
    fputs("{\"id\":\"a\",\"title\":\"Ethical <notes>\",\"text\":\"Line one says ethical.\\n\\n"
          "The ethical responsibilities, & responsibility alone.\"}\n",
          f);
    cr_assert_eq(fclose(f), 0);
    input_reader *in = NULL;
    se_error err = {0};
    const char *paths[1] = {g_jsonl};
    input_options io = {0};
    cr_assert_eq(input_open(&in, paths, 1, &io, &err), SE_OK, "%s", err.msg);
    build_options bo = {0};
    build_stats st;
    cr_assert_eq(build_index(g_index, in, &bo, &st, &err), SE_OK, "%s", err.msg);
    input_close(in);

    gen_store gs;
    cr_assert_eq(gen_store_open(&gs, g_index, &err), SE_OK, "%s", err.msg);
    worker *w;
    cr_assert_eq(worker_new(&w, &err), SE_OK);
    gen *g = gen_acquire(&gs);
    cr_assert_eq(worker_bind(w, g, &err), SE_OK);
    const char *q = "\"ethical responsibility\" line";
    search_options so = {.k = 10, .k1 = SEARCH_DEFAULT_K1, .b = SEARCH_DEFAULT_B, .exhaustive = 1};
    search_result res;
    cr_assert_eq(searcher_run(w->s, q, strlen(q), &so, &res, &err), SE_OK, "%s", err.msg);
    cr_assert_eq(res.nhits, 1);
    seg_document d;
    cr_assert_eq(segment_document(g->ix->segments[res.hits[0].segment], res.hits[0].doc, &w->store,
                                  &d, &err),
                 SE_OK);
    char *html;
    cr_assert_eq(hl_text_html(w->an, searcher_highlight(w->s), d.text, d.text_len, &html), SE_OK);
    cr_assert_str_eq(html, "<mark>Line</mark> one says ethical.\n\nThe <mark>ethical "
                           "responsibilities</mark>, &amp; responsibility alone.");
    free(html);
    cr_assert_eq(hl_text_html(w->an, searcher_highlight(w->s), d.title, d.title_len, &html), SE_OK);
    cr_assert_str_eq(html, "Ethical &lt;notes&gt;", "no phrase in the title: nothing marked");
    free(html);
    cr_assert_eq(hl_snippet_html(w->an, searcher_highlight(w->s), d.text, d.text_len, 32, &html),
                 SE_OK);
    cr_assert(strstr(html, "<mark>ethical responsibilities</mark>, &amp;"), "%s", html);
    free(html);
    gen_release(g);
    worker_free(w);
    gen_store_close(&gs);
}
