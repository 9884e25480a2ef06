#include "core/proto/keysched.h"

#include <string.h>

#include "core/wire/buf.h"
#include "core/wire/wire.h"

/*
 * Copies a message header of hdrlen bytes whose length is in its byte 1 (in
 * words) and zeroes siglen bytes at sigoff. The type byte and every length
 * must agree with hdrlen, so a context never includes bytes it should not.
 */
static int copy_zeroed(struct wbuf *w, const uint8_t *hdr, size_t hdrlen, uint8_t type,
                       size_t sigoff, size_t siglen)
{
    if (hdrlen < 2 || hdrlen > KEYSCHED_HDR_MAX || hdr[0] != type || (size_t)hdr[1] * 4 != hdrlen ||
        sigoff > hdrlen || siglen > hdrlen - sigoff)
        return WIRE_EHLEN;
    uint8_t *dst = wb_reserve(w, hdrlen);
    if (!dst)
        return WIRE_ENOSPC;
    memcpy(dst, hdr, hdrlen);
    memset(dst + sigoff, 0, siglen);
    return 0;
}

ssize_t keysched_s_ctx(uint8_t *out, size_t cap, uint32_t group_id, uint8_t group_inst,
                       uint32_t server_id, const uint8_t *ext, size_t extlen)
{
    /* EXT_ENC_INFO: 44 fixed bytes; key, ECDH and signature lengths at 6/8/10. */
    if (!ext || extlen < 44)
        return WIRE_EHLEN;
    size_t kl = be16_get(ext + 6), dl = be16_get(ext + 8), sl = be16_get(ext + 10);
    struct wbuf w = wb_init(out, cap);
    wb_u32(&w, group_id);
    wb_u8(&w, group_inst);
    wb_u32(&w, server_id);
    if (w.err)
        return WIRE_ENOSPC;
    int rc = copy_zeroed(&w, ext, extlen, EXT_ENC_INFO, 44 + kl + dl, sl);
    return rc ? rc : (ssize_t)w.off;
}

ssize_t keysched_p_ctx(uint8_t *out, size_t cap, uint32_t proxy_id, const uint8_t *hdr,
                       size_t hdrlen)
{
    /* v5 PROXY_KEY: func, hlen, bloblen (2), dhlen (2), siglen (2), blobs, sig. */
    if (!hdr || hdrlen < 8)
        return WIRE_EHLEN;
    size_t bl = be16_get(hdr + 2), dl = be16_get(hdr + 4), sl = be16_get(hdr + 6);
    struct wbuf w = wb_init(out, cap);
    wb_u32(&w, proxy_id);
    if (w.err)
        return WIRE_ENOSPC;
    int rc = copy_zeroed(&w, hdr, hdrlen, PROXY_KEY, 8 + bl + dl, sl);
    return rc ? rc : (ssize_t)w.off;
}

ssize_t keysched_c_ctx1(uint8_t *out, size_t cap, const uint8_t *s_ctx, size_t slen,
                        const uint8_t *p_ctx, size_t plen, uint32_t client_id, const uint8_t *dh,
                        size_t dhlen, const uint8_t rand2[static KEYSCHED_RAND_LEN])
{
    if (!s_ctx || slen == 0 || slen > KEYSCHED_S_CTX_MAX || plen > KEYSCHED_P_CTX_MAX ||
        (plen && !p_ctx) || !dh || dhlen == 0 || dhlen > KEYSCHED_HDR_MAX)
        return WIRE_EINVAL;
    struct wbuf w = wb_init(out, cap);
    wb_bytes(&w, s_ctx, slen);
    wb_bytes(&w, p_ctx, plen);
    wb_u32(&w, client_id);
    wb_bytes(&w, dh, dhlen);
    wb_bytes(&w, rand2, KEYSCHED_RAND_LEN);
    return w.err ? WIRE_ENOSPC : (ssize_t)w.off;
}

ssize_t keysched_c_ctx2(uint8_t *out, size_t cap, const uint8_t *c_ctx1, size_t c1len,
                        const uint8_t *ckhdr, size_t cklen)
{
    if (!c_ctx1 || c1len == 0 || c1len > KEYSCHED_C_CTX1_MAX)
        return WIRE_EINVAL;
    struct wbuf w = wb_init(out, cap);
    wb_bytes(&w, c_ctx1, c1len);
    if (w.err)
        return WIRE_ENOSPC;
    if (!ckhdr || cklen == 0)
        return (ssize_t)w.off;
    /* CLIENT_KEY: func, hlen, reserved (2), bloblen (2), siglen (2), blob, sig. */
    if (cklen < 8)
        return WIRE_EHLEN;
    size_t bl = be16_get(ckhdr + 4), sl = be16_get(ckhdr + 6);
    int rc = copy_zeroed(&w, ckhdr, cklen, CLIENT_KEY, 8 + bl, sl);
    return rc ? rc : (ssize_t)w.off;
}

ssize_t keysched_v4_verify_ctx(uint8_t *out, size_t cap, uint32_t group_id, const uint8_t *addr,
                               size_t addrlen, const uint8_t rand1[static KEYSCHED_RAND_LEN],
                               const uint8_t rand2[static KEYSCHED_RAND_LEN],
                               const uint8_t *premaster, size_t plen, const uint8_t *blob,
                               size_t bloblen, const uint8_t *gm48)
{
    if (!addr || (addrlen != 4 && addrlen != 16) || !premaster || plen == 0 || plen > 64 ||
        (bloblen && !blob) || bloblen > 392)
        return WIRE_EINVAL;
    struct wbuf w = wb_init(out, cap);
    wb_u32(&w, group_id);
    wb_bytes(&w, addr, addrlen);
    wb_bytes(&w, rand1, KEYSCHED_RAND_LEN);
    wb_bytes(&w, rand2, KEYSCHED_RAND_LEN);
    wb_bytes(&w, premaster, plen);
    wb_bytes(&w, blob, bloblen);
    if (gm48)
        wb_bytes(&w, gm48, 48);
    return w.err ? WIRE_ENOSPC : (ssize_t)w.off;
}
