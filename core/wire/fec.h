/*
 * The FEC family (ours, issue 17; spec "FEC extension (ours)"): the
 * capability extension EXT_FEC_INFO, carried in ANNOUNCE, REGISTER and a
 * proxy's STATUS, and the parity datagram FEC_PARITY. Neither exists in
 * UFTP 5.0.1 or 4.x; DESIGN.md "Parity repair" says why a reference peer
 * is never confused by them. Codec conventions: see announce.h.
 *
 * EXT_FEC_INFO (8 bytes): exttype 0xF1, extlen 2, version (1), flags,
 * code, k, stride, reserved. Only version 1 is understood: an extension of
 * another version is skipped like any unknown extension (the message
 * decodes without it, lossy), so a later version can change the layout.
 * A version-1 extension longer than 8 bytes is read and its tail ignored.
 *
 * FEC_PARITY (func 0xF1), sent like FILESEG (inside ENCRYPTED under the
 * server application key when the session is encrypted):
 *   func, hlen, file ID (2), section (2), FEC block (2), code (1),
 *   k (1), parity id p (1), reserved (1), [EXT_TFMCC_DATA_INFO], then the
 *   parity block: block-size bytes, symbol k+p of the FEC block.
 */
#ifndef UFTP_WIRE_FEC_H
#define UFTP_WIRE_FEC_H

#include "core/wire/wire.h"

#include <stdbool.h>

#define WIRE_FEC_VERSION      1
#define WIRE_FEC_INFO_LEN     8
#define WIRE_FEC_PARITY_FIXED 12

/* EXT_FEC_INFO flags; which message carries which (spec "FEC extension"). */
#define FEC_F_SEND      0x01 /* ANNOUNCE: the sender sends parity to peers that decode it */
#define FEC_F_PROACTIVE 0x02 /* ANNOUNCE: ... also in the first pass (--fec PCT) */
#define FEC_F_DECODE    0x04 /* REGISTER: this receiver decodes parity */
#define FEC_F_AGGREGATE 0x08 /* REGISTER from a proxy: it sends count reports for its clients */
#define FEC_F_COUNTS    0x10 /* STATUS: the bitmap's popcount per FEC block is a count */
#define FEC_F_ALL       0x1F

struct wire_fec_info {
    uint8_t version; /* WIRE_FEC_VERSION */
    uint8_t flags;   /* FEC_F_* */
    uint8_t code;    /* FEC_CODE_RS8_CAUCHY (core/fec) */
    uint8_t k;       /* FEC block size K (ANNOUNCE, STATUS); REGISTER: the largest it decodes */
    uint8_t stride;  /* interleave stride S (ANNOUNCE, STATUS); REGISTER: the largest it takes */
    bool lossy;
};

/*
 * Decodes one EXT_FEC_INFO (p at its exttype). Consumes extlen*4 bytes.
 * Errors: WIRE_ETRUNC, WIRE_EFUNC (exttype), WIRE_EHLEN (extlen 0, or
 * under 8 bytes), WIRE_ERANGE (a version other than 1: callers skip it).
 */
ssize_t wire_fec_info_decode(struct wire_fec_info *e, const uint8_t *p, size_t len);
/* Errors: WIRE_EINVAL (version not 1, unknown flags), WIRE_ENOSPC. */
ssize_t wire_fec_info_encode(uint8_t *out, size_t cap, const struct wire_fec_info *e);

/*
 * FEC_PARITY. Decoded `data` points into the datagram; its length is
 * checked against the session's block size by the engine. To encode
 * without a copy leave data NULL: data_len bytes are reserved after the
 * header (as for FILESEG).
 */
struct wire_fec_parity {
    uint8_t ver;
    uint16_t file_id;
    uint16_t section;
    uint16_t fec_block; /* FEC block index in the section (core/fec layout) */
    uint8_t code;       /* FEC_CODE_RS8_CAUCHY */
    uint8_t k;          /* source blocks in this FEC block, 1..255 */
    uint8_t parity;     /* parity id p: symbol k+p, p < 256-k */
    bool has_tfmcc;
    struct wire_tfmcc_data tfmcc;
    const uint8_t *data;
    size_t data_len;
    bool lossy;
};

/*
 * Errors: WIRE_EVERSION, WIRE_EFUNC, WIRE_ETRUNC, WIRE_EHLEN, WIRE_ERANGE
 * (k 0, k + p > 255, duplicate extension).
 */
ssize_t wire_fec_parity_decode(struct wire_fec_parity *m, const uint8_t *p, size_t len);
/* Errors: WIRE_EVERSION, WIRE_EINVAL (k 0, k + p > 255), WIRE_ENOSPC. */
ssize_t wire_fec_parity_encode(uint8_t *out, size_t cap, const struct wire_fec_parity *m);
/* Header bytes before the data (12, or 20 with the TFMCC extension). */
size_t wire_fec_parity_hdr_len(const struct wire_fec_parity *m);

#endif
