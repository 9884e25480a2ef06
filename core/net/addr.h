/*
 * Socket addresses as plain data (IPv4 and IPv6).
 *
 * struct net_addr is what the protocol engines store and compare: a
 * sockaddr_storage and its length, nothing else. Everything declared here
 * is a pure helper — no socket, no DNS, no interface lookup — so the
 * engines (which make no I/O, DESIGN.md "Engines without I/O") may use it.
 * Name resolution lives in core/net/resolve.h, interfaces in iface.h.
 *
 * Errors are negative errno values, listed per function.
 */
#ifndef UFTP_NET_ADDR_H
#define UFTP_NET_ADDR_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/*
 * The union (rather than casts of a sockaddr_storage) keeps every view
 * of the address visible to the compiler's aliasing rules.
 */
struct net_addr {
    union {
        struct sockaddr_storage ss;
        struct sockaddr sa;
        struct sockaddr_in sin;   /* ss.ss_family == AF_INET */
        struct sockaddr_in6 sin6; /* ss.ss_family == AF_INET6 */
    };
    socklen_t len; /* 0 = unset */
};

/* Longest text net_addr_format() writes, NUL included: "[v6%scope]:port". */
#define NET_ADDR_STRLEN 72

/* Flags for net_addr_format(). */
#define NET_FMT_PORT 0x1 /* append ":port" ("[v6]:port" for IPv6) */

/* The default multicast addresses (spec §2.1, §4). */
#define NET_DEF_PUBLIC_MCAST  "230.4.4.1"
#define NET_DEF_PRIVATE_MCAST "230.5.5.x"

/* Resets a to the unset state. */
void net_addr_clear(struct net_addr *a);

/* True when a holds an AF_INET or AF_INET6 address. */
bool net_addr_is_set(const struct net_addr *a);

/* AF_INET, AF_INET6, or AF_UNSPEC when unset. */
int net_addr_family(const struct net_addr *a);

/*
 * Parses a numeric address without any DNS or interface lookup:
 *   "1.2.3.4", "1.2.3.4:1044", "ff02::1", "[ff02::1]", "[ff02::1]:1044",
 *   "fe80::1%2" / "[fe80::1%2]:1044" (numeric scope id only).
 * A bare IPv6 address never carries a port; use brackets for one.
 * defport is used when the text has no port.
 * Returns 0, -EINVAL (malformed, or a scope given by name) or -ERANGE
 * (port above 65535). On error a is unset.
 */
int net_addr_parse(struct net_addr *a, const char *s, uint16_t defport);

/*
 * Parses a decimal port "0".."65535" (the whole string).
 * Returns 0, -EINVAL (empty or not a number) or -ERANGE (above 65535).
 */
int net_addr_parse_port(const char *s, uint16_t *port);

/*
 * Builds an address from raw bytes as carried on the wire (ANNOUNCE address
 * fields, spec §1.4): 4 bytes for AF_INET, 16 for AF_INET6, network order.
 * Returns 0 or -EAFNOSUPPORT.
 */
int net_addr_set_ip(struct net_addr *a, int family, const void *ip, uint16_t port);

/*
 * Copies the raw address bytes (network order) to out.
 * Returns 4 (AF_INET), 16 (AF_INET6) or 0 when a is unset.
 */
size_t net_addr_get_ip(const struct net_addr *a, uint8_t out[16]);

/*
 * Copies a kernel sockaddr. Returns 0, -EAFNOSUPPORT (not IPv4/IPv6) or
 * -EINVAL (len too short for the family).
 */
int net_addr_from_sockaddr(struct net_addr *a, const struct sockaddr *sa, socklen_t len);

/* The sockaddr view, for socket calls made by core/net and the shells. */
static inline const struct sockaddr *net_addr_sa(const struct net_addr *a)
{
    return &a->sa;
}

/* Port in host order (0 when unset). */
uint16_t net_addr_port(const struct net_addr *a);
/* Sets the port (host order); no-op when a is unset. */
void net_addr_set_port(struct net_addr *a, uint16_t port);

/* IPv6 scope id (interface index) of a link-scoped address, 0 otherwise. */
uint32_t net_addr_scope(const struct net_addr *a);

/*
 * Writes a as text: "1.2.3.4", "ff02::1%3", with NET_FMT_PORT "1.2.3.4:1044",
 * "[ff02::1%3]:1044". Returns the length written (NUL excluded),
 * -EAFNOSUPPORT when a is unset, or -ENOSPC when cap is too small (out is
 * then the empty string if cap > 0).
 */
int net_addr_format(const struct net_addr *a, char *out, size_t cap, unsigned flags);

/* For logs: the address with its port, or "(none)". Never fails. */
const char *net_addr_str(const struct net_addr *a, char buf[NET_ADDR_STRLEN]);

/*
 * Total order: unset < IPv4 < IPv6, then address bytes, port, scope id.
 * IPv4-mapped IPv6 addresses compare as the IPv4 address they carry.
 * Returns <0, 0 or >0.
 */
int net_addr_cmp(const struct net_addr *a, const struct net_addr *b);
/* net_addr_cmp() == 0. */
bool net_addr_equal(const struct net_addr *a, const struct net_addr *b);
/* Same host: like net_addr_equal() but the ports are ignored. */
bool net_addr_equal_ip(const struct net_addr *a, const struct net_addr *b);

/* 224.0.0.0/4 or ff00::/8 (IPv4-mapped addresses are judged as IPv4). */
bool net_addr_is_multicast(const struct net_addr *a);
/*
 * Source-specific multicast range (spec §4): 232.0.0.0/8, or an IPv6
 * multicast address whose flags nibble is 3 (ff3x::/32, RFC 4607).
 */
bool net_addr_is_ssm(const struct net_addr *a);
bool net_addr_is_loopback(const struct net_addr *a);
/* 0.0.0.0 or :: */
bool net_addr_is_unspecified(const struct net_addr *a);
/* ::ffff:a.b.c.d */
bool net_addr_is_v4mapped(const struct net_addr *a);

/*
 * An IPv4-mapped IPv6 address becomes the plain IPv4 address (port kept);
 * anything else is left alone. Received addresses are normalised this way
 * so that a dual-stack socket and an IPv4 socket report the same peer.
 */
void net_addr_unmap(struct net_addr *a);
/* An IPv4 address becomes ::ffff:a.b.c.d (for a dual-stack socket). */
void net_addr_map_v6(struct net_addr *a);

/*
 * The host ID a given address implies (spec §0 "IDs"): the IPv4 address as a
 * 32-bit number, or the last 4 bytes of the IPv6 address, read big-endian.
 * Host order; 0 when a is unset.
 */
uint32_t net_addr_id(const struct net_addr *a);

/*
 * Expands a private multicast address template (spec §2.1 -P): each part
 * other than the first that is exactly "x" becomes a random value, 0–255
 * for IPv4 (dotted parts) and 0–0xFFFF for IPv6 (colon-separated parts).
 * Randomness from getrandom(). The port of the result is port.
 * Returns 0, -EINVAL (malformed template, 'x' in the first part or mixed
 * with digits, or the expansion is not an address) or -errno from
 * getrandom().
 */
int net_addr_template(struct net_addr *out, const char *tmpl, uint16_t port);

/*
 * net_addr_template() with the random values supplied: the i-th 'x' takes
 * vals[i] (masked to 0xFF for IPv4). Returns the same errors, plus -EINVAL
 * when the template has more 'x' parts than nvals.
 */
int net_addr_template_with(struct net_addr *out, const char *tmpl, uint16_t port,
                           const uint16_t *vals, size_t nvals);

#endif
