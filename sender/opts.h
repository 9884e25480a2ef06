/*
 * uftp's options (spec §2.1): one table (core/conf) drives getopt, the
 * libconfig file (--config), --help and --check. Every letter of the
 * reference keeps its reference meaning; the ones this version does not
 * implement yet are refused with "is not supported yet" instead of being
 * given another meaning.
 */
#ifndef UFTP_SENDER_OPTS_H
#define UFTP_SENDER_OPTS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/conf/conf.h"
#include "core/conf/hostlist.h"

/* -r init[:min:max], seconds. */
struct uftp_grtt {
    double init, min, max;
};

/* -C none | tfmcc[:min=K][:init=K][:max=K] (spec §1.7): Kbps, 0 = not given. */
struct uftp_ccopt {
    int type; /* CC_NONE or CC_TFMCC */
    long long min, init, max;
};

/* --fec off | PCT[:K] (ours, issue 17, spec §9.5). */
struct uftp_fec {
    bool off;
    int pct; /* proactive parity, 0..100 */
    int k;   /* FEC block size, 0 = default, else 2..255 */
};

struct uftp_settings {
    /* Transport / addressing */
    char *pub;           /* -M */
    char *priv;          /* -P */
    long long port;      /* -p */
    long long src_port;  /* -u */
    char *iface;         /* -I */
    long long ttl;       /* -t */
    long long dscp;      /* -Q */
    long long bufsize;   /* -B */
    bool gso;            /* --gso / --no-gso (no reference letter) */
    long long blocksize; /* -b */
    uint32_t id;         /* -U, 0 = from the interface */
    int protocol;        /* --protocol 5 | 4 (no letter: spec §1.9) */
    /* Rate / timing */
    long long rate;        /* -R Kbps, -1 = unpaced */
    struct uftp_ccopt cc;  /* -C */
    long long max_time;    /* -W percent, 0 = none */
    struct uftp_grtt grtt; /* -r */
    long long robust;      /* -s */
    long long liveness;    /* --liveness, seconds (issue 13) */
    long long nak_pct;     /* -N */
    long long nak_strikes; /* -m */
    long long max_passes;  /* -a */
    struct uftp_fec fec;   /* --fec (no reference letter) */
    /* Encryption (spec §1.8) */
    int keytype;        /* -Y */
    int hashtype;       /* -h */
    int curve;          /* -e */
    bool client_auth;   /* -c */
    char *keyfile;      /* -k */
    char *keygen;       /* -K */
    bool machine_store; /* -y */
    /* Group */
    struct conf_hostlist dests;   /* -H */
    struct conf_hostlist proxies; /* -j */
    bool quit_on_error;           /* -q */
    /* Files */
    char *list_file;            /* -i */
    char *exclude_file;         /* -X */
    char *dest_name;            /* -D */
    bool dest_is_dir;           /* -o */
    struct conf_list base_dirs; /* -E */
    bool follow_links;          /* -l */
    /* Modes */
    bool sync;          /* -z */
    bool sync_preview;  /* -Z */
    bool restartable;   /* -f */
    char *restart_path; /* --restart-file: where -f writes it */
    char *restart_file; /* -F */
    /* Logging / status */
    char *logfile;         /* -L */
    int log_level;         /* -x */
    bool timestamps;       /* -T */
    long long log_roll_mb; /* -g, 0 = no rolling */
    long long log_keep;    /* -n */
    char *status_file;     /* -S */
    /* Shell only (no reference letter) */
    int progress;       /* --progress auto|on|off */
    char *summary_json; /* --summary-json FILE (issue 15) */
};

enum { UFTP_PROGRESS_AUTO = 0, UFTP_PROGRESS_ON = 1, UFTP_PROGRESS_OFF = 2 };

extern const struct conf_spec uftp_conf_spec;

#endif
