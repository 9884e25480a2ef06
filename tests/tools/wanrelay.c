/*
 * wanrelay — WAN emulation for the integration tests (the kernel here has no
 * netem): a user-space layer-2 bridge between two interfaces that delays,
 * jitters, reorders, loses and duplicates frames.
 *
 *   wanrelay [OPTIONS] IF_A IF_B
 *   wanrelay --offloads-off IF...
 *
 * Every frame received on IF_A leaves on IF_B after the configured delay and
 * vice versa: unicast, multicast, ARP/ND, VLAN tags, anything. Numeric options
 * take VALUE (both directions) or AB:BA (A→B, then B→A):
 *
 *   --delay MS        one-way delay (fractions allowed; default 0)
 *   --jitter MS       each frame's delay is uniform in [delay-jitter,
 *                     delay+jitter] (clamped at 0); frames overtake each other
 *                     when the jitter exceeds the gap between them
 *   --no-reorder      keep FIFO order despite jitter (a frame never leaves
 *                     before the one received before it)
 *   --loss PCT        drop frames at random (before the queue)
 *   --dup PCT         send a second copy of a frame, with its own delay
 *   --queue-limit N   frames held per direction (default 20000); beyond it
 *                     arrivals are dropped, like a router's tail drop
 *   --queue-bytes N   bytes held per direction (default 64 MiB)
 *   --seed N          PRNG seed (default: from getrandom; printed at start)
 *   --ready FILE      create FILE once both interfaces are open
 *   --stats FILE      on SIGUSR1 write the counters to FILE (atomically)
 *
 * Counters (one line per direction) also go to stderr on SIGUSR1 and at exit
 * (SIGTERM/SIGINT): rx/tx frames, lost (emulated), dup, qdrop (queue full),
 * kdrop (the kernel dropped frames before we read them: the relay was too
 * slow), txerr, late_avg/late_max (µs sent after the due time), maxq.
 *
 * --offloads-off turns off checksum offload, TSO/GSO, GRO/LRO and VLAN
 * acceleration on the named interfaces (SIOCETHTOOL; no ethtool binary
 * needed). Run it on both ends of the relay's links: a bridge then segments
 * and checksums frames before they reach the relay, so loss and duplication
 * act on real wire frames, not on 64 KiB GSO super-frames. Frames that are
 * still GSO or lack their checksum (offloads left on) are forwarded intact all
 * the same: the sockets use PACKET_VNET_HDR, which carries that state across.
 *
 * Randomness: a seeded xoshiro256** per direction (seeded by splitmix64),
 * NOT a CSPRNG — this is a test tool and runs must be reproducible; the
 * project rule "randomness only from the OS CSPRNG" covers the product.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <linux/ethtool.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/sockios.h>
#include <linux/virtio_net.h>

#define BATCH     64
#define VHDR      ((size_t)sizeof(struct virtio_net_hdr))
#define VLAN_LEN  4
#define FRAME_MAX (65536 + ETH_HLEN + VLAN_LEN)
#define SLOT_SIZE ((VHDR + FRAME_MAX + 63) & ~(size_t)63)
#define SOCK_BUF  (32 << 20)
#define RETRY_NS  200000 /* after ENOBUFS */

enum { AB, BA };

struct frame {
    size_t len; /* vnet header + frame */
    uint8_t data[];
};

struct qent {
    int64_t due;
    uint64_t seq; /* tie-break: equal due times leave in arrival order */
    struct frame *f;
};

struct params {
    double delay_ms, jitter_ms, loss_pct, dup_pct, qlimit, qbytes;
};

struct stats {
    uint64_t rx, tx, lost, dup, qdrop, kdrop, trunc, txerr, gso, partial, vlan;
    uint64_t late_sum_ns, late_max_ns, maxq;
};

struct dir {
    const char *name;
    int in_fd, out_fd;
    int64_t delay_ns, jitter_ns;
    double loss, dup;
    size_t qlimit, qbytes;
    struct qent *heap;
    size_t n;
    struct qent out[BATCH]; /* popped from the heap, not sent yet */
    size_t nout;
    size_t queued, bytes;
    int64_t last_due, retry_at;
    uint64_t seq, rng[4];
    bool blocked; /* send socket full: wait for POLLOUT */
    int last_err;
    struct stats st;
};

static bool g_reorder = true;

/* Per-direction numeric options: one row each (name, limits, field). */
struct opt_row {
    const char *name;
    double min, max;
    size_t off;
};

static const struct opt_row opt_rows[] = {
    {"delay", 0, 600000, offsetof(struct params, delay_ms)},
    {"jitter", 0, 600000, offsetof(struct params, jitter_ms)},
    {"loss", 0, 100, offsetof(struct params, loss_pct)},
    {"dup", 0, 100, offsetof(struct params, dup_pct)},
    {"queue-limit", 1, 1000000, offsetof(struct params, qlimit)},
    {"queue-bytes", 1024, 1 << 30, offsetof(struct params, qbytes)},
};
#define N_ROWS (sizeof(opt_rows) / sizeof(opt_rows[0]))

static void usage(void)
{
    fprintf(stderr, "usage: wanrelay [--delay MS] [--jitter MS] [--no-reorder] [--loss PCT]\n"
                    "                [--dup PCT] [--queue-limit N] [--queue-bytes N] [--seed N]\n"
                    "                [--ready FILE] [--stats FILE] IF_A IF_B\n"
                    "       wanrelay --offloads-off IF...\n"
                    "numeric options take VALUE (both directions) or AB:BA\n");
    exit(2);
}

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- PRNG: splitmix64 to seed xoshiro256** (test tool, see top) ---- */

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static uint64_t rng_next(uint64_t s[4])
{
    uint64_t r = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return r;
}

/* Uniform in [0, 1). */
static double rng_unit(uint64_t s[4])
{
    return (double)(rng_next(s) >> 11) * 0x1.0p-53;
}

static void rng_seed(uint64_t s[4], uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        s[i] = splitmix64(&seed);
}

/* ---- time-ordered queue: a binary min-heap on (due, seq) ---- */

static bool qent_less(const struct qent *a, const struct qent *b)
{
    return a->due < b->due || (a->due == b->due && a->seq < b->seq);
}

static void heap_push(struct dir *d, struct qent e)
{
    size_t i = d->n++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!qent_less(&e, &d->heap[p]))
            break;
        d->heap[i] = d->heap[p];
        i = p;
    }
    d->heap[i] = e;
}

static struct qent heap_pop(struct dir *d)
{
    struct qent top = d->heap[0], last = d->heap[--d->n];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= d->n)
            break;
        if (c + 1 < d->n && qent_less(&d->heap[c + 1], &d->heap[c]))
            c++;
        if (!qent_less(&d->heap[c], &last))
            break;
        d->heap[i] = d->heap[c];
        i = c;
    }
    if (d->n > 0)
        d->heap[i] = last;
    return top;
}

/* ---- options ---- */

/* "V" or "AB:BA" into v[AB], v[BA]. */
static bool parse_pair(const char *s, double lo, double hi, double v[2])
{
    char *end;
    errno = 0;
    v[AB] = strtod(s, &end);
    if (errno != 0 || end == s)
        return false;
    v[BA] = v[AB];
    if (*end == ':') {
        const char *p = end + 1;
        v[BA] = strtod(p, &end);
        if (errno != 0 || end == p)
            return false;
    }
    return *end == '\0' && v[AB] >= lo && v[AB] <= hi && v[BA] >= lo && v[BA] <= hi;
}

static bool parse_u64(const char *s, uint64_t *v)
{
    char *end;
    errno = 0;
    unsigned long long x = strtoull(s, &end, 0);
    if (errno != 0 || end == s || *end != '\0' || s[0] == '-')
        return false;
    *v = x;
    return true;
}

/* ---- offloads (SIOCETHTOOL, ETHTOOL_SFEATURES by feature name) ---- */

static bool offload_name(const char *n)
{
    size_t l = strlen(n);
    return strncmp(n, "tx-checksum", 11) == 0 || strncmp(n, "tx-gso", 6) == 0 ||
           (l > 12 && strcmp(n + l - 12, "segmentation") == 0) || strncmp(n, "rx-gro", 6) == 0 ||
           strcmp(n, "rx-lro") == 0 || strcmp(n, "rx-udp-gro-forwarding") == 0 ||
           (strstr(n, "vlan") != NULL &&
            (strstr(n, "hw-insert") != NULL || strstr(n, "hw-parse") != NULL));
}

static int ethtool(int fd, const char *ifname, void *data)
{
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
    ifr.ifr_data = data;
    return ioctl(fd, SIOCETHTOOL, &ifr);
}

/* Returns 0, or 1 with a message when a feature could not be turned off. */
static int offloads_off(const char *ifname)
{
    struct ethtool_sset_info *ss = NULL;
    struct ethtool_gstrings *names = NULL;
    struct ethtool_sfeatures *sf = NULL;
    struct ethtool_gfeatures *gf = NULL;
    uint32_t n, words;
    int fd, rc = 1, off = 0, stuck = 0;

    fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    ss = calloc(1, sizeof(*ss) + sizeof(uint32_t));
    if (fd < 0 || ss == NULL)
        goto out;
    ss->cmd = ETHTOOL_GSSET_INFO;
    ss->sset_mask = 1ull << ETH_SS_FEATURES;
    if (ethtool(fd, ifname, ss) < 0 || ss->sset_mask == 0) {
        fprintf(stderr, "wanrelay: %s: feature list: %s\n", ifname, strerror(errno));
        goto out;
    }
    n = ss->data[0];
    words = (n + 31) / 32;
    names = calloc(1, sizeof(*names) + (size_t)n * ETH_GSTRING_LEN);
    sf = calloc(1, sizeof(*sf) + words * sizeof(sf->features[0]));
    gf = calloc(1, sizeof(*gf) + words * sizeof(gf->features[0]));
    if (names == NULL || sf == NULL || gf == NULL)
        goto out;
    names->cmd = ETHTOOL_GSTRINGS;
    names->string_set = ETH_SS_FEATURES;
    names->len = n;
    if (ethtool(fd, ifname, names) < 0) {
        fprintf(stderr, "wanrelay: %s: feature names: %s\n", ifname, strerror(errno));
        goto out;
    }
    sf->cmd = ETHTOOL_SFEATURES;
    sf->size = words;
    for (uint32_t i = 0; i < n; i++) {
        char nm[ETH_GSTRING_LEN + 1];
        memcpy(nm, names->data + (size_t)i * ETH_GSTRING_LEN, ETH_GSTRING_LEN);
        nm[ETH_GSTRING_LEN] = '\0';
        if (offload_name(nm))
            sf->features[i / 32].valid |= 1u << (i % 32);
    }
    if (ethtool(fd, ifname, sf) < 0) {
        fprintf(stderr, "wanrelay: %s: set features: %s\n", ifname, strerror(errno));
        goto out;
    }
    gf->cmd = ETHTOOL_GFEATURES;
    gf->size = words;
    if (ethtool(fd, ifname, gf) < 0) {
        fprintf(stderr, "wanrelay: %s: get features: %s\n", ifname, strerror(errno));
        goto out;
    }
    for (uint32_t i = 0; i < n; i++) {
        uint32_t bit = 1u << (i % 32);
        if (!(sf->features[i / 32].valid & bit))
            continue;
        off++;
        if (gf->features[i / 32].active & bit) {
            fprintf(stderr, "wanrelay: %s: %.*s stays on\n", ifname, ETH_GSTRING_LEN,
                    (const char *)names->data + (size_t)i * ETH_GSTRING_LEN);
            stuck++;
        }
    }
    rc = stuck > 0;
    if (off == 0)
        fprintf(stderr, "wanrelay: %s: no offload features found\n", ifname);
out:
    free(ss);
    free(names);
    free(sf);
    free(gf);
    if (fd >= 0)
        close(fd);
    return rc;
}

/* ---- sockets ---- */

static int open_if(const char *ifname)
{
    unsigned idx = if_nametoindex(ifname);
    int fd, one = 1, buf = SOCK_BUF;
    struct sockaddr_ll sll;
    struct packet_mreq mr;

    if (idx == 0) {
        fprintf(stderr, "wanrelay: no interface %s\n", ifname);
        exit(2);
    }
    /* Protocol 0 until bound: no frames from other interfaces sneak in. */
    fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        perror("wanrelay: packet socket");
        exit(2);
    }
    /* GSO and checksum state travel with each frame (see top). */
    if (setsockopt(fd, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof(one)) < 0 ||
        setsockopt(fd, SOL_PACKET, PACKET_AUXDATA, &one, sizeof(one)) < 0) {
        perror("wanrelay: PACKET_VNET_HDR/AUXDATA");
        exit(2);
    }
    /* Our own transmissions are skipped by pkttype anyway; this saves the copies. */
    (void)setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one));
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof(buf)) < 0)
        (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
    if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &buf, sizeof(buf)) < 0)
        (void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
    memset(&sll, 0, sizeof(sll));
    sll.sll_family = AF_PACKET;
    sll.sll_protocol = htons(ETH_P_ALL);
    sll.sll_ifindex = (int)idx;
    if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
        fprintf(stderr, "wanrelay: bind %s: %s\n", ifname, strerror(errno));
        exit(2);
    }
    memset(&mr, 0, sizeof(mr));
    mr.mr_ifindex = (int)idx;
    mr.mr_type = PACKET_MR_PROMISC;
    if (setsockopt(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof(mr)) < 0) {
        fprintf(stderr, "wanrelay: promiscuous %s: %s\n", ifname, strerror(errno));
        exit(2);
    }
    return fd;
}

/* Frames the kernel dropped on this socket since the last call. */
static uint64_t kernel_drops(int fd)
{
    struct tpacket_stats ks;
    socklen_t l = sizeof(ks);
    if (getsockopt(fd, SOL_PACKET, PACKET_STATISTICS, &ks, &l) < 0)
        return 0;
    return ks.tp_drops;
}

/* ---- the relay ---- */

static void dir_init(struct dir *d, const char *name, int in, int out, const struct params *p,
                     int k, uint64_t seed)
{
    memset(d, 0, sizeof(*d));
    d->name = name;
    d->in_fd = in;
    d->out_fd = out;
    d->delay_ns = (int64_t)(p[k].delay_ms * 1e6);
    d->jitter_ns = (int64_t)(p[k].jitter_ms * 1e6);
    d->loss = p[k].loss_pct / 100;
    d->dup = p[k].dup_pct / 100;
    d->qlimit = (size_t)p[k].qlimit;
    d->qbytes = (size_t)p[k].qbytes;
    d->heap = calloc(d->qlimit, sizeof(*d->heap));
    if (d->heap == NULL) {
        fprintf(stderr, "wanrelay: out of memory\n");
        exit(2);
    }
    /* Independent streams: a direction's losses depend only on its frames. */
    rng_seed(d->rng, seed ^ (k == AB ? 0 : 0x5bd1e9955bd1e995u));
}

static void dir_free(struct dir *d)
{
    for (size_t i = 0; i < d->n; i++)
        free(d->heap[i].f);
    for (size_t i = 0; i < d->nout; i++)
        free(d->out[i].f);
    free(d->heap);
    d->heap = NULL;
    d->n = d->nout = 0;
}

/* Queues one copy of a received frame; false when the queue is full. */
static bool enqueue(struct dir *d, const uint8_t *data, size_t len, int64_t now)
{
    struct frame *f;
    int64_t delay = d->delay_ns;

    if (d->queued >= d->qlimit || d->bytes + len > d->qbytes) {
        d->st.qdrop++;
        return false;
    }
    f = malloc(sizeof(*f) + len);
    if (f == NULL) {
        d->st.qdrop++;
        return false;
    }
    f->len = len;
    memcpy(f->data, data, len);
    if (d->jitter_ns > 0) {
        delay += (int64_t)((2 * rng_unit(d->rng) - 1) * (double)d->jitter_ns);
        if (delay < 0)
            delay = 0;
    }
    int64_t due = now + delay;
    if (!g_reorder && due < d->last_due)
        due = d->last_due;
    d->last_due = due;
    heap_push(d, (struct qent){due, d->seq++, f});
    d->queued++;
    d->bytes += len;
    if (d->queued > d->st.maxq)
        d->st.maxq = d->queued;
    return true;
}

/* A VLAN tag the kernel stripped into the auxdata goes back into the frame. */
static size_t restore_vlan(uint8_t *p, size_t len, const struct tpacket_auxdata *aux)
{
    struct virtio_net_hdr *vh = (struct virtio_net_hdr *)p;
    uint16_t tpid = (aux->tp_status & TP_STATUS_VLAN_TPID_VALID) ? aux->tp_vlan_tpid : 0x8100;
    uint8_t *eth = p + VHDR;

    if (len < VHDR + 2 * ETH_ALEN || len + VLAN_LEN > SLOT_SIZE)
        return len;
    memmove(eth + 2 * ETH_ALEN + VLAN_LEN, eth + 2 * ETH_ALEN, len - VHDR - 2 * ETH_ALEN);
    eth[12] = (uint8_t)(tpid >> 8);
    eth[13] = (uint8_t)tpid;
    eth[14] = (uint8_t)(aux->tp_vlan_tci >> 8);
    eth[15] = (uint8_t)aux->tp_vlan_tci;
    /* Offsets in the vnet header count from the start of the frame. */
    if (vh->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)
        vh->csum_start = (uint16_t)(vh->csum_start + VLAN_LEN);
    if (vh->hdr_len != 0)
        vh->hdr_len = (uint16_t)(vh->hdr_len + VLAN_LEN);
    return len + VLAN_LEN;
}

struct rxbufs {
    uint8_t *slots; /* BATCH * SLOT_SIZE */
    struct mmsghdr msg[BATCH];
    struct iovec iov[BATCH];
    struct sockaddr_ll from[BATCH];
    union {
        struct cmsghdr align;
        uint8_t b[CMSG_SPACE(sizeof(struct tpacket_auxdata))];
    } ctl[BATCH];
};

/* One recvmmsg batch from d's input; returns frames read (0 when none). */
static int receive(struct dir *d, struct rxbufs *rb)
{
    int r;
    for (int i = 0; i < BATCH; i++) {
        /* Room before the frame is not needed; VLAN_LEN spare at the end. */
        rb->iov[i] = (struct iovec){rb->slots + (size_t)i * SLOT_SIZE, SLOT_SIZE - VLAN_LEN};
        rb->msg[i].msg_hdr = (struct msghdr){.msg_name = &rb->from[i],
                                             .msg_namelen = sizeof(rb->from[i]),
                                             .msg_iov = &rb->iov[i],
                                             .msg_iovlen = 1,
                                             .msg_control = rb->ctl[i].b,
                                             .msg_controllen = sizeof(rb->ctl[i].b)};
    }
    r = recvmmsg(d->in_fd, rb->msg, BATCH, MSG_DONTWAIT, NULL);
    if (r < 0) {
        /* ENETDOWN and the like are reported once and are not fatal. */
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            d->last_err = errno;
        return 0;
    }
    int64_t now = now_ns();
    for (int i = 0; i < r; i++) {
        struct msghdr *m = &rb->msg[i].msg_hdr;
        uint8_t *p = rb->iov[i].iov_base;
        size_t len = rb->msg[i].msg_len;
        const struct virtio_net_hdr *vh = (const struct virtio_net_hdr *)p;

        if (rb->from[i].sll_pkttype == PACKET_OUTGOING)
            continue;
        d->st.rx++;
        if ((m->msg_flags & MSG_TRUNC) || len < VHDR + ETH_HLEN) {
            d->st.trunc++;
            continue;
        }
        for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c != NULL; c = CMSG_NXTHDR(m, c)) {
            if (c->cmsg_level == SOL_PACKET && c->cmsg_type == PACKET_AUXDATA) {
                struct tpacket_auxdata aux;
                memcpy(&aux, CMSG_DATA(c), sizeof(aux));
                if (aux.tp_status & TP_STATUS_VLAN_VALID) {
                    len = restore_vlan(p, len, &aux);
                    d->st.vlan++;
                }
            }
        }
        if (vh->gso_type != VIRTIO_NET_HDR_GSO_NONE)
            d->st.gso++;
        if (vh->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)
            d->st.partial++;
        /* DATA_VALID is receive-only information. */
        ((struct virtio_net_hdr *)p)->flags &= (uint8_t)~VIRTIO_NET_HDR_F_DATA_VALID;
        if (d->loss > 0 && rng_unit(d->rng) < d->loss) {
            d->st.lost++;
            continue;
        }
        bool dup = d->dup > 0 && rng_unit(d->rng) < d->dup;
        if (enqueue(d, p, len, now) && dup && enqueue(d, p, len, now))
            d->st.dup++;
    }
    return r;
}

/* Sends every due frame of d (until the socket pushes back). */
static void flush(struct dir *d)
{
    struct mmsghdr msg[BATCH];
    struct iovec iov[BATCH];

    if (d->blocked)
        return;
    for (;;) {
        int64_t now = now_ns();
        if (d->retry_at != 0) {
            if (now < d->retry_at)
                return;
            d->retry_at = 0;
        }
        while (d->nout < BATCH && d->n > 0 && d->heap[0].due <= now)
            d->out[d->nout++] = heap_pop(d);
        if (d->nout == 0)
            return;
        for (size_t i = 0; i < d->nout; i++) {
            iov[i] = (struct iovec){d->out[i].f->data, d->out[i].f->len};
            msg[i].msg_hdr = (struct msghdr){.msg_iov = &iov[i], .msg_iovlen = 1};
        }
        int r = sendmmsg(d->out_fd, msg, (unsigned)d->nout, MSG_DONTWAIT);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                d->blocked = true;
                return;
            }
            if (errno == ENOBUFS) {
                d->retry_at = now + RETRY_NS;
                return;
            }
            /* EMSGSIZE, ENETDOWN, ...: this frame cannot go; the rest may. */
            d->last_err = errno;
            d->st.txerr++;
            r = 1;
        } else {
            d->st.tx += (uint64_t)r;
            for (int i = 0; i < r; i++) {
                uint64_t late = (uint64_t)(now - d->out[i].due);
                d->st.late_sum_ns += late;
                if (late > d->st.late_max_ns)
                    d->st.late_max_ns = late;
            }
        }
        for (int i = 0; i < r; i++) {
            d->bytes -= d->out[i].f->len;
            free(d->out[i].f);
        }
        d->queued -= (size_t)r;
        d->nout -= (size_t)r;
        memmove(d->out, d->out + r, d->nout * sizeof(d->out[0]));
    }
}

static int64_t next_event(const struct dir *d)
{
    if (d->blocked)
        return INT64_MAX;
    if (d->retry_at != 0)
        return d->retry_at;
    if (d->nout > 0)
        return 0;
    return d->n > 0 ? d->heap[0].due : INT64_MAX;
}

static void stats_print(FILE *f, const struct dir *d)
{
    uint64_t sent = d->st.tx > 0 ? d->st.tx : 1;
    fprintf(f,
            "wanrelay %s rx=%" PRIu64 " tx=%" PRIu64 " lost=%" PRIu64 " dup=%" PRIu64
            " qdrop=%" PRIu64 " kdrop=%" PRIu64 " trunc=%" PRIu64 " txerr=%" PRIu64 " gso=%" PRIu64
            " partial=%" PRIu64 " vlan=%" PRIu64 " late_avg_us=%" PRIu64 " late_max_us=%" PRIu64
            " maxq=%" PRIu64 " queued=%zu",
            d->name, d->st.rx, d->st.tx, d->st.lost, d->st.dup, d->st.qdrop, d->st.kdrop,
            d->st.trunc, d->st.txerr, d->st.gso, d->st.partial, d->st.vlan,
            d->st.late_sum_ns / sent / 1000, d->st.late_max_ns / 1000, d->st.maxq, d->queued);
    if (d->last_err != 0)
        fprintf(f, " last_err=%s", strerror(d->last_err));
    fputc('\n', f);
}

/* To stderr, and atomically to PATH when given. */
static void stats_report(const char *path, struct dir *dirs)
{
    char tmp[PATH_MAX];
    FILE *f;

    for (int i = AB; i <= BA; i++) {
        dirs[i].st.kdrop += kernel_drops(dirs[i].in_fd);
        stats_print(stderr, &dirs[i]);
    }
    if (path == NULL || snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
        return;
    f = fopen(tmp, "w");
    if (f == NULL)
        return;
    stats_print(f, &dirs[AB]);
    stats_print(f, &dirs[BA]);
    if (fclose(f) == 0)
        rename(tmp, path);
}

static void arm(int tfd, int64_t when, int64_t *armed)
{
    struct itimerspec its;
    if (when == *armed)
        return;
    memset(&its, 0, sizeof(its));
    if (when != INT64_MAX) {
        if (when <= 0)
            when = 1;
        its.it_value.tv_sec = when / 1000000000;
        its.it_value.tv_nsec = when % 1000000000;
    }
    timerfd_settime(tfd, TFD_TIMER_ABSTIME, &its, NULL);
    *armed = when;
}

int main(int argc, char **argv)
{
    enum { O_NOREORDER = 256, O_SEED, O_READY, O_STATS, O_OFFLOADS };
    static const struct option longopts[] = {
        {"delay", required_argument, NULL, 0},
        {"jitter", required_argument, NULL, 0},
        {"loss", required_argument, NULL, 0},
        {"dup", required_argument, NULL, 0},
        {"queue-limit", required_argument, NULL, 0},
        {"queue-bytes", required_argument, NULL, 0},
        {"no-reorder", no_argument, NULL, O_NOREORDER},
        {"seed", required_argument, NULL, O_SEED},
        {"ready", required_argument, NULL, O_READY},
        {"stats", required_argument, NULL, O_STATS},
        {"offloads-off", no_argument, NULL, O_OFFLOADS},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct params p[2] = {{0, 0, 0, 0, 20000, 64 << 20}, {0, 0, 0, 0, 20000, 64 << 20}};
    const char *ready = NULL, *stats = NULL;
    uint64_t seed = 0;
    bool have_seed = false, offloads = false;
    int c, idx;

    while ((c = getopt_long(argc, argv, "h", longopts, &idx)) != -1) {
        switch (c) {
        case 0: {
            const struct opt_row *row = NULL;
            double v[2];
            for (size_t i = 0; i < N_ROWS; i++)
                if (strcmp(opt_rows[i].name, longopts[idx].name) == 0)
                    row = &opt_rows[i];
            if (row == NULL || !parse_pair(optarg, row->min, row->max, v)) {
                fprintf(stderr, "wanrelay: --%s: '%s' must be VALUE or AB:BA, each %g..%g\n",
                        longopts[idx].name, optarg, row ? row->min : 0, row ? row->max : 0);
                exit(2);
            }
            *(double *)((char *)&p[AB] + row->off) = v[AB];
            *(double *)((char *)&p[BA] + row->off) = v[BA];
            break;
        }
        case O_NOREORDER:
            g_reorder = false;
            break;
        case O_SEED:
            if (!parse_u64(optarg, &seed)) {
                fprintf(stderr, "wanrelay: --seed: '%s' is not an unsigned integer\n", optarg);
                exit(2);
            }
            have_seed = true;
            break;
        case O_READY:
            ready = optarg;
            break;
        case O_STATS:
            stats = optarg;
            break;
        case O_OFFLOADS:
            offloads = true;
            break;
        default:
            usage();
        }
    }
    if (offloads) {
        int rc = 0;
        if (optind >= argc)
            usage();
        for (int i = optind; i < argc; i++)
            rc |= offloads_off(argv[i]);
        return rc;
    }
    if (argc - optind != 2)
        usage();
    if (!have_seed && getrandom(&seed, sizeof(seed), 0) != sizeof(seed)) {
        perror("wanrelay: getrandom");
        exit(2);
    }

    /* Timers fire on time rather than up to 50 µs late. */
    prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
    int fa = open_if(argv[optind]), fb = open_if(argv[optind + 1]);
    static struct dir dirs[2];
    dir_init(&dirs[AB], "a>b", fa, fb, p, AB, seed);
    dir_init(&dirs[BA], "b>a", fb, fa, p, BA, seed);

    static struct rxbufs rb;
    rb.slots = malloc((size_t)BATCH * SLOT_SIZE);
    int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGHUP);
    sigaddset(&sigs, SIGUSR1);
    sigprocmask(SIG_BLOCK, &sigs, NULL);
    int sfd = signalfd(-1, &sigs, SFD_NONBLOCK | SFD_CLOEXEC);
    if (rb.slots == NULL || tfd < 0 || sfd < 0) {
        perror("wanrelay: setup");
        exit(2);
    }
    kernel_drops(fa); /* reset the counters */
    kernel_drops(fb);
    fprintf(stderr,
            "wanrelay: %s <-> %s seed=%" PRIu64 " delay=%g:%g jitter=%g:%g loss=%g:%g "
            "dup=%g:%g queue-limit=%g:%g queue-bytes=%g:%g%s\n",
            argv[optind], argv[optind + 1], seed, p[AB].delay_ms, p[BA].delay_ms, p[AB].jitter_ms,
            p[BA].jitter_ms, p[AB].loss_pct, p[BA].loss_pct, p[AB].dup_pct, p[BA].dup_pct,
            p[AB].qlimit, p[BA].qlimit, p[AB].qbytes, p[BA].qbytes, g_reorder ? "" : " no-reorder");
    if (ready != NULL) {
        int rfd = open(ready, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        if (rfd >= 0)
            close(rfd);
    }

    int64_t armed = -1;
    bool quit = false;
    while (!quit) {
        struct pollfd pf[4] = {
            {fa, (short)(POLLIN | (dirs[BA].blocked ? POLLOUT : 0)), 0},
            {fb, (short)(POLLIN | (dirs[AB].blocked ? POLLOUT : 0)), 0},
            {tfd, POLLIN, 0},
            {sfd, POLLIN, 0},
        };
        if (poll(pf, 4, -1) < 0) {
            if (errno == EINTR)
                continue;
            perror("wanrelay: poll");
            break;
        }
        if (pf[3].revents & POLLIN) {
            struct signalfd_siginfo si;
            while (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
                if (si.ssi_signo == SIGUSR1)
                    stats_report(stats, dirs);
                else
                    quit = true;
            }
        }
        if (pf[0].revents & POLLOUT)
            dirs[BA].blocked = false;
        if (pf[1].revents & POLLOUT)
            dirs[AB].blocked = false;
        if (pf[2].revents & POLLIN) {
            uint64_t ticks;
            if (read(tfd, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN)
                perror("wanrelay: timerfd");
            armed = -1; /* fired: re-arm even for the same time */
        }
        if (pf[0].revents & (POLLIN | POLLERR))
            receive(&dirs[AB], &rb);
        if (pf[1].revents & (POLLIN | POLLERR))
            receive(&dirs[BA], &rb);
        flush(&dirs[AB]);
        flush(&dirs[BA]);
        int64_t a = next_event(&dirs[AB]), b = next_event(&dirs[BA]);
        arm(tfd, a < b ? a : b, &armed);
    }
    stats_report(NULL, dirs);
    dir_free(&dirs[AB]);
    dir_free(&dirs[BA]);
    free(rb.slots);
    close(tfd);
    close(sfd);
    close(fa);
    close(fb);
    return 0;
}
