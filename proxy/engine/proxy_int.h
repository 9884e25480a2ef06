/*
 * Internals of the proxy engine (engine.h). The files, each calling only
 * those below it:
 *   engine.c    public face; receive pipeline: validate → session lookup →
 *               authenticate → dispatch by role and direction (its tables)
 *   reg.c       ANNOUNCE, PROXY_KEY, KEY_REQ, REGISTER, CLIENT_KEY, KEYINFO_ACK,
 *               KEYINFO, REG_CONF at client and response proxies
 *   xfer.c      FILEINFO_ACK and STATUS, complete.c COMPLETE: aggregated both ways
 *   abort.c     ABORT; hb.c heartbeats; fwd.c tunnelling and relaying
 *   stack.c     stacked proxies (spec §3.5): a downstream proxy's aggregates
 *   session.c   the session machines and their timers
 *   client.c    the client table and the per-client machine
 *   aggq.c      aggregates waiting to go upstream; send.c what we send
 *   table.c     the session table; limits.c refusals and the key work budget
 *   queue.c     the output queue; keys.c the cryptography (keys.h)
 * States change only in the three machines (core/base/fsm.h): s->phase in
 * p_session_event(), c->state in p_client_step(). A new state or event: its
 * enum value before *_NSTATES / *_NEVENTS, its name and rows in the table's
 * file; unit_proxy_machines checks the tables.
 */
#ifndef UFTP_PROXY_INT_H
#define UFTP_PROXY_INT_H

#include "core/base/elog.h"
#include "core/base/fsm.h"
#include "core/base/member.h"
#include "core/proto/admit.h"
#include "core/proto/agg.h"
#include "core/proto/amp.h"
#include "core/proto/claims.h"
#include "core/proto/fresh.h"
#include "core/proto/hb.h"
#include "core/proto/idmap.h"
#include "core/proto/keywork.h"
#include "core/proto/ratelim.h"
#include "core/wire/msg.h"
#include "proxy/engine/engine.h"
#include "proxy/engine/keys.h"

/* ------------------------------------------------------------ queue.c */

/*
 * Datagrams waiting for poll, in a byte ring used as a "bip buffer";
 * memberships in a small ring of their own, coming out first.
 */
struct pq_memop {
    bool join;
    struct addr group, source;
};

struct pq {
    uint8_t *ring;
    size_t cap;
    size_t head, tail; /* oldest entry; where the next one goes */
    size_t end;        /* wrapped: the data in the upper part ends here */
    bool wrapped;      /* data is [head, end) + [0, tail); else [head, tail) */
    size_t count, bytes;
    struct pq_memop *ops;
    size_t ops_head, ops_n, ops_cap;
};

int pq_init(struct pq *q, size_t bytes, size_t ops);
void pq_free(struct pq *q);
bool pq_push_op(struct pq *q, bool join, const struct addr *group, const struct addr *source);
bool pq_empty(const struct pq *q);
/* Moves the next output into out (a batch of equal-size datagrams to one destination). */
int pq_pop(struct pq *q, struct eng_out *out);

/* ------------------------------------------------------------ machines */

/* A client or response proxy's session (PR_PHASE_*); a server proxy's tunnel: FREE, OPEN. */
enum pphase {
    PP_FREE = 0,
    PP_REGISTERED = 1, /* set up; encrypted: waiting for our own KEYINFO */
    PP_READY = 2,      /* encrypted: group master known, re-keying the clients */
    PP_RECEIVING = 3,  /* every client keyed (or the window closed) */
    PP_DONE = 4,       /* every client sent COMPLETE(0) or is out */
    PP_NSTATES,
    PT_OPEN = PP_REGISTERED, /* a server proxy's tunnel */
    PT_NSTATES = 2
};

/* What moves a session (both machines). */
enum sevent {
    SE_OPEN,           /* its ANNOUNCE was accepted into a slot */
    SE_REGISTERING,    /* the server announces, or a client not keyed registers */
    SE_KEYED,          /* the server's KEYINFO gave us the group master */
    SE_KEY_FAILED,     /* ... or our entry in it did not open */
    SE_CLIENT_KEYED,   /* a client got its keys */
    SE_CLIENT_DONE,    /* a client sent COMPLETE for the session */
    SE_FLUSH,          /* aggregates are due */
    SE_KEYINFO_TIMER,  /* KEYINFO owed for 2 GRTT: again */
    SE_REGISTER_TIMER, /* clients unconfirmed for 2 GRTT: register them again */
    SE_REG_END,        /* the registration window closed */
    SE_IDLE,           /* no traffic for ROBUST x GRTT */
    SE_UNCONFIRMED,    /* nobody answered in time (issue 14) */
    SE_EVICT,        /* gives its slot to another session (issue 14); arg: uint32_t * its server */
    SE_SERVER_ABORT, /* the server aborted the session */
    SE_SHUTDOWN,     /* proxy_shutdown() */
    SE_NEVENTS
};

/* A client (the reference's PR_CLIENT_*; client.c has the table). */
enum pcstate {
    PC_MUTE = 0,
    PC_REGISTERED = 1, /* REGISTER (and CLIENT_KEY when required) seen */
    PC_CONF = 2,       /* the server confirmed it (REG_CONF): KEYINFO owed */
    PC_READY = 3,      /* KEYINFO_ACK verified */
    PC_DONE = 4,       /* COMPLETE(0) seen */
    PC_ABORTED = 5,
    PC_NSTATES
};

/* What moves a client. */
enum cevent {
    CE_REGISTER,    /* its REGISTER (its key exchange, if any, done) */
    CE_CLIENT_KEY,  /* its CLIENT_KEY verified, or repeated */
    CE_REG_CONF,    /* the server's REG_CONF names it */
    CE_KEYINFO_ACK, /* its KEYINFO_ACK verified */
    CE_PROVEN,      /* a message under its application key (its KEYINFO_ACK was lost) */
    CE_COMPLETE,    /* COMPLETE for the session */
    CE_ABORT,       /* it aborted, or the server aborted it */
    CE_DROP,        /* we abort it; arg: the text (const char *) */
    CE_NEVENTS
};

/*
 * spec §3.5: a downstream proxy of an encrypted session at its upstream
 * proxy, keyed as a client is but no receiver (client.c has the table).
 */
enum pdstate {
    PD_KEYX = 0,   /* its REGISTER: key exchange done, its CLIENT_KEY awaited */
    PD_AUTHED = 1, /* CLIENT_KEY verified (--downstream fingerprint): our KEYINFO owed */
    PD_READY = 2,  /* KEYINFO_ACK verified, or a message under its application key */
    PD_REFUSED = 3,
    PD_NSTATES
};
enum devent {
    DE_CLIENT_KEY,  /* its CLIENT_KEY verified, or repeated */
    DE_KEYINFO_ACK, /* its KEYINFO_ACK verified */
    DE_PROVEN,      /* a message under its application key */
    DE_REFUSE,      /* its key exchange or CLIENT_KEY failed */
    DE_ENTER,       /* (follows CLIENT_KEY) its clients come in; our KEYINFO goes to it */
    DE_NEVENTS
};

/* Clients not keyed yet, as a mask of enum pcstate. */
#define PC_UNKEYED (1u << PC_MUTE | 1u << PC_REGISTERED | 1u << PC_CONF)

/* fsm_step()'s object for the three machines (c NULL for a session's). */
struct pref {
    struct proxy *p;
    struct psession *s;
    struct pclient *c;
};

/* A static fsm_action (core/base/fsm.h) written as a function of p, s, c and the event's arg. */
#define PX_ACTION(name)                                                                            \
    static int name##_(struct proxy *p, struct psession *s, struct pclient *c, void *arg);         \
    static int name(void *obj, int ev, void *arg)                                                  \
    {                                                                                              \
        const struct pref *r = obj;                                                                \
        (void)ev;                                                                                  \
        return name##_(r->p, r->s, r->c, arg);                                                     \
    }                                                                                              \
    static int name##_(                                                                            \
        struct proxy *p __attribute__((unused)), struct psession *s __attribute__((unused)),       \
        struct pclient *c __attribute__((unused)), void *arg __attribute__((unused)))

/* ------------------------------------------------------------ sessions */

struct pclient {
    uint32_t id;
    int state;         /* enum pcstate; written only by p_client_step() */
    struct addr addr;  /* where it answers from: per-client aborts go here */
    uint64_t reg_echo; /* the echo of its last REGISTER */
    uint64_t reg_rx;   /* and when that arrived */
    uint64_t up_at;    /* when its REGISTER last joined an aggregate upstream */
    struct kpeer *k;   /* encrypted sessions */
    bool cc_seen;      /* it sent a CC_ACK in round cc_seq (fwd.c) */
    uint16_t cc_seq;
    bool decodes; /* spec §9.1: its REGISTER said DECODE for the session's code, K, S */
    uint32_t via; /* spec §3.5: the downstream proxy whose aggregates list it; 0 = its own */
};

struct pdown {
    uint32_t id;
    int state; /* enum pdstate; written only by p_down_step() */
    struct addr addr;
    struct kpeer *k;
};

struct psession {
    int phase; /* enum pphase; written only by p_session_event() */
    uint8_t version;
    uint32_t group_id;
    uint8_t group_inst;
    uint32_t server_id;
    struct addr up;   /* the ANNOUNCE source: everything upstream goes there, */
    struct addr via;  /* ... or to our upstream proxy (cfg.up_proxy; spec §3.5), once known */
    struct addr pub;  /* ANNOUNCE's public address (port: client_port) */
    struct addr priv; /* private address; unset in unicast mode */
    struct addr ssm_src;
    bool joined;
    uint16_t blocksize;
    uint8_t robust;
    uint8_t cc_type;
    /* TFMCC feedback passed upstream this round (fwd.c): its round, the lowest rate, whose. */
    bool cc_any;
    uint16_t cc_seq;
    uint64_t cc_low;
    uint32_t cc_low_id;
    uint8_t grtt_code, gsize_code; /* from the server's last header */
    uint64_t grtt_us;
    uint16_t seq_up, seq_down;
    uint64_t idle_at;    /* session timeout */
    uint64_t reg_end;    /* registration window (encrypted sessions) */
    uint64_t keyinfo_at; /* last KEYINFO to the clients, while some are owed; 0 = none */
    uint64_t regup_at;   /* last REGISTER upstream, while clients await REG_CONF; 0 = none */
    uint64_t ann_at;     /* the server's latest ANNOUNCE of the session (its round) */
    uint64_t ann_grtt;   /* and the GRTT it carried */
    bool encrypted;
    bool lower; /* spec §3.5: cleartext, our aggregates go to an upstream proxy (cfg.up_proxy) */
    bool limit_logged;
    struct pclient *cl;
    size_t ncl, capcl;
    size_t ccnt[PC_NSTATES]; /* clients per enum pcstate */
    struct idmap cmap;       /* client ID → index in cl */
    struct agg agg;
    /* Issue 17, spec §9.4: the ANNOUNCE offered parity (code, K, S): we aggregate our
     * DECODE clients' STATUS as count reports; fec_buf holds one client's counts. */
    bool fec;
    uint8_t fec_k, fec_stride;
    uint8_t *fec_buf;
    struct ksess *k;  /* encrypted sessions */
    struct pdown *dn; /* spec §3.5: downstream proxies keyed by us (encrypted v5) */
    size_t ndn;
    /* Issue 14: what the session may send, and its standing for slots and key work. */
    struct amp amp;             /* credit: 3 x the bytes received for it (core/proto/amp.h) */
    uint64_t src;               /* amp_key of the ANNOUNCE's source */
    uint8_t rank;               /* 0 unlisted, 1 listed in -S, 2 listed and from its address */
    bool confirmed;             /* the server (or, tunnelled, the downstream side) answered */
    uint64_t heard_us;          /* last datagram of the session */
    uint64_t unconfirmed_until; /* ends then unless confirmed (--unconfirmed-timeout) */
};

/* ------------------------------------------------------------ the engine */

struct proxy;

/* Sends an aggregate upstream; returns the clients it answers for (0: it did not go out). */
typedef size_t agg_flusher(struct proxy *p, struct psession *s, const struct agg_slot *sl);

struct proxy {
    struct proxy_config cfg;
    struct proxy_env env;
    struct psession *sess;
    unsigned nslots; /* 1 + highest slot in use */
    unsigned last_hit;
    struct pq q;
    /* Memberships held, reference-counted (as the receiver's). */
    struct member *mem; /* memberships, refcounted */
    size_t nmem, capmem;
    struct hb hb;
    /* Server proxy: the downstream address (fixed, or learned in fp mode). */
    struct addr down;
    uint32_t nonce; /* current heartbeat challenge (fp mode), never 0 */
    /* Public-key work budget (spec §6.16), shared fairly (issue 14, core/proto/keywork.h). */
    struct keywork pk;
    uint64_t pk_logged_at;
    /* Issue 14: credit of sources without a session, and of the session being served. */
    struct amp_table amps;
    struct ratelim strays; /* HB_RESP to others than our downstream: AMP_STRAY_PER_S a second */
    uint64_t amp_seed;
    struct amp *charge; /* p_send spends this credit; NULL = our own datagrams */
    struct fresh fresh; /* signed ANNOUNCEs seen (replays) */
    /* The families' flushers by func, handed down by engine.c (aggq.c is below them). */
    agg_flusher *const *flushers;
    size_t nflushers;
    uint64_t limit_logged_at;
    uint64_t refuse_logged_at;
    uint64_t pk4_at;     /* last v4 PROXY_KEY sent (0 = never) */
    uint64_t now;        /* time of the current call */
    uint64_t next_timer; /* earliest session or heartbeat deadline */
    bool dirty;          /* input arrived since the timers last ran */
    bool started, shutdown, done_reported;
    struct proxy_stats st;
    uint8_t scratch[UFTP_MAX_DATAGRAM + 2048];
};

#define PLOG(p, s, lvl, fmt, ...)                                                                  \
    do {                                                                                           \
        if (elog_enabled(&(p)->env.log, lvl))                                                      \
            elog_msg(&(p)->env.log, lvl, "[%08X/%u] " fmt, (s)->group_id,                          \
                     (unsigned)(s)->group_inst, ##__VA_ARGS__);                                    \
    } while (0)

/*
 * How long answers wait for others (agg.h): 1 GRTT; spec §3.5: half at a
 * proxy with an upstream proxy, and a downstream proxy's answers half at the
 * upstream one (stack.c), so that two levels hold no longer than one.
 */
static inline uint64_t p_hold(const struct psession *s)
{
    return s->lower ? s->grtt_us / 2 : s->grtt_us;
}

static inline uint64_t p_wall(const struct proxy *p, uint64_t now_us)
{
    return (uint64_t)((int64_t)now_us + p->cfg.wall_offset_us);
}

/* ------------------------------------------------------------ handlers */

/* A datagram being handled, as engine.c's pipeline leaves it. */
struct pmsg {
    const struct addr *from;
    const struct uftp_hdr *h;
    uint8_t *pkt; /* as received (writable) */
    size_t len;
    struct wire_msg m;  /* decoded (not a known session's ANNOUNCE; sealed: only an ABORT) */
    const uint8_t *msg; /* the message from its func byte, opened when sealed */
    size_t mlen;
    bool sealed; /* it came ENCRYPTED */
};

/* What engine.c dispatches to; s NULL without a session, c NULL but from a known client. */
#define PROXY_HANDLER(name)                                                                        \
    void name(struct proxy *p, struct psession *s __attribute__((unused)),                         \
              struct pclient *c __attribute__((unused)), struct pmsg *in)
typedef PROXY_HANDLER(proxy_handler);

/* reg.c; p_reg_proven: a sealed message from a client in CONF proves its keys. */
proxy_handler p_reg_announce, p_reg_key_req, p_reg_register, p_reg_fileinfo, p_reg_client_key,
    p_reg_keyinfo_ack, p_reg_keyinfo, p_reg_reg_conf, p_reg_proven;
agg_flusher p_reg_flush;
/* stack.c (spec §3.5): the upstream proxy's PROXY_KEY; a downstream proxy's aggregates. */
proxy_handler p_stack_proxy_key, p_stack_register, p_stack_fileinfo_ack, p_stack_status,
    p_stack_complete, p_stack_abort, p_stack_client_key, p_stack_keyinfo_ack;
/* xfer.c */
proxy_handler p_xfer_fileinfo_ack, p_xfer_status;
agg_flusher p_xfer_flush_fileinfo_ack, p_xfer_flush_status;
/* complete.c */
proxy_handler p_complete_recv;
agg_flusher p_complete_flush;
/* abort.c */
proxy_handler p_abort_from_client, p_abort_from_server;
/* hb.c */
proxy_handler p_hb_req_recv, p_hb_resp_recv;
/* Our own heartbeats: plain ones every interval, signed ones when challenged. */
void p_hb_emit(struct proxy *p);
/* A new heartbeat challenge (never 0); 0 when the rng fails. */
uint32_t p_hb_nonce(struct proxy *p);
/* fwd.c: a server proxy's tunnel (p_fwd_open: a new session), a client proxy's relaying. */
proxy_handler p_fwd_open, p_fwd_from_up, p_fwd_from_down, p_fwd_down, p_fwd_up;

/* ------------------------------------------------------------ session.c */

extern const struct fsm_def proxy_session_fsm, proxy_tunnel_fsm;
/* Steps s's machine (the role's) at p->now. */
int p_session_event(struct proxy *p, struct psession *s, int ev, void *arg);
/* A filled slot for in's new session, FREE until SE_OPEN (issue 14: may evict); NULL: refused. */
struct psession *p_session_new(struct proxy *p, const struct pmsg *in,
                               const struct wire_announce *a);
/* Raises the session's due timer events, in order, once each. */
void p_session_tick(struct proxy *p, struct psession *s);
uint64_t p_session_deadline(const struct proxy *p, const struct psession *s);

/* ------------------------------------------------------------ client.c */

extern const struct fsm_def proxy_client_fsm;
struct pclient *p_client_of(struct psession *s, uint32_t id);
/* Adds a client in MUTE; NULL when refused (-C, its ID, the limit: logged). */
struct pclient *p_client_add(struct proxy *p, struct psession *s, uint32_t id,
                             const struct addr *from);
int p_client_step(struct proxy *p, struct psession *s, struct pclient *c, int ev, void *arg);
/* Whether state has a row for ev in def; c's state in the client machine. */
bool p_fsm_accepts(const struct fsm_def *def, int state, int ev);
bool p_client_accepts(const struct pclient *c, int ev);
/* Its REGISTER goes into the next aggregate upstream (with its echo, held since). */
void p_client_register_up(struct proxy *p, struct psession *s, struct pclient *c);
/* spec §3.5: downstream proxies keyed by us (encrypted v5); p_down_add: NULL when full. */
extern const struct fsm_def proxy_down_fsm;
struct pdown *p_down_of(struct psession *s, uint32_t id);
struct pdown *p_down_add(struct proxy *p, struct psession *s, uint32_t id);
int p_down_step(struct proxy *p, struct psession *s, struct pdown *d, int ev, void *arg);
/* Its CLIENT_KEY is verified: its clients are in (registered) once their REGISTER came. */
bool p_down_authed(struct psession *s, uint32_t id);

/* ------------------------------------------------------------ aggq.c */

/* Adds a client's answer to the session's aggregates (flushing all first when full); its slot. */
int p_aggq_add(struct proxy *p, struct psession *s, const struct agg_msg *am, uint32_t id);
/* Sends the aggregates that are due (all with force). */
void p_aggq_flush(struct proxy *p, struct psession *s, bool force);

/* ------------------------------------------------------------ send.c */

/* A client proxy forwards a server datagram to its clients (counted); others do not. */
void p_send_forward(struct proxy *p, const struct addr *to, const uint8_t *pkt, size_t len);
/* Writes our header for the session (down: with the server's GRTT and group size). */
void p_send_hdr(struct proxy *p, struct psession *s, uint8_t *b, uint8_t func, bool down,
                uint16_t seq);
enum up_how { UP_CLEAR, UP_APP, UP_HS };
/* m upstream, clear or sealed (never an encrypted session's answer in the clear: logged). */
bool p_send_up(struct proxy *p, struct psession *s, const struct wire_msg *m, enum up_how how);
/* ABORT upstream for host (0: ourselves), sealed once keyed. */
/* Network text (an ABORT's) for our logs and our own ABORT: controls replaced. */
void p_clean_text(char *text, size_t cap, const char *src);
void p_send_abort_up(struct proxy *p, struct psession *s, uint32_t host, const char *text);
/* Our ABORT to client c by unicast, or (c NULL) to the private group with flags. */
void p_send_abort_down(struct proxy *p, struct psession *s, const struct pclient *c, uint8_t flags,
                       const char *text);
/* KEYINFO to the clients in CONF and (spec §3.5) the downstream proxies in AUTHED, by
 * unicast (only those in list, when given); arms the resend. */
void p_send_keyinfo(struct proxy *p, struct psession *s, const struct wire_ids *list);

/* ------------------------------------------------------------ table.c */

struct psession *p_find(struct proxy *p, uint32_t group_id, uint8_t inst);
/* A slot for h's session (issue 14, core/proto/admit.h: *evict its holder); NULL: refused. */
struct psession *p_slot_pick(struct proxy *p, const struct uftp_hdr *h, const struct addr *from,
                             bool *evict);
/* Fills a free slot for the session of h (still FREE until SE_OPEN), charged its ANNOUNCE. */
void p_slot_fill(struct proxy *p, struct psession *s, const struct uftp_hdr *h,
                 const struct addr *from, size_t len);
/* The slot came into use (SE_OPEN). */
void p_slot_opened(struct proxy *p, struct psession *s);
/* Frees what the slot holds and leaves its group; the slot is free again. */
void p_slot_release(struct proxy *p, struct psession *s);
/* Joins the private group (port 0) from the -S address or from (-o), as s->priv. */
void p_slot_join(struct proxy *p, struct psession *s, const struct addr *group,
                 const struct addr *from);
const struct proxy_server *p_server(const struct proxy *p, uint32_t id);
const struct proxy_client *p_client_entry(const struct proxy *p, uint32_t id);
/* id's entry in the downstream proxies (cfg.downs, spec §3.5), or NULL. */
const struct proxy_client *p_down_entry(const struct proxy *p, uint32_t id);
/* The amp_key of an address (its IP). */
uint64_t p_src_key(const struct proxy *p, const struct addr *a);
/* A server's rank (issue 14): 2 listed in -S and from the line's address, 1 listed, 0 not. */
uint8_t p_rank(const struct proxy *p, uint32_t server_id, const struct addr *from);
/* The session's datagram arrived: credit it (amp), note it heard, and charge its sends to it. */
void p_heard(struct proxy *p, struct psession *s, size_t len);
/* GRTT and group size from a server header. */
void p_take_grtt(struct psession *s, const struct uftp_hdr *h);
/* max(n x GRTT, 1 s), at most CLAIMS_IDLE_MAX_US: the session's timers (spec §1.6). */
uint64_t p_grtt_times(const struct psession *s, uint64_t n);
/* The session hears from its server (or tunnel): its idle timer starts again. */
void p_alive(struct proxy *p, struct psession *s);
/* queue.c: a datagram out (copied), charged to p->charge, false (counted) when held or full; */
bool p_send(struct proxy *p, const struct addr *dst, const uint8_t *dg, size_t len);
/* ... and a membership (refcounted). */
void p_member(struct proxy *p, bool join, const struct addr *group, const struct addr *source);

/* ------------------------------------------------------------ limits.c */

void p_drop(struct proxy *p, const struct addr *from, const char *why);
/* Logs a limit refusal at most once a minute (engine-wide). */
void p_limit(struct proxy *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A refused session or client: LL_WARN at most every 10 s, LL_PROTO between. */
void p_refuse(struct proxy *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* cost µs of public-key work for source src of rank rank (keywork.h); false: refused, logged. */
bool p_pk_budget(struct proxy *p, uint64_t src, unsigned rank, uint64_t cost_us, const char *what);

#endif
