#include "core/crypto/crypto_int.h"

#include <string.h>

#include "core/crypto/sig.h"
#include "core/wire/buf.h"
#include "core/wire/wire.h"

size_t sig_len(const struct crypto_key *k)
{
    if (k->type == KEYBLOB_RSA)
        return ((size_t)k->bits + 7) / 8;
    return 4 + 2 * keyblob_coord_len(k->curve);
}

static bool sig_hash_ok(int hashtype)
{
    return hashtype == HASH_SHA1 || crypto_hash_session_ok(hashtype);
}

/* Appends a DER INTEGER for the unsigned big-endian v (already stripped). */
static size_t der_int(uint8_t *out, const uint8_t *v, size_t n)
{
    size_t pad = (v[0] & 0x80) ? 1 : 0;
    out[0] = 0x02;
    out[1] = (uint8_t)(n + pad);
    out[2] = 0;
    memcpy(out + 2 + pad, v, n);
    return 2 + pad + n;
}

/* Strips leading zeros; false if nothing non-zero is left or it exceeds coord. */
static bool strip(const uint8_t **v, size_t *n, size_t coord)
{
    while (*n && **v == 0) {
        (*v)++;
        (*n)--;
    }
    return *n > 0 && *n <= coord;
}

int sig_ecdsa_rs_to_der(const uint8_t *rs, size_t len, size_t coord, uint8_t *der, size_t cap)
{
    if (coord == 0 || coord > 66)
        return CRYPTO_EINVAL;
    struct rbuf r = rb_init(rs, len);
    size_t rlen = rb_u16(&r), slen = rb_u16(&r);
    const uint8_t *rv = rb_ptr(&r, rlen);
    const uint8_t *sv = rb_ptr(&r, slen);
    /* Trailing bytes after s are tolerated, as by the reference. */
    if (r.err || !strip(&rv, &rlen, coord) || !strip(&sv, &slen, coord))
        return CRYPTO_ESIG;
    size_t body = (2 + rlen + ((rv[0] & 0x80) != 0)) + (2 + slen + ((sv[0] & 0x80) != 0));
    size_t hdr = body > 127 ? 3 : 2;
    if (cap < hdr + body)
        return CRYPTO_ENOSPC;
    der[0] = 0x30;
    if (hdr == 3) {
        der[1] = 0x81;
        der[2] = (uint8_t)body;
    } else {
        der[1] = (uint8_t)body;
    }
    size_t off = hdr;
    off += der_int(der + off, rv, rlen);
    off += der_int(der + off, sv, slen);
    return (int)off;
}

/* Reads one positive DER INTEGER (short-form length) and strips it. */
static bool der_get_int(struct rbuf *r, const uint8_t **v, size_t *n, size_t coord)
{
    if (rb_u8(r) != 0x02)
        return false;
    size_t l = rb_u8(r);
    const uint8_t *p = rb_ptr(r, l);
    if (!p || l == 0 || l > 127 || (p[0] & 0x80))
        return false;
    *v = p;
    *n = l;
    return strip(v, n, coord);
}

int sig_ecdsa_der_to_rs(const uint8_t *der, size_t len, size_t coord, uint8_t *rs, size_t cap)
{
    if (coord == 0 || coord > 66)
        return CRYPTO_EINVAL;
    struct rbuf r = rb_init(der, len);
    if (rb_u8(&r) != 0x30)
        return CRYPTO_ESIG;
    size_t body = rb_u8(&r);
    if (body == 0x81) {
        body = rb_u8(&r);
        if (body < 128)
            return CRYPTO_ESIG;
    } else if (body > 127) {
        return CRYPTO_ESIG;
    }
    struct rbuf s = rb_sub(&r, body);
    const uint8_t *rv, *sv;
    size_t rlen, slen;
    if (!rb_done(&r) || !der_get_int(&s, &rv, &rlen, coord) ||
        !der_get_int(&s, &sv, &slen, coord) || !rb_done(&s))
        return CRYPTO_ESIG;
    size_t out = 4 + 2 * coord;
    if (cap < out)
        return CRYPTO_ENOSPC;
    /* spec §1.3: zero-pad both to the coordinate size (what the reference's
     * "grow the shorter" loop always ends with). */
    memset(rs, 0, out);
    be16_put(rs, (uint16_t)coord);
    be16_put(rs + 2, (uint16_t)coord);
    memcpy(rs + 4 + coord - rlen, rv, rlen);
    memcpy(rs + 4 + 2 * coord - slen, sv, slen);
    return (int)out;
}

int sig_sign(const struct crypto_key *k, int hashtype, const struct crypto_iov *msg, size_t n,
             uint8_t *sig, size_t cap)
{
    const char *md = ci_md_name(hashtype);
    if (!sig_hash_ok(hashtype) || !k->priv)
        return CRYPTO_EINVAL;
    size_t want = sig_len(k);
    if (cap < want)
        return CRYPTO_ENOSPC;
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    if (!c)
        return CRYPTO_ENOMEM;
    uint8_t buf[SIG_MAX > SIG_DER_MAX ? SIG_MAX : SIG_DER_MAX];
    size_t blen = sizeof(buf);
    int rc = CRYPTO_ELIB;
    /* RSA keys default to PKCS#1 v1.5 padding, which embeds the DigestInfo. */
    if (EVP_DigestSignInit_ex(c, NULL, md, NULL, NULL, k->pk, NULL) != 1)
        goto out;
    for (size_t i = 0; i < n; i++)
        if (msg[i].len && EVP_DigestSignUpdate(c, msg[i].p, msg[i].len) != 1)
            goto out;
    if (EVP_DigestSignFinal(c, buf, &blen) != 1)
        goto out;
    if (k->type == KEYBLOB_RSA) {
        if (blen == want) {
            memcpy(sig, buf, blen);
            rc = (int)blen;
        }
    } else {
        rc = sig_ecdsa_der_to_rs(buf, blen, keyblob_coord_len(k->curve), sig, cap);
        if (rc >= 0 && (size_t)rc != want)
            rc = CRYPTO_ELIB;
        else if (rc == CRYPTO_ESIG)
            rc = CRYPTO_ELIB;
    }
out:
    EVP_MD_CTX_free(c);
    if (rc < 0)
        ci_clear_errors();
    return rc;
}

int sig_verify(const struct crypto_key *k, int hashtype, const struct crypto_iov *msg, size_t n,
               const uint8_t *sig, size_t siglen)
{
    const char *md = ci_md_name(hashtype);
    if (!sig_hash_ok(hashtype))
        return CRYPTO_EINVAL;
    if (siglen == 0 || siglen > SIG_MAX)
        return CRYPTO_ESIG;
    uint8_t der[SIG_DER_MAX];
    const uint8_t *s = sig;
    size_t slen = siglen;
    if (k->type == KEYBLOB_EC) {
        int dl = sig_ecdsa_rs_to_der(sig, siglen, keyblob_coord_len(k->curve), der, sizeof(der));
        if (dl < 0)
            return CRYPTO_ESIG;
        s = der;
        slen = (size_t)dl;
    } else if (siglen != sig_len(k)) {
        return CRYPTO_ESIG;
    }
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    if (!c)
        return CRYPTO_ENOMEM;
    int rc = CRYPTO_ELIB;
    if (EVP_DigestVerifyInit_ex(c, NULL, md, NULL, NULL, k->pk, NULL) != 1)
        goto out;
    for (size_t i = 0; i < n; i++)
        if (msg[i].len && EVP_DigestVerifyUpdate(c, msg[i].p, msg[i].len) != 1)
            goto out;
    rc = EVP_DigestVerifyFinal(c, s, slen) == 1 ? CRYPTO_OK : CRYPTO_ESIG;
out:
    EVP_MD_CTX_free(c);
    ci_clear_errors();
    return rc;
}
