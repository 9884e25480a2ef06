/*
 * A minimal UFTP sender for tests/integration/fec/interop.sh (issue 17):
 * it runs one real session (v5 or v4, in clear or encrypted with
 * AES-256-GCM / SHA-256 / P-256) that sends one file to the receivers that
 * register, and crafts with our encoders what the FEC design puts on the
 * wire, so that a reference receiver (or proxy) can show what it does
 * with it:
 *
 *   -x announce-ext   EXT_FEC_INFO in every ANNOUNCE, after EXT_ENC_INFO
 *   -x announce-first EXT_FEC_INFO in every ANNOUNCE, before EXT_ENC_INFO
 *   -x fileinfo-ext   EXT_FEC_INFO in FILEINFO (after the name)
 *   -x fileseg-ext    EXT_FEC_INFO in every FILESEG
 *   -x done-ext       EXT_FEC_INFO in every DONE
 *   -x parity         real FEC_PARITY datagrams (core/fec, 2 per 8 blocks)
 *                     among the FILESEGs, framed as FILESEG is (sealed when
 *                     the session is encrypted)
 *   -x parity-clear   the same in clear inside an encrypted session
 *
 *   fecprobe [-4] [-e] [-n RECEIVERS] [-x WHAT]... PUBLIC PRIVATE FILE
 *
 * Receivers behind a response proxy register through it (its REGISTER
 * lists them); the probe then answers every listed ID. It prints one line
 * per receiver, "ID complete", "ID aborted: TEXT" or "ID timeout", and
 * exits 0 when every receiver completed the file and the session, 1
 * otherwise, 2 on a usage or setup error.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "core/crypto/keyfile.h"
#include "core/crypto/skeys.h"
#include "core/fec/fec.h"
#include "core/log.h"
#include "core/net/batch.h"
#include "core/net/sock.h"
#include "core/proto/blocks.h"
#include "core/base/quant.h"
#include "core/wire/msg.h"

#define SERVER_ID 0x0A0B0C0Eu
#define BLOCK     1300
#define STEP_MS   20000 /* per phase */
#define RESEND    250   /* ms */
#define MAXRX     16
#define FEC_K     8
#define FEC_M     2

enum {
    X_ANN = 1,
    X_ANN_FIRST = 2,
    X_FINFO = 4,
    X_FSEG = 8,
    X_DONE = 16,
    X_PAR = 32,
    X_PARCLR = 64
};

struct peer {
    uint32_t id;
    uint32_t via;         /* the ID whose keys open its answers (itself or its proxy) */
    struct skeys_peer *k; /* for a direct client or a proxy */
    int state;            /* 0 registered, 1 active, 2 file answered, 3 file done, 4 all done */
    bool aborted;
    char why[80];
};

static struct net_sock sock;
static struct net_tx tx;
static struct addr pub, priv;
static uint32_t group_id;
static uint16_t seq;
static uint8_t ver = UFTP_VER5;
static bool enc;
static unsigned xflags, want = 1;
static struct skeys_server *sk;
static struct peer peers[MAXRX];
static unsigned npeers;
static struct skeys_peer *keyed[MAXRX + 4]; /* by "via" */
static uint32_t keyed_id[MAXRX + 4];
static unsigned nkeyed;
static uint64_t t_announce;

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void die(const char *what)
{
    fprintf(stderr, "fecprobe: %s\n", what);
    exit(2);
}

static struct peer *peer_of(uint32_t id)
{
    for (unsigned i = 0; i < npeers; i++)
        if (peers[i].id == id)
            return &peers[i];
    return NULL;
}

/* Inserts EXT_FEC_INFO (our encoder) at message offset `at` (default: hlen*4). */
static size_t insert_ext(uint8_t *msg, size_t len, size_t cap, long at)
{
    struct wire_fec_info fi = {.version = WIRE_FEC_VERSION,
                               .flags = FEC_F_SEND,
                               .code = FEC_CODE_RS8_CAUCHY,
                               .k = FEC_K,
                               .stride = 1};
    size_t pos = at >= 0 ? (size_t)at : (size_t)msg[1] * 4;
    if (len + WIRE_FEC_INFO_LEN > cap)
        die("no room for the extension");
    memmove(msg + pos + WIRE_FEC_INFO_LEN, msg + pos, len - pos);
    if (wire_fec_info_encode(msg + pos, WIRE_FEC_INFO_LEN, &fi) != WIRE_FEC_INFO_LEN)
        die("cannot encode EXT_FEC_INFO");
    msg[1] = (uint8_t)(msg[1] + WIRE_FEC_INFO_LEN / 4);
    return len + WIRE_FEC_INFO_LEN;
}

/*
 * Encodes m and sends it to dst: in clear, or sealed under the server's
 * application key (seal), ANNOUNCE and KEYINFO signed. ext: insert
 * EXT_FEC_INFO (at offset `at`, -1: end of the header).
 */
static void send_msg(const struct addr *dst, struct wire_msg *m, bool seal, bool ext, long at)
{
    static uint8_t buf[UFTP_MAX_DATAGRAM + 64];
    size_t off = seal ? SKEYS_MSG_OFF : UFTP_HDR_LEN;
    ssize_t n = wire_msg_encode(buf + off, sizeof(buf) - off - 64, m);
    if (n < 0) {
        fprintf(stderr, "fecprobe: cannot encode %s: %s\n", wire_func_name(m->func),
                wire_strerror((int)n));
        exit(2);
    }
    size_t len = (size_t)n;
    if (ext)
        len = insert_ext(buf + off, len, sizeof(buf) - off, at);
    struct uftp_hdr h = {.version = ver,
                         .func = m->func,
                         .seq = seq++,
                         .src_id = SERVER_ID,
                         .group_id = group_id,
                         .grtt = quant_rtt_encode(0.1),
                         .gsize = quant_gsize_encode(npeers ? npeers : 1)};
    uftp_hdr_encode(buf, UFTP_HDR_LEN, &h);
    size_t total = off + len;
    if (seal) {
        ssize_t s = skeys_seal(skeys_server_tx(sk), skeys_server_ctr(sk), buf, len, sizeof(buf));
        if (s < 0)
            die("cannot seal");
        total = (size_t)s;
    } else if (m->func == ANNOUNCE && enc) {
        if (skeys_server_sign_announce(sk, buf, total) != 0)
            die("cannot sign ANNOUNCE");
    } else if (m->func == KEYINFO && enc) {
        if (skeys_server_sign_keyinfo(sk, buf, total) != 0)
            die("cannot sign KEYINFO");
    }
    struct net_dgram dg = {.dst = dst, .buf = buf, .len = total};
    if (net_tx_send(&tx, &dg, 1) < 0)
        fprintf(stderr, "fecprobe: send failed\n");
}

static struct skeys_peer *keys_of(uint32_t id)
{
    for (unsigned i = 0; i < nkeyed; i++)
        if (keyed_id[i] == id)
            return keyed[i];
    return NULL;
}

/* NAKed blocks of the file to send again. */
static uint8_t *resend;

static void on_msg(uint32_t src, const struct wire_msg *m, const struct blocks *bl)
{
    uint32_t one[1] = {src};
    struct wire_ids who = wire_ids_of(one, 1);
    switch (m->func) {
    case REGISTER: {
        const struct wire_register *r = &m->u.reg;
        if (r->ids.n)
            who = r->ids;
        if (enc && keys_of(src) == NULL && nkeyed < MAXRX + 4) {
            struct skeys_peer *p;
            if (skeys_server_register(sk, src, r->dhblob, r->dhlen, r->rand2, &p) != 0) {
                fprintf(stderr, "fecprobe: REGISTER from %08X refused\n", src);
                return;
            }
            keyed[nkeyed] = p;
            keyed_id[nkeyed++] = src;
        }
        for (size_t i = 0; i < who.n; i++) {
            uint32_t id = wire_ids_get(&who, i);
            if (peer_of(id) == NULL && npeers < MAXRX)
                peers[npeers++] = (struct peer){.id = id, .via = src, .state = enc ? 0 : 1};
        }
        return;
    }
    case KEYINFO_ACK: {
        struct skeys_peer *p = keys_of(src);
        if (p == NULL ||
            !skeys_peer_verify(p, m->u.keyinfo_ack.verify, m->u.keyinfo_ack.verify_len))
            return;
        for (unsigned i = 0; i < npeers; i++)
            if (peers[i].via == src && peers[i].state == 0)
                peers[i].state = 1;
        return;
    }
    case FILEINFO_ACK:
        if (m->u.fileinfo_ack.ids.n)
            who = m->u.fileinfo_ack.ids;
        for (size_t i = 0; i < who.n; i++) {
            struct peer *p = peer_of(wire_ids_get(&who, i));
            if (p && p->state == 1 && m->u.fileinfo_ack.file_id == 1)
                p->state = 2;
        }
        return;
    case COMPLETE:
        if (m->u.complete.ids.n)
            who = m->u.complete.ids;
        for (size_t i = 0; i < who.n; i++) {
            struct peer *p = peer_of(wire_ids_get(&who, i));
            if (p == NULL)
                continue;
            if (m->u.complete.file_id == 1 && p->state < 3)
                p->state = 3;
            else if (m->u.complete.file_id == 0)
                p->state = 4;
        }
        return;
    case STATUS: {
        const struct wire_status *s = &m->u.status;
        uint32_t n = blocks_in_section(bl, s->section), start;
        if (n == 0 || blocks_to_abs(bl, s->section, 0, &start) != 0)
            return;
        for (uint32_t b = 0; b < n; b++)
            if (wire_status_nak(s, b))
                resend[start + b] = 1;
        return;
    }
    case ABORT: {
        struct peer *p = peer_of(m->u.abort.host ? m->u.abort.host : src);
        if (p) {
            p->aborted = true;
            snprintf(p->why, sizeof(p->why), "%.70s", m->u.abort.text);
        }
        return;
    }
    default:
        return;
    }
}

/* Reads what arrives for up to ms. */
static void pump(int ms, const struct blocks *bl)
{
    static uint8_t pkt[UFTP_MAX_DATAGRAM], scratch[UFTP_MAX_DATAGRAM];
    uint64_t end = mono_ms() + (uint64_t)ms;
    for (;;) {
        uint64_t t = mono_ms();
        if (t >= end)
            return;
        struct pollfd pfd = {sock.fd, POLLIN, 0};
        if (poll(&pfd, 1, (int)(end - t)) <= 0)
            continue;
        ssize_t n = recv(sock.fd, pkt, sizeof(pkt), 0);
        struct uftp_hdr h;
        if (n <= 0 || uftp_hdr_decode(&h, pkt, (size_t)n) < 0 || h.group_id != group_id ||
            h.src_id == SERVER_ID)
            continue;
        struct wire_msg m;
        if (h.func == ENCRYPTED) {
            struct skeys_peer *p = keys_of(h.src_id);
            const uint8_t *msg;
            size_t mlen;
            bool hs;
            if (p == NULL ||
                skeys_peer_open(p, false, pkt, (size_t)n, scratch, &msg, &mlen, &hs) != 0 ||
                wire_msg_decode(&m, ver, msg, mlen) < 0)
                continue;
        } else {
            struct wire_datagram d;
            if (wire_datagram_decode(&d, pkt, (size_t)n) < 0)
                continue;
            m = d.msg;
        }
        on_msg(h.src_id, &m, bl);
    }
}

static unsigned count(int state)
{
    unsigned n = 0;
    for (unsigned i = 0; i < npeers; i++)
        n += !peers[i].aborted && peers[i].state >= state;
    return n;
}

static unsigned live(void)
{
    unsigned n = 0;
    for (unsigned i = 0; i < npeers; i++)
        n += !peers[i].aborted;
    return n;
}

/* The IDs still short of `state`. */
static struct wire_ids pending(int state, uint32_t *ids)
{
    size_t n = 0;
    for (unsigned i = 0; i < npeers; i++)
        if (!peers[i].aborted && peers[i].state < state)
            ids[n++] = peers[i].id;
    return wire_ids_of(ids, n);
}

static void send_block(const uint8_t *file, const struct blocks *bl, uint32_t b)
{
    struct wire_msg m = {.func = FILESEG};
    uint16_t sec, blk;
    blocks_from_abs(bl, b, &sec, &blk);
    m.u.fileseg = (struct wire_fileseg){.ver = ver,
                                        .file_id = 1,
                                        .section = sec,
                                        .sec_block = blk,
                                        .data = file + (size_t)b * BLOCK,
                                        .data_len = blocks_bytes(bl, b)};
    send_msg(&priv, &m, enc, xflags & X_FSEG, -1);
}

/* Real parity of blocks [first, first+k) of section 0's layout (stride 1). */
static void send_parity(struct fec_codec *c, const uint8_t *file, const struct blocks *bl,
                        uint32_t first, unsigned k)
{
    static uint8_t pad[FEC_K][BLOCK], par[FEC_M][BLOCK];
    const uint8_t *src[FEC_K];
    uint8_t *pp[FEC_M] = {par[0], par[1]};
    for (unsigned i = 0; i < k; i++) {
        memset(pad[i], 0, BLOCK);
        memcpy(pad[i], file + (size_t)(first + i) * BLOCK, blocks_bytes(bl, first + i));
        src[i] = pad[i];
    }
    if (fec_encode(c, k, 0, FEC_M, BLOCK, src, pp) != 0)
        die("fec_encode failed");
    uint16_t sec, blk;
    blocks_from_abs(bl, first, &sec, &blk);
    for (unsigned p = 0; p < FEC_M; p++) {
        struct wire_msg m = {.func = FEC_PARITY};
        m.u.fec_parity = (struct wire_fec_parity){.ver = ver,
                                                  .file_id = 1,
                                                  .section = sec,
                                                  .fec_block = (uint16_t)(blk / FEC_K),
                                                  .code = FEC_CODE_RS8_CAUCHY,
                                                  .k = (uint8_t)k,
                                                  .parity = (uint8_t)p,
                                                  .data = par[p],
                                                  .data_len = BLOCK};
        send_msg(&priv, &m, enc && !(xflags & X_PARCLR), false, -1);
    }
}

static void parse_x(const char *w)
{
    static const struct {
        const char *name;
        unsigned flag;
    } xs[] = {{"announce-ext", X_ANN},
              {"announce-first", X_ANN_FIRST},
              {"fileinfo-ext", X_FINFO},
              {"fileseg-ext", X_FSEG},
              {"done-ext", X_DONE},
              {"parity", X_PAR},
              {"parity-clear", X_PAR | X_PARCLR}};
    for (size_t i = 0; i < sizeof(xs) / sizeof(xs[0]); i++)
        if (strcmp(w, xs[i].name) == 0) {
            xflags |= xs[i].flag;
            return;
        }
    die("unknown -x");
}

int main(int argc, char **argv)
{
    int o;
    while ((o = getopt(argc, argv, "4en:x:")) != -1) {
        switch (o) {
        case '4':
            ver = UFTP_VER4;
            break;
        case 'e':
            enc = true;
            break;
        case 'n':
            want = (unsigned)atoi(optarg);
            break;
        case 'x':
            parse_x(optarg);
            break;
        default:
            die("usage: fecprobe [-4] [-e] [-n N] [-x WHAT]... PUBLIC PRIVATE FILE");
        }
    }
    if (argc - optind != 3 || want < 1 || want > MAXRX)
        die("usage: fecprobe [-4] [-e] [-n N] [-x WHAT]... PUBLIC PRIVATE FILE");
    log_init("fecprobe", LL_WARN);
    if (net_addr_parse(&pub, argv[optind], UFTP_PORT) < 0 ||
        net_addr_parse(&priv, argv[optind + 1], UFTP_PORT) < 0)
        die("bad address");
    FILE *f = fopen(argv[optind + 2], "rb");
    if (f == NULL)
        die("cannot open the file");
    static uint8_t file[4 << 20];
    size_t size = fread(file, 1, sizeof(file), f);
    fclose(f);
    struct blocks bl;
    if (blocks_init(&bl, size, BLOCK) != 0 || bl.blocks == 0)
        die("bad file");
    resend = calloc(bl.blocks, 1);
    struct net_sock_opts so;
    net_sock_opts_init(&so, net_addr_af(&pub));
    if (net_sock_open(&sock, &so) < 0)
        die(strerror(errno));
    net_tx_init(&tx, &sock);
    while (group_id == 0)
        if (getrandom(&group_id, sizeof(group_id), 0) < 0)
            die("getrandom");
    struct fec_codec *codec;
    if (fec_codec_new(&codec) != 0)
        die("fec_codec_new");
    struct crypto_key *sigkey = NULL;
    if (enc) {
        struct skeys_server_cfg sc = {.keytype = KEY_AES256_GCM,
                                      .hashtype = HASH_SHA256,
                                      .curve = CURVE_P256,
                                      .group_id = group_id,
                                      .server_id = SERVER_ID,
                                      .ver = ver,
                                      .addrlen = 4};
        if (keyfile_gen_ephemeral(&sigkey) != 0)
            die("cannot make a signing key");
        sc.sigkey = sigkey;
        addr_get_ip(&priv, sc.addr);
        if (getrandom(sc.rand1, sizeof(sc.rand1), 0) < 0 ||
            getrandom(sc.group_master, sizeof(sc.group_master), 0) < 0 ||
            getrandom(sc.group_master4, sizeof(sc.group_master4), 0) < 0)
            die("getrandom");
        if (skeys_server_new(&sk, &sc) != 0)
            die("cannot set up the session keys");
    }
    uint32_t ids[MAXRX];
    struct wire_msg m;

    /* Announce until `want` receivers are active (keyed when encrypted). */
    t_announce = mono_ms();
    while (count(1) < want && mono_ms() < t_announce + STEP_MS) {
        memset(&m, 0, sizeof(m));
        m.func = ANNOUNCE;
        struct wire_announce *a = &m.u.announce;
        a->ver = ver;
        a->robust = 20;
        a->blocksize = BLOCK;
        a->tstamp = now_us();
        addr_get_ip(&pub, a->pub_addr);
        addr_get_ip(&priv, a->priv_addr);
        if (enc) {
            a->has_enc = true;
            a->enc = *skeys_server_enc_info(sk);
        }
        if (xflags & X_ANN) {
            a->has_fec = true; /* our encoder: after EXT_ENC_INFO */
            a->fec = (struct wire_fec_info){.version = WIRE_FEC_VERSION,
                                            .flags = FEC_F_SEND,
                                            .code = FEC_CODE_RS8_CAUCHY,
                                            .k = FEC_K,
                                            .stride = 1};
        }
        send_msg(&pub, &m, false, xflags & X_ANN_FIRST, 16 + 2 * 4);
        if (enc) {
            /* KEYINFO for every keyed REGISTER not yet acknowledged. */
            struct wire_destkey dk[MAXRX + 4];
            size_t n = 0;
            uint64_t ctr;
            if (skeys_server_keyinfo_ctr(sk, &ctr) != 0)
                die("KEYINFO counter");
            for (unsigned i = 0; i < nkeyed; i++) {
                bool acked = false;
                for (unsigned j = 0; j < npeers; j++)
                    acked |= peers[j].via == keyed_id[i] && peers[j].state >= 1;
                if (acked)
                    continue;
                dk[n].id = keyed_id[i];
                if (skeys_server_wrap(sk, keyed[i], ctr, dk[n].master) == 0)
                    n++;
            }
            if (n) {
                memset(&m, 0, sizeof(m));
                m.func = KEYINFO;
                m.u.keyinfo = (struct wire_keyinfo){
                    .ver = ver,
                    .iv_ctr = ctr,
                    .siglen = ver == UFTP_VER4 ? 0 : (uint16_t)skeys_server_siglen(sk),
                    .keys = {.host = dk, .n = n}};
                send_msg(&priv, &m, false, false, -1);
            }
        }
        /* REG_CONF: in clear for everyone, encrypted for clients behind a proxy (spec §1.4). */
        size_t nc = 0;
        for (unsigned i = 0; i < npeers; i++)
            if (!enc || (peers[i].via != peers[i].id && peers[i].state >= 1))
                ids[nc++] = peers[i].id;
        if (nc) {
            memset(&m, 0, sizeof(m));
            m.func = REG_CONF;
            m.u.reg_conf = (struct wire_reg_conf){.ver = ver, .ids = wire_ids_of(ids, nc)};
            send_msg(&priv, &m, false, false, -1);
        }
        pump(RESEND, &bl);
    }
    if (count(1) < want) {
        fprintf(stderr, "fecprobe: %u of %u receivers registered\n", count(1), want);
        for (unsigned i = 0; i < npeers; i++)
            if (peers[i].aborted)
                printf("%08X aborted: %s\n", peers[i].id, peers[i].why);
        return 1;
    }

    /* FILEINFO until everyone answered. */
    const char *name = strrchr(argv[optind + 2], '/');
    name = name ? name + 1 : argv[optind + 2];
    for (uint64_t end = mono_ms() + STEP_MS; count(2) < live() && mono_ms() < end;) {
        memset(&m, 0, sizeof(m));
        m.func = FILEINFO;
        m.u.fileinfo = (struct wire_fileinfo){.ver = ver,
                                              .file_id = 1,
                                              .ftype = FTYPE_REG,
                                              .mtime = (uint64_t)time(NULL),
                                              .size = size,
                                              .name = name,
                                              .name_len = strlen(name),
                                              .tstamp = now_us(),
                                              .ids = pending(2, ids)};
        send_msg(&priv, &m, enc, xflags & X_FINFO, -1);
        pump(RESEND, &bl);
    }

    /* Data: every block, with real parity among them, then DONE and repairs. */
    for (uint32_t b = 0; b < bl.blocks && live(); b++) {
        send_block(file, &bl, b);
        uint16_t sec, blk;
        blocks_from_abs(&bl, b, &sec, &blk);
        uint32_t in_sec = blocks_in_section(&bl, sec);
        if ((xflags & X_PAR) && (blk % FEC_K == FEC_K - 1 || blk + 1u == in_sec))
            send_parity(codec, file, &bl, b - blk % FEC_K, blk % FEC_K + 1);
        if (b % 16 == 15)
            pump(2, &bl);
    }
    for (uint64_t end = mono_ms() + STEP_MS; count(3) < live() && mono_ms() < end;) {
        for (uint32_t b = 0; b < bl.blocks; b++)
            if (resend[b]) {
                resend[b] = 0;
                send_block(file, &bl, b);
            }
        memset(&m, 0, sizeof(m));
        m.func = DONE;
        m.u.done = (struct wire_done){.ver = ver,
                                      .file_id = 1,
                                      .section = (uint16_t)(bl.sections - 1),
                                      .ids = pending(3, ids)};
        send_msg(&priv, &m, enc, xflags & X_DONE, -1);
        pump(RESEND, &bl);
    }

    /* End of session. */
    for (uint64_t end = mono_ms() + STEP_MS; count(4) < live() && mono_ms() < end;) {
        memset(&m, 0, sizeof(m));
        m.func = DONE;
        m.u.done = (struct wire_done){.ver = ver, .ids = pending(4, ids)};
        send_msg(&priv, &m, enc, false, -1);
        pump(RESEND, &bl);
    }
    size_t nd = 0;
    for (unsigned i = 0; i < npeers; i++)
        if (peers[i].state == 4)
            ids[nd++] = peers[i].id;
    memset(&m, 0, sizeof(m));
    m.func = DONE_CONF;
    m.u.done_conf = (struct wire_done_conf){.ver = ver, .ids = wire_ids_of(ids, nd)};
    for (int k = 0; k < 3; k++)
        send_msg(&priv, &m, enc, false, -1);

    int bad = 0;
    for (unsigned i = 0; i < npeers; i++) {
        struct peer *p = &peers[i];
        if (p->aborted)
            printf("%08X aborted: %s\n", p->id, p->why);
        else if (p->state == 4)
            printf("%08X complete\n", p->id);
        else
            printf("%08X timeout (state %d)\n", p->id, p->state);
        bad += p->state != 4 || p->aborted;
    }
    fec_codec_free(codec);
    net_sock_close(&sock);
    return bad || npeers < want ? 1 : 0;
}
