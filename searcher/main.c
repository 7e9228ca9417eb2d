/*
 * main.c - bin/search: the command-line front end of the searcher.
 *
 * Opens the index, runs one query (or a batch), and prints hits as text,
 * JSON lines or TREC run lines.  Status codes from the library become
 * messages on stderr and the exit codes documented in --help.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/analyzer.h"
#include "common/index.h"
#include "common/version.h"
#include "searcher/search.h"
#include "searcher/snippet.h"

enum {
    EXIT_HITS = 0,
    EXIT_NO_HITS = 1,
    EXIT_USAGE = 2,         /* bad option or bad query */
    EXIT_INDEX = 3,         /* no index, not an index, corrupt index */
    EXIT_FAILURE_OTHER = 4, /* out of memory, I/O error */
};

enum format { FMT_TEXT, FMT_JSON, FMT_TREC };

static const char *progname = "search";

static void usage(FILE *out)
{
    fprintf(out,
            "usage: %s [options] QUERY\n"
            "       %s [options] --batch FILE\n"
            "Ranked search (BM25) over an index built by 'index'.\n"
            "\n"
            "Query syntax: words (any may match, best first), \"a phrase\" (exact, after\n"
            "stemming), +word (required), -word (excluded), AND, OR, NOT, ( ).\n"
            "\n"
            "  -i, --index DIR    index directory (default: $SEARCH_INDEX, else ./index)\n"
            "  -k N               number of hits (default 10, at most %d)\n"
            "      --k1 X         BM25 k1 (default %.2f)\n"
            "      --b X          BM25 b (default %.2f)\n"
            "      --bm25 NAME    BM25 variant: lucene (default), robertson, atire, bm25l,\n"
            "                     bm25plus\n"
            "      --delta X      delta of bm25l (default %.1f) and bm25plus (default %.1f)\n"
            "      --lucene-norms score with document lengths rounded as Lucene's one-byte\n"
            "                     norms\n"
            "      --title-weight W  BM25F: weight of a term's title occurrences (default 0:\n"
            "                     title and text scored as one field)\n"
            "      --title-b X    BM25F: b of the title (default %.2f; the text keeps --b)\n"
            "      --and          every word is required (default: any word)\n"
            "      --literal      the query is plain words: no operators, quotes, parentheses\n"
            "      --exhaustive   score every match (exact match count; no pruning)\n"
            "      --explain      show each hit's score as the sum of its terms' BM25\n"
            "      --json         one JSON object per hit (same as --format json)\n"
            "      --format F     text, json or trec (qid Q0 docid rank score tag)\n"
            "      --batch FILE   run one query per line ('qid<TAB>query' or 'query');\n"
            "                     FILE '-' reads standard input\n"
            "      --threads N    run a batch's queries on N threads (0: one per core;\n"
            "                     default 1); the output keeps the input's order\n"
            "      --tag TAG      run tag in trec output (default 'se')\n"
            "      --no-snippets  do not print snippets\n"
            "      --color WHEN   bold highlights: auto (default, on a terminal), always, never\n"
            "  -h, --help         this help\n"
            "  -V, --version      print the version\n"
            "\n"
            "Exit status: 0 at least one hit (for --batch: all queries ran); 1 no hit;\n"
            "2 usage error or invalid query; 3 no index, or the index is damaged;\n"
            "4 out of memory or I/O error.\n",
            progname, progname, SEARCH_MAX_K, (double)SEARCH_DEFAULT_K1, (double)SEARCH_DEFAULT_B,
            (double)BM25_DEFAULT_DELTA_L, (double)BM25_DEFAULT_DELTA_PLUS,
            (double)SEARCH_DEFAULT_TITLE_B);
}

#define EXPLAIN_MAX 1024 /* contributions shown per hit */

typedef struct cli {
    const char *dir;
    search_options so;
    enum format fmt;
    const char *tag;
    int snippets;
    int color;
    index_reader *ix;
    searcher *s;
    analyzer *an;
    seg_store_buffer store;
    int explain;
    search_explain_term why[EXPLAIN_MAX];
} cli;

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void json_string(FILE *out, const char *s, size_t n)
{
    fputc('"', out);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            fputc('\\', out);
            fputc(c, out);
        } else if (c == '\n') {
            fputs("\\n", out);
        } else if (c == '\t') {
            fputs("\\t", out);
        } else if (c < 0x20 || c == 0x7f) {
            fprintf(out, "\\u%04x", c);
        } else {
            fputc(c, out);
        }
    }
    fputc('"', out);
}

/* Print a string with control characters (escape sequences from a hostile
 * document) replaced, so a title cannot drive the terminal. */
static void safe_text(FILE *out, const char *s, size_t n, int keep_sgr)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == 0x1b && keep_sgr && i + 1 < n && s[i + 1] == '[') {
            fputc(c, out);
        } else if (c < 0x20 || c == 0x7f) {
            fputc(' ', out);
        } else {
            fputc(c, out);
        }
    }
}

/* The contributions of hit h into c->why. */
static int explain(cli *c, const search_hit *h, size_t *n, se_error *err)
{
    return searcher_explain(c->s, h, c->why, EXPLAIN_MAX, n, err);
}

static int print_hits(cli *c, FILE *out, const char *qid, const char *query, const search_result *r,
                      double ms, se_error *err)
{
    const search_highlight *hl = searcher_highlight(c->s);
    if (c->fmt == FMT_TEXT) {
        if (qid) fprintf(out, "## %s: %s\n", qid, query);
        fprintf(out, "%s%llu matching document%s of %llu, top %zu (%.2f ms)\n",
                r->matches_exact ? "" : "at least ", (unsigned long long)r->matches,
                r->matches == 1 ? "" : "s", (unsigned long long)c->ix->ndocs, r->nhits, ms);
    }
    const char *open = c->color ? "\033[1m" : "**", *close = c->color ? "\033[0m" : "**";
    if (c->fmt == FMT_JSON) open = close = "**";
    for (size_t i = 0; i < r->nhits; i++) {
        const search_hit *h = &r->hits[i];
        if (c->fmt == FMT_TREC) { /* the id only: from the document table, no decompression */
            char id[SEG_MAX_ID_LEN];
            size_t id_len = segment_doc_id(c->ix->segments[h->segment], h->doc, id);
            fprintf(out, "%s Q0 ", qid ? qid : "1");
            safe_text(out, id, id_len, 0);
            fprintf(out, " %zu %.6f %s\n", i + 1, (double)h->score, c->tag);
            continue;
        }
        seg_document d;
        int rc = segment_document(c->ix->segments[h->segment], h->doc, &c->store, &d, err);
        if (rc != SE_OK) return rc;
        char *snip = NULL, *title = NULL;
        snippet_options to = {0, open, close}, so = {32, open, close};
        /* Titles keep their stored form; the snippet is copied out of the
         * store buffer before the next document is fetched. */
        rc = snippet_make(c->an, hl, d.title, d.title_len, &to, &title);
        if (rc == SE_OK && c->snippets)
            rc = snippet_make(c->an, hl, d.text, d.text_len, &so, &snip);
        if (rc != SE_OK) {
            free(title);
            return se_fail(err, rc, "out of memory making a snippet");
        }
        if (c->fmt == FMT_JSON) {
            fprintf(out, "{");
            if (qid) {
                fprintf(out, "\"qid\":");
                json_string(out, qid, strlen(qid));
                fprintf(out, ",");
            }
            fprintf(out, "\"rank\":%zu,\"id\":", i + 1);
            json_string(out, d.id, d.id_len);
            fprintf(out, ",\"score\":%.6f,\"title\":", (double)h->score);
            json_string(out, d.title, d.title_len);
            if (snip) {
                fprintf(out, ",\"snippet\":");
                json_string(out, snip, strlen(snip));
            }
            if (c->explain) {
                size_t n;
                rc = explain(c, h, &n, err);
                if (rc != SE_OK) {
                    free(title);
                    free(snip);
                    return rc;
                }
                fprintf(out, ",\"explain\":[");
                for (size_t e = 0; e < n && e < EXPLAIN_MAX; e++) {
                    const search_explain_term *t = &c->why[e];
                    fprintf(out, "%s{\"%s\":", e ? "," : "", t->phrase ? "phrase" : "term");
                    json_string(out, t->text, strlen(t->text));
                    fprintf(out, ",\"idf\":%.6f,\"weight\":%g,\"tf\":%u,\"dl\":%u,\"avgdl\":%.4f,",
                            (double)t->idf, (double)t->weight, t->tf, t->dl, t->avgdl);
                    if (t->fielded)
                        fprintf(out,
                                "\"title_tf\":%u,\"title_len\":%u,\"title_avg\":%.4f,"
                                "\"body_tf\":%u,\"body_len\":%u,\"body_avg\":%.4f,"
                                "\"tf_fielded\":%.6f,",
                                t->title_tf, t->title_len, t->title_avg, t->body_tf, t->body_len,
                                t->body_avg, (double)t->tf_fielded);
                    fprintf(out, "\"contribution\":%.6f}", (double)t->contribution);
                }
                fprintf(out, "]");
            }
            fprintf(out, "}\n");
        } else {
            fprintf(out, "\n%2zu. ", i + 1);
            safe_text(out, d.id, d.id_len, 0);
            fprintf(out, "  (score %.4f)\n    ", (double)h->score);
            safe_text(out, title, strlen(title), c->color);
            fprintf(out, "\n");
            if (snip) {
                fprintf(out, "    ");
                safe_text(out, snip, strlen(snip), c->color);
                fprintf(out, "\n");
            }
            if (c->explain) {
                size_t n;
                rc = explain(c, h, &n, err);
                if (rc != SE_OK) {
                    free(title);
                    free(snip);
                    return rc;
                }
                double sum = 0;
                for (size_t e = 0; e < n && e < EXPLAIN_MAX; e++) sum += c->why[e].contribution;
                fprintf(out, "    score %.4f = sum of:\n", sum);
                for (size_t e = 0; e < n && e < EXPLAIN_MAX; e++) {
                    const search_explain_term *t = &c->why[e];
                    fprintf(out, "      %.4f  %s ", (double)t->contribution,
                            t->phrase ? "phrase" : "term");
                    safe_text(out, t->text, strlen(t->text), 0);
                    fprintf(out, ": idf %.4f, tf %u, dl %u, avgdl %.2f", (double)t->idf, t->tf,
                            t->dl, t->avgdl);
                    if (t->fielded)
                        fprintf(out,
                                "; title tf %u, len %u, avg %.2f (weight %g, b %.2f); body tf %u, "
                                "len %u, avg %.2f; BM25F tf %.4f",
                                t->title_tf, t->title_len, t->title_avg, (double)c->so.title_weight,
                                (double)c->so.title_b, t->body_tf, t->body_len, t->body_avg,
                                (double)t->tf_fielded);
                    fprintf(out, ", k1 %.2f, b %.2f, %s", (double)c->so.k1, (double)c->so.b,
                            bm25_variant_name(c->so.variant));
                    if (c->so.variant == BM25_L || c->so.variant == BM25_PLUS)
                        fprintf(out, " delta %.2f", (double)c->so.delta);
                    if (c->so.lucene_norms) fprintf(out, ", Lucene lengths");
                    if (t->weight != 1)
                        fprintf(out, ", x %g (repeated in the query)", (double)t->weight);
                    fprintf(out, "\n");
                }
            }
        }
        free(title);
        free(snip);
    }
    if (c->fmt == FMT_TEXT && qid) fprintf(out, "\n");
    return SE_OK;
}

/* Would `index -i dir` build an index there?  Yes when dir does not exist or
 * is an empty directory (a LOCK left by a failed first run aside); not for a
 * directory holding other files, which the indexer refuses, so suggesting it
 * would only lead to a second error. */
static int index_could_go_there(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return errno == ENOENT;
    int empty = 1;
    struct dirent *e;
    while (empty && (e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0 &&
            strcmp(e->d_name, "LOCK") != 0)
            empty = 0;
    closedir(d);
    return empty;
}

static int exit_for(int rc)
{
    switch (rc) {
    case SE_SYNTAX:
    case SE_LIMIT:
    case SE_INVALID:
        return EXIT_USAGE;
    case SE_CORRUPT:
    case SE_FORMAT:
    case SE_NOTFOUND:
        return EXIT_INDEX;
    default:
        return EXIT_FAILURE_OTHER;
    }
}

/* Run one query and print its hits to out; on failure err says why. */
static int run_query(cli *c, FILE *out, const char *qid, const char *query, int *any_hits,
                     se_error *err)
{
    search_result r;
    double t0 = now_ms();
    int rc = searcher_run(c->s, query, strlen(query), &c->so, &r, err);
    double ms = now_ms() - t0;
    if (rc == SE_OK) rc = print_hits(c, out, qid, query, &r, ms, err);
    if (rc == SE_OK && r.nhits) *any_hits = 1;
    return rc;
}

static void report_failure(const char *qid, const se_error *err)
{
    fflush(stdout);
    if (qid)
        fprintf(stderr, "%s: query %s: %s\n", progname, qid, err->msg);
    else
        fprintf(stderr, "%s: %s\n", progname, err->msg);
}

static int run_one(cli *c, const char *qid, const char *query, int *any_hits)
{
    se_error err = {0};
    int rc = run_query(c, stdout, qid, query, any_hits, &err);
    if (rc != SE_OK) report_failure(qid, &err);
    return rc;
}

/* ---- batches on several threads ----
 *
 * Queries are read a chunk at a time; worker threads, each with its own
 * searcher, analyzer and store buffer over the shared index (a searcher is
 * single-threaded, the index reader is shared read-only), take the next
 * query from an atomic counter and print its hits into a memory buffer.
 * The main thread then writes the buffers in input order, so the output is
 * byte for byte that of one thread apart from the timings in text mode. */

#define BATCH_CHUNK 4096

typedef struct batch_query {
    char *qid, *query;
    char *out;
    size_t out_len;
    int rc, any;
    se_error err;
} batch_query;

typedef struct batch_worker {
    cli c; /* a copy of the options with this thread's own searcher */
    batch_query *queries;
    size_t nqueries;
    atomic_size_t *next;
    pthread_t thread;
} batch_worker;

static void *batch_work(void *arg)
{
    batch_worker *w = arg;
    for (;;) {
        size_t i = atomic_fetch_add(w->next, 1);
        if (i >= w->nqueries) break;
        batch_query *q = &w->queries[i];
        FILE *out = open_memstream(&q->out, &q->out_len);
        if (!out) {
            q->rc = se_fail(&q->err, SE_NOMEM, "out of memory");
            continue;
        }
        q->rc = run_query(&w->c, out, q->qid, q->query, &q->any, &q->err);
        if (fclose(out) != 0 && q->rc == SE_OK)
            q->rc = se_fail(&q->err, SE_NOMEM, "out of memory buffering output");
    }
    return NULL;
}

static void batch_workers_free(batch_worker *w, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        seg_store_buffer_free(&w[i].c.store);
        if (i == 0) continue;
        analyzer_free(w[i].c.an);
        searcher_free(w[i].c.s);
    }
    free(w);
}

/* Worker 0 uses the main thread's searcher and analyzer; the others get
 * their own.  Every worker, 0 included, has its own store buffer: a copy of
 * the main thread's would be grown behind its back and leak. */
static batch_worker *batch_workers_new(cli *c, size_t n, se_error *err)
{
    batch_worker *w = calloc(n, sizeof *w);
    if (!w) {
        se_fail(err, SE_NOMEM, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        w[i].c = *c;
        seg_store_buffer_init(&w[i].c.store);
        if (i == 0) continue;
        w[i].c.s = NULL;
        w[i].c.an = NULL;
        int rc = searcher_new(&w[i].c.s, c->ix, err);
        if (rc == SE_OK && analyzer_new_with(&w[i].c.an, c->ix->man.analysis) != SE_OK)
            rc = se_fail(err, SE_NOMEM, "out of memory");
        if (rc != SE_OK) {
            batch_workers_free(w, i + 1);
            return NULL;
        }
    }
    return w;
}

/* Run queries[0..n) on the workers; 0 or an errno from pthread_create. */
static int batch_run_chunk(batch_worker *w, size_t nw, batch_query *queries, size_t n)
{
    atomic_size_t next;
    atomic_init(&next, 0);
    size_t started = 1;
    int err = 0;
    for (size_t i = 0; i < nw; i++) {
        w[i].queries = queries;
        w[i].nqueries = n;
        w[i].next = &next;
    }
    for (size_t i = 1; i < nw && err == 0; i++) {
        err = pthread_create(&w[i].thread, NULL, batch_work, &w[i]);
        if (err == 0) started++;
    }
    batch_work(&w[0]);
    for (size_t i = 1; i < started; i++) pthread_join(w[i].thread, NULL);
    return err;
}

static int run_batch(cli *c, const char *path, size_t nthreads)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
    if (!f) {
        fprintf(stderr, "%s: cannot open %s: %s\n", progname, path, strerror(errno));
        return EXIT_USAGE;
    }
    se_error err = {0};
    batch_worker *workers = NULL;
    batch_query *chunk = NULL;
    if (nthreads > 1) {
        workers = batch_workers_new(c, nthreads, &err);
        chunk = calloc(BATCH_CHUNK, sizeof *chunk);
        if (!workers || !chunk) {
            fprintf(stderr, "%s: %s\n", progname, workers ? "out of memory" : err.msg);
            if (workers) batch_workers_free(workers, nthreads);
            if (f != stdin) fclose(f);
            return EXIT_FAILURE_OTHER;
        }
    }
    char *line = NULL;
    size_t cap = 0, nchunk = 0;
    ssize_t n;
    unsigned long lineno = 0;
    int worst = EXIT_HITS, any = 0, stop = 0, eof = 0;
    while (!stop && !eof) {
        n = getline(&line, &cap, f);
        eof = n < 0;
        if (!eof) {
            lineno++;
            while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = 0;
            if (n == 0) continue;
            char num[32];
            const char *qid = num, *query = line;
            char *tab = strchr(line, '\t');
            if (tab) {
                *tab = 0;
                qid = line;
                query = tab + 1;
            } else {
                snprintf(num, sizeof num, "%lu", lineno);
            }
            if (!chunk) { /* one thread: run and print as the lines come */
                int rc = run_one(c, qid, query, &any);
                if (rc != SE_OK) {
                    int code = exit_for(rc);
                    if (code == EXIT_INDEX || code == EXIT_FAILURE_OTHER) {
                        worst = code;
                        stop = 1;
                    } else if (code > worst) {
                        worst = code;
                    }
                }
                continue;
            }
            batch_query *q = &chunk[nchunk];
            memset(q, 0, sizeof *q);
            q->qid = strdup(qid);
            q->query = strdup(query);
            if (!q->qid || !q->query) {
                free(q->qid);
                free(q->query);
                fprintf(stderr, "%s: out of memory\n", progname);
                worst = EXIT_FAILURE_OTHER;
                break;
            }
            nchunk++;
        }
        if (!chunk || nchunk == 0 || (nchunk < BATCH_CHUNK && !eof)) continue;
        int perr = batch_run_chunk(workers, nthreads, chunk, nchunk);
        if (perr != 0) {
            fprintf(stderr, "%s: cannot start a thread: %s\n", progname, strerror(perr));
            worst = EXIT_FAILURE_OTHER;
            stop = 1;
        }
        for (size_t i = 0; i < nchunk; i++) {
            batch_query *q = &chunk[i];
            if (!stop) {
                if (q->out_len) fwrite(q->out, 1, q->out_len, stdout);
                if (q->any) any = 1;
                if (q->rc != SE_OK) {
                    report_failure(q->qid, &q->err);
                    int code = exit_for(q->rc);
                    if (code == EXIT_INDEX || code == EXIT_FAILURE_OTHER) {
                        worst = code;
                        stop = 1;
                    } else if (code > worst) {
                        worst = code;
                    }
                }
            }
            free(q->out);
            free(q->qid);
            free(q->query);
        }
        nchunk = 0;
    }
    for (size_t i = 0; i < nchunk; i++) {
        free(chunk[i].qid);
        free(chunk[i].query);
    }
    free(chunk);
    if (workers) batch_workers_free(workers, nthreads);
    free(line);
    if (f != stdin) fclose(f);
    (void)any;
    return worst;
}

int main(int argc, char **argv)
{
    cli c = {0};
    c.dir = getenv("SEARCH_INDEX");
    if (!c.dir || !*c.dir) c.dir = "index";
    c.so.k = 10;
    c.so.k1 = SEARCH_DEFAULT_K1;
    c.so.b = SEARCH_DEFAULT_B;
    c.so.title_b = SEARCH_DEFAULT_TITLE_B;
    c.tag = "se";
    c.snippets = 1;
    const char *batch = NULL, *color = "auto";
    size_t threads = 1;
    int delta_given = 0, title_b_given = 0;
    static const struct option opts[] = {
        {"index", required_argument, 0, 'i'},   {"k1", required_argument, 0, '1'},
        {"b", required_argument, 0, 'b'},       {"and", no_argument, 0, 'a'},
        {"literal", no_argument, 0, 'l'},       {"json", no_argument, 0, 'j'},
        {"exhaustive", no_argument, 0, 'E'},    {"explain", no_argument, 0, 'X'},
        {"format", required_argument, 0, 'f'},  {"batch", required_argument, 0, 'B'},
        {"tag", required_argument, 0, 't'},     {"no-snippets", no_argument, 0, 'n'},
        {"color", required_argument, 0, 'c'},   {"help", no_argument, 0, 'h'},
        {"version", no_argument, 0, 'V'},       {"threads", required_argument, 0, 'T'},
        {"bm25", required_argument, 0, 'M'},    {"delta", required_argument, 0, 'D'},
        {"lucene-norms", no_argument, 0, 'N'},  {"title-weight", required_argument, 0, 'W'},
        {"title-b", required_argument, 0, 'U'}, {0, 0, 0, 0}};
    int ch;
    argv[0] = (char *)progname; /* getopt's own messages: "search: ..." like ours */
    while ((ch = getopt_long(argc, argv, "i:k:hV", opts, NULL)) != -1) {
        char *end;
        switch (ch) {
        case 'i':
            c.dir = optarg;
            break;
        case 'k': {
            long k = strtol(optarg, &end, 10);
            if (*optarg == 0 || *end || k < 1 || k > SEARCH_MAX_K) {
                fprintf(stderr, "%s: -k takes a number from 1 to %d\n", progname, SEARCH_MAX_K);
                return EXIT_USAGE;
            }
            c.so.k = (uint32_t)k;
            break;
        }
        case '1':
        case 'b': {
            double v = strtod(optarg, &end);
            int bad = *optarg == 0 || *end || !(v >= 0) || (ch == 'b' ? v > 1 : v > 100);
            if (bad) {
                fprintf(stderr, "%s: --%s takes a number in %s\n", progname, ch == 'b' ? "b" : "k1",
                        ch == 'b' ? "[0, 1]" : "[0, 100]");
                return EXIT_USAGE;
            }
            if (ch == 'b')
                c.so.b = (float)v;
            else
                c.so.k1 = (float)v;
            break;
        }
        case 'M':
            if (bm25_variant_parse(optarg, &c.so.variant) != SE_OK) {
                fprintf(stderr, "%s: --bm25 takes lucene, robertson, atire, bm25l or bm25plus\n",
                        progname);
                return EXIT_USAGE;
            }
            break;
        case 'D': {
            double v = strtod(optarg, &end);
            if (*optarg == 0 || *end || !(v >= 0 && v <= 100)) {
                fprintf(stderr, "%s: --delta takes a number in [0, 100]\n", progname);
                return EXIT_USAGE;
            }
            c.so.delta = (float)v;
            delta_given = 1;
            break;
        }
        case 'N':
            c.so.lucene_norms = 1;
            break;
        case 'W': {
            double v = strtod(optarg, &end);
            if (*optarg == 0 || *end || !(v >= 0 && v <= SEARCH_MAX_TITLE_WEIGHT)) {
                fprintf(stderr, "%s: --title-weight takes a number in [0, %g]\n", progname,
                        (double)SEARCH_MAX_TITLE_WEIGHT);
                return EXIT_USAGE;
            }
            c.so.title_weight = (float)v;
            break;
        }
        case 'U': {
            double v = strtod(optarg, &end);
            if (*optarg == 0 || *end || !(v >= 0 && v <= 1)) {
                fprintf(stderr, "%s: --title-b takes a number in [0, 1]\n", progname);
                return EXIT_USAGE;
            }
            c.so.title_b = (float)v;
            title_b_given = 1;
            break;
        }
        case 'a':
            c.so.default_and = 1;
            break;
        case 'l':
            c.so.literal = 1;
            break;
        case 'X':
            c.explain = 1;
            break;
        case 'E':
            c.so.exhaustive = 1;
            break;
        case 'j':
            c.fmt = FMT_JSON;
            break;
        case 'f':
            if (strcmp(optarg, "text") == 0)
                c.fmt = FMT_TEXT;
            else if (strcmp(optarg, "json") == 0)
                c.fmt = FMT_JSON;
            else if (strcmp(optarg, "trec") == 0)
                c.fmt = FMT_TREC;
            else {
                fprintf(stderr, "%s: --format takes text, json or trec\n", progname);
                return EXIT_USAGE;
            }
            break;
        case 'B':
            batch = optarg;
            break;
        case 'T': {
            long t = strtol(optarg, &end, 10);
            if (*optarg == 0 || *end || t < 0 || t > 256) {
                fprintf(stderr, "%s: --threads takes a number from 0 (one per core) to 256\n",
                        progname);
                return EXIT_USAGE;
            }
            if (t == 0) {
                long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
                t = ncpu > 0 ? (ncpu > 256 ? 256 : ncpu) : 1;
            }
            threads = (size_t)t;
            break;
        }
        case 't':
            c.tag = optarg;
            break;
        case 'n':
            c.snippets = 0;
            break;
        case 'c':
            color = optarg;
            break;
        case 'h':
            usage(stdout);
            return EXIT_HITS;
        case 'V':
            printf("search %s\n", SE_VERSION);
            return EXIT_HITS;
        default:
            usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (delta_given && c.so.variant != BM25_L && c.so.variant != BM25_PLUS) {
        fprintf(stderr, "%s: --delta applies to --bm25 bm25l and bm25plus only\n", progname);
        return EXIT_USAGE;
    }
    if (title_b_given && !(c.so.title_weight > 0)) {
        fprintf(stderr, "%s: --title-b applies only with --title-weight above 0\n", progname);
        return EXIT_USAGE;
    }
    if (!delta_given)
        c.so.delta = c.so.variant == BM25_L ? BM25_DEFAULT_DELTA_L : BM25_DEFAULT_DELTA_PLUS;
    if (strcmp(color, "always") == 0)
        c.color = 1;
    else if (strcmp(color, "never") == 0)
        c.color = 0;
    else if (strcmp(color, "auto") == 0)
        c.color = isatty(STDOUT_FILENO);
    else {
        fprintf(stderr, "%s: --color takes auto, always or never\n", progname);
        return EXIT_USAGE;
    }
    if (!batch && optind != argc - 1) {
        fprintf(stderr,
                optind >= argc ? "%s: no query given\n"
                               : "%s: give the query as one argument (quote it)\n",
                progname);
        usage(stderr);
        return EXIT_USAGE;
    }
    if (batch && optind != argc) {
        fprintf(stderr, "%s: --batch takes no query argument\n", progname);
        return EXIT_USAGE;
    }
    se_error err = {0};
    int rc = index_open(&c.ix, c.dir, &err);
    if (rc != SE_OK) {
        fprintf(stderr, "%s: %s\n", progname, err.msg);
        if (rc == SE_NOTFOUND && index_could_go_there(c.dir))
            fprintf(stderr, "%s: build one with: index -i %s corpus/\n", progname, c.dir);
        return exit_for(rc);
    }
    rc = searcher_new(&c.s, c.ix, &err);
    if (rc == SE_OK && analyzer_new_with(&c.an, c.ix->man.analysis) != SE_OK)
        rc = se_fail(&err, SE_NOMEM, "out of memory");
    if (rc != SE_OK) {
        fprintf(stderr, "%s: %s\n", progname, err.msg);
        searcher_free(c.s);
        index_close(c.ix);
        return EXIT_FAILURE_OTHER;
    }
    seg_store_buffer_init(&c.store);
    int code;
    if (batch) {
        code = run_batch(&c, batch, threads);
    } else {
        int any = 0;
        rc = run_one(&c, NULL, argv[optind], &any);
        code = rc != SE_OK ? exit_for(rc) : any ? EXIT_HITS : EXIT_NO_HITS;
    }
    seg_store_buffer_free(&c.store);
    analyzer_free(c.an);
    searcher_free(c.s);
    index_close(c.ix);
    if (fflush(stdout) != 0 && code == EXIT_HITS) code = EXIT_FAILURE_OTHER;
    return code;
}
