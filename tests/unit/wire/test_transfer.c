#include "core/base/quant.h"
#include "core/wire/transfer.h"
#include "wiretest.h"

CODEC(wire_fileseg, 1)
CODEC(wire_done, 4)
CODEC(wire_status, 1)
CODEC(wire_complete, 4)
CODEC(wire_done_conf, 4)

static const uint32_t ids3[] = {0x0a4d010b, 0x01020304, 0xa0b0c0d0};

static void test_fileseg(void)
{
    uint8_t data[1300];
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)(i * 7);
    struct wire_fileseg f = {.ver = UFTP_VER5,
                             .file_id = 1,
                             .section = 0,
                             .sec_block = 153,
                             .data = data,
                             .data_len = 1100};
    check_codec(&wire_fileseg_codec, &f, NULL, 0);
    size_t n = wt_encode(&wire_fileseg_codec, &f, wt_buf);
    CU_ASSERT_EQUAL(n, 8 + 1100);
    CU_ASSERT(memcmp(wt_buf, "\x09\x02\x00\x01\x00\x00\x00\x99", 8) == 0);
    CU_ASSERT_EQUAL(wire_fileseg_hdr_len(&f), 8);
    /* With EXT_TFMCC_DATA_INFO (spec §1.4): hlen 4. */
    f.ver = UFTP_VER4;
    f.has_tfmcc = true;
    f.tfmcc.send_rate = quant_rate_encode(128000);
    f.tfmcc.cc_seq = 7;
    f.tfmcc.cc_rate = 0xffff;
    f.section = 0xfffe;
    f.sec_block = 65535;
    f.data_len = 1300;
    check_codec(&wire_fileseg_codec, &f, NULL, 0);
    n = wt_encode(&wire_fileseg_codec, &f, wt_buf);
    CU_ASSERT(memcmp(wt_buf, "\x09\x04\x00\x01\xff\xfe\xff\xff\x02\x02\x20\xc5\x00\x07\xff\xff",
                     16) == 0);
    CU_ASSERT_EQUAL(wire_fileseg_hdr_len(&f), 16);
    struct wire_fileseg *d = wt_decode(&wire_fileseg_codec, UFTP_VER4, wt_buf, n);
    CU_ASSERT_EQUAL(d->data, wt_buf + 16);
    CU_ASSERT_EQUAL(d->data_len, 1300);
    CU_ASSERT_TRUE(d->has_tfmcc);
    CU_ASSERT_EQUAL(d->tfmcc.cc_seq, 7);
    /* Zero-copy encode: data NULL reserves the bytes and leaves them alone. */
    memset(wt_buf2, 0x5a, 2000);
    f.data = NULL;
    CU_ASSERT_EQUAL(wire_fileseg_encode(wt_buf2, 2000, &f), 16 + 1300);
    CU_ASSERT_EQUAL(wt_buf2[16], 0x5a);
    CU_ASSERT_EQUAL(wt_buf2[16 + 1299], 0x5a);
    CU_ASSERT_EQUAL(wire_fileseg_encode(wt_buf2, 16 + 1299, &f), WIRE_ENOSPC);
    /* An oversized TFMCC extension is accepted (as the reference does) but lossy;
       a short one is not; unknown ones are skipped. */
    uint8_t p[24] = {FILESEG, 5, 0, 1, 0, 0, 0, 0, EXT_TFMCC_DATA_INFO, 3, 0, 1, 0, 2, 0, 3};
    d = wt_decode(&wire_fileseg_codec, UFTP_VER5, p, 24);
    CU_ASSERT_TRUE(d->has_tfmcc && d->lossy);
    CU_ASSERT_EQUAL(d->tfmcc.cc_rate, 3);
    CU_ASSERT_EQUAL(d->data_len, 4);
    p[9] = 1;
    CU_ASSERT_EQUAL(wire_fileseg_decode(wt_fresh(&wire_fileseg_codec, UFTP_VER5), p, 24),
                    WIRE_EHLEN);
    /* Unknown: 0x77 (1 word), then type 0 (2 words), both skipped. */
    p[8] = 0x77;
    d = wt_decode(&wire_fileseg_codec, UFTP_VER5, p, 24);
    CU_ASSERT_FALSE(d->has_tfmcc);
    CU_ASSERT_TRUE(d->lossy);
    CU_ASSERT_EQUAL(d->data_len, 4);
    /* The same area with a zero word left over is malformed (extlen 0). */
    p[1] = 6;
    CU_ASSERT_EQUAL(wire_fileseg_decode(wt_fresh(&wire_fileseg_codec, UFTP_VER5), p, 24),
                    WIRE_EHLEN);
    /* Two TFMCC extensions. */
    uint8_t two[24] = {FILESEG, 6, 0, 1, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 0, 0, 2, 2};
    CU_ASSERT_EQUAL(wire_fileseg_decode(wt_fresh(&wire_fileseg_codec, UFTP_VER5), two, 24),
                    WIRE_ERANGE);
    /* extlen 0 loops nowhere. */
    two[9] = 0;
    CU_ASSERT_EQUAL(wire_fileseg_decode(wt_fresh(&wire_fileseg_codec, UFTP_VER5), two, 24),
                    WIRE_EHLEN);
}

static void test_done(void)
{
    /* uftp5-noenc.pcapng frames 160 and 162. */
    struct wire_done m = {.ver = UFTP_VER5, .file_id = 1, .section = 0};
    uint32_t id = 0x0a4d010b;
    m.ids = wire_ids_of(&id, 1);
    uint8_t want[16];
    size_t n = wt_unhex("0a020001000000000a4d010b", want, sizeof(want));
    check_codec(&wire_done_codec, &m, want, n);
    m.ver = UFTP_VER4;
    m.file_id = 0;
    n = wt_unhex("0a020000000000000a4d010b", want, sizeof(want));
    check_codec(&wire_done_codec, &m, want, n);
    /* DONE may be sent with an empty list (spec §7 item 9). */
    m.ids.n = 0;
    m.section = 65535;
    check_codec(&wire_done_codec, &m, NULL, 0);
    m.ids = wire_ids_of(ids3, 3);
    check_codec(&wire_done_codec, &m, NULL, 0);
}

static void test_status(void)
{
    uint8_t naks[1301];
    memset(naks, 0, sizeof(naks));
    naks[0] = 0x81;    /* blocks 0 and 7 */
    naks[1300] = 0x10; /* block 10404 */
    struct wire_status s = {
        .ver = UFTP_VER5, .file_id = 3, .section = 2, .naks = naks, .naks_len = 1301};
    check_codec(&wire_status_codec, &s, NULL, 0);
    size_t n = wt_encode(&wire_status_codec, &s, wt_buf);
    CU_ASSERT(memcmp(wt_buf, "\x0b\x02\x00\x03\x00\x02\x00\x00\x81", 9) == 0);
    struct wire_status *d = wt_decode(&wire_status_codec, UFTP_VER5, wt_buf, n);
    CU_ASSERT_TRUE(wire_status_nak(d, 0));
    CU_ASSERT_FALSE(wire_status_nak(d, 1));
    CU_ASSERT_TRUE(wire_status_nak(d, 7));
    CU_ASSERT_TRUE(wire_status_nak(d, 10404));
    CU_ASSERT_FALSE(wire_status_nak(d, 10408)); /* past the bitmap */
    /* With EXT_TFMCC_ACK_INFO: the bitmap starts at hlen*4 = 28 (spec §6 item 6). */
    s.has_tfmcc = true;
    s.tfmcc.flags = FLAG_CC_CLR | FLAG_CC_RTT;
    s.tfmcc.cc_seq = 0x1234;
    s.tfmcc.cc_rate = quant_rate_encode(1000000);
    s.tfmcc.client_id = 0x0a4d010b;
    s.tfmcc.tstamp = 0x000660f65aa4f3e0ull;
    s.naks_len = 2;
    uint8_t want[64];
    n = wt_unhex("0b07000300020000"
                 "03050300123419a60a4d010b000660f65aa4f3e0"
                 "8100",
                 want, sizeof(want));
    check_codec(&wire_status_codec, &s, want, n);
    d = wt_decode(&wire_status_codec, UFTP_VER5, want, n);
    CU_ASSERT_EQUAL(d->naks, want + 28);
    CU_ASSERT_EQUAL(d->tfmcc.client_id, 0x0a4d010bu);
    /* v4: the extension's timestamp is sec/µs (spec §1.9 item 6). */
    s.ver = UFTP_VER4;
    s.tfmcc.tstamp = 1700000000ull * 1000000 + 5;
    check_codec(&wire_status_codec, &s, NULL, 0);
    n = wt_encode(&wire_status_codec, &s, wt_buf);
    CU_ASSERT_EQUAL(be32_get(wt_buf + 20), 1700000000u);
    CU_ASSERT_EQUAL(be32_get(wt_buf + 24), 5u);
    s.tfmcc.tstamp = UINT64_MAX;
    CU_ASSERT_EQUAL(wire_status_encode(wt_buf, 0, &s), WIRE_EINVAL);
    /* An empty bitmap is structurally fine (the engine checks its size). */
    s.has_tfmcc = false;
    s.naks_len = 0;
    check_codec(&wire_status_codec, &s, NULL, 0);
    s.naks = NULL;
    s.naks_len = 4;
    CU_ASSERT_EQUAL(wire_status_encode(wt_buf, WT_MAX, &s), WIRE_EINVAL);
    /* A TFMCC_ACK extension shorter than 20 bytes. */
    want[9] = 4;
    want[1] = 6;
    CU_ASSERT_EQUAL(wire_status_decode(wt_fresh(&wire_status_codec, UFTP_VER5), want, n),
                    WIRE_EHLEN);
}

static void test_complete(void)
{
    /* uftp5-noenc.pcapng frames 161 and 163. */
    struct wire_complete c = {.ver = UFTP_VER5, .file_id = 1, .status = COMP_STAT_NORMAL};
    uint8_t want[40];
    size_t n = wt_unhex("0c02000100000000", want, sizeof(want));
    check_codec(&wire_complete_codec, &c, want, n);
    /* EXT_FREESPACE_INFO (spec §1.4): hlen 5, free bytes big-endian. */
    c.ver = UFTP_VER4;
    c.status = COMP_STAT_SKIPPED;
    c.has_freespace = true;
    c.freespace = 0x0000012345678abcull;
    c.ids = wire_ids_of(ids3, 2);
    n = wt_unhex("0c05000101000000 07030000000001234567 8abc 0a4d010b01020304", want, sizeof(want));
    check_codec(&wire_complete_codec, &c, want, n);
    struct wire_complete *d = wt_decode(&wire_complete_codec, UFTP_VER4, want, n);
    CU_ASSERT_TRUE(d->has_freespace);
    CU_ASSERT_EQUAL(d->freespace, 0x0000012345678abcull);
    CU_ASSERT_EQUAL(d->ids.n, 2);
    /* A duplicated FREESPACE extension. */
    uint8_t dup[32] = {COMPLETE, 8, 0, 1, 0, 0, 0, 0, 7, 3};
    dup[20] = 7;
    dup[21] = 3;
    CU_ASSERT_EQUAL(wire_complete_decode(wt_fresh(&wire_complete_codec, UFTP_VER5), dup, 32),
                    WIRE_ERANGE);
}

static void test_done_conf(void)
{
    struct wire_done_conf m = {.ver = UFTP_VER5};
    uint32_t id = 0x0a4d010b;
    m.ids = wire_ids_of(&id, 1);
    uint8_t want[8];
    size_t n = wt_unhex("0d0100000a4d010b", want, sizeof(want));
    check_codec(&wire_done_conf_codec, &m, want, n);
    m.ver = UFTP_VER4;
    m.ids = wire_ids_of(ids3, 3);
    check_codec(&wire_done_conf_codec, &m, NULL, 0);
    /* spec §6 item 15: the list starts at hlen*4, even with an extension in between. */
    uint8_t p[16] = {DONE_CONF, 3, 0, 0, 0x55, 2, 0, 0, 0, 0, 0, 0, 0x0a, 0x4d, 0x01, 0x0b};
    struct wire_done_conf *d = wt_decode(&wire_done_conf_codec, UFTP_VER5, p, 16);
    CU_ASSERT_EQUAL(d->ids.n, 1);
    CU_ASSERT_EQUAL(wire_ids_get(&d->ids, 0), 0x0a4d010bu);
    CU_ASSERT_TRUE(d->lossy);
}

static const struct cu_test transfer_tests[] = {
    {"FILESEG with and without TFMCC data", test_fileseg},
    {"DONE", test_done},
    {"STATUS, TFMCC ack info and the NAK bitmap", test_status},
    {"COMPLETE with free space", test_complete},
    {"DONE_CONF", test_done_conf},
    {NULL, NULL},
};

CU_MAIN({"wire/transfer", transfer_tests})
