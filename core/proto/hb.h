/*
 * The sending side of heartbeats (spec §1.8, §2.2 uftpd -H/-h, §2.3
 * uftpproxyd -H/-h): a client proxy, a server proxy in a chain, or a
 * receiver behind NAT sends HB_REQ every interval to each configured host,
 * which keeps NAT pinholes open and, with a server proxy started as
 * -s fp=..., tells it where downstream is.
 *
 * A plain HB_REQ has nonce 0, no key and no signature. A host that does not
 * know our address answers CHALLENGE with a nonce; we then owe it an
 * authenticated HB_REQ with that nonce (signed by the caller with
 * core/crypto/hbauth). Answers are accepted only from the configured
 * address and port of a host, and at most one signed answer per host goes
 * out per HB_AUTH_MIN_US, so a forged flood of CHALLENGEs cannot make us
 * sign without bound.
 *
 * No I/O, no crypto: the engine asks hb_next() what is due, builds and
 * sends it, and feeds HB_RESPs to hb_resp().
 */
#ifndef UFTP_PROTO_HB_H
#define UFTP_PROTO_HB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/base/addr.h"

/* spec §4: heartbeat hosts. */
#define HB_MAX_HOSTS   100
#define HB_AUTH_MIN_US 1000000u

enum hb_err {
    HB_EINVAL = -1,
    HB_ENOMEM = -2,
};

struct hb_host {
    struct addr addr;
    uint32_t nonce;   /* the challenge to answer */
    bool auth_due;    /* an authenticated HB_REQ is owed */
    uint64_t auth_at; /* when the last one went out (0 = never) */
    int last;         /* last answer: HB_AUTH_*, or -1 */
};

struct hb {
    struct hb_host *hosts;
    size_t n;
    uint64_t interval_us;
    uint64_t next_us; /* the next round */
    size_t cursor;    /* hosts still to send in this round: [cursor, n) */
    bool started;
};

/*
 * Copies hosts[0..n) (n ≤ HB_MAX_HOSTS; n 0 = no heartbeats), interval
 * 1 s..3600 s in µs. The first round is due at the first hb_next().
 * Errors: HB_EINVAL, HB_ENOMEM.
 */
int hb_init(struct hb *h, const struct addr *hosts, size_t n, uint64_t interval_us);
void hb_free(struct hb *h);

/* When hb_next() is next due (0 = now); UINT64_MAX without hosts. */
uint64_t hb_deadline(const struct hb *h);

/*
 * The next heartbeat due at now_us: returns the host index and sets *nonce
 * (0: a plain HB_REQ; else sign this nonce), or -1 when nothing is due.
 */
int hb_next(struct hb *h, uint64_t now_us, uint32_t *nonce);

/*
 * An HB_RESP (auth = HB_AUTH_*, with nonce for a CHALLENGE) from `from`.
 * Returns the host index, or -1 when `from` is none of our hosts (drop it).
 */
int hb_resp(struct hb *h, const struct addr *from, uint8_t auth, uint32_t nonce, uint64_t now_us);

#endif
