/*
 * TFMCC congestion control (RFC 4654, spec §1.7): the receiver's loss
 * history, rate and feedback timer, and the sender's rate and CLR, with no
 * I/O and no clock: callers pass the time (µs) and random numbers in.
 *
 * Units are the wire's (spec §1.3, §1.7): rates in bytes/s (the 16-bit
 * rate fields decode to bytes/s), times in µs, sequence numbers the 16-bit
 * header seq that counts every datagram the sender sends. The packet size
 * s of the equation is the sender's "datapacketsize" (spec §1.6: block +
 * FILESEG + TFMCC ext [+ ENCRYPTED + tag] + UFTP + UDP + IP headers), and
 * receive rates count each datagram with its UDP and IP headers too.
 *
 * How the engines use it (DESIGN.md "Congestion control"):
 *
 * Receiver, one struct tfmcc_rx per session with cc_type TFMCC:
 *   tfmcc_rx_init() at ANNOUNCE; then for every datagram of the sender
 *   (whatever its type, before any other handling, with the TOS byte):
 *     tfmcc_rx_packet(rx, seq, wire_bytes, ce, now);
 *   header GRTT / group size changes: tfmcc_rx_set_grtt(), tfmcc_rx_set_gsize();
 *   ANNOUNCE / FILEINFO timestamps: tfmcc_rx_sender_ts() (for echoes);
 *   FILESEG's TFMCC_DATA_INFO:  tfmcc_rx_data_info();
 *   CONG_CTRL:                  tfmcc_rx_cong_ctrl() — TFMCC_RX_ANSWER means
 *                               send CC_ACK now (this receiver is the CLR);
 *   at tfmcc_rx_deadline():     tfmcc_rx_timer() — true means send CC_ACK;
 *   building a CC_ACK or STATUS: tfmcc_rx_ack() fills TFMCC_ACK_INFO.
 *
 * Sender, one struct tfmcc_tx per session, struct tfmcc_peer in each
 * client's record:
 *   tfmcc_tx_init() per file (5.0.1 restarts slow start per file), the
 *   initial CLR (the caller's pick: the highest-RTT live client that is
 *   not a proxy) set with tfmcc_tx_set_clr();
 *   each TFMCC_ACK_INFO (CC_ACK or STATUS): tfmcc_tx_feedback() with the
 *   RTT sample of its echo; a client dropped or aborted: tfmcc_tx_gone();
 *   GRTT recomputed (each round): tfmcc_tx_set_grtt();
 *   at tfmcc_tx_deadline(): tfmcc_tx_tick(), which says when to send a
 *   CONG_CTRL (CLR first with CLR|RTT, then clients whose RTT was not yet
 *   sent, then the rest, flags from tfmcc_tx_item_flags());
 *   pace data at tfmcc_tx_rate(), advertise tfmcc_tx_adv_grtt() in
 *   headers, put tfmcc_tx_rate / cc_seq / supp_rate in TFMCC_DATA_INFO.
 */
#ifndef UFTP_PROTO_TFMCC_H
#define UFTP_PROTO_TFMCC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The largest rate handled (B/s, 8 Pbit/s; the 16-bit code reaches ~1e16). */
#define TFMCC_RATE_MAX 1e15
/* "Infinite" suppression rate: what 5.0.1 sends at the start of a round (spec §1.7). */
#define TFMCC_SUPP_INF 0xFFFFFFFFFFFFull
/* Loss intervals kept (RFC 5348 §5.4: n = 8). */
#define TFMCC_NINT 8
/* A packet is lost once this many later sequence numbers arrived (RFC 5348 §5.1). */
#define TFMCC_NDUPACK 3
/* Receive-rate checkpoints. */
#define TFMCC_RING 128
/* No rate below one packet per 64 s (RFC 5348 t_mbi), whatever min= says. */
#define TFMCC_T_MBI_US 64000000ull

/* ------------------------------------------------------------ the equation */

/*
 * The TCP throughput equation (RFC 4654 §2.1, RFC 5348 §3.1) with b = 1
 * and t_RTO = 4R: X = s / (R·(√(2p/3) + 12·√(3p/8)·p·(1 + 32p²))) in B/s,
 * for s bytes, R seconds, p the loss event rate. p ≤ 0 gives
 * TFMCC_RATE_MAX; p > 1 counts as 1; R below 1 µs counts as 1 µs.
 * The result is at most TFMCC_RATE_MAX.
 */
double tfmcc_equation(double s, double r_sec, double p);

/*
 * The rate a receiver reports (spec §1.7, DESIGN.md "Congestion control"):
 * the equation above with its window term 1/√(2p/3) (Reno's packets per
 * RTT) replaced by 1/W, W the larger of Reno's window and CUBIC's average
 * window (C·(3+β)/(4·(1−β)))^¼ · (R/p)^¾ with C = 0.4, β = 0.7 (RFC 8312
 * §5.1, RFC 9438 §5.1; R in seconds): the TCP that shares today's paths is
 * CUBIC, which at a large R/p runs well above Reno's rate. The timeout
 * term stays, so under heavy loss both give the same. Where Reno's window is
 * the larger (small R/p: a LAN) this is tfmcc_equation exactly. Same
 * limits as tfmcc_equation.
 */
double tfmcc_equation_cubic(double s, double r_sec, double p);
/*
 * Its inverse in p: the loss event rate for which it gives x (bisection;
 * RFC 5348 §6.3.1 uses it to seed the loss history). Returns a value in
 * [1e-12, 1]; 1 when x is at or below the equation's value at p = 1.
 */
double tfmcc_equation_cubic_p(double s, double r_sec, double x);

/* ------------------------------------------------------------ receiver */

enum { TFMCC_RX_NOTHING = 0, TFMCC_RX_ANSWER = 1 };

struct tfmcc_rx {
    uint32_t pkt_size; /* s */
    uint64_t grtt_us;  /* advertised GRTT (header) */
    uint32_t gsize;    /* advertised group size (header) */
    /* Sequence numbers, extended to 64 bits (start at 2^32: never underflow). */
    uint64_t max_seq; /* highest seen */
    uint64_t max_t;   /* its arrival */
    uint64_t bits;    /* bit k: max_seq − k arrived (k < 64) */
    uint64_t judged;  /* sequence numbers ≤ this are decided */
    /* Loss events (RFC 4654 §4.3; RFC 5348 §5). */
    bool lossy;                /* a loss event happened: out of slow start */
    uint64_t ev_seq;           /* first seq of the current (open) loss interval */
    uint64_t ev_t;             /* time of the loss that opened it */
    unsigned nint;             /* closed intervals held */
    uint64_t intv[TFMCC_NINT]; /* closed intervals in packets, newest first */
    uint64_t events;           /* loss events counted */
    uint64_t losses;           /* lost packets and CE marks counted */
    /* Receive rate: checkpoints (time, cumulative bytes) at most every few ms. */
    uint64_t cum;
    struct {
        uint64_t t, cum;
    } ring[TFMCC_RING];
    unsigned rhead, rlen;
    /* RTT (RFC 4654 §4.5): last sample (from the sender's CC item) moved by
     * the one-way delay change since (the sender's timestamps in CONG_CTRL). */
    bool have_rtt;
    uint64_t rtt_us;  /* smoothed samples */
    int64_t owd_base; /* one-way delay (rx − ts, offset included) when rtt_us was set */
    int64_t owd_last; /* that of the latest sender timestamp */
    bool have_owd;
    /* The lowest RTT seen at a CONG_CTRL (the path without its queue), for
     * the first loss interval only (RFC 5348 §6.3.1, spec §1.7). */
    uint64_t rtt_min_us; /* 0 = none yet */
    /* The sender's last timestamp, for echoes. */
    bool have_ts;
    uint64_t ts, ts_rx;
    /* Feedback (RFC 4654 §4.7). */
    bool clr; /* the last CONG_CTRL named this receiver CLR */
    bool have_round;
    uint16_t cc_seq;     /* current feedback round */
    uint64_t fb_at;      /* feedback timer, 0 = none */
    uint64_t rate_round; /* own rate at the start of the round (X_fbr) */
    uint64_t supp;       /* sender's suppression rate of this round */
    uint64_t send_rate;  /* sender's advertised rate (TFMCC_DATA_INFO) */
};

/*
 * Starts with the first datagram of the sender (the ANNOUNCE): its seq,
 * size, arrival, and the header's GRTT and group size.
 */
void tfmcc_rx_init(struct tfmcc_rx *r, uint32_t pkt_size, uint16_t seq, uint32_t wire_bytes,
                   uint64_t grtt_us, uint32_t gsize, uint64_t now);
void tfmcc_rx_set_grtt(struct tfmcc_rx *r, uint64_t grtt_us);
void tfmcc_rx_set_gsize(struct tfmcc_rx *r, uint32_t gsize);

/*
 * One datagram of the sender: its header seq, its size on the wire
 * (datagram + UDP + IP headers), whether it was CE-marked (TOS & 3 == 3).
 * Sequence numbers 3 or more behind the highest are judged lost; losses
 * (and CE marks) less than one RTT after the loss that opened the current
 * loss event belong to it (RFC 4654 §4.3). Duplicates and datagrams older
 * than the judged window change nothing but the receive rate.
 */
void tfmcc_rx_packet(struct tfmcc_rx *r, uint16_t seq, uint32_t wire_bytes, bool ce, uint64_t now);

/* A sender timestamp (ANNOUNCE, FILEINFO, CONG_CTRL) received at now. */
void tfmcc_rx_sender_ts(struct tfmcc_rx *r, uint64_t ts, uint64_t now);

/*
 * FILESEG's TFMCC_DATA_INFO: the round (a newer one starts the feedback
 * timer, from rnd, a uniform 32-bit random number), the suppression rate and
 * the sender's rate (B/s, decoded).
 */
void tfmcc_rx_data_info(struct tfmcc_rx *r, uint16_t cc_seq, uint64_t supp_rate, uint64_t send_rate,
                        uint32_t rnd, uint64_t now);

/* Whether cc_seq opens a new feedback round, the only time tfmcc_rx_data_info
 * and tfmcc_rx_cong_ctrl read rnd: a caller draws it only then (not per datagram). */
bool tfmcc_rx_new_round(const struct tfmcc_rx *r, uint16_t cc_seq);

/* What a CONG_CTRL told this receiver. */
struct tfmcc_rx_cc {
    uint16_t cc_seq;
    uint64_t supp_rate; /* B/s, decoded */
    uint64_t tstamp;    /* sender time (µs) */
    bool listed;        /* an item names this receiver */
    uint8_t flags;      /* its flags (FLAG_CC_*) */
    uint64_t rtt_us;    /* its RTT (decoded), when FLAG_CC_RTT */
};

/*
 * A CONG_CTRL: timestamp, RTT sample from its item (RFC 4654 §4.5: the
 * first taken whole, later ones weigh 1/2, one-way delay changes seen in
 * later sender timestamps added), CLR role, round. Returns TFMCC_RX_ANSWER
 * when this receiver is the CLR: it answers every CONG_CTRL at once.
 */
int tfmcc_rx_cong_ctrl(struct tfmcc_rx *r, const struct tfmcc_rx_cc *cc, uint32_t rnd,
                       uint64_t now);

/* The feedback timer: absolute µs, or UINT64_MAX when none is armed. */
uint64_t tfmcc_rx_deadline(const struct tfmcc_rx *r);

/*
 * The timer at now: true when a CC_ACK should go now (the timer expired and
 * the receiver's rate is below the sender's rate, or it has no RTT yet, or
 * its RTT exceeds the GRTT); the timer is disarmed either way.
 */
bool tfmcc_rx_timer(struct tfmcc_rx *r, uint64_t now);

/* The RTT the equation uses (µs): the sample moved by one-way delay changes, else the GRTT. */
uint64_t tfmcc_rx_rtt(const struct tfmcc_rx *r);
/* The loss event rate (0 in slow start). */
double tfmcc_rx_p(const struct tfmcc_rx *r);
/* Bytes/s received over the last window_us (the span of the checkpoints held, if shorter). */
uint64_t tfmcc_rx_recv_rate(const struct tfmcc_rx *r, uint64_t window_us, uint64_t now);
/*
 * The rate to report (B/s): in slow start 2 × the receive rate over the
 * last 4 GRTT (the wire's meaning of a START report), else tfmcc_equation_cubic.
 */
uint64_t tfmcc_rx_rate(const struct tfmcc_rx *r, uint64_t now);

/* TFMCC_ACK_INFO contents (rate in B/s; the caller quantises). */
struct tfmcc_ack {
    uint8_t flags; /* START in slow start, RTT once measured, CLR when CLR */
    uint16_t cc_seq;
    uint64_t rate;
    uint64_t echo; /* sender's last timestamp + how long it was held */
};

/* Fills a TFMCC_ACK_INFO for now and disarms the feedback timer. */
void tfmcc_rx_ack(struct tfmcc_rx *r, uint64_t now, struct tfmcc_ack *out);

/* ------------------------------------------------------------ sender */

/* -C tfmcc[:min=K][:init=K][:max=K] in B/s (0 = not given). */
struct tfmcc_tx_cfg {
    uint32_t pkt_size; /* s */
    uint64_t min_rate, init_rate, max_rate;
    uint8_t robust;
};

/* Per-client state, kept in the engine's client record. */
struct tfmcc_peer {
    bool have_rtt;
    uint64_t rtt_us; /* last RTT sample (from its echo) */
    bool rtt_sent;   /* its RTT went out in a CONG_CTRL since it changed */
    uint64_t rate;   /* last reported rate, B/s (scaled as used) */
    uint64_t fb_at;  /* last feedback, 0 = none */
};

#define TFMCC_NO_CLR SIZE_MAX

/* What tfmcc_tx_tick() asks for (bits). */
enum {
    TFMCC_TX_SEND_CC = 1,   /* send a CONG_CTRL now */
    TFMCC_TX_NEW_ROUND = 2, /* a feedback round started (recompute the GRTT) */
    TFMCC_TX_HALVED = 4,    /* no CLR feedback: the rate was halved */
    TFMCC_TX_CLR_LOST = 8,  /* the CLR has been silent for ROBUST GRTTs: dropped as CLR */
};

struct tfmcc_tx {
    struct tfmcc_tx_cfg cfg;
    double rate;      /* B/s */
    double peak;      /* ss_report / 2 or the highest rate since: fast recovery below it */
    double ss_report; /* the CLR's last START report (2 × its receive rate) */
    bool slowstart;
    size_t clr; /* index of the CLR, TFMCC_NO_CLR when none */
    uint64_t clr_rtt_us;
    uint16_t cc_seq;
    uint64_t supp;    /* suppression rate of this round, B/s */
    uint64_t grtt_us; /* measured GRTT (max client RTT) */
    uint64_t next_cc, round_end, clr_fb, clr_dead, nofb_at, any_fb, last_up;
};

/* Starts a file's data phase at now: init rate or one packet per GRTT, slow start, round 0. */
void tfmcc_tx_init(struct tfmcc_tx *t, const struct tfmcc_tx_cfg *cfg, uint64_t grtt_us,
                   uint64_t now);
/* The measured GRTT changed (the caller's GRTT module, spec §1.6). */
void tfmcc_tx_set_grtt(struct tfmcc_tx *t, uint64_t grtt_us);

void tfmcc_tx_set_clr(struct tfmcc_tx *t, size_t idx, uint64_t rtt_us, uint64_t now);

/* A TFMCC_ACK_INFO from client idx (CC_ACK or STATUS). */
struct tfmcc_fb {
    uint8_t flags; /* FLAG_CC_* as received */
    uint16_t cc_seq;
    uint64_t rate;   /* decoded, B/s */
    uint64_t rtt_us; /* RTT sample from its echo (the caller floors it, spec §1.6) */
};

/*
 * Feedback from client idx, whose state is *p; proxy: idx is a proxy
 * (its reports lower the rate but never make it the CLR). Rules (RFC 4654
 * §3.3, §3.6, spec §1.7): a report without START ends slow start; one
 * without START or RTT used the GRTT and is scaled by GRTT/RTT; a report
 * below the rate makes its sender the CLR and the rate follows it at once;
 * the CLR's higher reports raise the rate at most to twice per CLR RTT up to
 * the rate before the last decrease, and by one packet per RTT per RTT
 * beyond it; non-CLR reports lower the round's suppression rate to 0.9 ×.
 */
void tfmcc_tx_feedback(struct tfmcc_tx *t, size_t idx, struct tfmcc_peer *p, bool proxy,
                       const struct tfmcc_fb *fb, uint64_t now);

/* Client idx was dropped, aborted or lost: no longer the CLR. */
void tfmcc_tx_gone(struct tfmcc_tx *t, size_t idx);

/* Timers at now (CONG_CTRL every advertised GRTT, rounds of 6, halving, CLR loss). */
int tfmcc_tx_tick(struct tfmcc_tx *t, uint64_t now);
uint64_t tfmcc_tx_deadline(const struct tfmcc_tx *t);

/* The sending rate, B/s (≥ 1). */
uint64_t tfmcc_tx_rate(const struct tfmcc_tx *t);
/* The GRTT to advertise: max(GRTT, one packet at the current rate), at most 1000 s. */
uint64_t tfmcc_tx_adv_grtt(const struct tfmcc_tx *t);
/* The suppression rate for TFMCC_DATA_INFO and CONG_CTRL (B/s). */
static inline uint64_t tfmcc_tx_supp(const struct tfmcc_tx *t)
{
    return t->supp;
}
/* Flags of a CC item: CLR|RTT for the CLR, RTT for others, START in slow start. */
uint8_t tfmcc_tx_item_flags(const struct tfmcc_tx *t, bool clr);
/* Time of the last feedback from anyone (0 = none yet). */
static inline uint64_t tfmcc_tx_last_feedback(const struct tfmcc_tx *t)
{
    return t->any_fb;
}

#endif
