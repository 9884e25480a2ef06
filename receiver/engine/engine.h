/*
 * The receiver engine (uftpd): the client side of UFTP sessions as a state
 * machine without I/O (DESIGN.md "Engines without I/O", spec §1.6, §2.2).
 *
 * One engine serves up to max_sessions concurrent sessions (spec §4: 100),
 * each keyed by (group_id, group_inst) and checked against its server ID.
 * Per session: REGISTER until confirmed (REG_CONF, or a FILEINFO listing us),
 * then per file FILEINFO → FILEINFO_ACK or COMPLETE, FILESEG into a block
 * bitmap with the data handed to storage, STATUS NAKs at section ends and on
 * DONE, COMPLETE; at the end COMPLETE(0) until DONE_CONF.
 *
 * Use:
 *   struct receiver_config c;  receiver_config_defaults(&c);  ...fill c...
 *   receiver_new(&r, &c, &env);
 *   loop:
 *     per datagram:  receiver_recv(r, &from, &to, pkt, len, tos, now);
 *     then:          while ((k = receiver_poll(r, now, &out)) > 0) act on out;
 *     arm one timer: receiver_deadline(r)
 *     on SIGTERM:    receiver_shutdown(r, now), then poll until ENG_DONE
 *   receiver_free(r);
 *
 * The first polls emit ENG_JOIN for the public addresses (spec §2.2 -M; with
 * -o one source-specific join per server of the -S list that has an address).
 * Each session joins its private group (SSM: with the server, or its
 * proxy, as source) and leaves it when the session ends; memberships shared
 * by several sessions are reference-counted, so JOIN/LEAVE pairs balance.
 *
 * Received names: every FILEINFO name is checked with file_name_check (no
 * "..", ".", empty components, NUL, control characters, backslash; absolute
 * names only strictly under a -D dir, never with -T; spec §6.1) before any
 * storage call. Refused names get COMPLETE(rejected) and a log line. Storage
 * receives only the checked (dest index, relative path) and must resolve it
 * beneath that directory without following symlinks (core/fs/beneath.h).
 *
 * Threading: none; callbacks run only inside receiver_* calls.
 */
#ifndef UFTP_RECEIVER_ENGINE_H
#define UFTP_RECEIVER_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/base/file.h"
#include "core/base/addr.h"
#include "core/base/elog.h"
#include "core/proto/engine.h"
#include "core/wire/wire.h"

struct crypto_key;

/* Limits (spec §4). */
#define RECEIVER_MAX_SESSIONS 100
/* Default budget for public-key work on unauthenticated input: µs of CPU per second. */
#define RECEIVER_PK_BUDGET_US 100000
#define RECEIVER_FP_MAX       64

/* Default --liveness (issue 13): rides out a 10 s outage with room to spare. */
#define RECEIVER_LIVENESS_DEF_US 20000000u

/* An allowed server (-S line: serverID|IP|proxyID|fingerprint). */
struct receiver_server {
    uint32_t id;
    struct addr addr;  /* unset if not given; used only as the SSM source (spec §2.2) */
    uint32_t proxy_id; /* 0 = direct; else the proxy it is reached through (issue 5) */
    uint8_t fp[RECEIVER_FP_MAX];
    uint8_t fplen; /* 0 = no fingerprint (issue 4) */
};

/* A known proxy (-R line: proxyID|IP|fingerprint), issue 5. */
struct receiver_proxy {
    uint32_t id;
    struct addr addr;
    uint8_t fp[RECEIVER_FP_MAX];
    uint8_t fplen;
};

/*
 * Configuration: the uftpd options of spec §2.2 the engine acts on. Options
 * that concern only files on disk (-A backup dirs, -c cache size, -t temp
 * files, the -T directory's path) belong to the shell's storage. Arrays and
 * strings are borrowed and must stay valid until receiver_free.
 */
struct receiver_config {
    uint32_t client_id; /* -U, or derived from the first interface; nonzero */

    /* -M (with -p as the port): public addresses to join; IPv4 and IPv6 may mix. */
    const struct addr *pub_addrs;
    size_t npub;
    bool ssm; /* -o: source-specific joins (needs servers with addresses) */

    /* -S: when nserver > 0, sessions from other server IDs are refused. */
    const struct receiver_server *servers;
    size_t nserver;
    /* -R: proxies (issue 5). */
    const struct receiver_proxy *proxies;
    size_t nproxy;

    /*
     * -D: destination dirs, absolute paths, at most FILE_MAX_DIRS. Only their
     * text is used here (to place absolute names); storage opens them.
     */
    const char *const *dests;
    size_t ndest;
    /* -T given: receive into the session's temp dir, refuse absolute names,
     * and call storage.session_end to move the files at the end. */
    bool temp_dir;
    /*
     * Received symlinks (--symlinks, issue 14 item 6): FILE_LINK_BENEATH (the
     * default: the target must resolve inside the destination dir),
     * FILE_LINK_NONE (refused), 0 (any target, as 5.0.1), or the
     * FILE_LINK_NO_ABS / FILE_LINK_NO_DOTDOT flags.
     */
    unsigned link_policy;

    unsigned max_sessions; /* 1..RECEIVER_MAX_SESSIONS, default 100 */
    bool encrypted_only;   /* -E: refuse sessions without encryption */
    /*
     * -k/-K: our signing key for client authentication (CLIENT_KEY, spec
     * §1.8), borrowed; NULL = an ephemeral EC P-256 key made when a server
     * first asks for one (as 5.0.x makes one at start).
     */
    const struct crypto_key *sigkey;
    /*
     * Public-key work unauthenticated packets may cost (ANNOUNCE signature
     * and key exchange for a new session, KEYINFO and repeated ANNOUNCE
     * signatures), estimated µs of CPU per second; 0 = unlimited. Default
     * RECEIVER_PK_BUDGET_US. Over budget the packet is dropped (the server
     * resends) with one log line per second.
     */
    uint32_t pk_budget_us;
    /*
     * Issue 14: the longest an unconfirmed session (waiting for REG_CONF,
     * KEYINFO or PROXY_KEY) holds its slot, whatever ROBUST x GRTT the
     * server claims (--unconfirmed-timeout; default CLAIMS_UNCONFIRMED_DEF_US).
     */
    uint64_t unconfirmed_us;
    /*
     * Issue 13: the longest a running session waits in silence from its
     * server (a path outage) before it gives up, however short ROBUST x
     * GRTT is; also how long COMPLETE(0) is resent without DONE_CONF
     * (--liveness; default RECEIVER_LIVENESS_DEF_US, 1..3600 s).
     */
    uint64_t liveness_us;
    /*
     * Signed ANNOUNCEs whose timestamp is further than this from our clock
     * are refused as replays, and a session already started is not started
     * again within it (--announce-window; core/proto/fresh.h). 0 = off.
     */
    uint64_t announce_window_us;

    /*
     * -r host[/fp]: a v4 response proxy (spec §1.9 item 4). KEY_REQ goes
     * there every 5 s until its v4 PROXY_KEY arrives from exactly that
     * address (fingerprint checked when fplen > 0, SHA-1 signature over the
     * nonce); v4 sessions then exchange keys with its ECDH key and send
     * every reply to it. Unset: none.
     */
    struct addr resp_proxy;
    uint8_t resp_proxy_fp[RECEIVER_FP_MAX];
    uint8_t resp_proxy_fplen;

    /*
     * -H / -h: proxies to send heartbeats to (spec §1.8, §2.2), so a NAT in
     * between keeps a pinhole open and a server proxy with -s fp=... learns
     * where we are; signed with sigkey (or the ephemeral key) when challenged.
     */
    const struct addr *hb_hosts;
    size_t nhb;
    uint64_t hb_interval_us; /* 1..3600 s, default 20 s */

    /* realtime − monotonic, µs: wire timestamps are now_us + wall_offset_us. */
    int64_t wall_offset_us;

    /*
     * Ours (issue 17, spec §9): a v5 session whose ANNOUNCE offers parity
     * repair is answered DECODE in REGISTER, and FEC_PARITY rebuilds lost
     * blocks (storage.read needed). fec_off: never (as a reference receiver).
     */
    bool fec_off;
};

/* Fills *c with the defaults of spec §2.2 (no addresses, ID 0, no dests). */
void receiver_config_defaults(struct receiver_config *c);

/*
 * What storage is asked to act on. Strings are NUL-terminated and valid
 * only during the callback.
 */
struct receiver_file {
    uint32_t server_id;
    uint32_t group_id;
    uint8_t group_inst;
    uint16_t file_id;
    uint8_t ftype;    /* FTYPE_REG, _DIR, _LINK, _DELETE, _FREESPACE */
    size_t dest;      /* index into config.dests */
    const char *rel;  /* checked, relative to dests[dest] (with -T: to the session temp dir);
                       * "." for FTYPE_FREESPACE (the dest dir itself) */
    const char *name; /* the name as received, for logs and status lines */
    const char *link; /* FTYPE_LINK: the target (checked against link_policy); else "" */
    uint64_t size;    /* FTYPE_REG */
    int64_t mtime;    /* file time, Unix seconds */
    /* FTYPE_REG in sync mode: an existing file is being replaced (back it up with -A). */
    bool overwrite;
    /*
     * Issue 13 (restart, -T): the session's block size, and the SHA-1
     * fingerprint of its server's key (server_fplen 0 in clear): restart
     * state is resumed only by the same server ID with the same key.
     */
    uint16_t blocksize;
    const uint8_t *server_fp;
    uint8_t server_fplen;
};

/* receiver_storage.close() modes. */
enum receiver_close {
    RECEIVER_CLOSE_DONE = 0,  /* every block written: flush, set mtime, make it visible */
    RECEIVER_CLOSE_ABORT = 1, /* the file failed: discard what was written */
    /* Issue 13: the session failed (timeout, ABORT, shutdown): storage that keeps
     * restart state (-T) keeps what was written; other storage discards it. */
    RECEIVER_CLOSE_KEEP = 2,
};

/* receiver_storage.open() results besides 0 and negative codes. */
#define RECEIVER_OPEN_COMPLETE 1 /* already complete (restart): COMPLETE, nothing written */
#define RECEIVER_OPEN_PARTIAL  2 /* reopened partial (restart): held() says which blocks */

/*
 * The daemon's file system (core/fs beneath the -D dirs in uftpd, memory in
 * the simulator). Unless said otherwise callbacks return 0 or a negative
 * errno / FS_E* code (core/fs/fs.h), which the engine logs with file_strerror.
 *
 * The invariant storage must keep: a file whose transfer failed is never left
 * looking complete at its final name. close(RECEIVER_CLOSE_ABORT) discards it
 * (a temp file is removed; a file written in place is removed), and a file is
 * only renamed into place by close(RECEIVER_CLOSE_DONE) returning 0.
 */
struct receiver_storage {
    /*
     * Opens (creating or truncating) the regular file f for writing; f->size
     * bytes will follow. Returns 0 and sets *h, or 1 when the file is already
     * complete (restart; COMPLETE is sent and nothing is written), or 2 with
     * *h when part of it is kept from an earlier instance of the session
     * (restart, issue 13: FILEINFO_ACK says PARTIAL, held() gives the
     * blocks on disk and only the others are NAKed and written), or a
     * negative code: COMPLETE(rejected) is sent for this file and the
     * session goes on (spec §1.6, as 5.0.1 does on open failure).
     */
    int (*open)(void *ctx, const struct receiver_file *f, void **h);
    /*
     * Stores len bytes of the file at offset off (one FILESEG block; the
     * real storage coalesces them in its -c cache). May be called in any
     * order, never twice for the same block. A negative return (-ENOSPC,
     * -EIO, ...) fails the file: the engine logs it, calls close(ABORT) and
     * answers COMPLETE(rejected) so the session goes on with the next file.
     */
    int (*write)(void *ctx, void *h, uint64_t off, const void *data, size_t len);
    /*
     * Ends a file opened by open; h is freed in either mode. With
     * RECEIVER_CLOSE_DONE a negative return (a failed flush) means the file
     * was discarded and the engine reports it rejected. Called exactly once
     * per handle.
     */
    int (*close)(void *ctx, void *h, enum receiver_close how, const struct receiver_file *f);
    /* Creates the empty directory f (and its parents). Returns 0, 1 when it already
     * existed (COMPLETE skipped, as 5.0.1 answers), or negative (rejected). */
    int (*mkdir)(void *ctx, const struct receiver_file *f);
    /* Creates the symlink f -> f->link, replacing an existing non-directory. */
    int (*symlink)(void *ctx, const struct receiver_file *f);
    /* @DELETE: removes f (file, link or tree; with -A moves it to backup). -ENOENT is fine. */
    int (*remove)(void *ctx, const struct receiver_file *f);
    /* Free bytes where f would be written (@FREESPACE, and the size check before a file). */
    int (*free_space)(void *ctx, const struct receiver_file *f, uint64_t *avail);
    /* lstat of f (sync mode, existing directories). -ENOENT when absent. */
    int (*stat)(void *ctx, const struct receiver_file *f, struct file_stat *st);
    /*
     * A session ended: completed is true after DONE_CONF (or its timeout
     * once all files were received), false on abort. With -T this is where
     * the session's temp dir is moved into the dest (or left for a restart).
     * May be NULL.
     */
    void (*session_end)(void *ctx, uint32_t server_id, uint32_t group_id, uint8_t group_inst,
                        bool completed);
    /* After open returned 2: whether block i (of f->blocksize bytes) of h is on disk.
     * May be NULL when open never returns 2. */
    bool (*held)(void *ctx, void *h, uint32_t block);
    /*
     * Reads back len bytes written at off (blocks already written, for
     * parity decoding, issue 17). 0 or a negative code (the file fails as
     * for write). May be NULL: the receiver then never offers to decode.
     */
    int (*read)(void *ctx, void *h, uint64_t off, void *data, size_t len);
};

/* Outcomes reported through receiver_env.event (status file -F, post-receive -s; issue 7). */
enum receiver_event_kind {
    RECEIVER_EV_CONNECT, /* a session was accepted and registered */
    RECEIVER_EV_RESULT,  /* a file ended: status = COMP_STAT_* sent, ok = written */
    RECEIVER_EV_END,     /* a session ended: ok = completed */
};

struct receiver_event {
    enum receiver_event_kind kind;
    uint32_t server_id;
    uint32_t group_id;
    uint8_t group_inst;
    const struct addr *server_addr;
    const struct receiver_file *file; /* RESULT only; valid during the callback */
    uint8_t status;                   /* RESULT: COMP_STAT_* */
    bool ok;
};

struct receiver_env {
    void *ctx;
    /* Fills buf with len random bytes (CSPRNG in uftpd, seeded PRNG in the sim). 0 or negative. */
    int (*rng)(void *ctx, void *buf, size_t len);
    struct receiver_storage storage;
    /*
     * Where the engine logs (core/base/elog.h): the program passes
     * log_elog() (core/log.h), the simulator and fuzz targets their own.
     * All zero logs nothing.
     */
    struct elog log;
    /* Optional: session and file outcomes. */
    void (*event)(void *ctx, const struct receiver_event *ev);
};

struct receiver;

/*
 * Creates the engine. Copies *cfg and *env (not what they point to).
 * Errors: ENG_EINVAL (client_id 0 or 0xFFFFFFFF, no dest dir, more than
 * FILE_MAX_DIRS dests or a relative one, max_sessions out of range, -o
 * without a server address, a callback missing), ENG_ENOMEM.
 */
int receiver_new(struct receiver **out, const struct receiver_config *cfg,
                 const struct receiver_env *env);

/*
 * Feeds one datagram (see sender_recv in sender/engine.h for the
 * arguments). The pipeline: length → header (version, role) → session
 * lookup → authentication (decryption in place with the replay window, or
 * the cleartext rules of spec §1.4; signatures of ANNOUNCE and KEYINFO) →
 * sequence window → one handler per message type. Bad input is logged at
 * LL_PROTO and dropped; this never fails. Replies come from receiver_poll.
 */
void receiver_recv(struct receiver *r, const struct addr *from, const struct addr *to, uint8_t *pkt,
                   size_t len, uint8_t tos, uint64_t now_us);

/*
 * Next output (core/proto/engine.h). Returns the kind, or ENG_ENOSPC when
 * out's buffer is unusable. The receiver sends one datagram per SEND.
 */
int receiver_poll(struct receiver *r, uint64_t now_us, struct eng_out *out);

/* Absolute µs at which receiver_poll must next be called (ENG_NEVER = none). */
uint64_t receiver_deadline(const struct receiver *r);

/*
 * Daemon shutdown: every session is aborted (ABORT to its server, open
 * files closed with RECEIVER_CLOSE_ABORT), groups are left, then ENG_DONE
 * with exit code 0. Idempotent.
 */
void receiver_shutdown(struct receiver *r, uint64_t now_us);

/*
 * SIGHUP (issue 7): replaces the -S and -R lists for sessions announced
 * from now on; sessions in progress keep running. The arrays are borrowed
 * as in receiver_new, and the previous ones are not used once this returns
 * (sessions copy what they need at ANNOUNCE, never keep pointers into
 * them). Returns 0, or ENG_EINVAL with -o (the server list decided the
 * public joins: a restart is needed) or for a missing array.
 */
int receiver_set_trust(struct receiver *r, const struct receiver_server *servers, size_t nserver,
                       const struct receiver_proxy *proxies, size_t nproxy);

/* Why a session ended without completing (receiver_stats.sessions_failed). */
enum receiver_fail {
    RECEIVER_FAIL_SERVER = 0, /* the server's ABORT */
    RECEIVER_FAIL_TIMEOUT,    /* a timer gave up (registration, data, the server gone) */
    RECEIVER_FAIL_ERROR,      /* refused or failed here (a name, the disk, keys) */
    RECEIVER_FAIL_SECURITY,   /* forged packets or a crypto failure: quit without telling */
    RECEIVER_FAIL_SHUTDOWN,   /* the daemon stopped */
    RECEIVER_FAIL_N
};

struct receiver_stats {
    uint32_t sessions;      /* current */
    uint64_t sessions_seen; /* accepted since start */
    uint64_t files_ok;      /* files received (COMPLETE normal/overwrite) */
    uint64_t files_failed;  /* rejected or aborted files */
    uint64_t data_packets;  /* FILESEG accepted (new blocks) */
    uint64_t data_bytes;
    uint64_t dup_packets; /* FILESEG for blocks already held */
    uint64_t dropped;     /* datagrams dropped by the pipeline */
    /* Encryption: datagrams dropped by the authentication step (also in dropped). */
    uint64_t auth_failed; /* did not authenticate, or a bad signature */
    uint64_t replayed;    /* counter already seen or behind the window */
    uint64_t cleartext;   /* cleartext where the session requires encryption */
    uint64_t nokeys;      /* ENCRYPTED for a session without keys yet */
    uint64_t pk_limited;  /* dropped by the public-key budget */
    /* Issue 14. */
    uint64_t amp_held; /* replies not sent: beyond 3 x what the peer sent (core/proto/amp.h) */
    uint64_t
        evicted; /* unconfirmed sessions that gave their slot to another (core/proto/admit.h) */
    uint64_t slots_full; /* ANNOUNCEs refused: no slot could be had */
    uint64_t stale;      /* signed ANNOUNCEs refused as replays (core/proto/fresh.h) */
    /* Issue 15 (the daemon's metrics). */
    uint64_t malformed;        /* too short, not UFTP, undecodable (also in dropped) */
    uint64_t pk_done;          /* public-key work admitted by the budget */
    uint64_t nak_packets;      /* STATUS messages sent */
    uint64_t nak_blocks;       /* blocks asked for again in them */
    uint64_t sessions_refused; /* ANNOUNCEs refused by policy (-S, -E, a bad ANNOUNCE) */
    uint64_t sessions_completed;
    uint64_t sessions_failed[RECEIVER_FAIL_N]; /* by enum receiver_fail */
    /* Issue 17 (spec §9). */
    uint64_t fec_parity;  /* FEC_PARITY accepted */
    uint64_t fec_decoded; /* blocks rebuilt from parity (their bytes are in data_bytes) */
    uint64_t fec_dropped; /* FEC_PARITY refused (spec §9.3 checks, store full) */
};

void receiver_stats(const struct receiver *r, struct receiver_stats *st);
/* receiver_stats' sessions alone, without copying the rest (a host polling it often). */
unsigned receiver_sessions(const struct receiver *r);

/* Frees the engine; open files are closed with RECEIVER_CLOSE_ABORT. NULL is a no-op. */
void receiver_free(struct receiver *r);

#endif
