#include "core/proto/pace.h"
#include "cu.h"

static void test_unpaced(void)
{
    struct pace p;
    pace_init(&p, 0, 1352, 64, 1000);
    CU_ASSERT_EQUAL(pace_allow(&p, 0, 64), 64);
    pace_sent(&p, 0, 64);
    CU_ASSERT_EQUAL(pace_allow(&p, 0, 10), 10);
    CU_ASSERT_EQUAL(pace_due(&p, 5, 64), 5);
}

static void test_default_rate(void)
{
    /* 1000 Kbps = 128000 B/s; 1352-byte packets: 10.5625 ms apart (spec 1.6). */
    struct pace p;
    pace_init(&p, 128000, 1352, 64, 0);
    CU_ASSERT_EQUAL(p.interval_ns, 10562500);
    CU_ASSERT_EQUAL(p.target, 1);
    CU_ASSERT_EQUAL(pace_allow(&p, 0, 64), 1);
    pace_sent(&p, 0, 1);
    CU_ASSERT_EQUAL(pace_allow(&p, 10000, 64), 0);
    CU_ASSERT_EQUAL(pace_due(&p, 10000, 64), 10563);
    CU_ASSERT_EQUAL(pace_allow(&p, 10563, 64), 1);
    pace_sent(&p, 10563, 1);
    /* Late by a little: the next slot keeps the schedule (no drift). */
    CU_ASSERT_EQUAL(pace_due(&p, 10563, 1), 21125);
}

static void test_batches_and_average(void)
{
    /* 100 MB/s, 1352 B: 13.52 us apart, 73 packets fit 1 ms; capped at 64. */
    struct pace p;
    pace_init(&p, 100000000, 1352, 64, 0);
    CU_ASSERT_EQUAL(p.target, 64);
    uint64_t now = 0, sent = 0;
    for (int i = 0; i < 2000; i++) {
        uint32_t n = pace_allow(&p, now, 64);
        pace_sent(&p, now, n);
        sent += n;
        now = pace_due(&p, now, 64);
    }
    /* The average rate holds: packets * interval ~= elapsed time. */
    double elapsed = (double)now * 1000;
    double expect = (double)sent * (double)p.interval_ns;
    CU_ASSERT(expect <= elapsed + 64.0 * p.interval_ns);
    CU_ASSERT(expect >= elapsed - 64.0 * p.interval_ns);
}

static void test_idle_catch_up_bounded(void)
{
    struct pace p;
    pace_init(&p, 1000000, 1000, 64, 0); /* 1 ms apart, target 1 */
    CU_ASSERT_EQUAL(p.target, 1);
    pace_sent(&p, 0, 1);
    /* After 10 s idle, at most one batch is owed. */
    CU_ASSERT_EQUAL(pace_allow(&p, 10000000, 64), 1);
    pace_sent(&p, 10000000, 1);
    CU_ASSERT_EQUAL(pace_allow(&p, 10000000, 64), 1);
    pace_sent(&p, 10000000, 1);
    CU_ASSERT_EQUAL(pace_allow(&p, 10000000, 64), 0);
}

static const struct cu_test pace_tests[] = {
    {"-R -1 is unpaced", test_unpaced},
    {"default rate: 10.5625 ms per packet", test_default_rate},
    {"batches keep the average rate", test_batches_and_average},
    {"idle spells owe at most a batch", test_idle_catch_up_bounded},
    {NULL, NULL},
};

CU_MAIN({"proto/pace", pace_tests})
