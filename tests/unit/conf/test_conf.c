/*
 * The option table machinery, driven by a realistic sample table with
 * every kind of option: command line, config file, precedence, messages,
 * --check round trip, --help and the example config.
 */
#include <arpa/inet.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/conf/conf.h"
#include "core/conf/hostlist.h"
#include "cu.h"

/* ---- the sample program's settings and custom values ---- */

struct grtt {
    double init, min, max;
};

enum { CC_NONE = 0, CC_TFMCC = 2 };
struct cc {
    int type;
    long long min, init, max; /* Kbps, 0 = not given */
};

enum { KEY_NONE = 0, KEY_RSA = 1, KEY_EC = 2 };
struct keyspec {
    int type;
    int param; /* RSA bits or curve */
};

struct settings {
    bool debug;
    bool encrypted_only;
    long long port;
    int log_level;
    long long rate;
    long long bufsize;
    int cache;
    double init_grtt;
    char *logfile;
    char *pidfile;
    int cipher;
    int curve;
    struct conf_list dests;
    struct conf_list ifaces;
    struct grtt grtt;
    struct cc cc;
    struct keyspec key;
    struct conf_hostlist hosts;
    struct conf_hostlist servers;
    char *listfile;
    char *secret_knob;
};

/* -r init[:min:max] (spec §2.1), seconds 0.001..1000, min <= init <= max. */
static int grtt_parse(const struct conf_option *o, const char *text, void *dst, char *msg,
                      size_t ml)
{
    struct grtt *g = dst;
    char buf[128];
    char *parts[4];
    int n = 0;
    snprintf(buf, sizeof(buf), "%s", text);
    for (char *p = buf, *c; n < 4; p = c + 1) {
        parts[n++] = p;
        if (!(c = strchr(p, ':')))
            break;
        *c = '\0';
    }
    g->min = 0.01;
    g->max = 15.0;
    if ((n != 1 && n != 3) || conf_parse_double(parts[0], 0.001, 1000, &g->init) < 0 ||
        (n == 3 && (conf_parse_double(parts[1], 0.001, 1000, &g->min) < 0 ||
                    conf_parse_double(parts[2], 0.001, 1000, &g->max) < 0))) {
        snprintf(msg, ml, "must be init[:min:max] in seconds (0.001..1000)");
        return CONF_EVALUE;
    }
    if (g->min > g->init || g->init > g->max) {
        snprintf(msg, ml, "must have min <= init <= max");
        return CONF_ERANGE;
    }
    return 0;
}

static int grtt_print(const struct conf_option *o, const void *src, char *buf, size_t len)
{
    const struct grtt *g = src;
    char a[32], b[32], c[32];
    conf_format_double(a, sizeof(a), g->init);
    conf_format_double(b, sizeof(b), g->min);
    conf_format_double(c, sizeof(c), g->max);
    snprintf(buf, len, "%s:%s:%s", a, b, c);
    return 0;
}

/* -C none | tfmcc[:min=K][:init=K][:max=K] | tfmcc:K (K = max). */
static int cc_parse(const struct conf_option *o, const char *text, void *dst, char *msg, size_t ml)
{
    struct cc *c = dst;
    if (!strcmp(text, "none"))
        return 0;
    if (strncmp(text, "tfmcc", 5) || (text[5] && text[5] != ':'))
        goto bad;
    c->type = CC_TFMCC;
    for (const char *p = text + 5; *p == ':';) {
        char item[64];
        const char *next = strchr(p + 1, ':');
        size_t n = next ? (size_t)(next - p - 1) : strlen(p + 1);
        if (n >= sizeof(item))
            goto bad;
        memcpy(item, p + 1, n);
        item[n] = '\0';
        long long *slot = &c->max;
        const char *num = item;
        if (!strncmp(item, "min=", 4))
            slot = &c->min, num = item + 4;
        else if (!strncmp(item, "init=", 5))
            slot = &c->init, num = item + 5;
        else if (!strncmp(item, "max=", 4))
            num = item + 4;
        if (conf_parse_ll(num, 1, 1LL << 30, slot) < 0)
            goto bad;
        p = next ? next : p + 1 + n;
    }
    return 0;
bad:
    snprintf(msg, ml, "must be none or tfmcc[:min=K][:init=K][:max=K]");
    return CONF_EVALUE;
}

static int cc_print(const struct conf_option *o, const void *src, char *buf, size_t len)
{
    const struct cc *c = src;
    if (c->type == CC_NONE) {
        snprintf(buf, len, "none");
        return 0;
    }
    int n = snprintf(buf, len, "tfmcc");
    if (c->min)
        n += snprintf(buf + n, len - (size_t)n, ":min=%lld", c->min);
    if (c->init)
        n += snprintf(buf + n, len - (size_t)n, ":init=%lld", c->init);
    if (c->max)
        snprintf(buf + n, len - (size_t)n, ":max=%lld", c->max);
    return 0;
}

static const struct conf_word curves[] = {
    {"secp256r1", 23}, {"prime256v1", 23}, {"secp384r1", 24}, {"secp521r1", 25}, {NULL, 0}};

/* -K rsa:BITS | ec:CURVE */
static int key_parse(const struct conf_option *o, const char *text, void *dst, char *msg, size_t ml)
{
    struct keyspec *k = dst;
    long long bits;
    if (!strncmp(text, "rsa:", 4)) {
        if (conf_parse_ll(text + 4, 1024, 3072, &bits) < 0) {
            snprintf(msg, ml, "must be rsa:BITS with BITS 1024..3072");
            return CONF_ERANGE;
        }
        k->type = KEY_RSA;
        k->param = (int)bits;
        return 0;
    }
    if (!strncmp(text, "ec:", 3)) {
        for (const struct conf_word *w = curves; w->word; w++) {
            if (!strcmp(w->word, text + 3)) {
                k->type = KEY_EC;
                k->param = w->value;
                return 0;
            }
        }
    }
    snprintf(msg, ml, "must be rsa:BITS or ec:CURVE");
    return CONF_EVALUE;
}

static int key_print(const struct conf_option *o, const void *src, char *buf, size_t len)
{
    const struct keyspec *k = src;
    if (k->type == KEY_NONE)
        return 1;
    if (k->type == KEY_RSA) {
        snprintf(buf, len, "rsa:%d", k->param);
        return 0;
    }
    for (const struct conf_word *w = curves; w->word; w++) {
        if (w->value == k->param) {
            snprintf(buf, len, "ec:%s", w->word);
            return 0;
        }
    }
    return -1;
}

static int absolute_dirs(const struct conf_option *o, const void *val, char *msg, size_t ml)
{
    const struct conf_list *l = val;
    for (size_t i = 0; i < l->n; i++) {
        if (l->v[i][0] != '/') {
            snprintf(msg, ml, "entries must be absolute paths ('%s' is not)", l->v[i]);
            return CONF_EVALUE;
        }
    }
    return 0;
}

/* An offline resolver: "alpha" is 10.1.2.3 and "v6host" is ::1; nothing else exists. */
static int fake_resolve(const char *host, int family, struct sockaddr_storage *out, socklen_t *len)
{
    memset(out, 0, sizeof(*out));
    if (!strcmp(host, "alpha")) {
        struct sockaddr_in *s = (struct sockaddr_in *)out;
        s->sin_family = AF_INET;
        s->sin_addr.s_addr = htonl(0x0a010203);
        *len = sizeof(*s);
        return 0;
    }
    return -1;
}

static const struct conf_hl_spec hosts_spec = {CONF_HL_IDS, CONF_HL_MAX_DEST, fake_resolve};
static const struct conf_hl_spec servers_spec = {CONF_HL_SERVERS, CONF_HL_MAX_SERVERS, NULL};

static const struct conf_word ciphers[] = {{"none", 0},       {"aes128-gcm", 2}, {"aes256-gcm", 3},
                                           {"aes128-ccm", 4}, {"aes256-ccm", 5}, {NULL, 0}};

#define S struct settings
static const struct conf_option opts[] = {
    {.name = "debug",
     .short_name = 'd',
     .type = CONF_BOOL,
     .section = "Daemon",
     .help = "stay in the foreground and log to stderr",
     CONF_FIELD(S, debug)},
    {.name = "log-file",
     .short_name = 'L',
     .type = CONF_STRING,
     .section = "Daemon",
     .argname = "FILE",
     .help = "log file",
     .def = "/tmp/uftpd.log",
     CONF_FIELD(S, logfile)},
    {.name = "log-level",
     .short_name = 'x',
     .type = CONF_INT,
     .section = "Daemon",
     .argname = "N",
     .help = "log level",
     .def = "2",
     .min = 0,
     .max = 5,
     CONF_FIELD(S, log_level)},
    {.name = "pid-file",
     .short_name = 'P',
     .type = CONF_STRING,
     .section = "Daemon",
     .argname = "FILE",
     .help = "pid file",
     CONF_FIELD(S, pidfile)},
    {.name = "port",
     .short_name = 'p',
     .type = CONF_INT,
     .section = "Transport",
     .argname = "PORT",
     .help = "UDP port to listen on",
     .def = "1044",
     .min = 1,
     .max = 65535,
     CONF_FIELD(S, port)},
    {.name = "rate",
     .short_name = 'R',
     .type = CONF_INT,
     .section = "Transport",
     .argname = "KBPS",
     .help = "rate in Kbps, -1 for as fast as possible",
     .def = "1000",
     .min = -1,
     .max = 1LL << 30,
     CONF_FIELD(S, rate)},
    {.name = "buffer",
     .short_name = 'B',
     .type = CONF_SIZE,
     .section = "Transport",
     .argname = "BYTES",
     .help = "UDP buffer size",
     .def = "256K",
     .min = 65536,
     .max = 104857600,
     CONF_FIELD(S, bufsize)},
    {.name = "cache",
     .short_name = 'c',
     .type = CONF_SIZE,
     .section = "Files",
     .argname = "BYTES",
     .help = "receive cache",
     .def = "1M",
     .min = 10240,
     .max = 20971520,
     CONF_FIELD(S, cache)},
    {.name = "interface",
     .short_name = 'I',
     .type = CONF_LIST,
     .section = "Transport",
     .argname = "IF[,IF...]",
     .help = "interfaces to listen on",
     .list_max = 4,
     .flags = CONF_APPEND,
     CONF_FIELD(S, ifaces)},
    {.name = "init-grtt",
     .type = CONF_DOUBLE,
     .section = "Transport",
     .argname = "SECONDS",
     .help = "initial GRTT",
     .def = "0.5",
     .dmin = 0.001,
     .dmax = 1000,
     CONF_FIELD(S, init_grtt)},
    {.name = "grtt",
     .short_name = 'r',
     .type = CONF_CUSTOM,
     .section = "Transport",
     .argname = "INIT[:MIN:MAX]",
     .help = "GRTT bounds",
     .def = "0.5:0.01:15",
     .parse = grtt_parse,
     .print = grtt_print,
     CONF_FIELD(S, grtt)},
    {.name = "cc",
     .short_name = 'C',
     .type = CONF_CUSTOM,
     .section = "Transport",
     .argname = "TYPE",
     .help = "congestion control",
     .def = "none",
     .parse = cc_parse,
     .print = cc_print,
     CONF_FIELD(S, cc)},
    {.name = "encrypted-only",
     .short_name = 'E',
     .type = CONF_BOOL,
     .section = "Security",
     .help = "accept encrypted sessions only",
     .def = "false",
     CONF_FIELD(S, encrypted_only)},
    {.name = "cipher",
     .short_name = 'Y',
     .type = CONF_ENUM,
     .section = "Security",
     .argname = "CIPHER",
     .help = "encryption",
     .def = "aes256-gcm",
     .words = ciphers,
     CONF_FIELD(S, cipher)},
    {.name = "curve",
     .short_name = 'e',
     .type = CONF_ENUM,
     .section = "Security",
     .argname = "CURVE",
     .help = "ECDH curve",
     .def = "prime256v1",
     .words = curves,
     CONF_FIELD(S, curve)},
    {.name = "key",
     .short_name = 'K',
     .type = CONF_CUSTOM,
     .section = "Security",
     .argname = "rsa:BITS|ec:CURVE",
     .help = "generate a key",
     .parse = key_parse,
     .print = key_print,
     CONF_FIELD(S, key)},
    {.name = "hosts",
     .short_name = 'H',
     .type = CONF_CUSTOM,
     .section = "Security",
     .argname = "ID[,ID...]|@FILE",
     .help = "closed group members",
     .parse = conf_hostlist_opt_parse,
     .print = conf_hostlist_opt_print,
     .free = conf_hostlist_opt_free,
     .arg = &hosts_spec,
     CONF_FIELD(S, hosts)},
    {.name = "server-list",
     .short_name = 'S',
     .type = CONF_CUSTOM,
     .section = "Security",
     .argname = "FILE",
     .help = "allowed servers",
     .parse = conf_hostlist_opt_parse,
     .print = conf_hostlist_opt_print,
     .free = conf_hostlist_opt_free,
     .arg = &servers_spec,
     CONF_FIELD(S, servers)},
    {.name = "dest",
     .short_name = 'D',
     .type = CONF_LIST,
     .section = "Files",
     .argname = "DIR[,DIR...]",
     .help = "destination directories",
     .def = "/tmp",
     .list_max = 10,
     .check = absolute_dirs,
     CONF_FIELD(S, dests)},
    {.name = "list-file",
     .short_name = 'i',
     .type = CONF_STRING,
     .section = "Files",
     .argname = "FILE",
     .help = "read the files to send from FILE",
     .flags = CONF_NOFILE,
     CONF_FIELD(S, listfile)},
    {.name = "secret-knob",
     .type = CONF_STRING,
     .help = "for tests",
     .flags = CONF_HIDDEN,
     CONF_FIELD(S, secret_knob)},
    {.name = NULL},
};
#undef S

static const struct conf_spec spec = {"uftpd", "[file ...]", opts, NULL, 0};

/* ---- helpers ---- */

static struct settings st;
static struct conf_err err;

static void fresh(void)
{
    conf_free(&spec, &st);
    memset(&st, 0, sizeof(st));
    memset(&err, 0, sizeof(err));
    CU_ASSERT_EQUAL_FATAL(conf_defaults(&spec, &st, &err), 0);
}

/* Parses a command line given as words; returns conf_parse_args' result. */
static struct conf_cmd cmd;
static int args(const char *const *words)
{
    char *argv[64];
    int argc = 0;
    argv[argc++] = "uftpd";
    for (; *words && argc < 63; words++)
        argv[argc++] = (char *)*words;
    argv[argc] = NULL;
    err.msg[0] = '\0';
    return conf_parse_args(&spec, &st, argc, argv, &cmd, &err);
}
#define ARGS(...) args((const char *const[]){__VA_ARGS__, NULL})

static int file(const char *text)
{
    err.msg[0] = '\0';
    return conf_load_buffer(&spec, &st, "uftpd.conf", text, strlen(text), &err);
}

#define CHECK_ERR(expr, code, text)                                                                \
    do {                                                                                           \
        int rc_ = (expr);                                                                          \
        CU_ASSERT_EQUAL(rc_, code);                                                                \
        if (strcmp(err.msg, text) != 0)                                                            \
            printf("\n  got  '%s'\n  want '%s'\n", err.msg, text);                                 \
        CU_ASSERT_STRING_EQUAL(err.msg, text);                                                     \
    } while (0)

static char *print_settings(void)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    CU_ASSERT_EQUAL(conf_print(&spec, &st, f), 0);
    fclose(f);
    return buf;
}

/* ---- tests ---- */

static void test_table_check(void)
{
    CU_ASSERT_EQUAL(conf_table_check(&spec, &err), 0);

    struct conf_option bad[3];
    struct conf_spec bs = {"t", NULL, bad, NULL, 0};
    memset(bad, 0, sizeof(bad));
    bad[0] = opts[4]; /* port */
    bad[1] = opts[5]; /* rate */
    bad[1].short_name = 'p';
    CHECK_ERR(conf_table_check(&bs, &err), CONF_ETABLE, "options 'port' and 'rate' share -p");
    bad[1] = opts[4];
    CHECK_ERR(conf_table_check(&bs, &err), CONF_ETABLE, "option 'port' defined twice");
    bad[1] = opts[5];
    bad[1].size = 2;
    CHECK_ERR(conf_table_check(&bs, &err), CONF_ETABLE,
              "option 'rate': field is not int or long long");
    bad[1] = opts[5];
    bad[1].def = "0x";
    CHECK_ERR(conf_table_check(&bs, &err), CONF_ETABLE,
              "option 'rate': default '0x' must be an integer -1..1073741824, not '0x'");
    bad[1] = opts[5];
    bad[1].name = "no-rate";
    CHECK_ERR(conf_table_check(&bs, &err), CONF_ETABLE, "option 'no-rate': bad name");
    bad[1] = opts[10]; /* grtt */
    bad[1].print = NULL;
    CHECK_ERR(conf_table_check(&bs, &err), CONF_ETABLE, "option 'grtt': custom callbacks missing");
    bad[1] = opts[0];
    bad[1].size = sizeof(int);
    CHECK_ERR(conf_table_check(&bs, &err), CONF_ETABLE, "option 'debug': field size 4, want 1");
    bad[1] = opts[1];
    bad[1].flags = CONF_NOFILE | CONF_NOCMDLINE;
    CHECK_ERR(conf_table_check(&bs, &err), CONF_ETABLE, "option 'log-file': nowhere to set it");
    bad[1] = opts[6];
    bad[1].min = 10, bad[1].max = 5;
    CHECK_ERR(conf_table_check(&bs, &err), CONF_ETABLE, "option 'buffer': bad range");
}

static void test_defaults(void)
{
    fresh();
    CU_ASSERT_FALSE(st.debug);
    CU_ASSERT_STRING_EQUAL(st.logfile, "/tmp/uftpd.log");
    CU_ASSERT_EQUAL(st.log_level, 2);
    CU_ASSERT_PTR_NULL(st.pidfile);
    CU_ASSERT_EQUAL(st.port, 1044);
    CU_ASSERT_EQUAL(st.rate, 1000);
    CU_ASSERT_EQUAL(st.bufsize, 262144);
    CU_ASSERT_EQUAL(st.cache, 1048576);
    CU_ASSERT_EQUAL(st.ifaces.n, 0);
    CU_ASSERT_EQUAL(st.init_grtt, 0.5);
    CU_ASSERT_EQUAL(st.grtt.init, 0.5);
    CU_ASSERT_EQUAL(st.grtt.min, 0.01);
    CU_ASSERT_EQUAL(st.grtt.max, 15.0);
    CU_ASSERT_EQUAL(st.cc.type, CC_NONE);
    CU_ASSERT_EQUAL(st.cipher, 3);
    CU_ASSERT_EQUAL(st.curve, 23);
    CU_ASSERT_EQUAL(st.key.type, KEY_NONE);
    CU_ASSERT_EQUAL(st.hosts.n, 0);
    CU_ASSERT_EQUAL_FATAL(st.dests.n, 1);
    CU_ASSERT_STRING_EQUAL(st.dests.v[0], "/tmp");
}

static void test_cmdline_types(void)
{
    fresh();
    CU_ASSERT_EQUAL(ARGS("-d", "-p", "5000", "-x5", "-B", "1M", "-L", "/var/log/u.log",
                         "--pid-file=/run/u.pid", "-Y", "aes128-ccm", "-e", "secp384r1", "-D",
                         "/a,/b", "-r", "1:0.1:5", "-C", "tfmcc:min=100:max=1000", "-K",
                         "ec:secp521r1", "-H", "0x01020304,10.0.0.1,alpha,abc", "-c", "20M",
                         "--init-grtt=0.25", "-R", "-1", "-E", "-i", "list", "file1", "file2"),
                    0);
    CU_ASSERT_STRING_EQUAL(err.msg, "");
    CU_ASSERT_TRUE(st.debug);
    CU_ASSERT_TRUE(st.encrypted_only);
    CU_ASSERT_EQUAL(st.port, 5000);
    CU_ASSERT_EQUAL(st.log_level, 5);
    CU_ASSERT_EQUAL(st.bufsize, 1048576);
    CU_ASSERT_EQUAL(st.cache, 20971520);
    CU_ASSERT_EQUAL(st.rate, -1);
    CU_ASSERT_STRING_EQUAL(st.logfile, "/var/log/u.log");
    CU_ASSERT_STRING_EQUAL(st.pidfile, "/run/u.pid");
    CU_ASSERT_STRING_EQUAL(st.listfile, "list");
    CU_ASSERT_EQUAL(st.cipher, 4);
    CU_ASSERT_EQUAL(st.curve, 24);
    CU_ASSERT_EQUAL_FATAL(st.dests.n, 2);
    CU_ASSERT_STRING_EQUAL(st.dests.v[1], "/b");
    CU_ASSERT_EQUAL(st.grtt.init, 1.0);
    CU_ASSERT_EQUAL(st.grtt.min, 0.1);
    CU_ASSERT_EQUAL(st.grtt.max, 5.0);
    CU_ASSERT_EQUAL(st.cc.type, CC_TFMCC);
    CU_ASSERT_EQUAL(st.cc.min, 100);
    CU_ASSERT_EQUAL(st.cc.init, 0);
    CU_ASSERT_EQUAL(st.cc.max, 1000);
    CU_ASSERT_EQUAL(st.key.type, KEY_EC);
    CU_ASSERT_EQUAL(st.key.param, 25);
    CU_ASSERT_EQUAL(st.init_grtt, 0.25);
    CU_ASSERT_EQUAL_FATAL(st.hosts.n, 4);
    CU_ASSERT_EQUAL(st.hosts.v[0].id, 0x01020304);
    CU_ASSERT_EQUAL(st.hosts.v[1].id, 0x0a000001);
    CU_ASSERT_EQUAL(st.hosts.v[2].id, 0x0a010203);
    CU_ASSERT_EQUAL(st.hosts.v[3].id, 0xabc);
    CU_ASSERT_STRING_EQUAL(st.hosts.source, "0x01020304,10.0.0.1,alpha,abc");
    /* Operands follow the options (GNU getopt moves them to the end). */
    CU_ASSERT_EQUAL(cmd.optind, 32);
    CU_ASSERT_FALSE(cmd.help);
    CU_ASSERT_FALSE(cmd.check);
    CU_ASSERT_PTR_NULL(cmd.config_file);
}

static void test_cmdline_ranges(void)
{
    fresh();
    CHECK_ERR(ARGS("-p", "0"), CONF_ERANGE, "option -p: 'port' must be 1..65535");
    CHECK_ERR(ARGS("-p", "65536"), CONF_ERANGE, "option -p: 'port' must be 1..65535");
    CU_ASSERT_EQUAL(ARGS("-p", "65535"), 0);
    CU_ASSERT_EQUAL(st.port, 65535);
    CU_ASSERT_EQUAL(ARGS("-p", "1"), 0);
    CU_ASSERT_EQUAL(st.port, 1);
    CU_ASSERT_EQUAL(ARGS("-p", "0x10"), 0);
    CU_ASSERT_EQUAL(st.port, 16);
    CHECK_ERR(ARGS("-p", "abc"), CONF_EVALUE,
              "option -p: 'port' must be an integer 1..65535, not 'abc'");
    CHECK_ERR(ARGS("-p", "5x"), CONF_EVALUE,
              "option -p: 'port' must be an integer 1..65535, not '5x'");
    CHECK_ERR(ARGS("-p", " 5"), CONF_EVALUE,
              "option -p: 'port' must be an integer 1..65535, not ' 5'");
    CHECK_ERR(ARGS("-p", ""), CONF_EVALUE, "option -p: 'port' must be an integer 1..65535, not ''");
    CHECK_ERR(ARGS("-p", "99999999999999999999999"), CONF_ERANGE,
              "option -p: 'port' must be 1..65535");
    CU_ASSERT_EQUAL(st.port, 16); /* a failed set leaves the old value */
    CHECK_ERR(ARGS("-x", "-1"), CONF_ERANGE, "option -x: 'log-level' must be 0..5");
    CHECK_ERR(ARGS("-x", "6"), CONF_ERANGE, "option -x: 'log-level' must be 0..5");
    CHECK_ERR(ARGS("-R", "-2"), CONF_ERANGE, "option -R: 'rate' must be -1..1073741824");
    CU_ASSERT_EQUAL(ARGS("-R", "1073741824"), 0);
    CHECK_ERR(ARGS("-R", "1073741825"), CONF_ERANGE, "option -R: 'rate' must be -1..1073741824");
    /* Sizes. */
    CU_ASSERT_EQUAL(ARGS("-B", "64K"), 0);
    CU_ASSERT_EQUAL(st.bufsize, 65536);
    CU_ASSERT_EQUAL(ARGS("-B", "100m"), 0);
    CU_ASSERT_EQUAL(st.bufsize, 104857600);
    CHECK_ERR(ARGS("-B", "65535"), CONF_ERANGE, "option -B: 'buffer' must be 65536..104857600");
    CHECK_ERR(ARGS("-B", "101M"), CONF_ERANGE, "option -B: 'buffer' must be 65536..104857600");
    CHECK_ERR(ARGS("-B", "1T"), CONF_EVALUE,
              "option -B: 'buffer' must be a size such as 65536, 256K or 1M, not '1T'");
    CHECK_ERR(ARGS("-B", "9999999999G"), CONF_ERANGE,
              "option -B: 'buffer' must be 65536..104857600");
    CHECK_ERR(ARGS("-c", "10239"), CONF_ERANGE, "option -c: 'cache' must be 10240..20971520");
    CU_ASSERT_EQUAL(ARGS("-c", "10240"), 0);
    CU_ASSERT_EQUAL(st.cache, 10240);
    /* Doubles. */
    CU_ASSERT_EQUAL(ARGS("--init-grtt", "0.001"), 0);
    CU_ASSERT_EQUAL(st.init_grtt, 0.001);
    CU_ASSERT_EQUAL(ARGS("--init-grtt=1000"), 0);
    CHECK_ERR(ARGS("--init-grtt=0.0009"), CONF_ERANGE,
              "option --init-grtt: 'init-grtt' must be 0.001..1000");
    CHECK_ERR(ARGS("--init-grtt=1000.1"), CONF_ERANGE,
              "option --init-grtt: 'init-grtt' must be 0.001..1000");
    CHECK_ERR(ARGS("--init-grtt=nan"), CONF_EVALUE,
              "option --init-grtt: 'init-grtt' must be a number 0.001..1000, not 'nan'");
    CHECK_ERR(ARGS("--init-grtt=inf"), CONF_EVALUE,
              "option --init-grtt: 'init-grtt' must be a number 0.001..1000, not 'inf'");
    /* Enums, including an alias. */
    CHECK_ERR(ARGS("-Y", "aes256-cbc"), CONF_EVALUE,
              "option -Y: 'cipher' must be one of none, aes128-gcm, aes256-gcm, aes128-ccm, "
              "aes256-ccm, not 'aes256-cbc'");
    CU_ASSERT_EQUAL(ARGS("-e", "prime256v1"), 0);
    CU_ASSERT_EQUAL(st.curve, 23);
    /* Custom values. */
    CHECK_ERR(ARGS("-r", "1:2"), CONF_EVALUE,
              "option -r: 'grtt' must be init[:min:max] in seconds (0.001..1000)");
    CHECK_ERR(ARGS("-r", "1:2:3"), CONF_ERANGE, "option -r: 'grtt' must have min <= init <= max");
    CHECK_ERR(ARGS("-C", "pgmcc"), CONF_EVALUE,
              "option -C: 'cc' must be none or tfmcc[:min=K][:init=K][:max=K]");
    CU_ASSERT_EQUAL(ARGS("-C", "tfmcc:5000"), 0);
    CU_ASSERT_EQUAL(st.cc.max, 5000);
    CHECK_ERR(ARGS("-K", "rsa:512"), CONF_ERANGE,
              "option -K: 'key' must be rsa:BITS with BITS 1024..3072");
    /* A list check callback. */
    CHECK_ERR(ARGS("-D", "/ok,rel"), CONF_EVALUE,
              "option -D: 'dest' entries must be absolute paths ('rel' is not)");
    CHECK_ERR(ARGS("-D", "/a,,/b"), CONF_EVALUE, "option -D: 'dest' has an empty entry");
    CHECK_ERR(ARGS("-D", "/1,/2,/3,/4,/5,/6,/7,/8,/9,/10,/11"), CONF_ECOUNT,
              "option -D: 'dest' takes at most 10 entries");
    CU_ASSERT_EQUAL(ARGS("-D", "/1,/2,/3,/4,/5,/6,/7,/8,/9,/10"), 0);
    CU_ASSERT_EQUAL(st.dests.n, 10);
    /* The -H list. */
    CHECK_ERR(ARGS("-H", "0x01020304,1.2.3.4"), CONF_EVALUE,
              "option -H: 'hosts' list: duplicate ID 0x01020304");
    CHECK_ERR(ARGS("-H", "0"), CONF_ERANGE,
              "option -H: 'hosts' entry ID '0' is reserved (0 and 0xFFFFFFFF are not allowed)");
    CHECK_ERR(ARGS("-H", "nosuchhost"), CONF_EVALUE,
              "option -H: 'hosts' entry 'nosuchhost' is not an ID, an IPv4 address or a known "
              "host name");
    CHECK_ERR(ARGS("-H", "a|00:11"), CONF_EVALUE,
              "option -H: 'hosts' entry 'a|00:11': fingerprints need a list file (@file)");
    CHECK_ERR(ARGS("-H", "@/nonexistent"), CONF_EIO,
              "option -H: 'hosts' /nonexistent: No such file or directory");
}

static void test_cmdline_rules(void)
{
    fresh();
    /* Last occurrence wins (spec §2); a list is replaced... */
    CU_ASSERT_EQUAL(ARGS("-p", "1", "-p", "2", "--port=3", "-D", "/a", "-D", "/b,/c"), 0);
    CU_ASSERT_EQUAL(st.port, 3);
    CU_ASSERT_EQUAL_FATAL(st.dests.n, 2);
    CU_ASSERT_STRING_EQUAL(st.dests.v[0], "/b");
    /* ...unless it appends, and then the limit counts all of it. */
    CU_ASSERT_EQUAL(ARGS("-I", "eth0", "-I", "eth1,eth2"), 0);
    CU_ASSERT_EQUAL_FATAL(st.ifaces.n, 3);
    CU_ASSERT_STRING_EQUAL(st.ifaces.v[2], "eth2");
    CHECK_ERR(ARGS("-I", "eth3,eth4"), CONF_ECOUNT,
              "option -I: 'interface' takes at most 4 entries");
    CU_ASSERT_EQUAL(st.ifaces.n, 3);
    /* Flags, and --no-NAME. */
    CU_ASSERT_EQUAL(ARGS("-d", "-E", "--no-debug"), 0);
    CU_ASSERT_FALSE(st.debug);
    CU_ASSERT_TRUE(st.encrypted_only);
    CU_ASSERT_EQUAL(ARGS("--no-encrypted-only", "--debug"), 0);
    CU_ASSERT_FALSE(st.encrypted_only);
    CU_ASSERT_TRUE(st.debug);
    /* Misuse. */
    CHECK_ERR(ARGS("-Z"), CONF_EUNKNOWN, "unknown option '-Z'");
    CHECK_ERR(ARGS("--bogus"), CONF_EUNKNOWN, "unknown option '--bogus'");
    CHECK_ERR(ARGS("--debug=yes"), CONF_EARG, "option --debug takes no value");
    CHECK_ERR(ARGS("--no-debug=1"), CONF_EARG, "option --no-debug takes no value");
    CHECK_ERR(ARGS("-p"), CONF_EARG, "option -p needs a value");
    CHECK_ERR(ARGS("--port"), CONF_EARG, "option --port needs a value");
    CHECK_ERR(ARGS("--config"), CONF_EARG, "option --config needs a value");
    CHECK_ERR(ARGS("--secret-knob=x"), 0, "");
    CU_ASSERT_STRING_EQUAL(st.secret_knob, "x");
    /* Built-ins. */
    CU_ASSERT_EQUAL(ARGS("--help", "--check", "--config", "/etc/x.conf", "a", "b"), 0);
    CU_ASSERT_TRUE(cmd.help);
    CU_ASSERT_TRUE(cmd.check);
    CU_ASSERT_STRING_EQUAL(cmd.config_file, "/etc/x.conf");
    CU_ASSERT_EQUAL(cmd.optind, 5);
    /* "--" ends the options. */
    CU_ASSERT_EQUAL(ARGS("--", "-p"), 0);
    CU_ASSERT_EQUAL(cmd.optind, 2);
    /* conf_set, as a program would for a computed value. */
    CU_ASSERT_EQUAL(conf_set(&spec, &st, "rate", "77", &err), 0);
    CU_ASSERT_EQUAL(st.rate, 77);
    CHECK_ERR(conf_set(&spec, &st, "rate", "x", &err), CONF_EVALUE,
              "option --rate: 'rate' must be an integer -1..1073741824, not 'x'");
    CHECK_ERR(conf_set(&spec, &st, "nope", "x", &err), CONF_EUNKNOWN, "unknown option 'nope'");
}

static void test_file_values(void)
{
    fresh();
    CU_ASSERT_EQUAL(file("# a comment\n"
                         "debug = true;\n"
                         "port = 0x400; // hex\n"
                         "log-level = 4;\n"
                         "buffer = \"512K\";\n"
                         "cache = 65536;\n"
                         "init-grtt = 2;\n"
                         "grtt = \"0.2:0.05:2\";\n"
                         "rate = -1;\n"
                         "log-file = \"/var/log/a \\\"b\\\".log\";\n"
                         "cipher = \"aes128-gcm\";\n"
                         "dest = [\"/d1\", \"/d2\"];\n"
                         "interface = \"eth0,eth1\";\n"
                         "cc = \"tfmcc:init=300\";\n"
                         "hosts = \"0xc0a80101\";\r\n"
                         "/* block\n comment */ encrypted-only = false;\n"),
                    0);
    CU_ASSERT_STRING_EQUAL(err.msg, "");
    CU_ASSERT_TRUE(st.debug);
    CU_ASSERT_EQUAL(st.port, 1024);
    CU_ASSERT_EQUAL(st.log_level, 4);
    CU_ASSERT_EQUAL(st.bufsize, 524288);
    CU_ASSERT_EQUAL(st.cache, 65536);
    CU_ASSERT_EQUAL(st.init_grtt, 2.0);
    CU_ASSERT_EQUAL(st.grtt.min, 0.05);
    CU_ASSERT_EQUAL(st.rate, -1);
    CU_ASSERT_STRING_EQUAL(st.logfile, "/var/log/a \"b\".log");
    CU_ASSERT_EQUAL(st.cipher, 2);
    CU_ASSERT_EQUAL(st.dests.n, 2);
    CU_ASSERT_EQUAL(st.ifaces.n, 2);
    CU_ASSERT_EQUAL(st.cc.init, 300);
    CU_ASSERT_EQUAL_FATAL(st.hosts.n, 1);
    CU_ASSERT_EQUAL(st.hosts.v[0].id, 0xc0a80101);

    /* 32-bit hex is unsigned (libconfig would say -1062731519). */
    CU_ASSERT_EQUAL(file("rate = 0x10000000;"), 0);
    CU_ASSERT_EQUAL(st.rate, 0x10000000);
    CU_ASSERT_EQUAL(file("rate = 0x40000000L;"), 0);
    CU_ASSERT_EQUAL(st.rate, 1LL << 30);
    /* An L-suffixed value into an int field is range-checked, not truncated. */
    CHECK_ERR(file("cache = 5000000000L;"), CONF_ERANGE,
              "uftpd.conf:1: 'cache' must be 10240..20971520");
    /* Empty array. */
    CU_ASSERT_EQUAL(file("interface = [];"), 0);
    CU_ASSERT_EQUAL(st.ifaces.n, 0);
}

static void test_file_errors(void)
{
    fresh();
    CHECK_ERR(file("port = 1044;\n\nfoo = 1;\n"), CONF_EUNKNOWN,
              "uftpd.conf:3: unknown setting 'foo'");
    CHECK_ERR(file("\nport = 70000;\n"), CONF_ERANGE, "uftpd.conf:2: 'port' must be 1..65535");
    CHECK_ERR(file("rate = 2000000000;"), CONF_ERANGE,
              "uftpd.conf:1: 'rate' must be -1..1073741824");
    CHECK_ERR(file("port = \"1044\";"), CONF_ETYPE,
              "uftpd.conf:1: 'port' must be an integer, not a string");
    CHECK_ERR(file("port = 10.5;"), CONF_ETYPE,
              "uftpd.conf:1: 'port' must be an integer, not a float");
    CHECK_ERR(file("debug = 1;"), CONF_ETYPE,
              "uftpd.conf:1: 'debug' must be a boolean (true or false), not an integer");
    CHECK_ERR(file("log-file = 5;"), CONF_ETYPE,
              "uftpd.conf:1: 'log-file' must be a string, not an integer");
    CHECK_ERR(file("init-grtt = \"0.5\";"), CONF_ETYPE,
              "uftpd.conf:1: 'init-grtt' must be a number, not a string");
    CHECK_ERR(file("buffer = true;"), CONF_ETYPE,
              "uftpd.conf:1: 'buffer' must be a size (an integer, or a string such as \"256K\"), "
              "not a boolean");
    CHECK_ERR(file("dest = (\"/a\", 2);"), CONF_ETYPE,
              "uftpd.conf:1: 'dest' must be a list of strings; entry 2 is an integer");
    CHECK_ERR(file("dest = (\"/a\", \"\");"), CONF_EVALUE,
              "uftpd.conf:1: 'dest' has an empty entry");
    CHECK_ERR(file("dest = [\"/1\",\"/2\",\"/3\",\"/4\",\"/5\",\"/6\",\"/7\",\"/8\",\"/9\",\"/10\","
                   "\"/11\"];"),
              CONF_ECOUNT, "uftpd.conf:1: 'dest' takes at most 10 entries");
    CHECK_ERR(file("dest = [\"rel\"];"), CONF_EVALUE,
              "uftpd.conf:1: 'dest' entries must be absolute paths ('rel' is not)");
    CHECK_ERR(file("port = { a = 1; };"), CONF_ETYPE,
              "uftpd.conf:1: 'port' must be an integer, not a group");
    CHECK_ERR(file("cipher = \"des\";"), CONF_EVALUE,
              "uftpd.conf:1: 'cipher' must be one of none, aes128-gcm, aes256-gcm, aes128-ccm, "
              "aes256-ccm, not 'des'");
    CHECK_ERR(file("grtt = \"x\";"), CONF_EVALUE,
              "uftpd.conf:1: 'grtt' must be init[:min:max] in seconds (0.001..1000)");
    CHECK_ERR(file("list-file = \"x\";"), CONF_EPLACE,
              "uftpd.conf:1: 'list-file' can only be given on the command line");
    CHECK_ERR(file("port = 1;\nrate = ;"), CONF_ESYNTAX, "uftpd.conf:2: syntax error");
    CHECK_ERR(file("dest = [\"/a\", 2];"), CONF_ESYNTAX,
              "uftpd.conf:1: mismatched element type in array");
    CHECK_ERR(file("port = 1;\nport = 2;\n"), CONF_ESYNTAX, "uftpd.conf:2: duplicate setting name");
    CHECK_ERR(file("port = 1;\n  @include \"/etc/passwd\"\n"), CONF_ESYNTAX,
              "uftpd.conf:2: @include is not supported");
    CHECK_ERR(file("# \"quoted\n\ncache = 3000000000;"), CONF_ERANGE,
              "uftpd.conf:3: integer 3000000000 does not fit in 32 bits; write 3000000000L");
    CHECK_ERR(file("rate = 0x1FFFFFFFF;"), CONF_ERANGE,
              "uftpd.conf:1: integer 0x1FFFFFFFF does not fit in 32 bits; write 0x1FFFFFFFFL");
    CHECK_ERR(file("rate = -2147483649;"), CONF_ERANGE,
              "uftpd.conf:1: integer -2147483649 does not fit in 32 bits; write -2147483649L");
    /* Digits inside strings, names and comments are not integers. */
    CU_ASSERT_EQUAL(file("log-file = \"99999999999\"; # 99999999999\n/* 99999999999 */"), 0);
    err.msg[0] = '\0';
    CHECK_ERR(conf_load_buffer(&spec, &st, "nul.conf", "port = 1;\0x", 11, &err), CONF_ESYNTAX,
              "nul.conf: contains a NUL byte");
    CHECK_ERR(conf_load_file(&spec, &st, "/nonexistent.conf", &err), CONF_EIO,
              "/nonexistent.conf: No such file or directory");
    CHECK_ERR(conf_load_file(&spec, &st, "/", &err), CONF_EIO, "/: not a regular file");
    /* After all these failures the settings are still the defaults. */
    CU_ASSERT_EQUAL(st.port, 1044);
    CU_ASSERT_EQUAL(st.rate, 1000);
    CU_ASSERT_EQUAL(st.dests.n, 1);
}

static void test_precedence(void)
{
    char path[] = "/tmp/uftp-conf-XXXXXX";
    int fd = mkstemp(path);
    CU_ASSERT_FATAL(fd >= 0);
    const char *text = "port = 2000;\nlog-file = \"/from/file\";\ndebug = true;\n";
    CU_ASSERT_EQUAL(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);

    char cfgarg[64];
    snprintf(cfgarg, sizeof(cfgarg), "--config=%s", path);
    char *argv[] = {"uftpd", "-p", "3000", cfgarg, "--no-debug", "op", NULL};
    conf_free(&spec, &st);
    memset(&st, 0, sizeof(st));
    CU_ASSERT_EQUAL(conf_load(&spec, &st, 6, argv, &cmd, &err), 0);
    CU_ASSERT_EQUAL(st.port, 3000);                   /* command line over file */
    CU_ASSERT_STRING_EQUAL(st.logfile, "/from/file"); /* file over default */
    CU_ASSERT_FALSE(st.debug);                        /* --no-debug over the file */
    CU_ASSERT_EQUAL(st.rate, 1000);                   /* default */
    CU_ASSERT_EQUAL(cmd.optind, 5);
    CU_ASSERT_STRING_EQUAL(argv[cmd.optind], "op");

    /* The default file is read when it exists and --config is absent. */
    struct conf_spec with_default = spec;
    with_default.default_file = path;
    char *argv2[] = {"uftpd", NULL};
    conf_free(&spec, &st);
    memset(&st, 0, sizeof(st));
    CU_ASSERT_EQUAL(conf_load(&with_default, &st, 1, argv2, &cmd, &err), 0);
    CU_ASSERT_EQUAL(st.port, 2000);
    CU_ASSERT_PTR_EQUAL(cmd.file_read, path);
    /* Where a value came from: the file's line, the option, or nowhere (default). */
    char where[128], want_where[128];
    CU_ASSERT_EQUAL(conf_origin(&spec, 1, argv2, &cmd, "log-file", where, sizeof(where)), 0);
    snprintf(want_where, sizeof(want_where), "%s:2", path);
    CU_ASSERT_STRING_EQUAL(where, want_where);
    CU_ASSERT_EQUAL(conf_origin(&spec, 1, argv2, &cmd, "rate", where, sizeof(where)), 0);
    CU_ASSERT_STRING_EQUAL(where, "");
    CU_ASSERT_EQUAL(conf_origin(&spec, 6, argv, &cmd, "port", where, sizeof(where)), 0);
    CU_ASSERT_STRING_EQUAL(where, "option -p");
    CU_ASSERT_EQUAL(conf_origin(&spec, 6, argv, &cmd, "debug", where, sizeof(where)), 0);
    CU_ASSERT_STRING_EQUAL(where, "option -d");
    CU_ASSERT_EQUAL(conf_origin(&spec, 6, argv, &cmd, "nope", where, sizeof(where)), CONF_EUNKNOWN);
    with_default.default_file = "/nonexistent/default.conf";
    CU_ASSERT_EQUAL(conf_load(&with_default, &st, 1, argv2, &cmd, &err), 0);
    CU_ASSERT_EQUAL(st.port, 1044);
    CU_ASSERT_PTR_NULL(cmd.file_read);

    /* A file error stops the load with the file's message. */
    FILE *f = fopen(path, "w");
    fputs("port = 1;\nrate = \"x\";\n", f);
    fclose(f);
    CU_ASSERT_EQUAL(conf_load(&spec, &st, 6, argv, &cmd, &err), CONF_ETYPE);
    char want[128];
    snprintf(want, sizeof(want), "%s:2: 'rate' must be an integer, not a string", path);
    CU_ASSERT_STRING_EQUAL(err.msg, want);
    /* An unknown option is reported before the file is read. */
    char *argv3[] = {"uftpd", cfgarg, "-Z", NULL};
    CHECK_ERR(conf_load(&spec, &st, 3, argv3, &cmd, &err), CONF_EUNKNOWN, "unknown option '-Z'");
    unlink(path);
}

static int diff_n;
static char diff_names[256];

static void on_diff(const struct conf_option *o, void *arg)
{
    CU_ASSERT_PTR_EQUAL(arg, &diff_n);
    diff_n++;
    size_t l = strlen(diff_names);
    snprintf(diff_names + l, sizeof(diff_names) - l, "%s ", o->name);
}

/* conf_diff: which options a re-read changed, by their printed values. */
static void test_diff(void)
{
    struct settings a, b;
    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    CU_ASSERT_EQUAL_FATAL(conf_defaults(&spec, &a, &err), 0);
    CU_ASSERT_EQUAL_FATAL(conf_defaults(&spec, &b, &err), 0);
    CU_ASSERT_EQUAL(conf_diff(&spec, &a, &b, NULL, NULL), 0);
    CU_ASSERT_EQUAL(conf_set(&spec, &b, "port", "2000", &err), 0);
    CU_ASSERT_EQUAL(conf_set(&spec, &b, "log-file", "/var/log/x", &err), 0);
    CU_ASSERT_EQUAL(conf_set(&spec, &b, "rate", "1000", &err), 0); /* the default again */
    diff_n = 0;
    diff_names[0] = '\0';
    CU_ASSERT_EQUAL(conf_diff(&spec, &a, &b, on_diff, &diff_n), 2);
    CU_ASSERT_EQUAL(diff_n, 2);
    CU_ASSERT_STRING_EQUAL(diff_names, "log-file port ");
    conf_free(&spec, &a);
    conf_free(&spec, &b);
}

static void test_round_trip(void)
{
    char hostfile[] = "/tmp/uftp-hosts-XXXXXX";
    int fd = mkstemp(hostfile);
    CU_ASSERT_FATAL(fd >= 0);
    const char *hosts = "0x11112222|192.168.1.101|0x22223333|66:1E:C9\n";
    CU_ASSERT_EQUAL(write(fd, hosts, strlen(hosts)), (ssize_t)strlen(hosts));
    close(fd);

    fresh();
    char sarg[64];
    snprintf(sarg, sizeof(sarg), "--server-list=%s", hostfile);
    CU_ASSERT_EQUAL(ARGS("-d", "-p", "1", "-R", "1073741824", "-B", "100M", "-L",
                         "a\"b\\c\nd\te\x01"
                         "f\xc3\xa9",
                         "-Y", "none", "-e", "prime256v1", "-D", "/x,/y z", "-I", "eth0", "-r",
                         "0.1:0.001:1000", "--init-grtt", "0.3333333333333333", "-C",
                         "tfmcc:min=1:init=2:max=3", "-K", "rsa:2048", "-H", "1.2.3.4,alpha", sarg,
                         "-i", "notprinted", "--secret-knob=s"),
                    0);
    CU_ASSERT_STRING_EQUAL(err.msg, "");
    char *one = print_settings();
    struct settings saved = st;
    memset(&st, 0, sizeof(st));
    CU_ASSERT_EQUAL(conf_defaults(&spec, &st, &err), 0);
    CU_ASSERT_EQUAL(file(one), 0);
    CU_ASSERT_STRING_EQUAL(err.msg, "");
    char *two = print_settings();
    CU_ASSERT_STRING_EQUAL(one, two);
    /* And field by field. */
    CU_ASSERT_EQUAL(st.debug, saved.debug);
    CU_ASSERT_EQUAL(st.port, 1);
    CU_ASSERT_EQUAL(st.rate, 1073741824);
    CU_ASSERT_EQUAL(st.bufsize, 104857600);
    CU_ASSERT_STRING_EQUAL(st.logfile, "a\"b\\c\nd\te\x01"
                                       "f\xc3\xa9");
    CU_ASSERT_EQUAL(st.cipher, 0);
    CU_ASSERT_EQUAL(st.curve, 23);
    CU_ASSERT_EQUAL(st.dests.n, 2);
    CU_ASSERT_STRING_EQUAL(st.dests.v[1], "/y z");
    CU_ASSERT_EQUAL(st.ifaces.n, 1);
    CU_ASSERT_EQUAL(st.grtt.init, 0.1);
    CU_ASSERT_EQUAL(st.grtt.min, 0.001);
    CU_ASSERT_EQUAL(st.grtt.max, 1000);
    CU_ASSERT_EQUAL(st.init_grtt, 0.3333333333333333);
    CU_ASSERT_EQUAL(memcmp(&st.cc, &saved.cc, sizeof(st.cc)), 0);
    CU_ASSERT_EQUAL(memcmp(&st.key, &saved.key, sizeof(st.key)), 0);
    CU_ASSERT_EQUAL(st.hosts.n, 2);
    CU_ASSERT_EQUAL(st.servers.n, 1);
    CU_ASSERT_EQUAL(st.servers.v[0].proxy_id, 0x22223333);
    CU_ASSERT_PTR_NULL(st.listfile); /* command-line only: not printed */
    CU_ASSERT_STRING_EQUAL(st.secret_knob, "s");
    /* The exact text of a few lines. */
    CU_ASSERT_PTR_NOT_NULL(strstr(one, "\nlog-file = \"a\\\"b\\\\c\\nd\\te\\x01f\xc3\xa9\";\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(one, "\ncurve = \"secp256r1\";\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(one, "\ndest = [ \"/x\", \"/y z\" ];\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(one, "\ninit-grtt = 0.3333333333333333;\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(one, "\ngrtt = \"0.1:0.001:1000.0\";\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(one, "\n# pid-file is not set\n"));
    CU_ASSERT_PTR_NULL(strstr(one, "list-file"));
    conf_free(&spec, &saved);
    free(one);
    free(two);

    /* Defaults round-trip too, including a value that needs an L suffix. */
    fresh();
    CU_ASSERT_EQUAL(ARGS("-R", "1073741824", "--init-grtt=1000"), 0);
    one = print_settings();
    CU_ASSERT_PTR_NOT_NULL(strstr(one, "\ninit-grtt = 1000.0;\n"));
    fresh();
    CU_ASSERT_EQUAL(file(one), 0);
    two = print_settings();
    CU_ASSERT_STRING_EQUAL(one, two);
    free(one);
    free(two);
    unlink(hostfile);
}

static void test_help(void)
{
    if (getenv("CONF_DUMP")) {
        conf_help(&spec, stdout);
        conf_doc(&spec, stdout);
        fresh();
        ARGS("-r", "0.1:0.001:1000", "--init-grtt=1000");
        conf_print(&spec, &st, stdout);
    }
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    conf_help(&spec, f);
    fclose(f);
    CU_ASSERT_EQUAL(strncmp(buf, "Usage: uftpd [options] [file ...]\n\nDaemon:\n", 41), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "\n  -p, --port=PORT               UDP port to listen on "
                                       "(1..65535; default 1044)\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "\n  -d, --debug                   stay in the foreground "
                                       "and log to stderr\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "\n      --init-grtt=SECONDS       initial GRTT "
                                       "(0.001..1000; default 0.5)\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "\n  -Y, --cipher=CIPHER           encryption (one of none, "
                                       "aes128-gcm, aes256-gcm, aes128-ccm, aes256-ccm; default "
                                       "aes256-gcm)\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "\n  -H, --hosts=ID[,ID...]|@FILE  closed group members\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "\n  -K, --key=rsa:BITS|ec:CURVE   generate a key\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "\n  -B, --buffer=BYTES            UDP buffer size "
                                       "(65536..104857600; default 256K)\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "\nTransport:\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "\nSecurity:\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "\nConfiguration:\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "      --check"));
    CU_ASSERT_PTR_NULL(strstr(buf, "secret-knob"));
    /* Each section appears once. */
    const char *t = strstr(buf, "\nTransport:\n");
    CU_ASSERT_PTR_NULL(strstr(t + 1, "\nTransport:\n"));
    free(buf);
}

static void test_doc(void)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    conf_doc(&spec, f);
    fclose(f);
    CU_ASSERT_PTR_NOT_NULL(
        strstr(buf, "\n# UDP port to listen on (-p; 1..65535)\n#port = 1044;\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "\n# initial GRTT (0.001..1000)\n#init-grtt = 0.5;\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "\n#buffer = 262144;\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "\n#dest = [ \"/tmp\" ];\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "\n#grtt = \"0.5:0.01:15.0\";\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "\n# (not set by default)\n#pid-file = \"FILE\";\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "\n# stay in the foreground and log to stderr (-d)\n"
                                       "#debug = false;\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "\n#interface = [];\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "\n# ECDH curve (-e; secp256r1, prime256v1, secp384r1, "
                                       "secp521r1)\n#curve = \"secp256r1\";\n"));
    CU_ASSERT_PTR_NULL(strstr(buf, "list-file"));
    CU_ASSERT_PTR_NULL(strstr(buf, "secret-knob"));

    /* Uncommenting every default gives back the defaults. */
    char *out = malloc(len + 1);
    size_t o = 0;
    bool skip = false;
    for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
        bool setting = line[0] == '#' && line[1] >= 'a' && line[1] <= 'z';
        if (setting && !skip) {
            size_t l = strlen(line + 1);
            memcpy(out + o, line + 1, l);
            o += l;
            out[o++] = '\n';
        }
        skip = !strcmp(line, "# (not set by default)");
    }
    out[o] = '\0';
    fresh();
    char *def = print_settings();
    CU_ASSERT_EQUAL(file(out), 0);
    CU_ASSERT_STRING_EQUAL(err.msg, "");
    char *back = print_settings();
    CU_ASSERT_STRING_EQUAL(def, back);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "port = 1044;\n"));
    free(def);
    free(back);
    free(out);
    free(buf);
}

static void test_number_helpers(void)
{
    long long v;
    double d;
    CU_ASSERT_EQUAL(conf_parse_ll("0x7fffffffffffffff", LLONG_MIN, LLONG_MAX, &v), 0);
    CU_ASSERT_EQUAL(v, LLONG_MAX);
    CU_ASSERT_EQUAL(conf_parse_ll("-9223372036854775808", LLONG_MIN, LLONG_MAX, &v), 0);
    CU_ASSERT_EQUAL(v, LLONG_MIN);
    CU_ASSERT_EQUAL(conf_parse_ll("9223372036854775808", LLONG_MIN, LLONG_MAX, &v), CONF_ERANGE);
    CU_ASSERT_EQUAL(conf_parse_ll("-9223372036854775809", LLONG_MIN, LLONG_MAX, &v), CONF_ERANGE);
    CU_ASSERT_EQUAL(conf_parse_ll("+5", 0, 10, &v), 0);
    CU_ASSERT_EQUAL(v, 5);
    CU_ASSERT_EQUAL(conf_parse_ll("010", 0, 100, &v), 0);
    CU_ASSERT_EQUAL(v, 10); /* decimal, not octal */
    CU_ASSERT_EQUAL(conf_parse_ll("0x", 0, 100, &v), CONF_EVALUE);
    CU_ASSERT_EQUAL(conf_parse_ll("--5", -10, 10, &v), CONF_EVALUE);
    CU_ASSERT_EQUAL(conf_parse_ll("5 ", 0, 10, &v), CONF_EVALUE);
    CU_ASSERT_EQUAL(conf_parse_double("1e3", 0, 0, &d), 0);
    CU_ASSERT_EQUAL(d, 1000.0);
    CU_ASSERT_EQUAL(conf_parse_double("1e999", 0, 0, &d), CONF_EVALUE);
    CU_ASSERT_EQUAL(conf_parse_double(".", 0, 0, &d), CONF_EVALUE);
    CU_ASSERT_EQUAL(conf_parse_size("8G", 0, LLONG_MAX, &v), 0);
    CU_ASSERT_EQUAL(v, 8LL << 30);
    CU_ASSERT_EQUAL(conf_parse_size("-1K", -2048, 0, &v), 0);
    CU_ASSERT_EQUAL(v, -1024);
    CU_ASSERT_EQUAL(conf_parse_size("K", 0, 10, &v), CONF_EVALUE);
    CU_ASSERT_EQUAL(conf_parse_size("9000000000G", 0, LLONG_MAX, &v), CONF_ERANGE);
}

/* A tool's table: an ignored reference letter, no settings file, -h for --help. */
struct ign_settings {
    bool verbose;
    bool store;
    char *gen;
};
static const struct conf_option ign_opts[] = {
    {.name = "verbose",
     .short_name = 'v',
     .type = CONF_BOOL,
     .help = "say more",
     CONF_FIELD(struct ign_settings, verbose)},
    {.name = "machine-store",
     .short_name = 'm',
     .type = CONF_BOOL,
     .flags = CONF_IGNORED | CONF_NOFILE,
     .help = "Windows key store (none here)",
     CONF_FIELD(struct ign_settings, store)},
    {.name = "generate",
     .short_name = 'g',
     .type = CONF_STRING,
     .flags = CONF_NOFILE,
     .argname = "SPEC",
     .help = "make a key",
     CONF_FIELD(struct ign_settings, gen)},
    {.name = NULL},
};
static const struct conf_spec ign_spec = {"tool", "[file ...]", ign_opts, NULL,
                                          CONF_SPEC_NOCONFIG | CONF_SPEC_HELP_H};

static char ign_msgs[4][256];
static size_t ign_n;
static void ign_warn(void *arg, const char *msg)
{
    CU_ASSERT_PTR_EQUAL(arg, &ign_n);
    if (ign_n < 4)
        snprintf(ign_msgs[ign_n], sizeof(ign_msgs[0]), "%s", msg);
    ign_n++;
}

static int ign_args(struct ign_settings *is, struct conf_cmd *c, const char *const *words)
{
    char *argv[16];
    int argc = 0;
    argv[argc++] = "tool";
    for (; *words && argc < 15; words++)
        argv[argc++] = (char *)*words;
    argv[argc] = NULL;
    conf_free(&ign_spec, is);
    memset(is, 0, sizeof(*is));
    CU_ASSERT_EQUAL(conf_defaults(&ign_spec, is, &err), 0);
    err.msg[0] = '\0';
    return conf_parse_args(&ign_spec, is, argc, argv, c, &err);
}
#define IGN(is, c, ...) ign_args(is, c, (const char *const[]){__VA_ARGS__, NULL})

static void test_ignored(void)
{
    struct ign_settings is = {0};
    struct conf_cmd c;
    CU_ASSERT_EQUAL(conf_table_check(&ign_spec, &err), 0);
    /* Parsed like any flag, named once by conf_ignored, in both spellings. */
    CU_ASSERT_EQUAL(IGN(&is, &c, "-v", "-m", "-m", "a"), 0);
    CU_ASSERT(is.store && is.verbose && c.optind == 4);
    ign_n = 0;
    CU_ASSERT_EQUAL(conf_ignored(&ign_spec, &is, ign_warn, &ign_n), 1);
    CU_ASSERT_EQUAL(ign_n, 1);
    CU_ASSERT_STRING_EQUAL(ign_msgs[0], "option -m ignored: Windows key store (none here)");
    CU_ASSERT_EQUAL(IGN(&is, &c, "--machine-store"), 0);
    CU_ASSERT_EQUAL(conf_ignored(&ign_spec, &is, NULL, NULL), 1);
    CU_ASSERT_EQUAL(IGN(&is, &c, "-v"), 0);
    CU_ASSERT_EQUAL(conf_ignored(&ign_spec, &is, NULL, NULL), 0);
    /* -h is --help; no settings file, so no --check or --config. */
    CU_ASSERT_EQUAL(IGN(&is, &c, "-h"), 0);
    CU_ASSERT(c.help);
    CU_ASSERT_EQUAL(IGN(&is, &c, "--help"), 0);
    CU_ASSERT(c.help);
    CHECK_ERR(IGN(&is, &c, "--check"), CONF_EUNKNOWN, "unknown option '--check'");
    CHECK_ERR(IGN(&is, &c, "--config=x"), CONF_EUNKNOWN, "unknown option '--config=x'");
    /* --help shows the rows and -h, not the configuration options. */
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    conf_help(&ign_spec, f);
    fclose(f);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "-m, --machine-store"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "-h, --help"));
    CU_ASSERT_PTR_NULL(strstr(out, "--check"));
    CU_ASSERT_PTR_NULL(strstr(out, "--config"));
    free(out);
    /* Not a setting. */
    char text[] = "machine-store = true;";
    err.msg[0] = '\0';
    CU_ASSERT_EQUAL(conf_load_buffer(&ign_spec, &is, "t.conf", text, strlen(text), &err),
                    CONF_EPLACE);
    conf_free(&ign_spec, &is);

    /* An ignored row is a command-line flag; -h cannot be a row's letter as well. */
    struct conf_option bad[3];
    struct conf_spec bs = {"t", NULL, bad, NULL, 0};
    memset(bad, 0, sizeof(bad));
    bad[0] = ign_opts[1];
    bad[0].flags = CONF_IGNORED;
    CU_ASSERT_EQUAL(conf_table_check(&bs, &err), CONF_ETABLE);
    bad[0] = ign_opts[2];
    bad[0].flags = CONF_IGNORED | CONF_NOFILE;
    CU_ASSERT_EQUAL(conf_table_check(&bs, &err), CONF_ETABLE);
    bad[0] = ign_opts[0];
    bad[0].short_name = 'h';
    bs.flags = CONF_SPEC_HELP_H;
    CU_ASSERT_EQUAL(conf_table_check(&bs, &err), CONF_ETABLE);
    bs.flags = 0;
    CU_ASSERT_EQUAL(conf_table_check(&bs, &err), 0);
}

static void test_cleanup(void)
{
    conf_free(&spec, &st);
    memset(&st, 0, sizeof(st));
}

static const struct cu_test conf_tests[] = {
    {"table check", test_table_check},
    {"defaults", test_defaults},
    {"command line: every type", test_cmdline_types},
    {"command line: ranges at the edges and messages", test_cmdline_ranges},
    {"command line: last wins, flags, misuse, built-ins", test_cmdline_rules},
    {"config file: every type", test_file_values},
    {"config file: exact error messages", test_file_errors},
    {"defaults < file < command line", test_precedence},
    {"--check output parses back to the same settings", test_round_trip},
    {"conf_diff names the changed options", test_diff},
    {"--help", test_help},
    {"example config", test_doc},
    {"number helpers", test_number_helpers},
    {"ignored options, a table without a settings file", test_ignored},
    {"cleanup", test_cleanup},
    {NULL, NULL},
};

CU_MAIN({"conf/conf", conf_tests})
