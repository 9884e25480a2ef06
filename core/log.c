#include "core/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

static struct {
    const char *prog;
    int level;
    enum log_sink sink;
    bool timestamps;
    int fd;
    char path[4096];
    long long roll_bytes;
    int keep;
    void (*stderr_hook)(void);
} lg = {"uftp", LL_INFO, LOG_SINK_STDERR, false, -1, "", 0, 5, NULL};

void log_set_stderr_hook(void (*fn)(void))
{
    lg.stderr_hook = fn;
}

void log_init(const char *progname, int level)
{
    lg.prog = progname;
    lg.level = level;
}

void log_set_level(int level)
{
    lg.level = level;
}

void log_set_timestamps(bool on)
{
    lg.timestamps = on;
}

bool log_enabled(int level)
{
    return level <= lg.level;
}

/*
 * -L: a regular file only (issue 14 item 11). O_NONBLOCK so that a FIFO
 * (or a device) in its place cannot hang start-up in open(2); anything but
 * a regular file is then refused, and the flag is cleared. Returns the fd,
 * or -1 with errno set (EINVAL: not a regular file).
 */
static int open_logfile(const char *path)
{
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0640);
    if (fd < 0) {
        if (errno == ENXIO)
            errno = EINVAL; /* a FIFO without a reader (or a device): not a regular file */
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        errno = EINVAL;
        return -1;
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0)
        (void)fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    return fd;
}

const char *log_file_strerror(int err)
{
    return err == -EINVAL ? "not a regular file" : strerror(-err);
}

int log_open_file(const char *path, long long roll_bytes, int keep)
{
    if (strlen(path) >= sizeof(lg.path) - 16)
        return -ENAMETOOLONG;
    int fd = open_logfile(path);
    if (fd < 0)
        return -errno;
    if (lg.fd >= 0)
        close(lg.fd);
    lg.fd = fd;
    snprintf(lg.path, sizeof(lg.path), "%s", path);
    lg.roll_bytes = roll_bytes;
    lg.keep = keep > 0 ? keep : 1;
    lg.sink = LOG_SINK_FILE;
    lg.timestamps = true;
    return 0;
}

void log_use_syslog(void)
{
    openlog(lg.prog, LOG_PID | LOG_NDELAY, LOG_DAEMON);
    lg.sink = LOG_SINK_SYSLOG;
}

/* "<N>" syslog priorities in front of stderr lines, for journald. */
static bool lg_level_prefix;

int log_reopen(void)
{
    if (lg.sink != LOG_SINK_FILE || lg.fd < 0)
        return 0;
    int fd = open_logfile(lg.path);
    if (fd < 0)
        return -errno;
    close(lg.fd);
    lg.fd = fd;
    return 0;
}

void log_set_level_prefix(bool on)
{
    lg_level_prefix = on;
}

enum log_sink log_get_sink(void)
{
    return lg.sink;
}

void log_close(void)
{
    if (lg.fd >= 0)
        close(lg.fd);
    lg.fd = -1;
    if (lg.sink == LOG_SINK_SYSLOG)
        closelog();
    lg.sink = LOG_SINK_STDERR;
}

/* Rolls name -> name.1 -> ... -> name.keep when the file is too big. */
static void maybe_roll(void)
{
    struct stat st;
    if (lg.roll_bytes <= 0 || fstat(lg.fd, &st) < 0 || st.st_size < lg.roll_bytes)
        return;
    char from[sizeof(lg.path) + 16], to[sizeof(lg.path) + 16];
    for (int i = lg.keep; i >= 1; i--) {
        snprintf(to, sizeof(to), "%s.%d", lg.path, i);
        if (i == 1)
            snprintf(from, sizeof(from), "%s", lg.path);
        else
            snprintf(from, sizeof(from), "%s.%d", lg.path, i - 1);
        (void)rename(from, to);
    }
    int fd = open_logfile(lg.path);
    if (fd >= 0) {
        close(lg.fd);
        lg.fd = fd;
    }
}

static int syslog_prio(int level)
{
    switch (level) {
    case LL_ERR:
        return LOG_ERR;
    case LL_WARN:
        return LOG_WARNING;
    case LL_INFO:
        return LOG_NOTICE;
    case LL_VERBOSE:
        return LOG_INFO;
    default:
        return LOG_DEBUG;
    }
}

static void emit(int level, const char *msg)
{
    if (lg.sink == LOG_SINK_SYSLOG) {
        syslog(syslog_prio(level), "%s", msg);
        return;
    }
    char line[2048];
    size_t n = 0;
    if (lg_level_prefix && lg.sink == LOG_SINK_STDERR)
        n = (size_t)snprintf(line, sizeof(line), "<%d>", syslog_prio(level));
    if (lg.timestamps) {
        struct timeval tv;
        struct tm tm;
        gettimeofday(&tv, NULL);
        localtime_r(&tv.tv_sec, &tm);
        n += strftime(line + n, sizeof(line) - n, "%Y/%m/%d %H:%M:%S", &tm);
        n += (size_t)snprintf(line + n, sizeof(line) - n, ".%03ld ", (long)tv.tv_usec / 1000);
    }
    int w = snprintf(line + n, sizeof(line) - n, "%s: %s\n", lg.prog, msg);
    if (w < 0)
        return;
    n += (size_t)w;
    if (n >= sizeof(line)) {
        n = sizeof(line) - 1;
        line[n - 1] = '\n';
    }
    int fd = lg.sink == LOG_SINK_FILE && lg.fd >= 0 ? lg.fd : STDERR_FILENO;
    if (fd == STDERR_FILENO && lg.stderr_hook != NULL)
        lg.stderr_hook();
    /* A failed log write must never loop or kill the daemon (spec §5, 4.5). */
    (void)!write(fd, line, n);
    if (fd == lg.fd)
        maybe_roll();
}

void log_raw(const char *line)
{
    if (lg.sink == LOG_SINK_SYSLOG) {
        syslog(LOG_NOTICE, "%s", line);
        return;
    }
    size_t len = strlen(line);
    bool nl = len > 0 && line[len - 1] == '\n';
    struct iovec iov[2] = {{(void *)line, len}, {(void *)"\n", 1}};
    int fd = lg.sink == LOG_SINK_FILE && lg.fd >= 0 ? lg.fd : STDERR_FILENO;
    (void)!writev(fd, iov, nl ? 1 : 2);
    if (fd == lg.fd)
        maybe_roll();
}

__attribute__((format(printf, 2, 0))) static void log_vmsg(int level, const char *fmt, va_list ap)
{
    if (!log_enabled(level))
        return;
    char msg[1536];
    int saved = errno;
    vsnprintf(msg, sizeof(msg), fmt, ap);
    emit(level, msg);
    errno = saved;
}

__attribute__((format(printf, 3, 0))) static void elog_vlog(void *ctx, int level, const char *fmt,
                                                            va_list ap)
{
    (void)ctx;
    log_vmsg(level, fmt, ap);
}

static bool elog_on(void *ctx, int level)
{
    (void)ctx;
    return log_enabled(level);
}

const struct elog *log_elog(void)
{
    static const struct elog sink = {NULL, elog_vlog, elog_on};
    return &sink;
}

void log_msg(int level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_vmsg(level, fmt, ap);
    va_end(ap);
}

/* Appends ": strerror(errno)" like warn(3). */
__attribute__((format(printf, 2, 0))) static void vlog_errno(int level, const char *fmt, va_list ap)
{
    if (!log_enabled(level))
        return;
    int e = errno;
    char msg[1536];
    int n = vsnprintf(msg, sizeof(msg), fmt, ap);
    if (n >= 0 && (size_t)n < sizeof(msg))
        snprintf(msg + n, sizeof(msg) - (size_t)n, ": %s", strerror(e));
    emit(level, msg);
    errno = e;
}

#define LOG_FN(name, level)                                                                        \
    void name(const char *fmt, ...)                                                                \
    {                                                                                              \
        va_list ap;                                                                                \
        va_start(ap, fmt);                                                                         \
        log_vmsg(level, fmt, ap);                                                                  \
        va_end(ap);                                                                                \
    }

LOG_FN(log_errx, LL_ERR)
LOG_FN(log_warnx, LL_WARN)
LOG_FN(log_info, LL_INFO)
LOG_FN(log_verbose, LL_VERBOSE)
LOG_FN(log_proto, LL_PROTO)
LOG_FN(log_debug, LL_DEBUG)

void log_warn(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog_errno(LL_WARN, fmt, ap);
    va_end(ap);
}

void fatal(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog_errno(LL_ERR, fmt, ap);
    va_end(ap);
    exit(code);
}

void fatalx(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_vmsg(LL_ERR, fmt, ap);
    va_end(ap);
    exit(code);
}
