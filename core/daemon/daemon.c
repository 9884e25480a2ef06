#include "core/daemon/daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/log.h"

/* Write end of the pipe the original process waits on; -1 when not detached. */
static int detach_fd = -1;

/* Points fd at /dev/null. */
static int to_devnull(int fd, int flags)
{
    int n = open("/dev/null", flags | O_CLOEXEC);
    if (n < 0)
        return -errno;
    int rc = 0;
    if (n != fd && dup2(n, fd) < 0)
        rc = -errno;
    if (n != fd)
        close(n);
    return rc;
}

/* The original process: wait for the daemon's word, then leave without atexit handlers. */
static _Noreturn void wait_for_daemon(int rfd, pid_t mid)
{
    unsigned char code = 1;
    ssize_t n;
    do
        n = read(rfd, &code, 1);
    while (n < 0 && errno == EINTR);
    if (n != 1)
        code = 1;
    (void)waitpid(mid, NULL, 0);
    _exit(code);
}

int daemon_detach(void)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return -errno;
    fflush(NULL);
    pid_t mid = fork();
    if (mid < 0) {
        int e = errno;
        close(p[0]);
        close(p[1]);
        return -e;
    }
    if (mid > 0) {
        close(p[1]);
        wait_for_daemon(p[0], mid);
    }
    close(p[0]);
    if (setsid() < 0)
        _exit(1);
    pid_t d = fork();
    if (d < 0)
        _exit(1);
    if (d > 0)
        _exit(0);
    detach_fd = p[1];
    if (chdir("/") < 0)
        log_warn("chdir /");
    umask(DAEMON_UMASK);
    int rc = to_devnull(STDIN_FILENO, O_RDONLY);
    if (rc == 0)
        rc = to_devnull(STDOUT_FILENO, O_WRONLY);
    if (rc < 0)
        log_warnx("cannot point stdin/stdout at /dev/null: %s", strerror(-rc));
    return 0;
}

void daemon_detach_done(int code)
{
    if (detach_fd < 0)
        return;
    unsigned char c = (unsigned char)code;
    ssize_t n;
    do
        n = write(detach_fd, &c, 1);
    while (n < 0 && errno == EINTR);
    close(detach_fd);
    detach_fd = -1;
    (void)to_devnull(STDERR_FILENO, O_WRONLY);
}

bool daemon_stderr_is_journal(void)
{
    const char *js = getenv("JOURNAL_STREAM");
    if (!js)
        return false;
    unsigned long long dev, ino;
    char tail;
    if (sscanf(js, "%llu:%llu%c", &dev, &ino, &tail) != 2)
        return false;
    struct stat st;
    if (fstat(STDERR_FILENO, &st) < 0)
        return false;
    return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

const char *daemon_logdest_name(int dest)
{
    switch (dest) {
    case DAEMON_LOG_STDERR:
        return "stderr";
    case DAEMON_LOG_JOURNAL:
        return "journal";
    case DAEMON_LOG_FILE:
        return "file";
    case DAEMON_LOG_SYSLOG:
        return "syslog";
    default:
        return "unknown";
    }
}

int daemon_log_setup(const struct daemon_log_cfg *c)
{
    if (c->foreground && daemon_stderr_is_journal()) {
        /* journald stamps and prioritises each line itself. */
        log_set_timestamps(false);
        log_set_level_prefix(true);
        return DAEMON_LOG_JOURNAL;
    }
    /* Detached, stderr ends at /dev/null: a file or syslog, whatever started us. */
    if (c->foreground) {
        log_set_timestamps(true);
        return DAEMON_LOG_STDERR;
    }
    if (c->logfile && *c->logfile) {
        long long roll = c->roll_mb > 0 ? c->roll_mb * 1024 * 1024 : 0;
        int rc = log_open_file(c->logfile, roll, c->keep);
        return rc < 0 ? rc : DAEMON_LOG_FILE;
    }
    log_use_syslog();
    return DAEMON_LOG_SYSLOG;
}

int daemon_set_nice(int prio)
{
    if (prio < -20 || prio > 19)
        return -EINVAL;
    errno = 0;
    int cur = getpriority(PRIO_PROCESS, 0);
    if (errno == 0 && cur == prio)
        return 0;
    return setpriority(PRIO_PROCESS, 0, prio) < 0 ? -errno : 0;
}

int daemon_privs_get(struct daemon_privs *p)
{
    memset(p, 0, sizeof(*p));
    uid_t suid;
    gid_t sgid;
    if (getresuid(&p->uid, &p->euid, &suid) < 0 || getresgid(&p->gid, &p->egid, &sgid) < 0)
        return -errno;
    struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
    struct __user_cap_data_struct data[2];
    memset(data, 0, sizeof(data));
    if (syscall(SYS_capget, &hdr, data) < 0)
        return -errno;
    p->cap_eff = (uint64_t)data[1].effective << 32 | data[0].effective;
    int nnp = prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0);
    p->no_new_privs = nnp == 1;
    return 0;
}

int daemon_privs_log(void)
{
    struct daemon_privs p;
    int rc = daemon_privs_get(&p);
    if (rc < 0) {
        log_warnx("cannot read the process credentials: %s", strerror(-rc));
        return 1;
    }
    int warnings = 0;
    if (p.euid == 0) {
        log_warnx("running as root: neither port 1044 nor multicast joins need it; "
                  "run as a dedicated user (the systemd units do)");
        warnings++;
    } else if (p.cap_eff) {
        log_warnx("running with capabilities 0x%llx, which are not needed",
                  (unsigned long long)p.cap_eff);
        warnings++;
    }
    log_verbose("running as uid %ld gid %ld%s", (long)p.euid, (long)p.egid,
                p.no_new_privs ? ", no new privileges" : "");
    return warnings;
}

uint64_t daemon_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

int64_t daemon_wall_offset_us(void)
{
    struct timespec rt;
    clock_gettime(CLOCK_REALTIME, &rt);
    return (int64_t)rt.tv_sec * 1000000 + rt.tv_nsec / 1000 - (int64_t)daemon_mono_us();
}

int daemon_rng(void *ctx, void *buf, size_t len)
{
    (void)ctx;
    uint8_t *p = buf;
    while (len > 0) {
        ssize_t r = getrandom(p, len, 0);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        p += r;
        len -= (size_t)r;
    }
    return 0;
}
