/*
 * uftpproxyd's options (spec §2.3): one table (core/conf) drives getopt, the
 * libconfig file (--config), --help, --check, the man page and the example
 * config. Exactly one of -s, -c, -r chooses the role. -e is the curve of a
 * response proxy's long-lived ECDH key for encrypted v4 sessions (issue 6);
 * -m (Windows key store) is refused.
 */
#ifndef UFTP_PROXY_OPTS_H
#define UFTP_PROXY_OPTS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/conf/conf.h"
#include "core/conf/hostlist.h"

struct uftpproxyd_settings {
    /* Role */
    char *server;  /* -s host | fp=FINGERPRINT */
    bool client;   /* -c */
    bool response; /* -r */
    /* Daemon / logging */
    bool foreground;       /* -d */
    char *logfile;         /* -L */
    int log_level;         /* -x */
    long long log_roll_mb; /* -g */
    long long log_keep;    /* -n */
    char *pidfile;         /* -P */
    long long nice;        /* -N */

    /* Metrics (issue 15) */
    char *metrics_file;         /* Prometheus text file, or NULL */
    long long metrics_interval; /* seconds */

    /* Transport */
    long long port;          /* -p */
    long long out_port;      /* -q */
    long long ttl;           /* -t */
    long long dscp;          /* -Q */
    char *out_if;            /* -O */
    struct conf_list ifaces; /* -I */
    struct conf_list pub;    /* -M */
    uint32_t id;             /* -U, 0 = from the interface */
    bool ssm;                /* -o */
    long long bufsize;       /* -B */
    /* Security */
    struct conf_hostlist servers;  /* -S */
    struct conf_hostlist clients;  /* -C */
    uint32_t up_proxy;             /* --upstream-proxy (spec §3.5), 0 = none */
    struct conf_hostlist downs;    /* --downstream (spec §3.5) */
    struct conf_list keyfiles;     /* -k */
    struct conf_list keygen;       /* -K */
    char *curve;                   /* -e (v4 response proxy ECDH key) */
    bool machine_store;            /* -m (refused) */
    long long unconfirmed_timeout; /* seconds a session nobody answered holds a slot (issue 14) */
    long long liveness;            /* --liveness, seconds (issue 13) */
    long long announce_window;     /* seconds: signed ANNOUNCEs outside it are replays (issue 14) */
    /* Heartbeat */
    struct conf_list hb_hosts; /* -H */
    long long hb_interval;     /* -h */
};

extern const struct conf_spec uftpproxyd_conf_spec;

#endif
