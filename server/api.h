/*
 * api.h - the server's endpoints, independent of the HTTP library: a
 * request (method, decoded path, query arguments) in, a response (status,
 * content type, body) out.
 *
 *   GET /                 the search page (server/web/, embedded at build time)
 *   GET /search?q=...     ranked hits as JSON; arguments k, offset, and,
 *                         literal, exhaustive, snippets (see README "Server")
 *   GET /doc/{id}         a stored document as JSON (?q=... adds highlights)
 *   GET /health           {"status":"ok", ...}
 *   GET /stats            documents, segments, generation, counters
 * Errors are JSON objects {"error": message, "code": short name} with a 4xx
 * or 5xx status.  Snippets and *_html members are HTML: text escaped, query
 * matches wrapped in <mark>...</mark>.
 *
 * Ownership: api_handle fills *out; release it with api_response_free.
 * Thread-safety: api_handle may run on many threads at once, each with its
 * own worker; the context's counters are atomic.
 * Errors: api_handle never fails; every problem becomes an error response
 * (500 / 503 when memory runs out or the index turns out damaged).
 */
#ifndef SE_SERVER_API_H
#define SE_SERVER_API_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "server/generation.h"
#include "server/worker.h"

typedef struct api_limits {
    size_t max_query_bytes; /* q, after percent-decoding */
    uint32_t max_k;         /* hits per request */
    uint32_t max_offset;    /* first hit returned */
    size_t max_url_bytes;   /* request target (path and query string) */
} api_limits;

typedef struct api_ctx {
    gen_store *store;
    api_limits lim;
    unsigned threads;  /* reported by /stats */
    double started_at; /* seconds since the epoch */
    atomic_ullong requests;
    atomic_ullong queries;        /* searches answered with 200 */
    atomic_ullong query_errors;   /* searches refused (400) or failed (5xx) */
    atomic_ullong query_us_total; /* summed evaluation time of answered searches */
    atomic_ullong docs_served;
} api_ctx;

void api_ctx_init(api_ctx *ctx, gen_store *store, const api_limits *lim, unsigned threads);

typedef struct api_request {
    const char *method;
    const char *path; /* percent-decoded, without the query string */
    size_t url_bytes; /* length of the request target as received */
    /* The decoded value of a query argument, or NULL when absent. */
    const char *(*arg)(void *cookie, const char *name);
    void *cookie;
} api_request;

typedef struct api_response {
    unsigned status;
    const char *content_type;
    char *body;
    size_t len;
    int body_static;   /* body is not to be freed */
    const char *allow; /* value of an Allow header (405), else NULL */
} api_response;

void api_handle(api_ctx *ctx, worker *w, const api_request *rq, api_response *out);
void api_response_free(api_response *r);

#endif
