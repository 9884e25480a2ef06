/*
 * hostile_forge: a datagram forger for the hostile-network tests (issue 14).
 *
 * It sends crafted UFTP datagrams, encoded with core/wire, claiming
 * whatever it is told (GRTT, robustness, sizes, IDs, a signature, a
 * source), at a chosen rate, to a daemon on loopback or in a namespace;
 * or writes one of each to a directory (fuzz corpora).
 *
 *   hostile_forge [OPTIONS] KIND [OPTIONS]
 *
 * KIND: announce, register, keyinfo, abort, hbreq, hbresp, fileinfo, done,
 *       regconf, proxykey, keyreq, encrypted (an ENCRYPTED datagram of junk).
 *
 * Destination and source:
 *   --to ADDR:PORT     where to send (default 127.0.0.1:1044); a multicast
 *                      address works, through the default route
 *   --from ADDR        bind to this local address first
 *   --spoof CIDR       claim a source address: a random one in CIDR per
 *                      datagram (a /32 for one), sent through a raw socket
 *                      (root); IPv4 only
 *   --sport PORT       source port (default: random per run)
 * Volume:
 *   --count N          datagrams (default 1); --rate PPS (default: as fast
 *                      as possible); --duration SECONDS (instead of count)
 * Header:
 *   --server ID        src_id (hex; default 0x0A0B0C0D)
 *   --group ID         group ID (hex; 0 = a new random one per datagram,
 *                      the default for announce); --inst N
 *   --grtt CODE        header GRTT code 0..255 (default 108, ~0.5 s)
 *   --seq N            first header seq (default 0; incremented)
 *   --v4               protocol version 4 (default 5)
 * Message:
 *   --robust N --blocksize N --priv ADDR --pub ADDR     ANNOUNCE fields
 *   --tstamp-offset S  ANNOUNCE/FILEINFO timestamp = now + S seconds
 *   --signed KEYFILE   announce: encrypted, signed with this key (valid);
 *                      hbreq: signed (with --nonce)
 *   --copy-key KEYFILE announce: encrypted, this key's blob, a signature
 *                      that does not verify (the fingerprint matches)
 *   --junk-key         announce: encrypted, a fresh key per datagram (from
 *                      a pool of 16 EC P-256 keys) and a signature that does
 *                      not verify; --junk-rsa: well-formed RSA-1024 blobs of
 *                      junk, the cheapest key a packet can claim
 *   --client ID        the client an answer or list names (hex); --vary-client:
 *                      ID + i in datagram i (a crowd of clients)
 *   --host ID          abort: its host field (hex, default 0 = everyone); with
 *                      --client, the ABORT comes from that client
 *   --dh               register: with an ECDH P-256 key and rand2 (encrypted sessions)
 *   --size N --name S --link S --ftype N --file N --section N
 *   --nonce N          hbreq / hbresp nonce; --auth N hbresp auth code
 *   --len N            encrypted: payload bytes (default 64)
 *   --replay FILE      send FILE's bytes as they are (a captured datagram);
 *                      KIND names it in the summary
 * Output:
 *   --corpus DIR       write the datagrams (count of them) to DIR/KIND-I
 *                      instead of sending
 *   --quiet            no summary line
 *
 * Prints at the end, on stdout:
 *   forge KIND sent=N payload=BYTES ip=BYTES secs=S
 * (payload: UDP payload bytes; ip: with IP and UDP headers).
 * Exit 0, 1 on a send error, 2 on usage errors.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/crypto/crypto.h"
#include "core/crypto/ecdh.h"
#include "core/crypto/hbauth.h"
#include "core/crypto/keyblob.h"
#include "core/crypto/keyfile.h"
#include "core/crypto/sig.h"
#include "core/crypto/skeys.h"
#include "core/log.h"
#include "core/net/addr.h"
#include "core/base/quant.h"
#include "core/wire/msg.h"

static struct {
    const char *kind;
    struct addr to, from;
    bool spoof;
    uint32_t spoof_net, spoof_mask;
    uint16_t sport;
    unsigned long long count;
    double rate, duration;
    uint32_t server, group, client, host;
    bool group_set;
    unsigned inst, grtt, seq, robust, blocksize, ftype, file, section, auth, len;
    uint8_t ver;
    uint8_t priv[4], pub[4];
    double tstamp_offset;
    const char *signed_key, *copy_key, *corpus, *name, *link, *replay;
    bool junk_key, junk_rsa, quiet, vary_client, dh;
    unsigned long long size;
    uint32_t nonce;
} o;

static void usage(void)
{
    fprintf(stderr, "usage: hostile_forge [OPTIONS] KIND (see tests/hostile/forge.c)\n");
    exit(2);
}

/* Junk and random IDs: xorshift64*, seeded from the kernel (fast enough for 20,000 a second). */
static uint32_t rnd32(void)
{
    static uint64_t x;
    if (x == 0 && getrandom(&x, sizeof(x), 0) != sizeof(x))
        abort();
    x |= 1;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    return (uint32_t)((x * UINT64_C(2685821657736338717)) >> 32);
}

static uint64_t wall_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static double mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void ip4(const char *s, uint8_t out[4])
{
    if (inet_pton(AF_INET, s, out) != 1) {
        fprintf(stderr, "hostile_forge: '%s' is not an IPv4 address\n", s);
        exit(2);
    }
}

static uint32_t hex(const char *s)
{
    return (uint32_t)strtoul(s, NULL, 16);
}

/* ------------------------------------------------------------ keys */

static struct crypto_key *g_sig;   /* --signed / --copy-key */
static struct skeys_server *g_srv; /* encrypted ANNOUNCE state */
static struct crypto_key *g_pool[16];
static struct crypto_key *g_dh; /* register --dh */

static struct crypto_key *load(const char *path)
{
    struct crypto_key *k = NULL;
    if (keyfile_read(path, &k) != CRYPTO_OK) {
        fprintf(stderr, "hostile_forge: cannot read key %s\n", path);
        exit(2);
    }
    return k;
}

static struct skeys_server *server_keys(const struct crypto_key *k)
{
    struct skeys_server_cfg c = {.keytype = KEY_AES256_GCM,
                                 .hashtype = HASH_SHA256,
                                 .curve = CURVE_P256,
                                 .sigkey = k,
                                 .group_id = o.group ? o.group : 1,
                                 .group_inst = (uint8_t)o.inst,
                                 .server_id = o.server};
    struct skeys_server *s = NULL;
    if (skeys_server_new(&s, &c) != CRYPTO_OK) {
        fprintf(stderr, "hostile_forge: cannot make server keys\n");
        exit(2);
    }
    return s;
}

/* ------------------------------------------------------------ datagrams */

static uint32_t ids_buf[1];

static uint8_t g_replay[UFTP_MAX_DATAGRAM];
static size_t g_replay_len;

/* Encodes datagram number i of KIND into buf; returns its length. */
static size_t build(uint8_t *buf, size_t cap, unsigned long long i)
{
    if (g_replay_len > 0 && g_replay_len <= cap) {
        memcpy(buf, g_replay, g_replay_len); /* a captured datagram, byte for byte */
        return g_replay_len;
    }
    struct wire_datagram d;
    memset(&d, 0, sizeof(d));
    uint32_t group = o.group_set ? o.group : rnd32();
    d.hdr.version = o.ver;
    d.hdr.seq = (uint16_t)(o.seq + i);
    d.hdr.src_id = o.server;
    d.hdr.group_id = group;
    d.hdr.group_inst = (uint8_t)o.inst;
    d.hdr.grtt = (uint8_t)o.grtt;
    d.hdr.gsize = quant_gsize_encode(1);
    struct wire_msg *m = &d.msg;
    ids_buf[0] = o.client + (o.vary_client ? (uint32_t)i : 0);
    struct wire_ids one = {.host = ids_buf, .n = o.client ? 1 : 0};
    uint8_t sigbuf[SIG_MAX];
    bool sign_announce = false;
    const char *k = o.kind;
    if (strcmp(k, "announce") == 0) {
        m->func = ANNOUNCE;
        struct wire_announce *a = &m->u.announce;
        a->ver = o.ver;
        a->robust = (uint8_t)o.robust;
        a->blocksize = (uint16_t)o.blocksize;
        a->tstamp = (uint64_t)((double)wall_us() + o.tstamp_offset * 1e6);
        memcpy(a->pub_addr, o.pub, 4);
        memcpy(a->priv_addr, o.priv, 4);
        if (o.client)
            a->ids = one;
        if (g_srv != NULL) {
            a->has_enc = true;
            a->enc = *skeys_server_enc_info(g_srv);
            if (o.junk_key || o.copy_key) {
                static struct wire_enc_info e;
                static uint8_t blob[KEYBLOB_MAX];
                e = a->enc;
                const struct crypto_key *kk = o.copy_key ? g_sig : g_pool[i % 16];
                size_t bl;
                const uint8_t *b = crypto_key_blob(kk, &bl);
                memcpy(blob, b, bl);
                e.siglen = (uint16_t)sig_len(kk);
                if (o.junk_rsa) {
                    /* A well-formed RSA-1024 public key blob (spec §1.3) of junk: odd, top bit set.
                     */
                    bl = 8 + 128;
                    memcpy(blob, (const uint8_t[]){1, 0, 0, 128, 0, 1, 0, 1}, 8);
                    for (size_t j = 8; j < bl; j++)
                        blob[j] = (uint8_t)rnd32();
                    blob[8] |= 0x80;
                    blob[bl - 1] |= 1;
                    e.siglen = 128;
                }
                e.keyblob = blob;
                e.keylen = (uint16_t)bl;
                e.sig = NULL;
                a->enc = e;
            } else {
                sign_announce = true;
            }
        }
    } else if (strcmp(k, "register") == 0) {
        m->func = REGISTER;
        m->u.reg.ver = o.ver;
        m->u.reg.tstamp = wall_us();
        d.hdr.src_id = o.client ? ids_buf[0] : o.server;
        if (g_dh != NULL) {
            size_t dl;
            m->u.reg.dhblob = crypto_key_blob(g_dh, &dl);
            m->u.reg.dhlen = (uint16_t)dl;
            for (size_t j = 0; j < WIRE_RAND_LEN; j++)
                m->u.reg.rand2[j] = (uint8_t)rnd32();
        }
    } else if (strcmp(k, "keyinfo") == 0) {
        m->func = KEYINFO;
        static struct wire_destkey dk;
        dk.id = o.client;
        for (size_t j = 0; j < sizeof(dk.master); j++)
            dk.master[j] = (uint8_t)rnd32();
        m->u.keyinfo.ver = o.ver;
        m->u.keyinfo.iv_ctr = i + 1;
        m->u.keyinfo.siglen = 72;
        for (size_t j = 0; j < 72; j++)
            sigbuf[j] = (uint8_t)rnd32();
        m->u.keyinfo.sig = sigbuf;
        m->u.keyinfo.keys.host = &dk;
        m->u.keyinfo.keys.n = 1;
    } else if (strcmp(k, "abort") == 0) {
        m->func = ABORT;
        m->u.abort.ver = o.ver;
        d.hdr.src_id = o.client ? ids_buf[0] : o.server; /* --client: a client's ABORT */
        m->u.abort.host = o.host;
        snprintf(m->u.abort.text, sizeof(m->u.abort.text), "forged abort");
    } else if (strcmp(k, "hbreq") == 0) {
        m->func = HB_REQ;
        m->u.hb_req.ver = UFTP_VER5;
        m->u.hb_req.nonce = o.nonce;
        d.hdr.version = UFTP_VER5;
        d.hdr.group_id = 0;
        if (g_sig != NULL) {
            size_t bl;
            m->u.hb_req.keyblob = crypto_key_blob(g_sig, &bl);
            m->u.hb_req.keylen = (uint16_t)bl;
            int sl = hbauth_sign(g_sig, o.nonce, sigbuf, sizeof(sigbuf));
            if (sl > 0) {
                m->u.hb_req.sig = sigbuf;
                m->u.hb_req.siglen = (uint16_t)sl;
            }
        }
    } else if (strcmp(k, "hbresp") == 0) {
        m->func = HB_RESP;
        m->u.hb_resp.ver = UFTP_VER5;
        m->u.hb_resp.auth = (uint8_t)o.auth;
        m->u.hb_resp.nonce = o.nonce;
        d.hdr.version = UFTP_VER5;
        d.hdr.group_id = 0;
    } else if (strcmp(k, "fileinfo") == 0) {
        m->func = FILEINFO;
        struct wire_fileinfo *f = &m->u.fileinfo;
        f->ver = o.ver;
        f->file_id = (uint16_t)(o.file ? o.file : 1);
        f->ftype = (uint8_t)o.ftype;
        f->size = o.size;
        f->mtime = (uint64_t)time(NULL);
        f->tstamp = wall_us();
        f->name = o.name;
        f->name_len = strlen(o.name);
        f->link = o.link;
        f->link_len = strlen(o.link);
        f->ids = one;
    } else if (strcmp(k, "done") == 0) {
        m->func = DONE;
        m->u.done.ver = o.ver;
        m->u.done.file_id = (uint16_t)o.file;
        m->u.done.section = (uint16_t)o.section;
        m->u.done.ids = one;
    } else if (strcmp(k, "regconf") == 0) {
        m->func = REG_CONF;
        m->u.reg_conf.ver = o.ver;
        m->u.reg_conf.ids = one;
    } else if (strcmp(k, "proxykey") == 0) {
        m->func = PROXY_KEY;
        m->u.proxy_key.ver = o.ver;
        d.hdr.seq = 0;
    } else if (strcmp(k, "keyreq") == 0) {
        m->func = KEY_REQ;
        m->u.key_req.ver = UFTP_VER4;
        d.hdr.version = UFTP_VER4;
        d.hdr.group_id = 0;
    } else if (strcmp(k, "encrypted") == 0) {
        /* The ENCRYPTED framing around junk: a counter, the length, a bad tag. */
        d.hdr.func = ENCRYPTED;
        if (uftp_hdr_encode(buf, cap, &d.hdr) < 0 || cap < UFTP_HDR_LEN + 12 + o.len + 16)
            exit(2);
        uint8_t *p = buf + UFTP_HDR_LEN;
        uint64_t ctr = 1000000 + i;
        for (int b = 0; b < 8; b++)
            p[b] = (uint8_t)(ctr >> (56 - 8 * b));
        p[8] = p[9] = 0;
        p[10] = (uint8_t)((o.len + 16) >> 8);
        p[11] = (uint8_t)(o.len + 16);
        for (size_t j = 0; j < o.len + 16; j++)
            p[12 + j] = (uint8_t)rnd32();
        return UFTP_HDR_LEN + 12 + o.len + 16;
    } else {
        usage();
    }
    d.hdr.func = m->func;
    ssize_t n = wire_datagram_encode(buf, cap, &d);
    if (n < 0) {
        fprintf(stderr, "hostile_forge: cannot encode %s: %s\n", k, wire_strerror((int)n));
        exit(2);
    }
    if (sign_announce && skeys_server_sign_announce(g_srv, buf, (size_t)n) != CRYPTO_OK) {
        fprintf(stderr, "hostile_forge: cannot sign\n");
        exit(2);
    }
    if (g_srv != NULL && !sign_announce && m->func == ANNOUNCE) {
        /* The signature field (last in EXT_ENC_INFO, before any ID list) as junk. */
        size_t sl = m->u.announce.enc.siglen, at = (size_t)n - sl - 4 * m->u.announce.ids.n;
        for (size_t j = 0; j < sl; j++)
            buf[at + j] = (uint8_t)rnd32();
    }
    return (size_t)n;
}

/* ------------------------------------------------------------ sending */

static int g_fd = -1;
static bool g_raw;

static uint16_t csum(const void *p, size_t len)
{
    const uint8_t *b = p;
    uint32_t s = 0;
    for (size_t i = 0; i + 1 < len; i += 2)
        s += (uint32_t)b[i] << 8 | b[i + 1];
    if (len & 1)
        s += (uint32_t)b[len - 1] << 8;
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return (uint16_t)~s;
}

static int send_one(const uint8_t *dg, size_t len)
{
    if (!g_raw) {
        struct sockaddr_storage ss;
        socklen_t sl = net_addr_to_sockaddr(&o.to, &ss);
        ssize_t r = sendto(g_fd, dg, len, 0, (struct sockaddr *)&ss, sl);
        return r == (ssize_t)len ? 0 : -1;
    }
    /* IPv4 + UDP by hand, from a claimed source. */
    uint8_t pkt[20 + 8 + UFTP_MAX_DATAGRAM];
    uint32_t src = o.spoof_net | (rnd32() & ~o.spoof_mask);
    uint8_t dst[16];
    addr_get_ip(&o.to, dst);
    size_t tot = 20 + 8 + len;
    memset(pkt, 0, 28);
    pkt[0] = 0x45;
    pkt[2] = (uint8_t)(tot >> 8);
    pkt[3] = (uint8_t)tot;
    pkt[8] = 8; /* TTL: several hops, and past a router in the tests */
    pkt[9] = IPPROTO_UDP;
    uint32_t sbe = htonl(src);
    memcpy(pkt + 12, &sbe, 4);
    memcpy(pkt + 16, dst, 4);
    uint16_t c = csum(pkt, 20);
    pkt[10] = (uint8_t)(c >> 8);
    pkt[11] = (uint8_t)c;
    uint16_t dport = addr_port(&o.to);
    pkt[20] = (uint8_t)(o.sport >> 8);
    pkt[21] = (uint8_t)o.sport;
    pkt[22] = (uint8_t)(dport >> 8);
    pkt[23] = (uint8_t)dport;
    pkt[24] = (uint8_t)((8 + len) >> 8);
    pkt[25] = (uint8_t)(8 + len); /* checksum 0: none (IPv4) */
    memcpy(pkt + 28, dg, len);
    struct sockaddr_in sin = {.sin_family = AF_INET};
    memcpy(&sin.sin_addr, dst, 4);
    ssize_t r = sendto(g_fd, pkt, tot, 0, (struct sockaddr *)&sin, sizeof(sin));
    return r == (ssize_t)tot ? 0 : -1;
}

static void open_socket(void)
{
    if (o.spoof) {
        g_raw = true;
        g_fd = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
        if (g_fd < 0) {
            fprintf(stderr, "hostile_forge: raw socket: %s (needs root)\n", strerror(errno));
            exit(2);
        }
        int on = 1;
        (void)setsockopt(g_fd, SOL_SOCKET, SO_BROADCAST, &on, sizeof(on));
        return;
    }
    g_fd = socket(net_addr_af(&o.to), SOCK_DGRAM, 0);
    if (g_fd < 0)
        exit(2);
    int bufsz = 4 << 20;
    (void)setsockopt(g_fd, SOL_SOCKET, SO_SNDBUF, &bufsz, sizeof(bufsz));
    if (addr_is_multicast(&o.to)) {
        unsigned char ttl = 8;
        (void)setsockopt(g_fd, IPPROTO_IP, IP_MULTICAST_TTL, &ttl, sizeof(ttl));
    }
    struct addr b;
    if (addr_is_set(&o.from))
        b = o.from;
    else
        addr_set_ip(&b, addr_family(&o.to), (uint8_t[16]){0}, 0);
    addr_set_port(&b, o.sport);
    struct sockaddr_storage bs;
    socklen_t bl = net_addr_to_sockaddr(&b, &bs);
    if (bind(g_fd, (struct sockaddr *)&bs, bl) < 0) {
        fprintf(stderr, "hostile_forge: bind: %s\n", strerror(errno));
        exit(2);
    }
}

static void write_corpus(uint8_t *buf)
{
    mkdir(o.corpus, 0755);
    for (unsigned long long i = 0; i < o.count; i++) {
        size_t n = build(buf, UFTP_MAX_DATAGRAM, i);
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s-%llu", o.corpus, o.kind, i);
        FILE *f = fopen(path, "wb");
        if (f == NULL || fwrite(buf, 1, n, f) != n) {
            fprintf(stderr, "hostile_forge: cannot write %s\n", path);
            exit(1);
        }
        fclose(f);
    }
}

int main(int argc, char **argv)
{
    log_init("hostile_forge", LL_ERR);
    o.ver = UFTP_VER5;
    o.count = 1;
    o.server = 0x0A0B0C0D;
    o.grtt = quant_rtt_encode(0.5);
    o.robust = 20;
    o.blocksize = 1300;
    o.len = 64;
    o.name = "forged.bin";
    o.link = "";
    o.ftype = FTYPE_REG;
    o.size = 1000;
    ip4("230.4.4.1", o.pub);
    ip4("230.5.5.9", o.priv);
    o.sport = (uint16_t)(20000 + rnd32() % 20000);
    net_addr_parse(&o.to, "127.0.0.1", UFTP_PORT);
    const char *kind = NULL;
    for (int a = 1; a < argc; a++) {
        const char *opt = argv[a];
        if (strncmp(opt, "--", 2) != 0) {
            if (kind != NULL)
                usage();
            kind = opt;
            continue;
        }
        const char *v = a + 1 < argc ? argv[a + 1] : NULL;
#define ARG()                                                                                      \
    do {                                                                                           \
        if (v == NULL)                                                                             \
            usage();                                                                               \
        a++;                                                                                       \
    } while (0)
        if (strcmp(opt, "--to") == 0) {
            ARG();
            if (net_addr_parse(&o.to, v, UFTP_PORT) < 0)
                usage();
        } else if (strcmp(opt, "--from") == 0) {
            ARG();
            if (net_addr_parse(&o.from, v, 0) < 0)
                usage();
        } else if (strcmp(opt, "--spoof") == 0) {
            ARG();
            char ip[64];
            unsigned bits = 32;
            const char *sl = strchr(v, '/');
            size_t l = sl ? (size_t)(sl - v) : strlen(v);
            if (l >= sizeof(ip))
                usage();
            memcpy(ip, v, l);
            ip[l] = '\0';
            if (sl)
                bits = (unsigned)atoi(sl + 1);
            uint8_t b[4];
            ip4(ip, b);
            o.spoof = true;
            o.spoof_mask = bits >= 32 ? 0xffffffffu : bits == 0 ? 0 : ~((1u << (32 - bits)) - 1);
            o.spoof_net =
                ((uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3]) &
                o.spoof_mask;
        } else if (strcmp(opt, "--sport") == 0) {
            ARG();
            o.sport = (uint16_t)atoi(v);
        } else if (strcmp(opt, "--count") == 0) {
            ARG();
            o.count = strtoull(v, NULL, 0);
        } else if (strcmp(opt, "--rate") == 0) {
            ARG();
            o.rate = atof(v);
        } else if (strcmp(opt, "--duration") == 0) {
            ARG();
            o.duration = atof(v);
        } else if (strcmp(opt, "--server") == 0) {
            ARG();
            o.server = hex(v);
        } else if (strcmp(opt, "--group") == 0) {
            ARG();
            o.group = hex(v);
            o.group_set = o.group != 0;
        } else if (strcmp(opt, "--inst") == 0) {
            ARG();
            o.inst = (unsigned)atoi(v);
        } else if (strcmp(opt, "--grtt") == 0) {
            ARG();
            o.grtt = (unsigned)atoi(v);
        } else if (strcmp(opt, "--seq") == 0) {
            ARG();
            o.seq = (unsigned)atoi(v);
        } else if (strcmp(opt, "--v4") == 0) {
            o.ver = UFTP_VER4;
        } else if (strcmp(opt, "--robust") == 0) {
            ARG();
            o.robust = (unsigned)atoi(v);
        } else if (strcmp(opt, "--blocksize") == 0) {
            ARG();
            o.blocksize = (unsigned)atoi(v);
        } else if (strcmp(opt, "--priv") == 0) {
            ARG();
            ip4(v, o.priv);
        } else if (strcmp(opt, "--pub") == 0) {
            ARG();
            ip4(v, o.pub);
        } else if (strcmp(opt, "--tstamp-offset") == 0) {
            ARG();
            o.tstamp_offset = atof(v);
        } else if (strcmp(opt, "--signed") == 0) {
            ARG();
            o.signed_key = v;
        } else if (strcmp(opt, "--copy-key") == 0) {
            ARG();
            o.copy_key = v;
        } else if (strcmp(opt, "--junk-key") == 0) {
            o.junk_key = true;
        } else if (strcmp(opt, "--junk-rsa") == 0) {
            o.junk_key = o.junk_rsa = true;
        } else if (strcmp(opt, "--client") == 0) {
            ARG();
            o.client = hex(v);
        } else if (strcmp(opt, "--dh") == 0) {
            o.dh = true;
        } else if (strcmp(opt, "--vary-client") == 0) {
            o.vary_client = true;
        } else if (strcmp(opt, "--host") == 0) {
            ARG();
            o.host = hex(v);
        } else if (strcmp(opt, "--size") == 0) {
            ARG();
            o.size = strtoull(v, NULL, 0);
        } else if (strcmp(opt, "--name") == 0) {
            ARG();
            o.name = v;
        } else if (strcmp(opt, "--link") == 0) {
            ARG();
            o.link = v;
        } else if (strcmp(opt, "--ftype") == 0) {
            ARG();
            o.ftype = (unsigned)atoi(v);
        } else if (strcmp(opt, "--file") == 0) {
            ARG();
            o.file = (unsigned)atoi(v);
        } else if (strcmp(opt, "--section") == 0) {
            ARG();
            o.section = (unsigned)atoi(v);
        } else if (strcmp(opt, "--nonce") == 0) {
            ARG();
            o.nonce = (uint32_t)strtoul(v, NULL, 0);
        } else if (strcmp(opt, "--auth") == 0) {
            ARG();
            o.auth = (unsigned)atoi(v);
        } else if (strcmp(opt, "--len") == 0) {
            ARG();
            o.len = (unsigned)atoi(v);
        } else if (strcmp(opt, "--replay") == 0) {
            ARG();
            o.replay = v;
        } else if (strcmp(opt, "--corpus") == 0) {
            ARG();
            o.corpus = v;
        } else if (strcmp(opt, "--quiet") == 0) {
            o.quiet = true;
        } else {
            usage();
        }
    }
    if (kind == NULL)
        usage();
    o.kind = kind;
    if (strcmp(o.kind, "announce") != 0 && !o.group_set) {
        o.group = 0x11223344;
        o.group_set = true;
    }
    if (o.replay != NULL) {
        FILE *f = fopen(o.replay, "rb");
        if (f == NULL || (g_replay_len = fread(g_replay, 1, sizeof(g_replay), f)) == 0) {
            fprintf(stderr, "hostile_forge: cannot read %s\n", o.replay);
            exit(2);
        }
        fclose(f);
    }
    if (o.signed_key != NULL)
        g_sig = load(o.signed_key);
    if (o.copy_key != NULL)
        g_sig = load(o.copy_key);
    if (o.dh && ecdh_keygen(CURVE_P256, &g_dh) != CRYPTO_OK)
        exit(2);
    if (o.junk_key)
        for (int i = 0; i < 16; i++)
            if (keyfile_gen_ephemeral(&g_pool[i]) != CRYPTO_OK)
                exit(2);
    if (strcmp(o.kind, "announce") == 0 && (g_sig != NULL || o.junk_key)) {
        struct crypto_key *k = g_sig;
        if (k == NULL)
            k = g_pool[0];
        g_srv = server_keys(k);
    }
    static uint8_t buf[UFTP_MAX_DATAGRAM];
    if (o.corpus != NULL) {
        write_corpus(buf);
        return 0;
    }
    open_socket();
    double t0 = mono();
    unsigned long long sent = 0, payload = 0, failed = 0;
    for (unsigned long long i = 0;; i++) {
        double now = mono();
        if (o.duration > 0 ? now - t0 >= o.duration : i >= o.count)
            break;
        if (o.rate > 0) {
            double due = t0 + (double)i / o.rate;
            if (due > now) {
                double w = due - now;
                struct timespec ts = {(time_t)w, (long)((w - (double)(time_t)w) * 1e9)};
                nanosleep(&ts, NULL);
            }
        }
        size_t n = build(buf, sizeof(buf), i);
        if (send_one(buf, n) == 0) {
            sent++;
            payload += n;
        } else {
            failed++;
        }
    }
    double secs = mono() - t0;
    if (!o.quiet)
        printf("forge %s sent=%llu payload=%llu ip=%llu secs=%.2f failed=%llu\n", o.kind, sent,
               payload, payload + 28 * sent, secs, failed);
    for (int i = 0; i < 16; i++)
        crypto_key_free(g_pool[i]);
    skeys_server_free(g_srv);
    crypto_key_free(g_dh);
    crypto_key_free(g_sig);
    return failed > 0 && sent == 0 ? 1 : 0;
}
