/*
 * The registration family (spec §1.4, §1.6 step 3, §1.8, §3.4): REGISTER
 * (a client's, or a proxy's for the clients it lists; after the announce
 * phase, a late one), CLIENT_KEY (-c) and KEYINFO_ACK. engine.c has
 * checked that the phase takes the message.
 */
#include "sender/engine/sender_int.h"

/* Once per second at most: how much the public-key budget refused. */
static void pk_log(struct sender *s)
{
    s->st.pk_limited++;
    if (s->now < s->pk_log_at)
        return;
    s->pk_log_at = s->now + 1000000;
    SLOG(s, LL_WARN,
         "rate-limiting key exchanges: %llu REGISTER/CLIENT_KEY dropped (budget %u "
         "us/s of public-key work); clients will retry",
         (unsigned long long)ratelim_take_refused(&s->pk), s->cfg.pk_budget_us);
}

/*
 * A REGISTER's key exchange (spec §1.8), within the public-key budget. NULL
 * = refused. A listed destination (-H, -j, *over: its pass not used yet)
 * goes ahead once over budget: the list bounds that work, whatever forged
 * REGISTERs carry its ID, and a closed group of any size registers in one
 * round (issue 16).
 */
static struct skeys_peer *register_keys(struct sender *s, uint32_t id, bool *over,
                                        const struct wire_register *r)
{
    bool pass = over != NULL && !*over;
    if (!ratelim_take(&s->pk, skeys_cost_ecdh(s->cfg.curve), s->now)) {
        if (pass) {
            *over = true;
        } else {
            s->reg_refused++;
            s->reg_refused_us = s->now;
            pk_log(s);
            return NULL;
        }
    }
    struct skeys_peer *p = NULL;
    int rc = skeys_server_register(s->keys, id, r->dhblob, r->dhlen, r->rand2, &p);
    if (rc != CRYPTO_OK) {
        SLOG(s, LL_WARN, "rejecting REGISTER from %08X: %s", id, skeys_strerror(rc));
        return NULL;
    }
    s->reg_admitted_us = s->now;
    return p;
}

/* An open group adds a client only once its key exchange worked. */
static struct sdest *register_new(struct sender *s, uint32_t id, const struct addr *from,
                                  const struct wire_register *r)
{
    if (id == 0 || id == UINT32_MAX || s->ndest - s->nproxy >= SENDER_MAX_DEST) {
        SLOG(s, LL_WARN, "rejecting REGISTER from %08X: max destinations exceeded", id);
        job_abort(s, id, 0, "Max destinations exceeded", from);
        return NULL;
    }
    struct skeys_peer *k = NULL;
    if (s->keys != NULL && (k = register_keys(s, id, NULL, r)) == NULL)
        return NULL;
    struct sdest *d = dest_add(s, id, false);
    if (d == NULL) {
        skeys_peer_free(k);
        SLOG(s, LL_WARN, "rejecting REGISTER from %08X: out of memory", id);
        return NULL;
    }
    d->keys = k;
    return d;
}

/*
 * The clients a proxy's REGISTER lists (spec §3.4): in the session through
 * it at once, whatever the encryption (their keys are the proxy's
 * business), with the proxy's RTT. A closed group takes only its own.
 */
static void proxy_register_clients(struct sender *s, size_t pi, const struct wire_ids *ids,
                                   const struct addr *from)
{
    for (size_t i = 0; i < ids->n; i++) {
        uint32_t id = wire_ids_get(ids, i);
        struct sdest *c = dest_of(s, id);
        if (c == NULL) {
            if (!s->open_group) {
                SLOG(s, LL_WARN, "client %08X via proxy %08X not in host list", id,
                     s->dests[pi].id);
                job_abort(s, id, 0, "Not in host list", from);
                continue;
            }
            if (id == 0 || id == UINT32_MAX || id == s->cfg.server_id)
                continue;
            if ((c = dest_add(s, id, false)) == NULL) {
                SLOG(s, LL_WARN, "rejecting client %08X via proxy %08X: max destinations exceeded",
                     id, s->dests[pi].id);
                job_abort(s, id, 0, "Max destinations exceeded", from);
                continue;
            }
        }
        const struct sdest *p = &s->dests[pi]; /* dest_add may have moved the table */
        if (c->isproxy || c == p || !client_accepts(c, CE_VIA_PROXY))
            continue;
        bool dup = c->state == D_ACTIVE && c->proxy == pi + 1;
        c->proxy = (uint32_t)(pi + 1);
        c->registered = true;
        c->rtt_us = p->rtt_us;
        c->rtt_measured = true;
        client_step(s, c, CE_VIA_PROXY);
        SLOG(s, LL_INFO, "  for client%s %08X", dup ? "+" : "", id);
    }
}

/*
 * A proxy registers clients again after the announce phase: their REG_CONF
 * was lost, so the proxy cannot give them keys (spec §3.4: it waits for the
 * server's REG_CONF). The clients are in the session already: confirm them
 * again rather than leave them stranded (5.0.1 ignores such a REGISTER).
 */
static void reconfirm(struct sender *s, struct sdest *p, const struct wire_ids *ids)
{
    size_t n = 0;
    for (size_t i = 0; i < ids->n; i++) {
        struct sdest *c = dest_of(s, wire_ids_get(ids, i));
        if (c != NULL && c->proxy == (uint32_t)(p - s->dests) + 1 && c->state != D_LOST &&
            c->state != D_ABORT) {
            c->conf_sent = false;
            n++;
        }
    }
    if (n > 0) {
        SLOG(s, LL_VERBOSE, "confirming %zu client(s) of proxy %08X again", n, p->id);
        job_regconf_again(s);
    }
}

static void register_one(struct sender *s, struct sdest *d, const struct addr *from,
                         const struct wire_register *r)
{
    if (r->ids.n > 0 && !d->isproxy) {
        /* spec §2.1 -j: a proxy of a closed group must be listed as one. */
        if (!s->open_group) {
            SLOG(s, LL_WARN, "rejecting REGISTER from %08X: client list but not a proxy (-j)",
                 d->id);
            job_abort(s, d->id, 0, "specified multiple clients but not a proxy", from);
            client_step_why(s, d, CE_DROP, "listed clients but is not a proxy (-j)");
            return;
        }
        dest_make_proxy(s, d);
    }
    if (s->phase != SP_ANNOUNCE) {
        SLOG(s, LL_VERBOSE, "received REGISTER+ from %08X", d->id);
        if (d->isproxy && s->keys != NULL && r->ids.n > 0)
            reconfirm(s, d, &r->ids);
        return;
    }
    /* The first REGISTER's ECDH key is the client's for the session. */
    if (s->keys != NULL && d->keys == NULL &&
        (d->keys = register_keys(s, d->id, d->listed ? &d->pk_over : NULL, r)) == NULL)
        return;
    bool dup = d->registered;
    sfec_register(s, d, r);
    d->rtt_us = grtt_rtt_sample(s_wall(s, s->now), r->tstamp);
    d->rtt_measured = true;
    if (d->rtt_us > s->rtt_peak_us)
        s->rtt_peak_us = d->rtt_us; /* the announce phase's quick resend (session.c) */
    d->registered = true;
    client_step(s, d, CE_REGISTER); /* KEYINFO next; with -c after CLIENT_KEY */
    SLOG(s, LL_INFO, "received REGISTER%s from %s %08X (rtt %.6f)", dup && !d->isproxy ? "+" : "",
         d->isproxy ? "proxy" : "client", d->id, (double)d->rtt_us / 1e6);
    if (r->ids.n > 0)
        proxy_register_clients(s, (size_t)(d - s->dests), &r->ids, from);
}

SENDER_HANDLER(reg_register)
{
    const struct wire_register *r = &m->u.reg;
    if (s->phase != SP_ANNOUNCE) {
        /* Late, after FILEINFO; in the data phase only a proxy's (reconfirm()). */
        if (s->phase == SP_DATA && (!d->isproxy || d_error(d)))
            SLOG(s, LL_PROTO, "received invalid message REGISTER from %08X", d->id);
        else
            register_one(s, d, from, r);
        return;
    }
    if (d == NULL && (d = register_new(s, h->src_id, from, r)) == NULL)
        return;
    if (client_accepts(d, CE_REGISTER))
        register_one(s, d, from, r);
    else
        SLOG(s, LL_PROTO, "REGISTER from %08X in state %s", d->id,
             fsm_state_name(&sender_client_fsm, d->state));
    session_event(s, SE_HEARD, NULL);
}

/* spec §1.8 client authentication: CLIENT_KEY, checked against the -H/-j fingerprint. */
SENDER_HANDLER(reg_client_key)
{
    const struct wire_client_key *ck = &m->u.client_key;
    if (!client_accepts(d, CE_CLIENT_KEY))
        goto heard;
    if (d->keys == NULL || skeys_peer_keyed(d->keys)) {
        SLOG(s, LL_VERBOSE, "received CLIENT_KEY+ from %08X", d->id);
        goto heard;
    }
    if (!ratelim_take(&s->pk, skeys_cost_verify(ck->keyblob, ck->keylen), s->now)) {
        pk_log(s);
        goto heard;
    }
    /* C_ctx2 takes the message's own bytes (the receive pipeline kept them). */
    int rc = skeys_server_client_key(s->keys, d->keys, s->cur_msg, s->cur_len, d->fp, d->fplen);
    if (rc == CRYPTO_OK) {
        SLOG(s, LL_INFO, "received CLIENT_KEY from client %08X", d->id);
        client_step(s, d, CE_CLIENT_KEY);
    } else {
        SLOG(s, LL_WARN, "rejecting CLIENT_KEY from %08X: %s", d->id, skeys_strerror(rc));
        if (rc == SKEYS_EFP || rc == CRYPTO_ESIG || rc == CRYPTO_EBLOB) {
            /* A client without the required key is refused (-c). */
            job_abort(s, d->id, 0, "Client authentication failed", from);
            client_step_why(s, d, CE_DROP, "Client authentication failed");
        }
    }
heard:
    session_event(s, SE_HEARD, NULL);
}

SENDER_HANDLER(reg_keyinfo_ack)
{
    const struct wire_keyinfo_ack *a = &m->u.keyinfo_ack;
    if (!client_accepts(d, CE_KEYINFO_ACK)) {
        SLOG(s, LL_PROTO, "KEYINFO_ACK from %08X in state %s", d->id,
             fsm_state_name(&sender_client_fsm, d->state));
    } else if (d->keys == NULL || !skeys_peer_verify(d->keys, a->verify, a->verify_len)) {
        SLOG(s, LL_WARN, "rejecting KEYINFO_ACK from %08X: verify data mismatch", d->id);
    } else {
        SLOG(s, LL_INFO, "received KEYINFO_ACK%s from client %08X", d->state == D_ACTIVE ? "+" : "",
             d->id);
        client_step(s, d, CE_KEYINFO_ACK);
    }
    session_event(s, SE_HEARD, NULL);
}
