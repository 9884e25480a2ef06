#include "core/conf/conf.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libconfig.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* Values of getopt_long's `val` above any letter. */
#define VAL_OPT    1000 /* + option index */
#define VAL_NO     3000 /* --no-NAME: + option index */
#define VAL_HELP   5000
#define VAL_CHECK  5001
#define VAL_CONFIG 5002

#define MSG   512 /* room for one predicate */
#define RANGE 200 /* room for a range or a list of words */

__attribute__((format(printf, 3, 4))) static int fail(struct conf_err *e, int code, const char *fmt,
                                                      ...)
{
    if (e) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
        va_end(ap);
        e->code = code;
    }
    return code;
}

static void *field(const struct conf_option *o, void *st)
{
    return (char *)st + o->offset;
}

static const void *cfield(const struct conf_option *o, const void *st)
{
    return (const char *)st + o->offset;
}

/* Integer range of a row: its own, or what the field can hold. */
static void int_range(const struct conf_option *o, long long *lo, long long *hi)
{
    if (o->min == 0 && o->max == 0) {
        *lo = o->size == sizeof(int) ? INT_MIN : LLONG_MIN;
        *hi = o->size == sizeof(int) ? INT_MAX : LLONG_MAX;
    } else {
        *lo = o->min;
        *hi = o->max;
    }
}

static bool has_double_range(const struct conf_option *o)
{
    return !(o->dmin == 0 && o->dmax == 0);
}

static void store_ll(const struct conf_option *o, void *dst, long long v)
{
    if (o->size == sizeof(int)) {
        int i = (int)v;
        memcpy(dst, &i, sizeof(i));
    } else {
        memcpy(dst, &v, sizeof(v));
    }
}

static long long load_ll(const struct conf_option *o, const void *src)
{
    if (o->size == sizeof(int)) {
        int i;
        memcpy(&i, src, sizeof(i));
        return i;
    }
    long long v;
    memcpy(&v, src, sizeof(v));
    return v;
}

/* Shows user text in a message: quoted and cut, control bytes as '?'. */
static const char *show(const char *s, char *buf, size_t cap)
{
    size_t o = 0;
    for (; *s && o + 4 < cap; s++)
        buf[o++] = (*s >= 0x20 && *s != 0x7f) ? *s : '?';
    if (*s && cap > 4)
        memcpy(buf + o, "...", 3), o += 3;
    buf[o] = '\0';
    return buf;
}

int conf_parse_ll(const char *text, long long min, long long max, long long *out)
{
    char *end;
    const char *p = text;
    bool neg = false;
    int base = 10;

    if (*p == '-' || *p == '+')
        neg = *p++ == '-';
    if (!isdigit((unsigned char)*p))
        return CONF_EVALUE;
    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
        base = 16;
        p += 2;
        if (!isxdigit((unsigned char)*p))
            return CONF_EVALUE;
    }
    errno = 0;
    unsigned long long u = strtoull(p, &end, base);
    if (*end != '\0')
        return CONF_EVALUE;
    if (errno == ERANGE || u > (unsigned long long)LLONG_MAX + neg)
        return CONF_ERANGE;
    long long v = neg ? (long long)(0 - u) : (long long)u;
    if (v < min || v > max)
        return CONF_ERANGE;
    *out = v;
    return 0;
}

int conf_parse_double(const char *text, double min, double max, double *out)
{
    char *end;
    if (!text[0] || isspace((unsigned char)text[0]))
        return CONF_EVALUE;
    errno = 0;
    double v = strtod(text, &end);
    if (*end != '\0' || !isfinite(v))
        return CONF_EVALUE;
    if (!(min == 0 && max == 0) && (v < min || v > max))
        return CONF_ERANGE;
    *out = v;
    return 0;
}

int conf_parse_size(const char *text, long long min, long long max, long long *out)
{
    char num[64];
    size_t n = strlen(text);
    long long mult = 1, v;

    if (n == 0 || n >= sizeof(num))
        return n ? CONF_ERANGE : CONF_EVALUE;
    memcpy(num, text, n + 1);
    switch (num[n - 1]) {
    case 'k':
    case 'K':
        mult = 1LL << 10;
        break;
    case 'm':
    case 'M':
        mult = 1LL << 20;
        break;
    case 'g':
    case 'G':
        mult = 1LL << 30;
        break;
    }
    if (mult > 1)
        num[n - 1] = '\0';
    int rc = conf_parse_ll(num, LLONG_MIN, LLONG_MAX, &v);
    if (rc < 0)
        return rc;
    if (v > LLONG_MAX / mult || v < LLONG_MIN / mult)
        return CONF_ERANGE;
    v *= mult;
    if (v < min || v > max)
        return CONF_ERANGE;
    *out = v;
    return 0;
}

void conf_range_text(const struct conf_option *o, char *buf, size_t len)
{
    long long lo, hi;
    buf[0] = '\0';
    switch (o->type) {
    case CONF_INT:
    case CONF_SIZE:
        if (o->min || o->max) {
            int_range(o, &lo, &hi);
            snprintf(buf, len, "%lld..%lld", lo, hi);
        }
        break;
    case CONF_DOUBLE:
        if (has_double_range(o))
            snprintf(buf, len, "%g..%g", o->dmin, o->dmax);
        break;
    case CONF_ENUM: {
        size_t off = 0;
        for (const struct conf_word *w = o->words; w && w->word && off < len; w++) {
            int n = snprintf(buf + off, len - off, "%s%s", off ? ", " : "", w->word);
            if (n < 0)
                break;
            off += (size_t)n;
        }
        break;
    }
    case CONF_LIST:
        if (o->list_max)
            snprintf(buf, len, "at most %zu", o->list_max);
        break;
    default:
        break;
    }
}

static void list_free(struct conf_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

static int list_add(struct conf_list *l, const char *s, size_t len)
{
    char **nv = realloc(l->v, (l->n + 1) * sizeof(*nv));
    if (!nv)
        return CONF_ENOMEM;
    l->v = nv;
    if (!(l->v[l->n] = strndup(s, len)))
        return CONF_ENOMEM;
    l->n++;
    return 0;
}

static void free_value(const struct conf_option *o, void *dst)
{
    switch (o->type) {
    case CONF_STRING: {
        char *s;
        memcpy(&s, dst, sizeof(s));
        free(s);
        break;
    }
    case CONF_LIST:
        list_free(dst);
        break;
    case CONF_CUSTOM:
        if (o->free)
            o->free(o, dst);
        break;
    default:
        break;
    }
    memset(dst, 0, o->size);
}

/* "a,b,c" into a list; checks empty entries and the limit (from `have` entries). */
static int parse_list(const struct conf_option *o, const char *text, struct conf_list *l,
                      size_t have, char *msg, size_t ml)
{
    const char *p = text;
    for (;;) {
        const char *c = strchr(p, ',');
        size_t n = c ? (size_t)(c - p) : strlen(p);
        if (n == 0) {
            snprintf(msg, ml, "has an empty entry");
            return CONF_EVALUE;
        }
        if (o->list_max && have + l->n >= o->list_max) {
            snprintf(msg, ml, "takes at most %zu entries", o->list_max);
            return CONF_ECOUNT;
        }
        if (list_add(l, p, n) < 0) {
            snprintf(msg, ml, "is out of memory");
            return CONF_ENOMEM;
        }
        if (!c)
            return 0;
        p = c + 1;
    }
}

static int bad_value(const struct conf_option *o, int rc, const char *text, char *msg, size_t ml)
{
    char r[RANGE], t[80];
    conf_range_text(o, r, sizeof(r));
    show(text, t, sizeof(t));
    if (rc == CONF_ERANGE && r[0] && o->type != CONF_ENUM && o->type != CONF_LIST) {
        snprintf(msg, ml, "must be %s", r);
        return rc;
    }
    if (rc == CONF_ERANGE) {
        snprintf(msg, ml, "is out of range: '%s'", t);
        return rc;
    }
    switch (o->type) {
    case CONF_INT:
        snprintf(msg, ml, "must be an integer%s%s, not '%s'", r[0] ? " " : "", r, t);
        break;
    case CONF_SIZE:
        snprintf(msg, ml, "must be a size such as 65536, 256K or 1M, not '%s'", t);
        break;
    case CONF_DOUBLE:
        snprintf(msg, ml, "must be a number%s%s, not '%s'", r[0] ? " " : "", r, t);
        break;
    case CONF_BOOL:
        snprintf(msg, ml, "must be true or false, not '%s'", t);
        break;
    case CONF_ENUM:
        snprintf(msg, ml, "must be one of %s, not '%s'", r, t);
        break;
    default:
        snprintf(msg, ml, "has a bad value '%s'", t);
        break;
    }
    return rc;
}

/* Parses text into dst (a zeroed scratch field of o->size bytes). */
static int parse_into(const struct conf_option *o, const char *text, void *dst, size_t have,
                      char *msg, size_t ml)
{
    long long lo, hi, v;
    int rc = 0;

    switch (o->type) {
    case CONF_BOOL: {
        static const char *const yes[] = {"true", "yes", "on", "1"};
        static const char *const no[] = {"false", "no", "off", "0"};
        bool b = false, ok = false;
        for (size_t i = 0; i < 4; i++) {
            if (!strcasecmp(text, yes[i]))
                b = ok = true;
            if (!strcasecmp(text, no[i]))
                ok = true;
        }
        if (!ok)
            return bad_value(o, CONF_EVALUE, text, msg, ml);
        memcpy(dst, &b, sizeof(b));
        break;
    }
    case CONF_INT:
    case CONF_SIZE:
        int_range(o, &lo, &hi);
        rc = o->type == CONF_INT ? conf_parse_ll(text, lo, hi, &v)
                                 : conf_parse_size(text, lo, hi, &v);
        if (rc < 0)
            return bad_value(o, rc, text, msg, ml);
        store_ll(o, dst, v);
        break;
    case CONF_DOUBLE: {
        double d;
        rc = conf_parse_double(text, o->dmin, o->dmax, &d);
        if (rc < 0)
            return bad_value(o, rc, text, msg, ml);
        memcpy(dst, &d, sizeof(d));
        break;
    }
    case CONF_STRING: {
        char *s = strdup(text);
        if (!s) {
            snprintf(msg, ml, "is out of memory");
            return CONF_ENOMEM;
        }
        memcpy(dst, &s, sizeof(s));
        break;
    }
    case CONF_ENUM: {
        const struct conf_word *w = o->words;
        while (w && w->word && strcmp(w->word, text) != 0)
            w++;
        if (!w || !w->word)
            return bad_value(o, CONF_EVALUE, text, msg, ml);
        memcpy(dst, &w->value, sizeof(int));
        break;
    }
    case CONF_LIST:
        rc = parse_list(o, text, dst, have, msg, ml);
        break;
    case CONF_CUSTOM:
        msg[0] = '\0';
        rc = o->parse(o, text, dst, msg, ml);
        if (rc < 0 && !msg[0])
            bad_value(o, rc, text, msg, ml);
        break;
    }
    if (rc == 0 && o->check) {
        msg[0] = '\0';
        rc = o->check(o, dst, msg, ml);
        if (rc < 0 && !msg[0])
            snprintf(msg, ml, "is not allowed");
    }
    return rc;
}

/* Replaces the field with scratch (freeing the old value), or appends a list. */
static int commit(const struct conf_option *o, void *st, void *scratch, bool append)
{
    void *dst = field(o, st);
    if (append && o->type == CONF_LIST) {
        struct conf_list *d = dst, *s = scratch;
        char **nv = s->n ? realloc(d->v, (d->n + s->n) * sizeof(*nv)) : d->v;
        if (s->n && !nv) {
            list_free(s);
            return CONF_ENOMEM;
        }
        d->v = nv;
        if (s->n)
            memcpy(d->v + d->n, s->v, s->n * sizeof(*nv));
        d->n += s->n;
        free(s->v);
        return 0;
    }
    free_value(o, dst);
    memcpy(dst, scratch, o->size);
    return 0;
}

/* Sets option o from text; `where` prefixes any message. */
static int set_text(const struct conf_option *o, void *st, const char *text, bool append,
                    const char *where, struct conf_err *e)
{
    char msg[MSG];
    void *scratch = calloc(1, o->size);
    if (!scratch)
        return fail(e, CONF_ENOMEM, "%s: out of memory", where);
    size_t have = 0;
    if (append && o->type == CONF_LIST)
        have = ((const struct conf_list *)field(o, st))->n;
    msg[0] = '\0';
    int rc = parse_into(o, text, scratch, have, msg, sizeof(msg));
    if (rc < 0) {
        free_value(o, scratch);
        free(scratch);
        return fail(e, rc, "%s: '%s' %s", where, o->name, msg);
    }
    rc = commit(o, st, scratch, append);
    free(scratch);
    return rc < 0 ? fail(e, rc, "%s: out of memory", where) : 0;
}

static const struct conf_option *find(const struct conf_spec *s, const char *name)
{
    for (const struct conf_option *o = s->opts; o->name; o++)
        if (!strcmp(o->name, name))
            return o;
    return NULL;
}

int conf_defaults(const struct conf_spec *s, void *st, struct conf_err *e)
{
    for (const struct conf_option *o = s->opts; o->name; o++) {
        free_value(o, field(o, st));
        if (o->def && set_text(o, st, o->def, false, "default", e) < 0)
            return e ? (e->code = CONF_ETABLE) : CONF_ETABLE;
    }
    return 0;
}

int conf_set(const struct conf_spec *s, void *st, const char *name, const char *text,
             struct conf_err *e)
{
    const struct conf_option *o = find(s, name);
    if (!o)
        return fail(e, CONF_EUNKNOWN, "unknown option '%s'", name);
    char where[96];
    snprintf(where, sizeof(where), "option --%s", o->name);
    return set_text(o, st, text, false, where, e);
}

void conf_free(const struct conf_spec *s, void *st)
{
    for (const struct conf_option *o = s->opts; o->name; o++)
        free_value(o, field(o, st));
}

/* ---- the config file ---- */

static bool is_name_char(int c)
{
    return isalnum(c) || c == '-' || c == '_' || c == '*';
}

/*
 * libconfig 1.5 silently wraps integers that do not fit in 32 bits unless
 * they carry an L suffix, and it would read @include files. This scan over
 * the text (skipping strings and comments) refuses both, with the line,
 * and unterminated strings too.
 */
static int prescan(const char *b, size_t len, const char *label, struct conf_err *e)
{
    unsigned line = 1;
    bool bol = true;
    size_t i = 0;

    while (i < len) {
        char c = b[i];
        if (bol) {
            size_t j = i;
            while (j < len && (b[j] == ' ' || b[j] == '\t'))
                j++;
            if (len - j >= 8 && !memcmp(b + j, "@include", 8))
                return fail(e, CONF_ESYNTAX, "%s:%u: @include is not supported", label, line);
            bol = false;
        }
        if (c == '\n') {
            line++;
            bol = true;
            i++;
        } else if (c == '#' || (c == '/' && i + 1 < len && b[i + 1] == '/')) {
            while (i < len && b[i] != '\n')
                i++;
        } else if (c == '/' && i + 1 < len && b[i + 1] == '*') {
            i += 2;
            while (i < len && !(b[i] == '*' && i + 1 < len && b[i + 1] == '/'))
                line += b[i++] == '\n';
            i += 2;
        } else if (c == '"') {
            unsigned start = line;
            for (i++; i < len && b[i] != '"'; i++) {
                if (b[i] == '\\' && i + 1 < len)
                    i++;
                line += b[i] == '\n';
            }
            /* libconfig 1.5 leaks its string buffer on this error: catch it first. */
            if (i >= len)
                return fail(e, CONF_ESYNTAX, "%s:%u: unterminated string", label, start);
            i++;
        } else if (isalpha((unsigned char)c) || c == '*') {
            while (i < len && is_name_char((unsigned char)b[i]))
                i++;
        } else if (isdigit((unsigned char)c) ||
                   ((c == '-' || c == '+') && i + 1 < len && isdigit((unsigned char)b[i + 1]))) {
            size_t start = i;
            bool hex = false, real = false;
            if (c == '-' || c == '+')
                i++;
            if (b[i] == '0' && i + 1 < len && (b[i + 1] == 'x' || b[i + 1] == 'X')) {
                hex = true;
                i += 2;
                while (i < len && isxdigit((unsigned char)b[i]))
                    i++;
            } else {
                while (i < len &&
                       (isdigit((unsigned char)b[i]) || b[i] == '.' || b[i] == 'e' || b[i] == 'E' ||
                        ((b[i] == '-' || b[i] == '+') && (b[i - 1] == 'e' || b[i - 1] == 'E')))) {
                    real |= !isdigit((unsigned char)b[i]);
                    i++;
                }
            }
            if ((i < len && b[i] == 'L') || real)
                continue;
            char num[32];
            size_t n = i - start;
            if (n >= sizeof(num))
                n = sizeof(num) - 1;
            memcpy(num, b + start, n);
            num[n] = '\0';
            long long v;
            /* Hex up to 32 bits is read as unsigned (see int_setting). */
            int rc = conf_parse_ll(num, hex ? 0 : INT_MIN, hex ? UINT32_MAX : INT_MAX, &v);
            if (rc < 0 || i - start >= sizeof(num))
                return fail(e, CONF_ERANGE, "%s:%u: integer %s does not fit in 32 bits; write %sL",
                            label, line, num, num);
        } else {
            i++;
        }
    }
    return 0;
}

static const char *type_name(int t)
{
    switch (t) {
    case CONFIG_TYPE_GROUP:
        return "a group";
    case CONFIG_TYPE_INT:
    case CONFIG_TYPE_INT64:
        return "an integer";
    case CONFIG_TYPE_FLOAT:
        return "a float";
    case CONFIG_TYPE_STRING:
        return "a string";
    case CONFIG_TYPE_BOOL:
        return "a boolean";
    case CONFIG_TYPE_ARRAY:
    case CONFIG_TYPE_LIST:
        return "a list";
    }
    return "of unknown type";
}

static const char *want_type(const struct conf_option *o)
{
    switch (o->type) {
    case CONF_BOOL:
        return "a boolean (true or false)";
    case CONF_INT:
        return "an integer";
    case CONF_SIZE:
        return "a size (an integer, or a string such as \"256K\")";
    case CONF_DOUBLE:
        return "a number";
    case CONF_STRING:
    case CONF_ENUM:
    case CONF_CUSTOM:
        return "a string";
    case CONF_LIST:
        return "a list of strings";
    }
    return "?";
}

/* An integer setting as a long long; 32-bit hex (0xC0A80101) taken as unsigned. */
static long long int_setting(const config_setting_t *cs)
{
    long long v = config_setting_get_int64(cs);
    if (config_setting_type(cs) == CONFIG_TYPE_INT &&
        config_setting_get_format(cs) == CONFIG_FORMAT_HEX && v < 0)
        v += 1LL << 32;
    return v;
}

static int apply_setting(const struct conf_option *o, void *st, const config_setting_t *cs,
                         const char *where, struct conf_err *e)
{
    int t = config_setting_type(cs);
    bool is_int = t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64;
    char text[64];
    const char *value = NULL; /* the setting as text, when the row takes its type */

    /* A string goes to any row but a boolean or a number (a size may be "256K"); an
     * integer to a number or a custom row; a float to a double or a custom row. */
    if (t == CONFIG_TYPE_STRING && o->type != CONF_BOOL && o->type != CONF_INT &&
        o->type != CONF_DOUBLE) {
        value = config_setting_get_string(cs);
    } else if (t == CONFIG_TYPE_BOOL && o->type == CONF_BOOL) {
        value = config_setting_get_bool(cs) ? "true" : "false";
    } else if (is_int && (o->type == CONF_INT || o->type == CONF_SIZE || o->type == CONF_CUSTOM)) {
        snprintf(text, sizeof(text), "%lld", int_setting(cs));
        value = text;
    } else if ((is_int && o->type == CONF_DOUBLE) ||
               (t == CONFIG_TYPE_FLOAT && (o->type == CONF_DOUBLE || o->type == CONF_CUSTOM))) {
        double d = is_int ? (double)int_setting(cs) : config_setting_get_float(cs);
        snprintf(text, sizeof(text), "%.17g", d);
        value = text;
    }
    if (value)
        return set_text(o, st, value, false, where, e);
    if (o->type == CONF_LIST && (t == CONFIG_TYPE_ARRAY || t == CONFIG_TYPE_LIST)) {
        struct conf_list l = {NULL, 0};
        int n = config_setting_length(cs);
        int rc = 0;
        for (int i = 0; i < n && rc == 0; i++) {
            const config_setting_t *el = config_setting_get_elem(cs, (unsigned)i);
            const char *sv = config_setting_type(el) == CONFIG_TYPE_STRING
                                 ? config_setting_get_string(el)
                                 : NULL;
            if (!sv)
                rc = fail(e, CONF_ETYPE, "%s: '%s' must be %s; entry %d is %s", where, o->name,
                          want_type(o), i + 1, type_name(config_setting_type(el)));
            else if (!sv[0])
                rc = fail(e, CONF_EVALUE, "%s: '%s' has an empty entry", where, o->name);
            else if (o->list_max && l.n >= o->list_max)
                rc = fail(e, CONF_ECOUNT, "%s: '%s' takes at most %zu entries", where, o->name,
                          o->list_max);
            else if (list_add(&l, sv, strlen(sv)) < 0)
                rc = fail(e, CONF_ENOMEM, "%s: out of memory", where);
        }
        char msg[MSG];
        if (rc == 0 && o->check && (rc = o->check(o, &l, msg, sizeof(msg))) < 0)
            fail(e, rc, "%s: '%s' %s", where, o->name, msg);
        if (rc < 0) {
            list_free(&l);
            return rc;
        }
        return commit(o, st, &l, false);
    }
    return fail(e, CONF_ETYPE, "%s: '%s' must be %s, not %s", where, o->name, want_type(o),
                type_name(t));
}

int conf_load_buffer(const struct conf_spec *s, void *st, const char *label, const char *buf,
                     size_t len, struct conf_err *e)
{
    config_t cfg;
    int rc = 0;

    if (len > CONF_FILE_MAX)
        return fail(e, CONF_EIO, "%s: larger than %d bytes", label, CONF_FILE_MAX);
    if (memchr(buf, '\0', len))
        return fail(e, CONF_ESYNTAX, "%s: contains a NUL byte", label);
    if ((rc = prescan(buf, len, label, e)) < 0)
        return rc;
    char *text = malloc(len + 1);
    if (!text)
        return fail(e, CONF_ENOMEM, "%s: out of memory", label);
    memcpy(text, buf, len);
    text[len] = '\0';

    config_init(&cfg);
    if (!config_read_string(&cfg, text)) {
        rc = fail(e, CONF_ESYNTAX, "%s:%d: %s", label, config_error_line(&cfg),
                  config_error_text(&cfg) ? config_error_text(&cfg) : "syntax error");
        goto out;
    }
    config_setting_t *root = config_root_setting(&cfg);
    int n = config_setting_length(root);
    for (int i = 0; i < n && rc == 0; i++) {
        const config_setting_t *cs = config_setting_get_elem(root, (unsigned)i);
        const char *name = config_setting_name(cs);
        char where[320];
        snprintf(where, sizeof(where), "%s:%u", label, config_setting_source_line(cs));
        const struct conf_option *o = name ? find(s, name) : NULL;
        if (!o)
            rc = fail(e, CONF_EUNKNOWN, "%s: unknown setting '%s'", where, name ? name : "?");
        else if (o->flags & CONF_NOFILE)
            rc = fail(e, CONF_EPLACE, "%s: '%s' can only be given on the command line", where,
                      o->name);
        else
            rc = apply_setting(o, st, cs, where, e);
    }
out:
    config_destroy(&cfg);
    free(text);
    return rc;
}

int conf_load_file(const struct conf_spec *s, void *st, const char *path, struct conf_err *e)
{
    struct stat sb;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return fail(e, CONF_EIO, "%s: %s", path, strerror(errno));
    if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        return fail(e, CONF_EIO, "%s: not a regular file", path);
    }
    if (sb.st_size > CONF_FILE_MAX) {
        close(fd);
        return fail(e, CONF_EIO, "%s: larger than %d bytes", path, CONF_FILE_MAX);
    }
    char *buf = malloc((size_t)sb.st_size + 1);
    if (!buf) {
        close(fd);
        return fail(e, CONF_ENOMEM, "%s: out of memory", path);
    }
    size_t got = 0;
    while (got < (size_t)sb.st_size) {
        ssize_t r = read(fd, buf + got, (size_t)sb.st_size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    int rc = conf_load_buffer(s, st, path, buf, got, e);
    free(buf);
    return rc;
}

/* ---- the command line ---- */

struct getopt_table {
    char optstring[256];
    struct option *longopts;
    char **nonames; /* "no-NAME" strings to free */
    size_t nno;
};

static void table_free(struct getopt_table *t)
{
    for (size_t i = 0; i < t->nno; i++)
        free(t->nonames[i]);
    free(t->nonames);
    free(t->longopts);
}

static int table_build(const struct conf_spec *s, struct getopt_table *t, struct conf_err *e)
{
    size_t n = 0, k = 0, so = 0;
    for (const struct conf_option *o = s->opts; o->name; o++)
        n++;
    memset(t, 0, sizeof(*t));
    t->longopts = calloc(2 * n + 4, sizeof(*t->longopts));
    t->nonames = calloc(n + 1, sizeof(*t->nonames));
    if (!t->longopts || !t->nonames) {
        table_free(t);
        return fail(e, CONF_ENOMEM, "out of memory");
    }
    /* ':' first: a missing argument is reported as ':' rather than '?'. */
    t->optstring[so++] = ':';
    for (size_t i = 0; i < n; i++) {
        const struct conf_option *o = &s->opts[i];
        if (o->flags & CONF_NOCMDLINE)
            continue;
        bool arg = o->type != CONF_BOOL;
        if (o->short_name && so + 3 < sizeof(t->optstring)) {
            t->optstring[so++] = (char)o->short_name;
            if (arg)
                t->optstring[so++] = ':';
        }
        t->longopts[k++] =
            (struct option){o->name, arg ? required_argument : no_argument, NULL, VAL_OPT + (int)i};
        if (!arg) {
            size_t l = strlen(o->name) + 4;
            char *no = malloc(l);
            if (!no) {
                table_free(t);
                return fail(e, CONF_ENOMEM, "out of memory");
            }
            snprintf(no, l, "no-%s", o->name);
            t->nonames[t->nno++] = no;
            t->longopts[k++] = (struct option){no, no_argument, NULL, VAL_NO + (int)i};
        }
    }
    if (s->flags & CONF_SPEC_HELP_H)
        t->optstring[so++] = 'h';
    t->optstring[so] = '\0';
    t->longopts[k++] = (struct option){"help", no_argument, NULL, VAL_HELP};
    if (!(s->flags & CONF_SPEC_NOCONFIG)) {
        t->longopts[k++] = (struct option){"check", no_argument, NULL, VAL_CHECK};
        t->longopts[k++] = (struct option){"config", required_argument, NULL, VAL_CONFIG};
    }
    return 0;
}

static const struct conf_option *by_val(const struct conf_spec *s, int c, bool *no)
{
    *no = false;
    if (c >= VAL_NO && c < VAL_HELP) {
        *no = true;
        return &s->opts[c - VAL_NO];
    }
    if (c >= VAL_OPT && c < VAL_NO)
        return &s->opts[c - VAL_OPT];
    if (c <= 0 || c >= VAL_OPT)
        return NULL;
    for (const struct conf_option *o = s->opts; o->name; o++)
        if (o->short_name == c && !(o->flags & CONF_NOCMDLINE))
            return o;
    return NULL;
}

static void opt_where(const struct conf_option *o, char *buf, size_t len)
{
    if (o->short_name)
        snprintf(buf, len, "option -%c", o->short_name);
    else
        snprintf(buf, len, "option --%s", o->name);
}

/* One pass over argv; with apply false it only validates and fills cmd. */
static int args_pass(const struct conf_spec *s, void *st, int argc, char **argv,
                     struct conf_cmd *cmd, bool apply, struct conf_err *e)
{
    struct getopt_table t;
    int rc = table_build(s, &t, e);
    if (rc < 0)
        return rc;
    memset(cmd, 0, sizeof(*cmd));
    optind = 0; /* full reset of glibc's getopt state */
    opterr = 0;
    int c, li;
    /* optopt is only meaningful for this call: clear what an earlier one left. */
    while (rc == 0 &&
           (optopt = 0, c = getopt_long(argc, argv, t.optstring, t.longopts, &li)) != -1) {
        bool no;
        const struct conf_option *o;
        char where[96];
        if (c == '?') {
            if (optopt && optopt < VAL_OPT)
                rc = fail(e, CONF_EUNKNOWN, "unknown option '-%c'", optopt);
            else if ((o = by_val(s, optopt, &no)) != NULL)
                rc = fail(e, CONF_EARG, "option --%s%s takes no value", no ? "no-" : "", o->name);
            else
                rc = fail(e, CONF_EUNKNOWN, "unknown option '%s'", argv[optind - 1]);
        } else if (c == ':') {
            o = by_val(s, optopt, &no);
            if (optopt == VAL_CONFIG)
                rc = fail(e, CONF_EARG, "option --config needs a value");
            else if (o && optopt < VAL_OPT)
                rc = fail(e, CONF_EARG, "option -%c needs a value", optopt);
            else if (o)
                rc = fail(e, CONF_EARG, "option --%s needs a value", o->name);
            else
                rc = fail(e, CONF_EARG, "an option needs a value");
        } else if (c == VAL_HELP || (c == 'h' && (s->flags & CONF_SPEC_HELP_H))) {
            cmd->help = true;
        } else if (c == VAL_CHECK) {
            cmd->check = true;
        } else if (c == VAL_CONFIG) {
            cmd->config_file = optarg;
        } else if ((o = by_val(s, c, &no)) != NULL) {
            opt_where(o, where, sizeof(where));
            if (!apply)
                continue;
            if (o->type == CONF_BOOL)
                rc = set_text(o, st, no ? "false" : "true", false, where, e);
            else
                rc = set_text(o, st, optarg, (o->flags & CONF_APPEND) != 0, where, e);
        } else {
            rc = fail(e, CONF_EUNKNOWN, "unknown option");
        }
    }
    cmd->optind = optind;
    table_free(&t);
    return rc;
}

int conf_parse_args(const struct conf_spec *s, void *st, int argc, char **argv,
                    struct conf_cmd *cmd, struct conf_err *e)
{
    return args_pass(s, st, argc, argv, cmd, true, e);
}

int conf_load(const struct conf_spec *s, void *st, int argc, char **argv, struct conf_cmd *cmd,
              struct conf_err *e)
{
    int rc = conf_defaults(s, st, e);
    if (rc < 0)
        return rc;
    /* First pass: find --config (and reject bad options) before the file. */
    if ((rc = args_pass(s, st, argc, argv, cmd, false, e)) < 0)
        return rc;
    if (cmd->help)
        return 0;
    const char *path = cmd->config_file;
    if (!path && s->default_file && access(s->default_file, F_OK) == 0)
        path = s->default_file;
    if (path && (rc = conf_load_file(s, st, path, e)) < 0)
        return rc;
    rc = args_pass(s, st, argc, argv, cmd, true, e);
    cmd->file_read = path;
    return rc;
}

int conf_origin(const struct conf_spec *s, int argc, char **argv, const struct conf_cmd *cmd,
                const char *name, char *buf, size_t len)
{
    const struct conf_option *o = find(s, name);
    if (len > 0)
        buf[0] = '\0';
    if (!o)
        return CONF_EUNKNOWN;
    /* The command line wins over the file: look there first. */
    struct conf_err e;
    struct getopt_table t;
    if (table_build(s, &t, &e) < 0)
        return e.code;
    optind = 0;
    opterr = 0;
    bool seen = false;
    int c, li;
    while (!seen && (c = getopt_long(argc, argv, t.optstring, t.longopts, &li)) != -1) {
        bool no;
        seen = (c != '?' && c != ':' && by_val(s, c, &no) == o);
    }
    table_free(&t);
    optind = 0;
    if (seen) {
        opt_where(o, buf, len);
        return 0;
    }
    if (!cmd || !cmd->file_read)
        return 0;
    config_t cfg;
    config_init(&cfg);
    if (config_read_file(&cfg, cmd->file_read)) {
        config_setting_t *cs = config_lookup(&cfg, o->name);
        if (cs)
            snprintf(buf, len, "%s:%u", cmd->file_read, config_setting_source_line(cs));
    }
    config_destroy(&cfg);
    return 0;
}

size_t conf_ignored(const struct conf_spec *s, const void *st,
                    void (*warn)(void *arg, const char *msg), void *arg)
{
    size_t n = 0;
    for (const struct conf_option *o = s->opts; o->name; o++) {
        if (!(o->flags & CONF_IGNORED))
            continue;
        bool on;
        memcpy(&on, cfield(o, st), sizeof(on));
        if (!on)
            continue;
        char where[96], msg[MSG + 128];
        opt_where(o, where, sizeof(where));
        snprintf(msg, sizeof(msg), "%s ignored: %s", where, o->help ? o->help : o->name);
        if (warn)
            warn(arg, msg);
        n++;
    }
    return n;
}

/* ---- output: --check, --help, the example config ---- */

static void put_string(FILE *f, const char *s)
{
    /* The characters written as a backslash and a letter, and their letters. */
    static const char special[] = "\"\\\n\r\t\f", letter[] = "\"\\nrtf";
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        const char *e = strchr(special, c);
        if (e != NULL)
            fprintf(f, "\\%c", letter[e - special]);
        else if (c < 0x20 || c == 0x7f)
            fprintf(f, "\\x%02x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

void conf_format_double(char *buf, size_t len, double d)
{
    char fixed[64] = "";
    /* Plain decimals when they are short ("1000.0", "0.001"), else %g. */
    for (int dec = 1; dec <= 17; dec++) {
        snprintf(fixed, sizeof(fixed), "%.*f", dec, d);
        if (strtod(fixed, NULL) == d)
            break;
        fixed[0] = '\0';
    }
    if (fixed[0] && strlen(fixed) <= 20) {
        snprintf(buf, len, "%s", fixed);
        return;
    }
    for (int p = 1; p <= 17; p++) {
        snprintf(buf, len, "%.*g", p, d);
        if (strtod(buf, NULL) == d)
            break;
    }
    if (!strpbrk(buf, ".eEn"))
        strncat(buf, ".0", len - strlen(buf) - 1);
}

static void put_ll(FILE *f, long long v)
{
    fprintf(f, "%lld%s", v, (v < INT_MIN || v > INT_MAX) ? "L" : "");
}

/* Writes the value of o in libconfig syntax; 1 when unset (nothing written). */
static int put_value(FILE *f, const struct conf_option *o, const void *src)
{
    char buf[8192];
    switch (o->type) {
    case CONF_BOOL: {
        bool b;
        memcpy(&b, src, sizeof(b));
        fputs(b ? "true" : "false", f);
        return 0;
    }
    case CONF_INT:
    case CONF_SIZE:
        put_ll(f, load_ll(o, src));
        return 0;
    case CONF_DOUBLE: {
        double d;
        memcpy(&d, src, sizeof(d));
        conf_format_double(buf, sizeof(buf), d);
        fputs(buf, f);
        return 0;
    }
    case CONF_STRING: {
        const char *s;
        memcpy(&s, src, sizeof(s));
        if (!s)
            return 1;
        put_string(f, s);
        return 0;
    }
    case CONF_ENUM: {
        int v;
        memcpy(&v, src, sizeof(v));
        for (const struct conf_word *w = o->words; w && w->word; w++) {
            if (w->value == v) {
                put_string(f, w->word);
                return 0;
            }
        }
        return -1;
    }
    case CONF_LIST: {
        const struct conf_list *l = src;
        fputs("[", f);
        for (size_t i = 0; i < l->n; i++) {
            fputs(i ? ", " : " ", f);
            put_string(f, l->v[i]);
        }
        fputs(l->n ? " ]" : "]", f);
        return 0;
    }
    case CONF_CUSTOM: {
        if (!o->print)
            return -1;
        int rc = o->print(o, src, buf, sizeof(buf));
        if (rc != 0)
            return rc;
        put_string(f, buf);
        return 0;
    }
    }
    return -1;
}

int conf_print(const struct conf_spec *s, const void *st, FILE *f)
{
    int rc = 0;
    fprintf(f, "# %s: effective settings\n", s->prog);
    for (const struct conf_option *o = s->opts; o->name; o++) {
        if (o->flags & CONF_NOFILE)
            continue;
        char *line = NULL;
        size_t len = 0;
        FILE *m = open_memstream(&line, &len);
        if (!m)
            return CONF_ENOMEM;
        int r = put_value(m, o, cfield(o, st));
        fclose(m);
        if (r == 0)
            fprintf(f, "%s = %s;\n", o->name, line);
        else if (r == 1)
            fprintf(f, "# %s is not set\n", o->name);
        else
            rc = CONF_EVALUE;
        free(line);
    }
    return rc;
}

/* One option's value as conf_print() writes it (NULL: unset), malloc'ed into *out. */
static int value_text(const struct conf_option *o, const void *st, char **out)
{
    size_t len = 0;
    *out = NULL;
    FILE *m = open_memstream(out, &len);
    if (!m)
        return CONF_ENOMEM;
    int r = put_value(m, o, cfield(o, st));
    if (fclose(m) != 0)
        r = CONF_ENOMEM;
    if (r != 0) {
        free(*out);
        *out = NULL;
    }
    return r < 0 ? r : 0;
}

int conf_diff(const struct conf_spec *s, const void *a, const void *b,
              void (*changed)(const struct conf_option *o, void *arg), void *arg)
{
    int n = 0;
    for (const struct conf_option *o = s->opts; o->name; o++) {
        char *ta, *tb;
        int ra = value_text(o, a, &ta), rb = value_text(o, b, &tb);
        if (ra < 0 || rb < 0) {
            free(ta);
            free(tb);
            return ra < 0 ? ra : rb;
        }
        if ((ta == NULL) != (tb == NULL) || (ta && strcmp(ta, tb) != 0)) {
            n++;
            if (changed)
                changed(o, arg);
        }
        free(ta);
        free(tb);
    }
    return n;
}

static void left_col(const struct conf_option *o, char *buf, size_t len)
{
    const char *arg = o->type == CONF_BOOL ? NULL : (o->argname ? o->argname : "VALUE");
    if (o->short_name)
        snprintf(buf, len, "  -%c, --%s%s%s", o->short_name, o->name, arg ? "=" : "",
                 arg ? arg : "");
    else
        snprintf(buf, len, "      --%s%s%s", o->name, arg ? "=" : "", arg ? arg : "");
}

static bool same_section(const char *a, const char *b)
{
    return (!a && !b) || (a && b && !strcmp(a, b));
}

void conf_help(const struct conf_spec *s, FILE *f)
{
    char left[128], r[RANGE + 8];
    size_t width = 0;
    for (const struct conf_option *o = s->opts; o->name; o++) {
        if (o->flags & (CONF_HIDDEN | CONF_NOCMDLINE))
            continue;
        left_col(o, left, sizeof(left));
        if (strlen(left) > width)
            width = strlen(left);
    }
    if (width > 32)
        width = 32;
    fprintf(f, "Usage: %s [options]%s%s\n", s->prog, s->usage ? " " : "", s->usage ? s->usage : "");
    /* Sections in order of first appearance. */
    for (const struct conf_option *sec = s->opts; sec->name; sec++) {
        bool first = true;
        for (const struct conf_option *p = s->opts; p != sec; p++)
            if (same_section(p->section, sec->section))
                first = false;
        if (!first)
            continue;
        bool any = false;
        for (const struct conf_option *o = sec; o->name; o++) {
            if (!same_section(o->section, sec->section) ||
                (o->flags & (CONF_HIDDEN | CONF_NOCMDLINE)))
                continue;
            if (!any)
                fprintf(f, "\n%s:\n", sec->section ? sec->section : "Options");
            any = true;
            left_col(o, left, sizeof(left));
            conf_range_text(o, r + 7, sizeof(r) - 7);
            memcpy(r, "one of ", 7);
            const char *rt = o->type == CONF_ENUM ? r : r + 7;
            char extra[RANGE + 128] = "";
            const char *def = o->def;
            if (o->type == CONF_BOOL)
                def = (def && (!strcmp(def, "true") || !strcmp(def, "1"))) ? "on" : NULL;
            if (rt[0] || def)
                snprintf(extra, sizeof(extra), " (%s%s%s%s)", rt, rt[0] && def ? "; " : "",
                         def ? "default " : "", def ? def : "");
            if (strlen(left) > width)
                fprintf(f, "%s\n%*s  %s%s\n", left, (int)width, "", o->help ? o->help : "", extra);
            else
                fprintf(f, "%-*s  %s%s\n", (int)width, left, o->help ? o->help : "", extra);
        }
    }
    if (s->flags & CONF_SPEC_NOCONFIG) {
        fprintf(f, "\n%-*s  %s\n", (int)width,
                s->flags & CONF_SPEC_HELP_H ? "  -h, --help" : "      --help",
                "print this help and exit");
        return;
    }
    char cfg[PATH_MAX + 64] = "read settings from FILE";
    if (s->default_file)
        snprintf(cfg, sizeof(cfg), "read settings from FILE (default %s)", s->default_file);
    fprintf(f, "\nConfiguration:\n");
    fprintf(f, "%-*s  %s\n", (int)width, "      --config=FILE", cfg);
    fprintf(f, "%-*s  %s\n", (int)width, "      --check", "print the effective settings and exit");
    fprintf(f, "%-*s  %s\n", (int)width, "      --help", "print this help and exit");
}

void conf_doc(const struct conf_spec *s, FILE *f)
{
    fprintf(f, "# %s configuration file (libconfig syntax).\n", s->prog);
    fprintf(f, "# Every setting is shown commented out, at its default. Options given\n");
    fprintf(f, "# on the command line override the settings here; see %s --help.\n", s->prog);
    for (const struct conf_option *sec = s->opts; sec->name; sec++) {
        bool first = true;
        for (const struct conf_option *p = s->opts; p != sec; p++)
            if (same_section(p->section, sec->section))
                first = false;
        if (!first)
            continue;
        bool any = false;
        for (const struct conf_option *o = sec; o->name; o++) {
            if (!same_section(o->section, sec->section) || (o->flags & (CONF_HIDDEN | CONF_NOFILE)))
                continue;
            if (!any)
                fprintf(f, "\n## %s\n", sec->section ? sec->section : "Options");
            any = true;
            char r[RANGE];
            conf_range_text(o, r, sizeof(r));
            fprintf(f, "\n# %s", o->help ? o->help : o->name);
            if (o->short_name && r[0])
                fprintf(f, " (-%c; %s)", o->short_name, r);
            else if (o->short_name)
                fprintf(f, " (-%c)", o->short_name);
            else if (r[0])
                fprintf(f, " (%s)", r);
            fputc('\n', f);
            /* The default, printed by the same code as --check. */
            int rc = -1;
            const char *def = o->def;
            if (!def && o->type == CONF_BOOL)
                def = "false";
            if (!def && o->type == CONF_LIST) {
                fprintf(f, "#%s = [];\n", o->name);
                continue;
            }
            if (def) {
                void *tmp = calloc(1, o->size);
                char msg[MSG];
                if (tmp && parse_into(o, def, tmp, 0, msg, sizeof(msg)) == 0) {
                    fprintf(f, "#%s = ", o->name);
                    rc = put_value(f, o, tmp);
                    if (rc == 0)
                        fputs(";\n", f);
                }
                if (tmp) {
                    free_value(o, tmp);
                    free(tmp);
                }
            }
            if (rc != 0) {
                const char *arg = o->argname ? o->argname : "VALUE";
                bool quoted =
                    o->type == CONF_STRING || o->type == CONF_ENUM || o->type == CONF_CUSTOM;
                fprintf(f, "# (not set by default)\n#%s = %s%s%s;\n", o->name, quoted ? "\"" : "",
                        arg, quoted ? "\"" : "");
            }
        }
    }
}

/* ---- table check ---- */

static bool valid_name(const char *n)
{
    if (!isalpha((unsigned char)n[0]))
        return false;
    for (const char *p = n; *p; p++)
        if (!(isalnum((unsigned char)*p) || *p == '-' || *p == '_'))
            return false;
    return true;
}

int conf_table_check(const struct conf_spec *s, struct conf_err *e)
{
    size_t count = 0;
    for (const struct conf_option *o = s->opts; o->name; o++)
        count++;
    if (count >= VAL_NO - VAL_OPT)
        return fail(e, CONF_ETABLE, "%s: too many options", s->prog);
    for (const struct conf_option *o = s->opts; o->name; o++) {
        const char *n = o->name;
        size_t want = 0;
        if (!valid_name(n) || !strcmp(n, "help") || !strcmp(n, "check") || !strcmp(n, "config") ||
            !strncmp(n, "no-", 3))
            return fail(e, CONF_ETABLE, "option '%s': bad name", n);
        if (o->short_name && (!isalnum(o->short_name) || o->short_name > 127))
            return fail(e, CONF_ETABLE, "option '%s': bad short name", n);
        for (const struct conf_option *p = s->opts; p != o; p++) {
            if (!strcmp(p->name, n))
                return fail(e, CONF_ETABLE, "option '%s' defined twice", n);
            if (o->short_name && p->short_name == o->short_name)
                return fail(e, CONF_ETABLE, "options '%s' and '%s' share -%c", p->name, n,
                            o->short_name);
        }
        if ((o->flags & CONF_NOFILE) && (o->flags & CONF_NOCMDLINE))
            return fail(e, CONF_ETABLE, "option '%s': nowhere to set it", n);
        if ((o->flags & CONF_IGNORED) && (o->type != CONF_BOOL || !(o->flags & CONF_NOFILE) ||
                                          o->check || (o->def && strcmp(o->def, "false"))))
            return fail(e, CONF_ETABLE, "option '%s': an ignored option is a command-line flag", n);
        if ((s->flags & CONF_SPEC_HELP_H) && o->short_name == 'h')
            return fail(e, CONF_ETABLE, "option '%s': -h is --help here", n);
        switch (o->type) {
        case CONF_BOOL:
            want = sizeof(bool);
            break;
        case CONF_INT:
        case CONF_SIZE:
            if (o->size != sizeof(int) && o->size != sizeof(long long))
                return fail(e, CONF_ETABLE, "option '%s': field is not int or long long", n);
            if (o->min > o->max ||
                (o->size == sizeof(int) && (o->min < INT_MIN || o->max > INT_MAX)))
                return fail(e, CONF_ETABLE, "option '%s': bad range", n);
            want = o->size;
            break;
        case CONF_DOUBLE:
            want = sizeof(double);
            if (o->dmin > o->dmax)
                return fail(e, CONF_ETABLE, "option '%s': bad range", n);
            break;
        case CONF_STRING:
            want = sizeof(char *);
            break;
        case CONF_ENUM:
            want = sizeof(int);
            if (!o->words || !o->words[0].word)
                return fail(e, CONF_ETABLE, "option '%s': no words", n);
            break;
        case CONF_LIST:
            want = sizeof(struct conf_list);
            break;
        case CONF_CUSTOM:
            want = o->size;
            if (!o->parse || !o->size || (!o->print && !(o->flags & CONF_NOFILE)))
                return fail(e, CONF_ETABLE, "option '%s': custom callbacks missing", n);
            break;
        }
        if (o->size != want)
            return fail(e, CONF_ETABLE, "option '%s': field size %zu, want %zu", n, o->size, want);
        if (o->def) {
            char msg[MSG];
            void *tmp = calloc(1, o->size);
            if (!tmp)
                return fail(e, CONF_ENOMEM, "out of memory");
            int rc = parse_into(o, o->def, tmp, 0, msg, sizeof(msg));
            free_value(o, tmp);
            free(tmp);
            if (rc < 0)
                return fail(e, CONF_ETABLE, "option '%s': default '%s' %s", n, o->def, msg);
        }
    }
    return 0;
}

int conf_abs_check(const struct conf_option *o, const void *val, char *msg, size_t ml)
{
    (void)o;
    const char *s;
    memcpy(&s, val, sizeof(s));
    if (s != NULL && s[0] != '/') {
        snprintf(msg, ml, "must be an absolute path, not '%s'", s);
        return CONF_EVALUE;
    }
    return 0;
}
