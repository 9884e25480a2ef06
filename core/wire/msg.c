/* The message dispatcher and the datagram codec. */
#include "core/wire/msg.h"

#include "core/wire/wire_int.h"

/* func, union member, codec prefix: one row per message type. */
#define WIRE_MSGS(X)                                                                               \
    X(ANNOUNCE, announce, wire_announce)                                                           \
    X(REGISTER, reg, wire_register)                                                                \
    X(CLIENT_KEY, client_key, wire_client_key)                                                     \
    X(REG_CONF, reg_conf, wire_reg_conf)                                                           \
    X(KEYINFO, keyinfo, wire_keyinfo)                                                              \
    X(KEYINFO_ACK, keyinfo_ack, wire_keyinfo_ack)                                                  \
    X(FILEINFO, fileinfo, wire_fileinfo)                                                           \
    X(FILEINFO_ACK, fileinfo_ack, wire_fileinfo_ack)                                               \
    X(FILESEG, fileseg, wire_fileseg)                                                              \
    X(DONE, done, wire_done)                                                                       \
    X(STATUS, status, wire_status)                                                                 \
    X(COMPLETE, complete, wire_complete)                                                           \
    X(DONE_CONF, done_conf, wire_done_conf)                                                        \
    X(HB_REQ, hb_req, wire_hb_req)                                                                 \
    X(HB_RESP, hb_resp, wire_hb_resp)                                                              \
    X(KEY_REQ, key_req, wire_key_req)                                                              \
    X(PROXY_KEY, proxy_key, wire_proxy_key)                                                        \
    X(ABORT, abort, wire_abort)                                                                    \
    X(CONG_CTRL, cong_ctrl, wire_cong_ctrl)                                                        \
    X(CC_ACK, cc_ack, wire_cc_ack)                                                                 \
    X(FEC_PARITY, fec_parity, wire_fec_parity)

ssize_t wire_msg_decode(struct wire_msg *m, uint8_t ver, const uint8_t *p, size_t len)
{
    memset(m, 0, sizeof(*m));
    if (!ver_ok(ver))
        return WIRE_EVERSION;
    if (len < 1)
        return WIRE_ETRUNC;
    m->func = p[0];
    switch (p[0]) {
#define X(F, mem, fn)                                                                              \
    case F:                                                                                        \
        m->u.mem.ver = ver;                                                                        \
        return fn##_decode(&m->u.mem, p, len);
        WIRE_MSGS(X)
#undef X
    }
    return WIRE_EFUNC;
}

ssize_t wire_msg_encode(uint8_t *out, size_t cap, const struct wire_msg *m)
{
    switch (m->func) {
#define X(F, mem, fn)                                                                              \
    case F:                                                                                        \
        return fn##_encode(out, cap, &m->u.mem);
        WIRE_MSGS(X)
#undef X
    }
    return WIRE_EFUNC;
}

static int msg_ver(const struct wire_msg *m)
{
    switch (m->func) {
#define X(F, mem, fn)                                                                              \
    case F:                                                                                        \
        return m->u.mem.ver;
        WIRE_MSGS(X)
#undef X
    }
    return -1;
}

bool wire_msg_lossy(const struct wire_msg *m)
{
    switch (m->func) {
#define X(F, mem, fn)                                                                              \
    case F:                                                                                        \
        return m->u.mem.lossy;
        WIRE_MSGS(X)
#undef X
    }
    return false;
}

ssize_t wire_datagram_decode(struct wire_datagram *d, const uint8_t *p, size_t len)
{
    memset(d, 0, sizeof(*d));
    ssize_t n = uftp_hdr_decode(&d->hdr, p, len);
    if (n < 0)
        return n;
    d->lossy = p[15] != 0; /* header reserved byte: ignored on receive */
    p += UFTP_HDR_LEN;
    len -= UFTP_HDR_LEN;
    if (d->hdr.func == ENCRYPTED) {
        d->enc.ver = d->hdr.version;
        n = wire_encrypted_decode(&d->enc, p, len);
    } else {
        /* The real type is in both places for cleartext; they must agree. */
        if (len >= 1 && p[0] != d->hdr.func)
            return WIRE_EFUNC;
        n = wire_msg_decode(&d->msg, d->hdr.version, p, len);
    }
    if (n < 0)
        return n;
    return (ssize_t)(UFTP_HDR_LEN + (size_t)n);
}

ssize_t wire_datagram_encode(uint8_t *out, size_t cap, const struct wire_datagram *d)
{
    int enc = d->hdr.func == ENCRYPTED;
    int ver = enc ? d->enc.ver : msg_ver(&d->msg);
    if (!enc && d->hdr.func != d->msg.func)
        return WIRE_EINVAL;
    if (ver != d->hdr.version)
        return WIRE_EINVAL;
    if (!ver_ok(d->hdr.version))
        return WIRE_EVERSION;
    /*
     * Encode the body first, so that its WIRE_EINVAL is reported whatever
     * the capacity, then the header in front of it.
     */
    if (cap < UFTP_HDR_LEN) {
        uint8_t probe[1];
        ssize_t n =
            enc ? wire_encrypted_encode(probe, 0, &d->enc) : wire_msg_encode(probe, 0, &d->msg);
        return n < 0 ? n : WIRE_ENOSPC;
    }
    ssize_t n = enc ? wire_encrypted_encode(out + UFTP_HDR_LEN, cap - UFTP_HDR_LEN, &d->enc)
                    : wire_msg_encode(out + UFTP_HDR_LEN, cap - UFTP_HDR_LEN, &d->msg);
    if (n < 0)
        return n;
    if (uftp_hdr_encode(out, cap, &d->hdr) < 0)
        return WIRE_ENOSPC;
    return UFTP_HDR_LEN + n;
}

bool wire_datagram_lossy(const struct wire_datagram *d)
{
    return d->lossy || (d->hdr.func == ENCRYPTED ? d->enc.lossy : wire_msg_lossy(&d->msg));
}
