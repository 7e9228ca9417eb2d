/*
 * verify.c - full consistency check of an index (see verify.h).
 *
 * The checks beyond what opening already does (framing, checksums, sizes
 * against the manifest, trailers and index tables):
 *   dictionary  terms strictly increasing; every extent inside its file;
 *               each term's postings begin where the previous term's end;
 *   postings    the cursor decodes every block (widths, block sizes, skip
 *               entries' last docs); ids strictly increasing and below the
 *               document count; df, total tf, max tf and min length equal
 *               the dictionary's; each skip entry's max tf and min length
 *               equal its block's; the last block ends at the term's end;
 *   positions   tf positions per posting, strictly increasing, and the
 *               term's positions end exactly at its extent;
 *   documents   every record decodes; XXH3 of the id and of the content
 *               equal the document table's hashes; lengths sum to the total;
 *               each document's title-field terms' tfs sum to its title
 *               length;
 *   deletions   (opening checked the bitmap against its count) each term's
 *               count of deleted documents equals the deleted postings
 *               found in its list, the table lists no other term, and the
 *               deleted length equals the deleted documents' lengths.
 */
#include "indexer/verify.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <xxhash.h>

#include "common/codec.h"
#include "common/index.h"
#include "common/postings.h"

/* Record a problem in file f of segment s (about `term`, if not NULL). */
__attribute__((format(printf, 6, 7))) static int bad(se_error *err, const segment *s,
                                                     enum seg_file f, const char *dir,
                                                     const char *term, const char *fmt, ...)
{
    char what[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (term)
        return se_fail(err, SE_CORRUPT, "%s/s%08u.%s: term \"%.64s\": %s", dir, segment_number(s),
                       seg_file_ext[f], term, what);
    return se_fail(err, SE_CORRUPT, "%s/s%08u.%s: %s", dir, segment_number(s), seg_file_ext[f],
                   what);
}

/* The deletions file of s, named for messages. */
static int bad_dels(se_error *err, const segment *s, const char *dir, const char *term,
                    const char *what)
{
    if (term)
        return se_fail(err, SE_CORRUPT, "%s/s%08u_%llu.del: term \"%.64s\": %s", dir,
                       segment_number(s), (unsigned long long)segment_del_gen(s), term, what);
    return se_fail(err, SE_CORRUPT, "%s/s%08u_%llu.del: %s", dir, segment_number(s),
                   (unsigned long long)segment_del_gen(s), what);
}

/* title_tf: per document, the tfs of the title-field terms seen so far
 * (they must add up to the document's title length). */
static int verify_term(const segment *s, const char *dir, const char *term,
                       const seg_term_info *info, postings_cursor *c, uint32_t **pos,
                       size_t *pos_cap, uint64_t *del_terms, uint32_t *title_tf, se_error *err)
{
    const uint32_t *lengths = segment_lengths(s);
    const uint32_t *title_lengths = segment_title_lengths(s);
    int title_term = term[0] == SEG_TITLE_PREFIX;
    const uint64_t *deleted = segment_deleted_bits(s);
    uint32_t ndel = 0;
    if (!*pos || info->max_tf > *pos_cap) {
        size_t cap = info->max_tf > *pos_cap ? info->max_tf : *pos_cap;
        if (cap == 0) cap = 1;
        uint32_t *np = realloc(*pos, cap * sizeof *np);
        if (!np) return se_fail(err, SE_NOMEM, "out of memory");
        *pos = np;
        *pos_cap = cap;
    }
    postings_cursor_open(c, s, info);
    uint64_t df = 0, cf = 0;
    uint32_t max_tf = 0, min_len = UINT32_MAX, prev = 0;
    /* The current block's tfs and lengths, to recompute its impacts. */
    uint32_t blk_tfs[SEG_BLOCK], blk_lens[SEG_BLOCK], blk_n = 0, blk = 0;
    for (uint32_t d = c->doc; d != POSTINGS_END; d = postings_cursor_next(c)) {
        if (df > 0 && d <= prev)
            return bad(err, s, SEG_POST, dir, term, "doc ids not increasing (%llu after %llu)",
                       (unsigned long long)d, (unsigned long long)prev);
        uint32_t tf = postings_cursor_freq(c); /* 0: malformed, the cursor ended */
        if (tf == 0 || postings_cursor_positions(c, *pos, info->max_tf) != tf) break;
        for (uint32_t k = 1; k < tf; k++)
            if ((*pos)[k] <= (*pos)[k - 1])
                return bad(err, s, SEG_POS, dir, term, "positions not increasing in doc %llu",
                           (unsigned long long)d);
        if (c->skip && c->block != blk) {
            blk_n = 0;
            blk = c->block;
        }
        if (tf > max_tf) max_tf = tf;
        if (lengths[d] < min_len) min_len = lengths[d];
        if (blk_n < SEG_BLOCK) {
            blk_tfs[blk_n] = tf;
            blk_lens[blk_n++] = lengths[d];
        }
        /* At the last doc of a block, compare its impacts with the frontier
         * of its documents. */
        if (c->skip && c->i + 1 == c->count) {
            postings_block_info bi;
            impact want[IMPACTS_MAX];
            size_t nw = impacts_frontier(blk_tfs, blk_lens, blk_n, want);
            int rc = postings_block(c, c->block, &bi);
            if (rc != SE_OK || bi.nimpacts != nw ||
                memcmp(bi.impacts, want, nw * sizeof *want) != 0)
                return bad(err, s, SEG_POST, dir, term,
                           "skip entry of block %llu has wrong impacts",
                           (unsigned long long)c->block);
        }
        if (title_term) {
            if (tf > title_lengths[d] - title_tf[d])
                return bad(err, s, SEG_POST, dir, term,
                           "document %llu: title-field terms hold more than its title length "
                           "%llu",
                           (unsigned long long)d, (unsigned long long)title_lengths[d]);
            title_tf[d] += tf;
        }
        df++;
        cf += tf;
        prev = d;
        if (deleted && dels_is_deleted(deleted, d)) ndel++;
    }
    if (c->status != SE_OK)
        return bad(err, s, SEG_POST, dir, term, "malformed postings or positions after doc %llu",
                   (unsigned long long)prev);
    if (df != info->df)
        return bad(err, s, SEG_POST, dir, term, "df is %llu, dictionary says %llu",
                   (unsigned long long)df, (unsigned long long)info->df);
    if (cf != info->cf)
        return bad(err, s, SEG_POST, dir, term, "total tf is %llu, dictionary says %llu",
                   (unsigned long long)cf, (unsigned long long)info->cf);
    if (max_tf != info->max_tf || min_len != info->min_len)
        return bad(err, s, SEG_DICT, dir, term, "impact (max tf %llu, min length %llu) is wrong",
                   (unsigned long long)info->max_tf, (unsigned long long)info->min_len);
    if (c->next != c->end)
        return bad(err, s, SEG_POST, dir, term, "%llu unused bytes after the last block",
                   (unsigned long long)(c->end - c->next));
    if (c->pos_ptr != c->pos_end)
        return bad(err, s, SEG_POS, dir, term, "%llu unused bytes after the positions",
                   (unsigned long long)(c->pos_end - c->pos_ptr));
    uint32_t recorded = segment_deleted_df(s, term, strlen(term));
    if (recorded != ndel) {
        char what[128];
        snprintf(what, sizeof what, "counts %u deleted documents with the term, there are %u",
                 recorded, ndel);
        return bad_dels(err, s, dir, term, what);
    }
    if (ndel) (*del_terms)++;
    return SE_OK;
}

static int verify_documents(const segment *s, const char *dir, se_error *err)
{
    seg_store_buffer buf;
    seg_store_buffer_init(&buf);
    const uint32_t *lengths = segment_lengths(s);
    const uint64_t *deleted = segment_deleted_bits(s);
    uint64_t total = 0, deleted_len = 0;
    int rc = SE_OK;
    seg_id_iter ids;
    seg_id_iter_init(&ids, s);
    for (uint32_t d = 0; d < segment_ndocs(s) && rc == SE_OK; d++) {
        seg_id_iter_next(&ids);
        if (deleted && dels_is_deleted(deleted, d)) deleted_len += lengths[d];
        seg_document doc;
        rc = segment_document(s, d, &buf, &doc, err);
        if (rc != SE_OK) break;
        uint64_t content =
            XXH3_64bits_withSeed(doc.text, doc.text_len, XXH3_64bits(doc.title, doc.title_len));
        if (ids.len != doc.id_len || memcmp(ids.id, doc.id, ids.len) != 0)
            rc = bad(err, s, SEG_DOCTAB, dir, NULL, "document %llu: id differs from the stored one",
                     (unsigned long long)d);
        else if (content != segment_content_hash(s, d))
            rc = bad(err, s, SEG_STORE, dir, NULL, "document %llu: content does not match its hash",
                     (unsigned long long)d);
        total += lengths[d];
    }
    seg_store_buffer_free(&buf);
    if (rc == SE_OK && total != segment_total_len(s))
        rc = bad(err, s, SEG_DOCTAB, dir, NULL, "lengths sum to %llu, the table says %llu",
                 (unsigned long long)total, (unsigned long long)segment_total_len(s));
    if (rc == SE_OK && deleted_len != segment_deleted_len(s))
        rc = bad_dels(err, s, dir, NULL, "deleted length does not match the deleted documents");
    return rc;
}

static int verify_segment(const segment *s, const char *dir, index_description *d, int deep,
                          se_error *err)
{
    seg_term_iter it;
    seg_term_iter_init(&it, s);
    seg_term_info info;
    char prev[256] = "";
    size_t prev_len = 0;
    uint64_t nterms = 0, doc_next = FIO_HEADER_SIZE, pos_next = FIO_HEADER_SIZE;
    postings_cursor *c = malloc(sizeof *c);
    uint32_t *pos = NULL;
    size_t pos_cap = 0;
    uint64_t del_terms = 0;
    uint32_t *title_tf = deep ? calloc((size_t)segment_ndocs(s) + 1, sizeof *title_tf) : NULL;
    if (!c || (deep && !title_tf)) {
        free(c);
        free(title_tf);
        return se_fail(err, SE_NOMEM, "out of memory");
    }
    int rc;
    while ((rc = seg_term_iter_next(&it, &info, err)) == 1) {
        if (nterms > 0 && seg_term_cmp(prev, prev_len, it.term, it.term_len) >= 0) {
            rc = bad(err, s, SEG_DICT, dir, it.term, "terms out of order");
            break;
        }
        if (info.doc_off != doc_next || info.pos_off != pos_next) {
            rc = bad(err, s, SEG_DICT, dir, it.term, "extents not contiguous");
            break;
        }
        doc_next = info.doc_off + info.doc_len;
        pos_next = info.pos_off + info.pos_len;
        memcpy(prev, it.term, it.term_len);
        prev_len = it.term_len;
        nterms++;
        if (it.term_len > 0 && it.term[0] == SEG_TITLE_PREFIX) {
            d->title_terms++;
            d->title_postings += info.df;
            d->title_positions += info.cf;
        } else {
            d->terms++;
            d->postings += info.df;
            d->positions += info.cf;
        }
        if (deep && (rc = verify_term(s, dir, it.term, &info, c, &pos, &pos_cap, &del_terms,
                                      title_tf, err)) != SE_OK)
            break;
    }
    free(c);
    free(pos);
    /* Every title token is a title-field term occurrence. */
    const uint32_t *title_lengths = segment_title_lengths(s);
    for (uint32_t doc = 0; rc == 0 && deep && doc < segment_ndocs(s); doc++)
        if (title_tf[doc] != title_lengths[doc])
            rc = bad(err, s, SEG_POST, dir, NULL,
                     "document %llu: title-field terms hold %llu tokens, its title length is %llu",
                     (unsigned long long)doc, (unsigned long long)title_tf[doc],
                     (unsigned long long)title_lengths[doc]);
    free(title_tf);
    if (rc < 0) return rc;
    if (nterms != segment_nterms(s))
        return bad(err, s, SEG_DICT, dir, NULL, "holds %llu terms, the trailer says %llu",
                   (unsigned long long)nterms, (unsigned long long)segment_nterms(s));
    const dels *dl = segment_deletions(s);
    if (deep && dl && dl->nterms != del_terms)
        return bad_dels(err, s, dir, NULL, "lists terms that no deleted document contains");
    d->tokens += segment_total_len(s) - segment_deleted_len(s);
    if (dl) d->deletions_bytes += dl->map.size;
    return deep ? verify_documents(s, dir, err) : SE_OK;
}

static int run(const char *dir, index_description *out, int deep, se_error *err)
{
    index_description d;
    memset(&d, 0, sizeof d);
    index_reader *ix;
    int rc = index_open(&ix, dir, err);
    if (rc != SE_OK) return rc;
    d.generation = ix->man.generation;
    d.segments = ix->nsegments;
    d.documents = ix->ndocs;
    d.deleted = ix->ndeleted;
    for (uint32_t i = 0; i < ix->nsegments && rc == SE_OK; i++) {
        for (int f = 0; f < SEG_NFILES; f++)
            d.file_bytes[f] += segment_file(ix->segments[i], (enum seg_file)f)->size;
        rc = verify_segment(ix->segments[i], dir, &d, deep, err);
    }
    char path[4096];
    struct stat st;
    if (snprintf(path, sizeof path, "%s/%s", dir, MANIFEST_NAME) < (int)sizeof path &&
        stat(path, &st) == 0)
        d.manifest_bytes = (uint64_t)st.st_size;
    index_close(ix);
    if (rc == SE_OK && out) *out = d;
    return rc;
}

int index_verify(const char *dir, index_description *d, se_error *err)
{
    return run(dir, d, 1, err);
}

int index_describe(const char *dir, index_description *d, se_error *err)
{
    return run(dir, d, 0, err);
}
