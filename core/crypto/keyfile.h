/*
 * Private key files and key generation (spec §2.4).
 *
 * Files are unencrypted PEM. We read PKCS#1 "RSA PRIVATE KEY", SEC1
 * "EC PRIVATE KEY" and PKCS#8 "PRIVATE KEY"; we write PKCS#1 / SEC1 with a
 * named curve, which is what the reference writes and reads. Files are
 * created with O_CREAT|O_EXCL|O_NOFOLLOW and mode 0600: an existing file or
 * symlink is never overwritten or followed.
 */
#ifndef UFTP_CRYPTO_KEYFILE_H
#define UFTP_CRYPTO_KEYFILE_H

#include <stddef.h>
#include <stdint.h>

struct crypto_key;

#define KEYFILE_MAX_SIZE 65536 /* larger files are refused, not read */
#define KEYFILE_RSA_MIN  2048  /* we only generate 2048..3072-bit RSA */
#define KEYFILE_RSA_MAX  3072

/*
 * Reads a private key. Encrypted keys are refused (no passphrase prompt).
 * Keys we cannot use on the wire (RSA outside 1024..3072 bits, other curves,
 * other algorithms) are refused too.
 * Errors: CRYPTO_EIO (open/read failed, errno set), CRYPTO_EKEYFILE
 *         (not a usable unencrypted private key, or too large), CRYPTO_ENOMEM.
 */
int keyfile_read(const char *path, struct crypto_key **out);

/*
 * Writes a private key as PEM (PKCS#1 or SEC1) to a new file, mode 0600.
 * Errors: CRYPTO_EEXIST (path exists, including a dangling symlink),
 *         CRYPTO_EIO (errno set; a partial file is removed),
 *         CRYPTO_EINVAL (no private key), CRYPTO_ELIB.
 */
int keyfile_write(const char *path, const struct crypto_key *k);

/*
 * Generates an RSA key (KEYFILE_RSA_MIN..MAX bits, e = 65537) or an EC key
 * (CURVE_*). The ephemeral signing key of a sender without -k is EC P-256.
 * Errors: CRYPTO_EINVAL (size or curve), CRYPTO_ENOMEM, CRYPTO_ELIB.
 */
int keyfile_gen_rsa(int bits, struct crypto_key **out);
int keyfile_gen_ec(int curve, struct crypto_key **out);
int keyfile_gen_ephemeral(struct crypto_key **out);

/*
 * Parses a generation spec, "rsa:BITS" or "ec:CURVE" (curve names as in
 * keyblob_curve_by_name). Sets *type to KEYBLOB_RSA or KEYBLOB_EC and
 * *param to the bits or the CURVE_* code.
 * Errors: CRYPTO_EFORMAT (syntax, unknown curve), CRYPTO_EINVAL (RSA size
 *         outside KEYFILE_RSA_MIN..MAX).
 */
int keyfile_parse_spec(const char *spec, int *type, int *param);

#endif
