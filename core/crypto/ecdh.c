#include "core/crypto/crypto_int.h"

#include "core/crypto/ecdh.h"
#include "core/wire/wire.h"

int ecdh_keygen(int curve, struct crypto_key **out)
{
    *out = NULL;
    const char *group = ci_group_name(curve);
    if (!group)
        return CRYPTO_EINVAL;
    EVP_PKEY *pk = EVP_PKEY_Q_keygen(NULL, NULL, "EC", group);
    if (!pk) {
        ci_clear_errors();
        return CRYPTO_ELIB;
    }
    return ci_key_wrap(pk, true, out);
}

int ecdh_shared_secret(const struct crypto_key *priv, const struct crypto_key *peer, uint8_t *out,
                       size_t cap)
{
    if (priv->type != KEYBLOB_EC || peer->type != KEYBLOB_EC || priv->curve != peer->curve ||
        !priv->priv)
        return CRYPTO_EINVAL;
    size_t need = keyblob_coord_len(priv->curve);
    if (cap < need)
        return CRYPTO_ENOSPC;
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_pkey(NULL, priv->pk, NULL);
    if (!c)
        return CRYPTO_ENOMEM;
    int rc = CRYPTO_ELIB;
    size_t len = cap;
    /* No second validation of the peer: every crypto_key was checked when it
     * was made (keyblob_import, or generated / read locally). */
    if (EVP_PKEY_derive_init(c) == 1 && EVP_PKEY_derive_set_peer_ex(c, peer->pk, 0) == 1 &&
        EVP_PKEY_derive(c, out, &len) == 1 && len == need)
        rc = (int)len;
    EVP_PKEY_CTX_free(c);
    if (rc < 0) {
        crypto_wipe(out, cap);
        ci_clear_errors();
    }
    return rc;
}

int ecdh_premaster(const struct crypto_key *priv, const struct crypto_key *peer, int hashtype,
                   uint8_t *out)
{
    size_t hl = crypto_hash_len(hashtype);
    if (hashtype != HASH_SHA256 && hashtype != HASH_SHA1)
        return CRYPTO_EINVAL;
    uint8_t z[ECDH_SECRET_MAX];
    int n = ecdh_shared_secret(priv, peer, z, sizeof(z));
    if (n < 0)
        return n;
    int rc = crypto_hash(hashtype, z, (size_t)n, out);
    crypto_wipe(z, sizeof(z));
    return rc ? rc : (int)hl;
}
