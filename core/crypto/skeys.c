/*
 * Session keys (core/crypto/skeys.h): the v5 key schedule of spec §1.8 for
 * the server and client roles, and the ENCRYPTED framing with replay window
 * and usage limits. Built only on the public crypto modules (ks5, ecdh, sig,
 * keyblob, fp, aead) and the context builders of core/proto/keysched.h.
 */
#include "core/crypto/skeys.h"

#include <stdlib.h>
#include <string.h>

#include "core/crypto/ecdh.h"
#include "core/crypto/fp.h"
#include "core/crypto/keyblob.h"
#include "core/crypto/sig.h"
#include "core/proto/keysched.h"
#include "core/wire/buf.h"
#include "core/wire/proxykey.h"
#include "core/wire/wire.h"

#define PM_MAX  32 /* SHA-256 premaster */
#define PM4_LEN 20 /* v4: SHA-1 premaster (spec §1.9) */

const char *skeys_strerror(int err)
{
    switch (err) {
    case SKEYS_EREPLAY:
        return "replayed counter";
    case SKEYS_EOLD:
        return "counter behind the replay window";
    case SKEYS_ELIMIT:
        return "key usage limit reached";
    case SKEYS_EFRAME:
        return "malformed encrypted datagram";
    case SKEYS_EFP:
        return "key fingerprint mismatch";
    case SKEYS_ETYPE:
        return "unsupported cipher, hash, curve or key";
    case SKEYS_ESTATE:
        return "no key for this message";
    case SKEYS_ENOENT:
        return "not listed";
    default:
        return crypto_strerror(err);
    }
}

uint64_t skeys_blocks(size_t len)
{
    /* aead_limits: plaintext blocks + 2 AAD blocks + 1 for the tag counter block. */
    return ((uint64_t)len + 15) / 16 + 3;
}

/* ------------------------------------------------------------ one key */

/*
 * The limits in blocks: aead_limits' q (confidentiality) for the largest
 * datagram, times its l; the forgery limit is SKEYS_FORGE_SLACK times the
 * integrity figure (skeys.h).
 */
static void limit_blocks(int keytype, struct skeys_dir *d)
{
    const size_t p = UFTP_MAX_DATAGRAM - SKEYS_MSG_OFF - AEAD_TAG_LEN;
    uint64_t enc = 0, forge = 0;
    if (aead_limits(keytype, p, &enc, &forge) != CRYPTO_OK)
        return;
    uint64_t l = skeys_blocks(p);
    d->limit = enc > UINT64_MAX / l ? UINT64_MAX : enc * l;
    uint64_t f = forge > UINT64_MAX / l ? UINT64_MAX : forge * l;
    d->forge_limit = f > UINT64_MAX / SKEYS_FORGE_SLACK ? UINT64_MAX : f * SKEYS_FORGE_SLACK;
}

/* A direction of version ver from key and iv (v5: the nonce's IV, v4: its salt). */
static int dir_init(struct skeys_dir *d, int keytype, const uint8_t *key, const uint8_t *iv,
                    size_t ivlen, uint8_t ver, int dir)
{
    memset(d, 0, sizeof(*d));
    if (dir != AEAD_DIR_SEAL && dir != AEAD_DIR_OPEN)
        return CRYPTO_EINVAL;
    int rc = aead_new_dir(&d->aead, keytype, key, dir);
    if (rc)
        return rc;
    memcpy(d->iv, iv, ivlen);
    d->ver = ver;
    limit_blocks(keytype, d);
    return CRYPTO_OK;
}

int skeys_dir_init(struct skeys_dir *d, int keytype, const struct ks5_dir *k, int dir)
{
    return dir_init(d, keytype, k->key, k->iv, AEAD_NONCE_LEN, UFTP_VER5, dir);
}

int skeys_dir_init4(struct skeys_dir *d, int keytype, const struct ks4_keys *k, int dir)
{
    return dir_init(d, keytype, k->key, k->salt, AEAD_SALT4_LEN, UFTP_VER4, dir);
}

/* The nonce of counter c for datagram dg under d (spec §1.8; v4 §1.9: the header's src_id). */
static void dir_nonce(const struct skeys_dir *d, const uint8_t *dg, uint64_t c,
                      uint8_t nonce[static AEAD_NONCE_LEN])
{
    if (d->ver == UFTP_VER4)
        aead_nonce_v4(nonce, d->iv, be32_get(dg + 4), c);
    else
        aead_nonce_v5(nonce, d->iv, c);
}

void skeys_dir_clear(struct skeys_dir *d)
{
    aead_free(d->aead); /* EVP_CIPHER_CTX_free cleanses the key schedule */
    crypto_wipe(d, sizeof(*d));
}

uint64_t skeys_dir_left(const struct skeys_dir *d)
{
    if (!d->aead || d->used >= d->limit)
        return 0;
    return d->limit - d->used;
}

ssize_t skeys_seal(struct skeys_dir *d, uint64_t *ctr, uint8_t *dg, size_t msglen, size_t cap)
{
    if (!d->aead || msglen + AEAD_TAG_LEN > UINT16_MAX)
        return CRYPTO_EINVAL;
    size_t total = SKEYS_MSG_OFF + msglen + AEAD_TAG_LEN;
    if (total > cap)
        return CRYPTO_ENOSPC;
    uint64_t b = skeys_blocks(msglen);
    /* Never seal past the key's limit, never reuse a counter. */
    if (*ctr == UINT64_MAX || d->used >= d->limit || b > d->limit - d->used)
        return SKEYS_ELIMIT;
    uint64_t c = *ctr + 1;
    *ctr = c; /* consumed even if OpenSSL fails below */
    dg[1] = ENCRYPTED;
    be64_put(dg + UFTP_HDR_LEN, c);
    be16_put(dg + UFTP_HDR_LEN + 8, 0);
    be16_put(dg + UFTP_HDR_LEN + 10, (uint16_t)(msglen + AEAD_TAG_LEN));
    uint8_t nonce[AEAD_NONCE_LEN];
    dir_nonce(d, dg, c, nonce);
    uint8_t *m = dg + SKEYS_MSG_OFF;
    int rc = aead_seal(d->aead, nonce, dg, SKEYS_MSG_OFF, m, m, msglen, m + msglen);
    if (rc)
        return rc;
    d->used += b;
    d->ok++;
    return (ssize_t)total;
}

int skeys_open(struct skeys_dir *const *keys, size_t n, struct replay *win, uint8_t *dg, size_t len,
               uint8_t *scratch, const uint8_t **msg, size_t *msglen, size_t *which)
{
    *msg = NULL;
    *msglen = 0;
    if (len < SKEYS_MSG_OFF + AEAD_TAG_LEN || dg[1] != ENCRYPTED ||
        (dg[0] != UFTP_VER5 && dg[0] != UFTP_VER4))
        return SKEYS_EFRAME;
    /* v4: AEAD ciphers carry no per-message signature (spec §1.9). */
    struct wire_encrypted e = {.ver = dg[0]};
    if (wire_encrypted_decode(&e, dg + UFTP_HDR_LEN, len - UFTP_HDR_LEN) < 0 ||
        e.payload_len < AEAD_TAG_LEN || e.siglen != 0)
        return SKEYS_EFRAME;
    if (win != NULL) {
        int r = replay_check(win, e.iv_ctr);
        if (r == REPLAY_EDUP)
            return SKEYS_EREPLAY;
        if (r == REPLAY_EOLD)
            return SKEYS_EOLD;
    }
    size_t mlen = e.payload_len - AEAD_TAG_LEN;
    uint8_t *ct = dg + SKEYS_MSG_OFF;
    uint8_t tag[AEAD_TAG_LEN];
    memcpy(tag, ct + mlen, AEAD_TAG_LEN);
    uint8_t nonce[AEAD_NONCE_LEN];
    size_t tried[4], ntried = 0;
    int rc = SKEYS_ESTATE;
    for (size_t i = 0; i < n && ntried < 4; i++) {
        struct skeys_dir *d = keys[i];
        if (d == NULL || d->aead == NULL || d->ver != dg[0])
            continue;
        if (d->forged >= d->forge_limit) {
            rc = SKEYS_ELIMIT; /* retired after too many forgeries */
            continue;
        }
        tried[ntried++] = i;
        dir_nonce(d, dg, e.iv_ctr, nonce);
        uint8_t *out = n > 1 ? scratch : ct;
        int r = aead_open(d->aead, nonce, dg, SKEYS_MSG_OFF, ct, out, mlen, tag);
        if (r == CRYPTO_OK) {
            if (win != NULL)
                replay_update(win, e.iv_ctr);
            d->ok++;
            uint64_t ub = skeys_blocks(mlen);
            d->used = d->used > UINT64_MAX - ub ? UINT64_MAX : d->used + ub;
            *msg = out;
            *msglen = mlen;
            if (which)
                *which = i;
            return CRYPTO_OK;
        }
        if (r != CRYPTO_EAUTH)
            return r;
        rc = CRYPTO_EAUTH;
    }
    /* A forgery attempt against every key it was tried with: counted apart from its use. */
    uint64_t b = skeys_blocks(mlen);
    for (size_t k = 0; k < ntried; k++) {
        struct skeys_dir *d = keys[tried[k]];
        d->failed++;
        d->forged = d->forged > UINT64_MAX - b ? UINT64_MAX : d->forged + b;
    }
    return rc;
}

/* ------------------------------------------------------------ v4 response proxy */

int skeys_proxy4_key(const uint8_t *msg, size_t len, const uint8_t *fp, size_t fplen,
                     struct crypto_key **sig, struct crypto_key **dh)
{
    *sig = *dh = NULL;
    struct wire_proxy_key m = {.ver = UFTP_VER4};
    if (wire_proxy_key_decode(&m, msg, len) < 0 || m.keylen == 0 || m.dhlen == 0 || m.siglen == 0)
        return SKEYS_EFRAME;
    if (fplen > 0 && !fp_match(fp, fplen, m.keyblob, m.keylen))
        return SKEYS_EFP;
    struct crypto_key *sk = NULL, *dk = NULL;
    if (keyblob_import(m.keyblob, m.keylen, 0, &sk) != CRYPTO_OK ||
        keyblob_import(m.dhblob, m.dhlen, KEYBLOB_EC, &dk) != CRYPTO_OK) {
        crypto_key_free(sk);
        return CRYPTO_EBLOB;
    }
    uint8_t nonce[4];
    be32_put(nonce, m.nonce); /* signed as it travels */
    struct crypto_iov v = {nonce, sizeof(nonce)};
    int rc = sig_verify(sk, HASH_SHA1, &v, 1, m.sig, m.siglen);
    if (rc != CRYPTO_OK) {
        crypto_key_free(sk);
        crypto_key_free(dk);
        return rc;
    }
    *sig = sk;
    *dh = dk;
    return CRYPTO_OK;
}

/* ------------------------------------------------------------ costs */

uint32_t skeys_cost_verify(const uint8_t *blob, size_t len)
{
    /* Measured with `openssl speed` (OpenSSL 3.0, x86-64), rounded up. */
    if (blob != NULL && len >= 4 && blob[0] == KEYBLOB_RSA)
        return be16_get(blob + 2) <= 256 ? 40 : 80;
    if (blob != NULL && len >= 2 && blob[0] == KEYBLOB_EC) {
        switch (blob[1]) {
        case CURVE_P256:
            return 80;
        case CURVE_P384:
            return 1000;
        case CURVE_P521:
            return 900;
        default:
            break;
        }
    }
    return 1000;
}

uint32_t skeys_cost_ecdh(int curve)
{
    switch (curve) {
    case CURVE_P256:
        return 120;
    case CURVE_P384:
        return 2000;
    case CURVE_P521:
        return 800;
    default:
        return 2000;
    }
}

int skeys_announce_check(const struct wire_enc_info *e, const uint8_t *fp, size_t fplen,
                         uint32_t *cost)
{
    *cost = 0;
    if (!aead_supported(e->keytype) || !crypto_hash_session_ok(e->hashtype) || e->keylen == 0 ||
        e->dhlen == 0 || e->siglen == 0)
        return SKEYS_ETYPE;
    int kt, kp, dt, dc;
    if (keyblob_check(e->keyblob, e->keylen, 0, &kt, &kp) != CRYPTO_OK ||
        keyblob_check(e->dhblob, e->dhlen, KEYBLOB_EC, &dt, &dc) != CRYPTO_OK)
        return CRYPTO_EBLOB;
    if (fplen > 0 && !fp_match(fp, fplen, e->keyblob, e->keylen))
        return SKEYS_EFP;
    /* The blobs' sizes are now their real ones, not claims. */
    *cost = skeys_cost_verify(e->keyblob, e->keylen) + skeys_cost_ecdh(dc);
    return CRYPTO_OK;
}

/* ------------------------------------------------------------ helpers */

static bool types_ok(int keytype, int hashtype)
{
    return aead_supported(keytype) && crypto_hash_session_ok(hashtype);
}

int skeys_verify_in_place(const struct crypto_key *k, int hashtype, const struct crypto_iov *pre,
                          size_t npre, uint8_t *dg, size_t len, uint8_t *sig, size_t siglen)
{
    if (siglen == 0 || siglen > SIG_MAX || sig < dg || sig + siglen > dg + len)
        return CRYPTO_ESIG;
    uint8_t copy[SIG_MAX];
    memcpy(copy, sig, siglen);
    memset(sig, 0, siglen);
    struct crypto_iov v[4];
    size_t n = 0;
    for (size_t i = 0; i < npre && n < 3; i++)
        v[n++] = pre[i];
    v[n++] = (struct crypto_iov){dg, len};
    int rc = sig_verify(k, hashtype, v, n, copy, siglen);
    memcpy(sig, copy, siglen);
    return rc;
}

int skeys_sign_in_place(const struct crypto_key *k, int hashtype, const struct crypto_iov *pre,
                        size_t npre, uint8_t *dg, size_t len, uint8_t *sig, size_t siglen)
{
    memset(sig, 0, siglen);
    struct crypto_iov v[4];
    size_t n = 0;
    for (size_t i = 0; i < npre && n < 3; i++)
        v[n++] = pre[i];
    v[n++] = (struct crypto_iov){dg, len};
    uint8_t out[SIG_MAX];
    int rc = sig_sign(k, hashtype, v, n, out, sizeof(out));
    if (rc < 0)
        return rc;
    if ((size_t)rc != siglen)
        return CRYPTO_ELIB;
    memcpy(sig, out, siglen);
    return CRYPTO_OK;
}

/* The signature field of an encoded ANNOUNCE's EXT_ENC_INFO. */
static uint8_t *announce_sig(uint8_t *dg, size_t len, size_t *siglen)
{
    if (len < UFTP_HDR_LEN + 4 || dg[1] != ANNOUNCE || dg[UFTP_HDR_LEN] != ANNOUNCE)
        return NULL;
    size_t hl = (size_t)dg[UFTP_HDR_LEN + 1] * 4;
    size_t iplen = (dg[UFTP_HDR_LEN + 2] & FLAG_IPV6) ? 16 : 4;
    size_t ext = UFTP_HDR_LEN + 16 + 2 * iplen;
    if (UFTP_HDR_LEN + hl > len || ext + WIRE_ENC_INFO_FIXED > UFTP_HDR_LEN + hl ||
        dg[ext] != EXT_ENC_INFO)
        return NULL;
    size_t el = (size_t)dg[ext + 1] * 4;
    size_t kl = be16_get(dg + ext + 6), dl = be16_get(dg + ext + 8), sl = be16_get(dg + ext + 10);
    if (ext + el > UFTP_HDR_LEN + hl || WIRE_ENC_INFO_FIXED + kl + dl + sl != el)
        return NULL;
    *siglen = sl;
    return dg + ext + WIRE_ENC_INFO_FIXED + kl + dl;
}

/* ------------------------------------------------------------ v4 pieces */

/* The v4 parts both roles share (spec §1.9). */
struct v4ctx {
    int hashtype;
    uint32_t group_id;
    const uint8_t *addr;
    size_t addrlen;
    const uint8_t *rand1, *rand2, *pm;
};

/* The verify data: without blob and gm for CLIENT_KEY's signature, with both for the finished
 * value. */
static ssize_t v4_vctx(const struct v4ctx *v, const uint8_t *blob, size_t bloblen,
                       const uint8_t *gm, uint8_t out[static KEYSCHED_V4_CTX_MAX])
{
    return keysched_v4_verify_ctx(out, KEYSCHED_V4_CTX_MAX, v->group_id, v->addr, v->addrlen,
                                  v->rand1, v->rand2, v->pm, PM4_LEN, blob, bloblen, gm);
}

static int v4_finished(const struct v4ctx *v, const uint8_t *blob, size_t bloblen,
                       const uint8_t gm[static KS4_GM_LEN], uint8_t out[static KS4_VERIFY_LEN])
{
    uint8_t buf[KEYSCHED_V4_CTX_MAX];
    ssize_t n = v4_vctx(v, blob, bloblen, gm, buf);
    int rc = n < 0 ? CRYPTO_EINVAL : ks4_finished(v->hashtype, gm, buf, (size_t)n, out);
    crypto_wipe(buf, sizeof(buf));
    return rc;
}

int skeys_v4_handshake(int hashtype, int keytype, const struct crypto_key *priv,
                       const struct crypto_key *peer, const uint8_t *rand1, const uint8_t *rand2,
                       uint8_t pm[static PM4_LEN], struct ks4_keys *hs)
{
    uint8_t master[KS4_MASTER_LEN];
    int rc = ecdh_premaster(priv, peer, HASH_SHA1, pm) == PM4_LEN ? CRYPTO_OK : CRYPTO_ELIB;
    if (rc == CRYPTO_OK)
        rc = ks4_master(hashtype, pm, PM4_LEN, rand1, rand2, master);
    if (rc == CRYPTO_OK)
        rc = ks4_handshake(hashtype, keytype, master, rand1, rand2, hs);
    crypto_wipe(master, sizeof(master));
    return rc;
}

/* ------------------------------------------------------------ the server */

struct skeys_server {
    int keytype, hashtype, curve;
    uint8_t ver;
    bool client_auth;
    const struct crypto_key *sigkey;
    struct crypto_key *dh;
    struct wire_enc_info enc;
    size_t siglen;
    uint8_t s_ctx[KEYSCHED_S_CTX_MAX];
    size_t slen;
    uint8_t gm[KS5_GM_LEN];
    bool gm_live;
    struct skeys_dir tx;
    uint64_t ctr;
    /* v4 (spec §1.9) */
    uint32_t group_id, server_id;
    uint8_t rand1[WIRE_RAND_LEN];
    uint8_t addr[16];
    size_t addrlen;
    uint8_t gm4[KS4_GM_LEN];
    struct ks4_keys grp; /* the one group key */
};

struct skeys_peer {
    bool client_auth;
    bool hs_live, keyed;
    struct ks5_hs hs;
    struct skeys_dir c_hs;  /* CLIENT_KEY (open), client auth only */
    struct skeys_dir c_app; /* everything else from the client (open) */
    uint8_t verify[CRYPTO_HASH_MAX];
    size_t vlen;
    struct replay win; /* the client's one counter, across its keys */
    /* C_ctx2 without its S_ctx prefix: client_id || ECDH blob || rand2 [|| CLIENT_KEY hdr]. */
    uint8_t *ctx;
    size_t c1len, c2len; /* suffix lengths */
    /* v4: the handshake key, and the verify data's client parts */
    struct ks4_keys hs4;
    uint8_t pm4[PM4_LEN];
    uint8_t rand2[WIRE_RAND_LEN];
};

int skeys_server_new(struct skeys_server **out, const struct skeys_server_cfg *c)
{
    *out = NULL;
    struct crypto_key *fixed = c->dh;
    if (!types_ok(c->keytype, c->hashtype) || keyblob_ec_len(c->curve) == 0 || c->sigkey == NULL ||
        !crypto_key_has_private(c->sigkey) ||
        (fixed && (crypto_key_curve(fixed) != c->curve || !crypto_key_has_private(fixed)))) {
        crypto_key_free(fixed);
        return SKEYS_ETYPE;
    }
    struct skeys_server *s = calloc(1, sizeof(*s));
    if (s == NULL) {
        crypto_key_free(fixed);
        return CRYPTO_ENOMEM;
    }
    s->keytype = c->keytype;
    s->hashtype = c->hashtype;
    s->curve = c->curve;
    s->ver = c->ver == UFTP_VER4 ? UFTP_VER4 : UFTP_VER5;
    s->client_auth = c->client_auth;
    s->sigkey = c->sigkey;
    s->siglen = sig_len(c->sigkey);
    s->group_id = c->group_id;
    s->server_id = c->server_id;
    memcpy(s->rand1, c->rand1, WIRE_RAND_LEN);
    int rc = CRYPTO_OK;
    if (fixed)
        s->dh = fixed;
    else if ((rc = ecdh_keygen(c->curve, &s->dh)) != CRYPTO_OK)
        goto fail;
    struct wire_enc_info *e = &s->enc;
    e->ver = s->ver;
    if (s->ver == UFTP_VER4) {
        /* spec §1.9 item 2: the only v4 parameters 5.x receivers accept. */
        e->keyextype =
            crypto_key_type(c->sigkey) == KEYBLOB_RSA ? KEYEX_ECDH_RSA : KEYEX_ECDH_ECDSA;
        e->sigtype = SIG_AUTHENC;
    }
    e->flags = c->client_auth ? FLAG_CLIENT_AUTH : 0;
    e->keytype = (uint8_t)c->keytype;
    e->hashtype = (uint8_t)c->hashtype;
    memcpy(e->rand1, c->rand1, WIRE_RAND_LEN);
    size_t kl, dl;
    e->keyblob = crypto_key_blob(c->sigkey, &kl);
    e->dhblob = crypto_key_blob(s->dh, &dl);
    e->keylen = (uint16_t)kl;
    e->dhlen = (uint16_t)dl;
    e->sig = NULL; /* encodes as zeros */
    e->siglen = (uint16_t)s->siglen;
    uint8_t ext[KEYSCHED_HDR_MAX];
    ssize_t el = wire_enc_info_encode(ext, sizeof(ext), e);
    ssize_t sl = el < 0 ? el
                        : keysched_s_ctx(s->s_ctx, sizeof(s->s_ctx), c->group_id, c->group_inst,
                                         c->server_id, ext, (size_t)el);
    if (sl < 0) {
        rc = SKEYS_ETYPE;
        goto fail;
    }
    s->slen = (size_t)sl;
    s->gm_live = true;
    if (s->ver == UFTP_VER4) {
        if (c->addrlen != 4 && c->addrlen != 16) {
            rc = CRYPTO_EINVAL;
            goto fail;
        }
        memcpy(s->addr, c->addr, c->addrlen);
        s->addrlen = c->addrlen;
        memcpy(s->gm4, c->group_master4, KS4_GM_LEN);
        s->gm4[0] = UFTP_VER4;
        rc = ks4_group(s->hashtype, s->keytype, s->gm4, s->rand1, &s->grp);
        if (rc == CRYPTO_OK)
            rc = skeys_dir_init4(&s->tx, s->keytype, &s->grp, AEAD_DIR_SEAL);
        if (rc)
            goto fail;
        *out = s;
        return CRYPTO_OK;
    }
    memcpy(s->gm, c->group_master, KS5_GM_LEN);
    struct ks5_dir sd;
    rc = ks5_server_app(s->hashtype, s->keytype, s->gm, s->s_ctx, s->slen, &sd);
    if (rc == CRYPTO_OK)
        rc = skeys_dir_init(&s->tx, s->keytype, &sd, AEAD_DIR_SEAL);
    crypto_wipe(&sd, sizeof(sd));
    if (rc)
        goto fail;
    *out = s;
    return CRYPTO_OK;
fail:
    skeys_server_free(s);
    return rc;
}

void skeys_server_free(struct skeys_server *s)
{
    if (s == NULL)
        return;
    crypto_key_free(s->dh);
    skeys_dir_clear(&s->tx);
    crypto_wipe(s, sizeof(*s));
    free(s);
}

const struct wire_enc_info *skeys_server_enc_info(const struct skeys_server *s)
{
    return &s->enc;
}

int skeys_server_sign_announce(struct skeys_server *s, uint8_t *dg, size_t len)
{
    size_t siglen = 0;
    uint8_t *sig = announce_sig(dg, len, &siglen);
    if (sig == NULL || siglen != s->siglen)
        return SKEYS_EFRAME;
    return skeys_sign_in_place(s->sigkey, s->hashtype, NULL, 0, dg, len, sig, siglen);
}

struct skeys_dir *skeys_server_tx(struct skeys_server *s)
{
    return &s->tx;
}

uint64_t *skeys_server_ctr(struct skeys_server *s)
{
    return &s->ctr;
}

size_t skeys_server_siglen(const struct skeys_server *s)
{
    return s->siglen;
}

/* C_ctx (1 or 2) of p: S_ctx || its suffix, into buf. */
static size_t peer_ctx(const struct skeys_server *s, const struct skeys_peer *p, bool two,
                       uint8_t *buf)
{
    size_t n = two ? p->c2len : p->c1len;
    memcpy(buf, s->s_ctx, s->slen);
    memcpy(buf + s->slen, p->ctx, n);
    return s->slen + n;
}

/* C_ctx2 → the client's application key and verify data. */
static int peer_derive_app(const struct skeys_server *s, struct skeys_peer *p, const uint8_t *c2,
                           size_t c2len)
{
    struct ks5_client kc;
    int rc = ks5_client_app(s->hashtype, s->keytype, s->gm, c2, c2len, &kc);
    if (rc == CRYPTO_OK)
        rc = skeys_dir_init(&p->c_app, s->keytype, &kc.c, AEAD_DIR_OPEN);
    if (rc == CRYPTO_OK) {
        p->vlen = crypto_hash_len(s->hashtype);
        memcpy(p->verify, kc.verify, p->vlen);
        p->keyed = true;
    }
    crypto_wipe(&kc, sizeof(kc));
    return rc;
}

static struct v4ctx server_v4ctx(const struct skeys_server *s, const struct skeys_peer *p)
{
    return (struct v4ctx){s->hashtype, s->group_id, s->addr, s->addrlen,
                          s->rand1,    p->rand2,    p->pm4};
}

/* v4: the group key for opening p's messages, and p's finished value (spec §1.9). */
static int peer_derive_app4(const struct skeys_server *s, struct skeys_peer *p, const uint8_t *blob,
                            size_t bloblen)
{
    struct v4ctx v = server_v4ctx(s, p);
    int rc = v4_finished(&v, blob, bloblen, s->gm4, p->verify);
    if (rc == CRYPTO_OK)
        rc = skeys_dir_init4(&p->c_app, s->keytype, &s->grp, AEAD_DIR_OPEN);
    if (rc == CRYPTO_OK) {
        p->vlen = KS4_VERIFY_LEN;
        p->keyed = true;
    }
    return rc;
}

/* v4: the premaster and handshake key; without client auth also the group key (spec §1.9). */
static int server_register4(struct skeys_server *s, struct skeys_peer *p, struct crypto_key *peer,
                            const uint8_t rand2[static WIRE_RAND_LEN])
{
    memcpy(p->rand2, rand2, WIRE_RAND_LEN);
    int rc = skeys_v4_handshake(s->hashtype, s->keytype, s->dh, peer, s->rand1, p->rand2, p->pm4,
                                &p->hs4);
    if (rc == CRYPTO_OK) {
        p->hs_live = true;
        if (!s->client_auth)
            rc = peer_derive_app4(s, p, NULL, 0);
    }
    return rc;
}

/* v5: C_ctx1 and the handshake key; without client auth also the application key. */
static int server_register5(struct skeys_server *s, struct skeys_peer *p, struct crypto_key *peer,
                            uint32_t client_id, const uint8_t *dh, size_t dhlen,
                            const uint8_t rand2[static WIRE_RAND_LEN])
{
    uint8_t pm[PM_MAX];
    int rc = ecdh_premaster(s->dh, peer, HASH_SHA256, pm);
    if (rc < 0)
        return rc;
    uint8_t *c1 = malloc(KEYSCHED_C_CTX1_MAX);
    ssize_t c1len = c1 == NULL ? 0
                               : keysched_c_ctx1(c1, KEYSCHED_C_CTX1_MAX, s->s_ctx, s->slen, NULL,
                                                 0, client_id, dh, dhlen, rand2);
    if (c1 == NULL)
        rc = CRYPTO_ENOMEM;
    else if (c1len < 0)
        rc = CRYPTO_EBLOB;
    else if ((p->ctx = malloc((size_t)c1len - s->slen)) == NULL)
        rc = CRYPTO_ENOMEM;
    else {
        p->c1len = p->c2len = (size_t)c1len - s->slen;
        memcpy(p->ctx, c1 + s->slen, p->c1len);
        rc = ks5_handshake(s->hashtype, s->keytype, pm, sizeof(pm), c1, (size_t)c1len, &p->hs);
    }
    if (rc == CRYPTO_OK) {
        p->hs_live = true;
        if (s->client_auth)
            rc = skeys_dir_init(&p->c_hs, s->keytype, &p->hs.c, AEAD_DIR_OPEN);
        else
            rc = peer_derive_app(s, p, c1, (size_t)c1len); /* C_ctx2 = C_ctx1 */
    }
    crypto_wipe(pm, sizeof(pm));
    free(c1);
    return rc;
}

int skeys_server_register(struct skeys_server *s, uint32_t client_id, const uint8_t *dh,
                          size_t dhlen, const uint8_t rand2[static WIRE_RAND_LEN],
                          struct skeys_peer **out)
{
    *out = NULL;
    if (!s->gm_live)
        return SKEYS_ESTATE;
    struct crypto_key *peer = NULL;
    if (dhlen == 0 || keyblob_import(dh, dhlen, KEYBLOB_EC, &peer) != CRYPTO_OK)
        return CRYPTO_EBLOB;
    if (crypto_key_curve(peer) != s->curve) {
        crypto_key_free(peer);
        return SKEYS_ETYPE;
    }
    struct skeys_peer *p = calloc(1, sizeof(*p));
    int rc = CRYPTO_ENOMEM;
    if (p != NULL) {
        p->client_auth = s->client_auth;
        replay_init(&p->win);
        rc = s->ver == UFTP_VER4 ? server_register4(s, p, peer, rand2)
                                 : server_register5(s, p, peer, client_id, dh, dhlen, rand2);
    }
    crypto_key_free(peer);
    if (rc) {
        skeys_peer_free(p);
        return rc;
    }
    *out = p;
    return CRYPTO_OK;
}

int skeys_server_client_key(struct skeys_server *s, struct skeys_peer *p, const uint8_t *msg,
                            size_t len, const uint8_t *fp, size_t fplen)
{
    if (!s->client_auth || p->keyed || !p->hs_live || !s->gm_live)
        return SKEYS_ESTATE;
    struct wire_client_key ck = {.ver = s->ver};
    if (wire_client_key_decode(&ck, msg, len) < 0 || ck.keylen == 0 || ck.siglen == 0)
        return SKEYS_EFRAME;
    size_t hl = (size_t)msg[1] * 4;
    /* The reference checks the fingerprint, then the signature (spec §1.8). */
    if (fplen > 0 && !fp_match(fp, fplen, ck.keyblob, ck.keylen))
        return SKEYS_EFP;
    struct crypto_key *pub = NULL;
    if (keyblob_import(ck.keyblob, ck.keylen, 0, &pub) != CRYPTO_OK)
        return CRYPTO_EBLOB;
    if (s->ver == UFTP_VER4) {
        /* spec §1.9: v4 CLIENT_KEY signs the verify data without blob and group master. */
        struct v4ctx v = server_v4ctx(s, p);
        uint8_t vb[KEYSCHED_V4_CTX_MAX];
        ssize_t vn = v4_vctx(&v, NULL, 0, NULL, vb);
        int r4 = CRYPTO_EINVAL;
        if (vn >= 0) {
            struct crypto_iov iv1 = {vb, (size_t)vn};
            r4 = sig_verify(pub, s->hashtype, &iv1, 1, ck.sig, ck.siglen);
        }
        if (r4 == CRYPTO_OK)
            r4 = peer_derive_app4(s, p, ck.keyblob, ck.keylen);
        crypto_key_free(pub);
        return r4;
    }
    uint8_t *c1 = malloc(KEYSCHED_C_CTX1_MAX), *c2 = malloc(KEYSCHED_C_CTX2_MAX);
    int rc = CRYPTO_ENOMEM;
    if (c1 == NULL || c2 == NULL)
        goto out;
    size_t c1len = peer_ctx(s, p, false, c1);
    static const char pfx[] = KEYSCHED_SIG_CLIENT_KEY;
    struct crypto_iov v[2] = {{pfx, sizeof(pfx) - 1}, {c1, c1len}};
    rc = sig_verify(pub, s->hashtype, v, 2, ck.sig, ck.siglen);
    if (rc)
        goto out;
    ssize_t c2len = keysched_c_ctx2(c2, KEYSCHED_C_CTX2_MAX, c1, c1len, msg, hl);
    if (c2len < 0) {
        rc = SKEYS_EFRAME;
        goto out;
    }
    uint8_t *nctx = malloc((size_t)c2len - s->slen);
    if (nctx == NULL) {
        rc = CRYPTO_ENOMEM;
        goto out;
    }
    memcpy(nctx, c2 + s->slen, (size_t)c2len - s->slen);
    free(p->ctx);
    p->ctx = nctx;
    p->c2len = (size_t)c2len - s->slen;
    rc = peer_derive_app(s, p, c2, (size_t)c2len);
out:
    crypto_key_free(pub);
    free(c1);
    free(c2);
    return rc;
}

bool skeys_peer_keyed(const struct skeys_peer *p)
{
    return p->keyed;
}

int skeys_server_keyinfo_ctr(struct skeys_server *s, uint64_t *ctr)
{
    if (s->ctr == UINT64_MAX)
        return SKEYS_ELIMIT;
    *ctr = ++s->ctr;
    return CRYPTO_OK;
}

int skeys_server_wrap(struct skeys_server *s, const struct skeys_peer *p, uint64_t ctr,
                      uint8_t out[static KS5_GM_ENC_LEN])
{
    if (!s->gm_live || !p->hs_live || !p->keyed)
        return SKEYS_ESTATE;
    if (s->ver == UFTP_VER4)
        return ks4_gm_wrap(s->keytype, &p->hs4, s->server_id, ctr, s->gm4, out);
    uint8_t *c2 = malloc(KEYSCHED_C_CTX2_MAX);
    if (c2 == NULL)
        return CRYPTO_ENOMEM;
    size_t c2len = peer_ctx(s, p, true, c2);
    int rc = ks5_gm_wrap(s->keytype, &p->hs, ctr, c2, c2len, s->gm, out);
    free(c2);
    return rc;
}

int skeys_server_sign_keyinfo(struct skeys_server *s, uint8_t *dg, size_t len)
{
    if (s->ver == UFTP_VER4)
        return CRYPTO_OK; /* v4 KEYINFO is not signed (spec §1.9) */
    /* KEYINFO: func, hlen, siglen (2), counter (8), signature, entries. */
    if (len < UFTP_HDR_LEN + 12 || dg[1] != KEYINFO || dg[UFTP_HDR_LEN] != KEYINFO)
        return SKEYS_EFRAME;
    size_t hl = (size_t)dg[UFTP_HDR_LEN + 1] * 4, sl = be16_get(dg + UFTP_HDR_LEN + 2);
    if (sl != s->siglen || 12 + sl > hl || UFTP_HDR_LEN + hl > len)
        return SKEYS_EFRAME;
    static const char pfx[] = KEYSCHED_SIG_KEYINFO;
    struct crypto_iov pre[2] = {{pfx, sizeof(pfx) - 1}, {s->s_ctx, s->slen}};
    return skeys_sign_in_place(s->sigkey, s->hashtype, pre, 2, dg, len, dg + UFTP_HDR_LEN + 12, sl);
}

bool skeys_peer_verify(const struct skeys_peer *p, const uint8_t *v, size_t len)
{
    return p->keyed && p->vlen > 0 && len >= p->vlen && crypto_memeq(p->verify, v, p->vlen);
}

int skeys_peer_open(struct skeys_peer *p, bool hs, uint8_t *dg, size_t len, uint8_t *scratch,
                    const uint8_t **msg, size_t *msglen, bool *under_hs)
{
    struct skeys_dir *keys[2];
    size_t n = 0, which = 0;
    bool try_hs = hs && p->client_auth && skeys_dir_ready(&p->c_hs);
    if (try_hs)
        keys[n++] = &p->c_hs;
    keys[n++] = &p->c_app;
    int rc = skeys_open(keys, n, &p->win, dg, len, scratch, msg, msglen, &which);
    *under_hs = rc == CRYPTO_OK && try_hs && which == 0;
    return rc;
}

const struct skeys_dir *skeys_peer_rx(const struct skeys_peer *p)
{
    return &p->c_app;
}

void skeys_peer_end_handshake(struct skeys_peer *p)
{
    if (p == NULL)
        return;
    crypto_wipe(&p->hs, sizeof(p->hs));
    crypto_wipe(&p->hs4, sizeof(p->hs4));
    crypto_wipe(p->pm4, sizeof(p->pm4));
    p->hs_live = false;
    skeys_dir_clear(&p->c_hs);
    if (p->ctx != NULL) {
        crypto_wipe(p->ctx, p->c2len);
        free(p->ctx);
        p->ctx = NULL;
        p->c1len = p->c2len = 0;
    }
}

void skeys_server_end_handshake(struct skeys_server *s)
{
    crypto_wipe(s->gm, sizeof(s->gm));
    crypto_wipe(s->gm4, sizeof(s->gm4));
    s->gm_live = false;
}

void skeys_peer_free(struct skeys_peer *p)
{
    if (p == NULL)
        return;
    skeys_peer_end_handshake(p);
    skeys_dir_clear(&p->c_app);
    crypto_wipe(p, sizeof(*p));
    free(p);
}

/* ------------------------------------------------------------ a client */

struct skeys_client {
    int keytype, hashtype;
    uint8_t ver;
    bool client_auth;
    uint32_t group_id, server_id, client_id;
    uint8_t group_inst;
    uint8_t rand2[WIRE_RAND_LEN];
    const struct crypto_key *sigkey;
    struct crypto_key *srv_sig; /* the server's signing key */
    struct crypto_key *px_sig;  /* a proxy's (it signs KEYINFO then), or NULL */
    struct crypto_key *srv_dh;  /* the peer's ECDH key: the server's, or the proxy's */
    struct crypto_key *dh;      /* ours */
    uint8_t s_ctx[KEYSCHED_S_CTX_MAX];
    size_t slen;
    uint8_t p_ctx[KEYSCHED_P_CTX_MAX];
    size_t plen;
    uint8_t *c2; /* C_ctx2 (its first c1len bytes are C_ctx1) */
    size_t c1len, c2len;
    uint8_t *ck; /* our CLIENT_KEY message */
    size_t cklen;
    struct ks5_hs hs;
    bool hs_live, keyed;
    struct skeys_dir hs_tx, app_tx, app_rx;
    uint8_t verify[CRYPTO_HASH_MAX];
    size_t vlen;
    uint64_t ctr;
    struct replay win; /* the server's counter */
    /* v4 (spec §1.9) */
    uint8_t rand1[WIRE_RAND_LEN];
    uint8_t addr[16];
    size_t addrlen;
    struct ks4_keys hs4;
    uint8_t pm4[PM4_LEN];
    /* A proxy's KEYINFO counts on its own counter (issue 5), not the server's. */
    struct replay pxwin;
    bool proxy, has_gm;
    uint8_t gm[KS4_GM_LEN]; /* cfg.proxy: the group master (v5: its first KS5_GM_LEN bytes) */
};

int skeys_client_new(struct skeys_client **out, const struct skeys_client_cfg *cfg,
                     const struct wire_enc_info *e, uint8_t *dg, size_t len)
{
    *out = NULL;
    if (!types_ok(e->keytype, e->hashtype) || e->keylen == 0 || e->dhlen == 0 || e->siglen == 0)
        return SKEYS_ETYPE;
    uint8_t ver = len > 0 && dg[0] == UFTP_VER4 ? UFTP_VER4 : UFTP_VER5;
    /* spec §1.9 item 2: from a v4 server only ECDH with AEAD (AUTHENC). */
    if (ver == UFTP_VER4 && (e->sigtype != SIG_AUTHENC ||
                             (e->keyextype != KEYEX_ECDH_RSA && e->keyextype != KEYEX_ECDH_ECDSA) ||
                             (cfg->addrlen != 4 && cfg->addrlen != 16)))
        return SKEYS_ETYPE;
    /* Cheap checks first: the fingerprint needs one SHA-1, no public-key work. */
    if (cfg->fplen > 0 && !fp_match(cfg->fp, cfg->fplen, e->keyblob, e->keylen))
        return SKEYS_EFP;
    struct skeys_client *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return CRYPTO_ENOMEM;
    c->keytype = e->keytype;
    c->hashtype = e->hashtype;
    c->ver = ver;
    memcpy(c->rand1, e->rand1, WIRE_RAND_LEN);
    const uint8_t *pdh = e->dhblob;
    size_t pdl = e->dhlen;
    if (ver == UFTP_VER4 && cfg->peer_dh4 != NULL)
        pdh = crypto_key_blob(cfg->peer_dh4, &pdl); /* the response proxy's (spec §1.9) */
    if (ver == UFTP_VER4) {
        memcpy(c->addr, cfg->addr, cfg->addrlen);
        c->addrlen = cfg->addrlen;
    }
    c->proxy = cfg->proxy;
    c->client_auth = (e->flags & FLAG_CLIENT_AUTH) != 0;
    c->group_id = cfg->group_id;
    c->group_inst = cfg->group_inst;
    c->server_id = cfg->server_id;
    c->client_id = cfg->client_id;
    c->sigkey = cfg->sigkey;
    memcpy(c->rand2, cfg->rand2, WIRE_RAND_LEN);
    replay_init(&c->win);
    replay_init(&c->pxwin);
    int rc = CRYPTO_EBLOB;
    if (keyblob_import(e->keyblob, e->keylen, 0, &c->srv_sig) != CRYPTO_OK ||
        keyblob_import(pdh, pdl, KEYBLOB_EC, &c->srv_dh) != CRYPTO_OK)
        goto fail;
    rc = skeys_client_verify_announce(c, e, dg, len);
    if (rc)
        goto fail;
    ssize_t sl = keysched_s_ctx(c->s_ctx, sizeof(c->s_ctx), cfg->group_id, cfg->group_inst,
                                cfg->server_id, e->raw, e->raw_len);
    if (sl < 0) {
        rc = SKEYS_EFRAME;
        goto fail;
    }
    c->slen = (size_t)sl;
    *out = c;
    return CRYPTO_OK;
fail:
    skeys_client_free(c);
    return rc;
}

int skeys_client_verify_announce(struct skeys_client *c, const struct wire_enc_info *e, uint8_t *dg,
                                 size_t len)
{
    size_t siglen = 0;
    uint8_t *sig = announce_sig(dg, len, &siglen);
    if (sig == NULL || sig != e->sig || siglen != e->siglen)
        return SKEYS_EFRAME;
    return skeys_verify_in_place(c->srv_sig, c->hashtype, NULL, 0, dg, len, sig, siglen);
}

int skeys_client_gm(const struct skeys_client *c, uint8_t out[static KS4_GM_LEN])
{
    if (!c->has_gm)
        return SKEYS_ESTATE;
    memcpy(out, c->gm, KS4_GM_LEN);
    return CRYPTO_OK;
}

/* The v5 handshake is over, or (cfg.proxy) moves to a proxy: its secrets go. */
static void client_end_handshake(struct skeys_client *c)
{
    crypto_wipe(&c->hs, sizeof(c->hs));
    c->hs_live = false;
    skeys_dir_clear(&c->hs_tx);
    if (c->c2 != NULL)
        crypto_wipe(c->c2, c->c2len);
    free(c->c2);
    c->c2 = NULL;
    c->c1len = c->c2len = 0;
}

void skeys_client_free(struct skeys_client *c)
{
    if (c == NULL)
        return;
    crypto_key_free(c->srv_sig);
    crypto_key_free(c->px_sig);
    crypto_key_free(c->srv_dh);
    crypto_key_free(c->dh);
    client_end_handshake(c);
    free(c->ck);
    skeys_dir_clear(&c->app_tx);
    skeys_dir_clear(&c->app_rx);
    crypto_wipe(c, sizeof(*c));
    free(c);
}

bool skeys_client_auth(const struct skeys_client *c)
{
    return c->client_auth;
}

int skeys_client_proxy_key(struct skeys_client *c, uint32_t proxy_id, const uint8_t *msg,
                           size_t len, const uint8_t *fp, size_t fplen)
{
    if ((c->hs_live && !c->proxy) || c->keyed || c->px_sig != NULL)
        return SKEYS_ESTATE;
    struct wire_proxy_key m = {.ver = UFTP_VER5};
    if (wire_proxy_key_decode(&m, msg, len) < 0 || m.keylen == 0 || m.dhlen == 0 || m.siglen == 0)
        return SKEYS_EFRAME;
    if (fplen > 0 && !fp_match(fp, fplen, m.keyblob, m.keylen))
        return SKEYS_EFP;
    struct crypto_key *sk = NULL, *dh = NULL;
    int rc = CRYPTO_EBLOB;
    if (keyblob_import(m.keyblob, m.keylen, 0, &sk) != CRYPTO_OK ||
        keyblob_import(m.dhblob, m.dhlen, KEYBLOB_EC, &dh) != CRYPTO_OK)
        goto fail;
    rc = SKEYS_ETYPE; /* our ECDH key, made already (cfg.proxy), is on the server's curve */
    if (c->dh != NULL && crypto_key_curve(dh) != crypto_key_curve(c->dh))
        goto fail;
    uint8_t p_ctx[KEYSCHED_P_CTX_MAX];
    ssize_t pl = keysched_p_ctx(p_ctx, sizeof(p_ctx), proxy_id, msg, (size_t)msg[1] * 4);
    if (pl < 0) {
        rc = SKEYS_EFRAME;
        goto fail;
    }
    static const char pfx[] = KEYSCHED_SIG_PROXY_KEY;
    struct crypto_iov v[3] = {{pfx, sizeof(pfx) - 1}, {c->s_ctx, c->slen}, {p_ctx, (size_t)pl}};
    rc = sig_verify(sk, c->hashtype, v, 3, m.sig, m.siglen);
    if (rc)
        goto fail;
    memcpy(c->p_ctx, p_ctx, (size_t)pl);
    c->plen = (size_t)pl;
    c->px_sig = sk;
    crypto_key_free(c->srv_dh);
    c->srv_dh = dh;
    if (c->hs_live)
        client_end_handshake(c); /* to be made again with the proxy's key */
    return CRYPTO_OK;
fail:
    crypto_key_free(sk);
    crypto_key_free(dh);
    return rc;
}

static struct v4ctx client_v4ctx(const struct skeys_client *c)
{
    return (struct v4ctx){c->hashtype, c->group_id, c->addr, c->addrlen,
                          c->rand1,    c->rand2,    c->pm4};
}

/*
 * With client auth, our CLIENT_KEY into c->ck. v5: signed over
 * "UFTP 5, CLIENT_KEY" || C_ctx1 (c1), and C_ctx2 follows. v4 (spec §1.9):
 * cleartext, signing the verify data without blob and group master.
 */
static int client_key_build(struct skeys_client *c, const uint8_t *c1, size_t c1len)
{
    size_t kl;
    const uint8_t *blob = crypto_key_blob(c->sigkey, &kl);
    struct wire_client_key m = {.ver = c->ver,
                                .keyblob = blob,
                                .keylen = (uint16_t)kl,
                                .sig = NULL,
                                .siglen = (uint16_t)sig_len(c->sigkey)};
    uint8_t buf[KEYSCHED_HDR_MAX];
    ssize_t n = wire_client_key_encode(buf, sizeof(buf), &m);
    if (n < 0)
        return SKEYS_ETYPE;
    static const char pfx[] = KEYSCHED_SIG_CLIENT_KEY;
    struct crypto_iov v[2] = {{pfx, sizeof(pfx) - 1}, {c1, c1len}};
    size_t nv = 2;
    uint8_t vb[KEYSCHED_V4_CTX_MAX];
    if (c->ver == UFTP_VER4) {
        struct v4ctx x = client_v4ctx(c);
        ssize_t vn = v4_vctx(&x, NULL, 0, NULL, vb);
        if (vn < 0)
            return CRYPTO_EINVAL;
        v[0] = (struct crypto_iov){vb, (size_t)vn};
        nv = 1;
    }
    uint8_t sig[SIG_MAX];
    int rc = sig_sign(c->sigkey, c->hashtype, v, nv, sig, sizeof(sig));
    crypto_wipe(vb, sizeof(vb));
    if (rc < 0)
        return rc;
    if ((size_t)rc != m.siglen)
        return CRYPTO_ELIB;
    if (c->ver == UFTP_VER5) {
        /* C_ctx2 takes the header with the signature still zero. */
        ssize_t c2len = keysched_c_ctx2(c->c2, KEYSCHED_C_CTX2_MAX, c1, c1len, buf, (size_t)n);
        if (c2len < 0)
            return SKEYS_ETYPE;
        c->c2len = (size_t)c2len;
    }
    memcpy(buf + 8 + kl, sig, m.siglen);
    free(c->ck); /* a handshake made again (cfg.proxy) */
    if ((c->ck = malloc((size_t)n)) == NULL)
        return CRYPTO_ENOMEM;
    memcpy(c->ck, buf, (size_t)n);
    c->cklen = (size_t)n;
    return CRYPTO_OK;
}

static int client_handshake4(struct skeys_client *c)
{
    int rc = c->dh ? CRYPTO_OK : ecdh_keygen(crypto_key_curve(c->srv_dh), &c->dh);
    if (rc == CRYPTO_OK)
        rc = skeys_v4_handshake(c->hashtype, c->keytype, c->dh, c->srv_dh, c->rand1, c->rand2,
                                c->pm4, &c->hs4);
    if (rc == CRYPTO_OK && c->client_auth)
        rc = client_key_build(c, NULL, 0);
    if (rc) {
        crypto_wipe(&c->hs4, sizeof(c->hs4));
        crypto_wipe(c->pm4, sizeof(c->pm4));
        return rc;
    }
    c->hs_live = true;
    return CRYPTO_OK;
}

int skeys_client_handshake(struct skeys_client *c)
{
    if (c->hs_live || c->keyed || (c->client_auth && !c->sigkey))
        return SKEYS_ESTATE;
    if (c->ver == UFTP_VER4)
        return client_handshake4(c);
    uint8_t pm[PM_MAX];
    int rc = c->dh ? CRYPTO_OK : ecdh_keygen(crypto_key_curve(c->srv_dh), &c->dh);
    if (rc == CRYPTO_OK)
        rc = ecdh_premaster(c->dh, c->srv_dh, HASH_SHA256, pm) < 0 ? CRYPTO_ELIB : CRYPTO_OK;
    if (rc)
        return rc;
    size_t dl;
    const uint8_t *dh = crypto_key_blob(c->dh, &dl);
    if ((c->c2 = malloc(KEYSCHED_C_CTX2_MAX)) == NULL) {
        rc = CRYPTO_ENOMEM;
        goto out;
    }
    ssize_t c1len = keysched_c_ctx1(c->c2, KEYSCHED_C_CTX2_MAX, c->s_ctx, c->slen, c->p_ctx,
                                    c->plen, c->client_id, dh, dl, c->rand2);
    if (c1len < 0) {
        rc = SKEYS_ETYPE;
        goto out;
    }
    c->c1len = c->c2len = (size_t)c1len;
    rc = ks5_handshake(c->hashtype, c->keytype, pm, sizeof(pm), c->c2, c->c1len, &c->hs);
    if (rc)
        goto out;
    c->hs_live = true;
    /* spec §3.5: a proxy proves its key to its upstream proxy whatever the session. */
    if (c->client_auth || (c->proxy && c->px_sig != NULL)) {
        /* c2 holds C_ctx1; the builder appends CLIENT_KEY after a copy of it. */
        uint8_t *c1 = malloc(c->c1len);
        if (c1 == NULL) {
            rc = CRYPTO_ENOMEM;
            goto out;
        }
        memcpy(c1, c->c2, c->c1len);
        rc = client_key_build(c, c1, c->c1len);
        free(c1);
        if (rc == CRYPTO_OK)
            rc = skeys_dir_init(&c->hs_tx, c->keytype, &c->hs.c, AEAD_DIR_SEAL);
    }
out:
    crypto_wipe(pm, sizeof(pm));
    if (rc) {
        crypto_wipe(&c->hs, sizeof(c->hs));
        c->hs_live = false;
    }
    return rc;
}

void skeys_client_set_dh(struct skeys_client *c, struct crypto_key *dh)
{
    crypto_key_free(c->dh);
    c->dh = dh;
}

const uint8_t *skeys_client_dh(const struct skeys_client *c, size_t *len)
{
    if (c->dh == NULL) {
        *len = 0;
        return NULL;
    }
    return crypto_key_blob(c->dh, len);
}

void skeys_client_rand2(const struct skeys_client *c, uint8_t out[static WIRE_RAND_LEN])
{
    memcpy(out, c->rand2, WIRE_RAND_LEN);
}

const uint8_t *skeys_client_client_key(const struct skeys_client *c, size_t *len)
{
    *len = c->cklen;
    return c->ck;
}

int skeys_client_keyinfo_verify(struct skeys_client *c, uint8_t *dg, size_t len,
                                const struct wire_keyinfo *k)
{
    if (c->ver == UFTP_VER4)
        return CRYPTO_OK; /* unsigned (spec §1.9): nothing to check, nothing to record */
    /*
     * Through a proxy the KEYINFO is the proxy's, numbered by its own
     * counter: sharing the server's window would throw away the server
     * message that happens to carry the same number.
     */
    struct replay *win = c->px_sig ? &c->pxwin : &c->win;
    int r = replay_check(win, k->iv_ctr);
    if (r == REPLAY_EDUP)
        return SKEYS_EREPLAY;
    if (r == REPLAY_EOLD)
        return SKEYS_EOLD;
    /* spec §1.8: a proxy signs the KEYINFO it sends its clients, with P_ctx. */
    static const char pfx[] = KEYSCHED_SIG_KEYINFO;
    struct crypto_iov pre[3] = {{pfx, sizeof(pfx) - 1}, {c->s_ctx, c->slen}, {c->p_ctx, c->plen}};
    int rc = skeys_verify_in_place(c->px_sig ? c->px_sig : c->srv_sig, c->hashtype, pre, 3, dg, len,
                                   (uint8_t *)k->sig, k->siglen);
    if (rc == CRYPTO_OK)
        replay_update(win, k->iv_ctr);
    return rc;
}

/* spec §1.9: the CBC-wrapped group master, the one group key, the 12-byte finished value. */
static int client_keyinfo4(struct skeys_client *c, const uint8_t *dg, size_t len,
                           const struct wire_keyinfo *k, const uint8_t *enc)
{
    if (len < UFTP_HDR_LEN)
        return SKEYS_EFRAME;
    uint8_t gm[KS4_GM_LEN];
    struct ks4_keys grp;
    memset(&grp, 0, sizeof(grp));
    int rc = ks4_gm_unwrap(c->keytype, &c->hs4, be32_get(dg + 4), k->iv_ctr, enc, gm);
    if (rc == CRYPTO_OK)
        rc = ks4_group(c->hashtype, c->keytype, gm, c->rand1, &grp);
    if (rc == CRYPTO_OK)
        rc = skeys_dir_init4(&c->app_rx, c->keytype, &grp, AEAD_DIR_OPEN);
    if (rc == CRYPTO_OK)
        rc = skeys_dir_init4(&c->app_tx, c->keytype, &grp, AEAD_DIR_SEAL);
    if (rc == CRYPTO_OK) {
        size_t bl = 0;
        const uint8_t *blob = c->client_auth ? crypto_key_blob(c->sigkey, &bl) : NULL;
        struct v4ctx v = client_v4ctx(c);
        rc = v4_finished(&v, blob, bl, gm, c->verify);
    }
    if (rc == CRYPTO_OK && c->proxy) {
        memcpy(c->gm, gm, KS4_GM_LEN);
        c->has_gm = true;
    }
    if (rc == CRYPTO_OK) {
        c->vlen = KS4_VERIFY_LEN;
        c->keyed = true;
        crypto_wipe(&c->hs4, sizeof(c->hs4));
        crypto_wipe(c->pm4, sizeof(c->pm4));
        c->hs_live = false;
    } else {
        skeys_dir_clear(&c->app_rx);
        skeys_dir_clear(&c->app_tx);
    }
    crypto_wipe(gm, sizeof(gm));
    crypto_wipe(&grp, sizeof(grp));
    return rc;
}

int skeys_client_keyinfo(struct skeys_client *c, uint8_t *dg, size_t len,
                         const struct wire_keyinfo *k)
{
    if (!c->hs_live || c->keyed)
        return SKEYS_ESTATE;
    const uint8_t *enc = wire_destkeys_find(&k->keys, c->client_id);
    if (enc == NULL)
        return SKEYS_ENOENT;
    if (c->ver == UFTP_VER4)
        return client_keyinfo4(c, dg, len, k, enc);
    int rc = skeys_client_keyinfo_verify(c, dg, len, k);
    if (rc)
        return rc;
    uint8_t gm[KS5_GM_LEN];
    rc = ks5_gm_unwrap(c->keytype, &c->hs, k->iv_ctr, c->c2, c->c2len, enc, gm);
    if (rc)
        return rc;
    struct ks5_dir sd;
    struct ks5_client kc;
    memset(&kc, 0, sizeof(kc));
    rc = ks5_server_app(c->hashtype, c->keytype, gm, c->s_ctx, c->slen, &sd);
    if (rc == CRYPTO_OK)
        rc = ks5_client_app(c->hashtype, c->keytype, gm, c->c2, c->c2len, &kc);
    if (rc == CRYPTO_OK)
        rc = skeys_dir_init(&c->app_rx, c->keytype, &sd, AEAD_DIR_OPEN);
    if (rc == CRYPTO_OK)
        rc = skeys_dir_init(&c->app_tx, c->keytype, &kc.c, AEAD_DIR_SEAL);
    if (rc == CRYPTO_OK) {
        c->vlen = crypto_hash_len(c->hashtype);
        memcpy(c->verify, kc.verify, c->vlen);
        c->keyed = true;
        /* The handshake is over: its secrets go (a proxy's stay: it sends its CLIENT_KEY
         * again with each REGISTER for late clients). */
        if (c->proxy) {
            memcpy(c->gm, gm, KS5_GM_LEN);
            c->has_gm = true;
        } else {
            client_end_handshake(c);
        }
    } else {
        skeys_dir_clear(&c->app_rx);
        skeys_dir_clear(&c->app_tx);
    }
    crypto_wipe(gm, sizeof(gm));
    crypto_wipe(&sd, sizeof(sd));
    crypto_wipe(&kc, sizeof(kc));
    return rc;
}

bool skeys_client_keyed(const struct skeys_client *c)
{
    return c->keyed;
}

const uint8_t *skeys_client_verify_data(const struct skeys_client *c, size_t *len)
{
    *len = c->vlen;
    return c->verify;
}

struct skeys_dir *skeys_client_hs_tx(struct skeys_client *c)
{
    return &c->hs_tx;
}

struct skeys_dir *skeys_client_app_tx(struct skeys_client *c)
{
    return &c->app_tx;
}

uint64_t *skeys_client_ctr(struct skeys_client *c)
{
    return &c->ctr;
}

int skeys_client_open(struct skeys_client *c, uint8_t *dg, size_t len, const uint8_t **msg,
                      size_t *msglen)
{
    struct skeys_dir *keys[1] = {&c->app_rx};
    return skeys_open(keys, 1, &c->win, dg, len, NULL, msg, msglen, NULL);
}

const struct skeys_dir *skeys_client_rx(const struct skeys_client *c)
{
    return &c->app_rx;
}
