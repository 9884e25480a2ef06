/*
 * Files beneath a destination directory (DESIGN.md "Security by
 * construction", spec §6.1, §6.2).
 *
 * Every function takes a directory fd `base` (a dest dir, a temp dir, a
 * backup dir) and a relative path `rel` (normally file_name.rel from core/base/file.h).
 * The directories on the way are opened with openat2(RESOLVE_BENEATH |
 * RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS), or, where the kernel lacks
 * openat2, one openat(O_NOFOLLOW | O_DIRECTORY) per component. The final
 * component is then handled by one *at() call on that parent fd that never
 * follows a symlink. So nothing is created, written, renamed or removed
 * outside `base`, or through a symlink, whatever the tree holds.
 *
 * Returns: >= 0 on success; -errno on a system failure; FILE_ESYMLINK when a
 * directory on the way is a symlink, -ENOTDIR when it is something else
 * that is not a directory, FILE_ENAME_* when rel itself is malformed.
 */
#ifndef UFTP_FS_BENEATH_H
#define UFTP_FS_BENEATH_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "core/fs/fs.h"

/* Flags (not all meaningful to every function; see each). */
enum {
    FS_F_PARENTS = 0x01,   /* create missing parent dirs (mode 0777 & ~umask) */
    FS_F_EXCL = 0x02,      /* the file must not exist yet */
    FS_F_TRUNC = 0x04,     /* truncate an existing file */
    FS_F_NOREPLACE = 0x08, /* rename: fail with -EEXIST if the target exists */
};

/* How directories are resolved; FS_RESOLVE_WALK forces the fallback (tests). */
enum fs_resolve_mode {
    FS_RESOLVE_AUTO, /* openat2 when the kernel has it, else the walk */
    FS_RESOLVE_WALK, /* always the O_NOFOLLOW per-component walk */
};
void fs_set_resolve_mode(enum fs_resolve_mode mode);
/* True when openat2 is in use (probed once, on first use). */
bool fs_using_openat2(void);

/*
 * Opens a configured directory by path (trusted: the operator may point it
 * through a symlink). Returns an O_DIRECTORY fd or -errno.
 */
int fs_dir_open(const char *path);

/*
 * Opens the directory that holds rel's last component and points *leaf at
 * that component inside rel. With FS_F_PARENTS, missing directories are
 * created. Returns an fd the caller closes, or an error (see above).
 */
int fs_parent_open(int base, const char *rel, unsigned flags, const char **leaf);

/*
 * Opens rel itself as a directory beneath base (FS_F_PARENTS: creating it
 * and its parents). Returns an fd or an error; FILE_ESYMLINK if rel is a link.
 */
int fs_subdir_open(int base, const char *rel, unsigned flags);

/*
 * Opens or creates the regular file rel for writing (O_WRONLY, mode
 * 0666 & ~umask). Flags: FS_F_PARENTS, FS_F_EXCL, FS_F_TRUNC. Never follows a
 * final symlink and never blocks on a fifo. Returns an fd, or
 * FILE_EFINALLINK (rel is a symlink), -EISDIR (a directory), FILE_ENOTREG
 * (another non-regular file), FILE_EHARDLINK (an existing file with other hard
 * links: writing it in place would change files outside the tree),
 * -EEXIST (FS_F_EXCL), or an error from the parent walk.
 */
int fs_file_open(int base, const char *rel, unsigned flags);

/*
 * The temp file name of rel in receive-to-temp mode (uftpd -t, spec §2.2):
 * "<rel>.~uftp-<GROUPID %08X>-<FILEID %04X>", as the reference names it.
 * Returns the length, or -ENAMETOOLONG if it does not fit in cap or the last
 * component would exceed NAME_MAX.
 */
int fs_temp_name(char *out, size_t cap, const char *rel, uint32_t group_id, uint16_t file_id);

/*
 * Renames from (beneath fbase) to to (beneath tbase), atomically replacing a
 * file at to unless FS_F_NOREPLACE. FS_F_PARENTS creates to's parents.
 * Neither path's directories may be symlinks; a symlink as the final
 * component of either is renamed/replaced itself, never followed. Returns 0,
 * -EXDEV (different filesystems: the caller must copy), -EISDIR / -ENOTEMPTY
 * / -ENOTDIR (a directory involved: the caller removes or backs it up and
 * retries), -EEXIST (FS_F_NOREPLACE), -ENOENT, or a walk error.
 */
int fs_rename(int fbase, const char *from, int tbase, const char *to, unsigned flags);

/*
 * Removes rel: a file, a symlink (the link, never its target) or a whole
 * directory tree (for @DELETE, spec §2.1), never following symlinks inside
 * it. Returns 0, -ENOENT, FILE_EDEPTH (deeper than FS_REMOVE_MAX_DEPTH) or
 * the first error met (removal continues past it).
 */
#define FS_REMOVE_MAX_DEPTH 256
int fs_remove(int base, const char *rel);

/*
 * Creates the symlink rel -> target. The target is opaque text (check it
 * with file_link_check first if a policy applies). FS_F_PARENTS.
 * Returns 0, -EEXIST if rel exists, or a walk error.
 */
int fs_symlink(int base, const char *rel, const char *target, unsigned flags);

/*
 * Creates the directory rel (FS_F_PARENTS: and its parents). An existing
 * directory is success; an existing symlink is FILE_EFINALLINK; anything else
 * existing is -EEXIST.
 */
int fs_mkdir(int base, const char *rel, unsigned flags);

/* Sets rel's atime and mtime to mtime (seconds); a symlink's own times. */
int fs_set_mtime(int base, const char *rel, int64_t mtime);

/* lstat of rel (sync mode, spec §2.1 -z). Returns 0, -ENOENT, walk errors. */
int fs_stat(int base, const char *rel, struct file_stat *st);

/* Bytes available to unprivileged users on dirfd's filesystem. 0 or -errno. */
int fs_free_space(int dirfd, uint64_t *avail);

/* True when the two fds are on the same filesystem (rename works). */
bool fs_same_fs(int fd1, int fd2);

/*
 * Writes all of iov[0..iovcnt) at offset off, retrying on EINTR and short
 * writes. Returns the byte count, -ENOSPC (also for EDQUOT: out of space),
 * -EIO (also when the kernel makes no progress), or another -errno.
 */
ssize_t fs_pwritev_all(int fd, const struct iovec *iov, int iovcnt, off_t off);
ssize_t fs_pwrite_all(int fd, const void *buf, size_t len, off_t off);

/* Test hook: replaces pwritev (NULL restores it). */
typedef ssize_t (*fs_pwritev_fn)(int fd, const struct iovec *iov, int iovcnt, off_t off);
void fs_set_pwritev(fs_pwritev_fn fn);

/*
 * Temp dir sessions (uftpd -T dir, spec §2.2): files are received into
 * dir/_group_<GROUPID %08X>_<INST>_<SERVERID %08X>/ and moved into the
 * dest at the end. The reference names it by group ID only; a session is
 * (server, group, instance), and so is what it owns (issue 14 item 5:
 * another server reusing the group ID must not touch it).
 */
int fs_session_name(char *out, size_t cap, uint32_t server_id, uint32_t group_id, uint8_t inst);
/* Opens (creating if FS_F_PARENTS) the session dir beneath tempbase. */
int fs_session_open(int tempbase, uint32_t server_id, uint32_t group_id, uint8_t inst,
                    unsigned flags);

/*
 * Called by fs_session_move() when a top-level entry `name` already exists
 * in the dest. Return 0 to go on with the move (after moving the old entry
 * away, e.g. to a backup dir), 1 to skip this entry, < 0 to stop.
 */
typedef int (*fs_move_fn)(const char *name, void *arg);

/*
 * Moves every top-level entry of the session dir into destfd, in sorted
 * order, with renameat (the temp dir must be on the dest's filesystem). An
 * existing target is handed to `exists` when it is given; otherwise a
 * directory (or a type mismatch) is removed first and a file is replaced
 * atomically. Returns the number of entries moved, -EXDEV (nothing moved:
 * different filesystems), or the first other error.
 */
int fs_session_move(int sessfd, int destfd, fs_move_fn exists, void *arg);

#endif
