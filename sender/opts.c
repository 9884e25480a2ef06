/*
 * uftp's option table (spec §2.1). Defaults are the reference's; ranges
 * are checked here and again by sender_new().
 */
#include "sender/opts.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/daemon/start.h"
#include "core/base/file.h"
#include "core/net/addr.h"
#include "core/net/sock.h"
#include "core/wire/wire.h"

#define S struct uftp_settings

/* ---- custom values ---- */

/* -r init[:min:max] in seconds, 0.001..1000, min <= init <= max (spec §2.1). */
static int grtt_parse(const struct conf_option *o, const char *text, void *dst, char *msg,
                      size_t ml)
{
    struct uftp_grtt *g = dst;
    char buf[128], *parts[4];
    int n = 0;
    if (strlen(text) >= sizeof(buf))
        goto bad;
    memcpy(buf, text, strlen(text) + 1);
    for (char *p = buf, *c; n < 4; p = c + 1) {
        parts[n++] = p;
        if ((c = strchr(p, ':')) == NULL)
            break;
        *c = '\0';
    }
    g->min = 0.01;
    g->max = 15.0;
    if ((n != 1 && n != 3) || conf_parse_double(parts[0], 0.001, 1000, &g->init) < 0 ||
        (n == 3 && (conf_parse_double(parts[1], 0.001, 1000, &g->min) < 0 ||
                    conf_parse_double(parts[2], 0.001, 1000, &g->max) < 0)))
        goto bad;
    if (g->min > g->init || g->init > g->max) {
        snprintf(msg, ml, "must have min <= init <= max");
        return CONF_ERANGE;
    }
    return 0;
bad:
    snprintf(msg, ml, "must be init[:min:max] in seconds (0.001..1000)");
    return CONF_EVALUE;
}

static int grtt_print(const struct conf_option *o, const void *src, char *buf, size_t len)
{
    const struct uftp_grtt *g = src;
    char a[32], b[32], c[32];
    conf_format_double(a, sizeof(a), g->init);
    conf_format_double(b, sizeof(b), g->min);
    conf_format_double(c, sizeof(c), g->max);
    snprintf(buf, len, "%s:%s:%s", a, b, c);
    return 0;
}

/* One K of -C tfmcc: Kbps, 1..2^30 (spec §1.7). */
static bool cc_kbps(const char *p, const char **end, long long *out)
{
    char *e;
    errno = 0;
    long long v = strtoll(p, &e, 10);
    if (e == p || errno != 0 || v < 1 || v > (1LL << 30) || (*e != '\0' && *e != ':'))
        return false;
    *out = v;
    *end = e;
    return true;
}

/* -C none | tfmcc[:min=K][:init=K][:max=K] in any order, or tfmcc:K (= max, the 4.7 form). */
static int cc_parse(const struct conf_option *o, const char *text, void *dst, char *msg, size_t ml)
{
    struct uftp_ccopt v = {.type = CC_NONE};
    if (strcmp(text, "none") == 0) {
        memcpy(dst, &v, sizeof(v));
        return 0;
    }
    if (strncmp(text, "tfmcc", 5) != 0 || (text[5] != '\0' && text[5] != ':')) {
        snprintf(msg, ml,
                 "must be none or tfmcc[:min=K][:init=K][:max=K] (pgmcc is not supported)");
        return CONF_EVALUE;
    }
    v.type = CC_TFMCC;
    const char *p = text + 5;
    while (*p == ':') {
        p++;
        long long *slot = NULL;
        if (strncmp(p, "min=", 4) == 0) {
            slot = &v.min;
            p += 4;
        } else if (strncmp(p, "init=", 5) == 0) {
            slot = &v.init;
            p += 5;
        } else if (strncmp(p, "max=", 4) == 0) {
            slot = &v.max;
            p += 4;
        } else if (p[0] >= '0' && p[0] <= '9' && p == text + 6) {
            slot = &v.max; /* tfmcc:K */
        }
        if (slot == NULL || !cc_kbps(p, &p, slot)) {
            snprintf(msg, ml, "tfmcc takes :min=K, :init=K, :max=K with K in Kbps, 1..2^30");
            return CONF_EVALUE;
        }
    }
    if (*p != '\0') {
        snprintf(msg, ml, "tfmcc takes :min=K, :init=K, :max=K with K in Kbps, 1..2^30");
        return CONF_EVALUE;
    }
    if ((v.max && v.min > v.max) || (v.max && v.init > v.max) || (v.init && v.min > v.init)) {
        snprintf(msg, ml, "tfmcc needs min <= init <= max");
        return CONF_EVALUE;
    }
    memcpy(dst, &v, sizeof(v));
    return 0;
}

static int cc_print(const struct conf_option *o, const void *src, char *buf, size_t len)
{
    struct uftp_ccopt v;
    memcpy(&v, src, sizeof(v));
    if (v.type != CC_TFMCC) {
        snprintf(buf, len, "none");
        return 0;
    }
    int n = snprintf(buf, len, "tfmcc");
    if (v.min && n >= 0 && (size_t)n < len)
        n += snprintf(buf + n, len - (size_t)n, ":min=%lld", v.min);
    if (v.init && n >= 0 && (size_t)n < len)
        n += snprintf(buf + n, len - (size_t)n, ":init=%lld", v.init);
    if (v.max && n >= 0 && (size_t)n < len)
        snprintf(buf + n, len - (size_t)n, ":max=%lld", v.max);
    return 0;
}

/* --fec off | PCT[:K] (ours, spec §9.5): parity repair off, or proactive parity. */
static int fec_parse(const struct conf_option *o, const char *text, void *dst, char *msg, size_t ml)
{
    struct uftp_fec f = {0};
    if (strcmp(text, "off") == 0) {
        f.off = true;
    } else {
        char *end;
        long pct = strtol(text, &end, 10), k = 0;
        if (end == text || pct < 0 || pct > 100)
            goto bad;
        if (*end == ':') {
            const char *ks = end + 1;
            k = strtol(ks, &end, 10);
            if (end == ks || k < 2 || k > 255)
                goto bad;
        }
        if (*end != '\0')
            goto bad;
        f.pct = (int)pct;
        f.k = (int)k;
    }
    memcpy(dst, &f, sizeof(f));
    return 0;
bad:
    snprintf(msg, ml, "must be off or PCT[:K] (PCT 0..100, K 2..255)");
    return CONF_EVALUE;
}

static int fec_print(const struct conf_option *o, const void *src, char *buf, size_t len)
{
    const struct uftp_fec *f = src;
    if (f->off)
        snprintf(buf, len, "off");
    else if (f->k)
        snprintf(buf, len, "%d:%d", f->pct, f->k);
    else
        snprintf(buf, len, "%d", f->pct);
    return 0;
}

static int nonzero_check(const struct conf_option *o, const void *val, char *msg, size_t ml)
{
    long long v;
    memcpy(&v, val, sizeof(v));
    if (v == 0) {
        snprintf(msg, ml, "must be -1 (unpaced) or 1..1073741824 Kbps");
        return CONF_ERANGE;
    }
    return 0;
}

static int maxtime_check(const struct conf_option *o, const void *val, char *msg, size_t ml)
{
    long long v;
    memcpy(&v, val, sizeof(v));
    if (v != 0 && v < 110) {
        snprintf(msg, ml, "must be 0 (none) or 110..10000");
        return CONF_ERANGE;
    }
    return 0;
}

static const struct conf_hl_spec hl_dests = {CONF_HL_IDS, CONF_HL_MAX_DEST, conf_resolve_system};

static const struct conf_word protocols[] = {
    {"5", UFTP_VER5},
    {"4", UFTP_VER4},
    {NULL, 0},
};
/* -j FILE (spec §2.1): always a file, as the reference reads it ("@FILE" too). */
static int proxies_parse(const struct conf_option *o, const char *text, void *dst, char *msg,
                         size_t ml)
{
    struct conf_hostlist *l = dst;
    int rc = conf_hostlist_read(l, &hl_dests, text[0] == '@' ? text + 1 : text, msg, ml);
    if (rc == 0 && (l->source = strdup(text)) == NULL) {
        conf_hostlist_free(l);
        snprintf(msg, ml, "is out of memory");
        return CONF_ENOMEM;
    }
    return rc;
}

static const struct conf_word keytypes[] = {
    {"none", KEY_NONE},
    {"aes128-gcm", KEY_AES128_GCM},
    {"aes256-gcm", KEY_AES256_GCM},
    {"aes128-ccm", KEY_AES128_CCM},
    {"aes256-ccm", KEY_AES256_CCM},
    {NULL, 0},
};

static const struct conf_word hashtypes[] = {
    {"sha256", HASH_SHA256},
    {"sha384", HASH_SHA384},
    {"sha512", HASH_SHA512},
    {NULL, 0},
};

static const struct conf_word curves[] = {
    {"secp256r1", CURVE_P256},
    {"prime256v1", CURVE_P256},
    {"secp384r1", CURVE_P384},
    {"secp521r1", CURVE_P521},
    {NULL, 0},
};

static const struct conf_word progress_words[] = {
    {"auto", UFTP_PROGRESS_AUTO},
    {"on", UFTP_PROGRESS_ON},
    {"off", UFTP_PROGRESS_OFF},
    {NULL, 0},
};

static const struct conf_option opts[] = {
    /* Transport / addressing */
    CONF_ROW("public", 'M', CONF_STRING, .section = "Transport", .argname = "ADDR",
             .def = NET_DEF_PUBLIC_MCAST,
             .help = "public (announce) address; a unicast address selects unicast mode",
             CONF_FIELD(S, pub)),
    CONF_ROW("private", 'P', CONF_STRING, .section = "Transport", .argname = "ADDR",
             .def = NET_DEF_PRIVATE_MCAST,
             .help = "private (data) multicast group; each 'x' part is random (IPv6: required)",
             CONF_FIELD(S, priv)),
    CONF_ROW("port", 'p', CONF_INT, .section = "Transport", .argname = "PORT", .def = "1044",
             .min = 1, .max = 65535, .help = "destination UDP port", CONF_FIELD(S, port)),
    CONF_ROW("source-port", 'u', CONF_INT, .section = "Transport", .argname = "PORT", .def = "0",
             .min = 0, .max = 65535, .help = "source UDP port (0 = any)", CONF_FIELD(S, src_port)),
    CONF_ROW("interface", 'I', CONF_STRING, .section = "Transport", .argname = "IF",
             .help = "outgoing interface: name, address or host name (default: first non-loopback)",
             .complete = "@iface", CONF_FIELD(S, iface)),
    CONF_ROW("ttl", 't', CONF_INT, .section = "Transport", .argname = "TTL", .def = "1", .min = 1,
             .max = 255, .help = "multicast TTL / hop limit", CONF_FIELD(S, ttl)),
    CONF_ROW("dscp", 'Q', CONF_INT, .section = "Transport", .argname = "DSCP", .def = "0", .min = 0,
             .max = 63, .help = "DSCP of every packet", CONF_FIELD(S, dscp)),
    CONF_ROW("buffer", 'B', CONF_SIZE, .section = "Transport", .argname = "BYTES", .def = "262144",
             .min = NET_BUF_MIN, .max = NET_BUF_MAX, .help = "UDP send and receive buffer",
             CONF_FIELD(S, bufsize)),
    CONF_ROW("gso", 0, CONF_BOOL, .section = "Transport", .def = "true",
             .help = "send data batches with UDP GSO (--no-gso: one datagram each, by sendmmsg)",
             CONF_FIELD(S, gso)),
    CONF_ROW("block-size", 'b', CONF_INT, .section = "Transport", .argname = "BYTES", .def = "1300",
             .min = UFTP_MIN_BLOCKSIZE, .max = UFTP_MAX_BLOCKSIZE, .help = "data bytes per packet",
             CONF_FIELD(S, blocksize)),
    CONF_ROW("id", 'U', CONF_CUSTOM, .section = "Transport", .argname = "0xID",
             .help = "server ID (default: the interface's address)", .parse = conf_id_parse,
             .print = conf_id_print, CONF_FIELD(S, id)),
    CONF_ROW("protocol", 0, CONF_ENUM, .section = "Transport", .argname = "VERSION", .def = "5",
             .words = protocols, .help = "protocol version: 5, or 4 for UFTP 4.x receivers",
             CONF_FIELD(S, protocol)),

    /* Rate / timing */
    CONF_ROW("rate", 'R', CONF_INT, .section = "Rate and timing", .argname = "KBPS", .def = "1000",
             .min = -1, .max = 1LL << 30, .check = nonzero_check,
             .help = "send rate in Kbps (1024 bit/s); -1 = as fast as possible",
             CONF_FIELD(S, rate)),
    CONF_ROW("congestion-control", 'C', CONF_CUSTOM, .section = "Rate and timing",
             .argname = "TYPE", .def = "none",
             .help =
                 "congestion control: none or tfmcc[:min=K][:init=K][:max=K] (Kbps; ignores -R)",
             .parse = cc_parse, .print = cc_print, .complete = "none tfmcc", CONF_FIELD(S, cc)),
    CONF_ROW("max-time", 'W', CONF_INT, .section = "Rate and timing", .argname = "PCT", .def = "0",
             .min = 0, .max = 10000, .check = maxtime_check,
             .help = "give up after PCT % of the time the rate needs (0 = never; 110..10000; not "
                     "with -C tfmcc)",
             CONF_FIELD(S, max_time)),
    CONF_ROW("grtt", 'r', CONF_CUSTOM, .section = "Rate and timing", .argname = "INIT[:MIN:MAX]",
             .def = "0.5:0.01:15", .help = "group round-trip time, seconds", .parse = grtt_parse,
             .print = grtt_print, CONF_FIELD(S, grtt)),
    CONF_ROW("robust", 's', CONF_INT, .section = "Rate and timing", .argname = "N", .def = "20",
             .min = 10, .max = 50, .help = "robustness factor: control message retransmissions",
             CONF_FIELD(S, robust)),
    CONF_ROW("liveness", 0, CONF_INT, .section = "Rate and timing", .argname = "SECONDS",
             .def = "20", .min = 1, .max = 3600,
             .help = "longest a receiver owing an answer may stay silent (a path outage) before it "
                     "is dropped; -r and -s set only how often we ask",
             CONF_FIELD(S, liveness)),
    CONF_ROW("nak-percent", 'N', CONF_INT, .section = "Rate and timing", .argname = "PCT",
             .def = "100", .min = 0, .max = 100,
             .help = "NAKed blocks per section above which a client gets a strike",
             CONF_FIELD(S, nak_pct)),
    CONF_ROW("nak-strikes", 'm', CONF_INT, .section = "Rate and timing", .argname = "N", .def = "1",
             .min = 1, .max = 1000, .help = "strikes before a client is dropped",
             CONF_FIELD(S, nak_strikes)),
    CONF_ROW("max-passes", 'a', CONF_INT, .section = "Rate and timing", .argname = "N",
             .def = "65535", .min = 1, .max = 65535,
             .help = "passes over a file before unfinished clients are aborted",
             CONF_FIELD(S, max_passes)),
    CONF_ROW("fec", 0, CONF_CUSTOM, .section = "Rate and timing", .argname = "off|PCT[:K]",
             .def = "0",
             .help = "parity repair (ours, v5): off, or PCT % parity in the first pass per FEC "
                     "block of K blocks (default 128); 0 = parity only for reported losses",
             .parse = fec_parse, .print = fec_print, .complete = "off 0 5 10", CONF_FIELD(S, fec)),

    /* Encryption */
    CONF_ROW("cipher", 'Y', CONF_ENUM, .section = "Encryption", .argname = "TYPE",
             .def = "aes256-gcm", .words = keytypes,
             .help = "encryption: aes128-gcm, aes256-gcm, aes128-ccm, aes256-ccm or none",
             CONF_FIELD(S, keytype)),
    CONF_ROW("hash", 'h', CONF_ENUM, .section = "Encryption", .argname = "HASH", .def = "sha256",
             .words = hashtypes,
             .help = "hash for key derivation and signatures: sha256, sha384, sha512",
             CONF_FIELD(S, hashtype)),
    CONF_ROW("curve", 'e', CONF_ENUM, .section = "Encryption", .argname = "CURVE",
             .def = "secp256r1", .words = curves,
             .help = "ECDH curve: secp256r1 (prime256v1), secp384r1, secp521r1",
             CONF_FIELD(S, curve)),
    CONF_ROW("client-auth", 'c', CONF_BOOL, .section = "Encryption",
             .help = "require client authentication; also checks -H/-j fingerprints",
             CONF_FIELD(S, client_auth)),
    CONF_ROW("key-file", 'k', CONF_STRING, .section = "Encryption", .argname = "FILE",
             .help = "signing key file, unencrypted PEM (default: an ephemeral EC P-256 key)",
             CONF_FIELD(S, keyfile)),
    CONF_ROW("key-generate", 'K', CONF_STRING, .section = "Encryption", .argname = "SPEC",
             .help = "generate a signing key rsa:BITS or ec:CURVE; with -k, save it there",
             .complete = "rsa:2048 rsa:3072 ec:prime256v1 ec:secp384r1 ec:secp521r1",
             .check = daemon_keygen_check, CONF_FIELD(S, keygen)),
    CONF_ROW(
        "machine-store", 'y', CONF_BOOL,
        .section = "Encryption", .flags = CONF_IGNORED | CONF_NOFILE,
        .help = "Windows machine key store (accepted for the reference's command lines; none here)",
        CONF_FIELD(S, machine_store)),

    /* Group */
    CONF_ROW("clients", 'H', CONF_CUSTOM, .section = "Group", .argname = "ID,...|@FILE",
             .help = "closed group: the client IDs (or a file of them) that may register",
             .complete = "", CONF_HOSTLIST(hl_dests), CONF_FIELD(S, dests)),
    CONF_ROW("proxies", 'j', CONF_CUSTOM, .section = "Group", .argname = "FILE",
             .help = "proxies expected to register: a file of lines 'ID_or_IPv4name[|fingerprint]'",
             .parse = proxies_parse, .print = conf_hostlist_opt_print,
             .free = conf_hostlist_opt_free, .arg = &hl_dests, CONF_FIELD(S, proxies)),
    CONF_ROW("quit-on-error", 'q', CONF_BOOL, .section = "Group",
             .help = "abort everyone if any client aborts, drops out or never answers",
             CONF_FIELD(S, quit_on_error)),

    /* Files */
    CONF_ROW("list", 'i', CONF_STRING, .section = "Files", .argname = "FILE", .flags = CONF_NOFILE,
             .help = "read the files to send from FILE, one a line ('-' = stdin)",
             CONF_FIELD(S, list_file)),
    CONF_ROW("exclude", 'X', CONF_STRING, .section = "Files", .argname = "FILE",
             .help = "file of paths to skip, as traversed (e.g. dir/sub)",
             CONF_FIELD(S, exclude_file)),
    CONF_ROW("dest-name", 'D', CONF_STRING, .section = "Files", .argname = "NAME",
             .help = "name at the receivers (with several items, or -o: a directory)",
             CONF_FIELD(S, dest_name)),
    CONF_ROW("dest-is-dir", 'o', CONF_BOOL, .section = "Files",
             .help = "treat -D as a directory even for one item", CONF_FIELD(S, dest_is_dir)),
    CONF_ROW("base-dir", 'E', CONF_LIST, .section = "Files", .argname = "DIR,...",
             .list_max = FILE_MAX_DIRS,
             .help = "strip these base dirs from names instead of the whole path",
             CONF_FIELD(S, base_dirs)),
    CONF_ROW("follow-links", 'l', CONF_BOOL, .section = "Files",
             .help = "follow symlinks (default: send them as links)", CONF_FIELD(S, follow_links)),

    /* Modes */
    CONF_ROW("sync", 'z', CONF_BOOL, .section = "Modes",
             .help = "sync mode: receivers skip files that are not newer", CONF_FIELD(S, sync)),
    CONF_ROW("sync-preview", 'Z', CONF_BOOL, .section = "Modes",
             .help = "sync preview: report what -z would do, send nothing",
             CONF_FIELD(S, sync_preview)),
    CONF_ROW("restartable", 'f', CONF_BOOL, .section = "Modes",
             .help = "restartable: keep a restart file (_group_ID_restart here, or --restart-file) "
                     "current from the start; removed when every receiver got every file",
             CONF_FIELD(S, restartable)),
    CONF_ROW("restart-file", 0, CONF_STRING, .section = "Modes", .argname = "FILE",
             .help = "where -f keeps the restart file (implies -f)", CONF_FIELD(S, restart_path)),
    CONF_ROW(
        "restart", 'F', CONF_STRING, .section = "Modes", .argname = "FILE", .flags = CONF_NOFILE,
        .help = "resume a failed session from its restart file: same group, next instance, the "
                "same items, only the receivers that did not get every file (not with -H, -z, -Z)",
        CONF_FIELD(S, restart_file)),

    /* Logging / status */
    CONF_ROW("log-file", 'L', CONF_STRING, .section = "Logging", .argname = "FILE",
             .help = "log file (default: stderr)", CONF_FIELD(S, logfile)),
    CONF_ROW("log-level", 'x', CONF_INT, .section = "Logging", .argname = "N", .def = "2", .min = 0,
             .max = 5, .help = "0 errors, 1 warnings, 2 files, 3 clients, 4 packets, 5 debug",
             CONF_FIELD(S, log_level)),
    CONF_ROW("timestamps", 'T', CONF_BOOL, .section = "Logging",
             .help = "timestamp every log line (implied by -L)", CONF_FIELD(S, timestamps)),
    CONF_OPTS_LOG_ROLL(S, "Logging"),
    CONF_ROW("status-file", 'S', CONF_STRING, .section = "Logging", .argname = "FILE",
             .help = "machine-readable results (@LOG = into the log)", CONF_FIELD(S, status_file)),
    CONF_ROW("progress", 0, CONF_ENUM, .section = "Logging", .argname = "WHEN", .def = "auto",
             .words = progress_words,
             .help = "progress line on stderr (auto = when it is a terminal)",
             CONF_FIELD(S, progress)),
    CONF_ROW("summary-json", 0, CONF_STRING, .section = "Logging", .argname = "FILE",
             .help = "at the end, each receiver's result as JSON (docs/uftp-summary.schema.json), "
                     "even when the session fails",
             .complete = "@file", CONF_FIELD(S, summary_json)),
    {.name = NULL},
};

const struct conf_spec uftp_conf_spec = {
    .prog = "uftp",
    .usage = "{ -i list_file | file ... }",
    .opts = opts,
    .default_file = "/etc/uftp/uftp.conf",
};
