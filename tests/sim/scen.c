/*
 * The scenario harness (tests/sim/scen.h).
 */
#include "scen.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/crypto/crypto.h"
#include "core/crypto/fp.h"
#include "core/crypto/keyblob.h"
#include "core/crypto/keyfile.h"
#include "core/wire/buf.h"
#include "core/wire/msg.h"

const char *scen_pcap, *scen_corpus;
bool scen_verbose;
int scen_fails;
struct scen_events scen_ev;

static const char *g_name = "-";
static uint64_t g_seed;
static char g_case[96];

/* ------------------------------------------------------------ checks */

void scen_fail(const char *file, int line, const char *fmt, ...)
{
    const char *base = strrchr(file, '/');
    fprintf(stderr, "FAIL %s seed=%" PRIu64 "%s%s%s (%s:%d): ", g_name, g_seed,
            g_case[0] ? " [" : "", g_case, g_case[0] ? "]" : "", base ? base + 1 : file, line);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    scen_fails++;
}

void scen_case(const char *fmt, ...)
{
    g_case[0] = '\0';
    if (fmt == NULL)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g_case, sizeof(g_case), fmt, ap);
    va_end(ap);
}

/* ------------------------------------------------------------ keys */

static struct crypto_key *g_keys[SK_COUNT];

struct crypto_key *scen_key(enum scen_key k)
{
    static const int ec[SK_COUNT] = {CURVE_P256, 0,          CURVE_P384, 0,         CURVE_P521,
                                     CURVE_P256, CURVE_P256, CURVE_P256, CURVE_P256};
    if (g_keys[k] == NULL && (ec[k] ? keyfile_gen_ec(ec[k], &g_keys[k])
                                    : keyfile_gen_rsa(2048, &g_keys[k])) != CRYPTO_OK) {
        scen_fail(__FILE__, __LINE__, "cannot make key %d", (int)k);
        exit(1);
    }
    return g_keys[k];
}

void scen_fp(const struct crypto_key *k, uint8_t *fp, uint8_t *fplen)
{
    size_t bl;
    const uint8_t *b = crypto_key_blob(k, &bl);
    fp_compute(b, bl, fp);
    *fplen = FP_LEN;
}

/* ------------------------------------------------------------ main */

int scen_main(const struct scen_prog *p, int argc, char **argv)
{
    scen_verbose = getenv("SIM_VERBOSE") != NULL;
    int a = 1;
    for (; a < argc && argv[a][0] == '-'; a++) {
        if (strcmp(argv[a], "-v") == 0) {
            sim_set_log_level(LL_DEBUG);
            scen_verbose = true;
        } else if (strcmp(argv[a], "-l") == 0) {
            for (size_t i = 0; i < p->n; i++)
                printf("%s %" PRIu64 "\n", p->tab[i].name, p->tab[i].seed);
            return 0;
        } else if (strcmp(argv[a], "--pcap") == 0 && a + 1 < argc) {
            scen_pcap = argv[++a];
        } else if (strcmp(argv[a], "--corpus") == 0 && a + 1 < argc) {
            scen_corpus = argv[++a];
        } else {
            fprintf(stderr, "usage: %s [-v] [-l] [--pcap FILE] [--corpus DIR] [NAME [SEED]]\n",
                    p->name);
            return 2;
        }
    }
    int rc = 0;
    if (scen_corpus != NULL && p->corpus != NULL) {
        g_name = "corpus";
        rc = p->corpus(scen_corpus);
        goto out;
    }
    const char *only = a < argc ? argv[a++] : NULL;
    const char *seed_txt = a < argc ? argv[a++] : NULL;
    int ran = 0;
    for (size_t i = 0; i < p->n; i++) {
        if (only != NULL && strcmp(only, p->tab[i].name) != 0)
            continue;
        g_name = p->tab[i].name;
        g_seed = seed_txt ? strtoull(seed_txt, NULL, 0) : p->tab[i].seed;
        scen_case(NULL);
        int before = scen_fails;
        clock_t t0 = clock();
        p->tab[i].fn(g_seed);
        printf("%-22s seed=%-4" PRIu64 " %s  %.2fs\n", g_name, g_seed,
               scen_fails == before ? "ok  " : "FAIL", (double)(clock() - t0) / CLOCKS_PER_SEC);
        if (scen_fails != before)
            printf("  replay: %s %s %" PRIu64 "   (-v: the engines' logs; SIM_TRACE=1: every "
                   "delivery)\n",
                   p->name, g_name, g_seed);
        fflush(stdout);
        ran++;
    }
    if (ran == 0) {
        fprintf(stderr, "no scenario named %s\n", only ? only : "?");
        rc = 2;
    }
out:
    for (int k = 0; k < SK_COUNT; k++)
        crypto_key_free(g_keys[k]);
    return rc ? rc : scen_fails ? 1 : 0;
}

/* ------------------------------------------------------------ file sets */

struct file_item *scen_file(struct sim *s, struct scen_files *f, const char *name, size_t len)
{
    size_t i = f->n++;
    snprintf(f->names[i], sizeof(f->names[i]), "%s", name);
    snprintf(f->paths[i], sizeof(f->paths[i]), "blob%p-%zu", (void *)f, i);
    f->data[i] = sim_make_blob(s, f->paths[i], len);
    f->it[i] =
        (struct file_item){.type = FTYPE_REG,
                           .path = f->paths[i],
                           .name = f->names[i],
                           .link = "",
                           .size = len,
                           .mtime = 1700000000 + (int64_t)i * (f->mtime_step ? f->mtime_step : 1)};
    return &f->it[i];
}

struct file_item *scen_entry(struct scen_files *f, int type, const char *name, const char *link)
{
    size_t i = f->n++;
    snprintf(f->names[i], sizeof(f->names[i]), "%s", name);
    f->it[i] = (struct file_item){.type = type,
                                  .path = "",
                                  .name = f->names[i],
                                  .link = link ? link : "",
                                  .mtime = 1700000000};
    f->data[i] = NULL;
    return &f->it[i];
}

void scen_tree(struct sim *s, struct scen_files *f, int n, size_t max)
{
    char name[64];
    for (int i = 0; i < n; i++) {
        snprintf(name, sizeof(name), "d%d/sub%d/f%03d", i % 7, i % 3, i);
        scen_file(s, f, name, (size_t)(sim_rand(s) % max));
    }
}

const uint8_t *scen_readback(void *arg, const char *rel, uint64_t size)
{
    const struct scen_files *f = arg;
    for (size_t i = 0; i < f->n; i++)
        if (f->it[i].type == FTYPE_REG && f->it[i].size == size && strcmp(f->names[i], rel) == 0)
            return f->data[i];
    return NULL;
}

/* ------------------------------------------------------------ checks on receivers */

/* As scen_same, with the digest of data[0..len) known. */
static bool same_digest(const struct sim_mfile *m, const uint8_t *data, size_t len, uint64_t dig)
{
    /* The digest alone does when a store keeps no bytes (m->data NULL, sim_set_digest_only). */
    return m != NULL && m->size == len && m->digest == dig &&
           (m->data == NULL || len == 0 || memcmp(m->data, data, len) == 0);
}

bool scen_same(const struct sim_mfile *m, const uint8_t *data, size_t len)
{
    return m != NULL && same_digest(m, data, len, sim_digest(0, data, len));
}

bool scen_holds(const struct sim_store *st, size_t dest, const char *rel, const uint8_t *data,
                size_t len)
{
    const struct sim_mfile *m = sim_store_find(st, dest, rel);
    return m != NULL && m->type == FTYPE_REG && scen_same(m, data, len);
}

void check_delivered(struct sim *s, int rx, const struct scen_files *f)
{
    const struct sim_store *st = sim_store(s, rx);
    for (size_t i = 0; i < f->n; i++) {
        const struct file_item *it = &f->it[i];
        if (it->type == FTYPE_DELETE || it->type == FTYPE_FREESPACE)
            continue;
        const struct sim_mfile *m = sim_store_find(st, 0, it->name);
        CHECK(m != NULL, "receiver %d: %s missing", rx, it->name);
        if (m == NULL)
            continue;
        CHECK(m->type == it->type, "receiver %d: %s has type %d", rx, it->name, m->type);
        if (it->type == FTYPE_REG) {
            CHECK(same_digest(m, f->data[i], it->size, sim_blob_digest(s, f->data[i], it->size)),
                  "receiver %d: %s differs (%" PRIu64 " vs %" PRIu64 " bytes)", rx, it->name,
                  m->size, it->size);
            /* (v4: spec §1.9, FILEINFO carries the time in 32 bits at offset 16.) */
            CHECK(m->mtime == it->mtime, "receiver %d: %s mtime %" PRId64, rx, it->name, m->mtime);
        } else if (it->type == FTYPE_LINK) {
            CHECK(strcmp(m->link, it->link) == 0, "receiver %d: link %s -> %s", rx, it->name,
                  m->link);
        }
    }
    CHECK(st->bad_writes == 0 && st->dup_writes == 0, "receiver %d: storage misuse (bad %u dup %u)",
          rx, st->bad_writes, st->dup_writes);
}

void check_balanced(struct sim *s, int rx)
{
    unsigned j, l, ssm;
    sim_membership_counts(s, rx, &j, &l, &ssm);
    CHECK(j >= 1, "receiver %d joined nothing", rx);
    /* The public group stays joined while the daemon runs; sessions leave theirs. */
    CHECK(j == l + 1, "receiver %d: %u joins, %u leaves", rx, j, l);
}

/* ------------------------------------------------------------ on the wire */

void scen_nonce(struct scen_nonces *w, uint32_t src, uint64_t ctr)
{
    unsigned i = 0;
    while (i < w->nsrc && w->src[i] != src)
        i++;
    if (i == w->nsrc) {
        if (w->nsrc == SCEN_MAX_SRC)
            return;
        w->src[w->nsrc++] = src;
    }
    for (size_t k = 0; k < w->n[i]; k++)
        w->reused += w->ctrs[i][k] == ctr;
    if (w->n[i] == w->cap[i]) {
        w->cap[i] = w->cap[i] ? 2 * w->cap[i] : 256;
        w->ctrs[i] = realloc(w->ctrs[i], w->cap[i] * sizeof(uint64_t));
    }
    w->ctrs[i][w->n[i]++] = ctr;
}

void scen_nonces_free(struct scen_nonces *w)
{
    for (unsigned i = 0; i < w->nsrc; i++)
        free(w->ctrs[i]);
}

/* ------------------------------------------------------------ a run */

static struct sim *ev_sim; /* the sim of the sender scen_ev tallies */

static void on_event(void *ctx, const struct sender_event *ev)
{
    (void)ctx;
    switch (ev->kind) {
    case SENDER_EV_CONNECT:
        if (ev->ok)
            scen_ev.connects_ok++;
        else
            scen_ev.connects_fail++;
        break;
    case SENDER_EV_RESULT:
        scen_ev.results[ev->result]++;
        break;
    case SENDER_EV_FILE:
        scen_ev.file_elapsed_us = ev->elapsed_us;
        scen_ev.file_end_us = ev_sim != NULL ? sim_now(ev_sim) : 0;
        break;
    case SENDER_EV_FREESPACE:
        scen_ev.freespace++;
        scen_ev.freespace_val = ev->freespace;
        break;
    default:
        break;
    }
}

/* Counts the sender's traffic, then calls the run's taps. */
static void run_tap_all(void *arg, int from, const struct addr *src, const struct addr *dst,
                        const uint8_t *p, size_t len, uint64_t t)
{
    struct run *r = arg;
    struct scen_traffic *w = &r->traffic;
    if (w->node >= 0 && len >= UFTP_HDR_LEN) {
        if (from == w->node) {
            w->sent++;
            w->sent_bytes += len;
            w->sent_func[p[1] & 31]++;
        } else if (addr_equal_ip(dst, &w->at)) {
            w->got++;
            w->got_bytes += len;
            w->got_func[p[1] & 31]++;
            w->got_v4 += p[0] == UFTP_VER4;
            w->got_id += w->id != 0 && be32_get(p + 4) == w->id;
            if (from < SCEN_MAX_NODES)
                w->got_node[from]++;
        }
    }
    for (int i = 0; i < r->ntaps; i++)
        r->taps[i](r->tap_args[i], from, src, dst, p, len, t);
}

static void traffic_print(const struct scen_traffic *w)
{
    const unsigned *c[2] = {w->sent_func, w->got_func};
    for (int k = 0; k < 2; k++) {
        fprintf(stderr, "  %s %" PRIu64 " datagrams, %" PRIu64 " bytes:", k ? "got " : "sent",
                k ? w->got : w->sent, k ? w->got_bytes : w->sent_bytes);
        for (int f = 0; f < 32; f++)
            if (c[k][f])
                fprintf(stderr, " %s %u", wire_func_name((uint8_t)f), c[k][f]);
        fputc('\n', stderr);
    }
}

struct run *run_new(uint64_t seed)
{
    struct run *r = calloc(1, sizeof(*r));
    r->s = sim_new(seed);
    r->f = calloc(1, sizeof(*r->f));
    r->tx = r->traffic.node = -1;
    sim_group_addr(r->s, 0, 0, false, &r->pub);
    sim_set_tap(r->s, run_tap_all, r);
    memset(&scen_ev, 0, sizeof(scen_ev));
    return r;
}

void run_free(struct run *r)
{
    if (scen_verbose && r->traffic.node >= 0) {
        fprintf(stderr, "traffic at the sender (node %d), %.3f s:\n", r->traffic.node,
                (double)sim_now(r->s) / 1e6);
        traffic_print(&r->traffic);
    }
    if (ev_sim == r->s)
        ev_sim = NULL;
    sim_free(r->s);
    free(r->f);
    free(r);
}

void run_ipv6(struct run *r, bool v6)
{
    sim_set_ipv6(r->s, v6);
    sim_group_addr(r->s, 0, 0, false, &r->pub);
}

void run_tap(struct run *r, sim_tap_fn fn, void *arg)
{
    if (r->ntaps == SCEN_MAX_TAPS) {
        CHECK(0, "more than %d taps", SCEN_MAX_TAPS);
        return;
    }
    r->taps[r->ntaps] = fn;
    r->tap_args[r->ntaps++] = arg;
}

static const char *const g_dests[] = {"/dest0", "/dest1"};

void scen_receiver_defaults(struct receiver_config *c, const struct addr *pub)
{
    receiver_config_defaults(c);
    c->dests = g_dests;
    c->ndest = 2;
    c->pub_addrs = pub;
    c->npub = 1;
}

void run_receivers(struct run *r, int n, const struct sim_link *link,
                   void (*tweak)(struct run *r, int i, struct receiver_config *c))
{
    for (int i = 0; i < n && r->nrx < SCEN_MAX_RX; i++) {
        struct receiver_config *c = &r->rc[r->nrx];
        scen_receiver_defaults(c, &r->pub);
        if (tweak != NULL)
            tweak(r, r->nrx, c);
        r->rx[r->nrx] = sim_add_receiver(r->s, c, link);
        CHECK(r->rx[r->nrx] >= 0, "receiver_new failed");
        r->nrx++;
    }
}

void scen_sender_defaults(struct sender_config *c, const struct scen_files *f)
{
    sender_config_defaults(c);
    c->rate_kbps = 100000;
    if (getenv("SIM_NOENC"))
        c->keytype = KEY_NONE;
    c->files = f->it;
    c->nfiles = f->n;
}

struct sender_config *run_sender(struct run *r)
{
    scen_sender_defaults(&r->sc, r->f);
    return &r->sc;
}

void run_closed(struct run *r)
{
    for (int i = 0; i < r->nrx; i++)
        r->dests[i] = (struct sender_dest){.id = r->rc[i].client_id};
    r->sc.dests = r->dests;
    r->sc.ndest = (size_t)r->nrx;
}

int run_add_sender(struct run *r, const struct sim_link *link)
{
    ev_sim = r->s;
    r->tx = sim_add_sender(r->s, &r->sc, link, on_event);
    CHECK(r->tx >= 0, "sender_new failed");
    r->srv[0].id = r->sc.server_id;
    r->traffic.node = r->tx;
    if (r->tx >= 0)
        sim_node_addr(r->s, r->tx, &r->traffic.at);
    return r->tx;
}

int run_proxy(struct run *r, int k, enum proxy_role role, int a, int b, const struct sim_link *link)
{
    struct proxy_config *c = &r->pc[k];
    c->role = role;
    if (c->key == NULL)
        c->key = scen_key(SK_PROXY0 + k);
    c->pub_addrs = &r->pub;
    c->npub = 1;
    sim_set_net(r->s, a);
    int i = sim_add_proxy(r->s, c, link);
    CHECK(i >= 0, "proxy_new failed");
    if (b >= 0 && i >= 0)
        sim_add_if(r->s, i, b, NULL);
    r->px[k] = i;
    return i;
}

void run_expect(struct run *r, int exit_code)
{
    CHECK(sim_run(r->s, LIMIT_US), "did not finish");
    CHECK(sim_exit_code(r->s, r->tx) == exit_code, "sender exit %d (want %d)",
          sim_exit_code(r->s, r->tx), exit_code);
}

void run_delivered(struct run *r)
{
    for (int i = 0; i < r->nrx; i++)
        check_delivered(r->s, r->rx[i], r->f);
}

struct receiver_stats rx_stats(struct run *r, int i)
{
    struct receiver_stats st;
    receiver_stats(sim_receiver(r->s, r->rx[i]), &st);
    return st;
}

struct sender_stats tx_stats(struct run *r)
{
    struct sender_stats st;
    sender_stats(sim_sender(r->s, r->tx), &st);
    return st;
}

struct proxy_stats px_stats(struct run *r, int k)
{
    struct proxy_stats st;
    proxy_stats(sim_proxy(r->s, r->px[k]), &st);
    return st;
}

/* ------------------------------------------------------------ fuzz seeds */

void scen_seed_put(FILE *f, uint64_t *last, uint64_t t, int tag, const uint8_t *p, size_t len)
{
    uint64_t step = (t - *last) / 1000;
    *last = t;
    for (; step > 255; step -= 255) {
        static const uint8_t gap[4] = {255, 0, 0, 0}; /* long gaps become empty records */
        fwrite(gap, 1, tag >= 0 ? 4 : 3, f);
    }
    uint8_t h[4] = {(uint8_t)step, (uint8_t)tag, (uint8_t)(len >> 8), (uint8_t)len};
    if (tag < 0)
        h[1] = h[2], h[2] = h[3];
    fwrite(h, 1, tag >= 0 ? 4 : 3, f);
    fwrite(p, 1, len, f);
}

FILE *scen_seed_open(const char *dir, const char *sub, const char *name, int lead)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s/%s", dir, sub, name);
    FILE *f = fopen(path, "wb");
    if (f == NULL)
        fprintf(stderr, "cannot write %s (the directories must exist)\n", path);
    else if (lead >= 0)
        fputc(lead, f);
    return f;
}
