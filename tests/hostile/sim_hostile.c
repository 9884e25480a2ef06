/*
 * Issue 14 in virtual time (tests/sim): what the real-daemon tests cannot
 * wait for, with the engines' defaults.
 *
 *   sim_hostile [NAME [SEED]]      (run as tests/sim/scen.h says)
 *
 * register_storm  one cleartext ANNOUNCE claiming GRTT 1 us (code 0) and
 *                 robustness 1: REGISTERs uftpd's engine sends in 2 s
 *                 (main: one every 5 us until its 1 s expiry)
 * slots_receiver  100 forged ANNOUNCEs claiming GRTT 1000 s and robustness
 *                 255 (15 days of registration): when the last forged slot
 *                 is freed (target: within 60 s; the default unconfirmed
 *                 timeout is 30 s)
 * slots_proxy     the same at a server proxy (main: ROBUST x GRTT, ~3 days)
 * legit_flood     10,000 forged ANNOUNCEs in 2 s (GRTT 1000 s, robustness
 *                 255; the first 200 before the real sender's first
 *                 ANNOUNCE), a real session: it completes, its file arrives
 *
 * Each prints FIGURE lines; exit 0 when every target holds.
 */
#include <stdlib.h>
#include <string.h>

#include "core/base/quant.h"
#include "core/log.h"
#include "core/net/addr.h"
#include "core/wire/msg.h"
#include "scen.h"

/* A cleartext ANNOUNCE claiming grtt_code and robust, for group. */
static size_t announce(uint8_t *b, size_t cap, uint32_t server, uint32_t group, uint8_t grtt_code,
                       uint8_t robust, const struct addr *pub, const struct addr *priv)
{
    struct wire_datagram d;
    memset(&d, 0, sizeof(d));
    d.hdr.version = UFTP_VER5;
    d.hdr.func = ANNOUNCE;
    d.hdr.src_id = server;
    d.hdr.group_id = group;
    d.hdr.grtt = grtt_code;
    d.hdr.gsize = quant_gsize_encode(1);
    d.msg.func = ANNOUNCE;
    struct wire_announce *a = &d.msg.u.announce;
    a->ver = UFTP_VER5;
    a->robust = robust;
    a->blocksize = 1300;
    addr_get_ip(pub, a->pub_addr);
    addr_get_ip(priv, a->priv_addr);
    ssize_t n = wire_datagram_encode(b, cap, &d);
    if (n < 0)
        abort();
    return (size_t)n;
}

static void one_dest(struct run *r, int i, struct receiver_config *c)
{
    (void)r;
    (void)i;
    c->ndest = 1;
}

/*
 * A sender that keeps the simulation running (sim_run stops when no sender
 * is busy): a closed group of a client nobody is, announcing for 300 s.
 */
static void add_keeper(struct sim *s)
{
    static struct file_item it;
    static char path[] = "keeper-blob";
    sim_make_blob(s, path, 10);
    it = (struct file_item){.type = FTYPE_REG, .path = path, .name = "k", .size = 10};
    static struct sender_dest d = {.id = 0x0BADBEEF};
    static struct sender_config c;
    sender_config_defaults(&c);
    c.files = &it;
    c.nfiles = 1;
    c.dests = &d;
    c.ndest = 1;
    c.robust = 50;
    c.grtt_init_us = 2 * SEC;
    c.grtt_max_us = 2 * SEC;
    c.keytype = KEY_NONE;
    sim_group_addr(s, 0, 7, false, &c.pub); /* where nobody listens: only the clock matters */
    if (sim_add_sender(s, &c, NULL, NULL) < 0)
        abort();
}

/* ------------------------------------------------------------ register_storm */

struct tally {
    int node;
    uint64_t pkts, bytes, until;
};

static void count_tap(void *arg, int from, const struct addr *src, const struct addr *dst,
                      const uint8_t *p, size_t len, uint64_t t)
{
    (void)src;
    (void)dst;
    (void)p;
    struct tally *k = arg;
    if (from == k->node && t <= k->until) {
        k->pkts++;
        k->bytes += len;
    }
}

struct inject {
    int from;
    struct addr to, pub, priv;
    unsigned n, per_call, sent;
    uint64_t every_us;
    uint8_t grtt, robust;
    uint32_t server, group0;
};

static void inject_fire(struct sim *s, void *arg)
{
    struct inject *j = arg;
    uint8_t b[2048];
    for (unsigned i = 0; i < j->per_call && j->sent < j->n; i++, j->sent++) {
        size_t n = announce(b, sizeof(b), j->server, j->group0 + j->sent, j->grtt, j->robust,
                            &j->pub, &j->priv);
        sim_inject(s, j->from, &j->to, b, n);
    }
    if (j->sent < j->n)
        sim_call_at(s, sim_now(s) + j->every_us, inject_fire, j);
}

static void scen_register_storm(uint64_t seed)
{
    struct run *r = run_new(seed);
    struct sim *s = r->s;
    struct addr priv;
    sim_group_addr(s, 1, 0, false, &priv);
    run_receivers(r, 2, NULL, one_dest); /* the second, the attacker: only an address here */
    int rx = r->rx[0], att = r->rx[1];
    add_keeper(s);
    static struct tally k;
    k = (struct tally){.node = rx, .until = 2 * SEC};
    run_tap(r, count_tap, &k);
    static struct inject j;
    j = (struct inject){.from = att,
                        .pub = r->pub,
                        .priv = priv,
                        .n = 1,
                        .per_call = 1,
                        .grtt = 0,
                        .robust = 1,
                        .server = 0x66666666,
                        .group0 = 0x5EED0001};
    sim_node_addr(s, rx, &j.to);
    sim_call_at(s, 1000, inject_fire, &j);
    sim_run(s, 2 * SEC + 1);
    printf("FIGURE: one 40-byte ANNOUNCE (GRTT 1 us, robustness 1): the receiver sent %" PRIu64
           " datagrams, %" PRIu64 " bytes in 2 s\n",
           k.pkts, k.bytes);
    CHECK(k.bytes <= 3 * 40, "%" PRIu64 " bytes > 3 x 40", k.bytes);
    run_free(r);
}

/* ------------------------------------------------------------ slots */

struct watch {
    struct sim *s;
    int node;
    bool proxy;
    uint64_t last_busy; /* last time the forged sessions were still there */
    uint32_t max;
};

static uint32_t sessions_of(struct watch *w)
{
    if (w->proxy) {
        struct proxy_stats st;
        proxy_stats(sim_proxy(w->s, w->node), &st);
        return st.sessions;
    }
    struct receiver_stats st;
    receiver_stats(sim_receiver(w->s, w->node), &st);
    return st.sessions;
}

static void watch_fire(struct sim *s, void *arg)
{
    struct watch *w = arg;
    uint32_t n = sessions_of(w);
    if (n > w->max)
        w->max = n;
    if (n > 0)
        w->last_busy = sim_now(s);
    sim_call_at(s, sim_now(s) + SEC / 10, watch_fire, w);
}

static void slots(uint64_t seed, bool proxy)
{
    struct run *r = run_new(seed);
    struct sim *s = r->s;
    struct addr priv;
    sim_group_addr(s, 1, 0, false, &priv);
    int node;
    if (proxy) {
        proxy_config_defaults(&r->pc[0]);
        r->pc[0].proxy_id = 0x0A650001;
        net_addr_parse(&r->pc[0].down, "10.0.1.250:1044", 0);
        node = run_proxy(r, 0, PROXY_SERVER, 0, -1, NULL);
    } else {
        run_receivers(r, 1, NULL, one_dest);
        node = r->rx[0];
    }
    run_receivers(r, 1, NULL, one_dest);
    int att = r->rx[r->nrx - 1];
    add_keeper(s);
    static struct inject j;
    j = (struct inject){.from = att,
                        .pub = r->pub,
                        .priv = priv,
                        .n = 100,
                        .per_call = 100,
                        .grtt = 255,
                        .robust = 255,
                        .server = 0x66666666,
                        .group0 = 0x5EED1000};
    sim_node_addr(s, node, &j.to);
    sim_call_at(s, SEC / 10, inject_fire, &j);
    static struct watch w;
    w = (struct watch){.s = s, .node = node, .proxy = proxy};
    sim_call_at(s, SEC / 10 + 1, watch_fire, &w);
    sim_run(s, 120 * SEC);
    const char *who = proxy ? "server proxy" : "receiver";
    if (sessions_of(&w) == 0)
        printf(
            "FIGURE: %s: 100 forged ANNOUNCEs (GRTT 1000 s, robustness 255) held up to %u slots; "
            "the last was freed %.1f s later\n",
            who, w.max, (double)(w.last_busy - SEC / 10) / 1e6);
    else
        printf("FIGURE: %s: 100 forged ANNOUNCEs (GRTT 1000 s, robustness 255) still hold %u slots "
               "after %.0f s\n",
               who, sessions_of(&w), (double)(sim_now(s) - SEC / 10) / 1e6);
    CHECK(w.max >= 90, "%s: only %u forged sessions admitted", who, w.max);
    CHECK(sessions_of(&w) == 0 && w.last_busy <= 61 * SEC, "%s: forged slots held past 60 s", who);
    run_free(r);
}

static void scen_slots_receiver(uint64_t seed)
{
    slots(seed, false);
}

static void scen_slots_proxy(uint64_t seed)
{
    slots(seed, true);
}

/* ------------------------------------------------------------ legit_flood */

static void scen_legit_flood(uint64_t seed)
{
    struct run *r = run_new(seed);
    struct sim *s = r->s;
    struct addr priv;
    sim_group_addr(s, 1, 0, false, &priv);
    run_receivers(r, 2, NULL, one_dest); /* a receiver and the attacker */
    int rx = r->rx[0], att = r->rx[1];
    scen_file(s, r->f, "real.bin", 100000);
    run_sender(r)->rate_kbps = 10000;
    run_closed(r);
    r->sc.ndest = 1; /* the closed group: the receiver */
    int tx = run_add_sender(r, NULL);
    static struct inject j;
    j = (struct inject){.from = att,
                        .pub = r->pub,
                        .priv = priv,
                        .n = 10000,
                        .per_call = 50,
                        .every_us = 10000,
                        .grtt = 255,
                        .robust = 255,
                        .server = 0x66666666,
                        .group0 = 0x5EED2000};
    sim_node_addr(s, rx, &j.to);
    /* The first 200 go out before the real sender's first ANNOUNCE: the table is full. */
    j.per_call = 200;
    inject_fire(s, &j);
    j.per_call = 50;
    sim_run(s, 120 * SEC);
    bool ok = sim_exit_code(s, tx) == 0 &&
              scen_holds(sim_store(s, rx), 0, "real.bin", r->f->data[0], 100000);
    printf("FIGURE: a real session under 10,000 forged ANNOUNCEs in 2 s: sender exit %d after "
           "%.1f s, file %s\n",
           sim_exit_code(s, tx), (double)sim_store(s, tx)->ended_us / 1e6,
           ok ? "delivered" : "missing");
    CHECK(ok, "the real session failed");
    run_free(r);
}

static const struct scen g_scens[] = {
    {"register_storm", scen_register_storm, 14},
    {"slots_receiver", scen_slots_receiver, 15},
    {"slots_proxy", scen_slots_proxy, 15},
    {"legit_flood", scen_legit_flood, 16},
};

int main(int argc, char **argv)
{
    log_init("sim_hostile", getenv("SIM_VERBOSE") ? LL_VERBOSE : LL_ERR - 1);
    static const struct scen_prog p = SCEN_PROG("sim_hostile", g_scens, NULL);
    return scen_main(&p, argc, argv);
}
