#include "core/proto/admit.h"

#include <stdbool.h>

/* Open-addressing table for counting sources; more than any slot table (n <= 128). */
#define ADMIT_HASH 256

uint64_t admit_stale_us(uint64_t grtt_us)
{
    uint64_t t = grtt_us > UINT64_MAX / 4 ? UINT64_MAX : 4 * grtt_us;
    if (t < ADMIT_STALE_MIN_US)
        return ADMIT_STALE_MIN_US;
    return t > ADMIT_STALE_MAX_US ? ADMIT_STALE_MAX_US : t;
}

/* May a newcomer of rank r evict slot e at all (rules 2-4)? */
static bool evictable(const struct admit_slot *e, uint8_t r)
{
    if (e->state == ADMIT_UNCONFIRMED)
        return e->rank <= r;
    if (e->state == ADMIT_CONFIRMED)
        return e->rank < r;
    return false;
}

/* a is a better victim than b: lower rank, unconfirmed first, then heard from longer ago. */
static bool worse(const struct admit_slot *a, const struct admit_slot *b)
{
    if (a->rank != b->rank)
        return a->rank < b->rank;
    if (a->state != b->state)
        return a->state < b->state;
    return a->heard_us < b->heard_us;
}

int admit_pick(const struct admit_slot *slots, size_t n, uint8_t rank, uint64_t src,
               uint64_t now_us, uint64_t stale_us, int *evict)
{
    *evict = 0;
    for (size_t i = 0; i < n; i++)
        if (slots[i].state == ADMIT_FREE)
            return (int)i;
    if (n > ADMIT_HASH / 2)
        n = ADMIT_HASH / 2;
    *evict = 1;
    /* 2. the lowest-ranked session of a lower rank. */
    int best = -1;
    for (size_t i = 0; i < n; i++) {
        const struct admit_slot *e = &slots[i];
        if (e->rank < rank && evictable(e, rank) && (best < 0 || worse(e, &slots[best])))
            best = (int)i;
    }
    if (best >= 0)
        return best;
    /* 3. the source holding the most unconfirmed sessions of this rank or lower. */
    struct {
        uint64_t src;
        uint32_t cnt;
        int stalest;
    } h[ADMIT_HASH];
    for (size_t k = 0; k < ADMIT_HASH; k++)
        h[k].cnt = 0;
    size_t mine = 0, most = 0;
    int most_at = -1;
    for (size_t i = 0; i < n; i++) {
        const struct admit_slot *e = &slots[i];
        if (e->state != ADMIT_UNCONFIRMED || e->rank > rank)
            continue;
        size_t k = (size_t)(e->src % ADMIT_HASH);
        while (h[k].cnt != 0 && h[k].src != e->src)
            k = (k + 1) % ADMIT_HASH;
        if (h[k].cnt == 0) {
            h[k].src = e->src;
            h[k].stalest = (int)i;
        } else if (e->heard_us < slots[h[k].stalest].heard_us) {
            h[k].stalest = (int)i;
        }
        h[k].cnt++;
        if (e->src == src)
            mine = h[k].cnt;
    }
    for (size_t k = 0; k < ADMIT_HASH; k++) {
        if (h[k].cnt > most) {
            most = h[k].cnt;
            most_at = h[k].stalest;
        }
    }
    if (most_at >= 0 && most >= mine + 2)
        return most_at;
    /* 4. the stalest unconfirmed session, if quiet long enough. */
    best = -1;
    for (size_t i = 0; i < n; i++) {
        const struct admit_slot *e = &slots[i];
        if (e->state != ADMIT_UNCONFIRMED || e->rank > rank)
            continue;
        if (best < 0 || e->heard_us < slots[best].heard_us)
            best = (int)i;
    }
    if (best >= 0 && now_us >= slots[best].heard_us && now_us - slots[best].heard_us >= stale_us)
        return best;
    *evict = 0;
    return -1;
}
