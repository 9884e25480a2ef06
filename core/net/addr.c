/*
 * Addresses meet sockets: sockaddr conversions, numeric parsing, private
 * templates (see addr.h). No DNS here.
 */
#include "core/net/addr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

/* Longest text accepted by the parsers; real addresses are far shorter. */
#define ADDR_TEXT_MAX 128

int net_family(int af)
{
    return af == AF_INET ? ADDR_V4 : af == AF_INET6 ? ADDR_V6 : ADDR_NONE;
}

int net_addr_af(const struct addr *a)
{
    switch (addr_family(a)) {
    case ADDR_V4:
        return AF_INET;
    case ADDR_V6:
        return AF_INET6;
    default:
        return AF_UNSPEC;
    }
}

int net_addr_from_sockaddr(struct addr *a, const struct sockaddr *sa, socklen_t len)
{
    addr_clear(a);
    if (len < (socklen_t)sizeof(sa_family_t))
        return -EINVAL;
    if (sa->sa_family == AF_INET) {
        struct sockaddr_in sin;
        if (len < (socklen_t)sizeof(sin))
            return -EINVAL;
        memcpy(&sin, sa, sizeof(sin));
        return addr_set_ip(a, ADDR_V4, &sin.sin_addr, ntohs(sin.sin_port));
    }
    if (sa->sa_family == AF_INET6) {
        struct sockaddr_in6 sin6;
        if (len < (socklen_t)sizeof(sin6))
            return -EINVAL;
        memcpy(&sin6, sa, sizeof(sin6));
        addr_set_ip(a, ADDR_V6, &sin6.sin6_addr, ntohs(sin6.sin6_port));
        a->scope = sin6.sin6_scope_id;
        return 0;
    }
    return -EAFNOSUPPORT;
}

socklen_t net_addr_to_sockaddr(const struct addr *a, struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof(*ss));
    switch (addr_family(a)) {
    case ADDR_V4: {
        struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(a->port)};
        memcpy(&sin.sin_addr, a->ip, 4);
        memcpy(ss, &sin, sizeof(sin));
        return sizeof(sin);
    }
    case ADDR_V6: {
        struct sockaddr_in6 sin6 = {
            .sin6_family = AF_INET6, .sin6_port = htons(a->port), .sin6_scope_id = a->scope};
        memcpy(&sin6.sin6_addr, a->ip, 16);
        memcpy(ss, &sin6, sizeof(sin6));
        return sizeof(sin6);
    }
    default:
        ss->ss_family = AF_UNSPEC;
        return 0;
    }
}

/* host is "a.b.c.d" or an IPv6 address with an optional numeric "%scope". */
static int parse_host(struct addr *a, const char *host, uint16_t port)
{
    uint8_t ip[16];
    char buf[ADDR_TEXT_MAX];
    const char *pct;
    uint32_t scope = 0;

    if (strchr(host, ':') == NULL) {
        if (inet_pton(AF_INET, host, ip) != 1)
            return -EINVAL;
        return addr_set_ip(a, ADDR_V4, ip, port);
    }
    pct = strchr(host, '%');
    if (pct != NULL) {
        size_t hl = (size_t)(pct - host);
        const char *d = pct + 1;
        unsigned long v = 0;

        if (hl >= sizeof(buf) || *d == '\0')
            return -EINVAL;
        for (; *d != '\0'; d++) {
            /* Names need if_nametoindex(): that is net_resolve_host()'s job. */
            if (*d < '0' || *d > '9')
                return -EINVAL;
            v = v * 10 + (unsigned long)(*d - '0');
            if (v > UINT32_MAX)
                return -EINVAL;
        }
        memcpy(buf, host, hl);
        buf[hl] = '\0';
        host = buf;
        scope = (uint32_t)v;
    }
    if (inet_pton(AF_INET6, host, ip) != 1)
        return -EINVAL;
    addr_set_ip(a, ADDR_V6, ip, port);
    a->scope = scope;
    return 0;
}

int net_addr_parse(struct addr *a, const char *s, uint16_t defport)
{
    char buf[ADDR_TEXT_MAX];
    size_t n;
    uint16_t port = defport;
    int rc;

    addr_clear(a);
    if (s == NULL)
        return -EINVAL;
    n = strnlen(s, sizeof(buf));
    if (n == 0 || n >= sizeof(buf))
        return -EINVAL;
    memcpy(buf, s, n + 1);

    if (buf[0] == '[') {
        char *close = strchr(buf, ']');
        if (close == NULL || close == buf + 1)
            return -EINVAL;
        *close = '\0';
        if (close[1] == ':') {
            if ((rc = addr_parse_port(close + 2, &port)) < 0)
                return rc;
        } else if (close[1] != '\0') {
            return -EINVAL;
        }
        /* Brackets are for IPv6 only. */
        if (strchr(buf + 1, ':') == NULL)
            return -EINVAL;
        rc = parse_host(a, buf + 1, port);
    } else {
        char *colon = strchr(buf, ':');
        if (colon != NULL && strchr(colon + 1, ':') == NULL) {
            /* Exactly one colon: IPv4 "host:port". */
            *colon = '\0';
            if ((rc = addr_parse_port(colon + 1, &port)) < 0)
                return rc;
            if (strchr(buf, '.') == NULL)
                return -EINVAL;
        }
        rc = parse_host(a, buf, port);
    }
    if (rc < 0)
        addr_clear(a);
    return rc;
}

/* At most 8 parts in an IPv6 address, 4 in IPv4. */
#define TEMPLATE_MAX_X 8

static int template_expand(struct addr *out, const char *tmpl, uint16_t port, const uint16_t *vals,
                           size_t nvals)
{
    char buf[ADDR_TEXT_MAX];
    size_t n, o = 0, part = 0, nx = 0;
    bool v6;
    char sep;

    addr_clear(out);
    if (tmpl == NULL)
        return -EINVAL;
    n = strnlen(tmpl, 64);
    if (n == 0 || n >= 64)
        return -EINVAL;
    v6 = memchr(tmpl, ':', n) != NULL;
    sep = v6 ? ':' : '.';

    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && tmpl[j] != sep)
            j++;
        /* tmpl[i..j) is one part; 6 bytes cover a value, a separator, a NUL. */
        if (o + (j - i) + 6 > sizeof(buf))
            return -EINVAL;
        if (j - i == 1 && tmpl[i] == 'x') {
            if (part == 0 || nx >= nvals)
                return -EINVAL;
            if (v6)
                o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%x", (unsigned)vals[nx]);
            else
                o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%u", (unsigned)(vals[nx] & 0xff));
            nx++;
        } else {
            if (memchr(tmpl + i, 'x', j - i) != NULL || memchr(tmpl + i, 'X', j - i) != NULL)
                return -EINVAL;
            memcpy(buf + o, tmpl + i, j - i);
            o += j - i;
        }
        if (j < n)
            buf[o++] = sep;
        i = j + 1;
        part++;
    }
    buf[o] = '\0';
    /* The expansion is an address only, never "addr:port". */
    if (!v6 && strchr(buf, ':') != NULL)
        return -EINVAL;
    if (parse_host(out, buf, port) < 0) {
        addr_clear(out);
        return -EINVAL;
    }
    return 0;
}

int net_addr_template_with(struct addr *out, const char *tmpl, uint16_t port, const uint16_t *vals,
                           size_t nvals)
{
    return template_expand(out, tmpl, port, vals, nvals);
}

int net_addr_template(struct addr *out, const char *tmpl, uint16_t port)
{
    uint16_t vals[TEMPLATE_MAX_X];
    size_t got = 0;
    int rc;

    while (got < sizeof(vals)) {
        ssize_t r = getrandom((uint8_t *)vals + got, sizeof(vals) - got, 0);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            addr_clear(out);
            return -errno;
        }
        got += (size_t)r;
    }
    rc = template_expand(out, tmpl, port, vals, TEMPLATE_MAX_X);
    explicit_bzero(vals, sizeof(vals));
    return rc;
}
