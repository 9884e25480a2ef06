/*
 * Signed ANNOUNCEs are not replayable (issue 14 item 9).
 *
 * An encrypted session's ANNOUNCE is signed by the server and carries its
 * wall-clock time (spec §1.3 timestamp), but the reference never looks at
 * it: a captured ANNOUNCE, replayed later, starts a phantom session (the
 * signature verifies, the key exchange is answered). Here:
 *
 *   - an ANNOUNCE whose timestamp is more than the window away from our
 *     clock (either way) is refused, before any public-key work. The
 *     window (uftpd --announce-window, default 600 s) must exceed the
 *     clock skew between the sites plus the one-way delay; 0 turns the
 *     check off (a site without synchronised clocks);
 *   - within the window, a session that was already started from a
 *     verified ANNOUNCE is remembered (server, group ID, instance) until
 *     its ANNOUNCE's timestamp leaves the window, and a new session with
 *     the same identity is refused: a server never starts a session of the
 *     same group ID and instance twice (a restart takes the next instance).
 *
 * Only verified ANNOUNCEs are remembered, so forgeries cannot fill the
 * memory; when it is full, the entry expiring first makes room. Times are
 * wall-clock µs (the engine's now plus its wall offset). No I/O.
 */
#ifndef UFTP_PROTO_FRESH_H
#define UFTP_PROTO_FRESH_H

#include <stdint.h>

#define FRESH_WINDOW_DEF_S 600u
#define FRESH_MEMORY       256u

enum fresh_err {
    FRESH_OK = 0,
    FRESH_ESTALE = -1,  /* timestamp outside the window */
    FRESH_EREPLAY = -2, /* this server's session of this group and instance was seen */
};

struct fresh {
    uint64_t window_us; /* 0 = no checks */
    struct {
        uint32_t server_id, group_id;
        uint8_t inst;
        uint64_t until_us; /* wall µs after which the entry is moot; 0 = empty */
    } e[FRESH_MEMORY];
};

void fresh_init(struct fresh *f, uint64_t window_us);
/* FRESH_OK, FRESH_ESTALE or FRESH_EREPLAY for an ANNOUNCE stamped tstamp_us, at wall_us. */
int fresh_check(const struct fresh *f, uint32_t server_id, uint32_t group_id, uint8_t inst,
                uint64_t tstamp_us, uint64_t wall_us);
/* A session was started from this (verified) ANNOUNCE: remember it. */
void fresh_note(struct fresh *f, uint32_t server_id, uint32_t group_id, uint8_t inst,
                uint64_t tstamp_us, uint64_t wall_us);
const char *fresh_strerror(int err);

#endif
