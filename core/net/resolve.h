/*
 * Name resolution (DNS, /etc/hosts, IPv6 scope names). Blocking: call it
 * while reading the configuration, never from an engine or an event loop.
 */
#ifndef UFTP_NET_RESOLVE_H
#define UFTP_NET_RESOLVE_H

#include "core/net/addr.h"

/*
 * Resolves "host", "host:port", "[host]:port" or any numeric form
 * net_addr_parse() accepts (also "fe80::1%eth0" with a scope name).
 * Numeric text is parsed without a lookup. family is AF_INET, AF_INET6 or
 * AF_UNSPEC (first answer wins). defport applies when no port is given.
 * Returns 0, -EINVAL (malformed), -ERANGE (bad port), -ENOENT (no such
 * name, or no address of that family), -EAFNOSUPPORT (a numeric address of
 * the other family), -EAGAIN (temporary DNS failure), -ENOMEM.
 */
int net_resolve_host(struct addr *a, const char *s, uint16_t defport, int family);

#endif
