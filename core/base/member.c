#include "core/base/member.h"

static bool same_member(const struct member *m, const struct addr *g, const struct addr *src)
{
    if (!addr_equal_ip(&m->group, g))
        return false;
    if (addr_is_set(&m->source) != addr_is_set(src))
        return false;
    return !addr_is_set(src) || addr_equal_ip(&m->source, src);
}

int member_ref(struct member *v, size_t *n, size_t cap, bool join, const struct addr *group,
               const struct addr *source, struct member *what)
{
    struct addr none;
    addr_clear(&none);
    if (source == NULL)
        source = &none;
    for (size_t i = 0; i < *n; i++) {
        struct member *m = &v[i];
        if (!same_member(m, group, source))
            continue;
        if (join) {
            m->refs++;
            return 0;
        }
        if (--m->refs > 0)
            return 0;
        *what = *m;
        v[i] = v[--*n];
        return -1;
    }
    if (!join || *n == cap)
        return 0;
    struct member *m = &v[(*n)++];
    m->group = *group;
    m->source = *source;
    m->refs = 1;
    *what = *m;
    return 1;
}
