#include "core/wire/buf.h"
#include "core/wire/wire.h"
#include "cu.h"

static void test_read_be(void)
{
    const uint8_t d[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
    struct rbuf r = rb_init(d, sizeof(d));
    CU_ASSERT_EQUAL(rb_u8(&r), 1);
    CU_ASSERT_EQUAL(rb_u16(&r), 0x0203);
    CU_ASSERT_EQUAL(rb_u32(&r), 0x04050607u);
    CU_ASSERT_EQUAL(rb_u64(&r), 0x08090a0b0c0d0e0full);
    CU_ASSERT_TRUE(rb_done(&r));
    CU_ASSERT_EQUAL(rb_u8(&r), 0);
    CU_ASSERT_TRUE(r.err);
    CU_ASSERT_FALSE(rb_done(&r));
}

static void test_read_sticky(void)
{
    const uint8_t d[] = {0xff, 0xee, 0xdd};
    struct rbuf r = rb_init(d, sizeof(d));
    CU_ASSERT_EQUAL(rb_u32(&r), 0);
    CU_ASSERT_TRUE(r.err);
    /* After an error nothing more is read, even what would fit. */
    CU_ASSERT_EQUAL(rb_u8(&r), 0);
    CU_ASSERT_EQUAL(rb_left(&r), 0);
    CU_ASSERT_PTR_NULL(rb_ptr(&r, 0));
}

static void test_sub_reader(void)
{
    const uint8_t d[] = {1, 2, 3, 4, 5};
    struct rbuf r = rb_init(d, sizeof(d));
    struct rbuf s = rb_sub(&r, 3);
    CU_ASSERT_FALSE(s.err);
    CU_ASSERT_EQUAL(rb_u16(&s), 0x0102);
    CU_ASSERT_EQUAL(rb_u16(&s), 0); /* past the sub-reader's end */
    CU_ASSERT_TRUE(s.err);
    CU_ASSERT_FALSE(r.err);
    CU_ASSERT_EQUAL(rb_u16(&r), 0x0405);
    struct rbuf t = rb_sub(&r, 1);
    CU_ASSERT_TRUE(t.err);
    CU_ASSERT_TRUE(r.err);
}

static void test_write(void)
{
    uint8_t out[8];
    struct wbuf w = wb_init(out, sizeof(out));
    wb_u16(&w, 0xabcd);
    wb_u32(&w, 0x01020304);
    CU_ASSERT_FALSE(w.err);
    wb_u32(&w, 0x05060708); /* does not fit */
    CU_ASSERT_TRUE(w.err);
    CU_ASSERT_EQUAL(w.off, 6);
    CU_ASSERT_EQUAL(out[0], 0xab);
    CU_ASSERT_EQUAL(out[5], 0x04);
    wb_u8(&w, 1); /* sticky */
    CU_ASSERT_EQUAL(w.off, 6);
}

static void test_header_roundtrip(void)
{
    struct uftp_hdr h = {UFTP_VER5, FILESEG, 0xfffe, 0x0a000001, 0xdeadbeef, 3, 0x80, 0x21};
    uint8_t out[UFTP_HDR_LEN];
    CU_ASSERT_EQUAL(uftp_hdr_encode(out, sizeof(out), &h), UFTP_HDR_LEN);
    struct uftp_hdr g;
    CU_ASSERT_EQUAL(uftp_hdr_decode(&g, out, sizeof(out)), UFTP_HDR_LEN);
    CU_ASSERT_EQUAL(memcmp(&h, &g, sizeof(h)), 0);
    for (size_t n = 0; n < UFTP_HDR_LEN; n++)
        CU_ASSERT_EQUAL(uftp_hdr_decode(&g, out, n), WIRE_ETRUNC);
    CU_ASSERT_EQUAL(uftp_hdr_encode(out, UFTP_HDR_LEN - 1, &h), WIRE_ENOSPC);
    out[0] = 0x30;
    CU_ASSERT_EQUAL(uftp_hdr_decode(&g, out, sizeof(out)), WIRE_EVERSION);
}

static const struct cu_test buf_tests[] = {
    {"reads big-endian fields", test_read_be},
    {"errors are sticky", test_read_sticky},
    {"sub-readers are bounded", test_sub_reader},
    {"writer stops at capacity", test_write},
    {"common header round trip and truncation", test_header_roundtrip},
    {NULL, NULL},
};

CU_MAIN({"wire/buf", buf_tests})
