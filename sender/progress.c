#include "sender/progress.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

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
    return snprintf(line, len,
                    "%" PRIu32 "/%zu %s %3.0f%%%s %s/s%s | receivers: %" PRIu32 " done, %" PRIu32
                    " active, %" PRIu32 " lost",
                    st->file_index + 1, in->nitems, name, pct, pass, rate, eta, in->done, busy,
                    in->failed);
}
