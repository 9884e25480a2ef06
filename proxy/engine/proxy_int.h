/*
 * Internals of the proxy engine (proxy/engine.h), shared by its files:
 *   engine.c   lifecycle, the receive pipeline, heartbeats, poll / deadline
 *   queue.c    the output queue (datagrams and memberships)
 *   fwd.c      the server proxy: tunnelling (spec §3.1)
 *   session.c  client and response proxy sessions: PROXY_KEY, re-keying,
 *              aggregation, aborts, timers (spec §3.2-§3.4)
 *   keys.c     the session cryptography of both sides of a proxy (spec §1.8)
 */
#ifndef UFTP_PROXY_INT_H
#define UFTP_PROXY_INT_H

#include "core/base/elog.h"
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

/* ------------------------------------------------------------ queue */

/*
 * Datagrams waiting for poll, in a byte ring used as a "bip buffer": each
 * entry is a header and the bytes, 8-byte aligned, never split across the
 * end; when an entry does not fit at the end it goes to the start and the
 * end of the data is remembered. Memberships wait in a small ring of their
 * own and come out first.
 */
struct pq_ent {
    uint32_t len;  /* datagram bytes */
    uint32_t span; /* bytes the entry takes, header included */
    struct addr dst;
};

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
/* Appends a datagram of len bytes to dst and returns where to write it; NULL when full. */
uint8_t *pq_put(struct pq *q, const struct addr *dst, size_t len);
/* Copies a datagram in; false when full. */
bool pq_push(struct pq *q, const struct addr *dst, const uint8_t *p, size_t len);
bool pq_push_op(struct pq *q, bool join, const struct addr *group, const struct addr *source);
bool pq_empty(const struct pq *q);
/* Moves the next output into out (a batch of equal-size datagrams to one destination). */
int pq_pop(struct pq *q, struct eng_out *out);

/* ------------------------------------------------------------ sessions */

/* Session phases (the reference's PR_PHASE_*). */
enum pphase {
    PP_FREE = 0,
    PP_REGISTERED = 1, /* set up; encrypted: waiting for our own KEYINFO */
    PP_READY = 2,      /* encrypted: group master known, re-keying the clients */
    PP_RECEIVING = 3,  /* every client keyed (or the window closed) */
    PP_DONE = 4,       /* every client sent COMPLETE(0) */
};

/* Client states (the reference's PR_CLIENT_*). */
enum pcstate {
    PC_MUTE = 0,
    PC_REGISTERED = 1, /* REGISTER (and CLIENT_KEY when required) seen */
    PC_CONF = 2,       /* the server confirmed it (REG_CONF): KEYINFO owed */
    PC_READY = 3,      /* KEYINFO_ACK verified */
    PC_DONE = 4,       /* COMPLETE(0) seen */
    PC_ABORTED = 5,
};

struct pclient {
    uint32_t id;
    uint8_t state;
    struct addr addr;  /* where it answers from: per-client aborts go here */
    uint64_t reg_echo; /* the echo of its last REGISTER */
    uint64_t reg_rx;   /* and when that arrived */
    struct kpeer *k;   /* encrypted sessions */
};

struct psession {
    uint8_t phase;
    uint8_t version;
    uint32_t group_id;
    uint8_t group_inst;
    uint32_t server_id;
    struct addr up;   /* the ANNOUNCE source: everything upstream goes there */
    struct addr pub;  /* ANNOUNCE's public address (port: client_port) */
    struct addr priv; /* private address; unset in unicast mode */
    struct addr ssm_src;
    bool joined;
    uint16_t blocksize;
    uint8_t robust;
    uint8_t cc_type;
    uint8_t grtt_code, gsize_code; /* from the server's last header */
    uint64_t grtt_us;
    uint16_t seq_up, seq_down;
    uint64_t idle_at;    /* session timeout */
    uint64_t reg_end;    /* registration window (encrypted sessions) */
    uint64_t keyinfo_at; /* last KEYINFO to the clients, while some are owed; 0 = none */
    uint64_t regup_at;   /* last REGISTER upstream, while clients await REG_CONF; 0 = none */
    bool encrypted;
    bool limit_logged;
    struct pclient *cl;
    size_t ncl, capcl;
    struct idmap cmap; /* client ID → index in cl */
    struct agg agg;
    struct ksess *k; /* encrypted sessions */
    /* Issue 14: what the session may send, and its standing for slots and key work. */
    struct amp amp;             /* credit: 3 x the bytes received for it (core/proto/amp.h) */
    uint64_t src;               /* amp_key of the ANNOUNCE's source */
    uint8_t rank;               /* 0 unlisted, 1 listed in -S, 2 listed and from its address */
    bool confirmed;             /* the server (or, tunnelled, the downstream side) answered */
    uint64_t heard_us;          /* last datagram of the session */
    uint64_t unconfirmed_until; /* ends then unless confirmed (--unconfirmed-timeout) */
};

/* ------------------------------------------------------------ the engine */

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
    uint64_t nodown_logged_at;
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

static inline uint64_t p_wall(const struct proxy *p, uint64_t now_us)
{
    return (uint64_t)((int64_t)now_us + p->cfg.wall_offset_us);
}

/* engine.c */
void p_member(struct proxy *p, bool join, const struct addr *group, const struct addr *source);
struct psession *p_find(struct proxy *p, uint32_t group_id, uint8_t inst);
/*
 * A slot for the session of h from from (issue 14: a free one, or one an
 * unconfirmed session gives up, core/proto/admit.h); NULL when refused.
 * The new session is charged with the ANNOUNCE of len bytes.
 */
struct psession *p_new_session(struct proxy *p, const struct uftp_hdr *h, const struct addr *from,
                               size_t len, uint64_t now);
/* Whether p_new_session would find a slot now (before spending key work on it). */
bool p_slot_available(struct proxy *p, const struct uftp_hdr *h, const struct addr *from,
                      uint64_t now);
void p_free_session(struct proxy *p, struct psession *s);
void p_drop(struct proxy *p, const struct addr *from, const char *why);
/* Logs a limit refusal at most once a minute (engine-wide). */
void p_limit(struct proxy *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/*
 * Takes cost µs of public-key work from the budget for source key src of
 * rank rank (core/proto/keywork.h); false = refused (logged).
 */
bool p_pk_budget(struct proxy *p, uint64_t src, unsigned rank, uint64_t cost_us, const char *what);
/* The amp_key of an address (its IP). */
uint64_t p_src_key(const struct proxy *p, const struct addr *a);
/* A server's rank (issue 14): 2 listed in -S and from the line's address, 1 listed, 0 not. */
uint8_t p_rank(const struct proxy *p, uint32_t server_id, const struct addr *from);
/* The session's datagram arrived: credit it (amp), note it heard, and charge its sends to it. */
void p_heard(struct proxy *p, struct psession *s, size_t len, uint64_t now);
/* The session proved itself (issue 14): no more unconfirmed timeout, and evictable only by rank. */
void p_confirm(struct psession *s);
const struct proxy_server *p_server(const struct proxy *p, uint32_t id);
const struct proxy_client *p_client_entry(const struct proxy *p, uint32_t id);
/* Enqueues a datagram (copied); false (counted) when the queue is full. */
bool p_send(struct proxy *p, const struct addr *dst, const uint8_t *dg, size_t len);
/* GRTT and group size from a server header. */
void p_take_grtt(struct psession *s, const struct uftp_hdr *h);
/* max(n x GRTT, 1 s): the session's timers (spec §1.6 "all expiries ≥ 1 s"). */
uint64_t p_grtt_times(const struct psession *s, uint64_t n);

/* fwd.c: the server proxy */
void fwd_recv(struct proxy *p, const struct addr *from, const struct uftp_hdr *h, uint8_t *pkt,
              size_t len, uint64_t now);
void fwd_timers(struct proxy *p, struct psession *s, uint64_t now);

/* session.c: client and response proxies */
void psess_recv(struct proxy *p, const struct addr *from, const struct uftp_hdr *h, uint8_t *pkt,
                size_t len, uint64_t now);
void psess_timers(struct proxy *p, struct psession *s, uint64_t now);
uint64_t psess_deadline(const struct psession *s);
void psess_shutdown(struct proxy *p, struct psession *s);

#endif
