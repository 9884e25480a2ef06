/*
 * Heartbeat authentication (spec §1.8 "Proxy heartbeats / NAT traversal
 * authentication", identical in v4 and v5): the downstream side proves it
 * holds the key whose fingerprint a server proxy was given (-s fp=...) by
 * signing the 4-byte challenge nonce, in network order, with SHA-1 (as the
 * reference does, even in v5: spec §6.12). The HB_REQ carries the public
 * key blob and that signature.
 */
#ifndef UFTP_CRYPTO_HBAUTH_H
#define UFTP_CRYPTO_HBAUTH_H

#include <stddef.h>
#include <stdint.h>

#include "core/crypto/crypto.h"

struct crypto_key;

/* The fingerprint of the HB_REQ key does not match (besides enum crypto_err). */
#define HBAUTH_EFP (-30)

/*
 * Signs nonce with the private key k. Returns the signature length.
 * Errors: CRYPTO_EINVAL (no private key), CRYPTO_ENOSPC, CRYPTO_ELIB.
 */
int hbauth_sign(const struct crypto_key *k, uint32_t nonce, uint8_t *sig, size_t cap);

/*
 * Checks an authenticated HB_REQ, cheapest test first: the key blob's
 * SHA-1 fingerprint against fp[0..fplen) (fp_match rules), the blob, then
 * the signature over nonce. Returns CRYPTO_OK only when all three hold.
 * Errors: HBAUTH_EFP, CRYPTO_EBLOB, CRYPTO_ESIG, CRYPTO_ENOMEM, CRYPTO_ELIB.
 */
int hbauth_verify(const uint8_t *blob, size_t bloblen, const uint8_t *sig, size_t siglen,
                  uint32_t nonce, const uint8_t *fp, size_t fplen);

#endif
