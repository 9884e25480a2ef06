/*
 * Datagrams out of the sender engine: queued control messages (one packet
 * per poll, ID lists split at blocksize/4 IDs, spec §1.4) and FILESEG
 * batches built back to back for one GSO send (DESIGN.md "The path of a
 * data packet").
 */
#include "sender/engine/sender_int.h"

#include <stdio.h>
#include <string.h>

#include "core/base/quant.h"

/*
 * Collects the next slice of IDs for list job j into ids (at most max).
 * Returns the count and advances the cursor; *end is set when the whole
 * table has been walked.
 */
static size_t collect(struct sender *s, struct sjob *j, uint32_t *ids, size_t max, bool *end)
{
    size_t n = 0;
    while (j->cursor < s->ndest && n < max) {
        struct sdest *d = &s->dests[j->cursor++];
        if (j->anystate ? d_error(d)
                        : d->state != j->filter && !(j->and_registered && d->state == D_REGISTERED))
            continue;
        /* Proxies answer for their clients: they are named only in ANNOUNCE and KEYINFO. */
        if (d->isproxy && j->func != ANNOUNCE && j->func != KEYINFO)
            continue;
        if (j->proxied && d->proxy == 0)
            continue;
        if (j->conf) {
            /* spec §1.4: one REG_CONF / DONE_CONF per message received. */
            if (d->conf_sent)
                continue;
            d->conf_sent = true;
        }
        ids[n++] = d->id;
    }
    *end = j->cursor >= s->ndest;
    return n;
}

static void ip_bytes(const struct addr *a, uint8_t out[16])
{
    memset(out, 0, 16);
    addr_get_ip(a, out);
}

/* Encodes the message of job j after the header; returns its length or < 0. */
static ssize_t encode_job(struct sender *s, struct sjob *j, uint64_t now, uint8_t *p, size_t cap,
                          uint32_t *ids, size_t nids)
{
    struct wire_msg m;
    memset(&m, 0, sizeof(m));
    m.func = j->func;
    struct wire_ids list = wire_ids_of(ids, nids);
    switch (j->func) {
    case ANNOUNCE: {
        struct wire_announce *a = &m.u.announce;
        a->ver = s->cfg.version;
        if (s->cfg.sync_mode || s->cfg.sync_preview)
            a->flags |= FLAG_SYNC_MODE;
        if (s->cfg.sync_preview)
            a->flags |= FLAG_SYNC_PREVIEW;
        if (s->ipv6)
            a->flags |= FLAG_IPV6;
        a->robust = s->cfg.robust;
        a->cc_type = s->cfg.cc_type;
        a->blocksize = s->cfg.blocksize;
        a->tstamp = s_wall(s, now);
        /* spec §2.1 -M: both addresses are zero in unicast mode. */
        if (!s->unicast) {
            ip_bytes(&s->cfg.pub, a->pub_addr);
            ip_bytes(&s->cfg.priv, a->priv_addr);
        }
        a->ids = list;
        if (s->keys != NULL) {
            a->has_enc = true;
            a->enc = *skeys_server_enc_info(s->keys);
        }
        sfec_announce(s, a);
        break;
    }
    case REG_CONF:
        m.u.reg_conf.ver = s->cfg.version;
        m.u.reg_conf.ids = list;
        break;
    case FILEINFO: {
        struct wire_fileinfo *f = &m.u.fileinfo;
        const struct file_item *it = s->file.it;
        f->ver = s->cfg.version;
        f->file_id = s->file.file_id;
        f->ftype = s->file.ftype;
        f->mtime = it->mtime > 0 ? (uint64_t)it->mtime : 0;
        f->size = s->file.ftype == FTYPE_REG ? it->size : 0;
        f->tstamp = s_wall(s, now);
        f->name = it->name;
        f->name_len = strlen(it->name);
        f->link = it->link ? it->link : "";
        f->link_len = s->file.ftype == FTYPE_LINK ? strlen(f->link) : 0;
        f->ids = list;
        break;
    }
    case DONE:
        m.u.done.ver = s->cfg.version;
        m.u.done.file_id = j->file_id;
        m.u.done.section = j->section;
        m.u.done.ids = list;
        break;
    case CONG_CTRL: {
        /* spec §1.7: the round, its suppression rate, our time, the CLR and RTTs. */
        struct wire_cc_item items[CC_MAX_ITEMS];
        size_t max = wire_max_cc_items(s->cfg.blocksize);
        struct wire_cong_ctrl *c = &m.u.cong_ctrl;
        c->ver = s->cfg.version;
        c->cc_seq = s->cctx.cc_seq;
        c->cc_rate = quant_rate_encode(tfmcc_tx_supp(&s->cctx));
        c->tstamp = s_wall(s, now);
        c->items.host = items;
        c->items.n = cc_items(s, items, max < CC_MAX_ITEMS ? max : CC_MAX_ITEMS);
        return wire_msg_encode(p, cap, &m);
    }
    case DONE_CONF:
        m.u.done_conf.ver = s->cfg.version;
        m.u.done_conf.ids = list;
        break;
    case ABORT:
        m.u.abort.ver = s->cfg.version;
        m.u.abort.flags = j->flags;
        m.u.abort.host = j->host;
        snprintf(m.u.abort.text, sizeof(m.u.abort.text), "%s", j->text);
        break;
    default:
        return WIRE_EFUNC;
    }
    return wire_msg_encode(p, cap, &m);
}

/* Messages sealed under the server application key (spec §1.8); ABORT to a peer goes in clear. */
static bool job_sealed(const struct sender *s, const struct sjob *j)
{
    return s->keys != NULL && (j->func == FILEINFO || j->func == DONE || j->func == DONE_CONF ||
                               j->func == CONG_CTRL || (j->func == ABORT && !j->to_peer));
}

/*
 * One KEYINFO packet (spec §1.4, §1.8): the next REGISTERED clients' group
 * master entries under one IV counter, signed. False when none is left.
 */
static bool xmit_keyinfo(struct sender *s, struct sjob *j, struct eng_out *out, bool *end)
{
    size_t max = wire_max_destkeys(s->cfg.blocksize), n = 0;
    uint64_t ctr = 0;
    while (j->cursor < s->ndest && n < max) {
        struct sdest *d = &s->dests[j->cursor++];
        if (d->state != D_REGISTERED || d->keys == NULL || !skeys_peer_keyed(d->keys))
            continue;
        if (n == 0 && skeys_server_keyinfo_ctr(s->keys, &ctr) != CRYPTO_OK) {
            SLOG(s, LL_ERR, "KEYINFO counter exhausted");
            break;
        }
        s->dk[n].id = d->id;
        if (skeys_server_wrap(s->keys, d->keys, ctr, s->dk[n].master) == CRYPTO_OK)
            n++;
    }
    *end = j->cursor >= s->ndest;
    if (n == 0)
        return false;
    struct wire_keyinfo k = {
        .ver = s->cfg.version,
        .iv_ctr = ctr,
        .sig = NULL, /* zeros, signed below */
        /* v4 KEYINFO carries no signature (spec §1.9) */
        .siglen = s->cfg.version == UFTP_VER4 ? 0 : (uint16_t)skeys_server_siglen(s->keys),
        .keys = {.host = s->dk, .n = n}};
    uint8_t *p = out->buf;
    ssize_t m = wire_keyinfo_encode(p + UFTP_HDR_LEN, out->cap - UFTP_HDR_LEN, &k);
    if (m < 0) {
        SLOG(s, LL_ERR, "cannot encode KEYINFO: %s", wire_strerror((int)m));
        return false;
    }
    xmit_hdr(s, p, KEYINFO);
    size_t len = UFTP_HDR_LEN + (size_t)m;
    if (skeys_server_sign_keyinfo(s->keys, p, len) != CRYPTO_OK) {
        SLOG(s, LL_ERR, "cannot sign KEYINFO");
        return false;
    }
    out->kind = ENG_SEND;
    out->dst = s->data_dst;
    out->len = out->seglen = len;
    out->nseg = 1;
    SLOG(s, LL_DEBUG, "sending KEYINFO (%zu entries, ctr %llu)", n, (unsigned long long)ctr);
    return true;
}

int xmit_job(struct sender *s, uint64_t now, struct eng_out *out)
{
    while (s->job_n > 0) {
        struct sjob *j = &s->jobs[s->job_head];
        uint32_t ids[UFTP_MAX_BLOCKSIZE / 4];
        size_t nids = 0;
        bool end = true, emit = true;
        size_t max = wire_max_ids(s->cfg.blocksize);

        switch (j->func) {
        case KEYINFO: /* built, signed and sent by xmit_keyinfo */
            emit = xmit_keyinfo(s, j, out, &end);
            break;
        case ANNOUNCE:
            if (s->open_group) {
                end = true; /* an open ANNOUNCE carries no list */
            } else {
                if (s->keys != NULL) {
                    /* The signed EXT_ENC_INFO takes room: the datagram stays within 9000. */
                    const struct wire_enc_info *e = skeys_server_enc_info(s->keys);
                    size_t hdr = UFTP_HDR_LEN + 16 + 2 * 16 + WIRE_ENC_INFO_FIXED + e->keylen +
                                 e->dhlen + e->siglen + WIRE_FEC_INFO_LEN;
                    size_t room = (UFTP_MAX_DATAGRAM - hdr) / 4;
                    if (room < max)
                        max = room;
                }
                nids = collect(s, j, ids, max, &end);
                emit = nids > 0;
            }
            break;
        case REG_CONF:
        case FILEINFO:
        case DONE_CONF:
        case DONE:
            nids = collect(s, j, ids, max, &end);
            /* spec §7 item 9: DONE may go out with an empty list. */
            emit = nids > 0 || (j->func == DONE && end && !j->sent_any);
            break;
        case ABORT:
            end = true;
            break;
        case CONG_CTRL:
            end = true;
            emit = s->cc && s->phase == SP_DATA;
            break;
        default:
            end = true;
            emit = false;
        }
        if (end) {
            s->job_head = (s->job_head + 1) % SJOB_RING;
            s->job_n--;
        }
        if (!emit)
            continue;
        if (j->func == KEYINFO)
            return XMIT_SENT;
        j->sent_any = true;

        uint8_t *p = out->buf;
        bool sealed = job_sealed(s, j);
        size_t off = sealed ? SKEYS_MSG_OFF : UFTP_HDR_LEN;
        ssize_t n = encode_job(s, j, now, p + off, out->cap - off - AEAD_TAG_LEN, ids, nids);
        if (n < 0) {
            SLOG(s, LL_ERR, "cannot encode %s: %s", wire_func_name(j->func), wire_strerror((int)n));
            continue;
        }
        xmit_hdr(s, p, j->func);
        size_t len = UFTP_HDR_LEN + (size_t)n;
        if (sealed) {
            ssize_t sl = xmit_seal(s, p, (size_t)n, out->cap, false);
            if (sl < 0)
                return (int)sl;
            len = (size_t)sl;
        } else if (j->func == ANNOUNCE && s->keys != NULL &&
                   skeys_server_sign_announce(s->keys, p, len) != CRYPTO_OK) {
            SLOG(s, LL_ERR, "cannot sign ANNOUNCE");
            continue;
        }
        out->kind = ENG_SEND;
        out->dst = j->func == ANNOUNCE ? s->cfg.pub : (j->to_peer ? j->peer : s->data_dst);
        out->len = out->seglen = len;
        out->nseg = 1;
        SLOG(s, LL_DEBUG, "sending %s (%zu IDs, seq %u)", wire_func_name(j->func), nids,
             (unsigned)(uint16_t)(s->seq - 1));
        return XMIT_SENT;
    }
    return XMIT_NONE;
}

uint64_t xmit_data_due(const struct sender *s, uint64_t now)
{
    if (!s_sending(s) || (s->file.cursor >= s->file.lay.blocks && !sfec_pending(s)))
        return ENG_NEVER;
    return pace_due(&s->pace, now, s->pace.target);
}

/* FILESEG header bytes after the UFTP header, and with EXT_TFMCC_DATA_INFO (spec §1.7). */
#define FILESEG_HDR    8
#define FILESEG_HDR_CC 16

int xmit_data(struct sender *s, uint64_t now, struct eng_out *out)
{
    struct sfile *f = &s->file;
    if (!s_sending(s))
        return XMIT_NONE;
    /* Parity due before the cursor's blocks (spec §9.4, §9.5). */
    int prc = sfec_xmit(s, now, out);
    if (prc != XMIT_NONE || f->cursor >= f->lay.blocks)
        return prc;

    /* Encrypted: UFTP header, ENCRYPTED header, FILESEG, tag (sealed in place below). */
    size_t moff = s->moff;
    size_t fhdr = s->cc ? FILESEG_HDR_CC : FILESEG_HDR;
    size_t seglen = moff + fhdr + s->cfg.blocksize + (s->keys ? AEAD_TAG_LEN : 0);
    size_t max = out->max_seg < ENG_MAX_SEG ? out->max_seg : ENG_MAX_SEG;
    if (max > out->cap / seglen)
        max = out->cap / seglen;
    if (max == 0)
        max = 1; /* cap ≥ ENG_MIN_BUF holds one full datagram */
    uint32_t n = pace_allow(&s->pace, now, (uint32_t)max);
    if (n == 0)
        return XMIT_NONE;

    /* One contiguous run of blocks to send: one storage read. */
    uint32_t first = f->cursor;
    uint32_t k = 0;
    while (k < n && first + k < f->lay.blocks && bitmap_get(&f->naks, first + k))
        k++;

    size_t total = 0, datalen = 0;
    for (uint32_t i = 0; i < k; i++) {
        uint32_t blk = first + i;
        uint32_t bytes = blocks_bytes(&f->lay, blk);
        uint8_t *seg = out->buf + (size_t)i * seglen;
        uint16_t sec = 0, sb = 0;
        blocks_from_abs(&f->lay, blk, &sec, &sb);
        struct wire_fileseg fs = {
            .ver = s->cfg.version,
            .file_id = f->file_id,
            .section = sec,
            .sec_block = sb,
            .data = NULL, /* read straight into the packet below */
            .data_len = bytes,
        };
        if (s->cc) {
            fs.has_tfmcc = true;
            fs.tfmcc =
                (struct wire_tfmcc_data){.send_rate = quant_rate_encode(s->rate_Bps),
                                         .cc_seq = s->cctx.cc_seq,
                                         .cc_rate = quant_rate_encode(tfmcc_tx_supp(&s->cctx))};
        }
        xmit_hdr(s, seg, FILESEG);
        wire_fileseg_encode(seg + moff, seglen - moff, &fs);
        s->iov[i].iov_base = seg + moff + fhdr;
        s->iov[i].iov_len = bytes;
        datalen += bytes;
        total = (size_t)i * seglen + moff + fhdr + bytes + (s->keys ? AEAD_TAG_LEN : 0);
        if (s->st.section != sec)
            SLOG(s, LL_VERBOSE, "sending section %u", (unsigned)sec);
        s->st.section = sec;
    }

    ssize_t got =
        s->env.storage.read(s->env.ctx, f->h, blocks_offset(&f->lay, first), s->iov, (int)k);
    if (got < 0 || (size_t)got != datalen) {
        SLOG(s, LL_ERR, "read of %s failed: %s", f->it->path,
             got < 0 ? file_strerror((int)got) : "file shrank");
        /* The sequence numbers written above are simply skipped. */
        return XMIT_EREAD;
    }

    if (s->keys != NULL) {
        /* Seal each segment in place: no copy, no allocation (DESIGN.md). */
        for (uint32_t i = 0; i < k; i++) {
            uint8_t *seg = out->buf + (size_t)i * seglen;
            size_t mlen = fhdr + s->iov[i].iov_len;
            ssize_t sl = xmit_seal(s, seg, mlen, seglen, true);
            if (sl < 0)
                return (int)sl;
        }
    }
    for (uint32_t i = 0; i < k; i++)
        bitmap_clear(&f->naks, first + i);
    if (!bitmap_ok(&f->naks)) {
        SLOG(s, LL_ERR, "out of memory for the block map of %s", f->it->path);
        return XMIT_ENOMEM;
    }
    f->cursor = bitmap_next_set(&f->naks, first + k);
    pace_sent(&s->pace, now, k);

    s->st.data_packets += k;
    s->st.data_bytes += datalen;
    out->kind = ENG_SEND;
    out->dst = s->data_dst;
    out->seglen = seglen;
    out->nseg = k;
    out->len = total;
    return f->cursor >= f->lay.blocks && !sfec_pending(s) ? XMIT_PASS_END : XMIT_SENT;
}
