/*
 * The server proxy (spec §3.1): the upstream end of a multicast tunnel.
 *
 * It listens on the public groups, and on each new ANNOUNCE joins that
 * session's private group and remembers the ANNOUNCE source as the
 * session's upstream. Everything from upstream goes unchanged, by unicast,
 * to the downstream proxy (the -s host, or whoever last authenticated with
 * the -s fp=... key); everything from downstream goes unchanged back
 * upstream. It decrypts nothing and aggregates nothing. A session ends
 * after ROBUST x GRTT (at least 1 s) without traffic.
 *
 * Unlike 5.0.1, which forwards upstream whatever arrives with a known
 * group ID, only datagrams from the downstream proxy's address go
 * upstream: the tunnel is not an open relay into the sender's network.
 */
#include <stdio.h>
#include <string.h>

#include "proxy/engine/proxy_int.h"

#define NODOWN_LOG_US 10000000u

static void forward(struct proxy *p, struct psession *s, const struct addr *to, const uint8_t *pkt,
                    size_t len, uint64_t now)
{
    s->idle_at = now + p_grtt_times(s, s->robust);
    if (p_send(p, to, pkt, len))
        p->st.forwarded++;
}

static void new_session(struct proxy *p, const struct addr *from, const struct uftp_hdr *h,
                        uint8_t *pkt, size_t len, uint64_t now)
{
    struct wire_datagram d;
    ssize_t n = wire_datagram_decode(&d, pkt, len);
    if (n < 0 || d.hdr.func != ANNOUNCE) {
        p_drop(p, from, n < 0 ? wire_strerror((int)n) : "ANNOUNCE expected");
        return;
    }
    const struct wire_announce *a = &d.msg.u.announce;
    struct psession *s = p_new_session(p, h, from, len, now);
    if (s == NULL) {
        p_limit(p,
                "%u sessions, none of which may give way: ANNOUNCE of group %08X from server "
                "%08X refused",
                p->cfg.max_sessions, h->group_id, h->src_id);
        return;
    }
    s->up = *from;
    s->robust = a->robust ? a->robust : 20;
    s->blocksize = a->blocksize;
    s->cc_type = a->cc_type;
    p_take_grtt(s, h);
    int fam = (a->flags & FLAG_IPV6) ? ADDR_V6 : ADDR_V4;
    struct addr priv;
    addr_set_ip(&priv, fam, a->priv_addr, 0);
    char ub[ADDR_STRLEN], db[ADDR_STRLEN], gb[ADDR_STRLEN];
    if (addr_is_multicast(&priv)) {
        s->priv = priv;
        if (p->cfg.ssm) {
            const struct proxy_server *sv = p_server(p, h->src_id);
            s->ssm_src = sv != NULL && addr_is_set(&sv->addr) ? sv->addr : *from;
            addr_set_port(&s->ssm_src, 0);
        }
        p_member(p, true, &s->priv, addr_is_set(&s->ssm_src) ? &s->ssm_src : NULL);
        s->joined = true;
    }
    PLOG(p, s, LL_INFO, "session of server %08X at %s (private %s): tunnelling to %s", s->server_id,
         addr_str(from, ub), s->joined ? addr_str(&s->priv, gb) : "none (unicast)",
         addr_str(&p->down, db));
    forward(p, s, &p->down, pkt, len, now);
}

void fwd_recv(struct proxy *p, const struct addr *from, const struct uftp_hdr *h, uint8_t *pkt,
              size_t len, uint64_t now)
{
    if (!addr_is_set(&p->down)) {
        /* spec §3.1: nothing but heartbeats until a downstream proved itself. */
        p->st.dropped++;
        if (p->nodown_logged_at == 0 || now >= p->nodown_logged_at + NODOWN_LOG_US) {
            char ab[ADDR_STRLEN];
            p->nodown_logged_at = now ? now : 1;
            ELOG(&p->env.log, LL_WARN,
                 "dropping %s from %s: no downstream proxy has authenticated yet",
                 wire_func_name(h->func), addr_str(from, ab));
        }
        return;
    }
    struct psession *s = p_find(p, h->group_id, h->group_inst);
    if (h->func == ANNOUNCE && s == NULL) {
        if (addr_equal_ip(from, &p->down)) {
            p_drop(p, from, "ANNOUNCE from the downstream side");
            return;
        }
        new_session(p, from, h, pkt, len, now);
        return;
    }
    if (s == NULL) {
        p_drop(p, from, "no such session");
        return;
    }
    if (h->version != s->version) {
        p_drop(p, from, "version differs from the session's");
        return;
    }
    p_heard(p, s, len, now);
    if (addr_equal(from, &s->up)) {
        if (h->src_id == s->server_id)
            p_take_grtt(s, h);
        forward(p, s, &p->down, pkt, len, now);
        return;
    }
    if (h->func == ANNOUNCE) {
        p_drop(p, from, "ANNOUNCE of a known session from elsewhere");
        return;
    }
    /* Answers go upstream only when they come through the tunnel. */
    if (!addr_equal_ip(from, &p->down)) {
        p_drop(p, from, "not from the downstream proxy");
        return;
    }
    /* Issue 14: someone downstream takes part; the session keeps its slot. */
    p_confirm(s);
    forward(p, s, &s->up, pkt, len, now);
}

void fwd_timers(struct proxy *p, struct psession *s, uint64_t now)
{
    if (now >= s->idle_at) {
        PLOG(p, s, LL_INFO, "session ended (no traffic for %llu ms)",
             (unsigned long long)p_grtt_times(s, s->robust) / 1000);
        p_free_session(p, s);
    }
}
