/*
 * uftpd, the receiver daemon (spec §2.2): its state and its parts.
 *   main.c   the options, the destination, the key, the socket, the start
 *            (core/daemon/start.h)
 *   life.c   the checks the option table cannot make, the status file
 *            (-F), the post-receive command (-s), SIGHUP, the end of SIGTERM
 *   store.c  the engine's storage callbacks (store.h)
 *   shell.c  the engine in the service runner (core/loop): batched
 *            receives fed to it, its replies, joins and leaves, signals
 */
#ifndef UFTP_RECEIVER_UFTPD_H
#define UFTP_RECEIVER_UFTPD_H

#include <stdbool.h>
#include <stdint.h>

#include "core/daemon/metrics.h"
#include "core/daemon/start.h"
#include "core/net/sock.h"
#include "receiver/engine/engine.h"
#include "receiver/opts.h"
#include "receiver/store.h"

struct loop;
struct runner;
struct status_sink;

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
    struct receiver *eng;
    struct loop *loop;   /* while uftpd_run() runs */
    bool stopping, done; /* SIGTERM came; the engine has finished */

    /* Daemon life (life.c, issue 7). */
    struct daemon_start start;
    int argc; /* the command line, re-read with the config on SIGHUP */
    char **argv;
    int startdir;               /* the start directory: relative paths stay valid after detaching */
    struct status_sink *status; /* -F */
    struct runner *runner;      /* -s */

    /* The operator's view (ops.c, issue 15). */
    struct metrics_buf metrics;
    uint64_t metrics_at; /* the next write, monotonic µs */
    uint64_t expire_at;  /* issue 13: the next sweep of expired -T restart state, monotonic µs */
    bool metrics_failed; /* the last write failed (said once) */
    uint64_t rate_at, rate_bytes;
    char status_line[160]; /* the last STATUS= sent */
};

/* ---- ops.c: metrics and STATUS= (issue 15) ---- */

/* Checks metrics-file. Returns 0 or an exit code (logged). */
int uftpd_ops_open(struct uftpd *d);
/* The loop's tick (every second): the metrics file when due, STATUS= when it changed. */
void uftpd_ops_tick(void *ctx, uint64_t now_us);
/* The last metrics written (while the loop still exists), the buffer freed. */
void uftpd_ops_close(struct uftpd *d);

/* shell.c: runs until shutdown; returns the exit code. */
int uftpd_run(struct uftpd *d);

/* ---- life.c ---- */

/*
 * Checks what the option table cannot (combinations, the -s command,
 * -A), the same at start-up, --check and SIGHUP. Returns 0, or -1 with
 * the setting to blame in *what and the message in msg ("'move-each'
 * needs temp-dir (-T)").
 */
int uftpd_settings_check(const struct uftpd_settings *s, const char **what, char *msg, size_t len);
/* The same, with where the setting to blame came from ("uftpd.conf:3: ", "option -i: "). */
int uftpd_settings_explain(const void *s, int argc, char **argv, const struct conf_cmd *cmd,
                           char *msg, size_t len);
/* Makes -L and -F absolute (against the current directory). Returns 0 or -ENOMEM. */
int uftpd_settings_absolute(struct uftpd_settings *s);
/* Opens -F, makes the -s runner and hooks it to the store (before detaching, so that errors
 * reach the terminal). Returns 0 or an exit code (logged). */
int uftpd_life_open(struct uftpd *d);
/* The engine's event callback (receiver_env.event; ctx = &d->store): -F lines, -A start times. */
void uftpd_event(void *ctx, const struct receiver_event *ev);
/* The runner's descriptor became readable, or its deadline came (the loop's watch hook). */
void uftpd_life_poll(void *ctx);
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
