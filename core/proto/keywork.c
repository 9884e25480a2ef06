#include "core/proto/keywork.h"

#include <string.h>

void keywork_init(struct keywork *k, uint64_t rate)
{
    memset(k, 0, sizeof(*k));
    k->rate = rate;
    ratelim_init(&k->all, rate, rate);
}

/* The bucket of source key src: found, or the least recently used one reset for it. */
static struct ratelim *src_bucket(struct keywork *k, uint64_t src, uint64_t now_us)
{
    size_t pick = KEYWORK_SOURCES; /* an empty entry, else the least recently used */
    for (size_t i = 0; i < KEYWORK_SOURCES; i++) {
        if (k->src[i].key == src) {
            k->src[i].used_us = now_us;
            return &k->src[i].b;
        }
        if (pick == KEYWORK_SOURCES ||
            (k->src[pick].key != 0 &&
             (k->src[i].key == 0 || k->src[i].used_us < k->src[pick].used_us)))
            pick = i;
    }
    size_t lru = pick;
    uint64_t share = k->rate / KEYWORK_SHARE;
    k->src[lru].key = src;
    k->src[lru].used_us = now_us;
    ratelim_init(&k->src[lru].b, share ? share : 1, share ? share : 1);
    return &k->src[lru].b;
}

bool keywork_take(struct keywork *k, uint64_t src, unsigned rank, uint64_t cost, uint64_t now_us)
{
    if (k->rate == 0)
        return true;
    if (rank >= KEYWORK_RANK_FIRST) {
        if (ratelim_take(&k->all, cost, now_us))
            return true;
        k->refused++;
        k->refused_first++;
        return false;
    }
    struct ratelim *b = src_bucket(k, src ? src : 1, now_us);
    uint64_t keep = k->rate * KEYWORK_RESERVE_PCT / 100;
    if (!ratelim_can(b, cost, now_us) || !ratelim_take_keep(&k->all, cost, keep, now_us)) {
        k->refused++;
        return false;
    }
    (void)ratelim_take(b, cost, now_us);
    return true;
}
