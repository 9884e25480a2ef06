/*
 * proxy/engine/keys.c: the v4 PROXY_KEY a response proxy sends for KEY_REQ
 * (spec §1.9 item 5), checked byte by byte and with the client's own
 * verifier (skeys_proxy4_key, as uftpd -r uses it).
 */
#include <string.h>

#include "core/crypto/crypto.h"
#include "core/crypto/ecdh.h"
#include "core/crypto/fp.h"
#include "core/crypto/keyblob.h"
#include "core/crypto/keyfile.h"
#include "core/crypto/sig.h"
#include "core/crypto/skeys.h"
#include "core/wire/announce.h"
#include "core/wire/proxykey.h"
#include "cu.h"
#include "proxy/engine/keys.h"

static struct crypto_key *load(const char *name)
{
    char path[256];
    snprintf(path, sizeof(path), "tests/unit/crypto/vectors/keys/%s", name);
    struct crypto_key *k = NULL;
    CU_ASSERT_EQUAL_FATAL(keyfile_read(cu_srcpath(path), &k), CRYPTO_OK);
    return k;
}

/* Builds one with sig (and a fresh ECDH key on curve) and checks it as a client would. */
static void check_one(const char *keyname, int curve, size_t dhlen)
{
    struct crypto_key *sk = load(keyname), *dh = NULL;
    CU_ASSERT_EQUAL_FATAL(ecdh_keygen(curve, &dh), CRYPTO_OK);
    uint8_t b[1024];
    ssize_t n = keys_proxy4_key_build(b, sizeof(b), sk, dh, 0xA1B2C3D4u);
    size_t bl, dl;
    const uint8_t *blob = crypto_key_blob(sk, &bl);
    const uint8_t *dhb = crypto_key_blob(dh, &dl);
    CU_ASSERT_EQUAL(dl, dhlen);
    size_t sl = sig_len(sk);
    size_t want = (12 + bl + dl + sl + 3) / 4 * 4;
    CU_ASSERT_EQUAL_FATAL(n, (ssize_t)want);
    /* layout (spec §1.9): func, hlen, keylen, dhlen, siglen, nonce, blobs, signature */
    CU_ASSERT_EQUAL(b[0], PROXY_KEY);
    CU_ASSERT_EQUAL(b[1], want / 4);
    CU_ASSERT_EQUAL((size_t)(b[2] << 8 | b[3]), bl);
    CU_ASSERT_EQUAL((size_t)(b[4] << 8 | b[5]), dl);
    CU_ASSERT_EQUAL((size_t)(b[6] << 8 | b[7]), sl);
    CU_ASSERT_EQUAL(b[8], 0xA1);
    CU_ASSERT_EQUAL(b[9], 0xB2);
    CU_ASSERT_EQUAL(b[10], 0xC3);
    CU_ASSERT_EQUAL(b[11], 0xD4);
    CU_ASSERT_EQUAL(memcmp(b + 12, blob, bl), 0);
    CU_ASSERT_EQUAL(memcmp(b + 12 + bl, dhb, dl), 0);
    /* The signature is SHA-1 over the 4 nonce bytes as they travel. */
    struct crypto_iov v = {b + 8, 4};
    CU_ASSERT_EQUAL(sig_verify(sk, HASH_SHA1, &v, 1, b + 12 + bl + dl, sl), CRYPTO_OK);
    CU_ASSERT_NOT_EQUAL(sig_verify(sk, HASH_SHA256, &v, 1, b + 12 + bl + dl, sl), CRYPTO_OK);

    /* What uftpd -r does with it: fingerprint, signature, the two keys. */
    uint8_t fp[FP_LEN];
    CU_ASSERT_EQUAL_FATAL(fp_compute(blob, bl, fp), 0);
    struct crypto_key *gs = NULL, *gd = NULL;
    CU_ASSERT_EQUAL(skeys_proxy4_key(b, (size_t)n, fp, sizeof(fp), &gs, &gd), CRYPTO_OK);
    CU_ASSERT_PTR_NOT_NULL(gd);
    if (gd != NULL) {
        size_t gl;
        const uint8_t *g = crypto_key_blob(gd, &gl);
        CU_ASSERT_EQUAL(gl, dl);
        CU_ASSERT_EQUAL(memcmp(g, dhb, dl), 0);
        CU_ASSERT_EQUAL(crypto_key_curve(gd), curve);
    }
    crypto_key_free(gs);
    crypto_key_free(gd);
    /* Another key's fingerprint, a changed nonce: refused. */
    fp[0] ^= 1;
    CU_ASSERT_EQUAL(skeys_proxy4_key(b, (size_t)n, fp, sizeof(fp), &gs, &gd), SKEYS_EFP);
    b[11] ^= 1;
    CU_ASSERT_EQUAL(skeys_proxy4_key(b, (size_t)n, NULL, 0, &gs, &gd), CRYPTO_ESIG);
    CU_ASSERT_PTR_NULL(gs);
    CU_ASSERT_PTR_NULL(gd);
    crypto_key_free(sk);
    crypto_key_free(dh);
}

static void test_ec(void)
{
    check_one("ec256_a.pem", CURVE_P256, 68);
    check_one("ec384_a.pem", CURVE_P384, 100);
}

static void test_rsa(void)
{
    check_one("rsa2048.pem", CURVE_P521, 136);
}

static void test_errors(void)
{
    struct crypto_key *sk = load("ec256_a.pem"), *rsa = load("rsa1024.pem"), *dh = NULL;
    CU_ASSERT_EQUAL_FATAL(ecdh_keygen(CURVE_P256, &dh), CRYPTO_OK);
    uint8_t b[1024];
    /* no ECDH key, or an RSA one: nothing to offer */
    CU_ASSERT_EQUAL(keys_proxy4_key_build(b, sizeof(b), sk, NULL, 1), KEYS_ETYPE);
    CU_ASSERT_EQUAL(keys_proxy4_key_build(b, sizeof(b), sk, rsa, 1), KEYS_ETYPE);
    CU_ASSERT_EQUAL(keys_proxy4_key_build(b, sizeof(b), NULL, dh, 1), KEYS_ETYPE);
    /* a public key only cannot sign */
    size_t bl;
    const uint8_t *blob = crypto_key_blob(sk, &bl);
    struct crypto_key *pub = NULL;
    CU_ASSERT_EQUAL_FATAL(keyblob_import(blob, bl, 0, &pub), CRYPTO_OK);
    CU_ASSERT_EQUAL(keys_proxy4_key_build(b, sizeof(b), pub, dh, 1), KEYS_ETYPE);
    /* no room */
    CU_ASSERT_EQUAL(keys_proxy4_key_build(b, 100, sk, dh, 1), KEYS_EFRAME);
    crypto_key_free(pub);
    crypto_key_free(sk);
    crypto_key_free(rsa);
    crypto_key_free(dh);
}

/* ------------------------------------------------------------ v4 client proxy */

#define GROUP  0x11223344u
#define SERVER 0x0A000107u
#define PROXY  0x0A000203u

static const uint8_t PRIV[4] = {230, 5, 5, 7};

static struct skeys_server *server4(struct crypto_key *sk, bool auth)
{
    struct skeys_server_cfg sc = {.keytype = KEY_AES256_GCM,
                                  .hashtype = HASH_SHA256,
                                  .curve = CURVE_P256,
                                  .client_auth = auth,
                                  .sigkey = sk,
                                  .group_id = GROUP,
                                  .server_id = SERVER,
                                  .ver = UFTP_VER4,
                                  .addrlen = 4};
    memcpy(sc.addr, PRIV, 4);
    crypto_random(sc.rand1, sizeof(sc.rand1));
    crypto_random(sc.group_master4, sizeof(sc.group_master4));
    struct skeys_server *s = NULL;
    CU_ASSERT_EQUAL_FATAL(skeys_server_new(&s, &sc), CRYPTO_OK);
    return s;
}

static size_t announce4(struct skeys_server *s, uint8_t *dg, size_t cap)
{
    struct wire_announce a;
    memset(&a, 0, sizeof(a));
    a.ver = UFTP_VER4;
    a.robust = 20;
    a.blocksize = 1300;
    a.pub_addr[0] = 230;
    memcpy(a.priv_addr, PRIV, 4);
    a.has_enc = true;
    a.enc = *skeys_server_enc_info(s);
    struct uftp_hdr h = {
        .version = UFTP_VER4, .func = ANNOUNCE, .src_id = SERVER, .group_id = GROUP};
    uftp_hdr_encode(dg, UFTP_HDR_LEN, &h);
    ssize_t n = wire_announce_encode(dg + UFTP_HDR_LEN, cap - UFTP_HDR_LEN, &a);
    CU_ASSERT_FATAL(n > 0);
    size_t len = UFTP_HDR_LEN + (size_t)n;
    CU_ASSERT_EQUAL_FATAL(skeys_server_sign_announce(s, dg, len), CRYPTO_OK);
    return len;
}

static void decode4(const uint8_t *dg, size_t len, struct wire_announce *a)
{
    memset(a, 0, sizeof(*a));
    a->ver = UFTP_VER4;
    CU_ASSERT_FATAL(wire_announce_decode(a, dg + UFTP_HDR_LEN, len - UFTP_HDR_LEN) > 0 &&
                    a->has_enc);
}

static struct ksess_params params4(const struct crypto_key *const *keys, size_t n)
{
    struct ksess_params kp = {.group_id = GROUP,
                              .server_id = SERVER,
                              .proxy_id = PROXY,
                              .sigkey = keys[0],
                              .subst4 = true,
                              .sigkeys = keys,
                              .nsigkeys = n,
                              .addrlen = 4};
    memcpy(kp.addr, PRIV, 4);
    crypto_random(kp.rand2, sizeof(kp.rand2));
    return kp;
}

/* spec §1.9 item 5: our key of the server's type and size, our ECDH key, our signature. */
static void test_subst(void)
{
    struct crypto_key *srvk = load("ec256_a.pem"), *rsa = load("rsa2048.pem"),
                      *mine = load("ec256_b.pem");
    struct skeys_server *srv = server4(srvk, false);
    uint8_t dg[2048], orig[2048];
    size_t len = announce4(srv, dg, sizeof(dg));
    memcpy(orig, dg, len);
    struct wire_announce a;
    decode4(dg, len, &a);
    const struct crypto_key *keys[2] = {rsa, mine};
    struct ksess_params kp = params4(keys, 2);
    struct ksess *k = NULL;
    CU_ASSERT_EQUAL_FATAL(keys_new(&k, &kp, &a.enc, dg, len), CRYPTO_OK);
    CU_ASSERT_EQUAL(keys_announce4(k, dg, len, &a.enc), CRYPTO_OK);
    CU_ASSERT_EQUAL(keys_siglen(k), 0);
    struct wire_announce b;
    decode4(dg, len, &b);
    size_t bl;
    const uint8_t *mb = crypto_key_blob(mine, &bl);
    CU_ASSERT_EQUAL(b.enc.keylen, bl);
    CU_ASSERT_EQUAL(memcmp(b.enc.keyblob, mb, bl), 0);
    size_t dl;
    const uint8_t *ours = keys_dh_up(k, &dl); /* upstream key: not what clients get */
    CU_ASSERT_EQUAL(b.enc.dhlen, dl);
    CU_ASSERT_NOT_EQUAL(memcmp(b.enc.dhblob, orig + (a.enc.dhblob - dg), dl), 0);
    CU_ASSERT_NOT_EQUAL(memcmp(b.enc.dhblob, ours, dl), 0);
    CU_ASSERT_EQUAL(memcmp(b.enc.rand1, a.enc.rand1, sizeof(b.enc.rand1)), 0);
    /* A client checks it against the proxy's fingerprint, not the server's. */
    uint8_t fp[FP_LEN];
    CU_ASSERT_EQUAL_FATAL(fp_compute(mb, bl, fp), 0);
    struct skeys_client_cfg cc = {.group_id = GROUP,
                                  .server_id = SERVER,
                                  .client_id = 0x0A000301,
                                  .fp = fp,
                                  .fplen = FP_LEN,
                                  .addrlen = 4};
    memcpy(cc.addr, PRIV, 4);
    struct skeys_client *cli = NULL;
    CU_ASSERT_EQUAL(skeys_client_new(&cli, &cc, &b.enc, dg, len), CRYPTO_OK);
    skeys_client_free(cli);
    size_t sbl;
    const uint8_t *sb = crypto_key_blob(srvk, &sbl);
    CU_ASSERT_EQUAL_FATAL(fp_compute(sb, sbl, fp), 0);
    cli = NULL;
    CU_ASSERT_EQUAL(skeys_client_new(&cli, &cc, &b.enc, dg, len), SKEYS_EFP);
    /* Only what the server signed: a changed copy is not signed by us. */
    memcpy(dg, orig, len);
    dg[UFTP_HDR_LEN + 3] ^= 1; /* robust */
    decode4(dg, len, &b);
    CU_ASSERT_EQUAL(keys_announce4(k, dg, len, &b.enc), CRYPTO_ESIG);
    keys_free(k);
    /* No key like the server's (an RSA key for an ECDSA server). */
    memcpy(dg, orig, len);
    decode4(dg, len, &a);
    kp = params4(keys, 1);
    CU_ASSERT_EQUAL(keys_new(&k, &kp, &a.enc, dg, len), KEYS_ENOKEY);
    CU_ASSERT_PTR_NULL(k);
    /* A response proxy without its long-lived key. */
    kp = params4(keys, 2);
    kp.subst4 = false;
    CU_ASSERT_EQUAL(keys_new(&k, &kp, &a.enc, dg, len), KEYS_ETYPE);
    skeys_server_free(srv);
    /*
     * Client authentication (issue 15, spec §1.9): re-keyed too. Upstream our
     * cleartext v4 CLIENT_KEY passes the server's check; downstream a
     * client's passes ours, and a forged one does not.
     */
    srv = server4(srvk, true);
    len = announce4(srv, dg, sizeof(dg));
    decode4(dg, len, &a);
    kp = params4(keys, 2);
    CU_ASSERT_EQUAL_FATAL(keys_new(&k, &kp, &a.enc, dg, len), CRYPTO_OK);
    CU_ASSERT_TRUE(keys_client_auth(k));
    size_t ckl = 0;
    const uint8_t *ck = keys_client_key(k, &ckl);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ck);
    CU_ASSERT_EQUAL(ck[0], CLIENT_KEY);
    size_t udl;
    const uint8_t *udh = keys_dh_up(k, &udl);
    struct skeys_peer *sp = NULL;
    CU_ASSERT_EQUAL_FATAL(skeys_server_register(srv, PROXY, udh, udl, keys_rand2(k), &sp),
                          CRYPTO_OK);
    CU_ASSERT_FALSE(skeys_peer_keyed(sp)); /* client auth: keyed by a valid CLIENT_KEY only */
    CU_ASSERT_EQUAL(skeys_server_client_key(srv, sp, ck, ckl, NULL, 0), CRYPTO_OK);
    CU_ASSERT_TRUE(skeys_peer_keyed(sp));
    skeys_peer_free(sp);
    /* A client of ours, with the ANNOUNCE as we forward it. */
    CU_ASSERT_EQUAL_FATAL(keys_announce4(k, dg, len, &a.enc), CRYPTO_OK);
    decode4(dg, len, &b);
    struct crypto_key *ckey = load("ec256_a.pem");
    struct skeys_client_cfg c2 = {.group_id = GROUP,
                                  .server_id = SERVER,
                                  .client_id = 0x0A000302,
                                  .sigkey = ckey,
                                  .addrlen = 4};
    memcpy(c2.addr, PRIV, 4);
    crypto_random(c2.rand2, sizeof(c2.rand2));
    cli = NULL;
    CU_ASSERT_EQUAL_FATAL(skeys_client_new(&cli, &c2, &b.enc, dg, len), CRYPTO_OK);
    CU_ASSERT_EQUAL_FATAL(skeys_client_handshake(cli), CRYPTO_OK);
    size_t cdl, cml;
    const uint8_t *cdh = skeys_client_dh(cli, &cdl);
    uint8_t r2[WIRE_RAND_LEN];
    skeys_client_rand2(cli, r2);
    struct kpeer *kc = NULL;
    CU_ASSERT_EQUAL_FATAL(keys_peer_new(k, &kc, 0x0A000302, cdh, cdl, r2), CRYPTO_OK);
    CU_ASSERT_FALSE(keys_peer_registered(k, kc));
    const uint8_t *cm = skeys_client_client_key(cli, &cml);
    CU_ASSERT_PTR_NOT_NULL_FATAL(cm);
    uint8_t forged[1024];
    CU_ASSERT_FATAL(cml <= sizeof(forged));
    memcpy(forged, cm, cml);
    forged[cml - 1] ^= 1; /* the signature's last byte */
    CU_ASSERT_NOT_EQUAL(keys_peer_client_key(k, kc, 0x0A000302, forged, cml, NULL, 0), CRYPTO_OK);
    CU_ASSERT_FALSE(keys_peer_registered(k, kc));
    uint8_t wrongfp[FP_LEN] = {0};
    CU_ASSERT_EQUAL(keys_peer_client_key(k, kc, 0x0A000302, cm, cml, wrongfp, FP_LEN), KEYS_EFP);
    CU_ASSERT_EQUAL(keys_peer_client_key(k, kc, 0x0A000302, cm, cml, NULL, 0), CRYPTO_OK);
    CU_ASSERT_TRUE(keys_peer_registered(k, kc));
    keys_peer_free(kc);
    skeys_client_free(cli);
    crypto_key_free(ckey);
    keys_free(k);
    skeys_server_free(srv);
    crypto_key_free(srvk);
    crypto_key_free(rsa);
    crypto_key_free(mine);
}

static const struct cu_test keys_tests[] = {
    {"v4 PROXY_KEY: ECDSA P-256 and P-384 signing keys", test_ec},
    {"v4 PROXY_KEY: RSA signing key, P-521 ECDH key", test_rsa},
    {"v4 PROXY_KEY: refusals", test_errors},
    {"v4 client proxy: key substitution, re-signing, refusals, client auth", test_subst},
    {NULL, NULL},
};

CU_MAIN({"proxy/keys", keys_tests})
