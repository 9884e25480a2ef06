/*
 * What an engine hands its shell (DESIGN.md "Engines without I/O").
 *
 * The sender, receiver (and later proxy) engines are state machines without
 * I/O. A shell feeds them datagrams and the time, then drains their outputs
 * by calling X_poll(e, now_us, &out) until it returns ENG_NONE; each call
 * yields exactly one struct eng_out:
 *
 *   ENG_SEND   one datagram, or a batch of nseg datagrams written back to
 *              back into out->buf, all to out->dst. Every segment is exactly
 *              seglen bytes except possibly the last, so the shell can hand
 *              the batch to one UDP GSO send (or split it for sendmmsg).
 *              Control messages always come one per poll (nseg == 1).
 *   ENG_JOIN   join multicast group out->group (port ignored), source-
 *   ENG_LEAVE  specific when out->source is set (SSM), else any-source;
 *              on interface out->ifindex, or on every interface the shell
 *              was configured with when it is 0. Engines reference-count
 *              their memberships: each JOIN is matched by one LEAVE.
 *   ENG_DONE   the engine has finished; out->exit_code is the process exit
 *              code (spec §2.1). Afterwards poll returns ENG_NONE and the
 *              deadline is ENG_NEVER.
 *
 * Buffers: the shell sets out->buf, out->cap and out->max_seg before each
 * poll. The engine writes into buf only during that call and never keeps
 * the pointer. A SEND's sequence numbers are consumed when it is produced:
 * a shell that cannot send it now (EAGAIN) must hold it and retry, never
 * drop it and poll again.
 *
 * Time: every now_us is a monotonic clock in microseconds. Deadlines are
 * absolute on that clock; ENG_NEVER means "no timer needed".
 */
#ifndef UFTP_PROTO_ENGINE_H
#define UFTP_PROTO_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "core/base/addr.h"

/* No deadline. */
#define ENG_NEVER UINT64_MAX

/* out->cap must hold at least one datagram of the largest size (spec §4 MAXMTU). */
#define ENG_MIN_BUF 9000
/* Batches never exceed this many datagrams, whatever max_seg says (UDP GSO's limit). */
#define ENG_MAX_SEG 64

/* Errors returned by engine functions; negative. */
enum eng_err {
    ENG_OK = 0,
    ENG_EINVAL = -1, /* bad argument or configuration (a log line says which) */
    ENG_ENOMEM = -2, /* allocation failed */
    ENG_ENOSPC = -3, /* out->cap below ENG_MIN_BUF, or max_seg 0 */
    ENG_ERNG = -4,   /* the env's rng callback failed */
};

enum eng_out_kind {
    ENG_NONE = 0, /* nothing to do now; call again at the deadline or on input */
    ENG_SEND = 1,
    ENG_JOIN = 2,
    ENG_LEAVE = 3,
    ENG_DONE = 4,
};

struct eng_out {
    /* In: set by the shell before each poll. */
    uint8_t *buf;
    size_t cap;     /* ≥ ENG_MIN_BUF */
    size_t max_seg; /* ≥ 1: most datagrams one SEND may hold (clamped to ENG_MAX_SEG) */

    /* Out: set by the engine. */
    enum eng_out_kind kind;
    /* ENG_SEND */
    struct addr dst; /* destination address and port */
    size_t len;      /* total bytes in buf */
    size_t seglen;   /* bytes per datagram (the last may be shorter) */
    size_t nseg;     /* datagrams in the batch, ≥ 1 */
    /* ENG_JOIN / ENG_LEAVE */
    struct addr group;  /* the multicast group */
    struct addr source; /* SSM source, unset (ADDR_NONE) for any-source */
    uint32_t ifindex;   /* 0 = every configured interface */
    /* ENG_DONE */
    int exit_code;
};

/* A message for an enum eng_err code, for logs ("unknown engine error" otherwise). */
const char *eng_strerror(int err);

/*
 * Resets the engine-written fields of *out (kind = ENG_NONE, addresses unset,
 * lengths 0), keeping buf / cap / max_seg. Engines call it first in poll.
 */
void eng_out_reset(struct eng_out *out);

/*
 * Checks the shell-provided part of *out. Returns 0 or ENG_ENOSPC (buf NULL,
 * cap < ENG_MIN_BUF or max_seg 0).
 */
int eng_out_check(const struct eng_out *out);

#endif
