#include "core/crypto/crypto_int.h"

#include <string.h>

#include "core/crypto/prf.h"

int prf_v4(int hashtype, const uint8_t *secret, size_t secretlen, const char *label,
           const uint8_t *seed, size_t seedlen, uint8_t *out, size_t outlen)
{
    size_t hl = crypto_hash_len(hashtype);
    size_t ll = strlen(label);
    if (!hl || ll > PRF_LABEL_MAX || seedlen > PRF_SEED_MAX || outlen > PRF_OUT_MAX)
        return CRYPTO_EINVAL;

    uint8_t a[CRYPTO_HASH_MAX], blk[CRYPTO_HASH_MAX];
    struct crypto_iov first[2] = {{label, ll}, {seed, seedlen}};
    int rc = crypto_hmacv(hashtype, secret, secretlen, first, 2, a);
    size_t done = 0;
    while (rc == CRYPTO_OK && done < outlen) {
        struct crypto_iov v[3] = {{a, hl}, {label, ll}, {seed, seedlen}};
        rc = crypto_hmacv(hashtype, secret, secretlen, v, 3, blk);
        if (rc)
            break;
        size_t n = outlen - done < hl ? outlen - done : hl;
        memcpy(out + done, blk, n);
        done += n;
        /* spec §1.9: the next A is this output block (UFTP chaining). */
        memcpy(a, blk, hl);
    }
    crypto_wipe(a, sizeof(a));
    crypto_wipe(blk, sizeof(blk));
    return rc;
}
