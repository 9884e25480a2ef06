#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "core/net/addr.h"
#include "cu.h"

struct parse_case {
    const char *in;
    int rc;          /* expected return */
    int family;      /* expected family on success */
    const char *out; /* net_addr_format(..., NET_FMT_PORT) on success */
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
        struct net_addr a;
        char out[NET_ADDR_STRLEN];
        int rc = net_addr_parse(&a, c->in, 1044);

        CU_ASSERT_EQUAL(rc, c->rc);
        if (rc != c->rc)
            fprintf(stderr, "  case '%s': got %d want %d\n", c->in, rc, c->rc);
        if (c->rc == 0) {
            CU_ASSERT_EQUAL(net_addr_family(&a), c->family);
            CU_ASSERT(net_addr_format(&a, out, sizeof(out), NET_FMT_PORT) > 0);
            CU_ASSERT_STRING_EQUAL(out, c->out);
        } else {
            CU_ASSERT_FALSE(net_addr_is_set(&a));
        }
    }
    CU_ASSERT_EQUAL(net_addr_parse(&(struct net_addr){0}, NULL, 0), -EINVAL);
    /* Over-long input is refused, not truncated. */
    char longs[300];
    memset(longs, '1', sizeof(longs) - 1);
    longs[sizeof(longs) - 1] = '\0';
    CU_ASSERT_EQUAL(net_addr_parse(&(struct net_addr){0}, longs, 0), -EINVAL);
}

static void test_port_parse(void)
{
    uint16_t p = 1;
    CU_ASSERT_EQUAL(net_addr_parse_port("0", &p), 0);
    CU_ASSERT_EQUAL(p, 0);
    CU_ASSERT_EQUAL(net_addr_parse_port("65535", &p), 0);
    CU_ASSERT_EQUAL(p, 65535);
    CU_ASSERT_EQUAL(net_addr_parse_port("65536", &p), -ERANGE);
    CU_ASSERT_EQUAL(net_addr_parse_port("", &p), -EINVAL);
    CU_ASSERT_EQUAL(net_addr_parse_port("1x", &p), -EINVAL);
    CU_ASSERT_EQUAL(net_addr_parse_port("999999x", &p), -EINVAL);
    CU_ASSERT_EQUAL(p, 65535);
}

static void test_format(void)
{
    struct net_addr a;
    char buf[NET_ADDR_STRLEN];

    CU_ASSERT_EQUAL(net_addr_parse(&a, "[fe80::abcd%7]:1044", 0), 0);
    CU_ASSERT_EQUAL(net_addr_format(&a, buf, sizeof(buf), 0), 12);
    CU_ASSERT_STRING_EQUAL(buf, "fe80::abcd%7");
    CU_ASSERT_EQUAL(net_addr_scope(&a), 7);
    /* Exactly enough room, then one byte short. */
    CU_ASSERT_EQUAL(net_addr_format(&a, buf, 13, 0), 12);
    CU_ASSERT_EQUAL(net_addr_format(&a, buf, 12, 0), -ENOSPC);
    CU_ASSERT_STRING_EQUAL(buf, "");
    net_addr_clear(&a);
    CU_ASSERT_EQUAL(net_addr_format(&a, buf, sizeof(buf), 0), -EAFNOSUPPORT);
    CU_ASSERT_STRING_EQUAL(net_addr_str(&a, buf), "(none)");
    /* The longest form fits NET_ADDR_STRLEN. */
    CU_ASSERT_EQUAL(
        net_addr_parse(&a, "[ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255%4294967295]:65535", 0),
        0);
    CU_ASSERT(net_addr_format(&a, buf, sizeof(buf), NET_FMT_PORT) > 0);
    CU_ASSERT_STRING_EQUAL(buf, "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff%4294967295]:65535");
}

static void test_raw_bytes(void)
{
    const uint8_t v4[4] = {230, 5, 5, 9};
    const uint8_t v6[16] = {0xff, 0x15, [15] = 1};
    uint8_t out[16];
    struct net_addr a;
    char buf[NET_ADDR_STRLEN];

    CU_ASSERT_EQUAL(net_addr_set_ip(&a, AF_INET, v4, 1044), 0);
    CU_ASSERT_STRING_EQUAL(net_addr_str(&a, buf), "230.5.5.9:1044");
    CU_ASSERT_EQUAL(net_addr_get_ip(&a, out), 4);
    CU_ASSERT_EQUAL(memcmp(out, v4, 4), 0);
    CU_ASSERT_EQUAL(net_addr_set_ip(&a, AF_INET6, v6, 2), 0);
    CU_ASSERT_STRING_EQUAL(net_addr_str(&a, buf), "[ff15::1]:2");
    CU_ASSERT_EQUAL(net_addr_get_ip(&a, out), 16);
    CU_ASSERT_EQUAL(memcmp(out, v6, 16), 0);
    CU_ASSERT_EQUAL(net_addr_set_ip(&a, AF_UNIX, v6, 2), -EAFNOSUPPORT);
    CU_ASSERT_EQUAL(net_addr_get_ip(&a, out), 0);

    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(9)};
    sin.sin_addr.s_addr = htonl(0x7f000001);
    CU_ASSERT_EQUAL(net_addr_from_sockaddr(&a, (struct sockaddr *)&sin, sizeof(sin)), 0);
    CU_ASSERT_STRING_EQUAL(net_addr_str(&a, buf), "127.0.0.1:9");
    CU_ASSERT_EQUAL(net_addr_from_sockaddr(&a, (struct sockaddr *)&sin, sizeof(sin) - 1), -EINVAL);
    sin.sin_family = AF_UNIX;
    CU_ASSERT_EQUAL(net_addr_from_sockaddr(&a, (struct sockaddr *)&sin, sizeof(sin)),
                    -EAFNOSUPPORT);
}

static void test_port(void)
{
    struct net_addr a;
    CU_ASSERT_EQUAL(net_addr_parse(&a, "[::1]:5", 0), 0);
    CU_ASSERT_EQUAL(net_addr_port(&a), 5);
    net_addr_set_port(&a, 65535);
    CU_ASSERT_EQUAL(net_addr_port(&a), 65535);
    net_addr_clear(&a);
    net_addr_set_port(&a, 3); /* no-op on unset */
    CU_ASSERT_EQUAL(net_addr_port(&a), 0);
    CU_ASSERT_EQUAL(net_addr_family(&a), AF_UNSPEC);
}

static struct net_addr A(const char *s) {
    struct net_addr a;
    if (net_addr_parse(&a, s, 0) != 0)
        CU_FAIL("parse in test");
    return a;
}

static void
test_compare(void)
{
    struct net_addr a = A("10.0.0.1:5"), b = A("10.0.0.1:6"), c = A("10.0.0.2:5");
    struct net_addr m = A("[::ffff:10.0.0.1]:5"), v6 = A("[::1]:1"), none;

    net_addr_clear(&none);
    CU_ASSERT(net_addr_cmp(&a, &b) < 0);
    CU_ASSERT(net_addr_cmp(&b, &a) > 0);
    CU_ASSERT(net_addr_cmp(&a, &c) < 0);
    CU_ASSERT(net_addr_cmp(&a, &a) == 0);
    CU_ASSERT(net_addr_cmp(&none, &a) < 0);
    CU_ASSERT(net_addr_cmp(&c, &v6) < 0); /* IPv4 sorts before IPv6 */
    CU_ASSERT(net_addr_cmp(&none, &none) == 0);
    CU_ASSERT_TRUE(net_addr_equal(&a, &m)); /* mapped == plain */
    CU_ASSERT_FALSE(net_addr_equal(&a, &b));
    CU_ASSERT_TRUE(net_addr_equal_ip(&a, &b));
    CU_ASSERT_FALSE(net_addr_equal_ip(&a, &c));
    struct net_addr s1 = A("[fe80::1%1]:5"), s2 = A("[fe80::1%2]:5");
    CU_ASSERT(net_addr_cmp(&s1, &s2) < 0);
}

static void test_classify(void)
{
    static const struct {
        const char *a;
        bool mc, ssm, lo, unspec, mapped;
    } t[] = {
        {"224.0.0.1", true, false, false, false, false},
        {"230.4.4.1", true, false, false, false, false},
        {"231.255.255.255", true, false, false, false, false},
        {"232.0.0.0", true, true, false, false, false},
        {"232.255.1.2", true, true, false, false, false},
        {"233.0.0.1", true, false, false, false, false},
        {"239.255.255.255", true, false, false, false, false},
        {"240.0.0.1", false, false, false, false, false},
        {"223.255.255.255", false, false, false, false, false},
        {"127.0.0.1", false, false, true, false, false},
        {"0.0.0.0", false, false, false, true, false},
        {"ff02::1", true, false, false, false, false},
        {"ff15::1", true, false, false, false, false},
        {"ff30::1", true, true, false, false, false},
        {"ff3e::8000:1", true, true, false, false, false},
        {"ff32::1", true, true, false, false, false},
        {"ff1e::1", true, false, false, false, false}, /* T only: not SSM */
        {"ff2e::1", true, false, false, false, false}, /* P only */
        {"ff7e::1", true, false, false, false, false}, /* embedded RP */
        {"fe80::1", false, false, false, false, false},
        {"::1", false, false, true, false, false},
        {"::", false, false, false, true, false},
        {"::ffff:232.1.1.1", true, true, false, false, true},
        {"::ffff:127.0.0.1", false, false, true, false, true},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        struct net_addr a = A(t[i].a);
        CU_ASSERT_EQUAL(net_addr_is_multicast(&a), t[i].mc);
        CU_ASSERT_EQUAL(net_addr_is_ssm(&a), t[i].ssm);
        CU_ASSERT_EQUAL(net_addr_is_loopback(&a), t[i].lo);
        CU_ASSERT_EQUAL(net_addr_is_unspecified(&a), t[i].unspec);
        CU_ASSERT_EQUAL(net_addr_is_v4mapped(&a), t[i].mapped);
        if (net_addr_is_ssm(&a) != t[i].ssm || net_addr_is_multicast(&a) != t[i].mc)
            fprintf(stderr, "  classify %s wrong\n", t[i].a);
    }
    struct net_addr none;
    net_addr_clear(&none);
    CU_ASSERT_FALSE(net_addr_is_multicast(&none));
    CU_ASSERT_FALSE(net_addr_is_ssm(&none));
}

static void test_mapping(void)
{
    struct net_addr a = A("[::ffff:10.1.2.3]:77");
    char buf[NET_ADDR_STRLEN];

    net_addr_unmap(&a);
    CU_ASSERT_EQUAL(net_addr_family(&a), AF_INET);
    CU_ASSERT_STRING_EQUAL(net_addr_str(&a, buf), "10.1.2.3:77");
    net_addr_map_v6(&a);
    CU_ASSERT_EQUAL(net_addr_family(&a), AF_INET6);
    CU_ASSERT_STRING_EQUAL(net_addr_str(&a, buf), "[::ffff:10.1.2.3]:77");
    /* Neither touches a real IPv6 address. */
    struct net_addr b = A("[2001:db8::1]:1");
    net_addr_unmap(&b);
    net_addr_map_v6(&b);
    CU_ASSERT_STRING_EQUAL(net_addr_str(&b, buf), "[2001:db8::1]:1");
}

static void test_id(void)
{
    struct net_addr a = A("10.1.2.3"), b = A("2001:db8::a:b0c:d0e"), none;
    CU_ASSERT_EQUAL(net_addr_id(&a), 0x0a010203u);
    CU_ASSERT_EQUAL(net_addr_id(&b), 0x0b0c0d0eu);
    net_addr_clear(&none);
    CU_ASSERT_EQUAL(net_addr_id(&none), 0);
}

static void test_template_fixed(void)
{
    static const uint16_t vals[] = {0x1ff, 7, 0xabcd, 0};
    struct net_addr a;
    char buf[NET_ADDR_STRLEN];

    CU_ASSERT_EQUAL(net_addr_template_with(&a, "230.5.5.x", 1044, vals, 4), 0);
    CU_ASSERT_STRING_EQUAL(net_addr_str(&a, buf), "230.5.5.255:1044"); /* masked to 0..255 */
    CU_ASSERT_EQUAL(net_addr_template_with(&a, "232.x.5.x", 1, vals, 4), 0);
    CU_ASSERT_STRING_EQUAL(net_addr_str(&a, buf), "232.255.5.7:1");
    CU_ASSERT_EQUAL(net_addr_template_with(&a, "ff3e::x", 0, vals + 2, 2), 0);
    CU_ASSERT_STRING_EQUAL(net_addr_str(&a, buf), "[ff3e::abcd]:0");
    CU_ASSERT_EQUAL(net_addr_template_with(&a, "ff15:x::x:1", 0, vals, 4), 0);
    CU_ASSERT_STRING_EQUAL(net_addr_str(&a, buf), "[ff15:1ff::7:1]:0");
    /* No 'x' at all: the address itself. */
    CU_ASSERT_EQUAL(net_addr_template_with(&a, "230.5.5.1", 0, NULL, 0), 0);
    CU_ASSERT_STRING_EQUAL(net_addr_str(&a, buf), "230.5.5.1:0");

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
    CU_ASSERT_FALSE(net_addr_is_set(&a));
    /* Many parts expand beyond the input length without overflowing. */
    uint16_t many[40];
    for (size_t i = 0; i < 40; i++)
        many[i] = 0xffff;
    CU_ASSERT_EQUAL(net_addr_template_with(&a, "ff15:x:x:x:x:x:x:x", 0, many, 40), 0);
    CU_ASSERT_STRING_EQUAL(net_addr_str(&a, buf), "[ff15:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:0");
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
        struct net_addr a;
        uint8_t ip[16];
        CU_ASSERT_EQUAL_FATAL(net_addr_template(&a, NET_DEF_PRIVATE_MCAST, 1044), 0);
        CU_ASSERT_EQUAL(net_addr_get_ip(&a, ip), 4);
        CU_ASSERT_EQUAL(ip[0], 230);
        CU_ASSERT_EQUAL(ip[1], 5);
        CU_ASSERT_EQUAL(ip[2], 5);
        CU_ASSERT_EQUAL(net_addr_port(&a), 1044);
        CU_ASSERT_TRUE(net_addr_is_multicast(&a));
        if (seen[ip[3]]++ == 0)
            distinct++;
    }
    CU_ASSERT(distinct > 16);
    struct net_addr b;
    CU_ASSERT_EQUAL(net_addr_template(&b, "ff3e::x:x", 0), 0);
    CU_ASSERT_TRUE(net_addr_is_ssm(&b));
    CU_ASSERT_EQUAL(net_addr_template(&b, "x.1.1.1", 0), -EINVAL);
}

static const struct cu_test addr_tests[] = {
    {"parse: accepted and refused forms", test_parse_table},
    {"port parser bounds", test_port_parse},
    {"format: scope, exact capacity, longest form", test_format},
    {"raw wire bytes and sockaddr import", test_raw_bytes},
    {"port get/set", test_port},
    {"compare and equality (mapped == plain)", test_compare},
    {"multicast / SSM / loopback classification", test_classify},
    {"IPv4-mapped conversion", test_mapping},
    {"ID from an address", test_id},
    {"private template with fixed values", test_template_fixed},
    {"private template with getrandom", test_template_random},
    {NULL, NULL},
};

CU_MAIN({"net/addr", addr_tests})
