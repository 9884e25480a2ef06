/*
 * One receiver session (spec §1.6, "Client state machine"):
 *
 *   REGISTERED --REG_CONF / FILEINFO--> MIDGROUP <--file done-- RECEIVING
 *   MIDGROUP --FILEINFO (regular file)--> RECEIVING
 *   MIDGROUP/RECEIVING --DONE(0) listing us--> COMPLETE --DONE_CONF--> end
 *
 * Timers: REGISTER every 5·GRTT until 5·ROBUST·GRTT (≥ 1 s); data timeout
 * ROBUST·GRTT (≥ 1 s); NAK timer 1·GRTT; COMPLETE(0) every 4·GRTT until
 * 4·ROBUST·GRTT (≥ 1 s). The server claims GRTT and ROBUST, so resends
 * count the GRTT as at least 10 ms and expiries are capped (issue 14,
 * core/proto/claims.h): registration at the unconfirmed timeout, the rest
 * at 300 s.
 */
#include "receiver/engine/recv_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/crypto/keyfile.h"
#include "core/proto/grtt.h"
#include "core/base/quant.h"

static const char *const rphase_names[] = {"FREE",     "PREREGISTER", "REGISTERED",
                                           "MIDGROUP", "RECEIVING",   "COMPLETE"};

static void set_rphase(struct receiver *r, struct rsession *s, enum rphase p)
{
    if (s->phase != p)
        RLOG(r, s, LL_DEBUG, "phase %s -> %s", rphase_names[s->phase], rphase_names[p]);
    s->phase = (uint8_t)p;
}

/* The reference's set_timeout(): the timer of the current phase. */
static void set_timeout(struct rsession *s, uint64_t now, bool rescale)
{
    if (!rescale)
        s->timeout_start = now;
    uint64_t t;
    switch (s->phase) {
    case RP_PREREGISTER:
    case RP_REGISTERED:
        t = claims_resend_us(s->grtt_us, 5);
        break;
    case RP_COMPLETE:
        t = claims_resend_us(s->grtt_us, 4);
        break;
    default:
        t = claims_expiry_us(s->grtt_us, s->robust, CLAIMS_IDLE_MAX_US);
        break;
    }
    s->timeout_at = s->timeout_start + t;
}

void sess_grtt(struct rsession *s, uint8_t code)
{
    if (code == s->grtt_code)
        return; /* the common case: no decode per data packet */
    s->grtt_code = code;
    uint64_t g = quant_rtt_decode_us(code);
    uint64_t diff = g > s->grtt_us ? g - s->grtt_us : s->grtt_us - g;
    if (diff > 1000) {
        s->grtt_us = g;
        set_timeout(s, 0, true);
    }
}

void sess_touch(struct rsession *s, uint8_t grtt_code, uint64_t now)
{
    sess_grtt(s, grtt_code);
    set_timeout(s, now, false);
}

static void event(struct receiver *r, struct rsession *s, enum receiver_event_kind k, bool ok)
{
    if (r->env.event == NULL)
        return;
    struct receiver_event ev = {
        .kind = k,
        .server_id = s->server_id,
        .group_id = s->group_id,
        .group_inst = s->group_inst,
        .server_addr = &s->server,
        .file = k == RECEIVER_EV_RESULT ? &s->f.rf : NULL,
        .status = s->f.comp_status,
        .ok = ok,
    };
    r->env.event(r->env.ctx, &ev);
}

static void file_release(struct rfile *f)
{
    bitmap_free(&f->missing);
    free(f->sec_missing);
    f->sec_missing = NULL;
    f->nak_at = 0;
    f->nak_emit = false;
}

/* Drops the open file (abort): storage discards it. */
static void file_discard(struct receiver *r, struct rsession *s)
{
    struct rfile *f = &s->f;
    if (f->open) {
        r->env.storage.close(r->env.ctx, f->h, RECEIVER_CLOSE_ABORT, &f->rf);
        f->open = false;
    }
    file_release(f);
}

void sess_free(struct receiver *r, struct rsession *s)
{
    file_discard(r, s);
    if (s->joined)
        recv_member(r, false, &s->mcast, &s->ssm_src);
    s->joined = false;
    if (r->env.storage.session_end != NULL)
        r->env.storage.session_end(r->env.ctx, s->server_id, s->group_id, s->group_inst, s->end_ok);
    event(r, s, RECEIVER_EV_END, s->end_ok);
    RLOG(r, s, LL_INFO, "session %s", s->end_ok ? "complete" : "aborted");
    skeys_client_free(s->keys); /* wipes every key */
    memset(s, 0, sizeof(*s));
    if (r->st.sessions > 0)
        r->st.sessions--;
    while (r->nslots > 0 && r->sess[r->nslots - 1].phase == RP_FREE)
        r->nslots--;
}

void sess_abort(struct receiver *r, struct rsession *s, const char *text, bool tell_server)
{
    if (s->ending)
        return;
    RLOG(r, s, LL_WARN, "%s", text);
    if (s->f.open) {
        r->st.files_failed++;
        s->f.comp_status = COMP_STAT_REJECTED;
        event(r, s, RECEIVER_EV_RESULT, false);
    }
    file_discard(r, s);
    s->pending = 0;
    if (tell_server) {
        snprintf(s->abort_text, sizeof(s->abort_text), "%s", text);
        s->pending = P_ABORT;
    }
    s->ending = true;
    s->end_ok = false;
}

/* Session completed (DONE_CONF, or its timeout after all files). */
static void sess_complete(struct rsession *s)
{
    s->pending = 0;
    s->ending = true;
    s->end_ok = true;
}

/* ------------------------------------------------------------ ANNOUNCE */

/* A slot's standing for admission (core/proto/admit.h). */
static uint8_t admit_state(const struct rsession *s)
{
    if (s->phase == RP_FREE)
        return s->ending ? ADMIT_AUTHENTICATED : ADMIT_FREE;
    if (s->ending)
        return ADMIT_AUTHENTICATED; /* freed at the next poll; not taken from under its ABORT */
    if (s->phase == RP_PREREGISTER || s->phase == RP_REGISTERED)
        return ADMIT_UNCONFIRMED;
    return s->keys != NULL && skeys_client_keyed(s->keys) ? ADMIT_AUTHENTICATED : ADMIT_CONFIRMED;
}

/*
 * The slot for a new session (issue 14 item 2): a free one, or one whose
 * unconfirmed session may give way (core/proto/admit.h). *victim is set to
 * the session to end first when the slot is taken; NULL = refused.
 */
static struct rsession *pick_slot(struct receiver *r, uint8_t rank, uint64_t src, uint64_t grtt_us,
                                  uint64_t now, struct rsession **victim)
{
    struct admit_slot sl[RECEIVER_MAX_SESSIONS];
    unsigned n = r->cfg.max_sessions;
    for (unsigned i = 0; i < n; i++) {
        const struct rsession *s = &r->sess[i];
        sl[i] = (struct admit_slot){
            .state = admit_state(s), .rank = s->rank, .src = s->src, .heard_us = s->heard_us};
    }
    int evict;
    int i = admit_pick(sl, n, rank, src, now, admit_stale_us(grtt_us), &evict);
    *victim = NULL;
    if (i < 0)
        return NULL;
    if (evict)
        *victim = &r->sess[i];
    return &r->sess[i];
}

static const struct receiver_server *server_entry(const struct receiver *r, uint32_t id)
{
    for (size_t i = 0; i < r->cfg.nserver; i++)
        if (r->cfg.servers[i].id == id)
            return &r->cfg.servers[i];
    return NULL;
}

/*
 * A server's rank (issue 14): 2 when the -S list names it and the line's
 * address is where the ANNOUNCE came from, 1 when it names it (any
 * address, or none given), 0 without a -S list.
 */
static uint8_t server_rank(const struct receiver_server *srv, const struct addr *from)
{
    if (srv == NULL)
        return 0;
    if (addr_is_set(&srv->addr) && addr_equal_ip(&srv->addr, from))
        return 2;
    return 1;
}

/*
 * The encryption checks of a new session (spec §1.8): supported cipher and
 * hash, then the checks that cost no public-key work (issue 14 item 3: the
 * blobs' structure, the -S fingerprint, the timestamp and replay memory),
 * then within the public-key budget (charged for the keys as they really
 * are, fairly between sources, -S servers at their address first) the
 * signature and the key exchange. Returns 0 with *out set; 1 to refuse
 * the server (an ABORT says *why); -1 to drop the ANNOUNCE silently
 * (forged, replayed, or over budget).
 */
static int announce_keys(struct receiver *r, const struct addr *from, const struct uftp_hdr *h,
                         const struct wire_announce *a, const struct receiver_server *srv,
                         uint8_t rank, uint8_t *pkt, size_t len, uint64_t now,
                         struct skeys_client **out, const char **why)
{
    const struct wire_enc_info *e = &a->enc;
    char ab[ADDR_STRLEN];
    *out = NULL;
    if (!aead_supported(e->keytype)) {
        *why = "Keytype invalid or not supported here";
        return 1;
    }
    if (!crypto_hash_session_ok(e->hashtype)) {
        *why = "Hashtype invalid or not supported here";
        return 1;
    }
    /* spec §1.9 item 2: from a v4 server, ECDH key exchange with AEAD only. */
    if (h->version == UFTP_VER4 && e->sigtype != SIG_AUTHENC) {
        *why = "Invalid sigtype specified";
        return 1;
    }
    if (h->version == UFTP_VER4 && e->keyextype != KEYEX_ECDH_RSA &&
        e->keyextype != KEYEX_ECDH_ECDSA) {
        *why = "Invalid keyextype specified";
        return 1;
    }
    uint32_t cost;
    int rc = skeys_announce_check(e, srv ? srv->fp : NULL, srv ? srv->fplen : 0, &cost);
    if (rc == SKEYS_EFP) {
        recv_refused(r, now, "[%08X/%u] rejecting ANNOUNCE from %08X at %s: %s", h->group_id,
                     h->group_inst, h->src_id, addr_str(from, ab), skeys_strerror(rc));
        *why = "Failed to verify server key fingerprint";
        return 1;
    }
    if (rc == SKEYS_ETYPE) {
        *why = "Key type not supported here";
        return 1;
    }
    if (rc != CRYPTO_OK) {
        r->st.auth_failed++;
        r->st.dropped++;
        recv_refused(r, now, "[%08X/%u] dropping ANNOUNCE from %08X at %s: malformed key",
                     h->group_id, h->group_inst, h->src_id, addr_str(from, ab));
        return -1;
    }
    /* Issue 14 item 9: a signed ANNOUNCE is good for its window, once. */
    rc = fresh_check(&r->fresh, h->src_id, h->group_id, h->group_inst, a->tstamp, r_wall(r, now));
    if (rc != FRESH_OK) {
        r->st.stale++;
        r->st.dropped++;
        recv_refused(r, now, "[%08X/%u] dropping ANNOUNCE from %08X at %s: %s", h->group_id,
                     h->group_inst, h->src_id, addr_str(from, ab), fresh_strerror(rc));
        return -1;
    }
    if (!recv_pk_take(r, recv_src_key(r, from), rank, cost, now))
        return -1;
    const struct crypto_key *sigkey = r->cfg.sigkey;
    if ((e->flags & FLAG_CLIENT_AUTH) && (sigkey = recv_sigkey(r)) == NULL) {
        *why = "Cannot generate a client key";
        return 1;
    }
    struct skeys_client_cfg cc = {.group_id = h->group_id,
                                  .group_inst = h->group_inst,
                                  .server_id = h->src_id,
                                  .client_id = r->cfg.client_id,
                                  .sigkey = sigkey,
                                  /* v4 verify data: the private address field as sent */
                                  .addrlen = (a->flags & FLAG_IPV6) ? 16 : 4};
    memcpy(cc.addr, a->priv_addr, cc.addrlen);
    /* spec §1.9 item 4: through a v4 response proxy, the key exchange is with its key. */
    if (h->version == UFTP_VER4 && recv_has_px4(r))
        cc.peer_dh4 = r->px4_dh;
    if (srv != NULL && srv->fplen > 0) {
        cc.fp = srv->fp;
        cc.fplen = srv->fplen;
    }
    if (r->env.rng(r->env.ctx, cc.rand2, sizeof(cc.rand2)) < 0) {
        *why = "Failed to get random bytes";
        return 1;
    }
    struct skeys_client *k = NULL;
    rc = skeys_client_new(&k, &cc, e, pkt, len);
    /* Through a proxy the key exchange waits for its PROXY_KEY (spec §1.8). */
    if (rc == CRYPTO_OK && (srv == NULL || srv->proxy_id == 0 || h->version == UFTP_VER4))
        rc = skeys_client_handshake(k);
    crypto_wipe(cc.rand2, sizeof(cc.rand2));
    if (rc == CRYPTO_OK) {
        fresh_note(&r->fresh, h->src_id, h->group_id, h->group_inst, a->tstamp, r_wall(r, now));
        *out = k;
        return 0;
    }
    skeys_client_free(k);
    recv_refused(r, now, "[%08X/%u] rejecting ANNOUNCE from %08X at %s: %s", h->group_id,
                 h->group_inst, h->src_id, addr_str(from, ab), skeys_strerror(rc));
    if (rc == SKEYS_EFP) {
        *why = "Failed to verify server key fingerprint";
        return 1;
    }
    if (rc == SKEYS_ETYPE) {
        *why = "Key type not supported here";
        return 1;
    }
    r->st.auth_failed++;
    r->st.dropped++;
    return -1; /* bad blob or signature: unauthenticated, no answer */
}

/* A refused ANNOUNCE: logged (rate-limited) and answered with an ABORT from no session. */
static void refuse(struct receiver *r, const struct addr *from, const struct uftp_hdr *h,
                   const char *why, uint64_t now)
{
    char ab[ADDR_STRLEN];
    recv_refused(r, now, "[%08X/%u] rejecting ANNOUNCE from %08X at %s (protocol %s): %s",
                 h->group_id, h->group_inst, h->src_id, addr_str(from, ab),
                 h->version == UFTP_VER4 ? "v4" : "v5", why);
    /* A v4 session's every reply goes to the -r response proxy (spec §1.9 item 4). */
    if (h->version == UFTP_VER4 && recv_has_px4(r))
        recv_stray_abort(r, &r->cfg.resp_proxy, h, why, now);
    else
        recv_stray_abort(r, from, h, why, now);
}

void sess_announce(struct receiver *r, const struct addr *from, const struct uftp_hdr *h,
                   const struct wire_announce *a, uint8_t *pkt, size_t len, uint64_t now)
{
    char ab[ADDR_STRLEN];
    if (a->ids.n > 0 && !wire_ids_contains(&a->ids, r->cfg.client_id)) {
        ELOG(&r->env.log, LL_VERBOSE, "[%08X/%u] not in the host list of ANNOUNCE from %08X",
             h->group_id, h->group_inst, h->src_id);
        return;
    }
    const struct receiver_server *srv = NULL;
    if (r->cfg.nserver > 0 && (srv = server_entry(r, h->src_id)) == NULL) {
        recv_refused(r, now, "[%08X/%u] rejecting ANNOUNCE from %08X: server not in server list",
                     h->group_id, h->group_inst, h->src_id);
        recv_stray_abort(r, from, h, "Server not in server list", now);
        return;
    }
    /* Refusals that still tell the server (as 5.0.1 does); checked before any crypto or slot. */
    const char *why = NULL;
    if (a->blocksize < UFTP_MIN_BLOCKSIZE || a->blocksize > UFTP_MAX_BLOCKSIZE)
        why = "Invalid block size";
    else if (!a->has_enc && r->cfg.encrypted_only)
        why = "No unencrypted transfers allowed";
    else if (a->cc_type != CC_NONE)
        why = "Congestion control not supported"; /* TFMCC: a later issue */
    else if (a->robust == 0)
        why = "Invalid robustness factor";
    else if (h->version == UFTP_VER4 && a->has_enc && recv_has_px4(r) && r->px4_dh == NULL)
        why = "Response proxy set but haven't gotten key yet"; /* spec §1.9 item 4 */
    if (why != NULL) {
        refuse(r, from, h, why, now);
        return;
    }
    uint8_t rank = server_rank(srv, from);
    uint64_t src = recv_src_key(r, from);
    uint64_t grtt = quant_rtt_decode_us(h->grtt);
    struct rsession *victim;
    struct rsession *s = pick_slot(r, rank, src, grtt, now, &victim);
    if (s == NULL) {
        r->st.slots_full++;
        recv_refused(r, now,
                     "[%08X/%u] ANNOUNCE from %08X at %s refused: all %u session slots are held "
                     "by sessions that may not give way yet",
                     h->group_id, h->group_inst, h->src_id, addr_str(from, ab),
                     r->cfg.max_sessions);
        return;
    }
    struct skeys_client *keys = NULL;
    if (a->has_enc) {
        const char *kwhy = NULL;
        int rc = announce_keys(r, from, h, a, srv, rank, pkt, len, now, &keys, &kwhy);
        if (rc < 0)
            return;
        if (rc > 0) {
            refuse(r, from, h, kwhy, now);
            return;
        }
    }
    if (victim != NULL) {
        RLOG(r, victim, LL_VERBOSE, "unconfirmed session of %08X gives its slot to %08X (issue 14)",
             victim->server_id, h->src_id);
        r->st.evicted++;
        victim->end_ok = false;
        sess_free(r, victim);
    }
    if (r->nslots < (unsigned)(s - r->sess) + 1)
        r->nslots = (unsigned)(s - r->sess) + 1;
    memset(s, 0, sizeof(*s));
    s->keys = keys;
    if (keys != NULL)
        s->verify_cost = skeys_cost_verify(a->enc.keyblob, a->enc.keylen);
    s->rank = rank;
    s->src = src;
    s->heard_us = now;
    amp_rx(&s->amp, len); /* the ANNOUNCE itself earns the first REGISTER */
    s->version = h->version;
    s->group_id = h->group_id;
    s->group_inst = h->group_inst;
    s->server_id = h->src_id;
    s->server = *from;
    s->reply = *from;
    if (s->version == UFTP_VER4 && recv_has_px4(r))
        s->reply = r->cfg.resp_proxy; /* every reply goes to the v4 response proxy */
    s->grtt_us = grtt;
    s->grtt_code = h->grtt;
    s->robust = a->robust;
    s->blocksize = a->blocksize;
    s->sync_preview = (a->flags & FLAG_SYNC_PREVIEW) != 0;
    s->sync_mode = s->sync_preview || (a->flags & FLAG_SYNC_MODE) != 0;
    s->max_txseq = h->seq;
    s->server_ts = a->tstamp;
    s->server_rx = now;
    s->phase = RP_REGISTERED;
    if (srv != NULL && srv->proxy_id != 0 && s->version == UFTP_VER5) {
        /* spec §1.6: wait for the PROXY_KEY of the proxy the -S line names (v5 only, §1.9). */
        s->proxy_id = srv->proxy_id;
        s->phase = RP_PREREGISTER;
    }
    r->st.sessions++;
    r->st.sessions_seen++;
    RLOG(r, s, LL_INFO, "received request from %08X at %s%s%s", s->server_id, addr_str(from, ab),
         s->version == UFTP_VER4 ? " (protocol v4)" : "",
         keys ? (skeys_client_auth(keys) ? " (encrypted, client auth)" : " (encrypted)") : "");
    event(r, s, RECEIVER_EV_CONNECT, true);

    /* The private group: all zero in unicast mode (spec §2.1 -M). */
    int fam = (a->flags & FLAG_IPV6) ? ADDR_V6 : ADDR_V4;
    static const uint8_t zero[16];
    if (memcmp(a->priv_addr, zero, fam == ADDR_V6 ? 16 : 4) != 0) {
        addr_set_ip(&s->mcast, fam, a->priv_addr, 0);
        if (!addr_is_multicast(&s->mcast)) {
            sess_abort(r, s, "Invalid multicast address", true);
            return;
        }
        if (r->cfg.ssm) {
            if (!addr_is_ssm(&s->mcast)) {
                sess_abort(r, s, "Invalid source specific multicast address", true);
                return;
            }
            /* spec §2.2 -o: the -S address, else the ANNOUNCE's source. */
            if (srv != NULL && addr_is_set(&srv->addr))
                s->ssm_src = srv->addr;
            else
                s->ssm_src = *from;
            addr_set_port(&s->ssm_src, 0);
        }
        recv_member(r, true, &s->mcast, &s->ssm_src);
        s->joined = true;
        char mb[ADDR_STRLEN];
        RLOG(r, s, LL_VERBOSE, "using private multicast address %s", addr_str(&s->mcast, mb));
    }
    /*
     * spec §1.6: give up registering after 5·ROBUST·GRTT (≥ 1 s), the
     * PROXY_KEY wait too; never later than the unconfirmed timeout (issue 14
     * item 2: GRTT 1000 s and ROBUST 255 would hold the slot for 15 days).
     */
    s->expire_at = now + claims_expiry_us(s->grtt_us, 5u * s->robust, r->cfg.unconfirmed_us);
    if (s->phase == RP_REGISTERED)
        s->pending |= P_REGISTER;
    else
        RLOG(r, s, LL_VERBOSE, "waiting for PROXY_KEY from proxy %08X", s->proxy_id);
    set_timeout(s, now, false);
}

static const struct receiver_proxy *proxy_entry(const struct receiver *r, uint32_t id)
{
    for (size_t i = 0; i < r->cfg.nproxy; i++)
        if (r->cfg.proxies[i].id == id)
            return &r->cfg.proxies[i];
    return NULL;
}

/*
 * PROXY_KEY (spec §1.8 "Proxy re-keying"): in PREREGISTER, from the proxy
 * the -S line names, with the -R fingerprint when one is given and a valid
 * signature (encrypted sessions). Its source becomes where every reply
 * goes; the key exchange is then with the proxy's ECDH key, P_ctx in C_ctx1.
 * A forged or misdirected one is dropped, never answered: the real one
 * follows every ANNOUNCE.
 */
void sess_proxy_key(struct receiver *r, struct rsession *s, const struct addr *from,
                    const struct uftp_hdr *h, const uint8_t *msg, size_t mlen, uint64_t now)
{
    char ab[ADDR_STRLEN];
    if (s->phase != RP_PREREGISTER)
        return; /* a copy (one follows every ANNOUNCE), or another proxy's */
    if (h->src_id != s->proxy_id) {
        RLOG(r, s, LL_VERBOSE, "PROXY_KEY from %08X, not from our proxy %08X", h->src_id,
             s->proxy_id);
        r->st.dropped++;
        return;
    }
    const struct receiver_proxy *px = proxy_entry(r, s->proxy_id);
    if (s->keys != NULL) {
        if (!recv_pk_take(r, s->src, s->rank, s->verify_cost, now))
            return;
        int rc = skeys_client_proxy_key(s->keys, s->proxy_id, msg, mlen, px ? px->fp : NULL,
                                        px ? px->fplen : 0);
        if (rc == CRYPTO_OK)
            rc = skeys_client_handshake(s->keys);
        if (rc != CRYPTO_OK) {
            r->st.auth_failed++;
            r->st.dropped++;
            RLOG(r, s, LL_WARN, "rejecting PROXY_KEY from %08X at %s: %s", h->src_id,
                 addr_str(from, ab), skeys_strerror(rc));
            if (rc == SKEYS_EFP)
                sess_abort(r, s, "Failed to verify proxy key fingerprint", true);
            return;
        }
    }
    RLOG(r, s, LL_INFO, "received PROXY_KEY from proxy %08X at %s", h->src_id, addr_str(from, ab));
    s->reply = *from;
    set_rphase(r, s, RP_REGISTERED);
    s->pending |= P_REGISTER;
    set_timeout(s, now, false);
}

void sess_announce_again(struct receiver *r, struct rsession *s, const struct uftp_hdr *h,
                         const struct wire_announce *a, uint8_t *pkt, size_t len, uint64_t now)
{
    if (h->src_id != s->server_id || h->version != s->version)
        return;
    if (s->keys != NULL) {
        /* Only a signed copy may keep the session alive or change its GRTT. */
        if (!a->has_enc) {
            r->st.cleartext++;
            r->st.dropped++;
            return;
        }
        if (!recv_pk_take(r, s->src, s->rank, skeys_cost_verify(a->enc.keyblob, a->enc.keylen),
                          now))
            return;
        int rc = skeys_client_verify_announce(s->keys, &a->enc, pkt, len);
        if (rc != CRYPTO_OK) {
            r->st.auth_failed++;
            r->st.dropped++;
            RLOG(r, s, LL_PROTO, "rejecting ANNOUNCE: %s", skeys_strerror(rc));
            return;
        }
    }
    if (s->phase == RP_MIDGROUP)
        sess_touch(s, h->grtt, now); /* keep waiting for the others */
    else
        sess_grtt(s, h->grtt);
}

void sess_keyinfo(struct receiver *r, struct rsession *s, const struct wire_keyinfo *k,
                  uint8_t *pkt, size_t len, uint64_t now)
{
    if (wire_destkeys_find(&k->keys, r->cfg.client_id) == NULL)
        return; /* for others: nothing to check */
    if (s->phase != RP_REGISTERED && s->phase != RP_MIDGROUP)
        return;
    bool keyed = skeys_client_keyed(s->keys);
    if (!recv_pk_take(r, s->src, s->rank, s->verify_cost, now))
        return;
    int rc = keyed ? skeys_client_keyinfo_verify(s->keys, pkt, len, k)
                   : skeys_client_keyinfo(s->keys, pkt, len, k);
    if (rc != CRYPTO_OK) {
        if (rc == SKEYS_EREPLAY || rc == SKEYS_EOLD)
            r->st.replayed++;
        else
            r->st.auth_failed++;
        r->st.dropped++;
        RLOG(r, s, LL_PROTO, "rejecting KEYINFO: %s", skeys_strerror(rc));
        return;
    }
    if (!keyed) {
        RLOG(r, s, LL_VERBOSE, "registration confirmed, keys established");
        set_rphase(r, s, RP_MIDGROUP);
        s->pending &= ~(uint32_t)(P_REGISTER | P_CLIENT_KEY);
    }
    /* An already-keyed client just acknowledges again (spec §1.4). */
    s->pending |= P_KEYINFO_ACK;
    set_timeout(s, now, false);
}

/* ------------------------------------------------------------ FILEINFO */

static void early_complete(struct receiver *r, struct rsession *s, uint8_t status, uint64_t now)
{
    set_rphase(r, s, RP_MIDGROUP);
    s->f.comp_status = status;
    s->pending |= P_COMPLETE;
    if (status == COMP_STAT_REJECTED)
        r->st.files_failed++;
    else if (s->f.ftype == FTYPE_REG)
        r->st.files_ok++;
    event(r, s, RECEIVER_EV_RESULT, status != COMP_STAT_REJECTED);
    set_timeout(s, now, false);
}

static void reject(struct receiver *r, struct rsession *s, const char *why, uint64_t now)
{
    char esc[160];
    file_name_escape(esc, sizeof(esc), s->f.name, strlen(s->f.name));
    RLOG(r, s, LL_WARN, "rejecting file '%s': %s", esc, why);
    early_complete(r, s, COMP_STAT_REJECTED, now);
}

/* Receives a regular file (5.0.1 handle_fileinfo_regular, with sync mode). */
static void fileinfo_regular(struct receiver *r, struct rsession *s, uint64_t now)
{
    struct rfile *f = &s->f;
    const struct receiver_storage *st = &r->env.storage;
    int rc = blocks_init(&f->lay, f->rf.size, s->blocksize);
    if (rc < 0) {
        /* spec §6 item 17: more than 65535 sections would wrap. */
        reject(r, s, "file too large for the block size", now);
        return;
    }
    if (s->sync_mode) {
        struct file_stat fst;
        rc = st->stat(r->env.ctx, &f->rf, &fst);
        if (rc == 0) {
            bool skip;
            if (f->rf.mtime < fst.mtime)
                skip = true;
            else if (f->rf.mtime > fst.mtime)
                skip = false;
            else
                skip = fst.type == FTYPE_REG && fst.size == f->rf.size;
            if (skip) {
                RLOG(r, s, LL_INFO, "skipping %s, in sync", f->name);
                early_complete(r, s, COMP_STAT_SKIPPED, now);
                return;
            }
            RLOG(r, s, LL_INFO, "overwriting out of sync file %s", f->name);
            f->rf.overwrite = true;
            if (s->sync_preview) {
                early_complete(r, s, COMP_STAT_OVERWRITE, now);
                return;
            }
        } else if (s->sync_preview) {
            early_complete(r, s, COMP_STAT_NORMAL, now);
            return;
        }
    }
    uint64_t avail = 0;
    if (st->free_space(r->env.ctx, &f->rf, &avail) == 0 && f->rf.size > avail) {
        /* 5.0.1 aborts the whole session here; refusing the file keeps the rest. */
        reject(r, s, "not enough disk space", now);
        return;
    }
    if (bitmap_init(&f->missing, f->lay.blocks, true) < 0 ||
        (f->sec_missing = calloc(f->lay.sections ? f->lay.sections : 1, sizeof(uint32_t))) ==
            NULL) {
        file_release(f);
        reject(r, s, "out of memory", now);
        return;
    }
    for (uint32_t i = 0; i < f->lay.sections; i++)
        f->sec_missing[i] = blocks_in_section(&f->lay, i);
    f->nmissing = f->lay.blocks;
    rc = st->open(r->env.ctx, &f->rf, &f->h);
    if (rc == 1) {
        file_release(f);
        early_complete(r, s, COMP_STAT_NORMAL, now);
        return;
    }
    if (rc < 0) {
        file_release(f);
        char why[96];
        snprintf(why, sizeof(why), "cannot open: %s", file_strerror(rc));
        reject(r, s, why, now);
        return;
    }
    f->open = true;
    f->comp_status = f->rf.overwrite ? COMP_STAT_OVERWRITE : COMP_STAT_NORMAL;
    f->last_section = 0;
    f->got_data = false;
    f->nak_at = 0;
    set_rphase(r, s, RP_RECEIVING);
    s->pending |= P_FILEINFO_ACK;
    set_timeout(s, now, false);
}

static void recv_fileinfo(struct receiver *r, struct rsession *s, const struct wire_fileinfo *fi,
                          uint64_t now)
{
    if (!wire_ids_contains(&fi->ids, r->cfg.client_id)) {
        set_timeout(s, now, false);
        return;
    }
    /* The server's clock for our echo (spec §1.3). */
    s->server_ts = fi->tstamp;
    s->server_rx = now;
    if (s->phase == RP_RECEIVING && fi->file_id == s->f.file_id) {
        s->pending |= P_FILEINFO_ACK; /* a resend: answer again */
        set_timeout(s, now, false);
        return;
    }
    if (s->phase == RP_MIDGROUP && fi->file_id == s->f.file_id && s->file_id != 0) {
        s->pending |= P_COMPLETE;
        set_timeout(s, now, false);
        return;
    }
    if (s->phase == RP_RECEIVING) {
        RLOG(r, s, LL_WARN, "FILEINFO %04X while receiving %04X: dropping the old file",
             fi->file_id, s->f.file_id);
        r->st.files_failed++;
        file_discard(r, s);
    }

    struct rfile *f = &s->f;
    file_release(f);
    memset(f, 0, sizeof(*f));
    f->file_id = fi->file_id;
    s->file_id = fi->file_id;
    f->ftype = fi->ftype;
    memcpy(f->name, fi->name, fi->name_len);
    f->name[fi->name_len] = '\0';
    memcpy(f->link, fi->link, fi->link_len);
    f->link[fi->link_len] = '\0';
    s->pending &= ~(uint32_t)(P_FILEINFO_ACK | P_COMPLETE | P_STATUS);
    f->rf = (struct receiver_file){
        .server_id = s->server_id,
        .group_id = s->group_id,
        .group_inst = s->group_inst,
        .file_id = f->file_id,
        .ftype = f->ftype,
        .name = f->name,
        .link = f->link,
        .size = fi->size,
        .mtime = (int64_t)fi->mtime,
    };
    if (f->ftype > FTYPE_FREESPACE) {
        RLOG(r, s, LL_WARN, "invalid file type %u", f->ftype);
        sess_abort(r, s, "Invalid file type", true);
        return;
    }
    {
        char esc[160];
        file_name_escape(esc, sizeof(esc), f->name, fi->name_len);
        RLOG(r, s, LL_INFO, "file %04X: '%s' (%llu bytes)", f->file_id, esc,
             (unsigned long long)fi->size);
    }
    /* spec §6 items 1, 15: a name that is NUL-padded early or holds a NUL is refused. */
    if (fi->name_junk || fi->link_junk) {
        reject(r, s, "name holds a NUL", now);
        return;
    }
    if (f->ftype == FTYPE_FREESPACE) {
        /* @FREESPACE is sent as "." and names no file (walk.h). */
        f->rf.rel = ".";
        f->rf.dest = 0;
    } else {
        char msg[200];
        unsigned flags = r->cfg.temp_dir ? FILE_NAME_NO_ABS : 0;
        int rc = file_name_check(&f->fname, fi->name, fi->name_len, r->cfg.dests, r->cfg.ndest,
                                 flags, msg, sizeof(msg));
        if (rc < 0) {
            RLOG(r, s, LL_WARN, "rejecting file: %s", msg);
            early_complete(r, s, COMP_STAT_REJECTED, now);
            return;
        }
        f->rf.rel = f->fname.rel;
        f->rf.dest = f->fname.dest;
    }
    const struct receiver_storage *st = &r->env.storage;
    switch (f->ftype) {
    case FTYPE_REG:
        fileinfo_regular(r, s, now);
        return;
    case FTYPE_DIR: {
        struct file_stat fst;
        bool exists = st->stat(r->env.ctx, &f->rf, &fst) == 0 && fst.type == FTYPE_DIR;
        if (s->sync_preview) {
            early_complete(r, s, exists ? COMP_STAT_SKIPPED : COMP_STAT_NORMAL, now);
            return;
        }
        int rc = st->mkdir(r->env.ctx, &f->rf);
        if (rc < 0) {
            char why[96];
            snprintf(why, sizeof(why), "cannot create directory: %s", file_strerror(rc));
            reject(r, s, why, now);
            return;
        }
        early_complete(r, s, rc == 1 ? COMP_STAT_SKIPPED : COMP_STAT_NORMAL, now);
        return;
    }
    case FTYPE_LINK: {
        int rc = file_link_check(fi->link, fi->link_len, r->cfg.link_policy);
        if (rc == 0 && memchr(fi->link, '\0', fi->link_len) != NULL)
            rc = FILE_ELINK_CTRL;
        /* Issue 14 item 6: by default a link may only point inside the destination. */
        if (rc == 0 && (r->cfg.link_policy & FILE_LINK_BENEATH))
            rc = file_link_beneath(f->rf.rel, fi->link, fi->link_len, r->cfg.dests[f->rf.dest]);
        if (rc < 0) {
            char why[96];
            snprintf(why, sizeof(why), "link target refused: %s", file_strerror(rc));
            reject(r, s, why, now);
            return;
        }
        if (!s->sync_preview && (rc = st->symlink(r->env.ctx, &f->rf)) < 0) {
            char why[96];
            snprintf(why, sizeof(why), "cannot create symlink: %s", file_strerror(rc));
            reject(r, s, why, now);
            return;
        }
        early_complete(r, s, COMP_STAT_NORMAL, now);
        return;
    }
    case FTYPE_DELETE:
        if (!s->sync_preview) {
            int rc = st->remove(r->env.ctx, &f->rf);
            if (rc < 0 && rc != -ENOENT) {
                /* Not deleted (with -A: not without its backup, issue 14 item 4): say so. */
                char why[96];
                snprintf(why, sizeof(why), "cannot delete: %s", file_strerror(rc));
                reject(r, s, why, now);
                return;
            }
        }
        early_complete(r, s, COMP_STAT_NORMAL, now);
        return;
    case FTYPE_FREESPACE: {
        uint64_t avail = 0;
        int rc = st->free_space(r->env.ctx, &f->rf, &avail);
        if (rc < 0)
            RLOG(r, s, LL_WARN, "cannot get free space: %s", file_strerror(rc));
        f->freespace = true;
        f->freespace_val = avail;
        early_complete(r, s, COMP_STAT_NORMAL, now);
        return;
    }
    default:
        return;
    }
}

/* ------------------------------------------------------------ data */

static void arm_nak(struct receiver *r, struct rsession *s, uint64_t now, uint32_t first,
                    uint32_t last, bool got_done, bool immediate)
{
    struct rfile *f = &s->f;
    f->nak_at = immediate ? now : now + s->grtt_us;
    if (f->nak_at == 0)
        f->nak_at = 1;
    f->nak_first = first;
    f->nak_last = last;
    f->got_done = got_done;
    RLOG(r, s, LL_DEBUG, "NAK timer for sections %u - %u", first, last);
}

/* A write failed: the file is refused (COMPLETE rejected), the session goes on. */
static void file_fail(struct receiver *r, struct rsession *s, const char *why, int err,
                      uint64_t now)
{
    RLOG(r, s, LL_ERR, "%s %s: %s; file rejected", why, s->f.name, file_strerror(err));
    file_discard(r, s);
    s->pending &= ~(uint32_t)(P_FILEINFO_ACK | P_STATUS);
    early_complete(r, s, COMP_STAT_REJECTED, now);
}

static void recv_fileseg(struct receiver *r, struct rsession *s, const struct wire_fileseg *fs,
                         uint16_t txseq, uint64_t now)
{
    struct rfile *f = &s->f;
    if (fs->file_id != f->file_id || f->ftype != FTYPE_REG) {
        RLOG(r, s, LL_PROTO, "rejecting FILESEG: file ID %04X, expected %04X", fs->file_id,
             f->file_id);
        return;
    }
    uint32_t abs;
    /* spec §6 item 5: (section, block) must lie in the file. */
    if (blocks_to_abs(&f->lay, fs->section, fs->sec_block, &abs) < 0) {
        RLOG(r, s, LL_PROTO, "rejecting FILESEG: section %u block %u outside the file", fs->section,
             fs->sec_block);
        return;
    }
    if (fs->data_len != blocks_bytes(&f->lay, abs)) {
        RLOG(r, s, LL_PROTO, "rejecting FILESEG: invalid data size %zu", fs->data_len);
        return;
    }
    f->got_data = true;
    if (txseq == s->max_txseq) {
        /* The newest packet opens a new section: NAK the earlier ones after 1·GRTT. */
        if (fs->section > f->last_section && f->nak_at == 0)
            arm_nak(r, s, now, f->last_section, fs->section, false, false);
        f->last_section = fs->section;
    }
    if (bitmap_get(&f->missing, abs)) {
        int rc = r->env.storage.write(r->env.ctx, f->h, blocks_offset(&f->lay, abs), fs->data,
                                      fs->data_len);
        if (rc < 0) {
            file_fail(r, s, "write failed for", rc, now);
            return;
        }
        bitmap_clear(&f->missing, abs);
        if (!bitmap_ok(&f->missing)) {
            file_fail(r, s, "out of memory for", -ENOMEM, now);
            return;
        }
        f->sec_missing[fs->section]--;
        f->nmissing--;
        r->st.data_packets++;
        r->st.data_bytes += fs->data_len;
    } else {
        r->st.dup_packets++;
    }
    set_timeout(s, now, false);
}

/* The file is complete: make it visible and answer COMPLETE. */
static void file_finish(struct receiver *r, struct rsession *s, uint64_t now)
{
    struct rfile *f = &s->f;
    f->nak_at = 0;
    f->nak_emit = false;
    if (f->open) {
        f->open = false;
        int rc = r->env.storage.close(r->env.ctx, f->h, RECEIVER_CLOSE_DONE, &f->rf);
        file_release(f);
        if (rc < 0) {
            RLOG(r, s, LL_ERR, "cannot finish %s: %s; file rejected", f->name, file_strerror(rc));
            early_complete(r, s, COMP_STAT_REJECTED, now);
            return;
        }
    }
    RLOG(r, s, LL_INFO, "file transfer complete: %s", f->name);
    early_complete(r, s, f->comp_status, now);
}

static void recv_done(struct receiver *r, struct rsession *s, const struct wire_done *d,
                      uint64_t now)
{
    struct rfile *f = &s->f;
    if (d->file_id != 0 && d->file_id != s->file_id)
        return; /* not for this file, not the end of the group */
    if (d->file_id == 0)
        s->file_id = 0; /* end of group */
    bool listed = wire_ids_contains(&d->ids, r->cfg.client_id);
    if (listed) {
        if (s->file_id == 0) {
            if (s->phase == RP_RECEIVING) {
                RLOG(r, s, LL_WARN, "end of group while receiving %s", f->name);
                r->st.files_failed++;
                file_discard(r, s);
            }
            RLOG(r, s, LL_INFO, "group complete");
            set_rphase(r, s, RP_COMPLETE);
            f->comp_status = COMP_STAT_NORMAL;
            f->freespace = false;
            s->pending = P_COMPLETE;
            /* spec §1.6: COMPLETE every 4·GRTT until 4·ROBUST·GRTT (≥ 1 s, ≤ 300 s). */
            s->expire_at = now + claims_expiry_us(s->grtt_us, 4u * s->robust, CLAIMS_IDLE_MAX_US);
        } else if (s->phase == RP_MIDGROUP || f->nmissing == 0) {
            if (s->phase == RP_RECEIVING)
                file_finish(r, s, now);
            else
                s->pending |= P_COMPLETE;
        } else if (f->nak_at == 0 && !f->nak_emit) {
            arm_nak(r, s, now, f->last_section, (uint32_t)d->section + 1, true, false);
        }
        if (s->file_id != 0)
            f->last_section = (uint32_t)d->section + 1;
    } else if (s->phase == RP_RECEIVING && s->file_id != 0) {
        if ((uint32_t)d->section + 1 > f->last_section && f->nak_at == 0 && !f->nak_emit)
            arm_nak(r, s, now, f->last_section, (uint32_t)d->section + 1, false, false);
        f->last_section = (uint32_t)d->section + 1;
    }
    set_timeout(s, now, false);
}

/* ------------------------------------------------------------ dispatch */

void sess_dispatch(struct receiver *r, struct rsession *s, const struct uftp_hdr *h,
                   const struct wire_msg *m, uint64_t now)
{
    if (m->func == ABORT) {
        const struct wire_abort *a = &m->u.abort;
        bool mine = a->host == r->cfg.client_id ||
                    (a->host == 0 && !((a->flags & FLAG_CURRENT_FILE) && s->phase == RP_MIDGROUP));
        if (mine) {
            char msg[WIRE_ABORT_TEXT_LEN + 40], esc[WIRE_ABORT_TEXT_LEN + 8];
            file_name_escape(esc, sizeof(esc), a->text, strlen(a->text));
            snprintf(msg, sizeof(msg), "transfer aborted by server: %s", esc);
            sess_abort(r, s, msg, false);
        }
        return;
    }
    switch (s->phase) {
    case RP_REGISTERED:
        if (m->func == REG_CONF) {
            if (wire_ids_contains(&m->u.reg_conf.ids, r->cfg.client_id)) {
                RLOG(r, s, LL_VERBOSE, "registration confirmed");
                set_rphase(r, s, RP_MIDGROUP);
                s->pending &= ~(uint32_t)P_REGISTER;
                set_timeout(s, now, false);
            }
        } else if (m->func == FILEINFO) {
            /* A FILEINFO listing us confirms the registration (spec §1.4). */
            if (wire_ids_contains(&m->u.fileinfo.ids, r->cfg.client_id)) {
                set_rphase(r, s, RP_MIDGROUP);
                s->pending &= ~(uint32_t)P_REGISTER;
            }
            recv_fileinfo(r, s, &m->u.fileinfo, now);
        } else {
            RLOG(r, s, LL_PROTO, "expected REG_CONF, got %s", wire_func_name(m->func));
        }
        break;
    case RP_MIDGROUP:
        if (m->func == FILEINFO)
            recv_fileinfo(r, s, &m->u.fileinfo, now);
        else if (m->func == DONE)
            recv_done(r, s, &m->u.done, now);
        else
            set_timeout(s, now, false); /* others may still be setting up */
        break;
    case RP_RECEIVING:
        if (m->func == FILESEG)
            recv_fileseg(r, s, &m->u.fileseg, h->seq, now);
        else if (m->func == FILEINFO)
            recv_fileinfo(r, s, &m->u.fileinfo, now);
        else if (m->func == DONE)
            recv_done(r, s, &m->u.done, now);
        break;
    case RP_COMPLETE:
        if (m->func == DONE_CONF && wire_ids_contains(&m->u.done_conf.ids, r->cfg.client_id)) {
            RLOG(r, s, LL_INFO, "group file transfer confirmed");
            sess_complete(s);
        } else if (m->func == DONE && m->u.done.file_id == 0 &&
                   wire_ids_contains(&m->u.done.ids, r->cfg.client_id)) {
            /* Our COMPLETE(0) was lost: answer now rather than at the next 4·GRTT. */
            s->pending |= P_COMPLETE;
        }
        break;
    default:
        break;
    }
}

/* ------------------------------------------------------------ timers */

/* The phases whose resends run until an expiry (spec §1.6). */
static bool expiring(const struct rsession *s)
{
    return s->phase == RP_PREREGISTER || s->phase == RP_REGISTERED || s->phase == RP_COMPLETE;
}

uint64_t sess_deadline(const struct rsession *s)
{
    if (s->pending != 0 || s->ending || s->f.nak_emit)
        return 0;
    uint64_t t = s->timeout_at;
    if (s->f.nak_at != 0 && s->f.nak_at < t)
        t = s->f.nak_at;
    /* Issue 14: the expiry does not wait for the next resend (5 GRTT may be 5000 s). */
    if (expiring(s) && s->expire_at < t)
        t = s->expire_at;
    return t;
}

void sess_timers(struct receiver *r, struct rsession *s, uint64_t now)
{
    if (s->ending)
        return;
    if (s->f.nak_at != 0 && now >= s->f.nak_at && s->phase == RP_RECEIVING) {
        s->f.nak_at = 0;
        s->f.nak_emit = true;
        s->f.nak_cur = s->f.nak_first;
        s->f.sent_naks = false;
    }
    if (now < s->timeout_at && !(expiring(s) && now >= s->expire_at))
        return;
    switch (s->phase) {
    case RP_PREREGISTER:
        if (now >= s->expire_at) {
            sess_abort(r, s, "No PROXY_KEY from the proxy", true);
            return;
        }
        set_timeout(s, now, false);
        break;
    case RP_REGISTERED:
        if (now >= s->expire_at) {
            sess_abort(r, s, "Registration unconfirmed", true);
            return;
        }
        s->pending |= P_REGISTER;
        set_timeout(s, now, false);
        break;
    case RP_MIDGROUP:
    case RP_RECEIVING:
        sess_abort(r, s, "Transfer timed out", true);
        break;
    case RP_COMPLETE:
        if (now >= s->expire_at) {
            RLOG(r, s, LL_WARN, "completion unconfirmed by server");
            sess_complete(s);
            return;
        }
        s->pending |= P_COMPLETE;
        set_timeout(s, now, false);
        break;
    default:
        break;
    }
}

/* ------------------------------------------------------------ output */

static size_t put_hdr(struct rsession *s, uint8_t *p, uint8_t func, uint32_t id)
{
    struct uftp_hdr h = {
        .version = s->version,
        .func = func,
        .seq = s->send_seq++,
        .src_id = id,
        .group_id = s->group_id,
        .group_inst = s->group_inst,
    };
    return (size_t)uftp_hdr_encode(p, UFTP_HDR_LEN, &h);
}

/*
 * The key a reply is sealed with (spec §1.8): CLIENT_KEY under our
 * handshake key, everything but REGISTER under our application key once we
 * have it; NULL = cleartext (REGISTER, an ABORT before keys, cleartext sessions).
 */
static struct skeys_dir *seal_key(struct rsession *s, uint8_t func)
{
    if (s->keys == NULL || func == REGISTER)
        return NULL;
    if (func == CLIENT_KEY) /* v4: in clear (spec §1.9) */
        return s->version == UFTP_VER4 ? NULL : skeys_client_hs_tx(s->keys);
    if (!skeys_client_keyed(s->keys))
        return NULL;
    return skeys_client_app_tx(s->keys);
}

static bool emit(struct receiver *r, struct rsession *s, struct wire_msg *m, struct eng_out *out)
{
    struct skeys_dir *k = seal_key(s, m->func);
    if (k == NULL && s->keys != NULL && m->func != REGISTER && m->func != ABORT &&
        (m->func != CLIENT_KEY || s->version != UFTP_VER4))
        return false; /* no key for it yet: never in clear */
    size_t off = k ? SKEYS_MSG_OFF : UFTP_HDR_LEN;
    ssize_t n;
    if (m->func == CLIENT_KEY) {
        size_t cl;
        const uint8_t *ck = skeys_client_client_key(s->keys, &cl);
        if (ck == NULL)
            return false;
        memcpy(out->buf + off, ck, cl);
        n = (ssize_t)cl;
    } else {
        n = wire_msg_encode(out->buf + off, out->cap - off - AEAD_TAG_LEN, m);
    }
    if (n < 0) {
        RLOG(r, s, LL_ERR, "cannot encode %s: %s", wire_func_name(m->func), wire_strerror((int)n));
        return false;
    }
    put_hdr(s, out->buf, m->func, r->cfg.client_id);
    size_t len = UFTP_HDR_LEN + (size_t)n;
    if (k != NULL) {
        ssize_t e = skeys_seal(k, skeys_client_ctr(s->keys), out->buf, (size_t)n, out->cap);
        if (e < 0) {
            RLOG(r, s, LL_ERR, "cannot encrypt %s: %s", wire_func_name(m->func),
                 skeys_strerror((int)e));
            sess_abort(r, s, "Encryption failed", false);
            return false;
        }
        len = (size_t)e;
    }
    out->kind = ENG_SEND;
    out->dst = s->reply;
    out->len = out->seglen = len;
    out->nseg = 1;
    RLOG(r, s, LL_DEBUG, "sending %s", wire_func_name(m->func));
    return true;
}

/* The next section in [nak_cur, nak_last) with missing blocks, or nak_last. */
static uint32_t next_nak_section(const struct rfile *f)
{
    uint32_t last = f->nak_last < f->lay.sections ? f->nak_last : f->lay.sections;
    uint32_t i = f->nak_cur;
    while (i < last && f->sec_missing[i] == 0)
        i++;
    return i < last ? i : f->nak_last;
}

/* After a round of STATUS (the reference's NAK timer tail, spec §1.6 step 4). */
static void nak_round_end(struct receiver *r, struct rsession *s, uint64_t now)
{
    struct rfile *f = &s->f;
    f->nak_emit = false;
    if (f->nmissing == 0) {
        file_finish(r, s, now);
    } else if (f->got_done && !f->sent_naks) {
        /* DONE asked but nothing in range was missing: rescan from section 0. */
        f->nak_last = f->nak_first;
        f->nak_first = 0;
        f->got_done = false;
        f->nak_emit = true;
        f->nak_cur = 0;
    }
}

bool sess_output(struct receiver *r, struct rsession *s, uint64_t now, struct eng_out *out)
{
    struct wire_msg m;
    memset(&m, 0, sizeof(m));
    if (s->pending & P_ABORT) {
        s->pending &= ~(uint32_t)P_ABORT;
        m.func = ABORT;
        m.u.abort.ver = s->version;
        snprintf(m.u.abort.text, sizeof(m.u.abort.text), "%s", s->abort_text);
        return emit(r, s, &m, out);
    }
    if (s->ending)
        return false;
    if (s->pending & P_REGISTER) {
        s->pending &= ~(uint32_t)P_REGISTER;
        m.func = REGISTER;
        m.u.reg.ver = s->version;
        m.u.reg.tstamp = grtt_echo(s->server_ts, s->server_rx, now);
        if (s->keys != NULL) {
            size_t dl;
            m.u.reg.dhblob = skeys_client_dh(s->keys, &dl);
            m.u.reg.dhlen = (uint16_t)dl;
            skeys_client_rand2(s->keys, m.u.reg.rand2);
            /* spec §1.4: CLIENT_KEY right after every REGISTER under client auth. */
            if (skeys_client_auth(s->keys))
                s->pending |= P_CLIENT_KEY;
        }
        set_timeout(s, now, false);
        return emit(r, s, &m, out);
    }
    if (s->pending & P_CLIENT_KEY) {
        s->pending &= ~(uint32_t)P_CLIENT_KEY;
        m.func = CLIENT_KEY;
        return emit(r, s, &m, out);
    }
    if (s->pending & P_KEYINFO_ACK) {
        s->pending &= ~(uint32_t)P_KEYINFO_ACK;
        size_t vl;
        m.func = KEYINFO_ACK;
        m.u.keyinfo_ack.ver = s->version;
        m.u.keyinfo_ack.verify = skeys_client_verify_data(s->keys, &vl);
        m.u.keyinfo_ack.verify_len = (uint16_t)vl;
        return emit(r, s, &m, out);
    }
    if (s->pending & P_FILEINFO_ACK) {
        s->pending &= ~(uint32_t)P_FILEINFO_ACK;
        if (s->phase != RP_RECEIVING)
            return sess_output(r, s, now, out);
        m.func = FILEINFO_ACK;
        m.u.fileinfo_ack.ver = s->version;
        m.u.fileinfo_ack.file_id = s->f.file_id;
        m.u.fileinfo_ack.tstamp = grtt_echo(s->server_ts, s->server_rx, now);
        return emit(r, s, &m, out);
    }
    struct rfile *f = &s->f;
    while (f->nak_emit && s->phase == RP_RECEIVING) {
        uint32_t sec = next_nak_section(f);
        if (sec >= f->nak_last) {
            nak_round_end(r, s, now);
            continue;
        }
        f->nak_cur = sec + 1;
        uint32_t nblk = blocks_in_section(&f->lay, sec);
        size_t nbytes = nblk / 8 + 1;
        uint32_t n = bitmap_extract(&f->missing, blocks_section_start(&f->lay, sec), nblk,
                                    r->nakbuf, nbytes);
        f->sent_naks = true;
        m.func = STATUS;
        m.u.status.ver = s->version;
        m.u.status.file_id = f->file_id;
        m.u.status.section = (uint16_t)sec;
        m.u.status.naks = r->nakbuf;
        m.u.status.naks_len = nbytes;
        RLOG(r, s, LL_VERBOSE, "sending %u NAKs for section %u", n, sec);
        return emit(r, s, &m, out);
    }
    if (s->pending & P_COMPLETE) {
        s->pending &= ~(uint32_t)P_COMPLETE;
        m.func = COMPLETE;
        m.u.complete.ver = s->version;
        m.u.complete.file_id = s->file_id;
        m.u.complete.status = f->comp_status;
        if (f->freespace && s->file_id != 0) {
            m.u.complete.has_freespace = true;
            m.u.complete.freespace = f->freespace_val;
        }
        if (s->phase == RP_COMPLETE)
            set_timeout(s, now, false);
        return emit(r, s, &m, out);
    }
    return false;
}
