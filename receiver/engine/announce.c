/* A session's beginning (spec §1.4, §1.6 steps 1-3, §1.8): a new ANNOUNCE admitted (for
 * engine.c), then actions of the session machine: start, ANNOUNCE again, PROXY_KEY, KEYINFO,
 * REG_CONF. */
#include "receiver/engine/recv_int.h"

#include <stdarg.h>

/* A refused ANNOUNCE's log line: LL_WARN (a burst of 20, then 5 a second), else LL_PROTO. */
__attribute__((format(printf, 2, 3))) static void refused(struct receiver *r, const char *fmt, ...)
{
    int lvl = ratelim_take(&r->refuse_log, 1, r->now) ? LL_WARN : LL_PROTO;
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
    r->refuse_quiet = lvl == LL_WARN ? 0 : r->refuse_quiet + 1;
}

static const struct receiver_server *server_entry(const struct receiver *r, uint32_t id)
{
    for (size_t i = 0; i < r->cfg.nserver; i++)
        if (r->cfg.servers[i].id == id)
            return &r->cfg.servers[i];
    return NULL;
}

/* A server's rank (issue 14): 2 when the -S list names it and the line's
 * address is where the ANNOUNCE came from, 1 when it names it (any
 * address, or none given), 0 without a -S list. */
static uint8_t server_rank(const struct receiver_server *srv, const struct addr *from)
{
    return srv == NULL ? 0 : addr_is_set(&srv->addr) && addr_equal_ip(&srv->addr, from) ? 2 : 1;
}

/* Why a key refused by skeys_* is told to the server; NULL = drop without a word. */
static const char *key_refusal(int rc)
{
    if (rc == SKEYS_EFP)
        return "Failed to verify server key fingerprint";
    if (rc == SKEYS_ETYPE)
        return "Key type not supported here";
    return NULL;
}

/* The encryption checks of a new session (spec §1.8): supported cipher and
 * hash, then the checks that cost no public-key work (issue 14 item 3: the
 * blobs' structure, the -S fingerprint, the timestamp and replay memory),
 * then within the public-key budget (charged for the keys as they really
 * are, fairly between sources, -S servers at their address first) the
 * signature and the key exchange. Returns 0 with msg->keys set; 1 to refuse
 * the server (an ABORT says *why); -1 to drop the ANNOUNCE silently
 * (forged, replayed, or over budget). */
static int announce_keys(struct receiver *r, struct rmsg *msg, const char **why)
{
    const struct uftp_hdr *h = msg->h;
    const struct wire_announce *a = &msg->m->u.announce;
    const struct wire_enc_info *e = &a->enc;
    char ab[ADDR_STRLEN];
    if (!aead_supported(e->keytype))
        *why = "Keytype invalid or not supported here";
    else if (!crypto_hash_session_ok(e->hashtype))
        *why = "Hashtype invalid or not supported here";
    /* spec §1.9 item 2: from a v4 server, ECDH key exchange with AEAD only. */
    else if (h->version == UFTP_VER4 && e->sigtype != SIG_AUTHENC)
        *why = "Invalid sigtype specified";
    else if (h->version == UFTP_VER4 && e->keyextype != KEYEX_ECDH_RSA &&
             e->keyextype != KEYEX_ECDH_ECDSA)
        *why = "Invalid keyextype specified";
    if (*why != NULL)
        return 1;
    uint32_t cost;
    int rc = skeys_announce_check(e, msg->srv ? msg->srv->fp : NULL, msg->srv ? msg->srv->fplen : 0,
                                  &cost);
    if (rc == SKEYS_EFP)
        refused(r, "[%08X/%u] rejecting ANNOUNCE from %08X at %s: %s", h->group_id, h->group_inst,
                h->src_id, addr_str(msg->from, ab), skeys_strerror(rc));
    if ((*why = key_refusal(rc)) != NULL)
        return 1;
    if (rc != CRYPTO_OK) {
        slot_auth_failed(r, rc);
        refused(r, "[%08X/%u] dropping ANNOUNCE from %08X at %s: malformed key", h->group_id,
                h->group_inst, h->src_id, addr_str(msg->from, ab));
        return -1;
    }
    /* Issue 14 item 9: a signed ANNOUNCE is good for its window, once. */
    rc = fresh_check(&r->fresh, h->src_id, h->group_id, h->group_inst, a->tstamp, r_wall(r));
    if (rc != FRESH_OK) {
        r->st.stale++;
        r->st.dropped++;
        refused(r, "[%08X/%u] dropping ANNOUNCE from %08X at %s: %s", h->group_id, h->group_inst,
                h->src_id, addr_str(msg->from, ab), fresh_strerror(rc));
        return -1;
    }
    if (!slot_pk_take(r, msg->src, msg->rank, cost))
        return -1;
    const struct crypto_key *sigkey = r->cfg.sigkey;
    if ((e->flags & FLAG_CLIENT_AUTH) && (sigkey = slot_sigkey(r)) == NULL) {
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
    if (msg->srv != NULL && msg->srv->fplen > 0) {
        cc.fp = msg->srv->fp;
        cc.fplen = msg->srv->fplen;
    }
    if (r->env.rng(r->env.ctx, cc.rand2, sizeof(cc.rand2)) < 0) {
        *why = "Failed to get random bytes";
        return 1;
    }
    struct skeys_client *k = NULL;
    rc = skeys_client_new(&k, &cc, e, msg->pkt, msg->len);
    /* Through a proxy the key exchange waits for its PROXY_KEY (spec §1.8). */
    if (rc == CRYPTO_OK && (msg->srv == NULL || msg->srv->proxy_id == 0 || h->version == UFTP_VER4))
        rc = skeys_client_handshake(k);
    crypto_wipe(cc.rand2, sizeof(cc.rand2));
    if (rc == CRYPTO_OK) {
        fresh_note(&r->fresh, h->src_id, h->group_id, h->group_inst, a->tstamp, r_wall(r));
        msg->keys = k;
        return 0;
    }
    skeys_client_free(k);
    refused(r, "[%08X/%u] rejecting ANNOUNCE from %08X at %s: %s", h->group_id, h->group_inst,
            h->src_id, addr_str(msg->from, ab), skeys_strerror(rc));
    if ((*why = key_refusal(rc)) != NULL)
        return 1;
    slot_auth_failed(r, rc);
    return -1; /* bad blob or signature: unauthenticated, no answer */
}

/* A refused ANNOUNCE: logged (rate-limited) and answered with an ABORT from no session. */
static void refuse(struct receiver *r, const struct rmsg *msg, const char *why)
{
    const struct uftp_hdr *h = msg->h;
    char ab[ADDR_STRLEN];
    r->st.sessions_refused++;
    refused(r, "[%08X/%u] rejecting ANNOUNCE from %08X at %s (protocol %s): %s", h->group_id,
            h->group_inst, h->src_id, addr_str(msg->from, ab),
            h->version == UFTP_VER4 ? "v4" : "v5", why);
    /* A v4 session's every reply goes to the -r response proxy (spec §1.9 item 4). */
    reply_stray(r, h->version == UFTP_VER4 && recv_has_px4(r) ? &r->cfg.resp_proxy : msg->from, h,
                why);
}

/*
 * An ANNOUNCE with a cc type we do not take (PGMCC, unknown): the server is
 * told as 5.0.1 tells it; the log names the type once per session (issue
 * 12), not once per ANNOUNCE the server repeats.
 */
static int refuse_cc(struct receiver *r, const struct rmsg *msg)
{
    const struct uftp_hdr *h = msg->h;
    uint8_t cc = msg->m->u.announce.cc_type;
    uint64_t key = (uint64_t)h->src_id << 32 ^ (uint64_t)h->group_id << 8 ^ h->group_inst;
    bool seen = false;
    for (unsigned i = 0; i < 8; i++)
        seen |= r->cc_refused[i] == key;
    char ab[ADDR_STRLEN];
    if (!seen) {
        r->cc_refused[r->cc_refused_head++ % 8] = key;
        refused(r,
                "[%08X/%u] rejecting ANNOUNCE from %08X at %s: congestion control type %u (%s) "
                "not supported (only none and TFMCC)",
                h->group_id, h->group_inst, h->src_id, addr_str(msg->from, ab), cc,
                cc == CC_PGMCC ? "PGMCC" : "unknown");
    }
    reply_stray(r, h->version == UFTP_VER4 && recv_has_px4(r) ? &r->cfg.resp_proxy : msg->from, h,
                "Congestion control not supported");
    return -1;
}

int announce_admit(struct receiver *r, struct rmsg *msg)
{
    const struct uftp_hdr *h = msg->h;
    const struct wire_announce *a = &msg->m->u.announce;
    char ab[ADDR_STRLEN];
    if (a->ids.n > 0 && !wire_ids_contains(&a->ids, r->cfg.client_id)) {
        ELOG(&r->env.log, LL_VERBOSE, "[%08X/%u] not in the host list of ANNOUNCE from %08X",
             h->group_id, h->group_inst, h->src_id);
        return -1;
    }
    if (r->cfg.nserver > 0 && (msg->srv = server_entry(r, h->src_id)) == NULL) {
        refused(r, "[%08X/%u] rejecting ANNOUNCE from %08X: server not in server list", h->group_id,
                h->group_inst, h->src_id);
        reply_stray(r, msg->from, h, "Server not in server list");
        return -1;
    }
    /* Refusals that still tell the server (as 5.0.1 does); checked before any crypto or slot. */
    const char *why = NULL;
    if (a->blocksize < UFTP_MIN_BLOCKSIZE || a->blocksize > UFTP_MAX_BLOCKSIZE)
        why = "Invalid block size";
    else if (!a->has_enc && r->cfg.encrypted_only)
        why = "No unencrypted transfers allowed";
    else if (a->cc_type != CC_NONE && a->cc_type != CC_TFMCC)
        return refuse_cc(r, msg); /* PGMCC and unknown types (spec §1.7) */
    else if (a->robust == 0)
        why = "Invalid robustness factor";
    else if (h->version == UFTP_VER4 && a->has_enc && recv_has_px4(r) && r->px4_dh == NULL)
        why = "Response proxy set but haven't gotten key yet"; /* spec §1.9 item 4 */
    if (why != NULL) {
        refuse(r, msg, why);
        return -1;
    }
    msg->rank = server_rank(msg->srv, msg->from);
    msg->src = slot_src_key(r, msg->from);
    msg->grtt_us = quant_rtt_decode_us(h->grtt);
    msg->slot = slot_pick(r, msg->rank, msg->src, msg->grtt_us, &msg->victim);
    if (msg->slot == NULL) {
        r->st.slots_full++;
        refused(r,
                "[%08X/%u] ANNOUNCE from %08X at %s refused: all %u session slots are held "
                "by sessions that may not give way yet",
                h->group_id, h->group_inst, h->src_id, addr_str(msg->from, ab),
                r->cfg.max_sessions);
        return -1;
    }
    int rc = a->has_enc ? announce_keys(r, msg, &why) : 0;
    if (rc > 0)
        refuse(r, msg, why);
    return rc == 0 ? 0 : -1;
}

/* RE_ANNOUNCE in a free slot: the admitted session begins (REGISTERED, or PREREGISTER). */
RECV_ACTION(announce_start)
{
    const struct rmsg *msg = arg;
    const struct uftp_hdr *h = msg->h;
    const struct wire_announce *a = &msg->m->u.announce;
    char ab[ADDR_STRLEN];
    if (r->nslots < (unsigned)(s - r->sess) + 1)
        r->nslots = (unsigned)(s - r->sess) + 1;
    memset(s, 0, sizeof(*s));
    s->keys = msg->keys;
    if (s->keys != NULL)
        s->verify_cost = skeys_cost_verify(a->enc.keyblob, a->enc.keylen);
    /* Issue 13: restart state is the same server's only when its key is the same too. */
    if (s->keys != NULL && fp_compute(a->enc.keyblob, a->enc.keylen, s->server_fp) == CRYPTO_OK)
        s->server_fplen = FP_LEN;
    s->rank = msg->rank;
    s->src = msg->src;
    s->heard_us = r->now;
    amp_rx(&s->amp, msg->len); /* the ANNOUNCE itself earns the first REGISTER */
    s->version = h->version;
    s->group_id = h->group_id;
    s->group_inst = h->group_inst;
    s->server_id = h->src_id;
    s->server = *msg->from;
    /* A v4 session's every reply goes to the -r response proxy (spec §1.9 item 4). */
    s->reply = s->version == UFTP_VER4 && recv_has_px4(r) ? r->cfg.resp_proxy : *msg->from;
    s->grtt_us = msg->grtt_us;
    s->grtt_code = h->grtt;
    s->robust = a->robust;
    s->blocksize = a->blocksize;
    s->sync_preview = (a->flags & FLAG_SYNC_PREVIEW) != 0;
    s->sync_mode = s->sync_preview || (a->flags & FLAG_SYNC_MODE) != 0;
    s->max_txseq = h->seq;
    s->server_ts = a->tstamp;
    s->server_rx = r->now;
    rcc_start(r, s, msg);
    rfec_offer(r, s, a);
    /* spec §1.6: wait for the PROXY_KEY of the proxy the -S line names (v5 only, §1.9). */
    if (msg->srv != NULL && msg->srv->proxy_id != 0 && s->version == UFTP_VER5)
        s->proxy_id = msg->srv->proxy_id;
    r->st.sessions++;
    r->st.sessions_seen++;
    RLOG(r, s, LL_INFO, "received request from %08X at %s%s%s", s->server_id,
         addr_str(msg->from, ab), s->version == UFTP_VER4 ? " (protocol v4)" : "",
         s->keys ? (skeys_client_auth(s->keys) ? " (encrypted, client auth)" : " (encrypted)")
                 : "");
    rfile_report(r, s, RECEIVER_EV_CONNECT, true);

    /* The private group: all zero in unicast mode (spec §2.1 -M). */
    int fam = (a->flags & FLAG_IPV6) ? ADDR_V6 : ADDR_V4;
    static const uint8_t zero[16];
    if (memcmp(a->priv_addr, zero, fam == ADDR_V6 ? 16 : 4) != 0) {
        addr_set_ip(&s->mcast, fam, a->priv_addr, 0);
        if (!addr_is_multicast(&s->mcast))
            return rsess_fail(s, "Invalid multicast address");
        if (r->cfg.ssm && !addr_is_ssm(&s->mcast))
            return rsess_fail(s, "Invalid source specific multicast address");
        if (r->cfg.ssm) {
            /* spec §2.2 -o: the -S address, else the ANNOUNCE's source. */
            if (msg->srv != NULL && addr_is_set(&msg->srv->addr))
                s->ssm_src = msg->srv->addr;
            else
                s->ssm_src = *msg->from;
            addr_set_port(&s->ssm_src, 0);
        }
        slot_member(r, true, &s->mcast, &s->ssm_src);
        s->joined = true;
        char mb[ADDR_STRLEN];
        RLOG(r, s, LL_VERBOSE, "using private multicast address %s", addr_str(&s->mcast, mb));
    }
    /* spec §1.6: give up registering after 5·ROBUST·GRTT (≥ 1 s), the
     * PROXY_KEY wait too; never later than the unconfirmed timeout (issue 14
     * item 2: GRTT 1000 s and ROBUST 255 would hold the slot for 15 days). */
    s->expire_at = r->now + claims_expiry_us(s->grtt_us, 5u * s->robust, r->cfg.unconfirmed_us);
    if (s->proxy_id == 0) {
        s->pending |= P_REGISTER;
        return FSM_NEXT;
    }
    RLOG(r, s, LL_VERBOSE, "waiting for PROXY_KEY from proxy %08X", s->proxy_id);
    return FSM_GOTO(R_PREREGISTER);
}

/* Another ANNOUNCE of the session: it keeps a session between files alive. */
RECV_ACTION(announce_again)
{
    const struct rmsg *msg = arg;
    const struct wire_announce *a = &msg->m->u.announce;
    if (msg->h->src_id != s->server_id || msg->h->version != s->version)
        return FSM_STAY;
    if (s->keys != NULL) {
        /* Only a signed copy may keep the session alive or change its GRTT. */
        if (!a->has_enc) {
            r->st.cleartext++;
            r->st.dropped++;
            return FSM_STAY;
        }
        /*
         * Issue 16: registered and waiting for the keys, an ANNOUNCE that does
         * not list us (no REGISTER again) and keeps the GRTT changes nothing
         * below: not worth a signature check. A closed group of 10,000 is
         * announced in some 35 datagrams a round, each reaching everyone; a
         * forged one is dropped so as well.
         */
        if (s->state == R_REGISTERED && msg->h->grtt == s->grtt_code &&
            (s->proxy_id != 0 || a->ids.n == 0 || !wire_ids_contains(&a->ids, r->cfg.client_id)))
            return FSM_STAY;
        if (!slot_pk_take(r, s->src, s->rank, skeys_cost_verify(a->enc.keyblob, a->enc.keylen)))
            return FSM_STAY;
        int rc = skeys_client_verify_announce(s->keys, &a->enc, msg->pkt, msg->len);
        if (rc != CRYPTO_OK) {
            slot_auth_failed(r, rc);
            RLOG(r, s, LL_PROTO, "rejecting ANNOUNCE: %s", skeys_strerror(rc));
            return FSM_STAY;
        }
    }
    slot_grtt(r, s, msg->h->grtt);
    if (s->state == R_MIDGROUP)
        slot_timeout(r, s, false); /* keep waiting for the others */
    /* Still listed while we wait for the confirmation: our REGISTER was lost. Again
     * now, not 5·GRTT after the last (at the initial GRTT, 2.5 s; issue 18). Not
     * through a client proxy, which answers the server for us on its own rounds. */
    if (s->state == R_REGISTERED && s->proxy_id == 0 && a->ids.n > 0 &&
        wire_ids_contains(&a->ids, r->cfg.client_id))
        s->pending |= P_REGISTER;
    return FSM_NEXT;
}

static const struct receiver_proxy *proxy_entry(const struct receiver *r, uint32_t id)
{
    for (size_t i = 0; i < r->cfg.nproxy; i++)
        if (r->cfg.proxies[i].id == id)
            return &r->cfg.proxies[i];
    return NULL;
}

/* PROXY_KEY (spec §1.8 "Proxy re-keying"): in PREREGISTER, from the proxy
 * the -S line names, with the -R fingerprint when one is given and a valid
 * signature (encrypted sessions). Its source becomes where every reply
 * goes; the key exchange is then with the proxy's ECDH key, P_ctx in C_ctx1.
 * A forged or misdirected one is dropped, never answered: the real one
 * follows every ANNOUNCE. */
RECV_ACTION(announce_proxy_key)
{
    const struct rmsg *msg = arg;
    const struct uftp_hdr *h = msg->h;
    char ab[ADDR_STRLEN];
    if (h->src_id != s->proxy_id) {
        RLOG(r, s, LL_VERBOSE, "PROXY_KEY from %08X, not from our proxy %08X", h->src_id,
             s->proxy_id);
        r->st.dropped++;
        return FSM_STAY;
    }
    const struct receiver_proxy *px = proxy_entry(r, s->proxy_id);
    if (s->keys != NULL) {
        if (!slot_pk_take(r, s->src, s->rank, s->verify_cost))
            return FSM_STAY;
        int rc =
            skeys_client_proxy_key(s->keys, s->proxy_id, msg->pkt + UFTP_HDR_LEN,
                                   msg->len - UFTP_HDR_LEN, px ? px->fp : NULL, px ? px->fplen : 0);
        if (rc == CRYPTO_OK)
            rc = skeys_client_handshake(s->keys);
        if (rc != CRYPTO_OK) {
            slot_auth_failed(r, rc);
            RLOG(r, s, LL_WARN, "rejecting PROXY_KEY from %08X at %s: %s", h->src_id,
                 addr_str(msg->from, ab), skeys_strerror(rc));
            if (rc != SKEYS_EFP)
                return FSM_STAY;
            return FSM_STAY | rsess_fail(s, "Failed to verify proxy key fingerprint");
        }
    }
    RLOG(r, s, LL_INFO, "received PROXY_KEY from proxy %08X at %s", h->src_id,
         addr_str(msg->from, ab));
    s->reply = *msg->from;
    s->pending |= P_REGISTER;
    return FSM_NEXT;
}

/* KEYINFO (spec §1.8): our keys, or (already keyed) the same again: acknowledged. */
RECV_ACTION(announce_keyinfo)
{
    const struct rmsg *msg = arg;
    const struct wire_keyinfo *k = &msg->m->u.keyinfo;
    if (s->keys == NULL || wire_destkeys_find(&k->keys, r->cfg.client_id) == NULL)
        return FSM_STAY; /* for others: nothing to check */
    bool keyed = skeys_client_keyed(s->keys);
    if (!slot_pk_take(r, s->src, s->rank, s->verify_cost))
        return FSM_STAY;
    int rc = keyed ? skeys_client_keyinfo_verify(s->keys, msg->pkt, msg->len, k)
                   : skeys_client_keyinfo(s->keys, msg->pkt, msg->len, k);
    if (rc != CRYPTO_OK) {
        slot_auth_failed(r, rc);
        RLOG(r, s, LL_PROTO, "rejecting KEYINFO: %s", skeys_strerror(rc));
        return FSM_STAY;
    }
    if (!keyed) {
        RLOG(r, s, LL_VERBOSE, "registration confirmed, keys established");
        s->pending &= ~(uint32_t)(P_REGISTER | P_CLIENT_KEY);
    }
    s->pending |= P_KEYINFO_ACK;
    slot_timeout(r, s, false);
    return keyed ? FSM_STAY : FSM_NEXT;
}

/* REG_CONF listing us (cleartext sessions, spec §1.4). */
RECV_ACTION(announce_reg_conf)
{
    if (!wire_ids_contains(&((const struct rmsg *)arg)->m->u.reg_conf.ids, r->cfg.client_id))
        return FSM_STAY;
    RLOG(r, s, LL_VERBOSE, "registration confirmed");
    s->pending &= ~(uint32_t)P_REGISTER;
    return FSM_NEXT;
}
