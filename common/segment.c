/*
 * segment.c - opening a segment, the term dictionary and the document store.
 *
 * Dictionary (.tdx) body, after the 16-byte header:
 *   blocks           front-coded term entries (see dict_entry_decode)
 *   block index      nblocks x {u64 block offset, u32 first-term offset
 *                    (within the blob), u32 first-term length}
 *   first-term blob  the first term of every block, concatenated
 *   trailer (40 B)   u64 nterms, u64 nblocks, u64 index offset,
 *                    u64 blob offset, u64 blob length
 * All offsets are file offsets.  A block starts with varint entry count,
 * varint .doc offset and varint .pos offset of its first term; each entry is
 * varint shared-prefix length, varint suffix length, suffix bytes, then
 * varints df, cf-df, doc_len, pos_len, max_tf, min_len; a term's postings
 * and positions follow the previous term's.
 */
#include "common/segment.h"

#include <stdio.h>
#include <stdlib.h>
#include <xxhash.h>
#include <zlib.h>

#include "common/codec.h"

const char *const seg_file_ext[SEG_NFILES] = {"tdx", "doc", "pos", "len", "sto"};
const char *const seg_file_magic[SEG_NFILES] = {"SEIXTDIC", "SEIXPOST", "SEIXPOSI", "SEIXDTAB",
                                                "SEIXSTOR"};

#define DICT_TRAILER   40
#define DOCTAB_TRAILER 24
#define STORE_TRAILER  24

struct segment {
    uint32_t number;
    uint32_t ndocs;
    uint64_t total_len;
    uint64_t total_title_len, deleted_title_len;
    fio_map files[SEG_NFILES];
    /* dictionary */
    uint64_t nterms, nblocks;
    const uint8_t *dict_index; /* nblocks x 16 bytes */
    uint64_t *dict_keys;       /* nblocks: term_key of each block's first term */
    const uint8_t *dict_blob;
    uint64_t dict_blob_len;
    uint64_t dict_blocks_end; /* file offset where blocks end (index offset) */
    /* document table */
    uint32_t *lengths;           /* decoded at open, ndocs entries */
    uint32_t *title_lengths;     /* decoded at open, ndocs entries */
    uint8_t *length_codes;       /* seg_length_code of each length, ndocs entries */
    uint64_t *id_hashes;         /* computed at open (not for doctab_only), ndocs entries */
    const uint8_t *ids;          /* id area: front-coded groups */
    const uint8_t *id_group_off; /* u32 per group, relative to ids */
    /* store */
    const uint8_t *content_hashes; /* u64 per document, in .sto */
    uint32_t nchunks;
    const uint8_t *store_index; /* nchunks x 16 bytes */
    uint64_t store_index_off;
    int doctab_only; /* opened by segment_open_doctab */
    /* deletions */
    int has_dels;
    uint64_t del_gen;
    dels dels;
    char dir[];
};

int seg_file_path(char *buf, size_t cap, const char *dir, uint32_t number, enum seg_file f)
{
    int n = snprintf(buf, cap, "%s/s%08u.%s", dir, number, seg_file_ext[f]);
    return (n < 0 || (size_t)n >= cap) ? SE_INVALID : SE_OK;
}

static int corrupt(se_error *err, const segment *s, enum seg_file f, const char *what)
{
    return se_fail(err, SE_CORRUPT, "%s/s%08u.%s: %s", s->dir, s->number, seg_file_ext[f], what);
}

/* The first 8 bytes of a term, big-endian, zero-padded: keys that differ
 * order their terms as seg_term_cmp does (a shorter term's padding is
 * below any byte but 0, where it is a prefix of the other), so lookups
 * compare terms only when keys are equal.  A binary search over the keys
 * (8 bytes a block, in memory) touches a few cache lines, over the block
 * index and its terms two per step. */
static uint64_t term_key(const uint8_t *term, size_t len)
{
    uint64_t key = 0;
    for (size_t i = 0; i < 8; i++) key = key << 8 | (i < len ? term[i] : 0);
    return key;
}

static int open_dict(segment *s, se_error *err)
{
    const fio_map *m = &s->files[SEG_DICT];
    if (m->body_size < DICT_TRAILER) return corrupt(err, s, SEG_DICT, "trailer missing");
    const uint8_t *t = m->data + m->size - FIO_FOOTER_SIZE - DICT_TRAILER;
    s->nterms = fio_le64(t);
    s->nblocks = fio_le64(t + 8);
    uint64_t index_off = fio_le64(t + 16), blob_off = fio_le64(t + 24);
    s->dict_blob_len = fio_le64(t + 32);
    uint64_t trailer_off = (uint64_t)(t - m->data);
    if (index_off < FIO_HEADER_SIZE || index_off > trailer_off ||
        s->nblocks > (trailer_off - index_off) / 16 || blob_off != index_off + s->nblocks * 16 ||
        s->dict_blob_len > trailer_off - blob_off || blob_off + s->dict_blob_len != trailer_off ||
        s->nterms < s->nblocks || (s->nterms > 0 && s->nblocks == 0) ||
        s->nterms > s->nblocks * SEG_DICT_BLOCK_TERMS)
        return corrupt(err, s, SEG_DICT, "inconsistent trailer");
    s->dict_index = m->data + index_off;
    s->dict_blob = m->data + blob_off;
    s->dict_blocks_end = index_off;
    s->dict_keys = malloc((s->nblocks ? s->nblocks : 1) * sizeof *s->dict_keys);
    if (!s->dict_keys) return se_fail(err, SE_NOMEM, "out of memory opening segment %u", s->number);
    for (uint64_t b = 0; b < s->nblocks; b++) {
        const uint8_t *e = s->dict_index + b * 16;
        uint64_t off = fio_le64(e);
        uint64_t prev = b == 0 ? FIO_HEADER_SIZE : fio_le64(e - 16);
        if (off < prev || off >= index_off || (b == 0 && off != FIO_HEADER_SIZE))
            return corrupt(err, s, SEG_DICT, "block index out of order");
        uint64_t to = fio_le32(e + 8), tl = fio_le32(e + 12);
        if (to > s->dict_blob_len || tl > s->dict_blob_len - to || tl > 255)
            return corrupt(err, s, SEG_DICT, "block index term out of bounds");
        s->dict_keys[b] = term_key(s->dict_blob + to, tl);
    }
    return SE_OK;
}

/* Lengths: ceil(D/128) blocks of {varint base, u8 width, 128 values
 * length - base packed at that width}; values past D must be 0.  Decoded
 * into *out (allocated here); *p advances past them and their sum is
 * returned in *sum. */
static int decode_length_blocks(segment *s, const uint8_t **pp, const uint8_t *end, uint32_t **outp,
                                uint64_t *sump, se_error *err)
{
    uint32_t n = s->ndocs;
    const uint8_t *p = *pp;
    *outp = malloc(((size_t)n + SEG_BLOCK) * sizeof **outp);
    if (!*outp) return se_fail(err, SE_NOMEM, "out of memory opening segment %u", s->number);
    uint64_t sum = 0;
    for (uint32_t d = 0; d < n; d += SEG_BLOCK) {
        uint32_t base;
        p = codec_varint_get32(p, end, &base);
        if (!p || p == end || *p > 32 || codec_block_bytes(*p) > (size_t)(end - p - 1))
            return corrupt(err, s, SEG_DOCTAB, "malformed length block");
        unsigned width = *p++;
        uint32_t *out = *outp + d;
        codec_unpack128(p, width, out);
        p += codec_block_bytes(width);
        uint32_t cnt = n - d < SEG_BLOCK ? n - d : SEG_BLOCK;
        for (uint32_t k = cnt; k < SEG_BLOCK; k++)
            if (out[k] != 0) return corrupt(err, s, SEG_DOCTAB, "length block padding not zero");
        for (uint32_t k = 0; k < cnt; k++) {
            if (out[k] > UINT32_MAX - base)
                return corrupt(err, s, SEG_DOCTAB, "document length overflows");
            out[k] += base;
            sum += out[k];
        }
    }
    *pp = p;
    *sump = sum;
    return SE_OK;
}

/* The lengths, then the title lengths (version 4), filling [p, end)
 * exactly; each title is at most its document, and the sums are the
 * totals the manifest records. */
static int decode_lengths(segment *s, const uint8_t *p, const uint8_t *end, se_error *err)
{
    uint64_t sum = 0, title_sum = 0;
    int rc = decode_length_blocks(s, &p, end, &s->lengths, &sum, err);
    if (rc == SE_OK) rc = decode_length_blocks(s, &p, end, &s->title_lengths, &title_sum, err);
    if (rc != SE_OK) return rc;
    if (p != end) return corrupt(err, s, SEG_DOCTAB, "length blocks do not fill their area");
    if (sum != s->total_len) return corrupt(err, s, SEG_DOCTAB, "lengths do not sum to the total");
    if (title_sum != s->total_title_len)
        return corrupt(err, s, SEG_DOCTAB, "title lengths do not sum to the manifest's total");
    for (uint32_t d = 0; d < s->ndocs; d++)
        if (s->title_lengths[d] > s->lengths[d])
            return corrupt(err, s, SEG_DOCTAB, "a title is longer than its document");
    s->length_codes = malloc((size_t)s->ndocs + 1);
    if (!s->length_codes)
        return se_fail(err, SE_NOMEM, "out of memory opening segment %u", s->number);
    for (uint32_t d = 0; d < s->ndocs; d++) s->length_codes[d] = seg_length_code(s->lengths[d]);
    return SE_OK;
}

/* A varint of the id area: almost always one byte, so that case is inline. */
static inline const uint8_t *id_varint(const uint8_t *p, const uint8_t *end, uint32_t *v)
{
    if (p < end && *p < 0x80) {
        *v = *p;
        return p + 1;
    }
    return codec_varint_get32(p, end, v);
}

/* Ids: ceil(D/SEG_ID_GROUP) groups, each starting at its offset in the
 * group index; an entry is varint shared (bytes in common with the
 * previous id of the group, 0 for a group's first), varint suffix length,
 * the suffix.  Every entry is checked here so segment_doc_id need not,
 * and each id's hash is stored in s->id_hashes: the searcher's tie-break
 * needs it per offered hit and a writer's id table for every document. */
static int check_ids(segment *s, uint64_t id_bytes, se_error *err)
{
    const uint8_t *p = s->ids, *end = s->ids + id_bytes;
    uint32_t prev_len = 0;
    char id[SEG_MAX_ID_LEN];
    for (uint32_t d = 0; d < s->ndocs; d++) {
        if (d % SEG_ID_GROUP == 0) {
            if (fio_le32(s->id_group_off + (uint64_t)(d / SEG_ID_GROUP) * 4) !=
                (uint64_t)(p - s->ids))
                return corrupt(err, s, SEG_DOCTAB, "id group offset mismatch");
            prev_len = 0;
        }
        uint32_t shared, suffix;
        p = id_varint(p, end, &shared);
        if (p) p = id_varint(p, end, &suffix);
        if (!p || shared > prev_len || suffix > (size_t)(end - p) ||
            suffix > SEG_MAX_ID_LEN - shared || shared + suffix == 0)
            return corrupt(err, s, SEG_DOCTAB, "malformed document id");
        memcpy(id + shared, p, suffix);
        s->id_hashes[d] = XXH3_64bits(id, shared + suffix);
        p += suffix;
        prev_len = shared + suffix;
    }
    if (p != end) return corrupt(err, s, SEG_DOCTAB, "document ids do not fill their area");
    return SE_OK;
}

/* Body: length blocks from offset 16, id area at ids_off (I bytes), zero
 * padding to 4, group index (u32 per group), 24-byte trailer {u64 ids_off,
 * u32 D, u32 I, u64 total length}. */
static int open_doctab(segment *s, se_error *err)
{
    const fio_map *m = &s->files[SEG_DOCTAB];
    if (m->body_size < DOCTAB_TRAILER) return corrupt(err, s, SEG_DOCTAB, "trailer missing");
    const uint8_t *t = m->data + m->size - FIO_FOOTER_SIZE - DOCTAB_TRAILER;
    uint64_t ids_off = fio_le64(t);
    uint32_t n = fio_le32(t + 8);
    uint64_t id_bytes = fio_le32(t + 12);
    uint64_t total = fio_le64(t + 16);
    uint64_t trailer_off = (uint64_t)(t - m->data);
    uint64_t ngroups = ((uint64_t)n + SEG_ID_GROUP - 1) / SEG_ID_GROUP;
    if (n != s->ndocs) return corrupt(err, s, SEG_DOCTAB, "document count mismatch");
    if (total != s->total_len) return corrupt(err, s, SEG_DOCTAB, "total length mismatch");
    if (ids_off < FIO_HEADER_SIZE || ids_off > trailer_off || id_bytes > trailer_off - ids_off ||
        ((ids_off + id_bytes + 3) & ~3ull) + ngroups * 4 != trailer_off)
        return corrupt(err, s, SEG_DOCTAB, "inconsistent trailer");
    for (uint64_t k = ids_off + id_bytes; k < trailer_off - ngroups * 4; k++)
        if (m->data[k] != 0) return corrupt(err, s, SEG_DOCTAB, "padding not zero");
    s->ids = m->data + ids_off;
    s->id_group_off = m->data + trailer_off - ngroups * 4;
    s->id_hashes = malloc(((size_t)n + 1) * sizeof *s->id_hashes);
    if (!s->id_hashes) return se_fail(err, SE_NOMEM, "out of memory opening segment %u", s->number);
    int rc = decode_lengths(s, m->data + FIO_HEADER_SIZE, m->data + ids_off, err);
    if (rc == SE_OK) rc = check_ids(s, id_bytes, err);
    return rc;
}

static int open_store(segment *s, se_error *err)
{
    const fio_map *m = &s->files[SEG_STORE];
    if (m->body_size < STORE_TRAILER) return corrupt(err, s, SEG_STORE, "trailer missing");
    const uint8_t *t = m->data + m->size - FIO_FOOTER_SIZE - STORE_TRAILER;
    s->nchunks = fio_le32(t);
    uint32_t n = fio_le32(t + 4);
    s->store_index_off = fio_le64(t + 8);
    uint64_t region_sum = fio_le64(t + 16);
    uint64_t trailer_off = (uint64_t)(t - m->data);
    /* The content hashes (8 bytes per document) sit between the last chunk
     * and the chunk index. */
    uint64_t hashes_off = s->store_index_off - (uint64_t)n * 8;
    if (n != s->ndocs || s->store_index_off < FIO_HEADER_SIZE + (uint64_t)n * 8 ||
        s->store_index_off > trailer_off ||
        (uint64_t)s->nchunks > (trailer_off - s->store_index_off) / 16 ||
        s->store_index_off + (uint64_t)s->nchunks * 16 != trailer_off ||
        (n > 0 && s->nchunks == 0) || s->nchunks > n)
        return corrupt(err, s, SEG_STORE, "inconsistent trailer");
    s->store_index = m->data + s->store_index_off;
    s->content_hashes = m->data + hashes_off;
    /* The content hashes, chunk index and trailer have a checksum of their
     * own: a doctab-only open trusts them without reading the chunks. */
    if (XXH3_64bits(s->content_hashes, trailer_off + 16 - hashes_off) != region_sum)
        return corrupt(err, s, SEG_STORE, "content hashes checksum mismatch");
    if (s->doctab_only) return SE_OK; /* the chunks are not read */
    uint64_t prev_off = FIO_HEADER_SIZE;
    uint32_t next_doc = 0;
    for (uint32_t c = 0; c < s->nchunks; c++) {
        const uint8_t *e = s->store_index + (uint64_t)c * 16;
        uint32_t first = fio_le32(e), cnt = fio_le32(e + 4);
        uint64_t off = fio_le64(e + 8);
        if (first != next_doc || cnt == 0 || cnt > n - first || off != prev_off ||
            off + 8 > hashes_off)
            return corrupt(err, s, SEG_STORE, "chunk index out of order");
        uint64_t clen = fio_le32(m->data + off + 4);
        if (clen > hashes_off - off - 8)
            return corrupt(err, s, SEG_STORE, "chunk runs past the end");
        prev_off = off + 8 + clen;
        next_doc = first + cnt;
    }
    if (next_doc != n || prev_off != hashes_off)
        return corrupt(err, s, SEG_STORE, "chunks do not cover every document");
    return SE_OK;
}

static int open_files(segment **out, const char *dir, const seg_meta *meta, int check_meta,
                      int doctab_only, se_error *err)
{
    *out = NULL;
    size_t dlen = strlen(dir);
    segment *s = calloc(1, sizeof *s + dlen + 1);
    if (!s) return se_fail(err, SE_NOMEM, "out of memory opening segment %u", meta->number);
    memcpy(s->dir, dir, dlen + 1);
    s->number = meta->number;
    s->ndocs = meta->ndocs;
    s->total_len = meta->total_len;
    s->total_title_len = meta->total_title_len;
    int rc = SE_OK;
    for (int f = 0; f < SEG_NFILES && rc == SE_OK; f++) {
        if (doctab_only && f != SEG_DOCTAB && f != SEG_STORE) continue;
        char path[4096];
        if (seg_file_path(path, sizeof path, dir, s->number, f) != SE_OK) {
            rc = se_fail(err, SE_INVALID, "index path too long: %s", dir);
            break;
        }
        /* A doctab-only open needs only the store's content hashes, which
         * open_store verifies by their own checksum. */
        rc = doctab_only && f == SEG_STORE
                 ? fio_map_open_unverified(&s->files[f], path, seg_file_magic[f], err)
                 : fio_map_open(&s->files[f], path, seg_file_magic[f], err);
        if (rc == SE_OK && check_meta &&
            (s->files[f].size != meta->files[f].size ||
             s->files[f].checksum != meta->files[f].checksum))
            rc = se_fail(err, SE_CORRUPT, "%s: size or checksum differs from the manifest", path);
    }
    if (rc == SE_OK && s->ndocs > SEG_MAX_DOCS)
        rc = corrupt(err, s, SEG_DOCTAB, "too many documents");
    if (rc == SE_OK && !doctab_only) rc = open_dict(s, err);
    if (rc == SE_OK && !doctab_only && check_meta && s->nterms != meta->nterms)
        rc = corrupt(err, s, SEG_DICT, "term count differs from the manifest");
    s->doctab_only = doctab_only;
    if (rc == SE_OK) rc = open_doctab(s, err);
    if (rc == SE_OK) rc = open_store(s, err);
    if (rc == SE_OK && meta->del_gen) {
        char path[4096];
        rc = dels_file_path(path, sizeof path, dir, s->number, meta->del_gen);
        if (rc != SE_OK) rc = se_fail(err, SE_INVALID, "index path too long: %s", dir);
        if (rc == SE_OK) rc = dels_open(&s->dels, path, s->ndocs, err);
        if (rc == SE_OK) {
            s->has_dels = 1;
            s->del_gen = meta->del_gen;
            if (check_meta &&
                (s->dels.map.size != meta->del.size || s->dels.map.checksum != meta->del.checksum ||
                 s->dels.ndeleted != meta->ndeleted))
                rc = se_fail(err, SE_CORRUPT,
                             "%s: size, checksum or count differs from the manifest", path);
            else if (s->dels.deleted_len > s->total_len)
                rc = se_fail(err, SE_CORRUPT, "%s: deleted length exceeds the segment's", path);
        }
        /* The deleted documents' title lengths are not in the deletions
         * file: summed here from the bitmap (the lengths are decoded). */
        for (uint32_t w = 0; rc == SE_OK && w < (s->ndocs + 63) / 64; w++)
            for (uint64_t bits = s->dels.bits[w]; bits; bits &= bits - 1) {
                uint32_t d = w * 64 + (uint32_t)__builtin_ctzll(bits);
                if (d < s->ndocs) s->deleted_title_len += s->title_lengths[d];
            }
    }
    if (rc != SE_OK) {
        segment_close(s);
        return rc;
    }
    *out = s;
    return SE_OK;
}

int segment_open(segment **out, const char *dir, const seg_meta *meta, int check_meta,
                 se_error *err)
{
    return open_files(out, dir, meta, check_meta, 0, err);
}

int segment_open_doctab(segment **out, const char *dir, const seg_meta *meta, se_error *err)
{
    return open_files(out, dir, meta, 1, 1, err);
}

int segment_is_doctab_only(const segment *s)
{
    return s->doctab_only;
}

void segment_close(segment *s)
{
    if (!s) return;
    for (int f = 0; f < SEG_NFILES; f++) fio_map_close(&s->files[f]);
    if (s->has_dels) dels_close(&s->dels);
    free(s->dict_keys);
    free(s->lengths);
    free(s->title_lengths);
    free(s->length_codes);
    free(s->id_hashes);
    free(s);
}

uint32_t segment_number(const segment *s)
{
    return s->number;
}
uint32_t segment_ndocs(const segment *s)
{
    return s->ndocs;
}
uint64_t segment_total_len(const segment *s)
{
    return s->total_len;
}
uint64_t segment_nterms(const segment *s)
{
    return s->nterms;
}
const uint32_t *segment_lengths(const segment *s)
{
    return s->lengths;
}
const uint8_t *segment_length_codes(const segment *s)
{
    return s->length_codes;
}
const uint32_t *segment_title_lengths(const segment *s)
{
    return s->title_lengths;
}
uint64_t segment_total_title_len(const segment *s)
{
    return s->total_title_len;
}
uint64_t segment_deleted_title_len(const segment *s)
{
    return s->deleted_title_len;
}
size_t segment_doc_id(const segment *s, uint32_t doc, char buf[SEG_MAX_ID_LEN])
{
    /* check_ids validated every entry of every group at open. */
    uint32_t group = doc / SEG_ID_GROUP;
    const uint8_t *p = s->ids + fio_le32(s->id_group_off + (uint64_t)group * 4);
    uint32_t len = 0;
    for (uint32_t d = group * SEG_ID_GROUP; d <= doc; d++) {
        uint32_t shared, suffix;
        p = id_varint(p, p + CODEC_VARINT32_MAX, &shared);
        p = id_varint(p, p + CODEC_VARINT32_MAX, &suffix);
        memcpy(buf + shared, p, suffix);
        p += suffix;
        len = shared + suffix;
    }
    return len;
}
void seg_id_iter_init(seg_id_iter *it, const segment *s)
{
    it->seg = s;
    it->doc = 0;
    it->p = s->ids;
    it->len = 0;
}
int seg_id_iter_next(seg_id_iter *it)
{
    /* Groups are contiguous (check_ids), so the entries are one stream. */
    if (it->doc >= it->seg->ndocs) return 0;
    uint32_t shared, suffix;
    it->p = id_varint(it->p, it->p + CODEC_VARINT32_MAX, &shared);
    it->p = id_varint(it->p, it->p + CODEC_VARINT32_MAX, &suffix);
    memcpy(it->id + shared, it->p, suffix);
    it->p += suffix;
    it->len = shared + suffix;
    it->doc++;
    return 1;
}
uint64_t segment_id_hash(const segment *s, uint32_t doc)
{
    return s->id_hashes[doc];
}
uint64_t segment_content_hash(const segment *s, uint32_t doc)
{
    return fio_le64(s->content_hashes + (uint64_t)doc * 8);
}
const uint64_t *segment_deleted_bits(const segment *s)
{
    return s->has_dels ? s->dels.bits : NULL;
}
const dels *segment_deletions(const segment *s)
{
    return s->has_dels ? &s->dels : NULL;
}
uint32_t segment_ndeleted(const segment *s)
{
    return s->has_dels ? s->dels.ndeleted : 0;
}
uint64_t segment_deleted_len(const segment *s)
{
    return s->has_dels ? s->dels.deleted_len : 0;
}
uint32_t segment_deleted_df(const segment *s, const char *term, size_t len)
{
    return s->has_dels ? dels_term_count(&s->dels, term, len) : 0;
}
uint64_t segment_del_gen(const segment *s)
{
    return s->del_gen;
}
const fio_map *segment_file(const segment *s, enum seg_file f)
{
    return &s->files[f];
}

/* ---- dictionary ---- */

int seg_term_cmp(const void *a, size_t alen, const void *b, size_t blen)
{
    size_t n = alen < blen ? alen : blen;
    int c = n ? memcmp(a, b, n) : 0;
    if (c) return c;
    return alen < blen ? -1 : alen > blen;
}

/* Load block b into the iterator. */
static int iter_load_block(seg_term_iter *it, uint64_t b, se_error *err)
{
    const segment *s = it->seg;
    const fio_map *m = &s->files[SEG_DICT];
    uint64_t off = fio_le64(s->dict_index + b * 16);
    uint64_t end = b + 1 < s->nblocks ? fio_le64(s->dict_index + (b + 1) * 16) : s->dict_blocks_end;
    it->p = m->data + off;
    it->end = m->data + end;
    uint32_t cnt;
    it->p = codec_varint_get32(it->p, it->end, &cnt);
    if (it->p) it->p = codec_varint_get64(it->p, it->end, &it->doc_next);
    if (it->p) it->p = codec_varint_get64(it->p, it->end, &it->pos_next);
    if (!it->p || cnt == 0 || cnt > SEG_DICT_BLOCK_TERMS)
        return corrupt(err, s, SEG_DICT, "malformed block header");
    it->left = cnt;
    it->term_len = 0;
    it->block = b + 1;
    return SE_OK;
}

static int iter_entry(seg_term_iter *it, seg_term_info *info, se_error *err)
{
    const segment *s = it->seg;
    uint32_t prefix, suffix, df, max_tf, min_len;
    uint64_t cf_extra, doc_len, pos_len;
    const uint8_t *p = codec_varint_get32(it->p, it->end, &prefix);
    if (p) p = codec_varint_get32(p, it->end, &suffix);
    if (!p || prefix > it->term_len || suffix > sizeof it->term - 1 - prefix ||
        suffix > (size_t)(it->end - p) || prefix + suffix == 0)
        return corrupt(err, s, SEG_DICT, "malformed term entry");
    memcpy(it->term + prefix, p, suffix);
    it->term_len = prefix + suffix;
    it->term[it->term_len] = 0;
    p += suffix;
    p = codec_varint_get32(p, it->end, &df);
    if (p) p = codec_varint_get64(p, it->end, &cf_extra);
    if (p) p = codec_varint_get64(p, it->end, &doc_len);
    if (p) p = codec_varint_get64(p, it->end, &pos_len);
    if (p) p = codec_varint_get32(p, it->end, &max_tf);
    if (p) p = codec_varint_get32(p, it->end, &min_len);
    if (!p) return corrupt(err, s, SEG_DICT, "truncated term entry");
    const fio_map *dm = &s->files[SEG_POST], *pm = &s->files[SEG_POS];
    uint64_t dlimit = dm->size - FIO_FOOTER_SIZE, plimit = pm->size - FIO_FOOTER_SIZE;
    if (df == 0 || df > s->ndocs || cf_extra > UINT64_MAX / 2 || it->doc_next < FIO_HEADER_SIZE ||
        it->doc_next > dlimit || doc_len > dlimit - it->doc_next ||
        it->pos_next < FIO_HEADER_SIZE || it->pos_next > plimit ||
        pos_len > plimit - it->pos_next || max_tf == 0)
        return corrupt(err, s, SEG_DICT, "term entry out of bounds");
    /* A position takes at least one byte, or 3 bytes per 128 in a packed
     * group, so cf <= SEG_POS_PER_BYTE * pos_len; one document holds at
     * most cf - (df - 1) of the occurrences.  This bounds max_tf, which
     * readers size position buffers by. */
    if (df + cf_extra > SEG_POS_PER_BYTE * pos_len || max_tf - 1 > cf_extra)
        return corrupt(err, s, SEG_DICT, "term entry: impossible frequencies");
    info->df = df;
    info->cf = df + cf_extra;
    info->doc_off = it->doc_next;
    info->doc_len = doc_len;
    info->pos_off = it->pos_next;
    info->pos_len = pos_len;
    info->max_tf = max_tf;
    info->min_len = min_len;
    it->doc_next += doc_len;
    it->pos_next += pos_len;
    it->p = p;
    it->left--;
    return SE_OK;
}

void seg_term_iter_init(seg_term_iter *it, const segment *s)
{
    memset(it, 0, sizeof *it);
    it->seg = s;
}

int seg_term_iter_next(seg_term_iter *it, seg_term_info *info, se_error *err)
{
    if (it->left == 0) {
        if (it->block >= it->seg->nblocks) return 0;
        int rc = iter_load_block(it, it->block, err);
        if (rc != SE_OK) return rc;
    }
    int rc = iter_entry(it, info, err);
    return rc == SE_OK ? 1 : rc;
}

int segment_lookup(const segment *s, const char *term, size_t len, seg_term_info *info,
                   se_error *err)
{
    if (s->nblocks == 0 || len == 0 || len > 255) return 0;
    /* Last block whose first term <= term. */
    uint64_t lo = 0, hi = s->nblocks, key = term_key((const uint8_t *)term, len);
    while (hi - lo > 1) {
        uint64_t mid = lo + (hi - lo) / 2;
        const uint8_t *e = s->dict_index + mid * 16;
        uint64_t k = s->dict_keys[mid];
        int c = k != key
                    ? (k < key ? -1 : 1)
                    : seg_term_cmp(s->dict_blob + fio_le32(e + 8), fio_le32(e + 12), term, len);
        if (c <= 0)
            lo = mid;
        else
            hi = mid;
    }
    seg_term_iter it = {.seg = s};
    int rc = iter_load_block(&it, lo, err);
    if (rc != SE_OK) return rc;
    /* The entries before the term are only stepped over: their term for
     * the comparison and their extents for the offsets, each within its
     * file.  The term's own entry (or the first after it) is read in full
     * by iter_entry, with every check. */
    const fio_map *dm = &s->files[SEG_POST], *pm = &s->files[SEG_POS];
    uint64_t dlimit = dm->size - FIO_FOOTER_SIZE, plimit = pm->size - FIO_FOOTER_SIZE;
    while (it.left > 0) {
        const uint8_t *entry = it.p;
        size_t prev_len = it.term_len;
        uint32_t prefix, suffix, skip32;
        uint64_t skip64, doc_len, pos_len;
        const uint8_t *p = codec_varint_get32(it.p, it.end, &prefix);
        if (p) p = codec_varint_get32(p, it.end, &suffix);
        if (!p || prefix > it.term_len || suffix > sizeof it.term - 1 - prefix ||
            suffix > (size_t)(it.end - p) || prefix + suffix == 0)
            return corrupt(err, s, SEG_DICT, "malformed term entry");
        memcpy(it.term + prefix, p, suffix);
        it.term_len = prefix + suffix;
        int c = seg_term_cmp(it.term, it.term_len, term, len);
        if (c >= 0) {
            it.p = entry;
            it.term_len = prev_len;
            rc = iter_entry(&it, info, err);
            if (rc != SE_OK) return rc;
            return c == 0;
        }
        p += suffix;
        p = codec_varint_get32(p, it.end, &skip32);        /* df */
        if (p) p = codec_varint_get64(p, it.end, &skip64); /* cf - df */
        if (p) p = codec_varint_get64(p, it.end, &doc_len);
        if (p) p = codec_varint_get64(p, it.end, &pos_len);
        if (p) p = codec_varint_get32(p, it.end, &skip32); /* max tf */
        if (p) p = codec_varint_get32(p, it.end, &skip32); /* min length */
        if (!p) return corrupt(err, s, SEG_DICT, "truncated term entry");
        if (it.doc_next > dlimit || doc_len > dlimit - it.doc_next || it.pos_next > plimit ||
            pos_len > plimit - it.pos_next)
            return corrupt(err, s, SEG_DICT, "term entry out of bounds");
        it.doc_next += doc_len;
        it.pos_next += pos_len;
        it.p = p;
        it.left--;
    }
    return 0;
}

/* ---- document store ---- */

void seg_store_buffer_init(seg_store_buffer *b)
{
    memset(b, 0, sizeof *b);
    b->chunk = UINT32_MAX;
}

void seg_store_buffer_free(seg_store_buffer *b)
{
    free(b->data);
    seg_store_buffer_init(b);
}

uint32_t segment_store_nchunks(const segment *s)
{
    return s->nchunks;
}

void segment_store_chunk(const segment *s, uint32_t c, uint32_t *first, uint32_t *ndocs,
                         uint32_t *raw_len, const uint8_t **zdata, uint32_t *zlen)
{
    const fio_map *m = &s->files[SEG_STORE];
    const uint8_t *e = s->store_index + (uint64_t)c * 16;
    uint64_t off = fio_le64(e + 8);
    *first = fio_le32(e);
    *ndocs = fio_le32(e + 4);
    *raw_len = fio_le32(m->data + off);
    *zlen = fio_le32(m->data + off + 4);
    *zdata = m->data + off + 8;
}

static int load_chunk(const segment *s, uint32_t c, seg_store_buffer *b, se_error *err)
{
    if (b->seg == s && b->chunk == c) return SE_OK;
    const fio_map *m = &s->files[SEG_STORE];
    uint64_t off = fio_le64(s->store_index + (uint64_t)c * 16 + 8);
    uint32_t raw = fio_le32(m->data + off), clen = fio_le32(m->data + off + 4);
    /* Deflate expands at most about 1032:1, so a chunk claiming more than
     * that of its compressed size is damaged: refuse it before allocating. */
    if (raw > SEG_MAX_STORE_RECORD || (uint64_t)raw > (uint64_t)clen * 1032 + 64)
        return corrupt(err, s, SEG_STORE, "chunk too large");
    if (b->cap < raw || b->data == NULL) {
        size_t cap = raw ? raw : 1;
        uint8_t *nb = realloc(b->data, cap);
        if (!nb) return se_fail(err, SE_NOMEM, "out of memory reading a document");
        b->data = nb;
        b->cap = cap;
    }
    b->chunk = UINT32_MAX;
    uLongf got = raw;
    int zr = uncompress(b->data, &got, m->data + off + 8, clen);
    if (zr != Z_OK || got != raw) return corrupt(err, s, SEG_STORE, "chunk does not decompress");
    b->seg = s;
    b->chunk = c;
    b->len = raw;
    return SE_OK;
}

int segment_document(const segment *s, uint32_t doc, seg_store_buffer *b, seg_document *out,
                     se_error *err)
{
    if (doc >= s->ndocs)
        return se_fail(err, SE_INVALID, "document %u out of range (%u)", doc, s->ndocs);
    if (s->doctab_only)
        return se_fail(err, SE_INVALID, "segment %u: document store not verified", s->number);
    uint32_t lo = 0, hi = s->nchunks;
    while (hi - lo > 1) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (fio_le32(s->store_index + (uint64_t)mid * 16) <= doc)
            lo = mid;
        else
            hi = mid;
    }
    int rc = load_chunk(s, lo, b, err);
    if (rc != SE_OK) return rc;
    uint32_t first = fio_le32(s->store_index + (uint64_t)lo * 16);
    const uint8_t *p = b->data, *end = b->data + b->len;
    for (uint32_t d = first;; d++) {
        uint64_t lens[3];
        const uint8_t *fields[3];
        for (int f = 0; f < 3; f++) {
            p = codec_varint_get64(p, end, &lens[f]);
            if (!p || lens[f] > (uint64_t)(end - p))
                return corrupt(err, s, SEG_STORE, "malformed document record");
            fields[f] = p;
            p += lens[f];
        }
        if (d == doc) {
            out->id = (const char *)fields[0];
            out->id_len = lens[0];
            out->title = (const char *)fields[1];
            out->title_len = lens[1];
            out->text = (const char *)fields[2];
            out->text_len = lens[2];
            return SE_OK;
        }
    }
}
