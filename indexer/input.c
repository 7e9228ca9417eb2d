/*
 * input.c - document sources for the indexer: files, directories, JSONL,
 * compressed JSONL and standard input (contract in input.h).
 *
 * How it works.  input_open copies the path list and checks every path up
 * front.  input_next is a small state machine that hands out one document
 * per call:
 *
 *   - A directory is walked depth first with an explicit stack of frames.
 *     Each frame holds the directory's candidate entries, read once with
 *     readdir and sorted with strcmp (byte order, whatever the locale).
 *     Entry types come from d_type, with lstat as the fallback; symbolic
 *     links are followed only when they lead to a regular file.
 *
 *   - Every file is read through one "byte source" that hands out chunks of
 *     bytes: plain read(2), zstd streaming decompression or zlib inflate,
 *     chosen by the magic bytes at the start of the stream (several zstd
 *     frames or gzip members in a row are read one after the other).
 *
 *   - A JSONL stream is cut into lines on top of the byte source.  A line
 *     lying wholly inside the current chunk is parsed where it is; a line
 *     spanning chunks is assembled in a line buffer, and a line longer than
 *     the limit (2 * max_doc_bytes + LINE_SLACK) is discarded as it streams
 *     past, never buffered whole.  Each line is checked for UTF-8 (invalid
 *     sequences are replaced before parsing, since jansson rejects them) and
 *     parsed with jansson; a line that fails only because of a lone UTF-16
 *     surrogate escape is repaired the same way and parsed again.
 *
 *   - A text file is read into a document buffer, at most max_doc_bytes + 1
 *     bytes so that an over-sized file is never read whole, then checked
 *     (NUL byte or mostly invalid UTF-8 = binary), repaired and split into
 *     title and text.
 *
 * Every buffer, the zstd context and the zlib stream belong to the reader
 * and are reused from one document to the next (jansson still allocates the
 * values of each parsed line).  Fatal errors are sticky: once input_next has
 * failed it keeps returning the same error.
 *
 * Choices where input.h leaves room:
 *   - Invalid UTF-8 is replaced by U+FFFD per maximal ill-formed subpart (the
 *     Unicode recommendation); for JSONL this happens on the raw line before
 *     jansson sees it, and a line that looks binary is skipped.
 *   - Lines are parsed with JSON_DECODE_ANY (so `42` is "not an object"
 *     rather than a syntax error) and JSON_ALLOW_NUL; a NUL in id, title or
 *     text becomes a space.
 *   - "_id" wins over "id"; an id of another type (or an empty one) skips
 *     the line; a null title or text counts as absent.  JSONL titles are
 *     taken as they are (INPUT_MAX_TITLE_BYTES applies to text files only).
 *   - A JSONL document is too large when title + text exceed max_doc_bytes.
 *   - Text files are decompressed too when their magic bytes say so.
 *   - Extensions are matched case-sensitively; sockets, FIFOs and devices
 *     met in a walk are ignored without a warning.
 *   - Corrupt or truncated compressed streams fail with SE_INVALID.
 */
#include "indexer/input.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "common/segment.h"

#define CHUNK_BYTES       ((size_t)256 << 10) /* read and decompression buffers */
#define SNIFF_BYTES       4                   /* magic bytes looked at */
#define BINARY_SCAN_BYTES ((size_t)64 << 10)  /* prefix checked for "mostly invalid" */
#define LINE_SLACK        ((size_t)64 << 10)  /* JSON syntax allowance on a line */
#define DT_OTHER          255                 /* d_type for "neither file, dir nor link" */

enum src_kind { SRC_PLAIN, SRC_ZSTD, SRC_GZIP };
enum file_kind { KIND_SKIP, KIND_TEXT, KIND_JSONL };

/* Bytes of one file or stream, decompressed if need be. */
typedef struct byte_source {
    int fd; /* -1 when no stream is open */
    bool own_fd;
    enum src_kind kind;
    unsigned char *raw; /* bytes as read from fd */
    size_t raw_pos, raw_len;
    bool raw_eof;
    unsigned char *out; /* decompressed bytes */
    ZSTD_DStream *zstd;
    z_stream zlib;
    bool zlib_ready;
    bool mid_frame; /* inside a zstd frame / gzip member: EOF now = truncated */
} byte_source;

/* One directory being walked: its entries and where we are in them.  Each
 * entry in `names` is a type byte (DT_*) followed by the NUL-terminated
 * name; `sorted` points at the names. */
typedef struct dir_frame {
    char *names;
    size_t names_len, names_cap;
    char **sorted;
    size_t n, sorted_cap, next;
    size_t path_len; /* length of this directory's path in r->path */
} dir_frame;

/* A growable byte buffer. */
typedef struct buffer {
    char *p;
    size_t len, cap;
} buffer;

struct input_reader {
    size_t max_doc;
    size_t max_line;
    void (*warn)(void *ctx, const char *source, uint64_t line, const char *message);
    void *warn_ctx;

    char **paths;
    size_t npaths, next_path;

    /* directory walk */
    dir_frame *frames;
    size_t nframes, frames_cap;
    buffer path;   /* path of the directory or entry being looked at */
    size_t id_off; /* offset of the relative part in walked paths */

    /* current file */
    buffer source; /* its name as reported in documents and warnings */
    byte_source src;
    bool in_jsonl;
    uint64_t lineno;
    const unsigned char *chunk; /* current chunk of src */
    size_t chunk_len, chunk_pos;

    /* document storage, reused */
    buffer line;  /* a JSONL line spanning chunks */
    buffer body;  /* a text file's bytes */
    buffer fixed; /* the input with invalid UTF-8 replaced */
    buffer id_buf, title_buf, text_buf;
    json_t *json; /* the parsed line the current document points into */

    input_stats stats;
    se_error err; /* sticky fatal error */
    char warn_msg[SE_ERROR_MAX];
};

/* ---------------------------------------------------------------- helpers */

static int buf_reserve(input_reader *r, buffer *b, size_t need)
{
    if (need <= b->cap) return SE_OK;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need) cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    char *p = realloc(b->p, cap);
    if (!p) return se_fail(&r->err, SE_NOMEM, "out of memory (%zu bytes)", need);
    b->p = p;
    b->cap = cap;
    return SE_OK;
}

static int buf_set(input_reader *r, buffer *b, const char *s, size_t n)
{
    if (n == SIZE_MAX) return se_fail(&r->err, SE_NOMEM, "out of memory");
    int rc = buf_reserve(r, b, n + 1);
    if (rc) return rc;
    memcpy(b->p, s, n);
    b->p[n] = '\0';
    b->len = n;
    return SE_OK;
}

static void buf_free(buffer *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

/* Report a skipped or repaired input through opts->warn. */
__attribute__((format(printf, 4, 5))) static void warnf(input_reader *r, const char *source,
                                                        uint64_t line, const char *fmt, ...)
{
    if (!r->warn) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->warn_msg, sizeof r->warn_msg, fmt, ap);
    va_end(ap);
    r->warn(r->warn_ctx, source, line, r->warn_msg);
}

static bool is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static bool all_space(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!is_space((unsigned char)s[i])) return false;
    return true;
}

static bool ends_with(const char *s, size_t n, const char *suffix)
{
    size_t k = strlen(suffix);
    return n >= k && memcmp(s + n - k, suffix, k) == 0;
}

static enum file_kind kind_of_name(const char *name)
{
    size_t n = strlen(name);
    if (ends_with(name, n, ".jsonl") || ends_with(name, n, ".jsonl.gz") ||
        ends_with(name, n, ".jsonl.zst"))
        return KIND_JSONL;
    if (ends_with(name, n, ".txt") || ends_with(name, n, ".md")) return KIND_TEXT;
    return KIND_SKIP;
}

static void release_json(input_reader *r)
{
    if (r->json) json_decref(r->json);
    r->json = NULL;
}

/* ------------------------------------------------------------------ UTF-8 */

/* Length of the well-formed UTF-8 sequence at s (1..4), or 0 when it is
 * ill-formed, in which case *bad is the length of its maximal subpart (the
 * bytes replaced by one U+FFFD, as Unicode recommends). */
static size_t utf8_seq(const unsigned char *s, size_t n, size_t *bad)
{
    unsigned char c = s[0];
    size_t len;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        if (c == 0xE0) lo = 0xA0; /* no overlong forms */
        if (c == 0xED) hi = 0x9F; /* no surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        if (c == 0xF0) lo = 0x90;
        if (c == 0xF4) hi = 0x8F; /* nothing above U+10FFFF */
    } else {
        *bad = 1;
        return 0;
    }
    size_t i = 1;
    if (i < n && s[i] >= lo && s[i] <= hi) {
        i++;
        while (i < len && i < n && (s[i] & 0xC0) == 0x80) i++;
    }
    if (i == len) return len;
    *bad = i;
    return 0;
}

/* Offset of the first ill-formed sequence in s[0..n), or n. */
static size_t utf8_valid_prefix(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        while (i + 8 <= n) { /* ASCII fast path */
            uint64_t w;
            memcpy(&w, s + i, 8);
            if (w & UINT64_C(0x8080808080808080)) break;
            i += 8;
        }
        while (i < n && s[i] < 0x80) i++;
        if (i >= n) break;
        size_t bad, k = utf8_seq(s + i, n - i, &bad);
        if (!k) return i;
        i += k;
    }
    return n;
}

/* Number of ill-formed sequences in s[from..n), `from` being the first one;
 * *head_bad receives the bytes they cover within the first `head` bytes. */
static size_t utf8_count_invalid(const unsigned char *s, size_t n, size_t from, size_t head,
                                 size_t *head_bad)
{
    size_t count = 0, i = from;
    *head_bad = 0;
    while (i < n) {
        size_t bad = 1;
        utf8_seq(s + i, n - i, &bad);
        if (i < head) *head_bad += (i + bad <= head ? bad : head - i);
        count++;
        i += bad;
        i += utf8_valid_prefix(s + i, n - i);
    }
    return count;
}

/* Copy s[0..n) to dst with every ill-formed sequence replaced by U+FFFD;
 * `from` is the first one.  dst must hold n + 2 * count bytes.  Returns the
 * length written. */
static size_t utf8_repair(const unsigned char *s, size_t n, size_t from, unsigned char *dst)
{
    size_t i = 0, o = 0;
    size_t valid = from;
    for (;;) {
        memcpy(dst + o, s + i, valid);
        o += valid;
        i += valid;
        if (i >= n) break;
        size_t bad = 1;
        utf8_seq(s + i, n - i, &bad);
        dst[o++] = 0xEF;
        dst[o++] = 0xBF;
        dst[o++] = 0xBD;
        i += bad;
        valid = utf8_valid_prefix(s + i, n - i);
    }
    return o;
}

/* Checks bytes for NUL and ill-formed UTF-8.  Returns -1 when they look
 * binary (a NUL, or more than 10% of the first BINARY_SCAN_BYTES in
 * ill-formed sequences), else the number of ill-formed sequences (0 = the
 * bytes are fine as they are); *first is the offset of the first one. */
static long long utf8_check(const unsigned char *s, size_t n, size_t *first)
{
    *first = n;
    if (n == 0) return 0;
    if (memchr(s, 0, n)) return -1;
    *first = utf8_valid_prefix(s, n);
    if (*first == n) return 0;
    size_t head = n < BINARY_SCAN_BYTES ? n : BINARY_SCAN_BYTES, head_bad;
    size_t count = utf8_count_invalid(s, n, *first, head, &head_bad);
    if (head_bad * 10 > head) return -1;
    return (long long)count;
}

/* Repair s[0..n) into r->fixed (see utf8_repair). */
static int repair_into_fixed(input_reader *r, const unsigned char *s, size_t n, size_t first,
                             size_t count, const unsigned char **out, size_t *out_len)
{
    if (count > (SIZE_MAX - n - 1) / 2) return se_fail(&r->err, SE_NOMEM, "out of memory");
    int rc = buf_reserve(r, &r->fixed, n + 2 * count + 1);
    if (rc) return rc;
    r->fixed.len = utf8_repair(s, n, first, (unsigned char *)r->fixed.p);
    r->fixed.p[r->fixed.len] = '\0';
    *out = (const unsigned char *)r->fixed.p;
    *out_len = r->fixed.len;
    return SE_OK;
}

/* ------------------------------------------------------------ byte source */

static void src_end(input_reader *r)
{
    byte_source *s = &r->src;
    if (s->fd >= 0 && s->own_fd) close(s->fd);
    s->fd = -1;
    r->chunk = NULL;
    r->chunk_len = r->chunk_pos = 0;
}

/* Read once into s->raw + s->raw_len; sets raw_eof at end of file. */
static int src_read(input_reader *r)
{
    byte_source *s = &r->src;
    for (;;) {
        ssize_t got = read(s->fd, s->raw + s->raw_len, CHUNK_BYTES - s->raw_len);
        if (got > 0) {
            s->raw_len += (size_t)got;
            return SE_OK;
        }
        if (got == 0) {
            s->raw_eof = true;
            return SE_OK;
        }
        if (errno == EINTR) continue;
        int e = errno;
        return se_fail(&r->err, se_errno_code(e), "%s: read error: %s", r->source.p, strerror(e));
    }
}

/* Start reading fd (closed by src_end when own_fd): look at its first bytes
 * to choose the decoder. */
static int src_begin(input_reader *r, int fd, bool own_fd)
{
    byte_source *s = &r->src;
    s->fd = fd;
    s->own_fd = own_fd;
    s->raw_pos = s->raw_len = 0;
    s->raw_eof = false;
    s->mid_frame = false;
    s->kind = SRC_PLAIN;
    r->chunk = NULL;
    r->chunk_len = r->chunk_pos = 0;
    if (!s->raw) {
        s->raw = malloc(CHUNK_BYTES);
        if (!s->raw) return se_fail(&r->err, SE_NOMEM, "out of memory");
    }
    while (s->raw_len < SNIFF_BYTES && !s->raw_eof) {
        int rc = src_read(r);
        if (rc) return rc;
    }
    const unsigned char *m = s->raw;
    bool zstd = s->raw_len >= 4 &&
                ((m[0] == 0x28 && m[1] == 0xB5 && m[2] == 0x2F && m[3] == 0xFD) ||
                 /* a skippable frame: 0x184D2A50..5F little-endian */
                 ((m[0] & 0xF0) == 0x50 && m[1] == 0x2A && m[2] == 0x4D && m[3] == 0x18));
    bool gzip = s->raw_len >= 2 && m[0] == 0x1F && m[1] == 0x8B;
    if (zstd || gzip) {
        if (!s->out) {
            s->out = malloc(CHUNK_BYTES);
            if (!s->out) return se_fail(&r->err, SE_NOMEM, "out of memory");
        }
    }
    if (zstd) {
        if (!s->zstd) {
            s->zstd = ZSTD_createDStream();
            if (!s->zstd) return se_fail(&r->err, SE_NOMEM, "out of memory (zstd)");
        }
        size_t zr = ZSTD_DCtx_reset(s->zstd, ZSTD_reset_session_only);
        if (ZSTD_isError(zr)) return se_fail(&r->err, SE_NOMEM, "zstd: %s", ZSTD_getErrorName(zr));
        s->kind = SRC_ZSTD;
    } else if (gzip) {
        int zr;
        if (!s->zlib_ready) {
            memset(&s->zlib, 0, sizeof s->zlib);
            zr = inflateInit2(&s->zlib, 15 + 16); /* gzip wrapper only */
            if (zr == Z_OK) s->zlib_ready = true;
        } else {
            zr = inflateReset(&s->zlib);
        }
        if (zr != Z_OK) return se_fail(&r->err, SE_NOMEM, "zlib: cannot initialise inflate");
        s->kind = SRC_GZIP;
    }
    return SE_OK;
}

/* Make sure there is unread raw input unless at end of file. */
static int src_refill(input_reader *r)
{
    byte_source *s = &r->src;
    if (s->raw_pos < s->raw_len || s->raw_eof) return SE_OK;
    s->raw_pos = s->raw_len = 0;
    return src_read(r);
}

/* Next chunk of (decompressed) bytes: 1 with *p, *n set (valid until the
 * next call), 0 at the end, or an error. */
static int src_chunk(input_reader *r, const unsigned char **p, size_t *n)
{
    byte_source *s = &r->src;
    for (;;) {
        int rc = src_refill(r);
        if (rc) return rc;
        bool no_input = s->raw_pos == s->raw_len; /* and so at end of file */
        size_t produced = 0, consumed_from = s->raw_pos;
        const unsigned char *out = s->out;
        if (s->kind == SRC_PLAIN) {
            if (no_input) return 0;
            out = s->raw + s->raw_pos;
            produced = s->raw_len - s->raw_pos;
            s->raw_pos = s->raw_len;
        } else if (no_input && !s->mid_frame) {
            return 0;
        } else if (s->kind == SRC_ZSTD) {
            ZSTD_inBuffer in = {s->raw, s->raw_len, s->raw_pos};
            ZSTD_outBuffer o = {s->out, CHUNK_BYTES, 0};
            size_t zr = ZSTD_decompressStream(s->zstd, &o, &in);
            s->raw_pos = in.pos;
            if (ZSTD_isError(zr))
                return se_fail(&r->err, SE_INVALID, "%s: corrupt zstd stream: %s", r->source.p,
                               ZSTD_getErrorName(zr));
            s->mid_frame = zr != 0;
            produced = o.pos;
        } else {
            z_stream *z = &s->zlib;
            z->next_in = s->raw + s->raw_pos;
            z->avail_in = (uInt)(s->raw_len - s->raw_pos);
            z->next_out = s->out;
            z->avail_out = (uInt)CHUNK_BYTES;
            int zr = inflate(z, Z_NO_FLUSH);
            s->raw_pos = s->raw_len - z->avail_in;
            produced = CHUNK_BYTES - z->avail_out;
            if (zr == Z_STREAM_END) {
                s->mid_frame = false; /* another member may follow */
                inflateReset(z);
            } else if (zr == Z_OK) {
                s->mid_frame = true;
            } else if (zr != Z_BUF_ERROR) {
                return se_fail(&r->err, SE_INVALID, "%s: corrupt gzip stream: %s", r->source.p,
                               z->msg ? z->msg : "inflate failed");
            }
        }
        if (produced) {
            r->stats.bytes_read += produced;
            *p = out;
            *n = produced;
            return 1;
        }
        if (no_input)
            return se_fail(&r->err, SE_INVALID, "%s: truncated %s stream", r->source.p,
                           s->kind == SRC_ZSTD ? "zstd" : "gzip");
        if (s->raw_pos == consumed_from && s->mid_frame) /* no progress: never loop forever */
            return se_fail(&r->err, SE_INVALID, "%s: corrupt %s stream", r->source.p,
                           s->kind == SRC_ZSTD ? "zstd" : "gzip");
    }
}

/* ------------------------------------------------------------------ JSONL */

/* Next line of the current stream, without its '\n'.  Returns 1 with the
 * line (valid until the next call), 0 at the end, or an error.  A line
 * longer than r->max_line is consumed without being stored: *too_long. */
static int next_line(input_reader *r, const char **out, size_t *out_len, bool *too_long)
{
    size_t have = 0;
    bool any = false, discard = false;
    for (;;) {
        if (r->chunk_pos == r->chunk_len) {
            const unsigned char *p = NULL;
            size_t n = 0;
            int rc = src_chunk(r, &p, &n);
            if (rc < 0) return rc;
            r->chunk = p;
            r->chunk_len = n;
            r->chunk_pos = 0;
            if (rc == 0) {
                if (!any) return 0;
                break; /* last line without '\n' */
            }
        }
        const unsigned char *p = r->chunk + r->chunk_pos;
        size_t avail = r->chunk_len - r->chunk_pos;
        const unsigned char *nl = avail ? memchr(p, '\n', avail) : NULL;
        size_t n = nl ? (size_t)(nl - p) : avail;
        any = true;
        r->chunk_pos += n + (nl != NULL);
        if (!discard) {
            if (have == 0 && nl && n <= r->max_line) { /* the whole line is here */
                *out = (const char *)p;
                *out_len = n;
                *too_long = false;
                return 1;
            }
            if (n > r->max_line - have) {
                discard = true;
            } else {
                int rc = buf_reserve(r, &r->line, have + n);
                if (rc) return rc;
                if (n) memcpy(r->line.p + have, p, n);
                have += n;
            }
        }
        if (nl) break;
    }
    *out = r->line.p;
    *out_len = discard ? 0 : have;
    *too_long = discard;
    return 1;
}

static bool hex4(const char *s, unsigned *v)
{
    unsigned x = 0;
    for (int i = 0; i < 4; i++) {
        char c = s[i];
        x <<= 4;
        if (c >= '0' && c <= '9')
            x |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            x |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            x |= (unsigned)(c - 'A' + 10);
        else
            return false;
    }
    *v = x;
    return true;
}

/* Rewrite "\uXXXX" escapes of lone UTF-16 surrogates in s as "\uFFFD"
 * (same length).  Returns how many were rewritten. */
static size_t fix_lone_surrogates(char *s, size_t n)
{
    size_t fixed = 0;
    for (size_t i = 0; i + 1 < n; i++) {
        if (s[i] != '\\') continue;
        if (s[i + 1] != 'u' || i + 6 > n) {
            i++; /* skip the escaped character, e.g. the second '\' of "\\" */
            continue;
        }
        unsigned v, w;
        if (!hex4(s + i + 2, &v)) {
            i++;
            continue;
        }
        if (v >= 0xD800 && v <= 0xDBFF && i + 12 <= n && s[i + 6] == '\\' && s[i + 7] == 'u' &&
            hex4(s + i + 8, &w) && w >= 0xDC00 && w <= 0xDFFF) {
            i += 11; /* a proper pair */
            continue;
        }
        if (v >= 0xD800 && v <= 0xDFFF) {
            // NOLINTNEXTLINE(bugprone-not-null-terminated-result): hex digits replaced in place
            memcpy(s + i + 2, "FFFD", 4);
            fixed++;
        }
        i += 5;
    }
    return fixed;
}

/* The value of a JSON string with NUL characters turned into spaces. */
static int json_text(input_reader *r, json_t *v, buffer *b, const char **s, size_t *n)
{
    const char *p = json_string_value(v);
    size_t len = json_string_length(v);
    if (!memchr(p, 0, len)) {
        *s = p;
        *n = len;
        return SE_OK;
    }
    int rc = buf_set(r, b, p, len);
    if (rc) return rc;
    for (size_t i = 0; i < len; i++)
        if (b->p[i] == '\0') b->p[i] = ' ';
    *s = b->p;
    *n = len;
    return SE_OK;
}

/* An optional string member: 1 and the value (empty when absent or null),
 * 0 when it has another type (warned). */
static int json_member(input_reader *r, json_t *obj, const char *key, buffer *b, const char **s,
                       size_t *n)
{
    json_t *v = json_object_get(obj, key);
    *s = "";
    *n = 0;
    if (!v || json_is_null(v)) return 1;
    if (!json_is_string(v)) {
        warnf(r, r->source.p, r->lineno, "\"%s\" is not a string, skipped", key);
        return 0;
    }
    int rc = json_text(r, v, b, s, n);
    return rc ? rc : 1;
}

/* ------------------------------------------------- JSONL fast path
 *
 * Almost every line of a corpus is an object of strings: {"id": "...",
 * "title": "...", "text": "..."}.  Such a line is read here directly,
 * without building jansson values, as long as it stays within a strict
 * subset of JSON that jansson parses the same way: an object whose values
 * are strings, null, true, false or integers of at most 18 digits, keys
 * without NUL, and strings without control characters or lone surrogate
 * escapes; and only when the line yields a usable document (an id that is
 * a non-empty string or an integer, title and text strings or null).  For
 * anything else - nested values, other numbers, any syntax error, a line
 * to be skipped with a warning - it gives up and the line goes to jansson,
 * which decides and words the warning as before.  Duplicate keys: the last
 * one wins, as in jansson.  Strings without escapes are handed out where
 * they are in the line; others are decoded into the reader's buffers, NUL
 * characters becoming spaces as json_text does. */

typedef struct fast_str {
    const char *p; /* the raw bytes between the quotes */
    size_t len;
    bool escaped;
    bool present;
    int kind; /* 0 string, 1 null, 2 integer */
    long long integer;
} fast_str;

static const char *skip_ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) p++;
    return p;
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static bool read_hex4(const char *p, const char *end, unsigned *v)
{
    if (end - p < 4) return false;
    unsigned x = 0;
    for (int i = 0; i < 4; i++) {
        int h = hex_value(p[i]);
        if (h < 0) return false;
        x = x << 4 | (unsigned)h;
    }
    *v = x;
    return true;
}

/* Scan a string starting after its opening quote; *p ends after the
 * closing quote.  Checks escapes (a surrogate must be a proper pair) and
 * that no byte is a control character; *has_nul is set for \u0000. */
static bool scan_string(const char **pp, const char *end, fast_str *out, bool *has_nul)
{
    const char *p = *pp, *start = p;
    bool escaped = false;
    *has_nul = false;
    for (;;) {
        while (p < end && *p != '"' && *p != '\\' && (unsigned char)*p >= 0x20) p++;
        if (p >= end || (unsigned char)*p < 0x20) return false;
        if (*p == '"') break;
        escaped = true;
        if (end - p < 2) return false;
        char e = p[1];
        if (e == 'u') {
            unsigned v;
            if (!read_hex4(p + 2, end, &v)) return false;
            p += 6;
            if (v == 0) *has_nul = true;
            if (v >= 0xDC00 && v <= 0xDFFF) return false;
            if (v >= 0xD800 && v <= 0xDBFF) {
                unsigned w;
                if (end - p < 6 || p[0] != '\\' || p[1] != 'u' || !read_hex4(p + 2, end, &w) ||
                    w < 0xDC00 || w > 0xDFFF)
                    return false;
                p += 6;
            }
        } else if (e == '"' || e == '\\' || e == '/' || e == 'b' || e == 'f' || e == 'n' ||
                   e == 'r' || e == 't') {
            p += 2;
        } else {
            return false;
        }
    }
    out->p = start;
    out->len = (size_t)(p - start);
    out->escaped = escaped;
    out->kind = 0;
    *pp = p + 1;
    return true;
}

/* Decode a scanned string into b (escapes resolved, NUL -> space). */
static int decode_string(input_reader *r, const fast_str *fs, buffer *b, const char **s, size_t *n)
{
    if (!fs->escaped) {
        *s = fs->p;
        *n = fs->len;
        return SE_OK;
    }
    int rc = buf_reserve(r, b, fs->len + 1); /* decoding never grows a string */
    if (rc) return rc;
    const char *p = fs->p, *end = fs->p + fs->len;
    char *o = b->p;
    while (p < end) {
        if (*p != '\\') {
            *o++ = *p++;
            continue;
        }
        char e = p[1];
        p += 2;
        switch (e) {
        case 'b':
            *o++ = '\b';
            break;
        case 'f':
            *o++ = '\f';
            break;
        case 'n':
            *o++ = '\n';
            break;
        case 'r':
            *o++ = '\r';
            break;
        case 't':
            *o++ = '\t';
            break;
        case 'u': {
            unsigned v = 0, w = 0;
            read_hex4(p, end, &v);
            p += 4;
            uint32_t cp = v;
            if (v >= 0xD800 && v <= 0xDBFF) {
                read_hex4(p + 2, end, &w);
                p += 6;
                cp = 0x10000 + ((v - 0xD800) << 10) + (w - 0xDC00);
            }
            if (cp == 0) {
                *o++ = ' ';
            } else if (cp < 0x80) {
                *o++ = (char)cp;
            } else if (cp < 0x800) {
                *o++ = (char)(0xC0 | (cp >> 6));
                *o++ = (char)(0x80 | (cp & 0x3F));
            } else if (cp < 0x10000) {
                *o++ = (char)(0xE0 | (cp >> 12));
                *o++ = (char)(0x80 | ((cp >> 6) & 0x3F));
                *o++ = (char)(0x80 | (cp & 0x3F));
            } else {
                *o++ = (char)(0xF0 | (cp >> 18));
                *o++ = (char)(0x80 | ((cp >> 12) & 0x3F));
                *o++ = (char)(0x80 | ((cp >> 6) & 0x3F));
                *o++ = (char)(0x80 | (cp & 0x3F));
            }
            break;
        }
        default:
            *o++ = e;
            break; /* " \ / */
        }
    }
    *o = '\0';
    b->len = (size_t)(o - b->p);
    *s = b->p;
    *n = b->len;
    return SE_OK;
}

/* A JSON literal or an integer of at most 18 digits; false for anything
 * else (left to jansson). */
static bool scan_scalar(const char **pp, const char *end, fast_str *out)
{
    const char *p = *pp;
    static const char *const words[] = {"null", "true", "false"};
    for (int i = 0; i < 3; i++) {
        size_t k = strlen(words[i]);
        if ((size_t)(end - p) >= k && memcmp(p, words[i], k) == 0) {
            out->kind = i == 0 ? 1 : 3;
            *pp = p + k;
            return true;
        }
    }
    bool neg = p < end && *p == '-';
    if (neg) p++;
    const char *digits = p;
    long long v = 0;
    while (p < end && *p >= '0' && *p <= '9') {
        if (p - digits == 18) return false; /* longer: jansson decides */
        v = v * 10 + (*p++ - '0');
    }
    size_t nd = (size_t)(p - digits);
    if (nd == 0 || (nd > 1 && *digits == '0')) return false;
    if (p < end && (*p == '.' || *p == 'e' || *p == 'E')) return false;
    out->kind = 2;
    out->integer = neg ? -v : v;
    *pp = p;
    return true;
}

/* The fast path: 1 with the document's fields set, 0 to let jansson read
 * the line, or an error. */
static int jsonl_fast(input_reader *r, const char *line, size_t len, const char **id,
                      size_t *id_len, const char **title, size_t *title_len, const char **text,
                      size_t *text_len)
{
    const char *p = line, *end = line + len;
    fast_str f_id = {0}, f_uid = {0}, f_title = {0}, f_text = {0};
    p = skip_ws(p, end);
    if (p >= end || *p++ != '{') return 0;
    p = skip_ws(p, end);
    if (p < end && *p == '}') return 0; /* no id: jansson words the warning */
    for (;;) {
        if (p >= end || *p++ != '"') return 0;
        fast_str key;
        bool nul;
        if (!scan_string(&p, end, &key, &nul) || nul) return 0;
        p = skip_ws(p, end);
        if (p >= end || *p++ != ':') return 0;
        p = skip_ws(p, end);
        fast_str val = {0};
        if (p < end && *p == '"') {
            p++;
            if (!scan_string(&p, end, &val, &nul)) return 0;
        } else if (!scan_scalar(&p, end, &val)) {
            return 0;
        }
        val.present = true;
        if (!key.escaped) {
            if (key.len == 3 && memcmp(key.p, "_id", 3) == 0) f_uid = val;
            if (key.len == 2 && memcmp(key.p, "id", 2) == 0) f_id = val;
            if (key.len == 5 && memcmp(key.p, "title", 5) == 0) f_title = val;
            if (key.len == 4 && memcmp(key.p, "text", 4) == 0) f_text = val;
        } else {
            return 0; /* an escaped key might spell one of ours */
        }
        p = skip_ws(p, end);
        if (p < end && *p == ',') {
            p = skip_ws(p + 1, end);
            continue;
        }
        if (p < end && *p == '}') break;
        return 0;
    }
    if (skip_ws(p + 1, end) != end) return 0;
    const fast_str *idv = f_uid.present ? &f_uid : &f_id;
    if (!idv->present || (idv->kind != 0 && idv->kind != 2)) return 0;
    if ((f_title.present && f_title.kind != 0 && f_title.kind != 1) ||
        (f_text.present && f_text.kind != 0 && f_text.kind != 1))
        return 0;
    int rc;
    if (idv->kind == 2) {
        rc = buf_reserve(r, &r->id_buf, 32);
        if (rc) return rc;
        int k = snprintf(r->id_buf.p, 32, "%lld", idv->integer);
        *id = r->id_buf.p;
        *id_len = (size_t)k;
    } else {
        rc = decode_string(r, idv, &r->id_buf, id, id_len);
        if (rc) return rc;
        if (*id_len == 0) return 0;
    }
    *title = *text = "";
    *title_len = *text_len = 0;
    if (f_title.present && f_title.kind == 0 &&
        (rc = decode_string(r, &f_title, &r->title_buf, title, title_len)) != SE_OK)
        return rc;
    if (f_text.present && f_text.kind == 0 &&
        (rc = decode_string(r, &f_text, &r->text_buf, text, text_len)) != SE_OK)
        return rc;
    return 1;
}

/* Turn one JSONL line into a document: 1 when *doc is filled, 0 when the
 * line is blank or skipped, or an error. */
static int jsonl_doc(input_reader *r, const char *line, size_t len, input_doc *doc)
{
    const uint64_t ln = r->lineno;
    const char *src = r->source.p;
    release_json(r);
    if (ln == 1 && len >= 3 && memcmp(line, "\xEF\xBB\xBF", 3) == 0) {
        line += 3;
        len -= 3;
    }
    if (all_space(line, len)) return 0;

    size_t first = 0, repaired = 0;
    long long bad = utf8_check((const unsigned char *)line, len, &first);
    if (bad < 0) {
        warnf(r, src, ln, "binary data, skipped");
        r->stats.skipped++;
        return 0;
    }
    if (bad > 0) {
        const unsigned char *p = NULL;
        int rc =
            repair_into_fixed(r, (const unsigned char *)line, len, first, (size_t)bad, &p, &len);
        if (rc) return rc;
        line = (const char *)p;
        repaired = (size_t)bad;
    }

    const char *id, *title = "", *text = "";
    size_t id_len, title_len = 0, text_len = 0;
    int fast = jsonl_fast(r, line, len, &id, &id_len, &title, &title_len, &text, &text_len);
    if (fast < 0) return fast;
    /* An id over the limit takes the general path, which names its key. */
    if (fast && id_len <= SEG_MAX_ID_LEN) goto have_fields;

    json_error_t jerr;
    json_t *j = json_loadb(line, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
    /* line is never NULL here: an empty line was skipped as blank above. */
    // NOLINTNEXTLINE(clang-analyzer-core.NonNullParamChecker)
    if (!j && memmem(line, len, "\\u", 2)) {
        /* jansson refuses lone surrogates: replace them and try again */
        if (line != r->fixed.p) {
            int rc = buf_set(r, &r->fixed, line, len);
            if (rc) return rc;
            line = r->fixed.p;
        }
        size_t nsur = fix_lone_surrogates(r->fixed.p, len);
        if (nsur) {
            json_error_t again;
            j = json_loadb(line, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &again);
            repaired += nsur;
        }
    }
    /* jansson reports a failed allocation with no message (or, in newer
     * versions, json_error_out_of_memory): that is no reason to drop the
     * line as malformed. */
    if (!j && (jerr.text[0] == '\0' || json_error_code(&jerr) == json_error_out_of_memory))
        return se_fail(&r->err, SE_NOMEM, "%s:%" PRIu64 ": out of memory parsing JSON", src, ln);
    if (!j) {
        warnf(r, src, ln, "malformed JSON (%s), skipped", jerr.text);
        r->stats.skipped++;
        return 0;
    }
    r->json = j;
    if (!json_is_object(j)) {
        warnf(r, src, ln, "not a JSON object, skipped");
        r->stats.skipped++;
        return 0;
    }

    const char *id_key = "_id";
    json_t *idv = json_object_get(j, id_key);
    if (!idv) {
        id_key = "id";
        idv = json_object_get(j, id_key);
    }
    if (!idv) {
        warnf(r, src, ln, "no \"_id\" or \"id\", skipped");
        r->stats.skipped++;
        return 0;
    } else if (json_is_string(idv)) {
        int rc = json_text(r, idv, &r->id_buf, &id, &id_len);
        if (rc) return rc;
    } else if (json_is_integer(idv)) {
        int rc = buf_reserve(r, &r->id_buf, 32);
        if (rc) return rc;
        int k = snprintf(r->id_buf.p, 32, "%" JSON_INTEGER_FORMAT, json_integer_value(idv));
        id = r->id_buf.p;
        id_len = (size_t)k;
    } else {
        warnf(r, src, ln, "\"%s\" is not a string or integer, skipped", id_key);
        r->stats.skipped++;
        return 0;
    }
    if (id_len == 0) {
        warnf(r, src, ln, "empty \"%s\", skipped", id_key);
        r->stats.skipped++;
        return 0;
    }
    if (id_len > SEG_MAX_ID_LEN) {
        warnf(r, src, ln, "\"%s\" longer than %d bytes, skipped", id_key, SEG_MAX_ID_LEN);
        r->stats.skipped++;
        return 0;
    }

    int rc = json_member(r, j, "title", &r->title_buf, &title, &title_len);
    if (rc == 1) rc = json_member(r, j, "text", &r->text_buf, &text, &text_len);
    if (rc < 0) return rc;
    if (rc == 0) {
        r->stats.skipped++;
        return 0;
    }
have_fields:
    if (title_len > r->max_doc || text_len > r->max_doc - title_len) {
        warnf(r, src, ln, "document larger than %zu bytes, skipped", r->max_doc);
        r->stats.skipped++;
        return 0;
    }
    if (all_space(title, title_len) && all_space(text, text_len)) {
        warnf(r, src, ln, "empty document, skipped");
        r->stats.skipped++;
        return 0;
    }
    if (repaired) {
        warnf(r, src, ln, "%zu invalid UTF-8 sequences replaced", repaired);
        r->stats.repaired_utf8++;
    }
    doc->id = id;
    doc->id_len = id_len;
    doc->title = title;
    doc->title_len = title_len;
    doc->text = text;
    doc->text_len = text_len;
    doc->source = src;
    doc->line = ln;
    r->stats.documents++;
    return 1;
}

/* Next document of the current JSONL stream: 1, 0 at its end, or an error. */
static int jsonl_next(input_reader *r, input_doc *doc)
{
    for (;;) {
        const char *line = NULL;
        size_t len = 0;
        bool too_long = false;
        int rc = next_line(r, &line, &len, &too_long);
        if (rc <= 0) return rc;
        r->lineno++;
        if (too_long) {
            warnf(r, r->source.p, r->lineno, "longer than %zu bytes, skipped", r->max_line);
            r->stats.skipped++;
            continue;
        }
        rc = jsonl_doc(r, line, len, doc);
        if (rc != 0) return rc;
    }
}

/* ------------------------------------------------------------- text files */

/* Check, repair and split a text file's bytes: 1 when *doc is filled, 0
 * when skipped, or an error. */
static int text_doc(input_reader *r, size_t id_off, input_doc *doc)
{
    const char *src = r->source.p;
    if (strlen(src + id_off) > SEG_MAX_ID_LEN) {
        warnf(r, src, 0, "relative path (the id) longer than %d bytes, skipped", SEG_MAX_ID_LEN);
        r->stats.skipped++;
        return 0;
    }
    const unsigned char *s = (const unsigned char *)r->body.p;
    size_t n = r->body.len, first = 0;
    long long bad = utf8_check(s, n, &first);
    if (bad < 0) {
        warnf(r, src, 0, "binary file, skipped");
        r->stats.skipped++;
        return 0;
    }
    if (bad > 0) {
        int rc = repair_into_fixed(r, s, n, first, (size_t)bad, &s, &n);
        if (rc) return rc;
        /* Each invalid byte becomes a 3-byte U+FFFD: the repaired text must
         * still be within the limit, as a JSONL document's is. */
        if (n > r->max_doc) {
            warnf(r, src, 0,
                  "larger than %zu bytes once %lld invalid UTF-8 sequences are replaced, "
                  "skipped",
                  r->max_doc, bad);
            r->stats.skipped++;
            return 0;
        }
    }
    const char *p = (const char *)s, *end = p + n;
    if (n >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) p += 3;
    const char *whole = p;

    /* skip blank lines, then the first line is the title */
    const char *line = p, *eol;
    for (;;) {
        eol = memchr(line, '\n', (size_t)(end - line));
        if (!eol) eol = end;
        if (eol == end || !all_space(line, (size_t)(eol - line))) break;
        line = eol + 1;
    }
    const char *ts = line, *te = eol;
    while (ts < te && is_space((unsigned char)*ts)) ts++;
    while (te > ts && is_space((unsigned char)te[-1])) te--;
    const char *text = eol < end ? eol + 1 : end;
    if ((size_t)(te - ts) > INPUT_MAX_TITLE_BYTES) {
        /* no headline: cut the title at a character boundary, keep all text */
        te = ts + INPUT_MAX_TITLE_BYTES;
        while (te > ts && ((unsigned char)*te & 0xC0) == 0x80) te--;
        while (te > ts && is_space((unsigned char)te[-1])) te--;
        text = whole;
    }
    if (te == ts && all_space(text, (size_t)(end - text))) {
        warnf(r, src, 0, "empty document, skipped");
        r->stats.skipped++;
        return 0;
    }
    if (bad > 0) warnf(r, src, 0, "%lld invalid UTF-8 sequences replaced", bad);
    doc->id = src + id_off;
    doc->id_len = strlen(doc->id);
    /* File names are bytes: the id must be valid UTF-8 like everything else
     * handed out (it is printed as JSON by the searcher). */
    size_t id_first = utf8_valid_prefix((const unsigned char *)doc->id, doc->id_len);
    bool id_repaired = id_first < doc->id_len;
    if (id_repaired) {
        size_t id_bad;
        size_t nbad =
            utf8_count_invalid((const unsigned char *)doc->id, doc->id_len, id_first, 0, &id_bad);
        int rc = buf_reserve(r, &r->id_buf, doc->id_len + 2 * nbad + 1);
        if (rc) return rc;
        r->id_buf.len = utf8_repair((const unsigned char *)doc->id, doc->id_len, id_first,
                                    (unsigned char *)r->id_buf.p);
        r->id_buf.p[r->id_buf.len] = '\0';
        doc->id = r->id_buf.p;
        doc->id_len = r->id_buf.len;
        warnf(r, src, 0, "file name is not valid UTF-8: id %s", doc->id);
    }
    if (bad > 0 || id_repaired) r->stats.repaired_utf8++;
    doc->title = ts;
    doc->title_len = (size_t)(te - ts);
    doc->text = text;
    doc->text_len = (size_t)(end - text);
    doc->source = src;
    doc->line = 0;
    r->stats.documents++;
    return 1;
}

/* Read the open text file (r->src) into r->body: 1 when read, 0 when
 * skipped as too large, or an error. */
static int read_text(input_reader *r, const struct stat *st)
{
    r->body.len = 0;
    int rc = buf_reserve(r, &r->body, 1); /* never a NULL buffer, even when empty */
    if (rc) return rc;
    if (r->src.kind == SRC_PLAIN && S_ISREG(st->st_mode)) {
        if ((uintmax_t)st->st_size > r->max_doc) {
            warnf(r, r->source.p, 0, "larger than %zu bytes (file is %jd bytes), skipped",
                  r->max_doc, (intmax_t)st->st_size);
            r->stats.skipped++;
            return 0;
        }
        rc = buf_reserve(r, &r->body, (size_t)st->st_size + 1);
        if (rc) return rc;
    }
    for (;;) {
        const unsigned char *p = NULL;
        size_t n = 0;
        rc = src_chunk(r, &p, &n);
        if (rc < 0) return rc;
        if (rc == 0) break;
        if (n > r->max_doc - r->body.len) {
            warnf(r, r->source.p, 0, "larger than %zu bytes, skipped", r->max_doc);
            r->stats.skipped++;
            return 0;
        }
        rc = buf_reserve(r, &r->body, r->body.len + n + 1);
        if (rc) return rc;
        if (n) memcpy(r->body.p + r->body.len, p, n);
        r->body.len += n;
    }
    return 1;
}

/* ------------------------------------------------------------------ files */

/* Open r->source (a JSONL stream or a text document).  A path named by the
 * caller that cannot be opened is fatal; a file met in a walk is skipped.
 * Returns 1 with a text document, 0 to carry on (JSONL started or file
 * skipped), or an error. */
static int open_file(input_reader *r, enum file_kind kind, bool named, size_t id_off,
                     input_doc *doc)
{
    const char *path = r->source.p;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | (named ? 0 : O_NONBLOCK));
    if (fd < 0) {
        int e = errno;
        if (named)
            return se_fail(&r->err, e == ENOENT ? SE_NOTFOUND : SE_IO, "%s: %s", path, strerror(e));
        warnf(r, path, 0, "cannot open: %s, skipped", strerror(e));
        r->stats.skipped++;
        return 0;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return se_fail(&r->err, SE_IO, "%s: %s", path, strerror(e));
    }
    if (!named && !S_ISREG(st.st_mode)) { /* replaced since the directory was read */
        close(fd);
        return 0;
    }
    int rc = src_begin(r, fd, true);
    if (rc) {
        src_end(r);
        return rc;
    }
    if (kind == KIND_JSONL) {
        r->in_jsonl = true;
        r->lineno = 0;
        return 0;
    }
    rc = read_text(r, &st);
    src_end(r);
    if (rc <= 0) return rc;
    return text_doc(r, id_off, doc);
}

/* -------------------------------------------------------- directory walk */

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Read the directory whose path is r->path[0..path_len) and push a frame
 * for it.  Returns SE_OK (also when the directory was skipped with a
 * warning) or an error; failing to open the top directory is fatal. */
static int push_dir(input_reader *r, size_t path_len, bool top)
{
    r->path.p[path_len] = '\0';
    DIR *d = opendir(r->path.p);
    if (!d) {
        int e = errno;
        if (top)
            return se_fail(&r->err, e == ENOENT ? SE_NOTFOUND : SE_IO, "%s: %s", r->path.p,
                           strerror(e));
        warnf(r, r->path.p, 0, "cannot open directory: %s, skipped", strerror(e));
        r->stats.skipped++;
        return SE_OK;
    }
    if (r->nframes == r->frames_cap) {
        size_t cap = r->frames_cap ? r->frames_cap * 2 : 8;
        dir_frame *f = realloc(r->frames, cap * sizeof *f);
        if (!f) {
            closedir(d);
            return se_fail(&r->err, SE_NOMEM, "out of memory");
        }
        memset(f + r->frames_cap, 0, (cap - r->frames_cap) * sizeof *f);
        r->frames = f;
        r->frames_cap = cap;
    }
    dir_frame *f = &r->frames[r->nframes];
    f->names_len = f->n = f->next = 0;
    f->path_len = path_len;

    struct dirent *de;
    for (;;) {
        errno = 0;
        de = readdir(d);
        if (!de) break;
        const char *name = de->d_name;
        unsigned char type = de->d_type;
        if (name[0] == '.') continue;
        if (type != DT_DIR && type != DT_UNKNOWN) {
            if (type != DT_REG && type != DT_LNK) continue;
            if (kind_of_name(name) == KIND_SKIP) continue;
        }
        size_t len = strlen(name), need = f->names_len + len + 2;
        if (need > f->names_cap) {
            size_t cap = f->names_cap ? f->names_cap : 1024;
            while (cap < need) cap *= 2;
            char *p = realloc(f->names, cap);
            if (!p) {
                closedir(d);
                return se_fail(&r->err, SE_NOMEM, "out of memory");
            }
            f->names = p;
            f->names_cap = cap;
        }
        f->names[f->names_len] = (char)type;
        memcpy(f->names + f->names_len + 1, name, len + 1);
        f->names_len = need;
        f->n++;
    }
    int e = errno;
    closedir(d);
    if (e) warnf(r, r->path.p, 0, "error reading directory: %s", strerror(e));

    if (f->n > f->sorted_cap) {
        // NOLINTNEXTLINE(clang-analyzer-optin.portability.UnixAPI): n > sorted_cap >= 0
        char **s = realloc(f->sorted, f->n * sizeof *s);
        if (!s) return se_fail(&r->err, SE_NOMEM, "out of memory");
        f->sorted = s;
        f->sorted_cap = f->n;
    }
    size_t off = 0;
    for (size_t i = 0; i < f->n; i++) {
        f->sorted[i] = f->names + off + 1;
        off += strlen(f->names + off + 1) + 2;
    }
    if (f->n > 1) qsort(f->sorted, f->n, sizeof *f->sorted, cmp_names);
    r->nframes++;
    return SE_OK;
}

static unsigned char dt_of_mode(mode_t m)
{
    if (S_ISDIR(m)) return DT_DIR;
    if (S_ISREG(m)) return DT_REG;
    if (S_ISLNK(m)) return DT_LNK;
    return DT_OTHER;
}

/* Look at the next entry of the innermost directory: 1 with a document, 0
 * to carry on, or an error. */
static int walk_step(input_reader *r, input_doc *doc)
{
    dir_frame *f = &r->frames[r->nframes - 1];
    if (f->next == f->n) {
        r->nframes--;
        return 0;
    }
    const char *name = f->sorted[f->next++];
    unsigned char type = (unsigned char)name[-1];
    size_t dir_len = f->path_len, name_len = strlen(name);
    size_t sep = dir_len > 0 && r->path.p[dir_len - 1] == '/' ? 0 : 1;
    size_t len = dir_len + sep + name_len;
    int rc = buf_reserve(r, &r->path, len + 1);
    if (rc) return rc;
    if (sep) r->path.p[dir_len] = '/';
    memcpy(r->path.p + dir_len + sep, name, name_len + 1);
    r->path.len = len;

    struct stat st;
    if (type == DT_UNKNOWN) {
        if (lstat(r->path.p, &st) != 0) {
            warnf(r, r->path.p, 0, "cannot stat: %s, skipped", strerror(errno));
            r->stats.skipped++;
            return 0;
        }
        type = dt_of_mode(st.st_mode);
    }
    if (type == DT_DIR) return push_dir(r, len, false);
    enum file_kind kind = kind_of_name(name);
    if (kind == KIND_SKIP) return 0;
    if (type == DT_LNK) {
        if (stat(r->path.p, &st) != 0) {
            warnf(r, r->path.p, 0, "cannot follow symbolic link: %s, skipped", strerror(errno));
            r->stats.skipped++;
            return 0;
        }
        type = dt_of_mode(st.st_mode); /* links to directories are not followed */
    }
    if (type != DT_REG) return 0;
    rc = buf_set(r, &r->source, r->path.p, len);
    if (rc) return rc;
    return open_file(r, kind, false, r->id_off, doc);
}

/* Start on the caller's next path: 1 with a document, 0 to carry on, or an
 * error. */
static int start_path(input_reader *r, const char *path, input_doc *doc)
{
    if (strcmp(path, "-") == 0) {
        int rc = buf_set(r, &r->source, "-", 1);
        if (!rc) rc = src_begin(r, STDIN_FILENO, false);
        if (rc) {
            src_end(r);
            return rc;
        }
        r->in_jsonl = true;
        r->lineno = 0;
        return 0;
    }
    struct stat st;
    if (stat(path, &st) != 0) {
        int e = errno;
        return se_fail(&r->err, e == ENOENT || e == ENOTDIR ? SE_NOTFOUND : SE_IO, "%s: %s", path,
                       strerror(e));
    }
    if (S_ISDIR(st.st_mode)) {
        size_t len = strlen(path);
        while (len > 1 && path[len - 1] == '/') len--; /* "corpus/" = "corpus" */
        int rc = buf_set(r, &r->path, path, len);
        if (rc) return rc;
        r->id_off = len + (path[len - 1] == '/' ? 0 : 1);
        return push_dir(r, len, true);
    }
    int rc = buf_set(r, &r->source, path, strlen(path));
    if (rc) return rc;
    size_t off = 0; /* the id drops a leading "./" */
    while (path[off] == '.' && path[off + 1] == '/') {
        off += 2;
        while (path[off] == '/') off++;
    }
    return open_file(r, kind_of_name(path), true, off, doc);
}

/* ------------------------------------------------------------------- API */

/* Check that a path exists and can be read. */
static int check_path(const char *path, se_error *err)
{
    struct stat st;
    if (strcmp(path, "-") == 0) {
        if (fstat(STDIN_FILENO, &st) != 0)
            return se_fail(err, SE_IO, "-: standard input: %s", strerror(errno));
        return SE_OK;
    }
    if (stat(path, &st) != 0) {
        int e = errno;
        return se_fail(err, e == ENOENT || e == ENOTDIR ? SE_NOTFOUND : SE_IO, "%s: %s", path,
                       strerror(e));
    }
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        if (!d) return se_fail(err, SE_IO, "%s: %s", path, strerror(errno));
        closedir(d);
        return SE_OK;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) return se_fail(err, SE_IO, "%s: %s", path, strerror(errno));
    close(fd);
    return SE_OK;
}

int input_open(input_reader **out, const char *const *paths, size_t npaths,
               const input_options *opts, se_error *err)
{
    if (!out) return se_fail(err, SE_INVALID, "input_open: NULL reader");
    *out = NULL;
    if (npaths && !paths) return se_fail(err, SE_INVALID, "input_open: NULL path list");
    for (size_t i = 0; i < npaths; i++) {
        if (!paths[i]) return se_fail(err, SE_INVALID, "input_open: NULL path");
        int rc = check_path(paths[i], err);
        if (rc) return rc;
    }
    input_reader *r = calloc(1, sizeof *r);
    if (!r) return se_fail(err, SE_NOMEM, "out of memory");
    r->src.fd = -1;
    r->max_doc = opts && opts->max_doc_bytes ? opts->max_doc_bytes : INPUT_DEFAULT_MAX_DOC_BYTES;
    r->max_line =
        r->max_doc > (SIZE_MAX - LINE_SLACK) / 2 ? SIZE_MAX - 1 : 2 * r->max_doc + LINE_SLACK;
    if (opts) {
        r->warn = opts->warn;
        r->warn_ctx = opts->warn_ctx;
    }
    if (npaths) {
        r->paths = calloc(npaths, sizeof *r->paths);
        if (!r->paths) goto nomem;
        r->npaths = npaths;
        for (size_t i = 0; i < npaths; i++) {
            r->paths[i] = strdup(paths[i]);
            if (!r->paths[i]) goto nomem;
        }
    }
    *out = r;
    return SE_OK;
nomem:
    input_close(r);
    return se_fail(err, SE_NOMEM, "out of memory");
}

int input_next(input_reader *r, input_doc *doc, se_error *err)
{
    if (!r || !doc) return se_fail(err, SE_INVALID, "input_next: NULL argument");
    if (r->err.code) return se_fail(err, r->err.code, "%s", r->err.msg);
    release_json(r);
    memset(doc, 0, sizeof *doc);
    for (;;) {
        int rc;
        if (r->in_jsonl) {
            rc = jsonl_next(r, doc);
            if (rc == 0) {
                src_end(r);
                r->in_jsonl = false;
                continue;
            }
        } else if (r->nframes > 0) {
            rc = walk_step(r, doc);
        } else if (r->next_path < r->npaths) {
            rc = start_path(r, r->paths[r->next_path++], doc);
        } else {
            return 0;
        }
        if (rc > 0) return 1;
        if (rc < 0) {
            if (!r->err.code) se_fail(&r->err, rc, "%s", se_status_name(rc));
            return se_fail(err, r->err.code, "%s", r->err.msg);
        }
    }
}

input_stats input_get_stats(const input_reader *r)
{
    input_stats none = {0, 0, 0, 0};
    return r ? r->stats : none;
}

void input_close(input_reader *r)
{
    if (!r) return;
    src_end(r);
    release_json(r);
    free(r->src.raw);
    free(r->src.out);
    if (r->src.zstd) ZSTD_freeDStream(r->src.zstd);
    if (r->src.zlib_ready) inflateEnd(&r->src.zlib);
    for (size_t i = 0; i < r->frames_cap; i++) {
        free(r->frames[i].names);
        free(r->frames[i].sorted);
    }
    free(r->frames);
    if (r->paths)
        for (size_t i = 0; i < r->npaths; i++) free(r->paths[i]);
    free(r->paths);
    buf_free(&r->path);
    buf_free(&r->source);
    buf_free(&r->line);
    buf_free(&r->body);
    buf_free(&r->fixed);
    buf_free(&r->id_buf);
    buf_free(&r->title_buf);
    buf_free(&r->text_buf);
    free(r);
}
