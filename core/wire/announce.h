/*
 * The announce / registration family (spec §1.4): ANNOUNCE with
 * EXT_ENC_INFO, REGISTER, CLIENT_KEY, REG_CONF, KEYINFO, KEYINFO_ACK,
 * with their v4 variants (spec §1.9).
 *
 * Conventions for every message codec in core/wire (see wire.h):
 *  - p / out start at the message's func byte (after the 16-byte UFTP
 *    header, or at the start of a decrypted ENCRYPTED payload).
 *  - `ver` (UFTP_VER5 or UFTP_VER4, from the common header) is an INPUT to
 *    both decode and encode; anything else gives WIRE_EVERSION.
 *  - Decoded variable parts (blobs, signatures, lists) point into the
 *    datagram: no allocation, no copies; valid while the datagram is.
 *  - Encode: a NULL blob pointer with a nonzero length writes zeros (the
 *    signature placeholder to sign over; encode again with the signature).
 *    hlen is computed; variable header parts are zero-padded to 4 bytes.
 *  - Decode sets `lossy` when re-encoding would not reproduce the input
 *    byte for byte (nonzero reserved bits or padding, skipped unknown
 *    extensions, oversized known extensions); encode ignores it.
 *  - Timestamps are µs since the epoch whatever the version; v4 sec/µs is
 *    converted here. A v4 encode of a time past 2106 gives WIRE_EINVAL; a v4
 *    decode whose (unnormalised) timeval lands past 2106 gives WIRE_ERANGE
 *    ("v4 time"), so that whatever decodes can be encoded again.
 */
#ifndef UFTP_WIRE_ANNOUNCE_H
#define UFTP_WIRE_ANNOUNCE_H

#include "core/wire/fec.h"
#include "core/wire/ids.h"
#include "core/wire/wire.h"

#include <stdbool.h>

#define WIRE_RAND_LEN       32
#define WIRE_ENC_INFO_FIXED 44
#define WIRE_DESTKEY_LEN    52 /* client ID + 48-byte encrypted group master */
#define WIRE_ENC_MASTER_LEN 48
#define WIRE_V4_VERIFY_LEN  12

/*
 * EXT_ENC_INFO (spec §1.4). Blobs are opaque here; core/crypto parses them.
 * `ver` selects byte 3: v4 keyextype<<4 | sigtype, v5 reserved (both 0).
 * Inside an ANNOUNCE the ANNOUNCE's ver applies and this one is set to it.
 */
struct wire_enc_info {
    uint8_t ver;
    uint8_t flags;              /* FLAG_CLIENT_AUTH */
    uint8_t keyextype, sigtype; /* v4 only */
    uint8_t keytype, hashtype;
    uint8_t rand1[WIRE_RAND_LEN];
    const uint8_t *keyblob; /* signing public key */
    uint16_t keylen;
    const uint8_t *dhblob; /* ECDH public key */
    uint16_t dhlen;
    const uint8_t *sig;
    uint16_t siglen;
    /* Decode only: the whole extension (extlen*4 bytes), for S_ctx (§1.8). */
    const uint8_t *raw;
    size_t raw_len;
    bool lossy;
};

/*
 * Decodes one EXT_ENC_INFO; extlen*4 must equal 44 + keylen + dhlen + siglen
 * exactly, as the reference requires. Consumes extlen*4 bytes.
 * Errors: WIRE_EVERSION, WIRE_ETRUNC, WIRE_EFUNC (exttype), WIRE_EHLEN, WIRE_ECOUNT.
 */
ssize_t wire_enc_info_decode(struct wire_enc_info *e, const uint8_t *p, size_t len);
/* Errors: WIRE_EVERSION, WIRE_EINVAL (extension over 1020 bytes, v4 fields in v5), WIRE_ENOSPC. */
ssize_t wire_enc_info_encode(uint8_t *out, size_t cap, const struct wire_enc_info *e);

/* ANNOUNCE (1). Public/private addresses are 4 or 16 bytes (FLAG_IPV6). */
struct wire_announce {
    uint8_t ver;
    uint8_t flags; /* FLAG_SYNC_MODE, FLAG_SYNC_PREVIEW, FLAG_IPV6 */
    uint8_t robust;
    uint8_t cc_type;
    uint16_t blocksize;
    uint64_t tstamp;
    uint8_t pub_addr[16]; /* first 4 bytes used for IPv4; all zero in unicast mode */
    uint8_t priv_addr[16];
    bool has_enc;
    struct wire_enc_info enc;
    /* Ours (issue 17): written after EXT_ENC_INFO, since the reference
     * looks only at the first extension (spec "FEC extension (ours)"). */
    bool has_fec;
    struct wire_fec_info fec;
    struct wire_ids ids; /* closed group: allowed IDs; empty for open */
    bool lossy;
};

/* Errors: WIRE_EVERSION, WIRE_EFUNC, WIRE_ETRUNC, WIRE_EHLEN, WIRE_ECOUNT, WIRE_ERANGE (duplicate
 * extension, v4 time), WIRE_ETRAIL. */
ssize_t wire_announce_decode(struct wire_announce *m, const uint8_t *p, size_t len);
/* Errors: WIRE_EVERSION, WIRE_EINVAL, WIRE_ENOSPC. */
ssize_t wire_announce_encode(uint8_t *out, size_t cap, const struct wire_announce *m);

/* REGISTER (2). v4: the blob may also be an RSA-encrypted premaster. */
struct wire_register {
    uint8_t ver;
    uint64_t tstamp; /* echoed server time (spec §1.3) */
    uint8_t rand2[WIRE_RAND_LEN];
    const uint8_t *dhblob;
    uint16_t dhlen;
    bool has_fec; /* ours (issue 17): after the ECDH blob, only to a sender that offered it */
    struct wire_fec_info fec;
    struct wire_ids ids; /* client IDs when sent by a proxy */
    bool lossy;
};

/* Errors: WIRE_EVERSION, WIRE_EFUNC, WIRE_ETRUNC, WIRE_EHLEN, WIRE_ECOUNT, WIRE_ERANGE (v4 time,
 * duplicate extension), WIRE_ETRAIL. */
ssize_t wire_register_decode(struct wire_register *m, const uint8_t *p, size_t len);
/* Errors: WIRE_EVERSION, WIRE_EINVAL, WIRE_ENOSPC. */
ssize_t wire_register_encode(uint8_t *out, size_t cap, const struct wire_register *m);

/* CLIENT_KEY (3). The header (hlen*4 bytes, signature zeroed) is part of C_ctx2. */
struct wire_client_key {
    uint8_t ver;
    const uint8_t *keyblob;
    uint16_t keylen;
    const uint8_t *sig;
    uint16_t siglen;
    bool lossy;
};

/* Errors: WIRE_EVERSION, WIRE_EFUNC, WIRE_ETRUNC, WIRE_EHLEN, WIRE_ECOUNT, WIRE_ETRAIL. */
ssize_t wire_client_key_decode(struct wire_client_key *m, const uint8_t *p, size_t len);
/* Errors: WIRE_EVERSION, WIRE_EINVAL, WIRE_ENOSPC. */
ssize_t wire_client_key_encode(uint8_t *out, size_t cap, const struct wire_client_key *m);

/* REG_CONF (4). */
struct wire_reg_conf {
    uint8_t ver;
    struct wire_ids ids;
    bool lossy;
};

/* Errors: WIRE_EVERSION, WIRE_EFUNC, WIRE_ETRUNC, WIRE_EHLEN, WIRE_ETRAIL. */
ssize_t wire_reg_conf_decode(struct wire_reg_conf *m, const uint8_t *p, size_t len);
/* Errors: WIRE_EVERSION, WIRE_ENOSPC. */
ssize_t wire_reg_conf_encode(uint8_t *out, size_t cap, const struct wire_reg_conf *m);

/* One KEYINFO entry: a client ID and its encrypted group master. */
struct wire_destkey {
    uint32_t id;
    uint8_t master[WIRE_ENC_MASTER_LEN];
};

/* KEYINFO entries: decoded → `be` (52-byte records in the datagram); to encode, `be` or `host`. */
struct wire_destkeys {
    const uint8_t *be;
    const struct wire_destkey *host;
    size_t n;
};

/* Entry i (i < n) copied out. */
void wire_destkeys_get(const struct wire_destkeys *l, size_t i, struct wire_destkey *out);
/* The 48-byte encrypted master for `id`, or NULL when the ID is not listed. */
const uint8_t *wire_destkeys_find(const struct wire_destkeys *l, uint32_t id);

/* spec §4: KEYINFO entries per packet. */
static inline size_t wire_max_destkeys(uint32_t blocksize)
{
    return blocksize / WIRE_DESTKEY_LEN;
}

/* KEYINFO (5). v4 has no signature (bytes 2-3 reserved); siglen must be 0. */
struct wire_keyinfo {
    uint8_t ver;
    uint64_t iv_ctr;
    const uint8_t *sig;
    uint16_t siglen;
    struct wire_destkeys keys;
    bool lossy;
};

/* Errors: WIRE_EVERSION, WIRE_EFUNC, WIRE_ETRUNC, WIRE_EHLEN, WIRE_ECOUNT, WIRE_ETRAIL. */
ssize_t wire_keyinfo_decode(struct wire_keyinfo *m, const uint8_t *p, size_t len);
/* Errors: WIRE_EVERSION, WIRE_EINVAL, WIRE_ENOSPC. */
ssize_t wire_keyinfo_encode(uint8_t *out, size_t cap, const struct wire_keyinfo *m);

/* KEYINFO_ACK (6). v5: verify_len + verify data; v4: reserved + 12 bytes. */
struct wire_keyinfo_ack {
    uint8_t ver;
    const uint8_t *verify;
    uint16_t verify_len; /* v4: always 12 */
    bool lossy;
};

/* Errors: WIRE_EVERSION, WIRE_EFUNC, WIRE_ETRUNC, WIRE_EHLEN, WIRE_ECOUNT, WIRE_ETRAIL. */
ssize_t wire_keyinfo_ack_decode(struct wire_keyinfo_ack *m, const uint8_t *p, size_t len);
/* Errors: WIRE_EVERSION, WIRE_EINVAL (v4 length not 12), WIRE_ENOSPC. */
ssize_t wire_keyinfo_ack_encode(uint8_t *out, size_t cap, const struct wire_keyinfo_ack *m);

#endif
