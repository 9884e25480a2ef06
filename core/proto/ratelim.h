/*
 * Token bucket for work that unauthenticated packets can trigger
 * (DESIGN.md "Security by construction": a bounded amount of public-key
 * work per second; spec §6 item 16).
 *
 * Tokens are abstract cost units (the engines use estimated microseconds
 * of CPU). The bucket refills at `rate` units per second up to `burst`;
 * work is done only if its whole cost is available. Time is the engine's
 * monotonic µs clock, so the bucket works the same in the simulator.
 */
#ifndef UFTP_PROTO_RATELIM_H
#define UFTP_PROTO_RATELIM_H

#include <stdbool.h>
#include <stdint.h>

struct ratelim {
    uint64_t rate;   /* units per second; 0 = unlimited */
    uint64_t burst;  /* bucket size, units */
    uint64_t tokens; /* units available, scaled by 10^6 (unit·µs per s) */
    uint64_t last_us;
    uint64_t refused; /* requests refused since the last ratelim_take_refused */
    bool started;
};

/* rate 0 disables limiting. burst is raised to at least rate / 10. The bucket starts full. */
void ratelim_init(struct ratelim *r, uint64_t rate, uint64_t burst);

/*
 * Takes cost units at now_us if the bucket holds them: true = go ahead.
 * False = refused (counted); nothing is taken. A cost above the burst is
 * refused unless the bucket is full, so even an expensive request can pass
 * once per refill.
 */
bool ratelim_take(struct ratelim *r, uint64_t cost, uint64_t now_us);

/* The same, but only if keep units stay in the bucket afterwards (a reserve for others). */
bool ratelim_take_keep(struct ratelim *r, uint64_t cost, uint64_t keep, uint64_t now_us);
/* Whether ratelim_take would succeed now; takes and counts nothing. */
bool ratelim_can(struct ratelim *r, uint64_t cost, uint64_t now_us);
/* Returns and clears the refusal count (for one log line per interval). */
uint64_t ratelim_take_refused(struct ratelim *r);

#endif
