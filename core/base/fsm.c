/*
 * Table-driven state machines (fsm.h).
 */
#include "core/base/fsm.h"

#include <stdio.h>

/* Follow-up events handled after one fsm_step() event, at most. */
#define FSM_CHAIN_MAX 16

const char *fsm_state_name(const struct fsm_def *def, int state)
{
    if (state >= 0 && state < def->nstates && def->state_names[state] != NULL)
        return def->state_names[state];
    return "?";
}

const char *fsm_event_name(const struct fsm_def *def, int event)
{
    if (event >= 0 && event < def->nevents && def->event_names[event] != NULL)
        return def->event_names[event];
    return "?";
}

static const struct fsm_row *find_row(const struct fsm_def *def, int state, int event)
{
    const struct fsm_row *any = NULL;

    for (size_t i = 0; i < def->nrows; i++) {
        const struct fsm_row *r = &def->rows[i];
        if (r->event != event)
            continue;
        if (r->state == state)
            return r;
        if (r->state == FSM_ANY && any == NULL)
            any = r;
    }
    return any;
}

static const char *label(const struct fsm_def *def, void *obj, char *buf, size_t cap)
{
    if (def->label == NULL)
        return def->name;
    def->label(obj, buf, cap);
    return buf;
}

/* One event; returns the follow-up event (or -1), or -2 when unexpected. */
static int step1(const struct fsm_def *def, int *state, int event, void *obj, void *arg,
                 const struct elog *log)
{
    const struct fsm_row *row = find_row(def, *state, event);
    char who[96];
    int from = *state, to, res, then;

    if (row == NULL) {
        ELOG(log, LL_PROTO, "%s: unexpected %s in state %s", label(def, obj, who, sizeof(who)),
             fsm_event_name(def, event), fsm_state_name(def, from));
        return -2;
    }
    res = row->action != NULL ? row->action(obj, event, arg) : FSM_NEXT;
    then = (res >> 12 & 0xfff) - 1;
    switch (res & 0xfff) {
    case FSM_NEXT:
        to = row->next == FSM_SAME ? from : row->next;
        break;
    case FSM_STAY:
        to = from;
        break;
    default:
        to = (res & 0xfff) - 1;
        if (to >= def->nstates) {
            ELOG(log, LL_ERR, "%s: %s in %s: the action chose state %d, which does not exist",
                 label(def, obj, who, sizeof(who)), fsm_event_name(def, event),
                 fsm_state_name(def, from), to);
            to = from;
        }
        break;
    }
    if (elog_enabled(log, LL_DEBUG)) {
        const char *how = (res & 0xfff) == FSM_STAY   ? " (stays)"
                          : (res & 0xfff) != FSM_NEXT ? " (by its action)"
                                                      : "";
        elog_msg(log, LL_DEBUG, "%s: %s + %s -> %s%s", label(def, obj, who, sizeof(who)),
                 fsm_state_name(def, from), fsm_event_name(def, event), fsm_state_name(def, to),
                 how);
    }
    *state = to;
    if (to != from && def->on_change != NULL)
        def->on_change(obj, from, to);
    return then;
}

int fsm_step(const struct fsm_def *def, int *state, int event, void *obj, void *arg,
             const struct elog *log)
{
    int then = step1(def, state, event, obj, arg, log);

    if (then == -2)
        return FSM_UNEXPECTED;
    for (int n = 0; then >= 0; n++) {
        if (n == FSM_CHAIN_MAX) {
            char who[96];
            ELOG(log, LL_ERR, "%s: more than %d follow-up events; %s dropped in state %s",
                 label(def, obj, who, sizeof(who)), FSM_CHAIN_MAX, fsm_event_name(def, then),
                 fsm_state_name(def, *state));
            break;
        }
        /* An unexpected follow-up is logged by step1 and ends the chain. */
        then = step1(def, state, then, obj, NULL, log);
    }
    return *state;
}

int fsm_check(const struct fsm_def *def, char *msg, size_t cap)
{
    if (def->nstates <= 0 || def->nstates > FSM_MAX || def->nevents <= 0 ||
        def->nevents > FSM_MAX) {
        snprintf(msg, cap, "%s: %d states, %d events: out of range", def->name, def->nstates,
                 def->nevents);
        return -1;
    }
    for (int i = 0; i < def->nstates; i++)
        if (def->state_names[i] == NULL) {
            snprintf(msg, cap, "%s: state %d has no name", def->name, i);
            return -1;
        }
    for (int i = 0; i < def->nevents; i++)
        if (def->event_names[i] == NULL) {
            snprintf(msg, cap, "%s: event %d has no name", def->name, i);
            return -1;
        }
    for (size_t i = 0; i < def->nrows; i++) {
        const struct fsm_row *r = &def->rows[i];
        if ((r->state != FSM_ANY && (r->state < 0 || r->state >= def->nstates)) || r->event < 0 ||
            r->event >= def->nevents ||
            (r->next != FSM_SAME && (r->next < 0 || r->next >= def->nstates))) {
            snprintf(msg, cap, "%s: row %zu out of range", def->name, i);
            return -1;
        }
        for (size_t j = 0; j < i; j++)
            if (def->rows[j].state == r->state && def->rows[j].event == r->event) {
                snprintf(msg, cap, "%s: rows %zu and %zu both handle %s in %s", def->name, j, i,
                         fsm_event_name(def, r->event),
                         r->state == FSM_ANY ? "any state" : fsm_state_name(def, r->state));
                return -1;
            }
    }
    return 0;
}
