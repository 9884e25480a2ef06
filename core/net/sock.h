/*
 * The one UDP socket of a role (spec §0): the sender binds an ephemeral port
 * (or -u) and sends to 1044; receivers and proxies listen on 1044 (-p).
 *
 * Every socket is non-blocking and close-on-exec, has path-MTU discovery
 * off (IP_PMTUDISC_DONT, spec §0), loops multicast back to the host (so
 * receivers on the sender's machine get the data), and by default receives
 * only the multicast groups it joined itself (IP_MULTICAST_ALL off), so that
 * several daemons sharing port 1044 on one host (SO_REUSEADDR) each see
 * their own sessions only. (Measured on Linux 6.18: with SO_REUSEADDR or
 * SO_REUSEPORT every socket on the port gets each multicast datagram; a
 * unicast datagram goes to the last socket bound with SO_REUSEADDR, or to
 * one chosen by a hash of the sender's address with SO_REUSEPORT. Unicast to
 * a shared port is therefore only reliable with one receiver per host.
 * SO_REUSEADDR is used: deterministic, and no same-user requirement.)
 *
 * An AF_INET6 socket is dual-stack unless v6only is set: it then also sends
 * to and receives from IPv4 peers (as ::ffff:a.b.c.d; core/net/batch maps
 * and unmaps, so callers always see plain IPv4 addresses), and the IPv4
 * options (TTL, TOS, multicast interface, control messages) are set on it
 * too.
 *
 * Errors are negative errno values. The failing option is logged.
 */
#ifndef UFTP_NET_SOCK_H
#define UFTP_NET_SOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/net/addr.h"

/* Buffer size limits of -B (spec §2.1) and the default. */
#define NET_BUF_MIN     65536
#define NET_BUF_MAX     104857600
#define NET_BUF_DEFAULT 262144

struct net_sock_opts {
    int family;            /* AF_INET or AF_INET6 */
    bool v6only;           /* AF_INET6: no IPv4 (default: dual-stack) */
    struct addr bind;      /* local address; unset = wildcard. Its port is ignored */
    uint16_t port;         /* local port; 0 = ephemeral */
    bool reuse;            /* SO_REUSEADDR: several receivers share the port on one host */
    int rcvbuf;            /* bytes; 0 = kernel default */
    int sndbuf;            /* bytes; 0 = kernel default */
    int ttl;               /* multicast TTL / hop limit 1..255; 0 = kernel default (1) */
    int tos;               /* TOS / traffic class byte (net_tos()); -1 = leave alone */
    unsigned int mcast_if; /* outgoing multicast interface (ifindex); 0 = by route */
    bool mcast_loop;       /* IP_MULTICAST_LOOP */
    bool mcast_all;        /* receive groups joined by other sockets too (kernel default) */
    bool recv_pktinfo;     /* report destination address and ifindex of each datagram */
    bool recv_tos;         /* report the TOS / traffic class byte (ECN CE, spec §1.7) */
    bool recverr;          /* IP_RECVERR: see ENOBUFS instead of silent drops */
    bool gro;              /* UDP_GRO: receive coalesced datagrams (needs 64 KiB buffers) */
};

struct net_sock {
    int fd;        /* -1 when closed */
    int family;    /* socket family: AF_INET or AF_INET6 */
    bool v6only;   /* AF_INET6 without IPv4 */
    uint16_t port; /* bound port (host order) */
    int rcvbuf;    /* usable receive buffer reported by the kernel (bytes) */
    int sndbuf;    /* usable send buffer */
    bool gro;      /* UDP_GRO is on */
    bool recverr;  /* IP_RECVERR / IPV6_RECVERR are on */
};

/*
 * Defaults for family: dual-stack, ephemeral port, no reuse, kernel buffer
 * sizes, TTL 1, TOS untouched, loopback on, only own groups, pktinfo and
 * TOS reporting on, recverr on, GRO off.
 */
void net_sock_opts_init(struct net_sock_opts *o, int family);

/*
 * The family for a role's one socket, given the addresses it will use (the
 * -M list, the interface addresses...): AF_INET when all are IPv4 (or
 * IPv4-mapped), otherwise AF_INET6, dual-stack so that IPv4 still works.
 * Unset entries are ignored; AF_INET for none.
 */
int net_sock_family_for(const struct addr *a, size_t n);

/* TOS byte for -Q dscp (spec §2.1): dscp << 2, plus ECT(0) under TFMCC. */
uint8_t net_tos(int dscp, bool ect);

/*
 * Creates, configures and binds the socket.
 * Returns 0, -EINVAL (bad option value, or a bind address of another family
 * on a v6only / IPv4 socket), -EADDRINUSE (port taken, and no reuse),
 * -EAFNOSUPPORT (IPv6 disabled), or -errno from socket(), setsockopt() or
 * bind(). On error s->fd is -1.
 */
int net_sock_open(struct net_sock *s, const struct net_sock_opts *o);

/* Closes the socket; safe to call twice. */
void net_sock_close(struct net_sock *s);

/*
 * Sets the receive and send buffers (0 leaves one alone). When the kernel
 * clamps a size to net.core.rmem_max / wmem_max, SO_RCVBUFFORCE /
 * SO_SNDBUFFORCE are tried (they work with CAP_NET_ADMIN); if the size is
 * still short a warning names the sysctl to raise. The sizes obtained are in
 * s->rcvbuf / s->sndbuf. Clamping is not an error.
 * Returns 0, -EINVAL (size outside 1..NET_BUF_MAX) or -errno.
 */
int net_sock_set_buffers(struct net_sock *s, int rcvbuf, int sndbuf);

/* Multicast TTL / hop limit, 1..255. Returns 0, -EINVAL or -errno. */
int net_sock_set_ttl(struct net_sock *s, int ttl);
/* Multicast loopback to local receivers. Returns 0 or -errno. */
int net_sock_set_mcast_loop(struct net_sock *s, bool on);
/*
 * Turns UDP_GRO on or off. Returns 0, -ENOPROTOOPT when the kernel lacks
 * UDP_GRO (s->gro stays false), or -errno.
 */
int net_sock_set_gro(struct net_sock *s, bool on);

/* The bound local address. Returns 0 or -errno. */
int net_sock_local(const struct net_sock *s, struct addr *a);

/*
 * Reads and discards queued ICMP errors (MSG_ERRQUEUE) — with recverr on,
 * an unreachable peer queues one per datagram, and they use receive buffer
 * space until read. Each is logged at LL_PROTO. Returns the number read.
 */
int net_sock_drain_errors(const struct net_sock *s);

#endif
