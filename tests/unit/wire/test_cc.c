#include "core/base/quant.h"
#include "core/wire/cc.h"
#include "wiretest.h"

CODEC(wire_cong_ctrl, WIRE_CC_ITEM_LEN)
CODEC(wire_cc_ack, 0)

static void test_cong_ctrl(void)
{
    struct wire_cc_item items[3] = {
        {0x0a4d010b, FLAG_CC_CLR | FLAG_CC_RTT | FLAG_CC_START, quant_rtt_encode(0.05)},
        {0x0a4d010c, FLAG_CC_RTT, 0},
        {0x0a4d010d, 0, 255},
    };
    struct wire_cong_ctrl m = {.ver = UFTP_VER5,
                               .cc_seq = 9,
                               .cc_rate = quant_rate_encode(128000),
                               .tstamp = 0x000660f65aa4f3e0ull};
    m.items.host = items;
    m.items.n = 3;
    uint8_t want[64];
    size_t n = wt_unhex("14040000000920c5000660f65aa4f3e0"
                        "0a4d010b077f 0000 0a4d010c0200 0000 0a4d010d00ff 0000",
                        want, sizeof(want));
    CU_ASSERT_EQUAL(items[0].rtt, 0x7f); /* ceil(255 - 13 ln(1000/0.05)) = 127 */
    check_codec(&wire_cong_ctrl_codec, &m, want, n);
    struct wire_cong_ctrl *d = wt_decode(&wire_cong_ctrl_codec, UFTP_VER5, want, n);
    CU_ASSERT_EQUAL(d->items.n, 3);
    struct wire_cc_item it = wire_cc_items_get(&d->items, 0);
    CU_ASSERT_EQUAL(it.id, 0x0a4d010bu);
    CU_ASSERT_EQUAL(it.flags, FLAG_CC_CLR | FLAG_CC_RTT | FLAG_CC_START);
    CU_ASSERT_EQUAL(it.rtt, 0x7f);
    it = wire_cc_items_get(&m.items, 2);
    CU_ASSERT_EQUAL(it.rtt, 255);
    /* v4 timestamps; an empty list. */
    m.ver = UFTP_VER4;
    m.tstamp = 1700000000ull * 1000000 + 123456;
    check_codec(&wire_cong_ctrl_codec, &m, NULL, 0);
    m.items.n = 0;
    check_codec(&wire_cong_ctrl_codec, &m, NULL, 0);
    m.items.host = NULL;
    m.items.n = 1;
    CU_ASSERT_EQUAL(wire_cong_ctrl_encode(wt_buf, WT_MAX, &m), WIRE_EINVAL);
    /* Items that are not whole 8-byte records. */
    for (size_t cut = 1; cut < 8; cut++)
        CU_ASSERT_EQUAL(
            wire_cong_ctrl_decode(wt_fresh(&wire_cong_ctrl_codec, UFTP_VER5), want, n - cut),
            WIRE_ETRAIL);
    CU_ASSERT_EQUAL(wire_max_cc_items(1300), 162);
}

static void test_cc_ack(void)
{
    struct wire_cc_ack m = {.ver = UFTP_VER5, .has_tfmcc = true};
    m.tfmcc.flags = FLAG_CC_CLR | FLAG_CC_LEAVE;
    m.tfmcc.cc_seq = 1;
    m.tfmcc.cc_rate = 0x19a6;
    m.tfmcc.client_id = 0x0a4d010b;
    m.tfmcc.tstamp = 0x0102030405060708ull;
    uint8_t want[32];
    size_t n = wt_unhex("15060000 03050900000119a60a4d010b0102030405060708", want, sizeof(want));
    check_codec(&wire_cc_ack_codec, &m, want, n);
    m.ver = UFTP_VER4;
    m.tfmcc.tstamp = 1000000ull * 0x6b048fce + 1;
    n = wt_unhex("15060000 03050900000119a60a4d010b6b048fce00000001", want, sizeof(want));
    check_codec(&wire_cc_ack_codec, &m, want, n);
    m.has_tfmcc = false;
    check_codec(&wire_cc_ack_codec, &m, NULL, 0);
    /* Reserved byte of the extension set: accepted, lossy. */
    want[7] = 0x80;
    struct wire_cc_ack *d = wt_decode(&wire_cc_ack_codec, UFTP_VER4, want, n);
    CU_ASSERT_TRUE(d->lossy);
    CU_ASSERT_EQUAL(d->tfmcc.flags, FLAG_CC_CLR | FLAG_CC_LEAVE);
}

static const struct cu_test cc_tests[] = {
    {"CONG_CTRL and its CC items", test_cong_ctrl},
    {"CC_ACK", test_cc_ack},
    {NULL, NULL},
};

CU_MAIN({"wire/cc", cc_tests})
