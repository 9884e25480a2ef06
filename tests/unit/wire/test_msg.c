/*
 * The dispatcher and datagram codec, and the byte vectors from the reference
 * captures (tests/unit/wire/vectors/captures.txt, made by extract.sh there).
 */
#include "core/base/quant.h"
#include "core/wire/msg.h"
#include "wiretest.h"

#include <stdlib.h>

struct vec {
    char cap[32];
    unsigned frame;
    unsigned ver;
    char func[16];
    uint8_t *p;
    size_t len;
};

#define MAX_VECS 192
static struct vec vecs[MAX_VECS];
static size_t nvecs;

static void load_vectors(void)
{
    if (nvecs)
        return;
    FILE *f = fopen(cu_srcpath("tests/unit/wire/vectors/captures.txt"), "r");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    static char line[20000];
    while (fgets(line, sizeof(line), f) && nvecs < MAX_VECS) {
        if (line[0] == '#' || line[0] == '\n')
            continue;
        struct vec *v = &vecs[nvecs];
        char hex[20000];
        if (sscanf(line, "%31s %u %x %15s %19999s", v->cap, &v->frame, &v->ver, v->func, hex) !=
            5) {
            CU_FAIL("bad vector line");
            continue;
        }
        v->p = malloc(strlen(hex) / 2);
        CU_ASSERT_PTR_NOT_NULL_FATAL(v->p);
        v->len = wt_unhex(hex, v->p, strlen(hex) / 2);
        nvecs++;
    }
    fclose(f);
}

static const struct vec *find_vec(const char *cap, unsigned frame)
{
    for (size_t i = 0; i < nvecs; i++)
        if (!strcmp(vecs[i].cap, cap) && vecs[i].frame == frame)
            return &vecs[i];
    CU_FAIL("vector not found");
    return NULL;
}

static bool has_body(uint8_t func)
{
    switch (func) {
    case CLIENT_KEY:
    case KEYINFO_ACK:
    case HB_REQ:
    case HB_RESP:
    case KEY_REQ:
    case PROXY_KEY:
    case ABORT:
    case CC_ACK:
    case ENCRYPTED:
        return false;
    }
    return true;
}

/* Every datagram of the captures decodes and re-encodes to identical bytes. */
static void test_capture_vectors(void)
{
    load_vectors();
    CU_ASSERT(nvecs >= 70);
    unsigned seen[2][32] = {{0}};
    static struct wire_datagram d, d2;
    for (size_t i = 0; i < nvecs; i++) {
        const struct vec *v = &vecs[i];
        ssize_t n = wire_datagram_decode(&d, v->p, v->len);
        CU_ASSERT_EQUAL(n, (ssize_t)v->len);
        if (n != (ssize_t)v->len) {
            fprintf(stderr, "%s frame %u (%s): %s\n", v->cap, v->frame, v->func,
                    wire_strerror((int)n));
            continue;
        }
        CU_ASSERT_EQUAL(d.hdr.version, v->ver);
        CU_ASSERT_STRING_EQUAL(wire_func_name(d.hdr.func), v->func);
        CU_ASSERT_FALSE(wire_datagram_lossy(&d));
        seen[v->ver == UFTP_VER4][d.hdr.func]++;
        uint8_t *out = wt_buf;
        ssize_t m = wire_datagram_encode(out, WT_MAX, &d);
        CU_ASSERT_EQUAL(m, (ssize_t)v->len);
        CU_ASSERT(m == (ssize_t)v->len && memcmp(out, v->p, v->len) == 0);
        /* Truncations: rejected, or a valid shorter message that re-encodes the prefix. */
        for (size_t k = 0; k < v->len; k++) {
            ssize_t r = wire_datagram_decode(&d2, v->p, k);
            if (r < 0)
                continue;
            CU_ASSERT_TRUE(has_body(d.hdr.func));
            CU_ASSERT_EQUAL(r, (ssize_t)k);
            CU_ASSERT_EQUAL(wire_datagram_encode(out, WT_MAX, &d2), (ssize_t)k);
            CU_ASSERT(memcmp(out, v->p, k) == 0);
        }
    }
    /* Every cleartext type that the captures contain, in both versions. */
    static const uint8_t types[] = {ANNOUNCE, REGISTER, REG_CONF, KEYINFO,   FILEINFO, FILEINFO_ACK,
                                    FILESEG,  DONE,     COMPLETE, DONE_CONF, ENCRYPTED};
    for (int v4 = 0; v4 < 2; v4++)
        for (size_t i = 0; i < sizeof(types); i++)
            CU_ASSERT(seen[v4][types[i]] > 0);
}

static void test_capture_fields(void)
{
    load_vectors();
    static struct wire_datagram d;
    /* v5 open ANNOUNCE. */
    const struct vec *v = find_vec("uftp5-noenc", 1);
    CU_ASSERT_EQUAL(wire_datagram_decode(&d, v->p, v->len), (ssize_t)v->len);
    CU_ASSERT_EQUAL(d.hdr.src_id, 0x0a4d0101u);
    CU_ASSERT_EQUAL(d.hdr.group_id, 0xe02fec56u);
    CU_ASSERT_EQUAL(quant_gsize_decode(d.hdr.gsize), 1);
    CU_ASSERT_EQUAL(d.hdr.grtt, quant_rtt_encode(0.5)); /* the default initial GRTT */
    const struct wire_announce *a = &d.msg.u.announce;
    CU_ASSERT_EQUAL(a->robust, 20);
    CU_ASSERT_EQUAL(a->blocksize, 1300);
    CU_ASSERT_EQUAL(a->tstamp, 0x000660f65aa4c5ecull);
    CU_ASSERT(memcmp(a->pub_addr, "\xe6\x04\x04\x01", 4) == 0);
    CU_ASSERT(memcmp(a->priv_addr, "\xe6\x05\x05\x92", 4) == 0);
    CU_ASSERT_FALSE(a->has_enc);
    CU_ASSERT_EQUAL(a->ids.n, 1);
    CU_ASSERT_EQUAL(wire_ids_get(&a->ids, 0), 0x0a4d010bu);
    /* v5 encrypted ANNOUNCE: ECDSA P-256 key, ECDH P-256, AES-256-GCM, SHA-256. */
    v = find_vec("uftp5-aes256gcm", 1);
    CU_ASSERT_EQUAL(wire_datagram_decode(&d, v->p, v->len), (ssize_t)v->len);
    CU_ASSERT_TRUE(a->has_enc);
    CU_ASSERT_EQUAL(a->enc.keytype, KEY_AES256_GCM);
    CU_ASSERT_EQUAL(a->enc.hashtype, HASH_SHA256);
    CU_ASSERT_EQUAL(a->enc.keylen, 68);
    CU_ASSERT_EQUAL(a->enc.dhlen, 68);
    CU_ASSERT_EQUAL(a->enc.siglen, 68);
    CU_ASSERT_EQUAL(a->enc.keyblob[0], KEYBLOB_EC);
    CU_ASSERT_EQUAL(a->enc.keyblob[1], CURVE_P256);
    CU_ASSERT_EQUAL(a->enc.raw, v->p + 16 + 24);
    /* v4 encrypted ANNOUNCE: byte 3 = ECDH_ECDSA << 4 | AUTHENC. */
    v = find_vec("uftp4-aes256gcm", 1);
    CU_ASSERT_EQUAL(wire_datagram_decode(&d, v->p, v->len), (ssize_t)v->len);
    CU_ASSERT_EQUAL(a->enc.keyextype, KEYEX_ECDH_ECDSA);
    CU_ASSERT_EQUAL(a->enc.sigtype, SIG_AUTHENC);
    /* REGISTER with an ECDH key (v5) and KEYINFO with one entry. */
    v = find_vec("uftp5-aes256gcm", 2);
    CU_ASSERT_EQUAL(wire_datagram_decode(&d, v->p, v->len), (ssize_t)v->len);
    CU_ASSERT_EQUAL(d.msg.u.reg.dhlen, 68);
    CU_ASSERT_EQUAL(d.msg.u.reg.ids.n, 0);
    v = find_vec("uftp5-aes256gcm", 3);
    CU_ASSERT_EQUAL(wire_datagram_decode(&d, v->p, v->len), (ssize_t)v->len);
    CU_ASSERT_EQUAL(d.msg.u.keyinfo.siglen, 68);
    CU_ASSERT_EQUAL(d.msg.u.keyinfo.iv_ctr, 1);
    CU_ASSERT_EQUAL(d.msg.u.keyinfo.keys.n, 1);
    CU_ASSERT_PTR_NOT_NULL(wire_destkeys_find(&d.msg.u.keyinfo.keys, 0x0a4d010b));
    v = find_vec("uftp4-aes256gcm", 3);
    CU_ASSERT_EQUAL(wire_datagram_decode(&d, v->p, v->len), (ssize_t)v->len);
    CU_ASSERT_EQUAL(d.msg.u.keyinfo.siglen, 0);
    CU_ASSERT_EQUAL(d.msg.u.keyinfo.keys.n, 1);
    /* FILEINFO: a 200000-byte regular file. */
    v = find_vec("uftp4to5-noenc", 4);
    CU_ASSERT_EQUAL(wire_datagram_decode(&d, v->p, v->len), (ssize_t)v->len);
    const struct wire_fileinfo *fi = &d.msg.u.fileinfo;
    CU_ASSERT_EQUAL(fi->size, 200000);
    CU_ASSERT_EQUAL(fi->mtime, 0x6b048f60);
    CU_ASSERT_EQUAL(fi->name_len, 9);
    CU_ASSERT(memcmp(fi->name, "small200K", 9) == 0);
    CU_ASSERT_EQUAL(fi->tstamp, 0x6b048fd9ull * 1000000 + 0x000f1fec);
    /* The last FILESEG carries the 1100-byte tail. */
    v = find_vec("uftp5-noenc", 159);
    CU_ASSERT_EQUAL(wire_datagram_decode(&d, v->p, v->len), (ssize_t)v->len);
    CU_ASSERT_EQUAL(d.msg.u.fileseg.sec_block, 153);
    CU_ASSERT_EQUAL(d.msg.u.fileseg.data_len, 1100);
    /* ENCRYPTED framing: exact length, payload after 28 bytes. */
    v = find_vec("uftp5-aes256gcm", 4);
    CU_ASSERT_EQUAL(wire_datagram_decode(&d, v->p, v->len), (ssize_t)v->len);
    CU_ASSERT_EQUAL(d.enc.iv_ctr, 1);
    CU_ASSERT_EQUAL(d.enc.payload, v->p + 28);
    CU_ASSERT_EQUAL(d.enc.payload_len, v->len - 28);
}

/*
 * A 5.0.1 -> 5.0.1 -C tfmcc session (spec §1.7, capture-tfmcc.sh): the
 * fields as the reference fills them.
 */
static void test_capture_tfmcc(void)
{
    load_vectors();
    static struct wire_datagram d;
    /* ANNOUNCE: cc_type 2. */
    const struct vec *v = find_vec("uftp5-tfmcc", 1);
    CU_ASSERT_EQUAL(wire_datagram_decode(&d, v->p, v->len), (ssize_t)v->len);
    CU_ASSERT_EQUAL(d.msg.u.announce.cc_type, CC_TFMCC);
    /* First FILESEG: TFMCC_DATA_INFO with the initial rate, round 0 and the
     * "infinite" suppression rate (0xFFFFFFFFFFFF B/s quantised: 0x481e). */
    v = find_vec("uftp5-tfmcc", 5);
    CU_ASSERT_EQUAL(wire_datagram_decode(&d, v->p, v->len), (ssize_t)v->len);
    const struct wire_fileseg *fs = &d.msg.u.fileseg;
    CU_ASSERT_TRUE(fs->has_tfmcc);
    CU_ASSERT_EQUAL(fs->data_len, 1300);
    CU_ASSERT_EQUAL(fs->tfmcc.cc_seq, 0);
    CU_ASSERT_EQUAL(fs->tfmcc.cc_rate, 0x481e);
    CU_ASSERT_EQUAL(quant_rate_encode(0xFFFFFFFFFFFFull), 0x481e);
    CU_ASSERT(quant_rate_decode(0x481e) > 281000000000000ull);
    /* Initial rate: one packet (1300 + 8 + 8 + 16 + 8 + 20 = 1360 bytes) per
     * GRTT as measured at registration (10.3 ms): 131591 B/s. */
    CU_ASSERT_EQUAL(fs->tfmcc.send_rate, 0x21b5);
    CU_ASSERT_EQUAL(quant_rate_decode(fs->tfmcc.send_rate), 131591);
    /* CONG_CTRL in slow start: the CLR first (CLR|RTT|START), then the other (RTT|START). */
    v = find_vec("uftp5-tfmcc", 6);
    CU_ASSERT_EQUAL(wire_datagram_decode(&d, v->p, v->len), (ssize_t)v->len);
    const struct wire_cong_ctrl *cc = &d.msg.u.cong_ctrl;
    CU_ASSERT_EQUAL(cc->cc_seq, 0);
    CU_ASSERT_EQUAL(cc->cc_rate, 0x481e);
    CU_ASSERT_EQUAL(cc->tstamp, 0x00066203a7b04f23ull);
    CU_ASSERT_EQUAL(cc->items.n, 2);
    struct wire_cc_item it = wire_cc_items_get(&cc->items, 0);
    CU_ASSERT_EQUAL(it.id, 0x0a640003u);
    CU_ASSERT_EQUAL(it.flags, FLAG_CC_CLR | FLAG_CC_RTT | FLAG_CC_START);
    it = wire_cc_items_get(&cc->items, 1);
    CU_ASSERT_EQUAL(it.flags, FLAG_CC_RTT | FLAG_CC_START);
    /* The CLR's CC_ACK: flags RTT|START (5.0.1 never sets CLR), the round,
     * its rate, its ID, and the CONG_CTRL timestamp plus 15 µs of holding. */
    v = find_vec("uftp5-tfmcc", 7);
    CU_ASSERT_EQUAL(wire_datagram_decode(&d, v->p, v->len), (ssize_t)v->len);
    const struct wire_cc_ack *ack = &d.msg.u.cc_ack;
    CU_ASSERT_TRUE(ack->has_tfmcc);
    CU_ASSERT_EQUAL(ack->tfmcc.flags, FLAG_CC_RTT | FLAG_CC_START);
    CU_ASSERT_EQUAL(ack->tfmcc.cc_seq, 0);
    CU_ASSERT_EQUAL(ack->tfmcc.client_id, 0x0a640003u);
    CU_ASSERT_EQUAL(ack->tfmcc.tstamp, 0x00066203a7b04f23ull + 15);
    CU_ASSERT_EQUAL(d.hdr.grtt, 0);
    /* After slow start: CLR|RTT for the CLR, RTT for the rest. */
    v = find_vec("uftp5-tfmcc", 9);
    CU_ASSERT_EQUAL(wire_datagram_decode(&d, v->p, v->len), (ssize_t)v->len);
    CU_ASSERT_EQUAL(wire_cc_items_get(&cc->items, 0).flags, FLAG_CC_CLR | FLAG_CC_RTT);
    CU_ASSERT_EQUAL(wire_cc_items_get(&cc->items, 1).flags, FLAG_CC_RTT);
    /* STATUS carries TFMCC_ACK_INFO (RTT only) before its NAK bitmap. */
    v = find_vec("uftp5-tfmcc", 12);
    CU_ASSERT_EQUAL(wire_datagram_decode(&d, v->p, v->len), (ssize_t)v->len);
    CU_ASSERT_TRUE(d.msg.u.status.has_tfmcc);
    CU_ASSERT_EQUAL(d.msg.u.status.tfmcc.flags, FLAG_CC_RTT);
    CU_ASSERT_EQUAL(d.msg.u.status.tfmcc.client_id, 0x0a640003u);
}

/* One message of every type, through the dispatcher, in both versions. */
static void test_dispatch_all(void)
{
    static uint8_t blob[68];
    static const uint32_t ids[] = {1, 2};
    static struct wire_msg m, d;
    for (int vi = 0; vi < 2; vi++) {
        uint8_t ver = vi ? UFTP_VER4 : UFTP_VER5;
        for (int f = 1; f <= CC_ACK; f++) {
            if (f == ENCRYPTED || (f == KEY_REQ && ver == UFTP_VER5))
                continue;
            memset(&m, 0, sizeof(m));
            m.func = (uint8_t)f;
            /* ver is the first member of every message struct. */
            memcpy(&m.u, &ver, 1);
            switch (f) {
            case REGISTER:
                m.u.reg.ids = wire_ids_of(ids, 2);
                m.u.reg.dhblob = blob;
                m.u.reg.dhlen = 68;
                break;
            case KEYINFO_ACK:
                m.u.keyinfo_ack.verify = blob;
                m.u.keyinfo_ack.verify_len = 12;
                break;
            case FILEINFO:
                m.u.fileinfo.name = "x";
                m.u.fileinfo.name_len = 1;
                break;
            case ABORT:
                snprintf(m.u.abort.text, sizeof(m.u.abort.text), "bye");
                break;
            default:
                break;
            }
            ssize_t n = wire_msg_encode(wt_buf, WT_MAX, &m);
            CU_ASSERT(n > 0);
            CU_ASSERT_EQUAL(wt_buf[0], f);
            CU_ASSERT_EQUAL(wire_msg_decode(&d, ver, wt_buf, (size_t)n), n);
            CU_ASSERT_EQUAL(d.func, f);
            CU_ASSERT_FALSE(wire_msg_lossy(&d));
            CU_ASSERT_EQUAL(wire_msg_encode(wt_buf2, WT_MAX, &d), n);
            CU_ASSERT(memcmp(wt_buf, wt_buf2, (size_t)n) == 0);
            /* And as a whole datagram. */
            struct wire_datagram dg = {.hdr = {ver, (uint8_t)f, 7, 1, 2, 0, 0x9d, 0x18}};
            dg.msg = m;
            ssize_t dn = wire_datagram_encode(wt_buf2, WT_MAX, &dg);
            CU_ASSERT_EQUAL(dn, n + 16);
            for (size_t cap = 0; cap < (size_t)dn; cap++)
                CU_ASSERT_EQUAL(wire_datagram_encode(wt_buf2, cap, &dg), WIRE_ENOSPC);
        }
    }
    /* KEY_REQ is v4 only; ENCRYPTED and unknown types are not messages. */
    uint8_t kr[4] = {KEY_REQ, 1, 0, 0};
    CU_ASSERT_EQUAL(wire_msg_decode(&d, UFTP_VER5, kr, 4), WIRE_EVERSION);
    CU_ASSERT_EQUAL(wire_msg_decode(&d, UFTP_VER4, kr, 4), 4);
    static const uint8_t bad[] = {0, ENCRYPTED, 22, 0x80, 0xff};
    for (size_t i = 0; i < sizeof(bad); i++) {
        uint8_t p[8] = {bad[i], 2};
        CU_ASSERT_EQUAL(wire_msg_decode(&d, UFTP_VER5, p, 8), WIRE_EFUNC);
    }
    CU_ASSERT_EQUAL(wire_msg_decode(&d, UFTP_VER5, kr, 0), WIRE_ETRUNC);
    CU_ASSERT_EQUAL(wire_msg_decode(&d, 0x30, kr, 4), WIRE_EVERSION);
    m.func = ENCRYPTED;
    CU_ASSERT_EQUAL(wire_msg_encode(wt_buf, WT_MAX, &m), WIRE_EFUNC);
}

static void test_datagram_errors(void)
{
    load_vectors();
    static struct wire_datagram d;
    const struct vec *v = find_vec("uftp5-noenc", 3); /* REG_CONF */
    memcpy(wt_buf, v->p, v->len);
    /* Short of a header, wrong version, func mismatch, header reserved byte. */
    for (size_t k = 0; k < 16; k++)
        CU_ASSERT_EQUAL(wire_datagram_decode(&d, wt_buf, k), WIRE_ETRUNC);
    CU_ASSERT_EQUAL(wire_datagram_decode(&d, wt_buf, 16), WIRE_ETRUNC);
    wt_buf[0] = 0x30;
    CU_ASSERT_EQUAL(wire_datagram_decode(&d, wt_buf, v->len), WIRE_EVERSION);
    wt_buf[0] = 0x50;
    wt_buf[1] = DONE_CONF;
    CU_ASSERT_EQUAL(wire_datagram_decode(&d, wt_buf, v->len), WIRE_EFUNC);
    wt_buf[1] = REG_CONF;
    wt_buf[15] = 1;
    CU_ASSERT_EQUAL(wire_datagram_decode(&d, wt_buf, v->len), (ssize_t)v->len);
    CU_ASSERT_TRUE(wire_datagram_lossy(&d));
    /* A cleartext datagram with an unknown type. */
    wt_buf[1] = wt_buf[16] = 30;
    CU_ASSERT_EQUAL(wire_datagram_decode(&d, wt_buf, v->len), WIRE_EFUNC);
    /* ENCRYPTED: the length must be exact. */
    v = find_vec("uftp5-aes256gcm", 4);
    memcpy(wt_buf, v->p, v->len);
    wt_buf[v->len] = 0;
    CU_ASSERT_EQUAL(wire_datagram_decode(&d, wt_buf, v->len + 1), WIRE_ETRAIL);
    CU_ASSERT_EQUAL(wire_datagram_decode(&d, wt_buf, v->len - 1), WIRE_ETRUNC);
    /* Encode: header and message must agree. */
    CU_ASSERT_EQUAL(wire_datagram_decode(&d, wt_buf, v->len), (ssize_t)v->len);
    d.enc.ver = UFTP_VER4;
    CU_ASSERT_EQUAL(wire_datagram_encode(wt_buf2, WT_MAX, &d), WIRE_EINVAL);
    v = find_vec("uftp5-noenc", 3);
    CU_ASSERT_EQUAL(wire_datagram_decode(&d, v->p, v->len), (ssize_t)v->len);
    d.hdr.func = DONE;
    CU_ASSERT_EQUAL(wire_datagram_encode(wt_buf2, WT_MAX, &d), WIRE_EINVAL);
    d.hdr.func = REG_CONF;
    d.msg.u.reg_conf.ids.be = NULL; /* nothing behind the list */
    CU_ASSERT_EQUAL(wire_datagram_encode(wt_buf2, 3, &d), WIRE_EINVAL);
    d.hdr.version = d.msg.u.reg_conf.ver = 0x30;
    CU_ASSERT_EQUAL(wire_datagram_encode(wt_buf2, WT_MAX, &d), WIRE_EVERSION);
}

static void free_vectors(void)
{
    for (size_t i = 0; i < nvecs; i++)
        free(vecs[i].p);
    nvecs = 0;
}

static const struct cu_test msg_tests[] = {
    {"capture datagrams decode and re-encode identically", test_capture_vectors},
    {"capture datagrams' decoded fields", test_capture_fields},
    {"TFMCC fields of a captured -C tfmcc session", test_capture_tfmcc},
    {"every message type through the dispatcher", test_dispatch_all},
    {"datagram-level errors", test_datagram_errors},
    {"(free vectors)", free_vectors},
    {NULL, NULL},
};

CU_MAIN({"wire/msg", msg_tests})
