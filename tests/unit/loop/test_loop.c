/*
 * The service runner (core/loop) with a fake engine over loopback UDP:
 * batched sends in whole GSO chunks, a held send on EAGAIN (socket
 * writable) and ENOBUFS (a timer) with the engine not polled meanwhile,
 * datagrams that cannot be sent dropped one by one and logged once per
 * destination, receive batches with the engine driven between them,
 * bounded bursts (an engine that always has more to send), memberships,
 * the first and second SIGTERM, the grace timer, SIGHUP, the tick, the
 * done hook and the watch.
 */
#include <errno.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/daemon/daemon.h"
#include "core/log.h"
#include "core/loop/loop.h"
#include "core/net/addr.h"
#include "core/net/sock.h"
#include "cu.h"

struct fake;
typedef int (*script_fn)(struct fake *f, uint64_t now, struct eng_out *o);

struct fake {
    script_fn script;
    int polls, stops, recvs, hups, ticks, watches, dones, started;
    int step;
    bool pending;      /* a SEND made and not yet accepted by test_send */
    bool polled_held;  /* polled while a SEND was pending: must never happen */
    bool in_batch;     /* between rx_begin and rx_end */
    bool recv_outside; /* a datagram outside a batch */
    int batches;
    int recvs_at_poll[64]; /* recvs seen by each poll (first 64) */
    size_t max_seg_seen[64];
    uint64_t deadline;
    struct addr peer; /* where SENDs go */
    /* test_send's behaviour */
    int send_calls;
    int fail_first; /* this many calls return fail_err */
    int fail_err;
    int always_err; /* every call to fail_dst returns this */
    struct addr fail_dst;
    uint64_t send_us[8];
    struct loop *loop;
    int sig_at_tick[4]; /* raise SIGTERM at these ticks (0 = none) */
    int hup_at_tick;
    int watch_fd; /* read by the first watch */
};

static struct fake F;

static int f_poll(void *e, uint64_t now, struct eng_out *o)
{
    struct fake *f = e;
    if (f->pending)
        f->polled_held = true;
    if (f->polls < 64) {
        f->recvs_at_poll[f->polls] = f->recvs;
        f->max_seg_seen[f->polls] = o->max_seg;
    }
    f->polls++;
    eng_out_reset(o);
    int k = f->script(f, now, o);
    o->kind = k;
    if (k == ENG_SEND)
        f->pending = f->always_err == 0; /* the drop test's sends never go */
    return k;
}

static uint64_t f_deadline(void *e)
{
    return ((struct fake *)e)->deadline;
}

static void f_recv(void *e, const struct addr *from, const struct addr *to, uint8_t *pkt,
                   size_t len, uint8_t tos, uint64_t now)
{
    struct fake *f = e;
    (void)from, (void)to, (void)pkt, (void)len, (void)tos, (void)now;
    f->recvs++;
    if (!f->in_batch)
        f->recv_outside = true;
}

static void f_stop(void *e, uint64_t now)
{
    (void)now;
    ((struct fake *)e)->stops++;
}

static int t_send(void *arg, const struct addr *dst, const uint8_t *buf, size_t len, size_t seg)
{
    struct fake *f = arg;
    (void)buf;
    if (f->send_calls < 8)
        f->send_us[f->send_calls] = daemon_mono_us();
    f->send_calls++;
    if (f->always_err != 0 && addr_equal(dst, &f->fail_dst))
        return f->always_err;
    if (f->fail_first > 0) {
        f->fail_first--;
        return f->fail_err;
    }
    f->pending = false;
    return (int)((len + seg - 1) / seg);
}

static void h_rx_begin(void *ctx, const void *mem, size_t len)
{
    struct fake *f = ctx;
    CU_ASSERT_PTR_NOT_NULL(mem);
    CU_ASSERT(len > 0);
    f->in_batch = true;
    f->batches++;
}

static void h_rx_end(void *ctx)
{
    ((struct fake *)ctx)->in_batch = false;
}

static void h_tick(void *ctx, uint64_t now)
{
    struct fake *f = ctx;
    (void)now;
    f->ticks++;
    for (int i = 0; i < 4; i++)
        if (f->sig_at_tick[i] == f->ticks)
            raise(SIGTERM);
    if (f->hup_at_tick == f->ticks)
        raise(SIGHUP);
}

static void h_hup(void *ctx)
{
    ((struct fake *)ctx)->hups++;
}

static void h_started(void *ctx)
{
    ((struct fake *)ctx)->started++;
}

static void h_done(void *ctx, int code)
{
    struct fake *f = ctx;
    (void)code;
    f->dones++;
}

static void h_watch(void *ctx)
{
    struct fake *f = ctx;
    uint8_t b;
    if (++f->watches == 1) {
        CU_ASSERT_EQUAL(read(f->watch_fd, &b, 1), 1);
        loop_watch_at(f->loop, daemon_mono_us() + 10000); /* once more, by the timer */
    } else {
        loop_exit(f->loop);
    }
}

/* ---- sockets ---- */

static struct net_sock S; /* the loop's */
static int peer_fd = -1;

static void open_socks(void)
{
    struct net_sock_opts o;
    net_sock_opts_init(&o, AF_INET);
    o.rcvbuf = 1 << 20;
    o.sndbuf = 1 << 20;
    net_addr_parse(&o.bind, "127.0.0.1", 0);
    CU_ASSERT_EQUAL_FATAL(net_sock_open(&S, &o), 0);
    peer_fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    CU_ASSERT_FATAL(peer_fd >= 0);
    int big = 4 << 20;
    setsockopt(peer_fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    CU_ASSERT_EQUAL_FATAL(bind(peer_fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    socklen_t sl = sizeof(sa);
    getsockname(peer_fd, (struct sockaddr *)&sa, &sl);
    memset(&F, 0, sizeof(F));
    net_addr_parse(&F.peer, "127.0.0.1", ntohs(sa.sin_port));
    F.deadline = ENG_NEVER;
}

static void close_socks(void)
{
    net_sock_close(&S);
    close(peer_fd);
    peer_fd = -1;
}

/* Datagrams waiting at the peer (within 1 s). */
static int peer_drain(void)
{
    int n = 0;
    uint8_t b[9000];
    struct pollfd p = {.fd = peer_fd, .events = POLLIN};
    while (poll(&p, 1, n == 0 ? 1000 : 50) > 0 && recv(peer_fd, b, sizeof(b), 0) >= 0)
        n++;
    return n;
}

/* n datagrams of len bytes from the peer to the loop's socket. */
static void peer_send(int n, size_t len)
{
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
                             .sin_port = htons(S.port)};
    uint8_t b[1500] = {0};
    for (int i = 0; i < n; i++)
        CU_ASSERT_EQUAL(sendto(peer_fd, b, len, 0, (struct sockaddr *)&sa, sizeof(sa)),
                        (ssize_t)len);
}

static struct loop_config config(void)
{
    return (struct loop_config){
        .name = "fake",
        .sock = &S,
        .engine = {&F, f_poll, f_deadline, f_recv, f_stop},
        .hooks = {.ctx = &F, .rx_begin = h_rx_begin, .rx_end = h_rx_end, .started = h_started},
        .max_seg = ENG_MAX_SEG,
        .forced_exit = 99,
    };
}

static int run(const struct loop_config *c)
{
    CU_ASSERT_EQUAL_FATAL(loop_new(&F.loop, c), 0);
    alarm(20); /* a loop that never ends fails the test */
    int rc = loop_run(F.loop);
    alarm(0);
    return rc;
}

/* A batch of n datagrams of seg bytes to the peer. */
static int make_send(struct fake *f, struct eng_out *o, size_t n, size_t seg)
{
    o->dst = f->peer;
    o->seglen = seg;
    o->nseg = n;
    o->len = n * seg;
    memset(o->buf, 0xab, o->len);
    return ENG_SEND;
}

/* ---- sends ---- */

static int s_one_big(struct fake *f, uint64_t now, struct eng_out *o)
{
    (void)now;
    switch (f->step++) {
    case 0:
        return make_send(f, o, 64, 1324);
    case 1:
        return make_send(f, o, 3, 1324);
    default:
        o->exit_code = 7;
        return ENG_DONE;
    }
}

static void test_gso_chunks(void)
{
    open_socks();
    F.script = s_one_big;
    struct loop_config c = config();
    CU_ASSERT_EQUAL(run(&c), 7);
    CU_ASSERT_EQUAL(F.started, 1);
    CU_ASSERT_EQUAL(peer_drain(), 67);
    struct net_tx_stats t = loop_stats(F.loop).tx;
    CU_ASSERT_EQUAL(t.dgrams, 67);
    if (t.gso_sends > 0) {
        /* 64 of 1324 bytes: 49 + 15 (64 KiB per GSO send); then batches of 49. */
        CU_ASSERT_EQUAL(t.gso_sends, 3);
        CU_ASSERT_EQUAL(F.max_seg_seen[0], 64);
        CU_ASSERT_EQUAL(F.max_seg_seen[1], 49);
    }
    loop_free(F.loop);
    close_socks();
}

/* One datagram, then done once it went: the engine must not be polled while it waits. */
static int s_send_then_done(struct fake *f, uint64_t now, struct eng_out *o)
{
    (void)now;
    if (f->step++ == 0)
        return make_send(f, o, 4, 1000);
    o->exit_code = 0;
    return ENG_DONE;
}

static void test_eagain_held(void)
{
    open_socks();
    F.script = s_send_then_done;
    F.fail_first = 1;
    F.fail_err = -EAGAIN;
    struct loop_config c = config();
    c.test_send = t_send;
    c.test_arg = &F;
    CU_ASSERT_EQUAL(run(&c), 0);
    CU_ASSERT_EQUAL(F.send_calls, 2); /* refused, then all of it when writable */
    CU_ASSERT_FALSE(F.polled_held);
    CU_ASSERT_EQUAL(F.polls, 2);
    CU_ASSERT_EQUAL(loop_stats(F.loop).held, 1);
    CU_ASSERT_EQUAL(loop_stats(F.loop).dropped, 0);
    loop_free(F.loop);
    close_socks();
}

static void test_enobufs_timer(void)
{
    open_socks();
    F.script = s_send_then_done;
    F.fail_first = 2;
    F.fail_err = -ENOBUFS;
    struct loop_config c = config();
    c.test_send = t_send;
    c.test_arg = &F;
    CU_ASSERT_EQUAL(run(&c), 0);
    CU_ASSERT_EQUAL(F.send_calls, 3);
    CU_ASSERT_FALSE(F.polled_held);
    CU_ASSERT_EQUAL(F.polls, 2);
    /* Each retry waits for the device queue: LOOP_NOBUFS_US at least. */
    CU_ASSERT(F.send_us[1] - F.send_us[0] >= LOOP_NOBUFS_US);
    CU_ASSERT(F.send_us[2] - F.send_us[1] >= LOOP_NOBUFS_US);
    CU_ASSERT_EQUAL(loop_stats(F.loop).held, 1);
    loop_free(F.loop);
    close_socks();
}

static int s_three_to_a_one_to_b(struct fake *f, uint64_t now, struct eng_out *o)
{
    (void)now;
    int k = f->step++;
    if (k < 3) {
        make_send(f, o, 5, 1000);
        o->dst = f->fail_dst;
        return ENG_SEND;
    }
    if (k == 3) {
        make_send(f, o, 1, 1000);
        net_addr_parse(&o->dst, "127.0.0.2", 9);
        f->fail_dst = o->dst; /* B fails too from now on */
        return ENG_SEND;
    }
    if (k == 4)
        return make_send(f, o, 2, 1000); /* to the peer: goes */
    o->exit_code = 0;
    return ENG_DONE;
}

static int count_lines(const char *path, const char *what)
{
    FILE *fp = fopen(path, "r");
    if (fp == NULL)
        return -1;
    char line[512];
    int n = 0;
    while (fgets(line, sizeof(line), fp) != NULL)
        n += strstr(line, what) != NULL;
    fclose(fp);
    return n;
}

static void test_unsendable_dropped(void)
{
    open_socks();
    char path[] = "/tmp/test_loop_log.XXXXXX";
    int fd = mkstemp(path);
    CU_ASSERT_FATAL(fd >= 0);
    close(fd);
    CU_ASSERT_EQUAL_FATAL(log_open_file(path, 0, 0), 0);
    F.script = s_three_to_a_one_to_b;
    F.always_err = -ENETUNREACH;
    net_addr_parse(&F.fail_dst, "127.0.0.3", 9);
    struct loop_config c = config();
    c.test_send = t_send;
    c.test_arg = &F;
    CU_ASSERT_EQUAL(run(&c), 0);
    log_close();
    log_init("test_loop", LL_INFO);
    /* Every datagram tried on its own and dropped alone; the peer's two went. */
    CU_ASSERT_EQUAL(loop_stats(F.loop).dropped, 16);
    CU_ASSERT_EQUAL(F.send_calls, 15 + 1 + 1);
    /* One log line per destination. */
    CU_ASSERT_EQUAL(count_lines(path, "cannot send to 127.0.0.3:9"), 1);
    CU_ASSERT_EQUAL(count_lines(path, "cannot send to 127.0.0.2:9"), 1);
    unlink(path);
    loop_free(F.loop);
    close_socks();
}

/* ---- receive ---- */

/* Nothing to send; done once 40 datagrams came in. */
static int s_wait_for_40(struct fake *f, uint64_t now, struct eng_out *o)
{
    (void)now;
    if (f->recvs < 40)
        return ENG_NONE;
    o->exit_code = 0;
    return ENG_DONE;
}

static void test_receive_batches(void)
{
    open_socks();
    F.script = s_wait_for_40;
    peer_send(40, 100);
    struct loop_config c = config();
    CU_ASSERT_EQUAL(run(&c), 0);
    CU_ASSERT_EQUAL(F.recvs, 40);
    CU_ASSERT_FALSE(F.recv_outside);
    /* LOOP_RX_BUFS per batch, the engine polled after each. */
    CU_ASSERT_EQUAL(F.batches, 3);
    bool after16 = false, after32 = false;
    for (int i = 0; i < F.polls && i < 64; i++) {
        after16 |= F.recvs_at_poll[i] == LOOP_RX_BUFS;
        after32 |= F.recvs_at_poll[i] == 2 * LOOP_RX_BUFS;
    }
    CU_ASSERT(after16);
    CU_ASSERT(after32);
    CU_ASSERT_EQUAL(loop_stats(F.loop).rx.dgrams, 40);
    loop_free(F.loop);
    close_socks();
}

/* Always more to send (unpaced): the loop must still read, and tick. */
static int s_flood(struct fake *f, uint64_t now, struct eng_out *o)
{
    (void)now;
    if (f->recvs >= 5 && f->ticks >= 2) {
        o->exit_code = 0;
        return ENG_DONE;
    }
    return make_send(f, o, 2, 1000);
}

static void test_burst_reads(void)
{
    open_socks();
    F.script = s_flood;
    peer_send(5, 100);
    struct loop_config c = config();
    c.test_send = t_send;
    c.test_arg = &F;
    c.hooks.tick = h_tick;
    c.tick_us = 20000;
    CU_ASSERT_EQUAL(run(&c), 0);
    CU_ASSERT_EQUAL(F.recvs, 5);
    /* Read after at most LOOP_BURST sends (and a kick), not after the engine ran dry. */
    bool read_early = false;
    for (int i = 0; i <= 2 * LOOP_BURST && i < 64; i++)
        read_early |= F.recvs_at_poll[i] == 5;
    CU_ASSERT(read_early);
    CU_ASSERT(F.ticks >= 2);
    CU_ASSERT_FALSE(F.polled_held);
    loop_free(F.loop);
    close_socks();
}

/* ---- memberships ---- */

static int s_members(struct fake *f, uint64_t now, struct eng_out *o)
{
    (void)now;
    int k = f->step++;
    struct addr g;
    net_addr_parse(&g, "239.1.2.3", 0);
    switch (k) {
    case 0: /* on the configured interfaces */
        o->group = g;
        return ENG_JOIN;
    case 1:
        f->deadline = 0; /* look at it before the leave */
        return ENG_NONE;
    case 2:
        CU_ASSERT_TRUE(loop_joined(f->loop, &g, NULL, if_nametoindex("lo")));
        o->group = g;
        return ENG_LEAVE;
    case 3:
        o->group = g;
        o->ifindex = 999999; /* no such interface: logged, the loop goes on */
        return ENG_JOIN;
    default:
        CU_ASSERT_FALSE(loop_joined(f->loop, &g, NULL, if_nametoindex("lo")));
        o->exit_code = 5;
        return ENG_DONE;
    }
}

static void test_memberships(void)
{
    open_socks();
    F.script = s_members;
    unsigned int lo = if_nametoindex("lo");
    CU_ASSERT_FATAL(lo > 0);
    struct loop_config c = config();
    c.ifindex = &lo;
    c.nif = 1;
    CU_ASSERT_EQUAL(run(&c), 5);
    CU_ASSERT_EQUAL(F.step, 5);
    CU_ASSERT_EQUAL(loop_stats(F.loop).joins_failed, 1);
    loop_free(F.loop);
    close_socks();
}

/* ---- signals, tick, hooks ---- */

/* Idle until stopped, then done at once (or never, with step < 0). */
static int s_until_stopped(struct fake *f, uint64_t now, struct eng_out *o)
{
    (void)now;
    if (f->stops == 0 || f->step < 0)
        return ENG_NONE;
    o->exit_code = 3;
    return ENG_DONE;
}

static void test_stop(void)
{
    open_socks();
    F.script = s_until_stopped;
    F.sig_at_tick[0] = 2;
    F.hup_at_tick = 1;
    struct loop_config c = config();
    c.hooks.tick = h_tick;
    c.hooks.hup = h_hup;
    c.tick_us = 10000;
    CU_ASSERT_EQUAL(run(&c), 3);
    CU_ASSERT_EQUAL(F.stops, 1);
    CU_ASSERT_EQUAL(F.hups, 1);
    CU_ASSERT_EQUAL(F.ticks, 2);
    loop_free(F.loop);
    close_socks();
}

static void test_second_signal(void)
{
    open_socks();
    F.script = s_until_stopped;
    F.step = -1; /* never done */
    F.sig_at_tick[0] = 1;
    F.sig_at_tick[1] = 3;
    F.hup_at_tick = 2; /* ignored while stopping */
    struct loop_config c = config();
    c.hooks.tick = h_tick;
    c.hooks.hup = h_hup;
    c.tick_us = 10000;
    CU_ASSERT_EQUAL(run(&c), 99); /* forced_exit */
    CU_ASSERT_EQUAL(F.stops, 1);
    CU_ASSERT_EQUAL(F.hups, 0);
    CU_ASSERT_EQUAL(F.ticks, 3);
    loop_free(F.loop);
    close_socks();
}

static void test_grace(void)
{
    open_socks();
    F.script = s_until_stopped;
    F.step = -1;
    F.sig_at_tick[0] = 1;
    struct loop_config c = config();
    c.hooks.tick = h_tick;
    c.tick_us = 10000;
    c.stop_grace_us = 50000;
    uint64_t t0 = daemon_mono_us();
    CU_ASSERT_EQUAL(run(&c), 99);
    uint64_t took = daemon_mono_us() - t0;
    CU_ASSERT(took >= 60000); /* the first tick, then the grace */
    CU_ASSERT_EQUAL(F.stops, 1);
    loop_free(F.loop);
    close_socks();
}

/* The done hook keeps the loop until the program ends it (here: the second watch). */
static int s_done_at_once(struct fake *f, uint64_t now, struct eng_out *o)
{
    (void)f, (void)now;
    o->exit_code = 4;
    return ENG_DONE;
}

static void test_done_hook_and_watch(void)
{
    open_socks();
    F.script = s_done_at_once;
    int p[2];
    CU_ASSERT_EQUAL_FATAL(pipe(p), 0);
    F.watch_fd = p[0];
    CU_ASSERT_EQUAL(write(p[1], "x", 1), 1);
    struct loop_config c = config();
    c.hooks.done = h_done;
    c.hooks.watch = h_watch;
    c.watch_fd = p[0];
    CU_ASSERT_EQUAL_FATAL(loop_new(&F.loop, &c), 0);
    alarm(20);
    int rc = loop_run(F.loop);
    alarm(0);
    CU_ASSERT_EQUAL(rc, 4);
    CU_ASSERT_EQUAL(F.dones, 1);
    CU_ASSERT_EQUAL(F.polls, 1);   /* never polled after ENG_DONE */
    CU_ASSERT_EQUAL(F.watches, 2); /* the readable pipe, then the timer */
    close(p[0]);
    close(p[1]);
    loop_free(F.loop);
    close_socks();
}

static void test_bad_config(void)
{
    open_socks();
    struct loop_config c = config();
    c.engine.stop = NULL;
    struct loop *l = (struct loop *)1;
    CU_ASSERT_EQUAL(loop_new(&l, &c), -EINVAL);
    CU_ASSERT_PTR_NULL(l);
    loop_free(NULL);
    close_socks();
}

static const struct cu_test loop_tests[] = {
    {"a 64-datagram batch leaves in whole GSO sends", test_gso_chunks},
    {"EAGAIN holds the send until writable, no poll meanwhile", test_eagain_held},
    {"ENOBUFS retries on a timer, no poll meanwhile", test_enobufs_timer},
    {"an unsendable datagram is dropped alone, logged once per destination",
     test_unsendable_dropped},
    {"receive batches with the engine driven between them", test_receive_batches},
    {"an engine that always sends does not starve reads or ticks", test_burst_reads},
    {"joins and leaves on the configured interfaces", test_memberships},
    {"SIGTERM stops the engine once; SIGHUP hook", test_stop},
    {"a second signal ends the loop; SIGHUP ignored while stopping", test_second_signal},
    {"the grace timer ends a stop that takes too long", test_grace},
    {"the done hook, the watch fd and its timer", test_done_hook_and_watch},
    {"a missing engine function is refused", test_bad_config},
    {NULL, NULL}};

CU_MAIN({"loop", loop_tests})
