/*
 * Anti-amplification credit (issue 14 items 1, 8; DESIGN.md "Security by
 * construction"), after QUIC's address-validation limit (RFC 9000 §8.1).
 *
 * Nothing in UFTP proves that a datagram came from the address it names:
 * an ANNOUNCE, REGISTER, KEYINFO, ABORT or heartbeat may carry a victim's
 * source address. So what a daemon sends because of what it received is
 * bounded by what it received: every byte received for a session (or, for
 * answers that belong to no session, from a source address) earns
 * AMP_FACTOR bytes of credit, capped at AMP_CAP, and every datagram sent
 * spends its length plus the IP and UDP headers. A datagram the credit does
 * not cover is not sent (the protocol resends: it is a loss).
 *
 * Credit is earned on UDP payload bytes and spent on payload plus headers,
 * so both the payload ratio and the on-the-wire ratio stay at most
 * AMP_FACTOR. A real session earns far more than it spends (the server's
 * ANNOUNCEs, FILEINFOs and data dwarf our answers), and the cap keeps what
 * an attacker could borrow from a real session's past small.
 *
 * Session-less answers (an ABORT to a refused ANNOUNCE, HB_RESP) draw on a
 * small table of recent sources keyed by amp_key(): a keyed hash of the
 * source IP, with a per-engine random seed, so a flood of spoofed sources
 * only recycles entries (a source seen again starts from zero credit).
 *
 * No I/O, no clock: the engines pass lengths and keys.
 */
#ifndef UFTP_PROTO_AMP_H
#define UFTP_PROTO_AMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AMP_FACTOR 3u
#define AMP_CAP    (256u * 1024u)
/* IP + UDP headers counted on every datagram sent. */
#define AMP_HDR_V4 28u
#define AMP_HDR_V6 48u
/* Sources remembered for session-less answers. */
#define AMP_TABLE 256u
/*
 * Session-less answers (ABORTs to refused ANNOUNCEs) per second at most,
 * whatever the credit: a flood from spoofed sources must not fill our
 * send path with answers to addresses that may not even exist (ARP), and
 * a refused server announces again anyway.
 */
#define AMP_STRAY_PER_S 20u

/* One peer's (or one session's) credit. Zeroed = no credit. */
struct amp {
    uint32_t credit;
    uint64_t rx, tx,
        refused; /* bytes received, bytes sent (headers included), datagrams held back */
};

/* len bytes of payload arrived: AMP_FACTOR x len of credit, up to AMP_CAP. */
void amp_rx(struct amp *a, size_t len);
/* May a datagram of len payload bytes (plus hdr bytes of headers) go out? Spends the credit if so.
 */
bool amp_tx(struct amp *a, size_t len, unsigned hdr);

/* A keyed hash of an address's bytes (e.g. an IP, without the port). */
uint64_t amp_key(const void *addr, size_t len, uint64_t seed);

struct amp_table {
    struct {
        uint64_t key; /* 0 = empty */
        struct amp a;
    } e[AMP_TABLE];
};

/* The entry of key (created, replacing another one, if needed). Never NULL for key != 0. */
struct amp *amp_table_get(struct amp_table *t, uint64_t key);

#endif
