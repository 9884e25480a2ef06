/*
 * The session machines (spec §3). A server proxy's tunnel (§3.1): FREE →
 * OPEN on the server's ANNOUNCE, back to FREE after ROBUST x GRTT (at least
 * 1 s) without traffic, unconfirmed (issue 14), evicted or shut down.
 * A client or response proxy's session (§3.2-§3.4, the reference's
 * PR_PHASE_*):
 *   FREE → REGISTERED   the server's ANNOUNCE; we register our clients
 *   REGISTERED → READY  encrypted: the server's KEYINFO keyed us; we key
 *                       the clients (KEYINFO, every 2 GRTT while owed)
 *   READY → RECEIVING   every client keyed, or the registration window
 *                       closed (the unkeyed ones are aborted both ways)
 *   any → DONE          every client completed the session or is out
 *   any → FREE          no traffic, unconfirmed, evicted, aborted by the
 *                       server, our key exchange failed, shut down
 * A cleartext session stays REGISTERED until DONE or FREE. While
 * REGISTERED or READY, clients the server has not confirmed are registered
 * again every 2 GRTT, once the server's round has had its chance to answer
 * (register_due; a lost REG_CONF would leave them waiting for their own
 * retry while the server's FILEINFO round runs out).
 *
 * A timer runs only in the states whose rows take its event. Entering FREE
 * releases the slot (on_change, after the transition is logged).
 */
#include <stdio.h>

#include "proxy/engine/proxy_int.h"

PX_ACTION(on_flush)
{
    p_aggq_flush(p, s, false);
    return FSM_NEXT;
}

/* The window stays open while the server announces and clients still register. */
PX_ACTION(keep_window)
{
    s->reg_end = p->now + p_grtt_times(s, s->robust);
    return FSM_NEXT;
}

PX_ACTION(on_keyed)
{
    s->confirmed = true; /* issue 14: the server keyed us: an authenticated session */
    PLOG(p, s, LL_INFO, "keyed by the server: re-keying %zu client%s", s->ncl,
         s->ncl == 1 ? "" : "s");
    return FSM_NEXT;
}

/* Signed by the server, yet our entry does not open: give up. */
PX_ACTION(on_key_failed)
{
    p_send_abort_up(p, s, 0, "Decrypt failed for group master");
    p_send_abort_down(p, s, NULL, 0, "Proxy could not get the group key");
    p->st.sessions_failed[PROXY_FAIL_KEYS]++;
    return FSM_NEXT;
}

PX_ACTION(all_keyed)
{
    if (s->ccnt[PC_MUTE] + s->ccnt[PC_REGISTERED] + s->ccnt[PC_CONF] > 0)
        return FSM_STAY;
    PLOG(p, s, LL_VERBOSE, "every client keyed");
    s->reg_end = 0;
    return FSM_NEXT;
}

PX_ACTION(all_done)
{
    return s->ccnt[PC_DONE] + s->ccnt[PC_ABORTED] == s->ncl ? FSM_NEXT : FSM_STAY;
}

PX_ACTION(keyinfo_again)
{
    p_send_keyinfo(p, s, NULL);
    return FSM_NEXT;
}

PX_ACTION(register_again)
{
    size_t n = 0;
    for (size_t i = 0; i < s->ncl; i++)
        if (s->cl[i].state == PC_REGISTERED) {
            p_client_register_up(p, s, &s->cl[i]);
            n++;
        }
    if (n > 0)
        PLOG(p, s, LL_VERBOSE, "registering %zu unconfirmed client%s again", n, n == 1 ? "" : "s");
    else
        s->regup_at = 0;
    return FSM_NEXT;
}

PX_ACTION(end_registration)
{
    static const char why[] = "Client not fully registered at proxy";
    size_t n = 0;
    for (size_t i = 0; i < s->ncl; i++)
        if (s->cl[i].state < PC_READY) {
            /* spec §3.4: both ways. */
            p_client_step(p, s, &s->cl[i], CE_DROP, (void *)why);
            p_send_abort_up(p, s, s->cl[i].id, why);
            n++;
        }
    if (n > 0)
        PLOG(p, s, LL_WARN, "registration window closed: %zu client%s not keyed, aborted", n,
             n == 1 ? "" : "s");
    s->reg_end = s->keyinfo_at = s->regup_at = 0;
    return FSM_NEXT;
}

PX_ACTION(on_idle)
{
    PLOG(p, s, LL_INFO, "session ended: no traffic for %llu ms",
         (unsigned long long)p_grtt_times(s, s->robust) / 1000);
    /* A server proxy's tunnel knows no end but this one. */
    if (s->phase == PP_DONE || p->cfg.role == PROXY_SERVER)
        p->st.sessions_completed++;
    else
        p->st.sessions_failed[PROXY_FAIL_IDLE]++;
    return FSM_NEXT;
}

PX_ACTION(on_unconfirmed)
{
    PLOG(p, s, LL_VERBOSE, "session ended: unconfirmed for %llu s",
         (unsigned long long)(p->cfg.unconfirmed_us / 1000000u));
    p->st.expired++;
    return FSM_NEXT;
}

PX_ACTION(on_evict)
{
    PLOG(p, s, LL_VERBOSE, "unconfirmed session of %08X gives its slot to %08X (issue 14)",
         s->server_id, *(const uint32_t *)arg);
    p->st.evicted++;
    return FSM_NEXT;
}

PX_ACTION(on_server_abort)
{
    PLOG(p, s, LL_INFO, "session ended: aborted by the server");
    p->st.sessions_failed[PROXY_FAIL_SERVER]++;
    return FSM_NEXT;
}

/* Pending answers are moot: the session ends for everyone behind us. */
PX_ACTION(on_shutdown)
{
    p_send_abort_down(p, s, NULL, 0, "Proxy shutting down");
    p_send_abort_up(p, s, 0, "Proxy shutting down");
    PLOG(p, s, LL_INFO, "session aborted: shutting down");
    p->st.sessions_failed[PROXY_FAIL_SHUTDOWN]++;
    return FSM_NEXT;
}

static const char *const s_phase_names[PP_NSTATES] = {"FREE", "REGISTERED", "READY", "RECEIVING",
                                                      "DONE"};
static const char *const t_phase_names[PT_NSTATES] = {"FREE", "OPEN"};
static const char *const s_event_names[SE_NEVENTS] = {
    "OPEN",        "REGISTERING", "KEYED",         "KEY_FAILED",     "CLIENT_KEYED",
    "CLIENT_DONE", "FLUSH",       "KEYINFO_TIMER", "REGISTER_TIMER", "REG_END",
    "IDLE",        "UNCONFIRMED", "EVICT",         "SERVER_ABORT",   "SHUTDOWN"};

/* The ends every session has, whatever its phase. */
#define ENDS(shutdown)                                                                             \
    {FSM_ANY, SE_IDLE, on_idle, PP_FREE}, {FSM_ANY, SE_UNCONFIRMED, on_unconfirmed, PP_FREE},      \
        {FSM_ANY, SE_EVICT, on_evict, PP_FREE},                                                    \
    {                                                                                              \
        FSM_ANY, SE_SHUTDOWN, shutdown, PP_FREE                                                    \
    }

static const struct fsm_row s_rows[] = {
    {PP_FREE, SE_OPEN, NULL, PP_REGISTERED},
    /* Registration (encrypted sessions: the window, REG_CONF, our keys). */
    {PP_REGISTERED, SE_REGISTERING, keep_window, FSM_SAME},
    {PP_READY, SE_REGISTERING, keep_window, FSM_SAME},
    {PP_RECEIVING, SE_REGISTERING, NULL, FSM_SAME},
    {PP_DONE, SE_REGISTERING, NULL, FSM_SAME},
    {PP_REGISTERED, SE_REGISTER_TIMER, register_again, FSM_SAME},
    {PP_READY, SE_REGISTER_TIMER, register_again, FSM_SAME},
    {PP_REGISTERED, SE_KEYED, on_keyed, PP_READY},
    {FSM_ANY, SE_KEYED, on_keyed, FSM_SAME},
    {FSM_ANY, SE_KEY_FAILED, on_key_failed, PP_FREE},
    {FSM_ANY, SE_KEYINFO_TIMER, keyinfo_again, FSM_SAME},
    {PP_READY, SE_CLIENT_KEYED, all_keyed, PP_RECEIVING},
    {PP_RECEIVING, SE_CLIENT_KEYED, NULL, FSM_SAME},
    {PP_DONE, SE_CLIENT_KEYED, NULL, FSM_SAME},
    {PP_REGISTERED, SE_REG_END, end_registration, PP_RECEIVING},
    {PP_READY, SE_REG_END, end_registration, PP_RECEIVING},
    /* Answers, and the end of the session. */
    {FSM_ANY, SE_FLUSH, on_flush, FSM_SAME},
    {FSM_ANY, SE_CLIENT_DONE, all_done, PP_DONE},
    {FSM_ANY, SE_SERVER_ABORT, on_server_abort, PP_FREE},
    ENDS(on_shutdown),
};

static const struct fsm_row t_rows[] = {{PP_FREE, SE_OPEN, NULL, PT_OPEN}, ENDS(NULL)};

static void s_changed(void *obj, int from, int to)
{
    const struct pref *r = obj;
    if (from == PP_FREE) {
        p_slot_opened(r->p, r->s);
    } else if (to == PP_FREE) {
        r->p->st.sessions--;
        p_slot_release(r->p, r->s);
    }
}

static void s_label(void *obj, char *buf, size_t cap)
{
    const struct pref *r = obj;
    snprintf(buf, cap, "[%08X/%u] session", r->s->group_id, (unsigned)r->s->group_inst);
}

#define SESSION_FSM(nm, states, n, tab)                                                            \
    {                                                                                              \
        .name = nm, .state_names = states, .nstates = n, .event_names = s_event_names,             \
        .nevents = SE_NEVENTS, .rows = tab, .nrows = sizeof(tab) / sizeof(tab[0]),                 \
        .on_change = s_changed, .label = s_label                                                   \
    }
const struct fsm_def proxy_session_fsm = SESSION_FSM("session", s_phase_names, PP_NSTATES, s_rows);
const struct fsm_def proxy_tunnel_fsm = SESSION_FSM("tunnel", t_phase_names, PT_NSTATES, t_rows);

static const struct fsm_def *def_of(const struct proxy *p)
{
    return p->cfg.role == PROXY_SERVER ? &proxy_tunnel_fsm : &proxy_session_fsm;
}

int p_session_event(struct proxy *p, struct psession *s, int ev, void *arg)
{
    struct pref r = {p, s, NULL};
    return fsm_step(def_of(p), &s->phase, ev, &r, arg, &p->env.log);
}

struct psession *p_session_new(struct proxy *p, const struct pmsg *in,
                               const struct wire_announce *a)
{
    bool evict;
    struct psession *s = p_slot_pick(p, in->h, in->from, &evict);
    if (s == NULL)
        return NULL;
    if (evict)
        p_session_event(p, s, SE_EVICT, &(uint32_t){in->h->src_id});
    p_slot_fill(p, s, in->h, in->from, in->len);
    s->robust = a->robust ? a->robust : 20;
    s->blocksize = a->blocksize;
    s->cc_type = a->cc_type;
    return s;
}

/* The timers in the order they are handled at one instant. */
static const int timer_order[] = {SE_UNCONFIRMED,    SE_FLUSH,   SE_KEYINFO_TIMER,
                                  SE_REGISTER_TIMER, SE_REG_END, SE_IDLE};

/*
 * Our REGISTER for unconfirmed clients goes up again 2·GRTT after the last
 * (spec §3.4), but not before the server has had its round to answer it:
 * a server (ours and 5.0.1) answers REGISTERs with REG_CONF / KEYINFO only
 * at its announce rounds, every 3·GRTT, beside its ANNOUNCE. Sent up before
 * the latest ANNOUNCE: 1·GRTT after that ANNOUNCE (its answers have come by
 * then). Sent up since: 3·GRTT after it at the GRTT it carried (the next
 * round; a KEYINFO carrying a lower GRTT may come before the ANNOUNCE, as
 * 5.0.1 sends them) and 1·GRTT more (the answers' trip). A lost REG_CONF or
 * aggregate is retried the round after; once the rounds have ended, 4·GRTT
 * after the last. Issue 16: the retry at 2·GRTT came before the server's
 * round, and a round lowering the GRTT made it due just before the REG_CONF
 * it awaited: two needless aggregates per registration (3 datagrams each
 * for 1,000 clients).
 */
static uint64_t register_due(const struct psession *s, uint64_t resend)
{
    uint64_t wait = claims_resend_us(s->grtt_us, 1);
    if (s->regup_at > s->ann_at) { /* the next round: 3 GRTT as the server had it then */
        uint64_t round = claims_resend_us(s->ann_grtt, 3);
        wait = round > UINT64_MAX - wait ? UINT64_MAX : round + wait;
    }
    uint64_t after = s->ann_at > UINT64_MAX - wait ? UINT64_MAX : s->ann_at + wait;
    uint64_t t = s->regup_at > UINT64_MAX - resend ? UINT64_MAX : s->regup_at + resend;
    return after > t ? after : t;
}

/* When the timer of ev is due; ENG_NEVER when not armed, or not in this phase. */
static uint64_t due(const struct proxy *p, const struct psession *s, int ev)
{
    if (s->phase == PP_FREE || !p_fsm_accepts(def_of(p), s->phase, ev))
        return ENG_NEVER;
    uint64_t resend = claims_resend_us(s->grtt_us, 2); /* spec §3.4: every 2 GRTT */
    bool pending = agg_pending(&s->agg) > 0;
    switch (ev) {
    case SE_UNCONFIRMED:
        return s->confirmed ? ENG_NEVER : s->unconfirmed_until;
    case SE_FLUSH:
        return pending ? agg_deadline(&s->agg) : ENG_NEVER;
    case SE_KEYINFO_TIMER:
        return s->keyinfo_at != 0 ? s->keyinfo_at + resend : ENG_NEVER;
    case SE_REGISTER_TIMER:
        return s->regup_at != 0 ? register_due(s, resend) : ENG_NEVER;
    case SE_REG_END:
        return s->reg_end != 0 ? s->reg_end : ENG_NEVER;
    default:
        /* With answers pending the session cannot end: their flush comes first. */
        return pending ? ENG_NEVER : s->idle_at;
    }
}

void p_session_tick(struct proxy *p, struct psession *s)
{
    for (size_t i = 0; i < sizeof(timer_order) / sizeof(timer_order[0]); i++)
        if (due(p, s, timer_order[i]) <= p->now)
            p_session_event(p, s, timer_order[i], NULL);
}

uint64_t p_session_deadline(const struct proxy *p, const struct psession *s)
{
    uint64_t t = ENG_NEVER;
    for (size_t i = 0; i < sizeof(timer_order) / sizeof(timer_order[0]); i++) {
        uint64_t d = due(p, s, timer_order[i]);
        t = d < t ? d : t;
    }
    return t;
}
