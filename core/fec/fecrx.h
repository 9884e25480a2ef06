/*
 * A receiver's parity of one file (issue 17, DESIGN.md "Parity repair"):
 * which parity symbols it holds for which FEC block, the parity bytes
 * themselves, "decodable now?" and "how many more?".
 *
 * Memory follows the parity held, not the file (as core/proto/bitmap): a
 * fixed pool of `slots` parity buffers of the block size, allocated once,
 * and a hash of the FEC blocks that hold any. Source blocks are not
 * tracked here: the receiver's block bitmap already says which are held,
 * and the caller passes a FEC block's missing count (fec_layout members
 * not in its bitmap) with each parity. Nothing allocates per packet.
 *
 * A FEC block with `missing` source blocks and h parity held:
 *   decodable   h ≥ missing  (then fec_rx_take hands the parity to fec_decode)
 *   needs       missing − h more symbols (source or parity)
 * Parity beyond what a FEC block needs is not stored (FEC_RX_USELESS), so
 * h < missing always holds for a stored FEC block and no block holds more
 * than k − 1 parity. When the pool is full a parity is dropped
 * (FEC_RX_FULL): the FEC block stays NAKed and is repaired later.
 *
 * The STATUS a receiver sends stays a plain NAK bitmap (spec §1.4), but
 * for every FEC block holding h parity h of its NAK bits are cleared
 * (fec_rx_reduce_naks): its popcount is then exactly what it needs, and
 * the bitmap is still a correct plain NAK (the named blocks plus the
 * parity held rebuild the FEC block), whoever reads it.
 */
#ifndef UFTP_FEC_FECRX_H
#define UFTP_FEC_FECRX_H

#include "core/fec/fec.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum fec_rx_res {
    FEC_RX_HELD = 1,    /* stored; the FEC block still needs more */
    FEC_RX_DECODE = 2,  /* stored, and the FEC block is decodable now */
    FEC_RX_DUP = 3,     /* this parity id is held already: ignored */
    FEC_RX_USELESS = 4, /* the FEC block needs nothing more: ignored */
    FEC_RX_FULL = 5,    /* no free slot: dropped */
};

struct fec_rx;

/*
 * A store of `slots` (1..65535) parity buffers of blocksize bytes.
 * Errors: FEC_EINVAL, FEC_ENOMEM.
 */
int fec_rx_new(struct fec_rx **out, size_t slots, size_t blocksize);
void fec_rx_free(struct fec_rx *rx);
/* Forgets every FEC block (a new file). */
void fec_rx_reset(struct fec_rx *rx);

/*
 * A parity symbol (parity id p, i.e. symbol k+p) of FEC block fb of
 * section `section`, whose FEC block has k source blocks of which the
 * receiver misses `missing`. data: blocksize bytes. Returns an enum
 * fec_rx_res, or FEC_EINVAL (k, p or missing out of range, or k differs
 * from what this FEC block's earlier parity said).
 */
int fec_rx_add(struct fec_rx *rx, uint16_t section, uint16_t fb, unsigned k, unsigned p,
               unsigned missing, const uint8_t *data);

/* Parity held for a FEC block (0 when none). */
unsigned fec_rx_held(const struct fec_rx *rx, uint16_t section, uint16_t fb);

/* Symbols a FEC block with `missing` source blocks still needs. */
static inline unsigned fec_rx_needs(const struct fec_rx *rx, uint16_t section, uint16_t fb,
                                    unsigned missing)
{
    unsigned h = fec_rx_held(rx, section, fb);
    return missing > h ? missing - h : 0;
}

/* True when the FEC block can be rebuilt now. */
static inline bool fec_rx_decodable(const struct fec_rx *rx, uint16_t section, uint16_t fb,
                                    unsigned missing)
{
    return missing > 0 && fec_rx_held(rx, section, fb) >= missing;
}

/*
 * The parity held for a FEC block, as fec_decode inputs: up to cap
 * buffers into bufs[] and their symbol ids (k + p) into ids[]. Returns the
 * count. The buffers stay valid until fec_rx_release or fec_rx_reset.
 */
unsigned fec_rx_parity(const struct fec_rx *rx, uint16_t section, uint16_t fb, const uint8_t **bufs,
                       uint8_t *ids, unsigned cap);

/* Frees a FEC block's slots (decoded, or its blocks arrived as source). */
void fec_rx_release(struct fec_rx *rx, uint16_t section, uint16_t fb);

/*
 * One more source block of a FEC block arrived (it now misses `missing`):
 * parity it no longer needs is released, so that h < missing stays true
 * (h = missing: it is decodable; that is left to the caller). Returns the
 * parity still held.
 */
unsigned fec_rx_source(struct fec_rx *rx, uint16_t section, uint16_t fb, unsigned missing);

/*
 * Clears, in a section's NAK bitmap (naks_len bytes, bit i = block i
 * missing), h NAK bits of every FEC block of l holding h parity (its
 * lowest-numbered NAKed members). Returns the bits cleared.
 */
size_t fec_rx_reduce_naks(const struct fec_rx *rx, uint16_t section, const struct fec_layout *l,
                          uint8_t *naks, size_t naks_len);

/* Slots in use / in all, for logs and tests. */
size_t fec_rx_used(const struct fec_rx *rx);
size_t fec_rx_slots(const struct fec_rx *rx);

#endif
