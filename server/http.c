/*
 * http.c - libmicrohttpd glue: request -> api_request, api_response ->
 * MHD response, per-thread workers.
 */
#include "server/http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct http_server {
    struct MHD_Daemon *daemon;
    api_ctx *ctx;
    pthread_key_t worker_key; /* each pool thread's worker; freed at thread exit */
    pthread_mutex_t log_lock;
    char last_log[256]; /* libmicrohttpd's last message, for start-up errors */
};

/* What the URI callback records before the request is parsed. */
typedef struct request_state {
    size_t url_bytes;
} request_state;

int http_listen(uint16_t port, int *fd, uint16_t *bound, se_error *err)
{
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (s < 0) return se_fail(err, SE_IO, "cannot create a socket: %s", strerror(errno));
    int one = 1;
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(s, (struct sockaddr *)&a, sizeof a) != 0) {
        int e = errno;
        close(s);
        if (e == EADDRINUSE)
            return se_fail(err, SE_IO, "port %u on 127.0.0.1 is already in use", port);
        if (e == EACCES) return se_fail(err, SE_IO, "no permission to listen on port %u", port);
        return se_fail(err, SE_IO, "cannot listen on 127.0.0.1:%u: %s", port, strerror(e));
    }
    socklen_t len = sizeof a;
    if (listen(s, 128) != 0 || getsockname(s, (struct sockaddr *)&a, &len) != 0) {
        int e = errno;
        close(s);
        return se_fail(err, SE_IO, "cannot listen on 127.0.0.1:%u: %s", port, strerror(e));
    }
    *fd = s;
    *bound = ntohs(a.sin_port);
    return SE_OK;
}

static void free_worker(void *w)
{
    worker_free(w);
}

static void on_log(void *cls, const char *fmt, va_list ap)
{
    http_server *s = cls;
    pthread_mutex_lock(&s->log_lock);
    vsnprintf(s->last_log, sizeof s->last_log, fmt, ap);
    pthread_mutex_unlock(&s->log_lock);
}

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
    (void)cls;
    (void)c;
    request_state *rs = malloc(sizeof *rs);
    if (rs) rs->url_bytes = strlen(uri);
    return rs;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **req_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)c;
    (void)toe;
    free(*req_cls);
    *req_cls = NULL;
}

static const char *get_arg(void *cookie, const char *name)
{
    return MHD_lookup_connection_value(cookie, MHD_GET_ARGUMENT_KIND, name);
}

static enum MHD_Result send_static(struct MHD_Connection *c, unsigned status, const char *body)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_PERSISTENT);
    if (!r) return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json; charset=utf-8");
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **req_cls)
{
    (void)version;
    (void)upload_data;
    (void)upload_data_size;
    http_server *s = cls;
    worker *w = pthread_getspecific(s->worker_key);
    if (!w) {
        se_error err = {0};
        if (worker_new(&w, &err) != SE_OK || pthread_setspecific(s->worker_key, w) != 0) {
            worker_free(w);
            return send_static(c, 503, "{\"error\":\"out of memory\",\"code\":\"no_memory\"}");
        }
    }
    const request_state *rs = *req_cls;
    api_request rq = {method, url, rs ? rs->url_bytes : strlen(url), get_arg, c};
    api_response res;
    api_handle(s->ctx, w, &rq, &res);
    struct MHD_Response *r = MHD_create_response_from_buffer(
        res.len, res.body, res.body_static ? MHD_RESPMEM_PERSISTENT : MHD_RESPMEM_MUST_FREE);
    if (!r) {
        api_response_free(&res);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, res.content_type);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    if (strncmp(res.content_type, "text/html", 9) == 0)
        MHD_add_response_header(r, "Content-Security-Policy",
                                "default-src 'none'; script-src 'unsafe-inline'; "
                                "style-src 'unsafe-inline'; connect-src 'self'; img-src data:");
    if (res.allow) MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, res.allow);
    enum MHD_Result ret = MHD_queue_response(c, res.status, r);
    MHD_destroy_response(r);
    return ret;
}

int http_start(http_server **out, int listen_fd, api_ctx *ctx, const http_options *opt,
               se_error *err)
{
    http_server *s = calloc(1, sizeof *s);
    if (!s) {
        close(listen_fd);
        return se_fail(err, SE_NOMEM, "out of memory");
    }
    s->ctx = ctx;
    if (pthread_key_create(&s->worker_key, free_worker) != 0) {
        close(listen_fd);
        free(s);
        return se_fail(err, SE_NOMEM, "cannot create a thread key");
    }
    pthread_mutex_init(&s->log_lock, NULL);
    unsigned pool = opt->threads > 1 ? opt->threads : 0;
    s->daemon = MHD_start_daemon(
        MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL, on_request, s,
        MHD_OPTION_LISTEN_SOCKET, (MHD_socket)listen_fd, MHD_OPTION_THREAD_POOL_SIZE, pool,
        MHD_OPTION_CONNECTION_TIMEOUT, opt->timeout_s, MHD_OPTION_CONNECTION_LIMIT,
        opt->max_connections, MHD_OPTION_CONNECTION_MEMORY_LIMIT, opt->memory_limit,
        MHD_OPTION_URI_LOG_CALLBACK, on_uri, s, MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
        MHD_OPTION_EXTERNAL_LOGGER, on_log, s, MHD_OPTION_END);
    if (!s->daemon) {
        close(listen_fd);
        int rc = se_fail(err, SE_IO, "cannot start the HTTP server%s%s", s->last_log[0] ? ": " : "",
                         s->last_log);
        pthread_key_delete(s->worker_key);
        pthread_mutex_destroy(&s->log_lock);
        free(s);
        return rc;
    }
    *out = s;
    return SE_OK;
}

void http_stop(http_server *s)
{
    if (!s) return;
    MHD_stop_daemon(s->daemon); /* joins the pool threads: their workers are freed */
    pthread_key_delete(s->worker_key);
    pthread_mutex_destroy(&s->log_lock);
    free(s);
}
