#include <errno.h>
#include <net/if.h>

#include "core/net/resolve.h"
#include "cu.h"

static void test_numeric(void)
{
    struct addr a;
    char buf[ADDR_STRLEN];

    CU_ASSERT_EQUAL(net_resolve_host(&a, "10.0.0.1", 1044, AF_UNSPEC), 0);
    CU_ASSERT_STRING_EQUAL(addr_str(&a, buf), "10.0.0.1:1044");
    CU_ASSERT_EQUAL(net_resolve_host(&a, "[ff15::1]:9", 1044, AF_INET6), 0);
    CU_ASSERT_STRING_EQUAL(addr_str(&a, buf), "[ff15::1]:9");
    CU_ASSERT_EQUAL(net_resolve_host(&a, "10.0.0.1", 0, AF_INET6), -EAFNOSUPPORT);
    CU_ASSERT_FALSE(addr_is_set(&a));
    CU_ASSERT_EQUAL(net_resolve_host(&a, "10.0.0.1:70000", 0, AF_UNSPEC), -ERANGE);
    CU_ASSERT_EQUAL(net_resolve_host(&a, "10.0.0.1", 0, AF_UNIX), -EINVAL);
    CU_ASSERT_EQUAL(net_resolve_host(&a, "", 0, AF_UNSPEC), -EINVAL);
    CU_ASSERT_EQUAL(net_resolve_host(&a, "[::1", 0, AF_UNSPEC), -EINVAL);
    CU_ASSERT_EQUAL(net_resolve_host(&a, "[::1]junk", 0, AF_UNSPEC), -EINVAL);
}

static void test_names(void)
{
    struct addr a;
    char buf[ADDR_STRLEN];

    /* /etc/hosts, no DNS needed. */
    CU_ASSERT_EQUAL(net_resolve_host(&a, "localhost:99", 1044, AF_INET), 0);
    CU_ASSERT_STRING_EQUAL(addr_str(&a, buf), "127.0.0.1:99");
    CU_ASSERT_EQUAL(net_resolve_host(&a, "localhost", 1044, AF_INET), 0);
    CU_ASSERT_EQUAL(addr_port(&a), 1044);
    CU_ASSERT_EQUAL(net_resolve_host(&a, "localhost:x", 1044, AF_INET), -EINVAL);
    /* A scope by name (the loopback interface always exists). */
    CU_ASSERT_EQUAL(net_resolve_host(&a, "[fe80::1%lo]:5", 0, AF_INET6), 0);
    CU_ASSERT_EQUAL(addr_scope(&a), if_nametoindex("lo"));
    CU_ASSERT_EQUAL(addr_port(&a), 5);
    /* .invalid never resolves (RFC 6761); a resolver outage is -EAGAIN. */
    int rc = net_resolve_host(&a, "no-such-host.invalid", 0, AF_UNSPEC);
    CU_ASSERT(rc == -ENOENT || rc == -EAGAIN);
    CU_ASSERT_FALSE(addr_is_set(&a));
}

static const struct cu_test resolve_tests[] = {
    {"numeric forms need no lookup", test_numeric},
    {"host names and scope names", test_names},
    {NULL, NULL},
};

CU_MAIN({"net/resolve", resolve_tests})
