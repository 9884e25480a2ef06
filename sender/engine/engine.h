/*
 * The sender engine (uftp): the server side of a UFTP session as a state
 * machine without I/O (DESIGN.md "Engines without I/O", spec §1.6).
 *
 * One engine = one session: announce/register, then each file in turn
 * (FILEINFO, FILESEG passes, DONE), then completion (DONE 0 / DONE_CONF),
 * then ENG_DONE with the exit code of spec §2.1.
 *
 * Use:
 *   struct sender_config c;  sender_config_defaults(&c);  ...fill c...
 *   sender_new(&s, &c, &env);
 *   loop:
 *     on a datagram:  sender_recv(s, &from, &to, pkt, len, tos, now);
 *     always then:    while ((k = sender_poll(s, now, &out)) > 0) act on out;
 *     arm one timer:  sender_deadline(s) (absolute µs, ENG_NEVER = none)
 *     on SIGINT:      sender_interrupt(s, now), then keep polling until ENG_DONE
 *   sender_free(s);
 *
 * Until ENG_DONE the engine needs the shell to keep polling at the deadline;
 * the first poll starts the session (the initial deadline is 0).
 *
 * Threading: none. An engine is used from one thread; the callbacks are
 * called only from inside sender_new/recv/poll/interrupt/free.
 */
#ifndef UFTP_SENDER_ENGINE_H
#define UFTP_SENDER_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "core/base/file.h"
#include "core/base/addr.h"
#include "core/base/elog.h"
#include "core/proto/engine.h"
#include "core/wire/wire.h"

/* Exit codes (spec §2.1; the values of the reference's ERR_* constants). */
enum sender_exit {
    SENDER_EXIT_OK = 0,
    SENDER_EXIT_PARAM = 1,
    SENDER_EXIT_SOCKET = 2,
    SENDER_EXIT_CRYPTO = 3,
    SENDER_EXIT_LOGGING = 4,
    SENDER_EXIT_ALLOC = 5,
    SENDER_EXIT_INTERRUPTED = 6, /* sender_interrupt() */
    SENDER_EXIT_NO_REGISTER = 7, /* nobody registered */
    SENDER_EXIT_NO_FILEINFO = 8, /* nobody answered a FILEINFO */
    SENDER_EXIT_DROPPED = 9,     /* every client lost or aborted (any, with -q) */
    SENDER_EXIT_NO_FILES = 10,   /* finished, but no file reached anyone */
};

struct crypto_key;

/* Limits (spec §4). */
#define SENDER_MAX_DEST 100000
/*
 * Usage-limit pre-check (issue 4): v5 cannot re-key within a session, so
 * a session whose data would need more packets under the server key than
 * the cipher's limit allows is refused before it starts. Each file is
 * counted as SENDER_LIMIT_PASSES full passes (i.e. up to 100 % of it sent
 * again), or -a passes if fewer, plus ROBUST rounds of control messages
 * per file and pass. The engine also stops at the real limit at run time.
 */
#define SENDER_LIMIT_PASSES 2
/* Default budget for public-key work on unauthenticated input: µs of CPU per second. */
#define SENDER_PK_BUDGET_US 250000
#define SENDER_FP_MAX       64 /* key fingerprint bytes (SHA-1 uses 20) */
/* Default --liveness (issue 13): rides out a 10 s outage with room to spare. */
#define SENDER_LIVENESS_DEF_US 20000000u

/*
 * A destination of a closed group (-H) or an expected proxy (-j). The
 * fingerprint is used by issue 4's client authentication (-c) only; leave
 * fplen 0 for none.
 */
struct sender_dest {
    uint32_t id; /* never 0 or 0xFFFFFFFF */
    uint8_t fp[SENDER_FP_MAX];
    uint8_t fplen;
};

/*
 * Configuration: every sender option of spec §2.1 the engine acts on. The
 * shell parses and range-checks them (core/conf); sender_new checks again
 * and refuses (ENG_EINVAL, with a log line) anything out of range.
 * Times are in microseconds, rates in the units of the option.
 */
struct sender_config {
    /*
     * -M/-p: where ANNOUNCE goes. A multicast address gives the normal
     * mode; a unicast address gives unicast mode (spec §2.1): both ANNOUNCE
     * address fields are zero and everything goes to this address. Its
     * family sets FLAG_IPV6 and the IP header size used for pacing.
     */
    struct addr pub;
    /* -P/-p: the private (data) group, 'x' parts already expanded by the
     * shell; same family as pub. Ignored in unicast mode. */
    struct addr priv;
    uint32_t server_id; /* -U, or derived from the interface by the shell; nonzero */
    uint32_t group_id;  /* 0 = draw one from env->rng (restart -F passes the old one) */
    uint8_t group_inst; /* 0, or the restart instance */

    uint16_t blocksize;    /* -b: 512..8800, default 1300 */
    int64_t rate_kbps;     /* -R: 1..2^30 Kbps (1 Kbps = 1024 bit/s), -1 = unpaced; 1000 */
    uint64_t grtt_init_us; /* -r init: default 500000 */
    uint64_t grtt_min_us;  /* -r min: default 10000 */
    uint64_t grtt_max_us; /* -r max: default 15000000; 1000 µs ≤ min ≤ init ≤ max ≤ 1000 s */
    uint8_t robust;       /* -s: 10..50, default 20 */
    uint8_t cc_type;      /* -C: CC_NONE or CC_TFMCC (spec §1.7; others refused) */
    uint8_t nak_pct;      /* -N: 0..100, default 100 (100 = no policing) */
    uint16_t nak_strikes;  /* -m: 1..1000, default 1 */
    uint16_t max_passes;   /* -a: 1..65535, default 65535 */
    uint16_t max_time_pct; /* -W: 0 = none, else 110..10000 (fixed rate only) */
    /* -C tfmcc:min=K:init=K:max=K in B/s, 0 = not given; min <= init <= max (spec §1.7). */
    uint64_t cc_min_Bps, cc_init_Bps, cc_max_Bps;
    bool quit_on_error; /* -q */
    bool sync_mode;     /* -z */
    bool sync_preview;  /* -Z (implies sync_mode) */

    /*
     * --liveness: how long a receiver that owes an answer (FILEINFO_ACK,
     * COMPLETE, the NAKs after a pass) may stay silent before it is lost,
     * counted from when we started asking; the ROBUST rounds of 3·GRTT
     * still set how often we ask (repair pacing). 1..3600 s, default
     * SENDER_LIVENESS_DEF_US: a total outage of the path shorter than this
     * is ridden out (spec §2.1 --liveness, issue 13).
     */
    uint64_t liveness_us;

    /*
     * Encryption (spec §1.8, §2.1): -Y keytype (KEY_NONE = cleartext,
     * KEY_AES128_GCM..KEY_AES256_CCM; default KEY_AES256_GCM, as 5.0.x),
     * -h hashtype (HASH_SHA256..512), -e ECDH curve (CURVE_P256..P521),
     * -c client authentication (CLIENT_KEY, checked against the -H/-j
     * fingerprints), -k/-K the signing key (private RSA or EC, borrowed;
     * NULL = an ephemeral EC P-256 key made by sender_new).
     */
    uint8_t keytype;
    uint8_t hashtype;
    uint8_t curve;
    bool client_auth;
    const struct crypto_key *sigkey;
    /*
     * --protocol: UFTP_VER5 (0 means the same) or UFTP_VER4 to drive 4.x
     * receivers (spec §1.9): v4 timestamps and file times, and with
     * encryption the v4 key schedule (ECDH_ECDSA or ECDH_RSA after the
     * signing key, AUTHENC, unsigned KEYINFO, cleartext CLIENT_KEY).
     */
    uint8_t version;
    /*
     * Public-key work that REGISTER and CLIENT_KEY (unauthenticated until
     * verified) may cost, in estimated µs of CPU per second; 0 = unlimited.
     * Default SENDER_PK_BUDGET_US. Over budget they are dropped (the
     * client resends) with one log line per second.
     */
    uint32_t pk_budget_us;
    /* Tests only: lower the server key's usage limit to this many cipher
     * blocks after the pre-check (0 = the cipher's own limit). */
    uint64_t key_limit_blocks;

    /* -H: closed group when ndest > 0, else open. Borrowed until sender_free. */
    const struct sender_dest *dests;
    size_t ndest;
    /* -j: proxies expected to register (issue 5). Borrowed. */
    const struct sender_dest *proxies;
    size_t nproxy;

    /*
     * The files to send, in order, as produced by fs_walk_next() (the shell
     * copies each item's strings, since the walker reuses them). Borrowed:
     * the array and its strings must stay valid until sender_free.
     * FTYPE_DELETE / FTYPE_FREESPACE items are the @DELETE / @FREESPACE
     * pseudo-files. A regular file's size and mtime are taken from the item.
     */
    const struct file_item *files;
    size_t nfiles;

    /* realtime − monotonic, µs: wire timestamps are now_us + wall_offset_us (spec §1.3). */
    int64_t wall_offset_us;

    /*
     * --fec (ours, issue 17, spec §9): every v5 session offers parity repair
     * (EXT_FEC_INFO in ANNOUNCE) unless fec_off; receivers that answer DECODE
     * get parity instead of their NAKed blocks. fec_pct (0..100): proactive
     * parity in the first pass, per FEC block; fec_k: the FEC block size K
     * (0 = FEC_DEF_K, else 2..255).
     */
    bool fec_off;
    uint8_t fec_pct;
    uint8_t fec_k;
};

/* Fills *c with the defaults of spec §2.1 (addresses unset, ids 0, no files). */
void sender_config_defaults(struct sender_config *c);

/*
 * File contents, read through the shell (real files via pread in uftp,
 * memory in the simulator). Handles are opaque to the engine.
 */
struct sender_storage {
    /*
     * Opens it->path (a FTYPE_REG item) for reading. Returns 0 and sets *h,
     * or a negative errno: the file is then skipped with a log line before
     * any FILEINFO, as the reference does, and the session goes on.
     */
    int (*open)(void *ctx, const struct file_item *it, void **h);
    /*
     * Reads iov[0..iovcnt) (total n bytes, iovcnt ≤ ENG_MAX_SEG) from offset
     * off: one call per FILESEG batch (one preadv in the real shell).
     * Returns n, or fewer when the file shrank, or a negative errno. Either
     * failure aborts the clients still receiving the file (ABORT with
     * FLAG_CURRENT_FILE: receivers that already hold it stay, spec §1.4);
     * the session goes on with the others.
     */
    ssize_t (*read)(void *ctx, void *h, uint64_t off, const struct iovec *iov, int iovcnt);
    /* Releases h; called exactly once per successful open. */
    void (*close)(void *ctx, void *h);
};

/* Per-client outcomes reported through sender_env.event (status file, issue 7). */
enum sender_result {
    SENDER_RES_COPY = 0,      /* COMPLETE normal */
    SENDER_RES_SKIPPED = 1,   /* COMPLETE skipped (sync mode) */
    SENDER_RES_OVERWRITE = 2, /* COMPLETE overwrite (sync mode) */
    SENDER_RES_REJECTED = 3,  /* COMPLETE rejected */
    SENDER_RES_MUTE = 4,      /* never answered FILEINFO */
    SENDER_RES_LOST = 5,      /* went silent */
    SENDER_RES_ABORTED = 6,   /* aborted (by itself or by us) */
};

enum sender_event_kind {
    SENDER_EV_CONNECT,   /* end of registration: client_id, ok (spec §2.1 CONNECT line) */
    SENDER_EV_FILE,      /* a file's transfer ends: file, file_id, elapsed_us */
    SENDER_EV_RESULT,    /* client_id's outcome for file: result */
    SENDER_EV_FREESPACE, /* client_id reported freespace bytes (@FREESPACE) */
    SENDER_EV_LEFT,      /* client_id left the session: result LOST or ABORTED, text why */
};

struct sender_event {
    enum sender_event_kind kind;
    uint32_t client_id;
    bool ok;
    const struct file_item *file; /* points into config.files */
    uint16_t file_id;
    enum sender_result result;
    uint64_t freespace;
    uint64_t elapsed_us; /* SENDER_EV_FILE / RESULT: time since the file's FILEINFO */
    const char *text;    /* SENDER_EV_LEFT: why, printable ASCII; valid during the call */
};

struct sender_env {
    void *ctx; /* passed to every callback */
    /*
     * Fills buf with len random bytes. The shell passes the OS CSPRNG, the
     * simulator a seeded PRNG. Returns 0, or negative on failure.
     */
    int (*rng)(void *ctx, void *buf, size_t len);
    struct sender_storage storage;
    /*
     * Where the engine logs (core/base/elog.h): the program passes
     * log_elog() (core/log.h), the simulator and fuzz targets their own.
     * All zero logs nothing.
     */
    struct elog log;
    /* Optional (may be NULL): session events for status files and progress. */
    void (*event)(void *ctx, const struct sender_event *ev);
};

struct sender;

/*
 * Creates a session. Copies *cfg and *env (not the arrays they point to).
 * Draws the group ID from env->rng if cfg->group_id is 0. Sends nothing
 * yet: the first sender_poll starts the announce phase.
 * Errors: ENG_EINVAL (a config value out of range, missing address,
 * pub/priv of different families, a closed group with an invalid ID or
 * more than SENDER_MAX_DEST receivers or proxies, a storage/rng callback missing),
 * ENG_ENOMEM, ENG_ERNG. *out is NULL on error.
 */
int sender_new(struct sender **out, const struct sender_config *cfg, const struct sender_env *env);

/*
 * Feeds one received datagram: pkt[0..len) from `from` (the peer's address
 * and port), to `to` (the local destination address, or NULL when the
 * shell does not know it), with IP TOS byte tos, received at now_us.
 * pkt is writable so that decryption can work in place (issue 4); the
 * engine does not keep it. Invalid, unexpected or unauthenticated
 * datagrams are logged at LL_PROTO and dropped: this never fails.
 * Replies are not produced here; call sender_poll afterwards.
 */
void sender_recv(struct sender *s, const struct addr *from, const struct addr *to, uint8_t *pkt,
                 size_t len, uint8_t tos, uint64_t now_us);

/*
 * Produces the next output at now_us into *out (see core/proto/engine.h).
 * Returns the kind written (ENG_NONE = nothing to do before the deadline or
 * the next datagram), or ENG_ENOSPC when out's buffer is unusable.
 * Data come as ENG_SEND batches of FILESEG (at most out->max_seg), paced at
 * -R: when the rate allows no packet yet, poll returns ENG_NONE and the
 * deadline says when the next batch is due. With -R -1 every poll yields a
 * batch while there is data to send; the shell should return to its event
 * loop every few batches (or on EAGAIN) so that replies get read.
 */
int sender_poll(struct sender *s, uint64_t now_us, struct eng_out *out);

/* Absolute µs at which sender_poll must next be called; ENG_NEVER after ENG_DONE. */
uint64_t sender_deadline(const struct sender *s);

/*
 * The user interrupted (SIGINT/SIGTERM): ABORT goes to everyone, then
 * ENG_DONE with SENDER_EXIT_INTERRUPTED. Idempotent.
 */
void sender_interrupt(struct sender *s, uint64_t now_us);

/* Progress, for the shell's status line and the final summary. */
struct sender_stats {
    uint32_t group_id;
    uint8_t group_inst;
    int phase;             /* enum sender_phase_id below */
    uint64_t grtt_us;      /* the GRTT currently advertised */
    uint32_t clients;      /* registered clients (closed group: of ndest) */
    uint32_t active;       /* clients still in the session */
    uint32_t file_index;   /* index into config.files of the current file */
    uint16_t file_id;      /* 0 outside the file phase */
    uint64_t file_size;    /* current file */
    uint32_t pass;         /* current pass over the current file, from 1 */
    uint32_t section;      /* section being sent */
    uint64_t data_packets; /* FILESEG sent in the session */
    uint64_t data_bytes;   /* FILESEG payload bytes sent in the session */
    uint64_t naks;         /* NAKed blocks received in the session */
    uint64_t fec_packets;  /* FEC_PARITY sent in the session (issue 17) */
    uint64_t fec_bytes;    /* their parity bytes */
    uint32_t fec_decoders; /* receivers that answered DECODE */
    uint32_t files_done;   /* files finished (whatever the outcome) */
    /* Encryption: datagrams dropped by the authentication step. */
    uint64_t auth_failed; /* did not authenticate (forged, corrupted, wrong key) */
    uint64_t replayed;    /* counter already seen or behind the window */
    uint64_t cleartext;   /* cleartext where encryption is required */
    uint64_t nokeys;      /* ENCRYPTED from a client without keys (spec §6.3) */
    uint64_t pk_limited;  /* REGISTER / CLIENT_KEY dropped by the public-key budget */
    /* -C tfmcc: the current rate (B/s) and the CLR's ID (0 = none). */
    uint64_t rate_Bps;
    uint32_t clr_id;
};

enum sender_phase_id {
    SENDER_PH_START = 0,
    SENDER_PH_ANNOUNCE = 1,
    SENDER_PH_FILEINFO = 2,
    SENDER_PH_DATA = 3,
    SENDER_PH_DONE = 4, /* DONE for a file */
    SENDER_PH_COMPLETION = 5,
    SENDER_PH_FINISHED = 6,
};

void sender_stats(const struct sender *s, struct sender_stats *st);

/* Frees the engine; closes any open storage handle. NULL is a no-op. */
void sender_free(struct sender *s);

#endif
