/* Heartbeat authentication (core/crypto/hbauth.c). */
#include <string.h>

#include "core/crypto/fp.h"
#include "core/crypto/hbauth.h"
#include "core/crypto/keyblob.h"
#include "core/crypto/keyfile.h"
#include "core/crypto/sig.h"
#include "core/wire/wire.h"
#include "cu.h"

static struct crypto_key *load(const char *name)
{
    char path[256];
    snprintf(path, sizeof(path), "tests/unit/crypto/vectors/keys/%s", name);
    struct crypto_key *k = NULL;
    CU_ASSERT_EQUAL_FATAL(keyfile_read(cu_srcpath(path), &k), CRYPTO_OK);
    return k;
}

static void check_key(const char *name, const char *other)
{
    struct crypto_key *k = load(name), *o = load(other);
    size_t bl, obl;
    const uint8_t *blob = crypto_key_blob(k, &bl);
    const uint8_t *oblob = crypto_key_blob(o, &obl);
    uint8_t fp[FP_LEN], ofp[FP_LEN], sig[SIG_MAX];
    CU_ASSERT_EQUAL_FATAL(fp_compute(blob, bl, fp), CRYPTO_OK);
    CU_ASSERT_EQUAL_FATAL(fp_compute(oblob, obl, ofp), CRYPTO_OK);
    int sl = hbauth_sign(k, 0xDEADBEEF, sig, sizeof(sig));
    CU_ASSERT_EQUAL_FATAL(sl, (int)sig_len(k));

    CU_ASSERT_EQUAL(hbauth_verify(blob, bl, sig, (size_t)sl, 0xDEADBEEF, fp, FP_LEN), CRYPTO_OK);
    /* The signature is over SHA-1 of the nonce in network order. */
    uint8_t be[4] = {0xDE, 0xAD, 0xBE, 0xEF};
    struct crypto_iov iov = {be, 4};
    CU_ASSERT_EQUAL(sig_verify(k, HASH_SHA1, &iov, 1, sig, (size_t)sl), CRYPTO_OK);
    CU_ASSERT_NOT_EQUAL(sig_verify(k, HASH_SHA256, &iov, 1, sig, (size_t)sl), CRYPTO_OK);
    /* Another nonce: bad signature. */
    CU_ASSERT_EQUAL(hbauth_verify(blob, bl, sig, (size_t)sl, 0xDEADBEEE, fp, FP_LEN), CRYPTO_ESIG);
    /* A corrupted signature. */
    sig[sl - 1] ^= 1;
    CU_ASSERT_EQUAL(hbauth_verify(blob, bl, sig, (size_t)sl, 0xDEADBEEF, fp, FP_LEN), CRYPTO_ESIG);
    sig[sl - 1] ^= 1;
    /* A truncated signature. */
    CU_ASSERT_EQUAL(hbauth_verify(blob, bl, sig, (size_t)sl - 1, 0xDEADBEEF, fp, FP_LEN),
                    CRYPTO_ESIG);
    /* The right key and signature, but another fingerprint is expected. */
    CU_ASSERT_EQUAL(hbauth_verify(blob, bl, sig, (size_t)sl, 0xDEADBEEF, ofp, FP_LEN), HBAUTH_EFP);
    /* Another key with a fingerprint of its own, but our signature. */
    CU_ASSERT_EQUAL(hbauth_verify(oblob, obl, sig, (size_t)sl, 0xDEADBEEF, ofp, FP_LEN),
                    CRYPTO_ESIG);
    /* No fingerprint configured never matches; no blob never matches. */
    CU_ASSERT_EQUAL(hbauth_verify(blob, bl, sig, (size_t)sl, 0xDEADBEEF, fp, 0), HBAUTH_EFP);
    CU_ASSERT_EQUAL(hbauth_verify(blob, 0, sig, (size_t)sl, 0xDEADBEEF, fp, FP_LEN), HBAUTH_EFP);
    crypto_key_free(k);
    crypto_key_free(o);
}

static void test_ec(void)
{
    check_key("ec256_a.pem", "ec256_b.pem");
    check_key("ec521_b.pem", "ec384_a.pem");
}

static void test_rsa(void)
{
    check_key("rsa2048.pem", "rsa1024.pem");
}

static void test_bad_blob(void)
{
    /* A blob whose fingerprint matches but that is not a key. */
    uint8_t blob[68];
    memset(blob, 0x02, sizeof(blob));
    uint8_t fp[FP_LEN], sig[68] = {0};
    fp_compute(blob, sizeof(blob), fp);
    CU_ASSERT_EQUAL(hbauth_verify(blob, sizeof(blob), sig, sizeof(sig), 1, fp, FP_LEN),
                    CRYPTO_EBLOB);
    /* A private key is needed to sign. */
    struct crypto_key *k = load("ec256_a.pem"), *pub = NULL;
    size_t bl;
    const uint8_t *b = crypto_key_blob(k, &bl);
    CU_ASSERT_EQUAL_FATAL(keyblob_import(b, bl, 0, &pub), CRYPTO_OK);
    CU_ASSERT_EQUAL(hbauth_sign(pub, 1, sig, sizeof(sig)), CRYPTO_EINVAL);
    CU_ASSERT_EQUAL(hbauth_sign(k, 1, sig, 10), CRYPTO_ENOSPC);
    crypto_key_free(pub);
    crypto_key_free(k);
}

static const struct cu_test hbauth_tests[] = {
    {"ECDSA: sign, verify, wrong nonce, wrong fingerprint", test_ec},
    {"RSA: sign, verify, wrong nonce, wrong fingerprint", test_rsa},
    {"malformed blob, public key", test_bad_blob},
    {NULL, NULL},
};

CU_MAIN({"crypto/hbauth", hbauth_tests})
