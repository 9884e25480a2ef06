/* v4 group-master CBC wrapping (core/crypto/cbc.c). */
#include "core/crypto/cbc.h"
#include "core/crypto/crypto.h"
#include "core/wire/wire.h"
#include "cu.h"
#include "tv.h"

static const uint8_t salt[4] = {0xde, 0xad, 0xbe, 0xef};

/*
 * The reference's encrypt_block (AES-CBC with OpenSSL's default PKCS#7
 * padding) turns the 47 bytes into 48; its decrypt_block must give back
 * exactly 47. The expected ciphertexts were printed by the 5.0.1 reference
 * (encrypt_block with KEY_AES128_CBC / KEY_AES256_CBC, IV from build_iv4)
 * and by pyca AES-CBC over the 47 bytes plus one 0x01 byte.
 */
static void test_reference_vectors(void)
{
    static const struct {
        int type;
        const char *ct;
    } v[] = {
        {KEY_AES128_GCM,
         "943dfa267607445590b0ff640e0a421b1d9195a2a8317b3056ea9aa41b28a50d69e37b57e9f4e99f"
         "d8b26b2e7a77e0a7"},
        {KEY_AES256_CCM,
         "a7bf24e8ad20c9122b250805efc650c3be5304b90946c0ee60437d2b1ea2a5c4c236ea6d14fd0b99"
         "2642a0de2bc32631"},
    };
    uint8_t key[32], gm[47], iv[16], out[48], back[47];
    for (int i = 0; i < 32; i++)
        key[i] = (uint8_t)(0x40 + i);
    for (int i = 0; i < 47; i++)
        gm[i] = (uint8_t)(0x80 + i);
    cbc_v4_iv(iv, salt, 0x0a4d0101, 7);
    CU_ASSERT_TRUE(tv_eq(iv, 16, "deadbeef0a4d01010000000000000007"));
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        CU_ASSERT_EQUAL(cbc_v4_gm_wrap(v[i].type, key, iv, gm, out), CRYPTO_OK);
        CU_ASSERT_TRUE(tv_eq(out, 48, v[i].ct));
        CU_ASSERT_EQUAL(cbc_v4_gm_unwrap(v[i].type, key, iv, out, back), CRYPTO_OK);
        CU_ASSERT_EQUAL(memcmp(back, gm, 47), 0);
    }
}

static void test_types(void)
{
    uint8_t key[32] = {1}, gm[47] = {2}, iv[16] = {3}, a[48], b[48], back[47];
    /* The CBC code of the same size is the same cipher. */
    CU_ASSERT_EQUAL(cbc_v4_gm_wrap(KEY_AES128_CBC, key, iv, gm, a), CRYPTO_OK);
    CU_ASSERT_EQUAL(cbc_v4_gm_wrap(KEY_AES128_CCM, key, iv, gm, b), CRYPTO_OK);
    CU_ASSERT_EQUAL(memcmp(a, b, 48), 0);
    CU_ASSERT_EQUAL(cbc_v4_gm_wrap(KEY_AES256_CBC, key, iv, gm, b), CRYPTO_OK);
    CU_ASSERT_NOT_EQUAL(memcmp(a, b, 48), 0);
    CU_ASSERT_EQUAL(cbc_v4_gm_wrap(KEY_DES, key, iv, gm, a), CRYPTO_EINVAL);
    CU_ASSERT_EQUAL(cbc_v4_gm_unwrap(KEY_NONE, key, iv, b, back), CRYPTO_EINVAL);
}

/* Anything but one 0x01 pad byte is refused, and the output wiped. */
static void test_bad_padding(void)
{
    uint8_t key[16] = {5}, gm[47], iv[16] = {6}, ct[48], back[47], zero[47] = {0};
    memset(gm, 0x11, sizeof(gm));
    CU_ASSERT_EQUAL(cbc_v4_gm_wrap(KEY_AES128_GCM, key, iv, gm, ct), CRYPTO_OK);
    /* In CBC, flipping byte 15 of ciphertext block 2 flips plaintext byte 47,
     * the pad: 0x01 -> 0x02 is valid PKCS#7 for 46 bytes, but not 47. */
    ct[31] ^= 0x03;
    memset(back, 0xee, sizeof(back));
    CU_ASSERT_EQUAL(cbc_v4_gm_unwrap(KEY_AES128_GCM, key, iv, ct, back), CRYPTO_EAUTH);
    CU_ASSERT_EQUAL(memcmp(back, zero, sizeof(back)), 0);
    ct[31] ^= 0x03;
    CU_ASSERT_EQUAL(cbc_v4_gm_unwrap(KEY_AES128_GCM, key, iv, ct, back), CRYPTO_OK);
    CU_ASSERT_EQUAL(memcmp(back, gm, 47), 0);
    /* Wrong key: garbage padding (with overwhelming probability). */
    key[0] ^= 1;
    CU_ASSERT_EQUAL(cbc_v4_gm_unwrap(KEY_AES128_GCM, key, iv, ct, back), CRYPTO_EAUTH);
}

static const struct cu_test cbc_tests[] = {
    {"wrap/unwrap equals the reference", test_reference_vectors},
    {"key types", test_types},
    {"padding other than one 0x01 byte fails", test_bad_padding},
    {NULL, NULL},
};

CU_MAIN({"crypto/cbc", cbc_tests})
