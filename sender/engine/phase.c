/*
 * The sender's session state machine (spec §1.6):
 *
 *   START → ANNOUNCE → { FILEINFO → DATA }* → COMPLETION → FINISHED
 *
 * ANNOUNCE   ANNOUNCE (+REG_CONF) every 3·GRTT, ROBUST times; a closed group
 *            ends 1·GRTT after everyone registered. Nobody: exit 7.
 * FILEINFO   FILEINFO every 3·GRTT, ROBUST times, listing non-responders;
 *            ends as soon as everyone answered. Nobody: exit 8.
 * DATA       passes of FILESEG; DONE every 3·GRTT at the end of a pass;
 *            NAKs start a rewind 3·GRTT later; COMPLETE from all ends it.
 * COMPLETION DONE(0) + DONE_CONF every 3·GRTT until all COMPLETE(0).
 *
 * Each transition is logged by name at debug level. Messages from clients
 * reach the handler of the current phase, as in the reference's
 * handle_*_phase; anything else is logged and dropped.
 */
#include "sender/engine/sender_int.h"

#include "core/crypto/keyblob.h"
#include "core/base/file.h"

#include <stdlib.h>
#include <string.h>

static const char *const phase_names[] = {"START", "ANNOUNCE",   "FILEINFO",
                                          "DATA",  "COMPLETION", "FINISHED"};
static const char *const dstate_names[] = {"mute", "registered", "active", "active-nak",
                                           "done", "lost",       "aborted"};

static void next_file(struct sender *s, uint64_t now);
static void end_data(struct sender *s, uint64_t now);

static void set_phase(struct sender *s, enum sphase p)
{
    SLOG(s, LL_DEBUG, "phase %s -> %s", phase_names[s->phase], phase_names[p]);
    s->phase = p;
    static const int ids[] = {SENDER_PH_START, SENDER_PH_ANNOUNCE,   SENDER_PH_FILEINFO,
                              SENDER_PH_DATA,  SENDER_PH_COMPLETION, SENDER_PH_FINISHED};
    s->st.phase = ids[p];
}

/* Per-state counts keep every "has everyone answered?" check O(1). */
static void dset(struct sender *s, struct sdest *d, uint8_t state)
{
    if (d->state == state)
        return;
    SLOG(s, LL_DEBUG, "%s %08X: %s -> %s", d->isproxy ? "proxy" : "client", d->id,
         dstate_names[d->state], dstate_names[state]);
    size_t *cnt = d->isproxy ? s->pcnt : s->cnt;
    cnt[d->state]--;
    cnt[state]++;
    d->state = state;
}

static size_t nclients(const struct sender *s)
{
    return s->ndest - s->nproxy;
}

/* A destination turns out to be a proxy (open group: its REGISTER lists clients). */
static void make_proxy(struct sender *s, struct sdest *d)
{
    if (d->isproxy)
        return;
    s->cnt[d->state]--;
    s->pcnt[d->state]++;
    d->isproxy = true;
    s->nproxy++;
}

/*
 * The clients behind proxy index pi follow it into state (it was lost or
 * aborted). One done with the current file follows too, since the next file
 * can't reach it; only the completion phase keeps the clients that finished.
 */
static void proxy_clients_follow(struct sender *s, size_t pi, uint8_t state)
{
    bool keep_done = s->phase >= SP_COMPLETION;
    for (size_t i = 0; i < s->ndest; i++) {
        struct sdest *c = &s->dests[i];
        if (c->proxy == pi + 1 && c->state != D_LOST && c->state != D_ABORT &&
            !(c->state == D_DONE && keep_done)) {
            SLOG(s, LL_WARN, "client %08X is behind proxy %08X: %s too", c->id, s->dests[pi].id,
                 state == D_LOST ? "lost" : "aborted");
            dset(s, c, state);
        }
    }
}

static struct sdest *dest_of(struct sender *s, uint32_t id)
{
    uint32_t i = idmap_get(&s->ids, id);
    return i == IDMAP_NONE ? NULL : &s->dests[i];
}

/* Adds a destination (open group registration). NULL when full or out of memory. */
static struct sdest *dest_add(struct sender *s, uint32_t id)
{
    if (s->ndest >= SENDER_MAX_DEST)
        return NULL;
    if (s->ndest == s->capdest) {
        size_t cap = s->capdest ? s->capdest * 2 : 64;
        struct sdest *nd = realloc(s->dests, cap * sizeof(*nd));
        if (nd == NULL)
            return NULL;
        s->dests = nd;
        s->capdest = cap;
    }
    if (idmap_put(&s->ids, id, (uint32_t)s->ndest) < 0)
        return NULL;
    struct sdest *d = &s->dests[s->ndest++];
    memset(d, 0, sizeof(*d));
    d->id = id;
    d->state = D_MUTE;
    s->cnt[D_MUTE]++;
    return d;
}

static void event(struct sender *s, const struct sender_event *ev)
{
    if (s->env.event != NULL)
        s->env.event(s->env.ctx, ev);
}

/* spec §1.6 "GRTT management": the largest RTT measured this cycle. */
static bool recalc_grtt(struct sender *s, bool clear)
{
    uint64_t max = 0;
    bool found = false;
    for (size_t i = 0; i < s->ndest; i++) {
        struct sdest *d = &s->dests[i];
        if (!d_error(d) && d->rtt_measured) {
            found = true;
            if (d->rtt_us > max)
                max = d->rtt_us;
        }
        if (clear)
            d->rtt_measured = false;
    }
    if (found) {
        uint64_t old = s->grtt.cur_us;
        grtt_update(&s->grtt, max, true);
        if (old != s->grtt.cur_us)
            SLOG(s, LL_VERBOSE, "grtt = %.6f", (double)s->grtt.cur_us / 1e6);
    }
    s->st.grtt_us = s_adv_grtt(s);
    return found;
}

void phase_finish(struct sender *s, int code)
{
    if (s->phase == SP_FINISHED)
        return;
    if (s->file.open) {
        s->env.storage.close(s->env.ctx, s->file.h);
        s->file.open = false;
    }
    bitmap_free(&s->file.naks);
    s->exit_code = code;
    set_phase(s, SP_FINISHED);
    SLOG(s, LL_INFO, "session finished, exit code %d", code);
}

void phase_abort_all(struct sender *s, const char *why, uint8_t flags, unsigned state_mask)
{
    SLOG(s, LL_ERR, "aborting all clients: %s", why);
    job_abort(s, 0, flags, why, NULL);
    for (size_t i = 0; i < s->ndest; i++)
        if (state_mask & (1u << s->dests[i].state))
            dset(s, &s->dests[i], D_ABORT);
}

#define M_ACTIVE (1u << D_ACTIVE | 1u << D_ACTIVE_NAK)

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

/* Once per second at most: how much the public-key budget refused. */
static void pk_log(struct sender *s, uint64_t now)
{
    s->st.pk_limited++;
    if (now < s->pk_log_at)
        return;
    s->pk_log_at = now + 1000000;
    SLOG(s, LL_WARN,
         "rate-limiting key exchanges: %llu REGISTER/CLIENT_KEY dropped (budget %u "
         "us/s of public-key work); clients will retry",
         (unsigned long long)ratelim_take_refused(&s->pk), s->cfg.pk_budget_us);
}

/* A REGISTER's key exchange (spec §1.8), within the public-key budget. NULL = refused. */
static struct skeys_peer *register_keys(struct sender *s, uint32_t id,
                                        const struct wire_register *r, uint64_t now)
{
    if (!ratelim_take(&s->pk, skeys_cost_ecdh(s->cfg.curve), now)) {
        pk_log(s, now);
        return NULL;
    }
    struct skeys_peer *p = NULL;
    int rc = skeys_server_register(s->keys, id, r->dhblob, r->dhlen, r->rand2, &p);
    if (rc != CRYPTO_OK) {
        SLOG(s, LL_WARN, "rejecting REGISTER from %08X: %s", id, skeys_strerror(rc));
        return NULL;
    }
    return p;
}

void phase_start(struct sender *s, uint64_t now)
{
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
    set_phase(s, SP_ANNOUNCE);
    s->attempt = 1;
    s->last_pass = false;
    s->regdone = false;
    announce_cycle(s);
    s->next_send = now + 3 * s->grtt.cur_us;
}

static void end_announce(struct sender *s, uint64_t now)
{
    recalc_grtt(s, true);
    bool anyerror = false;
    for (size_t i = 0; i < s->ndest; i++) {
        struct sdest *d = &s->dests[i];
        if (d->state == D_REGISTERED) {
            SLOG(s, LL_WARN, "%s %08X never completed registration%s",
                 d->isproxy ? "proxy" : "client", d->id, s->keys ? " (no KEYINFO_ACK)" : "");
            dset(s, d, D_LOST);
            if (d->isproxy)
                proxy_clients_follow(s, i, D_LOST);
            anyerror = true;
        } else if (d->state == D_MUTE && d->registered && s->cfg.client_auth) {
            SLOG(s, LL_WARN, "client %08X registered but never authenticated (CLIENT_KEY)", d->id);
        }
        /* The handshake is over: its keys and the group master go (DESIGN.md). */
        skeys_peer_end_handshake(d->keys);
    }
    if (s->keys != NULL)
        skeys_server_end_handshake(s->keys);
    if (s->cnt[D_MUTE] + s->cnt[D_ABORT] > 0)
        anyerror = true;
    bool gotone = s->cnt[D_ACTIVE] > 0;
    int rc = 0;
    if (anyerror && s->cfg.quit_on_error) {
        phase_abort_all(s, "A client dropped out, aborting all", 0, 1u << D_ACTIVE);
        rc = SENDER_EXIT_NO_REGISTER;
    }
    if (!gotone) {
        SLOG(s, LL_ERR, "announce timed out: no client registered");
        rc = SENDER_EXIT_NO_REGISTER;
    }
    if (s->open_group && s->keys == NULL)
        job_list(s, REG_CONF, D_ACTIVE, true);
    for (size_t i = 0; i < s->ndest; i++) {
        if (s->dests[i].isproxy)
            continue;
        struct sender_event ev = {.kind = SENDER_EV_CONNECT,
                                  .client_id = s->dests[i].id,
                                  .ok = s->dests[i].state == D_ACTIVE};
        event(s, &ev);
    }
    s->st.clients = (uint32_t)s->cnt[D_ACTIVE];
    if (rc != 0)
        phase_finish(s, rc);
    else
        next_file(s, now);
}

static void announce_timer(struct sender *s, uint64_t now)
{
    s->attempt++;
    recalc_grtt(s, false);
    s->next_send = now + 3 * s->grtt.cur_us;
    if (s->last_pass || s->attempt > s->cfg.robust) {
        end_announce(s, now);
        return;
    }
    announce_cycle(s);
}

/* After any registration change in a closed group (spec §1.6 step 3). */
static void announce_progress(struct sender *s, uint64_t now)
{
    if (s->open_group || s->phase != SP_ANNOUNCE)
        return;
    /* Clients and the proxies in -j alike (a proxy is in once keyed). */
    size_t done = s->cnt[D_ACTIVE] + s->cnt[D_ABORT];
    size_t pdone = s->pcnt[D_ACTIVE] + s->pcnt[D_ABORT];
    size_t reg = done + s->cnt[D_REGISTERED];
    size_t preg = pdone + s->pcnt[D_REGISTERED];
    if (done == nclients(s) && pdone == s->nproxy) {
        /* Everyone is in: wait 1·GRTT for late registrations, then go on. */
        recalc_grtt(s, false);
        s->next_send = now + s->grtt.cur_us;
        if (!s->last_pass)
            SLOG(s, LL_VERBOSE, "all registered, waiting for late registers");
        s->last_pass = true;
        if (s->keys == NULL)
            job_list(s, REG_CONF, D_ACTIVE, true);
        else
            job_regconf_proxied(s);
    } else if (reg == nclients(s) && preg == s->nproxy && !s->regdone) {
        s->regdone = true;
        announce_cycle(s);
    }
}

/*
 * The clients a proxy's REGISTER lists (spec §3.4): in the session through
 * it at once, whatever the encryption (their keys are the proxy's
 * business), with the proxy's RTT. A closed group takes only its own.
 */
static void proxy_register_clients(struct sender *s, size_t pi, const struct wire_ids *ids,
                                   const struct addr *from)
{
    for (size_t i = 0; i < ids->n; i++) {
        uint32_t id = wire_ids_get(ids, i);
        struct sdest *c = dest_of(s, id);
        if (c == NULL) {
            if (!s->open_group) {
                SLOG(s, LL_WARN, "client %08X via proxy %08X not in host list", id,
                     s->dests[pi].id);
                job_abort(s, id, 0, "Not in host list", from);
                continue;
            }
            if (id == 0 || id == UINT32_MAX || id == s->cfg.server_id)
                continue;
            if ((c = dest_add(s, id)) == NULL) {
                SLOG(s, LL_WARN, "rejecting client %08X via proxy %08X: max destinations exceeded",
                     id, s->dests[pi].id);
                job_abort(s, id, 0, "Max destinations exceeded", from);
                continue;
            }
        }
        const struct sdest *p = &s->dests[pi]; /* dest_add may have moved the table */
        if (c->isproxy || c == p || c->state == D_LOST || c->state == D_ABORT)
            continue;
        bool dup = c->state == D_ACTIVE && c->proxy == pi + 1;
        c->proxy = (uint32_t)(pi + 1);
        c->registered = true;
        c->rtt_us = p->rtt_us;
        c->rtt_measured = true;
        c->conf_sent = false;
        if (c->state == D_MUTE || c->state == D_REGISTERED)
            dset(s, c, D_ACTIVE);
        SLOG(s, LL_INFO, "  for client%s %08X", dup ? "+" : "", id);
    }
}

/*
 * A proxy registers clients again after the announce phase: their REG_CONF
 * was lost, so the proxy cannot give them keys (spec §3.4: it waits for the
 * server's REG_CONF). The clients are in the session already: confirm them
 * again rather than leave them stranded (5.0.1 ignores such a REGISTER).
 */
static void reconfirm(struct sender *s, struct sdest *p, const struct wire_ids *ids)
{
    size_t n = 0;
    for (size_t i = 0; i < ids->n; i++) {
        struct sdest *c = dest_of(s, wire_ids_get(ids, i));
        if (c != NULL && c->proxy == (uint32_t)(p - s->dests) + 1 && c->state != D_LOST &&
            c->state != D_ABORT) {
            c->conf_sent = false;
            n++;
        }
    }
    if (n > 0) {
        SLOG(s, LL_VERBOSE, "confirming %zu client(s) of proxy %08X again", n, p->id);
        job_regconf_again(s);
    }
}

static void recv_register(struct sender *s, struct sdest *d, const struct addr *from,
                          const struct wire_register *r, uint64_t now)
{
    size_t di = (size_t)(d - s->dests);
    if (r->ids.n > 0 && !d->isproxy) {
        /* spec §2.1 -j: a proxy of a closed group must be listed as one. */
        if (!s->open_group) {
            SLOG(s, LL_WARN, "rejecting REGISTER from %08X: client list but not a proxy (-j)",
                 d->id);
            job_abort(s, d->id, 0, "specified multiple clients but not a proxy", from);
            dset(s, d, D_ABORT);
            return;
        }
        make_proxy(s, d);
    }
    if (s->phase != SP_ANNOUNCE) {
        SLOG(s, LL_VERBOSE, "received REGISTER+ from %08X", d->id);
        if (d->isproxy && s->keys != NULL && r->ids.n > 0)
            reconfirm(s, d, &r->ids);
        return;
    }
    if (s->keys != NULL && d->keys == NULL) {
        /* The first REGISTER's ECDH key is the client's for the session. */
        if ((d->keys = register_keys(s, d->id, r, now)) == NULL)
            return;
    }
    bool dup = d->registered;
    d->rtt_us = grtt_rtt_sample(s_wall(s, now), r->tstamp);
    d->rtt_measured = true;
    d->registered = true;
    d->conf_sent = false;
    if (d->state == D_MUTE) {
        if (s->keys == NULL)
            dset(s, d, D_ACTIVE); /* no keys to exchange without encryption */
        else if (skeys_peer_keyed(d->keys))
            dset(s, d, D_REGISTERED); /* KEYINFO next; with -c after CLIENT_KEY */
    }
    SLOG(s, LL_INFO, "received REGISTER%s from %s %08X (rtt %.6f)", dup && !d->isproxy ? "+" : "",
         d->isproxy ? "proxy" : "client", d->id, (double)d->rtt_us / 1e6);
    if (r->ids.n > 0)
        proxy_register_clients(s, di, &r->ids, from);
}

/* spec §1.8 client authentication: CLIENT_KEY, checked against the -H/-j fingerprint. */
static void recv_client_key(struct sender *s, struct sdest *d, const struct addr *from,
                            const struct wire_msg *m, uint64_t now)
{
    if (d->keys == NULL || skeys_peer_keyed(d->keys)) {
        SLOG(s, LL_VERBOSE, "received CLIENT_KEY+ from %08X", d->id);
        return;
    }
    const struct wire_client_key *ck = &m->u.client_key;
    if (!ratelim_take(&s->pk, skeys_cost_verify(ck->keyblob, ck->keylen), now)) {
        pk_log(s, now);
        return;
    }
    /* C_ctx2 takes the message's own bytes (authenticate() kept them). */
    int rc = skeys_server_client_key(s->keys, d->keys, s->cur_msg, s->cur_len, d->fp, d->fplen);
    if (rc != CRYPTO_OK) {
        SLOG(s, LL_WARN, "rejecting CLIENT_KEY from %08X: %s", d->id, skeys_strerror(rc));
        if (rc == SKEYS_EFP || rc == CRYPTO_ESIG || rc == CRYPTO_EBLOB) {
            /* A client without the required key is refused (-c). */
            job_abort(s, d->id, 0, "Client authentication failed", from);
            dset(s, d, D_ABORT);
        }
        return;
    }
    SLOG(s, LL_INFO, "received CLIENT_KEY from client %08X", d->id);
    if (d->state == D_MUTE)
        dset(s, d, D_REGISTERED);
}

static void recv_keyinfo_ack(struct sender *s, struct sdest *d, const struct wire_keyinfo_ack *a)
{
    if (d->keys == NULL || !skeys_peer_verify(d->keys, a->verify, a->verify_len)) {
        SLOG(s, LL_WARN, "rejecting KEYINFO_ACK from %08X: verify data mismatch", d->id);
        return;
    }
    SLOG(s, LL_INFO, "received KEYINFO_ACK%s from client %08X", d->state == D_ACTIVE ? "+" : "",
         d->id);
    d->conf_sent = false;
    dset(s, d, D_ACTIVE);
}

static void recv_announce_phase(struct sender *s, struct sdest *d, const struct addr *from,
                                const struct uftp_hdr *h, const struct wire_msg *m, uint64_t now)
{
    if (d == NULL) {
        if (!s->open_group) {
            SLOG(s, LL_WARN, "host %08X not in host list", h->src_id);
            job_abort(s, h->src_id, 0, "Not in host list", from);
            return;
        }
        if (m->func != REGISTER) {
            SLOG(s, LL_PROTO, "expected REGISTER from %08X, got %s", h->src_id,
                 wire_func_name(m->func));
            return;
        }
        if (h->src_id == 0 || h->src_id == UINT32_MAX || s->ndest >= SENDER_MAX_DEST) {
            SLOG(s, LL_WARN, "rejecting REGISTER from %08X: max destinations exceeded", h->src_id);
            job_abort(s, h->src_id, 0, "Max destinations exceeded", from);
            return;
        }
        /* An open group adds a client only once its key exchange worked. */
        struct skeys_peer *k = NULL;
        if (s->keys != NULL && (k = register_keys(s, h->src_id, &m->u.reg, now)) == NULL)
            return;
        if ((d = dest_add(s, h->src_id)) == NULL) {
            skeys_peer_free(k);
            SLOG(s, LL_WARN, "rejecting REGISTER from %08X: out of memory", h->src_id);
            return;
        }
        d->keys = k;
    }
    switch (m->func) {
    case REGISTER:
        if (d->state == D_MUTE || d->state == D_REGISTERED || d->state == D_ACTIVE)
            recv_register(s, d, from, &m->u.reg, now);
        else
            SLOG(s, LL_PROTO, "REGISTER from %08X in state %s", d->id, dstate_names[d->state]);
        break;
    case CLIENT_KEY:
        if (d->state == D_MUTE || d->state == D_REGISTERED || d->state == D_ACTIVE)
            recv_client_key(s, d, from, m, now);
        break;
    case KEYINFO_ACK:
        if (d->state == D_REGISTERED || d->state == D_ACTIVE)
            recv_keyinfo_ack(s, d, &m->u.keyinfo_ack);
        else
            SLOG(s, LL_PROTO, "KEYINFO_ACK from %08X in state %s", d->id, dstate_names[d->state]);
        break;
    default:
        SLOG(s, LL_PROTO, "received invalid message %s from %08X", wire_func_name(m->func), d->id);
        return;
    }
    announce_progress(s, now);
}

/* ---------------------------------------------------------------- files */

static bool file_open(struct sender *s, const struct file_item *it, uint32_t index)
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

static void start_fileinfo(struct sender *s, uint64_t now)
{
    struct sfile *f = &s->file;
    for (size_t i = 0; i < s->ndest; i++) {
        struct sdest *d = &s->dests[i];
        /* A proxy answers FILEINFO for its clients, never for itself. */
        if (!d_error(d))
            dset(s, d, d->isproxy ? D_ACTIVE : D_REGISTERED);
        d->has_freespace = false;
    }
    SLOG(s, LL_INFO, "file %04X: %s (%llu bytes, %u blocks, %u sections)", f->file_id, f->it->name,
         (unsigned long long)(f->ftype == FTYPE_REG ? f->it->size : 0), f->lay.blocks,
         f->lay.sections);
    set_phase(s, SP_FILEINFO);
    s->attempt = 1;
    s->next_send = now + 3 * s->grtt.cur_us;
    f->start_us = now;
    job_list(s, FILEINFO, D_REGISTERED, false);
    s->st.file_index = f->index;
    s->st.file_id = f->file_id;
    s->st.file_size = f->ftype == FTYPE_REG ? f->it->size : 0;
    s->st.file_blocks = f->lay.blocks;
    s->st.pass = 0;
    s->st.section = 0;
}

static void next_file(struct sender *s, uint64_t now)
{
    if (s->file.open) {
        s->env.storage.close(s->env.ctx, s->file.h);
        s->file.open = false;
    }
    bitmap_free(&s->file.naks);
    while (s->next_index < s->cfg.nfiles) {
        uint32_t idx = s->next_index++;
        if (!file_open(s, &s->cfg.files[idx], idx))
            continue;
        s->file.file_id = s->next_file_id++;
        if (s->next_file_id == 0)
            s->next_file_id = 1; /* spec §1.4: wraps and skips 0 */
        start_fileinfo(s, now);
        return;
    }
    /* Completion phase (spec §1.6): everyone still in answers COMPLETE(0). */
    for (size_t i = 0; i < s->ndest; i++)
        if (!d_error(&s->dests[i]))
            dset(s, &s->dests[i], D_ACTIVE);
    SLOG(s, LL_INFO, "finishing group");
    memset(&s->file, 0, sizeof(s->file));
    s->st.file_id = 0;
    set_phase(s, SP_COMPLETION);
    s->attempt = 1;
    s->last_pass = false;
    job_list(s, DONE_CONF, D_DONE, true);
    job_done(s, 0, 0);
    s->next_send = now + 3 * s->grtt.cur_us;
}

static void start_data(struct sender *s, uint64_t now)
{
    struct sfile *f = &s->file;
    set_phase(s, SP_DATA);
    if (bitmap_init(&f->naks, f->lay.blocks, !f->partial) < 0) {
        SLOG(s, LL_ERR, "out of memory for %u blocks", f->lay.blocks);
        phase_finish(s, SENDER_EXIT_ALLOC);
        return;
    }
    f->pass = 1;
    f->cursor = bitmap_next_set(&f->naks, 0);
    f->end_of_pass = f->cursor >= f->lay.blocks;
    f->done_attempt = 1;
    f->done_next = now;
    f->rewind_at = 0;
    f->max_time_at = 0;
    f->start_us = now;
    /* spec §1.6 step 7: -W, in whole seconds as the reference computes it. */
    if (s->cfg.cc_type == CC_NONE && s->rate_Bps != 0 && s->cfg.max_time_pct != 0) {
        uint64_t secs =
            (uint64_t)((double)s->cfg.max_time_pct / 100.0 * (double)f->lay.size / s->rate_Bps);
        if (secs > 0) {
            f->max_time_at = now + secs * 1000000;
            SLOG(s, LL_INFO, "maximum file transfer time: %llu seconds", (unsigned long long)secs);
        }
    }
    pace_init(&s->pace, s->rate_Bps, (uint32_t)s->datapacketsize, ENG_MAX_SEG, now);
    s->st.pass = 1;
    SLOG(s, LL_VERBOSE, "sending file, pass 1");
}

static void end_fileinfo(struct sender *s, uint64_t now)
{
    recalc_grtt(s, true);
    bool anyerror = false;
    for (size_t i = 0; i < s->ndest; i++) {
        struct sdest *d = &s->dests[i];
        if (d->state == D_REGISTERED) {
            SLOG(s, LL_WARN, "couldn't get FILEINFO_ACK from %08X", d->id);
            dset(s, d, D_LOST);
            anyerror = true;
        }
    }
    if (s->cnt[D_MUTE] + s->cnt[D_ABORT] > 0)
        anyerror = true;
    bool gotone = s->cnt[D_ACTIVE] + s->cnt[D_DONE] > 0;
    int rc = 0;
    if (anyerror && s->cfg.quit_on_error) {
        phase_abort_all(s, "A client dropped out, aborting all", 0, 1u << D_ACTIVE);
        rc = SENDER_EXIT_NO_FILEINFO;
    }
    if (!gotone) {
        SLOG(s, LL_ERR, "announce timed out: no client answered FILEINFO");
        rc = SENDER_EXIT_NO_FILEINFO;
    }
    if (rc != 0) {
        phase_finish(s, rc);
        return;
    }
    if (s->cnt[D_ACTIVE] == 0) {
        /* Everyone answered COMPLETE (skipped, rejected, not a regular file). */
        set_phase(s, SP_DATA);
        end_data(s, now);
        return;
    }
    start_data(s, now);
}

static void fileinfo_timer(struct sender *s, uint64_t now)
{
    s->attempt++;
    recalc_grtt(s, false);
    s->next_send = now + 3 * s->grtt.cur_us;
    if (s->attempt > s->cfg.robust) {
        end_fileinfo(s, now);
        return;
    }
    job_list(s, FILEINFO, D_REGISTERED, false);
}

static void complete_one(struct sender *s, struct sdest *d, const struct wire_complete *c);

/* The clients a proxy's answer lists, each of them behind it. */
static struct sdest *proxied(struct sender *s, const struct sdest *p, const struct wire_ids *ids,
                             size_t i)
{
    uint32_t id = wire_ids_get(ids, i);
    struct sdest *c = dest_of(s, id);
    if (c == NULL || c->proxy != (uint32_t)(p - s->dests) + 1) {
        SLOG(s, LL_PROTO, "client %08X via proxy %08X not found", id, p->id);
        return NULL;
    }
    return c;
}

static void recv_complete(struct sender *s, struct sdest *d, const struct wire_complete *c)
{
    if (c->file_id != s->file.file_id) {
        if (s->file.file_id != 0)
            SLOG(s, LL_PROTO, "rejecting COMPLETE from %08X: file ID %04X, expected %04X", d->id,
                 c->file_id, s->file.file_id);
        return;
    }
    if (c->ids.n > 0 && !d->isproxy) {
        SLOG(s, LL_PROTO, "rejecting COMPLETE from %08X: client list from a non-proxy", d->id);
        return;
    }
    if (d->isproxy) {
        for (size_t i = 0; i < c->ids.n; i++) {
            struct sdest *cl = proxied(s, d, &c->ids, i);
            if (cl != NULL && (cl->state == D_REGISTERED || cl->state == D_ACTIVE ||
                               cl->state == D_ACTIVE_NAK || cl->state == D_DONE))
                complete_one(s, cl, c);
        }
        return;
    }
    complete_one(s, d, c);
}

static void complete_one(struct sender *s, struct sdest *d, const struct wire_complete *c)
{
    static const char *const st[] = {"", "(skipped)", "(overwritten)", "(rejected)"};
    bool dup = d->state == D_DONE;
    d->comp_status = c->status;
    if (c->status == COMP_STAT_NORMAL || c->status == COMP_STAT_SKIPPED ||
        c->status == COMP_STAT_OVERWRITE)
        s->files_sent = true;
    d->conf_sent = false;
    dset(s, d, D_DONE);
    SLOG(s, dup ? LL_VERBOSE : LL_INFO, "got COMPLETE%s%s from client %08X",
         c->status < 4 ? st[c->status] : "(?)", dup ? "+" : "", d->id);
    if (c->has_freespace) {
        d->has_freespace = true;
        d->freespace = c->freespace;
        struct sender_event ev = {.kind = SENDER_EV_FREESPACE,
                                  .client_id = d->id,
                                  .file = s->file.it,
                                  .file_id = s->file.file_id,
                                  .freespace = c->freespace};
        event(s, &ev);
    }
}

static void recv_fileinfo_phase(struct sender *s, struct sdest *d, const struct addr *from,
                                const struct uftp_hdr *h, const struct wire_msg *m, uint64_t now)
{
    if (d == NULL) {
        SLOG(s, LL_WARN, "host %08X not in host list", h->src_id);
        job_abort(s, h->src_id, 0, "Not in host list", from);
        return;
    }
    switch (m->func) {
    case REGISTER:
        recv_register(s, d, from, &m->u.reg, now);
        return;
    case FILEINFO_ACK: {
        const struct wire_fileinfo_ack *a = &m->u.fileinfo_ack;
        if (d->state != D_REGISTERED && d->state != D_ACTIVE)
            break;
        if (d->isproxy) {
            /* spec §3.4: for the clients listed, with one echo for all. */
            if (a->file_id != s->file.file_id)
                return;
            uint64_t rtt = grtt_rtt_sample(s_wall(s, now), a->tstamp);
            for (size_t i = 0; i < a->ids.n; i++) {
                struct sdest *c = proxied(s, d, &a->ids, i);
                if (c == NULL || (c->state != D_REGISTERED && c->state != D_ACTIVE))
                    continue;
                c->rtt_us = rtt;
                c->rtt_measured = true;
                SLOG(s, LL_VERBOSE, "received FILEINFO_ACK%s from client %08X via proxy %08X",
                     c->state == D_ACTIVE ? "+" : "", c->id, d->id);
                dset(s, c, D_ACTIVE);
            }
            s->file.partial = false;
            break;
        }
        if (a->ids.n > 0) {
            SLOG(s, LL_PROTO, "rejecting FILEINFO_ACK from %08X: client list from a non-proxy",
                 d->id);
            return;
        }
        if (a->file_id != s->file.file_id) {
            SLOG(s, LL_PROTO, "rejecting FILEINFO_ACK from %08X: file ID %04X, expected %04X",
                 d->id, a->file_id, s->file.file_id);
            return;
        }
        s->file.partial = false; /* restart (-F) is a later issue */
        d->rtt_us = grtt_rtt_sample(s_wall(s, now), a->tstamp);
        d->rtt_measured = true;
        SLOG(s, LL_VERBOSE, "received FILEINFO_ACK%s from client %08X",
             d->state == D_ACTIVE ? "+" : "", d->id);
        dset(s, d, D_ACTIVE);
        break;
    }
    case COMPLETE:
        if (d->state != D_REGISTERED && d->state != D_ACTIVE)
            break;
        recv_complete(s, d, &m->u.complete);
        break;
    default:
        SLOG(s, LL_PROTO, "received invalid message %s from %08X", wire_func_name(m->func), d->id);
        return;
    }
    if (s->cnt[D_REGISTERED] == 0)
        end_fileinfo(s, now);
}

/* ---------------------------------------------------------------- data */

static void rewind_check(struct sender *s, uint64_t now)
{
    struct sfile *f = &s->file;
    if (f->got_naks && f->end_of_pass && f->rewind_at == 0) {
        /* spec §1.6 step 5: rewind 3·GRTT after the end of a pass with NAKs. */
        f->rewind_at = now + 3 * s_adv_grtt(s);
        SLOG(s, LL_DEBUG, "starting rewind timer");
    }
}

void phase_data_sent(struct sender *s, uint64_t now)
{
    struct sfile *f = &s->file;
    f->done_attempt = 1;
    if (f->cursor >= f->lay.blocks) {
        f->end_of_pass = true;
        f->done_next = now;
        rewind_check(s, now);
    }
}

static void file_results(struct sender *s, uint64_t now)
{
    struct sfile *f = &s->file;
    if (s->env.event != NULL) {
        for (size_t i = 0; i < s->ndest; i++) {
            struct sdest *d = &s->dests[i];
            if (d->isproxy)
                continue;
            struct sender_event ev = {.kind = SENDER_EV_RESULT,
                                      .client_id = d->id,
                                      .file = f->it,
                                      .file_id = f->file_id,
                                      .elapsed_us = now - f->start_us};
            switch (d->state) {
            case D_DONE:
                ev.result = (enum sender_result)(
                    d->comp_status <= COMP_STAT_REJECTED ? d->comp_status : COMP_STAT_REJECTED);
                ev.ok = d->comp_status != COMP_STAT_REJECTED;
                break;
            case D_MUTE:
                ev.result = SENDER_RES_MUTE;
                break;
            case D_LOST:
                ev.result = SENDER_RES_LOST;
                break;
            default:
                ev.result = SENDER_RES_ABORTED;
                break;
            }
            event(s, &ev);
        }
        struct sender_event fe = {.kind = SENDER_EV_FILE,
                                  .file = f->it,
                                  .file_id = f->file_id,
                                  .elapsed_us = now - f->start_us,
                                  .ok = s->cnt[D_DONE] > 0};
        event(s, &fe);
    }
    s->st.files_done++;
}

static void end_data(struct sender *s, uint64_t now)
{
    struct sfile *f = &s->file;
    bool found_error = false;
    if (s->cnt[D_ACTIVE] + s->cnt[D_ACTIVE_NAK] > 0) {
        for (size_t i = 0; i < s->ndest; i++) {
            struct sdest *d = &s->dests[i];
            if ((d->state != D_ACTIVE && d->state != D_ACTIVE_NAK) || d->isproxy)
                continue;
            if (f->max_passes_exceeded) {
                job_abort(s, d->id, 0, "Max passes exceeded", NULL);
                dset(s, d, D_ABORT);
            } else {
                SLOG(s, LL_WARN, "no response from client %08X", d->id);
                dset(s, d, D_LOST);
            }
            found_error = true;
        }
        if (found_error && s->cfg.quit_on_error)
            phase_abort_all(s, "A client dropped out, aborting all", 0, M_ACTIVE);
    }
    SLOG(s, LL_INFO, "file %04X done: %zu client(s) complete", f->file_id, s->cnt[D_DONE]);
    file_results(s, now);
    int rc = 0;
    if (s->cfg.quit_on_error) {
        if (s->cnt[D_DONE] != nclients(s))
            rc = SENDER_EXIT_DROPPED;
    } else if (s->cnt[D_DONE] == 0) {
        rc = SENDER_EXIT_DROPPED;
    }
    if (rc != 0) {
        SLOG(s, LL_ERR, "all clients dropped or aborted");
        phase_finish(s, rc);
        return;
    }
    next_file(s, now);
}

/*
 * DONE every 3·GRTT (spec §1.6 step 6), but the ROBUST of them span at
 * least SENDER_DONE_SPAN_US: after an unpaced pass a receiver may still be
 * working through a full socket buffer (uftpd's default is 32 MiB), alive
 * but silent, for longer than ROBUST·3·GRTT at the minimum GRTT (0.6 s).
 */
static uint64_t done_interval(const struct sender *s)
{
    uint64_t iv = 3 * s_adv_grtt(s);
    uint64_t floor = SENDER_DONE_SPAN_US / (s->cfg.robust > 0 ? s->cfg.robust : 1);
    return iv > floor ? iv : floor;
}

static void data_timers(struct sender *s, uint64_t now)
{
    struct sfile *f = &s->file;
    if (s->cnt[D_ACTIVE] + s->cnt[D_ACTIVE_NAK] == 0) {
        end_data(s, now); /* e.g. everyone aborted after a read error */
        return;
    }
    if (f->max_time_at != 0 && now >= f->max_time_at) {
        SLOG(s, LL_WARN, "maximum file transfer time exceeded");
        phase_abort_all(s, "Max file transfer time exceeded", 0, M_ACTIVE);
        end_data(s, now);
        return;
    }
    if (f->rewind_at != 0 && now >= f->rewind_at) {
        f->rewind_at = 0;
        f->got_naks = false;
        for (size_t i = 0; i < s->ndest; i++)
            if (s->dests[i].state == D_ACTIVE_NAK)
                dset(s, &s->dests[i], D_ACTIVE);
        if (f->pass >= s->cfg.max_passes) {
            SLOG(s, LL_WARN, "maximum number of passes exceeded");
            f->max_passes_exceeded = true;
            end_data(s, now);
            return;
        }
        f->pass++;
        s->st.pass = f->pass;
        f->cursor = bitmap_next_set(&f->naks, 0);
        f->end_of_pass = f->cursor >= f->lay.blocks;
        SLOG(s, LL_VERBOSE, "starting pass %u", f->pass);
        if (f->end_of_pass)
            f->done_next = now;
    }
    if (f->end_of_pass && now >= f->done_next) {
        if (f->done_attempt <= s->cfg.robust) {
            job_done(s, f->file_id, (uint16_t)(f->lay.sections ? f->lay.sections - 1 : 0));
            f->done_attempt++;
            f->done_next = now + done_interval(s);
        } else if (f->rewind_at == 0) {
            SLOG(s, LL_WARN, "file %04X timed out waiting for clients", f->file_id);
            end_data(s, now);
            return;
        } else {
            f->done_next = f->rewind_at;
        }
    }
    rewind_check(s, now);
}

static void recv_status(struct sender *s, struct sdest *d, const struct wire_status *st,
                        uint64_t now)
{
    struct sfile *f = &s->file;
    if (st->file_id != f->file_id) {
        SLOG(s, LL_PROTO, "rejecting STATUS from %08X: file ID %04X, expected %04X", d->id,
             st->file_id, f->file_id);
        return;
    }
    /* spec §6 item 4: the section must exist in this file. */
    if (st->section >= f->lay.sections) {
        SLOG(s, LL_PROTO, "rejecting STATUS from %08X: section %u of %u", d->id, st->section,
             f->lay.sections);
        return;
    }
    uint32_t nblk = blocks_in_section(&f->lay, st->section);
    if (st->naks_len < nblk / 8 + 1) {
        SLOG(s, LL_PROTO, "rejecting STATUS from %08X: %zu NAK bytes for %u blocks", d->id,
             st->naks_len, nblk);
        return;
    }
    if (f->cursor < f->lay.blocks) {
        uint16_t cur = 0, blk = 0;
        blocks_from_abs(&f->lay, f->cursor, &cur, &blk);
        if (cur == st->section) {
            SLOG(s, LL_DEBUG, "dropping STATUS for current section %u", cur);
            return;
        }
    }
    uint32_t naks = bitmap_bytes_count(st->naks, st->naks_len, nblk);
    /* spec §2.1 -N/-m: NAK policing. */
    if ((uint64_t)naks * 100 / nblk > s->cfg.nak_pct)
        d->nak_strikes++;
    if (d->nak_strikes >= s->cfg.nak_strikes) {
        /* spec §3.4: a proxy's STATUS counts against the proxy itself. */
        SLOG(s, LL_WARN, "excessive NAKs (%u) for section %u from %s %08X, aborting", naks,
             st->section, d->isproxy ? "proxy" : "client", d->id);
        dset(s, d, D_ABORT);
        job_abort(s, d->id, 0, "Excessive NAKs received", NULL);
        if (d->isproxy)
            proxy_clients_follow(s, (size_t)(d - s->dests), D_ABORT);
        return;
    }
    bitmap_or_bytes(&f->naks, blocks_section_start(&f->lay, st->section), nblk, st->naks,
                    st->naks_len);
    if (!bitmap_ok(&f->naks)) {
        SLOG(s, LL_ERR, "out of memory for the block map of %s", f->it->path);
        phase_finish(s, SENDER_EXIT_ALLOC);
        return;
    }
    if (naks > 0)
        f->got_naks = true;
    s->st.naks += naks;
    SLOG(s, LL_VERBOSE, "got %u NAKs for section %u from client %08X", naks, st->section, d->id);
    dset(s, d, D_ACTIVE_NAK);
    rewind_check(s, now);
}

static void recv_data_phase(struct sender *s, struct sdest *d, const struct addr *from,
                            const struct uftp_hdr *h, const struct wire_msg *m, uint64_t now)
{
    if (d == NULL) {
        SLOG(s, LL_WARN, "host %08X not in host list", h->src_id);
        job_abort(s, h->src_id, 0, "Not in host list", from);
        return;
    }
    if (m->func == REGISTER && d->isproxy && !d_error(d)) {
        /* A proxy registering its clients again: confirm them, as in FILEINFO. */
        recv_register(s, d, from, &m->u.reg, now);
        return;
    }
    if (d->state == D_ACTIVE || d->state == D_ACTIVE_NAK) {
        if (m->func == STATUS) {
            recv_status(s, d, &m->u.status, now);
        } else if (m->func == COMPLETE) {
            recv_complete(s, d, &m->u.complete);
        } else {
            SLOG(s, LL_PROTO, "received invalid message %s from %08X", wire_func_name(m->func),
                 d->id);
            return;
        }
    } else if (d->state == D_DONE && m->func == COMPLETE) {
        recv_complete(s, d, &m->u.complete);
    } else {
        SLOG(s, LL_PROTO, "received invalid message %s from %08X (%s)", wire_func_name(m->func),
             d->id, dstate_names[d->state]);
        return;
    }
    if (s->cnt[D_ACTIVE] + s->cnt[D_ACTIVE_NAK] == 0)
        end_data(s, now);
}

/* ---------------------------------------------------------------- completion */

static void end_completion(struct sender *s)
{
    for (size_t i = 0; i < s->ndest; i++) {
        struct sdest *d = &s->dests[i];
        if (d->state == D_ACTIVE && !d->isproxy) {
            SLOG(s, LL_WARN, "couldn't get COMPLETE for group from %08X", d->id);
            dset(s, d, D_LOST);
        }
    }
    job_list(s, DONE_CONF, D_DONE, true);
    phase_finish(s, s->files_sent ? SENDER_EXIT_OK : SENDER_EXIT_NO_FILES);
}

static void completion_timer(struct sender *s, uint64_t now)
{
    s->attempt++;
    recalc_grtt(s, false);
    s->next_send = now + 3 * s->grtt.cur_us;
    if (s->last_pass || s->attempt > s->cfg.robust) {
        end_completion(s);
        return;
    }
    job_list(s, DONE_CONF, D_DONE, true);
    job_done(s, 0, 0);
}

static void recv_completion_phase(struct sender *s, struct sdest *d, const struct addr *from,
                                  const struct uftp_hdr *h, const struct wire_msg *m, uint64_t now)
{
    if (d == NULL) {
        SLOG(s, LL_WARN, "host %08X not in host list", h->src_id);
        job_abort(s, h->src_id, 0, "Not in host list", from);
        return;
    }
    if (m->func != COMPLETE) {
        SLOG(s, LL_PROTO, "received invalid message %s from %08X", wire_func_name(m->func), d->id);
        return;
    }
    if (d->state != D_ACTIVE && d->state != D_DONE)
        return;
    recv_complete(s, d, &m->u.complete);
    if (s->cnt[D_ACTIVE] == 0) {
        /* Wait 1·GRTT for late COMPLETEs (spec §1.6 "Completion phase"). */
        recalc_grtt(s, false);
        s->next_send = now + s->grtt.cur_us;
        if (!s->last_pass)
            SLOG(s, LL_VERBOSE, "all complete, waiting for late completions");
        s->last_pass = true;
        job_list(s, DONE_CONF, D_DONE, true);
    }
}

/* ---------------------------------------------------------------- dispatch */

static void phase_after_loss(struct sender *s, uint64_t now);

void phase_drop_client(struct sender *s, struct sdest *d, const char *why, uint64_t now)
{
    job_abort(s, d->id, 0, why, NULL);
    dset(s, d, D_ABORT);
    phase_after_loss(s, now);
}

static void recv_abort(struct sender *s, struct sdest *d, const struct uftp_hdr *h,
                       const struct wire_abort *a, uint64_t now)
{
    char text[WIRE_ABORT_TEXT_LEN + 8];
    file_name_escape(text, sizeof(text), a->text, strlen(a->text)); /* network text */
    if (d == NULL) {
        SLOG(s, LL_WARN, "transfer aborted by %08X: %s", h->src_id, text);
        return;
    }
    if (a->host != 0) {
        /* A proxy relaying its client's abort (spec §3.4). */
        struct sdest *c = dest_of(s, a->host);
        if (c == NULL) {
            SLOG(s, LL_WARN, "transfer aborted by %08X: %s", a->host, text);
            return;
        }
        d = c;
    }
    SLOG(s, LL_WARN, "transfer aborted by %s %08X: %s", d->isproxy ? "proxy" : "client", d->id,
         text);
    dset(s, d, D_ABORT);
    if (d->isproxy)
        proxy_clients_follow(s, (size_t)(d - s->dests), D_ABORT);
    if (s->cfg.quit_on_error)
        phase_abort_all(s, "A client aborted, aborting all", 0, M_ACTIVE | 1u << D_REGISTERED);
    phase_after_loss(s, now);
}

/* A client left (aborted): that can complete the current phase. */
static void phase_after_loss(struct sender *s, uint64_t now)
{
    switch (s->phase) {
    case SP_ANNOUNCE:
        announce_progress(s, now);
        break;
    case SP_FILEINFO:
        if (s->cnt[D_REGISTERED] == 0)
            end_fileinfo(s, now);
        break;
    case SP_DATA:
        if (s->cnt[D_ACTIVE] + s->cnt[D_ACTIVE_NAK] == 0)
            end_data(s, now);
        break;
    case SP_COMPLETION:
        if (s->cnt[D_ACTIVE] == 0 && !s->last_pass) {
            s->last_pass = true;
            s->next_send = now + s->grtt.cur_us;
        }
        break;
    default:
        break;
    }
}

void phase_dispatch(struct sender *s, const struct addr *from, const struct uftp_hdr *h,
                    const struct wire_msg *m, uint64_t now)
{
    struct sdest *d = dest_of(s, h->src_id);
    if (m->func == ABORT) {
        recv_abort(s, d, h, &m->u.abort, now);
        return;
    }
    switch (s->phase) {
    case SP_ANNOUNCE:
        recv_announce_phase(s, d, from, h, m, now);
        break;
    case SP_FILEINFO:
        recv_fileinfo_phase(s, d, from, h, m, now);
        break;
    case SP_DATA:
        recv_data_phase(s, d, from, h, m, now);
        break;
    case SP_COMPLETION:
        recv_completion_phase(s, d, from, h, m, now);
        break;
    default:
        break;
    }
}

void phase_timers(struct sender *s, uint64_t now)
{
    /* Each step may move to the next phase, whose timers may be due too. */
    for (int guard = 0; guard < 64; guard++) {
        enum sphase p = s->phase;
        uint16_t fid = s->file.file_id;
        switch (p) {
        case SP_START:
            phase_start(s, now);
            break;
        case SP_ANNOUNCE:
            if (now >= s->next_send)
                announce_timer(s, now);
            break;
        case SP_FILEINFO:
            if (now >= s->next_send)
                fileinfo_timer(s, now);
            break;
        case SP_DATA:
            data_timers(s, now);
            break;
        case SP_COMPLETION:
            if (now >= s->next_send)
                completion_timer(s, now);
            break;
        default:
            return;
        }
        if (s->phase == p && s->file.file_id == fid && p != SP_START)
            return;
    }
}

uint64_t phase_deadline(const struct sender *s)
{
    const struct sfile *f = &s->file;
    switch (s->phase) {
    case SP_START:
        return 0;
    case SP_ANNOUNCE:
    case SP_FILEINFO:
    case SP_COMPLETION:
        return s->next_send;
    case SP_DATA: {
        uint64_t t = ENG_NEVER;
        if (f->end_of_pass && f->done_next < t)
            t = f->done_next;
        if (f->rewind_at != 0 && f->rewind_at < t)
            t = f->rewind_at;
        if (f->max_time_at != 0 && f->max_time_at < t)
            t = f->max_time_at;
        uint64_t d = xmit_data_due(s, 0);
        return d < t ? d : t;
    }
    default:
        return ENG_NEVER;
    }
}
