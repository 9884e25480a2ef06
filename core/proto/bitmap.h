/*
 * Block bitmaps: one bit per block of a file (spec §1.5), for the
 * receiver's "still missing" map and the sender's "to send this pass" map.
 *
 * Memory is nbits/8 bytes, allocated once per file (a 4 GiB file at 1300-byte
 * blocks needs 400 KiB); nothing here allocates per packet. Single-bit
 * operations are O(1). Section-sized transfers to and from the STATUS NAK
 * bitmap (bit k of byte j = block j·8+k, LSB first, spec §1.4) work a
 * 64-bit word at a time whatever the section's bit alignment.
 */
#ifndef UFTP_PROTO_BITMAP_H
#define UFTP_PROTO_BITMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum bitmap_err {
    BITMAP_ENOMEM = -1,
};

struct bitmap {
    uint64_t *w; /* bit i is bit i%64 of w[i/64]; bits past nbits are 0 */
    uint32_t nbits;
    uint32_t nwords;
};

/* Allocates nbits bits (0 allowed), all set when `set`. Errors: BITMAP_ENOMEM. */
int bitmap_init(struct bitmap *b, uint32_t nbits, bool set);
void bitmap_free(struct bitmap *b);
/* Sets (or clears) every bit. */
void bitmap_fill(struct bitmap *b, bool set);

static inline bool bitmap_get(const struct bitmap *b, uint32_t i)
{
    return (b->w[i >> 6] >> (i & 63)) & 1;
}

static inline void bitmap_set(struct bitmap *b, uint32_t i)
{
    b->w[i >> 6] |= UINT64_C(1) << (i & 63);
}

static inline void bitmap_clear(struct bitmap *b, uint32_t i)
{
    b->w[i >> 6] &= ~(UINT64_C(1) << (i & 63));
}

/* Clears bit i; returns whether it was set. */
static inline bool bitmap_test_clear(struct bitmap *b, uint32_t i)
{
    uint64_t m = UINT64_C(1) << (i & 63);
    bool was = (b->w[i >> 6] & m) != 0;
    b->w[i >> 6] &= ~m;
    return was;
}

/* The first set bit at or after `from`, or nbits when there is none. */
uint32_t bitmap_next_set(const struct bitmap *b, uint32_t from);

/* The number of set bits in [start, start+n) (clamped to nbits). */
uint32_t bitmap_count(const struct bitmap *b, uint32_t start, uint32_t n);

/*
 * Writes bits [start, start+n) as a STATUS NAK bitmap: out[j] bit k = bit
 * start+j·8+k. Fills out[0..outlen) (zero past the range; bits past nbits
 * read as 0). Returns the number of set bits written.
 */
uint32_t bitmap_extract(const struct bitmap *b, uint32_t start, uint32_t n, uint8_t *out,
                        size_t outlen);

/*
 * ORs a STATUS NAK bitmap into [start, start+n): bit start+j·8+k |= in[j]
 * bit k, reading at most inlen bytes (missing bytes count as 0) and never
 * touching bits outside the range or past nbits. Returns the number of set
 * bits read from the input within the range.
 */
uint32_t bitmap_or_bytes(struct bitmap *b, uint32_t start, uint32_t n, const uint8_t *in,
                         size_t inlen);

/* The number of set bits among the first n bits of a NAK byte array (at most inlen bytes). */
uint32_t bitmap_bytes_count(const uint8_t *in, size_t inlen, uint32_t n);

#endif
