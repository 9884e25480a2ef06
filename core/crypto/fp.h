/*
 * Key fingerprints (spec §1.3): SHA-1 of the exported public key blob,
 * written as colon-separated upper-case hex bytes ("66:1E:..."). The parser
 * accepts 1..64 colon-separated hex bytes; a match compares only the
 * computed hash length (20 bytes) against the parsed bytes zero-extended,
 * exactly as the reference does (so a shorter fingerprint never matches a
 * real key in practice, and bytes past the 20th are ignored).
 */
#ifndef UFTP_CRYPTO_FP_H
#define UFTP_CRYPTO_FP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FP_LEN       20
#define FP_PARSE_MAX 64
/* Formatted length of a FP_LEN fingerprint, with its NUL. */
#define FP_STR_LEN (FP_LEN * 3)

/* SHA-1 of a key blob. Errors: CRYPTO_ELIB. */
int fp_compute(const uint8_t *blob, size_t len, uint8_t fp[static FP_LEN]);

/*
 * "AA:BB:..." for len bytes into out (NUL-terminated). Returns strlen.
 * Errors: CRYPTO_ENOSPC (cap < 3 * len, or len == 0).
 */
int fp_format(const uint8_t *fp, size_t len, char *out, size_t cap);

/*
 * Parses 1..64 colon-separated bytes of one or two hex digits each (either
 * case); nothing else is allowed (no spaces, no empty fields, no "0x").
 * Errors: CRYPTO_EFORMAT.
 */
int fp_parse(const char *s, uint8_t out[static FP_PARSE_MAX], size_t *len);

/* True when blob's fingerprint matches the parsed want[0..wantlen). */
bool fp_match(const uint8_t *want, size_t wantlen, const uint8_t *blob, size_t bloblen);

#endif
