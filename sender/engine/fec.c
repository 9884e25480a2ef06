/*
 * Parity repair in the sender (ours, issue 17; spec §9, DESIGN.md "Parity
 * repair (FEC)"). Beside xmit.c: it decides which parity a pass sends and
 * emits it as FEC_PARITY through the same header, sealing and pacing as
 * FILESEG.
 *
 * Per file, every section's FEC blocks (core/fec layout, K and S of the
 * session) get one global index (base[section] + FEC block). For each:
 *   need  the largest count a DECODE receiver (or a COUNTS report) gave
 *         since the last rewind: what the next pass must make up;
 *   next  the next unused parity id (ids are never reused within a file);
 *   send  the parity this pass still sends.
 * Plain NAKs (everyone else) go on into the file's block map as before, so
 * a mixed session serves reference receivers by resending blocks and ours
 * by parity. A group's parity goes out once the cursor has passed the
 * group (its source blocks of this pass are out), so that receivers have
 * it before the next section's data makes them send STATUS (spec §1.6
 * step 4).
 */
#include "sender/engine/sender_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/fec/fec.h"

/* One prepared parity symbol of the loaded group. */
struct sfec_sym {
    uint16_t section, fb;
    uint8_t k, p;
};

struct sfec {
    struct fec_codec *codec;
    unsigned k, stride, pct;
    uint32_t loss_ppm;           /* the mean loss DECODE receivers reported in the first pass */
    uint64_t pass1_ppm, pass1_n; /* the sum of their STATUS' NAK fractions, and how many */
    uint64_t px_max, px_fbs;     /* proxies' count reports in the first pass: counts, FEC blocks */
    uint32_t nproxies;           /* proxies reporting counts (AGGREGATE) */
    /* The current file. */
    bool active;
    uint32_t nsec;
    uint32_t *base; /* nsec + 1 */
    uint8_t *need, *next, *send;
    uint8_t *cnt;     /* one STATUS's counts, per FEC block of its section (scratch) */
    uint64_t *rep_at; /* per section: when this pass last sent it parity (0: not yet) */
    bool all_counts;  /* every destination of the file reports counts (DECODE or AGGREGATE) */
    bool proxied;     /* some answer through a proxy (which holds them one GRTT) */
    uint32_t nrx;     /* receivers that decode: direct DECODE ones and proxies' clients */
    uint32_t pc;      /* global FEC block of the next parity to prepare */
    /* The prepared symbols of one group, and their bytes. */
    uint8_t *gbuf;
    size_t gcap;
    uint8_t *pbuf;
    size_t pcap;
    struct sfec_sym *sym;
    unsigned nsym, isym;
};

int sfec_new(struct sender *s)
{
    if (s->cfg.fec_off || s->cfg.version != UFTP_VER5)
        return 0;
    struct sfec *x = calloc(1, sizeof(*x));
    if (x == NULL || fec_codec_new(&x->codec) < 0) {
        free(x);
        return ENG_ENOMEM;
    }
    x->k = s->cfg.fec_k ? s->cfg.fec_k : FEC_DEF_K;
    x->stride = FEC_DEF_STRIDE;
    x->pct = s->cfg.fec_pct;
    s->fec = x;
    return 0;
}

void sfec_file_end(struct sender *s)
{
    struct sfec *x = s->fec;
    if (x == NULL)
        return;
    free(x->base);
    free(x->need);
    free(x->rep_at);
    x->rep_at = NULL;
    x->base = NULL;
    x->need = x->next = x->send = x->cnt = NULL;
    x->active = false;
    x->nsym = x->isym = 0;
}

void sfec_free(struct sender *s)
{
    struct sfec *x = s->fec;
    if (x == NULL)
        return;
    sfec_file_end(s);
    fec_codec_free(x->codec);
    free(x->gbuf);
    free(x->pbuf);
    free(x->sym);
    free(x);
    s->fec = NULL;
}

void sfec_announce(const struct sender *s, struct wire_announce *a)
{
    const struct sfec *x = s->fec;
    if (x == NULL)
        return;
    a->has_fec = true;
    a->fec = (struct wire_fec_info){.version = WIRE_FEC_VERSION,
                                    .flags = FEC_F_SEND | (x->pct ? FEC_F_PROACTIVE : 0),
                                    .code = FEC_CODE_RS8_CAUCHY,
                                    .k = (uint8_t)x->k,
                                    .stride = (uint8_t)x->stride};
}

void sfec_register(struct sender *s, struct sdest *d, const struct wire_register *r)
{
    const struct sfec *x = s->fec;
    if (x == NULL || !r->has_fec || r->fec.version != WIRE_FEC_VERSION ||
        r->fec.code != FEC_CODE_RS8_CAUCHY)
        return;
    /* spec §9.1: k and stride are the largest it takes. */
    uint8_t fl = r->fec.flags & (FEC_F_DECODE | FEC_F_AGGREGATE);
    if (r->fec.k < x->k || r->fec.stride < x->stride)
        fl = 0;
    if ((fl & FEC_F_DECODE) && !(d->fec_flags & FEC_F_DECODE))
        s->st.fec_decoders++;
    d->fec_flags = fl;
    if (fl)
        SLOG(s, LL_VERBOSE, "%08X takes parity (%s)", d->id,
             fl & FEC_F_DECODE ? "decodes" : "aggregates");
}

/* The layout of a section of the current file. */
static void layout(const struct sender *s, uint32_t sec, struct fec_layout *l)
{
    fec_layout_init(l, blocks_in_section(&s->file.lay, sec), s->fec->k, s->fec->stride);
}

bool sfec_file_start(struct sender *s)
{
    struct sfec *x = s->fec;
    const struct sfile *f = &s->file;
    if (x == NULL)
        return true;
    sfec_file_end(s);
    if (f->ftype != FTYPE_REG || f->lay.blocks == 0)
        return true;
    x->nsec = f->lay.sections;
    if ((x->base = malloc((x->nsec + 1) * sizeof(*x->base))) == NULL ||
        (x->rep_at = calloc(x->nsec, sizeof(*x->rep_at))) == NULL)
        return false;
    uint32_t n = 0;
    for (uint32_t i = 0; i < x->nsec; i++) {
        struct fec_layout l;
        layout(s, i, &l);
        x->base[i] = n;
        n += l.nfb;
    }
    x->base[x->nsec] = n;
    /* need, next, send and cnt in one allocation */
    if ((x->need = calloc(4, n ? n : 1)) == NULL) {
        free(x->base);
        x->base = NULL;
        return false;
    }
    x->next = x->need + n;
    x->send = x->next + n;
    x->cnt = x->send + n;
    x->active = true;
    x->all_counts = true;
    x->proxied = false;
    x->nrx = 0;
    x->nproxies = 0;
    for (size_t i = 0; i < s->ndest; i++) {
        const struct sdest *d = &s->dests[i];
        if (!((M_ACTIVE | 1u << D_REGISTERED) & 1u << d->state))
            continue;
        /* a proxy's client answers through its proxy; a direct one must decode */
        bool ok = d->isproxy ? (d->fec_flags & FEC_F_AGGREGATE) != 0
                             : d->proxy != 0 || (d->fec_flags & FEC_F_DECODE) != 0;
        if (!ok)
            x->all_counts = false;
        if (d->isproxy)
            x->proxied = true;
        if (d->isproxy && (d->fec_flags & FEC_F_AGGREGATE))
            x->nproxies++;
        if (!d->isproxy && (d->proxy != 0 || (d->fec_flags & FEC_F_DECODE)))
            x->nrx++;
    }
    x->pc = 0;
    x->pass1_ppm = x->pass1_n = 0;
    x->px_max = x->px_fbs = 0;
    x->loss_ppm = 0;
    /* spec §9.5: proactive parity, ceil(pct·k/100) per FEC block of the first pass. */
    if (x->pct > 0) {
        for (uint32_t i = 0; i < x->nsec; i++) {
            struct fec_layout l;
            layout(s, i, &l);
            for (uint32_t fb = 0; fb < l.nfb; fb++)
                x->send[x->base[i] + fb] = (uint8_t)fec_proactive(fec_layout_size(&l, fb), x->pct);
        }
    }
    return true;
}

int sfec_status(struct sender *s, struct sdest *d, const struct wire_status *st)
{
    struct sfec *x = s->fec;
    if (x == NULL || !x->active)
        return SFEC_PLAIN;
    bool counts = (d->fec_flags & FEC_F_DECODE) && !d->isproxy;
    /* spec §9.4: our proxy's count report, for the session's K and S. */
    if ((d->fec_flags & FEC_F_AGGREGATE) && st->has_fec && (st->fec.flags & FEC_F_COUNTS) &&
        st->fec.k == x->k && st->fec.stride == x->stride)
        counts = true;
    if (!counts)
        return SFEC_PLAIN;
    /* A count that left d before this pass's parity of the section reached it
     * is stale: taken, it would repair the section twice. d NAKs again at the
     * next DONE. */
    uint64_t win = d->rtt_us;
    if (d->isproxy) /* its clients' answers wait up to one hold (our GRTT) there (spec §3.4) */
        win += s_adv_grtt(s);
    if (x->rep_at[st->section] != 0 && s->now < x->rep_at[st->section] + win)
        return SFEC_STALE;
    struct fec_layout l;
    layout(s, st->section, &l);
    struct sfile *f = &s->file;
    uint32_t abs0 = blocks_section_start(&f->lay, st->section);
    /* A report on a section the first pass has yet to send (a restarted
     * receiver's map of what it lacks, issue 13, spec §1.6 step 5) names
     * blocks that pass still sends: plain, they go in it; as counts they
     * would cost parity in the next pass besides. */
    if (f->pass == 1 && f->cursor < abs0 + l.blocks)
        return SFEC_PLAIN;
    uint8_t *need = x->need + x->base[st->section];
    uint8_t *cnt = x->cnt + x->base[st->section];
    memset(cnt, 0, l.nfb);
    fec_tally_max(&l, st->naks, st->naks_len, cnt);
    /* Checked before anything is tallied: a FEC block whose parity ids run
     * out is repaired by its NAKed blocks instead (they name what is
     * missing), and so is then the whole section, once, without parity
     * besides. A proxy's bits only count (the first members, spec §9.4):
     * for it such a FEC block goes whole, as one a receiver lacks whole. */
    for (uint32_t fb = 0; fb < l.nfb; fb++) {
        unsigned size = fec_layout_size(&l, fb);
        unsigned room = fec_max_parity(size) - x->next[x->base[st->section] + fb];
        unsigned c = cnt[fb] > need[fb] ? cnt[fb] : need[fb];
        if (cnt[fb] < size && c + 2u > room && c > 0) {
            if (!d->isproxy)
                return SFEC_PLAIN;
            cnt[fb] = (uint8_t)size;
        }
    }
    /* A FEC block d lacks whole goes as its blocks: k of them, where parity
     * would be k + 1 at least and leave d decoding (a restarted receiver
     * lacks whole FEC blocks, issue 13). The others are counts. */
    for (uint32_t fb = 0; fb < l.nfb; fb++) {
        unsigned size = fec_layout_size(&l, fb);
        if (cnt[fb] == 0)
            continue;
        if (cnt[fb] < size) {
            if (cnt[fb] > need[fb])
                need[fb] = cnt[fb];
            continue;
        }
        for (unsigned i = 0; i < size; i++)
            bitmap_set(&f->naks, abs0 + fec_layout_block(&l, fb, i));
    }
    /* The first pass's loss, for the margin of lost parity; a first pass
     * that started at its end (every receiver partial) sent nothing to
     * lose: its reports are restart maps (issue 13). */
    if (f->pass == 1 && !f->partial && l.blocks > 0 && d->isproxy) {
        /* A proxy's counts are its worst client's, not a mean: kept apart (sfec_rewind). */
        x->px_max += bitmap_bytes_count(st->naks, st->naks_len, l.blocks);
        x->px_fbs += l.nfb;
    } else if (f->pass == 1 && !f->partial && l.blocks > 0) {
        x->pass1_ppm +=
            (uint64_t)bitmap_bytes_count(st->naks, st->naks_len, l.blocks) * 1000000 / l.blocks;
        x->pass1_n++;
    }
    return SFEC_COUNTS;
}

uint64_t sfec_answer_wait(const struct sender *s)
{
    const struct sfec *x = s->fec;
    if (x == NULL || !x->active || !x->all_counts || s->rtt_peak_us == 0)
        return 0;
    /* One round trip of the farthest receiver, an eighth more for its jitter; through
     * a proxy, the GRTT it holds an aggregate more. */
    return s->rtt_peak_us + s->rtt_peak_us / 8 + SENDER_QUICK_MIN_US +
           (x->proxied ? s_adv_grtt(s) : 0);
}

/*
 * The chance, summed over the FEC blocks a repair pass sends parity for, that
 * some receiver still cannot decode one of them after it: a second repair
 * pass costs 3·GRTT and a round trip (spec §1.6) for a symbol or two.
 */
#define SFEC_SHORT_EPS 0.05

/* Every block of FEC block fb (section from abs0) is to be resent in the next pass. */
static bool resent_whole(const struct sfile *f, const struct fec_layout *l, uint32_t abs0,
                         uint32_t fb)
{
    unsigned size = fec_layout_size(l, fb);
    for (unsigned i = 0; i < size; i++)
        if (!bitmap_get(&f->naks, abs0 + fec_layout_block(l, fb, i)))
            return false;
    return true;
}

void sfec_rewind(struct sender *s)
{
    struct sfec *x = s->fec;
    if (x == NULL || !x->active)
        return;
    if (s->file.pass == 2 && x->pass1_n > 0) {
        /* The first pass's mean loss among those that decode: the margin for lost parity. */
        uint64_t ppm = x->pass1_ppm / x->pass1_n;
        x->loss_ppm = ppm > 500000 ? 500000 : (uint32_t)ppm;
    } else if (s->file.pass == 2 && x->px_fbs > 0 && x->nproxies > 0) {
        /* Only proxies reported: the loss at which the worst of a proxy's clients needs,
         * on average, what they said (per FEC block of K). */
        uint32_t per = x->nrx / x->nproxies;
        x->loss_ppm = fec_loss_from_max((double)x->px_max / (double)x->px_fbs, x->k, per);
    }
    memset(x->rep_at, 0, x->nsec * sizeof(*x->rep_at));
    uint32_t total = 0, fbs = 0, needy = 0;
    for (uint32_t g = 0; g < x->base[x->nsec]; g++)
        needy += x->need[g] > 0;
    /* Per FEC block the worst receiver's need, and what its peers near it may lose of
     * the parity: a second repair pass only with probability SFEC_SHORT_EPS. */
    double eps = needy ? SFEC_SHORT_EPS / needy : SFEC_SHORT_EPS;
    for (uint32_t i = 0; i < x->nsec; i++) {
        struct fec_layout l;
        layout(s, i, &l);
        uint32_t abs0 = blocks_section_start(&s->file.lay, i);
        for (uint32_t fb = 0; fb < l.nfb; fb++) {
            uint32_t g = x->base[i] + fb;
            if (x->need[g] > 0 && resent_whole(&s->file, &l, abs0, fb))
                x->need[g] = 0; /* its blocks go again: parity besides would be lost */
            unsigned k = fec_layout_size(&l, fb);
            unsigned room = fec_max_parity(k) - x->next[g];
            unsigned c = fec_repair_count_n(x->need[g], k, x->loss_ppm, x->nrx, eps, room);
            x->send[g] = (uint8_t)c;
            x->need[g] = 0;
            total += c;
            fbs += c > 0;
        }
    }
    x->pc = 0;
    x->nsym = x->isym = 0;
    if (total > 0)
        SLOG(s, LL_VERBOSE, "pass %u: %u parity blocks for %u FEC blocks (loss %.2f%%)",
             s->file.pass, total, fbs, x->loss_ppm / 1e4);
}

/* The next global FEC block from g with parity to send, or the total. */
static uint32_t next_send(const struct sfec *x, uint32_t g)
{
    uint32_t n = x->base[x->nsec];
    while (g < n && x->send[g] == 0)
        g++;
    return g;
}

bool sfec_pending(const struct sender *s)
{
    const struct sfec *x = s->fec;
    if (x == NULL || !x->active)
        return false;
    return x->isym < x->nsym || next_send(x, x->pc) < x->base[x->nsec];
}

/* The section of global FEC block g. */
static uint32_t section_of(const struct sfec *x, uint32_t g)
{
    uint32_t lo = 0, hi = x->nsec; /* base[lo] <= g < base[hi] */
    while (hi - lo > 1) {
        uint32_t mid = (lo + hi) / 2;
        if (x->base[mid] <= g)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

static bool grow(uint8_t **p, size_t *cap, size_t want)
{
    if (*cap >= want)
        return true;
    uint8_t *n = realloc(*p, want);
    if (n == NULL)
        return false;
    *p = n;
    *cap = want;
    return true;
}

/*
 * Reads the group of FEC block x->pc and encodes the parity its FEC blocks
 * send: XMIT_SENT (prepared), XMIT_NONE (not due yet: the cursor has not
 * passed the group), or an error.
 */
static int prepare(struct sender *s)
{
    struct sfec *x = s->fec;
    struct sfile *f = &s->file;
    uint32_t sec = section_of(x, x->pc);
    struct fec_layout l;
    layout(s, sec, &l);
    uint32_t fb0 = x->pc - x->base[sec];
    uint32_t grp = fb0 / l.stride;
    uint32_t gfirst = grp * l.stride * l.k; /* section block */
    uint32_t gend = gfirst + l.stride * l.k;
    if (gend > l.blocks)
        gend = l.blocks;
    uint32_t abs0 = blocks_section_start(&f->lay, sec);
    if (f->cursor < abs0 + gend)
        return XMIT_NONE;
    size_t bs = s->cfg.blocksize;
    size_t gbytes = (size_t)(gend - gfirst) * bs;
    uint32_t fbend = (grp + 1) * l.stride < l.nfb ? (grp + 1) * l.stride : l.nfb;
    unsigned total = 0;
    for (uint32_t fb = grp * l.stride; fb < fbend; fb++)
        total += x->send[x->base[sec] + fb];
    if (!grow(&x->gbuf, &x->gcap, gbytes) || !grow(&x->pbuf, &x->pcap, (size_t)total * bs) ||
        (x->sym == NULL &&
         (x->sym = malloc(FEC_MAX_STRIDE * FEC_SYMBOLS * sizeof(*x->sym))) == NULL)) {
        SLOG(s, LL_ERR, "out of memory for parity");
        return XMIT_ENOMEM;
    }
    /* The group in one read; the file's short last block padded with zeros (spec §9.2). */
    uint64_t off = blocks_offset(&f->lay, abs0 + gfirst);
    uint64_t len = f->lay.size - off < gbytes ? f->lay.size - off : gbytes;
    memset(x->gbuf + len, 0, gbytes - len);
    struct iovec iov = {x->gbuf, (size_t)len};
    ssize_t got = s->env.storage.read(s->env.ctx, f->h, off, &iov, 1);
    if (got < 0 || (uint64_t)got != len) {
        SLOG(s, LL_ERR, "read of %s failed: %s", f->it->path,
             got < 0 ? file_strerror((int)got) : "file shrank");
        return XMIT_EREAD;
    }
    x->nsym = x->isym = 0;
    uint8_t *out = x->pbuf;
    for (uint32_t fb = grp * l.stride; fb < fbend; fb++) {
        uint32_t g = x->base[sec] + fb;
        unsigned m = x->send[g];
        if (m == 0)
            continue;
        unsigned k = fec_layout_size(&l, fb);
        const uint8_t *src[FEC_MAX_K];
        uint8_t *par[FEC_SYMBOLS];
        for (unsigned i = 0; i < k; i++)
            src[i] = x->gbuf + (size_t)(fec_layout_block(&l, fb, i) - gfirst) * bs;
        for (unsigned j = 0; j < m; j++)
            par[j] = out + (size_t)j * bs;
        int rc = fec_encode(x->codec, k, x->next[g], m, bs, src, par);
        if (rc < 0) {
            SLOG(s, LL_ERR, "cannot encode parity: %s", fec_strerror(rc));
            return rc == FEC_ENOMEM ? XMIT_ENOMEM : XMIT_ECRYPT;
        }
        for (unsigned j = 0; j < m; j++)
            x->sym[x->nsym++] = (struct sfec_sym){.section = (uint16_t)sec,
                                                  .fb = (uint16_t)fb,
                                                  .k = (uint8_t)k,
                                                  .p = (uint8_t)(x->next[g] + j)};
        out += (size_t)m * bs;
        x->next[g] = (uint8_t)(x->next[g] + m);
        x->send[g] = 0;
    }
    x->pc = (x->base[sec] + fbend);
    return XMIT_SENT;
}

int sfec_xmit(struct sender *s, uint64_t now, struct eng_out *out)
{
    struct sfec *x = s->fec;
    struct sfile *f = &s->file;
    if (x == NULL || !x->active)
        return XMIT_NONE;
    if (x->isym >= x->nsym) {
        x->pc = next_send(x, x->pc);
        if (x->pc >= x->base[x->nsec])
            return XMIT_NONE;
        int rc = prepare(s);
        if (rc != XMIT_SENT)
            return rc;
        if (x->nsym == 0)
            return XMIT_NONE;
    }
    size_t bs = s->cfg.blocksize;
    size_t moff = s->moff;
    size_t seglen = moff + WIRE_FEC_PARITY_FIXED + bs + (s->keys ? AEAD_TAG_LEN : 0);
    size_t max = out->max_seg < ENG_MAX_SEG ? out->max_seg : ENG_MAX_SEG;
    if (max > out->cap / seglen)
        max = out->cap / seglen;
    if (max == 0)
        max = 1;
    if (max > x->nsym - x->isym)
        max = x->nsym - x->isym;
    uint32_t n = pace_allow(&s->pace, now, (uint32_t)max);
    if (n == 0)
        return XMIT_NONE;
    size_t total = 0;
    for (uint32_t i = 0; i < n; i++) {
        const struct sfec_sym *y = &x->sym[x->isym + i];
        uint8_t *seg = out->buf + (size_t)i * seglen;
        struct wire_fec_parity fp = {.ver = s->cfg.version,
                                     .file_id = f->file_id,
                                     .section = y->section,
                                     .fec_block = y->fb,
                                     .code = FEC_CODE_RS8_CAUCHY,
                                     .k = y->k,
                                     .parity = y->p,
                                     .data = x->pbuf + (size_t)(x->isym + i) * bs,
                                     .data_len = bs};
        xmit_hdr(s, seg, FEC_PARITY);
        ssize_t ml = wire_fec_parity_encode(seg + moff, seglen - moff, &fp);
        if (ml < 0) {
            SLOG(s, LL_ERR, "cannot encode FEC_PARITY: %s", wire_strerror((int)ml));
            return XMIT_ECRYPT;
        }
        size_t len = moff + (size_t)ml;
        if (s->keys != NULL) {
            ssize_t sl = xmit_seal_data(s, seg, (size_t)ml, seglen);
            if (sl < 0)
                return (int)sl;
            len = (size_t)sl;
        }
        total = (size_t)i * seglen + len;
    }
    x->rep_at[x->sym[x->isym + n - 1].section] = now;
    x->isym += n;
    pace_sent(&s->pace, now, n);
    s->st.fec_packets += n;
    s->st.fec_bytes += (uint64_t)n * bs;
    out->kind = ENG_SEND;
    out->dst = s->data_dst;
    out->seglen = seglen;
    out->nseg = n;
    out->len = total;
    return f->cursor >= f->lay.blocks && !sfec_pending(s) ? XMIT_PASS_END : XMIT_SENT;
}
