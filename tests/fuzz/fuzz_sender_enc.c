/*
 * Fuzzes the sender engine inside an encrypted session, past the
 * authentication step. Input: a mode byte (bit 0: client authentication),
 * then records as in fuzz_receiver_enc.c
 *     [ms step (1)] [flags (1)] [length BE16] [message]
 * Each input first runs a real v5 handshake as the only client of a closed
 * group: the sender's signed ANNOUNCE is verified, the harness registers
 * (with CLIENT_KEY under client authentication), opens the signed KEYINFO
 * and acknowledges it. Then each message (from its func byte) goes behind
 * the client's header, sealed under the client application key (flags bit
 * 0: raw instead; bit 1: the previous datagram again, a replay). Checks
 * batch shapes and that storage reads stay inside the file. Seeds
 * (corpus/sender_enc/) are a simulated client's messages.
 */
#include "fuzz_engine.h"

#include <string.h>

#include "core/crypto/keyblob.h"
#include "core/crypto/keyfile.h"
#include "core/crypto/skeys.h"
#include "core/net/addr.h"
#include "core/wire/msg.h"

#define CLIENT 0x0A000202u
#define SERVER 0x0A000105u
#define GROUP  0x5EED0001u

/* The sender's first ANNOUNCE and KEYINFO. */
static uint8_t ann[9000], ki[9000];
static size_t annlen, kilen;

static void keep(const uint8_t *p, size_t len)
{
    if (p[1] == ANNOUNCE && annlen == 0) {
        memcpy(ann, p, len);
        annlen = len;
    } else if (p[1] == KEYINFO && kilen == 0) {
        memcpy(ki, p, len);
        kilen = len;
    }
}

static void hdr(uint8_t *p, uint8_t func, uint16_t seq)
{
    struct uftp_hdr h = {
        .version = UFTP_VER5, .func = func, .seq = seq, .src_id = CLIENT, .group_id = GROUP};
    uftp_hdr_encode(p, UFTP_HDR_LEN, &h);
}

static void seal_send(struct fz *z, struct skeys_client *k, struct skeys_dir *d,
                      const struct addr *from, uint8_t func, const uint8_t *msg, size_t len,
                      uint16_t seq)
{
    static uint8_t pkt[9000];
    hdr(pkt, func, seq);
    memcpy(pkt + SKEYS_MSG_OFF, msg, len);
    ssize_t n = skeys_seal(d, skeys_client_ctr(k), pkt, len, sizeof(pkt));
    if (n < 0)
        __builtin_trap();
    fz_recv(z, from, pkt, (size_t)n);
}

/* The handshake as the group's one client (now advances while waiting for KEYINFO). */
static struct skeys_client *handshake(struct fz *z, const struct addr *from, bool auth)
{
    static struct crypto_key *ck;
    if (ck == NULL && keyfile_gen_ec(CURVE_P256, &ck) != CRYPTO_OK)
        __builtin_trap();
    annlen = kilen = 0;
    fz_drain(z);
    struct wire_announce a = {.ver = UFTP_VER5};
    if (annlen == 0 || wire_announce_decode(&a, ann + UFTP_HDR_LEN, annlen - UFTP_HDR_LEN) < 0)
        __builtin_trap();
    struct skeys_client_cfg cc = {
        .group_id = GROUP, .server_id = SERVER, .client_id = CLIENT, .sigkey = ck};
    struct skeys_client *k;
    if (skeys_client_new(&k, &cc, &a.enc, ann, annlen) != CRYPTO_OK ||
        skeys_client_handshake(k) != CRYPTO_OK || skeys_client_auth(k) != auth)
        __builtin_trap(); /* the sender's ANNOUNCE must verify */
    static uint8_t pkt[9000];
    size_t dl;
    struct wire_msg m = {.func = REGISTER};
    m.u.reg.ver = UFTP_VER5;
    m.u.reg.dhblob = skeys_client_dh(k, &dl);
    m.u.reg.dhlen = (uint16_t)dl;
    skeys_client_rand2(k, m.u.reg.rand2);
    hdr(pkt, REGISTER, 0);
    ssize_t n = wire_msg_encode(pkt + UFTP_HDR_LEN, sizeof(pkt) - UFTP_HDR_LEN, &m);
    if (n < 0)
        __builtin_trap();
    fz_recv(z, from, pkt, UFTP_HDR_LEN + (size_t)n);
    if (auth) {
        size_t cl;
        const uint8_t *c = skeys_client_client_key(k, &cl);
        seal_send(z, k, skeys_client_hs_tx(k), from, CLIENT_KEY, c, cl, 1);
    }
    /* The next announce round brings our KEYINFO. */
    for (int i = 0; i < 50 && kilen == 0; i++) {
        z->now += 100000;
        if (fz_drain(z))
            break;
    }
    struct wire_keyinfo ks = {.ver = UFTP_VER5};
    if (kilen == 0 || wire_keyinfo_decode(&ks, ki + UFTP_HDR_LEN, kilen - UFTP_HDR_LEN) < 0 ||
        skeys_client_keyinfo(k, ki, kilen, &ks) != CRYPTO_OK)
        __builtin_trap(); /* the sender's KEYINFO must open */
    size_t vl;
    uint8_t msg[4 + CRYPTO_HASH_MAX] = {KEYINFO_ACK};
    const uint8_t *v = skeys_client_verify_data(k, &vl);
    msg[1] = (uint8_t)((4 + vl) / 4);
    msg[3] = (uint8_t)vl;
    memcpy(msg + 4, v, vl);
    seal_send(z, k, skeys_client_app_tx(k), from, KEYINFO_ACK, msg, 4 + vl, 2);
    return k;
}

/* Records' messages go sealed under the client application key. */
static struct skeys_client *g_k;

static ssize_t seal(uint8_t *pkt, size_t len, size_t cap)
{
    return skeys_seal(skeys_client_app_tx(g_k), skeys_client_ctr(g_k), pkt, len, cap);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct addr from;
    static struct sender_dest d = {.id = CLIENT};
    static struct file_item it = {
        .type = 0, .path = "f", .name = "f", .link = "", .size = FZ_FILE_SIZE};
    static int init;
    if (!init) {
        net_addr_parse(&from, "10.0.2.3:1044", 0);
        init = 1;
    }
    if (size < 1)
        return 0;
    bool auth = data[0] & 1;
    struct sender_config c;
    sender_config_defaults(&c);
    net_addr_parse(&c.pub, "230.4.4.1", 1044);
    net_addr_parse(&c.priv, "230.5.5.4", 1044);
    c.server_id = SERVER;
    c.group_id = GROUP;
    c.rate_kbps = 100000;
    c.dests = &d;
    c.ndest = 1;
    c.files = &it;
    c.nfiles = 1;
    c.client_auth = auth;
    c.pk_budget_us = 0;
    struct sender_env e = {.rng = fz_rng, .storage = fz_sender_storage, .log = fz_log};
    struct fz z = {.kind = FZ_SENDER, .max_seg = 8, .limit = 100000, .now = FZ_T0, .on_send = keep};
    struct sender *sn;
    if (sender_new(&sn, &c, &e) != 0)
        __builtin_trap();
    z.e = sn;
    struct skeys_client *k = handshake(&z, &from, auth);
    g_k = k;
    static struct fz_sealer sl;
    sl = (struct fz_sealer){.hdr = hdr, .seal = seal, .seq = 3};
    struct fz_in in = {data, size, 1};
    struct fz_rec rec;
    while (fz_next(&in, true, &rec)) {
        z.now += rec.step_ms * UINT64_C(1000);
        size_t n = fz_seal(&sl, &rec);
        if (n == 0)
            continue;
        fz_recv(&z, &from, sl.pkt, n);
        if (fz_drain(&z))
            break;
    }
    fz_stop(&z);
    skeys_client_free(k);
    return 0;
}
