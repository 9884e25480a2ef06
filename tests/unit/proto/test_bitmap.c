#include "core/proto/bitmap.h"
#include "cu.h"

#include <stdlib.h>
#include <string.h>

static void test_basic(void)
{
    struct bitmap b;
    CU_ASSERT_EQUAL(bitmap_init(&b, 130, true), 0);
    CU_ASSERT_EQUAL(b.nchunks, 1);
    CU_ASSERT_EQUAL(bitmap_mem(&b), 0); /* all set: no memory */
    CU_ASSERT_EQUAL(bitmap_count(&b, 0, 1000), 130);
    CU_ASSERT_TRUE(bitmap_test_clear(&b, 64));
    /* Bits past nbits stay clear in the chunk's words. */
    CU_ASSERT_EQUAL(bitmap_mem(&b), 3 * 8);
    CU_ASSERT_EQUAL(b.c[0][2], 3);
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
    CU_ASSERT_PTR_NOT_NULL_FATAL(b.c[0]);
    CU_ASSERT_EQUAL(b.c[0][4] >> (300 - 256), 0);
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

/* xorshift64 for the model tests. */
static uint64_t rnd(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

/*
 * Chunks (issue 8): memory follows the bits in flight, not the map's size.
 * Clearing a map of 4 M bits in order (a receiver getting a 5 GB file)
 * never holds more than one chunk, and nothing at the end; a NAK sets one
 * chunk's worth; fill frees everything.
 */
static void test_chunks_memory(void)
{
    struct bitmap b;
    const uint32_t nbits = 4000000; /* 123 chunks, the last one short */
    CU_ASSERT_EQUAL_FATAL(bitmap_init(&b, nbits, true), 0);
    CU_ASSERT_EQUAL(b.nchunks, (nbits + BITMAP_CHUNK_BITS - 1) / BITMAP_CHUNK_BITS);
    CU_ASSERT_EQUAL(bitmap_mem(&b), 0);
    size_t peak = 0;
    unsigned bad = 0;
    for (uint32_t i = 0; i < nbits; i++) {
        bad += !bitmap_test_clear(&b, i);
        if (i % 4099 == 0 && bitmap_mem(&b) > peak)
            peak = bitmap_mem(&b);
    }
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT(peak > 0 && peak <= BITMAP_CHUNK_BITS / 8);
    CU_ASSERT_EQUAL(bitmap_mem(&b), 0);
    CU_ASSERT_EQUAL(bitmap_count(&b, 0, nbits), 0);
    CU_ASSERT_EQUAL(bitmap_next_set(&b, 0), nbits);
    CU_ASSERT_TRUE(bitmap_ok(&b));
    /* One NAK far into the map: one chunk, found by next_set. */
    bitmap_set(&b, 3999999);
    bitmap_set(&b, 2000000);
    /* A whole chunk (4096 bytes) and the short last one (2304 bits: 288 bytes). */
    CU_ASSERT_EQUAL(bitmap_mem(&b), 4096 + 288);
    CU_ASSERT_EQUAL(bitmap_next_set(&b, 0), 2000000);
    CU_ASSERT_EQUAL(bitmap_next_set(&b, 2000001), 3999999);
    CU_ASSERT_EQUAL(bitmap_count(&b, 0, nbits), 2);
    /* A chunk set bit by bit becomes uniform again and is freed. */
    bitmap_fill(&b, false);
    CU_ASSERT_EQUAL(bitmap_mem(&b), 0);
    for (uint32_t i = BITMAP_CHUNK_BITS; i < 2 * BITMAP_CHUNK_BITS; i++)
        bitmap_set(&b, i);
    CU_ASSERT_EQUAL(bitmap_mem(&b), 0);
    CU_ASSERT_EQUAL(bitmap_count(&b, 0, nbits), BITMAP_CHUNK_BITS);
    CU_ASSERT_EQUAL(bitmap_next_set(&b, 5), BITMAP_CHUNK_BITS);
    CU_ASSERT_TRUE(bitmap_get(&b, BITMAP_CHUNK_BITS + 77));
    bitmap_free(&b);
}

/* Every operation against a bool-per-bit model, across chunk edges. */
static void test_chunks_model(void)
{
    const uint32_t nbits = 3 * BITMAP_CHUNK_BITS + 1000;
    bool *model = calloc(nbits, sizeof(bool));
    struct bitmap b;
    CU_ASSERT_EQUAL_FATAL(bitmap_init(&b, nbits, false), 0);
    uint64_t x = 0x123456789ABCDEFull;
    uint8_t buf[BITMAP_CHUNK_BITS / 8 + 16], want[sizeof(buf)];
    for (int round = 0; round < 4000; round++) {
        uint32_t op = (uint32_t)(rnd(&x) % 6);
        uint32_t i = (uint32_t)(rnd(&x) % nbits);
        /* Near a chunk edge half the time. */
        if (rnd(&x) & 1)
            i = (uint32_t)((rnd(&x) % 4) * BITMAP_CHUNK_BITS + (rnd(&x) % 130)) - 65;
        if (i >= nbits)
            i = nbits - 1;
        uint32_t n = (uint32_t)(rnd(&x) % 300);
        if (op == 5)
            n = (uint32_t)(rnd(&x) % (8 * (sizeof(buf) - 16)));
        switch (op) {
        case 0:
            bitmap_set(&b, i);
            model[i] = true;
            break;
        case 1:
            CU_ASSERT_EQUAL(bitmap_test_clear(&b, i), model[i]);
            model[i] = false;
            break;
        case 2: { /* next_set */
            uint32_t j = i;
            while (j < nbits && !model[j])
                j++;
            CU_ASSERT_EQUAL(bitmap_next_set(&b, i), j);
            break;
        }
        case 3: { /* count */
            uint32_t c = 0;
            for (uint32_t k = i; k < nbits && k - i < n; k++)
                c += model[k];
            CU_ASSERT_EQUAL(bitmap_count(&b, i, n), c);
            break;
        }
        case 4: /* fill a whole chunk, now and then */
            if (rnd(&x) % 50 == 0) {
                bool v = rnd(&x) & 1;
                bitmap_fill(&b, v);
                for (uint32_t k = 0; k < nbits; k++)
                    model[k] = v;
            }
            break;
        case 5: { /* OR in NAK bytes, then read them back */
            size_t len = n / 8 + 1;
            for (size_t k = 0; k < len; k++)
                buf[k] = (uint8_t)(rnd(&x) & rnd(&x));
            bitmap_or_bytes(&b, i, n, buf, len);
            for (uint32_t k = 0; k < n && i + k < nbits; k++)
                if (buf[k / 8] >> (k % 8) & 1)
                    model[i + k] = true;
            bitmap_extract(&b, i, n, buf, len);
            memset(want, 0, len);
            for (uint32_t k = 0; k < n && i + k < nbits; k++)
                if (model[i + k])
                    want[k / 8] |= (uint8_t)(1u << (k % 8));
            CU_ASSERT_EQUAL(memcmp(buf, want, len), 0);
            break;
        }
        }
        CU_ASSERT_EQUAL(bitmap_get(&b, i), model[i]);
    }
    for (uint32_t k = 0; k < nbits; k++)
        if (bitmap_get(&b, k) != model[k]) {
            CU_FAIL("map and model differ");
            break;
        }
    CU_ASSERT_TRUE(bitmap_ok(&b));
    bitmap_free(&b);
    free(model);
}

static const struct cu_test bitmap_tests[] = {
    {"set, clear, next, count", test_basic},
    {"extract at any alignment matches a bitwise model", test_extract_unaligned},
    {"OR of NAK bytes stays in range", test_or_bytes},
    {"NAK byte counts", test_bytes_count},
    {"chunks: memory follows the bits in flight", test_chunks_memory},
    {"chunks: every operation against a model", test_chunks_model},
    {NULL, NULL},
};

CU_MAIN({"proto/bitmap", bitmap_tests})
