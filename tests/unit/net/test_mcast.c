/*
 * Multicast membership bookkeeping, and IPv4 delivery over lo to several
 * receivers sharing one port (the demo's "3 receivers + 1 sender on one
 * host"). IPv6 multicast needs a multicast-capable interface: see
 * tests/integration/net.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "core/log.h"
#include "core/net/batch.h"
#include "core/net/mcast.h"
#include "cu.h"

#define LO 1

static struct addr A(const char *s) {
    struct addr a;
    if (net_addr_parse(&a, s, 0) != 0)
        CU_FAIL("parse in test");
    return a;
}

static void
open_rx(struct net_sock *s, int family, uint16_t port)
{
    struct net_sock_opts o;
    net_sock_opts_init(&o, family);
    o.reuse = true;
    o.port = port;
    CU_ASSERT_EQUAL_FATAL(net_sock_open(s, &o), 0);
}

static void test_bookkeeping(void)
{
    struct net_sock s;
    struct net_mcast m;
    struct addr g = A("239.193.7.1"), g6 = A("ff15::7:1"), src = A("127.0.0.1");
    struct addr mapped = A("::ffff:239.193.7.1");

    open_rx(&s, AF_INET6, 0);
    net_mcast_init(&m, &s);
    CU_ASSERT_EQUAL(net_mcast_join(&m, &g, NULL, LO), 0);
    CU_ASSERT_EQUAL(net_mcast_join(&m, &g, NULL, LO), 0);      /* idempotent */
    CU_ASSERT_EQUAL(net_mcast_join(&m, &mapped, NULL, LO), 0); /* same group */
    CU_ASSERT_EQUAL(m.n, 1);
    CU_ASSERT_TRUE(net_mcast_joined(&m, &g, NULL, LO));
    CU_ASSERT_FALSE(net_mcast_joined(&m, &g, NULL, 0));
    CU_ASSERT_EQUAL(net_mcast_join(&m, &g6, NULL, LO), 0); /* IPv6 on the same dual socket */
    CU_ASSERT_EQUAL(m.n, 2);
    /* ASM and SSM on one group and interface do not mix (kernel rule). */
    CU_ASSERT_EQUAL(net_mcast_join(&m, &g, &src, LO), -EINVAL);
    CU_ASSERT_EQUAL(m.n, 2);
    CU_ASSERT_EQUAL(net_mcast_leave(&m, &g, NULL, LO), 0);
    CU_ASSERT_EQUAL(net_mcast_leave(&m, &g, NULL, LO), -ENOENT);
    CU_ASSERT_EQUAL(net_mcast_join(&m, &g, &src, LO), 0); /* now SSM is fine */
    struct addr src2 = A("127.0.0.2");
    CU_ASSERT_EQUAL(net_mcast_join(&m, &g, &src2, LO), 0); /* second source */
    CU_ASSERT_EQUAL(m.n, 3);
    CU_ASSERT_TRUE(net_mcast_joined(&m, &g, &src2, LO));
    CU_ASSERT_FALSE(net_mcast_joined(&m, &g, NULL, LO));
    CU_ASSERT_EQUAL(net_mcast_join(&m, &g, NULL, LO), -EINVAL); /* and not the reverse */
    CU_ASSERT_EQUAL(net_mcast_leave(&m, &g, &src, LO), 0);
    CU_ASSERT_EQUAL(net_mcast_leave(&m, &g, &src2, LO), 0);
    CU_ASSERT_EQUAL(m.n, 1);

    /* Refusals. */
    struct addr uni = A("10.0.0.1"), msrc = A("239.1.1.1"), any = A("0.0.0.0");
    CU_ASSERT_EQUAL(net_mcast_join(&m, &uni, NULL, LO), -EINVAL);
    CU_ASSERT_EQUAL(net_mcast_join(&m, &g, &msrc, LO), -EINVAL);
    CU_ASSERT_EQUAL(net_mcast_join(&m, &g, &any, LO), -EINVAL);
    CU_ASSERT_EQUAL(net_mcast_join(&m, &g6, &src, LO), -EINVAL); /* family mix */
    CU_ASSERT_EQUAL(net_mcast_join(&m, &g, NULL, 999999), -ENODEV);
    CU_ASSERT_EQUAL(m.n, 1);
    net_mcast_free(&m);
    CU_ASSERT_EQUAL(m.n, 0);
    CU_ASSERT_PTR_NULL(m.v);
    net_sock_close(&s);

    /* Family checks against the socket. */
    struct net_sock s4, s6;
    struct net_sock_opts o;
    open_rx(&s4, AF_INET, 0);
    net_sock_opts_init(&o, AF_INET6);
    o.v6only = true;
    CU_ASSERT_EQUAL_FATAL(net_sock_open(&s6, &o), 0);
    net_mcast_init(&m, &s4);
    CU_ASSERT_EQUAL(net_mcast_join(&m, &g6, NULL, LO), -EAFNOSUPPORT);
    net_mcast_free(&m);
    net_mcast_init(&m, &s6);
    CU_ASSERT_EQUAL(net_mcast_join(&m, &g, NULL, LO), -EAFNOSUPPORT);
    CU_ASSERT_EQUAL(net_mcast_join(&m, &g6, NULL, LO), 0);
    net_mcast_free(&m);
    net_sock_close(&s4);
    net_sock_close(&s6);
}

static void test_join_all_rollback(void)
{
    struct net_sock s;
    struct net_mcast m;
    struct addr g = A("239.193.7.2");
    const unsigned good[] = {LO, 0};
    const unsigned bad[] = {LO, 999999};

    open_rx(&s, AF_INET, 0);
    net_mcast_init(&m, &s);
    CU_ASSERT_EQUAL(net_mcast_join_all(&m, &g, NULL, good, 2), 0);
    CU_ASSERT_EQUAL(m.n, 2);
    net_mcast_free(&m);
    net_mcast_init(&m, &s);
    /* The second interface fails: the first join is undone. */
    CU_ASSERT_EQUAL(net_mcast_join_all(&m, &g, NULL, bad, 2), -ENODEV);
    CU_ASSERT_EQUAL(m.n, 0);
    /* A membership held before the call survives a failing call. */
    CU_ASSERT_EQUAL(net_mcast_join(&m, &g, NULL, LO), 0);
    const unsigned bad2[] = {0, 999999};
    CU_ASSERT_EQUAL(net_mcast_join_all(&m, &g, NULL, bad2, 2), -ENODEV);
    CU_ASSERT_EQUAL(m.n, 1);
    CU_ASSERT_TRUE(net_mcast_joined(&m, &g, NULL, LO));
    net_mcast_free(&m);
    net_sock_close(&s);
}

static long read_sysctl(const char *path)
{
    FILE *f = fopen(path, "r");
    long v = -1;
    if (f != NULL) {
        if (fscanf(f, "%ld", &v) != 1)
            v = -1;
        fclose(f);
    }
    return v;
}

static void test_kernel_limit(void)
{
    long max = read_sysctl("/proc/sys/net/ipv4/igmp_max_memberships");
    struct net_sock s;
    struct net_mcast m;

    if (max < 0 || max > 200)
        return; /* nothing sensible to probe */
    open_rx(&s, AF_INET, 0);
    net_mcast_init(&m, &s);
    for (long i = 0; i < max; i++) {
        char txt[32];
        struct addr g;
        snprintf(txt, sizeof(txt), "239.194.%ld.%ld", i / 250, i % 250 + 1);
        g = A(txt);
        CU_ASSERT_EQUAL(net_mcast_join(&m, &g, NULL, LO), 0);
    }
    struct addr one_more = A("239.195.0.1");
    CU_ASSERT_EQUAL(net_mcast_join(&m, &one_more, NULL, LO), -ENOBUFS);
    CU_ASSERT_EQUAL((long)m.n, max);
    net_mcast_free(&m);
    net_sock_close(&s);
}

static int wait_count(struct net_sock *s, int ms)
{
    struct net_rx rx;
    int n = 0;
    CU_ASSERT_EQUAL_FATAL(net_rx_init(&rx, 8, 2048), 0);
    struct pollfd pf = {s->fd, POLLIN, 0};
    while (poll(&pf, 1, ms) > 0) {
        int k = net_rx_recv(&rx, s);
        if (k > 0)
            n += k;
        ms = 50; /* after the first, just drain */
    }
    net_rx_free(&rx);
    return n;
}

/* Three receivers on one port, two joined, one not: only the joined ones get it. */
static void test_delivery_on_lo(void)
{
    struct net_sock r[3], tx;
    struct net_mcast m[2];
    struct net_tx t;
    struct net_sock_opts o;
    uint8_t rnd[2];
    char txt[32];

    CU_ASSERT_EQUAL_FATAL(getrandom(rnd, 2, 0), 2);
    snprintf(txt, sizeof(txt), "239.196.%u.%u", rnd[0], rnd[1] | 1);
    struct addr g = A(txt);
    open_rx(&r[0], AF_INET, 0);
    open_rx(&r[1], AF_INET6, r[0].port); /* dual-stack joins an IPv4 group */
    open_rx(&r[2], AF_INET, r[0].port);
    addr_set_port(&g, r[0].port);
    for (int i = 0; i < 2; i++) {
        net_mcast_init(&m[i], &r[i]);
        CU_ASSERT_EQUAL(net_mcast_join(&m[i], &g, NULL, LO), 0);
    }
    net_sock_opts_init(&o, AF_INET);
    o.mcast_if = LO;
    CU_ASSERT_EQUAL_FATAL(net_sock_open(&tx, &o), 0);
    net_tx_init(&t, &tx);
    struct net_dgram d[3] = {
        {&g, "one", 3, NULL, 0}, {&g, "two", 3, NULL, 0}, {&g, "three", 5, NULL, 0}};
    CU_ASSERT_EQUAL(net_tx_send(&t, d, 3), 3);
    CU_ASSERT_EQUAL(wait_count(&r[0], 1000), 3);
    CU_ASSERT_EQUAL(wait_count(&r[1], 1000), 3);
    CU_ASSERT_EQUAL(wait_count(&r[2], 200), 0); /* IP_MULTICAST_ALL off */

    /* After leaving, r[0] gets nothing more; r[1] still does. */
    net_mcast_free(&m[0]);
    CU_ASSERT_EQUAL(net_tx_send(&t, d, 1), 1);
    CU_ASSERT_EQUAL(wait_count(&r[1], 1000), 1);
    CU_ASSERT_EQUAL(wait_count(&r[0], 200), 0);

    /* SSM: joined for source 127.0.0.1 gets it; for another source, not. */
    snprintf(txt, sizeof(txt), "232.196.%u.%u", rnd[0], rnd[1] | 1);
    struct addr sg = A(txt), me = A("127.0.0.1"), other = A("127.0.0.9");
    addr_set_port(&sg, r[0].port);
    net_mcast_init(&m[0], &r[0]);
    struct net_mcast m2;
    net_mcast_init(&m2, &r[2]);
    CU_ASSERT_EQUAL(net_mcast_join(&m[0], &sg, &me, LO), 0);
    CU_ASSERT_EQUAL(net_mcast_join(&m2, &sg, &other, LO), 0);
    struct net_sock_opts so;
    struct net_sock tx2;
    net_sock_opts_init(&so, AF_INET);
    so.mcast_if = LO;
    net_addr_parse(&so.bind, "127.0.0.1", 0);
    CU_ASSERT_EQUAL_FATAL(net_sock_open(&tx2, &so), 0);
    struct net_tx t2;
    net_tx_init(&t2, &tx2);
    struct net_dgram sd = {&sg, "ssm", 3, NULL, 0};
    CU_ASSERT_EQUAL(net_tx_send(&t2, &sd, 1), 1);
    CU_ASSERT_EQUAL(wait_count(&r[0], 1000), 1);
    CU_ASSERT_EQUAL(wait_count(&r[2], 200), 0);

    net_mcast_free(&m[0]);
    net_mcast_free(&m[1]);
    net_mcast_free(&m2);
    for (int i = 0; i < 3; i++)
        net_sock_close(&r[i]);
    net_sock_close(&tx);
    net_sock_close(&tx2);
}

static const struct cu_test mcast_tests[] = {
    {"join/leave bookkeeping, ASM and SSM", test_bookkeeping},
    {"join_all undoes a partial join", test_join_all_rollback},
    {"kernel membership limit gives -ENOBUFS", test_kernel_limit},
    {"IPv4 delivery on lo: shared port, own groups only, SSM", test_delivery_on_lo},
    {NULL, NULL},
};

int main(void)
{
    log_init("test_mcast", LL_ERR);
    static const struct cu_suite suites[] = {{"net/mcast", mcast_tests}};
    return cu_run(suites, 1);
}
