/*
 * Signatures as UFTP puts them on the wire (spec §1.3), computed the way
 * the 5.0.1 reference does: hash the message once with the session hash H
 * and sign that digest (RSA_sign / ECDSA_do_sign over H(message)), which is
 * exactly EVP_DigestSign with H over the message.
 *
 *   RSA:   PKCS#1 v1.5 with DigestInfo; length = modulus size.
 *   ECDSA: not DER: rlen (2) slen (2) r s, big-endian; the signer left-pads
 *          r and s with zeros to the coordinate size, so the total is
 *          4 + 2 * coord (68 / 100 / 136). Verifiers honour rlen/slen.
 *
 * hashtype is HASH_SHA256/384/512 for sessions, HASH_SHA1 for heartbeats
 * and v4 proxy keys.
 */
#ifndef UFTP_CRYPTO_SIG_H
#define UFTP_CRYPTO_SIG_H

#include <stddef.h>
#include <stdint.h>

#include "core/crypto/crypto.h"

struct crypto_key;

#define SIG_MAX     384 /* RSA-3072 */
#define SIG_DER_MAX 141 /* ECDSA-Sig-Value for P-521 */

/* Length of a wire signature made with key k. */
size_t sig_len(const struct crypto_key *k);

/*
 * Signs the concatenation of msg[0..n) with a private key. Returns the
 * signature length (sig_len(k)).
 * Errors: CRYPTO_EINVAL (hash type, no private key), CRYPTO_ENOSPC, CRYPTO_ELIB.
 */
int sig_sign(const struct crypto_key *k, int hashtype, const struct crypto_iov *msg, size_t n,
             uint8_t *sig, size_t cap);

/*
 * Verifies a wire signature over the concatenation of msg[0..n).
 * Returns CRYPTO_OK only for a valid signature.
 * Errors: CRYPTO_ESIG (malformed or wrong signature), CRYPTO_EINVAL (hash
 *         type), CRYPTO_ELIB.
 */
int sig_verify(const struct crypto_key *k, int hashtype, const struct crypto_iov *msg, size_t n,
               const uint8_t *sig, size_t siglen);

/*
 * Conversions between the wire r/s form and DER (ECDSA-Sig-Value), for a
 * curve with coord-byte coordinates (32/48/66). rs_to_der accepts any
 * rlen/slen that fit in len (leading zeros allowed) as long as r and s are
 * non-zero and no longer than coord once the zeros are stripped;
 * der_to_rs writes the reference's padded form, 4 + 2 * coord bytes.
 * Both return the output length.
 * Errors: CRYPTO_ESIG (malformed input), CRYPTO_EINVAL (coord), CRYPTO_ENOSPC.
 */
int sig_ecdsa_rs_to_der(const uint8_t *rs, size_t len, size_t coord, uint8_t *der, size_t cap);
int sig_ecdsa_der_to_rs(const uint8_t *der, size_t len, size_t coord, uint8_t *rs, size_t cap);

#endif
