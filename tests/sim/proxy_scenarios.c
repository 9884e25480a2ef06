/*
 * Proxy scenarios (issue 5): the sender, receiver and proxy engines in the
 * virtual network of sim.h, on disjoint networks joined only by proxies
 * (and NAT routers), with loss; every delivered file compared byte for byte.
 * Run as scen.h says; besides:
 *
 *   sim_proxy --corpus DIR NAME   writes fuzz seeds (datagrams a proxy received) to DIR
 */
#include <stdlib.h>
#include <string.h>

#include "core/wire/msg.h"
#include "scen.h"

static void standard_files(struct run *r)
{
    scen_file(r->s, r->f, "empty", 0);
    scen_file(r->s, r->f, "one", 1);
    scen_file(r->s, r->f, "block", 1300);
    scen_file(r->s, r->f, "big", 300000);
    scen_file(r->s, r->f, "odd", 70001);
}

/* ------------------------------------------------------------ fuzz seeds */

/* --corpus: seeds for tests/fuzz/fuzz_proxy.c, what node `node` hears. */
struct seeds {
    FILE *f;
    struct sim *sim;
    int node;
    int peer_of[16]; /* sending node -> fuzz peer index (0 server, 1 downstream, 2.. clients) */
    uint64_t last_t;
    size_t n, filesegs;
};

static bool to_node(struct sim *s, int node, const struct addr *dst)
{
    for (int net = 0; net < 8; net++) {
        struct addr a;
        sim_node_addr_on(s, node, net, &a);
        if (addr_equal(&a, dst))
            return true;
    }
    return false;
}

static void seeds_tap(void *arg, int from, const struct addr *src, const struct addr *dst,
                      const uint8_t *p, size_t len, uint64_t t)
{
    (void)src;
    struct seeds *c = arg;
    /* A few data packets are enough: keep the seeds small. */
    bool data = len > 1 && (p[1] == FILESEG || (p[1] == ENCRYPTED && len > 1000));
    if (c->n < 600 && len < 65536 && from != c->node && from < 16 && c->peer_of[from] >= 0 &&
        !(data && c->filesegs++ >= 24) &&
        (to_node(c->sim, c->node, dst) || addr_is_multicast(dst))) {
        scen_seed_put(c->f, &c->last_t, t, c->peer_of[from], p, len);
        c->n++;
    }
}

/* With --corpus: writes DIR/name, seeds of proxy node in fuzz role `role` (fuzz_proxy's first
 * byte). */
static struct seeds *seeds_open(struct run *r, const char *name, int role, int node)
{
    static struct seeds c;
    memset(&c, 0, sizeof(c));
    if (scen_corpus == NULL || (c.f = scen_seed_open(scen_corpus, ".", name, role)) == NULL)
        return NULL;
    c.sim = r->s;
    c.node = node;
    for (int i = 0; i < 16; i++)
        c.peer_of[i] = -1;
    run_tap(r, seeds_tap, &c);
    return &c;
}

static void seeds_close(struct seeds *c)
{
    if (c != NULL)
        fclose(c->f);
}

/* ------------------------------------------------------------ topologies */

/* Every receiver here has one dest and names the sender (through its proxy) with -S. */
static void proxy_rx(struct run *r, int i, struct receiver_config *c)
{
    (void)i;
    c->ndest = 1;
    c->servers = r->srv; /* filled in once the sender (and its proxy) exist: borrowed */
    c->nserver = 1;
}

/* The sender's config with the test defaults (20 Mbit/s), closed or open; tweak it, then add. */
static struct sender_config *sender_prep(struct run *r, bool closed)
{
    run_sender(r)->rate_kbps = 20000;
    if (closed)
        run_closed(r);
    return &r->sc;
}

/* ------------------------------------------------------------ scenarios */

/*
 * sender → server proxy → one receiver on another network (the tunnel
 * needs nothing from the ends: the receiver answers the ANNOUNCE's source),
 * 10 % loss towards the receiver.
 */
static void scen_server_single(uint64_t seed)
{
    struct run *r = run_new(seed);
    struct sim_link lossy = {.loss_pct = 10, .delay_us = 2000, .jitter_us = 500};
    standard_files(r);
    sim_set_net(r->s, 1);
    run_receivers(r, 1, &lossy, proxy_rx);
    proxy_config_defaults(&r->pc[0]);
    sim_node_addr_on(r->s, r->rx[0], 1, &r->pc[0].down);
    run_proxy(r, 0, PROXY_SERVER, 0, 1, NULL);
    sim_set_net(r->s, 0);
    sender_prep(r, true);
    run_add_sender(r, NULL);
    run_expect(r, 0);
    check_delivered(r->s, r->rx[0], r->f);
    struct proxy_stats st = px_stats(r, 0);
    CHECK(st.forwarded > 200, "forwarded only %" PRIu64, st.forwarded);
    CHECK(st.sessions_seen == 1, "sessions %" PRIu64, st.sessions_seen);
    run_free(r);
}

static void encrypt(struct sender_config *sc, bool enc, bool client_auth)
{
    if (!enc) {
        sc->keytype = KEY_NONE;
        return;
    }
    sc->keytype = KEY_AES256_GCM;
    sc->hashtype = HASH_SHA256;
    sc->curve = CURVE_P256;
    sc->client_auth = client_auth;
}

/*
 * The tunnel: sender (net 0) → server proxy (nets 0, 1) → client proxy
 * (nets 1, 2) → 4 receivers (net 2) with 10 % loss each way, closed group,
 * the client proxy in -j; encrypted or not, with client authentication.
 */
static uint64_t g_hash;    /* the last tunnel's trace hash */
static uint64_t g_stop_cp; /* stop the client proxy at this time (0: never) */
static int g_lose_regconf; /* REG_CONF lost: 1 before the first FILEINFO, 2 all */
static int g_rlist;        /* receivers' -R: 0 none, 1 the client proxy's fingerprint, 2 another */

struct regconf_loss {
    int tx;
    unsigned lost;
    bool fileinfo;
};

/* FILEINFO is the sender's first ENCRYPTED datagram (REG_CONF, KEYINFO are clear). */
static bool lose_regconf(void *arg, int from, const struct addr *dst, const uint8_t *p, size_t len)
{
    (void)dst;
    struct regconf_loss *l = arg;
    if (from != l->tx || len < UFTP_HDR_LEN)
        return false;
    if (p[1] == ENCRYPTED)
        l->fileinfo = true;
    if (p[1] != REG_CONF || (l->fileinfo && g_lose_regconf == 1))
        return false;
    l->lost++;
    return true;
}

/*
 * A proxy's REGISTER that reaches the sender during the data phase (late on
 * the WAN, or repeated for clients whose REG_CONF it missed) is answered
 * with a REG_CONF for its clients still in the session, as in the FILEINFO
 * phase: a copy of the last REGISTER the sender had from the server proxy
 * goes in again once the sender is well into a file's data.
 */
static bool g_late_register;

struct late_reg {
    struct sim *s;
    int tx, sp;
    struct addr at;    /* the sender */
    uint8_t reg[4096]; /* the last REGISTER it had from sp */
    size_t reglen;
    unsigned data;         /* data datagrams the sender sent */
    uint64_t injected;     /* when the copy went in (0: not yet) */
    unsigned regconf_data; /* REG_CONFs the sender sent after it, in its data phase */
};

static void late_reg_inject(struct sim *s, void *arg)
{
    struct late_reg *l = arg;
    struct sender_stats st;
    sender_stats(sim_sender(s, l->tx), &st);
    if (st.phase != SENDER_PH_DATA)
        return; /* the file went by: try with the next one */
    l->injected = sim_now(s);
    sim_inject(s, l->sp, &l->at, l->reg, l->reglen);
}

static void late_reg_tap(void *arg, int from, const struct addr *src, const struct addr *dst,
                         const uint8_t *p, size_t len, uint64_t t)
{
    (void)src;
    struct late_reg *l = arg;
    if (len < UFTP_HDR_LEN)
        return;
    if (from == l->sp && p[1] == REGISTER && addr_equal(dst, &l->at) && len <= sizeof(l->reg)) {
        memcpy(l->reg, p, len);
        l->reglen = len;
    }
    if (from != l->tx)
        return;
    if (p[1] == ENCRYPTED && len > 1000 && l->injected == 0 && l->reglen > 0 && ++l->data % 50 == 0)
        sim_call_at(l->s, t + 1000, late_reg_inject, l);
    if (p[1] == REG_CONF && l->injected != 0) {
        struct sender_stats st;
        sender_stats(sim_sender(l->s, l->tx), &st);
        if (st.phase == SENDER_PH_DATA)
            l->regconf_data++;
    }
}

static void tunnel(uint64_t seed, bool enc, bool client_auth)
{
    struct run *r = run_new(seed);
    struct sim_link lossy = {.loss_pct = 10, .delay_us = 1000, .jitter_us = 300};
    struct sim_link wan = {.delay_us = 10000, .jitter_us = 1000};
    if (g_lose_regconf)
        wan.delay_us = 1000; /* a short GRTT, so a short FILEINFO round */
    standard_files(r);
    sim_set_net(r->s, 2);
    run_receivers(r, 4, &lossy, proxy_rx);
    /* The client proxy first: the server proxy needs its address. */
    proxy_config_defaults(&r->pc[1]);
    run_proxy(r, 1, PROXY_CLIENT, 1, 2, NULL);
    sim_set_mcast_net(r->s, r->px[1], 2);
    static struct receiver_proxy rlist[1];
    if (g_rlist != 0) {
        /* -R: the proxy's ID with a fingerprint, checked against its signed PROXY_KEY. */
        memset(rlist, 0, sizeof(rlist));
        rlist[0].id = r->pc[1].proxy_id;
        scen_fp(scen_key(g_rlist == 1 ? SK_PROXY1 : SK_PROXY2), rlist[0].fp, &rlist[0].fplen);
        for (int i = 0; i < r->nrx; i++)
            CHECK(receiver_set_trust(sim_receiver(r->s, r->rx[i]), r->srv, 1, rlist, 1) == 0,
                  "receiver_set_trust");
    }
    proxy_config_defaults(&r->pc[0]);
    sim_node_addr_on(r->s, r->px[1], 1, &r->pc[0].down);
    run_proxy(r, 0, PROXY_SERVER, 0, 1, &wan);
    sim_set_net(r->s, 0);
    struct sender_config *sc = sender_prep(r, true);
    encrypt(sc, enc, client_auth);
    sc->proxies = r->proxies;
    sc->nproxy = 1;
    r->proxies[0].id = r->pc[1].proxy_id;
    if (g_stop_cp != 0) {
        /* A large file last, so that the stop finds the transfer under way
         * however fast the small ones went (the sender takes its list when added). */
        scen_file(r->s, r->f, "large", 3000000);
        r->sc.nfiles = r->f->n;
    }
    run_add_sender(r, NULL);
    r->srv[0].proxy_id = r->pc[1].proxy_id;
    if (g_stop_cp != 0) {
        /* The client proxy shuts down mid-transfer: its ABORTs must end the
         * session on both sides at once, encrypted where keys exist. */
        sim_interrupt_at(r->s, r->px[1], g_stop_cp);
        CHECK(sim_run(r->s, LIMIT_US), "did not finish");
        /* Everyone aborted: exit 9, or 8 when it happens during a FILEINFO round. */
        CHECK(sim_exit_code(r->s, r->tx) == SENDER_EXIT_DROPPED ||
                  sim_exit_code(r->s, r->tx) == SENDER_EXIT_NO_FILEINFO,
              "sender exit %d", sim_exit_code(r->s, r->tx));
        uint64_t ended = sim_store(r->s, r->tx)->ended_us;
        CHECK(ended >= g_stop_cp && ended < g_stop_cp + 300000,
              "sender ended %.3f s after the proxy stopped", ((double)ended - g_stop_cp) / 1e6);
        /* A receiver whose ABORT was lost (10 %) ends on its own timeout instead. */
        int prompt = 0;
        for (int i = 0; i < r->nrx; i++) {
            const struct sim_store *st = sim_store(r->s, r->rx[i]);
            CHECK(st->session_ends == 1 && st->session_ends_ok == 0,
                  "receiver %d: %u sessions ended, %u completed", i, st->session_ends,
                  st->session_ends_ok);
            if (st->ended_us >= g_stop_cp && st->ended_us < g_stop_cp + 300000)
                prompt++;
        }
        CHECK(prompt >= r->nrx / 2, "only %d receivers saw the proxy's ABORT", prompt);
        run_free(r);
        return;
    }
    struct regconf_loss rl = {.tx = r->tx};
    if (g_lose_regconf)
        sim_set_drop(r->s, lose_regconf, &rl);
    static struct late_reg lr;
    if (g_late_register) {
        memset(&lr, 0, sizeof(lr));
        lr.s = r->s;
        lr.tx = r->tx;
        lr.sp = r->px[0];
        sim_node_addr(r->s, r->tx, &lr.at);
        run_tap(r, late_reg_tap, &lr);
    }
    /* Seeds for fuzz_proxy: what the client proxy hears (role 2). */
    struct seeds *ct = enc ? NULL : seeds_open(r, "client-tunnel", 2, r->px[1]);
    if (ct != NULL) {
        ct->peer_of[r->px[0]] = 0;
        for (int i = 0; i < r->nrx; i++)
            ct->peer_of[r->rx[i]] = 2 + i;
    }
    CHECK(sim_run(r->s, LIMIT_US), "did not finish");
    if (g_rlist == 2) {
        /* Every receiver refuses the proxy: nothing delivered, the sender says so. */
        CHECK(sim_exit_code(r->s, r->tx) != 0, "sender exit 0 with no receiver");
        for (int i = 0; i < r->nrx; i++) {
            const struct sim_store *st = sim_store(r->s, r->rx[i]);
            CHECK(st->session_ends_ok == 0 && sim_store_count(st) == 0,
                  "receiver %d took files through a proxy with the wrong key", i);
        }
        run_free(r);
        return;
    }
    CHECK(sim_exit_code(r->s, r->tx) == 0, "sender exit %d", sim_exit_code(r->s, r->tx));
    CHECK(!g_lose_regconf || rl.lost > 0, "no REG_CONF lost");
    if (g_late_register) {
        CHECK(lr.injected != 0, "no REGISTER went in during a data phase");
        CHECK(lr.regconf_data > 0, "no REG_CONF for the proxy's REGISTER in the data phase");
    }
    run_delivered(r);
    g_hash = sim_trace_hash(r->s);
    seeds_close(ct);
    struct proxy_stats st = px_stats(r, 1);
    CHECK(st.aggregated_out > 0 && st.aggregated_in > st.aggregated_out,
          "client proxy: %" PRIu64 " answers in %" PRIu64 " aggregates", st.aggregated_in,
          st.aggregated_out);
    run_free(r);
}

static void scen_tunnel(uint64_t seed)
{
    tunnel(seed, false, false);
}

static void scen_tunnel_enc(uint64_t seed)
{
    tunnel(seed, true, false);
}

static void scen_tunnel_auth(uint64_t seed)
{
    tunnel(seed, true, true);
}

/* A client proxy that stops mid-transfer aborts its clients and its session upstream. */
static void scen_proxy_abort(uint64_t seed)
{
    g_stop_cp = 4 * SEC; /* keyed by then, in the middle of the large file */
    tunnel(seed, true, false);
    g_stop_cp = 0;
}

/*
 * Encrypted: the server confirms the client proxy's clients (REG_CONF) and
 * the proxy cannot key them without it. With every REG_CONF of the announce
 * phase lost, the proxy registers them again itself every 2 GRTT of the
 * server's (spec §3.4) and they are confirmed during the FILEINFO round; the
 * clients' own REGISTER retry (5 GRTT of the announce, 2.5 s) comes after
 * the round (3 GRTT x robust, under a second here) ran out, or in time
 * when the server's lower GRTT reached them: 8 runs, so some do not.
 */
static void scen_regconf_lost(uint64_t seed)
{
    g_lose_regconf = 1;
    for (uint64_t i = 0; i < 8; i++)
        tunnel(seed + i, true, false);
    g_lose_regconf = 0;
}

/*
 * interop_proxy_chain's flake: a 5.0.1 sender sends a proxy's clients one
 * REG_CONF per REGISTER, and only in its announce phase, which ends 1 GRTT
 * after the last KEYINFO_ACK; when that REG_CONF is lost, the proxy's
 * retry (2 GRTT) comes too late and none follows. Here every REG_CONF is
 * lost: the FILEINFO that lists the clients confirms them (spec §1.5, an
 * implicit REG_CONF), or they are never keyed and the sender exits 8.
 */
static void scen_regconf_never(uint64_t seed)
{
    g_lose_regconf = 2;
    for (uint64_t i = 0; i < 4; i++)
        tunnel(seed + i, true, false);
    g_lose_regconf = 0;
}

/* A proxy's REGISTER in the data phase gets its REG_CONF (issue 15). */
static void scen_register_data(uint64_t seed)
{
    g_late_register = true;
    tunnel(seed, true, false);
    g_late_register = false;
}

/* Receivers with -R: the right fingerprint is accepted, another refused (spec §2.2). */
static void scen_tunnel_rlist(uint64_t seed)
{
    g_rlist = 1;
    tunnel(seed, true, false);
    g_rlist = 2;
    tunnel(seed, true, false);
    g_rlist = 0;
}

/* Same seed, same trace (the engines' randomness is the sim's; key bytes are not traced). */

static void scen_determinism(uint64_t seed)
{
    uint64_t h[2];
    for (int k = 0; k < 2; k++) {
        g_hash = 0;
        tunnel(seed, true, false);
        h[k] = g_hash;
    }
    CHECK(h[0] == h[1] && h[0] != 0, "trace hashes differ: %016" PRIx64 " %016" PRIx64, h[0], h[1]);
}

/*
 * A response proxy with 8 receivers on the sender's network (net 0): the
 * sender hears only the proxy, one aggregate per round.
 */
static void response(uint64_t seed, bool enc)
{
    struct run *r = run_new(seed);
    struct sim_link lan = {.delay_us = 500, .jitter_us = 100};
    standard_files(r);
    run_receivers(r, 8, &lan, proxy_rx);
    proxy_config_defaults(&r->pc[0]);
    r->pc[0].client_port = 1044;
    run_proxy(r, 0, PROXY_RESPONSE, 0, -1, &lan);
    struct sender_config *sc = sender_prep(r, true);
    encrypt(sc, enc, false);
    sc->proxies = r->proxies;
    sc->nproxy = 1;
    r->proxies[0].id = r->pc[0].proxy_id;
    run_add_sender(r, &lan);
    r->srv[0].proxy_id = r->pc[0].proxy_id;
    const struct scen_traffic *w = &r->traffic;
    r->traffic.id = r->pc[0].proxy_id;
    /* Seeds for fuzz_proxy: what the response proxy hears (role 3). */
    struct seeds *ct = enc ? NULL : seeds_open(r, "response", 3, r->px[0]);
    if (ct != NULL) {
        ct->peer_of[r->tx] = 0;
        for (int i = 0; i < 4; i++)
            ct->peer_of[r->rx[i]] = 2 + i;
    }
    run_expect(r, 0);
    run_delivered(r);
    CHECK(w->got == w->got_id && w->got == w->got_node[r->px[0]],
          "the sender heard %u datagrams from receivers", (unsigned)w->got - w->got_id);
    /* 5 files: REGISTER, 5 FILEINFO_ACK, 5 COMPLETE, COMPLETE(0) [, KEYINFO_ACK] — not x 8. */
    CHECK(w->got_id >= 12 && w->got_id <= 20, "%u datagrams from the proxy", w->got_id);
    seeds_close(ct);
    if (!enc) {
        CHECK(w->got_func[REGISTER] == 1, "%u REGISTERs", w->got_func[REGISTER]);
        CHECK(w->got_func[FILEINFO_ACK] == 5, "%u FILEINFO_ACKs for 5 files",
              w->got_func[FILEINFO_ACK]);
    }
    run_free(r);
}

static void scen_response(uint64_t seed)
{
    response(seed, false);
}

static void scen_response_enc(uint64_t seed)
{
    response(seed, true);
}

/*
 * Issue 13, both restart scenarios: the sender just started (r->tx) dies once
 * 800,000 bytes of data are out; a second sender resumes as uftp -F would
 * (same group and server ID, the next instance) on LINK. Every copy exact,
 * every receiver resumed without writing a block twice, and the resumed
 * session sends no more than the worst-off receiver's missing bytes + 10 %.
 */
static void kill_and_resume(struct run *r, const struct sim_link *link)
{
    int first = r->tx;
    uint64_t kill_us = 0;
    for (uint64_t t = 1000; kill_us == 0 && t < LIMIT_US; t += 1000) {
        sim_run(r->s, t);
        struct sender_stats st;
        sender_stats(sim_sender(r->s, first), &st);
        if (st.phase == SENDER_PH_DATA && st.data_bytes > 800000)
            kill_us = sim_now(r->s);
    }
    CHECK(kill_us != 0, "no data");
    sim_kill_at(r->s, first, kill_us);
    sim_run(r->s, kill_us + 300000);
    uint64_t worst = 0;
    for (int i = 0; i < r->nrx; i++) {
        const struct sim_store *st = sim_store(r->s, r->rx[i]);
        uint64_t have = 0;
        for (size_t k = 0; k < st->n; k++)
            if (st->f[k].in_use && st->f[k].type == FTYPE_REG)
                have += st->f[k].written;
        if (1550000 - have > worst)
            worst = 1550000 - have;
    }
    r->sc.group_inst = 1;
    run_add_sender(r, link);
    run_expect(r, 0);
    run_delivered(r);
    struct sender_stats st = tx_stats(r);
    CHECK(worst > 0 && worst < 1500000, "missing %" PRIu64, worst);
    /* Data and parity (issue 17) alike: a FEC block missing whole goes as its blocks, once. */
    CHECK(st.data_bytes + st.fec_bytes <= worst + worst / 10 + 16 * 1300,
          "resumed session sent %" PRIu64 " data + %" PRIu64 " parity bytes for %" PRIu64
          " missing",
          st.data_bytes, st.fec_bytes, worst);
    for (int i = 0; i < r->nrx; i++)
        CHECK(sim_store(r->s, r->rx[i])->resumed == 1 && sim_store(r->s, r->rx[i])->dup_writes == 0,
              "receiver %d: resumed %u, dup writes %u", i, sim_store(r->s, r->rx[i])->resumed,
              sim_store(r->s, r->rx[i])->dup_writes);
    if (scen_verbose)
        printf("    missing %" PRIu64 " bytes, resumed session sent %" PRIu64 " + %" PRIu64
               " parity\n",
               worst, st.data_bytes, st.fec_bytes);
    run_free(r);
}

/*
 * Issue 13: a restart through a response proxy. The sender dies mid-file
 * (it just stops), and resumes as uftp -F would (same group and server ID,
 * the next instance): the proxy aggregates the receivers' FILEINFO_ACK
 * PARTIAL (spec §3.4: ANDed), the first pass starts at its end and only
 * the missing blocks go. Every copy exact.
 */
static void scen_restart_response(uint64_t seed)
{
    struct run *r = run_new(seed);
    struct sim_link lan = {.delay_us = 500, .jitter_us = 100};
    scen_file(r->s, r->f, "a", 50000);
    scen_file(r->s, r->f, "big", 1500000);
    run_receivers(r, 6, &lan, proxy_rx);
    for (int i = 0; i < r->nrx; i++)
        sim_store(r->s, r->rx[i])->restart = true; /* as uftpd -T */
    proxy_config_defaults(&r->pc[0]);
    r->pc[0].client_port = 1044;
    run_proxy(r, 0, PROXY_RESPONSE, 0, -1, &lan);
    struct sender_config *sc = sender_prep(r, true);
    encrypt(sc, false, false);
    sc->group_id = 0x5EED0013;
    sc->proxies = r->proxies;
    sc->nproxy = 1;
    r->proxies[0].id = r->pc[0].proxy_id;
    run_add_sender(r, &lan);
    r->srv[0].proxy_id = r->pc[0].proxy_id;
    kill_and_resume(r, &lan);
}

/*
 * Issue 13: the same through the tunnel (sender → server proxy → client
 * proxy → 4 receivers), encrypted: the client proxy aggregates PARTIAL and
 * re-keys its side; the resumed session sends only what is missing.
 */
static void scen_restart_tunnel(uint64_t seed)
{
    struct run *r = run_new(seed);
    struct sim_link lan = {.delay_us = 1000, .jitter_us = 100};
    struct sim_link wan = {.delay_us = 10000, .jitter_us = 1000};
    scen_file(r->s, r->f, "a", 50000);
    scen_file(r->s, r->f, "big", 1500000);
    sim_set_net(r->s, 2);
    run_receivers(r, 4, &lan, proxy_rx);
    for (int i = 0; i < r->nrx; i++)
        sim_store(r->s, r->rx[i])->restart = true; /* as uftpd -T */
    proxy_config_defaults(&r->pc[1]);
    run_proxy(r, 1, PROXY_CLIENT, 1, 2, NULL);
    sim_set_mcast_net(r->s, r->px[1], 2);
    proxy_config_defaults(&r->pc[0]);
    sim_node_addr_on(r->s, r->px[1], 1, &r->pc[0].down);
    run_proxy(r, 0, PROXY_SERVER, 0, 1, &wan);
    sim_set_net(r->s, 0);
    struct sender_config *sc = sender_prep(r, true);
    encrypt(sc, true, false);
    sc->sigkey = scen_key(SK_EC256);
    sc->group_id = 0x5EED0013;
    sc->proxies = r->proxies;
    sc->nproxy = 1;
    r->proxies[0].id = r->pc[1].proxy_id;
    run_add_sender(r, NULL);
    r->srv[0].proxy_id = r->pc[1].proxy_id;
    kill_and_resume(r, NULL);
}

/*
 * Issue 13: a 10 s total outage (every datagram lost) in the middle of a
 * transfer through a response proxy and through the tunnel, default
 * settings: sender, proxies and receivers all ride it out.
 */
struct outage {
    struct sim *s;
    uint64_t from, until;
};

static bool outage_drop(void *arg, int from, const struct addr *dst, const uint8_t *p, size_t len)
{
    const struct outage *o = arg;
    (void)from, (void)dst, (void)p, (void)len;
    return sim_now(o->s) >= o->from && sim_now(o->s) < o->until;
}

static void scen_outage_proxies(uint64_t seed)
{
    for (int k = 0; k < 2; k++) {
        scen_case(k ? "tunnel" : "response proxy");
        struct run *r = run_new(seed + (uint64_t)k);
        struct sim_link lan = {.delay_us = 1000, .jitter_us = 100};
        scen_file(r->s, r->f, "a", 50000);
        scen_file(r->s, r->f, "big", 1500000);
        if (k == 0) {
            run_receivers(r, 4, &lan, proxy_rx);
            proxy_config_defaults(&r->pc[0]);
            r->pc[0].client_port = 1044;
            run_proxy(r, 0, PROXY_RESPONSE, 0, -1, &lan);
        } else {
            sim_set_net(r->s, 2);
            run_receivers(r, 4, &lan, proxy_rx);
            proxy_config_defaults(&r->pc[1]);
            run_proxy(r, 1, PROXY_CLIENT, 1, 2, NULL);
            sim_set_mcast_net(r->s, r->px[1], 2);
            proxy_config_defaults(&r->pc[0]);
            sim_node_addr_on(r->s, r->px[1], 1, &r->pc[0].down);
            run_proxy(r, 0, PROXY_SERVER, 0, 1, &lan);
            sim_set_net(r->s, 0);
        }
        struct sender_config *sc = sender_prep(r, true);
        sc->rate_kbps = 2000; /* 256 KB/s: big takes ~6 s */
        encrypt(sc, k == 1, false);
        sc->proxies = r->proxies;
        sc->nproxy = 1;
        int cp = k == 0 ? 0 : 1;
        r->proxies[0].id = r->pc[cp].proxy_id;
        run_add_sender(r, k == 0 ? &lan : NULL);
        r->srv[0].proxy_id = r->pc[cp].proxy_id;
        static struct outage o;
        o = (struct outage){.s = r->s, .from = 2 * SEC, .until = 12 * SEC};
        sim_set_drop(r->s, outage_drop, &o);
        run_expect(r, 0);
        run_delivered(r);
        CHECK(sim_now(r->s) > 12 * SEC, "finished at %.3f s: no outage?",
              (double)sim_now(r->s) / 1e6);
        run_free(r);
    }
}

static void rebind(struct sim *s, void *arg);

/*
 * Everything at once, encrypted with client authentication: sender (net 0)
 * → SP1 (nets 0, 1; fixed downstream) → SP2 (nets 1, 2; -s fp=CP's key) →
 * NAT (2 outside, 3 inside) → client proxy (nets 3, 4; heartbeats to SP2)
 * → 4 receivers (net 4), 5 % loss on the receivers' links. Halfway the NAT
 * forgets its mappings; SP2 follows the client proxy to its new port.
 */
static void scen_chain_all(uint64_t seed)
{
    struct run *r = run_new(seed);
    struct sim_link lossy = {.loss_pct = 5, .delay_us = 1000, .jitter_us = 300};
    struct sim_link wan = {.loss_pct = 1, .delay_us = 20000, .jitter_us = 2000};
    standard_files(r);
    scen_file(r->s, r->f, "large", 1500000);
    sim_set_net(r->s, 4);
    run_receivers(r, 4, &lossy, proxy_rx);
    proxy_config_defaults(&r->pc[1]);
    scen_fp(scen_key(SK_PROXY2), r->pc[1].down_fp, &r->pc[1].down_fplen);
    run_proxy(r, 1, PROXY_SERVER, 1, 2, &wan); /* SP2 */
    proxy_config_defaults(&r->pc[0]);
    sim_node_addr_on(r->s, r->px[1], 1, &r->pc[0].down);
    run_proxy(r, 0, PROXY_SERVER, 0, 1, NULL); /* SP1 */
    int nat = sim_add_nat(r->s, 3, 2, 5 * SEC, NULL);
    proxy_config_defaults(&r->pc[2]);
    sim_node_addr_on(r->s, r->px[1], 2, &r->hb[0]);
    r->pc[2].hb_hosts = r->hb;
    r->pc[2].nhb = 1;
    r->pc[2].hb_interval_us = 1 * SEC;
    run_proxy(r, 2, PROXY_CLIENT, 3, 4, NULL); /* CP, behind the NAT */
    sim_set_mcast_net(r->s, r->px[2], 4);
    sim_set_net(r->s, 0);
    struct sender_config *sc = sender_prep(r, true);
    encrypt(sc, true, true);
    sc->rate_kbps = 4000;
    sc->grtt_min_us = 100000;
    sc->proxies = r->proxies;
    sc->nproxy = 1;
    r->proxies[0].id = r->pc[2].proxy_id;
    run_add_sender(r, NULL);
    r->srv[0].proxy_id = r->pc[2].proxy_id;
    sim_call_at(r->s, 6 * SEC, rebind, (void *)(intptr_t)nat);
    run_expect(r, 0);
    run_delivered(r);
    struct proxy_stats st = px_stats(r, 1);
    CHECK(st.hb_auth_ok >= 1, "SP2: %" PRIu64 " authenticated heartbeats", st.hb_auth_ok);
    run_free(r);
}

static void rebind(struct sim *s, void *arg)
{
    sim_nat_rebind(s, (int)(intptr_t)arg);
}

/*
 * A chain of two server proxies, the second behind a NAT router and
 * reachable only because of its heartbeats: sender (net 0) → SP1 (nets 0,
 * 1; -s fp=SP2's key) → NAT (1 outside, 2 inside) → SP2 (nets 2, 3; fixed
 * downstream, -H SP1) → receiver (net 3). Halfway the NAT forgets its
 * mappings (a reboot): SP2 comes back from a new port, proves itself again
 * and SP1 follows it. With heartbeats off, nothing gets through.
 */
static void chain_nat(uint64_t seed, bool heartbeats)
{
    struct run *r = run_new(seed);
    struct sim_link lossy = {.loss_pct = 5, .delay_us = 1000, .jitter_us = 300};
    struct sim_link wan = {.loss_pct = 2, .delay_us = 15000, .jitter_us = 2000};
    standard_files(r);
    scen_file(r->s, r->f, "large", 2000000);
    sim_set_net(r->s, 3);
    run_receivers(r, 1, &lossy, proxy_rx);
    /* SP1: fingerprint mode, learns its downstream from heartbeats. */
    proxy_config_defaults(&r->pc[0]);
    scen_fp(scen_key(SK_PROXY1), r->pc[0].down_fp, &r->pc[0].down_fplen);
    run_proxy(r, 0, PROXY_SERVER, 0, 1, &wan);
    struct addr sp1;
    sim_node_addr_on(r->s, r->px[0], 1, &sp1);
    int nat = sim_add_nat(r->s, 2, 1, 5 * SEC, NULL);
    /* SP2: behind the NAT, fixed downstream, heartbeats to SP1. */
    proxy_config_defaults(&r->pc[1]);
    sim_node_addr_on(r->s, r->rx[0], 3, &r->pc[1].down);
    if (heartbeats) {
        r->hb[0] = sp1;
        r->pc[1].hb_hosts = r->hb;
        r->pc[1].nhb = 1;
        r->pc[1].hb_interval_us = 1 * SEC;
    }
    run_proxy(r, 1, PROXY_SERVER, 2, 3, NULL);
    sim_set_net(r->s, 0);
    struct sender_config *sc = sender_prep(r, true);
    sc->rate_kbps = 4000;
    sc->grtt_min_us = 100000;
    run_add_sender(r, NULL);
    /* Seeds for fuzz_proxy: SP1 with a fixed downstream at the NAT's first port. */
    struct seeds *ct = heartbeats ? seeds_open(r, "server-chain", 0, r->px[0]) : NULL;
    if (ct != NULL) {
        ct->peer_of[r->tx] = 0;
        ct->peer_of[r->px[1]] = 1;
    }
    if (heartbeats)
        sim_call_at(r->s, 6 * SEC, rebind, (void *)(intptr_t)nat);
    run_expect(r, heartbeats ? 0 : SENDER_EXIT_NO_REGISTER);
    struct proxy_stats st = px_stats(r, 0);
    if (heartbeats) {
        check_delivered(r->s, r->rx[0], r->f);
        /* Once at the start, once after the rebind (then the address is known). */
        CHECK(st.hb_auth_ok == 2, "%" PRIu64 " authenticated heartbeats", st.hb_auth_ok);
        CHECK(addr_port(&st.down) != 20000, "downstream still at the first NAT port");
    } else {
        CHECK(st.hb_auth_ok == 0 && st.dropped > 0 && st.forwarded == 0,
              "no heartbeats, yet %" PRIu64 " forwarded", st.forwarded);
    }
    seeds_close(ct);
    run_free(r);
}

/*
 * uftpd -H (spec §2.2): a lone receiver behind a NAT router heartbeats a
 * server proxy in fingerprint mode itself, signing the challenge with its
 * key: sender (net 0) → SP (nets 0, 1; -s fp=the receiver's key) → NAT (1
 * outside, 2 inside) → receiver (net 2), encrypted. Halfway the NAT forgets
 * its mappings and the server proxy follows the receiver's new port. A
 * receiver without -H is never found.
 */
static bool g_rx_hb;

/* The receiver: its key signs the heartbeat challenge; with g_rx_hb it heartbeats the proxy. */
static void tweak_rx_hb(struct run *r, int i, struct receiver_config *c)
{
    proxy_rx(r, i, c);
    c->sigkey = scen_key(SK_PROXY3);
    if (g_rx_hb) {
        sim_node_addr_on(r->s, r->px[0], 1, &r->hb[0]);
        c->hb_hosts = r->hb;
        c->nhb = 1;
        c->hb_interval_us = 1 * SEC;
    }
}

static void receiver_hb(uint64_t seed, bool heartbeats)
{
    struct run *r = run_new(seed);
    struct sim_link lossy = {.loss_pct = 5, .delay_us = 1000, .jitter_us = 300};
    struct sim_link wan = {.loss_pct = 2, .delay_us = 15000, .jitter_us = 2000};
    standard_files(r);
    scen_file(r->s, r->f, "large", 2000000);
    proxy_config_defaults(&r->pc[0]);
    scen_fp(scen_key(SK_PROXY3), r->pc[0].down_fp, &r->pc[0].down_fplen);
    run_proxy(r, 0, PROXY_SERVER, 0, 1, &wan);
    int nat = sim_add_nat(r->s, 2, 1, 5 * SEC, NULL);
    sim_set_net(r->s, 2);
    g_rx_hb = heartbeats;
    run_receivers(r, 1, &lossy, tweak_rx_hb);
    sim_set_net(r->s, 0);
    struct sender_config *sc = sender_prep(r, true);
    encrypt(sc, true, false);
    sc->rate_kbps = 4000;
    sc->grtt_min_us = 100000;
    run_add_sender(r, NULL);
    if (heartbeats)
        sim_call_at(r->s, 6 * SEC, rebind, (void *)(intptr_t)nat);
    run_expect(r, heartbeats ? 0 : SENDER_EXIT_NO_REGISTER);
    struct proxy_stats st = px_stats(r, 0);
    if (heartbeats) {
        check_delivered(r->s, r->rx[0], r->f);
        /* Once at the start, once after the rebind. */
        CHECK(st.hb_auth_ok == 2, "%" PRIu64 " authenticated heartbeats", st.hb_auth_ok);
        CHECK(addr_port(&st.down) != 20000, "downstream still at the first NAT port");
    } else {
        CHECK(st.hb_auth_ok == 0 && st.forwarded == 0, "no heartbeats, yet %" PRIu64 " forwarded",
              st.forwarded);
    }
    run_free(r);
}

static void scen_receiver_hb(uint64_t seed)
{
    receiver_hb(seed, true);
}

static void scen_receiver_no_hb(uint64_t seed)
{
    receiver_hb(seed, false);
}

static void scen_chain_nat(uint64_t seed)
{
    chain_nat(seed, true);
}

static void scen_chain_nat_no_hb(uint64_t seed)
{
    chain_nat(seed, false);
}

static const struct scen g_scens[] = {
    {"server_single", scen_server_single, 1},
    {"chain_nat", scen_chain_nat, 2},
    {"chain_nat_no_hb", scen_chain_nat_no_hb, 3},
    {"tunnel", scen_tunnel, 4},
    {"tunnel_enc", scen_tunnel_enc, 5},
    {"tunnel_auth", scen_tunnel_auth, 6},
    {"response", scen_response, 7},
    {"restart_response", scen_restart_response, 713},
    {"restart_tunnel", scen_restart_tunnel, 714},
    {"outage_proxies", scen_outage_proxies, 715},
    {"response_enc", scen_response_enc, 8},
    {"chain_all", scen_chain_all, 9},
    {"determinism", scen_determinism, 10},
    {"proxy_abort", scen_proxy_abort, 11},
    {"regconf_lost", scen_regconf_lost, 1},
    {"regconf_never", scen_regconf_never, 17},
    {"register_data", scen_register_data, 16},
    {"receiver_hb", scen_receiver_hb, 13},
    {"tunnel_rlist", scen_tunnel_rlist, 15},
    {"receiver_no_hb", scen_receiver_no_hb, 14},
};

int main(int argc, char **argv)
{
    static const struct scen_prog p = SCEN_PROG("sim_proxy", g_scens, NULL);
    return scen_main(&p, argc, argv);
}
