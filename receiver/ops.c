/*
 * uftpd as an operator sees it (issue 15): the engine's counters as
 * Prometheus metrics in the metrics-file (core/daemon/metrics.h), and a
 * one-line STATUS= for `systemctl status`, both from the loop's tick once
 * a second. The engine only counts (receiver_stats); this turns the counts
 * into names. Label values are this file's constants, never network text.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/daemon/metrics.h"
#include "core/daemon/sdnotify.h"
#include "core/log.h"
#include "core/loop/loop.h"
#include "receiver/uftpd.h"

static uint64_t sub0(uint64_t a, uint64_t b)
{
    return a > b ? a - b : 0;
}

/* The metrics of st and ls (ls may be NULL) into b: what the file holds. */
static void uftpd_metrics_fill(struct metrics_buf *b, const struct receiver_stats *st,
                               const struct loop_stats *ls)
{
    metrics_family(b, "uftpd_sessions_active", "gauge", "Sessions in progress.");
    metrics_u64(b, "uftpd_sessions_active", NULL, st->sessions);
    metrics_counter(b, "uftpd_sessions_started_total", "Sessions accepted.", st->sessions_seen);
    metrics_counter(b, "uftpd_sessions_completed_total", "Sessions that ended complete.",
                    st->sessions_completed);
    const struct metrics_row failed[] = {
        {"server_abort", st->sessions_failed[RECEIVER_FAIL_SERVER]},
        {"timeout", st->sessions_failed[RECEIVER_FAIL_TIMEOUT]},
        {"error", st->sessions_failed[RECEIVER_FAIL_ERROR]},
        {"security", st->sessions_failed[RECEIVER_FAIL_SECURITY]},
        {"shutdown", st->sessions_failed[RECEIVER_FAIL_SHUTDOWN]},
        {"evicted", st->evicted},
    };
    metrics_counters(b, "uftpd_sessions_failed_total",
                     "Sessions that ended without completing, by reason.", "reason", failed,
                     sizeof(failed) / sizeof(failed[0]));
    const struct metrics_row refused_sessions[] = {{"policy", st->sessions_refused},
                                                   {"slots_full", st->slots_full}};
    metrics_counters(b, "uftpd_sessions_refused_total",
                     "ANNOUNCEs refused, by reason (not allowed, or no slot free).", "reason",
                     refused_sessions, 2);
    metrics_counter(b, "uftpd_files_received_total", "Files received whole.", st->files_ok);
    metrics_counter(b, "uftpd_files_failed_total", "Files rejected or aborted.", st->files_failed);
    metrics_counter(b, "uftpd_received_bytes_total", "File data received (new blocks only).",
                    st->data_bytes);
    metrics_counter(b, "uftpd_data_datagrams_total", "FILESEG datagrams with a new block.",
                    st->data_packets);
    metrics_counter(b, "uftpd_duplicate_datagrams_total",
                    "FILESEG datagrams for blocks already held.", st->dup_packets);
    metrics_counter(b, "uftpd_parity_datagrams_total",
                    "FEC_PARITY datagrams accepted (ours, issue 17).", st->fec_parity);
    metrics_counter(b, "uftpd_rebuilt_blocks_total",
                    "Blocks rebuilt from parity (in received bytes too).", st->fec_decoded);
    metrics_counter(b, "uftpd_naks_sent_total", "Blocks asked for again (NAKs in STATUS messages).",
                    st->nak_blocks);
    metrics_counter(b, "uftpd_nak_messages_sent_total", "STATUS messages (NAK lists) sent.",
                    st->nak_packets);

    /* Each refused datagram once; "other": what the pipeline drops for no
     * reason named here (out-of-window sequence numbers, a wrong source ID). */
    uint64_t named = st->auth_failed + st->cleartext + st->nokeys + st->replayed + st->stale +
                     st->malformed + st->pk_limited;
    const struct metrics_row refused[] = {
        {"authentication", st->auth_failed},
        {"cleartext", st->cleartext},
        {"no_keys", st->nokeys},
        {"replay", st->replayed},
        {"stale_announce", st->stale},
        {"malformed", st->malformed},
        {"public_key_budget", st->pk_limited},
        {"other", sub0(st->dropped, named)},
    };
    metrics_counters(b, "uftpd_datagrams_refused_total",
                     "Datagrams dropped before they could act, by reason.", "reason", refused,
                     sizeof(refused) / sizeof(refused[0]));
    metrics_counter(b, "uftpd_replies_held_total",
                    "Replies not sent: beyond 3 x what their peer sent (amplification limit).",
                    st->amp_held);
    const struct metrics_row pk[] = {{"done", st->pk_done}, {"refused", st->pk_limited}};
    metrics_counters(b, "uftpd_public_key_operations_total",
                     "Public-key work on unauthenticated input, done or refused by the budget.",
                     "result", pk, 2);
    if (ls != NULL) {
        metrics_counter(b, "uftpd_received_datagrams_total", "Datagrams read from the socket.",
                        ls->rx.dgrams);
        metrics_counter(b, "uftpd_socket_drops_total",
                        "Datagrams the kernel dropped on the socket (SO_RXQ_OVFL).",
                        ls->rx.sock_drops);
        metrics_counter(b, "uftpd_sent_datagrams_total", "Datagrams sent.", ls->tx.dgrams);
    }
}

int uftpd_ops_open(struct uftpd *d)
{
    metrics_init(&d->metrics);
    if (d->set.metrics_file == NULL)
        return 0;
    int rc = metrics_path_check(d->set.metrics_file);
    if (rc < 0) {
        log_errx("metrics file %s: %s", d->set.metrics_file,
                 rc == -EINVAL ? "not an absolute file name" : strerror(-rc));
        return DAEMON_EXIT_LOG;
    }
    return 0;
}

static void write_metrics(struct uftpd *d, const struct receiver_stats *st)
{
    struct loop_stats ls;
    if (d->loop != NULL)
        ls = loop_stats(d->loop);
    metrics_reset(&d->metrics);
    uftpd_metrics_fill(&d->metrics, st, d->loop != NULL ? &ls : NULL);
    int rc = metrics_write(&d->metrics, d->set.metrics_file);
    if (rc < 0 && !d->metrics_failed)
        log_warnx("cannot write the metrics file %s: %s (said once)", d->set.metrics_file,
                  strerror(-rc));
    d->metrics_failed = rc < 0;
}

void uftpd_ops_tick(void *ctx, uint64_t now_us)
{
    struct uftpd *d = ctx;
    if (d->store.tempfd >= 0 && d->store.restart_keep_s > 0 && now_us >= d->expire_at) {
        /* Issue 13: --restart-keep runs out while idle too (an eighth of it between
         * sweeps, 1 to 60 s), not only as the next session starts. */
        int64_t every = d->store.restart_keep_s / 8;
        every = every < 1 ? 1 : every > 60 ? 60 : every;
        if (d->expire_at != 0)
            store_expire(&d->store);
        d->expire_at = now_us + (uint64_t)every * 1000000u;
    }
    struct receiver_stats st;
    receiver_stats(d->eng, &st);
    if (d->set.metrics_file != NULL && now_us >= d->metrics_at) {
        d->metrics_at = now_us + (uint64_t)d->set.metrics_interval * 1000000u;
        write_metrics(d, &st);
    }
    if (!sdnotify_enabled() || d->stopping)
        return;
    /* The rate since the last tick (about a second). */
    double rate = 0;
    if (d->rate_at != 0 && now_us > d->rate_at)
        rate = (double)(st.data_bytes - d->rate_bytes) * 1e6 / (double)(now_us - d->rate_at);
    d->rate_at = now_us;
    d->rate_bytes = st.data_bytes;
    char line[160];
    snprintf(line, sizeof(line),
             "%u session%s, %llu file%s received (%.1f MB), receiving %.2f MB/s", st.sessions,
             st.sessions == 1 ? "" : "s", (unsigned long long)st.files_ok,
             st.files_ok == 1 ? "" : "s", (double)st.data_bytes / 1e6, rate / 1e6);
    if (strcmp(line, d->status_line) != 0) {
        snprintf(d->status_line, sizeof(d->status_line), "%s", line);
        sdnotify_status("%s", line);
    }
}

void uftpd_ops_close(struct uftpd *d)
{
    /* The last counts stay for the collector to read: the end of a run shows. */
    if (d->set.metrics_file != NULL && d->eng != NULL) {
        struct receiver_stats st;
        receiver_stats(d->eng, &st);
        write_metrics(d, &st);
    }
    metrics_free(&d->metrics);
}
