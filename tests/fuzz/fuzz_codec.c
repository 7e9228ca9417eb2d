/*
 * fuzz_codec.c - every decoder of common/codec.h on arbitrary bytes.
 *
 * Input: byte 0 selects a decoder (or all of them), the rest is what it
 * decodes.  Each decoder reads from an exact-size heap copy, so a read past
 * the end it was given is an AddressSanitizer report.
 *
 *  - varints: get32 / get64 over the whole buffer, value by value, agree
 *    with a plain reference decoder (including where they must refuse: a
 *    truncated or overlong value), and re-encoding a decoded value decodes
 *    to the same value; codec_varint_skip agrees with counting terminator
 *    bytes, for every count and every start offset (the word-at-a-time fast
 *    path sees every alignment).
 *  - bit-unpacking: for every width 0..32 the dispatching codec_unpack128
 *    (SIMD where the CPU has it) and codec_unpack128_scalar agree with a
 *    bit-by-bit reference of the documented layout, and packing the values
 *    gives back exactly the input bytes (the layout is a bijection).
 *  - gaps to ids: codec_gaps_to_docs agrees with the scalar definition for
 *    every length up to the input's and any starting id.
 *  - codec_bits_needed agrees with a reference.
 *  - patched blocks: codec_patched_decode128 accepts exactly what
 *    codec_patched_size accepts, at every start offset; an accepted block's
 *    values fit in the bits it reports, and encoding them again decodes to
 *    the same values.
 */
#include "tests/fuzz/fuzz_util.h"

#include "common/codec.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return 0;
}

/* Reference LEB128 decoder: at most `maxbytes` bytes, value < 2^bits. */
static const uint8_t *cd_ref_varint(const uint8_t *p, const uint8_t *end, unsigned bits,
                                    uint64_t *v)
{
    uint64_t r = 0;
    unsigned maxbytes = (bits + 6) / 7;
    for (unsigned i = 0; i < maxbytes; i++) {
        if (p >= end) return NULL;
        uint64_t b = *p++;
        unsigned shift = 7 * i;
        uint64_t payload = b & 0x7f;
        /* Bits that would land at or above 2^bits make the value too big. */
        if (shift + 7 > bits && (payload >> (bits - shift)) != 0) return NULL;
        r |= payload << shift;
        if (!(b & 0x80)) {
            *v = r;
            return p;
        }
    }
    return NULL; /* a continuation bit on the last byte allowed */
}

static void cd_varints(const uint8_t *buf, size_t n)
{
    const uint8_t *end = buf + n;
    for (int wide = 0; wide < 2; wide++) {
        const uint8_t *p = buf;
        while (p < end) {
            uint64_t want = 0;
            const uint8_t *ref = cd_ref_varint(p, end, wide ? 64 : 32, &want);
            const uint8_t *got;
            uint64_t v = 0;
            if (wide) {
                got = codec_varint_get64(p, end, &v);
            } else {
                uint32_t v32 = 0;
                got = codec_varint_get32(p, end, &v32);
                v = v32;
            }
            FUZZ_CHECK(got == ref, "varint%d at %zu: ends at %td, reference %td", wide ? 64 : 32,
                       (size_t)(p - buf), got ? got - buf : -1, ref ? ref - buf : -1);
            if (!got) {
                p++; /* resynchronise one byte on */
                continue;
            }
            FUZZ_CHECK(v == want, "varint value %llu, reference %llu", (unsigned long long)v,
                       (unsigned long long)want);
            uint8_t enc[CODEC_VARINT64_MAX];
            size_t k = wide ? codec_varint_put64(enc, v) : codec_varint_put32(enc, (uint32_t)v);
            FUZZ_CHECK(k >= 1 && k <= (size_t)(got - p), "re-encoding is %zu bytes, input %td", k,
                       got - p);
            uint8_t *e = fuzz_dup(enc, k);
            uint64_t back = 0;
            const uint8_t *q = codec_varint_get64(e, e + k, &back);
            FUZZ_CHECK(q == e + k && back == v, "re-encoded value does not read back");
            free(e);
            p = got;
        }
    }
}

static void cd_skip(const uint8_t *data, size_t n)
{
    /* The fast path works on 8-byte words: a few hundred bytes show it
     * every alignment and remainder without making each input slow.  An
     * exact-size copy of them keeps over-reads visible. */
    if (n > 512) n = 512;
    uint8_t *buf = fuzz_dup(data, n);
    size_t starts = n < 24 ? n : 24;
    for (size_t s = 0; s <= starts; s++) {
        size_t ends = 0;
        for (size_t i = s; i < n; i++) ends += !(buf[i] & 0x80);
        for (size_t cnt = 0; cnt <= ends + 1; cnt++) {
            const uint8_t *got = codec_varint_skip(buf + s, buf + n, cnt);
            const uint8_t *want = buf + s;
            size_t left = cnt;
            while (left > 0 && want < buf + n) left -= !(*want++ & 0x80);
            if (left > 0) want = NULL;
            FUZZ_CHECK(got == want, "skip %zu from %zu: %td, reference %td", cnt, s,
                       got ? got - buf : -1, want ? want - buf : -1);
            if (cnt > 40 && cnt + 40 < ends) cnt = ends - 40; /* the middle is alike */
        }
    }
    free(buf);
}

/* Value i of a block of width w, read bit by bit from the documented layout:
 * lane i % 4, value i / 4 of that lane at bit (i / 4) * w of the lane's
 * stream, whose word k is the 32-bit little-endian word at index 4k + lane. */
static uint32_t cd_ref_value(const uint8_t *in, unsigned w, unsigned i)
{
    unsigned lane = i % 4, j = i / 4;
    uint32_t v = 0;
    for (unsigned b = 0; b < w; b++) {
        unsigned bit = j * w + b, word = bit / 32, off = bit % 32;
        const uint8_t *wp = in + 4 * (4 * word + lane);
        uint32_t wv =
            (uint32_t)wp[0] | (uint32_t)wp[1] << 8 | (uint32_t)wp[2] << 16 | (uint32_t)wp[3] << 24;
        v |= ((wv >> off) & 1u) << b;
    }
    return v;
}

static void cd_unpack(const uint8_t *data, size_t n)
{
    uint32_t fast[CODEC_BLOCK], slow[CODEC_BLOCK];
    for (unsigned w = 0; w <= 32; w++) {
        size_t bytes = codec_block_bytes(w);
        /* The input repeated as needed to fill the block. */
        uint8_t *in = malloc(bytes ? bytes : 1);
        if (!in) abort();
        for (size_t i = 0; i < bytes; i++) in[i] = n ? data[(i + w) % n] : (uint8_t)(i * 37 + w);
        memset(fast, 0xA5, sizeof fast);
        memset(slow, 0x5A, sizeof slow);
        codec_unpack128(in, w, fast);
        codec_unpack128_scalar(in, w, slow);
        for (unsigned i = 0; i < CODEC_BLOCK; i++) {
            uint32_t want = cd_ref_value(in, w, i);
            FUZZ_CHECK(fast[i] == want, "width %u value %u: dispatch %u, reference %u", w, i,
                       fast[i], want);
            FUZZ_CHECK(slow[i] == want, "width %u value %u: scalar %u, reference %u", w, i, slow[i],
                       want);
        }
        FUZZ_CHECK(codec_bits_needed(slow, CODEC_BLOCK) <= w, "width %u: values need %u bits", w,
                   codec_bits_needed(slow, CODEC_BLOCK));
        uint8_t *out = malloc(bytes ? bytes : 1);
        if (!out) abort();
        codec_pack128(slow, w, out);
        FUZZ_CHECK(bytes == 0 || memcmp(out, in, bytes) == 0, "width %u: pack(unpack(x)) != x", w);
        free(out);
        free(in);
    }
}

static void cd_gaps(const uint8_t *data, size_t n)
{
    size_t count = n / 4 > 300 ? 300 : n / 4;
    uint32_t prev = n >= 4 ? (uint32_t)data[0] << 24 | (uint32_t)data[1] << 16 |
                                 (uint32_t)data[2] << 8 | data[3]
                           : UINT32_MAX;
    uint32_t *gaps = malloc((count ? count : 1) * sizeof *gaps);
    uint32_t *v = malloc((count ? count : 1) * sizeof *v);
    if (!gaps || !v) abort();
    for (size_t i = 0; i < count; i++) {
        memcpy(&gaps[i], data + 4 * i, 4);
        /* Mostly small gaps, as in real postings; sometimes any value. */
        if (data[4 * i] & 1) gaps[i] >>= data[4 * i] % 32;
    }
    for (size_t len = 0; len <= count; len++) {
        memcpy(v, gaps, len * sizeof *v);
        codec_gaps_to_docs(v, len, prev);
        uint32_t id = prev;
        for (size_t i = 0; i < len; i++) {
            id += gaps[i] + 1;
            FUZZ_CHECK(v[i] == id, "gaps_to_docs length %zu index %zu: %u, reference %u", len, i,
                       v[i], id);
        }
        if (len > 20 && len + 20 < count) len = count - 20;
    }
    unsigned want = 0;
    for (size_t i = 0; i < count; i++)
        while (want < 32 && (gaps[i] >> want) != 0) want++;
    FUZZ_CHECK(codec_bits_needed(gaps, count) == want, "bits_needed %u, reference %u",
               codec_bits_needed(gaps, count), want);
    free(gaps);
    free(v);
}

static void cd_patched(const uint8_t *buf, size_t n)
{
    for (size_t at = 0; at < n && at < 64; at++) {
        uint32_t out[128], again[128];
        uint8_t enc[CODEC_PATCHED_MAX];
        unsigned bits = 0, bits2 = 0;
        size_t size = codec_patched_size(buf + at, buf + n);
        size_t got = codec_patched_decode128(buf + at, buf + n, out, &bits);
        /* The decoder may also refuse bad exception indexes. */
        if (got != 0 && got != size) abort();
        if (got == 0) continue;
        if (bits > 32 || (bits < 32 && codec_bits_needed(out, 128) > bits)) abort();
        size_t m = codec_patched_encode128(out, enc);
        if (m > CODEC_PATCHED_MAX || codec_patched_decode128(enc, enc + m, again, &bits2) != m ||
            memcmp(out, again, sizeof out) != 0)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_bytes in = {data, size};
    uint8_t which = fuzz_u8(&in) % 6;
    uint8_t *buf = fuzz_dup(in.p, in.n);
    if (which == 0 || which == 4) cd_varints(buf, in.n);
    if (which == 1 || which == 4) cd_skip(buf, in.n);
    if (which == 2 || which == 4) cd_unpack(buf, in.n);
    if (which == 3 || which == 4) cd_gaps(buf, in.n);
    if (which == 5 || which == 4) cd_patched(buf, in.n);
    free(buf);
    return 0;
}
