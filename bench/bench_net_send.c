/*
 * Micro-benchmark of the core/net send paths (not a test): one datagram per
 * sendmsg, sendmmsg batches, and UDP GSO, to multicast receivers.
 * bench/net_send.sh runs it in network namespaces and prints a table.
 *
 *   bench_net_send send -g GROUP -p PORT -i IF -m single|mmsg|gso [-l LEN] [-d MS]
 *       sends as fast as the kernel takes it for MS milliseconds; prints
 *       "tx mode=... dgrams=N mb_s=R calls=C blocked=B"
 *   bench_net_send recv -g GROUP -p PORT -i IF [-G] [-t IDLE_MS] [-r READY]
 *       counts datagrams from the first until IDLE_MS of silence; prints
 *       "rx dgrams=N mb_s=R bufs=B" (rate over first..last arrival)
 */
#include <errno.h>
#include <net/if.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/net/batch.h"
#include "core/net/mcast.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void usage(void)
{
    fprintf(stderr, "usage: bench_net_send send|recv -g GROUP -p PORT -i IF [options]\n");
    exit(2);
}

static int do_send(const struct addr *g, unsigned ifx, const char *mode, size_t len, long ms)
{
    struct net_sock_opts o;
    struct net_sock s;
    static struct net_tx tx;
    static uint8_t buf[NET_GSO_MAX_SEGS * 9000];
    struct net_dgram d[NET_BATCH_MAX];
    size_t per, sent = 0;
    double t0, t1, end;
    bool gso = strcmp(mode, "gso") == 0, single = strcmp(mode, "single") == 0;

    net_sock_opts_init(&o, net_addr_af(g));
    o.sndbuf = 4 << 20;
    o.mcast_if = ifx;
    if (net_sock_open(&s, &o) < 0)
        return 2;
    net_tx_init(&tx, &s);
    memset(buf, 0xa5, sizeof(buf));
    per = gso ? net_gso_max_segs(net_addr_af(g), len) : single ? 1 : NET_BATCH_MAX;
    for (size_t i = 0; i < NET_BATCH_MAX; i++)
        d[i] = (struct net_dgram){g, buf + i * len, len, NULL, 0};
    t0 = now_s();
    end = t0 + (double)ms / 1000.0;
    while (now_s() < end) {
        int r = gso ? net_tx_send_gso_buf(&tx, g, buf, per * len, len) : net_tx_send(&tx, d, per);
        if (r == -EAGAIN) {
            struct pollfd pf = {s.fd, POLLOUT, 0};
            poll(&pf, 1, 10);
        } else if (r == -ENOBUFS) {
            usleep(50);
        } else if (r < 0) {
            fprintf(stderr, "send: %s\n", strerror(-r));
            return 1;
        } else {
            sent += (size_t)r;
        }
    }
    t1 = now_s();
    printf("tx mode=%s dgrams=%zu mb_s=%.1f calls=%llu blocked=%llu per_call=%zu\n", mode, sent,
           (double)(sent * len) / (t1 - t0) / 1e6, (unsigned long long)tx.st.syscalls,
           (unsigned long long)tx.st.blocked, per);
    net_sock_close(&s);
    return 0;
}

static int do_recv(const struct addr *g, unsigned ifx, uint16_t port, bool gro, long idle_ms,
                   const char *ready)
{
    struct net_sock_opts o;
    struct net_sock s;
    struct net_mcast m;
    struct net_rx rx;
    size_t n = 0, bytes = 0;
    double first = 0, last = 0;

    net_sock_opts_init(&o, net_addr_af(g));
    o.reuse = true;
    o.port = port;
    o.rcvbuf = 4 << 20;
    o.gro = gro;
    o.recv_tos = false;
    if (net_sock_open(&s, &o) < 0)
        return 2;
    net_mcast_init(&m, &s);
    if (net_mcast_join(&m, g, NULL, ifx) < 0)
        return 2;
    if (net_rx_init(&rx, 64, NET_RX_GRO_BUFSZ) < 0)
        return 2;
    if (ready != NULL) {
        FILE *f = fopen(ready, "w");
        if (f != NULL)
            fclose(f);
    }
    for (;;) {
        struct pollfd pf = {s.fd, POLLIN, 0};
        int r = poll(&pf, 1, n == 0 ? 30000 : (int)idle_ms);
        if (r <= 0)
            break;
        r = net_rx_recv(&rx, &s);
        if (r < 0)
            continue;
        struct net_rx_iter it;
        struct net_rx_dgram d;
        net_rx_iter_init(&it, &rx);
        while (net_rx_next(&it, &d)) {
            n++;
            bytes += d.len;
        }
        last = now_s();
        if (first == 0)
            first = last;
    }
    printf("rx dgrams=%zu mb_s=%.1f bufs=%llu\n", n,
           last > first ? (double)bytes / (last - first) / 1e6 : 0.0,
           (unsigned long long)rx.st.bufs);
    net_rx_free(&rx);
    net_mcast_free(&m);
    net_sock_close(&s);
    return 0;
}

int main(int argc, char **argv)
{
    const char *group = NULL, *mode = "mmsg", *ifname = NULL, *ready = NULL;
    uint16_t port = 0;
    size_t len = 1324;
    long ms = 1000, idle = 300;
    bool gro = false;
    struct addr g;
    unsigned ifx = 0;
    int c;

    if (argc < 2)
        usage();
    log_init("bench_net_send", LL_WARN);
    optind = 2;
    while ((c = getopt(argc, argv, "g:p:i:m:l:d:t:r:G")) != -1) {
        switch (c) {
        case 'g':
            group = optarg;
            break;
        case 'p':
            port = (uint16_t)atoi(optarg);
            break;
        case 'i':
            ifname = optarg;
            break;
        case 'm':
            mode = optarg;
            break;
        case 'l':
            len = (size_t)atol(optarg);
            break;
        case 'd':
            ms = atol(optarg);
            break;
        case 't':
            idle = atol(optarg);
            break;
        case 'r':
            ready = optarg;
            break;
        case 'G':
            gro = true;
            break;
        default:
            usage();
        }
    }
    if (group == NULL || port == 0 || net_addr_parse(&g, group, port) < 0 || len < 16 || len > 9000)
        usage();
    if (ifname != NULL && (ifx = if_nametoindex(ifname)) == 0)
        usage();
    if (strcmp(argv[1], "send") == 0)
        return do_send(&g, ifx, mode, len, ms);
    if (strcmp(argv[1], "recv") == 0)
        return do_recv(&g, ifx, port, gro, idle, ready);
    usage();
}
