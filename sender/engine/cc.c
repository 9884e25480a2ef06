/*
 * TFMCC on the sender (spec §1.7, RFC 4654; DESIGN.md "Congestion
 * control"): the engine's side of core/proto/tfmcc. Per file: slow start
 * from init= (or one packet per GRTT), the initial CLR (the highest-RTT
 * live client that is not a proxy), CONG_CTRL every advertised GRTT, each
 * TFMCC_ACK_INFO (CC_ACK, STATUS) into the rate, and the rate into the
 * pacing (core/proto/pace keeps its schedule and batch target: the GSO
 * batches stay batches, only their spacing changes).
 */
#include "sender/engine/sender_int.h"

#include "core/base/quant.h"

/* The rate the module asks for, into the pacing, the advertised GRTT and the stats. */
static void apply(struct sender *s)
{
    uint64_t rate = tfmcc_tx_rate(&s->cctx);
    if (rate != s->rate_Bps) {
        s->rate_Bps = rate;
        s->packet_interval_us = s->datapacketsize * 1000000 / rate;
        pace_set_rate(&s->pace, rate, (uint32_t)s->datapacketsize, s->now);
    }
    s->st.rate_Bps = rate;
    size_t clr = s->cctx.clr;
    s->st.clr_id = clr < s->ndest ? s->dests[clr].id : 0;
}

/*
 * The CLR when there is none yet (or it went silent): the highest-RTT live
 * client (spec §1.7), but not `not` (the one just dropped as CLR) nor one
 * that once gave feedback and has been silent for ROBUST GRTTs: a dead
 * receiver stays ACTIVE until the end of the pass, and as CLR it would
 * leave the rate halving to the floor (tf_clr_crash).
 */
static void pick_clr(struct sender *s, size_t not )
{
    size_t best = TFMCC_NO_CLR;
    uint64_t quiet = (uint64_t)s->cfg.robust * tfmcc_tx_adv_grtt(&s->cctx);
    for (size_t i = 0; i < s->ndest; i++) {
        const struct sdest *d = &s->dests[i];
        bool live = d->state == D_ACTIVE || d->state == D_ACTIVE_NAK;
        if (!live || d->isproxy || i == not )
            continue;
        if (d->ccp.fb_at != 0 && s->now > d->ccp.fb_at + quiet)
            continue;
        uint64_t rtt = d->ccp.have_rtt ? d->ccp.rtt_us : d->rtt_us;
        uint64_t brtt = best == TFMCC_NO_CLR          ? 0
                        : s->dests[best].ccp.have_rtt ? s->dests[best].ccp.rtt_us
                                                      : s->dests[best].rtt_us;
        if (best == TFMCC_NO_CLR || rtt > brtt)
            best = i;
    }
    if (best == TFMCC_NO_CLR)
        return;
    const struct sdest *d = &s->dests[best];
    tfmcc_tx_set_clr(&s->cctx, best, d->ccp.have_rtt ? d->ccp.rtt_us : d->rtt_us, s->now);
    SLOG(s, LL_VERBOSE, "TFMCC: CLR %08X (RTT %.3f ms)", d->id, (double)s->cctx.clr_rtt_us / 1e3);
}

void cc_start_file(struct sender *s)
{
    if (!s->cc)
        return;
    struct tfmcc_tx_cfg c = {.pkt_size = (uint32_t)s->datapacketsize,
                             .min_rate = s->cfg.cc_min_Bps,
                             .init_rate = s->cfg.cc_init_Bps,
                             .max_rate = s->cfg.cc_max_Bps,
                             .robust = s->cfg.robust};
    /* 5.0.1 starts each file in slow start (spec §1.7); the receivers keep their history. */
    tfmcc_tx_init(&s->cctx, &c, s->grtt.cur_us, s->now);
    pick_clr(s, TFMCC_NO_CLR);
    s->rate_Bps = 0; /* apply() re-paces */
    apply(s);
    SLOG(s, LL_VERBOSE, "TFMCC: starting at %llu B/s", (unsigned long long)s->rate_Bps);
}

/* The module's timers (SE_CC_TICK in the data phase). */
ENG_ACTION(cc_tick)
{
    struct sender *s = obj;
    size_t was = s->cctx.clr;
    int what = tfmcc_tx_tick(&s->cctx, s->now);
    if (what & TFMCC_TX_NEW_ROUND) {
        dest_grtt(s, true); /* spec §1.6: GRTT from this round's samples */
        tfmcc_tx_set_grtt(&s->cctx, s->grtt.cur_us);
    }
    if (what & TFMCC_TX_CLR_LOST) {
        SLOG(s, LL_VERBOSE, "TFMCC: no feedback from the CLR, choosing another");
        pick_clr(s, was);
    }
    if (what & TFMCC_TX_SEND_CC)
        job_cong_ctrl(s);
    apply(s);
    return FSM_NEXT;
}

uint64_t cc_deadline(const struct sender *s)
{
    return s->cc && s->phase == SP_DATA ? tfmcc_tx_deadline(&s->cctx) : ENG_NEVER;
}

/* One TFMCC_ACK_INFO from d (a CC_ACK, or a STATUS). */
void cc_feedback(struct sender *s, struct sdest *d, const struct wire_tfmcc_ack *a)
{
    if (!s->cc || s->phase != SP_DATA)
        return;
    /* A proxy forwards its clients' CC_ACK (spec §1.7): the info names the client. */
    struct sdest *c = d;
    if (a->client_id != d->id) {
        struct sdest *x = dest_of(s, a->client_id);
        if (x != NULL && d->isproxy && x->proxy == (uint32_t)(d - s->dests) + 1)
            c = x;
    }
    if (c->state != D_ACTIVE && c->state != D_ACTIVE_NAK && c->state != D_DONE)
        return;
    struct tfmcc_fb fb = {.flags = a->flags,
                          .cc_seq = a->cc_seq,
                          .rate = quant_rate_decode(a->cc_rate),
                          .rtt_us = a->tstamp ? grtt_rtt_sample(s_wall(s, s->now), a->tstamp) : 0};
    if (fb.rtt_us > s->cfg.grtt_max_us)
        fb.rtt_us = s->cfg.grtt_max_us; /* an echo from long ago: no RTT beyond -r max */
    if (fb.rtt_us) {
        /* spec §1.6: TFMCC echoes are RTT samples for the GRTT too. */
        c->rtt_us = fb.rtt_us;
        c->rtt_measured = true;
    }
    tfmcc_tx_feedback(&s->cctx, (size_t)(c - s->dests), &c->ccp, c->isproxy, &fb, s->now);
    SLOG(s, LL_DEBUG, "TFMCC: %08X reports %llu B/s (flags %02X, RTT %.3f ms), rate %llu B/s",
         c->id, (unsigned long long)fb.rate, a->flags, (double)fb.rtt_us / 1e3,
         (unsigned long long)tfmcc_tx_rate(&s->cctx));
    apply(s);
}

SENDER_HANDLER(cc_ack_recv)
{
    if (m->u.cc_ack.has_tfmcc)
        cc_feedback(s, d, &m->u.cc_ack.tfmcc);
}

void cc_client_gone(struct sender *s, struct sdest *d)
{
    if (s->cc && (size_t)(d - s->dests) == s->cctx.clr) {
        tfmcc_tx_gone(&s->cctx, (size_t)(d - s->dests));
        if (s->phase == SP_DATA)
            pick_clr(s, (size_t)(d - s->dests));
    }
}

size_t cc_items(struct sender *s, struct wire_cc_item *items, size_t max)
{
    size_t n = 0, clr = s->cctx.clr;
    /* The CLR first (CLR|RTT), then clients whose new RTT has not been sent, then the rest,
     * as many as fit (spec §1.7). */
    if (clr < s->ndest && max > 0) {
        struct sdest *d = &s->dests[clr];
        uint64_t rtt = d->ccp.have_rtt ? d->ccp.rtt_us : d->rtt_us;
        items[n++] = (struct wire_cc_item){.id = d->id,
                                           .flags = tfmcc_tx_item_flags(&s->cctx, true),
                                           .rtt = quant_rtt_encode_us(rtt)};
        d->ccp.rtt_sent = true;
    }
    for (int pass = 0; pass < 2 && n < max; pass++) {
        for (size_t i = 0; i < s->ndest && n < max; i++) {
            struct sdest *d = &s->dests[i];
            if (i == clr || d->isproxy ||
                (d->state != D_ACTIVE && d->state != D_ACTIVE_NAK && d->state != D_DONE))
                continue;
            if ((pass == 0) == d->ccp.rtt_sent)
                continue;
            uint64_t rtt = d->ccp.have_rtt ? d->ccp.rtt_us : d->rtt_us;
            items[n++] = (struct wire_cc_item){.id = d->id,
                                               .flags = tfmcc_tx_item_flags(&s->cctx, false),
                                               .rtt = quant_rtt_encode_us(rtt)};
            d->ccp.rtt_sent = true;
        }
    }
    return n;
}
