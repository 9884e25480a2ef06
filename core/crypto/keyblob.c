#include "core/crypto/crypto_int.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/param_build.h>

#include "core/wire/buf.h"
#include "core/wire/wire.h"

void crypto_key_free(struct crypto_key *k)
{
    if (!k)
        return;
    EVP_PKEY_free(k->pk);
    OPENSSL_cleanse(k, sizeof(*k));
    free(k);
}

int crypto_key_type(const struct crypto_key *k)
{
    return k->type;
}

int crypto_key_curve(const struct crypto_key *k)
{
    return k->curve;
}

int crypto_key_bits(const struct crypto_key *k)
{
    return k->bits;
}

bool crypto_key_has_private(const struct crypto_key *k)
{
    return k->priv;
}

const uint8_t *crypto_key_blob(const struct crypto_key *k, size_t *len)
{
    *len = k->bloblen;
    return k->blob;
}

size_t keyblob_coord_len(int curve)
{
    switch (curve) {
    case CURVE_P256:
        return 32;
    case CURVE_P384:
        return 48;
    case CURVE_P521:
        return 66;
    default:
        return 0;
    }
}

size_t keyblob_ec_len(int curve)
{
    size_t c = keyblob_coord_len(curve);
    /* X || Y padded to a 4-byte multiple, after the 4-byte blob header. */
    return c ? 4 + ((2 * c + 3) & ~(size_t)3) : 0;
}

const char *keyblob_curve_name(int curve)
{
    switch (curve) {
    case CURVE_P256:
        return "prime256v1";
    case CURVE_P384:
        return "secp384r1";
    case CURVE_P521:
        return "secp521r1";
    default:
        return NULL;
    }
}

int keyblob_curve_by_name(const char *name)
{
    if (!strcmp(name, "prime256v1") || !strcmp(name, "secp256r1"))
        return CURVE_P256;
    if (!strcmp(name, "secp384r1"))
        return CURVE_P384;
    if (!strcmp(name, "secp521r1"))
        return CURVE_P521;
    return 0;
}

/* RSA blob from n and e (spec §1.3). */
static int export_rsa(struct crypto_key *k)
{
    BIGNUM *n = NULL, *e = NULL;
    int rc = CRYPTO_EBLOB;
    if (!EVP_PKEY_get_bn_param(k->pk, OSSL_PKEY_PARAM_RSA_N, &n) ||
        !EVP_PKEY_get_bn_param(k->pk, OSSL_PKEY_PARAM_RSA_E, &e))
        goto out;
    int nbits = BN_num_bits(n);
    if (nbits < KEYBLOB_RSA_MIN_BITS || nbits > KEYBLOB_RSA_MAX_BITS || BN_num_bits(e) > 32 ||
        !BN_is_odd(e) || BN_is_one(e))
        goto out;
    int nlen = BN_num_bytes(n);
    uint8_t ebuf[4];
    if (BN_bn2binpad(e, ebuf, 4) != 4 || BN_bn2bin(n, k->blob + 8) != nlen)
        goto out;
    k->blob[0] = KEYBLOB_RSA;
    k->blob[1] = 0;
    be16_put(k->blob + 2, (uint16_t)nlen);
    memcpy(k->blob + 4, ebuf, 4);
    k->bloblen = 8 + (size_t)nlen;
    k->bits = nbits;
    rc = CRYPTO_OK;
out:
    BN_free(n);
    BN_free(e);
    return rc;
}

/* EC blob from the affine coordinates, each padded to the field size. */
static int export_ec(struct crypto_key *k)
{
    char group[64];
    BIGNUM *x = NULL, *y = NULL;
    int rc = CRYPTO_EBLOB;
    if (!EVP_PKEY_get_utf8_string_param(k->pk, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
                                        NULL))
        goto out;
    k->curve = ci_curve_of_group(group);
    size_t c = keyblob_coord_len(k->curve);
    if (!c)
        goto out;
    if (!EVP_PKEY_get_bn_param(k->pk, OSSL_PKEY_PARAM_EC_PUB_X, &x) ||
        !EVP_PKEY_get_bn_param(k->pk, OSSL_PKEY_PARAM_EC_PUB_Y, &y))
        goto out;
    size_t len = keyblob_ec_len(k->curve);
    memset(k->blob, 0, len);
    if (BN_bn2binpad(x, k->blob + 4, (int)c) != (int)c ||
        BN_bn2binpad(y, k->blob + 4 + c, (int)c) != (int)c)
        goto out;
    k->blob[0] = KEYBLOB_EC;
    k->blob[1] = (uint8_t)k->curve;
    be16_put(k->blob + 2, (uint16_t)(2 * c));
    k->bloblen = len;
    k->bits = k->curve == CURVE_P521 ? 521 : (int)(8 * c);
    rc = CRYPTO_OK;
out:
    BN_free(x);
    BN_free(y);
    return rc;
}

int ci_key_wrap(EVP_PKEY *pk, bool priv, struct crypto_key **out)
{
    *out = NULL;
    struct crypto_key *k = calloc(1, sizeof(*k));
    if (!k) {
        EVP_PKEY_free(pk);
        return CRYPTO_ENOMEM;
    }
    k->pk = pk;
    k->priv = priv;
    int rc;
    if (EVP_PKEY_is_a(pk, "RSA")) {
        k->type = KEYBLOB_RSA;
        rc = export_rsa(k);
    } else if (EVP_PKEY_is_a(pk, "EC")) {
        k->type = KEYBLOB_EC;
        rc = export_ec(k);
    } else {
        rc = CRYPTO_EBLOB;
    }
    if (rc) {
        ci_clear_errors();
        crypto_key_free(k);
        return rc;
    }
    *out = k;
    return CRYPTO_OK;
}

int keyblob_export(const struct crypto_key *k, uint8_t *out, size_t cap)
{
    if (cap < k->bloblen)
        return CRYPTO_ENOSPC;
    memcpy(out, k->blob, k->bloblen);
    return (int)k->bloblen;
}

static int pkey_from_params(const char *type, OSSL_PARAM *params, EVP_PKEY **pk)
{
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
    if (!c)
        return CRYPTO_ELIB;
    int rc = CRYPTO_EBLOB;
    if (EVP_PKEY_fromdata_init(c) == 1 &&
        EVP_PKEY_fromdata(c, pk, EVP_PKEY_PUBLIC_KEY, params) == 1)
        rc = CRYPTO_OK;
    EVP_PKEY_CTX_free(c);
    return rc;
}

static int import_rsa(struct rbuf *r, EVP_PKEY **pk)
{
    (void)rb_u8(r); /* reserved; must be 0, enforced by the re-export check */
    size_t modlen = rb_u16(r);
    uint32_t e = rb_u32(r);
    const uint8_t *mod = rb_ptr(r, modlen);
    if (!mod || !rb_done(r))
        return CRYPTO_EBLOB;
    /* No leading zero byte, an odd modulus of 1024..3072 bits. */
    if (modlen < KEYBLOB_RSA_MIN_BITS / 8 || modlen > KEYBLOB_RSA_MAX_BITS / 8 || mod[0] == 0 ||
        (mod[modlen - 1] & 1) == 0)
        return CRYPTO_EBLOB;
    size_t bits = 8 * modlen;
    for (uint8_t top = mod[0]; (top & 0x80) == 0; top <<= 1)
        bits--;
    if (bits < KEYBLOB_RSA_MIN_BITS)
        return CRYPTO_EBLOB;
    /* A sane public exponent: odd and at least 3. */
    if (e < 3 || (e & 1) == 0)
        return CRYPTO_EBLOB;

    int rc = CRYPTO_ENOMEM;
    BIGNUM *n = BN_bin2bn(mod, (int)modlen, NULL);
    BIGNUM *eb = BN_new();
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params = NULL;
    if (!n || !eb || !bld || !BN_set_word(eb, e))
        goto out;
    if (!OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) ||
        !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, eb) ||
        !(params = OSSL_PARAM_BLD_to_param(bld)))
        goto out;
    rc = pkey_from_params("RSA", params, pk);
out:
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_free(n);
    BN_free(eb);
    return rc;
}

static int import_ec(struct rbuf *r, const uint8_t *blob, size_t len, EVP_PKEY **pk)
{
    int curve = rb_u8(r);
    size_t keylen = rb_u16(r);
    size_t c = keyblob_coord_len(curve);
    /* Exact sizes only: the padding is zero for all three curves. */
    if (r->err || !c || keylen != 2 * c || len != keyblob_ec_len(curve))
        return CRYPTO_EBLOB;
    for (size_t i = 4 + keylen; i < len; i++)
        if (blob[i] != 0)
            return CRYPTO_EBLOB;
    uint8_t point[1 + 2 * 66];
    point[0] = 0x04;
    memcpy(point + 1, blob + 4, keylen);
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)ci_group_name(curve),
                                         0),
        OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, point, 1 + keylen),
        OSSL_PARAM_construct_end(),
    };
    int rc = pkey_from_params("EC", params, pk);
    if (rc)
        return rc;
    /* On the curve, coordinates in range, not the point at infinity. The
     * quick check skips n*Q = O, which is implied on these prime-order curves
     * (cofactor 1) and would cost a scalar multiplication per blob. */
    EVP_PKEY_CTX *vc = EVP_PKEY_CTX_new_from_pkey(NULL, *pk, NULL);
    if (!vc || EVP_PKEY_public_check_quick(vc) != 1)
        rc = vc ? CRYPTO_EBLOB : CRYPTO_ENOMEM;
    EVP_PKEY_CTX_free(vc);
    if (rc) {
        EVP_PKEY_free(*pk);
        *pk = NULL;
    }
    return rc;
}

int keyblob_check(const uint8_t *blob, size_t len, int want_type, int *type, int *param)
{
    *type = *param = 0;
    if (!blob || len < 4 || len > KEYBLOB_MAX || (want_type && blob[0] != want_type))
        return CRYPTO_EBLOB;
    if (blob[0] == KEYBLOB_RSA) {
        size_t modlen = (size_t)blob[2] << 8 | blob[3];
        if (len < 8 || len != 8 + modlen || modlen < KEYBLOB_RSA_MIN_BITS / 8 ||
            modlen > KEYBLOB_RSA_MAX_BITS / 8 || blob[8] == 0 || (blob[len - 1] & 1) == 0)
            return CRYPTO_EBLOB;
        uint32_t e =
            (uint32_t)blob[4] << 24 | (uint32_t)blob[5] << 16 | (uint32_t)blob[6] << 8 | blob[7];
        if (e < 3 || (e & 1) == 0)
            return CRYPTO_EBLOB;
        *type = KEYBLOB_RSA;
        *param = (int)modlen;
        return CRYPTO_OK;
    }
    if (blob[0] == KEYBLOB_EC) {
        int curve = blob[1];
        size_t keylen = (size_t)blob[2] << 8 | blob[3];
        size_t c = keyblob_coord_len(curve);
        if (!c || keylen != 2 * c || len != keyblob_ec_len(curve))
            return CRYPTO_EBLOB;
        for (size_t i = 4 + keylen; i < len; i++)
            if (blob[i] != 0)
                return CRYPTO_EBLOB;
        *type = KEYBLOB_EC;
        *param = curve;
        return CRYPTO_OK;
    }
    return CRYPTO_EBLOB;
}

int keyblob_import(const uint8_t *blob, size_t len, int want_type, struct crypto_key **out)
{
    *out = NULL;
    if (!blob || len < 4 || len > KEYBLOB_MAX)
        return CRYPTO_EBLOB;
    struct rbuf r = rb_init(blob, len);
    int type = rb_u8(&r);
    if (want_type && type != want_type)
        return CRYPTO_EBLOB;
    EVP_PKEY *pk = NULL;
    int rc;
    if (type == KEYBLOB_RSA)
        rc = import_rsa(&r, &pk);
    else if (type == KEYBLOB_EC)
        rc = import_ec(&r, blob, len, &pk);
    else
        rc = CRYPTO_EBLOB;
    if (rc) {
        ci_clear_errors();
        return rc;
    }
    struct crypto_key *k;
    rc = ci_key_wrap(pk, false, &k);
    if (rc)
        return rc;
    /* Re-export must reproduce the input, or fingerprints would disagree. */
    if (k->bloblen != len || memcmp(k->blob, blob, len) != 0) {
        crypto_key_free(k);
        return CRYPTO_EBLOB;
    }
    *out = k;
    return CRYPTO_OK;
}
