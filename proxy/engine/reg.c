/*
 * Sessions and keys at a client or response proxy (spec §1.8 "Proxy
 * re-keying", §3.2-§3.4): the server's ANNOUNCE, whose source becomes the
 * session's upstream, answered by our PROXY_KEY (spec §7.8); a v4
 * response proxy's answer to KEY_REQ (spec §1.9 item 5); the clients'
 * REGISTER (their key exchange with us), CLIENT_KEY and KEYINFO_ACK; the
 * server's KEYINFO (our own keys) and REG_CONF (the clients it confirmed,
 * who then get our KEYINFO); and our REGISTER upstream for the clients (an
 * aggregate, followed by our CLIENT_KEY under client authentication).
 *
 * A client proxy re-multicasts the tunnelled session on its network; a
 * response proxy hears the server's multicast like its clients and joins
 * the private group for it. Where 5.0.1 errs and we do not (spec §6): a
 * full session table is refused without a crash (18); -S is enforced for
 * every session, not only encrypted ones, and -C on REGISTER, not only on
 * CLIENT_KEY (14).
 */
#include <stdlib.h>
#include <string.h>

#include "core/crypto/crypto.h"
#include "core/crypto/skeys.h"
#include "core/fec/fec.h"
#include "proxy/engine/proxy_int.h"

size_t proxy_agg_max_ids(uint16_t blocksize)
{
    /* spec §4: blocksize/4, and never past a datagram the server can read. */
    size_t n = wire_max_ids(blocksize);
    size_t room = (UFTP_MAX_DATAGRAM - UFTP_HDR_LEN - SKEYS_OVERHEAD - 44 - KEYBLOB_EC_MAX) / 4;
    return n < room ? n : room;
}

static size_t max_ids(const struct psession *s)
{
    return proxy_agg_max_ids(s->blocksize);
}

/* An encrypted session's keys (keys.h), after the checks that cost nothing; NULL = refused. */
static struct ksess *session_keys(struct proxy *p, struct pmsg *in, const struct wire_announce *a,
                                  const struct proxy_server *sv)
{
    const struct uftp_hdr *h = in->h;
    char ab[ADDR_STRLEN];
    /* Issue 14 items 3, 9: the checks that cost nothing first, then the budget. */
    uint32_t cost;
    int rc = skeys_announce_check(&a->enc, sv ? sv->fp : NULL, sv ? sv->fplen : 0, &cost);
    if (rc != CRYPTO_OK) {
        p_refuse(p, "refusing encrypted session %08X from server %08X at %s: %s", h->group_id,
                 h->src_id, addr_str(in->from, ab), skeys_strerror(rc));
        return NULL;
    }
    rc =
        fresh_check(&p->fresh, h->src_id, h->group_id, h->group_inst, a->tstamp, p_wall(p, p->now));
    if (rc != FRESH_OK) {
        p->st.stale++;
        p_refuse(p, "refusing encrypted session %08X from server %08X at %s: %s", h->group_id,
                 h->src_id, addr_str(in->from, ab), fresh_strerror(rc));
        return NULL;
    }
    if (!p_pk_budget(p, p_src_key(p, in->from), p_rank(p, h->src_id, in->from),
                     keys_cost_new(&a->enc), "new encrypted session"))
        return NULL;
    struct ksess_params kp = {.group_id = h->group_id,
                              .group_inst = h->group_inst,
                              .server_id = h->src_id,
                              .proxy_id = p->cfg.proxy_id,
                              .sigkey = p->cfg.key,
                              .server_fp = sv ? sv->fp : NULL,
                              .server_fplen = sv ? sv->fplen : 0,
                              .dh4 = p->cfg.dh4,
                              .subst4 = p->cfg.role == PROXY_CLIENT,
                              .sigkeys = p->cfg.keys ? p->cfg.keys : &p->cfg.key,
                              .nsigkeys = p->cfg.keys ? p->cfg.nkeys : 1,
                              .addrlen = (a->flags & FLAG_IPV6) ? 16 : 4};
    memcpy(kp.addr, a->priv_addr, kp.addrlen);
    if (p->env.rng(p->env.ctx, kp.rand2, sizeof(kp.rand2)) < 0) {
        ELOG(&p->env.log, LL_WARN, "rng failed");
        return NULL;
    }
    struct ksess *k = NULL;
    rc = keys_new(&k, &kp, &a->enc, in->pkt, in->len);
    crypto_wipe(kp.rand2, sizeof(kp.rand2));
    if (rc < 0) {
        p_refuse(p, "refusing encrypted session %08X from server %08X at %s: %s", h->group_id,
                 h->src_id, addr_str(in->from, ab), keys_strerror(rc));
        return NULL;
    }
    fresh_note(&p->fresh, h->src_id, h->group_id, h->group_inst, a->tstamp, p_wall(p, p->now));
    return k;
}

static struct psession *new_session(struct proxy *p, struct pmsg *in)
{
    const struct uftp_hdr *h = in->h;
    char ab[ADDR_STRLEN];
    const struct wire_announce *a = &in->m.u.announce;
    /*
     * v4 sessions (spec §1.9): the version travels with every message. An
     * encrypted one is re-keyed by a response proxy with its long-lived
     * ECDH key (keys.h), by a client proxy with the keys it substitutes
     * into the server's ANNOUNCE (keys_announce4).
     */
    if (h->version == UFTP_VER4 && a->has_enc && p->cfg.role == PROXY_RESPONSE &&
        p->cfg.dh4 == NULL) {
        p_refuse(p, "refusing encrypted v4 session %08X from %s: no long-lived ECDH key (-e)",
                 h->group_id, addr_str(in->from, ab));
        return NULL;
    }
    const struct proxy_server *sv = p_server(p, h->src_id);
    if (p->cfg.nserver > 0 && sv == NULL) {
        /* spec §6.14: enforced for every session, not only encrypted ones. */
        p_refuse(p, "refusing session %08X: server %08X at %s is not in the server list (-S)",
                 h->group_id, h->src_id, addr_str(in->from, ab));
        return NULL;
    }
    int fam = (a->flags & FLAG_IPV6) ? ADDR_V6 : ADDR_V4;
    struct addr pub, priv;
    addr_set_ip(&pub, fam, a->pub_addr, p->cfg.client_port);
    addr_set_ip(&priv, fam, a->priv_addr, p->cfg.client_port);
    if (!addr_is_multicast(&pub) || !addr_is_multicast(&priv)) {
        p_refuse(p, "refusing session %08X from %s: unicast mode, no group to %s", h->group_id,
                 addr_str(in->from, ab),
                 p->cfg.role == PROXY_CLIENT ? "multicast to" : "send keys to");
        return NULL;
    }
    if (a->blocksize < UFTP_MIN_BLOCKSIZE || a->blocksize > UFTP_MAX_BLOCKSIZE) {
        p_drop(p, in->from, "block size out of range");
        return NULL;
    }
    /* Issue 14 item 2: no key work for a session that would get no slot. */
    bool evict;
    if (p_slot_pick(p, h, in->from, &evict) == NULL)
        return NULL;
    struct ksess *k = NULL;
    if (a->has_enc && (k = session_keys(p, in, a, sv)) == NULL)
        return NULL;
    struct psession *s = p_session_new(p, in, a);
    if (s == NULL) {
        keys_free(k);
        return NULL;
    }
    s->k = k;
    s->encrypted = k != NULL;
    /* spec §3.5: encrypted v5 too (keyed by the upstream proxy); v4 registers with the server. */
    s->lower = p->cfg.up_proxy != 0 && (!s->encrypted || h->version == UFTP_VER5);
    s->pub = pub;
    s->priv = priv;
    if (agg_init(&s->agg, p->cfg.max_pending, max_ids(s), s->blocksize, p_hold(s)) < 0) {
        p_slot_release(p, s);
        return NULL;
    }
    /* spec §9.1, §9.4: a v5 session offering parity in a code we read: count reports.
     * (A client proxy passes the server's FEC_PARITY down like its data, fwd.c.) */
    if (h->version == UFTP_VER5 && a->has_fec && a->fec.version == WIRE_FEC_VERSION &&
        (a->fec.flags & FEC_F_SEND) && a->fec.code == FEC_CODE_RS8_CAUCHY && a->fec.k > 0 &&
        a->fec.stride > 0 && (s->fec_buf = malloc(8 * (size_t)s->blocksize)) != NULL) {
        s->fec = true;
        s->fec_k = a->fec.k;
        s->fec_stride = a->fec.stride;
    }
    if (p->cfg.role == PROXY_RESPONSE) {
        /* spec §3.3: it hears the server's private group like its clients. */
        addr_set_port(&priv, 0);
        p_slot_join(p, s, &priv, in->from);
        addr_set_port(&s->priv, p->cfg.client_port);
    }
    p_alive(p, s);
    s->ann_at = p->now;
    s->ann_grtt = s->grtt_us;
    s->reg_end = s->encrypted ? p->now + p_grtt_times(s, s->robust) : 0;
    p_session_event(p, s, SE_OPEN, NULL);
    char gb[ADDR_STRLEN];
    PLOG(p, s, LL_INFO, "%s session of server %08X at %s, private group %s%s",
         s->encrypted ? "encrypted" : "unencrypted", s->server_id, addr_str(in->from, ab),
         addr_str(&s->priv, gb), s->encrypted && keys_client_auth(k) ? ", client auth" : "");
    if (p->cfg.up_proxy != 0 && !s->lower)
        PLOG(p, s, LL_INFO,
             "encrypted v4: registering with the server, not through proxy %08X "
             "(stacked proxies are v5 only, spec §3.5)",
             p->cfg.up_proxy);
    return s;
}

static void send_proxy_key(struct proxy *p, struct psession *s)
{
    uint8_t *b = p->scratch;
    size_t n;
    if (s->encrypted) {
        const uint8_t *pk = keys_proxy_key(s->k, &n);
        memcpy(b + UFTP_HDR_LEN, pk, n);
    } else {
        /* spec §1.4: in an unencrypted session all three lengths are 0. */
        struct wire_proxy_key m = {.ver = UFTP_VER5};
        ssize_t r = wire_proxy_key_encode(b + UFTP_HDR_LEN, sizeof(p->scratch) - UFTP_HDR_LEN, &m);
        if (r < 0)
            return;
        n = (size_t)r;
    }
    /* spec §1.6: proxies send PROXY_KEY with seq 0. */
    p_send_hdr(p, s, b, PROXY_KEY, true, 0);
    p_send(p, &s->pub, b, UFTP_HDR_LEN + n);
}

/* ANNOUNCE at a client or response proxy; s is its session when known. */
PROXY_HANDLER(p_reg_announce)
{
    if (s == NULL) {
        if ((s = new_session(p, in)) == NULL)
            return;
    } else if (!addr_equal(in->from, &s->up) || in->h->src_id != s->server_id) {
        p_drop(p, in->from, "ANNOUNCE of a known session from elsewhere");
        return;
    } else {
        p_heard(p, s, in->len);
        p_take_grtt(s, in->h);
        s->ann_at = p->now; /* a new round of the server's: its REG_CONF / KEYINFO follow */
        s->ann_grtt = s->grtt_us;
        p_alive(p, s);
        if (s->encrypted)
            p_session_event(p, s, SE_REGISTERING, NULL);
    }
    if (s->encrypted && s->version == UFTP_VER4 && p->cfg.role == PROXY_CLIENT) {
        /* spec §1.9 item 5: the clients see our keys, signed by us. */
        struct wire_datagram d;
        int rc = wire_datagram_decode(&d, in->pkt, in->len) < 0 || !d.msg.u.announce.has_enc
                     ? KEYS_EFRAME
                     : keys_announce4(s->k, in->pkt, in->len, &d.msg.u.announce.enc);
        if (rc != CRYPTO_OK) {
            PLOG(p, s, LL_WARN, "cannot substitute our keys into ANNOUNCE: %s", keys_strerror(rc));
            return;
        }
    }
    p_send_forward(p, &s->pub, in->pkt, in->len);
    /* spec §7.8: PROXY_KEY after every ANNOUNCE, from client proxies too (v5 only, §1.9). */
    if (s->version == UFTP_VER5)
        send_proxy_key(p, s);
}

/*
 * KEY_REQ (spec §1.9 item 5): a response proxy answers with a v4 PROXY_KEY
 * (its long-lived ECDH key, signed over a fresh nonce) on every public
 * address. At most once per 5 s, whoever asks: every KEY_REQ would
 * otherwise buy a signature and a multicast datagram (spec §6 item 10:
 * 5.0.1 never updates its timestamp).
 */
#define PK4_INTERVAL_US UINT64_C(5000000)

PROXY_HANDLER(p_reg_key_req)
{
    struct wire_key_req m = {.ver = UFTP_VER4};
    if (in->h->version != UFTP_VER4 ||
        wire_key_req_decode(&m, in->pkt + UFTP_HDR_LEN, in->len - UFTP_HDR_LEN) < 0) {
        p_drop(p, in->from, "KEY_REQ: malformed or not v4");
        return;
    }
    if (p->cfg.role != PROXY_RESPONSE || p->cfg.dh4 == NULL) {
        p_drop(p, in->from, "KEY_REQ: not a response proxy");
        return;
    }
    if (p->pk4_at != 0 && p->now < p->pk4_at + PK4_INTERVAL_US)
        return; /* the last one was multicast moments ago */
    uint32_t nonce;
    if (p->env.rng(p->env.ctx, &nonce, sizeof(nonce)) != 0)
        return;
    uint8_t *b = p->scratch;
    ssize_t n = keys_proxy4_key_build(b + UFTP_HDR_LEN, sizeof(p->scratch) - UFTP_HDR_LEN,
                                      p->cfg.key, p->cfg.dh4, nonce);
    if (n < 0) {
        ELOG(&p->env.log, LL_WARN, "cannot build a v4 PROXY_KEY: %s", keys_strerror((int)n));
        return;
    }
    p->pk4_at = p->now;
    struct uftp_hdr ph = {.version = UFTP_VER4, .func = PROXY_KEY, .src_id = p->cfg.proxy_id};
    uftp_hdr_encode(b, UFTP_HDR_LEN, &ph);
    char ab[ADDR_STRLEN];
    for (size_t i = 0; i < p->cfg.npub; i++) {
        struct addr dst = p->cfg.pub_addrs[i];
        addr_set_port(&dst, p->cfg.client_port);
        p_send(p, &dst, b, UFTP_HDR_LEN + (size_t)n);
    }
    ELOG(&p->env.log, LL_VERBOSE, "KEY_REQ from %s: sent a v4 PROXY_KEY to the public addresses",
         addr_str(in->from, ab));
}

/* Its key exchange with us (encrypted sessions); false when it was refused. */
static bool peer_keys(struct proxy *p, struct psession *s, struct pclient *c,
                      const struct wire_register *r, const struct addr *from)
{
    if (c->k != NULL)
        return true;
    if (r->dhlen == 0) {
        PLOG(p, s, LL_WARN, "client %08X registered without an ECDH key", c->id);
        p_client_step(p, s, c, CE_DROP, "Encryption required");
        return false;
    }
    if (!p_pk_budget(p, p_src_key(p, from), 0, keys_cost_peer(s->k), "client key exchange"))
        return false; /* it registers again in 5 GRTT */
    int rc = keys_peer_new(s->k, &c->k, c->id, r->dhblob, r->dhlen, r->rand2);
    if (rc < 0) {
        PLOG(p, s, LL_WARN, "REGISTER from %08X rejected: %s", c->id, keys_strerror(rc));
        p_client_step(p, s, c, CE_DROP, "Failed to import ECDH key");
        return false;
    }
    return true;
}

PROXY_HANDLER(p_reg_register)
{
    const struct wire_register *r = &in->m.u.reg;
    if (c == NULL && (c = p_client_add(p, s, in->h->src_id, in->from)) == NULL)
        return;
    if (r->ids.n > 0) {
        p_drop(p, in->from,
               "REGISTER with a client list: proxies behind proxies are not supported");
        return;
    }
    if (!p_client_accepts(c, CE_REGISTER))
        return; /* aborted */
    c->addr = *in->from;
    c->reg_echo = r->tstamp;
    c->reg_rx = p->now;
    c->decodes = s->fec && r->has_fec && r->fec.version == WIRE_FEC_VERSION &&
                 (r->fec.flags & FEC_F_DECODE) && r->fec.code == FEC_CODE_RS8_CAUCHY &&
                 r->fec.k >= s->fec_k && r->fec.stride >= s->fec_stride;
    bool dup = c->state != PC_MUTE;
    if (s->encrypted && !peer_keys(p, s, c, r, in->from))
        return;
    if (s->encrypted && ((1u << c->state) & PC_UNKEYED))
        p_session_event(p, s, SE_REGISTERING, NULL);
    PLOG(p, s, LL_VERBOSE, "REGISTER%s from %08X", dup ? "+" : "", c->id);
    p_client_step(p, s, c, CE_REGISTER, NULL);
}

PROXY_HANDLER(p_reg_client_key)
{
    if (!s->encrypted)
        return;
    if (c->k == NULL) {
        PLOG(p, s, LL_PROTO, "CLIENT_KEY from %08X before its REGISTER", c->id);
        return;
    }
    /* Aborted, or past registering; else verified now, or a repeat (REGISTER again). */
    if (!p_client_accepts(c, CE_CLIENT_KEY))
        return;
    if (!keys_peer_registered(s->k, c->k)) {
        const struct proxy_client *ce = p_client_entry(p, c->id);
        int rc = keys_peer_client_key(s->k, c->k, c->id, in->msg, in->mlen, ce ? ce->fp : NULL,
                                      ce ? ce->fplen : 0);
        if (rc < 0) {
            PLOG(p, s, LL_WARN, "CLIENT_KEY from %08X rejected: %s", c->id, keys_strerror(rc));
            p_client_step(p, s, c, CE_DROP,
                          rc == KEYS_EFP ? "Failed to verify client key fingerprint"
                                         : "Failed to verify client key");
            return;
        }
        PLOG(p, s, LL_VERBOSE, "CLIENT_KEY from %08X verified", c->id);
    }
    p_client_step(p, s, c, CE_CLIENT_KEY, NULL);
}

PROXY_HANDLER(p_reg_keyinfo_ack)
{
    const struct wire_keyinfo_ack *ka = &in->m.u.keyinfo_ack;
    if (!s->encrypted || c->k == NULL || !keys_peer_has_app(c->k)) {
        PLOG(p, s, LL_PROTO, "unexpected KEYINFO_ACK from %08X", c->id);
        return;
    }
    if (!p_client_accepts(c, CE_KEYINFO_ACK))
        return; /* a repeat, or aborted */
    if (!keys_peer_verify(s->k, c->k, ka->verify, ka->verify_len)) {
        PLOG(p, s, LL_WARN, "KEYINFO_ACK from %08X: verify data mismatch", c->id);
        return;
    }
    PLOG(p, s, LL_VERBOSE, "client %08X keyed", c->id);
    p_client_step(p, s, c, CE_KEYINFO_ACK, NULL);
    p_session_event(p, s, SE_CLIENT_KEYED, NULL);
}

/*
 * Sealed under its application key, which only the group master gives: a
 * client in CONF holds our KEYINFO though its KEYINFO_ACK was lost
 * (clients receiving a file do not answer KEYINFO again).
 */
PROXY_HANDLER(p_reg_proven)
{
    if (in->m.func == KEYINFO_ACK || !p_client_accepts(c, CE_PROVEN))
        return;
    PLOG(p, s, LL_VERBOSE, "client %08X keyed (its %s proves it)", c->id,
         wire_func_name(in->m.func));
    p_client_step(p, s, c, CE_PROVEN, NULL);
    p_session_event(p, s, SE_CLIENT_KEYED, NULL);
}

/* The server's KEYINFO: our entry gives us the group master; we key our clients. */
PROXY_HANDLER(p_reg_keyinfo)
{
    if (!s->encrypted) {
        p_drop(p, in->from, "KEYINFO in an unencrypted session");
        return;
    }
    bool was = keys_keyed(s->k);
    int rc = keys_keyinfo(s->k, in->pkt, in->len, &in->m.u.keyinfo);
    if (rc == KEYS_ENOENT)
        return; /* not for us */
    if (rc < 0) {
        PLOG(p, s, LL_WARN, "KEYINFO rejected: %s", keys_strerror(rc));
        if (rc == CRYPTO_EAUTH)
            p_session_event(p, s, SE_KEY_FAILED, NULL);
        return;
    }
    if (!was)
        p_session_event(p, s, SE_KEYED, NULL);
    size_t vl;
    const uint8_t *v = keys_verify_data(s->k, &vl);
    struct wire_msg m;
    memset(&m, 0, sizeof(m));
    m.func = KEYINFO_ACK;
    m.u.keyinfo_ack.ver = s->version;
    m.u.keyinfo_ack.verify = v;
    m.u.keyinfo_ack.verify_len = (uint16_t)vl;
    p_send_up(p, s, &m, UP_APP);
    if (!was)
        p_send_keyinfo(p, s, NULL);
}

/* The server confirmed those of our clients in ids: they get our KEYINFO (spec §3.4). */
static void confirmed(struct proxy *p, struct psession *s, const struct wire_ids *ids,
                      const char *by)
{
    size_t n = 0;
    for (size_t i = 0; i < ids->n; i++) {
        struct pclient *cl = p_client_of(s, wire_ids_get(ids, i));
        if (cl != NULL && p_client_accepts(cl, CE_REG_CONF)) {
            p_client_step(p, s, cl, CE_REG_CONF, NULL);
            n++;
            if (cl->via != 0) {
                /* spec §3.5: its downstream proxy keys it, not we (that proxy has our keys). */
                p_client_step(p, s, cl, CE_PROVEN, NULL);
                p_session_event(p, s, SE_CLIENT_KEYED, NULL);
            }
        }
    }
    PLOG(p, s, LL_VERBOSE, "%s for %zu of our clients", by, n);
    if (n > 0)
        p_send_keyinfo(p, s, ids);
}

/* The server's REG_CONF: it names our clients in an encrypted session; else it goes to them. */
PROXY_HANDLER(p_reg_reg_conf)
{
    if (s->encrypted)
        confirmed(p, s, &in->m.u.reg_conf.ids, "REG_CONF");
    else
        p_send_forward(p, &s->priv, in->pkt, in->len);
}

/*
 * A FILEINFO that lists clients is an implicit REG_CONF for them (spec
 * §1.5). A 5.0.1 sender sends one REG_CONF per REGISTER, in its announce
 * phase only: once that is lost, the clients it lists are confirmed here
 * (engine.c opens FILEINFO while some wait), or never.
 */
PROXY_HANDLER(p_reg_fileinfo)
{
    if (!in->sealed)
        p_send_forward(p, &s->priv, in->pkt, in->len);
    else if (s->ccnt[PC_REGISTERED] > 0)
        confirmed(p, s, &in->m.u.fileinfo.ids, "FILEINFO taken as REG_CONF");
}

/* Our REGISTER for the clients of the aggregate; spec §1.8: CLIENT_KEY follows under client auth.
 */
size_t p_reg_flush(struct proxy *p, struct psession *s, const struct agg_slot *sl)
{
    struct wire_msg m;
    memset(&m, 0, sizeof(m));
    m.func = REGISTER;
    struct wire_register *r = &m.u.reg;
    r->ver = s->version;
    r->tstamp = agg_echo(sl, p->now);
    r->ids = wire_ids_of(sl->ids, sl->nids);
    if (s->fec) {
        /* spec §9.1: we aggregate (our STATUS may be a count report), for any K and S. */
        r->has_fec = true;
        r->fec = (struct wire_fec_info){.version = WIRE_FEC_VERSION,
                                        .flags = FEC_F_AGGREGATE,
                                        .code = FEC_CODE_RS8_CAUCHY,
                                        .k = 255,
                                        .stride = 255};
    }
    if (s->encrypted) {
        size_t dl;
        r->dhblob = keys_dh_up(s->k, &dl);
        r->dhlen = (uint16_t)dl;
        memcpy(r->rand2, keys_rand2(s->k), WIRE_RAND_LEN);
    }
    bool sent = p_send_up(p, s, &m, UP_CLEAR);
    /* spec §3.5: to an upstream proxy always (it checks our --downstream fingerprint). */
    if (s->encrypted && (keys_client_auth(s->k) || keys_stacked(s->k))) {
        size_t cl;
        const uint8_t *ck = keys_client_key(s->k, &cl);
        memset(&m, 0, sizeof(m));
        /* v4: in clear (spec §1.9). */
        if (wire_msg_decode(&m, s->version, ck, cl) > 0)
            p_send_up(p, s, &m, s->version == UFTP_VER4 ? UP_CLEAR : UP_HS);
    }
    return sent ? sl->nids : 0;
}
