/*
 * v4 scenarios (issue 6, spec §1.9): our sender in v4 mode (--protocol 4)
 * and our receivers in the virtual network of sim.h, with loss, reordering
 * and duplication; every delivered file compared byte for byte, with its
 * time.
 *
 *   sim_v4                    run all scenarios with their default seeds
 *   sim_v4 NAME [SEED]        run one (replay a failing seed)
 *   sim_v4 -v ...             with engine logs at debug level
 *   sim_v4 --corpus DIR       write fuzz seeds to DIR/receiver and DIR/sender (v4
 *                             datagrams receiver 0 got and sent)
 *
 * A failure prints the scenario and the seed.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/crypto/ecdh.h"
#include "core/crypto/fp.h"
#include "core/crypto/keyblob.h"
#include "core/crypto/keyfile.h"
#include "core/crypto/sig.h"
#include "core/wire/msg.h"
#include "core/wire/proxykey.h"
#include "proxy/engine/engine.h"
#include "sim.h"

static const char *g_scen;
static uint64_t g_seed;
static int g_fail;
static const char *g_corpus; /* --corpus DIR */

#define CHECK(c, ...)                                                                              \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "FAIL %s seed=%" PRIu64 " (%s:%d): ", g_scen, g_seed, __FILE__,        \
                    __LINE__);                                                                     \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            g_fail++;                                                                              \
        }                                                                                          \
    } while (0)

#define SEC      UINT64_C(1000000)
#define LIMIT_US (UINT64_C(3600) * SEC)

static const char *const g_dests[] = {"/dest0"};

/* ------------------------------------------------------------ files */

struct files {
    struct file_item it[16];
    const uint8_t *data[16];
    char names[16][32];
    char paths[16][48];
    size_t n;
};

static void add_file(struct sim *s, struct files *f, const char *name, size_t len)
{
    size_t i = f->n++;
    snprintf(f->names[i], sizeof(f->names[i]), "%s", name);
    snprintf(f->paths[i], sizeof(f->paths[i]), "blob-%s", name);
    f->data[i] = sim_make_blob(s, f->paths[i], len);
    f->it[i] = (struct file_item){.type = FTYPE_REG,
                                  .path = f->paths[i],
                                  .name = f->names[i],
                                  .link = "",
                                  .size = len,
                                  .mtime = 1700000000 + (int64_t)i * 86401};
}

static void standard_files(struct sim *s, struct files *f, const char *pfx)
{
    static const size_t sizes[] = {0, 1, 1299, 1300, 1301, 70001, 250000};
    char name[32];
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        snprintf(name, sizeof(name), "%sf%zu", pfx, i);
        add_file(s, f, name, sizes[i]);
    }
}

static void check_delivered(struct sim *s, int rx, const struct files *f)
{
    const struct sim_store *st = sim_store(s, rx);
    for (size_t i = 0; i < f->n; i++) {
        const struct file_item *it = &f->it[i];
        const struct sim_mfile *m = sim_store_find(st, 0, it->name);
        CHECK(m != NULL, "receiver %d: %s missing", rx, it->name);
        if (m == NULL)
            continue;
        CHECK(m->size == it->size && (it->size == 0 || memcmp(m->data, f->data[i], it->size) == 0),
              "receiver %d: %s differs", rx, it->name);
        /* spec §1.9: v4 FILEINFO carries the time in 32 bits at offset 16. */
        CHECK(m->mtime == it->mtime, "receiver %d: %s mtime %" PRId64, rx, it->name, m->mtime);
    }
    CHECK(st->bad_writes == 0 && st->dup_writes == 0, "receiver %d: storage misuse", rx);
}

/* ------------------------------------------------------------ keys */

static struct crypto_key *g_ec, *g_rsa, *g_client[3];

static void keys_init(void)
{
    if (g_ec != NULL)
        return;
    if (keyfile_gen_ec(CURVE_P256, &g_ec) || keyfile_gen_rsa(2048, &g_rsa) ||
        keyfile_gen_ec(CURVE_P384, &g_client[0]) || keyfile_gen_rsa(2048, &g_client[1]) ||
        keyfile_gen_ec(CURVE_P521, &g_client[2])) {
        fprintf(stderr, "cannot make keys\n");
        exit(2);
    }
}

static void keys_free(void)
{
    crypto_key_free(g_ec);
    crypto_key_free(g_rsa);
    for (int i = 0; i < 3; i++)
        crypto_key_free(g_client[i]);
}

/* ------------------------------------------------------------ wire tap */

/* What travels: versions, cleartext types, KEYINFO signatures, counter reuse. */
struct tap {
    unsigned v4, other, bad;
    unsigned clear[32], enc;
    unsigned keyinfo_signed, ck_clear, ann_v4enc;
    uint32_t src[16];
    unsigned nsrc;
    uint64_t *ctrs[16];
    size_t nctr[16], capctr[16];
    unsigned reused;
    FILE *seeds;  /* --corpus: what receiver 0 got, as fuzz_receiver seeds */
    FILE *sseeds; /* and what it sent, as fuzz_sender seeds */
    uint64_t last_ts;
    int sender; /* the sender's node */
    struct addr rx0;
    uint64_t last_t;
};

/* fuzz_receiver's / fuzz_sender's records: [ms step (1)] [length (2, big-endian)] [datagram]. */
static void seed_put(FILE *f, uint64_t *last, uint64_t t, const uint8_t *p, size_t len)
{
    uint64_t step = (t - *last) / 1000;
    *last = t;
    for (; step > 255; step -= 255) {
        static const uint8_t gap[3] = {255, 0, 0}; /* long gaps become empty records */
        fwrite(gap, 1, 3, f);
    }
    uint8_t h[3] = {(uint8_t)step, (uint8_t)(len >> 8), (uint8_t)len};
    fwrite(h, 1, 3, f);
    fwrite(p, 1, len, f);
}

static void tap_fn(void *arg, int from, const struct addr *src, const struct addr *dst,
                   const uint8_t *p, size_t len, uint64_t t)
{
    (void)src;
    struct tap *w = arg;
    struct wire_datagram d;
    if (len < UFTP_HDR_LEN || p[0] != UFTP_VER4) {
        w->other++;
        return;
    }
    w->v4++;
    if (w->seeds != NULL && from == w->sender &&
        (addr_is_multicast(dst) || addr_equal(dst, &w->rx0)))
        seed_put(w->seeds, &w->last_t, t, p, len);
    if (w->sseeds != NULL && from == 0)
        seed_put(w->sseeds, &w->last_ts, t, p, len);
    if (wire_datagram_decode(&d, p, len) != (ssize_t)len) {
        w->bad++;
        return;
    }
    if (d.hdr.func != ENCRYPTED) {
        w->clear[d.msg.func & 31]++;
        if (d.msg.func == KEYINFO && d.msg.u.keyinfo.siglen != 0)
            w->keyinfo_signed++;
        if (d.msg.func == CLIENT_KEY)
            w->ck_clear++;
        if (d.msg.func == ANNOUNCE && d.msg.u.announce.has_enc &&
            d.msg.u.announce.enc.sigtype == SIG_AUTHENC)
            w->ann_v4enc++;
        return;
    }
    w->enc++;
    unsigned i = 0;
    while (i < w->nsrc && w->src[i] != d.hdr.src_id)
        i++;
    if (i == w->nsrc) {
        if (w->nsrc == 16)
            return;
        w->src[w->nsrc++] = d.hdr.src_id;
    }
    for (size_t k = 0; k < w->nctr[i]; k++)
        if (w->ctrs[i][k] == d.enc.iv_ctr)
            w->reused++;
    if (w->nctr[i] == w->capctr[i]) {
        w->capctr[i] = w->capctr[i] ? 2 * w->capctr[i] : 256;
        w->ctrs[i] = realloc(w->ctrs[i], w->capctr[i] * sizeof(uint64_t));
    }
    w->ctrs[i][w->nctr[i]++] = d.enc.iv_ctr;
}

static void tap_free(struct tap *w)
{
    for (unsigned i = 0; i < w->nsrc; i++)
        free(w->ctrs[i]);
}

/* ------------------------------------------------------------ a run */

struct run {
    struct sim *s;
    struct files f;
    struct sender_config sc;
    struct receiver_config rc[8];
    struct sender_dest d[8];
    struct addr pub;
    int tx, rx[8], nrx;
};

static struct run *run_new(uint64_t seed, int nrx, const struct sim_link *lk)
{
    struct run *r = calloc(1, sizeof(*r));
    r->s = sim_new(seed);
    sim_group_addr(r->s, 0, 0, false, &r->pub);
    for (int i = 0; i < nrx; i++) {
        receiver_config_defaults(&r->rc[i]);
        r->rc[i].dests = g_dests;
        r->rc[i].ndest = 1;
        r->rc[i].pub_addrs = &r->pub;
        r->rc[i].npub = 1;
        r->rc[i].sigkey = g_client[i % 3];
        r->rx[i] = sim_add_receiver(r->s, &r->rc[i], lk);
        CHECK(r->rx[i] >= 0, "receiver_new failed");
        r->d[i] = (struct sender_dest){.id = r->rc[i].client_id};
    }
    r->nrx = nrx;
    return r;
}

/* A v4 sender to every receiver (closed group). */
static void v4_sender(struct run *r, int keytype)
{
    sender_config_defaults(&r->sc);
    r->sc.version = UFTP_VER4;
    r->sc.rate_kbps = 100000;
    r->sc.keytype = (uint8_t)keytype;
    r->sc.files = r->f.it;
    r->sc.nfiles = r->f.n;
    r->sc.dests = r->d;
    r->sc.ndest = (size_t)r->nrx;
}

static void run_check(struct run *r, const char *what)
{
    CHECK(sim_run(r->s, LIMIT_US), "%s: did not finish", what);
    CHECK(sim_exit_code(r->s, r->tx) == 0, "%s: exit %d", what, sim_exit_code(r->s, r->tx));
    for (int i = 0; i < r->nrx; i++) {
        check_delivered(r->s, r->rx[i], &r->f);
        struct receiver_stats st;
        receiver_stats(sim_receiver(r->s, r->rx[i]), &st);
        CHECK(st.auth_failed == 0 && st.cleartext == 0, "%s: receiver %d auth %" PRIu64, what, i,
              st.auth_failed);
    }
}

static void run_free(struct run *r)
{
    sim_free(r->s);
    free(r);
}

/* ------------------------------------------------------------ scenarios */

/* In clear: v4 headers, timestamps and file times only. */
static void scen_v4_clear(uint64_t seed)
{
    struct sim_link lk = {.loss_pct = 10, .dup_pct = 3, .delay_us = 500, .jitter_us = 2000};
    struct run *r = run_new(seed, 5, &lk);
    standard_files(r->s, &r->f, "");
    v4_sender(r, KEY_NONE);
    static struct tap w;
    memset(&w, 0, sizeof(w));
    sim_set_tap(r->s, tap_fn, &w);
    r->tx = sim_add_sender(r->s, &r->sc, NULL, NULL);
    run_check(r, "clear");
    CHECK(w.other == 0 && w.bad == 0 && w.v4 > 100, "v4 %u, other %u, undecodable %u", w.v4,
          w.other, w.bad);
    CHECK(w.enc == 0, "%u encrypted datagrams", w.enc);
    run_free(r);
}

static const char *const key_names[] = {"",           "",           "",           "",          "",
                                        "aes128-gcm", "aes256-gcm", "aes128-ccm", "aes256-ccm"};

/*
 * Encrypted: every cipher x hash, the three curves, RSA (ECDH_RSA) and EC
 * (ECDH_ECDSA) signing keys, client authentication with fingerprints
 * every other run; loss, reordering and duplication.
 */
static void scen_v4_enc(uint64_t seed)
{
    keys_init();
    static const int curves[] = {CURVE_P256, CURVE_P384, CURVE_P521};
    int k = 0;
    for (int kt = KEY_AES128_GCM; kt <= KEY_AES256_CCM; kt++)
        for (int ht = HASH_SHA256; ht <= HASH_SHA512; ht++, k++) {
            struct sim_link lk = {.loss_pct = 5, .dup_pct = 3, .delay_us = 500, .jitter_us = 2000};
            struct run *r = run_new(seed + (uint64_t)k, 4, &lk);
            add_file(r->s, &r->f, "m1", 40000);
            add_file(r->s, &r->f, "m2", 1);
            v4_sender(r, kt);
            bool auth = (k / 2) % 2 == 1;
            r->sc.hashtype = (uint8_t)ht;
            r->sc.curve = (uint8_t)curves[k % 3];
            r->sc.sigkey = k % 2 ? g_rsa : g_ec;
            r->sc.client_auth = auth;
            if (auth)
                for (int i = 0; i < r->nrx; i++) {
                    size_t bl;
                    const uint8_t *b = crypto_key_blob(g_client[i % 3], &bl);
                    fp_compute(b, bl, r->d[i].fp);
                    r->d[i].fplen = FP_LEN;
                }
            static struct tap w;
            memset(&w, 0, sizeof(w));
            sim_set_tap(r->s, tap_fn, &w);
            r->tx = sim_add_sender(r->s, &r->sc, NULL, NULL);
            char what[64];
            snprintf(what, sizeof(what), "%s/%d%s%s", key_names[kt], ht, k % 2 ? "/rsa" : "",
                     auth ? "/auth" : "");
            run_check(r, what);
            CHECK(w.other == 0 && w.bad == 0, "%s: other %u undecodable %u", what, w.other, w.bad);
            /* spec §1.9: KEYINFO unsigned, CLIENT_KEY in clear, nothing else in clear. */
            CHECK(w.clear[KEYINFO] > 0 && w.keyinfo_signed == 0, "%s: KEYINFO %u signed %u", what,
                  w.clear[KEYINFO], w.keyinfo_signed);
            CHECK(auth ? w.ck_clear > 0 : w.ck_clear == 0, "%s: %u cleartext CLIENT_KEY", what,
                  w.ck_clear);
            CHECK(w.ann_v4enc > 0 && w.ann_v4enc == w.clear[ANNOUNCE], "%s: ANNOUNCE not AUTHENC",
                  what);
            static const uint8_t never[] = {FILEINFO, FILEINFO_ACK, FILESEG,     DONE,
                                            STATUS,   COMPLETE,     KEYINFO_ACK, DONE_CONF};
            for (size_t i = 0; i < sizeof(never); i++)
                CHECK(w.clear[never[i]] == 0, "%s: %u cleartext %s", what, w.clear[never[i]],
                      wire_func_name(never[i]));
            /* One group key for everyone: the nonce differs by sender ID, counters never repeat. */
            CHECK(w.reused == 0 && w.nsrc == 5, "%s: %u counters reused, %u senders", what,
                  w.reused, w.nsrc);
            tap_free(&w);
            run_free(r);
        }
}

/* One receiver, two sessions at once: a v5 one and a v4 one (the version is per session). */
static void scen_v4_mixed(uint64_t seed)
{
    keys_init();
    struct sim_link lk = {.loss_pct = 5, .delay_us = 500, .jitter_us = 1000};
    struct run *r = run_new(seed, 3, &lk);
    standard_files(r->s, &r->f, "v4-");
    v4_sender(r, KEY_AES256_GCM);
    r->sc.sigkey = g_ec;
    r->tx = sim_add_sender(r->s, &r->sc, NULL, NULL);
    static struct files f5;
    memset(&f5, 0, sizeof(f5));
    standard_files(r->s, &f5, "v5-");
    struct sender_config c5;
    sender_config_defaults(&c5);
    c5.rate_kbps = 100000;
    c5.files = f5.it;
    c5.nfiles = f5.n;
    int tx5 = sim_add_sender(r->s, &c5, NULL, NULL);
    CHECK(tx5 >= 0, "v5 sender");
    run_check(r, "mixed");
    CHECK(sim_exit_code(r->s, tx5) == 0, "v5 sender exit %d", sim_exit_code(r->s, tx5));
    for (int i = 0; i < r->nrx; i++) {
        check_delivered(r->s, r->rx[i], &f5);
        struct receiver_stats st;
        receiver_stats(sim_receiver(r->s, r->rx[i]), &st);
        CHECK(st.sessions_seen == 2 && st.sessions == 0, "receiver %d: %" PRIu64 " sessions", i,
              st.sessions_seen);
    }
    run_free(r);
}

/* Same seed, same trace; another seed, another trace. */
static void scen_v4_determinism(uint64_t seed)
{
    keys_init();
    uint64_t h[3];
    for (int k = 0; k < 3; k++) {
        struct sim_link lk = {.loss_pct = 20, .dup_pct = 5, .delay_us = 1000, .jitter_us = 4000};
        struct run *r = run_new(k < 2 ? seed : seed + 1, 3, &lk);
        add_file(r->s, &r->f, "f", 50000);
        v4_sender(r, KEY_NONE);
        r->tx = sim_add_sender(r->s, &r->sc, NULL, NULL);
        run_check(r, "determinism");
        h[k] = sim_trace_hash(r->s);
        run_free(r);
    }
    CHECK(h[0] == h[1], "same seed, different traces: %016" PRIx64 " %016" PRIx64, h[0], h[1]);
    CHECK(h[0] != h[2], "different seeds, same trace");
}

/* Counts KEY_REQs to one address and the receivers' REGISTERs and ABORTs. */
struct keyreq_tap {
    struct addr proxy;
    unsigned keyreq, elsewhere, reg, abort;
    uint64_t first, last;
};

static void keyreq_fn(void *arg, int from, const struct addr *src, const struct addr *dst,
                      const uint8_t *p, size_t len, uint64_t t)
{
    (void)from;
    (void)src;
    struct keyreq_tap *k = arg;
    if (len < UFTP_HDR_LEN + 4)
        return;
    if (p[1] == KEY_REQ) {
        if (p[0] != UFTP_VER4 || !addr_equal(dst, &k->proxy)) {
            k->elsewhere++;
            return;
        }
        if (k->keyreq++ == 0)
            k->first = t;
        k->last = t;
    } else if (p[1] == REGISTER) {
        k->reg++;
    } else if (p[1] == ABORT && from < 2) { /* from a receiver (nodes 0 and 1) */
        k->abort++;
    }
}

struct forge_arg {
    int from;
    struct addr to;
};

/* A v4 PROXY_KEY, validly signed, but from a node other than the -r address. */
static void forge_proxy_key(struct sim *s, void *arg)
{
    struct forge_arg *f = arg;
    uint8_t dg[1024], nb[4] = {0, 0, 0, 9}, sig[600];
    struct crypto_iov v = {nb, 4};
    int sl = sig_sign(g_ec, HASH_SHA1, &v, 1, sig, sizeof(sig));
    size_t kl, dl;
    struct wire_proxy_key m = {.ver = UFTP_VER4, .nonce = 9, .sig = sig, .siglen = (uint16_t)sl};
    m.keyblob = crypto_key_blob(g_ec, &kl);
    m.keylen = (uint16_t)kl;
    m.dhblob = crypto_key_blob(g_client[0], &dl);
    m.dhlen = (uint16_t)dl;
    ssize_t n = wire_proxy_key_encode(dg + UFTP_HDR_LEN, sizeof(dg) - UFTP_HDR_LEN, &m);
    struct uftp_hdr h = {.version = UFTP_VER4, .func = PROXY_KEY, .src_id = 0x33000001};
    uftp_hdr_encode(dg, UFTP_HDR_LEN, &h);
    if (sl > 0 && n > 0)
        sim_inject(s, f->from, &f->to, dg, UFTP_HDR_LEN + (size_t)n);
}

/*
 * uftpd -r with a response proxy that never answers (spec §1.9 item 4):
 * KEY_REQ every 5 s to exactly that address, an encrypted v4 session
 * refused ("Response proxy set but haven't gotten key yet") without a
 * REGISTER, and a PROXY_KEY from anywhere else ignored.
 */
static void scen_v4_keyreq(uint64_t seed)
{
    keys_init();
    struct sim_link lk = {.delay_us = 500};
    struct run *r = calloc(1, sizeof(*r));
    r->s = sim_new(seed);
    sim_group_addr(r->s, 0, 0, false, &r->pub);
    static struct keyreq_tap k;
    memset(&k, 0, sizeof(k));
    sim_node_addr(r->s, 7, &k.proxy); /* nobody there */
    for (int i = 0; i < 2; i++) {
        receiver_config_defaults(&r->rc[i]);
        r->rc[i].dests = g_dests;
        r->rc[i].ndest = 1;
        r->rc[i].pub_addrs = &r->pub;
        r->rc[i].npub = 1;
        r->rc[i].resp_proxy = k.proxy;
        r->rx[i] = sim_add_receiver(r->s, &r->rc[i], &lk);
        r->d[i] = (struct sender_dest){.id = r->rc[i].client_id};
    }
    r->nrx = 2;
    add_file(r->s, &r->f, "f", 5000);
    v4_sender(r, KEY_AES128_GCM);
    r->sc.sigkey = g_ec;
    r->sc.robust = 10;
    sim_set_tap(r->s, keyreq_fn, &k);
    r->tx = sim_add_sender(r->s, &r->sc, NULL, NULL);
    static struct forge_arg fa;
    fa.from = r->tx;
    sim_node_addr(r->s, r->rx[0], &fa.to);
    sim_call_at(r->s, 100000, forge_proxy_key, &fa);
    CHECK(sim_run(r->s, 30 * SEC), "did not finish");
    int code = sim_exit_code(r->s, r->tx);
    CHECK(code != 0 && code != -1, "sender exit %d", code);
    CHECK(k.reg == 0, "%u REGISTERs without the proxy's key", k.reg);
    CHECK(k.abort >= 2, "%u ABORTs: the receivers did not refuse", k.abort);
    CHECK(k.elsewhere == 0, "%u KEY_REQs elsewhere", k.elsewhere);
    /* Both receivers at once, then every 5 s while the proxy is silent. */
    uint64_t span = k.last - k.first, want = 2 * (span / (5 * SEC) + 1);
    CHECK(k.keyreq >= 4 && k.keyreq == want, "%u KEY_REQs over %.1f s (want %" PRIu64 ")", k.keyreq,
          (double)span / 1e6, want);
    for (int i = 0; i < 2; i++) {
        struct receiver_stats st;
        receiver_stats(sim_receiver(r->s, r->rx[i]), &st);
        CHECK(st.files_ok == 0 && st.data_packets == 0, "receiver %d received data", i);
    }
    run_free(r);
}

/* Who talks to the sender: the proxy only, and how often per message type. */
struct to_sender {
    struct addr sender;
    int proxy;
    bool enc_session;
    unsigned from_proxy, from_others, reg, v4, enc, clear_ans;
};

static void to_sender_fn(void *arg, int from, const struct addr *src, const struct addr *dst,
                         const uint8_t *p, size_t len, uint64_t t)
{
    (void)src;
    (void)t;
    struct to_sender *w = arg;
    if (len < UFTP_HDR_LEN || !addr_equal_ip(dst, &w->sender))
        return;
    if (from != w->proxy) {
        w->from_others++;
        return;
    }
    w->from_proxy++;
    w->v4 += p[0] == UFTP_VER4;
    w->reg += p[1] == REGISTER;
    w->enc += p[1] == ENCRYPTED;
    if (w->enc_session)
        w->clear_ans +=
            p[1] == FILEINFO_ACK || p[1] == STATUS || p[1] == COMPLETE || p[1] == KEYINFO_ACK;
}

/*
 * Our response proxy in a v4 session (spec §1.9, issue 6 test 3):
 * receivers with -r answer only through it; the sender hears one
 * aggregate per round, all v4; nobody sends a v5 PROXY_KEY. Encrypted
 * (keytype set): the receivers get the proxy's long-lived key by KEY_REQ /
 * v4 PROXY_KEY, the proxy registers with the server and re-keys them with
 * the v4 schedule; nothing but ANNOUNCE, REGISTER, KEYINFO, REG_CONF and
 * the v4 key messages travels in clear.
 */
static void response_proxy_run(uint64_t seed, int keytype, int hashtype, int curve,
                               const char *what)
{
    keys_init();
    struct sim_link lk = {.loss_pct = 3, .delay_us = 500, .jitter_us = 200};
    struct run *r = calloc(1, sizeof(*r));
    r->s = sim_new(seed);
    sim_group_addr(r->s, 0, 0, false, &r->pub);
    static struct proxy_config pc;
    proxy_config_defaults(&pc);
    pc.role = PROXY_RESPONSE;
    pc.key = g_ec;
    pc.pub_addrs = &r->pub;
    pc.npub = 1;
    pc.client_port = 1044;
    struct crypto_key *dh4 = NULL;
    if (keytype != KEY_NONE) {
        CHECK(ecdh_keygen(curve, &dh4) == CRYPTO_OK, "ecdh_keygen");
        pc.dh4 = dh4;
    }
    int px = sim_add_proxy(r->s, &pc, &lk); /* node 0 */
    CHECK(px == 0, "proxy_new failed");
    struct addr pxaddr;
    sim_node_addr(r->s, px, &pxaddr);
    for (int i = 0; i < 4; i++) {
        receiver_config_defaults(&r->rc[i]);
        r->rc[i].dests = g_dests;
        r->rc[i].ndest = 1;
        r->rc[i].pub_addrs = &r->pub;
        r->rc[i].npub = 1;
        r->rc[i].resp_proxy = pxaddr;
        r->rx[i] = sim_add_receiver(r->s, &r->rc[i], &lk);
        r->d[i] = (struct sender_dest){.id = r->rc[i].client_id};
    }
    r->nrx = 4;
    standard_files(r->s, &r->f, "");
    v4_sender(r, keytype);
    if (keytype != KEY_NONE) {
        r->sc.hashtype = (uint8_t)hashtype;
        r->sc.curve = (uint8_t)curve;
        r->sc.sigkey = g_ec;
    }
    static struct sender_dest pd[1];
    pd[0] = (struct sender_dest){.id = pc.proxy_id};
    r->sc.proxies = pd;
    r->sc.nproxy = 1;
    static struct to_sender w;
    memset(&w, 0, sizeof(w));
    w.proxy = px;
    w.enc_session = keytype != KEY_NONE;
    sim_set_tap(r->s, to_sender_fn, &w);
    r->tx = sim_add_sender(r->s, &r->sc, &lk, NULL);
    sim_node_addr(r->s, r->tx, &w.sender);
    run_check(r, what);
    CHECK(w.from_others == 0, "%s: the sender heard %u datagrams from receivers", what,
          w.from_others);
    CHECK(w.from_proxy > 0 && w.v4 == w.from_proxy, "%s: %u of %u from the proxy in v4", what, w.v4,
          w.from_proxy);
    CHECK(w.reg >= 1 && w.reg <= 3, "%s: %u REGISTERs from the proxy for 4 receivers", what, w.reg);
    CHECK(keytype == KEY_NONE || w.enc > 0, "%s: nothing encrypted from the proxy", what);
    CHECK(w.clear_ans == 0, "%s: %u cleartext answers from the proxy", what, w.clear_ans);
    struct proxy_stats st;
    proxy_stats(sim_proxy(r->s, px), &st);
    CHECK(st.sessions_seen == 1, "%s: proxy sessions %" PRIu64, what, st.sessions_seen);
    run_free(r);
    crypto_key_free(dh4);
}

static void scen_v4_response_proxy(uint64_t seed)
{
    response_proxy_run(seed, KEY_NONE, 0, 0, "response proxy");
}

/* The same encrypted: AES-256-GCM / SHA-256 / P-256, then AES-128-CCM / SHA-384 / P-384. */
static void scen_v4_response_proxy_enc(uint64_t seed)
{
    response_proxy_run(seed, KEY_AES256_GCM, HASH_SHA256, CURVE_P256, "enc gcm");
    response_proxy_run(seed + 1, KEY_AES128_CCM, HASH_SHA384, CURVE_P384, "enc ccm");
}

/* --corpus DIR: v4 datagrams our receivers got, clear and encrypted, as fuzz seeds. */
static int dump_corpus(const char *dir)
{
    keys_init();
    for (int k = 0; k < 2; k++) {
        struct sim_link lk = {.loss_pct = 10, .delay_us = 500, .jitter_us = 300};
        struct run *r = run_new(200 + (uint64_t)k, 2, &lk);
        add_file(r->s, &r->f, "f", 3000);
        v4_sender(r, k ? KEY_AES128_GCM : KEY_NONE);
        r->sc.group_id = 0x5EED0001; /* fuzz_sender's */
        r->sc.sigkey = g_ec;
        char path[512];
        snprintf(path, sizeof(path), "%s/receiver/%s", dir, k ? "v4-enc" : "v4-clear");
        static struct tap w;
        memset(&w, 0, sizeof(w));
        if ((w.seeds = fopen(path, "wb")) == NULL) {
            fprintf(stderr, "cannot write %s\n", path);
            return 1;
        }
        snprintf(path, sizeof(path), "%s/sender/%s", dir, k ? "v4-enc" : "v4-clear");
        if ((w.sseeds = fopen(path, "wb")) == NULL) {
            fprintf(stderr, "cannot write %s\n", path);
            fclose(w.seeds);
            return 1;
        }
        fputc(k ? 3 : 2, w.sseeds); /* fuzz_sender's mode: v4, encrypted or not */
        w.sender = r->nrx;          /* receivers are nodes 0..nrx-1 */
        sim_node_addr(r->s, r->rx[0], &w.rx0);
        sim_set_tap(r->s, tap_fn, &w);
        r->tx = sim_add_sender(r->s, &r->sc, NULL, NULL);
        run_check(r, "corpus");
        fclose(w.seeds);
        fclose(w.sseeds);
        tap_free(&w);
        run_free(r);
    }
    return g_fail ? 1 : 0;
}

static const struct {
    const char *name;
    void (*fn)(uint64_t);
    uint64_t seed;
} g_scens[] = {
    {"v4_clear", scen_v4_clear, 41},
    {"v4_enc", scen_v4_enc, 42},
    {"v4_mixed", scen_v4_mixed, 43},
    {"v4_determinism", scen_v4_determinism, 44},
    {"v4_keyreq", scen_v4_keyreq, 45},
    {"v4_response_proxy", scen_v4_response_proxy, 46},
    {"v4_response_proxy_enc", scen_v4_response_proxy_enc, 47},
};

int main(int argc, char **argv)
{
    int a = 1;
    for (; a < argc && argv[a][0] == '-'; a++) {
        if (strcmp(argv[a], "-v") == 0) {
            sim_set_log_level(LL_DEBUG);
        } else if (strcmp(argv[a], "--corpus") == 0 && a + 1 < argc) {
            g_corpus = argv[++a];
        } else {
            fprintf(stderr, "usage: sim_v4 [-v] [--corpus DIR] [NAME [SEED]]\n");
            return 2;
        }
    }
    if (g_corpus != NULL) {
        g_scen = "corpus";
        int rc = dump_corpus(g_corpus);
        keys_free();
        return rc;
    }
    const char *only = a < argc ? argv[a++] : NULL;
    const char *seed_txt = a < argc ? argv[a++] : NULL;
    int ran = 0;
    for (size_t i = 0; i < sizeof(g_scens) / sizeof(g_scens[0]); i++) {
        if (only != NULL && strcmp(only, g_scens[i].name) != 0)
            continue;
        g_scen = g_scens[i].name;
        g_seed = seed_txt ? strtoull(seed_txt, NULL, 0) : g_scens[i].seed;
        int before = g_fail;
        clock_t t0 = clock();
        g_scens[i].fn(g_seed);
        printf("%-16s seed=%-4" PRIu64 " %s  %.2fs\n", g_scen, g_seed,
               g_fail == before ? "ok  " : "FAIL", (double)(clock() - t0) / CLOCKS_PER_SEC);
        fflush(stdout);
        ran++;
    }
    keys_free();
    if (ran == 0) {
        fprintf(stderr, "no scenario named %s\n", only ? only : "?");
        return 2;
    }
    return g_fail ? 1 : 0;
}
