/*
 * Common crypto services: error codes, hashes and HMAC keyed by the uftp
 * HASH_* codes (spec §1.2), the OS CSPRNG, constant-time comparison and
 * secret wiping.
 *
 * core/crypto is the only part of the tree that includes OpenSSL; its public
 * headers do not, so the types they expose are opaque.
 */
#ifndef UFTP_CRYPTO_H
#define UFTP_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Errors shared by every crypto module: negative, never a length. */
enum crypto_err {
    CRYPTO_OK = 0,
    CRYPTO_EINVAL = -1,    /* bad argument, unknown or unsupported type code */
    CRYPTO_EBLOB = -2,     /* key blob malformed or not acceptable */
    CRYPTO_ESIG = -3,      /* signature malformed or does not verify */
    CRYPTO_EAUTH = -4,     /* AEAD tag (or CBC padding) check failed */
    CRYPTO_ENOSPC = -5,    /* output buffer too small */
    CRYPTO_ELIB = -6,      /* OpenSSL reported an internal failure */
    CRYPTO_ENOMEM = -7,    /* allocation failed */
    CRYPTO_EIO = -8,       /* file I/O failed; errno is left set */
    CRYPTO_EEXIST = -9,    /* refusing to overwrite an existing file */
    CRYPTO_EKEYFILE = -10, /* key file unreadable, encrypted or unsupported */
    CRYPTO_EFORMAT = -11,  /* text (fingerprint, key spec) does not parse */
};

const char *crypto_strerror(int err);

/* Largest digest of any supported hash (SHA-512). */
#define CRYPTO_HASH_MAX 64

/* One piece of a message that is hashed, MACed or signed in parts. */
struct crypto_iov {
    const void *p;
    size_t len;
};

/*
 * Digest length of a HASH_* code: 20, 32, 48 or 64; 0 for NONE, MD5 and
 * anything unknown. SHA-1 is for internal uses only (v4 KDF, fingerprints,
 * heartbeats), so crypto_hash_session_ok() tells whether a code may be
 * chosen as a session hash (SHA-256/384/512, spec §1.2).
 */
size_t crypto_hash_len(int hashtype);
bool crypto_hash_session_ok(int hashtype);

/*
 * H(message) into out (crypto_hash_len bytes). The v variant hashes the
 * concatenation of n pieces.
 * Errors: CRYPTO_EINVAL (hash type), CRYPTO_ELIB.
 */
int crypto_hash(int hashtype, const void *p, size_t len, uint8_t *out);
int crypto_hashv(int hashtype, const struct crypto_iov *iov, size_t n, uint8_t *out);

/*
 * HMAC_H(key, message) into out (crypto_hash_len bytes).
 * Errors: CRYPTO_EINVAL (hash type), CRYPTO_ELIB.
 */
int crypto_hmac(int hashtype, const uint8_t *key, size_t keylen, const void *p, size_t len,
                uint8_t *out);
int crypto_hmacv(int hashtype, const uint8_t *key, size_t keylen, const struct crypto_iov *iov,
                 size_t n, uint8_t *out);

/*
 * Fills buf from the kernel CSPRNG (getrandom, falling back to OpenSSL's
 * RAND_bytes only if the syscall is unavailable). It cannot fail silently:
 * if no CSPRNG answers, the process aborts, because nothing sane can
 * continue without randomness (DESIGN.md "Security by construction").
 */
void crypto_random(void *buf, size_t len);

/* Constant-time equality of two buffers of the same length. */
bool crypto_memeq(const void *a, const void *b, size_t len);

/* Wipes a secret so the compiler cannot elide it (OPENSSL_cleanse). */
void crypto_wipe(void *p, size_t len);

#endif
