#include "core/crypto/crypto_int.h"

#include <string.h>

#include "core/crypto/aead.h"
#include "core/crypto/cbc.h"
#include "core/wire/buf.h"

void cbc_v4_iv(uint8_t iv[static CBC_IV_LEN], const uint8_t salt[static 4], uint32_t src_id,
               uint64_t ctr)
{
    memcpy(iv, salt, 4);
    be32_put(iv + 4, src_id);
    be64_put(iv + 8, ctr);
}

/*
 * One 48-byte CBC pass with OpenSSL's padding switched off; the single
 * PKCS#7 pad byte is added and checked here, where its exact value is known.
 */
static int cbc48(int keytype, const uint8_t *key, const uint8_t *iv, const uint8_t *in,
                 uint8_t *out, int enc)
{
    size_t kl = aead_key_len(keytype);
    if (!kl)
        return CRYPTO_EINVAL;
    EVP_CIPHER *c = EVP_CIPHER_fetch(NULL, kl == 16 ? "AES-128-CBC" : "AES-256-CBC", NULL);
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int rc = CRYPTO_ELIB, outl = 0, fl = 0;
    if (!c || !ctx || !EVP_CipherInit_ex2(ctx, c, key, iv, enc, NULL) ||
        !EVP_CIPHER_CTX_set_padding(ctx, 0))
        goto out;
    if (EVP_CipherUpdate(ctx, out, &outl, in, CBC_V4_ENC_LEN) &&
        EVP_CipherFinal_ex(ctx, out + outl, &fl) && outl + fl == CBC_V4_ENC_LEN)
        rc = CRYPTO_OK;
out:
    EVP_CIPHER_CTX_free(ctx);
    EVP_CIPHER_free(c);
    if (rc)
        ci_clear_errors();
    return rc;
}

int cbc_v4_gm_wrap(int keytype, const uint8_t *key, const uint8_t iv[static CBC_IV_LEN],
                   const uint8_t in[static CBC_V4_GM_LEN], uint8_t out[static CBC_V4_ENC_LEN])
{
    uint8_t buf[CBC_V4_ENC_LEN];
    memcpy(buf, in, CBC_V4_GM_LEN);
    buf[CBC_V4_GM_LEN] = 0x01; /* PKCS#7: one byte of value 1 */
    int rc = cbc48(keytype, key, iv, buf, out, 1);
    crypto_wipe(buf, sizeof(buf));
    return rc;
}

int cbc_v4_gm_unwrap(int keytype, const uint8_t *key, const uint8_t iv[static CBC_IV_LEN],
                     const uint8_t in[static CBC_V4_ENC_LEN], uint8_t out[static CBC_V4_GM_LEN])
{
    uint8_t buf[CBC_V4_ENC_LEN];
    int rc = cbc48(keytype, key, iv, in, buf, 0);
    if (rc == CRYPTO_OK && buf[CBC_V4_GM_LEN] != 0x01)
        rc = CRYPTO_EAUTH;
    if (rc == CRYPTO_OK)
        memcpy(out, buf, CBC_V4_GM_LEN);
    else
        crypto_wipe(out, CBC_V4_GM_LEN);
    crypto_wipe(buf, sizeof(buf));
    return rc;
}
