/*
 * ECDH on P-256/384/521 (spec §1.8, §1.9). The raw shared secret is the X
 * coordinate of the shared point, left-padded to the field size; the
 * premaster is a hash of it: SHA-256 in v5 (whatever the session hash),
 * SHA-1 in v4.
 */
#ifndef UFTP_CRYPTO_ECDH_H
#define UFTP_CRYPTO_ECDH_H

#include <stddef.h>
#include <stdint.h>

struct crypto_key;

#define ECDH_SECRET_MAX 66 /* P-521 X coordinate */

/*
 * Generates an ephemeral key pair on curve (CURVE_*).
 * Errors: CRYPTO_EINVAL (curve), CRYPTO_ENOMEM, CRYPTO_ELIB.
 */
int ecdh_keygen(int curve, struct crypto_key **out);

/*
 * Raw shared secret between our private key and the peer's public key,
 * which must be on the same curve. Returns its length (32/48/66).
 * Errors: CRYPTO_EINVAL (key types or curves differ, no private key),
 *         CRYPTO_ENOSPC, CRYPTO_ELIB.
 */
int ecdh_shared_secret(const struct crypto_key *priv, const struct crypto_key *peer, uint8_t *out,
                       size_t cap);

/*
 * premaster = H(shared secret), with hashtype HASH_SHA256 for v5 and
 * HASH_SHA1 for v4. Writes crypto_hash_len(hashtype) bytes and returns that.
 * Errors: as ecdh_shared_secret, and CRYPTO_EINVAL for the hash type.
 */
int ecdh_premaster(const struct crypto_key *priv, const struct crypto_key *peer, int hashtype,
                   uint8_t *out);

#endif
