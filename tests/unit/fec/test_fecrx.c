/* core/fec/fecrx: a receiver's held parity, decodability, NAK reduction. */
#include "core/fec/fecrx.h"
#include "cu.h"

#include <stdlib.h>
#include <string.h>

enum { BS = 64 };

static uint8_t blk[BS];

static void test_one_short(void)
{
    struct fec_rx *rx;
    CU_ASSERT_EQUAL_FATAL(fec_rx_new(&rx, 8, BS), 0);
    /* A FEC block of 10 missing 3: two parity leave it one short. */
    CU_ASSERT_EQUAL(fec_rx_add(rx, 2, 7, 10, 0, 3, blk), FEC_RX_HELD);
    CU_ASSERT_EQUAL(fec_rx_add(rx, 2, 7, 10, 5, 3, blk), FEC_RX_HELD);
    CU_ASSERT_FALSE(fec_rx_decodable(rx, 2, 7, 3));
    CU_ASSERT_EQUAL(fec_rx_needs(rx, 2, 7, 3), 1);
    /* It stays NAKed: of its three NAK bits exactly one remains. */
    struct fec_layout l;
    CU_ASSERT_EQUAL(fec_layout_init(&l, 100, 10, 1), 0);
    uint8_t naks[13] = {0};
    for (unsigned i = 0; i < 3; i++) {
        uint32_t b = fec_layout_block(&l, 7, 2 + 3 * i);
        naks[b / 8] |= (uint8_t)(1u << (b % 8));
    }
    naks[0] = 0x01; /* FEC block 0: one NAK, no parity: untouched */
    CU_ASSERT_EQUAL(fec_rx_reduce_naks(rx, 2, &l, naks, sizeof(naks)), 2);
    uint8_t need[10] = {0};
    fec_tally_max(&l, naks, sizeof(naks), need);
    CU_ASSERT_EQUAL(need[7], 1);
    CU_ASSERT_EQUAL(need[0], 1);
    /* Another section's parity does not touch this section's bitmap. */
    CU_ASSERT_EQUAL(fec_rx_reduce_naks(rx, 3, &l, naks, sizeof(naks)), 0);
    /* The third parity makes it decodable; the ids come back as symbols k + p. */
    CU_ASSERT_EQUAL(fec_rx_add(rx, 2, 7, 10, 9, 3, blk), FEC_RX_DECODE);
    CU_ASSERT_TRUE(fec_rx_decodable(rx, 2, 7, 3));
    const uint8_t *bufs[8];
    uint8_t ids[8];
    CU_ASSERT_EQUAL(fec_rx_parity(rx, 2, 7, bufs, ids, 8), 3);
    unsigned sum = ids[0] + ids[1] + ids[2];
    CU_ASSERT_EQUAL(sum, 10 * 3 + 0 + 5 + 9);
    /* More than it needs is not stored. */
    CU_ASSERT_EQUAL(fec_rx_add(rx, 2, 7, 10, 11, 3, blk), FEC_RX_USELESS);
    CU_ASSERT_EQUAL(fec_rx_used(rx), 3);
    fec_rx_release(rx, 2, 7);
    CU_ASSERT_EQUAL(fec_rx_used(rx), 0);
    CU_ASSERT_EQUAL(fec_rx_held(rx, 2, 7), 0);
    fec_rx_free(rx);
}

static void test_dup_full_bad(void)
{
    struct fec_rx *rx;
    CU_ASSERT_EQUAL_FATAL(fec_rx_new(&rx, 2, BS), 0);
    CU_ASSERT_EQUAL(fec_rx_add(rx, 0, 0, 20, 3, 5, blk), FEC_RX_HELD);
    CU_ASSERT_EQUAL(fec_rx_add(rx, 0, 0, 20, 3, 5, blk), FEC_RX_DUP);
    CU_ASSERT_EQUAL(fec_rx_add(rx, 0, 0, 21, 4, 5, blk), FEC_EINVAL); /* k changed */
    CU_ASSERT_EQUAL(fec_rx_add(rx, 0, 1, 20, 0, 0, blk), FEC_RX_USELESS);
    CU_ASSERT_EQUAL(fec_rx_add(rx, 0, 1, 20, 0, 21, blk), FEC_EINVAL);
    CU_ASSERT_EQUAL(fec_rx_add(rx, 0, 1, 20, 236, 2, blk), FEC_EINVAL); /* id 256 */
    CU_ASSERT_EQUAL(fec_rx_add(rx, 0, 1, 20, 235, 2, blk), FEC_RX_HELD);
    CU_ASSERT_EQUAL(fec_rx_add(rx, 0, 2, 20, 0, 2, blk), FEC_RX_FULL);
    CU_ASSERT_EQUAL(fec_rx_add(rx, 0, 0, 0, 0, 0, blk), FEC_EINVAL);
    fec_rx_reset(rx);
    CU_ASSERT_EQUAL(fec_rx_used(rx), 0);
    CU_ASSERT_EQUAL(fec_rx_add(rx, 0, 2, 20, 0, 2, blk), FEC_RX_HELD);
    CU_ASSERT_EQUAL(fec_rx_slots(rx), 2);
    fec_rx_free(rx);
    CU_ASSERT_EQUAL(fec_rx_new(&rx, 0, BS), FEC_EINVAL);
    CU_ASSERT_EQUAL(fec_rx_new(&rx, 65535, BS), FEC_EINVAL);
    CU_ASSERT_EQUAL(fec_rx_new(&rx, 4, 0), FEC_EINVAL);
}

/* Source blocks arriving after parity release what is no longer needed. */
static void test_source_arrives(void)
{
    struct fec_rx *rx;
    CU_ASSERT_EQUAL_FATAL(fec_rx_new(&rx, 8, BS), 0);
    CU_ASSERT_EQUAL(fec_rx_add(rx, 1, 1, 8, 0, 4, blk), FEC_RX_HELD);
    CU_ASSERT_EQUAL(fec_rx_add(rx, 1, 1, 8, 1, 4, blk), FEC_RX_HELD);
    CU_ASSERT_EQUAL(fec_rx_add(rx, 1, 1, 8, 2, 4, blk), FEC_RX_HELD);
    CU_ASSERT_EQUAL(fec_rx_source(rx, 1, 1, 3), 3); /* decodable now: kept */
    CU_ASSERT_TRUE(fec_rx_decodable(rx, 1, 1, 3));
    CU_ASSERT_EQUAL(fec_rx_source(rx, 1, 1, 1), 1);
    CU_ASSERT_EQUAL(fec_rx_used(rx), 1);
    CU_ASSERT_EQUAL(fec_rx_source(rx, 1, 1, 0), 0);
    CU_ASSERT_EQUAL(fec_rx_used(rx), 0);
    CU_ASSERT_EQUAL(fec_rx_source(rx, 1, 9, 2), 0);
    fec_rx_free(rx);
}

/* The bytes stored are the bytes given. */
static void test_bytes(void)
{
    struct fec_rx *rx;
    CU_ASSERT_EQUAL_FATAL(fec_rx_new(&rx, 4, BS), 0);
    uint8_t a[BS], b[BS];
    memset(a, 0xA5, BS), memset(b, 0x5A, BS);
    CU_ASSERT_EQUAL(fec_rx_add(rx, 9, 9, 30, 7, 3, a), FEC_RX_HELD);
    CU_ASSERT_EQUAL(fec_rx_add(rx, 9, 9, 30, 8, 3, b), FEC_RX_HELD);
    const uint8_t *bufs[4];
    uint8_t ids[4];
    CU_ASSERT_EQUAL(fec_rx_parity(rx, 9, 9, bufs, ids, 1), 1);
    CU_ASSERT_EQUAL(fec_rx_parity(rx, 9, 9, bufs, ids, 4), 2);
    for (int i = 0; i < 2; i++)
        CU_ASSERT_EQUAL(memcmp(bufs[i], ids[i] == 37 ? a : b, BS), 0);
    CU_ASSERT_EQUAL(fec_rx_parity(rx, 9, 8, bufs, ids, 4), 0);
    fec_rx_free(rx);
}

/* Many FEC blocks in and out against a model: the hash keeps every entry findable. */
static void test_model(void)
{
    enum { SLOTS = 64, KEYS = 200 };
    struct fec_rx *rx;
    CU_ASSERT_EQUAL_FATAL(fec_rx_new(&rx, SLOTS, BS), 0);
    static unsigned model[KEYS];
    size_t used = 0;
    uint64_t x = 88172645463325252ull;
    int bad = 0;
    for (int step = 0; step < 200000; step++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        unsigned key = (unsigned)(x % KEYS);
        uint16_t sec = (uint16_t)(key / 10), fb = (uint16_t)(key % 10 * 613);
        if ((x >> 20) % 3 == 0) {
            used -= model[key];
            model[key] = 0;
            fec_rx_release(rx, sec, fb);
        } else {
            int r = fec_rx_add(rx, sec, fb, 100, model[key], 100, blk);
            if (used == SLOTS)
                bad += r != FEC_RX_FULL;
            else
                bad += r != FEC_RX_HELD, model[key]++, used++;
        }
        if (step % 1000 == 0)
            for (unsigned k = 0; k < KEYS; k++)
                bad += fec_rx_held(rx, (uint16_t)(k / 10), (uint16_t)(k % 10 * 613)) != model[k];
        bad += fec_rx_used(rx) != used;
    }
    CU_ASSERT_EQUAL(bad, 0);
    fec_rx_free(rx);
}

static const struct cu_test rx_tests[] = {
    {"one short of decodable stays NAKed", test_one_short},
    {"duplicates, full pool, bad parameters", test_dup_full_bad},
    {"source arrives after parity", test_source_arrives},
    {"stored bytes", test_bytes},
    {"hash against a model", test_model},
    {NULL, NULL}};
CU_MAIN({"fec/rx", rx_tests})
