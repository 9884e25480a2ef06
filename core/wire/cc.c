/* CONG_CTRL and CC_ACK (spec §1.4, §1.7). */
#include "core/wire/cc.h"

#include "core/wire/wire_int.h"

#define CONG_CTRL_FIXED 16
#define CC_ACK_FIXED    4

struct wire_cc_item wire_cc_items_get(const struct wire_cc_items *l, size_t i)
{
    if (!l->be)
        return l->host[i];
    const uint8_t *q = l->be + WIRE_CC_ITEM_LEN * i;
    struct wire_cc_item it = {be32_get(q), q[4], q[5]};
    return it;
}

ssize_t wire_cong_ctrl_decode(struct wire_cong_ctrl *m, const uint8_t *p, size_t len)
{
    struct rbuf h, b;
    int rc = MSG_BEGIN(m, p, len, CONG_CTRL, CONG_CTRL_FIXED, &h, &b);
    if (rc)
        return rc;
    rb_rsv(&h, 2, &m->lossy);
    m->cc_seq = rb_u16(&h);
    m->cc_rate = rb_u16(&h);
    if (!rb_ts(&h, m->ver, &m->tstamp, &m->lossy))
        return WIRE_ERANGE;
    if ((rc = ext_skip_all(&h, &m->lossy)) < 0 ||
        (rc = body_array(&b, WIRE_CC_ITEM_LEN, &m->items.be, &m->items.n)))
        return rc;
    return (ssize_t)len;
}

ssize_t wire_cong_ctrl_encode(uint8_t *out, size_t cap, const struct wire_cong_ctrl *m)
{
    if (!ver_ok(m->ver))
        return WIRE_EVERSION;
    if (!ts_ok(m->ver, m->tstamp) || (m->items.n && !m->items.be && !m->items.host))
        return WIRE_EINVAL;
    struct wbuf w = wb_msg(out, cap, CONG_CTRL, CONG_CTRL_FIXED);
    wb_u16(&w, 0);
    wb_u16(&w, m->cc_seq);
    wb_u16(&w, m->cc_rate);
    wb_ts(&w, m->ver, m->tstamp);
    if (wb_array(&w, m->items.be, m->items.n, WIRE_CC_ITEM_LEN)) {
        for (size_t i = 0; i < m->items.n; i++) {
            wb_u32(&w, m->items.host[i].id);
            wb_u8(&w, m->items.host[i].flags);
            wb_u8(&w, m->items.host[i].rtt);
            wb_u16(&w, 0);
        }
    }
    return wb_result(&w);
}

ssize_t wire_cc_ack_decode(struct wire_cc_ack *m, const uint8_t *p, size_t len)
{
    struct rbuf h, b;
    int rc = MSG_BEGIN(m, p, len, CC_ACK, CC_ACK_FIXED, &h, &b);
    if (rc)
        return rc;
    rb_rsv(&h, 2, &m->lossy);
    struct ext_slot ext = {EXT_TFMCC_ACK_INFO, ext_tfmcc_ack_read, &m->tfmcc, &m->has_tfmcc};
    if ((rc = ext_read(&h, m->ver, &m->lossy, &ext, 1)))
        return rc;
    return msg_end(&h, &b, &m->lossy, NULL, len);
}

ssize_t wire_cc_ack_encode(uint8_t *out, size_t cap, const struct wire_cc_ack *m)
{
    if (!ver_ok(m->ver))
        return WIRE_EVERSION;
    if (m->has_tfmcc && !ts_ok(m->ver, m->tfmcc.tstamp))
        return WIRE_EINVAL;
    struct wbuf w = wb_msg(out, cap, CC_ACK, CC_ACK_FIXED + (m->has_tfmcc ? EXT_TFMCC_ACK_LEN : 0));
    wb_u16(&w, 0);
    if (m->has_tfmcc)
        ext_tfmcc_ack_write(&w, m->ver, &m->tfmcc);
    return wb_result(&w);
}
