/*
 * The service runner (DESIGN.md "The runner"): the one libevent loop that
 * uftp, uftpd and uftpproxyd run their engine in, and the only code of the
 * project that includes libevent (tools/check-layers.sh). It owns the event
 * base, the socket's events, the engine's timer, the signals, batched
 * receive (recvmmsg, GRO) and send (GSO, sendmmsg) and the memberships, and
 * applies one policy for each to every engine:
 *
 * - Drive: after each input the engine is polled until it has nothing to
 *   say, then its timer is armed at its deadline. After LOOP_BURST
 *   multi-datagram sends the loop reads first (unpaced -R -1).
 * - A full socket holds the send (its sequence numbers are spent) and the
 *   engine is not polled meanwhile: EAGAIN waits until writable, ENOBUFS
 *   retries after LOOP_NOBUFS_US. A datagram that cannot go at all is
 *   dropped alone, counted, logged once per destination per
 *   LOOP_DROP_LOG_US.
 * - Receive: LOOP_RX_CALLS batches per wakeup at most, the engine driven
 *   after each, so replies go out between batches.
 * - ENG_JOIN / ENG_LEAVE on out->ifindex, or on each of cfg.ifindex.
 * - The first SIGINT / SIGTERM: the engine's stop(), the stop hook, and
 *   the grace timer (cfg.stop_grace_us); a second one ends the loop.
 *
 *   loop_new(&l, &cfg); code = loop_run(l); loop_free(l);
 */
#ifndef UFTP_LOOP_LOOP_H
#define UFTP_LOOP_LOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/base/addr.h"
#include "core/net/batch.h"
#include "core/net/sock.h"
#include "core/proto/engine.h"

/* Receive buffers per recvmmsg call, and calls per wakeup. */
#define LOOP_RX_BUFS  16
#define LOOP_RX_CALLS 16
/* Multi-datagram sends per drive before the loop reads again. */
#define LOOP_BURST 8
/* Retry after a full device queue (ENOBUFS): it drains within a millisecond or so. */
#define LOOP_NOBUFS_US 1000
/* A destination that cannot be sent to is named in the log at most this often. */
#define LOOP_DROP_LOG_US (10 * 1000000ULL)

/* Any engine: its *_poll, *_deadline, *_recv and its stop (*_interrupt, *_shutdown). */
struct loop_engine {
    void *eng; /* passed to each function */
    int (*poll)(void *eng, uint64_t now_us, struct eng_out *out);
    uint64_t (*deadline)(void *eng);
    void (*recv)(void *eng, const struct addr *from, const struct addr *to, uint8_t *pkt,
                 size_t len, uint8_t tos, uint64_t now_us);
    void (*stop)(void *eng, uint64_t now_us); /* then polled until ENG_DONE */
};

/*
 * The adapters from an engine's typed functions (NAME_poll, NAME_deadline
 * and NAME_recv over struct NAME, and STOP) to a struct loop_engine:
 *   LOOP_ENGINE(proxy, proxy_shutdown)    ...  .engine = proxy_loop_engine(p),
 */
#define LOOP_ENGINE(name, stop)                                                                    \
    static int name##_loop_poll(void *e, uint64_t now, struct eng_out *o)                          \
    {                                                                                              \
        return name##_poll(e, now, o);                                                             \
    }                                                                                              \
    static uint64_t name##_loop_deadline(void *e)                                                  \
    {                                                                                              \
        return name##_deadline(e);                                                                 \
    }                                                                                              \
    static void name##_loop_recv(void *e, const struct addr *from, const struct addr *to,          \
                                 uint8_t *pkt, size_t len, uint8_t tos, uint64_t now)              \
    {                                                                                              \
        name##_recv(e, from, to, pkt, len, tos, now);                                              \
    }                                                                                              \
    static void name##_loop_stop(void *e, uint64_t now)                                            \
    {                                                                                              \
        stop(e, now);                                                                              \
    }                                                                                              \
    static struct loop_engine name##_loop_engine(struct name *e)                                   \
    {                                                                                              \
        return (struct loop_engine){e, name##_loop_poll, name##_loop_deadline, name##_loop_recv,   \
                                    name##_loop_stop};                                             \
    }

/* What the program may want to hear; each may be NULL. */
struct loop_hooks {
    void *ctx; /* passed to each hook */
    /* Around each receive batch: data in [mem, mem+len) stays in place until rx_end. */
    void (*rx_begin)(void *ctx, const void *mem, size_t len);
    void (*rx_end)(void *ctx);
    /* Each SEND as the engine made it, before it goes. */
    void (*send)(void *ctx, const struct eng_out *out);
    /* The first polls are done (the public groups joined): the program is up. */
    void (*started)(void *ctx);
    /* After the engine's stop() (the first SIGINT / SIGTERM). */
    void (*stop)(void *ctx);
    /* SIGHUP (caught only with this hook; ignored while stopping). */
    void (*hup)(void *ctx);
    /* Every cfg.tick_us. */
    void (*tick)(void *ctx, uint64_t now_us);
    /* ENG_DONE with the engine's exit code. Without this hook the loop ends;
     * with it, the program calls loop_exit() when it is ready. */
    void (*done)(void *ctx, int exit_code);
    /* cfg.watch_fd became readable, or loop_watch_at()'s time came. */
    void (*watch)(void *ctx);
};

struct loop_config {
    const char *name; /* the engine's, for log lines: "sender" */
    const struct net_sock *sock;
    struct loop_engine engine;
    struct loop_hooks hooks;
    /* The interfaces an ENG_JOIN / ENG_LEAVE with ifindex 0 means (0: by route). */
    const unsigned int *ifindex;
    size_t nif;
    size_t max_seg;         /* most datagrams per SEND: 1 (replies only) .. ENG_MAX_SEG */
    bool no_gso;            /* sendmmsg only (uftp --no-gso) */
    uint64_t tick_us;       /* 0: no tick */
    uint64_t stop_grace_us; /* 0: wait for the engine however long it takes */
    const char *stop_words; /* logged at the first signal: "terminated: <stop_words>" */
    /* A poll error ends the loop with this exit code; 0: logged, polled again at the deadline. */
    int fail_exit;
    /* The exit code when the loop ends without ENG_DONE (a second signal, the grace timer). */
    int forced_exit;
    int watch_fd; /* with hooks.watch: a descriptor of the program's, or -1 */
    /*
     * Tests only: sends through this instead of the socket, with the
     * returns of net_tx_send_gso_buf (datagrams sent from the front, or
     * -errno for the first).
     */
    int (*test_send)(void *arg, const struct addr *dst, const uint8_t *buf, size_t len,
                     size_t seglen);
    void *test_arg;
};

struct loop_stats {
    struct net_tx_stats tx;
    struct net_rx_stats rx;
    uint64_t dropped;      /* datagrams that could not be sent at all */
    uint64_t held;         /* sends held for a full socket (EAGAIN, ENOBUFS) */
    uint64_t polls;        /* engine polls */
    uint64_t joins_failed; /* ENG_JOIN refused on an interface */
};

struct loop;

/*
 * Sets up the loop over cfg->sock (still the caller's to close after
 * loop_free). UFTP_TEST_GSO_FAIL in the environment (tests) makes every
 * GSO send fail as the kernel's refusal would. Returns 0, -ENOMEM or
 * -EINVAL (no socket, an engine function missing); logged.
 */
int loop_new(struct loop **out, const struct loop_config *cfg);
/* Leaves every membership and frees. NULL is fine. */
void loop_free(struct loop *l);

/*
 * The first drive, the started hook, then events until the loop ends.
 * Returns the engine's exit code (ENG_DONE), or cfg.forced_exit /
 * cfg.fail_exit. Logs the send and receive counters (verbose).
 */
int loop_run(struct loop *l);
/* Ends loop_run() after the current callback. */
void loop_exit(struct loop *l);
/* Calls hooks.watch at when_us (daemon_mono_us()); UINT64_MAX: not. */
void loop_watch_at(struct loop *l, uint64_t when_us);

struct loop_stats loop_stats(const struct loop *l);
/* Whether the loop holds this membership. */
bool loop_joined(const struct loop *l, const struct addr *group, const struct addr *source,
                 unsigned int ifindex);

#endif
