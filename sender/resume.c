/*
 * uftp -f / -F (issue 13, spec §2.1): the restart file through the session.
 * Written when the session starts (everyone it serves owes every file),
 * rewritten when registration tells who is in (open group) and as results
 * come, at most every tick; at the end it lists the receivers that did not
 * get every file, or is removed when all did. Each version replaces the
 * last crash-safely (restart.c), so `kill -9` or a power cut leave one
 * that `uftp -F` can resume.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "sender/uftp.h"

static void rs_save(struct uftp *u)
{
    /* The GRTT measured so far (registration is over), for -F to start from. */
    struct sender_stats st;
    sender_stats(u->eng, &st);
    if (st.phase > SENDER_PH_ANNOUNCE && st.clients > 0 && st.grtt_us > 0)
        u->rs.grtt_us = st.grtt_us;
    int rc = restart_write(u->rs_path, &u->rs);
    if (rc < 0)
        log_warnx("cannot write restart file %s: %s", u->rs_path, strerror(-rc));
    u->rs_dirty = false;
}

int resume_start(struct uftp *u)
{
    if (u->rs_path == NULL)
        return 0;
    struct sender_stats st;
    sender_stats(u->eng, &st);
    if (u->rs_path[0] == '\0') {
        /* -f: _group_<ID>_restart in the current directory, as the reference names it. */
        char name[32];
        snprintf(name, sizeof(name), "_group_%08X_restart", st.group_id);
        free(u->rs_path);
        if ((u->rs_path = strdup(name)) == NULL)
            return SENDER_EXIT_ALLOC;
    }
    u->rs.group_id = st.group_id;
    u->rs.group_inst = st.group_inst;
    /* Until results come in, everyone served owes every file. */
    u->rs.nclients = 0;
    u->rs.open = u->cfg.ndest == 0;
    for (size_t i = 0; i < u->cfg.ndest; i++)
        if (restart_add_client(&u->rs, u->cfg.dests[i].id, u->cfg.dests[i].fp,
                               u->cfg.dests[i].fplen) < 0)
            return SENDER_EXIT_ALLOC;
    int rc = restart_write(u->rs_path, &u->rs);
    if (rc < 0) {
        log_errx("cannot write restart file %s: %s", u->rs_path, strerror(-rc));
        return SENDER_EXIT_PARAM;
    }
    log_info("restart file %s (group %08X, instance %u)", u->rs_path, u->rs.group_id,
             (unsigned)u->rs.group_inst);
    if (u->cfg.keytype != KEY_NONE && u->cfg.sigkey == NULL)
        log_warnx("restart: without -k the session's key is new each run, and uftpd -T keeps "
                  "restart state for the same server key only: give a key file (-k)");
    return 0;
}

void resume_event(struct uftp *u, const struct sender_event *ev)
{
    if (u->rs_path == NULL)
        return;
    if (ev->kind == SENDER_EV_CONNECT) {
        /* The end of registration: the GRTT is measured; in an open group, those in
         * owe the files. */
        u->rs_dirty = true;
        if (u->rs.open && ev->ok && restart_add_client(&u->rs, ev->client_id, NULL, 0) < 0)
            log_warnx("restart file: out of memory");
    } else if (ev->kind == SENDER_EV_FILE) {
        u->rs_files++;
        u->rs_dirty = true;
    }
}

void resume_tick(struct uftp *u)
{
    if (u->rs_path == NULL || !u->rs_dirty)
        return;
    /* Registration is over once a file is done: the open group's list is known. */
    if (u->rs.open && (u->rs.nclients > 0 || u->rs_files > 0))
        u->rs.open = false;
    rs_save(u);
}

/* A receiver got every file of a session that ran to its end. */
static bool got_all(const struct uftp *u, uint32_t id, int code)
{
    if (code != SENDER_EXIT_OK)
        return false;
    const struct result_row *c = results_get((struct result_table *)&u->summary.res, id, NULL);
    return c != NULL && c->connected && c->nfail == 0 &&
           (uint32_t)(c->ncopy + c->nover + c->nskip) >= u->rs_files;
}

void resume_end(struct uftp *u, int code)
{
    if (u->rs_path == NULL)
        return;
    if (u->rs.open && u->rs.nclients == 0 && code != SENDER_EXIT_NO_REGISTER) {
        rs_save(u); /* killed or interrupted before anyone was known: resume open */
        return;
    }
    size_t k = 0;
    for (size_t i = 0; i < u->rs.nclients; i++)
        if (!got_all(u, u->rs.clients[i].id, code))
            u->rs.clients[k++] = u->rs.clients[i];
    u->rs.nclients = k;
    u->rs.open = false;
    if (k == 0 && code != SENDER_EXIT_NO_REGISTER) {
        if (unlink(u->rs_path) < 0 && errno != ENOENT)
            log_warnx("cannot remove restart file %s: %s", u->rs_path, strerror(errno));
        else
            log_info("every receiver got every file: restart file %s removed", u->rs_path);
        return;
    }
    if (k == 0) {
        /* Nobody registered: resume as the session was (open group). */
        u->rs.open = true;
    }
    rs_save(u);
    log_info("restart file %s: %zu receiver%s to resume with -F", u->rs_path, k, k == 1 ? "" : "s");
}
