/*
 * uftpproxyd's shell: the libevent program around the proxy engine
 * (DESIGN.md "Engines without I/O"). main.c reads the options, the keys
 * and the trust lists, opens the socket and starts the daemon (core/daemon);
 * shell.c owns the event loop: batched receives fed to the engine, its
 * output (forwarded trains as one GSO send), group joins and leaves, one
 * timer, signals (SIGHUP re-reads -S / -C and reopens the log).
 */
#ifndef UFTP_PROXY_SHELL_H
#define UFTP_PROXY_SHELL_H

#include <stdbool.h>
#include <stdint.h>

#include "core/net/batch.h"
#include "core/net/mcast.h"
#include "core/net/sock.h"
#include "core/wire/wire.h"
#include "proxy/engine/engine.h"
#include "proxy/opts.h"

struct event_base;
struct event;
struct crypto_key;

#define UFTPPROXYD_RX_BUFS  16
#define UFTPPROXYD_RX_CALLS 16
/* Output buffer: a whole GSO batch of the largest datagrams. */
#define UFTPPROXYD_OUT_BUF (NET_GSO_MAX_SEGS * UFTP_MAX_DATAGRAM)

struct uftpproxyd {
    struct uftpproxyd_settings set;
    int argc; /* the command line, read again on SIGHUP */
    char **argv;
    struct proxy_config cfg;
    struct addr *pubs;
    struct addr *hbs;
    struct addr self[2];
    struct proxy_server *servers;
    struct proxy_client *clients;
    struct crypto_key *keys[100];
    size_t nkeys;
    struct crypto_key *dh4; /* -e: a response proxy's long-lived ECDH key (v4) */
    unsigned int ifidx[256];
    size_t nif;

    struct net_sock sock;
    struct net_tx tx;
    struct net_rx rx;
    struct net_mcast mc;
    struct proxy *eng;

    struct event_base *base;
    struct event *ev_read, *ev_write, *ev_timer, *ev_kick, *ev_int, *ev_term, *ev_hup, *ev_quit;

    uint8_t *buf; /* UFTPPROXYD_OUT_BUF */
    struct eng_out out;
    bool held;        /* out holds datagrams the socket did not take yet */
    size_t held_sent; /* of which this many went */
    bool stopping, finished;
    int exit_code;
};

/*
 * Builds the engine's -S / -C arrays from the settings (replacing d's).
 * Returns 0 or -ENOMEM.
 */
int uftpproxyd_lists(struct uftpproxyd *d, const struct uftpproxyd_settings *s);

/* Runs until shutdown; returns the exit code. */
int uftpproxyd_run(struct uftpproxyd *d);
void uftpproxyd_free_loop(struct uftpproxyd *d);

#endif
