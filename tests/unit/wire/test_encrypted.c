#include "core/wire/encrypted.h"
#include "wiretest.h"

static ssize_t enc_dec(void *m, const uint8_t *p, size_t len)
{
    return wire_encrypted_decode(m, p, len);
}

static ssize_t enc_enc(uint8_t *out, size_t cap, const void *m)
{
    return wire_encrypted_encode(out, cap, m);
}

static const struct codec encrypted_codec = {enc_dec, enc_enc, sizeof(struct wire_encrypted), 0,
                                             false};

static void test_encrypted_roundtrip(void)
{
    uint8_t payload[68];
    for (size_t i = 0; i < sizeof(payload); i++)
        payload[i] = (uint8_t)(0xf0 ^ i);
    struct wire_encrypted e = {
        .ver = UFTP_VER5, .iv_ctr = 1, .payload = payload, .payload_len = 52};
    uint8_t want[12 + 52] = {0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 52};
    memcpy(want + 12, payload, 52);
    check_codec(&encrypted_codec, &e, want, sizeof(want));
    /* v4 with a signature between header and payload. */
    uint8_t sig[16];
    memset(sig, 0x5e, sizeof(sig));
    e.ver = UFTP_VER4;
    e.iv_ctr = 0xfffffffffffffffeull;
    e.sig = sig;
    e.siglen = 16;
    check_codec(&encrypted_codec, &e, NULL, 0);
    size_t n = wt_encode(&encrypted_codec, &e, wt_buf);
    CU_ASSERT_EQUAL(n, 12 + 16 + 52);
    struct wire_encrypted *d = wt_decode(&encrypted_codec, UFTP_VER4, wt_buf, n);
    CU_ASSERT_EQUAL(d->sig, wt_buf + 12);
    CU_ASSERT_EQUAL(d->payload, wt_buf + 28);
    CU_ASSERT_EQUAL(d->iv_ctr, 0xfffffffffffffffeull);
    /* v5 has no signature: bytes 8-9 reserved. */
    e.ver = UFTP_VER5;
    CU_ASSERT_EQUAL(wire_encrypted_encode(wt_buf, WT_MAX, &e), WIRE_EINVAL);
    d = wt_decode(&encrypted_codec, UFTP_VER5, want, sizeof(want));
    CU_ASSERT_FALSE(d->lossy);
    want[8] = 1;
    CU_ASSERT_EQUAL(
        wire_encrypted_decode(wt_fresh(&encrypted_codec, UFTP_VER5), want, sizeof(want)),
        (ssize_t)sizeof(want));
    CU_ASSERT_TRUE(((struct wire_encrypted *)wt_msg)->lossy);
    /* Read as v4 the same bytes claim a 256-byte signature: too short. */
    CU_ASSERT_EQUAL(
        wire_encrypted_decode(wt_fresh(&encrypted_codec, UFTP_VER4), want, sizeof(want)),
        WIRE_ETRUNC);
}

static void test_encrypted_in_place(void)
{
    /* payload NULL, or the payload already at its place, is not copied. */
    memset(wt_buf, 0x77, 100);
    struct wire_encrypted e = {.ver = UFTP_VER5, .iv_ctr = 2, .payload = NULL, .payload_len = 40};
    CU_ASSERT_EQUAL(wire_encrypted_encode(wt_buf, 100, &e), 52);
    CU_ASSERT_EQUAL(wt_buf[12], 0x77);
    CU_ASSERT_EQUAL(wt_buf[51], 0x77);
    e.payload = wt_buf + 12;
    CU_ASSERT_EQUAL(wire_encrypted_encode(wt_buf, 100, &e), 52);
    CU_ASSERT_EQUAL(wire_encrypted_encode(wt_buf, 51, &e), WIRE_ENOSPC);
    CU_ASSERT_EQUAL(WIRE_ENCRYPTED_AAD_LEN, 28);
}

static const struct cu_test encrypted_tests[] = {
    {"ENCRYPTED framing v5 and v4", test_encrypted_roundtrip},
    {"ENCRYPTED encode in place", test_encrypted_in_place},
    {NULL, NULL},
};

CU_MAIN({"wire/encrypted", encrypted_tests})
