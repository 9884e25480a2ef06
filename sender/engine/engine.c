/*
 * The sender engine's public face (sender/engine/engine.h): configuration
 * checks, new/free, the receive pipeline (length → header → session →
 * authentication → dispatch to the message's family), poll, deadline,
 * interrupt and stats. The sessions's machine and the handlers do the rest
 * (sender_int.h lists the files).
 */
#include "sender/engine/sender_int.h"

#include <stdlib.h>
#include <string.h>

#include "core/crypto/keyblob.h"
#include "core/crypto/keyfile.h"

void sender_config_defaults(struct sender_config *c)
{
    memset(c, 0, sizeof(*c));
    c->blocksize = UFTP_DEF_BLOCKSIZE;
    c->rate_kbps = 1000;
    c->grtt_init_us = 500000;
    c->grtt_min_us = 10000;
    c->grtt_max_us = 15000000;
    c->robust = 20;
    c->liveness_us = SENDER_LIVENESS_DEF_US;
    c->cc_type = CC_NONE;
    c->nak_pct = 100;
    c->nak_strikes = 1;
    c->max_passes = 65535;
    /* spec §2.1: encrypted by default since 5.0. */
    c->keytype = KEY_AES256_GCM;
    c->hashtype = HASH_SHA256;
    c->curve = CURVE_P256;
    c->pk_budget_us = SENDER_PK_BUDGET_US;
}

static int bad(const struct sender_env *e, const char *what)
{
    ELOG(&e->log, LL_WARN, "sender: invalid configuration: %s", what);
    return ENG_EINVAL;
}

static int check_config(const struct sender_config *c, const struct sender_env *e)
{
    if (e->rng == NULL || e->storage.open == NULL || e->storage.read == NULL ||
        e->storage.close == NULL)
        return bad(e, "rng and storage callbacks are required");
    if (c->version != 0 && c->version != UFTP_VER5 && c->version != UFTP_VER4)
        return bad(e, "protocol version not 4 or 5");
    int fam = addr_family(&c->pub);
    if (fam == ADDR_NONE)
        return bad(e, "public address (-M) unset");
    if (addr_is_multicast(&c->pub)) {
        if (addr_family(&c->priv) != fam)
            return bad(e, "private address (-P) unset or of another family than -M");
        if (!addr_is_multicast(&c->priv))
            return bad(e, "private address (-P) is not multicast");
    }
    if (c->server_id == 0 || c->server_id == UINT32_MAX)
        return bad(e, "server ID (-U)");
    if (c->blocksize < UFTP_MIN_BLOCKSIZE || c->blocksize > UFTP_MAX_BLOCKSIZE)
        return bad(e, "block size (-b) must be 512..8800");
    if (c->fec_pct > 100 || c->fec_k == 1)
        return bad(e, "--fec: percentage 0..100, FEC block size 2..255");
    if (c->rate_kbps != -1 && (c->rate_kbps < 1 || c->rate_kbps > (INT64_C(1) << 30)))
        return bad(e, "rate (-R) must be 1..2^30 Kbps or -1");
    if (c->grtt_min_us < 1000 || c->grtt_max_us > 1000000000u || c->grtt_min_us > c->grtt_init_us ||
        c->grtt_init_us > c->grtt_max_us)
        return bad(e, "GRTT (-r) must satisfy 0.001 <= min <= init <= max <= 1000");
    if (c->robust < 10 || c->robust > 50)
        return bad(e, "robustness (-s) must be 10..50");
    if (c->liveness_us < 1000000u || c->liveness_us > 3600000000u)
        return bad(e, "liveness timeout must be 1..3600 s");
    if (c->cc_type != CC_NONE && c->cc_type != CC_TFMCC)
        return bad(e, "congestion control (-C) must be none or tfmcc");
    if ((c->cc_max_Bps && c->cc_min_Bps > c->cc_max_Bps) ||
        (c->cc_max_Bps && c->cc_init_Bps > c->cc_max_Bps) ||
        (c->cc_init_Bps && c->cc_min_Bps > c->cc_init_Bps))
        return bad(e, "-C tfmcc needs min <= init <= max");
    if (c->nak_pct > 100)
        return bad(e, "NAK percentage (-N) must be 0..100");
    if (c->nak_strikes < 1 || c->nak_strikes > 1000)
        return bad(e, "NAK count (-m) must be 1..1000");
    if (c->max_passes < 1)
        return bad(e, "max passes (-a) must be 1..65535");
    if (c->max_time_pct != 0 && (c->max_time_pct < 110 || c->max_time_pct > 10000))
        return bad(e, "max time (-W) must be 110..10000");
    /* Issue 16: 100,000 receivers behind their proxies (5.0.1 counts both in one 100,000). */
    if (c->ndest > SENDER_MAX_DEST || c->nproxy > SENDER_MAX_DEST)
        return bad(e, "more than 100000 receivers (-H) or proxies (-j)");
    if ((c->ndest > 0 && c->dests == NULL) || (c->nproxy > 0 && c->proxies == NULL) ||
        (c->nfiles > 0 && c->files == NULL))
        return bad(e, "destination, proxy or file array missing");
    if (c->keytype != KEY_NONE) {
        if (!aead_supported(c->keytype))
            return bad(e, "encryption (-Y) must be aes128-gcm, aes256-gcm, aes128-ccm, aes256-ccm "
                          "or none");
        if (!crypto_hash_session_ok(c->hashtype))
            return bad(e, "hash (-h) must be sha256, sha384 or sha512");
        if (keyblob_ec_len(c->curve) == 0)
            return bad(e, "ECDH curve (-e) must be secp256r1, secp384r1 or secp521r1");
        if (c->sigkey != NULL && !crypto_key_has_private(c->sigkey))
            return bad(e, "signing key (-k) has no private key");
    } else if (c->client_auth) {
        return bad(e, "client authentication (-c) needs encryption (-Y)");
    }
    return 0;
}

/*
 * The usage-limit pre-check (SENDER_LIMIT_PASSES in engine.h): the cipher
 * blocks the server key would process, against its limit.
 */
static int check_usage(struct sender *s)
{
    const struct sender_config *c = &s->cfg;
    uint64_t passes = c->max_passes < SENDER_LIMIT_PASSES ? c->max_passes : SENDER_LIMIT_PASSES;
    uint64_t per_data = skeys_blocks(8 + (size_t)c->blocksize);
    /* A control message is at most a header, names and a full ID list. */
    uint64_t per_ctl = skeys_blocks(28 + 2 * (WIRE_MAX_PATH + 4) + (size_t)c->blocksize);
    size_t maxids = wire_max_ids(c->blocksize);
    uint64_t lists = s->open_group ? 1 : (s->ndest + maxids - 1) / maxids;
    uint64_t ctl_round = (uint64_t)c->robust * (lists ? lists : 1);
    uint64_t pkts = 0, need = 0, lim = skeys_dir_left(skeys_server_tx(s->keys));
    bool over = false;
    for (size_t i = 0; i < c->nfiles && !over; i++) {
        uint64_t blocks = 0;
        if (c->files[i].type == FTYPE_REG)
            blocks = (c->files[i].size + c->blocksize - 1) / c->blocksize;
        uint64_t p = blocks * passes, ctl = ctl_round * (passes + 1); /* FILEINFO + DONE per pass */
        pkts += p;
        need += p * per_data + ctl * per_ctl;
        over = need > lim;
    }
    need += 2 * ctl_round * per_ctl; /* DONE(0) and DONE_CONF */
    if (!over && need <= lim)
        return 0;
    ELOG(&s->env.log, LL_WARN,
         "sender: refusing the session: %s allows %llu cipher blocks per key, but %zu file(s) "
         "need about %llu (%llu data packets of %u bytes, counted as %llu pass(es) to allow "
         "for retransmission, plus control messages). Protocol v5 cannot change keys "
         "within a session: send fewer or smaller files per session, or a larger block size "
         "(-b)",
         c->keytype == KEY_AES128_GCM   ? "aes128-gcm"
         : c->keytype == KEY_AES256_GCM ? "aes256-gcm"
         : c->keytype == KEY_AES128_CCM ? "aes128-ccm"
                                        : "aes256-ccm",
         (unsigned long long)lim, c->nfiles, (unsigned long long)need, (unsigned long long)pkts,
         (unsigned)c->blocksize, (unsigned long long)passes);
    return ENG_EINVAL;
}

/* Keys, rate limiter and buffers of an encrypted session. */
static int crypto_setup(struct sender *s)
{
    const struct sender_config *c = &s->cfg;
    const struct crypto_key *sigkey = c->sigkey;
    if (sigkey == NULL) {
        /* spec §2.1 -k: without a key file, an ephemeral EC P-256 key. */
        if (keyfile_gen_ephemeral(&s->own_key) != CRYPTO_OK)
            return bad(&s->env, "cannot generate a signing key");
        sigkey = s->own_key;
    }
    struct skeys_server_cfg sc = {.keytype = c->keytype,
                                  .hashtype = c->hashtype,
                                  .curve = c->curve,
                                  .client_auth = c->client_auth,
                                  .sigkey = sigkey,
                                  .group_id = s->group_id,
                                  .group_inst = s->group_inst,
                                  .server_id = c->server_id,
                                  .ver = c->version,
                                  /* v4 verify data: ANNOUNCE's private address field */
                                  .addrlen = s->ipv6 ? 16 : 4};
    if (!s->unicast)
        addr_get_ip(&c->priv, sc.addr);
    if (s->env.rng(s->env.ctx, sc.rand1, sizeof(sc.rand1)) < 0 ||
        s->env.rng(s->env.ctx, sc.group_master, sizeof(sc.group_master)) < 0 ||
        (c->version == UFTP_VER4 &&
         s->env.rng(s->env.ctx, sc.group_master4, sizeof(sc.group_master4)) < 0)) {
        crypto_wipe(&sc, sizeof(sc));
        return ENG_ERNG;
    }
    int rc = skeys_server_new(&s->keys, &sc);
    crypto_wipe(&sc, sizeof(sc));
    if (rc != CRYPTO_OK) {
        ELOG(&s->env.log, LL_WARN, "sender: cannot set up encryption: %s", skeys_strerror(rc));
        return ENG_EINVAL;
    }
    s->moff = SKEYS_MSG_OFF;
    s->scratch = malloc(UFTP_MAX_DATAGRAM);
    s->dk = calloc(wire_max_destkeys(c->blocksize), sizeof(*s->dk));
    if (s->scratch == NULL || s->dk == NULL)
        return ENG_ENOMEM;
    ratelim_init(&s->pk, c->pk_budget_us, c->pk_budget_us);
    rc = check_usage(s);
    struct skeys_dir *tx = skeys_server_tx(s->keys);
    if (rc == 0 && c->key_limit_blocks != 0 && c->key_limit_blocks < tx->limit)
        tx->limit = c->key_limit_blocks;
    return rc;
}

int sender_new(struct sender **out, const struct sender_config *cfg, const struct sender_env *env)
{
    *out = NULL;
    int rc = check_config(cfg, env);
    if (rc < 0)
        return rc;
    struct sender *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return ENG_ENOMEM;
    s->cfg = *cfg;
    s->env = *env;
    if (s->cfg.version == 0)
        s->cfg.version = UFTP_VER5;
    idmap_init(&s->ids);
    s->group_inst = cfg->group_inst;
    s->group_id = cfg->group_id;
    while (s->group_id == 0) {
        if (env->rng(env->ctx, &s->group_id, sizeof(s->group_id)) < 0) {
            sender_free(s);
            return ENG_ERNG;
        }
    }
    s->unicast = !addr_is_multicast(&cfg->pub);
    s->ipv6 = addr_family(&cfg->pub) == ADDR_V6;
    /* spec §2.1 -M: in unicast mode everything goes to the one address. */
    s->data_dst = s->unicast ? cfg->pub : cfg->priv;
    if (!s->unicast)
        addr_set_port(&s->data_dst, addr_port(&cfg->pub));
    s->open_group = cfg->ndest == 0;
    /* -H clients, then -j proxies (spec §2.1): one table, proxies marked. */
    for (size_t i = 0; i < cfg->ndest + cfg->nproxy; i++) {
        bool isproxy = i >= cfg->ndest;
        const struct sender_dest *cd = isproxy ? &cfg->proxies[i - cfg->ndest] : &cfg->dests[i];
        struct sdest *d;
        if (cd->id == 0 || cd->id == UINT32_MAX) {
            sender_free(s);
            return bad(env, "destination ID 0 or 0xFFFFFFFF");
        }
        if (dest_of(s, cd->id) != NULL) {
            ELOG(&env->log, LL_WARN, "sender: destination %08X listed twice", cd->id);
            continue;
        }
        if ((d = dest_add(s, cd->id, isproxy)) == NULL) {
            sender_free(s);
            return ENG_ENOMEM;
        }
        d->listed = true;
        if (cd->fplen > 0) {
            d->fp = cd->fp;
            d->fplen = cd->fplen;
        }
    }
    grtt_init(&s->grtt, cfg->grtt_init_us, cfg->grtt_min_us, cfg->grtt_max_us);
    /* spec §1.6 step 3: the size the rate is charged per data packet. */
    s->datapacketsize = cfg->blocksize + 8 + UFTP_HDR_LEN + 8 + (s->ipv6 ? 40 : 20);
    s->cc = cfg->cc_type == CC_TFMCC;
    if (s->cc)
        s->datapacketsize += 8; /* EXT_TFMCC_DATA_INFO */
    s->moff = UFTP_HDR_LEN;
    if (cfg->keytype != KEY_NONE) {
        s->datapacketsize += SKEYS_OVERHEAD;
        rc = crypto_setup(s);
        if (rc < 0) {
            sender_free(s);
            return rc;
        }
    }
    if (cfg->rate_kbps > 0 && !s->cc) { /* spec §1.7: -R is ignored under TFMCC */
        s->rate_Bps = (uint64_t)cfg->rate_kbps * 1024 / 8;
        s->packet_interval_us = s->datapacketsize * 1000000 / s->rate_Bps;
    } else if (s->cc) {
        /* spec §1.7: until the first data phase 5.0.1 runs at min(1000 Kbps, init, max), which
         * floors the GRTT it advertises at one packet at that rate (cc.c follows the TFMCC
         * rate from then on). Its ANNOUNCE/FILEINFO lists go out unpaced here as with -R. */
        uint64_t ann = 1000 * 1024 / 8;
        if (cfg->cc_init_Bps != 0 && cfg->cc_init_Bps < ann)
            ann = cfg->cc_init_Bps;
        if (cfg->cc_max_Bps != 0 && cfg->cc_max_Bps < ann)
            ann = cfg->cc_max_Bps;
        s->packet_interval_us = s->datapacketsize * 1000000 / ann;
    }
    pace_init(&s->pace, s->rate_Bps, (uint32_t)s->datapacketsize, ENG_MAX_SEG, 0);
    if ((rc = sfec_new(s)) < 0) {
        sender_free(s);
        return rc;
    }
    s->next_file_id = 1;
    s->phase = SP_START;
    s->st.group_id = s->group_id;
    s->st.group_inst = s->group_inst;
    s->st.grtt_us = s_adv_grtt(s);
    *out = s;
    return ENG_OK;
}

/*
 * spec §1.4 "Cleartext rejection": with encryption only REGISTER (and
 * HB/PROXY traffic, not ours) travels in clear. A client that has no keys
 * yet may abort in clear during the announce phase; one that acknowledged
 * its keys (ACTIVE) would have encrypted it.
 */
static bool cleartext_ok(struct sender *s, const struct uftp_hdr *h)
{
    switch (h->func) {
    case REGISTER:
        return true;
    case CLIENT_KEY: /* v4: always in clear (spec §1.9) */
        return s->cfg.version == UFTP_VER4 && s->phase == SP_ANNOUNCE;
    case ABORT: {
        if (s->phase != SP_ANNOUNCE)
            return false;
        const struct sdest *d = dest_of(s, h->src_id);
        return d == NULL || d->state == D_MUTE || d->state == D_REGISTERED;
    }
    default:
        return false;
    }
}

/*
 * Decrypts an ENCRYPTED datagram in place (spec §1.8): with the client's
 * handshake key during the announce phase when client authentication is
 * on (only CLIENT_KEY travels under it), otherwise its application key.
 * Replays, forgeries and keyless senders (the spec §6.3 crash) are counted
 * and dropped; nothing else changes.
 */
static bool authenticate(struct sender *s, const struct uftp_hdr *h, uint8_t *pkt, size_t len,
                         struct wire_msg *m)
{
    if (s->keys == NULL) {
        SLOG(s, LL_PROTO, "received encrypted packet with encryption disabled from %08X",
             h->src_id);
        return false;
    }
    struct sdest *d = dest_of(s, h->src_id);
    if (d == NULL || d->keys == NULL) {
        s->st.nokeys++;
        SLOG(s, LL_PROTO, "dropping encrypted packet from %08X: no keys for it", h->src_id);
        return false;
    }
    const uint8_t *msg;
    size_t mlen;
    bool hs = false;
    int rc =
        skeys_peer_open(d->keys, s->phase == SP_ANNOUNCE, pkt, len, s->scratch, &msg, &mlen, &hs);
    if (rc != CRYPTO_OK) {
        if (rc == SKEYS_EREPLAY || rc == SKEYS_EOLD)
            s->st.replayed++;
        else
            s->st.auth_failed++;
        SLOG(s, LL_PROTO, "rejecting message from %08X: %s", d->id, skeys_strerror(rc));
        if (rc == SKEYS_ELIMIT && d->state != D_ABORT && d->state != D_LOST) {
            /* Its key is retired after too many forgeries: it cannot go on. */
            SLOG(s, LL_ERR, "client %08X: too many forged packets, dropping it", d->id);
            client_drop(s, d, "Too many forged packets");
            session_event(s, SE_LEFT, NULL);
        }
        return false;
    }
    ssize_t n = wire_msg_decode(m, s->cfg.version, msg, mlen);
    if (n < 0) {
        SLOG(s, LL_PROTO, "invalid encrypted message from %08X: %s", d->id, wire_strerror((int)n));
        return false;
    }
    /* CLIENT_KEY travels under the handshake key and nothing else does (v4: in clear). */
    bool want_hs = m->func == CLIENT_KEY && s->cfg.version == UFTP_VER5;
    if (hs != want_hs || m->func == REGISTER || m->func == ENCRYPTED) {
        SLOG(s, LL_PROTO, "rejecting %s from %08X under the %s key", wire_func_name(m->func), d->id,
             hs ? "handshake" : "application");
        return false;
    }
    s->cur_msg = msg;
    s->cur_len = mlen;
    return true;
}

#define F(func) (1u << (func))
/* What each phase takes from receivers, besides ABORT (the reference's handle_*_phase). */
static const unsigned phase_takes[SP_NSTATES] = {
    [SP_ANNOUNCE] = F(REGISTER) | F(CLIENT_KEY) | F(KEYINFO_ACK),
    [SP_FILEINFO] = F(REGISTER) | F(FILEINFO_ACK) | F(COMPLETE),
    [SP_DATA] = F(REGISTER) | F(STATUS) | F(COMPLETE) | F(CC_ACK), /* REGISTER: from a proxy only */
    [SP_COMPLETION] = F(COMPLETE),
};
static sender_handler *const handlers[] = {
    [REGISTER] = reg_register, [CLIENT_KEY] = reg_client_key, [KEYINFO_ACK] = reg_keyinfo_ack,
    [STATUS] = xfer_status,    [COMPLETE] = xfer_complete,    [FILEINFO_ACK] = xfer_fileinfo_ack,
    [ABORT] = abort_recv,      [CC_ACK] = cc_ack_recv,
};

/* Whether the phase takes func; a file whose data went out with its FILEINFO
 * (session.c early_data()) takes STATUS in the FILEINFO phase too. */
static bool takes(const struct sender *s, uint8_t func)
{
    return func < 32 && ((phase_takes[s->phase] & F(func)) || (func == STATUS && s_sending(s)));
}

/* 4. dispatch to the message's family. */
static void dispatch(struct sender *s, const struct addr *from, const struct uftp_hdr *h,
                     const struct wire_msg *m)
{
    struct sdest *d = dest_of(s, h->src_id);
    if (m->func != ABORT && d == NULL && !(s->open_group && s->phase == SP_ANNOUNCE)) {
        SLOG(s, LL_WARN, "host %08X not in host list", h->src_id);
        job_abort(s, h->src_id, 0, "Not in host list", from);
    } else if (m->func != ABORT && d == NULL && m->func != REGISTER) {
        SLOG(s, LL_PROTO, "expected REGISTER from %08X, got %s", h->src_id,
             wire_func_name(m->func));
    } else if (m->func != ABORT && !takes(s, m->func)) {
        SLOG(s, LL_PROTO, "received invalid message %s from %08X", wire_func_name(m->func),
             h->src_id);
    } else {
        handlers[m->func](s, d, from, h, m);
    }
}

void sender_recv(struct sender *s, const struct addr *from, const struct addr *to, uint8_t *pkt,
                 size_t len, uint8_t tos, uint64_t now_us)
{
    (void)to;
    (void)tos;
    char ab[ADDR_STRLEN];
    if (s->phase == SP_START || s->phase == SP_FINISHED)
        return;
    s->now = now_us;
    /* 1. length: a header and at least a func/hlen word (spec §1.1). */
    if (len < UFTP_HDR_LEN + 4) {
        SLOG(s, LL_PROTO, "short datagram (%zu bytes) from %s", len, addr_str(from, ab));
        return;
    }
    /* 2. header: the server takes only its session's version, and only its own group. */
    struct uftp_hdr h;
    if (uftp_hdr_decode(&h, pkt, len) < 0 || h.version != s->cfg.version) {
        SLOG(s, LL_PROTO, "invalid version %02X from %s", pkt[0], addr_str(from, ab));
        return;
    }
    if (h.group_id != s->group_id) {
        SLOG(s, LL_PROTO, "invalid group ID %08X from %s", h.group_id, addr_str(from, ab));
        return;
    }
    if (h.src_id == s->cfg.server_id)
        return; /* our own multicast looped back */
    /* 3. authentication */
    struct wire_msg m;
    if (h.func == ENCRYPTED) {
        if (!authenticate(s, &h, pkt, len, &m))
            return;
    } else {
        struct wire_datagram d;
        ssize_t n = wire_datagram_decode(&d, pkt, len);
        if (n < 0) {
            SLOG(s, LL_PROTO, "invalid %s from %08X: %s", wire_func_name(h.func), h.src_id,
                 wire_strerror((int)n));
            return;
        }
        if (s->keys != NULL && !cleartext_ok(s, &h)) {
            s->st.cleartext++;
            SLOG(s, LL_PROTO, "rejecting %s from %08X: not encrypted", wire_func_name(h.func),
                 h.src_id);
            return;
        }
        m = d.msg;
        s->cur_msg = pkt + UFTP_HDR_LEN;
        s->cur_len = len - UFTP_HDR_LEN;
    }
    dispatch(s, from, &h, &m);
}

/* What xmit returned, to the session machine; true when out holds datagrams. */
static bool sent(struct sender *s, int rc)
{
    if (rc == XMIT_PASS_END)
        session_event(s, SE_PASS_END, NULL);
    else if (rc == XMIT_EREAD)
        session_event(s, SE_READ_ERROR, NULL);
    else if (rc == XMIT_ELIMIT)
        session_event(s, SE_KEY_LIMIT, NULL);
    else if (rc < 0)
        session_event(s, SE_FAIL,
                      &(int){rc == XMIT_ENOMEM ? SENDER_EXIT_ALLOC : SENDER_EXIT_CRYPTO});
    return rc > 0;
}

int sender_poll(struct sender *s, uint64_t now_us, struct eng_out *out)
{
    int rc = eng_out_check(out);
    if (rc < 0)
        return rc;
    eng_out_reset(out);
    s->now = now_us;
    session_tick(s);
    if (sent(s, xmit_job(s, now_us, out)))
        return out->kind;
    if (s_sending(s) && sent(s, xmit_data(s, now_us, out)))
        return out->kind;
    if (s->phase == SP_DATA && s->job_n == 0) {
        /* A read error may have ended the file; let the timers move on. */
        session_tick(s);
        if (sent(s, xmit_job(s, now_us, out)))
            return out->kind;
    }
    if (s->phase == SP_FINISHED && s->job_n == 0 && !s->done_reported) {
        s->done_reported = true;
        out->kind = ENG_DONE;
        out->exit_code = s->exit_code;
        return ENG_DONE;
    }
    return ENG_NONE;
}

uint64_t sender_deadline(const struct sender *s)
{
    if (s->job_n > 0)
        return 0;
    if (s->phase == SP_FINISHED)
        return s->done_reported ? ENG_NEVER : 0;
    return session_deadline(s);
}

void sender_interrupt(struct sender *s, uint64_t now_us)
{
    s->now = now_us;
    session_event(s, SE_INTERRUPT, NULL);
}

void sender_stats(const struct sender *s, struct sender_stats *st)
{
    *st = s->st;
    st->grtt_us = s_adv_grtt(s);
    st->active =
        (uint32_t)(s->cnt[D_REGISTERED] + s->cnt[D_ACTIVE] + s->cnt[D_ACTIVE_NAK] + s->cnt[D_DONE]);
}

void sender_free(struct sender *s)
{
    if (s == NULL)
        return;
    session_close_file(s);
    idmap_free(&s->ids);
    for (size_t i = 0; i < s->ndest; i++)
        skeys_peer_free(s->dests[i].keys);
    skeys_server_free(s->keys);
    crypto_key_free(s->own_key);
    sfec_free(s);
    free(s->scratch);
    free(s->dk);
    free(s->dests);
    free(s);
}
