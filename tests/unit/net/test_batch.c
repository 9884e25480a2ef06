/*
 * Batched I/O over loopback: sendmmsg and GSO batches to receivers with and
 * without UDP_GRO, every datagram checked byte for byte; the forced GSO
 * fallback; pktinfo and TOS control messages; partial sends.
 */
#include <errno.h>
#include <netinet/udp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/net/batch.h"
#include "cu.h"

/* Datagram k of a run: its length and a byte pattern that encodes k and the offset. */
static uint8_t pat(unsigned k, size_t off)
{
    return (uint8_t)(k * 131u + off * 7u + (off >> 8));
}

static void fill(uint8_t *p, unsigned k, size_t len)
{
    for (size_t i = 0; i < len; i++)
        p[i] = pat(k, i);
    if (len >= 2) {
        p[0] = (uint8_t)(k >> 8);
        p[1] = (uint8_t)k;
    }
}

static bool check(const uint8_t *p, size_t len, unsigned *k_out)
{
    unsigned k;
    if (len < 2)
        return false;
    k = (unsigned)p[0] << 8 | p[1];
    for (size_t i = 2; i < len; i++)
        if (p[i] != pat(k, i))
            return false;
    *k_out = k;
    return true;
}

struct pair {
    struct net_sock tx_s, rx_s;
    struct net_tx tx;
    struct addr to; /* the receiver, on loopback */
};

static void open_pair(struct pair *p, int family, bool dual_tx, bool gro, int tos)
{
    struct net_sock_opts o;

    net_sock_opts_init(&o, family);
    o.rcvbuf = 4 << 20;
    o.gro = gro;
    net_addr_parse(&o.bind, family == AF_INET ? "127.0.0.1" : "::1", 0);
    CU_ASSERT_EQUAL_FATAL(net_sock_open(&p->rx_s, &o), 0);
    CU_ASSERT_EQUAL(p->rx_s.gro, gro);
    net_addr_parse(&p->to, family == AF_INET ? "127.0.0.1" : "::1", p->rx_s.port);

    net_sock_opts_init(&o, dual_tx ? AF_INET6 : family);
    o.sndbuf = 4 << 20;
    o.tos = tos;
    CU_ASSERT_EQUAL_FATAL(net_sock_open(&p->tx_s, &o), 0);
    net_tx_init(&p->tx, &p->tx_s);
}

static void close_pair(struct pair *p)
{
    net_sock_close(&p->tx_s);
    net_sock_close(&p->rx_s);
}

/*
 * Receives until n datagrams arrived or 2 s passed; checks each one and
 * records lengths by index. Returns the number of datagrams.
 */
struct rx_result {
    size_t n;
    size_t len[256];
    unsigned order[256];
    size_t bufs, gro_bufs;
    int tos;
    struct addr src, dst;
    unsigned ifindex;
    bool bad;
};

static void receive(struct net_sock *s, size_t want, size_t bufsz, struct rx_result *r)
{
    struct net_rx rx;
    memset(r, 0, sizeof(*r));
    CU_ASSERT_EQUAL_FATAL(net_rx_init(&rx, 16, bufsz), 0);
    while (r->n < want) {
        struct pollfd pf = {s->fd, POLLIN, 0};
        if (poll(&pf, 1, 2000) <= 0)
            break;
        int k = net_rx_recv(&rx, s);
        if (k == -EAGAIN)
            continue;
        CU_ASSERT_FATAL(k > 0);
        struct net_rx_iter it;
        struct net_rx_dgram d;
        net_rx_iter_init(&it, &rx);
        while (net_rx_next(&it, &d)) {
            unsigned idx;
            if (!check(d.data, d.len, &idx) || idx >= 256 || r->n >= 256) {
                r->bad = true;
                continue;
            }
            r->len[idx] = d.len;
            r->order[r->n++] = idx;
            r->tos = d.meta->tos;
            r->src = d.meta->src;
            r->dst = d.meta->dst;
            r->ifindex = d.meta->ifindex;
        }
    }
    r->bufs = rx.st.bufs;
    r->gro_bufs = rx.st.gro_bufs;
    net_rx_free(&rx);
}

static void test_gso_limits(void)
{
    CU_ASSERT_EQUAL(net_gso_max_segs(AF_INET, 0), 0);
    CU_ASSERT_EQUAL(net_gso_max_segs(AF_INET, 1), 64);
    CU_ASSERT_EQUAL(net_gso_max_segs(AF_INET, 1324), 49); /* 49 * 1324 = 64876 <= 65507 */
    CU_ASSERT_EQUAL(net_gso_max_segs(AF_INET, 1472), 44);
    CU_ASSERT_EQUAL(net_gso_max_segs(AF_INET6, 1452), 45);
    CU_ASSERT_EQUAL(net_gso_max_segs(AF_INET, 8800), 7);
    CU_ASSERT_EQUAL(net_gso_max_segs(AF_INET, 65507), 1);
    CU_ASSERT_EQUAL(net_gso_max_segs(AF_INET, 65508), 0);
    CU_ASSERT_EQUAL(net_gso_max_segs(AF_INET6, 65527), 1);
}

/* The payload limits match the kernel: one byte more is refused. */
static void test_kernel_payload_limit(void)
{
    static uint8_t big[65536];
    for (int fam = AF_INET; fam != 0; fam = fam == AF_INET ? AF_INET6 : 0) {
        struct pair p;
        size_t max = fam == AF_INET ? 65507 : 65527;
        open_pair(&p, fam, false, false, -1);
        struct net_dgram d = {&p.to, big, max, NULL, 0};
        CU_ASSERT_EQUAL(net_tx_send(&p.tx, &d, 1), 1);
        d.len = max + 1;
        CU_ASSERT_EQUAL(net_tx_send(&p.tx, &d, 1), -EMSGSIZE);
        close_pair(&p);
    }
}

static void run_mmsg(int family, bool dual, bool gro)
{
    struct pair p;
    static uint8_t bufs[100][1400];
    struct net_dgram d[100];
    struct rx_result r;

    open_pair(&p, family, dual, gro, -1);
    for (unsigned k = 0; k < 100; k++) {
        size_t len = 2 + (k * 37) % 1398; /* varied sizes */
        fill(bufs[k], k, len);
        d[k] = (struct net_dgram){&p.to, bufs[k], len, NULL, 0};
    }
    /* 100 > NET_BATCH_MAX: two sendmmsg calls. */
    CU_ASSERT_EQUAL(net_tx_send(&p.tx, d, 100), 100);
    CU_ASSERT_EQUAL(p.tx.st.syscalls, 2);
    CU_ASSERT_EQUAL(p.tx.st.dgrams, 100);
    receive(&p.rx_s, 100, gro ? NET_RX_GRO_BUFSZ : 2048, &r);
    CU_ASSERT_EQUAL(r.n, 100);
    CU_ASSERT_FALSE(r.bad);
    for (unsigned k = 0; k < 100; k++) {
        CU_ASSERT_EQUAL(r.order[k], k); /* in order */
        CU_ASSERT_EQUAL(r.len[k], 2 + (k * 37) % 1398);
    }
    /* Datagrams of different sizes are never coalesced. */
    CU_ASSERT_EQUAL(r.gro_bufs, 0);
    close_pair(&p);
}

static void test_mmsg_v4(void)
{
    run_mmsg(AF_INET, false, false);
}

static void test_mmsg_v6_gro(void)
{
    run_mmsg(AF_INET6, false, true);
}

static void test_mmsg_dual_to_v4(void)
{
    run_mmsg(AF_INET, true, false);
}

/* nseg segments of seg bytes, the last one last bytes. */
static void run_gso(int family, bool dual, bool gro, bool force_fail, size_t seg, size_t nseg,
                    size_t last)
{
    struct pair p;
    static uint8_t payload[65536];
    size_t total = seg * (nseg - 1) + last;
    struct rx_result r;

    open_pair(&p, family, dual, gro, -1);
    CU_ASSERT_TRUE_FATAL(p.tx.gso); /* this kernel has UDP GSO */
    p.tx.gso_force_fail = force_fail;
    for (unsigned k = 0; k < nseg; k++)
        fill(payload + k * seg, k, k + 1 < nseg ? seg : last);
    /* Three iov pieces whose edges do not match segment edges. */
    struct iovec iov[3] = {
        {payload, seg / 2},
        {payload + seg / 2, seg * 2},
        {payload + seg / 2 + seg * 2, total - seg / 2 - seg * 2},
    };
    CU_ASSERT_EQUAL(net_tx_send_gso(&p.tx, &p.to, iov, 3, seg), (int)nseg);
    CU_ASSERT_EQUAL(p.tx.st.gso_sends, force_fail ? 0 : 1);
    CU_ASSERT_EQUAL(p.tx.st.gso_fallbacks, force_fail ? 1 : 0);
    CU_ASSERT_EQUAL(p.tx.st.syscalls, 1);
    receive(&p.rx_s, nseg, gro ? NET_RX_GRO_BUFSZ : 9000, &r);
    CU_ASSERT_EQUAL(r.n, nseg);
    CU_ASSERT_FALSE(r.bad);
    for (unsigned k = 0; k < nseg && k < r.n; k++) {
        CU_ASSERT_EQUAL(r.order[k], k);
        CU_ASSERT_EQUAL(r.len[k], k + 1 < nseg ? seg : last);
    }
    if (gro && !force_fail) {
        /* On loopback the GSO train reaches the GRO socket whole. */
        CU_ASSERT_EQUAL(r.bufs, 1);
        CU_ASSERT_EQUAL(r.gro_bufs, 1);
    } else {
        CU_ASSERT_EQUAL(r.bufs, nseg);
        CU_ASSERT_EQUAL(r.gro_bufs, 0);
    }
    close_pair(&p);
}

static void test_gso_nogro(void)
{
    run_gso(AF_INET, false, false, false, 1324, 40, 1324);
}

static void test_gso_gro_odd_last(void)
{
    run_gso(AF_INET, false, true, false, 1324, 49, 777);
}

static void test_gso_v6_gro(void)
{
    run_gso(AF_INET6, false, true, false, 1300, 50, 2);
}

static void test_gso_dual_to_v4_gro(void)
{
    run_gso(AF_INET, true, true, false, 1352, 44, 1351);
}

static void test_gso_forced_fallback(void)
{
    run_gso(AF_INET, false, true, true, 1324, 30, 100);
    run_gso(AF_INET6, false, false, true, 1000, 64, 1000);
}

/* 128 iov pieces of odd sizes over 64 segments: every slice boundary case. */
static void test_gso_many_pieces(void)
{
    for (int forced = 0; forced < 2; forced++) {
        struct pair p;
        static uint8_t payload[64 * 1000];
        struct iovec iov[NET_GSO_MAX_IOV];
        struct rx_result r;
        size_t off = 0, total = sizeof(payload);

        open_pair(&p, AF_INET, false, false, -1);
        p.tx.gso_force_fail = forced;
        for (unsigned k = 0; k < 64; k++)
            fill(payload + k * 1000, k, 1000);
        for (size_t i = 0; i < NET_GSO_MAX_IOV; i++) {
            size_t n = i + 1 < NET_GSO_MAX_IOV ? 1 + (i * 7919) % 900 : total - off;
            if (off + n > total)
                n = total - off;
            iov[i].iov_base = payload + off;
            iov[i].iov_len = n;
            off += n;
        }
        CU_ASSERT_EQUAL_FATAL(off, total);
        CU_ASSERT_EQUAL(net_tx_send_gso(&p.tx, &p.to, iov, NET_GSO_MAX_IOV, 1000), 64);
        receive(&p.rx_s, 64, 2048, &r);
        CU_ASSERT_EQUAL(r.n, 64);
        CU_ASSERT_FALSE(r.bad);
        for (unsigned k = 0; k < 64; k++) {
            CU_ASSERT_EQUAL(r.order[k], k);
            CU_ASSERT_EQUAL(r.len[k], 1000);
        }
        CU_ASSERT_EQUAL(net_tx_send_gso(&p.tx, &p.to, iov, NET_GSO_MAX_IOV + 1, 1000), -EINVAL);
        close_pair(&p);
    }
}

static void test_gso_refusals(void)
{
    struct pair p;
    static uint8_t payload[65536];

    open_pair(&p, AF_INET, false, false, -1);
    CU_ASSERT_EQUAL(net_tx_send_gso_buf(&p.tx, &p.to, payload, 50 * 1324, 1324), -EMSGSIZE);
    CU_ASSERT_EQUAL(net_tx_send_gso_buf(&p.tx, &p.to, payload, 65 * 100, 100), -EMSGSIZE);
    CU_ASSERT_EQUAL(net_tx_send_gso_buf(&p.tx, &p.to, payload, 0, 100), -EINVAL);
    CU_ASSERT_EQUAL(net_tx_send_gso_buf(&p.tx, &p.to, payload, 100, 0), -EINVAL);
    CU_ASSERT_EQUAL(net_tx_send_gso_buf(&p.tx, NULL, payload, 100, 10), -EINVAL);
    struct addr v6;
    net_addr_parse(&v6, "::1", p.rx_s.port);
    CU_ASSERT_EQUAL(net_tx_send_gso_buf(&p.tx, &v6, payload, 100, 10), -EAFNOSUPPORT);
    CU_ASSERT_EQUAL(p.tx.st.dgrams, 0);
    close_pair(&p);
}

/* Segments far above an Ethernet MTU are fine on lo (MTU 65536). The refusal
 * for segments above a device's MTU is exercised in tests/integration/net. */
static void test_gso_big_segments(void)
{
    struct pair p;
    static uint8_t payload[65536];

    open_pair(&p, AF_INET, false, false, -1);
    fill(payload, 0, 32000);
    fill(payload + 32000, 1, 32000);
    CU_ASSERT_EQUAL(net_tx_send_gso_buf(&p.tx, &p.to, payload, 64000, 32000), 2);
    struct rx_result r;
    receive(&p.rx_s, 2, 65536, &r);
    CU_ASSERT_EQUAL(r.n, 2);
    CU_ASSERT_EQUAL(r.len[0], 32000);
    CU_ASSERT_EQUAL(r.len[1], 32000);
    CU_ASSERT_TRUE(p.tx.gso);
    CU_ASSERT_EQUAL(p.tx.st.gso_sends, 1);
    close_pair(&p);
}

static void test_partial_send(void)
{
    struct pair p;
    static uint8_t small[4][100], huge[70000];
    struct net_dgram d[5];

    open_pair(&p, AF_INET, false, false, -1);
    for (unsigned k = 0; k < 4; k++)
        fill(small[k], k, 100);
    d[0] = (struct net_dgram){&p.to, small[0], 100, NULL, 0};
    d[1] = (struct net_dgram){&p.to, small[1], 100, NULL, 0};
    d[2] = (struct net_dgram){&p.to, huge, sizeof(huge), NULL, 0}; /* too big */
    d[3] = (struct net_dgram){&p.to, small[2], 100, NULL, 0};
    d[4] = (struct net_dgram){&p.to, small[3], 100, NULL, 0};
    /* The count says how far it got; the failing datagram's error comes next. */
    CU_ASSERT_EQUAL(net_tx_send(&p.tx, d, 5), 2);
    CU_ASSERT_EQUAL(net_tx_send(&p.tx, d + 2, 3), -EMSGSIZE);
    CU_ASSERT_EQUAL(net_tx_send(&p.tx, d + 3, 2), 2);
    /* A destination the socket cannot reach stops the batch before it. */
    struct addr v6;
    net_addr_parse(&v6, "::1", 9);
    d[1].dst = &v6;
    CU_ASSERT_EQUAL(net_tx_send(&p.tx, d, 3), 1);
    CU_ASSERT_EQUAL(net_tx_send(&p.tx, d + 1, 2), -EAFNOSUPPORT);
    d[0].dst = NULL;
    CU_ASSERT_EQUAL(net_tx_send(&p.tx, d, 1), -EINVAL);
    CU_ASSERT_EQUAL(net_tx_send(&p.tx, d, 0), -EINVAL);
    struct rx_result r;
    receive(&p.rx_s, 5, 2048, &r);
    CU_ASSERT_EQUAL(r.n, 5);
    unsigned want[5] = {0, 1, 2, 3, 0};
    for (unsigned i = 0; i < 5; i++)
        CU_ASSERT_EQUAL(r.order[i], want[i]);
    close_pair(&p);
}

static void test_cmsgs(void)
{
    static const struct {
        int family;
        bool dual_rx;
        const char *to;
    } t[] = {
        {AF_INET, false, "127.0.0.1"},
        {AF_INET6, false, "::1"},
        {AF_INET6, true, "127.0.0.1"}, /* IPv4 into a dual-stack receiver */
    };
    for (size_t i = 0; i < 3; i++) {
        struct net_sock rx, tx;
        struct net_tx t_tx;
        struct net_sock_opts o;
        struct addr to, want_src, want_dst;
        uint8_t b[64];
        struct rx_result r;

        net_sock_opts_init(&o, t[i].family);
        CU_ASSERT_EQUAL_FATAL(net_sock_open(&rx, &o), 0);
        net_sock_opts_init(&o, t[i].dual_rx ? AF_INET : t[i].family);
        o.tos = net_tos(46, true);
        CU_ASSERT_EQUAL_FATAL(net_sock_open(&tx, &o), 0);
        net_tx_init(&t_tx, &tx);
        net_addr_parse(&to, t[i].to, rx.port);
        fill(b, 7, sizeof(b));
        struct net_dgram d = {&to, b, sizeof(b), NULL, 0};
        CU_ASSERT_EQUAL(net_tx_send(&t_tx, &d, 1), 1);
        receive(&rx, 1, 2048, &r);
        CU_ASSERT_EQUAL(r.n, 1);
        CU_ASSERT_EQUAL(r.tos, 0xba);
        CU_ASSERT_EQUAL(r.ifindex, 1); /* lo */
        net_addr_parse(&want_dst, t[i].to, rx.port);
        net_addr_parse(&want_src, t[i].to, tx.port);
        CU_ASSERT_TRUE(addr_equal(&r.dst, &want_dst));
        CU_ASSERT_TRUE(addr_equal(&r.src, &want_src));
        /* Reported as plain IPv4 even through the dual-stack socket. */
        CU_ASSERT_EQUAL(net_addr_af(&r.src), net_addr_af(&want_src));
        CU_ASSERT_EQUAL(net_addr_af(&r.dst), net_addr_af(&want_dst));
        net_sock_close(&rx);
        net_sock_close(&tx);
    }
}

static void test_truncation(void)
{
    struct pair p;
    static uint8_t payload[8000];
    struct rx_result r;

    /* Without GRO: a datagram longer than the buffer is dropped, the next one kept. */
    open_pair(&p, AF_INET, false, false, -1);
    fill(payload, 0, 3000);
    struct net_dgram d = {&p.to, payload, 3000, NULL, 0};
    CU_ASSERT_EQUAL(net_tx_send(&p.tx, &d, 1), 1);
    fill(payload, 1, 500);
    d.len = 500;
    CU_ASSERT_EQUAL(net_tx_send(&p.tx, &d, 1), 1);
    receive(&p.rx_s, 1, 1024, &r);
    CU_ASSERT_EQUAL(r.n, 1);
    CU_ASSERT_EQUAL(r.order[0], 1);
    CU_ASSERT_EQUAL(r.len[1], 500);
    close_pair(&p);

    /* GRO sockets demand GRO-sized buffers. */
    open_pair(&p, AF_INET, false, true, -1);
    struct net_rx rx;
    CU_ASSERT_EQUAL(net_rx_init(&rx, 4, 9000), 0);
    CU_ASSERT_EQUAL(net_rx_recv(&rx, &p.rx_s), -EINVAL);
    net_rx_free(&rx);
    CU_ASSERT_EQUAL(net_rx_init(&rx, 0, 9000), -EINVAL);
    CU_ASSERT_EQUAL(net_rx_init(&rx, 4, NET_RX_GRO_BUFSZ + 1), -EINVAL);
    CU_ASSERT_EQUAL(net_rx_init(&rx, 4, NET_RX_GRO_BUFSZ), 0);
    CU_ASSERT_EQUAL(net_rx_recv(&rx, &p.rx_s), -EAGAIN);
    net_rx_free(&rx);
    close_pair(&p);
}

static void test_zero_length(void)
{
    struct pair p;
    struct net_rx rx;
    struct net_rx_iter it;
    struct net_rx_dgram d;

    open_pair(&p, AF_INET, false, false, -1);
    struct net_dgram g = {&p.to, "", 0, NULL, 0};
    CU_ASSERT_EQUAL(net_tx_send(&p.tx, &g, 1), 1);
    CU_ASSERT_EQUAL(net_rx_init(&rx, 4, 2048), 0);
    struct pollfd pf = {p.rx_s.fd, POLLIN, 0};
    CU_ASSERT_EQUAL(poll(&pf, 1, 2000), 1);
    CU_ASSERT_EQUAL(net_rx_recv(&rx, &p.rx_s), 1);
    net_rx_iter_init(&it, &rx);
    CU_ASSERT_TRUE(net_rx_next(&it, &d));
    CU_ASSERT_EQUAL(d.len, 0);
    CU_ASSERT_FALSE(net_rx_next(&it, &d));
    net_rx_free(&rx);
    close_pair(&p);
}

/* With recverr, an ICMP port unreachable is drained, not left in the buffer. */
static void test_icmp_errors_drained(void)
{
    struct pair p;
    struct addr closed;
    uint8_t b[32] = {0};
    struct net_rx rx;

    open_pair(&p, AF_INET, false, false, -1);
    /* A port nobody listens on: the receiver's socket, closed. */
    struct net_sock tmp;
    struct net_sock_opts o;
    net_sock_opts_init(&o, AF_INET);
    CU_ASSERT_EQUAL_FATAL(net_sock_open(&tmp, &o), 0);
    net_addr_parse(&closed, "127.0.0.1", tmp.port);
    net_sock_close(&tmp);
    struct net_dgram d = {&closed, b, sizeof(b), NULL, 0};
    CU_ASSERT_EQUAL(net_tx_send(&p.tx, &d, 1), 1);
    /* The error surfaces on the sender's socket; receiving drains it. */
    struct pollfd pf = {p.tx_s.fd, POLLIN, 0};
    CU_ASSERT_EQUAL(poll(&pf, 1, 2000), 1);
    CU_ASSERT(pf.revents & POLLERR);
    CU_ASSERT_EQUAL(net_rx_init(&rx, 4, 2048), 0);
    CU_ASSERT_EQUAL(net_rx_recv(&rx, &p.tx_s), -EAGAIN);
    CU_ASSERT_EQUAL(rx.st.errors, 1);
    CU_ASSERT_EQUAL(poll(&pf, 1, 0), 0);
    /* And the next send is not hit by the stale error. */
    d.dst = &p.to;
    CU_ASSERT_EQUAL(net_tx_send(&p.tx, &d, 1), 1);
    net_rx_free(&rx);
    close_pair(&p);
}

static const struct cu_test batch_tests[] = {
    {"GSO segment limits", test_gso_limits},
    {"payload limits agree with the kernel", test_kernel_payload_limit},
    {"sendmmsg batch, IPv4", test_mmsg_v4},
    {"sendmmsg batch, IPv6 to a GRO socket", test_mmsg_v6_gro},
    {"sendmmsg batch, dual-stack to IPv4", test_mmsg_dual_to_v4},
    {"GSO to a socket without GRO", test_gso_nogro},
    {"GSO to a GRO socket, odd last segment", test_gso_gro_odd_last},
    {"GSO IPv6 to GRO, 2-byte last segment", test_gso_v6_gro},
    {"GSO dual-stack to IPv4 GRO", test_gso_dual_to_v4_gro},
    {"GSO refused: forced fallback loses nothing", test_gso_forced_fallback},
    {"GSO of 128 odd iov pieces, GSO and fallback", test_gso_many_pieces},
    {"GSO argument checks", test_gso_refusals},
    {"GSO with 32000-byte segments on lo", test_gso_big_segments},
    {"partial sends report how far they got", test_partial_send},
    {"pktinfo and TOS control messages", test_cmsgs},
    {"truncated datagrams and buffer checks", test_truncation},
    {"zero-length datagram", test_zero_length},
    {"ICMP errors drained (recverr)", test_icmp_errors_drained},
    {NULL, NULL},
};

int main(void)
{
    log_init("test_batch", LL_WARN);
    static const struct cu_suite suites[] = {{"net/batch", batch_tests}};
    return cu_run(suites, 1);
}
