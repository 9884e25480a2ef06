/*
 * Fuzzes the block/section arithmetic with the untrusted numbers it gets
 * from FILEINFO/ANNOUNCE (size, block size) and FILESEG/STATUS (section,
 * block): no crash, no division by zero, and the mappings agree.
 */
#include "core/proto/blocks.h"
#include "core/wire/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* size (8), block size (2), section (2), block (2), absolute block (4), shift (1) */
    if (size < 19)
        return 0;
    uint64_t fsize = be64_get(data) >> (data[18] & 63); /* reach small sizes too */
    uint32_t bs = be16_get(data + 8);
    uint16_t sec = be16_get(data + 10), blk = be16_get(data + 12);
    uint32_t abs = be32_get(data + 14);
    struct blocks b;
    if (blocks_init(&b, fsize, bs) != 0)
        return 0;
    if (b.sections > BLOCKS_MAX_SECTS || (b.blocks == 0) != (fsize == 0))
        __builtin_trap();
    uint32_t a;
    if (blocks_to_abs(&b, sec, blk, &a) == 0) {
        uint16_t s2, k2;
        if (a >= b.blocks || blocks_from_abs(&b, a, &s2, &k2) != 0 || s2 != sec || k2 != blk)
            __builtin_trap();
        uint32_t nb = blocks_bytes(&b, a);
        if (nb == 0 || nb > bs)
            __builtin_trap();
    }
    if (b.blocks) {
        abs %= b.blocks;
        uint16_t s, k;
        if (blocks_from_abs(&b, abs, &s, &k) != 0 || blocks_to_abs(&b, s, k, &a) != 0 || a != abs)
            __builtin_trap();
        if (blocks_section_start(&b, s) + k != abs)
            __builtin_trap();
    }
    return 0;
}
