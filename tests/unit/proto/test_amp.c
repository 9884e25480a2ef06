/* Anti-amplification credit (core/proto/amp.c, issue 14). */
#include <stdint.h>
#include <string.h>

#include "core/proto/amp.h"
#include "cu.h"

static void test_credit(void)
{
    struct amp a;
    memset(&a, 0, sizeof(a));
    CU_ASSERT_FALSE(amp_tx(&a, 1, 0)); /* nothing received, nothing sent */
    amp_rx(&a, 40);                    /* a 40-byte ANNOUNCE */
    CU_ASSERT_EQUAL(a.credit, 120);
    CU_ASSERT_TRUE(amp_tx(&a, 60, 28)); /* one REGISTER: 88 on the wire */
    CU_ASSERT_FALSE(amp_tx(&a, 60, 28));
    CU_ASSERT_EQUAL(a.refused, 2);
    CU_ASSERT_EQUAL(a.tx, 88);
    CU_ASSERT(a.tx <= AMP_FACTOR * a.rx);
    /* A refused 324-byte ABORT needs 118 bytes of ANNOUNCEs first. */
    memset(&a, 0, sizeof(a));
    amp_rx(&a, 117);
    CU_ASSERT_FALSE(amp_tx(&a, 324, 28));
    amp_rx(&a, 1);
    CU_ASSERT_TRUE(amp_tx(&a, 324, 28));
    /* Credit is capped: a session's past earns at most AMP_CAP. */
    for (int i = 0; i < 1000; i++)
        amp_rx(&a, 1400);
    CU_ASSERT_EQUAL(a.credit, AMP_CAP);
}

static void test_ratio_any_claims(void)
{
    /* Whatever sizes come and go, sent <= 3 x received, on the wire too. */
    struct amp a;
    memset(&a, 0, sizeof(a));
    uint64_t x = 12345, rx_wire = 0;
    for (int i = 0; i < 100000; i++) {
        x = x * 6364136223846793005u + 1442695040888963407u;
        size_t in = 20 + (x >> 33) % 1500, out = 20 + (x >> 13) % 1500;
        if ((x & 3) == 0) {
            amp_rx(&a, in);
            rx_wire += in + 28;
        }
        (void)amp_tx(&a, out, 28);
    }
    CU_ASSERT(a.tx <= AMP_FACTOR * a.rx);
    CU_ASSERT(a.tx <= AMP_FACTOR * rx_wire);
    CU_ASSERT(a.tx > 0 && a.refused > 0);
}

static void test_table(void)
{
    static struct amp_table t;
    memset(&t, 0, sizeof(t));
    uint8_t ip1[4] = {10, 0, 0, 1}, ip2[4] = {10, 0, 0, 2};
    uint64_t k1 = amp_key(ip1, 4, 42), k2 = amp_key(ip2, 4, 42);
    CU_ASSERT(k1 != 0 && k2 != 0 && k1 != k2);
    CU_ASSERT(amp_key(ip1, 4, 43) != k1); /* seeded */
    CU_ASSERT_EQUAL(amp_key(ip1, 4, 42), k1);
    amp_rx(amp_table_get(&t, k1), 100);
    CU_ASSERT_EQUAL(amp_table_get(&t, k1)->credit, 300);
    CU_ASSERT_EQUAL(amp_table_get(&t, k2)->credit, 0);
    CU_ASSERT_PTR_NULL(amp_table_get(&t, 0));
    /* A flood of other sources recycles entries; never more credit than earned. */
    uint64_t total_rx = 0, total_credit = 0;
    for (uint32_t i = 0; i < 100000; i++) {
        uint64_t k = amp_key(&i, sizeof(i), 7);
        struct amp *a = amp_table_get(&t, k);
        amp_rx(a, 40);
        total_rx += 40;
    }
    for (size_t i = 0; i < AMP_TABLE; i++)
        total_credit += t.e[i].a.credit;
    CU_ASSERT(total_credit <= AMP_FACTOR * total_rx);
}

static const struct cu_test amp_tests[] = {{"credit is 3 x what arrived", test_credit},
                                           {"ratio holds for any sizes", test_ratio_any_claims},
                                           {"per-source table", test_table},
                                           {NULL, NULL}};

CU_MAIN({"proto/amp", amp_tests})
