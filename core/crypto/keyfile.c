#include "core/crypto/crypto_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/encoder.h>
#include <openssl/pem.h>

#include "core/crypto/ecdh.h"
#include "core/crypto/keyfile.h"
#include "core/wire/wire.h"

/* Never prompt: an encrypted key simply fails to load. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)u;
    return -1;
}

static int read_all(int fd, uint8_t *buf, size_t cap, size_t *len)
{
    size_t n = 0;
    for (;;) {
        if (n == cap)
            return CRYPTO_EKEYFILE; /* larger than any key file we accept */
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return CRYPTO_EIO;
        if (r == 0)
            break;
        n += (size_t)r;
    }
    *len = n;
    return CRYPTO_OK;
}

int keyfile_read(const char *path, struct crypto_key **out)
{
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return CRYPTO_EIO;
    struct stat st;
    if (fstat(fd, &st) < 0) {
        int e = errno;
        close(fd);
        errno = e;
        return CRYPTO_EIO;
    }
    if (!S_ISREG(st.st_mode) || st.st_size > KEYFILE_MAX_SIZE) {
        close(fd);
        return CRYPTO_EKEYFILE;
    }
    uint8_t *buf = malloc(KEYFILE_MAX_SIZE);
    if (!buf) {
        close(fd);
        return CRYPTO_ENOMEM;
    }
    size_t len = 0;
    int rc = read_all(fd, buf, KEYFILE_MAX_SIZE, &len);
    int e = errno;
    close(fd);
    errno = e;
    if (rc == CRYPTO_OK) {
        BIO *b = BIO_new_mem_buf(buf, (int)len);
        EVP_PKEY *pk =
            b ? PEM_read_bio_PrivateKey_ex(b, NULL, no_passphrase, NULL, NULL, NULL) : NULL;
        BIO_free(b);
        if (!pk) {
            ci_clear_errors();
            rc = b ? CRYPTO_EKEYFILE : CRYPTO_ENOMEM;
        } else {
            rc = ci_key_wrap(pk, true, out);
            if (rc == CRYPTO_EBLOB)
                rc = CRYPTO_EKEYFILE;
        }
    }
    OPENSSL_cleanse(buf, KEYFILE_MAX_SIZE);
    free(buf);
    return rc;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int keyfile_write(const char *path, const struct crypto_key *k)
{
    if (!k->priv)
        return CRYPTO_EINVAL;
    /* PKCS#1 / SEC1 ("type-specific"), unencrypted, named curve (the
     * default encoding of the keys we generate). */
    OSSL_ENCODER_CTX *ec =
        OSSL_ENCODER_CTX_new_for_pkey(k->pk, EVP_PKEY_KEYPAIR, "PEM", "type-specific", NULL);
    BIO *b = BIO_new(BIO_s_mem());
    int rc = CRYPTO_ELIB;
    char *pem = NULL;
    long pemlen = 0;
    if (!ec || !b || OSSL_ENCODER_CTX_get_num_encoders(ec) == 0 || !OSSL_ENCODER_to_bio(ec, b) ||
        (pemlen = BIO_get_mem_data(b, &pem)) <= 0)
        goto out;

    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600);
    if (fd < 0) {
        rc = errno == EEXIST ? CRYPTO_EEXIST : CRYPTO_EIO;
        goto out;
    }
    /* The file is ours (O_EXCL); make the mode exact whatever the umask. */
    if (fchmod(fd, 0600) < 0 || write_all(fd, pem, (size_t)pemlen) < 0 || fsync(fd) < 0) {
        int e = errno;
        close(fd);
        unlink(path);
        errno = e;
        rc = CRYPTO_EIO;
        goto out;
    }
    if (close(fd) < 0) {
        int e = errno;
        unlink(path);
        errno = e;
        rc = CRYPTO_EIO;
        goto out;
    }
    rc = CRYPTO_OK;
out:
    if (pem && pemlen > 0)
        OPENSSL_cleanse(pem, (size_t)pemlen);
    BIO_free(b);
    OSSL_ENCODER_CTX_free(ec);
    if (rc == CRYPTO_ELIB)
        ci_clear_errors();
    return rc;
}

int keyfile_gen_rsa(int bits, struct crypto_key **out)
{
    *out = NULL;
    if (bits < KEYFILE_RSA_MIN || bits > KEYFILE_RSA_MAX)
        return CRYPTO_EINVAL;
    /* EVP_PKEY_Q_keygen's RSA default exponent is 65537, as the reference's. */
    EVP_PKEY *pk = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);
    if (!pk) {
        ci_clear_errors();
        return CRYPTO_ELIB;
    }
    return ci_key_wrap(pk, true, out);
}

int keyfile_gen_ec(int curve, struct crypto_key **out)
{
    return ecdh_keygen(curve, out);
}

int keyfile_gen_ephemeral(struct crypto_key **out)
{
    return ecdh_keygen(CURVE_P256, out);
}

int keyfile_parse_spec(const char *spec, int *type, int *param)
{
    if (!strncmp(spec, "ec:", 3)) {
        int c = keyblob_curve_by_name(spec + 3);
        if (!c)
            return CRYPTO_EFORMAT;
        *type = KEYBLOB_EC;
        *param = c;
        return CRYPTO_OK;
    }
    if (!strncmp(spec, "rsa:", 4)) {
        const char *d = spec + 4;
        long v = 0;
        if (*d == '\0' || strlen(d) > 5)
            return CRYPTO_EFORMAT;
        for (; *d; d++) {
            if (*d < '0' || *d > '9')
                return CRYPTO_EFORMAT;
            v = v * 10 + (*d - '0');
        }
        if (v < KEYFILE_RSA_MIN || v > KEYFILE_RSA_MAX)
            return CRYPTO_EINVAL;
        *type = KEYBLOB_RSA;
        *param = (int)v;
        return CRYPTO_OK;
    }
    return CRYPTO_EFORMAT;
}
