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
#include "sender/engine/engine.h"

#include <string.h>

#include "core/crypto/keyblob.h"
#include "core/crypto/keyfile.h"
#include "core/crypto/skeys.h"
#include "fuzz_log.h"
#include "core/net/addr.h"
#include "core/wire/msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FILE_SIZE 3000
#define CLIENT    0x0A000202u
#define SERVER    0x0A000105u
#define GROUP     0x5EED0001u

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
static uint8_t ann[9000], ki[9000];
static size_t annlen, kilen;

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
        if (k == ENG_SEND && (o.nseg < 1 || o.nseg > 8 || o.len > o.cap ||
                              o.len > o.nseg * o.seglen || o.seglen > UFTP_MAX_DATAGRAM))
            __builtin_trap();
        if (k == ENG_SEND && out[1] == ANNOUNCE && annlen == 0) {
            memcpy(ann, out, o.len);
            annlen = o.len;
        } else if (k == ENG_SEND && out[1] == KEYINFO && kilen == 0) {
            memcpy(ki, out, o.len);
            kilen = o.len;
        }
    }
    __builtin_trap();
}

static void hdr(uint8_t *p, uint8_t func, uint16_t seq)
{
    struct uftp_hdr h = {
        .version = UFTP_VER5, .func = func, .seq = seq, .src_id = CLIENT, .group_id = GROUP};
    uftp_hdr_encode(p, UFTP_HDR_LEN, &h);
}

static void seal_send(struct sender *s, struct skeys_client *k, struct skeys_dir *d,
                      const struct addr *from, uint8_t func, const uint8_t *msg, size_t len,
                      uint16_t seq, uint64_t now)
{
    static uint8_t pkt[9000];
    hdr(pkt, func, seq);
    memcpy(pkt + SKEYS_MSG_OFF, msg, len);
    ssize_t n = skeys_seal(d, skeys_client_ctr(k), pkt, len, sizeof(pkt));
    if (n < 0)
        __builtin_trap();
    sender_recv(s, from, NULL, pkt, (size_t)n, 0, now);
}

/* The handshake as the group's one client (now advances while waiting for KEYINFO). */
static struct skeys_client *handshake(struct sender *s, const struct addr *from, bool auth,
                                      uint64_t *nowp)
{
    uint64_t now = *nowp;
    static struct crypto_key *ck;
    if (ck == NULL && keyfile_gen_ec(CURVE_P256, &ck) != CRYPTO_OK)
        __builtin_trap();
    annlen = kilen = 0;
    drain(s, now);
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
    sender_recv(s, from, NULL, pkt, UFTP_HDR_LEN + (size_t)n, 0, now);
    if (auth) {
        size_t cl;
        const uint8_t *c = skeys_client_client_key(k, &cl);
        seal_send(s, k, skeys_client_hs_tx(k), from, CLIENT_KEY, c, cl, 1, now);
    }
    /* The next announce round brings our KEYINFO. */
    for (int i = 0; i < 50 && kilen == 0; i++) {
        now += 100000;
        if (drain(s, now))
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
    seal_send(s, k, skeys_client_app_tx(k), from, KEYINFO_ACK, msg, 4 + vl, 2, now);
    *nowp = now;
    return k;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct addr from;
    static struct sender_dest d = {.id = CLIENT};
    static struct file_item it = {
        .type = 0, .path = "f", .name = "f", .link = "", .size = FILE_SIZE};
    static int init;
    if (!init) {
        net_addr_parse(&from, "10.0.2.3:1044", 0);
        init = 1;
    }
    if (size < 1)
        return 0;
    bool auth = data[0] & 1;
    data++;
    size--;
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
    struct sender_env e = {.rng = rng, .storage = {st_open, st_read, st_close}, .log = fuzz_log};
    struct sender *s;
    if (sender_new(&s, &c, &e) != 0)
        __builtin_trap();
    uint64_t now = 1000000;
    struct skeys_client *k = handshake(s, &from, auth, &now);
    static uint8_t pkt[9000], prev[9000];
    size_t prevlen = 0, off = 0;
    uint16_t seq = 3;
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
            ssize_t r =
                skeys_seal(skeys_client_app_tx(k), skeys_client_ctr(k), pkt, len, sizeof(pkt));
            if (r < 0)
                __builtin_trap();
            n = (size_t)r;
        }
        memcpy(prev, pkt, n);
        prevlen = n;
        sender_recv(s, &from, NULL, pkt, n, 0, now);
        if (drain(s, now))
            break;
    }
    sender_interrupt(s, now);
    drain(s, now);
    sender_free(s);
    skeys_client_free(k);
    return 0;
}
