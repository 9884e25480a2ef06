/*
 * Writes one datagram of every UFTP message type (v5, and every v4 type
 * Wireshark's uftp4 dissector knows), encoded by core/wire from known field
 * values, into a classic pcap (Ethernet/IPv4/UDP to port 1044), and writes
 * what tshark must report for each packet:
 *
 *   frame <TAB> field <TAB> value        (tshark -T fields formatting)
 *
 * The expected values are printed from the structs we encoded, not from the
 * bytes, so tshark's dissection is an independent check of the layout.
 * Usage: gen_pcap OUT.pcap OUT.expect [RAWDIR]   (RAWDIR: one .bin per datagram)
 */
#include "core/base/quant.h"
#include "core/wire/buf.h"
#include "core/wire/msg.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static FILE *pcap, *ex;
static const char *rawdir;
static int frame;
static const char *P; /* "uftp5" or "uftp4" */

static void die(const char *what)
{
    fprintf(stderr, "gen_pcap: %s\n", what);
    exit(2);
}

__attribute__((format(printf, 2, 3))) static void expect(const char *field, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(ex, "%d\t%s.%s\t", frame, P, field);
    vfprintf(ex, fmt, ap);
    fputc('\n', ex);
    va_end(ap);
}

/* A packet the dissector itself gets wrong: malformed is tolerated, not required. */
static void allow_malformed(const char *why)
{
    fprintf(ex, "%d\t!malformed\t%s\n", frame, why);
}

static const char *hex(const uint8_t *p, size_t n)
{
    static char buf[4][8192];
    static int k;
    char *s = buf[k++ % 4];
    for (size_t i = 0; i < n && i < 4000; i++)
        snprintf(s + 2 * i, 3, "%02x", p[i]);
    s[2 * (n < 4000 ? n : 4000)] = '\0';
    return s;
}

/* tshark's FT_ABSOLUTE_TIME with TZ=UTC: "Nov 23, 2026 19:10:59.233260000 UTC". */
static const char *abstime(uint64_t us)
{
    static char buf[4][64];
    static int k;
    char *s = buf[k++ % 4];
    time_t t = (time_t)(us / 1000000);
    struct tm tm;
    gmtime_r(&t, &tm);
    if (tm.tm_mday < 10)
        die("pick a day of month >= 10 (tshark pads single digits)");
    char d[40];
    strftime(d, sizeof(d), "%b %d, %Y %H:%M:%S", &tm);
    snprintf(s, 64, "%s.%06u000 UTC", d, (unsigned)(us % 1000000));
    return s;
}

static const char *ids_str(const struct wire_ids *l)
{
    static char buf[8192];
    size_t o = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < l->n && o + 12 < sizeof(buf); i++)
        o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s0x%08x", i ? "," : "",
                              wire_ids_get(l, i));
    return buf;
}

static void put32le(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static void pcap_header(void)
{
    uint8_t h[24] = {0};
    put32le(h, 0xa1b2c3d4);
    h[4] = 2; /* version 2.4, little-endian fields */
    h[6] = 4;
    put32le(h + 16, 65535);
    put32le(h + 20, 1); /* LINKTYPE_ETHERNET */
    if (fwrite(h, 1, 24, pcap) != 24)
        die("write");
}

/* Ethernet + IPv4 + UDP (to port 1044) around one datagram. */
static void pcap_packet(const uint8_t *d, size_t n)
{
    static uint8_t f[14 + 20 + 8 + 70000];
    size_t len = 14 + 20 + 8 + n;
    memset(f, 0, 42);
    memcpy(f, "\x01\x00\x5e\x05\x05\x01\x02\x00\x00\x00\x00\x01\x08\x00", 14);
    uint8_t *ip = f + 14;
    ip[0] = 0x45;
    be16_put(ip + 2, (uint16_t)(20 + 8 + n));
    be16_put(ip + 4, (uint16_t)frame);
    ip[8] = 64;
    ip[9] = 17;
    memcpy(ip + 12, "\x0a\x4d\x01\x01\x0a\x4d\x01\x0b", 8);
    uint32_t sum = 0;
    for (int i = 0; i < 20; i += 2)
        sum += be16_get(ip + i);
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    be16_put(ip + 10, (uint16_t)~sum);
    uint8_t *udp = ip + 20;
    be16_put(udp, 51513);
    be16_put(udp + 2, UFTP_PORT);
    be16_put(udp + 4, (uint16_t)(8 + n)); /* checksum 0: none (IPv4) */
    memcpy(udp + 8, d, n);
    uint8_t rec[16];
    put32le(rec, 1795460000u + (uint32_t)frame);
    put32le(rec + 4, 0);
    put32le(rec + 8, (uint32_t)len);
    put32le(rec + 12, (uint32_t)len);
    if (fwrite(rec, 1, 16, pcap) != 16 || fwrite(f, 1, len, pcap) != len)
        die("write");
}

/* Encodes d, checks it decodes back, writes it and the header expectations. */
static void emit(struct wire_datagram *d)
{
    static uint8_t buf[70000];
    static struct wire_datagram back;
    frame++;
    ssize_t n = wire_datagram_encode(buf, sizeof(buf), d);
    if (n < 0) {
        fprintf(stderr, "frame %d (%s): %s\n", frame, wire_func_name(d->hdr.func),
                wire_strerror((int)n));
        die("encode failed");
    }
    if (wire_datagram_decode(&back, buf, (size_t)n) != n)
        die("our own datagram does not decode");
    pcap_packet(buf, (size_t)n);
    if (rawdir) {
        char path[4096];
        snprintf(path, sizeof(path), "%s/gen-%02d-v%x-%s.bin", rawdir, frame, d->hdr.version >> 4,
                 wire_func_name(d->hdr.func));
        FILE *f = fopen(path, "wb");
        if (!f || fwrite(buf, 1, (size_t)n, f) != (size_t)n || fclose(f))
            die("raw write");
    }
    const struct uftp_hdr *h = &d->hdr;
    expect("version", "0x%02x", h->version);
    expect("func", "%u", h->func);
    expect("seq", "%u", h->seq);
    expect("src_id", "0x%08x", h->src_id);
    expect("group_id", "0x%08x", h->group_id);
    expect("group_inst", "%u", h->group_inst);
    expect("grtt", "%.15g", quant_rtt_decode(h->grtt));
    expect("gsize", "%u", quant_gsize_decode(h->gsize));
}

static struct wire_datagram *dg(uint8_t ver, uint8_t func)
{
    static struct wire_datagram d;
    memset(&d, 0, sizeof(d));
    d.hdr.version = ver;
    d.hdr.func = func;
    d.hdr.seq = (uint16_t)(0x1000 + frame);
    d.hdr.src_id = 0x0a4d0101;
    d.hdr.group_id = 0xe02fec56;
    d.hdr.group_inst = 3;
    d.hdr.grtt = quant_rtt_encode(0.5);
    d.hdr.gsize = quant_gsize_encode(1234);
    d.msg.func = func;
    /* ver is the first member of every message struct */
    memcpy(&d.msg.u, &ver, 1);
    return &d;
}

static uint8_t ecblob[68], dhblob[100], sig68[68], verify[64], rand1[32], data[1300], naks[1301];
/* 25 Nov 2026 09:33:20.123456 UTC */
static const uint64_t T0 = UINT64_C(1795599200123456);
static const uint32_t ids[] = {0x0a4d010b, 0x0a4d010c, 0xc0a80001};

static void ecblob_expect(const char *prefix, const uint8_t *b1, const uint8_t *b2)
{
    /* Each EC blob: curve, keylen, key (aggregated when there are two). */
    (void)prefix;
    if (b2) {
        expect("ecblob.curve", "%u,%u", b1[1], b2[1]);
        expect("ecblob.keylen", "%u,%u", be16_get(b1 + 2), be16_get(b2 + 2));
        expect("ecblob.key", "%s,%s", hex(b1 + 4, be16_get(b1 + 2)), hex(b2 + 4, be16_get(b2 + 2)));
    } else {
        expect("ecblob.curve", "%u", b1[1]);
        expect("ecblob.keylen", "%u", be16_get(b1 + 2));
        expect("ecblob.key", "%s", hex(b1 + 4, be16_get(b1 + 2)));
    }
}

static void gen_announce(uint8_t ver, bool enc, bool v6)
{
    struct wire_datagram *d = dg(ver, ANNOUNCE);
    struct wire_announce *m = &d->msg.u.announce;
    m->flags = (uint8_t)(FLAG_SYNC_MODE | (v6 ? FLAG_IPV6 : 0));
    m->robust = 25;
    m->cc_type = CC_TFMCC;
    m->blocksize = 1300;
    m->tstamp = T0;
    memcpy(m->pub_addr, v6 ? "\xff\x15\0\0\0\0\0\0\0\0\0\0\x12\x34\x56\x78" : "\xe6\x04\x04\x01",
           v6 ? 16 : 4);
    memcpy(m->priv_addr, v6 ? "\xff\x15\0\0\0\0\0\0\0\0\0\0\x9a\xbc\xde\xf0" : "\xe6\x05\x05\x92",
           v6 ? 16 : 4);
    m->ids = wire_ids_of(ids, 3);
    if (enc) {
        m->has_enc = true;
        struct wire_enc_info *e = &m->enc;
        e->flags = FLAG_CLIENT_AUTH;
        if (ver == UFTP_VER4) {
            e->keyextype = KEYEX_ECDH_ECDSA;
            e->sigtype = SIG_AUTHENC;
        }
        e->keytype = KEY_AES256_GCM;
        e->hashtype = HASH_SHA384;
        memcpy(e->rand1, rand1, 32);
        e->keyblob = ecblob;
        e->keylen = sizeof(ecblob);
        e->dhblob = dhblob;
        e->dhlen = sizeof(dhblob);
        e->sig = sig68;
        e->siglen = sizeof(sig68);
    }
    emit(d);
    size_t iplen = v6 ? 16 : 4;
    size_t hl = 16 + 2 * iplen + (enc ? 44 + 68 + 100 + 68 : 0);
    expect("announce.hlen", "%zu", hl);
    expect("announce.flags", "0x%02x", m->flags);
    expect("announce.flags.sync", "1");
    expect("announce.flags.ipv6", "%d", v6);
    expect("announce.robust", "%u", m->robust);
    expect("announce.cc_type", "%u", m->cc_type);
    expect("announce.blocksize", "%u", m->blocksize);
    expect("announce.tstamp", "%s", abstime(m->tstamp));
    if (v6) {
        expect("announce.publicmcast.ipv6", "ff15::1234:5678");
        expect("announce.privatemcast.ipv6", "ff15::9abc:def0");
    } else {
        expect("announce.publicmcast.ipv4", "230.4.4.1");
        expect("announce.privatemcast.ipv4", "230.5.5.146");
    }
    expect("dest", "%s", ids_str(&m->ids));
    if (enc) {
        const struct wire_enc_info *e = &m->enc;
        expect("encinfo.exttype", "%u", EXT_ENC_INFO);
        expect("encinfo.extlen", "%u", 44 + 68 + 100 + 68);
        expect("encinfo.flags", "0x%02x", e->flags);
        expect("encinfo.flags.client_auth", "1");
        if (ver == UFTP_VER4) {
            expect("encinfo.keyextype", "%u", e->keyextype);
            expect("encinfo.sigtype", "%u", e->sigtype);
        } else {
            expect("encinfo.reserved", "0");
        }
        expect("encinfo.keytype", "%u", e->keytype);
        expect("encinfo.hashtype", "%u", e->hashtype);
        expect("encinfo.keylen", "%u", e->keylen);
        expect("encinfo.dhlen", "%u", e->dhlen);
        expect("encinfo.siglen", "%u", e->siglen);
        expect("encinfo.rand1", "%s", hex(e->rand1, 32));
        expect("encinfo.sig", "%s", hex(e->sig, e->siglen));
        ecblob_expect("encinfo", ecblob, dhblob);
    }
}

static void gen_register(uint8_t ver)
{
    struct wire_datagram *d = dg(ver, REGISTER);
    struct wire_register *m = &d->msg.u.reg;
    m->tstamp = T0 + 777;
    memcpy(m->rand2, rand1, 32);
    m->rand2[0] ^= 0xff;
    m->dhblob = dhblob;
    m->dhlen = sizeof(dhblob);
    m->ids = wire_ids_of(ids, 2);
    emit(d);
    expect("register.hlen", "%u", 44 + 100);
    if (ver == UFTP_VER4) {
        expect("register.keyinfo_len", "%u", m->dhlen);
        expect("register.keyinfo", "%s", hex(m->dhblob, m->dhlen));
    } else {
        expect("register.dhlen", "%u", m->dhlen);
        expect("register.dhkey", "%s", hex(m->dhblob, m->dhlen));
    }
    expect("register.tstamp", "%s", abstime(m->tstamp));
    expect("register.rand2", "%s", hex(m->rand2, 32));
    expect("dest", "%s", ids_str(&m->ids));
}

static void gen_client_key(uint8_t ver)
{
    struct wire_datagram *d = dg(ver, CLIENT_KEY);
    struct wire_client_key *m = &d->msg.u.client_key;
    m->keyblob = ecblob;
    m->keylen = sizeof(ecblob);
    m->sig = sig68;
    m->siglen = sizeof(sig68);
    emit(d);
    expect("clientkey.hlen", "%u", 8 + 68 + 68);
    expect("clientkey.bloblen", "%u", m->keylen);
    expect("clientkey.siglen", "%u", m->siglen);
    expect("clientkey.verify", "%s", hex(m->sig, m->siglen));
    ecblob_expect("clientkey", ecblob, NULL);
}

static void gen_reg_conf(uint8_t ver)
{
    struct wire_datagram *d = dg(ver, REG_CONF);
    d->msg.u.reg_conf.ids = wire_ids_of(ids, 3);
    emit(d);
    expect("regconf.hlen", "4");
    expect("regconf.reserved", "0x0000");
    expect("dest", "%s", ids_str(&d->msg.u.reg_conf.ids));
}

static void gen_keyinfo(uint8_t ver)
{
    static struct wire_destkey keys[2];
    for (int i = 0; i < 2; i++) {
        keys[i].id = ids[i];
        for (int j = 0; j < 48; j++)
            keys[i].master[j] = (uint8_t)(0x40 + 16 * i + j);
    }
    struct wire_datagram *d = dg(ver, KEYINFO);
    struct wire_keyinfo *m = &d->msg.u.keyinfo;
    m->iv_ctr = 0x0102030405060708ull;
    if (ver == UFTP_VER5) {
        m->sig = sig68;
        m->siglen = sizeof(sig68);
    }
    m->keys.host = keys;
    m->keys.n = 2;
    emit(d);
    expect("keyinfo.hlen", "%u", 12 + m->siglen);
    if (ver == UFTP_VER5) {
        expect("keyinfo.siglen", "%u", m->siglen);
        expect("keyinfo.sig", "%s", hex(m->sig, m->siglen));
    } else {
        expect("keyinfo.reserved", "0x0000");
    }
    expect("keyinfo.ivctr", "0x%016llx", (unsigned long long)m->iv_ctr);
    expect("keyinfo.destid", "0x%08x,0x%08x", keys[0].id, keys[1].id);
    expect("keyinfo.groupmaster", "%s,%s", hex(keys[0].master, 48), hex(keys[1].master, 48));
}

static void gen_keyinfo_ack(uint8_t ver)
{
    struct wire_datagram *d = dg(ver, KEYINFO_ACK);
    struct wire_keyinfo_ack *m = &d->msg.u.keyinfo_ack;
    m->verify = verify;
    m->verify_len = ver == UFTP_VER4 ? 12 : 48;
    emit(d);
    expect("keyinfoack.hlen", "%u", 4 + m->verify_len);
    if (ver == UFTP_VER5) {
        /* Wireshark 4.0 bug: the data's length is read as the one byte at
           offset 2 (verify_len's high byte, 0), so verify_data is empty. */
        expect("keyinfoack.verify_len", "%u", m->verify_len);
    } else {
        /* Wireshark 4.0 bug: a 3-byte reserved field, so the 12 bytes are read
           from offset 5 and overrun the 16-byte message (5.0.1 and 4.9.6 both
           send func, hlen, reserved(2), verify(12)). */
        allow_malformed("uftp4 dissector reads KEYINFO_ACK verify data at offset 5");
    }
}

static void gen_fileinfo(uint8_t ver, bool link)
{
    struct wire_datagram *d = dg(ver, FILEINFO);
    struct wire_fileinfo *m = &d->msg.u.fileinfo;
    m->file_id = 0x1234;
    m->ftype = link ? FTYPE_LINK : FTYPE_REG;
    m->size = link ? 0 : 0xfedcba987654ull;
    /* 2026-11-25 09:33:20 (below 2^32), and with high bits set for the link */
    m->mtime = (link && ver == UFTP_VER5) ? (UINT64_C(0x0001) << 32 | 1795599200u) : 1795599200u;
    m->tstamp = T0 + 42;
    m->name = link ? "dir/sub/link" : "a/b/the-file.bin";
    m->name_len = strlen(m->name);
    if (link) {
        m->link = "../target";
        m->link_len = 9;
    }
    m->ids = wire_ids_of(ids + 1, 2);
    emit(d);
    size_t namew = (m->name_len + 3) / 4, linkw = (m->link_len + 3) / 4;
    expect("fileinfo.hlen", "%zu", 28 + 4 * (namew + linkw));
    expect("fileinfo.file_id", "0x%04x", m->file_id);
    expect("fileinfo.ftype", "%u", m->ftype);
    expect("fileinfo.namelen", "%zu", namew);
    expect("fileinfo.linklen", "%zu", linkw);
    expect("fileinfo.fsize", "%llu", (unsigned long long)m->size);
    if (ver == UFTP_VER5) {
        expect("fileinfo.ftstamp_hi", "0x%04x", (unsigned)(m->mtime >> 32));
        /* Wireshark 4.0 assembles the 48-bit time as hi << 16 | lo (a dissector
           bug): compare the full time only where the high part is 0. */
        if (m->mtime >> 32 == 0)
            expect("fileinfo.ftstamp", "%s", abstime(m->mtime * 1000000));
    } else {
        expect("fileinfo.reserved", "0x000000");
        expect("fileinfo.ftstamp", "%s", abstime(m->mtime * 1000000));
    }
    expect("fileinfo.tstamp", "%s", abstime(m->tstamp));
    expect("fileinfo.name", "%s", m->name);
    if (link)
        expect("fileinfo.link", "%s", m->link);
    expect("dest", "%s", ids_str(&m->ids));
}

static void gen_fileinfo_ack(uint8_t ver)
{
    struct wire_datagram *d = dg(ver, FILEINFO_ACK);
    struct wire_fileinfo_ack *m = &d->msg.u.fileinfo_ack;
    m->file_id = 0x1234;
    m->flags = FLAG_PARTIAL;
    m->tstamp = T0 + 999999;
    m->ids = wire_ids_of(ids, 1);
    emit(d);
    expect("fileinfoack.hlen", "16");
    expect("fileinfoack.file_id", "0x%04x", m->file_id);
    expect("fileinfoack.flags", "0x%02x", m->flags);
    expect("fileinfoack.flags.partial", "1");
    expect("fileinfoack.reserved", "0x000000");
    expect("fileinfoack.tstamp", "%s", abstime(m->tstamp));
    expect("dest", "%s", ids_str(&m->ids));
}

static void gen_fileseg(uint8_t ver, bool tfmcc)
{
    struct wire_datagram *d = dg(ver, FILESEG);
    struct wire_fileseg *m = &d->msg.u.fileseg;
    m->file_id = 0x1234;
    m->section = 0x0102;
    m->sec_block = 0x0304;
    m->data = data;
    m->data_len = tfmcc ? 1300 : 977;
    if (tfmcc) {
        m->has_tfmcc = true;
        m->tfmcc.send_rate = quant_rate_encode(1250000);
        m->tfmcc.cc_seq = 0xbeef;
        m->tfmcc.cc_rate = quant_rate_encode(987654);
    }
    emit(d);
    expect("fileseg.hlen", "%d", tfmcc ? 16 : 8);
    expect("fileseg.file_id", "0x%04x", m->file_id);
    expect("fileseg.section", "%u", m->section);
    expect("fileseg.sec_block", "%u", m->sec_block);
    expect("fileseg.data", "%s", hex(data, m->data_len));
    if (tfmcc) {
        expect("tfmccdata.exttype", "%u", EXT_TFMCC_DATA_INFO);
        expect("tfmccdata.extlen", "8");
        expect("tfmccdata.send_rate", "%llu",
               (unsigned long long)quant_rate_decode(m->tfmcc.send_rate));
        expect("tfmccdata.cc_seq", "%u", m->tfmcc.cc_seq);
        expect("tfmccdata.cc_rate", "%llu",
               (unsigned long long)quant_rate_decode(m->tfmcc.cc_rate));
    }
}

static void gen_done(uint8_t ver)
{
    struct wire_datagram *d = dg(ver, DONE);
    struct wire_done *m = &d->msg.u.done;
    m->file_id = 0x1234;
    m->section = 0x0abc;
    m->ids = wire_ids_of(ids, 3);
    emit(d);
    expect("done.hlen", "8");
    expect("done.file_id", "0x%04x", m->file_id);
    expect("done.section", "%u", m->section);
    expect("dest", "%s", ids_str(&m->ids));
}

static void tfmcc_ack_expect(const struct wire_tfmcc_ack *t)
{
    expect("tfmccack.exttype", "%u", EXT_TFMCC_ACK_INFO);
    expect("tfmccack.extlen", "20");
    expect("tfmccack.flags", "0x%02x", t->flags);
    expect("tfmccack.flags.clr", "%d", !!(t->flags & FLAG_CC_CLR));
    expect("tfmccack.flags.rtt", "%d", !!(t->flags & FLAG_CC_RTT));
    expect("tfmccack.flags.start", "%d", !!(t->flags & FLAG_CC_START));
    expect("tfmccack.flags.leave", "%d", !!(t->flags & FLAG_CC_LEAVE));
    expect("tfmccack.cc_seq", "%u", t->cc_seq);
    expect("tfmccack.cc_rate", "%llu", (unsigned long long)quant_rate_decode(t->cc_rate));
    expect("tfmccack.client_id", "0x%08x", t->client_id);
    expect("tfmccack.tstamp", "%s", abstime(t->tstamp));
}

static void gen_status(uint8_t ver)
{
    struct wire_datagram *d = dg(ver, STATUS);
    struct wire_status *m = &d->msg.u.status;
    m->file_id = 0x1234;
    m->section = 7;
    m->has_tfmcc = true;
    m->tfmcc.flags = FLAG_CC_RTT | FLAG_CC_START;
    m->tfmcc.cc_seq = 0x0102;
    m->tfmcc.cc_rate = quant_rate_encode(54321);
    m->tfmcc.client_id = ids[0];
    m->tfmcc.tstamp = T0 + 5;
    m->naks = naks;
    m->naks_len = 1301;
    emit(d);
    expect("status.hlen", "28");
    expect("status.file_id", "0x%04x", m->file_id);
    expect("status.section", "%u", m->section);
    expect("status.naks", "%s", hex(naks, m->naks_len));
    tfmcc_ack_expect(&m->tfmcc);
}

static void gen_complete(uint8_t ver)
{
    struct wire_datagram *d = dg(ver, COMPLETE);
    struct wire_complete *m = &d->msg.u.complete;
    m->file_id = 0x1234;
    m->status = COMP_STAT_OVERWRITE;
    m->has_freespace = true;
    m->freespace = 0x0000123456789abcull;
    m->ids = wire_ids_of(ids, 2);
    emit(d);
    expect("complete.hlen", "20");
    expect("complete.file_id", "0x%04x", m->file_id);
    expect("complete.status", "%u", m->status);
    expect("freespace.exttype", "%u", EXT_FREESPACE_INFO);
    expect("freespace.extlen", "12");
    expect("freespace.freespace", "%llu", (unsigned long long)m->freespace);
    expect("dest", "%s", ids_str(&m->ids));
}

static void gen_done_conf(uint8_t ver)
{
    struct wire_datagram *d = dg(ver, DONE_CONF);
    d->msg.u.done_conf.ids = wire_ids_of(ids, 3);
    emit(d);
    expect("doneconf.hlen", "4");
    expect("dest", "%s", ids_str(&d->msg.u.done_conf.ids));
}

static void gen_hb_req(uint8_t ver)
{
    struct wire_datagram *d = dg(ver, HB_REQ);
    struct wire_hb_req *m = &d->msg.u.hb_req;
    m->nonce = 0xdeadbeef;
    m->keyblob = ecblob;
    m->keylen = sizeof(ecblob);
    m->sig = sig68;
    m->siglen = sizeof(sig68);
    emit(d);
    expect("hbreq.hlen", "%u", 12 + 68 + 68);
    expect("hbreq.bloblen", "%u", m->keylen);
    expect("hbreq.siglen", "%u", m->siglen);
    expect("hbreq.nonce", "0x%08x", m->nonce);
    expect("hbreq.verify", "%s", hex(m->sig, m->siglen));
    ecblob_expect("hbreq", ecblob, NULL);
}

static void gen_hb_resp(uint8_t ver)
{
    struct wire_datagram *d = dg(ver, HB_RESP);
    d->msg.u.hb_resp.auth = HB_AUTH_CHALLENGE;
    d->msg.u.hb_resp.nonce = 0xcafef00d;
    emit(d);
    expect("hbresp.hlen", "8");
    expect("hbresp.authenticated", "%u", HB_AUTH_CHALLENGE);
    expect("hbresp.nonce", "0x%08x", 0xcafef00du);
}

static void gen_key_req(void)
{
    struct wire_datagram *d = dg(UFTP_VER4, KEY_REQ);
    emit(d);
    expect("keyreq.hlen", "4");
}

static void gen_proxy_key(uint8_t ver)
{
    struct wire_datagram *d = dg(ver, PROXY_KEY);
    struct wire_proxy_key *m = &d->msg.u.proxy_key;
    if (ver == UFTP_VER4)
        m->nonce = 0x01020304;
    m->keyblob = ecblob;
    m->keylen = sizeof(ecblob);
    m->dhblob = dhblob;
    m->dhlen = sizeof(dhblob);
    m->sig = sig68;
    m->siglen = sizeof(sig68);
    emit(d);
    expect("proxykey.hlen", "%u", (ver == UFTP_VER4 ? 12 : 8) + 68 + 100 + 68);
    expect("proxykey.bloblen", "%u", m->keylen);
    expect("proxykey.dhlen", "%u", m->dhlen);
    expect("proxykey.siglen", "%u", m->siglen);
    if (ver == UFTP_VER4) {
        expect("proxykey.nonce", "0x%08x", m->nonce);
        expect("proxykey.verify", "%s", hex(m->sig, m->siglen));
    } else {
        expect("proxykey.sig", "%s", hex(m->sig, m->siglen));
    }
    ecblob_expect("proxykey", ecblob, dhblob);
}

static void gen_encrypted(uint8_t ver)
{
    struct wire_datagram *d = dg(ver, ENCRYPTED);
    d->enc.ver = ver;
    d->enc.iv_ctr = 0x00000001fffffffeull;
    d->enc.payload = data;
    d->enc.payload_len = sizeof(data);
    emit(d);
    expect("encrypted.ivctr", "0x%016llx", (unsigned long long)d->enc.iv_ctr);
    expect("encrypted.payload_len", "%u", d->enc.payload_len);
    expect("encrypted.payload", "%s", hex(data, sizeof(data)));
    if (ver == UFTP_VER4)
        expect("encrypted.sig_len", "0");
    else
        expect("encrypted.reserved", "0x0000");
}

static void gen_abort(uint8_t ver)
{
    struct wire_datagram *d = dg(ver, ABORT);
    struct wire_abort *m = &d->msg.u.abort;
    m->flags = FLAG_CURRENT_FILE;
    m->host = ids[1];
    snprintf(m->text, sizeof(m->text), "Rejecting FILEINFO: invalid message size");
    emit(d);
    expect("abort.hlen", "308");
    expect("abort.flags", "0x%02x", m->flags);
    expect("abort.flags.curfile", "1");
    expect("abort.clientid", "0x%08x", m->host);
    expect("abort.message", "%s", m->text);
}

static void gen_cong_ctrl(uint8_t ver)
{
    static const struct wire_cc_item items[3] = {
        {0x0a4d010b, FLAG_CC_CLR | FLAG_CC_RTT | FLAG_CC_START, 0},
        {0x0a4d010c, FLAG_CC_RTT, 0},
        {0x0a4d010d, FLAG_CC_LEAVE, 0},
    };
    static struct wire_cc_item it[3];
    memcpy(it, items, sizeof(it));
    it[0].rtt = quant_rtt_encode(0.05);
    it[1].rtt = quant_rtt_encode(20e-6);
    it[2].rtt = quant_rtt_encode(3.5);
    struct wire_datagram *d = dg(ver, CONG_CTRL);
    struct wire_cong_ctrl *m = &d->msg.u.cong_ctrl;
    m->cc_seq = 0x4242;
    m->cc_rate = quant_rate_encode(125000000);
    m->tstamp = T0 + 3;
    m->items.host = it;
    m->items.n = 3;
    emit(d);
    expect("congctrl.hlen", "16");
    expect("congctrl.cc_seq", "%u", m->cc_seq);
    expect("congctrl.cc_rate", "%llu", (unsigned long long)quant_rate_decode(m->cc_rate));
    expect("congctrl.tstamp", "%s", abstime(m->tstamp));
    expect("congctrl.item.destid", "0x%08x,0x%08x,0x%08x", it[0].id, it[1].id, it[2].id);
    expect("congctrl.item.flags", "0x%02x,0x%02x,0x%02x", it[0].flags, it[1].flags, it[2].flags);
    expect("congctrl.item.flags.clr", "1,0,0");
    expect("congctrl.item.flags.leave", "0,0,1");
    expect("congctrl.item.rtt", "%.15g,%.15g,%.15g", quant_rtt_decode(it[0].rtt),
           quant_rtt_decode(it[1].rtt), quant_rtt_decode(it[2].rtt));
    /* The dissector reads the items' reserved field as a rate: ours is 0. */
    expect("congctrl.item.rate", "0,0,0");
}

static void gen_cc_ack(uint8_t ver)
{
    struct wire_datagram *d = dg(ver, CC_ACK);
    struct wire_cc_ack *m = &d->msg.u.cc_ack;
    m->has_tfmcc = true;
    m->tfmcc.flags = FLAG_CC_CLR | FLAG_CC_LEAVE;
    m->tfmcc.cc_seq = 0x0a0b;
    m->tfmcc.cc_rate = quant_rate_encode(10);
    m->tfmcc.client_id = ids[2];
    m->tfmcc.tstamp = T0 + 1000000;
    emit(d);
    /* uftp4 shows this hlen in words, everything else in bytes. */
    expect("ccack.hlen", ver == UFTP_VER4 ? "6" : "24");
    tfmcc_ack_expect(&m->tfmcc);
}

int main(int argc, char **argv)
{
    if (argc < 3)
        die("usage: gen_pcap OUT.pcap OUT.expect [RAWDIR]");
    pcap = fopen(argv[1], "wb");
    ex = fopen(argv[2], "w");
    rawdir = argc > 3 ? argv[3] : NULL;
    if (!pcap || !ex)
        die("cannot open outputs");
    /* Blobs are opaque to the codec; realistic enough for the dissector to parse. */
    ecblob[0] = KEYBLOB_EC;
    ecblob[1] = CURVE_P256;
    be16_put(ecblob + 2, 64);
    for (int i = 4; i < 68; i++)
        ecblob[i] = (uint8_t)(i * 3);
    dhblob[0] = KEYBLOB_EC;
    dhblob[1] = CURVE_P384;
    be16_put(dhblob + 2, 96);
    for (int i = 4; i < 100; i++)
        dhblob[i] = (uint8_t)(i * 5 + 1);
    be16_put(sig68, 32);
    be16_put(sig68 + 2, 32);
    for (int i = 4; i < 68; i++)
        sig68[i] = (uint8_t)(0x80 ^ i);
    for (int i = 0; i < 64; i++)
        verify[i] = (uint8_t)(0xc0 + i);
    for (int i = 0; i < 32; i++)
        rand1[i] = (uint8_t)(i * 7 + 3);
    for (int i = 0; i < 1300; i++)
        data[i] = (uint8_t)(i ^ (i >> 8));
    naks[0] = 0x81;
    naks[1300] = 0x10;
    pcap_header();
    static const uint8_t vers[2] = {UFTP_VER5, UFTP_VER4};
    for (int v = 0; v < 2; v++) {
        uint8_t ver = vers[v];
        P = ver == UFTP_VER5 ? "uftp5" : "uftp4";
        gen_announce(ver, false, false);
        gen_announce(ver, true, false);
        gen_announce(ver, true, true);
        gen_register(ver);
        gen_client_key(ver);
        gen_reg_conf(ver);
        gen_keyinfo(ver);
        gen_keyinfo_ack(ver);
        gen_fileinfo(ver, false);
        gen_fileinfo(ver, true);
        gen_fileinfo_ack(ver);
        gen_fileseg(ver, false);
        gen_fileseg(ver, true);
        gen_done(ver);
        gen_status(ver);
        gen_complete(ver);
        gen_done_conf(ver);
        gen_hb_req(ver);
        gen_hb_resp(ver);
        if (ver == UFTP_VER4)
            gen_key_req();
        gen_proxy_key(ver);
        gen_encrypted(ver);
        gen_abort(ver);
        gen_cong_ctrl(ver);
        gen_cc_ack(ver);
    }
    if (fclose(pcap) || fclose(ex))
        die("close");
    return 0;
}
