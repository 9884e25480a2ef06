/*
 * The proxy engine (uftpproxyd): the three proxy roles of spec §3 as a
 * state machine without I/O (DESIGN.md "Engines without I/O"), in the
 * style of the sender and receiver engines.
 *
 *   PROXY_SERVER    (-s host | -s fp=FP) the upstream end of a multicast
 *                   tunnel: joins the public groups and each session's
 *                   private group, forwards everything from the server to
 *                   the downstream proxy by unicast and everything else back
 *                   to the server (spec §3.1). In fingerprint mode the
 *                   downstream address is learned from authenticated
 *                   heartbeats only, and follows a NAT'd peer whose address
 *                   changes; until one is known only heartbeats are handled.
 *   PROXY_CLIENT    (-c) the downstream end: re-multicasts the tunnelled
 *                   session on its network, sends PROXY_KEY, re-keys its
 *                   clients and aggregates their answers (spec §3.2, §3.4).
 *   PROXY_RESPONSE  (-r) aggregation and re-keying only, for a server that
 *                   reaches the clients by multicast itself (spec §3.3).
 *
 * Any role sends heartbeats to the -H hosts and answers HB_REQ (spec §1.8).
 *
 * Use (as sender_* / receiver_*):
 *   proxy_config_defaults(&c); ...fill c...; proxy_new(&p, &c, &env);
 *   per datagram:  proxy_recv(p, &from, &to, pkt, len, tos, now);
 *   then:          while ((k = proxy_poll(p, now, &out)) > 0) act on out;
 *   one timer at:  proxy_deadline(p)
 *   on SIGTERM:    proxy_shutdown(p, now), then poll until ENG_DONE
 *   proxy_free(p);
 *
 * Outputs (core/proto/engine.h): ENG_SEND (forwarded datagrams of equal
 * size to one destination come out as one batch), ENG_JOIN / ENG_LEAVE
 * (reference-counted), ENG_DONE after proxy_shutdown. Forwarded datagrams
 * wait in a bounded queue (queue_bytes) between proxy_recv and proxy_poll;
 * when the shell falls behind so far that it is full, datagrams are
 * dropped and counted, as a full socket buffer would.
 *
 * Limits (spec §4) on what peers can make it hold: max_sessions sessions,
 * max_clients clients per session, max_pending pending aggregates per
 * session; each refusal is logged once per session (or once per minute).
 *
 * Threading: none; callbacks run only inside proxy_* calls.
 */
#ifndef UFTP_PROXY_ENGINE_H
#define UFTP_PROXY_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/base/addr.h"
#include "core/base/elog.h"
#include "core/proto/engine.h"
#include "core/wire/wire.h"

struct crypto_key;

enum proxy_role {
    PROXY_SERVER = 1,
    PROXY_CLIENT = 2,
    PROXY_RESPONSE = 3,
};

/* Exit codes (spec §2.3: as uftpd's). */
enum proxy_exit {
    PROXY_EXIT_OK = 0,
    PROXY_EXIT_PARAM = 1,
    PROXY_EXIT_SOCKET = 2,
    PROXY_EXIT_CRYPTO = 3,
    PROXY_EXIT_LOGGING = 4,
    PROXY_EXIT_ALLOC = 5,
    PROXY_EXIT_INTERRUPTED = 6,
};

/*
 * spec §4 proxy limits; clients per session as many as a sender takes
 * (5.0.1: 1,000, MAXPROXYDEST), so that one proxy can serve a site of
 * thousands (issue 16): the table grows with the clients that register.
 */
#define PROXY_MAX_SESSIONS 100
#define PROXY_MAX_CLIENTS  100000
#define PROXY_MAX_PENDING  10
#define PROXY_MAX_KEYS     100
#define PROXY_MAX_LIST     100 /* -S, -C, -H entries */
#define PROXY_FP_MAX       64
#define PROXY_QUEUE_DEF    (2u << 20)
/* Default --liveness (issue 13): rides out a 10 s outage with room to spare. */
#define PROXY_LIVENESS_DEF_US 20000000u

/* An -S line: serverID|IP|fingerprint. */
struct proxy_server {
    uint32_t id;
    struct addr addr; /* unset if not given: used as the SSM source only */
    uint8_t fp[PROXY_FP_MAX];
    uint8_t fplen; /* 0: any key */
};

/* A -C line: clientID|fingerprint. */
struct proxy_client {
    uint32_t id;
    uint8_t fp[PROXY_FP_MAX];
    uint8_t fplen;
};

struct proxy_config {
    enum proxy_role role;
    uint32_t proxy_id; /* -U or from the interface; nonzero */

    /* PROXY_SERVER: the downstream proxy (-s host, port -q), or its key
     * fingerprint (-s fp=...) with down unset. */
    struct addr down;
    uint8_t down_fp[PROXY_FP_MAX];
    uint8_t down_fplen;

    /* PROXY_SERVER / PROXY_RESPONSE: public groups to join (-M, port -p). */
    const struct addr *pub_addrs;
    size_t npub;
    bool ssm; /* -o: joins from the -S servers' addresses */
    /*
     * Port the proxy's own multicast goes to: a client proxy's -q (where
     * its clients listen), a response proxy's -p (spec §2.3).
     */
    uint16_t client_port;

    /* -S (servers; client and response proxies refuse others) and -C (clients). */
    const struct proxy_server *servers;
    size_t nserver;
    const struct proxy_client *clients;
    size_t nclient;
    /*
     * Stacked aggregating proxies (issue 16, spec §3.5 [EXT]), cleartext
     * sessions only. up_proxy (--upstream-proxy): our aggregates go to this
     * aggregating proxy (the source of its PROXY_KEY for the session), not
     * to the server; 0 = to the server. downs (--downstream): the only
     * proxies whose answers listing clients we take and re-aggregate.
     */
    uint32_t up_proxy;
    const struct proxy_client *downs;
    size_t ndown;

    /* The first -k key: PROXY_KEY, KEYINFO, CLIENT_KEY and heartbeats. Borrowed. */
    const struct crypto_key *key;

    /* PROXY_RESPONSE: the long-lived ECDH key (-e) offered to v4 clients
     * in PROXY_KEY, the answer to KEY_REQ (spec §1.9 item 5); NULL = none
     * (KEY_REQ is then dropped). Borrowed. */
    const struct crypto_key *dh4;
    /* Every -k key (keys[0] == key): a client proxy substitutes the one of
     * a v4 server's key type and size into its ANNOUNCE (spec §1.9 item 5). */
    const struct crypto_key *const *keys;
    size_t nkeys;

    /* -H / -h: heartbeat hosts and interval. */
    const struct addr *hb_hosts;
    size_t nhb;
    uint64_t hb_interval_us;

    /* Datagrams from these addresses (ours, looped back) are ignored. */
    const struct addr *self;
    size_t nself;

    unsigned max_sessions; /* 1..PROXY_MAX_SESSIONS */
    unsigned max_clients;  /* 1..PROXY_MAX_CLIENTS */
    unsigned max_pending;  /* 1..PROXY_MAX_PENDING */
    size_t queue_bytes;    /* forwarding queue, ≥ 64 KiB */
    /*
     * Public-key work that unauthenticated packets may cause (new encrypted
     * sessions, client key exchanges, heartbeat signature checks; spec
     * §6.16), in estimated µs of CPU per second. 0 = unlimited.
     */
    uint32_t pk_budget_us;
    /*
     * Issue 14: the longest a session nobody answered holds its slot,
     * whatever ROBUST x GRTT its ANNOUNCE claims (--unconfirmed-timeout;
     * default CLAIMS_UNCONFIRMED_DEF_US). Answered means: a client proxy's
     * or response proxy's server sent more than ANNOUNCEs (keyed us, in an
     * encrypted session); a server proxy's downstream answered.
     */
    uint64_t unconfirmed_us;
    /*
     * Issue 13: the longest a running session may go without a word from its
     * server before the proxy forgets it, however short ROBUST x GRTT is, so
     * that a path outage is ridden out (--liveness; default
     * PROXY_LIVENESS_DEF_US, 1..3600 s).
     */
    uint64_t liveness_us;
    /* Signed ANNOUNCEs further than this from our clock are replays (core/proto/fresh.h); 0 = off.
     */
    uint64_t announce_window_us;

    /* realtime − monotonic, µs (wire timestamps). */
    int64_t wall_offset_us;
};

/* Defaults of spec §2.3 and §4 (no role, no addresses). */
void proxy_config_defaults(struct proxy_config *c);

struct proxy_env {
    void *ctx;
    /* Fills buf with len random bytes (CSPRNG in the daemon, a seeded PRNG in the sim). */
    int (*rng)(void *ctx, void *buf, size_t len);
    /*
     * Where the engine logs (core/base/elog.h): the program passes
     * log_elog() (core/log.h), the simulator and fuzz targets their own.
     * All zero logs nothing.
     */
    struct elog log;
};

struct proxy;

/*
 * Copies *cfg and *env (not what they point to: arrays and the key must
 * outlive the engine).
 * Errors: ENG_EINVAL (with a log line: no role, proxy ID 0, a server proxy
 * without a downstream, a missing key or rng, a limit out of range),
 * ENG_ENOMEM, ENG_ERNG.
 */
int proxy_new(struct proxy **out, const struct proxy_config *cfg, const struct proxy_env *env);

/*
 * Feeds one datagram (see sender_recv). pkt is writable: encrypted client
 * answers are decrypted in place. Never fails; bad input is logged at
 * LL_PROTO and dropped.
 */
void proxy_recv(struct proxy *p, const struct addr *from, const struct addr *to, uint8_t *pkt,
                size_t len, uint8_t tos, uint64_t now_us);

/* Next output (core/proto/engine.h). Returns its kind, or ENG_ENOSPC. */
int proxy_poll(struct proxy *p, uint64_t now_us, struct eng_out *out);

/* Absolute µs at which proxy_poll must next be called (ENG_NEVER = none). */
uint64_t proxy_deadline(const struct proxy *p);

/*
 * Shutdown: every session is aborted both ways (ABORT upstream and to the
 * clients), groups are left, then ENG_DONE with exit code 0. Idempotent.
 */
void proxy_shutdown(struct proxy *p, uint64_t now_us);

/*
 * Replaces the -S and -C lists (SIGHUP); borrowed as in proxy_config, so
 * the old arrays may be freed once this returns. Sessions and clients
 * already admitted stay.
 */
void proxy_set_lists(struct proxy *p, const struct proxy_server *servers, size_t nserver,
                     const struct proxy_client *clients, size_t nclient);

/* Why a session ended before every client was done (proxy_stats.sessions_failed). */
enum proxy_fail {
    PROXY_FAIL_SERVER = 0, /* the server's ABORT */
    PROXY_FAIL_IDLE,       /* no traffic: the server went away */
    PROXY_FAIL_KEYS,       /* the group key could not be had */
    PROXY_FAIL_SHUTDOWN,   /* the daemon stopped */
    PROXY_FAIL_N
};

struct proxy_stats {
    uint32_t sessions;       /* current */
    uint64_t sessions_seen;  /* accepted since start */
    uint64_t forwarded;      /* datagrams forwarded unchanged */
    uint64_t aggregated_in;  /* client answers merged into aggregates */
    uint64_t aggregated_out; /* aggregated messages sent upstream */
    uint64_t dropped;        /* datagrams dropped by the pipeline */
    uint64_t queue_drops;    /* datagrams dropped because the queue was full */
    uint64_t refused;        /* sessions, clients or slots refused at a limit */
    uint64_t hb_auth_ok;     /* heartbeats that authenticated (fp mode) */
    uint64_t hb_auth_failed;
    /* Issue 14. */
    uint64_t amp_held; /* datagrams not sent: beyond 3 x what their session or source sent */
    uint64_t evicted;  /* unconfirmed sessions that gave their slot to another */
    uint64_t expired;  /* sessions ended unconfirmed */
    uint64_t stale;    /* signed ANNOUNCEs refused as replays */
    uint64_t cc_held;  /* CC_ACKs not passed upstream (no lower rate this round, issue 12) */
    struct addr down;  /* the current downstream (server proxy) */
    /* Issue 17: parity count reports (STATUS with COUNTS) sent upstream. */
    uint64_t fec_counts;

    /* Issue 15 (the daemon's metrics). */
    uint64_t malformed;          /* bad length, not UFTP, undecodable (also in dropped) */
    uint64_t auth_failed;        /* sealed datagrams that did not open (also in dropped) */
    uint64_t pk_done;            /* public-key work admitted by the budget */
    uint64_t pk_limited;         /* refused by it (also in refused) */
    uint64_t sessions_completed; /* ended after every client was done */
    uint64_t clients;            /* now, in every session (proxy_stats() counts) */
    uint64_t sessions_failed[PROXY_FAIL_N]; /* by enum proxy_fail */
};

void proxy_stats(const struct proxy *p, struct proxy_stats *st);

/* Client IDs one aggregate upstream lists at most at this block size (spec §4:
 * blocksize/4, and within a datagram the server reads): with n clients a
 * round of answers takes at least ceil(n / this) aggregates (issue 16). */
size_t proxy_agg_max_ids(uint16_t blocksize);

/* Frees everything. NULL is a no-op. */
void proxy_free(struct proxy *p);

const char *proxy_role_name(enum proxy_role r);

#endif
