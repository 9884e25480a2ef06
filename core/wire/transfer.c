/* FILESEG, DONE, STATUS, COMPLETE, DONE_CONF and their extensions (spec §1.4). */
#include "core/wire/transfer.h"

#include "core/wire/wire_int.h"

#define FILESEG_FIXED   8
#define DONE_FIXED      8
#define STATUS_FIXED    8
#define COMPLETE_FIXED  8
#define DONE_CONF_FIXED 4

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

int ext_tfmcc_ack_read(struct rbuf *ext, uint8_t ver, struct wire_tfmcc_ack *t, bool *lossy)
{
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
    return ext->err ? WIRE_EHLEN : 0;
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

/* ---- FILESEG ---- */

ssize_t wire_fileseg_decode(struct wire_fileseg *m, const uint8_t *p, size_t len)
{
    uint8_t ver = m->ver;
    memset(m, 0, sizeof(*m));
    m->ver = ver;
    struct rbuf h, b;
    int rc = msg_open(p, len, FILESEG, ver, FILESEG_FIXED, &h, &b);
    if (rc)
        return rc;
    m->file_id = rb_u16(&h);
    m->section = rb_u16(&h);
    m->sec_block = rb_u16(&h);
    uint8_t type;
    struct rbuf ext;
    while ((rc = ext_next(&h, &type, &ext)) > 0) {
        if (type != EXT_TFMCC_DATA_INFO) {
            m->lossy = true;
            continue;
        }
        if (m->has_tfmcc)
            return WIRE_ERANGE;
        if ((rc = ext_begin(&ext, EXT_TFMCC_DATA_LEN, &m->lossy)))
            return rc;
        m->tfmcc.send_rate = rb_u16(&ext);
        m->tfmcc.cc_seq = rb_u16(&ext);
        m->tfmcc.cc_rate = rb_u16(&ext);
        m->has_tfmcc = true;
    }
    if (rc < 0)
        return rc;
    /* The data is whatever follows; its size is checked against the file by the engine. */
    m->data_len = rb_left(&b);
    m->data = rb_ptr(&b, m->data_len);
    return (ssize_t)len;
}

size_t wire_fileseg_hdr_len(const struct wire_fileseg *m)
{
    return FILESEG_FIXED + (m->has_tfmcc ? EXT_TFMCC_DATA_LEN : 0);
}

ssize_t wire_fileseg_encode(uint8_t *out, size_t cap, const struct wire_fileseg *m)
{
    if (!ver_ok(m->ver))
        return WIRE_EVERSION;
    struct wbuf w = wb_init(out, cap);
    wb_u8(&w, FILESEG);
    wb_u8(&w, (uint8_t)(wire_fileseg_hdr_len(m) / 4));
    wb_u16(&w, m->file_id);
    wb_u16(&w, m->section);
    wb_u16(&w, m->sec_block);
    if (m->has_tfmcc) {
        wb_u8(&w, EXT_TFMCC_DATA_INFO);
        wb_u8(&w, EXT_TFMCC_DATA_LEN / 4);
        wb_u16(&w, m->tfmcc.send_rate);
        wb_u16(&w, m->tfmcc.cc_seq);
        wb_u16(&w, m->tfmcc.cc_rate);
    }
    if (m->data)
        wb_bytes(&w, m->data, m->data_len);
    else
        (void)wb_reserve(&w, m->data_len); /* filled in place by the caller */
    return wb_result(&w);
}

/* ---- DONE ---- */

ssize_t wire_done_decode(struct wire_done *m, const uint8_t *p, size_t len)
{
    uint8_t ver = m->ver;
    memset(m, 0, sizeof(*m));
    m->ver = ver;
    struct rbuf h, b;
    int rc = msg_open(p, len, DONE, ver, DONE_FIXED, &h, &b);
    if (rc)
        return rc;
    m->file_id = rb_u16(&h);
    m->section = rb_u16(&h);
    rb_rsv(&h, 2, &m->lossy);
    if ((rc = ext_skip_all(&h, &m->lossy)) < 0)
        return rc;
    if ((rc = ids_decode(&m->ids, &b)))
        return rc;
    return (ssize_t)len;
}

ssize_t wire_done_encode(uint8_t *out, size_t cap, const struct wire_done *m)
{
    if (!ver_ok(m->ver))
        return WIRE_EVERSION;
    if (!ids_ok(&m->ids))
        return WIRE_EINVAL;
    struct wbuf w = wb_init(out, cap);
    wb_u8(&w, DONE);
    wb_u8(&w, DONE_FIXED / 4);
    wb_u16(&w, m->file_id);
    wb_u16(&w, m->section);
    wb_u16(&w, 0);
    ids_encode(&w, &m->ids);
    return wb_result(&w);
}

/* ---- STATUS ---- */

ssize_t wire_status_decode(struct wire_status *m, const uint8_t *p, size_t len)
{
    uint8_t ver = m->ver;
    memset(m, 0, sizeof(*m));
    m->ver = ver;
    struct rbuf h, b;
    int rc = msg_open(p, len, STATUS, ver, STATUS_FIXED, &h, &b);
    if (rc)
        return rc;
    m->file_id = rb_u16(&h);
    m->section = rb_u16(&h);
    rb_rsv(&h, 2, &m->lossy);
    uint8_t type;
    struct rbuf ext;
    while ((rc = ext_next(&h, &type, &ext)) > 0) {
        if (type == EXT_FEC_INFO) {
            if (m->has_fec)
                return WIRE_ERANGE;
            if ((rc = ext_fec_read(&ext, &m->fec, &m->lossy)) < 0)
                return rc;
            m->has_fec = rc > 0;
            continue;
        }
        if (type != EXT_TFMCC_ACK_INFO) {
            m->lossy = true;
            continue;
        }
        if (m->has_tfmcc)
            return WIRE_ERANGE;
        if ((rc = ext_tfmcc_ack_read(&ext, ver, &m->tfmcc, &m->lossy)))
            return rc;
        m->has_tfmcc = true;
    }
    if (rc < 0)
        return rc;
    /* spec §6 item 6: the bitmap starts at hlen*4, never at a fixed offset. */
    m->naks_len = rb_left(&b);
    m->naks = rb_ptr(&b, m->naks_len);
    return (ssize_t)len;
}

ssize_t wire_status_encode(uint8_t *out, size_t cap, const struct wire_status *m)
{
    if (!ver_ok(m->ver))
        return WIRE_EVERSION;
    if ((m->naks_len && !m->naks) || (m->has_tfmcc && !ts_ok(m->ver, m->tfmcc.tstamp)) ||
        (m->has_fec && !ext_fec_ok(&m->fec)))
        return WIRE_EINVAL;
    struct wbuf w = wb_init(out, cap);
    wb_u8(&w, STATUS);
    wb_u8(&w, (uint8_t)((STATUS_FIXED + (m->has_tfmcc ? EXT_TFMCC_ACK_LEN : 0) +
                         (m->has_fec ? WIRE_FEC_INFO_LEN : 0)) /
                        4));
    wb_u16(&w, m->file_id);
    wb_u16(&w, m->section);
    wb_u16(&w, 0);
    if (m->has_tfmcc)
        ext_tfmcc_ack_write(&w, m->ver, &m->tfmcc);
    if (m->has_fec)
        ext_fec_write(&w, &m->fec);
    wb_bytes(&w, m->naks, m->naks_len);
    return wb_result(&w);
}

/* ---- COMPLETE ---- */

ssize_t wire_complete_decode(struct wire_complete *m, const uint8_t *p, size_t len)
{
    uint8_t ver = m->ver;
    memset(m, 0, sizeof(*m));
    m->ver = ver;
    struct rbuf h, b;
    int rc = msg_open(p, len, COMPLETE, ver, COMPLETE_FIXED, &h, &b);
    if (rc)
        return rc;
    m->file_id = rb_u16(&h);
    m->status = rb_u8(&h);
    rb_rsv(&h, 3, &m->lossy);
    uint8_t type;
    struct rbuf ext;
    while ((rc = ext_next(&h, &type, &ext)) > 0) {
        if (type != EXT_FREESPACE_INFO) {
            m->lossy = true;
            continue;
        }
        if (m->has_freespace)
            return WIRE_ERANGE;
        if ((rc = ext_begin(&ext, EXT_FREESPACE_LEN, &m->lossy)))
            return rc;
        rb_rsv(&ext, 2, &m->lossy);
        m->freespace = rb_u64(&ext); /* big-endian hi, lo (the 4.1.1 fix) */
        m->has_freespace = true;
    }
    if (rc < 0)
        return rc;
    if ((rc = ids_decode(&m->ids, &b)))
        return rc;
    return (ssize_t)len;
}

ssize_t wire_complete_encode(uint8_t *out, size_t cap, const struct wire_complete *m)
{
    if (!ver_ok(m->ver))
        return WIRE_EVERSION;
    if (!ids_ok(&m->ids))
        return WIRE_EINVAL;
    struct wbuf w = wb_init(out, cap);
    wb_u8(&w, COMPLETE);
    wb_u8(&w, (uint8_t)((COMPLETE_FIXED + (m->has_freespace ? EXT_FREESPACE_LEN : 0)) / 4));
    wb_u16(&w, m->file_id);
    wb_u8(&w, m->status);
    wb_zero(&w, 3);
    if (m->has_freespace) {
        wb_u8(&w, EXT_FREESPACE_INFO);
        wb_u8(&w, EXT_FREESPACE_LEN / 4);
        wb_u16(&w, 0);
        wb_u64(&w, m->freespace);
    }
    ids_encode(&w, &m->ids);
    return wb_result(&w);
}

/* ---- DONE_CONF ---- */

ssize_t wire_done_conf_decode(struct wire_done_conf *m, const uint8_t *p, size_t len)
{
    uint8_t ver = m->ver;
    memset(m, 0, sizeof(*m));
    m->ver = ver;
    struct rbuf h, b;
    int rc = msg_open(p, len, DONE_CONF, ver, DONE_CONF_FIXED, &h, &b);
    if (rc)
        return rc;
    rb_rsv(&h, 2, &m->lossy);
    if ((rc = ext_skip_all(&h, &m->lossy)) < 0)
        return rc;
    /* spec §6 item 15: the list starts at hlen*4. */
    if ((rc = ids_decode(&m->ids, &b)))
        return rc;
    return (ssize_t)len;
}

ssize_t wire_done_conf_encode(uint8_t *out, size_t cap, const struct wire_done_conf *m)
{
    if (!ver_ok(m->ver))
        return WIRE_EVERSION;
    if (!ids_ok(&m->ids))
        return WIRE_EINVAL;
    struct wbuf w = wb_init(out, cap);
    wb_u8(&w, DONE_CONF);
    wb_u8(&w, DONE_CONF_FIXED / 4);
    wb_u16(&w, 0);
    ids_encode(&w, &m->ids);
    return wb_result(&w);
}
