/*
 * Client and response proxy sessions (spec §3.2-§3.4, §1.8).
 *
 * A session starts with the server's ANNOUNCE, whose source becomes its
 * upstream address. A client proxy re-multicasts the tunnelled session on
 * its network (ANNOUNCE to the public address, the rest to the private
 * one); a response proxy sees the server's multicast like its clients and
 * forwards nothing. Both send PROXY_KEY after every ANNOUNCE, register
 * their clients upstream as one REGISTER, re-key them with the group
 * master (encrypted sessions), and merge their answers (core/proto/agg).
 *
 * Client state: MUTE (REGISTER seen, key exchange not complete) →
 * REGISTERED → CONF (the server's REG_CONF named it; our KEYINFO is owed)
 * → READY (KEYINFO_ACK verified) → DONE (COMPLETE for the session), or
 * ABORTED. Without encryption a client is REGISTERED from its REGISTER on
 * and the server's REG_CONF reaches it unchanged.
 *
 * Where 5.0.1 errs and we do not (spec §6): bitmaps are taken by hlen and
 * datagram length (6); our aborts are encrypted once keys exist, upstream
 * under our application key and downstream under the server application
 * key with our own nonce range (7); answers we do not aggregate (CC_ACK)
 * are re-encrypted under our key instead of being forwarded under a key
 * the server does not have (7, 3); a full session table is refused without
 * a crash (18); -S is enforced for every session, not only encrypted ones,
 * and -C on REGISTER, not only on CLIENT_KEY (14).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/crypto/crypto.h"
#include "core/crypto/skeys.h"
#include "core/wire/buf.h"
#include "proxy/engine/proxy_int.h"

static const char *const cstate_names[] = {"MUTE",  "REGISTERED", "CONF",
                                           "READY", "DONE",       "ABORTED"};

#define REFUSE_LOG_US 10000000u
#define ABORT_CLEAR   0x1
#define ABORT_SEALED  0x2

static void cstate(struct proxy *p, struct psession *s, struct pclient *c, uint8_t st)
{
    if (c->state == st)
        return;
    PLOG(p, s, LL_DEBUG, "client %08X: %s -> %s", c->id, cstate_names[c->state], cstate_names[st]);
    c->state = st;
}

static struct pclient *client_of(struct psession *s, uint32_t id)
{
    uint32_t i = idmap_get(&s->cmap, id);
    return i == IDMAP_NONE ? NULL : &s->cl[i];
}

static void refuse_log(struct proxy *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void refuse_log(struct proxy *p, const char *fmt, ...)
{
    p->st.dropped++;
    if (p->refuse_logged_at != 0 && p->now < p->refuse_logged_at + REFUSE_LOG_US) {
        if (elog_enabled(&p->env.log, LL_PROTO)) {
            va_list ap;
            va_start(ap, fmt);
            elog_vmsg(&p->env.log, LL_PROTO, fmt, ap);
            va_end(ap);
        }
        return;
    }
    p->refuse_logged_at = p->now ? p->now : 1;
    va_list ap;
    va_start(ap, fmt);
    elog_vmsg(&p->env.log, LL_WARN, fmt, ap);
    va_end(ap);
}

/* ------------------------------------------------------------ sending */

static void hdr(struct proxy *p, struct psession *s, uint8_t *b, uint8_t func, bool down,
                uint16_t seq)
{
    struct uftp_hdr h = {.version = s->version,
                         .func = func,
                         .seq = seq,
                         .src_id = p->cfg.proxy_id,
                         .group_id = s->group_id,
                         .group_inst = s->group_inst};
    if (down) {
        /* What we send clients carries the server's GRTT and group size. */
        h.grtt = s->grtt_code;
        h.gsize = s->gsize_code;
    }
    uftp_hdr_encode(b, UFTP_HDR_LEN, &h);
}

enum up_how { UP_CLEAR, UP_APP, UP_HS };

/*
 * Sends m upstream: in the clear, or sealed under our application key (or
 * handshake key for CLIENT_KEY). An encrypted session's answers never go
 * out in the clear: without our key yet they are dropped with a log line.
 */
static bool send_up(struct proxy *p, struct psession *s, const struct wire_msg *m, enum up_how how)
{
    uint8_t *b = p->scratch;
    size_t cap = sizeof(p->scratch);
    bool seal = how == UP_HS || (how == UP_APP && s->encrypted);
    if (seal && how == UP_APP && !keys_keyed(s->k)) {
        PLOG(p, s, LL_WARN, "cannot send %s upstream: not keyed by the server yet",
             wire_func_name(m->func));
        return false;
    }
    size_t off = seal ? KEYS_MSG_OFF : UFTP_HDR_LEN;
    ssize_t n = wire_msg_encode(b + off, cap - off - AEAD_TAG_LEN, m);
    if (n < 0) {
        PLOG(p, s, LL_WARN, "cannot encode %s: %s", wire_func_name(m->func), wire_strerror((int)n));
        return false;
    }
    hdr(p, s, b, m->func, false, s->seq_up++);
    size_t len = UFTP_HDR_LEN + (size_t)n;
    if (seal) {
        ssize_t r = keys_seal_up(s->k, how == UP_HS, b, (size_t)n, cap);
        if (r < 0) {
            PLOG(p, s, LL_WARN, "cannot seal %s: %s", wire_func_name(m->func),
                 keys_strerror((int)r));
            return false;
        }
        len = (size_t)r;
    }
    return p_send(p, &s->up, b, len);
}

static void abort_up(struct proxy *p, struct psession *s, uint32_t host, const char *text)
{
    struct wire_msg m;
    memset(&m, 0, sizeof(m));
    m.func = ABORT;
    m.u.abort.ver = s->version;
    m.u.abort.host = host;
    snprintf(m.u.abort.text, sizeof(m.u.abort.text), "%s", text);
    bool sealed = s->encrypted && keys_keyed(s->k);
    send_up(p, s, &m, sealed ? UP_APP : UP_CLEAR);
}

/*
 * Our own ABORT to clients: to one client by unicast (host != 0) or to the
 * private group. A client decrypts it with the server application key when
 * it has keys and takes it in the clear only before (spec §1.4 rules), so
 * the copies sent follow what the clients can hold: how = ABORT_CLEAR |
 * ABORT_SEALED.
 */
static void abort_down_to(struct proxy *p, struct psession *s, const struct addr *to, uint32_t host,
                          uint8_t flags, const char *text, unsigned how)
{
    struct wire_msg m;
    memset(&m, 0, sizeof(m));
    m.func = ABORT;
    m.u.abort.ver = s->version;
    m.u.abort.host = host;
    m.u.abort.flags = flags;
    snprintf(m.u.abort.text, sizeof(m.u.abort.text), "%s", text);
    uint8_t *b = p->scratch;
    if (how & ABORT_SEALED) {
        ssize_t n = wire_msg_encode(b + KEYS_MSG_OFF, sizeof(p->scratch) - KEYS_MSG_OFF, &m);
        hdr(p, s, b, ABORT, true, s->seq_down++);
        ssize_t r = n < 0 ? n : keys_seal_down(s->k, b, (size_t)n, sizeof(p->scratch));
        if (r > 0)
            p_send(p, to, b, (size_t)r);
        else
            PLOG(p, s, LL_WARN, "cannot seal ABORT: %s", keys_strerror((int)r));
    }
    if (how & ABORT_CLEAR) {
        ssize_t n = wire_msg_encode(b + UFTP_HDR_LEN, sizeof(p->scratch) - UFTP_HDR_LEN, &m);
        hdr(p, s, b, ABORT, true, s->seq_down++);
        if (n > 0)
            p_send(p, to, b, UFTP_HDR_LEN + (size_t)n);
    }
}

static unsigned abort_how(const struct psession *s, const struct pclient *c)
{
    if (!s->encrypted || !keys_keyed(s->k))
        return ABORT_CLEAR;
    if (c != NULL) {
        if (c->state == PC_READY || c->state == PC_DONE)
            return ABORT_SEALED;
        if (c->state == PC_CONF)
            return ABORT_SEALED | ABORT_CLEAR; /* it may or may not hold our KEYINFO */
        return ABORT_CLEAR;
    }
    unsigned how = ABORT_SEALED;
    for (size_t i = 0; i < s->ncl; i++)
        if (s->cl[i].state < PC_READY)
            how |= ABORT_CLEAR;
    return how;
}

static void abort_client(struct proxy *p, struct psession *s, struct pclient *c, const char *text)
{
    abort_down_to(p, s, &c->addr, c->id, 0, text, abort_how(s, c));
    cstate(p, s, c, PC_ABORTED);
}

static void abort_all_down(struct proxy *p, struct psession *s, uint8_t flags, const char *text)
{
    if (!addr_is_set(&s->priv))
        return;
    abort_down_to(p, s, &s->priv, 0, flags, text, abort_how(s, NULL));
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
    hdr(p, s, b, PROXY_KEY, true, 0);
    p_send(p, &s->pub, b, UFTP_HDR_LEN + n);
}

/* KEYINFO to the clients in CONF (only those in list, when given). */
static void send_keyinfo(struct proxy *p, struct psession *s, const struct wire_ids *list,
                         uint64_t now)
{
    if (!s->encrypted || !keys_keyed(s->k))
        return;
    size_t siglen = keys_siglen(s->k);
    size_t per = wire_max_destkeys(s->blocksize);
    size_t room = (UFTP_MAX_DATAGRAM - UFTP_HDR_LEN - 12 - siglen) / WIRE_DESTKEY_LEN;
    if (per > room)
        per = room;
    if (per == 0)
        per = 1;
    struct wire_destkey *keys = calloc(per, sizeof(*keys));
    if (keys == NULL)
        return;
    size_t i = 0, sent = 0;
    bool owed = false;
    while (i < s->ncl) {
        uint64_t ctr = keys_keyinfo_ctr(s->k);
        size_t n = 0;
        for (; i < s->ncl && n < per; i++) {
            struct pclient *c = &s->cl[i];
            if (c->state != PC_CONF)
                continue;
            owed = true;
            if (list != NULL && !wire_ids_contains(list, c->id))
                continue;
            int rc = keys_peer_wrap(s->k, c->k, c->id, ctr, keys[n].master);
            if (rc < 0) {
                PLOG(p, s, LL_WARN, "cannot wrap the group master for %08X: %s", c->id,
                     keys_strerror(rc));
                continue;
            }
            keys[n++].id = c->id;
        }
        if (n == 0)
            continue;
        struct wire_msg m;
        memset(&m, 0, sizeof(m));
        m.func = KEYINFO;
        m.u.keyinfo.ver = s->version;
        m.u.keyinfo.iv_ctr = ctr;
        m.u.keyinfo.siglen = (uint16_t)siglen; /* sig NULL: zeros to sign over */
        m.u.keyinfo.keys.host = keys;
        m.u.keyinfo.keys.n = n;
        uint8_t *b = p->scratch;
        ssize_t len = wire_msg_encode(b + UFTP_HDR_LEN, sizeof(p->scratch) - UFTP_HDR_LEN, &m);
        if (len < 0)
            break;
        hdr(p, s, b, KEYINFO, true, 0);
        /* spec §1.9 item 5: v4 KEYINFO comes as from the server (its ID is in the IV). */
        if (s->version == UFTP_VER4)
            be32_put(b + 4, s->server_id);
        len += UFTP_HDR_LEN;
        if (keys_sign_keyinfo(s->k, b, (size_t)len) != CRYPTO_OK) {
            PLOG(p, s, LL_WARN, "cannot sign KEYINFO");
            break;
        }
        p_send(p, &s->priv, b, (size_t)len);
        sent += n;
    }
    crypto_wipe(keys, per * sizeof(*keys));
    free(keys);
    if (sent > 0)
        PLOG(p, s, LL_VERBOSE, "sent KEYINFO for %zu client%s", sent, sent == 1 ? "" : "s");
    /* spec §3.4: resent every 2 GRTT while anyone has not acknowledged. */
    s->keyinfo_at = owed ? (now ? now : 1) : 0;
}

/* ------------------------------------------------------------ aggregates */

static void flush_slot(struct proxy *p, struct psession *s, int i, uint64_t now)
{
    const struct agg_slot *sl = &s->agg.slots[i];
    struct wire_msg m;
    memset(&m, 0, sizeof(m));
    m.func = sl->func;
    struct wire_ids ids = wire_ids_of(sl->ids, sl->nids);
    enum up_how how = UP_APP;
    switch (sl->func) {
    case REGISTER: {
        struct wire_register *r = &m.u.reg;
        r->ver = s->version;
        r->tstamp = agg_echo(sl, now);
        r->ids = ids;
        if (s->encrypted) {
            size_t dl;
            r->dhblob = keys_dh_up(s->k, &dl);
            r->dhlen = (uint16_t)dl;
            memcpy(r->rand2, keys_rand2(s->k), WIRE_RAND_LEN);
        }
        how = UP_CLEAR;
        break;
    }
    case FILEINFO_ACK:
        m.u.fileinfo_ack.ver = s->version;
        m.u.fileinfo_ack.file_id = sl->file_id;
        m.u.fileinfo_ack.flags = sl->partial ? FLAG_PARTIAL : 0;
        m.u.fileinfo_ack.tstamp = agg_echo(sl, now);
        m.u.fileinfo_ack.ids = ids;
        break;
    case STATUS:
        /* spec §3.4 [DIFF]: no TFMCC extension in an aggregate, no list. */
        m.u.status.ver = s->version;
        m.u.status.file_id = sl->file_id;
        m.u.status.section = sl->section;
        m.u.status.naks = sl->naks;
        m.u.status.naks_len = sl->naks_len;
        break;
    case COMPLETE:
        m.u.complete.ver = s->version;
        m.u.complete.file_id = sl->file_id;
        m.u.complete.status = sl->status;
        m.u.complete.has_freespace = sl->has_freespace;
        m.u.complete.freespace = sl->freespace;
        m.u.complete.ids = ids;
        break;
    default:
        agg_clear(&s->agg, i);
        return;
    }
    if (send_up(p, s, &m, how)) {
        p->st.aggregated_out++;
        PLOG(p, s, LL_VERBOSE, "sent %s upstream for %zu client%s (%zu answers)",
             wire_func_name(sl->func), sl->func == STATUS ? sl->adds : sl->nids,
             (sl->func == STATUS ? sl->adds : sl->nids) == 1 ? "" : "s", sl->adds);
    }
    /* spec §1.8: CLIENT_KEY follows every REGISTER under client authentication. */
    if (sl->func == REGISTER && s->encrypted && keys_client_auth(s->k)) {
        size_t cl;
        const uint8_t *ck = keys_client_key(s->k, &cl);
        memset(&m, 0, sizeof(m));
        if (wire_msg_decode(&m, s->version, ck, cl) > 0)
            send_up(p, s, &m, UP_HS);
    }
    agg_clear(&s->agg, i);
}

static void flush_due(struct proxy *p, struct psession *s, uint64_t now, bool force)
{
    int i;
    while ((i = agg_due(&s->agg, now, force)) >= 0)
        flush_slot(p, s, i, now);
}

static void aggregate(struct proxy *p, struct psession *s, const struct agg_msg *am, uint32_t id,
                      uint64_t now)
{
    int rc = agg_add(&s->agg, am, id, now);
    if (rc == AGG_EFULL) {
        /* spec §3.4: no slot matches and none is free: flush them all. */
        if (!s->limit_logged) {
            s->limit_logged = true;
            PLOG(p, s, LL_WARN,
                 "limit reached: %u pending aggregates; flushing them all early (logged once "
                 "per session)",
                 s->agg.nslots);
        }
        flush_due(p, s, now, true);
        rc = agg_add(&s->agg, am, id, now);
    }
    if (rc < 0) {
        PLOG(p, s, LL_WARN, "cannot aggregate %s from %08X: %s", wire_func_name(am->func), id,
             agg_strerror(rc));
        return;
    }
    p->st.aggregated_in++;
    p->dirty = true;
}

/* ------------------------------------------------------------ announce */

static void forward_down(struct proxy *p, struct psession *s, const struct addr *to,
                         const uint8_t *pkt, size_t len)
{
    if (p->cfg.role != PROXY_CLIENT)
        return; /* a response proxy's clients hear the server themselves */
    if (p_send(p, to, pkt, len))
        p->st.forwarded++;
}

static size_t max_ids(const struct psession *s)
{
    /* spec §4: blocksize/4, and never past a datagram the server can read. */
    size_t n = wire_max_ids(s->blocksize);
    size_t room = (UFTP_MAX_DATAGRAM - UFTP_HDR_LEN - KEYS_OVERHEAD - 44 - KEYBLOB_EC_MAX) / 4;
    return n < room ? n : room;
}

static void new_session(struct proxy *p, const struct addr *from, const struct uftp_hdr *h,
                        uint8_t *pkt, size_t len, uint64_t now)
{
    char ab[ADDR_STRLEN];
    struct wire_datagram d;
    ssize_t n = wire_datagram_decode(&d, pkt, len);
    if (n < 0 || d.hdr.func != ANNOUNCE) {
        p_drop(p, from, n < 0 ? wire_strerror((int)n) : "ANNOUNCE expected");
        return;
    }
    struct wire_announce *a = &d.msg.u.announce;
    /*
     * v4 sessions (spec §1.9): the version travels with every message. An
     * encrypted one is re-keyed by a response proxy with its long-lived
     * ECDH key (keys.h); a client proxy would have to substitute its keys
     * into the server's ANNOUNCE and re-sign it, which is not done.
     */
    if (h->version == UFTP_VER4 && a->has_enc && p->cfg.role == PROXY_RESPONSE &&
        p->cfg.dh4 == NULL) {
        refuse_log(p, "refusing encrypted v4 session %08X from %s: no long-lived ECDH key (-e)",
                   h->group_id, addr_str(from, ab));
        return;
    }
    const struct proxy_server *sv = p_server(p, h->src_id);
    if (p->cfg.nserver > 0 && sv == NULL) {
        /* spec §6.14: enforced for every session, not only encrypted ones. */
        refuse_log(p, "refusing session %08X: server %08X at %s is not in the server list (-S)",
                   h->group_id, h->src_id, addr_str(from, ab));
        return;
    }
    int fam = (a->flags & FLAG_IPV6) ? ADDR_V6 : ADDR_V4;
    struct addr pub, priv;
    addr_set_ip(&pub, fam, a->pub_addr, p->cfg.client_port);
    addr_set_ip(&priv, fam, a->priv_addr, p->cfg.client_port);
    if (!addr_is_multicast(&pub) || !addr_is_multicast(&priv)) {
        refuse_log(p, "refusing session %08X from %s: unicast mode, no group to %s", h->group_id,
                   addr_str(from, ab),
                   p->cfg.role == PROXY_CLIENT ? "multicast to" : "send keys to");
        return;
    }
    if (a->blocksize < UFTP_MIN_BLOCKSIZE || a->blocksize > UFTP_MAX_BLOCKSIZE) {
        p_drop(p, from, "block size out of range");
        return;
    }
    /* Issue 14 item 2: no key work for a session that would get no slot. */
    if (!p_slot_available(p, h, from, now)) {
        p_limit(p,
                "%u sessions, none of which may give way: ANNOUNCE of group %08X from server "
                "%08X refused",
                p->cfg.max_sessions, h->group_id, h->src_id);
        return;
    }
    struct ksess *k = NULL;
    if (a->has_enc) {
        /* Issue 14 items 3, 9: the checks that cost nothing first, then the budget. */
        uint32_t cost;
        int rc = skeys_announce_check(&a->enc, sv ? sv->fp : NULL, sv ? sv->fplen : 0, &cost);
        if (rc != CRYPTO_OK) {
            refuse_log(p, "refusing encrypted session %08X from server %08X at %s: %s", h->group_id,
                       h->src_id, addr_str(from, ab), skeys_strerror(rc));
            return;
        }
        rc = fresh_check(&p->fresh, h->src_id, h->group_id, h->group_inst, a->tstamp,
                         p_wall(p, now));
        if (rc != FRESH_OK) {
            p->st.stale++;
            refuse_log(p, "refusing encrypted session %08X from server %08X at %s: %s", h->group_id,
                       h->src_id, addr_str(from, ab), fresh_strerror(rc));
            return;
        }
        if (!p_pk_budget(p, p_src_key(p, from), p_rank(p, h->src_id, from), keys_cost_new(&a->enc),
                         "new encrypted session"))
            return;
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
            return;
        }
        rc = keys_new(&k, &kp, &a->enc, pkt, len);
        crypto_wipe(kp.rand2, sizeof(kp.rand2));
        if (rc < 0) {
            refuse_log(p, "refusing encrypted session %08X from server %08X at %s: %s", h->group_id,
                       h->src_id, addr_str(from, ab), keys_strerror(rc));
            return;
        }
        fresh_note(&p->fresh, h->src_id, h->group_id, h->group_inst, a->tstamp, p_wall(p, now));
    }
    struct psession *s = p_new_session(p, h, from, len, now);
    if (s == NULL) {
        keys_free(k);
        p_limit(p, "%u sessions: ANNOUNCE of group %08X refused", p->cfg.max_sessions, h->group_id);
        return;
    }
    s->k = k;
    s->encrypted = k != NULL;
    s->up = *from;
    s->pub = pub;
    s->priv = priv;
    s->robust = a->robust ? a->robust : 20;
    s->blocksize = a->blocksize;
    s->cc_type = a->cc_type;
    p_take_grtt(s, h);
    if (agg_init(&s->agg, p->cfg.max_pending, max_ids(s), s->blocksize, s->grtt_us) < 0) {
        p_free_session(p, s);
        return;
    }
    if (p->cfg.role == PROXY_RESPONSE) {
        /* spec §3.3: it hears the server's private group like its clients. */
        struct addr g = priv;
        addr_set_port(&g, 0);
        if (p->cfg.ssm) {
            s->ssm_src = sv != NULL && addr_is_set(&sv->addr) ? sv->addr : *from;
            addr_set_port(&s->ssm_src, 0);
        }
        s->priv = g;
        p_member(p, true, &s->priv, addr_is_set(&s->ssm_src) ? &s->ssm_src : NULL);
        addr_set_port(&s->priv, p->cfg.client_port);
        s->joined = true;
    }
    s->idle_at = now + p_grtt_times(s, s->robust);
    s->reg_end = s->encrypted ? now + p_grtt_times(s, s->robust) : 0;
    char gb[ADDR_STRLEN];
    PLOG(p, s, LL_INFO, "%s session of server %08X at %s, private group %s%s",
         s->encrypted ? "encrypted" : "unencrypted", s->server_id, addr_str(from, ab),
         addr_str(&s->priv, gb), s->encrypted && keys_client_auth(k) ? ", client auth" : "");
}

static void recv_announce(struct proxy *p, const struct addr *from, const struct uftp_hdr *h,
                          uint8_t *pkt, size_t len, uint64_t now)
{
    struct psession *s = p_find(p, h->group_id, h->group_inst);
    if (s == NULL) {
        new_session(p, from, h, pkt, len, now);
        s = p_find(p, h->group_id, h->group_inst);
        if (s == NULL)
            return;
    } else if (!addr_equal(from, &s->up) || h->src_id != s->server_id) {
        p_drop(p, from, "ANNOUNCE of a known session from elsewhere");
        return;
    } else {
        p_heard(p, s, len, now);
        p_take_grtt(s, h);
        s->idle_at = now + p_grtt_times(s, s->robust);
        /* Registration stays open while the server announces. */
        if (s->encrypted && s->phase < PP_RECEIVING)
            s->reg_end = now + p_grtt_times(s, s->robust);
    }
    if (s->encrypted && s->version == UFTP_VER4 && p->cfg.role == PROXY_CLIENT) {
        /* spec §1.9 item 5: the clients see our keys, signed by us. */
        struct wire_datagram d;
        int rc = wire_datagram_decode(&d, pkt, len) < 0 || !d.msg.u.announce.has_enc
                     ? KEYS_EFRAME
                     : keys_announce4(s->k, pkt, len, &d.msg.u.announce.enc);
        if (rc != CRYPTO_OK) {
            PLOG(p, s, LL_WARN, "cannot substitute our keys into ANNOUNCE: %s", keys_strerror(rc));
            return;
        }
    }
    forward_down(p, s, &s->pub, pkt, len);
    /* spec §7.8: PROXY_KEY after every ANNOUNCE, from client proxies too (v5 only, §1.9). */
    if (s->version == UFTP_VER5)
        send_proxy_key(p, s);
}

/* ------------------------------------------------------------ from the server */

static void recv_keyinfo(struct proxy *p, struct psession *s, const struct addr *from, uint8_t *pkt,
                         size_t len, const struct wire_keyinfo *ki, uint64_t now)
{
    if (!s->encrypted) {
        p_drop(p, from, "KEYINFO in an unencrypted session");
        return;
    }
    bool was = keys_keyed(s->k);
    int rc = keys_keyinfo(s->k, pkt, len, ki);
    if (rc == KEYS_ENOENT)
        return; /* not for us */
    if (rc < 0) {
        PLOG(p, s, LL_WARN, "KEYINFO rejected: %s", keys_strerror(rc));
        if (rc == CRYPTO_EAUTH) {
            /* Signed by the server, yet our entry does not open: give up. */
            abort_up(p, s, 0, "Decrypt failed for group master");
            abort_all_down(p, s, 0, "Proxy could not get the group key");
            p_free_session(p, s);
        }
        return;
    }
    if (!was) {
        p_confirm(s); /* issue 14: the server keyed us: an authenticated session */
        PLOG(p, s, LL_INFO, "keyed by the server: re-keying %zu client%s", s->ncl,
             s->ncl == 1 ? "" : "s");
        if (s->phase == PP_REGISTERED)
            s->phase = PP_READY;
    }
    size_t vl;
    const uint8_t *v = keys_verify_data(s->k, &vl);
    struct wire_msg m;
    memset(&m, 0, sizeof(m));
    m.func = KEYINFO_ACK;
    m.u.keyinfo_ack.ver = s->version;
    m.u.keyinfo_ack.verify = v;
    m.u.keyinfo_ack.verify_len = (uint16_t)vl;
    send_up(p, s, &m, UP_APP);
    if (!was)
        send_keyinfo(p, s, NULL, now);
}

static void recv_reg_conf(struct proxy *p, struct psession *s, const struct wire_reg_conf *rc,
                          uint64_t now)
{
    size_t n = 0;
    for (size_t i = 0; i < rc->ids.n; i++) {
        struct pclient *c = client_of(s, wire_ids_get(&rc->ids, i));
        if (c != NULL && (c->state == PC_REGISTERED || c->state == PC_CONF)) {
            cstate(p, s, c, PC_CONF);
            n++;
        }
    }
    PLOG(p, s, LL_VERBOSE, "REG_CONF for %zu of our clients", n);
    if (n > 0)
        send_keyinfo(p, s, &rc->ids, now);
}

static void end_session(struct proxy *p, struct psession *s, const char *why)
{
    PLOG(p, s, LL_INFO, "session ended: %s", why);
    p_free_session(p, s);
}

static void recv_server_abort(struct proxy *p, struct psession *s, const struct wire_abort *a)
{
    char text[WIRE_ABORT_TEXT_LEN + 1];
    snprintf(text, sizeof(text), "%s", a->text);
    for (char *c = text; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            *c = '?';
    if (a->host == 0 || a->host == p->cfg.proxy_id) {
        bool current = (a->flags & FLAG_CURRENT_FILE) != 0;
        PLOG(p, s, LL_WARN, "aborted by the server%s: %s", current ? " (current file)" : "", text);
        /* The server's own ABORT reached the clients (forwarded, or heard
         * directly); one addressed to us they cannot recognise. */
        if (a->host == p->cfg.proxy_id)
            abort_all_down(p, s, a->flags, text);
        if (!current)
            end_session(p, s, "aborted by the server");
        return;
    }
    struct pclient *c = client_of(s, a->host);
    if (c != NULL) {
        PLOG(p, s, LL_VERBOSE, "server aborted client %08X: %s", c->id, text);
        cstate(p, s, c, PC_ABORTED);
    }
}

static void from_server(struct proxy *p, struct psession *s, const struct addr *from,
                        const struct uftp_hdr *h, uint8_t *pkt, size_t len, uint64_t now)
{
    if (h->src_id != s->server_id) {
        p_drop(p, from, "source ID differs from the session's server");
        return;
    }
    /* Issue 14: a cleartext session's server running it is all the confirmation there is. */
    if (!s->encrypted)
        p_confirm(s);
    p_take_grtt(s, h);
    s->idle_at = now + p_grtt_times(s, s->robust);
    if (h->func == ENCRYPTED) {
        forward_down(p, s, &s->priv, pkt, len);
        /*
         * The one encrypted server message a proxy acts on is ABORT. It is
         * the only one of exactly this size that matters, so nothing else
         * (FILESEG above all) is decrypted here.
         */
        if (len != KEYS_MSG_OFF + WIRE_ABORT_LEN + AEAD_TAG_LEN || !s->encrypted ||
            !keys_keyed(s->k))
            return;
        memcpy(p->scratch, pkt, len);
        const uint8_t *msg;
        size_t mlen;
        if (keys_open_server(s->k, p->scratch, len, &msg, &mlen) != CRYPTO_OK)
            return;
        struct wire_msg m;
        if (wire_msg_decode(&m, s->version, msg, mlen) > 0 && m.func == ABORT)
            recv_server_abort(p, s, &m.u.abort);
        return;
    }
    struct wire_datagram d;
    ssize_t n = wire_datagram_decode(&d, pkt, len);
    if (n < 0) {
        if (elog_enabled(&p->env.log, LL_PROTO)) {
            char ab[ADDR_STRLEN];
            ELOG(&p->env.log, LL_PROTO, "invalid %s from %s: %s", wire_func_name(h->func),
                 addr_str(from, ab), wire_strerror((int)n));
        }
        p->st.dropped++;
        return;
    }
    switch (d.msg.func) {
    case KEYINFO:
        recv_keyinfo(p, s, from, pkt, len, &d.msg.u.keyinfo, now);
        return;
    case REG_CONF:
        if (s->encrypted) {
            /* spec §3.4: it names our clients; they get our KEYINFO instead. */
            recv_reg_conf(p, s, &d.msg.u.reg_conf, now);
            return;
        }
        break;
    case ABORT:
        if (s->encrypted && keys_keyed(s->k)) {
            p_drop(p, from, "cleartext ABORT once keyed");
            return;
        }
        forward_down(p, s, &s->priv, pkt, len);
        recv_server_abort(p, s, &d.msg.u.abort);
        return;
    default:
        break;
    }
    forward_down(p, s, &s->priv, pkt, len);
}

/* ------------------------------------------------------------ from clients */

static struct pclient *add_client(struct proxy *p, struct psession *s, uint32_t id,
                                  const struct addr *from)
{
    if (p->cfg.nclient > 0 && p_client_entry(p, id) == NULL) {
        char ab[ADDR_STRLEN];
        refuse_log(p, "[%08X/%u] refusing client %08X at %s: not in the client list (-C)",
                   s->group_id, s->group_inst, id, addr_str(from, ab));
        return NULL;
    }
    if (id == 0 || id == UINT32_MAX || id == p->cfg.proxy_id || id == s->server_id) {
        p_drop(p, from, "invalid client ID");
        return NULL;
    }
    if (s->ncl >= p->cfg.max_clients) {
        p_limit(p, "[%08X/%u] %u clients: REGISTER from %08X refused", s->group_id, s->group_inst,
                p->cfg.max_clients, id);
        return NULL;
    }
    if (s->ncl == s->capcl) {
        size_t cap = s->capcl ? 2 * s->capcl : 16;
        if (cap > p->cfg.max_clients)
            cap = p->cfg.max_clients;
        struct pclient *n = realloc(s->cl, cap * sizeof(*n));
        if (n == NULL)
            return NULL;
        s->cl = n;
        s->capcl = cap;
    }
    if (idmap_put(&s->cmap, id, (uint32_t)s->ncl) < 0)
        return NULL;
    struct pclient *c = &s->cl[s->ncl++];
    memset(c, 0, sizeof(*c));
    c->id = id;
    c->addr = *from;
    return c;
}

static void register_pending(struct proxy *p, struct psession *s, struct pclient *c, uint64_t now)
{
    struct agg_msg am;
    memset(&am, 0, sizeof(am));
    am.func = REGISTER;
    am.has_echo = true;
    /* Its REGISTER's echo, held since it arrived (a CLIENT_KEY may come later). */
    am.echo_us = c->reg_echo + (now - c->reg_rx);
    aggregate(p, s, &am, c->id, now);
    if (s->encrypted)
        s->regup_at = now ? now : 1;
}

/*
 * Encrypted sessions: the server confirms our clients once (REG_CONF, sent
 * to clients behind proxies only), and without it we cannot give them
 * keys. A lost REG_CONF would leave them waiting for their own REGISTER
 * retry (5 GRTT of the announce, seconds) while the server's FILEINFO round
 * runs out; so we register the unconfirmed ones again every 2 GRTT, as we
 * repeat KEYINFO, until the registration window closes.
 */
static void register_again(struct proxy *p, struct psession *s, uint64_t now)
{
    size_t n = 0;
    for (size_t i = 0; i < s->ncl; i++) {
        struct pclient *c = &s->cl[i];
        if (c->state == PC_REGISTERED) {
            register_pending(p, s, c, now);
            n++;
        }
    }
    if (n > 0)
        PLOG(p, s, LL_VERBOSE, "registering %zu unconfirmed client%s again", n, n == 1 ? "" : "s");
    else
        s->regup_at = 0;
}

static void c_register(struct proxy *p, struct psession *s, struct pclient *c,
                       const struct addr *from, const struct wire_register *r, uint64_t now)
{
    if (r->ids.n > 0) {
        p_drop(p, from, "REGISTER with a client list: proxies behind proxies are not supported");
        return;
    }
    if (c->state == PC_ABORTED)
        return;
    c->addr = *from;
    c->reg_echo = r->tstamp;
    c->reg_rx = now;
    bool dup = c->state >= PC_REGISTERED;
    if (s->encrypted) {
        if (c->k == NULL) {
            if (r->dhlen == 0) {
                PLOG(p, s, LL_WARN, "client %08X registered without an ECDH key", c->id);
                abort_client(p, s, c, "Encryption required");
                return;
            }
            if (!p_pk_budget(p, p_src_key(p, from), 0, keys_cost_peer(s->k), "client key exchange"))
                return; /* it registers again in 5 GRTT */
            int rc = keys_peer_new(s->k, &c->k, c->id, r->dhblob, r->dhlen, r->rand2);
            if (rc < 0) {
                PLOG(p, s, LL_WARN, "REGISTER from %08X rejected: %s", c->id, keys_strerror(rc));
                abort_client(p, s, c, "Failed to import ECDH key");
                return;
            }
        }
        if (c->state == PC_MUTE && keys_peer_registered(s->k, c->k))
            cstate(p, s, c, PC_REGISTERED);
        /* The window stays open while clients still register (the server
         * may have stopped announcing before confirming them all). */
        if (s->phase < PP_RECEIVING && c->state < PC_READY)
            s->reg_end = now + p_grtt_times(s, s->robust);
        PLOG(p, s, LL_VERBOSE, "REGISTER%s from %08X", dup ? "+" : "", c->id);
        /* Once the server confirmed it, it waits for our KEYINFO, not the server. */
        if (c->state == PC_REGISTERED) {
            register_pending(p, s, c, now);
        } else if (c->state == PC_CONF && keys_keyed(s->k)) {
            uint32_t one = c->id;
            struct wire_ids l = wire_ids_of(&one, 1);
            send_keyinfo(p, s, &l, now);
        }
        return;
    }
    cstate(p, s, c, c->state == PC_MUTE ? PC_REGISTERED : c->state);
    PLOG(p, s, LL_VERBOSE, "REGISTER%s from %08X", dup ? "+" : "", c->id);
    if (c->state == PC_REGISTERED)
        register_pending(p, s, c, now);
}

static void c_client_key(struct proxy *p, struct psession *s, struct pclient *c, const uint8_t *msg,
                         size_t mlen, uint64_t now)
{
    if (c->k == NULL) {
        PLOG(p, s, LL_PROTO, "CLIENT_KEY from %08X before its REGISTER", c->id);
        return;
    }
    if (keys_peer_registered(s->k, c->k)) {
        /* A repeat: it is waiting for the server, like a repeated REGISTER. */
        if (c->state == PC_REGISTERED)
            register_pending(p, s, c, now);
        return;
    }
    const struct proxy_client *ce = p_client_entry(p, c->id);
    int rc =
        keys_peer_client_key(s->k, c->k, c->id, msg, mlen, ce ? ce->fp : NULL, ce ? ce->fplen : 0);
    if (rc < 0) {
        PLOG(p, s, LL_WARN, "CLIENT_KEY from %08X rejected: %s", c->id, keys_strerror(rc));
        abort_client(p, s, c,
                     rc == KEYS_EFP ? "Failed to verify client key fingerprint"
                                    : "Failed to verify client key");
        return;
    }
    PLOG(p, s, LL_VERBOSE, "CLIENT_KEY from %08X verified", c->id);
    cstate(p, s, c, PC_REGISTERED);
    register_pending(p, s, c, now);
}

static void check_all_ready(struct proxy *p, struct psession *s)
{
    for (size_t i = 0; i < s->ncl; i++)
        if (s->cl[i].state < PC_READY)
            return;
    if (s->phase == PP_READY) {
        PLOG(p, s, LL_VERBOSE, "every client keyed");
        s->phase = PP_RECEIVING;
        s->reg_end = 0;
    }
}

static void client_ready(struct proxy *p, struct psession *s, struct pclient *c)
{
    cstate(p, s, c, PC_READY);
    keys_peer_end_handshake(c->k);
    check_all_ready(p, s);
}

static void c_keyinfo_ack(struct proxy *p, struct psession *s, struct pclient *c,
                          const struct wire_keyinfo_ack *ka)
{
    if (!s->encrypted || c->k == NULL || !keys_peer_has_app(c->k)) {
        PLOG(p, s, LL_PROTO, "unexpected KEYINFO_ACK from %08X", c->id);
        return;
    }
    if (c->state == PC_READY || c->state == PC_DONE)
        return; /* a repeat */
    if (!keys_peer_verify(s->k, c->k, ka->verify, ka->verify_len)) {
        PLOG(p, s, LL_WARN, "KEYINFO_ACK from %08X: verify data mismatch", c->id);
        return;
    }
    PLOG(p, s, LL_VERBOSE, "client %08X keyed", c->id);
    client_ready(p, s, c);
    (void)p;
}

static void c_answer(struct proxy *p, struct psession *s, struct pclient *c,
                     const struct addr *from, const struct wire_msg *m, uint64_t now)
{
    struct agg_msg am;
    memset(&am, 0, sizeof(am));
    am.func = m->func;
    switch (m->func) {
    case FILEINFO_ACK:
        if (m->u.fileinfo_ack.ids.n > 0)
            goto nested;
        am.file_id = m->u.fileinfo_ack.file_id;
        am.partial = (m->u.fileinfo_ack.flags & FLAG_PARTIAL) != 0;
        am.has_echo = true;
        am.echo_us = m->u.fileinfo_ack.tstamp;
        break;
    case STATUS:
        am.file_id = m->u.status.file_id;
        am.section = m->u.status.section;
        am.naks = m->u.status.naks;
        am.naks_len = m->u.status.naks_len;
        PLOG(p, s, LL_DEBUG, "STATUS for file %u section %u from %08X", am.file_id, am.section,
             c->id);
        break;
    case COMPLETE:
        if (m->u.complete.ids.n > 0)
            goto nested;
        am.file_id = m->u.complete.file_id;
        am.status = m->u.complete.status;
        am.has_freespace = m->u.complete.has_freespace;
        am.freespace = m->u.complete.freespace;
        if (am.file_id == 0 && c->state != PC_ABORTED) {
            cstate(p, s, c, PC_DONE);
            bool all = true;
            for (size_t i = 0; i < s->ncl; i++)
                all &= s->cl[i].state == PC_DONE || s->cl[i].state == PC_ABORTED;
            if (all)
                s->phase = PP_DONE;
        }
        break;
    default:
        return;
    }
    aggregate(p, s, &am, c->id, now);
    return;
nested:
    p_drop(p, from, "client list in a client's answer: proxies behind proxies are not supported");
}

static void c_abort(struct proxy *p, struct psession *s, struct pclient *c, uint32_t id,
                    const struct wire_abort *a)
{
    char text[WIRE_ABORT_TEXT_LEN + 1];
    snprintf(text, sizeof(text), "%s", a->text);
    for (char *x = text; *x; x++)
        if ((unsigned char)*x < 0x20 || *x == 0x7f)
            *x = '?';
    PLOG(p, s, LL_WARN, "transfer aborted by client %08X: %s", id, text);
    if (c != NULL)
        cstate(p, s, c, PC_ABORTED);
    /* spec §3.4: upstream with host = the client. */
    abort_up(p, s, id, text);
}

/* An answer we do not aggregate (CC_ACK, ...): upstream as ours. */
static void c_other(struct proxy *p, struct psession *s, const uint8_t *pkt, size_t len,
                    const struct wire_msg *m)
{
    if (!s->encrypted) {
        if (p_send(p, &s->up, pkt, len))
            p->st.forwarded++;
        return;
    }
    /* spec §6.7: 5.0.1 forwards it under the client's key, which the
     * server does not have; sealed under ours the server can read it. */
    send_up(p, s, m, UP_APP);
}

static void from_client(struct proxy *p, struct psession *s, const struct addr *from,
                        const struct uftp_hdr *h, uint8_t *pkt, size_t len, uint64_t now)
{
    struct pclient *c = client_of(s, h->src_id);
    struct wire_msg m;
    const uint8_t *msg = NULL;
    size_t mlen = 0;
    bool under_hs = false;
    if (h->func == ENCRYPTED) {
        if (!s->encrypted || c == NULL || c->k == NULL) {
            p_drop(p, from, "encrypted, no keys for this sender");
            return;
        }
        bool hs = keys_client_auth(s->k) && !keys_peer_has_app(c->k);
        int rc = keys_peer_open(s->k, c->k, hs, pkt, len, p->scratch, &msg, &mlen, &under_hs);
        if (rc != CRYPTO_OK) {
            PLOG(p, s, LL_PROTO, "message from %08X rejected: %s", c->id, keys_strerror(rc));
            p->st.dropped++;
            return;
        }
        ssize_t n = wire_msg_decode(&m, s->version, msg, mlen);
        if (n < 0 || (under_hs && m.func != CLIENT_KEY) || m.func == ANNOUNCE) {
            p_drop(p, from, n < 0 ? wire_strerror((int)n) : "unexpected message type");
            return;
        }
        if (!under_hs && c->state == PC_CONF && m.func != KEYINFO_ACK) {
            /*
             * Sealed under its application key, which only the group master
             * gives: it holds our KEYINFO though its KEYINFO_ACK was lost
             * (clients receiving a file do not answer KEYINFO again).
             */
            PLOG(p, s, LL_VERBOSE, "client %08X keyed (its %s proves it)", c->id,
                 wire_func_name(m.func));
            client_ready(p, s, c);
        }
    } else {
        if (s->encrypted && c != NULL &&
            (h->func == CLIENT_KEY || h->func == KEYINFO_ACK || h->func == FILEINFO_ACK ||
             h->func == STATUS || h->func == COMPLETE)) {
            PLOG(p, s, LL_PROTO, "rejecting cleartext %s from %08X", wire_func_name(h->func),
                 c->id);
            p->st.dropped++;
            return;
        }
        struct wire_datagram d;
        ssize_t n = wire_datagram_decode(&d, pkt, len);
        if (n < 0) {
            if (elog_enabled(&p->env.log, LL_PROTO)) {
                char ab[ADDR_STRLEN];
                ELOG(&p->env.log, LL_PROTO, "invalid %s from %s: %s", wire_func_name(h->func),
                     addr_str(from, ab), wire_strerror((int)n));
            }
            p->st.dropped++;
            return;
        }
        m = d.msg;
        msg = pkt + UFTP_HDR_LEN;
        mlen = len - UFTP_HDR_LEN;
    }
    if (c == NULL && m.func != REGISTER) {
        p_drop(p, from, "not a registered client of this session");
        return;
    }
    if (c != NULL || m.func == REGISTER)
        s->idle_at = now + p_grtt_times(s, s->robust);
    switch (m.func) {
    case REGISTER:
        if (c == NULL && (c = add_client(p, s, h->src_id, from)) == NULL)
            return;
        c_register(p, s, c, from, &m.u.reg, now);
        return;
    case CLIENT_KEY:
        if (!s->encrypted)
            return;
        c_client_key(p, s, c, msg, mlen, now);
        return;
    case KEYINFO_ACK:
        c_keyinfo_ack(p, s, c, &m.u.keyinfo_ack);
        return;
    case FILEINFO_ACK:
    case STATUS:
    case COMPLETE:
        if (c->state == PC_ABORTED)
            return;
        c_answer(p, s, c, from, &m, now);
        return;
    case ABORT:
        if (h->func != ENCRYPTED && s->encrypted && keys_peer_has_app(c->k)) {
            /* A client holding keys aborts encrypted (spec §1.4 rules). */
            PLOG(p, s, LL_PROTO, "rejecting cleartext ABORT from %08X", c->id);
            p->st.dropped++;
            return;
        }
        c_abort(p, s, c, h->src_id, &m.u.abort);
        return;
    case KEYINFO:
    case REG_CONF:
    case FILEINFO:
    case FILESEG:
    case DONE:
    case DONE_CONF:
    case CONG_CTRL:
        p_drop(p, from, "server message from a client");
        return;
    default:
        c_other(p, s, pkt, len, &m);
        return;
    }
}

void psess_recv(struct proxy *p, const struct addr *from, const struct uftp_hdr *h, uint8_t *pkt,
                size_t len, uint64_t now)
{
    if (h->func == ANNOUNCE) {
        recv_announce(p, from, h, pkt, len, now);
        return;
    }
    struct psession *s = p_find(p, h->group_id, h->group_inst);
    if (s == NULL)
        return; /* not ours */
    if (h->version != s->version) {
        p_drop(p, from, "version differs from the session's");
        return;
    }
    p_heard(p, s, len, now);
    if (addr_equal(from, &s->up))
        from_server(p, s, from, h, pkt, len, now);
    else
        from_client(p, s, from, h, pkt, len, now);
}

/* ------------------------------------------------------------ timers */

static void expire_registration(struct proxy *p, struct psession *s)
{
    size_t n = 0;
    for (size_t i = 0; i < s->ncl; i++) {
        struct pclient *c = &s->cl[i];
        if (c->state >= PC_READY)
            continue;
        /* spec §3.4: both ways. */
        abort_client(p, s, c, "Client not fully registered at proxy");
        abort_up(p, s, c->id, "Client not fully registered at proxy");
        n++;
    }
    if (n > 0)
        PLOG(p, s, LL_WARN, "registration window closed: %zu client%s not keyed, aborted", n,
             n == 1 ? "" : "s");
    s->phase = PP_RECEIVING;
    s->reg_end = 0;
    s->keyinfo_at = 0;
    s->regup_at = 0;
}

void psess_timers(struct proxy *p, struct psession *s, uint64_t now)
{
    flush_due(p, s, now, false);
    /* spec §3.4: every 2 GRTT, the GRTT as it is now (the server's drops after announcing). */
    if (s->keyinfo_at != 0 && now >= s->keyinfo_at + claims_resend_us(s->grtt_us, 2))
        send_keyinfo(p, s, NULL, now);
    if (s->regup_at != 0 && now >= s->regup_at + claims_resend_us(s->grtt_us, 2) &&
        s->phase < PP_RECEIVING)
        register_again(p, s, now);
    if (s->reg_end != 0 && now >= s->reg_end && s->phase < PP_RECEIVING)
        expire_registration(p, s);
    if (now >= s->idle_at && agg_pending(&s->agg) == 0)
        end_session(p, s, "no traffic");
}

uint64_t psess_deadline(const struct psession *s)
{
    /* With answers pending the session cannot end: their flush comes first. */
    uint64_t t = agg_pending(&s->agg) > 0 ? agg_deadline(&s->agg) : s->idle_at;
    if (s->keyinfo_at != 0 && s->keyinfo_at + claims_resend_us(s->grtt_us, 2) < t)
        t = s->keyinfo_at + claims_resend_us(s->grtt_us, 2);
    if (s->reg_end != 0 && s->phase < PP_RECEIVING && s->reg_end < t)
        t = s->reg_end;
    if (s->regup_at != 0 && s->phase < PP_RECEIVING &&
        s->regup_at + claims_resend_us(s->grtt_us, 2) < t)
        t = s->regup_at + claims_resend_us(s->grtt_us, 2);
    return t;
}

void psess_shutdown(struct proxy *p, struct psession *s)
{
    /* Pending answers are moot: the session ends for everyone behind us. */
    abort_all_down(p, s, 0, "Proxy shutting down");
    abort_up(p, s, 0, "Proxy shutting down");
    PLOG(p, s, LL_INFO, "session aborted: shutting down");
}
