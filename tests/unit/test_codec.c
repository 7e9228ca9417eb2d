/*
 * test_codec.c - unit tests of the integer codecs (common/codec.h).
 *
 * Bit-packed blocks: round trips at every width 0..32 (random values of
 * exactly that width, and the largest value 2^w-1 in every position), the
 * dispatched (SIMD) unpacker against the portable one on arbitrary bytes,
 * and byte layouts worked out by hand from the header's description.
 * Varints: boundary values and their lengths, truncated and overlong input,
 * skipping.  Then codec_bits_needed and codec_gaps_to_docs.
 *
 * Encoded input is copied into heap buffers of exactly its size (at an odd
 * address too), so running under ASan or valgrind catches any read past the
 * end.  Random data comes from a fixed-seed generator: runs are repeatable.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/codec.h"

#define CANARY 0xa5u

static uint64_t rng_state;

static void rng_seed(uint64_t seed)
{
    rng_state = seed;
}

/* splitmix64 */
static uint64_t rng(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint32_t width_mask(unsigned w)
{
    return (uint32_t)((1ull << w) - 1);
}

/* A heap copy of bytes[0..n), at an odd address if `odd`, whose end p + n
 * is the end of the allocation (but for n = 0 at an even address, which
 * still gets one byte).  Free *base afterwards. */
static const uint8_t *exact_copy(const uint8_t *bytes, size_t n, int odd, uint8_t **base)
{
    size_t pad = odd ? 1 : 0;
    uint8_t *b = malloc(n + pad ? n + pad : 1);
    cr_assert_not_null(b);
    if (n) memcpy(b + pad, bytes, n);
    *base = b;
    return b + pad;
}

static void expect_u32s(const uint32_t *got, const uint32_t *want, size_t n, const char *what,
                        unsigned w)
{
    for (size_t i = 0; i < n; i++)
        cr_assert_eq(got[i], want[i], "%s, width %u: value %zu is %u, expected %u", what, w, i,
                     got[i], want[i]);
}

static void expect_bytes(const uint8_t *got, const uint8_t *want, size_t n, const char *what)
{
    for (size_t i = 0; i < n; i++)
        cr_assert_eq(got[i], want[i], "%s: byte %zu is 0x%02x, expected 0x%02x", what, i, got[i],
                     want[i]);
}

/* Unpack `packed` (16*w bytes) with both unpackers, from exact-size copies
 * at an even and an odd address, and check that exactly 128 values come out
 * and that they equal `want`. */
static void expect_unpacks_to(const uint8_t *packed, unsigned w, const uint32_t *want)
{
    size_t n = codec_block_bytes(w);
    for (int odd = 0; odd < 2; odd++) {
        uint8_t *base;
        const uint8_t *in = exact_copy(packed, n, odd, &base);
        uint32_t out[CODEC_BLOCK + 4];
        for (int which = 0; which < 2; which++) {
            memset(out, CANARY, sizeof out);
            if (which)
                codec_unpack128(in, w, out);
            else
                codec_unpack128_scalar(in, w, out);
            expect_u32s(out, want, CODEC_BLOCK, which ? "codec_unpack128" : "unpack128_scalar", w);
            for (int k = 0; k < 4; k++)
                cr_assert_eq(out[CODEC_BLOCK + k], 0xa5a5a5a5u, "width %u: wrote past 128", w);
        }
        free(base);
    }
}

/* Pack `in` at width w, check the size and the bytes after it, unpack. */
static void round_trip(const uint32_t *in, unsigned w)
{
    uint8_t packed[16 * 32 + 32];
    memset(packed, CANARY, sizeof packed);
    codec_pack128(in, w, packed);
    size_t n = codec_block_bytes(w);
    cr_assert_eq(n, 16u * w);
    for (size_t i = n; i < sizeof packed; i++)
        cr_assert_eq(packed[i], CANARY, "width %u: pack wrote byte %zu", w, i);
    expect_unpacks_to(packed, w, in);
}

Test(codec_block, round_trip_random_every_width)
{
    rng_seed(1);
    for (unsigned w = 0; w <= 32; w++) {
        for (int rep = 0; rep < 50; rep++) {
            uint32_t in[CODEC_BLOCK];
            for (int i = 0; i < CODEC_BLOCK; i++) in[i] = (uint32_t)rng() & width_mask(w);
            if (w) in[rng() % CODEC_BLOCK] |= 1u << (w - 1); /* exactly w bits */
            cr_assert_eq(codec_bits_needed(in, CODEC_BLOCK), w);
            round_trip(in, w);
        }
    }
}

Test(codec_block, round_trip_max_value_in_every_position)
{
    for (unsigned w = 0; w <= 32; w++) {
        const uint32_t max = width_mask(w);
        uint32_t in[CODEC_BLOCK];
        for (int i = 0; i < CODEC_BLOCK; i++) in[i] = max;
        round_trip(in, w);
        for (int p = 0; p < CODEC_BLOCK; p++) {
            /* max alone among zeros, then a zero alone among maxima */
            memset(in, 0, sizeof in);
            in[p] = max;
            round_trip(in, w);
            for (int i = 0; i < CODEC_BLOCK; i++) in[i] = max;
            in[p] = 0;
            round_trip(in, w);
        }
        for (int i = 0; i < CODEC_BLOCK; i++) in[i] = (i & 1) ? max : 0;
        round_trip(in, w);
        for (int i = 0; i < CODEC_BLOCK; i++) in[i] = i % 3 ? max : max & ~1u;
        round_trip(in, w);
    }
}

Test(codec_block, width_zero_writes_nothing_and_unpacks_zeros)
{
    uint32_t in[CODEC_BLOCK] = {0};
    uint8_t packed[16];
    memset(packed, CANARY, sizeof packed);
    codec_pack128(in, 0, packed);
    for (size_t i = 0; i < sizeof packed; i++) cr_assert_eq(packed[i], CANARY);
    cr_assert_eq(codec_block_bytes(0), 0u);
    uint32_t out[CODEC_BLOCK];
    memset(out, CANARY, sizeof out);
    codec_unpack128(packed, 0, out);
    expect_u32s(out, in, CODEC_BLOCK, "codec_unpack128", 0);
    memset(out, CANARY, sizeof out);
    codec_unpack128_scalar(packed, 0, out);
    expect_u32s(out, in, CODEC_BLOCK, "unpack128_scalar", 0);
}

/* Any 16*w bytes are a valid block: every implementation must agree on them,
 * and repacking what comes out must give the same bytes back. */
Test(codec_block, dispatched_unpack_matches_scalar_on_any_bytes)
{
    rng_seed(2);
    for (unsigned w = 0; w <= 32; w++) {
        for (int rep = 0; rep < 200; rep++) {
            uint8_t bytes[16 * 32];
            size_t n = codec_block_bytes(w);
            for (size_t i = 0; i < n; i++) bytes[i] = (uint8_t)rng();
            if (rep == 0) memset(bytes, 0xff, n);
            uint32_t want[CODEC_BLOCK];
            codec_unpack128_scalar(bytes, w, want);
            for (int i = 0; i < CODEC_BLOCK; i++)
                cr_assert_leq(want[i], width_mask(w), "width %u: value %d too wide", w, i);
            expect_unpacks_to(bytes, w, want);
            uint8_t again[16 * 32];
            codec_pack128(want, w, again);
            expect_bytes(again, bytes, n, "pack(unpack(bytes))");
        }
    }
}

/* Width 1: one row, bit j of lane l's word is integer 4*j + l. */
Test(codec_block, layout_width_1_by_hand)
{
    uint32_t in[CODEC_BLOCK] = {0};
    in[0] = 1;   /* lane 0, value 0  -> lane 0 word 0 bit 0 */
    in[5] = 1;   /* lane 1, value 1  -> lane 1 word 0 bit 1 */
    in[124] = 1; /* lane 0, value 31 -> lane 0 word 0 bit 31 */
    in[127] = 1; /* lane 3, value 31 -> lane 3 word 0 bit 31 */
    static const uint8_t want[16] = {
        0x01, 0x00, 0x00, 0x80, /* lane 0: 0x80000001 */
        0x02, 0x00, 0x00, 0x00, /* lane 1: 0x00000002 */
        0x00, 0x00, 0x00, 0x00, /* lane 2 */
        0x00, 0x00, 0x00, 0x80, /* lane 3: 0x80000000 */
    };
    uint8_t got[16];
    codec_pack128(in, 1, got);
    expect_bytes(got, want, sizeof want, "width 1");
    expect_unpacks_to(want, 1, in);
}

/* Width 3: value j of a lane at bits 3j..3j+2 of the lane's stream; value 10
 * (bits 30..32) and value 21 (bits 63..65) cross a word boundary. */
Test(codec_block, layout_width_3_by_hand)
{
    uint32_t in[CODEC_BLOCK] = {0};
    in[0] = 5;   /* lane 0, value 0:  bits 0..2 of word 0 */
    in[4] = 3;   /* lane 0, value 1:  bits 3..5 */
    in[8] = 7;   /* lane 0, value 2:  bits 6..8 */
    in[40] = 5;  /* lane 0, value 10: bits 30,31 of word 0 = 01b, bit 0 of word 1 = 1 */
    in[2] = 6;   /* lane 2, value 0 */
    in[85] = 7;  /* lane 1, value 21: bit 31 of word 1, bits 0,1 of word 2 */
    in[127] = 4; /* lane 3, value 31: bits 29..31 of word 2 = 100b */
    static const uint8_t want[48] = {
        /* row 0: word 0 of lanes 0..3 */
        0xdd, 0x01, 0x00, 0x40, /* 5 | 3<<3 | 7<<6 | 1<<30 = 0x400001dd */
        0x00, 0x00, 0x00, 0x00, /* */
        0x06, 0x00, 0x00, 0x00, /* */
        0x00, 0x00, 0x00, 0x00, /* */
        /* row 1: word 1 */
        0x01, 0x00, 0x00, 0x00, /* high bit of lane 0's value 10 */
        0x00, 0x00, 0x00, 0x80, /* low bit of lane 1's value 21 */
        0x00, 0x00, 0x00, 0x00, /* */
        0x00, 0x00, 0x00, 0x00, /* */
        /* row 2: word 2 */
        0x00, 0x00, 0x00, 0x00, /* */
        0x03, 0x00, 0x00, 0x00, /* high bits of lane 1's value 21 */
        0x00, 0x00, 0x00, 0x00, /* */
        0x00, 0x00, 0x00, 0x80, /* 4 << 29 */
    };
    uint8_t got[48];
    codec_pack128(in, 3, got);
    expect_bytes(got, want, sizeof want, "width 3");
    expect_unpacks_to(want, 3, in);
}

/* Width 32: word k of lane l is integer 4k + l, so the block is the input as
 * little-endian words, in order. */
Test(codec_block, layout_width_32_is_the_input_little_endian)
{
    uint32_t in[CODEC_BLOCK];
    uint8_t want[16 * 32], got[16 * 32];
    for (int i = 0; i < CODEC_BLOCK; i++) {
        in[i] = 0x01020304u * (uint32_t)(i + 1);
        for (int b = 0; b < 4; b++) want[4 * i + b] = (uint8_t)(in[i] >> (8 * b));
    }
    codec_pack128(in, 32, got);
    expect_bytes(got, want, sizeof want, "width 32");
    expect_unpacks_to(want, 32, in);
}

Test(codec_block, bits_needed)
{
    uint32_t v[CODEC_BLOCK] = {0};
    cr_assert_eq(codec_bits_needed(v, 0), 0u);
    v[0] = 0xffffffffu;
    cr_assert_eq(codec_bits_needed(v, 0), 0u, "n = 0 looks at nothing");
    cr_assert_eq(codec_bits_needed(v + 1, CODEC_BLOCK - 1), 0u, "all zero");
    cr_assert_eq(codec_bits_needed(v, 1), 32u);
    v[0] = 0;
    for (unsigned k = 0; k < 32; k++) {
        v[CODEC_BLOCK - 1] = 1u << k;
        cr_assert_eq(codec_bits_needed(v, CODEC_BLOCK), k + 1, "2^%u", k);
        v[CODEC_BLOCK - 1] = width_mask(k + 1);
        cr_assert_eq(codec_bits_needed(v, CODEC_BLOCK), k + 1, "2^%u - 1", k + 1);
    }
    v[CODEC_BLOCK - 1] = 0;
    v[7] = 0x80000000u;
    cr_assert_eq(codec_bits_needed(v, CODEC_BLOCK), 32u);
    cr_assert_eq(codec_bits_needed(v, 7), 0u);
    /* the maximum decides, not the last value nor the sum of bits */
    uint32_t w[3] = {5, 1000, 3};
    cr_assert_eq(codec_bits_needed(w, 3), 10u);
}

/* ---- varints ------------------------------------------------------------- */

static const struct {
    uint64_t v;
    size_t len;
} BOUNDS[] = {
    {0, 1},
    {1, 1},
    {127, 1},
    {128, 2},
    {300, 2},
    {16383, 2},
    {16384, 3},
    {(1u << 21) - 1, 3},
    {1u << 21, 4},
    {(1u << 28) - 1, 4},
    {1u << 28, 5},
    {UINT32_MAX, 5},
    {(uint64_t)UINT32_MAX + 1, 5},
    {(1ull << 35) - 1, 5},
    {1ull << 35, 6},
    {(1ull << 56) - 1, 8},
    {1ull << 56, 9},
    {(1ull << 63) - 1, 9},
    {1ull << 63, 10},
    {UINT64_MAX, 10},
};

#define NBOUNDS (sizeof BOUNDS / sizeof BOUNDS[0])

Test(codec_varint, known_encodings)
{
    uint8_t b[CODEC_VARINT64_MAX];
    cr_assert_eq(codec_varint_put32(b, 0), 1u);
    expect_bytes(b, (const uint8_t[]){0x00}, 1, "0");
    cr_assert_eq(codec_varint_put32(b, 300), 2u);
    expect_bytes(b, (const uint8_t[]){0xac, 0x02}, 2, "300");
    cr_assert_eq(codec_varint_put32(b, 16384), 3u);
    expect_bytes(b, (const uint8_t[]){0x80, 0x80, 0x01}, 3, "16384");
    cr_assert_eq(codec_varint_put32(b, UINT32_MAX), 5u);
    expect_bytes(b, (const uint8_t[]){0xff, 0xff, 0xff, 0xff, 0x0f}, 5, "UINT32_MAX");
    cr_assert_eq(codec_varint_put64(b, UINT64_MAX), 10u);
    expect_bytes(b, (const uint8_t[]){0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01},
                 10, "UINT64_MAX");
}

Test(codec_varint, round_trip_boundaries_and_truncation)
{
    for (size_t t = 0; t < NBOUNDS; t++) {
        const uint64_t v = BOUNDS[t].v;
        const size_t len = BOUNDS[t].len;
        uint8_t enc[CODEC_VARINT64_MAX];
        cr_assert_eq(codec_varint_put64(enc, v), len, "put64(%llu)", (unsigned long long)v);
        if (v <= UINT32_MAX) {
            uint8_t enc32[CODEC_VARINT32_MAX];
            cr_assert_eq(codec_varint_put32(enc32, (uint32_t)v), len);
            expect_bytes(enc32, enc, len, "put32 == put64");
        }
        for (int odd = 0; odd < 2; odd++) {
            /* every prefix is truncated; the whole thing decodes */
            for (size_t cut = 0; cut <= len; cut++) {
                uint8_t *base;
                const uint8_t *p = exact_copy(enc, cut, odd, &base);
                uint64_t got64 = 12345;
                const uint8_t *q = codec_varint_get64(p, p + cut, &got64);
                uint32_t got32 = 12345;
                const uint8_t *q32 = codec_varint_get32(p, p + cut, &got32);
                if (cut < len) {
                    cr_assert_null(q, "get64 of %zu of %zu bytes", cut, len);
                    cr_assert_null(q32, "get32 of %zu of %zu bytes", cut, len);
                } else {
                    cr_assert_eq(q, p + len);
                    cr_assert_eq(got64, v);
                    if (v <= UINT32_MAX) {
                        cr_assert_eq(q32, p + len);
                        cr_assert_eq(got32, (uint32_t)v);
                    } else {
                        cr_assert_null(q32, "get32 of %llu", (unsigned long long)v);
                    }
                }
                free(base);
            }
        }
    }
}

Test(codec_varint, decode_stops_after_the_value)
{
    uint8_t buf[4 * CODEC_VARINT64_MAX];
    size_t n = 0;
    n += codec_varint_put32(buf + n, 1);
    n += codec_varint_put32(buf + n, 200);
    n += codec_varint_put64(buf + n, 1ull << 40);
    n += codec_varint_put32(buf + n, UINT32_MAX);
    const uint8_t *p = buf, *end = buf + n;
    uint32_t a;
    uint64_t b;
    p = codec_varint_get32(p, end, &a);
    cr_assert(p && a == 1);
    p = codec_varint_get32(p, end, &a);
    cr_assert(p && a == 200);
    p = codec_varint_get64(p, end, &b);
    cr_assert(p && b == 1ull << 40);
    p = codec_varint_get32(p, end, &a);
    cr_assert(p && a == UINT32_MAX);
    cr_assert_eq(p, end);
    cr_assert_null(codec_varint_get32(p, end, &a), "empty input");
    cr_assert_null(codec_varint_get64(p, end, &b), "empty input");
}

static void expect_get32_rejects(const uint8_t *bytes, size_t n, const char *what)
{
    uint8_t *base;
    const uint8_t *p = exact_copy(bytes, n, 0, &base);
    uint32_t v = 7;
    cr_assert_null(codec_varint_get32(p, p + n, &v), "get32 accepted %s", what);
    free(base);
}

static void expect_get64_rejects(const uint8_t *bytes, size_t n, const char *what)
{
    uint8_t *base;
    const uint8_t *p = exact_copy(bytes, n, 0, &base);
    uint64_t v = 7;
    cr_assert_null(codec_varint_get64(p, p + n, &v), "get64 accepted %s", what);
    free(base);
}

Test(codec_varint, overlong_rejected)
{
    /* u32: the fifth byte holds bits 28..31 only and must end the value */
    expect_get32_rejects((const uint8_t[]){0xff, 0xff, 0xff, 0xff, 0x10}, 5, "2^32");
    expect_get32_rejects((const uint8_t[]){0x80, 0x80, 0x80, 0x80, 0x7f}, 5, "5th byte 0x7f");
    expect_get32_rejects((const uint8_t[]){0x80, 0x80, 0x80, 0x80, 0x80, 0x00}, 6,
                         "continuation on the 5th byte");
    expect_get32_rejects((const uint8_t[]){0x80, 0x80, 0x80, 0x80, 0x8f, 0x00}, 6,
                         "continuation on the 5th byte");
    /* u64: the tenth byte holds bit 63 only and must end the value */
    expect_get64_rejects(
        (const uint8_t[]){0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02}, 10, "2^64");
    expect_get64_rejects(
        (const uint8_t[]){0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x81, 0x00}, 11,
        "continuation on the 10th byte");
    expect_get64_rejects(
        (const uint8_t[]){0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00}, 11,
        "continuation on the 10th byte");

    /* the largest values still decode */
    const uint8_t m32[] = {0xff, 0xff, 0xff, 0xff, 0x0f};
    uint32_t v32;
    cr_assert_eq(codec_varint_get32(m32, m32 + 5, &v32), m32 + 5);
    cr_assert_eq(v32, UINT32_MAX);
    const uint8_t top[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01};
    uint64_t v64;
    cr_assert_eq(codec_varint_get64(top, top + 10, &v64), top + 10);
    cr_assert_eq(v64, 1ull << 63);
}

Test(codec_varint, non_minimal_encodings_that_fit_are_accepted)
{
    const uint8_t zero[] = {0x80, 0x80, 0x00};
    uint32_t v32 = 1;
    cr_assert_eq(codec_varint_get32(zero, zero + 3, &v32), zero + 3);
    cr_assert_eq(v32, 0u);
    const uint8_t one[] = {0x81, 0x80, 0x80, 0x80, 0x00};
    cr_assert_eq(codec_varint_get32(one, one + 5, &v32), one + 5);
    cr_assert_eq(v32, 1u);
}

/* Encode `count` values (lengths from `maxbits`-bit random values), with
 * off[i] the offset of value i; return the total size. */
static size_t encode_many(uint8_t *buf, size_t *off, size_t count, unsigned maxbits)
{
    size_t n = 0;
    for (size_t i = 0; i < count; i++) {
        off[i] = n;
        unsigned bits = (unsigned)(rng() % (maxbits + 1));
        uint64_t v = bits ? rng() >> (64 - bits) : 0;
        n += codec_varint_put64(buf + n, v);
    }
    off[count] = n;
    return n;
}

Test(codec_varint, skip)
{
    enum { COUNT = 300 };
    static uint8_t buf[COUNT * CODEC_VARINT64_MAX];
    size_t off[COUNT + 1];
    rng_seed(3);
    const unsigned maxbits[] = {7, 14, 64, 0};
    for (size_t m = 0; m < sizeof maxbits / sizeof maxbits[0]; m++) {
        size_t total = encode_many(buf, off, COUNT, maxbits[m]);
        for (int odd = 0; odd < 2; odd++) {
            uint8_t *base;
            const uint8_t *p = exact_copy(buf, total, odd, &base);
            const uint8_t *end = p + total;
            for (size_t from = 0; from < COUNT; from += 37) {
                for (size_t n = 0; from + n <= COUNT; n++) {
                    const uint8_t *q = codec_varint_skip(p + off[from], end, n);
                    cr_assert_eq(q, p + off[from + n], "skip %zu from %zu (maxbits %u)", n, from,
                                 maxbits[m]);
                }
                cr_assert_null(codec_varint_skip(p + off[from], end, COUNT - from + 1),
                               "skip past the end");
                /* the last value cut short */
                cr_assert_null(codec_varint_skip(p + off[from], end - 1, COUNT - from));
                if (from < COUNT - 1)
                    cr_assert_eq(codec_varint_skip(p + off[from], end - 1, COUNT - from - 1),
                                 p + off[COUNT - 1]);
            }
            cr_assert_eq(codec_varint_skip(end, end, 0), end);
            cr_assert_null(codec_varint_skip(end, end, 1));
            free(base);
        }
    }
}

Test(codec_varint, skip_truncated_inside_a_long_value)
{
    uint8_t buf[32];
    size_t n = 0;
    for (int i = 0; i < 9; i++) n += codec_varint_put32(buf + n, (uint32_t)i);
    n += codec_varint_put64(buf + n, UINT64_MAX); /* 10 bytes: 0xff x 9, 0x01 */
    for (size_t cut = 9; cut < n; cut++) {
        uint8_t *base;
        const uint8_t *p = exact_copy(buf, cut, 1, &base);
        cr_assert_eq(codec_varint_skip(p, p + cut, 9), p + 9);
        cr_assert_null(codec_varint_skip(p, p + cut, 10), "cut at %zu", cut);
        free(base);
    }
}

/* ---- gaps to document ids ------------------------------------------------ */

static void naive_gaps_to_docs(uint32_t *v, size_t n, uint32_t prev)
{
    uint64_t doc = prev == UINT32_MAX ? (uint64_t)-1 : prev; /* doc[-1] */
    for (size_t i = 0; i < n; i++) {
        doc += (uint64_t)v[i] + 1;
        v[i] = (uint32_t)doc;
    }
}

Test(codec_gaps, first_block_starts_at_minus_one)
{
    uint32_t v[] = {0, 0, 4, 9};
    codec_gaps_to_docs(v, 4, UINT32_MAX);
    expect_u32s(v, (const uint32_t[]){0, 1, 6, 16}, 4, "gaps", 0);
    uint32_t w[] = {41};
    codec_gaps_to_docs(w, 1, UINT32_MAX);
    cr_assert_eq(w[0], 41u, "the first gap is the first id");
}

Test(codec_gaps, mid_list)
{
    uint32_t v[] = {0, 9, 0, 2, 0};
    codec_gaps_to_docs(v, 5, 100);
    expect_u32s(v, (const uint32_t[]){101, 111, 112, 115, 116}, 5, "gaps", 0);
    uint32_t z[] = {0};
    codec_gaps_to_docs(z, 0, 100);
    cr_assert_eq(z[0], 0u, "n = 0 changes nothing");
}

Test(codec_gaps, every_length_against_naive)
{
    rng_seed(4);
    const uint32_t prevs[] = {UINT32_MAX, 0, 100, 1u << 31, UINT32_MAX - 1000};
    for (size_t k = 0; k < sizeof prevs / sizeof prevs[0]; k++) {
        for (size_t n = 0; n <= CODEC_BLOCK + 3; n++) {
            uint32_t v[CODEC_BLOCK + 3 + 1], want[CODEC_BLOCK + 3 + 1];
            for (size_t i = 0; i <= n; i++) v[i] = (uint32_t)(rng() & ((k & 1) ? 0xff : 0x3fff));
            memcpy(want, v, sizeof v);
            naive_gaps_to_docs(want, n, prevs[k]);
            codec_gaps_to_docs(v, n, prevs[k]);
            expect_u32s(v, want, n + 1, "gaps_to_docs (value n untouched)", (unsigned)n);
        }
    }
}

Test(codec_gaps, block_tail_after_unpack)
{
    /* a full block of ids, then a short tail continuing from its last id */
    rng_seed(5);
    uint32_t ids[CODEC_BLOCK + 37], gaps[CODEC_BLOCK + 37];
    uint32_t prev = UINT32_MAX;
    for (size_t i = 0; i < CODEC_BLOCK + 37; i++) {
        ids[i] = prev + 1 + (uint32_t)(rng() % 50);
        gaps[i] = ids[i] - prev - 1;
        prev = ids[i];
    }
    uint8_t packed[16 * 32];
    unsigned w = codec_bits_needed(gaps, CODEC_BLOCK);
    codec_pack128(gaps, w, packed);
    uint32_t docs[CODEC_BLOCK];
    codec_unpack128(packed, w, docs);
    codec_gaps_to_docs(docs, CODEC_BLOCK, UINT32_MAX);
    expect_u32s(docs, ids, CODEC_BLOCK, "block", w);
    uint32_t tail[37];
    memcpy(tail, gaps + CODEC_BLOCK, sizeof tail);
    codec_gaps_to_docs(tail, 37, docs[CODEC_BLOCK - 1]);
    expect_u32s(tail, ids + CODEC_BLOCK, 37, "tail", 0);
}

/* ------------------------------------------------------------ patched */

/* Encode in, check the size and header against the definition, decode it
 * back (from an exactly sized copy) and check every value and the width. */
static size_t patched_round_trip(const uint32_t *in, const char *what)
{
    uint8_t buf[CODEC_PATCHED_MAX + 8];
    memset(buf, 0xee, sizeof buf);
    size_t n = codec_patched_encode128(in, buf);
    cr_assert_leq(n, CODEC_PATCHED_MAX, "%s", what);
    cr_assert_eq(buf[n], 0xee, "%s: wrote past its size", what);
    unsigned w = buf[0], e = buf[1], h = buf[2];
    cr_assert_leq(e, CODEC_PATCHED_EXCEPTIONS, "%s", what);
    cr_assert_eq(n, 3 + 16 * w + e + (e * h + 7) / 8, "%s: size", what);
    unsigned maxb = codec_bits_needed(in, 128), above = 0;
    for (int k = 0; k < 128; k++) above += w < 32 && (in[k] >> w) != 0;
    cr_assert_eq(e, above, "%s: every value over w bits is an exception", what);
    cr_assert_eq(e ? w + h : w, maxb > w ? maxb : w, "%s: h covers the largest", what);
    uint8_t *base;
    const uint8_t *p = exact_copy(buf, n, 0, &base);
    cr_assert_eq(codec_patched_size(p, p + n), n, "%s", what);
    cr_assert_eq(codec_patched_size(p, p + n - 1), 0, "%s: truncated", what);
    uint32_t out[128];
    unsigned bits = 99;
    cr_assert_eq(codec_patched_decode128(p, p + n, out, &bits), n, "%s", what);
    cr_assert_eq(bits, maxb > w ? maxb : w, "%s: bits", what);
    expect_u32s(out, in, 128, what, 0);
    free(base);
    return n;
}

Test(codec_patched, round_trip_and_size)
{
    rng_seed(7);
    uint32_t in[128];
    /* All zeros: three header bytes only. */
    memset(in, 0, sizeof in);
    cr_assert_eq(patched_round_trip(in, "zeros"), 3);
    /* Small values with a few huge ones: exceptions instead of width 32. */
    for (int k = 0; k < 128; k++) in[k] = (uint32_t)(rng() % 4);
    in[5] = UINT32_MAX;
    in[77] = 1u << 31;
    in[127] = 123456789;
    size_t n = patched_round_trip(in, "three outliers");
    cr_assert_lt(n, 16 * 32 / 4, "outliers did not widen the block (%zu bytes)", n);
    /* More outliers than the encoder patches: a wider block. */
    for (int k = 0; k < 40; k++) in[k * 3] = 1000 + (uint32_t)k;
    patched_round_trip(in, "many outliers");
    /* Random widths and outlier counts, index 0 and 127 included. */
    for (int round = 0; round < 2000; round++) {
        unsigned w = (unsigned)(rng() % 33), hi = w + (unsigned)(rng() % (33 - w));
        for (int k = 0; k < 128; k++) in[k] = (uint32_t)rng() & width_mask(w);
        int outliers = (int)(rng() % 12);
        for (int k = 0; k < outliers; k++) {
            int at = k == 0 ? 0 : k == 1 ? 127 : (int)(rng() % 128);
            in[at] = (uint32_t)rng() & width_mask(hi);
        }
        char what[64];
        snprintf(what, sizeof what, "round %d (w %u, outliers %d of %u bits)", round, w, outliers,
                 hi);
        patched_round_trip(in, what);
    }
}

Test(codec_patched, malformed_headers_and_indexes_rejected)
{
    uint32_t in[128] = {0}, out[128];
    in[3] = 500;
    in[9] = 700;
    uint8_t buf[CODEC_PATCHED_MAX];
    size_t n = codec_patched_encode128(in, buf);
    cr_assert_eq(buf[1], 2, "two exceptions");
    unsigned bits;
    uint8_t bad[CODEC_PATCHED_MAX];
    static const struct {
        size_t at;
        uint8_t value;
        const char *what;
    } edits[] = {
        {0, 33, "width over 32"},         {1, 129, "more than 128 exceptions"},
        {2, 0, "exceptions without h"},   {2, 33, "w + h over 32"},
        {3, 3, "indexes not increasing"}, /* the first index set equal to the second */
        {3, 200, "index over 127"},
    };
    for (size_t i = 0; i < sizeof edits / sizeof edits[0]; i++) {
        memcpy(bad, buf, n);
        size_t at = edits[i].at == 3 ? 3 + 16 * (size_t)buf[0] : edits[i].at;
        bad[at] = edits[i].at == 3 && edits[i].value == 3 ? bad[at + 1] : edits[i].value;
        cr_assert_eq(codec_patched_decode128(bad, bad + n, out, &bits), 0, "%s", edits[i].what);
    }
    /* No exceptions but h set. */
    uint8_t none[3] = {0, 0, 1};
    cr_assert_eq(codec_patched_size(none, none + 3), 0);
    cr_assert_eq(codec_patched_decode128(buf, buf + n - 1, out, &bits), 0, "truncated");
    cr_assert_eq(codec_patched_decode128(buf, buf + 2, out, &bits), 0, "header truncated");
}
