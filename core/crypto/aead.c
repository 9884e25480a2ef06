#include "core/crypto/crypto_int.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "core/crypto/aead.h"
#include "core/wire/buf.h"
#include "core/wire/wire.h"

/*
 * One context per direction, each keyed once: OpenSSL's AES-CCM picks its
 * encrypt or decrypt block function when the key is set, so a context keyed
 * for sealing cannot open (and re-keying per packet would cost the key
 * schedule). GCM would not care; both modes are handled alike.
 */
struct aead {
    EVP_CIPHER_CTX *ctx[2]; /* [0] open, [1] seal */
    int keytype;
    bool ccm;
    bool iv_by_param; /* GCM: the nonce goes in as a parameter (see start()) */
};

bool aead_supported(int keytype)
{
    return keytype >= KEY_AES128_GCM && keytype <= KEY_AES256_CCM;
}

size_t aead_key_len(int keytype)
{
    switch (keytype) {
    case KEY_AES128_CBC:
    case KEY_AES128_GCM:
    case KEY_AES128_CCM:
        return 16;
    case KEY_AES256_CBC:
    case KEY_AES256_GCM:
    case KEY_AES256_CCM:
        return 32;
    default:
        return 0;
    }
}

static const char *cipher_name(int keytype)
{
    switch (keytype) {
    case KEY_AES128_GCM:
        return "AES-128-GCM";
    case KEY_AES256_GCM:
        return "AES-256-GCM";
    case KEY_AES128_CCM:
        return "AES-128-CCM";
    case KEY_AES256_CCM:
        return "AES-256-CCM";
    default:
        return NULL;
    }
}

static EVP_CIPHER_CTX *keyed_ctx(const EVP_CIPHER *c, const uint8_t *key, int enc, bool ccm)
{
    EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
    if (!x)
        return NULL;
    /* 12-byte nonce for both modes (CCM: L = 15 - 12 = 3) and, for CCM, the
     * 16-byte tag length: both must be set before the key, which fixes them. */
    if (!EVP_CipherInit_ex2(x, c, NULL, NULL, enc, NULL) ||
        EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_AEAD_SET_IVLEN, AEAD_NONCE_LEN, NULL) <= 0 ||
        (ccm && EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_AEAD_SET_TAG, AEAD_TAG_LEN, NULL) <= 0) ||
        !EVP_CipherInit_ex2(x, NULL, key, NULL, enc, NULL)) {
        EVP_CIPHER_CTX_free(x);
        return NULL;
    }
    return x;
}

int aead_new(struct aead **out, int keytype, const uint8_t *key)
{
    return aead_new_dir(out, keytype, key, AEAD_DIR_SEAL | AEAD_DIR_OPEN);
}

int aead_new_dir(struct aead **out, int keytype, const uint8_t *key, int dirs)
{
    *out = NULL;
    const char *name = cipher_name(keytype);
    if (!name || (dirs & (AEAD_DIR_SEAL | AEAD_DIR_OPEN)) == 0)
        return CRYPTO_EINVAL;
    struct aead *a = calloc(1, sizeof(*a));
    if (!a)
        return CRYPTO_ENOMEM;
    a->keytype = keytype;
    a->ccm = keytype == KEY_AES128_CCM || keytype == KEY_AES256_CCM;
    a->iv_by_param = !a->ccm;
    EVP_CIPHER *c = EVP_CIPHER_fetch(NULL, name, NULL);
    bool ok = c != NULL;
    if (ok && (dirs & AEAD_DIR_OPEN))
        ok = (a->ctx[0] = keyed_ctx(c, key, 0, a->ccm)) != NULL;
    if (ok && (dirs & AEAD_DIR_SEAL))
        ok = (a->ctx[1] = keyed_ctx(c, key, 1, a->ccm)) != NULL;
    EVP_CIPHER_free(c);
    if (!ok) {
        ci_clear_errors();
        aead_free(a);
        return CRYPTO_ELIB;
    }
    *out = a;
    return CRYPTO_OK;
}

void aead_free(struct aead *a)
{
    if (!a)
        return;
    EVP_CIPHER_CTX_free(a->ctx[0]); /* clears the key schedule */
    EVP_CIPHER_CTX_free(a->ctx[1]);
    free(a);
}

int aead_keytype(const struct aead *a)
{
    return a->keytype;
}

/*
 * The nonce of a GCM packet as the provider's "tlsivfixed" parameter with
 * the whole-IV length (SIZE_MAX, EVP_CTRL_GCM_SET_IV_FIXED's -1): the same
 * IV as EVP_CipherInit_ex2() sets, without its per-call work (OpenSSL 3.0
 * asks the provider for the IV length by name on every init; issue 18,
 * bench/bench_aead). The tag to check goes in the same call. A provider
 * that refuses it (none known) gets the init path from then on.
 */
static bool set_iv_param(struct aead *a, EVP_CIPHER_CTX *x, const uint8_t *nonce,
                         const uint8_t *tag)
{
    OSSL_PARAM p[3] = {
        OSSL_PARAM_octet_string(OSSL_CIPHER_PARAM_AEAD_TLS1_IV_FIXED, (void *)nonce, SIZE_MAX),
        OSSL_PARAM_END, OSSL_PARAM_END};
    if (tag)
        p[1] = (OSSL_PARAM)OSSL_PARAM_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, (void *)tag,
                                                   AEAD_TAG_LEN);
    if (EVP_CIPHER_CTX_set_params(x, p))
        return true;
    ci_clear_errors();
    a->iv_by_param = false;
    return false;
}

/* Common start of seal and open: nonce, (CCM) length, AAD. */
static bool start(struct aead *a, int enc, const uint8_t *nonce, const uint8_t *aad, size_t aadlen,
                  size_t len, const uint8_t *tag)
{
    EVP_CIPHER_CTX *x = a->ctx[enc];
    int outl;
    if (a->iv_by_param && set_iv_param(a, x, nonce, tag)) {
        tag = NULL; /* set */
    } else if (!EVP_CipherInit_ex2(x, NULL, NULL, nonce, enc, NULL)) {
        return false;
    }
    if (tag) {
        /* The parameter directly rather than through EVP_CIPHER_CTX_ctrl(): one
         * translation less per packet (issue 18). */
        OSSL_PARAM p[2] = {
            OSSL_PARAM_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, (void *)tag, AEAD_TAG_LEN),
            OSSL_PARAM_END};
        if (!EVP_CIPHER_CTX_set_params(x, p))
            return false;
    }
    /* CCM needs the message length before the AAD. */
    if (a->ccm && !EVP_CipherUpdate(x, NULL, &outl, NULL, (int)len))
        return false;
    if (aadlen && !EVP_CipherUpdate(x, NULL, &outl, aad, (int)aadlen))
        return false;
    return true;
}

int aead_seal(struct aead *a, const uint8_t nonce[static AEAD_NONCE_LEN], const uint8_t *aad,
              size_t aadlen, const uint8_t *in, uint8_t *out, size_t len,
              uint8_t tag[static AEAD_TAG_LEN])
{
    if (len > AEAD_MAX_LEN || aadlen > AEAD_AAD_MAX || !a->ctx[1])
        return CRYPTO_EINVAL;
    int outl = 0, fl = 0;
    if (!start(a, 1, nonce, aad, aadlen, len, NULL))
        goto fail;
    /* CCM must see the payload call even when it is empty, with non-NULL
     * pointers (NULL in and non-NULL out means "final" to OpenSSL). */
    uint8_t dummy[1];
    if (len == 0)
        in = out = dummy;
    if ((len || a->ccm) && !EVP_CipherUpdate(a->ctx[1], out, &outl, in, (int)len))
        goto fail;
    if (!EVP_CipherFinal_ex(a->ctx[1], out + outl, &fl) || (size_t)(outl + fl) != len)
        goto fail;
    OSSL_PARAM p[2] = {OSSL_PARAM_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, tag, AEAD_TAG_LEN),
                       OSSL_PARAM_END};
    if (!EVP_CIPHER_CTX_get_params(a->ctx[1], p))
        goto fail;
    return CRYPTO_OK;
fail:
    ci_clear_errors();
    return CRYPTO_ELIB;
}

int aead_open(struct aead *a, const uint8_t nonce[static AEAD_NONCE_LEN], const uint8_t *aad,
              size_t aadlen, const uint8_t *in, uint8_t *out, size_t len,
              const uint8_t tag[static AEAD_TAG_LEN])
{
    if (len > AEAD_MAX_LEN || aadlen > AEAD_AAD_MAX || !a->ctx[0])
        return CRYPTO_EINVAL;
    int outl = 0, fl = 0, rc = CRYPTO_ELIB;
    if (!start(a, 0, nonce, aad, aadlen, len, tag))
        goto fail;
    /* CCM verifies the tag inside this call; GCM in the final call. */
    uint8_t dummy[1];
    if (len == 0)
        in = out = dummy;
    if ((len || a->ccm) && !EVP_CipherUpdate(a->ctx[0], out, &outl, in, (int)len)) {
        rc = a->ccm ? CRYPTO_EAUTH : CRYPTO_ELIB;
        goto fail;
    }
    if (!a->ccm &&
        (!EVP_CipherFinal_ex(a->ctx[0], out + outl, &fl) || (size_t)(outl + fl) != len)) {
        rc = CRYPTO_EAUTH;
        goto fail;
    }
    return CRYPTO_OK;
fail:
    if (len)
        OPENSSL_cleanse(out, len);
    ci_clear_errors();
    return rc;
}

void aead_nonce_v5(uint8_t nonce[static AEAD_NONCE_LEN], const uint8_t iv[static AEAD_NONCE_LEN],
                   uint64_t ctr)
{
    uint8_t c[8];
    be64_put(c, ctr);
    memcpy(nonce, iv, 4);
    for (int i = 0; i < 8; i++)
        nonce[4 + i] = iv[4 + i] ^ c[i];
}

void aead_nonce_v4(uint8_t nonce[static AEAD_NONCE_LEN], const uint8_t salt[static AEAD_SALT4_LEN],
                   uint32_t src_id, uint64_t ctr)
{
    uint8_t id[4];
    be32_put(id, src_id);
    for (int i = 0; i < 4; i++)
        nonce[i] = salt[i] ^ id[i];
    be64_put(nonce + 4, ctr);
}

/*
 * Usage limits (issue 4), after RFC 9001 §6.6 and appendix B, with a target
 * attacker advantage of 2^-57 for both confidentiality and integrity.
 *
 * l is the number of 16-byte blocks the block cipher processes per packet:
 * ceil(p/16) for the plaintext, 2 for the 28-byte AAD (30 with CCM's length
 * prefix) and 1 for the tag counter block (GCM J0, CCM B0), so
 * l = ceil(p/16) + 3. RFC 9001 assumes 2^16-byte packets (l = 2^12); UFTP's
 * packets are at most a few KiB, so the limits are correspondingly higher.
 *
 * AES-GCM, B.1.1 (GCM-MU Thm 4.3): 2 (q l)^2 / 2^128 <= 2^-57  =>  q <= 2^35 / l.
 * AES-GCM, B.1.2: the dominant term n (v + v l) / 2^k <= 2^-57 gives
 *   v <= 2^64 / l for AES-128. AES-256 would allow 2^192 / l; like RFC 9001 we
 *   apply the AES-128 figure to both.
 * AES-CCM, B.2 (CCM-ANALYSIS Thm 1, which dominates Thm 2):
 *   (2 l (v + q))^2 / 2^128 <= 2^-57  =>  v + q <= 2^34.5 / l; split evenly,
 *   q = v = 2^33.5 / l.
 *
 * Examples (p = block size + 16 for the FILESEG header and TFMCC extension):
 *   1300: l = 86,  GCM q = 399531841, v = 214497024112901762, CCM q = v = 141255837
 *   8800: l = 554, GCM q = 62021188,  v = 33297371974204966,  CCM q = v = 21927801
 * i.e. a GCM session key is spent after ~520 GB at 1300-byte blocks.
 */
int aead_limits(int keytype, size_t max_plaintext_len, uint64_t *max_encrypt, uint64_t *max_forgery)
{
    if (!aead_supported(keytype) || max_plaintext_len == 0 || max_plaintext_len > AEAD_MAX_LEN)
        return CRYPTO_EINVAL;
    uint64_t l = (max_plaintext_len + 15) / 16 + 3;
    if (keytype == KEY_AES128_GCM || keytype == KEY_AES256_GCM) {
        *max_encrypt = (UINT64_C(1) << 35) / l;
        *max_forgery = UINT64_MAX / l; /* 2^64 / l, rounded down */
    } else {
        const uint64_t two_33_5 = UINT64_C(12148001999); /* floor(2^33.5) */
        *max_encrypt = two_33_5 / l;
        *max_forgery = two_33_5 / l;
    }
    return CRYPTO_OK;
}
