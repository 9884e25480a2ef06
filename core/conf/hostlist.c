#include "core/conf/hostlist.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* getaddrinfo() of host into *out; flags AI_NUMERICHOST: offline (IPv6 scope ids allowed). */
static int resolve(const char *host, int family, int flags, struct sockaddr_storage *out,
                   socklen_t *outlen)
{
    struct addrinfo hints, *ai;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = family;
    hints.ai_socktype = SOCK_DGRAM;
    hints.ai_flags = flags;
    if (getaddrinfo(host, NULL, &hints, &ai) != 0)
        return -1;
    int rc = -1;
    if (ai->ai_addrlen <= sizeof(*out)) {
        memcpy(out, ai->ai_addr, ai->ai_addrlen);
        *outlen = ai->ai_addrlen;
        rc = 0;
    }
    freeaddrinfo(ai);
    return rc;
}

int conf_resolve_system(const char *host, int family, struct sockaddr_storage *out,
                        socklen_t *outlen)
{
    return resolve(host, family, 0, out, outlen);
}

int conf_parse_id(const char *s, bool allow_zero, uint32_t *id)
{
    const char *p = s;
    uint32_t v = 0;
    size_t n = 0;

    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
        p += 2;
    for (; *p; p++, n++) {
        if (!isxdigit((unsigned char)*p) || n == 8)
            return CONF_EVALUE;
        v = v << 4 | (uint32_t)(isdigit((unsigned char)*p) ? *p - '0'
                                                           : tolower((unsigned char)*p) - 'a' + 10);
    }
    if (n == 0)
        return CONF_EVALUE;
    if ((v == 0 && !allow_zero) || v == 0xffffffffu)
        return CONF_ERANGE;
    *id = v;
    return 0;
}

int conf_id_parse(const struct conf_option *o, const char *text, void *dst, char *msg, size_t ml)
{
    (void)o;
    uint32_t id;
    if (conf_parse_id(text, false, &id) < 0) {
        snprintf(msg, ml, "must be a hex ID such as 0x0A000001 (not 0 or 0xFFFFFFFF)");
        return CONF_EVALUE;
    }
    memcpy(dst, &id, sizeof(id));
    return 0;
}

int conf_id_print(const struct conf_option *o, const void *src, char *buf, size_t len)
{
    (void)o;
    uint32_t id;
    memcpy(&id, src, sizeof(id));
    if (id == 0)
        return 1;
    snprintf(buf, len, "0x%08X", id);
    return 0;
}

int conf_parse_fingerprint(const char *s, uint8_t fp[static CONF_FP_MAX], size_t *len)
{
    size_t n = 0;
    const char *p = s;

    for (;;) {
        size_t d = 0;
        unsigned v = 0;
        while (isxdigit((unsigned char)p[d]) && d < 3) {
            v = v << 4 |
                (unsigned)(isdigit((unsigned char)p[d]) ? p[d] - '0'
                                                        : tolower((unsigned char)p[d]) - 'a' + 10);
            d++;
        }
        if (d == 0 || d > 2 || n == CONF_FP_MAX)
            return CONF_EVALUE;
        fp[n++] = (uint8_t)v;
        p += d;
        if (*p == '\0')
            break;
        if (*p != ':')
            return CONF_EVALUE;
        p++;
    }
    *len = n;
    return 0;
}

void conf_hostlist_free(struct conf_hostlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i].name);
    free(l->v);
    free(l->source);
    l->v = NULL;
    l->n = 0;
    l->source = NULL;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        s[--n] = '\0';
    return s;
}

/* Shows a field in a message: cut, control bytes as '?'. */
static const char *show(const char *s, char *buf, size_t cap)
{
    size_t o = 0;
    for (; *s && o + 4 < cap; s++)
        buf[o++] = ((unsigned char)*s >= 0x20 && *s != 0x7f) ? *s : '?';
    if (*s && cap > 4) {
        memcpy(buf + o, "...", 3);
        o += 3;
    }
    buf[o] = '\0';
    return buf;
}

static const char *format_of(enum conf_hl_kind k)
{
    switch (k) {
    case CONF_HL_IDS:
        return "ID[|fingerprint]";
    case CONF_HL_SERVERS:
        return "serverID|IP|proxyID[|fingerprint]";
    case CONF_HL_PROXIES:
        return "proxyID|IP[|fingerprint]";
    case CONF_HL_PROXY_SERVERS:
        return "serverID|IP[|fingerprint]";
    case CONF_HL_CLIENTS:
        return "clientID[|fingerprint]";
    }
    return "?";
}

/* Which fields a kind has, in order: I = ID, A = address, P = proxy ID, F = fingerprint. */
static const char *fields_of(enum conf_hl_kind k)
{
    switch (k) {
    case CONF_HL_IDS:
    case CONF_HL_CLIENTS:
        return "IF";
    case CONF_HL_SERVERS:
        return "IAPF";
    case CONF_HL_PROXIES:
    case CONF_HL_PROXY_SERVERS:
        return "IAF";
    }
    return "";
}

struct ctx {
    const struct conf_hl_spec *spec;
    const char *label;
    char *msg;
    size_t ml;
    size_t cap;
};

/* The ID field; in CONF_HL_IDS also an IPv4 address or a host name. */
static int parse_id_field(struct ctx *c, const char *f, struct conf_host *h, const char *where)
{
    char t[80];
    int rc = conf_parse_id(f, false, &h->id);
    if (rc == 0)
        return 0;
    if (rc == CONF_ERANGE) {
        snprintf(c->msg, c->ml, "%sID '%s' is reserved (0 and 0xFFFFFFFF are not allowed)", where,
                 show(f, t, sizeof(t)));
        return rc;
    }
    if (c->spec->kind != CONF_HL_IDS) {
        snprintf(c->msg, c->ml, "%s'%s' is not a hex ID", where, show(f, t, sizeof(t)));
        return CONF_EVALUE;
    }
    struct in_addr a;
    bool ok = inet_pton(AF_INET, f, &a) == 1;
    if (!ok && c->spec->resolve && f[0]) {
        h->addrlen = sizeof(h->addr);
        if (c->spec->resolve(f, AF_INET, &h->addr, &h->addrlen) == 0 &&
            h->addr.ss_family == AF_INET) {
            a = ((struct sockaddr_in *)&h->addr)->sin_addr;
            ok = true;
        }
    }
    if (!ok) {
        snprintf(c->msg, c->ml, "%s'%s' is not an ID, an IPv4 address or a known host name", where,
                 show(f, t, sizeof(t)));
        return CONF_EVALUE;
    }
    /* spec §0: an IPv4 name's numeric value is the ID. */
    struct sockaddr_in *sin = (struct sockaddr_in *)&h->addr;
    memset(&h->addr, 0, sizeof(h->addr));
    sin->sin_family = AF_INET;
    sin->sin_addr = a;
    h->addrlen = sizeof(*sin);
    h->id = ntohl(a.s_addr);
    if (h->id == 0 || h->id == 0xffffffffu) {
        snprintf(c->msg, c->ml, "%s'%s' gives the reserved ID 0x%08X", where, show(f, t, sizeof(t)),
                 h->id);
        return CONF_ERANGE;
    }
    return 0;
}

static int add_host(struct ctx *c, struct conf_hostlist *l, const struct conf_host *h)
{
    if (l->n == c->cap) {
        size_t nc = c->cap ? c->cap * 2 : 16;
        struct conf_host *nv = realloc(l->v, nc * sizeof(*nv));
        if (!nv)
            return CONF_ENOMEM;
        l->v = nv;
        c->cap = nc;
    }
    l->v[l->n++] = *h;
    return 0;
}

/* One non-comment line; where = "label:line: ". */
static int parse_line(struct ctx *c, char *line, unsigned lineno, const char *where,
                      struct conf_hostlist *l)
{
    const char *want = fields_of(c->spec->kind);
    size_t nwant = strlen(want);
    char *f[5];
    size_t nf = 0;
    char t[80];
    struct conf_host h;

    memset(&h, 0, sizeof(h));
    h.line = lineno;
    for (char *p = line;; nf++) {
        char *bar = strchr(p, '|');
        if (nf == nwant) {
            snprintf(c->msg, c->ml, "%stoo many fields (the format is %s)", where,
                     format_of(c->spec->kind));
            return CONF_EVALUE;
        }
        if (bar)
            *bar = '\0';
        f[nf] = trim(p);
        if (!bar) {
            nf++;
            break;
        }
        p = bar + 1;
    }
    for (size_t i = 0; i < nwant; i++) {
        const char *v = i < nf ? f[i] : "";
        int rc = 0;
        /* Every field but the fingerprint must be there. */
        if (!v[0] && want[i] != 'F') {
            snprintf(c->msg, c->ml, "%smissing %s (%sthe format is %s)", where,
                     want[i] == 'I'   ? "ID"
                     : want[i] == 'A' ? "IP address"
                                      : "proxy ID",
                     want[i] == 'P' ? "0 for none; " : "", format_of(c->spec->kind));
            return CONF_EVALUE;
        }
        switch (want[i]) {
        case 'I':
            if ((rc = parse_id_field(c, v, &h, where)) < 0)
                return rc;
            break;
        case 'A':
            h.addrlen = sizeof(h.addr);
            if (resolve(v, AF_UNSPEC, AI_NUMERICHOST, &h.addr, &h.addrlen) < 0 &&
                (!c->spec->resolve || c->spec->resolve(v, AF_UNSPEC, &h.addr, &h.addrlen) < 0)) {
                snprintf(c->msg, c->ml, "%s'%s' is not an IP address%s", where,
                         show(v, t, sizeof(t)), c->spec->resolve ? " or a known host name" : "");
                return CONF_EVALUE;
            }
            break;
        case 'P':
            if ((rc = conf_parse_id(v, true, &h.proxy_id)) < 0) {
                snprintf(c->msg, c->ml, "%sproxy ID '%s' %s", where, show(v, t, sizeof(t)),
                         rc == CONF_ERANGE ? "is reserved" : "is not a hex ID");
                return rc;
            }
            break;
        case 'F':
            /* An empty fingerprint field ("id|ip|") means none, as in the man pages. */
            if (v[0] && conf_parse_fingerprint(v, h.fp, &h.fp_len) < 0) {
                snprintf(c->msg, c->ml,
                         "%sbad fingerprint '%s' (1 to %d hex bytes separated by ':')", where,
                         show(v, t, sizeof(t)), CONF_FP_MAX);
                return CONF_EVALUE;
            }
            break;
        }
    }
    if (l->n == c->spec->max) {
        snprintf(c->msg, c->ml, "%smore than %zu entries", where, c->spec->max);
        return CONF_ECOUNT;
    }
    if (!(h.name = strdup(f[0])) || add_host(c, l, &h) < 0) {
        free(h.name);
        snprintf(c->msg, c->ml, "%sout of memory", where);
        return CONF_ENOMEM;
    }
    return 0;
}

static int cmp_host(const void *a, const void *b)
{
    const struct conf_host *x = *(const struct conf_host *const *)a;
    const struct conf_host *y = *(const struct conf_host *const *)b;
    if (x->id != y->id)
        return x->id < y->id ? -1 : 1;
    return x->line < y->line ? -1 : x->line > y->line;
}

/* Duplicate IDs are an error: which entry would the fingerprint check use? */
static int check_dups(struct ctx *c, const struct conf_hostlist *l, const char *label)
{
    if (l->n < 2)
        return 0;
    const struct conf_host **s = malloc(l->n * sizeof(*s));
    if (!s) {
        snprintf(c->msg, c->ml, "%s: out of memory", label);
        return CONF_ENOMEM;
    }
    for (size_t i = 0; i < l->n; i++)
        s[i] = &l->v[i];
    qsort(s, l->n, sizeof(*s), cmp_host);
    int rc = 0;
    for (size_t i = 1; i < l->n && rc == 0; i++) {
        if (s[i]->id != s[i - 1]->id)
            continue;
        if (s[i]->line)
            snprintf(c->msg, c->ml, "%s:%u: duplicate ID 0x%08X (also on line %u)", label,
                     s[i]->line, s[i]->id, s[i - 1]->line);
        else
            snprintf(c->msg, c->ml, "%s: duplicate ID 0x%08X", label, s[i]->id);
        rc = CONF_EVALUE;
    }
    free(s);
    return rc;
}

int conf_hostlist_parse(struct conf_hostlist *out, const struct conf_hl_spec *spec,
                        const char *label, const char *buf, size_t len, char *msg, size_t msglen)
{
    struct ctx c = {spec, label, msg, msglen, 0};
    char line[CONF_HL_LINE_MAX + 1];
    char where[320];
    unsigned lineno = 0;
    int rc = 0;

    memset(out, 0, sizeof(*out));
    for (size_t pos = 0; pos < len && rc == 0;) {
        const char *nl = memchr(buf + pos, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - (buf + pos)) : len - pos;
        const char *start = buf + pos;
        pos += n + (nl ? 1 : 0);
        lineno++;
        snprintf(where, sizeof(where), "%s:%u: ", label, lineno);
        if (n && start[n - 1] == '\r')
            n--;
        if (n > CONF_HL_LINE_MAX) {
            snprintf(msg, msglen, "%sline longer than %d bytes", where, CONF_HL_LINE_MAX);
            rc = CONF_EVALUE;
            break;
        }
        memcpy(line, start, n);
        line[n] = '\0';
        if (memchr(line, '\0', n)) {
            snprintf(msg, msglen, "%sNUL byte in line", where);
            rc = CONF_EVALUE;
            break;
        }
        char *hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        char *t = trim(line);
        if (!t[0])
            continue;
        rc = parse_line(&c, t, lineno, where, out);
    }
    if (rc == 0)
        rc = check_dups(&c, out, label);
    if (rc < 0)
        conf_hostlist_free(out);
    return rc;
}

int conf_hostlist_read(struct conf_hostlist *out, const struct conf_hl_spec *spec, const char *path,
                       char *msg, size_t msglen)
{
    struct stat st;
    memset(out, 0, sizeof(*out));
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        snprintf(msg, msglen, "%s: %s", path, strerror(errno));
        return CONF_EIO;
    }
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > CONF_HL_FILE_MAX) {
        close(fd);
        snprintf(msg, msglen, "%s: not a regular file of at most %d bytes", path, CONF_HL_FILE_MAX);
        return CONF_EIO;
    }
    char *buf = malloc((size_t)st.st_size + 1);
    if (!buf) {
        close(fd);
        snprintf(msg, msglen, "%s: out of memory", path);
        return CONF_ENOMEM;
    }
    size_t got = 0;
    while (got < (size_t)st.st_size) {
        ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    int rc = conf_hostlist_parse(out, spec, path, buf, got, msg, msglen);
    free(buf);
    return rc;
}

int conf_hostlist_parse_ids(struct conf_hostlist *out, const struct conf_hl_spec *spec,
                            const char *text, char *msg, size_t msglen)
{
    struct conf_hl_spec ids = *spec;
    struct ctx c = {&ids, "", msg, msglen, 0};
    char item[CONF_HL_LINE_MAX + 1];
    char t[80];
    int rc = 0;

    ids.kind = CONF_HL_IDS;
    memset(out, 0, sizeof(*out));
    for (const char *p = text; rc == 0;) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        if (n > CONF_HL_LINE_MAX) {
            snprintf(msg, msglen, "an entry is longer than %d bytes", CONF_HL_LINE_MAX);
            rc = CONF_EVALUE;
            break;
        }
        memcpy(item, p, n);
        item[n] = '\0';
        char *f = trim(item);
        struct conf_host h;
        memset(&h, 0, sizeof(h));
        if (!f[0]) {
            snprintf(msg, msglen, "has an empty entry");
            rc = CONF_EVALUE;
        } else if (strchr(f, '|')) {
            snprintf(msg, msglen, "entry '%s': fingerprints need a list file (@file)",
                     show(f, t, sizeof(t)));
            rc = CONF_EVALUE;
        } else if (out->n == spec->max) {
            snprintf(msg, msglen, "has more than %zu entries", spec->max);
            rc = CONF_ECOUNT;
        } else if ((rc = parse_id_field(&c, f, &h, "entry ")) == 0) {
            if (!(h.name = strdup(f)) || add_host(&c, out, &h) < 0) {
                free(h.name);
                rc = CONF_ENOMEM;
                snprintf(msg, msglen, "is out of memory");
            }
        }
        if (!comma)
            break;
        p = comma + 1;
    }
    if (rc == 0)
        rc = check_dups(&c, out, "list");
    if (rc < 0)
        conf_hostlist_free(out);
    return rc;
}

int conf_hostlist_opt_parse(const struct conf_option *o, const char *text, void *dst, char *msg,
                            size_t msglen)
{
    const struct conf_hl_spec *spec = o->arg;
    struct conf_hostlist *l = dst;
    int rc;
    if (spec->kind == CONF_HL_IDS && text[0] != '@')
        rc = conf_hostlist_parse_ids(l, spec, text, msg, msglen);
    else
        rc = conf_hostlist_read(l, spec, text[0] == '@' ? text + 1 : text, msg, msglen);
    if (rc == 0 && !(l->source = strdup(text))) {
        conf_hostlist_free(l);
        snprintf(msg, msglen, "is out of memory");
        return CONF_ENOMEM;
    }
    return rc;
}

int conf_hostlist_opt_print(const struct conf_option *o, const void *src, char *buf, size_t len)
{
    const struct conf_hostlist *l = src;
    if (!l->source)
        return 1;
    int n = snprintf(buf, len, "%s", l->source);
    return (n < 0 || (size_t)n >= len) ? CONF_ERANGE : 0;
}

void conf_hostlist_opt_free(const struct conf_option *o, void *dst)
{
    conf_hostlist_free(dst);
}
