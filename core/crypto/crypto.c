#include "core/crypto/crypto_int.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <sys/random.h>

#include <openssl/rand.h>

#include "core/wire/wire.h"

const char *crypto_strerror(int err)
{
    switch (err) {
    case CRYPTO_OK:
        return "success";
    case CRYPTO_EINVAL:
        return "invalid or unsupported parameter";
    case CRYPTO_EBLOB:
        return "invalid or unacceptable key blob";
    case CRYPTO_ESIG:
        return "signature invalid";
    case CRYPTO_EAUTH:
        return "authentication failed";
    case CRYPTO_ENOSPC:
        return "output buffer too small";
    case CRYPTO_ELIB:
        return "crypto library failure";
    case CRYPTO_ENOMEM:
        return "out of memory";
    case CRYPTO_EIO:
        return "I/O error";
    case CRYPTO_EEXIST:
        return "file exists, will not overwrite";
    case CRYPTO_EKEYFILE:
        return "unreadable, encrypted or unsupported key file";
    case CRYPTO_EFORMAT:
        return "malformed text";
    default:
        return "unknown crypto error";
    }
}

/*
 * Algorithms are fetched once: an explicit fetch per call costs a name-map
 * lookup and locking that the per-packet paths should not pay.
 */
static pthread_once_t fetch_once = PTHREAD_ONCE_INIT;
static EVP_MD *md_sha1, *md_sha256, *md_sha384, *md_sha512;
static EVP_MAC *mac_hmac;
static EVP_KDF *kdf_hkdf;

static void fetch_all(void)
{
    md_sha1 = EVP_MD_fetch(NULL, "SHA1", NULL);
    md_sha256 = EVP_MD_fetch(NULL, "SHA2-256", NULL);
    md_sha384 = EVP_MD_fetch(NULL, "SHA2-384", NULL);
    md_sha512 = EVP_MD_fetch(NULL, "SHA2-512", NULL);
    mac_hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    kdf_hkdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
}

EVP_MD *ci_md(int hashtype)
{
    pthread_once(&fetch_once, fetch_all);
    switch (hashtype) {
    case HASH_SHA1:
        return md_sha1;
    case HASH_SHA256:
        return md_sha256;
    case HASH_SHA384:
        return md_sha384;
    case HASH_SHA512:
        return md_sha512;
    default:
        return NULL;
    }
}

EVP_MAC *ci_hmac(void)
{
    pthread_once(&fetch_once, fetch_all);
    return mac_hmac;
}

EVP_KDF *ci_hkdf(void)
{
    pthread_once(&fetch_once, fetch_all);
    return kdf_hkdf;
}

const char *ci_md_name(int hashtype)
{
    switch (hashtype) {
    case HASH_SHA1:
        return "SHA1";
    case HASH_SHA256:
        return "SHA2-256";
    case HASH_SHA384:
        return "SHA2-384";
    case HASH_SHA512:
        return "SHA2-512";
    default:
        return NULL;
    }
}

size_t crypto_hash_len(int hashtype)
{
    switch (hashtype) {
    case HASH_SHA1:
        return 20;
    case HASH_SHA256:
        return 32;
    case HASH_SHA384:
        return 48;
    case HASH_SHA512:
        return 64;
    default:
        return 0;
    }
}

bool crypto_hash_session_ok(int hashtype)
{
    return hashtype == HASH_SHA256 || hashtype == HASH_SHA384 || hashtype == HASH_SHA512;
}

int crypto_hashv(int hashtype, const struct crypto_iov *iov, size_t n, uint8_t *out)
{
    EVP_MD *md = ci_md(hashtype);
    if (!md)
        return CRYPTO_EINVAL;
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    if (!c)
        return CRYPTO_ENOMEM;
    int rc = CRYPTO_ELIB;
    if (!EVP_DigestInit_ex2(c, md, NULL))
        goto out;
    for (size_t i = 0; i < n; i++)
        if (iov[i].len && !EVP_DigestUpdate(c, iov[i].p, iov[i].len))
            goto out;
    if (EVP_DigestFinal_ex(c, out, NULL))
        rc = CRYPTO_OK;
out:
    EVP_MD_CTX_free(c);
    if (rc)
        ci_clear_errors();
    return rc;
}

int crypto_hash(int hashtype, const void *p, size_t len, uint8_t *out)
{
    struct crypto_iov v = {p, len};
    return crypto_hashv(hashtype, &v, 1, out);
}

int crypto_hmacv(int hashtype, const uint8_t *key, size_t keylen, const struct crypto_iov *iov,
                 size_t n, uint8_t *out)
{
    const char *name = ci_md_name(hashtype);
    EVP_MAC *mac = ci_hmac();
    if (!name)
        return CRYPTO_EINVAL;
    if (!mac)
        return CRYPTO_ELIB;
    EVP_MAC_CTX *c = EVP_MAC_CTX_new(mac);
    if (!c)
        return CRYPTO_ENOMEM;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)name, 0),
        OSSL_PARAM_construct_end(),
    };
    /* An empty key is legal HMAC; OpenSSL wants a non-NULL pointer for it. */
    static const uint8_t nokey[1];
    int rc = CRYPTO_ELIB;
    size_t outlen = 0;
    if (!EVP_MAC_init(c, keylen ? key : nokey, keylen, params))
        goto out;
    for (size_t i = 0; i < n; i++)
        if (iov[i].len && !EVP_MAC_update(c, iov[i].p, iov[i].len))
            goto out;
    if (EVP_MAC_final(c, out, &outlen, crypto_hash_len(hashtype)) &&
        outlen == crypto_hash_len(hashtype))
        rc = CRYPTO_OK;
out:
    EVP_MAC_CTX_free(c);
    if (rc)
        ci_clear_errors();
    return rc;
}

int crypto_hmac(int hashtype, const uint8_t *key, size_t keylen, const void *p, size_t len,
                uint8_t *out)
{
    struct crypto_iov v = {p, len};
    return crypto_hmacv(hashtype, key, keylen, &v, 1, out);
}

void crypto_random(void *buf, size_t len)
{
    uint8_t *p = buf;
    while (len > 0) {
        /* getrandom returns at most 32 MiB per call; loop over short reads. */
        ssize_t n = getrandom(p, len, 0);
        if (n > 0) {
            p += n;
            len -= (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == ENOSYS) {
            while (len > 0) {
                int chunk = len > 1u << 20 ? 1 << 20 : (int)len;
                if (RAND_bytes(p, chunk) != 1)
                    break;
                p += chunk;
                len -= (size_t)chunk;
            }
            if (len == 0)
                return;
        }
        fprintf(stderr, "uftp: no CSPRNG available, aborting\n");
        abort();
    }
}

bool crypto_memeq(const void *a, const void *b, size_t len)
{
    return CRYPTO_memcmp(a, b, len) == 0;
}

void crypto_wipe(void *p, size_t len)
{
    if (p && len)
        OPENSSL_cleanse(p, len);
}

const char *ci_group_name(int curve)
{
    switch (curve) {
    case CURVE_P256:
        return "P-256";
    case CURVE_P384:
        return "P-384";
    case CURVE_P521:
        return "P-521";
    default:
        return NULL;
    }
}

int ci_curve_of_group(const char *name)
{
    /* OpenSSL reports the SN of the curve; accept both spellings. */
    static const struct {
        const char *name;
        int curve;
    } tab[] = {
        {"P-256", CURVE_P256},     {"prime256v1", CURVE_P256}, {"secp256r1", CURVE_P256},
        {"P-384", CURVE_P384},     {"secp384r1", CURVE_P384},  {"P-521", CURVE_P521},
        {"secp521r1", CURVE_P521},
    };
    for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
        if (strcasecmp(name, tab[i].name) == 0)
            return tab[i].curve;
    return 0;
}
