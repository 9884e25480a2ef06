/*
 * The proxy engine's public face (proxy/engine.h): configuration, the
 * receive pipeline (length → header → own echo → heartbeats → role), the
 * heartbeats of both sides (spec §1.8), multicast memberships, the budget
 * for public-key work, and poll / deadline over the sessions.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/crypto/fp.h"
#include "core/crypto/hbauth.h"
#include "core/crypto/keyblob.h"
#include "core/crypto/sig.h"
#include "core/base/quant.h"
#include "proxy/engine/proxy_int.h"

#define LIMIT_LOG_US  60000000u /* limit refusals: one log line a minute */
#define BUDGET_LOG_US 10000000u
#define HB_VERIFY_US  300u /* budget for one heartbeat signature check */

const char *proxy_role_name(enum proxy_role r)
{
    switch (r) {
    case PROXY_SERVER:
        return "server proxy";
    case PROXY_CLIENT:
        return "client proxy";
    case PROXY_RESPONSE:
        return "response proxy";
    default:
        return "?";
    }
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

static uint32_t new_nonce(struct proxy *p)
{
    uint32_t n = 0;
    while (n == 0)
        if (p->env.rng(p->env.ctx, &n, sizeof(n)) < 0)
            return 0;
    return n;
}

int proxy_new(struct proxy **out, const struct proxy_config *cfg, const struct proxy_env *env)
{
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
    if (p->env.rng(p->env.ctx, &p->amp_seed, sizeof(p->amp_seed)) < 0) {
        proxy_free(p);
        return ENG_ERNG;
    }
    if (cfg->role == PROXY_SERVER && cfg->down_fplen > 0 && (p->nonce = new_nonce(p)) == 0) {
        proxy_free(p);
        return ENG_ERNG;
    }
    *out = p;
    return ENG_OK;
}

/* ------------------------------------------------------------ helpers */

void p_drop(struct proxy *p, const struct addr *from, const char *why)
{
    p->st.dropped++;
    if (elog_enabled(&p->env.log, LL_PROTO)) {
        char ab[ADDR_STRLEN];
        ELOG(&p->env.log, LL_PROTO, "dropped datagram from %s: %s", addr_str(from, ab), why);
    }
}

void p_limit(struct proxy *p, const char *fmt, ...)
{
    p->st.refused++;
    if (p->limit_logged_at != 0 && p->now < p->limit_logged_at + LIMIT_LOG_US)
        return;
    p->limit_logged_at = p->now ? p->now : 1;
    va_list ap;
    va_start(ap, fmt);
    char msg[256];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    ELOG(&p->env.log, LL_WARN,
         "limit reached: %s (further refusals are counted, not logged, for a minute)", msg);
}

bool p_pk_budget(struct proxy *p, uint64_t src, unsigned rank, uint64_t cost_us, const char *what)
{
    if (keywork_take(&p->pk, src, rank, cost_us, p->now))
        return true;
    p->st.refused++;
    if (p->pk_logged_at == 0 || p->now >= p->pk_logged_at + BUDGET_LOG_US) {
        p->pk_logged_at = p->now ? p->now : 1;
        ELOG(&p->env.log, LL_WARN,
             "public-key work budget exhausted (%u us/s, half kept for servers listed in -S "
             "at their address): %s refused (%llu so far)",
             (unsigned)p->cfg.pk_budget_us, what, (unsigned long long)p->pk.refused);
    }
    return false;
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

void p_heard(struct proxy *p, struct psession *s, size_t len, uint64_t now)
{
    amp_rx(&s->amp, len);
    s->heard_us = now;
    p->charge = &s->amp;
}

void p_confirm(struct psession *s)
{
    s->confirmed = true;
}

/* IP and UDP header bytes of a datagram to dst (amp.h counts them). */
static unsigned hdr_bytes(const struct addr *dst)
{
    return addr_family(dst) == ADDR_V6 && !addr_is_v4mapped(dst) ? AMP_HDR_V6 : AMP_HDR_V4;
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

bool p_send(struct proxy *p, const struct addr *dst, const uint8_t *dg, size_t len)
{
    if (!addr_is_set(dst))
        return false;
    /* Issue 14 item 1: never more than 3 x what the session (or source) sent us. */
    if (p->charge != NULL && !amp_tx(p->charge, len, hdr_bytes(dst))) {
        p->st.amp_held++;
        return false;
    }
    if (!pq_push(&p->q, dst, dg, len)) {
        p->st.queue_drops++;
        return false;
    }
    return true;
}

void p_take_grtt(struct psession *s, const struct uftp_hdr *h)
{
    if (h->grtt != s->grtt_code || s->grtt_us == 0) {
        s->grtt_code = h->grtt;
        s->grtt_us = quant_rtt_decode_us(h->grtt);
        agg_set_hold(&s->agg, s->grtt_us);
    }
    s->gsize_code = h->gsize;
}

uint64_t p_grtt_times(const struct psession *s, uint64_t n)
{
    /* Issue 14: at most 300 s whatever GRTT and ROBUST the server claims (core/proto/claims.h). */
    return claims_expiry_us(s->grtt_us, n, CLAIMS_IDLE_MAX_US);
}

/* ------------------------------------------------------------ memberships */

void p_member(struct proxy *p, bool join, const struct addr *group, const struct addr *source)
{
    struct member m;
    int k = member_ref(p->mem, &p->nmem, p->capmem, join, group, source, &m);
    if (k != 0)
        pq_push_op(&p->q, k > 0, &m.group, &m.source);
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

/* ------------------------------------------------------------ sessions */

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

static int pick_slot(struct proxy *p, const struct uftp_hdr *h, const struct addr *from,
                     uint64_t now, int *evict)
{
    struct admit_slot sl[PROXY_MAX_SESSIONS];
    for (unsigned i = 0; i < p->cfg.max_sessions; i++) {
        const struct psession *s = &p->sess[i];
        sl[i] = (struct admit_slot){
            .state = admit_state(s), .rank = s->rank, .src = s->src, .heard_us = s->heard_us};
    }
    return admit_pick(sl, p->cfg.max_sessions, p_rank(p, h->src_id, from), p_src_key(p, from), now,
                      admit_stale_us(quant_rtt_decode_us(h->grtt)), evict);
}

bool p_slot_available(struct proxy *p, const struct uftp_hdr *h, const struct addr *from,
                      uint64_t now)
{
    int evict;
    return pick_slot(p, h, from, now, &evict) >= 0;
}

struct psession *p_new_session(struct proxy *p, const struct uftp_hdr *h, const struct addr *from,
                               size_t len, uint64_t now)
{
    int evict;
    int i = pick_slot(p, h, from, now, &evict);
    if (i < 0)
        return NULL;
    struct psession *s = &p->sess[i];
    if (evict) {
        PLOG(p, s, LL_VERBOSE, "unconfirmed session of %08X gives its slot to %08X (issue 14)",
             s->server_id, h->src_id);
        p->st.evicted++;
        p_free_session(p, s);
    }
    memset(s, 0, sizeof(*s));
    s->phase = PP_REGISTERED;
    s->version = h->version;
    s->group_id = h->group_id;
    s->group_inst = h->group_inst;
    s->server_id = h->src_id;
    s->rank = p_rank(p, h->src_id, from);
    s->src = p_src_key(p, from);
    s->unconfirmed_until = now + p->cfg.unconfirmed_us;
    p_heard(p, s, len, now);
    idmap_init(&s->cmap);
    if ((unsigned)i + 1 > p->nslots)
        p->nslots = (unsigned)i + 1;
    p->st.sessions++;
    p->st.sessions_seen++;
    return s;
}

void p_free_session(struct proxy *p, struct psession *s)
{
    if (s->phase == PP_FREE)
        return;
    if (p->charge == &s->amp)
        p->charge = NULL;
    if (s->joined)
        p_member(p, false, &s->priv, addr_is_set(&s->ssm_src) ? &s->ssm_src : NULL);
    for (size_t i = 0; i < s->ncl; i++)
        keys_peer_free(s->cl[i].k);
    free(s->cl);
    idmap_free(&s->cmap);
    agg_free(&s->agg);
    keys_free(s->k);
    memset(s, 0, sizeof(*s));
    p->st.sessions--;
    while (p->nslots > 0 && p->sess[p->nslots - 1].phase == PP_FREE)
        p->nslots--;
}

/* ------------------------------------------------------------ heartbeats */

static void hb_answer(struct proxy *p, const struct addr *to, uint8_t auth)
{
    /*
     * Issue 14: at most 3 x what this source sent (HB_REQ and HB_RESP are
     * the same size), and, but for our downstream, AMP_STRAY_PER_S answers
     * a second: a flood from spoofed sources must not fill our send path.
     */
    p->charge = amp_table_get(&p->amps, p_src_key(p, to));
    if (!(addr_is_set(&p->down) && addr_equal(to, &p->down)) &&
        !ratelim_take(&p->strays, 1, p->now)) {
        p->st.amp_held++;
        return;
    }
    uint8_t b[64];
    struct wire_hb_resp m = {.ver = UFTP_VER5, .auth = auth, .nonce = 0};
    if (auth == HB_AUTH_CHALLENGE)
        m.nonce = p->nonce;
    ssize_t n = wire_hb_resp_encode(b + UFTP_HDR_LEN, sizeof(b) - UFTP_HDR_LEN, &m);
    if (n < 0)
        return;
    /* spec §1.4: always version 0x50, group 0. */
    struct uftp_hdr h = {.version = UFTP_VER5, .func = HB_RESP, .src_id = p->cfg.proxy_id};
    uftp_hdr_encode(b, UFTP_HDR_LEN, &h);
    p_send(p, to, b, UFTP_HDR_LEN + (size_t)n);
}

/*
 * HB_REQ (spec §1.8). A server proxy with -s fp=... knows its downstream
 * only from heartbeats: the current downstream gets OK; anyone else a
 * CHALLENGE with the current nonce, and an answer with that nonce, a key
 * of the right fingerprint and a valid signature becomes the downstream
 * (a NAT'd peer whose address changed proves itself again). Everyone else
 * answers OK to anyone.
 */
static void recv_hb_req(struct proxy *p, const struct addr *from, const uint8_t *pkt, size_t len)
{
    struct wire_hb_req m = {.ver = pkt[0]};
    char ab[ADDR_STRLEN];
    if (wire_hb_req_decode(&m, pkt + UFTP_HDR_LEN, len - UFTP_HDR_LEN) < 0) {
        p_drop(p, from, "malformed HB_REQ");
        return;
    }
    ELOG(&p->env.log, LL_DEBUG, "HB_REQ from %s", addr_str(from, ab));
    if (p->cfg.role != PROXY_SERVER || p->cfg.down_fplen == 0) {
        hb_answer(p, from, HB_AUTH_OK);
        return;
    }
    if (addr_is_set(&p->down) && addr_equal(from, &p->down)) {
        hb_answer(p, from, HB_AUTH_OK);
        return;
    }
    if (m.nonce != p->nonce || m.keylen == 0) {
        hb_answer(p, from, HB_AUTH_CHALLENGE);
        return;
    }
    /* Issue 14 item 3: the fingerprint costs one SHA-1, before any public-key work. */
    if (!fp_match(p->cfg.down_fp, p->cfg.down_fplen, m.keyblob, m.keylen)) {
        p->st.hb_auth_failed++;
        ELOG(&p->env.log, LL_PROTO, "heartbeat from %s: wrong key fingerprint", addr_str(from, ab));
        hb_answer(p, from, HB_AUTH_FAILED);
        return;
    }
    if (!p_pk_budget(p, p_src_key(p, from), 0, HB_VERIFY_US, "heartbeat signature check"))
        return;
    int rc = hbauth_verify(m.keyblob, m.keylen, m.sig, m.siglen, m.nonce, p->cfg.down_fp,
                           p->cfg.down_fplen);
    if (rc != CRYPTO_OK) {
        p->st.hb_auth_failed++;
        ELOG(&p->env.log, LL_WARN, "heartbeat from %s failed authentication: %s",
             addr_str(from, ab), rc == HBAUTH_EFP ? "wrong key fingerprint" : crypto_strerror(rc));
        hb_answer(p, from, HB_AUTH_FAILED);
        return;
    }
    p->st.hb_auth_ok++;
    if (addr_is_set(&p->down)) {
        char ob[ADDR_STRLEN];
        ELOG(&p->env.log, LL_INFO, "downstream moved from %s to %s (authenticated heartbeat)",
             addr_str(&p->down, ob), addr_str(from, ab));
    } else {
        ELOG(&p->env.log, LL_INFO, "using %s as downstream (authenticated heartbeat)",
             addr_str(from, ab));
    }
    p->down = *from;
    /* A fresh nonce: a captured answer cannot be replayed from elsewhere. */
    uint32_t n = new_nonce(p);
    if (n != 0)
        p->nonce = n;
    hb_answer(p, from, HB_AUTH_OK);
}

static void recv_hb_resp(struct proxy *p, const struct addr *from, const uint8_t *pkt, size_t len)
{
    struct wire_hb_resp m = {.ver = pkt[0]};
    char ab[ADDR_STRLEN];
    if (wire_hb_resp_decode(&m, pkt + UFTP_HDR_LEN, len - UFTP_HDR_LEN) < 0) {
        p_drop(p, from, "malformed HB_RESP");
        return;
    }
    if (hb_resp(&p->hb, from, m.auth, m.nonce, p->now) < 0) {
        p_drop(p, from, "HB_RESP from a host we send no heartbeats to");
        return;
    }
    if (m.auth == HB_AUTH_CHALLENGE)
        ELOG(&p->env.log, LL_VERBOSE, "heartbeat to %s: authentication requested",
             addr_str(from, ab));
    else if (m.auth == HB_AUTH_FAILED)
        ELOG(&p->env.log, LL_WARN, "heartbeat to %s: authentication failed", addr_str(from, ab));
    else
        ELOG(&p->env.log, LL_DEBUG, "heartbeat to %s: ok", addr_str(from, ab));
}

/* Our own heartbeats: plain ones every interval, signed ones when challenged. */
static void hb_emit(struct proxy *p, uint64_t now)
{
    int i;
    uint32_t nonce;
    while ((i = hb_next(&p->hb, now, &nonce)) >= 0) {
        uint8_t b[UFTP_HDR_LEN + 8 + KEYBLOB_MAX + SIG_MAX + 8];
        struct wire_hb_req m = {.ver = UFTP_VER5, .nonce = nonce};
        uint8_t sig[SIG_MAX];
        if (nonce != 0) {
            size_t bl;
            m.keyblob = crypto_key_blob(p->cfg.key, &bl);
            m.keylen = (uint16_t)bl;
            int sl = hbauth_sign(p->cfg.key, nonce, sig, sizeof(sig));
            if (sl < 0) {
                ELOG(&p->env.log, LL_WARN, "cannot sign a heartbeat: %s", crypto_strerror(sl));
                continue;
            }
            m.sig = sig;
            m.siglen = (uint16_t)sl;
        }
        ssize_t n = wire_hb_req_encode(b + UFTP_HDR_LEN, sizeof(b) - UFTP_HDR_LEN, &m);
        if (n < 0)
            continue;
        struct uftp_hdr h = {.version = UFTP_VER5, .func = HB_REQ, .src_id = p->cfg.proxy_id};
        uftp_hdr_encode(b, UFTP_HDR_LEN, &h);
        const struct addr *to = &p->hb.hosts[i].addr;
        if (elog_enabled(&p->env.log, LL_DEBUG)) {
            char ab[ADDR_STRLEN];
            ELOG(&p->env.log, LL_DEBUG, "sending %sHB_REQ to %s", nonce ? "authenticated " : "",
                 addr_str(to, ab));
        }
        p_send(p, to, b, UFTP_HDR_LEN + (size_t)n);
    }
}

/* ------------------------------------------------------------ receive */

/*
 * KEY_REQ (spec §1.9 item 5): a response proxy answers with a v4 PROXY_KEY
 * (its long-lived ECDH key, signed over a fresh nonce) on every public
 * address. At most once per 5 s, whoever asks: every KEY_REQ would
 * otherwise buy a signature and a multicast datagram (spec §6 item 10:
 * 5.0.1 never updates its timestamp).
 */
#define PK4_INTERVAL_US UINT64_C(5000000)

static void recv_key_req(struct proxy *p, const struct addr *from, const struct uftp_hdr *h,
                         const uint8_t *pkt, size_t len, uint64_t now)
{
    struct wire_key_req m = {.ver = UFTP_VER4};
    if (h->version != UFTP_VER4 ||
        wire_key_req_decode(&m, pkt + UFTP_HDR_LEN, len - UFTP_HDR_LEN) < 0) {
        p_drop(p, from, "KEY_REQ: malformed or not v4");
        return;
    }
    if (p->cfg.role != PROXY_RESPONSE || p->cfg.dh4 == NULL) {
        p_drop(p, from, "KEY_REQ: not a response proxy");
        return;
    }
    if (p->pk4_at != 0 && now < p->pk4_at + PK4_INTERVAL_US)
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
    p->pk4_at = now;
    struct uftp_hdr ph = {.version = UFTP_VER4, .func = PROXY_KEY, .src_id = p->cfg.proxy_id};
    uftp_hdr_encode(b, UFTP_HDR_LEN, &ph);
    char ab[ADDR_STRLEN];
    for (size_t i = 0; i < p->cfg.npub; i++) {
        struct addr dst = p->cfg.pub_addrs[i];
        addr_set_port(&dst, p->cfg.client_port);
        p_send(p, &dst, b, UFTP_HDR_LEN + (size_t)n);
    }
    ELOG(&p->env.log, LL_VERBOSE, "KEY_REQ from %s: sent a v4 PROXY_KEY to the public addresses",
         addr_str(from, ab));
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
        p_drop(p, from, "bad length");
        return;
    }
    /* 2. header: proxies take v5 and v4 (spec §1.1) */
    struct uftp_hdr h;
    if (uftp_hdr_decode(&h, pkt, len) < 0) {
        p_drop(p, from, "not UFTP or unknown version");
        return;
    }
    /* 3. our own multicast, looped back */
    if (from_self(p, from))
        return;
    /* Issue 14: credit for answers that belong to no session (HB_RESP), by source. */
    amp_rx(amp_table_get(&p->amps, p_src_key(p, from)), len);
    /* 4. session-less messages */
    switch (h.func) {
    case HB_REQ:
        recv_hb_req(p, from, pkt, len);
        return;
    case HB_RESP:
        recv_hb_resp(p, from, pkt, len);
        return;
    case KEY_REQ:
        recv_key_req(p, from, &h, pkt, len, now_us);
        return;
    case PROXY_KEY:
        return; /* for clients only (another proxy's) */
    default:
        break;
    }
    /* 5. by role */
    if (p->cfg.role == PROXY_SERVER)
        fwd_recv(p, from, &h, pkt, len, now_us);
    else
        psess_recv(p, from, &h, pkt, len, now_us);
    p->charge = NULL;
}

/* ------------------------------------------------------------ poll */

static void run_timers(struct proxy *p, uint64_t now)
{
    p->charge = NULL;
    hb_emit(p, now);
    uint64_t next = hb_deadline(&p->hb);
    for (unsigned i = 0; i < p->nslots; i++) {
        struct psession *s = &p->sess[i];
        if (s->phase == PP_FREE)
            continue;
        /* Issue 14 item 2: nobody answered: the slot is not held longer than this. */
        if (!s->confirmed && now >= s->unconfirmed_until) {
            PLOG(p, s, LL_VERBOSE, "session ended: unconfirmed for %llu s",
                 (unsigned long long)(p->cfg.unconfirmed_us / 1000000u));
            p->st.expired++;
            p_free_session(p, s);
            continue;
        }
        p->charge = &s->amp;
        if (p->cfg.role == PROXY_SERVER)
            fwd_timers(p, s, now);
        else
            psess_timers(p, s, now);
        p->charge = NULL;
        if (s->phase == PP_FREE)
            continue;
        uint64_t d = psess_deadline(s);
        if (!s->confirmed && s->unconfirmed_until < d)
            d = s->unconfirmed_until;
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
        run_timers(p, now_us);
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
    for (unsigned i = 0; i < p->nslots; i++) {
        struct psession *s = &p->sess[i];
        if (s->phase == PP_FREE)
            continue;
        if (p->cfg.role != PROXY_SERVER)
            psess_shutdown(p, s);
        p_free_session(p, s);
    }
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
}

void proxy_free(struct proxy *p)
{
    if (p == NULL)
        return;
    if (p->sess != NULL)
        for (unsigned i = 0; i < p->cfg.max_sessions; i++)
            p_free_session(p, &p->sess[i]);
    free(p->sess);
    free(p->mem);
    pq_free(&p->q);
    hb_free(&p->hb);
    free(p);
}
