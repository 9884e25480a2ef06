/* ECDH and the premaster (core/crypto/ecdh.c). */
#include "core/crypto/crypto.h"
#include "core/crypto/ecdh.h"
#include "core/crypto/keyblob.h"
#include "core/crypto/keyfile.h"
#include "core/wire/wire.h"
#include "cu.h"
#include "tv.h"

#define KEYDIR "tests/unit/crypto/vectors/keys/"

static struct crypto_key *load(const char *file)
{
    char path[256];
    snprintf(path, sizeof(path), "%s%s", KEYDIR, file);
    struct crypto_key *k = NULL;
    CU_ASSERT_EQUAL(keyfile_read(cu_srcpath(path), &k), CRYPTO_OK);
    return k;
}

static struct crypto_key *public_of(const struct crypto_key *k)
{
    size_t len;
    const uint8_t *b = crypto_key_blob(k, &len);
    struct crypto_key *p = NULL;
    CU_ASSERT_EQUAL(keyblob_import(b, len, KEYBLOB_EC, &p), CRYPTO_OK);
    return p;
}

/*
 * Shared secrets of the a/b test keys, and SHA-256 (v5) / SHA-1 (v4) of
 * them, as computed by pyca/cryptography's ECDH exchange.
 */
static void test_known_secrets(void)
{
    static const struct {
        const char *a, *b, *z, *pm5, *pm4;
    } v[] = {
        {"ec256_a.pem", "ec256_b.pem",
         "3645a513a958e22a207776b4ebd4a86842624cedaec9c74f73514be8e008dc4f",
         "6e31c0340406a38f94521833300d15ab9ac686bfaba9dc0a7187f7ea40a93a43",
         "827dc0849095dff2be014cb38629dc5c751331d1"},
        {"ec384_a.pem", "ec384_b.pem",
         "661a452570a120dbc64b640aa6885918bb69f01858574b3f001b236e0acf21cd054a5ce5ccdd377d7faf6318"
         "5d8350d7",
         "bc02a9ce18adb7321a435259349db04eab8b2b07aa2906595e2fdb6612720295",
         "4fa5d3e030d6005d7d75bc1257aa5476aecc1958"},
        /* The P-521 secret has a leading zero byte: it must be kept (66 bytes). */
        {"ec521_a.pem", "ec521_b.pem",
         "00abc8c28f796a0426894075f6c0aebe85b43d9700b2d7de84e93f2414bc4eda487bc2a28c63bbd154c308aa"
         "020f8d57671544729ba9fb71312b22a0253e1db53d59",
         "d5df107dd88b31c35e6ac5de824f73e24966655518046ace5ad6a0f1231871d1",
         "5e9a77f825e3abad41aed1cb7ece1a78e4d01217"},
    };
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        struct crypto_key *a = load(v[i].a), *b = load(v[i].b);
        CU_ASSERT_PTR_NOT_NULL_FATAL(a);
        CU_ASSERT_PTR_NOT_NULL_FATAL(b);
        struct crypto_key *pa = public_of(a), *pb = public_of(b);
        uint8_t z[ECDH_SECRET_MAX], z2[ECDH_SECRET_MAX], pm[32];
        int n = ecdh_shared_secret(a, pb, z, sizeof(z));
        CU_ASSERT_EQUAL(n, (int)keyblob_coord_len(crypto_key_curve(a)));
        CU_ASSERT_TRUE(tv_eq(z, (size_t)n, v[i].z));
        CU_ASSERT_EQUAL(ecdh_shared_secret(b, pa, z2, sizeof(z2)), n);
        CU_ASSERT_EQUAL(memcmp(z, z2, (size_t)n), 0);
        CU_ASSERT_EQUAL(ecdh_premaster(a, pb, HASH_SHA256, pm), 32);
        CU_ASSERT_TRUE(tv_eq(pm, 32, v[i].pm5));
        CU_ASSERT_EQUAL(ecdh_premaster(b, pa, HASH_SHA1, pm), 20);
        CU_ASSERT_TRUE(tv_eq(pm, 20, v[i].pm4));
        CU_ASSERT_EQUAL(ecdh_shared_secret(a, pb, z, (size_t)n - 1), CRYPTO_ENOSPC);
        CU_ASSERT_EQUAL(ecdh_premaster(a, pb, HASH_SHA384, pm), CRYPTO_EINVAL);
        crypto_key_free(pa);
        crypto_key_free(pb);
        crypto_key_free(a);
        crypto_key_free(b);
    }
}

static void test_keygen(void)
{
    static const int curves[] = {CURVE_P256, CURVE_P384, CURVE_P521};
    for (size_t i = 0; i < 3; i++) {
        struct crypto_key *a, *b;
        CU_ASSERT_EQUAL_FATAL(ecdh_keygen(curves[i], &a), CRYPTO_OK);
        CU_ASSERT_EQUAL_FATAL(ecdh_keygen(curves[i], &b), CRYPTO_OK);
        CU_ASSERT_EQUAL(crypto_key_type(a), KEYBLOB_EC);
        CU_ASSERT_EQUAL(crypto_key_curve(a), curves[i]);
        CU_ASSERT_TRUE(crypto_key_has_private(a));
        size_t len;
        crypto_key_blob(a, &len);
        CU_ASSERT_EQUAL(len, keyblob_ec_len(curves[i]));
        /* Both ends derive the same premaster through the wire blobs. */
        struct crypto_key *pa = public_of(a), *pb = public_of(b);
        uint8_t p1[32], p2[32];
        CU_ASSERT_EQUAL(ecdh_premaster(a, pb, HASH_SHA256, p1), 32);
        CU_ASSERT_EQUAL(ecdh_premaster(b, pa, HASH_SHA256, p2), 32);
        CU_ASSERT_EQUAL(memcmp(p1, p2, 32), 0);
        crypto_key_free(pa);
        crypto_key_free(pb);
        crypto_key_free(a);
        crypto_key_free(b);
    }
    struct crypto_key *k = (struct crypto_key *)1;
    CU_ASSERT_EQUAL(ecdh_keygen(22, &k), CRYPTO_EINVAL);
    CU_ASSERT_PTR_NULL(k);
}

static void test_mismatch(void)
{
    struct crypto_key *a = load("ec256_a.pem"), *c = load("ec384_a.pem"), *r = load("rsa2048.pem");
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    struct crypto_key *pa = public_of(a), *pc = public_of(c);
    uint8_t z[ECDH_SECRET_MAX];
    CU_ASSERT_EQUAL(ecdh_shared_secret(a, pc, z, sizeof(z)), CRYPTO_EINVAL);
    CU_ASSERT_EQUAL(ecdh_shared_secret(r, pa, z, sizeof(z)), CRYPTO_EINVAL);
    CU_ASSERT_EQUAL(ecdh_shared_secret(a, r, z, sizeof(z)), CRYPTO_EINVAL);
    /* Our own key must hold its private half. */
    CU_ASSERT_EQUAL(ecdh_shared_secret(pa, pa, z, sizeof(z)), CRYPTO_EINVAL);
    crypto_key_free(pa);
    crypto_key_free(pc);
    crypto_key_free(a);
    crypto_key_free(c);
    crypto_key_free(r);
}

static const struct cu_test ecdh_tests[] = {
    {"known shared secrets and premasters", test_known_secrets},
    {"ephemeral key generation on each curve", test_keygen},
    {"curve and type mismatches", test_mismatch},
    {NULL, NULL},
};

CU_MAIN({"crypto/ecdh", ecdh_tests})
