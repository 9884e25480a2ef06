#include "core/daemon/status.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"

/* A bounded line writer: any overflow makes the whole line fail. */
struct lw {
    char *buf;
    size_t cap, n;
    bool over;
};

__attribute__((format(printf, 2, 3))) static void lw_fmt(struct lw *w, const char *fmt, ...)
{
    if (w->over)
        return;
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(w->buf + w->n, w->cap - w->n, fmt, ap);
    va_end(ap);
    if (k < 0 || (size_t)k >= w->cap - w->n)
        w->over = true;
    else
        w->n += (size_t)k;
}

/* Text fields: ';' '\\' and control bytes become \xHH, so no field or line can be forged. */
static void lw_text(struct lw *w, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p && !w->over; p++) {
        if (*p < 0x20 || *p == 0x7f || *p == ';' || *p == '\\')
            lw_fmt(w, "\\x%02X", *p);
        else
            lw_fmt(w, "%c", *p);
    }
}

static int lw_end(struct lw *w)
{
    lw_fmt(w, "\n");
    if (w->over) {
        if (w->cap)
            w->buf[0] = '\0';
        return -ENOSPC;
    }
    return (int)w->n;
}

static struct lw lw_start(char *buf, size_t cap)
{
    struct lw w = {buf, cap, 0, cap == 0};
    if (cap)
        buf[0] = '\0';
    return w;
}

void status_client_name(char buf[static 11], uint32_t id)
{
    snprintf(buf, 11, "0x%08X", id);
}

double status_kbps(uint64_t bytes, double secs)
{
    return secs > 0 ? (double)bytes / secs / 1024 : 0;
}

int status_snd_connect(char *buf, size_t cap, bool success, const char *client)
{
    struct lw w = lw_start(buf, cap);
    lw_fmt(&w, "CONNECT;%s;", success ? "success" : "failed");
    lw_text(&w, client);
    return lw_end(&w);
}

int status_snd_result(char *buf, size_t cap, const char *client, const char *file, uint64_t size,
                      enum status_snd_res res, double kbps)
{
    struct lw w = lw_start(buf, cap);
    lw_fmt(&w, "RESULT;");
    lw_text(&w, client);
    lw_fmt(&w, ";");
    lw_text(&w, file);
    lw_fmt(&w, ";%" PRIu64 "KB;", size / 1024);
    static const char *const words[] = {[STATUS_SND_COPY] = "copy",
                                        [STATUS_SND_SKIPPED] = "skipped",
                                        [STATUS_SND_OVERWRITTEN] = "overwritten",
                                        [STATUS_SND_REJECTED] = "rejected",
                                        [STATUS_SND_MUTE] = "mute",
                                        [STATUS_SND_LOST] = "lost",
                                        [STATUS_SND_ABORTED] = "aborted"};
    lw_fmt(&w, "%s;", (unsigned)res < sizeof(words) / sizeof(words[0]) ? words[res] : "Unknown");
    if (res == STATUS_SND_COPY || res == STATUS_SND_OVERWRITTEN)
        lw_fmt(&w, "%.2fKB/s", kbps);
    return lw_end(&w);
}

int status_snd_freespace(char *buf, size_t cap, const char *file, int64_t bytes)
{
    struct lw w = lw_start(buf, cap);
    lw_fmt(&w, "FREESPACE;");
    lw_text(&w, file);
    lw_fmt(&w, ";%" PRId64, bytes);
    return lw_end(&w);
}

int status_snd_hstats(char *buf, size_t cap)
{
    struct lw w = lw_start(buf, cap);
    lw_fmt(&w, "HSTATS;target;copy;overwrite;skip;totalMB;time;speedKB/s");
    return lw_end(&w);
}

int status_snd_stats(char *buf, size_t cap, const char *client, int ncopy, int nover, int nskip,
                     uint64_t total_bytes, double total_secs, double kbps)
{
    struct lw w = lw_start(buf, cap);
    lw_fmt(&w, "STATS;");
    lw_text(&w, client);
    lw_fmt(&w, ";%d;%d;%d;%" PRIu64 "MB;%.3f;%.2fKB/s", ncopy, nover, nskip, total_bytes / 1048576,
           total_secs, kbps);
    return lw_end(&w);
}

static void lw_time(struct lw *w, const struct tm *t)
{
    lw_fmt(w, "%04d/%02d/%02d-%02d:%02d:%02d", t->tm_year + 1900, t->tm_mon + 1, t->tm_mday,
           t->tm_hour, t->tm_min, t->tm_sec);
}

int status_rcv_connect(char *buf, size_t cap, const struct tm *t, uint32_t server_id,
                       uint32_t group_id, const char *server_ip, const char *server_name)
{
    struct lw w = lw_start(buf, cap);
    lw_fmt(&w, "CONNECT;");
    lw_time(&w, t);
    lw_fmt(&w, ";%08X;%08X;", server_id, group_id);
    lw_text(&w, server_ip);
    lw_fmt(&w, ";");
    lw_text(&w, server_name);
    return lw_end(&w);
}

int status_rcv_result(char *buf, size_t cap, const struct tm *t, uint32_t server_id,
                      uint32_t group_id, const char *file, uint64_t size, int comp)
{
    static const char *const words[] = {"copied", "skipped", "overwritten", "rejected"};
    struct lw w = lw_start(buf, cap);
    lw_fmt(&w, "RESULT;");
    lw_time(&w, t);
    lw_fmt(&w, ";%08X;%08X;", server_id, group_id);
    lw_text(&w, file);
    lw_fmt(&w, ";%" PRIu64 "KB;%s", size / 1024, comp >= 0 && comp <= 3 ? words[comp] : "unknown");
    return lw_end(&w);
}

struct status_sink {
    int fd; /* -1: the log (@LOG) */
    char path[];
};

static int open_status(const char *path)
{
    int fd = open(
        path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, 0640);
    if (fd < 0)
        return -errno;
    struct stat st;
    int e = fstat(fd, &st) < 0 ? errno : S_ISREG(st.st_mode) ? 0 : EINVAL;
    if (e) {
        close(fd);
        return -e;
    }
    return fd;
}

int status_sink_open(const char *spec, struct status_sink **out)
{
    *out = NULL;
    if (!spec || !*spec)
        return -EINVAL;
    bool to_log = strcmp(spec, STATUS_TO_LOG) == 0;
    size_t len = strlen(spec) + 1;
    struct status_sink *s = malloc(sizeof(*s) + len);
    if (!s)
        return -ENOMEM;
    memcpy(s->path, spec, len);
    s->fd = -1;
    if (!to_log) {
        s->fd = open_status(spec);
        if (s->fd < 0) {
            int rc = s->fd;
            free(s);
            return rc;
        }
    }
    *out = s;
    return 0;
}

void status_sink_put(struct status_sink *s, const char *line, int n)
{
    int rc = s != NULL && n >= 0 ? status_sink_write(s, line, (size_t)n) : 0;
    if (rc < 0)
        log_warnx("cannot write the status file %s: %s", s->path, strerror(-rc));
}

int status_sink_write(struct status_sink *s, const char *line, size_t len)
{
    if (s->fd < 0) {
        char tmp[STATUS_LINE_MAX];
        if (len >= sizeof(tmp))
            len = sizeof(tmp) - 1;
        memcpy(tmp, line, len);
        while (len && tmp[len - 1] == '\n')
            len--;
        tmp[len] = '\0';
        log_raw(tmp);
        return 0;
    }
    ssize_t n;
    do
        n = write(s->fd, line, len);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return -errno;
    return (size_t)n == len ? 0 : -EIO;
}

int status_sink_reopen(struct status_sink *s)
{
    if (s->fd < 0)
        return 0;
    int fd = open_status(s->path);
    if (fd < 0)
        return fd;
    close(s->fd);
    s->fd = fd;
    return 0;
}

void status_sink_close(struct status_sink *s)
{
    if (!s)
        return;
    if (s->fd >= 0)
        close(s->fd);
    free(s);
}
