/*
 * Fuzzes the receiver engine inside an encrypted session, past the
 * authentication step that random bytes can never get through. Each input
 * first runs a real v5 handshake with server keys the harness holds: a
 * signed ANNOUNCE, the receiver's REGISTER, a signed KEYINFO for it (whose
 * KEYINFO_ACK must verify). Then records
 *     [ms step (1)] [flags (1)] [length BE16] [message]
 * each a message starting at its func byte, which the harness puts behind
 * a server header and seals under the server application key with the
 * next counter. Flags: bit 0 = send it raw instead (a cleartext message:
 * the cleartext rules), bit 1 = resend the previous datagram (a replay).
 * Storage checks as in fuzz_receiver.c. Seeds (corpus/receiver_enc/) are
 * the server's messages of simulated sessions (`sim_scenarios --corpus`).
 */
#include "fuzz_engine.h"

#include <string.h>

#include "core/crypto/keyblob.h"
#include "core/crypto/keyfile.h"
#include "core/crypto/skeys.h"
#include "core/net/addr.h"
#include "core/wire/msg.h"

#define CLIENT 0x0A000202u /* receiver 0 of the sim sessions that made the seeds */
#define SERVER 0x0A000105u
#define GROUP  0x5EED0002u

/* The receiver's last REGISTER and KEYINFO_ACK. */
static uint8_t reg[9000], ack[9000];
static size_t reglen, acklen;

static void keep(const uint8_t *p, size_t len)
{
    if (len >= UFTP_HDR_LEN && p[1] == REGISTER) {
        memcpy(reg, p, len);
        reglen = len;
    } else if (len >= UFTP_HDR_LEN && p[1] == ENCRYPTED) {
        memcpy(ack, p, len);
        acklen = len;
    }
}

static void hdr(uint8_t *p, uint8_t func, uint16_t seq)
{
    struct uftp_hdr h = {.version = UFTP_VER5,
                         .func = func,
                         .seq = seq,
                         .src_id = SERVER,
                         .group_id = GROUP,
                         .grtt = 0x80,
                         .gsize = 0x18};
    uftp_hdr_encode(p, UFTP_HDR_LEN, &h);
}

static struct skeys_server *srv;
static uint8_t ann[2048];
static size_t annlen;

static void setup(void)
{
    static struct crypto_key *key;
    if (keyfile_gen_ec(CURVE_P256, &key) != CRYPTO_OK)
        __builtin_trap();
    struct skeys_server_cfg sc = {.keytype = KEY_AES256_GCM,
                                  .hashtype = HASH_SHA256,
                                  .curve = CURVE_P256,
                                  .sigkey = key,
                                  .group_id = GROUP,
                                  .server_id = SERVER};
    memset(sc.rand1, 1, sizeof(sc.rand1));
    memset(sc.group_master, 2, sizeof(sc.group_master));
    if (skeys_server_new(&srv, &sc) != CRYPTO_OK)
        __builtin_trap();
    struct wire_announce a;
    memset(&a, 0, sizeof(a));
    a.ver = UFTP_VER5;
    a.robust = 20;
    a.blocksize = 1300;
    a.tstamp = UINT64_C(1700000000000000);
    a.pub_addr[0] = 230;
    a.priv_addr[0] = 230;
    a.priv_addr[3] = 5;
    a.has_enc = true;
    a.enc = *skeys_server_enc_info(srv);
    hdr(ann, ANNOUNCE, 0);
    ssize_t n = wire_announce_encode(ann + UFTP_HDR_LEN, sizeof(ann) - UFTP_HDR_LEN, &a);
    if (n < 0)
        __builtin_trap();
    annlen = UFTP_HDR_LEN + (size_t)n;
    if (skeys_server_sign_announce(srv, ann, annlen) != CRYPTO_OK)
        __builtin_trap();
}

/* The handshake; returns the client's keys as the server holds them. */
static struct skeys_peer *handshake(struct fz *z, const struct addr *from)
{
    static uint8_t pkt[9000];
    reglen = acklen = 0;
    fz_recv(z, from, ann, annlen);
    fz_drain(z);
    struct wire_datagram d;
    if (reglen == 0 || wire_datagram_decode(&d, reg, reglen) < 0 || d.msg.func != REGISTER)
        __builtin_trap(); /* a signed ANNOUNCE must get a REGISTER */
    struct skeys_peer *p;
    if (skeys_server_register(srv, CLIENT, d.msg.u.reg.dhblob, d.msg.u.reg.dhlen, d.msg.u.reg.rand2,
                              &p) != CRYPTO_OK)
        __builtin_trap();
    uint64_t ctr;
    struct wire_destkey dk = {.id = CLIENT};
    if (skeys_server_keyinfo_ctr(srv, &ctr) != CRYPTO_OK ||
        skeys_server_wrap(srv, p, ctr, dk.master) != CRYPTO_OK)
        __builtin_trap();
    struct wire_keyinfo k = {.ver = UFTP_VER5,
                             .iv_ctr = ctr,
                             .siglen = (uint16_t)skeys_server_siglen(srv),
                             .keys = {.host = &dk, .n = 1}};
    hdr(pkt, KEYINFO, 1);
    ssize_t n = wire_keyinfo_encode(pkt + UFTP_HDR_LEN, sizeof(pkt) - UFTP_HDR_LEN, &k);
    if (n < 0 || skeys_server_sign_keyinfo(srv, pkt, UFTP_HDR_LEN + (size_t)n) != CRYPTO_OK)
        __builtin_trap();
    fz_recv(z, from, pkt, UFTP_HDR_LEN + (size_t)n);
    fz_drain(z);
    /* Its KEYINFO_ACK opens under its key and carries the right verify data. */
    const uint8_t *m;
    size_t ml;
    bool hs;
    static uint8_t scratch[9000];
    struct wire_msg wm;
    if (acklen == 0 || skeys_peer_open(p, false, ack, acklen, scratch, &m, &ml, &hs) != CRYPTO_OK ||
        wire_msg_decode(&wm, UFTP_VER5, m, ml) < 0 || wm.func != KEYINFO_ACK ||
        !skeys_peer_verify(p, wm.u.keyinfo_ack.verify, wm.u.keyinfo_ack.verify_len))
        __builtin_trap();
    return p;
}

/* Records' messages go sealed under the server application key. */
static ssize_t seal(uint8_t *pkt, size_t len, size_t cap)
{
    return skeys_seal(skeys_server_tx(srv), skeys_server_ctr(srv), pkt, len, cap);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const dests[] = {"/dest0", "/dest1"};
    static struct addr pub, from;
    static int init;
    if (!init) {
        setup();
        net_addr_parse(&pub, "230.4.4.1", 1044);
        net_addr_parse(&from, "10.0.1.5:40003", 0);
        init = 1;
    }
    struct receiver_config c;
    receiver_config_defaults(&c);
    c.client_id = CLIENT;
    c.dests = dests;
    c.ndest = 2;
    c.pub_addrs = &pub;
    c.npub = 1;
    c.max_sessions = 2;
    c.pk_budget_us = 0; /* the budget is the sim's business; here every input handshakes */
    /* Our wall clock reads the ANNOUNCE's time at the start (issue 14: its timestamp is checked).
     */
    c.wall_offset_us = (int64_t)UINT64_C(1700000000000000) - 1000000;
    struct receiver_env e = {.rng = fz_rng, .storage = fz_receiver_storage, .log = fz_log};
    struct fz z = {
        .kind = FZ_RECEIVER, .max_seg = 1, .limit = 10000, .now = FZ_T0, .on_send = keep};
    struct receiver *rv;
    if (receiver_new(&rv, &c, &e) != 0)
        __builtin_trap();
    z.e = rv;
    fz_drain(&z);
    struct skeys_peer *p = handshake(&z, &from);
    static struct fz_sealer sl;
    sl = (struct fz_sealer){.hdr = hdr, .seal = seal, .seq = 2};
    struct fz_in in = {data, size, 0};
    struct fz_rec rec;
    while (fz_next(&in, true, &rec)) {
        z.now += rec.step_ms * UINT64_C(1000);
        size_t n = fz_seal(&sl, &rec);
        if (n == 0)
            continue;
        fz_recv(&z, &from, sl.pkt, n);
        fz_drain(&z);
        fz_settle(&z);
    }
    fz_stop(&z);
    skeys_peer_free(p);
    return 0;
}
