/*
 * The transfer family (spec §1.4): FILESEG (+ EXT_TFMCC_DATA_INFO), DONE,
 * STATUS (+ EXT_TFMCC_ACK_INFO, NAK bitmap), COMPLETE (+ EXT_FREESPACE_INFO),
 * DONE_CONF. Codec conventions: see announce.h.
 */
#ifndef UFTP_WIRE_TRANSFER_H
#define UFTP_WIRE_TRANSFER_H

#include "core/wire/fec.h"
#include "core/wire/ids.h"
#include "core/wire/wire.h"

#include <stdbool.h>

/* EXT_TFMCC_ACK_INFO (ext 3, 20 bytes), in STATUS and CC_ACK. */
struct wire_tfmcc_ack {
    uint8_t flags; /* FLAG_CC_* */
    uint16_t cc_seq;
    uint16_t cc_rate; /* quantised */
    uint32_t client_id;
    uint64_t tstamp; /* echoed server time, µs */
};

/*
 * FILESEG (9). Decoded `data` points into the datagram. To encode without a
 * copy (read the file straight into the packet), leave data NULL: the
 * data_len bytes after the header are reserved and left untouched.
 */
struct wire_fileseg {
    uint8_t ver;
    uint16_t file_id;
    uint16_t section;
    uint16_t sec_block;
    bool has_tfmcc;
    struct wire_tfmcc_data tfmcc;
    const uint8_t *data;
    size_t data_len;
    bool lossy;
};

/* Errors: WIRE_EVERSION, WIRE_EFUNC, WIRE_ETRUNC, WIRE_EHLEN, WIRE_ERANGE (duplicate extension). */
ssize_t wire_fileseg_decode(struct wire_fileseg *m, const uint8_t *p, size_t len);
/* Errors: WIRE_EVERSION, WIRE_ENOSPC. */
ssize_t wire_fileseg_encode(uint8_t *out, size_t cap, const struct wire_fileseg *m);
/* Header bytes before the data (8, or 16 with the TFMCC extension). */
size_t wire_fileseg_hdr_len(const struct wire_fileseg *m);

/* DONE (10). file_id 0 ends the session. */
struct wire_done {
    uint8_t ver;
    uint16_t file_id;
    uint16_t section;
    struct wire_ids ids;
    bool lossy;
};

/* Errors: WIRE_EVERSION, WIRE_EFUNC, WIRE_ETRUNC, WIRE_EHLEN, WIRE_ETRAIL. */
ssize_t wire_done_decode(struct wire_done *m, const uint8_t *p, size_t len);
/* Errors: WIRE_EVERSION, WIRE_EINVAL, WIRE_ENOSPC. */
ssize_t wire_done_encode(uint8_t *out, size_t cap, const struct wire_done *m);

/*
 * STATUS (11). NAK bitmap: bit k (LSB first) of byte j set means block
 * j·8+k of the section is missing. Its length is whatever follows the header.
 */
struct wire_status {
    uint8_t ver;
    uint16_t file_id;
    uint16_t section;
    bool has_tfmcc;
    struct wire_tfmcc_ack tfmcc;
    /* Ours (issue 17): a proxy's count report (FEC_F_COUNTS), after the
     * TFMCC extension, only to a sender that offered FEC. */
    bool has_fec;
    struct wire_fec_info fec;
    const uint8_t *naks;
    size_t naks_len;
    bool lossy;
};

/* Errors: WIRE_EVERSION, WIRE_EFUNC, WIRE_ETRUNC, WIRE_EHLEN, WIRE_ERANGE (duplicate extension, v4
 * time). */
ssize_t wire_status_decode(struct wire_status *m, const uint8_t *p, size_t len);
/* Errors: WIRE_EVERSION, WIRE_EINVAL (naks NULL with a length, v4 tstamp past 2106), WIRE_ENOSPC.
 */
ssize_t wire_status_encode(uint8_t *out, size_t cap, const struct wire_status *m);

/* True when block `block` of the section is NAKed in the bitmap (false past its end). */
static inline bool wire_status_nak(const struct wire_status *m, uint32_t block)
{
    return block / 8 < m->naks_len && (m->naks[block / 8] >> (block % 8) & 1);
}

/* COMPLETE (12). file_id 0 = the whole session. */
struct wire_complete {
    uint8_t ver;
    uint16_t file_id;
    uint8_t status; /* COMP_STAT_* */
    bool has_freespace;
    uint64_t freespace;  /* EXT_FREESPACE_INFO: free bytes */
    struct wire_ids ids; /* client IDs when sent by a proxy */
    bool lossy;
};

/* Errors: WIRE_EVERSION, WIRE_EFUNC, WIRE_ETRUNC, WIRE_EHLEN, WIRE_ERANGE (duplicate extension),
 * WIRE_ETRAIL. */
ssize_t wire_complete_decode(struct wire_complete *m, const uint8_t *p, size_t len);
/* Errors: WIRE_EVERSION, WIRE_EINVAL, WIRE_ENOSPC. */
ssize_t wire_complete_encode(uint8_t *out, size_t cap, const struct wire_complete *m);

/* DONE_CONF (13). */
struct wire_done_conf {
    uint8_t ver;
    struct wire_ids ids;
    bool lossy;
};

/* Errors: WIRE_EVERSION, WIRE_EFUNC, WIRE_ETRUNC, WIRE_EHLEN, WIRE_ETRAIL. */
ssize_t wire_done_conf_decode(struct wire_done_conf *m, const uint8_t *p, size_t len);
/* Errors: WIRE_EVERSION, WIRE_EINVAL, WIRE_ENOSPC. */
ssize_t wire_done_conf_encode(uint8_t *out, size_t cap, const struct wire_done_conf *m);

#endif
