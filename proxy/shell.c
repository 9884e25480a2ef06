/*
 * uftpproxyd's event loop (DESIGN.md "The path of a data packet"): one
 * recvmmsg per call into GRO-sized buffers, each coalesced buffer split
 * into datagrams for proxy_recv(), then the engine's output: a train of
 * forwarded datagrams of one size to one place goes out as one UDP GSO
 * send (sendmmsg when the kernel refuses), the rest one by one.
 */
#include "proxy/shell.h"

#include <errno.h>
#include <event2/event.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/daemon/daemon.h"
#include "core/daemon/sdnotify.h"
#include "core/log.h"
#include "core/net/addr.h"

static void membership(struct uftpproxyd *d, bool join)
{
    const struct eng_out *o = &d->out;
    const struct addr *src = addr_is_set(&o->source) ? &o->source : NULL;
    unsigned int one = o->ifindex;
    const unsigned int *list = o->ifindex ? &one : d->ifidx;
    size_t n = o->ifindex ? 1 : d->nif;
    char ga[ADDR_STRLEN], sa[ADDR_STRLEN];
    for (size_t i = 0; i < n; i++) {
        int rc = join ? net_mcast_join(&d->mc, &o->group, src, list[i])
                      : net_mcast_leave(&d->mc, &o->group, src, list[i]);
        if (rc < 0 && !(rc == -ENOENT && !join))
            log_warnx("cannot %s %s%s%s on interface %u: %s", join ? "join" : "leave",
                      addr_str(&o->group, ga), src ? " from " : "", src ? addr_str(src, sa) : "",
                      list[i], strerror(-rc));
        else if (rc == 0)
            log_debug("%s %s%s%s on interface %u", join ? "joined" : "left",
                      addr_str(&o->group, ga), src ? " from " : "", src ? addr_str(src, sa) : "",
                      list[i]);
    }
}

static void kick(struct uftpproxyd *d, uint64_t us)
{
    struct timeval tv = {(time_t)(us / 1000000u), (suseconds_t)(us % 1000000u)};
    evtimer_add(d->ev_kick, &tv);
}

/*
 * Sends what out holds (from held_sent on); false while the socket is full.
 * A batch longer than one GSO send can carry (64 KiB of UDP payload: 49
 * datagrams of 1324 bytes) leaves in whole GSO sends, each all or nothing,
 * so a full socket holds the rest for EV_WRITE instead of dropping it.
 */
static bool send_held(struct uftpproxyd *d)
{
    const struct eng_out *o = &d->out;
    while (d->held_sent < o->nseg) {
        size_t off = d->held_sent * o->seglen;
        size_t left = o->nseg - d->held_sent;
        size_t chunk = net_gso_max_segs(net_addr_af(&o->dst), o->seglen);
        if (chunk == 0)
            chunk = 1;
        if (left > chunk)
            left = chunk;
        size_t len = left * o->seglen;
        if (off + len > o->len)
            len = o->len - off;
        int r;
        if (left > 1) {
            r = net_tx_send_gso_buf(&d->tx, &o->dst, o->buf + off, len, o->seglen);
        } else {
            struct net_dgram dg = {.dst = &o->dst, .buf = o->buf + off, .len = len};
            r = net_tx_send(&d->tx, &dg, 1);
        }
        if (r > 0) {
            d->held_sent += (size_t)r;
            continue;
        }
        if (r == -EAGAIN) {
            d->held = true;
            event_add(d->ev_write, NULL);
            return false;
        }
        if (r == -ENOBUFS) {
            d->held = true;
            kick(d, 1000);
            return false;
        }
        char ab[ADDR_STRLEN];
        log_warnx("cannot send to %s: %s", addr_str(&o->dst, ab), strerror(-r));
        d->held_sent++; /* drop the one that cannot go; the protocol recovers */
    }
    d->held = false;
    return true;
}

static void arm_timer(struct uftpproxyd *d, uint64_t now)
{
    uint64_t dl = proxy_deadline(d->eng);
    if (dl == ENG_NEVER || d->finished) {
        evtimer_del(d->ev_timer);
        return;
    }
    uint64_t us = dl > now ? dl - now : 0;
    struct timeval tv = {(time_t)(us / 1000000u), (suseconds_t)(us % 1000000u)};
    evtimer_add(d->ev_timer, &tv);
}

static void drive(struct uftpproxyd *d)
{
    if (d->finished)
        return;
    if (d->held && !send_held(d))
        return;
    uint64_t now = daemon_mono_us();
    for (;;) {
        d->out.buf = d->buf;
        d->out.cap = UFTPPROXYD_OUT_BUF;
        d->out.max_seg = d->tx.gso ? NET_GSO_MAX_SEGS : NET_BATCH_MAX;
        int k = proxy_poll(d->eng, now, &d->out);
        if (k < 0) {
            log_errx("proxy engine: poll failed: %s", eng_strerror(k));
            break;
        }
        if (k == ENG_NONE)
            break;
        switch (k) {
        case ENG_SEND:
            d->held_sent = 0;
            if (!send_held(d))
                return;
            break;
        case ENG_JOIN:
        case ENG_LEAVE:
            membership(d, k == ENG_JOIN);
            break;
        case ENG_DONE:
            d->exit_code = d->out.exit_code;
            d->finished = true;
            event_base_loopbreak(d->base);
            return;
        default:
            break;
        }
    }
    arm_timer(d, now);
}

static void on_read(evutil_socket_t fd, short what, void *arg)
{
    struct uftpproxyd *d = arg;
    (void)fd;
    (void)what;
    for (int i = 0; i < UFTPPROXYD_RX_CALLS; i++) {
        int n = net_rx_recv(&d->rx, &d->sock);
        if (n < 0) {
            if (n != -EAGAIN)
                log_warnx("receive: %s", strerror(-n));
            break;
        }
        uint64_t now = daemon_mono_us();
        struct net_rx_iter it;
        struct net_rx_dgram dg;
        net_rx_iter_init(&it, &d->rx);
        while (net_rx_next(&it, &dg)) {
            const struct addr *to = addr_is_set(&dg.meta->dst) ? &dg.meta->dst : NULL;
            proxy_recv(d->eng, &dg.meta->src, to, dg.data, dg.len,
                       dg.meta->tos < 0 ? 0 : (uint8_t)dg.meta->tos, now);
        }
        /* Forward between receive batches, not after the flood. */
        drive(d);
        if (d->finished || d->held)
            break;
    }
    drive(d);
}

static void on_write(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    drive(arg);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    drive(arg);
}

static void on_quit(evutil_socket_t fd, short what, void *arg)
{
    struct uftpproxyd *d = arg;
    (void)fd;
    (void)what;
    log_warnx("shutdown took too long, exiting");
    d->finished = true;
    event_base_loopbreak(d->base);
}

/* What a reload applies at once; conf_diff() names every other change. */
static const char *const live_settings[] = {"servers", "clients", "log-level"};

static void changed_setting(const struct conf_option *o, void *arg)
{
    (void)arg;
    for (size_t i = 0; i < sizeof(live_settings) / sizeof(live_settings[0]); i++)
        if (strcmp(live_settings[i], o->name) == 0)
            return;
    log_warnx("reload: '%s' changed; it takes effect at the next restart", o->name);
}

/* The live settings of ns into d->set (and d->set's old ones into ns, to be freed). */
static void take_live(struct uftpproxyd *d, struct uftpproxyd_settings *ns)
{
    struct conf_hostlist h = d->set.servers;
    d->set.servers = ns->servers;
    ns->servers = h;
    h = d->set.clients;
    d->set.clients = ns->clients;
    ns->clients = h;
    int l = d->set.log_level;
    d->set.log_level = ns->log_level;
    ns->log_level = l;
}

/*
 * SIGHUP: reopen the log, re-read the configuration's -S / -C lists and log
 * level (as uftpd does); any other setting that changed is named in a
 * warning, as it waits for a restart.
 */
static void reload(struct uftpproxyd *d)
{
    sdnotify_reloading();
    int rc = log_reopen();
    if (rc < 0)
        log_warnx("cannot reopen the log file: %s", strerror(-rc));
    struct uftpproxyd_settings s;
    struct conf_err e;
    struct conf_cmd cmd;
    memset(&s, 0, sizeof(s));
    /* The same sources as at start: the config file, then the command line. */
    if (conf_load(&uftpproxyd_conf_spec, &s, d->argc, d->argv, &cmd, &e) < 0) {
        log_warnx("reload: %s (keeping the current settings)", e.msg);
    } else if (uftpproxyd_lists(d, &s) == 0) {
        (void)conf_diff(&uftpproxyd_conf_spec, &d->set, &s, changed_setting, NULL);
        log_set_level(s.log_level);
        /* What is now in effect, so the next reload compares against it. */
        take_live(d, &s);
        log_info("reloaded: %zu server%s and %zu client%s in the trust lists", d->cfg.nserver,
                 d->cfg.nserver == 1 ? "" : "s", d->cfg.nclient, d->cfg.nclient == 1 ? "" : "s");
    } else {
        log_warnx("reload: out of memory (keeping the current settings)");
    }
    conf_free(&uftpproxyd_conf_spec, &s);
    sdnotify_ready("running");
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    struct uftpproxyd *d = arg;
    (void)what;
    if (sig == SIGHUP) {
        reload(d);
        return;
    }
    if (d->stopping) {
        log_warnx("second signal, exiting now");
        d->finished = true;
        event_base_loopbreak(d->base);
        return;
    }
    d->stopping = true;
    sdnotify_stopping();
    log_info("%s: shutting down", sig == SIGINT ? "interrupted" : "terminated");
    proxy_shutdown(d->eng, daemon_mono_us());
    /* The ABORTs go out at once; never hang on a full socket. */
    struct timeval tv = {3, 0};
    evtimer_add(d->ev_quit, &tv);
    drive(d);
}

void uftpproxyd_free_loop(struct uftpproxyd *d)
{
    struct event **evs[] = {&d->ev_read, &d->ev_write, &d->ev_timer, &d->ev_kick,
                            &d->ev_int,  &d->ev_term,  &d->ev_hup,   &d->ev_quit};
    for (size_t i = 0; i < sizeof(evs) / sizeof(evs[0]); i++) {
        if (*evs[i] != NULL)
            event_free(*evs[i]);
        *evs[i] = NULL;
    }
    if (d->base != NULL)
        event_base_free(d->base);
    d->base = NULL;
    free(d->buf);
    d->buf = NULL;
}

int uftpproxyd_run(struct uftpproxyd *d)
{
    struct event_config *ec = event_config_new();
    if (ec != NULL) {
        event_config_set_flag(ec, EVENT_BASE_FLAG_PRECISE_TIMER);
        d->base = event_base_new_with_config(ec);
        event_config_free(ec);
    }
    d->buf = malloc(UFTPPROXYD_OUT_BUF);
    if (d->base == NULL || d->buf == NULL) {
        log_errx("cannot create the event loop");
        return PROXY_EXIT_ALLOC;
    }
    d->ev_read = event_new(d->base, d->sock.fd, EV_READ | EV_PERSIST, on_read, d);
    d->ev_write = event_new(d->base, d->sock.fd, EV_WRITE, on_write, d);
    d->ev_timer = evtimer_new(d->base, on_timer, d);
    d->ev_kick = evtimer_new(d->base, on_timer, d);
    d->ev_quit = evtimer_new(d->base, on_quit, d);
    d->ev_int = evsignal_new(d->base, SIGINT, on_signal, d);
    d->ev_term = evsignal_new(d->base, SIGTERM, on_signal, d);
    d->ev_hup = evsignal_new(d->base, SIGHUP, on_signal, d);
    if (!d->ev_read || !d->ev_write || !d->ev_timer || !d->ev_kick || !d->ev_quit || !d->ev_int ||
        !d->ev_term || !d->ev_hup) {
        log_errx("cannot create events");
        return PROXY_EXIT_ALLOC;
    }
    event_add(d->ev_read, NULL);
    event_add(d->ev_int, NULL);
    event_add(d->ev_term, NULL);
    event_add(d->ev_hup, NULL);
    drive(d); /* the first polls join the public groups and send the first heartbeats */
    if (!d->finished)
        event_base_dispatch(d->base);
    log_verbose("send path: %" PRIu64 " datagrams in %" PRIu64 " calls (%" PRIu64 " GSO, %" PRIu64
                " GSO fallbacks), %" PRIu64 " times blocked",
                d->tx.st.dgrams, d->tx.st.syscalls, d->tx.st.gso_sends, d->tx.st.gso_fallbacks,
                d->tx.st.blocked);
    return d->exit_code;
}
