/*
 * Session keys, v4 sessions (core/crypto/skeys.c, spec §1.9): the whole v4
 * exchange between our server and client roles for every cipher, hash and
 * signing key, with and without client authentication (cleartext
 * CLIENT_KEY); v4 framing (version byte, nonce bound to the sender's ID);
 * what 5.x refuses from a v4 server; unsigned KEYINFO leaving the replay
 * window alone; keys of one version never tried on the other's datagrams.
 * The schedule's pieces have their known answers in test_ks4.c, and the
 * whole against Debian's uftp 4.10.2 runs in tests/integration/v4.
 */
#include <stdlib.h>

#include "core/crypto/aead.h"
#include "core/crypto/crypto.h"
#include "core/crypto/fp.h"
#include "core/crypto/keyblob.h"
#include "core/crypto/keyfile.h"
#include "core/crypto/sig.h"
#include "core/crypto/skeys.h"
#include "core/wire/buf.h"
#include "core/wire/msg.h"
#include "core/wire/proxykey.h"
#include "core/wire/wire.h"
#include "cu.h"

#define VDIR "tests/unit/crypto/vectors/"

#define GROUP  0x11223344u
#define SERVER 0x0a000001u
#define CLIENT 0x0a000002u

static struct crypto_key *loadkey(const char *file)
{
    char path[256];
    snprintf(path, sizeof(path), VDIR "keys/%s", file);
    struct crypto_key *k = NULL;
    CU_ASSERT_EQUAL(keyfile_read(cu_srcpath(path), &k), CRYPTO_OK);
    return k;
}

static void put_hdr(uint8_t *dg, uint8_t ver, uint8_t func, uint32_t src)
{
    struct uftp_hdr h = {.version = ver,
                         .func = func,
                         .seq = 3,
                         .src_id = src,
                         .group_id = GROUP,
                         .group_inst = 0,
                         .grtt = 0x9d,
                         .gsize = 0x18};
    uftp_hdr_encode(dg, UFTP_HDR_LEN, &h);
}

static const uint8_t PRIV[4] = {230, 5, 5, 7};

static size_t make_announce(struct skeys_server *s, uint8_t *dg, size_t cap)
{
    struct wire_announce a;
    memset(&a, 0, sizeof(a));
    a.ver = UFTP_VER4;
    a.robust = 20;
    a.blocksize = 1300;
    a.tstamp = UINT64_C(1700000000000000);
    a.pub_addr[0] = 230;
    memcpy(a.priv_addr, PRIV, 4);
    a.has_enc = true;
    a.enc = *skeys_server_enc_info(s);
    put_hdr(dg, UFTP_VER4, ANNOUNCE, SERVER);
    ssize_t n = wire_announce_encode(dg + UFTP_HDR_LEN, cap - UFTP_HDR_LEN, &a);
    CU_ASSERT_FATAL(n > 0);
    size_t len = UFTP_HDR_LEN + (size_t)n;
    CU_ASSERT_EQUAL_FATAL(skeys_server_sign_announce(s, dg, len), CRYPTO_OK);
    return len;
}

static bool decode_announce(const uint8_t *dg, size_t len, struct wire_announce *a)
{
    memset(a, 0, sizeof(*a));
    a->ver = UFTP_VER4;
    return wire_announce_decode(a, dg + UFTP_HDR_LEN, len - UFTP_HDR_LEN) > 0 && a->has_enc;
}

static size_t make_keyinfo(struct skeys_server *s, struct skeys_peer *p, uint8_t *dg, size_t cap)
{
    static struct wire_destkey keys[1];
    uint64_t ctr;
    CU_ASSERT_EQUAL_FATAL(skeys_server_keyinfo_ctr(s, &ctr), CRYPTO_OK);
    keys[0].id = CLIENT;
    CU_ASSERT_EQUAL_FATAL(skeys_server_wrap(s, p, ctr, keys[0].master), CRYPTO_OK);
    struct wire_keyinfo k = {.ver = UFTP_VER4, .iv_ctr = ctr, .keys = {.host = keys, .n = 1}};
    put_hdr(dg, UFTP_VER4, KEYINFO, SERVER);
    ssize_t m = wire_keyinfo_encode(dg + UFTP_HDR_LEN, cap - UFTP_HDR_LEN, &k);
    CU_ASSERT_FATAL(m > 0);
    size_t len = UFTP_HDR_LEN + (size_t)m;
    CU_ASSERT_EQUAL(skeys_server_sign_keyinfo(s, dg, len), CRYPTO_OK); /* nothing to sign */
    return len;
}

static bool decode_keyinfo(const uint8_t *dg, size_t len, struct wire_keyinfo *k)
{
    memset(k, 0, sizeof(*k));
    k->ver = UFTP_VER4;
    return wire_keyinfo_decode(k, dg + UFTP_HDR_LEN, len - UFTP_HDR_LEN) > 0;
}

static size_t seal_msg(struct skeys_dir *d, uint64_t *ctr, uint8_t *dg, size_t cap, uint8_t ver,
                       uint8_t func, uint32_t src, const uint8_t *msg, size_t mlen)
{
    put_hdr(dg, ver, func, src);
    memcpy(dg + SKEYS_MSG_OFF, msg, mlen);
    ssize_t n = skeys_seal(d, ctr, dg, mlen, cap);
    CU_ASSERT_FATAL(n > 0);
    return (size_t)n;
}

struct sess {
    struct skeys_server *srv;
    struct skeys_client *cli;
    struct skeys_peer *peer;
    uint8_t ann[2048];
    size_t annlen;
};

static int server_new(struct sess *x, int keytype, int hashtype, int curve, struct crypto_key *sk,
                      bool auth)
{
    struct skeys_server_cfg sc = {.keytype = keytype,
                                  .hashtype = hashtype,
                                  .curve = curve,
                                  .client_auth = auth,
                                  .sigkey = sk,
                                  .group_id = GROUP,
                                  .server_id = SERVER,
                                  .ver = UFTP_VER4,
                                  .addrlen = 4};
    memcpy(sc.addr, PRIV, 4);
    crypto_random(sc.rand1, sizeof(sc.rand1));
    crypto_random(sc.group_master4, sizeof(sc.group_master4));
    return skeys_server_new(&x->srv, &sc);
}

static int client_new(struct sess *x, struct crypto_key *ck, struct wire_announce *a)
{
    struct skeys_client_cfg cc = {
        .group_id = GROUP, .server_id = SERVER, .client_id = CLIENT, .sigkey = ck, .addrlen = 4};
    memcpy(cc.addr, a->priv_addr, 4);
    crypto_random(cc.rand2, sizeof(cc.rand2));
    return skeys_client_new(&x->cli, &cc, &a->enc, x->ann, x->annlen);
}

/* The v4 exchange up to keyed on both sides. */
static bool sess_run(struct sess *x, int keytype, int hashtype, int curve, struct crypto_key *sk,
                     struct crypto_key *ck, bool auth)
{
    memset(x, 0, sizeof(*x));
    if (server_new(x, keytype, hashtype, curve, sk, auth) != CRYPTO_OK)
        return false;
    const struct wire_enc_info *e = skeys_server_enc_info(x->srv);
    CU_ASSERT_EQUAL(e->sigtype, SIG_AUTHENC);
    CU_ASSERT_EQUAL(e->keyextype,
                    crypto_key_type(sk) == KEYBLOB_RSA ? KEYEX_ECDH_RSA : KEYEX_ECDH_ECDSA);
    x->annlen = make_announce(x->srv, x->ann, sizeof(x->ann));
    /* EXT_ENC_INFO byte 3 on the wire: keyextype << 4 | sigtype. */
    CU_ASSERT_EQUAL(x->ann[UFTP_HDR_LEN + 16 + 8 + 3], e->keyextype << 4 | SIG_AUTHENC);
    struct wire_announce a;
    if (!decode_announce(x->ann, x->annlen, &a) || client_new(x, ck, &a) != CRYPTO_OK)
        return false;
    if (skeys_client_handshake(x->cli) != CRYPTO_OK)
        return false;
    uint8_t rand2[WIRE_RAND_LEN];
    skeys_client_rand2(x->cli, rand2);
    size_t dl;
    const uint8_t *dh = skeys_client_dh(x->cli, &dl);
    if (skeys_server_register(x->srv, CLIENT, dh, dl, rand2, &x->peer) != CRYPTO_OK)
        return false;
    CU_ASSERT_EQUAL(skeys_peer_keyed(x->peer), !auth);
    if (auth) {
        /* v4: CLIENT_KEY travels in clear; the server reads the message itself. */
        size_t cl;
        const uint8_t *m = skeys_client_client_key(x->cli, &cl);
        CU_ASSERT_PTR_NOT_NULL_FATAL(m);
        CU_ASSERT_EQUAL(m[0], CLIENT_KEY);
        size_t kl;
        const uint8_t *blob = crypto_key_blob(ck, &kl);
        uint8_t fp[FP_LEN];
        fp_compute(blob, kl, fp);
        /* Under client auth only a valid CLIENT_KEY keys the peer. */
        CU_ASSERT_FALSE(skeys_peer_keyed(x->peer));
        if (skeys_server_client_key(x->srv, x->peer, m, cl, fp, FP_LEN) != CRYPTO_OK)
            return false;
        CU_ASSERT_TRUE(skeys_peer_keyed(x->peer));
    }
    uint8_t dg[2048];
    size_t kl = make_keyinfo(x->srv, x->peer, dg, sizeof(dg));
    CU_ASSERT_EQUAL(be16_get(dg + UFTP_HDR_LEN + 2), 0); /* no signature */
    struct wire_keyinfo k;
    if (!decode_keyinfo(dg, kl, &k) || skeys_client_keyinfo(x->cli, dg, kl, &k) != CRYPTO_OK)
        return false;
    size_t vl;
    const uint8_t *v = skeys_client_verify_data(x->cli, &vl);
    CU_ASSERT_EQUAL(vl, 12);
    CU_ASSERT_EQUAL(skeys_client_app_tx(x->cli)->ver, UFTP_VER4); /* a v4 client's key */
    CU_ASSERT_TRUE(skeys_peer_verify(x->peer, v, vl));
    uint8_t bad[12];
    memcpy(bad, v, 12);
    bad[11] ^= 1;
    CU_ASSERT_FALSE(skeys_peer_verify(x->peer, bad, 12));
    return true;
}

static void sess_free(struct sess *x)
{
    skeys_peer_free(x->peer);
    skeys_server_free(x->srv);
    skeys_client_free(x->cli);
}

static void check_traffic(struct sess *x)
{
    uint8_t dg[9100], scratch[9100], msg[8820];
    for (size_t i = 0; i < sizeof(msg); i++)
        msg[i] = (uint8_t)(i * 5);
    for (size_t len = 1; len <= sizeof(msg); len += 2939) {
        size_t n = seal_msg(skeys_server_tx(x->srv), skeys_server_ctr(x->srv), dg, sizeof(dg),
                            UFTP_VER4, FILESEG, SERVER, msg, len);
        CU_ASSERT_EQUAL(dg[0], UFTP_VER4);
        CU_ASSERT_EQUAL(be16_get(dg + UFTP_HDR_LEN + 8), 0); /* v4 signature length */
        const uint8_t *m;
        size_t ml;
        CU_ASSERT_EQUAL_FATAL(skeys_client_open(x->cli, dg, n, &m, &ml), CRYPTO_OK);
        CU_ASSERT_TRUE(ml == len && memcmp(m, msg, len) == 0);
        n = seal_msg(skeys_client_app_tx(x->cli), skeys_client_ctr(x->cli), dg, sizeof(dg),
                     UFTP_VER4, STATUS, CLIENT, msg, len);
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
                      *cec = loadkey("ec256_b.pem"), *crsa = loadkey("rsa1024.pem");
    static const int curves[] = {CURVE_P256, CURVE_P384, CURVE_P521};
    int runs = 0;
    for (int kt = KEY_AES128_GCM; kt <= KEY_AES256_CCM; kt++)
        for (int ht = HASH_SHA256; ht <= HASH_SHA512; ht++)
            for (int sk = 0; sk < 2; sk++)
                for (int auth = 0; auth < 2; auth++) {
                    struct sess x;
                    int curve = curves[(kt + ht + sk) % 3];
                    bool ok = sess_run(&x, kt, ht, curve, sk ? rsa : ec, sk ? crsa : cec, auth);
                    CU_ASSERT_TRUE(ok);
                    if (!ok)
                        fprintf(stderr, "\n  failed: key %d hash %d curve %d rsa %d auth %d\n", kt,
                                ht, curve, sk, auth);
                    else
                        check_traffic(&x);
                    sess_free(&x);
                    runs++;
                }
    CU_ASSERT_EQUAL(runs, 48);
    crypto_key_free(ec);
    crypto_key_free(rsa);
    crypto_key_free(cec);
    crypto_key_free(crsa);
}

/* The v4 nonce is (salt XOR src_id) || ctr: the same bytes from another ID do not open. */
static void test_nonce_binds_sender(void)
{
    struct crypto_key *ec = loadkey("ec256_a.pem");
    struct sess x;
    CU_ASSERT_TRUE_FATAL(sess_run(&x, KEY_AES256_GCM, HASH_SHA256, CURVE_P256, ec, NULL, false));
    uint8_t dg[256], copy[256];
    const uint8_t msg[8] = {DONE, 2, 0, 1, 0, 0, 0, 0};
    size_t n = seal_msg(skeys_server_tx(x.srv), skeys_server_ctr(x.srv), dg, sizeof(dg), UFTP_VER4,
                        DONE, SERVER, msg, sizeof(msg));
    memcpy(copy, dg, n);
    be32_put(dg + 4, CLIENT);
    const uint8_t *m;
    size_t ml;
    CU_ASSERT_EQUAL(skeys_client_open(x.cli, dg, n, &m, &ml), CRYPTO_EAUTH);
    /* A v5 datagram is never tried with the v4 key. */
    memcpy(dg, copy, n);
    dg[0] = UFTP_VER5;
    CU_ASSERT_EQUAL(skeys_client_open(x.cli, dg, n, &m, &ml), SKEYS_ESTATE);
    memcpy(dg, copy, n);
    CU_ASSERT_EQUAL(skeys_client_open(x.cli, dg, n, &m, &ml), CRYPTO_OK);
    /* A v4 signature length (HMAC / per-message signatures) is a framing error. */
    memcpy(dg, copy, n);
    be16_put(dg + UFTP_HDR_LEN + 8, 4);
    CU_ASSERT_EQUAL(skeys_client_open(x.cli, dg, n, &m, &ml), SKEYS_EFRAME);
    sess_free(&x);
    crypto_key_free(ec);
}

/* spec §1.9 item 2: only ECDH_RSA / ECDH_ECDSA with AUTHENC from a v4 server. */
static void test_refusals(void)
{
    struct crypto_key *ec = loadkey("ec256_a.pem");
    struct sess x;
    memset(&x, 0, sizeof(x));
    CU_ASSERT_EQUAL_FATAL(server_new(&x, KEY_AES128_GCM, HASH_SHA384, CURVE_P256, ec, false),
                          CRYPTO_OK);
    x.annlen = make_announce(x.srv, x.ann, sizeof(x.ann));
    struct wire_announce a;
    CU_ASSERT_TRUE_FATAL(decode_announce(x.ann, x.annlen, &a));
    static const struct {
        uint8_t keyex, sig;
        int want;
    } cases[] = {
        {KEYEX_ECDH_ECDSA, SIG_AUTHENC, CRYPTO_OK}, {KEYEX_ECDH_RSA, SIG_AUTHENC, CRYPTO_OK},
        {KEYEX_RSA, SIG_AUTHENC, SKEYS_ETYPE},      {KEYEX_NONE, SIG_AUTHENC, SKEYS_ETYPE},
        {KEYEX_ECDH_ECDSA, SIG_HMAC, SKEYS_ETYPE},  {KEYEX_ECDH_ECDSA, SIG_KEYEX, SKEYS_ETYPE},
        {KEYEX_ECDH_ECDSA, 0, SKEYS_ETYPE},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct wire_announce b = a;
        b.enc.keyextype = cases[i].keyex;
        b.enc.sigtype = cases[i].sig;
        CU_ASSERT_EQUAL(client_new(&x, NULL, &b), cases[i].want);
        skeys_client_free(x.cli);
        x.cli = NULL;
    }
    /* CBC ciphers and SHA-1 are v4-only types 5.x refuses. */
    struct wire_announce b = a;
    b.enc.keytype = KEY_AES256_CBC;
    CU_ASSERT_EQUAL(client_new(&x, NULL, &b), SKEYS_ETYPE);
    b = a;
    b.enc.hashtype = HASH_SHA1;
    CU_ASSERT_EQUAL(client_new(&x, NULL, &b), SKEYS_ETYPE);
    /* A forged signature still fails, v4 or not. */
    x.ann[x.annlen - 1] ^= 0x80;
    CU_ASSERT_TRUE_FATAL(decode_announce(x.ann, x.annlen, &a));
    CU_ASSERT_NOT_EQUAL(client_new(&x, NULL, &a), CRYPTO_OK);
    skeys_client_free(x.cli);
    skeys_server_free(x.srv);
    crypto_key_free(ec);
}

/*
 * v4 KEYINFO is unsigned: a resend (or a forgery) is accepted without
 * checks and must not move the server's replay window.
 */
static void test_keyinfo_unsigned(void)
{
    struct crypto_key *ec = loadkey("ec256_a.pem");
    struct sess x;
    CU_ASSERT_TRUE_FATAL(sess_run(&x, KEY_AES128_CCM, HASH_SHA512, CURVE_P384, ec, NULL, false));
    uint8_t dg[2048];
    struct wire_keyinfo k = {.ver = UFTP_VER4, .iv_ctr = UINT64_C(1) << 40};
    put_hdr(dg, UFTP_VER4, KEYINFO, SERVER);
    CU_ASSERT_EQUAL(skeys_client_keyinfo_verify(x.cli, dg, UFTP_HDR_LEN + 12, &k), CRYPTO_OK);
    const uint8_t msg[8] = {DONE, 2, 0, 1, 0, 0, 0, 0};
    size_t n = seal_msg(skeys_server_tx(x.srv), skeys_server_ctr(x.srv), dg, sizeof(dg), UFTP_VER4,
                        DONE, SERVER, msg, sizeof(msg));
    const uint8_t *m;
    size_t ml;
    CU_ASSERT_EQUAL(skeys_client_open(x.cli, dg, n, &m, &ml), CRYPTO_OK);
    sess_free(&x);

    /* A KEYINFO entry under the wrong handshake key does not open (padding). */
    CU_ASSERT_TRUE_FATAL(sess_run(&x, KEY_AES256_GCM, HASH_SHA256, CURVE_P256, ec, NULL, false));
    struct sess y;
    CU_ASSERT_TRUE_FATAL(sess_run(&y, KEY_AES256_GCM, HASH_SHA256, CURVE_P256, ec, NULL, false));
    struct skeys_client *c2 = NULL;
    struct wire_announce a;
    struct sess z = y;
    z.cli = NULL;
    CU_ASSERT_TRUE_FATAL(decode_announce(z.ann, z.annlen, &a));
    CU_ASSERT_EQUAL_FATAL(client_new(&z, NULL, &a), CRYPTO_OK);
    c2 = z.cli;
    CU_ASSERT_EQUAL_FATAL(skeys_client_handshake(c2), CRYPTO_OK);
    size_t kl = make_keyinfo(y.srv, y.peer, dg, sizeof(dg)); /* wrapped for y's client */
    CU_ASSERT_TRUE_FATAL(decode_keyinfo(dg, kl, &k));
    /* 1 time in 256 the CBC padding of a wrong key looks right: the finished value differs. */
    if (skeys_client_keyinfo(c2, dg, kl, &k) == CRYPTO_OK) {
        size_t vl;
        const uint8_t *v = skeys_client_verify_data(c2, &vl);
        CU_ASSERT_FALSE(skeys_peer_verify(y.peer, v, vl));
    } else {
        CU_ASSERT_FALSE(skeys_client_keyed(c2));
    }
    skeys_client_free(c2);
    sess_free(&x);
    sess_free(&y);
    crypto_key_free(ec);
}

/* A v4 PROXY_KEY as a 4.x response proxy sends it: keys, nonce, SHA-1 signature over the nonce. */
static size_t make_proxy_key4(const struct crypto_key *sk, const struct crypto_key *dh,
                              uint32_t nonce, uint8_t *out, size_t cap)
{
    uint8_t nb[4], sig[600];
    be32_put(nb, nonce);
    struct crypto_iov v = {nb, 4};
    int sl = sig_sign(sk, HASH_SHA1, &v, 1, sig, sizeof(sig));
    CU_ASSERT_FATAL(sl > 0);
    size_t kl, dl;
    struct wire_proxy_key m = {
        .ver = UFTP_VER4, .nonce = nonce, .sig = sig, .siglen = (uint16_t)sl};
    m.keyblob = crypto_key_blob(sk, &kl);
    m.keylen = (uint16_t)kl;
    m.dhblob = crypto_key_blob(dh, &dl);
    m.dhlen = (uint16_t)dl;
    ssize_t n = wire_proxy_key_encode(out, cap, &m);
    CU_ASSERT_FATAL(n > 0);
    return (size_t)n;
}

/* spec §1.9 item 4: a v4 response proxy's key, then a session keyed with it. */
static void test_proxy_key4(void)
{
    struct crypto_key *ec = loadkey("ec256_a.pem"), *rsa = loadkey("rsa2048.pem"), *pdh = NULL,
                      *sig = NULL, *dh = NULL;
    CU_ASSERT_EQUAL_FATAL(keyfile_gen_ec(CURVE_P256, &pdh), CRYPTO_OK);
    uint8_t msg[1024], fp[FP_LEN], other[FP_LEN];
    size_t kl;
    const uint8_t *blob = crypto_key_blob(rsa, &kl);
    fp_compute(blob, kl, fp);
    blob = crypto_key_blob(ec, &kl);
    fp_compute(blob, kl, other);
    size_t n = make_proxy_key4(rsa, pdh, 0x12345678, msg, sizeof(msg));
    CU_ASSERT_EQUAL(skeys_proxy4_key(msg, n, NULL, 0, &sig, &dh), CRYPTO_OK);
    crypto_key_free(sig);
    crypto_key_free(dh);
    CU_ASSERT_EQUAL(skeys_proxy4_key(msg, n, fp, FP_LEN, &sig, &dh), CRYPTO_OK);
    CU_ASSERT_PTR_NOT_NULL(sig);
    CU_ASSERT_EQUAL(crypto_key_curve(dh), CURVE_P256);
    crypto_key_free(sig);
    crypto_key_free(dh);
    CU_ASSERT_EQUAL(skeys_proxy4_key(msg, n, other, FP_LEN, &sig, &dh), SKEYS_EFP);
    CU_ASSERT_PTR_NULL(sig);
    /* Every bit of the nonce and signature matters. */
    size_t sigoff = n - (size_t)sig_len(rsa);
    for (size_t bit = 0; bit < 32; bit++) {
        msg[8 + bit / 8] ^= (uint8_t)(1u << (bit % 8)); /* the nonce: bytes 8..11 */
        CU_ASSERT_EQUAL(skeys_proxy4_key(msg, n, fp, FP_LEN, &sig, &dh), CRYPTO_ESIG);
        msg[8 + bit / 8] ^= (uint8_t)(1u << (bit % 8));
        msg[sigoff + bit] ^= 0x01;
        CU_ASSERT_NOT_EQUAL(skeys_proxy4_key(msg, n, fp, FP_LEN, &sig, &dh), CRYPTO_OK);
        msg[sigoff + bit] ^= 0x01;
    }
    CU_ASSERT_EQUAL(skeys_proxy4_key(msg, n - 1, fp, FP_LEN, &sig, &dh), SKEYS_EFRAME);
    /* An ECDSA proxy key too; then a session whose key exchange is with the proxy's key. */
    n = make_proxy_key4(ec, pdh, 7, msg, sizeof(msg));
    CU_ASSERT_EQUAL_FATAL(skeys_proxy4_key(msg, n, other, FP_LEN, &sig, &dh), CRYPTO_OK);
    struct sess x;
    memset(&x, 0, sizeof(x));
    CU_ASSERT_EQUAL_FATAL(server_new(&x, KEY_AES256_GCM, HASH_SHA256, CURVE_P256, ec, false),
                          CRYPTO_OK);
    x.annlen = make_announce(x.srv, x.ann, sizeof(x.ann));
    struct wire_announce a;
    CU_ASSERT_TRUE_FATAL(decode_announce(x.ann, x.annlen, &a));
    struct skeys_client_cfg cc = {
        .group_id = GROUP, .server_id = SERVER, .client_id = CLIENT, .addrlen = 4, .peer_dh4 = dh};
    memcpy(cc.addr, PRIV, 4);
    CU_ASSERT_EQUAL_FATAL(skeys_client_new(&x.cli, &cc, &a.enc, x.ann, x.annlen), CRYPTO_OK);
    CU_ASSERT_EQUAL_FATAL(skeys_client_handshake(x.cli), CRYPTO_OK);
    /* The server cannot key this client directly: its KEYINFO entry (under
     * the server's own exchange) does not open. The proxy's would. */
    uint8_t rand2[WIRE_RAND_LEN], dg[2048];
    skeys_client_rand2(x.cli, rand2);
    size_t dl;
    const uint8_t *cdh = skeys_client_dh(x.cli, &dl);
    CU_ASSERT_EQUAL_FATAL(skeys_server_register(x.srv, CLIENT, cdh, dl, rand2, &x.peer), CRYPTO_OK);
    size_t klen = make_keyinfo(x.srv, x.peer, dg, sizeof(dg));
    struct wire_keyinfo k;
    CU_ASSERT_TRUE_FATAL(decode_keyinfo(dg, klen, &k));
    /* v4's CBC unwrap takes a wrong key 1 time in 256 (the pad byte happens
     * to be 0x01): then the finished value gives it away (spec §1.9). */
    if (skeys_client_keyinfo(x.cli, dg, klen, &k) == CRYPTO_OK) {
        size_t vl;
        const uint8_t *v = skeys_client_verify_data(x.cli, &vl);
        CU_ASSERT_FALSE(skeys_peer_verify(x.peer, v, vl));
    }
    sess_free(&x);
    crypto_key_free(sig);
    crypto_key_free(dh);
    crypto_key_free(pdh);
    crypto_key_free(ec);
    crypto_key_free(rsa);
}

static const struct cu_test skeys_v4_tests[] = {
    {"v4 exchange: every cipher x hash x signing key x client auth", test_matrix},
    {"v4 nonce bound to the sender; versions never mixed", test_nonce_binds_sender},
    {"v4 parameters 5.x refuses", test_refusals},
    {"v4 KEYINFO unsigned: no replay-window move; wrong key refused", test_keyinfo_unsigned},
    {"v4 response proxy's PROXY_KEY (fingerprint, SHA-1 signature, key exchange)", test_proxy_key4},
    {NULL, NULL},
};

CU_MAIN({"crypto/skeys (v4)", skeys_v4_tests})
