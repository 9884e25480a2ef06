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
 * A client's counts per FEC block from its NAK bitmap (naks_len bytes) into
 * out (8·blocksize bytes): the FEC block of section block b depends on K and
 * S only (spec §9.2), so the section's size is not needed. Returns how many
 * FEC blocks the bitmap spans.
 */
static size_t fec_counts(const struct psession *s, const uint8_t *naks, size_t naks_len,
                         uint8_t *out)
{
    size_t cap = 8 * (size_t)s->blocksize;
    if (naks_len > s->blocksize)
        naks_len = s->blocksize;
    uint32_t bits = (uint32_t)naks_len * 8, span = (uint32_t)s->fec_k * s->fec_stride;
    size_t nfb = (size_t)((bits + span - 1) / span) * s->fec_stride;
    if (nfb > cap)
        nfb = cap;
    memset(out, 0, nfb);
    for (uint32_t i = 0; i < naks_len; i++) {
        for (uint8_t v = naks[i]; v != 0; v &= (uint8_t)(v - 1)) {
            uint32_t b = i * 8 + (uint32_t)__builtin_ctz(v);
            uint32_t fb = fec_fb_of(s->fec_k, s->fec_stride, b, NULL);
            if (fb < nfb && out[fb] < 255)
                out[fb]++;
        }
    }
    return nfb;
}

/* The bitmap of a count report (spec §9.4): the first count members of every FEC block. */
static size_t counts_bitmap(const struct psession *s, const struct agg_slot *sl, uint8_t *out)
{
    size_t len = sl->bits_len;
    memset(out, 0, len);
    uint32_t k = s->fec_k, st = s->fec_stride, bits = (uint32_t)len * 8;
    for (size_t fb = 0; fb < sl->naks_len; fb++) {
        uint32_t first = (uint32_t)(fb / st) * st * k + (uint32_t)(fb % st);
        for (uint32_t i = 0; i < sl->naks[fb] && i < k; i++) {
            uint32_t b = first + i * st;
            if (b < bits)
                out[b / 8] |= (uint8_t)(1u << (b % 8));
        }
    }
    return len;
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
    p_aggq_add(p, s, &am, c->id);
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
