/* ABORT (spec §1.4). */
#include "core/wire/abort.h"

#include "core/wire/wire_int.h"

ssize_t wire_abort_decode(struct wire_abort *m, const uint8_t *p, size_t len)
{
    struct rbuf h, b;
    int rc = MSG_BEGIN(m, p, len, ABORT, WIRE_ABORT_LEN, &h, &b);
    if (rc)
        return rc;
    m->flags = rb_u8(&h);
    rb_rsv(&h, 1, &m->lossy);
    m->host = rb_u32(&h);
    const uint8_t *t = rb_ptr(&h, WIRE_ABORT_TEXT_LEN);
    if (!t)
        return WIRE_EHLEN;
    size_t n = strnlen((const char *)t, WIRE_ABORT_TEXT_LEN);
    memcpy(m->text, t, n);
    m->text[n] = '\0';
    for (size_t i = n; i < WIRE_ABORT_TEXT_LEN; i++)
        if (t[i])
            m->lossy = true; /* bytes after the NUL are dropped */
    return msg_end(&h, &b, &m->lossy, NULL, len);
}

ssize_t wire_abort_encode(uint8_t *out, size_t cap, const struct wire_abort *m)
{
    if (!ver_ok(m->ver))
        return WIRE_EVERSION;
    size_t n = strnlen(m->text, sizeof(m->text));
    if (n > WIRE_ABORT_TEXT_LEN)
        return WIRE_EINVAL;
    struct wbuf w = wb_msg(out, cap, ABORT, WIRE_ABORT_LEN);
    wb_u8(&w, m->flags);
    wb_u8(&w, 0);
    wb_u32(&w, m->host);
    wb_bytes(&w, m->text, n);
    wb_zero(&w, WIRE_ABORT_TEXT_LEN - n);
    return wb_result(&w);
}
