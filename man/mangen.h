/*
 * Man pages from the option tables (DESIGN.md "Style": every option is
 * defined once, as a row, and the docs come from the same row as the
 * command line and the config file).
 *
 * A page is a hand-written troff template (NAME, SYNOPSIS, DESCRIPTION,
 * EXAMPLES, FILES, EXIT STATUS, ...) with placeholders, each on a line of
 * its own or inline:
 *   @OPTIONS@   (alone on a line) the options of the table, one .SS per
 *               section, one .TP per option: letters, long name, argument,
 *               help line, range, default, config-file key
 *   @PROG@      the program name (spec->prog)
 *   @VERSION@   the project version
 *   @DATE@      the page date (e.g. from SOURCE_DATE_EPOCH, for reproducible builds)
 *   @CONFIG@    the default config file (spec->default_file, else /etc/uftp/PROG.conf)
 */
#ifndef UFTP_MANGEN_H
#define UFTP_MANGEN_H

#include <stddef.h>
#include <stdio.h>

#include "core/conf/conf.h"

struct mangen_vars {
    const char *version;
    const char *date;
};

/*
 * Writes the OPTIONS body (without the .SH line) for spec. Options flagged
 * CONF_HIDDEN are left out. Returns 0, or -1 on a write error.
 */
int mangen_options(const struct conf_spec *spec, FILE *out);

/*
 * Renders tmpl (len bytes) with the placeholders above. spec may be NULL
 * for a program without a table (then @OPTIONS@ and @CONFIG@ are errors).
 * Returns 0, -1 on a write error, or -2 for an unknown or unusable
 * placeholder (the message names it on stderr).
 */
int mangen_render(const struct conf_spec *spec, const struct mangen_vars *v, const char *tmpl,
                  size_t len, FILE *out);

/*
 * Writes the program's bash completion script (compgen.c): option names
 * and, per option, its values from the row (enumerations, small ranges,
 * files, directories, interfaces, host names, or the row's `complete` hint).
 * Returns 0, -1 on a write error, -2 for a hint that cannot go into a script.
 */
int mangen_bash(const struct conf_spec *spec, FILE *out);

/* Writes text with troff's special characters escaped ('\\', '-', a leading '.' or '\''). */
void mangen_escape(const char *text, FILE *out);

#endif
