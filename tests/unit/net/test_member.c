#include <stddef.h>

#include "core/net/addr.h"
#include "core/net/member.h"
#include "cu.h"

/* First join and last leave are reported, the rest counted; ASM and SSM
 * memberships of one group are distinct; a full table refuses quietly. */
static void test_refcount(void)
{
    struct net_member v[2], m;
    size_t n = 0;
    struct addr g, g2, src;
    CU_ASSERT_FATAL(net_addr_parse(&g, "230.4.4.1", 0) == 0);
    CU_ASSERT_FATAL(net_addr_parse(&g2, "230.4.4.2", 0) == 0);
    CU_ASSERT_FATAL(net_addr_parse(&src, "10.0.0.1", 0) == 0);

    CU_ASSERT_EQUAL(net_member_ref(v, &n, 2, true, &g, NULL, &m), 1);
    CU_ASSERT(addr_equal_ip(&m.group, &g));
    CU_ASSERT(!addr_is_set(&m.source));
    CU_ASSERT_EQUAL(net_member_ref(v, &n, 2, true, &g, NULL, &m), 0);
    CU_ASSERT_EQUAL(n, 1);
    CU_ASSERT_EQUAL(net_member_ref(v, &n, 2, true, &g, &src, &m), 1); /* SSM: its own */
    CU_ASSERT(addr_equal_ip(&m.source, &src));
    CU_ASSERT_EQUAL(n, 2);
    CU_ASSERT_EQUAL(net_member_ref(v, &n, 2, true, &g2, NULL, &m), 0);  /* full */
    CU_ASSERT_EQUAL(net_member_ref(v, &n, 2, false, &g2, NULL, &m), 0); /* unknown */
    CU_ASSERT_EQUAL(net_member_ref(v, &n, 2, false, &g, NULL, &m), 0);
    CU_ASSERT_EQUAL(net_member_ref(v, &n, 2, false, &g, NULL, &m), -1);
    CU_ASSERT(addr_equal_ip(&m.group, &g));
    CU_ASSERT(!addr_is_set(&m.source));
    CU_ASSERT_EQUAL(n, 1);
    CU_ASSERT_EQUAL(net_member_ref(v, &n, 2, false, &g, &src, &m), -1);
    CU_ASSERT(addr_equal_ip(&m.source, &src));
    CU_ASSERT_EQUAL(n, 0);
}

static const struct cu_test member_tests[] = {{"reference counts", test_refcount}, {NULL, NULL}};

CU_MAIN({"net/member", member_tests})
