/*
 * Daemon life for uftpd and uftpproxyd (spec §2.2, §2.3; §6.13 says what
 * the reference gets wrong): detaching, the umask, the nice value, where the
 * log goes, and notes on privileges. Pid files are in pidfile.h, systemd
 * notification in sdnotify.h, child processes in runner.h, status files in
 * status.h; start.h puts them together in the order a daemon starts.
 */
#ifndef UFTP_DAEMON_DAEMON_H
#define UFTP_DAEMON_DAEMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Files the daemons create are not world-readable (spec §6.13: the reference uses umask 0). */
#define DAEMON_UMASK 027

/*
 * Detaches from the terminal: fork, setsid, fork again (the daemon is no
 * session leader, so it can never reacquire a terminal), chdir("/"),
 * umask(DAEMON_UMASK), stdin and stdout to /dev/null. stderr stays open
 * until daemon_detach_done(), so start-up errors still reach the terminal;
 * the original process waits for that call and exits with the code given
 * there, or with 1 when the daemon dies first, so a failed start shows in
 * `uftpd; echo $?`. The original process leaves with _exit(): atexit
 * handlers (pid file removal, ...) run only in the daemon.
 * Returns 0 in the daemon, or -errno in the original process when nothing
 * could be forked (nothing changed then).
 */
/* CLOCK_MONOTONIC in microseconds: the "now" every engine is driven with. */
uint64_t daemon_mono_us(void);

/* CLOCK_REALTIME minus daemon_mono_us(), in microseconds: what an engine
 * adds to its monotonic clock to stamp wall-clock times on the wire. */
int64_t daemon_wall_offset_us(void);

/* The engines' rng callback (ctx unused): fills buf from the kernel CSPRNG.
 * Returns 0 or a negated errno of getrandom(). */
int daemon_rng(void *ctx, void *buf, size_t len);

int daemon_detach(void);

/*
 * Tells the waiting original process to exit with code (0: started) and
 * points stderr at /dev/null. A no-op when daemon_detach() was not called
 * or this was already done.
 */
void daemon_detach_done(int code);

/*
 * Whether stderr is connected to the journal: $JOURNAL_STREAM is
 * "device:inode" of fd 2 (systemd.exec(5)). Then lines go to stderr with
 * "<N>" priority prefixes and no timestamps of our own.
 */
bool daemon_stderr_is_journal(void);

enum daemon_logdest {
    DAEMON_LOG_STDERR = 0, /* foreground (-d): a terminal or a pipe */
    DAEMON_LOG_JOURNAL,    /* stderr that systemd connected to the journal */
    DAEMON_LOG_FILE,       /* -L FILE, rolled with -g / -n */
    DAEMON_LOG_SYSLOG,     /* daemon mode without -L (not /tmp/uftpd.log: spec §6.13) */
};

struct daemon_log_cfg {
    bool foreground;     /* -d */
    const char *logfile; /* -L, or NULL */
    long long roll_mb;   /* -g, 0 = never roll */
    int keep;            /* -n */
};

/*
 * Points core/log at the right place (see enum daemon_logdest; as in the
 * reference, -L is ignored with -d). Call after daemon_detach(). Returns the
 * destination chosen (>= 0), or -errno when the log file cannot be opened
 * (logging stays on stderr then).
 */
int daemon_log_setup(const struct daemon_log_cfg *c);

/* Name of a destination for messages ("journal", "syslog", ...). */
const char *daemon_logdest_name(int dest);

/*
 * -N: sets the nice value (-20..19) unless it already is that value (so the
 * default 0 makes no system call: the systemd units forbid setpriority;
 * use Nice= there). Returns 0, -EINVAL when out of range, or -errno
 * (-EPERM / -EACCES: lowering it needs CAP_SYS_NICE).
 */
int daemon_set_nice(int prio);

struct daemon_privs {
    uid_t uid, euid;
    gid_t gid, egid;
    uint64_t cap_eff; /* effective capability set, bit n = capability n */
    bool no_new_privs;
};

/* Fills p from the kernel (getresuid, capget, PR_GET_NO_NEW_PRIVS). Returns 0 or -errno. */
int daemon_privs_get(struct daemon_privs *p);

/*
 * Logs what the daemon runs with: a warning when it runs as root or holds
 * capabilities (neither is needed: port 1044 is unprivileged and multicast
 * joins need no capability; run it as a dedicated user, as the systemd
 * units do), and the user at verbose level otherwise. Returns the number of
 * warnings logged.
 */
int daemon_privs_log(void);

#endif
