/*
 * Fuzzes wire_msg_decode directly: the entry point for a decrypted
 * ENCRYPTED payload (which starts at the func byte, with no UFTP header).
 * The first input byte picks the version (odd: v4), the rest is the message.
 * Same contract checks as fuzz_datagram.
 */
#include "core/wire/msg.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct wire_msg m, m2;
    static uint8_t out[70000], out2[70000];
    if (size < 1)
        return 0;
    uint8_t ver = (data[0] & 1) ? UFTP_VER4 : UFTP_VER5;
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    ssize_t r = wire_msg_decode(&m, ver, p, n);
    if (r < 0)
        return 0;
    if ((size_t)r != n || m.func != p[0])
        __builtin_trap();
    ssize_t e = wire_msg_encode(out, sizeof(out), &m);
    if (e < 0)
        __builtin_trap();
    if (!wire_msg_lossy(&m)) {
        if ((size_t)e != n || memcmp(out, p, n) != 0)
            __builtin_trap();
    } else if ((size_t)e > n || wire_msg_decode(&m2, ver, out, (size_t)e) != e ||
               wire_msg_lossy(&m2) || wire_msg_encode(out2, sizeof(out2), &m2) != e ||
               memcmp(out, out2, (size_t)e) != 0) {
        __builtin_trap();
    }
    if (wire_msg_encode(out2, (size_t)e - 1, &m) != WIRE_ENOSPC)
        __builtin_trap();
    return 0;
}
