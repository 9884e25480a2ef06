#include "core/proto/blocks.h"
#include "cu.h"

/* Walks every block both ways and checks the sections tile the file. */
static void check_consistent(const struct blocks *b)
{
    uint32_t abs = 0;
    for (uint32_t s = 0; s < b->sections; s++) {
        uint32_t n = blocks_in_section(b, s);
        CU_ASSERT(n == b->small || n == b->small + 1);
        CU_ASSERT(n <= b->per_section);
        CU_ASSERT_EQUAL(blocks_section_start(b, s), abs);
        for (uint32_t k = 0; k < n; k++, abs++) {
            uint32_t a = UINT32_MAX;
            uint16_t s2 = 0, k2 = 0;
            CU_ASSERT_EQUAL(blocks_to_abs(b, s, k, &a), 0);
            CU_ASSERT_EQUAL(a, abs);
            CU_ASSERT_EQUAL(blocks_from_abs(b, abs, &s2, &k2), 0);
            CU_ASSERT(s2 == s && k2 == k);
        }
        uint32_t a;
        CU_ASSERT_EQUAL(blocks_to_abs(b, s, n, &a), BLOCKS_ERANGE);
    }
    CU_ASSERT_EQUAL(abs, b->blocks);
}

static void test_empty_file(void)
{
    struct blocks b;
    CU_ASSERT_EQUAL(blocks_init(&b, 0, 1300), 0);
    CU_ASSERT_EQUAL(b.blocks, 0);
    CU_ASSERT_EQUAL(b.sections, 0);
    CU_ASSERT_EQUAL(b.small, 0);
    CU_ASSERT_EQUAL(b.big_sections, 0);
    CU_ASSERT_EQUAL(blocks_in_section(&b, 0), 0);
    uint32_t a;
    uint16_t s, k;
    CU_ASSERT_EQUAL(blocks_to_abs(&b, 0, 0, &a), BLOCKS_ERANGE);
    CU_ASSERT_EQUAL(blocks_from_abs(&b, 0, &s, &k), BLOCKS_ERANGE);
    CU_ASSERT_EQUAL(blocks_bytes(&b, 0), 0);
}

static void test_capture_file(void)
{
    /* The captures' 200,000-byte file at 1300-byte blocks: 154 blocks, 1 section. */
    struct blocks b;
    CU_ASSERT_EQUAL(blocks_init(&b, 200000, 1300), 0);
    CU_ASSERT_EQUAL(b.blocks, 154);
    CU_ASSERT_EQUAL(b.sections, 1);
    CU_ASSERT_EQUAL(b.per_section, 10400);
    CU_ASSERT_EQUAL(b.small, 154);
    CU_ASSERT_EQUAL(b.big_sections, 0);
    CU_ASSERT_EQUAL(blocks_bytes(&b, 0), 1300);
    CU_ASSERT_EQUAL(blocks_bytes(&b, 152), 1300);
    CU_ASSERT_EQUAL(blocks_bytes(&b, 153), 200000 - 153 * 1300); /* 1100, as captured */
    CU_ASSERT_EQUAL(blocks_bytes(&b, 154), 0);
    CU_ASSERT_EQUAL(blocks_offset(&b, 153), 198900);
    check_consistent(&b);
}

static void test_exact_multiples(void)
{
    struct blocks b;
    CU_ASSERT_EQUAL(blocks_init(&b, 1300, 1300), 0);
    CU_ASSERT_EQUAL(b.blocks, 1);
    CU_ASSERT_EQUAL(blocks_bytes(&b, 0), 1300); /* 4.9.1: the last block is whole */
    CU_ASSERT_EQUAL(blocks_init(&b, 1, 1300), 0);
    CU_ASSERT_EQUAL(b.blocks, 1);
    CU_ASSERT_EQUAL(blocks_bytes(&b, 0), 1);
    /* Exactly one full section, then one block more. */
    CU_ASSERT_EQUAL(blocks_init(&b, 10400ull * 1300, 1300), 0);
    CU_ASSERT_EQUAL(b.blocks, 10400);
    CU_ASSERT_EQUAL(b.sections, 1);
    CU_ASSERT_EQUAL(b.small, 10400);
    CU_ASSERT_EQUAL(blocks_init(&b, 10400ull * 1300 + 1, 1300), 0);
    CU_ASSERT_EQUAL(b.blocks, 10401);
    CU_ASSERT_EQUAL(b.sections, 2);
    CU_ASSERT_EQUAL(b.small, 5200);
    CU_ASSERT_EQUAL(b.big_sections, 1);
    CU_ASSERT_EQUAL(blocks_in_section(&b, 0), 5201);
    CU_ASSERT_EQUAL(blocks_in_section(&b, 1), 5200);
    CU_ASSERT_EQUAL(blocks_bytes(&b, 10400), 1);
    check_consistent(&b);
}

static void test_big_small_sections(void)
{
    /* 3 sections for 20801 blocks at 1300: small 6933, 2 big sections of 6934. */
    struct blocks b;
    CU_ASSERT_EQUAL(blocks_init(&b, 20801ull * 1300, 1300), 0);
    CU_ASSERT_EQUAL(b.sections, 3);
    CU_ASSERT_EQUAL(b.small, 6933);
    CU_ASSERT_EQUAL(b.big_sections, 2);
    uint32_t a;
    CU_ASSERT_EQUAL(blocks_to_abs(&b, 2, 0, &a), 0);
    CU_ASSERT_EQUAL(a, 2 * 6934);
    uint16_t s, k;
    CU_ASSERT_EQUAL(blocks_from_abs(&b, 20800, &s, &k), 0);
    CU_ASSERT_EQUAL(s, 2);
    CU_ASSERT_EQUAL(k, 6932);
    CU_ASSERT_EQUAL(blocks_to_abs(&b, 3, 0, &a), BLOCKS_ERANGE);
    check_consistent(&b);
    /* Small block sizes: 8 blocks per section at blocksize 1. */
    CU_ASSERT_EQUAL(blocks_init(&b, 17, 1), 0);
    CU_ASSERT_EQUAL(b.per_section, 8);
    CU_ASSERT_EQUAL(b.sections, 3);
    CU_ASSERT_EQUAL(b.small, 5);
    CU_ASSERT_EQUAL(b.big_sections, 2);
    check_consistent(&b);
}

static void test_limits(void)
{
    struct blocks b;
    CU_ASSERT_EQUAL(blocks_init(&b, 100, 0), BLOCKS_EINVAL);
    /* 65535 sections of 10400 blocks of 1300 bytes is the largest file. */
    uint64_t max1300 = 65535ull * 10400 * 1300;
    CU_ASSERT_EQUAL(blocks_init(&b, max1300, 1300), 0);
    CU_ASSERT_EQUAL(b.sections, 65535);
    CU_ASSERT_EQUAL(b.blocks, 65535u * 10400);
    CU_ASSERT_EQUAL(blocks_bytes(&b, b.blocks - 1), 1300);
    uint16_t s, k;
    CU_ASSERT_EQUAL(blocks_from_abs(&b, b.blocks - 1, &s, &k), 0);
    CU_ASSERT_EQUAL(s, 65534);
    CU_ASSERT_EQUAL(k, 10399);
    /* One byte more needs section 65536: refused, never wrapped (spec §6 item 17). */
    CU_ASSERT_EQUAL(blocks_init(&b, max1300 + 1, 1300), BLOCKS_ETOOBIG);
    /* At 8800-byte blocks the section is capped at 65536 blocks. */
    uint64_t max8800 = 65535ull * 65536 * 8800;
    CU_ASSERT_EQUAL(blocks_init(&b, max8800, 8800), 0);
    CU_ASSERT_EQUAL(b.per_section, 65536);
    CU_ASSERT_EQUAL(b.blocks, 4294901760u);
    CU_ASSERT_EQUAL(blocks_from_abs(&b, b.blocks - 1, &s, &k), 0);
    CU_ASSERT_EQUAL(s, 65534);
    CU_ASSERT_EQUAL(k, 65535);
    CU_ASSERT_EQUAL(blocks_init(&b, max8800 + 1, 8800), BLOCKS_ETOOBIG);
    /* The 48-bit size field. */
    CU_ASSERT_EQUAL(blocks_init(&b, BLOCKS_MAX_SIZE + 1, 65535), BLOCKS_ETOOBIG);
    CU_ASSERT_EQUAL(blocks_init(&b, UINT64_MAX, 1300), BLOCKS_ETOOBIG);
    /* 2^48 - 1 at 1-byte blocks: blocks would need 48 bits; sections far too many. */
    CU_ASSERT_EQUAL(blocks_init(&b, BLOCKS_MAX_SIZE, 1), BLOCKS_ETOOBIG);
}

static const struct cu_test blocks_tests[] = {
    {"empty file: no blocks, no sections", test_empty_file},
    {"the captured 200 KB file", test_capture_file},
    {"exact multiples of block and section", test_exact_multiples},
    {"big and small sections", test_big_small_sections},
    {"file size limits", test_limits},
    {NULL, NULL},
};

CU_MAIN({"proto/blocks", blocks_tests})
