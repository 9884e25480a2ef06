/*
 * Private to core/crypto: the only header that pulls in OpenSSL. Every
 * crypto .c includes it first, so the API level is pinned to 3.0 with the
 * deprecated low-level interfaces (RSA_*, EC_KEY_*, ...) compiled out.
 */
#ifndef UFTP_CRYPTO_INT_H
#define UFTP_CRYPTO_INT_H

#define OPENSSL_API_COMPAT    30000
#define OPENSSL_NO_DEPRECATED 1

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include "core/crypto/crypto.h"
#include "core/crypto/keyblob.h"

/* A public or private key with its exported uftp key blob (spec §1.3). */
struct crypto_key {
    EVP_PKEY *pk;
    int type;  /* KEYBLOB_RSA or KEYBLOB_EC */
    int curve; /* CURVE_* for EC, 0 for RSA */
    int bits;  /* RSA modulus bits; EC field bits */
    bool priv; /* holds the private half */
    size_t bloblen;
    uint8_t blob[KEYBLOB_MAX];
};

/* The fetched digest for a HASH_* code (cached, never freed); NULL if unknown. */
EVP_MD *ci_md(int hashtype);
/* OpenSSL's name for a HASH_* code ("SHA2-256", ...), NULL if unknown. */
const char *ci_md_name(int hashtype);
/* The fetched HMAC and HKDF implementations (cached). */
EVP_MAC *ci_hmac(void);
EVP_KDF *ci_hkdf(void);
/* OpenSSL group name ("P-256", ...) for a CURVE_* code, NULL if unknown. */
const char *ci_group_name(int curve);
/* CURVE_* code for an OpenSSL group name, 0 if not one of ours. */
int ci_curve_of_group(const char *name);

/*
 * Wraps an EVP_PKEY (taking ownership, also on failure) into a crypto_key,
 * checking type, size and curve and exporting the blob.
 * Errors: CRYPTO_EBLOB (unsupported key), CRYPTO_ENOMEM, CRYPTO_ELIB.
 */
int ci_key_wrap(EVP_PKEY *pk, bool priv, struct crypto_key **out);

/* Drops OpenSSL's error queue so one failure does not leak into the next. */
static inline void ci_clear_errors(void)
{
    ERR_clear_error();
}

#endif
