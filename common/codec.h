/*
 * codec.h - integer codecs for postings and positions.
 *
 * Variable-byte (LEB128): 7 bits per byte, low groups first, high bit set on
 * every byte but the last.  A u32 takes 1..5 bytes, a u64 1..10.
 *
 * Bit-packed blocks of CODEC_BLOCK (128) unsigned 32-bit integers at one bit
 * width w (0..32), in the 4-lane vertical layout of SIMD-BP128: integer i
 * belongs to lane i % 4 and is the (i / 4)-th value of that lane; each lane is
 * a little-endian stream of 32-bit words in which the lane's 32 values are
 * packed from the low bit up, a value straddling two words continuing in the
 * next one; the words of the four lanes are interleaved (word k of lane l is
 * the 32-bit word at index 4*k + l).  A block takes exactly 16*w bytes, so a
 * w=0 block (all zeros) takes none.  The layout lets 128-bit SIMD unpack four
 * lanes at once; the scalar code produces and reads the same bytes.
 *
 * Patched blocks (a frame of reference with exceptions): 128 values as
 *   u8 w, u8 e, u8 h, the low w bits of every value packed as above
 *   (16*w bytes), e u8 indexes (increasing, < 128) of the values that need
 *   more than w bits, and their high parts (value >> w) at h bits each,
 *   packed from the low bit of the first byte up (ceil(e*h/8) bytes);
 *   h = 0 exactly when e = 0, and w + h <= 32.  The encoder picks the w
 *   giving the fewest bytes, so a few large values do not widen the rest.
 *
 * All functions are pure, allocate nothing and are thread-safe.  Decoders of
 * untrusted bytes take an end pointer and report truncation instead of
 * reading past it.
 */
#ifndef SE_CODEC_H
#define SE_CODEC_H

#include <stddef.h>
#include <stdint.h>

#define CODEC_BLOCK        128
#define CODEC_VARINT32_MAX 5
#define CODEC_VARINT64_MAX 10

/* Encode v at out (which must have room for CODEC_VARINT*_MAX bytes);
 * return the number of bytes written. */
size_t codec_varint_put32(uint8_t *out, uint32_t v);
size_t codec_varint_put64(uint8_t *out, uint64_t v);

/* Decode one value from [p, end).  Return the pointer after it, or NULL if
 * the input ends inside the value or the value does not fit (overlong).
 * Inline for the one-byte values that most dictionary fields, short
 * postings lists and position gaps are; the _long functions do the rest. */
const uint8_t *codec_varint_get32_long(const uint8_t *p, const uint8_t *end, uint32_t *v);
const uint8_t *codec_varint_get64_long(const uint8_t *p, const uint8_t *end, uint64_t *v);
static inline const uint8_t *codec_varint_get32(const uint8_t *p, const uint8_t *end, uint32_t *v)
{
    if (p < end && *p < 0x80) {
        *v = *p;
        return p + 1;
    }
    return codec_varint_get32_long(p, end, v);
}
static inline const uint8_t *codec_varint_get64(const uint8_t *p, const uint8_t *end, uint64_t *v)
{
    if (p < end && *p < 0x80) {
        *v = *p;
        return p + 1;
    }
    return codec_varint_get64_long(p, end, v);
}

/* Skip n varints in [p, end); NULL if the input ends first. */
const uint8_t *codec_varint_skip(const uint8_t *p, const uint8_t *end, size_t n);

/* Bits needed for the largest of in[0..n) (0 when all are zero). */
unsigned codec_bits_needed(const uint32_t *in, size_t n);

/* Bytes of a packed block of width w: 16 * w. */
static inline size_t codec_block_bytes(unsigned width)
{
    return (size_t)16 * width;
}

/* Pack in[0..128) (every value < 2^width) into out[0..16*width). */
void codec_pack128(const uint32_t *in, unsigned width, uint8_t *out);

/* Unpack 128 values of width `width` (0..32) from in[0..16*width).  The
 * caller has checked that the bytes are there.  Picks the fastest
 * implementation for this CPU (SSE4.1/AVX2 when present, scalar otherwise);
 * every implementation gives identical results. */
void codec_unpack128(const uint8_t *in, unsigned width, uint32_t *out);

/* The portable implementation, for tests and for comparison benchmarks. */
void codec_unpack128_scalar(const uint8_t *in, unsigned width, uint32_t *out);

/* The encoder makes at most this many exceptions (readers accept 128). */
#define CODEC_PATCHED_EXCEPTIONS 8

/* Largest encoded patched block: 3 + 16*32 + 128 + 128*4 bytes. */
#define CODEC_PATCHED_MAX (3 + 16 * 32 + 128 + 128 * 4)

/* Encode in[0..128) as a patched block at out (room for CODEC_PATCHED_MAX
 * bytes); return its size. */
size_t codec_patched_encode128(const uint32_t *in, uint8_t *out);

/* Size of the patched block at [p, end) from its header, or 0 when the
 * header is invalid or the block runs past end. */
size_t codec_patched_size(const uint8_t *p, const uint8_t *end);

/* Decode the patched block at [p, end) into out[0..128).  Returns its size
 * (0: malformed: bad header, truncated, exception indexes not increasing or
 * >= 128) and in *bits the width every value fits in (w + h). */
size_t codec_patched_decode128(const uint8_t *p, const uint8_t *end, uint32_t *out, unsigned *bits);

/* Turn document-id gaps into ids in place: gaps hold (doc[i] - doc[i-1] - 1)
 * with doc[-1] = prev, so out[i] = prev + sum_{j<=i}(gap[j] + 1).
 * Pass prev = UINT32_MAX for the first block of a list (doc[-1] = -1). */
void codec_gaps_to_docs(uint32_t *v, size_t n, uint32_t prev);

#endif
