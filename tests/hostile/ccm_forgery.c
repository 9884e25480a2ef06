/*
 * Issue 14 item 10: forged datagrams must not spend the key a session uses.
 *
 *   ccm_forgery
 *
 * An AES-128-CCM session key, both ends (core/crypto/skeys: what uftpd
 * opens the server's datagrams with). The receiving key's budget is fast-
 * forwarded to 1000 blocks before its end, since reaching a real limit
 * takes ~2^33.5 blocks: 194 GB of forged datagrams, days on this machine,
 * though a few hours of a 10 Gbit/s link. Then datagrams of junk that
 * fail authentication arrive (a forger needs no key for that), 1000
 * blocks' worth, and the genuine next datagram of the session. With
 * failures counted against the key's usage, as on main, the key is
 * retired and the session ends: the genuine datagram is refused. Counted
 * apart (skeys.h: forged against a forgery limit 1024 times RFC 9001's),
 * it opens. Figure: forged blocks, and whether the genuine datagram opened.
 * A real-daemon test is not practical at these volumes; this drives the
 * very code uftpd runs. Exit 0 on success, 1 on failure.
 */
#include <stdio.h>
#include <string.h>

#include "core/crypto/aead.h"
#include "core/crypto/crypto.h"
#include "core/crypto/ks5.h"
#include "core/crypto/skeys.h"
#include "core/wire/msg.h"

static size_t seal_one(struct skeys_dir *tx, uint64_t *ctr, uint8_t *dg, size_t cap, size_t mlen)
{
    struct uftp_hdr h = {
        .version = UFTP_VER5, .func = FILESEG, .src_id = 0x0A000001, .group_id = 7};
    uftp_hdr_encode(dg, UFTP_HDR_LEN, &h);
    memset(dg + SKEYS_MSG_OFF, 0x42, mlen);
    ssize_t n = skeys_seal(tx, ctr, dg, mlen, cap);
    return n < 0 ? 0 : (size_t)n;
}

int main(void)
{
    struct ks5_dir k;
    memset(&k, 0, sizeof(k));
    for (size_t i = 0; i < sizeof(k.key); i++)
        k.key[i] = (uint8_t)(i * 7 + 1);
    for (size_t i = 0; i < sizeof(k.iv); i++)
        k.iv[i] = (uint8_t)(i * 3 + 2);
    struct skeys_dir tx, rx;
    if (skeys_dir_init(&tx, KEY_AES128_CCM, &k, AEAD_DIR_SEAL) != CRYPTO_OK ||
        skeys_dir_init(&rx, KEY_AES128_CCM, &k, AEAD_DIR_OPEN) != CRYPTO_OK) {
        fprintf(stderr, "ccm_forgery: no AES-CCM\n");
        return 1;
    }
    printf("receiving key: %llu blocks allowed before it is retired\n",
           (unsigned long long)rx.limit);
    uint64_t ctr = 0;
    static uint8_t dg[2048], bad[2048];
    const uint8_t *msg;
    size_t mlen;
    /* A genuine datagram opens. */
    size_t n = seal_one(&tx, &ctr, dg, sizeof(dg), 1300);
    struct skeys_dir *keys[1] = {&rx};
    if (n == 0 || skeys_open(keys, 1, NULL, dg, n, NULL, &msg, &mlen, NULL) != CRYPTO_OK) {
        fprintf(stderr, "ccm_forgery: a genuine datagram did not open\n");
        return 1;
    }
    /* The key near the end of its budget, as after 194 GB of forgeries. */
    rx.limit = rx.used + 1000;
    /* Forgeries: a genuine-looking datagram with its tag broken, 1000 blocks' worth. */
    uint64_t forged = 0;
    unsigned nf = 0;
    while (forged < 1000) {
        size_t m = seal_one(&tx, &ctr, bad, sizeof(bad), 1300);
        bad[m - 1] ^= 0x5a;
        int rc = skeys_open(keys, 1, NULL, bad, m, NULL, &msg, &mlen, NULL);
        if (rc != CRYPTO_EAUTH && rc != SKEYS_ELIMIT) {
            fprintf(stderr, "ccm_forgery: a forgery gave %d\n", rc);
            return 1;
        }
        forged += skeys_blocks(1300);
        nf++;
    }
    /* The session's next genuine datagram. */
    n = seal_one(&tx, &ctr, dg, sizeof(dg), 1300);
    int rc = skeys_open(keys, 1, NULL, dg, n, NULL, &msg, &mlen, NULL);
    printf("FIGURE: %u forged datagrams (%llu blocks, the key's remaining budget): the genuine "
           "next datagram %s\n",
           nf, (unsigned long long)forged,
           rc == CRYPTO_OK ? "opened: the session goes on"
                           : "was refused: the key is retired, the session ends");
    skeys_dir_clear(&tx);
    skeys_dir_clear(&rx);
    return rc == CRYPTO_OK ? 0 : 1;
}
