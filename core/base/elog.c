/*
 * Logging through a handed-in sink (elog.h).
 */
#include "core/base/elog.h"

void elog_msg(const struct elog *lg, int level, const char *fmt, ...)
{
    va_list ap;

    if (!elog_enabled(lg, level))
        return;
    va_start(ap, fmt);
    lg->vlog(lg->ctx, level, fmt, ap);
    va_end(ap);
}

void elog_vmsg(const struct elog *lg, int level, const char *fmt, va_list ap)
{
    if (elog_enabled(lg, level))
        lg->vlog(lg->ctx, level, fmt, ap);
}
