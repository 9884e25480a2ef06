/*
 * Block bitmaps: one bit per block of a file (spec §1.5), for the
 * receiver's "still missing" map and the sender's "to send this pass" map.
 *
 * Memory follows the blocks in flight, not the file size (issue 8: a 4 GiB
 * file must not need more memory than a 256 MiB one). The bits live in
 * chunks of BITMAP_CHUNK_BITS (4 KiB each); a chunk whose bits are all set
 * or all clear takes no memory, a count says which. A transfer in order
 * holds one or two chunks; loss spread over the whole file needs up to
 * nbits/8 bytes, as a flat map would. A chunk is allocated when its first
 * bit changes and freed when it is uniform again. If that allocation fails
 * the bit keeps its old value and the map's sticky `enomem` flag is set:
 * callers that change bits check bitmap_ok().
 *
 * Nothing here allocates per packet (one chunk per 32768 blocks, 40 MB of
 * data). Single-bit operations are O(1). Section-sized transfers to and
 * from the STATUS NAK bitmap (bit k of byte j = block j·8+k, LSB first,
 * spec §1.4) work a 64-bit word at a time whatever the section's bit
 * alignment.
 */
#ifndef UFTP_PROTO_BITMAP_H
#define UFTP_PROTO_BITMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum bitmap_err {
    BITMAP_ENOMEM = -1,
};

#define BITMAP_CHUNK_SHIFT 15
#define BITMAP_CHUNK_BITS  (UINT32_C(1) << BITMAP_CHUNK_SHIFT)
#define BITMAP_CHUNK_WORDS (BITMAP_CHUNK_BITS / 64)

struct bitmap {
    uint64_t **c; /* per chunk: its words (bits past nbits are 0), or NULL when uniform */
    uint32_t *n;  /* per chunk: set bits; a NULL chunk has 0 or all */
    uint32_t nbits;
    uint32_t nchunks;
    bool enomem; /* a chunk could not be allocated: some change was lost */
};

/* Allocates nbits bits (0 allowed), all set when `set`. Errors: BITMAP_ENOMEM. */
int bitmap_init(struct bitmap *b, uint32_t nbits, bool set);
void bitmap_free(struct bitmap *b);
/* Sets (or clears) every bit, freeing every chunk. */
void bitmap_fill(struct bitmap *b, bool set);

/* False once a change was lost for want of memory (sticky). */
static inline bool bitmap_ok(const struct bitmap *b)
{
    return !b->enomem;
}

static inline bool bitmap_get(const struct bitmap *b, uint32_t i)
{
    const uint64_t *w = b->c[i >> BITMAP_CHUNK_SHIFT];
    if (w == NULL)
        return b->n[i >> BITMAP_CHUNK_SHIFT] != 0;
    return (w[(i >> 6) & (BITMAP_CHUNK_WORDS - 1)] >> (i & 63)) & 1;
}

void bitmap_set(struct bitmap *b, uint32_t i);
/* Clears bit i; returns whether it was set (and is now clear). */
bool bitmap_test_clear(struct bitmap *b, uint32_t i);

static inline void bitmap_clear(struct bitmap *b, uint32_t i)
{
    (void)bitmap_test_clear(b, i);
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

/* Bytes of chunks allocated now (for tests and statistics). */
size_t bitmap_mem(const struct bitmap *b);

#endif
