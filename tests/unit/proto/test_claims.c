/* Floors and caps on what a peer's claims decide (core/proto/claims.c, issue 14). */
#include <stdint.h>

#include "core/proto/claims.h"
#include "core/base/quant.h"
#include "cu.h"

static void test_resend_floor(void)
{
    /* GRTT code 0 (1 us on the wire) would resend REGISTER every 5 us. */
    uint64_t g = quant_rtt_decode_us(0);
    CU_ASSERT(g < 10);
    CU_ASSERT_EQUAL(claims_resend_us(g, 5), 50000u);
    CU_ASSERT_EQUAL(claims_resend_us(g, 4), 40000u);
    CU_ASSERT_EQUAL(claims_resend_us(g, 2), 20000u);
    /* A 5.0.1 sender's GRTT (>= 10 ms at its defaults) is untouched. */
    CU_ASSERT_EQUAL(claims_resend_us(10000, 5), 50000u);
    CU_ASSERT_EQUAL(claims_resend_us(500000, 5), 2500000u);
    CU_ASSERT_EQUAL(claims_resend_us(500000, 0), 500000u);
    CU_ASSERT_EQUAL(claims_resend_us(UINT64_MAX / 2, 5), UINT64_MAX);
}

static void test_expiry_caps(void)
{
    /* GRTT 1000 s, ROBUST 255: 5 x 255 x 1000 s, 15 days, becomes the cap. */
    uint64_t g = quant_rtt_decode_us(255);
    CU_ASSERT(g >= 900000000u);
    CU_ASSERT_EQUAL(claims_expiry_us(g, 5 * 255, CLAIMS_UNCONFIRMED_DEF_US), 30000000u);
    CU_ASSERT_EQUAL(claims_expiry_us(g, 255, CLAIMS_IDLE_MAX_US), 300000000u);
    /* The spec §1.6 floor of 1 s stays, for tiny claims and tiny caps. */
    CU_ASSERT_EQUAL(claims_expiry_us(1, 1, CLAIMS_IDLE_MAX_US), 1000000u);
    CU_ASSERT_EQUAL(claims_expiry_us(g, 1, 10), 1000000u);
    /* Defaults of a real session are untouched: 20 x 0.5 s, 5 x 20 x 0.5 s. */
    CU_ASSERT_EQUAL(claims_expiry_us(500000, 20, CLAIMS_IDLE_MAX_US), 10000000u);
    CU_ASSERT_EQUAL(claims_expiry_us(500000, 100, CLAIMS_UNCONFIRMED_DEF_US), 30000000u);
    CU_ASSERT_EQUAL(claims_expiry_us(100000, 100, CLAIMS_UNCONFIRMED_DEF_US), 10000000u);
    /* No cap, no overflow. */
    CU_ASSERT_EQUAL(claims_expiry_us(UINT64_MAX, 3, 0), UINT64_MAX);
}

static const struct cu_test claims_tests[] = {{"resend intervals have a floor", test_resend_floor},
                                              {"expiries have caps", test_expiry_caps},
                                              {NULL, NULL}};

CU_MAIN({"proto/claims", claims_tests})
