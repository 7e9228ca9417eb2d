/*
 * codec.c - variable-byte integers and 128-integer bit-packed blocks (see
 * codec.h).
 *
 * Varints are LEB128: seven payload bits per byte, least significant group
 * first, the high bit set on every byte except the last.  Decoders accept
 * non-minimal encodings (0x80 0x00 is 0) but reject values that do not fit:
 * for a u32 the fifth byte may carry only the top four bits (so it must be
 * <= 0x0f, which also rules out a continuation bit), for a u64 the tenth byte
 * only the top bit (<= 0x01).
 *
 * A packed block holds 128 integers of w bits (0..32) in 16*w bytes.  Integer
 * i goes to lane i % 4 as that lane's value j = i / 4, at bit offset j*w of
 * the lane's bit stream.  The stream is cut into 32-bit words, filled from
 * bit 0 up; a value that crosses a word boundary keeps its low bits in word
 * k and its high bits at the bottom of word k + 1.  Word k of lane l is
 * stored, little-endian, at byte 16*k + 4*l.  So each 16-byte row holds word
 * k of all four lanes and one 128-bit load feeds four values at once:
 *
 *     bytes  0..15   lane0.word0 lane1.word0 lane2.word0 lane3.word0
 *     bytes 16..31   lane0.word1 lane1.word1 lane2.word1 lane3.word1
 *     ...            (w rows in all)
 *
 * Value j of every lane sits at the same bit offset, so the scalar code and
 * the SIMD code both walk j = 0..31 and handle the four lanes together.
 * Every width has its own fully unrolled routine: each implementation is an
 * always-inline function of the width whose 32 steps are written out by a
 * macro, instantiated once per constant width 1..32 and reached through a
 * table indexed by width.  So shifts, masks and "does it cross a word" tests
 * are all resolved at compile time and there is no branch per value.  The
 * packer masks each input to w bits, so an out-of-range value cannot spill
 * into its neighbours; a width over 32 (outside the contract) is treated as
 * 0 rather than read out of bounds.
 *
 * codec_unpack128 and codec_gaps_to_docs each pick an implementation on
 * their first call (AVX2, SSE2 or portable C, by what the CPU supports) and
 * then call it through a pointer, one indirect call per block.  The x86
 * versions use target attributes, so the file needs no -m flags.  Every
 * implementation gives exactly the portable one's results
 * (codec_unpack128_scalar for blocks).
 */
#include "common/codec.h"

#include <stdatomic.h>
#include <string.h>

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#define CODEC_X86 1
#include <immintrin.h>
#else
#define CODEC_X86 0
#endif

#define ALWAYS_INLINE static inline __attribute__((always_inline))

/* ---- little-endian words ------------------------------------------------- */

ALWAYS_INLINE uint32_t load_le32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, sizeof v);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap32(v);
#endif
    return v;
}

ALWAYS_INLINE void store_le32(uint8_t *p, uint32_t v)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap32(v);
#endif
    memcpy(p, &v, sizeof v);
}

/* ---- varints ------------------------------------------------------------- */

size_t codec_varint_put32(uint8_t *out, uint32_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        out[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    out[n++] = (uint8_t)v;
    return n;
}

size_t codec_varint_put64(uint8_t *out, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        out[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    out[n++] = (uint8_t)v;
    return n;
}

const uint8_t *codec_varint_get32_long(const uint8_t *p, const uint8_t *end, uint32_t *v)
{
    uint32_t r = 0;
    for (unsigned shift = 0; shift < 28; shift += 7) {
        if (p >= end) return NULL;
        uint32_t b = *p++;
        r |= (b & 0x7f) << shift;
        if (b < 0x80) {
            *v = r;
            return p;
        }
    }
    /* Fifth byte: only bits 28..31 are left, and it must be the last. */
    if (p >= end || *p > 0x0f) return NULL;
    *v = r | (uint32_t)*p << 28;
    return p + 1;
}

const uint8_t *codec_varint_get64_long(const uint8_t *p, const uint8_t *end, uint64_t *v)
{
    uint64_t r = 0;
    for (unsigned shift = 0; shift < 63; shift += 7) {
        if (p >= end) return NULL;
        uint64_t b = *p++;
        r |= (b & 0x7f) << shift;
        if (b < 0x80) {
            *v = r;
            return p;
        }
    }
    /* Tenth byte: only bit 63 is left, and it must be the last. */
    if (p >= end || *p > 0x01) return NULL;
    *v = r | (uint64_t)*p << 63;
    return p + 1;
}

const uint8_t *codec_varint_skip(const uint8_t *p, const uint8_t *end, size_t n)
{
    /* Eight bytes at a time: a varint ends at each byte whose high bit is
     * clear, so count those and jump over the word while it holds fewer ends
     * than are left to skip.  The word holding the n-th end is finished a
     * byte at a time. */
    while (n > 0 && end - p >= 8) {
        uint64_t w;
        memcpy(&w, p, sizeof w); /* byte order does not matter for a count */
        const uint64_t ends = (~w & 0x8080808080808080ull) >> 7;
        const size_t c = (size_t)((ends * 0x0101010101010101ull) >> 56);
        if (c >= n) break;
        n -= c;
        p += 8;
    }
    while (n > 0) {
        if (p >= end) return NULL;
        n -= !(*p++ & 0x80);
    }
    return p;
}

/* ---- bit widths ---------------------------------------------------------- */

unsigned codec_bits_needed(const uint32_t *in, size_t n)
{
    uint32_t acc = 0;
    for (size_t i = 0; i < n; i++) acc |= in[i];
    return acc ? 32u - (unsigned)__builtin_clz(acc) : 0u;
}

/* ---- block helpers ------------------------------------------------------- */

/* REP32(X) expands X(0) .. X(31): the 32 values of a lane, unrolled.
 * FOR_WIDTHS(X) expands X(1) .. X(32), to define a routine per width. */
/* clang-format off */
#define REP8(X, b) X((b) + 0) X((b) + 1) X((b) + 2) X((b) + 3) \
                   X((b) + 4) X((b) + 5) X((b) + 6) X((b) + 7)
#define REP32(X)   REP8(X, 0) REP8(X, 8) REP8(X, 16) REP8(X, 24)

#define FOR_WIDTHS(X) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11) X(12) X(13) \
                      X(14) X(15) X(16) X(17) X(18) X(19) X(20) X(21) X(22) X(23) X(24) \
                      X(25) X(26) X(27) X(28) X(29) X(30) X(31) X(32)
/* clang-format on */

/* A block routine for one width; tables of them are indexed by width. */
typedef void (*pack_block_fn)(const uint32_t *in, uint8_t *out);
typedef void (*unpack_block_fn)(const uint8_t *in, uint32_t *out);

/* Width 0 (and, defensively, any width over 32): no bytes, all zeros. */
static void pack_0(const uint32_t *in, uint8_t *out)
{
    (void)in;
    (void)out;
}

static void unpack_0(const uint8_t *in, uint32_t *out)
{
    (void)in;
    memset(out, 0, CODEC_BLOCK * sizeof *out);
}

static inline unsigned table_index(unsigned width)
{
    return width <= 32 ? width : 0;
}

/* The low w bits set (w = 0..32). */
#define WIDTH_MASK(w) ((uint32_t)((1ull << (w)) - 1u))

/* ---- packing (scalar) ---------------------------------------------------- */

/* Value j of each lane: or it into the lane's current word; when it reaches
 * the end of that word, store the word and carry its high bits (if any) into
 * the next one.  With w constant every test here folds away. */
#define PACK_LANE(j, l)                                                                            \
    {                                                                                              \
        const unsigned s_ = ((j)*w) & 31, k_ = ((j)*w) >> 5;                                       \
        const uint32_t x = in[4 * (j) + (l)] & mask;                                               \
        acc##l |= x << s_;                                                                         \
        if (s_ + w >= 32) {                                                                        \
            store_le32(out + 16 * k_ + 4 * (l), acc##l);                                           \
            acc##l = s_ + w > 32 ? x >> ((32 - s_) & 31) : 0;                                      \
        }                                                                                          \
    }
#define PACK_STEP(j) PACK_LANE(j, 0) PACK_LANE(j, 1) PACK_LANE(j, 2) PACK_LANE(j, 3)

ALWAYS_INLINE void pack_w(const uint32_t *in, uint8_t *out, const unsigned w)
{
    const uint32_t mask = WIDTH_MASK(w);
    uint32_t acc0 = 0, acc1 = 0, acc2 = 0, acc3 = 0;
    REP32(PACK_STEP)
}

#define PACK_DEFINE(w)                                                                             \
    static void pack_##w(const uint32_t *in, uint8_t *out)                                         \
    {                                                                                              \
        pack_w(in, out, w);                                                                        \
    }
#define PACK_ENTRY(w) pack_##w,
FOR_WIDTHS(PACK_DEFINE)
static const pack_block_fn pack_by_width[33] = {pack_0, FOR_WIDTHS(PACK_ENTRY)};

void codec_pack128(const uint32_t *in, unsigned width, uint8_t *out)
{
    pack_by_width[table_index(width)](in, out);
}

/* ---- unpacking (scalar) -------------------------------------------------- */

/* Value j of each lane starts at bit j*w: word k_ = j*w / 32, shift s_; when
 * it crosses into word k_ + 1 the high bits come from there. */
#define UNPACK_LANE(j, l)                                                                          \
    {                                                                                              \
        const unsigned s_ = ((j)*w) & 31, k_ = ((j)*w) >> 5;                                       \
        uint32_t x = load_le32(in + 16 * k_ + 4 * (l)) >> s_;                                      \
        if (s_ + w > 32) x |= load_le32(in + 16 * (k_ + 1) + 4 * (l)) << ((32 - s_) & 31);         \
        out[4 * (j) + (l)] = x & mask;                                                             \
    }
#define UNPACK_STEP(j) UNPACK_LANE(j, 0) UNPACK_LANE(j, 1) UNPACK_LANE(j, 2) UNPACK_LANE(j, 3)

ALWAYS_INLINE void unpack_w(const uint8_t *in, uint32_t *out, const unsigned w)
{
    const uint32_t mask = WIDTH_MASK(w);
    REP32(UNPACK_STEP)
}

#define SCALAR_DEFINE(w)                                                                           \
    static void unpack_scalar_##w(const uint8_t *in, uint32_t *out)                                \
    {                                                                                              \
        unpack_w(in, out, w);                                                                      \
    }
#define SCALAR_ENTRY(w) unpack_scalar_##w,
FOR_WIDTHS(SCALAR_DEFINE)
static const unpack_block_fn unpack_scalar_by_width[33] = {unpack_0, FOR_WIDTHS(SCALAR_ENTRY)};

void codec_unpack128_scalar(const uint8_t *in, unsigned width, uint32_t *out)
{
    unpack_scalar_by_width[table_index(width)](in, out);
}

/* ---- unpacking (x86 SIMD) ------------------------------------------------ */

#if CODEC_X86

/* SSE2: one 128-bit row is word k of the four lanes, so value j of all four
 * lanes is one shift (plus a shift and an or when it crosses into the next
 * row) and a mask, and one 16-byte store. */
#define SSE_STEP(j)                                                                                \
    {                                                                                              \
        const unsigned s_ = ((j)*w) & 31, k_ = ((j)*w) >> 5;                                       \
        __m128i x = _mm_srli_epi32(_mm_loadu_si128((const __m128i *)(in + 16 * k_)), (int)s_);     \
        if (s_ + w > 32)                                                                           \
            x = _mm_or_si128(                                                                      \
                x, _mm_slli_epi32(_mm_loadu_si128((const __m128i *)(in + 16 * (k_ + 1))),          \
                                  (int)((32 - s_) & 31)));                                         \
        if (s_ + w != 32) x = _mm_and_si128(x, mask);                                              \
        _mm_storeu_si128((__m128i *)(out + 4 * (j)), x);                                           \
    }

__attribute__((always_inline, target("sse2"))) static inline void
unpack_sse2_w(const uint8_t *in, uint32_t *out, const unsigned w)
{
    const __m128i mask = _mm_set1_epi32((int)WIDTH_MASK(w));
    REP32(SSE_STEP)
}

#define SSE2_DEFINE(w)                                                                             \
    __attribute__((target("sse2"))) static void unpack_sse2_##w(const uint8_t *in, uint32_t *out)  \
    {                                                                                              \
        unpack_sse2_w(in, out, w);                                                                 \
    }
#define SSE2_ENTRY(w) unpack_sse2_##w,
FOR_WIDTHS(SSE2_DEFINE)
static const unpack_block_fn unpack_sse2_by_width[33] = {unpack_0, FOR_WIDTHS(SSE2_ENTRY)};

/* AVX2: values j and j+1 of the four lanes in one 256-bit register, the low
 * half for j and the high half for j+1, lined up by per-half variable shifts.
 * Since w <= 32 the two values sit in the same row or in consecutive rows,
 * so their rows come from one broadcast or one 32-byte load, never an
 * insert.  For the high bits of a value that crosses into the next row, the
 * half that does not cross takes any row in range (its own, or one that
 * keeps the pair consecutive) and a shift count of 32, which vpsllvd turns
 * into zero; nothing past the block is read.
 *
 * Pairs are used at every width.  At odd widths from 11 up the SSE2 steps
 * alone measured 5-15% faster (AMD Zen 5; the pairs load two shift-count
 * constants per store), but a block of doc gaps goes straight on to
 * codec_gaps_to_docs, whose 32-byte loads cannot be forwarded from 16-byte
 * stores: unpack + prefix sum was then ~25% slower. */
#define AVX2_PAIR(j)                                                                               \
    {                                                                                              \
        const unsigned s0 = ((j)*w) & 31, k0 = ((j)*w) >> 5;                                       \
        const unsigned s1 = (((j) + 1) * w) & 31, k1 = (((j) + 1) * w) >> 5;                       \
        const int c0 = s0 + w > 32, c1 = s1 + w > 32;                                              \
        __m256i x = row_pair(in, k0, k1);                                                          \
        x = _mm256_srlv_epi32(x, _mm256_setr_epi32(s0, s0, s0, s0, s1, s1, s1, s1));               \
        if (c0 || c1) {                                                                            \
            const unsigned t0 = c0 ? 32 - s0 : 32, t1 = c1 ? 32 - s1 : 32;                         \
            const unsigned a = c0 ? k0 + 1 : k1, b = c1 ? k1 + 1 : a;                              \
            __m256i y = row_pair(in, a, b);                                                        \
            y = _mm256_sllv_epi32(y, _mm256_setr_epi32(t0, t0, t0, t0, t1, t1, t1, t1));           \
            x = _mm256_or_si256(x, y);                                                             \
        }                                                                                          \
        if (w != 32) x = _mm256_and_si256(x, mask);                                                \
        _mm256_storeu_si256((__m256i *)(out + 4 * (j)), x);                                        \
    }
#define AVX2_STEP(j) AVX2_PAIR(2 * (j))

/* Row a in the low half, row b (a or a + 1) in the high half. */
__attribute__((always_inline, target("avx2"))) static inline __m256i
row_pair(const uint8_t *in, unsigned a, unsigned b)
{
    if (a == b) return _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)(in + 16 * a)));
    return _mm256_loadu_si256((const __m256i *)(in + 16 * a));
}

__attribute__((always_inline, target("avx2"))) static inline void
unpack_avx2_w(const uint8_t *in, uint32_t *out, const unsigned w)
{
    const __m256i mask = _mm256_set1_epi32((int)WIDTH_MASK(w));
    REP8(AVX2_STEP, 0) REP8(AVX2_STEP, 8)
}

#define AVX2_DEFINE(w)                                                                             \
    __attribute__((target("avx2"))) static void unpack_avx2_##w(const uint8_t *in, uint32_t *out)  \
    {                                                                                              \
        unpack_avx2_w(in, out, w);                                                                 \
    }
#define AVX2_ENTRY(w) unpack_avx2_##w,
FOR_WIDTHS(AVX2_DEFINE)
static const unpack_block_fn unpack_avx2_by_width[33] = {unpack_0, FOR_WIDTHS(AVX2_ENTRY)};

#endif /* CODEC_X86 */

/* ---- gaps to document ids ------------------------------------------------ */

/* Arithmetic is mod 2^32 throughout, so prev = UINT32_MAX makes the first id
 * gap[0], as the header asks. */
static void gaps_to_docs_scalar(uint32_t *v, size_t n, uint32_t prev)
{
    for (size_t i = 0; i < n; i++) {
        prev += v[i] + 1;
        v[i] = prev;
    }
}

#if CODEC_X86

/* Four at a time: an in-register prefix sum of the gaps (add the vector
 * shifted by one lane, then by two), plus 1, 2, 3, 4 for the "+ 1" of each
 * gap, gives the ids relative to the previous group; adding the running id
 * finishes them.  The running id grows by the group's total, which does not
 * depend on the running id, so the loop-carried chain is a single add. */
__attribute__((target("sse2"))) static void gaps_to_docs_sse2(uint32_t *v, size_t n, uint32_t prev)
{
    const __m128i ramp = _mm_setr_epi32(1, 2, 3, 4);
    __m128i run = _mm_set1_epi32((int)prev);
    const size_t n4 = n & ~(size_t)3;
    size_t i = 0;
    for (; i < n4; i += 4) {
        __m128i x = _mm_loadu_si128((const __m128i *)(v + i));
        x = _mm_add_epi32(x, _mm_slli_si128(x, 4));
        x = _mm_add_epi32(x, _mm_slli_si128(x, 8));
        x = _mm_add_epi32(x, ramp);
        const __m128i total = _mm_shuffle_epi32(x, 0xff);
        _mm_storeu_si128((__m128i *)(v + i), _mm_add_epi32(x, run));
        run = _mm_add_epi32(run, total);
    }
    gaps_to_docs_scalar(v + i, n - i, (uint32_t)_mm_cvtsi128_si32(run));
}

/* The same eight at a time: prefix sums within each 128-bit half, then the
 * low half's total added to the high half, then 1..8 and the running id. */
__attribute__((target("avx2"))) static void gaps_to_docs_avx2(uint32_t *v, size_t n, uint32_t prev)
{
    const __m256i ramp = _mm256_setr_epi32(1, 2, 3, 4, 5, 6, 7, 8);
    const __m256i last = _mm256_set1_epi32(7);
    __m256i run = _mm256_set1_epi32((int)prev);
    const size_t n8 = n & ~(size_t)7;
    size_t i = 0;
    for (; i < n8; i += 8) {
        __m256i x = _mm256_loadu_si256((const __m256i *)(v + i));
        x = _mm256_add_epi32(x, _mm256_slli_si256(x, 4));
        x = _mm256_add_epi32(x, _mm256_slli_si256(x, 8));
        const __m256i half = _mm256_shuffle_epi32(x, 0xff);
        x = _mm256_add_epi32(x, _mm256_permute2x128_si256(half, half, 0x08));
        x = _mm256_add_epi32(x, ramp);
        const __m256i total = _mm256_permutevar8x32_epi32(x, last);
        _mm256_storeu_si256((__m256i *)(v + i), _mm256_add_epi32(x, run));
        run = _mm256_add_epi32(run, total);
    }
    gaps_to_docs_scalar(v + i, n - i, (uint32_t)_mm256_cvtsi256_si32(run));
}

#endif /* CODEC_X86 */

/* ---- dispatch ------------------------------------------------------------ */

/* Each entry point finds its implementation through a pointer that is NULL
 * until the first call sets it for this CPU.  Racing first calls all store
 * the same value; the atomics (relaxed: the value is all that matters) keep
 * that well defined, and on x86 a relaxed load is a plain load. */

enum { ISA_PORTABLE, ISA_SSE2, ISA_AVX2 };

static int cpu_isa(void)
{
#if CODEC_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2")) return ISA_AVX2;
    if (__builtin_cpu_supports("sse2")) return ISA_SSE2;
#endif
    return ISA_PORTABLE;
}

typedef void (*gaps_fn)(uint32_t *v, size_t n, uint32_t prev);

static _Atomic(const unpack_block_fn *) unpack_table;
static _Atomic(gaps_fn) gaps_impl;

static const unpack_block_fn *unpack_table_resolve(void)
{
    const unpack_block_fn *t = unpack_scalar_by_width;
#if CODEC_X86
    int isa = cpu_isa();
    if (isa == ISA_AVX2) t = unpack_avx2_by_width;
    if (isa == ISA_SSE2) t = unpack_sse2_by_width;
#endif
    atomic_store_explicit(&unpack_table, t, memory_order_relaxed);
    return t;
}

static gaps_fn gaps_resolve(void)
{
    gaps_fn f = gaps_to_docs_scalar;
#if CODEC_X86
    int isa = cpu_isa();
    if (isa == ISA_AVX2) f = gaps_to_docs_avx2;
    if (isa == ISA_SSE2) f = gaps_to_docs_sse2;
#endif
    atomic_store_explicit(&gaps_impl, f, memory_order_relaxed);
    return f;
}

void codec_unpack128(const uint8_t *in, unsigned width, uint32_t *out)
{
    const unpack_block_fn *t = atomic_load_explicit(&unpack_table, memory_order_relaxed);
    if (__builtin_expect(t == NULL, 0)) t = unpack_table_resolve();
    t[table_index(width)](in, out);
}

void codec_gaps_to_docs(uint32_t *v, size_t n, uint32_t prev)
{
    gaps_fn f = atomic_load_explicit(&gaps_impl, memory_order_relaxed);
    if (__builtin_expect(f == NULL, 0)) f = gaps_resolve();
    f(v, n, prev);
}

/* ---- patched blocks ---- */

size_t codec_patched_encode128(const uint32_t *in, uint8_t *out)
{
    unsigned count[33] = {0}, maxb = 0;
    for (int k = 0; k < CODEC_BLOCK; k++) {
        unsigned b = in[k] ? 32 - (unsigned)__builtin_clz(in[k]) : 0;
        count[b]++;
        if (b > maxb) maxb = b;
    }
    /* Bytes for each low width w: the packed block, one index and h bits
     * per value above w bits.  At most CODEC_PATCHED_EXCEPTIONS exceptions:
     * each costs the decoder more than a packed value. */
    unsigned best = maxb, above = 0;
    size_t best_size = codec_block_bytes(maxb);
    for (unsigned w = maxb; w-- > 0;) {
        above += count[w + 1];
        if (above > CODEC_PATCHED_EXCEPTIONS) break;
        size_t size = codec_block_bytes(w) + above + (above * (maxb - w) + 7) / 8;
        if (size < best_size) {
            best_size = size;
            best = w;
        }
    }
    unsigned w = best, e = 0;
    uint32_t low[CODEC_BLOCK];
    uint8_t *idx = out + 3 + codec_block_bytes(w);
    for (int k = 0; k < CODEC_BLOCK; k++) {
        low[k] = w == 32 ? in[k] : in[k] & ((1u << w) - 1);
        if (w < 32 && in[k] >> w) idx[e++] = (uint8_t)k;
    }
    unsigned h = e ? maxb - w : 0;
    out[0] = (uint8_t)w;
    out[1] = (uint8_t)e;
    out[2] = (uint8_t)h;
    codec_pack128(low, w, out + 3);
    uint8_t *hp = idx + e;
    uint64_t acc = 0;
    unsigned have = 0;
    for (unsigned k = 0; k < e; k++) {
        acc |= (uint64_t)(in[idx[k]] >> w) << have;
        have += h;
        while (have >= 8) {
            *hp++ = (uint8_t)acc;
            acc >>= 8;
            have -= 8;
        }
    }
    if (have) *hp++ = (uint8_t)acc;
    return (size_t)(hp - out);
}

size_t codec_patched_size(const uint8_t *p, const uint8_t *end)
{
    if (end - p < 3) return 0;
    unsigned w = p[0], e = p[1], h = p[2];
    if (w > 32 || e > CODEC_BLOCK || h > 32 - w || (e > 0) != (h > 0)) return 0;
    size_t size = 3 + codec_block_bytes(w) + e + (e * h + 7) / 8;
    return size <= (size_t)(end - p) ? size : 0;
}

size_t codec_patched_decode128(const uint8_t *p, const uint8_t *end, uint32_t *out, unsigned *bits)
{
    if (end - p < 3) return 0;
    unsigned w = p[0], e = p[1], h = p[2];
    if (w > 32 || e > CODEC_BLOCK || h > 32 - w || (e > 0) != (h > 0)) return 0;
    size_t size = 3 + codec_block_bytes(w) + e + (e * h + 7) / 8;
    if (size > (size_t)(end - p)) return 0;
    codec_unpack128(p + 3, w, out);
    *bits = w + h;
    if (e == 0) return size;
    const uint8_t *idx = p + 3 + codec_block_bytes(w), *hp = idx + e;
    uint64_t acc = 0, mask = (1ull << h) - 1;
    unsigned have = 0, prev = 0;
    for (unsigned k = 0; k < e; k++) {
        unsigned i = idx[k];
        if ((k > 0 && i <= prev) || i >= CODEC_BLOCK) return 0; /* increasing, < 128 */
        prev = i;
        while (have < h) {
            acc |= (uint64_t)*hp++ << have;
            have += 8;
        }
        out[i] |= (uint32_t)(acc & mask) << w; /* w < 32: h >= 1 */
        acc >>= h;
        have -= h;
    }
    return size;
}
