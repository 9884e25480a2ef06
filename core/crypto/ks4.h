/*
 * The v4 key schedule (spec §1.9), for accepting sessions from 4.10.x
 * servers, as the 5.0.1 client and proxy compute it. PRF is prf_v4 (the
 * UFTP chaining of TLS 1.2's P_hash) with the session hash H:
 *
 *   premaster = SHA-1(ECDH X coordinate)                 (ecdh_premaster)
 *   master    = PRF(premaster, "master secret", rand1 || rand2)[0..48)
 *   key block = PRF(master, "key expansion", rand1 || rand2):
 *               skip hash_len (an unused HMAC key), key (16/32), salt (4)
 *               -- the same key and salt in both directions
 *   group keys: PRF(group_master(48), "key expansion", rand1), split alike,
 *               one key for every member and direction
 *   finished  = PRF(group_master, "client finished", H(verify data))[0..12)
 *
 * The v4 group master is 48 bytes: the version byte 0x40, then 47 bytes
 * carried CBC-encrypted in KEYINFO (cbc.h) with IV salt || src_id || ctr.
 */
#ifndef UFTP_CRYPTO_KS4_H
#define UFTP_CRYPTO_KS4_H

#include <stddef.h>
#include <stdint.h>

#include "core/crypto/aead.h"

#define KS4_MASTER_LEN 48
#define KS4_GM_LEN     48
#define KS4_VERIFY_LEN 12

struct ks4_keys {
    uint8_t key[AEAD_KEY_MAX];    /* aead_key_len(keytype) bytes used */
    uint8_t salt[AEAD_SALT4_LEN]; /* IV salt: aead_nonce_v4 / cbc_v4_iv */
};

/* Errors for all: CRYPTO_EINVAL (hash or key type), CRYPTO_ELIB. */
int ks4_master(int hashtype, const uint8_t *premaster, size_t plen, const uint8_t rand1[static 32],
               const uint8_t rand2[static 32], uint8_t master[static KS4_MASTER_LEN]);
int ks4_handshake(int hashtype, int keytype, const uint8_t master[static KS4_MASTER_LEN],
                  const uint8_t rand1[static 32], const uint8_t rand2[static 32],
                  struct ks4_keys *out);
int ks4_group(int hashtype, int keytype, const uint8_t gm[static KS4_GM_LEN],
              const uint8_t rand1[static 32], struct ks4_keys *out);
/* The 12-byte KEYINFO_ACK value; vctx from keysched_v4_verify_ctx with the group master. */
int ks4_finished(int hashtype, const uint8_t gm[static KS4_GM_LEN], const uint8_t *vctx,
                 size_t vlen, uint8_t out[static KS4_VERIFY_LEN]);

/*
 * The KEYINFO entry: unwrap decrypts 48 bytes into gm (gm[0] = 0x40, then
 * the 47 decrypted bytes); wrap is the proxy's side. src_id is the KEYINFO's
 * sender (the server ID), ctr its IV counter.
 * Errors: CRYPTO_EINVAL, CRYPTO_ELIB; unwrap also CRYPTO_EAUTH (bad padding).
 */
int ks4_gm_unwrap(int keytype, const struct ks4_keys *hs, uint32_t src_id, uint64_t ctr,
                  const uint8_t in[static 48], uint8_t gm[static KS4_GM_LEN]);
int ks4_gm_wrap(int keytype, const struct ks4_keys *hs, uint32_t src_id, uint64_t ctr,
                const uint8_t gm[static KS4_GM_LEN], uint8_t out[static 48]);

#endif
