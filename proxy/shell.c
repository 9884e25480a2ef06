/*
 * uftpproxyd's shell: the proxy engine in the service runner (core/loop,
 * DESIGN.md "The runner"). A train of forwarded datagrams of one size to
 * one place leaves as one UDP GSO send; SIGHUP re-reads the trust lists.
 */
#include "core/daemon/sdnotify.h"
#include "core/loop/loop.h"
#include "proxy/uftpproxyd.h"

LOOP_ENGINE(proxy, proxy_shutdown)

/* The first polls joined the public groups and sent the first heartbeats. */
static void on_started(void *ctx)
{
    struct uftpproxyd *d = ctx;
    daemon_start_ready(&d->start, "running");
}

static void on_stop(void *ctx)
{
    (void)ctx;
    sdnotify_stopping();
}

static void on_hup(void *ctx)
{
    uftpproxyd_reload(ctx);
}

int uftpproxyd_run(struct uftpproxyd *d)
{
    struct loop_config lc = {
        .name = "proxy",
        .sock = &d->sock,
        .engine = proxy_loop_engine(d->eng),
        .hooks = {.ctx = d,
                  .started = on_started,
                  .stop = on_stop,
                  .hup = on_hup,
                  .tick = uftpproxyd_ops_tick},
        .ifindex = d->ifidx,
        .nif = d->nif,
        .max_seg = ENG_MAX_SEG,
        /* The ABORTs go out at once; never hang on a full socket. */
        .stop_grace_us = UFTPPROXYD_STOP_SECS * 1000000ULL,
        .stop_words = "shutting down",
        /* Metrics and STATUS= (ops.c): at most once a second. */
        .tick_us = d->set.metrics_file != NULL || sdnotify_enabled() ? 1000000u : 0,
    };
    if (loop_new(&d->loop, &lc) < 0)
        return PROXY_EXIT_ALLOC;
    int rc = loop_run(d->loop);
    uftpproxyd_ops_close(d);
    loop_free(d->loop);
    d->loop = NULL;
    return rc;
}
