#include <string.h>

#include "core/net/addr.h"
#include "core/proto/hb.h"
#include "core/wire/wire.h"
#include "cu.h"

static void addr(struct addr *a, const char *s)
{
    CU_ASSERT_EQUAL_FATAL(net_addr_parse(a, s, 1044), 0);
}

static void test_rounds(void)
{
    struct hb h;
    struct addr hosts[2];
    addr(&hosts[0], "10.0.0.1:1044");
    addr(&hosts[1], "10.0.0.2:2000");
    CU_ASSERT_EQUAL(hb_init(&h, hosts, 2, 500000), HB_EINVAL); /* below 1 s */
    CU_ASSERT_EQUAL_FATAL(hb_init(&h, hosts, 2, 20000000), 0);
    uint32_t nonce = 7;
    CU_ASSERT_EQUAL(hb_deadline(&h), 0);
    CU_ASSERT_EQUAL(hb_next(&h, 1000, &nonce), 0);
    CU_ASSERT_EQUAL(nonce, 0);
    CU_ASSERT_EQUAL(hb_next(&h, 1000, &nonce), 1);
    CU_ASSERT_EQUAL(hb_next(&h, 1000, &nonce), -1);
    CU_ASSERT_EQUAL(hb_deadline(&h), 20001000);
    CU_ASSERT_EQUAL(hb_next(&h, 20000999, &nonce), -1);
    CU_ASSERT_EQUAL(hb_next(&h, 20001000, &nonce), 0);
    CU_ASSERT_EQUAL(hb_next(&h, 20001000, &nonce), 1);
    CU_ASSERT_EQUAL(hb_deadline(&h), 40001000);
    hb_free(&h);
    /* No hosts: never due. */
    CU_ASSERT_EQUAL(hb_init(&h, NULL, 0, 0), 0);
    CU_ASSERT_EQUAL(hb_deadline(&h), UINT64_MAX);
    CU_ASSERT_EQUAL(hb_next(&h, 0, &nonce), -1);
    hb_free(&h);
}

static void test_challenge(void)
{
    struct hb h;
    struct addr hosts[1], other, sameip;
    addr(&hosts[0], "10.0.0.1:1044");
    addr(&other, "10.0.0.9:1044");
    addr(&sameip, "10.0.0.1:1045");
    hb_init(&h, hosts, 1, 20000000);
    uint32_t nonce;
    CU_ASSERT_EQUAL(hb_next(&h, 5000000, &nonce), 0);
    /* Answers from anywhere else are not ours. */
    CU_ASSERT_EQUAL(hb_resp(&h, &other, HB_AUTH_CHALLENGE, 42, 5000100), -1);
    CU_ASSERT_EQUAL(hb_resp(&h, &sameip, HB_AUTH_CHALLENGE, 42, 5000100), -1);
    CU_ASSERT_EQUAL(hb_deadline(&h), 25000000);
    /* A challenge: a signed HB_REQ with its nonce is due now. */
    CU_ASSERT_EQUAL(hb_resp(&h, &hosts[0], HB_AUTH_CHALLENGE, 42, 5000100), 0);
    CU_ASSERT_EQUAL(hb_deadline(&h), 0);
    CU_ASSERT_EQUAL(hb_next(&h, 5000100, &nonce), 0);
    CU_ASSERT_EQUAL(nonce, 42);
    CU_ASSERT_EQUAL(hb_next(&h, 5000100, &nonce), -1);
    /* Another challenge at once: answered, but not before a second has passed. */
    CU_ASSERT_EQUAL(hb_resp(&h, &hosts[0], HB_AUTH_CHALLENGE, 43, 5000200), 0);
    CU_ASSERT_EQUAL(hb_deadline(&h), 6000100);
    CU_ASSERT_EQUAL(hb_next(&h, 5500000, &nonce), -1);
    CU_ASSERT_EQUAL(hb_next(&h, 6000100, &nonce), 0);
    CU_ASSERT_EQUAL(nonce, 43);
    /* OK and FAILED owe nothing. */
    CU_ASSERT_EQUAL(hb_resp(&h, &hosts[0], HB_AUTH_OK, 0, 6000200), 0);
    CU_ASSERT_EQUAL(h.hosts[0].last, HB_AUTH_OK);
    CU_ASSERT_EQUAL(hb_resp(&h, &hosts[0], HB_AUTH_CHALLENGE, 44, 6000300), 0);
    CU_ASSERT_EQUAL(hb_resp(&h, &hosts[0], HB_AUTH_FAILED, 0, 6000400), 0);
    CU_ASSERT_EQUAL(hb_deadline(&h), 25000000);
    hb_free(&h);
}

static const struct cu_test hb_tests[] = {
    {"rounds every interval", test_rounds},
    {"challenge: signed answer, rate limit, foreign answers", test_challenge},
    {NULL, NULL},
};

CU_MAIN({"proto/hb", hb_tests})
