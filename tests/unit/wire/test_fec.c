/* The FEC family (ours): EXT_FEC_INFO in ANNOUNCE / REGISTER / STATUS, FEC_PARITY. */
#include "core/base/quant.h"
#include "core/wire/fec.h"
#include "wiretest.h"

CODEC(wire_fec_parity, 1)
CODEC(wire_announce, 4)
CODEC(wire_register, 4)
CODEC(wire_status, 1)

static const struct wire_fec_info offer = {.version = WIRE_FEC_VERSION,
                                           .flags = FEC_F_SEND | FEC_F_PROACTIVE,
                                           .code = 1,
                                           .k = 128,
                                           .stride = 8};

static void test_ext(void)
{
    uint8_t out[16];
    static const uint8_t want[8] = {0xF1, 2, 1, 0x03, 1, 128, 8, 0};
    CU_ASSERT_EQUAL(wire_fec_info_encode(out, sizeof(out), &offer), 8);
    CU_ASSERT_EQUAL(memcmp(out, want, 8), 0);
    for (size_t cap = 0; cap < 8; cap++)
        CU_ASSERT_EQUAL(wire_fec_info_encode(out, cap, &offer), WIRE_ENOSPC);
    struct wire_fec_info d;
    CU_ASSERT_EQUAL(wire_fec_info_decode(&d, want, 8), 8);
    CU_ASSERT_FALSE(d.lossy);
    CU_ASSERT_EQUAL(d.flags, 3);
    CU_ASSERT_EQUAL(d.k, 128);
    CU_ASSERT_EQUAL(d.stride, 8);
    /* Every truncation fails. */
    for (size_t n = 0; n < 8; n++)
        CU_ASSERT(wire_fec_info_decode(&d, want, n) < 0);
    /* Bad lengths: extlen 0, extlen 1 (no room for version 1's fields). */
    uint8_t p[12];
    memcpy(p, want, 8);
    p[1] = 0;
    CU_ASSERT_EQUAL(wire_fec_info_decode(&d, p, 8), WIRE_EHLEN);
    p[1] = 1;
    CU_ASSERT_EQUAL(wire_fec_info_decode(&d, p, 8), WIRE_EHLEN);
    /* Longer: read, the tail ignored (lossy). */
    memcpy(p, want, 8);
    p[1] = 3;
    memset(p + 8, 0x77, 4);
    CU_ASSERT_EQUAL(wire_fec_info_decode(&d, p, 12), 12);
    CU_ASSERT_TRUE(d.lossy);
    CU_ASSERT_EQUAL(d.k, 128);
    /* Another version is not ours to read. */
    memcpy(p, want, 8);
    p[2] = 2;
    CU_ASSERT_EQUAL(wire_fec_info_decode(&d, p, 8), WIRE_ERANGE);
    /* Unknown flags and a nonzero reserved byte: kept out of a re-encode. */
    memcpy(p, want, 8);
    p[3] = 0xE3;
    p[7] = 9;
    CU_ASSERT_EQUAL(wire_fec_info_decode(&d, p, 8), 8);
    CU_ASSERT_TRUE(d.lossy);
    CU_ASSERT_EQUAL(d.flags, 0x03);
    CU_ASSERT_EQUAL(wire_fec_info_encode(out, sizeof(out), &d), 8);
    CU_ASSERT_EQUAL(memcmp(out, want, 8), 0);
    p[0] = EXT_ENC_INFO;
    CU_ASSERT_EQUAL(wire_fec_info_decode(&d, p, 8), WIRE_EFUNC);
    /* The encoder writes only version 1 with known flags. */
    struct wire_fec_info bad = offer;
    bad.version = 2;
    CU_ASSERT_EQUAL(wire_fec_info_encode(out, sizeof(out), &bad), WIRE_EINVAL);
    bad = offer;
    bad.flags = 0x40;
    CU_ASSERT_EQUAL(wire_fec_info_encode(out, sizeof(out), &bad), WIRE_EINVAL);
}

static void test_parity(void)
{
    uint8_t data[1300];
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)(i * 13);
    struct wire_fec_parity f = {.ver = UFTP_VER5,
                                .file_id = 1,
                                .section = 2,
                                .fec_block = 5,
                                .code = 1,
                                .k = 128,
                                .parity = 7,
                                .data = data,
                                .data_len = sizeof(data)};
    static const uint8_t hdr[12] = {0xF1, 3, 0, 1, 0, 2, 0, 5, 1, 128, 7, 0};
    check_codec(&wire_fec_parity_codec, &f, NULL, 0);
    size_t n = wt_encode(&wire_fec_parity_codec, &f, wt_buf);
    CU_ASSERT_EQUAL(n, 12 + 1300);
    CU_ASSERT_EQUAL(memcmp(wt_buf, hdr, 12), 0);
    CU_ASSERT_EQUAL(wire_fec_parity_hdr_len(&f), 12);
    struct wire_fec_parity *d = wt_decode(&wire_fec_parity_codec, UFTP_VER5, wt_buf, n);
    CU_ASSERT_EQUAL(d->data, wt_buf + 12);
    CU_ASSERT_EQUAL(d->k, 128);
    CU_ASSERT_EQUAL(d->parity, 7);
    CU_ASSERT_EQUAL(d->fec_block, 5);
    /* With EXT_TFMCC_DATA_INFO, as FILESEG. */
    f.has_tfmcc = true;
    f.tfmcc.send_rate = quant_rate_encode(128000);
    f.tfmcc.cc_seq = 9;
    f.tfmcc.cc_rate = 0xffff;
    f.k = 255;
    f.parity = 0;
    check_codec(&wire_fec_parity_codec, &f, NULL, 0);
    CU_ASSERT_EQUAL(wire_fec_parity_hdr_len(&f), 20);
    n = wt_encode(&wire_fec_parity_codec, &f, wt_buf);
    CU_ASSERT_EQUAL(wt_buf[1], 5);
    CU_ASSERT_EQUAL(wt_buf[12], EXT_TFMCC_DATA_INFO);
    d = wt_decode(&wire_fec_parity_codec, UFTP_VER5, wt_buf, n);
    CU_ASSERT_TRUE(d->has_tfmcc);
    CU_ASSERT_EQUAL(d->tfmcc.cc_seq, 9);
    /* Zero-copy encode. */
    f.data = NULL;
    memset(wt_buf2, 0x5a, 2000);
    CU_ASSERT_EQUAL(wire_fec_parity_encode(wt_buf2, 2000, &f), 20 + 1300);
    CU_ASSERT_EQUAL(wt_buf2[20], 0x5a);
    /* Symbol ids are bytes: k 0 or k + p > 255 is refused both ways. */
    f.data = data;
    f.parity = 1;
    CU_ASSERT_EQUAL(wire_fec_parity_encode(wt_buf2, WT_MAX, &f), WIRE_EINVAL);
    f.k = 0;
    f.parity = 0;
    CU_ASSERT_EQUAL(wire_fec_parity_encode(wt_buf2, WT_MAX, &f), WIRE_EINVAL);
    uint8_t p[16];
    memcpy(p, hdr, 12);
    p[9] = 250;
    p[10] = 6;
    CU_ASSERT_EQUAL(wire_fec_parity_decode(wt_fresh(&wire_fec_parity_codec, UFTP_VER5), p, 16),
                    WIRE_ERANGE);
    p[9] = 0;
    p[10] = 0;
    CU_ASSERT_EQUAL(wire_fec_parity_decode(wt_fresh(&wire_fec_parity_codec, UFTP_VER5), p, 16),
                    WIRE_ERANGE);
    /* hlen short of the fixed header; a reserved byte set is lossy. */
    memcpy(p, hdr, 12);
    p[1] = 2;
    CU_ASSERT_EQUAL(wire_fec_parity_decode(wt_fresh(&wire_fec_parity_codec, UFTP_VER5), p, 16),
                    WIRE_EHLEN);
    p[1] = 3;
    p[11] = 1;
    d = wt_decode(&wire_fec_parity_codec, UFTP_VER5, p, 16);
    CU_ASSERT_TRUE(d->lossy);
    CU_ASSERT_EQUAL(d->data_len, 4);
    /* A message: the union and its name. */
    struct wire_msg m;
    memcpy(p, hdr, 12);
    CU_ASSERT_EQUAL(wire_msg_decode(&m, UFTP_VER5, p, 16), 16);
    CU_ASSERT_EQUAL(m.func, FEC_PARITY);
    CU_ASSERT_STRING_EQUAL(wire_func_name(FEC_PARITY), "FEC_PARITY");
}

/* The extension placed after EXT_ENC_INFO, where the reference never looks. */
static void test_announce(void)
{
    static uint8_t blob[64], sig[64];
    struct wire_announce a = {.ver = UFTP_VER5,
                              .robust = 20,
                              .blocksize = 1300,
                              .tstamp = 0x0102030405060708ull,
                              .pub_addr = {230, 4, 4, 1},
                              .priv_addr = {230, 5, 5, 1},
                              .has_enc = true,
                              .enc = {.keytype = KEY_AES256_GCM,
                                      .hashtype = HASH_SHA256,
                                      .keyblob = blob,
                                      .keylen = 64,
                                      .dhblob = blob,
                                      .dhlen = 64,
                                      .sig = sig,
                                      .siglen = 64},
                              .has_fec = true,
                              .fec = offer};
    check_codec(&wire_announce_codec, &a, NULL, 0);
    size_t n = wt_encode(&wire_announce_codec, &a, wt_buf);
    size_t fec_at = 24 + 44 + 192;
    CU_ASSERT_EQUAL(wt_buf[24], EXT_ENC_INFO);
    CU_ASSERT_EQUAL(wt_buf[fec_at], EXT_FEC_INFO);
    CU_ASSERT_EQUAL(wt_buf[1] * 4, fec_at + 8);
    struct wire_announce *d = wt_decode(&wire_announce_codec, UFTP_VER5, wt_buf, n);
    CU_ASSERT_TRUE(d->has_fec && d->has_enc);
    CU_ASSERT_EQUAL(d->fec.k, 128);
    /* Clear session: right after the addresses. */
    a.has_enc = false;
    check_codec(&wire_announce_codec, &a, NULL, 0);
    n = wt_encode(&wire_announce_codec, &a, wt_buf);
    CU_ASSERT_EQUAL(wt_buf[24], EXT_FEC_INFO);
    /* Two of them, and an unknown version (skipped, lossy). */
    wt_buf[1] = 10;
    memcpy(wt_buf + 32, wt_buf + 24, 8);
    CU_ASSERT_EQUAL(wire_announce_decode(wt_fresh(&wire_announce_codec, UFTP_VER5), wt_buf, 40),
                    WIRE_ERANGE);
    wt_buf[26] = 7;
    d = wt_decode(&wire_announce_codec, UFTP_VER5, wt_buf, 40);
    CU_ASSERT_TRUE(d->has_fec && d->lossy);
    a.fec.version = 3;
    CU_ASSERT_EQUAL(wire_announce_encode(wt_buf, WT_MAX, &a), WIRE_EINVAL);
}

static void test_register_status(void)
{
    static uint8_t dh[65];
    uint32_t ids[2] = {0x01020304, 0x0a0b0c0d};
    struct wire_register r = {
        .ver = UFTP_VER5,
        .tstamp = 77,
        .dhblob = dh,
        .dhlen = 65,
        .has_fec = true,
        .fec = {.version = 1, .flags = FEC_F_DECODE, .code = 1, .k = 255, .stride = 255},
        .ids = {.host = ids, .n = 2}};
    check_codec(&wire_register_codec, &r, NULL, 0);
    size_t n = wt_encode(&wire_register_codec, &r, wt_buf);
    /* After the padded ECDH blob, inside hlen, before the ID list. */
    CU_ASSERT_EQUAL(wt_buf[1] * 4, 44 + 68 + 8);
    CU_ASSERT_EQUAL(wt_buf[44 + 68], EXT_FEC_INFO);
    struct wire_register *dr = wt_decode(&wire_register_codec, UFTP_VER5, wt_buf, n);
    CU_ASSERT_TRUE(dr->has_fec);
    CU_ASSERT_EQUAL(dr->fec.flags, FEC_F_DECODE);
    CU_ASSERT_EQUAL(dr->ids.n, 2);

    uint8_t naks[129];
    memset(naks, 0x11, sizeof(naks));
    struct wire_status s = {
        .ver = UFTP_VER5,
        .file_id = 3,
        .section = 1,
        .has_tfmcc = true,
        .tfmcc = {.flags = FLAG_CC_CLR, .client_id = 5, .tstamp = 99},
        .has_fec = true,
        .fec = {.version = 1, .flags = FEC_F_COUNTS, .code = 1, .k = 64, .stride = 4},
        .naks = naks,
        .naks_len = sizeof(naks)};
    check_codec(&wire_status_codec, &s, NULL, 0);
    n = wt_encode(&wire_status_codec, &s, wt_buf);
    /* TFMCC first (the reference reads only the first extension), then ours. */
    CU_ASSERT_EQUAL(wt_buf[1], (8 + 20 + 8) / 4);
    CU_ASSERT_EQUAL(wt_buf[8], EXT_TFMCC_ACK_INFO);
    CU_ASSERT_EQUAL(wt_buf[28], EXT_FEC_INFO);
    struct wire_status *ds = wt_decode(&wire_status_codec, UFTP_VER5, wt_buf, n);
    CU_ASSERT_TRUE(ds->has_fec && ds->has_tfmcc);
    CU_ASSERT_EQUAL(ds->naks, wt_buf + 36);
    CU_ASSERT_EQUAL(ds->naks_len, sizeof(naks));
    s.has_tfmcc = false;
    check_codec(&wire_status_codec, &s, NULL, 0);
}

static const struct cu_test fec_tests[] = {
    {"EXT_FEC_INFO: layout, lengths, versions", test_ext},
    {"FEC_PARITY round trips, truncation, bad lengths", test_parity},
    {"ANNOUNCE with EXT_FEC_INFO after EXT_ENC_INFO", test_announce},
    {"REGISTER and STATUS with EXT_FEC_INFO", test_register_status},
    {NULL, NULL}};
CU_MAIN({"wire/fec", fec_tests})
