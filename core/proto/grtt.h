/*
 * Group round-trip time (spec §1.3, §1.6 "GRTT management").
 *
 * The server measures one RTT per client from the timestamps clients echo
 * (REGISTER, FILEINFO_ACK, TFMCC_ACK_INFO), floored at 1 ms. After each
 * cycle the GRTT becomes the largest RTT measured, clamped to the -r
 * [min, max] bounds; once a measurement has been applied it may not fall
 * below 0.9 x the previous GRTT (RFC 5401). The GRTT advertised in headers
 * is never below the inter-packet interval (5.0.1 fix for slow links).
 *
 * Clients echo the server's last timestamp plus the time they held it.
 * All values are microseconds.
 */
#ifndef UFTP_PROTO_GRTT_H
#define UFTP_PROTO_GRTT_H

#include <stdbool.h>
#include <stdint.h>

/* spec §1.6: client RTT samples are floored at 1 ms (CLIENT_RTT_MIN). */
#define GRTT_RTT_FLOOR_US 1000u

struct grtt {
    uint64_t cur_us; /* the current GRTT */
    uint64_t min_us;
    uint64_t max_us;
    bool measured; /* a measurement has been applied: the 0.9 floor is active */
};

/* Starts at init_us with bounds [min_us, max_us] (the caller checks min ≤ init ≤ max). */
void grtt_init(struct grtt *g, uint64_t init_us, uint64_t min_us, uint64_t max_us);

/*
 * Applies a cycle whose largest client RTT was max_rtt_us: clamps it to
 * [min, max]; when `floor` is true and a measurement was applied before,
 * the result is at least 0.9 x the current value. Marks the GRTT measured.
 * Returns the new GRTT.
 */
uint64_t grtt_update(struct grtt *g, uint64_t max_rtt_us, bool floor);

/* The value advertised in headers: max(GRTT, one packet interval). */
static inline uint64_t grtt_adv(const struct grtt *g, uint64_t packet_interval_us)
{
    return g->cur_us > packet_interval_us ? g->cur_us : packet_interval_us;
}

/*
 * One RTT sample at the server: wall_now_us − echo_us, floored at 1 ms
 * (also when the echo lies in the future).
 */
uint64_t grtt_rtt_sample(uint64_t wall_now_us, uint64_t echo_us);

/*
 * The timestamp a client echoes (spec §1.3): the server's last timestamp
 * plus how long it was held, i.e. server_ts + (now − rx); server_ts when
 * the clock seems to have gone backwards.
 */
static inline uint64_t grtt_echo(uint64_t server_ts_us, uint64_t rx_us, uint64_t now_us)
{
    return now_us > rx_us ? server_ts_us + (now_us - rx_us) : server_ts_us;
}

/* max(a·GRTT, min_us): the timers of spec §1.6 ("all expiries ≥ 1 s"). */
static inline uint64_t grtt_times(uint64_t grtt_us, uint64_t a, uint64_t min_us)
{
    uint64_t t = grtt_us * a;
    return t < min_us ? min_us : t;
}

#endif
