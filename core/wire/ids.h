/*
 * Lists of 32-bit client/proxy IDs, the body of most messages (spec §1.4).
 *
 * A decoded list points into the datagram (`be`, network order) and is valid
 * only while the datagram buffer is. A list to encode may instead be a
 * host-order array (`host`, used when `be` is NULL). Splitting a long list
 * across packets is the engine's job: pass a slice (wire_ids_slice, or
 * simply host + offset and a count) and the encoder writes exactly that.
 */
#ifndef UFTP_WIRE_IDS_H
#define UFTP_WIRE_IDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct wire_ids {
    const uint8_t *be;    /* n × 4 bytes, network order, or NULL */
    const uint32_t *host; /* n IDs in host order, used when be is NULL */
    size_t n;
};

/* ID i (i < n), in host order. */
uint32_t wire_ids_get(const struct wire_ids *l, size_t i);

/*
 * True when id is in the list. The whole list is searched: a zero entry
 * does not end it (the reference stops at 0, spec §6 item 15).
 */
bool wire_ids_contains(const struct wire_ids *l, uint32_t id);

/* The sub-list [off, off+n), clamped to the list. */
struct wire_ids wire_ids_slice(const struct wire_ids *l, size_t off, size_t n);

/* A host-order list over an array. */
static inline struct wire_ids wire_ids_of(const uint32_t *ids, size_t n)
{
    struct wire_ids l = {NULL, ids, n};
    return l;
}

/*
 * spec §4: how many 4-byte IDs a packet may carry at this block size, as
 * the reference counts them. The datagram is then 16 + hlen*4 + 4·n bytes:
 * with a large header (ENC_INFO, RSA keys) and 8800-byte blocks that is more
 * than UFTP_MAX_DATAGRAM, so size send buffers as 16 + 1020 + blocksize.
 */
static inline size_t wire_max_ids(uint32_t blocksize)
{
    return blocksize / 4;
}

#endif
