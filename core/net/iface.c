/* Interface enumeration and -I resolution; see iface.h. */
#include "core/net/iface.h"

#include <errno.h>
#include <ifaddrs.h>
#include <stdlib.h>
#include <string.h>

#include "core/net/resolve.h"

static unsigned int flags_of(unsigned int f)
{
    unsigned int r = 0;
    if (f & IFF_UP)
        r |= NET_IF_UP;
    if (f & IFF_RUNNING)
        r |= NET_IF_RUNNING;
    if (f & IFF_MULTICAST)
        r |= NET_IF_MULTICAST;
    if (f & IFF_LOOPBACK)
        r |= NET_IF_LOOPBACK;
    return r;
}

static bool has_ip_entry(const struct ifaddrs *head, const char *name)
{
    for (const struct ifaddrs *i = head; i != NULL; i = i->ifa_next)
        if (i->ifa_addr != NULL && strcmp(i->ifa_name, name) == 0 &&
            (i->ifa_addr->sa_family == AF_INET || i->ifa_addr->sa_family == AF_INET6))
            return true;
    return false;
}

int net_iflist_load(struct net_iflist *l)
{
    struct ifaddrs *head, *i;
    size_t cap = 0;

    l->v = NULL;
    l->n = 0;
    if (getifaddrs(&head) < 0)
        return -errno;
    for (i = head; i != NULL; i = i->ifa_next)
        cap++;
    if (cap > NET_IFLIST_MAX)
        cap = NET_IFLIST_MAX;
    if (cap == 0) {
        freeifaddrs(head);
        return 0;
    }
    l->v = calloc(cap, sizeof(*l->v));
    if (l->v == NULL) {
        freeifaddrs(head);
        return -ENOMEM;
    }
    for (i = head; i != NULL && l->n < cap; i = i->ifa_next) {
        struct net_iface *e = &l->v[l->n];
        unsigned int idx;
        int fam = i->ifa_addr != NULL ? i->ifa_addr->sa_family : AF_UNSPEC;

        if (strlen(i->ifa_name) >= sizeof(e->name))
            continue;
        if (fam != AF_INET && fam != AF_INET6) {
            /* Keep address-less interfaces (one entry each, from AF_PACKET). */
            if (fam != AF_PACKET || has_ip_entry(head, i->ifa_name))
                continue;
        }
        /* An interface without an index cannot be joined on (4.10 fix, spec §5). */
        idx = if_nametoindex(i->ifa_name);
        if (idx == 0)
            continue;
        memset(e, 0, sizeof(*e));
        memcpy(e->name, i->ifa_name, strlen(i->ifa_name) + 1);
        e->index = idx;
        e->flags = flags_of(i->ifa_flags);
        if (fam == AF_INET || fam == AF_INET6) {
            socklen_t sl =
                fam == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
            if (net_addr_from_sockaddr(&e->addr, i->ifa_addr, sl) < 0)
                continue;
            addr_set_port(&e->addr, 0);
        }
        l->n++;
    }
    freeifaddrs(head);
    return 0;
}

void net_iflist_free(struct net_iflist *l)
{
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

/* Best entry of the named interface (or, when name is NULL, of ifindex),
 * by family preference (see net_iflist_by_name). */
static const struct net_iface *pick(const struct net_iflist *l, const char *name,
                                    unsigned int index, int family)
{
    const struct net_iface *v4 = NULL, *v6 = NULL, *bare = NULL;

    for (size_t i = 0; i < l->n; i++) {
        const struct net_iface *e = &l->v[i];
        if (name != NULL && strcmp(e->name, name) != 0)
            continue;
        if (name == NULL && e->index != index)
            continue;
        switch (net_addr_af(&e->addr)) {
        case AF_INET:
            if (v4 == NULL)
                v4 = e;
            break;
        case AF_INET6:
            if (v6 == NULL)
                v6 = e;
            break;
        default:
            if (bare == NULL)
                bare = e;
            break;
        }
    }
    if (family == AF_INET)
        return v4;
    if (family == AF_INET6)
        return v6;
    return v4 != NULL ? v4 : v6 != NULL ? v6 : bare;
}

const struct net_iface *net_iflist_by_name(const struct net_iflist *l, const char *name, int family)
{
    return name != NULL ? pick(l, name, 0, family) : NULL;
}

const struct net_iface *net_iflist_by_addr(const struct net_iflist *l, const struct addr *a)
{
    struct addr want = *a;

    addr_unmap(&want);
    addr_set_port(&want, 0);
    for (size_t i = 0; i < l->n; i++) {
        struct addr have = l->v[i].addr;
        uint8_t x[16], y[16];
        size_t nx, ny;

        if (!addr_is_set(&have))
            continue;
        nx = addr_get_ip(&have, x);
        ny = addr_get_ip(&want, y);
        if (nx == ny && memcmp(x, y, nx) == 0)
            return &l->v[i];
    }
    return NULL;
}

int net_iface_resolve(const struct net_iflist *l, const char *spec, int family,
                      const struct net_iface **out)
{
    const struct net_iface *e;
    struct addr a;
    int rc;

    *out = NULL;
    if (spec == NULL || spec[0] == '\0' || strnlen(spec, 256) >= 256)
        return -EINVAL;
    if ((e = net_iflist_by_name(l, spec, family)) != NULL) {
        *out = e;
        return 0;
    }
    if (strnlen(spec, IF_NAMESIZE) < IF_NAMESIZE && net_iflist_by_name(l, spec, AF_UNSPEC))
        return -ENODEV; /* the interface exists, but has no address of that family */
    rc = net_addr_parse(&a, spec, 0);
    if (rc < 0) {
        rc = net_resolve_host(&a, spec, 0, family);
        if (rc == -EAFNOSUPPORT || rc == -EINVAL || rc == -ERANGE)
            return -ENODEV;
        if (rc < 0)
            return rc;
    }
    e = net_iflist_by_addr(l, &a);
    if (e == NULL || (family != AF_UNSPEC && net_addr_af(&e->addr) != family))
        return -ENODEV;
    *out = e;
    return 0;
}

size_t net_iflist_default_ifindexes(const struct net_iflist *l, unsigned int *out, size_t cap)
{
    size_t n = 0;

    for (size_t i = 0; i < l->n; i++) {
        const struct net_iface *e = &l->v[i];
        bool dup = false;

        if ((e->flags & (NET_IF_UP | NET_IF_MULTICAST | NET_IF_LOOPBACK)) !=
            (NET_IF_UP | NET_IF_MULTICAST))
            continue;
        for (size_t j = 0; j < i && !dup; j++)
            dup = l->v[j].index == e->index &&
                  (l->v[j].flags & (NET_IF_UP | NET_IF_MULTICAST | NET_IF_LOOPBACK)) ==
                      (NET_IF_UP | NET_IF_MULTICAST);
        if (dup)
            continue;
        if (n < cap)
            out[n] = e->index;
        n++;
    }
    return n;
}

const struct net_iface *net_iflist_first(const struct net_iflist *l, int family)
{
    const struct net_iface *lo = NULL;

    for (size_t i = 0; i < l->n; i++) {
        const struct net_iface *e = &l->v[i];
        if (!(e->flags & NET_IF_UP) || !addr_is_set(&e->addr))
            continue;
        if (family != AF_UNSPEC && net_addr_af(&e->addr) != family)
            continue;
        if (!(e->flags & NET_IF_LOOPBACK))
            return e;
        if (lo == NULL)
            lo = e;
    }
    return lo;
}

static bool usable_id(uint32_t id)
{
    /* 0 and 0xFFFFFFFF are not valid IDs (spec §0; 4.9.8 fix, spec §5). */
    return id != 0 && id != 0xffffffffu;
}

uint32_t net_iflist_default_id(const struct net_iflist *l)
{
    static const int order[] = {AF_INET, AF_INET6};

    for (size_t f = 0; f < 2; f++) {
        for (size_t i = 0; i < l->n; i++) {
            const struct net_iface *e = &l->v[i];
            if ((e->flags & (NET_IF_UP | NET_IF_LOOPBACK)) != NET_IF_UP ||
                net_addr_af(&e->addr) != order[f])
                continue;
            if (usable_id(addr_id(&e->addr)))
                return addr_id(&e->addr);
        }
    }
    return 0;
}

uint32_t net_iflist_id_of(const struct net_iflist *l, unsigned int index)
{
    static const int order[] = {AF_INET, AF_INET6};

    for (size_t f = 0; f < 2; f++) {
        for (size_t i = 0; i < l->n; i++) {
            const struct net_iface *e = &l->v[i];
            if (e->index == index && net_addr_af(&e->addr) == order[f] &&
                usable_id(addr_id(&e->addr)))
                return addr_id(&e->addr);
        }
    }
    return 0;
}
