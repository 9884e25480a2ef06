/*
 * The proxy engine's public face (proxy/engine/engine.h): configuration,
 * new/free, the receive pipeline (length → header → own echo → session-less
 * messages → session lookup → authentication → dispatch by role and
 * direction, through the tables below), poll / deadline over the sessions'
 * timers, shutdown and stats. proxy_int.h lists the files below it.
 */
#include <stdlib.h>
#include <string.h>

#include "proxy/engine/proxy_int.h"

const char *proxy_role_name(enum proxy_role r)
{
    static const char *const names[] = {"?", "server proxy", "client proxy", "response proxy"};
    return r >= PROXY_SERVER && r <= PROXY_RESPONSE ? names[r] : "?";
}

void proxy_config_defaults(struct proxy_config *c)
{
    memset(c, 0, sizeof(*c));
    c->client_port = UFTP_PORT;
    c->hb_interval_us = 20000000u;
    c->max_sessions = PROXY_MAX_SESSIONS;
    c->max_clients = PROXY_MAX_CLIENTS;
    c->max_pending = PROXY_MAX_PENDING;
    c->queue_bytes = PROXY_QUEUE_DEF;
    c->pk_budget_us = 500000u;
    c->unconfirmed_us = CLAIMS_UNCONFIRMED_DEF_US;
    c->liveness_us = PROXY_LIVENESS_DEF_US;
    c->announce_window_us = (uint64_t)FRESH_WINDOW_DEF_S * 1000000u;
}

static int bad(const struct proxy_env *e, const char *what)
{
    ELOG(&e->log, LL_WARN, "proxy: invalid configuration: %s", what);
    return ENG_EINVAL;
}

static int check_config(const struct proxy_config *c, const struct proxy_env *e)
{
    if (e->rng == NULL)
        return bad(e, "an rng callback is required");
    if (c->role != PROXY_SERVER && c->role != PROXY_CLIENT && c->role != PROXY_RESPONSE)
        return bad(e, "exactly one of -s, -c, -r is required");
    if (c->proxy_id == 0 || c->proxy_id == UINT32_MAX)
        return bad(e, "proxy ID (-U)");
    if (c->key == NULL || !crypto_key_has_private(c->key))
        return bad(e, "a private signing key (-k) is required");
    if (c->role == PROXY_SERVER) {
        if (!addr_is_set(&c->down) && c->down_fplen == 0)
            return bad(e, "a server proxy needs -s host or -s fp=FINGERPRINT");
        if (c->down_fplen > PROXY_FP_MAX)
            return bad(e, "fingerprint too long");
    }
    if (c->npub > 0 && c->pub_addrs == NULL)
        return bad(e, "public address array missing");
    for (size_t i = 0; i < c->npub; i++)
        if (!addr_is_multicast(&c->pub_addrs[i]))
            return bad(e, "public addresses (-M) must be multicast");
    if (c->nserver > PROXY_MAX_LIST || (c->nserver > 0 && c->servers == NULL))
        return bad(e, "server list (-S): at most 100");
    if (c->nclient > PROXY_MAX_LIST || (c->nclient > 0 && c->clients == NULL))
        return bad(e, "client list (-C): at most 100");
    if (c->nhb > PROXY_MAX_LIST || (c->nhb > 0 && c->hb_hosts == NULL))
        return bad(e, "heartbeat hosts (-H): at most 100");
    if (c->nhb > 0 && (c->hb_interval_us < 1000000u || c->hb_interval_us > 3600000000u))
        return bad(e, "heartbeat interval (-h) must be 1..3600 s");
    if (c->max_sessions < 1 || c->max_sessions > PROXY_MAX_SESSIONS)
        return bad(e, "max sessions must be 1..100");
    if (c->max_clients < 1 || c->max_clients > PROXY_MAX_CLIENTS)
        return bad(e, "max clients must be 1..1000");
    if (c->max_pending < 1 || c->max_pending > PROXY_MAX_PENDING)
        return bad(e, "max pending aggregates must be 1..10");
    if (c->queue_bytes < 65536)
        return bad(e, "queue must be at least 64 KiB");
    if (c->unconfirmed_us < CLAIMS_EXPIRY_MIN_US)
        return bad(e, "the unconfirmed timeout must be at least 1 s");
    if (c->liveness_us < CLAIMS_EXPIRY_MIN_US || c->liveness_us > 3600000000u)
        return bad(e, "the liveness timeout must be 1..3600 s");
    if (c->nself > 0 && c->self == NULL)
        return bad(e, "own address array missing");
    if (c->ssm && c->role != PROXY_CLIENT) {
        bool any = false;
        for (size_t i = 0; i < c->nserver; i++)
            any |= addr_is_set(&c->servers[i].addr);
        if (!any)
            return bad(e, "SSM (-o) needs server addresses (-S)");
    }
    return 0;
}

int proxy_new(struct proxy **out, const struct proxy_config *cfg, const struct proxy_env *env)
{
    /* How each family's aggregates go upstream (aggq.c calls them through p). */
    static agg_flusher *const flushers[] = {[REGISTER] = p_reg_flush,
                                            [FILEINFO_ACK] = p_xfer_flush_fileinfo_ack,
                                            [STATUS] = p_xfer_flush_status,
                                            [COMPLETE] = p_complete_flush};
    *out = NULL;
    int rc = check_config(cfg, env);
    if (rc < 0)
        return rc;
    struct proxy *p = calloc(1, sizeof(*p));
    if (p == NULL)
        return ENG_ENOMEM;
    p->cfg = *cfg;
    p->env = *env;
    p->down = cfg->down;
    p->flushers = flushers;
    p->nflushers = sizeof(flushers) / sizeof(flushers[0]);
    p->sess = calloc(cfg->max_sessions, sizeof(*p->sess));
    p->capmem = cfg->max_sessions + cfg->npub * (cfg->ssm ? cfg->nserver + 1 : 1) + 1;
    p->mem = calloc(p->capmem, sizeof(*p->mem));
    if (p->sess == NULL || p->mem == NULL ||
        pq_init(&p->q, cfg->queue_bytes, 2 * p->capmem + 2) < 0 ||
        hb_init(&p->hb, cfg->hb_hosts, cfg->nhb, cfg->hb_interval_us) < 0) {
        proxy_free(p);
        return ENG_ENOMEM;
    }
    keywork_init(&p->pk, cfg->pk_budget_us);
    ratelim_init(&p->strays, AMP_STRAY_PER_S, AMP_STRAY_PER_S);
    fresh_init(&p->fresh, cfg->announce_window_us);
    if (p->env.rng(p->env.ctx, &p->amp_seed, sizeof(p->amp_seed)) < 0 ||
        (cfg->role == PROXY_SERVER && cfg->down_fplen > 0 && (p->nonce = p_hb_nonce(p)) == 0)) {
        proxy_free(p);
        return ENG_ERNG;
    }
    *out = p;
    return ENG_OK;
}

static void start(struct proxy *p)
{
    p->started = true;
    /* spec §2.3 -M: server and response proxies listen on the public groups. */
    if (p->cfg.role == PROXY_CLIENT)
        return;
    for (size_t i = 0; i < p->cfg.npub; i++) {
        if (!p->cfg.ssm) {
            p_member(p, true, &p->cfg.pub_addrs[i], NULL);
            continue;
        }
        for (size_t k = 0; k < p->cfg.nserver; k++) {
            const struct addr *src = &p->cfg.servers[k].addr;
            if (addr_is_set(src) && addr_family(src) == addr_family(&p->cfg.pub_addrs[i]))
                p_member(p, true, &p->cfg.pub_addrs[i], src);
        }
    }
}

/* ------------------------------------------------------------ dispatch */

static PROXY_HANDLER(ignore)
{
    (void)p, (void)in;
}

static PROXY_HANDLER(server_only)
{
    p_drop(p, in->from, "server message from a client");
}

/* 4. Messages of no session (any role). PROXY_KEY is for clients (another proxy's). */
static proxy_handler *const no_session[] = {[HB_REQ] = p_hb_req_recv,
                                            [HB_RESP] = p_hb_resp_recv,
                                            [KEY_REQ] = p_reg_key_req,
                                            [PROXY_KEY] = p_stack_proxy_key};
/* 6. A client or response proxy: from the session's server; the rest goes to the clients. */
static proxy_handler *const from_server_tab[] = {[KEYINFO] = p_reg_keyinfo,
                                                 [REG_CONF] = p_reg_reg_conf,
                                                 [FILEINFO] = p_reg_fileinfo,
                                                 [ABORT] = p_abort_from_server};
/* ... and from its clients; anything else goes upstream as ours (p_fwd_up). */
static proxy_handler *const from_client_tab[] = {
    [REGISTER] = p_reg_register,       [CLIENT_KEY] = p_reg_client_key,
    [KEYINFO_ACK] = p_reg_keyinfo_ack, [FILEINFO_ACK] = p_xfer_fileinfo_ack,
    [STATUS] = p_xfer_status,          [COMPLETE] = p_complete_recv,
    [ABORT] = p_abort_from_client,     [KEYINFO] = server_only,
    [REG_CONF] = server_only,          [FILEINFO] = server_only,
    [FILESEG] = server_only,           [DONE] = server_only,
    [DONE_CONF] = server_only,         [CONG_CTRL] = server_only};
/* ... and from a downstream proxy (cfg.downs; spec §3.5). */
static PROXY_HANDLER(down_other);
static proxy_handler *const from_down_tab[] = {[REGISTER] = p_stack_register,
                                               [CLIENT_KEY] = p_stack_client_key,
                                               [KEYINFO_ACK] = p_stack_keyinfo_ack,
                                               [FILEINFO_ACK] = p_stack_fileinfo_ack,
                                               [STATUS] = p_stack_status,
                                               [COMPLETE] = p_stack_complete,
                                               [ABORT] = p_stack_abort,
                                               /* its own, to its clients on a shared group */
                                               [KEYINFO] = ignore};
/* ... and, at a lower proxy of an encrypted session, from our upstream proxy (spec §3.5). */
static PROXY_HANDLER(upper_other);
static proxy_handler *const from_upper_tab[] = {[KEYINFO] = p_reg_keyinfo};
static PROXY_HANDLER(upper_other)
{
    p_drop(p, in->from, "unexpected message from our upstream proxy");
}
static PROXY_HANDLER(down_other)
{
    p_drop(p, in->from, "unexpected message from a downstream proxy");
}
/* What a client of an encrypted session sends ENCRYPTED only (spec §1.4). */
#define SEALED_ONLY                                                                                \
    (1u << CLIENT_KEY | 1u << KEYINFO_ACK | 1u << FILEINFO_ACK | 1u << STATUS | 1u << COMPLETE)

/* The handler of func in tab, or dflt. */
#define HANDLER(tab, func, dflt)                                                                   \
    ((func) < sizeof(tab) / sizeof(tab[0]) && (tab)[func] != NULL ? (tab)[func] : (dflt))

/* ------------------------------------------------------------ receive */

/* A cleartext datagram into in->m; false when it does not decode (dropped). */
static bool decode(struct proxy *p, struct pmsg *in)
{
    struct wire_datagram d;
    ssize_t n = wire_datagram_decode(&d, in->pkt, in->len);
    if (n < 0) {
        char ab[ADDR_STRLEN];
        p->st.dropped++;
        p->st.malformed++;
        ELOG(&p->env.log, LL_PROTO, "invalid %s from %s: %s", wire_func_name(in->h->func),
             addr_str(in->from, ab), wire_strerror((int)n));
        return false;
    }
    in->m = d.msg;
    in->msg = in->pkt + UFTP_HDR_LEN;
    in->mlen = in->len - UFTP_HDR_LEN;
    return true;
}

/* A server proxy: tunnelled both ways by direction (fwd.c). */
static void tunnel_recv(struct proxy *p, struct pmsg *in)
{
    const struct uftp_hdr *h = in->h;
    if (!addr_is_set(&p->down)) {
        /* spec §3.1: nothing but heartbeats until a downstream proved itself. */
        char ab[ADDR_STRLEN];
        p_refuse(p, "dropping %s from %s: no downstream proxy has authenticated yet",
                 wire_func_name(h->func), addr_str(in->from, ab));
        return;
    }
    struct psession *s = p_find(p, h->group_id, h->group_inst);
    if (s == NULL) {
        if (h->func == ANNOUNCE && decode(p, in))
            p_fwd_open(p, NULL, NULL, in);
        else if (h->func != ANNOUNCE)
            p_drop(p, in->from, "no such session");
        return;
    }
    if (h->version != s->version) {
        p_drop(p, in->from, "version differs from the session's");
        return;
    }
    p_heard(p, s, in->len);
    if (addr_equal(in->from, &s->up))
        p_fwd_from_up(p, s, NULL, in);
    else if (h->func == ANNOUNCE)
        p_drop(p, in->from, "ANNOUNCE of a known session from elsewhere");
    else
        p_fwd_from_down(p, s, NULL, in);
}

/*
 * The encrypted server messages a proxy acts on: ABORT, the only one of
 * exactly its size, and, while clients wait for their REG_CONF, FILEINFO
 * (an implicit one). Nothing else (FILESEG above all) is decrypted. Opened
 * in scratch: the datagram went to the clients as it came.
 */
static bool open_server(struct proxy *p, struct psession *s, struct pmsg *in)
{
    if (!s->encrypted || !keys_keyed(s->k) ||
        (in->len != SKEYS_MSG_OFF + WIRE_ABORT_LEN + AEAD_TAG_LEN && s->ccnt[PC_REGISTERED] == 0))
        return false;
    memcpy(p->scratch, in->pkt, in->len);
    return keys_open_server(s->k, p->scratch, in->len, &in->msg, &in->mlen) == CRYPTO_OK &&
           wire_msg_decode(&in->m, s->version, in->msg, in->mlen) > 0;
}

static void from_server(struct proxy *p, struct psession *s, struct pmsg *in)
{
    if (in->h->src_id != s->server_id) {
        p_drop(p, in->from, "source ID differs from the session's server");
        return;
    }
    /* Issue 14: a cleartext session's server running it is all the confirmation there is. */
    if (!s->encrypted)
        s->confirmed = true;
    p_take_grtt(s, in->h);
    p_alive(p, s);
    if (in->h->func == ENCRYPTED) {
        p_fwd_down(p, s, NULL, in);
        if (!open_server(p, s, in))
            return;
        in->sealed = true;
    } else if (!decode(p, in)) {
        return;
    }
    HANDLER(from_server_tab, in->m.func, in->sealed ? ignore : p_fwd_down)(p, s, NULL, in);
}

/*
 * An ENCRYPTED datagram from a peer with keys k (a client, or a downstream
 * proxy: who names it in the log), opened in place under its handshake key
 * when hs, and decoded (spec §1.8); false when dropped.
 */
static bool open_peer(struct proxy *p, struct psession *s, struct kpeer *k, bool hs,
                      const char *who, uint32_t id, struct pmsg *in, bool *under_hs)
{
    int rc =
        keys_peer_open(s->k, k, hs, in->pkt, in->len, p->scratch, &in->msg, &in->mlen, under_hs);
    if (rc != CRYPTO_OK) {
        PLOG(p, s, LL_PROTO, "message from %s%08X rejected: %s", who, id, keys_strerror(rc));
        p->st.dropped++;
        p->st.auth_failed++;
        return false;
    }
    ssize_t n = wire_msg_decode(&in->m, s->version, in->msg, in->mlen);
    if (n < 0 || (*under_hs && in->m.func != CLIENT_KEY) || in->m.func == ANNOUNCE) {
        p->st.malformed++;
        p_drop(p, in->from, n < 0 ? wire_strerror((int)n) : "unexpected message type");
        return false;
    }
    in->sealed = true;
    return true;
}

/* A client's ENCRYPTED datagram, opened in place (spec §1.8); false when dropped. */
static bool authenticate(struct proxy *p, struct psession *s, struct pclient *c, struct pmsg *in)
{
    if (!s->encrypted || c == NULL || c->k == NULL) {
        p_drop(p, in->from, "encrypted, no keys for this sender");
        return false;
    }
    bool hs = keys_client_auth(s->k) && !keys_peer_has_app(c->k), under_hs = false;
    if (!open_peer(p, s, c->k, hs, "", c->id, in, &under_hs))
        return false;
    if (!under_hs)
        p_reg_proven(p, s, c, in);
    return true;
}

/*
 * A downstream proxy (spec §3.5). Encrypted (v5): its ENCRYPTED datagrams
 * open under its handshake key (its CLIENT_KEY) or its application key;
 * only REGISTER and ABORT come in clear.
 */
static void from_down(struct proxy *p, struct psession *s, struct pmsg *in)
{
    const struct uftp_hdr *h = in->h;
    if (s->encrypted && s->version != UFTP_VER5) {
        p_drop(p, in->from, "a downstream proxy in an encrypted v4 session");
        return;
    }
    if (h->func == ENCRYPTED) {
        struct pdown *d = s->encrypted ? p_down_of(s, h->src_id) : NULL;
        if (d == NULL || d->k == NULL || d->state == PD_REFUSED) {
            p_drop(p, in->from, "encrypted, no keys for this downstream proxy");
            return;
        }
        bool under_hs = false;
        if (!open_peer(p, s, d->k, !keys_peer_has_app(d->k), "downstream proxy ", d->id, in,
                       &under_hs))
            return;
        if (!under_hs && in->m.func != KEYINFO_ACK && d->state == PD_AUTHED)
            p_down_step(p, s, d, DE_PROVEN, NULL); /* its KEYINFO_ACK was lost */
    } else {
        if (s->encrypted && h->func < 32 && (SEALED_ONLY & 1u << h->func)) {
            PLOG(p, s, LL_PROTO, "rejecting cleartext %s from downstream proxy %08X",
                 wire_func_name(h->func), h->src_id);
            p->st.dropped++;
            return;
        }
        if (!decode(p, in))
            return;
    }
    /* Encrypted: its lists count once it proved its key (client.c); ABORT always. */
    p_alive(p, s);
    HANDLER(from_down_tab, in->m.func, down_other)(p, s, NULL, in);
}

/* Our upstream proxy's KEYINFO (spec §3.5), signed by it; nothing else comes from it. */
static void from_upper(struct proxy *p, struct psession *s, struct pmsg *in)
{
    if (in->h->func == ENCRYPTED || !decode(p, in)) {
        if (in->h->func == ENCRYPTED)
            p_drop(p, in->from, "encrypted message from our upstream proxy");
        return;
    }
    HANDLER(from_upper_tab, in->m.func, upper_other)(p, s, NULL, in);
}

static void from_client(struct proxy *p, struct psession *s, struct pmsg *in)
{
    const struct uftp_hdr *h = in->h;
    if (p_down_entry(p, h->src_id) != NULL) {
        from_down(p, s, in);
        return;
    }
    struct pclient *c = p_client_of(s, h->src_id);
    if (h->func == ENCRYPTED) {
        if (!authenticate(p, s, c, in))
            return;
    } else {
        /* spec §1.9: a v4 CLIENT_KEY travels in clear. */
        if (s->encrypted && c != NULL && h->func < 32 && (SEALED_ONLY & 1u << h->func) &&
            !(h->func == CLIENT_KEY && s->version == UFTP_VER4)) {
            PLOG(p, s, LL_PROTO, "rejecting cleartext %s from %08X", wire_func_name(h->func),
                 c->id);
            p->st.dropped++;
            return;
        }
        if (!decode(p, in))
            return;
    }
    if (c == NULL && in->m.func != REGISTER) {
        p_drop(p, in->from, "not a registered client of this session");
        return;
    }
    p_alive(p, s);
    HANDLER(from_client_tab, in->m.func, p_fwd_up)(p, s, c, in);
}

/* A client or response proxy: ANNOUNCE (announce.c), or by direction. */
static void session_recv(struct proxy *p, struct pmsg *in)
{
    const struct uftp_hdr *h = in->h;
    struct psession *s = p_find(p, h->group_id, h->group_inst);
    if (h->func == ANNOUNCE) {
        if (s != NULL || decode(p, in))
            p_reg_announce(p, s, NULL, in);
        return;
    }
    if (s == NULL)
        return; /* not ours */
    if (h->version != s->version) {
        p_drop(p, in->from, "version differs from the session's");
        return;
    }
    p_heard(p, s, in->len);
    if (addr_equal(in->from, &s->up))
        from_server(p, s, in);
    else if (s->encrypted && s->lower && h->src_id == p->cfg.up_proxy &&
             addr_equal(in->from, &s->via))
        from_upper(p, s, in);
    else
        from_client(p, s, in);
}

static bool from_self(const struct proxy *p, const struct addr *from)
{
    for (size_t i = 0; i < p->cfg.nself; i++)
        if (addr_equal(&p->cfg.self[i], from))
            return true;
    return false;
}

void proxy_recv(struct proxy *p, const struct addr *from, const struct addr *to, uint8_t *pkt,
                size_t len, uint8_t tos, uint64_t now_us)
{
    (void)to;
    (void)tos;
    p->now = now_us;
    p->charge = NULL;
    if (p->shutdown)
        return;
    p->dirty = true;
    /* 1. length */
    if (len < UFTP_HDR_LEN + 4 || len > UFTP_MAX_DATAGRAM) {
        p->st.malformed++;
        p_drop(p, from, "bad length");
        return;
    }
    /* 2. header: proxies take v5 and v4 (spec §1.1) */
    struct uftp_hdr h;
    if (uftp_hdr_decode(&h, pkt, len) < 0) {
        p->st.malformed++;
        p_drop(p, from, "not UFTP or unknown version");
        return;
    }
    /* 3. our own multicast, looped back */
    if (from_self(p, from))
        return;
    /* Issue 14: credit for answers that belong to no session (HB_RESP), by source. */
    amp_rx(amp_table_get(&p->amps, p_src_key(p, from)), len);
    struct pmsg in = {.from = from, .h = &h, .pkt = pkt, .len = len};
    proxy_handler *fn = HANDLER(no_session, h.func, NULL);
    if (fn != NULL)
        fn(p, NULL, NULL, &in);
    else if (p->cfg.role == PROXY_SERVER)
        tunnel_recv(p, &in);
    else
        session_recv(p, &in);
    p->charge = NULL;
}

/* ------------------------------------------------------------ poll */

static void run_timers(struct proxy *p)
{
    p->charge = NULL;
    p_hb_emit(p);
    uint64_t next = hb_deadline(&p->hb);
    for (unsigned i = 0; i < p->nslots; i++) {
        struct psession *s = &p->sess[i];
        if (s->phase == PP_FREE)
            continue;
        p->charge = &s->amp;
        p_session_tick(p, s);
        p->charge = NULL;
        uint64_t d = p_session_deadline(p, s);
        if (d < next)
            next = d;
    }
    p->next_timer = next;
    p->dirty = false;
}

int proxy_poll(struct proxy *p, uint64_t now_us, struct eng_out *out)
{
    int rc = eng_out_check(out);
    if (rc < 0)
        return rc;
    eng_out_reset(out);
    p->now = now_us;
    if (!p->started)
        start(p);
    if (p->done_reported)
        return ENG_NONE;
    if (p->dirty || now_us >= p->next_timer)
        run_timers(p);
    int k = pq_pop(&p->q, out);
    if (k != ENG_NONE)
        return k;
    if (p->shutdown) {
        if (p->nmem > 0) {
            /* Every JOIN gets its LEAVE, the public groups last. */
            while (p->nmem > 0) {
                struct member *m = &p->mem[--p->nmem];
                pq_push_op(&p->q, false, &m->group, &m->source);
            }
            return proxy_poll(p, now_us, out);
        }
        p->done_reported = true;
        out->kind = ENG_DONE;
        out->exit_code = PROXY_EXIT_OK;
        return ENG_DONE;
    }
    return ENG_NONE;
}

uint64_t proxy_deadline(const struct proxy *p)
{
    if (p->done_reported)
        return ENG_NEVER;
    if (!p->started || p->dirty || p->shutdown || !pq_empty(&p->q))
        return 0;
    return p->next_timer;
}

void proxy_shutdown(struct proxy *p, uint64_t now_us)
{
    if (p->shutdown)
        return;
    p->now = now_us;
    p->charge = NULL; /* our own aborts */
    for (unsigned i = 0; i < p->nslots; i++)
        if (p->sess[i].phase != PP_FREE)
            p_session_event(p, &p->sess[i], SE_SHUTDOWN, NULL);
    p->shutdown = true;
}

void proxy_set_lists(struct proxy *p, const struct proxy_server *servers, size_t nserver,
                     const struct proxy_client *clients, size_t nclient)
{
    p->cfg.servers = servers;
    p->cfg.nserver = nserver > PROXY_MAX_LIST ? PROXY_MAX_LIST : nserver;
    p->cfg.clients = clients;
    p->cfg.nclient = nclient > PROXY_MAX_LIST ? PROXY_MAX_LIST : nclient;
}

void proxy_stats(const struct proxy *p, struct proxy_stats *st)
{
    *st = p->st;
    st->down = p->down;
    st->clients = 0;
    if (p->sess != NULL)
        for (unsigned i = 0; i < p->nslots; i++)
            if (p->sess[i].phase != PP_FREE)
                st->clients += p->sess[i].ncl;
}

void proxy_free(struct proxy *p)
{
    if (p == NULL)
        return;
    if (p->sess != NULL)
        for (unsigned i = 0; i < p->cfg.max_sessions; i++)
            if (p->sess[i].phase != PP_FREE)
                p_slot_release(p, &p->sess[i]);
    free(p->sess);
    free(p->mem);
    pq_free(&p->q);
    hb_free(&p->hb);
    free(p);
}
