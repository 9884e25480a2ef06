/*
 * Fuzzes decryption of untrusted ciphertext: AEAD open with each key type,
 * the v5 KEYINFO group-master unwrap and the v4 CBC unwrap. Forgeries must
 * fail, and failures must leave the output zeroed.
 */
#include <string.h>

#include "core/crypto/aead.h"
#include "core/crypto/cbc.h"
#include "core/crypto/crypto.h"
#include "core/crypto/ks5.h"
#include "core/wire/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct aead *ctx[4];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t key[32] = {1, 2, 3};
    if (size < 1 + AEAD_NONCE_LEN + AEAD_TAG_LEN + 1)
        return 0;
    int t = data[0] & 3;
    if (!ctx[t] && aead_new(&ctx[t], KEY_AES128_GCM + t, key) != CRYPTO_OK)
        __builtin_trap();
    const uint8_t *nonce = data + 1, *tag = data + 1 + AEAD_NONCE_LEN;
    const uint8_t *rest = tag + AEAD_TAG_LEN;
    size_t rl = size - (size_t)(rest - data);
    size_t aadlen = rest[0] % 64 < rl - 1 ? rest[0] % 64 : rl - 1;
    const uint8_t *aad = rest + 1, *ct = aad + aadlen;
    size_t ctlen = rl - 1 - aadlen;
    static uint8_t out[65536], zero[65536];
    if (aead_open(ctx[t], nonce, aad, aadlen, ct, out, ctlen, tag) == CRYPTO_OK)
        __builtin_trap(); /* a forgery with a 128-bit tag */
    if (memcmp(out, zero, ctlen) != 0)
        __builtin_trap();
    if (ctlen >= KS5_GM_ENC_LEN) {
        struct ks5_hs hs;
        memset(&hs, 0, sizeof(hs));
        uint8_t gm[KS5_GM_LEN];
        if (ks5_gm_unwrap(KEY_AES128_GCM + t, &hs, 1, aad, aadlen, ct, gm) == CRYPTO_OK)
            __builtin_trap();
        uint8_t iv[CBC_IV_LEN] = {0}, gm4[CBC_V4_GM_LEN];
        (void)cbc_v4_gm_unwrap(KEY_AES128_GCM + t, key, iv, ct, gm4);
    }
    return 0;
}
