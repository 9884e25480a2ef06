/*
 * TFMCC scenarios (issue 12, spec §1.7): our sender with -C tfmcc and our
 * receivers in the virtual network of sim.h, with the bottleneck model
 * (sim_set_bottleneck: a FIFO at a link rate, drop-tail, optional ECN
 * marking). Every run must deliver every file byte for byte; the figures
 * (-v) say how much of the bottleneck the transfer used. Run as scen.h says.
 */
#include <string.h>

#include "scen.h"

#define NECK_BPS 6250000u /* 50 Mbit/s */

/* The sender with -C tfmcc (closed group of every receiver added so far); clear: the
 * traffic counts see CONG_CTRL and CC_ACK. */
static void tf_sender(struct run *r, int version, bool clear)
{
    run_sender(r);
    r->sc.cc_type = CC_TFMCC;
    if (clear)
        r->sc.keytype = KEY_NONE;
    if (version)
        r->sc.version = (uint8_t)version;
    run_closed(r);
    run_add_sender(r, NULL);
}

/* The mean rate through receiver i's bottleneck, first to last departure (B/s). */
static double neck_rate(struct run *r, int i, struct sim_bneck_stats *st)
{
    sim_bottleneck_stats(r->s, r->rx[i], st);
    uint64_t span = st->last_us > st->first_us ? st->last_us - st->first_us : 1;
    return (double)st->bytes * 1e6 / (double)span;
}

/* CC_ACKs that reached the sender per CONG_CTRL it sent. */
static double acks_per_cc(struct run *r)
{
    unsigned cc = r->traffic.sent_func[CONG_CTRL], ack = r->traffic.got_func[CC_ACK];
    CHECK(cc > 0, "no CONG_CTRL sent");
    return cc ? (double)ack / cc : 0;
}

/*
 * One receiver behind a 50 Mbit/s hop with 100 ms of drop-tail queue among
 * twenty on fast links: the transfer runs at the slow one's pace, and the
 * feedback stays about one CC_ACK (the CLR's) per CONG_CTRL, not twenty.
 */
static void scen_tf_bottleneck(uint64_t seed)
{
    struct run *r = run_new(seed);
    scen_file(r->s, r->f, "big", 20000000);
    scen_file(r->s, r->f, "small", 70001);
    struct sim_link lk = {.delay_us = 3000};
    run_receivers(r, 20, &lk, NULL);
    struct sim_bneck bn = {.rate_Bps = NECK_BPS, .qlimit = NECK_BPS / 10};
    sim_set_bottleneck(r->s, r->rx[7], &bn);
    tf_sender(r, 0, true);
    run_expect(r, 0);
    run_delivered(r);
    struct sim_bneck_stats st;
    double rate = neck_rate(r, 7, &st);
    double apc = acks_per_cc(r);
    if (scen_verbose)
        fprintf(stderr,
                "tf_bottleneck: %.2f MB/s through the hop (%.0f %%), %" PRIu64
                " drops, max delay %" PRIu64 " us, %.2f CC_ACK per CONG_CTRL\n",
                rate / 1e6, 100 * rate / NECK_BPS, st.drops, st.max_delay_us, apc);
    CHECK(rate >= 0.6 * NECK_BPS, "%.0f B/s through a hop of %u", rate, NECK_BPS);
    CHECK(apc <= 3.0, "%.2f CC_ACK per CONG_CTRL from 20 receivers", apc);
    run_free(r);
}

/* The hop halves to 25 Mbit/s a second in, and is back at 50 two seconds later. */
static void neck_half(struct sim *s, void *arg)
{
    struct run *r = arg;
    struct sim_bneck bn = {.rate_Bps = NECK_BPS / 2, .qlimit = NECK_BPS / 10};
    sim_set_bottleneck(s, r->rx[1], &bn);
}

static void neck_full(struct sim *s, void *arg)
{
    struct run *r = arg;
    struct sim_bneck bn = {.rate_Bps = NECK_BPS, .qlimit = NECK_BPS / 10};
    sim_set_bottleneck(s, r->rx[1], &bn);
}

static void scen_tf_halving(uint64_t seed)
{
    struct run *r = run_new(seed);
    scen_file(r->s, r->f, "big", 25000000);
    struct sim_link lk = {.delay_us = 3000};
    run_receivers(r, 3, &lk, NULL);
    struct sim_bneck bn = {.rate_Bps = NECK_BPS, .qlimit = NECK_BPS / 10};
    sim_set_bottleneck(r->s, r->rx[1], &bn);
    tf_sender(r, 0, false);
    sim_call_at(r->s, 1 * SEC, neck_half, r);
    sim_call_at(r->s, 3 * SEC, neck_full, r);
    run_expect(r, 0);
    run_delivered(r);
    struct sim_bneck_stats st;
    double rate = neck_rate(r, 1, &st);
    if (scen_verbose)
        fprintf(stderr, "tf_halving: %.2f MB/s through the hop, %" PRIu64 " drops\n", rate / 1e6,
                st.drops);
    CHECK(rate >= 0.4 * NECK_BPS, "%.0f B/s through a hop of 25-50 Mbit/s", rate);
    run_free(r);
}

/*
 * The CLR (the receiver behind the hop) dies mid-file: it is lost, another
 * CLR is chosen, the others get everything.
 */
static void scen_tf_clr_crash(uint64_t seed)
{
    struct run *r = run_new(seed);
    scen_file(r->s, r->f, "big", 10000000);
    scen_file(r->s, r->f, "after", 300000);
    struct sim_link lk = {.delay_us = 2000};
    run_receivers(r, 4, &lk, NULL);
    struct sim_bneck bn = {.rate_Bps = NECK_BPS / 4, .qlimit = NECK_BPS / 20};
    sim_set_bottleneck(r->s, r->rx[3], &bn);
    tf_sender(r, 0, false);
    sim_kill_at(r->s, r->rx[3], 2 * SEC);
    run_expect(r, 0);
    CHECK(scen_ev.results[SENDER_RES_LOST] >= 1, "the dead CLR was not lost");
    for (int i = 0; i < 3; i++)
        check_delivered(r->s, r->rx[i], r->f);
    run_free(r);
}

/* RTT 600 ms with 1 % random loss each way (a satellite hop): slow, but complete. */
static void scen_tf_satellite(uint64_t seed)
{
    struct run *r = run_new(seed);
    scen_file(r->s, r->f, "f", 3000000);
    scen_file(r->s, r->f, "g", 5000);
    struct sim_link lk = {.delay_us = 150000, .loss_pct = 1};
    run_receivers(r, 3, &lk, NULL);
    run_sender(r);
    r->sc.cc_type = CC_TFMCC;
    r->sc.grtt_max_us = 15000000;
    run_closed(r);
    run_add_sender(r, &lk); /* 150 ms each side: 600 ms round trip */
    run_expect(r, 0);
    run_delivered(r);
    run_free(r);
}

/* ECN: the hop marks above 30 KB instead of dropping; the rate follows the marks. */
static void scen_tf_ecn(uint64_t seed)
{
    struct run *r = run_new(seed);
    scen_file(r->s, r->f, "big", 15000000);
    struct sim_link lk = {.delay_us = 3000};
    run_receivers(r, 2, &lk, NULL);
    struct sim_bneck bn = {.rate_Bps = NECK_BPS, .qlimit = NECK_BPS / 10, .ecn_thresh = 30000};
    sim_set_bottleneck(r->s, r->rx[1], &bn);
    tf_sender(r, 0, false);
    sim_set_tos(r->s, r->tx, 0x02); /* net_tos(dscp, true): ECT(0) */
    run_expect(r, 0);
    run_delivered(r);
    struct sim_bneck_stats st;
    double rate = neck_rate(r, 1, &st);
    if (scen_verbose)
        fprintf(stderr,
                "tf_ecn: %.2f MB/s through the hop (%.0f %%), %" PRIu64 " marks, %" PRIu64
                " drops, max delay %" PRIu64 " us\n",
                rate / 1e6, 100 * rate / NECK_BPS, st.marks, st.drops, st.max_delay_us);
    CHECK(st.marks > 0, "no CE marks");
    CHECK(rate >= 0.6 * NECK_BPS, "%.0f B/s through a hop of %u", rate, NECK_BPS);
    run_free(r);
}

/* v4 sessions (spec §1.9 item 6: v4 time formats) behind the same hop. */
static void scen_tf_v4(uint64_t seed)
{
    struct run *r = run_new(seed);
    r->f->mtime_step = 86401;
    scen_file(r->s, r->f, "big", 8000000);
    scen_file(r->s, r->f, "small", 1301);
    struct sim_link lk = {.delay_us = 3000};
    run_receivers(r, 3, &lk, NULL);
    struct sim_bneck bn = {.rate_Bps = NECK_BPS, .qlimit = NECK_BPS / 10};
    sim_set_bottleneck(r->s, r->rx[2], &bn);
    tf_sender(r, UFTP_VER4, true);
    run_expect(r, 0);
    run_delivered(r);
    CHECK(r->traffic.got_func[CC_ACK] > 0, "no CC_ACK from v4 receivers");
    run_free(r);
}

/*
 * Many receivers (1,000, keeping only a digest of each copy), a few of them
 * on slower, lossy links: the feedback reaching the sender stays
 * a small constant per CONG_CTRL (the CLR's answer and the few reports the
 * suppression lets through), not a share of the group.
 */
static void scen_tf_many(uint64_t seed)
{
    struct run *r = run_new(seed);
    sim_set_digest_only(r->s, true);
    scen_file(r->s, r->f, "f", 3000000);
    struct sim_link lk = {.delay_us = 2000, .jitter_us = 500};
    run_receivers(r, 1000, &lk, NULL);
    for (int i = 0; i < 1000; i += 200) {
        struct sim_bneck bn = {.rate_Bps = NECK_BPS / (1 + i / 200), .qlimit = NECK_BPS / 20};
        sim_set_bottleneck(r->s, r->rx[i], &bn);
    }
    tf_sender(r, 0, true);
    run_expect(r, 0);
    run_delivered(r);
    double apc = acks_per_cc(r);
    if (scen_verbose)
        fprintf(stderr, "tf_many: %u CONG_CTRL, %u CC_ACK, %.2f per CONG_CTRL\n",
                r->traffic.sent_func[CONG_CTRL], r->traffic.got_func[CC_ACK], apc);
    CHECK(apc <= 4.0, "%.2f CC_ACK per CONG_CTRL from 1,000 receivers", apc);
    run_free(r);
}

/* -R -1 (ignored under TFMCC) with 8800-byte blocks, encrypted, behind the hop. */
static void scen_tf_big_blocks(uint64_t seed)
{
    struct run *r = run_new(seed);
    scen_file(r->s, r->f, "big", 12000000);
    scen_file(r->s, r->f, "odd", 8801);
    struct sim_link lk = {.delay_us = 3000};
    run_receivers(r, 3, &lk, NULL);
    struct sim_bneck bn = {.rate_Bps = NECK_BPS, .qlimit = NECK_BPS / 10};
    sim_set_bottleneck(r->s, r->rx[0], &bn);
    run_sender(r);
    r->sc.cc_type = CC_TFMCC;
    r->sc.rate_kbps = -1;
    r->sc.blocksize = 8800;
    run_closed(r);
    run_add_sender(r, NULL);
    run_expect(r, 0);
    run_delivered(r);
    struct sim_bneck_stats st;
    double rate = neck_rate(r, 0, &st);
    if (scen_verbose)
        fprintf(stderr, "tf_big_blocks: %.2f MB/s through the hop, %" PRIu64 " drops\n", rate / 1e6,
                st.drops);
    CHECK(rate >= 0.5 * NECK_BPS, "%.0f B/s through a hop of %u", rate, NECK_BPS);
    run_free(r);
}

/*
 * A 5.0.1 response proxy (spec §3.4, reference defect) merges its clients'
 * STATUS bitmaps read right after the 8-byte STATUS header: in a TFMCC
 * session each client's 20-byte TFMCC_ACK_INFO comes first, so what it sends
 * upstream has no extension and a blocksize-byte bitmap that is the
 * extension followed by the NAKs minus their last 20 bytes. Our response
 * proxy's aggregate (the same extension, then the merged bitmap) becomes
 * that with its hlen set to 2 and its bitmap area cut or padded to
 * blocksize: 4 receivers behind it at 2 % loss, one behind the 50 Mbit/s
 * hop. Before the sender realigned such bitmaps (sender/engine/xfer.c) it
 * resent the wrong blocks and the session never ended.
 */
struct refpx {
    struct sim *s;
    int px;
    size_t blocksize;
    unsigned rewritten;
};

static bool refpx_status(void *arg, int from, const struct addr *dst, const uint8_t *p, size_t len)
{
    struct refpx *x = arg;
    const size_t st = UFTP_HDR_LEN, ext = 20;
    if (from != x->px || len < st + 8 + ext || p[1] != STATUS || p[st] != STATUS ||
        p[st + 1] != (8 + ext) / 4 || p[st + 8] != EXT_TFMCC_ACK_INFO)
        return false;
    /* It sends blocksize bytes of bitmap whatever its clients sent (ours send what the
     * section needs): past their end, zeros here (stale buffer bytes there). */
    uint8_t b[UFTP_HDR_LEN + 8 + UFTP_MAX_BLOCKSIZE + 20];
    size_t out = st + 8 + x->blocksize;
    if (len > sizeof(b) || out > sizeof(b))
        return false;
    memset(b, 0, sizeof(b));
    memcpy(b, p, len);
    b[st + 1] = 8 / 4;
    sim_inject(x->s, from, dst, b, out);
    x->rewritten++;
    return true;
}

static void tf_ref_proxy_rx(struct run *r, int i, struct receiver_config *c)
{
    (void)i;
    c->servers = r->srv; /* filled in once the sender and the proxy exist */
    c->nserver = 1;
}

static void scen_tf_ref_proxy(uint64_t seed)
{
    struct run *r = run_new(seed);
    scen_file(r->s, r->f, "big", 8000000);
    scen_file(r->s, r->f, "small", 70001);
    struct sim_link lan = {.delay_us = 500, .jitter_us = 100};
    struct sim_link lossy = {.loss_pct = 2, .delay_us = 500, .jitter_us = 100};
    run_receivers(r, 4, &lossy, tf_ref_proxy_rx);
    struct sim_bneck bn = {.rate_Bps = NECK_BPS, .qlimit = NECK_BPS / 10};
    sim_set_bottleneck(r->s, r->rx[3], &bn);
    proxy_config_defaults(&r->pc[0]);
    r->pc[0].client_port = 1044;
    run_proxy(r, 0, PROXY_RESPONSE, 0, -1, &lan);
    run_sender(r);
    r->sc.cc_type = CC_TFMCC;
    r->sc.keytype = KEY_NONE;
    /* The model is our response proxy with its STATUS rewritten 5.0.1's way; a
     * 5.0.1 proxy knows no parity (issue 17), so the session offers none:
     * otherwise ours would send count reports (spec §9.4) that no 5.0.1 proxy sends. */
    r->sc.fec_off = true;
    r->sc.proxies = r->proxies;
    r->sc.nproxy = 1;
    r->proxies[0].id = r->pc[0].proxy_id;
    run_closed(r);
    run_add_sender(r, &lan);
    r->srv[0].proxy_id = r->pc[0].proxy_id;
    struct refpx x = {.s = r->s, .px = r->px[0], .blocksize = r->sc.blocksize};
    sim_set_drop(r->s, refpx_status, &x);
    run_expect(r, 0);
    run_delivered(r);
    if (scen_verbose)
        fprintf(stderr, "tf_ref_proxy: %u STATUS sent 5.0.1's way, %" PRIu64 " NAKs\n", x.rewritten,
                tx_stats(r).naks);
    CHECK(x.rewritten > 0, "no STATUS from the proxy to rewrite");
    run_free(r);
}

static const struct scen g_scens[] = {
    {"tf_bottleneck", scen_tf_bottleneck, 121},
    {"tf_halving", scen_tf_halving, 122},
    {"tf_clr_crash", scen_tf_clr_crash, 123},
    {"tf_satellite", scen_tf_satellite, 124},
    {"tf_ecn", scen_tf_ecn, 125},
    {"tf_v4", scen_tf_v4, 126},
    {"tf_big_blocks", scen_tf_big_blocks, 127},
    {"tf_many", scen_tf_many, 128},
    {"tf_ref_proxy", scen_tf_ref_proxy, 129},
};

int main(int argc, char **argv)
{
    static const struct scen_prog p = SCEN_PROG("sim_tfmcc", g_scens, NULL);
    return scen_main(&p, argc, argv);
}
