#include <string.h>

#include "core/proto/agg.h"
#include "core/wire/transfer.h"
#include "core/wire/wire.h"
#include "cu.h"

static struct agg_msg msg(uint8_t func, uint16_t file, uint16_t sec)
{
    struct agg_msg m;
    memset(&m, 0, sizeof(m));
    m.func = func;
    m.file_id = file;
    m.section = sec;
    return m;
}

static void test_matching(void)
{
    struct agg a;
    CU_ASSERT_EQUAL_FATAL(agg_init(&a, AGG_MAX_SLOTS, 325, 1300, 50000), 0);
    struct agg_msg r = msg(REGISTER, 0, 0);
    /* Any REGISTER joins any REGISTER. */
    CU_ASSERT_EQUAL(agg_add(&a, &r, 1, 1000), 0);
    CU_ASSERT_EQUAL(agg_add(&a, &r, 2, 1000), 0);
    CU_ASSERT_EQUAL(agg_add(&a, &r, 2, 1000), 0); /* duplicate: listed once */
    CU_ASSERT_EQUAL(a.slots[0].nids, 2);
    /* FILEINFO_ACK by file ID. */
    struct agg_msg f1 = msg(FILEINFO_ACK, 1, 0), f2 = msg(FILEINFO_ACK, 2, 0);
    CU_ASSERT_EQUAL(agg_add(&a, &f1, 1, 1000), 1);
    CU_ASSERT_EQUAL(agg_add(&a, &f2, 2, 1000), 2);
    CU_ASSERT_EQUAL(agg_add(&a, &f1, 3, 1000), 1);
    /* STATUS by file and section. */
    uint8_t nak[4] = {1, 0, 0, 0};
    struct agg_msg s10 = msg(STATUS, 1, 0), s11 = msg(STATUS, 1, 1), s20 = msg(STATUS, 2, 0);
    s10.naks = s11.naks = s20.naks = nak;
    s10.naks_len = s11.naks_len = s20.naks_len = sizeof(nak);
    CU_ASSERT_EQUAL(agg_add(&a, &s10, 1, 1000), 3);
    CU_ASSERT_EQUAL(agg_add(&a, &s11, 1, 1000), 4);
    CU_ASSERT_EQUAL(agg_add(&a, &s20, 1, 1000), 5);
    CU_ASSERT_EQUAL(agg_add(&a, &s10, 2, 1000), 3);
    CU_ASSERT_EQUAL(a.slots[3].adds, 2);
    CU_ASSERT_EQUAL(a.slots[3].nids, 0); /* STATUS carries no list */
    /* COMPLETE by file and status; free space only with the same value. */
    struct agg_msg c = msg(COMPLETE, 1, 0), cs = msg(COMPLETE, 1, 0), cf = msg(COMPLETE, 1, 0);
    cs.status = COMP_STAT_SKIPPED;
    cf.has_freespace = true;
    cf.freespace = 12345;
    CU_ASSERT_EQUAL(agg_add(&a, &c, 1, 1000), 6);
    CU_ASSERT_EQUAL(agg_add(&a, &cs, 2, 1000), 7);
    CU_ASSERT_EQUAL(agg_add(&a, &cf, 3, 1000), 8);
    CU_ASSERT_EQUAL(agg_add(&a, &c, 4, 1000), 6);
    CU_ASSERT_EQUAL(agg_add(&a, &cf, 5, 1000), 8);
    cf.freespace = 99;
    CU_ASSERT_EQUAL(agg_add(&a, &cf, 6, 1000), 9);
    CU_ASSERT_EQUAL(agg_pending(&a), 10);
    /* Not aggregated types are refused. */
    struct agg_msg bad = msg(CC_ACK, 0, 0);
    CU_ASSERT_EQUAL(agg_add(&a, &bad, 1, 1000), AGG_EINVAL);
    agg_free(&a);
}

static void test_partial_and(void)
{
    struct agg a;
    agg_init(&a, AGG_MAX_SLOTS, 325, 1300, 50000);
    struct agg_msg f = msg(FILEINFO_ACK, 7, 0);
    f.partial = true;
    agg_add(&a, &f, 1, 0);
    agg_add(&a, &f, 2, 0);
    CU_ASSERT_TRUE(a.slots[0].partial);
    f.partial = false;
    agg_add(&a, &f, 3, 0);
    CU_ASSERT_FALSE(a.slots[0].partial);
    f.partial = true;
    agg_add(&a, &f, 4, 0);
    CU_ASSERT_FALSE(a.slots[0].partial); /* once one is not partial, the aggregate is not */
    CU_ASSERT_EQUAL(a.slots[0].nids, 4);
    agg_free(&a);
}

/* Builds a STATUS with or without EXT_TFMCC_ACK_INFO and decodes it as the proxy does. */
static size_t status_pkt(uint8_t *buf, size_t cap, bool tfmcc, const uint8_t *naks, size_t n)
{
    struct wire_status st;
    memset(&st, 0, sizeof(st));
    st.ver = UFTP_VER5;
    st.file_id = 1;
    st.section = 0;
    st.has_tfmcc = tfmcc;
    /* Extension bytes that would read as NAKs if the bitmap were taken at a fixed offset. */
    st.tfmcc.flags = 0xFF;
    st.tfmcc.cc_seq = 0xFFFF;
    st.tfmcc.cc_rate = 0xFFFF;
    st.tfmcc.client_id = 0xFFFFFFFF;
    st.tfmcc.tstamp = 0x0FFFFFFFFFFFFFFFull;
    st.naks = naks;
    st.naks_len = n;
    ssize_t len = wire_status_encode(buf, cap, &st);
    CU_ASSERT_FATAL(len > 0);
    return (size_t)len;
}

static void test_or_bitmaps_tfmcc(void)
{
    struct agg a;
    agg_init(&a, AGG_MAX_SLOTS, 325, 16, 50000);
    uint8_t n1[3] = {0x01, 0x00, 0x80}, n2[5] = {0x02, 0x10, 0x00, 0x00, 0x04};
    uint8_t p1[64], p2[64];
    size_t l1 = status_pkt(p1, sizeof(p1), true, n1, sizeof(n1));
    size_t l2 = status_pkt(p2, sizeof(p2), false, n2, sizeof(n2));
    struct wire_status d1 = {.ver = UFTP_VER5}, d2 = {.ver = UFTP_VER5};
    CU_ASSERT_EQUAL_FATAL(wire_status_decode(&d1, p1, l1), (ssize_t)l1);
    CU_ASSERT_EQUAL_FATAL(wire_status_decode(&d2, p2, l2), (ssize_t)l2);
    CU_ASSERT_TRUE(d1.has_tfmcc);
    CU_ASSERT_EQUAL(d1.naks_len, 3);
    struct agg_msg m1 = msg(STATUS, d1.file_id, d1.section), m2 = m1;
    m1.naks = d1.naks;
    m1.naks_len = d1.naks_len;
    m2.naks = d2.naks;
    m2.naks_len = d2.naks_len;
    CU_ASSERT_EQUAL(agg_add(&a, &m1, 1, 0), 0);
    CU_ASSERT_EQUAL(agg_add(&a, &m2, 2, 0), 0);
    const struct agg_slot *s = &a.slots[0];
    CU_ASSERT_EQUAL(s->naks_len, 5);
    static const uint8_t want[5] = {0x03, 0x10, 0x80, 0x00, 0x04};
    CU_ASSERT_EQUAL(memcmp(s->naks, want, 5), 0);
    /* A bitmap longer than the cap is cut to it, never read or written past. */
    uint8_t big[40];
    memset(big, 0xAA, sizeof(big));
    struct agg_msg m3 = msg(STATUS, 1, 0);
    m3.naks = big;
    m3.naks_len = sizeof(big);
    agg_add(&a, &m3, 3, 0);
    CU_ASSERT_EQUAL(s->naks_len, 16);
    CU_ASSERT_EQUAL(s->naks[15], 0xAA);
    CU_ASSERT_EQUAL(s->naks[0], 0xAB);
    agg_free(&a);
}

static void test_timing(void)
{
    struct agg a;
    agg_init(&a, AGG_MAX_SLOTS, 325, 1300, 50000);
    CU_ASSERT_EQUAL(agg_deadline(&a), UINT64_MAX);
    CU_ASSERT_EQUAL(agg_due(&a, 1000000, false), -1);
    struct agg_msg r = msg(REGISTER, 0, 0), f = msg(FILEINFO_ACK, 1, 0);
    agg_add(&a, &r, 1, 1000);
    agg_add(&a, &r, 2, 30000); /* joining does not move the deadline */
    agg_add(&a, &f, 1, 20000);
    CU_ASSERT_EQUAL(agg_deadline(&a), 51000);
    CU_ASSERT_EQUAL(agg_due(&a, 50999, false), -1);
    CU_ASSERT_EQUAL(agg_due(&a, 51000, false), 0);
    CU_ASSERT_EQUAL(agg_due(&a, 0, true), 0); /* forced: oldest first */
    agg_clear(&a, 0);
    CU_ASSERT_EQUAL(agg_deadline(&a), 70000);
    CU_ASSERT_EQUAL(agg_due(&a, 69999, false), -1);
    CU_ASSERT_EQUAL(agg_due(&a, 0, true), 1);
    /* A new hold applies to new slots. */
    agg_set_hold(&a, 10);
    int i = agg_add(&a, &r, 3, 100);
    CU_ASSERT_EQUAL(agg_deadline(&a), 110);
    /* Due by a time (an answer held before, spec §3.5): only ever earlier; a free slot not. */
    agg_due_by(&a, i, 200);
    CU_ASSERT_EQUAL(agg_deadline(&a), 110);
    agg_due_by(&a, i, 105);
    CU_ASSERT_EQUAL(agg_deadline(&a), 105);
    agg_due_by(&a, 9, 1);
    agg_due_by(&a, -1, 1);
    CU_ASSERT_EQUAL(agg_deadline(&a), 105);
    agg_free(&a);
}

static void test_echo(void)
{
    struct agg a;
    agg_init(&a, AGG_MAX_SLOTS, 325, 1300, 50000);
    struct agg_msg r = msg(REGISTER, 0, 0);
    r.has_echo = true;
    /* Client 1: echo 5000000 received at 1000 → base 4999000. */
    r.echo_us = 5000000;
    agg_add(&a, &r, 1, 1000);
    /* Client 2 (slower): echo 5000100 received at 3000 → base 4997100: it wins. */
    r.echo_us = 5000100;
    agg_add(&a, &r, 2, 3000);
    /* Client 3 (faster) does not change it. */
    r.echo_us = 5010000;
    agg_add(&a, &r, 3, 4000);
    CU_ASSERT_EQUAL(agg_echo(&a.slots[0], 51000), 5048100);
    agg_free(&a);
}

static void test_limits(void)
{
    struct agg a;
    CU_ASSERT_EQUAL(agg_init(&a, 0, 325, 1300, 1), AGG_EINVAL);
    CU_ASSERT_EQUAL(agg_init(&a, AGG_MAX_SLOTS + 1, 325, 1300, 1), AGG_EINVAL);
    CU_ASSERT_EQUAL(agg_init(&a, 3, 0, 1300, 1), AGG_EINVAL);
    CU_ASSERT_EQUAL_FATAL(agg_init(&a, 3, 4, 1300, 50000), 0);
    struct agg_msg f = msg(FILEINFO_ACK, 1, 0);
    for (uint32_t id = 1; id <= 3; id++)
        CU_ASSERT_EQUAL(agg_add(&a, &f, id, 0), 0);
    CU_ASSERT_EQUAL(agg_due(&a, 0, false), -1);
    /* The fourth ID fills the list: due now. */
    CU_ASSERT_EQUAL(agg_add(&a, &f, 4, 0), 0);
    CU_ASSERT_EQUAL(agg_deadline(&a), 0);
    CU_ASSERT_EQUAL(agg_due(&a, 0, false), 0);
    /* The next one goes to a new slot. */
    CU_ASSERT_EQUAL(agg_add(&a, &f, 5, 0), 1);
    struct agg_msg f2 = msg(FILEINFO_ACK, 2, 0), f3 = msg(FILEINFO_ACK, 3, 0);
    CU_ASSERT_EQUAL(agg_add(&a, &f2, 1, 0), 2);
    /* No match, no free slot: the caller must flush. */
    CU_ASSERT_EQUAL(agg_add(&a, &f3, 1, 0), AGG_EFULL);
    CU_ASSERT_EQUAL(agg_pending(&a), 3);
    int i;
    unsigned n = 0;
    while ((i = agg_due(&a, 0, true)) >= 0) {
        agg_clear(&a, i);
        n++;
    }
    CU_ASSERT_EQUAL(n, 3);
    CU_ASSERT_EQUAL(agg_add(&a, &f3, 1, 0), 0);
    CU_ASSERT_EQUAL(a.slots[0].nids, 1);
    CU_ASSERT_EQUAL(a.slots[0].ids[0], 1);
    CU_ASSERT_EQUAL(a.slots[0].file_id, 3);
    agg_free(&a);
}

static void test_strerror(void)
{
    CU_ASSERT_STRING_EQUAL(agg_strerror(AGG_EFULL), "every aggregate slot in use");
    CU_ASSERT_STRING_EQUAL(agg_strerror(AGG_EINVAL), "not an aggregated message");
    CU_ASSERT_STRING_EQUAL(agg_strerror(AGG_ENOMEM), "out of memory");
    CU_ASSERT_STRING_EQUAL(agg_strerror(0), "unknown aggregation error");
}

/* Issue 17: count STATUS (parity needs per FEC block) merge by maximum, apart from plain ones. */
static void test_counts_max(void)
{
    struct agg a;
    CU_ASSERT_EQUAL_FATAL(agg_init(&a, 4, 325, 100, 50000), 0);
    uint8_t c1[5] = {3, 0, 7, 1, 0}, c2[7] = {1, 4, 2, 1, 0, 0, 9}, nak[3] = {0x81, 0, 0x10};
    struct agg_msg m1 = msg(STATUS, 1, 0), m2 = m1, p = m1;
    m1.counts = m2.counts = true;
    m1.naks = c1;
    m1.naks_len = sizeof(c1);
    m1.bits_len = 20;
    m2.naks = c2;
    m2.naks_len = sizeof(c2);
    m2.bits_len = 30;
    p.naks = nak;
    p.naks_len = sizeof(nak);
    CU_ASSERT_EQUAL(agg_add(&a, &m1, 1, 1000), 0);
    CU_ASSERT_EQUAL(agg_add(&a, &p, 2, 1000), 1); /* a plain one: its own slot */
    CU_ASSERT_EQUAL(agg_add(&a, &m2, 3, 1000), 0);
    const struct agg_slot *s = &a.slots[0];
    CU_ASSERT_TRUE(s->counts);
    CU_ASSERT_EQUAL(s->naks_len, 7);
    CU_ASSERT_EQUAL(s->bits_len, 30);
    CU_ASSERT_EQUAL(s->adds, 2);
    static const uint8_t want[7] = {3, 4, 7, 1, 0, 0, 9};
    CU_ASSERT_EQUAL(memcmp(s->naks, want, sizeof(want)), 0);
    CU_ASSERT_FALSE(a.slots[1].counts);
    CU_ASSERT_EQUAL(a.slots[1].naks[0], 0x81);
    /* Counts go up to 8 per bitmap byte (a FEC block per block at K = 1); no further. */
    uint8_t big[900];
    memset(big, 2, sizeof(big));
    struct agg_msg m3 = m1;
    m3.naks = big;
    m3.naks_len = sizeof(big);
    m3.file_id = 2;
    CU_ASSERT_EQUAL(agg_add(&a, &m3, 4, 1000), 2);
    CU_ASSERT_EQUAL(a.slots[2].naks_len, 800);
    agg_clear(&a, 0);
    CU_ASSERT_FALSE(a.slots[0].counts);
    agg_free(&a);
}

static const struct cu_test agg_tests[] = {
    {"slot matching", test_matching},
    {"PARTIAL is ANDed", test_partial_and},
    {"NAK bitmaps ORed, read by hlen past a TFMCC extension", test_or_bitmaps_tfmcc},
    {"flush timing", test_timing},
    {"echo: longest RTT, held time added", test_echo},
    {"limits: full ID list, no free slot", test_limits},
    {"error messages", test_strerror},
    {"parity count reports: maximum per FEC block, apart from plain NAKs", test_counts_max},
    {NULL, NULL},
};

CU_MAIN({"proto/agg", agg_tests})
