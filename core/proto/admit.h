/*
 * Session-slot admission (issue 14 item 2; DESIGN.md "Security by
 * construction").
 *
 * uftpd and uftpproxyd hold at most 100 sessions (spec §4), and one
 * unauthenticated ANNOUNCE opens one. So that forged ANNOUNCEs cannot keep
 * a real server out, a new session may take the slot of one that has not
 * proved anything yet, by these rules, in order:
 *
 *   1. a free slot;
 *   2. rank first: the newcomer evicts the lowest-ranked evictable session
 *      of a lower rank. Ranks are the engine's (a server the operator lists
 *      in -S from the address its line gives ranks above one listed by ID
 *      only, which ranks above an unlisted one). Unconfirmed sessions are
 *      evictable; confirmed ones that no key authenticates (cleartext
 *      sessions) only by a newcomer of a higher rank; authenticated ones
 *      never;
 *   3. fairness between sources: among unconfirmed sessions of the
 *      newcomer's rank or lower, the source holding the most evicts its
 *      stalest one, if it holds at least two more than the newcomer's
 *      source does;
 *   4. staleness: the unconfirmed session of rank <= the newcomer's heard
 *      from least recently, if not heard from for stale_us (a real server
 *      repeats its ANNOUNCE every 3 GRTT until it confirms us).
 *
 * Otherwise the newcomer is refused (its server announces again). Every
 * unconfirmed session also ends at the unconfirmed timeout (claims.h), so
 * nothing forged holds a slot longer than that. No I/O.
 */
#ifndef UFTP_PROTO_ADMIT_H
#define UFTP_PROTO_ADMIT_H

#include <stddef.h>
#include <stdint.h>

enum admit_state {
    ADMIT_FREE = 0,
    ADMIT_UNCONFIRMED = 1,   /* waiting for the server's confirmation */
    ADMIT_CONFIRMED = 2,     /* confirmed, but nothing authenticates it (cleartext) */
    ADMIT_AUTHENTICATED = 3, /* keyed by a verified server: never evicted */
};

/* What admission needs to know of a slot. */
struct admit_slot {
    uint8_t state;     /* enum admit_state */
    uint8_t rank;      /* higher = more trusted */
    uint64_t src;      /* source key (amp_key of the ANNOUNCE's source IP) */
    uint64_t heard_us; /* last datagram of the session */
};

/* Longest quiet an unconfirmed session keeps its slot against newcomers (rule 4). */
#define ADMIT_STALE_MIN_US 1000000u
#define ADMIT_STALE_MAX_US 3000000u

/* The rule-4 threshold for a server claiming grtt_us: 4 GRTT within [1 s, 3 s]. */
uint64_t admit_stale_us(uint64_t grtt_us);

/*
 * The slot for a newcomer of rank from source src at now_us: the index of
 * a free slot, or of the session to evict (*evict = 1), or -1 (refused).
 */
int admit_pick(const struct admit_slot *slots, size_t n, uint8_t rank, uint64_t src,
               uint64_t now_us, uint64_t stale_us, int *evict);

#endif
