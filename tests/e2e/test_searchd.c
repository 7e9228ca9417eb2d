/*
 * test_searchd.c - bin/searchd over HTTP, on an index of the seed articles.
 *
 *   - /search answers with the JSON shape the README documents, and its
 *     hits (ids, order, scores, match count) are those of `search --json`
 *     on the same index; snippets are HTML with the matches in <mark>;
 *     offset pages through the same ranking;
 *   - /doc/{id} returns the stored title and text (compared with the seed
 *     file), with highlights when q is given; a missing id is a JSON 404;
 *   - the limits (k, offset, query length, URL length) and bad arguments
 *     are JSON 400s (414 for the URL), other methods 405, unknown paths
 *     404, and garbage on the socket gets an error status (or the
 *     connection closed) without hurting the server;
 *   - after bin/index adds and replaces documents, the server answers from
 *     the new generation without a restart, and the old one is closed;
 *   - start-up errors (bad flag, no index, port in use) exit non-zero with
 *     a message; SIGTERM ends the server with status 0.
 *
 * The HTTP client is a few lines of sockets: one request per connection,
 * the whole response read until the server closes it.
 */
#include <criterion/criterion.h>

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "tests/e2e/expect.h"
#include "tests/support/e2e.h"
#include "tests/support/fsutil.h"
#include "tests/support/run.h"

#define TIMEOUT 60.0

static char *g_tmp;
static char g_index[4096], g_portfile[4096];
static run_child *g_server;
static unsigned g_port;

/* ------------------------------------------------------------- helpers */

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

typedef struct http_reply {
    int status; /* -1: no valid status line */
    char *raw;  /* whole response */
    size_t raw_len;
    const char *body;
    json_t *json; /* body parsed, when it is JSON */
} http_reply;

static void reply_free(http_reply *r)
{
    json_decref(r->json);
    free(r->raw);
    memset(r, 0, sizeof *r);
}

/* Send `request` verbatim and read the whole response. */
static void http_raw(unsigned port, const char *request, size_t len, http_reply *r)
{
    memset(r, 0, sizeof *r);
    r->status = -1;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert(fd >= 0, "socket: %s", strerror(errno));
    struct timeval tv = {30, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert(connect(fd, (struct sockaddr *)&a, sizeof a) == 0, "connect to port %u: %s", port,
              strerror(errno));
    for (size_t off = 0; off < len;) {
        ssize_t n = send(fd, request + off, len - off, MSG_NOSIGNAL);
        if (n <= 0) break; /* the server may answer (and close) before reading it all */
        off += (size_t)n;
    }
    size_t cap = 1 << 16;
    r->raw = malloc(cap);
    cr_assert_not_null(r->raw);
    for (;;) {
        if (r->raw_len + 1 >= cap) {
            cap *= 2;
            r->raw = realloc(r->raw, cap);
            cr_assert_not_null(r->raw);
        }
        ssize_t n = recv(fd, r->raw + r->raw_len, cap - 1 - r->raw_len, 0);
        if (n <= 0) break;
        r->raw_len += (size_t)n;
    }
    r->raw[r->raw_len] = 0;
    close(fd);
    int status;
    if (sscanf(r->raw, "HTTP/1.%*d %d", &status) == 1) r->status = status;
    const char *sep = strstr(r->raw, "\r\n\r\n");
    r->body = sep ? sep + 4 : "";
    if (sep && strstr(r->raw, "application/json")) r->json = json_loads(r->body, 0, NULL);
}

static void http_get(const char *target, http_reply *r)
{
    size_t cap = strlen(target) + 128;
    char *req = malloc(cap);
    cr_assert_not_null(req);
    int n = snprintf(req, cap, "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
                     target);
    http_raw(g_port, req, (size_t)n, r);
    free(req);
}

/* GET that must answer `status` with a JSON object. */
static json_t *get_json(const char *target, int status, http_reply *r)
{
    http_get(target, r);
    cr_assert_eq(r->status, status, "GET %.200s: expected %d, got:\n%.2000s", target, status,
                 r->raw);
    cr_assert(json_is_object(r->json), "GET %.200s: body is not a JSON object:\n%.2000s", target,
              r->body);
    return r->json;
}

static const char *jstr(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    cr_assert(json_is_string(v), "member \"%s\" is not a string", key);
    return json_string_value(v);
}

static long long jint(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    cr_assert(json_is_integer(v), "member \"%s\" is not an integer", key);
    return json_integer_value(v);
}

/* An error answer: the status, a JSON object with string "error" and the
 * given "code". */
static void expect_error(const char *target, int status, const char *code)
{
    http_reply r;
    json_t *o = get_json(target, status, &r);
    cr_assert(strlen(jstr(o, "error")) > 0, "%.200s: empty error message", target);
    cr_assert_str_eq(jstr(o, "code"), code, "%.200s: code", target);
    reply_free(&r);
}

static void start_server(const char *const *extra, size_t nextra)
{
    const char *args[32] = {"-i",       g_index,       "--port", "0",  "--port-file",
                            g_portfile, "--reload-ms", "50",     "-t", "2"};
    size_t n = 10;
    for (size_t i = 0; i < nextra; i++) args[n++] = extra[i];
    unlink(g_portfile);
    cr_assert_eq(e2e_start(&g_server, "searchd", args, n), 0, "cannot start searchd: %s",
                 strerror(errno));
    double until = now_s() + TIMEOUT;
    char *text = NULL;
    while (!(text = fs_read_file(g_portfile, NULL))) {
        if (run_child_done(g_server) || now_s() > until) {
            run_result res;
            run_wait(g_server, 5, &res);
            g_server = NULL;
            cr_assert_fail("searchd did not start (%s):\n%.2000s", run_describe(&res), res.err);
        }
        sleep_ms(20);
    }
    g_port = (unsigned)strtoul(text, NULL, 10);
    free(text);
    cr_assert(g_port > 0 && g_port < 65536, "bad port file");
}

/* SIGTERM, then the server must exit 0 within the time limit. */
static void stop_server(void)
{
    if (!g_server) return;
    kill(run_child_pid(g_server), SIGTERM);
    run_result res;
    run_wait(g_server, TIMEOUT, &res);
    g_server = NULL;
    EXPECT_EXIT(&res, 0, "searchd after SIGTERM");
    cr_assert(!fs_exists(g_portfile), "the port file is removed at exit");
    run_result_free(&res);
}

static void index_seeds(void)
{
    run_result r;
    e2e_run(&r, TIMEOUT, "index", "-q", "-i", g_index, e2e_seeds_dir(), (char *)NULL);
    EXPECT_EXIT(&r, 0, "index seeds");
    run_result_free(&r);
}

static void setup(void)
{
    g_tmp = fs_mkdtemp_fast("se_e2e_searchd_");
    cr_assert_not_null(g_tmp);
    cr_assert_eq(fs_join(g_index, sizeof g_index, g_tmp, "index"), 0);
    cr_assert_eq(fs_join(g_portfile, sizeof g_portfile, g_tmp, "port"), 0);
    index_seeds();
}

static void teardown(void)
{
    if (g_server) {
        kill(run_child_pid(g_server), SIGKILL);
        run_result res;
        run_wait(g_server, 10, &res);
        run_result_free(&res);
        g_server = NULL;
    }
    if (g_tmp) fs_rm_rf(g_tmp);
    free(g_tmp);
    g_tmp = NULL;
}

TestSuite(searchd, .init = setup, .fini = teardown, .timeout = 240);

/* Under AddressSanitizer (ASAN_OPTIONS set, as `make asan` does), run the
 * tests one at a time: with these tests in parallel workers, LeakSanitizer
 * reports a 48-byte allocation of libcriterion's own runner (no frame of
 * this code or the engine), which would fail the binary. */
__attribute__((constructor)) static void serial_under_asan(void)
{
    if (getenv("ASAN_OPTIONS")) setenv("CRITERION_JOBS", "1", 0);
}

/* Percent-encode s into buf. */
static void urlenc(char *buf, size_t cap, const char *s)
{
    size_t n = 0;
    for (; *s && n + 4 < cap; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || c == '.')
            buf[n++] = (char)c;
        else
            n += (size_t)snprintf(buf + n, cap - n, "%%%02X", c);
    }
    buf[n] = 0;
}

/* ------------------------------------------------------------- tests */

Test(searchd, search_matches_bin_search)
{
    start_server(NULL, 0);
    const char *queries[] = {"\"ethical responsibility\"", "ethical responsibility",
                             "mi5 AND (facebook OR whatsapp)", "+parker -police", "terror"};
    /* Each query with the default scoring, then with a title weight (BM25F):
     * title_weight / title_b must score as bin/search's options do. */
    size_t nq = sizeof queries / sizeof *queries;
    for (size_t qi = 0; qi < 2 * nq; qi++) {
        const char *q = queries[qi % nq];
        int bm25f = qi >= nq;
        run_result cli;
        if (bm25f)
            e2e_run(&cli, TIMEOUT, "search", "-i", g_index, "--json", "--exhaustive", "-k", "20",
                    "--title-weight", "3", "--title-b", "0.5", "--", q, (char *)NULL);
        else
            e2e_run(&cli, TIMEOUT, "search", "-i", g_index, "--json", "--exhaustive", "-k", "20",
                    "--", q, (char *)NULL);
        cr_assert(cli.exit_code == 0 || cli.exit_code == 1, "search %s: %s", q, run_describe(&cli));
        e2e_hits want;
        char why[512];
        cr_assert_eq(e2e_parse_hits(cli.out, 1, &want, why, sizeof why), 0, "%s", why);

        char enc[512], target[1024];
        urlenc(enc, sizeof enc, q);
        snprintf(target, sizeof target, "/search?q=%s&k=20&exhaustive=1%s", enc,
                 bm25f ? "&title_weight=3&title_b=0.5" : "");
        http_reply r;
        json_t *o = get_json(target, 200, &r);
        cr_assert_str_eq(jstr(o, "query"), q);
        cr_assert_eq(jint(o, "documents"), 5);
        cr_assert_eq(jint(o, "generation"), 1);
        cr_assert_eq(jint(o, "k"), 20);
        cr_assert_eq(jint(o, "offset"), 0);
        cr_assert(json_is_true(json_object_get(o, "total_exact")), "%s: exhaustive is exact", q);
        cr_assert_eq((size_t)jint(o, "total"), want.n, "%s: total", q);
        cr_assert(json_is_number(json_object_get(o, "took_ms")));
        cr_assert(json_is_number(json_object_get(o, "search_ms")));
        json_t *hits = json_object_get(o, "hits");
        cr_assert(json_is_array(hits));
        cr_assert_eq(json_array_size(hits), want.n, "%s: hits", q);
        for (size_t i = 0; i < want.n; i++) {
            json_t *h = json_array_get(hits, i);
            cr_assert_eq(jint(h, "rank"), (long long)i + 1);
            cr_assert_str_eq(jstr(h, "id"), want.hits[i].id, "%s: hit %zu", q, i + 1);
            cr_assert_str_eq(jstr(h, "title"), want.hits[i].title);
            double score = json_number_value(json_object_get(h, "score"));
            cr_assert(score > 0 && fabs(score - want.hits[i].score) < 1e-5, "%s: score %g vs %g", q,
                      score, want.hits[i].score);
            const char *snip = jstr(h, "snippet");
            cr_assert(strstr(snip, "<mark>") && strstr(snip, "</mark>"),
                      "%s: snippet without highlight: %s", q, snip);
            cr_assert(!strchr(snip, '"') && !strchr(snip, '\''),
                      "%s: quotes are escaped in HTML snippets: %s", q, snip);
            jstr(h, "title_html");
        }
        if (qi == 0) {
            cr_assert_eq(want.n, 3, "three seed articles hold the phrase");
            for (size_t i = 0; i < 3; i++)
                cr_assert(strstr(jstr(json_array_get(hits, i), "snippet"),
                                 "<mark>ethical responsibility</mark>"),
                          "the phrase is highlighted as one run");
        }
        reply_free(&r);
        e2e_hits_free(&want);
        run_result_free(&cli);
    }
    stop_server();
}

Test(searchd, offset_pages_through_the_ranking)
{
    start_server(NULL, 0);
    http_reply all, page;
    json_t *a = get_json("/search?q=responsibility&k=5&exhaustive=1", 200, &all);
    json_t *ah = json_object_get(a, "hits");
    cr_assert_geq(json_array_size(ah), 3);
    json_t *p = get_json("/search?q=responsibility&k=2&offset=1&snippets=0", 200, &page);
    json_t *ph = json_object_get(p, "hits");
    cr_assert_eq(json_array_size(ph), 2);
    for (size_t i = 0; i < 2; i++) {
        cr_assert_str_eq(jstr(json_array_get(ph, i), "id"), jstr(json_array_get(ah, i + 1), "id"));
        cr_assert_eq(jint(json_array_get(ph, i), "rank"), (long long)i + 2);
        cr_assert_null(json_object_get(json_array_get(ph, i), "snippet"), "snippets=0");
    }
    reply_free(&all);
    reply_free(&page);
    stop_server();
}

Test(searchd, doc_returns_the_stored_article)
{
    start_server(NULL, 0);
    http_reply s;
    json_t *o = get_json("/search?q=%22ethical+responsibility%22", 200, &s);
    json_t *hits = json_object_get(o, "hits");
    cr_assert_eq(json_array_size(hits), 3);
    for (size_t i = 0; i < 3; i++) {
        const char *id = jstr(json_array_get(hits, i), "id");
        char path[4096], target[512];
        cr_assert_eq(fs_join(path, sizeof path, e2e_seeds_dir(), id), 0);
        char *file = fs_read_file(path, NULL);
        cr_assert_not_null(file, "read %s", path);
        snprintf(target, sizeof target, "/doc/%s", id);
        http_reply d;
        json_t *doc = get_json(target, 200, &d);
        cr_assert_str_eq(jstr(doc, "id"), id);
        const char *title = jstr(doc, "title"), *text = jstr(doc, "text");
        cr_assert_str_eq(title, jstr(json_array_get(hits, i), "title"));
        cr_assert(strstr(file, title) != NULL, "the title comes from the file");
        cr_assert(strlen(text) > 100 && strstr(file, text) != NULL,
                  "%s: the text is the file's (after the title)", id);
        cr_assert_eq(jint(doc, "bytes"), (long long)strlen(text));
        cr_assert_null(json_object_get(doc, "text_html"), "no q, no highlights");
        reply_free(&d);
        free(file);

        snprintf(target, sizeof target, "/doc/%s?q=%%22ethical+responsibility%%22", id);
        doc = get_json(target, 200, &d);
        cr_assert(strstr(jstr(doc, "text_html"), "<mark>ethical responsibility</mark>"),
                  "%s: the phrase is highlighted in the article", id);
        reply_free(&d);
    }
    reply_free(&s);
    expect_error("/doc/no-such-article.txt", 404, "not_found");
    expect_error("/doc/", 404, "not_found");
    stop_server();
}

Test(searchd, limits_and_bad_arguments_are_json_errors)
{
    const char *extra[] = {"--max-k",           "50",  "--max-offset",    "20",
                           "--max-query-bytes", "100", "--max-url-bytes", "600"};
    start_server(extra, 8);
    expect_error("/search", 400, "missing_query");
    expect_error("/search?q=", 400, "missing_query");
    expect_error("/search?q=a&k=0", 400, "bad_k");
    expect_error("/search?q=a&k=51", 400, "bad_k");
    expect_error("/search?q=a&k=ten", 400, "bad_k");
    expect_error("/search?q=a&k=-1", 400, "bad_k");
    expect_error("/search?q=a&offset=21", 400, "bad_offset");
    expect_error("/search?q=a&offset=1e3", 400, "bad_offset");
    expect_error("/search?q=a&exhaustive=maybe", 400, "bad_flag");
    expect_error("/search?q=a&title_weight=-1", 400, "bad_number");
    expect_error("/search?q=a&title_weight=1001", 400, "bad_number");
    expect_error("/search?q=a&title_weight=nan", 400, "bad_number");
    expect_error("/search?q=a&title_weight=2x", 400, "bad_number");
    expect_error("/search?q=a&title_weight=2&title_b=1.5", 400, "bad_number");
    expect_error("/search?q=%22unterminated", 400, "bad_query");
    expect_error("/search?q=-only+-exclusions", 400, "bad_query");
    expect_error("/search?q=%FF%FE", 400, "bad_encoding");
    http_reply r;
    get_json("/search?q=a&k=50&offset=20", 200, &r); /* the limits themselves are accepted */
    reply_free(&r);

    char target[2048];
    memcpy(target, "/search?q=", 10);
    memset(target + 10, 'a', 101); /* one byte over --max-query-bytes */
    target[111] = 0;
    expect_error(target, 400, "query_too_long");
    target[110] = 0;
    get_json(target, 200, &r);
    reply_free(&r);
    memset(target + 10, 'a', 700); /* URL over --max-url-bytes */
    target[710] = 0;
    expect_error(target, 414, "url_too_long");

    expect_error("/nowhere", 404, "not_found");
    const char post[] = "POST /search?q=a HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                        "Content-Length: 3\r\n\r\nabc";
    http_raw(g_port, post, sizeof post - 1, &r);
    cr_assert_eq(r.status, 405, "POST: %.500s", r.raw);
    cr_assert(strstr(r.raw, "Allow: GET, HEAD") != NULL, "405 names the allowed methods");
    reply_free(&r);
    stop_server();
}

Test(searchd, malformed_requests_do_not_hurt_the_server)
{
    start_server(NULL, 0);
    const char *garbage[] = {"GARBAGE\r\n\r\n", "GET\r\n\r\n", "GET / HTTP/9.9\r\n\r\n",
                             "GET /health HTTP/1.1\r\nNo colon here\r\n\r\n",
                             "\x01\x02\x03\xff\xfe\r\n\r\n"};
    for (size_t i = 0; i < sizeof garbage / sizeof *garbage; i++) {
        http_reply r;
        http_raw(g_port, garbage[i], strlen(garbage[i]), &r);
        /* libmicrohttpd answers a request line it can parse but not
         * accept with 400 / 505, and drops a connection whose first line
         * is not a request line at all; never anything but an error. */
        cr_assert(r.raw_len == 0 || (r.status >= 400 && r.status < 600),
                  "garbage %zu: expected an error or a closed connection, got %.300s", i, r.raw);
        if (i == 2 || i == 3)
            cr_assert(r.status == 505 || r.status == 400, "garbage %zu: %.300s", i, r.raw);
        reply_free(&r);
    }
    /* A client that connects and says nothing, and one that sends half a
     * request line and goes away. */
    http_reply r;
    http_raw(g_port, "", 0, &r);
    reply_free(&r);
    http_raw(g_port, "GET /sea", 8, &r);
    reply_free(&r);
    json_t *o = get_json("/health", 200, &r);
    cr_assert_str_eq(jstr(o, "status"), "ok");
    reply_free(&r);
    http_get("/", &r);
    cr_assert_eq(r.status, 200);
    cr_assert(strstr(r.raw, "text/html") && strstr(r.body, "<input id=\"q\""),
              "the page is served at /");
    reply_free(&r);
    stop_server();
}

/* Poll until `target` answers 200 with a JSON object for which ok(o)
 * holds, for at most TIMEOUT seconds. */
static json_t *wait_for(const char *target, int (*ok)(json_t *), http_reply *r)
{
    double until = now_s() + TIMEOUT;
    for (;;) {
        http_get(target, r);
        if (r->status == 200 && r->json && ok(r->json)) return r->json;
        cr_assert(now_s() < until, "%s: condition not reached; last answer:\n%.2000s", target,
                  r->raw);
        reply_free(r);
        sleep_ms(50);
    }
}

static int found_one(json_t *o)
{
    return json_integer_value(json_object_get(o, "total")) == 1;
}

static int one_generation_open(json_t *o)
{
    return json_integer_value(json_object_get(o, "generations_open")) == 1;
}

Test(searchd, picks_up_new_generations)
{
    start_server(NULL, 0);
    http_reply r;
    json_t *o = get_json("/search?q=zanzibarquux", 200, &r);
    cr_assert_eq(jint(o, "total"), 0);
    reply_free(&r);

    char jsonl[4096];
    cr_assert_eq(fs_join(jsonl, sizeof jsonl, g_tmp, "new.jsonl"), 0);
    cr_assert_eq(fs_write_str(jsonl, "{\"id\":\"added-1\",\"title\":\"An added article\","
                                     "\"text\":\"zanzibarquux appears here only\"}\n"),
                 0);
    run_result ir;
    e2e_run(&ir, TIMEOUT, "index", "-q", "-i", g_index, jsonl, (char *)NULL);
    EXPECT_EXIT(&ir, 0, "index adds a document");
    run_result_free(&ir);

    o = wait_for("/search?q=zanzibarquux", found_one, &r);
    cr_assert_str_eq(jstr(json_array_get(json_object_get(o, "hits"), 0), "id"), "added-1");
    cr_assert_eq(jint(o, "documents"), 6);
    cr_assert_eq(jint(o, "generation"), 2);
    reply_free(&r);
    o = get_json("/doc/added-1", 200, &r);
    cr_assert_str_eq(jstr(o, "text"), "zanzibarquux appears here only");
    reply_free(&r);

    /* Replace it: the new text is found, the old one is not. */
    cr_assert_eq(fs_write_str(jsonl, "{\"id\":\"added-1\",\"title\":\"An added article\","
                                     "\"text\":\"now it says quuxzanzibar instead\"}\n"),
                 0);
    e2e_run(&ir, TIMEOUT, "index", "-q", "-i", g_index, jsonl, (char *)NULL);
    EXPECT_EXIT(&ir, 0, "index replaces a document");
    run_result_free(&ir);
    wait_for("/search?q=quuxzanzibar", found_one, &r);
    reply_free(&r);
    o = get_json("/search?q=zanzibarquux", 200, &r);
    cr_assert_eq(jint(o, "total"), 0, "the replaced text is gone");
    reply_free(&r);
    o = get_json("/doc/added-1", 200, &r);
    cr_assert_str_eq(jstr(o, "text"), "now it says quuxzanzibar instead");
    reply_free(&r);

    /* Old generations are closed once no request uses them. */
    o = wait_for("/stats", one_generation_open, &r);
    cr_assert_geq(jint(o, "reloads"), 2);
    cr_assert_eq(jint(o, "documents"), 6);
    cr_assert_geq(jint(o, "queries"), 3);
    cr_assert_eq(jint(o, "generation"), 3);
    reply_free(&r);
    stop_server();
}

Test(searchd, startup_errors)
{
    run_result r;
    e2e_run(&r, TIMEOUT, "searchd", "--no-such-flag", (char *)NULL);
    EXPECT_EXIT(&r, 2, "bad flag");
    EXPECT_STDERR_HAS(&r, "--help", "bad flag");
    run_result_free(&r);
    e2e_run(&r, TIMEOUT, "searchd", "-i", g_index, "--threads", "0", (char *)NULL);
    EXPECT_EXIT(&r, 2, "threads 0");
    EXPECT_STDERR_HAS(&r, "--threads takes a number", "threads 0");
    run_result_free(&r);

    char missing[4096];
    cr_assert_eq(fs_join(missing, sizeof missing, g_tmp, "missing"), 0);
    e2e_run(&r, TIMEOUT, "searchd", "-i", missing, "--port", "0", (char *)NULL);
    EXPECT_EXIT(&r, 3, "no index");
    EXPECT_STDERR_HAS(&r, "no index in", "no index");
    run_result_free(&r);

    start_server(NULL, 0);
    char port[16];
    snprintf(port, sizeof port, "%u", g_port);
    e2e_run(&r, TIMEOUT, "searchd", "-i", g_index, "--port", port, (char *)NULL);
    EXPECT_EXIT(&r, 4, "port in use");
    EXPECT_STDERR_HAS(&r, "already in use", "port in use");
    run_result_free(&r);
    stop_server();

    e2e_run(&r, TIMEOUT, "searchd", "--version", (char *)NULL);
    EXPECT_EXIT(&r, 0, "--version");
    cr_assert(strncmp(r.out, "searchd ", 8) == 0);
    run_result_free(&r);
    e2e_run(&r, TIMEOUT, "searchd", "--help", (char *)NULL);
    EXPECT_EXIT(&r, 0, "--help");
    cr_assert(strstr(r.out, "--max-k") != NULL);
    run_result_free(&r);
}

/* Under valgrind: requests of every kind, a reload, then SIGINT; the
 * server must exit 0 with no leak and no memory error.  In an
 * AddressSanitizer build (ASAN_OPTIONS set, as `make asan` does) valgrind
 * cannot run the binary, and the server runs directly: LeakSanitizer then
 * checks the same at its exit. */
Test(searchd, clean_shutdown_under_valgrind, .timeout = 600)
{
    int asan = getenv("ASAN_OPTIONS") != NULL;
    cr_assert(asan || access("/usr/bin/valgrind", X_OK) == 0,
              "valgrind is missing (make deps installs it)");
    char searchd[4096];
    cr_assert_eq(fs_join(searchd, sizeof searchd, e2e_bin_dir(), "searchd"), 0);
    char *argv[] = {"/usr/bin/valgrind",
                    "--quiet",
                    "--leak-check=full",
                    "--errors-for-leak-kinds=definite,indirect,possible",
                    "--error-exitcode=99",
                    searchd,
                    "-i",
                    g_index,
                    "--port",
                    "0",
                    "--port-file",
                    g_portfile,
                    "--reload-ms",
                    "100",
                    "-t",
                    "2",
                    NULL};
    cr_assert_eq(run_start(&g_server, asan ? argv + 5 : argv, NULL), 0);
    double until = now_s() + 120;
    char *text;
    while (!(text = fs_read_file(g_portfile, NULL))) {
        cr_assert(!run_child_done(g_server) && now_s() < until,
                  "searchd under valgrind did not start");
        sleep_ms(50);
    }
    g_port = (unsigned)strtoul(text, NULL, 10);
    free(text);
    const char *targets[] = {"/search?q=ethical", "/search?q=%22ethical+responsibility%22&k=2",
                             "/search?q=%22bad",  "/doc/001_5417c789047b9aae.txt?q=ethical",
                             "/doc/none",         "/stats",
                             "/health",           "/"};
    for (size_t i = 0; i < sizeof targets / sizeof *targets; i++) {
        http_reply r;
        http_get(targets[i], &r);
        cr_assert(r.status == 200 || r.status == 400 || r.status == 404, "%s: %.300s", targets[i],
                  r.raw);
        reply_free(&r);
    }
    char jsonl[4096];
    cr_assert_eq(fs_join(jsonl, sizeof jsonl, g_tmp, "one.jsonl"), 0);
    cr_assert_eq(fs_write_str(jsonl, "{\"id\":\"v1\",\"title\":\"t\",\"text\":\"zanzibarquux\"}\n"),
                 0);
    run_result ir;
    e2e_run(&ir, TIMEOUT, "index", "-q", "-i", g_index, jsonl, (char *)NULL);
    EXPECT_EXIT(&ir, 0, "index adds a document");
    run_result_free(&ir);
    http_reply r;
    wait_for("/search?q=zanzibarquux", found_one, &r);
    reply_free(&r);
    http_raw(g_port, "GARBAGE\r\n\r\n", 11, &r);
    reply_free(&r);

    kill(run_child_pid(g_server), SIGINT);
    run_result res;
    run_wait(g_server, 120, &res);
    g_server = NULL;
    cr_assert(res.exit_code == 0, "searchd under valgrind: %s\n%.6000s", run_describe(&res),
              res.err);
    cr_assert(!strstr(res.err, "==") && !strstr(res.err, "Sanitizer"),
              "valgrind or a sanitizer reported:\n%.6000s", res.err);
    run_result_free(&res);
}
