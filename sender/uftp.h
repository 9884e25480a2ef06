/*
 * uftp, the sender (spec §2.1): its state and its parts.
 *   main.c      the options, the files, the key, the socket, the engine's
 *               configuration
 *   shell.c     the engine in the service runner (core/loop)
 *   storage.c   the engine's file reads
 *   progress.c  the progress line
 *   results.c   the per-receiver results table
 *   summary.c   log and -S status lines per event, the final summary
 */
#ifndef UFTP_SENDER_UFTP_H
#define UFTP_SENDER_UFTP_H

#include <stddef.h>

#include "core/net/sock.h"
#include "sender/engine/engine.h"
#include "sender/opts.h"
#include "sender/progress.h"
#include "sender/restart.h"
#include "sender/summary.h"

struct uftp {
    struct uftp_settings set;
    struct sender_config cfg;
    struct sender_dest *dests;   /* -H */
    struct sender_dest *proxies; /* -j */
    struct crypto_key *key;      /* -k / -K, or NULL: the engine makes an ephemeral one */
    struct file_item *items;     /* the files, strings owned */
    size_t nitems;
    struct net_sock sock;
    struct sender *eng;
    bool tty_progress; /* the progress line on the terminal */
    struct progress progress;
    struct summary summary; /* the results, -S */
    /* -f / -F (issue 13, resume.c): the restart file kept current. */
    struct restart rs;
    char *rs_path; /* NULL: no restart file */
    bool rs_dirty;
    uint32_t rs_files; /* files whose results are in */
};

/* shell.c: runs the session to its end; returns the exit code (spec §2.1). */
int shell_run(struct uftp *u);

/* resume.c: the restart file of -f / -F (restart.h) through the session. */
int resume_start(struct uftp *u); /* after sender_new: the first version; exit code or 0 */
void resume_event(struct uftp *u, const struct sender_event *ev);
void resume_tick(struct uftp *u);
void resume_end(struct uftp *u, int code); /* kept for the failed receivers, or removed */

/* storage.c: the engine's file reads. */
extern const struct sender_storage file_storage;

#endif
