/*
 * test_segment.c - unit tests for the segment files: indexer/segment_writer.c
 * writes them, common/segment.c and common/postings.c read them back.
 *
 * Each test builds a reference in memory (documents, and terms with their
 * postings: doc ids, tfs and positions), writes it with segment_writer into
 * a fresh mkdtemp directory, opens it with segment_open (checking the
 * manifest entry segw_finish returned) and compares everything the reader
 * offers with the reference:
 *   - documents: stored fields (empty, large, spread over several store
 *     chunks), lengths, id and content hashes, read in several orders;
 *   - the dictionary: lookups of every term and of many absent strings
 *     (before the first, after the last, between two terms, prefixes and
 *     extensions of terms), > 64 prefix-sharing terms, 255-byte terms, and
 *     seg_term_iter over all terms;
 *   - postings for df in {1, 2, 127, 128, 129, 255, 256, 257, 1000, 5000}
 *     in several gap/tf patterns: a full walk with positions, random
 *     advance/next sequences checked against a linear reference, positions
 *     of randomly chosen documents, and the skip table (postings_block);
 *   - large doc-id gaps (about 2^21, the most a test can afford: every doc
 *     id below the segment's document count must exist in the .len table)
 *     and position gaps near 2^31;
 *   - segment_open against a wrong manifest entry, damaged files, and the
 *     writer's rejection of out-of-order input.
 * Random data comes from splitmix64 with fixed seeds (printed on failure).
 */
#include <criterion/criterion.h>

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "common/fileio.h"
#include "common/postings.h"
#include "common/segment.h"
#include "common/status.h"
#include "indexer/segment_writer.h"
#include "tests/support/fsutil.h"

/* ------------------------------------------------------------- fixture */

static char g_tmp[1024];

static void setup(void)
{
    char *dir = fs_mkdtemp("test_segment_");
    cr_assert_not_null(dir);
    snprintf(g_tmp, sizeof g_tmp, "%s", dir);
    free(dir);
}

static void teardown(void)
{
    if (g_tmp[0]) fs_rm_rf(g_tmp);
}

TestSuite(segment, .init = setup, .fini = teardown, .timeout = 60);

static uint64_t rng_state;
static void rng_seed(uint64_t seed)
{
    rng_state = seed;
}
static uint64_t rnd(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}
/* Uniform in [0, n). */
static uint64_t below(uint64_t n)
{
    return n ? rnd() % n : 0;
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    cr_assert_not_null(p, "out of memory (%zu bytes)", n);
    return p;
}

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    cr_assert_not_null(p, "out of memory");
    return p;
}

static int file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* ------------------------------------------------------------- reference */

typedef struct rdoc {
    char *id, *title, *text;
    size_t id_len, title_len, text_len;
} rdoc;

typedef struct rterm {
    char term[256];
    size_t len;
    uint32_t df;
    uint32_t *docs, *tfs;
    size_t *pstart; /* df + 1 prefix sums into pos */
    uint32_t *pos;
} rterm;

typedef struct rseg {
    uint32_t ndocs;
    rdoc *docs; /* NULL: every document has empty fields */
    uint32_t *lengths;
    rterm *terms;
    size_t nterms;
} rseg;

/* The id of document d of r into buf (plain documents are named p<d>). */
static size_t id_of(const rseg *r, uint32_t d, char buf[SEG_MAX_ID_LEN])
{
    if (!r->docs) return (size_t)snprintf(buf, SEG_MAX_ID_LEN, "p%u", d);
    memcpy(buf, r->docs[d].id, r->docs[d].id_len);
    return r->docs[d].id_len;
}

static uint64_t id_hash_of(const rseg *r, uint32_t d)
{
    char id[SEG_MAX_ID_LEN];
    return XXH3_64bits(id, id_of(r, d, id));
}

static uint64_t content_hash_of(const rseg *r, uint32_t d)
{
    if (!r->docs) return ~(uint64_t)d;
    return XXH3_64bits_withSeed(r->docs[d].text, r->docs[d].text_len,
                                XXH3_64bits(r->docs[d].title, r->docs[d].title_len));
}

static void rterm_free(rterm *t)
{
    free(t->docs);
    free(t->tfs);
    free(t->pstart);
    free(t->pos);
}

static void rseg_free(rseg *r)
{
    if (r->docs)
        for (uint32_t d = 0; d < r->ndocs; d++) {
            free(r->docs[d].id);
            free(r->docs[d].title);
            free(r->docs[d].text);
        }
    free(r->docs);
    free(r->lengths);
    for (size_t i = 0; i < r->nterms; i++) rterm_free(&r->terms[i]);
    free(r->terms);
}

static int bytes_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
    size_t n = alen < blen ? alen : blen;
    int c = n ? memcmp(a, b, n) : 0;
    return c ? c : (alen < blen ? -1 : alen > blen);
}

static int rterm_cmp(const void *a, const void *b)
{
    const rterm *x = a, *y = b;
    return bytes_cmp(x->term, x->len, y->term, y->len);
}

/* Strictly increasing positions; with `huge`, a few gaps of 2^30..2^31. */
static void gen_positions(uint32_t *out, uint32_t tf, int huge)
{
    uint64_t cur = below(4) == 0 ? 0 : below(20);
    for (uint32_t k = 0; k < tf; k++) {
        if (k > 0) {
            uint64_t gap = 1 + below(below(8) == 0 ? 100 : 4);
            uint64_t room = UINT32_MAX - cur - (uint64_t)(tf - k) * 101;
            if (huge && below(16) == 0 && room > (3ull << 30))
                gap = (1ull << 30) + below(1ull << 30);
            cur += gap;
        }
        out[k] = (uint32_t)cur;
    }
}

enum pattern {
    PAT_RANDOM, /* mixed gaps (many 0 = consecutive docs), mixed tfs */
    PAT_TF1,    /* random gaps, tf = 1 everywhere */
    PAT_DENSE,  /* consecutive docs, tf = 1: zero-width blocks */
    PAT_BIGTF,  /* random gaps, large tfs */
    NPATTERNS
};

/* Fill t's postings: df docs, gaps and tfs per pattern, positions.
 * Returns the last doc id. */
static uint32_t gen_postings(rterm *t, uint32_t df, enum pattern pat, int huge_pos)
{
    t->df = df;
    t->docs = xmalloc(df * sizeof *t->docs);
    t->tfs = xmalloc(df * sizeof *t->tfs);
    t->pstart = xmalloc((df + 1) * sizeof *t->pstart);
    uint64_t doc = below(3) == 0 ? 0 : below(1000);
    size_t total = 0;
    for (uint32_t i = 0; i < df; i++) {
        if (i > 0) {
            uint64_t gap = 1;
            if (pat != PAT_DENSE) {
                uint64_t r = below(1000);
                gap = r < 300   ? 1
                      : r < 900 ? 1 + below(50)
                      : r < 995 ? 1 + below(1000)
                                : 1 + below(20000);
            }
            doc += gap;
        }
        t->docs[i] = (uint32_t)doc;
        uint32_t tf = 1;
        if (pat == PAT_RANDOM) {
            uint64_t r = below(100);
            tf = r < 50 ? 1 : r < 99 ? 1 + (uint32_t)below(20) : 200 + (uint32_t)below(3000);
        } else if (pat == PAT_BIGTF) {
            unsigned bits = df <= 300 ? 17 : 10;
            tf = 1 + (uint32_t)below(1ull << (1 + below(bits)));
        }
        t->tfs[i] = tf;
        t->pstart[i] = total;
        total += tf;
    }
    t->pstart[df] = total;
    t->pos = xmalloc(total * sizeof *t->pos);
    for (uint32_t i = 0; i < df; i++) gen_positions(t->pos + t->pstart[i], t->tfs[i], huge_pos);
    return t->docs[df - 1];
}

/* Random lengths for ndocs documents with empty fields. */
static void plain_docs(rseg *r, uint32_t ndocs)
{
    r->ndocs = ndocs;
    r->docs = NULL;
    r->lengths = xmalloc((size_t)ndocs * sizeof *r->lengths);
    for (uint32_t d = 0; d < ndocs; d++)
        r->lengths[d] = (uint32_t)(((uint64_t)d * 2654435761u) >> 7) % 5000;
}

/* Write r as segment `number`; *meta receives the manifest entry. */
static void write_segment(const rseg *r, uint32_t number, seg_meta *meta)
{
    segment_writer *w;
    se_error err = {0};
    cr_assert_eq(segw_create(&w, g_tmp, number, 1, &err), SE_OK, "%s", err.msg);
    for (uint32_t d = 0; d < r->ndocs; d++) {
        char id[SEG_MAX_ID_LEN];
        seg_document sd = {id, id_of(r, d, id), "", 0, "", 0};
        if (r->docs) {
            const rdoc *x = &r->docs[d];
            sd = (seg_document){x->id, x->id_len, x->title, x->title_len, x->text, x->text_len};
        }
        int rc = segw_add_document(w, &sd, r->lengths[d], 0, content_hash_of(r, d), &err);
        cr_assert_eq(rc, SE_OK, "doc %u: %s", d, err.msg);
    }
    cr_assert_eq(segw_ndocs(w), r->ndocs);
    for (size_t i = 0; i < r->nterms; i++) {
        const rterm *t = &r->terms[i];
        cr_assert_eq(segw_begin_term(w, t->term, t->len, &err), SE_OK, "term %zu: %s", i, err.msg);
        for (uint32_t k = 0; k < t->df; k++) {
            int rc = segw_add_posting(w, t->docs[k], t->tfs[k], t->pos + t->pstart[k], &err);
            cr_assert_eq(rc, SE_OK, "term %zu posting %u: %s", i, k, err.msg);
        }
        cr_assert_eq(segw_end_term(w, &err), SE_OK, "%s", err.msg);
    }
    cr_assert_eq(segw_finish(w, meta, &err), SE_OK, "%s", err.msg);
    cr_assert_eq(meta->number, number);
    cr_assert_eq(meta->ndocs, r->ndocs);
    cr_assert_eq(meta->nterms, r->nterms);
    uint64_t total = 0;
    for (uint32_t d = 0; d < r->ndocs; d++) total += r->lengths[d];
    cr_assert_eq(meta->total_len, total);
}

static segment *open_segment(const seg_meta *meta)
{
    segment *s;
    se_error err = {0};
    cr_assert_eq(segment_open(&s, g_tmp, meta, 1, &err), SE_OK, "%s", err.msg);
    return s;
}

/* ------------------------------------------------------------- checks */

static void check_info(const segment *s, const rseg *r, const rterm *t, const seg_term_info *info)
{
    uint64_t cf = 0;
    uint32_t max_tf = 0, min_len = UINT32_MAX;
    for (uint32_t k = 0; k < t->df; k++) {
        cf += t->tfs[k];
        if (t->tfs[k] > max_tf) max_tf = t->tfs[k];
        if (r->lengths[t->docs[k]] < min_len) min_len = r->lengths[t->docs[k]];
    }
    cr_assert_eq(info->df, t->df, "%.*s", (int)t->len, t->term);
    cr_assert_eq(info->cf, cf);
    cr_assert_eq(info->max_tf, max_tf);
    cr_assert_eq(info->min_len, min_len);
    cr_assert_leq(info->doc_off + info->doc_len, segment_file(s, SEG_POST)->size);
    cr_assert_leq(info->pos_off + info->pos_len, segment_file(s, SEG_POS)->size);
}

static void check_positions(postings_cursor *c, const rterm *t, uint32_t k, uint32_t *buf)
{
    uint32_t n = postings_cursor_positions(c, buf, t->tfs[k]);
    cr_assert_eq(n, t->tfs[k], "positions of doc %u (#%u): got %u, want %u", t->docs[k], k, n,
                 t->tfs[k]);
    cr_assert_eq(c->status, SE_OK);
    const uint32_t *want = t->pos + t->pstart[k];
    for (uint32_t i = 0; i < n; i++)
        cr_assert_eq(buf[i], want[i], "doc %u position %u: %u != %u", t->docs[k], i, buf[i],
                     want[i]);
}

static uint32_t max_tf_of(const rterm *t)
{
    uint32_t m = 0;
    for (uint32_t k = 0; k < t->df; k++)
        if (t->tfs[k] > m) m = t->tfs[k];
    return m;
}

/* Every posting in order with next(); positions of all (or none). */
static void check_walk(const segment *s, const rterm *t, const seg_term_info *info, int positions)
{
    postings_cursor *c = xmalloc(sizeof *c);
    uint32_t *buf = xmalloc(max_tf_of(t) * sizeof *buf);
    postings_cursor_open(c, s, info);
    cr_assert_eq(c->status, SE_OK);
    for (uint32_t k = 0; k < t->df; k++) {
        uint32_t d = k == 0 ? c->doc : postings_cursor_next(c);
        cr_assert_eq(d, t->docs[k], "posting %u: doc %u, want %u", k, d, t->docs[k]);
        cr_assert_eq(c->doc, d);
        cr_assert_eq(postings_cursor_freq(c), t->tfs[k], "doc %u", d);
        if (positions) check_positions(c, t, k, buf);
    }
    cr_assert_eq(postings_cursor_next(c), POSTINGS_END);
    cr_assert_eq(postings_cursor_next(c), POSTINGS_END);
    cr_assert_eq(postings_cursor_advance(c, 5), POSTINGS_END);
    cr_assert_eq(postings_cursor_advance(c, UINT32_MAX), POSTINGS_END);
    cr_assert_eq(c->status, SE_OK);
    free(buf);
    free(c);
}

/* A random mix of advance (to present, absent, in-block, far, beyond-end
 * and backward targets), next and positions, against the reference. */
static void check_random_moves(const segment *s, const rterm *t, const seg_term_info *info,
                               uint32_t ndocs)
{
    postings_cursor *c = xmalloc(sizeof *c);
    uint32_t *buf = xmalloc(max_tf_of(t) * sizeof *buf);
    postings_cursor_open(c, s, info);
    uint32_t j = 0; /* reference index of the current doc; df = end */
    uint32_t df = t->df;
    uint32_t read = UINT32_MAX; /* positions are read once per document */
    for (int step = 0; step < 400 && j < df; step++) {
        uint64_t kind = below(10);
        uint32_t target = 0;
        int is_next = 0;
        switch (kind) {
        case 0:
            is_next = 1;
            break;
        case 1:
            target = t->docs[j + below(df - j)];
            break; /* present, anywhere ahead */
        case 2:
            target = t->docs[j + below(df - j)] + 1;
            break; /* often absent */
        case 3: {  /* within the current block */
            uint32_t in_block = SEG_BLOCK - j % SEG_BLOCK;
            target = t->docs[j + below(in_block < df - j ? in_block : df - j)];
            break;
        }
        case 4: { /* several blocks ahead */
            uint64_t k = j + (uint64_t)SEG_BLOCK * (2 + below(8)) + below(SEG_BLOCK);
            target = k < df ? t->docs[k] - (uint32_t)below(2) : t->docs[df - 1] + 1;
            break;
        }
        case 5:
            target = t->docs[j] - (t->docs[j] > 0 ? (uint32_t)below(3) : 0);
            break; /* <= cur */
        case 6:
            target = t->docs[j] + 1;
            break;
        case 7:
            target = (uint32_t)below((uint64_t)ndocs + 2);
            break; /* random value */
        case 8:
            target = (uint32_t)(t->docs[j] + below(300));
            break;
        default: /* rarely: beyond the end */
            target = below(4) ? (uint32_t)(t->docs[j] + below(64))
                              : (below(2) ? t->docs[df - 1] + 1 : UINT32_MAX - (uint32_t)below(2));
            break;
        }
        uint32_t got;
        if (is_next) {
            got = postings_cursor_next(c);
            j++;
        } else {
            got = postings_cursor_advance(c, target);
            if (t->docs[j] < target) {
                while (j < df && t->docs[j] < target) j++;
            }
        }
        uint32_t want = j < df ? t->docs[j] : POSTINGS_END;
        cr_assert_eq(got, want, "step %d kind %d target %u: got %u want %u (index %u of %u)", step,
                     (int)kind, target, got, want, j, df);
        cr_assert_eq(c->doc, want);
        if (j < df) {
            cr_assert_eq(postings_cursor_freq(c), t->tfs[j]);
            if (below(3) == 0 && read != j) {
                check_positions(c, t, j, buf);
                read = j;
            }
        }
    }
    cr_assert_eq(c->status, SE_OK);
    free(buf);
    free(c);
}

/* Positions of a random subset of documents, visited in increasing order
 * by advance, the others skipped without reading theirs. */
static void check_sparse_positions(const segment *s, const rterm *t, const seg_term_info *info)
{
    postings_cursor *c = xmalloc(sizeof *c);
    uint32_t *buf = xmalloc(max_tf_of(t) * sizeof *buf);
    postings_cursor_open(c, s, info);
    uint64_t every = 1 + below(t->df < 50 ? 3 : t->df / 20);
    for (uint32_t k = 0; k < t->df; k++) {
        if (below(every) != 0) continue;
        cr_assert_eq(postings_cursor_advance(c, t->docs[k]), t->docs[k]);
        check_positions(c, t, k, buf);
    }
    cr_assert_eq(c->status, SE_OK);
    free(buf);
    free(c);
}

static void check_blocks(const segment *s, const rseg *r, const rterm *t, const seg_term_info *info)
{
    postings_cursor *c = xmalloc(sizeof *c);
    postings_cursor_open(c, s, info);
    postings_block_info bi;
    if (t->df < SEG_BLOCK) {
        cr_assert_eq(c->nblocks, 0);
        cr_assert_eq(postings_block(c, 0, &bi), SE_INVALID);
        free(c);
        return;
    }
    uint32_t nb = (t->df + SEG_BLOCK - 1) / SEG_BLOCK;
    cr_assert_eq(c->nblocks, nb);
    for (uint32_t b = 0; b < nb; b++) {
        uint32_t lo = b * SEG_BLOCK, hi = lo + SEG_BLOCK < t->df ? lo + SEG_BLOCK : t->df;
        uint32_t max_tf = 0, min_len = UINT32_MAX;
        for (uint32_t k = lo; k < hi; k++) {
            if (t->tfs[k] > max_tf) max_tf = t->tfs[k];
            if (r->lengths[t->docs[k]] < min_len) min_len = r->lengths[t->docs[k]];
        }
        cr_assert_eq(postings_block(c, b, &bi), SE_OK);
        cr_assert_eq(bi.last_doc, t->docs[hi - 1], "block %u", b);
        cr_assert_eq(bi.max_tf, max_tf, "block %u", b);
        cr_assert_eq(bi.min_len, min_len, "block %u", b);
    }
    cr_assert_eq(postings_block(c, nb, &bi), SE_INVALID);
    cr_assert_eq(postings_block(c, UINT32_MAX, &bi), SE_INVALID);
    free(c);
}

static void check_term(const segment *s, const rseg *r, const rterm *t, int moves)
{
    seg_term_info info;
    se_error err = {0};
    cr_assert_eq(segment_lookup(s, t->term, t->len, &info, &err), 1, "%.*s: %s", (int)t->len,
                 t->term, err.msg);
    check_info(s, r, t, &info);
    check_walk(s, t, &info, 1);
    check_walk(s, t, &info, 0);
    check_blocks(s, r, t, &info);
    for (int i = 0; i < moves; i++) {
        check_random_moves(s, t, &info, r->ndocs);
        check_sparse_positions(s, t, &info);
    }
}

/* ------------------------------------------------------------- documents */

static char *random_text(size_t len, size_t *out_len)
{
    static const char *words[] = {"alpha", "beta",  "gamma", "delta", "\xc3\xa9t\xc3\xa9",
                                  "zeta",  "eta\n", "theta", "iota",  "\xe2\x80\x9cq\xe2\x80\x9d"};
    char *s = xmalloc(len + 16);
    size_t n = 0;
    while (n < len) {
        const char *w = words[below(10)];
        size_t l = strlen(w);
        memcpy(s + n, w, l);
        n += l;
        s[n++] = below(7) ? ' ' : (char)('A' + below(26));
    }
    s[n] = 0;
    *out_len = n;
    return s;
}

static void check_document(const segment *s, const rseg *r, uint32_t d, seg_store_buffer *b)
{
    seg_document got;
    se_error err = {0};
    cr_assert_eq(segment_document(s, d, b, &got, &err), SE_OK, "doc %u: %s", d, err.msg);
    const rdoc *x = &r->docs[d];
    cr_assert_eq(got.id_len, x->id_len, "doc %u", d);
    cr_assert_eq(got.title_len, x->title_len, "doc %u", d);
    cr_assert_eq(got.text_len, x->text_len, "doc %u", d);
    cr_assert(memcmp(got.id, x->id, x->id_len) == 0, "doc %u id", d);
    cr_assert(got.title_len == 0 || memcmp(got.title, x->title, x->title_len) == 0);
    cr_assert(got.text_len == 0 || memcmp(got.text, x->text, x->text_len) == 0, "doc %u text", d);
}

/* The one-byte length codes: exact below 128, never above the length,
 * within 1/16 of it up to 32,767, monotone, and every code reached. */
Test(segment, length_codes)
{
    uint32_t prev_code = 0, prev_floor = 0;
    int seen[256] = {0};
    for (uint64_t len = 0; len <= 70000; len++) {
        uint8_t c = seg_length_code((uint32_t)len);
        uint32_t f = seg_length_floor(c);
        seen[c] = 1;
        cr_assert_leq(f, len, "length %llu", (unsigned long long)len);
        if (len < 128) cr_assert_eq(f, len);
        if (len < 32768)
            cr_assert_geq(16 * (uint64_t)f, 15 * len, "length %llu", (unsigned long long)len);
        cr_assert_geq(c, prev_code);
        cr_assert_geq(f, prev_floor);
        prev_code = c;
        prev_floor = f;
    }
    for (int c = 0; c < 256; c++) cr_assert(seen[c], "code %d", c);
    for (uint64_t len = 70000; len <= UINT32_MAX; len = len * 3 + 1) {
        cr_assert_eq(seg_length_code((uint32_t)len), 255);
        cr_assert_leq(seg_length_floor(255), len);
    }
    cr_assert_eq(seg_length_code(UINT32_MAX), 255);
}

Test(segment, documents_roundtrip)
{
    rng_seed(1);
    rseg r = {0};
    uint32_t n = 1500;
    r.ndocs = n;
    r.docs = xcalloc(n, sizeof *r.docs);
    r.lengths = xmalloc(n * sizeof *r.lengths);
    for (uint32_t d = 0; d < n; d++) {
        rdoc *x = &r.docs[d];
        char id[SEG_MAX_ID_LEN + 1];
        /* Ids share prefixes with their neighbours (front coding), some
         * entirely (a prefix of the next), some not at all. */
        int idl = snprintf(id, sizeof id, "doc-%u-%llx", d / 3, (unsigned long long)rnd());
        if (d % 50 == 10) idl = snprintf(id, sizeof id, "doc-%u", d / 3);
        if (d % 97 == 5) idl = snprintf(id, sizeof id, "%c", (char)('A' + d % 26));
        if (d == 7 || d == 8 || d == 33) { /* the longest ids, with long shared prefixes */
            memset(id, 'x', SEG_MAX_ID_LEN);
            id[SEG_MAX_ID_LEN - 1] = (char)('0' + d % 10);
            idl = d == 8 ? SEG_MAX_ID_LEN - 1 : SEG_MAX_ID_LEN;
        }
        x->id = xmalloc((size_t)idl + 1);
        memcpy(x->id, id, (size_t)idl);
        x->id_len = (size_t)idl;
        size_t tl = below(4) == 0 ? 0 : below(120);
        size_t xl = below(5) == 0 ? 0 : below(3000);
        if (d == 3) tl = xl = 0;     /* nothing at all */
        if (d == 100) xl = 200000;   /* a chunk of its own */
        if (d == 101) xl = 40000;    /* another one, just past the chunk size */
        if (d == n - 1) xl = 100000; /* the last document */
        x->title = random_text(tl, &x->title_len);
        if (tl == 0) x->title_len = 0;
        x->text = random_text(xl, &x->text_len);
        if (xl == 0) x->text_len = 0;
        r.lengths[d] = (uint32_t)below(100000);
    }
    r.lengths[5] = 0;
    r.lengths[6] = UINT32_MAX / 4;
    seg_meta meta;
    write_segment(&r, 3, &meta);
    segment *s = open_segment(&meta);
    cr_assert_eq(segment_number(s), 3);
    cr_assert_eq(segment_ndocs(s), n);
    cr_assert_eq(segment_nterms(s), 0);
    cr_assert_eq(segment_total_len(s), meta.total_len);
    const uint32_t *lengths = segment_lengths(s);
    cr_assert_eq((uintptr_t)lengths % 4, 0, "lengths are aligned");
    seg_id_iter it;
    seg_id_iter_init(&it, s);
    const uint8_t *codes = segment_length_codes(s);
    for (uint32_t d = 0; d < n; d++) {
        cr_assert_eq(lengths[d], r.lengths[d]);
        cr_assert_eq(codes[d], seg_length_code(r.lengths[d]), "doc %u", d);
        cr_assert_eq(segment_id_hash(s, d), id_hash_of(&r, d));
        cr_assert_eq(segment_content_hash(s, d), content_hash_of(&r, d));
        cr_assert_eq(seg_id_iter_next(&it), 1);
        cr_assert_eq(it.len, r.docs[d].id_len, "doc %u", d);
        cr_assert_eq(memcmp(it.id, r.docs[d].id, it.len), 0, "doc %u", d);
    }
    cr_assert_eq(seg_id_iter_next(&it), 0);
    /* Random access, backwards (every group restart and middle). */
    for (uint32_t d = n; d-- > 0;) {
        char id[SEG_MAX_ID_LEN];
        size_t len = segment_doc_id(s, d, id);
        cr_assert_eq(len, r.docs[d].id_len, "doc %u", d);
        cr_assert_eq(memcmp(id, r.docs[d].id, len), 0, "doc %u", d);
    }
    /* The store has several chunks (24-byte trailer: u32 chunk count). */
    const fio_map *sto = segment_file(s, SEG_STORE);
    uint32_t nchunks = fio_le32(sto->data + sto->size - FIO_FOOTER_SIZE - 24);
    cr_assert_leq(nchunks, n);
    cr_assert_gt(nchunks, 10, "%u chunks", nchunks);

    seg_store_buffer b1, b2;
    seg_store_buffer_init(&b1);
    seg_store_buffer_init(&b2);
    for (uint32_t d = 0; d < n; d++) check_document(s, &r, d, &b1); /* in order */
    for (uint32_t d = n; d-- > 0;) check_document(s, &r, d, &b2);   /* backwards */
    for (int i = 0; i < 3000; i++) check_document(s, &r, (uint32_t)below(n), i % 2 ? &b1 : &b2);
    seg_document doc;
    se_error err = {0};
    cr_assert_eq(segment_document(s, n, &b1, &doc, &err), SE_INVALID);
    cr_assert_eq(segment_document(s, UINT32_MAX, &b1, &doc, &err), SE_INVALID);
    check_document(s, &r, 0, &b1);

    /* A buffer moving between two segments reloads its chunk. */
    seg_meta meta2;
    rseg r2 = {0};
    r2.ndocs = 2;
    r2.docs = xcalloc(2, sizeof *r2.docs);
    r2.lengths = xcalloc(2, sizeof *r2.lengths);
    for (uint32_t d = 0; d < 2; d++) {
        r2.docs[d].id = random_text(10, &r2.docs[d].id_len);
        r2.docs[d].title = random_text(10, &r2.docs[d].title_len);
        r2.docs[d].text = random_text(10, &r2.docs[d].text_len);
    }
    write_segment(&r2, 4, &meta2);
    segment *s2 = open_segment(&meta2);
    check_document(s, &r, 0, &b1);
    check_document(s2, &r2, 0, &b1);
    check_document(s, &r, 1, &b1);
    check_document(s2, &r2, 1, &b1);
    seg_store_buffer_free(&b1);
    seg_store_buffer_free(&b2);
    segment_close(s2);
    segment_close(s);
    rseg_free(&r);
    rseg_free(&r2);
}

Test(segment, empty_segments)
{
    /* No documents, no terms. */
    rseg r = {0};
    seg_meta meta;
    write_segment(&r, 0, &meta);
    segment *s = open_segment(&meta);
    cr_assert_eq(segment_ndocs(s), 0);
    cr_assert_eq(segment_nterms(s), 0);
    cr_assert_eq(segment_total_len(s), 0);
    seg_term_info info;
    cr_assert_eq(segment_lookup(s, "a", 1, &info, NULL), 0);
    seg_term_iter it;
    seg_term_iter_init(&it, s);
    cr_assert_eq(seg_term_iter_next(&it, &info, NULL), 0);
    seg_store_buffer b;
    seg_store_buffer_init(&b);
    seg_document doc;
    cr_assert_eq(segment_document(s, 0, &b, &doc, NULL), SE_INVALID);
    seg_store_buffer_free(&b);
    segment_close(s);

    /* Documents without terms. */
    plain_docs(&r, 5);
    write_segment(&r, 1, &meta);
    s = open_segment(&meta);
    cr_assert_eq(segment_ndocs(s), 5);
    cr_assert_eq(segment_nterms(s), 0);
    cr_assert_eq(segment_lookup(s, "a", 1, &info, NULL), 0);
    seg_store_buffer_init(&b);
    for (uint32_t d = 0; d < 5; d++) {
        cr_assert_eq(segment_document(s, d, &b, &doc, NULL), SE_OK);
        cr_assert_eq(doc.title_len + doc.text_len, 0);
        char id[SEG_MAX_ID_LEN];
        size_t id_len = segment_doc_id(s, d, id);
        cr_assert(id_len == doc.id_len && memcmp(id, doc.id, id_len) == 0);
        cr_assert_eq(segment_lengths(s)[d], r.lengths[d]);
    }
    seg_store_buffer_free(&b);
    segment_close(s);
    rseg_free(&r);
}

/* ------------------------------------------------------------- dictionary */

static void add_term(rterm *terms, size_t *n, const char *t, size_t len)
{
    rterm *x = &terms[(*n)++];
    memset(x, 0, sizeof *x);
    memcpy(x->term, t, len);
    x->len = len;
}

/* Expected lookup answer: binary search of the sorted reference. */
static const rterm *ref_find(const rseg *r, const char *t, size_t len)
{
    size_t lo = 0, hi = r->nterms;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = bytes_cmp(r->terms[mid].term, r->terms[mid].len, t, len);
        if (c == 0) return &r->terms[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static void check_lookup(const segment *s, const rseg *r, const char *t, size_t len)
{
    seg_term_info info;
    se_error err = {0};
    const rterm *want = ref_find(r, t, len);
    int rc = segment_lookup(s, t, len, &info, &err);
    cr_assert_eq(rc, want ? 1 : 0, "lookup of %zu bytes \"%.*s\": %d (%s)", len, (int)len, t, rc,
                 err.msg);
    if (want) check_info(s, r, want, &info);
}

Test(segment, dictionary)
{
    rng_seed(2);
    rseg r = {0};
    plain_docs(&r, 50);
    size_t cap = 4000;
    r.terms = xcalloc(cap, sizeof *r.terms);
    size_t n = 0;
    char t[300];
    /* Prefix-sharing families, several dictionary blocks' worth. */
    for (int i = 0; i < 700; i++) add_term(r.terms, &n, t, (size_t)sprintf(t, "pre%04d", i * 3));
    for (int i = 0; i < 40; i++) add_term(r.terms, &n, t, (size_t)sprintf(t, "pre%04dx", i * 3));
    for (int i = 0; i < 130; i++)
        add_term(r.terms, &n, t, (size_t)sprintf(t, "prefix/shared/long/stem/%03d", i));
    for (int l = 1; l <= 70; l++) { /* "b", "bb", "bbb", ...: each a prefix of the next */
        memset(t, 'b', (size_t)l);
        add_term(r.terms, &n, t, (size_t)l);
    }
    /* 255-byte terms, sharing all but their last bytes. */
    for (int i = 0; i < 5; i++) {
        memset(t, 'y', 255);
        t[254] = (char)('a' + i);
        add_term(r.terms, &n, t, 255);
        t[253] = 'c';
        add_term(r.terms, &n, t, 255);
    }
    memset(t, 'y', 254);
    add_term(r.terms, &n, t, 254);
    /* Bytes above 0x7f sort after ASCII. */
    add_term(r.terms, &n, "\xc3\xa9t\xc3\xa9", 6);
    add_term(r.terms, &n, "\xc3\xa9", 2);
    add_term(r.terms, &n, "\xff", 1);
    add_term(r.terms, &n, "\xff\xfe", 2);
    memset(t, 0xff, 255);
    add_term(r.terms, &n, t, 255);
    add_term(r.terms, &n, "c", 1);
    add_term(r.terms, &n, "ca", 2);
    add_term(r.terms, &n, "c\x01", 2);
    /* Lookups order blocks by a term's first 8 bytes, zero-padded, and
     * compare whole terms only on a tie: blocks whose first terms all
     * share those 8 bytes, and terms holding zero bytes (the padding's
     * value) before and after the 8th. */
    for (int i = 0; i < 150; i++) add_term(r.terms, &n, t, (size_t)sprintf(t, "eightkey%03d", i));
    add_term(r.terms, &n, "eightkey", 8);
    add_term(r.terms, &n, "eightke", 7);
    add_term(r.terms, &n, "eightke\0", 8);
    add_term(r.terms, &n, "eightkey\0", 9);
    for (int i = 0; i < 70; i++) {
        size_t l = (size_t)sprintf(t, "nul_%03d", i);
        t[3] = 0;
        add_term(r.terms, &n, t, l);
    }
    add_term(r.terms, &n, "nul", 3);
    add_term(r.terms, &n, "nul\0", 4);
    qsort(r.terms, n, sizeof *r.terms, rterm_cmp);
    r.nterms = n;
    for (size_t i = 0; i < n; i++) {
        rterm *x = &r.terms[i];
        uint32_t df = 1 + (uint32_t)below(3);
        x->df = df;
        x->docs = xmalloc(df * sizeof *x->docs);
        x->tfs = xmalloc(df * sizeof *x->tfs);
        x->pstart = xmalloc((df + 1) * sizeof *x->pstart);
        x->pos = xmalloc(df * 3 * sizeof *x->pos);
        uint32_t d = (uint32_t)below(10);
        size_t at = 0;
        for (uint32_t k = 0; k < df; k++) {
            x->docs[k] = d;
            d += 1 + (uint32_t)below(15);
            x->tfs[k] = 1 + (uint32_t)below(3);
            x->pstart[k] = at;
            gen_positions(x->pos + at, x->tfs[k], 0);
            at += x->tfs[k];
        }
        x->pstart[df] = at;
    }
    cr_assert_gt(n, 4 * SEG_DICT_BLOCK_TERMS);
    seg_meta meta;
    write_segment(&r, 9, &meta);
    segment *s = open_segment(&meta);
    cr_assert_eq(segment_nterms(s), n);

    /* The iterator walks every term in order with the lookup's info. */
    seg_term_iter it;
    seg_term_iter_init(&it, s);
    seg_term_info info, info2;
    se_error err = {0};
    for (size_t i = 0; i < n; i++) {
        cr_assert_eq(seg_term_iter_next(&it, &info, &err), 1, "term %zu: %s", i, err.msg);
        cr_assert_eq(it.term_len, r.terms[i].len, "term %zu", i);
        cr_assert_eq(memcmp(it.term, r.terms[i].term, it.term_len), 0, "term %zu", i);
        cr_assert_eq(it.term[it.term_len], 0);
        check_info(s, &r, &r.terms[i], &info);
        cr_assert_eq(segment_lookup(s, it.term, it.term_len, &info2, &err), 1);
        cr_assert(info.df == info2.df && info.cf == info2.cf && info.doc_off == info2.doc_off &&
                      info.doc_len == info2.doc_len && info.pos_off == info2.pos_off &&
                      info.pos_len == info2.pos_len && info.max_tf == info2.max_tf &&
                      info.min_len == info2.min_len,
                  "term %zu: lookup and iterator disagree", i);
        check_walk(s, &r.terms[i], &info, 1);
    }
    cr_assert_eq(seg_term_iter_next(&it, &info, &err), 0);
    cr_assert_eq(seg_term_iter_next(&it, &info, &err), 0);

    /* First and last terms, and strings around every term. */
    check_lookup(s, &r, r.terms[0].term, r.terms[0].len);
    check_lookup(s, &r, r.terms[n - 1].term, r.terms[n - 1].len);
    cr_assert_eq(segment_lookup(s, "a", 1, &info, NULL), 0, "before the first term");
    cr_assert_eq(segment_lookup(s, "\x01", 1, &info, NULL), 0);
    cr_assert_eq(segment_lookup(s, "", 0, &info, NULL), 0, "empty string");
    memset(t, 0xff, 256);
    cr_assert_eq(segment_lookup(s, t, 256, &info, NULL), 0, "longer than any term");
    cr_assert_eq(segment_lookup(s, t, 254, &info, NULL), 0);
    cr_assert_eq(segment_lookup(s, "\xff\xff", 2, &info, NULL), 0);
    cr_assert_eq(segment_lookup(s, "\xff\xff\xff", 3, &info, NULL), 0);
    cr_assert_eq(segment_lookup(s, "pre0001", 7, &info, NULL), 0, "between two terms");
    cr_assert_eq(segment_lookup(s, "pre", 3, &info, NULL), 0, "a prefix of terms");
    cr_assert_eq(segment_lookup(s, "pre00000", 8, &info, NULL), 0, "an extension of a term");
    for (size_t i = 0; i < n; i++) {
        const rterm *x = &r.terms[i];
        memcpy(t, x->term, x->len);
        check_lookup(s, &r, t, x->len);
        for (size_t l = 1; l < x->len; l += 1 + l / 8) check_lookup(s, &r, t, l); /* prefixes */
        const char ext[] = {0, 1, 'a', 'z', (char)0x80, (char)0xff};
        if (x->len < 255)
            for (size_t e = 0; e < sizeof ext; e++) { /* extensions */
                t[x->len] = ext[e];
                check_lookup(s, &r, t, x->len + 1);
            }
        /* Last byte changed by one either way. */
        t[x->len - 1] = (char)(x->term[x->len - 1] + 1);
        check_lookup(s, &r, t, x->len);
        t[x->len - 1] = (char)(x->term[x->len - 1] - 1);
        check_lookup(s, &r, t, x->len);
    }
    segment_close(s);
    rseg_free(&r);
}

/* ------------------------------------------------------------- postings */

static const uint32_t dfs[] = {1, 2, 127, 128, 129, 255, 256, 257, 1000, 5000};
#define NDFS (sizeof dfs / sizeof dfs[0])

static void postings_suite(uint64_t seed, int huge_pos)
{
    rng_seed(seed);
    rseg r = {0};
    r.nterms = NDFS * NPATTERNS;
    r.terms = xcalloc(r.nterms, sizeof *r.terms);
    uint32_t last = 0;
    for (size_t p = 0; p < NPATTERNS; p++)
        for (size_t i = 0; i < NDFS; i++) {
            rterm *x = &r.terms[p * NDFS + i];
            x->len = (size_t)sprintf(x->term, "p%zu_df%05u", p, dfs[i]);
            uint32_t l = gen_postings(x, dfs[i], (enum pattern)p, huge_pos);
            if (l > last) last = l;
        }
    plain_docs(&r, last + 1 + (uint32_t)below(100));
    /* A few documents of length 0 and a huge one among the postings. */
    r.lengths[r.terms[0].docs[0]] = 0;
    r.lengths[r.terms[NDFS - 1].docs[77]] = UINT32_MAX - 1;
    seg_meta meta;
    write_segment(&r, 1, &meta);
    segment *s = open_segment(&meta);
    for (size_t i = 0; i < r.nterms; i++) check_term(s, &r, &r.terms[i], 8);
    segment_close(s);
    rseg_free(&r);
}

Test(segment, postings_roundtrip)
{
    postings_suite(3, 0);
}

Test(segment, postings_huge_position_gaps)
{
    postings_suite(4, 1);
}

/* r written as segment `number` with the terms from `split` on written
 * into a postings part (as a merge's second thread does) and appended. */
static void write_segment_parts(const rseg *r, uint32_t number, size_t split, seg_meta *meta)
{
    segment_writer *w, *part;
    se_error err = {0};
    cr_assert_eq(segw_create(&w, g_tmp, number, 1, &err), SE_OK, "%s", err.msg);
    cr_assert_eq(segw_part_create(&part, number, r->lengths, r->ndocs, &err), SE_OK);
    /* The part's terms first: it only needs the lengths, not the documents. */
    for (size_t i = split; i < r->nterms; i++) {
        const rterm *t = &r->terms[i];
        cr_assert_eq(segw_begin_term(part, t->term, t->len, &err), SE_OK, "%s", err.msg);
        for (uint32_t k = 0; k < t->df; k++)
            cr_assert_eq(segw_add_posting(part, t->docs[k], t->tfs[k], t->pos + t->pstart[k], &err),
                         SE_OK, "%s", err.msg);
        cr_assert_eq(segw_end_term(part, &err), SE_OK, "%s", err.msg);
    }
    for (uint32_t d = 0; d < r->ndocs; d++) {
        char id[SEG_MAX_ID_LEN];
        seg_document sd = {id, id_of(r, d, id), "", 0, "", 0};
        cr_assert_eq(segw_add_document(w, &sd, r->lengths[d], 0, content_hash_of(r, d), &err),
                     SE_OK, "%s", err.msg);
    }
    for (size_t i = 0; i < split; i++) {
        const rterm *t = &r->terms[i];
        cr_assert_eq(segw_begin_term(w, t->term, t->len, &err), SE_OK, "%s", err.msg);
        for (uint32_t k = 0; k < t->df; k++)
            cr_assert_eq(segw_add_posting(w, t->docs[k], t->tfs[k], t->pos + t->pstart[k], &err),
                         SE_OK, "%s", err.msg);
        cr_assert_eq(segw_end_term(w, &err), SE_OK, "%s", err.msg);
    }
    cr_assert_eq(segw_part_append(w, part, &err), SE_OK, "%s", err.msg);
    cr_assert_eq(segw_finish(w, meta, &err), SE_OK, "%s", err.msg);
}

/* A segment written with a postings part holds the bytes of the same
 * segment written by one writer, wherever the part begins. */
Test(segment, postings_part_gives_the_same_bytes)
{
    rng_seed(6);
    rseg r = {0};
    r.nterms = NDFS * NPATTERNS;
    r.terms = xcalloc(r.nterms, sizeof *r.terms);
    uint32_t last = 0;
    for (size_t p = 0; p < NPATTERNS; p++)
        for (size_t i = 0; i < NDFS; i++) {
            rterm *x = &r.terms[p * NDFS + i];
            x->len = (size_t)sprintf(x->term, "p%zu_df%05u", p, dfs[i]);
            uint32_t l = gen_postings(x, dfs[i], (enum pattern)p, 0);
            if (l > last) last = l;
        }
    plain_docs(&r, last + 1);
    seg_meta ref;
    write_segment(&r, 1, &ref);
    size_t splits[] = {0, 1, r.nterms / 3, r.nterms / 2, r.nterms - 1, r.nterms};
    for (size_t k = 0; k < sizeof splits / sizeof splits[0]; k++) {
        seg_meta meta;
        write_segment_parts(&r, 10 + (uint32_t)k, splits[k], &meta);
        cr_assert_eq(meta.nterms, ref.nterms);
        for (int f = 0; f < SEG_NFILES; f++) {
            cr_assert_eq(meta.files[f].size, ref.files[f].size, "split %zu, file .%s", splits[k],
                         seg_file_ext[f]);
            cr_assert_eq(meta.files[f].checksum, ref.files[f].checksum, "split %zu, file .%s",
                         splits[k], seg_file_ext[f]);
        }
    }
    segment *s = open_segment(&ref);
    for (size_t i = 0; i < r.nterms; i++) check_term(s, &r, &r.terms[i], 2);
    segment_close(s);
    rseg_free(&r);
}

/* A part whose first term does not sort after the writer's last, or made
 * for another number of documents, is refused. */
Test(segment, postings_part_out_of_order_is_refused)
{
    uint32_t lengths[3] = {2, 3, 4};
    uint32_t pos[] = {0};
    for (int c = 0; c < 2; c++) {
        segment_writer *w, *part;
        se_error err = {0};
        cr_assert_eq(segw_create(&w, g_tmp, 30 + (uint32_t)c, 1, &err), SE_OK);
        seg_document d = {"id", 2, "", 0, "", 0};
        for (int i = 0; i < 3; i++)
            cr_assert_eq(segw_add_document(w, &d, lengths[i], 0, 0, &err), SE_OK);
        cr_assert_eq(segw_part_create(&part, 30, lengths, c == 0 ? 3 : 2, &err), SE_OK);
        cr_assert_eq(segw_begin_term(part, "b", 1, &err), SE_OK);
        cr_assert_eq(segw_add_posting(part, 1, 1, pos, &err), SE_OK);
        cr_assert_eq(segw_end_term(part, &err), SE_OK);
        cr_assert_eq(segw_begin_term(w, "b", 1, &err), SE_OK);
        cr_assert_eq(segw_add_posting(w, 0, 1, pos, &err), SE_OK);
        cr_assert_eq(segw_end_term(w, &err), SE_OK);
        cr_assert_eq(segw_part_append(w, part, &err), SE_INVALID);
        cr_assert_neq(err.msg[0], 0);
        seg_meta meta;
        cr_assert_eq(segw_finish(w, &meta, &err), SE_INVALID);
    }
}

/* Doc-id gaps as large as a test can afford: 2^21 documents. */
Test(segment, postings_large_doc_gaps)
{
    rng_seed(5);
    rseg r = {0};
    uint32_t ndocs = (1u << 21) + 3;
    plain_docs(&r, ndocs);
    r.nterms = 2 * NDFS;
    r.terms = xcalloc(r.nterms, sizeof *r.terms);
    for (size_t i = 0; i < NDFS; i++) {
        uint32_t df = dfs[i];
        for (int v = 0; v < 2; v++) {
            rterm *x = &r.terms[2 * i + (size_t)v];
            x->len = (size_t)sprintf(x->term, "g%05u_%d", df, v);
            x->df = df;
            x->docs = xmalloc(df * sizeof *x->docs);
            x->tfs = xmalloc(df * sizeof *x->tfs);
            x->pstart = xmalloc((df + 1) * sizeof *x->pstart);
            if (v == 0) {
                /* Spread uniformly: gaps of about ndocs / df; the last doc
                 * is the segment's last. */
                uint64_t step = ndocs / df;
                for (uint32_t k = 0; k < df; k++) x->docs[k] = (uint32_t)(k * step + below(step));
                x->docs[df - 1] = ndocs - 1;
            } else {
                /* Consecutive runs at both ends and one gap of ~2^21
                 * (inside a full block when df >= 256). */
                uint32_t half = df / 2;
                for (uint32_t k = 0; k < df; k++) x->docs[k] = k < half ? k : ndocs - (df - k);
            }
            size_t total = 0;
            for (uint32_t k = 0; k < df; k++) {
                uint64_t t = below(100);
                x->tfs[k] = t < 50   ? 1
                            : t < 98 ? 1 + (uint32_t)below(50)
                                     : 1 + (uint32_t)below(100000);
                if (df > 300) x->tfs[k] = 1 + (uint32_t)below(4);
                x->pstart[k] = total;
                total += x->tfs[k];
            }
            x->pstart[df] = total;
            x->pos = xmalloc(total * sizeof *x->pos);
            for (uint32_t k = 0; k < df; k++) gen_positions(x->pos + x->pstart[k], x->tfs[k], 1);
        }
    }
    qsort(r.terms, r.nterms, sizeof *r.terms, rterm_cmp);
    seg_meta meta;
    write_segment(&r, 2, &meta);
    segment *s = open_segment(&meta);
    for (size_t i = 0; i < r.nterms; i++) check_term(s, &r, &r.terms[i], 4);
    segment_close(s);
    rseg_free(&r);
}

/* ------------------------------------------------------------- errors */

/* A small valid segment: 3 documents, terms "a" and "b". */
static void small_segment(uint32_t number, seg_meta *meta)
{
    segment_writer *w;
    se_error err = {0};
    cr_assert_eq(segw_create(&w, g_tmp, number, 6, &err), SE_OK);
    seg_document d = {"id", 2, "title", 5, "text", 4};
    for (int i = 0; i < 3; i++)
        cr_assert_eq(segw_add_document(w, &d, 2 + (uint32_t)i, 0, (uint64_t)i, &err), SE_OK);
    uint32_t pos[] = {0, 5};
    cr_assert_eq(segw_begin_term(w, "a", 1, &err), SE_OK);
    cr_assert_eq(segw_add_posting(w, 0, 2, pos, &err), SE_OK);
    cr_assert_eq(segw_add_posting(w, 2, 1, pos, &err), SE_OK);
    cr_assert_eq(segw_end_term(w, &err), SE_OK);
    cr_assert_eq(segw_begin_term(w, "b", 1, &err), SE_OK);
    cr_assert_eq(segw_add_posting(w, 1, 1, pos + 1, &err), SE_OK);
    cr_assert_eq(segw_end_term(w, &err), SE_OK);
    cr_assert_eq(segw_finish(w, meta, &err), SE_OK, "%s", err.msg);
}

static int open_code(const seg_meta *meta, int check)
{
    segment *s = (segment *)1;
    se_error err = {0};
    int rc = segment_open(&s, g_tmp, meta, check, &err);
    if (rc == SE_OK) {
        segment_close(s);
    } else {
        cr_assert_null(s);
        cr_assert_neq(err.msg[0], 0);
    }
    return rc;
}

Test(segment, open_checks_meta)
{
    seg_meta meta, other;
    small_segment(1, &meta);
    small_segment(2, &other);
    cr_assert_eq(open_code(&meta, 1), SE_OK);
    cr_assert_eq(meta.ndocs, 3);
    cr_assert_eq(meta.total_len, 9);
    cr_assert_eq(meta.nterms, 2);
    for (int f = 0; f < SEG_NFILES; f++) {
        seg_meta bad = meta;
        bad.files[f].size++;
        cr_assert_eq(open_code(&bad, 1), SE_CORRUPT, "file %d size", f);
        cr_assert_eq(open_code(&bad, 0), SE_OK, "not checked without check_meta");
        bad = meta;
        bad.files[f].checksum ^= 1;
        cr_assert_eq(open_code(&bad, 1), SE_CORRUPT, "file %d checksum", f);
    }
    seg_meta bad = meta;
    bad.nterms = 3;
    cr_assert_eq(open_code(&bad, 1), SE_CORRUPT);
    cr_assert_eq(open_code(&bad, 0), SE_OK);
    /* The document count and total length always have to agree. */
    bad = meta;
    bad.ndocs = 4;
    cr_assert_eq(open_code(&bad, 1), SE_CORRUPT);
    cr_assert_eq(open_code(&bad, 0), SE_CORRUPT);
    bad.ndocs = 2;
    cr_assert_eq(open_code(&bad, 0), SE_CORRUPT);
    bad = meta;
    bad.total_len = 10;
    cr_assert_eq(open_code(&bad, 0), SE_CORRUPT);
    /* The same input gives the same bytes (the number is not stored). */
    cr_assert_eq(memcmp(meta.files, other.files, sizeof meta.files), 0, "deterministic writer");
    bad = meta;
    bad.number = 7;
    cr_assert_eq(open_code(&bad, 1), SE_NOTFOUND);
}

static void copy_file(const char *from, const char *to)
{
    uint8_t *data;
    size_t len;
    cr_assert_eq(fio_read_file(from, &data, &len, NULL), SE_OK);
    FILE *fp = fopen(to, "wb");
    cr_assert_not_null(fp);
    cr_assert_eq(fwrite(data, 1, len, fp), len);
    cr_assert_eq(fclose(fp), 0);
    free(data);
}

/* Damaged files fail to open; a file of another segment put in place of
 * one is caught by the manifest's checksum. */
Test(segment, open_damaged_files)
{
    seg_meta meta;
    small_segment(1, &meta);
    rseg r = {0};
    plain_docs(&r, 4);
    seg_meta meta2;
    write_segment(&r, 2, &meta2);
    rseg_free(&r);
    for (int f = 0; f < SEG_NFILES; f++) {
        char path[PATH_MAX], other[PATH_MAX], saved[PATH_MAX + 8];
        cr_assert_eq(seg_file_path(path, sizeof path, g_tmp, 1, f), SE_OK);
        cr_assert_eq(seg_file_path(other, sizeof other, g_tmp, 2, f), SE_OK);
        snprintf(saved, sizeof saved, "%s.saved", path);
        cr_assert_eq(rename(path, saved), 0);
        cr_assert_eq(open_code(&meta, 1), SE_NOTFOUND, "file %d missing", f);
        /* Another valid file of the same kind. */
        copy_file(other, path);
        cr_assert_eq(open_code(&meta, 1), SE_CORRUPT, "file %d swapped", f);
        /* The right file with one byte flipped in its body. */
        copy_file(saved, path);
        FILE *fp = fopen(path, "r+b");
        cr_assert_not_null(fp);
        fseek(fp, 0, SEEK_END);
        long size = ftell(fp);
        fseek(fp, FIO_HEADER_SIZE + (size - 32) / 2, SEEK_SET);
        int c = fgetc(fp);
        fseek(fp, FIO_HEADER_SIZE + (size - 32) / 2, SEEK_SET);
        fputc(c ^ 0x20, fp);
        fclose(fp);
        cr_assert_eq(open_code(&meta, 1), SE_CORRUPT, "file %d flipped", f);
        cr_assert_eq(open_code(&meta, 0), SE_CORRUPT, "file %d flipped", f);
        cr_assert_eq(rename(saved, path), 0);
        cr_assert_eq(open_code(&meta, 1), SE_OK);
    }
}

/* The files of a writer that failed or was aborted are gone. */
static void assert_no_files(uint32_t number)
{
    for (int f = 0; f < SEG_NFILES; f++) {
        char path[PATH_MAX];
        seg_file_path(path, sizeof path, g_tmp, number, f);
        cr_assert(!file_exists(path), "%s left behind", path);
    }
}

/* Start a writer with 4 documents, run `bad` on it, and check that it fails
 * with `code`, that the error sticks and that finish removes the files. */
typedef int (*bad_fn)(segment_writer *w, se_error *err);

static void expect_reject(bad_fn bad, int code, const char *what)
{
    static uint32_t number = 100;
    number++;
    segment_writer *w;
    se_error err = {0};
    cr_assert_eq(segw_create(&w, g_tmp, number, 1, &err), SE_OK);
    seg_document d = {"i", 1, "", 0, "t", 1};
    for (int i = 0; i < 4; i++) cr_assert_eq(segw_add_document(w, &d, 3, 0, 0, &err), SE_OK);
    err.msg[0] = 0;
    cr_assert_eq(bad(w, &err), code, "%s", what);
    cr_assert_eq(err.code, code, "%s", what);
    cr_assert_neq(err.msg[0], 0, "%s: no message", what);
    uint32_t pos[] = {1};
    cr_assert_eq(segw_begin_term(w, "zzz", 3, &err), code, "%s: sticky", what);
    cr_assert_eq(segw_add_posting(w, 3, 1, pos, &err), code, "%s: sticky", what);
    cr_assert_eq(segw_end_term(w, &err), code, "%s: sticky", what);
    seg_meta meta;
    cr_assert_eq(segw_finish(w, &meta, &err), code, "%s: finish", what);
    assert_no_files(number);
}

static const uint32_t P012[] = {0, 1, 2};

static int bad_term_order_equal(segment_writer *w, se_error *err)
{
    segw_begin_term(w, "b", 1, err);
    segw_add_posting(w, 0, 1, P012, err);
    segw_end_term(w, err);
    return segw_begin_term(w, "b", 1, err);
}
static int bad_term_order_less(segment_writer *w, se_error *err)
{
    segw_begin_term(w, "ba", 2, err);
    segw_add_posting(w, 0, 1, P012, err);
    segw_end_term(w, err);
    return segw_begin_term(w, "b", 1, err);
}
static int bad_term_order_bytes(segment_writer *w, se_error *err)
{
    segw_begin_term(w, "\xc3", 1, err); /* unsigned: after ASCII */
    segw_add_posting(w, 0, 1, P012, err);
    segw_end_term(w, err);
    return segw_begin_term(w, "z", 1, err);
}
static int bad_doc_order_equal(segment_writer *w, se_error *err)
{
    segw_begin_term(w, "a", 1, err);
    segw_add_posting(w, 1, 1, P012, err);
    return segw_add_posting(w, 1, 1, P012, err);
}
static int bad_doc_order_less(segment_writer *w, se_error *err)
{
    segw_begin_term(w, "a", 1, err);
    segw_add_posting(w, 2, 1, P012, err);
    return segw_add_posting(w, 1, 1, P012, err);
}
static int bad_doc_out_of_range(segment_writer *w, se_error *err)
{
    segw_begin_term(w, "a", 1, err);
    return segw_add_posting(w, 4, 1, P012, err);
}
static int bad_tf_zero(segment_writer *w, se_error *err)
{
    segw_begin_term(w, "a", 1, err);
    return segw_add_posting(w, 0, 0, P012, err);
}
static int bad_positions_equal(segment_writer *w, se_error *err)
{
    static const uint32_t p[] = {3, 3};
    segw_begin_term(w, "a", 1, err);
    return segw_add_posting(w, 0, 2, p, err);
}
static int bad_positions_less(segment_writer *w, se_error *err)
{
    static const uint32_t p[] = {0, 9, 8};
    segw_begin_term(w, "a", 1, err);
    return segw_add_posting(w, 0, 3, p, err);
}
static int bad_empty_term(segment_writer *w, se_error *err)
{
    segw_begin_term(w, "a", 1, err);
    return segw_end_term(w, err);
}
static int bad_term_length_zero(segment_writer *w, se_error *err)
{
    return segw_begin_term(w, "", 0, err);
}
static int bad_term_length_256(segment_writer *w, se_error *err)
{
    static char t[256];
    memset(t, 'q', sizeof t);
    return segw_begin_term(w, t, 256, err);
}
static int bad_posting_outside_term(segment_writer *w, se_error *err)
{
    return segw_add_posting(w, 0, 1, P012, err);
}
static int bad_end_outside_term(segment_writer *w, se_error *err)
{
    return segw_end_term(w, err);
}
static int bad_nested_term(segment_writer *w, se_error *err)
{
    segw_begin_term(w, "a", 1, err);
    segw_add_posting(w, 0, 1, P012, err);
    return segw_begin_term(w, "b", 1, err);
}
static int bad_document_after_terms(segment_writer *w, se_error *err)
{
    seg_document d = {"i", 1, "", 0, "", 0};
    segw_begin_term(w, "a", 1, err);
    segw_add_posting(w, 0, 1, P012, err);
    segw_end_term(w, err);
    return segw_add_document(w, &d, 1, 0, 0, err);
}
static int bad_id_empty(segment_writer *w, se_error *err)
{
    seg_document d = {"", 0, "", 0, "t", 1};
    return segw_add_document(w, &d, 1, 0, 0, err);
}
static int bad_id_too_long(segment_writer *w, se_error *err)
{
    static char id[SEG_MAX_ID_LEN + 1];
    memset(id, 'i', sizeof id);
    seg_document d = {id, sizeof id, "", 0, "t", 1};
    return segw_add_document(w, &d, 1, 0, 0, err);
}
static int bad_document_in_term(segment_writer *w, se_error *err)
{
    seg_document d = {"i", 1, "", 0, "", 0};
    segw_begin_term(w, "a", 1, err);
    return segw_add_document(w, &d, 1, 0, 0, err);
}

Test(segment, writer_rejects_bad_input)
{
    expect_reject(bad_term_order_equal, SE_INVALID, "same term twice");
    expect_reject(bad_term_order_less, SE_INVALID, "terms decreasing");
    expect_reject(bad_term_order_bytes, SE_INVALID, "terms decreasing (byte >= 0x80)");
    expect_reject(bad_doc_order_equal, SE_INVALID, "same doc twice");
    expect_reject(bad_doc_order_less, SE_INVALID, "docs decreasing");
    expect_reject(bad_doc_out_of_range, SE_INVALID, "doc beyond the documents");
    expect_reject(bad_tf_zero, SE_INVALID, "tf 0");
    expect_reject(bad_positions_equal, SE_INVALID, "positions repeated");
    expect_reject(bad_positions_less, SE_INVALID, "positions decreasing");
    expect_reject(bad_empty_term, SE_INVALID, "term without postings");
    expect_reject(bad_term_length_zero, SE_INVALID, "empty term");
    expect_reject(bad_term_length_256, SE_INVALID, "term of 256 bytes");
    expect_reject(bad_posting_outside_term, SE_INVALID, "posting outside a term");
    expect_reject(bad_end_outside_term, SE_INVALID, "end without begin");
    expect_reject(bad_nested_term, SE_INVALID, "begin inside a term");
    expect_reject(bad_document_after_terms, SE_INVALID, "document after terms");
    expect_reject(bad_document_in_term, SE_INVALID, "document inside a term");
    expect_reject(bad_id_empty, SE_INVALID, "empty id");
    expect_reject(bad_id_too_long, SE_INVALID, "id over SEG_MAX_ID_LEN bytes");

    /* finish inside a term fails and leaves nothing. */
    segment_writer *w;
    se_error err = {0};
    cr_assert_eq(segw_create(&w, g_tmp, 50, 1, &err), SE_OK);
    seg_document d = {"i", 1, "", 0, "", 0};
    cr_assert_eq(segw_add_document(w, &d, 1, 0, 0, &err), SE_OK);
    cr_assert_eq(segw_begin_term(w, "a", 1, &err), SE_OK);
    cr_assert_eq(segw_add_posting(w, 0, 1, P012, &err), SE_OK);
    seg_meta meta;
    cr_assert_eq(segw_finish(w, &meta, &err), SE_INVALID);
    assert_no_files(50);

    /* abort removes the files. */
    cr_assert_eq(segw_create(&w, g_tmp, 51, 1, &err), SE_OK);
    cr_assert_eq(segw_add_document(w, &d, 1, 0, 0, &err), SE_OK);
    segw_abort(w);
    assert_no_files(51);
    segw_abort(NULL);

    /* The files of an existing segment are never overwritten. */
    small_segment(52, &meta);
    cr_assert_eq(segw_create(&w, g_tmp, 52, 1, &err), SE_IO);
    cr_assert_eq(open_code(&meta, 1), SE_OK, "the existing segment is intact");
    /* A directory that does not exist. */
    char missing[PATH_MAX];
    snprintf(missing, sizeof missing, "%s/missing", g_tmp);
    cr_assert_eq(segw_create(&w, missing, 1, 1, &err), SE_IO);
}

/* r as ndocs plain documents and the one term "x" with df postings,
 * whose arrays (not positions) are allocated for the caller to fill. */
static rterm *one_term(rseg *r, uint32_t ndocs, uint32_t df)
{
    plain_docs(r, ndocs);
    r->nterms = 1;
    r->terms = xcalloc(1, sizeof *r->terms);
    rterm *x = &r->terms[0];
    x->len = 1;
    x->term[0] = 'x';
    x->df = df;
    x->docs = xmalloc(df * sizeof *x->docs);
    x->tfs = xmalloc(df * sizeof *x->tfs);
    x->pstart = xmalloc((df + 1) * sizeof *x->pstart);
    return x;
}

/* Write r (from one_term, filled) as a segment and check its term. */
static void check_one_term(rseg *r)
{
    seg_meta meta;
    write_segment(r, 1, &meta);
    segment *s = open_segment(&meta);
    check_term(s, r, &r->terms[0], 1);
    segment_close(s);
    rseg_free(r);
}

/* Positions may start at 0 and reach UINT32_MAX; the largest tf works. */
Test(segment, extreme_positions)
{
    rseg r = {0};
    rterm *x = one_term(&r, 3, 3);
    uint32_t big = 300000;
    x->pos = xmalloc((3 + big) * sizeof *x->pos);
    x->docs[0] = 0, x->tfs[0] = 2, x->pstart[0] = 0;
    x->pos[0] = 0, x->pos[1] = UINT32_MAX;
    x->docs[1] = 1, x->tfs[1] = 1, x->pstart[1] = 2;
    x->pos[2] = UINT32_MAX;
    x->docs[2] = 2, x->tfs[2] = big, x->pstart[2] = 3;
    for (uint32_t k = 0; k < big; k++) x->pos[3 + k] = k * 7 + 1;
    x->pstart[3] = 3 + big;
    check_one_term(&r);
}

/* A full block holding a document with more than 2^24 positions of the
 * term: the cursor then sums the block's tfs in 64 bits (the narrow sums
 * are only for blocks whose tfs all fit in 24 bits).  Every document of
 * that block and the next is read back, before and after the big one. */
Test(segment, block_with_a_tf_over_2_to_the_24)
{
    rseg r = {0};
    rterm *x = one_term(&r, 300, 300);
    size_t total = 0;
    for (uint32_t k = 0; k < x->df; k++) {
        x->docs[k] = k;
        x->tfs[k] = k == 70 ? (1u << 24) + 3 : 1 + k % 5;
        x->pstart[k] = total;
        total += x->tfs[k];
    }
    x->pstart[x->df] = total;
    x->pos = xmalloc(total * sizeof *x->pos);
    for (uint32_t k = 0; k < x->df; k++)
        for (uint32_t j = 0; j < x->tfs[k]; j++) x->pos[x->pstart[k] + j] = j * 2 + k % 3;
    check_one_term(&r);
}
