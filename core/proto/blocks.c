#include "core/proto/blocks.h"

#include <string.h>

int blocks_init(struct blocks *b, uint64_t size, uint32_t blocksize)
{
    memset(b, 0, sizeof(*b));
    if (blocksize == 0)
        return BLOCKS_EINVAL;
    if (size > BLOCKS_MAX_SIZE)
        return BLOCKS_ETOOBIG;
    uint64_t per = (uint64_t)blocksize * 8;
    if (per > BLOCKS_MAX_PERSEC)
        per = BLOCKS_MAX_PERSEC;
    /* 64-bit throughout: 2^48 / 1 byte blocks would not fit 32 bits. */
    uint64_t blocks = size / blocksize + (size % blocksize ? 1 : 0);
    uint64_t sections = blocks / per + (blocks % per ? 1 : 0);
    /* spec §6 item 17: the reference wraps here; we refuse. */
    if (sections > BLOCKS_MAX_SECTS)
        return BLOCKS_ETOOBIG;
    /* sections ≤ 65535 and per ≤ 65536 bound blocks below 2^32. */
    b->size = size;
    b->blocksize = blocksize;
    b->per_section = (uint32_t)per;
    b->blocks = (uint32_t)blocks;
    b->sections = (uint32_t)sections;
    if (sections > 0) {
        b->small = (uint32_t)(blocks / sections);
        b->big_sections = (uint32_t)(blocks - (uint64_t)b->small * sections);
    }
    return 0;
}

uint32_t blocks_section_start(const struct blocks *b, uint32_t section)
{
    if (section >= b->sections)
        return b->blocks;
    if (section < b->big_sections)
        return section * (b->small + 1);
    return b->big_sections * (b->small + 1) + (section - b->big_sections) * b->small;
}

uint32_t blocks_in_section(const struct blocks *b, uint32_t section)
{
    if (section >= b->sections)
        return 0;
    return section < b->big_sections ? b->small + 1 : b->small;
}

int blocks_to_abs(const struct blocks *b, uint32_t section, uint32_t block, uint32_t *abs)
{
    if (block >= blocks_in_section(b, section))
        return BLOCKS_ERANGE;
    *abs = blocks_section_start(b, section) + block;
    return 0;
}

int blocks_from_abs(const struct blocks *b, uint32_t abs, uint16_t *section, uint16_t *block)
{
    if (abs >= b->blocks)
        return BLOCKS_ERANGE;
    uint32_t big_end = b->big_sections * (b->small + 1);
    uint32_t s, k;
    if (abs < big_end) {
        s = abs / (b->small + 1);
        k = abs % (b->small + 1);
    } else {
        /* small ≥ 1 whenever blocks ≥ 1, since sections ≤ blocks. */
        s = b->big_sections + (abs - big_end) / b->small;
        k = (abs - big_end) % b->small;
    }
    *section = (uint16_t)s;
    *block = (uint16_t)k;
    return 0;
}

uint32_t blocks_bytes(const struct blocks *b, uint32_t abs)
{
    if (abs >= b->blocks)
        return 0;
    if (abs + 1 < b->blocks)
        return b->blocksize;
    return (uint32_t)(b->size - (uint64_t)abs * b->blocksize);
}
