/*
 * Internal helpers shared by the message codecs (not for engines).
 *
 * Every message header is laid out the same way (spec §1.4 conventions):
 *
 *   func, hlen, fixed fields, variable header fields (blobs, names),
 *   zero padding to a 4-byte boundary, header extensions ... = hlen*4 bytes
 *   then the body (IDs, KEYINFO entries, CC items, data or a NAK bitmap).
 *
 * msg_open() checks func, version and hlen against the datagram and splits
 * off the header; ext_next() walks the extension area.
 */
#ifndef UFTP_WIRE_INT_H
#define UFTP_WIRE_INT_H

#include "core/base/quant.h"
#include "core/wire/buf.h"
#include "core/wire/fec.h"
#include "core/wire/ids.h"
#include "core/wire/transfer.h"
#include "core/wire/wire.h"

#include <stdbool.h>

static inline bool ver_ok(uint8_t ver)
{
    return ver == UFTP_VER5 || ver == UFTP_VER4;
}

static inline size_t pad4(size_t n)
{
    return (n + 3) & ~(size_t)3;
}

/* Skips n reserved bytes; any nonzero bit makes the message lossy. */
static inline void rb_rsv(struct rbuf *r, size_t n, bool *lossy)
{
    const uint8_t *q = rb_ptr(r, n);
    if (!q)
        return;
    for (size_t i = 0; i < n; i++)
        if (q[i])
            *lossy = true;
}

/*
 * Reads a timestamp in the version's format (spec §1.3, §1.9) as µs.
 * A v4 timeval with usec ≥ 10^6 is accepted (lossy) unless its normalised
 * seconds no longer fit 32 bits: then false, so that everything a decoder
 * accepts can be encoded again.
 */
static inline bool rb_ts(struct rbuf *r, uint8_t ver, uint64_t *us, bool *lossy)
{
    uint32_t hi = rb_u32(r);
    uint32_t lo = rb_u32(r);
    if (ver != UFTP_VER4) {
        *us = quant_ts_join(hi, lo);
        return true;
    }
    if (lo >= 1000000u)
        *lossy = true; /* not a normalised timeval */
    *us = quant_ts_from_tv4(hi, lo);
    return *us / 1000000u <= UINT32_MAX;
}

/* Writes a timestamp; false when a v4 timestamp's seconds overflow. */
static inline bool wb_ts(struct wbuf *w, uint8_t ver, uint64_t us)
{
    if (ver == UFTP_VER4) {
        uint32_t sec, usec;
        if (!quant_ts_to_tv4(us, &sec, &usec))
            return false;
        wb_u32(w, sec);
        wb_u32(w, usec);
        return true;
    }
    wb_u64(w, us);
    return true;
}

/* Bytes pointed to by a decoded field, or written from an encode field. */
static inline void wb_blob(struct wbuf *w, const void *p, size_t n)
{
    if (p)
        wb_bytes(w, p, n);
    else
        wb_zero(w, n); /* e.g. a signature placeholder to be signed later */
}

/* Largest header: hlen is one byte of 4-byte words. */
#define WIRE_MAX_HLEN 1020

/*
 * Opens a type-and-length frame (a message header, or an extension on its
 * own): p[0] is `type`, p[1] the length in 4-byte words, at least `min`
 * bytes and inside [p, p+len). *r reads the frame from its first byte.
 * Returns 0 or WIRE_ETRUNC, WIRE_EFUNC, WIRE_EHLEN.
 */
int frame_open(const uint8_t *p, size_t len, uint8_t type, size_t min, struct rbuf *r);

/*
 * Opens a message: checks the version, the func byte, that the header
 * (hlen*4 bytes) is at least `fixed` bytes and lies inside the datagram.
 * On success *hdr reads the header [p, p+hlen*4) positioned after func and
 * hlen (offsets in it are message offsets), *body the rest of the datagram.
 * Returns 0 or WIRE_EVERSION, WIRE_ETRUNC, WIRE_EFUNC, WIRE_EHLEN.
 */
int msg_open(const uint8_t *p, size_t len, uint8_t func, uint8_t ver, size_t fixed,
             struct rbuf *hdr, struct rbuf *body);

/* Clears a message struct but for its ver (the version to decode, set by the caller). */
static inline void msg_clear(void *m, size_t size, uint8_t *ver)
{
    uint8_t v = *ver;
    memset(m, 0, size);
    *ver = v;
}
#define MSG_CLEAR(m) msg_clear((m), sizeof(*(m)), &(m)->ver)

/* Every decoder starts here: *m cleared but for m->ver, then msg_open() in that version. */
#define MSG_BEGIN(m, p, len, func, fixed, hdr, body)                                               \
    (MSG_CLEAR(m), msg_open((p), (len), (func), (m)->ver, (fixed), (hdr), (body)))

/*
 * Every decoder ends here: the extensions left in the header are skipped
 * (lossy: unknown to this message), then the body is read as an ID list
 * into *ids or, with ids NULL, must be empty (WIRE_ETRAIL otherwise).
 * Returns len or an error.
 */
ssize_t msg_end(struct rbuf *hdr, struct rbuf *body, bool *lossy, struct wire_ids *ids, size_t len);

/* Every encoder starts here: func and hlen (hdr_len bytes, a multiple of 4). */
static inline struct wbuf wb_msg(uint8_t *out, size_t cap, uint8_t func, size_t hdr_len)
{
    struct wbuf w = wb_init(out, cap);
    wb_u8(&w, func);
    wb_u8(&w, (uint8_t)(hdr_len / 4));
    return w;
}

/* True when a timestamp can be written in this version. */
static inline bool ts_ok(uint8_t ver, uint64_t us)
{
    return ver != UFTP_VER4 || us / 1000000u <= UINT32_MAX;
}

/* The result of an encode: bytes written, or WIRE_ENOSPC. */
static inline ssize_t wb_result(const struct wbuf *w)
{
    return w->err ? WIRE_ENOSPC : (ssize_t)w->off;
}

/*
 * Reads the next header extension from the extension area `a` into *ext
 * (a sub-reader over the whole extension, type and length bytes included).
 * Returns 1 with *type set, 0 at the end of the area, or WIRE_EHLEN for a
 * malformed extension (fewer than 2 bytes left, extlen 0, or past hlen).
 */
int ext_next(struct rbuf *a, uint8_t *type, struct rbuf *ext);

/*
 * Walks an extension area in which this message knows no extension:
 * every well-formed extension is skipped and makes the message lossy.
 * Returns 0 or WIRE_EHLEN.
 */
int ext_skip_all(struct rbuf *a, bool *lossy);

/* Skips the zero padding up to the next 4-byte boundary of the header. */
void rb_pad4(struct rbuf *r, bool *lossy);

/* Writes zero padding up to the next 4-byte boundary. */
static inline void wb_pad4(struct wbuf *w)
{
    wb_zero(w, pad4(w->off) - w->off);
}

/* An ID list an encoder can write: empty, or with an array behind it. */
static inline bool ids_ok(const struct wire_ids *l)
{
    return l->n == 0 || l->be || l->host;
}

/*
 * A body of n entries of `size` bytes in network order (IDs, KEYINFO keys,
 * CC items): WIRE_ETRAIL when not a whole number of entries.
 */
int body_array(struct rbuf *body, size_t size, const uint8_t **be, size_t *n);
/*
 * Makes room for n entries of `size` bytes and copies them from be when
 * given. True when the caller is to write them from host order (be NULL);
 * false when done or out of room (w->err set).
 */
bool wb_array(struct wbuf *w, const uint8_t *be, size_t n, size_t size);

/* A body of 4-byte IDs (body_array). */
int ids_decode(struct wire_ids *l, struct rbuf *body);
void ids_encode(struct wbuf *w, const struct wire_ids *l);

/*
 * A known extension's reader: ext spans the extension (as from ext_next);
 * val is where it goes. Returns 1 when read, 0 when skipped (a version
 * this code does not know: the message is lossy), or an error. Shorter
 * than the extension's size is WIRE_EHLEN; longer is accepted (as the
 * reference does) but lossy.
 */
typedef int (*ext_read_fn)(struct rbuf *ext, uint8_t ver, void *val, bool *lossy);

/*
 * The known extensions of a message: its type, its reader, where it goes
 * and the message's has_ flag. ext_read() walks the extension area: a known
 * type fills its slot (a second one of a type is WIRE_ERANGE), any other is
 * skipped and makes the message lossy. Returns 0 or an error.
 */
struct ext_slot {
    uint8_t type;
    ext_read_fn read;
    void *val;
    bool *has;
};
int ext_read(struct rbuf *hdr, uint8_t ver, bool *lossy, const struct ext_slot *slots, size_t n);

/* The known extensions' bodies (ext_read_fn readers, val as named). */
#define EXT_TFMCC_DATA_LEN 8
#define EXT_TFMCC_ACK_LEN  20
#define EXT_FREESPACE_LEN  12
/* struct wire_fec_info (fec.h); 0 for a version this code does not know. */
int ext_fec_read(struct rbuf *ext, uint8_t ver, void *val, bool *lossy);
void ext_fec_write(struct wbuf *w, const struct wire_fec_info *f);
/* An EXT_FEC_INFO an encoder can write: version 1, known flags. */
bool ext_fec_ok(const struct wire_fec_info *f);
/* struct wire_tfmcc_ack, the v4 time format in v4 sessions. */
int ext_tfmcc_ack_read(struct rbuf *ext, uint8_t ver, void *val, bool *lossy);
void ext_tfmcc_ack_write(struct wbuf *w, uint8_t ver, const struct wire_tfmcc_ack *t);
/* struct wire_tfmcc_data. */
int ext_tfmcc_data_read(struct rbuf *ext, uint8_t ver, void *val, bool *lossy);
void ext_tfmcc_data_write(struct wbuf *w, const struct wire_tfmcc_data *t);
/* uint64_t free bytes. */
int ext_freespace_read(struct rbuf *ext, uint8_t ver, void *val, bool *lossy);

#endif
