/*
 * uftp's progress line (shell.c draws it on the terminal, or logs it every
 * 2 s without one): one line from the engine's stats and the shell's own
 * counts, kept apart from the event loop so that tests can read it.
 */
#ifndef UFTP_SENDER_PROGRESS_H
#define UFTP_SENDER_PROGRESS_H

#include <stddef.h>
#include <stdint.h>

#include "sender/engine/engine.h"

struct progress_in {
    const struct sender_stats *st;
    const char *name;      /* the current item's name */
    size_t nitems;         /* items in the session */
    uint64_t sent;         /* payload bytes sent for the current file, all passes */
    uint64_t bytes_before; /* bytes of the regular files before the current one */
    uint64_t total_bytes;  /* bytes of every regular file */
    double rate_Bps;       /* smoothed data rate */
    uint32_t done, failed; /* receivers finished with / lost for the current file */
};

/* "1.5 MB", "820 KB", "12 B": decimal units, as the line and the summary show sizes. */
void progress_bytes(char *buf, size_t len, double bytes);

/* Writes the line (no newline) into buf; returns its length, as snprintf. */
int progress_line(char *buf, size_t len, const struct progress_in *in);

#endif
