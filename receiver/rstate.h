/*
 * uftpd -T restart state (issue 13, spec §2.2 "Restart state"): what a
 * failed session leaves for its server's restarted session.
 *
 * Next to each session temp dir TEMP/_group_<G>_<I>_<S> lies its record
 * TEMP/_group_<G>_<I>_<S>.restart, written crash-safely (core/fs
 * fs_replace: .tmp, fsync, rename, directory fsync) when a regular file
 * is opened, every RSTATE_SYNC_BYTES / RSTATE_SYNC_US of its data (after
 * the data itself is flushed and fdatasync'd, so a block the record calls
 * received is on disk), when it completes, and when the session ends
 * failed. Sessions are sequential in their files, so the one file it names
 * is the only one that may be partial: every other regular file in the
 * dir was completed (and fdatasync'd) before the record moved on.
 *
 * Text, versioned:
 *
 *     uftpd-restart 1
 *     server 0x0A000001
 *     group 0x1234ABCD
 *     instance 0
 *     fingerprint <hex> | -       (SHA-1 of the server's key blob; - in clear)
 *     failed <unix seconds> | 0   (0: the session was running, e.g. a daemon killed)
 *     file <rel, %-escaped> <size> <blocksize> <blocks>     (or "file -": none partial)
 *     map <hex, one bit per block, LSB first: 1 = on disk>  (with a file)
 *     end
 */
#ifndef UFTP_RECEIVER_RSTATE_H
#define UFTP_RECEIVER_RSTATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define RSTATE_VERSION    1
#define RSTATE_FP_MAX     20
#define RSTATE_SYNC_BYTES (32u << 20)
#define RSTATE_SYNC_US    2000000u

struct rstate {
    uint32_t server_id, group_id;
    uint8_t group_inst;
    uint8_t fp[RSTATE_FP_MAX];
    uint8_t fplen;
    int64_t failed; /* unix seconds, 0 = running */
    bool has_file;
    char rel[4096];
    uint64_t size;
    uint32_t blocksize, blocks;
    uint8_t *map; /* (blocks + 7) / 8 bytes, malloc'd; NULL without a file */
};

/* "_group_<G>_<I>_<S>.restart" (the session dir's name + ".restart"). */
int rstate_name(char *out, size_t cap, uint32_t server_id, uint32_t group_id, uint8_t inst);
/* Writes r as tempfd/<its name>. 0 or a negated errno. */
int rstate_write(int tempfd, const struct rstate *r);
/* Reads tempfd/leaf into r (map malloc'd). 0, or -1 (unreadable, foreign, truncated). */
int rstate_read(int tempfd, const char *leaf, struct rstate *r);
void rstate_free(struct rstate *r);

#endif
