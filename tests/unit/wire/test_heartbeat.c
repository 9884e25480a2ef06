#include "core/wire/heartbeat.h"
#include "wiretest.h"

CODEC(wire_hb_req, 0)
CODEC(wire_hb_resp, 0)

static void test_hb_req(void)
{
    /* Unauthenticated: everything zero, hlen 3. */
    struct wire_hb_req r = {.ver = UFTP_VER5};
    uint8_t want[12] = {HB_REQ, 3};
    check_codec(&wire_hb_req_codec, &r, want, sizeof(want));
    /* Authenticated: key blob and signature over the nonce. */
    uint8_t blob[68], sig[72];
    memset(blob, 0xb1, sizeof(blob));
    memset(sig, 0x51, sizeof(sig));
    r.nonce = 0xdeadbeef;
    r.keyblob = blob;
    r.keylen = 68;
    r.sig = sig;
    r.siglen = 72;
    uint8_t want2[12 + 68 + 72] = {HB_REQ, 38, 0, 0, 0, 68, 0, 72, 0xde, 0xad, 0xbe, 0xef};
    memcpy(want2 + 12, blob, 68);
    memcpy(want2 + 80, sig, 72);
    check_codec(&wire_hb_req_codec, &r, want2, sizeof(want2));
    r.ver = UFTP_VER4;
    check_codec(&wire_hb_req_codec, &r, want2, sizeof(want2));
    want2[7] = 73;
    CU_ASSERT_EQUAL(
        wire_hb_req_decode(wt_fresh(&wire_hb_req_codec, UFTP_VER5), want2, sizeof(want2)),
        WIRE_ECOUNT);
    r.keylen = 1010;
    CU_ASSERT_EQUAL(wire_hb_req_encode(wt_buf, WT_MAX, &r), WIRE_EINVAL);
}

static void test_hb_resp(void)
{
    struct wire_hb_resp r = {.ver = UFTP_VER5, .auth = HB_AUTH_CHALLENGE, .nonce = 0x01020304};
    uint8_t want[8] = {HB_RESP, 2, HB_AUTH_CHALLENGE, 0, 1, 2, 3, 4};
    check_codec(&wire_hb_resp_codec, &r, want, sizeof(want));
    r.ver = UFTP_VER4;
    r.auth = HB_AUTH_OK;
    want[2] = HB_AUTH_OK;
    check_codec(&wire_hb_resp_codec, &r, want, sizeof(want));
}

static const struct cu_test heartbeat_tests[] = {
    {"HB_REQ", test_hb_req},
    {"HB_RESP", test_hb_resp},
    {NULL, NULL},
};

CU_MAIN({"wire/heartbeat", heartbeat_tests})
