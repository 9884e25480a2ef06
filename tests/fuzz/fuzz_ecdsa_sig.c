/*
 * Fuzzes the ECDSA r/s parser and the DER converter (spec §1.3). The first
 * byte picks the curve size and the direction; a wire signature that parses
 * must survive a round trip through DER, and verifying arbitrary bytes
 * against a fixed key must fail cleanly.
 */
#include <string.h>

#include "core/crypto/crypto.h"
#include "core/crypto/ecdh.h"
#include "core/crypto/keyblob.h"
#include "core/crypto/sig.h"
#include "core/wire/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct crypto_key *keys[3];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const int curves[3] = {CURVE_P256, CURVE_P384, CURVE_P521};
    if (size < 1)
        return 0;
    int ci = data[0] % 3;
    size_t coord = keyblob_coord_len(curves[ci]);
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    uint8_t der[SIG_DER_MAX], rs[4 + 2 * 66], der2[SIG_DER_MAX];
    if (data[0] & 0x80) {
        int rl = sig_ecdsa_der_to_rs(p, n, coord, rs, sizeof(rs));
        if (rl >= 0 && (size_t)rl != 4 + 2 * coord)
            __builtin_trap();
        return 0;
    }
    int dl = sig_ecdsa_rs_to_der(p, n, coord, der, sizeof(der));
    if (dl >= 0) {
        int rl = sig_ecdsa_der_to_rs(der, (size_t)dl, coord, rs, sizeof(rs));
        if (rl != (int)(4 + 2 * coord))
            __builtin_trap();
        int dl2 = sig_ecdsa_rs_to_der(rs, (size_t)rl, coord, der2, sizeof(der2));
        if (dl2 != dl || memcmp(der, der2, (size_t)dl) != 0)
            __builtin_trap();
    }
    if (!keys[ci] && ecdh_keygen(curves[ci], &keys[ci]) != CRYPTO_OK)
        __builtin_trap();
    struct crypto_iov m = {data, size};
    if (n <= SIG_MAX && sig_verify(keys[ci], HASH_SHA256, &m, 1, p, n) == CRYPTO_OK)
        __builtin_trap();
    return 0;
}
