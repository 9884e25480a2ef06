/*
 * Per-packet cost of core/crypto's AEAD (issue 18), for bench/aead.sh: for
 * each AEAD key type, the time to seal and to open one packet of the sizes
 * UFTP sends (1300- and 8800-byte blocks plus the FILESEG header), against
 * the cipher's own cost on this CPU (the same bytes sealed 65,000 at a
 * time, where OpenSSL's per-call work vanishes): the difference is what
 * each packet pays for going through EVP one at a time. Times are the
 * thread's CPU time, the best of five tries.
 *
 *   bench_aead [SECONDS_PER_CASE]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/crypto/aead.h"
#include "core/wire/wire.h"

/* CPU time of this thread: a shared machine's other work does not count. */
static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ns per call of seal (open = false) or open of len bytes, over about secs seconds. */
static double per_call1(struct aead *a, bool open, uint8_t *buf, size_t len, double secs)
{
    uint8_t iv[AEAD_NONCE_LEN] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    uint8_t nonce[AEAD_NONCE_LEN], aad[28] = {0x50, 18}, tag[AEAD_TAG_LEN];
    uint64_t ctr = 1, n = 0;
    /* open needs a valid tag: seal once per counter value first, outside the timing */
    static uint8_t ct[65536], ct_tag[AEAD_TAG_LEN];
    aead_nonce_v5(nonce, iv, 7);
    if (open && aead_seal(a, nonce, aad, sizeof(aad), buf, ct, len, ct_tag) != 0)
        return -1;
    double t0 = now(), t;
    do {
        for (int i = 0; i < 256; i++, n++) {
            if (open) {
                /* in place would destroy ct on the first call: out of place */
                if (aead_open(a, nonce, aad, sizeof(aad), ct, buf, len, ct_tag) != 0)
                    return -1;
            } else {
                aead_nonce_v5(nonce, iv, ctr++);
                if (aead_seal(a, nonce, aad, sizeof(aad), buf, buf, len, tag) != 0)
                    return -1;
            }
        }
        t = now();
    } while (t - t0 < secs);
    return (t - t0) / (double)n * 1e9;
}

/* The best of five tries of secs/5 each (cache and frequency effects of a shared CPU). */
static double per_call(struct aead *a, bool open, uint8_t *buf, size_t len, double secs)
{
    double best = -1;
    for (int i = 0; i < 5; i++) {
        double t = per_call1(a, open, buf, len, secs / 5);
        if (t < 0)
            return -1;
        if (best < 0 || t < best)
            best = t;
    }
    return best;
}

int main(int argc, char **argv)
{
    double secs = argc > 1 ? atof(argv[1]) : 0.5;
    if (secs <= 0)
        secs = 0.5;
    static const struct {
        int type;
        const char *name;
    } kt[] = {{KEY_AES128_GCM, "aes128-gcm"},
              {KEY_AES256_GCM, "aes256-gcm"},
              {KEY_AES128_CCM, "aes128-ccm"},
              {KEY_AES256_CCM, "aes256-ccm"}};
    static const size_t lens[] = {1308, 8808};
    static uint8_t buf[65536];
    for (size_t i = 0; i < sizeof(buf); i++)
        buf[i] = (uint8_t)(i * 131 + 7);
    uint8_t key[AEAD_KEY_MAX];
    memset(key, 0x5A, sizeof(key));
    printf("%-11s %6s %10s %10s %10s %10s %10s %10s\n", "cipher", "bytes", "seal ns", "open ns",
           "floor ns", "seal over", "seal s/GiB", "open s/GiB");
    for (size_t k = 0; k < sizeof(kt) / sizeof(kt[0]); k++) {
        struct aead *a;
        if (aead_new(&a, kt[k].type, key) != 0) {
            fprintf(stderr, "aead_new %s failed\n", kt[k].name);
            return 1;
        }
        /* The cipher's own cost per byte: 65,000-byte calls. */
        double big = per_call(a, false, buf, 65000, secs) / 65000.0;
        for (size_t l = 0; l < 2; l++) {
            double s = per_call(a, false, buf, lens[l], secs);
            double o = per_call(a, true, buf, lens[l], secs);
            if (s < 0 || o < 0) {
                fprintf(stderr, "%s failed\n", kt[k].name);
                return 1;
            }
            double floor = big * (double)lens[l];
            /* s/GiB of payload: the FILESEG header (8 bytes) is not file data */
            double per_gib = 1073741824.0 / (double)(lens[l] - 8) / 1e9;
            printf("%-11s %6zu %10.0f %10.0f %10.0f %10.0f %10.3f %10.3f\n", kt[k].name, lens[l], s,
                   o, floor, s - floor, s * per_gib, o * per_gib);
        }
        aead_free(a);
    }
    printf(
        "(floor: the cipher's cost for those bytes in 65,000-byte calls; seal over: what one\n"
        " packet pays beyond it; s/GiB: CPU seconds per GiB of file data, one block a packet)\n");
    return 0;
}
