/* Heartbeat sending (core/proto/hb.h, spec §1.8). */
#include "core/proto/hb.h"

#include <stdlib.h>
#include <string.h>

#include "core/wire/wire.h"

int hb_init(struct hb *h, const struct addr *hosts, size_t n, uint64_t interval_us)
{
    memset(h, 0, sizeof(*h));
    if (n > HB_MAX_HOSTS || (n > 0 && hosts == NULL))
        return HB_EINVAL;
    if (n > 0 && (interval_us < 1000000u || interval_us > 3600000000u))
        return HB_EINVAL;
    if (n > 0) {
        h->hosts = calloc(n, sizeof(*h->hosts));
        if (h->hosts == NULL)
            return HB_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        h->hosts[i].addr = hosts[i];
        h->hosts[i].last = -1;
    }
    h->n = n;
    h->interval_us = interval_us;
    h->cursor = n;
    return 0;
}

void hb_free(struct hb *h)
{
    free(h->hosts);
    memset(h, 0, sizeof(*h));
}

static bool auth_allowed(const struct hb_host *t, uint64_t now_us)
{
    return t->auth_at == 0 || now_us >= t->auth_at + HB_AUTH_MIN_US;
}

uint64_t hb_deadline(const struct hb *h)
{
    if (h->n == 0)
        return UINT64_MAX;
    if (!h->started || h->cursor < h->n)
        return 0;
    uint64_t t = h->next_us;
    for (size_t i = 0; i < h->n; i++) {
        const struct hb_host *x = &h->hosts[i];
        if (x->auth_due) {
            uint64_t a = x->auth_at == 0 ? 0 : x->auth_at + HB_AUTH_MIN_US;
            if (a < t)
                t = a;
        }
    }
    return t;
}

int hb_next(struct hb *h, uint64_t now_us, uint32_t *nonce)
{
    *nonce = 0;
    if (h->n == 0)
        return -1;
    /* Owed answers to challenges first. */
    for (size_t i = 0; i < h->n; i++) {
        struct hb_host *x = &h->hosts[i];
        if (x->auth_due && auth_allowed(x, now_us)) {
            x->auth_due = false;
            x->auth_at = now_us ? now_us : 1;
            *nonce = x->nonce;
            return (int)i;
        }
    }
    if (!h->started || now_us >= h->next_us) {
        h->started = true;
        h->cursor = 0;
        h->next_us = now_us + h->interval_us;
    }
    if (h->cursor < h->n)
        return (int)h->cursor++;
    return -1;
}

int hb_resp(struct hb *h, const struct addr *from, uint8_t auth, uint32_t nonce, uint64_t now_us)
{
    (void)now_us;
    for (size_t i = 0; i < h->n; i++) {
        struct hb_host *x = &h->hosts[i];
        if (!addr_equal(&x->addr, from))
            continue;
        x->last = auth;
        if (auth == HB_AUTH_CHALLENGE) {
            x->nonce = nonce;
            x->auth_due = true;
        } else {
            x->auth_due = false;
        }
        return (int)i;
    }
    return -1;
}
