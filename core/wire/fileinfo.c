/* FILEINFO and FILEINFO_ACK (spec §1.4, §1.9). */
#include "core/wire/fileinfo.h"

#include "core/wire/wire_int.h"

#define FILEINFO_FIXED     28
#define FILEINFO_ACK_FIXED 16

/*
 * A NUL-padded string field of `words` words; the length up to the first NUL.
 * *junk is set when a non-NUL byte follows that NUL ("ok\0/../x"), so that a
 * receiver can refuse the name instead of silently using its prefix.
 */
static const char *rb_name(struct rbuf *r, size_t words, size_t *len, bool *lossy, bool *junk)
{
    const uint8_t *q = rb_ptr(r, words * 4);
    *len = 0;
    if (!q)
        return NULL;
    const uint8_t *nul = memchr(q, 0, words * 4);
    *len = nul ? (size_t)(nul - q) : words * 4;
    /* Canonical: the fewest words, zero after the name. */
    if (pad4(*len) != words * 4)
        *lossy = true;
    for (size_t i = *len; i < words * 4; i++)
        if (q[i])
            *lossy = *junk = true;
    return (const char *)q;
}

ssize_t wire_fileinfo_decode(struct wire_fileinfo *m, const uint8_t *p, size_t len)
{
    struct rbuf h, b;
    int rc = MSG_BEGIN(m, p, len, FILEINFO, FILEINFO_FIXED, &h, &b);
    if (rc)
        return rc;
    m->file_id = rb_u16(&h);
    m->ftype = rb_u8(&h);
    rb_rsv(&h, 1, &m->lossy);
    uint64_t mt_hi = 0;
    if (m->ver == UFTP_VER4)
        rb_rsv(&h, 2, &m->lossy); /* spec §1.9: v4 has only the low 32 bits */
    else
        mt_hi = rb_u16(&h);
    size_t namew = rb_u8(&h);
    size_t linkw = rb_u8(&h);
    uint64_t sz_hi = rb_u16(&h);
    m->size = sz_hi << 32 | rb_u32(&h);
    m->mtime = mt_hi << 32 | rb_u32(&h);
    if (!rb_ts(&h, m->ver, &m->tstamp, &m->lossy))
        return WIRE_ERANGE;
    /* The client's check (spec §1.4): each field at most 300 bytes. */
    if (namew * 4 > WIRE_MAX_PATH || linkw * 4 > WIRE_MAX_PATH)
        return WIRE_ECOUNT;
    if ((namew + linkw) * 4 > rb_left(&h))
        return WIRE_EHLEN;
    m->name = rb_name(&h, namew, &m->name_len, &m->lossy, &m->name_junk);
    m->link = rb_name(&h, linkw, &m->link_len, &m->lossy, &m->link_junk);
    return msg_end(&h, &b, &m->lossy, &m->ids, len);
}

static bool name_ok(const char *s, size_t n)
{
    return n <= WIRE_MAX_PATH && (n == 0 || (s && !memchr(s, 0, n)));
}

ssize_t wire_fileinfo_encode(uint8_t *out, size_t cap, const struct wire_fileinfo *m)
{
    if (!ver_ok(m->ver))
        return WIRE_EVERSION;
    int v4 = m->ver == UFTP_VER4;
    if (!name_ok(m->name, m->name_len) || !name_ok(m->link, m->link_len) ||
        m->size > WIRE_MAX_FSIZE || m->mtime > (v4 ? UINT32_MAX : WIRE_MAX_FSIZE) ||
        !ts_ok(m->ver, m->tstamp) || !ids_ok(&m->ids))
        return WIRE_EINVAL;
    size_t namew = pad4(m->name_len) / 4, linkw = pad4(m->link_len) / 4;
    struct wbuf w = wb_msg(out, cap, FILEINFO, FILEINFO_FIXED + 4 * (namew + linkw));
    wb_u16(&w, m->file_id);
    wb_u8(&w, m->ftype);
    wb_u8(&w, 0);
    wb_u16(&w, v4 ? 0 : (uint16_t)(m->mtime >> 32));
    wb_u8(&w, (uint8_t)namew);
    wb_u8(&w, (uint8_t)linkw);
    wb_u16(&w, (uint16_t)(m->size >> 32));
    wb_u32(&w, (uint32_t)m->size);
    wb_u32(&w, (uint32_t)m->mtime);
    wb_ts(&w, m->ver, m->tstamp);
    wb_bytes(&w, m->name, m->name_len);
    wb_pad4(&w);
    wb_bytes(&w, m->link, m->link_len);
    wb_pad4(&w);
    ids_encode(&w, &m->ids);
    return wb_result(&w);
}

ssize_t wire_fileinfo_ack_decode(struct wire_fileinfo_ack *m, const uint8_t *p, size_t len)
{
    struct rbuf h, b;
    int rc = MSG_BEGIN(m, p, len, FILEINFO_ACK, FILEINFO_ACK_FIXED, &h, &b);
    if (rc)
        return rc;
    m->file_id = rb_u16(&h);
    m->flags = rb_u8(&h);
    rb_rsv(&h, 3, &m->lossy);
    if (!rb_ts(&h, m->ver, &m->tstamp, &m->lossy))
        return WIRE_ERANGE;
    return msg_end(&h, &b, &m->lossy, &m->ids, len);
}

ssize_t wire_fileinfo_ack_encode(uint8_t *out, size_t cap, const struct wire_fileinfo_ack *m)
{
    if (!ver_ok(m->ver))
        return WIRE_EVERSION;
    if (!ts_ok(m->ver, m->tstamp) || !ids_ok(&m->ids))
        return WIRE_EINVAL;
    struct wbuf w = wb_msg(out, cap, FILEINFO_ACK, FILEINFO_ACK_FIXED);
    wb_u16(&w, m->file_id);
    wb_u8(&w, m->flags);
    wb_zero(&w, 3);
    wb_ts(&w, m->ver, m->tstamp);
    ids_encode(&w, &m->ids);
    return wb_result(&w);
}
