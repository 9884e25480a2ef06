/* Hashes, HMAC, randomness and helpers (core/crypto/crypto.c). */
#include "core/crypto/crypto.h"
#include "core/wire/wire.h"
#include "cu.h"
#include "tv.h"

/* FIPS 180 "abc" digests. */
static void test_hash_kat(void)
{
    static const struct {
        int type;
        size_t len;
        const char *hex;
    } v[] = {
        {HASH_SHA1, 20, "a9993e364706816aba3e25717850c26c9cd0d89d"},
        {HASH_SHA256, 32, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
        {HASH_SHA384, 48,
         "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca1"
         "34c825a7"},
        {HASH_SHA512, 64,
         "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23"
         "a3feebbd454d4423643ce80e2a9ac94fa54ca49f"},
    };
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        uint8_t out[CRYPTO_HASH_MAX];
        CU_ASSERT_EQUAL(crypto_hash_len(v[i].type), v[i].len);
        CU_ASSERT_EQUAL(crypto_hash(v[i].type, "abc", 3, out), CRYPTO_OK);
        CU_ASSERT_TRUE(tv_eq(out, v[i].len, v[i].hex));
        /* The same message in pieces gives the same digest. */
        struct crypto_iov parts[3] = {{"a", 1}, {"", 0}, {"bc", 2}};
        CU_ASSERT_EQUAL(crypto_hashv(v[i].type, parts, 3, out), CRYPTO_OK);
        CU_ASSERT_TRUE(tv_eq(out, v[i].len, v[i].hex));
    }
}

static void test_hash_types(void)
{
    uint8_t out[CRYPTO_HASH_MAX];
    CU_ASSERT_EQUAL(crypto_hash_len(HASH_NONE), 0);
    CU_ASSERT_EQUAL(crypto_hash_len(HASH_MD5), 0);
    CU_ASSERT_EQUAL(crypto_hash_len(99), 0);
    CU_ASSERT_EQUAL(crypto_hash(HASH_MD5, "abc", 3, out), CRYPTO_EINVAL);
    CU_ASSERT_EQUAL(crypto_hmac(0, (const uint8_t *)"k", 1, "abc", 3, out), CRYPTO_EINVAL);
    /* SHA-1 is internal only: never a session hash (spec §1.2). */
    CU_ASSERT_FALSE(crypto_hash_session_ok(HASH_SHA1));
    CU_ASSERT_TRUE(crypto_hash_session_ok(HASH_SHA256));
    CU_ASSERT_TRUE(crypto_hash_session_ok(HASH_SHA384));
    CU_ASSERT_TRUE(crypto_hash_session_ok(HASH_SHA512));
    CU_ASSERT_FALSE(crypto_hash_session_ok(HASH_NONE));
}

/* RFC 2202 / RFC 4231 test case 2, and RFC 4231 case 6 (key longer than a block). */
static void test_hmac_kat(void)
{
    static const char msg[] = "what do ya want for nothing?";
    static const struct {
        int type;
        const char *hex;
    } v[] = {
        {HASH_SHA1, "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"},
        {HASH_SHA256, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
        {HASH_SHA384, "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e8e2240ca5e6"
                      "9e2c78b3239ecfab21649"},
        {HASH_SHA512, "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05"
                      "a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737"},
    };
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        uint8_t out[CRYPTO_HASH_MAX];
        CU_ASSERT_EQUAL(
            crypto_hmac(v[i].type, (const uint8_t *)"Jefe", 4, msg, sizeof(msg) - 1, out),
            CRYPTO_OK);
        CU_ASSERT_TRUE(tv_eq(out, crypto_hash_len(v[i].type), v[i].hex));
    }
    uint8_t key[131], out[CRYPTO_HASH_MAX];
    memset(key, 0xaa, sizeof(key));
    static const char m6[] = "Test Using Larger Than Block-Size Key - Hash Key First";
    struct crypto_iov parts[2] = {{m6, 10}, {m6 + 10, sizeof(m6) - 11}};
    CU_ASSERT_EQUAL(crypto_hmacv(HASH_SHA256, key, sizeof(key), parts, 2, out), CRYPTO_OK);
    CU_ASSERT_TRUE(
        tv_eq(out, 32, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"));
    CU_ASSERT_EQUAL(crypto_hmac(HASH_SHA512, key, sizeof(key), m6, sizeof(m6) - 1, out), CRYPTO_OK);
    CU_ASSERT_TRUE(
        tv_eq(out, 64,
              "80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f3526b56d037e0"
              "5f2598bd0fd2215d6a1e5295e64f73f63f0aec8b915a985d786598"));
}

/* HMAC with an empty key is the key of all zeros (HKDF-Extract with no salt relies on it). */
static void test_hmac_empty_key(void)
{
    uint8_t a[32], b[32], zeros[32] = {0};
    CU_ASSERT_EQUAL(crypto_hmac(HASH_SHA256, NULL, 0, "x", 1, a), CRYPTO_OK);
    CU_ASSERT_EQUAL(crypto_hmac(HASH_SHA256, zeros, sizeof(zeros), "x", 1, b), CRYPTO_OK);
    CU_ASSERT_EQUAL(memcmp(a, b, 32), 0);
}

static void test_random(void)
{
    uint8_t a[64] = {0}, b[64] = {0}, z[64] = {0};
    crypto_random(a, sizeof(a));
    crypto_random(b, sizeof(b));
    /* 2^-512 chance of a false failure. */
    CU_ASSERT_NOT_EQUAL(memcmp(a, z, sizeof(a)), 0);
    CU_ASSERT_NOT_EQUAL(memcmp(a, b, sizeof(a)), 0);
    crypto_random(a, 0); /* a no-op, not a crash */
    static uint8_t big[1 << 20];
    crypto_random(big, sizeof(big));
    size_t ones = 0;
    for (size_t i = 0; i < sizeof(big); i++)
        ones += (size_t)__builtin_popcount(big[i]);
    /* 8 Mbit, mean 4 Mi, sd ~1448: 20 sd either side. */
    CU_ASSERT_TRUE(ones > 4194304 - 29000 && ones < 4194304 + 29000);
}

static void test_memeq_wipe(void)
{
    uint8_t a[5] = {1, 2, 3, 4, 5}, b[5] = {1, 2, 3, 4, 5};
    CU_ASSERT_TRUE(crypto_memeq(a, b, 5));
    b[4] = 6;
    CU_ASSERT_FALSE(crypto_memeq(a, b, 5));
    CU_ASSERT_TRUE(crypto_memeq(a, b, 4));
    crypto_wipe(a, sizeof(a));
    for (size_t i = 0; i < sizeof(a); i++)
        CU_ASSERT_EQUAL(a[i], 0);
    crypto_wipe(NULL, 0);
}

static void test_strerror(void)
{
    CU_ASSERT_STRING_EQUAL(crypto_strerror(CRYPTO_EAUTH), "authentication failed");
    CU_ASSERT_STRING_EQUAL(crypto_strerror(-999), "unknown crypto error");
    for (int e = CRYPTO_EFORMAT; e <= 0; e++)
        CU_ASSERT_STRING_NOT_EQUAL(crypto_strerror(e), "unknown crypto error");
}

static const struct cu_test crypto_tests[] = {
    {"hash known answers (FIPS 180)", test_hash_kat},
    {"hash type codes", test_hash_types},
    {"HMAC known answers (RFC 2202/4231)", test_hmac_kat},
    {"HMAC empty key equals zero key", test_hmac_empty_key},
    {"CSPRNG output", test_random},
    {"constant-time compare and wipe", test_memeq_wipe},
    {"error strings", test_strerror},
    {NULL, NULL},
};

CU_MAIN({"crypto/crypto", crypto_tests})
