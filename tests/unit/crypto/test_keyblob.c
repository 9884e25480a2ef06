/* Key blobs: export, import and strict validation (core/crypto/keyblob.c). */
#include "core/crypto/crypto.h"
#include "core/crypto/keyblob.h"
#include "core/crypto/keyfile.h"
#include "core/wire/wire.h"
#include "cu.h"
#include "tv.h"

#define KEYDIR "tests/unit/crypto/vectors/keys/"

/*
 * Blobs of the test keys, computed by pyca/cryptography from the PEM files;
 * their SHA-1 equals the fingerprint the 5.0.1 uftp_keymgt prints.
 */
static const struct {
    const char *file;
    int type, curve, bits;
    const char *blob;
} keys[] = {
    {"ec256_a.pem", KEYBLOB_EC, CURVE_P256, 256,
     "02170040d0c5fbb4774e914bbc24d53a9386ebf9267ae413594ef1f6b520d9a45802adac732d16b858026b79f8ee"
     "af5bdcebaf5b995b61f9114e37e3590c23f5e4b035c6"},
    {"ec384_a.pem", KEYBLOB_EC, CURVE_P384, 384,
     "021800604eaab56922720a12e04e245df6d220eae35c42d7ab8d80804af91f0e400d36980ff363523035a2bf5ef0"
     "af0c44029a36ea2313823bd554ef171fad268ca66ee4061afb856581af2c0001419c0bde845eac4c74220f8dea8a"
     "8ea6b7fd7d45afbc"},
    {"ec521_a.pem", KEYBLOB_EC, CURVE_P521, 521,
     "021900840181acc2f614166ae92e1fca1b3eac1274ab85cc35787794e6d10705908c4d5b5467dee1c01075d7e60f"
     "4aeb8033f748211b1f1b4133b9a628f425d3ce7a87aa416900b93fca6675d5c0faf45947cd7d765e9f8fbb866f88"
     "fe3671f6c4b23706231feefc3b67dc7381fd4793f29de53ee2c1c0de44732a0f1c2e9d974082c2ddad55b4fa"},
    {"rsa1024.pem", KEYBLOB_RSA, 0, 1024,
     "0100008000010001c22912d44a1a02a174cd81c6ed193782ecfc60f67f4abe9b91d8956e67f099acba0d15fe6802"
     "311c809b29f5db06b2c25008ed3e25d2368355800d31d3d432f1a8baafefa8bd923c8a0fab36470b540f25de9a95"
     "579b6890a1d78a1c38bcb949bffda977d61f7afcced27f879156319807613d41b0bd0c749661272994e24533"},
    {"rsa2048.pem", KEYBLOB_RSA, 0, 2048,
     "0100010000010001ba0e9ec2c1cf46b6d3607894cf11f8903d4cbe0d065c0b3cdf21522b67bdc3eeab725d69cd0b"
     "a03f27c30700e6e5313d20cfcaf18a6a4935fc45017b3d9acbb979fe626e758eb63ebb652b00da2ddded9540dd85"
     "89ed22d7f38bd140cdfc04b18409fab6b014412938fa11ddb7a919783c50169223d83de1880805cd6affad293f0a"
     "42f4e4724f80baffc3401bfdf9b733c72b8064bd4b247e588fce47140bb8d8f3c7895cd510db1e541afe3fae7a08"
     "1e0dd4f54c0d084f006eee23bbabed6ae1bccb9c9184846e9312bfea4e7443e81aa377033f25c5d69cfef33f98af"
     "2a2cbf58626e2fa173a960140af12be8e9932d60af9e9dac56d3ebee88d8d1cbee95"},
};

static struct crypto_key *load(const char *file)
{
    char path[256];
    snprintf(path, sizeof(path), "%s%s", KEYDIR, file);
    struct crypto_key *k = NULL;
    int rc = keyfile_read(cu_srcpath(path), &k);
    CU_ASSERT_EQUAL(rc, CRYPTO_OK);
    return rc ? NULL : k;
}

static void test_export_known(void)
{
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        struct crypto_key *k = load(keys[i].file);
        CU_ASSERT_PTR_NOT_NULL_FATAL(k);
        CU_ASSERT_EQUAL(crypto_key_type(k), keys[i].type);
        CU_ASSERT_EQUAL(crypto_key_curve(k), keys[i].curve);
        CU_ASSERT_EQUAL(crypto_key_bits(k), keys[i].bits);
        CU_ASSERT_TRUE(crypto_key_has_private(k));
        size_t len;
        const uint8_t *b = crypto_key_blob(k, &len);
        CU_ASSERT_TRUE(tv_eq(b, len, keys[i].blob));
        uint8_t out[KEYBLOB_MAX];
        CU_ASSERT_EQUAL(keyblob_export(k, out, sizeof(out)), (int)len);
        CU_ASSERT_EQUAL(memcmp(out, b, len), 0);
        CU_ASSERT_EQUAL(keyblob_export(k, out, len - 1), CRYPTO_ENOSPC);
        crypto_key_free(k);
    }
}

static void test_import_roundtrip(void)
{
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        uint8_t blob[KEYBLOB_MAX];
        long len = tv_hex(blob, sizeof(blob), keys[i].blob);
        struct crypto_key *k;
        CU_ASSERT_EQUAL_FATAL(keyblob_import(blob, (size_t)len, 0, &k), CRYPTO_OK);
        CU_ASSERT_EQUAL(crypto_key_type(k), keys[i].type);
        CU_ASSERT_EQUAL(crypto_key_curve(k), keys[i].curve);
        CU_ASSERT_EQUAL(crypto_key_bits(k), keys[i].bits);
        CU_ASSERT_FALSE(crypto_key_has_private(k));
        size_t bl;
        const uint8_t *b = crypto_key_blob(k, &bl);
        CU_ASSERT_EQUAL(bl, (size_t)len);
        CU_ASSERT_EQUAL(memcmp(b, blob, bl), 0);
        crypto_key_free(k);
        /* Asking for the other type fails. */
        int other = keys[i].type == KEYBLOB_EC ? KEYBLOB_RSA : KEYBLOB_EC;
        CU_ASSERT_EQUAL(keyblob_import(blob, (size_t)len, other, &k), CRYPTO_EBLOB);
        CU_ASSERT_PTR_NULL(k);
        CU_ASSERT_EQUAL(keyblob_import(blob, (size_t)len, keys[i].type, &k), CRYPTO_OK);
        crypto_key_free(k);
    }
}

static void expect_bad(const uint8_t *b, size_t len, const char *why)
{
    struct crypto_key *k = (struct crypto_key *)1;
    int rc = keyblob_import(b, len, 0, &k);
    if (rc != CRYPTO_EBLOB)
        fprintf(stderr, "\n  accepted a bad blob: %s\n", why);
    CU_ASSERT_EQUAL(rc, CRYPTO_EBLOB);
    CU_ASSERT_PTR_NULL(k);
}

static void test_reject_ec(void)
{
    uint8_t good[KEYBLOB_MAX], b[KEYBLOB_MAX + 8];
    long len = tv_hex(good, sizeof(good), keys[0].blob);
    for (long n = 0; n < len; n++)
        expect_bad(good, (size_t)n, "truncated");
    memcpy(b, good, (size_t)len);
    memset(b + len, 0, 8);
    expect_bad(b, (size_t)len + 4, "zero padding beyond the exact length");
    expect_bad(b, (size_t)len + 1, "one trailing byte");
    static const struct {
        size_t off;
        uint8_t val;
        const char *why;
    } muts[] = {
        {0, 3, "unknown blob type"},
        {0, 0, "type 0"},
        {1, 0, "curve 0"},
        {1, 22, "obsolete v4 curve 22"},
        {1, 26, "curve 26"},
        {1, CURVE_P384, "curve/length mismatch"},
        {3, 0x41, "key length 65"},
        {3, 0x3c, "key length 60"},
        {2, 1, "key length 320"},
        {67, 0x00, "point off the curve (Y changed)"},
        {4, 0x00, "point off the curve (X changed)"},
    };
    for (size_t i = 0; i < sizeof(muts) / sizeof(muts[0]); i++) {
        memcpy(b, good, (size_t)len);
        if (b[muts[i].off] == muts[i].val)
            b[muts[i].off] ^= 1;
        else
            b[muts[i].off] = muts[i].val;
        expect_bad(b, (size_t)len, muts[i].why);
    }
    memset(b + 4, 0, 64);
    expect_bad(b, (size_t)len, "all-zero point");
    /* X = p (out of range) with the good Y. */
    memcpy(b, good, (size_t)len);
    tv_hex(b + 4, 32, "ffffffff00000001000000000000000000000000ffffffffffffffffffffffff");
    expect_bad(b, (size_t)len, "X = p");
    expect_bad(NULL, 0, "NULL");
    uint8_t big[KEYBLOB_MAX + 1] = {KEYBLOB_RSA};
    expect_bad(big, sizeof(big), "longer than KEYBLOB_MAX");
}

static void test_reject_rsa(void)
{
    uint8_t good[KEYBLOB_MAX], b[KEYBLOB_MAX + 8];
    long len = tv_hex(good, sizeof(good), keys[4].blob); /* 2048-bit */
    expect_bad(good, (size_t)len - 1, "truncated modulus");
    memcpy(b, good, (size_t)len);
    b[len] = 0;
    expect_bad(b, (size_t)len + 1, "trailing byte");
    const struct {
        size_t off;
        uint8_t val;
        const char *why;
    } muts[] = {
        {1, 1, "reserved byte not zero"},
        {2, 0x02, "modulus length larger than the blob"},
        {3, 0xff, "modulus length smaller than the blob"},
        {7, 0x00, "exponent 65536 (even)"},
        {7, 0x02, "exponent even"},
        {8, 0x00, "leading zero in the modulus"},
        {(size_t)len - 1, 0x94, "even modulus"},
    };
    for (size_t i = 0; i < sizeof(muts) / sizeof(muts[0]); i++) {
        memcpy(b, good, (size_t)len);
        b[muts[i].off] = muts[i].val;
        expect_bad(b, (size_t)len, muts[i].why);
    }
    memcpy(b, good, (size_t)len);
    memset(b + 4, 0, 4);
    b[7] = 1;
    expect_bad(b, (size_t)len, "exponent 1");
    b[7] = 0;
    expect_bad(b, (size_t)len, "exponent 0");

    /* A 1023-bit modulus (top byte 0x7f) is below the 1024-bit floor. */
    uint8_t s[KEYBLOB_MAX];
    long sl = tv_hex(s, sizeof(s), keys[3].blob);
    s[8] = 0x7f;
    expect_bad(s, (size_t)sl, "1023-bit modulus");
    /* 1016 bits: 127-byte modulus. */
    memmove(s + 8, s + 9, (size_t)sl - 9);
    s[2] = 0;
    s[3] = 127;
    s[8] = 0xc1;
    expect_bad(s, (size_t)sl - 1, "1016-bit modulus");
    /* A 3080-bit modulus does not fit the 392-byte blob limit. */
    uint8_t l[8 + 385];
    memset(l, 0xff, sizeof(l));
    l[0] = KEYBLOB_RSA;
    l[1] = 0;
    l[2] = 385 >> 8;
    l[3] = 385 & 0xff;
    l[4] = 0, l[5] = 1, l[6] = 0, l[7] = 1;
    expect_bad(l, sizeof(l), "3080-bit modulus");
}

static void test_curve_helpers(void)
{
    CU_ASSERT_EQUAL(keyblob_coord_len(CURVE_P256), 32);
    CU_ASSERT_EQUAL(keyblob_coord_len(CURVE_P384), 48);
    CU_ASSERT_EQUAL(keyblob_coord_len(CURVE_P521), 66);
    CU_ASSERT_EQUAL(keyblob_coord_len(22), 0);
    CU_ASSERT_EQUAL(keyblob_ec_len(CURVE_P256), 68);
    CU_ASSERT_EQUAL(keyblob_ec_len(CURVE_P384), 100);
    CU_ASSERT_EQUAL(keyblob_ec_len(CURVE_P521), 136);
    CU_ASSERT_EQUAL(keyblob_ec_len(0), 0);
    CU_ASSERT_STRING_EQUAL(keyblob_curve_name(CURVE_P256), "prime256v1");
    CU_ASSERT_STRING_EQUAL(keyblob_curve_name(CURVE_P384), "secp384r1");
    CU_ASSERT_STRING_EQUAL(keyblob_curve_name(CURVE_P521), "secp521r1");
    CU_ASSERT_PTR_NULL(keyblob_curve_name(1));
    CU_ASSERT_EQUAL(keyblob_curve_by_name("prime256v1"), CURVE_P256);
    CU_ASSERT_EQUAL(keyblob_curve_by_name("secp256r1"), CURVE_P256);
    CU_ASSERT_EQUAL(keyblob_curve_by_name("secp384r1"), CURVE_P384);
    CU_ASSERT_EQUAL(keyblob_curve_by_name("secp521r1"), CURVE_P521);
    CU_ASSERT_EQUAL(keyblob_curve_by_name("secp256k1"), 0);
    CU_ASSERT_EQUAL(keyblob_curve_by_name("P-256"), 0);
    CU_ASSERT_EQUAL(keyblob_curve_by_name(""), 0);
}

static const struct cu_test keyblob_tests[] = {
    {"export of known keys", test_export_known},
    {"import round trip", test_import_roundtrip},
    {"EC blobs are validated strictly", test_reject_ec},
    {"RSA blobs are validated strictly", test_reject_rsa},
    {"curve sizes and names", test_curve_helpers},
    {NULL, NULL},
};

CU_MAIN({"crypto/keyblob", keyblob_tests})
