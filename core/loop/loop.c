/*
 * The service runner (loop.h; DESIGN.md "The runner" and "The path of a
 * data packet"): one output buffer the engine writes each SEND into, sent
 * in GSO chunks of whole datagrams; receive buffers filled by recvmmsg and
 * split into datagrams for the engine.
 */
#include "core/loop/loop.h"

#include <errno.h>
#include <event2/event.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/daemon/daemon.h"
#include "core/log.h"
#include "core/net/addr.h"
#include "core/net/mcast.h"
#include "core/wire/wire.h"

/* Destinations whose failed sends are remembered for the log's rate limit. */
#define DROP_SLOTS 8

struct drop_slot {
    struct addr dst;
    uint64_t last_us;    /* last logged; 0 = free slot */
    uint64_t suppressed; /* dropped since, not logged */
};

struct loop {
    struct loop_config cfg;
    struct net_tx tx;
    struct net_rx rx;
    struct net_mcast mc;
    struct event_base *base;
    struct event *ev_read, *ev_write, *ev_timer, *ev_kick, *ev_quit, *ev_tick, *ev_int, *ev_term,
        *ev_hup, *ev_watch, *ev_watch_timer;

    uint8_t *buf; /* cfg.max_seg datagrams of the largest size */
    size_t cap;
    struct eng_out out;
    size_t max_seg; /* whole GSO sends of the last batch's size (see round_batch) */
    bool held;      /* out holds datagrams the socket did not take yet */
    size_t sent;    /* of which this many went */
    bool stopping, finished, exiting;
    int exit_code;
    struct drop_slot drops[DROP_SLOTS];
    struct loop_stats st;
};

static struct timeval tv_of(uint64_t us)
{
    return (struct timeval){(time_t)(us / 1000000u), (suseconds_t)(us % 1000000u)};
}

static void timer_at(struct event *ev, uint64_t when, uint64_t now)
{
    if (when == UINT64_MAX) {
        evtimer_del(ev);
        return;
    }
    struct timeval tv = tv_of(when > now ? when - now : 0);
    evtimer_add(ev, &tv);
}

static void kick(struct loop *l, uint64_t delay_us)
{
    struct timeval tv = tv_of(delay_us);
    evtimer_add(l->ev_kick, &tv);
}

/* ---- send ---- */

/* A datagram that cannot go at all: counted, its destination named once per interval. */
static void dropped(struct loop *l, const struct addr *dst, int err)
{
    uint64_t now = daemon_mono_us();
    struct drop_slot *s = NULL, *oldest = &l->drops[0];
    l->st.dropped++;
    for (size_t i = 0; i < DROP_SLOTS && s == NULL; i++) {
        if (l->drops[i].last_us != 0 && addr_equal(&l->drops[i].dst, dst))
            s = &l->drops[i];
        else if (l->drops[i].last_us < oldest->last_us)
            oldest = &l->drops[i];
    }
    if (s != NULL && now - s->last_us < LOOP_DROP_LOG_US) {
        s->suppressed++;
        return;
    }
    if (s == NULL) {
        s = oldest;
        *s = (struct drop_slot){.dst = *dst};
    }
    char ab[ADDR_STRLEN];
    if (s->suppressed > 0)
        log_warnx("cannot send to %s: %s (%" PRIu64 " more dropped since)", addr_str(dst, ab),
                  strerror(-err), s->suppressed);
    else
        log_warnx("cannot send to %s: %s", addr_str(dst, ab), strerror(-err));
    s->last_us = now ? now : 1;
    s->suppressed = 0;
}

static int send_chunk(struct loop *l, const struct eng_out *o, size_t off, size_t len, size_t nseg)
{
    if (l->cfg.test_send != NULL)
        return l->cfg.test_send(l->cfg.test_arg, &o->dst, o->buf + off, len, o->seglen);
    if (nseg == 1) {
        struct net_dgram d = {.dst = &o->dst, .buf = o->buf + off, .len = len};
        return net_tx_send(&l->tx, &d, 1);
    }
    return net_tx_send_gso_buf(&l->tx, &o->dst, o->buf + off, len, o->seglen);
}

/*
 * Sends what is left of out, one GSO send (at most 64 KiB of UDP payload:
 * 49 datagrams of 1324 bytes) at a time, each all or nothing. Returns true
 * when it is all gone, false when it is held for the socket.
 */
static bool flush(struct loop *l)
{
    const struct eng_out *o = &l->out;
    while (l->sent < o->nseg) {
        size_t off = l->sent * o->seglen;
        size_t n = o->nseg - l->sent;
        size_t chunk = net_gso_max_segs(net_addr_af(&o->dst), o->seglen);
        if (chunk == 0)
            chunk = 1;
        if (n > chunk)
            n = chunk;
        size_t len = n * o->seglen;
        if (off + len > o->len)
            len = o->len - off;
        int r = send_chunk(l, o, off, len, n);
        if (r > 0) {
            l->sent += (size_t)r;
            continue;
        }
        if (r == -EAGAIN || r == -ENOBUFS) {
            /* Sequence numbers are spent: hold it, poll the engine only when it is gone. */
            if (!l->held)
                l->st.held++;
            l->held = true;
            if (r == -EAGAIN)
                event_add(l->ev_write, NULL);
            else
                kick(l, LOOP_NOBUFS_US);
            return false;
        }
        /* Cannot go at all (no route, ...): drop this one as a lost packet. */
        dropped(l, &o->dst, r);
        l->sent++;
    }
    l->held = false;
    return true;
}

/*
 * Data batches sized to whole GSO sends: a GSO send carries at most
 * net_gso_max_segs() datagrams (49 of 1324 bytes), so a batch of 64 would
 * leave as 49 + 15 and cost the kernel two passes for 64 packets.
 */
static void round_batch(struct loop *l)
{
    size_t g = net_gso_max_segs(net_addr_af(&l->out.dst), l->out.seglen);
    size_t m = l->cfg.max_seg;
    if (l->tx.gso && g > 0 && g < m)
        m = (m / g) * g;
    l->max_seg = m;
}

/* ---- the engine ---- */

static void membership(struct loop *l, bool join)
{
    const struct eng_out *o = &l->out;
    const struct addr *src = addr_is_set(&o->source) ? &o->source : NULL;
    static const unsigned int by_route = 0;
    unsigned int one = o->ifindex;
    const unsigned int *list = o->ifindex ? &one : l->cfg.nif ? l->cfg.ifindex : &by_route;
    size_t n = o->ifindex || l->cfg.nif == 0 ? 1 : l->cfg.nif;
    char ga[ADDR_STRLEN], sa[ADDR_STRLEN];
    for (size_t i = 0; i < n; i++) {
        int rc = join ? net_mcast_join(&l->mc, &o->group, src, list[i])
                      : net_mcast_leave(&l->mc, &o->group, src, list[i]);
        if (rc < 0 && !(rc == -ENOENT && !join)) {
            l->st.joins_failed += join;
            log_warnx("cannot %s %s%s%s on interface %u: %s", join ? "join" : "leave",
                      addr_str(&o->group, ga), src ? " from " : "", src ? addr_str(src, sa) : "",
                      list[i], strerror(-rc));
        } else if (rc == 0) {
            log_debug("%s %s%s%s on interface %u", join ? "joined" : "left",
                      addr_str(&o->group, ga), src ? " from " : "", src ? addr_str(src, sa) : "",
                      list[i]);
        }
    }
}

static void finish(struct loop *l, int code)
{
    l->finished = true;
    l->exit_code = code;
    evtimer_del(l->ev_timer);
    evtimer_del(l->ev_kick);
    if (l->cfg.hooks.done != NULL)
        l->cfg.hooks.done(l->cfg.hooks.ctx, code);
    else
        loop_exit(l);
}

/* Polls the engine and acts on its outputs until it has nothing to say now. */
static void drive(struct loop *l)
{
    if (l->finished || (l->held && !flush(l)))
        return;
    const struct loop_engine *e = &l->cfg.engine;
    uint64_t now = daemon_mono_us();
    for (int batches = 0;;) {
        if (batches >= LOOP_BURST) {
            kick(l, 0); /* read what came in first */
            break;
        }
        l->out.buf = l->buf;
        l->out.cap = l->cap;
        l->out.max_seg = l->max_seg;
        l->st.polls++;
        int k = e->poll(e->eng, now, &l->out);
        if (k < 0) {
            log_errx("%s engine: poll failed: %s", l->cfg.name, eng_strerror(k));
            if (l->cfg.fail_exit != 0) {
                finish(l, l->cfg.fail_exit);
                return;
            }
            break;
        }
        if (k == ENG_NONE)
            break;
        if (k == ENG_DONE) {
            finish(l, l->out.exit_code);
            return;
        }
        if (k == ENG_JOIN || k == ENG_LEAVE) {
            membership(l, k == ENG_JOIN);
            continue;
        }
        if (k != ENG_SEND)
            continue;
        if (l->cfg.hooks.send != NULL)
            l->cfg.hooks.send(l->cfg.hooks.ctx, &l->out);
        l->sent = 0;
        if (l->out.nseg > 1) {
            batches++;
            round_batch(l);
        }
        if (!flush(l))
            return;
        now = daemon_mono_us();
    }
    timer_at(l->ev_timer, e->deadline(e->eng), now);
}

/* ---- events ---- */

static void on_read(evutil_socket_t fd, short what, void *arg)
{
    struct loop *l = arg;
    (void)fd;
    (void)what;
    const struct loop_engine *e = &l->cfg.engine;
    const struct loop_hooks *h = &l->cfg.hooks;
    for (int i = 0; i < LOOP_RX_CALLS; i++) {
        int n = net_rx_recv(&l->rx, l->cfg.sock);
        if (n < 0) {
            if (n != -EAGAIN)
                log_warnx("receive: %s", strerror(-n));
            break;
        }
        uint64_t now = daemon_mono_us();
        struct net_rx_iter it;
        struct net_rx_dgram d;
        net_rx_iter_init(&it, &l->rx);
        if (h->rx_begin != NULL)
            h->rx_begin(h->ctx, l->rx.mem, l->rx.nbufs * l->rx.bufsz);
        while (net_rx_next(&it, &d)) {
            const struct addr *to = addr_is_set(&d.meta->dst) ? &d.meta->dst : NULL;
            e->recv(e->eng, &d.meta->src, to, d.data, d.len,
                    d.meta->tos < 0 ? 0 : (uint8_t)d.meta->tos, now);
        }
        if (h->rx_end != NULL)
            h->rx_end(h->ctx);
        /* Replies go out between batches, not after the flood. */
        drive(l);
        if (l->finished || l->held)
            break;
    }
}

static void on_drive(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    drive(arg);
}

static void on_quit(evutil_socket_t fd, short what, void *arg)
{
    struct loop *l = arg;
    (void)fd;
    (void)what;
    log_warnx("shutdown took too long, exiting");
    l->finished = true;
    loop_exit(l);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    struct loop *l = arg;
    (void)fd;
    (void)what;
    l->cfg.hooks.tick(l->cfg.hooks.ctx, daemon_mono_us());
}

static void on_watch(evutil_socket_t fd, short what, void *arg)
{
    struct loop *l = arg;
    (void)fd;
    (void)what;
    l->cfg.hooks.watch(l->cfg.hooks.ctx);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    struct loop *l = arg;
    const struct loop_hooks *h = &l->cfg.hooks;
    (void)what;
    if (sig == SIGHUP) {
        if (!l->stopping)
            h->hup(h->ctx);
        return;
    }
    if (l->stopping) {
        log_warnx("second signal, exiting now");
        l->finished = true;
        loop_exit(l);
        return;
    }
    l->stopping = true;
    log_info("%s: %s", sig == SIGINT ? "interrupted" : "terminated",
             l->cfg.stop_words ? l->cfg.stop_words : "stopping");
    const struct loop_engine *e = &l->cfg.engine;
    if (!l->finished)
        e->stop(e->eng, daemon_mono_us());
    if (h->stop != NULL)
        h->stop(h->ctx);
    if (l->cfg.stop_grace_us != 0) {
        struct timeval tv = tv_of(l->cfg.stop_grace_us);
        evtimer_add(l->ev_quit, &tv);
    }
    drive(l);
}

/* ---- life ---- */

int loop_new(struct loop **out, const struct loop_config *cfg)
{
    *out = NULL;
    const struct loop_engine *e = &cfg->engine;
    if (cfg->sock == NULL || cfg->sock->fd < 0 || !e->poll || !e->deadline || !e->recv ||
        !e->stop) {
        log_errx("loop: no socket or engine");
        return -EINVAL;
    }
    struct loop *l = calloc(1, sizeof(*l));
    if (l == NULL)
        goto nomem;
    *out = l;
    l->cfg = *cfg;
    if (l->cfg.max_seg == 0)
        l->cfg.max_seg = 1;
    if (l->cfg.max_seg > ENG_MAX_SEG)
        l->cfg.max_seg = ENG_MAX_SEG;
    l->max_seg = l->cfg.max_seg;
    l->cap = l->cfg.max_seg * (UFTP_MAX_DATAGRAM + 64);
    l->buf = malloc(l->cap);
    /* GRO needs big buffers; without it datagrams are at most UFTP_MAX_DATAGRAM. */
    if (l->buf == NULL || net_rx_init(&l->rx, LOOP_RX_BUFS,
                                      cfg->sock->gro ? NET_RX_GRO_BUFSZ : UFTP_MAX_DATAGRAM) < 0)
        goto nomem;
    net_tx_init(&l->tx, cfg->sock);
    if (cfg->no_gso && l->tx.gso) {
        l->tx.gso = false;
        log_verbose("UDP GSO off (--no-gso): sending with sendmmsg");
    }
    const char *ff = getenv("UFTP_TEST_GSO_FAIL");
    if (ff != NULL && ff[0] != '\0' && strcmp(ff, "0") != 0) {
        l->tx.gso_force_fail = true;
        log_warnx("UFTP_TEST_GSO_FAIL is set: GSO sends fail as if the kernel refused them");
    }
    net_mcast_init(&l->mc, cfg->sock);

    struct event_config *ec = event_config_new();
    if (ec != NULL) {
        /* Pacing needs sub-millisecond timers (timerfd), not epoll's milliseconds. */
        event_config_set_flag(ec, EVENT_BASE_FLAG_PRECISE_TIMER);
        l->base = event_base_new_with_config(ec);
        event_config_free(ec);
    }
    if (l->base == NULL)
        goto nomem;
    const struct loop_hooks *h = &cfg->hooks;
    int fd = cfg->sock->fd;
    struct timeval tick = tv_of(cfg->tick_us);
    bool ok = (l->ev_read = event_new(l->base, fd, EV_READ | EV_PERSIST, on_read, l)) &&
              (l->ev_write = event_new(l->base, fd, EV_WRITE, on_drive, l)) &&
              (l->ev_timer = evtimer_new(l->base, on_drive, l)) &&
              (l->ev_kick = evtimer_new(l->base, on_drive, l)) &&
              (l->ev_quit = evtimer_new(l->base, on_quit, l)) &&
              (l->ev_int = evsignal_new(l->base, SIGINT, on_signal, l)) &&
              (l->ev_term = evsignal_new(l->base, SIGTERM, on_signal, l)) &&
              event_add(l->ev_read, NULL) == 0 && event_add(l->ev_int, NULL) == 0 &&
              event_add(l->ev_term, NULL) == 0;
    if (ok && h->hup != NULL) /* else SIGHUP keeps its disposition */
        ok = (l->ev_hup = evsignal_new(l->base, SIGHUP, on_signal, l)) &&
             event_add(l->ev_hup, NULL) == 0;
    if (ok && h->tick != NULL && cfg->tick_us != 0)
        ok = (l->ev_tick = event_new(l->base, -1, EV_PERSIST, on_tick, l)) &&
             event_add(l->ev_tick, &tick) == 0;
    if (ok && h->watch != NULL)
        ok = (l->ev_watch_timer = evtimer_new(l->base, on_watch, l)) &&
             (cfg->watch_fd < 0 || ((l->ev_watch = event_new(l->base, cfg->watch_fd,
                                                             EV_READ | EV_PERSIST, on_watch, l)) &&
                                    event_add(l->ev_watch, NULL) == 0));
    if (!ok)
        goto nomem;
    return 0;
nomem:
    log_errx("cannot create the event loop: out of memory");
    loop_free(l);
    *out = NULL;
    return -ENOMEM;
}

void loop_free(struct loop *l)
{
    if (l == NULL)
        return;
    struct event *evs[] = {l->ev_read, l->ev_write, l->ev_timer,      l->ev_kick,
                           l->ev_quit, l->ev_tick,  l->ev_int,        l->ev_term,
                           l->ev_hup,  l->ev_watch, l->ev_watch_timer};
    for (size_t i = 0; i < sizeof(evs) / sizeof(evs[0]); i++)
        if (evs[i] != NULL)
            event_free(evs[i]);
    if (l->base != NULL)
        event_base_free(l->base);
    net_mcast_free(&l->mc);
    net_rx_free(&l->rx);
    free(l->buf);
    free(l);
}

int loop_run(struct loop *l)
{
    l->exit_code = l->cfg.forced_exit;
    drive(l); /* the first polls join the public groups, send the first announcements */
    if (l->cfg.hooks.started != NULL)
        l->cfg.hooks.started(l->cfg.hooks.ctx);
    if (!l->exiting)
        event_base_dispatch(l->base);
    const struct net_tx_stats *t = &l->tx.st;
    const struct net_rx_stats *r = &l->rx.st;
    log_verbose("send path: %" PRIu64 " datagrams in %" PRIu64 " calls (%" PRIu64 " GSO, %" PRIu64
                " GSO fallbacks), %" PRIu64 " times blocked, %" PRIu64 " dropped",
                t->dgrams, t->syscalls, t->gso_sends, t->gso_fallbacks, t->blocked, l->st.dropped);
    log_verbose("receive path: %" PRIu64 " datagrams in %" PRIu64 " calls (%" PRIu64
                " coalesced buffers)",
                r->dgrams, r->syscalls, r->gro_bufs);
    return l->exit_code;
}

void loop_exit(struct loop *l)
{
    l->exiting = true; /* a break before the dispatch would be forgotten */
    event_base_loopbreak(l->base);
}

void loop_watch_at(struct loop *l, uint64_t when_us)
{
    if (l->ev_watch_timer != NULL)
        timer_at(l->ev_watch_timer, when_us, daemon_mono_us());
}

struct loop_stats loop_stats(const struct loop *l)
{
    struct loop_stats st = l->st;
    st.tx = l->tx.st;
    st.rx = l->rx.st;
    return st;
}

bool loop_joined(const struct loop *l, const struct addr *group, const struct addr *source,
                 unsigned int ifindex)
{
    return net_mcast_joined(&l->mc, group, source, ifindex);
}
