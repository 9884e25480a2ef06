#include "core/crypto/crypto_int.h"

#include <string.h>

#include "core/crypto/hkdf.h"

int hkdf_extract(int hashtype, const uint8_t *salt, size_t saltlen, const uint8_t *ikm,
                 size_t ikmlen, uint8_t *prk)
{
    size_t hl = crypto_hash_len(hashtype);
    if (!hl)
        return CRYPTO_EINVAL;
    /* RFC 5869 §2.2: no salt means hash_len zero bytes (an empty salt gives the
     * same HMAC key, so both paths agree). */
    static const uint8_t zeros[CRYPTO_HASH_MAX];
    if (!salt) {
        salt = zeros;
        saltlen = hl;
    }
    return crypto_hmac(hashtype, salt, saltlen, ikm, ikmlen, prk);
}

int hkdf_expand(int hashtype, const uint8_t *prk, size_t prklen, const uint8_t *info,
                size_t infolen, uint8_t *out, size_t outlen)
{
    size_t hl = crypto_hash_len(hashtype);
    if (!hl || prklen == 0 || outlen == 0 || outlen > 255 * hl || infolen > HKDF_INFO_MAX)
        return CRYPTO_EINVAL;
    EVP_KDF *kdf = ci_hkdf();
    if (!kdf)
        return CRYPTO_ELIB;
    EVP_KDF_CTX *c = EVP_KDF_CTX_new(kdf);
    if (!c)
        return CRYPTO_ENOMEM;
    OSSL_PARAM params[5], *p = params;
    *p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_MODE, "EXPAND_ONLY", 0);
    *p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)ci_md_name(hashtype), 0);
    *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)prk, prklen);
    if (infolen)
        *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info, infolen);
    *p = OSSL_PARAM_construct_end();
    int rc = EVP_KDF_derive(c, out, outlen, params) == 1 ? CRYPTO_OK : CRYPTO_ELIB;
    EVP_KDF_CTX_free(c);
    if (rc)
        ci_clear_errors();
    return rc;
}

int hkdf_expand_label(int hashtype, const uint8_t *secret, size_t secretlen, const char *label,
                      const uint8_t *ctx, size_t ctxlen, uint8_t *out, size_t outlen)
{
    uint8_t info[HKDF_INFO_MAX];
    size_t pl = sizeof(HKDF_LABEL_PREFIX) - 1, ll = strlen(label);
    if (pl + ll > sizeof(info) || ctxlen > sizeof(info) - pl - ll)
        return CRYPTO_EINVAL;
    memcpy(info, HKDF_LABEL_PREFIX, pl);
    memcpy(info + pl, label, ll);
    if (ctxlen)
        memcpy(info + pl + ll, ctx, ctxlen);
    return hkdf_expand(hashtype, secret, secretlen, info, pl + ll + ctxlen, out, outlen);
}
