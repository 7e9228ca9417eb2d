/*
 * main.c - bin/searchd: serve an index over HTTP on 127.0.0.1.
 *
 * Start-up: options, the index's current generation, the listening socket,
 * the HTTP thread pool.  Then the main thread waits for SIGINT / SIGTERM
 * and, every --reload-ms, checks whether a writer committed a new
 * generation (generation.h).  Every library error becomes a message on
 * stderr and an exit code here.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/version.h"
#include "searcher/search.h"
#include "server/api.h"
#include "server/generation.h"
#include "server/http.h"

enum {
    EXIT_OK = 0,
    EXIT_USAGE = 2,  /* bad option */
    EXIT_INDEX = 3,  /* no index, or a damaged one */
    EXIT_SERVER = 4, /* port in use, cannot start threads, out of memory */
};

static const char *progname = "searchd";

static void usage(FILE *out)
{
    fprintf(out,
            "usage: %s [options]\n"
            "Serve an index over HTTP on 127.0.0.1: a search page at /, and\n"
            "GET /search?q=QUERY[&k=N&offset=N], /doc/ID, /health, /stats (JSON).\n"
            "New generations committed by 'index' are picked up without a restart.\n"
            "\n"
            "  -i, --index DIR         index directory (default: $SEARCH_INDEX, else ./index)\n"
            "  -p, --port N            TCP port on 127.0.0.1 (default 8080; 0: any free port)\n"
            "  -t, --threads N         request threads (default: one per CPU core)\n"
            "      --port-file FILE    write the port to FILE once listening\n"
            "      --reload-ms N       check for a new generation every N ms (default 1000)\n"
            "      --timeout S         close connections idle for S seconds (default 10)\n"
            "      --max-connections N open connections at once (default 512)\n"
            "      --max-k N           hits per request, at most (default 100, up to %d)\n"
            "      --max-offset N      first hit returned, at most (default 1000)\n"
            "      --max-query-bytes N query length, at most (default 1024)\n"
            "      --max-url-bytes N   request URL length, at most (default 4096)\n"
            "  -q, --quiet             no log lines on stderr (errors still)\n"
            "  -h, --help              this help\n"
            "  -V, --version           print the version\n"
            "\n"
            "Exit status: 0 after SIGINT or SIGTERM; 2 usage error; 3 no index, or the\n"
            "index is damaged; 4 cannot serve (port in use, out of memory).\n",
            progname, SEARCH_MAX_K);
}

/* A decimal option value in [lo, hi]; prints and returns -1 when bad. */
static int opt_number(const char *name, const char *v, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (!*v || *end || errno || n < lo || n > hi) {
        fprintf(stderr, "%s: --%s takes a number from %ld to %ld\n", progname, name, lo, hi);
        return -1;
    }
    *out = n;
    return 0;
}

static int write_port_file(const char *path, unsigned port)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp) return -1;
    FILE *f = fopen(tmp, "w");
    if (!f) return -1;
    int bad = fprintf(f, "%u\n", port) < 0;
    bad |= fclose(f) != 0;
    if (bad || rename(tmp, path) != 0) {
        unlink(tmp);
        return -1;
    }
    return 0;
}

static int exit_for_index(int rc)
{
    return rc == SE_NOMEM || rc == SE_IO ? EXIT_SERVER : EXIT_INDEX;
}

int main(int argc, char **argv)
{
    const char *dir = getenv("SEARCH_INDEX");
    if (!dir || !*dir) dir = "index";
    const char *port_file = NULL;
    long port = 8080, threads = sysconf(_SC_NPROCESSORS_ONLN), reload_ms = 1000, timeout = 10,
         max_conn = 512, max_k = 100, max_offset = 1000, max_query = 1024, max_url = 4096;
    if (threads < 1) threads = 1;
    int quiet = 0;
    static const struct option opts[] = {{"index", required_argument, 0, 'i'},
                                         {"port", required_argument, 0, 'p'},
                                         {"threads", required_argument, 0, 't'},
                                         {"port-file", required_argument, 0, 'P'},
                                         {"reload-ms", required_argument, 0, 'r'},
                                         {"timeout", required_argument, 0, 'T'},
                                         {"max-connections", required_argument, 0, 'c'},
                                         {"max-k", required_argument, 0, 'k'},
                                         {"max-offset", required_argument, 0, 'o'},
                                         {"max-query-bytes", required_argument, 0, 'Q'},
                                         {"max-url-bytes", required_argument, 0, 'U'},
                                         {"quiet", no_argument, 0, 'q'},
                                         {"help", no_argument, 0, 'h'},
                                         {"version", no_argument, 0, 'V'},
                                         {0, 0, 0, 0}};
    int ch, bad = 0;
    while (!bad && (ch = getopt_long(argc, argv, "i:p:t:qhV", opts, NULL)) != -1) {
        switch (ch) {
        case 'i':
            dir = optarg;
            break;
        case 'P':
            port_file = optarg;
            break;
        case 'q':
            quiet = 1;
            break;
        case 'p':
            bad = opt_number("port", optarg, 0, 65535, &port);
            break;
        case 't':
            bad = opt_number("threads", optarg, 1, 256, &threads);
            break;
        case 'r':
            bad = opt_number("reload-ms", optarg, 10, 3600000, &reload_ms);
            break;
        case 'T':
            bad = opt_number("timeout", optarg, 1, 3600, &timeout);
            break;
        case 'c':
            bad = opt_number("max-connections", optarg, 1, 65536, &max_conn);
            break;
        case 'k':
            bad = opt_number("max-k", optarg, 1, SEARCH_MAX_K, &max_k);
            break;
        case 'o':
            bad = opt_number("max-offset", optarg, 0, SEARCH_MAX_K, &max_offset);
            break;
        case 'Q':
            bad = opt_number("max-query-bytes", optarg, 1, 65536, &max_query);
            break;
        case 'U':
            bad = opt_number("max-url-bytes", optarg, 64, 65536, &max_url);
            break;
        case 'h':
            usage(stdout);
            return EXIT_OK;
        case 'V':
            printf("searchd %s\n", SE_VERSION);
            return EXIT_OK;
        default:
            bad = 1; /* getopt printed why */
        }
    }
    if (!bad && optind < argc) {
        fprintf(stderr, "%s: unexpected argument '%s'\n", progname, argv[optind]);
        bad = 1;
    }
    if (bad) {
        fprintf(stderr, "Try '%s --help'.\n", progname);
        return EXIT_USAGE;
    }

    /* Block the shutdown signals before any thread exists, so every thread
     * inherits the mask and only sigtimedwait below receives them. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);

    se_error err = {0};
    gen_store store;
    int rc = gen_store_open(&store, dir, &err);
    if (rc != SE_OK) {
        if (rc == SE_NOTFOUND)
            fprintf(stderr, "%s: no index in %s (build one with: index -i %s FILES...)\n", progname,
                    dir, dir);
        else
            fprintf(stderr, "%s: %s\n", progname, err.msg);
        return exit_for_index(rc);
    }
    int fd;
    uint16_t bound;
    rc = http_listen((uint16_t)port, &fd, &bound, &err);
    if (rc != SE_OK) {
        fprintf(stderr, "%s: %s\n", progname, err.msg);
        gen_store_close(&store);
        return EXIT_SERVER;
    }
    api_limits lim = {(size_t)max_query, (uint32_t)max_k, (uint32_t)max_offset, (size_t)max_url};
    api_ctx ctx;
    api_ctx_init(&ctx, &store, &lim, (unsigned)threads);
    /* The request line and headers must fit in the connection's memory,
     * with room for the response headers. */
    http_options ho = {(unsigned)threads, (unsigned)timeout, (unsigned)max_conn,
                       (size_t)max_url * 2 + (32u << 10)};
    http_server *srv;
    rc = http_start(&srv, fd, &ctx, &ho, &err);
    if (rc != SE_OK) {
        fprintf(stderr, "%s: %s\n", progname, err.msg);
        gen_store_close(&store);
        return EXIT_SERVER;
    }
    if (port_file && write_port_file(port_file, bound) != 0) {
        fprintf(stderr, "%s: cannot write %s: %s\n", progname, port_file, strerror(errno));
        http_stop(srv);
        gen_store_close(&store);
        return EXIT_SERVER;
    }
    if (!quiet) {
        const index_reader *ix = store.current->ix;
        fprintf(stderr,
                "%s: serving %s (generation %llu, %llu documents) on http://127.0.0.1:%u/ "
                "with %ld threads\n",
                progname, dir, (unsigned long long)ix->man.generation,
                (unsigned long long)ix->ndocs, bound, threads);
    }

    struct timespec wait = {reload_ms / 1000, (reload_ms % 1000) * 1000000L};
    int sig;
    char last_error[SE_ERROR_MAX] = ""; /* a failing reload is reported once, not every tick */
    for (;;) {
        sig = sigtimedwait(&stop, NULL, &wait);
        if (sig == SIGINT || sig == SIGTERM) break;
        int changed;
        rc = gen_store_refresh(&store, &changed, &err);
        if (rc != SE_OK) {
            if (strcmp(last_error, err.msg) != 0)
                fprintf(stderr, "%s: keeping generation %llu: %s\n", progname,
                        (unsigned long long)store.current->ix->man.generation, err.msg);
            snprintf(last_error, sizeof last_error, "%s", err.msg);
            continue;
        }
        last_error[0] = 0;
        if (changed && !quiet) {
            const gen *g = store.current;
            fprintf(stderr, "%s: generation %llu loaded (%llu documents, %.1f ms)\n", progname,
                    (unsigned long long)g->ix->man.generation, (unsigned long long)g->ix->ndocs,
                    g->load_ms);
        }
    }
    if (!quiet)
        fprintf(stderr, "%s: %s, shutting down\n", progname, sig == SIGINT ? "SIGINT" : "SIGTERM");
    http_stop(srv);
    gen_store_close(&store);
    if (port_file) unlink(port_file);
    return EXIT_OK;
}
