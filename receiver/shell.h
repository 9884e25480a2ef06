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
#include "receiver/engine/engine.h"
#include "receiver/opts.h"
#include "receiver/store.h"

struct event_base;
struct event;
struct pidfile;
struct runner;
struct status_sink;

/* Receive buffers (each NET_RX_GRO_BUFSZ with GRO) and recvmmsg calls per wakeup. */
#define UFTPD_RX_BUFS  16
#define UFTPD_RX_CALLS 16
/* Post-receive runs waiting for one of the runner's slots (each holds its argument vector). */
#define UFTPD_POSTRECEIVE_QUEUE 4096
/* SIGTERM: longest wait for the ABORTs and post-receive commands (within systemd's 30 s). */
#define UFTPD_STOP_SECS 10

struct uftpd {
    struct uftpd_settings set;
    struct receiver_config cfg;
    struct addr *pubs;
    struct receiver_server *servers;
    struct receiver_proxy *proxies;
    struct addr *hbs;        /* -H, resolved */
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

    /* Daemon life (life.c, issue 7). */
    int argc; /* the command line, re-read with the config on SIGHUP */
    char **argv;
    int startdir; /* the start directory: relative paths stay valid after detaching */
    struct pidfile *pidfile;
    struct status_sink *status; /* -F */
    struct runner *runner;      /* -s */
    struct event *ev_child, *ev_child_timer;
};

/* Runs until shutdown; returns the exit code. */
int uftpd_run(struct uftpd *d);
void uftpd_free_loop(struct uftpd *d);

/* ---- life.c: config checks, SIGHUP, SIGTERM, -F, -s ---- */

/*
 * Checks what the option table cannot (combinations, the -s command,
 * -A), the same at start-up, --check and SIGHUP. Returns 0, or -1 with
 * the setting to blame in *what and the message in msg ("'move-each'
 * needs temp-dir (-T)").
 */
int uftpd_settings_check(const struct uftpd_settings *s, const char **what, char *msg, size_t len);
/* The same, with where the setting to blame came from ("uftpd.conf:3: ", "option -i: "). */
int uftpd_settings_explain(const struct uftpd_settings *s, int argc, char **argv,
                           const struct conf_cmd *cmd, char *msg, size_t len);
/* Makes -L and -F absolute (against the current directory). Returns 0 or -ENOMEM. */
int uftpd_settings_absolute(struct uftpd_settings *s);
/* Opens -F (before detaching, so that errors reach the terminal). Returns 0 or -errno. */
int uftpd_life_open(struct uftpd *d);
/* After the event base exists: the -s runner and its events. Returns 0 or -ENOMEM. */
int uftpd_life_start(struct uftpd *d);
/* The engine's event callback (receiver_env.event; ctx = &d->store): -F lines, -A start times. */
void uftpd_event(void *ctx, const struct receiver_event *ev);
/* SIGHUP: re-reads the config and the trust lists and applies what can change live. */
void uftpd_reload(struct uftpd *d);
/* READY=1 with a STATUS= line (start-up and the end of a reload). */
void uftpd_notify_ready(struct uftpd *d);
/* SIGTERM: stops the post-receive commands. */
void uftpd_life_stop(struct uftpd *d);
/* Stopping and nothing left to wait for: leaves the loop. */
void uftpd_maybe_exit(struct uftpd *d);
void uftpd_life_free(struct uftpd *d);
/* Builds the engine's -S / -R arrays from the settings. Returns 0 or -ENOMEM. */
int uftpd_trust_build(const struct uftpd_settings *s, struct receiver_server **servers,
                      struct receiver_proxy **proxies);

#endif
