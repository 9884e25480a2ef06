#include "core/wire/abort.h"
#include "wiretest.h"

CODEC(wire_abort, 0)

static void test_abort_roundtrip(void)
{
    struct wire_abort a = {.ver = UFTP_VER5, .flags = FLAG_CURRENT_FILE, .host = 0x0a4d010b};
    snprintf(a.text, sizeof(a.text), "%s", "Transfer timed out");
    uint8_t want[WIRE_ABORT_LEN] = {ABORT, 77, 1, 0, 0x0a, 0x4d, 0x01, 0x0b};
    memcpy(want + 8, "Transfer timed out", 18);
    check_codec(&wire_abort_codec, &a, want, sizeof(want));
    a.ver = UFTP_VER4;
    check_codec(&wire_abort_codec, &a, want, sizeof(want));
    /* An empty text and a full 300-byte one (no NUL on the wire). */
    a.text[0] = '\0';
    check_codec(&wire_abort_codec, &a, NULL, 0);
    memset(a.text, 'x', WIRE_ABORT_TEXT_LEN);
    a.text[WIRE_ABORT_TEXT_LEN] = '\0';
    check_codec(&wire_abort_codec, &a, NULL, 0);
    a.text[WIRE_ABORT_TEXT_LEN] = 'x'; /* no NUL at all */
    CU_ASSERT_EQUAL(wire_abort_encode(wt_buf, WT_MAX, &a), WIRE_EINVAL);
}

static void test_abort_text_safe(void)
{
    uint8_t p[WIRE_ABORT_LEN] = {ABORT, 77};
    /* 300 non-NUL bytes: the decoded text is still terminated. */
    memset(p + 8, 'A', WIRE_ABORT_TEXT_LEN);
    struct wire_abort *d = wt_decode(&wire_abort_codec, UFTP_VER5, p, sizeof(p));
    CU_ASSERT_EQUAL(strlen(d->text), WIRE_ABORT_TEXT_LEN);
    CU_ASSERT_FALSE(d->lossy);
    /* Text, NUL, garbage: cut at the NUL, lossy. */
    p[10] = 0;
    d = wt_decode(&wire_abort_codec, UFTP_VER5, p, sizeof(p));
    CU_ASSERT_STRING_EQUAL(d->text, "AA");
    CU_ASSERT_TRUE(d->lossy);
    /* hlen must cover the 308 bytes; more is an extension area. */
    p[1] = 76;
    CU_ASSERT_EQUAL(wire_abort_decode(wt_fresh(&wire_abort_codec, UFTP_VER5), p, sizeof(p)),
                    WIRE_EHLEN);
    p[1] = 78;
    CU_ASSERT_EQUAL(wire_abort_decode(wt_fresh(&wire_abort_codec, UFTP_VER5), p, sizeof(p)),
                    WIRE_ETRUNC);
}

static const struct cu_test abort_tests[] = {
    {"ABORT round trips", test_abort_roundtrip},
    {"ABORT text is always NUL-terminated", test_abort_text_safe},
    {NULL, NULL},
};

CU_MAIN({"wire/abort", abort_tests})
