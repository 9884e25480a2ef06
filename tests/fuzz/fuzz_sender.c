/*
 * Fuzzes the sender engine with sequences of client datagrams: a mode byte
 * (bit 0: the session is encrypted, the default aes256-gcm, as 5.0.x;
 * bit 1: protocol v4, --protocol 4),
 * then records framed as in fuzz_receiver.c ([ms step][length BE16]
 * [datagram]), all from one client address, with the virtual clock
 * advanced and outputs drained after each. The session is a closed group
 * of the sim's two receivers sending one 3000-byte file, with the group ID
 * of the seed sessions (corpus/sender/, dumped by `sim_scenarios --corpus
 * DIR`). Checks batch shapes and that storage reads stay inside the file.
 * Authentic encrypted replies cannot be guessed: fuzz_sender_enc covers
 * what the engine does with those.
 */
#include "sender/engine/engine.h"

#include <string.h>

#include "fuzz_log.h"
#include "core/net/addr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FILE_SIZE 3000

static int st_open(void *c, const struct file_item *it, void **h)
{
    (void)c;
    (void)it;
    *h = (void *)1;
    return 0;
}

static ssize_t st_read(void *c, void *h, uint64_t off, const struct iovec *iov, int n)
{
    (void)c;
    (void)h;
    size_t total = 0;
    for (int i = 0; i < n; i++) {
        memset(iov[i].iov_base, 0xA5, iov[i].iov_len);
        total += iov[i].iov_len;
    }
    if (off + total > FILE_SIZE)
        __builtin_trap();
    return (ssize_t)total;
}

static void st_close(void *c, void *h)
{
    (void)c;
    (void)h;
}

static int rng(void *c, void *b, size_t n)
{
    (void)c;
    memset(b, 0x5A, n);
    return 0;
}

static uint8_t out[ENG_MAX_SEG * 9000];

static int drain(struct sender *s, uint64_t now)
{
    for (int i = 0; i < 100000; i++) {
        struct eng_out o;
        memset(&o, 0, sizeof(o));
        o.buf = out;
        o.cap = sizeof(out);
        o.max_seg = 8;
        int k = sender_poll(s, now, &o);
        if (k == ENG_NONE)
            return 0;
        if (k == ENG_DONE)
            return 1;
        if (k == ENG_SEND &&
            (o.nseg < 1 || o.nseg > 8 || o.len > o.cap || o.len > o.nseg * o.seglen))
            __builtin_trap();
    }
    __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct addr from;
    static struct sender_dest d[2] = {{.id = 0x0A000202}, {.id = 0x0A000203}};
    static struct file_item it = {
        .type = 0, .path = "f", .name = "f", .link = "", .size = FILE_SIZE};
    static int init;
    if (!init) {
        net_addr_parse(&from, "10.0.2.3:1044", 0);
        init = 1;
    }
    struct sender_config c;
    sender_config_defaults(&c);
    net_addr_parse(&c.pub, "230.4.4.1", 1044);
    net_addr_parse(&c.priv, "230.5.5.4", 1044);
    c.server_id = 0x0A000105;
    c.group_id = 0x5EED0001;
    c.rate_kbps = 100000;
    c.dests = d;
    c.ndest = 2;
    c.files = &it;
    c.nfiles = 1;
    if (size < 1)
        return 0;
    if (!(data[0] & 1))
        c.keytype = KEY_NONE;
    if (data[0] & 2)
        c.version = UFTP_VER4;
    data++;
    size--;
    struct sender_env e = {.rng = rng, .storage = {st_open, st_read, st_close}, .log = fuzz_log};
    struct sender *s;
    if (sender_new(&s, &c, &e) != 0)
        __builtin_trap();
    uint64_t now = 1000000;
    static uint8_t pkt[65536];
    size_t off = 0;
    drain(s, now);
    while (off + 3 <= size) {
        now += (uint64_t)data[off] * 1000;
        size_t len = (size_t)data[off + 1] << 8 | data[off + 2];
        off += 3;
        if (len > size - off)
            len = size - off;
        memcpy(pkt, data + off, len);
        off += len;
        sender_recv(s, &from, NULL, pkt, len, 0, now);
        if (drain(s, now))
            break;
    }
    sender_interrupt(s, now);
    drain(s, now);
    sender_free(s);
    return 0;
}
