/*
 * The v5 key schedule (core/crypto/ks5.c) against vectors/keysched5.txt,
 * whose every value was also produced by the 5.0.1 reference's own
 * functions and by an independent Python model (see the file's header).
 * The context strings come from core/proto/keysched.c, so this also pins
 * their exact bytes.
 */
#include <stdlib.h>

#include "core/crypto/aead.h"
#include "core/crypto/crypto.h"
#include "core/crypto/ecdh.h"
#include "core/crypto/hkdf.h"
#include "core/crypto/keyblob.h"
#include "core/crypto/keyfile.h"
#include "core/crypto/ks5.h"
#include "core/proto/keysched.h"
#include "core/wire/buf.h"
#include "core/wire/wire.h"
#include "cu.h"
#include "tv.h"

#define VDIR "tests/unit/crypto/vectors/"

static struct crypto_key *load(const struct tv_case *c, const char *name)
{
    char path[256];
    snprintf(path, sizeof(path), VDIR "%s", tv_get(c, name));
    struct crypto_key *k = NULL;
    CU_ASSERT_EQUAL(keyfile_read(cu_srcpath(path), &k), CRYPTO_OK);
    return k;
}

static uint64_t num(const struct tv_case *c, const char *name)
{
    return strtoull(tv_get(c, name), NULL, 16);
}

#define CHECK(name, p, n) CU_ASSERT_TRUE(tv_eq((p), (n), tv_get(c, (name))))

/* Builds an ENCRYPTED datagram as spec §1.8 describes: AAD = first 28 bytes. */
static size_t seal_packet(int keytype, const struct ks5_dir *d, const uint8_t *hdr,
                          const uint8_t *msg, size_t mlen, uint64_t ctr, uint8_t *out)
{
    memcpy(out, hdr, 16);
    out[1] = ENCRYPTED;
    be64_put(out + 16, ctr);
    be16_put(out + 24, 0);
    be16_put(out + 26, (uint16_t)(mlen + AEAD_TAG_LEN));
    uint8_t nonce[AEAD_NONCE_LEN];
    aead_nonce_v5(nonce, d->iv, ctr);
    struct aead *a;
    CU_ASSERT_EQUAL_FATAL(aead_new(&a, keytype, d->key), CRYPTO_OK);
    CU_ASSERT_EQUAL(aead_seal(a, nonce, out, 28, msg, out + 28, mlen, out + 28 + mlen), CRYPTO_OK);
    aead_free(a);
    return 28 + mlen + AEAD_TAG_LEN;
}

static void run_case(const struct tv_case *c)
{
    int hash = (int)num(c, "hash"), key = (int)num(c, "key");
    size_t hl = crypto_hash_len(hash), kl = aead_key_len(key);
    struct crypto_key *peer_priv = load(c, "peer_ecdh_file"), *cli = load(c, "client_ecdh_file");
    CU_ASSERT_PTR_NOT_NULL_FATAL(peer_priv);
    CU_ASSERT_PTR_NOT_NULL_FATAL(cli);
    /* The client knows the peer only by its blob. */
    size_t bl;
    const uint8_t *b = crypto_key_blob(peer_priv, &bl);
    struct crypto_key *peer;
    CU_ASSERT_EQUAL_FATAL(keyblob_import(b, bl, KEYBLOB_EC, &peer), CRYPTO_OK);

    uint8_t z[ECDH_SECRET_MAX], pm[32];
    int zl = ecdh_shared_secret(cli, peer, z, sizeof(z));
    CHECK("ecdh_secret", z, (size_t)zl);
    CU_ASSERT_EQUAL(ecdh_premaster(cli, peer, HASH_SHA256, pm), 32);
    CHECK("premaster", pm, 32);
    /* The other end (server or proxy) gets the same premaster. */
    uint8_t pm2[32];
    size_t cbl;
    const uint8_t *cb = crypto_key_blob(cli, &cbl);
    struct crypto_key *clipub;
    CU_ASSERT_EQUAL_FATAL(keyblob_import(cb, cbl, KEYBLOB_EC, &clipub), CRYPTO_OK);
    CU_ASSERT_EQUAL(ecdh_premaster(peer_priv, clipub, HASH_SHA256, pm2), 32);
    CU_ASSERT_EQUAL(memcmp(pm, pm2, 32), 0);

    /* Contexts. */
    static uint8_t ext[2048], pk[2048], ck[2048], sctx[KEYSCHED_S_CTX_MAX],
        pctx[KEYSCHED_P_CTX_MAX], c1[KEYSCHED_C_CTX1_MAX], c2[KEYSCHED_C_CTX2_MAX];
    long el = tv_bytes(c, "enc_info", ext, sizeof(ext));
    ssize_t sl = keysched_s_ctx(sctx, sizeof(sctx), (uint32_t)num(c, "group_id"),
                                (uint8_t)num(c, "group_inst"), (uint32_t)num(c, "server_id"), ext,
                                (size_t)el);
    CU_ASSERT_FATAL(sl > 0);
    CHECK("s_ctx", sctx, (size_t)sl);
    ssize_t pl = 0;
    for (size_t i = 0; i < c->n; i++)
        if (!strcmp(c->e[i].name, "proxy_key")) {
            long pkl = tv_bytes(c, "proxy_key", pk, sizeof(pk));
            pl = keysched_p_ctx(pctx, sizeof(pctx), (uint32_t)num(c, "proxy_id"), pk, (size_t)pkl);
            CU_ASSERT_FATAL(pl > 0);
            CHECK("p_ctx", pctx, (size_t)pl);
        }
    uint8_t rand2[32];
    tv_bytes(c, "rand2", rand2, sizeof(rand2));
    ssize_t c1l = keysched_c_ctx1(c1, sizeof(c1), sctx, (size_t)sl, pctx, (size_t)pl,
                                  (uint32_t)num(c, "client_id"), cb, cbl, rand2);
    CU_ASSERT_FATAL(c1l > 0);
    CHECK("c_ctx1", c1, (size_t)c1l);
    long ckl = 0;
    for (size_t i = 0; i < c->n; i++)
        if (!strcmp(c->e[i].name, "client_key"))
            ckl = tv_bytes(c, "client_key", ck, sizeof(ck));
    ssize_t c2l = keysched_c_ctx2(c2, sizeof(c2), c1, (size_t)c1l, ckl ? ck : NULL, (size_t)ckl);
    CU_ASSERT_FATAL(c2l > 0);
    CHECK("c_ctx2", c2, (size_t)c2l);

    /* Handshake. */
    uint8_t t[CRYPTO_HASH_MAX];
    CU_ASSERT_EQUAL(hkdf_extract(hash, NULL, 0, pm, 32, t), CRYPTO_OK);
    CHECK("hs_prk", t, hl);
    CU_ASSERT_EQUAL(crypto_hash(hash, c1, (size_t)c1l, t), CRYPTO_OK);
    CHECK("c_ctx1_hash", t, hl);
    struct ks5_hs hs;
    CU_ASSERT_EQUAL_FATAL(ks5_handshake(hash, key, pm, 32, c1, (size_t)c1l, &hs), CRYPTO_OK);
    CHECK("s_hs_secret", hs.s.secret, hl);
    CHECK("c_hs_secret", hs.c.secret, hl);
    CHECK("s_hs_key", hs.s.key, kl);
    CHECK("s_hs_iv", hs.s.iv, 12);
    CHECK("c_hs_key", hs.c.key, kl);
    CHECK("c_hs_iv", hs.c.iv, 12);

    /* Application keys. */
    uint8_t gm[KS5_GM_LEN];
    tv_bytes(c, "group_master", gm, sizeof(gm));
    CU_ASSERT_EQUAL(hkdf_extract(hash, NULL, 0, gm, 32, t), CRYPTO_OK);
    CHECK("app_prk", t, hl);
    CU_ASSERT_EQUAL(crypto_hash(hash, sctx, (size_t)sl, t), CRYPTO_OK);
    CHECK("s_ctx_hash", t, hl);
    struct ks5_dir sa;
    CU_ASSERT_EQUAL_FATAL(ks5_server_app(hash, key, gm, sctx, (size_t)sl, &sa), CRYPTO_OK);
    CHECK("s_app_secret", sa.secret, hl);
    CHECK("s_app_key", sa.key, kl);
    CHECK("s_app_iv", sa.iv, 12);
    CU_ASSERT_EQUAL(crypto_hash(hash, c2, (size_t)c2l, t), CRYPTO_OK);
    CHECK("c_ctx2_hash", t, hl);
    struct ks5_client ca;
    CU_ASSERT_EQUAL_FATAL(ks5_client_app(hash, key, gm, c2, (size_t)c2l, &ca), CRYPTO_OK);
    CHECK("c_app_secret", ca.c.secret, hl);
    CHECK("c_app_key", ca.c.key, kl);
    CHECK("c_app_iv", ca.c.iv, 12);
    CHECK("finished_key", ca.finished_key, hl);
    CHECK("verify_data", ca.verify, hl);
    uint8_t vd[CRYPTO_HASH_MAX];
    tv_bytes(c, "verify_data", vd, sizeof(vd));
    CU_ASSERT_TRUE(ks5_verify_ok(hash, &ca, vd, hl));
    CU_ASSERT_FALSE(ks5_verify_ok(hash, &ca, vd, hl - 1));
    vd[hl - 1] ^= 1;
    CU_ASSERT_FALSE(ks5_verify_ok(hash, &ca, vd, hl));

    /* KEYINFO group master entry. */
    uint64_t kctr = num(c, "keyinfo_ctr");
    uint8_t nonce[12], ge[KS5_GM_ENC_LEN], back[KS5_GM_LEN];
    aead_nonce_v5(nonce, hs.s.iv, kctr);
    CHECK("keyinfo_nonce", nonce, 12);
    CU_ASSERT_EQUAL(ks5_gm_wrap(key, &hs, kctr, c2, (size_t)c2l, gm, ge), CRYPTO_OK);
    CHECK("gm_enc", ge, KS5_GM_ENC_LEN);
    CU_ASSERT_EQUAL(ks5_gm_unwrap(key, &hs, kctr, c2, (size_t)c2l, ge, back), CRYPTO_OK);
    CU_ASSERT_EQUAL(memcmp(back, gm, 32), 0);
    /* Wrong counter, context or ciphertext: refused, output wiped. */
    static const uint8_t zero[KS5_GM_LEN];
    CU_ASSERT_EQUAL(ks5_gm_unwrap(key, &hs, kctr + 1, c2, (size_t)c2l, ge, back), CRYPTO_EAUTH);
    CU_ASSERT_EQUAL(memcmp(back, zero, sizeof(zero)), 0);
    CU_ASSERT_EQUAL(ks5_gm_unwrap(key, &hs, kctr, c1, (size_t)c1l - 1, ge, back), CRYPTO_EAUTH);
    ge[47] ^= 1;
    CU_ASSERT_EQUAL(ks5_gm_unwrap(key, &hs, kctr, c2, (size_t)c2l, ge, back), CRYPTO_EAUTH);

    /* ENCRYPTED datagrams under the server and client application keys. */
    uint8_t hdr[16], msg[256], pkt[512];
    tv_bytes(c, "server_hdr", hdr, sizeof(hdr));
    long ml = tv_bytes(c, "server_msg", msg, sizeof(msg));
    size_t n = seal_packet(key, &sa, hdr, msg, (size_t)ml, num(c, "server_ctr"), pkt);
    CHECK("server_packet", pkt, n);
    uint8_t ack[4 + CRYPTO_HASH_MAX];
    ack[0] = KEYINFO_ACK;
    ack[1] = (uint8_t)((4 + hl) / 4);
    be16_put(ack + 2, (uint16_t)hl);
    memcpy(ack + 4, ca.verify, hl);
    tv_bytes(c, "client_hdr", hdr, sizeof(hdr));
    n = seal_packet(key, &ca.c, hdr, ack, 4 + hl, num(c, "client_ctr"), pkt);
    CHECK("client_packet", pkt, n);

    crypto_wipe(&hs, sizeof(hs));
    crypto_wipe(&sa, sizeof(sa));
    crypto_wipe(&ca, sizeof(ca));
    crypto_key_free(clipub);
    crypto_key_free(peer);
    crypto_key_free(peer_priv);
    crypto_key_free(cli);
}

static void test_vectors(void)
{
    struct tv_file f;
    CU_ASSERT_TRUE_FATAL(tv_load(&f, VDIR "keysched5.txt"));
    CU_ASSERT_EQUAL(f.n, 4);
    for (size_t i = 0; i < f.n; i++)
        run_case(&f.c[i]);
    tv_free(&f);
}

static void test_bad_types(void)
{
    uint8_t pm[32] = {1}, ctx[8] = {2}, gm[32] = {3};
    struct ks5_hs hs;
    struct ks5_dir d;
    struct ks5_client cl;
    CU_ASSERT_EQUAL(ks5_handshake(HASH_SHA1, KEY_AES128_GCM, pm, 32, ctx, 8, &hs), CRYPTO_EINVAL);
    CU_ASSERT_EQUAL(ks5_handshake(HASH_SHA256, KEY_AES128_CBC, pm, 32, ctx, 8, &hs), CRYPTO_EINVAL);
    CU_ASSERT_EQUAL(ks5_server_app(HASH_MD5, KEY_AES128_GCM, gm, ctx, 8, &d), CRYPTO_EINVAL);
    CU_ASSERT_EQUAL(ks5_client_app(HASH_SHA256, 0, gm, ctx, 8, &cl), CRYPTO_EINVAL);
    CU_ASSERT_FALSE(ks5_verify_ok(HASH_NONE, &cl, cl.verify, 0));
    uint8_t out[48];
    memset(&hs, 0, sizeof(hs));
    CU_ASSERT_EQUAL(ks5_gm_wrap(KEY_AES256_CBC, &hs, 1, ctx, 8, gm, out), CRYPTO_EINVAL);
    CU_ASSERT_EQUAL(ks5_gm_wrap(KEY_AES256_GCM, &hs, 1, ctx, KEYSCHED_C_CTX2_MAX + 1, gm, out),
                    CRYPTO_EINVAL);
}

static const struct cu_test ks5_tests[] = {
    {"vectors cross-checked with the reference", test_vectors},
    {"bad hash and key types", test_bad_types},
    {NULL, NULL},
};

CU_MAIN({"crypto/ks5", ks5_tests})
