/* What a receiver sends: the replies a session owes (s->pending, STATUS NAKs, spec §1.6 step
 * 4) sealed with its keys (spec §1.8); ABORTs to servers without a session (issue 14 item 8). */
#include "receiver/engine/recv_int.h"

void reply_out(struct eng_out *out, const struct addr *dst, size_t len)
{
    out->kind = ENG_SEND;
    out->dst = *dst;
    out->len = out->seglen = len;
    out->nseg = 1;
}

void reply_nak_arm(struct receiver *r, struct rsession *s, uint32_t first, uint32_t last,
                   bool got_done)
{
    struct rfile *f = &s->f;
    /* After a section boundary 1·GRTT, for stragglers (spec §1.6 step 4). After a DONE
     * listing us at once: the DONE left after the pass's last block, on the same path,
     * so what has not arrived is lost (or reordered: one block sent twice), and the
     * sender's next pass waits only for our STATUS (issue 18). But a DONE with no data
     * since our last round of STATUS (xfer.c clears nak_round_at on every FILESEG) waits
     * until GRTT/4 after that round: DONEs queued behind a backlog of data (a sender
     * repeats them while we drain it) come in a burst and would each ask for the same
     * blocks again; a DONE resent because our STATUS was lost comes later. */
    f->nak_at = r->now + s->grtt_us;
    if (got_done) {
        uint64_t again = f->nak_round_at + s->grtt_us / 4;
        f->nak_at = f->nak_round_at == 0 || r->now >= again ? r->now : again;
    }
    if (f->nak_at == 0)
        f->nak_at = 1;
    f->nak_first = first;
    f->nak_last = last;
    f->got_done = got_done;
    RLOG(r, s, LL_DEBUG, "NAK timer for sections %u - %u", first, last);
}

void reply_stray(struct receiver *r, const struct addr *to, const struct uftp_hdr *h,
                 const char *text)
{
    if (r->stray_n == RSTRAY_RING)
        return; /* bounded: a flood of refused ANNOUNCEs gets no answers */
    if (!ratelim_take(&r->strays, 1, r->now)) {
        r->st.amp_held++;
        return; /* issue 14: AMP_STRAY_PER_S at most, whatever the credit */
    }
    struct rstray *st = &r->stray[(r->stray_head + r->stray_n++) % RSTRAY_RING];
    st->to = *to;
    st->version = h->version;
    st->group_id = h->group_id;
    st->group_inst = h->group_inst;
    snprintf(st->text, sizeof(st->text), "%s", text);
}

bool reply_stray_next(struct receiver *r, struct eng_out *out)
{
    while (r->stray_n > 0) {
        struct rstray *st = &r->stray[r->stray_head];
        r->stray_head = (r->stray_head + 1) % RSTRAY_RING;
        r->stray_n--;
        struct wire_msg m = {.func = ABORT, .u.abort.ver = st->version};
        snprintf(m.u.abort.text, sizeof(m.u.abort.text), "%s", st->text);
        ssize_t n = wire_msg_encode(out->buf + UFTP_HDR_LEN, out->cap - UFTP_HDR_LEN, &m);
        if (n < 0)
            return false;
        struct uftp_hdr h = {.version = st->version,
                             .func = ABORT,
                             .seq = r->stray_seq++,
                             .src_id = r->cfg.client_id,
                             .group_id = st->group_id,
                             .group_inst = st->group_inst};
        uftp_hdr_encode(out->buf, UFTP_HDR_LEN, &h);
        /* Issue 14 item 8: a 324-byte ABORT only to a source that sent a
         * third of that; the -r response proxy is ours to talk to. */
        bool configured = recv_has_px4(r) && addr_equal(&st->to, &r->cfg.resp_proxy);
        if (configured || amp_tx(amp_table_get(&r->amps, slot_src_key(r, &st->to)),
                                 UFTP_HDR_LEN + (size_t)n, recv_hdr_bytes(&st->to))) {
            reply_out(out, &st->to, UFTP_HDR_LEN + (size_t)n);
            return true;
        }
        r->st.amp_held++;
    }
    return false;
}

/* Encodes and seals m into out: REPLY_SENT, REPLY_NONE (not now), or REPLY_ECRYPT. */
static int emit(struct receiver *r, struct rsession *s, struct wire_msg *m, struct eng_out *out)
{
    /* spec §1.8: REGISTER goes in clear, and so do CLIENT_KEY in v4 (§1.9)
     * and an ABORT before we hold keys; CLIENT_KEY under our handshake key,
     * the rest under our application key, never in clear. */
    struct skeys_dir *k = NULL;
    if (s->keys != NULL && m->func != REGISTER &&
        (m->func != CLIENT_KEY || s->version != UFTP_VER4)) {
        if (m->func == CLIENT_KEY)
            k = skeys_client_hs_tx(s->keys);
        else if (skeys_client_keyed(s->keys))
            k = skeys_client_app_tx(s->keys);
        if (k == NULL && m->func != ABORT)
            return REPLY_NONE; /* no key for it yet */
    }
    size_t off = k ? SKEYS_MSG_OFF : UFTP_HDR_LEN;
    ssize_t n;
    if (m->func == CLIENT_KEY) {
        size_t cl;
        const uint8_t *ck = skeys_client_client_key(s->keys, &cl);
        if (ck == NULL)
            return REPLY_NONE;
        memcpy(out->buf + off, ck, cl);
        n = (ssize_t)cl;
    } else {
        n = wire_msg_encode(out->buf + off, out->cap - off - AEAD_TAG_LEN, m);
    }
    if (n < 0) {
        RLOG(r, s, LL_ERR, "cannot encode %s: %s", wire_func_name(m->func), wire_strerror((int)n));
        return REPLY_NONE;
    }
    struct uftp_hdr h = {.version = s->version,
                         .func = m->func,
                         .seq = s->send_seq++,
                         .src_id = r->cfg.client_id,
                         .group_id = s->group_id,
                         .group_inst = s->group_inst};
    uftp_hdr_encode(out->buf, UFTP_HDR_LEN, &h);
    size_t len = UFTP_HDR_LEN + (size_t)n;
    if (k != NULL) {
        ssize_t e = skeys_seal(k, skeys_client_ctr(s->keys), out->buf, (size_t)n, out->cap);
        if (e < 0) {
            RLOG(r, s, LL_ERR, "cannot encrypt %s: %s", wire_func_name(m->func),
                 skeys_strerror((int)e));
            return REPLY_ECRYPT;
        }
        len = (size_t)e;
    }
    reply_out(out, &s->reply, len);
    RLOG(r, s, LL_DEBUG, "sending %s", wire_func_name(m->func));
    return REPLY_SENT;
}

/* The next section in [nak_cur, nak_last) with missing blocks, or nak_last. */
static uint32_t next_nak_section(const struct rfile *f)
{
    uint32_t last = f->nak_last < f->lay.sections ? f->nak_last : f->lay.sections;
    uint32_t i = f->nak_cur;
    while (i < last && f->sec_missing[i] == 0)
        i++;
    return i < last ? i : f->nak_last;
}

/* Whether bit is owed; it is taken off. */
static bool owed(struct rsession *s, uint32_t bit)
{
    bool yes = (s->pending & bit) != 0;
    s->pending &= ~bit;
    return yes;
}

int reply_next(struct receiver *r, struct rsession *s, struct eng_out *out)
{
    struct wire_msg m;
    memset(&m, 0, sizeof(m));
    struct rfile *f = &s->f;
    if (owed(s, P_ABORT)) {
        m.func = ABORT;
        m.u.abort.ver = s->version;
        snprintf(m.u.abort.text, sizeof(m.u.abort.text), "%s", s->abort_text);
        return emit(r, s, &m, out);
    }
    if (!rsess_live(s))
        return REPLY_NONE;
    if (owed(s, P_REGISTER)) {
        m.func = REGISTER;
        m.u.reg.ver = s->version;
        m.u.reg.tstamp = grtt_echo(s->server_ts, s->server_rx, r->now);
        if (s->keys != NULL) {
            size_t dl;
            m.u.reg.dhblob = skeys_client_dh(s->keys, &dl);
            m.u.reg.dhlen = (uint16_t)dl;
            skeys_client_rand2(s->keys, m.u.reg.rand2);
            /* spec §1.4: CLIENT_KEY right after every REGISTER under client auth. */
            if (skeys_client_auth(s->keys))
                s->pending |= P_CLIENT_KEY;
        }
        /* spec §9.1: DECODE, only when the ANNOUNCE offered parity. */
        if (s->fec) {
            m.u.reg.has_fec = true;
            m.u.reg.fec = (struct wire_fec_info){.version = WIRE_FEC_VERSION,
                                                 .flags = FEC_F_DECODE,
                                                 .code = FEC_CODE_RS8_CAUCHY,
                                                 .k = FEC_MAX_K,
                                                 .stride = FEC_MAX_STRIDE};
        }
        slot_timeout(r, s, false);
        return emit(r, s, &m, out);
    }
    if (owed(s, P_CLIENT_KEY)) {
        m.func = CLIENT_KEY;
        return emit(r, s, &m, out);
    }
    if (owed(s, P_KEYINFO_ACK)) {
        size_t vl;
        m.func = KEYINFO_ACK;
        m.u.keyinfo_ack.ver = s->version;
        m.u.keyinfo_ack.verify = skeys_client_verify_data(s->keys, &vl);
        m.u.keyinfo_ack.verify_len = (uint16_t)vl;
        return emit(r, s, &m, out);
    }
    if (owed(s, P_CC_ACK) && s->cc) {
        /* spec §1.7: CC_ACK = TFMCC_ACK_INFO with our rate and the echoed timestamp. */
        m.func = CC_ACK;
        m.u.cc_ack.ver = s->version;
        rcc_ack_info(r, s, &m.u.cc_ack.has_tfmcc, &m.u.cc_ack.tfmcc);
        return emit(r, s, &m, out);
    }
    if (owed(s, P_FILEINFO_ACK) && s->state == R_RECEIVING) {
        m.func = FILEINFO_ACK;
        m.u.fileinfo_ack.ver = s->version;
        m.u.fileinfo_ack.file_id = f->rf.file_id;
        m.u.fileinfo_ack.flags = f->partial ? FLAG_PARTIAL : 0; /* issue 13: restart */
        m.u.fileinfo_ack.tstamp = grtt_echo(s->server_ts, s->server_rx, r->now);
        return emit(r, s, &m, out);
    }
    if (f->nak_emit && s->state == R_RECEIVING) {
        uint32_t sec = next_nak_section(f);
        if (sec >= f->nak_last)
            return REPLY_NAK_END;
        if (r->nakbuf == NULL && (r->nakbuf = malloc(NAKBUF_LEN)) == NULL) {
            RLOG(r, s, LL_WARN, "out of memory for a STATUS: NAKs held until the next round");
            return REPLY_NAK_END;
        }
        f->nak_cur = sec + 1;
        uint32_t nblk = blocks_in_section(&f->lay, sec);
        size_t nbytes = nblk / 8 + 1;
        uint32_t n = bitmap_extract(&f->missing, blocks_section_start(&f->lay, sec), nblk,
                                    r->nakbuf, nbytes);
        n -= rfec_reduce(r, s, sec, r->nakbuf, nbytes); /* spec §9.4 */
        f->sent_naks = true;
        m.func = STATUS;
        m.u.status.ver = s->version;
        m.u.status.file_id = f->rf.file_id;
        m.u.status.section = (uint16_t)sec;
        m.u.status.naks = r->nakbuf;
        rcc_ack_info(r, s, &m.u.status.has_tfmcc, &m.u.status.tfmcc); /* spec §1.7 */
        m.u.status.naks_len = nbytes;
        RLOG(r, s, LL_VERBOSE, "sending %u NAKs for section %u", n, sec);
        r->st.nak_packets++;
        r->st.nak_blocks += n;
        return emit(r, s, &m, out);
    }
    if (owed(s, P_COMPLETE)) {
        m.func = COMPLETE;
        m.u.complete.ver = s->version;
        m.u.complete.file_id = s->file_id;
        m.u.complete.status = f->comp_status;
        if (f->freespace && s->file_id != 0) {
            m.u.complete.has_freespace = true;
            m.u.complete.freespace = f->freespace_val;
        }
        if (s->state == R_COMPLETE)
            slot_timeout(r, s, false);
        s->complete_at = r->now;
        return emit(r, s, &m, out);
    }
    return REPLY_NONE;
}
