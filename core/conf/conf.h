/*
 * Options defined once, as rows of a table, that drive the command line,
 * the libconfig file, --help, --check and the commented example config
 * (DESIGN.md "Style": tmux). Generic: each program writes its own table
 * over its own settings struct.
 *
 *   struct settings { long long port; bool debug; char *logfile; ... };
 *   static const struct conf_option opts[] = {
 *       CONF_ROW("port", 'p', CONF_INT, .section = "Transport", .argname = "PORT",
 *                .def = "1044", .min = 1, .max = 65535, .help = "UDP port to listen on",
 *                CONF_FIELD(struct settings, port)),
 *       ...
 *       {.name = NULL}};
 *
 * Storage by type (the field size comes from CONF_FIELD and is checked):
 *   CONF_BOOL    bool           flag on the command line (also --no-NAME);
 *                               true / false in the file
 *   CONF_INT     int or long long, within [min, max]; decimal or 0x hex
 *   CONF_SIZE    int or long long, bytes, with an optional K / M / G suffix
 *   CONF_DOUBLE  double, within [dmin, dmax]
 *   CONF_STRING  char * (owned; NULL when unset)
 *   CONF_ENUM    int, the value of one of `words`
 *   CONF_LIST    struct conf_list: "a,b,c" on the command line, an array of
 *                strings (or one comma-separated string) in the file
 *   CONF_CUSTOM  any type, parsed / printed / freed by the row's callbacks
 *                (e.g. -r init:min:max, -C tfmcc:..., -K rsa:2048, -H ...)
 *
 * Precedence: table defaults, then the config file, then the command line;
 * within each, the last occurrence wins (spec §2).
 *
 * Errors are CONF_E* codes (negative) with a message in struct conf_err,
 * prefixed with where the value came from:
 *   "uftpd.conf:12: 'rate' must be 1..1048576"
 *   "uftpd.conf:3: unknown setting 'foo'"
 *   "option -R: 'rate' must be an integer, not 'fast'"
 */
#ifndef UFTP_CONF_H
#define UFTP_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum conf_errcode {
    CONF_OK = 0,
    CONF_EUNKNOWN = -1, /* unknown option or setting */
    CONF_ETYPE = -2,    /* wrong libconfig type (a string where a number goes, ...) */
    CONF_EVALUE = -3,   /* a value that does not parse */
    CONF_ERANGE = -4,   /* a value out of range */
    CONF_ECOUNT = -5,   /* too many list entries */
    CONF_ESYNTAX = -6,  /* config file syntax error */
    CONF_EIO = -7,      /* cannot read the config file */
    CONF_EARG = -8,     /* command-line misuse: missing argument, ... */
    CONF_ENOMEM = -9,
    CONF_ETABLE = -10, /* an inconsistent option table (a programming error) */
    CONF_EPLACE = -11, /* an option not allowed where it was given */
};

struct conf_err {
    int code;
    char msg[512];
};

enum conf_type {
    CONF_BOOL,
    CONF_INT,
    CONF_SIZE,
    CONF_DOUBLE,
    CONF_STRING,
    CONF_ENUM,
    CONF_LIST,
    CONF_CUSTOM,
};

/* Row flags. */
enum {
    CONF_NOFILE = 0x01,    /* command line only (e.g. -i list, -F restart) */
    CONF_NOCMDLINE = 0x02, /* config file only */
    CONF_HIDDEN = 0x04,    /* not in --help or the example config */
    CONF_APPEND = 0x08,    /* CONF_LIST: repeated options add up instead of replacing */
    /* CONF_BOOL, with CONF_NOFILE: a letter the reference accepts for something that
     * has no meaning here (a Windows key store, ...). It parses, does nothing, and
     * conf_ignored() names it so that the program warns once; its help line says why. */
    CONF_IGNORED = 0x10,
};

struct conf_word {
    const char *word;
    int value;
};

struct conf_list {
    char **v;
    size_t n;
};

struct conf_option;

/*
 * CONF_CUSTOM callbacks. parse() reads text into dst (a zeroed scratch
 * field of the row's size; conf swaps it in only on success, after free()ing
 * the old value) and returns 0, or CONF_EVALUE / CONF_ERANGE / ... with a
 * predicate in msg, e.g. "must be init[:min:max]" (conf prefixes "'name' ");
 * on failure dst must still be safe to hand to free().
 * print() writes text that parse() accepts back; it returns 0, 1 when the
 * value is unset (nothing to print), or < 0. free() releases what parse()
 * allocated. check() (any type) vets a parsed value the same way as parse();
 * for a CONF_APPEND list it sees the entries being added.
 */
typedef int (*conf_parse_fn)(const struct conf_option *o, const char *text, void *dst, char *msg,
                             size_t msglen);
typedef int (*conf_print_fn)(const struct conf_option *o, const void *src, char *buf, size_t len);
typedef void (*conf_free_fn)(const struct conf_option *o, void *dst);
typedef int (*conf_check_fn)(const struct conf_option *o, const void *val, char *msg,
                             size_t msglen);

struct conf_option {
    const char *name; /* long option and libconfig key; NULL ends the table */
    int short_name;   /* the reference's letter (spec §2), or 0 */
    enum conf_type type;
    const char *section;           /* --help / example-config group */
    const char *argname;           /* "KBPS" in "-R, --rate=KBPS" */
    const char *help;              /* one line */
    const char *def;               /* default, as text parsed like any value; NULL = none */
    size_t offset;                 /* where the value lives in the settings struct */
    size_t size;                   /* and its size */
    long long min, max;            /* CONF_INT, CONF_SIZE (min == max == 0: no limit) */
    double dmin, dmax;             /* CONF_DOUBLE (both 0: no limit) */
    const struct conf_word *words; /* CONF_ENUM, ended by {NULL, 0} */
    size_t list_max;               /* CONF_LIST (0: no limit) */
    unsigned flags;
    conf_parse_fn parse;
    conf_print_fn print;
    conf_free_fn free;
    conf_check_fn check;
    const void *arg; /* for callbacks (e.g. a struct conf_hl_spec) */
    /*
     * Shell completion of the value (man/compgen.c), when the type and the
     * argname do not say it: "@file", "@dir", "@iface" (network interfaces),
     * "@host" (host names), "" (nothing to offer), or the values themselves,
     * separated by spaces. NULL: a CONF_ENUM's words, a CONF_INT's numbers when
     * its range is small, files when the argname names a FILE, directories for
     * a DIR, nothing otherwise.
     */
    const char *complete;
};

#define CONF_FIELD(type, field) .offset = offsetof(type, field), .size = sizeof(((type *)0)->field)

/*
 * A row (as above): the long name, the reference's letter (0: none) and the
 * type, then the other fields by name.
 */
#define CONF_ROW(nm, letter, typ, ...)                                                             \
    {                                                                                              \
        .name = (nm), .short_name = (letter), .type = (typ), __VA_ARGS__                           \
    }

/* Entries every program shares, in section SEC, for settings struct T with
 * the fields log_roll_mb and log_keep (-g, -n: spec §2 log rolling)... */
#define CONF_OPTS_LOG_ROLL(T, SEC)                                                                 \
    CONF_ROW("log-roll-mb", 'g', CONF_INT, .section = SEC, .argname = "MB", .def = "0", .min = 0,  \
             .max = 1024, .help = "roll the log file at this size (0 = never)",                    \
             CONF_FIELD(T, log_roll_mb)),                                                          \
        CONF_ROW("log-keep", 'n', CONF_INT, .section = SEC, .argname = "N", .def = "5", .min = 1,  \
                 .max = 1000, .help = "rolled log files kept", CONF_FIELD(T, log_keep))

/* ...and those of the daemons, with pidfile and nice (-P, -N). */
#define CONF_OPTS_DAEMON(T, SEC)                                                                   \
    CONF_ROW("pid-file", 'P', CONF_STRING, .section = SEC, .argname = "FILE",                      \
             .help = "write the daemon's PID here", .check = conf_abs_check,                       \
             CONF_FIELD(T, pidfile)),                                                              \
        CONF_ROW("nice", 'N', CONF_INT, .section = SEC, .argname = "PRIO", .def = "0", .min = -20, \
                 .max = 19, .help = "scheduling priority", CONF_FIELD(T, nice))

/*
 * The daemons' metrics (issue 15, core/daemon/metrics.h): a Prometheus
 * text file for node_exporter's textfile collector, rewritten every
 * metrics-interval seconds; off without metrics-file.
 */
#define CONF_OPTS_METRICS(T, SEC)                                                                  \
    CONF_ROW("metrics-file", 0, CONF_STRING, .section = SEC, .argname = "FILE",                    \
             .help = "write Prometheus metrics here "                                              \
                     "(node_exporter's textfile collector; default: off)",                         \
             .check = conf_abs_check, .complete = "@file", CONF_FIELD(T, metrics_file)),           \
        CONF_ROW("metrics-interval", 0, CONF_INT, .section = SEC, .argname = "SECONDS",            \
                 .def = "5", .min = 1, .max = 3600,                                                \
                 .help = "how often the metrics file is rewritten",                                \
                 CONF_FIELD(T, metrics_interval))

/* Spec flags. */
enum {
    CONF_SPEC_NOCONFIG = 0x01, /* no settings file: neither --config nor --check */
    CONF_SPEC_HELP_H = 0x02,   /* -h is --help too (no row may use the letter) */
};

struct conf_spec {
    const char *prog;  /* "uftpd": messages and --help */
    const char *usage; /* operands after "[options]", e.g. "{ -i list | file ... }" */
    const struct conf_option *opts;
    /* The config file read when --config is not given and the file exists. */
    const char *default_file;
    unsigned flags; /* CONF_SPEC_* */
};

/* What the command line asked for besides settings. */
struct conf_cmd {
    int optind;              /* index of the first operand in argv */
    bool help;               /* --help */
    bool check;              /* --check */
    const char *config_file; /* --config=FILE (points into argv) */
    const char *file_read;   /* the config file conf_load() read, or NULL */
};

/*
 * Checks a table: names and letters unique and well-formed, sizes right for
 * the types, defaults within range, callbacks present. Returns 0 or
 * CONF_ETABLE; meant for each program's unit test.
 */
int conf_table_check(const struct conf_spec *s, struct conf_err *e);

/* Sets every option to its default (call first, on a zeroed struct). */
int conf_defaults(const struct conf_spec *s, void *st, struct conf_err *e);

/* Sets one option from text, as the command line would. */
int conf_set(const struct conf_spec *s, void *st, const char *name, const char *text,
             struct conf_err *e);

/*
 * Applies a libconfig file: a path, or text in memory (label is used in
 * messages; the text need not be NUL-terminated and may not contain NUL).
 * @include is refused. Returns 0 or CONF_EUNKNOWN, CONF_ETYPE, CONF_EVALUE,
 * CONF_ERANGE, CONF_ECOUNT, CONF_ESYNTAX, CONF_EIO, CONF_EPLACE.
 */
#define CONF_FILE_MAX (1 << 20)
int conf_load_file(const struct conf_spec *s, void *st, const char *path, struct conf_err *e);
int conf_load_buffer(const struct conf_spec *s, void *st, const char *label, const char *buf,
                     size_t len, struct conf_err *e);

/*
 * Applies the command line (getopt_long built from the table; built-in
 * --help, --check, --config=FILE). Fills cmd. Returns 0 or an error.
 */
int conf_parse_args(const struct conf_spec *s, void *st, int argc, char **argv,
                    struct conf_cmd *cmd, struct conf_err *e);

/*
 * All of it: defaults, then the config file (--config, else default_file if
 * it exists), then the command line. With --help or --check the caller
 * prints (conf_help / conf_print) and exits.
 */
int conf_load(const struct conf_spec *s, void *st, int argc, char **argv, struct conf_cmd *cmd,
              struct conf_err *e);

/*
 * Where the value of setting `name` came from, for messages about
 * combinations of settings that no single row can check: "option -T" (or
 * "option --temp-dir") when argv gives it, else "FILE:LINE" when the file
 * conf_load() read (cmd->file_read) sets it, else "" (its default).
 * Returns 0, or CONF_EUNKNOWN for a name not in the table.
 */
int conf_origin(const struct conf_spec *s, int argc, char **argv, const struct conf_cmd *cmd,
                const char *name, char *buf, size_t len);

/*
 * The CONF_IGNORED options set in st: calls warn(arg, msg) once for each,
 * with msg like "option -y ignored: <its help line>". Returns how many.
 */
size_t conf_ignored(const struct conf_spec *s, const void *st,
                    void (*warn)(void *arg, const char *msg), void *arg);

/* Frees what conf allocated in st (strings, lists, custom values). */
void conf_free(const struct conf_spec *s, void *st);

/* --help: usage, then the options by section with defaults and ranges. */
void conf_help(const struct conf_spec *s, FILE *f);

/*
 * --check: the effective settings in libconfig syntax; conf_load_buffer()
 * of that text gives the same settings back. Returns 0 or < 0.
 */
int conf_print(const struct conf_spec *s, const void *st, FILE *f);

/*
 * Compares two settings structs option by option, by the text conf_print()
 * writes for each, and calls changed(o, arg) (may be NULL) for each option
 * whose value differs: what a re-read config (SIGHUP) changed. A host list
 * compares by the text it was given (its file name), not by the file's
 * contents. Returns the number of options that differ, or CONF_ENOMEM /
 * CONF_EVALUE.
 */
int conf_diff(const struct conf_spec *s, const void *a, const void *b,
              void (*changed)(const struct conf_option *o, void *arg), void *arg);

/* The example config: every option commented out at its default, with its help line. */
void conf_doc(const struct conf_spec *s, FILE *f);

/* Helpers for custom parsers: strict numbers ("12", "0x1f", no junk, no spaces). */
int conf_parse_ll(const char *text, long long min, long long max, long long *out);
int conf_parse_double(const char *text, double min, double max, double *out);
/* "256K", "1M": K/M/G are powers of 1024. */
int conf_parse_size(const char *text, long long min, long long max, long long *out);

/* Option-table check for a CONF_STRING path: unset or absolute. */
int conf_abs_check(const struct conf_option *o, const void *val, char *msg, size_t ml);

/* A row's range as --help shows it: "1..65535", "a, b, c" (CONF_ENUM), "at most 8" (CONF_LIST), or
 * "". */
void conf_range_text(const struct conf_option *o, char *buf, size_t len);

/* The text conf_print uses for a double: short, exact, readable back by strtod and libconfig. */
void conf_format_double(char *buf, size_t len, double d);

#endif
