/*
 * A closed loop for core/proto/tfmcc (tests/unit/proto/test_tfmcc.c): one
 * sender and one receiver of the module joined by a bottleneck — a link of
 * given rate behind a drop-tail FIFO of given size in bytes, with optional
 * CE marking above a backlog — and a fixed propagation delay each way.
 * Feedback (CC_ACK) returns on an uncongested path. Virtual time, no
 * randomness but the feedback-timer draws (a fixed LCG): deterministic.
 *
 * The wire's quantisations are applied: rates through the 16-bit rate code,
 * the CLR's RTT through the RTT byte, echoes with the hold time.
 */
#ifndef UFTP_TEST_TFMCC_LOOP_H
#define UFTP_TEST_TFMCC_LOOP_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/proto/grtt.h"
#include "core/base/quant.h"
#include "core/proto/tfmcc.h"
#include "core/wire/wire.h"

struct loop_cfg {
    double link_Bps;     /* bottleneck rate */
    uint64_t qlimit;     /* FIFO bytes */
    uint64_t ecn_thresh; /* mark CE above this backlog; 0 = never */
    uint64_t owd_us;     /* propagation delay each way */
    uint32_t s;          /* packet size on the wire */
    uint64_t dur_us;     /* run time */
    uint64_t from_us;    /* goodput measured from here to the end */
    struct tfmcc_tx_cfg tx;
    bool trace;
};

struct loop_res {
    uint64_t delivered; /* data bytes that reached the receiver in [from, dur) */
    uint64_t sent, dropped, marked;
    uint64_t events; /* loss events at the receiver */
    double share;    /* delivered / (link rate × measured span) */
    uint64_t max_backlog;
};

struct loop_pkt {
    uint64_t t; /* arrival at the receiver */
    uint16_t seq;
    bool cc; /* CONG_CTRL, else data */
    bool ce;
    uint64_t ts; /* CONG_CTRL timestamp */
    uint16_t cc_seq;
    uint64_t supp, rate; /* decoded */
    uint8_t item_flags, item_rtt;
    uint8_t grtt; /* header GRTT byte */
};

struct loop_ack {
    uint64_t t; /* arrival at the sender */
    struct tfmcc_ack a;
};

#define LOOP_Q 262144

static inline uint64_t loop_q(uint64_t r)
{
    return quant_rate_decode(quant_rate_encode(r));
}

static inline void loop_run(const struct loop_cfg *c, struct loop_res *res)
{
    struct loop_pkt *pq = calloc(LOOP_Q, sizeof(*pq));
    struct loop_ack *aq = calloc(4096, sizeof(*aq));
    size_t ph = 0, pt = 0, ah = 0, at = 0;
    struct tfmcc_tx tx;
    struct tfmcc_rx rx;
    struct tfmcc_peer peer = {0};
    struct grtt g;
    grtt_init(&g, 500000, 10000, 15000000);
    uint64_t now = 0, busy = 0, next_send = 0, round_max = 0, lcg = 12345;
    uint16_t seq = 100;
    *res = (struct loop_res){0};
    /* Registration gave an RTT of two propagation delays. */
    grtt_update(&g, 2 * c->owd_us, false);
    tfmcc_tx_init(&tx, &c->tx, g.cur_us, 0);
    tfmcc_tx_set_clr(&tx, 0, 2 * c->owd_us > 1000 ? 2 * c->owd_us : 1000, 0);
    peer.have_rtt = true;
    peer.rtt_us = grtt_rtt_sample(2 * c->owd_us, 0);
    tfmcc_rx_init(&rx, c->s, seq++, 100, quant_rtt_decode_us(quant_rtt_encode_us(g.cur_us)), 1,
                  c->owd_us);
    double next_trace = 0;
    while (now < c->dur_us) {
        uint64_t t = next_send;
        if (ph != pt && pq[ph % LOOP_Q].t < t)
            t = pq[ph % LOOP_Q].t;
        if (ah != at && aq[ah % 4096].t < t)
            t = aq[ah % 4096].t;
        if (tfmcc_tx_deadline(&tx) < t)
            t = tfmcc_tx_deadline(&tx);
        if (tfmcc_rx_deadline(&rx) < t)
            t = tfmcc_rx_deadline(&rx);
        now = t;
        /* Sender timers. */
        if (tfmcc_tx_deadline(&tx) <= now) {
            int k = tfmcc_tx_tick(&tx, now);
            if (k & TFMCC_TX_NEW_ROUND) {
                if (round_max)
                    tfmcc_tx_set_grtt(&tx, grtt_update(&g, round_max, true));
                round_max = 0;
            }
            if (k & TFMCC_TX_SEND_CC) {
                struct loop_pkt p = {.seq = seq++,
                                     .cc = true,
                                     .ts = now,
                                     .grtt = quant_rtt_encode_us(tfmcc_tx_adv_grtt(&tx)),
                                     .cc_seq = tx.cc_seq,
                                     .supp = loop_q(tfmcc_tx_supp(&tx))};
                p.item_flags = tfmcc_tx_item_flags(&tx, tx.clr == 0);
                p.item_rtt = quant_rtt_encode_us(peer.rtt_us);
                uint64_t sz = 84;
                uint64_t backlog =
                    busy > now ? (uint64_t)((double)(busy - now) * c->link_Bps / 1e6) : 0;
                if (backlog + sz <= c->qlimit) {
                    uint64_t start = busy > now ? busy : now;
                    busy = start + (uint64_t)((double)sz * 1e6 / c->link_Bps);
                    p.t = busy + c->owd_us;
                    p.ce = c->ecn_thresh && backlog > c->ecn_thresh;
                    pq[pt++ % LOOP_Q] = p;
                }
            }
        }
        /* Sender: one data packet when due. */
        if (next_send <= now) {
            uint64_t rate = tfmcc_tx_rate(&tx);
            struct loop_pkt p = {.seq = seq++,
                                 .cc_seq = tx.cc_seq,
                                 .grtt = quant_rtt_encode_us(tfmcc_tx_adv_grtt(&tx)),
                                 .supp = loop_q(tfmcc_tx_supp(&tx)),
                                 .rate = loop_q(rate)};
            res->sent++;
            uint64_t backlog =
                busy > now ? (uint64_t)((double)(busy - now) * c->link_Bps / 1e6) : 0;
            if (backlog > res->max_backlog)
                res->max_backlog = backlog;
            if (backlog + c->s > c->qlimit) {
                res->dropped++;
            } else {
                uint64_t start = busy > now ? busy : now;
                busy = start + (uint64_t)((double)c->s * 1e6 / c->link_Bps);
                p.t = busy + c->owd_us;
                p.ce = c->ecn_thresh && backlog > c->ecn_thresh;
                res->marked += p.ce;
                pq[pt++ % LOOP_Q] = p;
            }
            next_send = now + (uint64_t)((double)c->s * 1e6 / (double)rate) + 0;
            if (next_send == now)
                next_send++;
        }
        /* Receiver: arrivals. */
        while (ph != pt && pq[ph % LOOP_Q].t <= now) {
            struct loop_pkt *p = &pq[ph++ % LOOP_Q];
            tfmcc_rx_set_grtt(&rx, quant_rtt_decode_us(p->grtt));
            tfmcc_rx_packet(&rx, p->seq, p->cc ? 84 : c->s, p->ce, p->t);
            lcg = lcg * 6364136223846793005ull + 1442695040888963407ull;
            uint32_t rnd = (uint32_t)(lcg >> 32);
            if (p->cc) {
                struct tfmcc_rx_cc in = {.cc_seq = p->cc_seq,
                                         .supp_rate = p->supp,
                                         .tstamp = p->ts,
                                         .listed = true,
                                         .flags = p->item_flags,
                                         .rtt_us = quant_rtt_decode_us(p->item_rtt)};
                if (tfmcc_rx_cong_ctrl(&rx, &in, rnd, p->t) == TFMCC_RX_ANSWER && at - ah < 4096) {
                    struct loop_ack *a = &aq[at++ % 4096];
                    tfmcc_rx_ack(&rx, p->t + 20, &a->a);
                    a->t = p->t + 20 + c->owd_us;
                }
            } else {
                tfmcc_rx_data_info(&rx, p->cc_seq, p->supp, p->rate, rnd, p->t);
                if (p->t >= c->from_us)
                    res->delivered += c->s;
            }
        }
        if (tfmcc_rx_timer(&rx, now) && at - ah < 4096) {
            struct loop_ack *a = &aq[at++ % 4096];
            tfmcc_rx_ack(&rx, now, &a->a);
            a->t = now + c->owd_us;
        }
        /* Sender: feedback. */
        while (ah != at && aq[ah % 4096].t <= now) {
            struct loop_ack *a = &aq[ah++ % 4096];
            uint64_t rtt = grtt_rtt_sample(a->t, a->a.echo);
            if (rtt > round_max)
                round_max = rtt;
            struct tfmcc_fb fb = {.flags = a->a.flags,
                                  .cc_seq = a->a.cc_seq,
                                  .rate = loop_q(a->a.rate),
                                  .rtt_us = rtt};
            tfmcc_tx_feedback(&tx, 0, &peer, false, &fb, a->t);
        }
        if (c->trace && (double)now >= next_trace) {
            uint64_t backlog =
                busy > now ? (uint64_t)((double)(busy - now) * c->link_Bps / 1e6) : 0;
            fprintf(stderr,
                    "t=%6.2f rate=%6.2f Mbit/s rx=%6.2f clr_rtt=%5.1f ms rx_rtt=%5.1f ms p=%.5f "
                    "q=%6llu ss=%d peak=%.1f\n",
                    (double)now / 1e6, (double)tfmcc_tx_rate(&tx) * 8 / 1e6,
                    (double)tfmcc_rx_rate(&rx, now) * 8 / 1e6, (double)tx.clr_rtt_us / 1e3,
                    (double)tfmcc_rx_rtt(&rx) / 1e3, tfmcc_rx_p(&rx), (unsigned long long)backlog,
                    tx.slowstart, tx.peak * 8 / 1e6);
            next_trace = (double)now + 250000;
        }
    }
    res->events = rx.events;
    res->share = (double)res->delivered / (c->link_Bps * (double)(c->dur_us - c->from_us) / 1e6);
    free(pq);
    free(aq);
}

#endif
