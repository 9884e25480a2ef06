#include "core/proto/bitmap.h"
#include "cu.h"

#include <string.h>

static void test_basic(void)
{
    struct bitmap b;
    CU_ASSERT_EQUAL(bitmap_init(&b, 130, true), 0);
    CU_ASSERT_EQUAL(b.nwords, 3);
    CU_ASSERT_EQUAL(bitmap_count(&b, 0, 1000), 130);
    /* Bits past nbits stay clear. */
    CU_ASSERT_EQUAL(b.w[2], 3);
    CU_ASSERT_TRUE(bitmap_test_clear(&b, 64));
    CU_ASSERT_FALSE(bitmap_test_clear(&b, 64));
    CU_ASSERT_FALSE(bitmap_get(&b, 64));
    CU_ASSERT_EQUAL(bitmap_count(&b, 0, 130), 129);
    bitmap_fill(&b, false);
    CU_ASSERT_EQUAL(bitmap_count(&b, 0, 130), 0);
    CU_ASSERT_EQUAL(bitmap_next_set(&b, 0), 130);
    bitmap_set(&b, 5);
    bitmap_set(&b, 129);
    CU_ASSERT_EQUAL(bitmap_next_set(&b, 0), 5);
    CU_ASSERT_EQUAL(bitmap_next_set(&b, 5), 5);
    CU_ASSERT_EQUAL(bitmap_next_set(&b, 6), 129);
    CU_ASSERT_EQUAL(bitmap_next_set(&b, 130), 130);
    CU_ASSERT_EQUAL(bitmap_next_set(&b, 5000), 130);
    bitmap_free(&b);

    CU_ASSERT_EQUAL(bitmap_init(&b, 0, true), 0);
    CU_ASSERT_EQUAL(bitmap_next_set(&b, 0), 0);
    CU_ASSERT_EQUAL(bitmap_count(&b, 0, 10), 0);
    bitmap_free(&b);
}

/* Reference model: bit by bit. */
static void ref_extract(const struct bitmap *b, uint32_t start, uint32_t n, uint8_t *out,
                        size_t len)
{
    memset(out, 0, len);
    for (uint32_t k = 0; k < n && k / 8 < len; k++)
        if (start + k < b->nbits && bitmap_get(b, start + k))
            out[k / 8] |= (uint8_t)(1u << (k % 8));
}

static void test_extract_unaligned(void)
{
    struct bitmap b;
    CU_ASSERT_EQUAL(bitmap_init(&b, 1000, false), 0);
    uint64_t x = 0x9E3779B97F4A7C15ull;
    for (uint32_t i = 0; i < 1000; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        if (x & 1)
            bitmap_set(&b, i);
    }
    uint8_t got[140], want[140];
    static const uint32_t starts[] = {0, 1, 7, 8, 63, 64, 65, 127, 333, 990};
    static const uint32_t lens[] = {0, 1, 8, 9, 63, 64, 65, 129, 500, 1000};
    for (size_t i = 0; i < 10; i++) {
        for (size_t j = 0; j < 10; j++) {
            size_t outlen = lens[j] / 8 + 1;
            uint32_t c = bitmap_extract(&b, starts[i], lens[j], got, outlen);
            ref_extract(&b, starts[i], lens[j], want, outlen);
            CU_ASSERT_EQUAL(memcmp(got, want, outlen), 0);
            CU_ASSERT_EQUAL(c, bitmap_count(&b, starts[i], lens[j]));
            CU_ASSERT_EQUAL(c, bitmap_bytes_count(want, outlen, lens[j]));
        }
    }
    bitmap_free(&b);
}

static void test_or_bytes(void)
{
    struct bitmap b;
    CU_ASSERT_EQUAL(bitmap_init(&b, 300, false), 0);
    uint8_t in[40];
    memset(in, 0xFF, sizeof(in));
    /* 13 bits at an unaligned start: exactly those get set. */
    CU_ASSERT_EQUAL(bitmap_or_bytes(&b, 61, 13, in, sizeof(in)), 13);
    CU_ASSERT_EQUAL(bitmap_count(&b, 0, 300), 13);
    CU_ASSERT_FALSE(bitmap_get(&b, 60));
    CU_ASSERT_TRUE(bitmap_get(&b, 61));
    CU_ASSERT_TRUE(bitmap_get(&b, 73));
    CU_ASSERT_FALSE(bitmap_get(&b, 74));
    /* Never past nbits, never past the input. */
    bitmap_fill(&b, false);
    CU_ASSERT_EQUAL(bitmap_or_bytes(&b, 290, 100, in, sizeof(in)), 10);
    CU_ASSERT_EQUAL(bitmap_count(&b, 0, 300), 10);
    CU_ASSERT_EQUAL(b.w[4] >> (300 - 256), 0);
    bitmap_fill(&b, false);
    CU_ASSERT_EQUAL(bitmap_or_bytes(&b, 0, 300, in, 2), 16);
    CU_ASSERT_EQUAL(bitmap_count(&b, 0, 300), 16);
    /* A round trip through the STATUS format. */
    bitmap_fill(&b, false);
    uint8_t pat[10] = {0x81, 0, 0x10, 0xFF, 0, 0, 0x01, 0, 0, 0x80};
    CU_ASSERT_EQUAL(bitmap_or_bytes(&b, 37, 80, pat, sizeof(pat)), 13);
    uint8_t back[11];
    CU_ASSERT_EQUAL(bitmap_extract(&b, 37, 80, back, sizeof(back)), 13);
    CU_ASSERT_EQUAL(memcmp(back, pat, sizeof(pat)), 0);
    CU_ASSERT_EQUAL(back[10], 0);
    bitmap_free(&b);
}

static void test_bytes_count(void)
{
    uint8_t in[3] = {0xFF, 0xFF, 0xFF};
    CU_ASSERT_EQUAL(bitmap_bytes_count(in, 3, 0), 0);
    CU_ASSERT_EQUAL(bitmap_bytes_count(in, 3, 5), 5);
    CU_ASSERT_EQUAL(bitmap_bytes_count(in, 3, 17), 17);
    CU_ASSERT_EQUAL(bitmap_bytes_count(in, 3, 100), 24);
    CU_ASSERT_EQUAL(bitmap_bytes_count(in, 1, 100), 8);
}

static const struct cu_test bitmap_tests[] = {
    {"set, clear, next, count", test_basic},
    {"extract at any alignment matches a bitwise model", test_extract_unaligned},
    {"OR of NAK bytes stays in range", test_or_bytes},
    {"NAK byte counts", test_bytes_count},
    {NULL, NULL},
};

CU_MAIN({"proto/bitmap", bitmap_tests})
