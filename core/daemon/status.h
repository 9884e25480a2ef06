/*
 * Machine-readable status files: the sender's -S (spec §2.1) and the
 * receiver's -F (spec §2.2), in the line formats of the 5.0.1 code (its
 * words and units, not the man page's: spec §7.11):
 *
 *   sender    CONNECT;success|failed;<client>
 *             RESULT;<client>;<file>;<size>KB;copy;<speed>KB/s
 *             RESULT;<client>;<file>;<size>KB;overwritten;<speed>KB/s
 *             RESULT;<client>;<file>;<size>KB;skipped|rejected|mute|lost|aborted|Unknown;
 *             FREESPACE;<file>;<bytes>
 *             HSTATS;target;copy;overwrite;skip;totalMB;time;speedKB/s
 *             STATS;<client>;<ncopy>;<nover>;<nskip>;<MB>MB;<secs>;<speed>KB/s
 *   receiver  CONNECT;YYYY/MM/DD-HH:MM:SS;<serverID>;<groupID>;<server_ip>;<server_name>
 *             RESULT;YYYY/MM/DD-HH:MM:SS;<serverID>;<groupID>;<file>;<size>KB;copied|overwritten|skipped|rejected|unknown
 *
 * Numbers as the reference prints them: sizes are whole KB (bytes / 1024)
 * and whole MB (bytes / 1048576), rounded down; speeds are KB/s with two
 * decimals, times seconds with three; IDs are 8 upper-case hex digits; the
 * receiver's timestamp is local time. <client> is the -H name as given, or
 * 0x%08X for a client that joined an open group (status_client_name).
 *
 * One difference, on purpose: text fields are escaped. ';', '\\' and control
 * characters become \xHH, so a file name can neither add a field nor start a
 * forged line (the reference prints names raw).
 *
 * The formatters are pure: they write one line with its '\n' into buf and
 * return its length, or -ENOSPC when cap is too small (buf then holds "").
 * A sink writes each line with a single write(2) on an O_APPEND file, or
 * into the log for "@LOG".
 */
#ifndef UFTP_DAEMON_STATUS_H
#define UFTP_DAEMON_STATUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Enough for any line with 300-byte names escaped (4 bytes per byte). */
#define STATUS_LINE_MAX 4096

/* The spec value of -S / -F that mixes the lines into the log. */
#define STATUS_TO_LOG "@LOG"

/* A sender's RESULT outcome (the client state, then the COMPLETE status, spec §1.2). */
enum status_snd_res {
    STATUS_SND_COPY = 0,    /* COMPLETE NORMAL */
    STATUS_SND_SKIPPED,     /* COMPLETE SKIPPED */
    STATUS_SND_OVERWRITTEN, /* COMPLETE OVERWRITE */
    STATUS_SND_REJECTED,    /* COMPLETE REJECTED */
    STATUS_SND_MUTE,        /* never answered */
    STATUS_SND_LOST,        /* dropped (NAK strikes, timeouts) */
    STATUS_SND_ABORTED,     /* aborted */
    STATUS_SND_UNKNOWN,
};

/* "0x%08X": the name the reference gives a client of an open group. */
void status_client_name(char buf[static 11], uint32_t id);

/* KB/s as the reference computes it: bytes / secs / 1024, 0 when secs <= 0. */
double status_kbps(uint64_t bytes, double secs);

/* Sender (-S), spec §2.1. */
int status_snd_connect(char *buf, size_t cap, bool success, const char *client);
/* kbps is printed for COPY and OVERWRITTEN only. */
int status_snd_result(char *buf, size_t cap, const char *client, const char *file, uint64_t size,
                      enum status_snd_res res, double kbps);
int status_snd_freespace(char *buf, size_t cap, const char *file, int64_t bytes);
int status_snd_hstats(char *buf, size_t cap);
int status_snd_stats(char *buf, size_t cap, const char *client, int ncopy, int nover, int nskip,
                     uint64_t total_bytes, double total_secs, double kbps);

/* Receiver (-F), spec §2.2. t is local time (localtime_r). */
int status_rcv_connect(char *buf, size_t cap, const struct tm *t, uint32_t server_id,
                       uint32_t group_id, const char *server_ip, const char *server_name);
/* comp is the COMPLETE status code (spec §1.2: 0 copied .. 3 rejected; others "unknown"). */
int status_rcv_result(char *buf, size_t cap, const struct tm *t, uint32_t server_id,
                      uint32_t group_id, const char *file, uint64_t size, int comp);

struct status_sink;

/*
 * spec is a path or "@LOG". A file is opened O_WRONLY|O_APPEND|O_CREAT|
 * O_NOFOLLOW, mode 0640 (spec §6.13: the reference's is 0666). Returns 0,
 * -ELOOP for a symlink, -EINVAL for an existing non-regular file or an
 * empty spec, -ENOMEM, or another -errno of open.
 */
int status_sink_open(const char *spec, struct status_sink **out);

/* One line (as formatted above). Returns 0, or -errno / -EIO for a short write. */
int status_sink_write(struct status_sink *s, const char *line, size_t len);

/* A formatted line (n < 0: none, as the formatters fail) to s (NULL: none); a failure is logged. */
void status_sink_put(struct status_sink *s, const char *line, int n);

/* Reopens the file at its path (SIGHUP, after rotation). 0 for "@LOG". Old file kept on error. */
int status_sink_reopen(struct status_sink *s);

void status_sink_close(struct status_sink *s);

#endif
