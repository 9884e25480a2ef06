/* UDP socket creation and options; see sock.h. */
#include "core/net/sock.h"

#include <errno.h>
#include <linux/errqueue.h>
#include <netinet/udp.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/log.h"

/* Sets an int option; logs which one failed. Returns 0 or -errno. */
static int setopt_int(int fd, int level, int name, int val, const char *what)
{
    if (setsockopt(fd, level, name, &val, sizeof(val)) < 0) {
        int e = errno;
        log_warn("setsockopt %s", what);
        return -e;
    }
    return 0;
}

/* Whether IPv4 traffic flows through this socket (IPv4 or dual-stack). */
static bool carries_v4(const struct net_sock *s)
{
    return s->family == AF_INET || !s->v6only;
}

/* Sets an IP-level option on each side the socket carries: the IPv4 one when
 * IPv4 flows through it (IPv4 or dual-stack), the IPv6 one on an IPv6 socket. */
static int setopt_ip(struct net_sock *s, int v4, const char *v4name, int v6, const char *v6name,
                     int val)
{
    int rc;

    if (carries_v4(s) && (rc = setopt_int(s->fd, IPPROTO_IP, v4, val, v4name)) < 0)
        return rc;
    if (s->family == AF_INET6 && (rc = setopt_int(s->fd, IPPROTO_IPV6, v6, val, v6name)) < 0)
        return rc;
    return 0;
}
#define SETOPT_IP(s, v4, v6, val) setopt_ip(s, v4, #v4, v6, #v6, val)

void net_sock_opts_init(struct net_sock_opts *o, int family)
{
    memset(o, 0, sizeof(*o));
    o->family = family;
    o->ttl = 1;
    o->tos = -1;
    o->mcast_loop = true;
    o->mcast_all = false;
    o->recv_pktinfo = true;
    o->recv_tos = true;
    o->recverr = true;
}

int net_sock_family_for(const struct addr *a, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (net_addr_af(&a[i]) == AF_INET6 && !addr_is_v4mapped(&a[i]))
            return AF_INET6;
    return AF_INET;
}

uint8_t net_tos(int dscp, bool ect)
{
    /* ECT(0) is ECN codepoint 10 (RFC 3168), what TFMCC marks (spec §1.7). */
    return (uint8_t)(((unsigned)dscp & 0x3f) << 2 | (ect ? 0x2 : 0));
}

/* Reads back a buffer size; Linux reports twice the usable size. */
static int get_buf(int fd, int name)
{
    int v = 0;
    socklen_t l = sizeof(v);
    if (getsockopt(fd, SOL_SOCKET, name, &v, &l) < 0)
        return -errno;
    return v / 2;
}

static int set_one_buf(struct net_sock *s, int want, bool rcv)
{
    int name = rcv ? SO_RCVBUF : SO_SNDBUF;
    int force = rcv ? SO_RCVBUFFORCE : SO_SNDBUFFORCE;
    int got, rc;

    if ((rc = setopt_int(s->fd, SOL_SOCKET, name, want, rcv ? "SO_RCVBUF" : "SO_SNDBUF")) < 0)
        return rc;
    got = get_buf(s->fd, name);
    if (got >= 0 && got < want) {
        /* Clamped to [rw]mem_max; the FORCE variants ignore it with CAP_NET_ADMIN. */
        if (setsockopt(s->fd, SOL_SOCKET, force, &want, sizeof(want)) == 0)
            got = get_buf(s->fd, name);
        if (got >= 0 && got < want)
            log_warnx("%s buffer of %d bytes clamped to %d by the kernel: raise it with "
                      "'sysctl -w net.core.%s=%d' (or run with CAP_NET_ADMIN)",
                      rcv ? "receive" : "send", want, got, rcv ? "rmem_max" : "wmem_max", want);
    }
    if (got < 0)
        return got;
    if (rcv)
        s->rcvbuf = got;
    else
        s->sndbuf = got;
    return 0;
}

int net_sock_set_buffers(struct net_sock *s, int rcvbuf, int sndbuf)
{
    int rc;

    if (rcvbuf < 0 || rcvbuf > NET_BUF_MAX || sndbuf < 0 || sndbuf > NET_BUF_MAX)
        return -EINVAL;
    if (rcvbuf > 0 && (rc = set_one_buf(s, rcvbuf, true)) < 0)
        return rc;
    if (sndbuf > 0 && (rc = set_one_buf(s, sndbuf, false)) < 0)
        return rc;
    return 0;
}

int net_sock_set_ttl(struct net_sock *s, int ttl)
{
    if (ttl < 1 || ttl > 255)
        return -EINVAL;
    return SETOPT_IP(s, IP_MULTICAST_TTL, IPV6_MULTICAST_HOPS, ttl);
}

/* Outgoing multicast interface by ifindex (0 = by route). Returns 0 or -errno. */
static int set_mcast_if(struct net_sock *s, unsigned int ifindex)
{
    if (carries_v4(s)) {
        struct ip_mreqn m;
        memset(&m, 0, sizeof(m));
        m.imr_ifindex = (int)ifindex;
        if (setsockopt(s->fd, IPPROTO_IP, IP_MULTICAST_IF, &m, sizeof(m)) < 0) {
            int e = errno;
            log_warn("setsockopt IP_MULTICAST_IF %u", ifindex);
            return -e;
        }
    }
    if (s->family == AF_INET6)
        return setopt_int(s->fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, (int)ifindex,
                          "IPV6_MULTICAST_IF");
    return 0;
}

int net_sock_set_mcast_loop(struct net_sock *s, bool on)
{
    return SETOPT_IP(s, IP_MULTICAST_LOOP, IPV6_MULTICAST_LOOP, on);
}

int net_sock_set_gro(struct net_sock *s, bool on)
{
    int v = on;

    if (setsockopt(s->fd, SOL_UDP, UDP_GRO, &v, sizeof(v)) < 0) {
        int e = errno;
        s->gro = false;
        if (on)
            log_warn("setsockopt UDP_GRO");
        return -e;
    }
    s->gro = on;
    return 0;
}

static int set_mcast_all(struct net_sock *s, bool on)
{
    int rc;

    if (carries_v4(s) &&
        (rc = setopt_int(s->fd, IPPROTO_IP, IP_MULTICAST_ALL, on, "IP_MULTICAST_ALL")) < 0)
        return rc;
    if (s->family == AF_INET6) {
        int v = on;
        /* IPV6_MULTICAST_ALL arrived in Linux 4.20; without it the IPv6 side
         * sees all groups joined on the host, which the engines tolerate. */
        if (setsockopt(s->fd, IPPROTO_IPV6, IPV6_MULTICAST_ALL, &v, sizeof(v)) < 0 &&
            errno != ENOPROTOOPT) {
            int e = errno;
            log_warn("setsockopt IPV6_MULTICAST_ALL");
            return -e;
        }
    }
    return 0;
}

static int set_recv_opts(struct net_sock *s, const struct net_sock_opts *o)
{
    int rc;

    if (o->recv_pktinfo && (rc = SETOPT_IP(s, IP_PKTINFO, IPV6_RECVPKTINFO, 1)) < 0)
        return rc;
    /* The kernel's drop count with each datagram (net_rx_stats.sock_drops,
     * the daemons' metrics); a kernel without it only loses the figure. */
    if (o->recv_pktinfo)
        (void)setopt_int(s->fd, SOL_SOCKET, SO_RXQ_OVFL, 1, "SO_RXQ_OVFL");
    if (o->recv_tos && (rc = SETOPT_IP(s, IP_RECVTOS, IPV6_RECVTCLASS, 1)) < 0)
        return rc;
    if (o->recverr) {
        if ((rc = SETOPT_IP(s, IP_RECVERR, IPV6_RECVERR, 1)) < 0)
            return rc;
        s->recverr = true;
    }
    return 0;
}

/* Path-MTU discovery off: the reference never sets DF (spec §0). */
static int set_pmtu_off(struct net_sock *s)
{
    int rc = SETOPT_IP(s, IP_MTU_DISCOVER, IPV6_MTU_DISCOVER, IP_PMTUDISC_DONT);
    if (rc == 0 && s->family == AF_INET6)
        rc = setopt_int(s->fd, IPPROTO_IPV6, IPV6_DONTFRAG, 0, "IPV6_DONTFRAG");
    return rc;
}

static int do_bind(struct net_sock *s, const struct net_sock_opts *o)
{
    struct addr b = o->bind;
    char txt[ADDR_STRLEN];

    if (!addr_is_set(&b)) {
        uint8_t any[16] = {0};
        addr_set_ip(&b, net_family(s->family), any, 0);
    }
    if (s->family == AF_INET6 && net_addr_af(&b) == AF_INET) {
        if (s->v6only)
            return -EINVAL;
        addr_map_v6(&b);
    }
    if (net_addr_af(&b) != s->family)
        return -EINVAL;
    addr_set_port(&b, o->port);
    struct sockaddr_storage ss;
    socklen_t sl = net_addr_to_sockaddr(&b, &ss);
    if (bind(s->fd, (struct sockaddr *)&ss, sl) < 0) {
        int e = errno;
        log_warn("bind %s", addr_str(&b, txt));
        return -e;
    }
    return 0;
}

static int configure(struct net_sock *s, const struct net_sock_opts *o)
{
    int rc;

    if (s->family == AF_INET6 &&
        (rc = setopt_int(s->fd, IPPROTO_IPV6, IPV6_V6ONLY, o->v6only, "IPV6_V6ONLY")) < 0)
        return rc;
    if (o->reuse && (rc = setopt_int(s->fd, SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR")) < 0)
        return rc;
    if ((rc = net_sock_set_buffers(s, o->rcvbuf, o->sndbuf)) < 0)
        return rc;
    if (s->rcvbuf == 0)
        s->rcvbuf = get_buf(s->fd, SO_RCVBUF);
    if (s->sndbuf == 0)
        s->sndbuf = get_buf(s->fd, SO_SNDBUF);
    if ((rc = set_pmtu_off(s)) < 0)
        return rc;
    if (o->ttl != 0 && (rc = net_sock_set_ttl(s, o->ttl)) < 0)
        return rc;
    if (o->tos >= 0 && (rc = SETOPT_IP(s, IP_TOS, IPV6_TCLASS, (uint8_t)o->tos)) < 0)
        return rc;
    if (o->mcast_if != 0 && (rc = set_mcast_if(s, o->mcast_if)) < 0)
        return rc;
    if ((rc = net_sock_set_mcast_loop(s, o->mcast_loop)) < 0)
        return rc;
    if ((rc = set_mcast_all(s, o->mcast_all)) < 0)
        return rc;
    if ((rc = set_recv_opts(s, o)) < 0)
        return rc;
    if (o->gro && (rc = net_sock_set_gro(s, true)) < 0)
        return rc;
    if ((rc = do_bind(s, o)) < 0)
        return rc;
    return 0;
}

int net_sock_open(struct net_sock *s, const struct net_sock_opts *o)
{
    struct addr local;
    int rc;

    memset(s, 0, sizeof(*s));
    s->fd = -1;
    if ((o->family != AF_INET && o->family != AF_INET6) || o->ttl < 0 || o->ttl > 255 ||
        o->tos > 255)
        return -EINVAL;
    s->family = o->family;
    s->v6only = o->family == AF_INET6 && o->v6only;
    s->fd = socket(o->family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_UDP);
    if (s->fd < 0) {
        rc = -errno;
        log_warn("socket");
        return rc;
    }
    if ((rc = configure(s, o)) < 0 || (rc = net_sock_local(s, &local)) < 0) {
        net_sock_close(s);
        return rc;
    }
    s->port = addr_port(&local);
    return 0;
}

void net_sock_close(struct net_sock *s)
{
    if (s->fd >= 0)
        close(s->fd);
    s->fd = -1;
}

int net_sock_local(const struct net_sock *s, struct addr *a)
{
    struct sockaddr_storage ss;
    socklen_t l = sizeof(ss);

    if (getsockname(s->fd, (struct sockaddr *)&ss, &l) < 0)
        return -errno;
    return net_addr_from_sockaddr(a, (struct sockaddr *)&ss, l);
}

int net_sock_drain_errors(const struct net_sock *s)
{
    int n = 0;

    /* Bounded: the queue is limited by the receive buffer anyway. */
    while (n < 1024) {
        union {
            struct cmsghdr align;
            uint8_t b[256];
        } ctl;
        struct sockaddr_storage peer;
        uint8_t data[64];
        struct iovec iov = {data, sizeof(data)};
        struct msghdr mh = {.msg_name = &peer,
                            .msg_namelen = sizeof(peer),
                            .msg_iov = &iov,
                            .msg_iovlen = 1,
                            .msg_control = ctl.b,
                            .msg_controllen = sizeof(ctl.b)};

        if (recvmsg(s->fd, &mh, MSG_ERRQUEUE | MSG_DONTWAIT) < 0)
            break;
        n++;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c != NULL; c = CMSG_NXTHDR(&mh, c)) {
            struct sock_extended_err ee;
            struct addr to;
            char txt[ADDR_STRLEN];

            if (!((c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_RECVERR) ||
                  (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_RECVERR)) ||
                c->cmsg_len < CMSG_LEN(sizeof(ee)))
                continue;
            memcpy(&ee, CMSG_DATA(c), sizeof(ee));
            if (net_addr_from_sockaddr(&to, (struct sockaddr *)&peer, mh.msg_namelen) == 0)
                addr_unmap(&to);
            else
                addr_clear(&to);
            log_proto("send to %s failed: %s (origin %u, type %u, code %u)", addr_str(&to, txt),
                      strerror((int)ee.ee_errno), ee.ee_origin, ee.ee_type, ee.ee_code);
        }
    }
    return n;
}
