/*
 * fuzz_query.c - the query parser (searcher/query.h) on arbitrary bytes.
 *
 * Input: byte 0 chooses the options (bit 0 default_and, bit 1 literal), the
 * rest is the query.  Each query is also parsed under the other three
 * option sets, so every input exercises both parsers.
 *
 * Checked: the result is SE_OK with a tree or SE_SYNTAX / SE_LIMIT with no
 * tree and a message; a tree is well formed (words non-empty, no white
 * space or NUL inside, no syntax characters outside literal mode, BOOL nodes
 * with at least two clauses and not only exclusions) and within the
 * documented limits (words, nesting depth); a default-mode tree's canonical
 * form parses again to the same canonical form.
 */
#include "tests/fuzz/fuzz_util.h"

#include "searcher/query.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return 0;
}

static int q_is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r' || c == '\0';
}

static void q_check_word(const char *w, int literal, int in_phrase)
{
    size_t n = strlen(w);
    FUZZ_CHECK(n > 0, "empty word");
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)w[i];
        FUZZ_CHECK(!q_is_space(c), "white space inside word [%s]", w);
        if (literal) continue;
        FUZZ_CHECK(c != '"' && c != '(' && c != ')', "syntax byte inside word [%s]", w);
        FUZZ_CHECK(!(c == 0xC2 && i + 1 < n && (w[i + 1] == '\xAB' || w[i + 1] == '\xBB')),
                   "guillemet inside word [%s]", w);
        FUZZ_CHECK(!(c == 0xE2 && i + 2 < n && w[i + 1] == '\x80' &&
                     (w[i + 2] == '\x9C' || w[i + 2] == '\x9D' || w[i + 2] == '\x9E')),
                   "curly quote inside word [%s]", w);
    }
    if (literal || in_phrase) return;
    FUZZ_CHECK(w[0] != '+' && w[0] != '-', "word starts with an operator [%s]", w);
    FUZZ_CHECK(strcmp(w, "AND") != 0 && strcmp(w, "OR") != 0 && strcmp(w, "NOT") != 0,
               "operator taken as a word [%s]", w);
}

/* Check the subtree; returns its BOOL depth and adds its words to *words. */
static int q_check_node(const query_node *q, int literal, size_t *words)
{
    FUZZ_CHECK(q != NULL, "null node");
    switch (q->kind) {
    case QUERY_WORD:
        FUZZ_CHECK(q->nwords == 1 && q->words && q->nclauses == 0, "word node with %zu words",
                   q->nwords);
        q_check_word(q->words[0], literal, 0);
        (*words)++;
        return 0;
    case QUERY_PHRASE:
        FUZZ_CHECK(!literal, "phrase in literal mode");
        FUZZ_CHECK(q->nwords >= 1 && q->words && q->nclauses == 0, "phrase with %zu words",
                   q->nwords);
        for (size_t i = 0; i < q->nwords; i++) q_check_word(q->words[i], 0, 1);
        *words += q->nwords;
        return 0;
    case QUERY_BOOL: {
        FUZZ_CHECK(q->nclauses >= 2 && q->clauses && q->nwords == 0, "BOOL with %zu clauses",
                   q->nclauses);
        int depth = 0, positive = 0;
        for (size_t i = 0; i < q->nclauses; i++) {
            query_occur o = q->clauses[i].occur;
            FUZZ_CHECK(o == QUERY_SHOULD || o == QUERY_MUST || o == QUERY_MUST_NOT,
                       "bad occurrence %d", (int)o);
            FUZZ_CHECK(!literal || o != QUERY_MUST_NOT, "exclusion in literal mode");
            if (o != QUERY_MUST_NOT) positive = 1;
            int d = q_check_node(q->clauses[i].node, literal, words);
            FUZZ_CHECK(!literal || d == 0, "nested BOOL in literal mode");
            if (d > depth) depth = d;
        }
        FUZZ_CHECK(positive, "BOOL with only excluded clauses");
        return depth + 1;
    }
    }
    FUZZ_CHECK(0, "bad node kind %d", (int)q->kind);
    return 0;
}

/* Parse under opt and check the outcome; returns the tree (or NULL). */
static query_node *q_parse_checked(const char *text, size_t len, int default_and, int literal)
{
    query_options opt = {default_and, literal};
    query_node *q = (query_node *)(uintptr_t)1; /* must be overwritten */
    se_error err = {0, {0}};
    int rc = query_parse(text, len, &opt, &q, &err);
    if (rc != SE_OK) {
        FUZZ_CHECK(rc == SE_SYNTAX || rc == SE_LIMIT, "unexpected status %d (%s)", rc, err.msg);
        FUZZ_CHECK(q == NULL, "tree returned with an error");
        FUZZ_CHECK(err.code == rc && err.msg[0] != 0, "error without a message");
        return NULL;
    }
    FUZZ_CHECK(q != NULL, "SE_OK without a tree");
    size_t words = 0;
    int depth = q_check_node(q, literal, &words);
    FUZZ_CHECK(depth <= QUERY_MAX_DEPTH, "depth %d", depth);
    FUZZ_CHECK(words >= 1 && words <= QUERY_MAX_WORDS, "%zu words", words);
    return q;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_bytes in = {data, size};
    uint8_t flags = fuzz_u8(&in);
    /* Exact-size copy, not NUL-terminated: the parser must honour len. */
    char *text = (char *)fuzz_dup(in.p, in.n);
    size_t len = in.n;

    for (int k = 0; k < 4; k++) {
        int opts = (flags + k) & 3;
        int default_and = opts & 1, literal = (opts >> 1) & 1;
        query_node *q = q_parse_checked(text, len, default_and, literal);
        if (!q) continue;
        char *form = query_to_string(q);
        FUZZ_CHECK(form != NULL, "query_to_string failed");
        if (!literal) {
            /* The canonical form reads back as the same tree under the
             * default options, whatever options made the tree. */
            query_node *again = q_parse_checked(form, strlen(form), 0, 0);
            FUZZ_CHECK(again != NULL, "canonical form [%s] does not parse", form);
            char *form2 = query_to_string(again);
            FUZZ_CHECK(form2 && strcmp(form, form2) == 0, "canonical form [%s] reads back as [%s]",
                       form, form2 ? form2 : "(null)");
            free(form2);
            query_free(again);
        }
        free(form);
        query_free(q);
    }

    /* Over the byte limit: SE_LIMIT before anything is read. */
    query_node *q = NULL;
    query_options opt = {0, flags & 1};
    FUZZ_CHECK(query_parse(text, (size_t)QUERY_MAX_BYTES + 1 + len, &opt, &q, NULL) == SE_LIMIT &&
                   q == NULL,
               "oversized query accepted");
    free(text);
    return 0;
}
