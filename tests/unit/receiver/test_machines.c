/*
 * The receiver engine's session table (receiver/engine/session.c):
 * fsm_check() and the table's shape (every running state can be aborted
 * and times out; ended states only close), then transitions driven
 * directly on cleartext sessions: registration, a directory and a regular
 * file to the end of the group, the timers, the ways out, eviction,
 * parity repair (issue 17), and every transition logged by name.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cu.h"
#include "machines.h"
#include "receiver/engine/recv_int.h"

#define ME     0x0A000001u
#define SERVER 0x01020304u
#define GROUP  0x11223344u

static int g_closed_done, g_ended, g_ended_ok;

static int st_open(void *ctx, const struct receiver_file *f, void **h)
{
    (void)ctx, (void)f;
    *h = &g_closed_done;
    return 0;
}

static int st_write(void *ctx, void *h, uint64_t off, const void *data, size_t len)
{
    (void)ctx, (void)h, (void)off, (void)data, (void)len;
    return 0;
}

static int st_close(void *ctx, void *h, enum receiver_close how, const struct receiver_file *f)
{
    (void)ctx, (void)h, (void)f;
    g_closed_done += how == RECEIVER_CLOSE_DONE;
    return 0;
}

static int st_file(void *ctx, const struct receiver_file *f)
{
    (void)ctx, (void)f;
    return 0;
}

static int st_free(void *ctx, const struct receiver_file *f, uint64_t *avail)
{
    (void)ctx, (void)f;
    *avail = UINT64_C(1) << 40;
    return 0;
}

static int st_stat(void *ctx, const struct receiver_file *f, struct file_stat *st)
{
    (void)ctx, (void)f, (void)st;
    return -ENOENT;
}

static void st_end(void *ctx, uint32_t server_id, uint32_t group_id, uint8_t inst, bool completed)
{
    (void)ctx, (void)server_id, (void)group_id, (void)inst;
    g_ended++;
    g_ended_ok += completed;
}

static const char *const g_dests[] = {"/srv/in"};
static const uint32_t g_me[] = {ME}, g_other[] = {0x0B000002};
static struct addr g_from;
static uint8_t g_pkt[64];

/* An engine of max_sessions slots (0: the default), at 1 s. */
static struct receiver *engine_of(unsigned max_sessions)
{
    struct receiver_config c;
    receiver_config_defaults(&c);
    c.client_id = ME;
    c.dests = g_dests;
    c.ndest = 1;
    if (max_sessions != 0)
        c.max_sessions = max_sessions;
    struct receiver_env e = {
        .rng = rng,
        .storage = {st_open, st_write, st_close, st_file, st_file, st_file, st_free, st_stat,
                    st_end, NULL, NULL}, /* no partial reopen (held), no parity read-back */
        .log = {.vlog = keep},
    };
    struct receiver *r = NULL;
    CU_ASSERT_EQUAL_FATAL(receiver_new(&r, &c, &e), ENG_OK);
    addr_set_ip(&g_from, ADDR_V4, (const uint8_t[]){192, 0, 2, 1}, 1044);
    r->now = 1000000;
    g_nlog = g_closed_done = g_ended = g_ended_ok = 0;
    return r;
}

static struct receiver *engine(void)
{
    return engine_of(0);
}

/* Steps s with message m from the server, as the pipeline would (seq = the highest seen). */
static int msg(struct receiver *r, struct rsession *s, int ev, struct wire_msg *m)
{
    struct uftp_hdr h = {.version = UFTP_VER5,
                         .func = m->func,
                         .seq = s->max_txseq,
                         .src_id = SERVER,
                         .group_id = GROUP,
                         .group_inst = 1};
    struct rmsg rm = {.from = &g_from, .h = &h, .m = m, .pkt = g_pkt, .len = sizeof(g_pkt)};
    return rsess_event(r, s, ev, &rm);
}

/* A new cleartext session of group GROUP/inst (unicast: no private group). */
static struct rsession *announce(struct receiver *r, uint8_t inst)
{
    struct wire_msg m = {.func = ANNOUNCE};
    m.u.announce.blocksize = 1000;
    m.u.announce.robust = 20;
    struct uftp_hdr h = {.version = UFTP_VER5,
                         .func = ANNOUNCE,
                         .src_id = SERVER,
                         .group_id = GROUP,
                         .group_inst = inst};
    struct rmsg rm = {.from = &g_from, .h = &h, .m = &m, .pkt = g_pkt, .len = sizeof(g_pkt)};
    CU_ASSERT_EQUAL_FATAL(announce_admit(r, &rm), 0);
    CU_ASSERT_PTR_NULL(rm.victim);
    CU_ASSERT_EQUAL(rsess_event(r, rm.slot, RE_ANNOUNCE, &rm), R_REGISTERED);
    return rm.slot;
}

static struct wire_msg ids_msg(uint8_t func, const uint32_t *ids)
{
    struct wire_msg m = {.func = func};
    struct wire_ids l = wire_ids_of(ids, 1);
    if (func == REG_CONF)
        m.u.reg_conf.ids = l;
    else if (func == DONE_CONF)
        m.u.done_conf.ids = l;
    else
        m.u.done.ids = l;
    return m;
}

static struct wire_msg fileinfo(uint16_t id, uint8_t ftype, const char *name, uint64_t size)
{
    struct wire_msg m = {.func = FILEINFO};
    m.u.fileinfo.file_id = id;
    m.u.fileinfo.ftype = ftype;
    m.u.fileinfo.name = name;
    m.u.fileinfo.name_len = strlen(name);
    m.u.fileinfo.link = "";
    m.u.fileinfo.size = size;
    m.u.fileinfo.ids = wire_ids_of(g_me, 1);
    return m;
}

/* Whether state st has a row of its own (not FSM_ANY) for ev. */
static bool own_row(int st, int ev)
{
    for (size_t i = 0; i < recv_session_fsm.nrows; i++)
        if (recv_session_fsm.rows[i].state == st && recv_session_fsm.rows[i].event == ev)
            return true;
    return false;
}

static void test_table(void)
{
    char why[160] = "";
    CU_ASSERT_EQUAL(fsm_check(&recv_session_fsm, why, sizeof(why)), 0);
    CU_ASSERT_STRING_EQUAL(why, "");
    CU_ASSERT_STRING_EQUAL(fsm_state_name(&recv_session_fsm, R_PREREGISTER), "PREREGISTER");
    CU_ASSERT_STRING_EQUAL(fsm_state_name(&recv_session_fsm, R_ABORTED), "ABORTED");
    CU_ASSERT_STRING_EQUAL(fsm_event_name(&recv_session_fsm, RE_DONE_CONF), "DONE_CONF");
    CU_ASSERT_STRING_EQUAL(fsm_event_name(&recv_session_fsm, RE_CLOSE), "CLOSE");
    /* Every running state can be aborted every way, and has a timer. */
    for (int st = R_PREREGISTER; st <= R_COMPLETE; st++) {
        CU_ASSERT(own_row(st, RE_ABORT));
        CU_ASSERT(own_row(st, RE_FAIL));
        CU_ASSERT(own_row(st, RE_QUIT));
        CU_ASSERT(own_row(st, RE_SHUTDOWN));
        CU_ASSERT(own_row(st, RE_TIMEOUT));
        CU_ASSERT(!own_row(st, RE_CLOSE));
    }
    /* A free slot only starts a session; an ended one only closes; only those two free it. */
    for (size_t i = 0; i < recv_session_fsm.nrows; i++) {
        const struct fsm_row *row = &recv_session_fsm.rows[i];
        if (row->state == R_FREE)
            CU_ASSERT_EQUAL(row->event, RE_ANNOUNCE);
        if (row->state == R_FINISHED || row->state == R_ABORTED)
            CU_ASSERT_EQUAL(row->event, RE_CLOSE);
        if (row->next == R_FREE)
            CU_ASSERT(row->event == RE_CLOSE || row->event == RE_EVICT);
    }
}

static void test_registration(void)
{
    struct receiver *r = engine();
    struct rsession *s = announce(r, 1);
    CU_ASSERT(logged("[11223344/1] session: FREE + ANNOUNCE -> REGISTERED"));
    CU_ASSERT_EQUAL(s->pending, P_REGISTER);
    CU_ASSERT_EQUAL(r->st.sessions, 1);
    CU_ASSERT(s->timeout_at > r->now);
    CU_ASSERT(s->expire_at > s->timeout_at);

    /* No row: unexpected, logged, the state kept. */
    struct wire_msg m = ids_msg(DONE_CONF, g_me);
    CU_ASSERT_EQUAL(msg(r, s, RE_DONE_CONF, &m), FSM_UNEXPECTED);
    CU_ASSERT(logged("[11223344/1] session: unexpected DONE_CONF in state REGISTERED"));
    CU_ASSERT_EQUAL(s->state, R_REGISTERED);
    /* A PROXY_KEY (a copy, or another proxy's) is ignored in every state but PREREGISTER. */
    m = (struct wire_msg){.func = PROXY_KEY};
    CU_ASSERT_EQUAL(msg(r, s, RE_PROXY_KEY, &m), R_REGISTERED);

    /* REG_CONF for others: still registering; listing us: between files. */
    m = ids_msg(REG_CONF, g_other);
    CU_ASSERT_EQUAL(msg(r, s, RE_REG_CONF, &m), R_REGISTERED);
    CU_ASSERT(logged("[11223344/1] session: REGISTERED + REG_CONF -> REGISTERED (stays)"));
    r->now += 1000;
    m = ids_msg(REG_CONF, g_me);
    CU_ASSERT_EQUAL(msg(r, s, RE_REG_CONF, &m), R_MIDGROUP);
    CU_ASSERT_EQUAL(s->pending, 0);
    /* The new state's timer: the data timeout, from now: ROBUST·GRTT, but never
     * shorter than the liveness timeout (issue 13: an outage is ridden out). */
    CU_ASSERT(claims_expiry_us(s->grtt_us, 20, CLAIMS_IDLE_MAX_US) < RECEIVER_LIVENESS_DEF_US);
    CU_ASSERT_EQUAL(s->timeout_at, r->now + RECEIVER_LIVENESS_DEF_US);
    receiver_free(r);
}

static void test_files(void)
{
    struct receiver *r = engine();
    struct rsession *s = announce(r, 1);
    /* A FILEINFO listing us confirms the registration (spec §1.4): a directory, made. */
    struct wire_msg m = fileinfo(1, FTYPE_DIR, "d", 0);
    CU_ASSERT_EQUAL(msg(r, s, RE_FILEINFO, &m), R_MIDGROUP);
    CU_ASSERT(logged("[11223344/1] session: REGISTERED + FILEINFO -> MIDGROUP (by its action)"));
    CU_ASSERT_EQUAL(s->pending, P_COMPLETE);
    CU_ASSERT_EQUAL(s->f.comp_status, COMP_STAT_NORMAL);
    s->pending = 0;

    /* Data for a file we do not receive restarts the timeout. */
    uint64_t t = s->timeout_at;
    r->now += 5000;
    m = (struct wire_msg){.func = FILESEG};
    CU_ASSERT_EQUAL(msg(r, s, RE_FILESEG, &m), R_MIDGROUP);
    CU_ASSERT_EQUAL(s->timeout_at, t + 5000);

    /* A regular file of two blocks. */
    m = fileinfo(2, FTYPE_REG, "f", 1500);
    CU_ASSERT_EQUAL(msg(r, s, RE_FILEINFO, &m), R_RECEIVING);
    CU_ASSERT_EQUAL(s->pending, P_FILEINFO_ACK);
    CU_ASSERT(s->f.open);
    static const uint8_t data[1000];
    m = (struct wire_msg){.func = FILESEG};
    m.u.fileseg.file_id = 2;
    m.u.fileseg.data = data;
    m.u.fileseg.data_len = 1000;
    CU_ASSERT_EQUAL(msg(r, s, RE_FILESEG, &m), R_RECEIVING);
    m.u.fileseg.sec_block = 1;
    m.u.fileseg.data_len = 500;
    CU_ASSERT_EQUAL(msg(r, s, RE_FILESEG, &m), R_RECEIVING);
    CU_ASSERT_EQUAL(r->st.data_packets, 2);
    CU_ASSERT_EQUAL(s->f.nmissing, 0);

    /* The NAK timer: a round of STATUS; the file is done when it ends with nothing missing. */
    s->f.nak_at = r->now;
    rsess_tick(r, s);
    CU_ASSERT(s->f.nak_emit);
    CU_ASSERT(logged("[11223344/1] session: RECEIVING + NAK -> RECEIVING"));
    CU_ASSERT_EQUAL(rsess_event(r, s, RE_NAK_END, NULL), R_MIDGROUP);
    CU_ASSERT_EQUAL(g_closed_done, 1);
    CU_ASSERT_EQUAL(r->st.files_ok, 1);
    CU_ASSERT(s->pending & P_COMPLETE);

    /* DONE(0) listing us: the group is complete; DONE_CONF ends it; CLOSE frees the slot. */
    m = ids_msg(DONE, g_me);
    CU_ASSERT_EQUAL(msg(r, s, RE_DONE, &m), R_COMPLETE);
    CU_ASSERT_EQUAL(s->pending, P_COMPLETE);
    CU_ASSERT_EQUAL(s->timeout_at, r->now + claims_resend_us(s->grtt_us, 4));
    s->pending = 0;
    CU_ASSERT_EQUAL(msg(r, s, RE_DONE, &m), R_COMPLETE); /* our COMPLETE(0) was lost */
    CU_ASSERT_EQUAL(s->pending, P_COMPLETE);
    m = ids_msg(DONE_CONF, g_other);
    CU_ASSERT_EQUAL(msg(r, s, RE_DONE_CONF, &m), R_COMPLETE);
    m = ids_msg(DONE_CONF, g_me);
    CU_ASSERT_EQUAL(msg(r, s, RE_DONE_CONF, &m), R_FINISHED);
    CU_ASSERT_EQUAL(s->pending, 0);
    CU_ASSERT(!rsess_live(s));
    CU_ASSERT_EQUAL(rsess_event(r, s, RE_CLOSE, NULL), R_FREE);
    CU_ASSERT(logged("[11223344/1] session: FINISHED + CLOSE -> FREE"));
    CU_ASSERT_EQUAL(g_ended_ok, 1);
    CU_ASSERT_EQUAL(r->st.sessions, 0);
    CU_ASSERT_EQUAL(r->nslots, 0);
    receiver_free(r);
}

static void test_timers(void)
{
    struct receiver *r = engine();
    struct rsession *s = announce(r, 1);
    s->pending = 0;
    /* REGISTER again every 5·GRTT, until 5·ROBUST·GRTT. */
    r->now = s->timeout_at;
    rsess_tick(r, s);
    CU_ASSERT_EQUAL(s->state, R_REGISTERED);
    CU_ASSERT_EQUAL(s->pending, P_REGISTER);
    CU_ASSERT(logged("[11223344/1] session: REGISTERED + TIMEOUT -> REGISTERED"));
    CU_ASSERT_EQUAL(rsess_deadline(s), 0); /* a reply is owed */
    s->pending = 0;
    CU_ASSERT_EQUAL(rsess_deadline(s), s->timeout_at);
    r->now = s->expire_at;
    rsess_tick(r, s);
    CU_ASSERT_EQUAL(s->state, R_ABORTED);
    CU_ASSERT_EQUAL(s->pending, P_ABORT);
    CU_ASSERT_STRING_EQUAL(s->abort_text, "Registration unconfirmed");
    CU_ASSERT(logged("[11223344/1] session: REGISTERED + EXPIRE -> ABORTED"));
    /* Ended: no timers, nothing more but CLOSE. */
    g_nlog = 0;
    rsess_tick(r, s);
    CU_ASSERT_EQUAL(g_nlog, 0);
    CU_ASSERT_EQUAL(rsess_event(r, s, RE_CLOSE, NULL), R_FREE);
    CU_ASSERT_EQUAL(g_ended, 1);
    CU_ASSERT_EQUAL(g_ended_ok, 0);

    /* Between files: the data timeout aborts. */
    s = announce(r, 2);
    struct wire_msg m = ids_msg(REG_CONF, g_me);
    msg(r, s, RE_REG_CONF, &m);
    r->now = s->timeout_at;
    rsess_tick(r, s);
    CU_ASSERT_EQUAL(s->state, R_ABORTED);
    CU_ASSERT_STRING_EQUAL(s->abort_text, "Transfer timed out");

    /* Completion unconfirmed: finished all the same, after 3·ROBUST·GRTT (the server's span). */
    s = announce(r, 3);
    msg(r, s, RE_REG_CONF, &m);
    m = ids_msg(DONE, g_me);
    msg(r, s, RE_DONE, &m);
    uint64_t ex = claims_expiry_us(s->grtt_us, 3u * s->robust, CLAIMS_IDLE_MAX_US);
    CU_ASSERT_EQUAL(s->expire_at - r->now, ex > r->cfg.liveness_us ? ex : r->cfg.liveness_us);
    r->now = s->expire_at;
    rsess_tick(r, s);
    CU_ASSERT_EQUAL(s->state, R_FINISHED);
    CU_ASSERT(logged("[11223344/3] session: COMPLETE + EXPIRE -> FINISHED"));
    receiver_free(r);
}

static void test_ways_out(void)
{
    struct receiver *r = engine();
    struct rsession *s = announce(r, 1);
    struct wire_msg m = ids_msg(REG_CONF, g_me);
    msg(r, s, RE_REG_CONF, &m);
    /* ABORT for everyone about the current file: not ours between files. */
    m = (struct wire_msg){.func = ABORT};
    m.u.abort.flags = FLAG_CURRENT_FILE;
    CU_ASSERT_EQUAL(msg(r, s, RE_ABORT, &m), R_MIDGROUP);
    /* The server's ABORT for us: aborted, no ABORT back. */
    m.u.abort.host = ME;
    snprintf(m.u.abort.text, sizeof(m.u.abort.text), "bye");
    CU_ASSERT_EQUAL(msg(r, s, RE_ABORT, &m), R_ABORTED);
    CU_ASSERT_EQUAL(s->pending, 0);
    CU_ASSERT(logged("[11223344/1] transfer aborted by server: bye"));
    CU_ASSERT_EQUAL(rsess_event(r, s, RE_SHUTDOWN, NULL), FSM_UNEXPECTED);

    /* Shutdown tells every running session's server; QUIT tells nobody. */
    struct rsession *a = announce(r, 2), *b = announce(r, 3);
    CU_ASSERT_EQUAL(rsess_event(r, b, RE_QUIT, "keys gone"), R_ABORTED);
    CU_ASSERT_EQUAL(b->pending, 0);
    receiver_shutdown(r, r->now);
    CU_ASSERT_EQUAL(a->state, R_ABORTED);
    CU_ASSERT_EQUAL(a->pending, P_ABORT);
    CU_ASSERT_STRING_EQUAL(a->abort_text, "Client shutting down");
    CU_ASSERT(logged("[11223344/2] session: REGISTERED + SHUTDOWN -> ABORTED"));
    receiver_free(r);
}

static void test_evict(void)
{
    struct receiver *r = engine();
    struct rsession *s = announce(r, 1);
    uint32_t other = 0x05060708;
    CU_ASSERT_EQUAL(rsess_event(r, s, RE_EVICT, &other), R_FREE);
    CU_ASSERT(logged("[11223344/1] unconfirmed session of 01020304 gives its slot to 05060708 "
                     "(issue 14)"));
    CU_ASSERT_EQUAL(r->st.evicted, 1);
    CU_ASSERT_EQUAL(r->st.sessions, 0);
    CU_ASSERT_EQUAL(g_ended_ok, 0);
    receiver_free(r);

    /*
     * Admission (core/proto/admit.h): with one slot, a confirmed cleartext
     * session of an unlisted server gives way to a server listed in -S at
     * its address; its open file is discarded, its end reported.
     */
    r = engine_of(1);
    s = announce(r, 1);
    struct wire_msg m = fileinfo(1, FTYPE_REG, "f", 5000);
    CU_ASSERT_EQUAL(msg(r, s, RE_FILEINFO, &m), R_RECEIVING);
    struct receiver_server srv = {.id = 0x05060708, .addr = g_from};
    CU_ASSERT_EQUAL(receiver_set_trust(r, &srv, 1, NULL, 0), ENG_OK);
    m = (struct wire_msg){.func = ANNOUNCE};
    m.u.announce.blocksize = 1000;
    m.u.announce.robust = 20;
    struct uftp_hdr h = {.version = UFTP_VER5, .func = ANNOUNCE, .src_id = srv.id, .group_id = 9};
    struct rmsg rm = {.from = &g_from, .h = &h, .m = &m, .pkt = g_pkt, .len = sizeof(g_pkt)};
    CU_ASSERT_EQUAL_FATAL(announce_admit(r, &rm), 0);
    CU_ASSERT_PTR_EQUAL(rm.victim, s);
    CU_ASSERT_EQUAL(rsess_event(r, rm.victim, RE_EVICT, &srv.id), R_FREE);
    CU_ASSERT(logged("[11223344/1] session: RECEIVING + EVICT -> FREE"));
    CU_ASSERT_EQUAL(g_ended, 1);
    CU_ASSERT_EQUAL(rsess_event(r, rm.slot, RE_ANNOUNCE, &rm), R_REGISTERED);
    CU_ASSERT_EQUAL(s->group_id, 9);
    CU_ASSERT_EQUAL(s->rank, 2);
    CU_ASSERT_EQUAL(r->st.sessions, 1);
    receiver_free(r);
}

/* Feeds r one datagram from the server at from: m under a header of group/inst, seq seq. */
static void feed(struct receiver *r, const struct addr *from, uint32_t server, uint32_t group,
                 uint16_t seq, const struct wire_msg *m)
{
    uint8_t buf[1500];
    ssize_t n = wire_msg_encode(buf + UFTP_HDR_LEN, sizeof(buf) - UFTP_HDR_LEN, m);
    CU_ASSERT_FATAL(n > 0);
    struct uftp_hdr h = {.version = UFTP_VER5,
                         .func = m->func,
                         .seq = seq,
                         .src_id = server,
                         .group_id = group,
                         .group_inst = 1};
    uftp_hdr_encode(buf, UFTP_HDR_LEN, &h);
    receiver_recv(r, from, from, buf, UFTP_HDR_LEN + (size_t)n, 0, r->now);
}

/* The receive pipeline's dispatch: admission, eviction, a new session, replies, as uftpd runs it.
 */
static void test_pipeline(void)
{
    struct receiver *r = engine_of(1);
    struct addr b;
    addr_set_ip(&b, ADDR_V4, (const uint8_t[]){192, 0, 2, 2}, 1044);
    struct wire_msg m = {.func = ANNOUNCE};
    m.u.announce.ver = UFTP_VER5;
    m.u.announce.blocksize = 1000;
    m.u.announce.robust = 20;
    feed(r, &g_from, SERVER, GROUP, 0, &m);
    CU_ASSERT_EQUAL(r->sess[0].state, R_REGISTERED);
    m = ids_msg(REG_CONF, g_me);
    m.u.reg_conf.ver = UFTP_VER5;
    feed(r, &g_from, SERVER, GROUP, 1, &m);
    CU_ASSERT_EQUAL(r->sess[0].state, R_MIDGROUP);
    /* Another unlisted server finds no slot: a confirmed session does not give way to it... */
    m = (struct wire_msg){.func = ANNOUNCE};
    m.u.announce.ver = UFTP_VER5;
    m.u.announce.blocksize = 1000;
    m.u.announce.robust = 20;
    feed(r, &b, 0x05060708, 9, 0, &m);
    CU_ASSERT_EQUAL(r->st.slots_full, 1);
    CU_ASSERT_EQUAL(r->sess[0].group_id, GROUP);
    /* ...but to a server listed in -S at its address (admit.h rule 2). */
    struct receiver_server srv = {.id = 0x05060708, .addr = b};
    CU_ASSERT_EQUAL(receiver_set_trust(r, &srv, 1, NULL, 0), ENG_OK);
    feed(r, &b, 0x05060708, 9, 1, &m);
    CU_ASSERT_EQUAL(r->st.evicted, 1);
    CU_ASSERT_EQUAL(g_ended, 1);
    CU_ASSERT_EQUAL(r->st.sessions, 1);
    CU_ASSERT_EQUAL(r->sess[0].group_id, 9);
    CU_ASSERT_EQUAL(r->sess[0].state, R_REGISTERED);
    /* Its REGISTER goes out to it. */
    uint8_t buf[UFTP_MAX_DATAGRAM];
    struct eng_out out = {.buf = buf, .cap = sizeof(buf), .max_seg = 1};
    int k;
    while ((k = receiver_poll(r, r->now, &out)) == ENG_JOIN)
        ;
    CU_ASSERT_EQUAL(k, ENG_SEND);
    CU_ASSERT_EQUAL(buf[1], REGISTER);
    CU_ASSERT(addr_equal(&out.dst, &b));
    receiver_free(r);
}

/* The next datagram the engine sends (JOINs skipped); its func, or 0 when none. */
static uint8_t next_out(struct receiver *r, uint8_t *buf, size_t cap, struct eng_out *out)
{
    *out = (struct eng_out){.buf = buf, .cap = cap, .max_seg = 1};
    int k;
    while ((k = receiver_poll(r, r->now, out)) == ENG_JOIN)
        ;
    return k == ENG_SEND ? buf[1] : 0;
}

/*
 * TFMCC (spec §1.7, issue 12): a session with cc type TFMCC is accepted; a
 * CONG_CTRL naming us CLR is answered at once with a CC_ACK echoing its
 * timestamp plus the time held, with our ID and the CLR flag; one not
 * naming us is not answered at once; an unknown cc type is refused.
 */
static void test_tfmcc(void)
{
    struct receiver *r = engine_of(2);
    uint8_t buf[UFTP_MAX_DATAGRAM];
    struct eng_out out;
    struct wire_msg m = {.func = ANNOUNCE};
    m.u.announce.ver = UFTP_VER5;
    m.u.announce.blocksize = 1000;
    m.u.announce.robust = 20;
    m.u.announce.cc_type = CC_TFMCC;
    feed(r, &g_from, SERVER, GROUP, 0, &m);
    CU_ASSERT_EQUAL(r->sess[0].state, R_REGISTERED);
    CU_ASSERT_TRUE(r->sess[0].cc);
    CU_ASSERT_EQUAL(next_out(r, buf, sizeof(buf), &out), REGISTER);
    m = ids_msg(REG_CONF, g_me);
    m.u.reg_conf.ver = UFTP_VER5;
    feed(r, &g_from, SERVER, GROUP, 1, &m);
    CU_ASSERT_EQUAL(r->sess[0].state, R_MIDGROUP);
    /* Not named: nothing at once. */
    const struct wire_cc_item other = {
        .id = 0x0B000002, .flags = FLAG_CC_CLR | FLAG_CC_RTT, .rtt = quant_rtt_encode_us(20000)};
    m = (struct wire_msg){.func = CONG_CTRL};
    m.u.cong_ctrl.ver = UFTP_VER5;
    m.u.cong_ctrl.cc_seq = 1;
    m.u.cong_ctrl.cc_rate = quant_rate_encode(1000000);
    m.u.cong_ctrl.tstamp = 5000000000;
    m.u.cong_ctrl.items = (struct wire_cc_items){.host = &other, .n = 1};
    feed(r, &g_from, SERVER, GROUP, 2, &m);
    CU_ASSERT_EQUAL(next_out(r, buf, sizeof(buf), &out), 0);
    /* Named CLR: a CC_ACK now, 300 µs later. */
    const struct wire_cc_item mine = {
        .id = ME, .flags = FLAG_CC_CLR | FLAG_CC_RTT, .rtt = quant_rtt_encode_us(20000)};
    m.u.cong_ctrl.items = (struct wire_cc_items){.host = &mine, .n = 1};
    m.u.cong_ctrl.tstamp = 6000000000;
    feed(r, &g_from, SERVER, GROUP, 3, &m);
    r->now += 300;
    CU_ASSERT_EQUAL_FATAL(next_out(r, buf, sizeof(buf), &out), CC_ACK);
    struct wire_cc_ack a = {.ver = UFTP_VER5};
    CU_ASSERT_FATAL(wire_cc_ack_decode(&a, buf + UFTP_HDR_LEN, out.len - UFTP_HDR_LEN) > 0);
    CU_ASSERT_TRUE(a.has_tfmcc);
    CU_ASSERT_EQUAL(a.tfmcc.client_id, ME);
    CU_ASSERT_EQUAL(a.tfmcc.tstamp, 6000000300);
    CU_ASSERT_EQUAL(a.tfmcc.flags & (FLAG_CC_CLR | FLAG_CC_RTT | FLAG_CC_START),
                    FLAG_CC_CLR | FLAG_CC_RTT | FLAG_CC_START); /* no loss seen yet */
    CU_ASSERT_EQUAL(a.tfmcc.cc_seq, 1);
    CU_ASSERT(addr_equal(&out.dst, &g_from));
    /* PGMCC (3) is refused, naming why. */
    struct addr b;
    addr_set_ip(&b, ADDR_V4, (const uint8_t[]){192, 0, 2, 2}, 1044);
    m = (struct wire_msg){.func = ANNOUNCE};
    m.u.announce.ver = UFTP_VER5;
    m.u.announce.blocksize = 1000;
    m.u.announce.robust = 20;
    m.u.announce.cc_type = 3;
    feed(r, &b, 0x05060708, 9, 0, &m);
    CU_ASSERT_EQUAL(r->st.sessions, 1);
    /* ...naming the type, once for the session however often the server repeats it. */
    feed(r, &b, 0x05060708, 9, 1, &m);
    int said = 0;
    for (int i = 0; i < g_nlog; i++)
        said += strstr(g_log[i], "congestion control type 3 (PGMCC) not supported") != NULL;
    CU_ASSERT_EQUAL(said, 1);
    CU_ASSERT_EQUAL(r->st.sessions, 1);
    receiver_free(r);
}

/* ------------------------------------------------------------ parity (issue 17, spec §9) */

static uint8_t g_file[10000];
static uint8_t g_src[10000];

static int mem_write(void *ctx, void *h, uint64_t off, const void *data, size_t len)
{
    (void)ctx, (void)h;
    CU_ASSERT_FATAL(off + len <= sizeof(g_file));
    memcpy(g_file + off, data, len);
    return 0;
}

static int mem_read(void *ctx, void *h, uint64_t off, void *data, size_t len)
{
    (void)ctx, (void)h;
    CU_ASSERT_FATAL(off + len <= sizeof(g_file));
    memcpy(data, g_file + off, len);
    return 0;
}

static struct wire_msg parity_msg(uint16_t file, uint8_t k, uint8_t p, const uint8_t *data,
                                  size_t len)
{
    struct wire_msg m = {.func = FEC_PARITY};
    m.u.fec_parity = (struct wire_fec_parity){.file_id = file,
                                              .code = FEC_CODE_RS8_CAUCHY,
                                              .k = k,
                                              .parity = p,
                                              .data = data,
                                              .data_len = len};
    return m;
}

/*
 * A 10-block file in one FEC block (K 128, stride 1): blocks 3 and 7 lost.
 * One parity: held, the STATUS still NAKs exactly one block (one short stays
 * NAKed); a duplicate changes nothing; the second rebuilds both blocks,
 * byte for byte. Parity that does not fit the layout, the size or the file
 * is refused; without the offer, all of it.
 */
static void test_parity(void)
{
    struct receiver_config c;
    receiver_config_defaults(&c);
    c.client_id = ME;
    c.dests = g_dests;
    c.ndest = 1;
    struct receiver_env e = {
        .rng = rng,
        .storage = {st_open, mem_write, st_close, st_file, st_file, st_file, st_free, st_stat,
                    st_end, NULL, mem_read},
        .log = {.vlog = keep},
    };
    for (int offer = 1; offer >= 0; offer--) {
        struct receiver *r = NULL;
        CU_ASSERT_EQUAL_FATAL(receiver_new(&r, &c, &e), ENG_OK);
        r->now = 1000000;
        g_nlog = g_closed_done = 0;
        struct wire_msg m = {.func = ANNOUNCE};
        m.u.announce.blocksize = 1000;
        m.u.announce.robust = 20;
        m.u.announce.has_fec = offer;
        m.u.announce.fec = (struct wire_fec_info){.version = WIRE_FEC_VERSION,
                                                  .flags = FEC_F_SEND,
                                                  .code = FEC_CODE_RS8_CAUCHY,
                                                  .k = 128,
                                                  .stride = 1};
        struct uftp_hdr h = {.version = UFTP_VER5,
                             .func = ANNOUNCE,
                             .src_id = SERVER,
                             .group_id = GROUP,
                             .group_inst = 1};
        struct rmsg rm = {.from = &g_from, .h = &h, .m = &m, .pkt = g_pkt, .len = sizeof(g_pkt)};
        CU_ASSERT_EQUAL_FATAL(announce_admit(r, &rm), 0);
        struct rsession *s = rm.slot;
        CU_ASSERT_EQUAL(rsess_event(r, s, RE_ANNOUNCE, &rm), R_REGISTERED);
        CU_ASSERT_EQUAL(s->fec, offer == 1);
        m = fileinfo(1, FTYPE_REG, "f", sizeof(g_src));
        CU_ASSERT_EQUAL_FATAL(msg(r, s, RE_FILEINFO, &m), R_RECEIVING);
        for (size_t i = 0; i < sizeof(g_src); i++)
            g_src[i] = (uint8_t)(i * 7 + i / 1000);
        memset(g_file, 0, sizeof(g_file));
        for (uint16_t b = 0; b < 10; b++) {
            if (b == 3 || b == 7)
                continue;
            m = (struct wire_msg){.func = FILESEG};
            m.u.fileseg.file_id = 1;
            m.u.fileseg.sec_block = b;
            m.u.fileseg.data = g_src + b * 1000;
            m.u.fileseg.data_len = 1000;
            CU_ASSERT_EQUAL(msg(r, s, RE_FILESEG, &m), R_RECEIVING);
        }
        CU_ASSERT_EQUAL(s->f.nmissing, 2);
        /* Parity 0 and 1 of the FEC block, made by core/fec. */
        static uint8_t par[2][1000];
        const uint8_t *src[10];
        uint8_t *pp[2] = {par[0], par[1]};
        for (int i = 0; i < 10; i++)
            src[i] = g_src + i * 1000;
        struct fec_codec *codec = NULL;
        CU_ASSERT_EQUAL_FATAL(fec_codec_new(&codec), 0);
        CU_ASSERT_EQUAL_FATAL(fec_encode(codec, 10, 0, 2, 1000, src, pp), 0);
        fec_codec_free(codec);

        /* Refused: wrong k for the layout, wrong size, another file. */
        m = parity_msg(1, 9, 0, par[0], 1000);
        CU_ASSERT_EQUAL(msg(r, s, RE_FEC_PARITY, &m), R_RECEIVING);
        m = parity_msg(1, 10, 0, par[0], 999);
        CU_ASSERT_EQUAL(msg(r, s, RE_FEC_PARITY, &m), R_RECEIVING);
        m = parity_msg(2, 10, 0, par[0], 1000);
        CU_ASSERT_EQUAL(msg(r, s, RE_FEC_PARITY, &m), R_RECEIVING);
        CU_ASSERT_EQUAL(r->st.fec_dropped, 3);
        CU_ASSERT_EQUAL(r->st.fec_parity, 0);

        /* One of the two: held; the STATUS bitmap names exactly one block. */
        m = parity_msg(1, 10, 0, par[0], 1000);
        CU_ASSERT_EQUAL(msg(r, s, RE_FEC_PARITY, &m), R_RECEIVING);
        uint8_t naks[2] = {0};
        uint32_t n = bitmap_extract(&s->f.missing, 0, 10, naks, sizeof(naks));
        CU_ASSERT_EQUAL(n, 2);
        n -= rfec_reduce(r, s, 0, naks, sizeof(naks));
        if (offer) {
            CU_ASSERT_EQUAL(r->st.fec_parity, 1);
            CU_ASSERT_EQUAL(n, 1);
            CU_ASSERT_EQUAL(bitmap_bytes_count(naks, sizeof(naks), 10), 1);
            CU_ASSERT_EQUAL(s->f.nmissing, 2); /* one short stays NAKed */
            /* The same parity again: nothing more. */
            CU_ASSERT_EQUAL(msg(r, s, RE_FEC_PARITY, &m), R_RECEIVING);
            CU_ASSERT_EQUAL(s->f.nmissing, 2);
            CU_ASSERT_EQUAL(r->st.fec_decoded, 0);
            /* The second: both blocks rebuilt, byte for byte. */
            m = parity_msg(1, 10, 1, par[1], 1000);
            CU_ASSERT_EQUAL(msg(r, s, RE_FEC_PARITY, &m), R_RECEIVING);
            CU_ASSERT_EQUAL(s->f.nmissing, 0);
            CU_ASSERT_EQUAL(r->st.fec_decoded, 2);
            CU_ASSERT(memcmp(g_file, g_src, sizeof(g_src)) == 0);
        } else {
            CU_ASSERT_EQUAL(r->st.fec_parity, 0);
            CU_ASSERT_EQUAL(r->st.fec_dropped, 4);
            CU_ASSERT_EQUAL(n, 2);
            CU_ASSERT_EQUAL(s->f.nmissing, 2);
        }
        receiver_free(r);
    }
}

static const struct cu_test tests[] = {
    {"the table passes fsm_check, and its shape", test_table},
    {"registration: ANNOUNCE, unexpected events, REG_CONF", test_registration},
    {"files: a directory, a regular file, the end of the group", test_files},
    {"timers: resends, expiries, the data timeout", test_timers},
    {"ways out: the server's ABORT, QUIT, shutdown", test_ways_out},
    {"eviction, by the table and by admission", test_evict},
    {"the pipeline: admission and eviction from datagrams", test_pipeline},
    {"TFMCC: CONG_CTRL answered by the CLR, TFMCC_ACK_INFO, cc types refused", test_tfmcc},
    {"parity: held, one short stays NAKed, rebuilt; refused when it does not fit", test_parity},
    {NULL, NULL},
};

CU_MAIN({"receiver/machines", tests})
