#include "man/mangen.h"

#include <stdbool.h>
#include <string.h>

void mangen_escape(const char *text, FILE *out)
{
    bool bol = true;
    for (const char *p = text; *p; p++) {
        if (bol && (*p == '.' || *p == '\''))
            fputs("\\&", out);
        bol = false;
        if (*p == '\\')
            fputs("\\e", out);
        else if (*p == '-')
            fputs("\\-", out);
        else
            fputc(*p, out);
        if (*p == '\n')
            bol = true;
    }
}

static bool same_section(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static bool shown(const struct conf_option *o)
{
    return !(o->flags & CONF_HIDDEN);
}

/* conf_range_text() as prose: "1..65535", "one of none, tfmcc", "at most 10 entries", or "". */
static void range_text(const struct conf_option *o, char *buf, size_t len)
{
    char r[480];
    conf_range_text(o, r, sizeof(r));
    buf[0] = '\0';
    if (r[0])
        snprintf(buf, len, "%s%s%s", o->type == CONF_ENUM ? "one of " : "", r,
                 o->type == CONF_SIZE   ? " bytes"
                 : o->type == CONF_LIST ? " entries"
                                        : "");
}

/* The .TP tag: "\fB\-p\fR, \fB\-\-port\fR=\fIPORT\fR". */
static void option_tag(const struct conf_option *o, FILE *out)
{
    const char *arg = o->type == CONF_BOOL ? NULL : (o->argname ? o->argname : "VALUE");
    if (o->flags & CONF_NOCMDLINE) {
        fputs("\\fB", out);
        mangen_escape(o->name, out);
        fputs("\\fR", out);
        if (arg) {
            fputs(" = \\fI", out);
            mangen_escape(arg, out);
            fputs("\\fR", out);
        }
        fputc('\n', out);
        return;
    }
    if (o->short_name)
        fprintf(out, "\\fB\\-%c\\fR", o->short_name);
    if (o->short_name && arg) {
        fputs(" \\fI", out);
        mangen_escape(arg, out);
        fputs("\\fR", out);
    }
    fputs(o->short_name ? ", \\fB\\-\\-" : "\\fB\\-\\-", out);
    mangen_escape(o->name, out);
    fputs("\\fR", out);
    if (arg) {
        fputs("=\\fI", out);
        mangen_escape(arg, out);
        fputs("\\fR", out);
    }
    fputc('\n', out);
}

static void option_body(const struct conf_option *o, FILE *out)
{
    char r[512];
    range_text(o, r, sizeof(r));
    const char *help = o->help ? o->help : o->name;
    /* Help lines are written for --help ("port to listen on"); a man page wants sentences. */
    if (help[0] >= 'a' && help[0] <= 'z') {
        fputc(help[0] - 'a' + 'A', out);
        mangen_escape(help + 1, out);
    } else {
        mangen_escape(help, out);
    }
    size_t hl = strlen(help);
    if (hl && help[hl - 1] != '.')
        fputc('.', out);
    fputc('\n', out);
    if (r[0]) {
        fputs("Range: ", out);
        mangen_escape(r, out);
        fputs(".\n", out);
    }
    if (o->type == CONF_BOOL) {
        bool on = o->def && (!strcmp(o->def, "true") || !strcmp(o->def, "1"));
        if (on)
            fputs("On by default.\n", out);
        if (o->flags & CONF_IGNORED) {
            fputs("It does nothing here but print a warning.\n", out);
        } else if (!(o->flags & CONF_NOCMDLINE)) {
            fputs("\\fB\\-\\-no\\-", out);
            mangen_escape(o->name, out);
            fputs("\\fR turns it off.\n", out);
        }
    } else if (o->def) {
        fputs("Default: \\fB", out);
        mangen_escape(o->def, out);
        fputs("\\fR.\n", out);
    }
    if (o->type == CONF_LIST && !(o->flags & CONF_NOCMDLINE))
        fputs(o->flags & CONF_APPEND ? "May be given more than once; the lists add up.\n"
                                     : "A comma-separated list.\n",
              out);
    if (o->flags & CONF_NOFILE) {
        fputs("Command line only.\n", out);
    } else if (!(o->flags & CONF_NOCMDLINE)) {
        fputs("Config file: \\fB", out);
        mangen_escape(o->name, out);
        fputs("\\fR.\n", out);
    }
}

int mangen_options(const struct conf_spec *spec, FILE *out)
{
    /* Sections in order of first appearance, as in --help and the example config. */
    for (const struct conf_option *sec = spec->opts; sec->name; sec++) {
        bool first = true;
        for (const struct conf_option *p = spec->opts; p != sec; p++)
            if (same_section(p->section, sec->section))
                first = false;
        if (!first)
            continue;
        bool any = false;
        for (const struct conf_option *o = sec; o->name; o++) {
            if (!same_section(o->section, sec->section) || !shown(o))
                continue;
            if (!any) {
                fputs(".SS ", out);
                mangen_escape(sec->section ? sec->section : "Options", out);
                fputc('\n', out);
            }
            any = true;
            fputs(".TP\n", out);
            option_tag(o, out);
            option_body(o, out);
        }
    }
    if (spec->flags & CONF_SPEC_NOCONFIG) {
        fputs(".SS Help\n.TP\n", out);
        fputs(spec->flags & CONF_SPEC_HELP_H ? "\\fB\\-h\\fR, \\fB\\-\\-help\\fR\n"
                                             : "\\fB\\-\\-help\\fR\n",
              out);
        fputs("Print a summary of the options and exit.\n", out);
        return ferror(out) ? -1 : 0;
    }
    fputs(".SS Configuration\n.TP\n\\fB\\-\\-config\\fR=\\fIFILE\\fR\n", out);
    fputs("Read settings from \\fIFILE\\fR", out);
    if (spec->default_file) {
        fputs(" instead of \\fB", out);
        mangen_escape(spec->default_file, out);
        fputs("\\fR (read when it exists)", out);
    }
    fputs(". Options on the command line override the file.\n", out);
    fputs(".TP\n\\fB\\-\\-check\\fR\n"
          "Check the configuration, print the effective settings in config-file syntax "
          "and exit.\n"
          ".TP\n\\fB\\-\\-help\\fR\nPrint a summary of the options and exit.\n",
          out);
    return ferror(out) ? -1 : 0;
}

static int put_var(const char *name, const char *val, FILE *out)
{
    if (!val) {
        fprintf(stderr, "mangen: @%s@ has no value here\n", name);
        return -2;
    }
    /* Values are short plain words; only a backslash needs care. */
    for (const char *c = val; *c; c++)
        if (*c == '\\')
            fputs("\\e", out);
        else
            fputc(*c, out);
    return 0;
}

/* The default config file; /etc/uftp/PROG.conf for a table that does not name one. */
static int put_config(const struct conf_spec *spec, FILE *out)
{
    if (spec && !spec->default_file && spec->prog) {
        fprintf(out, "/etc/uftp/%s.conf", spec->prog);
        return 0;
    }
    return put_var("CONFIG", spec ? spec->default_file : NULL, out);
}

int mangen_render(const struct conf_spec *spec, const struct mangen_vars *v, const char *tmpl,
                  size_t len, FILE *out)
{
    const char *p = tmpl, *end = tmpl + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        size_t ll = (size_t)(le - p);
        if (ll == 9 && memcmp(p, "@OPTIONS@", 9) == 0) {
            if (!spec) {
                fprintf(stderr, "mangen: @OPTIONS@ without an option table\n");
                return -2;
            }
            if (mangen_options(spec, out) < 0)
                return -1;
            p = nl ? nl + 1 : end; /* its output ends with a newline already */
            continue;
        } else {
            for (const char *q = p; q < le;) {
                const char *at = memchr(q, '@', (size_t)(le - q));
                if (!at) {
                    fwrite(q, 1, (size_t)(le - q), out);
                    break;
                }
                fwrite(q, 1, (size_t)(at - q), out);
                const char *close = memchr(at + 1, '@', (size_t)(le - at - 1));
                size_t nlen = close ? (size_t)(close - at - 1) : 0;
                int rc = 1;
                if (close && nlen == 4 && !memcmp(at + 1, "PROG", 4))
                    rc = put_var("PROG", spec ? spec->prog : NULL, out);
                else if (close && nlen == 7 && !memcmp(at + 1, "VERSION", 7))
                    rc = put_var("VERSION", v->version, out);
                else if (close && nlen == 4 && !memcmp(at + 1, "DATE", 4))
                    rc = put_var("DATE", v->date, out);
                else if (close && nlen == 6 && !memcmp(at + 1, "CONFIG", 6))
                    rc = put_config(spec, out);
                if (rc < 0)
                    return rc;
                if (rc == 0) {
                    q = close + 1;
                } else {
                    /* A lone '@' (e.g. "uftpproxyd@.service") is text. */
                    fputc('@', out);
                    q = at + 1;
                }
            }
        }
        if (nl)
            fputc('\n', out);
        p = nl ? nl + 1 : end;
    }
    return ferror(out) ? -1 : 0;
}
