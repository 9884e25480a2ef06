/*
 * uftpd's event loop (DESIGN.md "The path of a data packet"): one
 * recvmmsg per call into GRO-sized buffers, each coalesced buffer split
 * into datagrams for receiver_recv(), then the engine's replies, joins and
 * leaves. Storage writes go through store.c's per-file cache.
 */
#include "receiver/shell.h"

#include <errno.h>
#include <event2/event.h>
#include <signal.h>
#include <string.h>
#include <time.h>

#include "core/daemon/daemon.h"
#include "core/daemon/sdnotify.h"
#include "core/log.h"

static void membership(struct uftpd *d, bool join)
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

/* Sends the held reply; false when the socket is still full. */
static bool send_held(struct uftpd *d)
{
    struct net_dgram dg = {.dst = &d->out.dst, .buf = d->out.buf, .len = d->out.len};
    int r = net_tx_send(&d->tx, &dg, 1);
    if (r == -EAGAIN || r == -ENOBUFS) {
        d->held = true;
        event_add(d->ev_write, NULL);
        return false;
    }
    if (r < 0) {
        char ab[ADDR_STRLEN];
        log_warnx("cannot send to %s: %s", addr_str(&d->out.dst, ab), strerror(-r));
    }
    d->held = false;
    return true;
}

static void arm_timer(struct uftpd *d, uint64_t now)
{
    uint64_t dl = receiver_deadline(d->eng);
    if (dl == ENG_NEVER || d->finished) {
        evtimer_del(d->ev_timer);
        return;
    }
    uint64_t us = dl > now ? dl - now : 0;
    struct timeval tv = {(time_t)(us / 1000000u), (suseconds_t)(us % 1000000u)};
    evtimer_add(d->ev_timer, &tv);
}

static void drive(struct uftpd *d)
{
    if (d->finished)
        return;
    if (d->held && !send_held(d))
        return;
    uint64_t now = daemon_mono_us();
    for (;;) {
        d->out.buf = d->buf;
        d->out.cap = sizeof(d->buf);
        d->out.max_seg = 1;
        int k = receiver_poll(d->eng, now, &d->out);
        if (k < 0) {
            log_errx("receiver engine: poll failed: %s", eng_strerror(k));
            break;
        }
        if (k == ENG_NONE)
            break;
        switch (k) {
        case ENG_SEND:
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
            evtimer_del(d->ev_timer);
            uftpd_maybe_exit(d); /* once the post-receive commands are gone too */
            return;
        default:
            break;
        }
    }
    arm_timer(d, now);
}

static void on_read(evutil_socket_t fd, short what, void *arg)
{
    struct uftpd *d = arg;
    (void)fd;
    (void)what;
    for (int i = 0; i < UFTPD_RX_CALLS; i++) {
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
        /* Blocks are decrypted in place and written from these buffers without a copy. */
        store_batch_begin(&d->store, d->rx.mem, d->rx.nbufs * d->rx.bufsz);
        while (net_rx_next(&it, &dg)) {
            const struct addr *to = addr_is_set(&dg.meta->dst) ? &dg.meta->dst : NULL;
            receiver_recv(d->eng, &dg.meta->src, to, dg.data, dg.len,
                          dg.meta->tos < 0 ? 0 : (uint8_t)dg.meta->tos, now);
        }
        store_batch_end(&d->store);
        /* Replies (NAKs, COMPLETE) go out between batches, not after the flood. */
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
    struct uftpd *d = arg;
    (void)fd;
    (void)what;
    /* Commands still running are killed by runner_free(). */
    log_warnx("shutdown took too long, exiting");
    d->finished = true;
    event_base_loopbreak(d->base);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    struct uftpd *d = arg;
    (void)what;
    if (sig == SIGHUP) {
        /* Sessions in progress keep running (life.c). */
        if (!d->stopping)
            uftpd_reload(d);
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
    /* Every session is aborted: ABORT to its server (spec §1.4), files discarded. */
    receiver_shutdown(d->eng, daemon_mono_us());
    uftpd_life_stop(d);
    /* ABORTs go out at once and post-receive commands get their grace period;
     * never hang (systemd's TimeoutStopSec is 30 s). */
    struct timeval tv = {UFTPD_STOP_SECS, 0};
    evtimer_add(d->ev_quit, &tv);
    drive(d);
}

void uftpd_free_loop(struct uftpd *d)
{
    struct event **evs[] = {&d->ev_read, &d->ev_write, &d->ev_timer, &d->ev_int,
                            &d->ev_term, &d->ev_hup,   &d->ev_quit};
    for (size_t i = 0; i < sizeof(evs) / sizeof(evs[0]); i++) {
        if (*evs[i] != NULL)
            event_free(*evs[i]);
        *evs[i] = NULL;
    }
    if (d->base != NULL)
        event_base_free(d->base);
    d->base = NULL;
}

int uftpd_run(struct uftpd *d)
{
    /* Pacing needs sub-millisecond timers (timerfd), not epoll's milliseconds. */
    struct event_config *ec = event_config_new();
    if (ec != NULL) {
        event_config_set_flag(ec, EVENT_BASE_FLAG_PRECISE_TIMER);
        d->base = event_base_new_with_config(ec);
        event_config_free(ec);
    }
    if (d->base == NULL) {
        log_errx("cannot create the event loop");
        return 5;
    }
    d->ev_read = event_new(d->base, d->sock.fd, EV_READ | EV_PERSIST, on_read, d);
    d->ev_write = event_new(d->base, d->sock.fd, EV_WRITE, on_write, d);
    d->ev_timer = evtimer_new(d->base, on_timer, d);
    d->ev_quit = evtimer_new(d->base, on_quit, d);
    d->ev_int = evsignal_new(d->base, SIGINT, on_signal, d);
    d->ev_term = evsignal_new(d->base, SIGTERM, on_signal, d);
    d->ev_hup = evsignal_new(d->base, SIGHUP, on_signal, d);
    if (!d->ev_read || !d->ev_write || !d->ev_timer || !d->ev_quit || !d->ev_int || !d->ev_term ||
        !d->ev_hup) {
        log_errx("cannot create events");
        return 5;
    }
    if (uftpd_life_start(d) < 0) {
        log_errx("cannot create the post-receive runner");
        return 5;
    }
    event_add(d->ev_read, NULL);
    event_add(d->ev_int, NULL);
    event_add(d->ev_term, NULL);
    event_add(d->ev_hup, NULL);
    drive(d); /* the first polls join the public groups */
    /* Started: the waiting parent exits 0 (daemon mode), systemd hears READY=1. */
    daemon_detach_done(0);
    uftpd_notify_ready(d);
    if (!d->finished)
        event_base_dispatch(d->base);
    return d->exit_code;
}
