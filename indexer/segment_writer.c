/*
 * segment_writer.c - writes the five files of a segment.
 *
 * Postings of the current term are gathered 128 documents at a time; each
 * full block is bit-packed (doc gaps and tf-1, patched blocks of codec.h) into a
 * per-term buffer and gets a skip entry with its last doc, end offset,
 * positions offset and the end of its impacts: the Pareto frontier of its
 * (tf, length) pairs (common/impacts.h), which go to a per-term buffer of
 * their own, written between the skip table and the blocks.  The block's positions
 * (first position, then gaps, per document) are gathered too and go to the
 * .pos file when the block is complete: patched blocks of 128 values and a
 * variable-byte rest (see common/postings.c); a term's last,
 * partial block writes them all as variable-byte values.  When the term ends, its skip table and
 * blocks are written to .doc and a front-coded entry to the current dictionary block. Stored
 * documents are appended to a chunk buffer that is zlib-compressed into .sto whenever it passes
 * SEG_STORE_CHUNK bytes; the content hashes follow the last chunk.  The document table (.len) is
 * written at the end: lengths bit-packed per SEG_BLOCK documents, ids front-coded in groups of
 * SEG_ID_GROUP.
 */
#include "indexer/segment_writer.h"

#include <stdlib.h>
#include <unistd.h>
#include <xxhash.h>
#include <zlib.h>

#include "common/codec.h"
#include "common/fileio.h"
#include "common/impacts.h"

typedef struct bytes {
    uint8_t *p;
    size_t len, cap;
} bytes;

static int bytes_reserve(bytes *b, size_t extra)
{
    if (b->cap - b->len >= extra) return SE_OK;
    size_t cap = b->cap ? b->cap : 256;
    while (cap - b->len < extra) {
        if (cap > SIZE_MAX / 2) return SE_NOMEM;
        cap *= 2;
    }
    uint8_t *p = realloc(b->p, cap);
    if (!p) return SE_NOMEM;
    b->p = p;
    b->cap = cap;
    return SE_OK;
}

static int bytes_put(bytes *b, const void *data, size_t len)
{
    if (bytes_reserve(b, len) != SE_OK) return SE_NOMEM;
    if (len) memcpy(b->p + b->len, data, len);
    b->len += len;
    return SE_OK;
}

static int bytes_varint(bytes *b, uint64_t v)
{
    if (bytes_reserve(b, CODEC_VARINT64_MAX) != SE_OK) return SE_NOMEM;
    b->len += codec_varint_put64(b->p + b->len, v);
    return SE_OK;
}

static int bytes_u32(bytes *b, uint32_t v)
{
    uint8_t t[4];
    fio_put32(t, v);
    return bytes_put(b, t, 4);
}

struct segment_writer {
    char *dir;
    uint32_t number;
    int status;
    /* A postings part (segw_part_create): .doc and .pos go to part_out
     * instead of files, dictionary entries to part_dict, and `lengths`
     * belongs to the caller. */
    int part;
    bytes part_out[2]; /* [0] the .doc bytes, [1] the .pos bytes */
    bytes part_dict;   /* per term: its length and bytes, then df, cf, doc_len, pos_len,
                          max_tf, min_len as varints */
    int level;
    fio_writer *files[SEG_NFILES];
    /* documents */
    uint32_t ndocs;
    uint64_t total_len, total_title_len;
    uint32_t *lengths, *title_lengths;
    uint64_t *content_hashes;
    bytes ids;       /* front-coded id groups, as written to .len */
    bytes id_groups; /* u32 offset in `ids` of each group */
    char prev_id[SEG_MAX_ID_LEN];
    size_t prev_id_len;
    size_t docs_cap;
    /* store */
    bytes chunk;          /* raw records of the open chunk */
    uint32_t chunk_first; /* first doc of the open chunk */
    bytes chunk_index;    /* 16 bytes per chunk */
    bytes zbuf;
    /* current term */
    int in_term;
    char term[256];
    size_t term_len;
    char prev_term[256];
    size_t prev_term_len;
    uint32_t df, last_doc, max_tf, min_len;
    uint64_t cf;
    uint64_t pos_term_start; /* .pos offset where the term's positions begin */
    uint32_t blk_docs[SEG_BLOCK], blk_freqs[SEG_BLOCK];
    uint32_t blk_n, blk_prev, blk_pos_start;
    uint32_t blk_lens[SEG_BLOCK]; /* the block's documents' lengths */
    uint32_t *blk_pos;            /* the block's position values (first, then gaps) */
    size_t blk_pos_n, blk_pos_cap;
    bytes pos_out; /* the block's encoded positions */
    bytes skip, impacts, blocks;
    /* dictionary */
    uint64_t nterms;
    bytes dict_block; /* entries of the open block */
    uint32_t dict_block_terms;
    uint64_t dict_block_doc_start, dict_block_pos_start;
    char dict_prev[256];
    size_t dict_prev_len;
    bytes dict_index, dict_blob;
};

static int fail(segment_writer *w, int code, se_error *err, const char *what)
{
    if (w->status == SE_OK) {
        w->status = code;
        se_fail(err, code, "segment %u: %s", w->number, what);
    }
    return w->status;
}

/* Sticky check of a fio_writer result. */
static int check_file(segment_writer *w, int f, int rc, se_error *err)
{
    if (rc == SE_OK) return SE_OK;
    if (w->part) return fail(w, rc, err, "out of memory"); /* a part writes to memory */
    char path[4096];
    seg_file_path(path, sizeof path, w->dir, w->number, f);
    if (w->status == SE_OK) {
        w->status = rc;
        se_fail(err, rc, "writing %s: %s", path,
                rc == SE_NOSPC ? "no space left on device" : "write error");
    }
    return w->status;
}

int segw_create(segment_writer **out, const char *dir, uint32_t number, int store_level,
                se_error *err)
{
    *out = NULL;
    segment_writer *w = calloc(1, sizeof *w);
    if (!w || !(w->dir = strdup(dir))) {
        free(w);
        return se_fail(err, SE_NOMEM, "out of memory");
    }
    w->number = number;
    w->level = store_level < 1 ? 1 : store_level > 9 ? 9 : store_level;
    for (int f = 0; f < SEG_NFILES; f++) {
        char path[4096];
        int rc = seg_file_path(path, sizeof path, dir, number, f);
        if (rc == SE_OK) rc = fio_writer_create(&w->files[f], path, seg_file_magic[f], err);
        if (rc != SE_OK) {
            if (rc == SE_INVALID) se_fail(err, rc, "index path too long: %s", dir);
            w->status = rc;
            segw_abort(w);
            return rc;
        }
    }
    *out = w;
    return SE_OK;
}

uint32_t segw_ndocs(const segment_writer *w)
{
    return w->ndocs;
}

/* The .doc or .pos offset so far, and writing to it: the file, or a part's
 * buffer. */
static uint64_t out_offset(const segment_writer *w, int f)
{
    if (w->part) return w->part_out[f == SEG_POS].len;
    return fio_writer_offset(w->files[f]);
}

static int out_write(segment_writer *w, int f, const void *p, size_t n)
{
    if (w->part) return bytes_put(&w->part_out[f == SEG_POS], p, n);
    return fio_write(w->files[f], p, n);
}

/* ---- documents and store ---- */

static int flush_chunk(segment_writer *w, se_error *err)
{
    if (w->chunk.len == 0) return w->status;
    uLongf bound = compressBound((uLong)w->chunk.len);
    if (bytes_reserve(&w->zbuf, bound) != SE_OK) return fail(w, SE_NOMEM, err, "out of memory");
    uLongf clen = bound;
    if (compress2(w->zbuf.p, &clen, w->chunk.p, (uLong)w->chunk.len, w->level) != Z_OK)
        return fail(w, SE_NOMEM, err, "compression failed");
    fio_writer *f = w->files[SEG_STORE];
    uint64_t off = fio_writer_offset(f);
    uint8_t e[16];
    fio_put32(e, w->chunk_first);
    fio_put32(e + 4, w->ndocs - w->chunk_first);
    fio_put64(e + 8, off);
    if (bytes_put(&w->chunk_index, e, 16) != SE_OK) return fail(w, SE_NOMEM, err, "out of memory");
    fio_write_u32(f, (uint32_t)w->chunk.len);
    fio_write_u32(f, (uint32_t)clen);
    if (check_file(w, SEG_STORE, fio_write(f, w->zbuf.p, clen), err) != SE_OK) return w->status;
    w->chunk.len = 0;
    w->chunk_first = w->ndocs;
    return SE_OK;
}

/* The document table entry of the next document (no store record). */
static int add_entry(segment_writer *w, const char *id, size_t id_len, uint32_t length,
                     uint32_t title_length, uint64_t content_hash, se_error *err)
{
    if (w->in_term || w->nterms > 0) return fail(w, SE_INVALID, err, "document after terms");
    if (w->ndocs >= SEG_MAX_DOCS) return fail(w, SE_LIMIT, err, "too many documents");
    if (id_len == 0 || id_len > SEG_MAX_ID_LEN)
        return fail(w, SE_INVALID, err, "document id empty or too long");
    if (title_length > length) return fail(w, SE_INVALID, err, "title longer than its document");
    if (w->ndocs == w->docs_cap) {
        size_t cap = w->docs_cap ? w->docs_cap * 2 : 1024;
        /* Room for the padding of the last length block, too. */
        uint32_t *l = realloc(w->lengths, (cap + SEG_BLOCK) * sizeof *l);
        if (l) w->lengths = l;
        uint32_t *tl = l ? realloc(w->title_lengths, (cap + SEG_BLOCK) * sizeof *tl) : NULL;
        if (tl) w->title_lengths = tl;
        uint64_t *c = tl ? realloc(w->content_hashes, cap * sizeof *c) : NULL;
        if (!c) return fail(w, SE_NOMEM, err, "out of memory");
        w->content_hashes = c;
        w->docs_cap = cap;
    }
    if (w->ids.len + id_len + 2 * CODEC_VARINT32_MAX > UINT32_MAX)
        return fail(w, SE_LIMIT, err, "document ids of one segment exceed 4 GiB");
    /* Front coding: a group restarts every SEG_ID_GROUP documents. */
    size_t shared = 0;
    if (w->ndocs % SEG_ID_GROUP == 0) {
        if (bytes_u32(&w->id_groups, (uint32_t)w->ids.len))
            return fail(w, SE_NOMEM, err, "out of memory");
    } else {
        while (shared < id_len && shared < w->prev_id_len && id[shared] == w->prev_id[shared])
            shared++;
    }
    if (bytes_varint(&w->ids, shared) || bytes_varint(&w->ids, id_len - shared) ||
        bytes_put(&w->ids, id + shared, id_len - shared))
        return fail(w, SE_NOMEM, err, "out of memory");
    memcpy(w->prev_id, id, id_len);
    w->prev_id_len = id_len;
    w->lengths[w->ndocs] = length;
    w->title_lengths[w->ndocs] = title_length;
    w->content_hashes[w->ndocs] = content_hash;
    w->ndocs++;
    w->total_len += length;
    w->total_title_len += title_length;
    return SE_OK;
}

static size_t varint_bytes(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

size_t segw_store_record_bytes(const seg_document *doc)
{
    return varint_bytes(doc->id_len) + doc->id_len + varint_bytes(doc->title_len) + doc->title_len +
           varint_bytes(doc->text_len) + doc->text_len;
}

int segw_store_chunk_empty(const segment_writer *w)
{
    return w->chunk.len == 0 && w->chunk_first == w->ndocs;
}

int segw_add_document(segment_writer *w, const seg_document *doc, uint32_t length,
                      uint32_t title_length, uint64_t content_hash, se_error *err)
{
    if (w->status != SE_OK) return w->status;
    if (w->chunk.len == 0 && w->chunk_first != w->ndocs)
        return fail(w, SE_INVALID, err, "document entries without their store chunk");
    if (doc->id_len + doc->title_len + doc->text_len > SEG_MAX_STORE_RECORD / 2)
        return fail(w, SE_LIMIT, err, "document too large to store");
    int rc = add_entry(w, doc->id, doc->id_len, length, title_length, content_hash, err);
    if (rc != SE_OK) return rc;
    if (bytes_varint(&w->chunk, doc->id_len) || bytes_put(&w->chunk, doc->id, doc->id_len) ||
        bytes_varint(&w->chunk, doc->title_len) ||
        bytes_put(&w->chunk, doc->title, doc->title_len) ||
        bytes_varint(&w->chunk, doc->text_len) || bytes_put(&w->chunk, doc->text, doc->text_len))
        return fail(w, SE_NOMEM, err, "out of memory");
    if (w->chunk.len >= SEG_STORE_CHUNK) return flush_chunk(w, err);
    return SE_OK;
}

int segw_add_document_entry(segment_writer *w, const char *id, size_t id_len, uint32_t length,
                            uint32_t title_length, uint64_t content_hash, se_error *err)
{
    if (w->status != SE_OK) return w->status;
    if (w->chunk.len != 0) return fail(w, SE_INVALID, err, "store chunk open");
    return add_entry(w, id, id_len, length, title_length, content_hash, err);
}

int segw_add_store_chunk(segment_writer *w, uint32_t ndocs, uint32_t raw_len, const uint8_t *zdata,
                         uint32_t zlen, se_error *err)
{
    if (w->status != SE_OK) return w->status;
    if (w->chunk.len != 0 || ndocs == 0 || w->ndocs - w->chunk_first != ndocs)
        return fail(w, SE_INVALID, err, "store chunk does not match its documents");
    fio_writer *f = w->files[SEG_STORE];
    uint8_t e[16];
    fio_put32(e, w->chunk_first);
    fio_put32(e + 4, ndocs);
    fio_put64(e + 8, fio_writer_offset(f));
    if (bytes_put(&w->chunk_index, e, 16) != SE_OK) return fail(w, SE_NOMEM, err, "out of memory");
    fio_write_u32(f, raw_len);
    fio_write_u32(f, zlen);
    if (check_file(w, SEG_STORE, fio_write(f, zdata, zlen), err) != SE_OK) return w->status;
    w->chunk_first = w->ndocs;
    return SE_OK;
}

/* ---- postings ---- */

int segw_begin_term(segment_writer *w, const char *term, size_t len, se_error *err)
{
    if (w->status != SE_OK) return w->status;
    if (w->in_term) return fail(w, SE_INVALID, err, "term not ended");
    if (len == 0 || len > 255) return fail(w, SE_INVALID, err, "bad term length");
    if (w->nterms > 0 && seg_term_cmp(term, len, w->prev_term, w->prev_term_len) <= 0)
        return fail(w, SE_INVALID, err, "terms out of order");
    memcpy(w->term, term, len);
    w->term_len = len;
    w->in_term = 1;
    w->df = 0;
    w->cf = 0;
    w->max_tf = 0;
    w->min_len = UINT32_MAX;
    w->last_doc = UINT32_MAX;
    w->blk_n = 0;
    w->blk_prev = UINT32_MAX;
    w->skip.len = 0;
    w->impacts.len = 0;
    w->blocks.len = 0;
    w->blk_pos_n = 0;
    w->pos_term_start = out_offset(w, SEG_POS);
    return SE_OK;
}

/* Write the current block's positions: packed groups (when `packed`) and
 * variable-byte values. */
static int write_block_positions(segment_writer *w, int packed, se_error *err)
{
    size_t k = 0;
    w->pos_out.len = 0;
    if (packed) {
        for (; k + SEG_BLOCK <= w->blk_pos_n; k += SEG_BLOCK) {
            if (bytes_reserve(&w->pos_out, CODEC_PATCHED_MAX) != SE_OK)
                return fail(w, SE_NOMEM, err, "out of memory");
            w->pos_out.len +=
                codec_patched_encode128(w->blk_pos + k, w->pos_out.p + w->pos_out.len);
        }
    }
    if (bytes_reserve(&w->pos_out, (w->blk_pos_n - k) * CODEC_VARINT32_MAX) != SE_OK)
        return fail(w, SE_NOMEM, err, "out of memory");
    for (; k < w->blk_pos_n; k++)
        w->pos_out.len += codec_varint_put32(w->pos_out.p + w->pos_out.len, w->blk_pos[k]);
    w->blk_pos_n = 0;
    return check_file(w, SEG_POS, out_write(w, SEG_POS, w->pos_out.p, w->pos_out.len), err);
}

/* The lengths of the open block's documents, and the shortest folded into
 * the term's minimum.  Looked up a block at a time rather than per posting:
 * the lengths array is large and these reads miss the cache, and a loop of
 * independent loads lets them overlap. */
static void block_lengths(segment_writer *w)
{
    uint32_t m = UINT32_MAX;
    for (uint32_t k = 0; k < w->blk_n; k++) {
        uint32_t len = w->lengths[w->blk_docs[k]];
        w->blk_lens[k] = len;
        m = len < m ? len : m;
    }
    if (m < w->min_len) w->min_len = m;
}

/* The block's skip entry and impacts.  The entry's offsets are relative to
 * the blocks and impacts buffers here; segw_end_term rebases them. */
static int put_skip(segment_writer *w)
{
    impact fr[IMPACTS_MAX];
    size_t n = impacts_frontier(w->blk_freqs, w->blk_lens, w->blk_n, fr);
    if (bytes_reserve(&w->impacts, IMPACTS_ENCODED_MAX) != SE_OK) return SE_NOMEM;
    w->impacts.len += impacts_encode(fr, n, w->impacts.p + w->impacts.len);
    if (bytes_u32(&w->skip, w->blk_docs[w->blk_n - 1]) ||
        bytes_u32(&w->skip, (uint32_t)w->blocks.len) || bytes_u32(&w->skip, w->blk_pos_start) ||
        bytes_u32(&w->skip, (uint32_t)w->impacts.len))
        return SE_NOMEM;
    return SE_OK;
}

static int encode_full_block(segment_writer *w)
{
    uint32_t gaps[SEG_BLOCK], tfs[SEG_BLOCK];
    uint32_t prev = w->blk_prev;
    for (int k = 0; k < SEG_BLOCK; k++) {
        gaps[k] = w->blk_docs[k] - prev - 1;
        prev = w->blk_docs[k];
        tfs[k] = w->blk_freqs[k] - 1;
    }
    if (bytes_reserve(&w->blocks, 2 * CODEC_PATCHED_MAX) != SE_OK) return SE_NOMEM;
    w->blocks.len += codec_patched_encode128(gaps, w->blocks.p + w->blocks.len);
    w->blocks.len += codec_patched_encode128(tfs, w->blocks.p + w->blocks.len);
    return SE_OK;
}

static int encode_tail(segment_writer *w)
{
    uint32_t prev = w->blk_prev;
    for (uint32_t k = 0; k < w->blk_n; k++) {
        uint64_t gap = (uint64_t)(w->blk_docs[k] - prev - 1);
        uint32_t tf = w->blk_freqs[k];
        if (bytes_varint(&w->blocks, gap << 1 | (tf == 1))) return SE_NOMEM;
        if (tf != 1 && bytes_varint(&w->blocks, tf)) return SE_NOMEM;
        prev = w->blk_docs[k];
    }
    return SE_OK;
}

int segw_add_posting(segment_writer *w, uint32_t doc, uint32_t tf, const uint32_t *positions,
                     se_error *err)
{
    if (w->status != SE_OK) return w->status;
    if (!w->in_term) return fail(w, SE_INVALID, err, "posting outside a term");
    if (doc >= w->ndocs || (w->last_doc != UINT32_MAX && doc <= w->last_doc) || tf == 0)
        return fail(w, SE_INVALID, err, "postings out of order");
    if (w->blk_n == 0) {
        uint64_t rel = out_offset(w, SEG_POS) - w->pos_term_start;
        if (rel > UINT32_MAX) return fail(w, SE_LIMIT, err, "positions of one term exceed 4 GiB");
        w->blk_pos_start = (uint32_t)rel;
    }
    w->blk_docs[w->blk_n] = doc;
    w->blk_freqs[w->blk_n] = tf;
    w->blk_n++;
    if (tf > w->max_tf) w->max_tf = tf;
    w->df++;
    w->cf += tf;
    w->last_doc = doc;
    /* Positions: first absolute, then gaps. */
    if (w->blk_pos_cap - w->blk_pos_n < tf) {
        size_t cap = w->blk_pos_cap ? w->blk_pos_cap : 1024;
        while (cap - w->blk_pos_n < tf) cap *= 2;
        uint32_t *np = realloc(w->blk_pos, cap * sizeof *np);
        if (!np) return fail(w, SE_NOMEM, err, "out of memory");
        w->blk_pos = np;
        w->blk_pos_cap = cap;
    }
    uint32_t prev = 0, *out = w->blk_pos + w->blk_pos_n;
    for (uint32_t k = 0; k < tf; k++) {
        if (k > 0 && positions[k] <= prev)
            return fail(w, SE_INVALID, err, "positions out of order");
        out[k] = positions[k] - prev;
        prev = positions[k];
    }
    w->blk_pos_n += tf;
    if (w->blk_n == SEG_BLOCK) {
        block_lengths(w);
        if (write_block_positions(w, 1, err) != SE_OK) return w->status;
        if (encode_full_block(w) != SE_OK || put_skip(w) != SE_OK)
            return fail(w, SE_NOMEM, err, "out of memory");
        w->blk_prev = w->blk_docs[SEG_BLOCK - 1];
        w->blk_n = 0;
    }
    return SE_OK;
}

static int dict_flush_block(segment_writer *w, se_error *err)
{
    if (w->dict_block_terms == 0) return SE_OK;
    fio_writer *f = w->files[SEG_DICT];
    fio_write_varint(f, w->dict_block_terms);
    fio_write_varint(f, w->dict_block_doc_start);
    fio_write_varint(f, w->dict_block_pos_start);
    check_file(w, SEG_DICT, fio_write(f, w->dict_block.p, w->dict_block.len), err);
    w->dict_block.len = 0;
    w->dict_block_terms = 0;
    return w->status;
}

static int dict_add(segment_writer *w, const char *term, size_t term_len, uint32_t df, uint64_t cf,
                    uint64_t doc_start, uint64_t doc_len, uint64_t pos_start, uint64_t pos_len,
                    uint32_t max_tf, uint32_t min_len, se_error *err);

int segw_end_term(segment_writer *w, se_error *err)
{
    if (w->status != SE_OK) return w->status;
    if (!w->in_term || w->df == 0) return fail(w, SE_INVALID, err, "empty term");
    int long_list = w->df >= SEG_BLOCK;
    if (w->blk_n > 0) {
        block_lengths(w);
        if (write_block_positions(w, 0, err) != SE_OK) return w->status;
        if (encode_tail(w) != SE_OK || (long_list && put_skip(w) != SE_OK))
            return fail(w, SE_NOMEM, err, "out of memory");
    }
    /* Skip entries store block and impact end offsets relative to the term
     * start: the table, then the impacts, then the blocks. */
    uint64_t doc_start = out_offset(w, SEG_POST);
    size_t table = long_list ? w->skip.len : 0;
    size_t before_blocks = long_list ? table + w->impacts.len : 0;
    for (size_t k = 0; long_list && k < w->skip.len; k += SEG_SKIP_ENTRY) {
        uint64_t end = fio_le32(w->skip.p + k + 4) + (uint64_t)before_blocks;
        uint64_t imp_end = fio_le32(w->skip.p + k + 12) + (uint64_t)table;
        if (end > UINT32_MAX) return fail(w, SE_LIMIT, err, "postings of one term exceed 4 GiB");
        fio_put32(w->skip.p + k + 4, (uint32_t)end);
        fio_put32(w->skip.p + k + 12, (uint32_t)imp_end);
    }
    int wrc = SE_OK;
    if (long_list) {
        wrc = out_write(w, SEG_POST, w->skip.p, w->skip.len);
        if (wrc == SE_OK) wrc = out_write(w, SEG_POST, w->impacts.p, w->impacts.len);
    }
    if (wrc == SE_OK) wrc = out_write(w, SEG_POST, w->blocks.p, w->blocks.len);
    check_file(w, SEG_POST, wrc, err);
    if (w->status != SE_OK) return w->status;
    uint64_t doc_len = out_offset(w, SEG_POST) - doc_start;
    uint64_t pos_len = out_offset(w, SEG_POS) - w->pos_term_start;
    memcpy(w->prev_term, w->term, w->term_len);
    w->prev_term_len = w->term_len;
    w->nterms++;
    w->in_term = 0;
    if (w->part) {
        bytes *b = &w->part_dict;
        if (bytes_varint(b, w->term_len) || bytes_put(b, w->term, w->term_len) ||
            bytes_varint(b, w->df) || bytes_varint(b, w->cf) || bytes_varint(b, doc_len) ||
            bytes_varint(b, pos_len) || bytes_varint(b, w->max_tf) || bytes_varint(b, w->min_len))
            return fail(w, SE_NOMEM, err, "out of memory");
        return SE_OK;
    }
    return dict_add(w, w->term, w->term_len, w->df, w->cf, doc_start, doc_len, w->pos_term_start,
                    pos_len, w->max_tf, w->min_len, err);
}

/* A dictionary entry, front-coded against the previous term of its block;
 * a block full of SEG_DICT_BLOCK_TERMS entries is written out first. */
static int dict_add(segment_writer *w, const char *term, size_t term_len, uint32_t df, uint64_t cf,
                    uint64_t doc_start, uint64_t doc_len, uint64_t pos_start, uint64_t pos_len,
                    uint32_t max_tf, uint32_t min_len, se_error *err)
{

    if (w->dict_block_terms == SEG_DICT_BLOCK_TERMS && dict_flush_block(w, err) != SE_OK)
        return w->status;
    size_t prefix = 0;
    if (w->dict_block_terms == 0) {
        w->dict_block_doc_start = doc_start;
        w->dict_block_pos_start = pos_start;
        /* Nothing is written to .tdx between block flushes, so this block
         * will start at the current offset. */
        uint8_t e[16];
        fio_put64(e, fio_writer_offset(w->files[SEG_DICT]));
        fio_put32(e + 8, (uint32_t)w->dict_blob.len);
        fio_put32(e + 12, (uint32_t)term_len);
        if (w->dict_blob.len > UINT32_MAX - 256 || bytes_put(&w->dict_index, e, 16) ||
            bytes_put(&w->dict_blob, term, term_len))
            return fail(w, SE_NOMEM, err, "out of memory");
    } else {
        while (prefix < term_len && prefix < w->dict_prev_len &&
               term[prefix] == w->dict_prev[prefix])
            prefix++;
    }
    bytes *b = &w->dict_block;
    if (bytes_varint(b, prefix) || bytes_varint(b, term_len - prefix) ||
        bytes_put(b, term + prefix, term_len - prefix) || bytes_varint(b, df) ||
        bytes_varint(b, cf - df) || bytes_varint(b, doc_len) || bytes_varint(b, pos_len) ||
        bytes_varint(b, max_tf) || bytes_varint(b, min_len))
        return fail(w, SE_NOMEM, err, "out of memory");
    w->dict_block_terms++;
    memcpy(w->dict_prev, term, term_len);
    w->dict_prev_len = term_len;
    return SE_OK;
}

/* ---- finishing ---- */

static void writer_free(segment_writer *w)
{
    if (!w->part) free(w->lengths);
    free(w->part_out[0].p);
    free(w->part_out[1].p);
    free(w->part_dict.p);
    free(w->title_lengths);
    free(w->content_hashes);
    free(w->blk_pos);
    bytes *all[] = {&w->chunk,   &w->chunk_index, &w->zbuf,       &w->skip,
                    &w->impacts, &w->blocks,      &w->dict_block, &w->dict_index,
                    &w->ids,     &w->id_groups,   &w->dict_blob,  &w->pos_out};
    for (size_t k = 0; k < sizeof all / sizeof all[0]; k++) free(all[k]->p);
    free(w->dir);
    free(w);
}

void segw_abort(segment_writer *w)
{
    if (!w) return;
    for (int f = 0; f < SEG_NFILES; f++) fio_writer_abort(w->files[f]);
    writer_free(w);
}

static int write_trailers(segment_writer *w, se_error *err)
{
    if (w->in_term) return fail(w, SE_INVALID, err, "term not ended");
    /* .tdx: last block, block index, first-term blob, trailer. */
    if (dict_flush_block(w, err) != SE_OK) return w->status;
    fio_writer *f = w->files[SEG_DICT];
    uint64_t index_off = fio_writer_offset(f);
    fio_write(f, w->dict_index.p, w->dict_index.len);
    uint64_t blob_off = fio_writer_offset(f);
    fio_write(f, w->dict_blob.p, w->dict_blob.len);
    fio_write_u64(f, w->nterms);
    fio_write_u64(f, w->dict_index.len / 16);
    fio_write_u64(f, index_off);
    fio_write_u64(f, blob_off);
    if (check_file(w, SEG_DICT, fio_write_u64(f, w->dict_blob.len), err) != SE_OK) return w->status;
    /* .len: length blocks, title length blocks, id groups, padding to 4,
     * group index, trailer. */
    f = w->files[SEG_DOCTAB];
    const uint32_t *arrays[2] = {w->lengths, w->title_lengths};
    for (int a = 0; a < 2; a++)
        for (uint32_t d = 0; d < w->ndocs; d += SEG_BLOCK) {
            uint32_t cnt = w->ndocs - d < SEG_BLOCK ? w->ndocs - d : SEG_BLOCK;
            const uint32_t *v = arrays[a] + d;
            uint32_t base = UINT32_MAX;
            for (uint32_t k = 0; k < cnt; k++)
                if (v[k] < base) base = v[k];
            uint32_t rel[SEG_BLOCK] = {0};
            for (uint32_t k = 0; k < cnt; k++) rel[k] = v[k] - base;
            unsigned width = codec_bits_needed(rel, SEG_BLOCK);
            uint8_t packed[2 + CODEC_VARINT32_MAX + 16 * 32];
            size_t used = codec_varint_put32(packed, base);
            packed[used++] = (uint8_t)width;
            codec_pack128(rel, width, packed + used);
            fio_write(f, packed, used + codec_block_bytes(width));
        }
    uint64_t ids_off = fio_writer_offset(f);
    fio_write(f, w->ids.p, w->ids.len);
    fio_write_align(f, 4);
    fio_write(f, w->id_groups.p, w->id_groups.len);
    fio_write_u64(f, ids_off);
    fio_write_u32(f, w->ndocs);
    fio_write_u32(f, (uint32_t)w->ids.len);
    if (check_file(w, SEG_DOCTAB, fio_write_u64(f, w->total_len), err) != SE_OK) return w->status;
    /* .sto: last chunk, then content hashes, chunk index and trailer, the
     * last field an XXH3 of those (assembled in `tail` to checksum them). */
    if (w->chunk.len == 0 && w->chunk_first != w->ndocs)
        return fail(w, SE_INVALID, err, "document entries without their store chunk");
    if (flush_chunk(w, err) != SE_OK) return w->status;
    f = w->files[SEG_STORE];
    uint64_t sidx = fio_writer_offset(f) + (uint64_t)w->ndocs * 8;
    bytes tail = {0};
    if (bytes_reserve(&tail, (size_t)w->ndocs * 8 + w->chunk_index.len + 24) != SE_OK)
        return fail(w, SE_NOMEM, err, "out of memory");
    for (uint32_t d = 0; d < w->ndocs; d++) fio_put64(tail.p + (size_t)d * 8, w->content_hashes[d]);
    tail.len = (size_t)w->ndocs * 8;
    bytes_put(&tail, w->chunk_index.p, w->chunk_index.len);
    uint8_t t[16];
    fio_put32(t, (uint32_t)(w->chunk_index.len / 16));
    fio_put32(t + 4, w->ndocs);
    fio_put64(t + 8, sidx);
    bytes_put(&tail, t, 16);
    fio_put64(tail.p + tail.len, XXH3_64bits(tail.p, tail.len));
    tail.len += 8;
    int rc = check_file(w, SEG_STORE, fio_write(f, tail.p, tail.len), err);
    free(tail.p);
    return rc;
}

int segw_finish(segment_writer *w, seg_meta *meta, se_error *err)
{
    int rc = w->status != SE_OK ? w->status : write_trailers(w, err);
    if (rc != SE_OK) {
        segw_abort(w);
        return rc;
    }
    memset(meta, 0, sizeof *meta);
    meta->number = w->number;
    meta->ndocs = w->ndocs;
    meta->total_len = w->total_len;
    meta->total_title_len = w->total_title_len;
    meta->nterms = w->nterms;
    for (int f = 0; f < SEG_NFILES; f++) {
        if (rc == SE_OK)
            rc =
                fio_writer_finish(w->files[f], &meta->files[f].size, &meta->files[f].checksum, err);
        else
            fio_writer_abort(w->files[f]);
        w->files[f] = NULL;
    }
    if (rc != SE_OK) {
        /* Remove the files already finished, too. */
        for (int f = 0; f < SEG_NFILES; f++) {
            char path[4096];
            if (seg_file_path(path, sizeof path, w->dir, w->number, f) == SE_OK) unlink(path);
        }
    }
    writer_free(w);
    return rc;
}

/* ---- postings parts ---- */

int segw_part_create(segment_writer **out, uint32_t number, const uint32_t *lengths, uint32_t ndocs,
                     se_error *err)
{
    *out = NULL;
    segment_writer *w = calloc(1, sizeof *w);
    if (!w) return se_fail(err, SE_NOMEM, "out of memory");
    w->part = 1;
    w->number = number;
    w->ndocs = ndocs;
    w->lengths = (uint32_t *)lengths; /* only read, never freed, by a part */
    *out = w;
    return SE_OK;
}

int segw_part_append(segment_writer *w, segment_writer *part, se_error *err)
{
    int rc = w->status != SE_OK ? w->status : part->status;
    if (rc == SE_OK &&
        (w->in_term || w->part || !part->part || part->in_term || part->ndocs != w->ndocs))
        rc = fail(w, SE_INVALID, err, "postings part does not match the segment");
    if (rc != SE_OK) {
        if (w->status == SE_OK && part->status != SE_OK) w->status = part->status;
        segw_abort(part);
        return rc;
    }
    /* The part's offsets start at 0: its bytes go after this writer's. */
    uint64_t doc_base = fio_writer_offset(w->files[SEG_POST]);
    uint64_t pos_base = fio_writer_offset(w->files[SEG_POS]);
    check_file(w, SEG_POST,
               fio_write(w->files[SEG_POST], part->part_out[0].p, part->part_out[0].len), err);
    if (w->status == SE_OK)
        check_file(w, SEG_POS,
                   fio_write(w->files[SEG_POS], part->part_out[1].p, part->part_out[1].len), err);
    /* Each entry: its term, then df, cf, doc_len, pos_len, max_tf, min_len
     * (varints written by segw_end_term). */
    const uint8_t *p = part->part_dict.p, *end = p + part->part_dict.len;
    uint64_t doc_off = 0, pos_off = 0;
    while (w->status == SE_OK && p < end) {
        uint64_t v[7];
        p = codec_varint_get64(p, end, &v[0]);
        if (p && (v[0] == 0 || v[0] > 255 || v[0] > (uint64_t)(end - p))) p = NULL;
        const char *term = (const char *)p;
        if (p) p += v[0];
        for (int k = 1; k < 7 && p; k++) p = codec_varint_get64(p, end, &v[k]);
        if (!p) {
            fail(w, SE_INVALID, err, "bad part dictionary");
            break;
        }
        if (w->nterms > 0 &&
            seg_term_cmp(term, (size_t)v[0], w->prev_term, w->prev_term_len) <= 0) {
            fail(w, SE_INVALID, err, "terms out of order");
            break;
        }
        if (dict_add(w, term, (size_t)v[0], (uint32_t)v[1], v[2], doc_base + doc_off, v[3],
                     pos_base + pos_off, v[4], (uint32_t)v[5], (uint32_t)v[6], err) != SE_OK)
            break;
        doc_off += v[3];
        pos_off += v[4];
        memcpy(w->prev_term, term, (size_t)v[0]);
        w->prev_term_len = (size_t)v[0];
        w->nterms++;
    }
    rc = w->status;
    segw_abort(part);
    return rc;
}
