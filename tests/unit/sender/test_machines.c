/*
 * The sender engine's two state tables (sender/engine/session.c and
 * client.c): fsm_check() on both, then transitions driven directly on a
 * cleartext session with a closed group of two clients and a proxy: the
 * per-receiver states and their counts, rows that are missing on purpose,
 * a proxy's clients following it out, the session's phases from START to
 * FINISHED, and every transition logged by name.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cu.h"
#include "machines.h"
#include "sender/engine/sender_int.h"

static int st_open(void *ctx, const struct file_item *it, void **h)
{
    (void)ctx, (void)it, (void)h;
    return -1;
}

static ssize_t st_read(void *ctx, void *h, uint64_t off, const struct iovec *iov, int n)
{
    (void)ctx, (void)h, (void)off, (void)iov, (void)n;
    return -1;
}

static void st_close(void *ctx, void *h)
{
    (void)ctx, (void)h;
}

static const struct sender_dest g_dests[] = {{.id = 0x0A000001}, {.id = 0x0A000002}};
static const struct sender_dest g_proxies[] = {{.id = 0x0B000001}};

/* Cleartext, closed group: two clients (dests[0], [1]) and a proxy (dests[2]); no files. */
static struct sender *session(void)
{
    struct sender_config c;
    sender_config_defaults(&c);
    addr_set_ip(&c.pub, ADDR_V4, (const uint8_t[]){230, 4, 4, 1}, 1044);
    addr_set_ip(&c.priv, ADDR_V4, (const uint8_t[]){230, 5, 5, 1}, 1044);
    c.server_id = 0x01020304;
    c.group_id = 0x11223344;
    c.keytype = KEY_NONE;
    c.dests = g_dests;
    c.ndest = 2;
    c.proxies = g_proxies;
    c.nproxy = 1;
    struct sender_env e = {
        .rng = rng, .storage = {st_open, st_read, st_close}, .log = {.vlog = keep}};
    struct sender *s = NULL;
    CU_ASSERT_EQUAL_FATAL(sender_new(&s, &c, &e), ENG_OK);
    g_nlog = 0;
    return s;
}

static void test_tables(void)
{
    char msg[160] = "";
    CU_ASSERT_EQUAL(fsm_check(&sender_session_fsm, msg, sizeof(msg)), 0);
    CU_ASSERT_STRING_EQUAL(msg, "");
    CU_ASSERT_EQUAL(fsm_check(&sender_client_fsm, msg, sizeof(msg)), 0);
    CU_ASSERT_STRING_EQUAL(msg, "");
    CU_ASSERT_STRING_EQUAL(fsm_state_name(&sender_session_fsm, SP_COMPLETION), "COMPLETION");
    CU_ASSERT_STRING_EQUAL(fsm_event_name(&sender_session_fsm, SE_INTERRUPT), "INTERRUPT");
    CU_ASSERT_STRING_EQUAL(fsm_state_name(&sender_client_fsm, D_ACTIVE_NAK), "active-nak");
    CU_ASSERT_STRING_EQUAL(fsm_event_name(&sender_client_fsm, CE_DROP), "DROP");
}

static void test_client(void)
{
    struct sender *s = session();
    struct sdest *a = &s->dests[0], *b = &s->dests[1], *p = &s->dests[2];
    CU_ASSERT_EQUAL(s->cnt[D_MUTE], 2);
    CU_ASSERT_EQUAL(s->pcnt[D_MUTE], 1);
    CU_ASSERT(p->isproxy);

    /* Cleartext: a REGISTER puts a client straight in (no keys to exchange). */
    a->conf_sent = true;
    CU_ASSERT_EQUAL(client_step(s, a, CE_REGISTER), D_ACTIVE);
    CU_ASSERT(!a->conf_sent);
    CU_ASSERT_EQUAL(s->cnt[D_MUTE], 1);
    CU_ASSERT_EQUAL(s->cnt[D_ACTIVE], 1);
    CU_ASSERT(logged("[11223344] client 0A000001: mute + REGISTER -> active (by its action)"));
    /* No row: unexpected, logged, state and counts kept. */
    CU_ASSERT_EQUAL(client_step(s, a, CE_REWIND), FSM_UNEXPECTED);
    CU_ASSERT_EQUAL(a->state, D_ACTIVE);
    CU_ASSERT(logged("[11223344] client 0A000001: unexpected REWIND in state active"));
    CU_ASSERT(!client_accepts(b, CE_KEYINFO_ACK));
    CU_ASSERT(client_accepts(b, CE_CLIENT_KEY));

    /* A file: FILEINFO for everyone still in (the proxy answers for its clients). */
    CU_ASSERT_EQUAL(client_step(s, p, CE_REGISTER), D_ACTIVE);
    CU_ASSERT_EQUAL(s->pcnt[D_ACTIVE], 1);
    client_step_all(s, CE_FILEINFO, M_IN);
    CU_ASSERT_EQUAL(a->state, D_REGISTERED);
    CU_ASSERT_EQUAL(p->state, D_ACTIVE);
    CU_ASSERT_EQUAL(b->state, D_MUTE);
    CU_ASSERT_EQUAL(client_step(s, a, CE_FILEINFO_ACK), D_ACTIVE);
    CU_ASSERT_EQUAL(client_step(s, a, CE_STATUS), D_ACTIVE_NAK);
    CU_ASSERT_EQUAL(client_step(s, a, CE_STATUS), D_ACTIVE_NAK);
    CU_ASSERT(!client_accepts(a, CE_FILEINFO_ACK));
    client_step_all(s, CE_REWIND, 1u << D_ACTIVE_NAK);
    CU_ASSERT_EQUAL(a->state, D_ACTIVE);
    CU_ASSERT_EQUAL(client_step(s, a, CE_COMPLETE), D_DONE);
    CU_ASSERT_EQUAL(client_step(s, a, CE_COMPLETE), D_DONE); /* a resend */
    CU_ASSERT_EQUAL(s->cnt[D_DONE], 1);
    CU_ASSERT_EQUAL(client_step(s, a, CE_COMPLETION), D_ACTIVE);

    /* Out: silence, then an ABORT from it still counts; a drop does not apply to the lost. */
    CU_ASSERT_EQUAL(client_step(s, a, CE_SILENCE), D_LOST);
    CU_ASSERT(!client_accepts(a, CE_DROP));
    CU_ASSERT_EQUAL(client_step(s, a, CE_DROP), FSM_UNEXPECTED);
    CU_ASSERT_EQUAL(client_step(s, a, CE_ABORT), D_ABORT);

    /* A proxy dropped takes the clients behind it; only those still in the session. */
    b->proxy = 3;
    CU_ASSERT_EQUAL(client_step(s, b, CE_VIA_PROXY), D_ACTIVE);
    a->proxy = 3;
    client_lose(s, p, CE_DROP);
    CU_ASSERT_EQUAL(p->state, D_ABORT);
    CU_ASSERT_EQUAL(b->state, D_ABORT);
    CU_ASSERT(logged("[11223344] client 0A000002: active + DROP -> aborted"));
    CU_ASSERT(!logged("[11223344] client 0A000001: aborted + DROP -> aborted"));
    size_t total = 0, ptotal = 0;
    for (int i = 0; i < D_NSTATES; i++)
        total += s->cnt[i], ptotal += s->pcnt[i];
    CU_ASSERT_EQUAL(total, 2);
    CU_ASSERT_EQUAL(ptotal, 1);
    CU_ASSERT_EQUAL(s->cnt[D_ABORT], 2);
    CU_ASSERT_EQUAL(s->pcnt[D_ABORT], 1);
    sender_free(s);
}

static void test_session(void)
{
    struct sender *s = session();
    struct sender_stats st;
    s->now = 1000;
    CU_ASSERT_EQUAL(session_event(s, SE_HEARD, NULL), FSM_UNEXPECTED); /* not started */
    CU_ASSERT_EQUAL(session_event(s, SE_START, NULL), SP_ANNOUNCE);
    CU_ASSERT(logged("[11223344] session: START + START -> ANNOUNCE"));
    CU_ASSERT_EQUAL(s->job_n, 2); /* REG_CONF, ANNOUNCE */
    CU_ASSERT_EQUAL(s->next_send, 1000 + 3 * s->grtt.cur_us);
    sender_stats(s, &st);
    CU_ASSERT_EQUAL(st.phase, SENDER_PH_ANNOUNCE);

    /* Everyone of the closed group in: wait 1·GRTT for late registrations. */
    for (int i = 0; i < 3; i++)
        client_step(s, &s->dests[i], CE_REGISTER);
    CU_ASSERT_EQUAL(session_event(s, SE_HEARD, NULL), SP_ANNOUNCE);
    CU_ASSERT(logged("[11223344] session: ANNOUNCE + HEARD -> ANNOUNCE"));
    CU_ASSERT(logged("[11223344] session: ANNOUNCE + ALL_IN -> ANNOUNCE"));
    CU_ASSERT(s->last_pass);
    CU_ASSERT_EQUAL(s->next_send, 1000 + s->grtt.cur_us);

    /* The last round: no file to send, so straight to completion. */
    s->now = s->next_send;
    session_tick(s);
    CU_ASSERT_EQUAL(s->phase, SP_COMPLETION);
    CU_ASSERT(logged("[11223344] session: ANNOUNCE + ROUNDS_OVER -> ANNOUNCE"));
    CU_ASSERT(logged("[11223344] session: ANNOUNCE + LAST_FILE -> COMPLETION"));
    CU_ASSERT_EQUAL(session_deadline(s), s->next_send);
    CU_ASSERT_EQUAL(s->dests[0].state, D_ACTIVE);

    /* Both COMPLETE(0): wait 1·GRTT for late ones, then finish (no file reached anyone). */
    client_step(s, &s->dests[0], CE_COMPLETE);
    client_step(s, &s->dests[1], CE_COMPLETE);
    CU_ASSERT_EQUAL(session_event(s, SE_HEARD, NULL), SP_COMPLETION);
    CU_ASSERT(logged("[11223344] session: COMPLETION + ALL_COMPLETE -> COMPLETION"));
    s->now = s->next_send;
    session_tick(s);
    CU_ASSERT_EQUAL(s->phase, SP_FINISHED);
    CU_ASSERT_EQUAL(s->exit_code, SENDER_EXIT_NO_FILES);
    sender_stats(s, &st);
    CU_ASSERT_EQUAL(st.phase, SENDER_PH_FINISHED);
    CU_ASSERT_EQUAL(session_deadline(s), ENG_NEVER);

    /* Finished stays finished, with its exit code. */
    int code = SENDER_EXIT_CRYPTO;
    CU_ASSERT_EQUAL(session_event(s, SE_FAIL, &code), SP_FINISHED);
    CU_ASSERT_EQUAL(session_event(s, SE_INTERRUPT, NULL), SP_FINISHED);
    CU_ASSERT_EQUAL(s->exit_code, SENDER_EXIT_NO_FILES);
    sender_free(s);
}

static void test_interrupt(void)
{
    /* Before the start: nobody to tell. */
    struct sender *s = session();
    sender_interrupt(s, 5);
    CU_ASSERT_EQUAL(s->phase, SP_FINISHED);
    CU_ASSERT_EQUAL(s->exit_code, SENDER_EXIT_INTERRUPTED);
    CU_ASSERT_EQUAL(s->job_n, 0);
    CU_ASSERT(logged("[11223344] session: START + INTERRUPT -> FINISHED"));
    sender_free(s);

    /* In the announce phase: ABORT to everyone, the registered dropped. */
    s = session();
    s->now = 1;
    session_event(s, SE_START, NULL);
    client_step(s, &s->dests[0], CE_REGISTER);
    unsigned jobs = s->job_n;
    sender_interrupt(s, 2);
    CU_ASSERT_EQUAL(s->phase, SP_FINISHED);
    CU_ASSERT_EQUAL(s->job_n, jobs + 1);
    CU_ASSERT_EQUAL(s->dests[0].state, D_ABORT);
    CU_ASSERT_EQUAL(s->dests[1].state, D_MUTE);
    CU_ASSERT(logged("[11223344] session: ANNOUNCE + INTERRUPT -> FINISHED"));
    sender_free(s);
}

static const struct cu_test tests[] = {
    {"both tables pass fsm_check", test_tables},
    {"per-receiver transitions and counts", test_client},
    {"session: start, announce, completion, finished", test_session},
    {"session: interrupt before and after the start", test_interrupt},
    {NULL, NULL},
};

CU_MAIN({"sender/machines", tests})
