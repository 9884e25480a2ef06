#include "core/crypto/crypto_int.h"

#include <string.h>

#include "core/crypto/hkdf.h"
#include "core/crypto/ks5.h"
#include "core/proto/keysched.h"

static bool types_ok(int hashtype, int keytype)
{
    return crypto_hash_session_ok(hashtype) && aead_supported(keytype);
}

/*
 * One direction (spec §1.8): its secret = Expand-Label(Extract(0, ikm), label, H(ctx),
 * hash_len), then its key and iv from the secret.
 */
static int traffic_dir(int hashtype, int keytype, const uint8_t *ikm, size_t ikmlen,
                       const char *label, const uint8_t *ctx, size_t ctxlen, struct ks5_dir *d)
{
    size_t hl = crypto_hash_len(hashtype);
    uint8_t prk[CRYPTO_HASH_MAX], h[CRYPTO_HASH_MAX];
    int rc = hkdf_extract(hashtype, NULL, 0, ikm, ikmlen, prk);
    if (rc == CRYPTO_OK)
        rc = crypto_hash(hashtype, ctx, ctxlen, h);
    if (rc == CRYPTO_OK)
        rc = hkdf_expand_label(hashtype, prk, hl, label, h, hl, d->secret, hl);
    if (rc == CRYPTO_OK)
        rc = hkdf_expand_label(hashtype, d->secret, hl, KEYSCHED_LABEL_KEY, NULL, 0, d->key,
                               aead_key_len(keytype));
    if (rc == CRYPTO_OK)
        rc = hkdf_expand_label(hashtype, d->secret, hl, KEYSCHED_LABEL_IV, NULL, 0, d->iv,
                               AEAD_NONCE_LEN);
    crypto_wipe(prk, sizeof(prk));
    return rc;
}

int ks5_handshake(int hashtype, int keytype, const uint8_t *premaster, size_t plen,
                  const uint8_t *c_ctx1, size_t c1len, struct ks5_hs *out)
{
    memset(out, 0, sizeof(*out));
    if (!types_ok(hashtype, keytype))
        return CRYPTO_EINVAL;
    int rc = traffic_dir(hashtype, keytype, premaster, plen, KEYSCHED_LABEL_S_HS, c_ctx1, c1len,
                         &out->s);
    if (rc == CRYPTO_OK)
        rc = traffic_dir(hashtype, keytype, premaster, plen, KEYSCHED_LABEL_C_HS, c_ctx1, c1len,
                         &out->c);
    if (rc)
        crypto_wipe(out, sizeof(*out));
    return rc;
}

int ks5_server_app(int hashtype, int keytype, const uint8_t gm[static KS5_GM_LEN],
                   const uint8_t *s_ctx, size_t slen, struct ks5_dir *out)
{
    memset(out, 0, sizeof(*out));
    if (!types_ok(hashtype, keytype))
        return CRYPTO_EINVAL;
    int rc = traffic_dir(hashtype, keytype, gm, KS5_GM_LEN, KEYSCHED_LABEL_S_APP, s_ctx, slen, out);
    if (rc)
        crypto_wipe(out, sizeof(*out));
    return rc;
}

int ks5_client_app(int hashtype, int keytype, const uint8_t gm[static KS5_GM_LEN],
                   const uint8_t *c_ctx2, size_t c2len, struct ks5_client *out)
{
    memset(out, 0, sizeof(*out));
    if (!types_ok(hashtype, keytype))
        return CRYPTO_EINVAL;
    size_t hl = crypto_hash_len(hashtype);
    int rc = traffic_dir(hashtype, keytype, gm, KS5_GM_LEN, KEYSCHED_LABEL_C_APP, c_ctx2, c2len,
                         &out->c);
    /* spec §7 item 2: from the app *secret*, and HMAC over the raw contexts. */
    if (rc == CRYPTO_OK)
        rc = hkdf_expand_label(hashtype, out->c.secret, hl, KEYSCHED_LABEL_FINISHED, NULL, 0,
                               out->finished_key, hl);
    if (rc == CRYPTO_OK) {
        struct crypto_iov v[2] = {{c_ctx2, c2len}, {gm, KS5_GM_LEN}};
        rc = crypto_hmacv(hashtype, out->finished_key, hl, v, 2, out->verify);
    }
    if (rc)
        crypto_wipe(out, sizeof(*out));
    return rc;
}

bool ks5_verify_ok(int hashtype, const struct ks5_client *c, const uint8_t *got, size_t gotlen)
{
    size_t hl = crypto_hash_len(hashtype);
    return hl && gotlen == hl && crypto_memeq(c->verify, got, hl);
}

/* AAD = "UFTP 5, group master" || C_ctx2, nonce = s_hs_iv XOR ctr. */
static int gm_crypt(int keytype, const struct ks5_hs *hs, uint64_t ctr, const uint8_t *c_ctx2,
                    size_t c2len, const uint8_t *in, uint8_t *out, uint8_t *tag, bool seal)
{
    static const char pfx[] = KEYSCHED_AAD_GROUP_MASTER;
    uint8_t aad[sizeof(pfx) - 1 + KEYSCHED_C_CTX2_MAX];
    if (!aead_supported(keytype) || c2len > KEYSCHED_C_CTX2_MAX)
        return CRYPTO_EINVAL;
    memcpy(aad, pfx, sizeof(pfx) - 1);
    memcpy(aad + sizeof(pfx) - 1, c_ctx2, c2len);
    uint8_t nonce[AEAD_NONCE_LEN];
    aead_nonce_v5(nonce, hs->s.iv, ctr);
    struct aead *a;
    int rc = aead_new(&a, keytype, hs->s.key);
    if (rc)
        return rc;
    size_t aadlen = sizeof(pfx) - 1 + c2len;
    if (seal)
        rc = aead_seal(a, nonce, aad, aadlen, in, out, KS5_GM_LEN, tag);
    else
        rc = aead_open(a, nonce, aad, aadlen, in, out, KS5_GM_LEN, tag);
    aead_free(a);
    return rc;
}

int ks5_gm_wrap(int keytype, const struct ks5_hs *hs, uint64_t ctr, const uint8_t *c_ctx2,
                size_t c2len, const uint8_t gm[static KS5_GM_LEN],
                uint8_t out[static KS5_GM_ENC_LEN])
{
    return gm_crypt(keytype, hs, ctr, c_ctx2, c2len, gm, out, out + KS5_GM_LEN, true);
}

int ks5_gm_unwrap(int keytype, const struct ks5_hs *hs, uint64_t ctr, const uint8_t *c_ctx2,
                  size_t c2len, const uint8_t in[static KS5_GM_ENC_LEN],
                  uint8_t gm[static KS5_GM_LEN])
{
    uint8_t tag[AEAD_TAG_LEN];
    memcpy(tag, in + KS5_GM_LEN, AEAD_TAG_LEN);
    int rc = gm_crypt(keytype, hs, ctr, c_ctx2, c2len, in, gm, tag, false);
    if (rc)
        crypto_wipe(gm, KS5_GM_LEN);
    return rc;
}
