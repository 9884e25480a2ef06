#include "core/proto/claims.h"

uint64_t claims_resend_us(uint64_t grtt_us, unsigned n)
{
    uint64_t g = grtt_us < CLAIMS_GRTT_MIN_US ? CLAIMS_GRTT_MIN_US : grtt_us;
    if (n == 0)
        n = 1;
    return g > UINT64_MAX / n ? UINT64_MAX : g * n;
}

uint64_t claims_expiry_us(uint64_t grtt_us, uint64_t n, uint64_t cap_us)
{
    uint64_t t = n != 0 && grtt_us > UINT64_MAX / n ? UINT64_MAX : grtt_us * n;
    if (t < CLAIMS_EXPIRY_MIN_US)
        t = CLAIMS_EXPIRY_MIN_US;
    if (cap_us != 0 && t > cap_us)
        t = cap_us < CLAIMS_EXPIRY_MIN_US ? CLAIMS_EXPIRY_MIN_US : cap_us;
    return t;
}
