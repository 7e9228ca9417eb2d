/*
 * test_query.c - unit tests for the query parser (searcher/query.c).
 *
 * Most tests are tables: a query string, the options, and either the
 * canonical form query_to_string must print or the error code and a piece
 * of the message (with its column) query_parse must report.  Then the
 * limits, a randomized robustness loop (every accepted query must print a
 * form that parses back to the same form), and an allocation-failure test.
 *
 * The allocation-failure test compiles a second copy of query.c into this
 * file with malloc/realloc/free replaced by counting wrappers that can be
 * told to fail, and its three public functions renamed (fi_query_...), so
 * the copy does not clash with the library's.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <criterion/criterion.h>

#include "common/status.h"
#include "searcher/query.h"

/* ---- the fault-injecting copy --------------------------------------- */

static long fi_countdown = -1; /* fail the allocation when this reaches 0 */
static long fi_live;           /* blocks allocated and not yet freed */

static void *fi_malloc(size_t n)
{
    if (fi_countdown == 0) return NULL;
    if (fi_countdown > 0) fi_countdown--;
    void *p = malloc(n);
    if (p) fi_live++;
    return p;
}

static void *fi_realloc(void *old, size_t n)
{
    if (fi_countdown == 0) return NULL;
    if (fi_countdown > 0) fi_countdown--;
    void *p = realloc(old, n);
    if (p && !old) fi_live++;
    return p;
}

static void fi_free(void *p)
{
    if (p) fi_live--;
    free(p);
}

#define malloc          fi_malloc
#define realloc         fi_realloc
#define free            fi_free
#define query_parse     fi_query_parse
#define query_free      fi_query_free
#define query_to_string fi_query_to_string
#include "searcher/query.c"
#undef malloc
#undef realloc
#undef free
#undef query_parse
#undef query_free
#undef query_to_string

/* ---- helpers ----------------------------------------------------------- */

/* Parse text[0..len) and return its canonical form (malloc'd), or NULL
 * with *code and err filled. */
static char *parse_form(const char *text, size_t len, int default_and, int *code, se_error *err)
{
    query_options opt = {.default_and = default_and};
    query_node *q = (query_node *)1;
    err->code = 0;
    err->msg[0] = '\0';
    *code = query_parse(text, len, &opt, &q, err);
    if (*code != SE_OK) {
        cr_assert_null(q, "failed parse of \"%s\" left *out set", text);
        return NULL;
    }
    cr_assert_not_null(q);
    char *s = query_to_string(q);
    cr_assert_not_null(s);
    query_free(q);
    return s;
}

/* The structural promises of query.h hold for every node of q. */
static void check_tree(const query_node *q)
{
    cr_assert_not_null(q);
    switch (q->kind) {
    case QUERY_WORD:
        cr_assert_eq(q->nwords, 1);
        cr_assert_gt(strlen(q->words[0]), 0);
        break;
    case QUERY_PHRASE:
        cr_assert_geq(q->nwords, 1);
        for (size_t i = 0; i < q->nwords; i++) cr_assert_gt(strlen(q->words[i]), 0);
        break;
    case QUERY_BOOL: {
        size_t excluded = 0;
        cr_assert_geq(q->nclauses, 1);
        if (q->nclauses == 1)
            cr_assert_eq(q->clauses[0].occur, QUERY_MUST_NOT, "uncollapsed one-clause BOOL");
        for (size_t i = 0; i < q->nclauses; i++) {
            excluded += q->clauses[i].occur == QUERY_MUST_NOT;
            check_tree(q->clauses[i].node);
        }
        cr_assert_lt(excluded, q->nclauses, "BOOL with only MUST_NOT clauses");
        break;
    }
    default:
        cr_assert_fail("bad node kind %d", (int)q->kind);
    }
}

static int tree_depth(const query_node *q)
{
    int d = 0;
    if (q->kind != QUERY_BOOL) return 0;
    for (size_t i = 0; i < q->nclauses; i++) {
        int c = tree_depth(q->clauses[i].node);
        if (c > d) d = c;
    }
    return d + 1;
}

/* ---- accepted queries -------------------------------------------------- */

typedef struct ok_case {
    const char *in;
    int default_and;
    const char *want;
} ok_case;

static const ok_case ok_cases[] = {
    /* words */
    {"a", 0, "a"},
    {"  a  ", 0, "a"},
    {"a b c", 0, "(a b c)"},
    {"a\tb\nc\r\fd\ve", 0, "(a b c d e)"},
    {"a b c", 1, "(+a +b +c)"},
    {"a", 1, "a"},
    /* + and - */
    {"+a -b c", 0, "(+a -b c)"},
    {"+a -b c", 1, "(+a -b +c)"},
    {"+a", 0, "a"},
    {"a +b", 0, "(a +b)"},
    {"-a b", 0, "(-a b)"},
    /* NOT */
    {"a NOT b", 0, "(a -b)"},
    {"NOT a b", 0, "(-a b)"},
    {"a NOT b", 1, "(+a -b)"},
    {"NOT(a) b", 0, "(-a b)"},
    {"a AND NOT b", 0, "(+a -b)"},
    {"NOT a AND b", 0, "(-a +b)"},
    {"a AND -b", 0, "(+a -b)"},
    {"a AND +b", 0, "(+a +b)"},
    /* AND binds tighter than juxtaposition and OR */
    {"a AND b", 0, "(+a +b)"},
    {"a AND b AND c", 0, "(+a +b +c)"},
    {"a b AND c", 0, "(a (+b +c))"},
    {"a OR b AND c", 0, "(a (+b +c))"},
    {"a AND b OR c", 0, "((+a +b) c)"},
    {"a AND b c AND d", 0, "((+a +b) (+c +d))"},
    {"a b AND c", 1, "(+a +(+b +c))"},
    /* OR */
    {"a OR b", 0, "(a b)"},
    {"a OR b", 1, "(a b)"},
    {"a OR b OR c", 1, "(a b c)"},
    {"a b OR c", 1, "(+a b c)"},
    {"a OR b c", 1, "(a b +c)"},
    {"-a OR b", 1, "(-a b)"},
    {"+a OR b", 1, "(+a b)"},
    {"a OR -b", 0, "(a -b)"},
    {"a OR NOT b", 1, "(a -b)"},
    /* parentheses */
    {"(a)", 0, "a"},
    {"((a))", 0, "a"},
    {"(a b)", 0, "(a b)"},
    {"(a b) c", 0, "((a b) c)"},
    {"(a)b", 0, "(a b)"},
    {"(a (b (c d)))", 0, "(a (b (c d)))"},
    {"+(a b) -(c d)", 0, "(+(a b) -(c d))"},
    {"(a AND b) OR (c AND d)", 0, "((+a +b) (+c +d))"},
    {"a AND (b OR c)", 0, "(+a +(b c))"},
    {"(a AND b) AND c", 0, "(+(+a +b) +c)"},
    {"(+a) b", 0, "(a b)"},
    {"(a b)", 1, "(+a +b)"},
    {"x (a -b)", 0, "(x (a -b))"},
    {"(((a b)))", 0, "(a b)"},
    /* phrases */
    {"\"a b\"", 0, "\"a b\""},
    {"\"a\"", 0, "\"a\""},
    {"\"  a   b  \"", 0, "\"a b\""},
    {"\xe2\x80\x9c"
     "a b"
     "\xe2\x80\x9d",
     0, "\"a b\""},
    {"\xe2\x80\x9e"
     "a b"
     "\xe2\x80\x9c",
     0, "\"a b\""},
    {"\xc2\xab"
     "a b"
     "\xc2\xbb",
     0, "\"a b\""},
    {"\xc2\xbb"
     "a b"
     "\xc2\xab",
     0, "\"a b\""},
    {"\"a b\xe2\x80\x9d", 0, "\"a b\""},
    {"x\xe2\x80\x9c"
     "a b"
     "\xe2\x80\x9dy",
     0, "(x \"a b\" y)"},
    {"\"a AND b OR NOT c\"", 0, "\"a AND b OR NOT c\""},
    {"\"-a +b\"", 0, "\"-a +b\""},
    {"\"a (b) c\"", 0, "\"a b c\""},
    {"x \"a b\" -\"c d\"", 0, "(x \"a b\" -\"c d\")"},
    {"\"a b\" c", 1, "(+\"a b\" +c)"},
    {"\"a\"b", 0, "(\"a\" b)"},
    {"a\"b c\"", 0, "(a \"b c\")"},
    {"\"a b\"-c", 0, "(\"a b\" -c)"},
    {"\"a b\" AND c", 0, "(+\"a b\" +c)"},
    /* lower-case operators and near-operators are words */
    {"a and b or not c", 0, "(a and b or not c)"},
    {"And Or Not", 0, "(And Or Not)"},
    {"ANDx ORy NOTz xAND", 0, "(ANDx ORy NOTz xAND)"},
    /* '+' and '-' inside words */
    {"e-mail", 0, "e-mail"},
    {"-mail x", 0, "(-mail x)"},
    {"C++ a- b+c", 0, "(C++ a- b+c)"},
    {"x -e-mail", 0, "(x -e-mail)"},
    /* UTF-8 and other bytes */
    {"caf\xc3\xa9 na\xc3\xafve \xe6\x97\xa5\xe6\x9c\xac", 0,
     "(caf\xc3\xa9 na\xc3\xafve \xe6\x97\xa5\xe6\x9c\xac)"},
    {"\xff\xfe", 0, "\xff\xfe"},
    {"a\xe2\x80", 0, "a\xe2\x80"},
    {"\xc2", 0, "\xc2"},
    /* stacked prefix operators: '+' inside another operator is redundant */
    {"-+a b", 0, "(-a b)"},
    {"++a b", 0, "(+a b)"},
    {"NOT +a b", 0, "(-a b)"},
    {"+(+a) b", 0, "(+a b)"},
};

Test(query, accepted_queries)
{
    for (size_t i = 0; i < sizeof ok_cases / sizeof ok_cases[0]; i++) {
        const ok_case *c = &ok_cases[i];
        se_error err;
        int code;
        char *got = parse_form(c->in, strlen(c->in), c->default_and, &code, &err);
        cr_assert_eq(code, SE_OK, "[%s] (default_and=%d) failed: %d %s", c->in, c->default_and,
                     code, err.msg);
        cr_assert_str_eq(got, c->want, "[%s] (default_and=%d) printed [%s], want [%s]", c->in,
                         c->default_and, got, c->want);
        free(got);
    }
}

Test(query, tree_shape)
{
    query_node *q = NULL;
    const char *in = "+a -\"b c\" d AND e";
    cr_assert_eq(query_parse(in, strlen(in), NULL, &q, NULL), SE_OK);
    cr_assert_eq(q->kind, QUERY_BOOL);
    cr_assert_eq(q->nclauses, 3);
    cr_assert_eq(q->clauses[0].occur, QUERY_MUST);
    cr_assert_eq(q->clauses[0].node->kind, QUERY_WORD);
    cr_assert_str_eq(q->clauses[0].node->words[0], "a");
    cr_assert_eq(q->clauses[1].occur, QUERY_MUST_NOT);
    cr_assert_eq(q->clauses[1].node->kind, QUERY_PHRASE);
    cr_assert_eq(q->clauses[1].node->nwords, 2);
    cr_assert_str_eq(q->clauses[1].node->words[1], "c");
    cr_assert_eq(q->clauses[2].occur, QUERY_SHOULD);
    cr_assert_eq(q->clauses[2].node->kind, QUERY_BOOL);
    cr_assert_eq(q->clauses[2].node->nclauses, 2);
    check_tree(q);
    query_free(q);
    query_free(NULL);
    cr_assert_null(query_to_string(NULL));
}

typedef struct bytes_case {
    const char *in;
    size_t len;
    const char *want;
} bytes_case;

Test(query, nul_bytes_are_white_space)
{
    static const bytes_case cases[] = {
        {"a\0b", 3, "(a b)"},       {"\0a\0", 3, "a"},
        {"\"a\0b\"", 5, "\"a b\""}, {"-\0a b", 5, NULL}, /* '-' does not touch its operand */
        {"\0\0\0", 3, NULL},        {"a b", 1, "a"},     /* only len bytes are read */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        se_error err;
        int code;
        char *got = parse_form(cases[i].in, cases[i].len, 0, &code, &err);
        if (!cases[i].want) {
            cr_assert_eq(code, SE_SYNTAX, "case %zu: code %d", i, code);
            continue;
        }
        cr_assert_eq(code, SE_OK, "case %zu: %s", i, err.msg);
        cr_assert_str_eq(got, cases[i].want, "case %zu", i);
        free(got);
    }
}

Test(query, reads_only_len_bytes)
{
    /* A buffer with no terminating NUL and a quote right after the end. */
    char *buf = malloc(4);
    memcpy(buf, "a \"b", 4);
    se_error err;
    int code;
    char *got = parse_form(buf, 2, 0, &code, &err);
    cr_assert_eq(code, SE_OK);
    cr_assert_str_eq(got, "a");
    free(got);
    got = parse_form(buf, 4, 0, &code, &err);
    cr_assert_eq(code, SE_SYNTAX);
    free(buf);
    /* A curly quote cut short by len is word bytes. */
    got = parse_form("a \xe2\x80\x9c", 4, 0, &code, &err);
    cr_assert_eq(code, SE_OK, "%s", err.msg);
    cr_assert_str_eq(got, "(a \xe2\x80)");
    free(got);
    /* An empty query may come as NULL. */
    got = parse_form(NULL, 0, 0, &code, &err);
    cr_assert_eq(code, SE_SYNTAX);
}

/* ---- rejected queries -------------------------------------------------- */

typedef struct err_case {
    const char *in;
    int code;
    const char *msg; /* must occur in the message */
} err_case;

static const err_case err_cases[] = {
    /* quotes */
    {"\"a b", SE_SYNTAX, "unterminated phrase: the quote at column 1 is never closed"},
    {"a b \"c", SE_SYNTAX, "unterminated phrase: the quote at column 5 is never closed"},
    {"a \xe2\x80\x9c"
     "b",
     SE_SYNTAX, "the quote at column 3 is never closed"},
    {"a \"b\" \"", SE_SYNTAX, "the quote at column 7 is never closed"},
    {"\"", SE_SYNTAX, "the quote at column 1 is never closed"},
    /* parentheses */
    {"(a b", SE_SYNTAX, "unbalanced parenthesis: '(' at column 1 is never closed"},
    {"a (b (c)", SE_SYNTAX, "'(' at column 3 is never closed"},
    {"(", SE_SYNTAX, "'(' at column 1 is never closed"},
    {"a b)", SE_SYNTAX, "unbalanced parenthesis: ')' at column 4 has no matching '('"},
    {")a(", SE_SYNTAX, "')' at column 1 has no matching '('"},
    {"(a) b) c", SE_SYNTAX, "')' at column 6 has no matching '('"},
    {"()", SE_SYNTAX, "empty parentheses at column 1"},
    {"a (())", SE_SYNTAX, "empty parentheses at column 4"},
    {"a ( )", SE_SYNTAX, "empty parentheses at column 3"},
    /* operators without operands */
    {"AND", SE_SYNTAX, "AND at column 1 has nothing on its left"},
    {"a AND", SE_SYNTAX, "AND at column 3 has nothing on its right"},
    {"a AND )", SE_SYNTAX, "AND at column 3 has nothing on its right"},
    {"a AND AND b", SE_SYNTAX, "AND at column 3 has nothing on its right"},
    {"a AND OR b", SE_SYNTAX, "AND at column 3 has nothing on its right"},
    {"(AND a)", SE_SYNTAX, "AND at column 2 has nothing on its left"},
    {"OR b", SE_SYNTAX, "OR at column 1 has nothing on its left"},
    {"OR", SE_SYNTAX, "OR at column 1 has nothing on its left"},
    {"a OR", SE_SYNTAX, "OR at column 3 has nothing on its right"},
    {"a OR OR b", SE_SYNTAX, "OR at column 3 has nothing on its right"},
    {"(a OR) b", SE_SYNTAX, "OR at column 4 has nothing on its right"},
    {"a (OR b)", SE_SYNTAX, "OR at column 4 has nothing on its left"},
    {"NOT", SE_SYNTAX, "NOT at column 1 has nothing to apply to"},
    {"a NOT", SE_SYNTAX, "NOT at column 3 has nothing to apply to"},
    {"a NOT AND b", SE_SYNTAX, "NOT at column 3 has nothing to apply to"},
    {"-", SE_SYNTAX, "operator '-' at column 1 has nothing to apply to"},
    {"+", SE_SYNTAX, "operator '+' at column 1 has nothing to apply to"},
    {"a - b", SE_SYNTAX, "operator '-' at column 3 has nothing to apply to"},
    {"a + b", SE_SYNTAX, "operator '+' at column 3 has nothing to apply to"},
    {"a -", SE_SYNTAX, "operator '-' at column 3 has nothing to apply to"},
    {"(a -)", SE_SYNTAX, "operator '-' at column 4 has nothing to apply to"},
    {"-AND a", SE_SYNTAX, "operator '-' at column 1 has nothing to apply to"},
    {"+- a", SE_SYNTAX, "operator '-' at column 2 has nothing to apply to"},
    /* empty phrases */
    {"\"\"", SE_SYNTAX, "empty phrase at column 1"},
    {"a \xe2\x80\x9c\xe2\x80\x9d", SE_SYNTAX, "empty phrase at column 3"},
    {"a \"  \"", SE_SYNTAX, "empty phrase at column 3"},
    {"\"()\"", SE_SYNTAX, "empty phrase at column 1"},
    /* nothing to match */
    {"-a", SE_SYNTAX, "query has only excluded terms: nothing to match"},
    {"NOT a", SE_SYNTAX, "query has only excluded terms: nothing to match"},
    {"-a -b", SE_SYNTAX, "query has only excluded terms: nothing to match"},
    {"-a NOT b", SE_SYNTAX, "query has only excluded terms: nothing to match"},
    {"-(a b)", SE_SYNTAX, "query has only excluded terms: nothing to match"},
    {"-\"a b\"", SE_SYNTAX, "query has only excluded terms: nothing to match"},
    {"(-a) b", SE_SYNTAX, "the group at column 1 has only excluded terms: nothing to match"},
    {"a (b (-c -d))", SE_SYNTAX, "the group at column 6 has only excluded terms"},
    {"x (NOT a AND NOT b)", SE_SYNTAX, "AND at column 10 joins only excluded terms"},
    {"x -a AND -b", SE_SYNTAX, "AND at column 6 joins only excluded terms"},
    /* a negation under another prefix operator matches nothing */
    {"+-a b", SE_SYNTAX,
     "operator '+' at column 1 is applied to an excluded term (operator '-' at column 2)"},
    {"--a b", SE_SYNTAX,
     "operator '-' at column 1 is applied to an excluded term (operator '-' at column 2)"},
    {"b NOT NOT a", SE_SYNTAX, "NOT at column 3 is applied to an excluded term (NOT at column 7)"},
    {"b NOT -a", SE_SYNTAX, "NOT at column 3 is applied to an excluded term (operator '-'"},
    {"b -NOT a", SE_SYNTAX, "operator '-' at column 3 is applied to an excluded term (NOT"},
    /* empty */
    {"", SE_SYNTAX, "empty query"},
    {"   \t\n  ", SE_SYNTAX, "empty query"},
};

Test(query, rejected_queries)
{
    for (size_t i = 0; i < sizeof err_cases / sizeof err_cases[0]; i++) {
        const err_case *c = &err_cases[i];
        for (int dand = 0; dand <= 1; dand++) {
            se_error err;
            int code;
            char *got = parse_form(c->in, strlen(c->in), dand, &code, &err);
            cr_assert_null(got, "[%s] was accepted as [%s]", c->in, got);
            cr_assert_eq(code, c->code, "[%s]: code %d, want %d (%s)", c->in, code, c->code,
                         err.msg);
            cr_assert_eq(err.code, c->code, "[%s]: err.code not set", c->in);
            cr_assert_not_null(strstr(err.msg, c->msg), "[%s]: message [%s] lacks [%s]", c->in,
                               err.msg, c->msg);
        }
    }
}

Test(query, null_error_and_bad_arguments)
{
    query_node *q = (query_node *)1;
    cr_assert_eq(query_parse("(", 1, NULL, &q, NULL), SE_SYNTAX);
    cr_assert_null(q);
    cr_assert_eq(query_parse("a", 1, NULL, NULL, NULL), SE_INVALID);
    cr_assert_eq(query_parse(NULL, 3, NULL, &q, NULL), SE_INVALID);
}

/* ---- limits ------------------------------------------------------------ */

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* n copies of piece, then tail. */
static char *repeat(const char *piece, size_t n, const char *tail, size_t *len)
{
    size_t pl = strlen(piece), tl = strlen(tail);
    char *s = malloc(pl * n + tl + 1);
    cr_assert_not_null(s);
    for (size_t i = 0; i < n; i++) memcpy(s + i * pl, piece, pl);
    memcpy(s + pl * n, tail, tl + 1);
    *len = pl * n + tl;
    return s;
}

static void expect(const char *s, size_t len, int want_code, const char *want_msg)
{
    se_error err;
    int code;
    char *got = parse_form(s, len, 0, &code, &err);
    cr_assert_eq(code, want_code, "code %d, want %d (%s)", code, want_code, err.msg);
    if (want_code == SE_OK) {
        cr_assert_not_null(got);
        free(got);
    } else {
        cr_assert_not_null(strstr(err.msg, want_msg), "message [%s] lacks [%s]", err.msg, want_msg);
    }
}

Test(query, word_limit)
{
    size_t len;
    char *s = repeat("w ", 10000, "", &len);
    double t0 = now();
    expect(s, len, SE_LIMIT, "query has more than 1024 words");
    cr_assert_lt(now() - t0, 2.0, "10,000-word query took too long");
    free(s);

    s = repeat("w ", QUERY_MAX_WORDS, "", &len);
    expect(s, len, SE_OK, NULL);
    free(s);
    s = repeat("w ", QUERY_MAX_WORDS, "x", &len);
    expect(s, len, SE_LIMIT, "query has more than 1024 words (word 1025 starts at column 2049)");
    free(s);
    /* phrase words count too */
    s = repeat("w ", QUERY_MAX_WORDS - 2, "\"x y z\"", &len);
    expect(s, len, SE_LIMIT, "more than 1024 words");
    free(s);
    s = repeat("w ", QUERY_MAX_WORDS - 3, "\"x y z\"", &len);
    expect(s, len, SE_OK, NULL);
    free(s);
    /* operators do not */
    s = repeat("w AND ", QUERY_MAX_WORDS - 1, "w", &len);
    expect(s, len, SE_OK, NULL);
    free(s);
}

Test(query, depth_limit)
{
    size_t len;
    char *s = repeat("(", 60000, "", &len);
    expect(s, len, SE_LIMIT, "query nests more than 32 levels deep: '(' at column 33");
    free(s);

    /* 60,000 balanced parentheses */
    s = malloc(120002);
    memset(s, '(', 60000);
    s[60000] = 'a';
    memset(s + 60001, ')', 60000);
    expect(s, 120001, SE_LIMIT, "query is 120001 bytes long");
    expect(s + 60000 - 40, 81, SE_LIMIT, "more than 32 levels deep");
    free(s);

    /* exactly QUERY_MAX_DEPTH parentheses are fine */
    char buf[200];
    size_t n = 0;
    for (int i = 0; i < QUERY_MAX_DEPTH; i++) buf[n++] = '(';
    memcpy(buf + n, "a b", 3);
    n += 3;
    for (int i = 0; i < QUERY_MAX_DEPTH; i++) buf[n++] = ')';
    expect(buf, n, SE_OK, NULL);

    /* the finished tree may not nest deeper than QUERY_MAX_DEPTH either:
     * "x (x (... (x a AND b)))" with k groups has k + 2 BOOL levels */
    for (int k = 29; k <= 31; k++) {
        size_t l2;
        char *t = repeat("x (", (size_t)k, "x a AND b", &l2);
        char *u = malloc(l2 + (size_t)k + 1);
        memcpy(u, t, l2);
        memset(u + l2, ')', (size_t)k);
        u[l2 + (size_t)k] = '\0';
        if (k + 2 <= QUERY_MAX_DEPTH) {
            query_node *q;
            cr_assert_eq(query_parse(u, l2 + (size_t)k, NULL, &q, NULL), SE_OK);
            cr_assert_eq(tree_depth(q), k + 2);
            char *form = query_to_string(q);
            query_free(q);
            expect(form, strlen(form), SE_OK, NULL);
            free(form);
        } else {
            expect(u, l2 + (size_t)k, SE_LIMIT, "more than 32 levels deep");
        }
        free(t);
        free(u);
    }
}

Test(query, operator_chains)
{
    size_t len;
    char *s = repeat("NOT ", 15000, "a", &len);
    expect(s, len, SE_SYNTAX, "NOT at column 1 is applied to an excluded term (NOT at column 5)");
    free(s);
    s = repeat("- ", 30000, "a", &len);
    expect(s, len, SE_SYNTAX, "operator '-' at column 1 has nothing to apply to");
    free(s);
    s = repeat("-", 60000, "a", &len);
    expect(s, len, SE_SYNTAX, "operator '-' at column 1 is applied to an excluded term");
    free(s);
    /* '+' inside '+' is redundant however often it is repeated */
    s = repeat("+", 60000, "a", &len);
    se_error err;
    int code;
    char *got = parse_form(s, len, 0, &code, &err);
    cr_assert_eq(code, SE_OK, "%s", err.msg);
    cr_assert_str_eq(got, "a");
    free(got);
    free(s);
    s = repeat("a AND ", 10000, "a", &len);
    expect(s, len, SE_LIMIT, "more than 1024 words");
    free(s);
}

Test(query, length_limit)
{
    size_t len;
    char *s = repeat("x", 100 * 1024, "", &len);
    expect(s, len, SE_LIMIT, "query is 102400 bytes long; the limit is 65536 bytes");
    expect(s, QUERY_MAX_BYTES + 1, SE_LIMIT, "the limit is 65536 bytes");
    expect(s, QUERY_MAX_BYTES, SE_OK, NULL); /* one long word */
    free(s);
}

/* ---- randomized robustness -------------------------------------------- */

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static void fuzz(const char *const *alphabet, size_t nalpha, int rounds, int max_pieces)
{
    char buf[1024];
    int accepted = 0;
    for (int r = 0; r < rounds; r++) {
        size_t len = 0;
        int pieces = (int)(rng() % (uint64_t)(max_pieces + 1));
        for (int i = 0; i < pieces; i++) {
            const char *a = alphabet[rng() % nalpha];
            size_t al = a[0] ? strlen(a) : 1; /* "" stands for one NUL byte */
            memcpy(buf + len, a, al);
            len += al;
        }
        query_node *q = NULL;
        se_error err = {0, ""};
        int code = query_parse(buf, len, NULL, &q, &err);
        if (code != SE_OK) {
            cr_assert(code == SE_SYNTAX || code == SE_LIMIT, "round %d: code %d", r, code);
            cr_assert_null(q);
            cr_assert_gt(strlen(err.msg), 0, "round %d: empty message", r);
            continue;
        }
        accepted++;
        check_tree(q);
        cr_assert_leq(tree_depth(q), QUERY_MAX_DEPTH);
        char *s1 = query_to_string(q);
        query_free(q);
        cr_assert_not_null(s1);
        query_node *q2 = NULL;
        code = query_parse(s1, strlen(s1), NULL, &q2, &err);
        cr_assert_eq(code, SE_OK, "round %d: printed form [%s] fails: %s", r, s1, err.msg);
        char *s2 = query_to_string(q2);
        query_free(q2);
        cr_assert_str_eq(s2, s1, "round %d: [%s] printed again as [%s]", r, s1, s2);
        free(s1);
        free(s2);
    }
    cr_assert_gt(accepted, rounds / 20, "only %d of %d random queries parsed", accepted, rounds);
}

Test(query, random_strings)
{
    static const char *const alphabet[] = {" ",  "\"",  "(", ")", "+",        "-",   "AND",
                                           "OR", "NOT", "a", "b", "\xc3\xa9", "\xff"};
    fuzz(alphabet, sizeof alphabet / sizeof alphabet[0], 20000, 24);
}

Test(query, random_strings_wider)
{
    static const char *const alphabet[] = {
        " ",    "\"",   "(",      ")",   "+",  "-", "AND",          "OR",           "NOT",
        "a",    "b",    "e-mail", "and", "\t", "",  "\xe2\x80\x9c", "\xe2\x80\x9d", "\xc2\xab",
        "\xc2", "\xe2", " a ",    " b ", "c"};
    fuzz(alphabet, sizeof alphabet / sizeof alphabet[0], 20000, 40);
}

/* ---- allocation failure ------------------------------------------------ */

Test(query, allocation_failure_leaks_nothing)
{
    static const char *const queries[] = {
        "a",
        "a b c d e f g h",
        "\"a b c d e f\" x",
        "+a -b (c d AND e) OR \"f g\"",
        "a AND b AND c AND d AND e AND f",
        "(a (b (c (d e))) f) g NOT h",
        "x (-a) b", /* fails with SE_SYNTAX when allocation succeeds */
    };
    for (size_t i = 0; i < sizeof queries / sizeof queries[0]; i++) {
        const char *in = queries[i];
        /* the reference run: how it ends when every allocation succeeds */
        fi_countdown = -1;
        fi_live = 0;
        query_node *q = NULL;
        int want = fi_query_parse(in, strlen(in), NULL, &q, NULL);
        fi_query_free(q);
        cr_assert_eq(fi_live, 0);
        for (long k = 0;; k++) {
            se_error err = {0, ""};
            fi_live = 0;
            fi_countdown = k;
            q = (query_node *)1;
            int code = fi_query_parse(in, strlen(in), NULL, &q, &err);
            if (code == SE_NOMEM) {
                cr_assert_null(q, "[%s] k=%ld", in, k);
                cr_assert_eq(err.code, SE_NOMEM);
                cr_assert_gt(strlen(err.msg), 0);
            } else {
                cr_assert_eq(code, want, "[%s] k=%ld: code %d, want %d", in, k, code, want);
            }
            if (code == SE_OK) {
                fi_countdown = -1;
                char *s = fi_query_to_string(q);
                cr_assert_not_null(s);
                fi_free(s);
                fi_countdown = 0;
                cr_assert_null(fi_query_to_string(q));
                fi_query_free(q);
            }
            fi_countdown = -1;
            cr_assert_eq(fi_live, 0, "[%s] k=%ld: %ld blocks leaked", in, k, fi_live);
            if (code != SE_NOMEM) break; /* every allocation succeeded */
        }
    }
}

/* Literal mode: operators, quotes and parentheses are ordinary word bytes. */
Test(query, literal_mode)
{
    static const struct {
        const char *in, *out;
        int and_mode;
    } cases[] = {
        {"a b", "(a b)", 0},
        {"a b", "(+a +b)", 1},
        {"-a (b) \"c AND", "(-a (b) \"c AND)", 0},
        {"  single  ", "single", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        query_options opt = {.default_and = cases[i].and_mode, .literal = 1};
        query_node *q = NULL;
        se_error err = {0};
        int rc = query_parse(cases[i].in, strlen(cases[i].in), &opt, &q, &err);
        cr_assert_eq(rc, SE_OK, "%s: %s", cases[i].in, err.msg);
        char *s = query_to_string(q);
        cr_assert_str_eq(s, cases[i].out, "literal %s", cases[i].in);
        /* words are kept whole, operators included */
        free(s);
        query_free(q);
    }
    query_options opt = {.literal = 1};
    query_node *q = NULL;
    se_error err = {0};
    cr_assert_eq(query_parse("   ", 3, &opt, &q, &err), SE_SYNTAX);
    cr_assert_null(q);
}
