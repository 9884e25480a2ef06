#include "core/proto/ratelim.h"

#include <string.h>

#define SCALE UINT64_C(1000000) /* tokens are kept in units * 10^6 */

void ratelim_init(struct ratelim *r, uint64_t rate, uint64_t burst)
{
    memset(r, 0, sizeof(*r));
    r->rate = rate;
    if (burst < rate / 10)
        burst = rate / 10;
    if (burst == 0)
        burst = 1;
    /* Keep tokens * SCALE far from overflow. */
    if (burst > UINT64_MAX / SCALE / 2)
        burst = UINT64_MAX / SCALE / 2;
    r->burst = burst;
    r->tokens = burst * SCALE;
}

static void refill(struct ratelim *r, uint64_t now_us)
{
    if (!r->started) {
        r->started = true;
        r->last_us = now_us;
        return;
    }
    if (now_us <= r->last_us)
        return;
    uint64_t dt = now_us - r->last_us;
    uint64_t cap = r->burst * SCALE;
    /* rate units/s over dt µs = rate * dt units * 10^-6 = rate * dt scaled. */
    uint64_t add = (dt > cap / (r->rate ? r->rate : 1)) ? cap : r->rate * dt;
    r->tokens = (cap - r->tokens < add) ? cap : r->tokens + add;
    r->last_us = now_us;
}

/* Whether cost units can be taken leaving keep units behind; takes them unless dry. */
static bool take(struct ratelim *r, uint64_t cost, uint64_t keep, uint64_t now_us, bool dry)
{
    if (r->rate == 0)
        return true;
    refill(r, now_us);
    uint64_t cap = r->burst * SCALE;
    uint64_t need = cost > r->burst ? cap : cost * SCALE;
    uint64_t k = keep > r->burst ? cap : keep * SCALE;
    if (r->tokens < need || r->tokens - need < k) {
        if (!dry)
            r->refused++;
        return false;
    }
    if (!dry)
        r->tokens -= need;
    return true;
}

bool ratelim_take(struct ratelim *r, uint64_t cost, uint64_t now_us)
{
    return take(r, cost, 0, now_us, false);
}

bool ratelim_take_keep(struct ratelim *r, uint64_t cost, uint64_t keep, uint64_t now_us)
{
    return take(r, cost, keep, now_us, false);
}

bool ratelim_can(struct ratelim *r, uint64_t cost, uint64_t now_us)
{
    return take(r, cost, 0, now_us, true);
}

uint64_t ratelim_take_refused(struct ratelim *r)
{
    uint64_t n = r->refused;
    r->refused = 0;
    return n;
}
