/* Token bucket (core/proto/ratelim.c). */
#include <stdint.h>

#include "core/proto/ratelim.h"
#include "cu.h"

static void test_burst_then_rate(void)
{
    struct ratelim r;
    ratelim_init(&r, 100, 10); /* 100 units/s, bucket of 10 */
    uint64_t t = 5000000;
    int ok = 0;
    for (int i = 0; i < 50; i++)
        ok += ratelim_take(&r, 1, t);
    CU_ASSERT_EQUAL(ok, 10); /* the full bucket, then nothing */
    CU_ASSERT_EQUAL(ratelim_take_refused(&r), 40);
    CU_ASSERT_EQUAL(ratelim_take_refused(&r), 0);
    /* 10 ms later one unit has come back (100/s). */
    CU_ASSERT_FALSE(ratelim_take(&r, 1, t + 9999));
    CU_ASSERT_TRUE(ratelim_take(&r, 1, t + 10000 + 9999));
    CU_ASSERT_FALSE(ratelim_take(&r, 1, t + 10000 + 9999));
    /* Over one simulated minute at 1000 requests/s exactly 100/s pass. */
    ratelim_init(&r, 100, 10);
    ok = 0;
    for (uint64_t k = 0; k < 60000; k++)
        ok += ratelim_take(&r, 1, t + k * 1000);
    CU_ASSERT(ok >= 6000 && ok <= 6000 + 10);
}

static void test_costs(void)
{
    struct ratelim r;
    ratelim_init(&r, 1000, 1000);
    CU_ASSERT_TRUE(ratelim_take(&r, 600, 0));
    CU_ASSERT_FALSE(ratelim_take(&r, 600, 0)); /* 400 left */
    CU_ASSERT_TRUE(ratelim_take(&r, 400, 0));
    CU_ASSERT_FALSE(ratelim_take(&r, 1, 0));
    /* Refills never exceed the burst, however long the pause. */
    CU_ASSERT_TRUE(ratelim_take(&r, 1000, UINT64_C(1) << 50));
    CU_ASSERT_FALSE(ratelim_take(&r, 1, UINT64_C(1) << 50));
    /* A cost above the burst passes only from a full bucket. */
    ratelim_init(&r, 10, 10);
    CU_ASSERT_TRUE(ratelim_take(&r, 50, 0));
    CU_ASSERT_FALSE(ratelim_take(&r, 50, 500000));
    CU_ASSERT_TRUE(ratelim_take(&r, 50, 1000000));
    /* Time going backwards takes nothing and gives nothing. */
    CU_ASSERT_FALSE(ratelim_take(&r, 1, 10));
}

static void test_unlimited(void)
{
    struct ratelim r;
    ratelim_init(&r, 0, 0);
    for (int i = 0; i < 100000; i++)
        CU_ASSERT_TRUE_FATAL(ratelim_take(&r, 1000000, 0));
    CU_ASSERT_EQUAL(ratelim_take_refused(&r), 0);
}

static const struct cu_test ratelim_tests[] = {{"burst then steady rate", test_burst_then_rate},
                                               {"costs and refill bounds", test_costs},
                                               {"rate 0 is unlimited", test_unlimited},
                                               {NULL, NULL}};

CU_MAIN({"proto/ratelim", ratelim_tests})
