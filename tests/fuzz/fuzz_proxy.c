/*
 * Fuzzes the proxy engine with sequences of datagrams from several peers.
 * The first byte picks the role (server proxy with a fixed downstream,
 * server proxy in fingerprint mode, client proxy, response proxy); then
 * records of
 *   [time step, ms (1)] [peer (1)] [length, big-endian (2)] [datagram]
 * where peer % 6 is the server (0), the downstream proxy (1) or one of four
 * clients (2..5). Outputs are drained after each datagram and checked
 * (fuzz_engine.h: shapes, lengths, batches, memberships), the deadline must
 * never lie in the past after a drain, and shutdown must end with ENG_DONE
 * at once. Limits are small so that the refusal paths run. Seeds
 * (corpus/proxy/) are sessions through proxies in the simulator
 * (`sim_proxy --corpus DIR NAME`) and through the reference binaries. The
 * client proxy is a lower proxy of 0A650003 and the response proxy an upper
 * one of 0A650101 (stacked proxies, spec §3.5; seeds stacked-*).
 */
#include "fuzz_engine.h"

#include <stdio.h>
#include <string.h>

#include "core/crypto/ecdh.h"
#include "core/crypto/fp.h"
#include "core/crypto/keyblob.h"
#include "core/crypto/keyfile.h"
#include "core/net/addr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct addr pub, peers[6];
    static struct crypto_key *key;
    static uint8_t fp[FP_LEN];
    static int init;
    static struct crypto_key *dh4;
    static const struct proxy_client downs[] = {{.id = 0x0A650101}};
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
        c.up_proxy = 0x0A650003; /* spec §3.5: a lower proxy, when that PROXY_KEY comes */
        c.hb_hosts = &peers[0];
        c.nhb = 1;
        c.hb_interval_us = 1000000;
        break;
    default:
        c.role = PROXY_RESPONSE;
        c.dh4 = dh4;     /* KEY_REQ and encrypted v4 sessions (spec §1.9 item 5) */
        c.downs = downs; /* spec §3.5: an upper proxy of the proxy with that ID */
        c.ndown = 1;
        break;
    }
    struct proxy_env e = {.rng = fz_rng, .log = fz_log};
    struct fz z = {.kind = FZ_PROXY, .max_seg = ENG_MAX_SEG, .limit = 100000, .now = FZ_T0};
    struct proxy *p;
    if (proxy_new(&p, &c, &e) != 0)
        __builtin_trap();
    z.e = p;
    fz_drain(&z);
    struct fz_in in = {data, size, 1};
    struct fz_rec r;
    while (fz_next(&in, true, &r)) {
        z.now += r.step_ms * UINT64_C(1000);
        fz_recv(&z, &peers[r.tag % 6], r.p, r.len);
        fz_drain(&z);
        fz_settle(&z);
    }
    fz_stop(&z);
    return 0;
}
