/*
 * The start-up uftpd and uftpproxyd share (spec §2.2, §2.3; the order of
 * daemon.h), around what each sets up of its own:
 *
 *   struct daemon_prog p = {"uftpd", &uftpd_conf_spec, &settings, explain};
 *   int rc = daemon_options(&p, argc, argv, &cmd);   // -1: go on, else exit rc
 *   struct daemon_start st = {.name = ..., .foreground = ..., .pidfile = ...};
 *   daemon_start_begin(&st);      // log level, log in the foreground, -P taken
 *   ... keys, sockets, the engine ...
 *   daemon_start_detach(&st);     // detach, the log's place, -P written, -N, privileges
 *   ... the loop: daemon_start_ready(&st, "listening ...") once it runs ...
 *   daemon_start_end(&st, rc);    // the waiting parent told, -P removed
 */
#ifndef UFTP_DAEMON_START_H
#define UFTP_DAEMON_START_H

#include <stdbool.h>
#include <stddef.h>

#include "core/conf/conf.h"
#include "core/daemon/daemon.h"
#include "core/net/iface.h"
#include "core/net/sock.h"

struct crypto_key;

/* Exit codes the start-up itself may end with (spec §2.2: as for uftp). */
enum { DAEMON_EXIT_PARAM = 1, DAEMON_EXIT_SOCKET = 2, DAEMON_EXIT_LOG = 4, DAEMON_EXIT_ALLOC = 5 };

struct daemon_prog {
    const char *name; /* "uftpd": messages, the log's name */
    const struct conf_spec *spec;
    void *settings;
    /*
     * What the option table cannot check, named where the setting came
     * from ("uftpd.conf:3: ..."). Returns 0, or -1 with the message in msg.
     * May be NULL.
     */
    int (*explain)(const void *settings, int argc, char **argv, const struct conf_cmd *cmd,
                   char *msg, size_t len);
};

/*
 * What every daemon does first: umask(DAEMON_UMASK) (spec §6.13), SIGPIPE
 * ignored, the log named, $NOTIFY_SOCKET taken out of the environment;
 * then the options (table defaults, --config, the command line) into
 * p->settings, with --help, --check (printing what is in effect), no
 * arguments besides options, p->explain, and a warning per reference
 * option that means nothing here. Errors go to stderr.
 * Returns -1 when the daemon should go on, or the code to exit with (the
 * settings are freed then).
 */
int daemon_options(const struct daemon_prog *p, int argc, char **argv, struct conf_cmd *cmd);

struct daemon_start {
    /* In. */
    const char *name;
    bool foreground;     /* -d */
    const char *pidfile; /* -P, or NULL */
    int log_level;       /* -x */
    const char *logfile; /* -L */
    long long roll_mb;   /* -g */
    int keep;            /* -n */
    long long nice;      /* -N */
    /* Out. */
    struct pidfile *pf;
    bool detached;
};

/*
 * Before the daemon's own set-up: the log level; in the foreground the log
 * where it stays (stderr, the journal); the pid file taken, so a second
 * daemon is refused before it binds anything (its message names the pid).
 * Returns 0 or DAEMON_EXIT_PARAM (logged).
 */
int daemon_start_begin(struct daemon_start *d);

/*
 * After it: detached unless in the foreground, the log pointed at its
 * place, the pid written, the nice value set, the privileges noted.
 * Returns 0, or an exit code (logged; a detached daemon's waiting parent
 * exits with it too).
 */
int daemon_start_detach(struct daemon_start *d);

/* Running: the waiting parent exits 0, systemd hears READY=1 with status (may be NULL). */
void daemon_start_ready(struct daemon_start *d, const char *status);

/* At the end: a parent still waiting exits with rc; the pid file is removed. */
void daemon_start_end(struct daemon_start *d, int rc);

/*
 * -M (spec §2.2, §2.3): multicast groups, source-specific ones with ssm
 * (5.0.1 refuses those at once and fails to join a unicast one), names
 * resolved, into out[names->n] with port (out may be NULL: only checked).
 * Returns 0, or -1 with "'public' ..." and note in msg.
 */
int daemon_publics(const struct conf_list *names, uint16_t port, bool ssm, const char *note,
                   struct addr *out, char *msg, size_t len);

/*
 * The network settings both daemons read the same way. Each returns 0 or
 * an exit code (logged), and allocates *out (free it) even on failure.
 * -H: hosts, port defport unless given.
 */
int daemon_hosts(const struct conf_list *names, uint16_t defport, struct addr **out);
/*
 * -I: the interfaces a join without one of its own goes out on, into
 * idx[0..cap) without duplicates: the named ones, else every multicast-
 * capable one, else one 0 (by the route; logged). A zero *id becomes the
 * first named interface's address, else the default one (net_iflist).
 */
int daemon_ifaces(const struct net_iflist *ifl, const struct conf_list *names, unsigned int *idx,
                  size_t cap, size_t *n, uint32_t *id);
/* The socket on o (family ignored): dual-stack, or IPv4 where IPv6 is off. */
int daemon_socket(struct net_sock *s, struct net_sock_opts *o);

/*
 * The signing key: -K SPEC generated (and written to -k FILE when given),
 * else -k FILE read; neither leaves *out NULL. Returns 0, or a CRYPTO_E*
 * code (CRYPTO_EIO: errno says why) with *step "generate", "write" or
 * "read".
 */
/* Option-table check of -K: rsa:BITS or ec:CURVE (spec §2.1, §2.2), a string or a list of them. */
int daemon_keygen_check(const struct conf_option *o, const void *val, char *msg, size_t ml);
int daemon_key(const char *keyfile, const char *keygen, struct crypto_key **out, const char **step);
/* "<what> RSA-2048 key with fingerprint ..." (or "EC <curve>") in the log. */
void daemon_log_key(const char *what, const struct crypto_key *k);

/*
 * SIGHUP's first steps (as logrotate expects): RELOADING=1 to systemd and
 * the log file reopened.
 */
void daemon_reload_begin(void);

/*
 * After a reload read settings `now` next to the running `was`: a warning
 * for each setting that changed and is not one of live[] (NULL-ended):
 * it waits for a restart.
 */
void daemon_reload_diff(const struct conf_spec *spec, const void *was, const void *now,
                        const char *const *live);
/* Swaps n bytes: a setting taken live from the re-read ones, its old value freed with them. */
void daemon_swap(void *a, void *b, size_t n);

/* conf_ignored()'s callback: a reference option that means nothing here, one warning. */
void daemon_warn_ignored(void *arg, const char *msg);

#endif
