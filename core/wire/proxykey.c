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
    struct rbuf h, b;
    int rc = MSG_BEGIN(m, p, len, PROXY_KEY, proxy_key_fixed(m->ver), &h, &b);
    if (rc)
        return rc;
    m->keylen = rb_u16(&h);
    m->dhlen = rb_u16(&h);
    m->siglen = rb_u16(&h);
    if (m->ver == UFTP_VER4)
        m->nonce = rb_u32(&h);
    if ((size_t)m->keylen + m->dhlen + m->siglen > rb_left(&h))
        return WIRE_ECOUNT;
    m->keyblob = rb_ptr(&h, m->keylen);
    m->dhblob = rb_ptr(&h, m->dhlen);
    m->sig = rb_ptr(&h, m->siglen);
    rb_pad4(&h, &m->lossy);
    return msg_end(&h, &b, &m->lossy, NULL, len);
}

ssize_t wire_proxy_key_encode(uint8_t *out, size_t cap, const struct wire_proxy_key *m)
{
    if (!ver_ok(m->ver))
        return WIRE_EVERSION;
    size_t hl = pad4(proxy_key_fixed(m->ver) + (size_t)m->keylen + m->dhlen + m->siglen);
    if (hl > WIRE_MAX_HLEN || (m->ver == UFTP_VER5 && m->nonce))
        return WIRE_EINVAL;
    struct wbuf w = wb_msg(out, cap, PROXY_KEY, hl);
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
    MSG_CLEAR(m);
    if (m->ver != UFTP_VER4)
        return WIRE_EVERSION;
    struct rbuf h, b;
    int rc = msg_open(p, len, KEY_REQ, m->ver, KEY_REQ_FIXED, &h, &b);
    if (rc)
        return rc;
    rb_rsv(&h, 2, &m->lossy);
    return msg_end(&h, &b, &m->lossy, NULL, len);
}

ssize_t wire_key_req_encode(uint8_t *out, size_t cap, const struct wire_key_req *m)
{
    if (m->ver != UFTP_VER4)
        return WIRE_EVERSION;
    struct wbuf w = wb_msg(out, cap, KEY_REQ, KEY_REQ_FIXED);
    wb_u16(&w, 0);
    return wb_result(&w);
}
