/* deletions.c - the .del file: reading, validating, building (see deletions.h). */
#include "common/deletions.h"

#include "common/segment.h"

#include <stdio.h>
#include <stdlib.h>

#define FIXED     32 /* ndocs, ndeleted, deleted_len, nterms, blob_len */
#define MAX_TERM  255
#define NO_DOC    UINT32_MAX
#define HASH_SEED 0x64656c73u

int dels_file_path(char *buf, size_t cap, const char *dir, uint32_t number, uint64_t gen)
{
    int n = snprintf(buf, cap, "%s/s%08u_%llu.del", dir, number, (unsigned long long)gen);
    return (n < 0 || (size_t)n >= cap) ? SE_INVALID : SE_OK;
}

static uint64_t popcount64(uint64_t x)
{
    return (uint64_t)__builtin_popcountll(x);
}

/* Term i's extent in the blob; the index is validated before use. */
static void term_extent(const dels *d, uint64_t i, uint64_t *off, uint64_t *len)
{
    uint64_t o = fio_le32(d->index + i * 8);
    uint64_t end = i + 1 < d->nterms ? fio_le32(d->index + (i + 1) * 8) : d->blob_len;
    *off = o;
    *len = end - o;
}

static int corrupt(se_error *err, const char *path, const char *what)
{
    return se_fail(err, SE_CORRUPT, "%s: %s", path, what);
}

int dels_open(dels *d, const char *path, uint32_t ndocs, se_error *err)
{
    memset(d, 0, sizeof *d);
    int rc = fio_map_open(&d->map, path, DELS_MAGIC, err);
    if (rc != SE_OK) return rc;
    const uint8_t *p = d->map.body;
    uint64_t body = d->map.body_size;
    if (body < FIXED) {
        dels_close(d);
        return corrupt(err, path, "truncated");
    }
    d->ndocs = fio_le32(p);
    d->ndeleted = fio_le32(p + 4);
    d->deleted_len = fio_le64(p + 8);
    d->nterms = fio_le64(p + 16);
    d->blob_len = fio_le64(p + 24);
    uint64_t words = ((uint64_t)d->ndocs + 63) / 64;
    if (d->ndocs != ndocs || d->ndeleted == 0 || d->ndeleted > d->ndocs || d->nterms > UINT32_MAX ||
        d->blob_len > UINT32_MAX || body != FIXED + words * 8 + d->nterms * 8 + d->blob_len) {
        dels_close(d);
        return corrupt(err, path, "sizes do not match the segment or the file");
    }
    d->bits = (const uint64_t *)(const void *)(p + FIXED); /* 16 + 32: 8-aligned */
    d->index = p + FIXED + words * 8;
    d->blob = d->index + d->nterms * 8;
    uint64_t set = 0;
    for (uint64_t w = 0; w < words; w++) set += popcount64(d->bits[w]);
    if (set != d->ndeleted || (d->ndocs % 64 && d->bits[words - 1] >> (d->ndocs % 64))) {
        dels_close(d);
        return corrupt(err, path, "bitmap does not match the deleted count");
    }
    uint64_t prev_off = 0, prev_len = 0;
    for (uint64_t i = 0; i < d->nterms; i++) {
        uint64_t o = fio_le32(d->index + i * 8);
        uint32_t count = fio_le32(d->index + i * 8 + 4);
        uint64_t end = i + 1 < d->nterms ? fio_le32(d->index + (i + 1) * 8) : d->blob_len;
        if ((i == 0 && o != 0) || o > end || end > d->blob_len || end - o == 0 ||
            end - o > MAX_TERM || count == 0 || count > d->ndeleted ||
            (i > 0 && seg_term_cmp(d->blob + prev_off, prev_len, d->blob + o, end - o) >= 0)) {
            dels_close(d);
            return corrupt(err, path, "term table out of order or out of bounds");
        }
        prev_off = o;
        prev_len = end - o;
    }
    return SE_OK;
}

void dels_close(dels *d)
{
    fio_map_close(&d->map);
    memset(d, 0, sizeof *d);
}

uint32_t dels_term_count(const dels *d, const char *term, size_t len)
{
    uint64_t lo = 0, hi = d->nterms;
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2, off, tl;
        term_extent(d, mid, &off, &tl);
        int c = seg_term_cmp(d->blob + off, tl, term, len);
        if (c == 0) return fio_le32(d->index + mid * 8 + 4);
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

void dels_term_at(const dels *d, uint64_t i, const char **term, size_t *len, uint32_t *count)
{
    uint64_t off, tl;
    term_extent(d, i, &off, &tl);
    *term = (const char *)d->blob + off;
    *len = (size_t)tl;
    *count = fio_le32(d->index + i * 8 + 4);
}

/* ---- builder ----
 * Terms live in an open-addressing hash table of slots pointing into one
 * growing byte arena (length byte, then the term).  `last_doc` makes a term
 * count once per deleted document. */

typedef struct slot {
    uint32_t arena_off; /* 0 = empty (the arena starts with a pad byte) */
    uint32_t count;
    uint32_t last_doc;
    uint32_t hash;
} slot;

struct dels_builder {
    uint32_t ndocs, ndeleted;
    uint64_t deleted_len;
    uint64_t *bits;
    uint32_t current; /* document being deleted, for add_term */
    slot *slots;
    size_t nslots, nused;
    uint8_t *arena;
    size_t arena_len, arena_cap;
};

static uint32_t term_hash(const char *t, size_t len)
{
    /* FNV-1a; terms are short and the table is only used while writing. */
    uint32_t h = 2166136261u ^ HASH_SEED;
    for (size_t i = 0; i < len; i++) h = (h ^ (uint8_t)t[i]) * 16777619u;
    return h;
}

static int grow_table(dels_builder *b)
{
    size_t n = b->nslots ? b->nslots * 2 : 1024;
    slot *s = calloc(n, sizeof *s);
    if (!s) return SE_NOMEM;
    for (size_t i = 0; i < b->nslots; i++) {
        if (!b->slots[i].arena_off) continue;
        size_t j = b->slots[i].hash & (n - 1);
        while (s[j].arena_off) j = (j + 1) & (n - 1);
        s[j] = b->slots[i];
    }
    free(b->slots);
    b->slots = s;
    b->nslots = n;
    return SE_OK;
}

/* Find or insert; NULL when out of memory. */
static slot *intern(dels_builder *b, const char *term, size_t len)
{
    if ((b->nused + 1) * 2 > b->nslots && grow_table(b) != SE_OK) return NULL;
    uint32_t h = term_hash(term, len);
    size_t j = h & (b->nslots - 1);
    for (; b->slots[j].arena_off; j = (j + 1) & (b->nslots - 1)) {
        const uint8_t *e = b->arena + b->slots[j].arena_off;
        if (b->slots[j].hash == h && e[0] == len && memcmp(e + 1, term, len) == 0)
            return &b->slots[j];
    }
    if (b->arena_len + len + 1 > b->arena_cap) {
        size_t cap = b->arena_cap ? b->arena_cap * 2 : 4096;
        while (cap < b->arena_len + len + 1) cap *= 2;
        if (cap > UINT32_MAX) return NULL;
        uint8_t *a = realloc(b->arena, cap);
        if (!a) return NULL;
        b->arena = a;
        b->arena_cap = cap;
    }
    slot *s = &b->slots[j];
    s->arena_off = (uint32_t)b->arena_len;
    s->hash = h;
    s->count = 0;
    s->last_doc = NO_DOC;
    b->arena[b->arena_len] = (uint8_t)len;
    memcpy(b->arena + b->arena_len + 1, term, len);
    b->arena_len += len + 1;
    b->nused++;
    return s;
}

int dels_builder_new(dels_builder **out, uint32_t ndocs, const dels *from)
{
    *out = NULL;
    dels_builder *b = calloc(1, sizeof *b);
    if (!b) return SE_NOMEM;
    b->ndocs = ndocs;
    size_t words = ((size_t)ndocs + 63) / 64;
    b->bits = calloc(words ? words : 1, sizeof *b->bits);
    b->arena = malloc(4096);
    b->arena_cap = 4096;
    b->arena_len = 1;
    b->current = NO_DOC;
    if (!b->bits || !b->arena || grow_table(b) != SE_OK) {
        dels_builder_free(b);
        return SE_NOMEM;
    }
    if (from) {
        memcpy(b->bits, from->bits, words * sizeof *b->bits);
        b->ndeleted = from->ndeleted;
        b->deleted_len = from->deleted_len;
        for (uint64_t i = 0; i < from->nterms; i++) {
            const char *t;
            size_t len;
            uint32_t count;
            dels_term_at(from, i, &t, &len, &count);
            slot *s = intern(b, t, len);
            if (!s) {
                dels_builder_free(b);
                return SE_NOMEM;
            }
            s->count = count;
        }
    }
    *out = b;
    return SE_OK;
}

void dels_builder_free(dels_builder *b)
{
    if (!b) return;
    free(b->bits);
    free(b->slots);
    free(b->arena);
    free(b);
}

int dels_builder_delete(dels_builder *b, uint32_t doc, uint32_t length)
{
    if (doc >= b->ndocs || dels_is_deleted(b->bits, doc)) {
        b->current = NO_DOC;
        return 0;
    }
    b->bits[doc >> 6] |= 1ull << (doc & 63);
    b->ndeleted++;
    b->deleted_len += length;
    b->current = doc;
    return 1;
}

int dels_builder_add_term(dels_builder *b, const char *term, size_t len)
{
    if (len == 0 || len > MAX_TERM) return SE_INVALID;
    if (b->current == NO_DOC) return SE_OK;
    slot *s = intern(b, term, len);
    if (!s) return SE_NOMEM;
    if (s->last_doc != b->current) {
        s->last_doc = b->current;
        s->count++;
    }
    return SE_OK;
}

uint32_t dels_builder_ndeleted(const dels_builder *b)
{
    return b->ndeleted;
}
uint64_t dels_builder_deleted_len(const dels_builder *b)
{
    return b->deleted_len;
}
const uint64_t *dels_builder_bits(const dels_builder *b)
{
    return b->bits;
}

static int cmp_slot_terms(const void *x, const void *y, void *arena)
{
    const uint8_t *a = (const uint8_t *)arena + ((const slot *)x)->arena_off;
    const uint8_t *c = (const uint8_t *)arena + ((const slot *)y)->arena_off;
    return seg_term_cmp(a + 1, a[0], c + 1, c[0]);
}

int dels_write(const dels_builder *b, const char *path, uint64_t *size, uint64_t *checksum,
               se_error *err)
{
    /* Terms counted by at least one deletion, sorted. */
    slot *terms = malloc((b->nused ? b->nused : 1) * sizeof *terms);
    if (!terms) return se_fail(err, SE_NOMEM, "out of memory");
    size_t nterms = 0;
    uint64_t blob_len = 0;
    for (size_t i = 0; i < b->nslots; i++)
        if (b->slots[i].arena_off && b->slots[i].count) {
            terms[nterms++] = b->slots[i];
            blob_len += b->arena[b->slots[i].arena_off];
        }
    qsort_r(terms, nterms, sizeof *terms, cmp_slot_terms, b->arena);

    fio_writer *w;
    int rc = fio_writer_create(&w, path, DELS_MAGIC, err);
    if (rc != SE_OK) {
        free(terms);
        return rc;
    }
    fio_write_u32(w, b->ndocs);
    fio_write_u32(w, b->ndeleted);
    fio_write_u64(w, b->deleted_len);
    fio_write_u64(w, nterms);
    fio_write_u64(w, blob_len);
    fio_write(w, b->bits, (((size_t)b->ndocs + 63) / 64) * sizeof *b->bits);
    uint32_t off = 0;
    for (size_t i = 0; i < nterms; i++) {
        fio_write_u32(w, off);
        fio_write_u32(w, terms[i].count);
        off += b->arena[terms[i].arena_off];
    }
    for (size_t i = 0; i < nterms; i++) {
        const uint8_t *e = b->arena + terms[i].arena_off;
        fio_write(w, e + 1, e[0]);
    }
    free(terms);
    /* Write errors are sticky: finish reports the first, with its errno. */
    return fio_writer_finish(w, size, checksum, err);
}
