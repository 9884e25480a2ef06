/* Fuzzes the common header decoder. */
#include "core/wire/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct uftp_hdr h;
    ssize_t n = uftp_hdr_decode(&h, data, size);
    if (n > 0) {
        uint8_t out[UFTP_HDR_LEN];
        if (uftp_hdr_encode(out, sizeof(out), &h) != UFTP_HDR_LEN)
            __builtin_trap();
    }
    return 0;
}
