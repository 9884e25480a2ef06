/*
 * A map from 32-bit client/proxy IDs to small indices (the sender's
 * destination table: up to 100,000 entries, spec §4). Open addressing with
 * linear probing; lookups are O(1) on average, memory is about 16 bytes per
 * entry. ID 0 is reserved (it is never a valid ID, spec §0).
 */
#ifndef UFTP_PROTO_IDMAP_H
#define UFTP_PROTO_IDMAP_H

#include <stddef.h>
#include <stdint.h>

enum idmap_err {
    IDMAP_ENOMEM = -1,
    IDMAP_EINVAL = -2, /* ID 0 */
    IDMAP_EEXIST = -3,
};

#define IDMAP_NONE UINT32_MAX

struct idmap {
    uint32_t *keys; /* 0 = empty */
    uint32_t *vals;
    size_t cap; /* power of two */
    size_t n;
};

void idmap_init(struct idmap *m);
void idmap_free(struct idmap *m);
/* The index stored for id, or IDMAP_NONE. */
uint32_t idmap_get(const struct idmap *m, uint32_t id);
/* Adds id → val. Errors: IDMAP_EINVAL, IDMAP_EEXIST, IDMAP_ENOMEM. */
int idmap_put(struct idmap *m, uint32_t id, uint32_t val);

#endif
