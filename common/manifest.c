/* manifest.c - reading and encoding the MANIFEST (layout in manifest.h). */
#include "common/manifest.h"

#include <stdio.h>
#include <stdlib.h>

#include "common/analyzer.h"
#include "common/fileio.h"

#define SEG_RECORD  (4 + 4 + 8 + 8 + SEG_NFILES * 16 + 32 + 8)
#define TITLE_FIELD (DEL_FIELDS + 32) /* u64 total title length (version 4) */
#define DEL_FIELDS  (24 + SEG_NFILES * 16)
#define FIXED       (8 + 4 + 4)

int manifest_encode(const manifest *m, uint8_t **buf, size_t *len, se_error *err)
{
    size_t size = FIO_HEADER_SIZE + FIXED + (size_t)m->nsegments * SEG_RECORD + FIO_FOOTER_SIZE;
    uint8_t *b = calloc(1, size);
    if (!b) return se_fail(err, SE_NOMEM, "out of memory");
    // NOLINTNEXTLINE(bugprone-not-null-terminated-result): the magic has no NUL
    memcpy(b, MANIFEST_MAGIC, 8);
    fio_put32(b + 8, FIO_FORMAT_VERSION);
    fio_put32(b + 12, m->analysis);
    uint8_t *p = b + FIO_HEADER_SIZE;
    fio_put64(p, m->generation);
    fio_put32(p + 8, m->next_segment);
    fio_put32(p + 12, m->nsegments);
    p += FIXED;
    for (uint32_t i = 0; i < m->nsegments; i++) {
        const seg_meta *s = &m->segments[i];
        fio_put32(p, s->number);
        fio_put32(p + 4, s->ndocs);
        fio_put64(p + 8, s->total_len);
        fio_put64(p + 16, s->nterms);
        for (int f = 0; f < SEG_NFILES; f++) {
            fio_put64(p + 24 + f * 16, s->files[f].size);
            fio_put64(p + 32 + f * 16, s->files[f].checksum);
        }
        fio_put64(p + DEL_FIELDS, s->del_gen);
        fio_put32(p + DEL_FIELDS + 8, s->ndeleted);
        fio_put64(p + DEL_FIELDS + 16, s->del.size);
        fio_put64(p + DEL_FIELDS + 24, s->del.checksum);
        fio_put64(p + TITLE_FIELD, s->total_title_len);
        p += SEG_RECORD;
    }
    fio_put64(p, size);
    fio_put64(p + 8, fio_hash(b, size - 8));
    *buf = b;
    *len = size;
    return SE_OK;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static int decode(const uint8_t *buf, size_t len, const char *what, manifest *m, se_error *err);

int manifest_decode(const uint8_t *buf, size_t len, const char *what, manifest *m, se_error *err)
{
    int rc = decode(buf, len, what, m, err);
    if (rc != SE_OK) manifest_free(m); /* failures leave an empty manifest */
    return rc;
}

static int decode(const uint8_t *buf, size_t len, const char *what, manifest *m, se_error *err)
{
    memset(m, 0, sizeof *m);
    int rc = fio_check_frame(buf, len, MANIFEST_MAGIC, what, err);
    if (rc != SE_OK) return rc;
    size_t body = len - FIO_HEADER_SIZE - FIO_FOOTER_SIZE;
    const uint8_t *p = buf + FIO_HEADER_SIZE;
    uint32_t analysis = fio_le32(buf + 12);
    if (analysis & ~ANALYZER_KNOWN)
        return se_fail(err, SE_FORMAT,
                       "%s: the index was built with analysis settings 0x%x, which this program "
                       "does not know",
                       what, analysis);
    m->analysis = analysis;
    if (body < FIXED) return se_fail(err, SE_CORRUPT, "%s: truncated", what);
    m->generation = fio_le64(p);
    m->next_segment = fio_le32(p + 8);
    m->nsegments = fio_le32(p + 12);
    if (m->nsegments > MANIFEST_MAX_SEGMENTS || body != FIXED + (size_t)m->nsegments * SEG_RECORD)
        return se_fail(err, SE_CORRUPT, "%s: segment count does not match the size", what);
    p += FIXED;
    if (m->nsegments) {
        m->segments = calloc(m->nsegments, sizeof *m->segments);
        if (!m->segments) {
            memset(m, 0, sizeof *m); /* failures leave an empty manifest */
            return se_fail(err, SE_NOMEM, "out of memory");
        }
    }
    uint64_t total_docs = 0;
    for (uint32_t i = 0; i < m->nsegments; i++) {
        seg_meta *s = &m->segments[i];
        s->number = fio_le32(p);
        s->ndocs = fio_le32(p + 4);
        s->total_len = fio_le64(p + 8);
        s->nterms = fio_le64(p + 16);
        for (int f = 0; f < SEG_NFILES; f++) {
            s->files[f].size = fio_le64(p + 24 + f * 16);
            s->files[f].checksum = fio_le64(p + 32 + f * 16);
        }
        s->del_gen = fio_le64(p + DEL_FIELDS);
        s->ndeleted = fio_le32(p + DEL_FIELDS + 8);
        uint32_t reserved = fio_le32(p + DEL_FIELDS + 12);
        s->del.size = fio_le64(p + DEL_FIELDS + 16);
        s->del.checksum = fio_le64(p + DEL_FIELDS + 24);
        s->total_title_len = fio_le64(p + TITLE_FIELD);
        p += SEG_RECORD;
        total_docs += s->ndocs;
        int del_ok =
            s->del_gen ? (s->ndeleted > 0 && s->ndeleted <= s->ndocs && s->del_gen <= m->generation)
                       : (s->ndeleted == 0 && s->del.size == 0 && s->del.checksum == 0);
        if (s->number >= m->next_segment || s->ndocs > SEG_MAX_DOCS || total_docs > SEG_MAX_DOCS ||
            !del_ok || reserved != 0 || s->total_title_len > s->total_len) {
            manifest_free(m);
            return se_fail(err, SE_CORRUPT, "%s: invalid segment entry %u", what, i);
        }
    }
    /* Repeated numbers: sort a copy (a pairwise check would cost seconds
     * at MANIFEST_MAX_SEGMENTS). */
    if (m->nsegments > 1) {
        uint32_t *nums = malloc((size_t)m->nsegments * sizeof *nums);
        if (!nums) {
            manifest_free(m);
            return se_fail(err, SE_NOMEM, "out of memory");
        }
        for (uint32_t i = 0; i < m->nsegments; i++) nums[i] = m->segments[i].number;
        qsort(nums, m->nsegments, sizeof *nums, cmp_u32);
        uint32_t dup = 0;
        int found = 0;
        for (uint32_t i = 1; i < m->nsegments && !found; i++)
            if (nums[i] == nums[i - 1]) {
                dup = nums[i];
                found = 1;
            }
        free(nums);
        if (found) {
            manifest_free(m);
            return se_fail(err, SE_CORRUPT, "%s: segment %u is listed twice", what, dup);
        }
    }
    return SE_OK;
}

int manifest_read(const char *dir, manifest *m, se_error *err)
{
    memset(m, 0, sizeof *m);
    char path[4096];
    if (snprintf(path, sizeof path, "%s/%s", dir, MANIFEST_NAME) >= (int)sizeof path)
        return se_fail(err, SE_INVALID, "index path too long: %s", dir);
    uint8_t *buf;
    size_t len;
    int rc = fio_read_file(path, &buf, &len, err);
    if (rc != SE_OK) return rc;
    rc = manifest_decode(buf, len, path, m, err);
    free(buf);
    return rc;
}

void manifest_free(manifest *m)
{
    free(m->segments);
    memset(m, 0, sizeof *m);
}
