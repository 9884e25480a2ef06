/*
 * Host list files (spec §2): every format, the man pages' examples, and
 * hostile input with exact "file:line:" messages. Offline: a fake resolver.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/conf/hostlist.h"
#include "cu.h"

static int fake_resolve(const char *host, int family, struct sockaddr_storage *out, socklen_t *len)
{
    memset(out, 0, sizeof(*out));
    if (!strcmp(host, "alpha.example")) {
        struct sockaddr_in *s = (struct sockaddr_in *)out;
        s->sin_family = AF_INET;
        s->sin_addr.s_addr = htonl(0xc0000201);
        *len = sizeof(*s);
        return 0;
    }
    if (!strcmp(host, "v6only.example") && family != AF_INET) {
        struct sockaddr_in6 *s = (struct sockaddr_in6 *)out;
        s->sin6_family = AF_INET6;
        s->sin6_addr.s6_addr[15] = 1;
        *len = sizeof(*s);
        return 0;
    }
    return -1;
}

static struct conf_hostlist l;
static char msg[512];

static int parse(enum conf_hl_kind kind, size_t max, const char *text)
{
    struct conf_hl_spec spec = {kind, max, fake_resolve};
    msg[0] = '\0';
    conf_hostlist_free(&l);
    return conf_hostlist_parse(&l, &spec, "h", text, strlen(text), msg, sizeof(msg));
}

#define CHECK_ERR(expr, code, text)                                                                \
    do {                                                                                           \
        int rc_ = (expr);                                                                          \
        CU_ASSERT_EQUAL(rc_, code);                                                                \
        if (strcmp(msg, text) != 0)                                                                \
            printf("\n  got  '%s'\n  want '%s'\n", msg, text);                                     \
        CU_ASSERT_STRING_EQUAL(msg, text);                                                         \
        CU_ASSERT_EQUAL(l.n, 0);                                                                   \
    } while (0)

static const uint8_t fp20[20] = {0x66, 0x1E, 0xC9, 0x1D, 0xFC, 0x99, 0xDB, 0x60, 0xB0, 0x1A,
                                 0xF0, 0x8F, 0xCA, 0xF4, 0x28, 0x27, 0xA6, 0xBE, 0x94, 0xBC};
#define FP20 "66:1E:C9:1D:FC:99:DB:60:B0:1A:F0:8F:CA:F4:28:27:A6:BE:94:BC"

static void test_ids(void)
{
    CU_ASSERT_EQUAL(parse(CONF_HL_IDS, 100,
                          "# clients\r\n"
                          "0x01020304|" FP20 "\r\n"
                          "\r\n"
                          "   a0b1c2d3   # bare hex, with a comment\n"
                          "10.0.0.9\n"
                          "alpha.example | 1:2:a \n"
                          "\t0XFFFFFFFE\n"
                          "#0x5\n"
                          "7"),
                    0);
    CU_ASSERT_STRING_EQUAL(msg, "");
    CU_ASSERT_EQUAL_FATAL(l.n, 6);
    CU_ASSERT_EQUAL(l.v[0].id, 0x01020304);
    CU_ASSERT_EQUAL(l.v[0].line, 2);
    CU_ASSERT_STRING_EQUAL(l.v[0].name, "0x01020304");
    CU_ASSERT_EQUAL(l.v[0].fp_len, 20);
    CU_ASSERT_EQUAL(memcmp(l.v[0].fp, fp20, 20), 0);
    CU_ASSERT_EQUAL(l.v[0].addrlen, 0);
    CU_ASSERT_EQUAL(l.v[1].id, 0xa0b1c2d3);
    CU_ASSERT_EQUAL(l.v[1].line, 4);
    CU_ASSERT_EQUAL(l.v[1].fp_len, 0);
    CU_ASSERT_EQUAL(l.v[2].id, 0x0a000009);
    CU_ASSERT_EQUAL(l.v[2].addrlen, sizeof(struct sockaddr_in));
    CU_ASSERT_EQUAL(l.v[3].id, 0xc0000201);
    CU_ASSERT_STRING_EQUAL(l.v[3].name, "alpha.example");
    CU_ASSERT_EQUAL(l.v[3].fp_len, 3);
    CU_ASSERT_EQUAL(l.v[3].fp[2], 0x0a);
    CU_ASSERT_EQUAL(l.v[4].id, 0xfffffffe);
    CU_ASSERT_EQUAL(l.v[5].id, 7);
    CU_ASSERT_EQUAL(l.v[5].line, 9);
    /* An empty file is an empty list. */
    CU_ASSERT_EQUAL(parse(CONF_HL_IDS, 100, ""), 0);
    CU_ASSERT_EQUAL(l.n, 0);
    CU_ASSERT_EQUAL(parse(CONF_HL_IDS, 100, "\n# only comments\n\n"), 0);
    CU_ASSERT_EQUAL(l.n, 0);
}

static void test_id_errors(void)
{
    CHECK_ERR(parse(CONF_HL_IDS, 100, "0x1\n0\n"), CONF_ERANGE,
              "h:2: ID '0' is reserved (0 and 0xFFFFFFFF are not allowed)");
    CHECK_ERR(parse(CONF_HL_IDS, 100, "0xffffffff"), CONF_ERANGE,
              "h:1: ID '0xffffffff' is reserved (0 and 0xFFFFFFFF are not allowed)");
    CHECK_ERR(parse(CONF_HL_IDS, 100, "255.255.255.255"), CONF_ERANGE,
              "h:1: '255.255.255.255' gives the reserved ID 0xFFFFFFFF");
    CHECK_ERR(parse(CONF_HL_IDS, 100, "0.0.0.0"), CONF_ERANGE,
              "h:1: '0.0.0.0' gives the reserved ID 0x00000000");
    CHECK_ERR(parse(CONF_HL_IDS, 100, "0xZZ"), CONF_EVALUE,
              "h:1: '0xZZ' is not an ID, an IPv4 address or a known host name");
    CHECK_ERR(parse(CONF_HL_IDS, 100, "0x123456789"), CONF_EVALUE,
              "h:1: '0x123456789' is not an ID, an IPv4 address or a known host name");
    CHECK_ERR(parse(CONF_HL_IDS, 100, "1.2.3"), CONF_EVALUE,
              "h:1: '1.2.3' is not an ID, an IPv4 address or a known host name");
    CHECK_ERR(parse(CONF_HL_IDS, 100, "v6only.example"), CONF_EVALUE,
              "h:1: 'v6only.example' is not an ID, an IPv4 address or a known host name");
    CHECK_ERR(parse(CONF_HL_IDS, 100, "1|aa|bb"), CONF_EVALUE,
              "h:1: too many fields (the format is ID[|fingerprint])");
    CHECK_ERR(parse(CONF_HL_IDS, 100, "|aa"), CONF_EVALUE,
              "h:1: missing ID (the format is ID[|fingerprint])");
    CHECK_ERR(parse(CONF_HL_IDS, 100, "1|zz:11"), CONF_EVALUE,
              "h:1: bad fingerprint 'zz:11' (1 to 64 hex bytes separated by ':')");
    CHECK_ERR(parse(CONF_HL_IDS, 100, "1|:11"), CONF_EVALUE,
              "h:1: bad fingerprint ':11' (1 to 64 hex bytes separated by ':')");
    CHECK_ERR(parse(CONF_HL_IDS, 100, "1|11:"), CONF_EVALUE,
              "h:1: bad fingerprint '11:' (1 to 64 hex bytes separated by ':')");
    CHECK_ERR(parse(CONF_HL_IDS, 100, "1|111"), CONF_EVALUE,
              "h:1: bad fingerprint '111' (1 to 64 hex bytes separated by ':')");
    CHECK_ERR(parse(CONF_HL_IDS, 100, "1|1 1"), CONF_EVALUE,
              "h:1: bad fingerprint '1 1' (1 to 64 hex bytes separated by ':')");
    /* Control characters are shown as '?'. */
    CHECK_ERR(parse(CONF_HL_IDS, 100, "a\x1b[31m"), CONF_EVALUE,
              "h:1: 'a?[31m' is not an ID, an IPv4 address or a known host name");
    CHECK_ERR(parse(CONF_HL_IDS, 100, "1\n2\n1\n"), CONF_EVALUE,
              "h:3: duplicate ID 0x00000001 (also on line 1)");
    CHECK_ERR(parse(CONF_HL_IDS, 100, "0x0a000001\n10.0.0.1\n"), CONF_EVALUE,
              "h:2: duplicate ID 0x0A000001 (also on line 1)");
    static const char nul[] = "1\n2\0\n3\n";
    struct conf_hl_spec spec = {CONF_HL_IDS, 100, NULL};
    conf_hostlist_free(&l);
    CHECK_ERR(conf_hostlist_parse(&l, &spec, "h", nul, sizeof(nul) - 1, msg, sizeof(msg)),
              CONF_EVALUE, "h:2: NUL byte in line");
    /* Without a resolver a name is just not an ID. */
    conf_hostlist_free(&l);
    CHECK_ERR(conf_hostlist_parse(&l, &spec, "h", "alpha.example", 13, msg, sizeof(msg)),
              CONF_EVALUE,
              "h:1: 'alpha.example' is not an ID, an IPv4 address or a known host name");
}

static void test_limits(void)
{
    /* 64 fingerprint bytes pass, 65 do not. */
    char fp[400] = "1|";
    for (int i = 0; i < 64; i++)
        strcat(fp, i ? ":ab" : "ab");
    CU_ASSERT_EQUAL(parse(CONF_HL_IDS, 100, fp), 0);
    CU_ASSERT_EQUAL(l.v[0].fp_len, 64);
    strcat(fp, ":cd");
    CHECK_ERR(parse(CONF_HL_IDS, 100, fp), CONF_EVALUE,
              "h:1: bad fingerprint 'ab:ab:ab:ab:ab:ab:ab:ab:ab:ab:ab:ab:ab:ab:ab:ab:ab:ab:ab:ab:"
              "ab:ab:ab:ab:ab:a...' (1 to 64 hex bytes separated by ':')");

    /* A 1000-byte line passes, 1001 does not; nor does a huge one without a newline. */
    char *big = malloc(200000);
    memset(big, ' ', 1000);
    big[0] = '1';
    big[1000] = '\0';
    CU_ASSERT_EQUAL(parse(CONF_HL_IDS, 100, big), 0);
    big[1000] = '\r';
    big[1001] = '\0';
    CU_ASSERT_EQUAL(parse(CONF_HL_IDS, 100, big), 0); /* CR is not counted */
    big[1000] = ' ';
    CHECK_ERR(parse(CONF_HL_IDS, 100, big), CONF_EVALUE, "h:1: line longer than 1000 bytes");
    memset(big, '#', 199999);
    big[199999] = '\0';
    CHECK_ERR(parse(CONF_HL_IDS, 100, big), CONF_EVALUE, "h:1: line longer than 1000 bytes");

    /* The entry limit (spec §6.9): the first entry too many is named. */
    size_t o = 0;
    for (int i = 1; i <= 101; i++)
        o += (size_t)snprintf(big + o, 200000 - o, "# c\n0x%x\n", i);
    CHECK_ERR(parse(CONF_HL_IDS, 100, big), CONF_ECOUNT, "h:202: more than 100 entries");
    CU_ASSERT_EQUAL(parse(CONF_HL_IDS, 101, big), 0);
    CU_ASSERT_EQUAL(l.n, 101);
    /* 100,000 entries for uftp -H: fine, and fast (duplicates found by sorting). */
    o = 0;
    free(big);
    big = malloc(1200000);
    for (int i = 1; i <= 100000; i++)
        o += (size_t)snprintf(big + o, 1200000 - o, "%x\n", i);
    CU_ASSERT_EQUAL(parse(CONF_HL_IDS, CONF_HL_MAX_DEST, big), 0);
    CU_ASSERT_EQUAL(l.n, 100000);
    snprintf(big + o, 1200000 - o, "186a0\n");
    CHECK_ERR(parse(CONF_HL_IDS, CONF_HL_MAX_DEST, big), CONF_ECOUNT,
              "h:100001: more than 100000 entries");
    snprintf(big + o, 1200000 - o, "%x\n", 99999);
    CHECK_ERR(parse(CONF_HL_IDS, CONF_HL_MAX_DEST + 1, big), CONF_EVALUE,
              "h:100001: duplicate ID 0x0001869F (also on line 99999)");
    free(big);
}

static void test_servers(void)
{
    /* The uftpd man page's example. */
    CU_ASSERT_EQUAL(parse(CONF_HL_SERVERS, 100,
                          "0x11112222|192.168.1.101|0x22223333|" FP20 "\n"
                          "0x11113333|fe80::213:72ff:fed6:69ca|0\n"),
                    0);
    CU_ASSERT_STRING_EQUAL(msg, "");
    CU_ASSERT_EQUAL_FATAL(l.n, 2);
    CU_ASSERT_EQUAL(l.v[0].id, 0x11112222);
    CU_ASSERT_EQUAL(l.v[0].proxy_id, 0x22223333);
    CU_ASSERT_EQUAL(l.v[0].addr.ss_family, AF_INET);
    CU_ASSERT_EQUAL(((struct sockaddr_in *)&l.v[0].addr)->sin_addr.s_addr, htonl(0xc0a80165));
    CU_ASSERT_EQUAL(l.v[0].fp_len, 20);
    CU_ASSERT_EQUAL(l.v[1].proxy_id, 0);
    CU_ASSERT_EQUAL(l.v[1].addr.ss_family, AF_INET6);
    CU_ASSERT_EQUAL(l.v[1].addrlen, sizeof(struct sockaddr_in6));
    CU_ASSERT_EQUAL(l.v[1].fp_len, 0);
    /* A name goes to the resolver. */
    CU_ASSERT_EQUAL(parse(CONF_HL_SERVERS, 100, "1|v6only.example|0"), 0);
    CU_ASSERT_EQUAL(l.v[0].addr.ss_family, AF_INET6);

    CHECK_ERR(parse(CONF_HL_SERVERS, 100, "0x1"), CONF_EVALUE,
              "h:1: missing IP address (the format is serverID|IP|proxyID[|fingerprint])");
    CHECK_ERR(
        parse(CONF_HL_SERVERS, 100, "0x1|1.2.3.4"), CONF_EVALUE,
        "h:1: missing proxy ID (0 for none; the format is serverID|IP|proxyID[|fingerprint])");
    CHECK_ERR(
        parse(CONF_HL_SERVERS, 100, "0x1|1.2.3.4|"), CONF_EVALUE,
        "h:1: missing proxy ID (0 for none; the format is serverID|IP|proxyID[|fingerprint])");
    CHECK_ERR(parse(CONF_HL_SERVERS, 100, "0x1|1.2.3.4|0xffffffff"), CONF_ERANGE,
              "h:1: proxy ID '0xffffffff' is reserved");
    CHECK_ERR(parse(CONF_HL_SERVERS, 100, "0x1|1.2.3.4|x"), CONF_EVALUE,
              "h:1: proxy ID 'x' is not a hex ID");
    CHECK_ERR(parse(CONF_HL_SERVERS, 100, "0x1|nowhere|0"), CONF_EVALUE,
              "h:1: 'nowhere' is not an IP address or a known host name");
    CHECK_ERR(parse(CONF_HL_SERVERS, 100, "0x1|1.2.3.400|0"), CONF_EVALUE,
              "h:1: '1.2.3.400' is not an IP address or a known host name");
    CHECK_ERR(parse(CONF_HL_SERVERS, 100, "1.2.3.4|1.2.3.4|0"), CONF_EVALUE,
              "h:1: '1.2.3.4' is not a hex ID");
    CHECK_ERR(parse(CONF_HL_SERVERS, 100, "1|1.2.3.4|0|aa|bb"), CONF_EVALUE,
              "h:1: too many fields (the format is serverID|IP|proxyID[|fingerprint])");
    CHECK_ERR(parse(CONF_HL_SERVERS, 100, "1|1.2.3.4|0\n1|1.2.3.5|0"), CONF_EVALUE,
              "h:2: duplicate ID 0x00000001 (also on line 1)");
    struct conf_hl_spec spec = {CONF_HL_SERVERS, 100, NULL};
    conf_hostlist_free(&l);
    CHECK_ERR(conf_hostlist_parse(&l, &spec, "h", "1|host|0", 8, msg, sizeof(msg)), CONF_EVALUE,
              "h:1: 'host' is not an IP address");
}

static void test_other_kinds(void)
{
    /* The uftpd -R example, with its trailing '|'. */
    CU_ASSERT_EQUAL(parse(CONF_HL_PROXIES, 100,
                          "0x22223333|192.168.1.102|3E:5D:E7:2B:38:33:FE:1E:B6:DC:83:68:6C:04:D7:"
                          "3E:03:90:F1:26\n"
                          "0x33334444|fe80::213:72ff:fed6:38f3|\n"),
                    0);
    CU_ASSERT_EQUAL_FATAL(l.n, 2);
    CU_ASSERT_EQUAL(l.v[0].fp_len, 20);
    CU_ASSERT_EQUAL(l.v[0].fp[0], 0x3e);
    CU_ASSERT_EQUAL(l.v[1].fp_len, 0);
    CU_ASSERT_EQUAL(l.v[1].addr.ss_family, AF_INET6);
    CHECK_ERR(parse(CONF_HL_PROXIES, 100, "1|1.2.3.4|ab|0"), CONF_EVALUE,
              "h:1: too many fields (the format is proxyID|IP[|fingerprint])");
    /* The uftpproxyd -S example. */
    CU_ASSERT_EQUAL(parse(CONF_HL_PROXY_SERVERS, 100,
                          "0x11112222|192.168.1.101|" FP20
                          "\n0x11113333|fe80::213:72ff:fed6:69ca\n"),
                    0);
    CU_ASSERT_EQUAL(l.n, 2);
    CU_ASSERT_EQUAL(l.v[0].proxy_id, 0);
    CHECK_ERR(parse(CONF_HL_PROXY_SERVERS, 100, "0x1"), CONF_EVALUE,
              "h:1: missing IP address (the format is serverID|IP[|fingerprint])");
    /* The uftpproxyd -C example. */
    CU_ASSERT_EQUAL(parse(CONF_HL_CLIENTS, 100, "0x00001111|" FP20 "\n0x00002222\n"), 0);
    CU_ASSERT_EQUAL_FATAL(l.n, 2);
    CU_ASSERT_EQUAL(l.v[0].id, 0x1111);
    CU_ASSERT_EQUAL(l.v[0].fp_len, 20);
    CU_ASSERT_EQUAL(l.v[1].addrlen, 0);
    CHECK_ERR(parse(CONF_HL_CLIENTS, 100, "client.example"), CONF_EVALUE,
              "h:1: 'client.example' is not a hex ID");
    CHECK_ERR(parse(CONF_HL_CLIENTS, 1, "1\n2\n"), CONF_ECOUNT, "h:2: more than 1 entries");
}

static void test_comma_ids(void)
{
    struct conf_hl_spec spec = {CONF_HL_IDS, 4, fake_resolve};
    conf_hostlist_free(&l);
    CU_ASSERT_EQUAL(
        conf_hostlist_parse_ids(&l, &spec, "1, 0x2 ,alpha.example,4.3.2.1", msg, sizeof(msg)), 0);
    CU_ASSERT_EQUAL_FATAL(l.n, 4);
    CU_ASSERT_EQUAL(l.v[1].id, 2);
    CU_ASSERT_STRING_EQUAL(l.v[1].name, "0x2");
    CU_ASSERT_EQUAL(l.v[2].id, 0xc0000201);
    CU_ASSERT_EQUAL(l.v[3].id, 0x04030201);
    CU_ASSERT_EQUAL(l.v[3].line, 0);
    conf_hostlist_free(&l);
    CHECK_ERR(conf_hostlist_parse_ids(&l, &spec, "1,,2", msg, sizeof(msg)), CONF_EVALUE,
              "has an empty entry");
    CHECK_ERR(conf_hostlist_parse_ids(&l, &spec, "1,2,", msg, sizeof(msg)), CONF_EVALUE,
              "has an empty entry");
    CHECK_ERR(conf_hostlist_parse_ids(&l, &spec, "1,2,3,4,5", msg, sizeof(msg)), CONF_ECOUNT,
              "has more than 4 entries");
    CHECK_ERR(conf_hostlist_parse_ids(&l, &spec, "1,0xFFFFFFFF", msg, sizeof(msg)), CONF_ERANGE,
              "entry ID '0xFFFFFFFF' is reserved (0 and 0xFFFFFFFF are not allowed)");
    CHECK_ERR(conf_hostlist_parse_ids(&l, &spec, "2,1,2", msg, sizeof(msg)), CONF_EVALUE,
              "list: duplicate ID 0x00000002");
}

static void test_parsers(void)
{
    uint32_t id = 0;
    uint8_t fp[CONF_FP_MAX];
    size_t n = 0;
    CU_ASSERT_EQUAL(conf_parse_id("0xAbCd", false, &id), 0);
    CU_ASSERT_EQUAL(id, 0xabcd);
    CU_ASSERT_EQUAL(conf_parse_id("ffffffff", false, &id), CONF_ERANGE);
    CU_ASSERT_EQUAL(conf_parse_id("0", false, &id), CONF_ERANGE);
    CU_ASSERT_EQUAL(conf_parse_id("0", true, &id), 0);
    CU_ASSERT_EQUAL(id, 0);
    CU_ASSERT_EQUAL(conf_parse_id("0x", false, &id), CONF_EVALUE);
    CU_ASSERT_EQUAL(conf_parse_id("", false, &id), CONF_EVALUE);
    CU_ASSERT_EQUAL(conf_parse_id("-1", false, &id), CONF_EVALUE);
    CU_ASSERT_EQUAL(conf_parse_id("+1", false, &id), CONF_EVALUE);
    CU_ASSERT_EQUAL(conf_parse_id("000000001", false, &id), CONF_EVALUE); /* 9 digits */
    CU_ASSERT_EQUAL(conf_parse_id("0x00000001", false, &id), 0);
    CU_ASSERT_EQUAL(conf_parse_fingerprint("0:f:ff", fp, &n), 0);
    CU_ASSERT_EQUAL(n, 3);
    CU_ASSERT_EQUAL(fp[1], 0x0f);
    CU_ASSERT_EQUAL(fp[2], 0xff);
    CU_ASSERT_EQUAL(conf_parse_fingerprint("", fp, &n), CONF_EVALUE);
    CU_ASSERT_EQUAL(conf_parse_fingerprint("::", fp, &n), CONF_EVALUE);
    CU_ASSERT_EQUAL(conf_parse_fingerprint("g0", fp, &n), CONF_EVALUE);
    CU_ASSERT_EQUAL(conf_parse_fingerprint("0x12", fp, &n), CONF_EVALUE);
}

static void test_files(void)
{
    char path[] = "/tmp/uftp-hl-XXXXXX";
    int fd = mkstemp(path);
    CU_ASSERT_FATAL(fd >= 0);
    const char *text = "0x11112222|192.168.1.101|0\nxyz|1.2.3.4|0\n";
    CU_ASSERT_EQUAL(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    struct conf_hl_spec spec = {CONF_HL_SERVERS, 100, NULL};
    char want[256];
    conf_hostlist_free(&l);
    snprintf(want, sizeof(want), "%s:2: 'xyz' is not a hex ID", path);
    CHECK_ERR(conf_hostlist_read(&l, &spec, path, msg, sizeof(msg)), CONF_EVALUE, want);
    CU_ASSERT_EQUAL(truncate(path, 27), 0);
    CU_ASSERT_EQUAL(conf_hostlist_read(&l, &spec, path, msg, sizeof(msg)), 0);
    CU_ASSERT_EQUAL(l.n, 1);
    unlink(path);
    conf_hostlist_free(&l);
    snprintf(want, sizeof(want), "%s: No such file or directory", path);
    CHECK_ERR(conf_hostlist_read(&l, &spec, path, msg, sizeof(msg)), CONF_EIO, want);
    CHECK_ERR(conf_hostlist_read(&l, &spec, "/", msg, sizeof(msg)), CONF_EIO,
              "/: not a regular file of at most 67108864 bytes");
    conf_hostlist_free(&l);
}

/* The option-table handlers for IDs and absolute paths shared by the programs. */
static void test_value_handlers(void)
{
    uint32_t id = 0;
    char why[128] = "", buf[32];
    CU_ASSERT_EQUAL(conf_id_parse(NULL, "0x0a000001", &id, why, sizeof(why)), 0);
    CU_ASSERT_EQUAL(id, 0x0A000001u);
    CU_ASSERT_EQUAL(conf_id_print(NULL, &id, buf, sizeof(buf)), 0);
    CU_ASSERT_STRING_EQUAL(buf, "0x0A000001");
    CU_ASSERT_EQUAL(conf_id_parse(NULL, "0xFFFFFFFF", &id, why, sizeof(why)), CONF_EVALUE);
    CU_ASSERT_PTR_NOT_NULL(strstr(why, "hex ID"));
    CU_ASSERT_EQUAL(conf_id_parse(NULL, "0", &id, why, sizeof(why)), CONF_EVALUE);
    CU_ASSERT_EQUAL(conf_id_parse(NULL, "12g", &id, why, sizeof(why)), CONF_EVALUE);
    CU_ASSERT_EQUAL(id, 0x0A000001u); /* untouched by the refusals */
    id = 0;
    CU_ASSERT_EQUAL(conf_id_print(NULL, &id, buf, sizeof(buf)), 1); /* unset */
    const char *path = "/var/lib/x", *rel = "var/lib/x", *none = NULL;
    CU_ASSERT_EQUAL(conf_abs_check(NULL, &path, why, sizeof(why)), 0);
    CU_ASSERT_EQUAL(conf_abs_check(NULL, &none, why, sizeof(why)), 0);
    CU_ASSERT_EQUAL(conf_abs_check(NULL, &rel, why, sizeof(why)), CONF_EVALUE);
    CU_ASSERT_STRING_EQUAL(why, "must be an absolute path, not 'var/lib/x'");
}

static const struct cu_test hostlist_tests[] = {
    {"uftp -H / -j files", test_ids},
    {"ID and path option handlers", test_value_handlers},
    {"ID errors with file:line", test_id_errors},
    {"line, fingerprint and entry limits", test_limits},
    {"uftpd -S server lists", test_servers},
    {"-R proxy, proxy -S and -C lists", test_other_kinds},
    {"-H id,id,...", test_comma_ids},
    {"ID and fingerprint parsers", test_parsers},
    {"reading files", test_files},
    {NULL, NULL},
};

CU_MAIN({"conf/hostlist", hostlist_tests})
