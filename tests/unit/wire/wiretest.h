/*
 * Shared checks for the message codec suites (header-only).
 *
 * check_codec() runs, for one message value, everything DESIGN.md asks of a
 * codec: encode (optionally against expected bytes), every short output
 * capacity gives WIRE_ENOSPC without writing past it, decode gives the same
 * length and re-encodes to identical bytes, every truncation is rejected
 * unless it is itself a valid shorter message (a body of fewer IDs, less
 * data), a trailing byte is rejected where the body cannot absorb it,
 * other versions give WIRE_EVERSION and another func byte WIRE_EFUNC.
 */
#ifndef UFTP_TEST_WIRETEST_H
#define UFTP_TEST_WIRETEST_H

#include "core/wire/buf.h"
#include "core/wire/msg.h"
#include "cu.h"

#include <stdio.h>
#include <string.h>

struct codec {
    ssize_t (*dec)(void *m, const uint8_t *p, size_t len);
    ssize_t (*enc)(uint8_t *out, size_t cap, const void *m);
    size_t size;      /* sizeof the struct */
    size_t body_unit; /* 0: no body; 1: bytes (data, NAKs); else the item size */
    bool has_func;    /* false for the ENCRYPTED framing */
};

/* Typed adapters, so no function is called through a mismatched pointer type. */
#define CODEC(name, unit)                                                                          \
    static ssize_t name##_dec_(void *m, const uint8_t *p, size_t len)                              \
    {                                                                                              \
        return name##_decode(m, p, len);                                                           \
    }                                                                                              \
    static ssize_t name##_enc_(uint8_t *out, size_t cap, const void *m)                            \
    {                                                                                              \
        return name##_encode(out, cap, m);                                                         \
    }                                                                                              \
    static const struct codec name##_codec = {name##_dec_, name##_enc_, sizeof(struct name), unit, \
                                              true};

#define WT_MAX 70000

static uint8_t wt_buf[WT_MAX], wt_buf2[WT_MAX + 64];
static _Alignas(16) uint8_t wt_msg[4096];

static inline void wt_hexdump(const char *what, const uint8_t *p, size_t n)
{
    fprintf(stderr, "%s (%zu):", what, n);
    for (size_t i = 0; i < n && i < 96; i++)
        fprintf(stderr, " %02x", p[i]);
    fprintf(stderr, "\n");
}

/* A fresh struct for `c` with its input ver set (ver is every struct's first member). */
static inline void *wt_fresh(const struct codec *c, uint8_t ver)
{
    memset(wt_msg, 0xEE, c->size); /* decoders must not rely on a zeroed struct */
    wt_msg[0] = ver;
    return wt_msg;
}

/* Encodes m with c; returns the length (0 on failure, with a test failure). */
static inline size_t wt_encode(const struct codec *c, const void *m, uint8_t *out)
{
    ssize_t n = c->enc(out, WT_MAX, m);
    CU_ASSERT(n > 0);
    return n > 0 ? (size_t)n : 0;
}

static inline void check_codec(const struct codec *c, const void *m, const uint8_t *expect,
                               size_t expect_len)
{
    uint8_t ver = *(const uint8_t *)m;
    size_t n = wt_encode(c, m, wt_buf);
    if (!n)
        return;
    if (expect) {
        CU_ASSERT_EQUAL(n, expect_len);
        CU_ASSERT(n == expect_len && memcmp(wt_buf, expect, n) == 0);
        if (n != expect_len || memcmp(wt_buf, expect, n)) {
            wt_hexdump("got", wt_buf, n);
            wt_hexdump("want", expect, expect_len);
        }
    }
    /* Every short capacity: ENOSPC, and nothing written beyond it. */
    for (size_t cap = 0; cap < n; cap++) {
        memset(wt_buf2, 0xA5, n + 64);
        CU_ASSERT_EQUAL(c->enc(wt_buf2, cap, m), WIRE_ENOSPC);
        bool clean = true;
        for (size_t i = cap; i < n + 64; i++)
            clean &= wt_buf2[i] == 0xA5;
        CU_ASSERT(clean);
    }
    /* Decode and re-encode: identical. */
    void *d = wt_fresh(c, ver);
    CU_ASSERT_EQUAL(c->dec(d, wt_buf, n), (ssize_t)n);
    ssize_t n2 = c->enc(wt_buf2, WT_MAX, d);
    CU_ASSERT_EQUAL(n2, (ssize_t)n);
    CU_ASSERT(n2 == (ssize_t)n && memcmp(wt_buf, wt_buf2, n) == 0);
    /* Every truncation. */
    size_t hl = c->has_func ? (size_t)wt_buf[1] * 4 : SIZE_MAX;
    for (size_t k = 0; k < n; k++) {
        d = wt_fresh(c, ver);
        ssize_t r = c->dec(d, wt_buf, k);
        bool valid_shorter =
            c->body_unit && hl != SIZE_MAX && k >= hl && (k - hl) % c->body_unit == 0;
        if (valid_shorter) {
            CU_ASSERT_EQUAL(r, (ssize_t)k);
            CU_ASSERT_EQUAL(c->enc(wt_buf2, WT_MAX, d), (ssize_t)k);
            CU_ASSERT(memcmp(wt_buf, wt_buf2, k) == 0);
        } else {
            CU_ASSERT(r < 0);
            if (r >= 0)
                fprintf(stderr, "truncation to %zu of %zu accepted\n", k, n);
        }
    }
    /* One trailing byte. */
    wt_buf[n] = 0x42;
    d = wt_fresh(c, ver);
    ssize_t rt = c->dec(d, wt_buf, n + 1);
    CU_ASSERT_EQUAL(rt, c->body_unit == 1 ? (ssize_t)(n + 1) : WIRE_ETRAIL);
    /* Versions other than 0x40/0x50. */
    static const uint8_t badver[] = {0x00, 0x30, 0x41, 0x51, 0xff};
    for (size_t i = 0; i < sizeof(badver); i++) {
        d = wt_fresh(c, badver[i]);
        CU_ASSERT_EQUAL(c->dec(d, wt_buf, n), WIRE_EVERSION);
    }
    memcpy(wt_msg, m, c->size);
    wt_msg[0] = 0x30;
    CU_ASSERT_EQUAL(c->enc(wt_buf2, WT_MAX, wt_msg), WIRE_EVERSION);
    /* Another func byte. */
    if (c->has_func) {
        uint8_t f = wt_buf[0];
        wt_buf[0] = (uint8_t)(f == ABORT ? ANNOUNCE : ABORT);
        d = wt_fresh(c, ver);
        CU_ASSERT_EQUAL(c->dec(d, wt_buf, n), WIRE_EFUNC);
        wt_buf[0] = f;
    }
}

/*
 * Decodes `p` (which must be valid) into a fresh struct at wt_msg and
 * returns it; for tests that look at decoded fields.
 */
static inline void *wt_decode(const struct codec *c, uint8_t ver, const uint8_t *p, size_t n)
{
    void *d = wt_fresh(c, ver);
    CU_ASSERT_EQUAL(c->dec(d, p, n), (ssize_t)n);
    return d;
}

/* Parses hex (whitespace ignored) into out; returns the length. */
static inline size_t wt_unhex(const char *s, uint8_t *out, size_t cap)
{
    size_t n = 0;
    int hi = -1;
    for (; *s; s++) {
        int v;
        if (*s >= '0' && *s <= '9')
            v = *s - '0';
        else if (*s >= 'a' && *s <= 'f')
            v = *s - 'a' + 10;
        else if (*s >= 'A' && *s <= 'F')
            v = *s - 'A' + 10;
        else
            continue;
        if (hi < 0) {
            hi = v;
        } else {
            if (n < cap)
                out[n] = (uint8_t)(hi << 4 | v);
            n++;
            hi = -1;
        }
    }
    return n;
}

#endif
