#include "core/proto/idmap.h"

#include <stdlib.h>

void idmap_init(struct idmap *m)
{
    m->keys = m->vals = NULL;
    m->cap = m->n = 0;
}

void idmap_free(struct idmap *m)
{
    free(m->keys);
    free(m->vals);
    idmap_init(m);
}

static size_t slot(uint32_t id, size_t cap)
{
    /* Fibonacci hashing: IDs are often consecutive addresses. */
    return (size_t)((id * UINT32_C(2654435769)) & (cap - 1));
}

uint32_t idmap_get(const struct idmap *m, uint32_t id)
{
    if (id == 0 || m->cap == 0)
        return IDMAP_NONE;
    for (size_t i = slot(id, m->cap);; i = (i + 1) & (m->cap - 1)) {
        if (m->keys[i] == id)
            return m->vals[i];
        if (m->keys[i] == 0)
            return IDMAP_NONE;
    }
}

static int grow(struct idmap *m)
{
    size_t cap = m->cap ? m->cap * 2 : 64;
    uint32_t *k = calloc(cap, sizeof(*k));
    uint32_t *v = calloc(cap, sizeof(*v));
    if (k == NULL || v == NULL) {
        free(k);
        free(v);
        return IDMAP_ENOMEM;
    }
    for (size_t j = 0; j < m->cap; j++) {
        if (m->keys[j] == 0)
            continue;
        size_t i = slot(m->keys[j], cap);
        while (k[i] != 0)
            i = (i + 1) & (cap - 1);
        k[i] = m->keys[j];
        v[i] = m->vals[j];
    }
    free(m->keys);
    free(m->vals);
    m->keys = k;
    m->vals = v;
    m->cap = cap;
    return 0;
}

int idmap_put(struct idmap *m, uint32_t id, uint32_t val)
{
    if (id == 0)
        return IDMAP_EINVAL;
    /* Keep the load at most 1/2. */
    if ((m->n + 1) * 2 > m->cap) {
        int rc = grow(m);
        if (rc < 0)
            return rc;
    }
    size_t i = slot(id, m->cap);
    while (m->keys[i] != 0) {
        if (m->keys[i] == id)
            return IDMAP_EEXIST;
        i = (i + 1) & (m->cap - 1);
    }
    m->keys[i] = id;
    m->vals[i] = val;
    m->n++;
    return 0;
}
