#include "core/wire/ids.h"

#include "core/wire/buf.h"

uint32_t wire_ids_get(const struct wire_ids *l, size_t i)
{
    return l->be ? be32_get(l->be + 4 * i) : l->host[i];
}

bool wire_ids_contains(const struct wire_ids *l, uint32_t id)
{
    for (size_t i = 0; i < l->n; i++)
        if (wire_ids_get(l, i) == id)
            return true;
    return false;
}

struct wire_ids wire_ids_slice(const struct wire_ids *l, size_t off, size_t n)
{
    struct wire_ids s = {NULL, NULL, 0};
    if (off >= l->n)
        return s;
    if (n > l->n - off)
        n = l->n - off;
    if (l->be)
        s.be = l->be + 4 * off;
    else
        s.host = l->host + off;
    s.n = n;
    return s;
}
