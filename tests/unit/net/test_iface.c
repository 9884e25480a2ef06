#include <errno.h>
#include <string.h>

#include "core/net/iface.h"
#include "cu.h"

static struct net_iface E(const char *name, unsigned idx, unsigned flags, const char *addr) {
    struct net_iface e;
    memset(&e, 0, sizeof(e));
    memcpy(e.name, name, strlen(name) + 1);
    e.index = idx;
    e.flags = flags;
    if (addr != NULL && net_addr_parse(&e.addr, addr, 0) != 0)
        CU_FAIL("bad test address");
    return e;
}

#define UPMC (NET_IF_UP | NET_IF_RUNNING | NET_IF_MULTICAST)

/* Built like getifaddrs() orders it: IPv4 entries, then IPv6 ones. */
static struct net_iface fake[8];
static struct net_iflist fake_list(void)
{
    fake[0] = E("lo", 1, NET_IF_UP | NET_IF_LOOPBACK, "127.0.0.1");
    fake[1] = E("eth1", 3, UPMC, "192.168.7.9");
    fake[2] = E("eth0", 2, NET_IF_MULTICAST, "10.9.9.9"); /* down */
    fake[3] = E("lo", 1, NET_IF_UP | NET_IF_LOOPBACK, "::1");
    fake[4] = E("eth0", 2, NET_IF_MULTICAST, "fe80::1%2");
    fake[5] = E("eth1", 3, UPMC, "2001:db8::c0a8:709");
    fake[6] = E("eth2", 4, UPMC, "2001:db8::1:0102:0304");
    fake[7] = E("tun0", 5, NET_IF_UP, NULL); /* no address, no multicast */
    return (struct net_iflist){fake, 8};
}

static void test_lookup(void)
{
    struct net_iflist l = fake_list();
    struct addr a;

    CU_ASSERT_PTR_EQUAL(net_iflist_by_name(&l, "eth1", AF_UNSPEC), &fake[1]);
    CU_ASSERT_PTR_EQUAL(net_iflist_by_name(&l, "eth1", AF_INET6), &fake[5]);
    CU_ASSERT_PTR_EQUAL(net_iflist_by_name(&l, "eth2", AF_UNSPEC), &fake[6]);
    CU_ASSERT_PTR_NULL(net_iflist_by_name(&l, "eth2", AF_INET));
    CU_ASSERT_PTR_EQUAL(net_iflist_by_name(&l, "tun0", AF_UNSPEC), &fake[7]);
    CU_ASSERT_PTR_NULL(net_iflist_by_name(&l, "eth9", AF_UNSPEC));
    net_addr_parse(&a, "[2001:db8::c0a8:709]:77", 0); /* port ignored */
    CU_ASSERT_PTR_EQUAL(net_iflist_by_addr(&l, &a), &fake[5]);
    net_addr_parse(&a, "::ffff:192.168.7.9", 0); /* mapped matches IPv4 */
    CU_ASSERT_PTR_EQUAL(net_iflist_by_addr(&l, &a), &fake[1]);
    net_addr_parse(&a, "fe80::1", 0); /* scope ignored */
    CU_ASSERT_PTR_EQUAL(net_iflist_by_addr(&l, &a), &fake[4]);
    net_addr_parse(&a, "10.0.0.99", 0);
    CU_ASSERT_PTR_NULL(net_iflist_by_addr(&l, &a));
}

static void test_resolve_spec(void)
{
    struct net_iflist l = fake_list();
    const struct net_iface *e;

    CU_ASSERT_EQUAL(net_iface_resolve(&l, "eth1", AF_UNSPEC, &e), 0);
    CU_ASSERT_PTR_EQUAL(e, &fake[1]);
    CU_ASSERT_EQUAL(net_iface_resolve(&l, "192.168.7.9", AF_UNSPEC, &e), 0);
    CU_ASSERT_PTR_EQUAL(e, &fake[1]);
    CU_ASSERT_EQUAL(net_iface_resolve(&l, "2001:db8::1:102:304", AF_INET6, &e), 0);
    CU_ASSERT_PTR_EQUAL(e, &fake[6]);
    CU_ASSERT_EQUAL(net_iface_resolve(&l, "2001:db8::1:102:304", AF_INET, &e), -ENODEV);
    CU_ASSERT_EQUAL(net_iface_resolve(&l, "eth2", AF_INET, &e), -ENODEV);
    CU_ASSERT_PTR_NULL(e);
    CU_ASSERT_EQUAL(net_iface_resolve(&l, "10.1.1.1", AF_UNSPEC, &e), -ENODEV);
    CU_ASSERT_EQUAL(net_iface_resolve(&l, "", AF_UNSPEC, &e), -EINVAL);
    /* "localhost" resolves (via /etc/hosts) to 127.0.0.1, which is lo. */
    CU_ASSERT_EQUAL(net_iface_resolve(&l, "localhost", AF_INET, &e), 0);
    CU_ASSERT_PTR_EQUAL(e, &fake[0]);
    int rc = net_iface_resolve(&l, "no-such-host.invalid", AF_UNSPEC, &e);
    CU_ASSERT(rc == -ENOENT || rc == -EAGAIN);
}

static void test_defaults(void)
{
    struct net_iflist l = fake_list();
    unsigned idx[8];

    /* Up, multicast, not loopback; each ifindex once. */
    CU_ASSERT_EQUAL(net_iflist_default_ifindexes(&l, idx, 8), 2);
    CU_ASSERT_EQUAL(idx[0], 3);
    CU_ASSERT_EQUAL(idx[1], 4);
    CU_ASSERT_EQUAL(net_iflist_default_ifindexes(&l, idx, 1), 2); /* count beyond cap */
    CU_ASSERT_PTR_EQUAL(net_iflist_first(&l, AF_INET), &fake[1]);
    CU_ASSERT_PTR_EQUAL(net_iflist_first(&l, AF_INET6), &fake[5]);
    CU_ASSERT_PTR_EQUAL(net_iflist_first(&l, AF_UNSPEC), &fake[1]);
    /* spec §0 IDs: the first IPv4 address of an up non-loopback interface. */
    CU_ASSERT_EQUAL(net_iflist_default_id(&l), 0xc0a80709u);
    CU_ASSERT_EQUAL(net_iflist_id_of(&l, 4), 0x01020304u); /* last 4 bytes of IPv6 */
    CU_ASSERT_EQUAL(net_iflist_id_of(&l, 3), 0xc0a80709u);
    CU_ASSERT_EQUAL(net_iflist_id_of(&l, 5), 0);

    /* Without IPv4: the last 4 bytes of the first IPv6 address. */
    fake[1].flags = fake[5].flags = 0; /* eth1 down */
    CU_ASSERT_EQUAL(net_iflist_default_id(&l), 0x01020304u);
    /* Only loopback left: the sender falls back to it, the ID does not. */
    fake[6].flags = 0;
    CU_ASSERT_EQUAL(net_iflist_default_id(&l), 0);
    CU_ASSERT_PTR_EQUAL(net_iflist_first(&l, AF_INET), &fake[0]);
    CU_ASSERT_EQUAL(net_iflist_default_ifindexes(&l, idx, 8), 0);
    /* An address giving ID 0 or 0xFFFFFFFF is skipped (spec §5, 4.9.8). */
    fake[1] = E("eth1", 3, UPMC, "0.0.0.0");
    fake[6] = E("eth2", 4, UPMC, "2001:db8::ffff:ffff");
    CU_ASSERT_EQUAL(net_iflist_default_id(&l), 0);
}

static void test_real(void)
{
    struct net_iflist l;
    const struct net_iface *lo, *e;
    struct addr a;

    CU_ASSERT_EQUAL_FATAL(net_iflist_load(&l), 0);
    CU_ASSERT(l.n >= 1);
    lo = net_iflist_by_name(&l, "lo", AF_INET);
    CU_ASSERT_PTR_NOT_NULL_FATAL(lo);
    CU_ASSERT_EQUAL(lo->index, if_nametoindex("lo"));
    CU_ASSERT(lo->flags & NET_IF_LOOPBACK);
    CU_ASSERT(lo->flags & NET_IF_UP);
    net_addr_parse(&a, "127.0.0.1", 0);
    CU_ASSERT_TRUE(addr_equal(&lo->addr, &a));
    CU_ASSERT_EQUAL(net_iface_resolve(&l, "127.0.0.1", AF_UNSPEC, &e), 0);
    CU_ASSERT_PTR_EQUAL(e, lo);
    for (size_t i = 0; i < l.n; i++) {
        CU_ASSERT(l.v[i].index > 0);
        CU_ASSERT_EQUAL(addr_port(&l.v[i].addr), 0);
    }
    net_iflist_free(&l);
    CU_ASSERT_PTR_NULL(l.v);
    CU_ASSERT_EQUAL(l.n, 0);
}

static const struct cu_test iface_tests[] = {
    {"lookup by name, index, address", test_lookup},
    {"-I spec: name, address, host name", test_resolve_spec},
    {"default interfaces and ID (spec IDs)", test_defaults},
    {"enumerates this host (lo)", test_real},
    {NULL, NULL},
};

CU_MAIN({"net/iface", iface_tests})
