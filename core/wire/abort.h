/*
 * ABORT (spec §1.4): a fixed 308-byte message (hlen 77) with a 300-byte
 * NUL-padded text. Codec conventions: see announce.h.
 */
#ifndef UFTP_WIRE_ABORT_H
#define UFTP_WIRE_ABORT_H

#include "core/wire/wire.h"

#include <stdbool.h>

#define WIRE_ABORT_LEN      308
#define WIRE_ABORT_TEXT_LEN 300

/*
 * The text is the one decoded field that is copied: up to its first NUL,
 * into a buffer that always ends in a NUL, so it is safe to print (after
 * escaping) even when all 300 wire bytes are text. Encode writes
 * strnlen(text) bytes and NUL-pads to 300.
 */
struct wire_abort {
    uint8_t ver;
    uint8_t flags; /* FLAG_CURRENT_FILE */
    uint32_t host; /* target client ID, 0 = everyone (spec §7 item 7) */
    char text[WIRE_ABORT_TEXT_LEN + 1];
    bool lossy;
};

/* Errors: WIRE_EVERSION, WIRE_EFUNC, WIRE_ETRUNC, WIRE_EHLEN, WIRE_ETRAIL. */
ssize_t wire_abort_decode(struct wire_abort *m, const uint8_t *p, size_t len);
/* Errors: WIRE_EVERSION, WIRE_EINVAL (text not NUL-terminated within 301 bytes), WIRE_ENOSPC. */
ssize_t wire_abort_encode(uint8_t *out, size_t cap, const struct wire_abort *m);

#endif
