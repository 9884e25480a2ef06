/*
 * Fuzzes the sender engine with sequences of client datagrams: a mode byte
 * (bit 0: the session is encrypted, the default aes256-gcm, as 5.0.x;
 * bit 1: protocol v4, --protocol 4),
 * then records framed as in fuzz_receiver.c ([ms step][length BE16]
 * [datagram]), all from one client address, with the virtual clock
 * advanced and outputs drained after each (fuzz_engine.h). The session is
 * a closed group of the sim's two receivers sending one 3000-byte file,
 * with the group ID of the seed sessions (corpus/sender/, dumped by
 * `sim_scenarios --corpus DIR`). Checks batch shapes and that storage reads
 * stay inside the file. Authentic encrypted replies cannot be guessed:
 * fuzz_sender_enc covers what the engine does with those.
 */
#include "fuzz_engine.h"

#include "core/net/addr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct addr from;
    static struct sender_dest d[2] = {{.id = 0x0A000202}, {.id = 0x0A000203}};
    static struct file_item it = {
        .type = 0, .path = "f", .name = "f", .link = "", .size = FZ_FILE_SIZE};
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
    struct sender_env e = {.rng = fz_rng, .storage = fz_sender_storage, .log = fz_log};
    struct fz z = {.kind = FZ_SENDER, .max_seg = 8, .limit = 100000, .now = FZ_T0};
    struct sender *en;
    if (sender_new(&en, &c, &e) != 0)
        __builtin_trap();
    z.e = en;
    fz_drain(&z);
    struct fz_in in = {data, size, 1};
    struct fz_rec r;
    while (fz_next(&in, false, &r)) {
        z.now += r.step_ms * UINT64_C(1000);
        fz_recv(&z, &from, r.p, r.len);
        if (fz_drain(&z))
            break;
    }
    fz_stop(&z);
    return 0;
}
