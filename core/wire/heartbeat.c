/* HB_REQ and HB_RESP (spec §1.4). */
#include "core/wire/heartbeat.h"

#include "core/wire/wire_int.h"

#define HB_REQ_FIXED  12
#define HB_RESP_FIXED 8

ssize_t wire_hb_req_decode(struct wire_hb_req *m, const uint8_t *p, size_t len)
{
    struct rbuf h, b;
    int rc = MSG_BEGIN(m, p, len, HB_REQ, HB_REQ_FIXED, &h, &b);
    if (rc)
        return rc;
    rb_rsv(&h, 2, &m->lossy);
    m->keylen = rb_u16(&h);
    m->siglen = rb_u16(&h);
    m->nonce = rb_u32(&h);
    if ((size_t)m->keylen + m->siglen > rb_left(&h))
        return WIRE_ECOUNT;
    m->keyblob = rb_ptr(&h, m->keylen);
    m->sig = rb_ptr(&h, m->siglen);
    rb_pad4(&h, &m->lossy);
    return msg_end(&h, &b, &m->lossy, NULL, len);
}

ssize_t wire_hb_req_encode(uint8_t *out, size_t cap, const struct wire_hb_req *m)
{
    if (!ver_ok(m->ver))
        return WIRE_EVERSION;
    size_t hl = pad4(HB_REQ_FIXED + (size_t)m->keylen + m->siglen);
    if (hl > WIRE_MAX_HLEN)
        return WIRE_EINVAL;
    struct wbuf w = wb_msg(out, cap, HB_REQ, hl);
    wb_u16(&w, 0);
    wb_u16(&w, m->keylen);
    wb_u16(&w, m->siglen);
    wb_u32(&w, m->nonce);
    wb_blob(&w, m->keyblob, m->keylen);
    wb_blob(&w, m->sig, m->siglen);
    wb_pad4(&w);
    return wb_result(&w);
}

ssize_t wire_hb_resp_decode(struct wire_hb_resp *m, const uint8_t *p, size_t len)
{
    struct rbuf h, b;
    int rc = MSG_BEGIN(m, p, len, HB_RESP, HB_RESP_FIXED, &h, &b);
    if (rc)
        return rc;
    m->auth = rb_u8(&h);
    rb_rsv(&h, 1, &m->lossy);
    m->nonce = rb_u32(&h);
    return msg_end(&h, &b, &m->lossy, NULL, len);
}

ssize_t wire_hb_resp_encode(uint8_t *out, size_t cap, const struct wire_hb_resp *m)
{
    if (!ver_ok(m->ver))
        return WIRE_EVERSION;
    struct wbuf w = wb_msg(out, cap, HB_RESP, HB_RESP_FIXED);
    wb_u8(&w, m->auth);
    wb_u8(&w, 0);
    wb_u32(&w, m->nonce);
    return wb_result(&w);
}
