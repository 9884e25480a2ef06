/*
 * uftp_keymgt: lists private keys with their fingerprints, or generates
 * one (spec §2.4). Output lines match the 5.0.1 tool's and go to stderr
 * like its output; unlike it, a key file is created 0600 with O_EXCL and
 * never overwritten, only 2048..3072-bit RSA is generated, and the exit
 * status says whether everything worked.
 *
 *   uftp_keymgt [keyfile ...]
 *   uftp_keymgt -g rsa:BITS|ec:CURVE keyfile
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/crypto/crypto.h"
#include "core/crypto/fp.h"
#include "core/crypto/keyblob.h"
#include "core/crypto/keyfile.h"
#include "core/wire/wire.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: uftp_keymgt [keyfile ...]\n"
               "       uftp_keymgt -g rsa:BITS|ec:CURVE keyfile\n"
               "\n"
               "Without -g, prints the type and SHA-1 fingerprint of each private key.\n"
               "  -g SPEC   generate a key into keyfile (PEM, mode 0600, never overwritten):\n"
               "            rsa:2048 .. rsa:3072, or ec:prime256v1 (= secp256r1),\n"
               "            ec:secp384r1, ec:secp521r1\n"
               "  -m        accepted and ignored (Windows machine key store)\n"
               "  -h, --help  this text\n");
}

/* The reference's line: "name: RSA, N bits, fingerprint: ..." or "name: ECDSA, curve C, ...". */
static int print_key(const char *name, const struct crypto_key *k)
{
    size_t len;
    const uint8_t *blob = crypto_key_blob(k, &len);
    uint8_t fp[FP_LEN];
    char s[FP_STR_LEN];
    if (fp_compute(blob, len, fp) != CRYPTO_OK || fp_format(fp, FP_LEN, s, sizeof(s)) < 0)
        return 1;
    if (crypto_key_type(k) == KEYBLOB_RSA)
        fprintf(stderr, "%s: RSA, %d bits, fingerprint: %s\n", name, crypto_key_bits(k), s);
    else
        fprintf(stderr, "%s: ECDSA, curve %s, fingerprint: %s\n", name,
                keyblob_curve_name(crypto_key_curve(k)), s);
    return 0;
}

static int list_key(const char *path)
{
    struct crypto_key *k;
    int rc = keyfile_read(path, &k);
    if (rc != CRYPTO_OK) {
        int e = errno;
        if (rc == CRYPTO_EIO)
            fprintf(stderr, "uftp_keymgt: %s: %s\n", path, strerror(e));
        else
            fprintf(stderr, "uftp_keymgt: %s: %s\n", path, crypto_strerror(rc));
        fprintf(stderr, "%s: no such key\n", path);
        return 1;
    }
    rc = print_key(path, k);
    crypto_key_free(k);
    return rc;
}

static int generate(const char *spec, const char *path)
{
    int type, param;
    int rc = keyfile_parse_spec(spec, &type, &param);
    if (rc == CRYPTO_EINVAL) {
        fprintf(stderr, "Invalid key size (RSA keys are %d to %d bits)\n", KEYFILE_RSA_MIN,
                KEYFILE_RSA_MAX);
        return 1;
    }
    if (rc != CRYPTO_OK) {
        fprintf(stderr,
                strncmp(spec, "ec:", 3) ? "Invalid key specification\n" : "Invalid curve\n");
        return 1;
    }
    struct crypto_key *k;
    rc = type == KEYBLOB_RSA ? keyfile_gen_rsa(param, &k) : keyfile_gen_ec(param, &k);
    if (rc == CRYPTO_OK) {
        rc = keyfile_write(path, k);
        if (rc == CRYPTO_OK)
            rc = print_key(path, k);
        else if (rc == CRYPTO_EIO)
            fprintf(stderr, "uftp_keymgt: %s: %s\n", path, strerror(errno));
        else
            fprintf(stderr, "uftp_keymgt: %s: %s\n", path, crypto_strerror(rc));
        crypto_key_free(k);
    }
    if (rc != CRYPTO_OK) {
        fprintf(stderr, "Error generating/storing key\n");
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *spec = NULL;
    int c;
    while ((c = getopt_long(argc, argv, "g:mdh", longopts, NULL)) != -1) {
        switch (c) {
        case 'g':
            spec = optarg;
            break;
        case 'm':
            break;
        case 'd':
            fprintf(stderr, "uftp_keymgt: -d: key containers exist only on Windows\n");
            return 1;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 1;
        }
    }
    argc -= optind;
    argv += optind;

    if (spec) {
        if (argc != 1) {
            fprintf(stderr, argc ? "Only one keyfile may be generated at a time\n"
                                 : "No keyfile specified\n");
            return 1;
        }
        return generate(spec, argv[0]);
    }
    int rc = 0;
    for (int i = 0; i < argc; i++)
        rc |= list_key(argv[i]);
    return rc;
}
