/*
 * Fuzzes the receive pipeline's entry point, wire_datagram_decode (the
 * common header, then the ENCRYPTED framing or any cleartext message), and
 * checks the codec's contract on everything it accepts:
 *  - the whole input is consumed;
 *  - whatever decodes encodes again (never WIRE_EINVAL);
 *  - a non-lossy decode re-encodes to the identical bytes (canonical);
 *  - a lossy one re-encodes to something no longer, that decodes non-lossy
 *    and re-encodes to itself;
 *  - one byte less of output capacity gives WIRE_ENOSPC.
 * An ENCRYPTED payload is also fed to the message decoder, as a decrypted
 * payload would be.
 */
#include "core/wire/msg.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t out[70000], out2[70000];

static void check_msg(uint8_t ver, const uint8_t *p, size_t n)
{
    static struct wire_msg m, m2;
    ssize_t r = wire_msg_decode(&m, ver, p, n);
    if (r < 0)
        return;
    if ((size_t)r != n)
        __builtin_trap();
    ssize_t e = wire_msg_encode(out, sizeof(out), &m);
    if (e < 0)
        __builtin_trap();
    if (!wire_msg_lossy(&m)) {
        if ((size_t)e != n || memcmp(out, p, n) != 0)
            __builtin_trap();
        return;
    }
    if ((size_t)e > n || wire_msg_decode(&m2, ver, out, (size_t)e) != e || wire_msg_lossy(&m2) ||
        wire_msg_encode(out2, sizeof(out2), &m2) != e || memcmp(out, out2, (size_t)e) != 0)
        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct wire_datagram d, d2;
    ssize_t n = wire_datagram_decode(&d, data, size);
    if (n < 0)
        return 0;
    if ((size_t)n != size)
        __builtin_trap();
    ssize_t e = wire_datagram_encode(out, sizeof(out), &d);
    if (e < 0)
        __builtin_trap();
    if (!wire_datagram_lossy(&d)) {
        if (e != n || memcmp(out, data, size) != 0)
            __builtin_trap();
    } else {
        if (e > n || wire_datagram_decode(&d2, out, (size_t)e) != e || wire_datagram_lossy(&d2) ||
            wire_datagram_encode(out2, sizeof(out2), &d2) != e || memcmp(out, out2, (size_t)e) != 0)
            __builtin_trap();
    }
    if (wire_datagram_encode(out2, (size_t)e - 1, &d) != WIRE_ENOSPC)
        __builtin_trap();
    if (d.hdr.func == ENCRYPTED)
        check_msg(d.hdr.version, d.enc.payload, d.enc.payload_len);
    return 0;
}
