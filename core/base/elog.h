/*
 * Logging as the engines see it — the ground floor (DESIGN.md "The
 * house"): a sink handed in through the engine's environment, not a
 * global. The daemons pass core/log's (log_elog() in core/log.h), the
 * simulator and the fuzz targets their own; an all-zero struct elog logs
 * nothing.
 *
 * Levels follow the reference's -x scale (spec §2): 0 errors .. 5 debug.
 * Bad input from the network is logged at LL_PROTO and dropped.
 *
 * ELOG() costs one test when the level is off: the arguments are not
 * evaluated and nothing is formatted.
 */
#ifndef UFTP_BASE_ELOG_H
#define UFTP_BASE_ELOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

enum log_level {
    LL_ERR = 0,     /* errors */
    LL_WARN = 1,    /* warnings, session-level events */
    LL_INFO = 2,    /* per-file progress (default) */
    LL_VERBOSE = 3, /* per-client detail */
    LL_PROTO = 4,   /* dropped or invalid packets */
    LL_DEBUG = 5,
};

struct elog {
    void *ctx; /* passed to both callbacks */
    /* Writes one line (no newline in fmt). NULL: nothing is logged. */
    void (*vlog)(void *ctx, int level, const char *fmt, va_list ap)
        __attribute__((format(printf, 3, 0)));
    /* Whether level is wanted. NULL: every level goes to vlog. */
    bool (*enabled)(void *ctx, int level);
};

static inline bool elog_enabled(const struct elog *lg, int level)
{
    return lg->vlog != NULL && (lg->enabled == NULL || lg->enabled(lg->ctx, level));
}

/* Formats and writes one line when level is enabled. */
void elog_msg(const struct elog *lg, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The same with a va_list (for an engine's own variadic helpers). */
void elog_vmsg(const struct elog *lg, int level, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

/* The usual call: ELOG(&env->log, LL_WARN, "cannot %s", what). */
#define ELOG(lg, level, ...)                                                                       \
    do {                                                                                           \
        const struct elog *elog_lg_ = (lg);                                                        \
        int elog_lv_ = (level);                                                                    \
        if (elog_enabled(elog_lg_, elog_lv_))                                                      \
            elog_msg(elog_lg_, elog_lv_, __VA_ARGS__);                                             \
    } while (0)

#endif
