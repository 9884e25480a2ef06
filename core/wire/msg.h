/*
 * Every message of protocol v5 and v4 behind one tagged union, and the
 * datagram-level decoder for the receive pipeline (DESIGN.md, OpenBSD style):
 *
 *   length → wire_datagram_decode (UFTP header, version, then either the
 *   ENCRYPTED framing or the cleartext message) → session lookup by
 *   group_id/inst → authentication (decrypt d.enc.payload in place, then
 *   wire_msg_decode on the plaintext) → dispatch on msg.func.
 *
 * Decoded structs point into the datagram (see announce.h for the codec
 * conventions); keep the buffer alive while using them.
 */
#ifndef UFTP_WIRE_MSG_H
#define UFTP_WIRE_MSG_H

#include "core/wire/abort.h"
#include "core/wire/announce.h"
#include "core/wire/cc.h"
#include "core/wire/encrypted.h"
#include "core/wire/fec.h"
#include "core/wire/fileinfo.h"
#include "core/wire/heartbeat.h"
#include "core/wire/ids.h"
#include "core/wire/proxykey.h"
#include "core/wire/transfer.h"
#include "core/wire/wire.h"

struct wire_msg {
    uint8_t func; /* enum uftp_func, never ENCRYPTED; selects the member */
    union {
        struct wire_announce announce;
        struct wire_register reg;
        struct wire_client_key client_key;
        struct wire_reg_conf reg_conf;
        struct wire_keyinfo keyinfo;
        struct wire_keyinfo_ack keyinfo_ack;
        struct wire_fileinfo fileinfo;
        struct wire_fileinfo_ack fileinfo_ack;
        struct wire_fileseg fileseg;
        struct wire_done done;
        struct wire_status status;
        struct wire_complete complete;
        struct wire_done_conf done_conf;
        struct wire_hb_req hb_req;
        struct wire_hb_resp hb_resp;
        struct wire_key_req key_req;
        struct wire_proxy_key proxy_key;
        struct wire_abort abort;
        struct wire_cong_ctrl cong_ctrl;
        struct wire_cc_ack cc_ack;
        struct wire_fec_parity fec_parity;
    } u;
};

/*
 * Decodes one message starting at its func byte (a cleartext message after
 * the UFTP header, or a decrypted ENCRYPTED payload) for protocol `ver`.
 * Sets m->func and the matching member. Returns len or a negative error.
 * Errors: WIRE_ETRUNC, WIRE_EFUNC (unknown type or ENCRYPTED), WIRE_EVERSION
 * (bad ver, or KEY_REQ in v5), and those of the message's decoder.
 */
ssize_t wire_msg_decode(struct wire_msg *m, uint8_t ver, const uint8_t *p, size_t len);
/* Encodes m->func's member. Errors: WIRE_EFUNC and those of the message's encoder. */
ssize_t wire_msg_encode(uint8_t *out, size_t cap, const struct wire_msg *m);
/* The decoded message's lossy flag (see announce.h). */
bool wire_msg_lossy(const struct wire_msg *m);

/* A whole datagram: the common header, then enc (hdr.func == ENCRYPTED) or msg. */
struct wire_datagram {
    struct uftp_hdr hdr;
    struct wire_encrypted enc;
    struct wire_msg msg;
    bool lossy; /* decode: the header's reserved byte was nonzero */
};

/*
 * Decodes a datagram: the 16-byte header (versions 0x40 and 0x50; the role
 * decides which it accepts), then the ENCRYPTED framing or the cleartext
 * message, whose func byte must equal the header's.
 * Returns len or: WIRE_ETRUNC, WIRE_EVERSION, WIRE_EFUNC (unknown type, or
 * header and message func differ), and those of the message decoders.
 */
ssize_t wire_datagram_decode(struct wire_datagram *d, const uint8_t *p, size_t len);
/*
 * Encodes a datagram; the header's func must be ENCRYPTED or msg.func
 * (WIRE_EINVAL otherwise) and both versions must agree.
 */
ssize_t wire_datagram_encode(uint8_t *out, size_t cap, const struct wire_datagram *d);
/* The decoded datagram's lossy flag: its header's or its message's. */
bool wire_datagram_lossy(const struct wire_datagram *d);

#endif
