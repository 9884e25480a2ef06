/*
 * Number encodings of the wire (spec §1.3): the GRTT/RTT byte, the group
 * size byte, the 16-bit rate, and timestamps (v5 64-bit µs, v4 sec + µs).
 *
 * The byte encodings are lossy and the sender's choice of code is what the
 * receiver sees, so the encoders reproduce UFTP 5.0.1 bit for bit (same
 * floating-point operations in the same order), including its mantissa
 * renormalisation. Where the reference would wrap (inputs beyond the code's
 * range) these clamp to the largest code instead.
 */
#ifndef UFTP_BASE_QUANT_H
#define UFTP_BASE_QUANT_H

#include <stdbool.h>
#include <stdint.h>

/* The RTT byte's range, in seconds (RFC 5401). */
#define QUANT_RTT_MIN 1e-6
#define QUANT_RTT_MAX 1000.0

/*
 * RTT/GRTT byte. Encode: clamp to [1 µs, 1000 s] (NaN counts as 1000 s);
 * below 33 µs the code is whole µs − 1 (0..31), above it
 * ceil(255 − 13·ln(1000/rtt)) (32..255).
 */
uint8_t quant_rtt_encode(double seconds);
/* Decode: v ≤ 31 → (v+1) µs, else 1000 / e^((255−v)/13) seconds. */
double quant_rtt_decode(uint8_t v);
/* The same in whole microseconds (decode rounds to nearest, at least 1). */
uint8_t quant_rtt_encode_us(uint64_t us);
uint64_t quant_rtt_decode_us(uint8_t v);

/*
 * Group size byte: mantissa M (upper 5 bits), decimal exponent E (lower 3),
 * value ≈ M·10/32·10^E. Sizes above the largest code (31·10/32·10^7 =
 * 96,875,000) clamp to 0xFF.
 */
uint8_t quant_gsize_encode(uint32_t n);
/* Decoded size, rounded to the nearest integer. */
uint32_t quant_gsize_decode(uint8_t v);

/*
 * Rate in bytes/s (RFC 5740 style): mantissa (upper 12 bits), decimal
 * exponent (lower 4), value = mant·10/4096·10^E. Rates above the largest
 * code (4095·10/4096·10^15 ≈ 1e16) clamp to 0xFFFF.
 */
uint16_t quant_rate_encode(uint64_t bytes_per_sec);
/* Decoded rate, truncated to an integer as the reference does. */
uint64_t quant_rate_decode(uint16_t v);

/*
 * Timestamps. Inside the codec every timestamp is uint64 µs since the epoch.
 * v5 sends it as two 32-bit halves; v4 as 32-bit seconds then 32-bit µs.
 */
static inline uint64_t quant_ts_join(uint32_t hi, uint32_t lo)
{
    return (uint64_t)hi << 32 | lo;
}

/* v4 (sec, usec) → µs. usec ≥ 1e6 is accepted and simply added. */
static inline uint64_t quant_ts_from_tv4(uint32_t sec, uint32_t usec)
{
    return (uint64_t)sec * 1000000u + usec;
}

/* µs → v4 (sec, usec); false when the seconds do not fit 32 bits (2106). */
static inline bool quant_ts_to_tv4(uint64_t us, uint32_t *sec, uint32_t *usec)
{
    uint64_t s = us / 1000000u;
    if (s > UINT32_MAX)
        return false;
    *sec = (uint32_t)s;
    *usec = (uint32_t)(us % 1000000u);
    return true;
}

#endif
