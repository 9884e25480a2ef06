/*
 * Proxy scenarios (issue 5): the sender, receiver and proxy engines in the
 * virtual network of sim.h, on disjoint networks joined only by proxies
 * (and NAT routers), with loss; every delivered file compared byte for byte.
 *
 *   sim_proxy                    run all scenarios with their default seeds
 *   sim_proxy NAME [SEED]        run one (replay a failing seed)
 *   sim_proxy -v ...             with engine logs at debug level
 *   sim_proxy --corpus DIR       write fuzz seeds (datagrams a proxy received) to DIR
 *
 * A failure prints the scenario and the seed.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/crypto/fp.h"
#include "core/crypto/keyblob.h"
#include "core/crypto/keyfile.h"
#include "core/wire/msg.h"
#include "sim.h"

static const char *g_scen;
static uint64_t g_seed;
static int g_fail;
static const char *g_corpus; /* --corpus DIR */

#define CHECK(c, ...)                                                                              \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "FAIL %s seed=%" PRIu64 " (%s:%d): ", g_scen, g_seed, __FILE__,        \
                    __LINE__);                                                                     \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            g_fail++;                                                                              \
        }                                                                                          \
    } while (0)

#define SEC      UINT64_C(1000000)
#define LIMIT_US (UINT64_C(3600) * SEC)

static const char *const g_dests[] = {"/dest0"};

/* ------------------------------------------------------------ files */

struct files {
    struct file_item it[64];
    const uint8_t *data[64];
    char names[64][32];
    char paths[64][32];
    size_t n;
};

static void add_file(struct sim *s, struct files *f, const char *name, size_t len)
{
    size_t i = f->n++;
    snprintf(f->names[i], sizeof(f->names[i]), "%s", name);
    snprintf(f->paths[i], sizeof(f->paths[i]), "blob-%zu", i);
    f->data[i] = sim_make_blob(s, f->paths[i], len);
    f->it[i] = (struct file_item){.type = FTYPE_REG,
                                  .path = f->paths[i],
                                  .name = f->names[i],
                                  .link = "",
                                  .size = len,
                                  .mtime = 1700000000 + (int64_t)i};
}

static void standard_files(struct sim *s, struct files *f)
{
    add_file(s, f, "empty", 0);
    add_file(s, f, "one", 1);
    add_file(s, f, "block", 1300);
    add_file(s, f, "big", 300000);
    add_file(s, f, "odd", 70001);
}

static void check_delivered(struct sim *s, int rx, const struct files *f)
{
    const struct sim_store *st = sim_store(s, rx);
    for (size_t i = 0; i < f->n; i++) {
        const struct file_item *it = &f->it[i];
        const struct sim_mfile *m = sim_store_find(st, 0, it->name);
        CHECK(m != NULL, "receiver %d: %s missing", rx, it->name);
        if (m == NULL)
            continue;
        CHECK(m->size == it->size && (it->size == 0 || memcmp(m->data, f->data[i], it->size) == 0),
              "receiver %d: %s differs", rx, it->name);
    }
    CHECK(st->bad_writes == 0, "receiver %d: storage misuse", rx);
}

/* ------------------------------------------------------------ keys */

static struct crypto_key *g_keys[4];

static struct crypto_key *key(int i)
{
    if (g_keys[i] == NULL && keyfile_gen_ec(CURVE_P256, &g_keys[i]) != 0) {
        fprintf(stderr, "cannot make a key\n");
        exit(2);
    }
    return g_keys[i];
}

static void fingerprint(const struct crypto_key *k, uint8_t *fp, uint8_t *fplen)
{
    size_t bl;
    const uint8_t *b = crypto_key_blob(k, &bl);
    fp_compute(b, bl, fp);
    *fplen = FP_LEN;
}

/* ------------------------------------------------------------ taps */

/* Counts what reaches one address, by message type; optionally writes fuzz seeds. */
struct counter {
    struct addr at;
    unsigned by_func[32];
    unsigned from_proxy; /* datagrams whose src_id is proxy_id */
    uint32_t proxy_id;
    /* Seeds for tests/fuzz/fuzz_proxy.c: what node `corpus_node` hears. */
    FILE *corpus;
    struct sim *sim;
    int corpus_node;
    int peer_of[16]; /* sending node -> fuzz peer index (0 server, 1 downstream, 2.. clients) */
    uint64_t last_t;
    size_t corpus_n, filesegs;
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

static void tap(void *arg, int from, const struct addr *src, const struct addr *dst,
                const uint8_t *p, size_t len, uint64_t t)
{
    (void)src;
    struct counter *c = arg;
    if (len >= UFTP_HDR_LEN && addr_equal(dst, &c->at)) {
        c->by_func[p[1] & 31]++;
        uint32_t id = (uint32_t)p[4] << 24 | (uint32_t)p[5] << 16 | (uint32_t)p[6] << 8 | p[7];
        if (id == c->proxy_id)
            c->from_proxy++;
    }
    /* A few data packets are enough: keep the seeds small. */
    bool data = len > 1 && (p[1] == FILESEG || (p[1] == ENCRYPTED && len > 1000));
    if (c->corpus && c->corpus_n < 600 && len < 65536 && from != c->corpus_node && from < 16 &&
        c->peer_of[from] >= 0 && !(data && c->filesegs++ >= 24) &&
        (to_node(c->sim, c->corpus_node, dst) || addr_is_multicast(dst))) {
        uint64_t step = (t - c->last_t) / 1000;
        c->last_t = t;
        uint8_t h[4] = {(uint8_t)(step > 255 ? 255 : step), (uint8_t)(c->peer_of[from]),
                        (uint8_t)(len >> 8), (uint8_t)len};
        fwrite(h, 4, 1, c->corpus);
        fwrite(p, len, 1, c->corpus);
        c->corpus_n++;
    }
}

/* Opens DIR/name for seeds of a proxy in fuzz role `role` (fuzz_proxy.c's first byte). */
static void corpus_open(struct counter *c, struct sim *s, const char *name, uint8_t role, int node)
{
    if (g_corpus == NULL)
        return;
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", g_corpus, name);
    c->corpus = fopen(path, "wb");
    if (c->corpus == NULL)
        return;
    fwrite(&role, 1, 1, c->corpus);
    c->sim = s;
    c->corpus_node = node;
    for (int i = 0; i < 16; i++)
        c->peer_of[i] = -1;
}

/* ------------------------------------------------------------ topologies */

struct topo {
    struct sim *s;
    struct files f;
    struct sender_config sc;
    struct receiver_config rc[16];
    struct receiver_server srv[1]; /* every receiver's -S: the sender, through its proxy */
    struct proxy_config pc[4];
    struct addr pub, hb[4], self[4][2];
    struct sender_dest dests[16], proxies[4];
    int tx, rx[16], px[4], nrx, npx;
};

static struct topo *topo_new(uint64_t seed)
{
    struct topo *t = calloc(1, sizeof(*t));
    t->s = sim_new(seed);
    sim_group_addr(t->s, 0, 0, false, &t->pub);
    return t;
}

static void topo_free(struct topo *t)
{
    sim_free(t->s);
    free(t);
}

/* The sender's config with the test defaults; tweak it, then add_sender(). */
static struct sender_config *sender_prep(struct topo *t, bool closed)
{
    sender_config_defaults(&t->sc);
    t->sc.rate_kbps = 20000;
    t->sc.files = t->f.it;
    t->sc.nfiles = t->f.n;
    if (closed) {
        for (int i = 0; i < t->nrx; i++)
            t->dests[i].id = t->rc[i].client_id;
        t->sc.dests = t->dests;
        t->sc.ndest = (size_t)t->nrx;
    }
    return &t->sc;
}

static int add_sender(struct topo *t, const struct sim_link *link)
{
    t->tx = sim_add_sender(t->s, &t->sc, link, NULL);
    t->srv[0].id = t->sc.server_id; /* every receiver's -S: this sender */
    CHECK(t->tx >= 0, "sender_new failed");
    return t->tx;
}

static int add_receiver(struct topo *t, const struct sim_link *link)
{
    struct receiver_config *c = &t->rc[t->nrx];
    receiver_config_defaults(c);
    c->dests = g_dests;
    c->ndest = 1;
    c->pub_addrs = &t->pub;
    c->npub = 1;
    /* Filled in once the sender (and its proxy) exist: the array is borrowed. */
    c->servers = t->srv;
    c->nserver = 1;
    int i = sim_add_receiver(t->s, c, link);
    CHECK(i >= 0, "receiver_new failed");
    t->rx[t->nrx++] = i;
    return i;
}

/* A proxy with interfaces on net a (first) and net b. */
static int add_proxy(struct topo *t, int k, enum proxy_role role, int a, int b,
                     const struct sim_link *link)
{
    struct proxy_config *c = &t->pc[k];
    c->role = role;
    c->key = key(k);
    c->pub_addrs = &t->pub;
    c->npub = 1;
    sim_set_net(t->s, a);
    int i = sim_add_proxy(t->s, c, link);
    CHECK(i >= 0, "proxy_new failed");
    if (b >= 0)
        sim_add_if(t->s, i, b, NULL);
    t->px[k] = i;
    return i;
}

static void proxy_defaults(struct proxy_config *c)
{
    proxy_config_defaults(c);
}

/* ------------------------------------------------------------ scenarios */

/*
 * sender → server proxy → one receiver on another network (the tunnel
 * needs nothing from the ends: the receiver answers the ANNOUNCE's source),
 * 10 % loss towards the receiver.
 */
static void scen_server_single(uint64_t seed)
{
    struct topo *t = topo_new(seed);
    struct sim_link lossy = {.loss_pct = 10, .delay_us = 2000, .jitter_us = 500};
    standard_files(t->s, &t->f);
    sim_set_net(t->s, 1);
    add_receiver(t, &lossy);
    proxy_defaults(&t->pc[0]);
    sim_node_addr_on(t->s, t->rx[0], 1, &t->pc[0].down);
    add_proxy(t, 0, PROXY_SERVER, 0, 1, NULL);
    sim_set_net(t->s, 0);
    sender_prep(t, true);
    add_sender(t, NULL);
    CHECK(sim_run(t->s, LIMIT_US), "did not finish");
    CHECK(sim_exit_code(t->s, t->tx) == 0, "sender exit %d", sim_exit_code(t->s, t->tx));
    check_delivered(t->s, t->rx[0], &t->f);
    struct proxy_stats st;
    proxy_stats(sim_proxy(t->s, t->px[0]), &st);
    CHECK(st.forwarded > 200, "forwarded only %" PRIu64, st.forwarded);
    CHECK(st.sessions_seen == 1, "sessions %" PRIu64, st.sessions_seen);
    topo_free(t);
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

/* Everything a proxy sent the sender, and whether any receiver reached it directly. */
struct at_sender {
    struct counter c;
    unsigned from_others;
};

static void sender_tap(void *arg, int from, const struct addr *src, const struct addr *dst,
                       const uint8_t *p, size_t len, uint64_t t)
{
    struct at_sender *a = arg;
    tap(&a->c, from, src, dst, p, len, t);
    if (len >= 8 && addr_equal(dst, &a->c.at)) {
        uint32_t id = (uint32_t)p[4] << 24 | (uint32_t)p[5] << 16 | (uint32_t)p[6] << 8 | p[7];
        if (id != a->c.proxy_id && p[1] != HB_REQ)
            a->from_others++;
    }
}

/*
 * The tunnel: sender (net 0) → server proxy (nets 0, 1) → client proxy
 * (nets 1, 2) → 4 receivers (net 2) with 10 % loss each way, closed group,
 * the client proxy in -j; encrypted or not, with client authentication.
 */
static uint64_t g_hash;     /* the last tunnel's trace hash */
static uint64_t g_stop_cp;  /* stop the client proxy at this time (0: never) */
static bool g_lose_regconf; /* every REG_CONF before the first FILEINFO is lost */
static int g_rlist;         /* receivers' -R: 0 none, 1 the client proxy's fingerprint, 2 another */

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
    if (p[1] != REG_CONF || l->fileinfo)
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
    struct addr at; /* the sender */
    uint8_t reg[4096];  /* the last REGISTER it had from sp */
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

static void late_reg_tap(void *arg, int from, const struct addr *src,
                         const struct addr *dst, const uint8_t *p, size_t len, uint64_t t)
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
    struct topo *t = topo_new(seed);
    struct sim_link lossy = {.loss_pct = 10, .delay_us = 1000, .jitter_us = 300};
    struct sim_link wan = {.delay_us = 10000, .jitter_us = 1000};
    if (g_lose_regconf)
        wan.delay_us = 1000; /* a short GRTT, so a short FILEINFO round */
    standard_files(t->s, &t->f);
    sim_set_net(t->s, 2);
    for (int i = 0; i < 4; i++)
        add_receiver(t, &lossy);
    /* The client proxy first: the server proxy needs its address. */
    proxy_defaults(&t->pc[1]);
    add_proxy(t, 1, PROXY_CLIENT, 1, 2, NULL);
    sim_set_mcast_net(t->s, t->px[1], 2);
    static struct receiver_proxy rlist[1];
    if (g_rlist != 0) {
        /* -R: the proxy's ID with a fingerprint, checked against its signed PROXY_KEY. */
        memset(rlist, 0, sizeof(rlist));
        rlist[0].id = t->pc[1].proxy_id;
        fingerprint(key(g_rlist == 1 ? 1 : 2), rlist[0].fp, &rlist[0].fplen);
        for (int i = 0; i < t->nrx; i++)
            CHECK(receiver_set_trust(sim_receiver(t->s, t->rx[i]), t->srv, 1, rlist, 1) == 0,
                  "receiver_set_trust");
    }
    proxy_defaults(&t->pc[0]);
    sim_node_addr_on(t->s, t->px[1], 1, &t->pc[0].down);
    add_proxy(t, 0, PROXY_SERVER, 0, 1, &wan);
    sim_set_net(t->s, 0);
    struct sender_config *sc = sender_prep(t, true);
    encrypt(sc, enc, client_auth);
    sc->proxies = t->proxies;
    sc->nproxy = 1;
    t->proxies[0].id = t->pc[1].proxy_id;
    add_sender(t, NULL);
    t->srv[0].proxy_id = t->pc[1].proxy_id;
    if (g_stop_cp != 0) {
        /* The client proxy shuts down mid-transfer: its ABORTs must end the
         * session on both sides at once, encrypted where keys exist. */
        add_file(t->s, &t->f, "large", 3000000);
        t->sc.nfiles = t->f.n; /* (borrowed: the sender sees the longer list) */
        sim_interrupt_at(t->s, t->px[1], g_stop_cp);
        CHECK(sim_run(t->s, LIMIT_US), "did not finish");
        /* Everyone aborted: exit 9, or 8 when it happens during a FILEINFO round. */
        CHECK(sim_exit_code(t->s, t->tx) == SENDER_EXIT_DROPPED ||
                  sim_exit_code(t->s, t->tx) == SENDER_EXIT_NO_FILEINFO,
              "sender exit %d", sim_exit_code(t->s, t->tx));
        uint64_t ended = sim_store(t->s, t->tx)->ended_us;
        CHECK(ended >= g_stop_cp && ended < g_stop_cp + 300000,
              "sender ended %.3f s after the proxy stopped", ((double)ended - g_stop_cp) / 1e6);
        /* A receiver whose ABORT was lost (10 %) ends on its own timeout instead. */
        int prompt = 0;
        for (int i = 0; i < t->nrx; i++) {
            const struct sim_store *st = sim_store(t->s, t->rx[i]);
            CHECK(st->session_ends == 1 && st->session_ends_ok == 0,
                  "receiver %d: %u sessions ended, %u completed", i, st->session_ends,
                  st->session_ends_ok);
            if (st->ended_us >= g_stop_cp && st->ended_us < g_stop_cp + 300000)
                prompt++;
        }
        CHECK(prompt >= t->nrx / 2, "only %d receivers saw the proxy's ABORT", prompt);
        topo_free(t);
        return;
    }
    struct regconf_loss rl = {.tx = t->tx};
    if (g_lose_regconf)
        sim_set_drop(t->s, lose_regconf, &rl);
    static struct late_reg lr;
    if (g_late_register) {
        memset(&lr, 0, sizeof(lr));
        lr.s = t->s;
        lr.tx = t->tx;
        lr.sp = t->px[0];
        sim_node_addr(t->s, t->tx, &lr.at);
        sim_set_tap(t->s, late_reg_tap, &lr);
    }
    struct counter ct;
    memset(&ct, 0, sizeof(ct));
    if (!enc) {
        /* Seeds for fuzz_proxy: what the client proxy hears (role 2). */
        corpus_open(&ct, t->s, "client-tunnel", 2, t->px[1]);
        ct.peer_of[t->px[0]] = 0;
        for (int i = 0; i < t->nrx; i++)
            ct.peer_of[t->rx[i]] = 2 + i;
        sim_set_tap(t->s, tap, &ct);
    }
    CHECK(sim_run(t->s, LIMIT_US), "did not finish");
    if (g_rlist == 2) {
        /* Every receiver refuses the proxy: nothing delivered, the sender says so. */
        CHECK(sim_exit_code(t->s, t->tx) != 0, "sender exit 0 with no receiver");
        for (int i = 0; i < t->nrx; i++) {
            const struct sim_store *st = sim_store(t->s, t->rx[i]);
            CHECK(st->session_ends_ok == 0 && sim_store_count(st) == 0,
                  "receiver %d took files through a proxy with the wrong key", i);
        }
        topo_free(t);
        return;
    }
    CHECK(sim_exit_code(t->s, t->tx) == 0, "sender exit %d", sim_exit_code(t->s, t->tx));
    CHECK(!g_lose_regconf || rl.lost > 0, "no REG_CONF lost");
    if (g_late_register) {
        CHECK(lr.injected != 0, "no REGISTER went in during a data phase");
        CHECK(lr.regconf_data > 0, "no REG_CONF for the proxy's REGISTER in the data phase");
    }
    for (int i = 0; i < t->nrx; i++)
        check_delivered(t->s, t->rx[i], &t->f);
    g_hash = sim_trace_hash(t->s);
    if (ct.corpus)
        fclose(ct.corpus);
    struct proxy_stats st;
    proxy_stats(sim_proxy(t->s, t->px[1]), &st);
    CHECK(st.aggregated_out > 0 && st.aggregated_in > st.aggregated_out,
          "client proxy: %" PRIu64 " answers in %" PRIu64 " aggregates", st.aggregated_in,
          st.aggregated_out);
    topo_free(t);
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
    g_lose_regconf = true;
    for (uint64_t i = 0; i < 8; i++)
        tunnel(seed + i, true, false);
    g_lose_regconf = false;
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
    struct topo *t = topo_new(seed);
    struct sim_link lan = {.delay_us = 500, .jitter_us = 100};
    standard_files(t->s, &t->f);
    for (int i = 0; i < 8; i++)
        add_receiver(t, &lan);
    proxy_defaults(&t->pc[0]);
    t->pc[0].client_port = 1044;
    add_proxy(t, 0, PROXY_RESPONSE, 0, -1, &lan);
    struct sender_config *sc = sender_prep(t, true);
    encrypt(sc, enc, false);
    sc->proxies = t->proxies;
    sc->nproxy = 1;
    t->proxies[0].id = t->pc[0].proxy_id;
    add_sender(t, &lan);
    t->srv[0].proxy_id = t->pc[0].proxy_id;
    struct at_sender a;
    memset(&a, 0, sizeof(a));
    sim_node_addr(t->s, t->tx, &a.c.at);
    a.c.proxy_id = t->pc[0].proxy_id;
    if (!enc) {
        /* Seeds for fuzz_proxy: what the response proxy hears (role 3). */
        corpus_open(&a.c, t->s, "response", 3, t->px[0]);
        a.c.peer_of[t->tx] = 0;
        for (int i = 0; i < 4; i++)
            a.c.peer_of[t->rx[i]] = 2 + i;
    }
    sim_set_tap(t->s, sender_tap, &a);
    CHECK(sim_run(t->s, LIMIT_US), "did not finish");
    CHECK(sim_exit_code(t->s, t->tx) == 0, "sender exit %d", sim_exit_code(t->s, t->tx));
    for (int i = 0; i < t->nrx; i++)
        check_delivered(t->s, t->rx[i], &t->f);
    CHECK(a.from_others == 0, "the sender heard %u datagrams from receivers", a.from_others);
    /* 5 files: REGISTER, 5 FILEINFO_ACK, 5 COMPLETE, COMPLETE(0) [, KEYINFO_ACK] — not x 8. */
    CHECK(a.c.from_proxy >= 12 && a.c.from_proxy <= 20, "%u datagrams from the proxy",
          a.c.from_proxy);
    if (a.c.corpus)
        fclose(a.c.corpus);
    if (!enc) {
        CHECK(a.c.by_func[REGISTER] == 1, "%u REGISTERs", a.c.by_func[REGISTER]);
        CHECK(a.c.by_func[FILEINFO_ACK] == 5, "%u FILEINFO_ACKs for 5 files",
              a.c.by_func[FILEINFO_ACK]);
    }
    topo_free(t);
}

static void scen_response(uint64_t seed)
{
    response(seed, false);
}

static void scen_response_enc(uint64_t seed)
{
    response(seed, true);
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
    struct topo *t = topo_new(seed);
    struct sim_link lossy = {.loss_pct = 5, .delay_us = 1000, .jitter_us = 300};
    struct sim_link wan = {.loss_pct = 1, .delay_us = 20000, .jitter_us = 2000};
    standard_files(t->s, &t->f);
    add_file(t->s, &t->f, "large", 1500000);
    sim_set_net(t->s, 4);
    for (int i = 0; i < 4; i++)
        add_receiver(t, &lossy);
    proxy_defaults(&t->pc[1]);
    fingerprint(key(2), t->pc[1].down_fp, &t->pc[1].down_fplen);
    add_proxy(t, 1, PROXY_SERVER, 1, 2, &wan); /* SP2 */
    proxy_defaults(&t->pc[0]);
    sim_node_addr_on(t->s, t->px[1], 1, &t->pc[0].down);
    add_proxy(t, 0, PROXY_SERVER, 0, 1, NULL); /* SP1 */
    int nat = sim_add_nat(t->s, 3, 2, 5 * SEC, NULL);
    proxy_defaults(&t->pc[2]);
    sim_node_addr_on(t->s, t->px[1], 2, &t->hb[0]);
    t->pc[2].hb_hosts = t->hb;
    t->pc[2].nhb = 1;
    t->pc[2].hb_interval_us = 1 * SEC;
    add_proxy(t, 2, PROXY_CLIENT, 3, 4, NULL); /* CP, behind the NAT */
    sim_set_mcast_net(t->s, t->px[2], 4);
    sim_set_net(t->s, 0);
    struct sender_config *sc = sender_prep(t, true);
    encrypt(sc, true, true);
    sc->rate_kbps = 4000;
    sc->grtt_min_us = 100000;
    sc->proxies = t->proxies;
    sc->nproxy = 1;
    t->proxies[0].id = t->pc[2].proxy_id;
    add_sender(t, NULL);
    t->srv[0].proxy_id = t->pc[2].proxy_id;
    sim_call_at(t->s, 6 * SEC, rebind, (void *)(intptr_t)nat);
    CHECK(sim_run(t->s, LIMIT_US), "did not finish");
    CHECK(sim_exit_code(t->s, t->tx) == 0, "sender exit %d", sim_exit_code(t->s, t->tx));
    for (int i = 0; i < t->nrx; i++)
        check_delivered(t->s, t->rx[i], &t->f);
    struct proxy_stats st;
    proxy_stats(sim_proxy(t->s, t->px[1]), &st);
    CHECK(st.hb_auth_ok >= 1, "SP2: %" PRIu64 " authenticated heartbeats", st.hb_auth_ok);
    topo_free(t);
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
    struct topo *t = topo_new(seed);
    struct sim_link lossy = {.loss_pct = 5, .delay_us = 1000, .jitter_us = 300};
    struct sim_link wan = {.loss_pct = 2, .delay_us = 15000, .jitter_us = 2000};
    standard_files(t->s, &t->f);
    add_file(t->s, &t->f, "large", 2000000);
    sim_set_net(t->s, 3);
    add_receiver(t, &lossy);
    /* SP1: fingerprint mode, learns its downstream from heartbeats. */
    proxy_defaults(&t->pc[0]);
    fingerprint(key(1), t->pc[0].down_fp, &t->pc[0].down_fplen);
    add_proxy(t, 0, PROXY_SERVER, 0, 1, &wan);
    struct addr sp1;
    sim_node_addr_on(t->s, t->px[0], 1, &sp1);
    int nat = sim_add_nat(t->s, 2, 1, 5 * SEC, NULL);
    /* SP2: behind the NAT, fixed downstream, heartbeats to SP1. */
    proxy_defaults(&t->pc[1]);
    sim_node_addr_on(t->s, t->rx[0], 3, &t->pc[1].down);
    if (heartbeats) {
        t->hb[0] = sp1;
        t->pc[1].hb_hosts = t->hb;
        t->pc[1].nhb = 1;
        t->pc[1].hb_interval_us = 1 * SEC;
    }
    add_proxy(t, 1, PROXY_SERVER, 2, 3, NULL);
    sim_set_net(t->s, 0);
    struct sender_config *sc = sender_prep(t, true);
    sc->rate_kbps = 4000;
    sc->grtt_min_us = 100000;
    add_sender(t, NULL);
    struct counter ct;
    memset(&ct, 0, sizeof(ct));
    if (heartbeats) {
        /* Seeds for fuzz_proxy: SP1 with a fixed downstream at the NAT's first port. */
        corpus_open(&ct, t->s, "server-chain", 0, t->px[0]);
        ct.peer_of[t->tx] = 0;
        ct.peer_of[t->px[1]] = 1;
        sim_set_tap(t->s, tap, &ct);
    }
    if (heartbeats)
        sim_call_at(t->s, 6 * SEC, rebind, (void *)(intptr_t)nat);
    CHECK(sim_run(t->s, LIMIT_US), "did not finish");
    struct proxy_stats st;
    proxy_stats(sim_proxy(t->s, t->px[0]), &st);
    if (heartbeats) {
        CHECK(sim_exit_code(t->s, t->tx) == 0, "sender exit %d", sim_exit_code(t->s, t->tx));
        check_delivered(t->s, t->rx[0], &t->f);
        /* Once at the start, once after the rebind (then the address is known). */
        CHECK(st.hb_auth_ok == 2, "%" PRIu64 " authenticated heartbeats", st.hb_auth_ok);
        CHECK(addr_port(&st.down) != 20000, "downstream still at the first NAT port");
    } else {
        CHECK(sim_exit_code(t->s, t->tx) == SENDER_EXIT_NO_REGISTER, "sender exit %d",
              sim_exit_code(t->s, t->tx));
        CHECK(st.hb_auth_ok == 0 && st.dropped > 0 && st.forwarded == 0,
              "no heartbeats, yet %" PRIu64 " forwarded", st.forwarded);
    }
    if (ct.corpus)
        fclose(ct.corpus);
    topo_free(t);
}

/*
 * uftpd -H (spec §2.2): a lone receiver behind a NAT router heartbeats a
 * server proxy in fingerprint mode itself, signing the challenge with its
 * key: sender (net 0) → SP (nets 0, 1; -s fp=the receiver's key) → NAT (1
 * outside, 2 inside) → receiver (net 2), encrypted. Halfway the NAT forgets
 * its mappings and the server proxy follows the receiver's new port. A
 * receiver without -H is never found.
 */
static void receiver_hb(uint64_t seed, bool heartbeats)
{
    struct topo *t = topo_new(seed);
    struct sim_link lossy = {.loss_pct = 5, .delay_us = 1000, .jitter_us = 300};
    struct sim_link wan = {.loss_pct = 2, .delay_us = 15000, .jitter_us = 2000};
    standard_files(t->s, &t->f);
    add_file(t->s, &t->f, "large", 2000000);
    proxy_defaults(&t->pc[0]);
    fingerprint(key(3), t->pc[0].down_fp, &t->pc[0].down_fplen);
    add_proxy(t, 0, PROXY_SERVER, 0, 1, &wan);
    int nat = sim_add_nat(t->s, 2, 1, 5 * SEC, NULL);
    /* The receiver: its key signs the heartbeat challenge. */
    struct receiver_config *c = &t->rc[0];
    receiver_config_defaults(c);
    c->dests = g_dests;
    c->ndest = 1;
    c->pub_addrs = &t->pub;
    c->npub = 1;
    c->servers = t->srv;
    c->nserver = 1;
    c->sigkey = key(3);
    if (heartbeats) {
        sim_node_addr_on(t->s, t->px[0], 1, &t->hb[0]);
        c->hb_hosts = t->hb;
        c->nhb = 1;
        c->hb_interval_us = 1 * SEC;
    }
    sim_set_net(t->s, 2);
    t->rx[0] = sim_add_receiver(t->s, c, &lossy);
    CHECK(t->rx[0] >= 0, "receiver_new failed");
    t->nrx = 1;
    sim_set_net(t->s, 0);
    struct sender_config *sc = sender_prep(t, true);
    encrypt(sc, true, false);
    sc->rate_kbps = 4000;
    sc->grtt_min_us = 100000;
    add_sender(t, NULL);
    if (heartbeats)
        sim_call_at(t->s, 6 * SEC, rebind, (void *)(intptr_t)nat);
    CHECK(sim_run(t->s, LIMIT_US), "did not finish");
    struct proxy_stats st;
    proxy_stats(sim_proxy(t->s, t->px[0]), &st);
    if (heartbeats) {
        CHECK(sim_exit_code(t->s, t->tx) == 0, "sender exit %d", sim_exit_code(t->s, t->tx));
        check_delivered(t->s, t->rx[0], &t->f);
        /* Once at the start, once after the rebind. */
        CHECK(st.hb_auth_ok == 2, "%" PRIu64 " authenticated heartbeats", st.hb_auth_ok);
        CHECK(addr_port(&st.down) != 20000, "downstream still at the first NAT port");
    } else {
        CHECK(sim_exit_code(t->s, t->tx) == SENDER_EXIT_NO_REGISTER, "sender exit %d",
              sim_exit_code(t->s, t->tx));
        CHECK(st.hb_auth_ok == 0 && st.forwarded == 0, "no heartbeats, yet %" PRIu64 " forwarded",
              st.forwarded);
    }
    topo_free(t);
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

static const struct {
    const char *name;
    void (*fn)(uint64_t);
    uint64_t seed;
} g_scens[] = {
    {"server_single", scen_server_single, 1},
    {"chain_nat", scen_chain_nat, 2},
    {"chain_nat_no_hb", scen_chain_nat_no_hb, 3},
    {"tunnel", scen_tunnel, 4},
    {"tunnel_enc", scen_tunnel_enc, 5},
    {"tunnel_auth", scen_tunnel_auth, 6},
    {"response", scen_response, 7},
    {"response_enc", scen_response_enc, 8},
    {"chain_all", scen_chain_all, 9},
    {"determinism", scen_determinism, 10},
    {"proxy_abort", scen_proxy_abort, 11},
    {"regconf_lost", scen_regconf_lost, 1},
    {"register_data", scen_register_data, 16},
    {"receiver_hb", scen_receiver_hb, 13},
    {"tunnel_rlist", scen_tunnel_rlist, 15},
    {"receiver_no_hb", scen_receiver_no_hb, 14},
};

int main(int argc, char **argv)
{
    int a = 1;
    for (; a < argc && argv[a][0] == '-'; a++) {
        if (strcmp(argv[a], "-v") == 0) {
            sim_set_log_level(LL_DEBUG);
        } else if (strcmp(argv[a], "--corpus") == 0 && a + 1 < argc) {
            g_corpus = argv[++a];
        } else {
            fprintf(stderr, "usage: sim_proxy [-v] [--corpus DIR] [NAME [SEED]]\n");
            return 2;
        }
    }
    const char *only = a < argc ? argv[a++] : NULL;
    const char *seed_txt = a < argc ? argv[a++] : NULL;
    int ran = 0;
    for (size_t i = 0; i < sizeof(g_scens) / sizeof(g_scens[0]); i++) {
        if (only != NULL && strcmp(only, g_scens[i].name) != 0)
            continue;
        g_scen = g_scens[i].name;
        g_seed = seed_txt ? strtoull(seed_txt, NULL, 0) : g_scens[i].seed;
        int before = g_fail;
        clock_t t0 = clock();
        g_scens[i].fn(g_seed);
        double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
        printf("%-20s seed=%-4" PRIu64 " %s  %.2fs\n", g_scen, g_seed,
               g_fail == before ? "ok  " : "FAIL", secs);
        fflush(stdout);
        ran++;
    }
    for (int i = 0; i < 4; i++)
        crypto_key_free(g_keys[i]);
    if (ran == 0) {
        fprintf(stderr, "no scenario named %s\n", only ? only : "?");
        return 2;
    }
    return g_fail ? 1 : 0;
}
