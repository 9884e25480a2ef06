/*
 * Heartbeats (spec §1.4, §1.8): HB_REQ and HB_RESP, identical in v4 and v5.
 * Codec conventions: see announce.h.
 */
#ifndef UFTP_WIRE_HEARTBEAT_H
#define UFTP_WIRE_HEARTBEAT_H

#include "core/wire/wire.h"

#include <stdbool.h>

/* HB_REQ (14). Unauthenticated: nonce 0, no key, no signature. */
struct wire_hb_req {
    uint8_t ver;
    uint32_t nonce;
    const uint8_t *keyblob;
    uint16_t keylen;
    const uint8_t *sig; /* over the 4-byte nonce, SHA-1 */
    uint16_t siglen;
    bool lossy;
};

/* Errors: WIRE_EVERSION, WIRE_EFUNC, WIRE_ETRUNC, WIRE_EHLEN, WIRE_ECOUNT, WIRE_ETRAIL. */
ssize_t wire_hb_req_decode(struct wire_hb_req *m, const uint8_t *p, size_t len);
/* Errors: WIRE_EVERSION, WIRE_EINVAL, WIRE_ENOSPC. */
ssize_t wire_hb_req_encode(uint8_t *out, size_t cap, const struct wire_hb_req *m);

/* HB_RESP (15). */
struct wire_hb_resp {
    uint8_t ver;
    uint8_t auth;   /* HB_AUTH_* */
    uint32_t nonce; /* meaningful with HB_AUTH_CHALLENGE */
    bool lossy;
};

/* Errors: WIRE_EVERSION, WIRE_EFUNC, WIRE_ETRUNC, WIRE_EHLEN, WIRE_ETRAIL. */
ssize_t wire_hb_resp_decode(struct wire_hb_resp *m, const uint8_t *p, size_t len);
/* Errors: WIRE_EVERSION, WIRE_ENOSPC. */
ssize_t wire_hb_resp_encode(uint8_t *out, size_t cap, const struct wire_hb_resp *m);

#endif
