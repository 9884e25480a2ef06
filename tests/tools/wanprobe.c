/*
 * wanprobe — timestamped UDP datagrams to measure a path through wanrelay
 * (tests/integration/relay): one-way delay, loss, duplicates, reordering
 * and throughput, unicast or multicast, IPv4 or IPv6.
 *
 *   wanprobe send -a ADDR -p PORT [-i IF] [-n COUNT] [-l LEN] [-R MBPS | -G GAP_US]
 *   wanprobe recv -a ADDR -p PORT [-i IF] [-n EXPECT] [-t IDLE_MS] [-W READYFILE]
 *
 * ADDR is the destination (send) or the group / "any" address to bind
 * (recv). -R paces the sender at MBPS megabytes per second, -G sends one
 * datagram every GAP_US microseconds; neither: as fast as possible. Each
 * datagram carries a magic, its sequence number, its CLOCK_MONOTONIC send
 * time (shared by all network namespaces) and a byte pattern; the receiver
 * verifies them and prints one line of "key=value" results. It stops when
 * EXPECT datagrams arrived and 300 ms passed quietly, or after IDLE_MS
 * (default 2000) without any.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <net/if.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#define MAGIC   0x77616e70u /* "wanp" */
#define HDR     20
#define MAX_SEQ (1u << 22)
#define MAX_LEN 65000

struct args {
    const char *addr, *ifname, *ready;
    uint16_t port;
    long count, len, idle_ms;
    double rate_mbps, gap_us;
};

static void usage(void)
{
    fprintf(stderr, "usage: wanprobe send -a ADDR -p PORT [-i IF] [-n COUNT] [-l LEN]"
                    " [-R MBPS | -G GAP_US]\n"
                    "       wanprobe recv -a ADDR -p PORT [-i IF] [-n EXPECT] [-t IDLE_MS]"
                    " [-W READYFILE]\n");
    exit(2);
}

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (24 - 8 * i));
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint8_t pat(uint32_t seq, size_t off)
{
    return (uint8_t)((seq * 2654435761u >> 24) ^ (off * 13u));
}

/* ADDR:PORT into ss; the family comes from the address. */
static socklen_t parse_addr(const char *a, uint16_t port, struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof(*ss));
    struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, a, &s4->sin_addr) == 1) {
        s4->sin_family = AF_INET;
        s4->sin_port = htons(port);
        return sizeof(*s4);
    }
    if (inet_pton(AF_INET6, a, &s6->sin6_addr) == 1) {
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons(port);
        return sizeof(*s6);
    }
    fprintf(stderr, "wanprobe: bad address %s\n", a);
    exit(2);
}

static bool is_mcast(const struct sockaddr_storage *ss)
{
    if (ss->ss_family == AF_INET)
        return IN_MULTICAST(ntohl(((const struct sockaddr_in *)ss)->sin_addr.s_addr));
    return IN6_IS_ADDR_MULTICAST(&((const struct sockaddr_in6 *)ss)->sin6_addr);
}

static unsigned ifindex(const char *name)
{
    unsigned i = name ? if_nametoindex(name) : 0;
    if (name != NULL && i == 0) {
        fprintf(stderr, "wanprobe: no interface %s\n", name);
        exit(2);
    }
    return i;
}

static int do_send(const struct args *a)
{
    struct sockaddr_storage dst;
    socklen_t dl = parse_addr(a->addr, a->port, &dst);
    unsigned ifi = ifindex(a->ifname);
    int fd = socket(dst.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0), one = 1, zero = 0;
    size_t len = (size_t)a->len;
    long count = a->count > 0 ? a->count : 100;
    static uint8_t buf[MAX_LEN];
    int buf_sz = 8 << 20;

    if (fd < 0 || len < HDR || len > MAX_LEN || count > (long)MAX_SEQ)
        usage();
    (void)setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &buf_sz, sizeof(buf_sz));
    if (is_mcast(&dst) && dst.ss_family == AF_INET) {
        struct ip_mreqn mr = {.imr_ifindex = (int)ifi};
        setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &mr, sizeof(mr));
        setsockopt(fd, IPPROTO_IP, IP_MULTICAST_TTL, &one, sizeof(one));
        setsockopt(fd, IPPROTO_IP, IP_MULTICAST_LOOP, &zero, sizeof(zero));
    } else if (is_mcast(&dst)) {
        setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, &ifi, sizeof(ifi));
        setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &one, sizeof(one));
        setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, &zero, sizeof(zero));
    }
    if (connect(fd, (struct sockaddr *)&dst, dl) < 0) {
        fprintf(stderr, "wanprobe: connect %s: %s\n", a->addr, strerror(errno));
        return 2;
    }
    put32(buf, MAGIC);
    put32(buf + 16, (uint32_t)len);
    int64_t t0 = now_ns();
    long retries = 0;
    for (long k = 0; k < count; k++) {
        int64_t due = t0;
        if (a->rate_mbps > 0)
            due += (int64_t)((double)k * (double)len * 1e3 / a->rate_mbps);
        else if (a->gap_us > 0)
            due += (int64_t)((double)k * a->gap_us * 1e3);
        int64_t ahead = due - now_ns();
        /* Sleep only when well ahead: many tiny sleeps cost more than they pace. */
        if (ahead > 100000 || (a->gap_us > 0 && ahead > 0)) {
            struct timespec ts = {(time_t)(due / 1000000000), (long)(due % 1000000000)};
            clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
        }
        put32(buf + 4, (uint32_t)k);
        for (size_t i = HDR; i < len; i++)
            buf[i] = pat((uint32_t)k, i);
        int64_t t = now_ns();
        put32(buf + 8, (uint32_t)((uint64_t)t >> 32));
        put32(buf + 12, (uint32_t)t);
        if (send(fd, buf, len, 0) < 0) {
            if (errno == ENOBUFS || errno == EAGAIN || errno == ECONNREFUSED) {
                retries++;
                usleep(100);
                k--;
                continue;
            }
            fprintf(stderr, "wanprobe: send: %s\n", strerror(errno));
            return 1;
        }
    }
    double secs = (double)(now_ns() - t0) / 1e9;
    printf("sent n=%ld len=%zu secs=%.3f MBps=%.1f retries=%ld\n", count, len, secs,
           secs > 0 ? (double)count * (double)len / secs / 1e6 : 0.0, retries);
    close(fd);
    return 0;
}

static int do_recv(const struct args *a)
{
    struct sockaddr_storage grp, bnd;
    socklen_t gl = parse_addr(a->addr, a->port, &grp);
    unsigned ifi = ifindex(a->ifname);
    int fd = socket(grp.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0), one = 1;
    int buf_sz = 32 << 20;
    static uint8_t seen[MAX_SEQ / 8], buf[MAX_LEN + 1];
    uint64_t got = 0, dup = 0, reorder = 0, bad = 0, bytes = 0;
    int64_t first = 0, last = 0, start = now_ns(), maxseq = -1;
    double dmin = INFINITY, dmax = 0, dsum = 0, dsq = 0;

    if (fd < 0)
        usage();
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf_sz, sizeof(buf_sz)) < 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf_sz, sizeof(buf_sz));
    /* Multicast: bind the group, so other groups' traffic stays out. */
    if (is_mcast(&grp))
        bnd = grp;
    else
        parse_addr(grp.ss_family == AF_INET ? "0.0.0.0" : "::", a->port, &bnd);
    if (bind(fd, (struct sockaddr *)&bnd, gl) < 0) {
        fprintf(stderr, "wanprobe: bind: %s\n", strerror(errno));
        return 2;
    }
    if (is_mcast(&grp) && grp.ss_family == AF_INET) {
        struct ip_mreqn mr = {.imr_multiaddr = ((struct sockaddr_in *)&grp)->sin_addr,
                              .imr_ifindex = (int)ifi};
        if (setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr, sizeof(mr)) < 0) {
            fprintf(stderr, "wanprobe: join: %s\n", strerror(errno));
            return 2;
        }
    } else if (is_mcast(&grp)) {
        struct ipv6_mreq mr = {.ipv6mr_multiaddr = ((struct sockaddr_in6 *)&grp)->sin6_addr,
                               .ipv6mr_interface = ifi};
        if (setsockopt(fd, IPPROTO_IPV6, IPV6_JOIN_GROUP, &mr, sizeof(mr)) < 0) {
            fprintf(stderr, "wanprobe: join: %s\n", strerror(errno));
            return 2;
        }
    }
    if (a->ready != NULL) {
        int r = open(a->ready, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        if (r >= 0)
            close(r);
    }
    for (;;) {
        int64_t ref = got > 0 ? last : start;
        long wait = a->count > 0 && (long)got >= a->count ? 300 : a->idle_ms;
        int64_t left = ref + (int64_t)wait * 1000000 - now_ns();
        struct pollfd pf = {fd, POLLIN, 0};
        if (left <= 0)
            break;
        if (poll(&pf, 1, (int)(left / 1000000) + 1) <= 0)
            continue;
        ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
        int64_t t = now_ns();
        if (n < 0)
            continue;
        if (n < HDR || get32(buf) != MAGIC || get32(buf + 16) != (uint32_t)n) {
            bad++;
            continue;
        }
        uint32_t seq = get32(buf + 4);
        int64_t sent = (int64_t)((uint64_t)get32(buf + 8) << 32 | get32(buf + 12));
        bool ok = seq < MAX_SEQ;
        for (size_t i = HDR; ok && i < (size_t)n; i++)
            ok = buf[i] == pat(seq, i);
        if (!ok) {
            bad++;
            continue;
        }
        if (seen[seq / 8] & (1u << (seq % 8))) {
            dup++;
            continue;
        }
        seen[seq / 8] |= (uint8_t)(1u << (seq % 8));
        if ((int64_t)seq < maxseq)
            reorder++;
        else
            maxseq = seq;
        double d = (double)(t - sent) / 1e6;
        dmin = d < dmin ? d : dmin;
        dmax = d > dmax ? d : dmax;
        dsum += d;
        dsq += d * d;
        if (got++ == 0)
            first = t;
        last = t;
        bytes += (uint64_t)n;
    }
    double secs = got > 1 ? (double)(last - first) / 1e9 : 0;
    double avg = got ? dsum / (double)got : 0;
    double sd = got > 1 ? sqrt(fmax(0, dsq / (double)got - avg * avg)) : 0;
    printf("recv got=%" PRIu64 " dup=%" PRIu64 " reorder=%" PRIu64 " bad=%" PRIu64
           " dmin=%.3f davg=%.3f dmax=%.3f dsd=%.3f bytes=%" PRIu64 " secs=%.3f MBps=%.1f\n",
           got, dup, reorder, bad, got ? dmin : 0, avg, dmax, sd, bytes, secs,
           secs > 0 ? (double)bytes / secs / 1e6 : 0.0);
    close(fd);
    return 0;
}

int main(int argc, char **argv)
{
    struct args a = {.len = 1200, .idle_ms = 2000};
    int c;

    if (argc < 2)
        usage();
    optind = 2;
    while ((c = getopt(argc, argv, "a:p:i:n:l:R:G:t:W:")) != -1) {
        switch (c) {
        case 'a':
            a.addr = optarg;
            break;
        case 'p':
            a.port = (uint16_t)atoi(optarg);
            break;
        case 'i':
            a.ifname = optarg;
            break;
        case 'n':
            a.count = atol(optarg);
            break;
        case 'l':
            a.len = atol(optarg);
            break;
        case 'R':
            a.rate_mbps = atof(optarg);
            break;
        case 'G':
            a.gap_us = atof(optarg);
            break;
        case 't':
            a.idle_ms = atol(optarg);
            break;
        case 'W':
            a.ready = optarg;
            break;
        default:
            usage();
        }
    }
    if (a.addr == NULL || a.port == 0)
        usage();
    if (strcmp(argv[1], "send") == 0)
        return do_send(&a);
    if (strcmp(argv[1], "recv") == 0)
        return do_recv(&a);
    usage();
}
