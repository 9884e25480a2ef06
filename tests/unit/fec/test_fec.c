/* core/fec/fec: the code (round trips, every k, loss patterns), layout, planning. */
#include "core/fec/fec.h"
#include "cu.h"

#include <isa-l/erasure_code.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rs = 0x243F6A8885A308D3ull;
static uint32_t rnd(void)
{
    rs ^= rs << 13, rs ^= rs >> 7, rs ^= rs << 17;
    return (uint32_t)(rs >> 11);
}

static void fill(uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)rnd();
}

/* The wire definition (spec "FEC extension"): P_p = sum_j x_j / ((k+p) XOR j). */
static void test_code_definition(void)
{
    /* By hand, k = 2, one-byte blocks 1 and 2: 1/2 = 0x8E, 1/3 = 0xF4, 0xF4·2 = 0xF5. */
    struct fec_codec *c;
    CU_ASSERT_EQUAL_FATAL(fec_codec_new(&c), 0);
    uint8_t x0[1] = {1}, x1[1] = {2}, p0[1], p1[1];
    const uint8_t *src[2] = {x0, x1};
    uint8_t *par[2] = {p0, p1};
    CU_ASSERT_EQUAL(fec_encode(c, 2, 0, 2, 1, src, par), 0);
    CU_ASSERT_EQUAL(p0[0], 0x8E ^ 0xF5);
    /* p = 1: 1/(3^0) = 1/3 = 0xF4; 1/(3^1) = 1/2 = 0x8E, 0x8E·2 = 0x01. */
    CU_ASSERT_EQUAL(p1[0], 0xF4 ^ 0x01);
    /* ISA-L's Cauchy matrix is that formula for every k and parity id. */
    static uint8_t mat[256 * 255];
    for (unsigned k = 1; k <= FEC_MAX_K; k++) {
        gf_gen_cauchy1_matrix(mat, 256, (int)k);
        int bad = 0;
        for (unsigned r = k; r < 256; r++)
            for (unsigned j = 0; j < k; j++)
                bad += mat[r * k + j] != gf_inv((uint8_t)(r ^ j));
        CU_ASSERT_EQUAL(bad, 0);
    }
    fec_codec_free(c);
}

/*
 * Encodes m parity ids from `first`, drops the symbols not in keep[] and
 * decodes; the rebuilt blocks must be the originals.
 */
static int roundtrip(struct fec_codec *c, unsigned k, unsigned first, unsigned m, size_t len,
                     uint8_t *const *data, uint8_t *const *par, const uint8_t *keep_ids, unsigned n)
{
    const uint8_t *in[FEC_SYMBOLS];
    uint8_t ids[FEC_SYMBOLS], missing[FEC_MAX_K];
    static uint8_t outbuf[FEC_MAX_K][64];
    uint8_t *out[FEC_MAX_K];
    for (unsigned i = 0; i < k; i++)
        out[i] = outbuf[i];
    for (unsigned i = 0; i < n; i++) {
        ids[i] = keep_ids[i];
        in[i] = keep_ids[i] < k ? data[keep_ids[i]] : par[keep_ids[i] - k - first];
    }
    int e = fec_decode(c, k, len, in, ids, n, out, missing);
    if (e < 0)
        return e;
    for (int i = 0; i < e; i++)
        if (memcmp(out[i], data[missing[i]], len) != 0)
            return -100;
    /* Exactly the absent source ids, in order. */
    int expect = 0;
    for (unsigned j = 0; j < k; j++) {
        bool have = false;
        for (unsigned i = 0; i < n; i++)
            have = have || keep_ids[i] == j;
        if (!have && (expect >= e || missing[expect++] != j))
            return -101;
    }
    return expect == e ? e : -102;
}

/* Every k-subset of k+m symbols, for small k and m: sum of C(k+m, k). */
#define PATTERNS 1988

static void test_exhaustive_small(void)
{
    struct fec_codec *c;
    CU_ASSERT_EQUAL_FATAL(fec_codec_new(&c), 0);
    static uint8_t dbuf[FEC_MAX_K][64], pbuf[FEC_MAX_K][64];
    uint8_t *data[FEC_MAX_K], *par[FEC_MAX_K];
    for (unsigned i = 0; i < FEC_MAX_K; i++)
        data[i] = dbuf[i], par[i] = pbuf[i];
    size_t len = 37, patterns = 0;
    for (unsigned k = 1; k <= 8; k++) {
        for (unsigned m = 1; m <= 4; m++) {
            fill(dbuf[0], sizeof(dbuf));
            unsigned first = (k * 7 + m) % (fec_max_parity(k) - m + 1); /* also high ids */
            CU_ASSERT_EQUAL_FATAL(
                fec_encode(c, k, first, m, len, (const uint8_t *const *)data, par), 0);
            unsigned n = k + m;
            for (uint32_t mask = 0; mask < (1u << n); mask++) {
                if ((unsigned)__builtin_popcount(mask) != k)
                    continue;
                uint8_t keep[16];
                unsigned nk = 0;
                for (unsigned s = 0; s < n; s++)
                    if (mask >> s & 1)
                        keep[nk++] = (uint8_t)(s < k ? s : s + first);
                int e = roundtrip(c, k, first, m, len, data, par, keep, nk);
                CU_ASSERT_TRUE(e >= 0);
                if (e < 0)
                    return;
                patterns++;
            }
        }
    }
    CU_ASSERT_EQUAL(patterns, PATTERNS);
    fec_codec_free(c);
}

/* Every k the code supports, with sampled loss patterns up to the parity sent. */
static void test_every_k_sampled(void)
{
    struct fec_codec *c;
    CU_ASSERT_EQUAL_FATAL(fec_codec_new(&c), 0);
    static uint8_t dbuf[FEC_MAX_K][64], pbuf[FEC_MAX_K][64];
    uint8_t *data[FEC_MAX_K], *par[FEC_MAX_K];
    for (unsigned i = 0; i < FEC_MAX_K; i++)
        data[i] = dbuf[i], par[i] = pbuf[i];
    size_t len = 24;
    int fails = 0;
    for (unsigned k = FEC_MIN_K; k <= FEC_MAX_K; k++) {
        unsigned room = fec_max_parity(k);
        unsigned m = room < 40 ? room : 40;
        unsigned first = k % 3 == 0 ? room - m : 0; /* the last ids too */
        fill(dbuf[0], sizeof(dbuf));
        CU_ASSERT_EQUAL_FATAL(fec_encode(c, k, first, m, len, (const uint8_t *const *)data, par),
                              0);
        for (int trial = 0; trial < 6; trial++) {
            /* e erasures, e ≤ m (the last trial loses as many as there is parity). */
            unsigned e = trial == 5 ? (m < k ? m : k) : rnd() % ((m < k ? m : k) + 1);
            uint8_t perm[FEC_MAX_K];
            for (unsigned i = 0; i < k; i++)
                perm[i] = (uint8_t)i;
            for (unsigned i = k - 1; i > 0; i--) {
                unsigned j = rnd() % (i + 1);
                uint8_t t = perm[i];
                perm[i] = perm[j], perm[j] = t;
            }
            uint8_t keep[FEC_SYMBOLS];
            unsigned nk = 0;
            for (unsigned i = e; i < k; i++)
                keep[nk++] = perm[i];
            /* Any e of the m parity ids, plus sometimes one extra symbol. */
            uint8_t pp[FEC_SYMBOLS];
            for (unsigned i = 0; i < m; i++)
                pp[i] = (uint8_t)i;
            for (unsigned i = m - 1; i > 0; i--) {
                unsigned j = rnd() % (i + 1);
                uint8_t t = pp[i];
                pp[i] = pp[j], pp[j] = t;
            }
            unsigned extra = (trial & 1) && e < m ? 1 : 0;
            for (unsigned i = 0; i < e + extra; i++)
                keep[nk++] = (uint8_t)(k + first + pp[i]);
            int r = roundtrip(c, k, first, m, len, data, par, keep, nk);
            if (r != (int)e)
                fails++;
        }
    }
    CU_ASSERT_EQUAL(fails, 0);
    fec_codec_free(c);
}

/* Full-size blocks (1300 and 8800) for the sizes the sender offers. */
static void test_full_blocks(void)
{
    struct fec_codec *c;
    CU_ASSERT_EQUAL_FATAL(fec_codec_new(&c), 0);
    static const size_t lens[] = {1300, 8800};
    static const unsigned ks[] = {16, 64, 128};
    for (size_t li = 0; li < 2; li++)
        for (size_t ki = 0; ki < 3; ki++) {
            size_t len = lens[li];
            unsigned k = ks[ki], m = 8;
            uint8_t *blk = malloc((k + m + m) * len);
            CU_ASSERT_PTR_NOT_NULL_FATAL(blk);
            fill(blk, (k + m) * len);
            const uint8_t *src[FEC_MAX_K];
            uint8_t *par[16], *out[16];
            for (unsigned i = 0; i < k; i++)
                src[i] = blk + i * len;
            for (unsigned i = 0; i < m; i++)
                par[i] = blk + (k + i) * len, out[i] = blk + (k + m + i) * len;
            CU_ASSERT_EQUAL(fec_encode(c, k, 0, m, len, src, par), 0);
            /* Lose source blocks 0, 3, 6, ... (up to m); keep parity 0..m-1. */
            const uint8_t *in[FEC_SYMBOLS];
            uint8_t ids[FEC_SYMBOLS], missing[FEC_MAX_K];
            unsigned n = 0, e = 0;
            for (unsigned j = 0; j < k; j++) {
                if (j % 3 == 0 && j / 3 < m)
                    e++;
                else
                    in[n] = src[j], ids[n++] = (uint8_t)j;
            }
            for (unsigned i = 0; i < m; i++)
                in[n] = par[i], ids[n++] = (uint8_t)(k + i);
            CU_ASSERT_EQUAL(fec_decode(c, k, len, in, ids, n, out, missing), (int)e);
            for (unsigned i = 0; i < e; i++) {
                CU_ASSERT_EQUAL(missing[i], 3 * i);
                CU_ASSERT_EQUAL(memcmp(out[i], src[3 * i], len), 0);
            }
            free(blk);
        }
    CU_ASSERT_TRUE(fec_codec_mem(c) > 0);
    fec_codec_free(c);
}

/* Incremental encoding, in any order, equals the one-shot encode. */
static void test_encode_add(void)
{
    struct fec_codec *c;
    CU_ASSERT_EQUAL_FATAL(fec_codec_new(&c), 0);
    enum { K = 50, M = 7, LEN = 1300 };
    static uint8_t data[K][LEN], p1[M][LEN], p2[M][LEN];
    fill(data[0], sizeof(data));
    const uint8_t *src[K];
    uint8_t *a[M], *b[M];
    for (int i = 0; i < K; i++)
        src[i] = data[i];
    for (int i = 0; i < M; i++)
        a[i] = p1[i], b[i] = p2[i];
    CU_ASSERT_EQUAL(fec_encode(c, K, 20, M, LEN, src, a), 0);
    memset(p2, 0, sizeof(p2));
    for (int i = K - 1; i >= 0; i--)
        CU_ASSERT_EQUAL(fec_encode_add(c, K, 20, M, LEN, (unsigned)i, src[i], b), 0);
    CU_ASSERT_EQUAL(memcmp(p1, p2, sizeof(p1)), 0);
    CU_ASSERT_EQUAL(fec_encode_add(c, K, 20, M, LEN, K, src[0], b), FEC_EINVAL);
    fec_codec_free(c);
}

/* The file's short last block: encoded and rebuilt as if zero-padded. */
static void test_last_block_padding(void)
{
    struct fec_codec *c;
    CU_ASSERT_EQUAL_FATAL(fec_codec_new(&c), 0);
    enum { LEN = 1300, LAST = 411 };
    static uint8_t b0[LEN], b1[LEN], b2[LEN], par[2][LEN], out[LEN];
    fill(b0, LEN), fill(b1, LEN);
    memset(b2, 0, LEN);
    fill(b2, LAST); /* the file's last 411 bytes; the rest is the padding */
    const uint8_t *src[3] = {b0, b1, b2};
    uint8_t *pp[2] = {par[0], par[1]};
    CU_ASSERT_EQUAL(fec_encode(c, 3, 0, 2, LEN, src, pp), 0);
    /* The receiver lost the last block. */
    const uint8_t *in[3] = {b0, par[1], b1};
    uint8_t ids[3] = {0, 3 + 1, 1}, missing[3];
    uint8_t *o[1] = {out};
    CU_ASSERT_EQUAL(fec_decode(c, 3, LEN, in, ids, 3, o, missing), 1);
    CU_ASSERT_EQUAL(missing[0], 2);
    CU_ASSERT_EQUAL(memcmp(out, b2, LAST), 0);
    static const uint8_t zero[LEN - LAST];
    CU_ASSERT_EQUAL(memcmp(out + LAST, zero, sizeof(zero)), 0);
    fec_codec_free(c);
}

static void test_bad_args(void)
{
    struct fec_codec *c;
    CU_ASSERT_EQUAL_FATAL(fec_codec_new(&c), 0);
    static uint8_t d[FEC_MAX_K][16], p[4][16];
    const uint8_t *src[FEC_MAX_K];
    for (unsigned i = 0; i < FEC_MAX_K; i++)
        src[i] = d[i];
    uint8_t *par[4] = {p[0], p[1], p[2], p[3]};
    CU_ASSERT_EQUAL(fec_encode(c, 0, 0, 1, 16, src, par), FEC_EINVAL);
    CU_ASSERT_EQUAL(fec_encode(c, 256, 0, 1, 16, src, par), FEC_EINVAL);
    CU_ASSERT_EQUAL(fec_encode(c, 4, 0, 0, 16, src, par), FEC_EINVAL);
    CU_ASSERT_EQUAL(fec_encode(c, 4, 0, 1, 0, src, par), FEC_EINVAL);
    /* Parity ids end at 255: k = 4 has 252 of them. */
    CU_ASSERT_EQUAL(fec_max_parity(4), 252);
    CU_ASSERT_EQUAL(fec_encode(c, 4, 251, 1, 16, src, par), 0);
    CU_ASSERT_EQUAL(fec_encode(c, 4, 251, 2, 16, src, par), FEC_EINVAL);
    CU_ASSERT_EQUAL(fec_encode(c, 255, 0, 1, 16, src, par), 0);
    CU_ASSERT_EQUAL(fec_encode(c, 255, 1, 1, 16, src, par), FEC_EINVAL);
    CU_ASSERT_EQUAL(fec_max_parity(0), 0);
    CU_ASSERT_EQUAL(fec_max_parity(256), 0);

    CU_ASSERT_EQUAL(fec_encode(c, 4, 0, 2, 16, src, par), 0);
    uint8_t o0[16], o1[16], missing[4];
    uint8_t *out[2] = {o0, o1};
    const uint8_t *in[5] = {d[0], d[1], p[0], p[0], d[3]};
    /* A duplicate id. */
    uint8_t dup[4] = {0, 1, 4, 4};
    CU_ASSERT_EQUAL(fec_decode(c, 4, 16, in, dup, 4, out, missing), FEC_EINVAL);
    /* One short of k: parity id 5 ("m above what was sent") is simply absent. */
    uint8_t shortids[3] = {0, 1, 4};
    CU_ASSERT_EQUAL(fec_decode(c, 4, 16, in, shortids, 3, out, missing), FEC_ESHORT);
    /* Enough symbols but only source ids: a second missing source, no parity. */
    uint8_t srconly[3] = {0, 1, 3};
    const uint8_t *in2[3] = {d[0], d[1], d[3]};
    CU_ASSERT_EQUAL(fec_decode(c, 4, 16, in2, srconly, 3, out, missing), FEC_ESHORT);
    /* Nothing missing. */
    uint8_t all[4] = {0, 1, 2, 3};
    const uint8_t *in3[4] = {d[0], d[1], d[2], d[3]};
    CU_ASSERT_EQUAL(fec_decode(c, 4, 16, in3, all, 4, out, missing), 0);
    CU_ASSERT_EQUAL(fec_decode(c, 0, 16, in3, all, 4, out, missing), FEC_EINVAL);
    CU_ASSERT_STRING_EQUAL(fec_strerror(FEC_ESHORT), "not enough symbols to decode");
    fec_codec_free(c);
}

/* More distinct k than the cache holds: entries are evicted and rebuilt. */
static void test_cache(void)
{
    struct fec_codec *c;
    CU_ASSERT_EQUAL_FATAL(fec_codec_new(&c), 0);
    static uint8_t d[20][32], p[40][32], q[40][32];
    fill(d[0], sizeof(d));
    const uint8_t *src[20];
    uint8_t *par[40], *par2[40];
    for (int i = 0; i < 20; i++)
        src[i] = d[i];
    for (int i = 0; i < 40; i++)
        par[i] = p[i], par2[i] = q[i];
    CU_ASSERT_EQUAL(fec_encode(c, 20, 0, 2, 32, src, par), 0);
    for (unsigned k = 10; k < 10 + 2 * FEC_CACHE_K; k++)
        CU_ASSERT_EQUAL(fec_encode(c, k, 0, 1, 32, src, par2), 0);
    /* Rows beyond the first expansion (16) grow the entry; results agree. */
    CU_ASSERT_EQUAL(fec_encode(c, 20, 0, 40, 32, src, par2), 0);
    CU_ASSERT_EQUAL(memcmp(p[0], q[0], 32), 0);
    CU_ASSERT_EQUAL(memcmp(p[1], q[1], 32), 0);
    CU_ASSERT_EQUAL(fec_encode(c, 20, 39, 1, 32, src, par), 0);
    CU_ASSERT_EQUAL(memcmp(p[0], q[39], 32), 0);
    fec_codec_free(c);
}

/* ------------------------------------------------------------ layout */

static void check_layout(uint32_t blocks, unsigned k, unsigned stride)
{
    struct fec_layout l;
    CU_ASSERT_EQUAL_FATAL(fec_layout_init(&l, blocks, k, stride), 0);
    static uint8_t seen[65536];
    memset(seen, 0, blocks);
    uint32_t total = 0;
    int bad = 0;
    for (uint32_t f = 0; f < l.nfb; f++) {
        unsigned size = fec_layout_size(&l, f);
        bad += size == 0 || size > k;
        total += size;
        for (unsigned i = 0; i < size; i++) {
            uint32_t b = fec_layout_block(&l, f, i);
            unsigned pos;
            bad += b >= blocks;
            if (b < blocks)
                bad += seen[b]++ != 0;
            bad += fec_layout_fb(&l, b, &pos) != f || pos != i;
        }
    }
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT_EQUAL(total, blocks);
    CU_ASSERT_EQUAL(fec_layout_size(&l, l.nfb), 0);
}

static void test_layout(void)
{
    struct fec_layout l;
    CU_ASSERT_EQUAL(fec_layout_init(&l, 10400, 128, 8), 0);
    /* 10400 = 10·1024 + 160: 80 full FEC blocks, then 8 of 20. */
    CU_ASSERT_EQUAL(l.nfb, 88);
    CU_ASSERT_EQUAL(fec_layout_size(&l, 79), 128);
    CU_ASSERT_EQUAL(fec_layout_size(&l, 80), 20);
    CU_ASSERT_EQUAL(fec_layout_block(&l, 81, 2), 10240 + 1 + 16);
    /* Stride 1 is contiguous. */
    CU_ASSERT_EQUAL(fec_layout_init(&l, 300, 128, 1), 0);
    CU_ASSERT_EQUAL(l.nfb, 3);
    CU_ASSERT_EQUAL(fec_layout_size(&l, 2), 44);
    CU_ASSERT_EQUAL(fec_layout_block(&l, 1, 5), 133);
    /* Fewer blocks than the stride: one block each. */
    CU_ASSERT_EQUAL(fec_layout_init(&l, 5, 128, 8), 0);
    CU_ASSERT_EQUAL(l.nfb, 5);
    CU_ASSERT_EQUAL(fec_layout_size(&l, 4), 1);
    CU_ASSERT_EQUAL(fec_layout_init(&l, 0, 128, 8), 0);
    CU_ASSERT_EQUAL(l.nfb, 0);
    CU_ASSERT_EQUAL(fec_layout_init(&l, 10, 0, 8), FEC_EINVAL);
    CU_ASSERT_EQUAL(fec_layout_init(&l, 10, 256, 8), FEC_EINVAL);
    CU_ASSERT_EQUAL(fec_layout_init(&l, 10, 8, 0), FEC_EINVAL);
    CU_ASSERT_EQUAL(fec_layout_init(&l, 10, 8, 256), FEC_EINVAL);
    CU_ASSERT_EQUAL(fec_layout_init(&l, 65537, 8, 8), FEC_EINVAL);
    static const uint32_t blocks[] = {1, 2, 7, 8, 9, 127, 128, 129, 1023, 1024, 1025, 10400, 65536};
    static const unsigned ks[] = {1, 2, 16, 100, 128, 255};
    static const unsigned ss[] = {1, 3, 8, 255};
    for (size_t b = 0; b < sizeof(blocks) / sizeof(blocks[0]); b++)
        for (size_t k = 0; k < sizeof(ks) / sizeof(ks[0]); k++)
            for (size_t s = 0; s < sizeof(ss) / sizeof(ss[0]); s++)
                check_layout(blocks[b], ks[k], ss[s]);
}

/* ------------------------------------------------------------ planning */

static void test_tally(void)
{
    struct fec_layout l;
    CU_ASSERT_EQUAL(fec_layout_init(&l, 1000, 32, 4), 0);
    uint8_t naks[126] = {0}, need[64] = {0}, back[126];
    /* FEC block 0 = blocks 0, 4, 8, ...: NAK three of them; FEC block 5 = 129, 133, ... */
    naks[0] |= 1 | 1 << 4;
    naks[1] |= 1;
    naks[129 / 8] |= 1 << (129 % 8);
    fec_tally_max(&l, naks, sizeof(naks), need);
    CU_ASSERT_EQUAL(need[0], 3);
    CU_ASSERT_EQUAL(need[5], 1);
    CU_ASSERT_EQUAL(need[1], 0);
    /* Max, not sum: a second report of one NAK in FEC block 0 changes nothing. */
    uint8_t n2[126] = {0};
    n2[12 / 8] |= 1 << (12 % 8);
    n2[1000 / 8 - 1] = 0xFF; /* blocks 992..999 */
    fec_tally_max(&l, n2, sizeof(n2), need);
    CU_ASSERT_EQUAL(need[0], 3);
    /* The counts as a bitmap, and back. */
    size_t set = fec_counts_to_naks(&l, need, back, sizeof(back));
    uint8_t again[64] = {0};
    fec_tally_max(&l, back, sizeof(back), again);
    CU_ASSERT_EQUAL(memcmp(need, again, l.nfb), 0);
    size_t sum = 0;
    for (uint32_t f = 0; f < l.nfb; f++)
        sum += need[f];
    CU_ASSERT_EQUAL(set, sum);
    /* A short bitmap counts only what it holds; bits past the section are ignored. */
    uint8_t one[1] = {0xFF}, n3[64] = {0};
    fec_tally_max(&l, one, 1, n3);
    CU_ASSERT_EQUAL(n3[0], 2);
    CU_ASSERT_EQUAL(n3[3], 2);
    CU_ASSERT_EQUAL(n3[4], 0);
}

static void test_planning(void)
{
    CU_ASSERT_EQUAL(fec_proactive(128, 5), 7);
    CU_ASSERT_EQUAL(fec_proactive(128, 0), 0);
    CU_ASSERT_EQUAL(fec_proactive(200, 100), 56);
    CU_ASSERT_EQUAL(fec_repair_count(0, 10000, 100), 0);
    CU_ASSERT_EQUAL(fec_repair_count(5, 0, 100), 6);
    CU_ASSERT_EQUAL(fec_repair_count(10, 50000, 100), 12);
    CU_ASSERT_EQUAL(fec_repair_count(10, 50000, 4), 4);
    /* For many receivers (values from exact binomial sums computed apart): at 1% the
     * mean-loss rule is enough; at 5% the peers near the worst one, and those not
     * heard, need 5 more. */
    CU_ASSERT_EQUAL(fec_repair_count_n(0, 128, 10000, 1000, 0.05, 100), 0);
    CU_ASSERT_EQUAL(fec_repair_count_n(6, 128, 10000, 1000, 0.05 / 126, 128), 8);
    CU_ASSERT_EQUAL(fec_repair_count_n(15, 128, 50000, 1000, 0.05 / 126, 128), 22);
    CU_ASSERT_EQUAL(fec_repair_count(15, 50000, 128), 17);
    CU_ASSERT_EQUAL(fec_repair_count_n(15, 128, 50000, 1, 0.05, 128), 18);
    CU_ASSERT_EQUAL(fec_repair_count_n(3, 128, 10000, 10, 0.05, 4), 4); /* room */
    CU_ASSERT_EQUAL(fec_repair_count_n(5, 128, 0, 1000, 0.05, 100), 6); /* no loss seen */
    /* A proxy's counts are maxima: E[max of 1,000 Binom(128, 1%)] = 6.19, of one 1.28. */
    uint32_t ppm = fec_loss_from_max(6.19, 128, 1000);
    CU_ASSERT_TRUE(ppm > 9900 && ppm < 10100);
    ppm = fec_loss_from_max(1.28, 128, 1);
    CU_ASSERT_TRUE(ppm > 9900 && ppm < 10100);
    CU_ASSERT_EQUAL(fec_loss_from_max(0, 128, 1000), 0);
    CU_ASSERT_EQUAL(fec_loss_from_max(200, 128, 1000), 500000);
}

static const struct cu_test code_tests[] = {
    {"the code is the documented Cauchy RS code", test_code_definition},
    {"exhaustive loss patterns, k <= 8, m <= 4", test_exhaustive_small},
    {"every k 1..255, sampled patterns up to the parity count", test_every_k_sampled},
    {"1300- and 8800-byte blocks", test_full_blocks},
    {"incremental encoding", test_encode_add},
    {"last block padded", test_last_block_padding},
    {"bad arguments, one short, above the parity sent", test_bad_args},
    {"table cache eviction and growth", test_cache},
    {NULL, NULL}};
static const struct cu_test layout_tests[] = {{"layouts are partitions", test_layout},
                                              {"tally and counts", test_tally},
                                              {"planning", test_planning},
                                              {NULL, NULL}};
CU_MAIN({"fec/code", code_tests}, {"fec/layout", layout_tests})
