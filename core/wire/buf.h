/*
 * Bounds-checked big-endian reader and writer: the only way wire code
 * touches packet bytes (DESIGN.md "Wire code").
 *
 * Both carry a sticky error flag: once a read runs past the end (or a write
 * past the capacity) every later call returns zero / writes nothing and the
 * flag stays set, so a decoder reads all fields and checks once at the end.
 * Nothing here allocates, and nothing ever touches a byte outside [p, p+len).
 */
#ifndef UFTP_WIRE_BUF_H
#define UFTP_WIRE_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct rbuf {
    const uint8_t *p;
    size_t len;
    size_t off;
    bool err;
};

struct wbuf {
    uint8_t *p;
    size_t cap;
    size_t off;
    bool err;
};

/* Big-endian at a pointer the caller has bounds-checked. */
static inline void be16_put(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static inline void be32_put(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static inline void be64_put(uint8_t *p, uint64_t v)
{
    be32_put(p, (uint32_t)(v >> 32));
    be32_put(p + 4, (uint32_t)v);
}

static inline uint16_t be16_get(const uint8_t *p)
{
    return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static inline uint32_t be32_get(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline uint64_t be64_get(const uint8_t *p)
{
    return (uint64_t)be32_get(p) << 32 | be32_get(p + 4);
}

static inline struct rbuf rb_init(const uint8_t *p, size_t len)
{
    struct rbuf r = {p, len, 0, false};
    return r;
}

static inline size_t rb_left(const struct rbuf *r)
{
    return r->err ? 0 : r->len - r->off;
}

/* True when n more bytes are available; sets the error flag otherwise. */
static inline bool rb_need(struct rbuf *r, size_t n)
{
    if (r->err || n > r->len - r->off) {
        r->err = true;
        return false;
    }
    return true;
}

static inline uint8_t rb_u8(struct rbuf *r)
{
    if (!rb_need(r, 1))
        return 0;
    return r->p[r->off++];
}

static inline uint16_t rb_u16(struct rbuf *r)
{
    if (!rb_need(r, 2))
        return 0;
    r->off += 2;
    return be16_get(r->p + r->off - 2);
}

static inline uint32_t rb_u32(struct rbuf *r)
{
    if (!rb_need(r, 4))
        return 0;
    r->off += 4;
    return be32_get(r->p + r->off - 4);
}

static inline uint64_t rb_u64(struct rbuf *r)
{
    uint64_t hi = rb_u32(r);
    return hi << 32 | rb_u32(r);
}

/* Copies n bytes out; on error the destination is zeroed. */
static inline void rb_copy(struct rbuf *r, void *dst, size_t n)
{
    if (!rb_need(r, n)) {
        memset(dst, 0, n);
        return;
    }
    memcpy(dst, r->p + r->off, n);
    r->off += n;
}

/* Returns a pointer to the next n bytes and advances, or NULL on error. */
static inline const uint8_t *rb_ptr(struct rbuf *r, size_t n)
{
    if (!rb_need(r, n))
        return NULL;
    const uint8_t *q = r->p + r->off;
    r->off += n;
    return q;
}

static inline void rb_skip(struct rbuf *r, size_t n)
{
    (void)rb_ptr(r, n);
}

/*
 * Splits the next n bytes off as a sub-reader (for nested fields such as
 * extensions); the parent advances past them. On error the sub-reader is
 * empty and has its error flag set.
 */
static inline struct rbuf rb_sub(struct rbuf *r, size_t n)
{
    const uint8_t *q = rb_ptr(r, n);
    struct rbuf s = {q, q ? n : 0, 0, q == NULL};
    return s;
}

/* A reader is "done" when it is error-free and fully consumed. */
static inline bool rb_done(const struct rbuf *r)
{
    return !r->err && r->off == r->len;
}

static inline struct wbuf wb_init(uint8_t *p, size_t cap)
{
    struct wbuf w = {p, cap, 0, false};
    return w;
}

static inline bool wb_need(struct wbuf *w, size_t n)
{
    if (w->err || n > w->cap - w->off) {
        w->err = true;
        return false;
    }
    return true;
}

static inline void wb_u8(struct wbuf *w, uint8_t v)
{
    if (wb_need(w, 1))
        w->p[w->off++] = v;
}

static inline void wb_u16(struct wbuf *w, uint16_t v)
{
    if (!wb_need(w, 2))
        return;
    be16_put(w->p + w->off, v);
    w->off += 2;
}

static inline void wb_u32(struct wbuf *w, uint32_t v)
{
    if (!wb_need(w, 4))
        return;
    be32_put(w->p + w->off, v);
    w->off += 4;
}

static inline void wb_u64(struct wbuf *w, uint64_t v)
{
    wb_u32(w, (uint32_t)(v >> 32));
    wb_u32(w, (uint32_t)v);
}

static inline void wb_bytes(struct wbuf *w, const void *src, size_t n)
{
    if (n == 0 || !wb_need(w, n))
        return;
    memcpy(w->p + w->off, src, n);
    w->off += n;
}

static inline void wb_zero(struct wbuf *w, size_t n)
{
    if (n == 0 || !wb_need(w, n))
        return;
    memset(w->p + w->off, 0, n);
    w->off += n;
}

/* Reserves n bytes to be filled in later (e.g. a length); NULL on error. */
static inline uint8_t *wb_reserve(struct wbuf *w, size_t n)
{
    if (!wb_need(w, n))
        return NULL;
    uint8_t *q = w->p + w->off;
    w->off += n;
    return q;
}

#endif
