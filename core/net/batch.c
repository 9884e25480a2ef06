/* Batched send (sendmmsg, UDP GSO) and receive (recvmmsg, UDP GRO); see batch.h. */
#include "core/net/batch.h"

#include <errno.h>
#include <netinet/udp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/log.h"

/* Largest UDP payload in one IP packet: 65535 minus the IPv4 + UDP headers,
 * or minus the UDP header for IPv6, whose length field excludes its own header. */
#define UDP_MAX_PAYLOAD_V4 (65535 - 20 - 8)
#define UDP_MAX_PAYLOAD_V6 (65535 - 8)

/* Control space per received buffer: pktinfo, TOS, GRO, with room to spare. */
#define RX_CTL_SPACE 256

void net_tx_init(struct net_tx *tx, const struct net_sock *s)
{
    int v = 0;
    socklen_t l = sizeof(v);

    memset(tx, 0, sizeof(*tx));
    tx->fd = s->fd;
    tx->family = s->family;
    tx->v6only = s->v6only;
    /* Kernels without UDP GSO (< 4.18) answer ENOPROTOOPT. */
    tx->gso = getsockopt(s->fd, SOL_UDP, UDP_SEGMENT, &v, &l) == 0;
    if (!tx->gso)
        log_info("UDP GSO not available (%s): sending with sendmmsg", strerror(errno));
}

/* Fills tx->names[i] with dst in the socket's family. Returns 0 or -errno. */
static int put_name(struct net_tx *tx, size_t i, const struct addr *dst, socklen_t *len)
{
    struct addr a;

    if (dst == NULL || !addr_is_set(dst))
        return -EINVAL;
    a = *dst;
    if (tx->family == AF_INET6) {
        if (net_addr_af(&a) == AF_INET) {
            if (tx->v6only)
                return -EAFNOSUPPORT;
            addr_map_v6(&a);
        }
    } else {
        addr_unmap(&a);
        if (net_addr_af(&a) != AF_INET)
            return -EAFNOSUPPORT;
    }
    struct sockaddr_storage ss;
    *len = net_addr_to_sockaddr(&a, &ss);
    memcpy(&tx->names[i], &ss, *len);
    return 0;
}

/* Errors that may be a stale ICMP report (sk_err) rather than about this send. */
static bool icmp_stale(int e)
{
    return e == ECONNREFUSED || e == EHOSTUNREACH || e == ENETUNREACH || e == EHOSTDOWN ||
           e == EPROTO;
}

/* One sendmmsg() of k prepared messages; retries EINTR and one stale ICMP error. */
static int do_sendmmsg(struct net_tx *tx, unsigned int k)
{
    bool retried = false;

    for (;;) {
        int r = sendmmsg(tx->fd, tx->msgs, k, MSG_DONTWAIT);
        if (r >= 0)
            return r;
        if (errno == EINTR)
            continue;
        if (icmp_stale(errno) && !retried) {
            retried = true;
            continue;
        }
        return -errno;
    }
}

int net_tx_send(struct net_tx *tx, const struct net_dgram *d, size_t n)
{
    size_t total = 0;

    if (n == 0)
        return -EINVAL;
    while (total < n) {
        size_t k = n - total < NET_BATCH_MAX ? n - total : NET_BATCH_MAX;
        size_t built = 0;
        int r;

        for (; built < k; built++) {
            const struct net_dgram *g = &d[total + built];
            struct msghdr *mh = &tx->msgs[built].msg_hdr;
            socklen_t nl;
            int rc = put_name(tx, built, g->dst, &nl);

            if (rc < 0) {
                if (total + built == 0)
                    return rc;
                break; /* send what precedes it; the caller meets the error next */
            }
            memset(mh, 0, sizeof(*mh));
            mh->msg_name = &tx->names[built];
            mh->msg_namelen = nl;
            if (g->iov != NULL) {
                mh->msg_iov = (struct iovec *)g->iov;
                mh->msg_iovlen = g->iovcnt;
            } else {
                /* tx->iov[0..NET_BATCH_MAX) is ours; the GSO fallback keeps
                 * its slices above that and passes them as g->iov. */
                tx->iov[built].iov_base = (void *)g->buf;
                tx->iov[built].iov_len = g->len;
                mh->msg_iov = &tx->iov[built];
                mh->msg_iovlen = 1;
            }
        }
        if (built == 0)
            break;
        r = do_sendmmsg(tx, (unsigned int)built);
        if (r < 0) {
            if (r == -EAGAIN || r == -ENOBUFS)
                tx->st.blocked++;
            if (total > 0)
                break;
            return r;
        }
        tx->st.syscalls++;
        tx->st.dgrams += (uint64_t)r;
        total += (size_t)r;
        if ((size_t)r < built || built < k)
            break;
    }
    return (int)total;
}

size_t net_gso_max_segs(int family, size_t seg)
{
    size_t max = family == AF_INET6 ? UDP_MAX_PAYLOAD_V6 : UDP_MAX_PAYLOAD_V4;
    size_t n;

    if (seg == 0 || seg > max)
        return 0;
    n = max / seg;
    return n < NET_GSO_MAX_SEGS ? n : NET_GSO_MAX_SEGS;
}

/* Cuts the payload into per-segment iov slices and sends them with sendmmsg. */
static int send_split(struct net_tx *tx, const struct addr *dst, const struct iovec *iov,
                      size_t iovcnt, size_t seg, size_t nsegs)
{
    struct iovec *sl = &tx->iov[NET_BATCH_MAX];
    const size_t maxsl = sizeof(tx->iov) / sizeof(tx->iov[0]) - NET_BATCH_MAX;
    size_t nsl = 0, vi = 0, voff = 0;

    for (size_t s = 0; s < nsegs; s++) {
        size_t need = seg;
        tx->split[s].dst = dst;
        tx->split[s].buf = NULL;
        tx->split[s].len = 0;
        tx->split[s].iov = &sl[nsl];
        tx->split[s].iovcnt = 0;
        while (need > 0 && vi < iovcnt) {
            size_t avail = iov[vi].iov_len - voff;
            size_t take = avail < need ? avail : need;
            if (take > 0) {
                if (nsl == maxsl)
                    return -EINVAL; /* cannot happen within the documented limits */
                sl[nsl].iov_base = (uint8_t *)iov[vi].iov_base + voff;
                sl[nsl].iov_len = take;
                nsl++;
                tx->split[s].iovcnt++;
                need -= take;
                voff += take;
            }
            if (voff == iov[vi].iov_len) {
                vi++;
                voff = 0;
            }
        }
    }
    return net_tx_send(tx, tx->split, nsegs);
}

/* Logs a GSO refusal once per sender. */
static void gso_refused(struct net_tx *tx, int err, size_t seg, bool for_good)
{
    if (!tx->gso_logged) {
        tx->gso_logged = true;
        if (for_good)
            log_warnx("UDP GSO refused (%s): sending with sendmmsg from now on", strerror(err));
        else
            log_warnx("UDP GSO refused for %zu-byte segments (%s): sending them with sendmmsg", seg,
                      strerror(err));
    }
}

int net_tx_send_gso(struct net_tx *tx, const struct addr *dst, const struct iovec *iov,
                    size_t iovcnt, size_t seg)
{
    union {
        struct cmsghdr align;
        uint8_t b[CMSG_SPACE(sizeof(uint16_t))];
    } ctl;
    struct addr udst;
    size_t total = 0, nsegs;
    bool retried = false;

    if (seg == 0 || iovcnt == 0 || iovcnt > NET_GSO_MAX_IOV || dst == NULL || !addr_is_set(dst))
        return -EINVAL;
    for (size_t i = 0; i < iovcnt; i++) {
        if (iov[i].iov_len > 65536)
            return -EMSGSIZE;
        total += iov[i].iov_len;
    }
    if (total == 0)
        return -EINVAL;
    udst = *dst;
    addr_unmap(&udst);
    nsegs = (total + seg - 1) / seg;
    if (nsegs > net_gso_max_segs(net_addr_af(&udst), seg))
        return -EMSGSIZE;

    if (nsegs == 1 || !tx->gso || (tx->gso_seg_limit != 0 && seg >= tx->gso_seg_limit))
        goto fallback;
    if (tx->gso_force_fail) {
        gso_refused(tx, EIO, seg, false);
        goto fallback;
    }

    for (;;) {
        struct msghdr mh;
        struct cmsghdr *c;
        socklen_t nl;
        uint16_t s16 = (uint16_t)seg;
        ssize_t r;
        int rc = put_name(tx, 0, dst, &nl);

        if (rc < 0)
            return rc;
        memset(&mh, 0, sizeof(mh));
        memset(&ctl, 0, sizeof(ctl));
        mh.msg_name = &tx->names[0];
        mh.msg_namelen = nl;
        mh.msg_iov = (struct iovec *)iov;
        mh.msg_iovlen = iovcnt;
        mh.msg_control = ctl.b;
        mh.msg_controllen = sizeof(ctl.b);
        c = CMSG_FIRSTHDR(&mh);
        c->cmsg_level = SOL_UDP;
        c->cmsg_type = UDP_SEGMENT;
        c->cmsg_len = CMSG_LEN(sizeof(s16));
        memcpy(CMSG_DATA(c), &s16, sizeof(s16));

        r = sendmsg(tx->fd, &mh, MSG_DONTWAIT);
        if (r >= 0) {
            tx->st.syscalls++;
            tx->st.gso_sends++;
            tx->st.dgrams += nsegs;
            return (int)nsegs;
        }
        switch (errno) {
        case EINTR:
            continue;
        case EAGAIN:
        case ENOBUFS:
            tx->st.blocked++;
            return -errno;
        case EIO: /* no checksum offload on the route's device, or IPsec */
        case EOPNOTSUPP:
        case ENOPROTOOPT: /* kernel without UDP_SEGMENT */
            gso_refused(tx, errno, seg, true);
            tx->gso = false;
            goto fallback;
        case EINVAL: /* segment + headers above the device MTU, among others */
        case EMSGSIZE:
            gso_refused(tx, errno, seg, false);
            if (tx->gso_seg_limit == 0 || seg < tx->gso_seg_limit)
                tx->gso_seg_limit = seg;
            goto fallback;
        default:
            if (icmp_stale(errno) && !retried) {
                retried = true;
                continue;
            }
            return -errno;
        }
    }

fallback:
    if (nsegs > 1)
        tx->st.gso_fallbacks++;
    return send_split(tx, dst, iov, iovcnt, seg, nsegs);
}

int net_tx_send_gso_buf(struct net_tx *tx, const struct addr *dst, const void *buf, size_t len,
                        size_t seg)
{
    struct iovec v = {(void *)buf, len};
    return net_tx_send_gso(tx, dst, &v, 1, seg);
}

int net_rx_init(struct net_rx *rx, size_t nbufs, size_t bufsz)
{
    memset(rx, 0, sizeof(*rx));
    if (nbufs == 0 || nbufs > 1024 || bufsz == 0 || bufsz > NET_RX_GRO_BUFSZ)
        return -EINVAL;
    rx->nbufs = nbufs;
    rx->bufsz = bufsz;
    rx->mem = malloc(nbufs * bufsz);
    rx->msgs = calloc(nbufs, sizeof(*rx->msgs));
    rx->iov = calloc(nbufs, sizeof(*rx->iov));
    rx->names = calloc(nbufs, sizeof(*rx->names));
    rx->ctl = malloc(nbufs * RX_CTL_SPACE); /* malloc alignment suits cmsghdr */
    rx->meta = calloc(nbufs, sizeof(*rx->meta));
    if (rx->mem == NULL || rx->msgs == NULL || rx->iov == NULL || rx->names == NULL ||
        rx->ctl == NULL || rx->meta == NULL) {
        net_rx_free(rx);
        return -ENOMEM;
    }
    for (size_t i = 0; i < nbufs; i++) {
        rx->iov[i].iov_base = rx->mem + i * bufsz;
        rx->iov[i].iov_len = bufsz;
    }
    return 0;
}

void net_rx_free(struct net_rx *rx)
{
    free(rx->mem);
    free(rx->msgs);
    free(rx->iov);
    free(rx->names);
    free(rx->ctl);
    free(rx->meta);
    memset(rx, 0, sizeof(*rx));
}

/* Reads the control messages of one received buffer into m. */
static void parse_cmsgs(struct msghdr *mh, struct net_rx_meta *m, uint16_t lport, uint64_t *drops)
{
    for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c != NULL; c = CMSG_NXTHDR(mh, c)) {
        const uint8_t *p = CMSG_DATA(c);
        size_t dl = c->cmsg_len - CMSG_LEN(0);

        if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO &&
            dl >= sizeof(struct in_pktinfo)) {
            struct in_pktinfo pi;
            memcpy(&pi, p, sizeof(pi));
            addr_set_ip(&m->dst, ADDR_V4, &pi.ipi_addr, lport);
            m->ifindex = (unsigned int)pi.ipi_ifindex;
        } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO &&
                   dl >= sizeof(struct in6_pktinfo)) {
            struct in6_pktinfo pi;
            memcpy(&pi, p, sizeof(pi));
            addr_set_ip(&m->dst, ADDR_V6, &pi.ipi6_addr, lport);
            m->ifindex = pi.ipi6_ifindex;
        } else if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TOS && dl >= 1) {
            m->tos = p[0];
        } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_TCLASS &&
                   dl >= sizeof(int)) {
            int v;
            memcpy(&v, p, sizeof(v));
            m->tos = v & 0xff;
        } else if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_RXQ_OVFL &&
                   dl >= sizeof(uint32_t)) {
            /* The socket's drop count, a 32-bit counter that wraps. */
            uint32_t v;
            memcpy(&v, p, sizeof(v));
            uint32_t low = (uint32_t)*drops;
            *drops += (uint32_t)(v - low);
        } else if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO) {
            /* The kernel writes an int; accept a u16 as well. */
            if (dl >= sizeof(int)) {
                int v;
                memcpy(&v, p, sizeof(v));
                m->seg = v > 0 ? (size_t)v : 0;
            } else if (dl >= sizeof(uint16_t)) {
                uint16_t v;
                memcpy(&v, p, sizeof(v));
                m->seg = v;
            }
        }
    }
}

int net_rx_recv(struct net_rx *rx, const struct net_sock *s)
{
    int r, tries = 0;

    rx->count = 0;
    if (s->gro && rx->bufsz < NET_RX_GRO_BUFSZ)
        return -EINVAL;
    for (;;) {
        for (size_t i = 0; i < rx->nbufs; i++) {
            struct msghdr *mh = &rx->msgs[i].msg_hdr;
            mh->msg_name = &rx->names[i];
            mh->msg_namelen = sizeof(rx->names[i]);
            mh->msg_iov = &rx->iov[i];
            mh->msg_iovlen = 1;
            mh->msg_control = rx->ctl + i * RX_CTL_SPACE;
            mh->msg_controllen = RX_CTL_SPACE;
            mh->msg_flags = 0;
            rx->msgs[i].msg_len = 0;
        }
        r = recvmmsg(s->fd, rx->msgs, (unsigned int)rx->nbufs, MSG_DONTWAIT, NULL);
        if (r > 0)
            break;
        if (r == 0)
            return -EAGAIN;
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN)
            return -EAGAIN;
        /* A reported ICMP error (recverr): read the queue and go on. */
        if (icmp_stale(errno) || errno == EMSGSIZE || errno == ENOBUFS) {
            int e = errno;
            int n = net_sock_drain_errors(s);
            rx->st.errors += (uint64_t)n;
            log_proto("receive: %s reported", strerror(e));
            if (++tries < 8)
                continue;
            return -EAGAIN;
        }
        return -errno;
    }

    rx->count = (size_t)r;
    rx->st.syscalls++;
    for (size_t i = 0; i < rx->count; i++) {
        struct msghdr *mh = &rx->msgs[i].msg_hdr;
        struct net_rx_meta *m = &rx->meta[i];

        memset(m, 0, sizeof(*m));
        m->tos = -1;
        if (net_addr_from_sockaddr(&m->src, (struct sockaddr *)&rx->names[i], mh->msg_namelen) == 0)
            addr_unmap(&m->src);
        m->len = rx->msgs[i].msg_len;
        if (m->len > rx->bufsz)
            m->len = rx->bufsz;
        m->trunc = (mh->msg_flags & MSG_TRUNC) != 0;
        parse_cmsgs(mh, m, s->port, &rx->st.sock_drops);
        addr_unmap(&m->dst);
        if (m->seg >= m->len && !m->trunc)
            m->seg = 0;
        rx->st.bufs++;
        if (m->seg != 0) {
            rx->st.gro_bufs++;
            rx->st.dgrams += (m->len + m->seg - 1) / m->seg;
            if (m->trunc) {
                rx->st.dgrams -= (m->len % m->seg) != 0;
                rx->st.truncated++;
            }
        } else if (m->trunc) {
            rx->st.truncated++;
        } else {
            rx->st.dgrams++;
        }
    }
    return r;
}

void net_rx_iter_init(struct net_rx_iter *it, const struct net_rx *rx)
{
    it->rx = rx;
    it->i = 0;
    it->off = 0;
    it->sub = 0;
}

bool net_rx_next(struct net_rx_iter *it, struct net_rx_dgram *d)
{
    const struct net_rx *rx = it->rx;

    while (it->i < rx->count) {
        const struct net_rx_meta *m = &rx->meta[it->i];
        size_t end = m->len;
        size_t n;

        if (m->trunc) {
            /* Whole segments before the cut are intact; a lone datagram is not. */
            end = m->seg != 0 ? m->len - m->len % m->seg : 0;
        }
        if (it->off < end || (end == 0 && it->sub == 0 && !m->trunc)) {
            n = end - it->off;
            if (m->seg != 0 && n > m->seg)
                n = m->seg;
            d->data = rx->mem + it->i * rx->bufsz + it->off;
            d->len = n;
            d->meta = m;
            it->off += n;
            it->sub++;
            return true;
        }
        it->i++;
        it->off = 0;
        it->sub = 0;
    }
    return false;
}
