/* The internal framing helpers every codec uses (core/wire/ext.c). */
#include "core/wire/wire_int.h"
#include "cu.h"

static void test_msg_open(void)
{
    uint8_t p[16] = {DONE, 2, 0, 1, 0, 0, 0, 0, 1, 2, 3, 4};
    struct rbuf h, b;
    CU_ASSERT_EQUAL(msg_open(p, 12, DONE, UFTP_VER5, 8, &h, &b), 0);
    CU_ASSERT_EQUAL(h.off, 2);
    CU_ASSERT_EQUAL(h.len, 8);
    CU_ASSERT_PTR_EQUAL(b.p, p + 8);
    CU_ASSERT_EQUAL(b.len, 4);
    CU_ASSERT_EQUAL(msg_open(p, 12, DONE, 0x60, 8, &h, &b), WIRE_EVERSION);
    CU_ASSERT_EQUAL(msg_open(p, 12, STATUS, UFTP_VER5, 8, &h, &b), WIRE_EFUNC);
    CU_ASSERT_EQUAL(msg_open(p, 1, DONE, UFTP_VER5, 8, &h, &b), WIRE_ETRUNC);
    CU_ASSERT_EQUAL(msg_open(NULL, 0, DONE, UFTP_VER5, 8, &h, &b), WIRE_ETRUNC);
    CU_ASSERT_EQUAL(msg_open(p, 7, DONE, UFTP_VER5, 8, &h, &b), WIRE_ETRUNC);
    CU_ASSERT_EQUAL(msg_open(p, 12, DONE, UFTP_VER5, 12, &h, &b), WIRE_EHLEN);
    p[1] = 0;
    CU_ASSERT_EQUAL(msg_open(p, 12, DONE, UFTP_VER5, 8, &h, &b), WIRE_EHLEN);
    p[1] = 255; /* 1020 bytes claimed */
    CU_ASSERT_EQUAL(msg_open(p, 16, DONE, UFTP_VER5, 8, &h, &b), WIRE_ETRUNC);
}

static void test_ext_walk(void)
{
    /* Three extensions: 1, 2 and 1 words. */
    const uint8_t a[16] = {7, 1, 0, 0, 9, 2, 1, 2, 3, 4, 5, 6, 0xff, 1, 0xaa, 0xbb};
    struct rbuf r = rb_init(a, sizeof(a)), e;
    uint8_t t;
    CU_ASSERT_EQUAL(ext_next(&r, &t, &e), 1);
    CU_ASSERT_EQUAL(t, 7);
    CU_ASSERT_EQUAL(e.len, 4);
    CU_ASSERT_EQUAL(ext_next(&r, &t, &e), 1);
    CU_ASSERT_EQUAL(t, 9);
    CU_ASSERT_EQUAL(e.len, 8);
    CU_ASSERT_PTR_EQUAL(e.p, a + 4);
    CU_ASSERT_EQUAL(ext_next(&r, &t, &e), 1);
    CU_ASSERT_EQUAL(t, 0xff);
    CU_ASSERT_EQUAL(ext_next(&r, &t, &e), 0);
    CU_ASSERT_EQUAL(ext_next(&r, &t, &e), 0);
    /* Malformed: extlen 0, past the area, a lone byte. */
    const uint8_t z[4] = {1, 0, 0, 0};
    r = rb_init(z, 4);
    CU_ASSERT_EQUAL(ext_next(&r, &t, &e), WIRE_EHLEN);
    const uint8_t big[8] = {1, 3};
    r = rb_init(big, 8);
    CU_ASSERT_EQUAL(ext_next(&r, &t, &e), WIRE_EHLEN);
    r = rb_init(big, 1);
    CU_ASSERT_EQUAL(ext_next(&r, &t, &e), WIRE_EHLEN);
    /* Skipping all marks the message lossy; an empty area does not. */
    bool lossy = false;
    r = rb_init(a, sizeof(a));
    CU_ASSERT_EQUAL(ext_skip_all(&r, &lossy), 0);
    CU_ASSERT_TRUE(lossy);
    lossy = false;
    r = rb_init(a, 0);
    CU_ASSERT_EQUAL(ext_skip_all(&r, &lossy), 0);
    CU_ASSERT_FALSE(lossy);
    r = rb_init(z, 4);
    CU_ASSERT_EQUAL(ext_skip_all(&r, &lossy), WIRE_EHLEN);
}

static void test_padding_and_ids(void)
{
    const uint8_t p[8] = {1, 2, 3, 0, 0, 0, 0, 5};
    struct rbuf r = rb_init(p, 8);
    bool lossy = false;
    rb_skip(&r, 3);
    rb_pad4(&r, &lossy);
    CU_ASSERT_EQUAL(r.off, 4);
    CU_ASSERT_FALSE(lossy);
    rb_pad4(&r, &lossy); /* already aligned */
    CU_ASSERT_EQUAL(r.off, 4);
    rb_skip(&r, 1);
    rb_pad4(&r, &lossy);
    CU_ASSERT_EQUAL(r.off, 8);
    CU_ASSERT_TRUE(lossy);
    struct wire_ids l;
    r = rb_init(p, 8);
    CU_ASSERT_EQUAL(ids_decode(&l, &r), 0);
    CU_ASSERT_EQUAL(l.n, 2);
    r = rb_init(p, 7);
    CU_ASSERT_EQUAL(ids_decode(&l, &r), WIRE_ETRAIL);
    r = rb_init(p, 0);
    CU_ASSERT_EQUAL(ids_decode(&l, &r), 0);
    CU_ASSERT_EQUAL(l.n, 0);
    /* Encoding an absurd count fails cleanly instead of overflowing. */
    uint8_t out[8];
    struct wbuf w = wb_init(out, sizeof(out));
    struct wire_ids huge = {p, NULL, SIZE_MAX / 2};
    ids_encode(&w, &huge);
    CU_ASSERT_TRUE(w.err);
    CU_ASSERT_EQUAL(w.off, 0);
    /* Timestamps: v4 seconds must fit 32 bits. */
    CU_ASSERT_TRUE(ts_ok(UFTP_VER5, UINT64_MAX));
    CU_ASSERT_TRUE(ts_ok(UFTP_VER4, UINT64_C(4294967295999999)));
    CU_ASSERT_FALSE(ts_ok(UFTP_VER4, UINT64_C(4294967296000000)));
}

static const struct cu_test ext_tests[] = {
    {"msg_open checks func, version, hlen", test_msg_open},
    {"extension walking", test_ext_walk},
    {"padding, ID bodies, timestamps", test_padding_and_ids},
    {NULL, NULL},
};

CU_MAIN({"wire/ext", ext_tests})
