/*
 * Network interfaces: enumeration (getifaddrs), resolution of an interface
 * given on the command line as a name, an address or a host name (-I, -O),
 * and the default host ID (spec §0 "IDs").
 *
 * The list is flat: one entry per (interface, address), in the kernel's
 * order (all IPv4 addresses come before all IPv6 ones), plus one entry with
 * an unset address for an interface that has no IP address at all.
 */
#ifndef UFTP_NET_IFACE_H
#define UFTP_NET_IFACE_H

#include <net/if.h>

#include "core/net/addr.h"

enum net_if_flags {
    NET_IF_UP = 0x1,
    NET_IF_RUNNING = 0x2,
    NET_IF_MULTICAST = 0x4,
    NET_IF_LOOPBACK = 0x8,
};

struct net_iface {
    char name[IF_NAMESIZE];
    unsigned int index; /* kernel ifindex, > 0 */
    unsigned int flags; /* enum net_if_flags */
    struct addr addr;   /* port 0; unset for an interface without an address */
};

struct net_iflist {
    struct net_iface *v;
    size_t n;
};

/* Upper bound on entries kept (the reference allows 200 interfaces, spec §4). */
#define NET_IFLIST_MAX 1024

/*
 * Reads the interfaces of the current network namespace.
 * Returns 0, -ENOMEM, or -errno from getifaddrs(). Entries beyond
 * NET_IFLIST_MAX are ignored.
 */
int net_iflist_load(struct net_iflist *l);
void net_iflist_free(struct net_iflist *l);

/*
 * First entry of the named interface. family AF_INET / AF_INET6 asks for an
 * entry with an address of that family; AF_UNSPEC prefers IPv4, then IPv6,
 * then the address-less entry. NULL when there is none.
 */
const struct net_iface *net_iflist_by_name(const struct net_iflist *l, const char *name,
                                           int family);
/* Entry holding this address (port and scope ignored), or NULL. */
const struct net_iface *net_iflist_by_addr(const struct net_iflist *l, const struct addr *a);

/*
 * Resolves an interface spec as the reference's -I does (spec §2.2): an
 * interface name, else a numeric address of a local interface, else a host
 * name whose address is local. family narrows the address wanted (AF_UNSPEC:
 * any). Blocking when a host name must be looked up.
 * Returns 0 with *out set, -EINVAL (empty or over-long spec), -ENODEV (no
 * local interface matches), -ENOENT (unknown host name) or -EAGAIN
 * (temporary DNS failure).
 */
int net_iface_resolve(const struct net_iflist *l, const char *spec, int family,
                      const struct net_iface **out);

/*
 * The default multicast interfaces of a receiver or proxy ("all
 * non-loopback", spec §2.2 -I): distinct ifindexes of interfaces that are up,
 * multicast-capable and not loopback, in list order. Writes at most cap.
 * Returns the number found (which may exceed cap).
 */
size_t net_iflist_default_ifindexes(const struct net_iflist *l, unsigned int *out, size_t cap);

/*
 * The first up, non-loopback entry with an address of family (AF_UNSPEC:
 * any), falling back to an up loopback entry; NULL when none. This is the
 * sender's default outgoing interface (spec §2.1 -I).
 */
const struct net_iface *net_iflist_first(const struct net_iflist *l, int family);

/*
 * The default host ID (spec §0 "IDs"): the first IPv4 address of an up,
 * non-loopback interface, or else the last 4 bytes of the first such IPv6
 * address. Addresses whose ID would be 0 or 0xFFFFFFFF are skipped.
 * Host order; 0 when there is no candidate (the caller then demands -U).
 */
uint32_t net_iflist_default_id(const struct net_iflist *l);

/*
 * The ID of one chosen interface (first -I entry): its first IPv4 address,
 * else its first IPv6 address (last 4 bytes). 0 when it has none.
 */
uint32_t net_iflist_id_of(const struct net_iflist *l, unsigned int index);

#endif
