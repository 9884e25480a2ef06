/*
 * The sender engine's public face (sender/engine.h): configuration checks,
 * the receive pipeline (length → header → session → authentication →
 * dispatch) and the poll loop.
 */
#include "sender/sender_int.h"

#include <stdlib.h>
#include <string.h>

void sender_config_defaults(struct sender_config *c)
{
    memset(c, 0, sizeof(*c));
    c->blocksize = UFTP_DEF_BLOCKSIZE;
    c->rate_kbps = 1000;
    c->grtt_init_us = 500000;
    c->grtt_min_us = 10000;
    c->grtt_max_us = 15000000;
    c->robust = 20;
    c->cc_type = CC_NONE;
    c->nak_pct = 100;
    c->nak_strikes = 1;
    c->max_passes = 65535;
}

static int bad(const char *what)
{
    log_warnx("sender: invalid configuration: %s", what);
    return ENG_EINVAL;
}

static int check_config(const struct sender_config *c, const struct sender_env *e)
{
    if (e->rng == NULL || e->storage.open == NULL || e->storage.read == NULL ||
        e->storage.close == NULL)
        return bad("rng and storage callbacks are required");
    int fam = net_addr_family(&c->pub);
    if (fam != AF_INET && fam != AF_INET6)
        return bad("public address (-M) unset");
    if (net_addr_is_multicast(&c->pub)) {
        if (net_addr_family(&c->priv) != fam)
            return bad("private address (-P) unset or of another family than -M");
        if (!net_addr_is_multicast(&c->priv))
            return bad("private address (-P) is not multicast");
    }
    if (c->server_id == 0 || c->server_id == UINT32_MAX)
        return bad("server ID (-U)");
    if (c->blocksize < UFTP_MIN_BLOCKSIZE || c->blocksize > UFTP_MAX_BLOCKSIZE)
        return bad("block size (-b) must be 512..8800");
    if (c->rate_kbps != -1 && (c->rate_kbps < 1 || c->rate_kbps > (INT64_C(1) << 30)))
        return bad("rate (-R) must be 1..2^30 Kbps or -1");
    if (c->grtt_min_us < 1000 || c->grtt_max_us > 1000000000u || c->grtt_min_us > c->grtt_init_us ||
        c->grtt_init_us > c->grtt_max_us)
        return bad("GRTT (-r) must satisfy 0.001 <= min <= init <= max <= 1000");
    if (c->robust < 10 || c->robust > 50)
        return bad("robustness (-s) must be 10..50");
    if (c->cc_type != CC_NONE)
        return bad("congestion control (-C) other than none is not supported yet");
    if (c->nak_pct > 100)
        return bad("NAK percentage (-N) must be 0..100");
    if (c->nak_strikes < 1 || c->nak_strikes > 1000)
        return bad("NAK count (-m) must be 1..1000");
    if (c->max_passes < 1)
        return bad("max passes (-a) must be 1..65535");
    if (c->max_time_pct != 0 && (c->max_time_pct < 110 || c->max_time_pct > 10000))
        return bad("max time (-W) must be 110..10000");
    if (c->ndest > SENDER_MAX_DEST)
        return bad("more than 100000 destinations (-H)");
    if ((c->ndest > 0 && c->dests == NULL) || (c->nfiles > 0 && c->files == NULL))
        return bad("destination or file array missing");
    return 0;
}

int sender_new(struct sender **out, const struct sender_config *cfg, const struct sender_env *env)
{
    *out = NULL;
    int rc = check_config(cfg, env);
    if (rc < 0)
        return rc;
    struct sender *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return ENG_ENOMEM;
    s->cfg = *cfg;
    s->env = *env;
    idmap_init(&s->ids);
    s->group_inst = cfg->group_inst;
    s->group_id = cfg->group_id;
    while (s->group_id == 0) {
        if (env->rng(env->ctx, &s->group_id, sizeof(s->group_id)) < 0) {
            sender_free(s);
            return ENG_ERNG;
        }
    }
    s->unicast = !net_addr_is_multicast(&cfg->pub);
    s->ipv6 = net_addr_family(&cfg->pub) == AF_INET6;
    /* spec §2.1 -M: in unicast mode everything goes to the one address. */
    s->data_dst = s->unicast ? cfg->pub : cfg->priv;
    if (!s->unicast)
        net_addr_set_port(&s->data_dst, net_addr_port(&cfg->pub));
    s->open_group = cfg->ndest == 0;
    for (size_t i = 0; i < cfg->ndest; i++) {
        uint32_t id = cfg->dests[i].id;
        if (id == 0 || id == UINT32_MAX) {
            sender_free(s);
            return bad("destination ID 0 or 0xFFFFFFFF");
        }
        if (idmap_get(&s->ids, id) != IDMAP_NONE) {
            log_warnx("sender: destination %08X listed twice", id);
            continue;
        }
        if (s->ndest == s->capdest) {
            size_t capn = s->capdest ? s->capdest * 2 : 64;
            struct sdest *nd = realloc(s->dests, capn * sizeof(*nd));
            if (nd == NULL) {
                sender_free(s);
                return ENG_ENOMEM;
            }
            s->dests = nd;
            s->capdest = capn;
        }
        if (idmap_put(&s->ids, id, (uint32_t)s->ndest) < 0) {
            sender_free(s);
            return ENG_ENOMEM;
        }
        struct sdest *d = &s->dests[s->ndest++];
        memset(d, 0, sizeof(*d));
        d->id = id;
        d->state = D_MUTE;
        s->cnt[D_MUTE]++;
    }
    grtt_init(&s->grtt, cfg->grtt_init_us, cfg->grtt_min_us, cfg->grtt_max_us);
    /* spec §1.6 step 3: the size the rate is charged per data packet. */
    s->datapacketsize = cfg->blocksize + 8 + UFTP_HDR_LEN + 8 + (s->ipv6 ? 40 : 20);
    if (cfg->rate_kbps > 0) {
        s->rate_Bps = (uint64_t)cfg->rate_kbps * 1024 / 8;
        s->packet_interval_us = s->datapacketsize * 1000000 / s->rate_Bps;
    }
    pace_init(&s->pace, s->rate_Bps, (uint32_t)s->datapacketsize, ENG_MAX_SEG, 0);
    s->next_file_id = 1;
    s->phase = SP_START;
    s->st.group_id = s->group_id;
    s->st.group_inst = s->group_inst;
    s->st.grtt_us = s_adv_grtt(s);
    *out = s;
    return ENG_OK;
}

void sender_recv(struct sender *s, const struct net_addr *from, const struct net_addr *to,
                 uint8_t *pkt, size_t len, uint8_t tos, uint64_t now_us)
{
    (void)to;
    (void)tos;
    char ab[NET_ADDR_STRLEN];
    if (s->phase == SP_START || s->phase == SP_FINISHED)
        return;
    /* 1. length: a header and at least a func/hlen word (spec §1.1). */
    if (len < UFTP_HDR_LEN + 4) {
        SLOG(s, LL_PROTO, "short datagram (%zu bytes) from %s", len, net_addr_str(from, ab));
        return;
    }
    /* 2. header: the server takes only v5, and only its own group. */
    struct uftp_hdr h;
    if (uftp_hdr_decode(&h, pkt, len) < 0 || h.version != UFTP_VER5) {
        SLOG(s, LL_PROTO, "invalid version %02X from %s", pkt[0], net_addr_str(from, ab));
        return;
    }
    if (h.group_id != s->group_id) {
        SLOG(s, LL_PROTO, "invalid group ID %08X from %s", h.group_id, net_addr_str(from, ab));
        return;
    }
    if (h.src_id == s->cfg.server_id)
        return; /* our own multicast looped back */
    /* 3. authentication: without encryption ENCRYPTED is refused (issue 4 decrypts here). */
    if (h.func == ENCRYPTED) {
        SLOG(s, LL_PROTO, "received encrypted packet with encryption disabled from %08X", h.src_id);
        return;
    }
    struct wire_datagram d;
    ssize_t n = wire_datagram_decode(&d, pkt, len);
    if (n < 0) {
        SLOG(s, LL_PROTO, "invalid %s from %08X: %s", wire_func_name(h.func), h.src_id,
             wire_strerror((int)n));
        return;
    }
    /* 4. dispatch to the current phase. */
    phase_dispatch(s, from, &d.hdr, &d.msg, now_us);
}

int sender_poll(struct sender *s, uint64_t now_us, struct eng_out *out)
{
    int rc = eng_out_check(out);
    if (rc < 0)
        return rc;
    eng_out_reset(out);
    if (s->phase != SP_FINISHED)
        phase_timers(s, now_us);
    if (xmit_job(s, now_us, out))
        return out->kind;
    if (s->phase == SP_DATA && xmit_data(s, now_us, out))
        return out->kind;
    if (s->phase == SP_DATA && s->job_n == 0) {
        /* A read error may have ended the file; let the timers move on. */
        phase_timers(s, now_us);
        if (xmit_job(s, now_us, out))
            return out->kind;
    }
    if (s->phase == SP_FINISHED && s->job_n == 0 && !s->done_reported) {
        s->done_reported = true;
        out->kind = ENG_DONE;
        out->exit_code = s->exit_code;
        return ENG_DONE;
    }
    return ENG_NONE;
}

uint64_t sender_deadline(const struct sender *s)
{
    if (s->job_n > 0)
        return 0;
    if (s->phase == SP_FINISHED)
        return s->done_reported ? ENG_NEVER : 0;
    return phase_deadline(s);
}

void sender_interrupt(struct sender *s, uint64_t now_us)
{
    (void)now_us;
    if (s->interrupted || s->phase == SP_FINISHED)
        return;
    s->interrupted = true;
    if (s->phase != SP_START)
        phase_abort_all(s, "Server quit, aborting all", 0,
                        1u << D_REGISTERED | 1u << D_ACTIVE | 1u << D_ACTIVE_NAK | 1u << D_DONE);
    phase_finish(s, SENDER_EXIT_INTERRUPTED);
}

void sender_stats(const struct sender *s, struct sender_stats *st)
{
    *st = s->st;
    st->grtt_us = s_adv_grtt(s);
    st->active =
        (uint32_t)(s->cnt[D_REGISTERED] + s->cnt[D_ACTIVE] + s->cnt[D_ACTIVE_NAK] + s->cnt[D_DONE]);
}

void sender_free(struct sender *s)
{
    if (s == NULL)
        return;
    if (s->file.open)
        s->env.storage.close(s->env.ctx, s->file.h);
    bitmap_free(&s->file.naks);
    idmap_free(&s->ids);
    free(s->dests);
    free(s);
}
