/*
 * Socket addresses as plain data: parsing, formatting, classification.
 * No socket calls and no DNS here (see addr.h).
 */
#include "core/net/addr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

/* Longest text accepted by the parsers; real addresses are far shorter. */
#define ADDR_TEXT_MAX 128

void net_addr_clear(struct net_addr *a)
{
    memset(a, 0, sizeof(*a));
}

bool net_addr_is_set(const struct net_addr *a)
{
    return a->len != 0 && (a->ss.ss_family == AF_INET || a->ss.ss_family == AF_INET6);
}

int net_addr_family(const struct net_addr *a)
{
    return net_addr_is_set(a) ? a->ss.ss_family : AF_UNSPEC;
}

int net_addr_set_ip(struct net_addr *a, int family, const void *ip, uint16_t port)
{
    net_addr_clear(a);
    if (family == AF_INET) {
        struct sockaddr_in *s = &a->sin;
        s->sin_family = AF_INET;
        s->sin_port = htons(port);
        memcpy(&s->sin_addr, ip, 4);
        a->len = sizeof(*s);
        return 0;
    }
    if (family == AF_INET6) {
        struct sockaddr_in6 *s = &a->sin6;
        s->sin6_family = AF_INET6;
        s->sin6_port = htons(port);
        memcpy(&s->sin6_addr, ip, 16);
        a->len = sizeof(*s);
        return 0;
    }
    return -EAFNOSUPPORT;
}

size_t net_addr_get_ip(const struct net_addr *a, uint8_t out[16])
{
    switch (net_addr_family(a)) {
    case AF_INET:
        memcpy(out, &a->sin.sin_addr, 4);
        return 4;
    case AF_INET6:
        memcpy(out, &a->sin6.sin6_addr, 16);
        return 16;
    default:
        return 0;
    }
}

int net_addr_from_sockaddr(struct net_addr *a, const struct sockaddr *sa, socklen_t len)
{
    net_addr_clear(a);
    if (len < (socklen_t)sizeof(sa_family_t))
        return -EINVAL;
    if (sa->sa_family == AF_INET) {
        if (len < (socklen_t)sizeof(struct sockaddr_in))
            return -EINVAL;
        memcpy(&a->ss, sa, sizeof(struct sockaddr_in));
        a->len = sizeof(struct sockaddr_in);
        return 0;
    }
    if (sa->sa_family == AF_INET6) {
        if (len < (socklen_t)sizeof(struct sockaddr_in6))
            return -EINVAL;
        memcpy(&a->ss, sa, sizeof(struct sockaddr_in6));
        a->len = sizeof(struct sockaddr_in6);
        return 0;
    }
    return -EAFNOSUPPORT;
}

uint16_t net_addr_port(const struct net_addr *a)
{
    switch (net_addr_family(a)) {
    case AF_INET:
        return ntohs(a->sin.sin_port);
    case AF_INET6:
        return ntohs(a->sin6.sin6_port);
    default:
        return 0;
    }
}

void net_addr_set_port(struct net_addr *a, uint16_t port)
{
    switch (net_addr_family(a)) {
    case AF_INET:
        a->sin.sin_port = htons(port);
        break;
    case AF_INET6:
        a->sin6.sin6_port = htons(port);
        break;
    default:
        break;
    }
}

uint32_t net_addr_scope(const struct net_addr *a)
{
    return net_addr_family(a) == AF_INET6 ? a->sin6.sin6_scope_id : 0;
}

int net_addr_parse_port(const char *s, uint16_t *port)
{
    unsigned long v = 0;
    size_t n = 0;

    for (; s[n] != '\0'; n++) {
        if (s[n] < '0' || s[n] > '9')
            return -EINVAL;
        /* Leading zeros are fine; the value is what is bounded. */
        v = v * 10 + (unsigned long)(s[n] - '0');
        if (v > 65535) {
            while (s[n] >= '0' && s[n] <= '9')
                n++;
            return s[n] == '\0' ? -ERANGE : -EINVAL;
        }
    }
    if (n == 0)
        return -EINVAL;
    *port = (uint16_t)v;
    return 0;
}

/* host is "a.b.c.d" or an IPv6 address with an optional numeric "%scope". */
static int parse_host(struct net_addr *a, const char *host, uint16_t port)
{
    uint8_t ip[16];
    char buf[ADDR_TEXT_MAX];
    const char *pct;
    uint32_t scope = 0;

    if (strchr(host, ':') == NULL) {
        if (inet_pton(AF_INET, host, ip) != 1)
            return -EINVAL;
        return net_addr_set_ip(a, AF_INET, ip, port);
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
    net_addr_set_ip(a, AF_INET6, ip, port);
    a->sin6.sin6_scope_id = scope;
    return 0;
}

int net_addr_parse(struct net_addr *a, const char *s, uint16_t defport)
{
    char buf[ADDR_TEXT_MAX];
    size_t n;
    uint16_t port = defport;
    int rc;

    net_addr_clear(a);
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
            if ((rc = net_addr_parse_port(close + 2, &port)) < 0)
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
            if ((rc = net_addr_parse_port(colon + 1, &port)) < 0)
                return rc;
            if (strchr(buf, '.') == NULL)
                return -EINVAL;
        }
        rc = parse_host(a, buf, port);
    }
    if (rc < 0)
        net_addr_clear(a);
    return rc;
}

int net_addr_format(const struct net_addr *a, char *out, size_t cap, unsigned flags)
{
    char host[INET6_ADDRSTRLEN];
    char scope[16] = "";
    int n;

    if (cap > 0)
        out[0] = '\0';
    switch (net_addr_family(a)) {
    case AF_INET:
        inet_ntop(AF_INET, &a->sin.sin_addr, host, sizeof(host));
        if (flags & NET_FMT_PORT)
            n = snprintf(out, cap, "%s:%u", host, net_addr_port(a));
        else
            n = snprintf(out, cap, "%s", host);
        break;
    case AF_INET6:
        inet_ntop(AF_INET6, &a->sin6.sin6_addr, host, sizeof(host));
        if (a->sin6.sin6_scope_id != 0)
            snprintf(scope, sizeof(scope), "%%%u", (unsigned)a->sin6.sin6_scope_id);
        if (flags & NET_FMT_PORT)
            n = snprintf(out, cap, "[%s%s]:%u", host, scope, net_addr_port(a));
        else
            n = snprintf(out, cap, "%s%s", host, scope);
        break;
    default:
        return -EAFNOSUPPORT;
    }
    if (n < 0 || (size_t)n >= cap) {
        if (cap > 0)
            out[0] = '\0';
        return -ENOSPC;
    }
    return n;
}

const char *net_addr_str(const struct net_addr *a, char buf[NET_ADDR_STRLEN])
{
    if (net_addr_format(a, buf, NET_ADDR_STRLEN, NET_FMT_PORT) < 0)
        snprintf(buf, NET_ADDR_STRLEN, "(none)");
    return buf;
}

bool net_addr_is_v4mapped(const struct net_addr *a)
{
    return net_addr_family(a) == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&a->sin6.sin6_addr);
}

void net_addr_unmap(struct net_addr *a)
{
    if (net_addr_is_v4mapped(a)) {
        uint16_t port = net_addr_port(a);
        uint8_t ip[4];
        memcpy(ip, &a->sin6.sin6_addr.s6_addr[12], 4);
        net_addr_set_ip(a, AF_INET, ip, port);
    }
}

void net_addr_map_v6(struct net_addr *a)
{
    if (net_addr_family(a) == AF_INET) {
        uint8_t ip[16] = {[10] = 0xff, [11] = 0xff};
        uint16_t port = net_addr_port(a);
        memcpy(ip + 12, &a->sin.sin_addr, 4);
        net_addr_set_ip(a, AF_INET6, ip, port);
    }
}

int net_addr_cmp(const struct net_addr *a, const struct net_addr *b)
{
    struct net_addr x = *a, y = *b;
    uint8_t ix[16], iy[16];
    size_t lx, ly;
    int c;

    net_addr_unmap(&x);
    net_addr_unmap(&y);
    lx = net_addr_get_ip(&x, ix);
    ly = net_addr_get_ip(&y, iy);
    if (lx != ly)
        return lx < ly ? -1 : 1;
    if (lx == 0)
        return 0;
    if ((c = memcmp(ix, iy, lx)) != 0)
        return c < 0 ? -1 : 1;
    if (net_addr_port(&x) != net_addr_port(&y))
        return net_addr_port(&x) < net_addr_port(&y) ? -1 : 1;
    if (net_addr_scope(&x) != net_addr_scope(&y))
        return net_addr_scope(&x) < net_addr_scope(&y) ? -1 : 1;
    return 0;
}

bool net_addr_equal(const struct net_addr *a, const struct net_addr *b)
{
    return net_addr_cmp(a, b) == 0;
}

bool net_addr_equal_ip(const struct net_addr *a, const struct net_addr *b)
{
    struct net_addr x = *a, y = *b;
    net_addr_set_port(&x, 0);
    net_addr_set_port(&y, 0);
    return net_addr_cmp(&x, &y) == 0;
}

/* The IPv4 address in host order, looking through an IPv4-mapped one. */
static bool v4_value(const struct net_addr *a, uint32_t *v)
{
    if (net_addr_family(a) == AF_INET) {
        *v = ntohl(a->sin.sin_addr.s_addr);
        return true;
    }
    if (net_addr_is_v4mapped(a)) {
        const uint8_t *p = &a->sin6.sin6_addr.s6_addr[12];
        *v = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
        return true;
    }
    return false;
}

bool net_addr_is_multicast(const struct net_addr *a)
{
    uint32_t v;
    if (v4_value(a, &v))
        return (v >> 28) == 0xe;
    return net_addr_family(a) == AF_INET6 && a->sin6.sin6_addr.s6_addr[0] == 0xff;
}

bool net_addr_is_ssm(const struct net_addr *a)
{
    uint32_t v;
    if (v4_value(a, &v))
        return (v >> 24) == 232;
    /* ff3x: flags nibble 0011 = prefix-based (P) + transient (T), RFC 4607. */
    return net_addr_family(a) == AF_INET6 && a->sin6.sin6_addr.s6_addr[0] == 0xff &&
           (a->sin6.sin6_addr.s6_addr[1] >> 4) == 0x3;
}

bool net_addr_is_loopback(const struct net_addr *a)
{
    uint32_t v;
    if (v4_value(a, &v))
        return (v >> 24) == 127;
    return net_addr_family(a) == AF_INET6 && IN6_IS_ADDR_LOOPBACK(&a->sin6.sin6_addr);
}

bool net_addr_is_unspecified(const struct net_addr *a)
{
    if (net_addr_family(a) == AF_INET)
        return a->sin.sin_addr.s_addr == htonl(INADDR_ANY);
    return net_addr_family(a) == AF_INET6 && IN6_IS_ADDR_UNSPECIFIED(&a->sin6.sin6_addr);
}

uint32_t net_addr_id(const struct net_addr *a)
{
    uint8_t ip[16];
    size_t n = net_addr_get_ip(a, ip);
    const uint8_t *p;

    if (n == 0)
        return 0;
    p = ip + n - 4;
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* At most 8 parts in an IPv6 address, 4 in IPv4. */
#define TEMPLATE_MAX_X 8

static int template_expand(struct net_addr *out, const char *tmpl, uint16_t port,
                           const uint16_t *vals, size_t nvals)
{
    char buf[ADDR_TEXT_MAX];
    size_t n, o = 0, part = 0, nx = 0;
    bool v6;
    char sep;

    net_addr_clear(out);
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
        net_addr_clear(out);
        return -EINVAL;
    }
    return 0;
}

int net_addr_template_with(struct net_addr *out, const char *tmpl, uint16_t port,
                           const uint16_t *vals, size_t nvals)
{
    return template_expand(out, tmpl, port, vals, nvals);
}

int net_addr_template(struct net_addr *out, const char *tmpl, uint16_t port)
{
    uint16_t vals[TEMPLATE_MAX_X];
    size_t got = 0;
    int rc;

    while (got < sizeof(vals)) {
        ssize_t r = getrandom((uint8_t *)vals + got, sizeof(vals) - got, 0);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            net_addr_clear(out);
            return -errno;
        }
        got += (size_t)r;
    }
    rc = template_expand(out, tmpl, port, vals, TEMPLATE_MAX_X);
    explicit_bzero(vals, sizeof(vals));
    return rc;
}
