/* The end of a file and of the group (spec §1.4, §1.6 steps 4-8), actions of the session
 * machine: DONE (NAKs, COMPLETE for the file; DONE(0): COMPLETE(0)), DONE_CONF. */
#include "receiver/engine/recv_int.h"

/*
 * A DONE listing us again after our COMPLETE: answer, but behind a proxy at
 * most every 2·GRTT. A 5.0.1 client or response proxy holds a pending
 * COMPLETE 1·GRTT and restarts that hold at each copy from the same client
 * (spec §6 item 7's set_timeout), so answers to a sender's quick DONE
 * repeats kept it from ever passing ours on: the sender dropped the
 * receiver (seen with -C tfmcc, tests/integration/tfmcc/roles.sh).
 */
static bool answer_again(const struct receiver *r, const struct rsession *s)
{
    return s->proxy_id == 0 || s->complete_at == 0 || r->now >= s->complete_at + 2 * s->grtt_us;
}

/* DONE in MIDGROUP or RECEIVING. */
RECV_ACTION(done_file)
{
    const struct wire_done *d = &((const struct rmsg *)arg)->m->u.done;
    struct rfile *f = &s->f;
    int to = FSM_NEXT;
    if (d->file_id != 0 && d->file_id != s->file_id)
        return FSM_STAY; /* not for this file, not the end of the group */
    if (d->file_id == 0)
        s->file_id = 0; /* end of group */
    if (wire_ids_contains(&d->ids, r->cfg.client_id)) {
        if (s->file_id == 0) {
            if (s->state == R_RECEIVING) {
                RLOG(r, s, LL_WARN, "end of group while receiving %s", f->name);
                r->st.files_failed++;
                rfile_discard(r, s);
            }
            RLOG(r, s, LL_INFO, "group complete");
            f->comp_status = COMP_STAT_NORMAL; /* (no EXT_FREESPACE_INFO with file ID 0) */
            s->pending = P_COMPLETE;
            /*
             * spec §1.6: COMPLETE(0) every 4·GRTT, until 3·ROBUST·GRTT (≥ 1 s, ≤ 300 s):
             * the server sends DONE(0) ROBUST times 3·GRTT apart, so after its first
             * DONE(0) it is gone within that (5.0.1 goes on to 4·ROBUST·GRTT, 48 s at
             * 600 ms, retrying into the void; issue 16); and at least --liveness
             * (issue 13: the server must hear one after an outage).
             */
            uint64_t ex = claims_expiry_us(s->grtt_us, 3u * s->robust, CLAIMS_IDLE_MAX_US);
            s->expire_at = r->now + (ex > r->cfg.liveness_us ? ex : r->cfg.liveness_us);
            to = FSM_GOTO(R_COMPLETE);
        } else if (s->state == R_MIDGROUP) {
            if (answer_again(r, s))
                s->pending |= P_COMPLETE;
        } else if (f->nmissing == 0) {
            to = rfile_finish(r, s);
        } else if (f->nak_at == 0 && !f->nak_emit) {
            reply_nak_arm(r, s, f->last_section, (uint32_t)d->section + 1, true);
        } else if (s->fec && f->nak_at != 0 && !f->nak_emit) {
            /* Issue 17: a section boundary's timer still waits for stragglers; the DONE
             * left after the pass's last block, so the round goes now and takes in
             * every section to the end: the sender's repair counts on all of them
             * one round trip after its DONE (sender/engine/fec.c). */
            f->nak_last = (uint32_t)d->section + 1;
            f->nak_at = r->now ? r->now : 1;
            f->got_done = true;
        }
        if (s->fec && s->state == R_RECEIVING)
            f->done_seen = true;
        if (s->file_id != 0)
            f->last_section = (uint32_t)d->section + 1;
    } else if (s->state == R_RECEIVING && s->file_id != 0) {
        if ((uint32_t)d->section + 1 > f->last_section && f->nak_at == 0 && !f->nak_emit)
            reply_nak_arm(r, s, f->last_section, (uint32_t)d->section + 1, false);
        f->last_section = (uint32_t)d->section + 1;
    }
    slot_timeout(r, s, false);
    return to;
}

/* DONE(0) listing us again: our COMPLETE(0) was lost; answer now rather than at the next 4·GRTT. */
RECV_ACTION(done_again)
{
    const struct wire_done *d = &((const struct rmsg *)arg)->m->u.done;
    if (d->file_id == 0 && wire_ids_contains(&d->ids, r->cfg.client_id) && answer_again(r, s))
        s->pending |= P_COMPLETE;
    return FSM_NEXT;
}

RECV_ACTION(done_conf)
{
    if (!wire_ids_contains(&((const struct rmsg *)arg)->m->u.done_conf.ids, r->cfg.client_id))
        return FSM_STAY;
    RLOG(r, s, LL_INFO, "group file transfer confirmed");
    s->pending = 0;
    return FSM_NEXT;
}

/* No DONE_CONF within 3·ROBUST·GRTT: the files are in all the same. */
RECV_ACTION(done_unconfirmed)
{
    RLOG(r, s, LL_WARN, "completion unconfirmed by server");
    s->pending = 0;
    return FSM_NEXT;
}
