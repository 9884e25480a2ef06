/*
 * The engine harness of tests/fuzz: what every engine target (fuzz_sender,
 * fuzz_receiver, their _enc variants, fuzz_proxy) shares.
 *
 * Input convention: an optional lead byte (a target's mode or role), then
 * records
 *     [ms step (1)] [tag (1), in tagged targets] [length BE16 (2)] [bytes]
 * each fed at a virtual clock advanced by its step; a length past the end
 * of the input is cut to what is left. The simulator writes seeds this way
 * (tests/sim/scen.h scen_seed_put: a gap over 255 ms as empty records).
 *
 * The env: fz_rng (constant bytes: a target is a function of its input),
 * fz_log (formats every line, of every level, into a scratch buffer, so the
 * arguments of every log line run under the sanitizers), memory storage
 * that traps when the engine misuses it. Draining checks every output
 * against the contract of core/proto/engine.h and traps on a breach.
 */
#ifndef UFTP_FUZZ_ENGINE_H
#define UFTP_FUZZ_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proxy/engine/engine.h"
#include "receiver/engine/engine.h"
#include "sender/engine/engine.h"

#define FZ_T0        UINT64_C(1000000) /* the virtual clock at the start, µs */
#define FZ_FILE_SIZE 3000              /* the sender stubs' one file */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* ------------------------------------------------------------ the env */

int fz_rng(void *ctx, void *buf, size_t len);
extern const struct elog fz_log;
/* Reads of FZ_FILE_SIZE bytes of 0xA5; traps on a read past the end. */
extern const struct sender_storage fz_sender_storage;
/*
 * Traps when the engine hands it an absolute name or one with a ".."
 * component, a write outside its file or twice, or presents an incomplete
 * file as complete; 1 TiB free, every stat -ENOENT.
 */
extern const struct receiver_storage fz_receiver_storage;

/* ------------------------------------------------------------ records */

struct fz_in {
    const uint8_t *p;
    size_t n, off;
};

struct fz_rec {
    unsigned step_ms;
    uint8_t tag; /* 0 in untagged targets */
    const uint8_t *p;
    size_t len;
};

/* The next record of in (with a tag byte when tagged); false at the end. */
bool fz_next(struct fz_in *in, bool tagged, struct fz_rec *r);

/*
 * The _enc targets' records: a message (from its func byte) with flags in
 * the tag. Bit 1: the previous datagram again (a replay); bit 0: the
 * message raw behind the peer's header (cleartext); else sealed behind it.
 */
struct fz_sealer {
    void (*hdr)(uint8_t *p, uint8_t func, uint16_t seq);   /* the peer's UFTP header */
    ssize_t (*seal)(uint8_t *pkt, size_t len, size_t cap); /* the message at SKEYS_MSG_OFF */
    uint16_t seq;                                          /* the next header's */
    uint8_t pkt[9000], prev[9000];
    size_t prevlen;
};
/* Builds r's datagram in s->pkt; returns its length, or 0 when there is none (skip r). */
size_t fz_seal(struct fz_sealer *s, const struct fz_rec *r);

/* ------------------------------------------------------------ an engine */

enum fz_kind { FZ_SENDER, FZ_RECEIVER, FZ_PROXY };

struct fz {
    enum fz_kind kind;
    void *e;        /* struct sender / receiver / proxy */
    size_t max_seg; /* out.max_seg of every poll */
    unsigned limit; /* polls in one drain before it "never settles" */
    uint64_t now;   /* the virtual clock */
    bool done;      /* ENG_DONE seen */
    long members;   /* JOINs less LEAVEs */
    /* Optional: shown every datagram sent. */
    void (*on_send)(const uint8_t *p, size_t len);
};

/*
 * Polls until ENG_NONE (returns 0) or ENG_DONE (1). Traps on an output
 * outside the contract (a batch's shape, length, destination; a LEAVE
 * without its JOIN; anything after ENG_DONE) or after limit polls.
 */
int fz_drain(struct fz *z);
/* Feeds a copy of p (writable, as a shell's buffer is) from `from` at z->now. */
void fz_recv(struct fz *z, const struct addr *from, const uint8_t *p, size_t len);
/*
 * After a drain: the deadline is never in the past; one within 5 s is
 * waited for (the clock moves to it) and drained.
 */
void fz_settle(struct fz *z);
/*
 * Interrupts (sender) or shuts down (receiver, proxy) the engine and
 * drains: it must reach ENG_DONE at once, with every membership left and
 * no deadline. Then frees it.
 */
void fz_stop(struct fz *z);

#endif
