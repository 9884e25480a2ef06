/*
 * uftp's event loop (DESIGN.md "The path of a data packet"): the engine
 * writes FILESEG batches into one buffer, each batch leaves in one UDP GSO
 * send (sendmmsg when the kernel refuses GSO), file data comes in with one
 * preadv per batch. When the socket is full the batch is held (its
 * sequence numbers are spent) and retried on EV_WRITE; unpaced sending
 * returns to the loop every SHELL_BURST batches so that replies get read.
 */
#include "sender/progress.h"
#include "sender/shell.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/daemon/daemon.h"
#include "core/daemon/status.h"
#include "core/log.h"
#include "core/wire/wire.h"

/* ---- file reads (sender_storage) ---- */

struct rfile {
    int fd;
};

static int st_open(void *ctx, const struct file_item *it, void **h)
{
    (void)ctx;
    int fd = open(it->path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return -errno;
    struct stat sb;
    if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
        int e = S_ISREG(sb.st_mode) ? errno : EINVAL;
        close(fd);
        return -e;
    }
    (void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    struct rfile *f = malloc(sizeof(*f));
    if (f == NULL) {
        close(fd);
        return -ENOMEM;
    }
    f->fd = fd;
    *h = f;
    return 0;
}

/* One preadv per batch; a short read is retried for the rest, EOF ends it. */
static ssize_t st_read(void *ctx, void *h, uint64_t off, const struct iovec *iov, int iovcnt)
{
    (void)ctx;
    struct rfile *f = h;
    struct iovec v[ENG_MAX_SEG];
    if (iovcnt < 0 || iovcnt > ENG_MAX_SEG)
        return -EINVAL;
    memcpy(v, iov, (size_t)iovcnt * sizeof(*v));
    struct iovec *p = v;
    int n = iovcnt;
    ssize_t total = 0;
    while (n > 0) {
        ssize_t r = preadv(f->fd, p, n, (off_t)(off + (uint64_t)total));
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (r == 0)
            break; /* the file shrank */
        total += r;
        while (n > 0 && (size_t)r >= p->iov_len) {
            r -= (ssize_t)p->iov_len;
            p++;
            n--;
        }
        if (n > 0) {
            p->iov_base = (uint8_t *)p->iov_base + r;
            p->iov_len -= (size_t)r;
        }
    }
    return total;
}

static void st_close(void *ctx, void *h)
{
    (void)ctx;
    struct rfile *f = h;
    close(f->fd);
    free(f);
}

const struct sender_storage shell_storage = {st_open, st_read, st_close};

/* ---- receivers' results ---- */

static size_t client_slot(const struct shell_clients *t, uint32_t id)
{
    return (size_t)((id * 2654435761u) & (uint32_t)(t->nslot - 1));
}

static int clients_grow(struct shell_clients *t)
{
    size_t ns = t->nslot ? t->nslot * 2 : 64;
    uint32_t *slot = calloc(ns, sizeof(*slot));
    if (slot == NULL)
        return -ENOMEM;
    free(t->slot);
    t->slot = slot;
    t->nslot = ns;
    for (size_t i = 0; i < t->n; i++) {
        size_t k = client_slot(t, t->v[i].id);
        while (t->slot[k] != 0)
            k = (k + 1) & (t->nslot - 1);
        t->slot[k] = (uint32_t)i + 1;
    }
    return 0;
}

/* The receiver's entry, added (with name, may be NULL) when it is new; NULL when out of memory. */
static struct shell_client *client_get(struct shell_clients *t, uint32_t id, const char *name)
{
    if (t->nslot > 0) {
        for (size_t k = client_slot(t, id); t->slot[k] != 0; k = (k + 1) & (t->nslot - 1))
            if (t->v[t->slot[k] - 1].id == id)
                return &t->v[t->slot[k] - 1];
    }
    if ((t->n + 1) * 2 > t->nslot && clients_grow(t) < 0)
        return NULL;
    if (t->n == t->cap) {
        size_t nc = t->cap ? t->cap * 2 : 16;
        struct shell_client *v = realloc(t->v, nc * sizeof(*v));
        if (v == NULL)
            return NULL;
        t->v = v;
        t->cap = nc;
    }
    struct shell_client *c = &t->v[t->n];
    *c = (struct shell_client){.id = id, .name = name, .last = -1, .freespace = -1};
    size_t k = client_slot(t, id);
    while (t->slot[k] != 0)
        k = (k + 1) & (t->nslot - 1);
    t->slot[k] = (uint32_t)++t->n;
    return c;
}

static void clients_free(struct shell_clients *t)
{
    free(t->v);
    free(t->slot);
    memset(t, 0, sizeof(*t));
}

/* The name status lines and the summary use (spec §2.1: the -H entry, else 0x%08X). */
static const char *client_name(const struct shell_client *c, char buf[static 11])
{
    if (c->name != NULL)
        return c->name;
    status_client_name(buf, c->id);
    return buf;
}

/* ---- progress line and status file ---- */

static struct uftp *g_progress; /* for the log hook */

static void progress_erase(void)
{
    if (g_progress != NULL && g_progress->progress_shown) {
        (void)!write(STDERR_FILENO, "\r\033[K", 4);
        g_progress->progress_shown = false;
    }
}

/* Bytes of the regular files before item idx: what the first pass has already sent. */
static uint64_t bytes_before(const struct uftp *u, uint32_t idx)
{
    uint64_t b = 0;
    for (size_t i = 0; i < idx && i < u->nitems; i++)
        if (u->items[i].type == FTYPE_REG)
            b += u->items[i].size;
    return b;
}

static void progress_draw(struct uftp *u, uint64_t now)
{
    struct sender_stats st;
    sender_stats(u->eng, &st);
    double dt = (double)(now - u->last_tick_us) / 1e6;
    if (u->last_tick_us != 0 && dt > 0) {
        double inst = (double)(st.data_bytes - u->last_tick_bytes) / dt;
        u->rate_Bps = u->rate_Bps == 0 ? inst : 0.7 * u->rate_Bps + 0.3 * inst;
    }
    u->last_tick_us = now;
    u->last_tick_bytes = st.data_bytes;
    /* Without a terminal: a plain log line every 2 s while data flows. */
    if (!u->progress && (st.phase != SENDER_PH_DATA || ++u->plain_ticks % 4 != 0))
        return;

    const struct file_item *it = st.file_index < u->nitems ? &u->items[st.file_index] : NULL;
    struct progress_in in = {
        .st = &st,
        .name = it ? it->name : NULL,
        .nitems = u->nitems,
        .sent = st.data_bytes - u->file_start_bytes,
        .bytes_before = bytes_before(u, st.file_index),
        .total_bytes = u->total_bytes,
        .rate_Bps = u->rate_Bps,
        .done = u->res_index == st.file_index ? u->cur_done : 0,
        .failed = u->res_index == st.file_index ? u->cur_failed : 0,
    };
    char line[256];
    int n = progress_line(line, sizeof(line), &in);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof(line))
        n = sizeof(line) - 1;
    if (!u->progress) {
        log_info("progress: %.*s", n, line);
        return;
    }
    char out[300];
    int m = snprintf(out, sizeof(out), "\r%.*s\033[K", n, line);
    if (m > 0)
        (void)!write(STDERR_FILENO, out, (size_t)m < sizeof(out) ? (size_t)m : sizeof(out) - 1);
    u->progress_shown = true;
}

/* One -S line (status.h formats it, in the 5.0.1 words and units: spec §2.1). */
static void status_put(struct uftp *u, const char *line, int n)
{
    if (u->status == NULL || n < 0)
        return;
    int rc = status_sink_write(u->status, line, (size_t)n);
    if (rc < 0)
        log_warnx("cannot write the status file %s: %s", u->set.status_file, strerror(-rc));
}

static const char *result_word(enum sender_result r)
{
    switch (r) {
    case SENDER_RES_COPY:
        return "copy";
    case SENDER_RES_SKIPPED:
        return "skipped";
    case SENDER_RES_OVERWRITE:
        return "overwritten";
    case SENDER_RES_REJECTED:
        return "rejected";
    case SENDER_RES_MUTE:
        return "mute";
    case SENDER_RES_LOST:
        return "lost";
    case SENDER_RES_ABORTED:
        return "aborted";
    }
    return "unknown";
}

static enum status_snd_res status_res(enum sender_result r)
{
    switch (r) {
    case SENDER_RES_COPY:
        return STATUS_SND_COPY;
    case SENDER_RES_SKIPPED:
        return STATUS_SND_SKIPPED;
    case SENDER_RES_OVERWRITE:
        return STATUS_SND_OVERWRITTEN;
    case SENDER_RES_REJECTED:
        return STATUS_SND_REJECTED;
    case SENDER_RES_MUTE:
        return STATUS_SND_MUTE;
    case SENDER_RES_LOST:
        return STATUS_SND_LOST;
    case SENDER_RES_ABORTED:
        return STATUS_SND_ABORTED;
    }
    return STATUS_SND_UNKNOWN;
}

static void on_result(struct uftp *u, const struct sender_event *ev)
{
    const struct file_item *it = ev->file;
    const char *name = it ? it->name : "?";
    uint64_t size = it && it->type == FTYPE_REG ? it->size : 0;
    double s = (double)ev->elapsed_us / 1e6;
    bool ok = ev->result == SENDER_RES_COPY || ev->result == SENDER_RES_OVERWRITE ||
              ev->result == SENDER_RES_SKIPPED;
    uint32_t idx = it ? (uint32_t)(it - u->items) : UINT32_MAX;
    if (idx != u->res_index) {
        u->res_index = idx;
        u->cur_done = u->cur_failed = 0;
    }
    if (ok)
        u->cur_done++;
    else
        u->cur_failed++;
    bool copied = ev->result == SENDER_RES_COPY || ev->result == SENDER_RES_OVERWRITE;
    double kbps = 0;
    if (copied && u->set.sync_preview && u->set.rate > 0) {
        /* -Z moves nothing: times and speeds are estimated from the rate (spec §2.1). */
        kbps = (double)u->set.rate / 8;
        s = (double)size / (kbps * 1024);
    } else if (copied) {
        kbps = status_kbps(size, s);
    }
    struct shell_client *c = client_get(&u->clients, ev->client_id, NULL);
    char nb[11];
    const char *cname = "?";
    if (c != NULL) {
        cname = client_name(c, nb);
        c->last = (int)ev->result;
        if (ev->result == SENDER_RES_COPY)
            c->ncopy++;
        else if (ev->result == SENDER_RES_OVERWRITE)
            c->nover++;
        else if (ev->result == SENDER_RES_SKIPPED)
            c->nskip++;
        else
            c->nfail++;
        if (copied) {
            c->bytes += size;
            c->secs += s;
        }
    }
    if (copied)
        log_verbose("receiver %s: %s %s, %.2f KB/s", cname, name, result_word(ev->result), kbps);
    else
        log_verbose("receiver %s: %s %s", cname, name, result_word(ev->result));
    char line[STATUS_LINE_MAX];
    status_put(
        u, line,
        status_snd_result(line, sizeof(line), cname, name, size, status_res(ev->result), kbps));
    /* As 5.0.1: a receiver's free space follows its RESULT line. */
    if (c != NULL && c->freespace >= 0) {
        status_put(u, line, status_snd_freespace(line, sizeof(line), name, c->freespace));
        c->freespace = -1;
    }
}

void shell_event(void *ctx, const struct sender_event *ev)
{
    struct uftp *u = ctx;
    char line[STATUS_LINE_MAX], nb[11];
    switch (ev->kind) {
    case SENDER_EV_CONNECT: {
        struct shell_client *c = client_get(&u->clients, ev->client_id, NULL);
        const char *cname = "?";
        if (c != NULL) {
            c->connected = ev->ok;
            cname = client_name(c, nb);
        }
        log_verbose("receiver %s: %s", cname, ev->ok ? "registered" : "not registered");
        status_put(u, line, status_snd_connect(line, sizeof(line), ev->ok, cname));
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
        struct shell_client *c = client_get(&u->clients, ev->client_id, NULL);
        log_info("receiver %s: %" PRIu64 " bytes free", c ? client_name(c, nb) : "?",
                 ev->freespace);
        if (c != NULL)
            c->freespace = ev->freespace > INT64_MAX ? INT64_MAX : (int64_t)ev->freespace;
        break;
    }
    }
}

/* -S at the end of the session: HSTATS and one STATS line per receiver (spec §2.1). */
static void status_stats(struct uftp *u)
{
    if (u->status == NULL)
        return;
    char line[STATUS_LINE_MAX], nb[11];
    status_put(u, line, status_snd_hstats(line, sizeof(line)));
    for (size_t i = 0; i < u->clients.n; i++) {
        const struct shell_client *c = &u->clients.v[i];
        status_put(u, line,
                   status_snd_stats(line, sizeof(line), client_name(c, nb), c->ncopy, c->nover,
                                    c->nskip, c->bytes, c->secs, status_kbps(c->bytes, c->secs)));
    }
}

static const char *client_state(const struct shell_client *c)
{
    if (!c->connected)
        return "no reply";
    switch (c->last) {
    case SENDER_RES_MUTE:
        return "mute";
    case SENDER_RES_LOST:
        return "lost";
    case SENDER_RES_ABORTED:
        return "aborted";
    default:
        return c->nfail > 0 ? "partial" : "done";
    }
}

/* Receivers listed one by one in the summary; the rest are only counted. */
#define SUMMARY_ROWS 50

/*
 * The final per-receiver summary: a table on the terminal, log lines
 * otherwise (one per receiver up to SUMMARY_ROWS at the default level,
 * all of them at -x 3).
 */
static void summary(struct uftp *u)
{
    const struct shell_clients *t = &u->clients;
    if (t->n == 0)
        return;
    size_t counts[6] = {0};
    static const char *const words[] = {"done", "partial", "lost", "aborted", "mute", "no reply"};
    if (u->progress)
        fprintf(stderr, "%-20s %-8s %11s %10s %12s\n", "receiver", "status", "files", "data",
                "speed");
    for (size_t i = 0; i < t->n; i++) {
        const struct shell_client *c = &t->v[i];
        const char *state = client_state(c);
        for (size_t k = 0; k < 6; k++)
            if (strcmp(state, words[k]) == 0)
                counts[k]++;
        char nb[11], data[32], speed[32], files[32];
        int ok = c->ncopy + c->nover + c->nskip;
        progress_bytes(data, sizeof(data), (double)c->bytes);
        progress_bytes(speed, sizeof(speed), c->secs > 0 ? (double)c->bytes / c->secs : 0);
        snprintf(files, sizeof(files), "%d/%d", ok, ok + c->nfail);
        if (u->progress && i < SUMMARY_ROWS)
            fprintf(stderr, "%-20.20s %-8s %11s %10s %10s/s\n", client_name(c, nb), state, files,
                    data, speed);
        else if (!u->progress)
            log_msg(i < SUMMARY_ROWS ? LL_INFO : LL_VERBOSE,
                    "receiver %s: %s, %s files, %s at %s/s", client_name(c, nb), state, files, data,
                    speed);
    }
    char tally[256];
    int n = snprintf(tally, sizeof(tally), "%zu receiver%s:", t->n, t->n == 1 ? "" : "s");
    const char *sep = " ";
    for (size_t k = 0; k < 6 && n > 0 && (size_t)n < sizeof(tally); k++) {
        if (counts[k] == 0)
            continue;
        n += snprintf(tally + n, sizeof(tally) - (size_t)n, "%s%zu %s", sep, counts[k], words[k]);
        sep = ", ";
    }
    if (u->progress) {
        if (t->n > SUMMARY_ROWS)
            fprintf(stderr, "... and %zu more\n", t->n - SUMMARY_ROWS);
        fprintf(stderr, "%s\n", tally);
    } else {
        log_info("%s", tally);
    }
}

/* ---- the loop ---- */

static void arm_timer(struct uftp *u, uint64_t now)
{
    uint64_t dl = sender_deadline(u->eng);
    if (dl == ENG_NEVER || u->finished) {
        evtimer_del(u->ev_timer);
        return;
    }
    uint64_t d = dl > now ? dl - now : 0;
    struct timeval tv = {(time_t)(d / 1000000u), (suseconds_t)(d % 1000000u)};
    evtimer_add(u->ev_timer, &tv);
}

static void kick(struct uftp *u, uint64_t delay_us)
{
    struct timeval tv = {0, (suseconds_t)delay_us};
    evtimer_add(u->ev_kick, &tv);
}

/*
 * Sends what is left of the current batch. Returns true when it is all
 * gone, false when it waits for EV_WRITE or a pause.
 */
static bool flush(struct uftp *u)
{
    struct eng_out *o = &u->out;
    while (u->held_sent < o->nseg) {
        size_t off = u->held_sent * o->seglen;
        size_t left = o->nseg - u->held_sent;
        int r;
        /* One GSO send carries at most 64 KiB of UDP payload. */
        size_t chunk = net_gso_max_segs(net_addr_af(&o->dst), o->seglen);
        if (chunk == 0)
            chunk = 1;
        if (left > chunk)
            left = chunk;
        size_t len = left * o->seglen;
        if (off + len > o->len)
            len = o->len - off;
        if (left == 1) {
            struct net_dgram d = {.dst = &o->dst, .buf = o->buf + off, .len = len};
            r = net_tx_send(&u->tx, &d, 1);
        } else {
            r = net_tx_send_gso_buf(&u->tx, &o->dst, o->buf + off, len, o->seglen);
        }
        if (r > 0) {
            u->held_sent += (size_t)r;
            continue;
        }
        if (r == -EAGAIN) {
            event_add(u->ev_write, NULL);
            u->held = true;
            return false;
        }
        if (r == -ENOBUFS) {
            kick(u, 1000); /* the device queue drains within a millisecond or so */
            u->held = true;
            return false;
        }
        /*
         * These datagrams cannot be sent at all (no route, ...): drop them as
         * lost packets (NAKs or the session timeouts cover it), one log line.
         */
        char ab[ADDR_STRLEN];
        log_warnx("cannot send to %s: %s", addr_str(&o->dst, ab), strerror(-r));
        u->held_sent += left;
    }
    u->held = false;
    return true;
}

/*
 * The first send of a file (its FILEINFO, or already its data): where its
 * bytes start in the session count, for the progress line's percentage.
 */
static void note_file_start(struct uftp *u)
{
    struct sender_stats st;
    sender_stats(u->eng, &st);
    if (st.file_index == u->cur_index)
        return;
    u->cur_index = st.file_index;
    uint64_t batch = 0;
    if (st.phase == SENDER_PH_DATA) {
        /* FILESEG headers (spec §1.4), and ENCRYPTED's header and tag when encrypted. */
        size_t hdr = u->out.nseg * (UFTP_HDR_LEN + 8 + (u->cfg.keytype != KEY_NONE ? 28 : 0));
        batch = u->out.len > hdr ? u->out.len - hdr : 0;
    }
    u->file_start_bytes = st.data_bytes > batch ? st.data_bytes - batch : 0;
}

/*
 * Data batches sized to whole GSO sends: a GSO send carries at most
 * net_gso_max_segs() datagrams (49 of 1324 bytes), so a batch of 64 would
 * leave as 49 + 15 and cost the kernel two passes for 64 packets.
 */
static void batch_size(struct uftp *u)
{
    size_t g = net_gso_max_segs(net_addr_af(&u->out.dst), u->out.seglen);
    if (!u->tx.gso || g == 0 || g >= ENG_MAX_SEG)
        u->max_seg = ENG_MAX_SEG;
    else
        u->max_seg = (ENG_MAX_SEG / g) * g;
}

/* Polls the engine and acts on its outputs until it has nothing to say now. */
static void drive(struct uftp *u)
{
    if (u->finished)
        return;
    if (u->held && !flush(u))
        return;
    uint64_t now = daemon_mono_us();
    int batches = 0;
    for (;;) {
        if (batches >= SHELL_BURST) {
            kick(u, 0); /* let the loop read replies first */
            break;
        }
        u->out.buf = u->buf;
        u->out.cap = u->cap;
        u->out.max_seg = u->max_seg != 0 ? u->max_seg : ENG_MAX_SEG;
        int k = sender_poll(u->eng, now, &u->out);
        if (k < 0) {
            log_errx("sender engine: poll failed: %s", eng_strerror(k));
            u->exit_code = SENDER_EXIT_ALLOC;
            u->finished = true;
            break;
        }
        if (k == ENG_NONE)
            break;
        if (k == ENG_DONE) {
            u->exit_code = u->out.exit_code;
            u->finished = true;
            break;
        }
        if (k != ENG_SEND)
            continue; /* the sender never joins groups */
        u->held_sent = 0;
        if (u->out.nseg > 1) {
            batches++;
            batch_size(u);
        }
        if (u->progress || log_enabled(LL_INFO))
            note_file_start(u);
        if (!flush(u))
            return;
        now = daemon_mono_us();
    }
    if (u->finished) {
        event_base_loopbreak(u->base);
        return;
    }
    arm_timer(u, now);
}

static void on_read(evutil_socket_t fd, short what, void *arg)
{
    struct uftp *u = arg;
    (void)fd;
    (void)what;
    /* A bounded number of batches per wakeup, so sending is not starved. */
    for (int i = 0; i < 8; i++) {
        int n = net_rx_recv(&u->rx, &u->sock);
        if (n < 0) {
            if (n != -EAGAIN)
                log_warnx("receive: %s", strerror(-n));
            break;
        }
        uint64_t now = daemon_mono_us();
        struct net_rx_iter it;
        struct net_rx_dgram d;
        net_rx_iter_init(&it, &u->rx);
        while (net_rx_next(&it, &d)) {
            const struct addr *to = addr_is_set(&d.meta->dst) ? &d.meta->dst : NULL;
            sender_recv(u->eng, &d.meta->src, to, d.data, d.len,
                        d.meta->tos < 0 ? 0 : (uint8_t)d.meta->tos, now);
        }
    }
    drive(u);
}

static void on_write(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    drive(arg);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    drive(arg);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    struct uftp *u = arg;
    (void)what;
    if (u->interrupted) {
        /* A second signal: the user means it. */
        log_warnx("interrupted again, exiting");
        progress_erase();
        _exit(SENDER_EXIT_INTERRUPTED);
    }
    u->interrupted = true;
    log_warnx("%s: aborting the session", sig == SIGINT ? "interrupted" : "terminated");
    sender_interrupt(u->eng, daemon_mono_us());
    drive(u);
}

static void on_progress(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct uftp *u = arg;
    progress_draw(u, daemon_mono_us());
}

static void shell_free_loop(struct uftp *u)
{
    struct event **evs[] = {&u->ev_read, &u->ev_write, &u->ev_timer,   &u->ev_kick,
                            &u->ev_int,  &u->ev_term,  &u->ev_progress};
    for (size_t i = 0; i < sizeof(evs) / sizeof(evs[0]); i++) {
        if (*evs[i] != NULL)
            event_free(*evs[i]);
        *evs[i] = NULL;
    }
    if (u->base != NULL)
        event_base_free(u->base);
    u->base = NULL;
}

void shell_free(struct uftp *u)
{
    shell_free_loop(u);
    sender_free(u->eng);
    u->eng = NULL;
    net_rx_free(&u->rx);
    free(u->buf);
    u->buf = NULL;
    clients_free(&u->clients);
}

int shell_run(struct uftp *u)
{
    int rc;
    u->cap = (size_t)ENG_MAX_SEG * (UFTP_MAX_DATAGRAM + 64);
    u->buf = malloc(u->cap);
    if (u->buf == NULL || net_rx_init(&u->rx, 32, UFTP_MAX_DATAGRAM) < 0) {
        log_errx("out of memory");
        return SENDER_EXIT_ALLOC;
    }
    net_tx_init(&u->tx, &u->sock);
    if (!u->set.gso && u->tx.gso) {
        u->tx.gso = false;
        log_verbose("UDP GSO off (--no-gso): sending with sendmmsg");
    }
    /* Tests: every GSO send behaves as if the kernel refused it (core/net/batch.h). */
    const char *ff = getenv("UFTP_TEST_GSO_FAIL");
    if (ff != NULL && ff[0] != '\0' && strcmp(ff, "0") != 0) {
        u->tx.gso_force_fail = true;
        log_warnx("UFTP_TEST_GSO_FAIL is set: GSO sends fail as if the kernel refused them");
    }

    struct sender_env env = {
        .ctx = u,
        .rng = daemon_rng,
        .storage = shell_storage,
        .event = shell_event,
        .log = *log_elog(),
    };
    u->cfg.wall_offset_us = daemon_wall_offset_us();
    rc = sender_new(&u->eng, &u->cfg, &env);
    if (rc < 0) {
        log_errx("cannot start the session: %s", eng_strerror(rc));
        return rc == ENG_ENOMEM ? SENDER_EXIT_ALLOC : SENDER_EXIT_PARAM;
    }
    struct sender_stats st;
    sender_stats(u->eng, &st);
    log_info("starting session %08X, %zu item%s", st.group_id, u->nitems,
             u->nitems == 1 ? "" : "s");

    /* Pacing needs sub-millisecond timers (timerfd), not epoll's milliseconds. */
    struct event_config *ec = event_config_new();
    if (ec != NULL) {
        event_config_set_flag(ec, EVENT_BASE_FLAG_PRECISE_TIMER);
        u->base = event_base_new_with_config(ec);
        event_config_free(ec);
    }
    if (u->base == NULL) {
        log_errx("cannot create the event loop");
        return SENDER_EXIT_ALLOC;
    }
    u->ev_read = event_new(u->base, u->sock.fd, EV_READ | EV_PERSIST, on_read, u);
    u->ev_write = event_new(u->base, u->sock.fd, EV_WRITE, on_write, u);
    u->ev_timer = evtimer_new(u->base, on_timer, u);
    u->ev_kick = evtimer_new(u->base, on_timer, u);
    u->ev_int = evsignal_new(u->base, SIGINT, on_signal, u);
    u->ev_term = evsignal_new(u->base, SIGTERM, on_signal, u);
    u->ev_progress = event_new(u->base, -1, EV_PERSIST, on_progress, u);
    if (!u->ev_read || !u->ev_write || !u->ev_timer || !u->ev_kick || !u->ev_int || !u->ev_term ||
        !u->ev_progress) {
        log_errx("cannot create events");
        return SENDER_EXIT_ALLOC;
    }
    event_add(u->ev_read, NULL);
    event_add(u->ev_int, NULL);
    event_add(u->ev_term, NULL);
    struct timeval half = {0, 500000};
    event_add(u->ev_progress, &half);
    if (u->progress) {
        g_progress = u;
        log_set_stderr_hook(progress_erase);
    }
    u->start_us = daemon_mono_us();
    u->cur_index = UINT32_MAX;
    u->res_index = UINT32_MAX;
    /* A closed group's receivers in -H order, by the names given there (spec §2.1). */
    for (size_t i = 0; i < u->set.dests.n; i++)
        if (client_get(&u->clients, u->set.dests.v[i].id, u->set.dests.v[i].name) == NULL)
            break;
    for (size_t i = 0; i < u->nitems; i++)
        if (u->items[i].type == FTYPE_REG)
            u->total_bytes += u->items[i].size;
    kick(u, 0);

    event_base_dispatch(u->base);

    if (u->progress) {
        progress_erase();
        log_set_stderr_hook(NULL);
        g_progress = NULL;
    }
    sender_stats(u->eng, &st);
    double secs = (double)(daemon_mono_us() - u->start_us) / 1e6;
    char b[32], r[32];
    progress_bytes(b, sizeof(b), (double)st.data_bytes);
    progress_bytes(r, sizeof(r), secs > 0 ? (double)st.data_bytes / secs : 0);
    shell_free_loop(u);
    log_info("session %08X ended (exit %d): %" PRIu32 " file%s, %s of data in %.2f s (%s/s), "
             "%" PRIu64 " NAKs",
             st.group_id, u->exit_code, st.files_done, st.files_done == 1 ? "" : "s", b, secs, r,
             st.naks);
    if (st.auth_failed + st.replayed + st.cleartext + st.nokeys + st.pk_limited > 0)
        log_info("dropped: %" PRIu64 " unauthenticated, %" PRIu64 " replayed, %" PRIu64
                 " cleartext, %" PRIu64 " without keys, %" PRIu64 " over the public-key budget",
                 st.auth_failed, st.replayed, st.cleartext, st.nokeys, st.pk_limited);
    log_verbose("send path: %" PRIu64 " datagrams in %" PRIu64 " calls (%" PRIu64 " GSO, %" PRIu64
                " GSO fallbacks), %" PRIu64 " times blocked",
                u->tx.st.dgrams, u->tx.st.syscalls, u->tx.st.gso_sends, u->tx.st.gso_fallbacks,
                u->tx.st.blocked);
    status_stats(u);
    summary(u);
    return u->exit_code;
}
