/*
 * The engines' log in the fuzz targets: every level is formatted into a
 * scratch buffer and dropped, so that the arguments of every log line
 * (often built from the hostile input) run under the sanitizers without
 * writing anything.
 */
#ifndef UFTP_FUZZ_LOG_H
#define UFTP_FUZZ_LOG_H

#include <stdio.h>

#include "core/base/elog.h"

__attribute__((format(printf, 3, 0))) static void fuzz_vlog(void *ctx, int level, const char *fmt,
                                                            va_list ap)
{
    static char line[2048];
    (void)ctx;
    (void)level;
    vsnprintf(line, sizeof(line), fmt, ap);
}

static const struct elog fuzz_log = {NULL, fuzz_vlog, NULL};

#endif
