/*
 * Multicast group membership of one socket: any-source (ASM) and
 * source-specific (SSM, spec §2.2 -o) joins for IPv4 and IPv6 through the
 * protocol-independent MCAST_JOIN_GROUP / MCAST_JOIN_SOURCE_GROUP API, on
 * one interface or several.
 *
 * The set remembers what it joined, so joining twice is a no-op and a
 * session can leave "its private group on every interface" in one call.
 * Kernel limits to know: net.ipv4.igmp_max_memberships (default 20 per
 * socket) and igmp_max_msf (10 sources per group) for IPv4; a join beyond
 * them fails with -ENOBUFS.
 */
#ifndef UFTP_NET_MCAST_H
#define UFTP_NET_MCAST_H

#include <stddef.h>

#include "core/net/addr.h"
#include "core/net/sock.h"

struct net_membership {
    struct addr group;    /* port 0 */
    struct addr source;   /* unset for ASM */
    unsigned int ifindex; /* 0 = interface chosen by the kernel's route */
};

struct net_mcast {
    int fd;
    int family; /* of the socket */
    bool v6only;
    struct net_membership *v;
    size_t n, cap;
};

/* Upper bound on memberships kept per socket. */
#define NET_MCAST_MAX 4096

/* Binds the set to a socket; no allocation yet. */
void net_mcast_init(struct net_mcast *m, const struct net_sock *s);

/*
 * Joins group on ifindex, from source only when source is non-NULL and set
 * (SSM), otherwise from any source. IPv4-mapped addresses are treated as
 * IPv4. Joining an existing membership again does nothing.
 * Returns 0, -EINVAL (group not multicast, source multicast or of another
 * family, or an ASM and an SSM join mixed on one group and interface —
 * Linux would silently turn the ASM membership into a source-filtered one),
 * -EAFNOSUPPORT (an IPv4 group on a v6only socket, IPv6 on an IPv4 socket),
 * -ENODEV (no such interface, or no multicast route when ifindex is 0),
 * -ENOBUFS (kernel membership limit), -ENOMEM, -E2BIG (NET_MCAST_MAX),
 * or -errno from setsockopt().
 */
int net_mcast_join(struct net_mcast *m, const struct addr *group, const struct addr *source,
                   unsigned int ifindex);

/*
 * Joins on every interface of the list. Stops at the first failure and
 * leaves what this call joined, so the set is as before.
 * Returns 0 or the error of net_mcast_join().
 */
int net_mcast_join_all(struct net_mcast *m, const struct addr *group, const struct addr *source,
                       const unsigned int *ifindexes, size_t n);

/*
 * Leaves one membership. Returns 0 or -ENOENT when it was not joined
 * (a kernel refusal is logged, and the entry is forgotten anyway).
 */
int net_mcast_leave(struct net_mcast *m, const struct addr *group, const struct addr *source,
                    unsigned int ifindex);

/* True when exactly this membership is held. */
bool net_mcast_joined(const struct net_mcast *m, const struct addr *group,
                      const struct addr *source, unsigned int ifindex);

/* Leaves everything and frees the bookkeeping; the socket stays open. */
void net_mcast_free(struct net_mcast *m);

#endif
