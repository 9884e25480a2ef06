/*
 * The v5 key schedule (spec §1.8, §7), from the context strings built by
 * core/proto/keysched.h:
 *
 *   hs   = Extract(0, premaster)
 *   s_hs = Expand-Label(hs, "s hs traffic", H(C_ctx1), hash_len)   (c_hs likewise)
 *   app  = Extract(0, group_master)
 *   s_app = Expand-Label(app, "s app traffic", H(S_ctx), hash_len)
 *   c_app = Expand-Label(app, "c app traffic", H(C_ctx2), hash_len)
 *   key = Expand-Label(secret, "key", "", key_len); iv = Expand-Label(secret, "iv", "", 12)
 *   finished_key = Expand-Label(c_app, "finished", "", hash_len)
 *   verify_data  = HMAC_H(finished_key, C_ctx2 || group_master)    (raw, not hashed)
 *
 * and the KEYINFO group-master wrap: AEAD under s_hs key, nonce
 * s_hs_iv XOR ctr, AAD "UFTP 5, group master" || C_ctx2, 32 -> 48 bytes.
 *
 * Every struct here holds secrets: wipe it with crypto_wipe when done.
 */
#ifndef UFTP_CRYPTO_KS5_H
#define UFTP_CRYPTO_KS5_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/crypto/aead.h"
#include "core/crypto/crypto.h"

#define KS5_GM_LEN     32 /* group master */
#define KS5_GM_ENC_LEN 48 /* group master + tag, in a KEYINFO entry */

/* One direction's traffic secret and the key and iv derived from it. */
struct ks5_dir {
    uint8_t secret[CRYPTO_HASH_MAX]; /* hash_len bytes used */
    uint8_t key[AEAD_KEY_MAX];       /* aead_key_len(keytype) bytes used */
    uint8_t iv[AEAD_NONCE_LEN];
};

struct ks5_hs {
    struct ks5_dir s; /* server (or proxy) -> client: KEYINFO group master */
    struct ks5_dir c; /* client -> server: CLIENT_KEY */
};

struct ks5_client {
    struct ks5_dir c; /* client X -> server */
    uint8_t finished_key[CRYPTO_HASH_MAX];
    uint8_t verify[CRYPTO_HASH_MAX]; /* KEYINFO_ACK verify_data, hash_len bytes */
};

/*
 * Handshake secrets, keys and ivs of one client from the premaster
 * (ecdh_premaster with SHA-256) and C_ctx1.
 * Errors: CRYPTO_EINVAL (hash or key type), CRYPTO_ELIB.
 */
int ks5_handshake(int hashtype, int keytype, const uint8_t *premaster, size_t plen,
                  const uint8_t *c_ctx1, size_t c1len, struct ks5_hs *out);

/* Server application secret, key and iv from the group master and S_ctx. Errors: as above. */
int ks5_server_app(int hashtype, int keytype, const uint8_t gm[static KS5_GM_LEN],
                   const uint8_t *s_ctx, size_t slen, struct ks5_dir *out);

/* Client X's application keys, finished key and verify data from C_ctx2. Errors: as above. */
int ks5_client_app(int hashtype, int keytype, const uint8_t gm[static KS5_GM_LEN],
                   const uint8_t *c_ctx2, size_t c2len, struct ks5_client *out);

/* Constant-time check of a received verify_data (length must be hash_len). */
bool ks5_verify_ok(int hashtype, const struct ks5_client *c, const uint8_t *got, size_t gotlen);

/*
 * The KEYINFO entry for one client: wrap encrypts gm to 48 bytes, unwrap
 * authenticates and decrypts it. hs is that client's handshake (its s
 * direction is used), ctr the KEYINFO IV counter.
 * Errors: CRYPTO_EINVAL (key type, context too long), CRYPTO_ELIB,
 *         CRYPTO_ENOMEM; unwrap also CRYPTO_EAUTH (gm is wiped).
 */
int ks5_gm_wrap(int keytype, const struct ks5_hs *hs, uint64_t ctr, const uint8_t *c_ctx2,
                size_t c2len, const uint8_t gm[static KS5_GM_LEN],
                uint8_t out[static KS5_GM_ENC_LEN]);
int ks5_gm_unwrap(int keytype, const struct ks5_hs *hs, uint64_t ctr, const uint8_t *c_ctx2,
                  size_t c2len, const uint8_t in[static KS5_GM_ENC_LEN],
                  uint8_t gm[static KS5_GM_LEN]);

#endif
