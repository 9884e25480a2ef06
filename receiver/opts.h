/*
 * uftpd's options (spec §2.2): one table (core/conf) drives getopt, the
 * libconfig file (--config), --help and --check. Letters this version does
 * not implement yet keep their reference meaning and are refused with
 * "is not supported yet".
 */
#ifndef UFTP_RECEIVER_OPTS_H
#define UFTP_RECEIVER_OPTS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/conf/conf.h"
#include "core/conf/hostlist.h"

/*
 * Default destination: not /tmp (spec §6.13), a directory only the daemon
 * writes to. Created (mode 0750) when it is missing and not overridden.
 */
#define UFTPD_DEF_DEST "/var/lib/uftpd/incoming"

struct uftpd_settings {
    /* Daemon / logging */
    bool foreground;       /* -d */
    char *logfile;         /* -L; default: syslog when daemonised */
    int log_level;         /* -x */
    long long log_roll_mb; /* -g */
    long long log_keep;    /* -n */
    char *pidfile;         /* -P */
    long long nice;        /* -N */
    char *status_file;     /* -F */
    bool no_resolve;       /* -q: names are never looked up anyway */

    /* Metrics (issue 15) */
    char *metrics_file;         /* Prometheus text file, or NULL */
    long long metrics_interval; /* seconds */

    /* Transport */
    long long port;          /* -p */
    struct conf_list pub;    /* -M */
    struct conf_list ifaces; /* -I */
    long long bufsize;       /* -B */
    bool gro;                /* --gro / --no-gro (no reference letter) */
    long long dscp;          /* -Q */
    uint32_t id;             /* -U, 0 = from the interface */
    bool ssm;                /* -o */
    /* Security */
    bool encrypted_only;           /* -E */
    long long unconfirmed_timeout; /* seconds an unconfirmed session may hold a slot (issue 14) */
    long long liveness;            /* --liveness, seconds (issue 13) */
    long long announce_window;     /* seconds: signed ANNOUNCEs outside it are replays (issue 14) */
    char *keyfile;                 /* -k (reserved) */
    char *keygen;                  /* -K (reserved) */
    bool machine_store;            /* -m (reserved) */
    struct conf_hostlist servers;  /* -S */
    struct conf_hostlist proxies;  /* -R */
    char *resp_proxy;              /* -r host[/fp]: v4 response proxy */
    /* Files */
    struct conf_list dests;        /* -D */
    char *tempdir;                 /* -T */
    long long restart_keep;        /* --restart-keep, seconds (issue 13) */
    bool tempfiles;                /* -t */
    struct conf_list backups;      /* -A */
    bool move_each;                /* -i */
    char *postreceive;             /* -s */
    long long postreceive_timeout; /* seconds */
    long long cache;               /* -c */
    int symlinks;                  /* --symlinks: FS_LINK_BENEATH, 0 (any), FS_LINK_NONE */
    long long preallocate;         /* bytes reserved ahead of the data (issue 14) */
    /* Heartbeat (reserved) */
    struct conf_list hb_hosts; /* -H */
    long long hb_interval;     /* -h */
};

extern const struct conf_spec uftpd_conf_spec;

#endif
