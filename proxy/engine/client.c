/*
 * A client or response proxy's clients: the table (spec §4: at most
 * max_clients a session, -C when given) and the per-client machine
 * (spec §1.8, §3.4):
 *   MUTE → REGISTERED (REGISTER, and CLIENT_KEY under client
 *   authentication) → CONF (the server's REG_CONF: our KEYINFO owed) →
 *   READY (KEYINFO_ACK, or a message under its application key) → DONE
 *   (COMPLETE for the session); ABORTED from anywhere.
 * Without encryption a client is REGISTERED from its REGISTER on and the
 * server's REG_CONF reaches it unchanged. A client's state changes only
 * here, in p_client_step(); the per-state counts (s->ccnt) follow in on_change.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/engine/proxy_int.h"

/* It waits for the server: its REGISTER goes up again. */
PX_ACTION(c_register_up)
{
    p_client_register_up(p, s, c);
    return FSM_NEXT;
}

/*
 * Its REGISTER again while it waits for the server. Encrypted, ours went up
 * since the server's latest round: that round's answer (or our own retry,
 * session.c) is what it waits for; sending it up again only doubles the
 * aggregates (issue 16: a GRTT lowered by the server's ANNOUNCE makes the
 * clients' retries fall due just before its REG_CONF).
 */
PX_ACTION(c_register_again)
{
    if (s->encrypted && c->up_at != 0 && c->up_at > s->ann_at)
        return FSM_NEXT;
    p_client_register_up(p, s, c);
    return FSM_NEXT;
}

/* In once its key exchange is done (under client authentication: CLIENT_KEY first). */
PX_ACTION(on_register)
{
    /* spec §3.5: one listed by a downstream proxy, once that proxy proved its key. */
    if (s->encrypted &&
        !(c->via != 0 ? p_down_authed(s, c->via) : keys_peer_registered(s->k, c->k)))
        return FSM_STAY;
    p_client_register_up(p, s, c);
    return FSM_NEXT;
}

/* Confirmed by the server, it waits for our KEYINFO, not the server's. */
PX_ACTION(c_keyinfo_again)
{
    uint32_t one = c->id;
    struct wire_ids l = wire_ids_of(&one, 1);
    p_send_keyinfo(p, s, &l);
    return FSM_NEXT;
}

PX_ACTION(c_keyed)
{
    keys_peer_end_handshake(c->k);
    return FSM_NEXT;
}

PX_ACTION(c_drop)
{
    p_send_abort_down(p, s, c, 0, arg);
    return FSM_NEXT;
}

static const char *const c_state_names[PC_NSTATES] = {"mute",  "registered", "conf",
                                                      "ready", "done",       "aborted"};
static const char *const c_event_names[CE_NEVENTS] = {
    "REGISTER", "CLIENT_KEY", "REG_CONF", "KEYINFO_ACK", "PROVEN", "COMPLETE", "ABORT", "DROP"};

static const struct fsm_row c_rows[] = {
    {PC_MUTE, CE_REGISTER, on_register, PC_REGISTERED},
    {PC_REGISTERED, CE_REGISTER, c_register_again, FSM_SAME},
    {PC_CONF, CE_REGISTER, c_keyinfo_again, FSM_SAME},
    {PC_READY, CE_REGISTER, NULL, FSM_SAME},
    {PC_DONE, CE_REGISTER, NULL, FSM_SAME},
    {PC_MUTE, CE_CLIENT_KEY, c_register_up, PC_REGISTERED},
    {PC_REGISTERED, CE_CLIENT_KEY, c_register_up, FSM_SAME}, /* a repeat */
    /* Encrypted sessions: the server's REG_CONF names it; it gets our keys. */
    {PC_REGISTERED, CE_REG_CONF, NULL, PC_CONF},
    {PC_CONF, CE_REG_CONF, NULL, FSM_SAME},
    {PC_CONF, CE_KEYINFO_ACK, c_keyed, PC_READY},
    {PC_CONF, CE_PROVEN, c_keyed, PC_READY},
    {FSM_ANY, CE_COMPLETE, NULL, PC_DONE},
    {PC_ABORTED, CE_COMPLETE, NULL, FSM_SAME},
    {FSM_ANY, CE_ABORT, NULL, PC_ABORTED},
    {FSM_ANY, CE_DROP, c_drop, PC_ABORTED},
};

static void c_changed(void *obj, int from, int to)
{
    const struct pref *r = obj;
    r->s->ccnt[from]--;
    r->s->ccnt[to]++;
}

static void c_label(void *obj, char *buf, size_t cap)
{
    const struct pref *r = obj;
    snprintf(buf, cap, "[%08X/%u] client %08X", r->s->group_id, (unsigned)r->s->group_inst,
             r->c->id);
}

const struct fsm_def proxy_client_fsm = {.name = "client",
                                         .state_names = c_state_names,
                                         .nstates = PC_NSTATES,
                                         .event_names = c_event_names,
                                         .nevents = CE_NEVENTS,
                                         .rows = c_rows,
                                         .nrows = sizeof(c_rows) / sizeof(c_rows[0]),
                                         .on_change = c_changed,
                                         .label = c_label};

int p_client_step(struct proxy *p, struct psession *s, struct pclient *c, int ev, void *arg)
{
    struct pref r = {p, s, c};
    return fsm_step(&proxy_client_fsm, &c->state, ev, &r, arg, &p->env.log);
}

bool p_fsm_accepts(const struct fsm_def *def, int state, int ev)
{
    for (size_t i = 0; i < def->nrows; i++)
        if (def->rows[i].event == ev &&
            (def->rows[i].state == state || def->rows[i].state == FSM_ANY))
            return true;
    return false;
}

bool p_client_accepts(const struct pclient *c, int ev)
{
    return p_fsm_accepts(&proxy_client_fsm, c->state, ev);
}

void p_client_register_up(struct proxy *p, struct psession *s, struct pclient *c)
{
    struct agg_msg am;
    memset(&am, 0, sizeof(am));
    am.func = REGISTER;
    am.has_echo = true;
    /* Its REGISTER's echo, held since it arrived (a CLIENT_KEY may come later). */
    am.echo_us = c->reg_echo + (p->now - c->reg_rx);
    p_aggq_add(p, s, &am, c->id);
    c->up_at = p->now ? p->now : 1;
    if (s->encrypted)
        s->regup_at = p->now ? p->now : 1;
}

struct pclient *p_client_of(struct psession *s, uint32_t id)
{
    uint32_t i = idmap_get(&s->cmap, id);
    return i == IDMAP_NONE ? NULL : &s->cl[i];
}

struct pclient *p_client_add(struct proxy *p, struct psession *s, uint32_t id,
                             const struct addr *from)
{
    if (p->cfg.nclient > 0 && p_client_entry(p, id) == NULL) {
        char ab[ADDR_STRLEN];
        p_refuse(p, "[%08X/%u] refusing client %08X at %s: not in the client list (-C)",
                 s->group_id, s->group_inst, id, addr_str(from, ab));
        return NULL;
    }
    if (id == 0 || id == UINT32_MAX || id == p->cfg.proxy_id || id == s->server_id) {
        p_drop(p, from, "invalid client ID");
        return NULL;
    }
    if (s->ncl >= p->cfg.max_clients) {
        p_limit(p, "[%08X/%u] %u clients: REGISTER from %08X refused", s->group_id, s->group_inst,
                p->cfg.max_clients, id);
        return NULL;
    }
    if (s->ncl == s->capcl) {
        size_t cap = s->capcl ? 2 * s->capcl : 16;
        if (cap > p->cfg.max_clients)
            cap = p->cfg.max_clients;
        struct pclient *n = realloc(s->cl, cap * sizeof(*n));
        if (n == NULL)
            return NULL;
        s->cl = n;
        s->capcl = cap;
    }
    if (idmap_put(&s->cmap, id, (uint32_t)s->ncl) < 0)
        return NULL;
    struct pclient *c = &s->cl[s->ncl++];
    memset(c, 0, sizeof(*c));
    c->id = id;
    c->state = PC_MUTE;
    c->addr = *from;
    s->ccnt[PC_MUTE]++;
    return c;
}

/* ------------------------------------------------------------ downstream proxies */

struct pdref {
    struct proxy *p;
    struct psession *s;
    struct pdown *d;
};

/* Once authenticated (the move done), it enters. */
static int d_authed(void *obj, int ev, void *arg)
{
    (void)obj, (void)ev, (void)arg;
    return FSM_THEN(DE_ENTER);
}

/* Its clients whose REGISTER came before its CLIENT_KEY are in now; it gets our KEYINFO. */
static int d_enter(void *obj, int ev, void *arg)
{
    const struct pdref *r = obj;
    (void)ev, (void)arg;
    for (size_t i = 0; i < r->s->ncl; i++) {
        struct pclient *c = &r->s->cl[i];
        if (c->via == r->d->id && c->state == PC_MUTE)
            p_client_step(r->p, r->s, c, CE_REGISTER, NULL);
    }
    uint32_t one = r->d->id;
    struct wire_ids l = wire_ids_of(&one, 1);
    p_send_keyinfo(r->p, r->s, &l);
    return FSM_NEXT;
}

static int d_keyed(void *obj, int ev, void *arg)
{
    const struct pdref *r = obj;
    (void)ev, (void)arg;
    keys_peer_end_handshake(r->d->k);
    return FSM_NEXT;
}

static const char *const d_state_names[PD_NSTATES] = {"key exchange", "authenticated", "ready",
                                                      "refused"};
static const char *const d_event_names[DE_NEVENTS] = {"CLIENT_KEY", "KEYINFO_ACK", "PROVEN",
                                                      "REFUSE", "ENTER"};

static const struct fsm_row d_rows[] = {
    {PD_KEYX, DE_CLIENT_KEY, d_authed, PD_AUTHED}, {PD_AUTHED, DE_ENTER, d_enter, FSM_SAME},
    {PD_AUTHED, DE_CLIENT_KEY, d_enter, FSM_SAME}, /* its REGISTER again: our KEYINFO was lost */
    {PD_READY, DE_CLIENT_KEY, NULL, FSM_SAME},     {PD_AUTHED, DE_KEYINFO_ACK, d_keyed, PD_READY},
    {PD_AUTHED, DE_PROVEN, d_keyed, PD_READY},     {PD_KEYX, DE_REFUSE, NULL, PD_REFUSED},
    {PD_AUTHED, DE_REFUSE, NULL, PD_REFUSED},
};

static void d_label(void *obj, char *buf, size_t cap)
{
    const struct pdref *r = obj;
    snprintf(buf, cap, "[%08X/%u] downstream proxy %08X", r->s->group_id,
             (unsigned)r->s->group_inst, r->d->id);
}

const struct fsm_def proxy_down_fsm = {.name = "downstream proxy",
                                       .state_names = d_state_names,
                                       .nstates = PD_NSTATES,
                                       .event_names = d_event_names,
                                       .nevents = DE_NEVENTS,
                                       .rows = d_rows,
                                       .nrows = sizeof(d_rows) / sizeof(d_rows[0]),
                                       .label = d_label};

int p_down_step(struct proxy *p, struct psession *s, struct pdown *d, int ev, void *arg)
{
    struct pdref r = {p, s, d};
    return fsm_step(&proxy_down_fsm, &d->state, ev, &r, arg, &p->env.log);
}

struct pdown *p_down_of(struct psession *s, uint32_t id)
{
    for (size_t i = 0; i < s->ndn; i++)
        if (s->dn[i].id == id)
            return &s->dn[i];
    return NULL;
}

bool p_down_authed(struct psession *s, uint32_t id)
{
    const struct pdown *d = p_down_of(s, id);
    return d != NULL && (d->state == PD_AUTHED || d->state == PD_READY);
}

struct pdown *p_down_add(struct proxy *p, struct psession *s, uint32_t id)
{
    /* At most one per --downstream line: the array is sized once. */
    if (s->dn == NULL && (s->dn = calloc(p->cfg.ndown ? p->cfg.ndown : 1, sizeof(*s->dn))) == NULL)
        return NULL;
    if (s->ndn >= p->cfg.ndown)
        return NULL;
    struct pdown *d = &s->dn[s->ndn++];
    memset(d, 0, sizeof(*d));
    d->id = id;
    d->state = PD_KEYX;
    return d;
}
