/*
 * Fuzzes the standalone EXT_ENC_INFO decoder (used for S_ctx, spec §1.8).
 * First byte: version (odd: v4); the rest: the extension bytes.
 */
#include "core/wire/announce.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t out[2048];
    if (size < 1)
        return 0;
    struct wire_enc_info e = {.ver = (data[0] & 1) ? UFTP_VER4 : UFTP_VER5};
    ssize_t r = wire_enc_info_decode(&e, data + 1, size - 1);
    if (r < 0)
        return 0;
    /* Consumes exactly extlen*4 bytes, within the input. */
    if ((size_t)r > size - 1 || (size_t)r != (size_t)data[2] * 4 || e.raw != data + 1 ||
        e.raw_len != (size_t)r)
        __builtin_trap();
    ssize_t w = wire_enc_info_encode(out, sizeof(out), &e);
    if (w != r)
        __builtin_trap();
    if (!e.lossy && memcmp(out, data + 1, (size_t)r) != 0)
        __builtin_trap();
    return 0;
}
