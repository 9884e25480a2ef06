/* The v4 PRF (core/crypto/prf.c). */
#include "core/crypto/crypto.h"
#include "core/crypto/prf.h"
#include "core/wire/wire.h"
#include "cu.h"
#include "tv.h"

static const uint8_t secret[16] = {0x9b, 0xbe, 0x43, 0x6b, 0xa9, 0x40, 0xf0, 0x17,
                                   0xb1, 0x76, 0x52, 0x84, 0x9a, 0x71, 0xdb, 0x35};
static const uint8_t seed[16] = {0xa0, 0xba, 0x9f, 0x93, 0x6c, 0xda, 0x31, 0x18,
                                 0x27, 0xa6, 0xf7, 0x96, 0xff, 0xd5, 0x19, 0x8c};

/*
 * The widely used TLS 1.2 PRF SHA-256 vector ("test label"; also what
 * `openssl kdf TLS1-PRF` prints). Its first 32 bytes must agree with ours;
 * the rest must not, because UFTP chains A(i) = out(i-1) (see prf.h).
 */
static void test_first_block_is_rfc5246(void)
{
    static const char rfc[] = "e3f229ba727be17b8d122620557cd453c2aab21d07c3d495329b52d4e61edb5a"
                              "6b301791e90d35c9c9a46b4e14baf9af0fa022f7077def17abfd3797c0564bab"
                              "4fbc91666e9def9b97fce34f796789baa48082d122ee42c5a72e5a5110fff701"
                              "87347b66";
    uint8_t out[100], want[100];
    tv_hex(want, sizeof(want), rfc);
    CU_ASSERT_EQUAL(prf_v4(HASH_SHA256, secret, 16, "test label", seed, 16, out, 100), CRYPTO_OK);
    CU_ASSERT_EQUAL(memcmp(out, want, 32), 0);
    CU_ASSERT_NOT_EQUAL(memcmp(out + 32, want + 32, 68), 0);
}

/*
 * Full outputs, as printed by the 5.0.1 reference's PRF() (uftp_common.o
 * linked into a throwaway program) and by an independent Python model of
 * the UFTP chaining; both agreed byte for byte.
 */
static void test_reference_outputs(void)
{
    static const struct {
        int type;
        const char *hex;
    } v[] = {
        {HASH_SHA256, "e3f229ba727be17b8d122620557cd453c2aab21d07c3d495329b52d4e61edb5a4d5a6ee4573d"
                      "45a31772f955454b8dfad870657a7d4eef1de8ad08ea61099108e7829e18769a4975d4f8ac"
                      "dfdd33746be041683eb32a8776bd110a44c34c3013b8d53b44"},
        {HASH_SHA384, "dd88775cd827187b67a3f7652b5c13f715791cc46e0274a6d3fb16651103defc544cd8afb683"
                      "69a219bb918b8b21ddb1f85a1fc368440e35756846d785c896a88bc941be26a0159c75f05d"
                      "b993c99f61f3c624635208108b36cd14478fcc74a42572787f"},
        {HASH_SHA512, "e7611080ff43fae90e81ad9a998a42962b5f11cde83b990f63d271c882d94d5b962dbc042807"
                      "71880ad6db6774e71298e522193133dfcaa464b96ffb0600ad29ac838a628363ddd78884ad"
                      "98dab4191f08c4cb8b68c8d36cbdae19b75f7779cdeee21f1d"},
    };
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        uint8_t out[100];
        CU_ASSERT_EQUAL(prf_v4(v[i].type, secret, 16, "test label", seed, 16, out, 100), CRYPTO_OK);
        CU_ASSERT_TRUE(tv_eq(out, 100, v[i].hex));
        /* A shorter request is a prefix of the longer one. */
        uint8_t shortout[37];
        CU_ASSERT_EQUAL(prf_v4(v[i].type, secret, 16, "test label", seed, 16, shortout, 37),
                        CRYPTO_OK);
        CU_ASSERT_EQUAL(memcmp(shortout, out, 37), 0);
    }
}

static void test_limits(void)
{
    uint8_t out[PRF_OUT_MAX + 1], big[PRF_SEED_MAX + 1] = {0};
    CU_ASSERT_EQUAL(prf_v4(HASH_SHA256, secret, 16, "x", seed, 16, out, PRF_OUT_MAX), CRYPTO_OK);
    CU_ASSERT_EQUAL(prf_v4(HASH_SHA256, secret, 16, "x", seed, 16, out, PRF_OUT_MAX + 1),
                    CRYPTO_EINVAL);
    CU_ASSERT_EQUAL(prf_v4(HASH_SHA256, secret, 16, "x", big, sizeof(big), out, 12), CRYPTO_EINVAL);
    CU_ASSERT_EQUAL(prf_v4(HASH_MD5, secret, 16, "x", seed, 16, out, 12), CRYPTO_EINVAL);
    CU_ASSERT_EQUAL(prf_v4(HASH_SHA256, secret, 16, "x", seed, 16, out, 0), CRYPTO_OK);
}

static const struct cu_test prf_tests[] = {
    {"first block equals RFC 5246 P_hash", test_first_block_is_rfc5246},
    {"outputs equal the reference's PRF", test_reference_outputs},
    {"length limits", test_limits},
    {NULL, NULL},
};

CU_MAIN({"crypto/prf", prf_tests})
