/*
 * Multicast sender / receiver for the core/net integration tests
 * (tests/integration/net/mcast.sh), run inside network namespaces.
 *
 *   net_mcast_tool recv -g GROUP -p PORT [-s SOURCE] [-i IF[,IF...]] [-n EXPECT]
 *                       [-t IDLE_MS] [-G] [-N] [-r READYFILE] [-f 4|6]
 *   net_mcast_tool send -g GROUP -p PORT [-i IF] [-n COUNT] [-l LEN] [-x LASTLEN]
 *                       [-m single|mmsg|gso] [-F] [-T TOS] [-f 4|6]
 *
 * Every datagram carries a magic, its sequence number and its length, and a
 * byte pattern derived from both; the receiver checks each one, counts
 * duplicates and corrupt ones, and exits 0 only when exactly EXPECT distinct
 * intact datagrams arrived (-N: do not join; EXPECT defaults to 0 then).
 * -G turns UDP_GRO on; -F forces the GSO fallback; -f 6 opens an AF_INET6
 * (dual-stack) socket whatever the group's family.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/net/batch.h"
#include "core/net/iface.h"
#include "core/net/mcast.h"

#define MAGIC   0x75667470u /* "uftp" */
#define HDR     12
#define MAX_SEQ 65536
#define MAX_IFS 16

struct args {
    const char *group, *source, *ifs, *ready, *mode;
    uint16_t port;
    long count, len, lastlen, idle_ms;
    int tos, family;
    bool gro, nojoin, force_fail;
};

static void usage(void)
{
    fprintf(stderr, "usage: net_mcast_tool recv|send -g GROUP -p PORT [options]\n");
    exit(2);
}

static uint8_t pat(uint32_t seq, size_t off)
{
    return (uint8_t)(seq * 2654435761u >> 24 ^ off * 13u);
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void fill(uint8_t *p, uint32_t seq, size_t len)
{
    put32(p, MAGIC);
    put32(p + 4, seq);
    put32(p + 8, (uint32_t)len);
    for (size_t i = HDR; i < len; i++)
        p[i] = pat(seq, i);
}

static bool check(const uint8_t *p, size_t len, uint32_t *seq)
{
    if (len < HDR || get32(p) != MAGIC || get32(p + 8) != len)
        return false;
    *seq = get32(p + 4);
    for (size_t i = HDR; i < len; i++)
        if (p[i] != pat(*seq, i))
            return false;
    return *seq < MAX_SEQ;
}

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Comma-separated interface specs → ifindexes. */
static size_t parse_ifs(const char *spec, unsigned *out)
{
    struct net_iflist l;
    char buf[256];
    size_t n = 0;

    if (spec == NULL)
        return 0;
    if (net_iflist_load(&l) < 0) {
        fprintf(stderr, "cannot list interfaces\n");
        exit(2);
    }
    snprintf(buf, sizeof(buf), "%s", spec);
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t != NULL && n < MAX_IFS;
         t = strtok_r(NULL, ",", &save)) {
        const struct net_iface *e;
        int rc = net_iface_resolve(&l, t, AF_UNSPEC, &e);
        if (rc < 0) {
            fprintf(stderr, "interface %s: %s\n", t, strerror(-rc));
            exit(2);
        }
        out[n++] = e->index;
    }
    net_iflist_free(&l);
    return n;
}

static int do_recv(const struct args *a, const struct addr *group)
{
    struct net_sock_opts o;
    struct net_sock s;
    struct net_mcast m;
    struct net_rx rx;
    struct addr src;
    unsigned ifs[MAX_IFS];
    size_t nifs = parse_ifs(a->ifs, ifs);
    static uint8_t seen[MAX_SEQ];
    size_t got = 0, dups = 0, bad = 0;
    long expect = a->count >= 0 ? a->count : (a->nojoin ? 0 : 1);
    long last = now_ms();
    int tos = -1, rc;
    char txt[ADDR_STRLEN] = "(none)";

    net_sock_opts_init(&o, a->family);
    o.reuse = true;
    o.port = a->port;
    o.rcvbuf = 16 << 20;
    o.gro = a->gro;
    if ((rc = net_sock_open(&s, &o)) < 0) {
        fprintf(stderr, "socket: %s\n", strerror(-rc));
        return 2;
    }
    net_mcast_init(&m, &s);
    if (a->source != NULL && net_addr_parse(&src, a->source, 0) < 0) {
        fprintf(stderr, "bad source %s\n", a->source);
        return 2;
    }
    if (!a->nojoin) {
        const unsigned any = 0;
        rc = net_mcast_join_all(&m, group, a->source ? &src : NULL, nifs ? ifs : &any,
                                nifs ? nifs : 1);
        if (rc < 0) {
            fprintf(stderr, "join: %s\n", strerror(-rc));
            return 2;
        }
    }
    if (net_rx_init(&rx, 32, a->gro ? NET_RX_GRO_BUFSZ : 9216) < 0)
        return 2;
    if (a->ready != NULL) {
        FILE *f = fopen(a->ready, "w");
        if (f != NULL)
            fclose(f);
    }
    /* Until EXPECT arrived and 300 ms more passed quietly (to catch extras),
     * or IDLE_MS without anything. */
    for (;;) {
        long wait = (long)got >= expect && expect > 0 ? 300 : a->idle_ms;
        long left = last + wait - now_ms();
        struct pollfd pf = {s.fd, POLLIN, 0};

        if (left <= 0)
            break;
        if (poll(&pf, 1, (int)left) <= 0)
            continue;
        rc = net_rx_recv(&rx, &s);
        if (rc == -EAGAIN)
            continue;
        if (rc < 0) {
            fprintf(stderr, "recv: %s\n", strerror(-rc));
            return 2;
        }
        last = now_ms();
        struct net_rx_iter it;
        struct net_rx_dgram d;
        net_rx_iter_init(&it, &rx);
        while (net_rx_next(&it, &d)) {
            uint32_t seq;
            if (!check(d.data, d.len, &seq)) {
                bad++;
                continue;
            }
            if (seen[seq]++)
                dups++;
            else
                got++;
            tos = d.meta->tos;
            addr_str(&d.meta->src, txt);
        }
    }
    printf("recv dgrams=%zu bufs=%llu gro_bufs=%llu bad=%zu dup=%zu trunc=%llu tos=%d src=%s\n",
           got, (unsigned long long)rx.st.bufs, (unsigned long long)rx.st.gro_bufs, bad, dups,
           (unsigned long long)rx.st.truncated, tos, txt);
    net_rx_free(&rx);
    net_mcast_free(&m);
    net_sock_close(&s);
    return (long)got == expect && bad == 0 && dups == 0 ? 0 : 1;
}

/* Sends d[0..n) completely, waiting on back-pressure. Returns 0 or -errno. */
static int send_all(struct net_tx *tx, int fd, const struct net_dgram *d, size_t n)
{
    size_t done = 0;
    while (done < n) {
        int r = net_tx_send(tx, d + done, n - done);
        if (r == -EAGAIN) {
            struct pollfd pf = {fd, POLLOUT, 0};
            poll(&pf, 1, 100);
            continue;
        }
        if (r == -ENOBUFS) {
            usleep(1000);
            continue;
        }
        if (r < 0)
            return r;
        done += (size_t)r;
    }
    return 0;
}

static int do_send(const struct args *a, const struct addr *group)
{
    struct net_sock_opts o;
    struct net_sock s;
    static struct net_tx tx;
    unsigned ifs[MAX_IFS];
    size_t nifs = parse_ifs(a->ifs, ifs);
    size_t len = (size_t)a->len, count = (size_t)(a->count > 0 ? a->count : 100);
    size_t lastlen = a->lastlen > 0 ? (size_t)a->lastlen : len;
    uint8_t *buf;
    int rc = 0;

    if (len < HDR || len > 65000 || lastlen < HDR || lastlen > len || count > MAX_SEQ)
        usage();
    net_sock_opts_init(&o, a->family);
    o.sndbuf = 4 << 20;
    o.mcast_if = nifs ? ifs[0] : 0;
    o.tos = a->tos;
    if ((rc = net_sock_open(&s, &o)) < 0) {
        fprintf(stderr, "socket: %s\n", strerror(-rc));
        return 2;
    }
    net_tx_init(&tx, &s);
    tx.gso_force_fail = a->force_fail;
    buf = malloc(count * len);
    if (buf == NULL)
        return 2;
    for (size_t k = 0; k < count; k++)
        fill(buf + k * len, (uint32_t)k, k + 1 < count ? len : lastlen);

    if (strcmp(a->mode, "gso") == 0) {
        size_t per = net_gso_max_segs(net_addr_af(group), len);
        for (size_t k = 0; k < count && rc == 0;) {
            size_t n = count - k < per ? count - k : per;
            /* Only the very last datagram may be short: it ends a GSO batch. */
            size_t bytes = (n - 1) * len + (k + n == count ? lastlen : len);
            int r = net_tx_send_gso_buf(&tx, group, buf + k * len, bytes, len);
            if (r == -EAGAIN || r == -ENOBUFS) {
                usleep(1000);
                continue;
            }
            if (r < 0) {
                rc = r;
                break;
            }
            k += (size_t)r;
        }
    } else {
        struct net_dgram *d = calloc(count, sizeof(*d));
        bool single = strcmp(a->mode, "single") == 0;
        if (d == NULL)
            return 2;
        for (size_t k = 0; k < count; k++)
            d[k] = (struct net_dgram){group, buf + k * len, k + 1 < count ? len : lastlen, NULL, 0};
        for (size_t k = 0; k < count && rc == 0;) {
            size_t n = single ? 1 : (count - k < NET_BATCH_MAX ? count - k : NET_BATCH_MAX);
            rc = send_all(&tx, s.fd, d + k, n);
            k += n;
        }
        free(d);
    }
    printf("sent dgrams=%llu calls=%llu gso=%llu fallbacks=%llu blocked=%llu gso_on=%d "
           "gso_seg_limit=%zu\n",
           (unsigned long long)tx.st.dgrams, (unsigned long long)tx.st.syscalls,
           (unsigned long long)tx.st.gso_sends, (unsigned long long)tx.st.gso_fallbacks,
           (unsigned long long)tx.st.blocked, tx.gso, tx.gso_seg_limit);
    free(buf);
    net_sock_close(&s);
    if (rc < 0) {
        fprintf(stderr, "send: %s\n", strerror(-rc));
        return 1;
    }
    return tx.st.dgrams == count ? 0 : 1;
}

int main(int argc, char **argv)
{
    struct args a = {.mode = "mmsg", .count = -1, .len = 1324, .idle_ms = 3000, .tos = -1};
    struct addr group;
    int c;

    if (argc < 2)
        usage();
    log_init("net_mcast_tool", LL_WARN);
    optind = 2;
    while ((c = getopt(argc, argv, "g:p:s:i:n:t:r:f:l:x:m:T:GNF")) != -1) {
        switch (c) {
        case 'g':
            a.group = optarg;
            break;
        case 'p':
            a.port = (uint16_t)atoi(optarg);
            break;
        case 's':
            a.source = optarg;
            break;
        case 'i':
            a.ifs = optarg;
            break;
        case 'n':
            a.count = atol(optarg);
            break;
        case 't':
            a.idle_ms = atol(optarg);
            break;
        case 'r':
            a.ready = optarg;
            break;
        case 'f':
            a.family = atoi(optarg) == 6 ? AF_INET6 : AF_INET;
            break;
        case 'l':
            a.len = atol(optarg);
            break;
        case 'x':
            a.lastlen = atol(optarg);
            break;
        case 'm':
            a.mode = optarg;
            break;
        case 'T':
            a.tos = atoi(optarg);
            break;
        case 'G':
            a.gro = true;
            break;
        case 'N':
            a.nojoin = true;
            break;
        case 'F':
            a.force_fail = true;
            break;
        default:
            usage();
        }
    }
    if (a.group == NULL || a.port == 0 || net_addr_parse(&group, a.group, a.port) < 0)
        usage();
    if (a.family == 0)
        a.family = net_addr_af(&group);
    if (strcmp(argv[1], "recv") == 0)
        return do_recv(&a, &group);
    if (strcmp(argv[1], "send") == 0)
        return do_send(&a, &group);
    usage();
}
