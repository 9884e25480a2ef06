/*
 * v4 group-master wrapping (spec §1.9). A v4 group master is 48 bytes whose
 * first byte is the protocol version (0x40); KEYINFO carries the other 47
 * bytes encrypted with the CBC variant of the session cipher (AES-128/256,
 * the GCM/CCM key) under the handshake key, with no AAD. CBC uses PKCS#7
 * padding, so 47 bytes gain one pad byte 0x01 and become exactly 48: this is
 * what the reference's EVP calls (default padding) do on both ends.
 */
#ifndef UFTP_CRYPTO_CBC_H
#define UFTP_CRYPTO_CBC_H

#include <stddef.h>
#include <stdint.h>

#define CBC_IV_LEN     16
#define CBC_V4_GM_LEN  47 /* plaintext: the v4 group master minus its version byte */
#define CBC_V4_ENC_LEN 48 /* ciphertext in a KEYINFO entry */

/*
 * v4 CBC IV (spec §1.9): salt (4) || src_id (4) || ctr (8), big-endian;
 * src_id is the sender of the KEYINFO (the server's ID).
 */
void cbc_v4_iv(uint8_t iv[static CBC_IV_LEN], const uint8_t salt[static 4], uint32_t src_id,
               uint64_t ctr);

/*
 * keytype may be the session's GCM/CCM type or KEY_AES128_CBC/KEY_AES256_CBC;
 * the key is aead_key_len(keytype) bytes.
 * Errors: CRYPTO_EINVAL (key type), CRYPTO_ELIB; unwrap also CRYPTO_EAUTH
 * when the padding is not exactly one 0x01 byte (out is wiped then).
 */
int cbc_v4_gm_wrap(int keytype, const uint8_t *key, const uint8_t iv[static CBC_IV_LEN],
                   const uint8_t in[static CBC_V4_GM_LEN], uint8_t out[static CBC_V4_ENC_LEN]);
int cbc_v4_gm_unwrap(int keytype, const uint8_t *key, const uint8_t iv[static CBC_IV_LEN],
                     const uint8_t in[static CBC_V4_ENC_LEN], uint8_t out[static CBC_V4_GM_LEN]);

#endif
