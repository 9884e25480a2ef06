/* ANNOUNCE, EXT_ENC_INFO, REGISTER, CLIENT_KEY, REG_CONF, KEYINFO, KEYINFO_ACK (spec §1.4). */
#include "core/wire/announce.h"

#include "core/wire/wire_int.h"

/* ---- EXT_ENC_INFO ---- */

ssize_t wire_enc_info_decode(struct wire_enc_info *e, const uint8_t *p, size_t len)
{
    MSG_CLEAR(e);
    uint8_t ver = e->ver;
    if (!ver_ok(ver))
        return WIRE_EVERSION;
    struct rbuf r;
    int rc = frame_open(p, len, EXT_ENC_INFO, WIRE_ENC_INFO_FIXED, &r);
    if (rc)
        return rc;
    size_t el = r.len;
    rb_skip(&r, 2);
    e->flags = rb_u8(&r);
    uint8_t b3 = rb_u8(&r);
    if (ver == UFTP_VER4) {
        /* spec §1.9: v4 packs keyextype<<4 | sigtype here. */
        e->keyextype = b3 >> 4;
        e->sigtype = b3 & 0x0F;
    } else if (b3) {
        e->lossy = true;
    }
    e->keytype = rb_u8(&r);
    e->hashtype = rb_u8(&r);
    e->keylen = rb_u16(&r);
    e->dhlen = rb_u16(&r);
    e->siglen = rb_u16(&r);
    rb_copy(&r, e->rand1, WIRE_RAND_LEN);
    /* The reference requires extlen*4 == 44 + keylen + dhlen + siglen exactly. */
    if ((size_t)WIRE_ENC_INFO_FIXED + e->keylen + e->dhlen + e->siglen != el)
        return WIRE_ECOUNT;
    e->keyblob = rb_ptr(&r, e->keylen);
    e->dhblob = rb_ptr(&r, e->dhlen);
    e->sig = rb_ptr(&r, e->siglen);
    if (!rb_done(&r))
        return WIRE_EHLEN; /* unreachable: lengths were checked */
    e->raw = p;
    e->raw_len = el;
    return (ssize_t)el;
}

/* EXT_ENC_INFO inside ANNOUNCE, as an ext_slot reader. */
static int enc_info_read(struct rbuf *ext, uint8_t ver, void *val, bool *lossy)
{
    struct wire_enc_info *e = val;
    e->ver = ver;
    ssize_t n = wire_enc_info_decode(e, ext->p, ext->len);
    if (n < 0)
        return (int)n;
    *lossy |= e->lossy;
    return 1;
}

static size_t enc_info_len(const struct wire_enc_info *e)
{
    return (size_t)WIRE_ENC_INFO_FIXED + e->keylen + e->dhlen + e->siglen;
}

/* Validation shared with ANNOUNCE, so that EINVAL never hides behind ENOSPC. */
static int enc_info_check(const struct wire_enc_info *e, uint8_t ver)
{
    size_t el = enc_info_len(e);
    if (el % 4 || el > WIRE_MAX_HLEN)
        return WIRE_EINVAL;
    if (ver == UFTP_VER4 ? (e->keyextype > 15 || e->sigtype > 15) : (e->keyextype || e->sigtype))
        return WIRE_EINVAL;
    return 0;
}

static void enc_info_write(struct wbuf *w, const struct wire_enc_info *e, uint8_t ver)
{
    wb_u8(w, EXT_ENC_INFO);
    wb_u8(w, (uint8_t)(enc_info_len(e) / 4));
    wb_u8(w, e->flags);
    wb_u8(w, ver == UFTP_VER4 ? (uint8_t)(e->keyextype << 4 | e->sigtype) : 0);
    wb_u8(w, e->keytype);
    wb_u8(w, e->hashtype);
    wb_u16(w, e->keylen);
    wb_u16(w, e->dhlen);
    wb_u16(w, e->siglen);
    wb_bytes(w, e->rand1, WIRE_RAND_LEN);
    wb_blob(w, e->keyblob, e->keylen);
    wb_blob(w, e->dhblob, e->dhlen);
    wb_blob(w, e->sig, e->siglen);
}

ssize_t wire_enc_info_encode(uint8_t *out, size_t cap, const struct wire_enc_info *e)
{
    if (!ver_ok(e->ver))
        return WIRE_EVERSION;
    int rc = enc_info_check(e, e->ver);
    if (rc)
        return rc;
    struct wbuf w = wb_init(out, cap);
    enc_info_write(&w, e, e->ver);
    return wb_result(&w);
}

/* ---- ANNOUNCE ---- */

#define ANNOUNCE_FIXED 16

static size_t announce_iplen(uint8_t flags)
{
    return (flags & FLAG_IPV6) ? 16 : 4;
}

ssize_t wire_announce_decode(struct wire_announce *m, const uint8_t *p, size_t len)
{
    struct rbuf h, b;
    int rc = MSG_BEGIN(m, p, len, ANNOUNCE, ANNOUNCE_FIXED, &h, &b);
    if (rc)
        return rc;
    m->flags = rb_u8(&h);
    m->robust = rb_u8(&h);
    m->cc_type = rb_u8(&h);
    rb_rsv(&h, 1, &m->lossy);
    m->blocksize = rb_u16(&h);
    if (!rb_ts(&h, m->ver, &m->tstamp, &m->lossy))
        return WIRE_ERANGE;
    size_t iplen = announce_iplen(m->flags);
    /* spec §1.4: hlen*4 ≥ 16 + 2·iplen. */
    rb_copy(&h, m->pub_addr, iplen);
    rb_copy(&h, m->priv_addr, iplen);
    if (h.err)
        return WIRE_EHLEN;
    struct ext_slot ext[] = {{EXT_FEC_INFO, ext_fec_read, &m->fec, &m->has_fec},
                             {EXT_ENC_INFO, enc_info_read, &m->enc, &m->has_enc}};
    if ((rc = ext_read(&h, m->ver, &m->lossy, ext, 2)))
        return rc;
    return msg_end(&h, &b, &m->lossy, &m->ids, len);
}

ssize_t wire_announce_encode(uint8_t *out, size_t cap, const struct wire_announce *m)
{
    if (!ver_ok(m->ver))
        return WIRE_EVERSION;
    size_t iplen = announce_iplen(m->flags);
    size_t hl = ANNOUNCE_FIXED + 2 * iplen;
    if (m->has_enc) {
        int rc = enc_info_check(&m->enc, m->ver);
        if (rc)
            return rc;
        hl += enc_info_len(&m->enc);
    }
    if (m->has_fec) {
        if (!ext_fec_ok(&m->fec))
            return WIRE_EINVAL;
        hl += WIRE_FEC_INFO_LEN;
    }
    if (hl > WIRE_MAX_HLEN || !ts_ok(m->ver, m->tstamp) || !ids_ok(&m->ids))
        return WIRE_EINVAL;
    struct wbuf w = wb_msg(out, cap, ANNOUNCE, hl);
    wb_u8(&w, m->flags);
    wb_u8(&w, m->robust);
    wb_u8(&w, m->cc_type);
    wb_u8(&w, 0);
    wb_u16(&w, m->blocksize);
    wb_ts(&w, m->ver, m->tstamp);
    wb_bytes(&w, m->pub_addr, iplen);
    wb_bytes(&w, m->priv_addr, iplen);
    if (m->has_enc)
        enc_info_write(&w, &m->enc, m->ver);
    if (m->has_fec)
        ext_fec_write(&w, &m->fec);
    ids_encode(&w, &m->ids);
    return wb_result(&w);
}

/* ---- REGISTER ---- */

#define REGISTER_FIXED 44

ssize_t wire_register_decode(struct wire_register *m, const uint8_t *p, size_t len)
{
    struct rbuf h, b;
    int rc = MSG_BEGIN(m, p, len, REGISTER, REGISTER_FIXED, &h, &b);
    if (rc)
        return rc;
    m->dhlen = rb_u16(&h);
    if (!rb_ts(&h, m->ver, &m->tstamp, &m->lossy))
        return WIRE_ERANGE;
    rb_copy(&h, m->rand2, WIRE_RAND_LEN);
    if (m->dhlen > rb_left(&h))
        return WIRE_ECOUNT;
    m->dhblob = rb_ptr(&h, m->dhlen);
    rb_pad4(&h, &m->lossy);
    struct ext_slot ext = {EXT_FEC_INFO, ext_fec_read, &m->fec, &m->has_fec};
    if ((rc = ext_read(&h, m->ver, &m->lossy, &ext, 1)))
        return rc;
    return msg_end(&h, &b, &m->lossy, &m->ids, len);
}

ssize_t wire_register_encode(uint8_t *out, size_t cap, const struct wire_register *m)
{
    if (!ver_ok(m->ver))
        return WIRE_EVERSION;
    size_t hl = pad4(REGISTER_FIXED + (size_t)m->dhlen) + (m->has_fec ? WIRE_FEC_INFO_LEN : 0);
    if (hl > WIRE_MAX_HLEN || !ts_ok(m->ver, m->tstamp) || !ids_ok(&m->ids) ||
        (m->has_fec && !ext_fec_ok(&m->fec)))
        return WIRE_EINVAL;
    struct wbuf w = wb_msg(out, cap, REGISTER, hl);
    wb_u16(&w, m->dhlen);
    wb_ts(&w, m->ver, m->tstamp);
    wb_bytes(&w, m->rand2, WIRE_RAND_LEN);
    wb_blob(&w, m->dhblob, m->dhlen);
    wb_pad4(&w);
    if (m->has_fec)
        ext_fec_write(&w, &m->fec);
    ids_encode(&w, &m->ids);
    return wb_result(&w);
}

/* ---- CLIENT_KEY ---- */

#define CLIENT_KEY_FIXED 8

ssize_t wire_client_key_decode(struct wire_client_key *m, const uint8_t *p, size_t len)
{
    struct rbuf h, b;
    int rc = MSG_BEGIN(m, p, len, CLIENT_KEY, CLIENT_KEY_FIXED, &h, &b);
    if (rc)
        return rc;
    rb_rsv(&h, 2, &m->lossy);
    m->keylen = rb_u16(&h);
    m->siglen = rb_u16(&h);
    if ((size_t)m->keylen + m->siglen > rb_left(&h))
        return WIRE_ECOUNT;
    m->keyblob = rb_ptr(&h, m->keylen);
    m->sig = rb_ptr(&h, m->siglen);
    rb_pad4(&h, &m->lossy);
    return msg_end(&h, &b, &m->lossy, NULL, len);
}

ssize_t wire_client_key_encode(uint8_t *out, size_t cap, const struct wire_client_key *m)
{
    if (!ver_ok(m->ver))
        return WIRE_EVERSION;
    size_t hl = pad4(CLIENT_KEY_FIXED + (size_t)m->keylen + m->siglen);
    if (hl > WIRE_MAX_HLEN)
        return WIRE_EINVAL;
    struct wbuf w = wb_msg(out, cap, CLIENT_KEY, hl);
    wb_u16(&w, 0);
    wb_u16(&w, m->keylen);
    wb_u16(&w, m->siglen);
    wb_blob(&w, m->keyblob, m->keylen);
    wb_blob(&w, m->sig, m->siglen);
    wb_pad4(&w);
    return wb_result(&w);
}

/* ---- REG_CONF ---- */

#define REG_CONF_FIXED 4

ssize_t wire_reg_conf_decode(struct wire_reg_conf *m, const uint8_t *p, size_t len)
{
    struct rbuf h, b;
    int rc = MSG_BEGIN(m, p, len, REG_CONF, REG_CONF_FIXED, &h, &b);
    if (rc)
        return rc;
    rb_rsv(&h, 2, &m->lossy);
    return msg_end(&h, &b, &m->lossy, &m->ids, len);
}

ssize_t wire_reg_conf_encode(uint8_t *out, size_t cap, const struct wire_reg_conf *m)
{
    if (!ver_ok(m->ver))
        return WIRE_EVERSION;
    if (!ids_ok(&m->ids))
        return WIRE_EINVAL;
    struct wbuf w = wb_msg(out, cap, REG_CONF, REG_CONF_FIXED);
    wb_u16(&w, 0);
    ids_encode(&w, &m->ids);
    return wb_result(&w);
}

/* ---- KEYINFO ---- */

#define KEYINFO_FIXED 12

void wire_destkeys_get(const struct wire_destkeys *l, size_t i, struct wire_destkey *out)
{
    if (l->be) {
        const uint8_t *q = l->be + WIRE_DESTKEY_LEN * i;
        out->id = be32_get(q);
        memcpy(out->master, q + 4, WIRE_ENC_MASTER_LEN);
    } else {
        *out = l->host[i];
    }
}

const uint8_t *wire_destkeys_find(const struct wire_destkeys *l, uint32_t id)
{
    for (size_t i = 0; i < l->n; i++) {
        if (l->be) {
            const uint8_t *q = l->be + WIRE_DESTKEY_LEN * i;
            if (be32_get(q) == id)
                return q + 4;
        } else if (l->host[i].id == id) {
            return l->host[i].master;
        }
    }
    return NULL;
}

ssize_t wire_keyinfo_decode(struct wire_keyinfo *m, const uint8_t *p, size_t len)
{
    struct rbuf h, b;
    int rc = MSG_BEGIN(m, p, len, KEYINFO, KEYINFO_FIXED, &h, &b);
    if (rc)
        return rc;
    if (m->ver == UFTP_VER4)
        rb_rsv(&h, 2, &m->lossy); /* spec §1.9: v4 KEYINFO is unsigned */
    else
        m->siglen = rb_u16(&h);
    m->iv_ctr = rb_u64(&h);
    if (m->siglen > rb_left(&h))
        return WIRE_ECOUNT;
    m->sig = rb_ptr(&h, m->siglen);
    rb_pad4(&h, &m->lossy);
    if ((rc = ext_skip_all(&h, &m->lossy)) < 0 ||
        (rc = body_array(&b, WIRE_DESTKEY_LEN, &m->keys.be, &m->keys.n)))
        return rc;
    return (ssize_t)len;
}

ssize_t wire_keyinfo_encode(uint8_t *out, size_t cap, const struct wire_keyinfo *m)
{
    if (!ver_ok(m->ver))
        return WIRE_EVERSION;
    size_t hl = pad4(KEYINFO_FIXED + (size_t)m->siglen);
    if (hl > WIRE_MAX_HLEN || (m->ver == UFTP_VER4 && m->siglen) ||
        (m->keys.n && !m->keys.be && !m->keys.host))
        return WIRE_EINVAL;
    struct wbuf w = wb_msg(out, cap, KEYINFO, hl);
    wb_u16(&w, m->siglen);
    wb_u64(&w, m->iv_ctr);
    wb_blob(&w, m->sig, m->siglen);
    wb_pad4(&w);
    if (wb_array(&w, m->keys.be, m->keys.n, WIRE_DESTKEY_LEN)) {
        for (size_t i = 0; i < m->keys.n; i++) {
            wb_u32(&w, m->keys.host[i].id);
            wb_bytes(&w, m->keys.host[i].master, WIRE_ENC_MASTER_LEN);
        }
    }
    return wb_result(&w);
}

/* ---- KEYINFO_ACK ---- */

#define KEYINFO_ACK_FIXED    4
#define KEYINFO_ACK_V4_FIXED 16

ssize_t wire_keyinfo_ack_decode(struct wire_keyinfo_ack *m, const uint8_t *p, size_t len)
{
    struct rbuf h, b;
    int v4 = m->ver == UFTP_VER4;
    int rc =
        MSG_BEGIN(m, p, len, KEYINFO_ACK, v4 ? KEYINFO_ACK_V4_FIXED : KEYINFO_ACK_FIXED, &h, &b);
    if (rc)
        return rc;
    if (v4) {
        /* spec §1.9: v4 has a reserved field and a fixed 12-byte verify value. */
        rb_rsv(&h, 2, &m->lossy);
        m->verify_len = WIRE_V4_VERIFY_LEN;
    } else {
        m->verify_len = rb_u16(&h);
        if (m->verify_len > rb_left(&h))
            return WIRE_ECOUNT;
        if (m->verify_len == 0 && rb_left(&h) > 0) {
            /* 5.0.1 clients leave verify_len 0 and size the data by hlen;
             * its server reads hash_len bytes after the fixed part. */
            m->verify_len = (uint16_t)rb_left(&h);
            m->lossy = true;
        }
    }
    m->verify = rb_ptr(&h, m->verify_len);
    rb_pad4(&h, &m->lossy);
    return msg_end(&h, &b, &m->lossy, NULL, len);
}

ssize_t wire_keyinfo_ack_encode(uint8_t *out, size_t cap, const struct wire_keyinfo_ack *m)
{
    if (!ver_ok(m->ver))
        return WIRE_EVERSION;
    size_t hl = pad4(KEYINFO_ACK_FIXED + (size_t)m->verify_len);
    if (hl > WIRE_MAX_HLEN || (m->ver == UFTP_VER4 && m->verify_len != WIRE_V4_VERIFY_LEN))
        return WIRE_EINVAL;
    struct wbuf w = wb_msg(out, cap, KEYINFO_ACK, hl);
    wb_u16(&w, m->ver == UFTP_VER4 ? 0 : m->verify_len);
    wb_blob(&w, m->verify, m->verify_len);
    wb_pad4(&w);
    return wb_result(&w);
}
