/*
 * IP addresses as plain values (IPv4 and IPv6) — the ground floor
 * (DESIGN.md "The house"): no socket header, no system call, no DNS.
 *
 * struct addr is what the engines store, compare and log. Conversions to
 * and from kernel sockaddrs, numeric parsing (inet_pton) and private-group
 * templates live in core/net/addr.h as net_addr_*(); name resolution in
 * core/net/resolve.h.
 *
 * The fields are public (a value type): family is ADDR_V4, ADDR_V6 or
 * ADDR_NONE (unset, all-zero), port is in host order, ip holds the address
 * in network order (IPv4 in ip[0..4), the rest zero), scope is the IPv6
 * scope id (interface index) of a link-scoped address, 0 otherwise.
 * Errors are negative errno values, listed per function.
 */
#ifndef UFTP_BASE_ADDR_H
#define UFTP_BASE_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Address families: the floor's own, not AF_* (core/net/addr.h converts). */
enum addr_family {
    ADDR_NONE = 0,
    ADDR_V4 = 4,
    ADDR_V6 = 6,
};

struct addr {
    uint8_t family; /* enum addr_family; ADDR_NONE = unset */
    uint16_t port;  /* host order */
    uint32_t scope; /* IPv6 scope id, 0 otherwise */
    uint8_t ip[16]; /* network order; IPv4 uses ip[0..4) */
};

/* Longest text addr_format() writes, NUL included: "[v6%scope]:port". */
#define ADDR_STRLEN 72

/* Flags for addr_format(). */
#define ADDR_FMT_PORT 0x1 /* append ":port" ("[v6]:port" for IPv6) */

/* Resets a to the unset state. */
void addr_clear(struct addr *a);

/* True when a holds an IPv4 or IPv6 address. */
bool addr_is_set(const struct addr *a);

/* ADDR_V4, ADDR_V6, or ADDR_NONE when unset. */
int addr_family(const struct addr *a);

/*
 * Builds an address from raw bytes as carried on the wire (ANNOUNCE address
 * fields, spec §1.4): 4 bytes for ADDR_V4, 16 for ADDR_V6, network order.
 * Returns 0 or -EAFNOSUPPORT (a is then unset).
 */
int addr_set_ip(struct addr *a, int family, const void *ip, uint16_t port);

/*
 * Copies the raw address bytes (network order) to out.
 * Returns 4 (ADDR_V4), 16 (ADDR_V6) or 0 when a is unset.
 */
size_t addr_get_ip(const struct addr *a, uint8_t out[16]);

/* Port in host order (0 when unset). */
uint16_t addr_port(const struct addr *a);
/* Sets the port (host order); no-op when a is unset. */
void addr_set_port(struct addr *a, uint16_t port);

/* IPv6 scope id (interface index) of a link-scoped address, 0 otherwise. */
uint32_t addr_scope(const struct addr *a);

/*
 * Parses a decimal port "0".."65535" (the whole string).
 * Returns 0, -EINVAL (empty or not a number) or -ERANGE (above 65535).
 */
int addr_parse_port(const char *s, uint16_t *port);

/*
 * Writes a as text: "1.2.3.4", "ff02::1%3", with ADDR_FMT_PORT
 * "1.2.3.4:1044", "[ff02::1%3]:1044". IPv6 in the canonical form of
 * RFC 5952 (lower case, no leading zeros, the longest run of two or more
 * zero groups — the first of equals — as "::", "::ffff:a.b.c.d" for an
 * IPv4-mapped address). Returns the length written (NUL excluded),
 * -EAFNOSUPPORT when a is unset, or -ENOSPC when cap is too small (out is
 * then the empty string if cap > 0).
 */
int addr_format(const struct addr *a, char *out, size_t cap, unsigned flags);

/* For logs: the address with its port, or "(none)". Never fails. */
const char *addr_str(const struct addr *a, char buf[ADDR_STRLEN]);

/*
 * Total order: unset < IPv4 < IPv6, then address bytes, port, scope id.
 * IPv4-mapped IPv6 addresses compare as the IPv4 address they carry.
 * Returns <0, 0 or >0.
 */
int addr_cmp(const struct addr *a, const struct addr *b);
/* addr_cmp() == 0. */
bool addr_equal(const struct addr *a, const struct addr *b);
/* Same host: like addr_equal() but the ports are ignored. */
bool addr_equal_ip(const struct addr *a, const struct addr *b);

/* 224.0.0.0/4 or ff00::/8 (IPv4-mapped addresses are judged as IPv4). */
bool addr_is_multicast(const struct addr *a);
/*
 * Source-specific multicast range (spec §4): 232.0.0.0/8, or an IPv6
 * multicast address whose flags nibble is 3 (ff3x::/32, RFC 4607).
 */
bool addr_is_ssm(const struct addr *a);
bool addr_is_loopback(const struct addr *a);
/* 0.0.0.0 or :: */
bool addr_is_unspecified(const struct addr *a);
/* ::ffff:a.b.c.d */
bool addr_is_v4mapped(const struct addr *a);

/*
 * An IPv4-mapped IPv6 address becomes the plain IPv4 address (port kept);
 * anything else is left alone. Received addresses are normalised this way
 * so that a dual-stack socket and an IPv4 socket report the same peer.
 */
void addr_unmap(struct addr *a);
/* An IPv4 address becomes ::ffff:a.b.c.d (for a dual-stack socket). */
void addr_map_v6(struct addr *a);

/*
 * The host ID a given address implies (spec §0 "IDs"): the IPv4 address as a
 * 32-bit number, or the last 4 bytes of the IPv6 address, read big-endian.
 * Host order; 0 when a is unset.
 */
uint32_t addr_id(const struct addr *a);

#endif
