/*
 * IP addresses as plain values: classification, comparison and formatting
 * (see addr.h). Formatting is written out here (RFC 5952) rather than
 * borrowed from inet_ntop so that the floor needs no socket header; the
 * unit test checks it against inet_ntop/inet_pton.
 */
#include "core/base/addr.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const uint8_t v4mapped_prefix[12] = {[10] = 0xff, [11] = 0xff};

void addr_clear(struct addr *a)
{
    memset(a, 0, sizeof(*a));
}

bool addr_is_set(const struct addr *a)
{
    return a->family == ADDR_V4 || a->family == ADDR_V6;
}

int addr_family(const struct addr *a)
{
    return addr_is_set(a) ? a->family : ADDR_NONE;
}

int addr_set_ip(struct addr *a, int family, const void *ip, uint16_t port)
{
    addr_clear(a);
    if (family != ADDR_V4 && family != ADDR_V6)
        return -EAFNOSUPPORT;
    a->family = (uint8_t)family;
    a->port = port;
    memcpy(a->ip, ip, family == ADDR_V4 ? 4 : 16);
    return 0;
}

size_t addr_get_ip(const struct addr *a, uint8_t out[16])
{
    size_t n = addr_family(a) == ADDR_V4 ? 4 : addr_family(a) == ADDR_V6 ? 16 : 0;
    memcpy(out, a->ip, n);
    return n;
}

uint16_t addr_port(const struct addr *a)
{
    return addr_is_set(a) ? a->port : 0;
}

void addr_set_port(struct addr *a, uint16_t port)
{
    if (addr_is_set(a))
        a->port = port;
}

uint32_t addr_scope(const struct addr *a)
{
    return addr_family(a) == ADDR_V6 ? a->scope : 0;
}

int addr_parse_port(const char *s, uint16_t *port)
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

/*
 * Appends to the text of length o in out[cap] and returns the new length, at
 * most cap - 1 (what does not fit is cut; addr_format sizes text for the
 * longest form, so nothing is).
 */
__attribute__((format(printf, 4, 5))) static int put(char *out, size_t cap, int o, const char *fmt,
                                                     ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(out + o, cap - (size_t)o, fmt, ap);
    va_end(ap);
    if (n < 0)
        return o;
    return (size_t)(o + n) < cap ? o + n : (int)cap - 1;
}

/* "a.b.c.d" appended at o in out[cap]; returns the new length. */
static int fmt_v4(char *out, size_t cap, int o, const uint8_t *p)
{
    return put(out, cap, o, "%u.%u.%u.%u", p[0], p[1], p[2], p[3]);
}

/* RFC 5952 §4 text of a 16-byte address appended at o in out[cap]. */
static int fmt_v6(char *out, size_t cap, int o, const uint8_t *ip)
{
    unsigned w[8];
    int best = -1, bestlen = 0;

    /* §5: an IPv4-mapped address is written in mixed notation. */
    if (memcmp(ip, v4mapped_prefix, 12) == 0)
        return fmt_v4(out, cap, put(out, cap, o, "::ffff:"), ip + 12);
    for (int i = 0; i < 8; i++)
        w[i] = (unsigned)ip[2 * i] << 8 | ip[2 * i + 1];
    /* §4.2.1–4.2.3: the longest run of ≥ 2 zero groups, the first on a tie. */
    for (int i = 0; i < 8;) {
        int j = i;
        while (j < 8 && w[j] == 0)
            j++;
        if (j - i > bestlen && j - i >= 2) {
            best = i;
            bestlen = j - i;
        }
        i = j > i ? j : i + 1;
    }
    for (int i = 0; i < 8; i++) {
        if (i == best) {
            o = put(out, cap, o, "::");
            i += bestlen - 1;
            continue;
        }
        /* §4.1, §4.3: no leading zeros, lower case. */
        o = put(out, cap, o, "%s%x", (i > 0 && i != best + bestlen) ? ":" : "", w[i]);
    }
    return o;
}

int addr_format(const struct addr *a, char *out, size_t cap, unsigned flags)
{
    char text[ADDR_STRLEN];
    int n;

    if (cap > 0)
        out[0] = '\0';
    switch (addr_family(a)) {
    case ADDR_V4:
        n = fmt_v4(text, sizeof(text), 0, a->ip);
        if (flags & ADDR_FMT_PORT)
            n = put(text, sizeof(text), n, ":%u", a->port);
        break;
    case ADDR_V6:
        n = (flags & ADDR_FMT_PORT) ? put(text, sizeof(text), 0, "[") : 0;
        n = fmt_v6(text, sizeof(text), n, a->ip);
        if (a->scope != 0)
            n = put(text, sizeof(text), n, "%%%lu", (unsigned long)a->scope);
        if (flags & ADDR_FMT_PORT)
            n = put(text, sizeof(text), n, "]:%u", a->port);
        break;
    default:
        return -EAFNOSUPPORT;
    }
    if ((size_t)n >= cap)
        return -ENOSPC;
    memcpy(out, text, (size_t)n + 1);
    return n;
}

const char *addr_str(const struct addr *a, char buf[ADDR_STRLEN])
{
    if (addr_format(a, buf, ADDR_STRLEN, ADDR_FMT_PORT) < 0)
        snprintf(buf, ADDR_STRLEN, "(none)");
    return buf;
}

bool addr_is_v4mapped(const struct addr *a)
{
    return addr_family(a) == ADDR_V6 && memcmp(a->ip, v4mapped_prefix, 12) == 0;
}

void addr_unmap(struct addr *a)
{
    if (addr_is_v4mapped(a)) {
        uint8_t ip[4];
        memcpy(ip, a->ip + 12, 4);
        addr_set_ip(a, ADDR_V4, ip, a->port);
    }
}

void addr_map_v6(struct addr *a)
{
    if (addr_family(a) == ADDR_V4) {
        uint8_t ip[16];
        memcpy(ip, v4mapped_prefix, 12);
        memcpy(ip + 12, a->ip, 4);
        addr_set_ip(a, ADDR_V6, ip, a->port);
    }
}

int addr_cmp(const struct addr *a, const struct addr *b)
{
    struct addr x = *a, y = *b;
    uint8_t ix[16], iy[16];
    size_t lx, ly;
    int c;

    addr_unmap(&x);
    addr_unmap(&y);
    lx = addr_get_ip(&x, ix);
    ly = addr_get_ip(&y, iy);
    if (lx != ly)
        return lx < ly ? -1 : 1;
    if (lx == 0)
        return 0;
    if ((c = memcmp(ix, iy, lx)) != 0)
        return c < 0 ? -1 : 1;
    if (addr_port(&x) != addr_port(&y))
        return addr_port(&x) < addr_port(&y) ? -1 : 1;
    if (addr_scope(&x) != addr_scope(&y))
        return addr_scope(&x) < addr_scope(&y) ? -1 : 1;
    return 0;
}

bool addr_equal(const struct addr *a, const struct addr *b)
{
    return addr_cmp(a, b) == 0;
}

bool addr_equal_ip(const struct addr *a, const struct addr *b)
{
    struct addr x = *a, y = *b;
    addr_set_port(&x, 0);
    addr_set_port(&y, 0);
    return addr_cmp(&x, &y) == 0;
}

/* The IPv4 address in host order, looking through an IPv4-mapped one. */
static bool v4_value(const struct addr *a, uint32_t *v)
{
    const uint8_t *p;

    if (addr_family(a) == ADDR_V4)
        p = a->ip;
    else if (addr_is_v4mapped(a))
        p = a->ip + 12;
    else
        return false;
    *v = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
    return true;
}

bool addr_is_multicast(const struct addr *a)
{
    uint32_t v;
    if (v4_value(a, &v))
        return (v >> 28) == 0xe;
    return addr_family(a) == ADDR_V6 && a->ip[0] == 0xff;
}

bool addr_is_ssm(const struct addr *a)
{
    uint32_t v;
    if (v4_value(a, &v))
        return (v >> 24) == 232;
    /* ff3x: flags nibble 0011 = prefix-based (P) + transient (T), RFC 4607. */
    return addr_family(a) == ADDR_V6 && a->ip[0] == 0xff && (a->ip[1] >> 4) == 0x3;
}

static bool all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != 0)
            return false;
    return true;
}

bool addr_is_loopback(const struct addr *a)
{
    uint32_t v;
    if (v4_value(a, &v))
        return (v >> 24) == 127;
    return addr_family(a) == ADDR_V6 && all_zero(a->ip, 15) && a->ip[15] == 1;
}

bool addr_is_unspecified(const struct addr *a)
{
    if (addr_family(a) == ADDR_V4)
        return all_zero(a->ip, 4);
    return addr_family(a) == ADDR_V6 && all_zero(a->ip, 16);
}

uint32_t addr_id(const struct addr *a)
{
    uint8_t ip[16];
    size_t n = addr_get_ip(a, ip);
    const uint8_t *p;

    if (n == 0)
        return 0;
    p = ip + n - 4;
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
