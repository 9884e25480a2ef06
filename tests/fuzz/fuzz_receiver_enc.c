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
#include "receiver/engine/engine.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/crypto/keyblob.h"
#include "core/crypto/keyfile.h"
#include "core/crypto/skeys.h"
#include "fuzz_log.h"
#include "core/net/addr.h"
#include "core/wire/msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CLIENT 0x0A000202u /* receiver 0 of the sim sessions that made the seeds */
#define SERVER 0x0A000105u
#define GROUP  0x5EED0002u

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
        __builtin_trap();
    return 0;
}

static int st_close(void *c, void *h, enum receiver_close how, const struct receiver_file *f)
{
    (void)c;
    (void)f;
    struct mfile *m = h;
    if (how == RECEIVER_CLOSE_DONE && m->written != m->size)
        __builtin_trap();
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
/* The receiver's last REGISTER and KEYINFO_ACK. */
static uint8_t reg[9000], ack[9000];
static size_t reglen, acklen;

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
        if (k == ENG_SEND && (o.len > o.cap || o.nseg != 1 || o.len > UFTP_MAX_DATAGRAM))
            __builtin_trap();
        if (k == ENG_SEND && o.len >= UFTP_HDR_LEN && out[1] == REGISTER) {
            memcpy(reg, out, o.len);
            reglen = o.len;
        } else if (k == ENG_SEND && o.len >= UFTP_HDR_LEN && out[1] == ENCRYPTED) {
            memcpy(ack, out, o.len);
            acklen = o.len;
        }
    }
    __builtin_trap();
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
static struct skeys_peer *handshake(struct receiver *r, const struct addr *from, uint64_t now)
{
    static uint8_t pkt[9000];
    memcpy(pkt, ann, annlen);
    reglen = acklen = 0;
    receiver_recv(r, from, NULL, pkt, annlen, 0, now);
    drain(r, now);
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
    receiver_recv(r, from, NULL, pkt, UFTP_HDR_LEN + (size_t)n, 0, now);
    drain(r, now);
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
    drain(r, now);
    struct skeys_peer *p = handshake(r, &from, now);
    static uint8_t pkt[9000], prev[9000];
    size_t prevlen = 0, off = 0;
    uint16_t seq = 2;
    while (off + 4 <= size) {
        now += (uint64_t)data[off] * 1000;
        uint8_t flags = data[off + 1];
        size_t len = (size_t)data[off + 2] << 8 | data[off + 3];
        off += 4;
        if (len > size - off)
            len = size - off;
        const uint8_t *msg = data + off;
        off += len;
        size_t n;
        if (flags & 2) {
            if (prevlen == 0)
                continue;
            memcpy(pkt, prev, prevlen);
            n = prevlen;
        } else if (flags & 1) {
            if (len > sizeof(pkt) - UFTP_HDR_LEN)
                continue;
            hdr(pkt, len ? msg[0] : 0, seq++);
            memcpy(pkt + UFTP_HDR_LEN, msg, len);
            n = UFTP_HDR_LEN + len;
        } else {
            if (len > sizeof(pkt) - SKEYS_MSG_OFF - AEAD_TAG_LEN)
                continue;
            hdr(pkt, len ? msg[0] : 0, seq++);
            memcpy(pkt + SKEYS_MSG_OFF, msg, len);
            ssize_t s =
                skeys_seal(skeys_server_tx(srv), skeys_server_ctr(srv), pkt, len, sizeof(pkt));
            if (s < 0)
                __builtin_trap();
            n = (size_t)s;
        }
        memcpy(prev, pkt, n);
        prevlen = n;
        receiver_recv(r, &from, NULL, pkt, n, 0, now);
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
    skeys_peer_free(p);
    return 0;
}
