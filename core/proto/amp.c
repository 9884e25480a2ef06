#include "core/proto/amp.h"

#include <string.h>

void amp_rx(struct amp *a, size_t len)
{
    a->rx += len;
    uint64_t c = (uint64_t)a->credit + (uint64_t)AMP_FACTOR * len;
    a->credit = c > AMP_CAP ? AMP_CAP : (uint32_t)c;
}

bool amp_tx(struct amp *a, size_t len, unsigned hdr)
{
    uint64_t need = (uint64_t)len + hdr;
    if (need > a->credit) {
        a->refused++;
        return false;
    }
    a->credit -= (uint32_t)need;
    a->tx += need;
    return true;
}

/* splitmix64's finaliser. */
static uint64_t mix(uint64_t x)
{
    x ^= x >> 30;
    x *= UINT64_C(0xbf58476d1ce4e5b9);
    x ^= x >> 27;
    x *= UINT64_C(0x94d049bb133111eb);
    x ^= x >> 31;
    return x;
}

uint64_t amp_key(const void *addr, size_t len, uint64_t seed)
{
    const uint8_t *p = addr;
    uint64_t h = mix(seed ^ (uint64_t)len);
    while (len > 0) {
        uint64_t w = 0;
        size_t n = len < 8 ? len : 8;
        memcpy(&w, p, n);
        h = mix(h ^ w);
        p += n;
        len -= n;
    }
    return h ? h : 1; /* 0 marks an empty table entry */
}

struct amp *amp_table_get(struct amp_table *t, uint64_t key)
{
    if (key == 0)
        return NULL;
    /* Two candidate places; a newcomer takes the emptier of them. */
    size_t i = (size_t)(key % AMP_TABLE), j = (size_t)((key >> 32) % AMP_TABLE);
    if (t->e[i].key == key)
        return &t->e[i].a;
    if (t->e[j].key == key)
        return &t->e[j].a;
    size_t k =
        t->e[i].key == 0 || (t->e[j].key != 0 && t->e[i].a.credit <= t->e[j].a.credit) ? i : j;
    t->e[k].key = key;
    memset(&t->e[k].a, 0, sizeof(t->e[k].a));
    return &t->e[k].a;
}
