/*
 * Session keys (core/crypto/skeys.c): the whole v5 exchange between the
 * server and client roles for every cipher, hash, curve and signing key;
 * a known-answer run of the same API against vectors/keysched5.txt (whose
 * values the 5.0.1 reference's own functions produced); the 5.0.1
 * capture's ANNOUNCE and KEYINFO signatures; every single-bit flip of
 * ENCRYPTED datagrams, KEYINFO and ANNOUNCE refused; replays, usage and
 * forgery limits, fingerprints, state errors.
 */
#include <stdlib.h>

#include "core/crypto/aead.h"
#include "core/crypto/crypto.h"
#include "core/crypto/fp.h"
#include "core/crypto/keyblob.h"
#include "core/crypto/keyfile.h"
#include "core/crypto/sig.h"
#include "core/crypto/skeys.h"
#include "core/proto/keysched.h"
#include "core/wire/buf.h"
#include "core/wire/msg.h"
#include "core/wire/proxykey.h"
#include "core/wire/wire.h"
#include "cu.h"
#include "tv.h"

#define VDIR "tests/unit/crypto/vectors/"

static struct crypto_key *loadkey(const char *file)
{
    char path[256];
    snprintf(path, sizeof(path), VDIR "keys/%s", file);
    struct crypto_key *k = NULL;
    CU_ASSERT_EQUAL(keyfile_read(cu_srcpath(path), &k), CRYPTO_OK);
    return k;
}

static uint64_t num(const struct tv_case *c, const char *name)
{
    return strtoull(tv_get(c, name), NULL, 16);
}

static bool has(const struct tv_case *c, const char *name)
{
    for (size_t i = 0; i < c->n; i++)
        if (!strcmp(c->e[i].name, name))
            return true;
    return false;
}

#define CHECK(name, p, n) CU_ASSERT_TRUE(tv_eq((p), (n), tv_get(c, (name))))

/* ------------------------------------------------------------ helpers */

static void put_hdr(uint8_t *dg, uint8_t func, uint16_t seq, uint32_t src, uint32_t group,
                    uint8_t inst)
{
    struct uftp_hdr h = {.version = UFTP_VER5,
                         .func = func,
                         .seq = seq,
                         .src_id = src,
                         .group_id = group,
                         .group_inst = inst,
                         .grtt = 0x9d,
                         .gsize = 0x18};
    uftp_hdr_encode(dg, UFTP_HDR_LEN, &h);
}

/* A signed ANNOUNCE datagram (closed group listing `ids`). */
static size_t make_announce(struct skeys_server *s, uint8_t *dg, size_t cap, uint32_t server,
                            uint32_t group, uint8_t inst, const uint32_t *ids, size_t nids)
{
    struct wire_announce a;
    memset(&a, 0, sizeof(a));
    a.ver = UFTP_VER5;
    a.robust = 20;
    a.blocksize = 1300;
    a.tstamp = UINT64_C(1700000000000000);
    a.pub_addr[0] = 230;
    a.priv_addr[0] = 230;
    a.has_enc = true;
    a.enc = *skeys_server_enc_info(s);
    a.ids = wire_ids_of(ids, nids);
    put_hdr(dg, ANNOUNCE, 0, server, group, inst);
    ssize_t n = wire_announce_encode(dg + UFTP_HDR_LEN, cap - UFTP_HDR_LEN, &a);
    CU_ASSERT_FATAL(n > 0);
    size_t len = UFTP_HDR_LEN + (size_t)n;
    CU_ASSERT_EQUAL_FATAL(skeys_server_sign_announce(s, dg, len), CRYPTO_OK);
    return len;
}

/* Decodes an ANNOUNCE datagram (pointers into dg). */
static bool decode_announce(const uint8_t *dg, size_t len, struct wire_announce *a)
{
    memset(a, 0, sizeof(*a));
    a->ver = UFTP_VER5;
    return wire_announce_decode(a, dg + UFTP_HDR_LEN, len - UFTP_HDR_LEN) > 0 && a->has_enc;
}

/* A signed KEYINFO datagram with one entry per peer. */
static size_t make_keyinfo(struct skeys_server *s, struct skeys_peer **peers, const uint32_t *ids,
                           size_t n, uint8_t *dg, size_t cap, uint32_t server, uint32_t group,
                           uint8_t inst)
{
    static struct wire_destkey keys[64];
    uint64_t ctr;
    CU_ASSERT_EQUAL_FATAL(skeys_server_keyinfo_ctr(s, &ctr), CRYPTO_OK);
    for (size_t i = 0; i < n; i++) {
        keys[i].id = ids[i];
        CU_ASSERT_EQUAL_FATAL(skeys_server_wrap(s, peers[i], ctr, keys[i].master), CRYPTO_OK);
    }
    struct wire_keyinfo k = {.ver = UFTP_VER5,
                             .iv_ctr = ctr,
                             .sig = NULL,
                             .siglen = (uint16_t)skeys_server_siglen(s),
                             .keys = {.host = keys, .n = n}};
    put_hdr(dg, KEYINFO, 1, server, group, inst);
    ssize_t m = wire_keyinfo_encode(dg + UFTP_HDR_LEN, cap - UFTP_HDR_LEN, &k);
    CU_ASSERT_FATAL(m > 0);
    size_t len = UFTP_HDR_LEN + (size_t)m;
    CU_ASSERT_EQUAL_FATAL(skeys_server_sign_keyinfo(s, dg, len), CRYPTO_OK);
    return len;
}

static bool decode_keyinfo(const uint8_t *dg, size_t len, struct wire_keyinfo *k)
{
    memset(k, 0, sizeof(*k));
    k->ver = UFTP_VER5;
    return wire_keyinfo_decode(k, dg + UFTP_HDR_LEN, len - UFTP_HDR_LEN) > 0;
}

/* A message at SKEYS_MSG_OFF, sealed. */
static size_t seal_msg(struct skeys_dir *d, uint64_t *ctr, uint8_t *dg, size_t cap, uint8_t func,
                       uint32_t src, const uint8_t *msg, size_t mlen)
{
    put_hdr(dg, func, 7, src, 0x11223344, 0);
    memcpy(dg + SKEYS_MSG_OFF, msg, mlen);
    ssize_t n = skeys_seal(d, ctr, dg, mlen, cap);
    CU_ASSERT_FATAL(n > 0);
    return (size_t)n;
}

/* ------------------------------------------------------------ a session */

struct sess {
    struct crypto_key *srvkey, *clikey;
    struct skeys_server *srv;
    struct skeys_client *cli;
    struct skeys_peer *peer;
    uint8_t ann[2048];
    size_t annlen;
};

#define GROUP  0x11223344u
#define SERVER 0x0a000001u
#define CLIENT 0x0a000002u

/* Runs the exchange up to keyed; false (with asserts) on failure. */
static bool sess_run(struct sess *x, int keytype, int hashtype, int curve,
                     struct crypto_key *srvkey, struct crypto_key *clikey, bool auth)
{
    memset(x, 0, sizeof(*x));
    struct skeys_server_cfg sc = {.keytype = keytype,
                                  .hashtype = hashtype,
                                  .curve = curve,
                                  .client_auth = auth,
                                  .sigkey = srvkey,
                                  .group_id = GROUP,
                                  .group_inst = 0,
                                  .server_id = SERVER};
    crypto_random(sc.rand1, sizeof(sc.rand1));
    crypto_random(sc.group_master, sizeof(sc.group_master));
    if (skeys_server_new(&x->srv, &sc) != CRYPTO_OK)
        return false;
    uint32_t ids[1] = {CLIENT};
    x->annlen = make_announce(x->srv, x->ann, sizeof(x->ann), SERVER, GROUP, 0, ids, 1);
    struct wire_announce a;
    if (!decode_announce(x->ann, x->annlen, &a))
        return false;
    struct skeys_client_cfg cc = {
        .group_id = GROUP, .server_id = SERVER, .client_id = CLIENT, .sigkey = clikey};
    crypto_random(cc.rand2, sizeof(cc.rand2));
    if (skeys_client_new(&x->cli, &cc, &a.enc, x->ann, x->annlen) != CRYPTO_OK)
        return false;
    CU_ASSERT_EQUAL(skeys_client_auth(x->cli), auth);
    if (skeys_client_handshake(x->cli) != CRYPTO_OK)
        return false;
    size_t dl;
    const uint8_t *dh = skeys_client_dh(x->cli, &dl);
    if (skeys_server_register(x->srv, CLIENT, dh, dl, cc.rand2, &x->peer) != CRYPTO_OK)
        return false;
    CU_ASSERT_EQUAL(skeys_peer_keyed(x->peer), !auth);
    uint8_t dg[4096], scratch[4096];
    if (auth) {
        size_t cl;
        const uint8_t *ck = skeys_client_client_key(x->cli, &cl);
        CU_ASSERT_PTR_NOT_NULL_FATAL(ck);
        size_t n = seal_msg(skeys_client_hs_tx(x->cli), skeys_client_ctr(x->cli), dg, sizeof(dg),
                            CLIENT_KEY, CLIENT, ck, cl);
        const uint8_t *m;
        size_t ml;
        bool hs = false;
        CU_ASSERT_EQUAL_FATAL(skeys_peer_open(x->peer, true, dg, n, scratch, &m, &ml, &hs),
                              CRYPTO_OK);
        CU_ASSERT_TRUE(hs);
        CU_ASSERT_EQUAL(ml, cl);
        size_t kl;
        const uint8_t *blob = crypto_key_blob(clikey, &kl);
        uint8_t fp[FP_LEN];
        fp_compute(blob, kl, fp);
        /* Under client auth only a valid CLIENT_KEY keys the peer. */
        CU_ASSERT_FALSE(skeys_peer_keyed(x->peer));
        if (skeys_server_client_key(x->srv, x->peer, m, ml, fp, FP_LEN) != CRYPTO_OK)
            return false;
        CU_ASSERT_TRUE(skeys_peer_keyed(x->peer));
    }
    struct skeys_peer *peers[1] = {x->peer};
    size_t kl = make_keyinfo(x->srv, peers, ids, 1, dg, sizeof(dg), SERVER, GROUP, 0);
    struct wire_keyinfo k;
    if (!decode_keyinfo(dg, kl, &k))
        return false;
    if (skeys_client_keyinfo(x->cli, dg, kl, &k) != CRYPTO_OK)
        return false;
    size_t vl;
    const uint8_t *v = skeys_client_verify_data(x->cli, &vl);
    CU_ASSERT_EQUAL(vl, crypto_hash_len(hashtype));
    CU_ASSERT_TRUE(skeys_peer_verify(x->peer, v, vl));
    return true;
}

static void sess_free(struct sess *x)
{
    skeys_peer_free(x->peer);
    skeys_server_free(x->srv);
    skeys_client_free(x->cli);
}

/* Both directions carry messages once keyed. */
static void check_traffic(struct sess *x)
{
    uint8_t dg[9100], scratch[9100], msg[8820];
    for (size_t i = 0; i < sizeof(msg); i++)
        msg[i] = (uint8_t)(i * 7);
    for (size_t len = 1; len <= sizeof(msg); len += 1763) {
        size_t n = seal_msg(skeys_server_tx(x->srv), skeys_server_ctr(x->srv), dg, sizeof(dg),
                            FILESEG, SERVER, msg, len);
        CU_ASSERT_EQUAL(n, SKEYS_MSG_OFF + len + AEAD_TAG_LEN);
        CU_ASSERT_EQUAL(dg[1], ENCRYPTED);
        const uint8_t *m;
        size_t ml;
        CU_ASSERT_EQUAL_FATAL(skeys_client_open(x->cli, dg, n, &m, &ml), CRYPTO_OK);
        CU_ASSERT_TRUE(ml == len && memcmp(m, msg, len) == 0);
        n = seal_msg(skeys_client_app_tx(x->cli), skeys_client_ctr(x->cli), dg, sizeof(dg), STATUS,
                     CLIENT, msg, len);
        bool hs = true;
        CU_ASSERT_EQUAL_FATAL(skeys_peer_open(x->peer, true, dg, n, scratch, &m, &ml, &hs),
                              CRYPTO_OK);
        CU_ASSERT_FALSE(hs);
        CU_ASSERT_TRUE(ml == len && memcmp(m, msg, len) == 0);
    }
}

static void test_matrix(void)
{
    struct crypto_key *ec = loadkey("ec256_a.pem"), *rsa = loadkey("rsa2048.pem"),
                      *cec = loadkey("ec384_b.pem"), *crsa = loadkey("rsa1024.pem");
    static const int curves[] = {CURVE_P256, CURVE_P384, CURVE_P521};
    int runs = 0;
    for (int kt = KEY_AES128_GCM; kt <= KEY_AES256_CCM; kt++)
        for (int ht = HASH_SHA256; ht <= HASH_SHA512; ht++)
            for (int ci = 0; ci < 3; ci++)
                for (int sk = 0; sk < 2; sk++)
                    for (int auth = 0; auth < 2; auth++) {
                        struct sess x;
                        bool ok =
                            sess_run(&x, kt, ht, curves[ci], sk ? rsa : ec, sk ? cec : crsa, auth);
                        CU_ASSERT_TRUE(ok);
                        if (!ok)
                            fprintf(stderr, "\n  failed: key %d hash %d curve %d rsa %d auth %d\n",
                                    kt, ht, curves[ci], sk, auth);
                        else
                            check_traffic(&x);
                        sess_free(&x);
                        runs++;
                    }
    CU_ASSERT_EQUAL(runs, 144);
    crypto_key_free(ec);
    crypto_key_free(rsa);
    crypto_key_free(cec);
    crypto_key_free(crsa);
}

/* ------------------------------------------------------------ known answers */

/* The signing key among the vector keys whose blob is blob. */
static struct crypto_key *key_by_blob(const uint8_t *blob, size_t len)
{
    static const char *const files[] = {"ec256_a.pem", "ec256_b.pem", "ec384_a.pem", "ec384_b.pem",
                                        "ec521_a.pem", "ec521_b.pem", "rsa1024.pem", "rsa2048.pem"};
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        struct crypto_key *k = loadkey(files[i]);
        size_t kl;
        const uint8_t *b = crypto_key_blob(k, &kl);
        if (kl == len && memcmp(b, blob, len) == 0)
            return k;
        crypto_key_free(k);
    }
    return NULL;
}

static void run_kat(const struct tv_case *c)
{
    static uint8_t ext[2048], ck[2048], dg[4096], msg[512], scratch[4096];
    int hash = (int)num(c, "hash"), key = (int)num(c, "key");
    uint32_t group = (uint32_t)num(c, "group_id"), server = (uint32_t)num(c, "server_id"),
             client = (uint32_t)num(c, "client_id");
    uint8_t inst = (uint8_t)num(c, "group_inst");
    long el = tv_bytes(c, "enc_info", ext, sizeof(ext));
    struct wire_enc_info e = {.ver = UFTP_VER5};
    CU_ASSERT_FATAL(wire_enc_info_decode(&e, ext, (size_t)el) == el);
    struct crypto_key *srvkey = key_by_blob(e.keyblob, e.keylen);
    CU_ASSERT_PTR_NOT_NULL_FATAL(srvkey);
    char path[128];
    snprintf(path, sizeof(path), "%s", tv_get(c, "peer_ecdh_file") + 5);
    struct crypto_key *sdh = loadkey(path);
    snprintf(path, sizeof(path), "%s", tv_get(c, "client_ecdh_file") + 5);
    struct crypto_key *cdh = loadkey(path);
    struct crypto_key *clikey = NULL;
    bool auth = has(c, "client_key");
    if (auth) {
        long ckl = tv_bytes(c, "client_key", ck, sizeof(ck));
        struct wire_client_key m = {.ver = UFTP_VER5};
        CU_ASSERT_FATAL(wire_client_key_decode(&m, ck, (size_t)ckl) == ckl);
        clikey = key_by_blob(m.keyblob, m.keylen);
        CU_ASSERT_PTR_NOT_NULL_FATAL(clikey);
    }

    /* Server: with the vector's ECDH key, rand1 and group master. */
    struct skeys_server_cfg sc = {.keytype = key,
                                  .hashtype = hash,
                                  .curve = crypto_key_curve(sdh),
                                  .client_auth = auth,
                                  .sigkey = srvkey,
                                  .group_id = group,
                                  .group_inst = inst,
                                  .server_id = server,
                                  .dh = sdh};
    memcpy(sc.rand1, e.rand1, 32);
    tv_bytes(c, "group_master", sc.group_master, 32);
    struct skeys_server *s;
    CU_ASSERT_EQUAL_FATAL(skeys_server_new(&s, &sc), CRYPTO_OK);
    /* Our EXT_ENC_INFO is the vector's, signature zeroed: hence the same S_ctx. */
    uint8_t mine[2048];
    ssize_t ml = wire_enc_info_encode(mine, sizeof(mine), skeys_server_enc_info(s));
    memset(ext + 44 + e.keylen + e.dhlen, 0, e.siglen);
    CU_ASSERT_TRUE(ml == el && memcmp(mine, ext, (size_t)el) == 0);

    /* Client: our ANNOUNCE (any signature gives the same S_ctx), the vector's ECDH key. */
    size_t al = make_announce(s, dg, sizeof(dg), server, group, inst, &client, 1);
    struct wire_announce a;
    CU_ASSERT_TRUE_FATAL(decode_announce(dg, al, &a));
    struct skeys_client_cfg cc = {.group_id = group,
                                  .group_inst = inst,
                                  .server_id = server,
                                  .client_id = client,
                                  .sigkey = clikey};
    tv_bytes(c, "rand2", cc.rand2, 32);
    struct skeys_client *cl;
    CU_ASSERT_EQUAL_FATAL(skeys_client_new(&cl, &cc, &a.enc, dg, al), CRYPTO_OK);
    skeys_client_set_dh(cl, cdh);
    CU_ASSERT_EQUAL_FATAL(skeys_client_handshake(cl), CRYPTO_OK);
    size_t dl;
    const uint8_t *dh = skeys_client_dh(cl, &dl);
    struct skeys_peer *p;
    CU_ASSERT_EQUAL_FATAL(skeys_server_register(s, client, dh, dl, cc.rand2, &p), CRYPTO_OK);
    if (auth) {
        size_t kl;
        const uint8_t *k = skeys_client_client_key(cl, &kl);
        /* Our CLIENT_KEY header is the vector's but for the (random ECDSA) signature. */
        long ckl = tv_bytes(c, "client_key", ck, sizeof(ck));
        CU_ASSERT_EQUAL(kl, (size_t)ckl);
        size_t sigoff = 8 + be16_get(ck + 4);
        CU_ASSERT_EQUAL(memcmp(k, ck, sigoff), 0);
        size_t n = seal_msg(skeys_client_hs_tx(cl), skeys_client_ctr(cl), dg, sizeof(dg),
                            CLIENT_KEY, client, k, kl);
        const uint8_t *m;
        size_t mlen;
        bool hs;
        CU_ASSERT_EQUAL_FATAL(skeys_peer_open(p, true, dg, n, scratch, &m, &mlen, &hs), CRYPTO_OK);
        CU_ASSERT_TRUE(hs);
        CU_ASSERT_EQUAL_FATAL(skeys_server_client_key(s, p, m, mlen, NULL, 0), CRYPTO_OK);
    }
    /* KEYINFO with the vector's counter: the wrapped group master is the vector's. */
    *skeys_server_ctr(s) = num(c, "keyinfo_ctr") - 1;
    uint64_t kctr;
    CU_ASSERT_EQUAL(skeys_server_keyinfo_ctr(s, &kctr), CRYPTO_OK);
    uint8_t gme[KS5_GM_ENC_LEN];
    CU_ASSERT_EQUAL(skeys_server_wrap(s, p, kctr, gme), CRYPTO_OK);
    CHECK("gm_enc", gme, sizeof(gme));
    *skeys_server_ctr(s) = kctr - 1;
    struct skeys_peer *peers[1] = {p};
    size_t kl = make_keyinfo(s, peers, &client, 1, dg, sizeof(dg), server, group, inst);
    struct wire_keyinfo k;
    CU_ASSERT_TRUE_FATAL(decode_keyinfo(dg, kl, &k));
    CU_ASSERT_EQUAL(k.iv_ctr, kctr);
    CU_ASSERT_EQUAL_FATAL(skeys_client_keyinfo(cl, dg, kl, &k), CRYPTO_OK);
    size_t vl;
    const uint8_t *v = skeys_client_verify_data(cl, &vl);
    CHECK("verify_data", v, vl);
    CU_ASSERT_TRUE(skeys_peer_verify(p, v, vl));

    /* The server's datagram, byte for byte, and the client opens it. */
    uint8_t hdr[16];
    tv_bytes(c, "server_hdr", hdr, sizeof(hdr));
    long mlen = tv_bytes(c, "server_msg", msg, sizeof(msg));
    memcpy(dg, hdr, 16);
    memcpy(dg + SKEYS_MSG_OFF, msg, (size_t)mlen);
    *skeys_server_ctr(s) = num(c, "server_ctr") - 1;
    ssize_t n = skeys_seal(skeys_server_tx(s), skeys_server_ctr(s), dg, (size_t)mlen, sizeof(dg));
    CU_ASSERT_FATAL(n > 0);
    CHECK("server_packet", dg, (size_t)n);
    const uint8_t *m;
    size_t got;
    CU_ASSERT_EQUAL(skeys_client_open(cl, dg, (size_t)n, &m, &got), CRYPTO_OK);
    CU_ASSERT_TRUE(got == (size_t)mlen && memcmp(m, msg, got) == 0);

    /* The client's KEYINFO_ACK, byte for byte, and the server opens it. */
    tv_bytes(c, "client_hdr", hdr, sizeof(hdr));
    uint8_t ack[4 + CRYPTO_HASH_MAX] = {KEYINFO_ACK, (uint8_t)((4 + vl) / 4)};
    be16_put(ack + 2, (uint16_t)vl);
    memcpy(ack + 4, v, vl);
    memcpy(dg, hdr, 16);
    memcpy(dg + SKEYS_MSG_OFF, ack, 4 + vl);
    *skeys_client_ctr(cl) = num(c, "client_ctr") - 1;
    n = skeys_seal(skeys_client_app_tx(cl), skeys_client_ctr(cl), dg, 4 + vl, sizeof(dg));
    CU_ASSERT_FATAL(n > 0);
    CHECK("client_packet", dg, (size_t)n);
    bool hs;
    CU_ASSERT_EQUAL(skeys_peer_open(p, true, dg, (size_t)n, scratch, &m, &got, &hs), CRYPTO_OK);
    CU_ASSERT_TRUE(got == 4 + vl && memcmp(m, ack, got) == 0 && !hs);

    skeys_peer_free(p);
    skeys_server_free(s);
    skeys_client_free(cl);
    crypto_key_free(srvkey);
    crypto_key_free(clikey);
}

/*
 * The proxy case (spec §1.8 "Proxy re-keying") from the client's side: the
 * server's ANNOUNCE, the proxy's PROXY_KEY (signed here with the vector's
 * proxy key), the key exchange with the proxy's ECDH key and P_ctx, a
 * KEYINFO signed by the proxy: verify data, datagrams byte for byte.
 */
static void run_kat_proxy(const struct tv_case *c)
{
    static uint8_t ext[2048], pk[2048], dg[4096], msg[512], sctx[KEYSCHED_S_CTX_MAX],
        pctx[KEYSCHED_P_CTX_MAX];
    int hash = (int)num(c, "hash"), key = (int)num(c, "key");
    uint32_t group = (uint32_t)num(c, "group_id"), server = (uint32_t)num(c, "server_id"),
             client = (uint32_t)num(c, "client_id"), proxy = (uint32_t)num(c, "proxy_id");
    uint8_t inst = (uint8_t)num(c, "group_inst");
    long el = tv_bytes(c, "enc_info", ext, sizeof(ext));
    struct wire_enc_info e = {.ver = UFTP_VER5};
    CU_ASSERT_FATAL(wire_enc_info_decode(&e, ext, (size_t)el) == el);
    struct crypto_key *srvkey = key_by_blob(e.keyblob, e.keylen);
    struct crypto_key *srvdh = key_by_blob(e.dhblob, e.dhlen);
    char path[128];
    snprintf(path, sizeof(path), "%s", tv_get(c, "client_ecdh_file") + 5);
    struct crypto_key *cdh = loadkey(path);
    long pkl = tv_bytes(c, "proxy_key", pk, sizeof(pk));
    struct wire_proxy_key pm = {.ver = UFTP_VER5};
    CU_ASSERT_FATAL(wire_proxy_key_decode(&pm, pk, (size_t)pkl) == pkl);
    struct crypto_key *pxkey = key_by_blob(pm.keyblob, pm.keylen);
    uint8_t ck[2048];
    long ckl = tv_bytes(c, "client_key", ck, sizeof(ck));
    struct wire_client_key cm = {.ver = UFTP_VER5};
    CU_ASSERT_FATAL(wire_client_key_decode(&cm, ck, (size_t)ckl) == ckl);
    struct crypto_key *clikey = key_by_blob(cm.keyblob, cm.keylen);
    CU_ASSERT_FATAL(srvkey && srvdh && pxkey && clikey);

    /* The server's ANNOUNCE, with its vector ECDH key, so S_ctx is the vector's. */
    struct skeys_server_cfg sc = {.keytype = key,
                                  .hashtype = hash,
                                  .curve = crypto_key_curve(srvdh),
                                  .client_auth = true,
                                  .sigkey = srvkey,
                                  .group_id = group,
                                  .group_inst = inst,
                                  .server_id = server,
                                  .dh = srvdh};
    memcpy(sc.rand1, e.rand1, 32);
    struct skeys_server *s;
    CU_ASSERT_EQUAL_FATAL(skeys_server_new(&s, &sc), CRYPTO_OK);
    size_t al = make_announce(s, dg, sizeof(dg), server, group, inst, &client, 1);
    struct wire_announce a;
    CU_ASSERT_TRUE_FATAL(decode_announce(dg, al, &a));
    struct skeys_client_cfg cc = {.group_id = group,
                                  .group_inst = inst,
                                  .server_id = server,
                                  .client_id = client,
                                  .sigkey = clikey};
    tv_bytes(c, "rand2", cc.rand2, 32);
    struct skeys_client *cl;
    CU_ASSERT_EQUAL_FATAL(skeys_client_new(&cl, &cc, &a.enc, dg, al), CRYPTO_OK);

    /* PROXY_KEY: signed over "UFTP 5, PROXY_KEY" || S_ctx || P_ctx. */
    ssize_t sl = keysched_s_ctx(sctx, sizeof(sctx), group, inst, server, ext, (size_t)el);
    ssize_t pl = keysched_p_ctx(pctx, sizeof(pctx), proxy, pk, (size_t)pk[1] * 4);
    CU_ASSERT_FATAL(sl > 0 && pl > 0);
    CHECK("p_ctx", pctx, (size_t)pl);
    static const char ppfx[] = KEYSCHED_SIG_PROXY_KEY;
    struct crypto_iov v[3] = {{ppfx, 17}, {sctx, (size_t)sl}, {pctx, (size_t)pl}};
    uint8_t *psig = pk + (pm.sig - pk);
    CU_ASSERT_EQUAL_FATAL(sig_sign(pxkey, hash, v, 3, psig, pm.siglen), (int)pm.siglen);
    uint8_t pfp[FP_LEN], wrong[FP_LEN] = {0};
    fp_compute(pm.keyblob, pm.keylen, pfp);
    /* The -R fingerprint and the signature are checked. */
    CU_ASSERT_EQUAL(skeys_client_proxy_key(cl, proxy, pk, (size_t)pkl, wrong, FP_LEN), SKEYS_EFP);
    psig[5] ^= 1;
    CU_ASSERT_EQUAL(skeys_client_proxy_key(cl, proxy, pk, (size_t)pkl, pfp, FP_LEN), CRYPTO_ESIG);
    psig[5] ^= 1;
    CU_ASSERT_EQUAL(skeys_client_proxy_key(cl, proxy + 1, pk, (size_t)pkl, pfp, FP_LEN),
                    CRYPTO_ESIG); /* P_ctx holds the proxy ID */
    CU_ASSERT_EQUAL_FATAL(skeys_client_proxy_key(cl, proxy, pk, (size_t)pkl, pfp, FP_LEN),
                          CRYPTO_OK);
    CU_ASSERT_EQUAL(skeys_client_proxy_key(cl, proxy, pk, (size_t)pkl, pfp, FP_LEN), SKEYS_ESTATE);
    skeys_client_set_dh(cl, cdh);
    CU_ASSERT_EQUAL_FATAL(skeys_client_handshake(cl), CRYPTO_OK);
    size_t kl;
    const uint8_t *k = skeys_client_client_key(cl, &kl);
    CU_ASSERT_TRUE(kl == (size_t)ckl && memcmp(k, ck, 8 + cm.keylen) == 0);

    /* The proxy's KEYINFO: the vector's entry, signed by the proxy with P_ctx. */
    struct wire_destkey dk = {.id = client};
    tv_bytes(c, "gm_enc", dk.master, sizeof(dk.master));
    struct wire_keyinfo ki = {.ver = UFTP_VER5,
                              .iv_ctr = num(c, "keyinfo_ctr"),
                              .siglen = pm.siglen,
                              .keys = {.host = &dk, .n = 1}};
    put_hdr(dg, KEYINFO, 0, proxy, group, inst);
    ssize_t n = wire_keyinfo_encode(dg + UFTP_HDR_LEN, sizeof(dg) - UFTP_HDR_LEN, &ki);
    CU_ASSERT_FATAL(n > 0);
    size_t len = UFTP_HDR_LEN + (size_t)n;
    static const char kpfx[] = KEYSCHED_SIG_KEYINFO;
    struct crypto_iov kv[4] = {{kpfx, 15}, {sctx, (size_t)sl}, {pctx, (size_t)pl}, {dg, len}};
    CU_ASSERT_EQUAL_FATAL(sig_sign(pxkey, hash, kv, 4, dg + 28, pm.siglen), (int)pm.siglen);
    struct wire_keyinfo kd;
    CU_ASSERT_TRUE_FATAL(decode_keyinfo(dg, len, &kd));
    CU_ASSERT_EQUAL_FATAL(skeys_client_keyinfo(cl, dg, len, &kd), CRYPTO_OK);
    size_t vl;
    const uint8_t *vd = skeys_client_verify_data(cl, &vl);
    CHECK("verify_data", vd, vl);

    /* The server's datagram opens; our KEYINFO_ACK is the vector's, byte for byte. */
    long pkt = tv_bytes(c, "server_packet", dg, sizeof(dg));
    const uint8_t *m;
    size_t got;
    CU_ASSERT_EQUAL(skeys_client_open(cl, dg, (size_t)pkt, &m, &got), CRYPTO_OK);
    long ml = tv_bytes(c, "server_msg", msg, sizeof(msg));
    CU_ASSERT_TRUE(got == (size_t)ml && memcmp(m, msg, got) == 0);
    uint8_t hdr[16];
    tv_bytes(c, "client_hdr", hdr, sizeof(hdr));
    uint8_t ack[4 + CRYPTO_HASH_MAX] = {KEYINFO_ACK, (uint8_t)((4 + vl) / 4)};
    be16_put(ack + 2, (uint16_t)vl);
    memcpy(ack + 4, vd, vl);
    memcpy(dg, hdr, 16);
    memcpy(dg + SKEYS_MSG_OFF, ack, 4 + vl);
    *skeys_client_ctr(cl) = num(c, "client_ctr") - 1;
    n = skeys_seal(skeys_client_app_tx(cl), skeys_client_ctr(cl), dg, 4 + vl, sizeof(dg));
    CU_ASSERT_FATAL(n > 0);
    CHECK("client_packet", dg, (size_t)n);

    skeys_server_free(s);
    skeys_client_free(cl);
    crypto_key_free(srvkey);
    crypto_key_free(pxkey);
    crypto_key_free(clikey);
}

static void test_vectors(void)
{
    struct tv_file f;
    CU_ASSERT_TRUE_FATAL(tv_load(&f, VDIR "keysched5.txt"));
    size_t ran = 0, proxy = 0;
    for (size_t i = 0; i < f.n; i++) {
        if (has(&f.c[i], "proxy_key")) {
            run_kat_proxy(&f.c[i]);
            proxy++;
        } else {
            run_kat(&f.c[i]);
            ran++;
        }
    }
    CU_ASSERT_TRUE(ran == 3 && proxy == 1);
    tv_free(&f);
}

/* The 5.0.1 capture: its ANNOUNCE and KEYINFO signatures check out, any flipped bit does not. */
static void test_capture(void)
{
    struct tv_file f;
    CU_ASSERT_TRUE_FATAL(tv_load(&f, VDIR "captures.txt"));
    const struct tv_case *c = &f.c[0];
    CU_ASSERT_STRING_EQUAL(c->title, "uftp5-aes256gcm");
    uint8_t ann[1024], ki[1024];
    long al = tv_bytes(c, "announce", ann, sizeof(ann));
    long kl = tv_bytes(c, "keyinfo", ki, sizeof(ki));
    struct wire_announce a;
    CU_ASSERT_TRUE_FATAL(decode_announce(ann, (size_t)al, &a));
    struct skeys_client_cfg cc = {.group_id = be32_get(ann + 8),
                                  .group_inst = ann[12],
                                  .server_id = be32_get(ann + 4),
                                  .client_id = 0x0a4d010b};
    struct skeys_client *cl;
    CU_ASSERT_EQUAL_FATAL(skeys_client_new(&cl, &cc, &a.enc, ann, (size_t)al), CRYPTO_OK);
    /* The datagram is unchanged after verifying. */
    uint8_t copy[1024];
    tv_bytes(c, "announce", copy, sizeof(copy));
    CU_ASSERT_EQUAL(memcmp(copy, ann, (size_t)al), 0);
    struct wire_keyinfo k;
    CU_ASSERT_TRUE_FATAL(decode_keyinfo(ki, (size_t)kl, &k));
    CU_ASSERT_EQUAL(skeys_client_keyinfo_verify(cl, ki, (size_t)kl, &k), CRYPTO_OK);
    /* Its counter is now recorded: the same KEYINFO again is a replay. */
    CU_ASSERT_EQUAL(skeys_client_keyinfo_verify(cl, ki, (size_t)kl, &k), SKEYS_EREPLAY);
    skeys_client_free(cl);

    /* Every bit of the ANNOUNCE matters (a flip that breaks decoding is refused too). */
    int refused = 0;
    for (size_t bit = 0; bit < (size_t)al * 8; bit++) {
        tv_bytes(c, "announce", ann, sizeof(ann));
        ann[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        struct skeys_client *x = NULL;
        if (!decode_announce(ann, (size_t)al, &a) ||
            skeys_client_new(&x, &cc, &a.enc, ann, (size_t)al) != CRYPTO_OK)
            refused++;
        skeys_client_free(x);
    }
    CU_ASSERT_EQUAL(refused, al * 8);
    tv_free(&f);
}

/* ------------------------------------------------------------ negative tests */

/* Every single-bit flip of an ENCRYPTED datagram (FILESEG- and STATUS-sized) is refused. */
static void test_bitflips_encrypted(void)
{
    struct crypto_key *ec = loadkey("ec256_a.pem");
    struct sess x;
    CU_ASSERT_TRUE_FATAL(sess_run(&x, KEY_AES256_GCM, HASH_SHA256, CURVE_P256, ec, NULL, false));
    uint8_t good[1400], dg[1400], scratch[1400], msg[1308];
    memset(msg, 0xa5, sizeof(msg));
    msg[0] = FILESEG;
    size_t n = seal_msg(skeys_server_tx(x.srv), skeys_server_ctr(x.srv), good, sizeof(good),
                        FILESEG, SERVER, msg, sizeof(msg));
    const uint8_t *m;
    size_t ml;
    for (size_t bit = 0; bit < n * 8; bit++) {
        memcpy(dg, good, n);
        dg[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        int rc = skeys_client_open(x.cli, dg, n, &m, &ml);
        if (rc == CRYPTO_OK)
            fprintf(stderr, "\n  FILESEG bit %zu accepted\n", bit);
        CU_ASSERT_NOT_EQUAL(rc, CRYPTO_OK);
    }
    /* Nothing moved the window: the genuine datagram still opens, once. */
    memcpy(dg, good, n);
    CU_ASSERT_EQUAL(skeys_client_open(x.cli, dg, n, &m, &ml), CRYPTO_OK);
    memcpy(dg, good, n);
    CU_ASSERT_EQUAL(skeys_client_open(x.cli, dg, n, &m, &ml), SKEYS_EREPLAY);
    /* Truncated or padded: framing error, no decryption. */
    for (size_t l = 0; l < n; l += 97) {
        memcpy(dg, good, n);
        CU_ASSERT_NOT_EQUAL(skeys_client_open(x.cli, dg, l, &m, &ml), CRYPTO_OK);
    }
    CU_ASSERT_EQUAL(skeys_client_open(x.cli, good, n + 1, &m, &ml), SKEYS_EFRAME);

    /* A STATUS from the client, through the two-key path (hs then app). */
    uint8_t st[12 + 1301] = {STATUS, 3};
    size_t sn = seal_msg(skeys_client_app_tx(x.cli), skeys_client_ctr(x.cli), good, sizeof(good),
                         STATUS, CLIENT, st, sizeof(st));
    bool hs;
    for (size_t bit = 0; bit < sn * 8; bit++) {
        memcpy(dg, good, sn);
        dg[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        CU_ASSERT_NOT_EQUAL(skeys_peer_open(x.peer, true, dg, sn, scratch, &m, &ml, &hs),
                            CRYPTO_OK);
    }
    memcpy(dg, good, sn);
    CU_ASSERT_EQUAL(skeys_peer_open(x.peer, true, dg, sn, scratch, &m, &ml, &hs), CRYPTO_OK);
    CU_ASSERT_EQUAL(skeys_peer_rx(x.peer)->ok, 1);
    sess_free(&x);
    crypto_key_free(ec);
}

/* Every bit of a KEYINFO (header, signature, entries) matters; the client stays unkeyed. */
static void test_bitflips_keyinfo(void)
{
    struct crypto_key *ec = loadkey("ec256_a.pem");
    struct skeys_server_cfg sc = {.keytype = KEY_AES128_GCM,
                                  .hashtype = HASH_SHA256,
                                  .curve = CURVE_P256,
                                  .sigkey = ec,
                                  .group_id = GROUP,
                                  .server_id = SERVER};
    struct skeys_server *s;
    CU_ASSERT_EQUAL_FATAL(skeys_server_new(&s, &sc), CRYPTO_OK);
    uint8_t ann[1024], good[1024], dg[1024];
    uint32_t id = CLIENT;
    size_t al = make_announce(s, ann, sizeof(ann), SERVER, GROUP, 0, &id, 1);
    struct wire_announce a;
    CU_ASSERT_TRUE_FATAL(decode_announce(ann, al, &a));
    struct skeys_client_cfg cc = {.group_id = GROUP, .server_id = SERVER, .client_id = CLIENT};
    struct skeys_client *cl;
    CU_ASSERT_EQUAL_FATAL(skeys_client_new(&cl, &cc, &a.enc, ann, al), CRYPTO_OK);
    CU_ASSERT_EQUAL_FATAL(skeys_client_handshake(cl), CRYPTO_OK);
    size_t dl;
    const uint8_t *dh = skeys_client_dh(cl, &dl);
    struct skeys_peer *p;
    CU_ASSERT_EQUAL_FATAL(skeys_server_register(s, CLIENT, dh, dl, cc.rand2, &p), CRYPTO_OK);
    size_t n = make_keyinfo(s, &p, &id, 1, good, sizeof(good), SERVER, GROUP, 0);
    struct wire_keyinfo k;
    for (size_t bit = 0; bit < n * 8; bit++) {
        memcpy(dg, good, n);
        dg[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        if (decode_keyinfo(dg, n, &k))
            CU_ASSERT_NOT_EQUAL(skeys_client_keyinfo(cl, dg, n, &k), CRYPTO_OK);
        CU_ASSERT_FALSE(skeys_client_keyed(cl));
    }
    memcpy(dg, good, n);
    CU_ASSERT_TRUE_FATAL(decode_keyinfo(dg, n, &k));
    CU_ASSERT_EQUAL(skeys_client_keyinfo(cl, dg, n, &k), CRYPTO_OK);
    CU_ASSERT_TRUE(skeys_client_keyed(cl));
    /* A resend once keyed: verified, and a replay of it refused. */
    CU_ASSERT_EQUAL(skeys_client_keyinfo_verify(cl, dg, n, &k), SKEYS_EREPLAY);
    skeys_peer_free(p);
    skeys_server_free(s);
    skeys_client_free(cl);
    crypto_key_free(ec);
}

static void test_replay_window(void)
{
    struct crypto_key *ec = loadkey("ec256_a.pem");
    struct sess x;
    CU_ASSERT_TRUE_FATAL(sess_run(&x, KEY_AES128_CCM, HASH_SHA384, CURVE_P256, ec, NULL, false));
    static uint8_t pk[3000][80];
    size_t len[3000];
    uint8_t msg[20] = {DONE, 2};
    for (int i = 0; i < 3000; i++)
        len[i] = seal_msg(skeys_server_tx(x.srv), skeys_server_ctr(x.srv), pk[i], sizeof(pk[i]),
                          DONE, SERVER, msg, sizeof(msg));
    const uint8_t *m;
    size_t ml;
    uint8_t dg[80];
    /* Out of order inside the window: all accepted once. */
    for (int i = 2999; i >= 2000; i--) {
        memcpy(dg, pk[i], len[i]);
        CU_ASSERT_EQUAL(skeys_client_open(x.cli, dg, len[i], &m, &ml), CRYPTO_OK);
    }
    for (int i = 2000; i < 3000; i += 17) {
        memcpy(dg, pk[i], len[i]);
        CU_ASSERT_EQUAL(skeys_client_open(x.cli, dg, len[i], &m, &ml), SKEYS_EREPLAY);
    }
    /* Far behind the newest: too old, even though never seen. */
    memcpy(dg, pk[5], len[5]);
    CU_ASSERT_EQUAL(skeys_client_open(x.cli, dg, len[5], &m, &ml), SKEYS_EOLD);
    CU_ASSERT_EQUAL(skeys_client_rx(x.cli)->ok, 1000);
    /* ENCRYPTED's counter, after the header (spec §1.8); KEYINFO took counter 1. */
    CU_ASSERT_EQUAL(pk[7][1], ENCRYPTED);
    CU_ASSERT_EQUAL(be64_get(pk[7] + UFTP_HDR_LEN), 2 + 7);
    sess_free(&x);
    crypto_key_free(ec);
}

static void test_limits(void)
{
    struct crypto_key *ec = loadkey("ec256_a.pem");
    struct sess x;
    CU_ASSERT_TRUE_FATAL(sess_run(&x, KEY_AES256_GCM, HASH_SHA256, CURVE_P256, ec, NULL, false));
    struct skeys_dir *tx = skeys_server_tx(x.srv);
    /* The real limits, in blocks: q * l of aead_limits for the largest datagram. */
    uint64_t q, v;
    aead_limits(KEY_AES256_GCM, UFTP_MAX_DATAGRAM - SKEYS_MSG_OFF - AEAD_TAG_LEN, &q, &v);
    CU_ASSERT_EQUAL(tx->limit, q * skeys_blocks(UFTP_MAX_DATAGRAM - SKEYS_MSG_OFF - 16));
    CU_ASSERT(tx->limit <= UINT64_C(1) << 35 && tx->limit > (UINT64_C(1) << 35) - 600);
    /* Seal up to the limit and not one packet more; the counter is not spent. */
    uint8_t dg[2000], msg[1308] = {FILESEG};
    tx->used = tx->limit - 2 * skeys_blocks(sizeof(msg));
    uint64_t *ctr = skeys_server_ctr(x.srv);
    put_hdr(dg, FILESEG, 1, SERVER, GROUP, 0);
    CU_ASSERT(skeys_seal(tx, ctr, dg, sizeof(msg), sizeof(dg)) > 0);
    CU_ASSERT(skeys_seal(tx, ctr, dg, sizeof(msg), sizeof(dg)) > 0);
    uint64_t before = *ctr;
    CU_ASSERT_EQUAL(skeys_seal(tx, ctr, dg, sizeof(msg), sizeof(dg)), SKEYS_ELIMIT);
    CU_ASSERT_EQUAL(skeys_seal(tx, ctr, dg, 1, sizeof(dg)), SKEYS_ELIMIT);
    CU_ASSERT_EQUAL(*ctr, before);
    CU_ASSERT_EQUAL(skeys_dir_left(tx), 0);
    /* The counter never wraps. */
    struct sess y;
    CU_ASSERT_TRUE_FATAL(sess_run(&y, KEY_AES256_GCM, HASH_SHA256, CURVE_P256, ec, NULL, false));
    *skeys_server_ctr(y.srv) = UINT64_MAX;
    CU_ASSERT_EQUAL(skeys_seal(skeys_server_tx(y.srv), skeys_server_ctr(y.srv), dg, 10, sizeof(dg)),
                    SKEYS_ELIMIT);
    uint64_t c;
    CU_ASSERT_EQUAL(skeys_server_keyinfo_ctr(y.srv, &c), SKEYS_ELIMIT);
    /*
     * Forgeries are counted apart from the key's use (issue 14 item 10): a
     * receiving key whose usage limit they would have passed still opens
     * the genuine datagram...
     */
    struct skeys_dir *rx = (struct skeys_dir *)skeys_client_rx(y.cli);
    CU_ASSERT(rx->limit > 0 && rx->forge_limit > rx->limit);
    rx->limit = 3 * skeys_blocks(10);
    *skeys_server_ctr(y.srv) = 100;
    size_t n = seal_msg(skeys_server_tx(y.srv), skeys_server_ctr(y.srv), dg, sizeof(dg), DONE,
                        SERVER, msg, 10);
    const uint8_t *m;
    size_t ml;
    uint8_t bad[100];
    for (int i = 0; i < 3; i++) {
        memcpy(bad, dg, n);
        bad[n - 1] ^= 1;
        CU_ASSERT_EQUAL(skeys_client_open(y.cli, bad, n, &m, &ml), CRYPTO_EAUTH);
    }
    CU_ASSERT_EQUAL(rx->failed, 3);
    CU_ASSERT_EQUAL(rx->forged, 3 * skeys_blocks(10));
    CU_ASSERT_EQUAL(skeys_client_open(y.cli, dg, n, &m, &ml), CRYPTO_OK);
    CU_ASSERT_EQUAL(rx->used, skeys_blocks(10));
    /* ...and is retired once they add up to its forgery limit. */
    rx->forge_limit = 5 * skeys_blocks(10);
    n = seal_msg(skeys_server_tx(y.srv), skeys_server_ctr(y.srv), dg, sizeof(dg), DONE, SERVER, msg,
                 10);
    for (int i = 0; i < 2; i++) {
        memcpy(bad, dg, n);
        bad[n - 1] ^= 1;
        CU_ASSERT_EQUAL(skeys_client_open(y.cli, bad, n, &m, &ml), CRYPTO_EAUTH);
    }
    /* Now even the genuine datagram is refused: the key is retired. */
    CU_ASSERT_EQUAL(skeys_client_open(y.cli, dg, n, &m, &ml), SKEYS_ELIMIT);
    sess_free(&x);
    sess_free(&y);
    crypto_key_free(ec);
}

static void test_fingerprints_and_auth(void)
{
    struct crypto_key *ec = loadkey("ec256_a.pem"), *other = loadkey("ec256_b.pem"),
                      *ck = loadkey("rsa2048.pem");
    struct skeys_server_cfg sc = {.keytype = KEY_AES256_GCM,
                                  .hashtype = HASH_SHA256,
                                  .curve = CURVE_P256,
                                  .client_auth = true,
                                  .sigkey = ec,
                                  .group_id = GROUP,
                                  .server_id = SERVER};
    struct skeys_server *s;
    CU_ASSERT_EQUAL_FATAL(skeys_server_new(&s, &sc), CRYPTO_OK);
    uint8_t ann[1024];
    uint32_t id = CLIENT;
    size_t al = make_announce(s, ann, sizeof(ann), SERVER, GROUP, 0, &id, 1);
    struct wire_announce a;
    CU_ASSERT_TRUE_FATAL(decode_announce(ann, al, &a));
    uint8_t right[FP_LEN], wrong[FP_LEN];
    size_t bl;
    const uint8_t *b = crypto_key_blob(ec, &bl);
    fp_compute(b, bl, right);
    b = crypto_key_blob(other, &bl);
    fp_compute(b, bl, wrong);
    struct skeys_client_cfg cc = {
        .group_id = GROUP, .server_id = SERVER, .client_id = CLIENT, .fp = wrong, .fplen = FP_LEN};
    struct skeys_client *cl = NULL;
    /* Server fingerprint (uftpd -S): a wrong one refuses the session. */
    CU_ASSERT_EQUAL(skeys_client_new(&cl, &cc, &a.enc, ann, al), SKEYS_EFP);
    CU_ASSERT_PTR_NULL(cl);
    cc.fp = right;
    CU_ASSERT_EQUAL_FATAL(skeys_client_new(&cl, &cc, &a.enc, ann, al), CRYPTO_OK);
    /* Client authentication requested but we hold no key. */
    CU_ASSERT_EQUAL(skeys_client_handshake(cl), SKEYS_ESTATE);
    skeys_client_free(cl);
    cc.sigkey = ck;
    CU_ASSERT_EQUAL_FATAL(skeys_client_new(&cl, &cc, &a.enc, ann, al), CRYPTO_OK);
    CU_ASSERT_EQUAL_FATAL(skeys_client_handshake(cl), CRYPTO_OK);
    CU_ASSERT_EQUAL(skeys_client_handshake(cl), SKEYS_ESTATE);
    size_t dl;
    const uint8_t *dh = skeys_client_dh(cl, &dl);
    struct skeys_peer *p;
    CU_ASSERT_EQUAL_FATAL(skeys_server_register(s, CLIENT, dh, dl, cc.rand2, &p), CRYPTO_OK);
    CU_ASSERT_FALSE(skeys_peer_keyed(p));
    uint8_t gme[KS5_GM_ENC_LEN];
    CU_ASSERT_EQUAL(skeys_server_wrap(s, p, 1, gme), SKEYS_ESTATE); /* no keys before CLIENT_KEY */
    size_t kl;
    const uint8_t *k = skeys_client_client_key(cl, &kl);
    uint8_t msg[1024];
    memcpy(msg, k, kl);
    /* -H @file fingerprint (uftp -c): a different one refuses the client. */
    CU_ASSERT_EQUAL(skeys_server_client_key(s, p, msg, kl, wrong, FP_LEN), SKEYS_EFP);
    /* A flipped signature bit. */
    msg[kl - 1] ^= 1;
    CU_ASSERT_EQUAL(skeys_server_client_key(s, p, msg, kl, NULL, 0), CRYPTO_ESIG);
    msg[kl - 1] ^= 1;
    /* Truncated. */
    CU_ASSERT_EQUAL(skeys_server_client_key(s, p, msg, kl - 4, NULL, 0), SKEYS_EFRAME);
    CU_ASSERT_FALSE(skeys_peer_keyed(p));
    b = crypto_key_blob(ck, &bl);
    uint8_t cfp[FP_LEN];
    fp_compute(b, bl, cfp);
    CU_ASSERT_EQUAL(skeys_server_client_key(s, p, msg, kl, cfp, FP_LEN), CRYPTO_OK);
    CU_ASSERT_TRUE(skeys_peer_keyed(p));
    CU_ASSERT_EQUAL(skeys_server_client_key(s, p, msg, kl, cfp, FP_LEN), SKEYS_ESTATE);
    /* The announce phase ends: no more wraps or registrations. */
    skeys_peer_end_handshake(p);
    CU_ASSERT_EQUAL(skeys_server_wrap(s, p, 1, gme), SKEYS_ESTATE);
    skeys_server_end_handshake(s);
    struct skeys_peer *p2 = NULL;
    CU_ASSERT_EQUAL(skeys_server_register(s, CLIENT + 1, dh, dl, cc.rand2, &p2), SKEYS_ESTATE);
    /* A REGISTER with a key on another curve, or no key. */
    skeys_peer_free(p);
    skeys_server_free(s);
    skeys_client_free(cl);
    crypto_key_free(ec);
    crypto_key_free(other);
    crypto_key_free(ck);
}

static void test_bad_register(void)
{
    struct crypto_key *ec = loadkey("ec256_a.pem"), *p384 = loadkey("ec384_a.pem");
    struct skeys_server_cfg sc = {.keytype = KEY_AES256_GCM,
                                  .hashtype = HASH_SHA256,
                                  .curve = CURVE_P256,
                                  .sigkey = ec,
                                  .group_id = GROUP,
                                  .server_id = SERVER};
    struct skeys_server *s;
    CU_ASSERT_EQUAL_FATAL(skeys_server_new(&s, &sc), CRYPTO_OK);
    uint8_t rand2[32] = {0};
    struct skeys_peer *p = NULL;
    size_t bl;
    const uint8_t *b = crypto_key_blob(p384, &bl);
    CU_ASSERT_EQUAL(skeys_server_register(s, CLIENT, b, bl, rand2, &p), SKEYS_ETYPE);
    b = crypto_key_blob(ec, &bl);
    uint8_t junk[68];
    memcpy(junk, b, bl);
    junk[40] ^= 0x40; /* off the curve */
    CU_ASSERT_EQUAL(skeys_server_register(s, CLIENT, junk, bl, rand2, &p), CRYPTO_EBLOB);
    CU_ASSERT_EQUAL(skeys_server_register(s, CLIENT, b, 0, rand2, &p), CRYPTO_EBLOB);
    CU_ASSERT_PTR_NULL(p);
    /* Unsupported parameters. */
    struct skeys_server *bad = NULL;
    sc.keytype = KEY_AES256_CBC;
    CU_ASSERT_EQUAL(skeys_server_new(&bad, &sc), SKEYS_ETYPE);
    sc.keytype = KEY_AES256_GCM;
    sc.hashtype = HASH_SHA1;
    CU_ASSERT_EQUAL(skeys_server_new(&bad, &sc), SKEYS_ETYPE);
    sc.hashtype = HASH_SHA256;
    sc.curve = 22;
    CU_ASSERT_EQUAL(skeys_server_new(&bad, &sc), SKEYS_ETYPE);
    CU_ASSERT_PTR_NULL(bad);
    /* An ENCRYPTED datagram for a peer without application keys yet. */
    skeys_server_free(s);
    sc.curve = CURVE_P256;
    sc.client_auth = true;
    CU_ASSERT_EQUAL_FATAL(skeys_server_new(&s, &sc), CRYPTO_OK);
    CU_ASSERT_EQUAL_FATAL(skeys_server_register(s, CLIENT, b, bl, rand2, &p), CRYPTO_OK);
    uint8_t dg[100] = {UFTP_VER5, ENCRYPTED}, scratch[100];
    be16_put(dg + 26, 20);
    const uint8_t *m;
    size_t ml0;
    bool hs0;
    /* Counter 0 is never valid (v5 counters start at 1). */
    CU_ASSERT_EQUAL(skeys_peer_open(p, true, dg, 48, scratch, &m, &ml0, &hs0), SKEYS_EREPLAY);
    dg[23] = 1;
    size_t ml;
    bool hs;
    CU_ASSERT_EQUAL(skeys_peer_open(p, false, dg, 48, scratch, &m, &ml, &hs), SKEYS_ESTATE);
    CU_ASSERT_EQUAL(skeys_peer_open(p, true, dg, 48, scratch, &m, &ml, &hs), CRYPTO_EAUTH);
    skeys_peer_free(p);
    skeys_server_free(s);
    crypto_key_free(ec);
    crypto_key_free(p384);
    CU_ASSERT_STRING_EQUAL(skeys_strerror(SKEYS_EREPLAY), "replayed counter");
    CU_ASSERT_STRING_EQUAL(skeys_strerror(CRYPTO_ESIG), crypto_strerror(CRYPTO_ESIG));
}

static void test_costs(void)
{
    uint8_t rsa[4] = {KEYBLOB_RSA, 0, 1, 0}, e384[2] = {KEYBLOB_EC, CURVE_P384};
    CU_ASSERT_EQUAL(skeys_cost_verify(rsa, 4), 40);
    CU_ASSERT_EQUAL(skeys_cost_verify(e384, 2), 1000);
    CU_ASSERT_EQUAL(skeys_cost_verify(NULL, 0), 1000);
    CU_ASSERT(skeys_cost_ecdh(CURVE_P256) < skeys_cost_ecdh(CURVE_P521));
    CU_ASSERT_EQUAL(skeys_blocks(0), 3);
    CU_ASSERT_EQUAL(skeys_blocks(1308), 82 + 3);
}

static const struct cu_test skeys_tests[] = {
    {"every cipher x hash x curve x signing key x client auth", test_matrix},
    {"known answers: reference-checked vectors through the API (proxy too)", test_vectors},
    {"5.0.1 capture: ANNOUNCE and KEYINFO signatures, every bit", test_capture},
    {"every bit flip of FILESEG and STATUS refused", test_bitflips_encrypted},
    {"every bit flip of KEYINFO refused", test_bitflips_keyinfo},
    {"replay window", test_replay_window},
    {"usage, forgery and counter limits", test_limits},
    {"fingerprints and client authentication", test_fingerprints_and_auth},
    {"bad REGISTER keys, parameters, missing keys", test_bad_register},
    {"cost estimates", test_costs},
    {NULL, NULL},
};

CU_MAIN({"crypto/skeys", skeys_tests})
