#include "core/wire/fileinfo.h"
#include "wiretest.h"

CODEC(wire_fileinfo, 4)
CODEC(wire_fileinfo_ack, 4)

static const uint32_t ids2[] = {0x0a4d010b, 0x0a4d010c};

static void test_fileinfo_capture_layout(void)
{
    /* uftp5-noenc.pcapng frame 4: "small200K", 200000 bytes, one ID. */
    struct wire_fileinfo f = {.ver = UFTP_VER5,
                              .file_id = 1,
                              .ftype = FTYPE_REG,
                              .mtime = 0x6b048f60,
                              .size = 200000,
                              .tstamp = 0x000660f65aa4f33eull,
                              .name = "small200K",
                              .name_len = 9};
    uint32_t id = 0x0a4d010b;
    f.ids = wire_ids_of(&id, 1);
    uint8_t want[64];
    size_t n = wt_unhex("070a000100000000030000000003 0d406b048f60000660f65aa4f33e"
                        "736d616c6c3230304b0000000a4d010b",
                        want, sizeof(want));
    check_codec(&wire_fileinfo_codec, &f, want, n);
    /* v4 (uftp4-noenc.pcapng frame 4): sec/µs time, no high file-time bits. */
    f.ver = UFTP_VER4;
    f.tstamp = 0x6b048fceull * 1000000 + 0x0009cc3f;
    n = wt_unhex("070a000100000000030000000003 0d406b048f606b048fce0009cc3f"
                 "736d616c6c3230304b0000000a4d010b",
                 want, sizeof(want));
    check_codec(&wire_fileinfo_codec, &f, want, n);
}

static void test_fileinfo_48bit(void)
{
    /* 48-bit size and file time: high parts at offsets 10 and 6. */
    struct wire_fileinfo f = {.ver = UFTP_VER5,
                              .file_id = 0xfffe,
                              .ftype = FTYPE_LINK,
                              .mtime = 0x123456789abcull,
                              .size = 0xfedcba987654ull,
                              .tstamp = 1,
                              .name = "dir/link",
                              .name_len = 8, /* a multiple of 4: no terminator */
                              .link = "../target-of-the-link",
                              .link_len = 21};
    f.ids = wire_ids_of(ids2, 2);
    check_codec(&wire_fileinfo_codec, &f, NULL, 0);
    size_t n = wt_encode(&wire_fileinfo_codec, &f, wt_buf);
    CU_ASSERT_EQUAL(wt_buf[1], (28 + 8 + 24) / 4);
    CU_ASSERT_EQUAL(be16_get(wt_buf + 6), 0x1234);
    CU_ASSERT_EQUAL(be32_get(wt_buf + 16), 0x56789abcu);
    CU_ASSERT_EQUAL(be16_get(wt_buf + 10), 0xfedc);
    CU_ASSERT_EQUAL(be32_get(wt_buf + 12), 0xba987654u);
    CU_ASSERT_EQUAL(wt_buf[8], 2);
    CU_ASSERT_EQUAL(wt_buf[9], 6);
    CU_ASSERT(memcmp(wt_buf + 28, "dir/link../target-of-the-link\0\0\0", 32) == 0);
    struct wire_fileinfo *d = wt_decode(&wire_fileinfo_codec, UFTP_VER5, wt_buf, n);
    CU_ASSERT_EQUAL(d->name_len, 8);
    CU_ASSERT(memcmp(d->name, "dir/link", 8) == 0);
    CU_ASSERT_EQUAL(d->link_len, 21);
    CU_ASSERT_EQUAL(d->mtime, 0x123456789abcull);
    CU_ASSERT_EQUAL(d->size, 0xfedcba987654ull);
    CU_ASSERT_FALSE(d->lossy);
    /* Read as v4, offset 6 is reserved: the high bits are ignored (lossy). */
    d = wt_decode(&wire_fileinfo_codec, UFTP_VER4, wt_buf, n);
    CU_ASSERT_EQUAL(d->mtime, 0x56789abcu);
    CU_ASSERT_TRUE(d->lossy);
    /* Limits. */
    f.size = WIRE_MAX_FSIZE + 1;
    CU_ASSERT_EQUAL(wire_fileinfo_encode(wt_buf, WT_MAX, &f), WIRE_EINVAL);
    f.size = 0;
    f.mtime = WIRE_MAX_FSIZE + 1;
    CU_ASSERT_EQUAL(wire_fileinfo_encode(wt_buf, WT_MAX, &f), WIRE_EINVAL);
    f.ver = UFTP_VER4;
    f.mtime = UINT32_MAX + 1ull;
    CU_ASSERT_EQUAL(wire_fileinfo_encode(wt_buf, 0, &f), WIRE_EINVAL);
    f.mtime = UINT32_MAX;
    check_codec(&wire_fileinfo_codec, &f, NULL, 0);
}

static void test_fileinfo_names(void)
{
    char name[302];
    memset(name, 'a', sizeof(name));
    struct wire_fileinfo f = {.ver = UFTP_VER5, .name = name, .name_len = 300};
    /* 300 bytes (75 words) is the largest name; an empty one is allowed here. */
    check_codec(&wire_fileinfo_codec, &f, NULL, 0);
    f.link = name;
    f.link_len = 300;
    check_codec(&wire_fileinfo_codec, &f, NULL, 0);
    f.link_len = 0;
    f.name_len = 0;
    check_codec(&wire_fileinfo_codec, &f, NULL, 0);
    f.name_len = 301;
    CU_ASSERT_EQUAL(wire_fileinfo_encode(wt_buf, WT_MAX, &f), WIRE_EINVAL);
    f.name = "a\0b";
    f.name_len = 3;
    CU_ASSERT_EQUAL(wire_fileinfo_encode(wt_buf, WT_MAX, &f), WIRE_EINVAL);
    f.name = NULL;
    CU_ASSERT_EQUAL(wire_fileinfo_encode(wt_buf, WT_MAX, &f), WIRE_EINVAL);

    /* Decode a field of 76 words (304 bytes): over the 300-byte limit. */
    f.name = name;
    f.name_len = 300;
    size_t n = wt_encode(&wire_fileinfo_codec, &f, wt_buf);
    memmove(wt_buf + 332, wt_buf + 328, n - 328);
    memset(wt_buf + 328, 'a', 4);
    wt_buf[8] = 76;
    wt_buf[1] = (uint8_t)(wt_buf[1] + 1);
    CU_ASSERT_EQUAL(wire_fileinfo_decode(wt_fresh(&wire_fileinfo_codec, UFTP_VER5), wt_buf, n + 4),
                    WIRE_ECOUNT);
    /* namelen + linklen beyond hlen (9 words: 28 + 8). */
    uint8_t small[40] = {FILEINFO, 9, 0, 1, 0, 0, 0, 0, 2, 1};
    memcpy(small + 28, "abcdefgh", 8);
    CU_ASSERT_EQUAL(wire_fileinfo_decode(wt_fresh(&wire_fileinfo_codec, UFTP_VER5), small, 40),
                    WIRE_EHLEN);
    small[9] = 0;
    struct wire_fileinfo *d = wt_decode(&wire_fileinfo_codec, UFTP_VER5, small, 40);
    CU_ASSERT_EQUAL(d->name_len, 8);
    CU_ASSERT_EQUAL(d->ids.n, 1);
    CU_ASSERT_FALSE(d->lossy);
    CU_ASSERT_FALSE(d->name_junk);
    /* A name with garbage after its NUL: lossy, and junk (two strings). */
    small[30] = 0;
    d = wt_decode(&wire_fileinfo_codec, UFTP_VER5, small, 40);
    CU_ASSERT_EQUAL(d->name_len, 2);
    CU_ASSERT_TRUE(d->lossy);
    CU_ASSERT_TRUE(d->name_junk);
    CU_ASSERT_FALSE(d->link_junk);
    /* More words than needed, zero-padded: lossy but not junk. */
    memset(small + 30, 0, 6);
    d = wt_decode(&wire_fileinfo_codec, UFTP_VER5, small, 40);
    CU_ASSERT_EQUAL(d->name_len, 2);
    CU_ASSERT_TRUE(d->lossy);
    CU_ASSERT_FALSE(d->name_junk);
    /* hlen below the fixed 28 bytes. */
    small[1] = 6;
    CU_ASSERT_EQUAL(wire_fileinfo_decode(wt_fresh(&wire_fileinfo_codec, UFTP_VER5), small, 40),
                    WIRE_EHLEN);
}

static void test_fileinfo_ack(void)
{
    /* uftp5-noenc.pcapng frame 5. */
    struct wire_fileinfo_ack a = {.ver = UFTP_VER5, .file_id = 1, .tstamp = 0x000660f65aa4f3e0ull};
    uint8_t want[32];
    size_t n = wt_unhex("0804000100000000000660f65aa4f3e0", want, sizeof(want));
    check_codec(&wire_fileinfo_ack_codec, &a, want, n);
    /* uftp4-noenc.pcapng frame 5. */
    a.ver = UFTP_VER4;
    a.tstamp = 0x6b048fceull * 1000000 + 0x0009ccb4;
    n = wt_unhex("08040001000000006b048fce0009ccb4", want, sizeof(want));
    check_codec(&wire_fileinfo_ack_codec, &a, want, n);
    /* From a proxy: PARTIAL and a list of clients. */
    a.flags = FLAG_PARTIAL;
    a.ids = wire_ids_of(ids2, 2);
    check_codec(&wire_fileinfo_ack_codec, &a, NULL, 0);
    n = wt_encode(&wire_fileinfo_ack_codec, &a, wt_buf);
    CU_ASSERT_EQUAL(wt_buf[4], FLAG_PARTIAL);
    wt_buf[5] = 1; /* reserved */
    struct wire_fileinfo_ack *d = wt_decode(&wire_fileinfo_ack_codec, UFTP_VER4, wt_buf, n);
    CU_ASSERT_TRUE(d->lossy);
    CU_ASSERT_EQUAL(d->ids.n, 2);
    CU_ASSERT_TRUE(wire_ids_contains(&d->ids, 0x0a4d010c));
}

static const struct cu_test fileinfo_tests[] = {
    {"FILEINFO layout against the captures (v5, v4)", test_fileinfo_capture_layout},
    {"FILEINFO 48-bit size and time, links", test_fileinfo_48bit},
    {"FILEINFO names: padding and limits", test_fileinfo_names},
    {"FILEINFO_ACK", test_fileinfo_ack},
    {NULL, NULL},
};

CU_MAIN({"wire/fileinfo", fileinfo_tests})
