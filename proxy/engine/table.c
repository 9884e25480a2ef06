/*
 * The session table: max_sessions slots, found by group ID and instance,
 * taken by an ANNOUNCE under the admission rules of issue 14
 * (core/proto/admit.h: an unconfirmed session gives way to a better
 * ranked one), released when the session machine reaches FREE. And what a
 * session knows of its server: the -S and -C lists, ranks, credit, GRTT.
 */
#include <stdlib.h>
#include <string.h>

#include "core/base/quant.h"
#include "proxy/engine/proxy_int.h"

struct psession *p_find(struct proxy *p, uint32_t group_id, uint8_t inst)
{
    struct psession *s = &p->sess[p->last_hit];
    if (s->phase != PP_FREE && s->group_id == group_id && s->group_inst == inst)
        return s;
    for (unsigned i = 0; i < p->nslots; i++) {
        s = &p->sess[i];
        if (s->phase != PP_FREE && s->group_id == group_id && s->group_inst == inst) {
            p->last_hit = i;
            return s;
        }
    }
    return NULL;
}

/* A slot's standing for admission (core/proto/admit.h). */
static uint8_t admit_state(const struct psession *s)
{
    if (s->phase == PP_FREE)
        return ADMIT_FREE;
    if (!s->confirmed)
        return ADMIT_UNCONFIRMED;
    return s->encrypted && keys_keyed(s->k) ? ADMIT_AUTHENTICATED : ADMIT_CONFIRMED;
}

struct psession *p_slot_pick(struct proxy *p, const struct uftp_hdr *h, const struct addr *from,
                             bool *evict)
{
    struct admit_slot sl[PROXY_MAX_SESSIONS];
    for (unsigned i = 0; i < p->cfg.max_sessions; i++) {
        const struct psession *s = &p->sess[i];
        sl[i] = (struct admit_slot){
            .state = admit_state(s), .rank = s->rank, .src = s->src, .heard_us = s->heard_us};
    }
    int ev;
    int i = admit_pick(sl, p->cfg.max_sessions, p_rank(p, h->src_id, from), p_src_key(p, from),
                       p->now, admit_stale_us(quant_rtt_decode_us(h->grtt)), &ev);
    *evict = ev != 0;
    if (i < 0)
        p_limit(p,
                "%u sessions, none of which may give way: ANNOUNCE of group %08X from server "
                "%08X refused",
                p->cfg.max_sessions, h->group_id, h->src_id);
    return i < 0 ? NULL : &p->sess[i];
}

void p_slot_fill(struct proxy *p, struct psession *s, const struct uftp_hdr *h,
                 const struct addr *from, size_t len)
{
    memset(s, 0, sizeof(*s));
    s->version = h->version;
    s->group_id = h->group_id;
    s->group_inst = h->group_inst;
    s->server_id = h->src_id;
    s->up = *from;
    s->rank = p_rank(p, h->src_id, from);
    s->src = p_src_key(p, from);
    s->unconfirmed_until = p->now + p->cfg.unconfirmed_us;
    p_heard(p, s, len);
    p_take_grtt(s, h);
    idmap_init(&s->cmap);
}

void p_slot_opened(struct proxy *p, struct psession *s)
{
    unsigned i = (unsigned)(s - p->sess);
    if (i + 1 > p->nslots)
        p->nslots = i + 1;
    p->st.sessions++;
    p->st.sessions_seen++;
}

void p_slot_release(struct proxy *p, struct psession *s)
{
    if (p->charge == &s->amp)
        p->charge = NULL;
    if (s->joined)
        p_member(p, false, &s->priv, addr_is_set(&s->ssm_src) ? &s->ssm_src : NULL);
    for (size_t i = 0; i < s->ncl; i++)
        keys_peer_free(s->cl[i].k);
    free(s->cl);
    for (size_t i = 0; i < s->ndn; i++)
        keys_peer_free(s->dn[i].k);
    free(s->dn);
    idmap_free(&s->cmap);
    agg_free(&s->agg);
    free(s->fec_buf);
    keys_free(s->k);
    memset(s, 0, sizeof(*s));
    while (p->nslots > 0 && p->sess[p->nslots - 1].phase == PP_FREE)
        p->nslots--;
}

void p_slot_join(struct proxy *p, struct psession *s, const struct addr *group,
                 const struct addr *from)
{
    s->priv = *group;
    if (p->cfg.ssm) {
        const struct proxy_server *sv = p_server(p, s->server_id);
        s->ssm_src = sv != NULL && addr_is_set(&sv->addr) ? sv->addr : *from;
        addr_set_port(&s->ssm_src, 0);
    }
    p_member(p, true, &s->priv, addr_is_set(&s->ssm_src) ? &s->ssm_src : NULL);
    s->joined = true;
}

const struct proxy_server *p_server(const struct proxy *p, uint32_t id)
{
    for (size_t i = 0; i < p->cfg.nserver; i++)
        if (p->cfg.servers[i].id == id)
            return &p->cfg.servers[i];
    return NULL;
}

const struct proxy_client *p_client_entry(const struct proxy *p, uint32_t id)
{
    for (size_t i = 0; i < p->cfg.nclient; i++)
        if (p->cfg.clients[i].id == id)
            return &p->cfg.clients[i];
    return NULL;
}

const struct proxy_client *p_down_entry(const struct proxy *p, uint32_t id)
{
    for (size_t i = 0; i < p->cfg.ndown; i++)
        if (p->cfg.downs[i].id == id)
            return &p->cfg.downs[i];
    return NULL;
}

uint64_t p_src_key(const struct proxy *p, const struct addr *a)
{
    uint8_t ip[16];
    size_t n = addr_get_ip(a, ip);
    return amp_key(ip, n, p->amp_seed);
}

uint8_t p_rank(const struct proxy *p, uint32_t server_id, const struct addr *from)
{
    const struct proxy_server *sv = p_server(p, server_id);
    if (sv == NULL)
        return 0;
    return addr_is_set(&sv->addr) && addr_equal_ip(&sv->addr, from) ? 2 : 1;
}

void p_heard(struct proxy *p, struct psession *s, size_t len)
{
    amp_rx(&s->amp, len);
    s->heard_us = p->now;
    p->charge = &s->amp;
}

void p_take_grtt(struct psession *s, const struct uftp_hdr *h)
{
    if (h->grtt != s->grtt_code || s->grtt_us == 0) {
        s->grtt_code = h->grtt;
        s->grtt_us = quant_rtt_decode_us(h->grtt);
        agg_set_hold(&s->agg, p_hold(s));
    }
    s->gsize_code = h->gsize;
}

uint64_t p_grtt_times(const struct psession *s, uint64_t n)
{
    /* Issue 14: at most 300 s whatever GRTT and ROBUST the server claims (core/proto/claims.h). */
    return claims_expiry_us(s->grtt_us, n, CLAIMS_IDLE_MAX_US);
}

void p_alive(struct proxy *p, struct psession *s)
{
    uint64_t t = p_grtt_times(s, s->robust);
    /* Issue 13: an outage of the path is not the server gone. */
    s->idle_at = p->now + (t > p->cfg.liveness_us ? t : p->cfg.liveness_us);
}
