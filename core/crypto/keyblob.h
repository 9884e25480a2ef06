/*
 * Public keys on the wire (spec §1.3) and the key object every other crypto
 * module works with.
 *
 *   RSA blob: type 1 (1), reserved 0 (1), modulus length (2), exponent (4),
 *             modulus big-endian without a leading zero.  1024..3072 bits.
 *   EC blob:  type 2 (1), curve (1), key length (2), X || Y (the uncompressed
 *             point without its 0x04), zero-padded to a 4-byte multiple:
 *             68 / 100 / 136 bytes for P-256 / P-384 / P-521.
 *
 * Blobs arrive from the network, so the importer is strict: exact lengths,
 * known curve, point on the curve, sane RSA modulus and exponent.
 */
#ifndef UFTP_CRYPTO_KEYBLOB_H
#define UFTP_CRYPTO_KEYBLOB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KEYBLOB_MAX          392 /* RSA-3072: 8 + 384 (the reference's PUBKEY_LEN) */
#define KEYBLOB_EC_MAX       136 /* P-521 */
#define KEYBLOB_RSA_MIN_BITS 1024
#define KEYBLOB_RSA_MAX_BITS 3072

/* A public or private RSA/EC key (wraps an EVP_PKEY); opaque. */
struct crypto_key;

void crypto_key_free(struct crypto_key *k);
/* KEYBLOB_RSA or KEYBLOB_EC. */
int crypto_key_type(const struct crypto_key *k);
/* CURVE_* for EC keys, 0 for RSA. */
int crypto_key_curve(const struct crypto_key *k);
/* RSA modulus bits, or the EC field size in bits (256/384/521). */
int crypto_key_bits(const struct crypto_key *k);
bool crypto_key_has_private(const struct crypto_key *k);
/* The exported public blob, cached when the key was made. */
const uint8_t *crypto_key_blob(const struct crypto_key *k, size_t *len);

/* Per-curve sizes: coordinate bytes (32/48/66) and blob length (68/100/136); 0 if unknown. */
size_t keyblob_coord_len(int curve);
size_t keyblob_ec_len(int curve);
/* The reference's names: "prime256v1", "secp384r1", "secp521r1"; NULL if unknown. */
const char *keyblob_curve_name(int curve);
/* Accepts prime256v1, secp256r1, secp384r1, secp521r1; returns 0 for anything else. */
int keyblob_curve_by_name(const char *name);

/*
 * Imports an untrusted blob. want_type is KEYBLOB_RSA, KEYBLOB_EC, or 0 for
 * either (ECDH keys must be EC). On success *out is a new public key.
 * Errors: CRYPTO_EBLOB (any malformed, unsupported or invalid blob),
 *         CRYPTO_ENOMEM, CRYPTO_ELIB.
 */
int keyblob_import(const uint8_t *blob, size_t len, int want_type, struct crypto_key **out);

/*
 * The structural checks of keyblob_import without OpenSSL (lengths, curve,
 * padding, RSA modulus size and exponent): cheap enough for every
 * unauthenticated datagram, before any public-key work is spent on it.
 * On success *type is KEYBLOB_RSA or KEYBLOB_EC and *param the RSA modulus
 * length in bytes or the curve. A blob that passes may still fail the
 * import (a point off the curve). Errors: CRYPTO_EBLOB.
 */
int keyblob_check(const uint8_t *blob, size_t len, int want_type, int *type, int *param);

/*
 * Writes the key's public blob. Returns its length.
 * Errors: CRYPTO_ENOSPC.
 */
int keyblob_export(const struct crypto_key *k, uint8_t *out, size_t cap);

#endif
