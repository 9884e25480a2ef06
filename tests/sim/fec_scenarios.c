/*
 * Parity repair (issue 17, spec §9) in whole sessions: our sender and
 * receivers negotiate FEC and repair by parity; receivers that do not
 * answer DECODE (fec_off: as a reference receiver behaves) are served by
 * plain resends in the same session; a sender without FEC is plain NAK
 * repair; proactive parity (--fec PCT) in the first pass. Every file is
 * checked byte for byte (scen.h).
 *
 *   sim_fec                 every scenario (ctest)
 *   sim_fec fec_measure     one measured case from the environment, for
 *                           bench/fec.sh: FEC_RX receivers (100), FEC_LOSS
 *                           % loss (1), FEC_KB file size (2048), FEC_MODE
 *                           off | on | PCT[:K] (on), FEC_RTT_MS (600);
 *                           prints one line of figures.
 */
#include <stdlib.h>
#include <string.h>

#include "core/wire/msg.h"
#include "scen.h"

static void no_fec_rx(struct run *r, int i, struct receiver_config *c)
{
    (void)r;
    (void)i;
    c->fec_off = true;
}

/* Every other receiver behaves as a reference one (no DECODE). */
static void mixed_rx(struct run *r, int i, struct receiver_config *c)
{
    (void)r;
    c->fec_off = i % 2 == 1;
}

static uint64_t decoded(struct run *r, int i)
{
    return rx_stats(r, i).fec_decoded;
}

/* The sender's ENCRYPTED counters (FILESEG and FEC_PARITY alike): never reused. */
static void nonce_tap(void *arg, int from, const struct addr *src, const struct addr *dst,
                      const uint8_t *p, size_t len, uint64_t t)
{
    (void)from, (void)src, (void)dst, (void)t;
    struct wire_datagram d;
    if (len > UFTP_MAX_DATAGRAM || wire_datagram_decode(&d, p, len) < 0 ||
        d.hdr.func != ENCRYPTED || d.hdr.src_id != 0x0A000101)
        return;
    scen_nonce(arg, d.hdr.src_id, d.enc.iv_ctr);
}

/* 10 receivers at 5% loss: parity repairs, nothing else decodes or fails. */
static void scen_fec_basic(uint64_t seed)
{
    for (int enc = 0; enc < 2; enc++) {
        scen_case("%s", enc ? "aes256-gcm" : "clear");
        struct run *r = run_new(seed + (uint64_t)enc);
        scen_file(r->s, r->f, "a", 1500000);
        scen_file(r->s, r->f, "small", 3000);
        struct sim_link lk = {.loss_pct = 5, .delay_us = 20000, .jitter_us = 200};
        run_receivers(r, 10, &lk, NULL);
        run_sender(r);
        if (!enc)
            r->sc.keytype = KEY_NONE;
        r->sc.server_id = 0x0A000101;
        static struct scen_nonces nw;
        memset(&nw, 0, sizeof(nw));
        run_tap(r, nonce_tap, &nw);
        run_add_sender(r, NULL);
        run_expect(r, 0);
        run_delivered(r);
        /* Parity is sealed like data: one counter, never reused, so the replay window holds. */
        CHECK(nw.reused == 0 && (enc ? nw.nsrc == 1 : nw.nsrc == 0),
              "%u counters reused, %u senders", nw.reused, nw.nsrc);
        scen_nonces_free(&nw);
        struct sender_stats st = tx_stats(r);
        CHECK(st.fec_decoders == 10, "%u decoders registered", st.fec_decoders);
        CHECK(st.fec_packets > 0, "no parity sent");
        uint64_t dec = 0;
        for (int i = 0; i < r->nrx; i++) {
            dec += decoded(r, i);
            CHECK(rx_stats(r, i).fec_dropped == 0, "rx %d dropped %" PRIu64 " parity", i,
                  rx_stats(r, i).fec_dropped);
        }
        CHECK(dec > 0, "nothing decoded");
        /* Plain repair of 5% at 10 receivers resends ~40% of the file; parity far less. */
        uint64_t fb = r->f->it[0].size / 1300 + 1;
        CHECK(st.data_packets < fb * 110 / 100, "%" PRIu64 " FILESEG for %" PRIu64 " blocks",
              st.data_packets, fb);
        run_free(r);
    }
    scen_case(NULL);
}

/* Mixed: half the receivers do not decode. They get their NAKed blocks, ours parity. */
static void scen_fec_mixed(uint64_t seed)
{
    struct run *r = run_new(seed);
    scen_file(r->s, r->f, "m", 1200000);
    struct sim_link lk = {.loss_pct = 5, .delay_us = 20000, .jitter_us = 200};
    run_receivers(r, 8, &lk, mixed_rx);
    run_sender(r);
    run_add_sender(r, NULL);
    run_expect(r, 0);
    run_delivered(r);
    struct sender_stats st = tx_stats(r);
    CHECK(st.fec_decoders == 4, "%u decoders registered", st.fec_decoders);
    for (int i = 0; i < r->nrx; i++) {
        struct receiver_stats rs = rx_stats(r, i);
        if (i % 2 == 1)
            CHECK(rs.fec_decoded == 0 && rs.fec_parity == 0, "reference-like rx %d decoded", i);
        else
            CHECK(rs.fec_decoded > 0, "rx %d decoded nothing", i);
    }
    run_free(r);
}

/* No receiver decodes: no parity at all, plain NAK repair as 5.0.1. */
static void scen_fec_none_decode(uint64_t seed)
{
    struct run *r = run_new(seed);
    scen_file(r->s, r->f, "n", 800000);
    struct sim_link lk = {.loss_pct = 5, .delay_us = 10000};
    run_receivers(r, 5, &lk, no_fec_rx);
    run_sender(r);
    run_add_sender(r, NULL);
    run_expect(r, 0);
    run_delivered(r);
    CHECK(tx_stats(r).fec_packets == 0, "%" PRIu64 " parity sent", tx_stats(r).fec_packets);
    CHECK(tx_stats(r).fec_decoders == 0, "decoders");
    run_free(r);
}

/* A sender without FEC (--fec off, or a reference sender): our receivers never see an offer. */
static void scen_fec_sender_off(uint64_t seed)
{
    struct run *r = run_new(seed);
    scen_file(r->s, r->f, "o", 800000);
    struct sim_link lk = {.loss_pct = 5, .delay_us = 10000};
    run_receivers(r, 5, &lk, NULL);
    run_sender(r)->fec_off = true;
    run_add_sender(r, NULL);
    run_expect(r, 0);
    run_delivered(r);
    CHECK(tx_stats(r).fec_packets == 0 && tx_stats(r).fec_decoders == 0, "parity without offer");
    for (int i = 0; i < r->nrx; i++)
        CHECK(rx_stats(r, i).fec_parity == 0, "rx %d got parity", i);
    run_free(r);
}

/* --fec 10: parity in the first pass; at 1% loss the first pass is nearly always enough. */
static void scen_fec_proactive(uint64_t seed)
{
    struct run *r = run_new(seed);
    scen_file(r->s, r->f, "p", 2000000);
    struct sim_link lk = {.loss_pct = 1, .delay_us = 50000};
    run_receivers(r, 10, &lk, NULL);
    run_sender(r);
    r->sc.fec_pct = 10;
    r->sc.fec_k = 64;
    run_add_sender(r, NULL);
    run_expect(r, 0);
    run_delivered(r);
    struct sender_stats st = tx_stats(r);
    uint64_t blocks = 2000000 / 1300 + 1;
    CHECK(st.fec_packets >= blocks / 10, "%" PRIu64 " parity for %" PRIu64 " blocks",
          st.fec_packets, blocks);
    uint64_t dec = 0;
    for (int i = 0; i < r->nrx; i++)
        dec += decoded(r, i);
    CHECK(dec > 0, "nothing decoded");
    run_free(r);
}

/* Small blocks, a file of several sections and a short last block: layouts at the edges. */
static void scen_fec_sections(uint64_t seed)
{
    struct run *r = run_new(seed);
    const size_t b = 512, sec = 8 * b * b;
    scen_file(r->s, r->f, "s2+1", 2 * sec + 1);
    scen_file(r->s, r->f, "s1-7", sec - 7);
    scen_file(r->s, r->f, "tiny", 700);
    struct sim_link lk = {.loss_pct = 8, .delay_us = 5000, .jitter_us = 3000};
    run_receivers(r, 6, &lk, mixed_rx);
    run_sender(r);
    r->sc.blocksize = (uint16_t)b;
    r->sc.rate_kbps = 400000;
    r->sc.fec_k = 40;
    run_add_sender(r, NULL);
    run_expect(r, 0);
    run_delivered(r);
    run_free(r);
}

/* A receiver behind the response proxy (its -S entry names it), half of them reference-like
 * when mixed. */
static bool g_px_mixed;
static void proxied_rx(struct run *r, int i, struct receiver_config *c)
{
    c->ndest = 1;
    c->servers = r->srv; /* filled in once the sender and proxy exist */
    c->nserver = 1;
    c->fec_off = g_px_mixed && i % 2 == 1;
}

/*
 * Issue 17, spec §9.4: 8 receivers at 5% loss behind one of our proxies,
 * encrypted. The proxy registers AGGREGATE and sends count reports (per FEC
 * block the most any of its decoding clients needs); the sender repairs by
 * parity, every copy exact. Cases: a response proxy; the same with half the
 * receivers not decoding (the proxy also sends plain NAKs for them, which
 * the sender resends as blocks); a tunnel (server proxy, client proxy that
 * passes the parity down and aggregates).
 */
static void scen_fec_proxy(uint64_t seed)
{
    static const char *const names[] = {"response", "response, mixed", "tunnel",
                                        "response, parity ids run out"};
    for (int c = 0; c < 4; c++) {
        scen_case("%s", names[c]);
        bool mixed = c == 1, tunnel = c == 2, heavy = c == 3;
        g_px_mixed = mixed;
        struct run *r = run_new(seed + (uint64_t)c);
        scen_file(r->s, r->f, "big", 1500000);
        scen_file(r->s, r->f, "small", 20000);
        /* heavy: K = 220 leaves 36 parity ids per FEC block, fewer than 30% loss needs:
         * the sender must resend such a FEC block whole (a proxy's bits only count). */
        struct sim_link lk = {.loss_pct = heavy ? 30 : 5, .delay_us = 20000, .jitter_us = 200};
        struct sim_link lan = {.delay_us = 500, .jitter_us = 100};
        int k = 0; /* the proxy the receivers answer to */
        if (tunnel) {
            sim_set_net(r->s, 2);
            run_receivers(r, 8, &lk, proxied_rx);
            proxy_config_defaults(&r->pc[1]);
            run_proxy(r, 1, PROXY_CLIENT, 1, 2, NULL);
            sim_set_mcast_net(r->s, r->px[1], 2);
            proxy_config_defaults(&r->pc[0]);
            sim_node_addr_on(r->s, r->px[1], 1, &r->pc[0].down);
            run_proxy(r, 0, PROXY_SERVER, 0, 1, &lan);
            sim_set_net(r->s, 0);
            k = 1;
        } else {
            run_receivers(r, 8, &lk, proxied_rx);
            proxy_config_defaults(&r->pc[0]);
            r->pc[0].client_port = 1044;
            run_proxy(r, 0, PROXY_RESPONSE, 0, -1, &lan);
        }
        run_sender(r)->rate_kbps = 50000;
        if (heavy)
            r->sc.fec_k = 220;
        run_closed(r);
        r->sc.proxies = r->proxies;
        r->sc.nproxy = 1;
        r->proxies[0].id = r->pc[k].proxy_id;
        run_add_sender(r, tunnel ? NULL : &lan);
        r->srv[0].proxy_id = r->pc[k].proxy_id;
        run_expect(r, 0);
        run_delivered(r);
        struct sender_stats st = tx_stats(r);
        struct proxy_stats ps = px_stats(r, k);
        CHECK(st.fec_packets > 0, "no parity sent");
        CHECK(ps.fec_counts > 0, "no count report from the proxy");
        uint64_t dec = 0;
        for (int i = 0; i < r->nrx; i++) {
            struct receiver_stats rs = rx_stats(r, i);
            dec += rs.fec_decoded;
            if (mixed && i % 2 == 1)
                CHECK(rs.fec_decoded == 0, "reference-like rx %d decoded", i);
        }
        CHECK(dec > 0, "nothing decoded");
        uint64_t fb = 1500000 / 1300 + 1 + 20000 / 1300 + 1;
        if (!mixed && !heavy) /* plain repair of 5% at 8 receivers resends ~35% of the blocks */
            CHECK(st.data_packets < fb * 110 / 100, "%" PRIu64 " FILESEG for %" PRIu64 " blocks",
                  st.data_packets, fb);
        run_free(r);
    }
    g_px_mixed = false;
    scen_case(NULL);
}

/* ------------------------------------------------------------ measured (bench/fec.sh) */

static unsigned env_u(const char *name, unsigned def)
{
    const char *v = getenv(name);
    return v != NULL && *v ? (unsigned)strtoul(v, NULL, 10) : def;
}

/*
 * The data phase's timeline, from the sender's sends: a send during which
 * its FILESEG + FEC_PARITY count grew carries data, in the pass the sender
 * is in then. Per pass: the first and last such send.
 */
#define TL_PASSES 16
struct timeline {
    struct run *r;
    uint64_t pkts; /* FILESEG + FEC_PARITY sent so far */
    uint64_t first[TL_PASSES + 1], last[TL_PASSES + 1];
    unsigned maxpass;
};

static void timeline_tap(void *arg, int from, const struct addr *src, const struct addr *dst,
                         const uint8_t *p, size_t len, uint64_t t)
{
    (void)src, (void)dst, (void)p, (void)len;
    struct timeline *tl = arg;
    if (from != tl->r->tx)
        return;
    struct sender_stats st = tx_stats(tl->r);
    uint64_t n = st.data_packets + st.fec_packets;
    if (n == tl->pkts)
        return;
    tl->pkts = n;
    unsigned k = st.pass < TL_PASSES ? st.pass : TL_PASSES;
    if (tl->first[k] == 0)
        tl->first[k] = t;
    tl->last[k] = t;
    if (k > tl->maxpass)
        tl->maxpass = k;
}

/*
 * One measured case (bench/fec.sh). The data phase is the virtual time from
 * the first FILESEG leaving the sender to the file's end at the sender (the
 * last receiver's COMPLETE in: SENDER_EV_FILE); its minimum is the file's
 * size at the sender's rate. Receivers keep digests only and read back
 * from the sender's copy (sim_set_digest_readback) to decode.
 */
static void scen_fec_measure(uint64_t seed)
{
    unsigned nrx = env_u("FEC_RX", 100), loss = env_u("FEC_LOSS", 1), kb = env_u("FEC_KB", 2048);
    unsigned rtt = env_u("FEC_RTT_MS", 600);
    const char *mode = getenv("FEC_MODE") ? getenv("FEC_MODE") : "on";
    struct run *r = run_new(seed);
    sim_set_digest_only(r->s, true);
    sim_set_digest_readback(r->s, scen_readback, r->f);
    size_t size = (size_t)kb * 1024;
    scen_file(r->s, r->f, "measure", size);
    struct sim_link lk = {.loss_pct = loss, .delay_us = (uint64_t)rtt * 500};
    run_receivers(r, (int)nrx, &lk, NULL);
    CHECK(r->nrx == (int)nrx, "only %d receivers (SCEN_MAX_RX)", r->nrx);
    struct sender_config *c = run_sender(r);
    if (strcmp(mode, "off") == 0) {
        c->fec_off = true;
    } else if (strcmp(mode, "on") != 0) {
        char *end;
        c->fec_pct = (uint8_t)strtoul(mode, &end, 10);
        if (*end == ':')
            c->fec_k = (uint8_t)strtoul(end + 1, NULL, 10);
    }
    run_closed(r);
    static struct timeline tl;
    memset(&tl, 0, sizeof(tl));
    tl.r = r;
    run_tap(r, timeline_tap, &tl);
    run_add_sender(r, NULL);
    run_expect(r, 0);
    run_delivered(r);
    struct sender_stats st = tx_stats(r);
    double rate = (double)c->rate_kbps * 1024 / 8;
    double min_s = (double)size / rate;
    double t0 = (double)tl.first[1] / 1e6, end = (double)scen_ev.file_end_us / 1e6;
    double data_s = end - t0;
    printf("rx=%u loss=%u%% kb=%u fec=%s: sent/file %.4f (datagrams %.4f) passes %u "
           "fileseg %" PRIu64 " parity %" PRIu64 " data %.2f s min %.2f s (%.2fx)\n",
           nrx, loss, kb, mode, (double)(st.data_bytes + st.fec_bytes) / (double)size,
           (double)r->traffic.sent_bytes / (double)size, st.pass, st.data_packets, st.fec_packets,
           data_s, min_s, data_s / min_s);
    /* The split: pass 1's sending; per repair pass the wait before it and its sending; the tail. */
    printf("  time: pass 1 %.2f s", (double)(tl.last[1] - tl.first[1]) / 1e6);
    uint64_t prev = tl.last[1];
    for (unsigned k = 2; k <= tl.maxpass; k++) {
        if (tl.first[k] == 0)
            continue;
        printf(", wait %.2f s, pass %u %.2f s", (double)(tl.first[k] - prev) / 1e6, k,
               (double)(tl.last[k] - tl.first[k]) / 1e6);
        prev = tl.last[k];
    }
    printf(", tail to the last COMPLETE %.2f s\n", end - (double)prev / 1e6);
    run_free(r);
}

static const struct scen g_scens[] = {
    {"fec_basic", scen_fec_basic, 1701},
    {"fec_mixed", scen_fec_mixed, 1702},
    {"fec_none_decode", scen_fec_none_decode, 1703},
    {"fec_sender_off", scen_fec_sender_off, 1704},
    {"fec_proactive", scen_fec_proactive, 1705},
    {"fec_sections", scen_fec_sections, 1706},
    {"fec_proxy", scen_fec_proxy, 1707},
};

static const struct scen g_measure[] = {
    {"fec_measure", scen_fec_measure, 1799},
};

int main(int argc, char **argv)
{
    /* fec_measure is run by name only (bench/fec.sh), never by ctest. */
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "fec_measure") == 0) {
            static const struct scen_prog m = SCEN_PROG("sim_fec", g_measure, NULL);
            return scen_main(&m, argc, argv);
        }
    }
    static const struct scen_prog p = SCEN_PROG("sim_fec", g_scens, NULL);
    return scen_main(&p, argc, argv);
}
