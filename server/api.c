/*
 * api.c - endpoint logic: argument checks, searching, JSON.
 *
 * JSON is built with jansson, which escapes strings and refuses invalid
 * UTF-8; stored documents are valid UTF-8 (the indexer repairs its input),
 * and a query that is not is refused with 400.
 */
#include "server/api.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/version.h"
#include "searcher/snippet.h"
#include "server/highlight.h"
#include "server/web_assets.h"

#define SNIPPET_WINDOW 32 /* tokens, as bin/search */
#define DEFAULT_K      10
#define JSON_TYPE      "application/json; charset=utf-8"

static const char oom_body[] = "{\"error\":\"out of memory\",\"code\":\"no_memory\"}";

static double mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static double wall_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void api_ctx_init(api_ctx *ctx, gen_store *store, const api_limits *lim, unsigned threads)
{
    memset(ctx, 0, sizeof *ctx);
    ctx->store = store;
    ctx->lim = *lim;
    ctx->threads = threads;
    ctx->started_at = wall_seconds();
    atomic_init(&ctx->requests, 0);
    atomic_init(&ctx->queries, 0);
    atomic_init(&ctx->query_errors, 0);
    atomic_init(&ctx->query_us_total, 0);
    atomic_init(&ctx->docs_served, 0);
}

void api_response_free(api_response *r)
{
    if (!r->body_static) free(r->body);
    r->body = NULL;
}

static void respond_oom(api_response *out)
{
    out->status = 503;
    out->content_type = JSON_TYPE;
    out->body = (char *)oom_body;
    out->len = sizeof oom_body - 1;
    out->body_static = 1;
}

/* Serialise and consume o. */
static void respond_json(api_response *out, unsigned status, json_t *o)
{
    char *s = o ? json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(7)) : NULL;
    json_decref(o);
    if (!s) {
        respond_oom(out);
        return;
    }
    out->status = status;
    out->content_type = JSON_TYPE;
    out->body = s;
    out->len = strlen(s);
    out->body_static = 0;
}

static void respond_error(api_response *out, unsigned status, const char *code, const char *fmt,
                          ...) __attribute__((format(printf, 4, 5)));
static void respond_error(api_response *out, unsigned status, const char *code, const char *fmt,
                          ...)
{
    char msg[SE_ERROR_MAX + 128];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    json_t *m = json_string(msg);
    if (!m) m = json_string("invalid request"); /* the message quoted invalid UTF-8 */
    respond_json(out, status, json_pack("{s:o, s:s}", "error", m, "code", code));
}

/* A JSON string from UTF-8 that should be valid; a string that is not
 * (a damaged document) is shown with the bad bytes as U+FFFD. */
static json_t *jstr(const char *s, size_t n)
{
    json_t *j = json_stringn(s, n);
    if (j) return j;
    char *fixed = malloc(3 * n + 1), *p = fixed;
    if (!fixed) return NULL;
    size_t i = 0;
    while (i < n) {
        unsigned char c = (unsigned char)s[i];
        size_t len = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : 4;
        /* Take the sequence if jansson accepts it on its own. */
        json_t *one = (c >= 0x80 && c < 0xf8 && i + len <= n) ? json_stringn(s + i, len) : NULL;
        if (c < 0x80 || one) {
            memcpy(p, s + i, len);
            p += len;
            i += len;
        } else {
            memcpy(p, "\xef\xbf\xbd", 3);
            p += 3;
            i++;
        }
        json_decref(one);
    }
    j = json_stringn(fixed, (size_t)(p - fixed));
    free(fixed);
    return j;
}

/* hl_* into *out; NULL when out of memory. */
static char *snippet_html(worker *w, const search_highlight *hl, const char *text, size_t len,
                          size_t window)
{
    char *out;
    return hl_snippet_html(w->an, hl, text, len, window, &out) == SE_OK ? out : NULL;
}

static char *text_html(worker *w, const search_highlight *hl, const char *text, size_t len)
{
    char *out;
    return hl_text_html(w->an, hl, text, len, &out) == SE_OK ? out : NULL;
}

/* ---------------------------------------------------------- arguments */

/* A decimal number in [lo, hi]; 1 when valid. */
static int parse_count(const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
    if (!*s || strlen(s) > 12) return 0;
    uint64_t v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9') return 0;
        v = v * 10 + (uint64_t)(*p - '0');
    }
    if (v < lo || v > hi) return 0;
    *out = v;
    return 1;
}

/* A number argument: absent -> dflt; 1 with *out in [lo, hi], or 0 for
 * anything that is not a whole decimal number in range. */
static int parse_number(const api_request *rq, const char *name, double dflt, double lo, double hi,
                        double *out)
{
    const char *v = rq->arg(rq->cookie, name);
    *out = dflt;
    if (!v) return 1;
    if (!*v || strlen(v) > 32) return 0;
    char *end;
    errno = 0;
    double x = strtod(v, &end);
    if (*end || errno || !isfinite(x) || x < lo || x > hi) return 0;
    *out = x;
    return 1;
}

/* A boolean argument: absent -> dflt; 1/true/yes/on or an empty value
 * ("exhaustive=") -> 1; 0/false/no/off -> 0; -1 for anything else. */
static int parse_flag(const api_request *rq, const char *name, int dflt)
{
    const char *v = rq->arg(rq->cookie, name);
    if (!v) return dflt;
    if (!*v || !strcmp(v, "1") || !strcmp(v, "true") || !strcmp(v, "yes") || !strcmp(v, "on"))
        return 1;
    if (!strcmp(v, "0") || !strcmp(v, "false") || !strcmp(v, "no") || !strcmp(v, "off")) return 0;
    return -1;
}

/* The q argument, checked; NULL after an error response. */
static const char *query_arg(const api_ctx *ctx, const api_request *rq, int required,
                             api_response *out)
{
    const char *q = rq->arg(rq->cookie, "q");
    if (!q || !*q) {
        if (required) respond_error(out, 400, "missing_query", "the query parameter q is required");
        return NULL;
    }
    size_t len = strlen(q);
    if (len > ctx->lim.max_query_bytes) {
        respond_error(out, 400, "query_too_long",
                      "the query is %zu bytes long; at most %zu are accepted", len,
                      ctx->lim.max_query_bytes);
        return NULL;
    }
    json_t *check = json_stringn(q, len);
    if (!check) {
        respond_error(out, 400, "bad_encoding", "the query is not valid UTF-8");
        return NULL;
    }
    json_decref(check);
    return q;
}

static void respond_search_failure(api_response *out, int rc, const se_error *err)
{
    if (rc == SE_SYNTAX || rc == SE_LIMIT || rc == SE_INVALID)
        respond_error(out, 400, "bad_query", "%s", err->msg);
    else if (rc == SE_NOMEM)
        respond_error(out, 503, "no_memory", "out of memory");
    else
        respond_error(out, 500, "index_error", "%s", err->msg);
}

/* ------------------------------------------------------------ /search */

static json_t *hit_json(worker *w, const gen *g, const search_hit *h, size_t rank, int snippets,
                        se_error *err, int *rc)
{
    seg_document d;
    *rc = segment_document(g->ix->segments[h->segment], h->doc, &w->store, &d, err);
    if (*rc != SE_OK) return NULL;
    const search_highlight *hl = searcher_highlight(w->s);
    char *title_html = text_html(w, hl, d.title, d.title_len);
    char *snip = snippets ? snippet_html(w, hl, d.text, d.text_len, SNIPPET_WINDOW) : NULL;
    json_t *o = json_object();
    if (!title_html || (snippets && !snip) || !o ||
        json_object_set_new(o, "rank", json_integer((json_int_t)rank)) ||
        json_object_set_new(o, "id", jstr(d.id, d.id_len)) ||
        json_object_set_new(o, "title", jstr(d.title, d.title_len)) ||
        json_object_set_new(o, "title_html", jstr(title_html, strlen(title_html))) ||
        json_object_set_new(o, "score", json_real((double)h->score)) ||
        (snip && json_object_set_new(o, "snippet", jstr(snip, strlen(snip))))) {
        json_decref(o);
        o = NULL;
        *rc = se_fail(err, SE_NOMEM, "out of memory");
    }
    free(title_html);
    free(snip);
    return o;
}

static void do_search(api_ctx *ctx, worker *w, const api_request *rq, api_response *out)
{
    double t0 = mono_ms();
    const char *q = query_arg(ctx, rq, 1, out);
    if (!q) {
        atomic_fetch_add(&ctx->query_errors, 1);
        return;
    }
    uint64_t k = DEFAULT_K, offset = 0;
    const char *ks = rq->arg(rq->cookie, "k"), *os = rq->arg(rq->cookie, "offset");
    int bad_k = ks && !parse_count(ks, 1, ctx->lim.max_k, &k);
    int bad_offset = !bad_k && os && !parse_count(os, 0, ctx->lim.max_offset, &offset);
    int snippets = parse_flag(rq, "snippets", 1), and = parse_flag(rq, "and", 0),
        literal = parse_flag(rq, "literal", 0), exhaustive = parse_flag(rq, "exhaustive", 0);
    if (bad_k || bad_offset || snippets < 0 || and < 0 || literal < 0 || exhaustive < 0) {
        atomic_fetch_add(&ctx->query_errors, 1);
        if (bad_k)
            respond_error(out, 400, "bad_k", "k must be a whole number from 1 to %u",
                          ctx->lim.max_k);
        else if (bad_offset)
            respond_error(out, 400, "bad_offset", "offset must be a whole number from 0 to %u",
                          ctx->lim.max_offset);
        else
            respond_error(out, 400, "bad_flag",
                          "snippets, and, literal and exhaustive take 1/0, true/false, yes/no");
        return;
    }
    /* BM25F (bin/search --title-weight / --title-b): 0 = one combined field. */
    double title_weight, title_b;
    if (!parse_number(rq, "title_weight", 0, 0, SEARCH_MAX_TITLE_WEIGHT, &title_weight) ||
        !parse_number(rq, "title_b", SEARCH_DEFAULT_TITLE_B, 0, 1, &title_b)) {
        atomic_fetch_add(&ctx->query_errors, 1);
        respond_error(out, 400, "bad_number",
                      "title_weight takes a number from 0 to %g, title_b one from 0 to 1",
                      (double)SEARCH_MAX_TITLE_WEIGHT);
        return;
    }
    search_options so = {.k = (uint32_t)(k + offset),
                         .k1 = SEARCH_DEFAULT_K1,
                         .b = SEARCH_DEFAULT_B,
                         .default_and = and,
                         .literal = literal,
                         .exhaustive = exhaustive,
                         .title_weight = (float)title_weight,
                         .title_b = (float)title_b};
    if (so.k > SEARCH_MAX_K) so.k = SEARCH_MAX_K;

    gen *g = gen_acquire(ctx->store);
    se_error err = {0};
    search_result res = {0};
    int rc = worker_bind(w, g, &err);
    double t1 = mono_ms();
    if (rc == SE_OK) rc = searcher_run(w->s, q, strlen(q), &so, &res, &err);
    double search_ms = mono_ms() - t1;
    json_t *hits = rc == SE_OK ? json_array() : NULL;
    if (rc == SE_OK && !hits) rc = se_fail(&err, SE_NOMEM, "out of memory");
    for (size_t i = (size_t)offset; rc == SE_OK && i < res.nhits; i++) {
        json_t *h = hit_json(w, g, &res.hits[i], i + 1, snippets, &err, &rc);
        if (h && json_array_append_new(hits, h)) rc = se_fail(&err, SE_NOMEM, "out of memory");
    }
    if (rc != SE_OK) {
        json_decref(hits);
        gen_release(g);
        atomic_fetch_add(&ctx->query_errors, 1);
        respond_search_failure(out, rc, &err);
        return;
    }
    json_t *o = json_pack("{s:s, s:I, s:I, s:I, s:b, s:I, s:I, s:o, s:f, s:f}", "query", q,
                          "generation", (json_int_t)g->ix->man.generation, "documents",
                          (json_int_t)g->ix->ndocs, "total", (json_int_t)res.matches, "total_exact",
                          res.matches_exact, "offset", (json_int_t)offset, "k", (json_int_t)k,
                          "hits", hits, "search_ms", search_ms, "took_ms", mono_ms() - t0);
    gen_release(g);
    atomic_fetch_add(&ctx->queries, 1);
    atomic_fetch_add(&ctx->query_us_total, (unsigned long long)(search_ms * 1000.0));
    respond_json(out, 200, o);
}

/* --------------------------------------------------------------- /doc */

static void do_doc(api_ctx *ctx, worker *w, const api_request *rq, const char *id,
                   api_response *out)
{
    const char *q = rq->arg(rq->cookie, "q");
    if (q && *q && !(q = query_arg(ctx, rq, 0, out))) return;
    gen *g = gen_acquire(ctx->store);
    uint32_t seg, doc;
    if (!docmap_find(&g->ids, id, strlen(id), &seg, &doc)) {
        gen_release(g);
        json_t *jid = jstr(id, strlen(id));
        respond_json(out, 404,
                     json_pack("{s:s, s:s, s:o}", "error", "no document has this id", "code",
                               "not_found", "id", jid ? jid : json_null()));
        return;
    }
    se_error err = {0};
    int rc = worker_bind(w, g, &err);
    seg_document d = {0};
    if (rc == SE_OK) rc = segment_document(g->ix->segments[seg], doc, &w->store, &d, &err);
    char *body_html = NULL, *title_html = NULL;
    if (rc == SE_OK && q && *q) {
        /* The highlight comes from running the query (its analysed terms
         * and phrases); one hit is enough for that. */
        search_options so = {.k = 1, .k1 = SEARCH_DEFAULT_K1, .b = SEARCH_DEFAULT_B};
        search_result res;
        se_error qerr = {0};
        if (searcher_run(w->s, q, strlen(q), &so, &res, &qerr) == SE_OK) {
            const search_highlight *hl = searcher_highlight(w->s);
            body_html = text_html(w, hl, d.text, d.text_len);
            title_html = text_html(w, hl, d.title, d.title_len);
            if (!body_html || !title_html) rc = se_fail(&err, SE_NOMEM, "out of memory");
        }
        /* A query that does not parse only loses the highlights. */
    }
    json_t *o = NULL;
    if (rc == SE_OK) {
        o = json_pack("{s:o, s:o, s:o, s:I, s:I}", "id", jstr(d.id, d.id_len), "title",
                      jstr(d.title, d.title_len), "text", jstr(d.text, d.text_len), "generation",
                      (json_int_t)g->ix->man.generation, "bytes", (json_int_t)d.text_len);
        if (o && body_html &&
            (json_object_set_new(o, "text_html", jstr(body_html, strlen(body_html))) ||
             json_object_set_new(o, "title_html", jstr(title_html, strlen(title_html))) ||
             json_object_set_new(o, "text_html_truncated",
                                 json_boolean(d.text_len > SNIPPET_SCAN_BYTES)))) {
            json_decref(o);
            o = NULL;
        }
        if (!o) rc = se_fail(&err, SE_NOMEM, "out of memory");
    }
    free(body_html);
    free(title_html);
    gen_release(g);
    if (rc != SE_OK) {
        respond_search_failure(out, rc == SE_INVALID ? SE_CORRUPT : rc, &err);
        return;
    }
    atomic_fetch_add(&ctx->docs_served, 1);
    respond_json(out, 200, o);
}

/* ------------------------------------------------- /health and /stats */

static void do_health(api_ctx *ctx, api_response *out)
{
    gen *g = gen_acquire(ctx->store);
    json_t *o = json_pack("{s:s, s:I, s:I}", "status", "ok", "generation",
                          (json_int_t)g->ix->man.generation, "documents", (json_int_t)g->ix->ndocs);
    gen_release(g);
    respond_json(out, 200, o);
}

static void do_stats(api_ctx *ctx, api_response *out)
{
    gen *g = gen_acquire(ctx->store);
    unsigned long long queries = atomic_load(&ctx->queries);
    double mean_ms =
        queries ? (double)atomic_load(&ctx->query_us_total) / 1000.0 / (double)queries : 0.0;
    json_t *o = json_pack(
        "{s:s, s:o, s:I, s:I, s:I, s:I, s:I, s:f, s:f, s:I, s:I, s:I, s:I, s:I, s:I, s:f, s:I, "
        "s:f, s:{s:I, s:I, s:I, s:I}}",
        "version", SE_VERSION, "index", jstr(g->store->dir, strlen(g->store->dir)), "generation",
        (json_int_t)g->ix->man.generation, "documents", (json_int_t)g->ix->ndocs, "deleted",
        (json_int_t)g->ix->ndeleted, "segments", (json_int_t)g->ix->nsegments, "total_tokens",
        (json_int_t)g->ix->total_len, "generation_age_s", wall_seconds() - g->loaded_at,
        "generation_load_ms", g->load_ms, "generations_open",
        (json_int_t)atomic_load(&ctx->store->alive), "reloads",
        (json_int_t)atomic_load(&ctx->store->reloads), "reload_errors",
        (json_int_t)atomic_load(&ctx->store->reload_errors), "requests",
        (json_int_t)atomic_load(&ctx->requests), "queries", (json_int_t)queries, "query_errors",
        (json_int_t)atomic_load(&ctx->query_errors), "mean_search_ms", mean_ms, "docs_served",
        (json_int_t)atomic_load(&ctx->docs_served), "uptime_s", wall_seconds() - ctx->started_at,
        "limits", "max_k", (json_int_t)ctx->lim.max_k, "max_offset",
        (json_int_t)ctx->lim.max_offset, "max_query_bytes", (json_int_t)ctx->lim.max_query_bytes,
        "max_url_bytes", (json_int_t)ctx->lim.max_url_bytes);
    gen_release(g);
    if (o) json_object_set_new(o, "threads", json_integer((json_int_t)ctx->threads));
    respond_json(out, 200, o);
}

/* ------------------------------------------------------------ routing */

void api_handle(api_ctx *ctx, worker *w, const api_request *rq, api_response *out)
{
    memset(out, 0, sizeof *out);
    atomic_fetch_add(&ctx->requests, 1);
    if (rq->url_bytes > ctx->lim.max_url_bytes) {
        respond_error(out, 414, "url_too_long",
                      "the request URL is %zu bytes long; at most %zu are accepted", rq->url_bytes,
                      ctx->lim.max_url_bytes);
        return;
    }
    if (strcmp(rq->method, "GET") != 0 && strcmp(rq->method, "HEAD") != 0) {
        respond_error(out, 405, "method_not_allowed", "only GET and HEAD are served");
        out->allow = "GET, HEAD";
        return;
    }
    const char *path = rq->path;
    if (!strcmp(path, "/search")) {
        do_search(ctx, w, rq, out);
    } else if (!strncmp(path, "/doc/", 5) && path[5]) {
        do_doc(ctx, w, rq, path + 5, out);
    } else if (!strcmp(path, "/health")) {
        do_health(ctx, out);
    } else if (!strcmp(path, "/stats")) {
        do_stats(ctx, out);
    } else {
        for (size_t i = 0; i < web_nassets; i++) {
            if (!strcmp(path, web_assets[i].path)) {
                out->status = 200;
                out->content_type = web_assets[i].content_type;
                out->body = (char *)web_assets[i].data;
                out->len = web_assets[i].len;
                out->body_static = 1;
                return;
            }
        }
        respond_error(out, 404, "not_found",
                      "no such endpoint (GET /, /search?q=, /doc/ID, /health, /stats)");
    }
}
