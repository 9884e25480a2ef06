/*
 * Response aggregation at a client or response proxy (spec §3.4): the
 * answers of many clients to one server message become one message
 * upstream, listing the clients.
 *
 * A session holds up to AGG_MAX_SLOTS pending aggregates. An answer joins
 * the slot that matches it:
 *   REGISTER      any pending REGISTER (CLIENT_KEY counts as REGISTER);
 *   FILEINFO_ACK  same file; FLAG_PARTIAL is ANDed over the clients;
 *   STATUS        same file and section; the NAK bitmaps are ORed (no
 *                 client list: the server counts it against the proxy);
 *                 a count STATUS (m->counts: a parity count per FEC block,
 *                 spec §9.4, issue 17) joins only a count slot, where the
 *                 counts are merged by maximum, and a plain one only a
 *                 plain slot;
 *                 of the clients' TFMCC_ACK_INFO (spec §1.7) the slot
 *                 keeps the one with the lowest rate: the client that
 *                 limits the group, named in it (spec §3.4 [DIFF]: the
 *                 reference sends none), its echo corrected like the others;
 *   COMPLETE      same file and status, and the same EXT_FREESPACE_INFO
 *                 (an answer carrying free space joins only a slot with
 *                 the same value, so no client's report is lost; the
 *                 reference drops the extension).
 * Otherwise it takes a free slot. A slot is due one hold time (1 GRTT)
 * after its first answer, or at once when its ID list is full. When no slot
 * matches and none is free, agg_add() says so and the caller flushes every
 * slot first (the reference's rule).
 *
 * Echoed timestamps (REGISTER, FILEINFO_ACK): the slot keeps the smallest
 * (echo − arrival time) over its clients, so the echo it sends at time t is
 * that plus t: the server measures the longest RTT of the clients (spec
 * §3.4 [DIFF]: the reference takes the first client's), corrected for how
 * long the proxy held it.
 *
 * Bitmaps are whatever the decoder left after hlen (core/wire reads them
 * by hlen and datagram length, spec §6.6); at most nak_cap bytes are kept.
 * Memory: per slot an ID array of max_ids and a bitmap of nak_cap bytes,
 * allocated when the slot is first used and kept for reuse.
 */
#ifndef UFTP_PROTO_AGG_H
#define UFTP_PROTO_AGG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* spec §4: pending aggregates per session. */
#define AGG_MAX_SLOTS 10

enum agg_err {
    AGG_EFULL = -1,  /* no slot matches and none is free: flush, then add again */
    AGG_EINVAL = -2, /* not an aggregated message type, or a bad argument */
    AGG_ENOMEM = -3,
};

/* A message for an enum agg_err code, for logs. */
const char *agg_strerror(int err);

/* One client's answer, as far as aggregation is concerned. */
struct agg_msg {
    uint8_t func;     /* REGISTER, FILEINFO_ACK, STATUS or COMPLETE */
    uint16_t file_id; /* FILEINFO_ACK, STATUS, COMPLETE */
    uint16_t section; /* STATUS */
    bool partial;     /* FILEINFO_ACK: FLAG_PARTIAL */
    uint8_t status;   /* COMPLETE: COMP_STAT_* */
    bool has_freespace;
    uint64_t freespace;
    bool has_echo;       /* REGISTER, FILEINFO_ACK */
    uint64_t echo_us;    /* the echoed server time it carries (wall µs) */
    const uint8_t *naks; /* STATUS bitmap; with counts, the counts (naks_len of them) */
    size_t naks_len;
    bool counts;     /* STATUS: naks holds counts (at most 8·nak_cap), merged by maximum */
    size_t bits_len; /* with counts: the client's bitmap length, kept as the longest */
    /* STATUS: EXT_TFMCC_ACK_INFO (spec §1.7); cc_rate quantised, cc_echo_us wall µs. */
    bool has_cc;
    uint8_t cc_flags;
    uint16_t cc_seq, cc_rate;
    uint32_t cc_id;
    uint64_t cc_echo_us;
};

struct agg_slot {
    uint8_t func; /* 0: free */
    uint16_t file_id;
    uint16_t section;
    bool partial;
    uint8_t status;
    bool has_freespace;
    uint64_t freespace;
    bool has_echo;
    int64_t echo_base; /* echo to send at time t: echo_base + t */
    uint64_t due_us;
    bool full; /* ID list full: due now */
    uint32_t *ids;
    size_t nids;
    uint8_t *naks;
    size_t naks_len; /* longest bitmap ORed in; with counts, the most counts merged */
    size_t naks_cap; /* bytes allocated at naks */
    bool counts;     /* STATUS: naks holds counts merged by maximum */
    size_t bits_len; /* with counts: the longest client bitmap */
    size_t adds;     /* answers merged (STATUS has no list) */
    /* STATUS: the lowest-rate TFMCC_ACK_INFO; its echo at t is cc_echo_base + t. */
    bool has_cc;
    uint8_t cc_flags;
    uint16_t cc_seq, cc_rate;
    uint32_t cc_id;
    int64_t cc_echo_base;
};

struct agg {
    struct agg_slot slots[AGG_MAX_SLOTS];
    unsigned nslots; /* slots in use at most: 1..AGG_MAX_SLOTS */
    size_t max_ids;  /* IDs per message */
    size_t nak_cap;  /* bitmap bytes per STATUS */
    uint64_t hold_us;
};

/*
 * nslots 1..AGG_MAX_SLOTS, max_ids ≥ 1, nak_cap ≥ 1 (the block size: a
 * section never has more than 8·blocksize blocks), hold_us the flush delay.
 * Errors: AGG_EINVAL.
 */
int agg_init(struct agg *a, unsigned nslots, size_t max_ids, size_t nak_cap, uint64_t hold_us);
void agg_free(struct agg *a);
/* A new hold time (the GRTT changed); slots already pending keep theirs. */
void agg_set_hold(struct agg *a, uint64_t hold_us);
/* Slot i is due at t_us at the latest (an answer that was held before it came). */
void agg_due_by(struct agg *a, int i, uint64_t t_us);

/*
 * Merges client id's answer m, received at now_us (monotonic). A client
 * already listed in the matching slot is not listed twice. Returns the slot
 * index, or AGG_EFULL (nothing changed), AGG_EINVAL, AGG_ENOMEM.
 */
int agg_add(struct agg *a, const struct agg_msg *m, uint32_t id, uint64_t now_us);

/* Earliest time a slot is due; UINT64_MAX when none is pending. */
uint64_t agg_deadline(const struct agg *a);
/* Pending slots. */
unsigned agg_pending(const struct agg *a);

/*
 * The index of a slot due at now_us (every pending slot when force), the
 * oldest first, or -1. Read it from a->slots[i], then agg_clear(a, i).
 */
int agg_due(const struct agg *a, uint64_t now_us, bool force);
/* The TFMCC echo a STATUS slot sends at now_us (wall µs). */
uint64_t agg_cc_echo(const struct agg_slot *s, uint64_t now_us);
/* The echo a slot sends at now_us (wall µs). */
uint64_t agg_echo(const struct agg_slot *s, uint64_t now_us);
/* Frees slot i for reuse (its buffers are kept). */
void agg_clear(struct agg *a, int i);

#endif
