/*
 * Fuzzes the receiver engine with whole sequences of datagrams, as a
 * session would bring them: the input is records of
 *   [time step, ms (1)] [length, big-endian (2)] [datagram]
 * all from one server address, fed to receiver_recv with the virtual clock
 * advanced by the step, outputs drained after each. Memory storage checks
 * every write lies inside the file it was opened for and is never repeated.
 * Seeds (corpus/receiver/) are real sessions dumped by tests/sim
 * (`sim_scenarios --corpus DIR wire_check`).
 */
#include "receiver/engine/engine.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_log.h"
#include "core/net/addr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct mfile {
    uint64_t size, written;
};

/* A ".." component anywhere ("a..b" is a fine name, "a/../b" is not). */
static int dotdot(const char *rel)
{
    for (const char *p = rel; (p = strstr(p, "..")) != NULL; p += 2)
        if ((p == rel || p[-1] == '/') && (p[2] == '\0' || p[2] == '/'))
            return 1;
    return 0;
}

static int st_open(void *c, const struct receiver_file *f, void **h)
{
    (void)c;
    if (f->rel == NULL || f->rel[0] == '/' || dotdot(f->rel))
        __builtin_trap(); /* the engine must never hand storage such a name */
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
    if (f->rel == NULL || f->rel[0] == '/' || dotdot(f->rel))
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

static int rng(void *c, void *b, size_t n)
{
    (void)c;
    memset(b, 0x5A, n);
    return 0;
}

static uint8_t out[ENG_MAX_SEG * 9000];

static void drain(struct receiver *r, uint64_t now)
{
    for (int i = 0; i < 10000; i++) {
        struct eng_out o;
        memset(&o, 0, sizeof(o));
        o.buf = out;
        o.cap = sizeof(out);
        o.max_seg = 1;
        int k = receiver_poll(r, now, &o);
        if (k <= 0 || k == ENG_DONE)
            return;
        if (k == ENG_SEND && (o.len > o.cap || o.nseg != 1))
            __builtin_trap();
    }
    __builtin_trap(); /* poll never settles */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const dests[] = {"/dest0", "/dest1"};
    static struct addr pub, from;
    static int init;
    if (!init) {
        net_addr_parse(&pub, "230.4.4.1", 1044);
        net_addr_parse(&from, "10.0.1.5:40003", 0);
        init = 1;
    }
    struct receiver_config c;
    receiver_config_defaults(&c);
    c.client_id = 0x0A000202; /* receiver 0 of the sim session that made the seeds */
    c.dests = dests;
    c.ndest = 2;
    c.pub_addrs = &pub;
    c.npub = 1;
    c.max_sessions = 4;
    struct receiver_env e = {
        .rng = rng,
        .storage = {st_open, st_write, st_close, st_other, st_other, st_other, st_free, st_stat,
                    NULL},
        .log = fuzz_log,
    };
    struct receiver *r;
    if (receiver_new(&r, &c, &e) != 0)
        __builtin_trap();
    uint64_t now = 1000000;
    static uint8_t pkt[65536];
    size_t off = 0;
    drain(r, now);
    while (off + 3 <= size) {
        now += (uint64_t)data[off] * 1000;
        size_t len = (size_t)data[off + 1] << 8 | data[off + 2];
        off += 3;
        if (len > size - off)
            len = size - off;
        memcpy(pkt, data + off, len); /* writable, as the shell's buffer is */
        off += len;
        receiver_recv(r, &from, NULL, pkt, len, 0, now);
        drain(r, now);
        uint64_t d = receiver_deadline(r);
        if (d != ENG_NEVER && d <= now + 5000000) {
            now = d > now ? d : now;
            drain(r, now);
        }
    }
    receiver_shutdown(r, now);
    drain(r, now);
    receiver_free(r);
    return 0;
}
