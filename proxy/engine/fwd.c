/*
 * Forwarding. A server proxy is the upstream end of a multicast tunnel
 * (spec §3.1): it listens on the public groups, and on each new ANNOUNCE
 * joins that session's private group and remembers the ANNOUNCE source as
 * the session's upstream. Everything from upstream goes unchanged, by
 * unicast, to the downstream proxy (the -s host, or whoever last
 * authenticated with the -s fp=... key); everything from downstream goes
 * unchanged back upstream. It decrypts nothing and aggregates nothing.
 *
 * Unlike 5.0.1, which forwards upstream whatever arrives with a known
 * group ID, only datagrams from the downstream proxy's address go
 * upstream: the tunnel is not an open relay into the sender's network.
 *
 * A client proxy re-multicasts the server's messages to its clients
 * (p_fwd_down), and sends upstream the clients' answers it does not
 * aggregate (p_fwd_up: CC_ACK...).
 */
#include <string.h>

#include "core/base/quant.h"
#include "proxy/engine/proxy_int.h"

static void tunnel(struct proxy *p, struct psession *s, const struct addr *to, const uint8_t *pkt,
                   size_t len)
{
    p_alive(p, s);
    if (p_send(p, to, pkt, len))
        p->st.forwarded++;
}

/* A new session's ANNOUNCE at a server proxy. */
PROXY_HANDLER(p_fwd_open)
{
    const struct wire_announce *a = &in->m.u.announce;
    if (addr_equal_ip(in->from, &p->down)) {
        p_drop(p, in->from, "ANNOUNCE from the downstream side");
        return;
    }
    if ((s = p_session_new(p, in, a)) == NULL)
        return;
    int fam = (a->flags & FLAG_IPV6) ? ADDR_V6 : ADDR_V4;
    struct addr priv;
    addr_set_ip(&priv, fam, a->priv_addr, 0);
    if (addr_is_multicast(&priv))
        p_slot_join(p, s, &priv, in->from);
    p_session_event(p, s, SE_OPEN, NULL);
    char ub[ADDR_STRLEN], db[ADDR_STRLEN], gb[ADDR_STRLEN];
    PLOG(p, s, LL_INFO, "session of server %08X at %s (private %s): tunnelling to %s", s->server_id,
         addr_str(in->from, ub), s->joined ? addr_str(&s->priv, gb) : "none (unicast)",
         addr_str(&p->down, db));
    tunnel(p, s, &p->down, in->pkt, in->len);
}

/* From the session's upstream: to the downstream proxy. */
PROXY_HANDLER(p_fwd_from_up)
{
    if (in->h->src_id == s->server_id)
        p_take_grtt(s, in->h);
    tunnel(p, s, &p->down, in->pkt, in->len);
}

/* Answers go upstream only when they come through the tunnel. */
PROXY_HANDLER(p_fwd_from_down)
{
    if (!addr_equal_ip(in->from, &p->down)) {
        p_drop(p, in->from, "not from the downstream proxy");
        return;
    }
    /* Issue 14: someone downstream takes part; the session keeps its slot. */
    s->confirmed = true;
    tunnel(p, s, &s->up, in->pkt, in->len);
}

/* A server message a client proxy passes on to its clients as it came. */
PROXY_HANDLER(p_fwd_down)
{
    p_send_forward(p, &s->priv, in->pkt, in->len);
}

/*
 * TFMCC feedback (spec §1.7) from the clients behind us: what the sender
 * can use is the lowest rate, and the CLR's answers to every CONG_CTRL. A
 * CC_ACK goes upstream when it comes from the CLR (ours set the CLR flag;
 * a 5.0.1 receiver never does, but only the CLR sends a second CC_ACK in a
 * round: it answers every CONG_CTRL), opens a newer round, reports a rate
 * below 0.9 × the lowest passed in this round (RFC 4654 §4.7's suppression,
 * done again here, since our clients hear each other's reports only through
 * the sender's), or comes from the client whose report was that lowest: a
 * proxy in front of many receivers passes a few reports a round, not one
 * per receiver, and never holds back the CLR's (the sender would halve the
 * rate for want of them).
 */
static bool cc_pass(struct psession *s, struct pclient *c, uint32_t id, const struct wire_cc_ack *a)
{
    if (!a->has_tfmcc)
        return true;
    bool again = false;
    if (c != NULL) {
        again = c->cc_seen && c->cc_seq == a->tfmcc.cc_seq;
        c->cc_seen = true;
        c->cc_seq = a->tfmcc.cc_seq;
    }
    uint64_t rate = quant_rate_decode(a->tfmcc.cc_rate);
    if (!s->cc_any || (int16_t)(a->tfmcc.cc_seq - s->cc_seq) > 0) {
        /* A newer round: the first report of it passes. */
        s->cc_any = true;
        s->cc_seq = a->tfmcc.cc_seq;
        s->cc_low = rate;
        s->cc_low_id = id;
        return true;
    }
    bool pass = (a->tfmcc.flags & FLAG_CC_CLR) || again || id == s->cc_low_id ||
                (double)rate < 0.9 * (double)s->cc_low;
    if (pass && (rate < s->cc_low || id == s->cc_low_id)) {
        s->cc_low = rate;
        s->cc_low_id = id;
    }
    return pass;
}

/* A client's answer we do not aggregate (CC_ACK, ...): upstream as ours. */
PROXY_HANDLER(p_fwd_up)
{
    if (in->m.func == CC_ACK &&
        !cc_pass(s, c, c != NULL ? c->id : in->h->src_id, &in->m.u.cc_ack)) {
        p->st.cc_held++;
        return;
    }
    if (!s->encrypted) {
        /* spec §3.5: a lower proxy's go through its upstream proxy, once heard. */
        const struct addr *to = s->lower && addr_is_set(&s->via) ? &s->via : &s->up;
        if (p_send(p, to, in->pkt, in->len))
            p->st.forwarded++;
        return;
    }
    /* spec §6.7: 5.0.1 forwards it under the client's key, which the
     * server does not have; sealed under ours the server can read it. */
    p_send_up(p, s, &in->m, UP_APP);
}
