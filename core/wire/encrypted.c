/* ENCRYPTED framing (spec §1.4, §1.9). */
#include "core/wire/encrypted.h"

#include "core/wire/wire_int.h"

ssize_t wire_encrypted_decode(struct wire_encrypted *m, const uint8_t *p, size_t len)
{
    MSG_CLEAR(m);
    uint8_t ver = m->ver;
    if (!ver_ok(ver))
        return WIRE_EVERSION;
    struct rbuf r = rb_init(p, len);
    m->iv_ctr = rb_u64(&r);
    if (ver == UFTP_VER4)
        m->siglen = rb_u16(&r);
    else
        rb_rsv(&r, 2, &m->lossy);
    m->payload_len = rb_u16(&r);
    if (r.err)
        return WIRE_ETRUNC;
    /* spec §1.4: the length must be exactly 12 + siglen + payload length. */
    size_t need = (size_t)m->siglen + m->payload_len;
    if (rb_left(&r) < need)
        return WIRE_ETRUNC;
    if (rb_left(&r) > need)
        return WIRE_ETRAIL;
    m->sig = m->siglen ? rb_ptr(&r, m->siglen) : NULL;
    m->payload = rb_ptr(&r, m->payload_len);
    return (ssize_t)len;
}

ssize_t wire_encrypted_encode(uint8_t *out, size_t cap, const struct wire_encrypted *m)
{
    if (!ver_ok(m->ver))
        return WIRE_EVERSION;
    if (m->ver == UFTP_VER5 && m->siglen)
        return WIRE_EINVAL;
    struct wbuf w = wb_init(out, cap);
    wb_u64(&w, m->iv_ctr);
    wb_u16(&w, m->siglen);
    wb_u16(&w, m->payload_len);
    wb_blob(&w, m->sig, m->siglen);
    if (m->payload && m->payload != out + w.off)
        wb_bytes(&w, m->payload, m->payload_len);
    else
        (void)wb_reserve(&w, m->payload_len); /* in place */
    return wb_result(&w);
}
