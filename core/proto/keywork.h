/*
 * The public-key work budget, shared fairly (issue 14 item 3; spec §6
 * item 16; DESIGN.md "Security by construction").
 *
 * Verifying an ANNOUNCE signature and making an ECDH key cost CPU that one
 * unauthenticated datagram can demand. One global token bucket (ratelim.h)
 * bounds it, in estimated µs of CPU per second; on top of it:
 *
 *   - servers the operator listed, from the address their -S line gives
 *     (rank >= KEYWORK_RANK_FIRST), draw on the whole bucket; everyone
 *     else leaves KEYWORK_RESERVE_PCT of it for them, so junk cannot starve
 *     a listed server;
 *   - everyone else also draws on a bucket of their source address, of
 *     1/KEYWORK_SHARE of the rate, so one source cannot take it all;
 *   - the cost taken is the engine's estimate for the work actually about
 *     to be done, on keys whose structure was checked first (the cheap
 *     checks: parsing, IDs, fingerprints, come before).
 *
 * Per-source buckets live in a small table keyed like amp.h (amp_key);
 * a source not seen recently replaces the least recently used one and
 * starts with a full bucket. No I/O: time is the engine's.
 */
#ifndef UFTP_PROTO_KEYWORK_H
#define UFTP_PROTO_KEYWORK_H

#include <stdbool.h>
#include <stdint.h>

#include "core/proto/ratelim.h"

#define KEYWORK_RANK_FIRST  2
#define KEYWORK_RESERVE_PCT 50
#define KEYWORK_SHARE       4
#define KEYWORK_SOURCES     64

struct keywork {
    uint64_t rate; /* µs of work per second; 0 = unlimited */
    struct ratelim all;
    struct {
        uint64_t key; /* 0 = empty */
        uint64_t used_us;
        struct ratelim b;
    } src[KEYWORK_SOURCES];
    uint64_t refused, refused_first;
};

/* rate: µs of public-key work per second (0 = unlimited), also the burst. */
void keywork_init(struct keywork *k, uint64_t rate);

/*
 * Takes cost µs for work on behalf of source key src (amp_key) of rank
 * rank at now_us. True: go ahead. False: refused (counted), nothing taken.
 */
bool keywork_take(struct keywork *k, uint64_t src, unsigned rank, uint64_t cost, uint64_t now_us);

#endif
