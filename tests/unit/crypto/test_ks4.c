/*
 * The v4 key schedule (core/crypto/ks4.c) against vectors/keysched4.txt,
 * cross-checked with the 5.0.1 reference's functions and a Python model.
 */
#include <stdlib.h>

#include "core/crypto/aead.h"
#include "core/crypto/cbc.h"
#include "core/crypto/crypto.h"
#include "core/crypto/ecdh.h"
#include "core/crypto/keyblob.h"
#include "core/crypto/keyfile.h"
#include "core/crypto/ks4.h"
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

static bool has(const struct tv_case *c, const char *name)
{
    for (size_t i = 0; i < c->n; i++)
        if (!strcmp(c->e[i].name, name))
            return true;
    return false;
}

#define CHECK(name, p, n) CU_ASSERT_TRUE(tv_eq((p), (n), tv_get(c, (name))))

/* v4 ENCRYPTED datagram: the same framing, nonce (salt ^ src_id) || ctr. */
static size_t seal_packet(int keytype, const struct ks4_keys *k, const uint8_t *hdr,
                          const uint8_t *msg, size_t mlen, uint64_t ctr, uint8_t *out)
{
    memcpy(out, hdr, 16);
    out[1] = ENCRYPTED;
    be64_put(out + 16, ctr);
    be16_put(out + 24, 0); /* v4: signature length, 0 with AEAD */
    be16_put(out + 26, (uint16_t)(mlen + AEAD_TAG_LEN));
    uint8_t nonce[AEAD_NONCE_LEN];
    aead_nonce_v4(nonce, k->salt, be32_get(hdr + 4), ctr);
    struct aead *a;
    CU_ASSERT_EQUAL_FATAL(aead_new(&a, keytype, k->key), CRYPTO_OK);
    CU_ASSERT_EQUAL(aead_seal(a, nonce, out, 28, msg, out + 28, mlen, out + 28 + mlen), CRYPTO_OK);
    aead_free(a);
    return 28 + mlen + AEAD_TAG_LEN;
}

static void run_case(const struct tv_case *c)
{
    int hash = (int)num(c, "hash"), key = (int)num(c, "key");
    size_t kl = aead_key_len(key);
    struct crypto_key *peer_priv = load(c, "peer_ecdh_file"), *cli = load(c, "client_ecdh_file");
    CU_ASSERT_PTR_NOT_NULL_FATAL(peer_priv);
    CU_ASSERT_PTR_NOT_NULL_FATAL(cli);
    size_t bl;
    const uint8_t *b = crypto_key_blob(peer_priv, &bl);
    struct crypto_key *peer;
    CU_ASSERT_EQUAL_FATAL(keyblob_import(b, bl, KEYBLOB_EC, &peer), CRYPTO_OK);

    uint8_t z[ECDH_SECRET_MAX], pm[20];
    int zl = ecdh_shared_secret(cli, peer, z, sizeof(z));
    CHECK("ecdh_secret", z, (size_t)zl);
    /* spec §1.9: the v4 premaster is SHA-1 of the secret. */
    CU_ASSERT_EQUAL(ecdh_premaster(cli, peer, HASH_SHA1, pm), 20);
    CHECK("premaster", pm, 20);

    uint8_t r1[32], r2[32], master[KS4_MASTER_LEN];
    tv_bytes(c, "rand1", r1, 32);
    tv_bytes(c, "rand2", r2, 32);
    CU_ASSERT_EQUAL(ks4_master(hash, pm, 20, r1, r2, master), CRYPTO_OK);
    CHECK("master", master, 48);
    struct ks4_keys hs, gk;
    CU_ASSERT_EQUAL(ks4_handshake(hash, key, master, r1, r2, &hs), CRYPTO_OK);
    CHECK("hs_key", hs.key, kl);
    CHECK("hs_salt", hs.salt, 4);

    uint32_t sid = (uint32_t)num(c, "server_id");
    uint64_t kctr = num(c, "keyinfo_ctr");
    uint8_t iv[CBC_IV_LEN], gm[KS4_GM_LEN], ge[48], back[KS4_GM_LEN];
    cbc_v4_iv(iv, hs.salt, sid, kctr);
    CHECK("keyinfo_iv", iv, 16);
    tv_bytes(c, "group_master", gm, sizeof(gm));
    CU_ASSERT_EQUAL(ks4_gm_wrap(key, &hs, sid, kctr, gm, ge), CRYPTO_OK);
    CHECK("gm_enc", ge, 48);
    CU_ASSERT_EQUAL(ks4_gm_unwrap(key, &hs, sid, kctr, ge, back), CRYPTO_OK);
    CU_ASSERT_EQUAL(memcmp(back, gm, 48), 0); /* including the 0x40 version byte */
    /* The wrong counter garbles the first block only: padding survives, so a
     * wrong counter is not detected here (v4 KEYINFO has no integrity). */
    CU_ASSERT_EQUAL(ks4_gm_unwrap(key, &hs, sid, kctr + 1, ge, back), CRYPTO_OK);
    CU_ASSERT_NOT_EQUAL(memcmp(back, gm, 48), 0);
    /* The wrong key is (almost always) caught by the padding. */
    struct ks4_keys bad = hs;
    bad.key[0] ^= 1;
    CU_ASSERT_EQUAL(ks4_gm_unwrap(key, &bad, sid, kctr, ge, back), CRYPTO_EAUTH);

    CU_ASSERT_EQUAL(ks4_group(hash, key, gm, r1, &gk), CRYPTO_OK);
    CHECK("group_key", gk.key, kl);
    CHECK("group_salt", gk.salt, 4);

    uint8_t addr[16], vc[KEYSCHED_V4_CTX_MAX];
    long al = tv_bytes(c, "private_addr", addr, sizeof(addr));
    ssize_t vl = keysched_v4_verify_ctx(vc, sizeof(vc), (uint32_t)num(c, "group_id"), addr,
                                        (size_t)al, r1, r2, pm, 20, NULL, 0, NULL);
    CHECK("client_key_ctx", vc, (size_t)vl);
    struct crypto_key *cs = has(c, "client_sig_file") ? load(c, "client_sig_file") : NULL;
    size_t csl = 0;
    const uint8_t *csb = cs ? crypto_key_blob(cs, &csl) : NULL;
    vl = keysched_v4_verify_ctx(vc, sizeof(vc), (uint32_t)num(c, "group_id"), addr, (size_t)al, r1,
                                r2, pm, 20, csb, csl, gm);
    CHECK("verify_ctx", vc, (size_t)vl);
    uint8_t fin[KS4_VERIFY_LEN];
    CU_ASSERT_EQUAL(ks4_finished(hash, gm, vc, (size_t)vl, fin), CRYPTO_OK);
    CHECK("finished", fin, 12);

    uint8_t nonce[12], hdr[16], msg[256], pkt[512];
    aead_nonce_v4(nonce, gk.salt, sid, num(c, "server_ctr"));
    CHECK("server_nonce", nonce, 12);
    tv_bytes(c, "server_hdr", hdr, sizeof(hdr));
    long ml = tv_bytes(c, "server_msg", msg, sizeof(msg));
    size_t n = seal_packet(key, &gk, hdr, msg, (size_t)ml, num(c, "server_ctr"), pkt);
    CHECK("server_packet", pkt, n);
    uint8_t ack[16] = {KEYINFO_ACK, 4, 0, 0};
    memcpy(ack + 4, fin, 12);
    tv_bytes(c, "client_hdr", hdr, sizeof(hdr));
    n = seal_packet(key, &gk, hdr, ack, 16, num(c, "client_ctr"), pkt);
    CHECK("client_packet", pkt, n);

    crypto_wipe(&hs, sizeof(hs));
    crypto_wipe(&gk, sizeof(gk));
    crypto_key_free(cs);
    crypto_key_free(peer);
    crypto_key_free(peer_priv);
    crypto_key_free(cli);
}

static void test_vectors(void)
{
    struct tv_file f;
    CU_ASSERT_TRUE_FATAL(tv_load(&f, VDIR "keysched4.txt"));
    CU_ASSERT_EQUAL(f.n, 3);
    for (size_t i = 0; i < f.n; i++)
        run_case(&f.c[i]);
    tv_free(&f);
}

static void test_bad_types(void)
{
    uint8_t pm[20] = {1}, r[32] = {2}, m[48], gm[48] = {0x40}, out[12];
    struct ks4_keys k;
    /* v4 servers must use SHA-256/384/512 (spec §1.9 item 2). */
    CU_ASSERT_EQUAL(ks4_master(HASH_SHA1, pm, 20, r, r, m), CRYPTO_EINVAL);
    CU_ASSERT_EQUAL(ks4_handshake(HASH_SHA256, KEY_AES256_CBC, gm, r, r, &k), CRYPTO_EINVAL);
    CU_ASSERT_EQUAL(ks4_group(HASH_SHA256, KEY_DES, gm, r, &k), CRYPTO_EINVAL);
    CU_ASSERT_EQUAL(ks4_finished(HASH_MD5, gm, pm, 20, out), CRYPTO_EINVAL);
}

static const struct cu_test ks4_tests[] = {
    {"vectors cross-checked with the reference", test_vectors},
    {"bad hash and key types", test_bad_types},
    {NULL, NULL},
};

CU_MAIN({"crypto/ks4", ks4_tests})
