/*
 * Fuzzes the receiver engine with whole sequences of datagrams, as a
 * session would bring them: the input is records of
 *   [time step, ms (1)] [length, big-endian (2)] [datagram]
 * all from one server address, fed to receiver_recv with the virtual clock
 * advanced by the step, outputs drained after each (fuzz_engine.h). Memory
 * storage checks every write lies inside the file it was opened for and is
 * never repeated. Seeds (corpus/receiver/) are real sessions dumped by
 * tests/sim (`sim_scenarios --corpus DIR`).
 */
#include "fuzz_engine.h"

#include "core/net/addr.h"

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
    struct receiver_env e = {.rng = fz_rng, .storage = fz_receiver_storage, .log = fz_log};
    struct fz z = {.kind = FZ_RECEIVER, .max_seg = 1, .limit = 10000, .now = FZ_T0};
    struct receiver *en;
    if (receiver_new(&en, &c, &e) != 0)
        __builtin_trap();
    z.e = en;
    fz_drain(&z);
    struct fz_in in = {data, size, 0};
    struct fz_rec r;
    while (fz_next(&in, false, &r)) {
        z.now += r.step_ms * UINT64_C(1000);
        fz_recv(&z, &from, r.p, r.len);
        fz_drain(&z);
        fz_settle(&z);
    }
    fz_stop(&z);
    return 0;
}
