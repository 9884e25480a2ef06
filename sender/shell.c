/*
 * uftp's shell: the sender engine in the service runner (core/loop,
 * DESIGN.md "The runner"). The engine writes FILESEG batches into the
 * runner's buffer, each leaves in one UDP GSO send; file data comes in
 * with one preadv per batch (storage.c). Around it: the progress line, the
 * results and the summary.
 */
#include <inttypes.h>

#include "core/daemon/daemon.h"
#include "core/log.h"
#include "core/loop/loop.h"
#include "sender/uftp.h"

/* SIGINT / SIGTERM: sender_interrupt() sends ABORT to every receiver (spec §1.4). */
LOOP_ENGINE(sender, sender_interrupt)

static void on_send(void *ctx, const struct eng_out *out)
{
    struct uftp *u = ctx;
    if (u->tty_progress || log_enabled(LL_INFO)) {
        struct sender_stats st;
        sender_stats(u->eng, &st);
        progress_sent(&u->progress, &st, out);
    }
}

/* The engine's events: the results and -S (summary.c), the restart file (resume.c). */
static void on_event(void *ctx, const struct sender_event *ev)
{
    struct uftp *u = ctx;
    summary_event(&u->summary, ev);
    resume_event(u, ev);
}

static void on_tick(void *ctx, uint64_t now)
{
    struct uftp *u = ctx;
    resume_tick(u);
    struct sender_stats st;
    sender_stats(u->eng, &st);
    const struct result_table *r = &u->summary.res;
    bool cur = r->file == st.file_index;
    progress_tick(&u->progress, &st, cur ? r->done : 0, cur ? r->failed : 0, now);
}

/* The end of the session in the log: what went, how fast, what was dropped. */
static void log_end(struct uftp *u, int code, uint64_t start_us)
{
    struct sender_stats st;
    sender_stats(u->eng, &st);
    double secs = (double)(daemon_mono_us() - start_us) / 1e6;
    char b[32], r[32];
    progress_bytes(b, sizeof(b), (double)st.data_bytes);
    progress_bytes(r, sizeof(r), secs > 0 ? (double)st.data_bytes / secs : 0);
    log_info("session %08X ended (exit %d): %" PRIu32 " file%s, %s (%" PRIu64
             " bytes) of data in %.2f s (%s/s), %" PRIu64 " NAKs",
             st.group_id, code, st.files_done, st.files_done == 1 ? "" : "s", b, st.data_bytes,
             secs, r, st.naks);
    if (st.fec_decoders + st.fec_packets > 0)
        log_info("parity (issue 17): %" PRIu32 " receiver%s decoding, %" PRIu64
                 " FEC_PARITY sent, %" PRIu64 " FILESEG",
                 st.fec_decoders, st.fec_decoders == 1 ? "" : "s", st.fec_packets, st.data_packets);
    if (st.auth_failed + st.replayed + st.cleartext + st.nokeys + st.pk_limited > 0)
        log_info("dropped: %" PRIu64 " unauthenticated, %" PRIu64 " replayed, %" PRIu64
                 " cleartext, %" PRIu64 " without keys, %" PRIu64 " over the public-key budget",
                 st.auth_failed, st.replayed, st.cleartext, st.nokeys, st.pk_limited);
}

int shell_run(struct uftp *u)
{
    u->summary.items = u->items;
    u->summary.table = u->tty_progress;
    u->summary.res.file = UINT32_MAX;
    if (u->set.sync_preview && u->set.rate > 0)
        u->summary.preview_kbps = u->set.rate;
    /* A closed group's receivers in -H order, by the names given there (spec §2.1). */
    for (size_t i = 0; i < u->set.dests.n; i++)
        if (results_get(&u->summary.res, u->set.dests.v[i].id, u->set.dests.v[i].name) == NULL)
            break;
    struct sender_env env = {
        .ctx = u,
        .rng = daemon_rng,
        .storage = file_storage,
        .event = on_event,
        .log = *log_elog(),
    };
    u->cfg.wall_offset_us = daemon_wall_offset_us();
    int rc = sender_new(&u->eng, &u->cfg, &env);
    if (rc < 0) {
        log_errx("cannot start the session: %s", eng_strerror(rc));
        return rc == ENG_ENOMEM ? SENDER_EXIT_ALLOC : SENDER_EXIT_PARAM;
    }
    struct sender_stats st;
    sender_stats(u->eng, &st);
    log_info("starting session %08X, %zu item%s", st.group_id, u->nitems,
             u->nitems == 1 ? "" : "s");
    if ((rc = resume_start(u)) != 0)
        return rc;

    struct loop_config lc = {
        .name = "sender",
        .sock = &u->sock,
        .engine = sender_loop_engine(u->eng),
        .hooks = {.ctx = u, .send = on_send, .tick = on_tick},
        .max_seg = ENG_MAX_SEG,
        .no_gso = !u->set.gso,
        .tick_us = 500000,
        .stop_words = "aborting the session",
        .fail_exit = SENDER_EXIT_ALLOC,
        .forced_exit = SENDER_EXIT_INTERRUPTED,
    };
    struct loop *l;
    if (loop_new(&l, &lc) < 0)
        return SENDER_EXIT_ALLOC;
    progress_start(&u->progress, u->items, u->nitems, u->tty_progress, u->cfg.keytype != KEY_NONE);
    uint64_t start_us = daemon_mono_us();
    int code = loop_run(l);
    progress_stop(&u->progress);
    loop_free(l);
    log_end(u, code, start_us);
    summary_end(&u->summary);
    resume_end(u, code);
    return code;
}
