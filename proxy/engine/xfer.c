/*
 * A file's answers at a client or response proxy (spec §3.4): the
 * clients' FILEINFO_ACK and STATUS (NAKs) merged into aggregates
 * (core/proto/agg.h), and the aggregates upstream, sealed under our key in
 * an encrypted session. Everything the proxy does with STATUS is here.
 * Where 5.0.1 errs and we do not (spec §6 item 6): bitmaps are taken by
 * hlen and datagram length.
 */
#include <string.h>

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
                         .has_cc = st->has_tfmcc && st->tfmcc.tstamp != 0,
                         .cc_flags = st->tfmcc.flags,
                         .cc_seq = st->tfmcc.cc_seq,
                         .cc_rate = st->tfmcc.cc_rate,
                         .cc_id = c->id, /* who it is, whatever the info claims */
                         .cc_echo_us = st->tfmcc.tstamp};
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
    if (sl->has_cc) {
        m.u.status.has_tfmcc = true;
        m.u.status.tfmcc = (struct wire_tfmcc_ack){.flags = sl->cc_flags,
                                                   .cc_seq = sl->cc_seq,
                                                   .cc_rate = sl->cc_rate,
                                                   .client_id = sl->cc_id,
                                                   .tstamp = agg_cc_echo(sl, p->now)};
    }
    return p_send_up(p, s, &m, UP_APP) ? sl->adds : 0;
}
