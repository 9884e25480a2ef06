/* Replay window (core/proto/replay.c). */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/proto/replay.h"
#include "cu.h"

static void test_in_order(void)
{
    struct replay r;
    replay_init(&r);
    CU_ASSERT_EQUAL(replay_check(&r, 0), REPLAY_EDUP); /* v5 counters start at 1 */
    for (uint64_t c = 1; c <= 10000; c++) {
        CU_ASSERT_EQUAL(replay_check(&r, c), REPLAY_OK);
        CU_ASSERT_EQUAL(replay_update(&r, c), REPLAY_OK);
        CU_ASSERT_EQUAL(replay_check(&r, c), REPLAY_EDUP);
    }
    CU_ASSERT_EQUAL(r.top, 10000);
    CU_ASSERT_EQUAL(replay_update(&r, 9999), REPLAY_EDUP);
    CU_ASSERT_EQUAL(replay_update(&r, 10000 - REPLAY_WINDOW), REPLAY_EOLD);
}

static void test_reorder_and_dup(void)
{
    struct replay r;
    replay_init(&r);
    CU_ASSERT_EQUAL(replay_update(&r, 100), REPLAY_OK);
    CU_ASSERT_EQUAL(replay_update(&r, 50), REPLAY_OK); /* late but in the window */
    CU_ASSERT_EQUAL(replay_update(&r, 50), REPLAY_EDUP);
    CU_ASSERT_EQUAL(replay_update(&r, 99), REPLAY_OK);
    CU_ASSERT_EQUAL(replay_update(&r, 101), REPLAY_OK);
    CU_ASSERT_EQUAL(replay_update(&r, 100), REPLAY_EDUP);
    CU_ASSERT_EQUAL(replay_check(&r, 98), REPLAY_OK);
    /* check never changes the window */
    CU_ASSERT_EQUAL(replay_check(&r, 98), REPLAY_OK);
    CU_ASSERT_EQUAL(r.top, 101);
}

/* The edge: top - ctr == WINDOW - 1 is judged; == WINDOW is too old. */
static void test_window_edge(void)
{
    struct replay r;
    replay_init(&r);
    uint64_t top = 5000;
    CU_ASSERT_EQUAL(replay_update(&r, top), REPLAY_OK);
    CU_ASSERT_EQUAL(replay_check(&r, top - (REPLAY_WINDOW - 1)), REPLAY_OK);
    CU_ASSERT_EQUAL(replay_update(&r, top - (REPLAY_WINDOW - 1)), REPLAY_OK);
    CU_ASSERT_EQUAL(replay_check(&r, top - (REPLAY_WINDOW - 1)), REPLAY_EDUP);
    CU_ASSERT_EQUAL(replay_check(&r, top - REPLAY_WINDOW), REPLAY_EOLD);
    /* Moving by one pushes that counter out. */
    CU_ASSERT_EQUAL(replay_update(&r, top + 1), REPLAY_OK);
    CU_ASSERT_EQUAL(replay_check(&r, top - (REPLAY_WINDOW - 1)), REPLAY_EOLD);
}

static void test_jumps(void)
{
    struct replay r;
    replay_init(&r);
    for (uint64_t c = 1; c < 3000; c += 2)
        replay_update(&r, c);
    /* A jump far beyond the map clears it: nothing stale is reported as seen. */
    uint64_t j = UINT64_C(1) << 40;
    CU_ASSERT_EQUAL(replay_update(&r, j), REPLAY_OK);
    for (uint64_t c = j - REPLAY_WINDOW + 1; c < j; c++)
        CU_ASSERT_EQUAL(replay_check(&r, c), REPLAY_OK);
    CU_ASSERT_EQUAL(replay_check(&r, 2999), REPLAY_EOLD);
    /* Jumps of exactly one map, and just under it. */
    CU_ASSERT_EQUAL(replay_update(&r, j + REPLAY_BITS), REPLAY_OK);
    CU_ASSERT_EQUAL(replay_check(&r, j + 64), REPLAY_EOLD);
    CU_ASSERT_EQUAL(replay_check(&r, j + 65), REPLAY_OK);
    CU_ASSERT_EQUAL(replay_update(&r, j + 2 * REPLAY_BITS - 65), REPLAY_OK);
    CU_ASSERT_EQUAL(replay_check(&r, j + REPLAY_BITS), REPLAY_EDUP);
    /* The top of the 64-bit range, without wrapping. */
    uint64_t m = UINT64_MAX;
    CU_ASSERT_EQUAL(replay_update(&r, m - 1), REPLAY_OK);
    CU_ASSERT_EQUAL(replay_update(&r, m), REPLAY_OK);
    CU_ASSERT_EQUAL(replay_update(&r, m), REPLAY_EDUP);
    CU_ASSERT_EQUAL(replay_update(&r, m - 1), REPLAY_EDUP);
    CU_ASSERT_EQUAL(replay_update(&r, m - 2), REPLAY_OK);
    CU_ASSERT_EQUAL(replay_check(&r, 1), REPLAY_EOLD);
    CU_ASSERT_EQUAL(replay_check(&r, 0), REPLAY_EOLD);
}

/*
 * Against a naive model (a set of accepted counters): accept ctr if it is
 * above the top, or within the window and neither 0 nor accepted before.
 */
#define SET_BITS 20
static uint64_t set_tab[1u << SET_BITS];

static bool set_has(uint64_t v)
{
    for (uint64_t i = (v * 0x9e3779b97f4a7c15u) >> (64 - SET_BITS);;
         i = (i + 1) & ((1u << SET_BITS) - 1)) {
        if (set_tab[i] == v)
            return true;
        if (set_tab[i] == 0)
            return false;
    }
}

static void set_add(uint64_t v)
{
    for (uint64_t i = (v * 0x9e3779b97f4a7c15u) >> (64 - SET_BITS);;
         i = (i + 1) & ((1u << SET_BITS) - 1)) {
        if (set_tab[i] == 0 || set_tab[i] == v) {
            set_tab[i] = v;
            return;
        }
    }
}

static void test_against_model(void)
{
    struct replay r;
    replay_init(&r);
    memset(set_tab, 0, sizeof(set_tab));
    uint64_t top = 0, seed = 12345;
    unsigned accepted = 0;
    for (int i = 0; i < 300000; i++) {
        /* xorshift: deterministic, so a failure is reproducible */
        seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
        uint64_t c;
        switch (seed % 8) {
        case 0:
            c = top + 1 + (seed >> 8) % 5000; /* forward, sometimes past the map */
            break;
        case 1:
            c = top > 3000 ? top - (seed >> 8) % 3000
                           : 1 + (seed >> 8) % 3000; /* around the edge */
            break;
        default:
            c = top > 500 ? top - (seed >> 8) % 500 : 1 + (seed >> 8) % 500; /* reordering */
            break;
        }
        if (accepted > 150000)
            break;
        int want;
        if (c > top)
            want = REPLAY_OK;
        else if (top - c >= REPLAY_WINDOW)
            want = REPLAY_EOLD;
        else if (c == 0 || set_has(c))
            want = REPLAY_EDUP;
        else
            want = REPLAY_OK;
        int got = replay_update(&r, c);
        if (got != want) {
            fprintf(stderr, "\n  step %d ctr %llu top %llu: got %d want %d\n", i,
                    (unsigned long long)c, (unsigned long long)top, got, want);
            CU_FAIL("replay window disagrees with the model");
            return;
        }
        if (want == REPLAY_OK) {
            set_add(c);
            accepted++;
            if (c > top)
                top = c;
        }
    }
    CU_ASSERT_EQUAL(r.top, top);
    CU_ASSERT_TRUE(accepted > 1000);
}

static const struct cu_test replay_tests[] = {
    {"in order", test_in_order},
    {"reordering and duplicates", test_reorder_and_dup},
    {"window edge", test_window_edge},
    {"huge jumps and the 64-bit top", test_jumps},
    {"agrees with a naive model", test_against_model},
    {NULL, NULL},
};

CU_MAIN({"proto/replay", replay_tests})
