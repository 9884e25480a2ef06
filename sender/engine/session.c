/*
 * The sender's session machine (spec §1.6):
 *   START → ANNOUNCE → { FILEINFO → DATA }* → COMPLETION → FINISHED
 * ANNOUNCE   ANNOUNCE (+REG_CONF / KEYINFO) every 3·GRTT, ROBUST rounds; a
 *            closed group ends a few RTTs after everyone registered. Nobody: exit 7.
 * FILEINFO   FILEINFO every 3·GRTT, ROBUST rounds, listing non-responders;
 *            ends as soon as everyone answered. Nobody: exit 8.
 * DATA       passes of FILESEG; DONE every 3·GRTT at the end of a pass;
 *            NAKs start a rewind 3·GRTT later; COMPLETE from all ends it.
 * COMPLETION DONE(0) + DONE_CONF every 3·GRTT until all COMPLETE(0).
 * A FILEINFO or DONE round is sent once more a few RTTs (≤ 1·GRTT) after it
 * to whoever is still silent (SE_QUICK, not counted in ROBUST): a lost
 * datagram then costs that, not a whole round (issue 18, DESIGN.md "What
 * bounds a file's latency").
 * Rounds past ROBUST go on while someone owes an answer and --liveness has
 * not passed since the phase's first (issue 13: outages are ridden out).
 * The table (s_rows) is the only place the phase changes; the handlers
 * (reg.c, xfer.c, abort.c) raise SE_HEARD / SE_LEFT when they are done.
 */
#include "sender/engine/sender_int.h"

#include "core/crypto/keyblob.h"
#include "core/proto/claims.h"

#include <stdio.h>
#include <string.h>

/*
 * The end of the announce or FILEINFO rounds: the session ends with code
 * when nobody answered (gotone), or with -q when anybody is out.
 */
static int verdict(struct sender *s, bool anyerror, bool gotone, int code, const char *what)
{
    int rc = 0;
    if ((anyerror || s->cnt[D_MUTE] + s->cnt[D_ABORT] > 0) && s->cfg.quit_on_error) {
        client_abort_all(s, "A client dropped out, aborting all", 0, 1u << D_ACTIVE);
        rc = code;
    }
    if (!gotone) {
        SLOG(s, LL_ERR, "announce timed out: no client %s", what);
        rc = code;
    }
    return rc;
}

/*
 * The quick resend: a few measured RTTs after a FILEINFO or DONE round (at
 * most 1·GRTT), the receivers that have not answered yet get it once more.
 * A receiver answers within its RTT, so one still silent then most likely
 * lost the message or its answer; the next full round would come only
 * 3·GRTT (DONE: done_interval()) after the first, and the GRTT is floored
 * (-r min, 10 ms) far above a LAN's RTT. The resend is not a round: the
 * ROBUST rounds after which a silent receiver is lost keep their spacing.
 * A resend that was not needed costs one datagram and a duplicate answer.
 */
static uint64_t quick_interval(const struct sender *s)
{
    uint64_t g = s_adv_grtt(s), q = SENDER_QUICK_RTTS * s->rtt_peak_us;
    if (q < SENDER_QUICK_MIN_US)
        q = SENDER_QUICK_MIN_US;
    return s->rtt_peak_us == 0 || q > g ? g : q;
}

static void arm_quick(struct sender *s, uint64_t round_at)
{
    s->quick_at = s->now + quick_interval(s);
    if (s->quick_at >= round_at)
        s->quick_at = 0; /* the round itself comes first */
}

/* ---------------------------------------------------------------- announce */

static void announce_cycle(struct sender *s)
{
    if (s->keys != NULL) {
        /* spec §1.6: KEYINFO for those registered (REG_CONF only for proxies' clients). */
        job_list(s, KEYINFO, D_REGISTERED, false);
        job_regconf_proxied(s);
    } else {
        /* Unencrypted: REG_CONF confirms every registered client (spec §1.4). */
        job_list(s, REG_CONF, D_ACTIVE, true);
    }
    job_list(s, ANNOUNCE, D_MUTE, false);
}

static ENG_ACTION(on_start)
{
    struct sender *s = obj;
    SLOG(s, LL_INFO, "starting session, %s group of %zu, %zu item(s)",
         s->open_group ? "open" : "closed", s->ndest, s->cfg.nfiles);
    if (s->keys != NULL) {
        static const char *const ciphers[] = {"aes128-gcm", "aes256-gcm", "aes128-ccm",
                                              "aes256-ccm"};
        static const char *const hashes[] = {"sha256", "sha384", "sha512"};
        SLOG(s, LL_VERBOSE, "encrypted: %s, %s, ECDH %s%s",
             ciphers[s->cfg.keytype - KEY_AES128_GCM], hashes[s->cfg.hashtype - HASH_SHA256],
             keyblob_curve_name(s->cfg.curve), s->cfg.client_auth ? ", client authentication" : "");
    }
    s->attempt = 1;
    s->asked_at = s->now;
    s->last_pass = false;
    s->regdone = false;
    announce_cycle(s);
    s->next_send = s->now + 3 * s->grtt.cur_us;
    return FSM_NEXT;
}

/* After any registration change in a closed group (spec §1.6 step 3). */
static ENG_ACTION(announce_progress)
{
    struct sender *s = obj;
    if (s->open_group)
        return FSM_NEXT;
    /* Clients and the proxies in -j alike (a proxy is in once keyed). */
    size_t done = s->cnt[D_ACTIVE] + s->cnt[D_ABORT];
    size_t pdone = s->pcnt[D_ACTIVE] + s->pcnt[D_ABORT];
    if (done == s_nclients(s) && pdone == s->nproxy)
        return FSM_THEN(SE_ALL_IN);
    if (done + s->cnt[D_REGISTERED] == s_nclients(s) &&
        pdone + s->pcnt[D_REGISTERED] == s->nproxy && !s->regdone) {
        s->regdone = true; /* everyone registered: their keys at once */
        announce_cycle(s);
    }
    /* Someone answered, others not yet: the quick resend (the GRTT is still -r's initial
     * 0.5 s, the RTTs of the REGISTERs are known). */
    if (s->quick_at == 0 && !s->last_pass) {
        s->quick_gap = quick_interval(s);
        s->quick_at = s->now + s->quick_gap;
    }
    return FSM_NEXT;
}

/*
 * SE_QUICK in a closed group's announce phase: the round once more for those
 * missing, each time after twice the wait before (each signed ANNOUNCE costs
 * every receiver a signature check: a handful a round). A receiver still
 * waiting for its confirmation answers it with its REGISTER at once.
 */
static ENG_ACTION(quick_announce)
{
    struct sender *s = obj;
    s->quick_at = ENG_NEVER; /* none until the next round */
    if (s->last_pass)
        return FSM_NEXT;
    announce_cycle(s);
    s->quick_gap *= 2;
    if (s->now + s->quick_gap < s->next_send)
        s->quick_at = s->now + s->quick_gap;
    return FSM_NEXT;
}

/*
 * Everyone answered: one last short wait for late answers (spec §1.6 says
 * 1·GRTT). Nobody else is owed then: a closed group's listed hosts are all
 * in (a REG_CONF lost on the way is made good by the FILEINFO that lists
 * the receiver, spec §1.4; an encrypted one is in only after its
 * KEYINFO_ACK), and after COMPLETE(0) from all the only message left is
 * DONE_CONF, whose loss a receiver repeats COMPLETE(0) for only after
 * 4·GRTT, long after a 1·GRTT wait too. So the wait is the quick resend's
 * few measured RTTs (at most 1·GRTT), not the GRTT floor of 10 ms: a
 * duplicate still in flight is taken (issue 18, DESIGN.md "What bounds a
 * file's latency").
 */
static void last_round(struct sender *s, const char *what)
{
    dest_grtt(s, false);
    s->next_send = s->now + quick_interval(s);
    if (!s->last_pass)
        SLOG(s, LL_VERBOSE, "%s", what);
    s->last_pass = true;
}

static ENG_ACTION(announce_all_in)
{
    struct sender *s = obj;
    last_round(s, "all registered, waiting for late registers");
    if (s->keys == NULL)
        job_list(s, REG_CONF, D_ACTIVE, true);
    else
        job_regconf_proxied(s);
    return FSM_NEXT;
}

static ENG_ACTION(end_announce)
{
    struct sender *s = obj;
    dest_grtt(s, true);
    bool anyerror = false;
    for (size_t i = 0; i < s->ndest; i++) {
        struct sdest *d = &s->dests[i];
        if (d->state == D_REGISTERED) {
            SLOG(s, LL_WARN, "%s %08X never completed registration%s",
                 d->isproxy ? "proxy" : "client", d->id, s->keys ? " (no KEYINFO_ACK)" : "");
            s->why = "never completed registration";
            client_lose(s, d, CE_SILENCE);
            s->why = NULL;
            anyerror = true;
        } else if (d->state == D_MUTE && d->registered && s->cfg.client_auth) {
            SLOG(s, LL_WARN, "client %08X registered but never authenticated (CLIENT_KEY)", d->id);
        }
        /* The handshake is over: its keys and the group master go (DESIGN.md). */
        skeys_peer_end_handshake(d->keys);
    }
    if (s->keys != NULL)
        skeys_server_end_handshake(s->keys);
    int rc = verdict(s, anyerror, s->cnt[D_ACTIVE] > 0, SENDER_EXIT_NO_REGISTER, "registered");
    if (s->open_group && s->keys == NULL)
        job_list(s, REG_CONF, D_ACTIVE, true);
    for (size_t i = 0; i < s->ndest; i++) {
        if (s->dests[i].isproxy)
            continue;
        struct sender_event e = {.kind = SENDER_EV_CONNECT,
                                 .client_id = s->dests[i].id,
                                 .ok = s->dests[i].state == D_ACTIVE};
        s_report(s, &e);
    }
    s->st.clients = (uint32_t)s->cnt[D_ACTIVE];
    if (rc == 0)
        return FSM_THEN(SE_NEXT_FILE);
    s->exit_code = rc;
    return FSM_GOTO(SP_FINISHED);
}

/* ---------------------------------------------------------------- FILEINFO */

static void fileinfo_cycle(struct sender *s)
{
    job_list(s, FILEINFO, D_REGISTERED, false);
}

static ENG_ACTION(quick_fileinfo)
{
    struct sender *s = obj;
    s->quick_at = 0;
    if (s->cnt[D_REGISTERED] > 0 && !s->last_pass) {
        s->file.early_resent = s->file.early;
        fileinfo_cycle(s);
        arm_quick(s, s->next_send); /* again, until the next round */
    }
    return FSM_NEXT;
}

/* ---------------------------------------------------------------- one file */
void session_close_file(struct sender *s)
{
    if (s->file.open) {
        s->env.storage.close(s->env.ctx, s->file.h);
        s->file.open = false;
    }
    bitmap_free(&s->file.naks);
    sfec_file_end(s);
}

static bool open_file(struct sender *s, const struct file_item *it, uint32_t index)
{
    struct sfile *f = &s->file;
    memset(f, 0, sizeof(*f));
    f->it = it;
    f->index = index;
    f->ftype = (uint8_t)it->type;
    if (strlen(it->name) > WIRE_MAX_PATH || (it->link && strlen(it->link) > WIRE_MAX_PATH)) {
        SLOG(s, LL_WARN, "skipping %s: name too long", it->name);
        return false;
    }
    switch (it->type) {
    case FTYPE_REG: {
        int rc = blocks_init(&f->lay, it->size, s->cfg.blocksize);
        if (rc < 0) {
            SLOG(s, LL_WARN, "skipping %s: too large for block size %u", it->path,
                 (unsigned)s->cfg.blocksize);
            return false;
        }
        rc = s->env.storage.open(s->env.ctx, it, &f->h);
        if (rc < 0) {
            SLOG(s, LL_WARN, "error reading file %s: %s", it->path, file_strerror(rc));
            return false;
        }
        f->open = true;
        break;
    }
    case FTYPE_DIR:
    case FTYPE_LINK:
    case FTYPE_DELETE:
    case FTYPE_FREESPACE:
        blocks_init(&f->lay, 0, s->cfg.blocksize);
        break;
    default:
        SLOG(s, LL_WARN, "skipping %s: unknown type %d", it->name, it->type);
        return false;
    }
    return true;
}

static bool start_data(struct sender *s);

/*
 * A small file's data, and its DONE, go out right behind its FILEINFO
 * rather than after the last FILEINFO_ACK: one round trip a file, not two
 * (issue 18, DESIGN.md "What bounds a file's latency"). The wire allows it:
 * a receiver takes datagrams in order, and both uftpd and 5.0.1 open the
 * file while handling the FILEINFO, before they answer it (spec §1.6 file
 * phase step 2), so the FILESEGs behind it find the file open; a receiver
 * that lost the FILEINFO drops them (5.0.1: "not a regular file" or a wrong
 * file ID in MIDGROUP) and NAKs them at a later DONE once the FILEINFO's
 * resend reached it. The DONE lists those still owing FILEINFO_ACK too: a
 * receiver that has the file answers it with COMPLETE or STATUS; one that
 * lost the FILEINFO ignores it (ours: another file ID; 5.0.1 in MIDGROUP
 * answers COMPLETE for its previous file, which we reject). Only a file of
 * one section and at most SENDER_EARLY_BLOCKS blocks, without TFMCC (its
 * rate starts with the data phase) or proxies (a proxy's aggregation is
 * per phase, spec §3.4): what it costs when a receiver answers PARTIAL
 * (restart, which it would otherwise skip) or skips the file (sync mode)
 * is that little data.
 */
static bool early_data(const struct sender *s)
{
    const struct sfile *f = &s->file;
    return f->ftype == FTYPE_REG && f->lay.sections == 1 && f->lay.blocks > 0 &&
           f->lay.blocks <= SENDER_EARLY_BLOCKS && !s->cc && s->nproxy == 0;
}

/* SE_NEXT_FILE: the next file that opens, and its FILEINFO rounds. */
static ENG_ACTION(next_file)
{
    struct sender *s = obj;
    struct sfile *f = &s->file;
    session_close_file(s);
    for (;;) {
        if (s->next_index >= s->cfg.nfiles)
            return FSM_STAY_THEN(SE_LAST_FILE);
        uint32_t idx = s->next_index++;
        if (open_file(s, &s->cfg.files[idx], idx))
            break;
    }
    f->partial = true; /* until a FILEINFO_ACK without PARTIAL (xfer.c) */
    f->file_id = s->next_file_id++;
    if (s->next_file_id == 0)
        s->next_file_id = 1; /* spec §1.4: wraps and skips 0 */
    client_step_all(s, CE_FILEINFO, M_IN);
    SLOG(s, LL_INFO, "file %04X: %s (%llu bytes, %u blocks, %u sections)", f->file_id, f->it->name,
         (unsigned long long)(f->ftype == FTYPE_REG ? f->it->size : 0), f->lay.blocks,
         f->lay.sections);
    s->attempt = 1;
    s->asked_at = s->now;
    s->last_pass = false;
    s->next_send = s->now + 3 * s->grtt.cur_us;
    f->start_us = s->now;
    fileinfo_cycle(s);
    arm_quick(s, s->next_send);
    s->st.file_index = f->index;
    s->st.file_id = f->file_id;
    s->st.file_size = f->ftype == FTYPE_REG ? f->it->size : 0;
    s->st.pass = 0;
    s->st.section = 0;
    f->early = early_data(s);
    if (f->early && !start_data(s)) {
        s->exit_code = SENDER_EXIT_ALLOC;
        return FSM_GOTO(SP_FINISHED);
    }
    if (f->early)
        arm_quick(s, s->next_send); /* (start_data() cleared it) */
    return FSM_NEXT;
}

/* The first pass; false when out of memory. */
static bool start_data(struct sender *s)
{
    struct sfile *f = &s->file;
    if (bitmap_init(&f->naks, f->lay.blocks, f->early || !f->partial) < 0) {
        SLOG(s, LL_ERR, "out of memory for %u blocks", f->lay.blocks);
        return false;
    }
    f->pass = 1;
    f->cursor = bitmap_next_set(&f->naks, 0);
    if (!sfec_file_start(s)) {
        SLOG(s, LL_ERR, "out of memory for the parity of %u blocks", f->lay.blocks);
        return false;
    }
    f->end_of_pass = f->cursor >= f->lay.blocks && !sfec_pending(s);
    f->done_attempt = 1;
    f->done_since = s->now;
    f->done_next = s->now;
    f->rewind_at = 0;
    f->max_time_at = 0;
    f->start_us = s->now;
    s->quick_at = 0;
    /* spec §1.6 step 7: -W, in whole seconds as the reference computes it. */
    if (s->cfg.cc_type == CC_NONE && s->rate_Bps != 0 && s->cfg.max_time_pct != 0) {
        uint64_t secs =
            (uint64_t)((double)s->cfg.max_time_pct / 100.0 * (double)f->lay.size / s->rate_Bps);
        if (secs > 0) {
            f->max_time_at = s->now + secs * 1000000;
            SLOG(s, LL_INFO, "maximum file transfer time: %llu seconds", (unsigned long long)secs);
        }
    }
    pace_init(&s->pace, s->rate_Bps, (uint32_t)s->datapacketsize, ENG_MAX_SEG, s->now);
    cc_start_file(s);
    s->st.pass = 1;
    SLOG(s, LL_VERBOSE, "sending file, pass 1");
    return true;
}

/* SE_ALL_ACKED / SE_ROUNDS_OVER in FILEINFO: data, or exit 8. */
static ENG_ACTION(acks_over)
{
    struct sender *s = obj;
    dest_grtt(s, true);
    bool anyerror = false;
    for (size_t i = 0; i < s->ndest; i++) {
        struct sdest *d = &s->dests[i];
        if (d->state == D_REGISTERED) {
            SLOG(s, LL_WARN, "couldn't get FILEINFO_ACK from %08X", d->id);
            client_step_why(s, d, CE_SILENCE, "no FILEINFO_ACK");
            anyerror = true;
        }
    }
    /* (D_ACTIVE_NAK: a STATUS for early data, early_data().) */
    size_t on = s->cnt[D_ACTIVE] + s->cnt[D_ACTIVE_NAK];
    int rc =
        verdict(s, anyerror, on + s->cnt[D_DONE] > 0, SENDER_EXIT_NO_FILEINFO, "answered FILEINFO");
    if (rc == 0 && on == 0) /* all COMPLETE: skipped, rejected, not a file */
        return FSM_THEN(SE_FILE_END);
    if (rc == 0 && !s->file.early && !start_data(s))
        rc = SENDER_EXIT_ALLOC;
    /* Early data (early_data()): the pass goes on, or its DONE went; a quick one follows,
     * or one at once when the FILEINFO had to go again: whoever lacked it dropped the data
     * and NAKs it all at this DONE. */
    struct sfile *f = &s->file;
    if (rc == 0 && f->early)
        s->quick_at = 0;
    if (rc == 0 && f->early && f->end_of_pass && f->early_resent && s->cnt[D_ACTIVE] > 0)
        job_done(s, f->file_id, 0);
    if (rc == 0 && f->early && f->end_of_pass)
        arm_quick(s, f->done_next);
    if (rc == 0)
        return FSM_NEXT;
    s->exit_code = rc;
    return FSM_GOTO(SP_FINISHED);
}

/*
 * After a pass with NAKs, the next pass starts 3·GRTT later (spec §1.6 step
 * 5: time for every receiver's STATUS), or as soon as every receiver of a
 * one-section file has answered the pass's DONE (STATUS or COMPLETE): a
 * receiver NAKs such a file only after the DONE, all of it in one STATUS,
 * so nothing more is coming (issue 18). A file of several sections keeps
 * the wait: a receiver's STATUS for one section says nothing of the others.
 */
void session_rewind_check(struct sender *s)
{
    struct sfile *f = &s->file;
    if (!f->got_naks || !f->end_of_pass)
        return;
    uint64_t at = s->now + 3 * s_adv_grtt(s);
    if (f->lay.sections <= 1 && s->cnt[D_ACTIVE] == 0 && s->pcnt[D_ACTIVE] == 0)
        at = s->now;
    /* Issue 17: with parity, the pass's answers are in one round trip after its DONE
     * (receivers that decode NAK every section at a DONE, receiver/engine/done.c); a
     * receiver not heard by then most likely needs no more than the worst one heard
     * (and what it still needs, it NAKs at the next DONE). */
    uint64_t wait = sfec_answer_wait(s);
    if (wait > 0 && f->done_since + wait < at)
        at = f->done_since + wait > s->now ? f->done_since + wait : s->now;
    if (f->rewind_at == 0 || at < f->rewind_at) {
        if (f->rewind_at == 0)
            SLOG(s, LL_DEBUG, "starting rewind timer");
        f->rewind_at = at;
    }
}

static ENG_ACTION(pass_end)
{
    struct sender *s = obj;
    s->file.done_attempt = 1;
    s->file.end_of_pass = true;
    s->file.done_since = s->now;
    s->file.done_next = s->now;
    session_rewind_check(s);
    return FSM_NEXT;
}

/*
 * DONE every 3·GRTT (spec §1.6 step 6), but the ROBUST of them span at
 * least SENDER_DONE_SPAN_US: after an unpaced pass a receiver may still be
 * working through a full socket buffer (uftpd's default is 32 MiB), alive
 * but silent, for longer than ROBUST·3·GRTT at the minimum GRTT (0.6 s).
 * The first quarter of them keep 3·GRTT, so that a lost DONE or COMPLETE
 * costs a small file 3·GRTT and not a share of the span (issue 18); the
 * others share what is left of the span.
 */
static uint64_t done_interval(const struct sender *s, uint32_t attempt)
{
    uint64_t iv = 3 * s_adv_grtt(s);
    uint32_t robust = s->cfg.robust > 0 ? s->cfg.robust : 1;
    uint32_t quick = robust / 4;
    if (attempt <= quick)
        return iv;
    uint64_t used = quick * iv;
    uint64_t floor =
        used < SENDER_DONE_SPAN_US ? (SENDER_DONE_SPAN_US - used) / (robust - quick) : 0;
    return iv > floor ? iv : floor;
}

/* SE_PASS_END in FILEINFO (early data): as pass_end, and the pass's first DONE
 * at once (no done_round in this phase), to all still in. */
static ENG_ACTION(early_pass_end)
{
    struct sender *s = obj;
    struct sfile *f = &s->file;
    pass_end(obj, ev, arg);
    job_done_early(s, f->file_id, 0);
    f->done_next = s->now + done_interval(s, 1);
    f->done_attempt = 2;
    return FSM_NEXT;
}

/* SE_TIMER in DATA: the next DONE, or the file timed out. */
static ENG_ACTION(done_round)
{
    struct sender *s = obj;
    struct sfile *f = &s->file;
    /* Issue 13: ROBUST DONEs, and on until --liveness has passed since the first. */
    if (f->done_attempt <= s->cfg.robust || s->now < f->done_since + s->cfg.liveness_us) {
        job_done(s, f->file_id, (uint16_t)(f->lay.sections ? f->lay.sections - 1 : 0));
        f->done_next = s->now + done_interval(s, f->done_attempt);
        f->done_attempt++;
        /* A file of several sections keeps the DONE span alone: its receivers may be
         * draining a backlog, and its transfer, not a lost DONE, sets its time. But after
         * a repair pass of parity (every destination reporting counts, issue 17) the
         * receivers are idle, and a lost DONE or COMPLETE would cost 3·GRTT. */
        if (f->lay.sections <= 1 || (f->pass > 1 && sfec_answer_wait(s) > 0))
            arm_quick(s, f->done_next);
    } else if (f->rewind_at == 0) {
        SLOG(s, LL_WARN, "file %04X timed out waiting for clients", f->file_id);
        return FSM_THEN(SE_FILE_END);
    } else {
        f->done_next = f->rewind_at;
    }
    return FSM_NEXT;
}

/* SE_QUICK after a DONE: once more to the receivers still silent. */
static ENG_ACTION(quick_done)
{
    struct sender *s = obj;
    struct sfile *f = &s->file;
    s->quick_at = 0;
    if (s->cnt[D_ACTIVE] > 0) {
        job_done(s, f->file_id, (uint16_t)(f->lay.sections ? f->lay.sections - 1 : 0));
        arm_quick(s, f->done_next); /* again, until the next round */
    }
    return FSM_NEXT;
}

static ENG_ACTION(rewind_pass)
{
    struct sender *s = obj;
    struct sfile *f = &s->file;
    f->rewind_at = 0;
    s->quick_at = 0;
    f->got_naks = false;
    client_step_all(s, CE_REWIND, 1u << D_ACTIVE_NAK);
    if (f->pass >= s->cfg.max_passes) {
        SLOG(s, LL_WARN, "maximum number of passes exceeded");
        f->max_passes_exceeded = true;
        return FSM_THEN(SE_FILE_END);
    }
    f->pass++;
    s->st.pass = f->pass;
    f->cursor = bitmap_next_set(&f->naks, 0);
    sfec_rewind(s);
    f->end_of_pass = f->cursor >= f->lay.blocks && !sfec_pending(s);
    SLOG(s, LL_VERBOSE, "starting pass %u", f->pass);
    if (f->end_of_pass)
        f->done_next = s->now;
    return FSM_NEXT;
}

static ENG_ACTION(max_time)
{
    struct sender *s = obj;
    SLOG(s, LL_WARN, "maximum file transfer time exceeded");
    client_abort_all(s, "Max file transfer time exceeded", 0, M_ACTIVE);
    return FSM_THEN(SE_FILE_END);
}

/* The receivers still on the file are aborted for it (spec §1.4); the others stay.
 * With early data (FILEINFO phase) those yet to acknowledge it too; the data
 * phase then ends the file. */
static ENG_ACTION(read_error)
{
    client_abort_all(obj, "Error reading file", FLAG_CURRENT_FILE, M_ACTIVE | 1u << D_REGISTERED);
    return FSM_NEXT;
}

/* Each client's outcome for the file, then the file's (sender_env.event). */
static void results(struct sender *s)
{
    /* by enum dstate; D_DONE: the COMPLETE status */
    static const enum sender_result res[D_NSTATES] = {
        SENDER_RES_MUTE, SENDER_RES_ABORTED, SENDER_RES_ABORTED, SENDER_RES_ABORTED,
        SENDER_RES_COPY, SENDER_RES_LOST,    SENDER_RES_ABORTED};
    struct sfile *f = &s->file;
    if (s->env.event == NULL) {
        s->st.files_done++;
        return;
    }
    struct sender_event e = {
        .file = f->it, .file_id = f->file_id, .elapsed_us = s->now - f->start_us};
    for (size_t i = 0; i < s->ndest; i++) {
        const struct sdest *d = &s->dests[i];
        if (d->isproxy)
            continue;
        e.kind = SENDER_EV_RESULT;
        e.client_id = d->id;
        e.ok = d->state == D_DONE && d->comp_status != COMP_STAT_REJECTED;
        e.result = d->state != D_DONE                     ? res[d->state]
                   : d->comp_status <= COMP_STAT_REJECTED ? (enum sender_result)d->comp_status
                                                          : SENDER_RES_REJECTED;
        s_report(s, &e);
    }
    e.kind = SENDER_EV_FILE;
    e.client_id = 0;
    e.result = 0;
    e.ok = s->cnt[D_DONE] > 0;
    s_report(s, &e);
    s->st.files_done++;
}

/* SE_FILE_END: who did not finish is lost (or aborted after -a); next file, or exit 9. */
static ENG_ACTION(end_file)
{
    struct sender *s = obj;
    struct sfile *f = &s->file;
    bool found_error = false;
    for (size_t i = 0; i < s->ndest && s->cnt[D_ACTIVE] + s->cnt[D_ACTIVE_NAK] > 0; i++) {
        struct sdest *d = &s->dests[i];
        if ((d->state != D_ACTIVE && d->state != D_ACTIVE_NAK) || d->isproxy)
            continue;
        if (f->max_passes_exceeded) {
            client_drop(s, d, "Max passes exceeded");
        } else {
            SLOG(s, LL_WARN, "no response from client %08X", d->id);
            client_step_why(s, d, CE_SILENCE, "no response during the transfer");
        }
        found_error = true;
    }
    if (found_error && s->cfg.quit_on_error)
        client_abort_all(s, "A client dropped out, aborting all", 0, M_ACTIVE);
    SLOG(s, LL_INFO, "file %04X done: %zu client(s) complete", f->file_id, s->cnt[D_DONE]);
    results(s);
    bool dropped = s->cfg.quit_on_error ? s->cnt[D_DONE] != s_nclients(s) : s->cnt[D_DONE] == 0;
    if (!dropped)
        return FSM_THEN(SE_NEXT_FILE);
    SLOG(s, LL_ERR, "all clients dropped or aborted");
    s->exit_code = SENDER_EXIT_DROPPED;
    return FSM_GOTO(SP_FINISHED);
}

/* ---------------------------------------------------------------- completion */

static void completion_cycle(struct sender *s)
{
    job_list(s, DONE_CONF, D_DONE, true);
    job_done(s, 0, 0);
}

/* No file left (spec §1.6): everyone still in answers COMPLETE(0). */
static ENG_ACTION(start_completion)
{
    struct sender *s = obj;
    client_step_all(s, CE_COMPLETION, M_IN);
    SLOG(s, LL_INFO, "finishing group");
    memset(&s->file, 0, sizeof(s->file));
    s->st.file_id = 0;
    s->attempt = 1;
    s->asked_at = s->now;
    s->last_pass = false;
    s->quick_at = 0;
    completion_cycle(s);
    s->next_send = s->now + 3 * s->grtt.cur_us;
    return FSM_NEXT;
}

static ENG_ACTION(completion_all)
{
    struct sender *s = obj;
    last_round(s, "all complete, waiting for late completions");
    job_list(s, DONE_CONF, D_DONE, true);
    return FSM_NEXT;
}

/* A receiver left: if it was the last one owing COMPLETE, the same wait. */
static ENG_ACTION(completion_left)
{
    struct sender *s = obj;
    if (s->cnt[D_ACTIVE] == 0 && !s->last_pass) {
        s->last_pass = true;
        s->next_send = s->now + quick_interval(s);
    }
    return FSM_NEXT;
}

static ENG_ACTION(end_completion)
{
    struct sender *s = obj;
    for (size_t i = 0; i < s->ndest; i++) {
        struct sdest *d = &s->dests[i];
        if (d->state == D_ACTIVE && !d->isproxy) {
            SLOG(s, LL_WARN, "couldn't get COMPLETE for group from %08X", d->id);
            client_step_why(s, d, CE_SILENCE, "no COMPLETE for the session");
        }
    }
    job_list(s, DONE_CONF, D_DONE, true);
    s->exit_code = s->files_sent ? SENDER_EXIT_OK : SENDER_EXIT_NO_FILES;
    return FSM_NEXT;
}

/* ---------------------------------------------------------------- the end */

static ENG_ACTION(on_interrupt)
{
    struct sender *s = obj;
    if (s->phase != SP_START)
        client_abort_all(s, "Server quit, aborting all", 0, M_IN);
    s->exit_code = SENDER_EXIT_INTERRUPTED;
    return FSM_NEXT;
}

static ENG_ACTION(on_key_limit)
{
    struct sender *s = obj;
    client_abort_all(s, "Encryption key usage limit reached", 0, M_IN);
    s->exit_code = SENDER_EXIT_CRYPTO;
    return FSM_NEXT;
}

static ENG_ACTION(on_fail)
{
    ((struct sender *)obj)->exit_code = *(const int *)arg;
    return FSM_NEXT;
}

/* ---------------------------------------------------------------- rounds and answers */

/* What each phase sends again every 3·GRTT. */
static void (*const cycle[SP_NSTATES])(struct sender *) = {[SP_ANNOUNCE] = announce_cycle,
                                                           [SP_FILEINFO] = fileinfo_cycle,
                                                           [SP_COMPLETION] = completion_cycle};

/*
 * The announce rounds are over, but the public-key budget is refusing
 * strangers' REGISTERs while admitting others (both within two of the
 * clients' REGISTER intervals, 5·GRTT): one more round, within the time
 * SENDER_MAX_DEST key exchanges take at the budget's rate (issue 16: a
 * budget against floods must not cap a legitimate open group).
 */
static bool announce_extend(struct sender *s)
{
    uint64_t win = 2 * claims_resend_us(s->grtt.cur_us, 5);
    bool go = s->phase == SP_ANNOUNCE && !s->last_pass && s->cfg.pk_budget_us > 0 &&
              s->reg_refused_us != 0 && s->now - s->reg_refused_us <= win &&
              s->reg_admitted_us != 0 && s->now - s->reg_admitted_us <= win;
    if (go && s->reg_ext_end == 0) {
        uint64_t span = (uint64_t)SENDER_MAX_DEST * skeys_cost_ecdh(s->cfg.curve) * 1000000u /
                        s->cfg.pk_budget_us;
        s->reg_ext_end = s->now + span;
        SLOG(s, LL_WARN,
             "registration extended: the public-key budget (%u us/s of key work) is refusing "
             "REGISTERs while admitting others; up to %.0f s more",
             s->cfg.pk_budget_us, (double)span / 1e6);
    }
    if (go && s->now >= s->reg_ext_end) {
        SLOG(s, LL_WARN,
             "registration closed with the public-key budget (%u us/s) still refusing "
             "REGISTERs (%llu refused in all)",
             s->cfg.pk_budget_us, (unsigned long long)s->reg_refused);
        go = false;
    }
    return go;
}

static bool owed(const struct sender *s);

/*
 * SE_TIMER: the phase's next round, or ROUNDS_OVER after ROBUST (or the
 * last) of them. Issue 13: the GRTT sets how often we ask, --liveness how
 * long someone who owes an answer may stay silent (a path outage) before
 * the rounds end without it.
 */
static ENG_ACTION(on_round)
{
    struct sender *s = obj;
    s->attempt++;
    dest_grtt(s, false);
    s->next_send = s->now + 3 * s->grtt.cur_us;
    if (s->attempt > s->cfg.robust && announce_extend(s))
        s->attempt = s->cfg.robust;
    /* In a closed group the mute owe their REGISTER too. */
    bool owing = owed(s) || (s->phase == SP_ANNOUNCE && !s->open_group && s->cnt[D_MUTE] > 0);
    bool patient = owing && s->now < s->asked_at + s->cfg.liveness_us;
    if (s->last_pass || (s->attempt > s->cfg.robust && !patient))
        return FSM_THEN(SE_ROUNDS_OVER);
    cycle[s->phase](s);
    if (s->phase == SP_FILEINFO) {
        s->file.early_resent = s->file.early;
        arm_quick(s, s->next_send);
    } else if (s->phase == SP_ANNOUNCE)
        s->quick_at = 0; /* the next answer arms this round's */
    return FSM_NEXT;
}

/* Who owes an answer in each phase, and the event when nobody does. */
static const unsigned owes[SP_NSTATES] = {[SP_ANNOUNCE] =
                                              1u << D_REGISTERED, /* KEYINFO_ACK (encrypted) */
                                          [SP_FILEINFO] = 1u << D_REGISTERED,
                                          [SP_DATA] = M_ACTIVE,
                                          [SP_COMPLETION] = 1u << D_ACTIVE};
static const int answered[SP_NSTATES] = {
    [SP_FILEINFO] = SE_ALL_ACKED, [SP_DATA] = SE_FILE_END, [SP_COMPLETION] = SE_ALL_COMPLETE};

static bool owed(const struct sender *s)
{
    for (int i = 0; i < D_NSTATES; i++)
        if (owes[s->phase] & 1u << i && s->cnt[i] > 0)
            return true;
    return false;
}

/* SE_HEARD (SE_LEFT but in COMPLETION): nobody owes an answer any more? */
static ENG_ACTION(on_heard)
{
    struct sender *s = obj;
    if (!owed(s))
        return FSM_THEN(answered[s->phase]);
    if (s->phase == SP_DATA)
        session_rewind_check(s); /* the last silent one may have answered */
    return FSM_NEXT;
}

/* ---------------------------------------------------------------- the table */

static const char *const s_phase_names[SP_NSTATES] = {"START", "ANNOUNCE",   "FILEINFO",
                                                      "DATA",  "COMPLETION", "FINISHED"};
static const char *const s_event_names[SE_NEVENTS] = {
    "START",        "TIMER",     "HEARD",    "LEFT",      "ALL_IN",   "ROUNDS_OVER", "ALL_ACKED",
    "NEXT_FILE",    "LAST_FILE", "PASS_END", "REWIND",    "MAX_TIME", "READ_ERROR",  "FILE_END",
    "ALL_COMPLETE", "KEY_LIMIT", "FAIL",     "INTERRUPT", "QUICK",    "CC_TICK"};

static const struct fsm_row s_rows[] = {
    {SP_START, SE_START, on_start, SP_ANNOUNCE},

    {SP_ANNOUNCE, SE_TIMER, on_round, FSM_SAME},
    {SP_ANNOUNCE, SE_HEARD, announce_progress, FSM_SAME},
    {SP_ANNOUNCE, SE_LEFT, announce_progress, FSM_SAME},
    {SP_ANNOUNCE, SE_ALL_IN, announce_all_in, FSM_SAME},
    {SP_ANNOUNCE, SE_QUICK, quick_announce, FSM_SAME},
    {SP_ANNOUNCE, SE_ROUNDS_OVER, end_announce, FSM_SAME}, /* exit 7, or the first file */
    {SP_ANNOUNCE, SE_NEXT_FILE, next_file, SP_FILEINFO},
    {SP_ANNOUNCE, SE_LAST_FILE, start_completion, SP_COMPLETION},

    {SP_FILEINFO, SE_TIMER, on_round, FSM_SAME},
    {SP_FILEINFO, SE_HEARD, on_heard, FSM_SAME},
    {SP_FILEINFO, SE_LEFT, on_heard, FSM_SAME},
    {SP_FILEINFO, SE_ALL_ACKED, acks_over, SP_DATA}, /* exit 8, or data */
    {SP_FILEINFO, SE_ROUNDS_OVER, acks_over, SP_DATA},
    {SP_FILEINFO, SE_QUICK, quick_fileinfo, FSM_SAME},
    {SP_FILEINFO, SE_PASS_END, early_pass_end, FSM_SAME}, /* early data (early_data()) */
    {SP_FILEINFO, SE_READ_ERROR, read_error, SP_DATA},

    {SP_DATA, SE_PASS_END, pass_end, FSM_SAME},
    {SP_DATA, SE_TIMER, done_round, FSM_SAME},
    {SP_DATA, SE_QUICK, quick_done, FSM_SAME},
    {SP_DATA, SE_REWIND, rewind_pass, FSM_SAME},
    {SP_DATA, SE_MAX_TIME, max_time, FSM_SAME},
    {SP_DATA, SE_READ_ERROR, read_error, FSM_SAME},
    {SP_DATA, SE_HEARD, on_heard, FSM_SAME},
    {SP_DATA, SE_LEFT, on_heard, FSM_SAME},
    {SP_DATA, SE_FILE_END, end_file, FSM_SAME}, /* exit 9, or the next file */
    {SP_DATA, SE_CC_TICK, cc_tick, FSM_SAME},   /* -C tfmcc (cc.c) */
    {SP_DATA, SE_NEXT_FILE, next_file, SP_FILEINFO},
    {SP_DATA, SE_LAST_FILE, start_completion, SP_COMPLETION},

    {SP_COMPLETION, SE_TIMER, on_round, FSM_SAME},
    {SP_COMPLETION, SE_HEARD, on_heard, FSM_SAME},
    {SP_COMPLETION, SE_LEFT, completion_left, FSM_SAME},
    {SP_COMPLETION, SE_ALL_COMPLETE, completion_all, FSM_SAME},
    {SP_COMPLETION, SE_ROUNDS_OVER, end_completion, SP_FINISHED},

    {FSM_ANY, SE_INTERRUPT, on_interrupt, SP_FINISHED},
    {FSM_ANY, SE_KEY_LIMIT, on_key_limit, SP_FINISHED},
    {FSM_ANY, SE_FAIL, on_fail, SP_FINISHED},
    /* Once finished, the exit code stays. */
    {SP_FINISHED, SE_INTERRUPT, NULL, FSM_SAME},
    {SP_FINISHED, SE_FAIL, NULL, FSM_SAME},
};

static void s_changed(void *obj, int from, int to)
{
    struct sender *s = obj;
    static const int ids[SP_NSTATES] = {SENDER_PH_START, SENDER_PH_ANNOUNCE,   SENDER_PH_FILEINFO,
                                        SENDER_PH_DATA,  SENDER_PH_COMPLETION, SENDER_PH_FINISHED};
    (void)from;
    s->st.phase = ids[to];
    if (to == SP_FINISHED) {
        session_close_file(s);
        SLOG(s, LL_INFO, "session finished, exit code %d", s->exit_code);
    }
}

static void s_label(void *obj, char *buf, size_t cap)
{
    snprintf(buf, cap, "[%08X] session", ((const struct sender *)obj)->group_id);
}

const struct fsm_def sender_session_fsm = {
    .name = "session",
    .state_names = s_phase_names,
    .nstates = SP_NSTATES,
    .event_names = s_event_names,
    .nevents = SE_NEVENTS,
    .rows = s_rows,
    .nrows = sizeof(s_rows) / sizeof(s_rows[0]),
    .on_change = s_changed,
    .label = s_label,
};

int session_event(struct sender *s, int ev, void *arg)
{
    return fsm_step(&sender_session_fsm, &s->phase, ev, s, arg, &s->env.log);
}

/* ---------------------------------------------------------------- timers */

struct due {
    uint64_t at; /* ENG_NEVER = not armed */
    int ev;
};

/* The current phase's timers, in order of precedence. */
static int timers(const struct sender *s, struct due t[6])
{
    const struct sfile *f = &s->file;
    if (s->phase == SP_START) {
        t[0] = (struct due){0, SE_START};
        return 1;
    }
    if (s->phase == SP_FINISHED)
        return 0;
    uint64_t quick = s->quick_at != 0 ? s->quick_at : ENG_NEVER;
    if (s->phase == SP_FILEINFO || s->phase == SP_ANNOUNCE) {
        t[0] = (struct due){s->next_send, SE_TIMER};
        t[1] = (struct due){quick, SE_QUICK};
        return 2;
    }
    if (s->phase != SP_DATA) {
        t[0] = (struct due){s->next_send, SE_TIMER};
        return 1;
    }
    /* e.g. everyone aborted after a read error */
    t[0] = (struct due){owed(s) ? ENG_NEVER : 0, SE_FILE_END};
    t[1] = (struct due){f->max_time_at != 0 ? f->max_time_at : ENG_NEVER, SE_MAX_TIME};
    t[2] = (struct due){f->rewind_at != 0 ? f->rewind_at : ENG_NEVER, SE_REWIND};
    t[3] = (struct due){f->end_of_pass ? f->done_next : ENG_NEVER, SE_TIMER};
    t[4] = (struct due){f->end_of_pass ? quick : ENG_NEVER, SE_QUICK};
    t[5] = (struct due){cc_deadline(s), SE_CC_TICK};
    return 6;
}

void session_tick(struct sender *s)
{
    struct due t[6];
    /* Each event may move to the next phase, whose timers may be due too. */
    for (int guard = 0; guard < 64; guard++) {
        int n = timers(s, t), i = 0;
        while (i < n && t[i].at > s->now)
            i++;
        if (i == n)
            return;
        session_event(s, t[i].ev, NULL);
    }
}

uint64_t session_deadline(const struct sender *s)
{
    struct due t[6];
    uint64_t min = xmit_data_due(s, 0);
    for (int i = 0, n = timers(s, t); i < n; i++)
        if (t[i].at < min)
            min = t[i].at;
    return min;
}
