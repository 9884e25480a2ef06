/* The public-key work budget shared fairly (core/proto/keywork.c, issue 14). */
#include <stdint.h>

#include "core/proto/keywork.h"
#include "cu.h"

static unsigned take_n(struct keywork *k, uint64_t src, unsigned rank, uint64_t cost, uint64_t t,
                       unsigned tries)
{
    unsigned ok = 0;
    for (unsigned i = 0; i < tries; i++)
        ok += keywork_take(k, src, rank, cost, t);
    return ok;
}

static void test_share_and_reserve(void)
{
    static struct keywork k;
    keywork_init(&k, 100000); /* 100 ms of work per second */
    /* One unlisted source: a quarter of the budget (25 ms: 125 checks of 200 us). */
    CU_ASSERT_EQUAL(take_n(&k, 1, 0, 200, 1000000, 1000), 125);
    /* Many spoofed sources: together no more than half (the rest is kept). */
    unsigned many = 0;
    for (uint64_t s = 2; s < 2000; s++)
        many += take_n(&k, s, 0, 200, 1000000, 1);
    CU_ASSERT_EQUAL(125 + many, 250);
    /* A listed server at its address still finds the reserve. */
    CU_ASSERT_EQUAL(take_n(&k, 5000, KEYWORK_RANK_FIRST, 200, 1000000, 1000), 250);
    CU_ASSERT(k.refused > 0);
    /* A second later there is budget again. */
    CU_ASSERT(keywork_take(&k, 5000, KEYWORK_RANK_FIRST, 200, 2000000));
    CU_ASSERT(keywork_take(&k, 1, 0, 200, 2000000));
}

static void test_listed_first_under_flood(void)
{
    static struct keywork k;
    keywork_init(&k, 100000);
    /* 20,000 junk checks a second from distinct sources, and one listed server a second. */
    unsigned listed = 0, junk = 0;
    uint64_t src = 10;
    for (uint64_t t = 0; t < 10000000; t += 50) {
        junk += keywork_take(&k, src++, 0, 200, t);
        if (t % 1000000 == 0)
            listed += keywork_take(&k, 1, KEYWORK_RANK_FIRST, 200, t);
    }
    CU_ASSERT_EQUAL(listed, 10);
    /* Junk gets what the listed server leaves, never more than the rate: 10 s x 100 ms /
     * 200 us, plus the first burst down to the reserve. */
    CU_ASSERT(junk <= 5000 + 250 && junk >= 4000);
}

static void test_unlimited(void)
{
    static struct keywork k;
    keywork_init(&k, 0);
    CU_ASSERT_EQUAL(take_n(&k, 1, 0, 1000000, 0, 1000), 1000);
}

static const struct cu_test keywork_tests[] = {
    {"per-source share and reserve", test_share_and_reserve},
    {"listed servers first under a flood", test_listed_first_under_flood},
    {"rate 0 is unlimited", test_unlimited},
    {NULL, NULL}};

CU_MAIN({"proto/keywork", keywork_tests})
