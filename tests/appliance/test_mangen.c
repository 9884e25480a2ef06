/*
 * man/mangen: the OPTIONS section rendered from a sample table covering
 * every kind of row, compared line by line with the expected troff; the
 * placeholders of a template; troff escaping.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cu.h"
#include "man/mangen.h"

struct st {
    long long port;
    bool debug;
    bool encrypt;
    char *logfile;
    int cipher;
    struct conf_list dests;
    long long bufsize;
    double grtt;
    char *restart;
    bool store;
    char *secret;
    long long internal;
};

static const struct conf_word ciphers[] = {{"aes256-gcm", 1}, {"none", 0}, {NULL, 0}};

#define S struct st
static const struct conf_option opts[] = {
    {.name = "port",
     .short_name = 'p',
     .type = CONF_INT,
     .min = 1,
     .max = 65535,
     .def = "1044",
     .argname = "PORT",
     .section = "Transport",
     .help = "UDP port to listen on",
     CONF_FIELD(S, port)},
    {.name = "foreground",
     .short_name = 'd',
     .type = CONF_BOOL,
     .section = "Daemon",
     .help = "Stay in the foreground and log to stderr",
     CONF_FIELD(S, debug)},
    {.name = "encrypt",
     .type = CONF_BOOL,
     .def = "true",
     .section = "Daemon",
     .help = "accept encrypted sessions.",
     CONF_FIELD(S, encrypt)},
    {.name = "logfile",
     .short_name = 'L',
     .type = CONF_STRING,
     .argname = "FILE",
     .section = "Daemon",
     .help = "Log to FILE (not with -d)",
     CONF_FIELD(S, logfile)},
    {.name = "cipher",
     .short_name = 'Y',
     .type = CONF_ENUM,
     .words = ciphers,
     .def = "aes256-gcm",
     .section = "Transport",
     .help = "cipher",
     CONF_FIELD(S, cipher)},
    {.name = "dest",
     .short_name = 'D',
     .type = CONF_LIST,
     .list_max = 10,
     .argname = "DIR",
     .section = "Files",
     .help = "destination directories",
     CONF_FIELD(S, dests)},
    {.name = "buffer-size",
     .short_name = 'B',
     .type = CONF_SIZE,
     .min = 65536,
     .max = 104857600,
     .def = "256K",
     .section = "Transport",
     .help = "socket buffer size",
     CONF_FIELD(S, bufsize)},
    {.name = "grtt",
     .type = CONF_DOUBLE,
     .dmin = 0.001,
     .dmax = 1000,
     .def = "0.5",
     .section = "Transport",
     .help = "initial GRTT in seconds",
     CONF_FIELD(S, grtt)},
    {.name = "restart",
     .short_name = 'F',
     .type = CONF_STRING,
     .flags = CONF_NOFILE,
     .section = "Files",
     .help = "restart from FILE",
     CONF_FIELD(S, restart)},
    {.name = "machine-store",
     .short_name = 'm',
     .type = CONF_BOOL,
     .flags = CONF_IGNORED | CONF_NOFILE,
     .section = "Files",
     .help = "Windows key store",
     CONF_FIELD(S, store)},
    {.name = "secret",
     .type = CONF_STRING,
     .flags = CONF_NOCMDLINE,
     .section = "Files",
     .help = "a file-only setting",
     CONF_FIELD(S, secret)},
    {.name = "internal",
     .type = CONF_INT,
     .flags = CONF_HIDDEN,
     .help = "hidden",
     CONF_FIELD(S, internal)},
    {.name = NULL},
};
static const struct conf_spec spec = {
    .prog = "uftpd", .usage = NULL, .opts = opts, .default_file = "/etc/uftp/uftpd.conf"};

static char *render(int (*fn)(FILE *))
{
    static char *buf;
    static size_t len;
    free(buf);
    buf = NULL;
    FILE *f = open_memstream(&buf, &len);
    CU_ASSERT_EQUAL(fn(f), 0);
    fclose(f);
    return buf;
}

static int opts_only(FILE *f)
{
    return mangen_options(&spec, f);
}

static void test_table_is_valid(void)
{
    struct conf_err e;
    CU_ASSERT_EQUAL(conf_table_check(&spec, &e), 0);
}

static void test_options(void)
{
    const char *want = ".SS Transport\n"
                       ".TP\n"
                       "\\fB\\-p\\fR \\fIPORT\\fR, \\fB\\-\\-port\\fR=\\fIPORT\\fR\n"
                       "UDP port to listen on.\n"
                       "Range: 1..65535.\n"
                       "Default: \\fB1044\\fR.\n"
                       "Config file: \\fBport\\fR.\n"
                       ".TP\n"
                       "\\fB\\-Y\\fR \\fIVALUE\\fR, \\fB\\-\\-cipher\\fR=\\fIVALUE\\fR\n"
                       "Cipher.\n"
                       "Range: one of aes256\\-gcm, none.\n"
                       "Default: \\fBaes256\\-gcm\\fR.\n"
                       "Config file: \\fBcipher\\fR.\n"
                       ".TP\n"
                       "\\fB\\-B\\fR \\fIVALUE\\fR, \\fB\\-\\-buffer\\-size\\fR=\\fIVALUE\\fR\n"
                       "Socket buffer size.\n"
                       "Range: 65536..104857600 bytes.\n"
                       "Default: \\fB256K\\fR.\n"
                       "Config file: \\fBbuffer\\-size\\fR.\n"
                       ".TP\n"
                       "\\fB\\-\\-grtt\\fR=\\fIVALUE\\fR\n"
                       "Initial GRTT in seconds.\n"
                       "Range: 0.001..1000.\n"
                       "Default: \\fB0.5\\fR.\n"
                       "Config file: \\fBgrtt\\fR.\n"
                       ".SS Daemon\n"
                       ".TP\n"
                       "\\fB\\-d\\fR, \\fB\\-\\-foreground\\fR\n"
                       "Stay in the foreground and log to stderr.\n"
                       "\\fB\\-\\-no\\-foreground\\fR turns it off.\n"
                       "Config file: \\fBforeground\\fR.\n"
                       ".TP\n"
                       "\\fB\\-\\-encrypt\\fR\n"
                       "Accept encrypted sessions.\n"
                       "On by default.\n"
                       "\\fB\\-\\-no\\-encrypt\\fR turns it off.\n"
                       "Config file: \\fBencrypt\\fR.\n"
                       ".TP\n"
                       "\\fB\\-L\\fR \\fIFILE\\fR, \\fB\\-\\-logfile\\fR=\\fIFILE\\fR\n"
                       "Log to FILE (not with \\-d).\n"
                       "Config file: \\fBlogfile\\fR.\n"
                       ".SS Files\n"
                       ".TP\n"
                       "\\fB\\-D\\fR \\fIDIR\\fR, \\fB\\-\\-dest\\fR=\\fIDIR\\fR\n"
                       "Destination directories.\n"
                       "Range: at most 10 entries.\n"
                       "A comma-separated list.\n"
                       "Config file: \\fBdest\\fR.\n"
                       ".TP\n"
                       "\\fB\\-F\\fR \\fIVALUE\\fR, \\fB\\-\\-restart\\fR=\\fIVALUE\\fR\n"
                       "Restart from FILE.\n"
                       "Command line only.\n"
                       ".TP\n"
                       "\\fB\\-m\\fR, \\fB\\-\\-machine\\-store\\fR\n"
                       "Windows key store.\n"
                       "It does nothing here but print a warning.\n"
                       "Command line only.\n"
                       ".TP\n"
                       "\\fBsecret\\fR = \\fIVALUE\\fR\n"
                       "A file\\-only setting.\n"
                       ".SS Configuration\n"
                       ".TP\n"
                       "\\fB\\-\\-config\\fR=\\fIFILE\\fR\n"
                       "Read settings from \\fIFILE\\fR instead of \\fB/etc/uftp/uftpd.conf\\fR "
                       "(read when it exists). Options on the command line override the file.\n"
                       ".TP\n"
                       "\\fB\\-\\-check\\fR\n"
                       "Check the configuration, print the effective settings in config-file "
                       "syntax and exit.\n"
                       ".TP\n"
                       "\\fB\\-\\-help\\fR\n"
                       "Print a summary of the options and exit.\n";
    char *got = render(opts_only);
    CU_ASSERT_STRING_EQUAL(got, want);
    if (strcmp(got, want) != 0)
        fprintf(stderr, "---- got:\n%s---- end\n", got);
}

static const char *tmpl;
static const struct conf_spec *tspec;
static int tmpl_rc;

static int render_tmpl(FILE *f)
{
    struct mangen_vars v = {.version = "0.1.0", .date = "2024-01-02"};
    tmpl_rc = mangen_render(tspec, &v, tmpl, strlen(tmpl), f);
    return 0;
}

static void test_template(void)
{
    tspec = &spec;
    tmpl = ".TH @PROG@ 8 \"@DATE@\" \"uftp-ng @VERSION@\"\n"
           "Reads @CONFIG@; status to @LOG or uftpproxyd@.service @x@\n"
           ".SH OPTIONS\n"
           "@OPTIONS@\n"
           ".SH END\n"
           "no newline";
    char *got = render(render_tmpl);
    CU_ASSERT_EQUAL(tmpl_rc, 0);
    const char *head = ".TH uftpd 8 \"2024-01-02\" \"uftp-ng 0.1.0\"\n"
                       "Reads /etc/uftp/uftpd.conf; status to @LOG or uftpproxyd@.service @x@\n"
                       ".SH OPTIONS\n"
                       ".SS Transport\n";
    CU_ASSERT_EQUAL(strncmp(got, head, strlen(head)), 0);
    const char *tail = "Print a summary of the options and exit.\n.SH END\nno newline";
    size_t gl = strlen(got), tl = strlen(tail);
    CU_ASSERT(gl > tl && strcmp(got + gl - tl, tail) == 0);

    /* A program without a table cannot use @OPTIONS@ or @CONFIG@. */
    tspec = NULL;
    tmpl = "x\n@OPTIONS@\n";
    render(render_tmpl);
    CU_ASSERT_EQUAL(tmpl_rc, -2);
    tmpl = "@CONFIG@\n";
    render(render_tmpl);
    CU_ASSERT_EQUAL(tmpl_rc, -2);
    /* A table that names no config file: the packaged place, /etc/uftp/PROG.conf. */
    static const struct conf_spec nofile = {.prog = "uftpproxyd", .opts = opts};
    tspec = &nofile;
    tmpl = "@CONFIG@\n";
    CU_ASSERT_STRING_EQUAL(render(render_tmpl), "/etc/uftp/uftpproxyd.conf\n");
    CU_ASSERT_EQUAL(tmpl_rc, 0);
    tspec = NULL;
    tmpl = ".TH UFTP_KEYMGT 1 \"@DATE@\"\n";
    CU_ASSERT_STRING_EQUAL(render(render_tmpl), ".TH UFTP_KEYMGT 1 \"2024-01-02\"\n");
    CU_ASSERT_EQUAL(tmpl_rc, 0);
}

static int esc(FILE *f)
{
    mangen_escape(".start\n'quote \\back -dash\nok.", f);
    return 0;
}

static void test_escape(void)
{
    CU_ASSERT_STRING_EQUAL(render(esc), "\\&.start\n\\&'quote \\eback \\-dash\nok.");
}

static const struct cu_test mangen_tests[] = {
    {"sample table is valid", test_table_is_valid},
    {"OPTIONS from a table", test_options},
    {"template placeholders", test_template},
    {"escaping", test_escape},
    {NULL, NULL},
};

CU_MAIN({"man/mangen", mangen_tests})
