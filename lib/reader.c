/*
 * reader.c - the reading half of the public API (include/libsearch.h):
 * srch_index over an index_reader, srch_search over a searcher, and the
 * status names.
 *
 * An srch_search keeps the last searcher_run result and a cursor into it;
 * srch_search_next fetches one stored document at a time and copies its id
 * and title into NUL-terminated buffers of the handle, so nothing is read
 * from the store for hits the caller does not ask for.
 */
#define SRCH_BUILDING_LIBRARY 1
#include "include/libsearch.h"

#include <stdlib.h>
#include <string.h>

#include "common/analyzer.h"
#include "common/index.h"
#include "common/manifest.h"
#include "common/status.h"
#include "common/version.h"
#include "searcher/search.h"
#include "searcher/snippet.h"

/* The public codes are the internal ones, so they pass through unchanged. */
_Static_assert(SRCH_OK == SE_OK && SRCH_NOMEM == SE_NOMEM && SRCH_IO == SE_IO &&
                   SRCH_CORRUPT == SE_CORRUPT && SRCH_FORMAT == SE_FORMAT &&
                   SRCH_INVALID == SE_INVALID && SRCH_SYNTAX == SE_SYNTAX &&
                   SRCH_LIMIT == SE_LIMIT && SRCH_NOTFOUND == SE_NOTFOUND &&
                   SRCH_LOCKED == SE_LOCKED && SRCH_NOSPC == SE_NOSPC,
               "public status codes mirror common/status.h");

#define DEFAULT_SNIPPET_WORDS 32
#define MAX_SNIPPET_WORDS     1000

const char *srch_status_name(int code)
{
    return se_status_name(code);
}

const char *srch_version(void)
{
    return SE_VERSION;
}

/* ---- srch_index ---- */

struct srch_index {
    index_reader *ix; /* NULL when the open failed */
    se_error err;
};

int srch_index_open(srch_index **out, const char *dir)
{
    if (!out) return SRCH_INVALID;
    srch_index *h = calloc(1, sizeof *h);
    *out = h;
    if (!h) return SRCH_NOMEM;
    if (!dir || !*dir) return se_fail(&h->err, SE_INVALID, "no index directory given");
    return index_open(&h->ix, dir, &h->err);
}

int srch_index_reopen(srch_index *ix, srch_index **out)
{
    if (!ix || !out) return SRCH_INVALID;
    *out = NULL;
    if (!ix->ix) return se_fail(&ix->err, SE_INVALID, "the index is not open");
    manifest m;
    int rc = manifest_read(ix->ix->dir, &m, &ix->err);
    if (rc != SE_OK) return rc;
    uint64_t generation = m.generation;
    manifest_free(&m);
    if (generation == ix->ix->man.generation) return SRCH_OK;
    srch_index *h = calloc(1, sizeof *h);
    if (!h) return se_fail(&ix->err, SE_NOMEM, "out of memory");
    /* A newer generation still may have been committed meanwhile: index_open
     * settles on whichever is complete when it reads MANIFEST. */
    rc = index_open(&h->ix, ix->ix->dir, &ix->err);
    if (rc != SE_OK) {
        free(h);
        return rc;
    }
    *out = h;
    return SRCH_OK;
}

uint64_t srch_index_generation(const srch_index *ix)
{
    return ix && ix->ix ? ix->ix->man.generation : 0;
}

uint64_t srch_index_documents(const srch_index *ix)
{
    return ix && ix->ix ? ix->ix->ndocs : 0;
}

const char *srch_index_errmsg(const srch_index *ix)
{
    return ix ? ix->err.msg : "out of memory";
}

void srch_index_close(srch_index *ix)
{
    if (!ix) return;
    index_close(ix->ix);
    free(ix);
}

/* ---- srch_search ---- */

void srch_options_init(srch_options *opt)
{
    if (!opt) return;
    memset(opt, 0, sizeof *opt);
    opt->k = 10;
    opt->k1 = SEARCH_DEFAULT_K1;
    opt->b = SEARCH_DEFAULT_B;
    opt->snippets = 1;
    opt->snippet_words = DEFAULT_SNIPPET_WORDS;
    opt->highlight_open = "**";
    opt->highlight_close = "**";
}

struct srch_search {
    const index_reader *ix;
    searcher *s;
    analyzer *an; /* for snippets */
    seg_store_buffer store;
    search_result res;
    size_t next;   /* next hit srch_search_next returns */
    int snippets;  /* of the last query */
    size_t window; /* words per snippet */
    char *open, *close;
    char *id, *title, *snippet; /* the current hit's strings */
    se_error err;
};

int srch_search_new(srch_search **out, const srch_index *ix)
{
    if (!out) return SRCH_INVALID;
    *out = NULL;
    if (!ix || !ix->ix) return SRCH_INVALID;
    srch_search *s = calloc(1, sizeof *s);
    if (!s) return SRCH_NOMEM;
    s->ix = ix->ix;
    seg_store_buffer_init(&s->store);
    if (searcher_new(&s->s, ix->ix, NULL) != SE_OK || analyzer_new(&s->an) != SE_OK) {
        srch_search_free(s);
        return SRCH_NOMEM;
    }
    *out = s;
    return SRCH_OK;
}

static void drop_hit_strings(srch_search *s)
{
    free(s->id);
    free(s->title);
    free(s->snippet);
    s->id = s->title = s->snippet = NULL;
}

static char *copy_string(const char *p, size_t n)
{
    char *c = malloc(n + 1);
    if (c) {
        memcpy(c, p, n);
        c[n] = 0;
    }
    return c;
}

static int check_options(srch_search *s, const srch_options *o)
{
    if (o->k < 1 || o->k > SEARCH_MAX_K)
        return se_fail(&s->err, SE_INVALID, "k must be between 1 and %d (got %u)", SEARCH_MAX_K,
                       o->k);
    if (!(o->k1 >= 0 && o->k1 <= 100))
        return se_fail(&s->err, SE_INVALID, "k1 must be in [0, 100] (got %g)", o->k1);
    if (!(o->b >= 0 && o->b <= 1))
        return se_fail(&s->err, SE_INVALID, "b must be in [0, 1] (got %g)", o->b);
    if (o->snippets && (o->snippet_words < 1 || o->snippet_words > MAX_SNIPPET_WORDS))
        return se_fail(&s->err, SE_INVALID, "snippet_words must be between 1 and %d (got %u)",
                       MAX_SNIPPET_WORDS, o->snippet_words);
    return SE_OK;
}

int srch_search_run(srch_search *s, const char *query, const srch_options *opt)
{
    if (!s) return SRCH_INVALID;
    drop_hit_strings(s);
    s->res.nhits = 0;
    s->res.matches = 0;
    s->next = 0;
    if (!query) return se_fail(&s->err, SE_INVALID, "no query given");
    srch_options defaults;
    srch_options_init(&defaults);
    const srch_options *o = opt ? opt : &defaults;
    int rc = check_options(s, o);
    if (rc != SE_OK) return rc;
    char *open = strdup(o->highlight_open ? o->highlight_open : "");
    char *close = strdup(o->highlight_close ? o->highlight_close : "");
    if (!open || !close) {
        free(open);
        free(close);
        return se_fail(&s->err, SE_NOMEM, "out of memory");
    }
    free(s->open);
    free(s->close);
    s->open = open;
    s->close = close;
    s->snippets = o->snippets;
    s->window = o->snippet_words;
    search_options so = {.k = o->k,
                         .k1 = (float)o->k1,
                         .b = (float)o->b,
                         .default_and = o->default_and,
                         .literal = o->literal,
                         .exhaustive = o->exhaustive};
    rc = searcher_run(s->s, query, strlen(query), &so, &s->res, &s->err);
    if (rc != SE_OK) {
        s->res.nhits = 0;
        s->res.matches = 0;
    }
    return rc;
}

uint64_t srch_search_matches(const srch_search *s, int *exact)
{
    if (exact) *exact = s ? s->res.matches_exact : 1;
    return s ? s->res.matches : 0;
}

size_t srch_search_hit_count(const srch_search *s)
{
    return s ? s->res.nhits : 0;
}

int srch_search_next(srch_search *s, srch_hit *hit)
{
    if (!s || !hit) return SRCH_INVALID;
    drop_hit_strings(s);
    if (s->next >= s->res.nhits) return 0;
    const search_hit *h = &s->res.hits[s->next];
    seg_document d;
    int rc = segment_document(s->ix->segments[h->segment], h->doc, &s->store, &d, &s->err);
    if (rc != SE_OK) return rc;
    s->id = copy_string(d.id, d.id_len);
    s->title = copy_string(d.title, d.title_len);
    if (!s->id || !s->title) {
        drop_hit_strings(s);
        return se_fail(&s->err, SE_NOMEM, "out of memory");
    }
    if (s->snippets) {
        snippet_options so = {s->window, s->open, s->close};
        rc = snippet_make(s->an, searcher_highlight(s->s), d.text, d.text_len, &so, &s->snippet);
        if (rc != SE_OK) {
            drop_hit_strings(s);
            return se_fail(&s->err, rc, "out of memory making a snippet");
        }
    }
    s->next++;
    *hit = (srch_hit){.rank = s->next,
                      .id = s->id,
                      .score = (double)h->score,
                      .title = s->title,
                      .snippet = s->snippet};
    return 1;
}

const char *srch_search_errmsg(const srch_search *s)
{
    return s ? s->err.msg : "out of memory";
}

void srch_search_free(srch_search *s)
{
    if (!s) return;
    drop_hit_strings(s);
    free(s->open);
    free(s->close);
    seg_store_buffer_free(&s->store);
    analyzer_free(s->an);
    searcher_free(s->s);
    free(s);
}
