/*
 * inverter.c - in-memory inversion of a batch of documents.
 *
 * Terms live in an open-addressing hash table (linear probing, power-of-two
 * size) of indexes into a term array; term bytes are kept in one growing
 * arena, each key padded with zero bytes to a multiple of 8 so that keys
 * are hashed and compared a 64-bit word at a time.
 *
 * During a document, inverter_add_token only queues the token: its bytes
 * (padded the same way) go to a per-document arena, with its hash and
 * position, and the hash table slot it will probe is prefetched.  At the
 * end of the document the queue is resolved to term ids, prefetching the
 * term entry a few tokens ahead: the table and the term array are far
 * larger than the cache, and looking tokens up one at a time as they came
 * waited for one cache miss after the other.  A term seen for the first
 * time in this document joins the "touched" list.  The tokens are then
 * grouped by term with a counting pass (no sort), and each touched term
 * appends one record to its postings stream:
 *     varint(doc - previous doc), varint(tf), tf x varint(position gap)
 * (the previous doc of a term's first record is -1, so the delta is doc+1).
 *
 * A stream is a chain of slices carved from 1 MiB pages: slice sizes grow
 * from 32 bytes to 32 KiB, and the last 8 bytes of a full slice hold the
 * address of the next one.  Reading a stream back needs only its first slice
 * and its write pointer: every slice but the last is full, and its size
 * follows from its rank in the chain.
 */
#include "indexer/inverter.h"

#include <stdlib.h>

#include "common/codec.h"

#define PAGE_SIZE_BYTES (1u << 20)
#define LINK            8
#define MAX_LEVEL       10
#define LOOKAHEAD       8 /* tokens between prefetching a term entry and using it */
static const uint32_t slice_size[MAX_LEVEL + 1] = {32,   64,   128,  256,   512,  1024,
                                                   2048, 4096, 8192, 16384, 32768};

typedef struct term_entry {
    uint64_t hash;
    uint32_t key_off;
    uint8_t key_len;
    uint8_t level;     /* level of the slice being written */
    uint8_t *head;     /* first slice */
    uint8_t *cur;      /* next byte to write */
    uint8_t *limit;    /* where the link field of the current slice starts */
    uint32_t last_doc; /* last doc with a record, UINT32_MAX before the first */
    uint32_t doc_tf;   /* occurrences in the current document */
    uint32_t slot;     /* scratch: where this term's positions go */
    uint32_t in_doc;   /* 1 when in the touched list */
} term_entry;

struct inverter {
    uint32_t *table; /* term index + 1, 0 = empty */
    size_t table_mask;
    term_entry *terms;
    size_t nterms, terms_cap;
    char *keys;
    size_t keys_len, keys_cap;
    uint8_t **pages;
    size_t npages, pages_cap;
    uint8_t *page_cur, *page_end;
    size_t page_bytes;
    /* the current document: per token its hash, key offset in doc_keys,
     * length, position, and (once resolved) term id */
    uint64_t *tok_hash;
    uint32_t *tok_key, *tok_term, *tok_pos, *scratch;
    uint8_t *tok_len;
    size_t ntok, tok_cap;
    uint64_t *doc_keys; /* the tokens' bytes, each padded to whole words */
    size_t doc_words, doc_words_cap;
    uint32_t *touched;
    size_t ntouched, touched_cap;
};

int inverter_new(inverter **out)
{
    inverter *inv = calloc(1, sizeof *inv);
    if (!inv) return SE_NOMEM;
    inv->table_mask = (1u << 16) - 1;
    inv->table = calloc(inv->table_mask + 1, sizeof *inv->table);
    if (!inv->table) {
        free(inv);
        return SE_NOMEM;
    }
    *out = inv;
    return SE_OK;
}

static void free_pages(inverter *inv)
{
    for (size_t i = 0; i < inv->npages; i++) free(inv->pages[i]);
    inv->npages = 0;
    inv->page_cur = inv->page_end = NULL;
    inv->page_bytes = 0;
}

void inverter_free(inverter *inv)
{
    if (!inv) return;
    free_pages(inv);
    free(inv->pages);
    free(inv->table);
    free(inv->terms);
    free(inv->keys);
    free(inv->tok_hash);
    free(inv->tok_key);
    free(inv->tok_len);
    free(inv->doc_keys);
    free(inv->tok_term);
    free(inv->tok_pos);
    free(inv->scratch);
    free(inv->touched);
    free(inv);
}

size_t inverter_memory(const inverter *inv)
{
    return inv->page_bytes + (inv->table_mask + 1) * sizeof *inv->table +
           inv->terms_cap * sizeof *inv->terms + inv->keys_cap + inv->tok_cap * 29 +
           inv->doc_words_cap * 8 + inv->touched_cap * 4;
}

size_t inverter_terms(const inverter *inv)
{
    return inv->nterms;
}

static uint8_t *alloc_slice(inverter *inv, size_t size)
{
    if ((size_t)(inv->page_end - inv->page_cur) < size) {
        if (inv->npages == inv->pages_cap) {
            size_t cap = inv->pages_cap ? inv->pages_cap * 2 : 64;
            uint8_t **p = realloc(inv->pages, cap * sizeof *p);
            if (!p) return NULL;
            inv->pages = p;
            inv->pages_cap = cap;
        }
        uint8_t *page = malloc(PAGE_SIZE_BYTES);
        if (!page) return NULL;
        inv->pages[inv->npages++] = page;
        inv->page_cur = page;
        inv->page_end = page + PAGE_SIZE_BYTES;
        inv->page_bytes += PAGE_SIZE_BYTES;
    }
    uint8_t *s = inv->page_cur;
    inv->page_cur += size;
    return s;
}

static inline size_t put_varint(uint8_t *out, uint32_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        out[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    out[n++] = (uint8_t)v;
    return n;
}

/* Append bytes to a term's stream, chaining a new slice when full. */
static int stream_put(inverter *inv, term_entry *t, const uint8_t *p, size_t n)
{
    while (n > 0) {
        if (t->cur == t->limit) {
            uint8_t level = t->level < MAX_LEVEL ? t->level + 1 : MAX_LEVEL;
            uint8_t *next = alloc_slice(inv, slice_size[level]);
            if (!next) return SE_NOMEM;
            memcpy(t->limit, &next, sizeof next);
            t->level = level;
            t->cur = next;
            t->limit = next + slice_size[level] - LINK;
        }
        size_t room = (size_t)(t->limit - t->cur), k = n < room ? n : room;
        memcpy(t->cur, p, k);
        t->cur += k;
        p += k;
        n -= k;
    }
    return SE_OK;
}

static int grow_table(inverter *inv)
{
    size_t size = (inv->table_mask + 1) * 2;
    uint32_t *t = calloc(size, sizeof *t);
    if (!t) return SE_NOMEM;
    for (size_t i = 0; i < inv->nterms; i++) {
        size_t h = (size_t)inv->terms[i].hash & (size - 1);
        while (t[h]) h = (h + 1) & (size - 1);
        t[h] = (uint32_t)i + 1;
    }
    free(inv->table);
    inv->table = t;
    inv->table_mask = size - 1;
    return SE_OK;
}

/* Hash of a key of len bytes padded with zeros to whole words. */
static inline uint64_t key_hash(const uint64_t *w, size_t len)
{
    uint64_t h = (uint64_t)len * 0x9E3779B97F4A7C15ull;
    for (size_t i = 0; i < (len + 7) / 8; i++) {
        h = (h ^ w[i]) * 0xBF58476D1CE4E5B9ull;
        h ^= h >> 31;
    }
    return h ^ (h >> 29);
}

static inline int key_equal(const char *stored, const uint64_t *w, size_t len)
{
    uint64_t diff = 0;
    for (size_t i = 0; i < (len + 7) / 8; i++) {
        uint64_t x;
        memcpy(&x, stored + 8 * i, 8);
        diff |= x ^ w[i];
    }
    return diff == 0;
}

/* The id of the term with this padded key, added when new. */
static int64_t find_or_add(inverter *inv, const uint64_t *key, size_t len, uint64_t hash)
{
    size_t h = (size_t)hash & inv->table_mask;
    for (;;) {
        uint32_t v = inv->table[h];
        if (!v) break;
        term_entry *t = &inv->terms[v - 1];
        if (t->hash == hash && t->key_len == len && key_equal(inv->keys + t->key_off, key, len))
            return v - 1;
        h = (h + 1) & inv->table_mask;
    }
    /* New term: keep the table at most half full. */
    if (inv->nterms >= UINT32_MAX - 1) return SE_LIMIT;
    if ((inv->nterms + 1) * 2 > inv->table_mask + 1) {
        if (grow_table(inv) != SE_OK) return SE_NOMEM;
        h = (size_t)hash & inv->table_mask;
        while (inv->table[h]) h = (h + 1) & inv->table_mask;
    }
    if (inv->nterms == inv->terms_cap) {
        size_t cap = inv->terms_cap ? inv->terms_cap * 2 : 4096;
        term_entry *te = realloc(inv->terms, cap * sizeof *te);
        if (!te) return SE_NOMEM;
        inv->terms = te;
        inv->terms_cap = cap;
    }
    size_t padded = (len + 7) & ~(size_t)7;
    if (inv->keys_cap - inv->keys_len < padded) {
        size_t cap = inv->keys_cap ? inv->keys_cap * 2 : 65536;
        while (cap - inv->keys_len < padded) cap *= 2;
        if (cap > UINT32_MAX) return SE_LIMIT;
        char *k = realloc(inv->keys, cap);
        if (!k) return SE_NOMEM;
        inv->keys = k;
        inv->keys_cap = cap;
    }
    uint8_t *slice = alloc_slice(inv, slice_size[0]);
    if (!slice) return SE_NOMEM;
    term_entry *t = &inv->terms[inv->nterms];
    t->hash = hash;
    t->key_off = (uint32_t)inv->keys_len;
    t->key_len = (uint8_t)len;
    t->level = 0;
    t->head = t->cur = slice;
    t->limit = slice + slice_size[0] - LINK;
    t->last_doc = UINT32_MAX;
    t->doc_tf = 0;
    t->in_doc = 0;
    memcpy(inv->keys + inv->keys_len, key, padded);
    inv->keys_len += padded;
    inv->table[h] = (uint32_t)inv->nterms + 1;
    inv->nterms++;
    return (int64_t)inv->nterms - 1;
}

static int grow_tokens(inverter *inv)
{
    size_t cap = inv->tok_cap ? inv->tok_cap * 2 : 4096;
    uint64_t *h = realloc(inv->tok_hash, cap * sizeof *h);
    if (!h) return SE_NOMEM;
    inv->tok_hash = h;
    uint32_t **arrays[] = {&inv->tok_key, &inv->tok_term, &inv->tok_pos, &inv->scratch};
    for (size_t i = 0; i < sizeof arrays / sizeof arrays[0]; i++) {
        uint32_t *a = realloc(*arrays[i], cap * sizeof *a);
        if (!a) return SE_NOMEM;
        *arrays[i] = a;
    }
    uint8_t *l = realloc(inv->tok_len, cap);
    if (!l) return SE_NOMEM;
    inv->tok_len = l;
    inv->tok_cap = cap;
    return SE_OK;
}

int inverter_add_token(inverter *inv, const char *term, size_t len, uint32_t position)
{
    if (len == 0 || len > 255) return SE_INVALID;
    if (inv->ntok == inv->tok_cap && grow_tokens(inv) != SE_OK) return SE_NOMEM;
    size_t words = (len + 7) / 8;
    if (inv->doc_words_cap - inv->doc_words < words) {
        size_t cap = inv->doc_words_cap ? inv->doc_words_cap * 2 : 4096;
        while (cap - inv->doc_words < words) cap *= 2;
        if (cap > UINT32_MAX) return SE_LIMIT;
        uint64_t *k = realloc(inv->doc_keys, cap * sizeof *k);
        if (!k) return SE_NOMEM;
        inv->doc_keys = k;
        inv->doc_words_cap = cap;
    }
    uint64_t *key = inv->doc_keys + inv->doc_words;
    key[words - 1] = 0;
    memcpy(key, term, len);
    uint64_t hash = key_hash(key, len);
    __builtin_prefetch(&inv->table[(size_t)hash & inv->table_mask]);
    size_t i = inv->ntok++;
    inv->tok_hash[i] = hash;
    inv->tok_key[i] = (uint32_t)inv->doc_words;
    inv->tok_len[i] = (uint8_t)len;
    inv->tok_pos[i] = position;
    inv->doc_words += words;
    return SE_OK;
}

/* Turn the queued tokens into term ids (adding new terms) and collect the
 * touched terms with their tf in this document. */
static int resolve_tokens(inverter *inv)
{
    for (size_t i = 0; i < inv->ntok; i++) {
        if (i + LOOKAHEAD < inv->ntok) {
            uint32_t v = inv->table[(size_t)inv->tok_hash[i + LOOKAHEAD] & inv->table_mask];
            if (v) __builtin_prefetch(&inv->terms[v - 1]);
        }
        int64_t id =
            find_or_add(inv, inv->doc_keys + inv->tok_key[i], inv->tok_len[i], inv->tok_hash[i]);
        if (id < 0) return (int)id;
        term_entry *t = &inv->terms[id];
        if (!t->in_doc) {
            if (inv->ntouched == inv->touched_cap) {
                size_t cap = inv->touched_cap ? inv->touched_cap * 2 : 1024;
                uint32_t *tl = realloc(inv->touched, cap * 4);
                if (!tl) return SE_NOMEM;
                inv->touched = tl;
                inv->touched_cap = cap;
            }
            inv->touched[inv->ntouched++] = (uint32_t)id;
            t->in_doc = 1;
            t->doc_tf = 0;
        }
        t->doc_tf++;
        inv->tok_term[i] = (uint32_t)id;
    }
    return SE_OK;
}

void inverter_abandon_document(inverter *inv)
{
    for (size_t i = 0; i < inv->ntouched; i++) inv->terms[inv->touched[i]].in_doc = 0;
    inv->ntouched = 0;
    inv->ntok = 0;
    inv->doc_words = 0;
}

int inverter_end_document(inverter *inv, uint32_t doc)
{
    int rc = resolve_tokens(inv);
    if (rc != SE_OK) {
        inverter_abandon_document(inv);
        return rc;
    }
    /* Group positions by term: each touched term gets a slot range. */
    uint32_t slot = 0;
    for (size_t i = 0; i < inv->ntouched; i++) {
        term_entry *t = &inv->terms[inv->touched[i]];
        t->slot = slot;
        slot += t->doc_tf;
    }
    for (size_t i = 0; i < inv->ntok; i++) {
        term_entry *t = &inv->terms[inv->tok_term[i]];
        inv->scratch[t->slot++] = inv->tok_pos[i];
    }
    for (size_t i = 0; i < inv->ntouched && rc == SE_OK; i++) {
        term_entry *t = &inv->terms[inv->touched[i]];
        if (i + 4 < inv->ntouched) __builtin_prefetch(inv->terms[inv->touched[i + 4]].cur, 1);
        const uint32_t *pos = inv->scratch + t->slot - t->doc_tf;
        if ((size_t)(t->limit - t->cur) >= 2 * 5 + (size_t)t->doc_tf * 5) {
            /* The whole record fits the current slice: encode in place. */
            uint8_t *out = t->cur;
            out += put_varint(out, doc - t->last_doc);
            out += put_varint(out, t->doc_tf);
            uint32_t prev = 0;
            for (uint32_t k = 0; k < t->doc_tf; k++) {
                out += put_varint(out, pos[k] - prev);
                prev = pos[k];
            }
            t->cur = out;
            t->last_doc = doc;
            t->in_doc = 0;
            continue;
        }
        uint8_t buf[256];
        size_t used = put_varint(buf, doc - t->last_doc);
        used += put_varint(buf + used, t->doc_tf);
        uint32_t prev = 0;
        for (uint32_t k = 0; k < t->doc_tf && rc == SE_OK; k++) {
            used += put_varint(buf + used, pos[k] - prev);
            prev = pos[k];
            if (used > sizeof buf - CODEC_VARINT32_MAX) {
                rc = stream_put(inv, t, buf, used);
                used = 0;
            }
        }
        if (rc == SE_OK) rc = stream_put(inv, t, buf, used);
        t->last_doc = doc;
        t->in_doc = 0;
    }
    if (rc != SE_OK) {
        /* A stream may now hold a partial record: the batch is unusable.
         * The caller discards the whole batch on SE_NOMEM. */
        inverter_abandon_document(inv);
        return rc;
    }
    inv->ntouched = 0;
    inv->ntok = 0;
    inv->doc_words = 0;
    return SE_OK;
}

/* ---- reading streams back ---- */

typedef struct stream_reader {
    const uint8_t *p, *limit; /* readable range of the current slice */
    const uint8_t *end;       /* the term's write pointer */
    uint8_t level;
} stream_reader;

static void reader_init(stream_reader *r, const term_entry *t)
{
    r->p = t->head;
    r->level = 0;
    r->end = t->cur;
    r->limit = t->head + slice_size[0] - LINK;
}

static inline uint8_t reader_byte(stream_reader *r)
{
    if (r->p == r->limit && r->p != r->end) {
        uint8_t *next;
        memcpy(&next, r->limit, sizeof next);
        r->level = r->level < MAX_LEVEL ? r->level + 1 : MAX_LEVEL;
        r->p = next;
        r->limit = next + slice_size[r->level] - LINK;
    }
    return *r->p++;
}

static inline uint32_t reader_varint(stream_reader *r)
{
    uint32_t v = 0;
    for (int shift = 0;; shift += 7) {
        uint8_t b = reader_byte(r);
        v |= (uint32_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) return v;
    }
}

static inline int reader_done(const stream_reader *r)
{
    return r->p == r->end;
}

static int cmp_terms(const void *a, const void *b, void *ctx)
{
    const inverter *inv = ctx;
    const term_entry *x = &inv->terms[*(const uint32_t *)a], *y = &inv->terms[*(const uint32_t *)b];
    size_t n = x->key_len < y->key_len ? x->key_len : y->key_len;
    int c = memcmp(inv->keys + x->key_off, inv->keys + y->key_off, n);
    return c ? c : (int)x->key_len - (int)y->key_len;
}

static void reset(inverter *inv)
{
    free_pages(inv);
    inv->nterms = 0;
    inv->keys_len = 0;
    memset(inv->table, 0, (inv->table_mask + 1) * sizeof *inv->table);
    inv->ntok = inv->ntouched = 0;
    inv->doc_words = 0;
}

int inverter_write(inverter *inv, segment_writer *w, se_error *err)
{
    uint32_t *order = malloc((inv->nterms ? inv->nterms : 1) * sizeof *order);
    if (!order) return se_fail(err, SE_NOMEM, "out of memory sorting terms");
    for (size_t i = 0; i < inv->nterms; i++) order[i] = (uint32_t)i;
    /* glibc's qsort_r (_GNU_SOURCE): the comparison gets the inverter, so
     * inverters in different threads sort at the same time. */
    qsort_r(order, inv->nterms, sizeof *order, cmp_terms, inv);
    uint32_t *positions = NULL;
    size_t pos_cap = 0;
    int rc = SE_OK;
    for (size_t i = 0; i < inv->nterms && rc == SE_OK; i++) {
        const term_entry *t = &inv->terms[order[i]];
        /* A term met only in an abandoned document has no postings. */
        if (t->last_doc == UINT32_MAX) continue;
        rc = segw_begin_term(w, inv->keys + t->key_off, t->key_len, err);
        stream_reader r;
        reader_init(&r, t);
        uint32_t doc = UINT32_MAX;
        while (rc == SE_OK && !reader_done(&r)) {
            doc += reader_varint(&r);
            uint32_t tf = reader_varint(&r);
            if (tf > pos_cap) {
                size_t cap = pos_cap ? pos_cap : 64;
                while (cap < tf) cap *= 2;
                uint32_t *np = realloc(positions, cap * sizeof *np);
                if (!np) {
                    rc = se_fail(err, SE_NOMEM, "out of memory");
                    break;
                }
                positions = np;
                pos_cap = cap;
            }
            uint32_t pos = 0;
            for (uint32_t k = 0; k < tf; k++) {
                pos += reader_varint(&r);
                positions[k] = pos;
            }
            rc = segw_add_posting(w, doc, tf, positions, err);
        }
        if (rc == SE_OK) rc = segw_end_term(w, err);
    }
    free(positions);
    free(order);
    reset(inv);
    return rc;
}
