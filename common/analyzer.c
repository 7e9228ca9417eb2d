/*
 * analyzer.c - tokenising, folding and stemming text (see analyzer.h).
 *
 * How it works.  analyzer_next scans the input once, left to right:
 *
 *  1. Separators are skipped.  ASCII bytes are classified by a 256-entry
 *     table that also gives the folded (lower-cased) byte of every ASCII
 *     letter and digit, so plain English text never reaches utf8proc.  Other
 *     bytes go through a strict UTF-8 decoder written here: an invalid or
 *     truncated sequence is consumed as its "maximal subpart" (the longest
 *     prefix that could still have become valid, at least one byte), counted
 *     once in stats.invalid_utf8 and treated as a separator, so it never
 *     swallows the first byte of the next valid character.
 *  2. A token is a maximal run of letters, digits and (inside a token)
 *     combining marks; an apostrophe variant with a letter on both sides is
 *     kept as U+0027.  Han, kana and Hangul letters are one token each.
 *     While scanning, every character is folded straight into a fixed buffer
 *     of ANALYZER_MAX_TERM_BYTES bytes: ASCII through the table, the rest
 *     with utf8proc_decompose_char (case fold + compatibility decomposition +
 *     mark stripping), keeping only the letters and digits it produces.  Once
 *     a token outgrows the buffer, folding stops and the rest of the token is
 *     only scanned; the token is then skipped but still takes a position.
 *     Because over-long tokens are discarded, no buffer ever has to grow
 *     while tokenising: there is no allocation per token.
 *  3. The folded token is stemmed with Snowball English.  A direct-mapped
 *     cache of STEM_CACHE_SIZE 64-byte entries, indexed by a hash of the
 *     folded token, sits in front of libstemmer; an entry stores the whole
 *     key and is used only when the key matches byte for byte, so it can
 *     never return another word's stem.  Words longer than STEM_CACHE_KEY
 *     bytes (or with stems longer than STEM_CACHE_STEM) bypass the cache.
 *     Han/kana/Hangul tokens are not stemmed.
 *     Tokens are scanned and folded ANALYZER_QUEUE at a time into a small
 *     queue, prefetching each one's cache entry, and then stemmed one per
 *     analyzer_next: the cache is larger than the CPU's, and looking each
 *     word up right after folding it waited for one miss after another.
 *     Counters of skipped and invalid input therefore run up to
 *     ANALYZER_QUEUE tokens ahead of the tokens returned; at the end of the
 *     text they are exact.
 *  4. A token that would take position ANALYZER_MAX_POSITIONS or later ends
 *     the text (the check comes after the token is scanned, so a text is
 *     counted as cut only when a token really is past the limit).
 *
 * Settings (analyzer.h): with ANALYZER_STOPWORDS a folded token found in
 * stop_words[] (binary search; only tokens of at most STOP_MAX_BYTES
 * bytes are looked up) is dropped before stemming but keeps its position;
 * ANALYZER_PORTER picks the libstemmer algorithm.  The defaults cost one
 * well-predicted test per token.
 *
 * Hangul syllables are kept as they are (canonical decomposition would turn
 * each into two or three conjoining jamo).  Nothing here prints or exits.
 */
#include "common/analyzer.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <libstemmer.h>
#include <utf8proc.h>

#include "common/status.h"

#define FOLD_OPTIONS (UTF8PROC_CASEFOLD | UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT | UTF8PROC_STRIPMARK)
#define FOLD_MAX_CPS 32 /* longest single-character decomposition is 18 */

#define STEM_CACHE_BITS  15 /* 32768 entries, 2 MiB */
#define STEM_CACHE_SIZE  (1u << STEM_CACHE_BITS)
#define STEM_CACHE_WORDS 4
#define STEM_CACHE_KEY   (8 * STEM_CACHE_WORDS) /* longest folded word the cache holds */
#define STEM_CACHE_STEM  29                     /* longest stem it holds */
#define ANALYZER_QUEUE   16                     /* tokens scanned ahead of stemming */

/* Character classes. */
enum { K_SEP, K_LETTER, K_DIGIT, K_MARK, K_APOS, K_CJK };

/* Values of analyzer.ascii[]: 0 = ASCII separator, 1 = byte >= 0x80 (decode
 * it), anything else = the folded byte of an ASCII letter or digit. */
#define A_SEP      0
#define A_NONASCII 1

/* The key is the folded word padded with NUL bytes to whole 64-bit words, so
 * it is hashed and compared a word at a time; a token never contains NUL, so
 * equal padded words and equal lengths mean equal keys. */
typedef struct stem_entry {
    uint64_t key[STEM_CACHE_WORDS];
    char stem[STEM_CACHE_STEM + 1]; /* NUL-terminated */
    uint8_t key_len;                /* 0 = empty slot */
    uint8_t stem_len;
} stem_entry;

_Static_assert(sizeof(stem_entry) == 64, "a stem cache entry should fill one cache line");

/* Stop words (ANALYZER_STOPWORDS), sorted by byte value: the closed-class
 * words (articles, pronouns, prepositions, conjunctions, forms of "be" and
 * "have", "not") among the 50 words found in the most paragraphs of the
 * English Wikipedia sample in ../shared/data/enwiki-2018-newpages (277,345
 * paragraphs; "the" is in 53 percent of them, "have", the 47th, in 3.6).
 * Numbers and open-class words of that top 50 ("also", "first", "new",
 * "born", "time", ...) are not stop words. */
#define STOP_MAX_BYTES 6
static const char *const stop_words[] = {
    "a",   "after",  "an",   "and",  "are", "as",  "at",   "be",    "been", "but",
    "by",  "during", "for",  "from", "had", "has", "have", "he",    "her",  "his",
    "in",  "is",     "it",   "its",  "not", "of",  "on",   "or",    "she",  "that",
    "the", "their",  "they", "this", "to",  "was", "were", "which", "who",  "with"};

/* A scanned and folded token waiting to be stemmed. */
typedef struct queued_token {
    char fold[ANALYZER_MAX_TERM_BYTES + 1];
    uint8_t len;
    uint8_t cjk;
    uint32_t position;
    size_t start, end;
} queued_token;

struct analyzer {
    struct sb_stemmer *stemmer;
    uint32_t settings;
    const unsigned char *text;
    size_t len;
    size_t pos;             /* scanning: next byte */
    uint32_t position;      /* scanning: position of the next token scanned */
    uint32_t next_position; /* position after the last token returned */
    int finished;           /* analyzer_next has returned 0 */
    queued_token queue[ANALYZER_QUEUE];
    size_t qhead, qlen;
    analyzer_stats stats;
    stem_entry *cache;
    char *out; /* stem copies that do not live in the cache */
    size_t out_cap;
    char fold[ANALYZER_MAX_TERM_BYTES + 1];
    uint8_t ascii[256];
};

static const struct {
    const char *name;
    uint32_t settings;
} setting_names[] = {
    {"english", ANALYZER_DEFAULT},
    {"english-stop", ANALYZER_STOPWORDS},
    {"porter", ANALYZER_PORTER},
    {"porter-stop", ANALYZER_PORTER | ANALYZER_STOPWORDS},
};

int analyzer_settings_parse(const char *name, uint32_t *settings)
{
    for (size_t i = 0; i < sizeof setting_names / sizeof setting_names[0]; i++)
        if (strcmp(name, setting_names[i].name) == 0) {
            *settings = setting_names[i].settings;
            return SE_OK;
        }
    return SE_INVALID;
}

const char *analyzer_settings_name(uint32_t settings)
{
    for (size_t i = 0; i < sizeof setting_names / sizeof setting_names[0]; i++)
        if (setting_names[i].settings == settings) return setting_names[i].name;
    return NULL;
}

static int is_stop_word(const char *w, size_t n)
{
    if (n > STOP_MAX_BYTES) return 0;
    size_t lo = 0, hi = sizeof stop_words / sizeof stop_words[0];
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strncmp(stop_words[mid], w, n);
        if (c == 0) {
            if (stop_words[mid][n] == '\0') return 1;
            c = 1; /* a longer word with w as its prefix sorts after w */
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

int analyzer_new(analyzer **out)
{
    return analyzer_new_with(out, ANALYZER_DEFAULT);
}

int analyzer_new_with(analyzer **out, uint32_t settings)
{
    *out = NULL;
    if (settings & ~ANALYZER_KNOWN) return SE_INVALID;
    analyzer *a = calloc(1, sizeof *a);
    if (!a) return SE_NOMEM;
    a->cache = aligned_alloc(64, STEM_CACHE_SIZE * sizeof(stem_entry));
    a->out_cap = 2 * (ANALYZER_MAX_TERM_BYTES + 1);
    a->out = malloc(a->out_cap);
    if (!a->cache || !a->out) {
        analyzer_free(a);
        return SE_NOMEM;
    }
    memset(a->cache, 0, STEM_CACHE_SIZE * sizeof(stem_entry));
    a->settings = settings;
    const char *algorithm = settings & ANALYZER_PORTER ? "porter" : "english";
    a->stemmer = sb_stemmer_new(algorithm, "UTF_8");
    if (!a->stemmer) {
        /* libstemmer returns NULL both for "no such algorithm" and for out of
         * memory; its list of algorithms tells the two apart. */
        int have_english = 0;
        for (const char **name = sb_stemmer_list(); name && *name; name++)
            if (strcmp(*name, algorithm) == 0) have_english = 1;
        analyzer_free(a);
        return have_english ? SE_NOMEM : SE_INVALID;
    }
    for (int c = 0; c < 256; c++) {
        uint8_t v = A_SEP;
        if (c >= 0x80)
            v = A_NONASCII;
        else if (c >= 'a' && c <= 'z')
            v = (uint8_t)c;
        else if (c >= 'A' && c <= 'Z')
            v = (uint8_t)(c - 'A' + 'a');
        else if (c >= '0' && c <= '9')
            v = (uint8_t)c;
        a->ascii[c] = v;
    }
    *out = a;
    return SE_OK;
}

void analyzer_free(analyzer *a)
{
    if (!a) return;
    sb_stemmer_delete(a->stemmer);
    free(a->cache);
    free(a->out);
    free(a);
}

void analyzer_reset(analyzer *a, const char *text, size_t len, uint32_t first_position)
{
    a->text = (const unsigned char *)text;
    a->len = text ? len : 0;
    a->pos = 0;
    a->position = first_position;
    a->next_position = first_position;
    a->finished = 0;
    a->qhead = a->qlen = 0;
}

uint32_t analyzer_position(const analyzer *a)
{
    /* At the end, tokens skipped after the last one returned count too. */
    return a->finished ? a->position : a->next_position;
}

analyzer_stats analyzer_get_stats(const analyzer *a)
{
    return a->stats;
}

/* Decode one character at s[0..avail) (avail >= 1).  Returns the number of
 * bytes consumed and sets *cp to the code point, or to -1 when the bytes are
 * not valid UTF-8; then the count covers the maximal subpart of the bad
 * sequence (1..3 bytes) and stops before the first byte that cannot continue
 * it, which may start the next valid character. */
static inline size_t decode(const unsigned char *s, size_t avail, int32_t *cp)
{
    unsigned c0 = s[0];
    if (c0 < 0x80) {
        *cp = (int32_t)c0;
        return 1;
    }
    *cp = -1;
    if (c0 < 0xC2 || c0 > 0xF4) return 1; /* continuation, overlong lead, > U+10FFFF */
    size_t need;
    unsigned lo = 0x80, hi = 0xBF;
    uint32_t v;
    if (c0 < 0xE0) {
        need = 1;
        v = c0 & 0x1F;
    } else if (c0 < 0xF0) {
        need = 2;
        v = c0 & 0x0F;
        if (c0 == 0xE0)
            lo = 0xA0; /* overlong */
        else if (c0 == 0xED)
            hi = 0x9F; /* surrogates */
    } else {
        need = 3;
        v = c0 & 0x07;
        if (c0 == 0xF0)
            lo = 0x90; /* overlong */
        else if (c0 == 0xF4)
            hi = 0x8F; /* > U+10FFFF */
    }
    for (size_t i = 1; i <= need; i++) {
        if (i >= avail) return i;
        unsigned c = s[i];
        if (c < lo || c > hi) return i;
        lo = 0x80;
        hi = 0xBF;
        v = (v << 6) | (c & 0x3F);
    }
    *cp = (int32_t)v;
    return need + 1;
}

/* Letters and digits of the scripts that are indexed one character at a
 * time: Han, Hiragana, Katakana, Hangul. */
static int is_cjk(int32_t cp)
{
    if (cp < 0x1100) return 0;
    return (cp <= 0x11FF) ||                   /* Hangul Jamo */
           (cp >= 0x2E80 && cp <= 0x2FDF) ||   /* CJK and Kangxi radicals */
           (cp >= 0x3005 && cp <= 0x3007) ||   /* 々 〆 〇 */
           (cp >= 0x3021 && cp <= 0x3029) ||   /* Hangzhou numerals */
           (cp >= 0x3031 && cp <= 0x3035) ||   /* kana repeat marks */
           (cp >= 0x3038 && cp <= 0x303C) ||   /* more Han numerals and marks */
           (cp >= 0x3040 && cp <= 0x30FF) ||   /* Hiragana, Katakana */
           (cp >= 0x3130 && cp <= 0x318F) ||   /* Hangul compatibility jamo */
           (cp >= 0x31F0 && cp <= 0x31FF) ||   /* Katakana phonetic extensions */
           (cp >= 0x3400 && cp <= 0x4DBF) ||   /* CJK extension A */
           (cp >= 0x4E00 && cp <= 0x9FFF) ||   /* CJK unified ideographs */
           (cp >= 0xA960 && cp <= 0xA97F) ||   /* Hangul Jamo extended A */
           (cp >= 0xAC00 && cp <= 0xD7FF) ||   /* Hangul syllables, jamo ext. B */
           (cp >= 0xF900 && cp <= 0xFAFF) ||   /* CJK compatibility ideographs */
           (cp >= 0xFF66 && cp <= 0xFFDC) ||   /* halfwidth Katakana and Hangul */
           (cp >= 0x1AFF0 && cp <= 0x1B16F) || /* kana supplement and extensions */
           (cp >= 0x20000 && cp <= 0x3FFFF);   /* CJK extensions B.. */
}

/* Class of a non-ASCII code point. */
static int classify(int32_t cp)
{
    if (cp == 0x2019 || cp == 0x2018 || cp == 0x02BC || cp == 0xFF07) return K_APOS;
    switch (utf8proc_category(cp)) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
        return is_cjk(cp) ? K_CJK : K_LETTER;
    case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL:
    case UTF8PROC_CATEGORY_NO:
        return is_cjk(cp) ? K_CJK : K_DIGIT;
    case UTF8PROC_CATEGORY_MN:
    case UTF8PROC_CATEGORY_MC:
    case UTF8PROC_CATEGORY_ME:
        return K_MARK;
    default:
        return K_SEP;
    }
}

static int is_letter_or_digit(int32_t cp)
{
    utf8proc_category_t c = utf8proc_category(cp);
    return (c >= UTF8PROC_CATEGORY_LU && c <= UTF8PROC_CATEGORY_LO) ||
           (c >= UTF8PROC_CATEGORY_ND && c <= UTF8PROC_CATEGORY_NO);
}

/* Folding state of the token being scanned. */
typedef struct fold_state {
    size_t len;
    int too_long;
} fold_state;

static void fold_put(analyzer *a, fold_state *f, int32_t cp)
{
    unsigned char enc[4];
    size_t n;
    if (cp < 0x80) {
        enc[0] = (unsigned char)cp;
        n = 1;
    } else if (cp < 0x800) {
        enc[0] = (unsigned char)(0xC0 | (cp >> 6));
        enc[1] = (unsigned char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        enc[0] = (unsigned char)(0xE0 | (cp >> 12));
        enc[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        enc[2] = (unsigned char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        enc[0] = (unsigned char)(0xF0 | (cp >> 18));
        enc[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
        enc[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        enc[3] = (unsigned char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    if (f->len + n > ANALYZER_MAX_TERM_BYTES) {
        f->too_long = 1;
        return;
    }
    memcpy(a->fold + f->len, enc, n);
    f->len += n;
}

/* Append the folded form of a non-ASCII letter, digit or mark. */
static void fold_char(analyzer *a, fold_state *f, int32_t cp)
{
    if (f->too_long) return;
    if (cp >= 0xAC00 && cp <= 0xD7A3) { /* Hangul syllable: already folded */
        fold_put(a, f, cp);
        return;
    }
    utf8proc_int32_t buf[FOLD_MAX_CPS];
    int boundclass = 0;
    utf8proc_ssize_t n = utf8proc_decompose_char(cp, buf, FOLD_MAX_CPS, FOLD_OPTIONS, &boundclass);
    if (n < 0 || n > FOLD_MAX_CPS) return;
    for (utf8proc_ssize_t i = 0; i < n; i++) {
        /* Keep letters and digits only: ⑴ -> "1", not "(1)". */
        if (buf[i] >= 0 && buf[i] < 0x80) {
            if (a->ascii[buf[i]] > A_NONASCII) fold_put(a, f, a->ascii[buf[i]]);
        } else if (is_letter_or_digit(buf[i])) {
            fold_put(a, f, buf[i]);
        }
    }
}

/* Is the character at p a letter that can continue a word (not Han etc.)? */
static int letter_at(const analyzer *a, size_t p)
{
    if (p >= a->len) return 0;
    uint8_t t = a->ascii[a->text[p]];
    if (t != A_NONASCII) return t >= 'a';
    int32_t cp;
    decode(a->text + p, a->len - p, &cp);
    return cp >= 0 && classify(cp) == K_LETTER;
}

/* Multiplicative hash of a padded key, reduced to a cache slot. */
static inline uint32_t slot_of(const uint64_t *key, size_t words, size_t len)
{
    uint64_t h = len;
    for (size_t i = 0; i < words; i++) h = (h ^ key[i]) * 0x9E3779B97F4A7C15ull;
    return (uint32_t)(h >> (64 - STEM_CACHE_BITS));
}

/* Make a->out hold at least `need` bytes.  Returns 0 on allocation failure. */
static int reserve_out(analyzer *a, size_t need)
{
    if (need <= a->out_cap) return 1;
    size_t cap = a->out_cap;
    while (cap < need) {
        if (cap > SIZE_MAX / 2) return 0;
        cap *= 2;
    }
    char *p = realloc(a->out, cap);
    if (!p) return 0;
    a->out = p;
    a->out_cap = cap;
    return 1;
}

/* Stem w[0..n) (n >= 1, n <= INT_MAX) through the cache.  Returns 0 on
 * allocation failure. */
static int stem(analyzer *a, const char *w, size_t n, const char **out, size_t *out_len)
{
    stem_entry *e = NULL;
    uint64_t key[STEM_CACHE_WORDS];
    if (n <= STEM_CACHE_KEY) {
        size_t words = (n + 7) / 8;
        key[words - 1] = 0;
        memcpy(key, w, n);
        e = &a->cache[slot_of(key, words, n)];
        if (e->key_len == n) {
            uint64_t diff = 0;
            for (size_t i = 0; i < words; i++) diff |= e->key[i] ^ key[i];
            if (diff == 0) {
                *out = e->stem;
                *out_len = e->stem_len;
                return 1;
            }
        }
    }
    const sb_symbol *r = sb_stemmer_stem(a->stemmer, (const sb_symbol *)w, (int)n);
    if (!r) return 0;
    int rl = sb_stemmer_length(a->stemmer);
    if (rl < 0) return 0;
    size_t len = (size_t)rl;
    if (e && len <= STEM_CACHE_STEM) {
        memcpy(e->key, key, (n + 7) / 8 * sizeof *key);
        e->key_len = (uint8_t)n;
        memcpy(e->stem, r, len);
        e->stem[len] = '\0';
        e->stem_len = (uint8_t)len;
        *out = e->stem;
        *out_len = len;
        return 1;
    }
    if (!reserve_out(a, len + 1)) return 0;
    memcpy(a->out, r, len);
    a->out[len] = '\0';
    *out = a->out;
    *out_len = len;
    return 1;
}

const char *analyzer_stem(analyzer *a, const char *word, size_t len, size_t *out_len)
{
    if (len > INT_MAX) return NULL; /* libstemmer takes an int */
    if (len == 0) {
        a->out[0] = '\0';
        if (out_len) *out_len = 0;
        return a->out;
    }
    /* The word may be a term this analyzer returned earlier (a cache entry's
     * stem, a->out or a->fold): stem() is done reading it before it writes
     * to any of them. */
    const char *res;
    size_t n;
    if (!stem(a, word, len, &res, &n)) return NULL;
    if (out_len) *out_len = n;
    return res;
}

/* Scan the next token (separators skipped, folded, over-long ones skipped
 * and counted) into *q: 1, or 0 at the end of the text. */
static int scan_token(analyzer *a, queued_token *q)
{
    const unsigned char *s = a->text;
    const size_t len = a->len;
    size_t p = a->pos;
    for (;;) {
        /* Skip separators up to the first character of a token. */
        int32_t cp = 0;
        size_t n = 0;
        int kind = K_SEP;
        for (;;) {
            if (p >= len) {
                a->pos = p;
                return 0;
            }
            uint8_t t = a->ascii[s[p]];
            if (t > A_NONASCII) {
                kind = K_LETTER;
                break;
            }
            if (t == A_SEP) {
                p++;
                continue;
            }
            n = decode(s + p, len - p, &cp);
            if (cp < 0) {
                a->stats.invalid_utf8++;
                p += n;
                continue;
            }
            kind = classify(cp);
            if (kind == K_LETTER || kind == K_DIGIT || kind == K_CJK) break;
            p += n;
        }

        const size_t start = p;
        fold_state f = {0, 0};
        int cjk = kind == K_CJK;
        if (cjk) {
            /* One character, plus any combining marks that follow it. */
            fold_char(a, &f, cp);
            p += n;
            while (p < len && a->ascii[s[p]] == A_NONASCII) {
                n = decode(s + p, len - p, &cp);
                if (cp < 0 || classify(cp) != K_MARK) break;
                fold_char(a, &f, cp);
                p += n;
            }
        } else {
            int prev_letter = 0;
            while (p < len) {
                uint8_t t = a->ascii[s[p]];
                if (t > A_NONASCII) { /* ASCII letter or digit */
                    if (f.len < ANALYZER_MAX_TERM_BYTES)
                        a->fold[f.len++] = (char)t;
                    else
                        f.too_long = 1;
                    prev_letter = t >= 'a';
                    p++;
                    continue;
                }
                if (t == A_SEP) {
                    if (s[p] != '\'') break;
                    n = 1;
                    kind = K_APOS;
                } else {
                    n = decode(s + p, len - p, &cp);
                    if (cp < 0) break;
                    kind = classify(cp);
                }
                if (kind == K_APOS) {
                    if (!prev_letter || !letter_at(a, p + n)) break;
                    if (f.len < ANALYZER_MAX_TERM_BYTES)
                        a->fold[f.len++] = '\'';
                    else
                        f.too_long = 1;
                    prev_letter = 0;
                } else if (kind == K_LETTER || kind == K_DIGIT) {
                    fold_char(a, &f, cp);
                    prev_letter = kind == K_LETTER;
                } else if (kind == K_MARK) {
                    fold_char(a, &f, cp); /* prev_letter: the mark's base decides */
                } else {
                    break; /* separator or a Han/kana/Hangul character */
                }
                p += n;
            }
        }

        if (f.len == 0 && !f.too_long) continue; /* folded to nothing (a lone sound mark) */
        if (a->position >= ANALYZER_MAX_POSITIONS) {
            /* A token past the last position: the rest of the text is cut. */
            a->stats.cut_texts++;
            a->pos = len;
            return 0;
        }
        if (f.too_long) {
            a->stats.skipped_long++;
            a->position++;
            continue;
        }
        memcpy(q->fold, a->fold, f.len);
        q->fold[f.len] = '\0';
        q->len = (uint8_t)f.len;
        q->cjk = (uint8_t)cjk;
        q->position = a->position++;
        q->start = start;
        q->end = p;
        a->pos = p;
        return 1;
    }
}

int analyzer_next(analyzer *a, analyzer_token *tok)
{
    for (;;) {
        if (a->qhead == a->qlen) {
            a->qhead = a->qlen = 0;
            while (a->qlen < ANALYZER_QUEUE && scan_token(a, &a->queue[a->qlen])) {
                const queued_token *q = &a->queue[a->qlen++];
                if (!q->cjk && q->len <= STEM_CACHE_KEY) {
                    uint64_t key[STEM_CACHE_WORDS];
                    size_t words = ((size_t)q->len + 7) / 8;
                    key[words - 1] = 0;
                    memcpy(key, q->fold, q->len);
                    __builtin_prefetch(&a->cache[slot_of(key, words, q->len)]);
                }
            }
            if (a->qlen == 0) {
                a->finished = 1;
                return 0;
            }
        }
        const queued_token *q = &a->queue[a->qhead++];
        const char *term = q->fold;
        size_t term_len = q->len;
        /* Out of memory in libstemmer drops the token (its position stays
         * taken), as does a stem outside the term length limits. */
        if ((a->settings & ANALYZER_STOPWORDS) && !q->cjk && is_stop_word(q->fold, q->len))
            continue; /* a stop word: its position stays taken */
        if (!q->cjk && !stem(a, q->fold, q->len, &term, &term_len)) continue;
        if (term_len == 0 || term_len > ANALYZER_MAX_TERM_BYTES) continue;
        tok->term = term;
        tok->term_len = term_len;
        tok->position = q->position;
        tok->start = q->start;
        tok->end = q->end;
        a->next_position = q->position + 1;
        a->stats.tokens++;
        return 1;
    }
}
