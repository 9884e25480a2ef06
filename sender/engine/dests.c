/*
 * The sender's table of destinations (clients and proxies, spec §1.6,
 * §3.4): lookup by ID, adding, the per-state counts a proxy moves between,
 * and the GRTT from the round's RTT samples. Below client.c (the
 * per-receiver machine) and cc.c, which both use it.
 */
#include "sender/engine/sender_int.h"

#include <stdlib.h>
#include <string.h>

struct sdest *dest_of(struct sender *s, uint32_t id)
{
    uint32_t i = idmap_get(&s->ids, id);
    return i == IDMAP_NONE ? NULL : &s->dests[i];
}

struct sdest *dest_add(struct sender *s, uint32_t id, bool isproxy)
{
    /* Up to SENDER_MAX_DEST receivers and as many proxies (issue 16). */
    if ((isproxy ? s->nproxy : s->ndest - s->nproxy) >= SENDER_MAX_DEST)
        return NULL;
    if (s->ndest == s->capdest) {
        size_t cap = s->capdest ? s->capdest * 2 : 64;
        struct sdest *nd = realloc(s->dests, cap * sizeof(*nd));
        if (nd == NULL)
            return NULL;
        s->dests = nd;
        s->capdest = cap;
    }
    if (idmap_put(&s->ids, id, (uint32_t)s->ndest) < 0)
        return NULL;
    struct sdest *d = &s->dests[s->ndest++];
    memset(d, 0, sizeof(*d));
    d->id = id;
    d->state = D_MUTE;
    d->isproxy = isproxy;
    s->nproxy += isproxy;
    (isproxy ? s->pcnt : s->cnt)[D_MUTE]++;
    return d;
}

void dest_make_proxy(struct sender *s, struct sdest *d)
{
    if (d->isproxy)
        return;
    /* Not a change of state but of what it counts as. */
    s->cnt[d->state]--;
    s->pcnt[d->state]++;
    d->isproxy = true;
    s->nproxy++;
}

void dest_grtt(struct sender *s, bool clear)
{
    uint64_t max = 0;
    bool found = false;
    for (size_t i = 0; i < s->ndest; i++) {
        struct sdest *d = &s->dests[i];
        if (!d_error(d) && d->rtt_measured) {
            found = true;
            if (d->rtt_us > max)
                max = d->rtt_us;
        }
        if (clear)
            d->rtt_measured = false;
    }
    if (found) {
        s->rtt_peak_us = max;
        uint64_t old = s->grtt.cur_us;
        grtt_update(&s->grtt, max, true);
        if (old != s->grtt.cur_us)
            SLOG(s, LL_VERBOSE, "grtt = %.6f", (double)s->grtt.cur_us / 1e6);
    }
    s->st.grtt_us = s_adv_grtt(s);
}
