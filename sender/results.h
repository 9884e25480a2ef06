/*
 * uftp's per-receiver results over the session (spec §2.1 STATS, the
 * final summary): one row per receiver in order of appearance, with an ID
 * index (open addressing; up to SENDER_MAX_DEST rows).
 */
#ifndef UFTP_SENDER_RESULTS_H
#define UFTP_SENDER_RESULTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sender/engine/engine.h"

struct result_row {
    uint32_t id;
    const char *name; /* the -H entry as written, or NULL: "0x%08X" */
    bool connected;   /* registered */
    int ncopy, nover, nskip, nfail;
    uint64_t bytes;    /* copied or overwritten */
    double secs;       /* their transfer times */
    int last;          /* enum sender_result of its last file, -1 before any */
    int64_t freespace; /* @FREESPACE answer not yet written after its RESULT, -1 = none */
    char reason[160];  /* why it left the session (SENDER_EV_LEFT), "" = it did not */
};

struct result_table {
    struct result_row *v;
    size_t n, cap;
    uint32_t *slot; /* index + 1, 0 = empty */
    size_t nslot;
    /* The current file's tally, for the progress line. */
    uint32_t file;         /* file index it belongs to (UINT32_MAX: none yet) */
    uint32_t done, failed; /* receivers finished with / lost for it */
};

/* The receiver's row, added (with name, may be NULL) when it is new; NULL when out of memory. */
struct result_row *results_get(struct result_table *t, uint32_t id, const char *name);

/*
 * Counts receiver id's result for file (index) of size bytes taken in secs.
 * Returns its row, or NULL when out of memory (the file's tally still counts).
 */
struct result_row *results_count(struct result_table *t, uint32_t id, uint32_t file,
                                 enum sender_result r, uint64_t size, double secs);

/* The name status lines and the summary use (spec §2.1: the -H entry, else 0x%08X). */
const char *results_name(const struct result_row *c, char buf[static 11]);

/* One word for the summary: done, partial, lost, aborted, mute, refused, no reply. */
const char *results_state(const struct result_row *c);

void results_free(struct result_table *t);

#endif
