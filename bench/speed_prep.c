/*
 * speed_prep.c - inputs of the speed benchmark (bench/run_speed.sh).
 *
 *     speed_prep corpus IN.jsonl N OUT.jsonl|- OUT.tsv
 *     speed_prep queries GAME.jsonl TREC.tsv NPERTYPE NTREC OUTDIR
 *
 * corpus: the first N documents (0: all) of the paragraphs JSONL
 * (bench/wiki_paragraphs), copied verbatim to OUT.jsonl for bin/index
 * ("-": do not copy, the caller indexes IN.jsonl itself) and written to
 * OUT.tsv as `id<TAB>title<TAB>text` lines for the peers' drivers, which
 * then need no JSON parser (Java has none built in).  A tab, carriage
 * return or newline inside a field becomes a space in the TSV; every
 * engine's tokenizer treats these as separators anyway, so the peers index
 * the same words.  Prints `documents D` and `raw_bytes B` (bytes of title
 * plus text, the base of the "% of raw text" figures) on standard output.
 *
 * queries: writes OUTDIR/<type>.txt, one query per line, from the
 * search-benchmark-game file (GAME.jsonl: {"query", "tags"}), keeping the
 * first NPERTYPE queries (0: all) of each type by the first tag:
 *     union         a b c        (any word)
 *     intersection  +a +b        (every word)
 *     phrase        "a b"        (consecutive words)
 *     mixed         +a b         ("intersection_union": a required, b optional)
 *     negated       +a -b        (a without b)
 * and OUTDIR/trec.txt from the TREC 2005 efficiency queries (TREC.tsv:
 * header, then `id<TAB>query`), the first NTREC, run as unions.  TREC
 * queries are web-log text: every character other than an ASCII letter,
 * digit or space (in the first 1,000 only six '/') becomes a space, so
 * that no engine's query parser sees syntax in them (Lucene's classic
 * parser reads '/' as the start of a regular expression).  The single
 * "term" and "two-phase-critic" queries of the game file are left out.
 */
#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void put_field(FILE *out, const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        fputc(c == '\t' || c == '\n' || c == '\r' ? ' ' : c, out);
    }
}

static int do_corpus(const char *in_path, unsigned long limit, const char *jsonl_path,
                     const char *tsv_path)
{
    FILE *in = fopen(in_path, "r");
    if (!in) {
        perror(in_path);
        return 1;
    }
    FILE *js = NULL;
    if (strcmp(jsonl_path, "-") != 0 && !(js = fopen(jsonl_path, "w"))) {
        perror(jsonl_path);
        return 1;
    }
    FILE *tsv = fopen(tsv_path, "w");
    if (!tsv) {
        perror(tsv_path);
        return 1;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    unsigned long docs = 0, lineno = 0;
    unsigned long long raw = 0;
    while ((limit == 0 || docs < limit) && (n = getline(&line, &cap, in)) > 0) {
        lineno++;
        json_error_t jerr;
        json_t *o = json_loadb(line, (size_t)n, 0, &jerr);
        json_t *id = o ? json_object_get(o, "id") : NULL;
        json_t *title = o ? json_object_get(o, "title") : NULL;
        json_t *text = o ? json_object_get(o, "text") : NULL;
        if (!json_is_string(id) || !json_is_string(text)) {
            fprintf(stderr, "speed_prep: %s:%lu: not a paragraph document\n", in_path, lineno);
            json_decref(o);
            return 1;
        }
        if (js) fwrite(line, 1, (size_t)n, js);
        put_field(tsv, json_string_value(id), json_string_length(id));
        fputc('\t', tsv);
        if (json_is_string(title)) {
            put_field(tsv, json_string_value(title), json_string_length(title));
            raw += json_string_length(title);
        }
        fputc('\t', tsv);
        put_field(tsv, json_string_value(text), json_string_length(text));
        fputc('\n', tsv);
        raw += json_string_length(text);
        docs++;
        json_decref(o);
    }
    free(line);
    fclose(in);
    if ((js && fclose(js) != 0) || fclose(tsv) != 0) {
        perror("speed_prep: writing the corpus");
        return 1;
    }
    printf("documents\t%lu\nraw_bytes\t%llu\n", docs, raw);
    return 0;
}

static const struct {
    const char *tag, *file;
} types[] = {{"union", "union"},
             {"intersection", "intersection"},
             {"phrase", "phrase"},
             {"intersection_union", "mixed"},
             {"negated", "negated"}};
#define NTYPES (sizeof types / sizeof types[0])

static FILE *open_out(const char *dir, const char *name)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.txt", dir, name);
    FILE *f = fopen(path, "w");
    if (!f) perror(path);
    return f;
}

static int do_queries(const char *game, const char *trec, unsigned long per_type,
                      unsigned long ntrec, const char *dir)
{
    FILE *out[NTYPES];
    unsigned long count[NTYPES] = {0};
    for (size_t t = 0; t < NTYPES; t++)
        if (!(out[t] = open_out(dir, types[t].file))) return 1;
    FILE *in = fopen(game, "r");
    if (!in) {
        perror(game);
        return 1;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, in)) > 0) {
        json_error_t jerr;
        json_t *o = json_loadb(line, (size_t)n, 0, &jerr);
        json_t *q = o ? json_object_get(o, "query") : NULL;
        json_t *tags = o ? json_object_get(o, "tags") : NULL;
        const char *tag = json_string_value(json_array_get(tags, 0));
        if (json_is_string(q) && tag) {
            for (size_t t = 0; t < NTYPES; t++) {
                if (strcmp(tag, types[t].tag) != 0) continue;
                if (per_type == 0 || count[t] < per_type) {
                    fprintf(out[t], "%s\n", json_string_value(q));
                    count[t]++;
                }
            }
        }
        json_decref(o);
    }
    fclose(in);

    FILE *tout = open_out(dir, "trec");
    if (!tout || !(in = fopen(trec, "r"))) {
        if (tout) perror(trec);
        return 1;
    }
    unsigned long nt = 0, lineno = 0;
    while ((ntrec == 0 || nt < ntrec) && (n = getline(&line, &cap, in)) > 0) {
        if (lineno++ == 0) continue; /* header */
        char *tab = strchr(line, '\t');
        if (!tab) continue;
        char *q = tab + 1, *w = q;
        int space = 1; /* collapse runs of separators, drop leading ones */
        for (char *p = q; *p; p++) {
            unsigned char c = (unsigned char)*p;
            if (c < 0x80 && isalnum(c)) {
                *w++ = (char)tolower(c);
                space = 0;
            } else if (!space) {
                *w++ = ' ';
                space = 1;
            }
        }
        while (w > q && w[-1] == ' ') w--;
        *w = 0;
        if (w == q) continue;
        fprintf(tout, "%s\n", q);
        nt++;
    }
    free(line);
    fclose(in);
    for (size_t t = 0; t < NTYPES; t++) {
        if (fclose(out[t]) != 0) return 1;
        printf("%s\t%lu\n", types[t].file, count[t]);
    }
    if (fclose(tout) != 0) return 1;
    printf("trec\t%lu\n", nt);
    return 0;
}

static unsigned long parse_count(const char *s)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || *end || end == s) {
        fprintf(stderr, "speed_prep: bad count '%s'\n", s);
        exit(2);
    }
    return v;
}

int main(int argc, char **argv)
{
    if (argc == 6 && strcmp(argv[1], "corpus") == 0)
        return do_corpus(argv[2], parse_count(argv[3]), argv[4], argv[5]);
    if (argc == 7 && strcmp(argv[1], "queries") == 0)
        return do_queries(argv[2], argv[3], parse_count(argv[4]), parse_count(argv[5]), argv[6]);
    fprintf(stderr, "usage: speed_prep corpus IN.jsonl N OUT.jsonl|- OUT.tsv\n"
                    "       speed_prep queries GAME.jsonl TREC.tsv NPERTYPE NTREC OUTDIR\n");
    return 2;
}
