/*
 * PROXY_KEY (spec §1.4; v4 layout §1.9) and the v4-only KEY_REQ.
 * Codec conventions: see announce.h.
 */
#ifndef UFTP_WIRE_PROXYKEY_H
#define UFTP_WIRE_PROXYKEY_H

#include "core/wire/wire.h"

#include <stdbool.h>

/*
 * PROXY_KEY (17). v5: the header (hlen*4 bytes, signature zeroed) is P_ctx's
 * tail (§1.8). v4: a nonce follows siglen and the signature covers it.
 */
struct wire_proxy_key {
    uint8_t ver;
    uint32_t nonce; /* v4 only; must be 0 to encode v5 */
    const uint8_t *keyblob;
    uint16_t keylen;
    const uint8_t *dhblob;
    uint16_t dhlen;
    const uint8_t *sig;
    uint16_t siglen;
    bool lossy;
};

/* Errors: WIRE_EVERSION, WIRE_EFUNC, WIRE_ETRUNC, WIRE_EHLEN, WIRE_ECOUNT, WIRE_ETRAIL. */
ssize_t wire_proxy_key_decode(struct wire_proxy_key *m, const uint8_t *p, size_t len);
/* Errors: WIRE_EVERSION, WIRE_EINVAL, WIRE_ENOSPC. */
ssize_t wire_proxy_key_encode(uint8_t *out, size_t cap, const struct wire_proxy_key *m);

/* KEY_REQ (16): v4 only (a v5 `ver` gives WIRE_EVERSION). */
struct wire_key_req {
    uint8_t ver;
    bool lossy;
};

/* Errors: WIRE_EVERSION, WIRE_EFUNC, WIRE_ETRUNC, WIRE_EHLEN, WIRE_ETRAIL. */
ssize_t wire_key_req_decode(struct wire_key_req *m, const uint8_t *p, size_t len);
/* Errors: WIRE_EVERSION, WIRE_ENOSPC. */
ssize_t wire_key_req_encode(uint8_t *out, size_t cap, const struct wire_key_req *m);

#endif
