#include "core/proto/bitmap.h"

#include <stdlib.h>
#include <string.h>

/* Words per chunk index, and the shift from a word index to its chunk. */
#define WORD_CHUNK_SHIFT (BITMAP_CHUNK_SHIFT - 6)

/* Bits of chunk ci (the last one may be short). */
static uint32_t chunk_bits(const struct bitmap *b, uint32_t ci)
{
    uint64_t left = (uint64_t)b->nbits - ((uint64_t)ci << BITMAP_CHUNK_SHIFT);
    return left < BITMAP_CHUNK_BITS ? (uint32_t)left : BITMAP_CHUNK_BITS;
}

static uint32_t chunk_words(const struct bitmap *b, uint32_t ci)
{
    return (chunk_bits(b, ci) + 63) / 64;
}

/* Gives uniform chunk ci its words (as it reads now). NULL (and enomem) on failure. */
static uint64_t *materialize(struct bitmap *b, uint32_t ci)
{
    uint32_t nb = chunk_bits(b, ci), nw = chunk_words(b, ci);
    uint64_t *w = malloc((size_t)nw * sizeof(uint64_t));
    if (w == NULL) {
        b->enomem = true;
        return NULL;
    }
    bool set = b->n[ci] != 0;
    memset(w, set ? 0xFF : 0, (size_t)nw * sizeof(uint64_t));
    /* Bits past nbits stay clear so that word-wise counts are exact. */
    if (set && (nb & 63))
        w[nw - 1] = (UINT64_C(1) << (nb & 63)) - 1;
    b->c[ci] = w;
    return w;
}

/* Frees chunk ci's words when its bits are all set or all clear again. */
static void settle(struct bitmap *b, uint32_t ci)
{
    if (b->n[ci] == 0 || b->n[ci] == chunk_bits(b, ci)) {
        free(b->c[ci]);
        b->c[ci] = NULL;
    }
}

int bitmap_init(struct bitmap *b, uint32_t nbits, bool set)
{
    memset(b, 0, sizeof(*b));
    uint32_t nc = (uint32_t)(((uint64_t)nbits + BITMAP_CHUNK_BITS - 1) >> BITMAP_CHUNK_SHIFT);
    b->c = calloc(nc ? nc : 1, sizeof(*b->c));
    b->n = calloc(nc ? nc : 1, sizeof(*b->n));
    if (b->c == NULL || b->n == NULL) {
        free(b->c);
        free(b->n);
        memset(b, 0, sizeof(*b));
        return BITMAP_ENOMEM;
    }
    b->nbits = nbits;
    b->nchunks = nc;
    bitmap_fill(b, set);
    return 0;
}

void bitmap_free(struct bitmap *b)
{
    for (uint32_t ci = 0; b->c != NULL && ci < b->nchunks; ci++)
        free(b->c[ci]);
    free(b->c);
    free(b->n);
    memset(b, 0, sizeof(*b));
}

void bitmap_fill(struct bitmap *b, bool set)
{
    for (uint32_t ci = 0; ci < b->nchunks; ci++) {
        free(b->c[ci]);
        b->c[ci] = NULL;
        b->n[ci] = set ? chunk_bits(b, ci) : 0;
    }
}

bool bitmap_test_clear(struct bitmap *b, uint32_t i)
{
    uint32_t ci = i >> BITMAP_CHUNK_SHIFT;
    uint64_t *w = b->c[ci];
    if (w == NULL) {
        if (b->n[ci] == 0)
            return false; /* all clear already */
        if ((w = materialize(b, ci)) == NULL)
            return false;
    }
    uint64_t m = UINT64_C(1) << (i & 63), *p = &w[(i >> 6) & (BITMAP_CHUNK_WORDS - 1)];
    if (!(*p & m))
        return false;
    *p &= ~m;
    b->n[ci]--;
    settle(b, ci);
    return true;
}

/* Word wi of the map (bit 64·wi upwards); 0 past the end. */
static uint64_t word(const struct bitmap *b, uint64_t wi)
{
    uint64_t ci = wi >> WORD_CHUNK_SHIFT;
    if (ci >= b->nchunks)
        return 0;
    const uint64_t *w = b->c[ci];
    uint64_t k = wi & (BITMAP_CHUNK_WORDS - 1);
    if (w != NULL) /* the last chunk holds only chunk_words() words */
        return k < chunk_words(b, (uint32_t)ci) ? w[k] : 0;
    if (b->n[ci] == 0)
        return 0;
    uint64_t bit0 = wi << 6;
    if (bit0 + 64 <= b->nbits)
        return ~UINT64_C(0);
    return bit0 >= b->nbits ? 0 : (UINT64_C(1) << (b->nbits - bit0)) - 1;
}

uint32_t bitmap_next_set(const struct bitmap *b, uint32_t from)
{
    if (from >= b->nbits)
        return b->nbits;
    for (uint32_t ci = from >> BITMAP_CHUNK_SHIFT; ci < b->nchunks; ci++) {
        uint64_t base = (uint64_t)ci << BITMAP_CHUNK_SHIFT;
        uint32_t lo = from > base ? (uint32_t)(from - base) : 0;
        const uint64_t *w = b->c[ci];
        if (w == NULL) {
            if (b->n[ci] != 0)
                return (uint32_t)(base + lo);
            continue;
        }
        uint32_t wi = lo >> 6, nw = chunk_words(b, ci);
        uint64_t v = w[wi] & (~UINT64_C(0) << (lo & 63));
        for (;;) {
            if (v != 0) {
                uint64_t i = base + ((uint64_t)wi << 6) + (uint64_t)__builtin_ctzll(v);
                return i < b->nbits ? (uint32_t)i : b->nbits;
            }
            if (++wi >= nw)
                break;
            v = w[wi];
        }
    }
    return b->nbits;
}

/* The 64 bits starting at bit `pos` (bits past the map read as 0). */
static uint64_t get64(const struct bitmap *b, uint64_t pos)
{
    uint64_t wi = pos >> 6;
    unsigned sh = pos & 63;
    uint64_t v = word(b, wi) >> sh;
    if (sh != 0)
        v |= word(b, wi + 1) << (64 - sh);
    return v;
}

/* ORs v into word wi, keeping the chunk's count. */
static void or_word(struct bitmap *b, uint64_t wi, uint64_t v)
{
    if (v == 0)
        return;
    uint32_t ci = (uint32_t)(wi >> WORD_CHUNK_SHIFT);
    uint64_t *w = b->c[ci];
    if (w == NULL) {
        if (b->n[ci] != 0)
            return; /* all set already */
        if ((w = materialize(b, ci)) == NULL)
            return;
    }
    uint64_t *p = &w[wi & (BITMAP_CHUNK_WORDS - 1)];
    uint64_t add = v & ~*p;
    if (add == 0)
        return;
    *p |= add;
    b->n[ci] += (uint32_t)__builtin_popcountll(add);
    settle(b, ci);
}

void bitmap_set(struct bitmap *b, uint32_t i)
{
    or_word(b, i >> 6, UINT64_C(1) << (i & 63));
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
        or_word(b, wi, v << sh);
        if (sh != 0)
            or_word(b, wi + 1, v >> (64 - sh));
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

size_t bitmap_mem(const struct bitmap *b)
{
    size_t m = 0;
    for (uint32_t ci = 0; ci < b->nchunks; ci++)
        if (b->c[ci] != NULL)
            m += (size_t)chunk_words(b, ci) * sizeof(uint64_t);
    return m;
}
