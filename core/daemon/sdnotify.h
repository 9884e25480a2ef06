/*
 * The systemd notification protocol (sd_notify(3)) without libsystemd: one
 * datagram of "KEY=VALUE\n..." lines to the AF_UNIX socket named by
 * $NOTIFY_SOCKET, a path ("/run/systemd/notify") or an abstract name
 * ("@..."). Used by the daemons under Type=notify: READY=1 once the sockets
 * are bound, RELOADING=1 / READY=1 around a SIGHUP re-read, STOPPING=1 on
 * SIGTERM, STATUS= for `systemctl status`.
 *
 * sdnotify_init() takes the socket name out of the environment so that
 * children (the post-receive command) do not inherit it. Every sender is a
 * no-op returning 0 when there is no socket, so callers need no "under
 * systemd?" test of their own.
 */
#ifndef UFTP_DAEMON_SDNOTIFY_H
#define UFTP_DAEMON_SDNOTIFY_H

#include <stdbool.h>
#include <stdint.h>

/* Longest message sent; longer STATUS= texts are cut. */
#define SDNOTIFY_MSG_MAX 1024

/*
 * Reads and unsets $NOTIFY_SOCKET (and $WATCHDOG_USEC / $WATCHDOG_PID).
 * Call once, early. Returns 1 when a usable socket name was found, 0 when
 * none was set, -EAFNOSUPPORT for a name that is neither a path nor "@..."
 * (e.g. "vsock:"), -ENAMETOOLONG for one that does not fit sockaddr_un.
 */
int sdnotify_init(void);

/* Whether sdnotify_init() found a socket. */
bool sdnotify_enabled(void);

/*
 * Sends one message (e.g. "READY=1\nSTATUS=listening"). Returns 1 when
 * sent, 0 when there is no socket, -errno when the send failed (-EMSGSIZE
 * for a message over SDNOTIFY_MSG_MAX, -EINVAL for an empty one).
 */
int sdnotify_send(const char *msg);

/* "READY=1"; with status != NULL also "STATUS=status". */
int sdnotify_ready(const char *status);

/* "RELOADING=1\nMONOTONIC_USEC=now": the start of a SIGHUP re-read; READY=1 ends it. */
int sdnotify_reloading(void);

/* "STOPPING=1". */
int sdnotify_stopping(void);

/* "STATUS=..." (printf-style; cut to fit, newlines replaced by spaces). */
int sdnotify_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Forgets the socket (tests; a forked child that must not notify). */
void sdnotify_reset(void);

#endif
