/*
 * Fuzzes the key-schedule context builders (spec §1.8), which copy and
 * zero parts of received EXT_ENC_INFO, PROXY_KEY and CLIENT_KEY headers.
 */
#include <string.h>

#include "core/proto/keysched.h"
#include "core/wire/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t s[KEYSCHED_S_CTX_MAX], p[KEYSCHED_P_CTX_MAX], c1[KEYSCHED_C_CTX1_MAX],
        c2[KEYSCHED_C_CTX2_MAX];
    static const uint8_t rand2[KEYSCHED_RAND_LEN];
    if (size < 1)
        return 0;
    size_t cut = data[0] * size / 256;
    const uint8_t *a = data + 1, *b = data + 1 + cut;
    size_t al = cut > size - 1 ? size - 1 : cut, bl = size - 1 - al;
    ssize_t sl = keysched_s_ctx(s, sizeof(s), 1, 2, 3, a, al);
    if (sl > 0 && (size_t)sl != 9 + al)
        __builtin_trap();
    ssize_t pl = keysched_p_ctx(p, sizeof(p), 4, b, bl);
    if (pl > 0 && (size_t)pl != 4 + bl)
        __builtin_trap();
    if (sl <= 0)
        return 0;
    ssize_t l1 = keysched_c_ctx1(c1, sizeof(c1), s, (size_t)sl, pl > 0 ? p : NULL,
                                 pl > 0 ? (size_t)pl : 0, 5, a, al ? al : 1, rand2);
    if (l1 <= 0)
        return 0;
    ssize_t l2 = keysched_c_ctx2(c2, sizeof(c2), c1, (size_t)l1, b, bl);
    if (l2 > 0 && (size_t)l2 != (size_t)l1 + bl && !(bl == 0 && l2 == l1))
        __builtin_trap();
    return 0;
}
