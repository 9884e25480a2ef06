#include "core/crypto/crypto_int.h"

#include <string.h>

#include "core/crypto/fp.h"
#include "core/wire/wire.h"

int fp_compute(const uint8_t *blob, size_t len, uint8_t fp[static FP_LEN])
{
    return crypto_hash(HASH_SHA1, blob, len, fp);
}

int fp_format(const uint8_t *fp, size_t len, char *out, size_t cap)
{
    static const char hex[] = "0123456789ABCDEF";
    if (len == 0 || cap < 3 * len)
        return CRYPTO_ENOSPC;
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        if (i)
            out[o++] = ':';
        out[o++] = hex[fp[i] >> 4];
        out[o++] = hex[fp[i] & 15];
    }
    out[o] = '\0';
    return (int)o;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int fp_parse(const char *s, uint8_t out[static FP_PARSE_MAX], size_t *len)
{
    size_t n = 0;
    *len = 0;
    for (;;) {
        int hi = hexval(s[0]);
        if (hi < 0 || n == FP_PARSE_MAX)
            return CRYPTO_EFORMAT;
        int lo = hexval(s[1]);
        if (lo >= 0) {
            out[n++] = (uint8_t)(hi << 4 | lo);
            s += 2;
        } else {
            out[n++] = (uint8_t)hi;
            s += 1;
        }
        if (*s == '\0')
            break;
        if (*s != ':')
            return CRYPTO_EFORMAT;
        s++;
    }
    *len = n;
    return CRYPTO_OK;
}

bool fp_match(const uint8_t *want, size_t wantlen, const uint8_t *blob, size_t bloblen)
{
    uint8_t got[FP_LEN], w[FP_LEN] = {0};
    if (wantlen == 0 || fp_compute(blob, bloblen, got) != CRYPTO_OK)
        return false;
    memcpy(w, want, wantlen < FP_LEN ? wantlen : FP_LEN);
    return crypto_memeq(w, got, FP_LEN);
}
