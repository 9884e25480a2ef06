/*
 * What uftp tells about its receivers (spec §2.1): a log line and a -S
 * status line for each engine event (CONNECT, RESULT, ...), and at the end
 * the STATS lines and the summary: a table on the terminal, log lines
 * otherwise.
 */
#ifndef UFTP_SENDER_SUMMARY_H
#define UFTP_SENDER_SUMMARY_H

#include <stdbool.h>
#include <stddef.h>

#include "sender/engine/engine.h"
#include "sender/results.h"

struct status_sink;

struct summary {
    struct result_table res;
    struct status_sink *status;    /* -S, or NULL */
    const struct file_item *items; /* the session's files (a RESULT's file index) */
    bool table;                    /* the summary as a table on the terminal */
    long long preview_kbps;        /* -Z -R: speeds estimated from the rate; 0 = measured */
};

/* The engine's event callback (sender_env.event, ctx = the struct summary). */
void summary_event(void *ctx, const struct sender_event *ev);

/* The end of the session: -S HSTATS and STATS lines, then the summary. */
void summary_end(struct summary *s);

#endif
