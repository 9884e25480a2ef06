/*
 * core/base/fsm: the table runner the engines' state machines use. Two toy
 * machines shaped like the engines': a per-client one (rows, wildcard,
 * guards) and a session one whose actions decide the next state and raise
 * follow-up events.
 */
#include <stdio.h>
#include <string.h>

#include "core/base/fsm.h"
#include "cu.h"

/* ---- a log that keeps its lines ---- */

struct lines {
    int max;
    int n;
    int level[32];
    char text[32][160];
};

__attribute__((format(printf, 3, 0))) static void lines_vlog(void *ctx, int level, const char *fmt,
                                                             va_list ap)
{
    struct lines *l = ctx;
    if (l->n < 32) {
        l->level[l->n] = level;
        vsnprintf(l->text[l->n], sizeof(l->text[0]), fmt, ap);
    }
    l->n++;
}

static bool lines_on(void *ctx, int level)
{
    return level <= ((struct lines *)ctx)->max;
}

/* ---- a per-client machine (like the proxy's PC_* or the sender's D_*) ---- */

enum { C_MUTE, C_REGISTERED, C_READY, C_DONE, C_ABORTED, C_NSTATES };
enum { E_REGISTER, E_KEYINFO_ACK, E_COMPLETE, E_ABORT, E_TIMEOUT, E_NEVENTS };

static const char *const c_states[] = {"mute", "registered", "ready", "done", "aborted"};
static const char *const c_events[] = {"REGISTER", "KEYINFO_ACK", "COMPLETE", "ABORT", "TIMEOUT"};

struct client {
    int state;
    unsigned id;
    bool encrypted; /* REGISTER goes to REGISTERED (keys owed) or straight to READY */
    bool bad_ack;   /* KEYINFO_ACK fails verification: guard */
    int actions;    /* actions run */
    int last_event;
    int changes; /* on_change calls */
    int cnt[C_NSTATES];
    int labels; /* label calls */
};

static int on_register(void *obj, int ev, void *arg)
{
    struct client *c = obj;
    c->actions++;
    c->last_event = ev;
    return c->encrypted ? FSM_NEXT : FSM_GOTO(C_READY);
}

static int on_ack(void *obj, int ev, void *arg)
{
    struct client *c = obj;
    c->actions++;
    c->last_event = ev;
    return c->bad_ack ? FSM_STAY : FSM_NEXT;
}

static int count(void *obj, int ev, void *arg)
{
    struct client *c = obj;
    c->actions++;
    c->last_event = ev;
    if (arg != NULL)
        (*(int *)arg)++;
    return FSM_NEXT;
}

static void c_changed(void *obj, int from, int to)
{
    struct client *c = obj;
    c->changes++;
    c->cnt[from]--;
    c->cnt[to]++;
}

static void c_label(void *obj, char *buf, size_t cap)
{
    struct client *c = obj;
    c->labels++;
    snprintf(buf, cap, "client %08X", c->id);
}

static const struct fsm_row c_rows[] = {
    /* The wildcard row comes first: the exact row below must still win. */
    {FSM_ANY, E_ABORT, count, C_ABORTED},
    {C_DONE, E_ABORT, count, FSM_SAME},
    {C_MUTE, E_REGISTER, on_register, C_REGISTERED},
    {C_REGISTERED, E_REGISTER, count, FSM_SAME}, /* a resend */
    {C_REGISTERED, E_KEYINFO_ACK, on_ack, C_READY},
    {C_READY, E_COMPLETE, count, C_DONE},
    {C_REGISTERED, E_TIMEOUT, NULL, C_MUTE}, /* no action */
};

static const struct fsm_def c_def = {
    .name = "client",
    .state_names = c_states,
    .nstates = C_NSTATES,
    .event_names = c_events,
    .nevents = E_NEVENTS,
    .rows = c_rows,
    .nrows = sizeof(c_rows) / sizeof(c_rows[0]),
    .on_change = c_changed,
    .label = c_label,
};

static struct client new_client(unsigned id, bool encrypted)
{
    struct client c = {.state = C_MUTE, .id = id, .encrypted = encrypted, .last_event = -1};
    c.cnt[C_MUTE] = 1;
    return c;
}

static void test_check(void)
{
    char msg[128];
    CU_ASSERT_EQUAL(fsm_check(&c_def, msg, sizeof(msg)), 0);

    struct fsm_def d = c_def;
    struct fsm_row dup[] = {{C_MUTE, E_REGISTER, NULL, C_READY},
                            {C_MUTE, E_REGISTER, NULL, C_DONE}};
    d.rows = dup;
    d.nrows = 2;
    CU_ASSERT_EQUAL(fsm_check(&d, msg, sizeof(msg)), -1);
    CU_ASSERT_STRING_EQUAL(msg, "client: rows 0 and 1 both handle REGISTER in mute");

    struct fsm_row bad_next[] = {{C_MUTE, E_REGISTER, NULL, C_NSTATES}};
    d.rows = bad_next;
    d.nrows = 1;
    CU_ASSERT_EQUAL(fsm_check(&d, msg, sizeof(msg)), -1);
    struct fsm_row bad_event[] = {{FSM_ANY, E_NEVENTS, NULL, FSM_SAME}};
    d.rows = bad_event;
    CU_ASSERT_EQUAL(fsm_check(&d, msg, sizeof(msg)), -1);
    struct fsm_row bad_state[] = {{-3, E_ABORT, NULL, FSM_SAME}};
    d.rows = bad_state;
    CU_ASSERT_EQUAL(fsm_check(&d, msg, sizeof(msg)), -1);

    static const char *const unnamed[] = {"mute", NULL, "ready", "done", "aborted"};
    d = c_def;
    d.state_names = unnamed;
    CU_ASSERT_EQUAL(fsm_check(&d, msg, sizeof(msg)), -1);
    CU_ASSERT_STRING_EQUAL(msg, "client: state 1 has no name");
    CU_ASSERT_STRING_EQUAL(fsm_state_name(&c_def, C_READY), "ready");
    CU_ASSERT_STRING_EQUAL(fsm_state_name(&c_def, 99), "?");
    CU_ASSERT_STRING_EQUAL(fsm_event_name(&c_def, -1), "?");
}

static void test_rows_and_log(void)
{
    struct lines l = {.max = LL_DEBUG};
    struct elog lg = {&l, lines_vlog, lines_on};
    struct client c = new_client(0x0a0b0c0d, true);
    int arg = 0;

    CU_ASSERT_EQUAL(fsm_step(&c_def, &c.state, E_REGISTER, &c, NULL, &lg), C_REGISTERED);
    CU_ASSERT_EQUAL(c.state, C_REGISTERED);
    CU_ASSERT_EQUAL(c.actions, 1);
    CU_ASSERT_EQUAL(c.last_event, E_REGISTER);
    CU_ASSERT_EQUAL(c.changes, 1);
    CU_ASSERT_EQUAL(c.cnt[C_MUTE], 0);
    CU_ASSERT_EQUAL(c.cnt[C_REGISTERED], 1);
    CU_ASSERT_EQUAL(l.n, 1);
    CU_ASSERT_EQUAL(l.level[0], LL_DEBUG);
    CU_ASSERT_STRING_EQUAL(l.text[0], "client 0A0B0C0D: mute + REGISTER -> registered");

    /* FSM_SAME: the action runs (with its arg), the state and counters stay. */
    CU_ASSERT_EQUAL(fsm_step(&c_def, &c.state, E_REGISTER, &c, &arg, &lg), C_REGISTERED);
    CU_ASSERT_EQUAL(arg, 1);
    CU_ASSERT_EQUAL(c.actions, 2);
    CU_ASSERT_EQUAL(c.changes, 1);
    CU_ASSERT_STRING_EQUAL(l.text[1], "client 0A0B0C0D: registered + REGISTER -> registered");

    /* A row without an action. */
    CU_ASSERT_EQUAL(fsm_step(&c_def, &c.state, E_TIMEOUT, &c, NULL, &lg), C_MUTE);
    CU_ASSERT_EQUAL(c.actions, 2);
    CU_ASSERT_EQUAL(c.cnt[C_MUTE], 1);
    CU_ASSERT_STRING_EQUAL(l.text[2], "client 0A0B0C0D: registered + TIMEOUT -> mute");
}

static void test_action_decides(void)
{
    struct lines l = {.max = LL_DEBUG};
    struct elog lg = {&l, lines_vlog, lines_on};
    struct client c = new_client(1, false);

    /* Unencrypted: the action overrides the table's next state. */
    CU_ASSERT_EQUAL(fsm_step(&c_def, &c.state, E_REGISTER, &c, NULL, &lg), C_READY);
    CU_ASSERT_EQUAL(c.cnt[C_READY], 1);
    CU_ASSERT_STRING_EQUAL(l.text[0], "client 00000001: mute + REGISTER -> ready (by its action)");

    /* Encrypted with a bad KEYINFO_ACK: the guard vetoes the move. */
    c = new_client(2, true);
    c.bad_ack = true;
    fsm_step(&c_def, &c.state, E_REGISTER, &c, NULL, &lg);
    CU_ASSERT_EQUAL(fsm_step(&c_def, &c.state, E_KEYINFO_ACK, &c, NULL, &lg), C_REGISTERED);
    CU_ASSERT_EQUAL(c.changes, 1);
    CU_ASSERT_STRING_EQUAL(l.text[2],
                           "client 00000002: registered + KEYINFO_ACK -> registered (stays)");
    c.bad_ack = false;
    CU_ASSERT_EQUAL(fsm_step(&c_def, &c.state, E_KEYINFO_ACK, &c, NULL, &lg), C_READY);
    CU_ASSERT_EQUAL(c.changes, 2);
}

static void test_wildcard(void)
{
    struct elog none = {0};
    struct client c = new_client(3, false);
    int hits = 0;

    /* Any state but DONE: ABORT goes to ABORTED through the wildcard row. */
    CU_ASSERT_EQUAL(fsm_step(&c_def, &c.state, E_ABORT, &c, &hits, &none), C_ABORTED);
    CU_ASSERT_EQUAL(hits, 1);
    c = new_client(4, false);
    fsm_step(&c_def, &c.state, E_REGISTER, &c, NULL, &none);
    fsm_step(&c_def, &c.state, E_COMPLETE, &c, NULL, &none);
    CU_ASSERT_EQUAL(c.state, C_DONE);
    /* DONE has its own ABORT row, listed after the wildcard: it wins. */
    CU_ASSERT_EQUAL(fsm_step(&c_def, &c.state, E_ABORT, &c, &hits, &none), C_DONE);
    CU_ASSERT_EQUAL(hits, 2);
    /* ABORTED + ABORT matches the wildcard again. */
    c.state = C_ABORTED;
    CU_ASSERT_EQUAL(fsm_step(&c_def, &c.state, E_ABORT, &c, &hits, &none), C_ABORTED);
    CU_ASSERT_EQUAL(hits, 3);
}

static void test_unexpected(void)
{
    struct lines l = {.max = LL_DEBUG};
    struct elog lg = {&l, lines_vlog, lines_on};
    struct client c = new_client(0xfeedf00d, true);

    CU_ASSERT_EQUAL(fsm_step(&c_def, &c.state, E_COMPLETE, &c, NULL, &lg), FSM_UNEXPECTED);
    CU_ASSERT_EQUAL(c.state, C_MUTE);
    CU_ASSERT_EQUAL(c.actions, 0);
    CU_ASSERT_EQUAL(c.changes, 0);
    CU_ASSERT_EQUAL(l.n, 1);
    CU_ASSERT_EQUAL(l.level[0], LL_PROTO);
    CU_ASSERT_STRING_EQUAL(l.text[0], "client FEEDF00D: unexpected COMPLETE in state mute");
    /* The machine goes on. */
    CU_ASSERT_EQUAL(fsm_step(&c_def, &c.state, E_REGISTER, &c, NULL, &lg), C_REGISTERED);
}

/* Nothing is labelled or formatted when the levels are off. */
static void test_quiet(void)
{
    struct lines l = {.max = LL_WARN};
    struct elog lg = {&l, lines_vlog, lines_on};
    struct client c = new_client(5, true);

    fsm_step(&c_def, &c.state, E_REGISTER, &c, NULL, &lg);
    fsm_step(&c_def, &c.state, E_COMPLETE, &c, NULL, &lg); /* unexpected, LL_PROTO */
    CU_ASSERT_EQUAL(c.state, C_REGISTERED);
    CU_ASSERT_EQUAL(l.n, 0);
    CU_ASSERT_EQUAL(c.labels, 0);
}

/* ---- a session machine (like the sender's phases) ---- */

enum { S_ANNOUNCE, S_FILEINFO, S_DATA, S_COMPLETION, S_FINISHED, S_NSTATES };
enum { V_ALL_REGISTERED, V_ALL_ACKED, V_END_OF_DATA, V_NEXT_FILE, V_LOOP, V_NEVENTS };

static const char *const s_states[] = {"ANNOUNCE", "FILEINFO", "DATA", "COMPLETION", "FINISHED"};
static const char *const s_events[] = {"all-registered", "all-acked", "end-of-data", "next-file",
                                       "loop"};

struct session {
    int state;
    int files_left;
    int seen_state_in_next_file; /* the state next_file ran in */
    int loops;
    int bogus; /* state the bogus action chooses */
};

/* Whether there is another file decides where the session goes. */
static int next_file(void *obj, int ev, void *arg)
{
    struct session *s = obj;
    s->seen_state_in_next_file = s->state;
    if (s->files_left == 0)
        return FSM_GOTO(S_COMPLETION);
    s->files_left--;
    return FSM_NEXT;
}

/* End of a file's data: the table says FILEINFO... via a follow-up event. */
static int end_data(void *obj, int ev, void *arg)
{
    return FSM_STAY_THEN(V_NEXT_FILE);
}

/* All registered: leave ANNOUNCE, then pick the first file. */
static int registered(void *obj, int ev, void *arg)
{
    return FSM_THEN(V_NEXT_FILE);
}

static int loop(void *obj, int ev, void *arg)
{
    struct session *s = obj;
    s->loops++;
    return FSM_STAY_THEN(V_LOOP);
}

static int bogus(void *obj, int ev, void *arg)
{
    return FSM_GOTO(((struct session *)obj)->bogus);
}

static const struct fsm_row s_rows[] = {
    {S_ANNOUNCE, V_ALL_REGISTERED, registered, S_FILEINFO},
    {S_FILEINFO, V_NEXT_FILE, next_file, S_FILEINFO},
    {S_FILEINFO, V_ALL_ACKED, NULL, S_DATA},
    {S_DATA, V_END_OF_DATA, end_data, FSM_SAME},
    {S_DATA, V_NEXT_FILE, next_file, S_FILEINFO},
    {S_COMPLETION, V_ALL_ACKED, NULL, S_FINISHED},
    {S_COMPLETION, V_END_OF_DATA, end_data, FSM_SAME}, /* raises next-file: no row there */
    {FSM_ANY, V_LOOP, loop, FSM_SAME},
    {S_FINISHED, V_NEXT_FILE, bogus, FSM_SAME},
};

static const struct fsm_def s_def = {
    .name = "session",
    .state_names = s_states,
    .nstates = S_NSTATES,
    .event_names = s_events,
    .nevents = V_NEVENTS,
    .rows = s_rows,
    .nrows = sizeof(s_rows) / sizeof(s_rows[0]),
};

static void test_follow_up(void)
{
    struct lines l = {.max = LL_DEBUG};
    struct elog lg = {&l, lines_vlog, lines_on};
    struct session s = {.state = S_ANNOUNCE, .files_left = 2};
    char msg[128];

    CU_ASSERT_EQUAL_FATAL(fsm_check(&s_def, msg, sizeof(msg)), 0);
    /* ANNOUNCE -> FILEINFO, then the follow-up runs in FILEINFO (committed). */
    CU_ASSERT_EQUAL(fsm_step(&s_def, &s.state, V_ALL_REGISTERED, &s, NULL, &lg), S_FILEINFO);
    CU_ASSERT_EQUAL(s.seen_state_in_next_file, S_FILEINFO);
    CU_ASSERT_EQUAL(s.files_left, 1);
    CU_ASSERT_EQUAL(l.n, 2);
    CU_ASSERT_STRING_EQUAL(l.text[0], "session: ANNOUNCE + all-registered -> FILEINFO");
    CU_ASSERT_STRING_EQUAL(l.text[1], "session: FILEINFO + next-file -> FILEINFO");

    fsm_step(&s_def, &s.state, V_ALL_ACKED, &s, NULL, &lg);
    CU_ASSERT_EQUAL(s.state, S_DATA);
    /* End of data: stay, then next-file -> FILEINFO (one file left). */
    CU_ASSERT_EQUAL(fsm_step(&s_def, &s.state, V_END_OF_DATA, &s, NULL, &lg), S_FILEINFO);
    CU_ASSERT_EQUAL(s.files_left, 0);
    fsm_step(&s_def, &s.state, V_ALL_ACKED, &s, NULL, &lg);
    /* No file left: the action sends the session to COMPLETION. */
    CU_ASSERT_EQUAL(fsm_step(&s_def, &s.state, V_END_OF_DATA, &s, NULL, &lg), S_COMPLETION);
    CU_ASSERT_EQUAL(fsm_step(&s_def, &s.state, V_ALL_ACKED, &s, NULL, &lg), S_FINISHED);
}

static void test_chain_limit(void)
{
    struct lines l = {.max = LL_WARN};
    struct elog lg = {&l, lines_vlog, lines_on};
    struct session s = {.state = S_DATA};

    /* An action that always raises itself again is cut, not looped forever. */
    CU_ASSERT_EQUAL(fsm_step(&s_def, &s.state, V_LOOP, &s, NULL, &lg), S_DATA);
    CU_ASSERT_EQUAL(s.loops, 17); /* the event and 16 follow-ups */
    CU_ASSERT_EQUAL(l.n, 1);
    CU_ASSERT_EQUAL(l.level[0], LL_ERR);
    CU_ASSERT_STRING_EQUAL(l.text[0],
                           "session: more than 16 follow-up events; loop dropped in state DATA");

    /* An unexpected follow-up is logged and ends the chain; the event that
     * raised it was handled, so its state is returned. */
    struct lines p = {.max = LL_PROTO};
    struct elog lp = {&p, lines_vlog, lines_on};
    s.state = S_COMPLETION;
    CU_ASSERT_EQUAL(fsm_step(&s_def, &s.state, V_END_OF_DATA, &s, NULL, &lp), S_COMPLETION);
    CU_ASSERT_EQUAL(p.n, 1);
    CU_ASSERT_EQUAL(p.level[0], LL_PROTO);
    CU_ASSERT_STRING_EQUAL(p.text[0], "session: unexpected next-file in state COMPLETION");

    /* An action choosing a state that does not exist is refused. */
    s.state = S_FINISHED;
    s.bogus = S_NSTATES + 3;
    CU_ASSERT_EQUAL(fsm_step(&s_def, &s.state, V_NEXT_FILE, &s, NULL, &lp), S_FINISHED);
    CU_ASSERT_EQUAL(p.n, 2);
    CU_ASSERT_EQUAL(p.level[1], LL_ERR);
    CU_ASSERT_STRING_EQUAL(p.text[1], "session: next-file in FINISHED: the action chose state 8, "
                                      "which does not exist");
}

static const struct cu_test fsm_tests[] = {
    {"table check", test_check},
    {"rows, no-action rows, FSM_SAME, on_change, log lines", test_rows_and_log},
    {"the action overrides or vetoes the next state", test_action_decides},
    {"an exact row wins over the wildcard", test_wildcard},
    {"unexpected event: logged, not fatal", test_unexpected},
    {"nothing formatted when the level is off", test_quiet},
    {"follow-up events run after the transition", test_follow_up},
    {"follow-up chains are bounded, bad states refused", test_chain_limit},
    {NULL, NULL},
};

CU_MAIN({"base/fsm", fsm_tests})
