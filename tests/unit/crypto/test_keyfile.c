/* Key files and key generation (core/crypto/keyfile.c). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/crypto/crypto.h"
#include "core/crypto/keyblob.h"
#include "core/crypto/keyfile.h"
#include "core/wire/buf.h"
#include "core/wire/wire.h"
#include "cu.h"
#include "tv.h"

#define KEYDIR "tests/unit/crypto/vectors/keys/"

static int read_key(const char *file, struct crypto_key **k)
{
    char path[256];
    snprintf(path, sizeof(path), "%s%s", KEYDIR, file);
    return keyfile_read(cu_srcpath(path), k);
}

static void test_read_formats(void)
{
    static const struct {
        const char *file;
        int rc, type, curve, bits;
    } v[] = {
        {"ec256_a.pem", CRYPTO_OK, KEYBLOB_EC, CURVE_P256, 256},       /* SEC1 */
        {"ec256_a_pkcs8.pem", CRYPTO_OK, KEYBLOB_EC, CURVE_P256, 256}, /* PKCS#8 */
        {"ec384_b.pem", CRYPTO_OK, KEYBLOB_EC, CURVE_P384, 384},
        {"ec521_b.pem", CRYPTO_OK, KEYBLOB_EC, CURVE_P521, 521},
        {"rsa2048.pem", CRYPTO_OK, KEYBLOB_RSA, 0, 2048},       /* PKCS#1 */
        {"rsa2048_pkcs8.pem", CRYPTO_OK, KEYBLOB_RSA, 0, 2048}, /* PKCS#8 */
        {"rsa1024.pem", CRYPTO_OK, KEYBLOB_RSA, 0, 1024},       /* read, never generated */
        /* Explicit P-256 parameters are recognised as the named curve. */
        {"ec256_explicit.pem", CRYPTO_OK, KEYBLOB_EC, CURVE_P256, 256},
        {"ec256_a_encrypted.pem", CRYPTO_EKEYFILE, 0, 0, 0}, /* no prompt, just refused */
        {"ec_secp256k1.pem", CRYPTO_EKEYFILE, 0, 0, 0},
        {"ed25519.pem", CRYPTO_EKEYFILE, 0, 0, 0},
        {"rsa4096.pem", CRYPTO_EKEYFILE, 0, 0, 0}, /* its blob would not fit 392 bytes */
        {"README.md", CRYPTO_EKEYFILE, 0, 0, 0},
    };
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        struct crypto_key *k = (struct crypto_key *)1;
        int rc = read_key(v[i].file, &k);
        if (rc != v[i].rc)
            fprintf(stderr, "\n  %s: %d\n", v[i].file, rc);
        CU_ASSERT_EQUAL(rc, v[i].rc);
        if (rc != CRYPTO_OK) {
            CU_ASSERT_PTR_NULL(k);
            continue;
        }
        CU_ASSERT_EQUAL(crypto_key_type(k), v[i].type);
        CU_ASSERT_EQUAL(crypto_key_curve(k), v[i].curve);
        CU_ASSERT_EQUAL(crypto_key_bits(k), v[i].bits);
        CU_ASSERT_TRUE(crypto_key_has_private(k));
        crypto_key_free(k);
    }
}

static char tmpdir[64];

static void make_tmpdir(void)
{
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/uftp-keyfile-XXXXXX");
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(tmpdir));
}

static void rm_tmpdir(const char *const *names, size_t n)
{
    char p[128];
    for (size_t i = 0; i < n; i++) {
        snprintf(p, sizeof(p), "%s/%s", tmpdir, names[i]);
        unlink(p);
    }
    rmdir(tmpdir);
}

static void test_read_errors(void)
{
    struct crypto_key *k;
    errno = 0;
    CU_ASSERT_EQUAL(keyfile_read("/nonexistent/key.pem", &k), CRYPTO_EIO);
    CU_ASSERT_EQUAL(errno, ENOENT);
    CU_ASSERT_EQUAL(keyfile_read("/tmp", &k), CRYPTO_EKEYFILE);
    make_tmpdir();
    char p[128];
    snprintf(p, sizeof(p), "%s/empty", tmpdir);
    int fd = open(p, O_WRONLY | O_CREAT | O_EXCL, 0600);
    CU_ASSERT_TRUE(fd >= 0);
    close(fd);
    CU_ASSERT_EQUAL(keyfile_read(p, &k), CRYPTO_EKEYFILE);
    /* A file larger than any key is refused before it is parsed. */
    snprintf(p, sizeof(p), "%s/big", tmpdir);
    fd = open(p, O_WRONLY | O_CREAT | O_EXCL, 0600);
    CU_ASSERT_EQUAL(ftruncate(fd, KEYFILE_MAX_SIZE + 1), 0);
    close(fd);
    CU_ASSERT_EQUAL(keyfile_read(p, &k), CRYPTO_EKEYFILE);
    static const char *const names[] = {"empty", "big"};
    rm_tmpdir(names, 2);
}

static void slurp(const char *path, char *buf, size_t cap, size_t *len)
{
    int fd = open(path, O_RDONLY);
    ssize_t n = fd >= 0 ? read(fd, buf, cap - 1) : -1;
    *len = n > 0 ? (size_t)n : 0;
    buf[*len] = '\0';
    if (fd >= 0)
        close(fd);
}

static void test_write(void)
{
    make_tmpdir();
    char p[128], q[128], buf[8192];
    size_t len;
    struct stat st;
    mode_t old = umask(0); /* even a permissive umask gives 0600 */

    struct crypto_key *ec, *rsa;
    CU_ASSERT_EQUAL_FATAL(keyfile_gen_ec(CURVE_P256, &ec), CRYPTO_OK);
    snprintf(p, sizeof(p), "%s/ec.pem", tmpdir);
    CU_ASSERT_EQUAL(keyfile_write(p, ec), CRYPTO_OK);
    CU_ASSERT_EQUAL(stat(p, &st), 0);
    CU_ASSERT_EQUAL(st.st_mode & 07777, 0600);
    slurp(p, buf, sizeof(buf), &len);
    /* SEC1 with a named curve: short, and the reference's PEM label. */
    CU_ASSERT_EQUAL(strncmp(buf, "-----BEGIN EC PRIVATE KEY-----\n", 31), 0);
    CU_ASSERT_TRUE(len < 300);
    struct crypto_key *back;
    CU_ASSERT_EQUAL_FATAL(keyfile_read(p, &back), CRYPTO_OK);
    size_t l1, l2;
    const uint8_t *b1 = crypto_key_blob(ec, &l1), *b2 = crypto_key_blob(back, &l2);
    CU_ASSERT_TRUE(l1 == l2 && memcmp(b1, b2, l1) == 0);
    crypto_key_free(back);

    /* Never overwrite: the file keeps its contents. */
    char before[8192];
    size_t blen;
    slurp(p, before, sizeof(before), &blen);
    CU_ASSERT_EQUAL(keyfile_write(p, ec), CRYPTO_EEXIST);
    slurp(p, buf, sizeof(buf), &len);
    CU_ASSERT_TRUE(len == blen && memcmp(buf, before, len) == 0);

    /* Never follow a symlink, dangling or not. */
    snprintf(q, sizeof(q), "%s/link", tmpdir);
    char target[128];
    snprintf(target, sizeof(target), "%s/target", tmpdir);
    CU_ASSERT_EQUAL(symlink(target, q), 0);
    CU_ASSERT_EQUAL(keyfile_write(q, ec), CRYPTO_EEXIST);
    CU_ASSERT_NOT_EQUAL(access(target, F_OK), 0);

    CU_ASSERT_EQUAL_FATAL(keyfile_gen_rsa(2048, &rsa), CRYPTO_OK);
    CU_ASSERT_EQUAL(crypto_key_bits(rsa), 2048);
    const uint8_t *rb = crypto_key_blob(rsa, &l1);
    CU_ASSERT_EQUAL(be32_get(rb + 4), 65537);
    snprintf(p, sizeof(p), "%s/rsa.pem", tmpdir);
    CU_ASSERT_EQUAL(keyfile_write(p, rsa), CRYPTO_OK);
    slurp(p, buf, sizeof(buf), &len);
    CU_ASSERT_EQUAL(strncmp(buf, "-----BEGIN RSA PRIVATE KEY-----\n", 32), 0);
    CU_ASSERT_EQUAL(stat(p, &st), 0);
    CU_ASSERT_EQUAL(st.st_mode & 07777, 0600);
    CU_ASSERT_EQUAL(keyfile_read(p, &back), CRYPTO_OK);
    b2 = crypto_key_blob(back, &l2);
    CU_ASSERT_TRUE(l1 == l2 && memcmp(rb, b2, l1) == 0);
    crypto_key_free(back);

    /* A public key cannot be written; a missing directory is an I/O error. */
    struct crypto_key *pub;
    CU_ASSERT_EQUAL(keyblob_import(rb, l1, 0, &pub), CRYPTO_OK);
    snprintf(p, sizeof(p), "%s/pub.pem", tmpdir);
    CU_ASSERT_EQUAL(keyfile_write(p, pub), CRYPTO_EINVAL);
    crypto_key_free(pub);
    snprintf(p, sizeof(p), "%s/nodir/x.pem", tmpdir);
    CU_ASSERT_EQUAL(keyfile_write(p, ec), CRYPTO_EIO);

    umask(old);
    crypto_key_free(ec);
    crypto_key_free(rsa);
    static const char *const names[] = {"ec.pem", "rsa.pem", "link"};
    rm_tmpdir(names, 3);
}

static void test_generate(void)
{
    struct crypto_key *k = (struct crypto_key *)1;
    CU_ASSERT_EQUAL(keyfile_gen_rsa(1024, &k), CRYPTO_EINVAL);
    CU_ASSERT_PTR_NULL(k);
    CU_ASSERT_EQUAL(keyfile_gen_rsa(4096, &k), CRYPTO_EINVAL);
    CU_ASSERT_EQUAL(keyfile_gen_rsa(2047, &k), CRYPTO_EINVAL);
    CU_ASSERT_EQUAL(keyfile_gen_ec(0, &k), CRYPTO_EINVAL);
    static const int curves[] = {CURVE_P256, CURVE_P384, CURVE_P521};
    for (size_t i = 0; i < 3; i++) {
        CU_ASSERT_EQUAL_FATAL(keyfile_gen_ec(curves[i], &k), CRYPTO_OK);
        CU_ASSERT_EQUAL(crypto_key_curve(k), curves[i]);
        crypto_key_free(k);
    }
    /* The ephemeral signing key of a sender without -k: EC P-256. */
    CU_ASSERT_EQUAL_FATAL(keyfile_gen_ephemeral(&k), CRYPTO_OK);
    CU_ASSERT_EQUAL(crypto_key_type(k), KEYBLOB_EC);
    CU_ASSERT_EQUAL(crypto_key_curve(k), CURVE_P256);
    CU_ASSERT_TRUE(crypto_key_has_private(k));
    crypto_key_free(k);
}

static void test_parse_spec(void)
{
    int t = 0, p = 0;
    CU_ASSERT_EQUAL(keyfile_parse_spec("rsa:2048", &t, &p), CRYPTO_OK);
    CU_ASSERT_EQUAL(t, KEYBLOB_RSA);
    CU_ASSERT_EQUAL(p, 2048);
    CU_ASSERT_EQUAL(keyfile_parse_spec("rsa:3072", &t, &p), CRYPTO_OK);
    CU_ASSERT_EQUAL(keyfile_parse_spec("ec:prime256v1", &t, &p), CRYPTO_OK);
    CU_ASSERT_EQUAL(t, KEYBLOB_EC);
    CU_ASSERT_EQUAL(p, CURVE_P256);
    CU_ASSERT_EQUAL(keyfile_parse_spec("ec:secp256r1", &t, &p), CRYPTO_OK);
    CU_ASSERT_EQUAL(p, CURVE_P256);
    CU_ASSERT_EQUAL(keyfile_parse_spec("ec:secp384r1", &t, &p), CRYPTO_OK);
    CU_ASSERT_EQUAL(p, CURVE_P384);
    CU_ASSERT_EQUAL(keyfile_parse_spec("ec:secp521r1", &t, &p), CRYPTO_OK);
    CU_ASSERT_EQUAL(p, CURVE_P521);
    CU_ASSERT_EQUAL(keyfile_parse_spec("rsa:1024", &t, &p), CRYPTO_EINVAL);
    CU_ASSERT_EQUAL(keyfile_parse_spec("rsa:3073", &t, &p), CRYPTO_EINVAL);
    static const char *bad[] = {"",          "rsa",          "rsa:",         "rsa:2048x",
                                "rsa:-2048", "rsa: 2048",    "rsa:99999999", "RSA:2048",
                                "ec:",       "ec:secp256k1", "ec:P-256",     "dsa:1024"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CU_ASSERT_EQUAL(keyfile_parse_spec(bad[i], &t, &p), CRYPTO_EFORMAT);
}

static const struct cu_test keyfile_tests[] = {
    {"reads PKCS#1, SEC1 and PKCS#8; refuses the rest", test_read_formats},
    {"read errors", test_read_errors},
    {"writes 0600, never overwrites or follows links", test_write},
    {"key generation", test_generate},
    {"generation specs", test_parse_spec},
    {NULL, NULL},
};

CU_MAIN({"crypto/keyfile", keyfile_tests})
