/*
 * Logging in the OpenBSD daemon style: log_warn() appends strerror(errno),
 * log_warnx() does not; fatal()/fatalx() log and exit. Levels follow the
 * reference's -x scale (spec §2): 0 errors .. 5 debug, default 2
 * (enum log_level, core/base/elog.h). This is the programs' logger; the
 * engines log through the struct elog of their environment, which the
 * programs fill with log_elog().
 *
 * Bad input from the network is logged at LL_PROTO and dropped; it never
 * reaches fatal() (DESIGN.md "Security by construction").
 */
#ifndef UFTP_LOG_H
#define UFTP_LOG_H

#include <stdarg.h>
#include <stdbool.h>

#include "core/base/elog.h"

enum log_sink {
    LOG_SINK_STDERR,
    LOG_SINK_FILE,
    LOG_SINK_SYSLOG,
};

/* Sets the program name and level; logs to stderr until told otherwise. */
void log_init(const char *progname, int level);
void log_set_level(int level);
/* Prefix every stderr/file line with a timestamp. */
void log_set_timestamps(bool on);
/*
 * Reopens the log file at its path (SIGHUP after an external rotation).
 * Returns 0 (also when not logging to a file) or -errno; on failure the old
 * file stays in use.
 */
int log_reopen(void);
/*
 * Prefixes stderr lines with the syslog priority ("<3>", ...) so that
 * journald files each line at its level (sd-daemon(3)).
 */
void log_set_level_prefix(bool on);
enum log_sink log_get_sink(void);
/*
 * Writes one line as it is (no prefix, no timestamp; a newline is added),
 * to wherever the log goes: for status lines mixed into the log (@LOG,
 * spec §2.1, §2.2), as the reference does.
 */
void log_raw(const char *line);
/*
 * Sends output to a file (opened O_APPEND|O_NOFOLLOW, mode 0640; a regular
 * file only, and never waiting in open(2): a FIFO there is refused, issue
 * 14 item 11). When roll_bytes > 0 the file is rolled to name.1 ..
 * name.keep once it grows past roll_bytes. Returns 0 or -errno (-EINVAL:
 * not a regular file).
 */
int log_open_file(const char *path, long long roll_bytes, int keep);
/* log_open_file's error as text ("not a regular file" for -EINVAL). */
const char *log_file_strerror(int err);
void log_use_syslog(void);
void log_close(void);
/*
 * Called before a line is written to stderr, e.g. to erase a progress line
 * that shares the terminal. NULL removes it.
 */
void log_set_stderr_hook(void (*fn)(void));

bool log_enabled(int level);
/* This logger as an engine's sink (core/base/elog.h). */
const struct elog *log_elog(void);
void log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_verbose(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_proto(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_errx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

_Noreturn void fatal(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
_Noreturn void fatalx(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
