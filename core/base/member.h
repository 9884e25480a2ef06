/*
 * Reference-counted multicast memberships, for the engines: sessions that
 * share a group (and source, for SSM) share one kernel membership, joined
 * with the first and left with the last. No I/O: the caller turns the
 * result into a join or leave output. Ground floor (DESIGN.md "The house").
 */
#ifndef UFTP_BASE_MEMBER_H
#define UFTP_BASE_MEMBER_H

#include <stdbool.h>
#include <stddef.h>

#include "core/base/addr.h"

struct member {
    struct addr group;
    struct addr source; /* unset = any source */
    unsigned refs;
};

/*
 * One more (join) or one fewer (leave) user of group from source (NULL: any
 * source) in the table v[0..*n) of room cap. Returns 1 when the membership
 * must be joined (first user), -1 when it must be left (last user gone),
 * and sets *what to it in both cases; 0 otherwise (more users, a leave of
 * an unknown membership, or a full table).
 */
int member_ref(struct member *v, size_t *n, size_t cap, bool join, const struct addr *group,
               const struct addr *source, struct member *what);

#endif
