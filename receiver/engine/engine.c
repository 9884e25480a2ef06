/* The receiver engine's public face (engine.h): configuration, the receive pipeline
 * (length → header → session → authentication and sequence window → dispatch to the
 * session's machine), poll, deadline, shutdown. recv_int.h lists the files below. */
#include "receiver/engine/recv_int.h"

void receiver_config_defaults(struct receiver_config *c)
{
    memset(c, 0, sizeof(*c));
    c->max_sessions = RECEIVER_MAX_SESSIONS;
    c->pk_budget_us = RECEIVER_PK_BUDGET_US;
    c->hb_interval_us = 20000000u;
    c->unconfirmed_us = CLAIMS_UNCONFIRMED_DEF_US;
    c->liveness_us = RECEIVER_LIVENESS_DEF_US;
    c->announce_window_us = (uint64_t)FRESH_WINDOW_DEF_S * 1000000u;
    c->link_policy = FILE_LINK_BENEATH;
}

static int bad(const struct receiver_env *e, const char *what)
{
    ELOG(&e->log, LL_WARN, "receiver: invalid configuration: %s", what);
    return ENG_EINVAL;
}

static int check_config(const struct receiver_config *c, const struct receiver_env *e)
{
    const struct receiver_storage *s = &e->storage;
    if (c->nhb > HB_MAX_HOSTS || (c->nhb > 0 && c->hb_hosts == NULL))
        return bad(e, "heartbeat hosts (-H): at most 100");
    if (c->nhb > 0 && (c->hb_interval_us < 1000000u || c->hb_interval_us > 3600000000u))
        return bad(e, "heartbeat interval (-h) must be 1..3600 s");
    if (e->rng == NULL || s->open == NULL || s->write == NULL || s->close == NULL ||
        s->mkdir == NULL || s->symlink == NULL || s->remove == NULL || s->free_space == NULL ||
        s->stat == NULL)
        return bad(e, "rng and storage callbacks are required");
    if (c->client_id == 0 || c->client_id == UINT32_MAX)
        return bad(e, "client ID (-U)");
    if (c->ndest == 0 || c->ndest > FILE_MAX_DIRS || c->dests == NULL)
        return bad(e, "1 to 10 destination dirs (-D) are required");
    for (size_t i = 0; i < c->ndest; i++)
        if (c->dests[i] == NULL || c->dests[i][0] != '/')
            return bad(e, "destination dirs (-D) must be absolute");
    if (c->temp_dir && c->ndest > 1)
        return bad(e, "a temp dir (-T) allows only one destination dir");
    if (c->max_sessions < 1 || c->max_sessions > RECEIVER_MAX_SESSIONS)
        return bad(e, "max sessions must be 1..100");
    if (c->unconfirmed_us < CLAIMS_EXPIRY_MIN_US)
        return bad(e, "the unconfirmed timeout must be at least 1 s");
    if (c->liveness_us < CLAIMS_EXPIRY_MIN_US || c->liveness_us > 3600000000u)
        return bad(e, "the liveness timeout must be 1..3600 s");
    if (c->npub > 0 && c->pub_addrs == NULL)
        return bad(e, "public address array missing");
    for (size_t i = 0; i < c->npub; i++)
        if (!addr_is_multicast(&c->pub_addrs[i]))
            return bad(e, "public addresses (-M) must be multicast");
    if (c->nserver > 0 && c->servers == NULL)
        return bad(e, "server array missing");
    if (c->ssm) {
        bool any = false;
        for (size_t i = 0; i < c->nserver; i++)
            any |= addr_is_set(&c->servers[i].addr);
        if (!any)
            return bad(e, "SSM (-o) needs server addresses (-S)");
    }
    return 0;
}

int receiver_new(struct receiver **out, const struct receiver_config *cfg,
                 const struct receiver_env *env)
{
    *out = NULL;
    int rc = check_config(cfg, env);
    if (rc < 0)
        return rc;
    struct receiver *r = calloc(1, sizeof(*r));
    if (r == NULL)
        return ENG_ENOMEM;
    r->cfg = *cfg;
    r->env = *env;
    r->sess = calloc(cfg->max_sessions, sizeof(*r->sess));
    /* Every session holds at most one membership; the public joins need the rest. */
    r->capmem = cfg->max_sessions + cfg->npub * (cfg->ssm ? cfg->nserver : 1) + 1;
    r->mem = calloc(r->capmem, sizeof(*r->mem));
    r->ops_cap = 2 * r->capmem + 1;
    r->ops = calloc(r->ops_cap, sizeof(*r->ops));
    if (r->sess == NULL || r->mem == NULL || r->ops == NULL ||
        hb_init(&r->hb, cfg->hb_hosts, cfg->nhb, cfg->hb_interval_us) < 0) {
        receiver_free(r);
        return ENG_ENOMEM;
    }
    keywork_init(&r->pk, cfg->pk_budget_us);
    ratelim_init(&r->strays, AMP_STRAY_PER_S, AMP_STRAY_PER_S);
    ratelim_init(&r->refuse_log, 5, 20);
    fresh_init(&r->fresh, cfg->announce_window_us);
    if (env->rng(env->ctx, &r->amp_seed, sizeof(r->amp_seed)) < 0) {
        receiver_free(r);
        return ENG_ERNG;
    }
    *out = r;
    return ENG_OK;
}

/* spec §2.2 -M / -o: the public addresses, per server with -o. */
static void start(struct receiver *r)
{
    r->started = true;
    for (size_t i = 0; i < r->cfg.npub; i++) {
        if (!r->cfg.ssm) {
            slot_member(r, true, &r->cfg.pub_addrs[i], NULL);
            continue;
        }
        for (size_t k = 0; k < r->cfg.nserver; k++) {
            const struct addr *src = &r->cfg.servers[k].addr;
            if (addr_is_set(src) && addr_family(src) == addr_family(&r->cfg.pub_addrs[i]))
                slot_member(r, true, &r->cfg.pub_addrs[i], src);
        }
    }
}

/* spec §1.4 "Cleartext rejection" for an encrypted session: FILEINFO,
 * FILESEG, DONE, DONE_CONF and CONG_CTRL only ever come encrypted, ABORT
 * too once we hold keys. ANNOUNCE and KEYINFO are signed (checked by their
 * handlers); REG_CONF is only for clients behind proxies. */
static bool cleartext_ok(const struct rsession *s, uint8_t func)
{
    return func == ANNOUNCE || func == KEYINFO || func == REG_CONF || func == PROXY_KEY ||
           (func == ABORT && !skeys_client_keyed(s->keys));
}

/* Decrypts in place (spec §1.8): the server application key, replay window first. */
static bool authenticate(struct receiver *r, struct rsession *s, const struct addr *from,
                         uint8_t *pkt, size_t len, struct wire_msg *m)
{
    if (s->keys == NULL || !skeys_client_keyed(s->keys)) {
        r->st.nokeys++;
        slot_drop(r, from, s->keys ? "encrypted, keys not established yet" : "encrypted, no keys");
        return false;
    }
    const uint8_t *msg;
    size_t mlen;
    int rc = skeys_client_open(s->keys, pkt, len, &msg, &mlen);
    if (rc != CRYPTO_OK) {
        slot_auth_failed(r, rc);
        RLOG(r, s, LL_PROTO, "rejecting message from %08X: %s", s->server_id, skeys_strerror(rc));
        if (rc == SKEYS_ELIMIT)
            rsess_event(r, s, RE_QUIT, "Too many forged packets: server key retired");
        return false;
    }
    ssize_t n = wire_msg_decode(m, s->version, msg, mlen);
    if (n < 0 || m->func == ANNOUNCE || m->func == REGISTER || m->func == KEYINFO) {
        r->st.dropped++;
        r->st.malformed++;
        RLOG(r, s, LL_PROTO, "invalid encrypted message: %s",
             n < 0 ? wire_strerror((int)n) : wire_func_name(m->func));
        return false;
    }
    return true;
}

/* The session event of each message the server sends (RE_OTHER: any other). */
static const uint8_t msg_event[256] = {
    [ANNOUNCE] = RE_ANNOUNCE,   [PROXY_KEY] = RE_PROXY_KEY,   [KEYINFO] = RE_KEYINFO,
    [REG_CONF] = RE_REG_CONF,   [FILEINFO] = RE_FILEINFO,     [FILESEG] = RE_FILESEG,
    [DONE] = RE_DONE,           [DONE_CONF] = RE_DONE_CONF,   [ABORT] = RE_ABORT,
    [CONG_CTRL] = RE_CONG_CTRL, [FEC_PARITY] = RE_FEC_PARITY,
};

/* 6. dispatch: a new session's ANNOUNCE is admitted; the session's table does the rest. */
static void dispatch(struct receiver *r, struct rsession *s, struct rmsg *msg, bool authentic,
                     uint8_t tos)
{
    uint8_t func = msg->m->func;
    if (s == NULL) {
        if (func != ANNOUNCE || announce_admit(r, msg) < 0)
            return; /* not ours */
        if (msg->victim != NULL)
            rsess_event(r, msg->victim, RE_EVICT, (void *)&msg->h->src_id);
        rsess_event(r, msg->slot, RE_ANNOUNCE, msg);
        return;
    }
    if (func != ANNOUNCE && func != KEYINFO && func != PROXY_KEY) {
        if (!authentic)
            return; /* REG_CONF in an encrypted session: for clients behind a proxy, ignored */
        slot_grtt(r, s, msg->h->grtt);
    }
    /* TFMCC counts every datagram of the sender (its seq is one counter, spec §1.7); the signed
     * announce-phase messages of an encrypted session too, or they would look lost. */
    rcc_packet(r, s, msg, tos);
    rsess_event(r, s, msg_event[func], msg);
}

void receiver_recv(struct receiver *r, const struct addr *from, const struct addr *to, uint8_t *pkt,
                   size_t len, uint8_t tos, uint64_t now_us)
{
    (void)to;
    if (r->shutdown)
        return;
    r->now = now_us;
    /* 1. length */
    if (len < UFTP_HDR_LEN + 4) {
        r->st.malformed++;
        slot_drop(r, from, "too short");
        return;
    }
    /* 2. header: clients take v5 and v4 (spec §1.1) */
    struct uftp_hdr h;
    if (uftp_hdr_decode(&h, pkt, len) < 0) {
        r->st.malformed++;
        slot_drop(r, from, "not UFTP or unknown version");
        return;
    }
    /* A v4 response proxy's key, answering our KEY_REQ: no session of its own. */
    if (h.version == UFTP_VER4 && h.func == PROXY_KEY) {
        px_recv_key4(r, from, pkt, len);
        return;
    }
    /* Heartbeat answers from the proxies we send heartbeats to (spec §1.8). */
    if (h.func == HB_RESP) {
        px_recv_hb_resp(r, from, pkt, len);
        return;
    }
    if (h.func == HB_REQ)
        return; /* for proxies */
    /* 3. session */
    struct rsession *s = slot_find(r, h.group_id, h.group_inst);
    if (s != NULL && !rsess_live(s)) {
        slot_drop(r, from, "session ending");
        return;
    }
    /* Issue 14: what we may send back is earned by what arrives, for the
     * session or, without one, from the source (core/proto/amp.h). */
    amp_rx(s != NULL ? &s->amp : amp_table_get(&r->amps, slot_src_key(r, from)), len);
    if (s != NULL)
        s->heard_us = now_us;
    if (s != NULL && h.func != ANNOUNCE) {
        if (s->version != h.version) {
            RLOG(r, s, LL_PROTO, "version mismatch");
            r->st.dropped++;
            return;
        }
        if (h.src_id != s->server_id && (s->proxy_id == 0 || h.src_id != s->proxy_id)) {
            RLOG(r, s, LL_PROTO, "source ID %08X mismatch", h.src_id);
            r->st.dropped++;
            return;
        }
    }
    /* 4. authentication */
    struct wire_msg m;
    bool authentic; /* covered by the session's keys (or a cleartext session) */
    if (h.func == ENCRYPTED) {
        if (s == NULL) {
            slot_drop(r, from, "encrypted, no session");
            return;
        }
        if (!authenticate(r, s, from, pkt, len, &m))
            return;
        authentic = true;
    } else {
        struct wire_datagram d;
        ssize_t n = wire_datagram_decode(&d, pkt, len);
        if (n < 0) {
            char ab[ADDR_STRLEN];
            ELOG(&r->env.log, LL_PROTO, "invalid %s from %s: %s", wire_func_name(h.func),
                 addr_str(from, ab), wire_strerror((int)n));
            r->st.dropped++;
            r->st.malformed++;
            return;
        }
        if (s != NULL && s->keys != NULL && !cleartext_ok(s, h.func)) {
            r->st.cleartext++;
            r->st.dropped++;
            RLOG(r, s, LL_PROTO, "rejecting %s: not encrypted", wire_func_name(h.func));
            return;
        }
        m = d.msg;
        /* A cleartext session, or an ABORT before we hold keys (cleartext_ok). */
        authentic = s == NULL || s->keys == NULL || h.func == ABORT;
    }
    /* 5. sequence window (spec §1.6): KEYINFO, ABORT, PROXY_KEY are exempt.
     * In an encrypted session only authenticated packets move it, so a
     * forged seq cannot push the real ones out. */
    if (s != NULL && authentic && m.func != KEYINFO && m.func != ABORT && m.func != PROXY_KEY &&
        m.func != ANNOUNCE) {
        int16_t behind = (int16_t)(uint16_t)(s->max_txseq - h.seq);
        if (behind > RECV_MAXMISORDER && behind <= RECV_SEQ_JUMP && s->stale_run < RECV_STALE_RUN) {
            RLOG(r, s, LL_PROTO, "seq %u out of range, dropping", h.seq);
            s->stale_run++;
            r->st.dropped++;
            return;
        }
        if (behind > RECV_MAXMISORDER)
            RLOG(r, s, LL_VERBOSE, "seq jumped from %u to %u: the sender is far ahead",
                 s->max_txseq, h.seq);
        s->stale_run = 0;
        if (behind < 0 || behind > RECV_MAXMISORDER)
            s->max_txseq = h.seq;
    }
    struct rmsg msg = {.from = from, .h = &h, .m = &m, .pkt = pkt, .len = len};
    dispatch(r, s, &msg, authentic, tos);
}

/* ------------------------------------------------------------ poll */
/* The next datagram of session s, stepping its machine as its replies go out. */
static bool session_output(struct receiver *r, struct rsession *s, struct eng_out *out)
{
    rsess_tick(r, s);
    for (;;) {
        int k = reply_next(r, s, out);
        if (k == REPLY_NAK_END) {
            rsess_event(r, s, RE_NAK_END, NULL);
            continue;
        }
        if (k == REPLY_ECRYPT && rsess_live(s))
            rsess_event(r, s, RE_QUIT, "Encryption failed");
        if (k != REPLY_SENT)
            return false;
        /* Issue 14 item 1: never more than 3 x what the session received. */
        if (amp_tx(&s->amp, out->len, recv_hdr_bytes(&out->dst)))
            return true;
        r->st.amp_held++;
        RLOG(r, s, LL_PROTO, "not sending %s: beyond 3 x what the session received",
             wire_func_name(out->buf[1]));
        /* Nothing but more datagrams from the peer brings credit: the rest
         * of a NAK round is dropped as lost (the server's next DONE asks
         * again), not generated here only to be dropped one by one. */
        s->f.nak_emit = false;
    }
}

int receiver_poll(struct receiver *r, uint64_t now_us, struct eng_out *out)
{
    int rc = eng_out_check(out);
    if (rc < 0)
        return rc;
    eng_out_reset(out);
    r->now = now_us;
    if (!r->started)
        start(r);
    if (r->ops_n > 0) {
        struct rmemop *op = &r->ops[r->ops_head];
        r->ops_head = (r->ops_head + 1) % r->ops_cap;
        r->ops_n--;
        out->kind = op->join ? ENG_JOIN : ENG_LEAVE;
        out->group = op->group;
        out->source = op->source;
        return out->kind;
    }
    if (reply_stray_next(r, out) || px_hb_output(r, out) || px_keyreq_output(r, out))
        return out->kind;
    for (unsigned i = 0; i < r->nslots; i++) {
        struct rsession *s = &r->sess[i];
        if (s->state == R_FREE)
            continue;
        if (session_output(r, s, out))
            return out->kind;
        if (!rsess_live(s) && s->pending == 0) {
            rsess_event(r, s, RE_CLOSE, NULL);
            if (r->ops_n > 0)
                return receiver_poll(r, now_us, out);
        }
    }
    if (r->shutdown && r->st.sessions == 0 && r->nmem > 0) {
        /* Every JOIN gets its LEAVE, the public groups last. */
        while (r->nmem > 0) {
            struct member *m = &r->mem[--r->nmem];
            slot_push_op(r, false, &m->group, &m->source);
        }
        return receiver_poll(r, now_us, out);
    }
    if (r->shutdown && !r->done_reported && r->ops_n == 0 && r->st.sessions == 0) {
        r->done_reported = true;
        out->kind = ENG_DONE;
        out->exit_code = 0;
        return ENG_DONE;
    }
    return ENG_NONE;
}

uint64_t receiver_deadline(const struct receiver *r)
{
    if (!r->started || r->ops_n > 0 || r->stray_n > 0)
        return 0;
    if (r->shutdown)
        return r->done_reported ? ENG_NEVER : 0;
    uint64_t t = hb_deadline(&r->hb);
    if (recv_has_px4(r) && r->px4_dh == NULL && r->keyreq_at < t)
        t = r->keyreq_at;
    for (unsigned i = 0; i < r->nslots; i++) {
        uint64_t d = rsess_deadline(&r->sess[i]);
        if (d < t)
            t = d;
    }
    return t;
}

void receiver_shutdown(struct receiver *r, uint64_t now_us)
{
    if (r->shutdown)
        return;
    r->now = now_us;
    for (unsigned i = 0; i < r->nslots; i++)
        if (rsess_live(&r->sess[i]))
            rsess_event(r, &r->sess[i], RE_SHUTDOWN, NULL);
    r->shutdown = true;
}

int receiver_set_trust(struct receiver *r, const struct receiver_server *servers, size_t nserver,
                       const struct receiver_proxy *proxies, size_t nproxy)
{
    if ((nserver > 0 && servers == NULL) || (nproxy > 0 && proxies == NULL))
        return ENG_EINVAL;
    /* With -o the server list decided the public joins (start()). */
    if (r->cfg.ssm)
        return ENG_EINVAL;
    r->cfg.servers = servers;
    r->cfg.nserver = nserver;
    r->cfg.proxies = proxies;
    r->cfg.nproxy = nproxy;
    return ENG_OK;
}

void receiver_stats(const struct receiver *r, struct receiver_stats *st)
{
    *st = r->st;
}

unsigned receiver_sessions(const struct receiver *r)
{
    return r->st.sessions;
}

void receiver_free(struct receiver *r)
{
    if (r == NULL)
        return;
    free(r->nakbuf);
    for (unsigned i = 0; r->sess != NULL && i < r->cfg.max_sessions; i++) {
        rfile_discard(r, &r->sess[i]); /* open files: RECEIVER_CLOSE_ABORT */
        skeys_client_free(r->sess[i].keys);
    }
    rfec_engine_free(r);
    crypto_key_free(r->own_key);
    crypto_key_free(r->px4_sig);
    crypto_key_free(r->px4_dh);
    hb_free(&r->hb);
    free(r->sess);
    free(r->mem);
    free(r->ops);
    free(r);
}
