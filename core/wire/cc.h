/*
 * Congestion control messages (spec §1.4, §1.7): CONG_CTRL with its list
 * of CC items, and CC_ACK carrying EXT_TFMCC_ACK_INFO.
 * Codec conventions: see announce.h.
 */
#ifndef UFTP_WIRE_CC_H
#define UFTP_WIRE_CC_H

#include "core/wire/transfer.h"
#include "core/wire/wire.h"

#include <stdbool.h>

#define WIRE_CC_ITEM_LEN 8

/* One CC item: {client ID, flags (FLAG_CC_*), quantised RTT, reserved}. */
struct wire_cc_item {
    uint32_t id;
    uint8_t flags;
    uint8_t rtt;
};

/* CC items: decoded → `be` (8-byte records in the datagram); to encode, `be` or `host`. */
struct wire_cc_items {
    const uint8_t *be;
    const struct wire_cc_item *host;
    size_t n;
};

/* Item i (i < n). */
struct wire_cc_item wire_cc_items_get(const struct wire_cc_items *l, size_t i);

/* spec §4: CC items per packet. */
static inline size_t wire_max_cc_items(uint32_t blocksize)
{
    return blocksize / WIRE_CC_ITEM_LEN;
}

/* CONG_CTRL (20). */
struct wire_cong_ctrl {
    uint8_t ver;
    uint16_t cc_seq;
    uint16_t cc_rate; /* quantised */
    uint64_t tstamp;  /* server time, µs */
    struct wire_cc_items items;
    bool lossy;
};

/* Errors: WIRE_EVERSION, WIRE_EFUNC, WIRE_ETRUNC, WIRE_EHLEN, WIRE_ERANGE (v4 time), WIRE_ETRAIL.
 */
ssize_t wire_cong_ctrl_decode(struct wire_cong_ctrl *m, const uint8_t *p, size_t len);
/* Errors: WIRE_EVERSION, WIRE_EINVAL, WIRE_ENOSPC. */
ssize_t wire_cong_ctrl_encode(uint8_t *out, size_t cap, const struct wire_cong_ctrl *m);

/* CC_ACK (21). The reference always sends the extension; it is optional here. */
struct wire_cc_ack {
    uint8_t ver;
    bool has_tfmcc;
    struct wire_tfmcc_ack tfmcc;
    bool lossy;
};

/* Errors: WIRE_EVERSION, WIRE_EFUNC, WIRE_ETRUNC, WIRE_EHLEN, WIRE_ERANGE (duplicate extension, v4
 * time), WIRE_ETRAIL. */
ssize_t wire_cc_ack_decode(struct wire_cc_ack *m, const uint8_t *p, size_t len);
/* Errors: WIRE_EVERSION, WIRE_EINVAL, WIRE_ENOSPC. */
ssize_t wire_cc_ack_encode(uint8_t *out, size_t cap, const struct wire_cc_ack *m);

#endif
