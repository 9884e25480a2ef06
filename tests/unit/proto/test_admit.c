/* Session-slot admission (core/proto/admit.c, issue 14). */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "core/proto/admit.h"
#include "cu.h"

#define N 100
static struct admit_slot sl[N];

static void fill(uint8_t state, uint8_t rank, uint64_t src0, bool distinct, uint64_t heard)
{
    for (int i = 0; i < N; i++)
        sl[i] = (struct admit_slot){.state = state,
                                    .rank = rank,
                                    .src = distinct ? src0 + (uint64_t)i : src0,
                                    .heard_us = heard + (uint64_t)i};
}

static void test_free_first(void)
{
    memset(sl, 0, sizeof(sl));
    int ev;
    CU_ASSERT_EQUAL(admit_pick(sl, N, 0, 1, 0, ADMIT_STALE_MIN_US, &ev), 0);
    CU_ASSERT_EQUAL(ev, 0);
    fill(ADMIT_UNCONFIRMED, 0, 1000, true, 0);
    sl[57].state = ADMIT_FREE;
    CU_ASSERT_EQUAL(admit_pick(sl, N, 0, 1, 0, ADMIT_STALE_MIN_US, &ev), 57);
    CU_ASSERT_EQUAL(ev, 0);
}

static void test_rank(void)
{
    int ev;
    /* 100 forged unconfirmed sessions claiming a listed server from elsewhere (rank 1). */
    fill(ADMIT_UNCONFIRMED, 1, 1000, true, 5000000);
    /* The listed server from its -S address takes one at once, even fresh ones. */
    int i = admit_pick(sl, N, 2, 7, 5000001, ADMIT_STALE_MAX_US, &ev);
    CU_ASSERT(i >= 0 && ev == 1);
    CU_ASSERT_EQUAL(i, 0); /* the one heard from longest ago */
    /* Confirmed cleartext sessions give way to a higher rank only. */
    fill(ADMIT_CONFIRMED, 1, 1000, true, 0);
    CU_ASSERT_EQUAL(admit_pick(sl, N, 1, 7, 100000000, ADMIT_STALE_MIN_US, &ev), -1);
    CU_ASSERT(admit_pick(sl, N, 2, 7, 0, ADMIT_STALE_MIN_US, &ev) >= 0);
    /* Authenticated sessions never. */
    fill(ADMIT_AUTHENTICATED, 0, 1000, true, 0);
    CU_ASSERT_EQUAL(admit_pick(sl, N, 2, 7, 100000000, ADMIT_STALE_MIN_US, &ev), -1);
    CU_ASSERT_EQUAL(ev, 0);
    /* A lower rank never evicts a higher one, however stale. */
    fill(ADMIT_UNCONFIRMED, 2, 1000, true, 0);
    CU_ASSERT_EQUAL(admit_pick(sl, N, 1, 7, 100000000, ADMIT_STALE_MIN_US, &ev), -1);
}

static void test_fairness(void)
{
    int ev;
    /* One source holds every slot, all fresh: another source still gets one. */
    fill(ADMIT_UNCONFIRMED, 0, 99, false, 1000000);
    int i = admit_pick(sl, N, 0, 7, 1000100, ADMIT_STALE_MAX_US, &ev);
    CU_ASSERT(i == 0 && ev == 1); /* its stalest */
    /* The hog itself does not: it would only displace its own. */
    CU_ASSERT_EQUAL(admit_pick(sl, N, 0, 99, 1000100, ADMIT_STALE_MAX_US, &ev), -1);
    /* Two sources of 50 each: neither holds 2 more than the other. */
    for (int k = 0; k < N; k++)
        sl[k].src = k < 50 ? 1 : 2;
    CU_ASSERT_EQUAL(admit_pick(sl, N, 0, 1, 1000100, ADMIT_STALE_MAX_US, &ev), -1);
    /* A third source evicts from the larger holder. */
    sl[3].src = 2;
    i = admit_pick(sl, N, 0, 3, 1000100, ADMIT_STALE_MAX_US, &ev);
    CU_ASSERT(i >= 0 && sl[i].src == 2);
}

static void test_staleness(void)
{
    int ev;
    /* 100 distinct spoofed sources, all heard at t = 1 s .. 1 s + 99 us. */
    fill(ADMIT_UNCONFIRMED, 0, 1000, true, 1000000);
    uint64_t stale = admit_stale_us(500000); /* a 0.5 s GRTT: 2 s */
    CU_ASSERT_EQUAL(stale, 2000000u);
    CU_ASSERT_EQUAL(admit_pick(sl, N, 0, 7, 2500000, stale, &ev), -1);
    int i = admit_pick(sl, N, 0, 7, 3000000, stale, &ev);
    CU_ASSERT(i == 0 && ev == 1);
    /* The stale threshold is bounded whatever the GRTT claim. */
    CU_ASSERT_EQUAL(admit_stale_us(0), ADMIT_STALE_MIN_US);
    CU_ASSERT_EQUAL(admit_stale_us(UINT64_MAX), ADMIT_STALE_MAX_US);
}

static const struct cu_test admit_tests[] = {
    {"free slots first", test_free_first},
    {"rank decides first", test_rank},
    {"fair between sources", test_fairness},
    {"stale unconfirmed sessions give way", test_staleness},
    {NULL, NULL}};

CU_MAIN({"proto/admit", admit_tests})
