#include "core/proto/idmap.h"
#include "cu.h"

static void test_put_get(void)
{
    struct idmap m;
    idmap_init(&m);
    CU_ASSERT_EQUAL(idmap_get(&m, 5), IDMAP_NONE);
    CU_ASSERT_EQUAL(idmap_put(&m, 0, 1), IDMAP_EINVAL);
    CU_ASSERT_EQUAL(idmap_put(&m, 0x0A4D010B, 7), 0);
    CU_ASSERT_EQUAL(idmap_put(&m, 0x0A4D010B, 8), IDMAP_EEXIST);
    CU_ASSERT_EQUAL(idmap_get(&m, 0x0A4D010B), 7);
    CU_ASSERT_EQUAL(idmap_get(&m, 0), IDMAP_NONE);
    idmap_free(&m);
}

static void test_many(void)
{
    struct idmap m;
    idmap_init(&m);
    /* 100000 consecutive addresses (the usual ID shape) and some spread ones. */
    for (uint32_t i = 0; i < 100000; i++)
        CU_ASSERT_EQUAL_FATAL(idmap_put(&m, 0x0A000001 + i, i), 0);
    for (uint32_t i = 0; i < 1000; i++)
        CU_ASSERT_EQUAL_FATAL(idmap_put(&m, 0xF0000000u ^ (i * 2654435761u), 100000 + i), 0);
    CU_ASSERT_EQUAL(m.n, 101000);
    CU_ASSERT(m.cap >= 2 * m.n);
    for (uint32_t i = 0; i < 100000; i++)
        CU_ASSERT_EQUAL_FATAL(idmap_get(&m, 0x0A000001 + i), i);
    for (uint32_t i = 0; i < 1000; i++)
        CU_ASSERT_EQUAL(idmap_get(&m, 0xF0000000u ^ (i * 2654435761u)), 100000 + i);
    CU_ASSERT_EQUAL(idmap_get(&m, 0x0A000000), IDMAP_NONE);
    CU_ASSERT_EQUAL(idmap_get(&m, 0x0A000001 + 100000), IDMAP_NONE);
    idmap_free(&m);
}

static const struct cu_test idmap_tests[] = {
    {"put, get, refusals", test_put_get},
    {"100000 destinations", test_many},
    {NULL, NULL},
};

CU_MAIN({"proto/idmap", idmap_tests})
