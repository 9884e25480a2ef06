/* Parity repair in the receiver (ours, issue 17; spec §9, DESIGN.md "Parity repair (FEC)"):
 * the ANNOUNCE's offer (answered DECODE in REGISTER, reply.c), FEC_PARITY held in the file's
 * parity store (core/fec/fecrx.h), a FEC block rebuilt (core/fec) as soon as it holds as many
 * symbols as it has source blocks, and the STATUS bitmap less what held parity covers. */
#include "receiver/engine/recv_int.h"

#include <errno.h>

#include "core/fec/fec.h"

/* Parity slots of a file: memory follows the parity held (fecrx.h); a full store drops. */
#define RFEC_SLOTS 4096

void rfec_offer(struct receiver *r, struct rsession *s, const struct wire_announce *a)
{
    /* spec §9.1, §9.6: version 1, our code, a sender that sends; v5 only. */
    s->fec = !r->cfg.fec_off && r->env.storage.read != NULL && s->version == UFTP_VER5 &&
             a->has_fec && a->fec.version == WIRE_FEC_VERSION && (a->fec.flags & FEC_F_SEND) &&
             a->fec.code == FEC_CODE_RS8_CAUCHY && a->fec.k >= 1 && a->fec.stride >= 1;
    if (s->fec) {
        s->fec_k = a->fec.k;
        s->fec_stride = a->fec.stride;
    }
}

void rfec_engine_free(struct receiver *r)
{
    fec_codec_free(r->fec_codec);
    free(r->fec_buf);
    r->fec_codec = NULL;
    r->fec_buf = NULL;
}

/* Source blocks of FEC block fb (of section sec) not held. */
static unsigned missing_of(const struct rsession *s, uint32_t sec, const struct fec_layout *l,
                           uint32_t fb)
{
    uint32_t start = blocks_section_start(&s->f.lay, sec);
    unsigned k = fec_layout_size(l, fb), n = 0;
    for (unsigned i = 0; i < k; i++)
        n += bitmap_get(&s->f.missing, start + fec_layout_block(l, fb, i));
    return n;
}

/* Rebuilds FEC block fb from its held source blocks and parity, and stores what was missing. */
static int decode(struct receiver *r, struct rsession *s, uint32_t sec, const struct fec_layout *l,
                  uint32_t fb)
{
    struct rfile *f = &s->f;
    size_t bs = s->blocksize;
    unsigned k = fec_layout_size(l, fb);
    /* k source buffers (held ones read back, padded) and up to k rebuilt ones */
    size_t want = 2 * (size_t)k * bs;
    if (r->fec_cap < want) {
        uint8_t *b = realloc(r->fec_buf, want);
        if (b == NULL)
            return -ENOMEM;
        r->fec_buf = b;
        r->fec_cap = want;
    }
    if (r->fec_codec == NULL && fec_codec_new(&r->fec_codec) < 0)
        return -ENOMEM;
    const uint8_t *in[FEC_SYMBOLS];
    uint8_t ids[FEC_SYMBOLS];
    uint8_t *out[FEC_MAX_K];
    uint8_t lost[FEC_MAX_K];
    unsigned n = 0;
    uint32_t start = blocks_section_start(&f->lay, sec);
    for (unsigned i = 0; i < k; i++) {
        uint32_t abs = start + fec_layout_block(l, fb, i);
        if (bitmap_get(&f->missing, abs))
            continue;
        uint8_t *p = r->fec_buf + (size_t)n * bs;
        uint32_t len = blocks_bytes(&f->lay, abs);
        int rc = r->env.storage.read(r->env.ctx, f->h, blocks_offset(&f->lay, abs), p, len);
        if (rc < 0)
            return rc;
        memset(p + len, 0, bs - len);
        in[n] = p;
        ids[n++] = (uint8_t)i;
    }
    n += fec_rx_parity(f->fec, (uint16_t)sec, (uint16_t)fb, in + n, ids + n, FEC_SYMBOLS - n);
    for (unsigned i = 0; i < k; i++)
        out[i] = r->fec_buf + (size_t)(k + i) * bs;
    int e = fec_decode(r->fec_codec, k, bs, in, ids, n, out, lost);
    fec_rx_release(f->fec, (uint16_t)sec, (uint16_t)fb);
    if (e < 0) {
        /* Cannot happen with a Cauchy code and k symbols; the blocks stay NAKed. */
        RLOG(r, s, LL_WARN, "cannot decode FEC block %u of section %u: %s", fb, sec,
             fec_strerror(e));
        return 0;
    }
    for (int j = 0; j < e; j++) {
        uint32_t abs = start + fec_layout_block(l, fb, lost[j]);
        if (!bitmap_get(&f->missing, abs))
            continue;
        uint32_t len = blocks_bytes(&f->lay, abs);
        int rc = r->env.storage.write(r->env.ctx, f->h, blocks_offset(&f->lay, abs), out[j], len);
        if (rc < 0)
            return rc;
        bitmap_clear(&f->missing, abs);
        if (!bitmap_ok(&f->missing))
            return -ENOMEM;
        f->sec_missing[sec]--;
        f->nmissing--;
        r->st.fec_decoded++;
        r->st.data_bytes += len; /* file data received, by parity */
    }
    RLOG(r, s, LL_DEBUG, "rebuilt %d block(s) of FEC block %u, section %u", e, fb, sec);
    return 0;
}

/* A write failed while decoding: the file is refused as for a FILESEG (xfer.c). */
static int fail(struct receiver *r, struct rsession *s, int rc)
{
    RLOG(r, s, LL_ERR, "decoding parity of %s: %s; file rejected", s->f.name, file_strerror(rc));
    rfile_discard(r, s);
    return rfile_result(r, s, COMP_STAT_REJECTED);
}

/* A FEC_PARITY dropped: counted and logged, and the session goes on. */
static int refuse(struct receiver *r, struct rsession *s, const char *why)
{
    r->st.fec_dropped++;
    RLOG(r, s, LL_PROTO, "rejecting FEC_PARITY: %s", why);
    return FSM_NEXT;
}

/* FEC_PARITY in RECEIVING (spec §9.3): checked, held, and decoded when it completes a FEC block. */
RECV_ACTION(fec_parity)
{
    const struct rmsg *msg = arg;
    const struct wire_fec_parity *p = &msg->m->u.fec_parity;
    struct rfile *f = &s->f;
    slot_timeout(r, s, false);
    if (!s->fec)
        return refuse(r, s, "parity not negotiated");
    if (p->file_id != f->rf.file_id || f->rf.ftype != FTYPE_REG)
        return refuse(r, s, "not the current file");
    if (p->section >= f->lay.sections || p->code != FEC_CODE_RS8_CAUCHY ||
        p->data_len != s->blocksize)
        return refuse(r, s, "section, code or length");
    struct fec_layout l;
    rfec_layout(s, p->section, &l);
    if (p->fec_block >= l.nfb || p->k != fec_layout_size(&l, p->fec_block))
        return refuse(r, s, "FEC block outside the layout");
    /* Like FILESEG (xfer.c): the newest packet of a later section starts the NAK timer. */
    if (msg->h->seq == s->max_txseq) {
        if (p->section > f->last_section && f->nak_at == 0)
            reply_nak_arm(r, s, f->last_section, p->section, false);
        f->last_section = p->section;
    }
    unsigned missing = missing_of(s, p->section, &l, p->fec_block);
    if (missing == 0) {
        r->st.fec_parity++; /* in time, but the FEC block is whole already */
        return FSM_NEXT;
    }
    if (f->fec == NULL) {
        size_t slots = f->lay.blocks < RFEC_SLOTS ? f->lay.blocks : RFEC_SLOTS;
        if (fec_rx_new(&f->fec, slots, s->blocksize) < 0)
            return refuse(r, s, "out of memory");
    }
    int rc = fec_rx_add(f->fec, p->section, p->fec_block, p->k, p->parity, missing, p->data);
    if (rc < 0 || rc == FEC_RX_FULL)
        return refuse(r, s, rc < 0 ? "inconsistent with earlier parity" : "parity store full");
    r->st.fec_parity++;
    if (rc == FEC_RX_DECODE && (rc = decode(r, s, p->section, &l, p->fec_block)) < 0)
        return fail(r, s, rc);
    /* Rebuilt after the file's DONE: COMPLETE now, not at the next DONE (spec §9.4). */
    if (f->nmissing == 0 && f->done_seen && !f->nak_emit)
        return rfile_finish(r, s);
    return FSM_NEXT;
}

int rfec_source(struct receiver *r, struct rsession *s, uint16_t sec, uint16_t sb)
{
    struct rfile *f = &s->f;
    struct fec_layout l;
    rfec_layout(s, sec, &l);
    uint32_t fb = fec_layout_fb(&l, sb, NULL);
    if (fec_rx_held(f->fec, sec, (uint16_t)fb) == 0)
        return 0;
    unsigned missing = missing_of(s, sec, &l, fb);
    unsigned h = fec_rx_source(f->fec, sec, (uint16_t)fb, missing);
    if (missing > 0 && h >= missing)
        return decode(r, s, sec, &l, fb);
    return 0;
}
