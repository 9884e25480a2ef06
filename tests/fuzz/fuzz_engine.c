/*
 * The engine harness of tests/fuzz (fuzz_engine.h).
 */
#include "fuzz_engine.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/crypto/aead.h"
#include "core/crypto/skeys.h"
#include "core/wire/wire.h"

/* ------------------------------------------------------------ the env */

int fz_rng(void *ctx, void *buf, size_t len)
{
    (void)ctx;
    memset(buf, 0x5A, len);
    return 0;
}

__attribute__((format(printf, 3, 0))) static void fz_vlog(void *ctx, int level, const char *fmt,
                                                          va_list ap)
{
    static char line[2048];
    (void)ctx;
    (void)level;
    vsnprintf(line, sizeof(line), fmt, ap);
}

const struct elog fz_log = {NULL, fz_vlog, NULL};

static int src_open(void *c, const struct file_item *it, void **h)
{
    (void)c;
    (void)it;
    *h = (void *)1;
    return 0;
}

static ssize_t src_read(void *c, void *h, uint64_t off, const struct iovec *iov, int n)
{
    (void)c;
    (void)h;
    size_t total = 0;
    for (int i = 0; i < n; i++) {
        memset(iov[i].iov_base, 0xA5, iov[i].iov_len);
        total += iov[i].iov_len;
    }
    if (off + total > FZ_FILE_SIZE)
        __builtin_trap();
    return (ssize_t)total;
}

static void src_close(void *c, void *h)
{
    (void)c;
    (void)h;
}

const struct sender_storage fz_sender_storage = {src_open, src_read, src_close};

struct mfile {
    uint64_t size, written;
};

/* A name the engine must never hand storage: absolute, or with a ".." component ("a..b" is fine).
 */
static bool bad_name(const char *rel)
{
    if (rel == NULL || rel[0] == '/')
        return true;
    for (const char *p = rel; (p = strstr(p, "..")) != NULL; p += 2)
        if ((p == rel || p[-1] == '/') && (p[2] == '\0' || p[2] == '/'))
            return true;
    return false;
}

static int st_open(void *c, const struct receiver_file *f, void **h)
{
    (void)c;
    if (bad_name(f->rel))
        __builtin_trap();
    struct mfile *m = calloc(1, sizeof(*m));
    if (m == NULL)
        return -ENOMEM;
    m->size = f->size;
    *h = m;
    return 0;
}

static int st_write(void *c, void *h, uint64_t off, const void *d, size_t n)
{
    (void)c;
    (void)d;
    struct mfile *m = h;
    if (off > m->size || n > m->size - off)
        __builtin_trap();
    m->written += n;
    if (m->written > m->size)
        __builtin_trap(); /* a block written twice */
    return 0;
}

/* Parity decoding reads blocks back (issue 17): zeros, in bounds. */
static int st_read(void *c, void *h, uint64_t off, void *d, size_t n)
{
    (void)c;
    struct mfile *m = h;
    if (off > m->size || n > m->size - off)
        __builtin_trap();
    memset(d, 0, n);
    return 0;
}

static int st_close(void *c, void *h, enum receiver_close how, const struct receiver_file *f)
{
    (void)c;
    (void)f;
    struct mfile *m = h;
    if (how == RECEIVER_CLOSE_DONE && m->written != m->size)
        __builtin_trap(); /* an incomplete file presented as complete */
    free(m);
    return 0;
}

static int st_other(void *c, const struct receiver_file *f)
{
    (void)c;
    if (bad_name(f->rel))
        __builtin_trap();
    return 0;
}

static int st_free(void *c, const struct receiver_file *f, uint64_t *a)
{
    (void)c;
    (void)f;
    *a = UINT64_C(1) << 40;
    return 0;
}

static int st_stat(void *c, const struct receiver_file *f, struct file_stat *s)
{
    (void)c;
    (void)f;
    (void)s;
    return -ENOENT;
}

const struct receiver_storage fz_receiver_storage = {.open = st_open,
                                                     .write = st_write,
                                                     .read = st_read,
                                                     .close = st_close,
                                                     .mkdir = st_other,
                                                     .symlink = st_other,
                                                     .remove = st_other,
                                                     .free_space = st_free,
                                                     .stat = st_stat};

/* ------------------------------------------------------------ records */

bool fz_next(struct fz_in *in, bool tagged, struct fz_rec *r)
{
    size_t hl = tagged ? 4 : 3;
    if (in->off + hl > in->n)
        return false;
    const uint8_t *h = in->p + in->off;
    r->step_ms = h[0];
    r->tag = tagged ? h[1] : 0;
    r->len = (size_t)h[hl - 2] << 8 | h[hl - 1];
    in->off += hl;
    if (r->len > in->n - in->off)
        r->len = in->n - in->off;
    r->p = in->p + in->off;
    in->off += r->len;
    return true;
}

size_t fz_seal(struct fz_sealer *s, const struct fz_rec *r)
{
    size_t n;
    uint8_t func = r->len ? r->p[0] : 0;
    if (r->tag & 2) {
        if (s->prevlen == 0)
            return 0;
        memcpy(s->pkt, s->prev, s->prevlen);
        n = s->prevlen;
    } else if (r->tag & 1) {
        if (r->len > sizeof(s->pkt) - UFTP_HDR_LEN)
            return 0;
        s->hdr(s->pkt, func, s->seq++);
        memcpy(s->pkt + UFTP_HDR_LEN, r->p, r->len);
        n = UFTP_HDR_LEN + r->len;
    } else {
        if (r->len > sizeof(s->pkt) - SKEYS_MSG_OFF - AEAD_TAG_LEN)
            return 0;
        s->hdr(s->pkt, func, s->seq++);
        memcpy(s->pkt + SKEYS_MSG_OFF, r->p, r->len);
        ssize_t k = s->seal(s->pkt, r->len, sizeof(s->pkt));
        if (k < 0)
            __builtin_trap();
        n = (size_t)k;
    }
    memcpy(s->prev, s->pkt, n);
    s->prevlen = n;
    return n;
}

/* ------------------------------------------------------------ an engine */

static int poll_one(struct fz *z, struct eng_out *o)
{
    switch (z->kind) {
    case FZ_SENDER:
        return sender_poll(z->e, z->now, o);
    case FZ_RECEIVER:
        return receiver_poll(z->e, z->now, o);
    default:
        return proxy_poll(z->e, z->now, o);
    }
}

static uint64_t deadline(struct fz *z)
{
    switch (z->kind) {
    case FZ_SENDER:
        return sender_deadline(z->e);
    case FZ_RECEIVER:
        return receiver_deadline(z->e);
    default:
        return proxy_deadline(z->e);
    }
}

static uint8_t g_out[ENG_MAX_SEG * 9000];

int fz_drain(struct fz *z)
{
    for (unsigned i = 0; i < z->limit; i++) {
        struct eng_out o;
        memset(&o, 0, sizeof(o));
        o.buf = g_out;
        o.cap = sizeof(g_out);
        o.max_seg = z->max_seg;
        int k = poll_one(z, &o);
        if (k == ENG_NONE)
            return z->done;
        if (z->done || k < 0)
            __builtin_trap(); /* nothing but ENG_NONE after ENG_DONE; poll cannot fail here */
        switch (k) {
        case ENG_SEND: {
            size_t most = z->max_seg < ENG_MAX_SEG ? z->max_seg : ENG_MAX_SEG;
            if (o.nseg < 1 || o.nseg > most || o.len > o.cap || o.seglen > UFTP_MAX_DATAGRAM ||
                o.len > o.nseg * o.seglen || o.len <= (o.nseg - 1) * o.seglen ||
                !addr_is_set(&o.dst))
                __builtin_trap(); /* not a batch of nseg datagrams of seglen (the last shorter) */
            for (size_t off = 0; z->on_send != NULL && off < o.len; off += o.seglen)
                z->on_send(g_out + off, o.len - off < o.seglen ? o.len - off : o.seglen);
            break;
        }
        case ENG_JOIN:
        case ENG_LEAVE:
            z->members += k == ENG_JOIN ? 1 : -1;
            if (!addr_is_set(&o.group) || z->members < 0)
                __builtin_trap(); /* a LEAVE without its JOIN */
            break;
        case ENG_DONE:
            z->done = true;
            return 1;
        default:
            __builtin_trap();
        }
    }
    __builtin_trap(); /* poll never settles */
}

void fz_recv(struct fz *z, const struct addr *from, const uint8_t *p, size_t len)
{
    static uint8_t pkt[65536];
    memcpy(pkt, p, len);
    switch (z->kind) {
    case FZ_SENDER:
        sender_recv(z->e, from, NULL, pkt, len, 0, z->now);
        break;
    case FZ_RECEIVER:
        receiver_recv(z->e, from, NULL, pkt, len, 0, z->now);
        break;
    default:
        proxy_recv(z->e, from, NULL, pkt, len, 0, z->now);
        break;
    }
}

void fz_settle(struct fz *z)
{
    uint64_t d = deadline(z);
    if (d < z->now)
        __builtin_trap(); /* a deadline in the past after a drain: a shell would spin */
    if (d != ENG_NEVER && d <= z->now + 5000000) {
        z->now = d;
        fz_drain(z);
    }
}

void fz_stop(struct fz *z)
{
    switch (z->kind) {
    case FZ_SENDER:
        sender_interrupt(z->e, z->now);
        break;
    case FZ_RECEIVER:
        receiver_shutdown(z->e, z->now);
        break;
    default:
        proxy_shutdown(z->e, z->now);
        break;
    }
    if (!fz_drain(z) || z->members != 0 || deadline(z) != ENG_NEVER)
        __builtin_trap(); /* a stop ends at once, leaving every group */
    switch (z->kind) {
    case FZ_SENDER:
        sender_free(z->e);
        break;
    case FZ_RECEIVER:
        receiver_free(z->e);
        break;
    default:
        proxy_free(z->e);
        break;
    }
}
