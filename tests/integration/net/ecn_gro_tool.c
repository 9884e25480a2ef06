/*
 * ECN marks per datagram under UDP GRO (tests/integration/net/ecn_gro.sh).
 *
 *   ecn_gro_tool send -a ADDR -p PORT -n COUNT [-l LEN] [-k K] [-c]
 *       COUNT datagrams in sendmmsg bursts; each carries its number. Every
 *       K-th one (K = 0: none) is sent CE (TOS 0x03), the rest ECT(0)
 *       (0x02), set per datagram with an IP_TOS / IPV6_TCLASS control
 *       message; -c: all of them CE (to see GRO coalesce marked datagrams).
 *   ecn_gro_tool recv -p PORT -n COUNT [-k K] [-c] [-6] [-r READY]
 *       Receives with core/net (UDP_GRO on, TOS reported) and checks each
 *       datagram's ECN field against the sender's pattern. Prints
 *       "dgrams= bufs= gro_bufs= ce= want_ce= wrong= mixed=" (want_ce: how
 *       many of the datagrams that arrived were sent CE; mixed: coalesced
 *       buffers whose datagrams were sent with different ECN fields) and
 *       exits 0 when each datagram that arrived had its own ECN field and
 *       at least 95% of COUNT arrived: the sender is not paced, so a
 *       receiver starved of CPU on a loaded host may overflow its socket
 *       buffer; that loss is reported, it is not what is tested.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/net/batch.h"
#include "core/net/sock.h"

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int want_ecn(unsigned seq, unsigned k, int all_ce)
{
    return all_ce || (k && seq % k == 0) ? 3 : 2;
}

static int do_send(const char *addr, unsigned port, unsigned n, unsigned len, unsigned k,
                   int all_ce)
{
    struct sockaddr_storage ss;
    socklen_t sl;
    memset(&ss, 0, sizeof(ss));
    struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
    int v6 = strchr(addr, ':') != NULL;
    if (v6) {
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons((uint16_t)port);
        if (inet_pton(AF_INET6, addr, &s6->sin6_addr) != 1)
            return 2;
        sl = sizeof(*s6);
    } else {
        s4->sin_family = AF_INET;
        s4->sin_port = htons((uint16_t)port);
        if (inet_pton(AF_INET, addr, &s4->sin_addr) != 1)
            return 2;
        sl = sizeof(*s4);
    }
    int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_DGRAM, 0);
    if (fd < 0)
        return 2;
    enum { B = 64 };
    static uint8_t buf[B][9000];
    static union {
        char b[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } ctl[B];
    struct mmsghdr m[B];
    struct iovec iov[B];
    for (unsigned i = 0; i < n;) {
        unsigned c = n - i < B ? n - i : B;
        for (unsigned j = 0; j < c; j++) {
            unsigned seq = i + j;
            memset(buf[j], (int)(seq & 0xff), len);
            memcpy(buf[j], &seq, sizeof(seq));
            iov[j] = (struct iovec){buf[j], len};
            memset(&m[j], 0, sizeof(m[j]));
            m[j].msg_hdr.msg_name = &ss;
            m[j].msg_hdr.msg_namelen = sl;
            m[j].msg_hdr.msg_iov = &iov[j];
            m[j].msg_hdr.msg_iovlen = 1;
            m[j].msg_hdr.msg_control = ctl[j].b;
            m[j].msg_hdr.msg_controllen = sizeof(ctl[j].b);
            struct cmsghdr *cm = CMSG_FIRSTHDR(&m[j].msg_hdr);
            cm->cmsg_level = v6 ? IPPROTO_IPV6 : IPPROTO_IP;
            cm->cmsg_type = v6 ? IPV6_TCLASS : IP_TOS;
            cm->cmsg_len = CMSG_LEN(sizeof(int));
            int tos = want_ecn(seq, k, all_ce);
            memcpy(CMSG_DATA(cm), &tos, sizeof(tos));
        }
        int r = sendmmsg(fd, m, c, 0);
        if (r < 0 && (errno == EAGAIN || errno == ENOBUFS)) {
            usleep(500);
            continue;
        }
        if (r < 0) {
            perror("sendmmsg");
            return 1;
        }
        i += (unsigned)r;
    }
    close(fd);
    printf("sent %u\n", n);
    return 0;
}

static int do_recv(unsigned port, unsigned n, unsigned k, int all_ce, int v6, const char *ready)
{
    struct net_sock_opts o;
    struct net_sock s;
    struct net_rx rx;
    net_sock_opts_init(&o, v6 ? AF_INET6 : AF_INET);
    o.port = (uint16_t)port;
    o.gro = true;
    o.rcvbuf = 8 << 20;
    if (net_sock_open(&s, &o) < 0 || !s.gro)
        return 2;
    if (net_rx_init(&rx, 32, NET_RX_GRO_BUFSZ) < 0)
        return 2;
    uint8_t *seen = calloc(n, 1);
    if (seen == NULL)
        return 2;
    if (ready) {
        FILE *f = fopen(ready, "w");
        if (f)
            fclose(f);
    }
    unsigned got = 0, ce = 0, want_ce = 0, wrong = 0, mixed = 0;
    long last = now_ms();
    while (got < n && now_ms() - last < 3000) {
        struct pollfd pf = {s.fd, POLLIN, 0};
        if (poll(&pf, 1, 200) <= 0)
            continue;
        if (net_rx_recv(&rx, &s) <= 0)
            continue;
        last = now_ms();
        struct net_rx_iter it;
        struct net_rx_dgram d;
        net_rx_iter_init(&it, &rx);
        const struct net_rx_meta *buf = NULL;
        int buf_ecn = -1;
        while (net_rx_next(&it, &d)) {
            unsigned seq;
            if (d.len < sizeof(seq))
                continue;
            memcpy(&seq, d.data, sizeof(seq));
            if (seq >= n || seen[seq]++)
                continue;
            got++;
            int e = d.meta->tos < 0 ? -1 : d.meta->tos & 3;
            ce += e == 3;
            want_ce += want_ecn(seq, k, all_ce) == 3;
            wrong += e != want_ecn(seq, k, all_ce);
            /* Was this buffer coalesced from datagrams sent with different marks? */
            if (d.meta != buf) {
                buf = d.meta;
                buf_ecn = want_ecn(seq, k, all_ce);
            } else if (d.meta->seg && want_ecn(seq, k, all_ce) != buf_ecn) {
                mixed++;
            }
        }
    }
    printf("dgrams=%u bufs=%llu gro_bufs=%llu ce=%u want_ce=%u wrong=%u mixed=%u\n", got,
           (unsigned long long)rx.st.bufs, (unsigned long long)rx.st.gro_bufs, ce, want_ce, wrong,
           mixed);
    free(seen);
    net_rx_free(&rx);
    net_sock_close(&s);
    return got >= n - n / 20 && wrong == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    const char *addr = NULL, *ready = NULL;
    unsigned port = 0, n = 0, len = 1200, k = 0;
    int all_ce = 0, v6 = 0, c;
    if (argc < 2)
        return 2;
    optind = 2;
    while ((c = getopt(argc, argv, "a:p:n:l:k:r:c6")) != -1) {
        switch (c) {
        case 'a':
            addr = optarg;
            break;
        case 'p':
            port = (unsigned)atoi(optarg);
            break;
        case 'n':
            n = (unsigned)atoi(optarg);
            break;
        case 'l':
            len = (unsigned)atoi(optarg);
            break;
        case 'k':
            k = (unsigned)atoi(optarg);
            break;
        case 'r':
            ready = optarg;
            break;
        case 'c':
            all_ce = 1;
            break;
        case '6':
            v6 = 1;
            break;
        default:
            return 2;
        }
    }
    if (len < 4 || len > 9000 || n == 0 || port == 0)
        return 2;
    if (strcmp(argv[1], "send") == 0 && addr)
        return do_send(addr, port, n, len, k, all_ce);
    if (strcmp(argv[1], "recv") == 0)
        return do_recv(port, n, k, all_ce, v6, ready);
    return 2;
}
