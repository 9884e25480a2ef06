#include "sender/summary.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "core/daemon/status.h"
#include "core/log.h"
#include "sender/progress.h"

/* A result's word in the log and its -S status, by enum sender_result (spec §2.1). */
struct result_info {
    const char *word;
    enum status_snd_res status;
};
static const struct result_info results_of[] = {
    [SENDER_RES_COPY] = {"copy", STATUS_SND_COPY},
    [SENDER_RES_SKIPPED] = {"skipped", STATUS_SND_SKIPPED},
    [SENDER_RES_OVERWRITE] = {"overwritten", STATUS_SND_OVERWRITTEN},
    [SENDER_RES_REJECTED] = {"rejected", STATUS_SND_REJECTED},
    [SENDER_RES_MUTE] = {"mute", STATUS_SND_MUTE},
    [SENDER_RES_LOST] = {"lost", STATUS_SND_LOST},
    [SENDER_RES_ABORTED] = {"aborted", STATUS_SND_ABORTED},
};

static void on_result(struct summary *u, const struct sender_event *ev)
{
    const struct file_item *it = ev->file;
    const char *name = it ? it->name : "?";
    uint64_t size = it && it->type == FTYPE_REG ? it->size : 0;
    double s = (double)ev->elapsed_us / 1e6;
    uint32_t idx = it ? (uint32_t)(it - u->items) : UINT32_MAX;
    bool copied = ev->result == SENDER_RES_COPY || ev->result == SENDER_RES_OVERWRITE;
    double kbps = 0;
    if (copied && u->preview_kbps > 0) {
        /* -Z moves nothing: times and speeds are estimated from the rate (spec §2.1). */
        kbps = (double)u->preview_kbps / 8;
        s = (double)size / (kbps * 1024);
    } else if (copied) {
        kbps = status_kbps(size, s);
    }
    struct result_row *c = results_count(&u->res, ev->client_id, idx, ev->result, size, s);
    struct result_info res = {"unknown", STATUS_SND_UNKNOWN};
    if ((size_t)ev->result < sizeof(results_of) / sizeof(results_of[0]))
        res = results_of[ev->result];
    char nb[11];
    const char *cname = c != NULL ? results_name(c, nb) : "?";
    if (copied)
        log_verbose("receiver %s: %s %s, %.2f KB/s", cname, name, res.word, kbps);
    else
        log_verbose("receiver %s: %s %s", cname, name, res.word);
    char line[STATUS_LINE_MAX];
    status_sink_put(u->status, line,
                    status_snd_result(line, sizeof(line), cname, name, size, res.status, kbps));
    /* As 5.0.1: a receiver's free space follows its RESULT line. */
    if (c != NULL && c->freespace >= 0) {
        status_sink_put(u->status, line,
                        status_snd_freespace(line, sizeof(line), name, c->freespace));
        c->freespace = -1;
    }
}

void summary_event(void *ctx, const struct sender_event *ev)
{
    struct summary *u = ctx;
    char line[STATUS_LINE_MAX], nb[11];
    switch (ev->kind) {
    case SENDER_EV_CONNECT: {
        struct result_row *c = results_get(&u->res, ev->client_id, NULL);
        const char *cname = "?";
        if (c != NULL) {
            c->connected = ev->ok;
            cname = results_name(c, nb);
        }
        log_verbose("receiver %s: %s", cname, ev->ok ? "registered" : "not registered");
        status_sink_put(u->status, line, status_snd_connect(line, sizeof(line), ev->ok, cname));
        break;
    }
    case SENDER_EV_FILE: {
        const struct file_item *it = ev->file;
        double s = (double)ev->elapsed_us / 1e6;
        char b[32], r[32];
        progress_bytes(b, sizeof(b), it ? (double)it->size : 0);
        progress_bytes(r, sizeof(r), s > 0 && it ? (double)it->size / s : 0);
        if (it != NULL && it->type == FTYPE_REG)
            log_info("sent %s (%s) in %.2f s, %s/s", it->name, b, s, r);
        break;
    }
    case SENDER_EV_RESULT:
        on_result(u, ev);
        break;
    case SENDER_EV_FREESPACE: {
        struct result_row *c = results_get(&u->res, ev->client_id, NULL);
        log_info("receiver %s: %" PRIu64 " bytes free", c ? results_name(c, nb) : "?",
                 ev->freespace);
        if (c != NULL)
            c->freespace = ev->freespace > INT64_MAX ? INT64_MAX : (int64_t)ev->freespace;
        break;
    }
    case SENDER_EV_LEFT: {
        /* The first reason stands: a proxy's clients follow it out for its reason. */
        struct result_row *c = results_get(&u->res, ev->client_id, NULL);
        if (c != NULL && c->reason[0] == '\0' && ev->text != NULL)
            snprintf(c->reason, sizeof(c->reason), "%s", ev->text);
        break;
    }
    }
}

/* -S at the end of the session: HSTATS and one STATS line per receiver (spec §2.1). */
static void status_stats(struct summary *u)
{
    if (u->status == NULL)
        return;
    char line[STATUS_LINE_MAX], nb[11];
    status_sink_put(u->status, line, status_snd_hstats(line, sizeof(line)));
    for (size_t i = 0; i < u->res.n; i++) {
        const struct result_row *c = &u->res.v[i];
        status_sink_put(u->status, line,
                        status_snd_stats(line, sizeof(line), results_name(c, nb), c->ncopy,
                                         c->nover, c->nskip, c->bytes, c->secs,
                                         status_kbps(c->bytes, c->secs)));
    }
}

/* Receivers listed one by one in the summary; the rest are only counted. */
#define SUMMARY_ROWS 50

/*
 * The final per-receiver summary: a table on the terminal, log lines
 * otherwise (one per receiver up to SUMMARY_ROWS at the default level,
 * all of them at -x 3).
 */
static void table(struct summary *u)
{
    const struct result_table *t = &u->res;
    if (t->n == 0)
        return;
    static const char *const words[] = {"done", "partial", "lost",    "aborted",
                                        "mute", "refused", "no reply"};
    enum { NWORDS = sizeof(words) / sizeof(words[0]) };
    size_t counts[NWORDS] = {0};
    if (u->table)
        fprintf(stderr, "%-20s %-8s %11s %10s %12s\n", "receiver", "status", "files", "data",
                "speed");
    for (size_t i = 0; i < t->n; i++) {
        const struct result_row *c = &t->v[i];
        const char *state = results_state(c);
        for (size_t k = 0; k < NWORDS; k++)
            if (strcmp(state, words[k]) == 0)
                counts[k]++;
        char nb[11], data[32], speed[32], files[32];
        int ok = c->ncopy + c->nover + c->nskip;
        progress_bytes(data, sizeof(data), (double)c->bytes);
        progress_bytes(speed, sizeof(speed), c->secs > 0 ? (double)c->bytes / c->secs : 0);
        snprintf(files, sizeof(files), "%d/%d", ok, ok + c->nfail);
        if (u->table && i < SUMMARY_ROWS)
            fprintf(stderr, "%-20.20s %-8s %11s %10s %10s/s\n", results_name(c, nb), state, files,
                    data, speed);
        else if (!u->table)
            log_msg(i < SUMMARY_ROWS ? LL_INFO : LL_VERBOSE,
                    "receiver %s: %s, %s files, %s at %s/s", results_name(c, nb), state, files,
                    data, speed);
    }
    char tally[256];
    int n = snprintf(tally, sizeof(tally), "%zu receiver%s:", t->n, t->n == 1 ? "" : "s");
    const char *sep = " ";
    for (size_t k = 0; k < NWORDS && n > 0 && (size_t)n < sizeof(tally); k++) {
        if (counts[k] == 0)
            continue;
        n += snprintf(tally + n, sizeof(tally) - (size_t)n, "%s%zu %s", sep, counts[k], words[k]);
        sep = ", ";
    }
    if (u->table) {
        if (t->n > SUMMARY_ROWS)
            fprintf(stderr, "... and %zu more\n", t->n - SUMMARY_ROWS);
        fprintf(stderr, "%s\n", tally);
    } else {
        log_info("%s", tally);
    }
}

void summary_end(struct summary *s)
{
    status_stats(s);
    table(s);
}
