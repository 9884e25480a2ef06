/* Key fingerprints (core/crypto/fp.c). */
#include "core/crypto/crypto.h"
#include "core/crypto/fp.h"
#include "core/crypto/keyblob.h"
#include "core/crypto/keyfile.h"
#include "core/wire/wire.h"
#include "cu.h"
#include "tv.h"

/* ec256_a.pem, whose fingerprint the 5.0.1 uftp_keymgt prints as FP_A. */
static const char blob_a[] = "02170040d0c5fbb4774e914bbc24d53a9386ebf9267ae413594ef1f6b520d9a458"
                             "02adac732d16b858026b79f8eeaf5bdcebaf5b995b61f9114e37e3590c23f5e4b0"
                             "35c6";
#define FP_A "2A:61:6A:37:81:15:A6:7E:ED:72:27:1F:50:4D:21:31:B6:8C:0E:04"

static void test_compute_format(void)
{
    uint8_t blob[68], fp[FP_LEN];
    tv_hex(blob, sizeof(blob), blob_a);
    CU_ASSERT_EQUAL(fp_compute(blob, sizeof(blob), fp), CRYPTO_OK);
    char s[FP_STR_LEN];
    CU_ASSERT_EQUAL(fp_format(fp, FP_LEN, s, sizeof(s)), FP_STR_LEN - 1);
    CU_ASSERT_STRING_EQUAL(s, FP_A);
    CU_ASSERT_EQUAL(fp_format(fp, FP_LEN, s, sizeof(s) - 1), CRYPTO_ENOSPC);
    CU_ASSERT_EQUAL(fp_format(fp, 0, s, sizeof(s)), CRYPTO_ENOSPC);
    CU_ASSERT_EQUAL(fp_format(fp, 1, s, 3), 2);
    CU_ASSERT_STRING_EQUAL(s, "2A");
    /* Keys read from files give the same fingerprint (reference keymgt values). */
    static const struct {
        const char *file, *fp;
    } files[] = {
        {"ec256_a.pem", FP_A},
        {"ec256_a_pkcs8.pem", FP_A},
        {"ec384_a.pem", "9A:36:92:01:11:D6:6E:12:B5:30:86:50:80:60:FA:81:3D:3E:AF:8B"},
        {"ec521_b.pem", "82:84:53:A0:CC:BD:FA:56:58:D1:65:D9:12:6A:6F:6E:0D:64:9A:B8"},
        {"rsa1024.pem", "FF:49:61:A3:50:16:0E:77:C0:9E:53:FE:3D:D7:03:09:B5:85:B0:C8"},
        {"rsa2048_pkcs8.pem", "B5:7E:C7:A0:16:A9:A0:6A:5B:57:4D:05:7D:76:1B:09:3B:B1:79:D5"},
    };
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        char path[256];
        snprintf(path, sizeof(path), "tests/unit/crypto/vectors/keys/%s", files[i].file);
        struct crypto_key *k;
        CU_ASSERT_EQUAL_FATAL(keyfile_read(cu_srcpath(path), &k), CRYPTO_OK);
        size_t len;
        const uint8_t *b = crypto_key_blob(k, &len);
        CU_ASSERT_EQUAL(fp_compute(b, len, fp), CRYPTO_OK);
        CU_ASSERT_EQUAL(fp_format(fp, FP_LEN, s, sizeof(s)), FP_STR_LEN - 1);
        CU_ASSERT_STRING_EQUAL(s, files[i].fp);
        crypto_key_free(k);
    }
}

static void test_parse(void)
{
    uint8_t out[FP_PARSE_MAX];
    size_t n;
    CU_ASSERT_EQUAL(fp_parse(FP_A, out, &n), CRYPTO_OK);
    CU_ASSERT_EQUAL(n, 20);
    CU_ASSERT_EQUAL(out[0], 0x2a);
    CU_ASSERT_EQUAL(out[19], 0x04);
    /* Lower case and single digits are fine. */
    CU_ASSERT_EQUAL(fp_parse("a:0b:C", out, &n), CRYPTO_OK);
    CU_ASSERT_EQUAL(n, 3);
    CU_ASSERT_EQUAL(out[0], 0x0a);
    CU_ASSERT_EQUAL(out[1], 0x0b);
    CU_ASSERT_EQUAL(out[2], 0x0c);
    CU_ASSERT_EQUAL(fp_parse("ff", out, &n), CRYPTO_OK);
    CU_ASSERT_EQUAL(n, 1);
    /* 64 bytes is the limit. */
    char s[64 * 3 + 4];
    size_t o = 0;
    for (int i = 0; i < 65; i++)
        o += (size_t)snprintf(s + o, sizeof(s) - o, i ? ":%02X" : "%02X", i);
    s[64 * 3 - 1] = '\0';
    CU_ASSERT_EQUAL(fp_parse(s, out, &n), CRYPTO_OK);
    CU_ASSERT_EQUAL(n, 64);
    s[64 * 3 - 1] = ':';
    CU_ASSERT_EQUAL(fp_parse(s, out, &n), CRYPTO_EFORMAT);
    static const char *bad[] = {"",    ":",    "2A:", ":2A", "2A::61",  "2A:612", "2A 61",
                                " 2A", "0x2A", "2G",  "-1",  "2A:61\n", "+2"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        n = 99;
        CU_ASSERT_EQUAL(fp_parse(bad[i], out, &n), CRYPTO_EFORMAT);
        CU_ASSERT_EQUAL(n, 0);
    }
}

/* spec §1.3: compare the computed 20 bytes with the parsed bytes zero-extended. */
static void test_match(void)
{
    uint8_t blob[68], want[FP_PARSE_MAX];
    size_t n;
    tv_hex(blob, sizeof(blob), blob_a);
    CU_ASSERT_EQUAL(fp_parse(FP_A, want, &n), CRYPTO_OK);
    CU_ASSERT_TRUE(fp_match(want, n, blob, sizeof(blob)));
    /* Bytes past the 20th are ignored. */
    CU_ASSERT_EQUAL(fp_parse(FP_A ":01:02:03", want, &n), CRYPTO_OK);
    CU_ASSERT_TRUE(fp_match(want, n, blob, sizeof(blob)));
    /* A prefix does not match (the rest is compared against zeros). */
    CU_ASSERT_EQUAL(fp_parse("2A:61:6A:37", want, &n), CRYPTO_OK);
    CU_ASSERT_FALSE(fp_match(want, n, blob, sizeof(blob)));
    CU_ASSERT_FALSE(fp_match(want, 0, blob, sizeof(blob)));
    CU_ASSERT_EQUAL(fp_parse(FP_A, want, &n), CRYPTO_OK);
    want[19] ^= 1;
    CU_ASSERT_FALSE(fp_match(want, n, blob, sizeof(blob)));
    want[19] ^= 1;
    blob[67] ^= 1;
    CU_ASSERT_FALSE(fp_match(want, n, blob, sizeof(blob)));
}

static const struct cu_test fp_tests[] = {
    {"compute and format (reference keymgt values)", test_compute_format},
    {"parse", test_parse},
    {"match over the computed length", test_match},
    {NULL, NULL},
};

CU_MAIN({"crypto/fp", fp_tests})
