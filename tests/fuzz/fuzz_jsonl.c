/*
 * fuzz_jsonl.c - the indexer's input reader (indexer/input.h) on arbitrary
 * bytes: JSONL files, text files, standard input, gzip and zstd.
 *
 * Input: byte 0 holds options, byte 1 a parameter, the rest is the payload.
 *   bits 0-1  how the payload arrives:
 *             0  as the file in.jsonl (compressed only if its own magic
 *                bytes say so);
 *             1  as the text document in.txt;
 *             2  as JSONL on standard input ("-"), delivered in pieces of
 *                1..(byte 1 + 1) bytes through a SOCK_SEQPACKET socket, whose
 *                reads return one piece each, so lines and UTF-8 sequences
 *                straddle the reader's chunks deterministically;
 *             3  as in.jsonl compressed here (bit 2: zstd, else gzip; bit 3:
 *                as two frames/members; bit 4: the last byte 1 % 16 + 1
 *                bytes cut off, a truncated stream).
 *   bits 5-7  max_doc_bytes: default, 1, 8, 64, 300, 4096, 70000, 1 MiB.
 *
 * Checked: input_next returns 1, 0 or a negative code with a message, and
 * an error is sticky; each document has a non-empty id, and id, title and
 * text are valid UTF-8 without NUL bytes; a JSONL document respects
 * max_doc_bytes, a text title INPUT_MAX_TITLE_BYTES and has no white space
 * at either end; no document is blank; the statistics add up.
 */
#include "tests/fuzz/fuzz_util.h"

#include <sys/socket.h>
#include <zlib.h>
#include <zstd.h>

#include "indexer/input.h"

static char *js_dir;
static char js_jsonl[4096], js_txt[4096];
static int js_saved_stdin = -1;
static uint64_t js_warnings;

static void js_cleanup(void)
{
    if (js_dir) fuzz_rm_rf(js_dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    js_dir = fuzz_make_tmpdir("se-fuzz-jsonl-");
    atexit(js_cleanup);
    fuzz_join(js_jsonl, sizeof js_jsonl, js_dir, "in.jsonl");
    fuzz_join(js_txt, sizeof js_txt, js_dir, "in.txt");
    js_saved_stdin = dup(STDIN_FILENO);
    return 0;
}

static void js_warn(void *ctx, const char *source, uint64_t line, const char *message)
{
    (void)ctx;
    (void)line;
    FUZZ_CHECK(source != NULL && message != NULL && message[0] != 0, "empty warning");
    js_warnings++;
}

static int js_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static int js_blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!js_space(s[i])) return 0;
    return 1;
}

static void js_check_field(const char *what, const char *s, size_t n)
{
    FUZZ_CHECK(s != NULL, "%s is NULL", what);
    FUZZ_CHECK(memchr(s, 0, n) == NULL, "%s holds a NUL byte", what);
    FUZZ_CHECK(fuzz_utf8_valid((const uint8_t *)s, n), "%s is not valid UTF-8", what);
}

/* Compress src into a malloc'd buffer: gzip (one member) or zstd (one
 * frame).  Returns the length. */
static size_t js_compress(int zstd, const uint8_t *src, size_t n, uint8_t **out)
{
    if (zstd) {
        size_t cap = ZSTD_compressBound(n);
        *out = malloc(cap);
        if (!*out) abort();
        size_t r = ZSTD_compress(*out, cap, src, n, 1);
        if (ZSTD_isError(r)) abort();
        return r;
    }
    z_stream z;
    memset(&z, 0, sizeof z);
    if (deflateInit2(&z, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) abort();
    size_t cap = deflateBound(&z, (uLong)n) + 32;
    *out = malloc(cap);
    if (!*out) abort();
    z.next_in = (Bytef *)(uintptr_t)src;
    z.avail_in = (uInt)n;
    z.next_out = *out;
    z.avail_out = (uInt)cap;
    if (deflate(&z, Z_FINISH) != Z_STREAM_END) abort();
    size_t len = cap - z.avail_out;
    deflateEnd(&z);
    return len;
}

/* Write the payload compressed (possibly as two members, possibly cut). */
static int js_write_compressed(uint8_t opts, uint8_t param, const uint8_t *p, size_t n)
{
    int zstd = (opts >> 2) & 1, two = (opts >> 3) & 1, cut = (opts >> 4) & 1;
    size_t half = two ? n / 2 : n;
    uint8_t *a = NULL, *b = NULL;
    size_t la = js_compress(zstd, p, half, &a), lb = 0;
    if (two) lb = js_compress(zstd, p + half, n - half, &b);
    uint8_t *all = malloc(la + lb + 1);
    if (!all) abort();
    memcpy(all, a, la);
    if (lb) memcpy(all + la, b, lb);
    size_t len = la + lb;
    if (cut) {
        size_t c = (size_t)param % 16 + 1;
        len = len > c ? len - c : 0;
    }
    int rc = fuzz_write_file(js_jsonl, all, len);
    free(a);
    free(b);
    free(all);
    return rc;
}

/* Put the payload on standard input in pieces.  Returns 0, or -1 when the
 * socket cannot take it (the caller then uses a file instead). */
static int js_stdin_pieces(uint8_t param, const uint8_t *p, size_t n)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) != 0) return -1;
    /* Enough room for every piece at once: nothing reads until all are
     * written. */
    int sndbuf = 4 << 20;
    setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
    uint32_t rng = 0x9E3779B9u ^ param;
    size_t off = 0;
    for (int piece = 0; off < n; piece++) {
        size_t len = n - off;
        if (piece < 63) {
            rng ^= rng << 13;
            rng ^= rng >> 17;
            rng ^= rng << 5;
            size_t max = (size_t)param + 1;
            size_t want = 1 + rng % max;
            if (want < len) len = want;
        }
        ssize_t w = send(sv[0], p + off, len, MSG_DONTWAIT);
        if (w != (ssize_t)len) {
            close(sv[0]);
            close(sv[1]);
            return -1;
        }
        off += len;
    }
    close(sv[0]);
    if (dup2(sv[1], STDIN_FILENO) < 0) {
        close(sv[1]);
        return -1;
    }
    close(sv[1]);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const size_t max_docs[8] = {0, 1, 8, 64, 300, 4096, 70000, 1u << 20};
    fuzz_bytes in = {data, size};
    uint8_t opts = fuzz_u8(&in), param = fuzz_u8(&in);
    int how = opts & 3;
    size_t max_doc = max_docs[opts >> 5];
    size_t limit = max_doc ? max_doc : INPUT_DEFAULT_MAX_DOC_BYTES;
    const char *path = js_jsonl;
    int text = 0;

    if (how == 1) {
        path = js_txt;
        text = 1;
        if (fuzz_write_file(js_txt, in.p, in.n) != 0) abort();
    } else if (how == 2 && js_stdin_pieces(param, in.p, in.n) == 0) {
        path = "-";
    } else if (how == 3) {
        if (js_write_compressed(opts, param, in.p, in.n) != 0) abort();
    } else if (fuzz_write_file(js_jsonl, in.p, in.n) != 0) {
        abort();
    }

    input_options io = {max_doc, js_warn, NULL};
    input_reader *r = NULL;
    se_error err = {0, {0}};
    js_warnings = 0;
    int rc = input_open(&r, &path, 1, &io, &err);
    FUZZ_CHECK(rc == SE_OK && r != NULL, "input_open failed: %s", err.msg);

    uint64_t docs = 0;
    for (int guard = 0; guard < 1000000; guard++) {
        input_doc d;
        rc = input_next(r, &d, &err);
        if (rc == 0) break;
        if (rc < 0) {
            FUZZ_CHECK(rc == SE_INVALID || rc == SE_IO || rc == SE_NOMEM, "unexpected error %d: %s",
                       rc, err.msg);
            FUZZ_CHECK(err.code == rc && err.msg[0] != 0, "error without a message");
            se_error again = {0, {0}};
            FUZZ_CHECK(input_next(r, &d, &again) == rc && again.code == rc, "error is not sticky");
            break;
        }
        FUZZ_CHECK(rc == 1, "input_next returned %d", rc);
        docs++;
        FUZZ_CHECK(d.id_len > 0, "empty id");
        js_check_field("id", d.id, d.id_len);
        js_check_field("title", d.title, d.title_len);
        js_check_field("text", d.text, d.text_len);
        FUZZ_CHECK(!(js_blank(d.title, d.title_len) && js_blank(d.text, d.text_len)),
                   "blank document handed out");
        FUZZ_CHECK(d.source != NULL, "no source");
        if (text) {
            FUZZ_CHECK(d.line == 0, "text document with line %llu", (unsigned long long)d.line);
            FUZZ_CHECK(d.title_len <= INPUT_MAX_TITLE_BYTES, "title of %zu bytes", d.title_len);
            FUZZ_CHECK(d.title_len == 0 ||
                           (!js_space(d.title[0]) && !js_space(d.title[d.title_len - 1])),
                       "title not trimmed");
            FUZZ_CHECK(d.title_len + d.text_len <= limit + 3, "text document over the limit");
        } else {
            FUZZ_CHECK(d.line >= 1, "JSONL document without a line number");
            FUZZ_CHECK(d.title_len <= limit && d.text_len <= limit - d.title_len,
                       "JSONL document of %zu + %zu bytes over the limit %zu", d.title_len,
                       d.text_len, limit);
        }
    }
    input_stats st = input_get_stats(r);
    FUZZ_CHECK(st.documents == docs, "stats say %llu documents, %llu handed out",
               (unsigned long long)st.documents, (unsigned long long)docs);
    FUZZ_CHECK(
        st.skipped + st.repaired_utf8 <= js_warnings, "%llu skips and repairs, %llu warnings",
        (unsigned long long)(st.skipped + st.repaired_utf8), (unsigned long long)js_warnings);
    input_close(r);
    if (strcmp(path, "-") == 0) dup2(js_saved_stdin, STDIN_FILENO);
    return 0;
}
