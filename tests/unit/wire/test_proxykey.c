#include "core/wire/proxykey.h"
#include "wiretest.h"

CODEC(wire_proxy_key, 0)
CODEC(wire_key_req, 0)

static uint8_t blob[68], dh[100], sig[100];

static void test_proxy_key_v5(void)
{
    memset(blob, 0x11, sizeof(blob));
    memset(dh, 0x22, sizeof(dh));
    memset(sig, 0x33, sizeof(sig));
    struct wire_proxy_key k = {.ver = UFTP_VER5,
                               .keyblob = blob,
                               .keylen = 68,
                               .dhblob = dh,
                               .dhlen = 100,
                               .sig = sig,
                               .siglen = 100};
    uint8_t want[8 + 268] = {PROXY_KEY, 69, 0, 68, 0, 100, 0, 100};
    memcpy(want + 8, blob, 68);
    memcpy(want + 76, dh, 100);
    memcpy(want + 176, sig, 100);
    check_codec(&wire_proxy_key_codec, &k, want, sizeof(want));
    /* Unencrypted session: all lengths 0. */
    struct wire_proxy_key z = {.ver = UFTP_VER5};
    static const uint8_t zwant[8] = {PROXY_KEY, 2};
    check_codec(&wire_proxy_key_codec, &z, zwant, sizeof(zwant));
    z.nonce = 1;
    CU_ASSERT_EQUAL(wire_proxy_key_encode(wt_buf, WT_MAX, &z), WIRE_EINVAL);
    /* Lengths beyond hlen. */
    want[7] = 101;
    CU_ASSERT_EQUAL(
        wire_proxy_key_decode(wt_fresh(&wire_proxy_key_codec, UFTP_VER5), want, sizeof(want)),
        WIRE_ECOUNT);
}

static void test_proxy_key_v4(void)
{
    /* v4: the nonce follows siglen (spec §1.9). */
    struct wire_proxy_key k = {.ver = UFTP_VER4,
                               .nonce = 0xcafef00d,
                               .keyblob = blob,
                               .keylen = 68,
                               .dhblob = dh,
                               .dhlen = 100,
                               .sig = sig,
                               .siglen = 100};
    uint8_t want[12 + 268] = {PROXY_KEY, 70, 0, 68, 0, 100, 0, 100, 0xca, 0xfe, 0xf0, 0x0d};
    memcpy(want + 12, blob, 68);
    memcpy(want + 80, dh, 100);
    memcpy(want + 180, sig, 100);
    check_codec(&wire_proxy_key_codec, &k, want, sizeof(want));
    struct wire_proxy_key *d = wt_decode(&wire_proxy_key_codec, UFTP_VER4, want, sizeof(want));
    CU_ASSERT_EQUAL(d->nonce, 0xcafef00du);
    CU_ASSERT_EQUAL(d->sig, want + 180);
    /* Read as v5, everything shifts by the nonce and the last signature word is
       taken for a (malformed) header extension. */
    CU_ASSERT_EQUAL(
        wire_proxy_key_decode(wt_fresh(&wire_proxy_key_codec, UFTP_VER5), want, sizeof(want)),
        WIRE_EHLEN);
}

static void test_key_req(void)
{
    struct wire_key_req r = {.ver = UFTP_VER4};
    uint8_t want[4] = {KEY_REQ, 1, 0, 0};
    check_codec(&wire_key_req_codec, &r, want, sizeof(want));
    /* v4 only. */
    r.ver = UFTP_VER5;
    CU_ASSERT_EQUAL(wire_key_req_encode(wt_buf, WT_MAX, &r), WIRE_EVERSION);
    CU_ASSERT_EQUAL(wire_key_req_decode(wt_fresh(&wire_key_req_codec, UFTP_VER5), want, 4),
                    WIRE_EVERSION);
}

static const struct cu_test proxykey_tests[] = {
    {"PROXY_KEY v5", test_proxy_key_v5},
    {"PROXY_KEY v4 (nonce)", test_proxy_key_v4},
    {"KEY_REQ (v4)", test_key_req},
    {NULL, NULL},
};

CU_MAIN({"wire/proxykey", proxykey_tests})
