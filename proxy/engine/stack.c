/*
 * Stacked aggregating proxies (issue 16, spec §3.5 [EXT]). A lower proxy configured with an
 * upstream proxy (cfg.up_proxy) sends its aggregates to the address that proxy's PROXY_KEY for the
 * session came from (send.c), as a receiver behind it would. An upper proxy takes the answers
 * listing clients only from the proxies of its downstream list (cfg.downs, engine.c dispatches them
 * here): every listed ID becomes a client of ours reached through that proxy (c->via), under the
 * same -C list and client limit as a direct one, and belongs to that proxy alone; its answers join
 * our aggregates as a direct client's would, so the server sees one ordinary proxy (a 5.0.1 sender
 * too).
 *
 * Encrypted v5 sessions: the lower proxy keys with the upper one as a
 * client does, against its PROXY_KEY (keys_upstream_proxy), and always
 * proves its key with CLIENT_KEY (checked against the --downstream
 * fingerprint); the upper proxy keeps it as a keyed peer that is no
 * receiver (s->dn, client.c's downstream machine), takes its listed clients
 * once it is authenticated, and sends it our KEYINFO by unicast; its
 * aggregates then come sealed under its application key (engine.c opens
 * them). The lower proxy re-keys its own clients with the group master.
 */
#include <string.h>

#include "core/fec/fec.h"
#include "proxy/engine/proxy_int.h"

/* PROXY_KEY of another proxy (spec §1.8): our upstream proxy's gives its address. */
PROXY_HANDLER(p_stack_proxy_key)
{
    const struct uftp_hdr *h = in->h;
    if (p->cfg.up_proxy == 0 || h->src_id != p->cfg.up_proxy || p->cfg.role == PROXY_SERVER ||
        h->version != UFTP_VER5)
        return; /* another proxy's, for its clients */
    s = p_find(p, h->group_id, h->group_inst);
    if (s == NULL || !s->lower || s->version != UFTP_VER5)
        return;
    char ab[ADDR_STRLEN];
    if (addr_is_set(&s->via)) {
        /* Learned once a session: a forged one cannot move our aggregates elsewhere. */
        if (!addr_equal(&s->via, in->from))
            p_drop(p, in->from, "PROXY_KEY of our upstream proxy from another address");
        return;
    }
    if (s->encrypted) {
        /* Our handshake moves from the server to it (a verification and an agreement). */
        if (!p_pk_budget(p, p_src_key(p, in->from), 0, keys_cost_peer(s->k),
                         "upstream proxy key exchange"))
            return; /* its next PROXY_KEY comes with the server's next ANNOUNCE */
        int rc = keys_upstream_proxy(s->k, h->src_id, in->pkt + UFTP_HDR_LEN,
                                     in->len - UFTP_HDR_LEN, NULL, 0);
        if (rc < 0) {
            PLOG(p, s, LL_WARN, "PROXY_KEY of upstream proxy %08X at %s rejected: %s", h->src_id,
                 addr_str(in->from, ab), keys_strerror(rc));
            p->st.auth_failed++;
            return;
        }
    }
    s->via = *in->from;
    PLOG(p, s, LL_INFO, "upstream proxy %08X at %s", h->src_id, addr_str(in->from, ab));
}

/* A downstream proxy's answer joins our aggregates; it held it half a GRTT already (p_hold). */
static void add(struct proxy *p, struct psession *s, const struct agg_msg *am, uint32_t id)
{
    int i = p_aggq_add(p, s, am, id);
    if (i >= 0)
        agg_due_by(&s->agg, i, p->now + s->grtt_us / 2);
}

/* Client id as listed by downstream proxy down; NULL when it is not one of its. */
static struct pclient *listed(struct psession *s, uint32_t id, uint32_t down)
{
    struct pclient *c = p_client_of(s, id);
    return c != NULL && c->via == down ? c : NULL;
}

/* Encrypted: its key exchange with us, as a client's (reg.c peer_keys); false: not now. */
static bool down_keys(struct proxy *p, struct psession *s, const struct pmsg *in)
{
    const struct wire_register *r = &in->m.u.reg;
    uint32_t down = in->h->src_id;
    struct pdown *d = p_down_of(s, down);
    if (d == NULL && (d = p_down_add(p, s, down)) == NULL)
        return false;
    if (d->state == PD_REFUSED)
        return false;
    d->addr = *in->from;
    if (d->k != NULL)
        return true;
    if (r->dhlen == 0) {
        PLOG(p, s, LL_WARN, "downstream proxy %08X registered without an ECDH key", down);
        p_down_step(p, s, d, DE_REFUSE, NULL);
        return false;
    }
    if (!p_pk_budget(p, p_src_key(p, in->from), 0, keys_cost_peer(s->k),
                     "downstream proxy key exchange"))
        return false; /* it registers again */
    int rc = keys_peer_new(s->k, &d->k, down, r->dhblob, r->dhlen, r->rand2);
    if (rc == CRYPTO_OK)
        rc = keys_peer_require_auth(s->k, d->k);
    if (rc < 0) {
        PLOG(p, s, LL_WARN, "REGISTER from downstream proxy %08X rejected: %s", down,
             keys_strerror(rc));
        p_down_step(p, s, d, DE_REFUSE, NULL);
        return false;
    }
    return true;
}

PROXY_HANDLER(p_stack_register)
{
    const struct wire_register *r = &in->m.u.reg;
    uint32_t down = in->h->src_id;
    if (r->ids.n == 0) {
        p_drop(p, in->from, "REGISTER of a downstream proxy listing no clients");
        return;
    }
    if (s->encrypted && !down_keys(p, s, in))
        return;
    size_t n = 0, refused = 0;
    for (size_t i = 0; i < r->ids.n; i++) {
        uint32_t id = wire_ids_get(&r->ids, i);
        struct pclient *cl = p_client_of(s, id);
        if (cl == NULL) {
            /* A proxy is no receiver; -C, reserved IDs and the limit as for a direct one. */
            if (p_down_entry(p, id) != NULL || (cl = p_client_add(p, s, id, in->from)) == NULL) {
                refused++;
                continue;
            }
            cl->via = down;
        } else if (cl->via != down) {
            refused++; /* a direct client, or another proxy's */
            continue;
        }
        if (!p_client_accepts(cl, CE_REGISTER))
            continue; /* aborted */
        cl->addr = *in->from;
        /* The proxy's echo stands for each (agg.h: it is its clients' longest RTT already). */
        cl->reg_echo = r->tstamp;
        cl->reg_rx = p->now;
        p_client_step(p, s, cl, CE_REGISTER, NULL);
        n++;
    }
    PLOG(p, s, refused ? LL_PROTO : LL_VERBOSE,
         "REGISTER from downstream proxy %08X: %zu clients, %zu refused", down, n, refused);
}

/*
 * Its CLIENT_KEY (under its handshake key): the --downstream fingerprint,
 * when given, and its signature; then its clients are in and it gets our
 * KEYINFO (client.c). A repeat (its REGISTER again) brings the KEYINFO again.
 */
PROXY_HANDLER(p_stack_client_key)
{
    uint32_t down = in->h->src_id;
    struct pdown *d = s->encrypted ? p_down_of(s, down) : NULL;
    if (d == NULL || d->k == NULL || !p_fsm_accepts(&proxy_down_fsm, d->state, DE_CLIENT_KEY))
        return;
    if (!keys_peer_registered(s->k, d->k)) {
        const struct proxy_client *de = p_down_entry(p, down);
        int rc = keys_peer_client_key(s->k, d->k, down, in->msg, in->mlen, de ? de->fp : NULL,
                                      de ? de->fplen : 0);
        if (rc < 0) {
            PLOG(p, s, LL_WARN, "CLIENT_KEY from downstream proxy %08X rejected: %s", down,
                 rc == KEYS_EFP ? "fingerprint differs from --downstream" : keys_strerror(rc));
            p->st.auth_failed++;
            p_down_step(p, s, d, DE_REFUSE, NULL);
            return;
        }
        PLOG(p, s, LL_VERBOSE, "downstream proxy %08X authenticated", down);
    }
    p_down_step(p, s, d, DE_CLIENT_KEY, NULL);
}

PROXY_HANDLER(p_stack_keyinfo_ack)
{
    const struct wire_keyinfo_ack *ka = &in->m.u.keyinfo_ack;
    struct pdown *d = s->encrypted ? p_down_of(s, in->h->src_id) : NULL;
    if (d == NULL || !keys_peer_has_app(d->k) ||
        !p_fsm_accepts(&proxy_down_fsm, d->state, DE_KEYINFO_ACK))
        return; /* a repeat, or unexpected */
    if (!keys_peer_verify(s->k, d->k, ka->verify, ka->verify_len)) {
        PLOG(p, s, LL_WARN, "KEYINFO_ACK from downstream proxy %08X: verify data mismatch", d->id);
        return;
    }
    PLOG(p, s, LL_VERBOSE, "downstream proxy %08X keyed", d->id);
    p_down_step(p, s, d, DE_KEYINFO_ACK, NULL);
}

PROXY_HANDLER(p_stack_fileinfo_ack)
{
    const struct wire_fileinfo_ack *fa = &in->m.u.fileinfo_ack;
    struct agg_msg am = {.func = FILEINFO_ACK,
                         .file_id = fa->file_id,
                         .partial = (fa->flags & FLAG_PARTIAL) != 0,
                         .has_echo = true,
                         .echo_us = fa->tstamp};
    for (size_t i = 0; i < fa->ids.n; i++) {
        struct pclient *cl = listed(s, wire_ids_get(&fa->ids, i), in->h->src_id);
        if (cl != NULL && cl->state != PC_ABORTED)
            add(p, s, &am, cl->id);
    }
}

/*
 * Its STATUS is an aggregate without a list: ORed into ours as one client's
 * (xfer.c), a count report (spec §9.4) as a DECODE client's, whose counts its
 * bitmap carries as the first members of each FEC block; the TFMCC client it
 * names, when one of its, stays named.
 */
PROXY_HANDLER(p_stack_status)
{
    const struct wire_status *st = &in->m.u.status;
    uint32_t down = in->h->src_id;
    uint32_t named = st->has_tfmcc ? st->tfmcc.client_id : 0;
    struct pclient as = {.id = named != 0 && listed(s, named, down) != NULL ? named : down,
                         .state = PC_REGISTERED,
                         .via = down,
                         .decodes = s->fec && st->has_fec && st->fec.version == WIRE_FEC_VERSION &&
                                    (st->fec.flags & FEC_F_COUNTS) &&
                                    st->fec.code == FEC_CODE_RS8_CAUCHY && st->fec.k == s->fec_k &&
                                    st->fec.stride == s->fec_stride};
    p_xfer_status(p, s, &as, in);
}

PROXY_HANDLER(p_stack_complete)
{
    const struct wire_complete *cm = &in->m.u.complete;
    struct agg_msg am = {.func = COMPLETE,
                         .file_id = cm->file_id,
                         .status = cm->status,
                         .has_freespace = cm->has_freespace,
                         .freespace = cm->freespace};
    for (size_t i = 0; i < cm->ids.n; i++) {
        struct pclient *cl = listed(s, wire_ids_get(&cm->ids, i), in->h->src_id);
        if (cl == NULL || cl->state == PC_ABORTED)
            continue;
        if (cm->file_id == 0) {
            p_client_step(p, s, cl, CE_COMPLETE, NULL);
            p_session_event(p, s, SE_CLIENT_DONE, NULL);
        }
        add(p, s, &am, cl->id);
    }
}

/* One of its clients aborted (host), or the proxy itself (0, or its ID): all of its. */
PROXY_HANDLER(p_stack_abort)
{
    const struct wire_abort *a = &in->m.u.abort;
    uint32_t down = in->h->src_id;
    char text[WIRE_ABORT_TEXT_LEN + 1];
    p_clean_text(text, sizeof(text), a->text);
    if (a->host != 0 && a->host != down) {
        struct pclient *cl = listed(s, a->host, down);
        if (cl == NULL) {
            p_drop(p, in->from, "ABORT of a downstream proxy for a client not its");
            return;
        }
        PLOG(p, s, LL_WARN, "transfer aborted by client %08X (via %08X): %s", cl->id, down, text);
        p_client_step(p, s, cl, CE_ABORT, NULL);
        p_send_abort_up(p, s, cl->id, text);
        return;
    }
    PLOG(p, s, LL_WARN, "downstream proxy %08X aborted: %s", down, text);
    for (size_t i = 0; i < s->ncl; i++) {
        struct pclient *cl = &s->cl[i];
        if (cl->via == down && cl->state != PC_ABORTED) {
            p_client_step(p, s, cl, CE_ABORT, NULL);
            p_send_abort_up(p, s, cl->id, text);
        }
    }
}
