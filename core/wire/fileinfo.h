/*
 * FILEINFO and FILEINFO_ACK (spec §1.4, v4 differences §1.9).
 * Codec conventions: see announce.h.
 */
#ifndef UFTP_WIRE_FILEINFO_H
#define UFTP_WIRE_FILEINFO_H

#include "core/wire/ids.h"
#include "core/wire/wire.h"

#include <stdbool.h>

/* Name and link target are each at most 300 bytes (the reference's MAXPATHNAME). */
#define WIRE_MAX_PATH 300
/* 48-bit file size and v5 file time; v4 file time is 32-bit. */
#define WIRE_MAX_FSIZE ((UINT64_C(1) << 48) - 1)

/*
 * FILEINFO (7). The name and link are NUL-padded to whole words on the
 * wire with no terminator when their length is a multiple of 4. Decoded,
 * `name`/`link` point into the datagram and are NOT NUL-terminated: use
 * name_len / link_len (the length up to the first NUL of the field).
 * name_junk / link_junk say that non-NUL bytes follow that first NUL: the
 * field holds more than one string, which receivers must refuse.
 * Encode writes ceil(len/4) words and refuses embedded NULs.
 */
struct wire_fileinfo {
    uint8_t ver;
    uint16_t file_id;
    uint8_t ftype;   /* FTYPE_* */
    uint64_t mtime;  /* file time, Unix seconds: 48 bits in v5, 32 bits in v4 */
    uint64_t size;   /* 48 bits */
    uint64_t tstamp; /* server time for RTT, µs */
    const char *name;
    size_t name_len;
    const char *link;
    size_t link_len;
    bool name_junk; /* decode: bytes after the name's first NUL are not all NUL */
    bool link_junk;
    struct wire_ids ids; /* clients that must answer */
    bool lossy;
};

/*
 * Errors: WIRE_EVERSION, WIRE_EFUNC, WIRE_ETRUNC, WIRE_EHLEN,
 * WIRE_ECOUNT (name or link field over 300 bytes), WIRE_ERANGE (v4 time), WIRE_ETRAIL.
 */
ssize_t wire_fileinfo_decode(struct wire_fileinfo *m, const uint8_t *p, size_t len);
/*
 * Errors: WIRE_EVERSION, WIRE_ENOSPC, WIRE_EINVAL (name/link over 300 bytes or
 * holding a NUL, size ≥ 2^48, mtime ≥ 2^48 (v5) or 2^32 (v4), v4 tstamp past 2106).
 */
ssize_t wire_fileinfo_encode(uint8_t *out, size_t cap, const struct wire_fileinfo *m);

/* FILEINFO_ACK (8). */
struct wire_fileinfo_ack {
    uint8_t ver;
    uint16_t file_id;
    uint8_t flags;       /* FLAG_PARTIAL */
    uint64_t tstamp;     /* echoed server time */
    struct wire_ids ids; /* client IDs when sent by a proxy */
    bool lossy;
};

/* Errors: WIRE_EVERSION, WIRE_EFUNC, WIRE_ETRUNC, WIRE_EHLEN, WIRE_ERANGE (v4 time), WIRE_ETRAIL.
 */
ssize_t wire_fileinfo_ack_decode(struct wire_fileinfo_ack *m, const uint8_t *p, size_t len);
/* Errors: WIRE_EVERSION, WIRE_EINVAL, WIRE_ENOSPC. */
ssize_t wire_fileinfo_ack_encode(uint8_t *out, size_t cap, const struct wire_fileinfo_ack *m);

#endif
