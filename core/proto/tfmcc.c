/* TFMCC (RFC 4654, spec §1.7); see tfmcc.h. */
#include "core/proto/tfmcc.h"

#include <math.h>

#include "core/wire/wire.h"

/* ------------------------------------------------------------ helpers */

static double clampd(double v, double lo, double hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

static uint64_t to_u64(double v)
{
    if (!(v > 0))
        return 0;
    if (v >= TFMCC_RATE_MAX)
        return (uint64_t)TFMCC_RATE_MAX;
    return (uint64_t)v;
}

/* Saturating a + b for times. */
static uint64_t tadd(uint64_t a, uint64_t b)
{
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static uint64_t umin(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

static uint64_t umax(uint64_t a, uint64_t b)
{
    return a > b ? a : b;
}

/* ------------------------------------------------------------ the equation */

/* RFC 5348 §3.1 with Reno's window, or with the larger of Reno's and CUBIC's. */
static double equation(double s, double r_sec, double p, bool cubic)
{
    if (!(p > 0))
        return TFMCC_RATE_MAX;
    if (p > 1)
        p = 1;
    if (!(r_sec >= 1e-6))
        r_sec = 1e-6;
    double inv_w = sqrt(2.0 * p / 3.0); /* 1 / Reno's packets per RTT */
    if (cubic) {
        /* CUBIC's average window, when larger (CUBIC itself runs at the larger
         * of its window and Reno's: RFC 9438 §4.3). (C·(3+β)/(4·(1−β)))^¼ with
         * C = 0.4, β = 0.7. */
        double w_reno = 1.0 / inv_w;
        double k = pow(0.4 * (3.0 + 0.7) / (4.0 * (1.0 - 0.7)), 0.25);
        double w_cubic = k * pow(r_sec / p, 0.75);
        inv_w = 1.0 / (w_cubic > w_reno ? w_cubic : w_reno);
    }
    double f = inv_w + 12.0 * sqrt(3.0 * p / 8.0) * p * (1.0 + 32.0 * p * p);
    double x = s / (r_sec * f);
    return x < TFMCC_RATE_MAX ? x : TFMCC_RATE_MAX;
}

double tfmcc_equation(double s, double r_sec, double p)
{
    return equation(s, r_sec, p, false);
}

double tfmcc_equation_cubic(double s, double r_sec, double p)
{
    return equation(s, r_sec, p, true);
}

/* The inverse in p (the equation falls monotonically in p): bisect on log p. */
double tfmcc_equation_cubic_p(double s, double r_sec, double x)
{
    if (!(x > tfmcc_equation_cubic(s, r_sec, 1.0)))
        return 1.0;
    if (x >= tfmcc_equation_cubic(s, r_sec, 1e-12))
        return 1e-12;
    double lo = log(1e-12), hi = 0.0;
    for (int i = 0; i < 64; i++) {
        double mid = 0.5 * (lo + hi);
        if (tfmcc_equation_cubic(s, r_sec, exp(mid)) > x)
            lo = mid;
        else
            hi = mid;
    }
    return exp(hi);
}

/* ------------------------------------------------------------ receiver */

#define SEQ_BASE (UINT64_C(1) << 32)

static const double weights[TFMCC_NINT] = {1.0, 1.0, 1.0, 1.0, 0.8, 0.6, 0.4, 0.2};

static uint64_t extend(const struct tfmcc_rx *r, uint16_t seq)
{
    int16_t d = (int16_t)(uint16_t)(seq - (uint16_t)r->max_seq);
    return (uint64_t)((int64_t)r->max_seq + d);
}

/* Checkpoint spacing: 1/32 of the receive-rate window (4 GRTT), at least 100 µs. */
static uint64_t ring_step(const struct tfmcc_rx *r)
{
    return umax(r->grtt_us / 8, 100);
}

static void ring_note(struct tfmcc_rx *r, uint64_t now)
{
    unsigned last = (r->rhead + TFMCC_RING - 1) % TFMCC_RING;
    if (r->rlen > 1 && now >= r->ring[last].t &&
        now - r->ring[(last + TFMCC_RING - 1) % TFMCC_RING].t < ring_step(r)) {
        /* Still within the step of the previous checkpoint: move the last one. */
        r->ring[last].t = now;
        r->ring[last].cum = r->cum;
        return;
    }
    r->ring[r->rhead].t = now;
    r->ring[r->rhead].cum = r->cum;
    r->rhead = (r->rhead + 1) % TFMCC_RING;
    if (r->rlen < TFMCC_RING)
        r->rlen++;
}

uint64_t tfmcc_rx_recv_rate(const struct tfmcc_rx *r, uint64_t window_us, uint64_t now)
{
    if (r->rlen == 0)
        return 0;
    /* The newest checkpoint at or before now − window, else the oldest. */
    unsigned oldest = (r->rhead + TFMCC_RING - r->rlen) % TFMCC_RING;
    unsigned base = oldest;
    uint64_t from = now > window_us ? now - window_us : 0;
    for (unsigned k = 0; k < r->rlen; k++) {
        unsigned i = (oldest + k) % TFMCC_RING;
        if (r->ring[i].t > from)
            break;
        base = i;
    }
    if (now <= r->ring[base].t)
        return 0;
    double bytes = (double)(r->cum - r->ring[base].cum);
    return to_u64(bytes * 1e6 / (double)(now - r->ring[base].t));
}

uint64_t tfmcc_rx_rtt(const struct tfmcc_rx *r)
{
    if (!r->have_rtt)
        return umax(r->grtt_us, 1);
    int64_t v = (int64_t)r->rtt_us;
    if (r->have_owd)
        v += r->owd_last - r->owd_base;
    /* One-way delay adjustments never take the RTT below half the sample:
     * clock jitter must not make the rate explode. */
    int64_t lo = (int64_t)(r->rtt_us / 2);
    return (uint64_t)(v > lo ? v : (lo > 0 ? lo : 1));
}

double tfmcc_rx_p(const struct tfmcc_rx *r)
{
    if (!r->lossy)
        return 0.0;
    /* RFC 5348 §5.4: the weighted mean with and without the open interval, the larger. */
    double i0 = (double)(r->max_seq - r->ev_seq + 1);
    unsigned k = r->nint;
    double tot0 = i0 * weights[0], w0 = weights[0];
    for (unsigned i = 1; i < TFMCC_NINT && i <= k; i++) {
        tot0 += (double)r->intv[i - 1] * weights[i];
        w0 += weights[i];
    }
    double tot1 = 0, w1 = 0;
    for (unsigned i = 0; i < k; i++) {
        tot1 += (double)r->intv[i] * weights[i];
        w1 += weights[i];
    }
    double mean = tot0 / w0;
    if (w1 > 0 && tot1 / w1 > mean)
        mean = tot1 / w1;
    return mean >= 1.0 ? 1.0 / mean : 1.0;
}

/* A loss event opened by the loss of seq (or a CE mark on it) at time t. */
static void new_event(struct tfmcc_rx *r, uint64_t seq, uint64_t t)
{
    if (!r->lossy) {
        /* RFC 5348 §6.3.1: seed the history with the interval that gives
         * the rate the path delivered in the last RTT (5.0.1 made it 64
         * times too short: a bits/bytes slip, spec §6), for an R that
         * counts half the queue the slow start's overshoot built: the RTT
         * at its first loss includes that queue, up to the whole buffer,
         * and rate × that RTT would be an interval for which the CLR keeps
         * the buffer full for good (issue 12 bench: 81 ms, p = 4.5e-5, a
         * standing 40 ms queue and over 3x a competing TCP flow's share).
         * Half the queue as TCP halves its window, but the whole path's
         * own RTT, so that a buffer shallower than the path still leaves
         * it full (spec §1.7). */
        uint64_t rtt = tfmcc_rx_rtt(r);
        uint64_t x = tfmcc_rx_recv_rate(r, umax(rtt, r->grtt_us), t);
        if (r->rtt_min_us && r->rtt_min_us < rtt)
            rtt = r->rtt_min_us + (rtt - r->rtt_min_us) / 2;
        double p = x ? tfmcc_equation_cubic_p(r->pkt_size, (double)rtt / 1e6, (double)x) : 1.0;
        double first = 1.0 / p;
        r->intv[0] = first < 1.0 ? 1 : first > 1e12 ? (uint64_t)1e12 : (uint64_t)first;
        r->nint = 1;
        r->lossy = true;
    } else {
        for (unsigned i = TFMCC_NINT - 1; i > 0; i--)
            r->intv[i] = r->intv[i - 1];
        r->intv[0] = seq > r->ev_seq ? seq - r->ev_seq : 1;
        if (r->nint < TFMCC_NINT)
            r->nint++;
    }
    r->ev_seq = seq;
    r->ev_t = t;
    r->events++;
}

/* A loss (or CE mark) of seq at t: a new event unless within one RTT of the current one. */
static void loss_at(struct tfmcc_rx *r, uint64_t seq, uint64_t t)
{
    if (!r->lossy || t > tadd(r->ev_t, tfmcc_rx_rtt(r)))
        new_event(r, r->lossy && seq <= r->ev_seq ? r->ev_seq + 1 : seq, t);
}

/*
 * Sequence numbers a..b were lost; their nominal arrival times are
 * interpolated between t0 (arrival of seq s0) and t1 (of seq s1).
 */
static void lost_run(struct tfmcc_rx *r, uint64_t a, uint64_t b, uint64_t s0, uint64_t t0,
                     uint64_t s1, uint64_t t1)
{
    double slope = s1 > s0 && t1 > t0 ? (double)(t1 - t0) / (double)(s1 - s0) : 0.0;
    r->losses += b - a + 1;
    uint64_t x = a;
    while (x <= b) {
        loss_at(r, x, t0 + (uint64_t)(slope * (double)(x - s0)));
        /* The next loss more than one RTT after this event's start opens the next one. */
        uint64_t until = tadd(r->ev_t, tfmcc_rx_rtt(r));
        if (slope <= 0 || until >= t1)
            break;
        uint64_t y = s0 + (uint64_t)((double)(until - t0) / slope) + 1;
        x = y > x ? y : x + 1;
    }
}

void tfmcc_rx_init(struct tfmcc_rx *r, uint32_t pkt_size, uint16_t seq, uint32_t wire_bytes,
                   uint64_t grtt_us, uint32_t gsize, uint64_t now)
{
    *r = (struct tfmcc_rx){0};
    r->pkt_size = pkt_size ? pkt_size : 1;
    r->grtt_us = umax(grtt_us, 1);
    r->gsize = gsize;
    r->max_seq = SEQ_BASE + seq;
    r->max_t = now;
    r->bits = 1;
    r->judged = r->max_seq;
    r->cum = wire_bytes;
    ring_note(r, now);
    r->supp = TFMCC_SUPP_INF;
}

void tfmcc_rx_set_grtt(struct tfmcc_rx *r, uint64_t grtt_us)
{
    r->grtt_us = umax(grtt_us, 1);
}

void tfmcc_rx_set_gsize(struct tfmcc_rx *r, uint32_t gsize)
{
    r->gsize = gsize;
}

void tfmcc_rx_packet(struct tfmcc_rx *r, uint16_t seq, uint32_t wire_bytes, bool ce, uint64_t now)
{
    uint64_t ext = extend(r, seq);
    r->cum += wire_bytes;
    ring_note(r, now);
    if (ext > r->max_seq) {
        uint64_t old_max = r->max_seq, old_bits = r->bits, old_t = r->max_t;
        uint64_t shift = ext - old_max;
        r->bits = shift >= 64 ? 1 : (old_bits << shift) | 1;
        r->max_seq = ext;
        r->max_t = now;
        /* Judge what is now TFMCC_NDUPACK behind: holes before, the gap after old_max. */
        uint64_t lim = ext - TFMCC_NDUPACK;
        uint64_t s = r->judged + 1;
        for (; s <= lim && s <= old_max; s++) {
            uint64_t k = old_max - s;
            if (k >= 64 || !(old_bits >> k & 1)) {
                r->losses++;
                loss_at(r, s, old_t);
            }
        }
        if (s <= lim)
            lost_run(r, s, lim, old_max, old_t, ext, now);
        if (lim > r->judged)
            r->judged = lim;
    } else if (ext > r->judged && r->max_seq - ext < 64) {
        r->bits |= UINT64_C(1) << (r->max_seq - ext); /* late: fills its hole */
    }
    if (ce) {
        /* RFC 4654 §4.3 / RFC 3168: a CE mark is a loss for congestion control. */
        r->losses++;
        loss_at(r, ext > r->judged ? ext : r->judged + 1, now);
    }
}

void tfmcc_rx_sender_ts(struct tfmcc_rx *r, uint64_t ts, uint64_t now)
{
    r->have_ts = true;
    r->ts = ts;
    r->ts_rx = now;
    r->owd_last = (int64_t)(now - ts);
}

uint64_t tfmcc_rx_rate(const struct tfmcc_rx *r, uint64_t now)
{
    double x;
    if (!r->lossy)
        x = 2.0 * (double)tfmcc_rx_recv_rate(r, 4 * r->grtt_us, now);
    else
        x = tfmcc_equation_cubic(r->pkt_size, (double)tfmcc_rx_rtt(r) / 1e6, tfmcc_rx_p(r));
    return umax(to_u64(x), 1);
}

static bool suppressed(const struct tfmcc_rx *r, uint64_t now)
{
    /* RFC 4654 §4.7: a report is useless when someone no faster already
     * answered (the sender's suppression rate is 0.9 × the lowest report),
     * unless this receiver's RTT would raise the sender's maximum RTT. */
    if (r->supp == TFMCC_SUPP_INF)
        return false;
    if (r->have_rtt && tfmcc_rx_rtt(r) > r->grtt_us)
        return false;
    return r->supp < umax(tfmcc_rx_rate(r, now), r->rate_round);
}

bool tfmcc_rx_new_round(const struct tfmcc_rx *r, uint16_t cc_seq)
{
    return !r->have_round || (int16_t)(cc_seq - r->cc_seq) > 0;
}

static void round_update(struct tfmcc_rx *r, uint16_t cc_seq, uint64_t supp, uint32_t rnd,
                         uint64_t now)
{
    if (tfmcc_rx_new_round(r, cc_seq)) {
        r->have_round = true;
        r->cc_seq = cc_seq;
        r->supp = supp;
        r->rate_round = tfmcc_rx_rate(r, now);
        r->fb_at = 0;
        if (!r->clr) {
            /* RFC 4654 §4.7: t = T·(1 + ln u / ln N), u uniform in (0, 1], N
             * the group size (at least 2: ln 1 = 0, 5.0.1 divides by it),
             * T = 4 GRTT so that the last answers still reach the sender within
             * its 6-GRTT round. */
            double u = ((double)rnd + 1.0) / 4294967296.0;
            double n = r->gsize > 2 ? (double)r->gsize : 2.0;
            double t = 4.0 * (double)r->grtt_us * (1.0 + log(u) / log(n));
            r->fb_at = tadd(now, t > 0 ? (uint64_t)t : 0);
            if (r->fb_at == 0)
                r->fb_at = 1;
        }
        return;
    }
    if (cc_seq != r->cc_seq)
        return; /* an older round */
    r->supp = supp;
    if (r->fb_at && suppressed(r, now))
        r->fb_at = 0;
}

void tfmcc_rx_data_info(struct tfmcc_rx *r, uint16_t cc_seq, uint64_t supp_rate, uint64_t send_rate,
                        uint32_t rnd, uint64_t now)
{
    r->send_rate = send_rate;
    round_update(r, cc_seq, supp_rate, rnd, now);
}

int tfmcc_rx_cong_ctrl(struct tfmcc_rx *r, const struct tfmcc_rx_cc *cc, uint32_t rnd, uint64_t now)
{
    int64_t prev_owd = r->owd_last;
    bool had_ts = r->have_ts;
    tfmcc_rx_sender_ts(r, cc->tstamp, now);
    r->clr = cc->listed && (cc->flags & FLAG_CC_CLR);
    if (cc->listed && (cc->flags & FLAG_CC_RTT) && cc->rtt_us > 0) {
        /* The sender measured this RTT from the echo of an earlier CONG_CTRL:
         * the one-way delay then is the base of later adjustments. 5.0.1
         * smooths from 0 (the first CLR sample counts a tenth) and weighs
         * the CLR's new samples 1/10, so its RTT lags a growing queue by ten
         * CONG_CTRLs (spec §6); here the first is taken whole, later ones
         * weigh 1/2, and one-way delay changes move it in between. */
        if (!r->have_rtt)
            r->rtt_us = cc->rtt_us;
        else
            r->rtt_us = (uint64_t)(0.5 * (double)r->rtt_us + 0.5 * (double)cc->rtt_us);
        r->rtt_us = umax(r->rtt_us, 1);
        r->have_rtt = true;
        r->owd_base = had_ts ? prev_owd : r->owd_last;
        r->have_owd = true;
    }
    if (r->have_rtt && (r->rtt_min_us == 0 || tfmcc_rx_rtt(r) < r->rtt_min_us))
        r->rtt_min_us = tfmcc_rx_rtt(r);
    round_update(r, cc->cc_seq, cc->supp_rate, rnd, now);
    if (r->clr) {
        r->fb_at = 0;
        return TFMCC_RX_ANSWER;
    }
    return TFMCC_RX_NOTHING;
}

uint64_t tfmcc_rx_deadline(const struct tfmcc_rx *r)
{
    return r->fb_at ? r->fb_at : UINT64_MAX;
}

bool tfmcc_rx_timer(struct tfmcc_rx *r, uint64_t now)
{
    if (!r->fb_at || now < r->fb_at)
        return false;
    r->fb_at = 0;
    if (suppressed(r, now))
        return false;
    /* Only a receiver slower than the sender, or one the sender needs to
     * measure (no RTT yet, or more than the GRTT), has something to say. */
    if (!r->have_rtt || tfmcc_rx_rtt(r) > r->grtt_us)
        return true;
    return r->send_rate == 0 || tfmcc_rx_rate(r, now) < r->send_rate;
}

void tfmcc_rx_ack(struct tfmcc_rx *r, uint64_t now, struct tfmcc_ack *out)
{
    out->flags = (uint8_t)((r->lossy ? 0 : FLAG_CC_START) | (r->have_rtt ? FLAG_CC_RTT : 0) |
                           (r->clr ? FLAG_CC_CLR : 0));
    out->cc_seq = r->cc_seq;
    out->rate = tfmcc_rx_rate(r, now);
    out->echo = r->have_ts ? (now > r->ts_rx ? tadd(r->ts, now - r->ts_rx) : r->ts) : 0;
    r->fb_at = 0;
}

/* ------------------------------------------------------------ sender */

static double floor_rate(const struct tfmcc_tx *t)
{
    double f = (double)t->cfg.pkt_size * 1e6 / (double)TFMCC_T_MBI_US;
    return t->cfg.min_rate > f ? (double)t->cfg.min_rate : f;
}

static double ceil_rate(const struct tfmcc_tx *t)
{
    double c = t->cfg.max_rate ? (double)t->cfg.max_rate : TFMCC_RATE_MAX;
    return c < floor_rate(t) ? floor_rate(t) : c;
}

static double bound(const struct tfmcc_tx *t, double x)
{
    return clampd(x, floor_rate(t), ceil_rate(t));
}

uint64_t tfmcc_tx_adv_grtt(const struct tfmcc_tx *t)
{
    /* 5.0.1 fix for slow links: never below one packet interval (spec §1.6). */
    double pkt = (double)t->cfg.pkt_size * 1e6 / t->rate;
    uint64_t a = umax(t->grtt_us, pkt < 1e9 ? (uint64_t)ceil(pkt) : 1000000000u);
    return umin(a, 1000000000u);
}

static uint64_t nofb_interval(const struct tfmcc_tx *t)
{
    /* RFC 5348 §4.4: max(4R, 2s/X); 5.0.1: 4 advertised GRTT. R is also at
     * least the CLR's last RTT: its answers cross the queue that delays
     * them, and a GRTT measured before the queue grew must not halve the
     * rate for that alone (issue 12 bench). */
    double two_pkts = 2.0 * (double)t->cfg.pkt_size * 1e6 / t->rate;
    uint64_t r = umax(tfmcc_tx_adv_grtt(t), t->clr != TFMCC_NO_CLR ? t->clr_rtt_us : 0);
    return umax(4 * r, two_pkts < 4e9 ? (uint64_t)two_pkts : 4000000000u);
}

/* The initial rate: init= or one packet per GRTT (GRTT at least 1 ms). */
static double initial_rate(const struct tfmcc_tx *t)
{
    if (t->cfg.init_rate)
        return bound(t, (double)t->cfg.init_rate);
    return bound(t, (double)t->cfg.pkt_size * 1e6 / (double)umax(t->grtt_us, 1000));
}

void tfmcc_tx_init(struct tfmcc_tx *t, const struct tfmcc_tx_cfg *cfg, uint64_t grtt_us,
                   uint64_t now)
{
    *t = (struct tfmcc_tx){0};
    t->cfg = *cfg;
    if (t->cfg.pkt_size == 0)
        t->cfg.pkt_size = 1;
    if (t->cfg.robust == 0)
        t->cfg.robust = 1;
    t->grtt_us = umax(grtt_us, 1);
    t->rate = TFMCC_RATE_MAX; /* so that adv_grtt below is the GRTT */
    t->rate = initial_rate(t);
    t->peak = t->rate;
    t->slowstart = true;
    t->clr = TFMCC_NO_CLR;
    t->supp = TFMCC_SUPP_INF;
    t->next_cc = now;
    t->round_end = tadd(now, 6 * tfmcc_tx_adv_grtt(t));
    t->clr_fb = now;
    t->nofb_at = tadd(now, nofb_interval(t));
    t->last_up = now;
}

void tfmcc_tx_set_grtt(struct tfmcc_tx *t, uint64_t grtt_us)
{
    t->grtt_us = umax(grtt_us, 1);
}

void tfmcc_tx_set_clr(struct tfmcc_tx *t, size_t idx, uint64_t rtt_us, uint64_t now)
{
    t->clr = idx;
    t->clr_rtt_us = rtt_us;
    t->clr_fb = now;
    t->nofb_at = tadd(now, nofb_interval(t));
    t->clr_dead = tadd(now, (uint64_t)t->cfg.robust * tfmcc_tx_adv_grtt(t));
}

static void set_rate(struct tfmcc_tx *t, double x)
{
    t->rate = bound(t, x);
    if (t->rate >= ceil_rate(t))
        t->slowstart = false; /* at max=: nothing to probe for */
}

static void decrease(struct tfmcc_tx *t, double x, uint64_t now)
{
    if (t->slowstart) {
        /* A START report is twice what arrived; early ones saw little data:
         * never below the initial rate while starting. */
        double init = initial_rate(t);
        if (x < init)
            x = init;
        if (x >= t->rate)
            return;
    }
    set_rate(t, x);
    t->last_up = now;
}

/*
 * The CLR reports x. Lower: follow at once (RFC 4654 §3.3). Higher: in slow
 * start at most double per CLR RTT (RFC 4654 §3.6); otherwise back up to the
 * rate before the last decrease at most doubling per RTT (a drop caused by
 * a passing queue must not cost seconds of linear climbing: spec §6), and
 * beyond it by one packet per RTT per RTT (RFC 4654 §3.3).
 */
static void clr_report(struct tfmcc_tx *t, double x, uint64_t now)
{
    if (x < t->rate) {
        decrease(t, x, now);
        return;
    }
    /* Beyond slow start the CLR's RTT, but never below the GRTT: a sample
     * taken while the path queue was empty (1 ms on a LAN) would let the
     * rate climb back, or by a packet per millisecond, on every report
     * (issue 12 bench). */
    uint64_t rtt = t->clr_rtt_us ? t->clr_rtt_us : t->grtt_us;
    double r = (double)umax(t->slowstart ? rtt : umax(rtt, t->grtt_us), 1000) / 1e6;
    double dt = now > t->last_up ? (double)(now - t->last_up) / 1e6 : 0.0;
    if (dt > r)
        dt = r;
    double fast = t->rate * (1.0 + dt / r);
    double allow;
    if (t->slowstart)
        allow = fast;
    else {
        allow = t->rate < t->peak ? (fast < t->peak ? fast : t->peak) : t->rate;
        allow += (double)t->cfg.pkt_size * dt / (r * r);
    }
    set_rate(t, x < allow ? x : allow);
    if (t->rate > t->peak)
        t->peak = t->rate;
    t->last_up = now;
}

void tfmcc_tx_feedback(struct tfmcc_tx *t, size_t idx, struct tfmcc_peer *p, bool proxy,
                       const struct tfmcc_fb *fb, uint64_t now)
{
    t->any_fb = now;
    p->fb_at = now;
    if (fb->rtt_us) {
        p->have_rtt = true;
        p->rtt_us = fb->rtt_us;
        p->rtt_sent = false;
    }
    double x = (double)fb->rate;
    bool ss = fb->flags & FLAG_CC_START;
    if (ss && !t->slowstart) {
        /* A receiver that has seen no loss has no congestion to report: its
         * START report (twice what it received lately, which lags every
         * change of the rate and falls to nothing between passes) never
         * lowers the rate nor makes it the CLR once slow start is over. A
         * CLR without loss still counts as heard, and may let the rate rise. */
        p->rate = to_u64(x);
        if (idx == t->clr) {
            tfmcc_tx_set_clr(t, idx, p->have_rtt ? p->rtt_us : t->clr_rtt_us, now);
            if (x > t->rate)
                clr_report(t, x, now);
        } else if (x < (double)t->supp) {
            t->supp = umax(to_u64(0.9 * x), 1);
        }
        return;
    }
    if (!ss && !(fb->flags & FLAG_CC_RTT) && p->have_rtt)
        x = x * (double)tfmcc_tx_adv_grtt(t) / (double)p->rtt_us; /* it used the GRTT as R */
    x = clampd(x, 0.0, TFMCC_RATE_MAX);
    p->rate = to_u64(x);
    if (ss) {
        /* Only the reports that drive the rate (the CLR's, or one that makes
         * its sender the CLR): a fast receiver's START report is twice the
         * sending rate, not what the slowest path carries. */
        if (idx == t->clr || t->clr == TFMCC_NO_CLR || x < t->rate)
            t->ss_report = x;
    } else if (t->slowstart) {
        /* Out of slow start: the CLR's last START report was twice its
         * receive rate, the best measure of the path; fast recovery goes
         * no higher. Not the first loss report: since the first loss
         * interval is seeded at half the receive rate (tfmcc_rx), that
         * report is half the path or less while the overshoot's queue
         * drains, and capping at it left a 50 Mbit/s path to a climb of
         * one packet per GRTT² (issue 12 bench, sim tf_bottleneck). */
        t->slowstart = false;
        t->peak = t->ss_report > 0 ? t->ss_report / 2 : t->rate;
    }
    if (idx == t->clr) {
        tfmcc_tx_set_clr(t, idx, p->have_rtt ? p->rtt_us : t->clr_rtt_us, now);
        clr_report(t, x, now);
        return;
    }
    if (x < (double)t->supp)
        t->supp = umax(to_u64(0.9 * x), 1);
    if (proxy) {
        if (x < t->rate)
            decrease(t, x, now);
        return;
    }
    if (t->clr == TFMCC_NO_CLR || x < t->rate) {
        /* The slowest reporter becomes the CLR (RFC 4654 §3.3). */
        tfmcc_tx_set_clr(t, idx, p->have_rtt ? p->rtt_us : 0, now);
        clr_report(t, x, now);
    }
}

void tfmcc_tx_gone(struct tfmcc_tx *t, size_t idx)
{
    if (idx == t->clr)
        t->clr = TFMCC_NO_CLR;
}

int tfmcc_tx_tick(struct tfmcc_tx *t, uint64_t now)
{
    int out = 0;
    uint64_t adv = tfmcc_tx_adv_grtt(t);
    if (now >= t->next_cc) {
        out |= TFMCC_TX_SEND_CC;
        t->next_cc = tadd(now, adv);
    }
    if (now >= t->round_end) {
        out |= TFMCC_TX_NEW_ROUND;
        t->cc_seq++;
        t->supp = TFMCC_SUPP_INF;
        t->round_end = tadd(now, 6 * adv);
    }
    if (now >= t->nofb_at) {
        /* RFC 4654 §3.3 / RFC 5348 §4.4: no CLR feedback, halve. */
        set_rate(t, t->rate / 2);
        t->last_up = now;
        t->nofb_at = tadd(now, nofb_interval(t));
        out |= TFMCC_TX_HALVED;
    }
    /* Silent for ROBUST GRTTs (as advertised when it last spoke: halving must
     * not keep pushing the limit out). */
    if (t->clr != TFMCC_NO_CLR && now >= t->clr_dead) {
        t->clr = TFMCC_NO_CLR;
        out |= TFMCC_TX_CLR_LOST;
    }
    return out;
}

uint64_t tfmcc_tx_deadline(const struct tfmcc_tx *t)
{
    uint64_t d = umin(umin(t->next_cc, t->round_end), t->nofb_at);
    if (t->clr != TFMCC_NO_CLR)
        d = umin(d, t->clr_dead);
    return d;
}

uint64_t tfmcc_tx_rate(const struct tfmcc_tx *t)
{
    return umax(to_u64(t->rate), 1);
}

uint8_t tfmcc_tx_item_flags(const struct tfmcc_tx *t, bool clr)
{
    return (uint8_t)((clr ? FLAG_CC_CLR : 0) | FLAG_CC_RTT | (t->slowstart ? FLAG_CC_START : 0));
}
