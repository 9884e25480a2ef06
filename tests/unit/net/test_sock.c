#include <errno.h>
#include <fcntl.h>
#include <netinet/udp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "core/net/sock.h"
#include "cu.h"

static int getint(int fd, int level, int name)
{
    int v = -12345;
    socklen_t l = sizeof(v);
    if (getsockopt(fd, level, name, &v, &l) < 0)
        return -errno;
    if (l == 1)
        return *(unsigned char *)&v; /* IP_MULTICAST_TTL/LOOP may answer in a byte */
    return v;
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

static void test_tos(void)
{
    CU_ASSERT_EQUAL(net_tos(0, false), 0);
    CU_ASSERT_EQUAL(net_tos(0, true), 0x02);
    CU_ASSERT_EQUAL(net_tos(46, false), 0xb8); /* EF */
    CU_ASSERT_EQUAL(net_tos(46, true), 0xba);
    CU_ASSERT_EQUAL(net_tos(63, false), 0xfc);
}

static void test_family_for(void)
{
    struct addr a[3];
    net_addr_parse(&a[0], "230.4.4.1", 0);
    net_addr_parse(&a[1], "::ffff:230.4.4.2", 0);
    addr_clear(&a[2]);
    CU_ASSERT_EQUAL(net_sock_family_for(a, 0), AF_INET);
    CU_ASSERT_EQUAL(net_sock_family_for(a, 3), AF_INET);
    net_addr_parse(&a[2], "ff15::1", 0);
    CU_ASSERT_EQUAL(net_sock_family_for(a, 3), AF_INET6);
    CU_ASSERT_EQUAL(net_sock_family_for(a + 2, 1), AF_INET6);
}

static void test_v4_options(void)
{
    struct net_sock_opts o;
    struct net_sock s;

    net_sock_opts_init(&o, AF_INET);
    o.ttl = 7;
    o.tos = net_tos(10, true);
    o.mcast_if = 1; /* lo */
    CU_ASSERT_EQUAL_FATAL(net_sock_open(&s, &o), 0);
    CU_ASSERT(s.fd >= 0);
    CU_ASSERT(s.port != 0); /* ephemeral port chosen by the kernel */
    CU_ASSERT_EQUAL(s.family, AF_INET);
    CU_ASSERT(fcntl(s.fd, F_GETFL) & O_NONBLOCK);
    CU_ASSERT(fcntl(s.fd, F_GETFD) & FD_CLOEXEC);
    CU_ASSERT_EQUAL(getint(s.fd, IPPROTO_IP, IP_MTU_DISCOVER), IP_PMTUDISC_DONT);
    CU_ASSERT_EQUAL(getint(s.fd, IPPROTO_IP, IP_MULTICAST_TTL), 7);
    CU_ASSERT_EQUAL(getint(s.fd, IPPROTO_IP, IP_MULTICAST_LOOP), 1);
    CU_ASSERT_EQUAL(getint(s.fd, IPPROTO_IP, IP_MULTICAST_ALL), 0);
    CU_ASSERT_EQUAL(getint(s.fd, IPPROTO_IP, IP_TOS), 0x2a);
    CU_ASSERT_EQUAL(getint(s.fd, IPPROTO_IP, IP_PKTINFO), 1);
    CU_ASSERT_EQUAL(getint(s.fd, IPPROTO_IP, IP_RECVTOS), 1);
    CU_ASSERT_EQUAL(getint(s.fd, IPPROTO_IP, IP_RECVERR), 1);
    CU_ASSERT_EQUAL(getint(s.fd, SOL_SOCKET, SO_REUSEADDR), 0);
    CU_ASSERT_TRUE(s.recverr);
    CU_ASSERT_FALSE(s.gro);

    CU_ASSERT_EQUAL(net_sock_set_ttl(&s, 0), -EINVAL);
    CU_ASSERT_EQUAL(net_sock_set_ttl(&s, 256), -EINVAL);
    CU_ASSERT_EQUAL(net_sock_set_ttl(&s, 255), 0);
    CU_ASSERT_EQUAL(getint(s.fd, IPPROTO_IP, IP_MULTICAST_TTL), 255);
    CU_ASSERT_EQUAL(net_sock_set_mcast_loop(&s, false), 0);
    CU_ASSERT_EQUAL(getint(s.fd, IPPROTO_IP, IP_MULTICAST_LOOP), 0);
    CU_ASSERT_EQUAL(net_sock_set_gro(&s, true), 0);
    CU_ASSERT_TRUE(s.gro);
    CU_ASSERT_EQUAL(getint(s.fd, SOL_UDP, UDP_GRO), 1);

    struct addr l;
    char buf[ADDR_STRLEN];
    CU_ASSERT_EQUAL(net_sock_local(&s, &l), 0);
    CU_ASSERT_EQUAL(addr_port(&l), s.port);
    CU_ASSERT_TRUE(addr_is_unspecified(&l));
    (void)buf;
    net_sock_close(&s);
    CU_ASSERT_EQUAL(s.fd, -1);
    net_sock_close(&s); /* twice is fine */
}

static void test_v6_dual(void)
{
    struct net_sock_opts o;
    struct net_sock s;

    net_sock_opts_init(&o, AF_INET6);
    o.ttl = 3;
    o.tos = 0xb8;
    CU_ASSERT_EQUAL_FATAL(net_sock_open(&s, &o), 0);
    CU_ASSERT_FALSE(s.v6only);
    CU_ASSERT_EQUAL(getint(s.fd, IPPROTO_IPV6, IPV6_V6ONLY), 0);
    CU_ASSERT_EQUAL(getint(s.fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER), IP_PMTUDISC_DONT);
    CU_ASSERT_EQUAL(getint(s.fd, IPPROTO_IPV6, IPV6_DONTFRAG), 0);
    CU_ASSERT_EQUAL(getint(s.fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS), 3);
    CU_ASSERT_EQUAL(getint(s.fd, IPPROTO_IPV6, IPV6_TCLASS), 0xb8);
    CU_ASSERT_EQUAL(getint(s.fd, IPPROTO_IPV6, IPV6_RECVPKTINFO), 1);
    CU_ASSERT_EQUAL(getint(s.fd, IPPROTO_IPV6, IPV6_RECVTCLASS), 1);
    CU_ASSERT_EQUAL(getint(s.fd, IPPROTO_IPV6, IPV6_MULTICAST_ALL), 0);
    /* The IPv4 side of the dual-stack socket is configured too. */
    CU_ASSERT_EQUAL(getint(s.fd, IPPROTO_IP, IP_TOS), 0xb8);
    CU_ASSERT_EQUAL(getint(s.fd, IPPROTO_IP, IP_MULTICAST_TTL), 3);
    CU_ASSERT_EQUAL(getint(s.fd, IPPROTO_IP, IP_MULTICAST_ALL), 0);
    CU_ASSERT_EQUAL(getint(s.fd, IPPROTO_IP, IP_MTU_DISCOVER), IP_PMTUDISC_DONT);
    net_sock_close(&s);

    /* v6only: an IPv4 bind address is refused. */
    net_sock_opts_init(&o, AF_INET6);
    o.v6only = true;
    net_addr_parse(&o.bind, "127.0.0.1", 0);
    CU_ASSERT_EQUAL(net_sock_open(&s, &o), -EINVAL);
    CU_ASSERT_EQUAL(s.fd, -1);
    /* Dual-stack: an IPv4 bind address is mapped. */
    o.v6only = false;
    CU_ASSERT_EQUAL_FATAL(net_sock_open(&s, &o), 0);
    struct addr l, want;
    net_addr_parse(&want, "[::ffff:127.0.0.1]:0", 0);
    addr_set_port(&want, s.port);
    CU_ASSERT_EQUAL(net_sock_local(&s, &l), 0);
    CU_ASSERT_TRUE(addr_equal(&l, &want));
    CU_ASSERT_EQUAL(net_addr_af(&l), AF_INET6);
    net_sock_close(&s);
    /* An IPv4 socket refuses an IPv6 bind address. */
    net_sock_opts_init(&o, AF_INET);
    net_addr_parse(&o.bind, "::1", 0);
    CU_ASSERT_EQUAL(net_sock_open(&s, &o), -EINVAL);
    o.family = AF_UNIX;
    CU_ASSERT_EQUAL(net_sock_open(&s, &o), -EINVAL);
}

static void test_reuse(void)
{
    struct net_sock_opts o;
    struct net_sock a, b, c;

    net_sock_opts_init(&o, AF_INET);
    o.reuse = true;
    CU_ASSERT_EQUAL_FATAL(net_sock_open(&a, &o), 0);
    o.port = a.port;
    CU_ASSERT_EQUAL(net_sock_open(&b, &o), 0); /* several receivers on one port */
    CU_ASSERT_EQUAL(getint(b.fd, SOL_SOCKET, SO_REUSEADDR), 1);
    o.reuse = false;
    CU_ASSERT_EQUAL(net_sock_open(&c, &o), -EADDRINUSE);
    net_sock_close(&a);
    net_sock_close(&b);
}

static void test_buffers(void)
{
    struct net_sock_opts o;
    struct net_sock s;
    long rmax = read_sysctl("/proc/sys/net/core/rmem_max");
    long wmax = read_sysctl("/proc/sys/net/core/wmem_max");

    net_sock_opts_init(&o, AF_INET);
    o.rcvbuf = NET_BUF_DEFAULT;
    o.sndbuf = NET_BUF_MIN;
    CU_ASSERT_EQUAL_FATAL(net_sock_open(&s, &o), 0);
    CU_ASSERT_EQUAL(s.rcvbuf, NET_BUF_DEFAULT);
    CU_ASSERT_EQUAL(s.sndbuf, NET_BUF_MIN);
    CU_ASSERT_EQUAL(net_sock_set_buffers(&s, -1, 0), -EINVAL);
    CU_ASSERT_EQUAL(net_sock_set_buffers(&s, 0, NET_BUF_MAX + 1), -EINVAL);

    /* 100 MiB: above rmem_max here; with CAP_NET_ADMIN the FORCE option gets it. */
    CU_ASSERT_EQUAL(net_sock_set_buffers(&s, NET_BUF_MAX, NET_BUF_MAX), 0);
    if (geteuid() == 0) {
        CU_ASSERT_EQUAL(s.rcvbuf, NET_BUF_MAX);
        CU_ASSERT_EQUAL(s.sndbuf, NET_BUF_MAX);
    } else {
        /* Clamped (and warned about), not failed. */
        CU_ASSERT(rmax < 0 || s.rcvbuf == rmax || rmax >= NET_BUF_MAX);
        CU_ASSERT(wmax < 0 || s.sndbuf == wmax || wmax >= NET_BUF_MAX);
    }
    net_sock_close(&s);
}

static const struct cu_test sock_tests[] = {
    {"TOS byte from DSCP and ECT", test_tos},
    {"socket family for an address set", test_family_for},
    {"IPv4 socket options as set", test_v4_options},
    {"IPv6 dual-stack options, bind families", test_v6_dual},
    {"SO_REUSEADDR shares a port", test_reuse},
    {"buffer sizes, clamping and FORCE", test_buffers},
    {NULL, NULL},
};

int main(void)
{
    log_init("test_sock", LL_WARN);
    static const struct cu_suite suites[] = {{"net/sock", sock_tests}};
    return cu_run(suites, 1);
}
