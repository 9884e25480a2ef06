/*
 * A file's answers at a client or response proxy (spec §3.4): the
 * clients' FILEINFO_ACK and STATUS (NAKs) merged into aggregates
 * (core/proto/agg.h), and the aggregates upstream, sealed under our key in
 * an encrypted session. Everything the proxy does with STATUS is here.
 * Where 5.0.1 errs and we do not (spec §6 item 6): bitmaps are taken by
 * hlen and datagram length.
 */
#include <string.h>

#include "core/fec/fec.h"
#include "proxy/engine/proxy_int.h"

static const char nested[] =
    "client list in a client's answer: proxies behind proxies are not supported";

PROXY_HANDLER(p_xfer_fileinfo_ack)
{
    const struct wire_fileinfo_ack *fa = &in->m.u.fileinfo_ack;
    if (c->state == PC_ABORTED)
        return;
    if (fa->ids.n > 0) {
        p_drop(p, in->from, nested);
        return;
    }
    struct agg_msg am = {.func = FILEINFO_ACK,
                         .file_id = fa->file_id,
                         .partial = (fa->flags & FLAG_PARTIAL) != 0,
                         .has_echo = true,
                         .echo_us = fa->tstamp};
    p_aggq_add(p, s, &am, c->id);
}

size_t p_xfer_flush_fileinfo_ack(struct proxy *p, struct psession *s, const struct agg_slot *sl)
{
    struct wire_msg m;
    memset(&m, 0, sizeof(m));
    m.func = FILEINFO_ACK;
    m.u.fileinfo_ack.ver = s->version;
    m.u.fileinfo_ack.file_id = sl->file_id;
    m.u.fileinfo_ack.flags = sl->partial ? FLAG_PARTIAL : 0;
    m.u.fileinfo_ack.tstamp = agg_echo(sl, p->now);
    m.u.fileinfo_ack.ids = wire_ids_of(sl->ids, sl->nids);
    return p_send_up(p, s, &m, UP_APP) ? sl->nids : 0;
}

/*
 * The FEC layout a NAK bitmap of len bytes spans: which FEC block a section
 * block belongs to depends on K and S only (spec §9.2), so the bitmap's bits
 * stand in for the section's size, which the proxy does not track.
 */
static int bitmap_layout(const struct psession *s, size_t len, struct fec_layout *l)
{
    size_t bits = 8 * len;
    return fec_layout_init(l, bits < 65536 ? (uint32_t)bits : 65536, s->fec_k, s->fec_stride);
}

/*
 * A client's counts per FEC block from its NAK bitmap into out (8·blocksize
 * bytes; a layout has at most one FEC block per bit). Returns how many FEC
 * blocks the bitmap spans.
 */
static size_t fec_counts(const struct psession *s, const uint8_t *naks, size_t naks_len,
                         uint8_t *out)
{
    struct fec_layout l;
    if (naks_len > s->blocksize)
        naks_len = s->blocksize;
    if (bitmap_layout(s, naks_len, &l) < 0)
        return 0;
    memset(out, 0, l.nfb);
    fec_tally_max(&l, naks, naks_len, out);
    return l.nfb;
}

/* The bitmap of a count report (spec §9.4): the first count members of every FEC block. */
static size_t counts_bitmap(const struct psession *s, const struct agg_slot *sl, uint8_t *out)
{
    struct fec_layout l;
    if (bitmap_layout(s, sl->bits_len, &l) < 0) {
        memset(out, 0, sl->bits_len);
        return sl->bits_len;
    }
    if (l.nfb > sl->naks_len)
        l.nfb = (uint32_t)sl->naks_len;
    fec_counts_to_naks(&l, sl->naks, out, sl->bits_len);
    return sl->bits_len;
}

/* STATUS: the NAKs of one section, ORed over the clients. */
PROXY_HANDLER(p_xfer_status)
{
    const struct wire_status *st = &in->m.u.status;
    if (c->state == PC_ABORTED)
        return;
    PLOG(p, s, LL_DEBUG, "STATUS for file %u section %u from %08X", st->file_id, st->section,
         c->id);
    struct agg_msg am = {.func = STATUS,
                         .file_id = st->file_id,
                         .section = st->section,
                         .naks = st->naks,
                         .naks_len = st->naks_len,
                         .bits_len = st->naks_len,
                         .has_cc = st->has_tfmcc && st->tfmcc.tstamp != 0,
                         .cc_flags = st->tfmcc.flags,
                         .cc_seq = st->tfmcc.cc_seq,
                         .cc_rate = st->tfmcc.cc_rate,
                         .cc_id = c->id, /* who it is, whatever the info claims */
                         .cc_echo_us = st->tfmcc.tstamp};
    if (s->fec && c->decodes) {
        /* spec §9.4: a DECODE client's popcount per FEC block is what it needs; the
         * aggregate keeps the largest per FEC block (the sender's rule for direct ones). */
        am.counts = true;
        am.naks = s->fec_buf;
        am.naks_len = fec_counts(s, st->naks, st->naks_len, s->fec_buf);
    }
    int i = p_aggq_add(p, s, &am, c->id);
    if (c->via != 0) /* a downstream proxy's, held there half a GRTT (p_hold, spec §3.5) */
        agg_due_by(&s->agg, i, p->now + s->grtt_us / 2);
}

/* spec §3.4 [DIFF]: no client list (counted: its adds); the TFMCC_ACK_INFO of the client with
 * the lowest rate, which the reference leaves out (spec §1.7). */
size_t p_xfer_flush_status(struct proxy *p, struct psession *s, const struct agg_slot *sl)
{
    struct wire_msg m;
    memset(&m, 0, sizeof(m));
    m.func = STATUS;
    m.u.status.ver = s->version;
    m.u.status.file_id = sl->file_id;
    m.u.status.section = sl->section;
    m.u.status.naks = sl->naks;
    m.u.status.naks_len = sl->naks_len;
    if (sl->counts) {
        /* spec §9.4: a count report, for the session's K and S. */
        m.u.status.naks = s->fec_buf;
        m.u.status.naks_len = counts_bitmap(s, sl, s->fec_buf);
        m.u.status.has_fec = true;
        m.u.status.fec = (struct wire_fec_info){.version = WIRE_FEC_VERSION,
                                                .flags = FEC_F_COUNTS,
                                                .code = FEC_CODE_RS8_CAUCHY,
                                                .k = s->fec_k,
                                                .stride = s->fec_stride};
    }
    if (sl->has_cc) {
        m.u.status.has_tfmcc = true;
        m.u.status.tfmcc = (struct wire_tfmcc_ack){.flags = sl->cc_flags,
                                                   .cc_seq = sl->cc_seq,
                                                   .cc_rate = sl->cc_rate,
                                                   .client_id = sl->cc_id,
                                                   .tstamp = agg_cc_echo(sl, p->now)};
    }
    if (!p_send_up(p, s, &m, UP_APP))
        return 0;
    if (sl->counts)
        p->st.fec_counts++;
    return sl->adds;
}
