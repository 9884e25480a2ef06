/*
 * uftp's restart file (issue 13, spec §2.1 -f / -F, "Restart file"): what a
 * failed or killed session needs to be resumed with `uftp -F FILE`: its
 * group ID and instance, the items given on the command line, and the
 * receivers that may not have every file.
 *
 * Our own text format, versioned (the reference writes raw C structs, spec
 * §6 item 19):
 *
 *     uftp-restart 2                           (1 is read too: no grtt line)
 *     group 0x1234ABCD
 *     instance 0
 *     grtt 0.010000                            (the GRTT it measured last, seconds)
 *     item <the item as given, %-escaped>      (one per item, in order)
 *     open                                     (an open group, nobody known yet)
 *     client 0x0A000002 [FINGERPRINT-HEX]      (one per receiver owed files)
 *     end
 *
 * Unlike the reference, which writes it only at a clean end, uftp -f
 * writes it when the session starts and keeps it current (each version
 * replaces the last atomically, fsync'd: core/fs fs_replace), so a sender
 * that was killed or lost power can be resumed too; it is removed when
 * every receiver got every file.
 */
#ifndef UFTP_SENDER_RESTART_H
#define UFTP_SENDER_RESTART_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sender/engine/engine.h"

#define RESTART_VERSION     2
#define RESTART_VERSION_MIN 1 /* the oldest version read */

struct restart {
    uint32_t group_id;
    uint8_t group_inst;
    /* The GRTT the session had measured when the file was written (version 2;
     * 0: none): -F starts from it instead of -r's INIT. */
    uint64_t grtt_us;
    char **items; /* as given on the command line (or in -i) */
    size_t nitems;
    bool open; /* open group: who failed is not known (killed before registration ended) */
    struct sender_dest *clients; /* the receivers owed files, as the engine takes -H's */
    size_t nclients, capclients;
};

/* Reads path into *r (zeroed first). Returns 0, or -1 with a message in msg. */
int restart_read(const char *path, struct restart *r, char *msg, size_t ml);
/* Writes *r to path crash-safely. Returns 0 or a negated errno. */
int restart_write(const char *path, const struct restart *r);
/* Adds a client (no duplicate check); -ENOMEM. */
int restart_add_client(struct restart *r, uint32_t id, const uint8_t *fp, uint8_t fplen);
void restart_free(struct restart *r);

#endif
