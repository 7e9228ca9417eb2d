/* impacts.c - frontiers of (tf, length) pairs (see impacts.h). */
#include "common/impacts.h"

/* The frontier is found from the top: the largest tf (shortest length
 * among its documents), then among the documents strictly shorter than
 * that the largest tf, and so on.  Each step is one pass over the block,
 * and a block's frontier is short (it has at most one pair per distinct
 * tf), so this costs a few passes where sorting would cost more. */
static size_t frontier_desc(const uint32_t *tfs, const uint32_t *lens, size_t n, impact *out,
                            size_t cap)
{
    size_t m = 0;
    uint64_t shorter_than = (uint64_t)UINT32_MAX + 1;
    for (;;) {
        uint32_t best_tf = 0, best_len = 0;
        for (size_t k = 0; k < n; k++) {
            if (lens[k] >= shorter_than) continue;
            if (tfs[k] > best_tf || (tfs[k] == best_tf && lens[k] < best_len)) {
                best_tf = tfs[k];
                best_len = lens[k];
            }
        }
        if (best_tf == 0 || m == cap) return m;
        out[m++] = (impact){best_tf, best_len};
        shorter_than = best_len;
    }
}

size_t impacts_frontier(const uint32_t *tfs, const uint32_t *lens, size_t n, impact *out)
{
    impact all[CODEC_BLOCK];
    /* A block holds at most CODEC_BLOCK documents, so its frontier fits. */
    size_t m = frontier_desc(tfs, lens, n, all, CODEC_BLOCK);
    for (size_t i = 0; i < m / 2; i++) {
        impact t = all[i];
        all[i] = all[m - 1 - i];
        all[m - 1 - i] = t;
    }
    /* Too long: merge the neighbours whose merged pair overstates least,
     * measured as the larger of the two ratios it inflates (the lower
     * pair's tf, the upper pair's length). */
    while (m > IMPACTS_MAX) {
        size_t best = 0;
        double best_cost = 0;
        for (size_t i = 0; i + 1 < m; i++) {
            double rt = (double)all[i + 1].tf / all[i].tf;
            double rl = ((double)all[i + 1].len + 1) / ((double)all[i].len + 1);
            double cost = rt > rl ? rt : rl;
            if (i == 0 || cost < best_cost) {
                best = i;
                best_cost = cost;
            }
        }
        all[best].tf = all[best + 1].tf;
        for (size_t i = best + 1; i + 1 < m; i++) all[i] = all[i + 1];
        m--;
    }
    for (size_t i = 0; i < m; i++) out[i] = all[i];
    return m;
}

size_t impacts_encode(const impact *in, size_t n, uint8_t *out)
{
    size_t used = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t tf = i == 0 ? in[i].tf : in[i].tf - in[i - 1].tf - 1;
        uint32_t len = i == 0 ? in[i].len : in[i].len - in[i - 1].len - 1;
        used += codec_varint_put32(out + used, tf);
        used += codec_varint_put32(out + used, len);
    }
    return used;
}

/* Most values are below 128: one byte, decoded here without a call. */
static inline const uint8_t *get32(const uint8_t *p, const uint8_t *end, uint32_t *v)
{
    if (p < end && *p < 0x80) {
        *v = *p;
        return p + 1;
    }
    return codec_varint_get32(p, end, v);
}

size_t impacts_decode(const uint8_t *p, const uint8_t *end, impact *out)
{
    size_t n = 0;
    uint64_t tf = 0, len = 0;
    while (p < end) {
        uint32_t dt, dl;
        if (n == IMPACTS_MAX) return 0;
        p = get32(p, end, &dt);
        if (p) p = get32(p, end, &dl);
        if (!p) return 0;
        tf = n == 0 ? dt : tf + dt + 1;
        len = n == 0 ? dl : len + dl + 1;
        if (tf == 0 || tf > UINT32_MAX || len > UINT32_MAX) return 0;
        out[n++] = (impact){(uint32_t)tf, (uint32_t)len};
    }
    return n;
}
