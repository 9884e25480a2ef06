/* The erasure code over ISA-L, FEC block layout and repair planning (fec.h). */
#include "core/fec/fec.h"

#include <isa-l/erasure_code.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *fec_strerror(int err)
{
    switch (err) {
    case 0:
        return "success";
    case FEC_EINVAL:
        return "invalid FEC parameter";
    case FEC_ENOMEM:
        return "out of memory";
    case FEC_ESHORT:
        return "not enough symbols to decode";
    case FEC_ESINGULAR:
        return "decode matrix singular";
    default:
        return "unknown FEC error";
    }
}

/* ------------------------------------------------------------ layout */

int fec_layout_init(struct fec_layout *l, uint32_t blocks, unsigned k, unsigned stride)
{
    memset(l, 0, sizeof(*l));
    if (k < FEC_MIN_K || k > FEC_MAX_K || stride < FEC_MIN_STRIDE || stride > FEC_MAX_STRIDE ||
        blocks > 65536)
        return FEC_EINVAL;
    uint32_t group = (uint32_t)stride * k;
    uint32_t full = blocks / group, rest = blocks % group;
    l->blocks = blocks;
    l->k = k;
    l->stride = stride;
    l->nfb = full * stride + (rest < stride ? rest : stride);
    return 0;
}

unsigned fec_layout_size(const struct fec_layout *l, uint32_t fb)
{
    if (fb >= l->nfb)
        return 0;
    uint32_t group = l->stride * l->k;
    uint32_t g = fb / l->stride, j = fb % l->stride;
    uint32_t left = l->blocks - g * group; /* blocks from this group's start */
    if (left >= group)
        return l->k;
    /* The short last group: members j, j+S, ... below `left` (j < left here). */
    return (left - j + l->stride - 1) / l->stride;
}

/* ------------------------------------------------------------ the code */

/* Encode tables for one k: the Cauchy matrix and the expanded parity rows. */
struct fec_tab {
    unsigned k;    /* 0: unused */
    unsigned rows; /* parity rows expanded in tbls */
    uint64_t used; /* LRU stamp */
    uint8_t *mat;  /* FEC_SYMBOLS x k generator (ISA-L gf_gen_cauchy1_matrix) */
    uint8_t *tbls; /* 32·k·rows: ec_init_tables of parity rows 0..rows-1 */
};

struct fec_codec {
    struct fec_tab tab[FEC_CACHE_K];
    uint64_t clock;
    /* Decode scratch, grown on demand: e x e (twice), e x k, 32·k·e. */
    uint8_t *dscratch;
    size_t dcap;
};

int fec_codec_new(struct fec_codec **out)
{
    *out = calloc(1, sizeof(**out));
    return *out ? 0 : FEC_ENOMEM;
}

void fec_codec_free(struct fec_codec *c)
{
    if (c == NULL)
        return;
    for (int i = 0; i < FEC_CACHE_K; i++) {
        free(c->tab[i].mat);
        free(c->tab[i].tbls);
    }
    free(c->dscratch);
    free(c);
}

size_t fec_codec_mem(const struct fec_codec *c)
{
    size_t n = sizeof(*c) + c->dcap;
    for (int i = 0; i < FEC_CACHE_K; i++)
        if (c->tab[i].k)
            n += (size_t)FEC_SYMBOLS * c->tab[i].k + (size_t)32 * c->tab[i].k * c->tab[i].rows;
    return n;
}

/*
 * The table entry for k with at least `rows` parity rows expanded (rows 0
 * only needs the matrix). A miss takes the least recently used entry. Rows
 * are expanded in steps of 16 so that successive repair rounds of one k
 * rarely rebuild them.
 */
static struct fec_tab *tab_get(struct fec_codec *c, unsigned k, unsigned rows)
{
    struct fec_tab *t = NULL;
    for (int i = 0; i < FEC_CACHE_K && t == NULL; i++)
        if (c->tab[i].k == k)
            t = &c->tab[i];
    if (t == NULL) {
        t = &c->tab[0];
        for (int i = 1; i < FEC_CACHE_K; i++)
            if (c->tab[i].used < t->used)
                t = &c->tab[i];
        uint8_t *mat = malloc((size_t)FEC_SYMBOLS * k);
        if (mat == NULL)
            return NULL;
        gf_gen_cauchy1_matrix(mat, FEC_SYMBOLS, (int)k);
        free(t->mat);
        free(t->tbls);
        t->mat = mat;
        t->tbls = NULL;
        t->rows = 0;
        t->k = k;
    }
    t->used = ++c->clock;
    if (rows > t->rows) {
        unsigned want = (rows + 15) & ~15u, max = fec_max_parity(k);
        if (want > max)
            want = max;
        uint8_t *tb = malloc((size_t)32 * k * want);
        if (tb == NULL)
            return NULL;
        ec_init_tables((int)k, (int)want, t->mat + (size_t)k * k, tb);
        free(t->tbls);
        t->tbls = tb;
        t->rows = want;
    }
    return t;
}

static bool enc_args_ok(unsigned k, unsigned first, unsigned m, size_t len)
{
    return k >= FEC_MIN_K && k <= FEC_MAX_K && m >= 1 && first + m <= fec_max_parity(k) &&
           len >= 1 && len <= INT32_MAX;
}

int fec_encode(struct fec_codec *c, unsigned k, unsigned first, unsigned m, size_t len,
               const uint8_t *const *src, uint8_t *const *par)
{
    if (!enc_args_ok(k, first, m, len))
        return FEC_EINVAL;
    struct fec_tab *t = tab_get(c, k, first + m);
    if (t == NULL)
        return FEC_ENOMEM;
    /* ISA-L takes non-const pointers but only reads the sources. */
    ec_encode_data((int)len, (int)k, (int)m, t->tbls + (size_t)32 * k * first,
                   (unsigned char **)(uintptr_t)src, (unsigned char **)par);
    return 0;
}

int fec_encode_add(struct fec_codec *c, unsigned k, unsigned first, unsigned m, size_t len,
                   unsigned i, const uint8_t *src, uint8_t *const *par)
{
    if (!enc_args_ok(k, first, m, len) || i >= k)
        return FEC_EINVAL;
    struct fec_tab *t = tab_get(c, k, first + m);
    if (t == NULL)
        return FEC_ENOMEM;
    ec_encode_data_update((int)len, (int)k, (int)m, (int)i, t->tbls + (size_t)32 * k * first,
                          (unsigned char *)(uintptr_t)src, (unsigned char **)par);
    return 0;
}

static uint8_t *dscratch(struct fec_codec *c, size_t need)
{
    if (need > c->dcap) {
        uint8_t *p = realloc(c->dscratch, need);
        if (p == NULL)
            return NULL;
        c->dscratch = p;
        c->dcap = need;
    }
    return c->dscratch;
}

/*
 * With M the e missing source ids, J the e parity symbols chosen and A =
 * G[J][M] (e x e, invertible: a Cauchy submatrix), the parity equations give
 * x_M = A^-1 (P_J + G[J][present] x_present) (+ is XOR). So the missing
 * blocks are one ISA-L product D · [x_present, P_J] with
 * D = [A^-1 G[J][present] | A^-1]  (e x k).
 */
int fec_decode(struct fec_codec *c, unsigned k, size_t len, const uint8_t *const *in,
               const uint8_t *ids, unsigned n, uint8_t *const *out, uint8_t *missing)
{
    if (k < FEC_MIN_K || k > FEC_MAX_K || len < 1 || len > INT32_MAX)
        return FEC_EINVAL;
    /* Where each symbol is among the inputs (-1: absent); duplicates are refused. */
    int16_t at[FEC_SYMBOLS];
    memset(at, 0xff, sizeof(at));
    for (unsigned i = 0; i < n; i++) {
        if (at[ids[i]] >= 0)
            return FEC_EINVAL;
        at[ids[i]] = (int16_t)i;
    }
    unsigned e = 0;
    for (unsigned j = 0; j < k; j++)
        if (at[j] < 0)
            missing[e++] = (uint8_t)j;
    if (e == 0)
        return 0;
    /* The inputs: present sources in id order, then the first e parity symbols. */
    const uint8_t *src[FEC_MAX_K];
    uint8_t par_id[FEC_MAX_K];
    unsigned np = 0, ns = 0;
    for (unsigned j = 0; j < k; j++)
        if (at[j] >= 0)
            src[ns++] = in[at[j]];
    for (unsigned id = k; id < FEC_SYMBOLS && np < e; id++)
        if (at[id] >= 0) {
            par_id[np] = (uint8_t)id;
            src[ns + np++] = in[at[id]];
        }
    if (np < e)
        return FEC_ESHORT;

    struct fec_tab *t = tab_get(c, k, 0);
    uint8_t *s = dscratch(c, (size_t)2 * e * e + (size_t)2 * e * k + (size_t)32 * k * e);
    if (t == NULL || s == NULL)
        return FEC_ENOMEM;
    uint8_t *a = s, *ainv = s + (size_t)e * e, *d = ainv + (size_t)e * e;
    uint8_t *g = d + (size_t)e * k, *tbls = g + (size_t)e * k;
    for (unsigned r = 0; r < e; r++)
        for (unsigned col = 0; col < e; col++)
            a[r * e + col] = t->mat[(size_t)par_id[r] * k + missing[col]];
    if (gf_invert_matrix(a, ainv, (int)e) != 0)
        return FEC_ESINGULAR;
    /* A^-1 G[J] for all k columns as one ISA-L product (its rows are G[J]'s rows
     * combined by A^-1: a "parity" of k bytes), rather than O(k·e²) scalar
     * gf_mul calls, which dominated a decode at e >= 8. tbls is big enough:
     * 32·e·e <= 32·k·e. */
    const uint8_t *grow[FEC_MAX_K];
    uint8_t *prod[FEC_MAX_K];
    for (unsigned q = 0; q < e; q++) {
        grow[q] = t->mat + (size_t)par_id[q] * k;
        prod[q] = g + (size_t)q * k;
    }
    ec_init_tables((int)e, (int)e, ainv, tbls);
    ec_encode_data((int)k, (int)e, (int)e, tbls, (unsigned char **)(uintptr_t)grow, prod);
    /* D's columns follow the inputs: present sources, then the parity symbols. */
    unsigned col = 0;
    for (unsigned j = 0; j < k; j++) {
        if (at[j] < 0)
            continue;
        for (unsigned r = 0; r < e; r++)
            d[r * k + col] = g[(size_t)r * k + j];
        col++;
    }
    for (unsigned q = 0; q < e; q++)
        for (unsigned r = 0; r < e; r++)
            d[r * k + col + q] = ainv[r * e + q];
    ec_init_tables((int)k, (int)e, d, tbls);
    ec_encode_data((int)len, (int)k, (int)e, tbls, (unsigned char **)(uintptr_t)src,
                   (unsigned char **)out);
    return (int)e;
}

/* ------------------------------------------------------------ planning */

unsigned fec_proactive(unsigned k, unsigned pct)
{
    unsigned m = (unsigned)(((uint64_t)k * pct + 99) / 100);
    unsigned max = fec_max_parity(k);
    return m < max ? m : max;
}

unsigned fec_repair_count(unsigned need, uint32_t loss_ppm, unsigned room)
{
    if (need == 0)
        return 0;
    double p = loss_ppm >= 1000000 ? 0.999 : loss_ppm / 1e6;
    /* Sending c, the receiver gets c(1-p) on average: c = need / (1-p), + 1. */
    unsigned c = (unsigned)ceil(need / (1 - p)) + 1;
    return c < room ? c : room;
}

/* pmf[i] = P(Binom(n, p) = i), i ≤ n (n ≤ FEC_SYMBOLS). */
static void binom_pmf(unsigned n, double p, double *pmf)
{
    pmf[0] = pow(1 - p, n);
    for (unsigned i = 0; i < n; i++)
        pmf[i + 1] = pmf[i] * (double)(n - i) / (double)(i + 1) * p / (1 - p);
}

unsigned fec_repair_count_n(unsigned need, unsigned k, uint32_t loss_ppm, uint32_t receivers,
                            double eps, unsigned room)
{
    unsigned c = fec_repair_count(need, loss_ppm, room);
    if (need == 0 || c >= room || loss_ppm == 0 || k == 0 || k > FEC_MAX_K)
        return c;
    double p = loss_ppm >= 500000 ? 0.5 : loss_ppm / 1e6;
    double nj[FEC_SYMBOLS + 1], pmf[FEC_SYMBOLS + 1], tail[FEC_SYMBOLS + 2];
    binom_pmf(k, p, nj);
    /* Those heard need at most `need`; those whose DONE or STATUS was lost, any j. */
    double n = receivers > 0 ? receivers : 1, unheard = n * (1 - (1 - p) * (1 - p));
    for (unsigned j = 0; j <= k; j++) {
        nj[j] *= j <= need ? n : unheard;
        if (j == need && nj[j] < 1)
            nj[j] = 1;
    }
    for (; c < room; c++) {
        /* tail[t] = P(Binom(c,p) ≥ t): a receiver needing j is short when more than c − j are lost
         */
        binom_pmf(c, p, pmf);
        tail[c + 1] = 0;
        for (unsigned t = c + 1; t-- > 0;)
            tail[t] = tail[t + 1] + pmf[t];
        double shortfall = 0;
        for (unsigned j = 1; j <= k; j++)
            shortfall += nj[j] * (j <= c ? tail[c - j + 1] : 1.0);
        if (shortfall <= eps)
            break;
    }
    return c;
}

/* E[max of m Binom(k, p)] = Σ_{j<k} 1 − P(X ≤ j)^m. */
static double mean_max(unsigned k, double p, double m)
{
    double pmf[FEC_SYMBOLS + 1], cdf = 0, e = 0;
    binom_pmf(k, p, pmf);
    for (unsigned j = 0; j < k; j++) {
        cdf += pmf[j];
        e += 1 - pow(cdf < 1 ? cdf : 1, m);
    }
    return e;
}

uint32_t fec_loss_from_max(double want, unsigned k, uint32_t m)
{
    if (want <= 0 || k == 0 || k > FEC_MAX_K)
        return 0;
    double lo = 0, hi = 0.5, mm = m > 0 ? m : 1;
    if (mean_max(k, hi, mm) <= want)
        return 500000;
    for (int i = 0; i < 40; i++) {
        double mid = (lo + hi) / 2;
        if (mean_max(k, mid, mm) < want)
            lo = mid;
        else
            hi = mid;
    }
    return (uint32_t)(hi * 1e6 + 0.5);
}

void fec_tally_max(const struct fec_layout *l, const uint8_t *naks, size_t naks_len, uint8_t *need)
{
    /* One pass over the set bits, counting per FEC block; counts ≤ k ≤ 255. */
    uint32_t lim = l->blocks < naks_len * 8 ? l->blocks : (uint32_t)(naks_len * 8);
    uint32_t group = l->stride * l->k;
    for (uint32_t g0 = 0; g0 < lim; g0 += group) {
        uint8_t cnt[FEC_MAX_STRIDE] = {0};
        uint32_t end = g0 + group < lim ? g0 + group : lim;
        for (uint32_t b = g0; b < end; b++)
            if (naks[b / 8] >> (b % 8) & 1)
                cnt[(b - g0) % l->stride]++;
        uint32_t f0 = g0 / l->k; /* = (g0 / group) · stride */
        for (uint32_t j = 0; j < l->stride && f0 + j < l->nfb; j++)
            if (cnt[j] > need[f0 + j])
                need[f0 + j] = cnt[j];
    }
}

size_t fec_counts_to_naks(const struct fec_layout *l, const uint8_t *need, uint8_t *naks,
                          size_t naks_len)
{
    memset(naks, 0, naks_len);
    size_t set = 0;
    for (uint32_t f = 0; f < l->nfb; f++) {
        unsigned size = fec_layout_size(l, f);
        unsigned c = need[f] < size ? need[f] : size;
        for (unsigned i = 0; i < c; i++) {
            uint32_t b = fec_layout_block(l, f, i);
            if (b / 8 < naks_len) {
                naks[b / 8] |= (uint8_t)(1u << (b % 8));
                set++;
            }
        }
    }
    return set;
}
