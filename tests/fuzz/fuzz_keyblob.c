/*
 * Fuzzes the key-blob importer (spec §1.3): any accepted blob must export
 * back to exactly the input, and must be usable to verify (and fail) a
 * signature without misbehaving.
 */
#include <string.h>

#include "core/crypto/crypto.h"
#include "core/crypto/fp.h"
#include "core/crypto/keyblob.h"
#include "core/crypto/sig.h"
#include "core/wire/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct crypto_key *k = NULL;
    if (keyblob_import(data, size, 0, &k) != CRYPTO_OK) {
        if (k)
            __builtin_trap();
        return 0;
    }
    size_t len;
    const uint8_t *b = crypto_key_blob(k, &len);
    uint8_t out[KEYBLOB_MAX], fp[FP_LEN];
    if (len != size || memcmp(b, data, size) != 0 ||
        keyblob_export(k, out, sizeof(out)) != (int)size || fp_compute(b, len, fp) != CRYPTO_OK ||
        sig_len(k) > SIG_MAX)
        __builtin_trap();
    /* A signature made of the blob's own bytes must not verify. */
    struct crypto_iov m = {data, size};
    uint8_t sig[SIG_MAX] = {0};
    size_t sl = sig_len(k);
    memcpy(sig, data, size < sl ? size : sl);
    if (sig_verify(k, HASH_SHA256, &m, 1, sig, sl) == CRYPTO_OK)
        __builtin_trap();
    crypto_key_free(k);
    return 0;
}
