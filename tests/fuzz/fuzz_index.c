/*
 * fuzz_index.c - opening and searching an index whose files are arbitrary
 * or mutated bytes.
 *
 * At start-up the target builds a small index from generated documents with
 * the indexer library (two runs, so that an incremental indexer leaves
 * more than one segment and some deleted documents), and keeps every file
 * of it in memory.  Each input then damages one file of a copy of that
 * index in a private scratch directory and runs the reader over it:
 * index_open, term iteration and a postings walk of every term, lookups,
 * a set of queries (terms, phrases, boolean, literal) with every hit's
 * document fetched and its title and text snippets made, every stored
 * document fetched, and optionally index_verify.
 *
 * Input: byte 0 picks the file (index into the sorted list of the index's
 * files: MANIFEST, each segment file, deletions files), byte 1 is the mode:
 *   bit 0  the payload is a list of 5-byte edits: u8 file (added to byte 0,
 *          so edits can reach several files), u16 offset (modulo the file's
 *          size), u8 operation, u8 value.  Operations: xor a byte, set a
 *          byte, add the value as a signed number to the u32 there, store it
 *          as the u32 there, insert value + 1 zero bytes, delete value + 1
 *          bytes.  Without bit 0 the payload is the file's new content;
 *   bit 1  fix the framing up afterwards: write each changed file's new size
 *          and XXH3 checksum into its footer (common/fileio.h), and put them
 *          into the MANIFEST in place of the old ones (found by value, so
 *          this does not depend on the manifest's layout), then reframe the
 *          MANIFEST too.  Without this the checksums reject almost every
 *          mutation; with it the structural validation behind them is what
 *          gets tested;
 *   bit 2  run index_verify as well;
 *   bit 3  delete the file instead;
 *   bit 4  ask for 3 hits per query instead of 20;
 *   bit 5  decode positions in the postings walks.
 *
 * Checked: every call returns a status from its documented set with a
 * message; a postings cursor yields strictly increasing documents below the
 * segment's document count until it ends or reports corruption; hits name
 * existing segments and documents.  Memory errors are AddressSanitizer's to
 * report (reads past a mapped file's end within its last page read zeros,
 * beyond it they fault).
 *
 * With SE_FUZZ_INDEX_SEEDS=DIR in the environment, start-up also writes one
 * seed per file and mode (the unmodified file, raw and with fix-up) into
 * DIR, for `make fuzz` to pass as a corpus: the index format changes with
 * the code, so such seeds are generated rather than kept in git.
 */
#include "tests/fuzz/fuzz_util.h"

#include <dirent.h>
#include <math.h>

#include "common/analyzer.h"
#include "common/fileio.h"
#include "common/index.h"
#include "common/postings.h"
#include "common/segment.h"
#include "indexer/build.h"
#include "indexer/input.h"
#include "indexer/verify.h"
#include "searcher/search.h"
#include "searcher/snippet.h"

#define IX_MAX_FILES 64
#define IX_NDOCS     320

typedef struct ix_file {
    char name[64];
    uint8_t *data;
    size_t size;
} ix_file;

typedef struct ix_buf {
    uint8_t *data;
    size_t size;
} ix_buf;

static char *ix_root;     /* scratch directory of this process */
static char ix_dir[4096]; /* the index the inputs damage */
static ix_file ix_orig[IX_MAX_FILES];
static size_t ix_nfiles, ix_manifest = SIZE_MAX;
static int ix_dirty[IX_MAX_FILES];

/* One function per (file, fix-up) pair, called through a table for each
 * input.  Without them, replacing any one file with its own unmodified bytes
 * covers the same code, so libFuzzer would keep only the first of the
 * generated whole-file seeds and never mutate the other files' bytes
 * directly; a distinct function gives each pair a coverage feature of its
 * own.  (The table keeps the compiler from merging them into one.) */
static volatile unsigned ix_sink;
#define IX_MARK(k)                                                                                 \
    static void ix_mark_##k(void)                                                                  \
    {                                                                                              \
        ix_sink = k;                                                                               \
    }
#define IX_MARK8(X, b) X(b##0) X(b##1) X(b##2) X(b##3) X(b##4) X(b##5) X(b##6) X(b##7)
/* clang-format lays this macro out differently on every run. */
// clang-format off
#define IX_MARKS(X)                                                                         \
    IX_MARK8(X, 1) IX_MARK8(X, 2) IX_MARK8(X, 3) IX_MARK8(X, 4) IX_MARK8(X, 5) IX_MARK8(X, 6)  \
    IX_MARK8(X, 7) IX_MARK8(X, 8) IX_MARK8(X, 9) IX_MARK8(X, 10) IX_MARK8(X, 11)               \
    IX_MARK8(X, 12) IX_MARK8(X, 13) IX_MARK8(X, 14) IX_MARK8(X, 15) IX_MARK8(X, 16)
// clang-format on
IX_MARKS(IX_MARK)
#define IX_MARK_ENTRY(k) ix_mark_##k,
static void (*const ix_marks[2 * IX_MAX_FILES])(void) = {IX_MARKS(IX_MARK_ENTRY)};
static analyzer *ix_an;
static uint32_t *ix_pos;

static void ix_cleanup(void)
{
    if (ix_root) fuzz_rm_rf(ix_root);
}

static void ix_die(const char *what, const char *msg)
{
    fprintf(stderr, "fuzz_index: %s: %s\n", what, msg);
    abort();
}

/* Deterministic documents: every one has "common", two in three "often",
 * some repeat words (tf > 1), some hold a phrase or non-ASCII words, and
 * there are enough of them for 128-document blocks with skip entries,
 * several dictionary blocks and several store chunks.  `round` 1 changes
 * some texts and adds documents. */
static void ix_write_docs(const char *path, int round)
{
    static const char *vocab[] = {
        "alpha",          "bravo",   "charlie",  "delta",  "echo",   "foxtrot", "golf",
        "hotel",          "india",   "juliett",  "kilo",   "lima",   "mike",    "november",
        "oscar",          "papa",    "quebec",   "romeo",  "sierra", "tango",   "uniform",
        "victor",         "whiskey", "xray",     "yankee", "zulu",   "café",    "straße",
        "東京",           "naïve",   "résumé",   "ελλάδα", "москва", "ethical", "responsibility",
        "cyber-security", "e-mail",  "parker's", "über",   "9to5"};
    const size_t nv = sizeof vocab / sizeof *vocab;
    FILE *f = fopen(path, "w");
    if (!f) ix_die(path, strerror(errno));
    uint32_t rng = 12345;
    int ndocs = round ? IX_NDOCS + 24 : IX_NDOCS;
    for (int d = 0; d < ndocs; d++) {
        fprintf(f, "{\"id\":\"doc%04d\",\"title\":\"Title %d %s\",\"text\":\"common", d, d,
                vocab[d % nv]);
        if (d % 3) fprintf(f, " often");
        if (d % 7 == 0) fprintf(f, " common common");
        if (d % 11 == 0) fprintf(f, " ethical responsibility");
        if (round && d % 29 == 0) fprintf(f, " changed");
        int words = 8 + d % 23;
        for (int w = 0; w < words; w++) {
            rng = rng * 1103515245u + 12345u;
            fprintf(f, " %s", vocab[(rng >> 16) % nv]);
            if ((rng >> 8) % 5 == 0) fprintf(f, " w%u", (rng >> 20) % 150);
        }
        fprintf(f, "\"}\n");
    }
    if (fclose(f) != 0) ix_die(path, "write failed");
}

static void ix_build(const char *index, const char *docs)
{
    const char *paths[1] = {docs};
    input_reader *in = NULL;
    se_error err = {0, {0}};
    if (input_open(&in, paths, 1, NULL, &err) != SE_OK) ix_die("input_open", err.msg);
    build_options bo;
    memset(&bo, 0, sizeof bo);
    build_stats st;
    if (build_index(index, in, &bo, &st, &err) != SE_OK) ix_die("build_index", err.msg);
    input_close(in);
}

static int ix_cmp_names(const void *a, const void *b)
{
    return strcmp(((const ix_file *)a)->name, ((const ix_file *)b)->name);
}

/* Read every file of the built index (the writer's LOCK aside). */
static void ix_load(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) ix_die(dir, strerror(errno));
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || strcmp(e->d_name, "LOCK") == 0) continue;
        if (ix_nfiles == IX_MAX_FILES || strlen(e->d_name) >= sizeof ix_orig[0].name)
            ix_die(dir, "unexpected files");
        ix_file *f = &ix_orig[ix_nfiles++];
        memcpy(f->name, e->d_name, strlen(e->d_name) + 1);
    }
    closedir(d);
    qsort(ix_orig, ix_nfiles, sizeof *ix_orig, ix_cmp_names);
    for (size_t i = 0; i < ix_nfiles; i++) {
        char path[8192];
        fuzz_join(path, sizeof path, dir, ix_orig[i].name);
        se_error err = {0, {0}};
        if (fio_read_file(path, &ix_orig[i].data, &ix_orig[i].size, &err) != SE_OK)
            ix_die(path, err.msg);
        if (strcmp(ix_orig[i].name, "MANIFEST") == 0) ix_manifest = i;
    }
    if (ix_manifest == SIZE_MAX) ix_die(dir, "no MANIFEST");
}

static void ix_put(size_t i, const uint8_t *data, size_t size)
{
    char path[8192];
    fuzz_join(path, sizeof path, ix_dir, ix_orig[i].name);
    /* A new file rather than an overwrite: a mapping of the previous one
     * must never see its bytes change. */
    unlink(path);
    if (fuzz_write_file(path, data, size) != 0) ix_die(path, strerror(errno));
}

static void ix_write_seeds(const char *dir)
{
    mkdir(dir, 0755);
    for (size_t i = 0; i < ix_nfiles; i++)
        for (int mode = 0; mode < 2; mode++) {
            size_t n = ix_orig[i].size + 2;
            uint8_t *buf = malloc(n);
            if (!buf) abort();
            buf[0] = (uint8_t)i;
            buf[1] = mode ? 0x02 : 0x00;
            memcpy(buf + 2, ix_orig[i].data, ix_orig[i].size);
            char name[80], path[8192];
            memcpy(name, mode ? "fixup-" : "raw-", mode ? 7 : 5);
            strcat(name, ix_orig[i].name);
            fuzz_join(path, sizeof path, dir, name);
            if (fuzz_write_file(path, buf, n) != 0) ix_die(path, strerror(errno));
            free(buf);
        }
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    ix_root = fuzz_make_tmpdir("se-fuzz-index-");
    atexit(ix_cleanup);
    char docs[8192], seed[8192];
    fuzz_join(docs, sizeof docs, ix_root, "docs.jsonl");
    fuzz_join(seed, sizeof seed, ix_root, "seed");
    fuzz_join(ix_dir, sizeof ix_dir, ix_root, "index");
    ix_write_docs(docs, 0);
    ix_build(seed, docs);
    ix_write_docs(docs, 1);
    ix_build(seed, docs);
    ix_load(seed);
    if (mkdir(ix_dir, 0755) != 0) ix_die(ix_dir, strerror(errno));
    for (size_t i = 0; i < ix_nfiles; i++) ix_put(i, ix_orig[i].data, ix_orig[i].size);
    if (analyzer_new(&ix_an) != SE_OK) abort();
    const char *seeds = getenv("SE_FUZZ_INDEX_SEEDS");
    if (seeds && *seeds) ix_write_seeds(seeds);
    return 0;
}

/* Rewrite the footer of a framed file image for its current size. */
static void ix_reframe(uint8_t *p, size_t n)
{
    if (n < FIO_HEADER_SIZE + FIO_FOOTER_SIZE) return;
    fio_put64(p + n - 16, (uint64_t)n);
    fio_put64(p + n - 8, fio_hash(p, n - 8));
}

/* Make the manifest image m record file i as having `size` bytes and
 * checksum `sum` instead of the original's: the original's footer checksum
 * is looked for in the manifest's body, and the size just before it is
 * replaced too.  (Found by value, so this does not depend on the layout.) */
static void ix_patch_manifest(ix_buf *m, size_t i, uint64_t size, uint64_t sum)
{
    const ix_file *f = &ix_orig[i];
    if (f->size < FIO_HEADER_SIZE + FIO_FOOTER_SIZE || m->size < 32) return;
    uint64_t old_sum = fio_le64(f->data + f->size - 8);
    for (size_t at = FIO_HEADER_SIZE; at + 8 <= m->size - FIO_FOOTER_SIZE; at++) {
        if (fio_le64(m->data + at) != old_sum) continue;
        fio_put64(m->data + at, sum);
        if (at >= 8 && fio_le64(m->data + at - 8) == (uint64_t)f->size)
            fio_put64(m->data + at - 8, size);
    }
}

static void ix_check_rc(int rc, const se_error *err, const char *what)
{
    FUZZ_CHECK(rc == SE_OK || rc == SE_CORRUPT || rc == SE_FORMAT || rc == SE_NOTFOUND ||
                   rc == SE_IO || rc == SE_NOMEM || rc == SE_INVALID,
               "%s: unexpected status %d", what, rc);
    FUZZ_CHECK(rc == SE_OK || err->msg[0] != 0, "%s: status %d without a message", what, rc);
}

/* Walk one term's postings, checking the cursor's contract. */
static void ix_walk(const segment *s, const seg_term_info *info, int with_positions)
{
    postings_cursor c;
    postings_cursor_open(&c, s, info);
    uint32_t nd = segment_ndocs(s);
    uint64_t prev = UINT64_MAX, n = 0;
    uint32_t cap = info->max_tf <= (1u << 16) ? info->max_tf : 0;
    for (uint32_t doc = c.doc; doc != POSTINGS_END; doc = postings_cursor_next(&c)) {
        FUZZ_CHECK(doc < nd, "cursor yields document %u of %u", doc, nd);
        FUZZ_CHECK(prev == UINT64_MAX || doc > prev, "cursor yields %u after %llu", doc,
                   (unsigned long long)prev);
        /* A block's tfs are decoded when first read: 0 means they were
         * malformed, and the cursor must then have failed. */
        uint32_t tf = postings_cursor_freq(&c);
        FUZZ_CHECK(tf >= 1 || (c.status == SE_CORRUPT && c.doc == POSTINGS_END), "tf 0");
        if (with_positions && cap) postings_cursor_positions(&c, ix_pos, cap);
        if (c.status != SE_OK) break;
        prev = doc;
        FUZZ_CHECK(++n <= info->df, "more documents than df %u", info->df);
    }
    FUZZ_CHECK(c.status == SE_OK || c.status == SE_CORRUPT, "cursor status %d", c.status);
    /* advance() jumps through the skip table. */
    postings_cursor_open(&c, s, info);
    uint32_t target = 0;
    for (int k = 0; k < 16 && c.doc != POSTINGS_END; k++) {
        uint32_t doc = postings_cursor_advance(&c, target);
        if (doc == POSTINGS_END) break;
        FUZZ_CHECK(doc >= target && doc < nd, "advance(%u) gives %u of %u", target, doc, nd);
        target = doc + 1 + (uint32_t)k * 13;
    }
    /* Impacts and shallow moves read only the skip table. */
    postings_cursor_open(&c, s, info);
    for (uint32_t b = 0; b < c.nblocks && b < 4096 && c.status == SE_OK; b++) {
        impact im[IMPACTS_MAX];
        uint32_t ni = postings_block_impacts(&c, b, im);
        FUZZ_CHECK(ni <= IMPACTS_MAX, "%u impacts", ni);
        FUZZ_CHECK(ni > 0 || c.status == SE_CORRUPT, "no impacts, yet no error");
        for (uint32_t i = 0; i < ni; i++)
            FUZZ_CHECK(im[i].tf >= 1 &&
                           (i == 0 || (im[i].tf > im[i - 1].tf && im[i].len > im[i - 1].len)),
                       "impact %u of block %u out of order", i, b);
        uint32_t f = postings_block_find(&c, b, postings_block_last(&c, b));
        FUZZ_CHECK(f >= b && f <= c.nblocks, "block_find from %u gives %u of %u", b, f, c.nblocks);
    }
}

static void ix_search(const index_reader *ix, uint8_t mode)
{
    static const struct {
        const char *q;
        int literal, and_;
    } queries[] = {
        {"common", 0, 0},
        {"often w3 w77", 0, 0},
        {"\"ethical responsibility\"", 0, 0},
        {"+common -often", 0, 0},
        {"common AND (often OR alpha) NOT bravo", 0, 0},
        {"\"common common\"", 0, 0},
        {"café straße 東京 naïve", 0, 0},
        {"cyber-security e-mail parker", 0, 0},
        {"changed title", 0, 1},
        {"0 29 58 87 116 145", 0, 0},
        {"alpha bravo charlie delta echo \"golf hotel\"", 1, 0},
    };
    searcher *s = NULL;
    se_error err = {0, {0}};
    int rc = searcher_new(&s, ix, &err);
    FUZZ_CHECK(rc == SE_OK, "searcher_new: %s", err.msg);
    seg_store_buffer store;
    seg_store_buffer_init(&store);
    for (size_t qi = 0; qi < sizeof queries / sizeof *queries; qi++) {
        search_options so = {.k = (uint32_t)(mode & 0x10 ? 3 : 20),
                             .k1 = SEARCH_DEFAULT_K1,
                             .b = SEARCH_DEFAULT_B,
                             .default_and = queries[qi].and_,
                             .literal = queries[qi].literal,
                             .exhaustive = (mode & 0x20) != 0};
        search_result res;
        memset(&err, 0, sizeof err);
        rc = searcher_run(s, queries[qi].q, strlen(queries[qi].q), &so, &res, &err);
        ix_check_rc(rc, &err, queries[qi].q);
        if (rc != SE_OK) continue;
        FUZZ_CHECK(res.nhits <= so.k && res.matches >= res.nhits, "%zu hits, %llu matches",
                   res.nhits, (unsigned long long)res.matches);
        const search_highlight *hl = searcher_highlight(s);
        for (size_t h = 0; h < res.nhits; h++) {
            const search_hit *hit = &res.hits[h];
            FUZZ_CHECK(hit->segment < ix->nsegments, "hit in segment %u", hit->segment);
            const segment *seg = ix->segments[hit->segment];
            FUZZ_CHECK(hit->doc < segment_ndocs(seg), "hit document %u", hit->doc);
            FUZZ_CHECK(h == 0 || !(hit->score > res.hits[h - 1].score), "hits out of order");
            /* BM25 with Lucene's idf is never negative while every document
             * frequency is at most the document count, which consistent
             * statistics guarantee; damage must not make it so. */
            FUZZ_CHECK(isfinite(hit->score) && hit->score >= 0, "hit score %g for '%s'",
                       (double)hit->score, queries[qi].q);
            seg_document d;
            rc = segment_document(seg, hit->doc, &store, &d, &err);
            ix_check_rc(rc, &err, "segment_document");
            if (rc != SE_OK) continue;
            snippet_options to = {0, "[", "]"}, xo = {32, "[", "]"};
            char *a = NULL, *b = NULL;
            FUZZ_CHECK(snippet_make(ix_an, hl, d.title, d.title_len, &to, &a) == SE_OK,
                       "title snippet");
            FUZZ_CHECK(snippet_make(ix_an, hl, d.text, d.text_len, &xo, &b) == SE_OK,
                       "text snippet");
            free(a);
            free(b);
        }
    }
    seg_store_buffer_free(&store);
    searcher_free(s);
}

static void ix_read_all(const index_reader *ix, uint8_t mode)
{
    seg_store_buffer store;
    seg_store_buffer_init(&store);
    for (uint32_t si = 0; si < ix->nsegments; si++) {
        const segment *s = ix->segments[si];
        se_error err = {0, {0}};
        seg_term_iter it;
        seg_term_iter_init(&it, s);
        seg_term_info info;
        int rc;
        for (int n = 0; n < 100000 && (rc = seg_term_iter_next(&it, &info, &err)) == 1; n++) {
            FUZZ_CHECK(it.term_len >= 1 && it.term_len <= 255, "term of %zu bytes", it.term_len);
            FUZZ_CHECK(info.df >= 1 && info.df <= segment_ndocs(s), "df %u", info.df);
            ix_walk(s, &info, mode & 0x20);
            seg_term_info found;
            se_error lerr = {0, {0}};
            int lr = segment_lookup(s, it.term, it.term_len, &found, &lerr);
            FUZZ_CHECK(lr == 0 || lr == 1 || (lr == SE_CORRUPT && lerr.msg[0]), "lookup %d", lr);
            if (n % 16 == 0) {
                int64_t df = index_doc_freq(ix, it.term, it.term_len, &lerr);
                FUZZ_CHECK(df >= 0 || df == SE_CORRUPT, "doc freq %lld", (long long)df);
            }
        }
        FUZZ_CHECK(rc == 0 || rc == 1 || (rc == SE_CORRUPT && err.msg[0]), "term iterator %d", rc);
        uint32_t nd = segment_ndocs(s);
        for (uint32_t d = 0; d < nd && d < 4096; d++) {
            seg_document doc;
            memset(&err, 0, sizeof err);
            rc = segment_document(s, d, &store, &doc, &err);
            FUZZ_CHECK(rc == SE_OK || ((rc == SE_CORRUPT || rc == SE_NOMEM) && err.msg[0]),
                       "segment_document(%u): %d", d, rc);
            if (rc != SE_OK) break;
            /* Touch every byte, so ASan sees a field running off its chunk. */
            volatile unsigned sum = 0;
            for (size_t k = 0; k < doc.id_len; k++) sum += (unsigned char)doc.id[k];
            for (size_t k = 0; k < doc.title_len; k++) sum += (unsigned char)doc.title[k];
            for (size_t k = 0; k < doc.text_len; k++) sum += (unsigned char)doc.text[k];
            (void)sum;
        }
        seg_document doc;
        FUZZ_CHECK(segment_document(s, nd, &store, &doc, NULL) == SE_INVALID,
                   "document past the end accepted");
        /* The store buffer caches by segment; a later segment may reuse
         * this one's address once closed, so start afresh per segment. */
        seg_store_buffer_free(&store);
        seg_store_buffer_init(&store);
    }
    seg_store_buffer_free(&store);
}

/* The working copy of file i, made from the original on first use. */
static ix_buf *ix_touch(ix_buf *bufs, size_t i)
{
    if (!bufs[i].data) {
        bufs[i].size = ix_orig[i].size;
        bufs[i].data = fuzz_dup(ix_orig[i].data, bufs[i].size);
    }
    return &bufs[i];
}

/* Apply one edit record (see the header comment) to b. */
static void ix_edit(ix_buf *b, size_t off, uint8_t op, uint8_t v)
{
    size_t n = b->size;
    if (n == 0 && op % 6 != 4) return; /* only an insertion can touch an empty file */
    off = n ? off % n : 0;
    switch (op % 6) {
    case 0:
        b->data[off] ^= v;
        break;
    case 1:
        b->data[off] = v;
        break;
    case 2:
        if (off + 4 <= n) fio_put32(b->data + off, fio_le32(b->data + off) + (uint32_t)(int8_t)v);
        break;
    case 3:
        if (off + 4 <= n) fio_put32(b->data + off, v);
        break;
    case 4: { /* insert v + 1 zero bytes before off */
        size_t k = (size_t)v + 1;
        uint8_t *d = realloc(b->data, n + k);
        if (!d) abort();
        memmove(d + off + k, d + off, n - off);
        memset(d + off, 0, k);
        b->data = d;
        b->size = n + k;
        break;
    }
    default: { /* delete up to v + 1 bytes at off */
        size_t k = (size_t)v + 1;
        if (k > n - off) k = n - off;
        memmove(b->data + off, b->data + off + k, n - off - k);
        b->size = n - k;
        break;
    }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!ix_pos) {
        ix_pos = malloc((size_t)(1u << 16) * sizeof *ix_pos);
        if (!ix_pos) abort();
    }
    fuzz_bytes in = {data, size};
    size_t fi = fuzz_u8(&in) % ix_nfiles;
    uint8_t mode = fuzz_u8(&in);

    /* Put back what the previous input changed. */
    for (size_t i = 0; i < ix_nfiles; i++)
        if (ix_dirty[i]) {
            ix_put(i, ix_orig[i].data, ix_orig[i].size);
            ix_dirty[i] = 0;
        }

    ix_marks[2 * fi + ((mode >> 1) & 1)]();

    ix_buf bufs[IX_MAX_FILES];
    memset(bufs, 0, sizeof bufs);
    if (mode & 0x08) {
        char path[8192];
        fuzz_join(path, sizeof path, ix_dir, ix_orig[fi].name);
        unlink(path);
        ix_dirty[fi] = 1;
    } else if (mode & 0x01) {
        while (in.n >= 5) {
            size_t j = (fi + fuzz_u8(&in)) % ix_nfiles;
            size_t off = fuzz_u16(&in);
            uint8_t op = fuzz_u8(&in), v = fuzz_u8(&in);
            ix_edit(ix_touch(bufs, j), off, op, v);
        }
        ix_touch(bufs, fi);
    } else {
        bufs[fi].size = in.n;
        bufs[fi].data = fuzz_dup(in.p, in.n);
    }
    if (mode & 0x02) {
        /* Reframe every changed file and record its new size and checksum
         * in the manifest in place of the original's. */
        for (size_t j = 0; j < ix_nfiles; j++) {
            if (!bufs[j].data || j == ix_manifest) continue;
            if (bufs[j].size < FIO_HEADER_SIZE + FIO_FOOTER_SIZE) continue;
            ix_reframe(bufs[j].data, bufs[j].size);
            ix_buf *m = ix_touch(bufs, ix_manifest);
            ix_patch_manifest(m, j, bufs[j].size, fio_le64(bufs[j].data + bufs[j].size - 8));
        }
        if (bufs[ix_manifest].data) ix_reframe(bufs[ix_manifest].data, bufs[ix_manifest].size);
    }
    for (size_t j = 0; j < ix_nfiles; j++) {
        if (!bufs[j].data) continue;
        ix_put(j, bufs[j].data, bufs[j].size);
        ix_dirty[j] = 1;
        free(bufs[j].data);
    }

    index_reader *ix = NULL;
    se_error err = {0, {0}};
    int rc = index_open(&ix, ix_dir, &err);
    ix_check_rc(rc, &err, "index_open");
    FUZZ_CHECK(rc != SE_INVALID, "index_open: SE_INVALID (%s)", err.msg);
    if (rc == SE_OK) {
        FUZZ_CHECK(ix != NULL, "no reader");
        ix_read_all(ix, mode);
        ix_search(ix, mode);
        index_close(ix);
    } else {
        FUZZ_CHECK(ix == NULL, "reader returned with an error");
    }
    if (mode & 0x04) {
        index_description desc;
        memset(&err, 0, sizeof err);
        rc = index_verify(ix_dir, &desc, &err);
        ix_check_rc(rc, &err, "index_verify");
    }
    return 0;
}
