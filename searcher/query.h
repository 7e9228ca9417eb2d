/*
 * query.h - the query language: parsing a query string into a tree.
 *
 * Syntax (operators are upper case; lower-case "and" is a word):
 *
 *   query    := orlist
 *   orlist   := andexpr ( ["OR"] andexpr )*      juxtaposition = default operator
 *   andexpr  := unary ( "AND" unary )*
 *   unary    := "+" unary | "-" unary | "NOT" unary | primary
 *   primary  := WORD | '"' WORD* '"' | "(" orlist ")"
 *
 * A WORD is a maximal run of bytes that are not white space, '"', '(' or ')'
 * (a leading '+' or '-' is an operator, not part of the word).  Curly double
 * quotes U+201C/U+201D/U+201E and U+00AB/U+00BB work like '"'.  Words are
 * kept raw: the searcher runs them through the analyzer, so a word may turn
 * into zero terms (pure punctuation: dropped), one term, or several (then it
 * is matched as a phrase, e.g. e-mail).
 *
 * The result is a tree of QUERY_BOOL nodes whose clauses each carry an
 * occurrence, Lucene style:
 *   - a clause list built from juxtaposed items: each item's occurrence is
 *     MUST for "+x", MUST_NOT for "-x" or "NOT x", and otherwise the default
 *     (SHOULD, or MUST when query_options.default_and is set); an item joined
 *     by an explicit OR is SHOULD even under default_and;
 *   - "a AND b" becomes one item, a QUERY_BOOL with clauses MUST a, MUST b
 *     ("a AND NOT b" -> MUST a, MUST_NOT b);
 *   - parentheses make a nested QUERY_BOOL;
 *   - a node with one SHOULD or MUST clause is replaced by its child.
 * A QUERY_BOOL matches a document when every MUST clause matches, no MUST_NOT
 * clause matches, and, if it has no MUST clause, at least one SHOULD clause
 * matches.  A QUERY_BOOL with only MUST_NOT clauses is a syntax error
 * ("nothing to match"), as is an empty query.
 *
 * Limits (SE_LIMIT with a message): at most QUERY_MAX_WORDS words in all,
 * nesting depth QUERY_MAX_DEPTH, query length QUERY_MAX_BYTES.
 * Syntax errors (SE_SYNTAX) name the problem and the 1-based byte column:
 * unbalanced quote or parenthesis, operator without operand, empty phrase.
 *
 * Ownership: query_parse allocates the whole tree; query_free releases it.
 * Pure functions of their input; thread-safe.
 */
#ifndef SE_QUERY_H
#define SE_QUERY_H

#include <stddef.h>

#include "common/status.h"

#define QUERY_MAX_WORDS 1024
#define QUERY_MAX_DEPTH 32
#define QUERY_MAX_BYTES 65536

typedef enum { QUERY_WORD, QUERY_PHRASE, QUERY_BOOL } query_kind;
typedef enum { QUERY_SHOULD, QUERY_MUST, QUERY_MUST_NOT } query_occur;

typedef struct query_node query_node;

typedef struct query_clause {
    query_occur occur;
    query_node *node;
} query_clause;

struct query_node {
    query_kind kind;
    /* QUERY_WORD: words[0]; QUERY_PHRASE: words[0..nwords) in order.
     * Each word is a NUL-terminated copy of the raw bytes. */
    char **words;
    size_t nwords;
    /* QUERY_BOOL */
    query_clause *clauses;
    size_t nclauses;
};

typedef struct query_options {
    int default_and; /* juxtaposed items are MUST instead of SHOULD */
    int literal;     /* no syntax: every white-space-separated run is a word */
} query_options;

/* Parse text[0..len).  On success *out owns the tree (free with query_free).
 * Returns SE_OK, SE_SYNTAX, SE_LIMIT or SE_NOMEM (message in *err). */
int query_parse(const char *text, size_t len, const query_options *opt, query_node **out,
                se_error *err);

void query_free(query_node *q);

/* Render a tree in a canonical, fully parenthesised form for tests and
 * debugging, e.g. (+a -b c "d e").  Returns a malloc'd string or NULL. */
char *query_to_string(const query_node *q);

#endif
