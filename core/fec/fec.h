/*
 * Parity repair (issue 17): the erasure code, the grouping of a section's
 * blocks into FEC blocks, and the arithmetic the engines need to plan and
 * report repair. Wire format: spec "FEC extension (ours)"; design:
 * DESIGN.md "Parity repair (FEC)".
 *
 * The code is a systematic Reed-Solomon code over GF(2^8) (polynomial
 * x^8+x^4+x^3+x^2+1, 0x11D) with the Cauchy generator of Intel ISA-L's
 * gf_gen_cauchy1_matrix: a FEC block of k source blocks x_0..x_{k-1} has
 * parity blocks P_p = sum_j x_j / ((k+p) XOR j), p = 0 .. 255-k. Any k of
 * the k + (256-k) symbols rebuild the FEC block (every square submatrix of
 * a Cauchy matrix is invertible). A symbol is named by its generator row:
 * id j < k is source block j, id k+p is parity p. ISA-L does all the field
 * arithmetic and the SIMD dot products; nothing here multiplies by hand
 * beyond composing the small decode matrix from ISA-L's gf_mul / gf_inv.
 *
 * Blocks are the session's block size; the file's short last block is
 * encoded and decoded as if padded with zeros to the block size.
 *
 * FEC blocks of a section (struct fec_layout): with the session's FEC
 * block size K and stride S, the section's blocks are cut into groups of
 * S·K consecutive blocks; in each group, FEC block j (j < S) holds the
 * blocks j, j+S, j+2S, ... (K of them), so a burst of up to S lost
 * blocks costs each FEC block one. The last group of a section may be
 * short (R < S·K blocks): it has min(S, R) FEC blocks of ceil or floor
 * (R-j)/S blocks. A block's FEC block and position depend on K and S only
 * (a proxy can tally a STATUS without knowing the section's size); FEC
 * block f's size also needs the section's block count.
 *
 * Memory and time: a struct fec_codec caches, per k, the Cauchy matrix
 * (256·k bytes) and ISA-L's expanded encode tables for the parity rows used
 * so far (32·k bytes per row), in FEC_CACHE_K entries, and one decode
 * scratch grown to the largest (k, erasures) seen. Nothing allocates per
 * packet once the tables exist; an engine owns one codec (not thread-safe).
 */
#ifndef UFTP_FEC_FEC_H
#define UFTP_FEC_FEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum fec_err {
    FEC_EINVAL = -1,    /* a parameter outside its range, or duplicate symbol ids */
    FEC_ENOMEM = -2,    /* table or scratch allocation failed */
    FEC_ESHORT = -3,    /* decode: fewer than k distinct symbols */
    FEC_ESINGULAR = -4, /* decode matrix not invertible (impossible for a Cauchy code) */
};

const char *fec_strerror(int err);

/* Wire code identifier (spec "FEC extension"): this code. */
#define FEC_CODE_RS8_CAUCHY 1

/* Symbols per FEC block: k source + parity ids k..255. */
#define FEC_SYMBOLS 256
/* FEC block sizes the code and the wire accept (k + at least one parity). */
#define FEC_MIN_K 1
#define FEC_MAX_K 255
/* Interleave strides the wire accepts. */
#define FEC_MIN_STRIDE 1
#define FEC_MAX_STRIDE 255
/* Defaults the sender offers (DESIGN.md "Parity repair": why 128 and 8). */
#define FEC_DEF_K      128
#define FEC_DEF_STRIDE 8
/* Encode tables cached per codec (distinct k values). */
#define FEC_CACHE_K 4

/* Parity ids available for a FEC block of k source blocks. */
static inline unsigned fec_max_parity(unsigned k)
{
    return k >= FEC_MIN_K && k <= FEC_MAX_K ? FEC_SYMBOLS - k : 0;
}

/* ------------------------------------------------------------ layout */

struct fec_layout {
    uint32_t blocks; /* B: blocks in the section */
    uint32_t k;      /* K: nominal FEC block size */
    uint32_t stride; /* S */
    uint32_t nfb;    /* FEC blocks in the section */
};

/*
 * The FEC blocks of a section of `blocks` blocks (0 allowed: no FEC
 * block). Errors: FEC_EINVAL (k or stride out of range, blocks > 65536).
 */
int fec_layout_init(struct fec_layout *l, uint32_t blocks, unsigned k, unsigned stride);

/*
 * The FEC block holding section block b, and b's position in it (its
 * source symbol id). Depends on k and stride only; b need not be < blocks.
 */
static inline uint32_t fec_fb_of(uint32_t k, uint32_t stride, uint32_t b, unsigned *pos)
{
    uint32_t group = stride * k;
    uint32_t g = b / group, r = b % group;
    if (pos)
        *pos = r / stride;
    return g * stride + r % stride;
}

static inline uint32_t fec_layout_fb(const struct fec_layout *l, uint32_t b, unsigned *pos)
{
    return fec_fb_of(l->k, l->stride, b, pos);
}

/* Source blocks in FEC block fb (0 when fb ≥ nfb). */
unsigned fec_layout_size(const struct fec_layout *l, uint32_t fb);

/* Section block of member i of FEC block fb (i < fec_layout_size). */
static inline uint32_t fec_layout_block(const struct fec_layout *l, uint32_t fb, unsigned i)
{
    uint32_t g = fb / l->stride, j = fb % l->stride;
    return g * l->stride * l->k + j + i * l->stride;
}

/* ------------------------------------------------------------ the code */

struct fec_codec;

/* Errors: FEC_ENOMEM. */
int fec_codec_new(struct fec_codec **out);
void fec_codec_free(struct fec_codec *c);

/*
 * Parity ids k+first .. k+first+m-1 of a FEC block: src[0..k) are the k
 * source blocks (len bytes each; pad the short last block of a file),
 * par[0..m) receive the parity blocks. first + m ≤ fec_max_parity(k).
 * Errors: FEC_EINVAL, FEC_ENOMEM (tables for a new k).
 */
int fec_encode(struct fec_codec *c, unsigned k, unsigned first, unsigned m, size_t len,
               const uint8_t *const *src, uint8_t *const *par);

/*
 * Incremental encoding, one source block at a time (the sender reads a
 * file once and keeps only the parity of the FEC blocks in flight): zero
 * par[0..m) first, then add each source block i (any order, once each).
 * After all k the parity equals fec_encode's. Errors: as fec_encode.
 */
int fec_encode_add(struct fec_codec *c, unsigned k, unsigned first, unsigned m, size_t len,
                   unsigned i, const uint8_t *src, uint8_t *const *par);

/*
 * Rebuilds the missing source blocks of a FEC block from n ≥ k symbols:
 * in[i] (len bytes) is symbol ids[i] (< k: source, ≥ k: parity ids[i]-k).
 * Every source id absent from ids[] is rebuilt, in increasing order, into
 * out[0..e) and listed in missing[0..e); e is returned (0: nothing
 * missing). Extra symbols beyond what is needed are ignored. Up to k
 * erasures. Errors: FEC_EINVAL (k out of range, an id ≥ 256, a duplicate
 * id), FEC_ESHORT (fewer than k distinct symbols), FEC_ENOMEM,
 * FEC_ESINGULAR.
 */
int fec_decode(struct fec_codec *c, unsigned k, size_t len, const uint8_t *const *in,
               const uint8_t *ids, unsigned n, uint8_t *const *out, uint8_t *missing);

/* Bytes of tables and scratch the codec holds (for logs and benchmarks). */
size_t fec_codec_mem(const struct fec_codec *c);

/* ------------------------------------------------------------ planning */

/*
 * Proactive parity of a FEC block of k blocks for --fec PCT: ceil(pct·k /
 * 100), capped at fec_max_parity(k).
 */
unsigned fec_proactive(unsigned k, unsigned pct);

/*
 * Parity to send for a FEC block whose worst receiver still needs `need`
 * symbols, when parity itself is lost with probability loss_ppm: need,
 * plus the expected loss of what is sent, plus one (so that a receiver at
 * the mean loss still decodes in this pass), capped at `room` (the parity
 * ids left). 0 when need is 0.
 */
unsigned fec_repair_count(unsigned need, uint32_t loss_ppm, unsigned room);

/*
 * The same for `receivers` that decode, so that a second repair pass is
 * rare (issue 17): each receiver lost each of the FEC block's k source
 * blocks, and loses each parity sent, with probability p = loss_ppm.
 * Receivers needing j: n_j = receivers·P(Binom(k,p) = j) for j ≤ need (at
 * least one needing `need`, the worst reported), and for j > need only
 * those not heard (their DONE or STATUS lost: receivers·(1−(1−p)²) times
 * P(Binom(k,p) = j)). The expected number still short after c parity is
 * Σ_j n_j·P(Binom(c,p) > c − j); the result is the least c with that at
 * most eps, and at least fec_repair_count(), capped at room. 0 when need
 * is 0.
 */
unsigned fec_repair_count_n(unsigned need, unsigned k, uint32_t loss_ppm, uint32_t receivers,
                            double eps, unsigned room);

/*
 * The loss (ppm, at most 500000) at which the worst of m receivers misses,
 * on average, mean_max of a FEC block of k: E[max of m Binom(k,p)] =
 * mean_max. What a proxy's count reports (per FEC block the most any of
 * its m clients needs) say of the loss its clients see.
 */
uint32_t fec_loss_from_max(double mean_max, unsigned k, uint32_t m);

/*
 * Tallies a NAK bitmap (spec §1.4 STATUS: bit i of byte i/8, LSB first,
 * = section block i missing) into per-FEC-block maxima: for every FEC block
 * f < l->nfb, need[f] = max(need[f], NAKed members of f). A receiver that
 * holds parity clears that many of its NAK bits (fec_rx_reduce_naks), so
 * the popcount is what it needs (DESIGN.md "Parity repair").
 */
void fec_tally_max(const struct fec_layout *l, const uint8_t *naks, size_t naks_len, uint8_t *need);

/*
 * The inverse for a proxy's count report: sets, in a NAK bitmap of
 * naks_len bytes (zeroed first), the first need[f] members of every FEC
 * block f. Returns the number of bits set.
 */
size_t fec_counts_to_naks(const struct fec_layout *l, const uint8_t *need, uint8_t *naks,
                          size_t naks_len);

#endif
