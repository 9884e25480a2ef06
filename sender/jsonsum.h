/*
 * uftp --summary-json FILE (issue 15): the session's result per receiver
 * as one JSON document (schema: docs/uftp-summary.schema.json).
 */
#ifndef UFTP_SENDER_JSONSUM_H
#define UFTP_SENDER_JSONSUM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sender/results.h"

struct jsonsum_info {
    bool have_group; /* a session was started: group_id is its ID */
    uint32_t group_id;
    int exit_code;                      /* uftp's (spec §2.1) */
    int64_t start_unix_us, end_unix_us; /* wall clock */
    size_t nfiles;                      /* items given */
    uint64_t total_bytes;               /* of the regular files among them */
};

/* Writes the document to path (replacing it atomically). t may be NULL (no receivers yet).
 * Returns 0 or -errno. */
int jsonsum_write(const char *path, const struct result_table *t, const struct jsonsum_info *in);

#endif
