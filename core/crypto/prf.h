/*
 * The v4 key-schedule PRF (spec §1.9): TLS 1.2's P_hash (RFC 5246 §5) as the
 * UFTP 4.x/5.x code computes it, which is NOT the RFC's chaining. With
 * seed' = label || seed:
 *
 *   RFC 5246:  A(1) = HMAC(secret, seed'),        A(i) = HMAC(secret, A(i-1))
 *              out(i) = HMAC(secret, A(i) || seed')
 *   UFTP:      A(1) = HMAC(secret, seed'),        A(i) = HMAC(secret, A(i-1) || seed')
 *              out(i) = HMAC(secret, A(i) || seed')
 *
 * so A(i) = out(i-1) for i >= 2. The first hash_len bytes agree with RFC
 * 5246; everything after differs. v4 peers (4.10.x servers, 5.x clients
 * and proxies) all use the UFTP chaining, so that is what we implement.
 */
#ifndef UFTP_CRYPTO_PRF_H
#define UFTP_CRYPTO_PRF_H

#include <stddef.h>
#include <stdint.h>

#define PRF_LABEL_MAX 32
#define PRF_SEED_MAX  128
#define PRF_OUT_MAX   1024

/*
 * Writes outlen bytes of PRF_H(secret, label, seed). label is ASCII without
 * its NUL, at most PRF_LABEL_MAX bytes; seedlen <= PRF_SEED_MAX;
 * outlen <= PRF_OUT_MAX.
 * Errors: CRYPTO_EINVAL (hash type, lengths), CRYPTO_ELIB.
 */
int prf_v4(int hashtype, const uint8_t *secret, size_t secretlen, const char *label,
           const uint8_t *seed, size_t seedlen, uint8_t *out, size_t outlen);

#endif
