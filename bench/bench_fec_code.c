/*
 * Throughput of core/fec's erasure code (issue 17), for bench/fec_code.sh:
 * for block sizes 1300 and 8800 and typical FEC block sizes k and parity
 * counts m, the encode rate (source bytes covered per second: k·len per
 * FEC block, the figure to compare with a link's rate), the incremental
 * encode (one source block at a time, as a sender reading a file once
 * would), and the decode rate with e = m source blocks lost (source bytes
 * of the FEC block per second, and the microseconds one decode takes,
 * matrix inversion included: a receiver decodes each FEC block once).
 *
 *   bench_fec_code [SECONDS_PER_CASE]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/fec/fec.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    double secs = argc > 1 ? atof(argv[1]) : 0.3;
    if (secs <= 0)
        secs = 0.3;
    static const size_t lens[] = {1300, 8800};
    static const unsigned ks[] = {32, 64, 128, 200};
    static const unsigned ms[] = {4, 8, 16, 32};
    struct fec_codec *c;
    if (fec_codec_new(&c) != 0)
        return 1;
    printf("%6s %4s %4s %12s %12s %12s %10s\n", "block", "k", "m", "encode MB/s", "incr MB/s",
           "decode MB/s", "decode us");
    for (size_t li = 0; li < 2; li++) {
        size_t len = lens[li];
        for (size_t ki = 0; ki < 4; ki++) {
            unsigned k = ks[ki];
            uint8_t *data = malloc((size_t)(k + 2 * 32) * len);
            if (data == NULL)
                return 1;
            for (size_t i = 0; i < (size_t)(k + 2 * 32) * len; i++)
                data[i] = (uint8_t)(i * 2654435761u >> 13);
            for (size_t mi = 0; mi < 4; mi++) {
                unsigned m = ms[mi];
                if (m > k / 2 && m > 4)
                    continue;
                const uint8_t *src[FEC_MAX_K];
                uint8_t *par[32], *out[32];
                for (unsigned i = 0; i < k; i++)
                    src[i] = data + (size_t)i * len;
                for (unsigned i = 0; i < m; i++) {
                    par[i] = data + (size_t)(k + i) * len;
                    out[i] = data + (size_t)(k + 32 + i) * len;
                }
                /* Encode. */
                unsigned long n = 0;
                double t0 = now(), t;
                do {
                    fec_encode(c, k, 0, m, len, src, par);
                    n++;
                } while ((t = now() - t0) < secs);
                double enc = (double)n * k * len / t / 1e6;
                /* Incremental encode. */
                n = 0;
                t0 = now();
                do {
                    for (unsigned i = 0; i < m; i++)
                        memset(par[i], 0, len);
                    for (unsigned i = 0; i < k; i++)
                        fec_encode_add(c, k, 0, m, len, i, src[i], par);
                    n++;
                } while ((t = now() - t0) < secs);
                double inc = (double)n * k * len / t / 1e6;
                /* Decode: sources 0, 2, 4, ... (m of them) lost, parity 0..m-1 kept. */
                const uint8_t *in[FEC_SYMBOLS];
                uint8_t ids[FEC_SYMBOLS], missing[FEC_MAX_K];
                unsigned cnt = 0;
                for (unsigned j = 0; j < k; j++)
                    if (!(j % 2 == 0 && j / 2 < m))
                        in[cnt] = src[j], ids[cnt++] = (uint8_t)j;
                for (unsigned i = 0; i < m; i++)
                    in[cnt] = par[i], ids[cnt++] = (uint8_t)(k + i);
                n = 0;
                t0 = now();
                do {
                    if (fec_decode(c, k, len, in, ids, cnt, out, missing) != (int)m)
                        return 1;
                    n++;
                } while ((t = now() - t0) < secs);
                double dec = (double)n * k * len / t / 1e6;
                if (memcmp(out[m - 1], src[2 * (m - 1)], len) != 0) {
                    fprintf(stderr, "bench_fec_code: decode mismatch\n");
                    return 1;
                }
                printf("%6zu %4u %4u %12.0f %12.0f %12.0f %10.1f\n", len, k, m, enc, inc, dec,
                       t / (double)n * 1e6);
                fflush(stdout);
            }
            free(data);
        }
    }
    printf("codec tables and scratch: %zu KiB\n", fec_codec_mem(c) / 1024);
    fec_codec_free(c);
    return 0;
}
