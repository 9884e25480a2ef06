#include "core/wire/ids.h"
#include "cu.h"

static const uint8_t be[] = {0x0a, 0x4d, 0x01, 0x0b, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xfe};
static const uint32_t host[] = {0x0a4d010b, 0, 0xfffffffe};

static void test_get_contains(void)
{
    struct wire_ids a = {be, NULL, 3};
    struct wire_ids b = wire_ids_of(host, 3);
    for (size_t i = 0; i < 3; i++)
        CU_ASSERT_EQUAL(wire_ids_get(&a, i), wire_ids_get(&b, i));
    CU_ASSERT_EQUAL(wire_ids_get(&a, 2), 0xfffffffeu);
    /* A zero entry does not end the search (spec §6 item 15). */
    CU_ASSERT_TRUE(wire_ids_contains(&a, 0xfffffffe));
    CU_ASSERT_TRUE(wire_ids_contains(&b, 0xfffffffe));
    CU_ASSERT_TRUE(wire_ids_contains(&a, 0));
    CU_ASSERT_FALSE(wire_ids_contains(&a, 0x0a4d010c));
    struct wire_ids e = {NULL, NULL, 0};
    CU_ASSERT_FALSE(wire_ids_contains(&e, 0));
}

static void test_slices(void)
{
    struct wire_ids a = {be, NULL, 3};
    struct wire_ids s = wire_ids_slice(&a, 1, 5);
    CU_ASSERT_EQUAL(s.n, 2);
    CU_ASSERT_PTR_EQUAL(s.be, be + 4);
    CU_ASSERT_EQUAL(wire_ids_get(&s, 1), 0xfffffffeu);
    struct wire_ids b = wire_ids_of(host, 3);
    s = wire_ids_slice(&b, 2, 1);
    CU_ASSERT_EQUAL(s.n, 1);
    CU_ASSERT_PTR_EQUAL(s.host, host + 2);
    s = wire_ids_slice(&b, 3, 1);
    CU_ASSERT_EQUAL(s.n, 0);
    s = wire_ids_slice(&b, SIZE_MAX, SIZE_MAX);
    CU_ASSERT_EQUAL(s.n, 0);
    /* spec §4: 325 IDs at the default block size. */
    CU_ASSERT_EQUAL(wire_max_ids(1300), 325);
    CU_ASSERT_EQUAL(wire_max_ids(512), 128);
    CU_ASSERT_EQUAL(wire_max_ids(8800), 2200);
}

static const struct cu_test ids_tests[] = {
    {"ID lists: get and contains", test_get_contains},
    {"ID lists: slices and per-packet limits", test_slices},
    {NULL, NULL},
};

CU_MAIN({"wire/ids", ids_tests})
