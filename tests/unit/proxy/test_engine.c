/*
 * The proxy engine (proxy/engine/engine.c) driven datagram by datagram: heartbeat
 * authentication of a fingerprint-mode server proxy (challenge, bad
 * signature, wrong fingerprint, address change, replay), the tunnel's
 * direction rules, heartbeat sending, client proxy aggregation through the
 * engine, and the limits (a full session table, too many clients).
 */
#include <string.h>

#include "core/crypto/ecdh.h"
#include "core/crypto/fp.h"
#include "core/crypto/hbauth.h"
#include "core/crypto/keyblob.h"
#include "core/crypto/keyfile.h"
#include "core/crypto/sig.h"
#include "core/crypto/skeys.h"
#include "core/net/addr.h"
#include "core/base/quant.h"
#include "core/wire/msg.h"
#include "cu.h"
#include "proxy/engine/engine.h"

static struct crypto_key *g_key, *g_other, *g_mine;
static uint8_t g_out[ENG_MAX_SEG * 9000];

static struct crypto_key *load(const char *name)
{
    char path[256];
    snprintf(path, sizeof(path), "tests/unit/crypto/vectors/keys/%s", name);
    struct crypto_key *k = NULL;
    CU_ASSERT_EQUAL_FATAL(keyfile_read(cu_srcpath(path), &k), CRYPTO_OK);
    return k;
}

static void keys(void)
{
    if (g_key == NULL) {
        g_key = load("ec256_a.pem");
        g_other = load("ec256_b.pem");
        g_mine = load("ec384_a.pem");
    }
}

static int rng(void *ctx, void *buf, size_t len)
{
    static uint8_t x = 1;
    (void)ctx;
    uint8_t *p = buf;
    for (size_t i = 0; i < len; i++)
        p[i] = x += 37;
    return 0;
}

static struct addr addr_of(const char *s)
{
    struct addr a;
    CU_ASSERT_EQUAL_FATAL(net_addr_parse(&a, s, 1044), 0);
    return a;
}

/* One output: the next SEND (memberships skipped). */
struct sent {
    int kind;
    struct addr dst;
    uint8_t buf[9000];
    size_t len;
};

static int next_send(struct proxy *p, uint64_t now, struct sent *s)
{
    for (;;) {
        struct eng_out o;
        memset(&o, 0, sizeof(o));
        o.buf = g_out;
        o.cap = sizeof(g_out);
        o.max_seg = 1;
        int k = proxy_poll(p, now, &o);
        if (k == ENG_JOIN || k == ENG_LEAVE)
            continue;
        s->kind = k;
        if (k == ENG_SEND) {
            s->dst = o.dst;
            s->len = o.len < sizeof(s->buf) ? o.len : sizeof(s->buf);
            memcpy(s->buf, o.buf, s->len);
        }
        return k;
    }
}

static void drain(struct proxy *p, uint64_t now)
{
    struct sent s;
    while (next_send(p, now, &s) > 0 && s.kind != ENG_DONE)
        ;
}

static size_t dgram(uint8_t *b, size_t cap, uint32_t src, uint32_t group, const struct wire_msg *m)
{
    struct wire_datagram d;
    memset(&d, 0, sizeof(d));
    d.hdr.version = UFTP_VER5;
    d.hdr.func = m->func;
    d.hdr.src_id = src;
    d.hdr.group_id = group;
    d.hdr.grtt = quant_rtt_encode_us(100000);
    d.msg = *m;
    ssize_t n = wire_datagram_encode(b, cap, &d);
    CU_ASSERT_FATAL(n > 0);
    return (size_t)n;
}

static size_t hb_req(uint8_t *b, uint32_t nonce, const struct crypto_key *k, uint32_t sign_nonce)
{
    struct wire_msg m;
    memset(&m, 0, sizeof(m));
    m.func = HB_REQ;
    m.u.hb_req.ver = UFTP_VER5;
    m.u.hb_req.nonce = nonce;
    uint8_t sig[SIG_MAX];
    if (k != NULL) {
        size_t bl;
        m.u.hb_req.keyblob = crypto_key_blob(k, &bl);
        m.u.hb_req.keylen = (uint16_t)bl;
        int sl = hbauth_sign(k, sign_nonce, sig, sizeof(sig));
        CU_ASSERT_FATAL(sl > 0);
        m.u.hb_req.sig = sig;
        m.u.hb_req.siglen = (uint16_t)sl;
    }
    return dgram(b, 2048, 0x0A000009, 0, &m);
}

static struct wire_hb_resp hb_resp_of(const struct sent *s)
{
    struct wire_hb_resp r = {.ver = UFTP_VER5};
    CU_ASSERT_EQUAL(s->kind, ENG_SEND);
    CU_ASSERT_EQUAL(s->buf[1], HB_RESP);
    CU_ASSERT(wire_hb_resp_decode(&r, s->buf + UFTP_HDR_LEN, s->len - UFTP_HDR_LEN) > 0);
    return r;
}

static struct proxy *fp_proxy_budget(struct addr *pub, uint32_t budget)
{
    keys();
    struct proxy_config c;
    proxy_config_defaults(&c);
    c.role = PROXY_SERVER;
    c.proxy_id = 0x0A000001;
    c.key = g_mine;
    *pub = addr_of("230.4.4.1:1044");
    c.pub_addrs = pub;
    c.npub = 1;
    size_t bl;
    const uint8_t *b = crypto_key_blob(g_key, &bl);
    fp_compute(b, bl, c.down_fp);
    c.down_fplen = FP_LEN;
    c.pk_budget_us = budget;
    struct proxy_env e = {.rng = rng};
    struct proxy *p = NULL;
    CU_ASSERT_EQUAL_FATAL(proxy_new(&p, &c, &e), 0);
    return p;
}

static struct proxy *fp_proxy(struct addr *pub)
{
    return fp_proxy_budget(pub, 500000);
}

static size_t announce(uint8_t *b, uint32_t server, uint32_t group)
{
    struct wire_msg m;
    memset(&m, 0, sizeof(m));
    m.func = ANNOUNCE;
    m.u.announce.ver = UFTP_VER5;
    m.u.announce.robust = 20;
    m.u.announce.blocksize = 1300;
    static const uint8_t pub[4] = {230, 4, 4, 1}, priv[4] = {230, 5, 5, 7};
    memcpy(m.u.announce.pub_addr, pub, 4);
    memcpy(m.u.announce.priv_addr, priv, 4);
    return dgram(b, 2048, server, group, &m);
}

static void test_hb_challenge(void)
{
    struct addr pub;
    struct proxy *p = fp_proxy(&pub);
    struct addr nat1 = addr_of("192.0.2.1:20000"), nat2 = addr_of("192.0.2.1:20001"),
                server = addr_of("10.0.1.5:40000"), evil = addr_of("198.51.100.7:1044");
    uint8_t b[2048];
    struct sent s;
    uint64_t now = 1000000;
    drain(p, now);
    /* Before any heartbeat: a session's traffic is dropped, nothing forwarded. */
    size_t n = announce(b, 0x0A000105, 0x1234);
    proxy_recv(p, &server, NULL, b, n, 0, now);
    CU_ASSERT_EQUAL(next_send(p, now, &s), ENG_NONE);
    /* A plain heartbeat gets a challenge with a nonzero nonce. */
    n = hb_req(b, 0, NULL, 0);
    proxy_recv(p, &nat1, NULL, b, n, 0, now);
    CU_ASSERT_EQUAL(next_send(p, now, &s), ENG_SEND);
    CU_ASSERT(addr_equal(&s.dst, &nat1));
    struct wire_hb_resp r = hb_resp_of(&s);
    CU_ASSERT_EQUAL(r.auth, HB_AUTH_CHALLENGE);
    uint32_t nonce = r.nonce;
    CU_ASSERT_NOT_EQUAL(nonce, 0);
    /* The right key, but a signature over another nonce: FAILED. */
    n = hb_req(b, nonce, g_key, nonce + 1);
    proxy_recv(p, &nat1, NULL, b, n, 0, now);
    next_send(p, now, &s);
    CU_ASSERT_EQUAL(hb_resp_of(&s).auth, HB_AUTH_FAILED);
    /* A valid signature by a key of the wrong fingerprint: FAILED. */
    n = hb_req(b, nonce, g_other, nonce);
    proxy_recv(p, &nat1, NULL, b, n, 0, now);
    next_send(p, now, &s);
    CU_ASSERT_EQUAL(hb_resp_of(&s).auth, HB_AUTH_FAILED);
    /* A stale nonce: another challenge, no signature check. */
    n = hb_req(b, nonce ^ 1, g_key, nonce ^ 1);
    proxy_recv(p, &nat1, NULL, b, n, 0, now);
    next_send(p, now, &s);
    CU_ASSERT_EQUAL(hb_resp_of(&s).auth, HB_AUTH_CHALLENGE);
    struct proxy_stats st;
    proxy_stats(p, &st);
    CU_ASSERT_FALSE(addr_is_set(&st.down));
    CU_ASSERT_EQUAL(st.hb_auth_failed, 2);
    /* The right one: OK, and nat1 is the downstream. */
    size_t good = hb_req(b, nonce, g_key, nonce);
    uint8_t saved[2048];
    memcpy(saved, b, good);
    proxy_recv(p, &nat1, NULL, b, good, 0, now);
    next_send(p, now, &s);
    CU_ASSERT_EQUAL(hb_resp_of(&s).auth, HB_AUTH_OK);
    proxy_stats(p, &st);
    CU_ASSERT(addr_equal(&st.down, &nat1));
    CU_ASSERT_EQUAL(st.hb_auth_ok, 1);
    /* From the established address a plain heartbeat is simply OK. */
    n = hb_req(b, 0, NULL, 0);
    proxy_recv(p, &nat1, NULL, b, n, 0, now);
    next_send(p, now, &s);
    CU_ASSERT_EQUAL(hb_resp_of(&s).auth, HB_AUTH_OK);
    /* The captured answer replayed from elsewhere: the nonce changed, so a challenge. */
    memcpy(b, saved, good);
    proxy_recv(p, &evil, NULL, b, good, 0, now);
    next_send(p, now, &s);
    r = hb_resp_of(&s);
    CU_ASSERT_EQUAL(r.auth, HB_AUTH_CHALLENGE);
    CU_ASSERT_NOT_EQUAL(r.nonce, nonce);
    proxy_stats(p, &st);
    CU_ASSERT(addr_equal(&st.down, &nat1));
    /* The NAT moved the peer: it proves itself from the new port and is followed. */
    n = hb_req(b, 0, NULL, 0);
    proxy_recv(p, &nat2, NULL, b, n, 0, now);
    next_send(p, now, &s);
    r = hb_resp_of(&s);
    CU_ASSERT_EQUAL(r.auth, HB_AUTH_CHALLENGE);
    n = hb_req(b, r.nonce, g_key, r.nonce);
    proxy_recv(p, &nat2, NULL, b, n, 0, now);
    next_send(p, now, &s);
    CU_ASSERT_EQUAL(hb_resp_of(&s).auth, HB_AUTH_OK);
    proxy_stats(p, &st);
    CU_ASSERT(addr_equal(&st.down, &nat2));
    CU_ASSERT_EQUAL(st.hb_auth_ok, 2);
    /* Now the session goes through, to the new address. */
    n = announce(b, 0x0A000105, 0x1234);
    proxy_recv(p, &server, NULL, b, n, 0, now);
    CU_ASSERT_EQUAL(next_send(p, now, &s), ENG_SEND);
    CU_ASSERT(addr_equal(&s.dst, &nat2));
    CU_ASSERT_EQUAL(s.buf[1], ANNOUNCE);
    /* Answers through the tunnel go up; from anyone else they are dropped. */
    struct wire_msg m;
    memset(&m, 0, sizeof(m));
    m.func = REGISTER;
    m.u.reg.ver = UFTP_VER5;
    n = dgram(b, sizeof(b), 0x0A000202, 0x1234, &m);
    proxy_recv(p, &nat2, NULL, b, n, 0, now);
    CU_ASSERT_EQUAL(next_send(p, now, &s), ENG_SEND);
    CU_ASSERT(addr_equal(&s.dst, &server));
    n = dgram(b, sizeof(b), 0x0A000202, 0x1234, &m);
    proxy_recv(p, &evil, NULL, b, n, 0, now);
    CU_ASSERT_EQUAL(next_send(p, now, &s), ENG_NONE);
    proxy_free(p);
}

/*
 * Signature checks that unauthenticated heartbeats cause are budgeted
 * (spec §6.10, §6.16: 5.0.1's rate limit never worked): a flood of
 * heartbeats with the current nonce and a bad signature gets only what the
 * budget allows per second, the rest no answer at all.
 */
static void test_hb_budget(void)
{
    struct addr pub;
    /* 4000 us/s: half kept for listed servers, a quarter per source: ~3 checks a second. */
    struct proxy *p = fp_proxy_budget(&pub, 4000);
    struct addr peer = addr_of("192.0.2.9:1044"), other = addr_of("192.0.2.10:1044");
    uint8_t b[2048];
    struct sent s;
    drain(p, 1000000);
    size_t n = hb_req(b, 0, NULL, 0);
    proxy_recv(p, &peer, NULL, b, n, 0, 1000000);
    next_send(p, 1000000, &s);
    uint32_t nonce = hb_resp_of(&s).nonce;
    /* A wrong key is refused by its fingerprint (issue 14): no public-key work. */
    unsigned answered = 0;
    for (int i = 0; i < 20; i++) {
        n = hb_req(b, nonce, g_other, nonce);
        proxy_recv(p, &peer, NULL, b, n, 0, 1000000);
        while (next_send(p, 1000000, &s) == ENG_SEND)
            answered++;
    }
    struct proxy_stats st;
    proxy_stats(p, &st);
    CU_ASSERT_EQUAL(st.hb_auth_failed, 20);
    CU_ASSERT_EQUAL(st.refused, 0);
    /* Answered, but no more than AMP_STRAY_PER_S a second (the challenge took one). */
    CU_ASSERT_EQUAL(answered, 19);
    CU_ASSERT_EQUAL(st.amp_held, 1);
    /* The right key with a bad signature costs a check each: budgeted. */
    answered = 0;
    for (int i = 0; i < 20; i++) {
        n = hb_req(b, nonce, g_key, nonce ^ 1);
        proxy_recv(p, &peer, NULL, b, n, 0, 3000000);
        while (next_send(p, 3000000, &s) == ENG_SEND)
            answered++;
    }
    CU_ASSERT(answered >= 2 && answered <= 4);
    proxy_stats(p, &st);
    CU_ASSERT_EQUAL(st.hb_auth_failed, 20 + answered);
    CU_ASSERT_EQUAL(st.refused, 20 - answered);
    /* Another source has a share of its own. */
    unsigned elsewhere = 0;
    for (int i = 0; i < 20; i++) {
        n = hb_req(b, nonce, g_key, nonce ^ 1);
        proxy_recv(p, &other, NULL, b, n, 0, 3000000);
        while (next_send(p, 3000000, &s) == ENG_SEND)
            elsewhere++;
    }
    CU_ASSERT(elsewhere >= 1 && elsewhere <= 4);
    /* A second later the budget is back. */
    unsigned later = 0;
    for (int i = 0; i < 20; i++) {
        n = hb_req(b, nonce, g_key, nonce ^ 1);
        proxy_recv(p, &peer, NULL, b, n, 0, 4000000);
        while (next_send(p, 4000000, &s) == ENG_SEND)
            later++;
    }
    CU_ASSERT(later >= 2 && later <= 4);
    proxy_free(p);
}

static void test_hb_fixed_and_sending(void)
{
    keys();
    /* A client proxy with a heartbeat host answers challenges with signed heartbeats. */
    struct proxy_config c;
    proxy_config_defaults(&c);
    c.role = PROXY_CLIENT;
    c.proxy_id = 0x0A000003;
    c.key = g_key;
    struct addr up = addr_of("10.0.0.1:1044");
    c.hb_hosts = &up;
    c.nhb = 1;
    c.hb_interval_us = 5000000;
    struct proxy_env e = {.rng = rng};
    struct proxy *p;
    CU_ASSERT_EQUAL_FATAL(proxy_new(&p, &c, &e), 0);
    struct sent s;
    CU_ASSERT_EQUAL(next_send(p, 1000, &s), ENG_SEND);
    CU_ASSERT(addr_equal(&s.dst, &up));
    CU_ASSERT_EQUAL(s.buf[1], HB_REQ);
    CU_ASSERT_EQUAL(next_send(p, 1000, &s), ENG_NONE);
    CU_ASSERT_EQUAL(proxy_deadline(p), 5001000);
    /* A challenge from the host: a signed HB_REQ at once. */
    struct wire_msg m;
    memset(&m, 0, sizeof(m));
    m.func = HB_RESP;
    m.u.hb_resp.ver = UFTP_VER5;
    m.u.hb_resp.auth = HB_AUTH_CHALLENGE;
    m.u.hb_resp.nonce = 0xCAFEF00D;
    uint8_t b[2048];
    size_t n = dgram(b, sizeof(b), 0x0A000001, 0, &m);
    /* ...not from a stranger. */
    struct addr stranger = addr_of("10.0.0.2:1044");
    proxy_recv(p, &stranger, NULL, b, n, 0, 2000);
    CU_ASSERT_EQUAL(next_send(p, 2000, &s), ENG_NONE);
    proxy_recv(p, &up, NULL, b, n, 0, 2000);
    CU_ASSERT_EQUAL(next_send(p, 2000, &s), ENG_SEND);
    struct wire_hb_req q = {.ver = UFTP_VER5};
    CU_ASSERT_FATAL(wire_hb_req_decode(&q, s.buf + UFTP_HDR_LEN, s.len - UFTP_HDR_LEN) > 0);
    CU_ASSERT_EQUAL(q.nonce, 0xCAFEF00D);
    size_t bl;
    const uint8_t *blob = crypto_key_blob(g_key, &bl);
    uint8_t fp[FP_LEN];
    fp_compute(blob, bl, fp);
    CU_ASSERT_EQUAL(hbauth_verify(q.keyblob, q.keylen, q.sig, q.siglen, q.nonce, fp, FP_LEN),
                    CRYPTO_OK);
    proxy_free(p);

    /* A server proxy with a fixed downstream answers OK to everyone. */
    proxy_config_defaults(&c);
    c.role = PROXY_SERVER;
    c.proxy_id = 0x0A000001;
    c.key = g_key;
    c.down = addr_of("10.0.9.9:1044");
    CU_ASSERT_EQUAL_FATAL(proxy_new(&p, &c, &e), 0);
    drain(p, 0);
    n = hb_req(b, 0, NULL, 0);
    proxy_recv(p, &stranger, NULL, b, n, 0, 10);
    next_send(p, 10, &s);
    CU_ASSERT_EQUAL(hb_resp_of(&s).auth, HB_AUTH_OK);
    proxy_free(p);
}

static struct proxy *client_proxy(unsigned max_sessions, unsigned max_clients)
{
    keys();
    struct proxy_config c;
    proxy_config_defaults(&c);
    c.role = PROXY_CLIENT;
    c.proxy_id = 0x0A000003;
    c.key = g_key;
    c.max_sessions = max_sessions;
    c.max_clients = max_clients;
    struct proxy_env e = {.rng = rng};
    struct proxy *p;
    CU_ASSERT_EQUAL_FATAL(proxy_new(&p, &c, &e), 0);
    return p;
}

static void test_client_aggregation(void)
{
    struct proxy *p = client_proxy(PROXY_MAX_SESSIONS, PROXY_MAX_CLIENTS);
    struct addr sp = addr_of("10.0.1.2:1044");
    uint8_t b[2048];
    struct sent s;
    uint64_t now = 1000000;
    size_t n = announce(b, 0x0A000105, 0x77);
    proxy_recv(p, &sp, NULL, b, n, 0, now);
    /* The ANNOUNCE to the public group, then PROXY_KEY (unencrypted: lengths 0). */
    CU_ASSERT_EQUAL(next_send(p, now, &s), ENG_SEND);
    CU_ASSERT_EQUAL(s.buf[1], ANNOUNCE);
    CU_ASSERT(addr_equal(&s.dst, &(struct addr){0}) == false);
    CU_ASSERT_EQUAL(next_send(p, now, &s), ENG_SEND);
    CU_ASSERT_EQUAL(s.buf[1], PROXY_KEY);
    CU_ASSERT_EQUAL(s.len, UFTP_HDR_LEN + 8);
    CU_ASSERT_EQUAL(next_send(p, now, &s), ENG_NONE);
    /* Three clients register: one REGISTER upstream after 1 GRTT (100 ms). */
    struct wire_msg m;
    memset(&m, 0, sizeof(m));
    m.func = REGISTER;
    m.u.reg.ver = UFTP_VER5;
    for (uint32_t i = 1; i <= 3; i++) {
        char a[32];
        snprintf(a, sizeof(a), "10.0.3.%u:1044", i);
        struct addr c = addr_of(a);
        m.u.reg.tstamp = 5000000 + i;
        n = dgram(b, sizeof(b), 0x0A000300 + i, 0x77, &m);
        proxy_recv(p, &c, NULL, b, n, 0, now + i * 1000);
    }
    uint64_t g = quant_rtt_decode_us(quant_rtt_encode_us(100000)); /* the GRTT as quantised */
    CU_ASSERT_EQUAL(next_send(p, now + 50000, &s), ENG_NONE);
    CU_ASSERT_EQUAL(proxy_deadline(p), now + 1000 + g);
    CU_ASSERT_EQUAL(next_send(p, now + 1000 + g - 1, &s), ENG_NONE);
    CU_ASSERT_EQUAL(next_send(p, now + 1000 + g, &s), ENG_SEND);
    CU_ASSERT(addr_equal(&s.dst, &sp));
    struct wire_datagram d;
    CU_ASSERT_FATAL(wire_datagram_decode(&d, s.buf, s.len) > 0);
    CU_ASSERT_EQUAL(d.msg.func, REGISTER);
    CU_ASSERT_EQUAL(d.hdr.src_id, 0x0A000003);
    CU_ASSERT_EQUAL(d.msg.u.reg.ids.n, 3);
    CU_ASSERT_TRUE(wire_ids_contains(&d.msg.u.reg.ids, 0x0A000302));
    /* Echo: the smallest echo - arrival, plus the time of sending. */
    /* Client 3 came last with the same echo: the longest RTT, echo 5000003 held since now+3000. */
    CU_ASSERT_EQUAL(d.msg.u.reg.tstamp, 5000003 + (now + 1000 + g) - (now + 3000));
    /* STATUS from two clients, one with a TFMCC extension: one STATUS, bitmaps ORed. */
    for (uint32_t i = 1; i <= 2; i++) {
        memset(&m, 0, sizeof(m));
        m.func = STATUS;
        m.u.status.ver = UFTP_VER5;
        m.u.status.file_id = 1;
        m.u.status.section = 0;
        m.u.status.has_tfmcc = i == 1;
        m.u.status.tfmcc.client_id = 0xFFFFFFFF;
        uint8_t naks[3] = {(uint8_t)i, 0, (uint8_t)(i << 4)};
        m.u.status.naks = naks;
        m.u.status.naks_len = 3;
        n = dgram(b, sizeof(b), 0x0A000300 + i, 0x77, &m);
        char a[32];
        snprintf(a, sizeof(a), "10.0.3.%u:1044", i);
        struct addr c = addr_of(a);
        proxy_recv(p, &c, NULL, b, n, 0, now + 200000);
    }
    CU_ASSERT_EQUAL(next_send(p, now + 200000 + g, &s), ENG_SEND);
    CU_ASSERT_FATAL(wire_datagram_decode(&d, s.buf, s.len) > 0);
    CU_ASSERT_EQUAL_FATAL(d.msg.func, STATUS);
    CU_ASSERT_FALSE(d.msg.u.status.has_tfmcc);
    CU_ASSERT_EQUAL(d.msg.u.status.naks_len, 3);
    CU_ASSERT_EQUAL(d.msg.u.status.naks[0], 3);
    CU_ASSERT_EQUAL(d.msg.u.status.naks[1], 0);
    CU_ASSERT_EQUAL(d.msg.u.status.naks[2], 0x30);
    /* Server traffic goes to the private group unchanged. */
    memset(&m, 0, sizeof(m));
    m.func = DONE;
    m.u.done.ver = UFTP_VER5;
    m.u.done.file_id = 1;
    n = dgram(b, sizeof(b), 0x0A000105, 0x77, &m);
    proxy_recv(p, &sp, NULL, b, n, 0, now + 400000);
    CU_ASSERT_EQUAL(next_send(p, now + 400000, &s), ENG_SEND);
    CU_ASSERT_EQUAL(s.len, n);
    CU_ASSERT_EQUAL(memcmp(s.buf, b, n), 0);
    char ga[ADDR_STRLEN];
    CU_ASSERT_STRING_EQUAL(addr_str(&s.dst, ga), "230.5.5.7:1044");
    proxy_free(p);
}

/* A datagram from src at address from (a client, a proxy, the server), at now. */
static void feed(struct proxy *p, const char *from, uint32_t src, const struct wire_msg *m,
                 uint64_t now)
{
    uint8_t b[2048];
    struct addr a = addr_of(from);
    size_t n = dgram(b, sizeof(b), src, 0x77, m);
    proxy_recv(p, &a, NULL, b, n, 0, now);
}

static struct wire_msg listing(uint8_t func, const uint32_t *ids, size_t n, uint64_t tstamp)
{
    struct wire_msg m;
    memset(&m, 0, sizeof(m));
    m.func = func;
    if (func == REGISTER) {
        m.u.reg.ver = UFTP_VER5;
        m.u.reg.tstamp = tstamp;
        m.u.reg.ids = wire_ids_of(ids, n);
    } else {
        m.u.fileinfo_ack.ver = UFTP_VER5;
        m.u.fileinfo_ack.file_id = 1;
        m.u.fileinfo_ack.tstamp = tstamp;
        m.u.fileinfo_ack.ids = wire_ids_of(ids, n);
    }
    return m;
}

/*
 * Stacked proxies (spec §3.5): the upper proxy takes lists only from its
 * --downstream proxies, only IDs no one else holds, and re-aggregates them
 * with its own clients (echo composed, its slot due 1/2 GRTT after); a lower
 * proxy sends nothing up before its upper proxy's PROXY_KEY, then to it.
 */
static void test_stacked(void)
{
    keys();
    static const struct proxy_client downs[] = {{.id = 0x0A000900}};
    struct proxy_config c;
    proxy_config_defaults(&c);
    c.role = PROXY_CLIENT;
    c.proxy_id = 0x0A000003;
    c.key = g_key;
    c.downs = downs;
    c.ndown = 1;
    struct proxy_env e = {.rng = rng};
    struct proxy *p;
    CU_ASSERT_EQUAL_FATAL(proxy_new(&p, &c, &e), 0);
    struct addr sp = addr_of("10.0.1.2:1044");
    uint8_t b[2048];
    struct sent s;
    struct wire_datagram d;
    uint64_t now = 1000000, g = quant_rtt_decode_us(quant_rtt_encode_us(100000));
    size_t n = announce(b, 0x0A000105, 0x77);
    proxy_recv(p, &sp, NULL, b, n, 0, now);
    drain(p, now);
    struct wire_msg m = listing(REGISTER, NULL, 0, 7000000);
    feed(p, "10.0.3.1:1044", 0x0A000301, &m, now); /* a direct client */
    static const uint32_t stranger[] = {0x0A000501};
    m = listing(REGISTER, stranger, 1, 7000000);
    feed(p, "10.0.9.9:1044", 0x0A000999, &m, now + 1000); /* not --downstream: dropped */
    static const uint32_t mine[] = {0x0A000401, 0x0A000402, 0x0A000301, 0x0A000900};
    m = listing(REGISTER, mine, 4, 6000000);
    feed(p, "10.0.9.1:1044", 0x0A000900, &m, now + 2000);
    CU_ASSERT_EQUAL(next_send(p, now + g, &s), ENG_SEND);
    CU_ASSERT(addr_equal(&s.dst, &sp));
    CU_ASSERT_FATAL(wire_datagram_decode(&d, s.buf, s.len) > 0);
    CU_ASSERT_EQUAL_FATAL(d.msg.func, REGISTER);
    /* Its own client and the two the downstream proxy may list; not the direct client
     * again, not the proxy's own ID, not the stranger's. */
    CU_ASSERT_EQUAL(d.msg.u.reg.ids.n, 3);
    CU_ASSERT_TRUE(wire_ids_contains(&d.msg.u.reg.ids, 0x0A000301));
    CU_ASSERT_TRUE(wire_ids_contains(&d.msg.u.reg.ids, 0x0A000401));
    CU_ASSERT_TRUE(wire_ids_contains(&d.msg.u.reg.ids, 0x0A000402));
    CU_ASSERT_FALSE(wire_ids_contains(&d.msg.u.reg.ids, 0x0A000501));
    CU_ASSERT_FALSE(wire_ids_contains(&d.msg.u.reg.ids, 0x0A000900));
    /* The longest RTT over both levels: the proxy's echo, 6000000 held since now + 2000. */
    CU_ASSERT_EQUAL(d.msg.u.reg.tstamp, 6000000 + g - 2000);
    CU_ASSERT_EQUAL(next_send(p, now + g, &s), ENG_NONE);
    /* FILEINFO_ACK listing its two and the stranger's: its two, due 1/2 GRTT later. */
    static const uint32_t acks[] = {0x0A000401, 0x0A000501, 0x0A000402};
    m = listing(FILEINFO_ACK, acks, 3, 8000000);
    uint64_t t = now + 300000;
    feed(p, "10.0.9.1:1044", 0x0A000900, &m, t);
    CU_ASSERT_EQUAL(proxy_deadline(p), 0); /* (input arrived: the timers run) */
    CU_ASSERT_EQUAL(next_send(p, t, &s), ENG_NONE);
    CU_ASSERT_EQUAL(proxy_deadline(p), t + g / 2);
    CU_ASSERT_EQUAL(next_send(p, t + g / 2, &s), ENG_SEND);
    CU_ASSERT_FATAL(wire_datagram_decode(&d, s.buf, s.len) > 0);
    CU_ASSERT_EQUAL_FATAL(d.msg.func, FILEINFO_ACK);
    CU_ASSERT_EQUAL(d.msg.u.fileinfo_ack.ids.n, 2);
    CU_ASSERT_FALSE(wire_ids_contains(&d.msg.u.fileinfo_ack.ids, 0x0A000501));
    proxy_free(p);

    /* The lower proxy. */
    c.downs = NULL;
    c.ndown = 0;
    c.proxy_id = 0x0A000900;
    c.up_proxy = 0x0A000003;
    CU_ASSERT_EQUAL_FATAL(proxy_new(&p, &c, &e), 0);
    proxy_recv(p, &sp, NULL, b, n, 0, now);
    drain(p, now);
    m = listing(REGISTER, NULL, 0, 7000000);
    feed(p, "10.0.4.1:1044", 0x0A000401, &m, now);
    CU_ASSERT_EQUAL(next_send(p, now + g, &s), ENG_NONE); /* no upstream proxy heard yet */
    struct wire_msg pk;
    memset(&pk, 0, sizeof(pk));
    pk.func = PROXY_KEY;
    pk.u.proxy_key.ver = UFTP_VER5;
    feed(p, "10.0.2.7:1044", 0x0A000004, &pk, now + g); /* another proxy's: ignored */
    feed(p, "10.0.2.3:1044", 0x0A000003, &pk, now + g);
    feed(p, "10.0.2.8:1044", 0x0A000003, &pk, now + g); /* learned once a session */
    feed(p, "10.0.4.1:1044", 0x0A000401, &m, now + 2 * g);
    CU_ASSERT_EQUAL(next_send(p, now + 2 * g + g / 2 - 1, &s), ENG_NONE);
    CU_ASSERT_EQUAL(next_send(p, now + 2 * g + g / 2, &s), ENG_SEND); /* held 1/2 GRTT */
    struct addr up = addr_of("10.0.2.3:1044");
    CU_ASSERT(addr_equal(&s.dst, &up));
    CU_ASSERT_FATAL(wire_datagram_decode(&d, s.buf, s.len) > 0);
    CU_ASSERT_EQUAL(d.msg.func, REGISTER);
    CU_ASSERT_EQUAL(d.msg.u.reg.ids.n, 1);
    proxy_free(p);
}

/* ------------------------------------------------------------ encrypted stacking */

#define ST_GROUP  0x77u
#define ST_SERVER 0x0A000105u
#define ST_UPPER  0x0A000003u
#define ST_LOWER  0x0A000900u
#define ST_CLIENT 0x0A000401u

/* The next datagram p sends to dst (NULL: anywhere) with header func; false when none by now. */
static bool next_to(struct proxy *p, uint64_t now, const char *dst, uint8_t func, struct sent *s)
{
    struct addr a;
    if (dst != NULL)
        a = addr_of(dst);
    while (next_send(p, now, s) == ENG_SEND)
        if ((dst == NULL || addr_equal(&s->dst, &a)) && s->buf[1] == func)
            return true;
    return false;
}

static void feed_raw(struct proxy *p, const char *from, uint8_t *b, size_t n, uint64_t now)
{
    struct addr a = addr_of(from);
    proxy_recv(p, &a, NULL, b, n, 0, now);
}

static struct proxy *st_proxy(uint32_t id, const struct crypto_key *k, uint32_t up,
                              const struct proxy_client *downs, size_t ndown)
{
    struct proxy_config c;
    proxy_config_defaults(&c);
    c.role = PROXY_CLIENT;
    c.proxy_id = id;
    c.key = k;
    c.up_proxy = up;
    c.downs = downs;
    c.ndown = ndown;
    struct proxy_env e = {.rng = rng};
    struct proxy *p = NULL;
    CU_ASSERT_EQUAL_FATAL(proxy_new(&p, &c, &e), 0);
    return p;
}

/*
 * spec §3.5, encrypted (AES-256-GCM): a server, an upper proxy U (its
 * --downstream line for L with fingerprint fpkey's) and a lower proxy L
 * (signing key g_mine) with one client. L keys against U's PROXY_KEY and
 * proves its key with CLIENT_KEY; with the right fingerprint U lists L's
 * client (not L) to the server, and once the server keys U, U keys L by
 * unicast with a KEYINFO L accepts (L's KEYINFO_ACK), resent every 2 GRTT
 * until that KEYINFO_ACK. With another key's fingerprint U refuses L: no
 * REGISTER upstream, an authentication failure counted.
 */
static void stacked_enc(const struct crypto_key *fpkey)
{
    keys();
    bool good = fpkey == g_mine;
    struct proxy_client downs[1] = {{.id = ST_LOWER, .fplen = FP_LEN}};
    size_t bl;
    const uint8_t *blob = crypto_key_blob(fpkey, &bl);
    CU_ASSERT_EQUAL_FATAL(fp_compute(blob, bl, downs[0].fp), 0);
    struct skeys_server_cfg sc = {.keytype = KEY_AES256_GCM,
                                  .hashtype = HASH_SHA256,
                                  .curve = CURVE_P256,
                                  .sigkey = g_other,
                                  .group_id = ST_GROUP,
                                  .server_id = ST_SERVER};
    crypto_random(sc.rand1, sizeof(sc.rand1));
    crypto_random(sc.group_master, sizeof(sc.group_master));
    struct skeys_server *srv = NULL;
    CU_ASSERT_EQUAL_FATAL(skeys_server_new(&srv, &sc), CRYPTO_OK);
    struct proxy *u = st_proxy(ST_UPPER, g_key, 0, downs, 1);
    struct proxy *l = st_proxy(ST_LOWER, g_mine, ST_UPPER, NULL, 0);
    uint64_t now = 1000000, g = quant_rtt_decode_us(quant_rtt_encode_us(100000));
    const char *SRV = "10.0.1.2:1044", *UP = "10.0.2.3:1044", *LOW = "10.0.9.1:1044";
    /* The server's signed ANNOUNCE, to both proxies. */
    struct wire_msg m;
    memset(&m, 0, sizeof(m));
    m.func = ANNOUNCE;
    m.u.announce.ver = UFTP_VER5;
    m.u.announce.robust = 20;
    m.u.announce.blocksize = 1300;
    m.u.announce.tstamp = now;
    static const uint8_t pub[4] = {230, 4, 4, 1}, priv[4] = {230, 5, 5, 7};
    memcpy(m.u.announce.pub_addr, pub, 4);
    memcpy(m.u.announce.priv_addr, priv, 4);
    m.u.announce.has_enc = true;
    m.u.announce.enc = *skeys_server_enc_info(srv);
    uint8_t ann[2048], b[2048];
    size_t an = dgram(ann, sizeof(ann), ST_SERVER, ST_GROUP, &m);
    CU_ASSERT_EQUAL_FATAL(skeys_server_sign_announce(srv, ann, an), CRYPTO_OK);
    memcpy(b, ann, an);
    feed_raw(u, SRV, b, an, now);
    struct sent s, s2;
    CU_ASSERT_FATAL(next_to(u, now, NULL, PROXY_KEY, &s));
    memcpy(b, ann, an);
    feed_raw(l, SRV, b, an, now);
    drain(l, now);
    /* U's PROXY_KEY reaches L: L's handshake moves to U. */
    feed_raw(l, UP, s.buf, s.len, now + 1000);
    /* A client of L registers (its own ECDH key). */
    struct crypto_key *cdh = NULL;
    CU_ASSERT_EQUAL_FATAL(ecdh_keygen(CURVE_P256, &cdh), CRYPTO_OK);
    memset(&m, 0, sizeof(m));
    m.func = REGISTER;
    m.u.reg.ver = UFTP_VER5;
    m.u.reg.tstamp = 7000000;
    size_t dl;
    m.u.reg.dhblob = crypto_key_blob(cdh, &dl);
    m.u.reg.dhlen = (uint16_t)dl;
    memset(m.u.reg.rand2, 0x5A, sizeof(m.u.reg.rand2));
    feed(l, "10.0.4.1:1044", ST_CLIENT, &m, now + 2000);
    /* L: its REGISTER (held 1/2 GRTT), then its CLIENT_KEY sealed, both to U. */
    uint64_t t = now + 2000 + g / 2;
    CU_ASSERT_FATAL(next_to(l, t, UP, REGISTER, &s));
    CU_ASSERT_FATAL(next_to(l, t, UP, ENCRYPTED, &s2));
    struct proxy_stats st;
    feed_raw(u, LOW, s.buf, s.len, t);
    feed_raw(u, LOW, s2.buf, s2.len, t);
    proxy_stats(u, &st);
    CU_ASSERT_EQUAL(st.auth_failed, good ? 0 : 1);
    /* U's REGISTER to the server lists L's client only (refused: nothing goes up). */
    t += g;
    bool up = next_to(u, t, SRV, REGISTER, &s);
    CU_ASSERT_EQUAL(up, good);
    if (!good) {
        CU_ASSERT_FALSE(next_to(u, t + 4 * g, LOW, KEYINFO, &s));
        goto out;
    }
    struct wire_datagram d;
    CU_ASSERT_FATAL(wire_datagram_decode(&d, s.buf, s.len) > 0);
    CU_ASSERT_EQUAL(d.msg.u.reg.ids.n, 1);
    CU_ASSERT_TRUE(wire_ids_contains(&d.msg.u.reg.ids, ST_CLIENT));
    /* The server keys U (its KEYINFO for U). */
    struct skeys_peer *peer = NULL;
    CU_ASSERT_EQUAL_FATAL(skeys_server_register(srv, ST_UPPER, d.msg.u.reg.dhblob,
                                                d.msg.u.reg.dhlen, d.msg.u.reg.rand2, &peer),
                          CRYPTO_OK);
    uint64_t ctr;
    CU_ASSERT_EQUAL_FATAL(skeys_server_keyinfo_ctr(srv, &ctr), CRYPTO_OK);
    struct wire_destkey dk = {.id = ST_UPPER};
    CU_ASSERT_EQUAL_FATAL(skeys_server_wrap(srv, peer, ctr, dk.master), CRYPTO_OK);
    memset(&m, 0, sizeof(m));
    m.func = KEYINFO;
    m.u.keyinfo.ver = UFTP_VER5;
    m.u.keyinfo.iv_ctr = ctr;
    m.u.keyinfo.siglen = (uint16_t)skeys_server_siglen(srv);
    m.u.keyinfo.keys.host = &dk;
    m.u.keyinfo.keys.n = 1;
    size_t kn = dgram(b, sizeof(b), ST_SERVER, ST_GROUP, &m);
    CU_ASSERT_EQUAL_FATAL(skeys_server_sign_keyinfo(srv, b, kn), CRYPTO_OK);
    t += 1000;
    feed_raw(u, SRV, b, kn, t);
    /* U: its KEYINFO_ACK to the server, and a KEYINFO for L alone, by unicast. */
    CU_ASSERT_FATAL(next_to(u, t, LOW, KEYINFO, &s));
    CU_ASSERT_FATAL(wire_datagram_decode(&d, s.buf, s.len) > 0);
    CU_ASSERT_EQUAL(d.hdr.src_id, ST_UPPER);
    CU_ASSERT_EQUAL(d.msg.u.keyinfo.keys.n, 1);
    CU_ASSERT_PTR_NOT_NULL(wire_destkeys_find(&d.msg.u.keyinfo.keys, ST_LOWER));
    /* A copy with a byte of its entry changed is refused (U's signature over it)... */
    memcpy(b, s.buf, s.len);
    b[s.len - 1] ^= 1;
    feed_raw(l, UP, b, s.len, t);
    CU_ASSERT_FALSE(next_to(l, t, UP, ENCRYPTED, &s2));
    /* ... the real one opens (U's signature, U's P_ctx): L's KEYINFO_ACK, sealed, to U. */
    feed_raw(l, UP, s.buf, s.len, t);
    CU_ASSERT_FATAL(next_to(l, t, UP, ENCRYPTED, &s2));
    /* Unacknowledged, U sends L's KEYINFO again 2 GRTT later; acknowledged, no more. */
    CU_ASSERT_FATAL(next_to(u, t + 2 * g + 1000, LOW, KEYINFO, &s));
    feed_raw(u, LOW, s2.buf, s2.len, t + 2 * g + 2000);
    CU_ASSERT_FALSE(next_to(u, t + 5 * g, LOW, KEYINFO, &s));
    proxy_stats(u, &st);
    CU_ASSERT_EQUAL(st.auth_failed, 0);
    skeys_peer_free(peer);
out:
    crypto_key_free(cdh);
    proxy_free(u);
    proxy_free(l);
    skeys_server_free(srv);
}

static void test_stacked_enc(void)
{
    keys();
    stacked_enc(g_mine);
}

static void test_stacked_enc_refused(void)
{
    keys();
    stacked_enc(g_key);
}

static void test_limits(void)
{
    /* spec §6.18: a full session table is refused, not dereferenced. */
    struct proxy *p = client_proxy(3, 2);
    struct addr sp = addr_of("10.0.1.2:1044");
    uint8_t b[2048];
    for (uint32_t g = 1; g <= 5; g++) {
        size_t n = announce(b, 0x0A000105, g);
        proxy_recv(p, &sp, NULL, b, n, 0, 1000);
        drain(p, 1000);
    }
    struct proxy_stats st;
    proxy_stats(p, &st);
    CU_ASSERT_EQUAL(st.sessions, 3);
    CU_ASSERT_EQUAL(st.refused, 2);
    /* Two clients per session: the third REGISTER is refused. */
    struct wire_msg m;
    memset(&m, 0, sizeof(m));
    m.func = REGISTER;
    m.u.reg.ver = UFTP_VER5;
    for (uint32_t i = 1; i <= 3; i++) {
        char a[32];
        snprintf(a, sizeof(a), "10.0.3.%u:1044", i);
        struct addr c = addr_of(a);
        size_t n = dgram(b, sizeof(b), 0x0A000300 + i, 1, &m);
        proxy_recv(p, &c, NULL, b, n, 0, 2000);
    }
    struct sent s;
    CU_ASSERT_EQUAL(next_send(p, 200000, &s), ENG_SEND);
    struct wire_datagram d;
    CU_ASSERT_FATAL(wire_datagram_decode(&d, s.buf, s.len) > 0);
    CU_ASSERT_EQUAL(d.msg.func, REGISTER);
    CU_ASSERT_EQUAL(d.msg.u.reg.ids.n, 2);
    proxy_stats(p, &st);
    CU_ASSERT_EQUAL(st.refused, 3);
    /* Shutdown: ABORT both ways for every session, leaves, then done. */
    proxy_shutdown(p, 300000);
    unsigned aborts = 0;
    int k;
    while ((k = next_send(p, 300000, &s)) == ENG_SEND)
        aborts += s.buf[1] == ABORT;
    CU_ASSERT_EQUAL(k, ENG_DONE);
    CU_ASSERT_EQUAL(aborts, 6);
    proxy_free(p);
}

static void test_config(void)
{
    keys();
    struct proxy_config c;
    struct proxy_env e = {.rng = rng};
    struct proxy *p = NULL;
    proxy_config_defaults(&c);
    c.proxy_id = 1;
    c.key = g_key;
    CU_ASSERT_EQUAL(proxy_new(&p, &c, &e), ENG_EINVAL); /* no role */
    c.role = PROXY_SERVER;
    CU_ASSERT_EQUAL(proxy_new(&p, &c, &e), ENG_EINVAL); /* no downstream */
    c.role = PROXY_CLIENT;
    c.max_clients = PROXY_MAX_CLIENTS + 1;
    CU_ASSERT_EQUAL(proxy_new(&p, &c, &e), ENG_EINVAL);
    c.max_clients = PROXY_MAX_CLIENTS;
    c.key = NULL;
    CU_ASSERT_EQUAL(proxy_new(&p, &c, &e), ENG_EINVAL);
    CU_ASSERT_PTR_NULL(p);
}

static void cleanup(void)
{
    crypto_key_free(g_key);
    crypto_key_free(g_other);
    crypto_key_free(g_mine);
    g_key = g_other = g_mine = NULL;
}

/* spec §1.9 item 5: a response proxy answers KEY_REQ with a v4 PROXY_KEY, at most every 5 s. */
static void test_key_req(void)
{
    keys();
    struct crypto_key *dh = NULL;
    CU_ASSERT_EQUAL_FATAL(ecdh_keygen(CURVE_P256, &dh), CRYPTO_OK);
    struct addr pubs[2] = {addr_of("230.4.4.1:1044"), addr_of("230.4.4.2:1044")};
    struct proxy_config c;
    struct proxy_env e = {.rng = rng};
    proxy_config_defaults(&c);
    c.role = PROXY_RESPONSE;
    c.proxy_id = 0x0A000201;
    c.key = g_key;
    c.dh4 = dh;
    c.pub_addrs = pubs;
    c.npub = 2;
    c.client_port = 1045;
    struct proxy *p = NULL;
    CU_ASSERT_EQUAL_FATAL(proxy_new(&p, &c, &e), 0);
    drain(p, 1000);
    struct addr cl = addr_of("10.0.2.7:1044");
    uint8_t b[64];
    struct uftp_hdr h = {.version = UFTP_VER4, .func = KEY_REQ, .src_id = 0x0A000207};
    uftp_hdr_encode(b, UFTP_HDR_LEN, &h);
    struct wire_key_req kr = {.ver = UFTP_VER4};
    size_t n = UFTP_HDR_LEN + (size_t)wire_key_req_encode(b + UFTP_HDR_LEN, 48, &kr);
    proxy_recv(p, &cl, NULL, b, n, 0, 2000000);
    struct sent s;
    char ab[ADDR_STRLEN];
    for (int i = 0; i < 2; i++) {
        CU_ASSERT_EQUAL_FATAL(next_send(p, 2000000, &s), ENG_SEND);
        CU_ASSERT_STRING_EQUAL(addr_str(&s.dst, ab), i ? "230.4.4.2:1045" : "230.4.4.1:1045");
        struct uftp_hdr got;
        CU_ASSERT_FATAL(uftp_hdr_decode(&got, s.buf, s.len) >= 0);
        CU_ASSERT_EQUAL(got.version, UFTP_VER4);
        CU_ASSERT_EQUAL(got.func, PROXY_KEY);
        CU_ASSERT_EQUAL(got.src_id, 0x0A000201);
        CU_ASSERT_EQUAL(got.group_id, 0);
        struct crypto_key *gs = NULL, *gd = NULL;
        CU_ASSERT_EQUAL(
            skeys_proxy4_key(s.buf + UFTP_HDR_LEN, s.len - UFTP_HDR_LEN, NULL, 0, &gs, &gd),
            CRYPTO_OK);
        size_t l1, l2;
        const uint8_t *b1 = crypto_key_blob(dh, &l1);
        const uint8_t *b2 = gd ? crypto_key_blob(gd, &l2) : NULL;
        CU_ASSERT_FATAL(b2 != NULL && l1 == l2);
        CU_ASSERT_EQUAL(memcmp(b1, b2, l1), 0);
        crypto_key_free(gs);
        crypto_key_free(gd);
    }
    CU_ASSERT_EQUAL(next_send(p, 2000000, &s), 0);
    /* within 5 s: nothing more (spec §6 item 10); a v5 KEY_REQ: dropped */
    proxy_recv(p, &cl, NULL, b, n, 0, 6900000);
    CU_ASSERT_EQUAL(next_send(p, 6900000, &s), 0);
    b[0] = UFTP_VER5;
    proxy_recv(p, &cl, NULL, b, n, 0, 8000000);
    CU_ASSERT_EQUAL(next_send(p, 8000000, &s), 0);
    b[0] = UFTP_VER4;
    proxy_recv(p, &cl, NULL, b, n, 0, 8000000);
    CU_ASSERT_EQUAL(next_send(p, 8000000, &s), ENG_SEND);
    proxy_free(p);
    /* a client proxy has no long-lived key: KEY_REQ is dropped */
    c.role = PROXY_CLIENT;
    c.dh4 = NULL;
    CU_ASSERT_EQUAL_FATAL(proxy_new(&p, &c, &e), 0);
    drain(p, 1000);
    proxy_recv(p, &cl, NULL, b, n, 0, 2000000);
    CU_ASSERT_EQUAL(next_send(p, 2000000, &s), 0);
    proxy_free(p);
    crypto_key_free(dh);
}

static void test_zz_cleanup(void)
{
    cleanup();
}

static const struct cu_test engine_tests[] = {
    {"fp mode: challenge, bad signature, wrong fingerprint, replay, address change",
     test_hb_challenge},
    {"heartbeat signature checks are budgeted", test_hb_budget},
    {"heartbeat sending, fixed downstream", test_hb_fixed_and_sending},
    {"client proxy: REGISTER and STATUS aggregated, server traffic forwarded",
     test_client_aggregation},
    {"limits: full session table, too many clients; shutdown", test_limits},
    {"stacked proxies: lists from --downstream only, re-aggregated; the lower sends to the upper",
     test_stacked},
    {"stacked proxies, AES-256-GCM: the lower keyed by the upper (CLIENT_KEY, unicast KEYINFO)",
     test_stacked_enc},
    {"stacked proxies, AES-256-GCM: a downstream proxy's fingerprint differs: refused",
     test_stacked_enc_refused},
    {"configuration refusals", test_config},
    {"response proxy: KEY_REQ answered by a v4 PROXY_KEY, rate-limited", test_key_req},
    {"(free the keys)", test_zz_cleanup},
    {NULL, NULL},
};

CU_MAIN({"proxy/engine", engine_tests})
