/*
 * The file-transfer family (spec §1.4, §1.6 steps 4-6): FILEINFO_ACK in the
 * FILEINFO phase, STATUS in the data phase, COMPLETE in both and in the
 * completion phase; a proxy's answer stands for the clients it lists (spec
 * §3.4). engine.c has checked that the phase takes the message.
 */
#include <string.h>

#include "sender/engine/sender_int.h"

/* The clients a proxy's answer lists, each of them behind it. */
static struct sdest *proxy_client_of(struct sender *s, const struct sdest *p,
                                     const struct wire_ids *ids, size_t i)
{
    uint32_t id = wire_ids_get(ids, i);
    struct sdest *c = dest_of(s, id);
    if (c == NULL || c->proxy != (uint32_t)(p - s->dests) + 1) {
        SLOG(s, LL_PROTO, "client %08X via proxy %08X not found", id, p->id);
        return NULL;
    }
    return c;
}

SENDER_HANDLER(xfer_fileinfo_ack)
{
    const struct wire_fileinfo_ack *a = &m->u.fileinfo_ack;
    if (!client_accepts(d, CE_FILEINFO_ACK))
        goto heard;
    if (a->ids.n > 0 && !d->isproxy) {
        SLOG(s, LL_PROTO, "rejecting FILEINFO_ACK from %08X: client list from a non-proxy", d->id);
        return;
    }
    if (a->file_id != s->file.file_id) {
        if (!d->isproxy)
            SLOG(s, LL_PROTO, "rejecting FILEINFO_ACK from %08X: file ID %04X, expected %04X",
                 d->id, a->file_id, s->file.file_id);
        return;
    }
    /* A proxy's is for the clients listed, with one echo for all (spec §3.4). */
    uint64_t rtt = grtt_rtt_sample(s_wall(s, s->now), a->tstamp);
    for (size_t i = 0; i < (d->isproxy ? a->ids.n : 1); i++) {
        struct sdest *c = d->isproxy ? proxy_client_of(s, d, &a->ids, i) : d;
        if (c == NULL || !client_accepts(c, CE_FILEINFO_ACK))
            continue;
        c->rtt_us = rtt;
        c->rtt_measured = true;
        if (c != d)
            SLOG(s, LL_VERBOSE, "received FILEINFO_ACK%s from client %08X via proxy %08X",
                 c->state == D_ACTIVE ? "+" : "", c->id, d->id);
        else
            SLOG(s, LL_VERBOSE, "received FILEINFO_ACK%s from client %08X",
                 c->state == D_ACTIVE ? "+" : "", c->id);
        client_step(s, c, CE_FILEINFO_ACK);
    }
    /* spec §1.6 step 5: the first pass starts at its end (DONE first) only when every
     * client holds part of the file from an earlier instance (issue 13). */
    s->file.partial = s->file.partial && (a->flags & FLAG_PARTIAL) != 0;
heard:
    session_event(s, SE_HEARD, NULL);
}

/*
 * spec §3.4 (reference defect): a 5.0.1 client or response proxy merges its
 * clients' STATUS bitmaps read at a fixed offset after the STATUS header, so
 * in a TFMCC session, where every v5 receiver puts its 20-byte
 * EXT_TFMCC_ACK_INFO first (spec §1.7), the STATUS it sends upstream has no
 * extension and a bitmap that starts with the clients' merged extensions and
 * lacks their last 20 bytes: NAKs for the wrong blocks, and the blocks the
 * receivers miss never resent. Ours always answers with the extension when
 * its clients do (proxy/engine/xfer.c), so a proxy's extension-less STATUS
 * whose bitmap starts with the extension's fixed bytes (type, length 5,
 * reserved 0) is that one: its bitmap is realigned, and the blocks of the
 * lost tail are taken as NAKed (resent rather than never).
 */
static const struct wire_status *ref_proxy_status(struct sender *s, const struct sdest *d,
                                                  const struct wire_status *st,
                                                  struct wire_status *fixed, uint8_t *buf)
{
    const size_t ext = 20;
    if (!s->cc || !d->isproxy || st->has_tfmcc || st->has_fec || st->naks_len <= ext ||
        st->naks_len > UFTP_MAX_BLOCKSIZE || st->naks[0] != EXT_TFMCC_ACK_INFO ||
        st->naks[1] != ext / 4 || st->naks[3] != 0)
        return st;
    if (!s->ref_proxy_status_seen) {
        SLOG(s, LL_WARN,
             "proxy %08X merges TFMCC STATUS at the wrong offset (a 5.0.1 "
             "proxy): realigning its NAKs",
             d->id);
        s->ref_proxy_status_seen = true;
    }
    size_t keep = st->naks_len - ext, len = st->naks_len;
    memset(buf, 0, UFTP_MAX_BLOCKSIZE);
    memcpy(buf, st->naks + ext, keep);
    if (st->file_id == s->file.file_id && st->section < s->file.lay.sections) {
        uint32_t nblk = blocks_in_section(&s->file.lay, st->section);
        if (len < nblk / 8 + 1)
            len = nblk / 8 + 1 <= UFTP_MAX_BLOCKSIZE ? nblk / 8 + 1 : UFTP_MAX_BLOCKSIZE;
        for (uint32_t b = (uint32_t)keep * 8; b < nblk && b / 8 < len; b++)
            buf[b / 8] |= (uint8_t)(1u << (b % 8));
    }
    *fixed = *st;
    fixed->naks = buf;
    fixed->naks_len = len;
    return fixed;
}

SENDER_HANDLER(xfer_status)
{
    const struct wire_status *st = &m->u.status;
    struct wire_status fixed;
    uint8_t fixbuf[UFTP_MAX_BLOCKSIZE];
    st = ref_proxy_status(s, d, st, &fixed, fixbuf);
    struct sfile *f = &s->file;
    if (!client_accepts(d, CE_STATUS)) {
        SLOG(s, LL_PROTO, "received invalid message STATUS from %08X (%s)", d->id,
             fsm_state_name(&sender_client_fsm, d->state));
        return;
    }
    if (st->has_tfmcc)
        cc_feedback(s, d, &st->tfmcc); /* spec §1.7: STATUS carries TFMCC_ACK_INFO too */
    if (st->file_id != f->file_id) {
        SLOG(s, LL_PROTO, "rejecting STATUS from %08X: file ID %04X, expected %04X", d->id,
             st->file_id, f->file_id);
        goto heard;
    }
    /* spec §6 item 4: the section must exist in this file. */
    if (st->section >= f->lay.sections) {
        SLOG(s, LL_PROTO, "rejecting STATUS from %08X: section %u of %u", d->id, st->section,
             f->lay.sections);
        goto heard;
    }
    uint32_t nblk = blocks_in_section(&f->lay, st->section);
    if (st->naks_len < nblk / 8 + 1) {
        SLOG(s, LL_PROTO, "rejecting STATUS from %08X: %zu NAK bytes for %u blocks", d->id,
             st->naks_len, nblk);
        goto heard;
    }
    if (f->cursor < f->lay.blocks) {
        uint16_t cur = 0, blk = 0;
        blocks_from_abs(&f->lay, f->cursor, &cur, &blk);
        if (cur == st->section) {
            SLOG(s, LL_DEBUG, "dropping STATUS for current section %u", cur);
            goto heard;
        }
    }
    uint32_t naks = bitmap_bytes_count(st->naks, st->naks_len, nblk);
    /* spec §2.1 -N/-m: NAK policing. */
    if ((uint64_t)naks * 100 / nblk > s->cfg.nak_pct)
        d->nak_strikes++;
    if (d->nak_strikes >= s->cfg.nak_strikes) {
        /* spec §3.4: a proxy's STATUS counts against the proxy itself. */
        SLOG(s, LL_WARN, "excessive NAKs (%u) for section %u from %s %08X, aborting", naks,
             st->section, d->isproxy ? "proxy" : "client", d->id);
        job_abort(s, d->id, 0, "Excessive NAKs received", NULL);
        s->why = "Excessive NAKs received";
        client_lose(s, d, CE_DROP);
        s->why = NULL;
        goto heard;
    }
    /* spec §9.4: a DECODE receiver's NAKs are counts per FEC block. */
    int fr = sfec_status(s, d, st);
    if (fr == SFEC_STALE)
        goto heard;
    if (fr == SFEC_PLAIN)
        bitmap_or_bytes(&f->naks, blocks_section_start(&f->lay, st->section), nblk, st->naks,
                        st->naks_len);
    if (!bitmap_ok(&f->naks)) {
        SLOG(s, LL_ERR, "out of memory for the block map of %s", f->it->path);
        session_event(s, SE_FAIL, &(int){SENDER_EXIT_ALLOC});
        return;
    }
    if (naks > 0)
        f->got_naks = true;
    s->st.naks += naks;
    SLOG(s, LL_VERBOSE, "got %u NAKs for section %u from client %08X", naks, st->section, d->id);
    client_step(s, d, CE_STATUS);
    session_rewind_check(s);
heard:
    session_event(s, SE_HEARD, NULL);
}

static void complete_one(struct sender *s, struct sdest *d, const struct wire_complete *c)
{
    static const char *const st[] = {"", "(skipped)", "(overwritten)", "(rejected)"};
    bool dup = d->state == D_DONE;
    d->comp_status = c->status;
    if (c->status == COMP_STAT_NORMAL || c->status == COMP_STAT_SKIPPED ||
        c->status == COMP_STAT_OVERWRITE)
        s->files_sent = true;
    client_step(s, d, CE_COMPLETE);
    SLOG(s, dup ? LL_VERBOSE : LL_INFO, "got COMPLETE%s%s from client %08X",
         c->status < 4 ? st[c->status] : "(?)", dup ? "+" : "", d->id);
    if (c->has_freespace) {
        struct sender_event e = {.kind = SENDER_EV_FREESPACE,
                                 .client_id = d->id,
                                 .file = s->file.it,
                                 .file_id = s->file.file_id,
                                 .freespace = c->freespace};
        s_report(s, &e);
    }
}

/*
 * COMPLETE for the current file, or for the group (file ID 0) in the
 * completion phase. In the FILEINFO phase a client already done is not
 * done again.
 */
SENDER_HANDLER(xfer_complete)
{
    const struct wire_complete *c = &m->u.complete;
    bool ok = client_accepts(d, CE_COMPLETE) && !(s->phase == SP_FILEINFO && d->state == D_DONE);
    if (!ok) {
        if (s->phase == SP_DATA)
            SLOG(s, LL_PROTO, "received invalid message COMPLETE from %08X (%s)", d->id,
                 fsm_state_name(&sender_client_fsm, d->state));
        if (s->phase == SP_FILEINFO)
            session_event(s, SE_HEARD, NULL);
        return;
    }
    if (c->file_id != s->file.file_id) {
        if (s->file.file_id != 0)
            SLOG(s, LL_PROTO, "rejecting COMPLETE from %08X: file ID %04X, expected %04X", d->id,
                 c->file_id, s->file.file_id);
    } else if (c->ids.n > 0 && !d->isproxy) {
        SLOG(s, LL_PROTO, "rejecting COMPLETE from %08X: client list from a non-proxy", d->id);
    } else {
        for (size_t i = 0; i < (d->isproxy ? c->ids.n : 1); i++) {
            struct sdest *cl = d->isproxy ? proxy_client_of(s, d, &c->ids, i) : d;
            if (cl != NULL && client_accepts(cl, CE_COMPLETE))
                complete_one(s, cl, c);
        }
    }
    session_event(s, SE_HEARD, NULL);
}
