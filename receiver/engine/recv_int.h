/* Internals of the receiver engine (engine.h). The files, each calling only
 * those below it: engine.c (the public face and the receive pipeline) →
 * session.c (the session machine) → announce.c (ANNOUNCE, PROXY_KEY,
 * KEYINFO, REG_CONF), xfer.c (FILEINFO, FILESEG, NAK rounds), done.c (DONE,
 * DONE_CONF), abort.c (ABORT), proxy.c (heartbeats, -r; called by engine.c)
 * → rfile.c (the file: storage calls, outcomes) and reply.c (what sessions
 * send) → slots.c (the session table, timers, memberships, budgets).
 * A session's state changes only in rsess_event() (core/base/fsm.h): a
 * message, a timer or an outcome is an event, the handlers are the rows'
 * actions. A new state or event: its enum value before R_NSTATES /
 * RE_NEVENTS, its name and rows in session.c; unit_receiver_machines checks. */
#ifndef UFTP_RECV_INT_H
#define UFTP_RECV_INT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/base/elog.h"
#include "core/base/file.h"
#include "core/base/fsm.h"
#include "core/base/member.h"
#include "core/base/quant.h"
#include "core/crypto/fp.h"
#include "core/crypto/keyblob.h"
#include "core/crypto/skeys.h"
#include "core/fec/fecrx.h"
#include "core/proto/admit.h"
#include "core/proto/amp.h"
#include "core/proto/bitmap.h"
#include "core/proto/blocks.h"
#include "core/proto/claims.h"
#include "core/proto/fresh.h"
#include "core/proto/grtt.h"
#include "core/proto/hb.h"
#include "core/proto/keywork.h"
#include "core/proto/ratelim.h"
#include "core/proto/tfmcc.h"
#include "core/wire/msg.h"
#include "receiver/engine/engine.h"

/* Session states (spec §1.6 "Client state machine"), then the two ways out. */
enum rstate {
    R_FREE = 0,    /* slot unused */
    R_PREREGISTER, /* waiting for PROXY_KEY (issue 5) */
    R_REGISTERED,  /* REGISTER sent, waiting for REG_CONF / KEYINFO */
    R_MIDGROUP,    /* between files */
    R_RECEIVING,   /* receiving a regular file */
    R_COMPLETE,    /* COMPLETE(0) sent, waiting for DONE_CONF */
    R_FINISHED,    /* completed: the slot is freed at the next poll */
    R_ABORTED,     /* aborted: freed once our ABORT (if any) is out */
    R_NSTATES
};

/* What moves a session (session.c has the table). RE_OTHER .. RE_ABORT: a message of the
 * server (arg: struct rmsg). */
enum revent {
    RE_OTHER = 0, /* a message without an event of its own */
    RE_ANNOUNCE,  /* a new session's (once admitted), or again */
    RE_PROXY_KEY,
    RE_KEYINFO,
    RE_REG_CONF,
    RE_FILEINFO,
    RE_FILESEG,
    RE_FEC_PARITY, /* ours (issue 17, spec §9.3) */
    RE_DONE,
    RE_DONE_CONF,
    RE_CONG_CTRL, /* TFMCC (spec §1.7, cc.c) */
    RE_ABORT,     /* the server's ABORT */
    RE_TIMEOUT,   /* the state's timer: resend, or give up */
    RE_EXPIRE,    /* the resends are over (PREREGISTER, REGISTERED, COMPLETE) */
    RE_NAK,       /* the NAK timer: a round of STATUS */
    RE_NAK_END,   /* the round is out */
    RE_CC_TIMER,  /* TFMCC's feedback timer (cc.c) */
    RE_FAIL,      /* we abort and tell the server why (s->abort_text) */
    RE_QUIT,      /* we abort without a word (arg: the reason) */
    RE_SHUTDOWN,  /* receiver_shutdown() */
    RE_EVICT,     /* the slot goes to a new session (issue 14 item 2; arg: its server ID) */
    RE_CLOSE,     /* an ended session's last reply is out */
    RE_NEVENTS
};

/* Replies a session owes; sent one per poll in this order (reply.c). */
enum {
    P_ABORT = 0x01,
    P_REGISTER = 0x02,
    P_CLIENT_KEY = 0x04, /* right after each REGISTER under client auth */
    P_KEYINFO_ACK = 0x08,
    P_FILEINFO_ACK = 0x10,
    P_COMPLETE = 0x20,
    P_CC_ACK = 0x40, /* TFMCC feedback (cc.c) */
};

/* spec §1.6 "Sequence checks": reorder tolerance. */
#define RECV_MAXMISORDER 5
/* The 16-bit seq wraps every 65536 datagrams (87 MB of 1324-byte ones, a
 * twentieth of a second of -R -1 here), so a receiver that misses more
 * than 32768 in a row (a stall, a full socket) sees the sender's next ones
 * as "behind". Anything further behind than RECV_SEQ_JUMP, and a run of
 * RECV_STALE_RUN stale ones in a row, cannot be reordering: it is the
 * sender ahead by more than half the seq space, and the window moves to it
 * (otherwise every later packet, the DONEs too, would be dropped). */
#define RECV_SEQ_JUMP  4096
#define RECV_STALE_RUN 16

/* The file of a session. */
struct rfile {
    struct receiver_file rf; /* what storage is told: IDs, type, names, size */
    bool open;               /* storage handle held */
    void *h;
    struct blocks lay;
    struct bitmap missing; /* 1 = block not yet received */
    uint32_t *sec_missing; /* per section */
    uint32_t nmissing;
    uint8_t comp_status; /* what COMPLETE says */
    bool partial;        /* restart: kept from an earlier instance (FILEINFO_ACK PARTIAL) */
    bool freespace;      /* COMPLETE carries EXT_FREESPACE_INFO */
    uint64_t freespace_val;
    /* NAK timer (spec §1.6 step 4): sections [nak_first, nak_last). */
    uint64_t nak_at;       /* 0 = off */
    uint64_t nak_round_at; /* when the last round of STATUS started (0: none yet) */
    uint32_t nak_first, nak_last;
    bool got_done;
    bool done_seen; /* a DONE listing us came for this file (parity: COMPLETE at the last block) */
    uint32_t last_section;
    /* STATUS emission in progress over [nak_cur, nak_last). */
    bool nak_emit;
    uint32_t nak_cur;
    bool sent_naks;
    /* Names, NUL-terminated. */
    struct file_name fname;
    char name[WIRE_MAX_PATH + 1];
    char link[WIRE_MAX_PATH + 1];
    struct fec_rx *fec; /* parity held (fec.c), made at the first FEC_PARITY */
};

struct rsession {
    int state; /* enum rstate; written only by rsess_event() */
    uint8_t version;
    uint32_t group_id;
    uint8_t group_inst;
    uint32_t server_id;
    uint32_t proxy_id;
    uint64_t complete_at; /* when a COMPLETE last went out (done.c: answers to repeated DONEs) */
    uint8_t server_fp[FP_LEN]; /* SHA-1 of the ANNOUNCE key blob (issue 13), if encrypted */
    uint8_t server_fplen;
    struct addr server; /* ANNOUNCE source */
    struct addr reply;  /* where replies go */
    struct addr mcast;  /* private group; unset in unicast mode */
    struct addr ssm_src;
    bool joined;
    uint64_t grtt_us;
    uint8_t grtt_code; /* the header byte grtt_us came from */
    uint8_t robust;
    uint16_t blocksize;
    bool sync_mode, sync_preview;
    uint16_t max_txseq;
    uint16_t stale_run; /* seq-window drops in a row */
    uint16_t send_seq;
    uint64_t server_ts; /* last server timestamp (wall µs) */
    uint64_t server_rx; /* when it arrived (monotonic µs) */
    uint64_t timeout_start, timeout_at, expire_at;
    uint32_t pending; /* P_* */
    char abort_text[64];
    uint16_t file_id;          /* the session's current file; 0 after DONE(0) */
    struct skeys_client *keys; /* encrypted session (spec §1.8); NULL = cleartext */
    uint32_t verify_cost;      /* µs to check one of the server's signatures */
    /* Issue 14: what the session may send, and its standing for slots and key work. */
    struct amp amp;    /* credit: 3 x the bytes received for the session (core/proto/amp.h) */
    uint64_t src;      /* amp_key of the ANNOUNCE's source */
    uint8_t rank;      /* 0 unlisted, 1 listed in -S, 2 listed and from its -S address */
    uint64_t heard_us; /* last datagram of the session */
    /* spec §9: the ANNOUNCE offered parity and we answer DECODE (fec.c). */
    bool fec;
    uint8_t fec_k, fec_stride;
    struct rfile f;
    bool cc;              /* cc_type TFMCC (spec §1.7) */
    struct tfmcc_rx ccrx; /* its loss history, rate and feedback timer */
};

/* A membership output (JOIN/LEAVE) for the shell. */
struct rmemop {
    bool join;
    struct addr group, source;
};

/* An ABORT to a server we keep no session for (refused ANNOUNCE). */
struct rstray {
    struct addr to;
    uint8_t version;
    uint32_t group_id;
    uint8_t group_inst;
    char text[64];
};

#define RSTRAY_RING 8

#define NAKBUF_LEN (BLOCKS_MAX_PERSEC / 8 + 1)

struct receiver {
    struct receiver_config cfg;
    struct receiver_env env;
    uint64_t now;          /* of the call being handled (recv, poll, shutdown) */
    struct rsession *sess; /* cfg.max_sessions slots */
    unsigned last_hit;     /* index of the last session looked up */
    unsigned nslots;       /* 1 + the highest slot in use: scans stop there */
    struct member *mem;
    size_t nmem, capmem;
    struct rmemop *ops; /* ring of membership outputs */
    size_t ops_head, ops_n, ops_cap;
    struct rstray stray[RSTRAY_RING];
    unsigned stray_head, stray_n;
    uint16_t stray_seq;
    bool started;
    bool shutdown;
    bool done_reported;
    struct receiver_stats st;
    struct keywork pk;         /* public-key work on unauthenticated input (issue 14) */
    uint64_t pk_log_at;        /* next "rate-limiting" log line */
    struct amp_table amps;     /* credit of sources without a session (refused ANNOUNCEs) */
    struct ratelim strays;     /* ... and at most AMP_STRAY_PER_S answers to them a second */
    uint64_t amp_seed;         /* keys amp_key */
    struct fresh fresh;        /* signed ANNOUNCEs seen (replays) */
    struct ratelim refuse_log; /* refusals logged at LL_WARN: a burst of 20, then 5 a second */
    uint64_t refuse_quiet;     /* refusals since, logged at LL_PROTO only */
    uint64_t cc_refused[8];    /* sessions refused for their cc type, logged once (issue 12) */
    unsigned cc_refused_head;
    struct crypto_key *own_key; /* ephemeral signing key when -k gave none */
    /* -r: the v4 response proxy's keys from its PROXY_KEY (spec §1.9 item 4) */
    struct crypto_key *px4_sig, *px4_dh;
    uint64_t keyreq_at; /* next KEY_REQ while px4_dh is NULL */
    struct hb hb;       /* -H heartbeats (core/proto/hb.h) */
    uint16_t hb_seq;
    /* A STATUS's bitmap, NAKBUF_LEN bytes, allocated at the first NAK: a clean session never
     * needs it, and 10,000 receivers in one process had 8 KB each (issue 16). */
    uint8_t *nakbuf;
    /* Parity decoding (fec.c): one codec, and scratch for a FEC block's symbols. */
    struct fec_codec *fec_codec;
    uint8_t *fec_buf;
    size_t fec_cap;
};

#define RLOG(r, sess, lvl, fmt, ...)                                                               \
    do {                                                                                           \
        if (elog_enabled(&(r)->env.log, lvl))                                                      \
            elog_msg(&(r)->env.log, lvl, "[%08X/%u] " fmt, (sess)->group_id,                       \
                     (unsigned)(sess)->group_inst, ##__VA_ARGS__);                                 \
    } while (0)

static inline uint64_t r_wall(const struct receiver *r)
{
    return (uint64_t)((int64_t)r->now + r->cfg.wall_offset_us);
}

/* -r is set (a v4 response proxy). */
static inline bool recv_has_px4(const struct receiver *r)
{
    return addr_is_set(&r->cfg.resp_proxy);
}

/* IP and UDP header bytes of a datagram to dst (amp.h counts them). */
static inline unsigned recv_hdr_bytes(const struct addr *dst)
{
    return addr_family(dst) == ADDR_V6 && !addr_is_v4mapped(dst) ? AMP_HDR_V6 : AMP_HDR_V4;
}

/* An action's verdict: abort, telling the server why (RE_FAIL once the row's move is made). */
static inline int rsess_fail(struct rsession *s, const char *why)
{
    snprintf(s->abort_text, sizeof(s->abort_text), "%s", why);
    return FSM_THEN(RE_FAIL);
}

/* A session still running (not free, not ended). */
static inline bool rsess_live(const struct rsession *s)
{
    return s->state != R_FREE && s->state < R_FINISHED;
}

/* What a message event carries (arg of RE_OTHER .. RE_ABORT). */
struct rmsg {
    const struct addr *from;
    const struct uftp_hdr *h;
    const struct wire_msg *m;
    uint8_t *pkt; /* the datagram, writable (ANNOUNCE and KEYINFO signatures) */
    size_t len;
    /* A new session's ANNOUNCE: what announce_admit() decided. */
    struct rsession *slot, *victim; /* victim: evicted first (RE_EVICT), or NULL */
    struct skeys_client *keys;
    const struct receiver_server *srv;
    uint8_t rank;
    uint64_t src, grtt_us;
};

/* fsm_step()'s object: the engine and the session. */
struct rstep {
    struct receiver *r;
    struct rsession *s;
};

/* Defines the fsm_action name (core/base/fsm.h), whose body sees the engine r, the session s,
 * the event ev and its arg. */
#define RECV_ACTION(name)                                                                          \
    static int name##_(struct receiver *r, struct rsession *s, int ev, void *arg);                 \
    int name(void *obj, int ev, void *arg)                                                         \
    {                                                                                              \
        return name##_(((struct rstep *)obj)->r, ((struct rstep *)obj)->s, ev, arg);               \
    }                                                                                              \
    static int name##_(struct receiver *r __attribute__((unused)),                                 \
                       struct rsession *s __attribute__((unused)), int ev __attribute__((unused)), \
                       void *arg __attribute__((unused)))
typedef int recv_action(void *obj, int ev, void *arg);

/* session.c: the session machine, and its own actions. */
extern const struct fsm_def recv_session_fsm;
recv_action rsess_touch, rsess_resend, rsess_evict;
/* Steps s's machine at r->now; FSM_UNEXPECTED when its state has no row for ev. */
int rsess_event(struct receiver *r, struct rsession *s, int ev, void *arg);
/* Raises the timer events of s that are due at r->now. */
void rsess_tick(struct receiver *r, struct rsession *s);
uint64_t rsess_deadline(const struct rsession *s);

/* announce.c (ANNOUNCE, PROXY_KEY, KEYINFO, REG_CONF). */
/* A new session's ANNOUNCE: 0 with m->slot .. filled for RE_ANNOUNCE; -1 refused (logged). */
int announce_admit(struct receiver *r, struct rmsg *m);
recv_action announce_start, announce_again, announce_proxy_key, announce_keyinfo, announce_reg_conf;
/* xfer.c (FILEINFO, FILESEG, the NAK rounds). */
recv_action xfer_fileinfo, xfer_fileseg, xfer_nak, xfer_nak_end;
/* fec.c (ours, spec §9): the offer in ANNOUNCE; FEC_PARITY; decoding as blocks arrive; STATUS. */
void rfec_offer(struct receiver *r, struct rsession *s, const struct wire_announce *a);
recv_action fec_parity;
/* A source block of the file arrived (section block sb): 0, or a storage error. */
int rfec_source(struct receiver *r, struct rsession *s, uint16_t sec, uint16_t sb);
/* The section's NAK bitmap less what held parity covers (spec §9.4); returns the bits cleared. */
uint32_t rfec_reduce(struct receiver *r, struct rsession *s, uint32_t sec, uint8_t *naks,
                     size_t len);
/* FEC-block layout of section sec (parity.c). */
void rfec_layout(const struct rsession *s, uint32_t sec, struct fec_layout *l);
void rfec_file_free(struct rfile *f);
void rfec_engine_free(struct receiver *r);
/* done.c (DONE, DONE_CONF, the completion's timers). */
recv_action done_file, done_again, done_conf, done_unconfirmed;
/* abort.c: the server's ABORT; ours (RE_FAIL, RE_QUIT, RE_SHUTDOWN, giving up on a timer). */
recv_action abort_server, abort_ours;

/* cc.c: TFMCC (spec §1.7). rcc_start at a session's first ANNOUNCE; rcc_packet for every
 * later datagram of the sender, with its TOS byte, before its handler. */
void rcc_start(struct receiver *r, struct rsession *s, const struct rmsg *msg);
void rcc_packet(struct receiver *r, struct rsession *s, const struct rmsg *msg, uint8_t tos);
recv_action rcc_cong_ctrl, rcc_feedback;
uint64_t rcc_deadline(const struct rsession *s);
/* TFMCC_ACK_INFO for a CC_ACK or STATUS (*has false: not a TFMCC session). */
void rcc_ack_info(struct receiver *r, struct rsession *s, bool *has, struct wire_tfmcc_ack *out);

/* proxy.c: beyond sessions. */
void px_recv_key4(struct receiver *r, const struct addr *from, const uint8_t *pkt, size_t len);
void px_recv_hb_resp(struct receiver *r, const struct addr *from, const uint8_t *pkt, size_t len);
/* The next heartbeat due (plain, or signed when challenged), or KEY_REQ, into out. */
bool px_hb_output(struct receiver *r, struct eng_out *out);
bool px_keyreq_output(struct receiver *r, struct eng_out *out);

/* rfile.c: storage discards the open file (if any); the block maps go, the NAK timer stops. */
void rfile_discard(struct receiver *r, struct rsession *s);
/* The session failed: storage keeps the open file for a restart if it can (issue 13). */
void rfile_keep(struct receiver *r, struct rsession *s);
/* The file's outcome: COMPLETE(status) owed, counted, reported; FSM_GOTO(R_MIDGROUP). */
int rfile_result(struct receiver *r, struct rsession *s, uint8_t status);
/* Every block is in: storage makes it visible; then rfile_result. */
int rfile_finish(struct receiver *r, struct rsession *s);
/* A session or file outcome for receiver_env.event. */
void rfile_report(struct receiver *r, struct rsession *s, enum receiver_event_kind k, bool ok);

/* reply.c. What reply_next returns: */
enum {
    REPLY_NONE = 0,    /* nothing owed */
    REPLY_SENT = 1,    /* *out holds the datagram */
    REPLY_NAK_END = 2, /* the round of STATUS is out: RE_NAK_END, then again */
    REPLY_ECRYPT = -1, /* encryption failed (logged): the session must quit */
};
/* The next reply s owes. */
int reply_next(struct receiver *r, struct rsession *s, struct eng_out *out);
/* The NAK timer (spec §1.6 step 4) for sections [first, last), 1·GRTT from now. */
void reply_nak_arm(struct receiver *r, struct rsession *s, uint32_t first, uint32_t last,
                   bool got_done);
/* Queues an ABORT to a server we keep no session for (bounded, rate-limited). */
void reply_stray(struct receiver *r, const struct addr *to, const struct uftp_hdr *h,
                 const char *text);
bool reply_stray_next(struct receiver *r, struct eng_out *out);
/* Fills out for one datagram of len bytes to dst. */
void reply_out(struct eng_out *out, const struct addr *dst, size_t len);

/* slots.c: the session table and what is shared by all. */
struct rsession *slot_find(struct receiver *r, uint32_t group_id, uint8_t inst);
/* A free slot, or an unconfirmed session's that may give way (*victim); NULL = none. */
struct rsession *slot_pick(struct receiver *r, uint8_t rank, uint64_t src, uint64_t grtt_us,
                           struct rsession **victim);
/* The reference's set_timeout(): the timer of the session's state, from now (or rescaled). */
void slot_timeout(struct receiver *r, struct rsession *s, bool rescale);
/* Ends earlier instances of s's group from its server (issue 13: a restart). */
void slot_supersede(struct receiver *r, struct rsession *s);
/* A header GRTT: a change of more than 1 ms rescales the timer. */
void slot_grtt(struct receiver *r, struct rsession *s, uint8_t code);
/* JOIN / LEAVE, reference-counted (core/base/member.h). */
void slot_member(struct receiver *r, bool join, const struct addr *group,
                 const struct addr *source);
void slot_push_op(struct receiver *r, bool join, const struct addr *g, const struct addr *src);
/* A dropped datagram: counted, logged at LL_PROTO. */
void slot_drop(struct receiver *r, const struct addr *from, const char *why);
/* A failed authentication (rc a SKEYS_* code): counted as replayed or forged, and dropped. */
void slot_auth_failed(struct receiver *r, int rc);
/* Public-key work for source src of rank rank (keywork.h); false = refused (logged). */
bool slot_pk_take(struct receiver *r, uint64_t src, unsigned rank, uint64_t cost);
/* The amp_key of an address (its IP). */
uint64_t slot_src_key(const struct receiver *r, const struct addr *a);
/* The key we sign with (client authentication, heartbeats): -k, or an ephemeral one. */
const struct crypto_key *slot_sigkey(struct receiver *r);

#endif
