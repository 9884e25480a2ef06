/*
 * Block and section arithmetic of a file (spec §1.5). Sender and receiver
 * both derive the layout from (size, blocksize) and must agree bit for bit:
 *
 *   blocks      = ceil(size / blocksize)
 *   per_section = min(8·blocksize, 65536)   (one section's NAKs fit a STATUS)
 *   sections    = ceil(blocks / per_section)
 *   small       = blocks / sections, big_sections = blocks − small·sections
 *   sections [0, big_sections) hold small+1 blocks, the rest hold small.
 *
 * An empty file has 0 blocks and 0 sections. The section number travels as
 * a uint16, so a file needing more than 65535 sections is refused here
 * rather than wrapped as the reference does (spec §6 item 17).
 */
#ifndef UFTP_PROTO_BLOCKS_H
#define UFTP_PROTO_BLOCKS_H

#include <stdint.h>

enum blocks_err {
    BLOCKS_EINVAL = -1,  /* block size 0 */
    BLOCKS_ETOOBIG = -2, /* size beyond 48 bits, or more than 65535 sections */
    BLOCKS_ERANGE = -3,  /* section / block index outside the file */
};

/* Largest file size the FILEINFO size field carries (48 bits). */
#define BLOCKS_MAX_SIZE   ((UINT64_C(1) << 48) - 1)
#define BLOCKS_MAX_SECTS  65535u
#define BLOCKS_MAX_PERSEC 65536u

struct blocks {
    uint64_t size;
    uint32_t blocksize;
    uint32_t blocks;
    uint32_t sections;     /* ≤ 65535 */
    uint32_t per_section;  /* the maximum, min(8·blocksize, 65536) */
    uint32_t small;        /* blocks in a small section */
    uint32_t big_sections; /* number of sections holding small+1 blocks */
};

/*
 * Computes the layout of a file of `size` bytes.
 * Errors: BLOCKS_EINVAL (blocksize 0), BLOCKS_ETOOBIG.
 */
int blocks_init(struct blocks *b, uint64_t size, uint32_t blocksize);

/* Blocks in `section`, or 0 when the section does not exist. */
uint32_t blocks_in_section(const struct blocks *b, uint32_t section);

/*
 * (section, block in section) → absolute block number.
 * Errors: BLOCKS_ERANGE (section or block outside the file).
 */
int blocks_to_abs(const struct blocks *b, uint32_t section, uint32_t block, uint32_t *abs);

/*
 * Absolute block number → (section, block in section); both fit the
 * FILESEG's 16-bit fields since a section holds at most 65536 blocks.
 * Errors: BLOCKS_ERANGE (abs ≥ blocks).
 */
int blocks_from_abs(const struct blocks *b, uint32_t abs, uint16_t *section, uint16_t *block);

/* Payload bytes in absolute block `abs` (blocksize except the last one); 0 if out of range. */
uint32_t blocks_bytes(const struct blocks *b, uint32_t abs);

/* File offset of absolute block `abs`. */
static inline uint64_t blocks_offset(const struct blocks *b, uint32_t abs)
{
    return (uint64_t)abs * b->blocksize;
}

/* First absolute block of `section` (section ≤ sections; = blocks at the end). */
uint32_t blocks_section_start(const struct blocks *b, uint32_t section);

#endif
