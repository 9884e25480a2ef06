/* Message framing shared by every codec: hlen, extensions, ID bodies. */
#include "core/wire/wire_int.h"

int frame_open(const uint8_t *p, size_t len, uint8_t type, size_t min, struct rbuf *r)
{
    if (len < 2)
        return WIRE_ETRUNC;
    if (p[0] != type)
        return WIRE_EFUNC;
    size_t fl = (size_t)p[1] * 4;
    if (fl > len)
        return WIRE_ETRUNC;
    if (fl < min)
        return WIRE_EHLEN;
    *r = rb_init(p, fl);
    return 0;
}

int msg_open(const uint8_t *p, size_t len, uint8_t func, uint8_t ver, size_t fixed,
             struct rbuf *hdr, struct rbuf *body)
{
    if (!ver_ok(ver))
        return WIRE_EVERSION;
    int rc = frame_open(p, len, func, fixed, hdr);
    if (rc)
        return rc;
    rb_skip(hdr, 2);
    *body = rb_init(p + hdr->len, len - hdr->len);
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

/* Checks a known extension's length; the reader is left after type/len. */
static int ext_begin(struct rbuf *ext, size_t fixed, bool *lossy)
{
    if (ext->len < fixed)
        return WIRE_EHLEN;
    if (ext->len > fixed)
        *lossy = true; /* the tail is ignored, not re-encoded */
    rb_skip(ext, 2);
    return 0;
}

int ext_tfmcc_ack_read(struct rbuf *ext, uint8_t ver, void *val, bool *lossy)
{
    struct wire_tfmcc_ack *t = val;
    int rc = ext_begin(ext, EXT_TFMCC_ACK_LEN, lossy);
    if (rc)
        return rc;
    t->flags = rb_u8(ext);
    rb_rsv(ext, 1, lossy);
    t->cc_seq = rb_u16(ext);
    t->cc_rate = rb_u16(ext);
    t->client_id = rb_u32(ext);
    /* spec §1.9 item 6: the v4 time format in v4 sessions. */
    if (!rb_ts(ext, ver, &t->tstamp, lossy))
        return WIRE_ERANGE;
    return ext->err ? WIRE_EHLEN : 1;
}

void ext_tfmcc_ack_write(struct wbuf *w, uint8_t ver, const struct wire_tfmcc_ack *t)
{
    wb_u8(w, EXT_TFMCC_ACK_INFO);
    wb_u8(w, EXT_TFMCC_ACK_LEN / 4);
    wb_u8(w, t->flags);
    wb_u8(w, 0);
    wb_u16(w, t->cc_seq);
    wb_u16(w, t->cc_rate);
    wb_u32(w, t->client_id);
    wb_ts(w, ver, t->tstamp);
}

int ext_tfmcc_data_read(struct rbuf *ext, uint8_t ver, void *val, bool *lossy)
{
    struct wire_tfmcc_data *t = val;
    int rc = ext_begin(ext, EXT_TFMCC_DATA_LEN, lossy);
    if (rc)
        return rc;
    t->send_rate = rb_u16(ext);
    t->cc_seq = rb_u16(ext);
    t->cc_rate = rb_u16(ext);
    return 1;
}

void ext_tfmcc_data_write(struct wbuf *w, const struct wire_tfmcc_data *t)
{
    wb_u8(w, EXT_TFMCC_DATA_INFO);
    wb_u8(w, EXT_TFMCC_DATA_LEN / 4);
    wb_u16(w, t->send_rate);
    wb_u16(w, t->cc_seq);
    wb_u16(w, t->cc_rate);
}

int ext_freespace_read(struct rbuf *ext, uint8_t ver, void *val, bool *lossy)
{
    uint64_t *freespace = val;
    int rc = ext_begin(ext, EXT_FREESPACE_LEN, lossy);
    if (rc)
        return rc;
    rb_rsv(ext, 2, lossy);
    *freespace = rb_u64(ext); /* big-endian hi, lo (the 4.1.1 fix) */
    return 1;
}

int ext_read(struct rbuf *hdr, uint8_t ver, bool *lossy, const struct ext_slot *slots, size_t n)
{
    uint8_t type;
    struct rbuf ext;
    int rc;
    while ((rc = ext_next(hdr, &type, &ext)) > 0) {
        size_t i = 0;
        while (i < n && slots[i].type != type)
            i++;
        if (i == n) {
            *lossy = true; /* unknown here: ignored, as the spec says */
            continue;
        }
        if (*slots[i].has)
            return WIRE_ERANGE;
        if ((rc = slots[i].read(&ext, ver, slots[i].val, lossy)) < 0)
            return rc;
        *slots[i].has = rc > 0;
    }
    return rc;
}

ssize_t msg_end(struct rbuf *hdr, struct rbuf *body, bool *lossy, struct wire_ids *ids, size_t len)
{
    int rc = ext_skip_all(hdr, lossy);
    if (rc < 0)
        return rc;
    if (ids)
        rc = ids_decode(ids, body);
    else if (rb_left(body))
        rc = WIRE_ETRAIL;
    return rc ? rc : (ssize_t)len;
}

void rb_pad4(struct rbuf *r, bool *lossy)
{
    if (r->err)
        return;
    rb_rsv(r, pad4(r->off) - r->off, lossy);
}

int body_array(struct rbuf *body, size_t size, const uint8_t **be, size_t *n)
{
    size_t left = rb_left(body);
    if (left % size)
        return WIRE_ETRAIL; /* a partial entry is trailing garbage */
    *n = left / size;
    *be = left ? rb_ptr(body, left) : NULL;
    return 0;
}

int ids_decode(struct wire_ids *l, struct rbuf *body)
{
    l->host = NULL;
    return body_array(body, 4, &l->be, &l->n);
}

bool wb_array(struct wbuf *w, const uint8_t *be, size_t n, size_t size)
{
    if (n > (SIZE_MAX - w->off) / size || !wb_need(w, n * size)) {
        w->err = true;
        return false;
    }
    if (!be)
        return true;
    wb_bytes(w, be, n * size);
    return false;
}

void ids_encode(struct wbuf *w, const struct wire_ids *l)
{
    if (wb_array(w, l->be, l->n, 4))
        for (size_t i = 0; i < l->n; i++)
            wb_u32(w, l->host[i]);
}
