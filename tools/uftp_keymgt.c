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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/crypto/crypto.h"
#include "core/crypto/fp.h"
#include "core/crypto/keyblob.h"
#include "core/crypto/keyfile.h"
#include "core/wire/wire.h"
#include "tools/keymgt_opts.h"

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

static void warn_ignored(void *arg, const char *msg)
{
    (void)arg;
    fprintf(stderr, "uftp_keymgt: warning: %s\n", msg);
}

int main(int argc, char **argv)
{
    struct uftp_keymgt_settings st = {0};
    struct conf_err e;
    struct conf_cmd cmd;
    const struct conf_spec *spec = &uftp_keymgt_conf_spec;
    int rc = conf_defaults(spec, &st, &e);
    if (rc == 0)
        rc = conf_parse_args(spec, &st, argc, argv, &cmd, &e);
    if (rc < 0) {
        fprintf(stderr, "uftp_keymgt: %s\nTry 'uftp_keymgt --help' for more information.\n", e.msg);
        conf_free(spec, &st);
        return 1;
    }
    if (cmd.help) {
        conf_help(spec, stdout);
        conf_free(spec, &st);
        return 0;
    }
    (void)conf_ignored(spec, &st, warn_ignored, NULL);
    argc -= cmd.optind;
    argv += cmd.optind;

    if (st.generate != NULL && st.delete_container) {
        fprintf(stderr, "Can't specify both -g and -d\n");
        rc = 1;
    } else if ((st.generate != NULL || st.delete_container) && argc == 0) {
        fprintf(stderr, "No keyfile specified\n");
        rc = 1;
    } else if (st.generate != NULL && argc > 1) {
        fprintf(stderr, "Only one keyfile may be generated at a time\n");
        rc = 1;
    } else if (st.generate != NULL) {
        rc = generate(st.generate, argv[0]);
    } else if (!st.delete_container) {
        /* -d: the reference deletes a Windows key container, here there is nothing to do. */
        for (int i = 0; i < argc; i++)
            rc |= list_key(argv[i]);
    }
    conf_free(spec, &st);
    return rc;
}
