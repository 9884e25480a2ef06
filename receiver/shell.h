/*
 * uftpd's shell: the libevent program around the receiver engine
 * (DESIGN.md "Engines without I/O"). main.c reads the options, opens the
 * destination and the socket and daemonises; shell.c owns the event loop:
 * batched receives (recvmmsg + UDP GRO) fed datagram by datagram to the
 * engine, its replies, its group joins and leaves, one timer, signals.
 */
#ifndef UFTP_RECEIVER_SHELL_H
#define UFTP_RECEIVER_SHELL_H

#include <stdbool.h>
#include <stdint.h>

#include "core/net/batch.h"
#include "core/net/mcast.h"
#include "core/net/sock.h"
#include "core/wire/wire.h"
#include "receiver/engine.h"
#include "receiver/opts.h"
#include "receiver/store.h"

struct event_base;
struct event;

/* Receive buffers (each NET_RX_GRO_BUFSZ with GRO) and recvmmsg calls per wakeup. */
#define UFTPD_RX_BUFS  16
#define UFTPD_RX_CALLS 16

struct uftpd {
    struct uftpd_settings set;
    struct receiver_config cfg;
    struct net_addr *pubs;
    struct receiver_server *servers;
    struct receiver_proxy *proxies;
    struct net_addr *hbs;    /* -H, resolved */
    struct crypto_key *key;  /* -k / -K, or NULL */
    unsigned int ifidx[256]; /* interfaces joined on (0 = by route) */
    size_t nif;
    struct store store;

    struct net_sock sock;
    struct net_tx tx;
    struct net_rx rx;
    struct net_mcast mc;
    struct receiver *eng;

    struct event_base *base;
    struct event *ev_read, *ev_write, *ev_timer, *ev_int, *ev_term, *ev_hup, *ev_quit;

    uint8_t buf[UFTP_MAX_DATAGRAM + 64];
    struct eng_out out;
    bool held; /* out holds a reply the socket did not take yet */
    bool stopping, finished;
    int exit_code;
};

uint64_t uftpd_mono_us(void);
int uftpd_rng(void *ctx, void *buf, size_t len);

/* Runs until shutdown; returns the exit code. */
int uftpd_run(struct uftpd *d);
void uftpd_free_loop(struct uftpd *d);

#endif
