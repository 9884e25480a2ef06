#include "core/wire/announce.h"
#include "wiretest.h"

CODEC(wire_announce, 4)
CODEC(wire_register, 4)
CODEC(wire_client_key, 0)
CODEC(wire_reg_conf, 4)
CODEC(wire_keyinfo, WIRE_DESTKEY_LEN)
CODEC(wire_keyinfo_ack, 0)

static uint8_t ecblob[68], dhblob[68], sig[68], rsablob[136];
static const uint8_t rand32[32] = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15, 16,
                                   17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};
static const uint32_t ids3[] = {0x0a4d010b, 0, 0xffffffff};

static void init_blobs(void)
{
    /* EC blob (spec §1.3): type 2, curve 23, keylen 64, X‖Y. Opaque to the codec. */
    ecblob[0] = KEYBLOB_EC;
    ecblob[1] = CURVE_P256;
    ecblob[3] = 64;
    for (int i = 4; i < 68; i++)
        ecblob[i] = (uint8_t)i;
    memcpy(dhblob, ecblob, sizeof(dhblob));
    dhblob[4] = 0xdd;
    sig[1] = 32;
    sig[3] = 32;
    for (int i = 4; i < 68; i++)
        sig[i] = (uint8_t)(0x80 + i);
    rsablob[0] = KEYBLOB_RSA;
    rsablob[2] = 0;
    rsablob[3] = 128;
    rsablob[7] = 3;
}

static struct wire_enc_info enc_info(uint8_t ver)
{
    struct wire_enc_info e = {.ver = ver,
                              .flags = FLAG_CLIENT_AUTH,
                              .keytype = KEY_AES256_GCM,
                              .hashtype = HASH_SHA256,
                              .keyblob = ecblob,
                              .keylen = sizeof(ecblob),
                              .dhblob = dhblob,
                              .dhlen = sizeof(dhblob),
                              .sig = sig,
                              .siglen = sizeof(sig)};
    if (ver == UFTP_VER4) {
        e.keyextype = KEYEX_ECDH_ECDSA;
        e.sigtype = SIG_AUTHENC;
    }
    memcpy(e.rand1, rand32, 32);
    return e;
}

static void test_announce_roundtrip(void)
{
    init_blobs();
    static const uint8_t ver[] = {UFTP_VER5, UFTP_VER4};
    for (int v = 0; v < 2; v++) {
        /* Open group, IPv4, no encryption: the shape of the noenc captures. */
        struct wire_announce a = {.ver = ver[v],
                                  .robust = 20,
                                  .blocksize = 1300,
                                  .tstamp = 0x000660f65aa4c5ecull,
                                  .pub_addr = {230, 4, 4, 1},
                                  .priv_addr = {230, 5, 5, 146}};
        check_codec(&wire_announce_codec, &a, NULL, 0);
        /* Closed group, IPv6, encrypted, sync mode, TFMCC. */
        a.flags = FLAG_IPV6 | FLAG_SYNC_MODE;
        a.cc_type = CC_TFMCC;
        memset(a.pub_addr, 0xff, 16);
        memset(a.priv_addr, 0xee, 16);
        a.has_enc = true;
        a.enc = enc_info(ver[v]);
        a.ids = wire_ids_of(ids3, 3);
        check_codec(&wire_announce_codec, &a, NULL, 0);
        /* Unicast mode: both addresses zero; RSA key, big signature. */
        memset(a.pub_addr, 0, 16);
        memset(a.priv_addr, 0, 16);
        a.enc.keyblob = rsablob;
        a.enc.keylen = sizeof(rsablob);
        a.enc.sig = NULL; /* placeholder: zeros, to be signed */
        a.enc.siglen = 128;
        check_codec(&wire_announce_codec, &a, NULL, 0);
    }
}

static void test_announce_layout(void)
{
    init_blobs();
    struct wire_announce a = {.ver = UFTP_VER4,
                              .flags = 0,
                              .robust = 20,
                              .cc_type = 0,
                              .blocksize = 1300,
                              .tstamp = 0x6b048fceull * 1000000 + 0x99f1c,
                              .pub_addr = {230, 4, 4, 1},
                              .priv_addr = {230, 5, 5, 246}};
    uint32_t id = 0x0a4d010b;
    a.ids = wire_ids_of(&id, 1);
    /* From uftp4-noenc.pcapng frame 1 (after the UFTP header). */
    uint8_t want[64];
    size_t n = wt_unhex("01060014000005146b048fce00099f1ce6040401e60505f60a4d010b", want, 64);
    check_codec(&wire_announce_codec, &a, want, n);

    /* v4 EXT_ENC_INFO byte 3 = keyextype<<4 | sigtype (spec §1.9). */
    a.has_enc = true;
    a.enc = enc_info(UFTP_VER4);
    size_t len = wt_encode(&wire_announce_codec, &a, wt_buf);
    CU_ASSERT_EQUAL(len, 24 + 44 + 3 * 68 + 4);
    CU_ASSERT_EQUAL(wt_buf[1], (24 + 44 + 3 * 68) / 4);
    CU_ASSERT_EQUAL(wt_buf[24], EXT_ENC_INFO);
    CU_ASSERT_EQUAL(wt_buf[25], (44 + 3 * 68) / 4);
    CU_ASSERT_EQUAL(wt_buf[26], FLAG_CLIENT_AUTH);
    CU_ASSERT_EQUAL(wt_buf[27], 0x33);
    CU_ASSERT_EQUAL(wt_buf[28], KEY_AES256_GCM);
    CU_ASSERT_EQUAL(wt_buf[29], HASH_SHA256);
    CU_ASSERT_EQUAL(be16_get(wt_buf + 30), 68);
    CU_ASSERT_EQUAL(be16_get(wt_buf + 32), 68);
    CU_ASSERT_EQUAL(be16_get(wt_buf + 34), 68);
    CU_ASSERT(memcmp(wt_buf + 36, rand32, 32) == 0);
    CU_ASSERT(memcmp(wt_buf + 68, ecblob, 68) == 0);
    CU_ASSERT(memcmp(wt_buf + 68 + 136, sig, 68) == 0);
    struct wire_announce *d = wt_decode(&wire_announce_codec, UFTP_VER4, wt_buf, len);
    CU_ASSERT_TRUE(d->has_enc);
    CU_ASSERT_EQUAL(d->enc.keyextype, KEYEX_ECDH_ECDSA);
    CU_ASSERT_EQUAL(d->enc.sigtype, SIG_AUTHENC);
    CU_ASSERT_EQUAL(d->enc.raw, wt_buf + 24);
    CU_ASSERT_EQUAL(d->enc.raw_len, 44 + 3 * 68);
    CU_ASSERT_EQUAL(d->enc.sig, wt_buf + 68 + 136);
    CU_ASSERT_EQUAL(d->ids.n, 1);
    CU_ASSERT_EQUAL(wire_ids_get(&d->ids, 0), id);
    CU_ASSERT_FALSE(d->lossy);
    /* The same bytes read as v5: byte 3 is reserved, so lossy and ignored. */
    d = wt_decode(&wire_announce_codec, UFTP_VER5, wt_buf, len);
    CU_ASSERT_EQUAL(d->enc.keyextype, 0);
    CU_ASSERT_TRUE(d->lossy);
    /* v5 refuses to encode v4-only fields. */
    a.ver = UFTP_VER5;
    CU_ASSERT_EQUAL(wire_announce_encode(wt_buf, WT_MAX, &a), WIRE_EINVAL);
}

static void test_enc_info_errors(void)
{
    init_blobs();
    struct wire_announce a = {.ver = UFTP_VER5, .blocksize = 1300, .has_enc = true};
    a.enc = enc_info(UFTP_VER5);
    size_t len = wt_encode(&wire_announce_codec, &a, wt_buf);
    const size_t ext = 24;
    struct wire_announce *d;
    /* extlen*4 must equal 44 + keylen + dhlen + siglen. */
    be16_put(wt_buf + ext + 10, 67);
    CU_ASSERT_EQUAL(wire_announce_decode(wt_fresh(&wire_announce_codec, UFTP_VER5), wt_buf, len),
                    WIRE_ECOUNT);
    be16_put(wt_buf + ext + 10, 0xffff); /* oversized */
    CU_ASSERT_EQUAL(wire_announce_decode(wt_fresh(&wire_announce_codec, UFTP_VER5), wt_buf, len),
                    WIRE_ECOUNT);
    be16_put(wt_buf + ext + 10, 68);
    /* extlen 0, past hlen, and below the fixed 44 bytes. */
    uint8_t el = wt_buf[ext + 1];
    wt_buf[ext + 1] = 0;
    CU_ASSERT_EQUAL(wire_announce_decode(wt_fresh(&wire_announce_codec, UFTP_VER5), wt_buf, len),
                    WIRE_EHLEN);
    wt_buf[ext + 1] = (uint8_t)(el + 1);
    CU_ASSERT_EQUAL(wire_announce_decode(wt_fresh(&wire_announce_codec, UFTP_VER5), wt_buf, len),
                    WIRE_EHLEN);
    wt_buf[ext + 1] = 10;
    CU_ASSERT(wire_announce_decode(wt_fresh(&wire_announce_codec, UFTP_VER5), wt_buf, len) < 0);
    wt_buf[ext + 1] = el;
    d = wt_decode(&wire_announce_codec, UFTP_VER5, wt_buf, len);
    CU_ASSERT_FALSE(d->lossy);
    /* hlen below 16 + 2·iplen; hlen beyond the datagram. */
    uint8_t hl = wt_buf[1];
    wt_buf[1] = 5;
    CU_ASSERT_EQUAL(wire_announce_decode(wt_fresh(&wire_announce_codec, UFTP_VER5), wt_buf, 20),
                    WIRE_EHLEN);
    wt_buf[1] = 3;
    CU_ASSERT_EQUAL(wire_announce_decode(wt_fresh(&wire_announce_codec, UFTP_VER5), wt_buf, len),
                    WIRE_EHLEN);
    wt_buf[1] = (uint8_t)(hl + 1);
    CU_ASSERT_EQUAL(wire_announce_decode(wt_fresh(&wire_announce_codec, UFTP_VER5), wt_buf, len),
                    WIRE_ETRUNC);
    wt_buf[1] = hl;
    /* The standalone extension codec agrees. */
    struct wire_enc_info e = {.ver = UFTP_VER5};
    CU_ASSERT_EQUAL(wire_enc_info_decode(&e, wt_buf + ext, len - ext), 44 + 3 * 68);
    CU_ASSERT_EQUAL(e.siglen, 68);
    CU_ASSERT_EQUAL(wire_enc_info_encode(wt_buf2, WT_MAX, &e), 44 + 3 * 68);
    CU_ASSERT(memcmp(wt_buf2, wt_buf + ext, 44 + 3 * 68) == 0);
    e.ver = UFTP_VER5;
    CU_ASSERT_EQUAL(wire_enc_info_decode(&e, wt_buf + 1, len - 1), WIRE_EFUNC);
    /* Encode: lengths that do not add up to whole words, or over 1020 bytes. */
    e.keylen = 67;
    CU_ASSERT_EQUAL(wire_enc_info_encode(wt_buf2, WT_MAX, &e), WIRE_EINVAL);
    e.keylen = 1000;
    CU_ASSERT_EQUAL(wire_enc_info_encode(wt_buf2, WT_MAX, &e), WIRE_EINVAL);
    a.enc.keylen = 836; /* ENC_INFO fits (1016 bytes), ANNOUNCE (1040) does not */
    a.enc.keyblob = NULL;
    CU_ASSERT_EQUAL(wire_announce_encode(wt_buf2, WT_MAX, &a), WIRE_EINVAL);
    CU_ASSERT_EQUAL(wire_announce_encode(wt_buf2, 3, &a), WIRE_EINVAL);
}

static void test_announce_extensions(void)
{
    init_blobs();
    /* Build: ANNOUNCE + unknown ext (type 9, 2 words) + ENC_INFO, by hand. */
    struct wire_announce a = {.ver = UFTP_VER5, .blocksize = 1300, .has_enc = true};
    a.enc = enc_info(UFTP_VER5);
    size_t len = wt_encode(&wire_announce_codec, &a, wt_buf);
    uint8_t *p = wt_buf2;
    memcpy(p, wt_buf, 24);
    p[1] = (uint8_t)(wt_buf[1] + 2);
    memcpy(p + 24, "\x09\x02\xaa\xbb\xcc\xdd\xee\xff", 8);
    memcpy(p + 32, wt_buf + 24, len - 24);
    struct wire_announce *d = wt_decode(&wire_announce_codec, UFTP_VER5, p, len + 8);
    CU_ASSERT_TRUE(d->has_enc);
    CU_ASSERT_TRUE(d->lossy); /* skipped, not re-encoded */
    CU_ASSERT_EQUAL(d->enc.siglen, 68);
    /* A second ENC_INFO is refused. */
    memcpy(p, wt_buf, len);
    memcpy(p + len, wt_buf + 24, len - 24);
    p[1] = (uint8_t)(wt_buf[1] + (len - 24) / 4);
    CU_ASSERT_EQUAL(
        wire_announce_decode(wt_fresh(&wire_announce_codec, UFTP_VER5), p, len + len - 24),
        WIRE_ERANGE);
    /* An extension header cut by hlen: 2 words claimed, 1 left. */
    memcpy(p, wt_buf, 24);
    p[1] = 7;
    memcpy(p + 24, "\x09\x02\x00\x00", 4);
    CU_ASSERT_EQUAL(wire_announce_decode(wt_fresh(&wire_announce_codec, UFTP_VER5), p, 28),
                    WIRE_EHLEN);
    /* A body that is not whole IDs. */
    a.has_enc = false;
    len = wt_encode(&wire_announce_codec, &a, wt_buf);
    for (int extra = 1; extra < 4; extra++)
        CU_ASSERT_EQUAL(
            wire_announce_decode(wt_fresh(&wire_announce_codec, UFTP_VER5), wt_buf, len + extra),
            WIRE_ETRAIL);
    /* A v4 timestamp past 2106 cannot be encoded. */
    a.ver = UFTP_VER4;
    a.tstamp = (UINT64_C(1) << 32) * 1000000;
    CU_ASSERT_EQUAL(wire_announce_encode(wt_buf, WT_MAX, &a), WIRE_EINVAL);
    /* An ID list with nothing behind it. */
    a.ver = UFTP_VER5;
    a.ids.n = 2;
    CU_ASSERT_EQUAL(wire_announce_encode(wt_buf, WT_MAX, &a), WIRE_EINVAL);
}

static void test_register(void)
{
    init_blobs();
    struct wire_register r = {.ver = UFTP_VER5, .tstamp = 0x000660f65aa4c689ull};
    /* From uftp5-noenc.pcapng frame 2. */
    uint8_t want[64];
    size_t n = wt_unhex("020b0000000660f65aa4c689" /* rand2: zeros */
                        "0000000000000000000000000000000000000000000000000000000000000000",
                        want, 64);
    check_codec(&wire_register_codec, &r, want, n);
    r.dhblob = dhblob;
    r.dhlen = sizeof(dhblob);
    memcpy(r.rand2, rand32, 32);
    r.ids = wire_ids_of(ids3, 3);
    check_codec(&wire_register_codec, &r, NULL, 0);
    r.ver = UFTP_VER4;
    r.tstamp = 1700000000ull * 1000000 + 999999;
    check_codec(&wire_register_codec, &r, NULL, 0);
    size_t len = wt_encode(&wire_register_codec, &r, wt_buf);
    CU_ASSERT_EQUAL(be32_get(wt_buf + 4), 1700000000u);
    CU_ASSERT_EQUAL(be32_get(wt_buf + 8), 999999u);
    /* An unnormalised v4 timeval is accepted but lossy. */
    be32_put(wt_buf + 8, 1000000);
    struct wire_register *d = wt_decode(&wire_register_codec, UFTP_VER4, wt_buf, len);
    CU_ASSERT_EQUAL(d->tstamp, 1700000001ull * 1000000);
    CU_ASSERT_TRUE(d->lossy);
    /* ...unless it normalises past 2106: then it could not be encoded again. */
    be32_put(wt_buf + 4, UINT32_MAX);
    CU_ASSERT_EQUAL(wire_register_decode(wt_fresh(&wire_register_codec, UFTP_VER4), wt_buf, len),
                    WIRE_ERANGE);
    be32_put(wt_buf + 8, 999999);
    d = wt_decode(&wire_register_codec, UFTP_VER4, wt_buf, len);
    CU_ASSERT_EQUAL(d->tstamp, UINT64_C(4294967295999999));
    /* dhlen beyond hlen. */
    be32_put(wt_buf + 8, 0);
    be16_put(wt_buf + 2, 69);
    CU_ASSERT_EQUAL(wire_register_decode(wt_fresh(&wire_register_codec, UFTP_VER4), wt_buf, len),
                    WIRE_ECOUNT);
    /* A blob that is not whole words is padded with zeros; nonzero padding is lossy. */
    r.dhlen = 65;
    len = wt_encode(&wire_register_codec, &r, wt_buf);
    CU_ASSERT_EQUAL(wt_buf[1], (44 + 68) / 4);
    check_codec(&wire_register_codec, &r, NULL, 0);
    wt_buf[44 + 66] = 1;
    d = wt_decode(&wire_register_codec, UFTP_VER4, wt_buf, len);
    CU_ASSERT_TRUE(d->lossy);
    CU_ASSERT_EQUAL(d->dhlen, 65);
    /* hlen too big for a byte. */
    r.dhlen = 1000;
    CU_ASSERT_EQUAL(wire_register_encode(wt_buf, WT_MAX, &r), WIRE_EINVAL);
}

static void test_client_key(void)
{
    init_blobs();
    struct wire_client_key k = {
        .ver = UFTP_VER5, .keyblob = ecblob, .keylen = 68, .sig = sig, .siglen = 68};
    uint8_t want[8 + 136];
    memcpy(want, "\x03\x24\x00\x00\x00\x44\x00\x44", 8);
    memcpy(want + 8, ecblob, 68);
    memcpy(want + 76, sig, 68);
    check_codec(&wire_client_key_codec, &k, want, sizeof(want));
    k.ver = UFTP_VER4;
    check_codec(&wire_client_key_codec, &k, want, sizeof(want));
    /* The C_ctx2 form: signature zeroed (spec §1.8). */
    k.sig = NULL;
    size_t n = wt_encode(&wire_client_key_codec, &k, wt_buf);
    CU_ASSERT_EQUAL(n, sizeof(want));
    CU_ASSERT(memcmp(wt_buf, want, 76) == 0);
    bool zero = true;
    for (size_t i = 76; i < n; i++)
        zero &= wt_buf[i] == 0;
    CU_ASSERT(zero);
    /* keylen + siglen beyond hlen. */
    be16_put(want + 6, 69);
    CU_ASSERT_EQUAL(
        wire_client_key_decode(wt_fresh(&wire_client_key_codec, UFTP_VER5), want, sizeof(want)),
        WIRE_ECOUNT);
}

static void test_reg_conf(void)
{
    struct wire_reg_conf r = {.ver = UFTP_VER5};
    uint32_t id = 0x0a4d010b;
    r.ids = wire_ids_of(&id, 1);
    uint8_t want[8];
    size_t n = wt_unhex("040100000a4d010b", want, 8);
    check_codec(&wire_reg_conf_codec, &r, want, n);
    r.ver = UFTP_VER4;
    check_codec(&wire_reg_conf_codec, &r, want, n);
    r.ids.n = 0;
    check_codec(&wire_reg_conf_codec, &r, want, 4);
    /* An unknown, well-formed extension inside hlen is skipped. */
    uint8_t ext[12] = {REG_CONF, 2, 0, 0, 0x42, 1, 0, 0, 0x0a, 0x4d, 0x01, 0x0b};
    struct wire_reg_conf *d = wt_decode(&wire_reg_conf_codec, UFTP_VER5, ext, sizeof(ext));
    CU_ASSERT_TRUE(d->lossy);
    CU_ASSERT_EQUAL(d->ids.n, 1);
    /* Nonzero reserved bytes are ignored but make the decode lossy. */
    ext[1] = 1;
    ext[2] = 0x80;
    d = wt_decode(&wire_reg_conf_codec, UFTP_VER5, ext, 8);
    CU_ASSERT_TRUE(d->lossy);
    CU_ASSERT_EQUAL(d->ids.n, 1);
    CU_ASSERT_EQUAL(wire_ids_get(&d->ids, 0), 0x42010000u);
}

static void test_keyinfo(void)
{
    init_blobs();
    struct wire_destkey keys[3];
    for (int i = 0; i < 3; i++) {
        keys[i].id = 0x0a000001u + (uint32_t)i;
        memset(keys[i].master, 0x30 + i, sizeof(keys[i].master));
    }
    struct wire_keyinfo k = {.ver = UFTP_VER5, .iv_ctr = 1, .sig = sig, .siglen = 68};
    k.keys.host = keys;
    k.keys.n = 3;
    check_codec(&wire_keyinfo_codec, &k, NULL, 0);
    size_t n = wt_encode(&wire_keyinfo_codec, &k, wt_buf);
    CU_ASSERT_EQUAL(n, 80 + 3 * 52);
    CU_ASSERT(memcmp(wt_buf, "\x05\x14\x00\x44\x00\x00\x00\x00\x00\x00\x00\x01", 12) == 0);
    struct wire_keyinfo *d = wt_decode(&wire_keyinfo_codec, UFTP_VER5, wt_buf, n);
    CU_ASSERT_EQUAL(d->keys.n, 3);
    CU_ASSERT_EQUAL(d->keys.be, wt_buf + 80);
    CU_ASSERT_PTR_EQUAL(wire_destkeys_find(&d->keys, 0x0a000002), wt_buf + 80 + 52 + 4);
    CU_ASSERT_PTR_NULL(wire_destkeys_find(&d->keys, 0x0a000004));
    struct wire_destkey got;
    wire_destkeys_get(&d->keys, 2, &got);
    CU_ASSERT_EQUAL(got.id, 0x0a000003u);
    CU_ASSERT(memcmp(got.master, keys[2].master, 48) == 0);
    CU_ASSERT_PTR_EQUAL(wire_destkeys_find(&k.keys, 0x0a000001), keys[0].master);
    /* v4: no signature, bytes 2-3 reserved. */
    k.ver = UFTP_VER4;
    CU_ASSERT_EQUAL(wire_keyinfo_encode(wt_buf, WT_MAX, &k), WIRE_EINVAL);
    k.sig = NULL;
    k.siglen = 0;
    k.keys.n = 1;
    uint8_t want[64];
    size_t wn = wt_unhex("05030000 0000000000000001 0a000001", want, 64);
    memset(want + wn, 0x30, 48);
    check_codec(&wire_keyinfo_codec, &k, want, wn + 48);
    /* Entries that are not whole 52-byte records. */
    n = wt_encode(&wire_keyinfo_codec, &k, wt_buf);
    CU_ASSERT_EQUAL(wire_keyinfo_decode(wt_fresh(&wire_keyinfo_codec, UFTP_VER4), wt_buf, n - 4),
                    WIRE_ETRAIL);
    CU_ASSERT_EQUAL(wire_max_destkeys(1300), 25);
    CU_ASSERT_EQUAL(wire_max_destkeys(8800), 169);
}

static void test_keyinfo_ack(void)
{
    uint8_t verify[64];
    for (int i = 0; i < 64; i++)
        verify[i] = (uint8_t)(0xc0 + i);
    /* v5: verify_len = hash length (32/48/64). */
    for (int h = 32; h <= 64; h += 16) {
        struct wire_keyinfo_ack a = {.ver = UFTP_VER5, .verify = verify, .verify_len = (uint16_t)h};
        uint8_t want[68] = {KEYINFO_ACK, (uint8_t)(1 + h / 4), 0, (uint8_t)h};
        memcpy(want + 4, verify, (size_t)h);
        check_codec(&wire_keyinfo_ack_codec, &a, want, 4 + (size_t)h);
    }
    /* v4: reserved then 12 bytes (spec §1.9). */
    struct wire_keyinfo_ack a = {.ver = UFTP_VER4, .verify = verify, .verify_len = 12};
    uint8_t want[16] = {KEYINFO_ACK, 4, 0, 0};
    memcpy(want + 4, verify, 12);
    check_codec(&wire_keyinfo_ack_codec, &a, want, 16);
    a.verify_len = 32;
    CU_ASSERT_EQUAL(wire_keyinfo_ack_encode(wt_buf, WT_MAX, &a), WIRE_EINVAL);
    /* v4 with hlen 3 cannot hold the 12 bytes. */
    want[1] = 3;
    CU_ASSERT_EQUAL(wire_keyinfo_ack_decode(wt_fresh(&wire_keyinfo_ack_codec, UFTP_VER4), want, 12),
                    WIRE_EHLEN);
    /* v5 verify_len beyond hlen. */
    uint8_t bad[8] = {KEYINFO_ACK, 2, 0, 5, 1, 2, 3, 4};
    CU_ASSERT_EQUAL(wire_keyinfo_ack_decode(wt_fresh(&wire_keyinfo_ack_codec, UFTP_VER5), bad, 8),
                    WIRE_ECOUNT);
    /* 5.0.1 clients send verify_len 0 and hlen = 1 + hash_len / 4: the data is the rest. */
    uint8_t ref[36] = {KEYINFO_ACK, 9, 0, 0};
    memcpy(ref + 4, verify, 32);
    struct wire_keyinfo_ack d = {.ver = UFTP_VER5};
    CU_ASSERT_EQUAL(wire_keyinfo_ack_decode(&d, ref, sizeof(ref)), 36);
    CU_ASSERT_EQUAL(d.verify_len, 32);
    CU_ASSERT_PTR_EQUAL(d.verify, ref + 4);
    CU_ASSERT_TRUE(d.lossy);
}

static const struct cu_test announce_tests[] = {
    {"ANNOUNCE round trips (v5, v4, IPv6, encrypted, closed)", test_announce_roundtrip},
    {"ANNOUNCE and EXT_ENC_INFO layout", test_announce_layout},
    {"EXT_ENC_INFO length errors", test_enc_info_errors},
    {"ANNOUNCE extensions and bodies", test_announce_extensions},
    {"REGISTER", test_register},
    {"CLIENT_KEY", test_client_key},
    {"REG_CONF", test_reg_conf},
    {"KEYINFO v5 and v4", test_keyinfo},
    {"KEYINFO_ACK v5 and v4", test_keyinfo_ack},
    {NULL, NULL},
};

CU_MAIN({"wire/announce", announce_tests})
