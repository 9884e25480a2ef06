/* core/wire/wire.c: error strings, message names (the header codec is in test_buf.c). */
#include "core/wire/wire.h"
#include "cu.h"

#include <string.h>

static void test_strerror(void)
{
    static const int errs[] = {WIRE_ETRUNC, WIRE_EHLEN,  WIRE_EVERSION, WIRE_EFUNC, WIRE_ECOUNT,
                               WIRE_ERANGE, WIRE_ETRAIL, WIRE_ENOSPC,   WIRE_EINVAL};
    for (size_t i = 0; i < sizeof(errs) / sizeof(errs[0]); i++) {
        CU_ASSERT(errs[i] < 0);
        CU_ASSERT_STRING_NOT_EQUAL(wire_strerror(errs[i]), "unknown error");
        for (size_t j = 0; j < i; j++)
            CU_ASSERT_STRING_NOT_EQUAL(wire_strerror(errs[i]), wire_strerror(errs[j]));
    }
    CU_ASSERT_STRING_EQUAL(wire_strerror(WIRE_OK), "ok");
    CU_ASSERT_STRING_EQUAL(wire_strerror(-100), "unknown error");
    CU_ASSERT_STRING_EQUAL(wire_strerror(5), "unknown error");
}

static void test_func_names(void)
{
    CU_ASSERT_STRING_EQUAL(wire_func_name(ANNOUNCE), "ANNOUNCE");
    CU_ASSERT_STRING_EQUAL(wire_func_name(KEY_REQ), "KEY_REQ");
    CU_ASSERT_STRING_EQUAL(wire_func_name(ENCRYPTED), "ENCRYPTED");
    CU_ASSERT_STRING_EQUAL(wire_func_name(CC_ACK), "CC_ACK");
    for (int f = ANNOUNCE; f <= CC_ACK; f++)
        CU_ASSERT_STRING_NOT_EQUAL(wire_func_name(f), "UNKNOWN");
    CU_ASSERT_STRING_EQUAL(wire_func_name(0), "UNKNOWN");
    CU_ASSERT_STRING_EQUAL(wire_func_name(22), "UNKNOWN");
    CU_ASSERT_STRING_EQUAL(wire_func_name(-1), "UNKNOWN");
    CU_ASSERT_STRING_EQUAL(wire_func_name(255), "UNKNOWN");
}

static const struct cu_test wire_tests[] = {
    {"error strings", test_strerror},
    {"message names", test_func_names},
    {NULL, NULL},
};

CU_MAIN({"wire/wire", wire_tests})
