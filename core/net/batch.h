/*
 * Batched datagram I/O (DESIGN.md "The path of a data packet").
 *
 * Send: many datagrams in one sendmmsg(), or N equal-size segments to one
 * destination in one sendmsg() with UDP generic segmentation offload
 * (UDP_SEGMENT): the kernel walks the stack once for the whole batch and
 * cuts it into datagrams at the end. When the kernel refuses GSO the same
 * segments go out with sendmmsg() instead — nothing is lost — and the
 * refusal is logged once.
 *
 * Receive: recvmmsg() into a fixed set of buffers allocated once. With
 * UDP_GRO on the socket one buffer may hold several datagrams of one sender
 * coalesced by the kernel; an iterator hands them out one by one with their
 * source, destination, interface and TOS byte.
 *
 * No allocation per packet; errors are negative errno values.
 * Back-pressure: the send calls report how many datagrams the kernel took.
 * The caller keeps the rest and retries when the socket is writable (or
 * after a short timer on -ENOBUFS). With the socket's recverr option on
 * (the default), a full device queue is reported as -ENOBUFS instead of
 * being dropped silently. A GSO send is all or nothing at the socket, but a
 * qdisc that cuts GSO packets itself (tbf with a bucket below 64 KiB) may
 * drop some of the segments and still report success; the protocol's NAKs
 * cover that.
 */
#ifndef UFTP_NET_BATCH_H
#define UFTP_NET_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "core/net/addr.h"
#include "core/net/sock.h"

/* Datagrams per sendmmsg() call (longer batches are sent in chunks). */
#define NET_BATCH_MAX 64
/* Segments per GSO send: the kernel's UDP_MAX_SEGMENTS on every kernel since 4.18. */
#define NET_GSO_MAX_SEGS 64
/* Pieces of one GSO payload (iovec entries). */
#define NET_GSO_MAX_IOV 128
/* A receive buffer big enough for any coalesced (GRO) datagram train. */
#define NET_RX_GRO_BUFSZ 65536

/* One outgoing datagram: buf/len, or the iov list when iov is non-NULL. */
struct net_dgram {
    const struct addr *dst;
    const void *buf;
    size_t len;
    const struct iovec *iov;
    size_t iovcnt;
};

struct net_tx_stats {
    uint64_t syscalls;      /* sendmsg / sendmmsg calls that sent something */
    uint64_t dgrams;        /* datagrams accepted by the kernel */
    uint64_t gso_sends;     /* GSO sends accepted */
    uint64_t gso_fallbacks; /* GSO batches sent with sendmmsg instead */
    uint64_t blocked;       /* -EAGAIN / -ENOBUFS answers */
};

struct net_tx {
    int fd;
    int family; /* of the socket */
    bool v6only;
    bool gso;             /* the kernel takes UDP_SEGMENT (probed, cleared on refusal) */
    size_t gso_seg_limit; /* GSO refused for segments this size or larger; 0 = none */
    bool gso_force_fail;  /* tests: behave as if the kernel refused every GSO send */
    bool gso_logged;
    struct net_tx_stats st;
    /* Scratch for one call. */
    struct mmsghdr msgs[NET_BATCH_MAX];
    /* [0, NET_BATCH_MAX): one per datagram of net_tx_send(); above: the GSO
     * fallback's slices, at most one per segment plus one per iov boundary. */
    struct iovec iov[NET_BATCH_MAX + NET_GSO_MAX_SEGS + NET_GSO_MAX_IOV];
    struct sockaddr_in6 names[NET_BATCH_MAX];
    struct net_dgram split[NET_GSO_MAX_SEGS];
};

/*
 * Prepares a sender on s and probes UDP_SEGMENT support (tx->gso).
 * Never fails; without GSO support every GSO send uses sendmmsg.
 */
void net_tx_init(struct net_tx *tx, const struct net_sock *s);

/*
 * Sends n datagrams, NET_BATCH_MAX per sendmmsg() call, in order.
 * An IPv4 destination on a dual-stack socket is mapped to ::ffff:a.b.c.d.
 * Returns how many were sent (from the front; 0 < r < n means the rest was
 * not sent and should be retried), or, when the first one was not sent:
 *   -EAGAIN   socket buffer full: retry when writable;
 *   -ENOBUFS  device queue full: retry after a short pause;
 *   -EAFNOSUPPORT  destination of a family the socket cannot reach;
 *   -EINVAL   n == 0 or a datagram without a destination;
 *   -EMSGSIZE, -ENETUNREACH, -EHOSTUNREACH, -EACCES, -EPERM ...: the first
 *             datagram cannot be sent; drop it (log) and go on with the rest.
 */
int net_tx_send(struct net_tx *tx, const struct net_dgram *d, size_t n);

/*
 * Largest number of segments of seg bytes one GSO send may carry to a
 * destination of family: at most NET_GSO_MAX_SEGS, and the UDP payload must
 * fit one IP packet (65507 bytes for IPv4, 65527 for IPv6). 0 if seg is 0
 * or larger than that payload.
 */
size_t net_gso_max_segs(int family, size_t seg);

/*
 * Sends the payload described by iov (total bytes T) to dst as datagrams of
 * seg bytes, the last one T mod seg when that is not 0, with one GSO
 * sendmsg(); iov boundaries need not match segment boundaries. Falls back to
 * sendmmsg() when the kernel refuses GSO: EIO / EOPNOTSUPP / ENOPROTOOPT
 * turn GSO off for good, EINVAL / EMSGSIZE for this segment size and larger
 * (device MTU), each logged once.
 * Returns the number of segments sent (as net_tx_send(): fewer than all
 * means the segments from r onwards were not sent — the GSO path itself is
 * all or nothing), or -EMSGSIZE (more segments than net_gso_max_segs()),
 * -EINVAL (seg 0, empty payload, iovcnt above NET_GSO_MAX_IOV) or an error
 * of net_tx_send().
 */
int net_tx_send_gso(struct net_tx *tx, const struct addr *dst, const struct iovec *iov,
                    size_t iovcnt, size_t seg);

/* net_tx_send_gso() for one contiguous buffer. */
int net_tx_send_gso_buf(struct net_tx *tx, const struct addr *dst, const void *buf, size_t len,
                        size_t seg);

/* What the kernel told about one received buffer. */
struct net_rx_meta {
    struct addr src;      /* sender (IPv4-mapped addresses unmapped) */
    struct addr dst;      /* destination address (with the local port); unset without pktinfo */
    unsigned int ifindex; /* arrival interface; 0 without pktinfo */
    int tos;              /* TOS / traffic class byte; -1 when not reported */
    size_t len;           /* bytes in the buffer */
    size_t seg;           /* GRO segment size: datagrams of seg bytes back to back; 0 = one */
    bool trunc;           /* the kernel had more than the buffer held */
};

struct net_rx_stats {
    uint64_t syscalls;  /* recvmmsg calls that returned data */
    uint64_t bufs;      /* buffers filled */
    uint64_t dgrams;    /* datagrams in them */
    uint64_t gro_bufs;  /* buffers holding coalesced datagrams */
    uint64_t truncated; /* datagrams lost to a short buffer */
    uint64_t errors;    /* ICMP errors drained from the error queue */
    /* Datagrams the kernel dropped on this socket (a full receive queue, a
     * failed filter): its SO_RXQ_OVFL count as last seen with a datagram. */
    uint64_t sock_drops;
};

struct net_rx {
    size_t nbufs;
    size_t bufsz;
    uint8_t *mem; /* nbufs * bufsz */
    struct mmsghdr *msgs;
    struct iovec *iov;
    struct sockaddr_storage *names;
    uint8_t *ctl;
    struct net_rx_meta *meta;
    size_t count; /* buffers filled by the last net_rx_recv() */
    struct net_rx_stats st;
};

/*
 * Allocates nbufs buffers of bufsz bytes (1..1024 buffers, bufsz
 * 1..NET_RX_GRO_BUFSZ; use NET_RX_GRO_BUFSZ with GRO) once, for the life of
 * the receiver. Returns 0, -EINVAL or -ENOMEM.
 */
int net_rx_init(struct net_rx *rx, size_t nbufs, size_t bufsz);
void net_rx_free(struct net_rx *rx);

/*
 * One recvmmsg() without waiting: fills up to nbufs buffers.
 * ICMP errors queued on the socket (recverr) are drained and logged.
 * Returns the number of buffers filled (≥ 1), -EAGAIN when nothing is
 * waiting, -EINVAL when s has GRO on and the buffers are smaller than
 * NET_RX_GRO_BUFSZ, or -errno.
 */
int net_rx_recv(struct net_rx *rx, const struct net_sock *s);

/* One datagram of a received batch; data may be modified (decrypted) in place. */
struct net_rx_dgram {
    uint8_t *data;
    size_t len;
    const struct net_rx_meta *meta; /* src, dst, ifindex, tos */
};

struct net_rx_iter {
    const struct net_rx *rx;
    size_t i;   /* buffer */
    size_t off; /* offset in it */
    size_t sub; /* datagrams handed out from it */
};

/* Starts at the first datagram of the last net_rx_recv(). */
void net_rx_iter_init(struct net_rx_iter *it, const struct net_rx *rx);
/*
 * Next datagram in arrival order: GRO buffers are split into segments (the
 * last one may be shorter); truncated datagrams are skipped. False at the end.
 */
bool net_rx_next(struct net_rx_iter *it, struct net_rx_dgram *d);

#endif
