/* EXT_FEC_INFO and FEC_PARITY (ours; fec.h, spec "FEC extension (ours)"). */
#include "core/wire/fec.h"

#include "core/wire/wire_int.h"

/* ---- EXT_FEC_INFO ---- */

int ext_fec_read(struct rbuf *ext, uint8_t ver, void *val, bool *msg_lossy)
{
    struct wire_fec_info *f = val;
    (void)ver; /* the same in v4 and v5 */
    memset(f, 0, sizeof(*f));
    bool l = false, *lossy = &l;
    if (ext->len < 3)
        return WIRE_EHLEN; /* not even a version byte (extlen ≥ 1 word guarantees 4) */
    if (ext->p[2] != WIRE_FEC_VERSION) {
        *msg_lossy = true; /* another version: skipped like an unknown extension */
        return 0;
    }
    if (ext->len < WIRE_FEC_INFO_LEN)
        return WIRE_EHLEN;
    if (ext->len > WIRE_FEC_INFO_LEN)
        *lossy = true;
    rb_skip(ext, 2);
    f->version = rb_u8(ext);
    f->flags = rb_u8(ext);
    if (f->flags & ~FEC_F_ALL) {
        /* Flags of a later revision of version 1: kept out of the re-encode. */
        f->flags &= FEC_F_ALL;
        *lossy = true;
    }
    f->code = rb_u8(ext);
    f->k = rb_u8(ext);
    f->stride = rb_u8(ext);
    rb_rsv(ext, 1, lossy);
    f->lossy = l;
    *msg_lossy |= l;
    return ext->err ? WIRE_EHLEN : 1;
}

void ext_fec_write(struct wbuf *w, const struct wire_fec_info *f)
{
    wb_u8(w, EXT_FEC_INFO);
    wb_u8(w, WIRE_FEC_INFO_LEN / 4);
    wb_u8(w, WIRE_FEC_VERSION);
    wb_u8(w, f->flags);
    wb_u8(w, f->code);
    wb_u8(w, f->k);
    wb_u8(w, f->stride);
    wb_u8(w, 0);
}

bool ext_fec_ok(const struct wire_fec_info *f)
{
    return f->version == WIRE_FEC_VERSION && !(f->flags & ~FEC_F_ALL);
}

ssize_t wire_fec_info_decode(struct wire_fec_info *e, const uint8_t *p, size_t len)
{
    memset(e, 0, sizeof(*e));
    struct rbuf r;
    bool lossy = false;
    int rc = frame_open(p, len, EXT_FEC_INFO, 1, &r);
    if (rc == 0 && (rc = ext_fec_read(&r, UFTP_VER5, e, &lossy)) == 0)
        rc = WIRE_ERANGE; /* a version this code does not know */
    if (rc < 0)
        return rc;
    e->lossy = lossy;
    return (ssize_t)r.len;
}

ssize_t wire_fec_info_encode(uint8_t *out, size_t cap, const struct wire_fec_info *e)
{
    if (!ext_fec_ok(e))
        return WIRE_EINVAL;
    struct wbuf w = wb_init(out, cap);
    ext_fec_write(&w, e);
    return wb_result(&w);
}

/* ---- FEC_PARITY ---- */

size_t wire_fec_parity_hdr_len(const struct wire_fec_parity *m)
{
    return WIRE_FEC_PARITY_FIXED + (m->has_tfmcc ? EXT_TFMCC_DATA_LEN : 0);
}

ssize_t wire_fec_parity_decode(struct wire_fec_parity *m, const uint8_t *p, size_t len)
{
    struct rbuf h, b;
    int rc = MSG_BEGIN(m, p, len, FEC_PARITY, WIRE_FEC_PARITY_FIXED, &h, &b);
    if (rc)
        return rc;
    m->file_id = rb_u16(&h);
    m->section = rb_u16(&h);
    m->fec_block = rb_u16(&h);
    m->code = rb_u8(&h);
    m->k = rb_u8(&h);
    m->parity = rb_u8(&h);
    rb_rsv(&h, 1, &m->lossy);
    /* Symbol ids are bytes: k + p ≤ 255 (core/fec). */
    if (m->k == 0 || (unsigned)m->k + m->parity > 255)
        return WIRE_ERANGE;
    struct ext_slot ext = {EXT_TFMCC_DATA_INFO, ext_tfmcc_data_read, &m->tfmcc, &m->has_tfmcc};
    if ((rc = ext_read(&h, m->ver, &m->lossy, &ext, 1)))
        return rc;
    m->data_len = rb_left(&b);
    m->data = rb_ptr(&b, m->data_len);
    return (ssize_t)len;
}

ssize_t wire_fec_parity_encode(uint8_t *out, size_t cap, const struct wire_fec_parity *m)
{
    if (!ver_ok(m->ver))
        return WIRE_EVERSION;
    if (m->k == 0 || (unsigned)m->k + m->parity > 255)
        return WIRE_EINVAL;
    struct wbuf w = wb_msg(out, cap, FEC_PARITY, wire_fec_parity_hdr_len(m));
    wb_u16(&w, m->file_id);
    wb_u16(&w, m->section);
    wb_u16(&w, m->fec_block);
    wb_u8(&w, m->code);
    wb_u8(&w, m->k);
    wb_u8(&w, m->parity);
    wb_u8(&w, 0);
    if (m->has_tfmcc)
        ext_tfmcc_data_write(&w, &m->tfmcc);
    if (m->data)
        wb_bytes(&w, m->data, m->data_len);
    else
        (void)wb_reserve(&w, m->data_len);
    return wb_result(&w);
}
