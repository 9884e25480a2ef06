#include "core/proto/engine.h"
#include "cu.h"

#include <string.h>

static void test_check_reset(void)
{
    static uint8_t buf[ENG_MIN_BUF];
    struct eng_out o;
    memset(&o, 0x5A, sizeof(o));
    o.buf = buf;
    o.cap = sizeof(buf);
    o.max_seg = 1;
    CU_ASSERT_EQUAL(eng_out_check(&o), ENG_OK);
    eng_out_reset(&o);
    CU_ASSERT_EQUAL(o.kind, ENG_NONE);
    CU_ASSERT_EQUAL(o.len, 0);
    CU_ASSERT_EQUAL(o.nseg, 0);
    CU_ASSERT_FALSE(addr_is_set(&o.dst));
    CU_ASSERT_FALSE(addr_is_set(&o.source));
    CU_ASSERT_EQUAL(o.ifindex, 0);
    /* The shell's fields survive. */
    CU_ASSERT_PTR_EQUAL(o.buf, buf);
    CU_ASSERT_EQUAL(o.cap, sizeof(buf));
    CU_ASSERT_EQUAL(o.max_seg, 1);
    o.cap = ENG_MIN_BUF - 1;
    CU_ASSERT_EQUAL(eng_out_check(&o), ENG_ENOSPC);
    o.cap = ENG_MIN_BUF;
    o.max_seg = 0;
    CU_ASSERT_EQUAL(eng_out_check(&o), ENG_ENOSPC);
    o.max_seg = 1;
    o.buf = NULL;
    CU_ASSERT_EQUAL(eng_out_check(&o), ENG_ENOSPC);
}

/* Every code has its own message; nothing prints as a bare number. */
static void test_strerror(void)
{
    static const int codes[] = {ENG_OK, ENG_EINVAL, ENG_ENOMEM, ENG_ENOSPC, ENG_ERNG};
    size_t n = sizeof(codes) / sizeof(codes[0]);
    for (size_t i = 0; i < n; i++) {
        CU_ASSERT_STRING_NOT_EQUAL(eng_strerror(codes[i]), "unknown engine error");
        for (size_t j = 0; j < i; j++)
            CU_ASSERT_STRING_NOT_EQUAL(eng_strerror(codes[i]), eng_strerror(codes[j]));
    }
    CU_ASSERT_STRING_EQUAL(eng_strerror(ENG_ENOSPC), "output buffer too small");
    CU_ASSERT_STRING_EQUAL(eng_strerror(-99), "unknown engine error");
    CU_ASSERT_STRING_EQUAL(eng_strerror(ENG_SEND),
                           "unknown engine error"); /* a kind, not an error */
}

static const struct cu_test engine_tests[] = {
    {"eng_out check and reset", test_check_reset},
    {"error messages", test_strerror},
    {NULL, NULL},
};

CU_MAIN({"proto/engine", engine_tests})
