/*
 * uftpd's file storage: the receiver engine's storage callbacks over
 * core/fs (DESIGN.md "Security by construction", spec §2.2, §6.1, §6.2).
 *
 * Every name reaches here already checked by the engine (file_name_check)
 * and is resolved beneath its destination dir (or the session's temp dir
 * with -T) without following any symlink (core/fs/beneath.h).
 *
 * A file is never visible, complete-looking, at its final name before all
 * its blocks are on disk: it is written to an unnamed O_TMPFILE in the
 * target directory (or, with -t or where O_TMPFILE does not work, to
 * "NAME.~uftp-<GROUP>-<FILE>") and linked / renamed into place only by a
 * successful close(RECEIVER_CLOSE_DONE). Any write error (a full disk, EIO)
 * makes the file fail: the temp file is removed and the engine reports
 * the file rejected. An existing file at the final name stays intact until
 * the new one replaces it atomically (linked under the temp name, then
 * renamed); where the name was free the unnamed file is linked straight to
 * it (issue 18: fewer syscalls per small file). A file's blocks are reserved as its
 * data arrives (fallocate, where the file system has it), at most
 * --preallocate bytes ahead of the data (issue 14 item 7: not the size a
 * FILEINFO claims, which would let one 70-byte datagram take all free
 * space); a disk that fills fails the file at once. With -T the whole
 * session stays in TEMP/_group_<GROUP>_<INST>_<SERVER>/ and is moved into
 * the destination at its end.
 *
 * Backups (-A) never overwrite: a name already in the backup dir gets a
 * ".~N~" suffix; and nothing is replaced or deleted when its backup fails
 * (issue 14 item 4). What is reported to the post-receive command (-s)
 * never includes a symbolic link (issue 14 item 6).
 *
 * Writes are coalesced (DESIGN.md "The path of a data packet"): while the
 * shell processes one receive batch (store_batch_begin .. store_batch_end)
 * a block whose data lies in its receive buffers is not copied but queued
 * as an iovec, and consecutive blocks leave with one pwritev (at most -c
 * bytes, STORE_QUEUE_MAX blocks) when the run breaks or the batch ends,
 * up to the run's last page boundary: the bytes past it (less than a page,
 * copied to the cache) lead the next run, unless the run ends the file.
 * Data from anywhere else goes through a per-file cache of -c bytes
 * (allocated on first use, for the file's size when that is smaller),
 * flushed with one pwrite. Memory is bounded by -c and the number of
 * concurrent sessions, never by file size. A write error found when a
 * queue is flushed at the end of a batch is sticky: the file's next write
 * or its close reports it, so the file fails instead of completing.
 */
#ifndef UFTP_RECEIVER_STORE_H
#define UFTP_RECEIVER_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "core/base/file.h"
#include "receiver/engine/engine.h"

struct rstate;

struct store_sess {
    uint32_t server_id;
    uint32_t group_id;
    uint8_t group_inst;
    int fd; /* TEMP/_group_<GROUP>_<INST>_<SERVER>, -1 when unused */
    /* Issue 13 (rstate.h): this session's record (NULL until its first regular
     * file), and the record of the earlier instance it resumes (or NULL). */
    struct rstate *rec;
    struct rstate *prev;
};

/* Blocks in one queued run (one pwritev; IOV_MAX is 1024). */
#define STORE_QUEUE_MAX 1024
/* A queued run is written up to its last multiple of this; the rest (less)
 * waits in the cache for the run that follows it (store.c w_flush_queue). */
#define STORE_PAGE 4096

struct wfile;

/* The session's start (ANNOUNCE), for the -A backup paths (spec §2.2). */
struct store_start {
    uint32_t server_id;
    uint32_t group_id;
    uint8_t group_inst;
    bool used;
    struct tm tm;
};

/*
 * Called with the full paths of what a session delivered, for the
 * post-receive command (uftpd -s, spec §2.2): each regular file as it is
 * completed without -T; each file moved with -T -i; the top-level entries
 * once at the end with -T alone.
 */
typedef void (*store_received_fn)(void *arg, uint32_t group_id, const char *const *paths, size_t n);

struct store {
    const char *const *dests; /* -D, absolute */
    size_t ndest;
    int destfd[FILE_MAX_DIRS];
    int backupfd[FILE_MAX_DIRS]; /* -A, one per dest, or -1 */
    size_t nbackup;
    bool move_each; /* -i: with -T, move files one by one */
    store_received_fn received;
    void *received_arg;
    struct store_start starts[RECEIVER_MAX_SESSIONS];
    int tempfd;       /* -T dir, or -1 */
    bool use_tmpfile; /* O_TMPFILE + link works on the first dest */
    size_t cache;     /* -c */
    /* Issue 13: -T restart state kept this long after its session failed (0: not kept). */
    int64_t restart_keep_s;
    uint64_t prealloc; /* --preallocate: reserve at most this far ahead of the data (0: never) */
    /* What kept restart state lacks (store_kept_need), cached for free_space (1 s). */
    uint64_t kept_need, kept_at;
    uint32_t kept_sid, kept_gid;
    struct store_sess sess[RECEIVER_MAX_SESSIONS];
    /* The receive buffers of the batch being processed, and files with queued blocks. */
    const uint8_t *zc_lo, *zc_hi;
    struct wfile *queued;
    /* Counters for logs and tests. */
    uint64_t writes, flushes;
};

/*
 * Opens the destination dirs (creating `create_default` when it is the
 * only one and missing) and the -T dir; probes O_TMPFILE. Returns 0 or a
 * negative errno with a log line saying which directory failed.
 */
int store_init(struct store *st, const char *const *dests, size_t ndest, const char *tempdir,
               bool named_temp, size_t cache, const char *create_default);
void store_free(struct store *st);

/*
 * A receive batch: until store_batch_end, data written from [buf, buf+len)
 * stays valid and in place, so it is queued instead of copied.
 * store_batch_end writes every queued run; call it before the buffers are
 * reused. Errors are kept for the file's next write or close.
 */
void store_batch_begin(struct store *st, const void *buf, size_t len);
void store_batch_end(struct store *st);

/*
 * -A: opens one backup dir per dest dir (after store_init). Each must be
 * absolute, differ from its dest and share its file system (replaced files
 * move there with rename(2)). Returns 0 or a negative errno with a log line.
 */
int store_set_backups(struct store *st, const char *const *dirs, size_t n);

/* A session was accepted at time t (the -A backup path's date and time). */
void store_session_begin(struct store *st, uint32_t server_id, uint32_t group_id,
                         uint8_t group_inst, time_t t);

/* Default --preallocate: 16 MiB ahead of the data. */
#define STORE_PREALLOC_DEF (16u << 20)

/*
 * Issue 13, at start: -T state of sessions that were running when the daemon
 * died becomes restartable (its expiry counts from now), expired state and
 * dirs without a record go; -t temp files ("NAME.~uftp-GROUP-FILE") of ours
 * left in the dest dirs by a killed daemon are removed. Logs what it did.
 */
void store_reclaim(struct store *st);

/*
 * Issue 13, while running: removes -T state whose --restart-keep has passed
 * since its session failed (the daemon calls it on a timer, so that it goes
 * while no session starts). Running sessions' state is not touched. Returns
 * how many sessions' state went.
 */
unsigned store_expire(struct store *st);

/*
 * The bytes kept restart state still lacks (its partial file's missing
 * blocks), other than server_id's for group_id: promised to their restarts,
 * they count against the free space sessions are told and checked against.
 */
uint64_t store_kept_need(struct store *st, uint32_t server_id, uint32_t group_id);

/* The callbacks, with ctx = the struct store. */
extern const struct receiver_storage store_callbacks;

#endif
