#include "core/daemon/sdnotify.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static struct {
    bool on;
    struct sockaddr_un sa;
    socklen_t salen;
} sn;

static int status_then(const char *status, const char *tail);

void sdnotify_reset(void)
{
    memset(&sn, 0, sizeof(sn));
}

/* "/path" or "@abstract"; the abstract name is not NUL-terminated on the wire. */
static int set_addr(const char *name)
{
    size_t len = strlen(name);
    if (len < 2 || (name[0] != '/' && name[0] != '@'))
        return -EAFNOSUPPORT;
    if (len > sizeof(sn.sa.sun_path) - (name[0] == '/'))
        return -ENAMETOOLONG;
    memset(&sn.sa, 0, sizeof(sn.sa));
    sn.sa.sun_family = AF_UNIX;
    memcpy(sn.sa.sun_path, name, len);
    if (name[0] == '@')
        sn.sa.sun_path[0] = '\0';
    sn.salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + (name[0] == '/'));
    return 0;
}

int sdnotify_init(void)
{
    sdnotify_reset();
    /* No watchdog pings are sent: the child processes must not inherit one either. */
    unsetenv("WATCHDOG_USEC");
    unsetenv("WATCHDOG_PID");

    const char *name = getenv("NOTIFY_SOCKET");
    if (!name)
        return 0;
    int rc = set_addr(name);
    unsetenv("NOTIFY_SOCKET");
    if (rc < 0)
        return rc;
    sn.on = true;
    return 1;
}

bool sdnotify_enabled(void)
{
    return sn.on;
}

int sdnotify_send(const char *msg)
{
    if (!sn.on)
        return 0;
    size_t len = strlen(msg);
    if (len == 0)
        return -EINVAL;
    if (len > SDNOTIFY_MSG_MAX)
        return -EMSGSIZE;
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    ssize_t n = sendto(fd, msg, len, MSG_NOSIGNAL, (const struct sockaddr *)&sn.sa, sn.salen);
    int e = errno;
    close(fd);
    if (n < 0)
        return -e;
    return (size_t)n == len ? 1 : -EMSGSIZE;
}

int sdnotify_ready(const char *status)
{
    if (!status)
        return sdnotify_send("READY=1");
    return status_then(status, "READY=1");
}

int sdnotify_reloading(void)
{
    /* MONOTONIC_USEC lets Type=notify-reload (systemd >= 253) match the reload. */
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    char msg[64];
    snprintf(msg, sizeof(msg), "RELOADING=1\nMONOTONIC_USEC=%llu",
             (unsigned long long)ts.tv_sec * 1000000ULL + (unsigned long long)ts.tv_nsec / 1000);
    return sdnotify_send(msg);
}

int sdnotify_stopping(void)
{
    return sdnotify_send("STOPPING=1");
}

int sdnotify_status(const char *fmt, ...)
{
    if (!sn.on)
        return 0;
    char msg[SDNOTIFY_MSG_MAX + 1];
    int pre = snprintf(msg, sizeof(msg), "STATUS=");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg + pre, sizeof(msg) - (size_t)pre, fmt, ap);
    va_end(ap);
    /* One line: a newline would start a new KEY=VALUE assignment. */
    for (char *p = msg; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    return sdnotify_send(msg);
}

/* sdnotify_ready: STATUS= text, then READY=1 in the same datagram. */
static int status_then(const char *status, const char *tail)
{
    char msg[SDNOTIFY_MSG_MAX + 1];
    size_t tl = strlen(tail);
    int n = snprintf(msg, sizeof(msg) - tl - 1, "STATUS=%s", status);
    if (n < 0)
        return -EINVAL;
    size_t len = strlen(msg);
    for (char *p = msg; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    msg[len] = '\n';
    memcpy(msg + len + 1, tail, tl + 1);
    return sdnotify_send(msg);
}
