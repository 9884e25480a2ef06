/* PROXY_KEY (v5 and v4) and KEY_REQ (v4), spec §1.4, §1.9. */
#include "core/wire/proxykey.h"

#include "core/wire/wire_int.h"

#define PROXY_KEY_FIXED    8
#define PROXY_KEY_V4_FIXED 12
#define KEY_REQ_FIXED      4

static size_t proxy_key_fixed(uint8_t ver)
{
    return ver == UFTP_VER4 ? PROXY_KEY_V4_FIXED : PROXY_KEY_FIXED;
}

ssize_t wire_proxy_key_decode(struct wire_proxy_key *m, const uint8_t *p, size_t len)
{
    uint8_t ver = m->ver;
    memset(m, 0, sizeof(*m));
    m->ver = ver;
    struct rbuf h, b;
    int rc = msg_open(p, len, PROXY_KEY, ver, proxy_key_fixed(ver), &h, &b);
    if (rc)
        return rc;
    m->keylen = rb_u16(&h);
    m->dhlen = rb_u16(&h);
    m->siglen = rb_u16(&h);
    if (ver == UFTP_VER4)
        m->nonce = rb_u32(&h);
    if ((size_t)m->keylen + m->dhlen + m->siglen > rb_left(&h))
        return WIRE_ECOUNT;
    m->keyblob = rb_ptr(&h, m->keylen);
    m->dhblob = rb_ptr(&h, m->dhlen);
    m->sig = rb_ptr(&h, m->siglen);
    rb_pad4(&h, &m->lossy);
    if ((rc = ext_skip_all(&h, &m->lossy)) < 0)
        return rc;
    if ((rc = body_empty(&b)))
        return rc;
    return (ssize_t)len;
}

ssize_t wire_proxy_key_encode(uint8_t *out, size_t cap, const struct wire_proxy_key *m)
{
    if (!ver_ok(m->ver))
        return WIRE_EVERSION;
    size_t hl = pad4(proxy_key_fixed(m->ver) + (size_t)m->keylen + m->dhlen + m->siglen);
    if (hl > WIRE_MAX_HLEN || (m->ver == UFTP_VER5 && m->nonce))
        return WIRE_EINVAL;
    struct wbuf w = wb_init(out, cap);
    wb_u8(&w, PROXY_KEY);
    wb_u8(&w, (uint8_t)(hl / 4));
    wb_u16(&w, m->keylen);
    wb_u16(&w, m->dhlen);
    wb_u16(&w, m->siglen);
    if (m->ver == UFTP_VER4)
        wb_u32(&w, m->nonce);
    wb_blob(&w, m->keyblob, m->keylen);
    wb_blob(&w, m->dhblob, m->dhlen);
    wb_blob(&w, m->sig, m->siglen);
    wb_pad4(&w);
    return wb_result(&w);
}

ssize_t wire_key_req_decode(struct wire_key_req *m, const uint8_t *p, size_t len)
{
    uint8_t ver = m->ver;
    memset(m, 0, sizeof(*m));
    m->ver = ver;
    if (ver != UFTP_VER4)
        return WIRE_EVERSION;
    struct rbuf h, b;
    int rc = msg_open(p, len, KEY_REQ, ver, KEY_REQ_FIXED, &h, &b);
    if (rc)
        return rc;
    rb_rsv(&h, 2, &m->lossy);
    if ((rc = ext_skip_all(&h, &m->lossy)) < 0)
        return rc;
    if ((rc = body_empty(&b)))
        return rc;
    return (ssize_t)len;
}

ssize_t wire_key_req_encode(uint8_t *out, size_t cap, const struct wire_key_req *m)
{
    if (m->ver != UFTP_VER4)
        return WIRE_EVERSION;
    struct wbuf w = wb_init(out, cap);
    wb_u8(&w, KEY_REQ);
    wb_u8(&w, KEY_REQ_FIXED / 4);
    wb_u16(&w, 0);
    return wb_result(&w);
}
