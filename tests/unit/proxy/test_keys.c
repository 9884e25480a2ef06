/*
 * proxy/keys.c: the v4 PROXY_KEY a response proxy sends for KEY_REQ
 * (spec §1.9 item 5), checked byte by byte and with the client's own
 * verifier (skeys_proxy4_key, as uftpd -r uses it).
 */
#include <string.h>

#include "core/crypto/ecdh.h"
#include "core/crypto/fp.h"
#include "core/crypto/keyblob.h"
#include "core/crypto/keyfile.h"
#include "core/crypto/sig.h"
#include "core/crypto/skeys.h"
#include "core/log.h"
#include "core/wire/proxykey.h"
#include "cu.h"
#include "proxy/keys.h"

static struct crypto_key *load(const char *name)
{
    char path[256];
    snprintf(path, sizeof(path), "tests/unit/crypto/vectors/keys/%s", name);
    struct crypto_key *k = NULL;
    CU_ASSERT_EQUAL_FATAL(keyfile_read(cu_srcpath(path), &k), CRYPTO_OK);
    return k;
}

/* Builds one with sig (and a fresh ECDH key on curve) and checks it as a client would. */
static void check_one(const char *keyname, int curve, size_t dhlen)
{
    struct crypto_key *sk = load(keyname), *dh = NULL;
    CU_ASSERT_EQUAL_FATAL(ecdh_keygen(curve, &dh), CRYPTO_OK);
    uint8_t b[1024];
    ssize_t n = keys_proxy4_key_build(b, sizeof(b), sk, dh, 0xA1B2C3D4u);
    size_t bl, dl;
    const uint8_t *blob = crypto_key_blob(sk, &bl);
    const uint8_t *dhb = crypto_key_blob(dh, &dl);
    CU_ASSERT_EQUAL(dl, dhlen);
    size_t sl = sig_len(sk);
    size_t want = (12 + bl + dl + sl + 3) / 4 * 4;
    CU_ASSERT_EQUAL_FATAL(n, (ssize_t)want);
    /* layout (spec §1.9): func, hlen, keylen, dhlen, siglen, nonce, blobs, signature */
    CU_ASSERT_EQUAL(b[0], PROXY_KEY);
    CU_ASSERT_EQUAL(b[1], want / 4);
    CU_ASSERT_EQUAL((size_t)(b[2] << 8 | b[3]), bl);
    CU_ASSERT_EQUAL((size_t)(b[4] << 8 | b[5]), dl);
    CU_ASSERT_EQUAL((size_t)(b[6] << 8 | b[7]), sl);
    CU_ASSERT_EQUAL(b[8], 0xA1);
    CU_ASSERT_EQUAL(b[9], 0xB2);
    CU_ASSERT_EQUAL(b[10], 0xC3);
    CU_ASSERT_EQUAL(b[11], 0xD4);
    CU_ASSERT_EQUAL(memcmp(b + 12, blob, bl), 0);
    CU_ASSERT_EQUAL(memcmp(b + 12 + bl, dhb, dl), 0);
    /* The signature is SHA-1 over the 4 nonce bytes as they travel. */
    struct crypto_iov v = {b + 8, 4};
    CU_ASSERT_EQUAL(sig_verify(sk, HASH_SHA1, &v, 1, b + 12 + bl + dl, sl), CRYPTO_OK);
    CU_ASSERT_NOT_EQUAL(sig_verify(sk, HASH_SHA256, &v, 1, b + 12 + bl + dl, sl), CRYPTO_OK);

    /* What uftpd -r does with it: fingerprint, signature, the two keys. */
    uint8_t fp[FP_LEN];
    CU_ASSERT_EQUAL_FATAL(fp_compute(blob, bl, fp), 0);
    struct crypto_key *gs = NULL, *gd = NULL;
    CU_ASSERT_EQUAL(skeys_proxy4_key(b, (size_t)n, fp, sizeof(fp), &gs, &gd), CRYPTO_OK);
    CU_ASSERT_PTR_NOT_NULL(gd);
    if (gd != NULL) {
        size_t gl;
        const uint8_t *g = crypto_key_blob(gd, &gl);
        CU_ASSERT_EQUAL(gl, dl);
        CU_ASSERT_EQUAL(memcmp(g, dhb, dl), 0);
        CU_ASSERT_EQUAL(crypto_key_curve(gd), curve);
    }
    crypto_key_free(gs);
    crypto_key_free(gd);
    /* Another key's fingerprint, a changed nonce: refused. */
    fp[0] ^= 1;
    CU_ASSERT_EQUAL(skeys_proxy4_key(b, (size_t)n, fp, sizeof(fp), &gs, &gd), SKEYS_EFP);
    b[11] ^= 1;
    CU_ASSERT_EQUAL(skeys_proxy4_key(b, (size_t)n, NULL, 0, &gs, &gd), CRYPTO_ESIG);
    CU_ASSERT_PTR_NULL(gs);
    CU_ASSERT_PTR_NULL(gd);
    crypto_key_free(sk);
    crypto_key_free(dh);
}

static void test_ec(void)
{
    log_init("test", -1);
    check_one("ec256_a.pem", CURVE_P256, 68);
    check_one("ec384_a.pem", CURVE_P384, 100);
}

static void test_rsa(void)
{
    check_one("rsa2048.pem", CURVE_P521, 136);
}

static void test_errors(void)
{
    struct crypto_key *sk = load("ec256_a.pem"), *rsa = load("rsa1024.pem"), *dh = NULL;
    CU_ASSERT_EQUAL_FATAL(ecdh_keygen(CURVE_P256, &dh), CRYPTO_OK);
    uint8_t b[1024];
    /* no ECDH key, or an RSA one: nothing to offer */
    CU_ASSERT_EQUAL(keys_proxy4_key_build(b, sizeof(b), sk, NULL, 1), KEYS_ETYPE);
    CU_ASSERT_EQUAL(keys_proxy4_key_build(b, sizeof(b), sk, rsa, 1), KEYS_ETYPE);
    CU_ASSERT_EQUAL(keys_proxy4_key_build(b, sizeof(b), NULL, dh, 1), KEYS_ETYPE);
    /* a public key only cannot sign */
    size_t bl;
    const uint8_t *blob = crypto_key_blob(sk, &bl);
    struct crypto_key *pub = NULL;
    CU_ASSERT_EQUAL_FATAL(keyblob_import(blob, bl, 0, &pub), CRYPTO_OK);
    CU_ASSERT_EQUAL(keys_proxy4_key_build(b, sizeof(b), pub, dh, 1), KEYS_ETYPE);
    /* no room */
    CU_ASSERT_EQUAL(keys_proxy4_key_build(b, 100, sk, dh, 1), KEYS_EFRAME);
    crypto_key_free(pub);
    crypto_key_free(sk);
    crypto_key_free(rsa);
    crypto_key_free(dh);
}

static const struct cu_test keys_tests[] = {
    {"v4 PROXY_KEY: ECDSA P-256 and P-384 signing keys", test_ec},
    {"v4 PROXY_KEY: RSA signing key, P-521 ECDH key", test_rsa},
    {"v4 PROXY_KEY: refusals", test_errors},
    {NULL, NULL},
};

CU_MAIN({"proxy/keys", keys_tests})
