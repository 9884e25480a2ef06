/* HKDF and the UFTP 5 Expand-Label (core/crypto/hkdf.c). */
#include "core/crypto/crypto.h"
#include "core/crypto/hkdf.h"
#include "core/wire/wire.h"
#include "cu.h"
#include "tv.h"

/* RFC 5869 appendix A, test cases 1-3 (SHA-256). */
static void test_rfc5869(void)
{
    static const struct {
        const char *ikm, *salt, *info, *prk, *okm;
        size_t l;
    } v[] = {
        {"0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "000102030405060708090a0b0c",
         "f0f1f2f3f4f5f6f7f8f9", "077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5",
         "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865",
         42},
        {"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b"
         "2c2d2e2f303132333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f",
         "606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f808182838485868788898a8b"
         "8c8d8e8f909192939495969798999a9b9c9d9e9fa0a1a2a3a4a5a6a7a8a9aaabacadaeaf",
         "b0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadb"
         "dcdddedfe0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff",
         "06a6b88c5853361a06104c9ceb35b45cef760014904671014a193f40c15fc244",
         "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c59045a99cac7827271cb41c6"
         "5e590e09da3275600c2f09b8367793a9aca3db71cc30c58179ec3e87c14c01d5c1f3434f1d87",
         82},
        {"0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "", "",
         "19ef24a32c717b167f33a91d6f648bdf96596776afdb6377ac434c1c293ccb04",
         "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8",
         42},
    };
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        uint8_t ikm[128], salt[128], info[128], prk[32], okm[128];
        long il = tv_hex(ikm, sizeof(ikm), v[i].ikm), sl = tv_hex(salt, sizeof(salt), v[i].salt);
        long nl = tv_hex(info, sizeof(info), v[i].info);
        CU_ASSERT_EQUAL(hkdf_extract(HASH_SHA256, salt, (size_t)sl, ikm, (size_t)il, prk),
                        CRYPTO_OK);
        CU_ASSERT_TRUE(tv_eq(prk, 32, v[i].prk));
        CU_ASSERT_EQUAL(hkdf_expand(HASH_SHA256, prk, 32, info, (size_t)nl, okm, v[i].l),
                        CRYPTO_OK);
        CU_ASSERT_TRUE(tv_eq(okm, v[i].l, v[i].okm));
    }
    /* Test case 3 again with no salt at all: hash_len zeros, the same PRK. */
    uint8_t ikm[22], prk[32];
    memset(ikm, 0x0b, sizeof(ikm));
    CU_ASSERT_EQUAL(hkdf_extract(HASH_SHA256, NULL, 0, ikm, sizeof(ikm), prk), CRYPTO_OK);
    CU_ASSERT_TRUE(tv_eq(prk, 32, v[2].prk));
}

/*
 * Expand-Label is HKDF-Expand with info "UFTP5 " || label || context, no
 * length prefixes (spec §1.8). The expected values were printed by the
 * 5.0.1 reference's HKDF_Expand_Label (linked in a throwaway program) and
 * by an independent Python HKDF over the same info string.
 */
static void test_expand_label(void)
{
    uint8_t secret[32], out[64];
    for (int i = 0; i < 32; i++)
        secret[i] = (uint8_t)i;
    CU_ASSERT_EQUAL(hkdf_expand_label(HASH_SHA256, secret, 32, "key", NULL, 0, out, 32), CRYPTO_OK);
    /* Equals a plain expand with the concatenated info. */
    uint8_t direct[32];
    CU_ASSERT_EQUAL(
        hkdf_expand(HASH_SHA256, secret, 32, (const uint8_t *)"UFTP5 key", 9, direct, 32),
        CRYPTO_OK);
    CU_ASSERT_EQUAL(memcmp(out, direct, 32), 0);
    CU_ASSERT_TRUE(
        tv_eq(out, 32, "9e373d7a52240783451fab667c94548c2ae423a83c4f23160753fddc0588cead"));

    uint8_t ctx[48];
    for (int i = 0; i < 48; i++)
        ctx[i] = (uint8_t)(0xa0 + i);
    CU_ASSERT_EQUAL(hkdf_expand_label(HASH_SHA384, secret, 32, "s hs traffic", ctx, 48, out, 48),
                    CRYPTO_OK);
    CU_ASSERT_TRUE(tv_eq(out, 48,
                         "65ee88f4eab8337b2d403cfe094573f7f364ecc1f5bf41e418edf0e140fb0f35"
                         "18a1758d2ab2c807a81822ed3206e760"));
    CU_ASSERT_EQUAL(hkdf_expand_label(HASH_SHA512, secret, 32, "iv", NULL, 0, out, 12), CRYPTO_OK);
    CU_ASSERT_TRUE(tv_eq(out, 12, "520507255b1016bb99819a20"));
}

static void test_limits(void)
{
    uint8_t prk[32] = {1}, out[8200];
    CU_ASSERT_EQUAL(hkdf_expand(HASH_SHA256, prk, 32, NULL, 0, out, 255 * 32), CRYPTO_OK);
    CU_ASSERT_EQUAL(hkdf_expand(HASH_SHA256, prk, 32, NULL, 0, out, 255 * 32 + 1), CRYPTO_EINVAL);
    CU_ASSERT_EQUAL(hkdf_expand(HASH_SHA256, prk, 32, NULL, 0, out, 0), CRYPTO_EINVAL);
    CU_ASSERT_EQUAL(hkdf_expand(HASH_SHA256, prk, 0, NULL, 0, out, 32), CRYPTO_EINVAL);
    CU_ASSERT_EQUAL(hkdf_expand(HASH_MD5, prk, 32, NULL, 0, out, 16), CRYPTO_EINVAL);
    CU_ASSERT_EQUAL(hkdf_extract(HASH_NONE, NULL, 0, prk, 32, out), CRYPTO_EINVAL);
    uint8_t ctx[300] = {0};
    CU_ASSERT_EQUAL(hkdf_expand_label(HASH_SHA256, prk, 32, "key", ctx, 200, out, 16), CRYPTO_OK);
    CU_ASSERT_EQUAL(hkdf_expand_label(HASH_SHA256, prk, 32, "key", ctx, 300, out, 16),
                    CRYPTO_EINVAL);
}

static const struct cu_test hkdf_tests[] = {
    {"RFC 5869 SHA-256 cases 1-3", test_rfc5869},
    {"UFTP5 Expand-Label", test_expand_label},
    {"length limits", test_limits},
    {NULL, NULL},
};

CU_MAIN({"crypto/hkdf", hkdf_tests})
