#include "core/proto/grtt.h"
#include "cu.h"

static void test_samples(void)
{
    /* spec 1.6: RTT samples are floored at 1 ms, also for echoes from the future. */
    CU_ASSERT_EQUAL(grtt_rtt_sample(1000000, 1000000 - 250), 1000);
    CU_ASSERT_EQUAL(grtt_rtt_sample(1000000, 1000000 - 1000), 1000);
    CU_ASSERT_EQUAL(grtt_rtt_sample(1000000, 1000000 - 1001), 1001);
    CU_ASSERT_EQUAL(grtt_rtt_sample(1000000, 1000000 - 81450), 81450);
    CU_ASSERT_EQUAL(grtt_rtt_sample(1000000, 2000000), 1000);
    CU_ASSERT_EQUAL(grtt_rtt_sample(0, 0), 1000);
}

static void test_update_bounds(void)
{
    struct grtt g;
    grtt_init(&g, 500000, 10000, 15000000);
    CU_ASSERT_EQUAL(g.cur_us, 500000);
    CU_ASSERT_FALSE(g.measured);
    /* First measurement: no 0.9 floor yet, clamped at the minimum. */
    CU_ASSERT_EQUAL(grtt_update(&g, 1500, true), 10000);
    CU_ASSERT_TRUE(g.measured);
    /* Up is immediate, up to the maximum. */
    CU_ASSERT_EQUAL(grtt_update(&g, 80000, true), 80000);
    CU_ASSERT_EQUAL(grtt_update(&g, 99000000, true), 15000000);
}

static void test_decay_floor(void)
{
    struct grtt g;
    grtt_init(&g, 500000, 10000, 15000000);
    grtt_update(&g, 200000, true);
    /* Down by at most 10% per cycle once measured (RFC 5401). */
    CU_ASSERT_EQUAL(grtt_update(&g, 1000, true), 180000);
    CU_ASSERT_EQUAL(grtt_update(&g, 1000, true), 162000);
    CU_ASSERT_EQUAL(grtt_update(&g, 150000, true), 150000);
    /* Without the floor (first cycle of the announce phase) it drops at once. */
    CU_ASSERT_EQUAL(grtt_update(&g, 1000, false), 10000);
    /* The floor never takes it below the minimum. */
    grtt_init(&g, 10500, 10000, 15000000);
    grtt_update(&g, 10500, true);
    CU_ASSERT_EQUAL(grtt_update(&g, 1, true), 10000);
}

static void test_adv_echo_times(void)
{
    struct grtt g;
    grtt_init(&g, 10000, 10000, 15000000);
    /* spec 1.6: never below the inter-packet interval (slow links). */
    CU_ASSERT_EQUAL(grtt_adv(&g, 0), 10000);
    CU_ASSERT_EQUAL(grtt_adv(&g, 105625), 105625);
    /* spec 1.3: echo = server time + time held. */
    CU_ASSERT_EQUAL(grtt_echo(1700000000000000ull, 5000, 5150), 1700000000000150ull);
    CU_ASSERT_EQUAL(grtt_echo(1700000000000000ull, 5000, 4000), 1700000000000000ull);
    /* "all expiries >= 1 s" */
    CU_ASSERT_EQUAL(grtt_times(10000, 20, 1000000), 1000000);
    CU_ASSERT_EQUAL(grtt_times(100000, 20, 1000000), 2000000);
}

static const struct cu_test grtt_tests[] = {
    {"RTT samples and the 1 ms floor", test_samples},
    {"update clamps to -r bounds", test_update_bounds},
    {"0.9x decay floor once measured", test_decay_floor},
    {"advertised GRTT, echoes, timer minimums", test_adv_echo_times},
    {NULL, NULL},
};

CU_MAIN({"proto/grtt", grtt_tests})
