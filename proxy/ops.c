/*
 * uftpproxyd as an operator sees it (issue 15): the engine's counters as
 * Prometheus metrics in the metrics-file (core/daemon/metrics.h), and a
 * one-line STATUS= for `systemctl status`, from the loop's tick once a
 * second. The engine only counts (proxy_stats); label values are this
 * file's constants, never network text.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/daemon/metrics.h"
#include "core/daemon/sdnotify.h"
#include "core/log.h"
#include "core/loop/loop.h"
#include "proxy/uftpproxyd.h"

static uint64_t sub0(uint64_t a, uint64_t b)
{
    return a > b ? a - b : 0;
}

/* The metrics of st and ls (ls may be NULL) into b: what the file holds. */
static void uftpproxyd_metrics_fill(struct metrics_buf *b, const struct proxy_stats *st,
                                    const struct loop_stats *ls)
{
    metrics_family(b, "uftpproxyd_sessions_active", "gauge", "Sessions in progress.");
    metrics_u64(b, "uftpproxyd_sessions_active", NULL, st->sessions);
    metrics_family(b, "uftpproxyd_clients_active", "gauge",
                   "Clients (receivers or proxies) in the sessions in progress.");
    metrics_u64(b, "uftpproxyd_clients_active", NULL, st->clients);
    metrics_counter(b, "uftpproxyd_sessions_started_total", "Sessions accepted.",
                    st->sessions_seen);
    metrics_counter(b, "uftpproxyd_sessions_completed_total", "Sessions that ended complete.",
                    st->sessions_completed);
    const struct metrics_row failed[] = {
        {"server_abort", st->sessions_failed[PROXY_FAIL_SERVER]},
        {"idle", st->sessions_failed[PROXY_FAIL_IDLE]},
        {"keys", st->sessions_failed[PROXY_FAIL_KEYS]},
        {"shutdown", st->sessions_failed[PROXY_FAIL_SHUTDOWN]},
        {"unconfirmed", st->expired},
        {"evicted", st->evicted},
    };
    metrics_counters(b, "uftpproxyd_sessions_failed_total",
                     "Sessions that ended before every client was done, by reason.", "reason",
                     failed, sizeof(failed) / sizeof(failed[0]));
    metrics_counter(b, "uftpproxyd_forwarded_datagrams_total", "Datagrams forwarded unchanged.",
                    st->forwarded);
    metrics_counter(b, "uftpproxyd_aggregated_answers_total",
                    "Client answers merged into aggregates (the proxy's aggregation, in).",
                    st->aggregated_in);
    metrics_counter(b, "uftpproxyd_aggregates_sent_total",
                    "Aggregated messages sent upstream (the proxy's aggregation, out).",
                    st->aggregated_out);

    /* Each refused datagram once. "limits": a session, client or slot over
     * a limit; "other": what the pipeline drops for no reason named here. */
    uint64_t named = st->malformed + st->auth_failed;
    const struct metrics_row refused[] = {
        {"authentication", st->auth_failed + st->hb_auth_failed},
        {"replay", st->stale},
        {"malformed", st->malformed},
        {"public_key_budget", st->pk_limited},
        {"limits", sub0(st->refused, st->pk_limited)},
        {"queue_full", st->queue_drops},
        {"other", sub0(st->dropped, named)},
    };
    metrics_counters(b, "uftpproxyd_datagrams_refused_total",
                     "Datagrams dropped or refused, by reason.", "reason", refused,
                     sizeof(refused) / sizeof(refused[0]));
    metrics_counter(b, "uftpproxyd_held_datagrams_total",
                    "Datagrams not sent: beyond 3 x what their session or source sent.",
                    st->amp_held);
    const struct metrics_row pk[] = {{"done", st->pk_done}, {"refused", st->pk_limited}};
    metrics_counters(b, "uftpproxyd_public_key_operations_total",
                     "Public-key work on unauthenticated input, done or refused by the budget.",
                     "result", pk, 2);
    const struct metrics_row hb[] = {{"ok", st->hb_auth_ok}, {"failed", st->hb_auth_failed}};
    metrics_counters(b, "uftpproxyd_heartbeats_total",
                     "Heartbeats checked in fingerprint mode, by result.", "result", hb, 2);
    if (ls != NULL) {
        metrics_counter(b, "uftpproxyd_received_datagrams_total", "Datagrams read from the socket.",
                        ls->rx.dgrams);
        metrics_counter(b, "uftpproxyd_socket_drops_total",
                        "Datagrams the kernel dropped on the socket (SO_RXQ_OVFL).",
                        ls->rx.sock_drops);
        metrics_counter(b, "uftpproxyd_sent_datagrams_total", "Datagrams sent.", ls->tx.dgrams);
    }
}

static void write_metrics(struct uftpproxyd *d, const struct proxy_stats *st)
{
    struct loop_stats ls;
    if (d->loop != NULL)
        ls = loop_stats(d->loop);
    metrics_reset(&d->metrics);
    uftpproxyd_metrics_fill(&d->metrics, st, d->loop != NULL ? &ls : NULL);
    int rc = metrics_write(&d->metrics, d->set.metrics_file);
    if (rc < 0 && !d->metrics_failed)
        log_warnx("cannot write the metrics file %s: %s (said once)", d->set.metrics_file,
                  strerror(-rc));
    d->metrics_failed = rc < 0;
}

void uftpproxyd_ops_tick(void *ctx, uint64_t now_us)
{
    struct uftpproxyd *d = ctx;
    struct proxy_stats st;
    proxy_stats(d->eng, &st);
    if (d->set.metrics_file != NULL && now_us >= d->metrics_at) {
        d->metrics_at = now_us + (uint64_t)d->set.metrics_interval * 1000000u;
        write_metrics(d, &st);
    }
    if (!sdnotify_enabled() || d->loop == NULL)
        return;
    /* What passes through: datagrams per second since the last tick. */
    uint64_t rx = loop_stats(d->loop).rx.dgrams;
    double rate = 0;
    if (d->rate_at != 0 && now_us > d->rate_at)
        rate = (double)(rx - d->rate_dgrams) * 1e6 / (double)(now_us - d->rate_at);
    d->rate_at = now_us;
    d->rate_dgrams = rx;
    char line[160];
    snprintf(line, sizeof(line), "%s: %u session%s, %llu client%s, %.0f datagrams/s",
             proxy_role_name(d->cfg.role), st.sessions, st.sessions == 1 ? "" : "s",
             (unsigned long long)st.clients, st.clients == 1 ? "" : "s", rate);
    if (strcmp(line, d->status_line) != 0) {
        snprintf(d->status_line, sizeof(d->status_line), "%s", line);
        sdnotify_status("%s", line);
    }
}

void uftpproxyd_ops_close(struct uftpproxyd *d)
{
    if (d->set.metrics_file != NULL && d->eng != NULL) {
        struct proxy_stats st;
        proxy_stats(d->eng, &st);
        write_metrics(d, &st);
    }
    metrics_free(&d->metrics);
}
