/* TFMCC on the receiver (spec §1.7, RFC 4654; DESIGN.md "Congestion control"):
 * what the session engine tells core/proto/tfmcc (every datagram of the
 * sender with its CE mark, timestamps, TFMCC_DATA_INFO, CONG_CTRL) and what
 * it sends back (CC_ACK, TFMCC_ACK_INFO in STATUS). The rate logic is all in
 * core/proto/tfmcc; this file only connects it to the session. */
#include "receiver/engine/recv_int.h"

/* spec §1.6: FILESEG (8) + TFMCC_DATA_INFO (8) [+ ENCRYPTED (12) + tag (16)] + UFTP (16) +
 * UDP (8) + IP: the "datapacketsize" s of the throughput equation, as the sender counts it. */
static uint32_t pkt_size(const struct rsession *s, const struct addr *from)
{
    return (uint32_t)s->blocksize + 8 + 8 + (s->keys != NULL ? 12 + AEAD_TAG_LEN : 0) +
           UFTP_HDR_LEN + recv_hdr_bytes(from);
}

/* A random number for the feedback timer, drawn only when cc_seq opens a round. */
static uint32_t rnd32(struct receiver *r, const struct tfmcc_rx *x, uint16_t cc_seq)
{
    uint32_t v = 0;
    if (!tfmcc_rx_new_round(x, cc_seq))
        return 0;
    if (r->env.rng(r->env.ctx, &v, sizeof(v)) < 0)
        v = (uint32_t)(r->now * 2654435761u); /* never a failure to send feedback */
    return v;
}

void rcc_start(struct receiver *r, struct rsession *s, const struct rmsg *msg)
{
    const struct wire_announce *a = &msg->m->u.announce;
    s->cc = a->cc_type == CC_TFMCC;
    if (!s->cc)
        return;
    tfmcc_rx_init(&s->ccrx, pkt_size(s, msg->from), msg->h->seq,
                  (uint32_t)(msg->len + recv_hdr_bytes(msg->from)), s->grtt_us,
                  quant_gsize_decode(msg->h->gsize), r->now);
    tfmcc_rx_sender_ts(&s->ccrx, a->tstamp, r->now);
    RLOG(r, s, LL_VERBOSE, "congestion control: TFMCC (datagrams of %u bytes)", s->ccrx.pkt_size);
}

void rcc_packet(struct receiver *r, struct rsession *s, const struct rmsg *msg, uint8_t tos)
{
    if (!s->cc)
        return;
    const struct uftp_hdr *h = msg->h;
    struct tfmcc_rx *x = &s->ccrx;
    if (h->grtt != 0)
        tfmcc_rx_set_grtt(x, quant_rtt_decode_us(h->grtt));
    if (h->gsize != 0)
        tfmcc_rx_set_gsize(x, quant_gsize_decode(h->gsize));
    /* RFC 3168: CE is both ECN bits set; it counts as a loss (RFC 4654 §4.3). */
    tfmcc_rx_packet(x, h->seq, (uint32_t)(msg->len + recv_hdr_bytes(msg->from)), (tos & 3) == 3,
                    r->now);
    const struct wire_msg *m = msg->m;
    if (m->func == FILESEG && m->u.fileseg.has_tfmcc) {
        const struct wire_tfmcc_data *d = &m->u.fileseg.tfmcc;
        tfmcc_rx_data_info(x, d->cc_seq, quant_rate_decode(d->cc_rate),
                           quant_rate_decode(d->send_rate), rnd32(r, x, d->cc_seq), r->now);
    } else if (m->func == FILEINFO) {
        tfmcc_rx_sender_ts(x, m->u.fileinfo.tstamp, r->now);
    }
}

/* CONG_CTRL (spec §1.7): our item, if any, says whether we are the CLR and our RTT. */
RECV_ACTION(rcc_cong_ctrl)
{
    const struct rmsg *msg = arg;
    const struct wire_cong_ctrl *c = &msg->m->u.cong_ctrl;
    slot_timeout(r, s, false);
    if (!s->cc)
        return FSM_STAY;
    struct tfmcc_rx_cc cc = {
        .cc_seq = c->cc_seq, .supp_rate = quant_rate_decode(c->cc_rate), .tstamp = c->tstamp};
    for (size_t i = 0; i < c->items.n; i++) {
        struct wire_cc_item it = wire_cc_items_get(&c->items, i);
        if (it.id != r->cfg.client_id)
            continue;
        cc.listed = true;
        cc.flags = it.flags;
        cc.rtt_us = quant_rtt_decode_us(it.rtt);
        break;
    }
    if (tfmcc_rx_cong_ctrl(&s->ccrx, &cc, rnd32(r, &s->ccrx, cc.cc_seq), r->now) == TFMCC_RX_ANSWER)
        s->pending |= P_CC_ACK; /* the CLR answers every CONG_CTRL at once */
    return FSM_STAY;
}

/* The feedback timer (RFC 4654 §4.7): a CC_ACK unless suppressed. Only while receiving: a
 * sender between files takes no CC_ACK (5.0.1 logs it as an invalid message), whereas a
 * CONG_CTRL, which comes only in its data phase, is answered in any state. */
RECV_ACTION(rcc_feedback)
{
    if (s->cc && s->state != R_RECEIVING)
        s->ccrx.fb_at = 0;
    else if (s->cc && tfmcc_rx_timer(&s->ccrx, r->now))
        s->pending |= P_CC_ACK;
    return FSM_STAY;
}

uint64_t rcc_deadline(const struct rsession *s)
{
    return s->cc ? tfmcc_rx_deadline(&s->ccrx) : ENG_NEVER;
}

void rcc_ack_info(struct receiver *r, struct rsession *s, bool *has, struct wire_tfmcc_ack *out)
{
    *has = s->cc;
    if (!s->cc)
        return;
    struct tfmcc_ack a;
    tfmcc_rx_ack(&s->ccrx, r->now, &a);
    /* -x 5: what the CLR's rate comes from (the bench diagnosis of issue 12). */
    RLOG(r, s, LL_DEBUG, "TFMCC: rate %llu B/s, p %.6f, RTT %.3f ms, %llu events, %llu losses",
         (unsigned long long)a.rate, tfmcc_rx_p(&s->ccrx), (double)tfmcc_rx_rtt(&s->ccrx) / 1e3,
         (unsigned long long)s->ccrx.events, (unsigned long long)s->ccrx.losses);
    out->flags = a.flags;
    out->cc_seq = a.cc_seq;
    out->cc_rate = quant_rate_encode(a.rate);
    out->client_id = r->cfg.client_id;
    out->tstamp = a.echo;
}
