#include "core/wire/wire.h"

#include "core/wire/buf.h"

const char *wire_strerror(int err)
{
    switch (err) {
    case WIRE_OK:
        return "ok";
    case WIRE_ETRUNC:
        return "truncated";
    case WIRE_EHLEN:
        return "bad header length";
    case WIRE_EVERSION:
        return "unknown protocol version";
    case WIRE_EFUNC:
        return "unexpected message type";
    case WIRE_ECOUNT:
        return "count or length out of bounds";
    case WIRE_ERANGE:
        return "field value out of range";
    case WIRE_ETRAIL:
        return "trailing bytes";
    case WIRE_ENOSPC:
        return "output buffer too small";
    case WIRE_EINVAL:
        return "invalid message";
    }
    return "unknown error";
}

const char *wire_func_name(int func)
{
    static const char *const names[] = {
        [ANNOUNCE] = "ANNOUNCE",     [REGISTER] = "REGISTER",
        [CLIENT_KEY] = "CLIENT_KEY", [REG_CONF] = "REG_CONF",
        [KEYINFO] = "KEYINFO",       [KEYINFO_ACK] = "KEYINFO_ACK",
        [FILEINFO] = "FILEINFO",     [FILEINFO_ACK] = "FILEINFO_ACK",
        [FILESEG] = "FILESEG",       [DONE] = "DONE",
        [STATUS] = "STATUS",         [COMPLETE] = "COMPLETE",
        [DONE_CONF] = "DONE_CONF",   [HB_REQ] = "HB_REQ",
        [HB_RESP] = "HB_RESP",       [KEY_REQ] = "KEY_REQ",
        [PROXY_KEY] = "PROXY_KEY",   [ENCRYPTED] = "ENCRYPTED",
        [ABORT] = "ABORT",           [CONG_CTRL] = "CONG_CTRL",
        [CC_ACK] = "CC_ACK",
    };
    if (func > 0 && (size_t)func < sizeof(names) / sizeof(names[0]) && names[func])
        return names[func];
    if (func == FEC_PARITY)
        return "FEC_PARITY";
    return "UNKNOWN";
}

ssize_t uftp_hdr_decode(struct uftp_hdr *h, const uint8_t *p, size_t len)
{
    struct rbuf r = rb_init(p, len);
    h->version = rb_u8(&r);
    h->func = rb_u8(&r);
    h->seq = rb_u16(&r);
    h->src_id = rb_u32(&r);
    h->group_id = rb_u32(&r);
    h->group_inst = rb_u8(&r);
    h->grtt = rb_u8(&r);
    h->gsize = rb_u8(&r);
    rb_skip(&r, 1); /* reserved: ignored on receive */
    if (r.err)
        return WIRE_ETRUNC;
    if (h->version != UFTP_VER5 && h->version != UFTP_VER4)
        return WIRE_EVERSION;
    return UFTP_HDR_LEN;
}

ssize_t uftp_hdr_encode(uint8_t *out, size_t cap, const struct uftp_hdr *h)
{
    struct wbuf w = wb_init(out, cap);
    wb_u8(&w, h->version);
    wb_u8(&w, h->func);
    wb_u16(&w, h->seq);
    wb_u32(&w, h->src_id);
    wb_u32(&w, h->group_id);
    wb_u8(&w, h->group_inst);
    wb_u8(&w, h->grtt);
    wb_u8(&w, h->gsize);
    wb_u8(&w, 0);
    return w.err ? WIRE_ENOSPC : (ssize_t)w.off;
}
