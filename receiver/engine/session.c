/* The receiver's session machine (spec §1.6 "Client state machine"):
 *   FREE --ANNOUNCE--> REGISTERED (or PREREGISTER --PROXY_KEY--> REGISTERED)
 *   REGISTERED --REG_CONF / KEYINFO / FILEINFO listing us--> MIDGROUP
 *   MIDGROUP --FILEINFO (regular file)--> RECEIVING --file done--> MIDGROUP
 *   MIDGROUP / RECEIVING --DONE(0) listing us--> COMPLETE --DONE_CONF--> FINISHED
 *   running --ABORT for us / FAIL / QUIT / SHUTDOWN / timeout--> ABORTED
 *   FINISHED / ABORTED --CLOSE (the last reply is out)--> FREE
 * Timers: REGISTER every 5·GRTT, COMPLETE(0) every 4·GRTT (RE_TIMEOUT)
 * until 5·ROBUST·GRTT and 3·ROBUST·GRTT (RE_EXPIRE); data timeout
 * ROBUST·GRTT; all ≥ 1 s, the data timeout and COMPLETE(0)'s ≥ --liveness
 * (issue 13). NAK timer 1·GRTT (RE_NAK). The server claims
 * GRTT and ROBUST, so resends count the GRTT as at least 10 ms and
 * expiries are capped (issue 14, core/proto/claims.h): registration at the
 * unconfirmed timeout, the rest at 300 s. Only the rows change a state. */
#include "receiver/engine/recv_int.h"

/* A message that says the server is still there: the data timeout starts again. */
RECV_ACTION(rsess_touch)
{
    slot_timeout(r, s, false);
    return FSM_NEXT;
}

/* RE_TIMEOUT while the answer is awaited: the reply again (PREREGISTER: just wait on). */
RECV_ACTION(rsess_resend)
{
    static const uint32_t again[R_NSTATES] = {
        [R_REGISTERED] = P_REGISTER, [R_COMPLETE] = P_COMPLETE};
    s->pending |= again[s->state];
    slot_timeout(r, s, false);
    return FSM_NEXT;
}

/* The session gives its slot to a new one (issue 14 item 2; arg: its server). */
RECV_ACTION(rsess_evict)
{
    RLOG(r, s, LL_VERBOSE, "unconfirmed session of %08X gives its slot to %08X (issue 14)",
         s->server_id, *(const uint32_t *)arg);
    r->st.evicted++;
    return FSM_NEXT;
}

static const char *const state_names[R_NSTATES] = {"FREE",     "PREREGISTER", "REGISTERED",
                                                   "MIDGROUP", "RECEIVING",   "COMPLETE",
                                                   "FINISHED", "ABORTED"};
static const char *const event_names[RE_NEVENTS] = {
    "OTHER",   "ANNOUNCE",   "PROXY_KEY", "KEYINFO",   "REG_CONF",  "FILEINFO",
    "FILESEG", "FEC_PARITY", "DONE",      "DONE_CONF", "CONG_CTRL", "ABORT",
    "TIMEOUT", "EXPIRE",     "NAK",       "NAK_END",   "CC_TIMER",  "FAIL",
    "QUIT",    "SHUTDOWN",   "EVICT",     "CLOSE"};

/* One row for each state of a running session. */
// clang-format off
#define LIVE(ev, action, next)                                                                     \
    {R_PREREGISTER, ev, action, next}, {R_REGISTERED, ev, action, next},                           \
    {R_MIDGROUP, ev, action, next}, {R_RECEIVING, ev, action, next}, {R_COMPLETE, ev, action, next}
// clang-format on

static const struct fsm_row rows[] = {
    /* Data first: fsm_step() looks rows up in order. */
    {R_RECEIVING, RE_FILESEG, xfer_fileseg, FSM_SAME},
    {R_MIDGROUP, RE_FILESEG, rsess_touch, FSM_SAME}, /* a file we skipped; others receive it */
    /* Ours (spec §9.3): parity of the file being received; between files as FILESEG. */
    {R_RECEIVING, RE_FEC_PARITY, fec_parity, FSM_SAME},
    {R_MIDGROUP, RE_FEC_PARITY, rsess_touch, FSM_SAME},

    /* Registration (spec §1.6 steps 1-3, §1.8). */
    {R_FREE, RE_ANNOUNCE, announce_start, R_REGISTERED},
    {FSM_ANY, RE_ANNOUNCE, announce_again, FSM_SAME},
    {R_PREREGISTER, RE_PROXY_KEY, announce_proxy_key, R_REGISTERED},
    {FSM_ANY, RE_PROXY_KEY, NULL, FSM_SAME}, /* a copy: one follows every ANNOUNCE */
    {R_REGISTERED, RE_KEYINFO, announce_keyinfo, R_MIDGROUP},
    {R_MIDGROUP, RE_KEYINFO, announce_keyinfo, FSM_SAME},
    {FSM_ANY, RE_KEYINFO, NULL, FSM_SAME},
    {R_REGISTERED, RE_REG_CONF, announce_reg_conf, R_MIDGROUP},
    {R_MIDGROUP, RE_REG_CONF, rsess_touch, FSM_SAME},
    {R_PREREGISTER, RE_TIMEOUT, rsess_resend, FSM_SAME},
    {R_REGISTERED, RE_TIMEOUT, rsess_resend, FSM_SAME},
    {R_PREREGISTER, RE_EXPIRE, abort_ours, R_ABORTED},
    {R_REGISTERED, RE_EXPIRE, abort_ours, R_ABORTED},

    /* Files (spec §1.6 steps 2-6): FILEINFO; data and NAK rounds; DONE. */
    {R_REGISTERED, RE_FILEINFO, xfer_fileinfo, FSM_SAME},
    {R_MIDGROUP, RE_FILEINFO, xfer_fileinfo, FSM_SAME},
    {R_RECEIVING, RE_FILEINFO, xfer_fileinfo, FSM_SAME},
    {R_RECEIVING, RE_NAK, xfer_nak, FSM_SAME},
    {R_RECEIVING, RE_NAK_END, xfer_nak_end, FSM_SAME},
    {R_MIDGROUP, RE_DONE, done_file, FSM_SAME},
    {R_RECEIVING, RE_DONE, done_file, FSM_SAME},
    {R_MIDGROUP, RE_DONE_CONF, rsess_touch, FSM_SAME},
    {R_MIDGROUP, RE_OTHER, rsess_touch, FSM_SAME}, /* others may still be setting up */
    {R_RECEIVING, RE_OTHER, NULL, FSM_SAME},
    {R_MIDGROUP, RE_TIMEOUT, abort_ours, R_ABORTED},
    {R_RECEIVING, RE_TIMEOUT, abort_ours, R_ABORTED},

    /* Completion (spec §1.6 steps 7-8). */
    {R_COMPLETE, RE_DONE, done_again, FSM_SAME},
    {R_COMPLETE, RE_DONE_CONF, done_conf, R_FINISHED},
    {R_COMPLETE, RE_TIMEOUT, rsess_resend, FSM_SAME},
    {R_COMPLETE, RE_EXPIRE, done_unconfirmed, R_FINISHED},

    /* TFMCC (spec §1.7, cc.c): feedback in every running state. */
    LIVE(RE_CONG_CTRL, rcc_cong_ctrl, FSM_SAME),
    LIVE(RE_CC_TIMER, rcc_feedback, FSM_SAME),

    /* The ways out. */
    LIVE(RE_ABORT, abort_server, R_ABORTED),
    LIVE(RE_FAIL, abort_ours, R_ABORTED),
    LIVE(RE_QUIT, abort_ours, R_ABORTED),
    LIVE(RE_SHUTDOWN, abort_ours, R_ABORTED),
    /* Admission (core/proto/admit.h) decides who gives way: unconfirmed sessions, and
     * cleartext ones to a server of a higher rank. */
    LIVE(RE_EVICT, rsess_evict, R_FREE),
    {R_FINISHED, RE_CLOSE, NULL, R_FREE},
    {R_ABORTED, RE_CLOSE, NULL, R_FREE},
};

/* Back to FREE: the slot is emptied (ended, or evicted). */
static void release(struct receiver *r, struct rsession *s, bool completed)
{
    rfile_discard(r, s);
    if (s->joined)
        slot_member(r, false, &s->mcast, &s->ssm_src);
    if (r->env.storage.session_end != NULL)
        r->env.storage.session_end(r->env.ctx, s->server_id, s->group_id, s->group_inst, completed);
    rfile_report(r, s, RECEIVER_EV_END, completed);
    RLOG(r, s, LL_INFO, "session %s", completed ? "complete" : "aborted");
    r->st.sessions_completed += completed;
    skeys_client_free(s->keys); /* wipes every key */
    memset(s, 0, sizeof(*s));
    if (r->st.sessions > 0)
        r->st.sessions--;
    while (r->nslots > 0 && r->sess[r->nslots - 1].state == R_FREE)
        r->nslots--;
}

/* A new state starts its timer; FREE empties the slot. */
static void changed(void *obj, int from, int to)
{
    struct rstep *x = obj;
    if (to == R_FREE)
        release(x->r, x->s, from == R_FINISHED);
    else if (to < R_FINISHED)
        slot_timeout(x->r, x->s, false);
    if (to == R_MIDGROUP && from == R_REGISTERED && x->s->group_inst != 0)
        slot_supersede(x->r, x->s); /* confirmed: a restart may take over (issue 13) */
}

static void label(void *obj, char *buf, size_t cap)
{
    const struct rsession *s = ((const struct rstep *)obj)->s;
    snprintf(buf, cap, "[%08X/%u] session", s->group_id, (unsigned)s->group_inst);
}

const struct fsm_def recv_session_fsm = {
    .name = "session",
    .state_names = state_names,
    .nstates = R_NSTATES,
    .event_names = event_names,
    .nevents = RE_NEVENTS,
    .rows = rows,
    .nrows = sizeof(rows) / sizeof(rows[0]),
    .on_change = changed,
    .label = label,
};

int rsess_event(struct receiver *r, struct rsession *s, int ev, void *arg)
{
    struct rstep x = {r, s};
    return fsm_step(&recv_session_fsm, &s->state, ev, &x, arg, &r->env.log);
}

/* The states with an RE_EXPIRE row: their resends end at expire_at. */
static bool expiring(const struct rsession *s)
{
    return s->state == R_PREREGISTER || s->state == R_REGISTERED || s->state == R_COMPLETE;
}

void rsess_tick(struct receiver *r, struct rsession *s)
{
    if (!rsess_live(s))
        return;
    if (s->f.nak_at != 0 && r->now >= s->f.nak_at)
        rsess_event(r, s, RE_NAK, NULL);
    if (rsess_live(s) && r->now >= rcc_deadline(s))
        rsess_event(r, s, RE_CC_TIMER, NULL);
    if (expiring(s) && r->now >= s->expire_at)
        rsess_event(r, s, RE_EXPIRE, NULL);
    else if (r->now >= s->timeout_at)
        rsess_event(r, s, RE_TIMEOUT, NULL);
}

uint64_t rsess_deadline(const struct rsession *s)
{
    if (s->state == R_FREE)
        return ENG_NEVER;
    if (s->pending != 0 || !rsess_live(s) || s->f.nak_emit)
        return 0;
    uint64_t t = s->timeout_at;
    if (s->f.nak_at != 0 && s->f.nak_at < t)
        t = s->f.nak_at;
    if (rcc_deadline(s) < t)
        t = rcc_deadline(s);
    /* Issue 14: the expiry does not wait for the next resend (5 GRTT may be 5000 s). */
    if (expiring(s) && s->expire_at < t)
        t = s->expire_at;
    return t;
}

/* Issue 13: a confirmed restart ends the earlier instances of the same server
 * and key still waiting out --liveness. */
void slot_supersede(struct receiver *r, struct rsession *s)
{
    for (unsigned i = 0; i < r->nslots; i++) {
        struct rsession *o = &r->sess[i];
        if (o == s || !rsess_live(o) || o->group_id != s->group_id ||
            o->server_id != s->server_id || o->group_inst == s->group_inst ||
            o->server_fplen != s->server_fplen ||
            memcmp(o->server_fp, s->server_fp, s->server_fplen) != 0)
            continue;
        RLOG(r, o, LL_INFO, "superseded by instance %u of the same server (restart)",
             (unsigned)s->group_inst);
        rsess_event(r, o, RE_QUIT, "Superseded by a restart");
        /* Ended now, not at the next poll: a FILEINFO of the restart in the same
         * batch of datagrams must find the state kept (the storage's session end). */
        if (o->state == R_ABORTED && o->pending == 0)
            rsess_event(r, o, RE_CLOSE, NULL);
    }
}
