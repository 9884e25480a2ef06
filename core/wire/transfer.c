/* FILESEG, DONE, STATUS, COMPLETE, DONE_CONF and their extensions (spec §1.4). */
#include "core/wire/transfer.h"

#include "core/wire/wire_int.h"

#define FILESEG_FIXED   8
#define DONE_FIXED      8
#define STATUS_FIXED    8
#define COMPLETE_FIXED  8
#define DONE_CONF_FIXED 4

/* ---- FILESEG ---- */

ssize_t wire_fileseg_decode(struct wire_fileseg *m, const uint8_t *p, size_t len)
{
    struct rbuf h, b;
    int rc = MSG_BEGIN(m, p, len, FILESEG, FILESEG_FIXED, &h, &b);
    if (rc)
        return rc;
    m->file_id = rb_u16(&h);
    m->section = rb_u16(&h);
    m->sec_block = rb_u16(&h);
    struct ext_slot ext = {EXT_TFMCC_DATA_INFO, ext_tfmcc_data_read, &m->tfmcc, &m->has_tfmcc};
    if ((rc = ext_read(&h, m->ver, &m->lossy, &ext, 1)))
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
    struct wbuf w = wb_msg(out, cap, FILESEG, wire_fileseg_hdr_len(m));
    wb_u16(&w, m->file_id);
    wb_u16(&w, m->section);
    wb_u16(&w, m->sec_block);
    if (m->has_tfmcc)
        ext_tfmcc_data_write(&w, &m->tfmcc);
    if (m->data)
        wb_bytes(&w, m->data, m->data_len);
    else
        (void)wb_reserve(&w, m->data_len); /* filled in place by the caller */
    return wb_result(&w);
}

/* ---- DONE ---- */

ssize_t wire_done_decode(struct wire_done *m, const uint8_t *p, size_t len)
{
    struct rbuf h, b;
    int rc = MSG_BEGIN(m, p, len, DONE, DONE_FIXED, &h, &b);
    if (rc)
        return rc;
    m->file_id = rb_u16(&h);
    m->section = rb_u16(&h);
    rb_rsv(&h, 2, &m->lossy);
    return msg_end(&h, &b, &m->lossy, &m->ids, len);
}

ssize_t wire_done_encode(uint8_t *out, size_t cap, const struct wire_done *m)
{
    if (!ver_ok(m->ver))
        return WIRE_EVERSION;
    if (!ids_ok(&m->ids))
        return WIRE_EINVAL;
    struct wbuf w = wb_msg(out, cap, DONE, DONE_FIXED);
    wb_u16(&w, m->file_id);
    wb_u16(&w, m->section);
    wb_u16(&w, 0);
    ids_encode(&w, &m->ids);
    return wb_result(&w);
}

/* ---- STATUS ---- */

ssize_t wire_status_decode(struct wire_status *m, const uint8_t *p, size_t len)
{
    struct rbuf h, b;
    int rc = MSG_BEGIN(m, p, len, STATUS, STATUS_FIXED, &h, &b);
    if (rc)
        return rc;
    m->file_id = rb_u16(&h);
    m->section = rb_u16(&h);
    rb_rsv(&h, 2, &m->lossy);
    struct ext_slot ext[] = {{EXT_FEC_INFO, ext_fec_read, &m->fec, &m->has_fec},
                             {EXT_TFMCC_ACK_INFO, ext_tfmcc_ack_read, &m->tfmcc, &m->has_tfmcc}};
    if ((rc = ext_read(&h, m->ver, &m->lossy, ext, 2)))
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
    struct wbuf w = wb_msg(out, cap, STATUS,
                           STATUS_FIXED + (m->has_tfmcc ? EXT_TFMCC_ACK_LEN : 0) +
                               (m->has_fec ? WIRE_FEC_INFO_LEN : 0));
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
    struct rbuf h, b;
    int rc = MSG_BEGIN(m, p, len, COMPLETE, COMPLETE_FIXED, &h, &b);
    if (rc)
        return rc;
    m->file_id = rb_u16(&h);
    m->status = rb_u8(&h);
    rb_rsv(&h, 3, &m->lossy);
    struct ext_slot ext = {EXT_FREESPACE_INFO, ext_freespace_read, &m->freespace,
                           &m->has_freespace};
    if ((rc = ext_read(&h, m->ver, &m->lossy, &ext, 1)))
        return rc;
    return msg_end(&h, &b, &m->lossy, &m->ids, len);
}

ssize_t wire_complete_encode(uint8_t *out, size_t cap, const struct wire_complete *m)
{
    if (!ver_ok(m->ver))
        return WIRE_EVERSION;
    if (!ids_ok(&m->ids))
        return WIRE_EINVAL;
    struct wbuf w =
        wb_msg(out, cap, COMPLETE, COMPLETE_FIXED + (m->has_freespace ? EXT_FREESPACE_LEN : 0));
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
    struct rbuf h, b;
    int rc = MSG_BEGIN(m, p, len, DONE_CONF, DONE_CONF_FIXED, &h, &b);
    if (rc)
        return rc;
    rb_rsv(&h, 2, &m->lossy);
    /* spec §6 item 15: the list starts at hlen*4. */
    return msg_end(&h, &b, &m->lossy, &m->ids, len);
}

ssize_t wire_done_conf_encode(uint8_t *out, size_t cap, const struct wire_done_conf *m)
{
    if (!ver_ok(m->ver))
        return WIRE_EVERSION;
    if (!ids_ok(&m->ids))
        return WIRE_EINVAL;
    struct wbuf w = wb_msg(out, cap, DONE_CONF, DONE_CONF_FIXED);
    wb_u16(&w, 0);
    ids_encode(&w, &m->ids);
    return wb_result(&w);
}
