/*
 * test_hostile.c - bin/index on a directory of 1,000 hostile files, then
 * bin/search and --verify on what it made.
 *
 * The files (generated from a fixed seed in a temporary directory):
 *   - text (.txt / .md) of random valid UTF-8: ASCII, accented Latin, Greek,
 *     Cyrillic, astral-plane letters (mathematical bold, CJK extension B),
 *     emoji, combining marks; some with CRLF line ends;
 *   - text with a few invalid UTF-8 sequences (repaired, with a warning
 *     giving their number), with a NUL byte, random bytes, bytes that are
 *     almost all invalid UTF-8 (binary: skipped);
 *   - zero-byte files and files of blanks only (empty: skipped);
 *   - words longer than the 64-byte term limit (not indexed, counted) and
 *     words exactly at it (indexed);
 *   - single lines of several MB (indexed), files just at and just over the
 *     size limit;
 *   - JSONL files mixing good lines with malformed JSON, values that are not
 *     objects, missing / empty / mistyped ids, a non-string title, lone
 *     surrogate escapes, raw invalid UTF-8 and NUL bytes, JSON nested 3,000
 *     deep (beyond the parser's limit) and 500 deep (accepted), blank and
 *     CRLF lines, a line over the line limit and a document over the size
 *     limit;
 *   - a FIFO, a symbolic link loop, a dangling symbolic link, a file name
 *     that is not UTF-8, a directory 100 levels deep, files of other
 *     extensions, and (run as uid 65534 when the test runs as root) an
 *     unreadable file and an unreadable directory.
 * The generator records what each file must lead to: the ids that must be
 * indexed, and for every skipped or repaired input the warning that must
 * name it.  The index run must exit 1 (done, with warnings) without a
 * signal, print exactly those warnings and a summary whose counts match,
 * pass --verify, list exactly the expected ids, and answer searches for
 * each category's marker word with exactly that category's documents; a
 * second run must find everything unchanged.
 *
 * SE_HOSTILE_SCALE below 1 (make valgrind) lowers the document size limit
 * from 4 MiB to 1 MiB, and so the size of the large files; the number of
 * files stays 1,000.
 */
#include <criterion/criterion.h>

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/e2e/expect.h"
#include "tests/support/e2e.h"
#include "tests/support/fsutil.h"
#include "tests/support/run.h"

#define TIMEOUT  120.0
#define NFILES   1000
#define NOBODY   65534
#define TERM_MAX 64 /* ANALYZER_MAX_TERM_BYTES */

/* ------------------------------------------------------------- fixture */

static char *g_tmp;

static void setup(void)
{
    g_tmp = fs_mkdtemp_fast("se_e2e_hostile_");
    cr_assert_not_null(g_tmp, "mkdtemp failed");
}

static void teardown(void)
{
    if (g_tmp) fs_rm_rf(g_tmp);
    free(g_tmp);
    g_tmp = NULL;
}

TestSuite(hostile, .init = setup, .fini = teardown, .timeout = 600);

/* ------------------------------------------------------------- helpers */

typedef struct rng {
    uint64_t s;
} rng;

static uint64_t rnd(rng *r)
{
    r->s ^= r->s >> 12;
    r->s ^= r->s << 25;
    r->s ^= r->s >> 27;
    return r->s * UINT64_C(2685821657736338717);
}

/* Uniform in [lo, hi]. */
static uint32_t between(rng *r, uint32_t lo, uint32_t hi)
{
    return lo + (uint32_t)(rnd(r) % ((uint64_t)hi - lo + 1));
}

/* A growable byte string. */
typedef struct str {
    char *p;
    size_t len, cap;
} str;

static void put(str *s, const void *data, size_t n)
{
    if (s->len + n + 1 > s->cap) {
        size_t cap = s->cap ? s->cap : 256;
        while (cap < s->len + n + 1) cap *= 2;
        char *p = realloc(s->p, cap);
        cr_assert_not_null(p, "out of memory");
        s->p = p;
        s->cap = cap;
    }
    memcpy(s->p + s->len, data, n);
    s->len += n;
    s->p[s->len] = '\0';
}

static void puts_(str *s, const char *text)
{
    put(s, text, strlen(text));
}

__attribute__((format(printf, 2, 3))) static void putf(str *s, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    cr_assert(n >= 0 && (size_t)n < sizeof buf);
    put(s, buf, (size_t)n);
}

static void put_cp(str *s, uint32_t cp)
{
    char b[4];
    size_t n;
    if (cp < 0x80) {
        b[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        b[0] = (char)(0xC0 | cp >> 6);
        b[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        b[0] = (char)(0xE0 | cp >> 12);
        b[1] = (char)(0x80 | (cp >> 6 & 0x3F));
        b[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        b[0] = (char)(0xF0 | cp >> 18);
        b[1] = (char)(0x80 | (cp >> 12 & 0x3F));
        b[2] = (char)(0x80 | (cp >> 6 & 0x3F));
        b[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    put(s, b, n);
}

static void str_free(str *s)
{
    free(s->p);
    memset(s, 0, sizeof *s);
}

/* A list of strings. */
typedef struct strlist {
    char **v;
    size_t n, cap;
} strlist;

static void list_add(strlist *l, const char *s)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 64;
        l->v = realloc(l->v, l->cap * sizeof *l->v);
        cr_assert_not_null(l->v);
    }
    l->v[l->n] = strdup(s);
    cr_assert_not_null(l->v[l->n]);
    l->n++;
}

static void list_free(strlist *l)
{
    for (size_t i = 0; i < l->n; i++) free(l->v[i]);
    free(l->v);
    memset(l, 0, sizeof *l);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* ------------------------------------------------------------- random text */

/* Words are 1 to 10 characters of one script, so no random word reaches
 * the term length limit (10 x 4 bytes at most) and none contains a digit:
 * the marker words below all do, so no random word can be a marker. */
enum script { S_ASCII, S_LATIN, S_GREEK, S_CYRILLIC, S_MATH_BOLD, S_CJK_B, S_NSCRIPTS };

static uint32_t script_char(rng *r, enum script sc)
{
    static const uint32_t latin[] = {0xE9, 0xE8, 0xFC, 0xF1, 0xE7, 0xE0, 0xF6, 0xE5, 0xEE, 0xDF};
    switch (sc) {
    case S_ASCII:
        return 'a' + between(r, 0, 25);
    case S_LATIN:
        return rnd(r) % 2 ? 'a' + between(r, 0, 25) : latin[between(r, 0, 9)];
    case S_GREEK:
        return between(r, 0x3B1, 0x3C9);
    case S_CYRILLIC:
        return between(r, 0x430, 0x44F);
    case S_MATH_BOLD: /* U+1D41A.. : mathematical bold small a-z */
        return between(r, 0x1D41A, 0x1D433);
    default: /* CJK unified ideographs extension B */
        return between(r, 0x20000, 0x2A6DF);
    }
}

/* A random word; combining marks (U+0300..U+036F) may follow a letter. */
static void random_word(rng *r, str *s)
{
    enum script sc = (enum script)between(r, 0, S_NSCRIPTS - 1);
    if (rnd(r) % 3) sc = S_ASCII;
    uint32_t n = between(r, 1, 10);
    for (uint32_t i = 0; i < n; i++) {
        put_cp(s, script_char(r, sc));
        if (sc != S_CJK_B && rnd(r) % 8 == 0) put_cp(s, between(r, 0x300, 0x36F));
    }
}

/* Between words: blanks, punctuation, emoji, line ends ("\r\n" when crlf). */
static void random_gap(rng *r, str *s, int crlf)
{
    switch (rnd(r) % 16) {
    case 0:
        puts_(s, crlf ? "\r\n" : "\n");
        break;
    case 1:
        puts_(s, ", ");
        break;
    case 2:
        put_cp(s, between(r, 0x1F600, 0x1F64F)); /* emoji: a separator */
        break;
    case 3:
        puts_(s, "\t");
        break;
    case 4:
        puts_(s, " \xE2\x80\x94 "); /* em dash */
        break;
    default:
        puts_(s, " ");
    }
}

/* A title line, a blank line and nwords random words with `marker` among
 * them (and a second marker when not NULL). */
static void random_doc(rng *r, str *s, uint32_t nwords, const char *marker, const char *marker2,
                       int crlf)
{
    const char *eol = crlf ? "\r\n" : "\n";
    for (uint32_t i = 0, n = between(r, 1, 6); i < n; i++) {
        if (i) puts_(s, " ");
        random_word(r, s);
    }
    puts_(s, eol);
    puts_(s, eol);
    uint32_t at = between(r, 0, nwords), at2 = between(r, 0, nwords);
    for (uint32_t i = 0; i <= nwords; i++) {
        if (i == at) {
            puts_(s, marker);
            puts_(s, " ");
        }
        if (marker2 && i == at2) {
            puts_(s, marker2);
            puts_(s, " ");
        }
        if (i < nwords) {
            random_word(r, s);
            random_gap(r, s, crlf);
        }
    }
    puts_(s, eol);
}

/* JSON string contents for s (quotes, backslashes and controls escaped). */
static void put_json_string(str *out, const char *s, size_t n)
{
    puts_(out, "\"");
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\')
            putf(out, "\\%c", c);
        else if (c < 0x20)
            putf(out, "\\u%04x", c);
        else
            put(out, &s[i], 1);
    }
    puts_(out, "\"");
}

/* ------------------------------------------------------------- the corpus */

/* Categories of indexed documents, each with its marker word (all contain
 * a digit, so random words never equal one). */
enum cat { C_VALID, C_CRLF, C_ASTRAL, C_REPAIRED, C_LONG, C_HUGE, C_JSON, C_OTHER, C_NCATS };
static const char *const cat_marker[C_NCATS] = {"mk7valid", "mk7crlf", "mk7astral", "mk7repair",
                                                "mk7long",  "mk7huge", "mk7json",   "mk7other"};

typedef struct corpus {
    char root[4096]; /* the input directory */
    size_t max_doc;  /* --max-doc-mb in bytes */
    int as_nobody;   /* the indexer runs as uid NOBODY */
    uint32_t files;  /* directory entries made that are not directories */
    uint32_t docs;   /* documents that must be indexed */
    uint32_t skipped, repaired;
    uint64_t long_tokens;
    uint32_t per_cat[C_NCATS];
    uint32_t at_limit_words; /* documents holding the 64-letter word */
    strlist ids;             /* ids that must be indexed */
    strlist warnings;        /* "warning: <where>: <why>" that must be printed */
} corpus;

static void path_of(const corpus *c, const char *rel, char *buf, size_t cap)
{
    cr_assert_eq(fs_join(buf, cap, c->root, rel), 0, "path too long: %s", rel);
}

static void write_rel(const corpus *c, const char *rel, const void *data, size_t len)
{
    char p[4096];
    path_of(c, rel, p, sizeof p);
    cr_assert_eq(fs_write_file(p, data, len), 0, "cannot write %s: %s", p, strerror(errno));
}

static void write_str(const corpus *c, const char *rel, const char *text)
{
    write_rel(c, rel, text, strlen(text));
}

/* A text file that must be indexed as document `rel` of category cat. */
static void expect_doc(corpus *c, const char *rel, enum cat cat)
{
    list_add(&c->ids, rel);
    c->docs++;
    c->per_cat[cat]++;
}

/* A warning that must name `rel` (line > 0: a JSONL line). */
__attribute__((format(printf, 4, 5))) static void
expect_warning(corpus *c, const char *rel, uint64_t line, const char *fmt, ...)
{
    char why[512], where[4096 + 600], p[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    path_of(c, rel, p, sizeof p);
    /* The whole line, except for a message ending in '(' (the parser's
     * own words follow). */
    const char *eol = why[0] && why[strlen(why) - 1] == '(' ? "" : "\n";
    if (line)
        snprintf(where, sizeof where, "warning: %s:%llu: %s%s", p, (unsigned long long)line, why,
                 eol);
    else
        snprintf(where, sizeof where, "warning: %s: %s%s", p, why, eol);
    list_add(&c->warnings, where);
}

static void expect_skip(corpus *c, const char *rel, uint64_t line, const char *why)
{
    expect_warning(c, rel, line, "%s", why);
    c->skipped++;
}

/* Plain valid documents (categories valid, crlf, astral). */
static void gen_valid(corpus *c, rng *r, const char *rel, enum cat cat)
{
    str s = {0};
    int crlf = cat == C_CRLF;
    if (cat == C_ASTRAL) {
        /* The marker in mathematical bold letters (NFKC folds them to
         * ASCII), and "zq9cafe" + U+0301 for the combining-mark query. */
        str bold = {0};
        for (const char *m = cat_marker[C_ASTRAL]; *m; m++)
            put_cp(&bold, *m >= 'a' && *m <= 'z' ? 0x1D41A + (uint32_t)(*m - 'a') : (uint32_t)*m);
        puts_(&bold, " zq9cafe\xCC\x81");
        random_doc(r, &s, between(r, 20, 400), bold.p, NULL, 0);
        str_free(&bold);
    } else {
        random_doc(r, &s, between(r, 20, 400), cat_marker[cat], NULL, crlf);
    }
    write_rel(c, rel, s.p, s.len);
    expect_doc(c, rel, cat);
    str_free(&s);
}

/* Valid text with 1..5 invalid sequences, each between blanks, each one
 * maximal ill-formed subpart (so one U+FFFD) by construction. */
static void gen_repaired(corpus *c, rng *r, const char *rel)
{
    static const char *const bad[] = {"\xFF", "\xE2\x82", "\xF0\x9F\x98", "\x80", "\xC3", "\xFE"};
    str s = {0};
    random_doc(r, &s, between(r, 50, 300), cat_marker[C_REPAIRED], NULL, 0);
    uint32_t n = between(r, 1, 5);
    for (uint32_t i = 0; i < n; i++) {
        puts_(&s, " ");
        puts_(&s, bad[between(r, 0, 5)]);
        puts_(&s, " ");
        random_word(r, &s);
    }
    write_rel(c, rel, s.p, s.len);
    expect_doc(c, rel, C_REPAIRED);
    expect_warning(c, rel, 0, "%u invalid UTF-8 sequences replaced", n);
    c->repaired++;
    str_free(&s);
}

/* Binary: random bytes with a NUL, bytes that are all ill-formed UTF-8, or
 * valid text with one NUL. */
static void gen_binary(corpus *c, rng *r, const char *rel, int kind)
{
    str s = {0};
    if (kind == 0) {
        for (uint32_t i = 0, n = between(r, 1, 5000); i < n; i++) {
            char b = (char)rnd(r);
            put(&s, &b, 1);
        }
        s.p[between(r, 0, (uint32_t)s.len - 1)] = '\0';
    } else if (kind == 1) {
        for (uint32_t i = 0, n = between(r, 1, 5000); i < n; i++) {
            /* continuation bytes and F8..FF never start a character */
            char b = (char)(rnd(r) % 4 ? between(r, 0x80, 0xBF) : between(r, 0xF8, 0xFF));
            put(&s, &b, 1);
        }
    } else {
        random_doc(r, &s, between(r, 10, 200), cat_marker[C_VALID], NULL, 0);
        s.p[between(r, 0, (uint32_t)s.len - 1)] = '\0';
    }
    write_rel(c, rel, s.p, s.len);
    expect_skip(c, rel, 0, "binary file, skipped");
    str_free(&s);
}

static void gen_empty(corpus *c, rng *r, const char *rel)
{
    static const char *const blanks[] = {
        "", " ", "\n\n\n", "\r\n\r\n", "\t \f\v", "\xEF\xBB\xBF", "\xEF\xBB\xBF\n  \r\n"};
    const char *b = blanks[between(r, 0, 6)];
    write_rel(c, rel, b, strlen(b));
    expect_skip(c, rel, 0, "empty document, skipped");
}

/* Long words: 1..4 over the limit (65 to 20,000 ASCII letters, or 65 to
 * 300 mathematical bold letters, which fold to one byte each), and maybe
 * the 64-letter word, which is at the limit and indexed. */
static void gen_long(corpus *c, rng *r, const char *rel, const char *at_limit)
{
    str s = {0};
    random_doc(r, &s, between(r, 10, 100), cat_marker[C_LONG], NULL, 0);
    uint32_t n = between(r, 1, 4);
    for (uint32_t i = 0; i < n; i++) {
        puts_(&s, " ");
        if (rnd(r) % 2) {
            for (uint32_t k = 0, len = between(r, TERM_MAX + 1, 20000); k < len; k++)
                put_cp(&s, 'a' + between(r, 0, 25));
        } else {
            for (uint32_t k = 0, len = between(r, TERM_MAX + 1, 300); k < len; k++)
                put_cp(&s, between(r, 0x1D41A, 0x1D433));
        }
        puts_(&s, " ");
        random_word(r, &s);
    }
    if (rnd(r) % 2) {
        puts_(&s, " ");
        puts_(&s, at_limit);
        c->at_limit_words++;
    }
    puts_(&s, "\n");
    write_rel(c, rel, s.p, s.len);
    expect_doc(c, rel, C_LONG);
    c->long_tokens += n;
    str_free(&s);
}

/* One line of `size` bytes of ASCII words with the marker at the end
 * (beyond what snippets scan), cut at a word boundary. */
static void huge_line(rng *r, str *s, size_t size, const char *marker)
{
    size_t end = size - strlen(marker) - 2;
    while (s->len < end) {
        char w[12];
        uint32_t n = between(r, 1, 10);
        for (uint32_t i = 0; i < n; i++) w[i] = (char)('a' + between(r, 0, 25));
        w[n] = ' ';
        put(s, w, n + 1 <= end - s->len ? n + 1 : end - s->len);
    }
    while (s->len < end) puts_(s, " ");
    puts_(s, " ");
    puts_(s, marker);
    puts_(s, "\n");
}

static void gen_huge(corpus *c, rng *r, const char *rel, size_t size, int indexed)
{
    str s = {0};
    huge_line(r, &s, size, cat_marker[C_HUGE]);
    cr_assert_eq(s.len, size);
    write_rel(c, rel, s.p, s.len);
    if (indexed) {
        expect_doc(c, rel, C_HUGE);
    } else {
        char why[256];
        snprintf(why, sizeof why, "larger than %zu bytes (file is %zu bytes), skipped", c->max_doc,
                 size);
        expect_skip(c, rel, 0, why);
    }
    str_free(&s);
}

/* A JSONL file of mixed lines. */
static void gen_jsonl(corpus *c, rng *r, const char *rel, uint32_t fileno, uint32_t *next_int_id)
{
    str s = {0}, t = {0};
    uint32_t nlines = between(r, 4, 20);
    char id[64];
    uint64_t line = 0;
    for (uint32_t l = 0; l < nlines; l++) {
        line++;
        snprintf(id, sizeof id, "j%u-%u", fileno, l);
        str_free(&t);
        random_doc(r, &t, between(r, 5, 60), cat_marker[C_JSON], NULL, 0);
        char *nl = strchr(t.p, '\n'); /* title: the first line */
        size_t title_len = (size_t)(nl - t.p);
        const char *text = nl + 1;
        size_t text_len = t.len - title_len - 1;
        int kind = (int)between(r, 0, 19);
        switch (kind) {
        case 0:
        case 1:
        case 2:
        case 3: /* good */
            puts_(&s, "{\"_id\": ");
            put_json_string(&s, id, strlen(id));
            puts_(&s, ", \"title\": ");
            put_json_string(&s, t.p, title_len);
            puts_(&s, ", \"text\": ");
            put_json_string(&s, text, text_len);
            puts_(&s, ", \"extra\": {\"a\": [1, 2.5, null, true]}}\n");
            list_add(&c->ids, id);
            c->docs++;
            c->per_cat[C_JSON]++;
            break;
        case 4: /* integer id; "_id" wins over "id" */
            snprintf(id, sizeof id, "%u", (*next_int_id)++);
            putf(&s, "{\"id\": \"ignored\", \"_id\": %s, \"text\": ", id);
            put_json_string(&s, text, text_len);
            puts_(&s, "}\r\n");
            list_add(&c->ids, id);
            c->docs++;
            c->per_cat[C_JSON]++;
            break;
        case 5: /* malformed */
            putf(&s, "{\"id\": \"%s\", \"text\": \"mk7json unterminated\n", id);
            expect_warning(c, rel, line, "malformed JSON (");
            c->skipped++;
            break;
        case 6: {
            static const char *const not_object[] = {"42", "[1, 2, 3]", "\"mk7json\"", "null",
                                                     "true"};
            putf(&s, "%s\n", not_object[between(r, 0, 4)]);
            expect_skip(c, rel, line, "not a JSON object, skipped");
            break;
        }
        case 7:
            puts_(&s, "{\"title\": \"no id\", \"text\": \"mk7json\"}\n");
            expect_skip(c, rel, line, "no \"_id\" or \"id\", skipped");
            break;
        case 8: { /* an id that is neither a string nor an integer */
            const char *key = rnd(r) % 2 ? "id" : "_id";
            putf(&s, "{\"%s\": %s, \"text\": \"mk7json\"}\n", key, key[0] == '_' ? "1.5" : "[1]");
            expect_warning(c, rel, line, "\"%s\" is not a string or integer, skipped", key);
            c->skipped++;
            break;
        }
        case 9:
            puts_(&s, "{\"id\": \"\", \"text\": \"mk7json\"}\n");
            expect_skip(c, rel, line, "empty \"id\", skipped");
            break;
        case 10:
            putf(&s, "{\"id\": \"%s\", \"title\": {\"a\": 1}, \"text\": \"mk7json\"}\n", id);
            expect_skip(c, rel, line, "\"title\" is not a string, skipped");
            break;
        case 11: /* a lone surrogate escape: repaired */
            putf(&s, "{\"id\": \"%s\", \"text\": \"mk7json \\ud83d lone\"}\n", id);
            list_add(&c->ids, id);
            c->docs++;
            c->per_cat[C_JSON]++;
            c->repaired++;
            expect_warning(c, rel, line, "1 invalid UTF-8 sequences replaced");
            break;
        case 12: /* raw invalid UTF-8 inside a string: repaired */
            putf(&s, "{\"id\": \"%s\", \"text\": \"mk7json bad \xC3 here\"}\n", id);
            list_add(&c->ids, id);
            c->docs++;
            c->per_cat[C_JSON]++;
            c->repaired++;
            expect_warning(c, rel, line, "1 invalid UTF-8 sequences replaced");
            break;
        case 13: /* a raw NUL byte */
            putf(&s, "{\"id\": \"%s\", \"text\": \"mk7json", id);
            put(&s, "\0", 1);
            puts_(&s, "\"}\n");
            expect_skip(c, rel, line, "binary data, skipped");
            break;
        case 14: /* nested beyond the parser's depth limit */
            for (int k = 0; k < 3000; k++) puts_(&s, "[");
            for (int k = 0; k < 3000; k++) puts_(&s, "]");
            puts_(&s, "\n");
            expect_warning(c, rel, line, "malformed JSON (");
            c->skipped++;
            break;
        case 15: /* nested 500 deep in an ignored member, "\u0000" in the text */
            putf(&s, "{\"_id\": \"%s\", \"deep\": ", id);
            for (int k = 0; k < 500; k++) puts_(&s, "{\"a\": [");
            for (int k = 0; k < 500; k++) puts_(&s, "]}");
            puts_(&s, ", \"text\": \"mk7json\\u0000after\", \"title\": null}\n");
            list_add(&c->ids, id);
            c->docs++;
            c->per_cat[C_JSON]++;
            break;
        case 16: /* blank: no warning */
            puts_(&s, rnd(r) % 2 ? "\n" : "  \t \r\n");
            break;
        case 17:
            putf(&s, "{\"id\": \"%s\", \"title\": \"\", \"text\": \" \\n \"}\n", id);
            expect_skip(c, rel, line, "empty document, skipped");
            break;
        default: /* good, last line without a newline */
            puts_(&s, "{\"id\": ");
            put_json_string(&s, id, strlen(id));
            puts_(&s, ", \"text\": ");
            put_json_string(&s, text, text_len);
            puts_(&s, "}");
            if (l + 1 < nlines) puts_(&s, "\n");
            list_add(&c->ids, id);
            c->docs++;
            c->per_cat[C_JSON]++;
            break;
        }
    }
    write_rel(c, rel, s.p, s.len);
    str_free(&s);
    str_free(&t);
}

/* JSONL lines over the limits: a line longer than 2 * max_doc + 64 KiB
 * (skipped as it streams past), a document over max_doc. */
static void gen_jsonl_limits(corpus *c, rng *r, const char *rel)
{
    str s = {0}, t = {0};
    puts_(&s, "{\"id\": \"limit-a\", \"text\": \"mk7json short\"}\n");
    list_add(&c->ids, "limit-a");
    c->docs++;
    c->per_cat[C_JSON]++;
    size_t max_line = 2 * c->max_doc + (64 << 10);
    puts_(&s, "{\"id\": \"limit-b\", \"text\": \"");
    huge_line(r, &t, max_line + 1000, "mk7json");
    put(&s, t.p, t.len - 1);
    puts_(&s, "\"}\n");
    expect_warning(c, rel, 2, "longer than %zu bytes, skipped", max_line);
    c->skipped++;
    str_free(&t);
    puts_(&s, "{\"id\": \"limit-c\", \"text\": \"");
    huge_line(r, &t, c->max_doc + 2, "mk7json"); /* text: max_doc + 1 bytes */
    put(&s, t.p, t.len - 1);
    puts_(&s, "\"}\n");
    expect_warning(c, rel, 3, "document larger than %zu bytes, skipped", c->max_doc);
    c->skipped++;
    puts_(&s, "{\"id\": \"limit-d\", \"text\": \"mk7json after the big ones\"}\n");
    list_add(&c->ids, "limit-d");
    c->docs++;
    c->per_cat[C_JSON]++;
    write_rel(c, rel, s.p, s.len);
    str_free(&s);
    str_free(&t);
}

static void make_subdir(corpus *c, const char *rel)
{
    char p[4096];
    path_of(c, rel, p, sizeof p);
    cr_assert_eq(mkdir(p, 0755), 0, "mkdir %s: %s", p, strerror(errno));
}

static void make_link(corpus *c, const char *target, const char *rel)
{
    char p[4096];
    path_of(c, rel, p, sizeof p);
    cr_assert_eq(symlink(target, p), 0, "symlink %s: %s", p, strerror(errno));
    c->files++;
}

/* Can uid NOBODY run bin/index from where it is? */
static int nobody_can_run(void)
{
    run_options o = RUN_OPTIONS_NONE;
    o.uid = o.gid = NOBODY;
    run_result r;
    const char *args[] = {"--version"};
    int ok = e2e_runv_opts(&r, TIMEOUT, &o, NULL, "index", args, 1) == 0 && r.exit_code == 0;
    run_result_free(&r);
    return ok;
}

static void generate(corpus *c, double scale)
{
    memset(c, 0, sizeof *c);
    cr_assert_eq(fs_join(c->root, sizeof c->root, g_tmp, "in"), 0);
    cr_assert_eq(mkdir(c->root, 0755), 0);
    c->max_doc = (scale >= 1.0 ? 4u : 1u) << 20;
    rng r = {UINT64_C(0x9E3779B97F4A7C15)};
    char rel[4096];
    char at_limit[TERM_MAX + 1];
    memset(at_limit, 'z', TERM_MAX - 1);
    at_limit[TERM_MAX - 1] = 'q';
    at_limit[TERM_MAX] = '\0';

    /* Subdirectories, one of them 100 levels deep with a document at the
     * bottom. */
    static const char *const subdirs[] = {"a", "b", "c", "json"};
    for (size_t i = 0; i < 4; i++) make_subdir(c, subdirs[i]);
    str deep = {0};
    puts_(&deep, "deep");
    make_subdir(c, deep.p);
    for (int i = 0; i < 100; i++) {
        puts_(&deep, "/d");
        make_subdir(c, deep.p);
    }
    puts_(&deep, "/bottom.txt");
    gen_valid(c, &r, deep.p, C_VALID);
    c->files++;
    str_free(&deep);

    /* Special entries. */
    make_link(c, ".", "a/cycle.md"); /* a link to a directory: not followed */
    make_link(c, "../b", "b/loop");  /* not a document name: ignored */
    make_link(c, "/nonexistent/target.txt", "b/dangling.txt");
    expect_skip(c, "b/dangling.txt", 0,
                "cannot follow symbolic link: No such file or directory, skipped");
    char fifo[4096];
    path_of(c, "c/pipe.txt", fifo, sizeof fifo);
    cr_assert_eq(mkfifo(fifo, 0644), 0, "mkfifo: %s", strerror(errno));
    c->files++; /* met in the walk and ignored: indexing must not block on it */
    /* A file name that is not UTF-8: its id is repaired, with a warning. */
    write_str(c, "c/name-\xFF\xFE.txt", "Title\n\nmk7other body\n");
    list_add(&c->ids, "c/name-\xEF\xBF\xBD\xEF\xBF\xBD.txt");
    c->docs++;
    c->per_cat[C_OTHER]++;
    expect_warning(c, "c/name-\xFF\xFE.txt", 0, "file name is not valid UTF-8: id %s",
                   "c/name-\xEF\xBF\xBD\xEF\xBF\xBD.txt");
    c->repaired++;
    c->files++;
    write_str(c, "c/with spaces and 'quotes'.md", "Spaces\n\nmk7other\n");
    expect_doc(c, "c/with spaces and 'quotes'.md", C_OTHER);
    c->files++;
    /* Other extensions: ignored without a word. */
    write_rel(c, "c/image.png", "\x89PNG\r\n\x1a\n\0\0", 10);
    write_str(c, "c/data.json", "{\"id\": 1}");
    write_str(c, "c/.hidden.txt", "Hidden\n\nmk7other\n");
    c->files += 3;
    if (geteuid() != 0 || nobody_can_run()) {
        c->as_nobody = geteuid() == 0;
        write_str(c, "c/secret.txt", "Secret\n\nmk7other\n");
        char p[4096];
        path_of(c, "c/secret.txt", p, sizeof p);
        cr_assert_eq(chmod(p, 0), 0);
        expect_skip(c, "c/secret.txt", 0, "cannot open: Permission denied, skipped");
        c->files++;
        make_subdir(c, "c/locked");
        write_str(c, "c/locked/inside.txt", "Inside\n\nmk7other\n");
        c->files++;
        path_of(c, "c/locked", p, sizeof p);
        cr_assert_eq(chmod(p, 0), 0);
        expect_skip(c, "c/locked", 0, "cannot open directory: Permission denied, skipped");
    } else {
        cr_log_info("running as root and uid %d cannot run %s/index: no unreadable files", NOBODY,
                    e2e_bin_dir());
    }

    /* Large documents: several MB on one line, exactly at the limit (kept)
     * and one byte over it (skipped). */
    gen_huge(c, &r, "b/huge-1.txt", c->max_doc / 2 + 12345, 1);
    gen_huge(c, &r, "b/huge-2.txt", c->max_doc * 3 / 4, 1);
    gen_huge(c, &r, "b/huge-at-limit.txt", c->max_doc, 1);
    gen_huge(c, &r, "b/huge-over-limit.txt", c->max_doc + 1, 0);
    gen_huge(c, &r, "b/huge-far-over.txt", c->max_doc * 5 / 4, 0);
    c->files += 5;
    gen_jsonl_limits(c, &r, "json/limits.jsonl");
    c->files++;

    uint32_t int_id = 5000000;
    for (uint32_t i = 0; i < 120; i++, c->files++) {
        snprintf(rel, sizeof rel, "json/part-%03u.jsonl", i);
        gen_jsonl(c, &r, rel, i, &int_id);
    }
    static const struct {
        const char *name;
        uint32_t n;
    } plan[] = {{"crlf", 60},     {"astral", 60},  {"repaired", 100}, {"bin-random", 80},
                {"bin-high", 40}, {"bin-nul", 40}, {"empty", 80},     {"long", 100}};
    for (size_t p = 0; p < sizeof plan / sizeof plan[0]; p++) {
        for (uint32_t i = 0; i < plan[p].n; i++, c->files++) {
            snprintf(rel, sizeof rel, "%s/%s-%03u.%s", subdirs[i % 3], plan[p].name, i,
                     i % 4 == 3 ? "md" : "txt");
            switch (p) {
            case 0:
                gen_valid(c, &r, rel, C_CRLF);
                break;
            case 1:
                gen_valid(c, &r, rel, C_ASTRAL);
                break;
            case 2:
                gen_repaired(c, &r, rel);
                break;
            case 3:
            case 4:
            case 5:
                gen_binary(c, &r, rel, (int)p - 3);
                break;
            case 6:
                gen_empty(c, &r, rel);
                break;
            default:
                gen_long(c, &r, rel, at_limit);
            }
        }
    }
    /* Valid documents up to NFILES entries. */
    for (uint32_t i = 0; c->files < NFILES; i++, c->files++) {
        snprintf(rel, sizeof rel, "%s/valid-%03u.%s", subdirs[i % 3], i, i % 2 ? "md" : "txt");
        gen_valid(c, &r, rel, C_VALID);
    }
    cr_assert_eq(c->files, NFILES);
}

static void corpus_free(corpus *c)
{
    list_free(&c->ids);
    list_free(&c->warnings);
}

/* ------------------------------------------------------------- checks */

static double hostile_scale(void)
{
    const char *s = getenv("SE_HOSTILE_SCALE");
    double v = s && *s ? strtod(s, NULL) : 1.0;
    return v > 0 ? v : 1.0;
}

/* Run bin/index on the corpus (as uid NOBODY when c->as_nobody). */
static void run_index(const corpus *c, const char *index, run_result *r)
{
    char mb[32];
    snprintf(mb, sizeof mb, "%zu", c->max_doc >> 20);
    const char *args[] = {"-i", index, "--max-doc-mb", mb, c->root};
    run_options o = RUN_OPTIONS_NONE;
    if (c->as_nobody) o.uid = o.gid = NOBODY;
    e2e_runv_opts(r, TIMEOUT, &o, NULL, "index", args, 5);
}

/* Number of lines of s starting with prefix. */
static size_t count_lines_with_prefix(const char *s, const char *prefix)
{
    size_t n = 0, k = strlen(prefix);
    for (const char *p = s; *p;) {
        if (strncmp(p, prefix, k) == 0) n++;
        const char *nl = strchr(p, '\n');
        if (!nl) break;
        p = nl + 1;
    }
    return n;
}

/* search --json with every hit (or none); returns the hits. */
static void search_all(const char *index, const char *query, int snippets, e2e_hits *h)
{
    run_result r;
    const char *args[] = {"-i",     index,           "--json", "--exhaustive", "-k",
                          "100000", "--no-snippets", "--",     query};
    const char *with[] = {"-i", index, "--json", "--exhaustive", "-k", "100000", "--", query};
    if (snippets)
        e2e_runv(&r, TIMEOUT, "search", with, 8);
    else
        e2e_runv(&r, TIMEOUT, "search", args, 9);
    char why[600];
    cr_assert_eq(e2e_parse_hits(r.out, snippets, h, why, sizeof why), 0, "search %s: %s", query,
                 why);
    EXPECT_EXIT(&r, h->n ? 0 : 1, query);
    run_result_free(&r);
}

Test(hostile, a_thousand_hostile_files)
{
    corpus c;
    generate(&c, hostile_scale());
    char index[4096];
    cr_assert_eq(fs_join(index, sizeof index, g_tmp, "index"), 0);
    if (c.as_nobody) cr_assert_eq(chmod(g_tmp, 0777), 0);

    /* 1. Index: exit 1 (warnings), no signal, every warning as expected. */
    run_result r;
    run_index(&c, index, &r);
    EXPECT_EXIT(&r, 1, "index the hostile corpus");
    for (size_t i = 0; i < c.warnings.n; i++)
        cr_assert(strstr(r.err, c.warnings.v[i]) != NULL,
                  "stderr does not say \"%s\"\n--- stderr (first 6000 bytes):\n%.6000s",
                  c.warnings.v[i], r.err);
    size_t nwarn = count_lines_with_prefix(r.err, "index: warning: ");
    cr_assert_eq(nwarn, c.warnings.n, "%zu warnings printed, %zu expected", nwarn, c.warnings.n);
    char want[512];
    snprintf(want, sizeof want, "index: %u added, 0 replaced, 0 deleted, 0 unchanged\n", c.docs);
    EXPECT_STDERR_HAS(&r, want, "the run's counts");
    snprintf(want, sizeof want,
             "index: %u input(s) skipped, %u repaired (invalid UTF-8), %llu over-long token(s) "
             "not indexed\n",
             c.skipped, c.repaired, (unsigned long long)c.long_tokens);
    EXPECT_STDERR_HAS(&r, want, "the run's summary of what was skipped");
    cr_assert(strstr(r.err, "index: error") == NULL, "an error in:\n%.4000s", r.err);
    run_result_free(&r);

    /* 2. --verify. */
    e2e_run(&r, TIMEOUT, "index", "-i", index, "--verify", NULL);
    EXPECT_EXIT(&r, 0, "index --verify");
    snprintf(want, sizeof want, "%u documents (0 deleted)", c.docs);
    cr_assert(strstr(r.out, ": ok: ") && strstr(r.out, want), "verify: %s", r.out);
    run_result_free(&r);

    /* 3. --list: exactly the expected ids. */
    e2e_run(&r, TIMEOUT, "index", "-i", index, "--list", NULL);
    EXPECT_EXIT(&r, 0, "index --list");
    strlist got = {0};
    for (char *p = r.out, *nl; *p; p = nl + 1) {
        nl = strchr(p, '\n');
        cr_assert_not_null(nl);
        *nl = '\0';
        list_add(&got, p);
    }
    run_result_free(&r);
    qsort(got.v, got.n, sizeof *got.v, cmp_str);
    qsort(c.ids.v, c.ids.n, sizeof *c.ids.v, cmp_str);
    for (size_t i = 0; i < got.n && i < c.ids.n; i++)
        cr_assert_str_eq(got.v[i], c.ids.v[i], "id %zu of the sorted lists", i);
    cr_assert_eq(got.n, c.ids.n, "%zu ids listed, %zu expected", got.n, c.ids.n);
    list_free(&got);

    /* 4. Searches: each category's marker finds exactly its documents. */
    size_t total = 0;
    for (int k = 0; k < C_NCATS; k++) {
        e2e_hits h;
        search_all(index, cat_marker[k], k == C_HUGE || k == C_REPAIRED, &h);
        cr_assert_eq(h.n, c.per_cat[k], "%s: %zu hits, %u documents hold it", cat_marker[k], h.n,
                     c.per_cat[k]);
        total += h.n;
        if (k == C_CRLF)
            for (size_t i = 0; i < h.n; i++)
                cr_assert(!strchr(h.hits[i].title, '\r'), "a CR in the title of %s", h.hits[i].id);
        e2e_hits_free(&h);
    }
    cr_assert_eq(total, c.docs, "the markers cover every document");
    e2e_hits h;
    /* The combining mark folds away: a precomposed query finds it. */
    search_all(index, "zq9caf\xC3\xA9", 0, &h);
    cr_assert_eq(h.n, c.per_cat[C_ASTRAL], "zq9café: %zu hits", h.n);
    e2e_hits_free(&h);
    /* Mathematical bold in the query folds like in the documents. */
    search_all(index,
               "\xF0\x9D\x90\xA6\xF0\x9D\x90\xA4"
               "7astral",
               0, &h);
    cr_assert_eq(h.n, c.per_cat[C_ASTRAL], "bold mk7astral: %zu hits", h.n);
    e2e_hits_free(&h);
    /* The 64-byte word is indexed; with one more letter it is not a term. */
    char word[TERM_MAX + 2];
    memset(word, 'z', TERM_MAX - 1);
    word[TERM_MAX - 1] = 'q';
    word[TERM_MAX] = '\0';
    search_all(index, word, 0, &h);
    cr_assert_eq(h.n, c.at_limit_words, "the 64-letter word: %zu hits", h.n);
    e2e_hits_free(&h);
    /* Hostile queries: whatever they find, no crash and a documented status. */
    static const char *const queries[] = {
        "\xFF\xFE\xC3", "\xF0\x9F\x98\x80 \xE2\x80\x94", "mk7json \xED\xA0\x80 \"mk7json",
        "((((mk7valid", "\xCC\x81\xCC\x81\xCC\x81",      "\"\" AND OR NOT -+"};
    for (size_t q = 0; q < sizeof queries / sizeof queries[0]; q++) {
        e2e_run(&r, TIMEOUT, "search", "-i", index, "--", queries[q], NULL);
        cr_assert(!r.signal && !r.timed_out && r.exit_code >= 0 && r.exit_code <= 2,
                  "query %zu: %s\n%s", q, run_describe(&r), r.err);
        run_result_free(&r);
    }

    /* 5. A second run finds every document unchanged. */
    run_index(&c, index, &r);
    EXPECT_EXIT(&r, 1, "index the hostile corpus again");
    snprintf(want, sizeof want, "index: 0 added, 0 replaced, 0 deleted, %u unchanged\n", c.docs);
    EXPECT_STDERR_HAS(&r, want, "the second run");
    run_result_free(&r);

    printf("hostile: %u files: %u documents indexed, %u inputs skipped, %u repaired, %llu "
           "over-long tokens\n",
           c.files, c.docs, c.skipped, c.repaired, (unsigned long long)c.long_tokens);
    corpus_free(&c);
}
