/* A session's file as it ends: made visible or discarded by storage (engine.h), its outcome
 * as COMPLETE(status) (spec §1.6), reported through receiver_env.event (issue 7). */
#include "receiver/engine/recv_int.h"

void rfile_report(struct receiver *r, struct rsession *s, enum receiver_event_kind k, bool ok)
{
    if (r->env.event == NULL)
        return;
    struct receiver_event ev = {
        .kind = k,
        .server_id = s->server_id,
        .group_id = s->group_id,
        .group_inst = s->group_inst,
        .server_addr = &s->server,
        .file = k == RECEIVER_EV_RESULT ? &s->f.rf : NULL,
        .status = s->f.comp_status,
        .ok = ok,
    };
    r->env.event(r->env.ctx, &ev);
}

/* Storage closes the open file (if any) how; the block maps go, the NAK timer stops. */
static int close_file(struct receiver *r, struct rsession *s, enum receiver_close how)
{
    struct rfile *f = &s->f;
    int rc = f->open ? r->env.storage.close(r->env.ctx, f->h, how, &f->rf) : 0;
    f->open = false;
    bitmap_free(&f->missing);
    rfec_file_free(f);
    free(f->sec_missing);
    f->sec_missing = NULL;
    f->nak_at = 0;
    f->nak_emit = false;
    return rc;
}

void rfile_discard(struct receiver *r, struct rsession *s)
{
    close_file(r, s, RECEIVER_CLOSE_ABORT);
}

void rfile_keep(struct receiver *r, struct rsession *s)
{
    close_file(r, s, RECEIVER_CLOSE_KEEP);
}

int rfile_result(struct receiver *r, struct rsession *s, uint8_t status)
{
    s->f.comp_status = status;
    s->pending |= P_COMPLETE;
    if (status == COMP_STAT_REJECTED)
        r->st.files_failed++;
    else if (s->f.rf.ftype == FTYPE_REG)
        r->st.files_ok++;
    rfile_report(r, s, RECEIVER_EV_RESULT, status != COMP_STAT_REJECTED);
    slot_timeout(r, s, false); /* between files (a new state restarts it too) */
    return FSM_GOTO(R_MIDGROUP);
}

int rfile_finish(struct receiver *r, struct rsession *s)
{
    int rc = close_file(r, s, RECEIVER_CLOSE_DONE);
    if (rc < 0) {
        RLOG(r, s, LL_ERR, "cannot finish %s: %s; file rejected", s->f.name, file_strerror(rc));
        return rfile_result(r, s, COMP_STAT_REJECTED);
    }
    RLOG(r, s, LL_INFO, "file transfer complete: %s", s->f.name);
    return rfile_result(r, s, s->f.comp_status);
}
