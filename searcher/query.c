/*
 * query.c - the query parser (see query.h).
 *
 * How it works: a lexer turns the bytes into tokens one at a time (one token
 * of lookahead, in p->tok), and a recursive-descent parser with one function
 * per grammar rule (orlist, andexpr, unary, primary) builds the tree.  Each
 * rule hands back an "item": the node, the occurrence its prefix operators
 * asked for (or "default"), and its BOOL nesting depth.  The clause list of
 * an orlist decides the default occurrences at the end, once it knows which
 * items touch an explicit OR.  On any error every node built so far is
 * freed, *out is NULL and the message names the 1-based byte column.
 *
 * Lexing:
 *   - white space is ' ', \t, \n, \v, \f, \r and the NUL byte;
 *   - '"' and the UTF-8 curly quotes U+201C, U+201D, U+201E, U+00AB, U+00BB
 *     are quote tokens (any of them opens or closes a phrase);
 *   - '+' or '-' at the start of a run of word bytes is an operator; inside
 *     a run it is an ordinary byte ("e-mail" is one word, "-mail" excludes
 *     "mail");
 *   - a run that is exactly AND, OR or NOT is that operator; everything else
 *     (including lower-case "and", bytes >= 0x80 and invalid UTF-8) is a word.
 * Inside a phrase only white space, parentheses and quotes separate words:
 * operators and leading '+'/'-' are word bytes there, and parentheses are
 * dropped like white space (they are punctuation, which the analyzer would
 * drop anyway).  A one-word phrase stays a QUERY_PHRASE.
 *
 * Decisions where query.h leaves room:
 *   - '+' and '-' must touch their operand: "- a", "a -" and "-)" are errors
 *     ("operator '-' at column N has nothing to apply to").  NOT may be
 *     followed by white space.
 *   - Stacked prefix operators compose by the tree rules: each operator makes
 *     a one-clause BOOL around its operand.  So "++x" and "-+x" are "+x" and
 *     "-x" (the inner one-MUST BOOL collapses to its child), while any
 *     negation under another operator ("+-x", "--x", "NOT -x", "NOT NOT x")
 *     would be a BOOL with only a MUST_NOT clause, which is a syntax error.
 *     Prefix operators are read in a loop, not by recursion, and add no
 *     nesting depth (they never add a level to the tree).
 *   - Depth: at most QUERY_MAX_DEPTH open parentheses at any point (checked
 *     before recursing, so "((((..." cannot exhaust the stack), and at most
 *     QUERY_MAX_DEPTH nested BOOL nodes in the finished tree.  The second
 *     rule makes the canonical form of every accepted query parse again.
 *   - A group whose clauses are all MUST_NOT is an error at any level: "-a",
 *     "(-a) b", "x (NOT a AND NOT b)".  "()" is an error too.
 *   - Words count towards QUERY_MAX_WORDS as they are lexed, so an oversized
 *     query fails as soon as word QUERY_MAX_WORDS + 1 is seen.
 *
 * Canonical form (query_to_string):
 *   word     its bytes as they are;
 *   phrase   '"' + its words joined by one space + '"';
 *   BOOL     '(' + its clauses joined by one space + ')', each clause
 *            prefixed by '+' (MUST), '-' (MUST_NOT) or nothing (SHOULD).
 * A top-level word or phrase prints without parentheses.  SHOULD carries no
 * prefix, so the form reads back as the same tree under default options
 * (not under default_and).
 */
#include "searcher/query.h"

#include <stdlib.h>
#include <string.h>

typedef enum {
    T_END,
    T_WORD,
    T_QUOTE,
    T_LPAREN,
    T_RPAREN,
    T_AND,
    T_OR,
    T_NOT,
    T_PLUS,
    T_MINUS,
} tok_type;

typedef struct token {
    tok_type type;
    size_t pos; /* 0-based byte offset of the first byte */
    size_t len;
} token;

typedef struct parser {
    const char *s;
    size_t len;
    size_t pos; /* first byte after p->tok */
    token tok;  /* the lookahead token */
    size_t nwords;
    int paren_depth;
    int default_and;
    se_error *err;
} parser;

/* An occurrence not fixed by a prefix operator yet. */
#define OCC_DEFAULT (-1)

typedef struct item {
    query_node *node;
    int occ;    /* query_occur or OCC_DEFAULT */
    int depth;  /* nested BOOL levels in node: 0 for a word or phrase */
    int or_adj; /* joined to a neighbour by an explicit OR */
} item;

static const item no_item = {NULL, OCC_DEFAULT, 0, 0};

typedef struct item_list {
    item *v;
    size_t n, cap;
} item_list;

/* ---- tree helpers ---------------------------------------------------- */

void query_free(query_node *q)
{
    if (!q) return;
    if (q->words) {
        for (size_t i = 0; i < q->nwords; i++) free(q->words[i]);
        free(q->words);
    }
    if (q->clauses) {
        for (size_t i = 0; i < q->nclauses; i++) query_free(q->clauses[i].node);
        free(q->clauses);
    }
    free(q);
}

static query_node *node_new(query_kind kind)
{
    query_node *q = malloc(sizeof *q);
    if (!q) return NULL;
    q->kind = kind;
    q->words = NULL;
    q->nwords = 0;
    q->clauses = NULL;
    q->nclauses = 0;
    return q;
}

static char *copy_bytes(const char *s, size_t n)
{
    char *c = malloc(n + 1);
    if (!c) return NULL;
    memcpy(c, s, n);
    c[n] = '\0';
    return c;
}

static void items_free(item_list *l)
{
    for (size_t i = 0; i < l->n; i++) query_free(l->v[i].node);
    free(l->v);
    l->v = NULL;
    l->n = l->cap = 0;
}

/* Append it; on failure frees it.node (the list keeps what it had). */
static int items_push(item_list *l, item it)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 4;
        item *v = realloc(l->v, cap * sizeof *v);
        if (!v) {
            query_free(it.node);
            return SE_NOMEM;
        }
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = it;
    return SE_OK;
}

/* Move the items of l (occurrences resolved) into a new BOOL node.  On
 * success l is emptied; on failure l is left as it was. */
static int build_bool(item_list *l, query_node **out)
{
    query_node *q = node_new(QUERY_BOOL);
    if (!q) return SE_NOMEM;
    q->clauses = malloc(l->n * sizeof *q->clauses);
    if (!q->clauses) {
        free(q);
        return SE_NOMEM;
    }
    for (size_t i = 0; i < l->n; i++) {
        q->clauses[i].occur = (query_occur)l->v[i].occ;
        q->clauses[i].node = l->v[i].node;
    }
    q->nclauses = l->n;
    free(l->v);
    l->v = NULL;
    l->n = l->cap = 0;
    *out = q;
    return SE_OK;
}

static int max_child_depth(const item_list *l)
{
    int d = 0;
    for (size_t i = 0; i < l->n; i++)
        if (l->v[i].depth > d) d = l->v[i].depth;
    return d;
}

static int all_excluded(const item_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        if (l->v[i].occ != QUERY_MUST_NOT) return 0;
    return 1;
}

/* ---- lexer ----------------------------------------------------------- */

static int is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r' || c == '\0';
}

/* Length of the quote character starting at s[i], or 0. */
static size_t quote_len(const parser *p, size_t i)
{
    const unsigned char *u = (const unsigned char *)p->s;
    if (u[i] == '"') return 1;
    if (u[i] == 0xC2 && i + 1 < p->len && (u[i + 1] == 0xAB || u[i + 1] == 0xBB)) return 2;
    if (u[i] == 0xE2 && i + 2 < p->len && u[i + 1] == 0x80 &&
        (u[i + 2] == 0x9C || u[i + 2] == 0x9D || u[i + 2] == 0x9E))
        return 3;
    return 0;
}

/* Does a word end before s[i]? */
static int is_delim(const parser *p, size_t i)
{
    unsigned char c = (unsigned char)p->s[i];
    return is_space(c) || c == '(' || c == ')' || quote_len(p, i) > 0;
}

static size_t word_end(const parser *p, size_t i)
{
    while (i < p->len && !is_delim(p, i)) i++;
    return i;
}

static int count_word(parser *p, size_t pos)
{
    if (++p->nwords > QUERY_MAX_WORDS)
        return se_fail(p->err, SE_LIMIT,
                       "query has more than %d words (word %zu starts at column %zu)",
                       QUERY_MAX_WORDS, p->nwords, pos + 1);
    return SE_OK;
}

/* Read the token at p->pos into p->tok. */
static int advance(parser *p)
{
    size_t i = p->pos;
    while (i < p->len && is_space((unsigned char)p->s[i])) i++;
    p->tok.pos = i;
    p->tok.len = 1;
    if (i >= p->len) {
        p->tok.type = T_END;
        p->tok.len = 0;
    } else if (quote_len(p, i)) {
        p->tok.type = T_QUOTE;
        p->tok.len = quote_len(p, i);
    } else if (p->s[i] == '(') {
        p->tok.type = T_LPAREN;
    } else if (p->s[i] == ')') {
        p->tok.type = T_RPAREN;
    } else if (p->s[i] == '+') {
        p->tok.type = T_PLUS;
    } else if (p->s[i] == '-') {
        p->tok.type = T_MINUS;
    } else {
        size_t n = word_end(p, i) - i;
        const char *w = p->s + i;
        p->tok.len = n;
        if (n == 3 && memcmp(w, "AND", 3) == 0) {
            p->tok.type = T_AND;
        } else if (n == 2 && memcmp(w, "OR", 2) == 0) {
            p->tok.type = T_OR;
        } else if (n == 3 && memcmp(w, "NOT", 3) == 0) {
            p->tok.type = T_NOT;
        } else {
            p->tok.type = T_WORD;
            int rc = count_word(p, i);
            if (rc) return rc;
        }
    }
    p->pos = i + p->tok.len;
    return SE_OK;
}

static int starts_item(tok_type t)
{
    return t == T_WORD || t == T_QUOTE || t == T_LPAREN || t == T_PLUS || t == T_MINUS ||
           t == T_NOT;
}

static const char *op_desc(tok_type t)
{
    switch (t) {
    case T_PLUS:
        return "operator '+'";
    case T_MINUS:
        return "operator '-'";
    default:
        return "NOT";
    }
}

/* ---- parser ---------------------------------------------------------- */

static int parse_orlist(parser *p, size_t group_col, item *out);

/* p->tok is the opening quote.  Reads the words up to the closing quote. */
static int parse_phrase(parser *p, query_node **out)
{
    size_t qcol = p->tok.pos + 1;
    size_t i = p->pos;
    char **words = NULL;
    size_t n = 0, cap = 0;
    int rc;
    for (;;) {
        while (i < p->len && (is_space((unsigned char)p->s[i]) || p->s[i] == '(' || p->s[i] == ')'))
            i++;
        if (i >= p->len) {
            rc = se_fail(p->err, SE_SYNTAX,
                         "unterminated phrase: the quote at column %zu is never closed", qcol);
            goto fail;
        }
        size_t ql = quote_len(p, i);
        if (ql) {
            i += ql;
            break;
        }
        size_t end = word_end(p, i);
        rc = count_word(p, i);
        if (rc) goto fail;
        if (n == cap) {
            size_t ncap = cap ? 2 * cap : 4;
            char **nw = realloc(words, ncap * sizeof *nw);
            if (!nw) goto nomem;
            words = nw;
            cap = ncap;
        }
        words[n] = copy_bytes(p->s + i, end - i);
        if (!words[n]) goto nomem;
        n++;
        i = end;
    }
    if (n == 0) {
        rc = se_fail(p->err, SE_SYNTAX, "empty phrase at column %zu", qcol);
        goto fail;
    }
    query_node *q = node_new(QUERY_PHRASE);
    if (!q) goto nomem;
    q->words = words;
    q->nwords = n;
    p->pos = i;
    *out = q;
    return SE_OK;
nomem:
    rc = se_fail(p->err, SE_NOMEM, "out of memory while parsing the query");
fail:
    for (size_t k = 0; k < n; k++) free(words[k]);
    free(words);
    return rc;
}

/* primary := WORD | '"' WORD* '"' | "(" orlist ")" */
static int parse_primary(parser *p, item *out)
{
    int rc;
    *out = no_item;
    switch (p->tok.type) {
    case T_WORD: {
        query_node *q = node_new(QUERY_WORD);
        if (!q) return se_fail(p->err, SE_NOMEM, "out of memory while parsing the query");
        q->words = malloc(sizeof *q->words);
        if (q->words) q->words[0] = copy_bytes(p->s + p->tok.pos, p->tok.len);
        if (!q->words || !q->words[0]) {
            free(q->words);
            free(q);
            return se_fail(p->err, SE_NOMEM, "out of memory while parsing the query");
        }
        q->nwords = 1;
        out->node = q;
        break;
    }
    case T_QUOTE:
        rc = parse_phrase(p, &out->node);
        if (rc) return rc;
        break;
    case T_LPAREN: {
        size_t col = p->tok.pos + 1;
        if (p->paren_depth >= QUERY_MAX_DEPTH)
            return se_fail(p->err, SE_LIMIT,
                           "query nests more than %d levels deep: '(' at column %zu",
                           QUERY_MAX_DEPTH, col);
        p->paren_depth++;
        rc = advance(p);
        if (rc) return rc;
        rc = parse_orlist(p, col, out);
        if (rc) return rc;
        /* parse_orlist returns in a group only at the closing ')' */
        p->paren_depth--;
        break;
    }
    default:
        return se_fail(p->err, SE_SYNTAX, "expected a word, phrase or '(' at column %zu",
                       p->tok.pos + 1);
    }
    rc = advance(p);
    if (rc) {
        query_free(out->node);
        out->node = NULL;
    }
    return rc;
}

/* unary := "+" unary | "-" unary | "NOT" unary | primary, read as a loop. */
static int parse_unary(parser *p, item *out)
{
    int occ = OCC_DEFAULT;
    token prev = {T_END, 0, 0};
    *out = no_item;
    while (p->tok.type == T_PLUS || p->tok.type == T_MINUS || p->tok.type == T_NOT) {
        token op = p->tok;
        int rc = advance(p);
        if (rc) return rc;
        int attached = op.type == T_NOT || p->tok.pos == op.pos + op.len;
        if (!attached || !starts_item(p->tok.type))
            return se_fail(p->err, SE_SYNTAX, "%s at column %zu has nothing to apply to",
                           op_desc(op.type), op.pos + 1);
        if (prev.type != T_END && op.type != T_PLUS)
            return se_fail(p->err, SE_SYNTAX,
                           "%s at column %zu is applied to an excluded term (%s at column "
                           "%zu): nothing to match",
                           op_desc(prev.type), prev.pos + 1, op_desc(op.type), op.pos + 1);
        if (prev.type == T_END) occ = op.type == T_PLUS ? QUERY_MUST : QUERY_MUST_NOT;
        prev = op;
    }
    int rc = parse_primary(p, out);
    if (rc) return rc;
    out->occ = occ;
    return SE_OK;
}

/* andexpr := unary ( "AND" unary )* */
static int parse_andexpr(parser *p, item *out)
{
    item first;
    *out = no_item;
    int rc = parse_unary(p, &first);
    if (rc) return rc;
    if (p->tok.type != T_AND) {
        *out = first;
        return SE_OK;
    }
    size_t and_col = p->tok.pos + 1;
    item_list l = {NULL, 0, 0};
    if (first.occ == OCC_DEFAULT) first.occ = QUERY_MUST;
    rc = items_push(&l, first);
    while (rc == SE_OK && p->tok.type == T_AND) {
        size_t col = p->tok.pos + 1;
        rc = advance(p);
        if (rc) break;
        if (!starts_item(p->tok.type)) {
            rc = se_fail(p->err, SE_SYNTAX, "AND at column %zu has nothing on its right", col);
            break;
        }
        item it;
        rc = parse_unary(p, &it);
        if (rc) break;
        if (it.occ == OCC_DEFAULT) it.occ = QUERY_MUST;
        rc = items_push(&l, it);
    }
    if (rc == SE_NOMEM) se_fail(p->err, SE_NOMEM, "out of memory while parsing the query");
    if (rc == SE_OK && all_excluded(&l))
        rc = se_fail(p->err, SE_SYNTAX,
                     "AND at column %zu joins only excluded terms: nothing to match", and_col);
    int depth = 1 + max_child_depth(&l);
    if (rc == SE_OK && depth > QUERY_MAX_DEPTH)
        rc = se_fail(p->err, SE_LIMIT, "query nests more than %d levels deep: AND at column %zu",
                     QUERY_MAX_DEPTH, and_col);
    if (rc == SE_OK) {
        rc = build_bool(&l, &out->node);
        if (rc) se_fail(p->err, SE_NOMEM, "out of memory while parsing the query");
    }
    if (rc) {
        items_free(&l);
        return rc;
    }
    out->occ = OCC_DEFAULT;
    out->depth = depth;
    out->or_adj = 0;
    return SE_OK;
}

/* orlist := andexpr ( ["OR"] andexpr )*
 * group_col is the column of the '(' that opened the group, 0 at the top
 * level.  In a group this returns with p->tok on the closing ')'. */
static int parse_orlist(parser *p, size_t group_col, item *out)
{
    item_list l = {NULL, 0, 0};
    size_t or_col = 0;
    *out = no_item; /* column of an OR still waiting for its right side */
    int rc = SE_OK;
    for (;;) {
        tok_type t = p->tok.type;
        size_t col = p->tok.pos + 1;
        if (t == T_END && group_col) {
            rc = se_fail(p->err, SE_SYNTAX,
                         "unbalanced parenthesis: '(' at column %zu is never closed", group_col);
            break;
        }
        if (t == T_RPAREN && !group_col) {
            rc = se_fail(p->err, SE_SYNTAX,
                         "unbalanced parenthesis: ')' at column %zu has no matching '('", col);
            break;
        }
        if (t == T_END || t == T_RPAREN) {
            if (or_col)
                rc =
                    se_fail(p->err, SE_SYNTAX, "OR at column %zu has nothing on its right", or_col);
            break;
        }
        if (t == T_OR) {
            if (l.n == 0) {
                rc = se_fail(p->err, SE_SYNTAX, "OR at column %zu has nothing on its left", col);
                break;
            }
            if (or_col) {
                rc =
                    se_fail(p->err, SE_SYNTAX, "OR at column %zu has nothing on its right", or_col);
                break;
            }
            l.v[l.n - 1].or_adj = 1;
            or_col = col;
            rc = advance(p);
            if (rc) break;
            continue;
        }
        if (t == T_AND) {
            rc = se_fail(p->err, SE_SYNTAX, "AND at column %zu has nothing on its left", col);
            break;
        }
        item it;
        rc = parse_andexpr(p, &it);
        if (rc) break;
        it.or_adj = or_col != 0;
        or_col = 0;
        rc = items_push(&l, it);
        if (rc) {
            se_fail(p->err, SE_NOMEM, "out of memory while parsing the query");
            break;
        }
    }
    if (rc) {
        items_free(&l);
        return rc;
    }
    if (l.n == 0) {
        if (group_col)
            return se_fail(p->err, SE_SYNTAX, "empty parentheses at column %zu", group_col);
        return se_fail(p->err, SE_SYNTAX, "empty query");
    }
    for (size_t i = 0; i < l.n; i++) {
        if (l.v[i].occ != OCC_DEFAULT) continue;
        l.v[i].occ = (p->default_and && !l.v[i].or_adj) ? QUERY_MUST : QUERY_SHOULD;
    }
    if (all_excluded(&l)) {
        items_free(&l);
        if (group_col)
            return se_fail(p->err, SE_SYNTAX,
                           "the group at column %zu has only excluded terms: nothing to match",
                           group_col);
        return se_fail(p->err, SE_SYNTAX, "query has only excluded terms: nothing to match");
    }
    if (l.n == 1) { /* one SHOULD or MUST clause: the node is its child */
        *out = l.v[0];
        free(l.v);
    } else {
        int depth = 1 + max_child_depth(&l);
        if (depth > QUERY_MAX_DEPTH) {
            items_free(&l);
            if (group_col)
                return se_fail(p->err, SE_LIMIT,
                               "query nests more than %d levels deep: '(' at column %zu",
                               QUERY_MAX_DEPTH, group_col);
            return se_fail(p->err, SE_LIMIT, "query nests more than %d levels deep",
                           QUERY_MAX_DEPTH);
        }
        if (build_bool(&l, &out->node)) {
            items_free(&l);
            return se_fail(p->err, SE_NOMEM, "out of memory while parsing the query");
        }
        out->depth = depth;
    }
    out->occ = OCC_DEFAULT;
    out->or_adj = 0;
    return SE_OK;
}

/* Literal mode: every run of non-white-space bytes is a word, with the
 * default occurrence; no operator, quote or parenthesis has a meaning. */
static int parse_literal(const char *text, size_t len, int default_and, query_node **out,
                         se_error *err)
{
    parser p = {.s = text, .len = len, .err = err};
    item_list l = {0};
    for (size_t i = 0; i < len;) {
        while (i < len && is_space((unsigned char)text[i])) i++;
        size_t j = i;
        while (j < len && !is_space((unsigned char)text[j])) j++;
        if (j == i) break;
        int rc = count_word(&p, i);
        query_node *w = rc ? NULL : node_new(QUERY_WORD);
        if (w) {
            w->words = malloc(sizeof *w->words);
            if (w->words && (w->words[0] = copy_bytes(text + i, j - i)) != NULL) w->nwords = 1;
        }
        if (rc || !w || w->nwords == 0) {
            query_free(w);
            items_free(&l);
            return rc ? rc : se_fail(err, SE_NOMEM, "out of memory while parsing the query");
        }
        item it = {w, default_and ? QUERY_MUST : QUERY_SHOULD, 0, 0};
        if (items_push(&l, it) != SE_OK) {
            items_free(&l);
            return se_fail(err, SE_NOMEM, "out of memory while parsing the query");
        }
        i = j;
    }
    if (l.n == 0) return se_fail(err, SE_SYNTAX, "empty query");
    if (l.n == 1) {
        *out = l.v[0].node;
        free(l.v);
        return SE_OK;
    }
    if (build_bool(&l, out) != SE_OK) {
        items_free(&l);
        return se_fail(err, SE_NOMEM, "out of memory while parsing the query");
    }
    return SE_OK;
}

int query_parse(const char *text, size_t len, const query_options *opt, query_node **out,
                se_error *err)
{
    if (out) *out = NULL;
    if (!out || (!text && len > 0))
        return se_fail(err, SE_INVALID, "query_parse: missing query or output pointer");
    if (len > QUERY_MAX_BYTES)
        return se_fail(err, SE_LIMIT, "query is %zu bytes long; the limit is %d bytes", len,
                       QUERY_MAX_BYTES);
    if (opt && opt->literal) return parse_literal(text, len, opt->default_and, out, err);
    parser p = {.s = text, .len = len, .default_and = opt ? opt->default_and : 0, .err = err};
    int rc = advance(&p);
    if (rc) return rc;
    item top;
    rc = parse_orlist(&p, 0, &top);
    if (rc) return rc;
    *out = top.node;
    return SE_OK;
}

/* ---- canonical form -------------------------------------------------- */

/* Bytes of q's canonical form, not counting a terminating NUL. */
static size_t form_len(const query_node *q)
{
    size_t n = 0;
    switch (q->kind) {
    case QUERY_WORD:
        return q->nwords ? strlen(q->words[0]) : 0;
    case QUERY_PHRASE:
        n = 2;
        for (size_t i = 0; i < q->nwords; i++) n += strlen(q->words[i]) + (i > 0);
        return n;
    case QUERY_BOOL:
        n = 2;
        for (size_t i = 0; i < q->nclauses; i++)
            n += (i > 0) + (q->clauses[i].occur != QUERY_SHOULD) + form_len(q->clauses[i].node);
        return n;
    }
    return 0;
}

/* Write q's canonical form at out; returns the end of what was written. */
static char *form_write(const query_node *q, char *out)
{
    switch (q->kind) {
    case QUERY_WORD:
        if (q->nwords) {
            size_t n = strlen(q->words[0]);
            memcpy(out, q->words[0], n);
            out += n;
        }
        break;
    case QUERY_PHRASE:
        *out++ = '"';
        for (size_t i = 0; i < q->nwords; i++) {
            size_t n = strlen(q->words[i]);
            if (i > 0) *out++ = ' ';
            memcpy(out, q->words[i], n);
            out += n;
        }
        *out++ = '"';
        break;
    case QUERY_BOOL:
        *out++ = '(';
        for (size_t i = 0; i < q->nclauses; i++) {
            if (i > 0) *out++ = ' ';
            if (q->clauses[i].occur == QUERY_MUST) *out++ = '+';
            if (q->clauses[i].occur == QUERY_MUST_NOT) *out++ = '-';
            out = form_write(q->clauses[i].node, out);
        }
        *out++ = ')';
        break;
    }
    return out;
}

char *query_to_string(const query_node *q)
{
    if (!q) return NULL;
    char *s = malloc(form_len(q) + 1);
    if (!s) return NULL;
    *form_write(q, s) = '\0';
    return s;
}
