/*
 * core/proto/tfmcc: the equation, the receiver's loss history, RTT and
 * feedback timer, the sender's rate rules, and a closed loop over a
 * bottleneck (tfmcc_loop.h).
 */
#include "core/proto/tfmcc.h"
#include "cu.h"
#include "tfmcc_loop.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ equation */

static void test_equation(void)
{
    /* Hand-computed (RFC 4654 §2.1, b = 1, t_RTO = 4R). */
    CU_ASSERT_DOUBLE_EQUAL(tfmcc_equation(1000, 0.1, 0.01), 112332.234, 0.01);
    CU_ASSERT_DOUBLE_EQUAL(tfmcc_equation(1360, 0.012, 1e-4), 13867960.71, 1.0);
    CU_ASSERT_DOUBLE_EQUAL(tfmcc_equation(1000, 0.1, 1.0), 41.0988, 0.001);
    CU_ASSERT_DOUBLE_EQUAL(tfmcc_equation(8900, 0.6, 0.01), 166626.15, 0.1);
    /* Edges: no loss, huge loss, zero and negative RTT, NaN. */
    CU_ASSERT_EQUAL(tfmcc_equation(1000, 0.1, 0), TFMCC_RATE_MAX);
    CU_ASSERT_EQUAL(tfmcc_equation(1000, 0.1, -1), TFMCC_RATE_MAX);
    CU_ASSERT_EQUAL(tfmcc_equation(1000, 0.1, 5.0), tfmcc_equation(1000, 0.1, 1.0));
    CU_ASSERT_EQUAL(tfmcc_equation(1000, 0, 0.01), tfmcc_equation(1000, 1e-6, 0.01));
    CU_ASSERT_EQUAL(tfmcc_equation(1000, -3, 0.01), tfmcc_equation(1000, 1e-6, 0.01));
    CU_ASSERT(tfmcc_equation(1000, NAN, 0.01) <= TFMCC_RATE_MAX);
    CU_ASSERT_EQUAL(tfmcc_equation(1000, 1e-6, 1e-15), TFMCC_RATE_MAX); /* capped */
}

static void test_equation_cubic(void)
{
    /* Hand-computed: W = max(1/√(2p/3), 1.0538 · (R/p)^¾) packets per RTT (C = 0.4,
     * β = 0.7), X = s / (R · (1/W + 12·√(3p/8)·p·(1 + 32p²))). */
    CU_ASSERT_DOUBLE_EQUAL(tfmcc_equation_cubic(1360, 0.08, 1e-4), 2691726.427, 1.0);
    CU_ASSERT_DOUBLE_EQUAL(tfmcc_equation_cubic(1360, 0.08, 1e-5), 15151184.07, 5.0);
    CU_ASSERT_DOUBLE_EQUAL(tfmcc_equation_cubic(8900, 0.6, 0.01), 288650.387, 0.1);
    /* At a small R/p Reno's window is the larger: the Reno equation exactly. */
    CU_ASSERT_EQUAL(tfmcc_equation_cubic(1000, 0.1, 0.01), tfmcc_equation(1000, 0.1, 0.01));
    CU_ASSERT_EQUAL(tfmcc_equation_cubic(1360, 0.012, 1e-4), tfmcc_equation(1360, 0.012, 1e-4));
    /* Heavy loss: the timeout term rules both (s·W/R alone would give 1874 B/s, 45×). */
    CU_ASSERT_DOUBLE_EQUAL(tfmcc_equation_cubic(1000, 0.1, 1.0), 41.0988, 0.001);
    CU_ASSERT_DOUBLE_EQUAL(tfmcc_equation_cubic(1360, 0.6, 0.1), 4089.509, 0.01);
    /* Never below Reno's; falls with p (the inverse bisects on that). */
    double prev = TFMCC_RATE_MAX;
    for (double p = 1e-9; p < 1; p *= 1.9) {
        double x = tfmcc_equation_cubic(1360, 0.07, p);
        CU_ASSERT(x >= tfmcc_equation(1360, 0.07, p));
        CU_ASSERT(x <= prev);
        prev = x;
        CU_ASSERT_DOUBLE_EQUAL(tfmcc_equation_cubic_p(1360, 0.07, x) / p, 1.0, 1e-6);
    }
    /* Edges as tfmcc_equation. */
    CU_ASSERT_EQUAL(tfmcc_equation_cubic(1000, 0.1, 0), TFMCC_RATE_MAX);
    CU_ASSERT_EQUAL(tfmcc_equation_cubic(1000, 0.1, 5.0), tfmcc_equation_cubic(1000, 0.1, 1.0));
    CU_ASSERT_EQUAL(tfmcc_equation_cubic(1000, 0, 0.01), tfmcc_equation_cubic(1000, 1e-6, 0.01));
    CU_ASSERT(tfmcc_equation_cubic(1000, NAN, 0.01) <= TFMCC_RATE_MAX);
    CU_ASSERT(tfmcc_equation_cubic(1000, 0.1, NAN) <= TFMCC_RATE_MAX);
    CU_ASSERT_EQUAL(tfmcc_equation_cubic(1000, 1e-6, 1e-15), TFMCC_RATE_MAX);
    CU_ASSERT_EQUAL(tfmcc_equation_cubic_p(1000, 0.1, 1.0), 1.0);
    CU_ASSERT_EQUAL(tfmcc_equation_cubic_p(1000, 0.1, 0), 1.0);
    CU_ASSERT_EQUAL(tfmcc_equation_cubic_p(1000, 0.1, TFMCC_RATE_MAX), 1e-12);
}

/* ------------------------------------------------------------ receiver */

#define S 1360

/* A receiver that got an RTT of rtt_us from its first CONG_CTRL. */
static void rx_setup(struct tfmcc_rx *r, uint64_t grtt_us, uint64_t rtt_us, uint16_t seq0)
{
    tfmcc_rx_init(r, S, seq0, S, grtt_us, 10, 0);
    struct tfmcc_rx_cc cc = {.cc_seq = 0,
                             .supp_rate = TFMCC_SUPP_INF,
                             .tstamp = 0,
                             .listed = true,
                             .flags = FLAG_CC_RTT,
                             .rtt_us = rtt_us};
    CU_ASSERT_EQUAL(tfmcc_rx_cong_ctrl(r, &cc, 0, 0), TFMCC_RX_NOTHING);
    CU_ASSERT_TRUE(r->have_rtt);
    CU_ASSERT_EQUAL(tfmcc_rx_rtt(r), rtt_us);
}

/* Packets seq0+from .. seq0+to at 1 ms each (t = index ms), skipping those in drop. */
static void feed(struct tfmcc_rx *r, uint16_t seq0, unsigned from, unsigned to,
                 const unsigned *drop, size_t ndrop, const unsigned *ce, size_t nce)
{
    for (unsigned i = from; i <= to; i++) {
        bool skip = false, mark = false;
        for (size_t k = 0; k < ndrop; k++)
            skip |= drop[k] == i;
        for (size_t k = 0; k < nce; k++)
            mark |= ce[k] == i;
        if (!skip)
            tfmcc_rx_packet(r, (uint16_t)(seq0 + i), S, mark, (uint64_t)i * 1000);
    }
}

static void test_loss_events(void)
{
    struct tfmcc_rx r;
    rx_setup(&r, 100000, 100000, 0);
    CU_ASSERT_EQUAL(tfmcc_rx_p(&r), 0.0);
    /* 100 and 150 are one event (50 ms < RTT 100 ms); 400 opens the next; 460 is in it. */
    static const unsigned drop[] = {100, 150, 400, 460};
    feed(&r, 0, 1, 1000, drop, 4, NULL, 0);
    CU_ASSERT_EQUAL(r.losses, 4);
    CU_ASSERT_EQUAL(r.events, 2);
    CU_ASSERT_TRUE(r.lossy);
    CU_ASSERT_EQUAL(r.nint, 2);
    CU_ASSERT_EQUAL(r.intv[0], 300); /* 100 → 400 */
    CU_ASSERT_EQUAL(r.ev_seq, 400 + ((uint64_t)1 << 32));
    /* Nothing changes until NDUPACK later packets have arrived. */
    tfmcc_rx_packet(&r, 1002, S, false, 1002000);
    tfmcc_rx_packet(&r, 1003, S, false, 1003000);
    CU_ASSERT_EQUAL(r.losses, 4);
    tfmcc_rx_packet(&r, 1004, S, false, 1004000);
    CU_ASSERT_EQUAL(r.losses, 5);
    CU_ASSERT_EQUAL(r.events, 3);
    /* Reordering within the window is not a loss. */
    tfmcc_rx_packet(&r, 1006, S, false, 1005000);
    tfmcc_rx_packet(&r, 1005, S, false, 1005100);
    for (unsigned i = 1007; i < 1020; i++)
        tfmcc_rx_packet(&r, (uint16_t)i, S, false, i * 1000);
    CU_ASSERT_EQUAL(r.losses, 5);
    /* Duplicates and very old ones change nothing. */
    tfmcc_rx_packet(&r, 1010, S, false, 1020000);
    tfmcc_rx_packet(&r, 10, S, false, 1020000);
    CU_ASSERT_EQUAL(r.losses, 5);
    CU_ASSERT_EQUAL(r.events, 3);
}

static void test_loss_rate_weights(void)
{
    /* RFC 5348 §5.4 by hand: closed intervals 100..800 (newest first), open 50. */
    struct tfmcc_rx r;
    rx_setup(&r, 100000, 100000, 0);
    r.lossy = true;
    r.nint = 8;
    for (unsigned i = 0; i < 8; i++)
        r.intv[i] = 100 * (i + 1);
    r.ev_seq = r.max_seq - 49;
    double w[8] = {1, 1, 1, 1, .8, .6, .4, .2};
    double tot0 = 50, tot1 = 0, wt = 0;
    for (int i = 0; i < 8; i++) {
        wt += w[i];
        tot1 += (double)r.intv[i] * w[i];
        if (i < 7)
            tot0 += (double)r.intv[i] * w[i + 1];
    }
    double mean = (tot0 > tot1 ? tot0 : tot1) / wt;
    CU_ASSERT_DOUBLE_EQUAL(tfmcc_rx_p(&r), 1.0 / mean, 1e-12);
    /* A long open interval counts once it exceeds the history. */
    r.ev_seq = r.max_seq - 100000;
    CU_ASSERT(tfmcc_rx_p(&r) < 1.0 / mean);
    /* Two intervals: each mean over its own weights. */
    r.nint = 1;
    r.intv[0] = 10;
    r.ev_seq = r.max_seq - 29; /* open 30 */
    CU_ASSERT_DOUBLE_EQUAL(tfmcc_rx_p(&r), 1.0 / 20.0, 1e-12);
    r.ev_seq = r.max_seq; /* open 1: the closed one alone, 10 */
    CU_ASSERT_DOUBLE_EQUAL(tfmcc_rx_p(&r), 1.0 / 10.0, 1e-12);
}

static void test_ecn_marks(void)
{
    struct tfmcc_rx r;
    rx_setup(&r, 50000, 50000, 65000);
    /* CE marks count as losses: 200 and 220 one event, 300 the next (and across the wrap). */
    static const unsigned ce[] = {200, 220, 300, 900};
    feed(&r, 65000, 1, 1000, NULL, 0, ce, 4);
    CU_ASSERT_EQUAL(r.losses, 4);
    CU_ASSERT_EQUAL(r.events, 3);
    CU_ASSERT_EQUAL(r.intv[0], 600);
    CU_ASSERT_EQUAL(r.max_seq, ((uint64_t)1 << 32) + 65000 + 1000);
}

static void test_first_interval(void)
{
    /* RFC 5348 §6.3.1: the first interval gives the rate received before the
     * loss (1360 B per ms = 1.36 MB/s at RTT 20 ms), not 1/8 of it (5.0.1). */
    struct tfmcc_rx r;
    rx_setup(&r, 20000, 20000, 0);
    static const unsigned drop[] = {500};
    feed(&r, 0, 1, 505, drop, 1, NULL, 0);
    CU_ASSERT_EQUAL(r.events, 1);
    double x = tfmcc_rx_rate(&r, 505000);
    CU_ASSERT_DOUBLE_EQUAL(x / 1.36e6, 1.0, 0.05);
    struct tfmcc_ack a;
    tfmcc_rx_ack(&r, 505000, &a);
    CU_ASSERT_EQUAL(a.flags & FLAG_CC_START, 0);

    /* The RTT grew from 20 to 60 ms before the loss (the overshoot's queue): the
     * interval counts half of that queue (R = 40 ms, spec §1.7), so at the 60 ms of
     * the moment the rate is 1.36 MB/s × 40/60, not all of what arrived (issue 12). */
    rx_setup(&r, 20000, 20000, 0);
    feed(&r, 0, 1, 300, NULL, 0, NULL, 0);
    struct tfmcc_rx_cc cc = {.cc_seq = 1,
                             .supp_rate = TFMCC_SUPP_INF,
                             .tstamp = 300000,
                             .listed = true,
                             .flags = FLAG_CC_RTT,
                             .rtt_us = 100000};
    tfmcc_rx_cong_ctrl(&r, &cc, 0, 300000);
    CU_ASSERT_EQUAL(tfmcc_rx_rtt(&r), 60000);
    CU_ASSERT_EQUAL(r.rtt_min_us, 20000);
    feed(&r, 0, 301, 505, drop, 1, NULL, 0);
    CU_ASSERT_EQUAL(r.events, 1);
    x = tfmcc_rx_rate(&r, 505000);
    CU_ASSERT_DOUBLE_EQUAL(x / (1.36e6 * 40 / 60), 1.0, 0.05);
}

static void test_rate_cubic(void)
{
    /* The receiver reports CUBIC's rate where it exceeds Reno's (spec §1.7): RTT
     * 80 ms, p = 1e-4 (one loss event in 10,000 packets, a full 100 ms tbf buffer
     * shared with CUBIC, issue 12) gives 1.29 × the Reno equation. */
    struct tfmcc_rx r;
    rx_setup(&r, 80000, 80000, 0);
    r.lossy = true;
    r.nint = 1;
    r.intv[0] = 10000;
    r.ev_seq = r.max_seq; /* open interval of 1: p = 1/10000 */
    CU_ASSERT_DOUBLE_EQUAL(tfmcc_rx_p(&r), 1e-4, 1e-15);
    double x = (double)tfmcc_rx_rate(&r, 1000);
    CU_ASSERT_DOUBLE_EQUAL(x, tfmcc_equation_cubic(S, 0.08, 1e-4), 1.0);
    CU_ASSERT(x > 1.25 * tfmcc_equation(S, 0.08, 1e-4));
    struct tfmcc_ack a;
    tfmcc_rx_ack(&r, 1000, &a);
    CU_ASSERT_EQUAL(a.rate, (uint64_t)x);
    /* A LAN RTT: Reno's, unchanged. */
    rx_setup(&r, 2000, 2000, 0);
    r.lossy = true;
    r.nint = 1;
    r.intv[0] = 10000;
    r.ev_seq = r.max_seq;
    CU_ASSERT_DOUBLE_EQUAL((double)tfmcc_rx_rate(&r, 1000), tfmcc_equation(S, 0.002, 1e-4), 1.0);
}

static void test_outage(void)
{
    /* 3000 packets lost over 3 s at RTT 100 ms: one event per RTT of the gap. */
    struct tfmcc_rx r;
    rx_setup(&r, 100000, 100000, 0);
    static unsigned drop[3000];
    for (unsigned i = 0; i < 3000; i++)
        drop[i] = 1000 + i;
    feed(&r, 0, 1, 4010, drop, 3000, NULL, 0);
    CU_ASSERT_EQUAL(r.losses, 3000);
    CU_ASSERT(r.events >= 29 && r.events <= 31);
    CU_ASSERT(tfmcc_rx_p(&r) > 0.005); /* intervals of ~100 packets */
    feed(&r, 0, 4011, 5000, NULL, 0, NULL, 0);
    CU_ASSERT(tfmcc_rx_rate(&r, 5000000) >= 1);
    /* A gap of 30000 at once (half the sequence space). */
    tfmcc_rx_packet(&r, (uint16_t)(5000 + 30000), S, false, 9000000);
    CU_ASSERT(r.losses > 3000 + 29000);
}

static void test_rtt_and_echo(void)
{
    struct tfmcc_rx r;
    tfmcc_rx_init(&r, S, 7, 100, 500000, 1, 1000);
    CU_ASSERT_FALSE(r.have_rtt);
    CU_ASSERT_EQUAL(tfmcc_rx_rtt(&r), 500000); /* no RTT: the GRTT */
    /* Echo: the sender's last timestamp plus the holding time. */
    tfmcc_rx_sender_ts(&r, 5000000000ull, 2000);
    struct tfmcc_ack a;
    tfmcc_rx_ack(&r, 2500, &a);
    CU_ASSERT_EQUAL(a.echo, 5000000500ull);
    CU_ASSERT_EQUAL(a.flags, FLAG_CC_START);
    tfmcc_rx_ack(&r, 1500, &a); /* the clock went back: no negative hold */
    CU_ASSERT_EQUAL(a.echo, 5000000000ull);
    /* The first sample is taken whole (5.0.1: a tenth of it). */
    struct tfmcc_rx_cc cc = {.cc_seq = 1,
                             .supp_rate = TFMCC_SUPP_INF,
                             .tstamp = 5000100000ull,
                             .listed = true,
                             .flags = FLAG_CC_CLR | FLAG_CC_RTT,
                             .rtt_us = 40000};
    CU_ASSERT_EQUAL(tfmcc_rx_cong_ctrl(&r, &cc, 0, 102000), TFMCC_RX_ANSWER);
    CU_ASSERT_EQUAL(tfmcc_rx_rtt(&r), 40000);
    tfmcc_rx_ack(&r, 102000, &a);
    CU_ASSERT_EQUAL(a.flags, FLAG_CC_START | FLAG_CC_RTT | FLAG_CC_CLR);
    CU_ASSERT_EQUAL(a.cc_seq, 1);
    /* One-way delay grows by 30 ms (a queue): the RTT follows at once. */
    cc.tstamp += 100000;
    cc.flags = FLAG_CC_CLR; /* no new sample in this one */
    tfmcc_rx_cong_ctrl(&r, &cc, 0, 232000);
    CU_ASSERT_EQUAL(tfmcc_rx_rtt(&r), 70000);
    /* ... and never below half the sample when it shrinks. */
    cc.tstamp += 100000;
    tfmcc_rx_cong_ctrl(&r, &cc, 0, 232000);
    CU_ASSERT_EQUAL(tfmcc_rx_rtt(&r), 20000);
    /* Not listed: not the CLR any more. */
    cc.listed = false;
    CU_ASSERT_EQUAL(tfmcc_rx_cong_ctrl(&r, &cc, 0, 300000), TFMCC_RX_NOTHING);
    CU_ASSERT_FALSE(r.clr);
}

/* A deterministic uniform 32-bit sequence. */
static uint32_t lcg_next(uint64_t *x)
{
    *x = *x * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(*x >> 32);
}

static void test_feedback_timer(void)
{
    /* t = T(1 + ln u / ln N), T = 4 GRTT: P(t ≤ x) = N^(x/T − 1). */
    const uint64_t grtt = 100000, T = 4 * grtt;
    const uint32_t n = 1000;
    uint64_t x = 99;
    unsigned zero = 0, half = 0, total = 20000;
    for (unsigned i = 0; i < total; i++) {
        struct tfmcc_rx r;
        tfmcc_rx_init(&r, S, 0, S, grtt, n, 1000000);
        tfmcc_rx_data_info(&r, 1, TFMCC_SUPP_INF, 1000000, lcg_next(&x), 1000000);
        uint64_t d = tfmcc_rx_deadline(&r);
        CU_ASSERT(d >= 1000000 && d <= 1000000 + T);
        zero += d == 1000000;
        half += d <= 1000000 + T / 2;
    }
    CU_ASSERT_DOUBLE_EQUAL((double)zero / total, 1.0 / n, 0.0015);
    CU_ASSERT_DOUBLE_EQUAL((double)half / total, pow(n, -0.5), 0.006);
    /* A group of one: no division by ln 1 (5.0.1); still within [0, T]. */
    struct tfmcc_rx r;
    tfmcc_rx_init(&r, S, 0, S, grtt, 1, 0);
    tfmcc_rx_data_info(&r, 1, TFMCC_SUPP_INF, 1000000, 0xFFFFFFFFu, 0);
    CU_ASSERT_EQUAL(tfmcc_rx_deadline(&r), T);
    /* An older round changes nothing; the same round only the suppression rate. */
    tfmcc_rx_data_info(&r, 0, TFMCC_SUPP_INF, 1000000, 0, 10);
    CU_ASSERT_EQUAL(tfmcc_rx_deadline(&r), T);
    CU_ASSERT_EQUAL(r.cc_seq, 1);
}

static void test_suppression(void)
{
    struct tfmcc_rx r;
    /* Slow start: the report is twice the receive rate (1.36 MB/s here). */
    tfmcc_rx_init(&r, S, 0, S, 10000, 50, 0);
    for (unsigned i = 1; i <= 100; i++)
        tfmcc_rx_packet(&r, (uint16_t)i, S, false, i * 1000);
    CU_ASSERT_DOUBLE_EQUAL((double)tfmcc_rx_rate(&r, 100000) / 2.72e6, 1.0, 0.05);
    struct tfmcc_rx_cc cc = {.cc_seq = 3,
                             .supp_rate = TFMCC_SUPP_INF,
                             .tstamp = 0,
                             .listed = true,
                             .flags = FLAG_CC_RTT,
                             .rtt_us = 5000};
    tfmcc_rx_cong_ctrl(&r, &cc, 0x80000000u, 100000);
    CU_ASSERT(tfmcc_rx_deadline(&r) != UINT64_MAX);
    /* Someone slower answered: the suppression rate is below ours, cancel. */
    tfmcc_rx_data_info(&r, 3, 1000000, 5000000, 0, 100500);
    CU_ASSERT_EQUAL(tfmcc_rx_deadline(&r), UINT64_MAX);
    /* Next round: nobody answered, but our rate is above the sender's: silent. */
    tfmcc_rx_data_info(&r, 4, TFMCC_SUPP_INF, 2000000, 0, 101000);
    CU_ASSERT(tfmcc_rx_deadline(&r) != UINT64_MAX);
    CU_ASSERT_FALSE(tfmcc_rx_timer(&r, tfmcc_rx_deadline(&r)));
    CU_ASSERT_EQUAL(tfmcc_rx_deadline(&r), UINT64_MAX);
    /* Below the sender's rate: answers when the timer fires, not before. */
    tfmcc_rx_data_info(&r, 5, TFMCC_SUPP_INF, 4000000, 0x40000000u, 102000);
    uint64_t d = tfmcc_rx_deadline(&r);
    CU_ASSERT_FALSE(tfmcc_rx_timer(&r, d - 1));
    CU_ASSERT_TRUE(tfmcc_rx_timer(&r, d));
    /* An RTT above the GRTT is never suppressed (the sender must learn it). */
    cc.cc_seq = 6;
    cc.rtt_us = 50000;
    tfmcc_rx_cong_ctrl(&r, &cc, 0x40000000u, 103000);
    tfmcc_rx_data_info(&r, 6, 1000, 2000000, 0, 103500);
    CU_ASSERT(tfmcc_rx_deadline(&r) != UINT64_MAX);
    CU_ASSERT_TRUE(tfmcc_rx_timer(&r, tfmcc_rx_deadline(&r)));
    /* The CLR answers each CONG_CTRL at once and keeps no timer. */
    cc.cc_seq = 7;
    cc.flags = FLAG_CC_CLR | FLAG_CC_RTT;
    CU_ASSERT_EQUAL(tfmcc_rx_cong_ctrl(&r, &cc, 0, 104000), TFMCC_RX_ANSWER);
    CU_ASSERT_EQUAL(tfmcc_rx_deadline(&r), UINT64_MAX);
}

/* ------------------------------------------------------------ sender */

static const struct tfmcc_tx_cfg cfg0 = {.pkt_size = S, .robust = 20};

static struct tfmcc_fb fb_of(uint8_t flags, uint64_t rate, uint64_t rtt)
{
    return (struct tfmcc_fb){.flags = flags, .rate = rate, .rtt_us = rtt};
}

static void test_tx_init_and_clr(void)
{
    struct tfmcc_tx t;
    /* One packet per GRTT (the capture: 1360 B / 10.33 ms). */
    tfmcc_tx_init(&t, &cfg0, 10335, 0);
    CU_ASSERT_EQUAL(tfmcc_tx_rate(&t), 131591);
    CU_ASSERT_TRUE(t.slowstart);
    CU_ASSERT_EQUAL(tfmcc_tx_item_flags(&t, true), FLAG_CC_CLR | FLAG_CC_RTT | FLAG_CC_START);
    CU_ASSERT_EQUAL(tfmcc_tx_item_flags(&t, false), FLAG_CC_RTT | FLAG_CC_START);
    CU_ASSERT_EQUAL(tfmcc_tx_supp(&t), TFMCC_SUPP_INF);
    /* init= (Kbps × 1024 / 8 is the caller's conversion). */
    struct tfmcc_tx_cfg c = cfg0;
    c.init_rate = 500000;
    tfmcc_tx_init(&t, &c, 10000, 0);
    CU_ASSERT_EQUAL(tfmcc_tx_rate(&t), 500000);
    /* GRTT 0: no division by zero, 1 ms floor. */
    tfmcc_tx_init(&t, &cfg0, 0, 0);
    CU_ASSERT_EQUAL(tfmcc_tx_rate(&t), 1360000);
}

static void test_tx_slowstart(void)
{
    struct tfmcc_tx t;
    struct tfmcc_peer p[3] = {{0}};
    tfmcc_tx_init(&t, &cfg0, 10000, 0);
    tfmcc_tx_set_clr(&t, 0, 10000, 0);
    /* An early START report of little data never takes the rate below the start. */
    struct tfmcc_fb f = fb_of(FLAG_CC_START | FLAG_CC_RTT, 1000, 10000);
    tfmcc_tx_feedback(&t, 0, &p[0], false, &f, 10000);
    CU_ASSERT_EQUAL(tfmcc_tx_rate(&t), 136000);
    /* START reports of twice what arrived: at most doubling per RTT. */
    uint64_t now = 10000, rate = 136000;
    for (int i = 0; i < 8; i++) {
        now += 10000;
        f.rate = 2 * rate + 1000000;
        tfmcc_tx_feedback(&t, 0, &p[0], false, &f, now);
        CU_ASSERT_EQUAL(tfmcc_tx_rate(&t), 2 * rate);
        rate = tfmcc_tx_rate(&t);
    }
    CU_ASSERT_TRUE(t.slowstart);
    /* A lower START report from another client: it becomes CLR, rate follows. */
    f.rate = 20000000;
    tfmcc_tx_feedback(&t, 1, &p[1], false, &f, now += 1000);
    CU_ASSERT_EQUAL(t.clr, 1);
    CU_ASSERT_EQUAL(tfmcc_tx_rate(&t), 20000000);
    CU_ASSERT_EQUAL(tfmcc_tx_supp(&t), 18000000); /* 0.9 × the lowest non-CLR report */
    /* A faster client's START report (twice the sending rate) changes nothing, and is
     * not what fast recovery aims at later. */
    f.rate = 80000000;
    tfmcc_tx_feedback(&t, 0, &p[0], false, &f, now += 1000);
    CU_ASSERT_EQUAL(t.clr, 1);
    CU_ASSERT_EQUAL(tfmcc_tx_rate(&t), 20000000);
    /* The first report without START ends slow start; the rate follows it down. */
    f = fb_of(FLAG_CC_RTT, 6000000, 10000);
    tfmcc_tx_feedback(&t, 1, &p[1], false, &f, now += 10000);
    CU_ASSERT_FALSE(t.slowstart);
    CU_ASSERT_EQUAL(tfmcc_tx_rate(&t), 6000000);
    CU_ASSERT_EQUAL(tfmcc_tx_item_flags(&t, true), FLAG_CC_CLR | FLAG_CC_RTT);
    /* Fast recovery (doubling per RTT) up to the CLR's last START report's receive rate
     * (10 MB/s: what the path carried when it filled), however low the first loss report
     * (the seeded interval gives half of it, less while the queue drains); beyond it one
     * packet/RTT² only (issue 12: fast recovery to a fast receiver's START report
     * overshot a 50 Mbit/s bottleneck by 2x). */
    f.rate = 50000000;
    tfmcc_tx_feedback(&t, 1, &p[1], false, &f, now += 10000);
    CU_ASSERT_EQUAL(tfmcc_tx_rate(&t), 10000000 + S * 100); /* 2 × 6, capped at 10, + s·dt/R² */
    uint64_t r0 = tfmcc_tx_rate(&t);
    tfmcc_tx_feedback(&t, 1, &p[1], false, &f, now += 10000);
    CU_ASSERT_EQUAL(tfmcc_tx_rate(&t), r0 + S * 100); /* + s·dt/R² */
    /* A report of a client without RTT (no START, no RTT flag) used the GRTT: scaled. */
    f = fb_of(0, 1000000, 40000);
    tfmcc_tx_feedback(&t, 2, &p[2], false, &f, now += 1000);
    CU_ASSERT_EQUAL(t.clr, 2);
    CU_ASSERT_EQUAL(tfmcc_tx_rate(&t), 250000); /* × 10 ms / 40 ms */
    /* Out of slow start a START report (a receiver without loss) lowers nothing and takes
     * no CLR role; the CLR's own may raise the rate (one packet/RTT² here). */
    f = fb_of(FLAG_CC_START | FLAG_CC_RTT, 1000, 10000);
    tfmcc_tx_feedback(&t, 0, &p[0], false, &f, now += 10000);
    CU_ASSERT_EQUAL(t.clr, 2);
    CU_ASSERT_EQUAL(tfmcc_tx_rate(&t), 250000);
    f.rate = 50000000;
    tfmcc_tx_feedback(&t, 2, &p[2], false, &f, now += 10000);
    CU_ASSERT_EQUAL(t.clr, 2);
    CU_ASSERT_TRUE(tfmcc_tx_rate(&t) > 250000);
    CU_ASSERT_FALSE(t.slowstart);
}

static void test_tx_timers(void)
{
    struct tfmcc_tx t;
    struct tfmcc_peer p = {0};
    struct tfmcc_tx_cfg c = cfg0;
    c.init_rate = 5000000;
    tfmcc_tx_init(&t, &c, 20000, 0);
    CU_ASSERT_EQUAL(tfmcc_tx_deadline(&t), 0);
    CU_ASSERT_EQUAL(tfmcc_tx_tick(&t, 0), TFMCC_TX_SEND_CC);
    CU_ASSERT_EQUAL(tfmcc_tx_deadline(&t), 20000);
    tfmcc_tx_set_clr(&t, 0, 20000, 0);
    struct tfmcc_fb f = fb_of(FLAG_CC_RTT, 5000000, 20000);
    tfmcc_tx_feedback(&t, 0, &p, false, &f, 1000);
    uint64_t rate = tfmcc_tx_rate(&t);
    /* CONG_CTRL each advertised GRTT, a new round each 6. */
    int ccs = 0;
    uint64_t now = 1000;
    while (now < 250000) {
        now = tfmcc_tx_deadline(&t);
        int k = tfmcc_tx_tick(&t, now);
        ccs += !!(k & TFMCC_TX_SEND_CC);
        if (now == 120000)
            CU_ASSERT(k & TFMCC_TX_NEW_ROUND);
        if (now < 81000)
            CU_ASSERT_FALSE(k & TFMCC_TX_HALVED);
    }
    CU_ASSERT_EQUAL(t.cc_seq, 2);
    CU_ASSERT(ccs >= 5);
    /* No CLR feedback for 4 GRTT: halved, and again every 4 GRTT (81, 161, 241 ms). */
    CU_ASSERT_EQUAL(tfmcc_tx_rate(&t), rate / 8);
    /* Silent for ROBUST GRTTs: no longer the CLR; the next reporter becomes it. */
    int lost = 0;
    while (now < 1000000 && !lost) {
        now = tfmcc_tx_deadline(&t);
        lost = tfmcc_tx_tick(&t, now) & TFMCC_TX_CLR_LOST;
    }
    if (!lost)
        fprintf(stderr, "no CLR loss: now %llu clr_fb %llu adv %llu\n", (unsigned long long)now,
                (unsigned long long)t.clr_fb, (unsigned long long)tfmcc_tx_adv_grtt(&t));
    CU_ASSERT(lost);
    CU_ASSERT(now >= 1000 + 20 * 20000);
    CU_ASSERT_EQUAL(t.clr, TFMCC_NO_CLR);
    struct tfmcc_peer q = {0};
    f.rate = 100000000;
    tfmcc_tx_feedback(&t, 4, &q, false, &f, now);
    CU_ASSERT_EQUAL(t.clr, 4);
    /* A CLR that is dropped is replaced by the next report, even a faster one. */
    tfmcc_tx_gone(&t, 4);
    CU_ASSERT_EQUAL(t.clr, TFMCC_NO_CLR);
    tfmcc_tx_gone(&t, 9);
    tfmcc_tx_feedback(&t, 5, &q, false, &f, now + 1);
    CU_ASSERT_EQUAL(t.clr, 5);
    /* A proxy's report lowers the rate but never makes it the CLR. */
    f.rate = 1000;
    tfmcc_tx_feedback(&t, 6, &q, true, &f, now + 2);
    CU_ASSERT_EQUAL(t.clr, 5);
    CU_ASSERT(tfmcc_tx_rate(&t) < 10000);
}

static void test_tx_bounds(void)
{
    struct tfmcc_tx t;
    struct tfmcc_peer p = {0};
    struct tfmcc_tx_cfg c = {
        .pkt_size = 8800 + 72, .robust = 20, .min_rate = 1280, .max_rate = 6250000};
    tfmcc_tx_init(&t, &c, 500000, 0);
    tfmcc_tx_set_clr(&t, 0, 500000, 0);
    /* A collapsing report stops at min= (10 Kbps); the advertised GRTT covers a packet. */
    struct tfmcc_fb f = fb_of(FLAG_CC_RTT, 1, 500000);
    tfmcc_tx_feedback(&t, 0, &p, false, &f, 1000);
    CU_ASSERT_EQUAL(tfmcc_tx_rate(&t), 1280);
    CU_ASSERT_EQUAL(tfmcc_tx_adv_grtt(&t), (8872ull * 1000000 + 1279) / 1280);
    /* Halving never goes below the floor, nor below one packet per 64 s without min=. */
    for (uint64_t now = 1000; now < 600000000; now = tfmcc_tx_deadline(&t))
        tfmcc_tx_tick(&t, now);
    CU_ASSERT_EQUAL(tfmcc_tx_rate(&t), 1280);
    c.min_rate = 0;
    tfmcc_tx_init(&t, &c, 500000, 0);
    for (uint64_t now = 0; now < 3600000000ull; now = tfmcc_tx_deadline(&t))
        tfmcc_tx_tick(&t, now);
    CU_ASSERT_EQUAL(tfmcc_tx_rate(&t), 8872 / 64);
    CU_ASSERT(tfmcc_tx_adv_grtt(&t) <= 1000000000u);
    /* max= caps and ends slow start. */
    tfmcc_tx_init(&t, &c, 10000, 0);
    tfmcc_tx_set_clr(&t, 0, 10000, 0);
    f = fb_of(FLAG_CC_START | FLAG_CC_RTT, UINT64_MAX, 10000);
    for (uint64_t now = 10000; now < 400000; now += 10000)
        tfmcc_tx_feedback(&t, 0, &p, false, &f, now);
    CU_ASSERT_EQUAL(tfmcc_tx_rate(&t), 6250000);
    CU_ASSERT_FALSE(t.slowstart);
    /* No ceiling: huge reports saturate at TFMCC_RATE_MAX, never overflow. */
    c.max_rate = 0;
    tfmcc_tx_init(&t, &c, 10000, 0);
    tfmcc_tx_set_clr(&t, 0, 10000, 0);
    for (uint64_t now = 10000; now < 2000000; now += 10000)
        tfmcc_tx_feedback(&t, 0, &p, false, &f, now);
    CU_ASSERT_EQUAL(tfmcc_tx_rate(&t), (uint64_t)TFMCC_RATE_MAX);
    CU_ASSERT(tfmcc_tx_adv_grtt(&t) >= 1);
    /* Rates below one byte/s never reach 0. */
    CU_ASSERT(tfmcc_tx_rate(&t) > 0);
}

static void test_loop_bottleneck(void)
{
    /* The issue-12 path: 50 Mbit/s tbf, 100 ms of queue + 64 KiB burst, RTT 12 ms. */
    struct loop_cfg c = {.link_Bps = 50e6 / 8,
                         .qlimit = 625000 + 65536,
                         .owd_us = 6000,
                         .s = 1360,
                         .dur_us = 30000000,
                         .from_us = 5000000,
                         .tx = {.pkt_size = 1360, .robust = 20},
                         .trace = getenv("TFMCC_TRACE") != NULL};
    struct loop_res r;
    loop_run(&c, &r);
    fprintf(stderr,
            "\n  50 Mbit/s, 100 ms queue: share %.3f, sent %llu, dropped %llu, events %llu, max "
            "backlog %llu\n",
            r.share, (unsigned long long)r.sent, (unsigned long long)r.dropped,
            (unsigned long long)r.events, (unsigned long long)r.max_backlog);
    CU_ASSERT(r.share >= 0.85);
}

static void test_loop_ecn(void)
{
    /* The same path with CE marks above 30 KB of queue: full link, a short queue, no drops
     * after slow start. */
    struct loop_cfg c = {.link_Bps = 50e6 / 8,
                         .qlimit = 625000 + 65536,
                         .ecn_thresh = 30000,
                         .owd_us = 6000,
                         .s = 1360,
                         .dur_us = 20000000,
                         .from_us = 5000000,
                         .tx = {.pkt_size = 1360, .robust = 20}};
    struct loop_res r;
    loop_run(&c, &r);
    fprintf(stderr, "\n  ECN above 30 KB: share %.3f, dropped %llu, marked %llu, events %llu\n",
            r.share, (unsigned long long)r.dropped, (unsigned long long)r.marked,
            (unsigned long long)r.events);
    CU_ASSERT(r.share >= 0.85);
    CU_ASSERT(r.marked > 0);
    CU_ASSERT(r.events > 3);
}

static void test_loop_shallow(void)
{
    /* A shallow buffer (64 KiB) on a 100 Mbit/s, 60 ms path: losses drive it. */
    struct loop_cfg c = {.link_Bps = 100e6 / 8,
                         .qlimit = 65536,
                         .owd_us = 30000,
                         .s = 1360,
                         .dur_us = 40000000,
                         .from_us = 10000000,
                         .tx = {.pkt_size = 1360, .robust = 20}};
    struct loop_res r;
    loop_run(&c, &r);
    fprintf(stderr, "\n  64 KiB buffer, 60 ms: share %.3f, dropped %llu, events %llu\n", r.share,
            (unsigned long long)r.dropped, (unsigned long long)r.events);
    CU_ASSERT(r.share >= 0.7);
}

static const struct cu_test tfmcc_tests[] = {
    {"throughput equation and its inverse", test_equation},
    {"CUBIC's response function and its inverse", test_equation_cubic},
    {"loss events: grouping within an RTT, NDUPACK, reordering", test_loss_events},
    {"loss event rate: RFC 5348 weights", test_loss_rate_weights},
    {"ECN CE marks are losses", test_ecn_marks},
    {"the first loss interval from the receive rate", test_first_interval},
    {"the rate: CUBIC's where above Reno's", test_rate_cubic},
    {"an outage: one event per RTT, huge gaps", test_outage},
    {"RTT: first sample, one-way delay, echo", test_rtt_and_echo},
    {"feedback timer distribution", test_feedback_timer},
    {"suppression, answering below the rate, CLR", test_suppression},
    {"sender: initial rate and CLR choice", test_tx_init_and_clr},
    {"sender: slow start and increase rules", test_tx_slowstart},
    {"sender: CONG_CTRL, rounds, halving, CLR loss", test_tx_timers},
    {"sender: floors, ceilings, huge and tiny rates", test_tx_bounds},
    {"closed loop: ECN marks", test_loop_ecn},
    {"closed loop: a shallow buffer", test_loop_shallow},
    {"closed loop: 50 Mbit/s behind a 100 ms drop-tail queue", test_loop_bottleneck},
    {NULL, NULL},
};

CU_MAIN({"proto/tfmcc", tfmcc_tests})
