/*
 * fts5_run.c - the peer baseline of bench/EVAL.md: SQLite FTS5 with its
 * built-in bm25() ranking, run over the same documents and queries as
 * bin/search, printing a TREC run for bin/eval.
 *
 *     fts5_run [-k N] [--tag TAG] CORPUS.jsonl BATCH.tsv > run.trec
 *
 * CORPUS.jsonl is BEIR's layout ({"_id", "title", "text"} per line); each
 * document is indexed as one column, title + " " + text, so that FTS5 ranks
 * the same "flat" field bin/index builds.  The table lives in memory:
 *
 *     CREATE VIRTUAL TABLE docs USING fts5(id UNINDEXED, body,
 *         tokenize = 'porter unicode61 remove_diacritics 2');
 *
 * (Unicode 6.1 letters and digits as tokens, folded to lower case without
 * diacritics, Porter-stemmed; no stop words.)  bm25() is called with no
 * column weights, i.e. FTS5's fixed k1 = 1.2, b = 0.75 and its idf
 * ln((N - n + 0.5) / (n + 0.5)), floored at 1e-6.
 *
 * BATCH.tsv has `qid<TAB>query` lines (bench/beir_batch writes them).  A
 * query is split at white space; every piece with at least one letter or
 * digit becomes an FTS5 string, "piece" with inner double quotes doubled (so
 * no character of the query is read as FTS5 syntax, and a piece the
 * tokenizer splits, like "0-dimensional", is a phrase), and the pieces are
 * joined with OR: any document matching one piece is a candidate, as with
 * bin/search --literal.  The top N (default 1000) by bm25() are printed as
 * `qid Q0 docid rank score TAG` with score = -bm25() (FTS5's bm25() is
 * lower-is-better).
 */
#include <getopt.h>
#include <jansson.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *progname = "fts5_run";

static int sql_fail(sqlite3 *db, const char *what)
{
    fprintf(stderr, "%s: %s: %s\n", progname, what, sqlite3_errmsg(db));
    return 1;
}

/* Load CORPUS.jsonl into the docs table, in one transaction. */
static int load_corpus(sqlite3 *db, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        perror(path);
        return 1;
    }
    sqlite3_stmt *ins = NULL;
    int status = 0;
    if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "INSERT INTO docs(id, body) VALUES (?1, ?2)", -1, &ins, NULL) !=
            SQLITE_OK) {
        fclose(f);
        return sql_fail(db, "preparing the insert");
    }
    char *line = NULL, *body = NULL;
    size_t cap = 0, bodycap = 0;
    ssize_t n;
    unsigned long lineno = 0;
    while (status == 0 && (n = getline(&line, &cap, f)) > 0) {
        lineno++;
        json_error_t jerr;
        json_t *o = json_loadb(line, (size_t)n, 0, &jerr);
        json_t *jid = json_object_get(o, "_id"), *jt = json_object_get(o, "title"),
               *jx = json_object_get(o, "text");
        if (!json_is_object(o) || !(json_is_string(jid) || json_is_integer(jid))) {
            fprintf(stderr, "%s: %s:%lu: not a document with an _id\n", progname, path, lineno);
            json_decref(o);
            status = 1;
            break;
        }
        char idbuf[32];
        const char *id = idbuf;
        if (json_is_string(jid))
            id = json_string_value(jid);
        else
            snprintf(idbuf, sizeof idbuf, "%lld", (long long)json_integer_value(jid));
        const char *title = json_is_string(jt) ? json_string_value(jt) : "";
        const char *text = json_is_string(jx) ? json_string_value(jx) : "";
        size_t tl = strlen(title), xl = strlen(text);
        if (!body || tl + xl + 2 > bodycap) {
            bodycap = tl + xl + 2;
            char *nb = realloc(body, bodycap);
            if (!nb) {
                fprintf(stderr, "%s: out of memory\n", progname);
                json_decref(o);
                status = 1;
                break;
            }
            body = nb;
        }
        memcpy(body, title, tl);
        body[tl] = ' ';
        memcpy(body + tl + 1, text, xl + 1);
        sqlite3_bind_text(ins, 1, id, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(ins, 2, body, (int)(tl + 1 + xl), SQLITE_STATIC);
        if (sqlite3_step(ins) != SQLITE_DONE) status = sql_fail(db, "inserting a document");
        sqlite3_reset(ins);
        json_decref(o);
    }
    free(line);
    free(body);
    fclose(f);
    sqlite3_finalize(ins);
    if (status == 0 && sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        status = sql_fail(db, "committing the documents");
    return status;
}

/* The FTS5 expression for `query`: quoted pieces joined with OR.  Returns a
 * malloc'd string, empty if no piece has a letter or digit; NULL if out of
 * memory. */
static char *fts5_expression(const char *query)
{
    size_t len = strlen(query);
    /* Worst case: every byte a doubled quote, plus quotes and " OR ". */
    char *out = malloc(len * 6 + 1), *o = out;
    if (!out) return NULL;
    const char *p = query;
    while (*p) {
        while (*p == ' ' || *p == '\t') p++;
        const char *s = p;
        int wordy = 0;
        while (*p && *p != ' ' && *p != '\t') {
            unsigned char c = (unsigned char)*p++;
            /* Bytes >= 0x80 may be letters of other scripts: keep them. */
            if ((c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') || c >= 0x80)
                wordy = 1;
        }
        if (!wordy) continue;
        if (o != out) o += sprintf(o, " OR ");
        *o++ = '"';
        for (const char *c = s; c < p; c++) {
            if (*c == '"') *o++ = '"';
            *o++ = *c;
        }
        *o++ = '"';
    }
    *o = 0;
    return out;
}

static int run_batch(sqlite3 *db, const char *path, int k, const char *tag)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        perror(path);
        return 1;
    }
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(db,
                           "SELECT id, -bm25(docs) FROM docs WHERE docs MATCH ?1 "
                           "ORDER BY bm25(docs) LIMIT ?2",
                           -1, &q, NULL) != SQLITE_OK) {
        fclose(f);
        return sql_fail(db, "preparing the query");
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int status = 0;
    while (status == 0 && (n = getline(&line, &cap, f)) > 0) {
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = 0;
        char *tab = strchr(line, '\t');
        if (!tab) continue;
        *tab = 0;
        char *expr = fts5_expression(tab + 1);
        if (!expr) {
            fprintf(stderr, "%s: out of memory\n", progname);
            status = 1;
            break;
        }
        if (*expr) {
            sqlite3_bind_text(q, 1, expr, -1, SQLITE_STATIC);
            sqlite3_bind_int(q, 2, k);
            int rank = 0, rc;
            while ((rc = sqlite3_step(q)) == SQLITE_ROW)
                printf("%s Q0 %s %d %.6f %s\n", line, (const char *)sqlite3_column_text(q, 0),
                       ++rank, sqlite3_column_double(q, 1), tag);
            if (rc != SQLITE_DONE) {
                fprintf(stderr, "%s: query %s (%s): %s\n", progname, line, expr,
                        sqlite3_errmsg(db));
                status = 1;
            }
            sqlite3_reset(q);
        }
        free(expr);
    }
    free(line);
    fclose(f);
    sqlite3_finalize(q);
    return status;
}

int main(int argc, char **argv)
{
    int k = 1000;
    const char *tag = "fts5";
    static const struct option longopts[] = {{"tag", required_argument, 0, 't'}, {0, 0, 0, 0}};
    int opt;
    while ((opt = getopt_long(argc, argv, "k:", longopts, NULL)) != -1) {
        if (opt == 'k') {
            k = atoi(optarg);
        } else if (opt == 't') {
            tag = optarg;
        } else {
            k = 0;
            break;
        }
    }
    if (k <= 0 || argc - optind != 2) {
        fprintf(stderr, "usage: %s [-k N] [--tag TAG] CORPUS.jsonl BATCH.tsv > run.trec\n",
                progname);
        return 2;
    }
    sqlite3 *db = NULL;
    if (sqlite3_open(":memory:", &db) != SQLITE_OK) return sql_fail(db, "opening a database");
    int status = 0;
    if (sqlite3_exec(db,
                     "CREATE VIRTUAL TABLE docs USING fts5(id UNINDEXED, body, "
                     "tokenize = 'porter unicode61 remove_diacritics 2')",
                     NULL, NULL, NULL) != SQLITE_OK)
        status = sql_fail(db, "creating the FTS5 table");
    if (status == 0) status = load_corpus(db, argv[optind]);
    if (status == 0) status = run_batch(db, argv[optind + 1], k, tag);
    sqlite3_close(db);
    if (fflush(stdout) != 0) status = 1;
    return status;
}
