#include "core/base/quant.h"

#include <math.h>

/*
 * The floating-point expressions below are written in the same order as the
 * reference's, so that for the same double input they round identically
 * (spec §1.3). Do not "simplify" them: M * 32.0 / 10.0 and M * 3.2 differ
 * in the last bit for some M, and that moves a code at a .5 boundary.
 */

uint8_t quant_rtt_encode(double rtt)
{
    if (!(rtt <= QUANT_RTT_MAX)) /* also catches NaN */
        rtt = QUANT_RTT_MAX;
    else if (rtt < QUANT_RTT_MIN)
        rtt = QUANT_RTT_MIN;
    if (rtt < 33.0 * QUANT_RTT_MIN) {
        /* rtt / 1e-6 lies in [1, 33): truncation, then the code is µs − 1. */
        int us = (int)(rtt / QUANT_RTT_MIN);
        return (uint8_t)(us - 1);
    }
    /* 33 µs gives 31.05 → 32, 1000 s gives 255: always in 32..255. */
    return (uint8_t)ceil(255.0 - 13.0 * log(QUANT_RTT_MAX / rtt));
}

double quant_rtt_decode(uint8_t v)
{
    if (v <= 31)
        return (double)(v + 1) * QUANT_RTT_MIN;
    return QUANT_RTT_MAX / exp((double)(255 - v) / 13.0);
}

uint8_t quant_rtt_encode_us(uint64_t us)
{
    return quant_rtt_encode((double)us / 1e6);
}

uint64_t quant_rtt_decode_us(uint8_t v)
{
    if (v <= 31)
        return (uint64_t)v + 1;
    return (uint64_t)llround(quant_rtt_decode(v) * 1e6);
}

/* Largest group size the byte can carry: M = 31, E = 7. */
#define GSIZE_MAX_CODE 0xFF

uint8_t quant_gsize_encode(uint32_t n)
{
    double m = n;
    int e = 0;
    while (m >= 10) {
        m /= 10;
        e++;
    }
    int mant = (int)(m * 32.0 / 10.0 + 0.5);
    if (mant > 31) {
        /*
         * m rounded up to 10: the reference renormalises by one decade,
         * which leaves mantissa 3 (9.84..9.99 → 9.375·10^E). Kept as is:
         * receivers only ever see these codes.
         */
        m /= 10;
        e++;
        mant = (int)(m * 32.0 / 10.0 + 0.5);
    }
    if (e > 7)
        return GSIZE_MAX_CODE;
    return (uint8_t)(mant << 3 | e);
}

uint32_t quant_gsize_decode(uint8_t v)
{
    double r = (v >> 3) * (10.0 / 32.0);
    for (int i = 0; i < (v & 7); i++)
        r *= 10;
    return (uint32_t)(r + 0.5);
}

uint16_t quant_rate_encode(uint64_t rate)
{
    double m = (double)rate;
    int e = 0;
    while (m > 10) {
        m /= 10;
        e++;
    }
    int mant = (int)(m * 4096.0 / 10.0 + 0.5);
    if (mant > 0xFFF) {
        /* m rounded up to 10 (e.g. exactly 10): one decade up. */
        m /= 10;
        e++;
        mant = (int)(m * 4096.0 / 10.0 + 0.5);
    }
    if (e > 15)
        return 0xFFFF;
    return (uint16_t)(mant << 4 | e);
}

uint64_t quant_rate_decode(uint16_t v)
{
    double r = (v >> 4) * (10.0 / 4096.0);
    for (int i = 0; i < (v & 0xF); i++)
        r *= 10;
    return (uint64_t)r;
}
