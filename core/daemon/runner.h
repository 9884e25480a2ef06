/*
 * A safe runner for the receiver's post-receive command (uftpd -s, spec
 * §2.2): `cmd -I <GROUPID> file...`, GROUPID as 8 upper-case hex digits, as
 * the reference calls it. Unlike the reference (a bare fork+execv that
 * closes stdout/stderr and forgets the child), a command here:
 *   - is an absolute path, run by posix_spawn (no shell, no PATH search);
 *   - gets stdin from /dev/null, stdout/stderr on out_fd or /dev/null, no
 *     other descriptors, default signal dispositions, an empty signal mask,
 *     and a process group of its own;
 *   - is time-limited: SIGTERM to its process group after time_limit_us,
 *     SIGKILL after kill_grace_us more;
 *   - is reaped without blocking: the runner exposes one descriptor (an
 *     epoll set of pidfds) that becomes readable when a child exits, and a
 *     deadline; the shell watches both and calls runner_poll().
 * At most max_running commands run at once and max_queued wait; an argument
 * vector is bounded by RUNNER_ARGC_MAX and RUNNER_ARGV_BYTES, and a long
 * file list is split over several runs (like xargs) instead of failing.
 *
 * In the service runner (core/loop): runner_fd() is the loop's watch_fd;
 * its watch hook calls runner_poll(r, now_us) and loop_watch_at(loop,
 * runner_deadline(r)).
 *
 * SIGCHLD must not be ignored (SIG_IGN reaps children behind our back);
 * the default disposition is right.
 */
#ifndef UFTP_DAEMON_RUNNER_H
#define UFTP_DAEMON_RUNNER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Bounds of one argument vector: entries (with argv[0]) and bytes (strings and NULs). */
#define RUNNER_ARGC_MAX   4096
#define RUNNER_ARGV_BYTES (128 * 1024)

/* Defaults used for zero fields of struct runner_cfg. */
#define RUNNER_DEF_RUNNING  4
#define RUNNER_DEF_QUEUED   64
#define RUNNER_DEF_LIMIT_US (300 * 1000000ULL)
#define RUNNER_DEF_GRACE_US (5 * 1000000ULL)
/* How often exits are polled when pidfds are unavailable. */
#define RUNNER_POLL_US (250 * 1000ULL)

struct runner_done {
    const char *path; /* argv[0]; valid during the done() call only */
    pid_t pid;        /* 0 when the command could not be started */
    int status;       /* wait status (WIFEXITED ...), valid when pid > 0 */
    int spawn_err;    /* errno of a failed start, else 0 */
    bool timed_out;   /* killed for running past the time limit */
    uint64_t run_us;  /* from start to reaping */
};

struct runner_cfg {
    unsigned max_running;   /* 0: RUNNER_DEF_RUNNING */
    unsigned max_queued;    /* 0: RUNNER_DEF_QUEUED */
    uint64_t time_limit_us; /* 0: RUNNER_DEF_LIMIT_US */
    uint64_t kill_grace_us; /* 0: RUNNER_DEF_GRACE_US */
    int out_fd;             /* the child's stdout and stderr; -1: /dev/null */
    bool poll_only;         /* no pidfds: poll every RUNNER_POLL_US (the fallback; tests) */
    /* Called for each finished (or failed) job; may be NULL. The runner logs either way. */
    void (*done)(void *arg, const struct runner_done *d);
    void *done_arg;
};

struct runner;

/* NULL when out of memory or descriptors. cfg is copied. */
struct runner *runner_new(const struct runner_cfg *cfg);

/*
 * Kills (SIGKILL to each process group) and reaps every running child,
 * drops queued jobs, frees. Blocks only for the reaping. NULL is fine.
 */
void runner_free(struct runner *r);

/*
 * Starts argv (NULL-terminated, copied) now, or queues it when max_running
 * are busy. Returns 0, or:
 * -EINVAL  argv[0] missing or not an absolute path,
 * -E2BIG   more than RUNNER_ARGC_MAX entries or RUNNER_ARGV_BYTES bytes,
 * -EAGAIN  the queue is full,
 * -ENOMEM.
 * A command that cannot be spawned (missing, not executable) is reported
 * through the log and done(), not here.
 */
int runner_submit(struct runner *r, const char *const argv[], uint64_t now_us);

/*
 * The post-receive call: `cmd -I %08X file...` (spec §2.2), split into as
 * few runs as the bounds allow, in order. Returns the number of runs
 * submitted (>= 1), or an error of runner_submit() for the first run that
 * failed (the ones before it stay submitted), or -E2BIG when a single file
 * name does not fit a vector on its own.
 */
int runner_postreceive(struct runner *r, const char *cmd, uint32_t group_id,
                       const char *const files[], size_t nfiles, uint64_t now_us);

/*
 * Checks a configured command: an absolute path to an executable regular
 * file. Returns 0, -EINVAL (not absolute), -EISDIR / -ENOEXEC (not a regular
 * file), or -errno of stat/access (-ENOENT, -EACCES).
 */
int runner_command_check(const char *path);

/* Readable when a child may have exited; -1 when the kernel has no pidfds (poll by deadline). */
int runner_fd(const struct runner *r);

/* Monotonic µs at which runner_poll() is next due; UINT64_MAX when nothing runs. */
uint64_t runner_deadline(const struct runner *r);

/* Reaps exited children, signals overdue ones, starts queued jobs. Never blocks. */
void runner_poll(struct runner *r, uint64_t now_us);

size_t runner_running(const struct runner *r);
size_t runner_queued(const struct runner *r);

/*
 * SIGTERM to every running child's process group and drops the queue (the
 * daemon is stopping); runner_poll() still reaps them and SIGKILLs after
 * kill_grace_us.
 */
void runner_terminate(struct runner *r, uint64_t now_us);

/* Monotonic clock in µs, for callers without one. */
uint64_t runner_now_us(void);

#endif
