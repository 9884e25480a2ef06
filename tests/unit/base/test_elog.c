/*
 * core/base/elog: a handed-in sink; nothing is formatted or evaluated when
 * the level is off.
 */
#include <stdio.h>
#include <string.h>

#include "core/base/elog.h"
#include "cu.h"

struct sink {
    int max; /* enabled levels: <= max */
    int enabled_calls;
    int lines;
    int last_level;
    char last[256];
};

__attribute__((format(printf, 3, 0))) static void sink_vlog(void *ctx, int level, const char *fmt,
                                                            va_list ap)
{
    struct sink *k = ctx;
    k->lines++;
    k->last_level = level;
    vsnprintf(k->last, sizeof(k->last), fmt, ap);
}

static bool sink_on(void *ctx, int level)
{
    struct sink *k = ctx;
    k->enabled_calls++;
    return level <= k->max;
}

static int evaluated;

static int side_effect(void)
{
    return ++evaluated;
}

static void test_levels(void)
{
    struct sink k = {.max = LL_INFO};
    struct elog lg = {&k, sink_vlog, sink_on};

    ELOG(&lg, LL_WARN, "warn %d %s", 7, "x");
    CU_ASSERT_EQUAL(k.lines, 1);
    CU_ASSERT_EQUAL(k.last_level, LL_WARN);
    CU_ASSERT_STRING_EQUAL(k.last, "warn 7 x");
    ELOG(&lg, LL_INFO, "info");
    CU_ASSERT_EQUAL(k.lines, 2);
    /* Off: the arguments are not evaluated, nothing is written. */
    evaluated = 0;
    ELOG(&lg, LL_DEBUG, "debug %d", side_effect());
    ELOG(&lg, LL_PROTO, "proto %d", side_effect());
    CU_ASSERT_EQUAL(evaluated, 0);
    CU_ASSERT_EQUAL(k.lines, 2);
    CU_ASSERT_STRING_EQUAL(k.last, "info");
    /* The direct call checks the level too. */
    elog_msg(&lg, LL_DEBUG, "debug");
    CU_ASSERT_EQUAL(k.lines, 2);
    elog_msg(&lg, LL_ERR, "err %s", "e");
    CU_ASSERT_EQUAL(k.lines, 3);
    CU_ASSERT_STRING_EQUAL(k.last, "err e");
    CU_ASSERT_TRUE(elog_enabled(&lg, LL_ERR));
    CU_ASSERT_FALSE(elog_enabled(&lg, LL_VERBOSE));
}

static void test_null_and_all(void)
{
    /* All zero: nothing logged, nothing evaluated. */
    struct elog none = {0};
    evaluated = 0;
    ELOG(&none, LL_ERR, "x %d", side_effect());
    elog_msg(&none, LL_ERR, "y");
    CU_ASSERT_EQUAL(evaluated, 0);
    CU_ASSERT_FALSE(elog_enabled(&none, LL_ERR));

    /* No enabled callback: every level goes through. */
    struct sink k = {0};
    struct elog all = {&k, sink_vlog, NULL};
    ELOG(&all, LL_DEBUG, "d %d", side_effect());
    CU_ASSERT_EQUAL(evaluated, 1);
    CU_ASSERT_EQUAL(k.lines, 1);
    CU_ASSERT_STRING_EQUAL(k.last, "d 1");
}

/* The level expression and the sink are evaluated once each. */
static void test_single_evaluation(void)
{
    struct sink k = {.max = LL_DEBUG};
    struct elog lg = {&k, sink_vlog, sink_on};
    struct elog *arr[1] = {&lg};
    int i = 0, lvl = LL_WARN;

    ELOG(arr[i++], lvl++, "once");
    CU_ASSERT_EQUAL(i, 1);
    CU_ASSERT_EQUAL(lvl, LL_WARN + 1);
    CU_ASSERT_EQUAL(k.enabled_calls, 2); /* ELOG's test and elog_msg's */
    CU_ASSERT_EQUAL(k.last_level, LL_WARN);
}

static const struct cu_test elog_tests[] = {
    {"levels, no evaluation when off", test_levels},
    {"all-zero sink and a sink without a level test", test_null_and_all},
    {"arguments of the macro evaluated once", test_single_evaluation},
    {NULL, NULL},
};

CU_MAIN({"base/elog", elog_tests})
