#include "core/proto/pace.h"

void pace_init(struct pace *p, uint64_t rate_Bps, uint32_t pkt_bytes, uint32_t max_batch,
               uint64_t now_us)
{
    p->max_batch = max_batch ? max_batch : 1;
    p->next_ns = now_us * 1000;
    if (rate_Bps == 0) {
        p->interval_ns = 0;
        p->target = p->max_batch;
        return;
    }
    /* spec §1.6: packet_wait = 1e9 · datapacketsize / rate. */
    p->interval_ns = (uint64_t)pkt_bytes * 1000000000u / rate_Bps;
    if (p->interval_ns == 0)
        p->interval_ns = 1;
    uint64_t t = (uint64_t)PACE_QUANTUM_US * 1000 / p->interval_ns;
    if (t < 1)
        t = 1;
    if (t > p->max_batch)
        t = p->max_batch;
    p->target = (uint32_t)t;
}

void pace_set_rate(struct pace *p, uint64_t rate_Bps, uint32_t pkt_bytes, uint64_t now_us)
{
    uint64_t old = p->interval_ns, next = p->next_ns;
    pace_init(p, rate_Bps, pkt_bytes, p->max_batch, now_us);
    if (old == 0 || p->interval_ns == 0)
        return;
    /* The slot after the last packet sent, re-spaced: a lower rate waits
     * longer, a higher one no longer than the new interval. */
    uint64_t last = next > old ? next - old : 0;
    p->next_ns = last + p->interval_ns;
}

uint32_t pace_allow(struct pace *p, uint64_t now_us, uint32_t want)
{
    if (p->interval_ns == 0)
        return want;
    uint64_t now = now_us * 1000;
    if (now < p->next_ns)
        return 0;
    /* Forgive what an idle spell would owe beyond one batch. */
    uint64_t backlog = (uint64_t)p->target * p->interval_ns;
    if (now - p->next_ns > backlog)
        p->next_ns = now - backlog;
    uint64_t n = 1 + (now - p->next_ns) / p->interval_ns;
    if (n > p->target)
        n = p->target;
    return n < want ? (uint32_t)n : want;
}

void pace_sent(struct pace *p, uint64_t now_us, uint32_t n)
{
    if (p->interval_ns == 0)
        return;
    uint64_t now = now_us * 1000;
    uint64_t backlog = (uint64_t)p->target * p->interval_ns;
    if (now > p->next_ns && now - p->next_ns > backlog)
        p->next_ns = now - backlog;
    p->next_ns += (uint64_t)n * p->interval_ns;
}

uint64_t pace_due(const struct pace *p, uint64_t now_us, uint32_t want)
{
    if (p->interval_ns == 0)
        return now_us;
    uint32_t k = want < p->target ? want : p->target;
    if (k == 0)
        k = 1;
    uint64_t due_ns = p->next_ns + (uint64_t)(k - 1) * p->interval_ns;
    uint64_t due = (due_ns + 999) / 1000;
    return due < now_us ? now_us : due;
}
