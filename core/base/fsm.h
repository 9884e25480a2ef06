/*
 * Table-driven state machines for the engines — the ground floor
 * (DESIGN.md "The house").
 *
 * A machine is a table of rows {state, event, action, next}. fsm_step()
 * finds the row for the current state and the event (a row for the exact
 * state wins over an FSM_ANY row; fsm_check() refuses two rows for the
 * same pair), runs its action and moves to its next state, logging the transition by
 * state and event name. The state itself lives in the caller's object (an
 * int); the table is static const data.
 *
 * The action decides when the outcome decides: it returns FSM_NEXT to
 * follow the table, FSM_STAY to veto the move (a guard that failed),
 * FSM_GOTO(s) to go elsewhere, and may add a follow-up event with
 * FSM_THEN(e) / FSM_GOTO_THEN(s, e) / FSM_STAY_THEN(e): it is stepped
 * once this transition is complete (with arg NULL), so an action never
 * re-enters its own machine. An event without a row is "unexpected": it
 * is logged at LL_PROTO and the state is kept — never fatal, since most
 * events come from the network.
 *
 * Example (a per-client machine):
 *     static const struct fsm_row rows[] = {
 *         {C_MUTE, EV_REGISTER, on_register, C_REGISTERED},
 *         {C_REGISTERED, EV_KEYINFO_ACK, on_keyinfo_ack, C_READY},
 *         {FSM_ANY, EV_ABORT, on_abort, C_ABORTED},
 *     };
 *     static int on_register(void *obj, int ev, void *arg)
 *     {
 *         return needs_key(obj) ? FSM_NEXT : FSM_GOTO(C_READY);
 *     }
 */
#ifndef UFTP_BASE_FSM_H
#define UFTP_BASE_FSM_H

#include <stdbool.h>
#include <stddef.h>

#include "core/base/elog.h"

/* States and events are small non-negative ints (enums), below FSM_MAX. */
#define FSM_MAX 4094

/* fsm_row.state: any state. */
#define FSM_ANY (-1)
/* fsm_row.next: keep the current state. */
#define FSM_SAME (-2)

/*
 * What an action returns. Bits 0..11: 0 = the row's next state, FSM_MAX+1
 * = stay, s+1 = state s; bits 12..23: 0 = no follow-up, e+1 = event e.
 */
#define FSM_NEXT            0
#define FSM_STAY            (FSM_MAX + 1)
#define FSM_GOTO(s)         ((s) + 1)
#define FSM_THEN(e)         (((e) + 1) << 12)
#define FSM_GOTO_THEN(s, e) (FSM_GOTO(s) | FSM_THEN(e))
#define FSM_STAY_THEN(e)    (FSM_STAY | FSM_THEN(e))

/* What fsm_step() returns when the event has no row. */
#define FSM_UNEXPECTED (-1)

/*
 * Runs for a matching row before the state changes; obj and arg are
 * fsm_step()'s, event the one being handled. NULL = FSM_NEXT.
 */
typedef int (*fsm_action)(void *obj, int event, void *arg);

struct fsm_row {
    int state; /* a state, or FSM_ANY */
    int event;
    fsm_action action;
    int next; /* a state, or FSM_SAME */
};

struct fsm_def {
    const char *name;               /* the machine, for logs: "session", "client" */
    const char *const *state_names; /* [nstates] */
    int nstates;
    const char *const *event_names; /* [nevents] */
    int nevents;
    const struct fsm_row *rows;
    size_t nrows;
    /* Optional: called after every change of state (counters, status). */
    void (*on_change)(void *obj, int from, int to);
    /*
     * Optional: names obj for log lines ("[0A0B0C0D] client 01020304");
     * called only when a line is written. Default: the machine's name.
     */
    void (*label)(void *obj, char *buf, size_t cap);
};

/*
 * Handles event in *state for obj: runs the row's action, stores the next
 * state, calls on_change when it changed, then handles any follow-up
 * events the same way (at most 16 in a chain; a longer one is logged at
 * LL_ERR and cut). Each step is logged at LL_DEBUG:
 *     "client 01020304: registered + KEYINFO_ACK -> ready".
 * Returns the state after the event (and its follow-ups), or
 * FSM_UNEXPECTED when event has no row in *state (which is then unchanged).
 */
int fsm_step(const struct fsm_def *def, int *state, int event, void *obj, void *arg,
             const struct elog *log);

/* Names for logs; "?" out of range. */
const char *fsm_state_name(const struct fsm_def *def, int state);
const char *fsm_event_name(const struct fsm_def *def, int event);

/*
 * Checks a table: every state and event named, every row's state, event
 * and next in range, no two rows for the same (state, event). Returns 0,
 * or -1 with a reason in msg. For unit tests of the engines' tables.
 */
int fsm_check(const struct fsm_def *def, char *msg, size_t cap);

#endif
