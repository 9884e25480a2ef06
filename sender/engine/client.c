/*
 * The sender's destinations: the table (clients and proxies, spec §1.6,
 * §3.4) and the per-receiver machine. A receiver's state changes only
 * here, in client_step(); the per-state counts (cnt[], pcnt[]) that keep
 * every "has everyone answered?" check O(1) follow in on_change.
 */
#include "sender/engine/sender_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* fsm_step()'s object: the destination and its session. */
struct cref {
    struct sender *s;
    struct sdest *d;
};

/* It answered: the next REG_CONF / DONE_CONF names it again (spec §1.4). */
static ENG_ACTION(c_unconfirmed)
{
    ((struct cref *)obj)->d->conf_sent = false;
    return FSM_NEXT;
}

/* A first REGISTER: in at once without encryption, else once its keys are agreed. */
static ENG_ACTION(on_register)
{
    struct cref *c = obj;
    c_unconfirmed(obj, ev, arg);
    if (c->s->keys == NULL)
        return FSM_GOTO(D_ACTIVE);
    return skeys_peer_keyed(c->d->keys) ? FSM_NEXT : FSM_STAY; /* -c: CLIENT_KEY first */
}

/* A proxy answers FILEINFO for its clients, never for itself. */
static ENG_ACTION(c_owes_ack)
{
    return ((struct cref *)obj)->d->isproxy ? FSM_GOTO(D_ACTIVE) : FSM_NEXT;
}

static const char *const c_state_names[D_NSTATES] = {"mute", "registered", "active", "active-nak",
                                                     "done", "lost",       "aborted"};
static const char *const c_event_names[CE_NEVENTS] = {
    "REGISTER", "CLIENT_KEY", "KEYINFO_ACK", "VIA_PROXY", "FILEINFO", "FILEINFO_ACK", "STATUS",
    "REWIND",   "COMPLETE",   "COMPLETION",  "SILENCE",   "ABORT",    "DROP"};

/* One row for each state of a receiver still in the session (M_IN). */
#define IN_SESSION(ev, action, next)                                                               \
    {D_REGISTERED, ev, action, next}, {D_ACTIVE, ev, action, next},                                \
        {D_ACTIVE_NAK, ev, action, next},                                                          \
    {                                                                                              \
        D_DONE, ev, action, next                                                                   \
    }

static const struct fsm_row c_rows[] = {
    /* Registration (spec §1.6 step 3, §1.8): a closed group's listed hosts start mute. */
    {D_MUTE, CE_REGISTER, on_register, D_REGISTERED},
    {D_REGISTERED, CE_REGISTER, c_unconfirmed, FSM_SAME},
    {D_ACTIVE, CE_REGISTER, c_unconfirmed, FSM_SAME},
    {D_MUTE, CE_CLIENT_KEY, NULL, D_REGISTERED},
    {D_REGISTERED, CE_CLIENT_KEY, NULL, FSM_SAME},
    {D_ACTIVE, CE_CLIENT_KEY, NULL, FSM_SAME},
    {D_REGISTERED, CE_KEYINFO_ACK, c_unconfirmed, D_ACTIVE},
    {D_ACTIVE, CE_KEYINFO_ACK, c_unconfirmed, FSM_SAME},
    {D_MUTE, CE_VIA_PROXY, c_unconfirmed, D_ACTIVE},
    {D_REGISTERED, CE_VIA_PROXY, c_unconfirmed, D_ACTIVE},
    {D_ACTIVE, CE_VIA_PROXY, c_unconfirmed, FSM_SAME},
    /* A file: FILEINFO, FILEINFO_ACK, passes with NAKs, COMPLETE. */
    IN_SESSION(CE_FILEINFO, c_owes_ack, D_REGISTERED),
    {D_REGISTERED, CE_FILEINFO_ACK, NULL, D_ACTIVE},
    {D_ACTIVE, CE_FILEINFO_ACK, NULL, FSM_SAME},
    {D_ACTIVE, CE_STATUS, NULL, D_ACTIVE_NAK},
    {D_ACTIVE_NAK, CE_STATUS, NULL, FSM_SAME},
    {D_ACTIVE_NAK, CE_REWIND, NULL, D_ACTIVE},
    IN_SESSION(CE_COMPLETE, c_unconfirmed, D_DONE),
    /* The completion phase asks everyone still in for COMPLETE(0). */
    IN_SESSION(CE_COMPLETION, NULL, D_ACTIVE),
    /* Out of the session. */
    IN_SESSION(CE_SILENCE, NULL, D_LOST),
    {FSM_ANY, CE_ABORT, NULL, D_ABORT},
    {D_MUTE, CE_DROP, NULL, D_ABORT},
    IN_SESSION(CE_DROP, NULL, D_ABORT),
};

static void c_changed(void *obj, int from, int to)
{
    struct cref *c = obj;
    size_t *cnt = c->d->isproxy ? c->s->pcnt : c->s->cnt;
    cnt[from]--;
    cnt[to]++;
    /* A receiver out of the session: why, for uftp --summary-json (issue 15). */
    if ((to == D_LOST || to == D_ABORT) && !c->d->isproxy) {
        struct sender_event e = {.kind = SENDER_EV_LEFT,
                                 .client_id = c->d->id,
                                 .result = to == D_LOST ? SENDER_RES_LOST : SENDER_RES_ABORTED,
                                 .text = c->s->why      ? c->s->why
                                         : to == D_LOST ? "stopped answering"
                                                        : "aborted"};
        s_report(c->s, &e);
    }
    if (to == D_LOST || to == D_ABORT)
        cc_client_gone(c->s, c->d);
}

static void c_label(void *obj, char *buf, size_t cap)
{
    const struct cref *c = obj;
    snprintf(buf, cap, "[%08X] %s %08X", c->s->group_id, c->d->isproxy ? "proxy" : "client",
             c->d->id);
}

const struct fsm_def sender_client_fsm = {
    .name = "client",
    .state_names = c_state_names,
    .nstates = D_NSTATES,
    .event_names = c_event_names,
    .nevents = CE_NEVENTS,
    .rows = c_rows,
    .nrows = sizeof(c_rows) / sizeof(c_rows[0]),
    .on_change = c_changed,
    .label = c_label,
};

int client_step(struct sender *s, struct sdest *d, int ev)
{
    struct cref c = {s, d};
    return fsm_step(&sender_client_fsm, &d->state, ev, &c, NULL, &s->env.log);
}

bool client_accepts(const struct sdest *d, int ev)
{
    for (size_t i = 0; i < sizeof(c_rows) / sizeof(c_rows[0]); i++)
        if (c_rows[i].event == ev && (c_rows[i].state == d->state || c_rows[i].state == FSM_ANY))
            return true;
    return false;
}

int client_step_why(struct sender *s, struct sdest *d, int ev, const char *why)
{
    const char *was = s->why;
    s->why = why;
    int rc = client_step(s, d, ev);
    s->why = was;
    return rc;
}

void client_step_all(struct sender *s, int ev, unsigned mask)
{
    for (size_t i = 0; i < s->ndest; i++)
        if (mask & (1u << s->dests[i].state))
            client_step(s, &s->dests[i], ev);
}

/*
 * The clients behind proxy p follow it out (it was lost or aborted). One
 * done with the current file follows too, since the next file can't reach
 * it; only the completion phase keeps the clients that finished.
 */
void client_lose(struct sender *s, struct sdest *p, int ev)
{
    client_step(s, p, ev);
    if (!p->isproxy)
        return;
    uint32_t pi = (uint32_t)(p - s->dests) + 1;
    ev = ev == CE_SILENCE ? CE_SILENCE : CE_DROP;
    for (size_t i = 0; i < s->ndest; i++) {
        struct sdest *c = &s->dests[i];
        if (c->proxy == pi && client_accepts(c, ev) &&
            !(c->state == D_DONE && s->phase >= SP_COMPLETION)) {
            SLOG(s, LL_WARN, "client %08X is behind proxy %08X: %s too", c->id, p->id,
                 ev == CE_SILENCE ? "lost" : "aborted");
            client_step(s, c, ev);
        }
    }
}

void client_drop(struct sender *s, struct sdest *d, const char *why)
{
    job_abort(s, d->id, 0, why, NULL);
    client_step_why(s, d, CE_DROP, why);
}

void client_abort_all(struct sender *s, const char *why, uint8_t flags, unsigned mask)
{
    SLOG(s, LL_ERR, "aborting all clients: %s", why);
    job_abort(s, 0, flags, why, NULL);
    const char *was = s->why;
    s->why = why;
    client_step_all(s, CE_DROP, mask);
    s->why = was;
}
