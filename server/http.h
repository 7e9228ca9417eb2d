/*
 * http.h - the HTTP side of searchd: a loopback listening socket and a
 * libmicrohttpd daemon whose thread pool answers requests through api.h.
 *
 * Each pool thread creates its own worker (worker.h) on its first request
 * and frees it when the daemon stops, so searches run on all threads at
 * once without sharing a searcher.  Idle connections are closed after
 * http_options.timeout_s; beyond max_connections new ones are refused; a
 * request line and headers larger than the connection memory limit are
 * answered 414/431 by libmicrohttpd itself.
 *
 * Ownership: http_start takes the listening socket (closed by http_stop).
 * The api_ctx must outlive the server.  Thread-safety: start and stop from
 * one thread.  Errors: SE_IO / SE_INVALID / SE_NOMEM with a message.
 */
#ifndef SE_SERVER_HTTP_H
#define SE_SERVER_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "common/status.h"
#include "server/api.h"

typedef struct http_options {
    unsigned threads;         /* pool threads (1 = one internal thread) */
    unsigned timeout_s;       /* idle connection timeout */
    unsigned max_connections; /* open connections at once */
    size_t memory_limit;      /* per connection: request line, headers, response queueing */
} http_options;

/* A listening TCP socket on 127.0.0.1:port (0: any free port), with the
 * port actually bound in *bound.  SE_IO with "port N is already in use" and
 * the like. */
int http_listen(uint16_t port, int *fd, uint16_t *bound, se_error *err);

typedef struct http_server http_server;

int http_start(http_server **out, int listen_fd, api_ctx *ctx, const http_options *opt,
               se_error *err);
/* Stop accepting, finish or close every connection, join the threads. */
void http_stop(http_server *s);

#endif
