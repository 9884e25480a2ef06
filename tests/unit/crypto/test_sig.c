/* Signatures in the UFTP wire forms (core/crypto/sig.c), and real captures. */
#include "core/crypto/crypto.h"
#include "core/crypto/keyblob.h"
#include "core/crypto/keyfile.h"
#include "core/crypto/sig.h"
#include "core/proto/keysched.h"
#include "core/wire/buf.h"
#include "core/wire/wire.h"
#include "cu.h"
#include "tv.h"

#define KEYDIR "tests/unit/crypto/vectors/keys/"
static const char msg[] = "UFTP test message";

static struct crypto_key *load(const char *file)
{
    char path[256];
    snprintf(path, sizeof(path), "%s%s", KEYDIR, file);
    struct crypto_key *k = NULL;
    CU_ASSERT_EQUAL(keyfile_read(cu_srcpath(path), &k), CRYPTO_OK);
    return k;
}

/* A public-only copy, as a peer would have it. */
static struct crypto_key *public_of(const struct crypto_key *k)
{
    size_t len;
    const uint8_t *b = crypto_key_blob(k, &len);
    struct crypto_key *p = NULL;
    CU_ASSERT_EQUAL(keyblob_import(b, len, 0, &p), CRYPTO_OK);
    return p;
}

/*
 * RSA PKCS#1 v1.5 is deterministic. These are the 5.0.1 reference's
 * create_RSA_sig outputs (hash the message, RSA_sign the digest), which
 * pyca's sign(PKCS1v15, H) over the message reproduces byte for byte: the
 * reference hashes once, with DigestInfo, like EVP_DigestSign.
 */
static void test_rsa_known(void)
{
    static const struct {
        int hash;
        const char *sig;
    } v[] = {
        {HASH_SHA256,
         "a3a793427d5fa8f53fadad368899d109994b54342668995ce7e7d2379d498fc8a0a44eeef80aa336b6217451"
         "342edf9b088ead09a67f9cbfde05c720ac5fb064e666cd9245a827041d65f94cdf928325da3195dc89383048"
         "7a06ac930f767f5cbc6f60f96ba6973524260d1a9937f32047d785fb1762eafe87db1a3fbc7910a6446e6510"
         "1ba0960dea532de241f1a1567e3ce60381d10e36b8b9926a1ef5e1856abddaca9cba0da1a921113cac8e10e7"
         "299d418990d9511ec1c82a29bb70d27200bfd1b72549474a0aefb354c0dd433f9a3296a8e2c79e642f7e0b88"
         "5b77895d73d1e767162ef2059489e7cf71f05dd2d0106bfa8641d00c4e977907db05904c"},
        {HASH_SHA1,
         "731c6d1935d7b2f8c282b55dd6a68fb391d2a7c8cde2f57b37c979da7dbe85a072694ab9f4c8f59e03232a1b"
         "6e64b2858275889a0ef458f810f2620569802bc6f70ee57d76f37160af3041444cb334d845520c85ac8386b7"
         "e0d5d3f952384f57b05c1c328823c01d31c5a4ec637799476c3d43453c46df14ac7e1c514a334eae44fc4701"
         "d3aa3295d780c5c775e87169b7b380d64d319737b5baac1ca958f2a1b79a7130215772668762cedf710b5955"
         "5587791cb7affa4c2f25ed5cdab1687e6a5e80d4800fb44b1442468966883d77213aab034cebf99de9457ae8"
         "ac46124338213f5a2c7f7274d0d44aaa6500ac991eeed9be002276bcdfea631c9d32062b"},
        {HASH_SHA512,
         "a30a631f06fd5420180d259e285fa2d1051751f6a84a1d082798488a4ced6ed3bf8424dbad973a4875a79bdd"
         "459dad03e7dd4700e0232eef9170f0293f169844836f50e9a540798b7c8a1153c3b1cfe0f592bc8c9c86d004"
         "4024c2ac399a5a1eab37bee91bdc4f5c1c6116fa085babc24a12dcdb325df50000993ef529ea8da32261d703"
         "024afed33e6c4c733b48833834023d5c952a06c394fa5cd7c23b454852f2dcd3d293f0f09d12493491b71cf1"
         "f2bef6a30db70c126976e6fd2432f83b766e17ac548f4fd64bbebca0361ac76a1806bf0170da28287b445e82"
         "6c053a93ec2316243c6d833e34ee1df5aa200d9682383441bfcfc8f5228e8ec38fcba821"},
    };
    struct crypto_key *k = load("rsa2048.pem");
    CU_ASSERT_PTR_NOT_NULL_FATAL(k);
    struct crypto_key *pub = public_of(k);
    CU_ASSERT_EQUAL(sig_len(k), 256);
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        uint8_t sig[SIG_MAX];
        struct crypto_iov m = {msg, sizeof(msg) - 1};
        CU_ASSERT_EQUAL(sig_sign(k, v[i].hash, &m, 1, sig, sizeof(sig)), 256);
        CU_ASSERT_TRUE(tv_eq(sig, 256, v[i].sig));
        CU_ASSERT_EQUAL(sig_verify(pub, v[i].hash, &m, 1, sig, 256), CRYPTO_OK);
        CU_ASSERT_EQUAL(sig_verify(pub, v[i].hash, &m, 1, sig, 255), CRYPTO_ESIG);
        int other = v[i].hash == HASH_SHA256 ? HASH_SHA384 : HASH_SHA256;
        CU_ASSERT_EQUAL(sig_verify(pub, other, &m, 1, sig, 256), CRYPTO_ESIG);
        sig[100] ^= 4;
        CU_ASSERT_EQUAL(sig_verify(pub, v[i].hash, &m, 1, sig, 256), CRYPTO_ESIG);
    }
    uint8_t sig[SIG_MAX];
    struct crypto_iov m = {msg, sizeof(msg) - 1};
    CU_ASSERT_EQUAL(sig_sign(k, HASH_SHA256, &m, 1, sig, 255), CRYPTO_ENOSPC);
    CU_ASSERT_EQUAL(sig_sign(k, HASH_MD5, &m, 1, sig, sizeof(sig)), CRYPTO_EINVAL);
    CU_ASSERT_EQUAL(sig_sign(pub, HASH_SHA256, &m, 1, sig, sizeof(sig)), CRYPTO_EINVAL);
    crypto_key_free(pub);
    crypto_key_free(k);
}

/*
 * ECDSA signatures made by the reference's create_ECDSA_sig (random k, so
 * only verification can be checked): the r/s layout and the hashing must
 * match for these to verify.
 */
static void test_ecdsa_from_reference(void)
{
    static const struct {
        const char *file;
        int hash;
        const char *sig;
    } v[] = {
        {"ec256_a.pem", HASH_SHA384,
         "00200020fa5c1d23435ab3179047cf02abddaee557c024196a7fe4d77529aaf93721523fca04841d67075472"
         "096c052ba1b39d884cbab5d789d28d5a9fbd0a907dc8c01b"},
        {"ec521_a.pem", HASH_SHA512,
         "0042004201723f920fb2e5d9a09c8fa4f390753c43930b04416a46c25e6a0e3bf15597d358e6fb7d048089d4"
         "8286fb1daf19fc20e4cd45ee21287d3291526792c7b5dbaa0f2701ab001df281ab2bfa4c056b9ed6e689d71d"
         "b0a90bac7f11b50d233a4992a0e3458fcfcaaeb9f85dcec85a51502eb3b94e9ec48089edac1942e03d7322be"
         "3f1cc8b4"},
    };
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        struct crypto_key *k = load(v[i].file);
        CU_ASSERT_PTR_NOT_NULL_FATAL(k);
        struct crypto_key *pub = public_of(k);
        uint8_t sig[SIG_MAX];
        long sl = tv_hex(sig, sizeof(sig), v[i].sig);
        CU_ASSERT_EQUAL((size_t)sl, sig_len(k));
        struct crypto_iov m = {msg, sizeof(msg) - 1};
        CU_ASSERT_EQUAL(sig_verify(pub, v[i].hash, &m, 1, sig, (size_t)sl), CRYPTO_OK);
        sig[10] ^= 1;
        CU_ASSERT_EQUAL(sig_verify(pub, v[i].hash, &m, 1, sig, (size_t)sl), CRYPTO_ESIG);
        crypto_key_free(pub);
        crypto_key_free(k);
    }
}

static void test_ecdsa_roundtrip(void)
{
    static const struct {
        const char *file;
        size_t coord;
    } v[] = {{"ec256_a.pem", 32}, {"ec384_a.pem", 48}, {"ec521_a.pem", 66}};
    static const int hashes[] = {HASH_SHA1, HASH_SHA256, HASH_SHA384, HASH_SHA512};
    for (size_t i = 0; i < 3; i++) {
        struct crypto_key *k = load(v[i].file);
        CU_ASSERT_PTR_NOT_NULL_FATAL(k);
        struct crypto_key *pub = public_of(k);
        CU_ASSERT_EQUAL(sig_len(k), 4 + 2 * v[i].coord);
        for (size_t h = 0; h < 4; h++) {
            /* Many signatures, so short r or s (a leading zero byte) turn up. */
            for (int n = 0; n < 20; n++) {
                uint8_t sig[SIG_MAX];
                struct crypto_iov m[2] = {{msg, 5}, {msg + 5, sizeof(msg) - 6}};
                int sl = sig_sign(k, hashes[h], m, 2, sig, sizeof(sig));
                CU_ASSERT_EQUAL_FATAL(sl, (int)sig_len(k));
                /* spec §1.3: rlen = slen = coord, zero-padded on the left. */
                CU_ASSERT_EQUAL(be16_get(sig), v[i].coord);
                CU_ASSERT_EQUAL(be16_get(sig + 2), v[i].coord);
                struct crypto_iov whole = {msg, sizeof(msg) - 1};
                CU_ASSERT_EQUAL(sig_verify(pub, hashes[h], &whole, 1, sig, (size_t)sl), CRYPTO_OK);
                whole.len--;
                CU_ASSERT_EQUAL(sig_verify(pub, hashes[h], &whole, 1, sig, (size_t)sl),
                                CRYPTO_ESIG);
            }
        }
        crypto_key_free(pub);
        crypto_key_free(k);
    }
}

/* Verifiers honour rlen/slen: other splits of the same r and s verify too. */
static void test_ecdsa_rlen_slen(void)
{
    struct crypto_key *k = load("ec256_a.pem");
    CU_ASSERT_PTR_NOT_NULL_FATAL(k);
    struct crypto_key *pub = public_of(k);
    struct crypto_iov m = {msg, sizeof(msg) - 1};
    uint8_t sig[68], alt[80];
    CU_ASSERT_EQUAL_FATAL(sig_sign(k, HASH_SHA256, &m, 1, sig, sizeof(sig)), 68);
    /* r with two extra leading zeros, s as is, and a trailing byte. */
    memset(alt, 0, sizeof(alt));
    be16_put(alt, 34);
    be16_put(alt + 2, 32);
    memcpy(alt + 6, sig + 4, 32);
    memcpy(alt + 38, sig + 36, 32);
    CU_ASSERT_EQUAL(sig_verify(pub, HASH_SHA256, &m, 1, alt, 71), CRYPTO_OK);
    /* Lengths that run past the signature, or leave nothing, fail. */
    CU_ASSERT_EQUAL(sig_verify(pub, HASH_SHA256, &m, 1, alt, 69), CRYPTO_ESIG);
    be16_put(alt, 0);
    CU_ASSERT_EQUAL(sig_verify(pub, HASH_SHA256, &m, 1, alt, 71), CRYPTO_ESIG);
    /* r longer than the coordinate once zeros are stripped. */
    be16_put(sig, 33);
    be16_put(sig + 2, 31);
    CU_ASSERT_EQUAL(sig_verify(pub, HASH_SHA256, &m, 1, sig, 68), CRYPTO_ESIG);
    CU_ASSERT_EQUAL(sig_verify(pub, HASH_SHA256, &m, 1, sig, 3), CRYPTO_ESIG);
    CU_ASSERT_EQUAL(sig_verify(pub, HASH_SHA256, &m, 1, sig, 0), CRYPTO_ESIG);
    crypto_key_free(pub);
    crypto_key_free(k);
}

static void test_der_conversion(void)
{
    uint8_t der[SIG_DER_MAX], rs[200];
    /* r = 0x80 (needs a 0x00 in DER), s = 0x01 with leading zeros on the wire. */
    static const uint8_t w1[] = {0, 1, 0, 3, 0x80, 0, 0, 1};
    CU_ASSERT_EQUAL(sig_ecdsa_rs_to_der(w1, sizeof(w1), 32, der, sizeof(der)), 9);
    CU_ASSERT_TRUE(tv_eq(der, 9, "30 07 02020080 020101"));
    CU_ASSERT_EQUAL(sig_ecdsa_rs_to_der(w1, sizeof(w1), 32, der, 8), CRYPTO_ENOSPC);
    CU_ASSERT_EQUAL(sig_ecdsa_der_to_rs(der, 9, 32, rs, sizeof(rs)), 68);
    CU_ASSERT_EQUAL(be16_get(rs), 32);
    CU_ASSERT_EQUAL(be16_get(rs + 2), 32);
    CU_ASSERT_EQUAL(rs[35], 0x80);
    CU_ASSERT_EQUAL(rs[67], 0x01);
    CU_ASSERT_EQUAL(sig_ecdsa_der_to_rs(der, 9, 32, rs, 67), CRYPTO_ENOSPC);
    /* P-521 sized values need the long length form. */
    uint8_t w2[4 + 132];
    be16_put(w2, 66);
    be16_put(w2 + 2, 66);
    memset(w2 + 4, 0xff, 132);
    w2[4] = 0x01, w2[70] = 0x01;
    int dl = sig_ecdsa_rs_to_der(w2, sizeof(w2), 66, der, sizeof(der));
    CU_ASSERT_EQUAL(dl, 3 + 2 * (2 + 66));
    CU_ASSERT_EQUAL(der[1], 0x81);
    CU_ASSERT_EQUAL(sig_ecdsa_der_to_rs(der, (size_t)dl, 66, rs, sizeof(rs)), 136);
    CU_ASSERT_EQUAL(memcmp(rs, w2, 136), 0);
    CU_ASSERT_EQUAL(sig_ecdsa_rs_to_der(w2, sizeof(w2), 66, der, (size_t)dl - 1), CRYPTO_ENOSPC);
    /* Malformed wire forms. */
    static const uint8_t bad1[] = {0, 2, 0, 2, 1, 2, 3}; /* s runs past the end */
    static const uint8_t bad2[] = {0, 1, 0, 1, 0, 5};    /* r = 0 */
    static const uint8_t bad3[] = {0, 1, 0, 1, 5, 0};    /* s = 0 */
    static const uint8_t bad4[] = {0, 1};                /* no slen */
    CU_ASSERT_EQUAL(sig_ecdsa_rs_to_der(bad1, sizeof(bad1), 32, der, sizeof(der)), CRYPTO_ESIG);
    CU_ASSERT_EQUAL(sig_ecdsa_rs_to_der(bad2, sizeof(bad2), 32, der, sizeof(der)), CRYPTO_ESIG);
    CU_ASSERT_EQUAL(sig_ecdsa_rs_to_der(bad3, sizeof(bad3), 32, der, sizeof(der)), CRYPTO_ESIG);
    CU_ASSERT_EQUAL(sig_ecdsa_rs_to_der(bad4, sizeof(bad4), 32, der, sizeof(der)), CRYPTO_ESIG);
    CU_ASSERT_EQUAL(sig_ecdsa_rs_to_der(w1, sizeof(w1), 0, der, sizeof(der)), CRYPTO_EINVAL);
    /* Malformed DER. */
    static const char *bad_der[] = {
        "30 07 02020080 0201",      /* truncated */
        "31 07 02020080 020101",    /* not a SEQUENCE */
        "30 08 02020080 020101 00", /* trailing byte inside */
        "30 07 02020080 020101 00", /* trailing byte outside */
        "30 06 020180 020101",      /* negative r */
        "30 05 0200 020101",        /* zero-length r */
        "30 81 07 02020080 020101", /* long form for a short length */
        "30 07 03020080 020101",    /* not an INTEGER */
        "30 07 02020000 020101",    /* r = 0 */
        "30 26 0221 01"
        "0000000000000000000000000000000000000000000000000000000000000000"
        "020101",
        /* r of 33 significant bytes: longer than a P-256 coordinate */
    };
    for (size_t i = 0; i < sizeof(bad_der) / sizeof(bad_der[0]); i++) {
        uint8_t d[32];
        long n = tv_hex(d, sizeof(d), bad_der[i]);
        CU_ASSERT_EQUAL(sig_ecdsa_der_to_rs(d, (size_t)n, 32, rs, sizeof(rs)), CRYPTO_ESIG);
    }
}

/* Offsets of EXT_ENC_INFO's pieces within an ANNOUNCE over IPv4. */
struct enc_info {
    size_t ext, extlen, blob, bloblen, sig, siglen;
};

static struct enc_info find_enc_info(const uint8_t *d)
{
    struct enc_info e;
    e.ext = 16 + 16 + 2 * 4; /* UFTP header, ANNOUNCE fixed part, two IPv4 addresses */
    e.extlen = (size_t)d[e.ext + 1] * 4;
    e.bloblen = be16_get(d + e.ext + 6);
    e.blob = e.ext + 44;
    e.sig = e.blob + e.bloblen + be16_get(d + e.ext + 8);
    e.siglen = be16_get(d + e.ext + 10);
    return e;
}

/* spec §1.4: the ANNOUNCE signature covers the whole datagram, signature zeroed. */
static bool verify_announce(const uint8_t *d, size_t len, struct crypto_key **key_out)
{
    struct enc_info e = find_enc_info(d);
    struct crypto_key *k = NULL;
    if (keyblob_import(d + e.blob, e.bloblen, 0, &k) != CRYPTO_OK)
        return false;
    uint8_t z[2048], sig[SIG_MAX];
    memcpy(z, d, len);
    memcpy(sig, d + e.sig, e.siglen);
    memset(z + e.sig, 0, e.siglen);
    struct crypto_iov m = {z, len};
    int hash = d[e.ext + 5];
    bool ok = sig_verify(k, hash, &m, 1, sig, e.siglen) == CRYPTO_OK;
    if (key_out)
        *key_out = k;
    else
        crypto_key_free(k);
    return ok;
}

static void test_capture_signatures(void)
{
    struct tv_file f;
    CU_ASSERT_TRUE_FATAL(tv_load(&f, "tests/unit/crypto/vectors/captures.txt"));
    uint8_t ann[2048], ki[2048];
    long al = tv_bytes(&f.c[0], "announce", ann, sizeof(ann));
    long kl = tv_bytes(&f.c[0], "keyinfo", ki, sizeof(ki));

    /* v5 ANNOUNCE signed by the server's ECDSA P-256 key, SHA-256. */
    struct crypto_key *server = NULL;
    CU_ASSERT_TRUE(verify_announce(ann, (size_t)al, &server));
    CU_ASSERT_PTR_NOT_NULL_FATAL(server);
    CU_ASSERT_EQUAL(crypto_key_curve(server), CURVE_P256);
    /* Any other byte changed breaks it (seq, a blob byte, the client list). */
    static const size_t flips[] = {2, 60, 200, 290};
    for (size_t i = 0; i < 4; i++) {
        ann[flips[i]] ^= 1;
        CU_ASSERT_FALSE(verify_announce(ann, (size_t)al, NULL));
        ann[flips[i]] ^= 1;
    }

    /*
     * v5 KEYINFO: Sign("UFTP 5, KEYINFO" || S_ctx || datagram with the
     * signature zeroed). This checks the S_ctx built by core/proto/keysched.
     */
    struct enc_info e = find_enc_info(ann);
    uint8_t sctx[KEYSCHED_S_CTX_MAX];
    ssize_t sl = keysched_s_ctx(sctx, sizeof(sctx), be32_get(ann + 8), ann[12], be32_get(ann + 4),
                                ann + e.ext, e.extlen);
    CU_ASSERT_EQUAL_FATAL(sl, 9 + 248);
    size_t ksig = 16 + 12, ksiglen = be16_get(ki + 16 + 2);
    CU_ASSERT_EQUAL(ksiglen, 68);
    uint8_t sig[SIG_MAX];
    memcpy(sig, ki + ksig, ksiglen);
    memset(ki + ksig, 0, ksiglen);
    struct crypto_iov m[3] = {
        {KEYSCHED_SIG_KEYINFO, sizeof(KEYSCHED_SIG_KEYINFO) - 1},
        {sctx, (size_t)sl},
        {ki, (size_t)kl},
    };
    CU_ASSERT_EQUAL(sig_verify(server, HASH_SHA256, m, 3, sig, ksiglen), CRYPTO_OK);
    /* Without the zeroed signature inside S_ctx it would not verify. */
    sctx[9 + 44 + 68 + 68 + 10] ^= 1;
    CU_ASSERT_EQUAL(sig_verify(server, HASH_SHA256, m, 3, sig, ksiglen), CRYPTO_ESIG);
    crypto_key_free(server);

    /* v4 (UFTP 4.10.2) ANNOUNCE: the same signature rule. */
    CU_ASSERT_STRING_EQUAL(f.c[1].title, "uftp4-aes256gcm");
    al = tv_bytes(&f.c[1], "announce", ann, sizeof(ann));
    CU_ASSERT_EQUAL(ann[0], UFTP_VER4);
    CU_ASSERT_TRUE(verify_announce(ann, (size_t)al, NULL));
    tv_free(&f);
}

static const struct cu_test sig_tests[] = {
    {"RSA PKCS#1 v1.5 known answers (reference)", test_rsa_known},
    {"ECDSA signatures made by the reference verify", test_ecdsa_from_reference},
    {"ECDSA sign/verify, padded r/s", test_ecdsa_roundtrip},
    {"ECDSA verifiers honour rlen/slen", test_ecdsa_rlen_slen},
    {"r/s <-> DER conversion", test_der_conversion},
    {"signatures in the real captures", test_capture_signatures},
    {NULL, NULL},
};

CU_MAIN({"crypto/sig", sig_tests})
