/* Multicast joins and leaves with bookkeeping; see mcast.h. */
#include "core/net/mcast.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/log.h"

void net_mcast_init(struct net_mcast *m, const struct net_sock *s)
{
    memset(m, 0, sizeof(*m));
    m->fd = s->fd;
    m->family = s->family;
    m->v6only = s->v6only;
}

/* Normalised copies: IPv4-mapped → IPv4, port 0. */
static void norm(struct addr *out, const struct addr *in)
{
    if (in == NULL || !addr_is_set(in)) {
        addr_clear(out);
        return;
    }
    *out = *in;
    addr_unmap(out);
    addr_set_port(out, 0);
}

static bool same(const struct net_membership *e, const struct addr *g, const struct addr *src,
                 unsigned int ifindex)
{
    return e->ifindex == ifindex && addr_equal(&e->group, g) &&
           addr_is_set(&e->source) == addr_is_set(src) &&
           (!addr_is_set(src) || addr_equal(&e->source, src));
}

static ssize_t find(const struct net_mcast *m, const struct addr *g, const struct addr *src,
                    unsigned int ifindex)
{
    for (size_t i = 0; i < m->n; i++)
        if (same(&m->v[i], g, src, ifindex))
            return (ssize_t)i;
    return -1;
}

/* The option level follows the group's family, whatever the socket's. */
static int level_of(int family)
{
    return family == AF_INET ? IPPROTO_IP : IPPROTO_IPV6;
}

static int kernel_op(const struct net_mcast *m, bool join, const struct addr *g,
                     const struct addr *src, unsigned int ifindex)
{
    int level = level_of(net_addr_af(g));
    int rc;

    if (addr_is_set(src)) {
        struct group_source_req r;
        memset(&r, 0, sizeof(r));
        r.gsr_interface = ifindex;
        net_addr_to_sockaddr(g, &r.gsr_group);
        net_addr_to_sockaddr(src, &r.gsr_source);
        rc = setsockopt(m->fd, level, join ? MCAST_JOIN_SOURCE_GROUP : MCAST_LEAVE_SOURCE_GROUP, &r,
                        sizeof(r));
    } else {
        struct group_req r;
        memset(&r, 0, sizeof(r));
        r.gr_interface = ifindex;
        net_addr_to_sockaddr(g, &r.gr_group);
        rc = setsockopt(m->fd, level, join ? MCAST_JOIN_GROUP : MCAST_LEAVE_GROUP, &r, sizeof(r));
    }
    return rc < 0 ? -errno : 0;
}

static const char *why(int err)
{
    switch (err) {
    case -ENOBUFS:
        return " (per-socket limit: net.ipv4.igmp_max_memberships / igmp_max_msf)";
    case -ENODEV:
        return " (no such interface, or no multicast route)";
    case -EINVAL:
        return " (ASM and SSM joins mixed on one group, or a bad address)";
    default:
        return "";
    }
}

int net_mcast_join(struct net_mcast *m, const struct addr *group, const struct addr *source,
                   unsigned int ifindex)
{
    struct addr g, src;
    char tg[ADDR_STRLEN], ts[ADDR_STRLEN];
    int fam, rc;

    norm(&g, group);
    norm(&src, source);
    fam = net_addr_af(&g);
    if (!addr_is_multicast(&g))
        return -EINVAL;
    if (addr_is_set(&src) &&
        (net_addr_af(&src) != fam || addr_is_multicast(&src) || addr_is_unspecified(&src)))
        return -EINVAL;
    if ((fam == AF_INET && m->family == AF_INET6 && m->v6only) ||
        (fam == AF_INET6 && m->family == AF_INET))
        return -EAFNOSUPPORT;
    if (find(m, &g, &src, ifindex) >= 0)
        return 0;
    /* The kernel would quietly turn an any-source membership into an
     * include-list one (and the reverse): refuse to mix them. */
    for (size_t i = 0; i < m->n; i++)
        if (m->v[i].ifindex == ifindex && addr_equal(&m->v[i].group, &g) &&
            addr_is_set(&m->v[i].source) != addr_is_set(&src))
            return -EINVAL;
    if (m->n >= NET_MCAST_MAX)
        return -E2BIG;
    if (m->n == m->cap) {
        size_t nc = m->cap ? m->cap * 2 : 8;
        struct net_membership *nv = realloc(m->v, nc * sizeof(*nv));
        if (nv == NULL)
            return -ENOMEM;
        m->v = nv;
        m->cap = nc;
    }
    rc = kernel_op(m, true, &g, &src, ifindex);
    if (rc == -EADDRINUSE)
        rc = 0; /* already a member through this socket: nothing to undo later */
    if (rc < 0) {
        addr_format(&g, tg, sizeof(tg), 0);
        if (addr_is_set(&src))
            addr_format(&src, ts, sizeof(ts), 0);
        log_warnx("joining %s%s%s on ifindex %u: %s%s", tg, addr_is_set(&src) ? " from " : "",
                  addr_is_set(&src) ? ts : "", ifindex, strerror(-rc), why(rc));
        return rc;
    }
    m->v[m->n].group = g;
    m->v[m->n].source = src;
    m->v[m->n].ifindex = ifindex;
    m->n++;
    return 0;
}

int net_mcast_join_all(struct net_mcast *m, const struct addr *group, const struct addr *source,
                       const unsigned int *ifindexes, size_t n)
{
    size_t before = m->n;

    for (size_t i = 0; i < n; i++) {
        int rc = net_mcast_join(m, group, source, ifindexes[i]);
        if (rc < 0) {
            /* Undo only what this call added (entries appended past 'before'). */
            while (m->n > before) {
                struct net_membership e = m->v[m->n - 1];
                net_mcast_leave(m, &e.group, &e.source, e.ifindex);
            }
            return rc;
        }
    }
    return 0;
}

static void remove_at(struct net_mcast *m, size_t i)
{
    const struct net_membership *e = &m->v[i];
    int rc = kernel_op(m, false, &e->group, &e->source, e->ifindex);
    if (rc < 0 && rc != -EADDRNOTAVAIL && rc != -ENODEV) {
        char tg[ADDR_STRLEN];
        log_warnx("leaving %s on ifindex %u: %s", addr_str(&e->group, tg), e->ifindex,
                  strerror(-rc));
    }
    m->v[i] = m->v[m->n - 1];
    m->n--;
}

int net_mcast_leave(struct net_mcast *m, const struct addr *group, const struct addr *source,
                    unsigned int ifindex)
{
    struct addr g, src;
    ssize_t i;

    norm(&g, group);
    norm(&src, source);
    if ((i = find(m, &g, &src, ifindex)) < 0)
        return -ENOENT;
    remove_at(m, (size_t)i);
    return 0;
}

bool net_mcast_joined(const struct net_mcast *m, const struct addr *group,
                      const struct addr *source, unsigned int ifindex)
{
    struct addr g, src;
    norm(&g, group);
    norm(&src, source);
    return find(m, &g, &src, ifindex) >= 0;
}

void net_mcast_free(struct net_mcast *m)
{
    while (m->n > 0)
        remove_at(m, m->n - 1);
    free(m->v);
    m->v = NULL;
    m->cap = 0;
}
