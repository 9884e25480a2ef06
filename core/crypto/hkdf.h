/*
 * HKDF (RFC 5869) and the UFTP 5 "Expand-Label" (spec §1.8, §7):
 *
 *   Expand-Label(secret, label, context, L)
 *       = HKDF-Expand(secret, "UFTP5 " || label || context, L)
 *
 * The info string is a plain concatenation: no length prefixes, no
 * "tls13 " prefix, no NUL. This is the code's behaviour, not protocol.txt's.
 */
#ifndef UFTP_CRYPTO_HKDF_H
#define UFTP_CRYPTO_HKDF_H

#include <stddef.h>
#include <stdint.h>

#define HKDF_LABEL_PREFIX "UFTP5 "
/* Longest info string accepted: prefix + label + context. */
#define HKDF_INFO_MAX 256

/*
 * PRK = HMAC_H(salt, IKM), crypto_hash_len(hashtype) bytes. A NULL salt
 * means hash_len zero bytes, which is what UFTP 5 uses everywhere.
 * Errors: CRYPTO_EINVAL (hash type), CRYPTO_ELIB.
 */
int hkdf_extract(int hashtype, const uint8_t *salt, size_t saltlen, const uint8_t *ikm,
                 size_t ikmlen, uint8_t *prk);

/*
 * OKM = HKDF-Expand(PRK, info, outlen); outlen <= 255 * hash_len.
 * Errors: CRYPTO_EINVAL (hash type, lengths), CRYPTO_ELIB.
 */
int hkdf_expand(int hashtype, const uint8_t *prk, size_t prklen, const uint8_t *info,
                size_t infolen, uint8_t *out, size_t outlen);

/*
 * UFTP 5 Expand-Label, see above. label is a NUL-terminated ASCII string
 * (its NUL is not used); context may be NULL when ctxlen is 0.
 * Errors: CRYPTO_EINVAL (hash type, info longer than HKDF_INFO_MAX), CRYPTO_ELIB.
 */
int hkdf_expand_label(int hashtype, const uint8_t *secret, size_t secretlen, const char *label,
                      const uint8_t *ctx, size_t ctxlen, uint8_t *out, size_t outlen);

#endif
