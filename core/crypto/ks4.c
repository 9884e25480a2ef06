#include "core/crypto/crypto_int.h"

#include <string.h>

#include "core/crypto/cbc.h"
#include "core/crypto/ks4.h"
#include "core/crypto/prf.h"
#include "core/proto/keysched.h"
#include "core/wire/wire.h"

int ks4_master(int hashtype, const uint8_t *premaster, size_t plen, const uint8_t rand1[static 32],
               const uint8_t rand2[static 32], uint8_t master[static KS4_MASTER_LEN])
{
    if (!crypto_hash_session_ok(hashtype))
        return CRYPTO_EINVAL;
    uint8_t seed[64];
    memcpy(seed, rand1, 32);
    memcpy(seed + 32, rand2, 32);
    return prf_v4(hashtype, premaster, plen, KEYSCHED_V4_MASTER, seed, sizeof(seed), master,
                  KS4_MASTER_LEN);
}

/* Key block: skip hash_len, then key, then a 4-byte salt (spec §1.9). */
static int split(int hashtype, int keytype, const uint8_t *secret, size_t slen, const uint8_t *seed,
                 size_t seedlen, struct ks4_keys *out)
{
    memset(out, 0, sizeof(*out));
    size_t hl = crypto_hash_len(hashtype), kl = aead_key_len(keytype);
    if (!crypto_hash_session_ok(hashtype) || !aead_supported(keytype))
        return CRYPTO_EINVAL;
    uint8_t kb[CRYPTO_HASH_MAX + AEAD_KEY_MAX + AEAD_SALT4_LEN];
    int rc = prf_v4(hashtype, secret, slen, KEYSCHED_V4_EXPANSION, seed, seedlen, kb,
                    hl + kl + AEAD_SALT4_LEN);
    if (rc == CRYPTO_OK) {
        memcpy(out->key, kb + hl, kl);
        memcpy(out->salt, kb + hl + kl, AEAD_SALT4_LEN);
    }
    crypto_wipe(kb, sizeof(kb));
    return rc;
}

int ks4_handshake(int hashtype, int keytype, const uint8_t master[static KS4_MASTER_LEN],
                  const uint8_t rand1[static 32], const uint8_t rand2[static 32],
                  struct ks4_keys *out)
{
    uint8_t seed[64];
    memcpy(seed, rand1, 32);
    memcpy(seed + 32, rand2, 32);
    return split(hashtype, keytype, master, KS4_MASTER_LEN, seed, sizeof(seed), out);
}

int ks4_group(int hashtype, int keytype, const uint8_t gm[static KS4_GM_LEN],
              const uint8_t rand1[static 32], struct ks4_keys *out)
{
    return split(hashtype, keytype, gm, KS4_GM_LEN, rand1, 32, out);
}

int ks4_finished(int hashtype, const uint8_t gm[static KS4_GM_LEN], const uint8_t *vctx,
                 size_t vlen, uint8_t out[static KS4_VERIFY_LEN])
{
    if (!crypto_hash_session_ok(hashtype))
        return CRYPTO_EINVAL;
    uint8_t h[CRYPTO_HASH_MAX];
    int rc = crypto_hash(hashtype, vctx, vlen, h);
    if (rc == CRYPTO_OK)
        rc = prf_v4(hashtype, gm, KS4_GM_LEN, KEYSCHED_V4_FINISHED, h, crypto_hash_len(hashtype),
                    out, KS4_VERIFY_LEN);
    return rc;
}

int ks4_gm_unwrap(int keytype, const struct ks4_keys *hs, uint32_t src_id, uint64_t ctr,
                  const uint8_t in[static 48], uint8_t gm[static KS4_GM_LEN])
{
    uint8_t iv[CBC_IV_LEN];
    cbc_v4_iv(iv, hs->salt, src_id, ctr);
    gm[0] = UFTP_VER4;
    int rc = cbc_v4_gm_unwrap(keytype, hs->key, iv, in, gm + 1);
    if (rc)
        crypto_wipe(gm, KS4_GM_LEN);
    return rc;
}

int ks4_gm_wrap(int keytype, const struct ks4_keys *hs, uint32_t src_id, uint64_t ctr,
                const uint8_t gm[static KS4_GM_LEN], uint8_t out[static 48])
{
    uint8_t iv[CBC_IV_LEN];
    cbc_v4_iv(iv, hs->salt, src_id, ctr);
    return cbc_v4_gm_wrap(keytype, hs->key, iv, gm + 1, out);
}
