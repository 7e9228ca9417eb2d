/*
 * segment.h - the immutable segment: file layout constants and the reader.
 *
 * A segment is five files named <dir>/s<number, 8 digits>.<ext>, each framed
 * by fileio.h (magic, version, size, XXH3 checksum).  docs/FORMAT.md
 * describes every byte; in short:
 *
 *   .tdx  term dictionary: sorted terms in front-coded blocks of up to
 *         SEG_DICT_BLOCK_TERMS, a block index for binary search, and per term
 *         df, total tf, postings/positions extents and its impact (max tf,
 *         min document length);
 *   .doc  postings: per term, when df >= SEG_BLOCK, a skip table (one
 *         16-byte entry per 128-doc block: last doc, end offset, positions
 *         offset, end of its impacts) and the blocks' impacts ((tf, length)
 *         frontiers, impacts.h), then 128-doc blocks of doc gaps and tf-1
 *         (patched bit-packed blocks, codec.h), then a variable-byte tail;
 *   .pos  positions: per posting, the first position and tf - 1 gaps;
 *         bit-packed in patched groups of 128 values for full blocks,
 *         variable-byte otherwise;
 *   .len  document table: lengths (tokens) bit-packed per SEG_BLOCK
 *         documents, then the title lengths the same way, and the ids
 *         front-coded in groups of SEG_ID_GROUP;
 *   .sto  document store: zlib-compressed chunks of (id, title, text), and
 *         each document's u64 content hash.
 *
 * The reader maps all five files and verifies their framing and checksums
 * (and, when the manifest supplies them, their sizes and checksums) before
 * anything is read.  Every offset followed afterwards is bounds-checked, so
 * a file that passes its checksum yet is malformed yields SE_CORRUPT, never
 * an out-of-bounds read.  Opening decodes the lengths into an aligned array
 * and checks every id entry, so the accessors below cannot fail.
 *
 * Thread-safety: an open segment is immutable and may be shared by any
 * number of threads; cursors and store buffers are per caller.
 */
#ifndef SE_SEGMENT_H
#define SE_SEGMENT_H

#include <stddef.h>
#include <stdint.h>

#include "common/deletions.h"
#include "common/fileio.h"
#include "common/status.h"

#define SEG_BLOCK            128 /* docs per bit-packed block; lists shorter than this have no skip table */
#define SEG_SKIP_ENTRY       16 /* u32 last doc, data end, positions start, impacts end */
#define SEG_DICT_BLOCK_TERMS 64
#define SEG_STORE_CHUNK      (32u << 10) /* target uncompressed bytes per store chunk */
#define SEG_MAX_DOCS         0x7fffffffu /* doc ids are below this */
#define SEG_MAX_STORE_RECORD (1u << 30)  /* sanity bound when reading a chunk */
#define SEG_POS_PER_BYTE     43          /* positions per .pos byte, at most (128 in 3 bytes) */
#define SEG_ID_GROUP         16          /* ids per front-coding group (restart point) */
#define SEG_MAX_ID_LEN       1024        /* bytes of a document id, at most */

/* Title field terms.  A document's title and text are indexed together as
 * one field (title positions first); each title term is also indexed a
 * second time, as SEG_TITLE_PREFIX followed by the term, with the document's
 * title tf and title positions.  The analyzer never emits a control byte
 * (tokens are letters and digits, folded), so no query can reach these
 * terms: only the fielded scoring (searcher/bm25.h) looks them up, and
 * they sort before every analysed term. */
#define SEG_TITLE_PREFIX '\x01'
#define SEG_MAX_TERM_LEN 255

/* A document length in one byte, for bounds (in memory only, never on
 * disk): lengths below 128 as they are, longer ones as a float with a
 * 4-bit mantissa rounded down, 32,768 and up as the last code.
 * seg_length_floor(seg_length_code(len)) <= len, and both functions are
 * monotone, so a score bounded at the floor is bounded for the length;
 * below 128 the floor is the length and such a bound is the score. */
static inline uint8_t seg_length_code(uint32_t len)
{
    if (len < 128) return (uint8_t)len;
    unsigned e = 31u - (unsigned)__builtin_clz(len) - 7u; /* len in [128 << e, 256 << e) */
    if (e > 7) return 255;
    return (uint8_t)(128u + 16u * e + ((len >> (e + 3)) - 16u));
}

static inline uint32_t seg_length_floor(uint8_t code)
{
    if (code < 128) return code;
    unsigned e = (unsigned)(code - 128) >> 4, m = code & 15u;
    return (16u + m) << (e + 3);
}

enum seg_file { SEG_DICT, SEG_POST, SEG_POS, SEG_DOCTAB, SEG_STORE, SEG_NFILES };

extern const char *const seg_file_ext[SEG_NFILES];   /* "tdx", "doc", "pos", "len", "sto" */
extern const char *const seg_file_magic[SEG_NFILES]; /* 8-byte magics */

/* Size and checksum of one file, as recorded in the manifest. */
typedef struct seg_file_meta {
    uint64_t size;
    uint64_t checksum;
} seg_file_meta;

/* What the manifest knows about a segment. */
typedef struct seg_meta {
    uint32_t number;
    uint32_t ndocs;
    uint64_t total_len;       /* sum of document lengths */
    uint64_t total_title_len; /* sum of their title lengths (tokens, <= total_len) */
    uint64_t nterms;
    seg_file_meta files[SEG_NFILES];
    uint64_t del_gen;  /* deletions file s<number>_<del_gen>.del; 0: none */
    uint32_t ndeleted; /* documents it deletes (0 when del_gen is 0) */
    seg_file_meta del;
} seg_meta;

/* Term order everywhere (dictionary, deletions, merges): bytewise, a
 * prefix first.  Returns <0, 0 or >0 like memcmp. */
int seg_term_cmp(const void *a, size_t alen, const void *b, size_t blen);

/* Build "<dir>/s%08u.<ext>" into buf; returns SE_OK or SE_INVALID if too long. */
int seg_file_path(char *buf, size_t cap, const char *dir, uint32_t number, enum seg_file f);

/* Per-term dictionary entry. */
typedef struct seg_term_info {
    uint32_t df;      /* documents containing the term */
    uint64_t cf;      /* total occurrences */
    uint64_t doc_off; /* file offset of the term's postings in .doc */
    uint64_t doc_len;
    uint64_t pos_off; /* file offset of the term's positions in .pos */
    uint64_t pos_len;
    uint32_t max_tf; /* impact: highest tf, and shortest length among its docs */
    uint32_t min_len;
} seg_term_info;

typedef struct segment segment;

/* Open segment `meta->number` in dir, and its deletions file when
 * meta->del_gen is set.  When `check_meta` is non-zero the sizes and
 * checksums in meta must match the files.  Returns SE_OK,
 * SE_NOTFOUND, SE_IO, SE_FORMAT, SE_CORRUPT or SE_NOMEM (file named). */
int segment_open(segment **out, const char *dir, const seg_meta *meta, int check_meta,
                 se_error *err);
/* Open only the document table (.len), the content hashes of the document
 * store (.sto: checked against their own checksum, the chunks are not read)
 * and the deletions file: enough for segment_ndocs, _lengths, _doc_id,
 * _id_hash, _content_hash and the deletion accessors, which is what a
 * writer needs to find documents by id without reading the large files.
 * Nothing else may be called on it but segment_close; segment_document
 * returns SE_INVALID. */
int segment_open_doctab(segment **out, const char *dir, const seg_meta *meta, se_error *err);
int segment_is_doctab_only(const segment *s);
void segment_close(segment *s);

uint32_t segment_number(const segment *s);
uint32_t segment_ndocs(const segment *s);
uint64_t segment_total_len(const segment *s);
uint64_t segment_nterms(const segment *s);
/* Document lengths in tokens: ndocs entries, decoded when the segment was
 * opened and owned by it. */
const uint32_t *segment_lengths(const segment *s);
/* The lengths as one byte each (seg_length_code), ndocs entries, owned by
 * the segment: a quarter of the memory, for the bounds taken of documents
 * that are then mostly passed over, so that the lengths themselves are
 * read only for those scored. */
const uint8_t *segment_length_codes(const segment *s);
/* Title lengths in tokens (each at most the document's length), decoded
 * and checked at open like the lengths; their sum, and the sum over the
 * deleted documents (computed from the bitmap at open). */
const uint32_t *segment_title_lengths(const segment *s);
uint64_t segment_total_title_len(const segment *s);
uint64_t segment_deleted_title_len(const segment *s);
/* Copy the id of document doc (< ndocs) into buf (not NUL-terminated) and
 * return its length, 1 ... SEG_MAX_ID_LEN.  Decodes at most SEG_ID_GROUP
 * entries. */
size_t segment_doc_id(const segment *s, uint32_t doc, char buf[SEG_MAX_ID_LEN]);
/* Every document's id in document order, decoding each entry once (for
 * writers, merges and listings that walk them all). */
typedef struct seg_id_iter {
    const segment *seg;
    uint32_t doc; /* document of the next call */
    const uint8_t *p;
    size_t len;
    char id[SEG_MAX_ID_LEN]; /* the current id, len bytes */
} seg_id_iter;
void seg_id_iter_init(seg_id_iter *it, const segment *s);
/* 1 with the id of document it->doc - 1 in it->id / it->len, 0 at the end. */
int seg_id_iter_next(seg_id_iter *it);
/* XXH3-64 of document doc's id (not stored in the files: computed for
 * every document when the segment is opened, 8 bytes per document). */
uint64_t segment_id_hash(const segment *s, uint32_t doc);
/* Content hash of document doc: XXH3-64 of the text seeded with the
 * XXH3-64 of the title (stored in .sto). */
uint64_t segment_content_hash(const segment *s, uint32_t doc);

/* Deletions: the bitmap (NULL when the segment has none; test a document
 * with dels_is_deleted), the open file (NULL when none), how many documents
 * are deleted, their summed length, and how many of them contain a term. */
const uint64_t *segment_deleted_bits(const segment *s);
const dels *segment_deletions(const segment *s);
uint32_t segment_ndeleted(const segment *s);
uint64_t segment_deleted_len(const segment *s);
uint32_t segment_deleted_df(const segment *s, const char *term, size_t len);
uint64_t segment_del_gen(const segment *s);
/* The mapped bytes of one file (for cursors, --verify and statistics). */
const fio_map *segment_file(const segment *s, enum seg_file f);

/* Look a term up: 1 and *info when present, 0 when absent, SE_CORRUPT when
 * the dictionary is malformed (message in *err). */
int segment_lookup(const segment *s, const char *term, size_t len, seg_term_info *info,
                   se_error *err);

/* Iterate over all terms in order. */
typedef struct seg_term_iter {
    const segment *seg;
    uint64_t block;         /* next block to load */
    const uint8_t *p, *end; /* position in the current block */
    uint32_t left;          /* entries left in the current block */
    uint64_t doc_next, pos_next;
    char term[256];
    size_t term_len;
} seg_term_iter;

void seg_term_iter_init(seg_term_iter *it, const segment *s);
/* 1 with the term in it->term / it->term_len and *info, 0 at the end,
 * SE_CORRUPT on a malformed dictionary. */
int seg_term_iter_next(seg_term_iter *it, seg_term_info *info, se_error *err);

/* ---- document store ---- */
typedef struct seg_document {
    const char *id;
    size_t id_len;
    const char *title;
    size_t title_len;
    const char *text;
    size_t text_len;
} seg_document;

/* The store's chunks, for copying them whole into another segment: chunk
 * c < segment_store_nchunks holds documents first .. first + ndocs - 1,
 * raw_len bytes uncompressed, zlen bytes compressed at zdata.  The chunk
 * index was validated when the segment was opened fully (not by
 * segment_open_doctab: call these on a full open only). */
uint32_t segment_store_nchunks(const segment *s);
void segment_store_chunk(const segment *s, uint32_t c, uint32_t *first, uint32_t *ndocs,
                         uint32_t *raw_len, const uint8_t **zdata, uint32_t *zlen);

/* A per-caller buffer holding the last decompressed chunk. */
typedef struct seg_store_buffer {
    const segment *seg;
    uint32_t chunk; /* cached chunk index, UINT32_MAX for none */
    uint8_t *data;
    size_t len, cap;
} seg_store_buffer;

void seg_store_buffer_init(seg_store_buffer *b);
void seg_store_buffer_free(seg_store_buffer *b);

/* Fetch document `doc`; the strings point into *b and stay valid until the
 * next call with the same buffer.  SE_OK, SE_INVALID (doc out of range),
 * SE_CORRUPT or SE_NOMEM. */
int segment_document(const segment *s, uint32_t doc, seg_store_buffer *b, seg_document *out,
                     se_error *err);

#endif
