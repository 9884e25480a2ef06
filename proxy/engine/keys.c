/* The session cryptography of a proxy (proxy/keys.h, spec §1.8). */
#include "proxy/engine/keys.h"

#include <stdlib.h>
#include <string.h>

#include "core/crypto/crypto.h"
#include "core/crypto/ecdh.h"
#include "core/crypto/fp.h"
#include "core/crypto/ks4.h"
#include "core/crypto/sig.h"
#include "core/crypto/skeys.h"
#include "core/proto/keysched.h"
#include "core/wire/msg.h"

struct ksess {
    int keytype, hashtype, curve;
    bool client_auth;
    uint32_t proxy_id;
    const struct crypto_key *sigkey;
    struct crypto_key *dh_down;
    uint8_t rand2[WIRE_RAND_LEN];
    uint8_t s_ctx[KEYSCHED_S_CTX_MAX];
    size_t slen;
    uint8_t p_ctx[KEYSCHED_P_CTX_MAX];
    size_t plen;
    /* Ourselves as the server's client (spec §3.5: or our upstream proxy's), v5 and v4. */
    struct skeys_client *up;
    uint8_t pk[KEYSCHED_HDR_MAX];
    size_t pklen;
    bool keyed;
    uint8_t gm[KS4_GM_LEN]; /* the group master (v5: its first KS5_GM_LEN bytes) */
    struct skeys_dir
        down_tx;       /* sealing our ABORTs: the server application key (v4: the group key) */
    uint64_t down_ctr; /* its counter: a range of our own */
    uint64_t ki_ctr;   /* downstream KEYINFO counter */
    uint8_t ctx[KEYSCHED_C_CTX2_MAX]; /* scratch for a client's contexts */
    /* v4 (spec §1.9) */
    bool v4;
    const struct crypto_key *dh4; /* the long-lived key, borrowed */
    uint32_t group_id, server_id;
    uint8_t rand1[WIRE_RAND_LEN];
    uint8_t addr[16];
    size_t addrlen;
    struct ks4_keys grp4;
    const struct crypto_key *sub_sig; /* client proxy: our key in ANNOUNCE, borrowed */
    /* spec §3.5: keyed by our upstream proxy (its PROXY_KEY) instead of the server. */
    bool stacked;
};

struct kpeer {
    uint8_t dh[KEYBLOB_EC_MAX];
    uint16_t dhlen;
    uint8_t rand2[WIRE_RAND_LEN];
    uint8_t *ckhdr; /* its CLIENT_KEY message, once verified (v4: its key blob) */
    size_t cklen;
    bool authed;    /* CLIENT_KEY verified */
    bool must_auth; /* a downstream proxy (spec §3.5): CLIENT_KEY whatever the session */
    bool app;       /* application keys derived */
    bool hs_gone;
    struct ks5_hs hs;
    struct ks5_client ak;
    struct skeys_dir hs_rx;
    struct skeys_dir rx; /* its application key (v4: the group key) */
    struct replay win;
    /* v4 */
    uint8_t pm4[CRYPTO_HASH_MAX]; /* SHA-1 premaster (20 bytes) */
    struct ks4_keys hs4;
    uint8_t verify4[KS4_VERIFY_LEN];
};

const char *keys_strerror(int err)
{
    if (err == KEYS_ENOKEY)
        return "v4: no signing key (-k) of the server's key type and size to substitute";
    return skeys_strerror(err);
}

/* ------------------------------------------------------------ v4 (spec §1.9) */

/* A v4 client proxy's -k key of the server's type and size (the ANNOUNCE keeps its layout). */
static int subst_key(const struct ksess_params *kp, const struct wire_enc_info *e,
                     const struct crypto_key **sub)
{
    struct crypto_key *sk = NULL;
    if (keyblob_import(e->keyblob, e->keylen, 0, &sk) != CRYPTO_OK)
        return CRYPTO_EBLOB;
    for (size_t i = 0; i < kp->nsigkeys && *sub == NULL; i++) {
        const struct crypto_key *c = kp->sigkeys[i];
        size_t bl;
        if (c != NULL && crypto_key_has_private(c) && crypto_key_type(c) == crypto_key_type(sk) &&
            crypto_key_bits(c) == crypto_key_bits(sk) &&
            crypto_key_curve(c) == crypto_key_curve(sk) && crypto_key_blob(c, &bl) != NULL &&
            bl == e->keylen && sig_len(c) == e->siglen)
            *sub = c;
    }
    crypto_key_free(sk);
    return *sub == NULL ? KEYS_ENOKEY : CRYPTO_OK;
}

int keys_announce4(struct ksess *k, uint8_t *dg, size_t len, const struct wire_enc_info *e)
{
    if (!k->v4 || k->sub_sig == NULL)
        return KEYS_ESTATE;
    size_t bl, dl, sl = sig_len(k->sub_sig);
    const uint8_t *blob = crypto_key_blob(k->sub_sig, &bl);
    const uint8_t *dh = crypto_key_blob(k->dh_down, &dl);
    uint8_t *kb = (uint8_t *)e->keyblob, *db = (uint8_t *)e->dhblob, *sg = (uint8_t *)e->sig;
    if (bl != e->keylen || dl != e->dhlen || sl != e->siglen || sl > SIG_MAX || kb < dg ||
        kb + bl > dg + len || db < dg || db + dl > dg + len || sg < dg || sg + sl > dg + len)
        return KEYS_EFRAME;
    /* Only what the server signed gets our signature. */
    int rc = skeys_client_verify_announce(k->up, e, dg, len);
    if (rc)
        return rc;
    memcpy(kb, blob, bl);
    memcpy(db, dh, dl);
    /* spec §1.4: over the whole datagram with the signature field zeroed. */
    return skeys_sign_in_place(k->sub_sig, k->hashtype, NULL, 0, dg, len, sg, sl);
}

static int keys_peer_wrap4(struct ksess *k, struct kpeer *c, uint64_t ctr,
                           uint8_t out[static KS5_GM_ENC_LEN])
{
    if (!k->keyed || c->hs_gone || (k->client_auth && !c->authed))
        return KEYS_ESTATE;
    if (!c->app) {
        /* spec §1.9: its finished value, over the verify data with its key blob (client
         * auth: c->ckhdr holds the blob in v4) and the group master. */
        uint8_t vb[KEYSCHED_V4_CTX_MAX];
        ssize_t vn = keysched_v4_verify_ctx(
            vb, sizeof(vb), k->group_id, k->addr, k->addrlen, k->rand1, c->rand2, c->pm4, 20,
            k->client_auth ? c->ckhdr : NULL, k->client_auth ? c->cklen : 0, k->gm);
        int rc =
            vn < 0 ? KEYS_EFRAME : ks4_finished(k->hashtype, k->gm, vb, (size_t)vn, c->verify4);
        crypto_wipe(vb, sizeof(vb));
        if (rc == CRYPTO_OK)
            rc = skeys_dir_init4(&c->rx, k->keytype, &k->grp4, AEAD_DIR_OPEN);
        if (rc)
            return rc;
        c->app = true;
    }
    /* The KEYINFO goes out under the server's ID: the IV holds it (spec §1.9 item 5). */
    return ks4_gm_wrap(k->keytype, &c->hs4, k->server_id, ctr, k->gm, out);
}

/* ------------------------------------------------------------ the session */

uint32_t keys_cost_new(const struct wire_enc_info *e)
{
    /* Two ECDH key generations, one agreement, a verification and a signature. */
    int curve = e->dhlen >= 4 && e->dhblob ? e->dhblob[1] : 0;
    uint32_t c = curve == CURVE_P256 ? 600 : curve == CURVE_P384 ? 2500 : 5000;
    if (e->keylen > 0 && e->keyblob && e->keyblob[0] == KEYBLOB_RSA)
        c += 100;
    return c;
}

uint32_t keys_cost_peer(const struct ksess *k)
{
    return k->curve == CURVE_P256 ? 200 : k->curve == CURVE_P384 ? 900 : 1800;
}

/* A signature of siglen bytes by key into sig. */
static int sign(const struct crypto_key *key, int hashtype, const struct crypto_iov *v, size_t n,
                uint8_t *sig, size_t siglen)
{
    int rc = sig_sign(key, hashtype, v, n, sig, siglen);
    if (rc < 0)
        return rc;
    return (size_t)rc == siglen ? CRYPTO_OK : CRYPTO_ELIB;
}

/* PROXY_KEY (spec §1.8): signing key, downstream ECDH key, signature over
 * "UFTP 5, PROXY_KEY" || S_ctx || P_ctx; P_ctx has the signature zeroed. */
static int make_proxy_key(struct ksess *k)
{
    size_t bl, dl;
    const uint8_t *blob = crypto_key_blob(k->sigkey, &bl);
    const uint8_t *dh = crypto_key_blob(k->dh_down, &dl);
    size_t sl = sig_len(k->sigkey);
    struct wire_proxy_key m = {.ver = UFTP_VER5,
                               .keyblob = blob,
                               .keylen = (uint16_t)bl,
                               .dhblob = dh,
                               .dhlen = (uint16_t)dl,
                               .sig = NULL,
                               .siglen = (uint16_t)sl};
    ssize_t n = wire_proxy_key_encode(k->pk, sizeof(k->pk), &m);
    if (n < 0)
        return KEYS_EFRAME;
    k->pklen = (size_t)n;
    ssize_t pl = keysched_p_ctx(k->p_ctx, sizeof(k->p_ctx), k->proxy_id, k->pk, k->pklen);
    if (pl < 0)
        return KEYS_EFRAME;
    k->plen = (size_t)pl;
    static const char pfx[] = KEYSCHED_SIG_PROXY_KEY;
    struct crypto_iov v[3] = {{pfx, sizeof(pfx) - 1}, {k->s_ctx, k->slen}, {k->p_ctx, k->plen}};
    return sign(k->sigkey, k->hashtype, v, 3, k->pk + 8 + bl + dl, sl);
}

ssize_t keys_proxy4_key_build(uint8_t *out, size_t cap, const struct crypto_key *sigkey,
                              const struct crypto_key *dh, uint32_t nonce)
{
    if (sigkey == NULL || dh == NULL || !crypto_key_has_private(sigkey) ||
        crypto_key_curve(dh) == 0)
        return KEYS_ETYPE;
    size_t bl, dl;
    const uint8_t *blob = crypto_key_blob(sigkey, &bl);
    const uint8_t *dhb = crypto_key_blob(dh, &dl);
    size_t sl = sig_len(sigkey);
    if (blob == NULL || dhb == NULL || sl == 0 || sl > SIG_MAX)
        return KEYS_ETYPE;
    struct wire_proxy_key m = {.ver = UFTP_VER4,
                               .nonce = nonce,
                               .keyblob = blob,
                               .keylen = (uint16_t)bl,
                               .dhblob = dhb,
                               .dhlen = (uint16_t)dl,
                               .sig = NULL,
                               .siglen = (uint16_t)sl};
    ssize_t n = wire_proxy_key_encode(out, cap, &m);
    if (n < 0)
        return KEYS_EFRAME;
    /* spec §1.9: the nonce is signed as it travels, with SHA-1 whatever the session. */
    uint8_t nb[4] = {(uint8_t)(nonce >> 24), (uint8_t)(nonce >> 16), (uint8_t)(nonce >> 8),
                     (uint8_t)nonce};
    struct crypto_iov v = {nb, sizeof(nb)};
    int rc = sign(sigkey, HASH_SHA1, &v, 1, out + 12 + bl + dl, sl);
    return rc < 0 ? rc : n;
}

int keys_new(struct ksess **out, const struct ksess_params *kp, const struct wire_enc_info *e,
             uint8_t *dg, size_t len)
{
    *out = NULL;
    if (!aead_supported(e->keytype) || !crypto_hash_session_ok(e->hashtype))
        return KEYS_ETYPE;
    bool v4 = len > 0 && dg[0] == UFTP_VER4;
    const struct crypto_key *sub = NULL;
    if (v4 && !kp->subst4 && kp->dh4 == NULL)
        return KEYS_ETYPE;
    if (!v4 && (kp->sigkey == NULL || !crypto_key_has_private(kp->sigkey)))
        return KEYS_ETYPE;
    int rc = v4 && kp->subst4 ? subst_key(kp, e, &sub) : CRYPTO_OK;
    if (rc)
        return rc;
    struct ksess *k = calloc(1, sizeof(*k));
    if (k == NULL)
        return CRYPTO_ENOMEM;
    k->v4 = v4;
    /* Under client auth we send our CLIENT_KEY upstream (skeys_client builds it; v4: in
     * clear, spec §1.9) and check each client's. */
    k->client_auth = (e->flags & FLAG_CLIENT_AUTH) != 0;
    k->keytype = e->keytype;
    k->hashtype = e->hashtype;
    k->curve = v4 && kp->dh4 ? crypto_key_curve(kp->dh4) : 0;
    k->proxy_id = kp->proxy_id;
    k->sigkey = kp->sigkey;
    k->dh4 = v4 ? kp->dh4 : NULL;
    k->sub_sig = sub;
    k->group_id = kp->group_id;
    k->server_id = kp->server_id;
    memcpy(k->rand1, e->rand1, WIRE_RAND_LEN);
    memcpy(k->addr, kp->addr, sizeof(k->addr));
    k->addrlen = kp->addrlen;
    /* Our ABORTs are sealed under the server's application key: on a counter range of
     * our own, as in v4, never on the server's (a nonce used twice), and ahead of it
     * (from 0 they fell behind the clients' replay window after ~2,000 server datagrams). */
    k->down_ctr = UINT64_C(1) << 63 | (uint64_t)kp->proxy_id << 31;
    struct skeys_client_cfg cc = {.group_id = kp->group_id,
                                  .group_inst = kp->group_inst,
                                  .server_id = kp->server_id,
                                  .client_id = kp->proxy_id,
                                  .fp = kp->server_fp,
                                  .fplen = kp->server_fplen,
                                  .sigkey = kp->sigkey,
                                  .addrlen = kp->addrlen,
                                  .proxy = true};
    memcpy(cc.rand2, kp->rand2, WIRE_RAND_LEN);
    memcpy(cc.addr, kp->addr, sizeof(cc.addr));
    /* The ANNOUNCE checked (cipher, hash, -S fingerprint, signature), our handshake. */
    rc = skeys_client_new(&k->up, &cc, e, dg, len);
    crypto_wipe(cc.rand2, sizeof(cc.rand2));
    if (rc == CRYPTO_OK)
        rc = skeys_client_handshake(k->up);
    if (rc == CRYPTO_OK)
        skeys_client_rand2(k->up, k->rand2);
    if (rc == CRYPTO_OK && (!v4 || sub != NULL)) {
        /* Our downstream key on the server's curve (v4: the blob keeps its size). */
        int type, curve;
        rc = keyblob_check(e->dhblob, e->dhlen, KEYBLOB_EC, &type, &curve);
        if (rc == CRYPTO_OK)
            rc = ecdh_keygen(curve, &k->dh_down);
        size_t dl = 0;
        if (rc == CRYPTO_OK && v4 && (crypto_key_blob(k->dh_down, &dl) == NULL || dl != e->dhlen))
            rc = KEYS_EFRAME;
        if (rc == CRYPTO_OK) {
            k->curve = curve;
            k->dh4 = v4 ? k->dh_down : NULL;
        }
    }
    if (rc == CRYPTO_OK && !v4) {
        ssize_t sl = keysched_s_ctx(k->s_ctx, sizeof(k->s_ctx), kp->group_id, kp->group_inst,
                                    kp->server_id, e->raw, e->raw_len);
        k->slen = sl < 0 ? 0 : (size_t)sl;
        rc = sl < 0 ? KEYS_EFRAME : make_proxy_key(k);
    }
    if (rc != CRYPTO_OK) {
        keys_free(k);
        return rc == CRYPTO_EINVAL && !v4 ? KEYS_ETYPE : rc;
    }
    *out = k;
    return CRYPTO_OK;
}

void keys_free(struct ksess *k)
{
    if (k == NULL)
        return;
    skeys_client_free(k->up);
    crypto_key_free(k->dh_down);
    skeys_dir_clear(&k->down_tx);
    crypto_wipe(k, sizeof(*k));
    free(k);
}

bool keys_client_auth(const struct ksess *k)
{
    return k->client_auth;
}

const uint8_t *keys_proxy_key(const struct ksess *k, size_t *len)
{
    *len = k->pklen;
    return k->pk;
}

const uint8_t *keys_dh_up(const struct ksess *k, size_t *len)
{
    return skeys_client_dh(k->up, len);
}

const uint8_t *keys_rand2(const struct ksess *k)
{
    return k->rand2;
}

const uint8_t *keys_client_key(const struct ksess *k, size_t *len)
{
    return skeys_client_client_key(k->up, len);
}

/*
 * spec §3.5: our upstream proxy's PROXY_KEY msg[0..len) (from its func
 * byte) takes the server's place in our handshake: its signature over
 * "UFTP 5, PROXY_KEY" || S_ctx || P_ctx(its) checked, our premaster with
 * its ECDH key, C_ctx1 with its P_ctx, and our CLIENT_KEY (always: it is
 * how the upstream proxy checks our --downstream fingerprint) in C_ctx2.
 */
int keys_upstream_proxy(struct ksess *k, uint32_t up_id, const uint8_t *msg, size_t len,
                        const uint8_t *fp, size_t fplen)
{
    if (k->v4 || k->keyed || k->stacked)
        return KEYS_ESTATE;
    int rc = skeys_client_proxy_key(k->up, up_id, msg, len, fp, fplen);
    /* Moved from here on: a failed handshake cannot key through the server either. */
    k->stacked = rc == CRYPTO_OK;
    if (rc == CRYPTO_OK)
        rc = skeys_client_handshake(k->up);
    return rc == CRYPTO_EINVAL ? KEYS_ETYPE : rc;
}

bool keys_stacked(const struct ksess *k)
{
    return k->stacked;
}

/*
 * Our entry in a KEYINFO: the server's (spec §1.8 / §7.4) or our upstream proxy's (spec
 * §3.5, with its P_ctx, under its key); v4 unsigned (spec §1.9). The group master then
 * gives the key our ABORTs are sealed with downstream.
 */
int keys_keyinfo(struct ksess *k, uint8_t *dg, size_t len, const struct wire_keyinfo *ki)
{
    if (wire_destkeys_find(&ki->keys, k->proxy_id) == NULL)
        return KEYS_ENOENT;
    if (k->keyed)
        return CRYPTO_OK;
    int rc = skeys_client_keyinfo(k->up, dg, len, ki);
    if (rc == CRYPTO_OK)
        rc = skeys_client_gm(k->up, k->gm);
    if (rc == CRYPTO_OK && k->v4) {
        rc = ks4_group(k->hashtype, k->keytype, k->gm, k->rand1, &k->grp4);
        if (rc == CRYPTO_OK)
            rc = skeys_dir_init4(&k->down_tx, k->keytype, &k->grp4, AEAD_DIR_SEAL);
    } else if (rc == CRYPTO_OK) {
        struct ks5_dir sapp;
        rc = ks5_server_app(k->hashtype, k->keytype, k->gm, k->s_ctx, k->slen, &sapp);
        if (rc == CRYPTO_OK)
            rc = skeys_dir_init(&k->down_tx, k->keytype, &sapp, AEAD_DIR_SEAL);
        crypto_wipe(&sapp, sizeof(sapp));
    }
    if (rc != CRYPTO_OK) {
        crypto_wipe(k->gm, sizeof(k->gm));
        crypto_wipe(&k->grp4, sizeof(k->grp4));
        return rc;
    }
    k->keyed = true;
    return CRYPTO_OK;
}

bool keys_keyed(const struct ksess *k)
{
    return k->keyed;
}

const uint8_t *keys_verify_data(const struct ksess *k, size_t *len)
{
    return skeys_client_verify_data(k->up, len);
}

ssize_t keys_seal_up(struct ksess *k, bool hs, uint8_t *dg, size_t msglen, size_t cap)
{
    /* One counter for both keys, as every client has (spec §1.8). */
    return skeys_seal(hs ? skeys_client_hs_tx(k->up) : skeys_client_app_tx(k->up),
                      skeys_client_ctr(k->up), dg, msglen, cap);
}

ssize_t keys_seal_down(struct ksess *k, uint8_t *dg, size_t msglen, size_t cap)
{
    if (!k->keyed)
        return KEYS_ESTATE;
    if ((k->down_ctr & 0x7FFFFFFFu) == 0x7FFFFFFFu)
        return KEYS_ELIMIT;
    return skeys_seal(&k->down_tx, &k->down_ctr, dg, msglen, cap);
}

int keys_open_server(struct ksess *k, uint8_t *dg, size_t len, const uint8_t **msg, size_t *msglen)
{
    return skeys_client_open(k->up, dg, len, msg, msglen);
}

/* ------------------------------------------------------------ clients */

/* C_ctx1 (and C_ctx2 when c2 is set) of a client into k->ctx. */
static int peer_ctx(struct ksess *k, const struct kpeer *c, uint32_t id, bool c2, size_t *len)
{
    uint8_t c1[KEYSCHED_C_CTX1_MAX];
    ssize_t n = keysched_c_ctx1(c2 ? c1 : k->ctx, c2 ? sizeof(c1) : sizeof(k->ctx), k->s_ctx,
                                k->slen, k->p_ctx, k->plen, id, c->dh, c->dhlen, c->rand2);
    if (n < 0)
        return KEYS_EFRAME;
    if (c2) {
        n = keysched_c_ctx2(k->ctx, sizeof(k->ctx), c1, (size_t)n, c->ckhdr, c->cklen);
        if (n < 0)
            return KEYS_EFRAME;
    }
    *len = (size_t)n;
    return CRYPTO_OK;
}

static int peer_handshake(struct ksess *k, struct kpeer *c, uint32_t id,
                          const struct crypto_key *cdh)
{
    uint8_t pm[CRYPTO_HASH_MAX];
    int n = ecdh_premaster(k->dh_down, cdh, HASH_SHA256, pm);
    int rc = n < 0 ? n : CRYPTO_OK;
    size_t c1len = 0;
    if (rc == CRYPTO_OK)
        rc = peer_ctx(k, c, id, false, &c1len);
    if (rc == CRYPTO_OK)
        rc = ks5_handshake(k->hashtype, k->keytype, pm, 32, k->ctx, c1len, &c->hs);
    crypto_wipe(pm, sizeof(pm));
    if (rc == CRYPTO_OK && k->client_auth)
        rc = skeys_dir_init(&c->hs_rx, k->keytype, &c->hs.c, AEAD_DIR_OPEN);
    return rc;
}

int keys_peer_new(struct ksess *k, struct kpeer **out, uint32_t id, const uint8_t *dh, size_t dhlen,
                  const uint8_t rand2[static WIRE_RAND_LEN])
{
    *out = NULL;
    if (dhlen == 0 || dhlen > KEYBLOB_EC_MAX)
        return CRYPTO_EBLOB;
    struct crypto_key *cdh = NULL;
    int rc = keyblob_import(dh, dhlen, KEYBLOB_EC, &cdh);
    if (rc)
        return rc;
    if (crypto_key_curve(cdh) != k->curve) {
        crypto_key_free(cdh);
        return KEYS_ETYPE;
    }
    struct kpeer *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        crypto_key_free(cdh);
        return CRYPTO_ENOMEM;
    }
    memcpy(c->dh, dh, dhlen);
    c->dhlen = (uint16_t)dhlen;
    memcpy(c->rand2, rand2, WIRE_RAND_LEN);
    replay_init(&c->win);
    /* spec §1.9: v4 with our long-lived key. */
    rc = k->v4 ? skeys_v4_handshake(k->hashtype, k->keytype, k->dh4, cdh, k->rand1, c->rand2,
                                    c->pm4, &c->hs4)
               : peer_handshake(k, c, id, cdh);
    crypto_key_free(cdh);
    if (rc) {
        keys_peer_free(c);
        return rc;
    }
    *out = c;
    return CRYPTO_OK;
}

void keys_peer_free(struct kpeer *c)
{
    if (c == NULL)
        return;
    skeys_dir_clear(&c->hs_rx);
    skeys_dir_clear(&c->rx);
    free(c->ckhdr);
    crypto_wipe(c, sizeof(*c));
    free(c);
}

bool keys_peer_registered(const struct ksess *k, const struct kpeer *c)
{
    return c != NULL && ((!k->client_auth && !c->must_auth) || c->authed);
}

int keys_peer_require_auth(struct ksess *k, struct kpeer *c)
{
    if (k->v4)
        return KEYS_ETYPE;
    c->must_auth = true;
    if (skeys_dir_ready(&c->hs_rx) || c->authed)
        return CRYPTO_OK;
    return skeys_dir_init(&c->hs_rx, k->keytype, &c->hs.c, AEAD_DIR_OPEN);
}

bool keys_peer_has_app(const struct kpeer *c)
{
    return c != NULL && c->app;
}

/*
 * CLIENT_KEY: v5 signs "UFTP 5, CLIENT_KEY" || C_ctx1, and its header is
 * kept for C_ctx2. v4 (spec §1.9) is cleartext and signs the verify data
 * without blob and group master: group_id, the private address, rand1 (the
 * server's, which the clients saw), its rand2 and our premaster with it; its
 * key blob is kept for its finished value.
 */
int keys_peer_client_key(struct ksess *k, struct kpeer *c, uint32_t id, const uint8_t *msg,
                         size_t len, const uint8_t *fp, size_t fplen)
{
    if ((!k->client_auth && !c->must_auth) || c->authed || c->hs_gone)
        return KEYS_ESTATE;
    struct wire_client_key m = {.ver = k->v4 ? UFTP_VER4 : UFTP_VER5};
    if (wire_client_key_decode(&m, msg, len) < 0 || m.keylen == 0 || m.siglen == 0)
        return KEYS_EFRAME;
    if (fplen > 0 && !fp_match(fp, fplen, m.keyblob, m.keylen))
        return KEYS_EFP;
    struct crypto_key *key = NULL;
    int rc = keyblob_import(m.keyblob, m.keylen, 0, &key);
    if (rc)
        return rc;
    if (k->v4) {
        uint8_t vb[KEYSCHED_V4_CTX_MAX];
        ssize_t vn = keysched_v4_verify_ctx(vb, sizeof(vb), k->group_id, k->addr, k->addrlen,
                                            k->rand1, c->rand2, c->pm4, 20, NULL, 0, NULL);
        struct crypto_iov v = {vb, vn < 0 ? 0 : (size_t)vn};
        rc = vn < 0 ? KEYS_EFRAME : sig_verify(key, k->hashtype, &v, 1, m.sig, m.siglen);
        crypto_wipe(vb, sizeof(vb));
    } else {
        size_t c1len;
        rc = peer_ctx(k, c, id, false, &c1len);
        if (rc == CRYPTO_OK) {
            static const char pfx[] = KEYSCHED_SIG_CLIENT_KEY;
            struct crypto_iov v[2] = {{pfx, sizeof(pfx) - 1}, {k->ctx, c1len}};
            rc = sig_verify(key, k->hashtype, v, 2, m.sig, m.siglen);
        }
    }
    crypto_key_free(key);
    if (rc)
        return rc;
    const uint8_t *keep = k->v4 ? m.keyblob : msg;
    size_t kl = k->v4 ? m.keylen : (size_t)msg[1] * 4;
    c->ckhdr = malloc(kl);
    if (c->ckhdr == NULL)
        return CRYPTO_ENOMEM;
    memcpy(c->ckhdr, keep, kl);
    c->cklen = kl;
    c->authed = true;
    return CRYPTO_OK;
}

int keys_peer_open(struct ksess *k, struct kpeer *c, bool hs, uint8_t *dg, size_t len,
                   uint8_t *scratch, const uint8_t **msg, size_t *msglen, bool *under_hs)
{
    struct skeys_dir *keys[2];
    size_t n = 0, which = 0;
    /* A repeated CLIENT_KEY still comes under the handshake key. */
    bool try_hs = !k->v4 && hs && skeys_dir_ready(&c->hs_rx);
    if (try_hs)
        keys[n++] = &c->hs_rx;
    if (skeys_dir_ready(&c->rx))
        keys[n++] = &c->rx;
    if (n == 0)
        return KEYS_ESTATE;
    int rc = skeys_open(keys, n, &c->win, dg, len, scratch, msg, msglen, &which);
    if (rc != CRYPTO_OK)
        return rc;
    /* The message stays in dg (tried out of place in scratch). */
    uint8_t *ct = dg + SKEYS_MSG_OFF;
    if (*msg != ct)
        memcpy(ct, *msg, *msglen);
    *msg = ct;
    *under_hs = try_hs && which == 0;
    return CRYPTO_OK;
}

int keys_peer_wrap(struct ksess *k, struct kpeer *c, uint32_t id, uint64_t ctr,
                   uint8_t out[static KS5_GM_ENC_LEN])
{
    if (k->v4)
        return keys_peer_wrap4(k, c, ctr, out);
    if (!k->keyed || !keys_peer_registered(k, c) || c->hs_gone)
        return KEYS_ESTATE;
    size_t c2len;
    int rc = peer_ctx(k, c, id, true, &c2len);
    if (rc)
        return rc;
    if (!c->app) {
        rc = ks5_client_app(k->hashtype, k->keytype, k->gm, k->ctx, c2len, &c->ak);
        if (rc == CRYPTO_OK)
            rc = skeys_dir_init(&c->rx, k->keytype, &c->ak.c, AEAD_DIR_OPEN);
        if (rc)
            return rc;
        c->app = true;
    }
    return ks5_gm_wrap(k->keytype, &c->hs, ctr, k->ctx, c2len, k->gm, out);
}

bool keys_peer_verify(const struct ksess *k, const struct kpeer *c, const uint8_t *v, size_t len)
{
    if (k->v4)
        return c->app && len == KS4_VERIFY_LEN && crypto_memeq(c->verify4, v, KS4_VERIFY_LEN);
    return c->app && ks5_verify_ok(k->hashtype, &c->ak, v, len);
}

void keys_peer_end_handshake(struct kpeer *c)
{
    if (c == NULL)
        return;
    skeys_dir_clear(&c->hs_rx);
    crypto_wipe(&c->hs, sizeof(c->hs));
    crypto_wipe(c->ak.finished_key, sizeof(c->ak.finished_key));
    crypto_wipe(&c->hs4, sizeof(c->hs4));
    crypto_wipe(c->pm4, sizeof(c->pm4));
    c->hs_gone = true;
}

uint64_t keys_keyinfo_ctr(struct ksess *k)
{
    return ++k->ki_ctr;
}

size_t keys_siglen(const struct ksess *k)
{
    if (k->v4)
        return 0; /* v4 KEYINFO is not signed (spec §1.9) */
    return sig_len(k->sigkey);
}

int keys_sign_keyinfo(struct ksess *k, uint8_t *dg, size_t len)
{
    if (k->v4)
        return CRYPTO_OK;
    /* spec §1.8: "UFTP 5, KEYINFO" || S_ctx || P_ctx || datagram (signature zeroed). */
    size_t sl = sig_len(k->sigkey);
    size_t off = UFTP_HDR_LEN + 12;
    if (len < off + sl)
        return KEYS_EFRAME;
    static const char pfx[] = KEYSCHED_SIG_KEYINFO;
    struct crypto_iov pre[3] = {{pfx, sizeof(pfx) - 1}, {k->s_ctx, k->slen}, {k->p_ctx, k->plen}};
    return skeys_sign_in_place(k->sigkey, k->hashtype, pre, 3, dg, len, dg + off, sl);
}
