/*
 * fts5_bench.c - the SQLite FTS5 peer of the speed benchmark
 * (bench/run_speed.sh; settings in bench/RESULTS.md).
 *
 *     fts5_bench index CORPUS.tsv DB
 *     fts5_bench stats DB
 *     fts5_bench search [-k N] [--warmup N] [--queries-out FILE] DB TYPE=QUERIES...
 *
 * index: one FTS5 table, one indexed column holding title + " " + text (the
 * single field bin/index builds), the default detail=full (positions, for
 * phrases), the porter tokenizer over unicode61 with diacritics removed,
 * and content='' so that, like the other peers, only the index is kept and
 * not a copy of the text; a document's rowid is its line number in
 * CORPUS.tsv.  All rows go in one transaction with the journal and fsync
 * off (the bulk-load settings SQLite recommends), then the 'optimize'
 * command merges the index into one b-tree segment and VACUUM drops the
 * pages the merge freed, so the file size is the index size.
 *
 * stats: documents, postings (sum of per-term document counts) and
 * positions, from an fts5vocab table in the temp schema.
 *
 * search: one prepared statement,
 *     SELECT rowid FROM d WHERE d MATCH ?1 ORDER BY rank LIMIT ?2
 * where rank is FTS5's bm25() (k1 = 1.2, b = 0.75, fixed).  FTS5 computes
 * bm25() for every matching row and keeps the best k; it has no pruning.
 * Queries in the benchmark syntax are rewritten: `a b` -> "a" OR "b",
 * `+a +b` -> "a" AND "b", `"a b"` -> the phrase "a b", `+a -b` ->
 * ("a") NOT "b".  A query with both required and optional words (`+a b`)
 * has no FTS5 equivalent (FTS5 cannot score a word it does not require
 * unless it also matches on it), so such a type is skipped and reported.
 * Timed per query: binding, stepping through the k rows, resetting.
 * Output lines as in bench/speed_common.h.
 */
#include <getopt.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/speed_common.h"

static int sql_fail(sqlite3 *db, const char *what)
{
    fprintf(stderr, "fts5_bench: %s: %s\n", what, sqlite3_errmsg(db));
    return 1;
}

static int exec(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        fprintf(stderr, "fts5_bench: %s: %s\n", sql, msg ? msg : "error");
        sqlite3_free(msg);
        return 1;
    }
    return 0;
}

static int do_index(const char *tsv, const char *path)
{
    FILE *in = fopen(tsv, "r");
    if (!in) {
        perror(tsv);
        return 1;
    }
    sqlite3 *db;
    if (sqlite3_open(path, &db) != SQLITE_OK) return sql_fail(db, path);
    if (exec(db, "PRAGMA journal_mode=OFF") || exec(db, "PRAGMA synchronous=OFF") ||
        exec(db, "CREATE VIRTUAL TABLE d USING fts5(body, content='', "
                 "tokenize='porter unicode61 remove_diacritics 2')") ||
        exec(db, "BEGIN"))
        return 1;
    sqlite3_stmt *ins;
    if (sqlite3_prepare_v2(db, "INSERT INTO d(rowid, body) VALUES (?1, ?2)", -1, &ins, NULL) !=
        SQLITE_OK)
        return sql_fail(db, "prepare insert");
    char *line = NULL, *body = NULL;
    size_t cap = 0, bcap = 0;
    ssize_t n;
    sqlite3_int64 row = 0;
    while ((n = getline(&line, &cap, in)) > 0) {
        if (line[n - 1] == '\n') line[--n] = 0;
        /* id TAB title TAB text: the body is title + " " + text. */
        char *t1 = strchr(line, '\t'), *t2 = t1 ? strchr(t1 + 1, '\t') : NULL;
        if (!t2) {
            fprintf(stderr, "fts5_bench: %s:%lld: not id<TAB>title<TAB>text\n", tsv,
                    (long long)row + 1);
            return 1;
        }
        size_t tl = (size_t)(t2 - t1 - 1), xl = (size_t)(line + n - t2 - 1);
        if (tl + xl + 2 > bcap) {
            bcap = 2 * (tl + xl + 2);
            if (!(body = realloc(body, bcap))) return 1;
        }
        memcpy(body, t1 + 1, tl);
        body[tl] = ' ';
        memcpy(body + tl + 1, t2 + 1, xl);
        sqlite3_bind_int64(ins, 1, ++row);
        sqlite3_bind_text(ins, 2, body, (int)(tl + 1 + xl), SQLITE_STATIC);
        if (sqlite3_step(ins) != SQLITE_DONE) return sql_fail(db, "insert");
        sqlite3_reset(ins);
    }
    free(line);
    free(body);
    fclose(in);
    sqlite3_finalize(ins);
    if (exec(db, "COMMIT") || exec(db, "INSERT INTO d(d) VALUES('optimize')") || exec(db, "VACUUM"))
        return 1;
    sqlite3_close(db);
    fprintf(stderr, "fts5_bench: indexed %lld documents\n", (long long)row);
    return 0;
}

static int do_stats(const char *path)
{
    sqlite3 *db;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
        return sql_fail(db, path);
    if (exec(db, "CREATE VIRTUAL TABLE temp.v USING fts5vocab(main, d, 'row')")) return 1;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db,
                           "SELECT (SELECT count(*) FROM d), count(*), sum(doc), sum(cnt) FROM v",
                           -1, &st, NULL) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW)
        return sql_fail(db, "fts5vocab");
    printf("documents\t%lld\nterms\t%lld\npostings\t%lld\npositions\t%lld\n",
           (long long)sqlite3_column_int64(st, 0), (long long)sqlite3_column_int64(st, 1),
           (long long)sqlite3_column_int64(st, 2), (long long)sqlite3_column_int64(st, 3));
    sqlite3_finalize(st);
    sqlite3_close(db);
    return 0;
}

/* ---- query rewriting ---- */

typedef struct sbuf {
    char *p;
    size_t len, cap;
} sbuf;

static void sb_put(sbuf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        b->cap = 2 * (b->len + n + 1);
        b->p = realloc(b->p, b->cap);
        if (!b->p) abort();
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
}

static void sb_str(sbuf *b, const char *s)
{
    sb_put(b, s, strlen(s));
}

/* Append the FTS5 string for s[0..n): in double quotes, inner ones doubled. */
static void sb_fts_string(sbuf *b, const char *s, size_t n)
{
    sb_put(b, "\"", 1);
    for (size_t i = 0; i < n; i++) sb_put(b, s[i] == '"' ? "\"\"" : s + i, 1 + (s[i] == '"'));
    sb_put(b, "\"", 1);
}

/* Rewrite q into out (reset first).  0 on success, -1 for a mix of required
 * and optional clauses, which FTS5 cannot express. */
static int rewrite(const char *q, sbuf *out)
{
    sbuf must = {0}, should = {0}, nots = {0};
    size_t nmust = 0, nshould = 0;
    const char *p = q;
    while (*p) {
        while (*p == ' ') p++;
        if (!*p) break;
        char occ = 0;
        if (*p == '+' || *p == '-') occ = *p++;
        const char *s = p;
        size_t n;
        if (*p == '"') {
            s = ++p;
            while (*p && *p != '"') p++;
            n = (size_t)(p - s);
            if (*p) p++;
        } else {
            while (*p && *p != ' ') p++;
            n = (size_t)(p - s);
        }
        if (n == 0) continue;
        if (occ == '-') {
            sb_str(&nots, " NOT ");
            sb_fts_string(&nots, s, n);
        } else if (occ == '+') {
            if (nmust++) sb_str(&must, " AND ");
            sb_fts_string(&must, s, n);
        } else {
            if (nshould++) sb_str(&should, " OR ");
            sb_fts_string(&should, s, n);
        }
    }
    int rc = 0;
    out->len = 0;
    if (nmust && nshould) {
        rc = -1;
    } else {
        sb_str(out, "(");
        sb_str(out, nmust ? must.p : should.p ? should.p : "");
        sb_str(out, ")");
        if (nots.p) sb_str(out, nots.p);
    }
    free(must.p);
    free(should.p);
    free(nots.p);
    return rc;
}

/* ---- search ---- */

typedef struct qset {
    char *type;
    speed_queries qs;
    char **fts; /* rewritten queries */
    int unsupported;
} qset;

static int run_query(sqlite3_stmt *st, const char *fts, int k, size_t *nhits)
{
    sqlite3_bind_text(st, 1, fts, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, k);
    int rc;
    size_t n = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) n += sqlite3_column_int64(st, 0) > 0;
    sqlite3_reset(st);
    *nhits = n;
    return rc == SQLITE_DONE ? 0 : -1;
}

static int do_search(int argc, char **argv)
{
    int k = 10;
    long warmup = 1;
    const char *dump_path = NULL;
    static const struct option longopts[] = {{"warmup", required_argument, NULL, 'w'},
                                             {"queries-out", required_argument, NULL, 'q'},
                                             {NULL, 0, NULL, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "k:", longopts, NULL)) != -1) {
        if (c == 'k')
            k = atoi(optarg);
        else if (c == 'w')
            warmup = strtol(optarg, NULL, 10);
        else if (c == 'q')
            dump_path = optarg;
        else
            return 2;
    }
    if (optind + 2 > argc || k <= 0) return 2;
    FILE *dump = speed_open_dump(dump_path);
    const char *path = argv[optind++];
    size_t nsets = (size_t)(argc - optind), maxq = 1;
    qset *sets = calloc(nsets, sizeof *sets);
    if (!sets) return 1;
    for (size_t i = 0; i < nsets; i++) {
        char *qpath;
        if (speed_split_arg(argv[optind + (int)i], &sets[i].type, &qpath) != 0) return 2;
        if (speed_read_queries(qpath, &sets[i].qs) != 0) return 1;
        sets[i].fts = calloc(sets[i].qs.n + 1, sizeof *sets[i].fts);
        if (!sets[i].fts) return 1;
        for (size_t j = 0; j < sets[i].qs.n; j++) {
            sbuf b = {0};
            if (rewrite(sets[i].qs.q[j], &b) != 0) sets[i].unsupported = 1;
            sets[i].fts[j] = b.p;
        }
        if (sets[i].qs.n > maxq) maxq = sets[i].qs.n;
    }

    sqlite3 *db;
    sqlite3_stmt *st;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
        return sql_fail(db, path);
    if (sqlite3_prepare_v2(db, "SELECT rowid FROM d WHERE d MATCH ?1 ORDER BY rank LIMIT ?2", -1,
                           &st, NULL) != SQLITE_OK)
        return sql_fail(db, "prepare query");

    size_t nhits;
    for (long w = 0; w < warmup; w++)
        for (size_t i = 0; i < nsets; i++)
            for (size_t j = 0; j < sets[i].qs.n && !sets[i].unsupported; j++)
                run_query(st, sets[i].fts[j], k, &nhits);

    double *lat = malloc(maxq * sizeof *lat);
    int failed = 0;
    for (size_t i = 0; i < nsets; i++) {
        if (sets[i].unsupported) {
            fprintf(stderr,
                    "fts5_bench: %s: skipped, FTS5 cannot express required and "
                    "optional words together\n",
                    sets[i].type);
            continue;
        }
        size_t n = 0, nonempty = 0;
        unsigned long long hits = 0;
        for (size_t j = 0; j < sets[i].qs.n; j++) {
            double t0 = speed_now_ns();
            int rc = run_query(st, sets[i].fts[j], k, &nhits);
            double t1 = speed_now_ns();
            if (rc != 0) {
                fprintf(stderr, "fts5_bench: %s query %s: %s\n", sets[i].type, sets[i].fts[j],
                        sqlite3_errmsg(db));
                failed = 1;
                continue;
            }
            lat[n++] = t1 - t0;
            speed_dump(dump, "fts5", sets[i].type, sets[i].qs.q[j], t1 - t0, nhits);
            nonempty += nhits > 0;
            hits += nhits;
        }
        speed_report(stdout, "fts5", sets[i].type, lat, n, nonempty, hits);
    }
    free(lat);
    if (dump) fclose(dump);
    sqlite3_finalize(st);
    sqlite3_close(db);
    for (size_t i = 0; i < nsets; i++) {
        for (size_t j = 0; j < sets[i].qs.n; j++) free(sets[i].fts[j]);
        free(sets[i].fts);
        speed_free_queries(&sets[i].qs);
    }
    free(sets);
    return failed;
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "index") == 0) return do_index(argv[2], argv[3]);
    if (argc == 3 && strcmp(argv[1], "stats") == 0) return do_stats(argv[2]);
    if (argc >= 4 && strcmp(argv[1], "search") == 0) return do_search(argc - 1, argv + 1);
    fprintf(stderr, "usage: fts5_bench index CORPUS.tsv DB\n"
                    "       fts5_bench stats DB\n"
                    "       fts5_bench search [-k N] [--warmup N] [--queries-out FILE] DB "
                    "TYPE=QUERIES...\n");
    return 2;
}
