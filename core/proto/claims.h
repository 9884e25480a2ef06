/*
 * What a peer's claims may make us do (issue 14; DESIGN.md "Security by
 * construction").
 *
 * A server's header carries its GRTT (1 µs .. 1000 s on the wire) and its
 * ANNOUNCE a robustness factor (1 .. 255); the reference derives every
 * resend interval and expiry from them with no bound (spec §6 item 16,
 * issue 14 item 1: GRTT code 0 made uftpd send 20,892 REGISTERs in 1.5 s;
 * GRTT 1000 s and robustness 255 held a session slot for 15 days). Here
 * every interval and expiry a peer's claims decide passes through one of
 * these functions:
 *
 *   resend intervals (REGISTER 5 GRTT, COMPLETE 4 GRTT, a proxy's KEYINFO
 *   and REGISTER 2 GRTT) count the GRTT as at least CLAIMS_GRTT_MIN_US, the
 *   smallest GRTT a 5.0.1 sender advertises at its defaults (-r min 0.01 s),
 *   so a legitimate sender's timing is unchanged;
 *
 *   expiries are max(n GRTT, 1 s) as in spec §1.6, capped: an unconfirmed
 *   session (registration, PROXY_KEY wait, a proxy session nobody answered)
 *   at the operator's unconfirmed timeout (default 30 s: a real server
 *   confirms within one announce cycle of 3 GRTT), and silence in a running
 *   session at CLAIMS_IDLE_MAX_US (300 s: ROBUST x GRTT at the reference's
 *   default bounds, 20 x 15 s).
 *
 * Repeat counts follow: a resend every interval until an expiry is at
 * most expiry / interval. All values are microseconds. No I/O.
 */
#ifndef UFTP_PROTO_CLAIMS_H
#define UFTP_PROTO_CLAIMS_H

#include <stdint.h>

/* The smallest GRTT our resend intervals count with (spec §4: 5.0.1's default -r min). */
#define CLAIMS_GRTT_MIN_US 10000u
/* spec §1.6: "all expiries >= 1 s". */
#define CLAIMS_EXPIRY_MIN_US 1000000u
/* Default longest time an unconfirmed session may hold a slot (uftpd, uftpproxyd
 * --unconfirmed-timeout). */
#define CLAIMS_UNCONFIRMED_DEF_US 30000000u
/* Longest silence a running session survives, whatever ROBUST x GRTT says. */
#define CLAIMS_IDLE_MAX_US 300000000u

/* n x GRTT for a resend interval: the GRTT counted as at least CLAIMS_GRTT_MIN_US. */
uint64_t claims_resend_us(uint64_t grtt_us, unsigned n);

/*
 * n x GRTT for an expiry: at least 1 s (spec §1.6) and at most cap_us
 * (cap_us 0: no cap). n is typically a multiple of ROBUST.
 */
uint64_t claims_expiry_us(uint64_t grtt_us, uint64_t n, uint64_t cap_us);

#endif
