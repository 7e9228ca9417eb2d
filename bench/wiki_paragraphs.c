/*
 * wiki_paragraphs.c - turn the Wikipedia articles JSONL into one JSONL
 * document per non-empty paragraph, for indexing and benchmarks.
 *
 * Reads {"id", "title", "text", ...} lines on standard input (decompress
 * the .zst with `zstd -dc` first) and writes
 *     {"id": "<article id>-<n>", "title": "<article title>", "text": "<paragraph n>"}
 * for every line of `text` that is not blank, n counting from 1 over the
 * non-blank paragraphs.  Lines that do not parse are reported and skipped.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    unsigned long lineno = 0, articles = 0, paragraphs = 0, bad = 0;
    while ((n = getline(&line, &cap, stdin)) > 0) {
        lineno++;
        json_error_t jerr;
        json_t *o = json_loadb(line, (size_t)n, JSON_ALLOW_NUL, &jerr);
        json_t *jid = o ? json_object_get(o, "id") : NULL;
        json_t *jtitle = o ? json_object_get(o, "title") : NULL;
        json_t *jtext = o ? json_object_get(o, "text") : NULL;
        if (!o || !json_is_object(o) || !jid || !json_is_string(jtext)) {
            fprintf(stderr, "wiki_paragraphs: line %lu skipped\n", lineno);
            bad++;
            json_decref(o);
            continue;
        }
        char idbuf[64];
        const char *id = json_is_string(jid) ? json_string_value(jid) : idbuf;
        if (json_is_integer(jid))
            snprintf(idbuf, sizeof idbuf, "%lld", (long long)json_integer_value(jid));
        const char *title = json_is_string(jtitle) ? json_string_value(jtitle) : "";
        const char *text = json_string_value(jtext);
        size_t len = json_string_length(jtext);
        articles++;
        unsigned long k = 0;
        for (size_t at = 0; at < len;) {
            const char *nl = memchr(text + at, '\n', len - at);
            size_t end = nl ? (size_t)(nl - text) : len;
            size_t s = at, e = end;
            while (s < e && (text[s] == ' ' || text[s] == '\t' || text[s] == '\r')) s++;
            while (e > s && (text[e - 1] == ' ' || text[e - 1] == '\t' || text[e - 1] == '\r')) e--;
            if (e > s) {
                char pid[96];
                snprintf(pid, sizeof pid, "%s-%lu", id, ++k);
                json_t *out = json_object();
                json_object_set_new(out, "id", json_string(pid));
                json_object_set_new(out, "title", json_string(title));
                json_object_set_new(out, "text", json_stringn(text + s, e - s));
                char *js = json_dumps(out, JSON_COMPACT);
                if (js) {
                    fputs(js, stdout);
                    fputc('\n', stdout);
                    free(js);
                }
                json_decref(out);
                paragraphs++;
            }
            at = end + 1;
        }
        json_decref(o);
    }
    free(line);
    fprintf(stderr, "wiki_paragraphs: %lu articles, %lu paragraphs, %lu bad lines\n", articles,
            paragraphs, bad);
    return bad ? 1 : 0;
}
