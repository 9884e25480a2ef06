/*
 * v4 scenarios (issue 6, spec §1.9): our sender in v4 mode (--protocol 4)
 * and our receivers in the virtual network of sim.h, with loss, reordering
 * and duplication; every delivered file compared byte for byte, with its
 * time. Run as scen.h says; besides:
 *
 *   sim_v4 --corpus DIR       write fuzz seeds to DIR/receiver and DIR/sender (v4
 *                             datagrams receiver 0 got and sent)
 */
#include <stdlib.h>
#include <string.h>

#include "core/crypto/ecdh.h"
#include "core/crypto/keyblob.h"
#include "core/crypto/sig.h"
#include "core/wire/msg.h"
#include "core/wire/proxykey.h"
#include "scen.h"

/* The v4 runs: receivers with one dest and the client keys; files a day and a second apart. */
static void tweak_v4(struct run *r, int i, struct receiver_config *c)
{
    (void)r;
    c->ndest = 1;
    c->sigkey = scen_key(SK_CLIENT0 + i % 3);
}

static struct run *v4_run(uint64_t seed, int nrx, const struct sim_link *lk)
{
    struct run *r = run_new(seed);
    r->f->mtime_step = 86401; /* spec §1.9: v4 FILEINFO carries the time in 32 bits */
    run_receivers(r, nrx, lk, tweak_v4);
    return r;
}

static void standard_files(struct run *r, struct scen_files *f, const char *pfx)
{
    static const size_t sizes[] = {0, 1, 1299, 1300, 1301, 70001, 250000};
    char name[32];
    f->mtime_step = 86401;
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        snprintf(name, sizeof(name), "%sf%zu", pfx, i);
        scen_file(r->s, f, name, sizes[i]);
    }
}

/* A v4 sender to every receiver (closed group). */
static void v4_sender(struct run *r, int keytype)
{
    run_sender(r);
    r->sc.version = UFTP_VER4;
    r->sc.keytype = (uint8_t)keytype;
    run_closed(r);
}

/* Runs to the end: exit 0, every file delivered, nothing failed authentication. */
static void run_check(struct run *r)
{
    run_expect(r, 0);
    for (int i = 0; i < r->nrx; i++) {
        check_delivered(r->s, r->rx[i], r->f);
        struct receiver_stats st = rx_stats(r, i);
        CHECK(st.auth_failed == 0 && st.cleartext == 0, "receiver %d auth %" PRIu64, i,
              st.auth_failed);
    }
}

/* ------------------------------------------------------------ wire tap */

/* What travels: versions, cleartext types, KEYINFO signatures, counter reuse. */
struct tap {
    unsigned v4, other, bad;
    unsigned clear[32], enc;
    unsigned keyinfo_signed, ck_clear, ann_v4enc;
    struct scen_nonces n;
    FILE *seeds;  /* --corpus: what receiver 0 got, as fuzz_receiver seeds */
    FILE *sseeds; /* and what it sent, as fuzz_sender seeds */
    uint64_t last_ts;
    int sender; /* the sender's node */
    struct addr rx0;
    uint64_t last_t;
};

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
        scen_seed_put(w->seeds, &w->last_t, t, -1, p, len);
    if (w->sseeds != NULL && from == 0)
        scen_seed_put(w->sseeds, &w->last_ts, t, -1, p, len);
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
    scen_nonce(&w->n, d.hdr.src_id, d.enc.iv_ctr);
}

/* ------------------------------------------------------------ scenarios */

/* In clear: v4 headers, timestamps and file times only. */
static void scen_v4_clear(uint64_t seed)
{
    struct sim_link lk = {.loss_pct = 10, .dup_pct = 3, .delay_us = 500, .jitter_us = 2000};
    struct run *r = v4_run(seed, 5, &lk);
    standard_files(r, r->f, "");
    v4_sender(r, KEY_NONE);
    static struct tap w;
    memset(&w, 0, sizeof(w));
    run_tap(r, tap_fn, &w);
    run_add_sender(r, NULL);
    run_check(r);
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
    static const int curves[] = {CURVE_P256, CURVE_P384, CURVE_P521};
    int k = 0;
    for (int kt = KEY_AES128_GCM; kt <= KEY_AES256_CCM; kt++)
        for (int ht = HASH_SHA256; ht <= HASH_SHA512; ht++, k++) {
            struct sim_link lk = {.loss_pct = 5, .dup_pct = 3, .delay_us = 500, .jitter_us = 2000};
            struct run *r = v4_run(seed + (uint64_t)k, 4, &lk);
            scen_file(r->s, r->f, "m1", 40000);
            scen_file(r->s, r->f, "m2", 1);
            v4_sender(r, kt);
            bool auth = (k / 2) % 2 == 1;
            r->sc.hashtype = (uint8_t)ht;
            r->sc.curve = (uint8_t)curves[k % 3];
            r->sc.sigkey = scen_key(k % 2 ? SK_RSA : SK_EC256);
            r->sc.client_auth = auth;
            for (int i = 0; i < r->nrx && auth; i++)
                scen_fp(scen_key(SK_CLIENT0 + i % 3), r->dests[i].fp, &r->dests[i].fplen);
            static struct tap w;
            memset(&w, 0, sizeof(w));
            run_tap(r, tap_fn, &w);
            run_add_sender(r, NULL);
            scen_case("%s/%d%s%s", key_names[kt], ht, k % 2 ? "/rsa" : "", auth ? "/auth" : "");
            run_check(r);
            CHECK(w.other == 0 && w.bad == 0, "other %u undecodable %u", w.other, w.bad);
            /* spec §1.9: KEYINFO unsigned, CLIENT_KEY in clear, nothing else in clear. */
            CHECK(w.clear[KEYINFO] > 0 && w.keyinfo_signed == 0, "KEYINFO %u signed %u",
                  w.clear[KEYINFO], w.keyinfo_signed);
            CHECK(auth ? w.ck_clear > 0 : w.ck_clear == 0, "%u cleartext CLIENT_KEY", w.ck_clear);
            CHECK(w.ann_v4enc > 0 && w.ann_v4enc == w.clear[ANNOUNCE], "ANNOUNCE not AUTHENC");
            static const uint8_t never[] = {FILEINFO, FILEINFO_ACK, FILESEG,     DONE,
                                            STATUS,   COMPLETE,     KEYINFO_ACK, DONE_CONF};
            for (size_t i = 0; i < sizeof(never); i++)
                CHECK(w.clear[never[i]] == 0, "%u cleartext %s", w.clear[never[i]],
                      wire_func_name(never[i]));
            /* One group key for everyone: the nonce differs by sender ID, counters never repeat. */
            CHECK(w.n.reused == 0 && w.n.nsrc == 5, "%u counters reused, %u senders", w.n.reused,
                  w.n.nsrc);
            scen_nonces_free(&w.n);
            run_free(r);
        }
}

/* One receiver, two sessions at once: a v5 one and a v4 one (the version is per session). */
static void scen_v4_mixed(uint64_t seed)
{
    struct sim_link lk = {.loss_pct = 5, .delay_us = 500, .jitter_us = 1000};
    struct run *r = v4_run(seed, 3, &lk);
    standard_files(r, r->f, "v4-");
    v4_sender(r, KEY_AES256_GCM);
    r->sc.sigkey = scen_key(SK_EC256);
    run_add_sender(r, NULL);
    static struct scen_files f5;
    memset(&f5, 0, sizeof(f5));
    standard_files(r, &f5, "v5-");
    struct sender_config c5;
    scen_sender_defaults(&c5, &f5);
    int tx5 = sim_add_sender(r->s, &c5, NULL, NULL);
    CHECK(tx5 >= 0, "v5 sender");
    run_check(r);
    CHECK(sim_exit_code(r->s, tx5) == 0, "v5 sender exit %d", sim_exit_code(r->s, tx5));
    for (int i = 0; i < r->nrx; i++) {
        check_delivered(r->s, r->rx[i], &f5);
        struct receiver_stats st = rx_stats(r, i);
        CHECK(st.sessions_seen == 2 && st.sessions == 0, "receiver %d: %" PRIu64 " sessions", i,
              st.sessions_seen);
    }
    run_free(r);
}

/* Same seed, same trace; another seed, another trace. */
static void scen_v4_determinism(uint64_t seed)
{
    uint64_t h[3];
    for (int k = 0; k < 3; k++) {
        struct sim_link lk = {.loss_pct = 20, .dup_pct = 5, .delay_us = 1000, .jitter_us = 4000};
        struct run *r = v4_run(k < 2 ? seed : seed + 1, 3, &lk);
        scen_file(r->s, r->f, "f", 50000);
        v4_sender(r, KEY_NONE);
        run_add_sender(r, NULL);
        run_check(r);
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
    struct crypto_key *ec = scen_key(SK_EC256);
    uint8_t dg[1024], nb[4] = {0, 0, 0, 9}, sig[600];
    struct crypto_iov v = {nb, 4};
    int sl = sig_sign(ec, HASH_SHA1, &v, 1, sig, sizeof(sig));
    size_t kl, dl;
    struct wire_proxy_key m = {.ver = UFTP_VER4, .nonce = 9, .sig = sig, .siglen = (uint16_t)sl};
    m.keyblob = crypto_key_blob(ec, &kl);
    m.keylen = (uint16_t)kl;
    m.dhblob = crypto_key_blob(scen_key(SK_CLIENT0), &dl);
    m.dhlen = (uint16_t)dl;
    ssize_t n = wire_proxy_key_encode(dg + UFTP_HDR_LEN, sizeof(dg) - UFTP_HDR_LEN, &m);
    struct uftp_hdr h = {.version = UFTP_VER4, .func = PROXY_KEY, .src_id = 0x33000001};
    uftp_hdr_encode(dg, UFTP_HDR_LEN, &h);
    if (sl > 0 && n > 0)
        sim_inject(s, f->from, &f->to, dg, UFTP_HDR_LEN + (size_t)n);
}

/* Receivers with -r (their response proxy) at g_resp_proxy. */
static struct addr g_resp_proxy;

static void tweak_resp_proxy(struct run *r, int i, struct receiver_config *c)
{
    (void)r;
    (void)i;
    c->ndest = 1;
    c->resp_proxy = g_resp_proxy;
}

/*
 * uftpd -r with a response proxy that never answers (spec §1.9 item 4):
 * KEY_REQ every 5 s to exactly that address, an encrypted v4 session
 * refused ("Response proxy set but haven't gotten key yet") without a
 * REGISTER, and a PROXY_KEY from anywhere else ignored.
 */
static void scen_v4_keyreq(uint64_t seed)
{
    struct sim_link lk = {.delay_us = 500};
    struct run *r = run_new(seed);
    static struct keyreq_tap k;
    memset(&k, 0, sizeof(k));
    sim_node_addr(r->s, 7, &k.proxy); /* nobody there */
    g_resp_proxy = k.proxy;
    run_receivers(r, 2, &lk, tweak_resp_proxy);
    r->f->mtime_step = 86401;
    scen_file(r->s, r->f, "f", 5000);
    v4_sender(r, KEY_AES128_GCM);
    r->sc.sigkey = scen_key(SK_EC256);
    r->sc.robust = 10;
    run_tap(r, keyreq_fn, &k);
    run_add_sender(r, NULL);
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
        struct receiver_stats st = rx_stats(r, i);
        CHECK(st.files_ok == 0 && st.data_packets == 0, "receiver %d received data", i);
    }
    run_free(r);
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
static void response_proxy_run(uint64_t seed, int keytype, int hashtype, int curve)
{
    struct sim_link lk = {.loss_pct = 3, .delay_us = 500, .jitter_us = 200};
    struct run *r = run_new(seed);
    struct proxy_config *pc = &r->pc[0];
    proxy_config_defaults(pc);
    pc->key = scen_key(SK_EC256);
    pc->client_port = 1044;
    struct crypto_key *dh4 = NULL;
    if (keytype != KEY_NONE) {
        CHECK(ecdh_keygen(curve, &dh4) == CRYPTO_OK, "ecdh_keygen");
        pc->dh4 = dh4;
    }
    int px = run_proxy(r, 0, PROXY_RESPONSE, 0, -1, &lk); /* node 0 */
    CHECK(px == 0, "proxy_new failed");
    sim_node_addr(r->s, px, &g_resp_proxy);
    run_receivers(r, 4, &lk, tweak_resp_proxy);
    r->f->mtime_step = 86401;
    standard_files(r, r->f, "");
    v4_sender(r, keytype);
    if (keytype != KEY_NONE) {
        r->sc.hashtype = (uint8_t)hashtype;
        r->sc.curve = (uint8_t)curve;
        r->sc.sigkey = scen_key(SK_EC256);
    }
    r->proxies[0] = (struct sender_dest){.id = pc->proxy_id};
    r->sc.proxies = r->proxies;
    r->sc.nproxy = 1;
    run_add_sender(r, &lk);
    run_check(r);
    const struct scen_traffic *w = &r->traffic;
    unsigned from_proxy = w->got_node[px];
    CHECK(w->got == from_proxy, "the sender heard %u datagrams from receivers",
          (unsigned)w->got - from_proxy);
    CHECK(from_proxy > 0 && w->got_v4 == from_proxy, "%u of %u from the proxy in v4", w->got_v4,
          from_proxy);
    CHECK(w->got_func[REGISTER] >= 1 && w->got_func[REGISTER] <= 3,
          "%u REGISTERs from the proxy for 4 receivers", w->got_func[REGISTER]);
    CHECK(keytype == KEY_NONE || w->got_func[ENCRYPTED] > 0, "nothing encrypted from the proxy");
    unsigned clear_ans = w->got_func[FILEINFO_ACK] + w->got_func[STATUS] + w->got_func[COMPLETE] +
                         w->got_func[KEYINFO_ACK];
    CHECK(keytype == KEY_NONE || clear_ans == 0, "%u cleartext answers from the proxy", clear_ans);
    struct proxy_stats st;
    proxy_stats(sim_proxy(r->s, px), &st);
    CHECK(st.sessions_seen == 1, "proxy sessions %" PRIu64, st.sessions_seen);
    run_free(r);
    crypto_key_free(dh4);
}

static void scen_v4_response_proxy(uint64_t seed)
{
    response_proxy_run(seed, KEY_NONE, 0, 0);
}

/* The same encrypted: AES-256-GCM / SHA-256 / P-256, then AES-128-CCM / SHA-384 / P-384. */
static void scen_v4_response_proxy_enc(uint64_t seed)
{
    scen_case("enc gcm");
    response_proxy_run(seed, KEY_AES256_GCM, HASH_SHA256, CURVE_P256);
    scen_case("enc ccm");
    response_proxy_run(seed + 1, KEY_AES128_CCM, HASH_SHA384, CURVE_P384);
}

/* --corpus DIR: v4 datagrams our receivers got, clear and encrypted, as fuzz seeds. */
static int dump_corpus(const char *dir)
{
    for (int k = 0; k < 2; k++) {
        struct sim_link lk = {.loss_pct = 10, .delay_us = 500, .jitter_us = 300};
        struct run *r = v4_run(200 + (uint64_t)k, 2, &lk);
        scen_file(r->s, r->f, "f", 3000);
        v4_sender(r, k ? KEY_AES128_GCM : KEY_NONE);
        r->sc.group_id = 0x5EED0001; /* fuzz_sender's */
        r->sc.sigkey = scen_key(SK_EC256);
        static struct tap w;
        memset(&w, 0, sizeof(w));
        const char *name = k ? "v4-enc" : "v4-clear";
        if ((w.seeds = scen_seed_open(dir, "receiver", name, -1)) == NULL)
            return 1;
        /* fuzz_sender's mode: v4, encrypted or not */
        if ((w.sseeds = scen_seed_open(dir, "sender", name, k ? 3 : 2)) == NULL) {
            fclose(w.seeds);
            return 1;
        }
        w.sender = r->nrx; /* receivers are nodes 0..nrx-1 */
        sim_node_addr(r->s, r->rx[0], &w.rx0);
        run_tap(r, tap_fn, &w);
        run_add_sender(r, NULL);
        run_check(r);
        fclose(w.seeds);
        fclose(w.sseeds);
        scen_nonces_free(&w.n);
        run_free(r);
    }
    return scen_fails ? 1 : 0;
}

static const struct scen g_scens[] = {
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
    static const struct scen_prog p = SCEN_PROG("sim_v4", g_scens, dump_corpus);
    return scen_main(&p, argc, argv);
}
