/*
 * uftpd's shell: the receiver engine in the service runner (core/loop,
 * DESIGN.md "The runner"). Blocks are decrypted in place in the receive
 * buffers and written from there (store.c) within one receive batch; the
 * post-receive commands' exits are the loop's watch.
 */
#include "core/daemon/runner.h"
#include "core/daemon/sdnotify.h"
#include "core/loop/loop.h"
#include "receiver/uftpd.h"

/* SIGTERM: receiver_shutdown() aborts every session: ABORT to its server, files discarded. */
LOOP_ENGINE(receiver, receiver_shutdown)

static void on_rx_begin(void *ctx, const void *mem, size_t len)
{
    struct uftpd *d = ctx;
    store_batch_begin(&d->store, mem, len);
}

static void on_rx_end(void *ctx)
{
    struct uftpd *d = ctx;
    store_batch_end(&d->store);
}

/* The first polls joined the public groups: the waiting parent exits 0, READY=1. */
static void on_started(void *ctx)
{
    uftpd_notify_ready(ctx);
}

/* SIGTERM: the post-receive commands get their grace period too. */
static void on_stop(void *ctx)
{
    struct uftpd *d = ctx;
    d->stopping = true;
    sdnotify_stopping();
    uftpd_life_stop(d);
}

/* SIGHUP: sessions in progress keep running (life.c). */
static void on_hup(void *ctx)
{
    uftpd_reload(ctx);
}

/* The engine is done (after SIGTERM): the loop ends once the commands are gone too. */
static void on_done(void *ctx, int code)
{
    struct uftpd *d = ctx;
    (void)code;
    d->done = true;
    uftpd_maybe_exit(d);
}

int uftpd_run(struct uftpd *d)
{
    struct loop_config lc = {
        .name = "receiver",
        .sock = &d->sock,
        .engine = receiver_loop_engine(d->eng),
        .hooks = {.ctx = d,
                  .rx_begin = on_rx_begin,
                  .rx_end = on_rx_end,
                  .started = on_started,
                  .stop = on_stop,
                  .hup = on_hup,
                  .done = on_done,
                  .watch = uftpd_life_poll,
                  .tick = uftpd_ops_tick},
        .ifindex = d->ifidx,
        .nif = d->nif,
        .max_seg = 1, /* replies, one datagram each */
        /* ABORTs go out at once and post-receive commands get their grace period;
         * never hang (systemd's TimeoutStopSec is 30 s). */
        .stop_grace_us = UFTPD_STOP_SECS * 1000000ULL,
        .stop_words = "shutting down",
        .watch_fd = runner_fd(d->runner),
        /* Metrics, STATUS= and the expiry of -T restart state (ops.c): at most once a
         * second. */
        .tick_us = d->set.metrics_file != NULL || sdnotify_enabled() ||
                           (d->store.tempfd >= 0 && d->store.restart_keep_s > 0)
                       ? 1000000u
                       : 0,
    };
    if (loop_new(&d->loop, &lc) < 0)
        return DAEMON_EXIT_ALLOC;
    int rc = loop_run(d->loop);
    uftpd_ops_close(d);
    loop_free(d->loop);
    d->loop = NULL;
    return rc;
}
