/*
 * AEAD for UFTP: AES-128/256 in GCM or CCM (KEY_AES128_GCM .. KEY_AES256_CCM,
 * spec §1.2), 12-byte nonce, 16-byte tag; CCM with M = 16 and L = 3.
 *
 * An aead object holds one key, set once; sealing and opening a packet reuse
 * it and never allocate (DESIGN.md "The path of a data packet"). Input and
 * output may be the same buffer (in place) but must not partially overlap.
 */
#ifndef UFTP_CRYPTO_AEAD_H
#define UFTP_CRYPTO_AEAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AEAD_KEY_MAX   32
#define AEAD_NONCE_LEN 12
#define AEAD_TAG_LEN   16
#define AEAD_SALT4_LEN 4 /* v4 IV salt */
/* Largest plaintext accepted (a UDP datagram), and the largest AAD. */
#define AEAD_MAX_LEN 65535
#define AEAD_AAD_MAX 65535

struct aead;

/* True for the four AEAD key types. */
bool aead_supported(int keytype);
/* Key length for an AEAD or AES-CBC key type (16 or 32), 0 if unknown. */
size_t aead_key_len(int keytype);

/*
 * Makes a cipher context for keytype with the given key
 * (aead_key_len(keytype) bytes). The key is copied into OpenSSL's context;
 * the caller may wipe its copy.
 * Errors: CRYPTO_EINVAL (key type), CRYPTO_ENOMEM, CRYPTO_ELIB.
 */
int aead_new(struct aead **out, int keytype, const uint8_t *key);

/*
 * The same with only the directions in `dirs` (AEAD_DIR_SEAL, AEAD_DIR_OPEN
 * or both): half the memory for a key that is only ever used one way (a
 * sender holds one receive key per client). Using a missing direction
 * gives CRYPTO_EINVAL. Errors: as aead_new, and CRYPTO_EINVAL for dirs 0.
 */
#define AEAD_DIR_SEAL 1
#define AEAD_DIR_OPEN 2
int aead_new_dir(struct aead **out, int keytype, const uint8_t *key, int dirs);
/* Frees and wipes. NULL is fine. */
void aead_free(struct aead *a);
int aead_keytype(const struct aead *a);

/*
 * Encrypts len bytes from in to out and writes the 16-byte tag.
 * Errors: CRYPTO_EINVAL (lengths), CRYPTO_ELIB.
 */
int aead_seal(struct aead *a, const uint8_t nonce[static AEAD_NONCE_LEN], const uint8_t *aad,
              size_t aadlen, const uint8_t *in, uint8_t *out, size_t len,
              uint8_t tag[static AEAD_TAG_LEN]);

/*
 * Decrypts and authenticates. On any failure the len bytes at out are
 * wiped and must be treated as garbage (when out == in the ciphertext is
 * gone too: try a second key on a copy, or decrypt out of place).
 * Errors: CRYPTO_EAUTH (tag mismatch), CRYPTO_EINVAL (lengths), CRYPTO_ELIB.
 */
int aead_open(struct aead *a, const uint8_t nonce[static AEAD_NONCE_LEN], const uint8_t *aad,
              size_t aadlen, const uint8_t *in, uint8_t *out, size_t len,
              const uint8_t tag[static AEAD_TAG_LEN]);

/*
 * v5 nonce (spec §1.8): the derived 12-byte iv with its last 8 bytes XORed
 * with the 64-bit big-endian counter.
 */
void aead_nonce_v5(uint8_t nonce[static AEAD_NONCE_LEN], const uint8_t iv[static AEAD_NONCE_LEN],
                   uint64_t ctr);

/*
 * v4 GCM/CCM nonce (spec §1.9): (salt XOR src_id) || ctr, where src_id is
 * the sender ID from the UFTP header and both it and ctr are big-endian.
 */
void aead_nonce_v4(uint8_t nonce[static AEAD_NONCE_LEN], const uint8_t salt[static AEAD_SALT4_LEN],
                   uint32_t src_id, uint64_t ctr);

/*
 * Usage limits for one key (issue 4), following RFC 9001 §6.6 and its
 * appendix B but for UFTP's real packet size rather than 2^16 bytes:
 * *max_encrypt is how many packets may be sealed, *max_forgery how many
 * failed opens may be tolerated, before the key must be retired.
 * max_plaintext_len is the largest plaintext sealed under the key
 * (block size + message headers). See aead.c for the derivation.
 * Errors: CRYPTO_EINVAL (key type, length 0 or > AEAD_MAX_LEN).
 */
int aead_limits(int keytype, size_t max_plaintext_len, uint64_t *max_encrypt,
                uint64_t *max_forgery);

#endif
