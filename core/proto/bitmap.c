#include "core/proto/bitmap.h"

#include <stdlib.h>
#include <string.h>

int bitmap_init(struct bitmap *b, uint32_t nbits, bool set)
{
    b->nbits = nbits;
    b->nwords = (uint32_t)(((uint64_t)nbits + 63) / 64);
    b->w = calloc(b->nwords ? b->nwords : 1, sizeof(uint64_t));
    if (b->w == NULL) {
        b->nbits = b->nwords = 0;
        return BITMAP_ENOMEM;
    }
    if (set)
        bitmap_fill(b, true);
    return 0;
}

void bitmap_free(struct bitmap *b)
{
    free(b->w);
    b->w = NULL;
    b->nbits = b->nwords = 0;
}

void bitmap_fill(struct bitmap *b, bool set)
{
    if (b->nwords == 0)
        return;
    memset(b->w, set ? 0xFF : 0, (size_t)b->nwords * sizeof(uint64_t));
    /* Keep the bits past nbits clear so word-wise counts stay exact. */
    if (set && (b->nbits & 63))
        b->w[b->nwords - 1] = (UINT64_C(1) << (b->nbits & 63)) - 1;
}

uint32_t bitmap_next_set(const struct bitmap *b, uint32_t from)
{
    if (from >= b->nbits)
        return b->nbits;
    uint32_t wi = from >> 6;
    uint64_t w = b->w[wi] & (~UINT64_C(0) << (from & 63));
    for (;;) {
        if (w != 0) {
            uint32_t i = (wi << 6) + (uint32_t)__builtin_ctzll(w);
            return i < b->nbits ? i : b->nbits;
        }
        if (++wi >= b->nwords)
            return b->nbits;
        w = b->w[wi];
    }
}

/* The 64 bits starting at bit `pos` (bits past the map read as 0). */
static uint64_t get64(const struct bitmap *b, uint64_t pos)
{
    uint64_t wi = pos >> 6;
    unsigned sh = pos & 63;
    if (wi >= b->nwords)
        return 0;
    uint64_t v = b->w[wi] >> sh;
    if (sh != 0 && wi + 1 < b->nwords)
        v |= b->w[wi + 1] << (64 - sh);
    return v;
}

static uint64_t low_mask(uint32_t n)
{
    return n >= 64 ? ~UINT64_C(0) : (UINT64_C(1) << n) - 1;
}

static uint32_t clamp_len(const struct bitmap *b, uint32_t start, uint32_t n)
{
    if (start >= b->nbits)
        return 0;
    return n > b->nbits - start ? b->nbits - start : n;
}

uint32_t bitmap_count(const struct bitmap *b, uint32_t start, uint32_t n)
{
    n = clamp_len(b, start, n);
    uint32_t c = 0;
    for (uint32_t k = 0; k < n; k += 64) {
        uint32_t m = n - k < 64 ? n - k : 64;
        c += (uint32_t)__builtin_popcountll(get64(b, (uint64_t)start + k) & low_mask(m));
    }
    return c;
}

uint32_t bitmap_extract(const struct bitmap *b, uint32_t start, uint32_t n, uint8_t *out,
                        size_t outlen)
{
    memset(out, 0, outlen);
    n = clamp_len(b, start, n);
    if ((uint64_t)n > (uint64_t)outlen * 8)
        n = (uint32_t)(outlen * 8);
    uint32_t c = 0;
    for (uint32_t k = 0; k < n; k += 64) {
        uint32_t m = n - k < 64 ? n - k : 64;
        uint64_t v = get64(b, (uint64_t)start + k) & low_mask(m);
        c += (uint32_t)__builtin_popcountll(v);
        size_t j = k / 8;
        for (uint32_t byte = 0; byte < (m + 7) / 8; byte++)
            out[j + byte] = (uint8_t)(v >> (8 * byte));
    }
    return c;
}

uint32_t bitmap_or_bytes(struct bitmap *b, uint32_t start, uint32_t n, const uint8_t *in,
                         size_t inlen)
{
    n = clamp_len(b, start, n);
    if ((uint64_t)n > (uint64_t)inlen * 8)
        n = (uint32_t)(inlen * 8);
    uint32_t c = 0;
    for (uint32_t k = 0; k < n; k += 64) {
        uint32_t m = n - k < 64 ? n - k : 64;
        uint64_t v = 0;
        size_t j = k / 8;
        for (uint32_t byte = 0; byte < (m + 7) / 8; byte++)
            v |= (uint64_t)in[j + byte] << (8 * byte);
        v &= low_mask(m);
        if (v == 0)
            continue;
        c += (uint32_t)__builtin_popcountll(v);
        uint64_t pos = (uint64_t)start + k;
        uint64_t wi = pos >> 6;
        unsigned sh = pos & 63;
        b->w[wi] |= v << sh;
        if (sh != 0 && (v >> (64 - sh)) != 0)
            b->w[wi + 1] |= v >> (64 - sh);
    }
    return c;
}

uint32_t bitmap_bytes_count(const uint8_t *in, size_t inlen, uint32_t n)
{
    if ((uint64_t)n > (uint64_t)inlen * 8)
        n = (uint32_t)(inlen * 8);
    uint32_t c = 0;
    size_t full = n / 8;
    for (size_t j = 0; j < full; j++)
        c += (uint32_t)__builtin_popcount(in[j]);
    if (n % 8)
        c += (uint32_t)__builtin_popcount(in[full] & ((1u << (n % 8)) - 1));
    return c;
}
