/*
 * docgen.c - synthetic documents, the expected-state model and reading an
 * index back (docgen.h).
 *
 * The text of document (n, v) comes from a splitmix64 stream seeded with n
 * and v, so regenerating it for a comparison needs no stored copy.  Word i
 * of the vocabulary is made of 2-4 consonant-vowel syllables chosen by a
 * hash of i; words are drawn as index = VOCAB * u^3 for uniform u, which
 * puts a handful of words into most documents.
 */
#include "tests/support/docgen.h"

#include <stdlib.h>
#include <string.h>

#include "common/index.h"
#include "common/segment.h"

#define VOCAB     4096
#define WORD_MAX  16
#define MIN_WORDS 40
#define MAX_WORDS 160

static char vocab[VOCAB][WORD_MAX];
static int vocab_ready;

static uint64_t mix(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static void build_vocab(void)
{
    /* No 'q': no vocabulary word can be DOCGEN_COMMON_WORD. */
    static const char cons[] = "bdfgklmnprstvz", vow[] = "aeiou";
    for (uint32_t i = 0; i < VOCAB; i++) {
        uint64_t st = 0xD06E11ull * (i + 1);
        uint64_t h = mix(&st);
        int syl = 2 + (int)(h % 3);
        char *w = vocab[i];
        int len = 0;
        for (int k = 0; k < syl; k++) {
            h = mix(&st);
            w[len++] = cons[h % (sizeof cons - 1)];
            w[len++] = vow[(h >> 8) % (sizeof vow - 1)];
        }
        w[len] = 0;
    }
    vocab_ready = 1;
}

static const char *draw_word(uint64_t *st)
{
    double u = (double)(mix(st) >> 11) / 9007199254740992.0;
    uint32_t i = (uint32_t)(VOCAB * u * u * u);
    return vocab[i < VOCAB ? i : VOCAB - 1];
}

int docgen_make(docgen_doc *d, uint32_t n, uint32_t v)
{
    if (!vocab_ready) build_vocab();
    d->text = NULL;
    uint64_t st = ((uint64_t)n << 32) ^ (uint64_t)v ^ 0x5EEDF00Dull;
    snprintf(d->id, sizeof d->id, "doc%06u", n);
    const char *w1 = draw_word(&st);
    const char *w2 = draw_word(&st);
    snprintf(d->title, sizeof d->title, "Document %u version %u %s %s", n, v, w1, w2);
    uint32_t words = MIN_WORDS + (uint32_t)(mix(&st) % (MAX_WORDS - MIN_WORDS + 1));
    size_t cap = strlen(DOCGEN_COMMON_WORD) + (size_t)words * WORD_MAX + 1;
    char *t = malloc(cap);
    if (!t) return -1;
    size_t len = (size_t)snprintf(t, cap, "%s", DOCGEN_COMMON_WORD);
    for (uint32_t i = 0; i < words; i++) {
        const char *w = draw_word(&st);
        t[len++] = ' ';
        size_t wl = strlen(w);
        memcpy(t + len, w, wl);
        len += wl;
    }
    t[len] = 0;
    d->text = t;
    return 0;
}

void docgen_doc_free(docgen_doc *d)
{
    free(d->text);
    d->text = NULL;
}

int docgen_write_jsonl(FILE *f, uint32_t n, uint32_t v)
{
    docgen_doc d;
    if (docgen_make(&d, n, v) != 0) return -1;
    /* Ids, titles and texts are letters, digits and spaces: nothing to
     * escape. */
    int rc = fprintf(f, "{\"id\": \"%s\", \"title\": \"%s\", \"text\": \"%s\"}\n", d.id, d.title,
                     d.text) < 0
                 ? -1
                 : 0;
    docgen_doc_free(&d);
    return rc;
}

int docgen_parse_id(const char *id, size_t len, uint32_t *n)
{
    if (len != 9 || memcmp(id, "doc", 3) != 0) return -1;
    uint32_t v = 0;
    for (size_t i = 3; i < len; i++) {
        if (id[i] < '0' || id[i] > '9') return -1;
        v = v * 10 + (uint32_t)(id[i] - '0');
    }
    *n = v;
    return 0;
}

int docset_init(docset *s, uint32_t nids)
{
    s->nids = nids;
    s->version = calloc(nids ? nids : 1, sizeof *s->version);
    return s->version ? 0 : -1;
}

int docset_copy(docset *dst, const docset *src)
{
    if (docset_init(dst, src->nids) != 0) return -1;
    memcpy(dst->version, src->version, (size_t)src->nids * sizeof *src->version);
    return 0;
}

void docset_free(docset *s)
{
    free(s->version);
    s->version = NULL;
    s->nids = 0;
}

uint32_t docset_count(const docset *s)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < s->nids; i++) n += s->version[i] != 0;
    return n;
}

int docset_equal(const docset *a, const docset *b)
{
    return a->nids == b->nids &&
           memcmp(a->version, b->version, (size_t)a->nids * sizeof *a->version) == 0;
}

void docset_diff(const docset *a, const docset *b, char *buf, size_t cap)
{
    size_t used = 0;
    int shown = 0, total = 0;
    buf[0] = 0;
    uint32_t n = a->nids < b->nids ? a->nids : b->nids;
    for (uint32_t i = 0; i < n; i++) {
        if (a->version[i] == b->version[i]) continue;
        total++;
        if (shown < 8 && used < cap) {
            int w = snprintf(buf + used, cap - used, "%sdoc%06u: v%u vs v%u", shown ? ", " : "", i,
                             a->version[i], b->version[i]);
            if (w > 0) used += (size_t)w;
            shown++;
        }
    }
    if (used < cap)
        snprintf(buf + used, cap - used, " (%d difference(s), %u vs %u documents)", total,
                 docset_count(a), docset_count(b));
}

/* Check one stored document against docgen and record it. */
static int record(docset *s, const seg_document *doc, char *why, size_t cap)
{
    uint32_t n, v;
    if (docgen_parse_id(doc->id, doc->id_len, &n) != 0 || n >= s->nids) {
        snprintf(why, cap, "unexpected id '%.*s'", (int)(doc->id_len > 60 ? 60 : doc->id_len),
                 doc->id);
        return -1;
    }
    char title[160];
    size_t tl = doc->title_len < sizeof title - 1 ? doc->title_len : sizeof title - 1;
    memcpy(title, doc->title, tl);
    title[tl] = 0;
    unsigned tn, tv;
    if (sscanf(title, "Document %u version %u", &tn, &tv) != 2 || tn != n || tv == 0) {
        snprintf(why, cap, "doc%06u: unexpected title '%s'", n, title);
        return -1;
    }
    v = tv;
    docgen_doc want;
    if (docgen_make(&want, n, v) != 0) {
        snprintf(why, cap, "out of memory");
        return -1;
    }
    int same = strlen(want.title) == doc->title_len &&
               memcmp(want.title, doc->title, doc->title_len) == 0 &&
               strlen(want.text) == doc->text_len &&
               memcmp(want.text, doc->text, doc->text_len) == 0;
    docgen_doc_free(&want);
    if (!same) {
        snprintf(why, cap, "doc%06u: stored title or text differ from version %u", n, v);
        return -1;
    }
    if (s->version[n]) {
        snprintf(why, cap, "doc%06u is live twice (versions %u and %u)", n, s->version[n], v);
        return -1;
    }
    s->version[n] = v;
    return 0;
}

int docgen_read_index(const char *dir, docset *s, uint64_t *generation, char *why, size_t cap)
{
    memset(s->version, 0, (size_t)s->nids * sizeof *s->version);
    index_reader *ix;
    se_error err = {0};
    if (index_open(&ix, dir, &err) != SE_OK) {
        snprintf(why, cap, "index_open: %s", err.msg);
        return -1;
    }
    if (generation) *generation = ix->man.generation;
    seg_store_buffer buf;
    seg_store_buffer_init(&buf);
    int rc = 0;
    uint64_t live = 0;
    for (uint32_t i = 0; i < ix->nsegments && rc == 0; i++) {
        const segment *seg = ix->segments[i];
        const uint64_t *deleted = segment_deleted_bits(seg);
        for (uint32_t d = 0; d < segment_ndocs(seg) && rc == 0; d++) {
            if (deleted && dels_is_deleted(deleted, d)) continue;
            seg_document doc;
            if (segment_document(seg, d, &buf, &doc, &err) != SE_OK) {
                snprintf(why, cap, "segment %u document %u: %s", segment_number(seg), d, err.msg);
                rc = -1;
            } else {
                rc = record(s, &doc, why, cap);
                live++;
            }
        }
    }
    if (rc == 0 && live != ix->ndocs) {
        snprintf(why, cap, "%llu live documents read, but the index counts %llu",
                 (unsigned long long)live, (unsigned long long)ix->ndocs);
        rc = -1;
    }
    seg_store_buffer_free(&buf);
    index_close(ix);
    return rc;
}
