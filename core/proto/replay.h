/*
 * Sliding replay window over the 64-bit AEAD counter of one sender and key
 * (spec §6 item 12: the reference checks none). A bitmap of REPLAY_BITS bits
 * indexed by counter modulo REPLAY_BITS, as in WireGuard / RFC 6479, so a
 * packet costs O(1) and a jump forward clears at most the whole bitmap.
 *
 * Use: replay_check() before decrypting (cheap early drop), then
 * replay_update() only after the packet authenticated, so forgeries cannot
 * move the window. Counter 0 is never valid (v5 senders start at 1).
 */
#ifndef UFTP_PROTO_REPLAY_H
#define UFTP_PROTO_REPLAY_H

#include <stdint.h>

#define REPLAY_BITS 2048
/* Counters this far behind the highest seen are still judged exactly. */
#define REPLAY_WINDOW (REPLAY_BITS - 64)

enum replay_err {
    REPLAY_OK = 0,
    REPLAY_EDUP = -1, /* already seen (or 0) */
    REPLAY_EOLD = -2, /* too far behind the window */
};

struct replay {
    uint64_t top; /* highest counter accepted, 0 before the first */
    uint64_t map[REPLAY_BITS / 64];
};

void replay_init(struct replay *r);

/* Errors: REPLAY_EDUP, REPLAY_EOLD. Does not change the window. */
int replay_check(const struct replay *r, uint64_t ctr);

/*
 * Records ctr as seen (after authentication). Returns what replay_check
 * would have returned; the window only changes on REPLAY_OK.
 */
int replay_update(struct replay *r, uint64_t ctr);

#endif
