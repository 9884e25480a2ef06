/* Message framing shared by every codec: hlen, extensions, ID bodies. */
#include "core/wire/wire_int.h"

int msg_open(const uint8_t *p, size_t len, uint8_t func, uint8_t ver, size_t fixed,
             struct rbuf *hdr, struct rbuf *body)
{
    if (!ver_ok(ver))
        return WIRE_EVERSION;
    if (len < 2)
        return WIRE_ETRUNC;
    if (p[0] != func)
        return WIRE_EFUNC;
    size_t hl = (size_t)p[1] * 4;
    if (hl > len)
        return WIRE_ETRUNC;
    if (hl < fixed)
        return WIRE_EHLEN;
    *hdr = rb_init(p, hl);
    rb_skip(hdr, 2);
    *body = rb_init(p + hl, len - hl);
    return 0;
}

int ext_next(struct rbuf *a, uint8_t *type, struct rbuf *ext)
{
    if (a->err)
        return WIRE_EHLEN;
    size_t left = rb_left(a);
    if (left == 0)
        return 0;
    /* spec §1.4: exttype, extlen (words, ≥ 1), all inside hlen. */
    if (left < 2)
        return WIRE_EHLEN;
    size_t el = (size_t)a->p[a->off + 1] * 4;
    if (el == 0 || el > left)
        return WIRE_EHLEN;
    *type = a->p[a->off];
    *ext = rb_sub(a, el);
    return 1;
}

int ext_skip_all(struct rbuf *a, bool *lossy)
{
    uint8_t type;
    struct rbuf ext;
    int rc;
    while ((rc = ext_next(a, &type, &ext)) > 0)
        *lossy = true; /* unknown here: ignored, as the spec says */
    return rc;
}

void rb_pad4(struct rbuf *r, bool *lossy)
{
    if (r->err)
        return;
    rb_rsv(r, pad4(r->off) - r->off, lossy);
}

int ids_decode(struct wire_ids *l, struct rbuf *body)
{
    size_t n = rb_left(body);
    if (n % 4)
        return WIRE_ETRAIL; /* a partial ID is trailing garbage */
    l->host = NULL;
    l->n = n / 4;
    l->be = n ? rb_ptr(body, n) : NULL;
    return 0;
}

void ids_encode(struct wbuf *w, const struct wire_ids *l)
{
    if (l->n > (SIZE_MAX - w->off) / 4 || !wb_need(w, l->n * 4)) {
        w->err = true;
        return;
    }
    if (l->be) {
        wb_bytes(w, l->be, l->n * 4);
        return;
    }
    for (size_t i = 0; i < l->n; i++)
        wb_u32(w, l->host[i]);
}
