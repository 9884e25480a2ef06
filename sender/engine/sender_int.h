/*
 * Internals of the sender engine (engine.h). The files, each calling only
 * those below it: engine.c (the public face and receive pipeline) → reg.c,
 * xfer.c, abort.c (one message family each) → session.c (the session
 * machine) → client.c (destinations and the per-receiver machine) → xmit.c
 * (jobs, datagrams, sealing, pacing). States change only in the two
 * machines (core/base/fsm.h): phase in session_event(), state in client_step().
 * A new state or event: its enum value before *_NSTATES / *_NEVENTS, its
 * name in the table's file, its rows there; unit_sender_machines checks both.
 */
#ifndef UFTP_SENDER_INT_H
#define UFTP_SENDER_INT_H

#include "core/base/elog.h"
#include "core/base/fsm.h"
#include "core/crypto/skeys.h"
#include "core/proto/bitmap.h"
#include "core/proto/blocks.h"
#include "core/proto/grtt.h"
#include "core/proto/idmap.h"
#include "core/proto/pace.h"
#include "core/proto/ratelim.h"
#include "core/proto/tfmcc.h"
#include "core/wire/msg.h"
#include "sender/engine/engine.h"

/* Per-receiver states (the reference's DEST_* values, spec §1.6). */
enum dstate {
    D_MUTE = 0,       /* not registered (closed group) */
    D_REGISTERED = 1, /* REGISTER seen, waiting (keys / FILEINFO_ACK) */
    D_ACTIVE = 2,     /* in the session / receiving the current file */
    D_ACTIVE_NAK = 3, /* sent NAKs this pass: left out of DONE until the rewind */
    D_DONE = 4,       /* COMPLETE received for the current file / session */
    D_LOST = 5,       /* went silent */
    D_ABORT = 6,      /* aborted */
    D_NSTATES
};

/* What moves a receiver (client.c has the table). */
enum cevent {
    CE_REGISTER,     /* its REGISTER, in the announce phase */
    CE_CLIENT_KEY,   /* its CLIENT_KEY verified (-c) */
    CE_KEYINFO_ACK,  /* its KEYINFO_ACK verified */
    CE_VIA_PROXY,    /* a proxy's REGISTER lists it */
    CE_FILEINFO,     /* the next file's FILEINFO goes out */
    CE_FILEINFO_ACK, /* it, or its proxy for it, acknowledged the FILEINFO */
    CE_STATUS,       /* a STATUS (NAKs) for this pass */
    CE_REWIND,       /* the next pass starts */
    CE_COMPLETE,     /* COMPLETE for the file or the group */
    CE_COMPLETION,   /* the files are over: DONE(0) asks everyone for COMPLETE */
    CE_SILENCE,      /* did not answer in time */
    CE_ABORT,        /* it (or its proxy for it) aborted */
    CE_DROP,         /* we abort it */
    CE_NEVENTS
};

struct sdest {
    uint32_t id;
    int state;           /* enum dstate; written only by client_step() */
    uint8_t comp_status; /* last COMPLETE status */
    bool conf_sent;      /* REG_CONF / DONE_CONF listed it since its last message */
    bool registered;
    bool rtt_measured;
    uint16_t nak_strikes;
    uint64_t rtt_us;
    /* Encryption: this client's keys (NULL before its REGISTER), and the
     * fingerprint -H/-j gave for it (checked with -c only). */
    struct skeys_peer *keys;
    const uint8_t *fp;
    uint8_t fplen;
    /*
     * Proxies (issue 5, spec §3.4): a proxy is a destination that registers
     * with a list of clients (it must be in -j for a closed group); its
     * clients are destinations too, reached through it (proxy = its index
     * + 1). A proxy answers for its clients, so it is counted apart
     * (struct sender.pcnt) and never listed in FILEINFO, DONE or DONE_CONF.
     */
    bool isproxy;
    uint32_t proxy;
    struct tfmcc_peer ccp; /* -C tfmcc: its reports and RTT (cc.c) */
    /* spec §9.1: FEC_F_DECODE / FEC_F_AGGREGATE from its REGISTER (fec.c). */
    uint8_t fec_flags;
    /*
     * Listed by the operator (-H, -j): one key exchange goes ahead even
     * when the public-key budget is spent (pk_over: that pass is used), so
     * listed receivers are admitted before strangers and the work stays
     * bounded by the list (issue 16).
     */
    bool listed;
    bool pk_over;
};

/* Phases of the session (session.c has the table). */
enum sphase {
    SP_START = 0,
    SP_ANNOUNCE,
    SP_FILEINFO,
    SP_DATA,
    SP_COMPLETION,
    SP_FINISHED,
    SP_NSTATES
};

/* What moves the session. */
enum sevent {
    SE_START,        /* the first poll */
    SE_TIMER,        /* the phase's round timer (DATA: the DONE timer after a pass) */
    SE_HEARD,        /* a receiver's message was handled */
    SE_LEFT,         /* a receiver aborted or was dropped */
    SE_ALL_IN,       /* closed group: every destination registered */
    SE_ROUNDS_OVER,  /* the phase's last round is over */
    SE_ALL_ACKED,    /* nobody left to answer FILEINFO */
    SE_NEXT_FILE,    /* go on with the next file */
    SE_LAST_FILE,    /* no file left */
    SE_PASS_END,     /* the last block of a pass went out */
    SE_REWIND,       /* the rewind timer: the next pass, over the NAKed blocks */
    SE_MAX_TIME,     /* -W exceeded */
    SE_READ_ERROR,   /* the file could not be read */
    SE_FILE_END,     /* nobody is receiving the file any more */
    SE_ALL_COMPLETE, /* completion: nobody left to answer */
    SE_KEY_LIMIT,    /* the server key is exhausted */
    SE_FAIL,         /* fatal error; arg: the exit code (int *) */
    SE_INTERRUPT,    /* sender_interrupt() */
    SE_QUICK,        /* the quick resend after a FILEINFO or DONE round (session.c) */
    SE_CC_TICK,      /* -C tfmcc: the rate's timers (CONG_CTRL, rounds; cc.c) */
    SE_NEVENTS
};

/* A queued control message; list messages are emitted one packet per poll. */
struct sjob {
    uint8_t func;        /* ANNOUNCE, REG_CONF, KEYINFO, FILEINFO, DONE, DONE_CONF, ABORT */
    uint8_t filter;      /* dest state listed */
    bool conf;           /* REG_CONF / DONE_CONF: only those not yet confirmed */
    bool proxied;        /* REG_CONF: only clients behind proxies (encrypted sessions) */
    bool anystate;       /* list every destination still in the session, whatever its state */
    bool and_registered; /* DONE: those still owing their FILEINFO_ACK too (early data) */
    bool sent_any;
    uint32_t cursor; /* next dest index */
    uint16_t file_id;
    uint16_t section;
    /* ABORT */
    uint32_t host;
    uint8_t flags;
    bool to_peer; /* send to `peer` instead of the group */
    struct addr peer;
    char text[64];
};

#define SJOB_RING 32
/* Shortest span of the DONEs at the end of a pass (session.c done_interval()). */
#define SENDER_DONE_SPAN_US 3000000u
/* A file of one section and at most this many blocks goes out with its FILEINFO
 * (session.c early_data()). */
#define SENDER_EARLY_BLOCKS 128u
/* The quick resend comes SENDER_QUICK_RTTS measured RTTs after its round, at least
 * SENDER_QUICK_MIN_US, at most 1·GRTT (session.c arm_quick()). */
#define SENDER_QUICK_RTTS   4u
#define SENDER_QUICK_MIN_US 2000u

/* The file being sent. */
struct sfile {
    const struct file_item *it;
    uint32_t index;
    uint16_t file_id;
    uint8_t ftype;
    bool open;
    void *h;
    struct blocks lay;
    struct bitmap naks; /* blocks still to send this pass / NAKed for the next */
    uint32_t cursor;    /* next block to consider in this pass */
    uint32_t pass;
    bool end_of_pass;
    bool got_naks;
    bool partial;
    /* The first pass and its DONE went out with the FILEINFO (session.c early_data()). */
    bool early;
    bool early_resent; /* its FILEINFO went again: someone may lack the early data */
    bool max_passes_exceeded;
    uint32_t done_attempt;
    uint64_t done_next; /* when the next DONE is due (end of pass) */
    uint64_t rewind_at; /* 0 = no rewind pending */
    /* The pass's first DONE: --liveness counts from here (issue 13). */
    uint64_t done_since;
    uint64_t max_time_at;
    uint64_t start_us;
};

struct sender {
    struct sender_config cfg;
    struct sender_env env;
    uint32_t group_id;
    uint8_t group_inst;
    bool unicast;
    bool ipv6;
    struct addr data_dst; /* everything but ANNOUNCE goes here */
    uint64_t now;         /* of the call being handled (recv, poll, interrupt) */

    int phase; /* enum sphase; written only by session_event() */
    /* Why the client being stepped out leaves (SENDER_EV_LEFT), or NULL: a default by state. */
    const char *why;
    bool open_group;
    struct sdest *dests;
    size_t ndest, capdest;
    size_t cnt[D_NSTATES];  /* clients per enum dstate */
    size_t pcnt[D_NSTATES]; /* proxies per enum dstate */
    size_t nproxy;          /* destinations that are proxies */
    struct idmap ids;

    struct grtt grtt;
    uint64_t datapacketsize;
    uint64_t packet_interval_us;
    uint64_t rate_Bps; /* 0 = unpaced */
    struct pace pace;
    uint16_t seq;
    /* Header bytes, recomputed only when what they encode changes. */
    uint64_t hdr_grtt_us;
    uint8_t hdr_grtt;
    size_t hdr_ndest;
    uint8_t hdr_gsize;

    /* Round timer: announce / FILEINFO / completion cycles. */
    uint32_t attempt;
    uint64_t asked_at; /* the phase's first round: --liveness counts from here (issue 13) */
    uint64_t next_send;
    bool last_pass;
    bool regdone;
    /* The quick resend of a FILEINFO or DONE round (session.c arm_quick()); 0 = none. */
    uint64_t quick_at;
    uint64_t quick_gap;   /* announce phase: the last quick resend's wait (doubles) */
    uint64_t rtt_peak_us; /* the largest RTT of the last GRTT update (unclamped); 0 = none */

    struct sfile file;
    uint32_t next_index; /* next item of cfg.files */
    uint16_t next_file_id;
    bool files_sent; /* some client completed some file (exit 10 otherwise) */

    struct sjob jobs[SJOB_RING];
    unsigned job_head, job_n;

    int exit_code;
    bool done_reported;

    struct sender_stats st;

    /* Encryption (NULL keys = cleartext session). */
    struct skeys_server *keys;
    struct crypto_key *own_key; /* the ephemeral signing key, when -k gave none */
    size_t moff;                /* where messages start: SKEYS_MSG_OFF or UFTP_HDR_LEN */
    struct ratelim pk;          /* public-key work on unauthenticated input */
    uint64_t pk_log_at;         /* next "rate-limiting" log line */
    /*
     * The announce phase goes on past its ROBUST rounds while the budget
     * refuses strangers' REGISTERs and admits others (both within two of
     * their REGISTER intervals), up to reg_ext_end (what SENDER_MAX_DEST
     * key exchanges take at the budget's rate): strangers queue for the
     * budget rather than being left out.
     */
    uint64_t reg_refused_us, reg_admitted_us; /* the last of each (0: none) */
    uint64_t reg_refused;                     /* refusals in all */
    uint64_t reg_ext_end;                     /* 0: not extended yet */
    uint8_t *scratch;                         /* UFTP_MAX_DATAGRAM: trial decryption */
    struct wire_destkey *dk;                  /* one KEYINFO's entries */
    const uint8_t *cur_msg;                   /* the decrypted message being dispatched */
    size_t cur_len;

    /* -C tfmcc (spec §1.7, cc.c). */
    bool cc;
    bool ref_proxy_status_seen; /* xfer.c: a 5.0.1 proxy's misaligned STATUS, logged once */
    struct tfmcc_tx cctx;
    /* Parity repair (fec.c, spec §9); NULL when the session does not offer it. */
    struct sfec *fec;

    /* Scratch for one batch. */
    struct iovec iov[ENG_MAX_SEG];
};

/* Logging with the session prefix; arguments are evaluated only when enabled. */
#define SLOG(s, lvl, fmt, ...)                                                                     \
    do {                                                                                           \
        if (elog_enabled(&(s)->env.log, lvl))                                                      \
            elog_msg(&(s)->env.log, lvl, "[%08X] " fmt, (s)->group_id, ##__VA_ARGS__);             \
    } while (0)

static inline uint64_t s_wall(const struct sender *s, uint64_t now_us)
{
    return (uint64_t)((int64_t)now_us + s->cfg.wall_offset_us);
}

static inline uint64_t s_adv_grtt(const struct sender *s)
{
    return grtt_adv(&s->grtt, s->packet_interval_us);
}

/* Whether data goes out now: the data phase, or a file sent with its FILEINFO. */
static inline bool s_sending(const struct sender *s)
{
    return s->phase == SP_DATA || (s->phase == SP_FILEINFO && s->file.early);
}

static inline bool d_error(const struct sdest *d)
{
    return d->state == D_MUTE || d->state == D_LOST || d->state == D_ABORT;
}

static inline size_t s_nclients(const struct sender *s)
{
    return s->ndest - s->nproxy;
}

/* Session events for status files and progress (sender_env.event). */
static inline void s_report(struct sender *s, const struct sender_event *ev)
{
    if (s->env.event != NULL)
        s->env.event(s->env.ctx, ev);
}

/* Defines an fsm_action (core/base/fsm.h); most need neither the event nor arg. */
#define ENG_ACTION(name)                                                                           \
    int name(void *obj, int ev __attribute__((unused)), void *arg __attribute__((unused)))

#define M_ACTIVE (1u << D_ACTIVE | 1u << D_ACTIVE_NAK)
/* Everyone still in the session. */
#define M_IN (1u << D_REGISTERED | M_ACTIVE | 1u << D_DONE)

/*
 * The handlers of reg.c (REGISTER, CLIENT_KEY, KEYINFO_ACK), xfer.c
 * (FILEINFO_ACK, STATUS, COMPLETE) and abort.c (ABORT), called by engine.c
 * once the phase takes the message; d is NULL for an unknown sender.
 */
#define SENDER_HANDLER(name)                                                                       \
    void name(struct sender *s, struct sdest *d, const struct addr *from __attribute__((unused)),  \
              const struct uftp_hdr *h __attribute__((unused)), const struct wire_msg *m)
typedef SENDER_HANDLER(sender_handler);
sender_handler reg_register, reg_client_key, reg_keyinfo_ack, xfer_fileinfo_ack, xfer_status,
    xfer_complete, abort_recv;

/* session.c: the session machine. */
extern const struct fsm_def sender_session_fsm;
/* Steps the session machine (fsm_step) at s->now. */
int session_event(struct sender *s, int ev, void *arg);
/* Raises every session event that is due at s->now. */
void session_tick(struct sender *s);
uint64_t session_deadline(const struct sender *s);
/* Closes the file being sent (if any) and frees its block map. */
void session_close_file(struct sender *s);
/* spec §1.6 step 5: NAKs at the end of a pass arm the rewind timer (3·GRTT). */
void session_rewind_check(struct sender *s);

/* client.c: the destination table and the per-receiver machine. */
extern const struct fsm_def sender_client_fsm;
struct sdest *dest_of(struct sender *s, uint32_t id);
/* Adds a destination in D_MUTE; NULL when full or out of memory. */
struct sdest *dest_add(struct sender *s, uint32_t id, bool isproxy);
/* A destination turns out to be a proxy (open group: its REGISTER lists clients). */
void dest_make_proxy(struct sender *s, struct sdest *d);
/* spec §1.6 "GRTT management": the largest RTT measured this cycle. */
void dest_grtt(struct sender *s, bool clear);
/* Steps d's machine (fsm_step); FSM_UNEXPECTED when its state has no row for ev. */
int client_step(struct sender *s, struct sdest *d, int ev);
/* Whether d's state has a row for ev. */
bool client_accepts(const struct sdest *d, int ev);
/* Steps every destination whose state is in mask (1 << enum dstate). */
void client_step_all(struct sender *s, int ev, unsigned mask);
/* client_step() with why as the reason SENDER_EV_LEFT gives, should d leave. */
int client_step_why(struct sender *s, struct sdest *d, int ev, const char *why);
/* CE_SILENCE / CE_ABORT / CE_DROP: a proxy's clients follow it out. */
void client_lose(struct sender *s, struct sdest *d, int ev);
/* ABORT to d (encrypted, to the group) and CE_DROP. */
void client_drop(struct sender *s, struct sdest *d, const char *why);
/* ABORT(host 0, flags) to everyone and CE_DROP for every destination in mask. */
void client_abort_all(struct sender *s, const char *why, uint8_t flags, unsigned mask);

/* cc.c: TFMCC (spec §1.7). */
void cc_start_file(struct sender *s);
int cc_tick(void *obj, int ev, void *arg);
uint64_t cc_deadline(const struct sender *s);
void cc_feedback(struct sender *s, struct sdest *d, const struct wire_tfmcc_ack *a);
sender_handler cc_ack_recv;
/* d is lost or aborted: no longer the CLR. */
void cc_client_gone(struct sender *s, struct sdest *d);
/* The items of the next CONG_CTRL (at most max). */
size_t cc_items(struct sender *s, struct wire_cc_item *items, size_t max);
#define CC_MAX_ITEMS 128

/* xmit.c. What xmit_job / xmit_data return: */
enum {
    XMIT_NONE = 0,     /* nothing to send */
    XMIT_SENT = 1,     /* *out holds datagrams */
    XMIT_PASS_END = 2, /* the same, and they end the pass */
    XMIT_EREAD = -1,   /* storage read failed (logged) */
    XMIT_ELIMIT = -2,  /* the server key reached its usage limit (logged) */
    XMIT_ECRYPT = -3,  /* encryption failed (logged) */
    XMIT_ENOMEM = -4,  /* out of memory (logged) */
};
void job_list(struct sender *s, uint8_t func, uint8_t filter, bool conf);
/* spec §7.9: in encrypted sessions REG_CONF only names clients behind proxies. */
void job_regconf_proxied(struct sender *s);
/* The same for a proxy's REGISTER after the announce phase: its clients, whatever their state. */
void job_regconf_again(struct sender *s);
void job_done(struct sender *s, uint16_t file_id, uint16_t section);
/* The same, listing also those still owing their FILEINFO_ACK (early data, session.c). */
void job_done_early(struct sender *s, uint16_t file_id, uint16_t section);
void job_cong_ctrl(struct sender *s);
void job_abort(struct sender *s, uint32_t host, uint8_t flags, const char *text,
               const struct addr *peer);
/* Emits the next packet of the head job into out. */
int xmit_job(struct sender *s, uint64_t now, struct eng_out *out);
/* Emits a FILESEG batch when the pacing allows. */
int xmit_data(struct sender *s, uint64_t now, struct eng_out *out);
/* When the next data batch is due (ENG_NEVER when no data is pending). */
uint64_t xmit_data_due(const struct sender *s, uint64_t now);
/* The UFTP header of a datagram we send (for fec.c). */
void xmit_hdr(struct sender *s, uint8_t *p, uint8_t func);
/* Seals a data-like message (FILESEG, FEC_PARITY) in place: its length, or XMIT_ELIMIT / _ECRYPT.
 */
/* Seals the message at p + s->moff (header at p): the datagram's length, or
 * XMIT_ELIMIT (DATA only: the key's usage limit is near) / XMIT_ECRYPT. */
ssize_t xmit_seal(struct sender *s, uint8_t *p, size_t msglen, size_t cap, bool data);
ssize_t xmit_seal_data(struct sender *s, uint8_t *p, size_t msglen, size_t cap);

/*
 * fec.c: parity repair (spec §9, DESIGN.md "Parity repair (FEC)"), beside
 * xmit.c. The session offers it in every v5 ANNOUNCE unless --fec off;
 * DECODE receivers' STATUS are counts per FEC block, the rest plain NAKs.
 */
struct sfec;
/* 0, or ENG_ENOMEM. Leaves s->fec NULL when the session does not offer FEC. */
int sfec_new(struct sender *s);
void sfec_free(struct sender *s);
/* The ANNOUNCE's EXT_FEC_INFO (nothing when FEC is not offered). */
void sfec_announce(const struct sender *s, struct wire_announce *a);
/* What d's REGISTER said (DECODE / AGGREGATE). */
void sfec_register(struct sender *s, struct sdest *d, const struct wire_register *r);
/* A regular file's data phase starts (the first pass: proactive parity); false: out of memory. */
bool sfec_file_start(struct sender *s);
void sfec_file_end(struct sender *s);
/* A STATUS of d for a section of the current file: SFEC_PLAIN (NAKed blocks, as
 * without FEC), SFEC_COUNTS (taken as counts), SFEC_STALE (sent before this pass's
 * repair of the section could reach d: ignored, d answers the next DONE again). */
enum { SFEC_PLAIN = 0, SFEC_COUNTS = 1, SFEC_STALE = 2 };
int sfec_status(struct sender *s, struct sdest *d, const struct wire_status *st);
/* The next pass starts: the parity it sends, from the counts. */
void sfec_rewind(struct sender *s);
/* After a pass's first DONE, how long its answers take when every destination reports
 * parity counts (the rewind need not wait 3·GRTT for them); 0: keep the plain rule. */
uint64_t sfec_answer_wait(const struct sender *s);
/* Parity still to send in this pass. */
bool sfec_pending(const struct sender *s);
/* Parity that is due before the data at the cursor: like xmit_data. */
int sfec_xmit(struct sender *s, uint64_t now, struct eng_out *out);

#endif
