/*
 * ENCRYPTED framing (spec §1.4, §1.8): the 12-byte sub-header after the
 * UFTP header, then the AEAD ciphertext and tag. There is no func byte;
 * p / out start right after the 16-byte UFTP header. The datagram must end
 * exactly at the payload's end.
 *
 * v5: IV counter (8), reserved (2), payload length (2), payload.
 * v4: IV counter (8), signature length (2), payload length (2), signature,
 *     payload (the signature is always empty with the AEAD ciphers 5.x accepts).
 *
 * The AAD is the first 28 bytes of the datagram (UFTP header + this header).
 */
#ifndef UFTP_WIRE_ENCRYPTED_H
#define UFTP_WIRE_ENCRYPTED_H

#include "core/wire/wire.h"

#include <stdbool.h>

#define WIRE_ENCRYPTED_HDR_LEN 12
/* UFTP header + ENCRYPTED header: the AAD (spec §1.8). */
#define WIRE_ENCRYPTED_AAD_LEN (UFTP_HDR_LEN + WIRE_ENCRYPTED_HDR_LEN)

/*
 * Decoded sig / payload point into the datagram. To encrypt in place, encode
 * with payload NULL: the payload_len bytes after the header are reserved and
 * left untouched for the caller (a payload pointing at exactly that spot is
 * not copied either).
 */
struct wire_encrypted {
    uint8_t ver;
    uint64_t iv_ctr;
    const uint8_t *sig; /* v4 only */
    uint16_t siglen;    /* v4 only; must be 0 to encode v5 */
    const uint8_t *payload;
    uint16_t payload_len; /* ciphertext + 16-byte tag */
    bool lossy;
};

/* Errors: WIRE_EVERSION, WIRE_ETRUNC, WIRE_ETRAIL. */
ssize_t wire_encrypted_decode(struct wire_encrypted *m, const uint8_t *p, size_t len);
/* Errors: WIRE_EVERSION, WIRE_EINVAL, WIRE_ENOSPC. */
ssize_t wire_encrypted_encode(uint8_t *out, size_t cap, const struct wire_encrypted *m);

#endif
