/*
 * Pid files (-P) that cannot be raced or planted (spec §6.13: the reference
 * writes them with fopen(), world-writable under umask 0).
 *
 * The file is created O_EXCL|O_NOFOLLOW, mode 0644, and held under an
 * open-file-description lock (F_OFD_SETLK) for the life of the daemon. The
 * lock, not the pid in the file, says whether the owner still runs: a file
 * left by a dead process is unlocked, so it is taken over in place; a file
 * that is locked belongs to a running daemon and is left alone. OFD locks
 * are shared with children through fork(), so the file can be opened before
 * daemon_detach() (errors still reach the terminal) and written after it.
 *
 *   struct pidfile *pf;
 *   pid_t other;
 *   int rc = pidfile_open(path, &pf, &other);   // before detaching
 *   if (rc == -EEXIST) fatalx(..., "already running as pid %d", other);
 *   daemon_detach();
 *   pidfile_write(pf);                          // the daemon's own pid
 *   ...
 *   pidfile_remove(pf);                         // at exit
 */
#ifndef UFTP_DAEMON_PIDFILE_H
#define UFTP_DAEMON_PIDFILE_H

#include <sys/types.h>

struct pidfile;

/*
 * Creates (or takes over a stale) pid file and locks it. Returns 0, or:
 * -EEXIST when another live process holds it (*other = its pid, or 0 when
 *         the file does not hold one yet),
 * -ELOOP  when path is a symlink,
 * -EINVAL when path exists and is not a regular file (-EISDIR: a directory), or
 *         has other hard links,
 * -ENOMEM, or another -errno from open/fcntl.
 */
int pidfile_open(const char *path, struct pidfile **out, pid_t *other);

/* Writes getpid() and a newline, replacing what was there. Returns 0 or -errno. */
int pidfile_write(struct pidfile *pf);

/* Unlinks the file (if it is still ours), unlocks and frees. NULL is fine. */
void pidfile_remove(struct pidfile *pf);

/* Closes and frees without unlinking (in a forked child that execs). NULL is fine. */
void pidfile_close(struct pidfile *pf);

/*
 * Reads the pid of the process that holds a pid file's lock, for tools and
 * tests: returns the pid (> 0), 0 when the file exists but nobody holds it
 * (stale), or -errno (-ENOENT when there is none).
 */
pid_t pidfile_owner(const char *path);

#endif
