/*
 * Addresses meet sockets: conversions between the floor's struct addr
 * (core/base/addr.h) and kernel sockaddrs, numeric parsing, and the
 * sender's private multicast templates. No DNS and no interface lookup
 * (core/net/resolve.h, iface.h).
 *
 * Errors are negative errno values, listed per function.
 */
#ifndef UFTP_NET_ADDR_H
#define UFTP_NET_ADDR_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/base/addr.h"

/* The default multicast addresses (spec §2.1, §4). */
#define NET_DEF_PUBLIC_MCAST  "230.4.4.1"
#define NET_DEF_PRIVATE_MCAST "230.5.5.x"

/* AF_INET, AF_INET6, or AF_UNSPEC when unset. */
int net_addr_af(const struct addr *a);
/* The floor's family for AF_INET / AF_INET6; ADDR_NONE for anything else. */
int net_family(int af);

/*
 * Parses a numeric address without any DNS or interface lookup:
 *   "1.2.3.4", "1.2.3.4:1044", "ff02::1", "[ff02::1]", "[ff02::1]:1044",
 *   "fe80::1%2" / "[fe80::1%2]:1044" (numeric scope id only).
 * A bare IPv6 address never carries a port; use brackets for one.
 * defport is used when the text has no port.
 * Returns 0, -EINVAL (malformed, or a scope given by name) or -ERANGE
 * (port above 65535). On error a is unset.
 */
int net_addr_parse(struct addr *a, const char *s, uint16_t defport);

/*
 * Copies a kernel sockaddr. Returns 0, -EAFNOSUPPORT (not IPv4/IPv6) or
 * -EINVAL (len too short for the family).
 */
int net_addr_from_sockaddr(struct addr *a, const struct sockaddr *sa, socklen_t len);

/*
 * Writes a as a kernel sockaddr into *ss. Returns its length, or 0 when a
 * is unset (*ss is then zero with family AF_UNSPEC).
 */
socklen_t net_addr_to_sockaddr(const struct addr *a, struct sockaddr_storage *ss);

/*
 * Expands a private multicast address template (spec §2.1 -P): each part
 * other than the first that is exactly "x" becomes a random value, 0–255
 * for IPv4 (dotted parts) and 0–0xFFFF for IPv6 (colon-separated parts).
 * Randomness from getrandom(). The port of the result is port.
 * Returns 0, -EINVAL (malformed template, 'x' in the first part or mixed
 * with digits, or the expansion is not an address) or -errno from
 * getrandom().
 *
 * This is not in the floor: the expansion is parsed with inet_pton, the
 * random draw is a system call, and the only caller is the sender's
 * option handling (a shell), so both halves belong with the sockets.
 */
int net_addr_template(struct addr *out, const char *tmpl, uint16_t port);

/*
 * net_addr_template() with the random values supplied: the i-th 'x' takes
 * vals[i] (masked to 0xFF for IPv4). Returns the same errors, plus -EINVAL
 * when the template has more 'x' parts than nvals.
 */
int net_addr_template_with(struct addr *out, const char *tmpl, uint16_t port, const uint16_t *vals,
                           size_t nvals);

#endif
