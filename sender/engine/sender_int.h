/*
 * Internals of the sender engine (sender/engine.h), shared by its files:
 *   engine.c  lifecycle, the receive pipeline, poll / deadline
 *   phase.c   the session state machine (spec §1.6) and message handlers
 *   xmit.c    building datagrams: control-message jobs and FILESEG batches
 */
#ifndef UFTP_SENDER_INT_H
#define UFTP_SENDER_INT_H

#include "core/crypto/skeys.h"
#include "core/base/elog.h"
#include "core/proto/bitmap.h"
#include "core/proto/blocks.h"
#include "core/proto/grtt.h"
#include "core/proto/idmap.h"
#include "core/proto/pace.h"
#include "core/proto/ratelim.h"
#include "core/wire/msg.h"
#include "sender/engine/engine.h"

/* Per-destination state (the reference's DEST_* values, spec §1.6). */
enum dstate {
    D_MUTE = 0,       /* not registered (closed group) */
    D_REGISTERED = 1, /* REGISTER seen, waiting (keys / FILEINFO_ACK) */
    D_ACTIVE = 2,     /* in the session / receiving the current file */
    D_ACTIVE_NAK = 3, /* sent NAKs this pass: left out of DONE until the rewind */
    D_DONE = 4,       /* COMPLETE received for the current file / session */
    D_LOST = 5,       /* went silent */
    D_ABORT = 6,      /* aborted */
};

struct sdest {
    uint32_t id;
    uint8_t state;       /* enum dstate */
    uint8_t comp_status; /* last COMPLETE status */
    bool conf_sent;      /* REG_CONF / DONE_CONF listed it since its last message */
    bool registered;
    bool rtt_measured;
    bool has_freespace;
    uint16_t nak_strikes;
    uint64_t rtt_us;
    uint64_t freespace;
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
};

/* Phases of the session. */
enum sphase {
    SP_START = 0,
    SP_ANNOUNCE,
    SP_FILEINFO,
    SP_DATA,
    SP_COMPLETION,
    SP_FINISHED,
};

/* A queued control message; list messages are emitted one packet per poll. */
struct sjob {
    uint8_t func;   /* ANNOUNCE, REG_CONF, KEYINFO, FILEINFO, DONE, DONE_CONF, ABORT */
    uint8_t filter; /* dest state listed */
    bool conf;      /* REG_CONF / DONE_CONF: only those not yet confirmed */
    bool proxied;   /* REG_CONF: only clients behind proxies (encrypted sessions) */
    bool anystate;  /* list every destination still in the session, whatever its state */
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
/* Shortest span of the DONEs at the end of a pass (phase.c done_interval()). */
#define SENDER_DONE_SPAN_US 3000000u

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
    bool max_passes_exceeded;
    uint32_t done_attempt;
    uint64_t done_next; /* when the next DONE is due (end of pass) */
    uint64_t rewind_at; /* 0 = no rewind pending */
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

    enum sphase phase;
    bool open_group;
    struct sdest *dests;
    size_t ndest, capdest;
    size_t cnt[7];  /* clients per enum dstate */
    size_t pcnt[7]; /* proxies per enum dstate */
    size_t nproxy;  /* destinations that are proxies */
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

    /* Phase timer: announce / FILEINFO / completion cycles. */
    uint32_t attempt;
    uint64_t next_send;
    bool last_pass;
    bool regdone;

    struct sfile file;
    uint32_t next_index; /* next item of cfg.files */
    uint16_t next_file_id;
    bool files_sent; /* some client completed some file (exit 10 otherwise) */

    struct sjob jobs[SJOB_RING];
    unsigned job_head, job_n;

    bool interrupted;
    int exit_code;
    bool done_reported;

    struct sender_stats st;

    /* Encryption (NULL keys = cleartext session). */
    struct skeys_server *keys;
    struct crypto_key *own_key; /* the ephemeral signing key, when -k gave none */
    size_t moff;                /* where messages start: SKEYS_MSG_OFF or UFTP_HDR_LEN */
    struct ratelim pk;          /* public-key work on unauthenticated input */
    uint64_t pk_log_at;         /* next "rate-limiting" log line */
    uint8_t *scratch;           /* UFTP_MAX_DATAGRAM: trial decryption */
    struct wire_destkey *dk;    /* one KEYINFO's entries */
    const uint8_t *cur_msg;     /* the decrypted message being dispatched */
    size_t cur_len;

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

static inline bool d_error(const struct sdest *d)
{
    return d->state == D_MUTE || d->state == D_LOST || d->state == D_ABORT;
}

/*
 * engine.c: seals a message encoded at p + s->moff (its header at p);
 * 0 = failed (session ended). FILESEG (data) stops short of the key's
 * limit, leaving room for the ABORT that says so.
 */
size_t sender_seal(struct sender *s, uint8_t *p, size_t msglen, size_t cap, bool data);

/* phase.c */
void phase_start(struct sender *s, uint64_t now);
void phase_timers(struct sender *s, uint64_t now);
uint64_t phase_deadline(const struct sender *s);
void phase_dispatch(struct sender *s, const struct addr *from, const struct uftp_hdr *h,
                    const struct wire_msg *m, uint64_t now);
void phase_finish(struct sender *s, int code);
/* Queues ABORT(host 0, flags) and moves every dest whose state is in mask to D_ABORT. */
void phase_abort_all(struct sender *s, const char *why, uint8_t flags, unsigned state_mask);
void phase_data_sent(struct sender *s, uint64_t now);
/* Drops one client (ABORT to it, encrypted): its key was retired. */
void phase_drop_client(struct sender *s, struct sdest *d, const char *why, uint64_t now);

/* xmit.c */
bool job_push(struct sender *s, const struct sjob *j);
void job_list(struct sender *s, uint8_t func, uint8_t filter, bool conf);
/* spec §7.9: in encrypted sessions REG_CONF only names clients behind proxies. */
void job_regconf_proxied(struct sender *s);
/* The same for a proxy's REGISTER after the announce phase: its clients, whatever their state. */
void job_regconf_again(struct sender *s);
void job_done(struct sender *s, uint16_t file_id, uint16_t section);
void job_abort(struct sender *s, uint32_t host, uint8_t flags, const char *text,
               const struct addr *peer);
/* Emits the next packet of the head job into out; false when none is pending. */
bool xmit_job(struct sender *s, uint64_t now, struct eng_out *out);
/* Emits a FILESEG batch when the pacing allows; false when nothing was sent. */
bool xmit_data(struct sender *s, uint64_t now, struct eng_out *out);
/* When the next data batch is due (ENG_NEVER when no data is pending). */
uint64_t xmit_data_due(const struct sender *s, uint64_t now);

#endif
