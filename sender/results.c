#include "sender/results.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/daemon/status.h"

static size_t slot_of(const struct result_table *t, uint32_t id)
{
    return (size_t)((id * 2654435761u) & (uint32_t)(t->nslot - 1));
}

static int grow(struct result_table *t)
{
    size_t ns = t->nslot ? t->nslot * 2 : 64;
    uint32_t *slot = calloc(ns, sizeof(*slot));
    if (slot == NULL)
        return -ENOMEM;
    free(t->slot);
    t->slot = slot;
    t->nslot = ns;
    for (size_t i = 0; i < t->n; i++) {
        size_t k = slot_of(t, t->v[i].id);
        while (t->slot[k] != 0)
            k = (k + 1) & (t->nslot - 1);
        t->slot[k] = (uint32_t)i + 1;
    }
    return 0;
}

struct result_row *results_get(struct result_table *t, uint32_t id, const char *name)
{
    if (t->nslot > 0) {
        for (size_t k = slot_of(t, id); t->slot[k] != 0; k = (k + 1) & (t->nslot - 1))
            if (t->v[t->slot[k] - 1].id == id)
                return &t->v[t->slot[k] - 1];
    }
    if ((t->n + 1) * 2 > t->nslot && grow(t) < 0)
        return NULL;
    if (t->n == t->cap) {
        size_t nc = t->cap ? t->cap * 2 : 16;
        struct result_row *v = realloc(t->v, nc * sizeof(*v));
        if (v == NULL)
            return NULL;
        t->v = v;
        t->cap = nc;
    }
    struct result_row *c = &t->v[t->n];
    *c = (struct result_row){.id = id, .name = name, .last = -1, .freespace = -1};
    size_t k = slot_of(t, id);
    while (t->slot[k] != 0)
        k = (k + 1) & (t->nslot - 1);
    t->slot[k] = (uint32_t)++t->n;
    return c;
}

struct result_row *results_count(struct result_table *t, uint32_t id, uint32_t file,
                                 enum sender_result r, uint64_t size, double secs)
{
    bool copied = r == SENDER_RES_COPY || r == SENDER_RES_OVERWRITE;
    if (file != t->file) {
        t->file = file;
        t->done = t->failed = 0;
    }
    if (copied || r == SENDER_RES_SKIPPED)
        t->done++;
    else
        t->failed++;
    struct result_row *c = results_get(t, id, NULL);
    if (c == NULL)
        return NULL;
    c->last = (int)r;
    if (r == SENDER_RES_COPY)
        c->ncopy++;
    else if (r == SENDER_RES_OVERWRITE)
        c->nover++;
    else if (r == SENDER_RES_SKIPPED)
        c->nskip++;
    else
        c->nfail++;
    if (copied) {
        c->bytes += size;
        c->secs += secs;
    }
    return c;
}

const char *results_name(const struct result_row *c, char buf[static 11])
{
    if (c->name != NULL)
        return c->name;
    status_client_name(buf, c->id);
    return buf;
}

const char *results_state(const struct result_row *c)
{
    if (!c->connected)
        return c->reason[0] != '\0' ? "refused" : "no reply"; /* its ABORT said why */
    switch (c->last) {
    case SENDER_RES_MUTE:
        return "mute";
    case SENDER_RES_LOST:
        return "lost";
    case SENDER_RES_ABORTED:
        return "aborted";
    default:
        return c->nfail > 0 ? "partial" : "done";
    }
}

void results_free(struct result_table *t)
{
    free(t->v);
    free(t->slot);
    memset(t, 0, sizeof(*t));
}
