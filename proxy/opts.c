/*
 * uftpproxyd's option table (spec §2.3). Defaults are the reference's
 * except where spec §6.13 says they are unsafe: the log does not default to
 * a file in /tmp (syslog, or the journal under systemd).
 */
#include "proxy/opts.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "core/crypto/fp.h"
#include "core/crypto/keyblob.h"
#include "core/daemon/start.h"
#include "core/net/addr.h"
#include "core/net/sock.h"
#include "proxy/engine/engine.h"

#define S struct uftpproxyd_settings

/* spec §4: 200 interfaces and public addresses; 100 keys and heartbeat hosts. */
#define UFTPPROXYD_MAX_ADDRS 200

/* -s: a host name or address, or fp= and a fingerprint. */
static int server_check(const struct conf_option *o, const void *val, char *msg, size_t ml)
{
    const char *s;
    memcpy(&s, val, sizeof(s));
    if (s == NULL)
        return 0;
    if (strncmp(s, "fp=", 3) == 0) {
        uint8_t fp[FP_PARSE_MAX];
        size_t n;
        if (fp_parse(s + 3, fp, &n) != 0) {
            snprintf(msg, ml, "must be fp= and colon-separated hex bytes, not '%s'", s);
            return CONF_EVALUE;
        }
        return 0;
    }
    if (s[0] == '\0') {
        snprintf(msg, ml, "must be a host or fp=FINGERPRINT");
        return CONF_EVALUE;
    }
    return 0;
}

static int curve_check(const struct conf_option *o, const void *val, char *msg, size_t ml)
{
    const char *s;
    memcpy(&s, val, sizeof(s));
    if (s != NULL && keyblob_curve_by_name(s) == 0) {
        snprintf(msg, ml, "must be prime256v1, secp256r1, secp384r1 or secp521r1, not '%s'", s);
        return CONF_EVALUE;
    }
    return 0;
}

/* -H host[:port],...: checked for syntax here, resolved at start-up. */
static int hb_check(const struct conf_option *o, const void *val, char *msg, size_t ml)
{
    const struct conf_list *l = val;
    for (size_t i = 0; i < l->n; i++) {
        if (l->v[i][0] == '\0') {
            snprintf(msg, ml, "must be host[:port] entries");
            return CONF_EVALUE;
        }
    }
    return 0;
}

static const struct conf_hl_spec hl_servers = {CONF_HL_PROXY_SERVERS, CONF_HL_MAX_SERVERS,
                                               conf_resolve_system};
static const struct conf_hl_spec hl_clients = {CONF_HL_CLIENTS, CONF_HL_MAX_SERVERS, NULL};

static const struct conf_option opts[] = {
    /* Role */
    CONF_ROW("server-proxy", 's', CONF_STRING, .section = "Role (exactly one)",
             .argname = "HOST|fp=FP",
             .help = "server proxy: tunnel sessions to the downstream proxy HOST (port -q), or to "
                     "whoever proves key fingerprint FP in its heartbeats",
             .check = server_check, .complete = "@host", CONF_FIELD(S, server)),
    CONF_ROW("client-proxy", 'c', CONF_BOOL, .section = "Role (exactly one)",
             .help = "client proxy: multicast tunnelled sessions to the local clients, re-key them "
                     "and aggregate their answers",
             CONF_FIELD(S, client)),
    CONF_ROW("response-proxy", 'r', CONF_BOOL, .section = "Role (exactly one)",
             .help = "response proxy: re-key and aggregate for clients the server reaches itself",
             CONF_FIELD(S, response)),

    /* Daemon / logging */
    CONF_ROW("foreground", 'd', CONF_BOOL, .section = "Daemon",
             .help = "stay in the foreground and log to stderr (-L is ignored)",
             CONF_FIELD(S, foreground)),
    CONF_ROW("log-file", 'L', CONF_STRING, .section = "Daemon", .argname = "FILE",
             .help = "log file (default: syslog, or the journal under systemd)",
             CONF_FIELD(S, logfile)),
    CONF_ROW("log-level", 'x', CONF_INT, .section = "Daemon", .argname = "N", .def = "2", .min = 0,
             .max = 5, .help = "0 errors, 1 warnings, 2 sessions, 3 clients, 4 packets, 5 debug",
             CONF_FIELD(S, log_level)),
    CONF_OPTS_LOG_ROLL(S, "Daemon"),
    CONF_OPTS_DAEMON(S, "Daemon"),
    CONF_OPTS_METRICS(S, "Daemon"),

    /* Transport */
    CONF_ROW("port", 'p', CONF_INT, .section = "Transport", .argname = "PORT", .def = "1044",
             .min = 1, .max = 65535,
             .help = "UDP port to listen on (a response proxy's clients listen on it too)",
             CONF_FIELD(S, port)),
    CONF_ROW("out-port", 'q', CONF_INT, .section = "Transport", .argname = "PORT", .def = "1044",
             .min = 1, .max = 65535,
             .help = "port downstream: of the downstream proxy (-s), of the clients (-c)",
             CONF_FIELD(S, out_port)),
    CONF_ROW("ttl", 't', CONF_INT, .section = "Transport", .argname = "TTL", .def = "1", .min = 1,
             .max = 255, .help = "multicast TTL / hop limit", CONF_FIELD(S, ttl)),
    CONF_ROW("dscp", 'Q', CONF_INT, .section = "Transport", .argname = "DSCP", .def = "0", .min = 0,
             .max = 63, .help = "DSCP of what the proxy sends", CONF_FIELD(S, dscp)),
    CONF_ROW("out-interface", 'O', CONF_STRING, .section = "Transport", .argname = "IF",
             .help = "interface for outgoing multicast (client and response proxy): name, address "
                     "or host name (default: the first non-loopback IPv4 one)",
             .complete = "@iface", CONF_FIELD(S, out_if)),
    CONF_ROW("interface", 'I', CONF_LIST, .section = "Transport", .argname = "IF,...",
             .list_max = UFTPPROXYD_MAX_ADDRS,
             .help = "interfaces to join groups on (server and response proxy; default: all "
                     "multicast-capable non-loopback ones)",
             .complete = "@iface", CONF_FIELD(S, ifaces)),
    CONF_ROW("public", 'M', CONF_LIST, .section = "Transport", .argname = "ADDR,...",
             .def = NET_DEF_PUBLIC_MCAST, .list_max = UFTPPROXYD_MAX_ADDRS,
             .help = "public multicast addresses to listen on (server and response proxy)",
             CONF_FIELD(S, pub)),
    CONF_ROW("id", 'U', CONF_CUSTOM, .section = "Transport", .argname = "0xID",
             .help = "proxy ID (default: the first interface's address)", .parse = conf_id_parse,
             .print = conf_id_print, CONF_FIELD(S, id)),
    CONF_ROW("ssm", 'o', CONF_BOOL, .section = "Transport",
             .help = "join source-specific, from the -S servers' addresses", CONF_FIELD(S, ssm)),
    CONF_ROW("buffer", 'B', CONF_SIZE, .section = "Transport", .argname = "BYTES", .def = "262144",
             .min = NET_BUF_MIN, .max = NET_BUF_MAX, .help = "UDP send and receive buffers",
             CONF_FIELD(S, bufsize)),

    /* Security */
    CONF_ROW("servers", 'S', CONF_CUSTOM, .section = "Security", .argname = "FILE",
             .help =
                 "servers: lines 'serverID|IP[|fingerprint]'; client and response proxies refuse "
                 "others, a server proxy uses the addresses for -o",
             CONF_HOSTLIST(hl_servers), CONF_FIELD(S, servers)),
    CONF_ROW("clients", 'C', CONF_CUSTOM, .section = "Security", .argname = "FILE",
             .help =
                 "clients: lines 'clientID[|fingerprint]'; others are refused, fingerprints are "
                 "checked under client authentication",
             CONF_HOSTLIST(hl_clients), CONF_FIELD(S, clients)),
    CONF_ROW("upstream-proxy", 0, CONF_CUSTOM, .section = "Security", .argname = "0xID",
             .help = "stacked proxies: send our aggregates to this response or client proxy (from "
                     "where its PROXY_KEY comes), not to the server; encrypted (v5): keyed by it",
             .parse = conf_id_parse, .print = conf_id_print, CONF_FIELD(S, up_proxy)),
    CONF_ROW("downstream", 0, CONF_CUSTOM, .section = "Security", .argname = "FILE",
             .help = "stacked proxies: lines 'proxyID[|fingerprint]' of the proxies whose answers "
                     "listing clients we take (encrypted: we key them, fingerprint checked)",
             CONF_HOSTLIST(hl_clients), CONF_FIELD(S, downs)),
    CONF_ROW("key-file", 'k', CONF_LIST, .section = "Security", .argname = "FILE,...",
             .list_max = PROXY_MAX_KEYS,
             .help = "signing keys; the first signs PROXY_KEY, KEYINFO, CLIENT_KEY and heartbeats "
                     "(the others are for v4 sessions)",
             CONF_FIELD(S, keyfiles)),
    CONF_ROW(
        "key-generate", 'K', CONF_LIST, .section = "Security", .argname = "rsa:BITS|ec:CURVE,...",
        .list_max = PROXY_MAX_KEYS,
        .help =
            "generate signing keys (saved to the -k files, which must not exist; as many as -k)",
        .check = daemon_keygen_check,
        .complete = "rsa:2048 rsa:3072 ec:prime256v1 ec:secp384r1 ec:secp521r1",
        CONF_FIELD(S, keygen)),
    CONF_ROW("ecdh-curve", 'e', CONF_STRING, .section = "Security", .argname = "CURVE",
             .def = "secp256r1",
             .help = "curve of the long-lived ECDH key a response proxy offers v4 clients in "
                     "PROXY_KEY (the answer to KEY_REQ)",
             .check = curve_check, .complete = "prime256v1 secp256r1 secp384r1 secp521r1",
             CONF_FIELD(S, curve)),
    CONF_ROW(
        "machine-store", 'm', CONF_BOOL, .section = "Security", .flags = CONF_IGNORED | CONF_NOFILE,
        .help = "Windows machine key store (accepted for the reference's command lines; none here)",
        CONF_FIELD(S, machine_store)),
    CONF_ROW("unconfirmed-timeout", 0, CONF_INT, .section = "Security", .argname = "SECONDS",
             .def = "30", .min = 1, .max = 3600,
             .help = "longest a session its server (or, tunnelled, the other side) never answered "
                     "holds a slot, whatever GRTT and robustness it claims",
             CONF_FIELD(S, unconfirmed_timeout)),
    CONF_ROW("liveness", 0, CONF_INT, .section = "Security", .argname = "SECONDS", .def = "20",
             .min = 1, .max = 3600,
             .help = "longest a running session may go without a word from its server (a path "
                     "outage) before it is forgotten",
             CONF_FIELD(S, liveness)),
    CONF_ROW("announce-window", 0, CONF_INT, .section = "Security", .argname = "SECONDS",
             .def = "600", .min = 0, .max = 31536000,
             .help = "refuse signed ANNOUNCEs stamped further than this from our clock, and "
                     "repeats of a started session: replays (0 = off)",
             CONF_FIELD(S, announce_window)),

    /* Heartbeat */
    CONF_ROW("heartbeat-hosts", 'H', CONF_LIST, .section = "Heartbeat",
             .argname = "HOST[:PORT],...", .list_max = PROXY_MAX_LIST, .check = hb_check,
             .help = "upstream proxies to send heartbeats to (NAT pinholes, -s fp= discovery; port "
                     "1044 unless given)",
             .complete = "@host", CONF_FIELD(S, hb_hosts)),
    CONF_ROW("heartbeat-interval", 'h', CONF_INT, .section = "Heartbeat", .argname = "SECONDS",
             .def = "20", .min = 1, .max = 3600, .help = "heartbeat interval",
             CONF_FIELD(S, hb_interval)),
    {.name = NULL},
};

const struct conf_spec uftpproxyd_conf_spec = {
    .prog = "uftpproxyd",
    .usage = NULL,
    .opts = opts,
    .default_file = "/etc/uftp/uftpproxyd.conf",
};
