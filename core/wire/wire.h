/*
 * Protocol constants (spec §1.2), codec error codes, and the common 16-byte
 * UFTP header (spec §1.1).
 *
 * Codec convention (DESIGN.md "Wire code"), used by every message module:
 *   ssize_t X_decode(struct X *m, const uint8_t *p, size_t len);
 *       returns bytes consumed (> 0) or a negative WIRE_E* code;
 *   ssize_t X_encode(uint8_t *out, size_t cap, const struct X *m);
 *       returns bytes written or a negative WIRE_E* code.
 * Decoded structs may point into the datagram (no copies, no allocation);
 * they are valid only as long as the datagram buffer is.
 *
 * The message codecs live one family per file (announce.h, fileinfo.h,
 * transfer.h, cc.h, abort.h, heartbeat.h, proxykey.h, encrypted.h, fec.h, with
 * ids.h for ID lists); msg.h has the tagged union, the dispatcher and the
 * datagram decoder. announce.h states the conventions they all share.
 */
#ifndef UFTP_WIRE_H
#define UFTP_WIRE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Errors: negative, so they never collide with a byte count. */
enum wire_err {
    WIRE_OK = 0,
    WIRE_ETRUNC = -1,   /* datagram shorter than a field it must hold */
    WIRE_EHLEN = -2,    /* hlen / extlen inconsistent with the datagram */
    WIRE_EVERSION = -3, /* unknown protocol version */
    WIRE_EFUNC = -4,    /* wrong or unknown message type */
    WIRE_ECOUNT = -5,   /* a count or length field exceeds what fits */
    WIRE_ERANGE = -6,   /* a field value outside its allowed set */
    WIRE_ETRAIL = -7,   /* trailing bytes after a complete message */
    WIRE_ENOSPC = -8,   /* encode: output buffer too small */
    WIRE_EINVAL = -9,   /* encode: the struct itself is inconsistent */
};

const char *wire_strerror(int err);

#define UFTP_VER5 0x50
#define UFTP_VER4 0x40

#define UFTP_HDR_LEN 16
#define UFTP_PORT    1044
/* Largest datagram any role accepts: block size 8800 + headers (MAXMTU 9000). */
#define UFTP_MAX_DATAGRAM  9000
#define UFTP_MIN_BLOCKSIZE 512
#define UFTP_MAX_BLOCKSIZE 8800
#define UFTP_DEF_BLOCKSIZE 1300

enum uftp_func {
    ANNOUNCE = 1,
    REGISTER = 2,
    CLIENT_KEY = 3,
    REG_CONF = 4,
    KEYINFO = 5,
    KEYINFO_ACK = 6,
    FILEINFO = 7,
    FILEINFO_ACK = 8,
    FILESEG = 9,
    DONE = 10,
    STATUS = 11,
    COMPLETE = 12,
    DONE_CONF = 13,
    HB_REQ = 14,
    HB_RESP = 15,
    KEY_REQ = 16, /* v4 only */
    PROXY_KEY = 17,
    ENCRYPTED = 18,
    ABORT = 19,
    CONG_CTRL = 20,
    CC_ACK = 21,
    /* Ours (issue 17, spec "FEC extension (ours)"): unknown to the reference. */
    FEC_PARITY = 0xF1,
};

const char *wire_func_name(int func);

enum uftp_keytype {
    KEY_NONE = 0,
    KEY_DES = 1, /* obsolete */
    KEY_DES_EDE3 = 2,
    KEY_AES128_CBC = 3, /* v4 group-master wrapping only */
    KEY_AES256_CBC = 4,
    KEY_AES128_GCM = 5,
    KEY_AES256_GCM = 6,
    KEY_AES128_CCM = 7,
    KEY_AES256_CCM = 8,
};

enum uftp_hashtype {
    HASH_NONE = 0,
    HASH_MD5 = 1,  /* obsolete */
    HASH_SHA1 = 2, /* v4 KDF, fingerprints and heartbeats only */
    HASH_SHA256 = 3,
    HASH_SHA384 = 4,
    HASH_SHA512 = 5,
};

enum uftp_blobtype {
    KEYBLOB_RSA = 1,
    KEYBLOB_EC = 2,
};

/* TLS named-group numbers used in EC key blobs. */
enum uftp_curve {
    CURVE_P256 = 23,
    CURVE_P384 = 24,
    CURVE_P521 = 25,
};

/* v4 EXT_ENC_INFO byte 3: keyextype << 4 | sigtype. */
enum uftp_v4_sigtype {
    SIG_NONE = 0,
    SIG_HMAC = 1,
    SIG_KEYEX = 2,
    SIG_AUTHENC = 3,
};
enum uftp_v4_keyextype {
    KEYEX_NONE = 0,
    KEYEX_RSA = 1,
    KEYEX_ECDH_RSA = 2,
    KEYEX_ECDH_ECDSA = 3,
};

enum uftp_cc {
    CC_NONE = 0,
    CC_UFTP3 = 1, /* obsolete */
    CC_TFMCC = 2,
    CC_PGMCC = 3, /* defined, never implemented */
};

enum uftp_ext {
    EXT_ENC_INFO = 1,
    EXT_TFMCC_DATA_INFO = 2,
    EXT_TFMCC_ACK_INFO = 3,
    EXT_PGMCC_DATA_INFO = 4,
    EXT_PGMCC_NAK_INFO = 5,
    EXT_PGMCC_ACK_INFO = 6,
    EXT_FREESPACE_INFO = 7,
    /* Ours (issue 17, spec "FEC extension (ours)"). */
    EXT_FEC_INFO = 0xF1,
};

enum uftp_ftype {
    FTYPE_REG = 0,
    FTYPE_DIR = 1,
    FTYPE_LINK = 2,
    FTYPE_DELETE = 3,
    FTYPE_FREESPACE = 4,
};

enum uftp_comp_status {
    COMP_STAT_NORMAL = 0,
    COMP_STAT_SKIPPED = 1,
    COMP_STAT_OVERWRITE = 2,
    COMP_STAT_REJECTED = 3,
};

enum uftp_hb_auth {
    HB_AUTH_FAILED = 0,
    HB_AUTH_OK = 1,
    HB_AUTH_CHALLENGE = 2,
};

/* Flags. */
#define FLAG_SYNC_MODE    0x01 /* ANNOUNCE */
#define FLAG_SYNC_PREVIEW 0x02 /* ANNOUNCE */
#define FLAG_IPV6         0x04 /* ANNOUNCE */
#define FLAG_CLIENT_AUTH  0x01 /* EXT_ENC_INFO */
#define FLAG_PARTIAL      0x01 /* FILEINFO_ACK */
#define FLAG_CURRENT_FILE 0x01 /* ABORT */
#define FLAG_CC_CLR       0x01
#define FLAG_CC_RTT       0x02
#define FLAG_CC_START     0x04
#define FLAG_CC_LEAVE     0x08

/*
 * EXT_TFMCC_DATA_INFO (ext 2, 8 bytes), in FILESEG and FEC_PARITY: rates
 * are quantised (base/quant.h).
 */
struct wire_tfmcc_data {
    uint16_t send_rate;
    uint16_t cc_seq;
    uint16_t cc_rate;
};

/* The common header, every datagram (spec §1.1). */
struct uftp_hdr {
    uint8_t version;
    uint8_t func;
    uint16_t seq;
    uint32_t src_id;
    uint32_t group_id;
    uint8_t group_inst;
    uint8_t grtt; /* quantised, see base/quant.h */
    uint8_t gsize;
};

/*
 * Decodes the 16-byte header. Accepts versions 0x40 and 0x50 only; the
 * caller decides which it takes in which role. Consumes 16 bytes.
 * Errors: WIRE_ETRUNC, WIRE_EVERSION.
 */
ssize_t uftp_hdr_decode(struct uftp_hdr *h, const uint8_t *p, size_t len);
/* Errors: WIRE_ENOSPC. */
ssize_t uftp_hdr_encode(uint8_t *out, size_t cap, const struct uftp_hdr *h);

#endif
