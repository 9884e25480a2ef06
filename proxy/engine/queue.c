/*
 * The proxy's output (proxy_int.h): datagrams, charged against the
 * amplification bound (issue 14 item 1), in a byte ring used as a "bip
 * buffer" (each entry a header and the bytes, 8-byte aligned, never split
 * across the end: one that does not fit at the end goes to the start and
 * the end of the data is remembered); memberships, reference-counted, in a
 * small ring of their own. Nothing allocates per packet.
 */
#include <stdlib.h>
#include <string.h>

#include "proxy/engine/proxy_int.h"

struct pq_ent {
    uint32_t len;  /* datagram bytes */
    uint32_t span; /* bytes the entry takes, header included */
    struct addr dst;
};

#define PQ_ALIGN 8u
#define PQ_HDR   ((sizeof(struct pq_ent) + PQ_ALIGN - 1) & ~(size_t)(PQ_ALIGN - 1))

static size_t span_of(size_t len)
{
    return PQ_HDR + ((len + PQ_ALIGN - 1) & ~(size_t)(PQ_ALIGN - 1));
}

int pq_init(struct pq *q, size_t bytes, size_t ops)
{
    memset(q, 0, sizeof(*q));
    q->cap = bytes & ~(size_t)(PQ_ALIGN - 1);
    q->ring = malloc(q->cap);
    q->ops_cap = ops;
    q->ops = calloc(ops, sizeof(*q->ops));
    if (q->ring == NULL || q->ops == NULL) {
        pq_free(q);
        return ENG_ENOMEM;
    }
    return 0;
}

void pq_free(struct pq *q)
{
    free(q->ring);
    free(q->ops);
    memset(q, 0, sizeof(*q));
}

bool pq_empty(const struct pq *q)
{
    return q->count == 0 && q->ops_n == 0;
}

static bool pq_push(struct pq *q, const struct addr *dst, const uint8_t *p, size_t len)
{
    size_t need = span_of(len);
    if (len == 0 || len > UINT32_MAX || need > q->cap)
        return false;
    size_t at;
    if (q->wrapped) {
        if (q->head - q->tail < need)
            return false;
        at = q->tail;
    } else if (q->cap - q->tail >= need) {
        at = q->tail;
    } else if (q->head >= need) {
        /* Wrap: the upper part's data ends at tail. */
        q->end = q->tail;
        q->wrapped = true;
        at = 0;
    } else {
        return false;
    }
    struct pq_ent *e = (struct pq_ent *)(void *)(q->ring + at);
    e->len = (uint32_t)len;
    e->span = (uint32_t)need;
    e->dst = *dst;
    q->tail = at + need;
    q->count++;
    q->bytes += len;
    memcpy(q->ring + at + PQ_HDR, p, len);
    return true;
}

bool pq_push_op(struct pq *q, bool join, const struct addr *group, const struct addr *source)
{
    if (q->ops_n == q->ops_cap)
        return false;
    struct pq_memop *op = &q->ops[(q->ops_head + q->ops_n++) % q->ops_cap];
    op->join = join;
    op->group = *group;
    if (source != NULL && addr_is_set(source))
        op->source = *source;
    else
        addr_clear(&op->source);
    return true;
}

static const struct pq_ent *front(const struct pq *q)
{
    return (const struct pq_ent *)(const void *)(q->ring + q->head);
}

static void pop_one(struct pq *q)
{
    const struct pq_ent *e = front(q);
    q->head += e->span;
    q->bytes -= e->len;
    q->count--;
    if (q->wrapped && q->head == q->end) {
        q->head = 0;
        q->wrapped = false;
    }
    if (!q->wrapped && q->head == q->tail)
        q->head = q->tail = 0;
}

int pq_pop(struct pq *q, struct eng_out *out)
{
    if (q->ops_n > 0) {
        struct pq_memop *op = &q->ops[q->ops_head];
        q->ops_head = (q->ops_head + 1) % q->ops_cap;
        q->ops_n--;
        out->kind = op->join ? ENG_JOIN : ENG_LEAVE;
        out->group = op->group;
        out->source = op->source;
        return out->kind;
    }
    if (q->count == 0)
        return ENG_NONE;
    /* A batch: datagrams to one place, all of the first one's size except
     * possibly a shorter last one (what one GSO send can carry). */
    const struct pq_ent *e = front(q);
    size_t seg = e->len;
    size_t max = out->max_seg < ENG_MAX_SEG ? out->max_seg : ENG_MAX_SEG;
    out->dst = e->dst;
    out->seglen = seg;
    out->len = 0;
    out->nseg = 0;
    while (q->count > 0 && out->nseg < max) {
        e = front(q);
        if (e->len > seg || out->len + e->len > out->cap ||
            (out->nseg > 0 && !addr_equal(&e->dst, &out->dst)))
            break;
        size_t l = e->len;
        memcpy(out->buf + out->len, (const uint8_t *)e + PQ_HDR, l);
        out->len += l;
        out->nseg++;
        pop_one(q);
        if (l < seg)
            break; /* a shorter one ends the batch */
    }
    if (out->nseg == 0) {
        /* Larger than the shell's buffer (it never is: datagrams are at most
         * UFTP_MAX_DATAGRAM): drop it rather than stall. */
        pop_one(q);
        return pq_pop(q, out);
    }
    out->kind = ENG_SEND;
    return ENG_SEND;
}

void p_member(struct proxy *p, bool join, const struct addr *group, const struct addr *source)
{
    struct member m;
    int k = member_ref(p->mem, &p->nmem, p->capmem, join, group, source, &m);
    if (k != 0)
        pq_push_op(&p->q, k > 0, &m.group, &m.source);
}

/* IP and UDP header bytes of a datagram to dst (amp.h counts them). */
static unsigned hdr_bytes(const struct addr *dst)
{
    return addr_family(dst) == ADDR_V6 && !addr_is_v4mapped(dst) ? AMP_HDR_V6 : AMP_HDR_V4;
}

bool p_send(struct proxy *p, const struct addr *dst, const uint8_t *dg, size_t len)
{
    if (!addr_is_set(dst))
        return false;
    /* Issue 14 item 1: never more than 3 x what the session (or source) sent us. */
    if (p->charge != NULL && !amp_tx(p->charge, len, hdr_bytes(dst))) {
        p->st.amp_held++;
        return false;
    }
    if (!pq_push(&p->q, dst, dg, len)) {
        p->st.queue_drops++;
        return false;
    }
    return true;
}
