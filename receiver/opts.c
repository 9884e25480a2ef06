/*
 * uftpd's option table (spec §2.2). Defaults are the reference's except
 * where spec §6.13 says they are unsafe: the destination is not /tmp and
 * the log does not default to a file in /tmp.
 */
#include "receiver/opts.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "core/daemon/start.h"
#include "core/base/file.h"
#include "core/net/addr.h"
#include "core/net/sock.h"
#include "receiver/engine/engine.h"

#define S struct uftpd_settings

/* spec §4 client limits: 200 interfaces and public addresses. */
#define UFTPD_MAX_ADDRS 200

/* -D entries are absolute paths (spec §2.2). */
static int abs_list_check(const struct conf_option *o, const void *val, char *msg, size_t ml)
{
    const struct conf_list *l = val;
    for (size_t i = 0; i < l->n; i++) {
        if (l->v[i][0] != '/') {
            snprintf(msg, ml, "must be absolute paths, not '%s'", l->v[i]);
            return CONF_EVALUE;
        }
    }
    return 0;
}

/* --symlinks (issue 14 item 6). */
static const struct conf_word symlink_words[] = {
    {"beneath", FILE_LINK_BENEATH},
    {"any", 0},
    {"none", FILE_LINK_NONE},
    {NULL, 0},
};

static const struct conf_hl_spec hl_servers = {CONF_HL_SERVERS, CONF_HL_MAX_SERVERS,
                                               conf_resolve_system};
static const struct conf_hl_spec hl_proxies = {CONF_HL_PROXIES, CONF_HL_MAX_SERVERS,
                                               conf_resolve_system};

static const struct conf_option opts[] = {
    /* Daemon / logging */
    CONF_ROW("foreground", 'd', CONF_BOOL, .section = "Daemon",
             .help = "stay in the foreground and log to stderr (-L is ignored)",
             CONF_FIELD(S, foreground)),
    CONF_ROW("log-file", 'L', CONF_STRING, .section = "Daemon", .argname = "FILE",
             .help = "log file (default: syslog)", CONF_FIELD(S, logfile)),
    CONF_ROW("log-level", 'x', CONF_INT, .section = "Daemon", .argname = "N", .def = "2", .min = 0,
             .max = 5, .help = "0 errors, 1 warnings, 2 files, 3 clients, 4 packets, 5 debug",
             CONF_FIELD(S, log_level)),
    CONF_OPTS_LOG_ROLL(S, "Daemon"),
    CONF_OPTS_DAEMON(S, "Daemon"),
    CONF_ROW(
        "status-file", 'F', CONF_STRING, .section = "Daemon", .argname = "FILE",
        .help =
            "status file: a CONNECT and a RESULT line per session and file (@LOG: into the log)",
        CONF_FIELD(S, status_file)),
    CONF_ROW("quiet-names", 'q', CONF_BOOL, .section = "Daemon",
             .help = "do not look up senders' names (never done: accepted for compatibility)",
             CONF_FIELD(S, no_resolve)),
    CONF_OPTS_METRICS(S, "Daemon"),

    /* Transport */
    CONF_ROW("port", 'p', CONF_INT, .section = "Transport", .argname = "PORT", .def = "1044",
             .min = 1, .max = 65535, .help = "UDP port to listen on", CONF_FIELD(S, port)),
    CONF_ROW("public", 'M', CONF_LIST, .section = "Transport", .argname = "ADDR,...",
             .def = NET_DEF_PUBLIC_MCAST, .list_max = UFTPD_MAX_ADDRS,
             .help = "public multicast addresses to join (IPv4 and IPv6 may mix)",
             CONF_FIELD(S, pub)),
    CONF_ROW("interface", 'I', CONF_LIST, .section = "Transport", .argname = "IF,...",
             .list_max = UFTPD_MAX_ADDRS,
             .help = "interfaces to join on: names, addresses or host names (default: all "
                     "multicast-capable non-loopback ones)",
             .complete = "@iface", CONF_FIELD(S, ifaces)),
    CONF_ROW("buffer", 'B', CONF_SIZE, .section = "Transport", .argname = "BYTES",
             .def = "33554432", .min = NET_BUF_MIN, .max = NET_BUF_MAX,
             .help = "UDP receive buffer (5.0.1: 262144; larger so -R -1 bursts are not dropped)",
             CONF_FIELD(S, bufsize)),
    CONF_ROW("gro", 0, CONF_BOOL, .section = "Transport", .def = "true",
             .help = "receive with UDP GRO (--no-gro: one datagram per buffer)",
             CONF_FIELD(S, gro)),
    CONF_ROW("dscp", 'Q', CONF_INT, .section = "Transport", .argname = "DSCP", .def = "0", .min = 0,
             .max = 63, .help = "DSCP of replies", CONF_FIELD(S, dscp)),
    CONF_ROW("id", 'U', CONF_CUSTOM, .section = "Transport", .argname = "0xID",
             .help = "client ID (default: the first interface's address)", .parse = conf_id_parse,
             .print = conf_id_print, CONF_FIELD(S, id)),
    CONF_ROW("ssm", 'o', CONF_BOOL, .section = "Transport",
             .help = "join source-specific (needs -S with server addresses)", CONF_FIELD(S, ssm)),
    CONF_ROW("liveness", 0, CONF_INT, .section = "Transport", .argname = "SECONDS", .def = "20",
             .min = 1, .max = 3600,
             .help = "longest a running session waits in silence from its server (a path outage) "
                     "before giving up, and resends COMPLETE without confirmation",
             CONF_FIELD(S, liveness)),

    /* Security */
    CONF_ROW("encrypted-only", 'E', CONF_BOOL, .section = "Security",
             .help = "accept encrypted sessions only", CONF_FIELD(S, encrypted_only)),
    CONF_ROW("key-file", 'k', CONF_STRING, .section = "Security", .argname = "FILE",
             .help = "signing key file for client authentication, unencrypted PEM (default: an "
                     "ephemeral EC P-256 key)",
             CONF_FIELD(S, keyfile)),
    CONF_ROW("key-generate", 'K', CONF_STRING, .section = "Security", .argname = "SPEC",
             .help = "generate a signing key rsa:BITS or ec:CURVE; with -k, save it there",
             .complete = "rsa:2048 rsa:3072 ec:prime256v1 ec:secp384r1 ec:secp521r1",
             .check = daemon_keygen_check, CONF_FIELD(S, keygen)),
    CONF_ROW(
        "machine-store", 'm', CONF_BOOL, .section = "Security", .flags = CONF_IGNORED | CONF_NOFILE,
        .help = "Windows machine key store (accepted for the reference's command lines; none here)",
        CONF_FIELD(S, machine_store)),
    CONF_ROW("servers", 'S', CONF_CUSTOM, .section = "Security", .argname = "FILE",
             .help = "allowed servers: lines 'serverID|IP|proxyID[|fingerprint]'",
             CONF_HOSTLIST(hl_servers), CONF_FIELD(S, servers)),
    CONF_ROW("proxies", 'R', CONF_CUSTOM, .section = "Security", .argname = "FILE",
             .help = "proxies: lines 'proxyID|IP[|fingerprint]'", CONF_HOSTLIST(hl_proxies),
             CONF_FIELD(S, proxies)),
    CONF_ROW("unconfirmed-timeout", 0, CONF_INT, .section = "Security", .argname = "SECONDS",
             .def = "30", .min = 1, .max = 3600,
             .help = "longest a session not yet confirmed by its server holds a slot, whatever "
                     "GRTT and robustness it claims",
             CONF_FIELD(S, unconfirmed_timeout)),
    CONF_ROW("announce-window", 0, CONF_INT, .section = "Security", .argname = "SECONDS",
             .def = "600", .min = 0, .max = 31536000,
             .help = "refuse signed ANNOUNCEs stamped further than this from our clock, and "
                     "repeats of a started session: replays (0 = off)",
             CONF_FIELD(S, announce_window)),
    CONF_ROW("response-proxy", 'r', CONF_STRING, .section = "Security", .argname = "HOST[/FP]",
             .help = "v4 response proxy (UFTP 4.x uftpproxyd -r) and its key fingerprint",
             .complete = "@host", CONF_FIELD(S, resp_proxy)),

    /* Files */
    CONF_ROW("dest", 'D', CONF_LIST, .section = "Files", .argname = "DIR,...",
             .def = UFTPD_DEF_DEST, .list_max = FILE_MAX_DIRS, .check = abs_list_check,
             .help = "destination dirs (absolute); relative names go to the first",
             CONF_FIELD(S, dests)),
    CONF_ROW("temp-dir", 'T', CONF_STRING, .section = "Files", .argname = "DIR",
             .check = conf_abs_check,
             .help = "receive into DIR/_group_<ID>/ and move the files at the end of the session",
             CONF_FIELD(S, tempdir)),
    CONF_ROW("temp-files", 't', CONF_BOOL, .section = "Files",
             .help = "receive into visible NAME.~uftp-<GROUP>-<FILE> temp files (default: unnamed)",
             CONF_FIELD(S, tempfiles)),
    CONF_ROW("backup-dirs", 'A', CONF_LIST, .section = "Files", .argname = "DIR,...",
             .list_max = FILE_MAX_DIRS, .check = abs_list_check,
             .help = "backup dirs, one per dest: replaced and deleted files move to "
                     "DIR/YYYYMMDD/HHMMSS/<path>",
             CONF_FIELD(S, backups)),
    CONF_ROW("move-each", 'i', CONF_BOOL, .section = "Files",
             .help = "with -T, move files one by one into existing dirs (default: whole top-level "
                     "entries replace existing ones)",
             CONF_FIELD(S, move_each)),
    CONF_ROW(
        "post-receive", 's', CONF_STRING, .section = "Files",
        .argname = "CMD", .check = conf_abs_check,
        .help =
            "run CMD -I <GROUPID> FILE... (absolute path, no shell) for what each session delivers",
        .complete = "@file", CONF_FIELD(S, postreceive)),
    CONF_ROW("post-receive-timeout", 0, CONF_INT, .section = "Files", .argname = "SECONDS",
             .def = "300", .min = 1, .max = 86400,
             .help = "stop a post-receive command that runs longer (SIGTERM, SIGKILL 5 s later)",
             CONF_FIELD(S, postreceive_timeout)),
    CONF_ROW("cache", 'c', CONF_SIZE, .section = "Files", .argname = "BYTES", .def = "1048576",
             .min = 10240, .max = 20971520, .help = "write cache per file", CONF_FIELD(S, cache)),

    CONF_ROW("symlinks", 0, CONF_ENUM, .section = "Files", .argname = "POLICY", .def = "beneath",
             .words = symlink_words,
             .help = "received symlinks: beneath (target inside the destination), any, or none",
             CONF_FIELD(S, symlinks)),
    CONF_ROW("preallocate", 0, CONF_SIZE, .section = "Files", .argname = "BYTES", .def = "16M",
             .min = 0, .max = 1099511627776LL,
             .help = "reserve disk space at most this far ahead of the data received (0 = never)",
             CONF_FIELD(S, preallocate)),
    CONF_ROW("restart-keep", 0, CONF_INT, .section = "Files", .argname = "SECONDS", .def = "86400",
             .min = 0, .max = 31536000,
             .help = "with -T, keep a failed session's files and block record this long for a "
                     "restart by the same server (0 = discard at once)",
             CONF_FIELD(S, restart_keep)),

    /* Heartbeat */
    CONF_ROW("heartbeat-hosts", 'H', CONF_LIST, .section = "Heartbeat",
             .argname = "HOST[:PORT],...", .list_max = 100,
             .help = "proxies to send heartbeats to (NAT pinholes, -s fp= discovery; port 1044 "
                     "unless given)",
             .complete = "@host", CONF_FIELD(S, hb_hosts)),
    CONF_ROW("heartbeat-interval", 'h', CONF_INT, .section = "Heartbeat", .argname = "SECONDS",
             .def = "20", .min = 1, .max = 3600, .help = "heartbeat interval",
             CONF_FIELD(S, hb_interval)),
    {.name = NULL},
};

const struct conf_spec uftpd_conf_spec = {
    .prog = "uftpd",
    .usage = NULL,
    .opts = opts,
    .default_file = "/etc/uftp/uftpd.conf",
};
