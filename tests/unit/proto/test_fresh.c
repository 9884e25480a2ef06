/* Signed ANNOUNCEs are not replayable (core/proto/fresh.c, issue 14). */
#include <stdint.h>

#include "core/proto/fresh.h"
#include "cu.h"

#define S 1000000u

static void test_window(void)
{
    static struct fresh f;
    fresh_init(&f, 600 * (uint64_t)S);
    uint64_t now = 1700000000 * (uint64_t)S;
    CU_ASSERT_EQUAL(fresh_check(&f, 1, 2, 0, now, now), FRESH_OK);
    /* Clocks 9 minutes apart either way: fine. */
    CU_ASSERT_EQUAL(fresh_check(&f, 1, 2, 0, now - 540 * (uint64_t)S, now), FRESH_OK);
    CU_ASSERT_EQUAL(fresh_check(&f, 1, 2, 0, now + 540 * (uint64_t)S, now), FRESH_OK);
    /* A capture replayed an hour later: stale. */
    CU_ASSERT_EQUAL(fresh_check(&f, 1, 2, 0, now - 3600 * (uint64_t)S, now), FRESH_ESTALE);
    CU_ASSERT_EQUAL(fresh_check(&f, 1, 2, 0, 0, now), FRESH_ESTALE);
    /* Off. */
    fresh_init(&f, 0);
    CU_ASSERT_EQUAL(fresh_check(&f, 1, 2, 0, 0, now), FRESH_OK);
    fresh_note(&f, 1, 2, 0, now, now);
    CU_ASSERT_EQUAL(fresh_check(&f, 1, 2, 0, now, now), FRESH_OK);
}

static void test_memory(void)
{
    static struct fresh f;
    fresh_init(&f, 600 * (uint64_t)S);
    uint64_t now = 1700000000 * (uint64_t)S;
    fresh_note(&f, 1, 2, 0, now, now);
    /* The same session again, within the window: a replay. */
    CU_ASSERT_EQUAL(fresh_check(&f, 1, 2, 0, now + S, now + 60 * (uint64_t)S), FRESH_EREPLAY);
    /* The next instance (a restart), another group or another server: fine. */
    CU_ASSERT_EQUAL(fresh_check(&f, 1, 2, 1, now, now + S), FRESH_OK);
    CU_ASSERT_EQUAL(fresh_check(&f, 1, 3, 0, now, now + S), FRESH_OK);
    CU_ASSERT_EQUAL(fresh_check(&f, 9, 2, 0, now, now + S), FRESH_OK);
    /* Once the window has passed, the timestamp refuses it anyway. */
    uint64_t later = now + 601 * (uint64_t)S;
    CU_ASSERT_EQUAL(fresh_check(&f, 1, 2, 0, now, later), FRESH_ESTALE);
    /* A full memory keeps the newest entries. */
    for (uint32_t g = 0; g < FRESH_MEMORY + 10; g++)
        fresh_note(&f, 5, 100 + g, 0, now + g, now + g);
    CU_ASSERT_EQUAL(fresh_check(&f, 5, 100 + FRESH_MEMORY + 9, 0, now, now + 300), FRESH_EREPLAY);
    CU_ASSERT_EQUAL(fresh_check(&f, 5, 100, 0, now, now + 300), FRESH_OK);
}

static const struct cu_test fresh_tests[] = {
    {"timestamp window", test_window}, {"sessions remembered", test_memory}, {NULL, NULL}};

CU_MAIN({"proto/fresh", fresh_tests})
