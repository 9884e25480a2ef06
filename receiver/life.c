/*
 * uftpd's daemon life (issue 7, spec §2.2, §6.13): the checks the option
 * table cannot make, the status file (-F), the post-receive command (-s)
 * through one time-limited runner, SIGHUP (re-read the config and the
 * trust lists without dropping sessions) and the end of SIGTERM (wait for
 * the post-receive commands). main.c starts the daemon (core/daemon/start.h);
 * shell.c runs the loop and calls in here.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/daemon/daemon.h"
#include "core/daemon/metrics.h"
#include "core/daemon/runner.h"
#include "core/daemon/status.h"
#include "core/log.h"
#include "core/loop/loop.h"
#include "core/net/addr.h"
#include "receiver/uftpd.h"

/* ---- settings ---- */

/* A message about setting `name` (the one to blame) into msg; -1. */
__attribute__((format(printf, 5, 6))) static int bad(const char **what, const char *name, char *msg,
                                                     size_t len, const char *fmt, ...)
{
    *what = name;
    int n = snprintf(msg, len, "'%s' ", name);
    va_list ap;
    va_start(ap, fmt);
    if (n >= 0 && (size_t)n < len)
        vsnprintf(msg + n, len - (size_t)n, fmt, ap);
    va_end(ap);
    return -1;
}

int uftpd_settings_check(const struct uftpd_settings *s, const char **what, char *msg, size_t len)
{
    if (s->tempdir != NULL && s->dests.n > 1)
        return bad(what, "temp-dir", msg, len, "allows only one dest (-D), not %zu", s->dests.n);
    if (s->tempdir != NULL && s->tempfiles)
        return bad(what, "temp-files", msg, len, "cannot be used with temp-dir (-T)");
    if (s->ssm && s->servers.n == 0)
        return bad(what, "ssm", msg, len, "needs servers (-S) with the servers' addresses");
    if (s->backups.n > 0 && s->tempdir != NULL)
        return bad(what, "backup-dirs", msg, len, "cannot be used with temp-dir (-T)");
    if (s->backups.n > 0 && s->backups.n != s->dests.n)
        return bad(what, "backup-dirs", msg, len, "needs one dir per dest (-D): %zu given for %zu",
                   s->backups.n, s->dests.n);
    for (size_t i = 0; i < s->backups.n && i < s->dests.n; i++)
        if (strcmp(s->backups.v[i], s->dests.v[i]) == 0)
            return bad(what, "backup-dirs", msg, len, "'%s' is also a dest (-D)", s->backups.v[i]);
    if (s->move_each && s->tempdir == NULL)
        return bad(what, "move-each", msg, len, "needs temp-dir (-T)");
    if (daemon_publics(&s->pub, (uint16_t)s->port, s->ssm, "", NULL, msg, len) < 0) {
        *what = "public";
        return -1;
    }
    if (s->metrics_file != NULL) {
        int rc = metrics_path_check(s->metrics_file);
        if (rc < 0)
            return bad(what, "metrics-file", msg, len, "needs an existing directory: '%s': %s",
                       s->metrics_file, rc == -EINVAL ? "not a file name" : strerror(-rc));
    }
    if (s->postreceive != NULL) {
        int rc = runner_command_check(s->postreceive);
        if (rc < 0)
            return bad(what, "post-receive", msg, len, "'%s': %s", s->postreceive,
                       rc == -ENOEXEC ? "not a regular file" : strerror(-rc));
    }
    return 0;
}

int uftpd_settings_explain(const void *s, int argc, char **argv, const struct conf_cmd *cmd,
                           char *msg, size_t len)
{
    const char *what = NULL;
    char m[512];
    if (uftpd_settings_check(s, &what, m, sizeof(m)) == 0)
        return 0;
    char where[320] = "";
    (void)conf_origin(&uftpd_conf_spec, argc, argv, cmd, what, where, sizeof(where));
    /* Truncated if it must be: the caller's buffer bounds the message. */
    int n = snprintf(msg, len, "%s%s", where, where[0] ? ": " : "");
    if (n >= 0 && (size_t)n < len)
        snprintf(msg + n, len - (size_t)n, "%s", m);
    return -1;
}

static int make_abs(char **p, bool allow_log)
{
    if (*p == NULL || (*p)[0] == '/' || (allow_log && strcmp(*p, STATUS_TO_LOG) == 0))
        return 0;
    char cwd[4096];
    if (getcwd(cwd, sizeof(cwd)) == NULL)
        return -errno;
    size_t n = strlen(cwd) + strlen(*p) + 2;
    char *r = malloc(n);
    if (r == NULL)
        return -ENOMEM;
    snprintf(r, n, "%s/%s", cwd, *p);
    free(*p);
    *p = r;
    return 0;
}

int uftpd_settings_absolute(struct uftpd_settings *s)
{
    int rc = make_abs(&s->logfile, false);
    if (rc == 0)
        rc = make_abs(&s->status_file, true);
    return rc;
}

int uftpd_trust_build(const struct uftpd_settings *s, struct receiver_server **servers,
                      struct receiver_proxy **proxies)
{
    *servers = NULL;
    *proxies = NULL;
    if (s->servers.n > 0 && (*servers = calloc(s->servers.n, sizeof(**servers))) == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < s->servers.n; i++) {
        const struct conf_host *h = &s->servers.v[i];
        struct receiver_server *r = &(*servers)[i];
        r->id = h->id;
        r->proxy_id = h->proxy_id;
        if (h->addrlen > 0)
            (void)net_addr_from_sockaddr(&r->addr, (const struct sockaddr *)&h->addr, h->addrlen);
        size_t n = h->fp_len < RECEIVER_FP_MAX ? h->fp_len : RECEIVER_FP_MAX;
        memcpy(r->fp, h->fp, n);
        r->fplen = (uint8_t)n;
    }
    if (s->proxies.n > 0 && (*proxies = calloc(s->proxies.n, sizeof(**proxies))) == NULL) {
        free(*servers);
        *servers = NULL;
        return -ENOMEM;
    }
    for (size_t i = 0; i < s->proxies.n; i++) {
        const struct conf_host *h = &s->proxies.v[i];
        struct receiver_proxy *r = &(*proxies)[i];
        r->id = h->id;
        if (h->addrlen > 0)
            (void)net_addr_from_sockaddr(&r->addr, (const struct sockaddr *)&h->addr, h->addrlen);
        size_t n = h->fp_len < RECEIVER_FP_MAX ? h->fp_len : RECEIVER_FP_MAX;
        memcpy(r->fp, h->fp, n);
        r->fplen = (uint8_t)n;
    }
    return 0;
}

/* ---- -F, -s ---- */

static void on_received(void *arg, uint32_t group_id, const char *const *paths, size_t n);

int uftpd_life_open(struct uftpd *d)
{
    if (d->set.status_file != NULL) {
        int rc = status_sink_open(d->set.status_file, &d->status);
        if (rc < 0) {
            log_errx("cannot open status file %s: %s", d->set.status_file, strerror(-rc));
            return DAEMON_EXIT_LOG;
        }
    }
    struct runner_cfg rc = {
        /* Without -T a run per file: a session of many small files queues many. */
        .max_queued = UFTPD_POSTRECEIVE_QUEUE,
        .time_limit_us = (uint64_t)d->set.postreceive_timeout * 1000000u,
        /* Under systemd (-d) the command's output joins the journal; detached, /dev/null. */
        .out_fd = d->set.foreground ? STDERR_FILENO : -1,
    };
    if ((d->runner = runner_new(&rc)) == NULL) {
        log_errx("cannot create the post-receive runner");
        return DAEMON_EXIT_ALLOC;
    }
    d->store.received = on_received;
    d->store.received_arg = d;
    d->store.move_each = d->set.move_each;
    return 0;
}

void uftpd_event(void *ctx, const struct receiver_event *ev)
{
    /* The engine has one ctx for storage and events: the store inside struct uftpd. */
    struct uftpd *d = (struct uftpd *)(void *)((char *)ctx - offsetof(struct uftpd, store));
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    char line[STATUS_LINE_MAX];
    switch (ev->kind) {
    case RECEIVER_EV_CONNECT:
        store_session_begin(&d->store, ev->server_id, ev->group_id, ev->group_inst, now);
        if (d->status != NULL) {
            /* spec §2.2 -q: names are never looked up, so the name is the address too. */
            char ip[ADDR_STRLEN] = "";
            if (ev->server_addr != NULL) {
                struct addr a = *ev->server_addr;
                addr_unmap(&a); /* the dual-stack socket's ::ffff:a.b.c.d */
                (void)addr_format(&a, ip, sizeof(ip), 0);
            }
            status_sink_put(
                d->status, line,
                status_rcv_connect(line, sizeof(line), &tm, ev->server_id, ev->group_id, ip, ip));
        }
        break;
    case RECEIVER_EV_RESULT:
        if (d->status != NULL && ev->file != NULL)
            status_sink_put(d->status, line,
                            status_rcv_result(line, sizeof(line), &tm, ev->server_id, ev->group_id,
                                              ev->file->name,
                                              ev->file->ftype == FTYPE_REG ? ev->file->size : 0,
                                              ev->status));
        break;
    case RECEIVER_EV_END:
        break;
    }
}

static void arm_child_timer(struct uftpd *d)
{
    if (d->loop != NULL)
        loop_watch_at(d->loop, runner_deadline(d->runner));
}

void uftpd_life_poll(void *ctx)
{
    struct uftpd *d = ctx;
    runner_poll(d->runner, runner_now_us());
    arm_child_timer(d);
    uftpd_maybe_exit(d);
}

/* store_received_fn: what a session delivered goes to the -s command (spec §2.2). */
static void on_received(void *arg, uint32_t group_id, const char *const *paths, size_t n)
{
    struct uftpd *d = arg;
    const char *cmd = d->set.postreceive;
    if (cmd == NULL || d->runner == NULL || n == 0)
        return;
    int rc = runner_postreceive(d->runner, cmd, group_id, paths, n, runner_now_us());
    if (rc < 0)
        log_warnx("group %08X: cannot run the post-receive command %s: %s", group_id, cmd,
                  rc == -EAGAIN ? "too many waiting" : strerror(-rc));
    arm_child_timer(d);
}

void uftpd_life_stop(struct uftpd *d)
{
    if (d->runner == NULL)
        return;
    size_t n = runner_running(d->runner) + runner_queued(d->runner);
    if (n > 0)
        log_info("stopping %zu post-receive command%s", n, n == 1 ? "" : "s");
    runner_terminate(d->runner, runner_now_us());
    arm_child_timer(d);
}

void uftpd_maybe_exit(struct uftpd *d)
{
    if (!d->stopping || !d->done)
        return;
    if (d->runner != NULL && runner_running(d->runner) + runner_queued(d->runner) > 0)
        return;
    loop_exit(d->loop);
}

void uftpd_life_free(struct uftpd *d)
{
    runner_free(d->runner);
    d->runner = NULL;
    status_sink_close(d->status);
    d->status = NULL;
}

/* ---- readiness, SIGHUP ---- */

static unsigned sessions_now(const struct uftpd *d)
{
    struct receiver_stats st;
    receiver_stats(d->eng, &st);
    return st.sessions;
}

void uftpd_notify_ready(struct uftpd *d)
{
    char st[128];
    unsigned n = sessions_now(d);
    snprintf(st, sizeof(st), "listening on port %u, ID 0x%08X, %u session%s", d->sock.port,
             d->cfg.client_id, n, n == 1 ? "" : "s");
    daemon_start_ready(&d->start, st); /* at start-up the waiting parent exits too */
    /* The live summary (ops.c) follows at the next tick. */
    d->status_line[0] = '\0';
}

/* Settings applied on SIGHUP; every other change waits for a restart (spec §2.2). */
static const char *const live_settings[] = {
    "log-file", "log-level", "log-roll-mb",  "log-keep",  "nice",        "status-file",
    "servers",  "proxies",   "post-receive", "move-each", "quiet-names", NULL,
};

static bool str_differ(const char *a, const char *b)
{
    return (a == NULL) != (b == NULL) || (a != NULL && strcmp(a, b) != 0);
}

#define SWAP(field) daemon_swap(&d->set.field, &ns->field, sizeof(d->set.field))

/* The trust lists (-S, -R), re-read with the config. Returns true when applied. */
static bool apply_trust(struct uftpd *d, struct uftpd_settings *ns)
{
    struct receiver_server *srv;
    struct receiver_proxy *prx;
    if (uftpd_trust_build(ns, &srv, &prx) < 0) {
        log_errx("reload: out of memory; keeping the trust lists");
        return false;
    }
    bool same =
        ns->servers.n == d->cfg.nserver && ns->proxies.n == d->cfg.nproxy &&
        (ns->servers.n == 0 || memcmp(srv, d->servers, ns->servers.n * sizeof(*srv)) == 0) &&
        (ns->proxies.n == 0 || memcmp(prx, d->proxies, ns->proxies.n * sizeof(*prx)) == 0);
    if (same) {
        free(srv);
        free(prx);
        return true;
    }
    if (receiver_set_trust(d->eng, srv, ns->servers.n, prx, ns->proxies.n) < 0) {
        log_warnx("reload: with ssm (-o) the server list (-S) decides the joins; it takes "
                  "effect at the next restart");
        free(srv);
        free(prx);
        return false;
    }
    free(d->servers);
    free(d->proxies);
    d->servers = srv;
    d->proxies = prx;
    d->cfg.servers = srv;
    d->cfg.nserver = ns->servers.n;
    d->cfg.proxies = prx;
    d->cfg.nproxy = ns->proxies.n;
    log_info("reload: %zu allowed server%s, %zu prox%s", ns->servers.n,
             ns->servers.n == 1 ? "" : "s", ns->proxies.n, ns->proxies.n == 1 ? "y" : "ies");
    return true;
}

static void apply_log(struct uftpd *d, struct uftpd_settings *ns)
{
    log_set_level(ns->log_level);
    SWAP(log_level);
    /* With -d the log stays on stderr or the journal: -L is ignored with -d, as in 5.0.1. */
    if (!d->set.foreground &&
        (str_differ(d->set.logfile, ns->logfile) || d->set.log_roll_mb != ns->log_roll_mb ||
         d->set.log_keep != ns->log_keep)) {
        struct daemon_log_cfg lc = {.foreground = false,
                                    .logfile = ns->logfile,
                                    .roll_mb = ns->log_roll_mb,
                                    .keep = (int)ns->log_keep};
        int rc = daemon_log_setup(&lc);
        if (rc < 0) {
            log_warnx("reload: cannot open log file %s: %s; logging stays where it was",
                      ns->logfile, strerror(-rc));
            return;
        }
        log_info("reload: logging to %s%s%s", daemon_logdest_name(rc), ns->logfile ? " " : "",
                 ns->logfile ? ns->logfile : "");
    }
    SWAP(logfile);
    SWAP(log_roll_mb);
    SWAP(log_keep);
}

static void apply_status(struct uftpd *d, struct uftpd_settings *ns)
{
    if (!str_differ(d->set.status_file, ns->status_file))
        return;
    struct status_sink *sink = NULL;
    if (ns->status_file != NULL) {
        int rc = status_sink_open(ns->status_file, &sink);
        if (rc < 0) {
            log_warnx("reload: cannot open status file %s: %s; keeping %s", ns->status_file,
                      strerror(-rc), d->set.status_file ? d->set.status_file : "none");
            return;
        }
    }
    status_sink_close(d->status);
    d->status = sink;
    SWAP(status_file);
    log_info("reload: status file %s", d->set.status_file ? d->set.status_file : "off");
}

static void apply(struct uftpd *d, struct uftpd_settings *ns)
{
    daemon_reload_diff(&uftpd_conf_spec, &d->set, ns, live_settings);
    apply_log(d, ns);
    if (d->set.nice != ns->nice) {
        int rc = daemon_set_nice((int)ns->nice);
        if (rc < 0)
            log_warnx("reload: cannot set nice value %lld: %s", ns->nice, strerror(-rc));
        else
            SWAP(nice);
    }
    apply_status(d, ns);
    if (apply_trust(d, ns)) {
        SWAP(servers);
        SWAP(proxies);
    }
    if (str_differ(d->set.postreceive, ns->postreceive))
        log_info("reload: post-receive command %s", ns->postreceive ? ns->postreceive : "off");
    SWAP(postreceive);
    SWAP(move_each);
    SWAP(no_resolve);
    d->store.move_each = d->set.move_each;
}

void uftpd_reload(struct uftpd *d)
{
    daemon_reload_begin();
    int rc;
    if (d->status != NULL && (rc = status_sink_reopen(d->status)) < 0)
        log_warnx("cannot reopen the status file %s: %s", d->set.status_file, strerror(-rc));
    log_info("SIGHUP: re-reading the configuration");

    struct uftpd_settings *ns = calloc(1, sizeof(*ns));
    char msg[sizeof(((struct conf_err *)0)->msg)];
    rc = -1;
    if (ns == NULL) {
        snprintf(msg, sizeof(msg), "out of memory");
    } else {
        /* Relative paths (--config, -S, ...) mean what they meant at start-up. */
        bool back = d->startdir >= 0 && fchdir(d->startdir) == 0;
        struct conf_err e;
        struct conf_cmd cmd;
        rc = conf_load(&uftpd_conf_spec, ns, d->argc, d->argv, &cmd, &e);
        if (rc < 0)
            snprintf(msg, sizeof(msg), "%s", e.msg);
        else if ((rc = uftpd_settings_explain(ns, d->argc, d->argv, &cmd, msg, sizeof(msg))) == 0 &&
                 (rc = uftpd_settings_absolute(ns)) < 0)
            snprintf(msg, sizeof(msg), "out of memory");
        if (back && !d->set.foreground && chdir("/") < 0)
            log_warn("chdir /");
    }
    if (rc < 0) {
        log_errx("reload: %s; keeping the running configuration", msg);
    } else {
        apply(d, ns);
        log_info("configuration re-read; %u session%s in progress", sessions_now(d),
                 sessions_now(d) == 1 ? "" : "s");
    }
    if (ns != NULL) {
        conf_free(&uftpd_conf_spec, ns);
        free(ns);
    }
    uftpd_notify_ready(d);
}
