/* A receiver's held parity (fecrx.h). */
#include "core/fec/fecrx.h"

#include <stdlib.h>
#include <string.h>

#define NIL 0xFFFFu

/* A FEC block holding parity: its slots form a list from `head`. */
struct ent {
    uint32_t key; /* section << 16 | fb */
    uint16_t head;
    uint8_t k;
    uint8_t held; /* 0: the entry is free */
};

struct slot {
    uint16_t next;
    uint8_t p; /* parity id */
};

struct fec_rx {
    size_t nslots, blocksize, used;
    struct slot *slot;
    uint16_t free_head;
    uint8_t *buf; /* nslots · blocksize */
    struct ent *ent;
    uint32_t mask; /* entries: mask + 1, a power of two ≥ 2·nslots */
};

static uint32_t key_of(uint16_t section, uint16_t fb)
{
    return (uint32_t)section << 16 | fb;
}

static uint32_t home(const struct fec_rx *rx, uint32_t key)
{
    return (key * 0x9E3779B1u) >> 7 & rx->mask;
}

/* The entry for key, or the free one where it would go. */
static uint32_t find(const struct fec_rx *rx, uint32_t key)
{
    uint32_t i = home(rx, key);
    while (rx->ent[i].held && rx->ent[i].key != key)
        i = (i + 1) & rx->mask;
    return i;
}

static const struct ent *lookup(const struct fec_rx *rx, uint16_t section, uint16_t fb)
{
    const struct ent *e = &rx->ent[find(rx, key_of(section, fb))];
    return e->held ? e : NULL;
}

int fec_rx_new(struct fec_rx **out, size_t slots, size_t blocksize)
{
    *out = NULL;
    if (slots < 1 || slots >= NIL || blocksize < 1 || blocksize > 65535)
        return FEC_EINVAL;
    struct fec_rx *rx = calloc(1, sizeof(*rx));
    if (rx == NULL)
        return FEC_ENOMEM;
    uint32_t n = 2;
    while (n < 2 * slots)
        n <<= 1;
    rx->nslots = slots;
    rx->blocksize = blocksize;
    rx->mask = n - 1;
    rx->slot = calloc(slots, sizeof(*rx->slot));
    rx->ent = calloc(n, sizeof(*rx->ent));
    rx->buf = malloc(slots * blocksize);
    if (rx->slot == NULL || rx->ent == NULL || rx->buf == NULL) {
        fec_rx_free(rx);
        return FEC_ENOMEM;
    }
    fec_rx_reset(rx);
    *out = rx;
    return 0;
}

void fec_rx_free(struct fec_rx *rx)
{
    if (rx == NULL)
        return;
    free(rx->slot);
    free(rx->ent);
    free(rx->buf);
    free(rx);
}

void fec_rx_reset(struct fec_rx *rx)
{
    memset(rx->ent, 0, ((size_t)rx->mask + 1) * sizeof(*rx->ent));
    for (size_t i = 0; i < rx->nslots; i++)
        rx->slot[i].next = i + 1 < rx->nslots ? (uint16_t)(i + 1) : NIL;
    rx->free_head = 0;
    rx->used = 0;
}

static void slot_put(struct fec_rx *rx, uint16_t s)
{
    rx->slot[s].next = rx->free_head;
    rx->free_head = s;
    rx->used--;
}

/* Removes entry i (its slots already freed): backward-shift deletion. */
static void ent_delete(struct fec_rx *rx, uint32_t i)
{
    uint32_t j = i;
    for (;;) {
        j = (j + 1) & rx->mask;
        if (!rx->ent[j].held)
            break;
        uint32_t h = home(rx, rx->ent[j].key);
        /* Entry j may fill hole i unless its home lies cyclically in (i, j]. */
        bool stays = i <= j ? (i < h && h <= j) : (i < h || h <= j);
        if (stays)
            continue;
        rx->ent[i] = rx->ent[j];
        i = j;
    }
    memset(&rx->ent[i], 0, sizeof(rx->ent[i]));
}

int fec_rx_add(struct fec_rx *rx, uint16_t section, uint16_t fb, unsigned k, unsigned p,
               unsigned missing, const uint8_t *data)
{
    if (k < FEC_MIN_K || k > FEC_MAX_K || p >= fec_max_parity(k) || missing > k)
        return FEC_EINVAL;
    uint32_t key = key_of(section, fb);
    uint32_t i = find(rx, key);
    struct ent *e = &rx->ent[i];
    if (e->held) {
        if (e->k != k)
            return FEC_EINVAL;
        if (e->held >= missing)
            return FEC_RX_USELESS;
        for (uint16_t s = e->head; s != NIL; s = rx->slot[s].next)
            if (rx->slot[s].p == p)
                return FEC_RX_DUP;
    } else if (missing == 0) {
        return FEC_RX_USELESS;
    }
    if (rx->free_head == NIL)
        return FEC_RX_FULL;
    uint16_t s = rx->free_head;
    rx->free_head = rx->slot[s].next;
    rx->used++;
    memcpy(rx->buf + (size_t)s * rx->blocksize, data, rx->blocksize);
    rx->slot[s].p = (uint8_t)p;
    if (!e->held) {
        e->key = key;
        e->k = (uint8_t)k;
        e->head = NIL;
    }
    rx->slot[s].next = e->head;
    e->head = s;
    e->held++;
    return e->held >= missing ? FEC_RX_DECODE : FEC_RX_HELD;
}

unsigned fec_rx_held(const struct fec_rx *rx, uint16_t section, uint16_t fb)
{
    const struct ent *e = lookup(rx, section, fb);
    return e ? e->held : 0;
}

unsigned fec_rx_parity(const struct fec_rx *rx, uint16_t section, uint16_t fb, const uint8_t **bufs,
                       uint8_t *ids, unsigned cap)
{
    const struct ent *e = lookup(rx, section, fb);
    unsigned n = 0;
    if (e == NULL)
        return 0;
    for (uint16_t s = e->head; s != NIL && n < cap; s = rx->slot[s].next, n++) {
        bufs[n] = rx->buf + (size_t)s * rx->blocksize;
        ids[n] = (uint8_t)(e->k + rx->slot[s].p);
    }
    return n;
}

void fec_rx_release(struct fec_rx *rx, uint16_t section, uint16_t fb)
{
    uint32_t i = find(rx, key_of(section, fb));
    struct ent *e = &rx->ent[i];
    if (!e->held)
        return;
    for (uint16_t s = e->head, next; s != NIL; s = next) {
        next = rx->slot[s].next;
        slot_put(rx, s);
    }
    ent_delete(rx, i);
}

unsigned fec_rx_source(struct fec_rx *rx, uint16_t section, uint16_t fb, unsigned missing)
{
    uint32_t i = find(rx, key_of(section, fb));
    struct ent *e = &rx->ent[i];
    if (!e->held)
        return 0;
    if (missing == 0) {
        fec_rx_release(rx, section, fb);
        return 0;
    }
    while (e->held > missing) {
        uint16_t s = e->head;
        e->head = rx->slot[s].next;
        slot_put(rx, s);
        e->held--;
    }
    return e->held;
}

size_t fec_rx_reduce_naks(const struct fec_rx *rx, uint16_t section, const struct fec_layout *l,
                          uint8_t *naks, size_t naks_len)
{
    size_t cleared = 0;
    for (uint32_t i = 0; i <= rx->mask; i++) {
        const struct ent *e = &rx->ent[i];
        if (!e->held || e->key >> 16 != section)
            continue;
        uint16_t fb = (uint16_t)(e->key & 0xFFFF);
        unsigned size = fec_layout_size(l, fb), left = e->held;
        for (unsigned m = 0; m < size && left > 0; m++) {
            uint32_t b = fec_layout_block(l, fb, m);
            if (b / 8 >= naks_len)
                break;
            uint8_t bit = (uint8_t)(1u << (b % 8));
            if (naks[b / 8] & bit) {
                naks[b / 8] &= (uint8_t)~bit;
                left--;
                cleared++;
            }
        }
    }
    return cleared;
}

size_t fec_rx_used(const struct fec_rx *rx)
{
    return rx->used;
}

size_t fec_rx_slots(const struct fec_rx *rx)
{
    return rx->nslots;
}
