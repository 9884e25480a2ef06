/*
 * Fuzzes the proxy engine with sequences of datagrams from several peers.
 * The first byte picks the role (server proxy with a fixed downstream,
 * server proxy in fingerprint mode, client proxy, response proxy); then
 * records of
 *   [time step, ms (1)] [peer (1)] [length, big-endian (2)] [datagram]
 * where peer % 6 is the server (0), the downstream proxy (1) or one of four
 * clients (2..5). Outputs are drained after each datagram and checked for
 * shape (lengths, batches), the deadline must never lie in the past after a
 * drain, and shutdown must end with ENG_DONE. Limits are small so that the
 * refusal paths run. Seeds (corpus/proxy/) are sessions through proxies in
 * the simulator (`sim_proxy --corpus DIR`) and through the reference
 * binaries.
 */
#include "proxy/engine/engine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/crypto/ecdh.h"
#include "core/crypto/fp.h"
#include "core/crypto/keyblob.h"
#include "core/crypto/keyfile.h"
#include "fuzz_log.h"
#include "core/net/addr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int rng(void *c, void *b, size_t n)
{
    (void)c;
    memset(b, 0x5A, n);
    return 0;
}

static uint8_t out[ENG_MAX_SEG * 9000];

static void drain(struct proxy *p, uint64_t now)
{
    for (int i = 0; i < 100000; i++) {
        struct eng_out o;
        memset(&o, 0, sizeof(o));
        o.buf = out;
        o.cap = sizeof(out);
        o.max_seg = ENG_MAX_SEG;
        int k = proxy_poll(p, now, &o);
        if (k <= 0 || k == ENG_DONE)
            return;
        if (k == ENG_SEND &&
            (o.len > o.cap || o.nseg < 1 || o.nseg > ENG_MAX_SEG || o.len > o.nseg * o.seglen ||
             o.len <= (o.nseg - 1) * o.seglen || !addr_is_set(&o.dst)))
            __builtin_trap();
    }
    __builtin_trap(); /* poll never settles */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct addr pub, peers[6];
    static struct crypto_key *key;
    static uint8_t fp[FP_LEN];
    static int init;
    static struct crypto_key *dh4;
    if (!init) {
        if (keyfile_gen_ec(CURVE_P256, &key) != 0 || ecdh_keygen(CURVE_P256, &dh4) != 0)
            __builtin_trap();
        size_t bl;
        const uint8_t *b = crypto_key_blob(key, &bl);
        fp_compute(b, bl, fp);
        net_addr_parse(&pub, "230.4.4.1", 1044);
        /* The sim's sender, the downstream proxy, four clients. */
        net_addr_parse(&peers[0], "10.0.1.5:40003", 0);
        net_addr_parse(&peers[1], "10.101.250.1:20000", 0);
        for (int i = 2; i < 6; i++) {
            char a[32];
            snprintf(a, sizeof(a), "10.103.0.%d:1044", i - 1);
            net_addr_parse(&peers[i], a, 0);
        }
        init = 1;
    }
    if (size < 1)
        return 0;
    struct proxy_config c;
    proxy_config_defaults(&c);
    c.proxy_id = 0x0A650002;
    c.key = key;
    c.pub_addrs = &pub;
    c.npub = 1;
    c.max_sessions = 3;
    c.max_clients = 3;
    c.max_pending = 2;
    c.queue_bytes = 65536;
    switch (data[0] % 4) {
    case 0:
        c.role = PROXY_SERVER;
        c.down = peers[1];
        break;
    case 1:
        c.role = PROXY_SERVER;
        memcpy(c.down_fp, fp, FP_LEN);
        c.down_fplen = FP_LEN;
        break;
    case 2:
        c.role = PROXY_CLIENT;
        c.hb_hosts = &peers[0];
        c.nhb = 1;
        c.hb_interval_us = 1000000;
        break;
    default:
        c.role = PROXY_RESPONSE;
        c.dh4 = dh4; /* KEY_REQ and encrypted v4 sessions (spec §1.9 item 5) */
        break;
    }
    struct proxy_env e = {.rng = rng, .log = fuzz_log};
    struct proxy *p;
    if (proxy_new(&p, &c, &e) != 0)
        __builtin_trap();
    uint64_t now = 1000000;
    static uint8_t pkt[65536];
    size_t off = 1;
    drain(p, now);
    while (off + 4 <= size) {
        now += (uint64_t)data[off] * 1000;
        const struct addr *from = &peers[data[off + 1] % 6];
        size_t len = (size_t)data[off + 2] << 8 | data[off + 3];
        off += 4;
        if (len > size - off)
            len = size - off;
        memcpy(pkt, data + off, len); /* writable, as the shell's buffer is */
        off += len;
        proxy_recv(p, from, NULL, pkt, len, 0, now);
        drain(p, now);
        uint64_t d = proxy_deadline(p);
        if (d < now)
            __builtin_trap();
        if (d != ENG_NEVER && d <= now + 5000000) {
            now = d;
            drain(p, now);
        }
    }
    proxy_shutdown(p, now);
    for (int i = 0; i < 100; i++) {
        struct eng_out o;
        memset(&o, 0, sizeof(o));
        o.buf = out;
        o.cap = sizeof(out);
        o.max_seg = ENG_MAX_SEG;
        int k = proxy_poll(p, now, &o);
        if (k == ENG_DONE)
            break;
        if (k == ENG_NONE)
            __builtin_trap(); /* shutdown must end with ENG_DONE */
    }
    proxy_free(p);
    return 0;
}
