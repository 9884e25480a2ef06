/*
 * core/base/addr: the value type and its pure helpers. Addresses are built
 * here with inet_pton and the hand-written formatter is checked against
 * inet_ntop (the test may use socket headers; the floor may not).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/base/addr.h"
#include "cu.h"

/* "1.2.3.4", "ff02::1", with an optional "%scope" and port. */
static struct addr A3(const char *s, uint16_t port, uint32_t scope) {
    struct addr a;
    uint8_t ip[16];

    if (inet_pton(AF_INET, s, ip) == 1) {
        addr_set_ip(&a, ADDR_V4, ip, port);
    } else if (inet_pton(AF_INET6, s, ip) == 1) {
        addr_set_ip(&a, ADDR_V6, ip, port);
        a.scope = scope;
    } else {
        CU_FAIL("inet_pton in test");
        addr_clear(&a);
    }
    return a;
}

static struct addr
A(const char *s) {
    return A3(s, 0, 0);
}

static void
test_port_parse(void)
{
    uint16_t p = 1;
    CU_ASSERT_EQUAL(addr_parse_port("0", &p), 0);
    CU_ASSERT_EQUAL(p, 0);
    CU_ASSERT_EQUAL(addr_parse_port("65535", &p), 0);
    CU_ASSERT_EQUAL(p, 65535);
    CU_ASSERT_EQUAL(addr_parse_port("00080", &p), 0);
    CU_ASSERT_EQUAL(p, 80);
    CU_ASSERT_EQUAL(addr_parse_port("65536", &p), -ERANGE);
    CU_ASSERT_EQUAL(addr_parse_port("99999999999999999999", &p), -ERANGE);
    CU_ASSERT_EQUAL(addr_parse_port("", &p), -EINVAL);
    CU_ASSERT_EQUAL(addr_parse_port("1x", &p), -EINVAL);
    CU_ASSERT_EQUAL(addr_parse_port("-1", &p), -EINVAL);
    CU_ASSERT_EQUAL(addr_parse_port("999999x", &p), -EINVAL);
    CU_ASSERT_EQUAL(p, 80);
}

static void test_format(void)
{
    struct addr a = A3("fe80::abcd", 1044, 7);
    char buf[ADDR_STRLEN];

    CU_ASSERT_EQUAL(addr_format(&a, buf, sizeof(buf), 0), 12);
    CU_ASSERT_STRING_EQUAL(buf, "fe80::abcd%7");
    CU_ASSERT_EQUAL(addr_scope(&a), 7);
    CU_ASSERT_EQUAL(addr_format(&a, buf, sizeof(buf), ADDR_FMT_PORT), 19);
    CU_ASSERT_STRING_EQUAL(buf, "[fe80::abcd%7]:1044");
    /* Exactly enough room, then one byte short. */
    CU_ASSERT_EQUAL(addr_format(&a, buf, 13, 0), 12);
    CU_ASSERT_EQUAL(addr_format(&a, buf, 12, 0), -ENOSPC);
    CU_ASSERT_STRING_EQUAL(buf, "");
    CU_ASSERT_EQUAL(addr_format(&a, NULL, 0, 0), -ENOSPC);
    a = A3("10.0.0.1", 80, 0);
    CU_ASSERT_EQUAL(addr_format(&a, buf, sizeof(buf), ADDR_FMT_PORT), 11);
    CU_ASSERT_STRING_EQUAL(buf, "10.0.0.1:80");
    CU_ASSERT_EQUAL(addr_format(&a, buf, 9, 0), 8);
    CU_ASSERT_EQUAL(addr_format(&a, buf, 8, 0), -ENOSPC);
    addr_clear(&a);
    CU_ASSERT_EQUAL(addr_format(&a, buf, sizeof(buf), 0), -EAFNOSUPPORT);
    CU_ASSERT_STRING_EQUAL(addr_str(&a, buf), "(none)");
    /* The longest form fits ADDR_STRLEN. */
    a = A3("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255", 65535, 4294967295u);
    CU_ASSERT(addr_format(&a, buf, sizeof(buf), ADDR_FMT_PORT) > 0);
    CU_ASSERT_STRING_EQUAL(buf, "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff%4294967295]:65535");
    a = A3("255.255.255.255", 65535, 0);
    CU_ASSERT_STRING_EQUAL(addr_str(&a, buf), "255.255.255.255:65535");
}

/* RFC 5952 cases, written out (§4.1 zeros, §4.2 "::" choice, §4.3 case, §5 mapped). */
static void test_format_rfc5952(void)
{
    static const struct {
        const char *in, *out;
    } t[] = {
        {"2001:0db8:0000:0000:0000:0000:0002:0001", "2001:db8::2:1"},
        {"2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"}, /* one zero group: no "::" */
        {"2001:0:0:1:0:0:0:1", "2001:0:0:1::1"},          /* the longer run */
        {"2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"},    /* the first of equals */
        {"2001:DB8::AbCd", "2001:db8::abcd"},
        {"0:0:0:0:0:0:0:0", "::"},
        {"::1", "::1"},
        {"1::", "1::"},
        {"1:0:0:0:0:0:0:0", "1::"},
        {"0:0:0:0:0:0:0:1", "::1"},
        {"0:1:0:1:0:1:0:1", "0:1:0:1:0:1:0:1"},
        {"::ffff:10.1.2.3", "::ffff:10.1.2.3"},
        {"::ffff:0.0.0.0", "::ffff:0.0.0.0"},
        {"ff02::1:ff00:1", "ff02::1:ff00:1"},
        {"::ffff:0:1:2", "::ffff:0:1:2"},
        /* glibc's inet_ntop writes these deprecated IPv4-compatible forms as
         * "::1.2.3.4"; RFC 5952 §5 keeps mixed notation for mapped ones only. */
        {"::1.2.3.4", "::102:304"},
        {"::2", "::2"},
    };
    char buf[ADDR_STRLEN];
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        struct addr a = A(t[i].in);
        addr_format(&a, buf, sizeof(buf), 0);
        CU_ASSERT_STRING_EQUAL(buf, t[i].out);
        if (strcmp(buf, t[i].out) != 0)
            fprintf(stderr, "  %s -> %s, want %s\n", t[i].in, buf, t[i].out);
    }
}

/* glibc uses "::a.b.c.d" when the first 96 bits are zero (but for :: and ::1). */
static bool ntop_compat_form(const uint8_t *ip)
{
    static const uint8_t zero[12];
    return memcmp(ip, zero, 12) == 0 && !(ip[12] == 0 && ip[13] == 0 && ip[14] == 0 && ip[15] <= 1);
}

/* Many addresses: ours equals inet_ntop's, and inet_pton reads it back. */
static void test_format_vs_inet(void)
{
    unsigned long long x = 0x9e3779b97f4a7c15ull;
    size_t compared = 0;
    for (int n = 0; n < 200000; n++) {
        uint8_t ip[16], back[16];
        char ours[ADDR_STRLEN], theirs[INET6_ADDRSTRLEN];
        struct addr a;

        /* Groups drawn mostly from {0, 1, ffff, random} so that zero runs
         * of every length and place occur. */
        for (int g = 0; g < 8; g++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            unsigned v = (x >> 8) & 3 ? (x & 0x30 ? 0 : 1) : (unsigned)(x >> 24) & 0xffff;
            if ((x & 0xf00) == 0x100)
                v = 0xffff;
            ip[2 * g] = (uint8_t)(v >> 8);
            ip[2 * g + 1] = (uint8_t)v;
        }
        if (n % 7 == 0) { /* IPv4-mapped */
            memset(ip, 0, 10);
            ip[10] = ip[11] = 0xff;
        }
        addr_set_ip(&a, ADDR_V6, ip, 0);
        CU_ASSERT_FATAL(addr_format(&a, ours, sizeof(ours), 0) > 0);
        CU_ASSERT_FATAL(inet_pton(AF_INET6, ours, back) == 1);
        CU_ASSERT_FATAL(memcmp(back, ip, 16) == 0);
        if (ntop_compat_form(ip))
            continue;
        inet_ntop(AF_INET6, ip, theirs, sizeof(theirs));
        if (strcmp(ours, theirs) != 0) {
            fprintf(stderr, "  ours %s, inet_ntop %s\n", ours, theirs);
            CU_FAIL_FATAL("IPv6 text differs from inet_ntop");
        }
        compared++;

        addr_set_ip(&a, ADDR_V4, ip + 12, 0);
        CU_ASSERT_FATAL(addr_format(&a, ours, sizeof(ours), 0) > 0);
        inet_ntop(AF_INET, ip + 12, theirs, sizeof(theirs));
        CU_ASSERT_STRING_EQUAL_FATAL(ours, theirs);
    }
    CU_ASSERT(compared > 150000);
}

static void test_raw_bytes(void)
{
    const uint8_t v4[4] = {230, 5, 5, 9};
    const uint8_t v6[16] = {0xff, 0x15, [15] = 1};
    uint8_t out[16];
    struct addr a;
    char buf[ADDR_STRLEN];

    CU_ASSERT_EQUAL(addr_set_ip(&a, ADDR_V4, v4, 1044), 0);
    CU_ASSERT_EQUAL(addr_family(&a), ADDR_V4);
    CU_ASSERT_STRING_EQUAL(addr_str(&a, buf), "230.5.5.9:1044");
    CU_ASSERT_EQUAL(addr_get_ip(&a, out), 4);
    CU_ASSERT_EQUAL(memcmp(out, v4, 4), 0);
    CU_ASSERT_EQUAL(addr_set_ip(&a, ADDR_V6, v6, 2), 0);
    CU_ASSERT_EQUAL(addr_family(&a), ADDR_V6);
    CU_ASSERT_STRING_EQUAL(addr_str(&a, buf), "[ff15::1]:2");
    CU_ASSERT_EQUAL(addr_get_ip(&a, out), 16);
    CU_ASSERT_EQUAL(memcmp(out, v6, 16), 0);
    CU_ASSERT_EQUAL(addr_set_ip(&a, 10 /* AF_INET6 is not a floor family */, v6, 2), -EAFNOSUPPORT);
    CU_ASSERT_FALSE(addr_is_set(&a));
    CU_ASSERT_EQUAL(addr_get_ip(&a, out), 0);
    /* All-zero is unset. */
    struct addr z = {0};
    CU_ASSERT_FALSE(addr_is_set(&z));
    CU_ASSERT_EQUAL(addr_family(&z), ADDR_NONE);
}

static void test_port(void)
{
    struct addr a = A3("::1", 5, 0);
    CU_ASSERT_EQUAL(addr_port(&a), 5);
    addr_set_port(&a, 65535);
    CU_ASSERT_EQUAL(addr_port(&a), 65535);
    addr_clear(&a);
    addr_set_port(&a, 3); /* no-op on unset */
    CU_ASSERT_EQUAL(addr_port(&a), 0);
    CU_ASSERT_EQUAL(addr_family(&a), ADDR_NONE);
}

static void test_compare(void)
{
    struct addr a = A3("10.0.0.1", 5, 0), b = A3("10.0.0.1", 6, 0), c = A3("10.0.0.2", 5, 0);
    struct addr m = A3("::ffff:10.0.0.1", 5, 0), v6 = A3("::1", 1, 0), none;

    addr_clear(&none);
    CU_ASSERT(addr_cmp(&a, &b) < 0);
    CU_ASSERT(addr_cmp(&b, &a) > 0);
    CU_ASSERT(addr_cmp(&a, &c) < 0);
    CU_ASSERT(addr_cmp(&a, &a) == 0);
    CU_ASSERT(addr_cmp(&none, &a) < 0);
    CU_ASSERT(addr_cmp(&c, &v6) < 0); /* IPv4 sorts before IPv6 */
    CU_ASSERT(addr_cmp(&none, &none) == 0);
    CU_ASSERT_TRUE(addr_equal(&a, &m)); /* mapped == plain */
    CU_ASSERT_FALSE(addr_equal(&a, &b));
    CU_ASSERT_TRUE(addr_equal_ip(&a, &b));
    CU_ASSERT_FALSE(addr_equal_ip(&a, &c));
    struct addr s1 = A3("fe80::1", 5, 1), s2 = A3("fe80::1", 5, 2);
    CU_ASSERT(addr_cmp(&s1, &s2) < 0);
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
        {"::2", false, false, false, false, false},
        {"1::1", false, false, false, false, false},
        {"::", false, false, false, true, false},
        {"::ffff:232.1.1.1", true, true, false, false, true},
        {"::ffff:127.0.0.1", false, false, true, false, true},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        struct addr a = A(t[i].a);
        CU_ASSERT_EQUAL(addr_is_multicast(&a), t[i].mc);
        CU_ASSERT_EQUAL(addr_is_ssm(&a), t[i].ssm);
        CU_ASSERT_EQUAL(addr_is_loopback(&a), t[i].lo);
        CU_ASSERT_EQUAL(addr_is_unspecified(&a), t[i].unspec);
        CU_ASSERT_EQUAL(addr_is_v4mapped(&a), t[i].mapped);
        if (addr_is_ssm(&a) != t[i].ssm || addr_is_multicast(&a) != t[i].mc ||
            addr_is_loopback(&a) != t[i].lo)
            fprintf(stderr, "  classify %s wrong\n", t[i].a);
    }
    struct addr none;
    addr_clear(&none);
    CU_ASSERT_FALSE(addr_is_multicast(&none));
    CU_ASSERT_FALSE(addr_is_ssm(&none));
    CU_ASSERT_FALSE(addr_is_loopback(&none));
    CU_ASSERT_FALSE(addr_is_unspecified(&none));
}

static void test_mapping(void)
{
    struct addr a = A3("::ffff:10.1.2.3", 77, 0);
    char buf[ADDR_STRLEN];

    addr_unmap(&a);
    CU_ASSERT_EQUAL(addr_family(&a), ADDR_V4);
    CU_ASSERT_STRING_EQUAL(addr_str(&a, buf), "10.1.2.3:77");
    addr_map_v6(&a);
    CU_ASSERT_EQUAL(addr_family(&a), ADDR_V6);
    CU_ASSERT_STRING_EQUAL(addr_str(&a, buf), "[::ffff:10.1.2.3]:77");
    /* Neither touches a real IPv6 address. */
    struct addr b = A3("2001:db8::1", 1, 0);
    addr_unmap(&b);
    addr_map_v6(&b);
    CU_ASSERT_STRING_EQUAL(addr_str(&b, buf), "[2001:db8::1]:1");
}

static void test_id(void)
{
    struct addr a = A("10.1.2.3"), b = A("2001:db8::a:b0c:d0e"), none;
    CU_ASSERT_EQUAL(addr_id(&a), 0x0a010203u);
    CU_ASSERT_EQUAL(addr_id(&b), 0x0b0c0d0eu);
    addr_clear(&none);
    CU_ASSERT_EQUAL(addr_id(&none), 0);
}

static const struct cu_test addr_tests[] = {
    {"port parser bounds", test_port_parse},
    {"format: scope, port, exact capacity, longest form", test_format},
    {"format: RFC 5952 canonical text", test_format_rfc5952},
    {"format equals inet_ntop and reads back with inet_pton", test_format_vs_inet},
    {"raw wire bytes", test_raw_bytes},
    {"port get/set", test_port},
    {"compare and equality (mapped == plain)", test_compare},
    {"multicast / SSM / loopback classification", test_classify},
    {"IPv4-mapped conversion", test_mapping},
    {"ID from an address", test_id},
    {NULL, NULL},
};

CU_MAIN({"base/addr", addr_tests})
