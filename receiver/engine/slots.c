/* The session table (up to 100 slots, spec §4) and what all files share: lookup, admission
 * (issue 14 item 2), the session's timer, memberships, the public-key budget, drops. */
#include "receiver/engine/recv_int.h"

#include "core/crypto/keyfile.h"

struct rsession *slot_find(struct receiver *r, uint32_t group_id, uint8_t inst)
{
    /* The last one found first, then every slot in use. */
    for (unsigned k = 0, i = r->last_hit; k <= r->nslots; i = k++) {
        struct rsession *s = &r->sess[i];
        if (s->state != R_FREE && s->group_id == group_id && s->group_inst == inst) {
            r->last_hit = i;
            return s;
        }
    }
    return NULL;
}

/* A slot's standing for admission (core/proto/admit.h). */
static uint8_t admit_state(const struct rsession *s)
{
    if (s->state == R_FREE)
        return ADMIT_FREE;
    if (s->state == R_PREREGISTER || s->state == R_REGISTERED)
        return ADMIT_UNCONFIRMED;
    /* An ended one is freed at the next poll; not taken from under its ABORT. */
    if (!rsess_live(s) || (s->keys != NULL && skeys_client_keyed(s->keys)))
        return ADMIT_AUTHENTICATED;
    return ADMIT_CONFIRMED;
}

struct rsession *slot_pick(struct receiver *r, uint8_t rank, uint64_t src, uint64_t grtt_us,
                           struct rsession **victim)
{
    struct admit_slot sl[RECEIVER_MAX_SESSIONS];
    unsigned n = r->cfg.max_sessions;
    for (unsigned i = 0; i < n; i++) {
        const struct rsession *s = &r->sess[i];
        sl[i] = (struct admit_slot){
            .state = admit_state(s), .rank = s->rank, .src = s->src, .heard_us = s->heard_us};
    }
    int evict;
    int i = admit_pick(sl, n, rank, src, r->now, admit_stale_us(grtt_us), &evict);
    *victim = i >= 0 && evict ? &r->sess[i] : NULL;
    return i >= 0 ? &r->sess[i] : NULL;
}

void slot_timeout(struct receiver *r, struct rsession *s, bool rescale)
{
    if (!rescale)
        s->timeout_start = r->now;
    uint64_t t = claims_expiry_us(s->grtt_us, s->robust, CLAIMS_IDLE_MAX_US); /* data */
    if (t < r->cfg.liveness_us)
        t = r->cfg.liveness_us; /* issue 13: an outage is not the server gone */
    if (s->state == R_PREREGISTER || s->state == R_REGISTERED)
        t = claims_resend_us(s->grtt_us, 5); /* REGISTER every 5·GRTT */
    else if (s->state == R_COMPLETE)
        t = claims_resend_us(s->grtt_us, 4); /* COMPLETE(0) every 4·GRTT */
    s->timeout_at = s->timeout_start + t;
}

void slot_grtt(struct receiver *r, struct rsession *s, uint8_t code)
{
    if (code == s->grtt_code)
        return; /* the common case: no decode per data packet */
    s->grtt_code = code;
    uint64_t g = quant_rtt_decode_us(code);
    uint64_t diff = g > s->grtt_us ? g - s->grtt_us : s->grtt_us - g;
    if (diff > 1000) {
        s->grtt_us = g;
        slot_timeout(r, s, true);
    }
}

void slot_push_op(struct receiver *r, bool join, const struct addr *g, const struct addr *src)
{
    if (r->ops_n == r->ops_cap) {
        ELOG(&r->env.log, LL_WARN, "receiver: membership queue full");
        return;
    }
    struct rmemop *op = &r->ops[(r->ops_head + r->ops_n++) % r->ops_cap];
    *op = (struct rmemop){.join = join, .group = *g}; /* the source cleared (addr_clear) */
    if (src != NULL)
        op->source = *src;
}

void slot_member(struct receiver *r, bool join, const struct addr *group, const struct addr *source)
{
    struct member m;
    int k = member_ref(r->mem, &r->nmem, r->capmem, join, group, source, &m);
    if (k != 0)
        slot_push_op(r, k > 0, &m.group, &m.source);
}

void slot_drop(struct receiver *r, const struct addr *from, const char *why)
{
    char ab[ADDR_STRLEN];
    r->st.dropped++;
    ELOG(&r->env.log, LL_PROTO, "dropped datagram from %s: %s", addr_str(from, ab), why);
}

void slot_auth_failed(struct receiver *r, int rc)
{
    if (rc == SKEYS_EREPLAY || rc == SKEYS_EOLD)
        r->st.replayed++;
    else
        r->st.auth_failed++;
    r->st.dropped++;
}

bool slot_pk_take(struct receiver *r, uint64_t src, unsigned rank, uint64_t cost)
{
    if (keywork_take(&r->pk, src, rank, cost, r->now)) {
        r->st.pk_done++;
        return true;
    }
    r->st.pk_limited++;
    r->st.dropped++;
    if (r->now >= r->pk_log_at) {
        r->pk_log_at = r->now + 1000000;
        ELOG(&r->env.log, LL_WARN,
             "rate-limiting public-key work: %llu ANNOUNCE/KEYINFO dropped (budget %u us/s, "
             "half kept for servers listed in -S at their address); servers will resend",
             (unsigned long long)r->pk.refused, r->cfg.pk_budget_us);
    }
    return false;
}

uint64_t slot_src_key(const struct receiver *r, const struct addr *a)
{
    uint8_t ip[16];
    size_t n = addr_get_ip(a, ip);
    return amp_key(ip, n, r->amp_seed);
}

const struct crypto_key *slot_sigkey(struct receiver *r)
{
    if (r->cfg.sigkey != NULL)
        return r->cfg.sigkey;
    /* 5.0.x makes an ephemeral EC P-256 key at start; we make it when first needed. */
    if (r->own_key == NULL && keyfile_gen_ephemeral(&r->own_key) != CRYPTO_OK)
        return NULL;
    return r->own_key;
}
