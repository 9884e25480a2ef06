/* Heartbeat authentication (core/crypto/hbauth.h, spec §1.8). */
#include "core/crypto/hbauth.h"

#include "core/crypto/fp.h"
#include "core/crypto/keyblob.h"
#include "core/crypto/sig.h"
#include "core/wire/wire.h"

static void nonce_be(uint8_t b[4], uint32_t nonce)
{
    b[0] = (uint8_t)(nonce >> 24);
    b[1] = (uint8_t)(nonce >> 16);
    b[2] = (uint8_t)(nonce >> 8);
    b[3] = (uint8_t)nonce;
}

int hbauth_sign(const struct crypto_key *k, uint32_t nonce, uint8_t *sig, size_t cap)
{
    uint8_t b[4];
    nonce_be(b, nonce);
    struct crypto_iov iov = {b, sizeof(b)};
    return sig_sign(k, HASH_SHA1, &iov, 1, sig, cap);
}

int hbauth_verify(const uint8_t *blob, size_t bloblen, const uint8_t *sig, size_t siglen,
                  uint32_t nonce, const uint8_t *fp, size_t fplen)
{
    if (bloblen == 0 || !fp_match(fp, fplen, blob, bloblen))
        return HBAUTH_EFP;
    struct crypto_key *k = NULL;
    int rc = keyblob_import(blob, bloblen, 0, &k);
    if (rc < 0)
        return rc;
    uint8_t b[4];
    nonce_be(b, nonce);
    struct crypto_iov iov = {b, sizeof(b)};
    rc = sig_verify(k, HASH_SHA1, &iov, 1, sig, siglen);
    crypto_key_free(k);
    return rc;
}
