/*
 * Fixed-rate pacing of data packets (spec §1.6 step 3, §2.1 -R), at batch
 * granularity (DESIGN.md "The path of a data packet").
 *
 * The reference sleeps packet_wait = 1e9 · datapacketsize / rate ns between
 * packets and carries any oversleep into the next wait. Here the same
 * schedule is a sequence of slots `interval` apart: a packet may go once its
 * slot has come. A batch takes every slot that has passed, up to the batch
 * target — the packets that fit in about a millisecond (one timer tick) —
 * so GSO batches grow with the rate while the burst on the wire stays
 * bounded. After an idle spell at most one target's worth is owed, never a
 * flood. Rate 0 means unpaced: everything is allowed at once.
 */
#ifndef UFTP_PROTO_PACE_H
#define UFTP_PROTO_PACE_H

#include <stdint.h>

/* The span one batch covers at most, µs. */
#define PACE_QUANTUM_US 1000u

struct pace {
    uint64_t interval_ns; /* 0 = unpaced */
    uint64_t next_ns;     /* the next free slot */
    uint32_t target;      /* packets per batch: ≥ 1, ≤ max_batch */
    uint32_t max_batch;
};

/*
 * rate_Bps: bytes per second, 0 = unpaced. pkt_bytes: the size the rate
 * is charged per packet (datapacketsize, spec §1.6). max_batch ≥ 1.
 * The first slot is at now_us.
 */
void pace_init(struct pace *p, uint64_t rate_Bps, uint32_t pkt_bytes, uint32_t max_batch,
               uint64_t now_us);

/*
 * A new rate (TFMCC, spec §1.7) at now_us: the next slot moves by the new
 * interval from the last packet's, the batch target follows the rate.
 */
void pace_set_rate(struct pace *p, uint64_t rate_Bps, uint32_t pkt_bytes, uint64_t now_us);

/* How many packets (≤ want) may be sent at now_us. */
uint32_t pace_allow(struct pace *p, uint64_t now_us, uint32_t want);

/* Charges n packets sent at now_us. */
void pace_sent(struct pace *p, uint64_t now_us, uint32_t n);

/*
 * When the next batch is due (µs): when min(want, target) slots will have
 * come. now_us when unpaced or already due.
 */
uint64_t pace_due(const struct pace *p, uint64_t now_us, uint32_t want);

#endif
