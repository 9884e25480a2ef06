/*
 * The virtual network (tests/sim/sim.h).
 */
#include "sim.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/net/addr.h"
#include "core/wire/wire.h"

/* ------------------------------------------------------------ PRNG */

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

/* ------------------------------------------------------------ structures */

/*
 * What travels: one datagram's bytes, shared by every copy of it in the
 * queue (a multicast datagram to 10,000 receivers is stored once).
 */
struct payload {
    unsigned refs;
    size_t len;
    uint8_t data[];
};

/*
 * An event of the queue: a datagram delivered to ndst nodes (the copies
 * of one send that arrive at the same time, in the order they were
 * scheduled: their order numbers are consecutive, so they are one event
 * without changing what comes first), or a timed call (ndst 0).
 */
struct pkt {
    uint64_t t;
    uint64_t order; /* FIFO among equal times: determinism; the first copy's */
    void (*fn)(struct sim *s, void *arg);
    void *arg;
    struct addr from, to;
    uint8_t tos;
    struct payload *pl;
    size_t ndst, capdst;
    int *dst; /* dst1 or a larger array */
    int dst1;
};

struct memb {
    struct addr group, source;
};

struct blob {
    char path[128];
    uint8_t *data;
    size_t len;
    uint64_t digest; /* sim_digest of the whole */
};

struct node {
    enum sim_kind kind;
    struct addr addr; /* the first interface's */
    int nif;
    int net[2];
    struct addr ifaddr[2];
    int mnet; /* where its multicast goes */
    struct sim_link link;
    struct sender *snd;
    struct receiver *rcv;
    struct proxy *prx;
    struct sim *sim;
    struct sim_store store;
    struct memb *memb;
    size_t nmemb, capmemb;
    unsigned joins, leaves, ssm_joins;
    uint64_t deadline;
    bool finished;
    int exit_code;
    uint64_t nic_free_ns;
    uint64_t kill_at;               /* 0 = never */
    uint64_t deaf_from, deaf_until; /* receives nothing in [from, until) */
    uint64_t intr_at;
    bool intr_done;
    uint8_t tos;         /* of what it sends */
    struct sim_bneck bn; /* in front of it */
    uint64_t bn_busy_ns; /* its FIFO is busy until */
    struct sim_bneck_stats bn_st;
    int idx;
    size_t hpos;     /* in the deadline heap */
    uint64_t hkey;   /* its key there: at most deadline (a later deadline is filed lazily) */
    bool busy;       /* keeps sim_run going (all_done) */
    bool touched;    /* received something this step */
    uint64_t cpu_ns; /* spent in its engine (sim_set_cpu_clock) */
};

struct natmap {
    struct addr inside;
    uint16_t port;
    uint64_t last;
};

struct nat {
    int in, out;
    struct addr pub; /* port 0 */
    uint64_t timeout;
    struct natmap *m;
    size_t n, cap;
    uint16_t next_port;
    uint64_t drops;
};

#define SIM_MAX_NATS 8

struct sim {
    uint64_t rng[4];
    bool v6;
    int cur_net;
    struct nat nats[SIM_MAX_NATS];
    int nnats;
    uint64_t nic_Bps;
    uint64_t now;
    uint64_t order;
    struct pkt **heap;
    size_t nheap, capheap;
    struct node **nodes; /* each its own allocation: the engines keep a pointer */
    int nnodes, capnodes;
    /* Node addresses (every interface's) to node index + 1, open addressing. */
    struct amap {
        struct addr a;
        int node;
        int ifi;
    } * amap;
    size_t amap_n, amap_cap;
    /*
     * Multicast groups: which nodes hold a membership of each (by group
     * address), per network they are on (a node on two networks is listed
     * on both): a send walks only the lists of the networks it reaches.
     */
    struct group {
        struct addr g; /* the group's IP */
        struct gnet {
            int net;
            int *mem; /* nodes on net holding a membership of it, ascending */
            size_t n, cap;
        } * nets;
        size_t nnets;
    } * groups;
    size_t ngroups, capgroups;
    /* Sites (sim_set_site): parent[k] is net k's parent network + 1, 0 for none. */
    int *parent;
    int nparent;
    struct pkt *last; /* the event scheduled last (copies of one send join it) */
    /* The nodes' deadlines, a binary heap by (deadline, index). */
    struct node **dl;
    /* This step's touched nodes; nodes with a kill time or an interrupt (rare). */
    int *touch, *kl, *il, *rk;
    size_t ntouch, nkl, nil, nrk;
    size_t nbusy;
    bool digest_only;
    sim_readback_fn rb_src;
    void *rb_arg;
    bool cpu_clock;
    uint8_t *rxbuf; /* a delivered copy, decrypted in place by its receiver */
    /* The last write digested (ms_write): the next receiver writes the same bytes at the
     * same offset, and a memcmp costs less than the digest (issue 16). */
    uint8_t *dg_bytes;
    size_t dg_len;
    uint64_t dg_off, dg_sum;
    struct blob *blobs;
    size_t nblobs;
    uint64_t hash;
    uint64_t delivered;
    uint8_t *buf;
    sim_tap_fn tap;
    void *tap_arg;
    sim_drop_fn drop;
    void *drop_arg;
    FILE *pcap;
    int trace; /* SIM_TRACE: 1 prints every delivery and the end, "hash" the end only */
};

#define SIM_BUF   (ENG_MAX_SEG * 9000)
#define SIM_RXBUF 65536

uint64_t sim_rand(struct sim *s)
{
    uint64_t *r = s->rng;
    uint64_t res = rotl(r[1] * 5, 7) * 9;
    uint64_t t = r[1] << 17;
    r[2] ^= r[0];
    r[3] ^= r[1];
    r[1] ^= r[2];
    r[0] ^= r[3];
    r[2] ^= t;
    r[3] = rotl(r[3], 45);
    return res;
}

static unsigned pct(struct sim *s)
{
    return (unsigned)(sim_rand(s) % 100);
}

struct sim *sim_new(uint64_t seed)
{
    struct sim *s = calloc(1, sizeof(*s));
    uint64_t x = seed;
    for (int i = 0; i < 4; i++)
        s->rng[i] = splitmix64(&x);
    s->nic_Bps = 125000000;
    s->buf = malloc(SIM_BUF);
    s->rxbuf = malloc(SIM_RXBUF);
    s->hash = 0xcbf29ce484222325ull;
    const char *tr = getenv("SIM_TRACE");
    s->trace = tr == NULL ? 0 : strcmp(tr, "hash") == 0 ? 2 : 1;
    return s;
}

void sim_set_ipv6(struct sim *s, bool v6)
{
    s->v6 = v6;
}

void sim_set_nic_rate(struct sim *s, uint64_t Bps)
{
    s->nic_Bps = Bps;
}

void sim_set_digest_only(struct sim *s, bool on)
{
    s->digest_only = on;
}

void sim_set_digest_readback(struct sim *s, sim_readback_fn src, void *arg)
{
    s->rb_src = src;
    s->rb_arg = arg;
}

void sim_set_cpu_clock(struct sim *s, bool on)
{
    s->cpu_clock = on;
}

uint64_t sim_node_cpu_ns(struct sim *s, int i)
{
    return s->nodes[i]->cpu_ns;
}

int sim_node_count(struct sim *s)
{
    return s->nnodes;
}

static void pkt_free(struct pkt *p)
{
    if (p->pl != NULL && --p->pl->refs == 0)
        free(p->pl);
    if (p->dst != &p->dst1)
        free(p->dst);
    free(p);
}

static void store_free(struct sim_store *st)
{
    for (size_t i = 0; i < st->n; i++) {
        free(st->f[i].data);
        free(st->f[i].map);
    }
    free(st->f);
}

void sim_free(struct sim *s)
{
    if (s->trace)
        fprintf(stderr, "sim end %.6f s: %" PRIu64 " delivered, trace %016" PRIx64 "\n",
                (double)s->now / 1e6, s->delivered, s->hash);
    for (int i = 0; i < s->nnodes; i++) {
        struct node *n = s->nodes[i];
        sender_free(n->snd);
        receiver_free(n->rcv);
        proxy_free(n->prx);
        store_free(&n->store);
        free(n->memb);
        free(n);
    }
    for (int i = 0; i < s->nnats; i++)
        free(s->nats[i].m);
    for (size_t i = 0; i < s->nheap; i++)
        pkt_free(s->heap[i]);
    free(s->heap);
    for (size_t i = 0; i < s->ngroups; i++) {
        for (size_t k = 0; k < s->groups[i].nnets; k++)
            free(s->groups[i].nets[k].mem);
        free(s->groups[i].nets);
    }
    free(s->groups);
    free(s->parent);
    free(s->amap);
    free(s->dl);
    free(s->touch);
    free(s->rk);
    free(s->kl);
    free(s->il);
    free(s->rxbuf);
    free(s->dg_bytes);
    for (size_t i = 0; i < s->nblobs; i++)
        free(s->blobs[i].data);
    free(s->blobs);
    free(s->nodes);
    free(s->buf);
    if (s->pcap)
        fclose(s->pcap);
    free(s);
}

/* ------------------------------------------------------------ heap */

static bool before(const struct pkt *a, const struct pkt *b)
{
    return a->t < b->t || (a->t == b->t && a->order < b->order);
}

static void heap_push(struct sim *s, struct pkt *p)
{
    if (s->nheap == s->capheap) {
        s->capheap = s->capheap ? s->capheap * 2 : 1024;
        s->heap = realloc(s->heap, s->capheap * sizeof(*s->heap));
    }
    size_t i = s->nheap++;
    while (i > 0) {
        size_t up = (i - 1) / 2;
        if (!before(p, s->heap[up]))
            break;
        s->heap[i] = s->heap[up];
        i = up;
    }
    s->heap[i] = p;
}

static struct pkt *heap_pop(struct sim *s)
{
    struct pkt *top = s->heap[0];
    struct pkt *last = s->heap[--s->nheap];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        const struct pkt *mp = last;
        if (l < s->nheap && before(s->heap[l], mp)) {
            m = l;
            mp = s->heap[l];
        }
        if (r < s->nheap && before(s->heap[r], mp))
            m = r;
        if (m == i)
            break;
        s->heap[i] = s->heap[m];
        i = m;
    }
    if (s->nheap > 0)
        s->heap[i] = last;
    return top;
}

/* ------------------------------------------------------------ addresses */

/*
 * The address node i gets on net (net 0: the original scheme). Past the
 * 63,000 or so nodes the original scheme can number, IPv4 receivers of
 * net 0 get 10.1.0.0/16 and up (10.0/16 and 10.100+/16 are taken), IPv6
 * ones a longer interface ID.
 */
static void addr_on(struct sim *s, int i, bool snd, int net, struct addr *out)
{
    char txt[64];
    uint16_t port = snd ? (uint16_t)(40000 + i) : 1044;
    int v = i + 1;
    if (net > 0 && s->v6 && v > 9999)
        snprintf(txt, sizeof(txt), "[fd%02x::%x:%x]:%u", 0x10 + net, v >> 16, v & 0xffff, port);
    else if (net > 0 && s->v6)
        snprintf(txt, sizeof(txt), "[fd%02x::%d]:%u", 0x10 + net, v, port);
    else if (net > 0 && i / 250 < 250)
        snprintf(txt, sizeof(txt), "10.%d.%d.%d:%u", 100 + net, i / 250, i % 250 + 1, port);
    else if (net > 0) /* 10.100+net.250.x is the NAT's */
        snprintf(txt, sizeof(txt), "%d.%d.%d.%d:%u", 20 + net, i >> 16 & 255, i >> 8 & 255, i & 255,
                 port);
    else if (s->v6 && v > 9999)
        snprintf(txt, sizeof(txt), "[fd00::%d:%x:%x]:%u", snd ? 1 : 2, v >> 16, v & 0xffff, port);
    else if (s->v6)
        snprintf(txt, sizeof(txt), "[fd00::%d:%d]:%u", snd ? 1 : 2, v, port);
    else if (snd || 2 + v / 250 <= 254)
        snprintf(txt, sizeof(txt), "10.0.%d.%d:%u", snd ? 1 : 2 + v / 250, v % 250 + 1, port);
    else
        snprintf(txt, sizeof(txt), "10.%d.%d.%d:%u", 1 + (v - 63250) / 62500,
                 (v - 63250) / 250 % 250, (v - 63250) % 250 + 1, port);
    net_addr_parse(out, txt, 0);
}

/* ------------------------------------------------------------ the address map */

static size_t amap_hash(const struct addr *a)
{
    uint64_t h = 0xcbf29ce484222325ull ^ a->family;
    for (int i = 0; i < 16; i++)
        h = (h ^ a->ip[i]) * 0x100000001b3ull;
    h = (h ^ a->port) * 0x100000001b3ull;
    return (size_t)(h ^ h >> 32);
}

/* The node (and its interface) whose address is a, or -1. */
static int amap_get(const struct sim *s, const struct addr *a, int *ifi)
{
    if (s->amap_cap == 0)
        return -1;
    for (size_t i = amap_hash(a) & (s->amap_cap - 1);; i = (i + 1) & (s->amap_cap - 1)) {
        const struct amap *e = &s->amap[i];
        if (e->node == 0)
            return -1;
        if (addr_equal(&e->a, a)) {
            if (ifi != NULL)
                *ifi = e->ifi;
            return e->node - 1;
        }
    }
}

static void amap_put(struct sim *s, const struct addr *a, int node, int ifi)
{
    if (2 * (s->amap_n + 1) > s->amap_cap) {
        struct amap *old = s->amap;
        size_t oc = s->amap_cap;
        s->amap_cap = oc ? 2 * oc : 1024;
        s->amap = calloc(s->amap_cap, sizeof(*s->amap));
        s->amap_n = 0;
        for (size_t i = 0; i < oc; i++)
            if (old[i].node != 0)
                amap_put(s, &old[i].a, old[i].node - 1, old[i].ifi);
        free(old);
    }
    if (amap_get(s, a, NULL) >= 0)
        return; /* the first node with an address keeps it, as the old linear search did */
    size_t i = amap_hash(a) & (s->amap_cap - 1);
    while (s->amap[i].node != 0)
        i = (i + 1) & (s->amap_cap - 1);
    s->amap[i] = (struct amap){*a, node + 1, ifi};
    s->amap_n++;
}

void sim_node_addr(struct sim *s, int i, struct addr *out)
{
    if (i < s->nnodes)
        *out = s->nodes[i]->ifaddr[0];
    else
        addr_on(s, i, true, s->cur_net, out); /* (as the zeroed slot of old: kind 0) */
}

static void group_update(struct sim *s, struct node *n, const struct addr *g);

static int if_on(const struct node *n, int net)
{
    for (int j = 0; j < n->nif; j++)
        if (n->net[j] == net)
            return j;
    return -1;
}

void sim_node_addr_on(struct sim *s, int i, int net, struct addr *out)
{
    int j = if_on(s->nodes[i], net);
    *out = s->nodes[i]->ifaddr[j < 0 ? 0 : j];
}

void sim_set_net(struct sim *s, int net)
{
    s->cur_net = net;
}

void sim_set_site(struct sim *s, int net, int parent)
{
    if (net >= s->nparent) {
        int n = net + 16;
        s->parent = realloc(s->parent, (size_t)n * sizeof(*s->parent));
        memset(s->parent + s->nparent, 0, (size_t)(n - s->nparent) * sizeof(*s->parent));
        s->nparent = n;
    }
    s->parent[net] = parent + 1;
}

/* Net's parent network (sim_set_site), or -1. */
static int net_parent(const struct sim *s, int net)
{
    return net >= 0 && net < s->nparent ? s->parent[net] - 1 : -1;
}

/*
 * The interface of node n that unicast towards a node on net leaves from:
 * n's own on net, else (sites) one on net's parent, on a site of n's net, or
 * on a sibling site; -1 when net is not reachable so.
 */
static int uni_if(const struct sim *s, const struct node *n, int net)
{
    int j = if_on(n, net);
    if (j >= 0 || s->nparent == 0)
        return j;
    int up = net_parent(s, net);
    for (j = 0; j < n->nif; j++) {
        int m = n->net[j], mp = net_parent(s, m);
        if (m == up || mp == net || (up >= 0 && mp == up))
            return j;
    }
    return -1;
}

void sim_add_if(struct sim *s, int i, int net, struct addr *out)
{
    struct node *n = s->nodes[i];
    if (n->nif < 2 && if_on(n, net) < 0) {
        n->net[n->nif] = net;
        addr_on(s, i, n->kind == SIM_SENDER, net, &n->ifaddr[n->nif]);
        amap_put(s, &n->ifaddr[n->nif], i, n->nif);
        n->nif++;
        for (size_t m = 0; m < n->nmemb; m++) /* (its memberships now count on net too) */
            group_update(s, n, &n->memb[m].group);
    }
    if (out)
        sim_node_addr_on(s, i, net, out);
}

void sim_set_mcast_net(struct sim *s, int i, int net)
{
    s->nodes[i]->mnet = net;
}

int sim_add_nat(struct sim *s, int inside, int outside, uint64_t timeout_us, struct addr *pub)
{
    if (s->nnats == SIM_MAX_NATS)
        return -1;
    int k = s->nnats++;
    struct nat *t = &s->nats[k];
    memset(t, 0, sizeof(*t));
    t->in = inside;
    t->out = outside;
    t->timeout = timeout_us;
    t->next_port = (uint16_t)(20000 + 1000 * k);
    char txt[64];
    if (s->v6)
        snprintf(txt, sizeof(txt), "[fd%02x::fe:%d]", 0x10 + outside, k + 1);
    else
        snprintf(txt, sizeof(txt), "10.%d.250.%d", 100 + outside, k + 1);
    net_addr_parse(&t->pub, txt, 0);
    if (pub)
        *pub = t->pub;
    return k;
}

void sim_nat_rebind(struct sim *s, int nat)
{
    s->nats[nat].n = 0;
}

uint64_t sim_nat_drops(struct sim *s, int nat)
{
    return s->nats[nat].drops;
}

static bool nat_live(const struct sim *s, const struct nat *t, const struct natmap *m)
{
    return t->timeout == 0 || s->now <= m->last + t->timeout;
}

/* The public port for an inside address:port (a new mapping when none lives). */
static uint16_t nat_out(struct sim *s, struct nat *t, const struct addr *inside)
{
    for (size_t i = 0; i < t->n; i++) {
        struct natmap *m = &t->m[i];
        if (addr_equal(&m->inside, inside)) {
            if (!nat_live(s, t, m))
                m->port = t->next_port++; /* expired: a new port, as a real NAT */
            m->last = s->now;
            return m->port;
        }
    }
    if (t->n == t->cap) {
        t->cap = t->cap ? 2 * t->cap : 8;
        t->m = realloc(t->m, t->cap * sizeof(*t->m));
    }
    struct natmap *m = &t->m[t->n++];
    m->inside = *inside;
    m->port = t->next_port++;
    m->last = s->now;
    return m->port;
}

void sim_group_addr(struct sim *s, int which, int k, bool ssm, struct addr *out)
{
    char txt[64];
    if (s->v6)
        snprintf(txt, sizeof(txt), "[ff%d5::%d:%d]:1044", ssm ? 3 : 1, which + 4, k + 1);
    else
        snprintf(txt, sizeof(txt), "%d.%d.%d.%d:1044", ssm ? 232 : 230, which + 4,
                 which + 4 + k / 250, k % 250 + 1);
    net_addr_parse(out, txt, 0);
}

/* ------------------------------------------------------------ sender storage */

/* The odd weight of the file's q-th aligned 8-byte word. */
static uint64_t digest_weight(uint64_t q)
{
    uint64_t x = (q + 1) * 0x9e3779b97f4a7c15ull;
    x = (x ^ x >> 31) * 0xbf58476d1ce4e5b9ull;
    return (x ^ x >> 29) | 1;
}

/*
 * The weights of words [0, n), computed once: every receiver digests every
 * datagram it writes, the same words 10,000 times over (issue 16).
 */
static uint64_t *g_weights;
static uint64_t g_nweights;

static const uint64_t *weights_upto(uint64_t n)
{
    if (n > g_nweights) {
        uint64_t cap = g_nweights ? g_nweights : 4096;
        while (cap < n)
            cap *= 2;
        uint64_t *w = realloc(g_weights, cap * sizeof(*w));
        if (w == NULL)
            return NULL;
        for (uint64_t q = g_nweights; q < cap; q++)
            w[q] = digest_weight(q);
        g_weights = w;
        g_nweights = cap;
    }
    return g_weights;
}

uint64_t sim_digest(uint64_t off, const uint8_t *p, size_t len)
{
#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_BIG_ENDIAN__
    /* The whole words of an aligned piece by table (the same sum as below). */
    const uint64_t *wt = (off & 7) == 0 && len >= 64 ? weights_upto((off + len) / 8) : NULL;
    if (wt != NULL) {
        uint64_t sum = 0, q = off / 8;
        size_t whole = len / 8;
        for (size_t i = 0; i < whole; i++) {
            uint64_t w;
            memcpy(&w, p + 8 * i, 8);
            sum += w * wt[q + i];
        }
        return sum + sim_digest(off + 8 * whole, p + 8 * whole, len - 8 * whole);
    }
#endif
    /*
     * The sum, mod 2^64, of each aligned 8-byte word of the file (little
     * endian) times its word's odd weight, a piece of a word counting as
     * the word with only the piece's bytes in it: linear, so pieces add up
     * to the whole in any order; a word at a time, so 10,000 receivers can
     * afford it (issue 16); any change confined to one word changes it.
     */
    uint64_t sum = 0;
    while (len > 0) {
        unsigned sh = (unsigned)(off & 7);
        size_t k = 8 - sh < len ? 8 - sh : len;
        uint64_t w = 0;
        if (k == 8) {
            memcpy(&w, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
            w = __builtin_bswap64(w);
#endif
        } else {
            for (size_t i = 0; i < k; i++)
                w |= (uint64_t)p[i] << 8 * (sh + i);
        }
        sum += w * digest_weight(off >> 3);
        off += k;
        p += k;
        len -= k;
    }
    return sum;
}

void sim_add_blob(struct sim *s, const char *path, const uint8_t *data, size_t len)
{
    s->blobs = realloc(s->blobs, (s->nblobs + 1) * sizeof(*s->blobs));
    struct blob *b = &s->blobs[s->nblobs++];
    snprintf(b->path, sizeof(b->path), "%s", path);
    b->data = malloc(len ? len : 1);
    if (len)
        memcpy(b->data, data, len);
    b->len = len;
    b->digest = sim_digest(0, b->data, len);
}

uint64_t sim_blob_digest(struct sim *s, const uint8_t *data, size_t len)
{
    for (size_t i = 0; i < s->nblobs; i++)
        if (s->blobs[i].data == data && s->blobs[i].len == len)
            return s->blobs[i].digest;
    return sim_digest(0, data, len);
}

const uint8_t *sim_make_blob(struct sim *s, const char *path, size_t len)
{
    uint8_t *d = malloc(len ? len : 1);
    for (size_t i = 0; i < len; i += 8) {
        uint64_t w = sim_rand(s);
        memcpy(d + i, &w, len - i < 8 ? len - i : 8);
    }
    sim_add_blob(s, path, d, len);
    free(d);
    return s->blobs[s->nblobs - 1].data;
}

static int src_open(void *ctx, const struct file_item *it, void **h)
{
    struct sim *s = ((struct node *)ctx)->sim;
    for (size_t i = 0; i < s->nblobs; i++) {
        if (strcmp(s->blobs[i].path, it->path) == 0) {
            *h = &s->blobs[i];
            return 0;
        }
    }
    return -ENOENT;
}

static ssize_t src_read(void *ctx, void *h, uint64_t off, const struct iovec *iov, int iovcnt)
{
    (void)ctx;
    struct blob *b = h;
    size_t done = 0;
    for (int i = 0; i < iovcnt; i++) {
        if (off >= b->len)
            break;
        size_t n = iov[i].iov_len;
        if (n > b->len - off)
            n = b->len - off;
        memcpy(iov[i].iov_base, b->data + off, n);
        off += n;
        done += n;
        if (n < iov[i].iov_len)
            break;
    }
    return (ssize_t)done;
}

static void src_close(void *ctx, void *h)
{
    (void)ctx;
    (void)h;
}

static int sim_rng(void *ctx, void *buf, size_t len)
{
    struct node *n = ctx;
    uint8_t *p = buf;
    for (size_t i = 0; i < len; i++)
        p[i] = (uint8_t)(sim_rand(n->sim) >> 32);
    return 0;
}

/* ------------------------------------------------------------ engine logs */

/* Off unless a scenario runs with -v (sim_set_log_level). */
static int g_log_level = -1;

void sim_set_log_level(int level)
{
    g_log_level = level;
}

static bool node_log_on(void *ctx, int level)
{
    (void)ctx;
    return level <= g_log_level;
}

/* One line on stderr, stamped with the virtual time and the node. */
__attribute__((format(printf, 3, 0))) static void node_vlog(void *ctx, int level, const char *fmt,
                                                            va_list ap)
{
    static const char *const kinds[] = {"sender", "receiver", "proxy"};
    struct node *n = ctx;
    char ab[ADDR_STRLEN];
    uint64_t t = n->sim->now;

    fprintf(stderr, "%4llu.%06llu %s %s: ", (unsigned long long)(t / 1000000),
            (unsigned long long)(t % 1000000), kinds[n->kind], addr_str(&n->addr, ab));
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    (void)level;
}

static struct elog node_log(struct node *n)
{
    return (struct elog){n, node_vlog, node_log_on};
}

/* ------------------------------------------------------------ receiver storage */

static struct sim_mfile *mf_new(struct sim_store *st)
{
    for (size_t i = 0; i < st->n; i++)
        if (!st->f[i].in_use)
            return memset(&st->f[i], 0, sizeof(st->f[i]));
    if (st->n == st->cap) {
        st->cap = st->cap ? st->cap * 2 : 16;
        st->f = realloc(st->f, st->cap * sizeof(*st->f));
    }
    return memset(&st->f[st->n++], 0, sizeof(st->f[0]));
}

static struct sim_mfile *mf_find(struct sim_store *st, size_t dest, const char *rel)
{
    for (size_t i = 0; i < st->n; i++)
        if (st->f[i].in_use && st->f[i].visible && st->f[i].dest == dest &&
            strcmp(st->f[i].rel, rel) == 0)
            return &st->f[i];
    return NULL;
}

const struct sim_mfile *sim_store_find(const struct sim_store *st, size_t dest, const char *rel)
{
    return mf_find((struct sim_store *)st, dest, rel);
}

void sim_store_put(struct sim_store *st, size_t dest, const char *rel, int type,
                   const uint8_t *data, size_t len, int64_t mtime)
{
    struct sim_mfile *f = mf_new(st);
    f->in_use = f->visible = true;
    f->dest = dest;
    snprintf(f->rel, sizeof(f->rel), "%s", rel);
    f->type = type;
    f->data = malloc(len ? len : 1);
    if (len)
        memcpy(f->data, data, len);
    f->size = f->written = len;
    f->digest = sim_digest(0, data, len);
    f->mtime = mtime;
}

size_t sim_store_count(const struct sim_store *st)
{
    size_t n = 0;
    for (size_t i = 0; i < st->n; i++)
        n += st->f[i].in_use && st->f[i].visible;
    return n;
}

static void mf_drop(struct sim_mfile *f)
{
    free(f->data);
    free(f->map);
    free(f->wmap);
    memset(f, 0, sizeof(*f));
}

static int ms_open(void *ctx, const struct receiver_file *rf, void **h)
{
    struct sim_store *st = &((struct node *)ctx)->store;
    if (rf->rel == NULL || rf->rel[0] == '\0' || rf->rel[0] == '/' || strstr(rf->rel, ".."))
        return -EINVAL; /* the engine must never hand us these */
    if (st->restart) {
        /* Issue 13, as receiver/store.c: the same server and key, another instance. */
        for (size_t i = 0; i < st->n; i++) {
            struct sim_mfile *k = &st->f[i];
            if (!k->in_use || k->live || k->server_id != rf->server_id ||
                k->group_id != rf->group_id || k->group_inst == rf->group_inst ||
                k->dest != rf->dest || strcmp(k->rel, rf->rel) != 0 || k->size != rf->size ||
                k->fplen != rf->server_fplen ||
                (k->fplen && memcmp(k->fp, rf->server_fp, k->fplen) != 0))
                continue;
            if (k->kept && k->blocksize == rf->blocksize) {
                k->kept = false;
                k->live = true;
                k->group_inst = rf->group_inst;
                st->opens++;
                st->resumed++;
                *h = (void *)(uintptr_t)(k - st->f + 1);
                return RECEIVER_OPEN_PARTIAL;
            }
            if (k->visible && k->type == FTYPE_REG) {
                st->completed_early++;
                return RECEIVER_OPEN_COMPLETE;
            }
        }
    }
    struct sim_mfile *f = mf_new(st);
    f->server_id = rf->server_id;
    f->group_id = rf->group_id;
    f->group_inst = rf->group_inst;
    f->fplen = rf->server_fplen <= sizeof(f->fp) ? rf->server_fplen : 0;
    if (f->fplen)
        memcpy(f->fp, rf->server_fp, f->fplen);
    f->blocksize = rf->blocksize;
    if (st->restart && rf->blocksize > 0)
        f->map = calloc((size_t)(rf->size / rf->blocksize + 8) / 8 + 1, 1);
    f->in_use = true;
    f->live = true;
    f->dest = rf->dest;
    snprintf(f->rel, sizeof(f->rel), "%s", rf->rel);
    f->type = FTYPE_REG;
    f->size = rf->size;
    f->mtime = rf->mtime;
    f->data = st->digest_only ? NULL : calloc(rf->size ? rf->size : 1, 1);
    struct sim *s = ((struct node *)ctx)->sim;
    if (st->digest_only && s->rb_src != NULL && rf->blocksize > 0 &&
        (f->ref = s->rb_src(s->rb_arg, rf->rel, rf->size)) != NULL)
        f->wmap = calloc((size_t)(rf->size / rf->blocksize + 8) / 8 + 1, 1);
    /* A separate bitmap-free check: remember how many bytes each offset got. */
    st->opens++;
    *h = (void *)(uintptr_t)(f - st->f + 1);
    return 0;
}

static struct sim_mfile *mf_handle(struct sim_store *st, void *h)
{
    size_t i = (size_t)(uintptr_t)h - 1;
    return i < st->n && st->f[i].in_use ? &st->f[i] : NULL;
}

/* sim_digest(off, data, len), the last one remembered with its bytes: each copy of a
 * datagram reaches its receivers one after another and each writes the same bytes. */
static uint64_t write_digest(struct sim *s, uint64_t off, const void *data, size_t len)
{
    if (len > 0 && len == s->dg_len && off == s->dg_off && memcmp(data, s->dg_bytes, len) == 0)
        return s->dg_sum;
    uint64_t sum = sim_digest(off, data, len);
    if (len > 0 && len <= SIM_RXBUF) {
        if (s->dg_bytes == NULL && (s->dg_bytes = malloc(SIM_RXBUF)) == NULL)
            return sum;
        memcpy(s->dg_bytes, data, len);
        s->dg_len = len;
        s->dg_off = off;
        s->dg_sum = sum;
    }
    return sum;
}

static int ms_write(void *ctx, void *h, uint64_t off, const void *data, size_t len)
{
    struct sim_store *st = &((struct node *)ctx)->store;
    struct sim_mfile *f = mf_handle(st, h);
    if (f == NULL || off > f->size || len > f->size - off) {
        st->bad_writes++;
        return -EINVAL;
    }
    if (st->fail_after_bytes && st->bytes_written + len > st->fail_after_bytes) {
        st->fail_after_bytes = 0; /* one failure, then the disk has room again */
        st->write_failures++;
        return -ENOSPC;
    }
    st->bytes_written += len;
    if (f->map != NULL) {
        uint64_t b = off / f->blocksize;
        if (f->map[b / 8] >> (b % 8) & 1)
            st->dup_writes++; /* a kept block written again: the engine must skip those */
        f->map[b / 8] |= (uint8_t)(1u << (b % 8));
    }
    if (f->data != NULL)
        memcpy(f->data + off, data, len);
    if (f->wmap != NULL && len > 0)
        for (uint64_t b = off / f->blocksize; b <= (off + len - 1) / f->blocksize; b++)
            f->wmap[b / 8] |= (uint8_t)(1u << (b % 8));
    f->digest += write_digest(((struct node *)ctx)->sim, off, data, len);
    f->written += len;
    if (f->written > f->size)
        st->dup_writes++;
    return 0;
}

/* Parity decoding reads back what was written (issue 17). */
static int ms_read(void *ctx, void *h, uint64_t off, void *data, size_t len)
{
    struct sim_store *st = &((struct node *)ctx)->store;
    struct sim_mfile *f = mf_handle(st, h);
    if (f == NULL || off > f->size || len > f->size - off) {
        st->bad_writes++;
        return -EINVAL;
    }
    if (f->data == NULL) {
        /* Digest-only: the sender's bytes, for blocks this receiver wrote. */
        if (f->ref == NULL || f->wmap == NULL)
            return -EIO;
        for (uint64_t b = off / f->blocksize; len > 0 && b <= (off + len - 1) / f->blocksize; b++)
            if (!(f->wmap[b / 8] >> (b % 8) & 1)) {
                st->bad_writes++;
                return -EIO;
            }
        memcpy(data, f->ref + off, len);
        return 0;
    }
    memcpy(data, f->data + off, len);
    return 0;
}

static int ms_close(void *ctx, void *h, enum receiver_close how, const struct receiver_file *rf)
{
    struct sim_store *st = &((struct node *)ctx)->store;
    struct sim_mfile *f = mf_handle(st, h);
    if (f == NULL)
        return -EINVAL;
    if (f->kept)
        return 0; /* (sim_restart_receiver kept it from under its handle) */
    if (how == RECEIVER_CLOSE_KEEP && st->restart && f->map != NULL) {
        f->kept = true; /* hidden, for a restart */
        return 0;
    }
    if (how != RECEIVER_CLOSE_DONE) { /* ABORT, and KEEP without restart */
        st->closes_abort++;
        mf_drop(f);
        return 0;
    }
    st->closes_done++;
    if (f->written != f->size) {
        /* Incomplete data presented as complete: the test fails on this. */
        st->bad_writes++;
    }
    struct sim_mfile *old = mf_find(st, f->dest, f->rel);
    if (old != NULL)
        mf_drop(old);
    f->visible = true;
    f->mtime = rf->mtime;
    return 0;
}

static int ms_mkdir(void *ctx, const struct receiver_file *rf)
{
    struct sim_store *st = &((struct node *)ctx)->store;
    struct sim_mfile *old = mf_find(st, rf->dest, rf->rel);
    if (old != NULL && old->type == FTYPE_DIR)
        return 1;
    if (old != NULL)
        return -EEXIST;
    struct sim_mfile *f = mf_new(st);
    f->in_use = f->visible = true;
    f->dest = rf->dest;
    snprintf(f->rel, sizeof(f->rel), "%s", rf->rel);
    f->type = FTYPE_DIR;
    return 0;
}

static int ms_symlink(void *ctx, const struct receiver_file *rf)
{
    struct sim_store *st = &((struct node *)ctx)->store;
    struct sim_mfile *old = mf_find(st, rf->dest, rf->rel);
    if (old != NULL && old->type == FTYPE_DIR)
        return -EISDIR;
    if (old != NULL)
        mf_drop(old);
    struct sim_mfile *f = mf_new(st);
    f->in_use = f->visible = true;
    f->dest = rf->dest;
    snprintf(f->rel, sizeof(f->rel), "%s", rf->rel);
    snprintf(f->link, sizeof(f->link), "%s", rf->link);
    f->type = FTYPE_LINK;
    return 0;
}

static int ms_remove(void *ctx, const struct receiver_file *rf)
{
    struct sim_store *st = &((struct node *)ctx)->store;
    struct sim_mfile *old = mf_find(st, rf->dest, rf->rel);
    if (old == NULL)
        return -ENOENT;
    mf_drop(old);
    return 0;
}

static int ms_free_space(void *ctx, const struct receiver_file *rf, uint64_t *avail)
{
    (void)rf;
    struct sim_store *st = &((struct node *)ctx)->store;
    *avail = st->free_space;
    return 0;
}

static int ms_stat(void *ctx, const struct receiver_file *rf, struct file_stat *out)
{
    struct sim_store *st = &((struct node *)ctx)->store;
    struct sim_mfile *f = mf_find(st, rf->dest, rf->rel);
    if (f == NULL)
        return -ENOENT;
    memset(out, 0, sizeof(*out));
    out->type = f->type;
    out->size = f->size;
    out->mtime = f->mtime;
    return 0;
}

static void ms_session_end(void *ctx, uint32_t server_id, uint32_t group_id, uint8_t inst,
                           bool completed)
{
    struct node *n = ctx;
    struct sim_store *st = &n->store;
    for (size_t k = 0; k < st->n; k++)
        if (st->f[k].server_id == server_id && st->f[k].group_id == group_id &&
            st->f[k].group_inst == inst)
            st->f[k].live = false;
    st->ended_us = n->sim->now;
    st->session_ends++;
    if (completed)
        st->session_ends_ok++;
}

static bool ms_held(void *ctx, void *h, uint32_t block)
{
    struct sim_store *st = &((struct node *)ctx)->store;
    struct sim_mfile *f = mf_handle(st, h);
    return f != NULL && f->map != NULL && (f->map[block / 8] >> (block % 8) & 1);
}

static const struct receiver_storage sim_receiver_storage = {
    .open = ms_open,
    .write = ms_write,
    .read = ms_read,
    .close = ms_close,
    .mkdir = ms_mkdir,
    .symlink = ms_symlink,
    .remove = ms_remove,
    .free_space = ms_free_space,
    .stat = ms_stat,
    .session_end = ms_session_end,
    .held = ms_held,
};

/* ------------------------------------------------------------ nodes */

/* ------------------------------------------------------------ the deadline heap */

/*
 * Nodes by (key, index), where a node's key is at most its deadline: a
 * deadline that moved later (a receiver's timeout, on every datagram)
 * leaves the node where it was until its old key comes up (dl_top,
 * dl_due), which saves most of the sifting.
 */
static bool dl_before(const struct node *a, const struct node *b)
{
    return a->hkey < b->hkey || (a->hkey == b->hkey && a->idx < b->idx);
}

static void dl_set(struct sim *s, size_t i, struct node *n)
{
    s->dl[i] = n;
    n->hpos = i;
}

/* Files node n at its deadline. */
static void dl_fix(struct sim *s, struct node *n)
{
    n->hkey = n->deadline;
    size_t i = n->hpos;
    while (i > 0 && dl_before(n, s->dl[(i - 1) / 2])) {
        dl_set(s, i, s->dl[(i - 1) / 2]);
        i = (i - 1) / 2;
    }
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        const struct node *mp = n;
        if (l < (size_t)s->nnodes && dl_before(s->dl[l], mp)) {
            m = l;
            mp = s->dl[l];
        }
        if (r < (size_t)s->nnodes && dl_before(s->dl[r], mp))
            m = r;
        if (m == i)
            break;
        dl_set(s, i, s->dl[m]);
        i = m;
    }
    dl_set(s, i, n);
}

/* After node n's deadline changed: an earlier one is filed now, a later one lazily. */
static void dl_note(struct sim *s, struct node *n)
{
    if (n->deadline < n->hkey)
        dl_fix(s, n);
}

/* The earliest deadline of all (the top filed at its real deadline first). */
static uint64_t dl_top(struct sim *s)
{
    while (s->dl[0]->hkey != s->dl[0]->deadline)
        dl_fix(s, s->dl[0]);
    return s->dl[0]->deadline;
}

/*
 * Marks every node whose deadline is at most t (within the heap's part
 * keyed at most t); those whose key was stale go to s->rk, to be filed anew.
 */
static void dl_due(struct sim *s, size_t i, uint64_t t)
{
    if (i >= (size_t)s->nnodes || s->dl[i]->hkey > t)
        return;
    struct node *n = s->dl[i];
    if (n->deadline > t)
        s->rk[s->nrk++] = n->idx;
    else if (!n->touched) {
        n->touched = true;
        s->touch[s->ntouch++] = n->idx;
    }
    dl_due(s, 2 * i + 1, t);
    dl_due(s, 2 * i + 2, t);
}

/* Whether the node keeps sim_run going (all_done); counted in nbusy. */
static void busy_update(struct sim *s, struct node *n)
{
    bool b = false;
    if (n->kind == SIM_SENDER) {
        b = !n->finished;
    } else if (n->kind == SIM_RECEIVER && !n->finished) {
        b = receiver_sessions(n->rcv) > 0;
    }
    if (b != n->busy) {
        n->busy = b;
        if (b)
            s->nbusy++;
        else
            s->nbusy--;
    }
}

/* ------------------------------------------------------------ nodes */

static struct node *new_node(struct sim *s, enum sim_kind k, const struct sim_link *link)
{
    if (s->nnodes == s->capnodes) {
        int cap = s->capnodes ? 2 * s->capnodes : 64;
        s->nodes = realloc(s->nodes, (size_t)cap * sizeof(*s->nodes));
        s->dl = realloc(s->dl, (size_t)cap * sizeof(*s->dl));
        s->touch = realloc(s->touch, (size_t)cap * sizeof(*s->touch));
        s->rk = realloc(s->rk, (size_t)cap * sizeof(*s->rk));
        s->capnodes = cap;
    }
    struct node *n = calloc(1, sizeof(*n));
    s->nodes[s->nnodes] = n;
    n->kind = k;
    n->sim = s;
    n->idx = s->nnodes;
    if (link)
        n->link = *link;
    n->exit_code = -1;
    n->store.free_space = UINT64_C(1) << 40;
    n->store.digest_only = s->digest_only;
    n->nif = 1;
    n->net[0] = n->mnet = s->cur_net;
    addr_on(s, s->nnodes, k == SIM_SENDER, s->cur_net, &n->addr);
    n->ifaddr[0] = n->addr;
    return n;
}

/* The node's engine exists: it joins the network. Returns its index. */
static int node_commit(struct sim *s, struct node *n)
{
    int idx = s->nnodes++;
    amap_put(s, &n->addr, idx, 0);
    dl_set(s, (size_t)idx, n);
    dl_fix(s, n);
    busy_update(s, n);
    return idx;
}

static int node_discard(struct sim *s, struct node *n)
{
    s->nodes[n->idx] = NULL;
    free(n);
    return -1;
}

int sim_add_sender(struct sim *s, struct sender_config *cfg, const struct sim_link *link,
                   void (*event)(void *ctx, const struct sender_event *ev))
{
    struct node *n = new_node(s, SIM_SENDER, link);
    if (n == NULL)
        return -1;
    int idx = n->idx;
    if (!addr_is_set(&cfg->pub))
        sim_group_addr(s, 0, 0, false, &cfg->pub);
    if (!addr_is_set(&cfg->priv))
        sim_group_addr(s, 1, idx % 62500, false, &cfg->priv); /* (octets stay < 256) */
    if (cfg->server_id == 0)
        cfg->server_id = addr_id(&n->addr);
    struct sender_env env = {
        .ctx = n,
        .rng = sim_rng,
        .log = node_log(n),
        .storage = {.open = src_open, .read = src_read, .close = src_close},
        .event = event,
    };
    if (sender_new(&n->snd, cfg, &env) < 0)
        return node_discard(s, n);
    return node_commit(s, n);
}

int sim_add_receiver(struct sim *s, struct receiver_config *cfg, const struct sim_link *link)
{
    struct node *n = new_node(s, SIM_RECEIVER, link);
    if (n == NULL)
        return -1;
    if (cfg->client_id == 0)
        cfg->client_id = addr_id(&n->addr);
    struct receiver_env env = {
        .ctx = n, .rng = sim_rng, .storage = sim_receiver_storage, .log = node_log(n)};
    /* A digest-only store without sim_set_digest_readback has nothing to read back: such a receiver
     * does not offer to decode parity, as uftpd without /proc (issue 17). */
    if (n->store.digest_only && n->sim->rb_src == NULL)
        env.storage.read = NULL;
    if (receiver_new(&n->rcv, cfg, &env) < 0)
        return node_discard(s, n);
    return node_commit(s, n);
}

int sim_add_proxy(struct sim *s, struct proxy_config *cfg, const struct sim_link *link)
{
    struct node *n = new_node(s, SIM_PROXY, link);
    if (n == NULL)
        return -1;
    if (cfg->proxy_id == 0)
        cfg->proxy_id = addr_id(&n->addr);
    struct proxy_env env = {.ctx = n, .rng = sim_rng, .log = node_log(n)};
    if (proxy_new(&n->prx, cfg, &env) < 0)
        return node_discard(s, n);
    return node_commit(s, n);
}

struct proxy *sim_proxy(struct sim *s, int i)
{
    return s->nodes[i]->prx;
}

void sim_set_bottleneck(struct sim *s, int i, const struct sim_bneck *b)
{
    struct node *n = s->nodes[i];
    n->bn = b ? *b : (struct sim_bneck){0};
    if (n->bn.qlimit == 0)
        n->bn.qlimit = UINT64_MAX / 2;
    n->bn_busy_ns = 0;
    n->bn_st = (struct sim_bneck_stats){0};
}

void sim_bottleneck_stats(struct sim *s, int i, struct sim_bneck_stats *out)
{
    *out = s->nodes[i]->bn_st;
}

void sim_set_tos(struct sim *s, int i, uint8_t tos)
{
    s->nodes[i]->tos = tos;
}

/* Adds node i to a short list kept in index order (the order sim_run visits them). */
static void list_add(int **l, size_t *n, int i)
{
    size_t k = 0;
    while (k < *n && (*l)[k] < i)
        k++;
    if (k < *n && (*l)[k] == i)
        return;
    *l = realloc(*l, (*n + 1) * sizeof(**l));
    memmove(*l + k + 1, *l + k, (*n - k) * sizeof(**l));
    (*l)[k] = i;
    (*n)++;
}

void sim_kill_at(struct sim *s, int i, uint64_t t_us)
{
    s->nodes[i]->kill_at = t_us ? t_us : 1;
    list_add(&s->kl, &s->nkl, i);
}

void sim_restart_receiver(struct sim *s, int i, const struct receiver_config *cfg)
{
    struct node *n = s->nodes[i];
    struct sim_store *st = &n->store;
    for (size_t k = 0; k < st->n; k++) {
        if (st->f[k].in_use && !st->f[k].visible && st->f[k].map != NULL && st->restart)
            st->f[k].kept = true;
        st->f[k].live = false; /* uftpd at start makes a dead run's state resumable */
    }
    struct receiver_env env = {
        .ctx = n, .rng = sim_rng, .storage = sim_receiver_storage, .log = node_log(n)};
    /* A digest-only store without sim_set_digest_readback has nothing to read back: such a receiver
     * does not offer to decode parity, as uftpd without /proc (issue 17). */
    if (n->store.digest_only && n->sim->rb_src == NULL)
        env.storage.read = NULL;
    receiver_free(n->rcv);
    n->nmemb = 0; /* (what a killed process had joined goes with it) */
    if (receiver_new(&n->rcv, cfg, &env) < 0)
        abort();
    for (size_t g = 0; g < s->ngroups; g++) {
        struct addr ga = s->groups[g].g;
        group_update(s, n, &ga);
    }
    n->deadline = 0;
    n->finished = false;
    dl_fix(s, n);
    busy_update(s, n);
}

void sim_deaf(struct sim *s, int i, uint64_t from_us, uint64_t until_us)
{
    s->nodes[i]->deaf_from = from_us;
    s->nodes[i]->deaf_until = until_us;
}

void sim_interrupt_at(struct sim *s, int i, uint64_t t_us)
{
    s->nodes[i]->intr_at = t_us ? t_us : 1;
    list_add(&s->il, &s->nil, i);
}

/* ------------------------------------------------------------ delivery */

static bool member(const struct node *n, const struct addr *group, const struct addr *src)
{
    for (size_t i = 0; i < n->nmemb; i++) {
        const struct memb *m = &n->memb[i];
        if (!addr_equal_ip(&m->group, group))
            continue;
        if (!addr_is_set(&m->source) || addr_equal_ip(&m->source, src))
            return true;
    }
    return false;
}

static bool dead(const struct node *n, uint64_t now)
{
    return n->kill_at != 0 && now >= n->kill_at;
}

/*
 * The bottleneck in front of b (sim.h): a datagram arriving at t_us leaves
 * it at the returned time, or is dropped (false); *tos may become CE.
 */
static bool bottleneck(struct node *b, size_t len, uint64_t *t_us, uint8_t *tos)
{
    const struct sim_bneck *bn = &b->bn;
    uint64_t t_ns = *t_us * 1000, sz = len + 28;
    uint64_t backlog =
        b->bn_busy_ns > t_ns ? (b->bn_busy_ns - t_ns) * bn->rate_Bps / 1000000000u : 0;
    if (backlog > b->bn_st.max_backlog)
        b->bn_st.max_backlog = backlog;
    if (backlog + sz > bn->qlimit) {
        b->bn_st.drops++;
        return false;
    }
    if (bn->ecn_thresh && backlog > bn->ecn_thresh && (*tos & 3)) {
        *tos |= 3;
        b->bn_st.marks++;
    }
    uint64_t start = b->bn_busy_ns > t_ns ? b->bn_busy_ns : t_ns;
    b->bn_busy_ns = start + sz * 1000000000u / bn->rate_Bps;
    uint64_t out = (b->bn_busy_ns + 999) / 1000;
    if (out - *t_us > b->bn_st.max_delay_us)
        b->bn_st.max_delay_us = out - *t_us;
    if (b->bn_st.pkts == 0)
        b->bn_st.first_us = out;
    b->bn_st.last_us = out;
    if (out / 10000 != b->bn_st.win) {
        b->bn_st.win = out / 10000;
        b->bn_st.win_bytes = 0;
    }
    b->bn_st.win_bytes += sz;
    if (b->bn_st.win_bytes > b->bn_st.max_10ms)
        b->bn_st.max_10ms = b->bn_st.win_bytes;
    b->bn_st.pkts++;
    b->bn_st.bytes += sz;
    *t_us = out;
    return true;
}

static struct payload *payload_new(const uint8_t *data, size_t len)
{
    struct payload *pl = malloc(sizeof(*pl) + len);
    pl->refs = 1;
    pl->len = len;
    memcpy(pl->data, data, len);
    return pl;
}

static void schedule(struct sim *s, int from, int to, const struct addr *src,
                     const struct addr *dst, struct payload *pl, uint64_t depart)
{
    const struct node *a = s->nodes[from];
    struct node *b = s->nodes[to];
    size_t len = pl->len;
    unsigned copies = 1;
    if (pct(s) < a->link.loss_pct || pct(s) < b->link.loss_pct)
        return;
    if (pct(s) < a->link.dup_pct || pct(s) < b->link.dup_pct)
        copies = 2;
    for (unsigned c = 0; c < copies; c++) {
        uint64_t jit = a->link.jitter_us + b->link.jitter_us;
        uint64_t d = a->link.delay_us + b->link.delay_us + (jit ? sim_rand(s) % (jit + 1) : 0);
        uint64_t t = depart + d;
        uint8_t tos = a->tos;
        if (b->bn.rate_Bps && !bottleneck(b, len, &t, &tos))
            continue;
        struct pkt *q = s->last;
        if (q != NULL && q->pl == pl && q->t == t && q->tos == tos &&
            q->order + q->ndst == s->order && addr_equal(&q->from, src) &&
            addr_equal(&q->to, dst)) {
            /*
             * The next copy of the same send, due at the same time, with
             * the next order number: one more destination of that event
             * (delivered right after the previous, as its own event was).
             */
            if (q->ndst == q->capdst) {
                q->capdst *= 2;
                if (q->dst == &q->dst1) {
                    q->dst = malloc(q->capdst * sizeof(*q->dst));
                    q->dst[0] = q->dst1;
                } else {
                    q->dst = realloc(q->dst, q->capdst * sizeof(*q->dst));
                }
            }
            q->dst[q->ndst++] = to;
            s->order++;
            continue;
        }
        struct pkt *p = calloc(1, sizeof(*p));
        p->t = t;
        p->tos = tos;
        p->order = s->order++;
        p->dst = &p->dst1;
        p->dst1 = to;
        p->ndst = p->capdst = 1;
        p->from = *src;
        p->to = *dst;
        p->pl = pl;
        pl->refs++;
        heap_push(s, p);
        s->last = p;
    }
}

/* The source address node from uses towards dst (its multicast network's for groups). */
static void src_for(struct sim *s, int from, const struct addr *dst, struct addr *src)
{
    const struct node *a = s->nodes[from];
    if (addr_is_multicast(dst)) {
        int j = if_on(a, a->mnet);
        *src = a->ifaddr[j < 0 ? 0 : j];
        return;
    }
    int j, i = amap_get(s, dst, &j);
    if (i >= 0) {
        int k = uni_if(s, a, s->nodes[i]->net[j]);
        *src = a->ifaddr[k < 0 ? 0 : k];
        return;
    }
    *src = a->addr;
}

/* Group g's list for net, or NULL. */
static const struct gnet *gnet_of(const struct group *g, int net)
{
    for (size_t k = 0; k < g->nnets; k++)
        if (g->nets[k].net == net)
            return &g->nets[k];
    return NULL;
}

/* Whether site is the first of node b's networks whose parent is net (one copy per node). */
static bool first_site(const struct sim *s, const struct node *b, int net, int site)
{
    for (int j = 0; j < b->nif; j++)
        if (net_parent(s, b->net[j]) == net)
            return b->net[j] == site;
    return false;
}

/* The group entry of the group address g (its IP), or NULL. */
static struct group *group_of(struct sim *s, const struct addr *g)
{
    for (size_t i = 0; i < s->ngroups; i++)
        if (addr_equal_ip(&s->groups[i].g, g))
            return &s->groups[i];
    return NULL;
}

static void route_pl(struct sim *s, int from, const struct addr *dst, struct payload *pl,
                     uint64_t depart)
{
    const struct node *a = s->nodes[from];
    struct addr src;
    if (addr_is_multicast(dst)) {
        /* Multicast stays on the network it was sent on. */
        src_for(s, from, dst, &src);
        const struct group *g = group_of(s, dst);
        const struct gnet *e = g != NULL ? gnet_of(g, a->mnet) : NULL;
        for (size_t m = 0; e != NULL && m < e->n; m++) {
            int i = e->mem[m];
            if (i != from && member(s->nodes[i], dst, &src))
                schedule(s, from, i, &src, dst, pl, depart);
        }
        /* Sites of that network hear it too (sim_set_site), once per node. */
        for (size_t k = 0; g != NULL && s->nparent > 0 && k < g->nnets; k++) {
            e = &g->nets[k];
            if (net_parent(s, e->net) != a->mnet)
                continue;
            for (size_t m = 0; m < e->n; m++) {
                int i = e->mem[m];
                const struct node *b = s->nodes[i];
                if (i == from || if_on(b, a->mnet) >= 0 || !first_site(s, b, a->mnet, e->net) ||
                    !member(b, dst, &src))
                    continue;
                schedule(s, from, i, &src, dst, pl, depart);
            }
        }
        return;
    }
    int j, i = amap_get(s, dst, &j);
    if (i >= 0 && i != from) {
        const struct node *b = s->nodes[i];
        int k = uni_if(s, a, b->net[j]);
        if (k >= 0) {
            schedule(s, from, i, &a->ifaddr[k], dst, pl, depart);
            return;
        }
        /* Not on that network: out through a NAT, if one leads there. */
        for (int t = 0; t < s->nnats; t++) {
            struct nat *n = &s->nats[t];
            int in = if_on(a, n->in);
            if (n->out != b->net[j] || in < 0)
                continue;
            src = n->pub;
            addr_set_port(&src, nat_out(s, n, &a->ifaddr[in]));
            schedule(s, from, i, &src, dst, pl, depart);
            return;
        }
        return;
    }
    /* Into a NAT from outside: only through a live mapping. */
    for (int t = 0; t < s->nnats; t++) {
        struct nat *n = &s->nats[t];
        int k = if_on(a, n->out);
        if (k < 0 || !addr_equal_ip(dst, &n->pub))
            continue;
        for (size_t m = 0; m < n->n; m++) {
            if (n->m[m].port != addr_port(dst) || !nat_live(s, n, &n->m[m]))
                continue;
            int in = amap_get(s, &n->m[m].inside, NULL);
            if (in >= 0) {
                schedule(s, from, in, &a->ifaddr[k], &n->m[m].inside, pl, depart);
                return;
            }
        }
        n->drops++;
        return;
    }
}

static void route(struct sim *s, int from, const struct addr *dst, const uint8_t *data, size_t len,
                  uint64_t depart)
{
    struct payload *pl = payload_new(data, len);
    route_pl(s, from, dst, pl, depart);
    if (--pl->refs == 0)
        free(pl);
}

/* Whether node n holds any membership of group g's IP. */
static bool holds(const struct node *n, const struct addr *g)
{
    for (size_t i = 0; i < n->nmemb; i++)
        if (addr_equal_ip(&n->memb[i].group, g))
            return true;
    return false;
}

/* Keeps the group table in step with node n's memberships of g (after a change). */
/* Keeps list e (of a network node n is on) in step with n's memberships of g. */
static void gnet_update(struct gnet *e, const struct node *n, bool want)
{
    size_t k = 0, lo = 0, hi = e->n;
    while (lo < hi) { /* the first member >= n->idx */
        size_t mid = (lo + hi) / 2;
        if (e->mem[mid] < n->idx)
            lo = mid + 1;
        else
            hi = mid;
    }
    k = lo;
    bool in = k < e->n && e->mem[k] == n->idx;
    if (want && !in) {
        if (e->n == e->cap) {
            e->cap = e->cap ? 2 * e->cap : 16;
            e->mem = realloc(e->mem, e->cap * sizeof(*e->mem));
        }
        memmove(e->mem + k + 1, e->mem + k, (e->n - k) * sizeof(*e->mem));
        e->mem[k] = n->idx;
        e->n++;
    } else if (!want && in) {
        memmove(e->mem + k, e->mem + k + 1, (e->n - k - 1) * sizeof(*e->mem));
        e->n--;
    }
}

/* Keeps the group table in step with node n's memberships of g (after a change). */
static void group_update(struct sim *s, struct node *n, const struct addr *g)
{
    bool want = holds(n, g);
    struct group *e = group_of(s, g);
    if (e == NULL && !want)
        return;
    if (e == NULL) {
        if (s->ngroups == s->capgroups) {
            s->capgroups = s->capgroups ? 2 * s->capgroups : 8;
            s->groups = realloc(s->groups, s->capgroups * sizeof(*s->groups));
        }
        e = &s->groups[s->ngroups++];
        memset(e, 0, sizeof(*e));
        e->g = *g;
    }
    for (int j = 0; j < n->nif; j++) {
        struct gnet *l = (struct gnet *)gnet_of(e, n->net[j]);
        if (l == NULL && !want)
            continue;
        if (l == NULL) {
            e->nets = realloc(e->nets, (e->nnets + 1) * sizeof(*e->nets));
            l = &e->nets[e->nnets++];
            memset(l, 0, sizeof(*l));
            l->net = n->net[j];
        }
        gnet_update(l, n, want);
    }
}

static void membership_list(struct node *n, const struct eng_out *o)
{
    if (o->kind == ENG_JOIN) {
        n->joins++;
        if (addr_is_set(&o->source))
            n->ssm_joins++;
        if (n->nmemb == n->capmemb) {
            n->capmemb = n->capmemb ? n->capmemb * 2 : 8;
            n->memb = realloc(n->memb, n->capmemb * sizeof(*n->memb));
        }
        n->memb[n->nmemb].group = o->group;
        n->memb[n->nmemb].source = o->source;
        n->nmemb++;
        return;
    }
    n->leaves++;
    for (size_t i = 0; i < n->nmemb; i++) {
        if (addr_equal_ip(&n->memb[i].group, &o->group) &&
            addr_is_set(&n->memb[i].source) == addr_is_set(&o->source)) {
            n->memb[i] = n->memb[--n->nmemb];
            return;
        }
    }
}

static void membership(struct node *n, const struct eng_out *o)
{
    membership_list(n, o);
    group_update(n->sim, n, &o->group);
}

void sim_set_tap(struct sim *s, sim_tap_fn fn, void *arg)
{
    s->tap = fn;
    s->tap_arg = arg;
}

void sim_set_drop(struct sim *s, sim_drop_fn fn, void *arg)
{
    s->drop = fn;
    s->drop_arg = arg;
}

static void put16(uint8_t *p, unsigned v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

int sim_pcap_open(struct sim *s, const char *path)
{
    s->pcap = fopen(path, "wb");
    if (s->pcap == NULL)
        return -1;
    /* Classic pcap, microsecond stamps, snaplen 65535, LINKTYPE_RAW (101). */
    uint32_t hdr[6] = {0xa1b2c3d4, 0x00040002, 0, 0, 65535, 101};
    fwrite(hdr, sizeof(hdr), 1, s->pcap);
    return 0;
}

static void pcap_write(struct sim *s, const struct addr *src, const struct addr *dst,
                       const uint8_t *p, size_t len, uint64_t t)
{
    uint8_t h[48];
    size_t hl;
    uint8_t sip[16], dip[16];
    size_t alen = addr_get_ip(src, sip);
    addr_get_ip(dst, dip);
    memset(h, 0, sizeof(h));
    if (alen == 4) {
        hl = 28;
        h[0] = 0x45;
        put16(h + 2, (unsigned)(len + 28));
        h[8] = 64;
        h[9] = 17;
        memcpy(h + 12, sip, 4);
        memcpy(h + 16, dip, 4);
        unsigned sum = 0;
        for (int i = 0; i < 20; i += 2)
            sum += (unsigned)h[i] << 8 | h[i + 1];
        while (sum >> 16)
            sum = (sum & 0xFFFF) + (sum >> 16);
        put16(h + 10, ~sum & 0xFFFF);
    } else {
        hl = 48;
        h[0] = 0x60;
        put16(h + 4, (unsigned)(len + 8));
        h[6] = 17;
        h[7] = 64;
        memcpy(h + 8, sip, 16);
        memcpy(h + 24, dip, 16);
    }
    uint8_t *u = h + hl - 8;
    put16(u, addr_port(src));
    put16(u + 2, addr_port(dst));
    put16(u + 4, (unsigned)(len + 8));
    uint32_t rec[4] = {(uint32_t)(t / 1000000), (uint32_t)(t % 1000000), (uint32_t)(len + hl),
                       (uint32_t)(len + hl)};
    fwrite(rec, sizeof(rec), 1, s->pcap);
    fwrite(h, hl, 1, s->pcap);
    fwrite(p, len, 1, s->pcap);
}

void sim_call_at(struct sim *s, uint64_t t, void (*fn)(struct sim *s, void *arg), void *arg)
{
    struct pkt *p = calloc(1, sizeof(*p));
    p->t = t;
    p->order = s->order++;
    p->fn = fn; /* ndst 0 */
    p->arg = arg;
    heap_push(s, p);
}

static void emit(struct sim *s, int from, const struct addr *dst, const uint8_t *data, size_t len,
                 uint64_t depart)
{
    struct addr src;
    src_for(s, from, dst, &src);
    if (s->tap)
        s->tap(s->tap_arg, from, &src, dst, data, len, depart);
    if (s->pcap)
        pcap_write(s, &src, dst, data, len, depart);
    if (s->drop && s->drop(s->drop_arg, from, dst, data, len))
        return;
    route(s, from, dst, data, len, depart);
}

void sim_inject(struct sim *s, int from, const struct addr *dst, const uint8_t *p, size_t len)
{
    route(s, from, dst, p, len, s->now);
}

/* The thread's CPU time in ns (sim_set_cpu_clock). */
static uint64_t cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Drains a node's outputs at s->now. */
static void drain(struct sim *s, int idx)
{
    struct node *n = s->nodes[idx];
    for (int guard = 0; guard < 100000; guard++) {
        if (n->kind == SIM_SENDER && n->nic_free_ns > s->now * 1000 + 2000000) {
            /* The NIC queue is full (EAGAIN): come back when it drains. */
            n->deadline = (n->nic_free_ns - 2000000 + 999) / 1000;
            return;
        }
        struct eng_out o;
        memset(&o, 0, sizeof(o));
        o.buf = s->buf;
        o.cap = SIM_BUF;
        o.max_seg = ENG_MAX_SEG;
        bool clk = s->cpu_clock && n->kind != SIM_RECEIVER;
        uint64_t c0 = clk ? cpu_now() : 0;
        int k = n->kind == SIM_SENDER  ? sender_poll(n->snd, s->now, &o)
                : n->kind == SIM_PROXY ? proxy_poll(n->prx, s->now, &o)
                                       : receiver_poll(n->rcv, s->now, &o);
        if (clk)
            n->cpu_ns += cpu_now() - c0;
        if (k < 0) {
            fprintf(stderr, "sim: poll error %d\n", k);
            abort();
        }
        if (k == ENG_NONE)
            break;
        if (k == ENG_DONE) {
            n->finished = true;
            n->exit_code = o.exit_code;
            n->store.ended_us = s->now;
            continue;
        }
        if (k == ENG_JOIN || k == ENG_LEAVE) {
            membership(n, &o);
            continue;
        }
        /* ENG_SEND: check the batch shape, then split it. */
        if (o.nseg < 1 || o.len > o.cap || o.len > o.nseg * o.seglen ||
            o.len <= (o.nseg - 1) * o.seglen) {
            fprintf(stderr, "sim: malformed batch len %zu seglen %zu nseg %zu\n", o.len, o.seglen,
                    o.nseg);
            abort();
        }
        if (dead(n, s->now))
            continue;
        for (size_t i = 0; i < o.nseg; i++) {
            size_t off = i * o.seglen;
            size_t len = i + 1 < o.nseg ? o.seglen : o.len - off;
            uint64_t depart = s->now;
            if (n->kind == SIM_SENDER) {
                uint64_t start = n->nic_free_ns > s->now * 1000 ? n->nic_free_ns : s->now * 1000;
                n->nic_free_ns = start + (uint64_t)(len + 28) * 1000000000u / s->nic_Bps;
                depart = n->nic_free_ns / 1000;
            }
            emit(s, idx, &o.dst, o.buf + off, len, depart);
        }
    }
    n->deadline = n->kind == SIM_SENDER  ? sender_deadline(n->snd)
                  : n->kind == SIM_PROXY ? proxy_deadline(n->prx)
                                         : receiver_deadline(n->rcv);
}

/*
 * Every sender finished and every live receiver holds no session (or has
 * finished): the busy count, less busy receivers dead by now.
 */
static bool all_done(struct sim *s)
{
    size_t gone = 0;
    for (size_t k = 0; k < s->nkl; k++) {
        const struct node *n = s->nodes[s->kl[k]];
        gone += n->busy && dead(n, s->now); /* (a killed sender ends nothing either) */
    }
    return s->nbusy == gone;
}

static void hash_pkt(struct sim *s, const struct pkt *p, int dst)
{
    uint64_t h = s->hash;
    const uint8_t *data = p->pl->data;
    uint64_t words[3] = {p->t, (uint64_t)dst, p->pl->len};
    const uint8_t *b = (const uint8_t *)words;
    for (size_t i = 0; i < sizeof(words); i++)
        h = (h ^ b[i]) * 0x100000001b3ull;
    /*
     * Word at a time: every byte counts, at a fraction of the cost. Key
     * material and ciphertext come from OpenSSL's own RNG (ECDH keys,
     * ECDSA nonces), not the sim's: of such datagrams only the UFTP header
     * (and the length, above) is part of the trace.
     */
    size_t n = p->pl->len;
    if (n >= UFTP_HDR_LEN &&
        (data[1] == ENCRYPTED || data[1] == KEYINFO || data[1] == ANNOUNCE || data[1] == REGISTER ||
         data[1] == PROXY_KEY || data[1] == HB_REQ || data[1] == CLIENT_KEY))
        n = UFTP_HDR_LEN; /* (proxies' keys, signed heartbeats, v4's cleartext CLIENT_KEY too) */
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, data + i, 8);
        h = (h ^ w) * 0x100000001b3ull;
        h ^= h >> 29;
    }
    for (; i < n; i++)
        h = (h ^ data[i]) * 0x100000001b3ull;
    s->hash = h;
}

/* Drains node i and files its new deadline and busy state. */
static void step(struct sim *s, int i)
{
    struct node *n = s->nodes[i];
    drain(s, i);
    dl_note(s, n);
    busy_update(s, n);
}

/* Delivers one copy of p to node i (unless dead or deaf) and marks it for draining. */
static void deliver(struct sim *s, const struct pkt *p, int i)
{
    struct node *n = s->nodes[i];
    if (dead(n, s->now) || (s->now >= n->deaf_from && s->now < n->deaf_until))
        return;
    const struct payload *pl = p->pl;
    if (s->trace == 1)
        fprintf(stderr, "sim %10.6f -> node %d: %s seq %u (%zu bytes)\n", (double)s->now / 1e6, i,
                wire_func_name(pl->len > 1 ? pl->data[1] : 0),
                pl->len > 3 ? (unsigned)(pl->data[2] << 8 | pl->data[3]) : 0, pl->len);
    hash_pkt(s, p, i);
    s->delivered++;
    /* The engines decrypt in place: each gets a copy of its own. */
    uint8_t *b = pl->len <= SIM_RXBUF ? s->rxbuf : malloc(pl->len);
    memcpy(b, pl->data, pl->len);
    bool clk = s->cpu_clock && n->kind != SIM_RECEIVER;
    uint64_t c0 = clk ? cpu_now() : 0;
    if (n->kind == SIM_SENDER)
        sender_recv(n->snd, &p->from, &p->to, b, pl->len, p->tos, s->now);
    else if (n->kind == SIM_PROXY)
        proxy_recv(n->prx, &p->from, &p->to, b, pl->len, p->tos, s->now);
    else
        receiver_recv(n->rcv, &p->from, &p->to, b, pl->len, p->tos, s->now);
    if (clk)
        n->cpu_ns += cpu_now() - c0;
    if (b != s->rxbuf)
        free(b);
    if (!n->touched) {
        n->touched = true;
        s->touch[s->ntouch++] = i;
    }
}

static int int_cmp(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

bool sim_run(struct sim *s, uint64_t limit_us)
{
    for (int i = 0; i < s->nnodes; i++)
        step(s, i);
    while (!all_done(s)) {
        uint64_t t = UINT64_MAX;
        if (s->nheap > 0)
            t = s->heap[0]->t;
        if (s->nnodes > 0 && dl_top(s) < t)
            t = s->dl[0]->deadline;
        for (size_t k = 0; k < s->nil; k++) {
            const struct node *n = s->nodes[s->il[k]];
            if (!n->intr_done && n->intr_at < t)
                t = n->intr_at;
        }
        if (t == UINT64_MAX || t > limit_us)
            return false;
        if (t > s->now)
            s->now = t;
        for (size_t k = 0; k < s->nil; k++) {
            struct node *n = s->nodes[s->il[k]];
            if (!n->intr_done && s->now >= n->intr_at) {
                n->intr_done = true;
                if (n->kind == SIM_SENDER)
                    sender_interrupt(n->snd, s->now);
                else if (n->kind == SIM_PROXY)
                    proxy_shutdown(n->prx, s->now);
                else
                    receiver_shutdown(n->rcv, s->now);
                n->deadline = 0;
                dl_fix(s, n);
            }
        }
        /* Deliver everything due now, then poll who needs it, in node order. */
        while (s->nheap > 0 && s->heap[0]->t <= s->now) {
            struct pkt *p = heap_pop(s);
            if (p == s->last)
                s->last = NULL;
            if (p->ndst == 0)
                p->fn(s, p->arg);
            for (size_t k = 0; k < p->ndst; k++)
                deliver(s, p, p->dst[k]);
            pkt_free(p);
        }
        dl_due(s, 0, s->now);
        for (size_t k = 0; k < s->nrk; k++) /* (after the walk: filing moves nodes) */
            dl_fix(s, s->nodes[s->rk[k]]);
        s->nrk = 0;
        size_t up = 1; /* (a multicast's copies come in node order: often sorted already) */
        while (up < s->ntouch && s->touch[up - 1] < s->touch[up])
            up++;
        if (up < s->ntouch)
            qsort(s->touch, s->ntouch, sizeof(*s->touch), int_cmp);
        size_t nt = s->ntouch;
        s->ntouch = 0;
        for (size_t k = 0; k < nt; k++) {
            s->nodes[s->touch[k]]->touched = false;
            step(s, s->touch[k]);
        }
    }
    return true;
}

int sim_exit_code(struct sim *s, int i)
{
    return s->nodes[i]->exit_code;
}

struct sim_store *sim_store(struct sim *s, int i)
{
    return &s->nodes[i]->store;
}

struct sender *sim_sender(struct sim *s, int i)
{
    return s->nodes[i]->snd;
}

struct receiver *sim_receiver(struct sim *s, int i)
{
    return s->nodes[i]->rcv;
}

uint64_t sim_now(struct sim *s)
{
    return s->now;
}

uint64_t sim_trace_hash(struct sim *s)
{
    return s->hash;
}

uint64_t sim_packets(struct sim *s)
{
    return s->delivered;
}

void sim_membership_counts(struct sim *s, int i, unsigned *joins, unsigned *leaves,
                           unsigned *ssm_joins)
{
    *joins = s->nodes[i]->joins;
    *leaves = s->nodes[i]->leaves;
    *ssm_joins = s->nodes[i]->ssm_joins;
}
