#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "core/net/addr.h"
#include "cu.h"

struct parse_case {
    const char *in;
    int rc;          /* expected return */
    int family;      /* expected family on success */
    const char *out; /* addr_format(..., ADDR_FMT_PORT) on success */
};

static const struct parse_case parse_cases[] = {
    {"1.2.3.4", 0, AF_INET, "1.2.3.4:1044"},
    {"230.4.4.1:5000", 0, AF_INET, "230.4.4.1:5000"},
    {"0.0.0.0:0", 0, AF_INET, "0.0.0.0:0"},
    {"255.255.255.255:65535", 0, AF_INET, "255.255.255.255:65535"},
    {"10.0.0.1:00080", 0, AF_INET, "10.0.0.1:80"},
    {"ff02::1", 0, AF_INET6, "[ff02::1]:1044"},
    {"[ff02::1]", 0, AF_INET6, "[ff02::1]:1044"},
    {"[ff15::1:2]:7", 0, AF_INET6, "[ff15::1:2]:7"},
    {"fe80::1%3", 0, AF_INET6, "[fe80::1%3]:1044"},
    {"[fe80::1%12]:9", 0, AF_INET6, "[fe80::1%12]:9"},
    {"::ffff:1.2.3.4", 0, AF_INET6, "[::ffff:1.2.3.4]:1044"},
    {"::", 0, AF_INET6, "[::]:1044"},
    {"[ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255%4294967295]:65535", 0, AF_INET6,
     "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff%4294967295]:65535"},
    /* Errors. */
    {"", -EINVAL, 0, NULL},
    {"1.2.3", -EINVAL, 0, NULL},
    {"1.2.3.4.5", -EINVAL, 0, NULL},
    {"1.2.3.256", -EINVAL, 0, NULL},
    {"01.2.3.4", -EINVAL, 0, NULL}, /* inet_pton rejects octal-looking parts */
    {" 1.2.3.4", -EINVAL, 0, NULL},
    {"1.2.3.4 ", -EINVAL, 0, NULL},
    {"1.2.3.4:", -EINVAL, 0, NULL},
    {"1.2.3.4:65536", -ERANGE, 0, NULL},
    {"1.2.3.4:99999999999999999999", -ERANGE, 0, NULL},
    {"1.2.3.4:12a", -EINVAL, 0, NULL},
    {"1.2.3.4:-1", -EINVAL, 0, NULL},
    {"host:1044", -EINVAL, 0, NULL},
    {"localhost", -EINVAL, 0, NULL},
    {"[1.2.3.4]:5", -EINVAL, 0, NULL},
    {"[ff02::1", -EINVAL, 0, NULL},
    {"[]:5", -EINVAL, 0, NULL},
    {"[ff02::1]x", -EINVAL, 0, NULL},
    {"[ff02::1]:", -EINVAL, 0, NULL},
    {"[ff02::1]:70000", -ERANGE, 0, NULL},
    {"fe80::1%eth0", -EINVAL, 0, NULL}, /* scope names need net_resolve_host() */
    {"fe80::1%", -EINVAL, 0, NULL},
    {"fe80::1%99999999999", -EINVAL, 0, NULL},
    {"ff02::1::2", -EINVAL, 0, NULL},
    {"gg::1", -EINVAL, 0, NULL},
};

static void test_parse_table(void)
{
    for (size_t i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
        const struct parse_case *c = &parse_cases[i];
        struct addr a;
        char out[ADDR_STRLEN];
        int rc = net_addr_parse(&a, c->in, 1044);

        CU_ASSERT_EQUAL(rc, c->rc);
        if (rc != c->rc)
            fprintf(stderr, "  case '%s': got %d want %d\n", c->in, rc, c->rc);
        if (c->rc == 0) {
            CU_ASSERT_EQUAL(net_addr_af(&a), c->family);
            CU_ASSERT(addr_format(&a, out, sizeof(out), ADDR_FMT_PORT) > 0);
            CU_ASSERT_STRING_EQUAL(out, c->out);
        } else {
            CU_ASSERT_FALSE(addr_is_set(&a));
        }
    }
    CU_ASSERT_EQUAL(net_addr_parse(&(struct addr){0}, NULL, 0), -EINVAL);
    /* Over-long input is refused, not truncated. */
    char longs[300];
    memset(longs, '1', sizeof(longs) - 1);
    longs[sizeof(longs) - 1] = '\0';
    CU_ASSERT_EQUAL(net_addr_parse(&(struct addr){0}, longs, 0), -EINVAL);
}

static void test_sockaddr(void)
{
    struct addr a, b;
    char buf[ADDR_STRLEN];
    struct sockaddr_storage ss;

    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(9)};
    sin.sin_addr.s_addr = htonl(0x7f000001);
    CU_ASSERT_EQUAL(net_addr_from_sockaddr(&a, (struct sockaddr *)&sin, sizeof(sin)), 0);
    CU_ASSERT_STRING_EQUAL(addr_str(&a, buf), "127.0.0.1:9");
    CU_ASSERT_EQUAL(net_addr_af(&a), AF_INET);
    CU_ASSERT_EQUAL(net_addr_to_sockaddr(&a, &ss), sizeof(sin));
    CU_ASSERT_EQUAL(memcmp(&ss, &sin, sizeof(sin)), 0);
    CU_ASSERT_EQUAL(net_addr_from_sockaddr(&a, (struct sockaddr *)&sin, sizeof(sin) - 1), -EINVAL);
    CU_ASSERT_FALSE(addr_is_set(&a));
    sin.sin_family = AF_UNIX;
    CU_ASSERT_EQUAL(net_addr_from_sockaddr(&a, (struct sockaddr *)&sin, sizeof(sin)),
                    -EAFNOSUPPORT);

    /* IPv6 with a scope id, both ways. */
    CU_ASSERT_EQUAL(net_addr_parse(&a, "[fe80::1%3]:1044", 0), 0);
    CU_ASSERT_EQUAL(net_addr_af(&a), AF_INET6);
    CU_ASSERT_EQUAL(net_addr_to_sockaddr(&a, &ss), sizeof(struct sockaddr_in6));
    struct sockaddr_in6 sin6;
    memcpy(&sin6, &ss, sizeof(sin6));
    CU_ASSERT_EQUAL(sin6.sin6_family, AF_INET6);
    CU_ASSERT_EQUAL(ntohs(sin6.sin6_port), 1044);
    CU_ASSERT_EQUAL(sin6.sin6_scope_id, 3);
    CU_ASSERT_EQUAL(net_addr_from_sockaddr(&b, (struct sockaddr *)&ss, sizeof(sin6)), 0);
    CU_ASSERT_TRUE(addr_equal(&a, &b));
    CU_ASSERT_EQUAL(addr_scope(&b), 3);

    /* Unset: length 0, AF_UNSPEC. */
    addr_clear(&a);
    CU_ASSERT_EQUAL(net_addr_to_sockaddr(&a, &ss), 0);
    CU_ASSERT_EQUAL(ss.ss_family, AF_UNSPEC);
    CU_ASSERT_EQUAL(net_addr_af(&a), AF_UNSPEC);
    CU_ASSERT_EQUAL(net_family(AF_INET), ADDR_V4);
    CU_ASSERT_EQUAL(net_family(AF_INET6), ADDR_V6);
    CU_ASSERT_EQUAL(net_family(AF_UNIX), ADDR_NONE);
}

static void test_template_fixed(void)
{
    static const uint16_t vals[] = {0x1ff, 7, 0xabcd, 0};
    struct addr a;
    char buf[ADDR_STRLEN];

    CU_ASSERT_EQUAL(net_addr_template_with(&a, "230.5.5.x", 1044, vals, 4), 0);
    CU_ASSERT_STRING_EQUAL(addr_str(&a, buf), "230.5.5.255:1044"); /* masked to 0..255 */
    CU_ASSERT_EQUAL(net_addr_template_with(&a, "232.x.5.x", 1, vals, 4), 0);
    CU_ASSERT_STRING_EQUAL(addr_str(&a, buf), "232.255.5.7:1");
    CU_ASSERT_EQUAL(net_addr_template_with(&a, "ff3e::x", 0, vals + 2, 2), 0);
    CU_ASSERT_STRING_EQUAL(addr_str(&a, buf), "[ff3e::abcd]:0");
    CU_ASSERT_EQUAL(net_addr_template_with(&a, "ff15:x::x:1", 0, vals, 4), 0);
    CU_ASSERT_STRING_EQUAL(addr_str(&a, buf), "[ff15:1ff::7:1]:0");
    /* No 'x' at all: the address itself. */
    CU_ASSERT_EQUAL(net_addr_template_with(&a, "230.5.5.1", 0, NULL, 0), 0);
    CU_ASSERT_STRING_EQUAL(addr_str(&a, buf), "230.5.5.1:0");

    /* Refusals. */
    CU_ASSERT_EQUAL(net_addr_template_with(&a, "x.5.5.1", 0, vals, 4), -EINVAL);
    CU_ASSERT_EQUAL(net_addr_template_with(&a, "230.5.5.1x", 0, vals, 4), -EINVAL);
    CU_ASSERT_EQUAL(net_addr_template_with(&a, "230.5.5.X", 0, vals, 4), -EINVAL);
    CU_ASSERT_EQUAL(net_addr_template_with(&a, "230.5.x.x", 0, vals, 1), -EINVAL);
    CU_ASSERT_EQUAL(net_addr_template_with(&a, "230.5.5", 0, vals, 4), -EINVAL);
    CU_ASSERT_EQUAL(net_addr_template_with(&a, "230.5.5.x:1044", 0, vals, 4), -EINVAL);
    CU_ASSERT_EQUAL(net_addr_template_with(&a, "ff15::1x", 0, vals, 4), -EINVAL);
    CU_ASSERT_EQUAL(net_addr_template_with(&a, "", 0, vals, 4), -EINVAL);
    CU_ASSERT_EQUAL(net_addr_template_with(&a, NULL, 0, vals, 4), -EINVAL);
    CU_ASSERT_FALSE(addr_is_set(&a));
    /* Many parts expand beyond the input length without overflowing. */
    uint16_t many[40];
    for (size_t i = 0; i < 40; i++)
        many[i] = 0xffff;
    CU_ASSERT_EQUAL(net_addr_template_with(&a, "ff15:x:x:x:x:x:x:x", 0, many, 40), 0);
    CU_ASSERT_STRING_EQUAL(addr_str(&a, buf), "[ff15:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:0");
    CU_ASSERT_EQUAL(
        net_addr_template_with(&a, "1.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x", 0, many, 40),
        -EINVAL);
}

static void test_template_random(void)
{
    /* 64 draws of 230.5.5.x: always in range, and not all the same. */
    unsigned seen[256] = {0};
    size_t distinct = 0;
    for (int i = 0; i < 64; i++) {
        struct addr a;
        uint8_t ip[16];
        CU_ASSERT_EQUAL_FATAL(net_addr_template(&a, NET_DEF_PRIVATE_MCAST, 1044), 0);
        CU_ASSERT_EQUAL(addr_get_ip(&a, ip), 4);
        CU_ASSERT_EQUAL(ip[0], 230);
        CU_ASSERT_EQUAL(ip[1], 5);
        CU_ASSERT_EQUAL(ip[2], 5);
        CU_ASSERT_EQUAL(addr_port(&a), 1044);
        CU_ASSERT_TRUE(addr_is_multicast(&a));
        if (seen[ip[3]]++ == 0)
            distinct++;
    }
    CU_ASSERT(distinct > 16);
    struct addr b;
    CU_ASSERT_EQUAL(net_addr_template(&b, "ff3e::x:x", 0), 0);
    CU_ASSERT_TRUE(addr_is_ssm(&b));
    CU_ASSERT_EQUAL(net_addr_template(&b, "x.1.1.1", 0), -EINVAL);
}

static const struct cu_test addr_tests[] = {
    {"parse: accepted and refused forms", test_parse_table},
    {"sockaddr import and export", test_sockaddr},
    {"private template with fixed values", test_template_fixed},
    {"private template with getrandom", test_template_random},
    {NULL, NULL},
};

CU_MAIN({"net/addr", addr_tests})
