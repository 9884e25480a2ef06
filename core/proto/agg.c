/* Response aggregation (core/proto/agg.h, spec §3.4). */
#include "core/proto/agg.h"

#include <stdlib.h>
#include <string.h>

#include "core/base/quant.h"
#include "core/wire/wire.h"

int agg_init(struct agg *a, unsigned nslots, size_t max_ids, size_t nak_cap, uint64_t hold_us)
{
    memset(a, 0, sizeof(*a));
    if (nslots < 1 || nslots > AGG_MAX_SLOTS || max_ids < 1 || nak_cap < 1)
        return AGG_EINVAL;
    a->nslots = nslots;
    a->max_ids = max_ids;
    a->nak_cap = nak_cap;
    a->hold_us = hold_us;
    return 0;
}

void agg_free(struct agg *a)
{
    for (unsigned i = 0; i < AGG_MAX_SLOTS; i++) {
        free(a->slots[i].ids);
        free(a->slots[i].naks);
    }
    memset(a, 0, sizeof(*a));
}

void agg_set_hold(struct agg *a, uint64_t hold_us)
{
    a->hold_us = hold_us;
}

void agg_due_by(struct agg *a, int i, uint64_t t_us)
{
    if (i >= 0 && i < AGG_MAX_SLOTS && a->slots[i].func != 0 && a->slots[i].due_us > t_us)
        a->slots[i].due_us = t_us;
}

static bool matches(const struct agg_slot *s, const struct agg_msg *m)
{
    if (s->func != m->func)
        return false;
    switch (m->func) {
    case REGISTER:
        return true;
    case FILEINFO_ACK:
        return s->file_id == m->file_id;
    case STATUS:
        return s->file_id == m->file_id && s->section == m->section && s->counts == m->counts;
    case COMPLETE:
        return s->file_id == m->file_id && s->status == m->status &&
               s->has_freespace == m->has_freespace &&
               (!m->has_freespace || s->freespace == m->freespace);
    default:
        return false;
    }
}

static bool listed(const struct agg_slot *s, uint32_t id)
{
    for (size_t i = 0; i < s->nids; i++)
        if (s->ids[i] == id)
            return true;
    return false;
}

static int start(struct agg *a, struct agg_slot *s, const struct agg_msg *m, uint64_t now_us)
{
    if (m->func == STATUS) {
        /* counts: one per FEC block, at most one per block of the section (8·nak_cap) */
        size_t want = m->counts ? 8 * a->nak_cap : a->nak_cap;
        if (s->naks_cap < want) {
            uint8_t *n = realloc(s->naks, want);
            if (n == NULL)
                return AGG_ENOMEM;
            s->naks = n;
            s->naks_cap = want;
        }
        memset(s->naks, 0, want);
    } else if (s->ids == NULL && (s->ids = malloc(a->max_ids * sizeof(*s->ids))) == NULL) {
        return AGG_ENOMEM;
    }
    s->func = m->func;
    s->file_id = m->file_id;
    s->section = m->section;
    s->partial = m->partial;
    s->status = m->status;
    s->has_freespace = m->has_freespace;
    s->freespace = m->freespace;
    s->has_echo = false;
    s->echo_base = 0;
    s->due_us = now_us + a->hold_us;
    s->full = false;
    s->nids = 0;
    s->naks_len = 0;
    s->counts = m->counts;
    s->bits_len = 0;
    s->adds = 0;
    s->has_cc = false;
    return 0;
}

int agg_add(struct agg *a, const struct agg_msg *m, uint32_t id, uint64_t now_us)
{
    if (m->func != REGISTER && m->func != FILEINFO_ACK && m->func != STATUS && m->func != COMPLETE)
        return AGG_EINVAL;
    if (m->func == STATUS && m->naks_len > 0 && m->naks == NULL)
        return AGG_EINVAL;
    int idx = -1, free_idx = -1;
    for (unsigned i = 0; i < a->nslots; i++) {
        const struct agg_slot *s = &a->slots[i];
        if (s->func == 0) {
            if (free_idx < 0)
                free_idx = (int)i;
        } else if (!s->full && matches(s, m)) {
            idx = (int)i;
            break;
        }
    }
    if (idx < 0) {
        if (free_idx < 0)
            return AGG_EFULL;
        int rc = start(a, &a->slots[free_idx], m, now_us);
        if (rc < 0)
            return rc;
        idx = free_idx;
    }
    struct agg_slot *s = &a->slots[idx];
    s->adds++;
    if (m->func == STATUS && m->counts) {
        /* The largest count per FEC block: what the worst client needs (spec §9.4). */
        size_t n = m->naks_len < 8 * a->nak_cap ? m->naks_len : 8 * a->nak_cap;
        for (size_t i = 0; i < n; i++)
            if (m->naks[i] > s->naks[i])
                s->naks[i] = m->naks[i];
        if (n > s->naks_len)
            s->naks_len = n;
        size_t b = m->bits_len < a->nak_cap ? m->bits_len : a->nak_cap;
        if (b > s->bits_len)
            s->bits_len = b;
    } else if (m->func == STATUS) {
        /* OR in what the client sent, up to what a section can need. */
        size_t n = m->naks_len < a->nak_cap ? m->naks_len : a->nak_cap;
        for (size_t i = 0; i < n; i++)
            s->naks[i] |= m->naks[i];
        if (n > s->naks_len)
            s->naks_len = n;
    }
    if (m->func == STATUS) {
        if (m->has_cc &&
            (!s->has_cc || quant_rate_decode(m->cc_rate) < quant_rate_decode(s->cc_rate))) {
            s->has_cc = true;
            s->cc_flags = m->cc_flags;
            s->cc_seq = m->cc_seq;
            s->cc_rate = m->cc_rate;
            s->cc_id = m->cc_id;
            s->cc_echo_base = (int64_t)(m->cc_echo_us - now_us);
        }
        return idx;
    }
    if (m->func == FILEINFO_ACK)
        s->partial = s->partial && m->partial;
    if (m->has_echo) {
        int64_t base = (int64_t)(m->echo_us - now_us);
        if (!s->has_echo || base < s->echo_base)
            s->echo_base = base;
        s->has_echo = true;
    }
    if (!listed(s, id)) {
        s->ids[s->nids++] = id;
        if (s->nids == a->max_ids)
            s->full = true;
    }
    return idx;
}

uint64_t agg_deadline(const struct agg *a)
{
    int i = agg_due(a, 0, true); /* forced: the slot in use due first */
    return i < 0 ? UINT64_MAX : a->slots[i].full ? 0 : a->slots[i].due_us;
}

unsigned agg_pending(const struct agg *a)
{
    unsigned n = 0;
    for (unsigned i = 0; i < a->nslots; i++)
        n += a->slots[i].func != 0;
    return n;
}

int agg_due(const struct agg *a, uint64_t now_us, bool force)
{
    int best = -1;
    uint64_t best_t = UINT64_MAX;
    for (unsigned i = 0; i < a->nslots; i++) {
        const struct agg_slot *s = &a->slots[i];
        if (s->func == 0)
            continue;
        uint64_t d = s->full ? 0 : s->due_us;
        if ((force || d <= now_us) && (best < 0 || d < best_t)) {
            best = (int)i;
            best_t = d;
        }
    }
    return best;
}

uint64_t agg_cc_echo(const struct agg_slot *s, uint64_t now_us)
{
    return (uint64_t)s->cc_echo_base + now_us; /* modulo 2^64, as agg_echo */
}

uint64_t agg_echo(const struct agg_slot *s, uint64_t now_us)
{
    /* Modulo 2^64: a hostile echo near the range's end must not overflow (UB) here. */
    return (uint64_t)s->echo_base + now_us;
}

void agg_clear(struct agg *a, int i)
{
    if (i < 0 || (unsigned)i >= AGG_MAX_SLOTS)
        return;
    struct agg_slot *s = &a->slots[i];
    s->func = 0;
    s->nids = 0;
    s->naks_len = 0;
    s->counts = false;
    s->bits_len = 0;
    s->full = false;
    s->adds = 0;
}

const char *agg_strerror(int err)
{
    switch (err) {
    case AGG_EFULL:
        return "every aggregate slot in use";
    case AGG_EINVAL:
        return "not an aggregated message";
    case AGG_ENOMEM:
        return "out of memory";
    default:
        return "unknown aggregation error";
    }
}
