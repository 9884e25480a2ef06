/*
 * uftpproxyd, the proxy daemon (spec §2.3): its state and its parts.
 *   main.c   the options, the keys, the socket, the start (core/daemon/start.h)
 *   life.c   the trust lists (-S, -C) and SIGHUP
 *   shell.c  the engine in the service runner (core/loop): forwarded
 *            trains as GSO sends, group joins and leaves, signals
 */
#ifndef UFTP_PROXY_UFTPPROXYD_H
#define UFTP_PROXY_UFTPPROXYD_H

#include <stdbool.h>
#include <stdint.h>

#include "core/daemon/metrics.h"
#include "core/daemon/start.h"
#include "core/net/sock.h"
#include "proxy/engine/engine.h"
#include "proxy/opts.h"

struct crypto_key;

/* SIGTERM: longest wait for the ABORTs to go out. */
#define UFTPPROXYD_STOP_SECS 3

struct uftpproxyd {
    struct uftpproxyd_settings set;
    int argc; /* the command line, read again on SIGHUP */
    char **argv;
    struct daemon_start start;
    struct proxy_config cfg;
    struct addr *pubs;
    struct addr *hbs;
    struct addr self[2];
    struct proxy_server *servers;
    struct proxy_client *clients;
    struct proxy_client *downs; /* --downstream (spec §3.5) */
    struct crypto_key *keys[100];
    size_t nkeys;
    struct crypto_key *dh4; /* -e: a response proxy's long-lived ECDH key (v4) */
    unsigned int ifidx[256];
    size_t nif;
    struct net_sock sock;
    struct proxy *eng;
    struct loop *loop; /* while uftpproxyd_run() runs */

    /* The operator's view (ops.c, issue 15). */
    struct metrics_buf metrics;
    uint64_t metrics_at; /* the next write, monotonic µs */
    bool metrics_failed; /* the last write failed (said once) */
    uint64_t rate_at, rate_dgrams;
    char status_line[160]; /* the last STATUS= sent */
};

/* life.c: builds the engine's -S / -C arrays from s (replacing d's). Returns 0 or -ENOMEM. */
int uftpproxyd_lists(struct uftpproxyd *d, const struct uftpproxyd_settings *s);
/* life.c: SIGHUP: the log reopened, -S / -C and the log level re-read. */
void uftpproxyd_reload(struct uftpproxyd *d);

/* ops.c (issue 15): the loop's tick: metrics file when due, STATUS= when it changed. */
void uftpproxyd_ops_tick(void *ctx, uint64_t now_us);
/* The last metrics written (while the loop still exists), the buffer freed. */
void uftpproxyd_ops_close(struct uftpproxyd *d);

/* shell.c: runs the engine until it is done or stopped; returns the exit code. */
int uftpproxyd_run(struct uftpproxyd *d);

#endif
