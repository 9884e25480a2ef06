/*
 * minid: the smallest daemon built the way uftpd and uftpproxyd must be
 * (core/daemon, libevent). It is the reference for wiring the real shells
 * and the stand-in that tests/appliance/daemon_life.sh checks until they
 * exist; the same script then runs against them.
 *
 *   minid [-d] [-P PIDFILE] [-L LOGFILE] [-F STATUSFILE] [-s COMMAND] [-N NICE]
 *
 * Start: umask, sdnotify_init, pid file (before detaching), detach unless -d,
 * log destination, pid written, nice, privilege notes, READY=1.
 * SIGHUP: RELOADING=1, log and status file reopened, "configuration
 * re-read", READY=1. SIGTERM/SIGINT: STOPPING=1, children told to stop,
 * exit 0 once they are gone, pid file removed. With -s, COMMAND runs once
 * after start-up as a post-receive command (`COMMAND -I 0000ABCD /x`).
 */
#include <errno.h>
#include <event2/event.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/daemon/daemon.h"
#include "core/daemon/pidfile.h"
#include "core/daemon/runner.h"
#include "core/daemon/sdnotify.h"
#include "core/daemon/status.h"
#include "core/log.h"

static struct {
    struct event_base *base;
    struct event *child_ev, *child_timer;
    struct runner *runner;
    struct pidfile *pidfile;
    struct status_sink *status;
    bool stopping;
} d;

static void arm_child_timer(void)
{
    uint64_t dl = runner_deadline(d.runner);
    if (dl == UINT64_MAX) {
        evtimer_del(d.child_timer);
        return;
    }
    uint64_t now = runner_now_us();
    uint64_t wait = dl > now ? dl - now : 0;
    struct timeval tv = {.tv_sec = (time_t)(wait / 1000000),
                         .tv_usec = (suseconds_t)(wait % 1000000)};
    evtimer_add(d.child_timer, &tv);
}

static void maybe_exit(void)
{
    if (d.stopping && runner_running(d.runner) == 0)
        event_base_loopbreak(d.base);
}

static void on_child(evutil_socket_t fd, short what, void *arg)
{
    runner_poll(d.runner, runner_now_us());
    arm_child_timer();
    maybe_exit();
}

static void on_hup(evutil_socket_t sig, short what, void *arg)
{
    sdnotify_reloading();
    int rc = log_reopen();
    if (rc < 0)
        log_warnx("cannot reopen the log file: %s", strerror(-rc));
    if (d.status && (rc = status_sink_reopen(d.status)) < 0)
        log_warnx("cannot reopen the status file: %s", strerror(-rc));
    log_info("configuration re-read");
    sdnotify_ready("running");
}

static void on_term(evutil_socket_t sig, short what, void *arg)
{
    sdnotify_stopping();
    log_info("stopping on signal %d", (int)sig);
    d.stopping = true;
    runner_terminate(d.runner, runner_now_us());
    arm_child_timer();
    maybe_exit();
}

int main(int argc, char **argv)
{
    bool fg = false;
    const char *pidpath = NULL, *logfile = NULL, *statusfile = NULL, *cmd = NULL;
    int nice_val = 0, c;
    umask(DAEMON_UMASK);
    log_init("minid", LL_INFO);
    sdnotify_init();
    while ((c = getopt(argc, argv, "dP:L:F:s:N:")) != -1) {
        switch (c) {
        case 'd':
            fg = true;
            break;
        case 'P':
            pidpath = optarg;
            break;
        case 'L':
            logfile = optarg;
            break;
        case 'F':
            statusfile = optarg;
            break;
        case 's':
            cmd = optarg;
            break;
        case 'N':
            nice_val = atoi(optarg);
            break;
        default:
            return 1;
        }
    }
    if (pidpath) {
        pid_t other;
        int rc = pidfile_open(pidpath, &d.pidfile, &other);
        if (rc == -EEXIST)
            fatalx(1, "%s: already running as pid %ld", pidpath, (long)other);
        if (rc < 0)
            fatalx(1, "%s: %s", pidpath, strerror(-rc));
    }
    if (statusfile) {
        int rc = status_sink_open(statusfile, &d.status);
        if (rc < 0)
            fatalx(1, "%s: %s", statusfile, strerror(-rc));
    }
    if (!fg && daemon_detach() < 0)
        fatal(5, "cannot detach");
    struct daemon_log_cfg lc = {.foreground = fg, .logfile = logfile, .keep = 5};
    int dest = daemon_log_setup(&lc);
    if (dest < 0)
        fatalx(4, "%s: %s", logfile, strerror(-dest));
    if (d.pidfile && pidfile_write(d.pidfile) < 0)
        fatal(1, "cannot write the pid file");
    int rc = daemon_set_nice(nice_val);
    if (rc < 0)
        log_warnx("cannot set nice value %d: %s", nice_val, strerror(-rc));
    daemon_privs_log();

    d.base = event_base_new();
    struct runner_cfg rcfg = {.out_fd = -1, .time_limit_us = 10000000};
    d.runner = runner_new(&rcfg);
    if (!d.base || !d.runner)
        fatalx(5, "out of memory");
    d.child_timer = evtimer_new(d.base, on_child, NULL);
    if (runner_fd(d.runner) >= 0) {
        d.child_ev = event_new(d.base, runner_fd(d.runner), EV_READ | EV_PERSIST, on_child, NULL);
        event_add(d.child_ev, NULL);
    }
    struct event *hup = evsignal_new(d.base, SIGHUP, on_hup, NULL);
    struct event *term = evsignal_new(d.base, SIGTERM, on_term, NULL);
    struct event *intr = evsignal_new(d.base, SIGINT, on_term, NULL);
    evsignal_add(hup, NULL);
    evsignal_add(term, NULL);
    evsignal_add(intr, NULL);

    log_info("started (log: %s)", daemon_logdest_name(dest));
    if (d.status) {
        char line[STATUS_LINE_MAX];
        struct tm tm;
        time_t now = time(NULL);
        localtime_r(&now, &tm);
        int n = status_rcv_connect(line, sizeof(line), &tm, 0x0A000001, 0x0000ABCD, "10.0.0.1",
                                   "sender");
        if (n > 0)
            status_sink_write(d.status, line, (size_t)n);
    }
    if (!fg)
        daemon_detach_done(0);
    sdnotify_ready("running");
    if (cmd) {
        const char *files[] = {"/x"};
        runner_postreceive(d.runner, cmd, 0x0000ABCD, files, 1, runner_now_us());
        arm_child_timer();
    }

    event_base_dispatch(d.base);

    event_free(hup);
    event_free(term);
    event_free(intr);
    if (d.child_ev)
        event_free(d.child_ev);
    event_free(d.child_timer);
    runner_free(d.runner);
    event_base_free(d.base);
    status_sink_close(d.status);
    pidfile_remove(d.pidfile);
    log_info("stopped");
    log_close();
    return 0;
}
