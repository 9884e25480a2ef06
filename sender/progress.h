/*
 * uftp's progress line: on the terminal (erased before each log line), or
 * logged every 2 s of the data phase without one. progress_line() makes it
 * from the engine's stats and the counts kept here; tests read it.
 */
#ifndef UFTP_SENDER_PROGRESS_H
#define UFTP_SENDER_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sender/engine/engine.h"

struct progress {
    bool tty;   /* drawn on the terminal */
    bool shown; /* and there now */
    const struct file_item *items;
    size_t nitems;
    uint64_t total_bytes; /* of the regular files (the ETA) */
    size_t overhead;      /* bytes per datagram besides file data (FILESEG, ENCRYPTED) */
    uint64_t last_us, last_bytes;
    double rate_Bps;      /* smoothed data rate */
    uint32_t file;        /* file index file_start belongs to */
    uint64_t file_start;  /* data bytes of the session when that file's first send went */
    unsigned plain_ticks; /* ticks without a terminal */
};

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

/* The session starts: items, whether the line goes on the terminal, whether data is encrypted. */
void progress_start(struct progress *p, const struct file_item *items, size_t nitems, bool tty,
                    bool encrypted);
/* Each SEND (the loop's send hook): where a file's bytes start, for its percentage. */
void progress_sent(struct progress *p, const struct sender_stats *st, const struct eng_out *out);
/* Every 500 ms: the line drawn (done / failed: receivers finished with the current file). */
void progress_tick(struct progress *p, const struct sender_stats *st, uint32_t done,
                   uint32_t failed, uint64_t now_us);
/* The end: the line erased, log lines no longer erase it. */
void progress_stop(struct progress *p);

#endif
