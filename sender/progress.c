#include "sender/progress.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "core/wire/wire.h"

void progress_bytes(char *b, size_t n, double v)
{
    static const char *const unit[] = {"B", "KB", "MB", "GB", "TB"};
    int i = 0;
    while (v >= 1000 && i < 4) {
        v /= 1000;
        i++;
    }
    snprintf(b, n, i ? "%.1f %s" : "%.0f %s", v, unit[i]);
}

static void fmt_secs(char *b, size_t n, uint64_t s)
{
    if (s >= 3600)
        snprintf(b, n, "%" PRIu64 ":%02" PRIu64 ":%02" PRIu64, s / 3600, s / 60 % 60, s % 60);
    else
        snprintf(b, n, "%" PRIu64 ":%02" PRIu64, s / 60, s % 60);
}

int progress_line(char *line, size_t len, const struct progress_in *in)
{
    const struct sender_stats *st = in->st;
    char rate[32];
    progress_bytes(rate, sizeof(rate), in->rate_Bps);
    switch (st->phase) {
    case SENDER_PH_START:
    case SENDER_PH_ANNOUNCE:
        return snprintf(line, len, "announcing group %08X: %" PRIu32 " registered", st->group_id,
                        st->clients);
    case SENDER_PH_COMPLETION:
    case SENDER_PH_FINISHED:
        return snprintf(line, len, "completing: %" PRIu32 " active", st->active);
    default:
        break;
    }
    const char *name = in->name ? in->name : "?";
    size_t nl = strlen(name);
    if (nl > 40)
        name += nl - 40;
    uint64_t sent = in->sent;
    uint32_t busy = st->active > in->done ? st->active - in->done : 0;
    if (st->phase == SENDER_PH_DATA && st->pass <= 1 && sent >= st->file_size) {
        /* The first pass is out: nothing to estimate while the sender waits for
         * the receivers' answers (a dead one costs the DONE rounds, spec §1.6). */
        char wait[48] = "";
        if (busy > 0)
            snprintf(wait, sizeof(wait), ", waiting for %" PRIu32 " receiver%s", busy,
                     busy == 1 ? "" : "s");
        return snprintf(line, len,
                        "%" PRIu32 "/%zu %s 100%% sent%s | receivers: %" PRIu32 " done, %" PRIu32
                        " active, %" PRIu32 " lost",
                        st->file_index + 1, in->nitems, name, wait, in->done, busy, in->failed);
    }
    double pct = st->file_size ? 100.0 * (double)sent / (double)st->file_size : 100.0;
    if (pct > 100 || st->phase != SENDER_PH_DATA || st->pass > 1)
        pct = st->phase == SENDER_PH_FILEINFO ? 0 : (pct > 100 ? 100 : pct);
    /* ETA of the whole session at the current rate, from the first pass. */
    char eta[40] = "";
    if (st->phase == SENDER_PH_DATA && st->pass <= 1 && in->rate_Bps > 1) {
        uint64_t done_b = in->bytes_before + (sent < st->file_size ? sent : 0);
        uint64_t left = in->total_bytes > done_b ? in->total_bytes - done_b : 0;
        char t[24];
        fmt_secs(t, sizeof(t), (uint64_t)((double)left / in->rate_Bps));
        snprintf(eta, sizeof(eta), " ETA %s", t);
    }
    char pass[24] = "";
    if (st->pass > 1)
        snprintf(pass, sizeof(pass), " pass %" PRIu32, st->pass);
    /* -C tfmcc: the rate congestion control allows, and who limits it (the CLR). */
    char cc[64] = "";
    if (st->rate_Bps > 0 && st->phase == SENDER_PH_DATA) {
        char r[32];
        progress_bytes(r, sizeof(r), (double)st->rate_Bps);
        if (st->clr_id != 0)
            snprintf(cc, sizeof(cc), " (TFMCC %s/s, CLR %08" PRIX32 ")", r, st->clr_id);
        else
            snprintf(cc, sizeof(cc), " (TFMCC %s/s)", r);
    }
    return snprintf(line, len,
                    "%" PRIu32 "/%zu %s %3.0f%%%s %s/s%s%s | receivers: %" PRIu32 " done, %" PRIu32
                    " active, %" PRIu32 " lost",
                    st->file_index + 1, in->nitems, name, pct, pass, rate, cc, eta, in->done, busy,
                    in->failed);
}

/* ---- drawing ---- */

static struct progress *g_shown; /* for the log's hook */

static void erase(void)
{
    if (g_shown != NULL && g_shown->shown) {
        (void)!write(STDERR_FILENO, "\r\033[K", 4);
        g_shown->shown = false;
    }
}

void progress_start(struct progress *p, const struct file_item *items, size_t nitems, bool tty,
                    bool encrypted)
{
    *p = (struct progress){.tty = tty, .items = items, .nitems = nitems, .file = UINT32_MAX};
    for (size_t i = 0; i < nitems; i++)
        if (items[i].type == FTYPE_REG)
            p->total_bytes += items[i].size;
    /* FILESEG headers (spec §1.4), and ENCRYPTED's header and tag when encrypted. */
    p->overhead = UFTP_HDR_LEN + 8 + (encrypted ? 28 : 0);
    if (tty) {
        g_shown = p;
        log_set_stderr_hook(erase);
    }
}

void progress_stop(struct progress *p)
{
    if (g_shown != p)
        return;
    erase();
    log_set_stderr_hook(NULL);
    g_shown = NULL;
}

/*
 * The first send of a file (its FILEINFO, or already its data): where its
 * bytes start in the session count, for the line's percentage.
 */
void progress_sent(struct progress *p, const struct sender_stats *st, const struct eng_out *out)
{
    if (st->file_index == p->file)
        return;
    p->file = st->file_index;
    uint64_t batch = 0;
    if (st->phase == SENDER_PH_DATA) {
        size_t hdr = out->nseg * p->overhead;
        batch = out->len > hdr ? out->len - hdr : 0;
    }
    p->file_start = st->data_bytes > batch ? st->data_bytes - batch : 0;
}

/* Bytes of the regular files before item idx: what the first pass has already sent. */
static uint64_t bytes_before(const struct progress *p, uint32_t idx)
{
    uint64_t b = 0;
    for (size_t i = 0; i < idx && i < p->nitems; i++)
        if (p->items[i].type == FTYPE_REG)
            b += p->items[i].size;
    return b;
}

void progress_tick(struct progress *p, const struct sender_stats *st, uint32_t done,
                   uint32_t failed, uint64_t now)
{
    double dt = (double)(now - p->last_us) / 1e6;
    if (p->last_us != 0 && dt > 0) {
        double inst = (double)(st->data_bytes - p->last_bytes) / dt;
        p->rate_Bps = p->rate_Bps == 0 ? inst : 0.7 * p->rate_Bps + 0.3 * inst;
    }
    p->last_us = now;
    p->last_bytes = st->data_bytes;
    /* Without a terminal: a plain log line every 2 s while data flows. */
    if (!p->tty && (st->phase != SENDER_PH_DATA || ++p->plain_ticks % 4 != 0))
        return;
    const struct file_item *it = st->file_index < p->nitems ? &p->items[st->file_index] : NULL;
    struct progress_in in = {
        .st = st,
        .name = it ? it->name : NULL,
        .nitems = p->nitems,
        .sent = st->data_bytes - p->file_start,
        .bytes_before = bytes_before(p, st->file_index),
        .total_bytes = p->total_bytes,
        .rate_Bps = p->rate_Bps,
        .done = done,
        .failed = failed,
    };
    char line[256];
    int n = progress_line(line, sizeof(line), &in);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof(line))
        n = sizeof(line) - 1;
    if (!p->tty) {
        log_info("progress: %.*s", n, line);
        return;
    }
    char out[300];
    int m = snprintf(out, sizeof(out), "\r%.*s\033[K", n, line);
    if (m > 0)
        (void)!write(STDERR_FILENO, out, (size_t)m < sizeof(out) ? (size_t)m : sizeof(out) - 1);
    p->shown = true;
}
