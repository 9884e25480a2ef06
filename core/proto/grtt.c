#include "core/proto/grtt.h"

void grtt_init(struct grtt *g, uint64_t init_us, uint64_t min_us, uint64_t max_us)
{
    g->cur_us = init_us;
    g->min_us = min_us;
    g->max_us = max_us;
    g->measured = false;
}

uint64_t grtt_update(struct grtt *g, uint64_t max_rtt_us, bool floor)
{
    uint64_t v = max_rtt_us;
    if (v < g->min_us)
        v = g->min_us;
    else if (v > g->max_us)
        v = g->max_us;
    /* RFC 5401: the GRTT decays by at most 10% per cycle once measured. */
    uint64_t lo = g->cur_us - g->cur_us / 10;
    if (floor && g->measured && v < lo)
        v = lo;
    g->cur_us = v;
    g->measured = true;
    return v;
}

uint64_t grtt_rtt_sample(uint64_t wall_now_us, uint64_t echo_us)
{
    if (wall_now_us <= echo_us || wall_now_us - echo_us < GRTT_RTT_FLOOR_US)
        return GRTT_RTT_FLOOR_US;
    return wall_now_us - echo_us;
}
