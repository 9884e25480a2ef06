#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/daemon/sdnotify.h"
#include "cu.h"

/* A datagram socket standing in for systemd's notify socket. */
static int listener(const char *name, bool abstract)
{
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    size_t len = strlen(name);
    memcpy(sa.sun_path + (abstract ? 1 : 0), name, len);
    socklen_t sl = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + 1);
    if (bind(fd, (struct sockaddr *)&sa, sl) < 0) {
        close(fd);
        return -1;
    }
    struct timeval tv = {.tv_sec = 2};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    return fd;
}

static char got[2048];

static const char *recv_msg(int fd)
{
    ssize_t n = recv(fd, got, sizeof(got) - 1, 0);
    got[n > 0 ? n : 0] = '\0';
    return got;
}

static void test_path_socket(void)
{
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "/tmp/uftp-notify-%ld", (long)getpid());
    unlink(path);
    int fd = listener(path, false);
    CU_ASSERT_FATAL(fd >= 0);
    setenv("NOTIFY_SOCKET", path, 1);
    CU_ASSERT_EQUAL(sdnotify_init(), 1);
    /* Taken out of the environment: children must not notify in our name. */
    CU_ASSERT_PTR_NULL(getenv("NOTIFY_SOCKET"));
    CU_ASSERT(sdnotify_enabled());

    CU_ASSERT_EQUAL(sdnotify_ready(NULL), 1);
    CU_ASSERT_STRING_EQUAL(recv_msg(fd), "READY=1");
    CU_ASSERT_EQUAL(sdnotify_ready("listening on port 1044"), 1);
    CU_ASSERT_STRING_EQUAL(recv_msg(fd), "STATUS=listening on port 1044\nREADY=1");
    CU_ASSERT_EQUAL(sdnotify_stopping(), 1);
    CU_ASSERT_STRING_EQUAL(recv_msg(fd), "STOPPING=1");
    CU_ASSERT_EQUAL(sdnotify_status("%d sessions\nREADY=1", 3), 1);
    CU_ASSERT_STRING_EQUAL(recv_msg(fd), "STATUS=3 sessions READY=1");

    CU_ASSERT_EQUAL(sdnotify_reloading(), 1);
    recv_msg(fd);
    unsigned long long usec = 0;
    int consumed = 0;
    CU_ASSERT_EQUAL(sscanf(got, "RELOADING=1\nMONOTONIC_USEC=%llu%n", &usec, &consumed), 1);
    CU_ASSERT_EQUAL((size_t)consumed, strlen(got));
    CU_ASSERT(usec > 0);

    CU_ASSERT_EQUAL(sdnotify_send(""), -EINVAL);
    char big[SDNOTIFY_MSG_MAX + 2];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    CU_ASSERT_EQUAL(sdnotify_send(big), -EMSGSIZE);
    /* A long STATUS= is cut to fit, not refused. */
    CU_ASSERT_EQUAL(sdnotify_status("%s", big), 1);
    CU_ASSERT_EQUAL(strlen(recv_msg(fd)), SDNOTIFY_MSG_MAX);

    /* Nobody listening any more: the error is reported, not fatal. */
    close(fd);
    unlink(path);
    CU_ASSERT_EQUAL(sdnotify_send("READY=1"), -ENOENT);
    sdnotify_reset();
}

static void test_abstract_socket(void)
{
    char name[64], env[80];
    snprintf(name, sizeof(name), "uftp-notify-test-%ld", (long)getpid());
    int fd = listener(name, true);
    CU_ASSERT_FATAL(fd >= 0);
    snprintf(env, sizeof(env), "@%s", name);
    setenv("NOTIFY_SOCKET", env, 1);
    CU_ASSERT_EQUAL(sdnotify_init(), 1);
    CU_ASSERT_EQUAL(sdnotify_send("READY=1\nSTATUS=x"), 1);
    CU_ASSERT_STRING_EQUAL(recv_msg(fd), "READY=1\nSTATUS=x");
    close(fd);
    sdnotify_reset();
}

static void test_no_socket(void)
{
    unsetenv("NOTIFY_SOCKET");
    CU_ASSERT_EQUAL(sdnotify_init(), 0);
    CU_ASSERT(!sdnotify_enabled());
    CU_ASSERT_EQUAL(sdnotify_ready("x"), 0);
    CU_ASSERT_EQUAL(sdnotify_reloading(), 0);
    CU_ASSERT_EQUAL(sdnotify_status("x"), 0);
    CU_ASSERT_EQUAL(sdnotify_send("READY=1"), 0);

    setenv("NOTIFY_SOCKET", "vsock:2:1234", 1);
    CU_ASSERT_EQUAL(sdnotify_init(), -EAFNOSUPPORT);
    CU_ASSERT(!sdnotify_enabled());
    setenv("NOTIFY_SOCKET", "relative/path", 1);
    CU_ASSERT_EQUAL(sdnotify_init(), -EAFNOSUPPORT);
    setenv("NOTIFY_SOCKET", "@", 1);
    CU_ASSERT_EQUAL(sdnotify_init(), -EAFNOSUPPORT);
    char longname[200] = "/";
    memset(longname + 1, 'a', 107);
    setenv("NOTIFY_SOCKET", longname, 1);
    CU_ASSERT_EQUAL(sdnotify_init(), -ENAMETOOLONG);
    /* 107 bytes plus the NUL fill sun_path exactly; an abstract name may use all 108. */
    longname[107] = '\0';
    setenv("NOTIFY_SOCKET", longname, 1);
    CU_ASSERT_EQUAL(sdnotify_init(), 1);
    longname[0] = '@';
    longname[107] = 'a';
    longname[108] = '\0';
    setenv("NOTIFY_SOCKET", longname, 1);
    CU_ASSERT_EQUAL(sdnotify_init(), 1);
    sdnotify_reset();
}

/* The watchdog variables are consumed: no child inherits a watchdog it would not ping. */
static void test_watchdog(void)
{
    setenv("NOTIFY_SOCKET", "@uftp-wd", 1);
    setenv("WATCHDOG_USEC", "30000000", 1);
    setenv("WATCHDOG_PID", "1", 1);
    CU_ASSERT_EQUAL(sdnotify_init(), 1);
    CU_ASSERT_PTR_NULL(getenv("WATCHDOG_USEC"));
    CU_ASSERT_PTR_NULL(getenv("WATCHDOG_PID"));
    sdnotify_reset();
}

static const struct cu_test sdnotify_tests[] = {
    {"path socket", test_path_socket},
    {"abstract socket", test_abstract_socket},
    {"no or unusable socket", test_no_socket},
    {"watchdog", test_watchdog},
    {NULL, NULL},
};

CU_MAIN({"daemon/sdnotify", sdnotify_tests})
