/*
 * What the engines' state-machine suites (tests/unit/{sender,receiver,proxy}/
 * test_machines.c) share: an elog sink that keeps each line so a test can ask
 * whether a transition was logged by name, and a constant rng (the suites
 * check states, not keys). Each suite's own copy: the header defines statics.
 */
#ifndef TESTS_UNIT_MACHINES_H
#define TESTS_UNIT_MACHINES_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static char g_log[256][200];
static int g_nlog; /* lines kept since the test set it to 0 */

__attribute__((format(printf, 3, 0), unused)) static void keep(void *ctx, int level,
                                                               const char *fmt, va_list ap)
{
    (void)ctx, (void)level;
    if (g_nlog < (int)(sizeof(g_log) / sizeof(g_log[0])))
        vsnprintf(g_log[g_nlog++], sizeof(g_log[0]), fmt, ap);
}

/* Whether LINE was logged, exactly, since g_nlog was last set to 0. */
__attribute__((unused)) static bool logged(const char *line)
{
    for (int i = 0; i < g_nlog; i++)
        if (strcmp(g_log[i], line) == 0)
            return true;
    return false;
}

__attribute__((unused)) static int rng(void *ctx, void *buf, size_t len)
{
    (void)ctx;
    memset(buf, 0x5A, len);
    return 0;
}

#endif
