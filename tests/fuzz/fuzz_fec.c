/*
 * Fuzzes the FEC family (issue 17). The first byte picks the target:
 *   0  wire_fec_info_decode: the codec contract of fuzz_msg (exact re-encode
 *      unless lossy; a lossy decode re-encodes to a stable shorter form).
 *   1  fec_decode on symbols chosen by the input: k, the parity ids sent,
 *      which symbols survive; sources come from the input. Whenever k
 *      symbols survive the rebuilt blocks must be the originals, otherwise
 *      FEC_ESHORT; nothing else is acceptable.
 *   2  fec_rx: a sequence of add / source / release / reduce operations on
 *      a small store, checked against its invariants (held < missing for
 *      every stored FEC block, slots in use ≤ slots).
 * FEC_PARITY itself and the extension inside ANNOUNCE / REGISTER / STATUS
 * go through fuzz_msg and fuzz_datagram (their seeds include them).
 */
#include "core/fec/fec.h"
#include "core/fec/fecrx.h"
#include "core/wire/fec.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void ext(const uint8_t *p, size_t n)
{
    struct wire_fec_info e, e2;
    uint8_t out[16], out2[16];
    ssize_t r = wire_fec_info_decode(&e, p, n);
    if (r < 0)
        return;
    if ((size_t)r > n || (size_t)r != (size_t)p[1] * 4)
        __builtin_trap();
    ssize_t w = wire_fec_info_encode(out, sizeof(out), &e);
    if (w != WIRE_FEC_INFO_LEN)
        __builtin_trap();
    if (!e.lossy) {
        if ((size_t)r != WIRE_FEC_INFO_LEN || memcmp(out, p, 8) != 0)
            __builtin_trap();
    } else if (wire_fec_info_decode(&e2, out, 8) != 8 || e2.lossy ||
               wire_fec_info_encode(out2, sizeof(out2), &e2) != 8 || memcmp(out, out2, 8) != 0) {
        __builtin_trap();
    }
}

enum { LEN = 24 };

static struct fec_codec *codec;

static void code(const uint8_t *p, size_t n)
{
    if (n < 4)
        return;
    unsigned k = p[0] % 40 + 1, room = fec_max_parity(k);
    unsigned m = p[1] % 40 + 1;
    if (m > room)
        m = room;
    unsigned first = p[2] % (room - m + 1);
    p += 3, n -= 3;
    static uint8_t src[40][LEN], par[40][LEN], outb[40][LEN];
    for (unsigned j = 0; j < k; j++)
        for (unsigned i = 0; i < LEN; i++)
            src[j][i] = n ? p[(j * LEN + i) % n] : 0;
    const uint8_t *s[40];
    uint8_t *pp[40], *out[40];
    for (unsigned i = 0; i < 40; i++)
        s[i] = src[i], pp[i] = par[i], out[i] = outb[i];
    if (fec_encode(codec, k, first, m, LEN, s, pp) != 0)
        __builtin_trap();
    /* Survivors: bit j of the input bytes (after the data seed) keeps symbol j. */
    const uint8_t *in[80];
    uint8_t ids[80], missing[40];
    unsigned cnt = 0;
    for (unsigned j = 0; j < k + m; j++) {
        bool keep = n == 0 || (p[(j / 8) % n] >> (j % 8) & 1);
        if (!keep)
            continue;
        if (j < k)
            in[cnt] = src[j], ids[cnt++] = (uint8_t)j;
        else
            in[cnt] = par[j - k], ids[cnt++] = (uint8_t)(k + first + j - k);
    }
    int e = fec_decode(codec, k, LEN, in, ids, cnt, out, missing);
    if (cnt < k) {
        if (e != FEC_ESHORT)
            __builtin_trap();
        return;
    }
    if (e < 0)
        __builtin_trap();
    for (int i = 0; i < e; i++)
        if (memcmp(out[i], src[missing[i]], LEN) != 0)
            __builtin_trap();
}

static void rx_ops(const uint8_t *p, size_t n)
{
    struct fec_rx *rx;
    if (fec_rx_new(&rx, 5, 16) != 0)
        __builtin_trap();
    struct fec_layout l;
    if (fec_layout_init(&l, 200, 20, 3) != 0)
        __builtin_trap();
    uint8_t blk[16] = {0}, naks[25];
    for (size_t i = 0; i + 4 <= n; i += 4) {
        uint16_t sec = p[i + 1] & 1, fb = p[i + 2] % 12;
        unsigned k = p[i] >> 2 & 1 ? 20 : p[i + 3] % 30;
        switch (p[i] & 3) {
        case 0: {
            unsigned missing = p[i + 3] % 21;
            int r = fec_rx_add(rx, sec, fb, k, p[i + 3] % 8, missing, blk);
            if (r == FEC_RX_DECODE && !fec_rx_decodable(rx, sec, fb, missing))
                __builtin_trap();
            if (r == FEC_RX_HELD && fec_rx_held(rx, sec, fb) >= missing)
                __builtin_trap();
            break;
        }
        case 1:
            if (fec_rx_source(rx, sec, fb, p[i + 3] % 21) > p[i + 3] % 21)
                __builtin_trap();
            break;
        case 2:
            fec_rx_release(rx, sec, fb);
            if (fec_rx_held(rx, sec, fb) != 0)
                __builtin_trap();
            break;
        default:
            memset(naks, p[i + 3], sizeof(naks));
            fec_rx_reduce_naks(rx, sec, &l, naks, sizeof(naks));
            break;
        }
        if (fec_rx_used(rx) > fec_rx_slots(rx))
            __builtin_trap();
    }
    fec_rx_free(rx);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    if (codec == NULL && fec_codec_new(&codec) != 0)
        __builtin_trap();
    switch (data[0] % 3) {
    case 0:
        ext(data + 1, size - 1);
        break;
    case 1:
        code(data + 1, size - 1);
        break;
    default:
        rx_ops(data + 1, size - 1);
        break;
    }
    return 0;
}
