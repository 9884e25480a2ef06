/*
 * The receiver engine's public face (receiver/engine.h): configuration,
 * the receive pipeline in the OpenBSD style (length → header → session →
 * sequence window and authentication → dispatch), multicast memberships
 * and the poll loop over up to 100 sessions.
 */
#include "receiver/engine/recv_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/crypto/hbauth.h"
#include "core/crypto/keyblob.h"
#include "core/crypto/keyfile.h"
#include "core/crypto/sig.h"
#include "core/base/file.h"
#include "core/wire/proxykey.h"

void receiver_config_defaults(struct receiver_config *c)
{
    memset(c, 0, sizeof(*c));
    c->max_sessions = RECEIVER_MAX_SESSIONS;
    c->pk_budget_us = RECEIVER_PK_BUDGET_US;
    c->hb_interval_us = 20000000u;
    c->unconfirmed_us = CLAIMS_UNCONFIRMED_DEF_US;
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

/* ------------------------------------------------------------ memberships */

static void push_op(struct receiver *r, bool join, const struct addr *g, const struct addr *src)
{
    if (r->ops_n == r->ops_cap) {
        ELOG(&r->env.log, LL_WARN, "receiver: membership queue full");
        return;
    }
    struct rmemop *op = &r->ops[(r->ops_head + r->ops_n++) % r->ops_cap];
    op->join = join;
    op->group = *g;
    if (src != NULL)
        op->source = *src;
    else
        addr_clear(&op->source);
}

void recv_member(struct receiver *r, bool join, const struct addr *group, const struct addr *source)
{
    struct member m;
    int k = member_ref(r->mem, &r->nmem, r->capmem, join, group, source, &m);
    if (k != 0)
        push_op(r, k > 0, &m.group, &m.source);
}

static void start(struct receiver *r)
{
    r->started = true;
    /* spec §2.2 -M / -o: the public addresses, per server with -o. */
    for (size_t i = 0; i < r->cfg.npub; i++) {
        if (!r->cfg.ssm) {
            recv_member(r, true, &r->cfg.pub_addrs[i], NULL);
            continue;
        }
        for (size_t k = 0; k < r->cfg.nserver; k++) {
            const struct addr *src = &r->cfg.servers[k].addr;
            if (addr_is_set(src) && addr_family(src) == addr_family(&r->cfg.pub_addrs[i]))
                recv_member(r, true, &r->cfg.pub_addrs[i], src);
        }
    }
}

/* ------------------------------------------------------------ stray aborts */

void recv_stray_abort(struct receiver *r, const struct addr *to, const struct uftp_hdr *h,
                      const char *text, uint64_t now)
{
    if (r->stray_n == RSTRAY_RING)
        return; /* bounded: a flood of refused ANNOUNCEs gets no answers */
    if (!ratelim_take(&r->strays, 1, now)) {
        r->st.amp_held++;
        return; /* issue 14: AMP_STRAY_PER_S at most, whatever the credit */
    }
    struct rstray *st = &r->stray[(r->stray_head + r->stray_n++) % RSTRAY_RING];
    st->to = *to;
    st->version = h->version;
    st->group_id = h->group_id;
    st->group_inst = h->group_inst;
    snprintf(st->text, sizeof(st->text), "%s", text);
}

/* IP and UDP header bytes of a datagram to dst (amp.h counts them). */
static unsigned hdr_bytes(const struct addr *dst)
{
    return addr_family(dst) == ADDR_V6 && !addr_is_v4mapped(dst) ? AMP_HDR_V6 : AMP_HDR_V4;
}

uint64_t recv_src_key(const struct receiver *r, const struct addr *a)
{
    uint8_t ip[16];
    size_t n = addr_get_ip(a, ip);
    return amp_key(ip, n, r->amp_seed);
}

static bool stray_output(struct receiver *r, struct eng_out *out)
{
again:
    if (r->stray_n == 0)
        return false;
    struct rstray *st = &r->stray[r->stray_head];
    r->stray_head = (r->stray_head + 1) % RSTRAY_RING;
    r->stray_n--;
    struct wire_msg m;
    memset(&m, 0, sizeof(m));
    m.func = ABORT;
    m.u.abort.ver = st->version;
    snprintf(m.u.abort.text, sizeof(m.u.abort.text), "%s", st->text);
    ssize_t n = wire_msg_encode(out->buf + UFTP_HDR_LEN, out->cap - UFTP_HDR_LEN, &m);
    if (n < 0)
        return false;
    struct uftp_hdr h = {.version = st->version,
                         .func = ABORT,
                         .seq = r->stray_seq++,
                         .src_id = r->cfg.client_id,
                         .group_id = st->group_id,
                         .group_inst = st->group_inst};
    uftp_hdr_encode(out->buf, UFTP_HDR_LEN, &h);
    /*
     * Issue 14 item 8: a 324-byte ABORT only to a source that sent a third
     * of that; the -r response proxy is ours to talk to.
     */
    bool configured = recv_has_px4(r) && addr_equal(&st->to, &r->cfg.resp_proxy);
    if (!configured && !amp_tx(amp_table_get(&r->amps, recv_src_key(r, &st->to)),
                               UFTP_HDR_LEN + (size_t)n, hdr_bytes(&st->to))) {
        r->st.amp_held++;
        goto again;
    }
    out->kind = ENG_SEND;
    out->dst = st->to;
    out->len = out->seglen = UFTP_HDR_LEN + (size_t)n;
    out->nseg = 1;
    return true;
}

static void drop(struct receiver *r, const struct addr *from, const char *why);

/*
 * spec §1.9 item 4: KEY_REQ (v4) to the -r response proxy every 5 s until
 * its PROXY_KEY arrives.
 */
#define KEYREQ_INTERVAL_US UINT64_C(5000000)

static bool keyreq_output(struct receiver *r, uint64_t now, struct eng_out *out)
{
    if (!recv_has_px4(r) || r->px4_dh != NULL || now < r->keyreq_at || r->shutdown)
        return false;
    r->keyreq_at = now + KEYREQ_INTERVAL_US;
    struct wire_key_req k = {.ver = UFTP_VER4};
    ssize_t n = wire_key_req_encode(out->buf + UFTP_HDR_LEN, out->cap - UFTP_HDR_LEN, &k);
    if (n < 0)
        return false;
    struct uftp_hdr h = {.version = UFTP_VER4, .func = KEY_REQ, .src_id = r->cfg.client_id};
    uftp_hdr_encode(out->buf, UFTP_HDR_LEN, &h);
    out->kind = ENG_SEND;
    out->dst = r->cfg.resp_proxy;
    out->len = out->seglen = UFTP_HDR_LEN + (size_t)n;
    out->nseg = 1;
    char ab[ADDR_STRLEN];
    ELOG(&r->env.log, LL_VERBOSE, "sent KEY_REQ to %s", addr_str(&r->cfg.resp_proxy, ab));
    return true;
}

/* A v4 PROXY_KEY: only from exactly the -r address, checked and verified (spec §1.9 item 4). */
static void recv_proxy_key4(struct receiver *r, const struct addr *from, const uint8_t *pkt,
                            size_t len, uint64_t now)
{
    char ab[ADDR_STRLEN];
    if (!recv_has_px4(r) || !addr_equal(from, &r->cfg.resp_proxy)) {
        drop(r, from, "v4 PROXY_KEY not from our response proxy (-r)");
        return;
    }
    if (len < UFTP_HDR_LEN + 4 ||
        !recv_pk_take(r, recv_src_key(r, from), KEYWORK_RANK_FIRST,
                      skeys_cost_verify(pkt + UFTP_HDR_LEN + 12, len - UFTP_HDR_LEN - 12), now))
        return;
    struct crypto_key *sig = NULL, *dh = NULL;
    int rc = skeys_proxy4_key(pkt + UFTP_HDR_LEN, len - UFTP_HDR_LEN, r->cfg.resp_proxy_fp,
                              r->cfg.resp_proxy_fplen, &sig, &dh);
    if (rc != CRYPTO_OK) {
        r->st.auth_failed++;
        r->st.dropped++;
        ELOG(&r->env.log, LL_WARN, "rejecting PROXY_KEY from response proxy %s: %s",
             addr_str(from, ab), skeys_strerror(rc));
        return;
    }
    bool first = r->px4_dh == NULL;
    crypto_key_free(r->px4_sig);
    crypto_key_free(r->px4_dh);
    r->px4_sig = sig;
    r->px4_dh = dh;
    ELOG(&r->env.log, first ? LL_INFO : LL_VERBOSE, "received PROXY_KEY from response proxy %s",
         addr_str(from, ab));
}

/* ------------------------------------------------------------ receive */

static struct rsession *find(struct receiver *r, uint32_t group_id, uint8_t inst)
{
    struct rsession *s = &r->sess[r->last_hit];
    if (s->phase != RP_FREE && s->group_id == group_id && s->group_inst == inst)
        return s;
    for (unsigned i = 0; i < r->nslots; i++) {
        s = &r->sess[i];
        if (s->phase != RP_FREE && s->group_id == group_id && s->group_inst == inst) {
            r->last_hit = i;
            return s;
        }
    }
    return NULL;
}

static void drop(struct receiver *r, const struct addr *from, const char *why)
{
    r->st.dropped++;
    if (elog_enabled(&r->env.log, LL_PROTO)) {
        char ab[ADDR_STRLEN];
        ELOG(&r->env.log, LL_PROTO, "dropped datagram from %s: %s", addr_str(from, ab), why);
    }
}

bool recv_pk_take(struct receiver *r, uint64_t src, unsigned rank, uint64_t cost, uint64_t now)
{
    if (keywork_take(&r->pk, src, rank, cost, now))
        return true;
    r->st.pk_limited++;
    r->st.dropped++;
    if (now >= r->pk_log_at) {
        r->pk_log_at = now + 1000000;
        ELOG(&r->env.log, LL_WARN,
             "rate-limiting public-key work: %llu ANNOUNCE/KEYINFO dropped (budget %u us/s, "
             "half kept for servers listed in -S at their address); servers will resend",
             (unsigned long long)r->pk.refused, r->cfg.pk_budget_us);
    }
    return false;
}

void recv_refused(struct receiver *r, uint64_t now, const char *fmt, ...)
{
    /* A burst of 20, then 5 a second at LL_WARN; the rest at LL_PROTO, counted. */
    int lvl = ratelim_take(&r->refuse_log, 1, now) ? LL_WARN : LL_PROTO;
    if (!elog_enabled(&r->env.log, lvl)) {
        r->refuse_quiet++;
        return;
    }
    char msg[320];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (lvl == LL_WARN && r->refuse_quiet > 0)
        ELOG(&r->env.log, lvl, "%s (and %llu other refusals since, logged at level 4)", msg,
             (unsigned long long)r->refuse_quiet);
    else
        ELOG(&r->env.log, lvl, "%s", msg);
    if (lvl == LL_WARN)
        r->refuse_quiet = 0;
    else
        r->refuse_quiet++;
}

/*
 * spec §1.4 "Cleartext rejection" for an encrypted session: FILEINFO,
 * FILESEG, DONE, DONE_CONF and CONG_CTRL only ever come encrypted, ABORT
 * too once we hold keys. ANNOUNCE and KEYINFO are signed (checked by their
 * handlers); REG_CONF is only for clients behind proxies.
 */
static bool cleartext_ok(const struct rsession *s, uint8_t func)
{
    switch (func) {
    case ANNOUNCE:
    case KEYINFO:
    case REG_CONF:
    case PROXY_KEY:
        return true;
    case ABORT:
        return !skeys_client_keyed(s->keys);
    default:
        return false;
    }
}

/* Decrypts in place (spec §1.8): the server application key, replay window first. */
static bool authenticate(struct receiver *r, struct rsession *s, const struct addr *from,
                         uint8_t *pkt, size_t len, struct wire_msg *m)
{
    if (s->keys == NULL || !skeys_client_keyed(s->keys)) {
        r->st.nokeys++;
        drop(r, from, s->keys ? "encrypted, keys not established yet" : "encrypted, no keys");
        return false;
    }
    const uint8_t *msg;
    size_t mlen;
    int rc = skeys_client_open(s->keys, pkt, len, &msg, &mlen);
    if (rc != CRYPTO_OK) {
        if (rc == SKEYS_EREPLAY || rc == SKEYS_EOLD)
            r->st.replayed++;
        else
            r->st.auth_failed++;
        r->st.dropped++;
        RLOG(r, s, LL_PROTO, "rejecting message from %08X: %s", s->server_id, skeys_strerror(rc));
        if (rc == SKEYS_ELIMIT)
            sess_abort(r, s, "Too many forged packets: server key retired", false);
        return false;
    }
    ssize_t n = wire_msg_decode(m, s->version, msg, mlen);
    if (n < 0 || m->func == ANNOUNCE || m->func == REGISTER || m->func == KEYINFO) {
        r->st.dropped++;
        RLOG(r, s, LL_PROTO, "invalid encrypted message: %s",
             n < 0 ? wire_strerror((int)n) : wire_func_name(m->func));
        return false;
    }
    return true;
}

const struct crypto_key *recv_sigkey(struct receiver *r)
{
    if (r->cfg.sigkey != NULL)
        return r->cfg.sigkey;
    /* 5.0.x makes an ephemeral EC P-256 key at start; we make it when first needed. */
    if (r->own_key == NULL && keyfile_gen_ephemeral(&r->own_key) != CRYPTO_OK)
        return NULL;
    return r->own_key;
}

static void recv_hb_resp(struct receiver *r, const struct addr *from, const uint8_t *pkt,
                         size_t len, uint64_t now)
{
    struct wire_hb_resp m = {.ver = pkt[0]};
    char ab[ADDR_STRLEN];
    if (wire_hb_resp_decode(&m, pkt + UFTP_HDR_LEN, len - UFTP_HDR_LEN) < 0) {
        drop(r, from, "malformed HB_RESP");
        return;
    }
    if (hb_resp(&r->hb, from, m.auth, m.nonce, now) < 0) {
        drop(r, from, "HB_RESP from a host we send no heartbeats to");
        return;
    }
    if (m.auth == HB_AUTH_CHALLENGE)
        ELOG(&r->env.log, LL_VERBOSE, "heartbeat to %s: authentication requested",
             addr_str(from, ab));
    else if (m.auth == HB_AUTH_FAILED)
        ELOG(&r->env.log, LL_WARN, "heartbeat to %s: authentication failed", addr_str(from, ab));
    else
        ELOG(&r->env.log, LL_DEBUG, "heartbeat to %s: ok", addr_str(from, ab));
}

/* The next heartbeat due (plain, or signed when challenged), into out. */
static bool hb_output(struct receiver *r, uint64_t now, struct eng_out *out)
{
    uint32_t nonce;
    int i;
    while ((i = hb_next(&r->hb, now, &nonce)) >= 0) {
        struct wire_hb_req m = {.ver = UFTP_VER5, .nonce = nonce};
        uint8_t sig[SIG_MAX];
        if (nonce != 0) {
            const struct crypto_key *k = recv_sigkey(r);
            if (k == NULL)
                continue;
            size_t bl;
            m.keyblob = crypto_key_blob(k, &bl);
            m.keylen = (uint16_t)bl;
            int sl = hbauth_sign(k, nonce, sig, sizeof(sig));
            if (sl < 0) {
                ELOG(&r->env.log, LL_WARN, "cannot sign a heartbeat: %s", crypto_strerror(sl));
                continue;
            }
            m.sig = sig;
            m.siglen = (uint16_t)sl;
        }
        ssize_t n = wire_hb_req_encode(out->buf + UFTP_HDR_LEN, out->cap - UFTP_HDR_LEN, &m);
        if (n < 0)
            continue;
        struct uftp_hdr h = {
            .version = UFTP_VER5, .func = HB_REQ, .seq = r->hb_seq++, .src_id = r->cfg.client_id};
        uftp_hdr_encode(out->buf, UFTP_HDR_LEN, &h);
        out->kind = ENG_SEND;
        out->dst = r->hb.hosts[i].addr;
        out->len = out->seglen = UFTP_HDR_LEN + (size_t)n;
        out->nseg = 1;
        if (elog_enabled(&r->env.log, LL_DEBUG)) {
            char ab[ADDR_STRLEN];
            ELOG(&r->env.log, LL_DEBUG, "sending %sHB_REQ to %s", nonce ? "authenticated " : "",
                 addr_str(&out->dst, ab));
        }
        return true;
    }
    return false;
}

void receiver_recv(struct receiver *r, const struct addr *from, const struct addr *to, uint8_t *pkt,
                   size_t len, uint8_t tos, uint64_t now_us)
{
    (void)to;
    (void)tos;
    if (r->shutdown)
        return;
    /* 1. length */
    if (len < UFTP_HDR_LEN + 4) {
        drop(r, from, "too short");
        return;
    }
    /* 2. header: clients take v5 and v4 (spec §1.1) */
    struct uftp_hdr h;
    if (uftp_hdr_decode(&h, pkt, len) < 0) {
        drop(r, from, "not UFTP or unknown version");
        return;
    }
    /* A v4 response proxy's key, answering our KEY_REQ: no session of its own. */
    if (h.version == UFTP_VER4 && h.func == PROXY_KEY) {
        recv_proxy_key4(r, from, pkt, len, now_us);
        return;
    }
    /* Heartbeat answers from the proxies we send heartbeats to (spec §1.8). */
    if (h.func == HB_RESP) {
        recv_hb_resp(r, from, pkt, len, now_us);
        return;
    }
    if (h.func == HB_REQ)
        return; /* for proxies */
    /* 3. session */
    struct rsession *s = find(r, h.group_id, h.group_inst);
    if (s != NULL && s->ending) {
        drop(r, from, "session ending");
        return;
    }
    /*
     * Issue 14: what we may send back is earned by what arrives, for the
     * session or, without one, from the source (core/proto/amp.h).
     */
    if (s != NULL) {
        amp_rx(&s->amp, len);
        s->heard_us = now_us;
    } else {
        amp_rx(amp_table_get(&r->amps, recv_src_key(r, from)), len);
    }
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
            drop(r, from, "encrypted, no session");
            return;
        }
        if (!authenticate(r, s, from, pkt, len, &m))
            return;
        authentic = true;
    } else {
        struct wire_datagram d;
        ssize_t n = wire_datagram_decode(&d, pkt, len);
        if (n < 0) {
            if (elog_enabled(&r->env.log, LL_PROTO)) {
                char ab[ADDR_STRLEN];
                ELOG(&r->env.log, LL_PROTO, "invalid %s from %s: %s", wire_func_name(h.func),
                     addr_str(from, ab), wire_strerror((int)n));
            }
            r->st.dropped++;
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
    /*
     * 5. sequence window (spec §1.6): KEYINFO, ABORT, PROXY_KEY are exempt.
     * In an encrypted session only authenticated packets move it, so a
     * forged seq cannot push the real ones out.
     */
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
    /* 6. dispatch */
    if (m.func == ANNOUNCE) {
        if (s == NULL)
            sess_announce(r, from, &h, &m.u.announce, pkt, len, now_us);
        else
            sess_announce_again(r, s, &h, &m.u.announce, pkt, len, now_us);
        return;
    }
    if (s == NULL)
        return; /* not ours */
    if (m.func == KEYINFO) {
        if (s->keys != NULL)
            sess_keyinfo(r, s, &m.u.keyinfo, pkt, len, now_us);
        return;
    }
    if (m.func == PROXY_KEY) {
        /* Signed (encrypted sessions) or just an address (clear ones): its handler checks. */
        sess_proxy_key(r, s, from, &h, pkt + UFTP_HDR_LEN, len - UFTP_HDR_LEN, now_us);
        return;
    }
    if (!authentic)
        return; /* REG_CONF in an encrypted session: for clients behind a proxy, ignored */
    sess_grtt(s, h.grtt);
    sess_dispatch(r, s, &h, &m, now_us);
}

/* ------------------------------------------------------------ poll */

int receiver_poll(struct receiver *r, uint64_t now_us, struct eng_out *out)
{
    int rc = eng_out_check(out);
    if (rc < 0)
        return rc;
    eng_out_reset(out);
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
    if (stray_output(r, out))
        return out->kind;
    if (!r->shutdown && hb_output(r, now_us, out))
        return out->kind;
    if (keyreq_output(r, now_us, out))
        return out->kind;
    for (unsigned i = 0; i < r->nslots; i++) {
        struct rsession *s = &r->sess[i];
        if (s->phase == RP_FREE)
            continue;
        sess_timers(r, s, now_us);
        while (sess_output(r, s, now_us, out)) {
            /* Issue 14 item 1: never more than 3 x what the session received. */
            if (amp_tx(&s->amp, out->len, hdr_bytes(&out->dst)))
                return out->kind;
            r->st.amp_held++;
            RLOG(r, s, LL_PROTO, "not sending %s: beyond 3 x what the session received",
                 wire_func_name(out->buf[1]));
            /*
             * Nothing but more datagrams from the peer brings credit: the
             * rest of a NAK round is dropped as lost (the server's next DONE
             * asks again), not generated here only to be dropped one by one.
             */
            s->f.nak_emit = false;
        }
        if (s->ending && s->pending == 0) {
            sess_free(r, s);
            if (r->ops_n > 0)
                return receiver_poll(r, now_us, out);
        }
    }
    if (r->shutdown && r->st.sessions == 0 && r->nmem > 0) {
        /* Every JOIN gets its LEAVE, the public groups last. */
        while (r->nmem > 0) {
            struct member *m = &r->mem[--r->nmem];
            push_op(r, false, &m->group, &m->source);
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
        const struct rsession *s = &r->sess[i];
        if (s->phase == RP_FREE)
            continue;
        uint64_t d = sess_deadline(s);
        if (d < t)
            t = d;
    }
    return t;
}

void receiver_shutdown(struct receiver *r, uint64_t now_us)
{
    (void)now_us;
    if (r->shutdown)
        return;
    for (unsigned i = 0; i < r->nslots; i++)
        if (r->sess[i].phase != RP_FREE)
            sess_abort(r, &r->sess[i], "Client shutting down", true);
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

void receiver_free(struct receiver *r)
{
    if (r == NULL)
        return;
    if (r->sess != NULL) {
        for (unsigned i = 0; i < r->cfg.max_sessions; i++) {
            struct rsession *s = &r->sess[i];
            if (s->phase != RP_FREE && s->f.open) {
                r->env.storage.close(r->env.ctx, s->f.h, RECEIVER_CLOSE_ABORT, &s->f.rf);
                s->f.open = false;
            }
            bitmap_free(&s->f.missing);
            free(s->f.sec_missing);
            skeys_client_free(s->keys);
        }
    }
    crypto_key_free(r->own_key);
    crypto_key_free(r->px4_sig);
    crypto_key_free(r->px4_dh);
    hb_free(&r->hb);
    free(r->sess);
    free(r->mem);
    free(r->ops);
    free(r);
}
