/*
 * Internals of the receiver engine (receiver/engine.h):
 *   engine.c   lifecycle, the receive pipeline, poll / deadline, memberships
 *   session.c  one session's state machine (spec §1.6 "Client state
 *              machine"), message handlers, timers and replies
 */
#ifndef UFTP_RECV_INT_H
#define UFTP_RECV_INT_H

#include "core/crypto/skeys.h"
#include "core/base/file.h"
#include "core/base/elog.h"
#include "core/base/member.h"
#include "core/proto/admit.h"
#include "core/proto/amp.h"
#include "core/proto/bitmap.h"
#include "core/proto/blocks.h"
#include "core/proto/claims.h"
#include "core/proto/fresh.h"
#include "core/proto/hb.h"
#include "core/proto/keywork.h"
#include "core/proto/ratelim.h"
#include "core/wire/msg.h"
#include "receiver/engine/engine.h"

/* Client session phases (spec §1.6). */
enum rphase {
    RP_FREE = 0,        /* slot unused */
    RP_PREREGISTER = 1, /* waiting for PROXY_KEY (issue 5) */
    RP_REGISTERED = 2,  /* REGISTER sent, waiting for REG_CONF */
    RP_MIDGROUP = 3,    /* between files */
    RP_RECEIVING = 4,   /* receiving a regular file */
    RP_COMPLETE = 5,    /* COMPLETE(0) sent, waiting for DONE_CONF */
};

/* Replies a session owes; sent one per poll in this order. */
enum {
    P_ABORT = 0x01,
    P_REGISTER = 0x02,
    P_FILEINFO_ACK = 0x04,
    P_STATUS = 0x08,
    P_COMPLETE = 0x10,
    P_CLIENT_KEY = 0x20, /* right after each REGISTER under client auth */
    P_KEYINFO_ACK = 0x40,
};

/* spec §1.6 "Sequence checks": reorder tolerance. */
#define RECV_MAXMISORDER 5
/*
 * The 16-bit seq wraps every 65536 datagrams (87 MB of 1324-byte ones, a
 * twentieth of a second of -R -1 here), so a receiver that misses more
 * than 32768 in a row (a stall, a full socket) sees the sender's next ones
 * as "behind". Anything further behind than RECV_SEQ_JUMP, and a run of
 * RECV_STALE_RUN stale ones in a row, cannot be reordering: it is the
 * sender ahead by more than half the seq space, and the window moves to it
 * (otherwise every later packet, the DONEs too, would be dropped).
 */
#define RECV_SEQ_JUMP  4096
#define RECV_STALE_RUN 16

/* The file of a session. */
struct rfile {
    uint16_t file_id;
    uint8_t ftype;
    bool open; /* storage handle held */
    void *h;
    struct blocks lay;
    struct bitmap missing; /* 1 = block not yet received */
    uint32_t *sec_missing; /* per section */
    uint32_t nmissing;
    uint8_t comp_status; /* what COMPLETE says */
    bool freespace;      /* COMPLETE carries EXT_FREESPACE_INFO */
    uint64_t freespace_val;
    bool got_data;
    /* NAK timer (spec §1.6 step 4): sections [nak_first, nak_last). */
    uint64_t nak_at; /* 0 = off */
    uint32_t nak_first, nak_last;
    bool got_done;
    uint32_t last_section;
    /* STATUS emission in progress over [nak_cur, nak_last). */
    bool nak_emit;
    uint32_t nak_cur;
    bool sent_naks;
    /* Names, NUL-terminated. */
    struct file_name fname;
    char name[WIRE_MAX_PATH + 1];
    char link[WIRE_MAX_PATH + 1];
    struct receiver_file rf;
};

struct rsession {
    uint8_t phase; /* enum rphase */
    uint8_t version;
    uint32_t group_id;
    uint8_t group_inst;
    uint32_t server_id;
    uint32_t proxy_id;
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
    bool ending;               /* free the slot once the pending replies are out */
    bool end_ok;               /* how it ended (session_end / event) */
    uint16_t file_id;          /* the session's current file; 0 after DONE(0) */
    struct skeys_client *keys; /* encrypted session (spec §1.8); NULL = cleartext */
    uint32_t verify_cost;      /* µs to check one of the server's signatures */
    /* Issue 14: what the session may send, and its standing for slots and key work. */
    struct amp amp;    /* credit: 3 x the bytes received for the session (core/proto/amp.h) */
    uint64_t src;      /* amp_key of the ANNOUNCE's source */
    uint8_t rank;      /* 0 unlisted, 1 listed in -S, 2 listed and from its -S address */
    uint64_t heard_us; /* last datagram of the session */
    struct rfile f;
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

struct receiver {
    struct receiver_config cfg;
    struct receiver_env env;
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
    struct keywork pk;          /* public-key work on unauthenticated input (issue 14) */
    uint64_t pk_log_at;         /* next "rate-limiting" log line */
    struct amp_table amps;      /* credit of sources without a session (refused ANNOUNCEs) */
    struct ratelim strays;      /* ... and at most AMP_STRAY_PER_S answers to them a second */
    uint64_t amp_seed;          /* keys amp_key */
    struct fresh fresh;         /* signed ANNOUNCEs seen (replays) */
    struct ratelim refuse_log;  /* refusals logged at LL_WARN: a burst of 20, then 5 a second */
    uint64_t refuse_quiet;      /* refusals since, logged at LL_PROTO only */
    struct crypto_key *own_key; /* ephemeral signing key when -k gave none */
    /* -r: the v4 response proxy's keys from its PROXY_KEY (spec §1.9 item 4) */
    struct crypto_key *px4_sig, *px4_dh;
    uint64_t keyreq_at; /* next KEY_REQ while px4_dh is NULL */
    struct hb hb;       /* -H heartbeats (core/proto/hb.h) */
    uint16_t hb_seq;
    uint8_t nakbuf[BLOCKS_MAX_PERSEC / 8 + 1];
};

#define RLOG(r, sess, lvl, fmt, ...)                                                               \
    do {                                                                                           \
        if (elog_enabled(&(r)->env.log, lvl))                                                      \
            elog_msg(&(r)->env.log, lvl, "[%08X/%u] " fmt, (sess)->group_id,                       \
                     (unsigned)(sess)->group_inst, ##__VA_ARGS__);                                 \
    } while (0)

static inline uint64_t r_wall(const struct receiver *r, uint64_t now_us)
{
    return (uint64_t)((int64_t)now_us + r->cfg.wall_offset_us);
}

/* engine.c */
void recv_member(struct receiver *r, bool join, const struct addr *group,
                 const struct addr *source);
void recv_stray_abort(struct receiver *r, const struct addr *to, const struct uftp_hdr *h,
                      const char *text, uint64_t now);

/* engine.c: -r is set (a v4 response proxy). */
static inline bool recv_has_px4(const struct receiver *r)
{
    return addr_is_set(&r->cfg.resp_proxy);
}

/*
 * engine.c: takes cost from the public-key budget for work on behalf of
 * source key src of rank rank (core/proto/keywork.h); false = refused
 * (logged once a second).
 */
bool recv_pk_take(struct receiver *r, uint64_t src, unsigned rank, uint64_t cost, uint64_t now);
/* engine.c: the amp_key of an address (its IP). */
uint64_t recv_src_key(const struct receiver *r, const struct addr *a);
/* engine.c: a refused ANNOUNCE's log line: LL_WARN (20, then 5 a second), else LL_PROTO. */
void recv_refused(struct receiver *r, uint64_t now, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* session.c */
void sess_announce(struct receiver *r, const struct addr *from, const struct uftp_hdr *h,
                   const struct wire_announce *a, uint8_t *pkt, size_t len, uint64_t now);
/* Another ANNOUNCE of session s (pkt writable, for its signature). */
void sess_announce_again(struct receiver *r, struct rsession *s, const struct uftp_hdr *h,
                         const struct wire_announce *a, uint8_t *pkt, size_t len, uint64_t now);
/* A KEYINFO of an encrypted session (cleartext, signed). */
/* PROXY_KEY (spec §1.8): the session's proxy speaks; msg is the message from its func byte. */
void sess_proxy_key(struct receiver *r, struct rsession *s, const struct addr *from,
                    const struct uftp_hdr *h, const uint8_t *msg, size_t mlen, uint64_t now);
/* The key we sign with (client authentication, heartbeats): -k, or an ephemeral one. */
const struct crypto_key *recv_sigkey(struct receiver *r);
void sess_keyinfo(struct receiver *r, struct rsession *s, const struct wire_keyinfo *k,
                  uint8_t *pkt, size_t len, uint64_t now);
void sess_dispatch(struct receiver *r, struct rsession *s, const struct uftp_hdr *h,
                   const struct wire_msg *m, uint64_t now);
void sess_grtt(struct rsession *s, uint8_t code);
/* A repeated ANNOUNCE while between files: take its GRTT, restart the timeout. */
void sess_touch(struct rsession *s, uint8_t grtt_code, uint64_t now);
void sess_timers(struct receiver *r, struct rsession *s, uint64_t now);
uint64_t sess_deadline(const struct rsession *s);
bool sess_output(struct receiver *r, struct rsession *s, uint64_t now, struct eng_out *out);
void sess_abort(struct receiver *r, struct rsession *s, const char *text, bool tell_server);
void sess_free(struct receiver *r, struct rsession *s);

#endif
