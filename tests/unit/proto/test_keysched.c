/* Key-schedule context strings (core/proto/keysched.c). */
#include <string.h>

#include "core/proto/keysched.h"
#include "core/wire/buf.h"
#include "core/wire/wire.h"
#include "cu.h"

/* A 44-byte EXT_ENC_INFO with 8-byte key blob, 8-byte ECDH blob and a 4-byte "signature". */
static size_t make_ext(uint8_t *e)
{
    memset(e, 0, 64);
    e[0] = EXT_ENC_INFO;
    e[1] = 16; /* 64 bytes */
    e[2] = FLAG_CLIENT_AUTH;
    e[4] = KEY_AES256_GCM;
    e[5] = HASH_SHA384;
    be16_put(e + 6, 8);
    be16_put(e + 8, 8);
    be16_put(e + 10, 4);
    for (int i = 0; i < 32; i++)
        e[12 + i] = (uint8_t)(0xa0 + i); /* rand1 */
    memset(e + 44, 0x11, 8);             /* key blob */
    memset(e + 52, 0x22, 8);             /* ECDH blob */
    memset(e + 60, 0x99, 4);             /* signature */
    return 64;
}

static void test_s_ctx(void)
{
    uint8_t ext[64], out[KEYSCHED_S_CTX_MAX];
    size_t el = make_ext(ext);
    ssize_t n = keysched_s_ctx(out, sizeof(out), 0x896e6fa4, 3, 0x0a4d0101, ext, el);
    CU_ASSERT_EQUAL_FATAL(n, 9 + 64);
    static const uint8_t head[9] = {0x89, 0x6e, 0x6f, 0xa4, 3, 0x0a, 0x4d, 0x01, 0x01};
    CU_ASSERT_EQUAL(memcmp(out, head, 9), 0);
    CU_ASSERT_EQUAL(memcmp(out + 9, ext, 60), 0); /* up to the signature */
    static const uint8_t zero[4] = {0};
    CU_ASSERT_EQUAL(memcmp(out + 9 + 60, zero, 4), 0);
    CU_ASSERT_EQUAL(ext[60], 0x99); /* the input is untouched */

    /* Too small an output, at every size. */
    for (size_t cap = 0; cap < 9 + 64; cap++)
        CU_ASSERT_EQUAL(keysched_s_ctx(out, cap, 1, 0, 2, ext, el), WIRE_ENOSPC);
    /* Inconsistent extensions. */
    CU_ASSERT_EQUAL(keysched_s_ctx(out, sizeof(out), 1, 0, 2, ext, 43), WIRE_EHLEN);
    CU_ASSERT_EQUAL(keysched_s_ctx(out, sizeof(out), 1, 0, 2, ext, 60), WIRE_EHLEN);
    CU_ASSERT_EQUAL(keysched_s_ctx(out, sizeof(out), 1, 0, 2, NULL, 64), WIRE_EHLEN);
    ext[0] = EXT_TFMCC_DATA_INFO;
    CU_ASSERT_EQUAL(keysched_s_ctx(out, sizeof(out), 1, 0, 2, ext, el), WIRE_EHLEN);
    make_ext(ext);
    be16_put(ext + 10, 5); /* signature would run past the extension */
    CU_ASSERT_EQUAL(keysched_s_ctx(out, sizeof(out), 1, 0, 2, ext, el), WIRE_EHLEN);
    make_ext(ext);
    be16_put(ext + 6, 0xffff);
    CU_ASSERT_EQUAL(keysched_s_ctx(out, sizeof(out), 1, 0, 2, ext, el), WIRE_EHLEN);
    /* A signature that ends short of the extension is zeroed where it is. */
    make_ext(ext);
    be16_put(ext + 10, 2);
    CU_ASSERT_EQUAL(keysched_s_ctx(out, sizeof(out), 1, 0, 2, ext, el), 73);
    CU_ASSERT_EQUAL(out[9 + 60], 0);
    CU_ASSERT_EQUAL(out[9 + 61], 0);
    CU_ASSERT_EQUAL(out[9 + 62], 0x99);
}

static void test_p_ctx(void)
{
    /* v5 PROXY_KEY: func, hlen, bloblen, dhlen, siglen, blob (4), dh (4), sig (4). */
    uint8_t h[20] = {PROXY_KEY, 5, 0, 4, 0, 4, 0, 4, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 9};
    uint8_t out[KEYSCHED_P_CTX_MAX];
    ssize_t n = keysched_p_ctx(out, sizeof(out), 0x01020304, h, sizeof(h));
    CU_ASSERT_EQUAL_FATAL(n, 24);
    static const uint8_t want[24] = {1, 2, 3, 4, PROXY_KEY, 5, 0, 4, 0, 4, 0, 4,
                                     1, 2, 3, 4, 5,         6, 7, 8, 0, 0, 0, 0};
    CU_ASSERT_EQUAL(memcmp(out, want, 24), 0);
    CU_ASSERT_EQUAL(keysched_p_ctx(out, 23, 1, h, sizeof(h)), WIRE_ENOSPC);
    CU_ASSERT_EQUAL(keysched_p_ctx(out, sizeof(out), 1, h, 16), WIRE_EHLEN); /* hlen says 20 */
    h[0] = KEYINFO;
    CU_ASSERT_EQUAL(keysched_p_ctx(out, sizeof(out), 1, h, sizeof(h)), WIRE_EHLEN);
    h[0] = PROXY_KEY;
    h[7] = 5;
    CU_ASSERT_EQUAL(keysched_p_ctx(out, sizeof(out), 1, h, sizeof(h)), WIRE_EHLEN);
    CU_ASSERT_EQUAL(keysched_p_ctx(out, sizeof(out), 1, h, 7), WIRE_EHLEN);
}

static void test_c_ctx(void)
{
    uint8_t s[5] = {1, 2, 3, 4, 5}, p[3] = {6, 7, 8}, dh[4] = {9, 10, 11, 12}, r2[32];
    for (int i = 0; i < 32; i++)
        r2[i] = (uint8_t)(0x40 + i);
    uint8_t c1[KEYSCHED_C_CTX1_MAX], c2[KEYSCHED_C_CTX2_MAX];
    ssize_t n1 = keysched_c_ctx1(c1, sizeof(c1), s, 5, p, 3, 0xaabbccdd, dh, 4, r2);
    CU_ASSERT_EQUAL_FATAL(n1, 5 + 3 + 4 + 4 + 32);
    static const uint8_t head[16] = {1, 2, 3, 4, 5, 6, 7, 8, 0xaa, 0xbb, 0xcc, 0xdd, 9, 10, 11, 12};
    CU_ASSERT_EQUAL(memcmp(c1, head, 16), 0);
    CU_ASSERT_EQUAL(memcmp(c1 + 16, r2, 32), 0);
    /* Without a proxy, P_ctx is empty. */
    CU_ASSERT_EQUAL(keysched_c_ctx1(c1, sizeof(c1), s, 5, NULL, 0, 0xaabbccdd, dh, 4, r2), 45);
    CU_ASSERT_EQUAL(c1[5], 0xaa);
    for (size_t cap = 0; cap < 45; cap++)
        CU_ASSERT_EQUAL(keysched_c_ctx1(c1, cap, s, 5, NULL, 0, 1, dh, 4, r2), WIRE_ENOSPC);
    CU_ASSERT_EQUAL(keysched_c_ctx1(c1, sizeof(c1), s, 5, NULL, 3, 1, dh, 4, r2), WIRE_EINVAL);
    CU_ASSERT_EQUAL(keysched_c_ctx1(c1, sizeof(c1), s, 0, NULL, 0, 1, dh, 4, r2), WIRE_EINVAL);
    CU_ASSERT_EQUAL(keysched_c_ctx1(c1, sizeof(c1), s, 5, NULL, 0, 1, dh, 0, r2), WIRE_EINVAL);

    /* C_ctx2 without CLIENT_KEY is C_ctx1. */
    CU_ASSERT_EQUAL(keysched_c_ctx2(c2, sizeof(c2), c1, 45, NULL, 0), 45);
    CU_ASSERT_EQUAL(memcmp(c2, c1, 45), 0);
    /* With CLIENT_KEY: func, hlen, reserved, bloblen, siglen, blob (4), sig (4), zeroed sig. */
    uint8_t ck[16] = {CLIENT_KEY, 4, 0, 0, 0, 4, 0, 4, 0x31, 0x32, 0x33, 0x34, 7, 7, 7, 7};
    CU_ASSERT_EQUAL(keysched_c_ctx2(c2, sizeof(c2), c1, 45, ck, 16), 61);
    CU_ASSERT_EQUAL(memcmp(c2, c1, 45), 0);
    CU_ASSERT_EQUAL(memcmp(c2 + 45, ck, 12), 0);
    static const uint8_t z4[4] = {0};
    CU_ASSERT_EQUAL(memcmp(c2 + 57, z4, 4), 0);
    CU_ASSERT_EQUAL(keysched_c_ctx2(c2, 60, c1, 45, ck, 16), WIRE_ENOSPC);
    CU_ASSERT_EQUAL(keysched_c_ctx2(c2, 44, c1, 45, NULL, 0), WIRE_ENOSPC);
    ck[1] = 5;
    CU_ASSERT_EQUAL(keysched_c_ctx2(c2, sizeof(c2), c1, 45, ck, 16), WIRE_EHLEN);
    ck[1] = 4;
    ck[7] = 5;
    CU_ASSERT_EQUAL(keysched_c_ctx2(c2, sizeof(c2), c1, 45, ck, 16), WIRE_EHLEN);
    ck[7] = 4;
    ck[0] = REGISTER;
    CU_ASSERT_EQUAL(keysched_c_ctx2(c2, sizeof(c2), c1, 45, ck, 16), WIRE_EHLEN);
}

/* spec §1.9: group_id || address || rand1 || rand2 || premaster || [blob] || [group master]. */
static void test_v4_verify_ctx(void)
{
    uint8_t r1[32], r2[32], pm[20], blob[8], gm[48], out[KEYSCHED_V4_CTX_MAX];
    memset(r1, 1, 32);
    memset(r2, 2, 32);
    memset(pm, 3, 20);
    memset(blob, 4, 8);
    memset(gm, 5, 48);
    static const uint8_t addr4[4] = {230, 5, 5, 58};
    ssize_t n = keysched_v4_verify_ctx(out, sizeof(out), 0xf7490e0e, addr4, 4, r1, r2, pm, 20, NULL,
                                       0, NULL);
    CU_ASSERT_EQUAL_FATAL(n, 4 + 4 + 32 + 32 + 20);
    CU_ASSERT_EQUAL(be32_get(out), 0xf7490e0e);
    CU_ASSERT_EQUAL(memcmp(out + 4, addr4, 4), 0);
    CU_ASSERT_EQUAL(out[8], 1);
    CU_ASSERT_EQUAL(out[40], 2);
    CU_ASSERT_EQUAL(out[72], 3);
    n = keysched_v4_verify_ctx(out, sizeof(out), 1, addr4, 4, r1, r2, pm, 20, blob, 8, gm);
    CU_ASSERT_EQUAL(n, 92 + 8 + 48);
    CU_ASSERT_EQUAL(out[92], 4);
    CU_ASSERT_EQUAL(out[100], 5);
    CU_ASSERT_EQUAL(out[147], 5);
    uint8_t addr6[16] = {0xff, 0x15};
    CU_ASSERT_EQUAL(
        keysched_v4_verify_ctx(out, sizeof(out), 1, addr6, 16, r1, r2, pm, 20, NULL, 0, gm),
        4 + 16 + 64 + 20 + 48);
    CU_ASSERT_EQUAL(
        keysched_v4_verify_ctx(out, sizeof(out), 1, addr6, 8, r1, r2, pm, 20, NULL, 0, gm),
        WIRE_EINVAL);
    CU_ASSERT_EQUAL(keysched_v4_verify_ctx(out, 100, 1, addr4, 4, r1, r2, pm, 20, NULL, 0, gm),
                    WIRE_ENOSPC);
}

static void test_labels(void)
{
    /* The code's spellings (spec §7 items 1-2), with no NUL or padding. */
    CU_ASSERT_STRING_EQUAL(KEYSCHED_LABEL_S_APP, "s app traffic");
    CU_ASSERT_STRING_EQUAL(KEYSCHED_LABEL_C_APP, "c app traffic");
    CU_ASSERT_EQUAL(sizeof(KEYSCHED_SIG_CLIENT_KEY) - 1, 18);
    CU_ASSERT_EQUAL(sizeof(KEYSCHED_AAD_GROUP_MASTER) - 1, 20);
}

static const struct cu_test keysched_tests[] = {
    {"S_ctx", test_s_ctx},
    {"P_ctx", test_p_ctx},
    {"C_ctx1 and C_ctx2", test_c_ctx},
    {"v4 verify data", test_v4_verify_ctx},
    {"labels", test_labels},
    {NULL, NULL},
};

CU_MAIN({"proto/keysched", keysched_tests})
