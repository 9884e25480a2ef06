/*
 * The proxy engine's three state tables (proxy/engine/session.c and
 * client.c): fsm_check() on each, then transitions driven directly on
 * sessions a real ANNOUNCE opened: a client proxy's clients through their
 * states and counts (rows missing on purpose are unexpected and change
 * nothing), the session's phases from OPEN to DONE and FREE, the timers
 * that run only in the phases whose rows take them, the registration
 * window aborting the unkeyed, a server proxy's tunnel ending unconfirmed,
 * and every transition logged by name.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/crypto/keyfile.h"
#include "core/net/addr.h"
#include "core/base/quant.h"
#include "cu.h"
#include "machines.h"
#include "proxy/engine/proxy_int.h"

#define GROUP  0x11223344u
#define SERVER 0x0A000105u

static struct crypto_key *g_key;
static uint8_t g_out[ENG_MAX_SEG * 9000];

static struct addr addr_of(const char *s)
{
    struct addr a;
    CU_ASSERT_EQUAL_FATAL(net_addr_parse(&a, s, 1044), 0);
    return a;
}

/* The outputs until none, counting the ABORTs to dst (NULL: any). */
static unsigned drain(struct proxy *p, uint64_t now, const struct addr *dst)
{
    unsigned aborts = 0;
    struct eng_out o;
    for (;;) {
        memset(&o, 0, sizeof(o));
        o.buf = g_out;
        o.cap = sizeof(g_out);
        o.max_seg = 1;
        int k = proxy_poll(p, now, &o);
        if (k == ENG_NONE || k == ENG_DONE)
            return aborts;
        if (k == ENG_SEND && o.buf[1] == ABORT && (dst == NULL || addr_equal(&o.dst, dst)))
            aborts++;
    }
}

/* A proxy of role, with a session of GROUP opened by the server's ANNOUNCE at time 1 s. */
static struct proxy *open_session(enum proxy_role role, struct psession **s)
{
    if (g_key == NULL)
        CU_ASSERT_EQUAL_FATAL(
            keyfile_read(cu_srcpath("tests/unit/crypto/vectors/keys/ec256_a.pem"), &g_key),
            CRYPTO_OK);
    struct proxy_config c;
    proxy_config_defaults(&c);
    c.role = role;
    c.proxy_id = 0x0A000003;
    c.key = g_key;
    c.down = addr_of("10.0.2.9:1044");
    struct proxy_env e = {.rng = rng, .log = {.vlog = keep}};
    struct proxy *p = NULL;
    CU_ASSERT_EQUAL_FATAL(proxy_new(&p, &c, &e), ENG_OK);
    struct wire_datagram d;
    memset(&d, 0, sizeof(d));
    d.hdr = (struct uftp_hdr){.version = UFTP_VER5,
                              .func = ANNOUNCE,
                              .src_id = SERVER,
                              .group_id = GROUP,
                              .grtt = quant_rtt_encode_us(100000)};
    d.msg.func = ANNOUNCE;
    struct wire_announce *a = &d.msg.u.announce;
    a->ver = UFTP_VER5;
    a->robust = 20;
    a->blocksize = 1300;
    memcpy(a->pub_addr, (const uint8_t[]){230, 4, 4, 1}, 4);
    memcpy(a->priv_addr, (const uint8_t[]){230, 5, 5, 7}, 4);
    uint8_t b[2048];
    ssize_t n = wire_datagram_encode(b, sizeof(b), &d);
    CU_ASSERT_FATAL(n > 0);
    struct addr sp = addr_of("10.0.1.2:1044");
    g_nlog = 0;
    proxy_recv(p, &sp, NULL, b, (size_t)n, 0, 1000000);
    drain(p, 1000000, NULL);
    *s = p_find(p, GROUP, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(*s);
    return p;
}

static void test_tables(void)
{
    char msg[160] = "";
    CU_ASSERT_EQUAL(fsm_check(&proxy_session_fsm, msg, sizeof(msg)), 0);
    CU_ASSERT_EQUAL(fsm_check(&proxy_tunnel_fsm, msg, sizeof(msg)), 0);
    CU_ASSERT_EQUAL(fsm_check(&proxy_client_fsm, msg, sizeof(msg)), 0);
    CU_ASSERT_EQUAL(fsm_check(&proxy_down_fsm, msg, sizeof(msg)), 0);
    CU_ASSERT_STRING_EQUAL(msg, "");
    CU_ASSERT_STRING_EQUAL(fsm_state_name(&proxy_session_fsm, PP_RECEIVING), "RECEIVING");
    CU_ASSERT_STRING_EQUAL(fsm_state_name(&proxy_tunnel_fsm, PT_OPEN), "OPEN");
    CU_ASSERT_STRING_EQUAL(fsm_event_name(&proxy_session_fsm, SE_REGISTER_TIMER), "REGISTER_TIMER");
    CU_ASSERT_STRING_EQUAL(fsm_state_name(&proxy_client_fsm, PC_CONF), "conf");
    CU_ASSERT_STRING_EQUAL(fsm_event_name(&proxy_client_fsm, CE_PROVEN), "PROVEN");
    CU_ASSERT_STRING_EQUAL(fsm_state_name(&proxy_down_fsm, PD_AUTHED), "authenticated");
    CU_ASSERT_STRING_EQUAL(fsm_event_name(&proxy_down_fsm, DE_ENTER), "ENTER");
}

static void test_clients(void)
{
    struct psession *s;
    struct proxy *p = open_session(PROXY_CLIENT, &s);
    CU_ASSERT_EQUAL(s->phase, PP_REGISTERED);
    CU_ASSERT(logged("[11223344/0] session: FREE + OPEN -> REGISTERED"));
    struct addr aa = addr_of("10.0.3.1:1044"), ba = addr_of("10.0.3.2:1044");
    struct pclient *a = p_client_add(p, s, 0x0A000301, &aa);
    struct pclient *b = p_client_add(p, s, 0x0A000302, &ba);
    CU_ASSERT_FATAL(a != NULL && b != NULL);
    CU_ASSERT_EQUAL(s->ccnt[PC_MUTE], 2);
    CU_ASSERT_PTR_NULL(p_client_add(p, s, SERVER, &aa)); /* the server is no client */

    /* Cleartext: a REGISTER puts it in at once and registers it upstream. */
    CU_ASSERT_EQUAL(p_client_step(p, s, a, CE_REGISTER, NULL), PC_REGISTERED);
    CU_ASSERT(logged("[11223344/0] client 0A000301: mute + REGISTER -> registered"));
    CU_ASSERT_EQUAL(agg_pending(&s->agg), 1);
    CU_ASSERT_EQUAL(s->ccnt[PC_MUTE], 1);
    CU_ASSERT_EQUAL(s->ccnt[PC_REGISTERED], 1);
    /* No row: unexpected, logged, nothing changes. */
    CU_ASSERT_EQUAL(p_client_step(p, s, a, CE_KEYINFO_ACK, NULL), FSM_UNEXPECTED);
    CU_ASSERT(logged("[11223344/0] client 0A000301: unexpected KEYINFO_ACK in state registered"));
    CU_ASSERT_EQUAL(a->state, PC_REGISTERED);
    CU_ASSERT(!p_client_accepts(a, CE_PROVEN));
    CU_ASSERT(p_client_accepts(a, CE_REG_CONF));
    CU_ASSERT(!p_client_accepts(b, CE_REG_CONF));

    /* Confirmed by the server, keyed (its KEYINFO_ACK lost), done. */
    CU_ASSERT_EQUAL(p_client_step(p, s, a, CE_REG_CONF, NULL), PC_CONF);
    CU_ASSERT_EQUAL(p_client_step(p, s, a, CE_PROVEN, NULL), PC_READY);
    CU_ASSERT_EQUAL(p_client_step(p, s, a, CE_COMPLETE, NULL), PC_DONE);
    CU_ASSERT_EQUAL(p_client_step(p, s, a, CE_COMPLETE, NULL), PC_DONE); /* a repeat */
    CU_ASSERT_EQUAL(s->ccnt[PC_DONE], 1);

    /* The session is done only once every client is done or out. */
    CU_ASSERT_EQUAL(p_session_event(p, s, SE_CLIENT_DONE, NULL), PP_REGISTERED);
    CU_ASSERT(logged("[11223344/0] session: REGISTERED + CLIENT_DONE -> REGISTERED (stays)"));
    drain(p, 1000000, NULL);
    CU_ASSERT_EQUAL(p_client_step(p, s, b, CE_DROP, "Testing"), PC_ABORTED);
    CU_ASSERT_EQUAL(drain(p, 1000000, &ba), 1); /* our ABORT, to it */
    CU_ASSERT_EQUAL(p_client_step(p, s, b, CE_ABORT, NULL), PC_ABORTED);
    /* Aborted is the end: no late CLIENT_KEY or KEYINFO_ACK brings it back. */
    CU_ASSERT(!p_client_accepts(b, CE_CLIENT_KEY));
    CU_ASSERT(!p_client_accepts(b, CE_KEYINFO_ACK));
    CU_ASSERT_EQUAL(p_client_step(p, s, b, CE_CLIENT_KEY, NULL), FSM_UNEXPECTED);
    CU_ASSERT_EQUAL(p_client_step(p, s, b, CE_KEYINFO_ACK, NULL), FSM_UNEXPECTED);
    CU_ASSERT_EQUAL(s->ccnt[PC_ABORTED], 1);
    CU_ASSERT_EQUAL(s->ccnt[PC_MUTE] + s->ccnt[PC_REGISTERED], 0);
    CU_ASSERT_EQUAL(p_session_event(p, s, SE_CLIENT_DONE, NULL), PP_DONE);

    /* The end: the slot is released as the session reaches FREE. */
    CU_ASSERT_EQUAL(p_session_event(p, s, SE_SERVER_ABORT, NULL), PP_FREE);
    CU_ASSERT(logged("[11223344/0] session: DONE + SERVER_ABORT -> FREE"));
    CU_ASSERT_PTR_NULL(p_find(p, GROUP, 0));
    struct proxy_stats st;
    proxy_stats(p, &st);
    CU_ASSERT_EQUAL(st.sessions, 0);
    CU_ASSERT_EQUAL(st.sessions_seen, 1);
    proxy_free(p);
}

static void test_session(void)
{
    struct psession *s;
    struct proxy *p = open_session(PROXY_RESPONSE, &s);
    uint64_t now = 1000000;
    struct addr aa = addr_of("10.0.3.1:1044"), ba = addr_of("10.0.3.2:1044");
    struct pclient *a = p_client_add(p, s, 0x0A000301, &aa);
    struct pclient *b = p_client_add(p, s, 0x0A000302, &ba);
    p_client_step(p, s, a, CE_REGISTER, NULL);
    p_client_step(p, s, b, CE_REGISTER, NULL);
    p_client_step(p, s, a, CE_REG_CONF, NULL);
    p->now = now;

    /* The registration window runs in REGISTERED and READY only. */
    CU_ASSERT_EQUAL(p_session_event(p, s, SE_REGISTERING, NULL), PP_REGISTERED);
    uint64_t end = s->reg_end;
    CU_ASSERT(end > now);
    s->idle_at = end + 10000000; /* the server keeps talking */
    CU_ASSERT_EQUAL(p_session_event(p, s, SE_KEYED, NULL), PP_READY);
    CU_ASSERT(s->confirmed);
    CU_ASSERT_EQUAL(p_session_event(p, s, SE_KEYED, NULL), PP_READY); /* a repeat: stays */
    CU_ASSERT(p_session_deadline(p, s) <= end);
    /* One keyed, one not: still READY. */
    p_client_step(p, s, a, CE_PROVEN, NULL);
    CU_ASSERT_EQUAL(p_session_event(p, s, SE_CLIENT_KEYED, NULL), PP_READY);
    /* REGISTER owed again every 2 GRTT while READY... */
    uint64_t hold = 2 * s->grtt_us;
    drain(p, now + hold, NULL); /* the aggregated REGISTER goes up */
    CU_ASSERT_EQUAL(agg_pending(&s->agg), 0);
    s->regup_at = now;
    uint64_t again = now + claims_resend_us(s->grtt_us, 2);
    CU_ASSERT_EQUAL(p_session_deadline(p, s), again < end ? again : end);

    /* ... until the window closes: the unkeyed client is aborted both ways. */
    g_nlog = 0;
    p->now = end;
    p_session_tick(p, s);
    CU_ASSERT_EQUAL(s->phase, PP_RECEIVING);
    if (again <= end)
        CU_ASSERT(logged("[11223344/0] session: READY + REGISTER_TIMER -> READY"));
    CU_ASSERT(logged("[11223344/0] session: READY + REG_END -> RECEIVING"));
    CU_ASSERT(logged("[11223344/0] client 0A000302: registered + DROP -> aborted"));
    CU_ASSERT_EQUAL(a->state, PC_READY);
    CU_ASSERT_EQUAL(b->state, PC_ABORTED);
    CU_ASSERT_EQUAL(s->reg_end + s->keyinfo_at + s->regup_at, 0);
    CU_ASSERT_EQUAL(drain(p, end + hold, &ba), 1);
    CU_ASSERT_EQUAL(agg_pending(&s->agg), 0);
    /* In RECEIVING no REGISTER is owed any more, whatever regup_at says. */
    s->regup_at = end;
    CU_ASSERT_EQUAL(p_session_deadline(p, s), s->idle_at);
    g_nlog = 0;
    CU_ASSERT_EQUAL(p_session_event(p, s, SE_CLIENT_KEYED, NULL), PP_RECEIVING);
    CU_ASSERT_EQUAL(p_session_event(p, s, SE_REGISTERING, NULL), PP_RECEIVING);
    CU_ASSERT(!logged("[11223344/0] session: unexpected REGISTERING in state RECEIVING"));
    CU_ASSERT_EQUAL(s->reg_end, 0);

    /* No traffic: FREE, and the private group it joined is left. */
    CU_ASSERT_EQUAL(p->nmem, 1);
    p->now = s->idle_at;
    p_session_tick(p, s);
    CU_ASSERT_EQUAL(s->phase, PP_FREE);
    CU_ASSERT_PTR_NULL(p_find(p, GROUP, 0));
    CU_ASSERT_EQUAL(p->nmem, 0);
    proxy_free(p);
}

static void test_tunnel(void)
{
    struct psession *s;
    struct proxy *p = open_session(PROXY_SERVER, &s);
    CU_ASSERT_EQUAL(s->phase, PT_OPEN);
    CU_ASSERT(logged("[11223344/0] session: FREE + OPEN -> OPEN"));
    /* A tunnel has no keys and no clients: no rows for them. */
    CU_ASSERT_EQUAL(p_session_event(p, s, SE_KEYED, NULL), FSM_UNEXPECTED);
    CU_ASSERT_EQUAL(s->phase, PT_OPEN);
    /* Nobody downstream answered: the slot goes after --unconfirmed-timeout (issue 14). */
    uint64_t until = s->unconfirmed_until;
    CU_ASSERT_EQUAL(p_session_deadline(p, s), until < s->idle_at ? until : s->idle_at);
    s->idle_at = until + 1;
    p->now = until;
    p_session_tick(p, s);
    CU_ASSERT_EQUAL(s->phase, PP_FREE);
    CU_ASSERT(logged("[11223344/0] session: OPEN + UNCONFIRMED -> FREE"));
    struct proxy_stats st;
    proxy_stats(p, &st);
    CU_ASSERT_EQUAL(st.expired, 1);
    CU_ASSERT_EQUAL(st.sessions, 0);
    proxy_free(p);
}

static void test_zz_cleanup(void)
{
    crypto_key_free(g_key);
    g_key = NULL;
}

static const struct cu_test machine_tests[] = {
    {"the three tables check, and their names", test_tables},
    {"a client proxy's clients: states, counts, missing rows; the session to DONE and FREE",
     test_clients},
    {"a session's timers by phase: REGISTER again, the window closing, idle", test_session},
    {"a server proxy's tunnel: no key rows, ends unconfirmed", test_tunnel},
    {"(free the key)", test_zz_cleanup},
    {NULL, NULL},
};

CU_MAIN({"proxy/machines", machine_tests})
