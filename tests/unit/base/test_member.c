#include <stddef.h>

#include "core/base/member.h"
#include "cu.h"

/* First join and last leave are reported, the rest counted; ASM and SSM
 * memberships of one group are distinct; a full table refuses quietly. */
static void test_refcount(void)
{
    struct member v[2], m;
    size_t n = 0;
    struct addr g, g2, src;
    addr_set_ip(&g, ADDR_V4, (const uint8_t[]){230, 4, 4, 1}, 0);
    addr_set_ip(&g2, ADDR_V4, (const uint8_t[]){230, 4, 4, 2}, 0);
    addr_set_ip(&src, ADDR_V4, (const uint8_t[]){10, 0, 0, 1}, 0);

    CU_ASSERT_EQUAL(member_ref(v, &n, 2, true, &g, NULL, &m), 1);
    CU_ASSERT(addr_equal_ip(&m.group, &g));
    CU_ASSERT(!addr_is_set(&m.source));
    CU_ASSERT_EQUAL(member_ref(v, &n, 2, true, &g, NULL, &m), 0);
    CU_ASSERT_EQUAL(n, 1);
    CU_ASSERT_EQUAL(member_ref(v, &n, 2, true, &g, &src, &m), 1); /* SSM: its own */
    CU_ASSERT(addr_equal_ip(&m.source, &src));
    CU_ASSERT_EQUAL(n, 2);
    CU_ASSERT_EQUAL(member_ref(v, &n, 2, true, &g2, NULL, &m), 0);  /* full */
    CU_ASSERT_EQUAL(member_ref(v, &n, 2, false, &g2, NULL, &m), 0); /* unknown */
    CU_ASSERT_EQUAL(member_ref(v, &n, 2, false, &g, NULL, &m), 0);
    CU_ASSERT_EQUAL(member_ref(v, &n, 2, false, &g, NULL, &m), -1);
    CU_ASSERT(addr_equal_ip(&m.group, &g));
    CU_ASSERT(!addr_is_set(&m.source));
    CU_ASSERT_EQUAL(n, 1);
    CU_ASSERT_EQUAL(member_ref(v, &n, 2, false, &g, &src, &m), -1);
    CU_ASSERT(addr_equal_ip(&m.source, &src));
    CU_ASSERT_EQUAL(n, 0);
}

static const struct cu_test member_tests[] = {{"reference counts", test_refcount}, {NULL, NULL}};

CU_MAIN({"base/member", member_tests})
