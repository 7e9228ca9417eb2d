/*
 * test_manifest.c - unit tests for common/manifest.c and common/index.c.
 *
 * The manifest codec: encode/decode round trips (0 to many segments, extreme
 * values), the exact encoded layout, rejection of every single-byte change,
 * of truncated and extended images, and of invalid contents that carry a
 * valid checksum (repeated segment numbers, numbers >= next_segment, too many
 * documents, a segment count that does not match the size).  Then
 * manifest_read and index_open on real directories made with mkdtemp: no
 * directory, a directory without MANIFEST, a valid three-segment index
 * (collection statistics, doc bases, index_doc_freq), and indexes whose
 * manifest names a missing segment, disagrees with a segment's checksum, or
 * is itself damaged.
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

#include "common/analyzer.h"
#include "common/fileio.h"
#include "common/index.h"
#include "common/manifest.h"
#include "common/segment.h"
#include "common/status.h"
#include "indexer/segment_writer.h"
#include "tests/support/fsutil.h"

/* ------------------------------------------------------------- fixture */

static char g_tmp[1024];

static void setup(void)
{
    char *dir = fs_mkdtemp("test_manifest_");
    cr_assert_not_null(dir);
    snprintf(g_tmp, sizeof g_tmp, "%s", dir);
    free(dir);
}

static void teardown(void)
{
    if (g_tmp[0]) fs_rm_rf(g_tmp);
}

TestSuite(manifest, .init = setup, .fini = teardown);

static const char *P(const char *rel)
{
    static char ring[8][PATH_MAX];
    static int next;
    char *b = ring[next++ % 8];
    snprintf(b, PATH_MAX, "%s/%s", g_tmp, rel);
    return b;
}

static uint64_t rng_state = 77;
static uint64_t rnd(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* A valid manifest with n segments numbered 2, 5, 8, ... and random
 * sizes and checksums; the caller frees m->segments. */
static void make_manifest(manifest *m, uint32_t n)
{
    memset(m, 0, sizeof *m);
    m->generation = rnd();
    m->nsegments = n;
    m->segments = calloc(n ? n : 1, sizeof *m->segments);
    cr_assert_not_null(m->segments);
    for (uint32_t i = 0; i < n; i++) {
        seg_meta *s = &m->segments[i];
        s->number = 2 + 3 * i;
        s->ndocs = (uint32_t)(rnd() % 1000);
        s->total_len = rnd();
        s->total_title_len = s->total_len / (2 + rnd() % 7);
        s->nterms = rnd();
        for (int f = 0; f < SEG_NFILES; f++) {
            s->files[f].size = rnd();
            s->files[f].checksum = rnd();
        }
        if (i % 2 && s->ndocs > 0) { /* every other segment has deletions */
            s->ndeleted = 1 + (uint32_t)(rnd() % s->ndocs);
            s->del_gen = m->generation ? 1 + rnd() % m->generation : 0;
            if (!s->del_gen) s->ndeleted = 0;
            s->del.size = s->del_gen ? rnd() : 0;
            s->del.checksum = s->del_gen ? rnd() : 0;
        }
    }
    m->next_segment = n ? m->segments[n - 1].number + 1 + (uint32_t)(rnd() % 3) : 0;
}

static void assert_same(const manifest *a, const manifest *b)
{
    cr_assert_eq(a->generation, b->generation);
    cr_assert_eq(a->next_segment, b->next_segment);
    cr_assert_eq(a->nsegments, b->nsegments);
    cr_assert_eq(a->analysis, b->analysis);
    for (uint32_t i = 0; i < a->nsegments; i++) {
        const seg_meta *x = &a->segments[i], *y = &b->segments[i];
        cr_assert_eq(x->number, y->number, "segment %u", i);
        cr_assert_eq(x->ndocs, y->ndocs);
        cr_assert_eq(x->total_len, y->total_len);
        cr_assert_eq(x->total_title_len, y->total_title_len);
        cr_assert_eq(x->nterms, y->nterms);
        for (int f = 0; f < SEG_NFILES; f++) {
            cr_assert_eq(x->files[f].size, y->files[f].size);
            cr_assert_eq(x->files[f].checksum, y->files[f].checksum);
        }
        cr_assert_eq(x->del_gen, y->del_gen);
        cr_assert_eq(x->ndeleted, y->ndeleted);
        cr_assert_eq(x->del.size, y->del.size);
        cr_assert_eq(x->del.checksum, y->del.checksum);
    }
}

static void encode(const manifest *m, uint8_t **buf, size_t *len)
{
    se_error err = {0};
    cr_assert_eq(manifest_encode(m, buf, len, &err), SE_OK, "%s", err.msg);
}

static int decode_code(const uint8_t *buf, size_t len)
{
    manifest m;
    se_error err = {0};
    int rc = manifest_decode(buf, len, "MANIFEST", &m, &err);
    if (rc == SE_OK) {
        manifest_free(&m);
    } else {
        cr_assert_null(m.segments, "nothing is left allocated on failure");
        cr_assert_neq(err.msg[0], 0);
    }
    return rc;
}

static void reseal(uint8_t *buf, size_t len)
{
    fio_put64(buf + len - 16, len);
    fio_put64(buf + len - 8, XXH3_64bits(buf, len - 8));
}

/* ------------------------------------------------------------- codec */

Test(manifest, roundtrip)
{
    uint32_t counts[] = {0, 1, 2, 7, 300};
    for (size_t k = 0; k < sizeof counts / sizeof counts[0]; k++) {
        manifest m, back;
        make_manifest(&m, counts[k]);
        uint8_t *buf;
        size_t len;
        encode(&m, &buf, &len);
        cr_assert_eq(len, 16 + 16 + 144 * (size_t)counts[k] + 16);
        se_error err = {0};
        cr_assert_eq(manifest_decode(buf, len, "x", &back, &err), SE_OK, "%s", err.msg);
        assert_same(&m, &back);
        manifest_free(&back);
        cr_assert_null(back.segments);
        free(buf);
        free(m.segments);
    }
}

Test(manifest, layout)
{
    manifest m;
    make_manifest(&m, 2);
    m.generation = 0x0102030405060708ull;
    m.next_segment = 9;
    m.segments[1].number = 8;
    m.segments[1].ndocs = 0x11223344u;
    m.segments[1].del_gen = m.generation - 5;
    m.segments[1].ndeleted = 77;
    m.segments[1].del.size = 0xabcdef;
    m.segments[1].del.checksum = 0x1234567890abcdefull;
    uint8_t *b;
    size_t len;
    encode(&m, &b, &len);
    cr_assert_eq(memcmp(b, "SEIXMANI", 8), 0);
    cr_assert_eq(fio_le32(b + 8), FIO_FORMAT_VERSION);
    cr_assert_eq(fio_le32(b + 12), 0);
    cr_assert_eq(fio_le64(b + 16), 0x0102030405060708ull);
    cr_assert_eq(fio_le32(b + 24), 9);
    cr_assert_eq(fio_le32(b + 28), 2);
    const uint8_t *r = b + 32 + 144;
    cr_assert_eq(fio_le32(r), 8);
    cr_assert_eq(fio_le32(r + 4), 0x11223344u);
    cr_assert_eq(fio_le64(r + 8), m.segments[1].total_len);
    cr_assert_eq(fio_le64(r + 16), m.segments[1].nterms);
    for (int f = 0; f < SEG_NFILES; f++) {
        cr_assert_eq(fio_le64(r + 24 + 16 * f), m.segments[1].files[f].size);
        cr_assert_eq(fio_le64(r + 32 + 16 * f), m.segments[1].files[f].checksum);
    }
    cr_assert_eq(fio_le64(r + 104), m.generation - 5);
    cr_assert_eq(fio_le32(r + 112), 77);
    cr_assert_eq(fio_le32(r + 116), 0);
    cr_assert_eq(fio_le64(r + 120), 0xabcdef);
    cr_assert_eq(fio_le64(r + 128), 0x1234567890abcdefull);
    cr_assert_eq(fio_le64(r + 136), m.segments[1].total_title_len);
    cr_assert_eq(fio_le64(b + len - 16), len);
    cr_assert_eq(fio_le64(b + len - 8), XXH3_64bits(b, len - 8));
    free(b);
    free(m.segments);
}

/* The header word at offset 12 holds the analyzer settings: every known
 * combination round-trips; an unknown bit is refused as a format problem
 * (an index this program cannot analyse queries for), even with a valid
 * checksum. */
Test(manifest, analysis_settings)
{
    for (uint32_t a = 0; a <= ANALYZER_KNOWN; a++) {
        manifest m, back;
        make_manifest(&m, 3);
        m.analysis = a;
        uint8_t *b;
        size_t len;
        encode(&m, &b, &len);
        cr_assert_eq(fio_le32(b + 12), a);
        se_error err = {0};
        cr_assert_eq(manifest_decode(b, len, "x", &back, &err), SE_OK, "%s", err.msg);
        assert_same(&m, &back);
        manifest_free(&back);
        free(b);
        free(m.segments);
    }
    const uint32_t unknown[] = {ANALYZER_KNOWN + 1, 0x100, 0x80000000u, 0xffffffffu};
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        manifest m, back;
        make_manifest(&m, 2);
        uint8_t *b;
        size_t len;
        encode(&m, &b, &len);
        fio_put32(b + 12, unknown[i]);
        reseal(b, len);
        se_error err = {0};
        cr_assert_eq(manifest_decode(b, len, "MANIFEST", &back, &err), SE_FORMAT, "0x%x",
                     unknown[i]);
        cr_assert_not_null(strstr(err.msg, "analysis settings"), "%s", err.msg);
        cr_assert_null(back.segments);
        free(b);
        free(m.segments);
    }
}

Test(manifest, extreme_values)
{
    manifest m, back;
    make_manifest(&m, 3);
    m.generation = UINT64_MAX;
    m.next_segment = UINT32_MAX;
    m.segments[0].number = 0;
    m.segments[1].number = UINT32_MAX - 1;
    m.segments[1].ndocs = SEG_MAX_DOCS;
    m.segments[0].ndocs = m.segments[2].ndocs = 0;
    m.segments[2].total_len = UINT64_MAX;
    uint8_t *b;
    size_t len;
    encode(&m, &b, &len);
    cr_assert_eq(manifest_decode(b, len, "x", &back, NULL), SE_OK);
    assert_same(&m, &back);
    manifest_free(&back);
    free(b);
    free(m.segments);
}

Test(manifest, every_byte_flip_rejected)
{
    manifest m;
    make_manifest(&m, 3);
    uint8_t *b;
    size_t len;
    encode(&m, &b, &len);
    cr_assert_eq(decode_code(b, len), SE_OK);
    const uint8_t masks[] = {0x01, 0x10, 0x80, 0xff};
    for (size_t i = 0; i < len; i++)
        for (size_t k = 0; k < sizeof masks; k++) {
            b[i] ^= masks[k];
            int rc = decode_code(b, len);
            cr_assert(rc == SE_CORRUPT || rc == SE_FORMAT, "byte %zu ^ %02x: %d", i, masks[k], rc);
            b[i] ^= masks[k];
        }
    /* Truncated or extended images. */
    for (size_t n = 0; n < len; n++) cr_assert_eq(decode_code(b, n), SE_CORRUPT, "length %zu", n);
    uint8_t *longer = calloc(1, len + 200);
    memcpy(longer, b, len);
    for (size_t n = len + 1; n <= len + 200; n++)
        cr_assert_neq(decode_code(longer, n), SE_OK, "length %zu", n);
    free(longer);
    free(b);
    free(m.segments);
}

/* Contents that are invalid although the frame and checksum are fine. */
Test(manifest, invalid_contents)
{
    manifest m;
    uint8_t *b;
    size_t len;

    /* Repeated segment number (adjacent and not). */
    make_manifest(&m, 4);
    m.segments[2].number = m.segments[1].number;
    encode(&m, &b, &len);
    cr_assert_eq(decode_code(b, len), SE_CORRUPT);
    free(b);
    m.segments[2].number = 6; /* 2, 5, 6, 11: fine again */
    encode(&m, &b, &len);
    cr_assert_eq(decode_code(b, len), SE_OK);
    free(b);
    m.segments[3].number = 2;
    encode(&m, &b, &len);
    cr_assert_eq(decode_code(b, len), SE_CORRUPT);
    free(b);
    free(m.segments);

    /* A number at or above next_segment. */
    make_manifest(&m, 3);
    m.next_segment = m.segments[2].number;
    encode(&m, &b, &len);
    cr_assert_eq(decode_code(b, len), SE_CORRUPT);
    free(b);
    m.next_segment = m.segments[2].number + 1;
    encode(&m, &b, &len);
    cr_assert_eq(decode_code(b, len), SE_OK);
    free(b);
    m.segments[0].number = UINT32_MAX;
    encode(&m, &b, &len);
    cr_assert_eq(decode_code(b, len), SE_CORRUPT);
    free(b);
    free(m.segments);
    make_manifest(&m, 1);
    m.segments[0].number = 0;
    m.next_segment = 0;
    encode(&m, &b, &len);
    cr_assert_eq(decode_code(b, len), SE_CORRUPT);
    free(b);
    free(m.segments);

    /* A title total above the segment's total length (version 4). */
    make_manifest(&m, 1);
    m.segments[0].total_len = 100;
    m.segments[0].total_title_len = 100;
    encode(&m, &b, &len);
    cr_assert_eq(decode_code(b, len), SE_OK);
    free(b);
    m.segments[0].total_title_len = 101;
    encode(&m, &b, &len);
    cr_assert_eq(decode_code(b, len), SE_CORRUPT);
    free(b);
    free(m.segments);

    /* Deletions inconsistent with the segment or the generation. */
    make_manifest(&m, 1);
    m.generation = 10;
    m.segments[0].ndocs = 5;
    m.segments[0].del_gen = 10;
    m.segments[0].ndeleted = 2;
    m.segments[0].del.size = 100;
    encode(&m, &b, &len);
    cr_assert_eq(decode_code(b, len), SE_OK);
    free(b);
    m.segments[0].del_gen = 11; /* from a later generation than the manifest */
    encode(&m, &b, &len);
    cr_assert_eq(decode_code(b, len), SE_CORRUPT);
    free(b);
    m.segments[0].del_gen = 3;
    m.segments[0].ndeleted = 6; /* more deleted than the segment holds */
    encode(&m, &b, &len);
    cr_assert_eq(decode_code(b, len), SE_CORRUPT);
    free(b);
    m.segments[0].ndeleted = 0; /* a deletions file that deletes nothing */
    encode(&m, &b, &len);
    cr_assert_eq(decode_code(b, len), SE_CORRUPT);
    free(b);
    m.segments[0].del_gen = 0; /* no file, yet a size */
    encode(&m, &b, &len);
    cr_assert_eq(decode_code(b, len), SE_CORRUPT);
    free(b);
    m.segments[0].del.size = 0;
    encode(&m, &b, &len);
    cr_assert_eq(decode_code(b, len), SE_OK);
    free(b);
    free(m.segments);

    /* Too many documents, in one segment or in all. */
    make_manifest(&m, 2);
    m.segments[0].ndocs = SEG_MAX_DOCS + 1;
    encode(&m, &b, &len);
    cr_assert_eq(decode_code(b, len), SE_CORRUPT);
    free(b);
    m.segments[0].ndocs = SEG_MAX_DOCS / 2 + 1;
    m.segments[1].ndocs = SEG_MAX_DOCS / 2 + 1;
    encode(&m, &b, &len);
    cr_assert_eq(decode_code(b, len), SE_CORRUPT);
    free(b);
    m.segments[1].ndocs = SEG_MAX_DOCS / 2;
    encode(&m, &b, &len);
    cr_assert_eq(decode_code(b, len), SE_OK);
    free(b);
    free(m.segments);

    /* The segment count disagrees with the size (resealed). */
    make_manifest(&m, 3);
    encode(&m, &b, &len);
    uint32_t counts[] = {0, 2, 4, MANIFEST_MAX_SEGMENTS + 1, UINT32_MAX};
    for (size_t k = 0; k < sizeof counts / sizeof counts[0]; k++) {
        fio_put32(b + 28, counts[k]);
        reseal(b, len);
        cr_assert_eq(decode_code(b, len), SE_CORRUPT, "count %u", counts[k]);
    }
    free(b);
    free(m.segments);

    /* A body too short for the fixed fields. */
    uint8_t small[40] = {0};
    memcpy(small, "SEIXMANI", 8);
    fio_put32(small + 8, FIO_FORMAT_VERSION);
    reseal(small, sizeof small);
    cr_assert_eq(decode_code(small, sizeof small), SE_CORRUPT);
    /* Another kind of index file, and another format version. */
    make_manifest(&m, 1);
    encode(&m, &b, &len);
    memcpy(b, "SEIXTDIC", 8);
    reseal(b, len);
    cr_assert_eq(decode_code(b, len), SE_CORRUPT);
    memcpy(b, "SEIXMANI", 8);
    fio_put32(b + 8, FIO_FORMAT_VERSION + 1);
    reseal(b, len);
    cr_assert_eq(decode_code(b, len), SE_FORMAT);
    free(b);
    free(m.segments);
}

/* The largest manifest decodes (quickly: the repeated-number check is not
 * quadratic), a repeated number is found anywhere in it, one segment more
 * is refused. */
Test(manifest, max_segments, .timeout = 20)
{
    manifest m, back;
    make_manifest(&m, MANIFEST_MAX_SEGMENTS);
    uint8_t *b;
    size_t len;
    encode(&m, &b, &len);
    cr_assert_eq(manifest_decode(b, len, "x", &back, NULL), SE_OK);
    assert_same(&m, &back);
    manifest_free(&back);
    free(b);
    m.segments[MANIFEST_MAX_SEGMENTS - 1].number = m.segments[0].number;
    encode(&m, &b, &len);
    cr_assert_eq(decode_code(b, len), SE_CORRUPT);
    free(b);
    free(m.segments);
    make_manifest(&m, MANIFEST_MAX_SEGMENTS + 1);
    encode(&m, &b, &len);
    cr_assert_eq(decode_code(b, len), SE_CORRUPT);
    free(b);
    free(m.segments);
}

/* ------------------------------------------------------------- files */

static void write_manifest(const char *dir, const manifest *m)
{
    uint8_t *b;
    size_t len;
    encode(m, &b, &len);
    se_error err = {0};
    cr_assert_eq(fio_replace_file(dir, MANIFEST_NAME, b, len, &err), SE_OK, "%s", err.msg);
    free(b);
}

Test(manifest, read_from_directory)
{
    manifest m, back;
    se_error err = {0};
    cr_assert_eq(manifest_read(P("missing"), &back, &err), SE_NOTFOUND);
    cr_assert_eq(manifest_read(g_tmp, &back, &err), SE_NOTFOUND);
    make_manifest(&m, 5);
    write_manifest(g_tmp, &m);
    cr_assert_eq(manifest_read(g_tmp, &back, &err), SE_OK, "%s", err.msg);
    assert_same(&m, &back);
    manifest_free(&back);
    /* A damaged file names itself. */
    FILE *f = fopen(P(MANIFEST_NAME), "r+b");
    cr_assert_not_null(f);
    fseek(f, 40, SEEK_SET);
    fputc(0x55, f);
    fclose(f);
    cr_assert_eq(manifest_read(g_tmp, &back, &err), SE_CORRUPT);
    cr_assert_not_null(strstr(err.msg, MANIFEST_NAME), "%s", err.msg);
    cr_assert_null(back.segments);
    free(m.segments);
}

/* ------------------------------------------------------------- index_open */

/* A segment whose documents contain the given terms, one term list per
 * document ("a b" = terms a and b, each once). */
static void write_segment(const char *dir, uint32_t number, const char *const *docs, uint32_t n,
                          seg_meta *meta)
{
    segment_writer *w;
    se_error err = {0};
    cr_assert_eq(segw_create(&w, dir, number, 1, &err), SE_OK, "%s", err.msg);
    for (uint32_t d = 0; d < n; d++) {
        seg_document sd = {"id", 2, "", 0, docs[d], strlen(docs[d])};
        uint32_t length = docs[d][0] ? 1 : 0;
        for (const char *p = docs[d]; *p; p++) length += *p == ' ';
        cr_assert_eq(segw_add_document(w, &sd, length, 0, d, &err), SE_OK);
    }
    /* Terms are single letters: walk them in order. */
    for (char t = 'a'; t <= 'z'; t++) {
        int begun = 0;
        for (uint32_t d = 0; d < n; d++) {
            uint32_t pos[16], tf = 0, at = 0;
            for (const char *p = docs[d]; *p; p++) {
                if (*p == ' ') {
                    at++;
                } else if (*p == t) {
                    pos[tf++] = at;
                }
            }
            if (!tf) continue;
            if (!begun) cr_assert_eq(segw_begin_term(w, &t, 1, &err), SE_OK);
            begun = 1;
            cr_assert_eq(segw_add_posting(w, d, tf, pos, &err), SE_OK, "%s", err.msg);
        }
        if (begun) cr_assert_eq(segw_end_term(w, &err), SE_OK);
    }
    cr_assert_eq(segw_finish(w, meta, &err), SE_OK, "%s", err.msg);
}

static const char *seg0[] = {"a b c", "a", "b d"};
static const char *seg1[] = {"c", ""};
static const char *seg2[] = {"a a d", "e", "a", "b"};

/* An index of three segments (numbers 3, 1, 4) in g_tmp. */
static void make_index(manifest *m)
{
    memset(m, 0, sizeof *m);
    m->generation = 7;
    m->next_segment = 6;
    m->nsegments = 3;
    m->segments = calloc(3, sizeof *m->segments);
    write_segment(g_tmp, 3, seg0, 3, &m->segments[0]);
    write_segment(g_tmp, 1, seg1, 2, &m->segments[1]);
    write_segment(g_tmp, 4, seg2, 4, &m->segments[2]);
    write_manifest(g_tmp, m);
}

Test(manifest, index_open_missing)
{
    index_reader *ix = (index_reader *)1;
    se_error err = {0};
    cr_assert_eq(index_open(&ix, P("nothing"), &err), SE_NOTFOUND);
    cr_assert_null(ix);
    cr_assert_not_null(strstr(err.msg, "no index"), "%s", err.msg);
    /* An empty directory. */
    cr_assert_eq(index_open(&ix, g_tmp, &err), SE_NOTFOUND);
    cr_assert_not_null(strstr(err.msg, "MANIFEST"), "%s", err.msg);
    /* A file, not a directory. */
    FILE *f = fopen(P("plain"), "w");
    fclose(f);
    cr_assert_eq(index_open(&ix, P("plain"), &err), SE_NOTFOUND);
    index_close(NULL);
}

Test(manifest, index_open_valid)
{
    manifest m;
    make_index(&m);
    index_reader *ix;
    se_error err = {0};
    cr_assert_eq(index_open(&ix, g_tmp, &err), SE_OK, "%s", err.msg);
    cr_assert_eq(ix->nsegments, 3);
    cr_assert_eq(ix->man.generation, 7);
    cr_assert_eq(ix->ndocs, 9);
    /* lengths: 3 1 2 | 1 0 | 3 1 1 1 */
    cr_assert_eq(ix->total_len, 13);

    cr_assert_eq(segment_number(ix->segments[0]), 3);
    cr_assert_eq(segment_number(ix->segments[1]), 1);
    cr_assert_eq(segment_number(ix->segments[2]), 4);
    /* Document frequencies summed over the segments. */
    struct {
        const char *t;
        int64_t df;
    } want[] = {{"a", 4}, {"b", 3}, {"c", 2}, {"d", 2}, {"e", 1}, {"f", 0}, {"", 0}};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        cr_assert_eq(index_doc_freq(ix, want[i].t, strlen(want[i].t), &err), want[i].df, "%s",
                     want[i].t);
    index_close(ix);
    free(m.segments);

    /* No segments at all. */
    manifest empty = {.generation = 8, .next_segment = 6};
    write_manifest(g_tmp, &empty);
    cr_assert_eq(index_open(&ix, g_tmp, &err), SE_OK, "%s", err.msg);
    cr_assert_eq(ix->nsegments, 0);
    cr_assert_eq(ix->ndocs, 0);
    cr_assert_eq(index_doc_freq(ix, "a", 1, &err), 0);
    index_close(ix);
}

Test(manifest, index_open_damaged)
{
    manifest m;
    make_index(&m);
    index_reader *ix = (index_reader *)1;
    se_error err = {0};

    /* The manifest's checksum of a segment file is wrong. */
    m.segments[1].files[SEG_POST].checksum ^= 1;
    write_manifest(g_tmp, &m);
    cr_assert_eq(index_open(&ix, g_tmp, &err), SE_CORRUPT);
    cr_assert_null(ix);
    cr_assert_not_null(strstr(err.msg, "s00000001.doc"), "%s", err.msg);
    m.segments[1].files[SEG_POST].checksum ^= 1;

    /* Its document count is wrong. */
    m.segments[2].ndocs++;
    write_manifest(g_tmp, &m);
    cr_assert_eq(index_open(&ix, g_tmp, &err), SE_CORRUPT);
    m.segments[2].ndocs--;

    /* It names a segment that is not there. */
    m.segments[1].number = 5;
    write_manifest(g_tmp, &m);
    cr_assert_eq(index_open(&ix, g_tmp, &err), SE_NOTFOUND);
    cr_assert_not_null(strstr(err.msg, "s00000005"), "%s", err.msg);
    m.segments[1].number = 1;

    /* The manifest itself is damaged. */
    write_manifest(g_tmp, &m);
    cr_assert_eq(index_open(&ix, g_tmp, &err), SE_OK, "%s", err.msg);
    index_close(ix);
    FILE *f = fopen(P(MANIFEST_NAME), "r+b");
    fseek(f, 20, SEEK_SET);
    fputc(0x99, f);
    fclose(f);
    cr_assert_eq(index_open(&ix, g_tmp, &err), SE_CORRUPT);
    cr_assert_null(ix);
    /* ...or not a manifest at all. */
    f = fopen(P(MANIFEST_NAME), "w");
    fputs("generation 7\nsegments 3\n... some text long enough to be framed\n", f);
    fclose(f);
    cr_assert_eq(index_open(&ix, g_tmp, &err), SE_FORMAT);
    free(m.segments);
}
