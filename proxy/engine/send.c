/*
 * What a client or response proxy sends of its own (spec §1.8, §3.4):
 * upstream, as a client of the server, sealed under its own keys;
 * downstream, as the server of its clients, aborts and KEYINFO. Where
 * 5.0.1 errs and we do not (spec §6 item 7): our aborts are encrypted once
 * keys exist, upstream under our application key and downstream under the
 * server application key with our own nonce range.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/crypto/crypto.h"
#include "core/wire/buf.h"
#include "proxy/engine/proxy_int.h"

#define ABORT_CLEAR  0x1
#define ABORT_SEALED 0x2

void p_send_forward(struct proxy *p, const struct addr *to, const uint8_t *pkt, size_t len)
{
    if (p->cfg.role != PROXY_CLIENT)
        return; /* a response proxy's clients hear the server themselves */
    if (p_send(p, to, pkt, len))
        p->st.forwarded++;
}

void p_send_hdr(struct proxy *p, struct psession *s, uint8_t *b, uint8_t func, bool down,
                uint16_t seq)
{
    struct uftp_hdr h = {.version = s->version,
                         .func = func,
                         .seq = seq,
                         .src_id = p->cfg.proxy_id,
                         .group_id = s->group_id,
                         .group_inst = s->group_inst};
    if (down) {
        /* What we send clients carries the server's GRTT and group size. */
        h.grtt = s->grtt_code;
        h.gsize = s->gsize_code;
    }
    uftp_hdr_encode(b, UFTP_HDR_LEN, &h);
}

bool p_send_up(struct proxy *p, struct psession *s, const struct wire_msg *m, enum up_how how)
{
    uint8_t *b = p->scratch;
    size_t cap = sizeof(p->scratch);
    bool seal = how == UP_HS || (how == UP_APP && s->encrypted);
    if (seal && how == UP_APP && !keys_keyed(s->k)) {
        PLOG(p, s, LL_WARN, "cannot send %s upstream: not keyed by the server yet",
             wire_func_name(m->func));
        return false;
    }
    size_t off = seal ? SKEYS_MSG_OFF : UFTP_HDR_LEN;
    ssize_t n = wire_msg_encode(b + off, cap - off - AEAD_TAG_LEN, m);
    if (n < 0) {
        PLOG(p, s, LL_WARN, "cannot encode %s: %s", wire_func_name(m->func), wire_strerror((int)n));
        return false;
    }
    p_send_hdr(p, s, b, m->func, false, s->seq_up++);
    size_t len = UFTP_HDR_LEN + (size_t)n;
    if (seal) {
        ssize_t r = keys_seal_up(s->k, how == UP_HS, b, (size_t)n, cap);
        if (r < 0) {
            PLOG(p, s, LL_WARN, "cannot seal %s: %s", wire_func_name(m->func),
                 keys_strerror((int)r));
            return false;
        }
        len = (size_t)r;
    }
    const struct addr *to = &s->up;
    if (s->lower) {
        /* spec §3.5: through our upstream proxy; until its PROXY_KEY, nothing (retried). */
        if (!addr_is_set(&s->via))
            return false;
        to = &s->via;
    }
    return p_send(p, to, b, len);
}

/* Network text, for our logs and our own ABORT: controls replaced. */
void p_clean_text(char *text, size_t cap, const char *src)
{
    snprintf(text, cap, "%s", src);
    for (char *x = text; *x; x++)
        if ((unsigned char)*x < 0x20 || *x == 0x7f)
            *x = '?';
}

static void abort_msg(struct wire_msg *m, const struct psession *s, uint32_t host, uint8_t flags,
                      const char *text)
{
    memset(m, 0, sizeof(*m));
    m->func = ABORT;
    m->u.abort.ver = s->version;
    m->u.abort.host = host;
    m->u.abort.flags = flags;
    snprintf(m->u.abort.text, sizeof(m->u.abort.text), "%s", text);
}

void p_send_abort_up(struct proxy *p, struct psession *s, uint32_t host, const char *text)
{
    struct wire_msg m;
    abort_msg(&m, s, host, 0, text);
    p_send_up(p, s, &m, s->encrypted && keys_keyed(s->k) ? UP_APP : UP_CLEAR);
}

/*
 * A client decrypts our ABORT with the server application key when it has
 * keys and takes it in the clear only before (spec §1.4 rules), so the
 * copies sent follow what the clients can hold.
 */
static unsigned abort_how(const struct psession *s, const struct pclient *c)
{
    if (!s->encrypted || !keys_keyed(s->k))
        return ABORT_CLEAR;
    if (c != NULL) {
        if (c->state == PC_READY || c->state == PC_DONE)
            return ABORT_SEALED;
        if (c->state == PC_CONF)
            return ABORT_SEALED | ABORT_CLEAR; /* it may or may not hold our KEYINFO */
        return ABORT_CLEAR;
    }
    bool unkeyed = s->ccnt[PC_MUTE] + s->ccnt[PC_REGISTERED] + s->ccnt[PC_CONF] > 0;
    return ABORT_SEALED | (unkeyed ? ABORT_CLEAR : 0);
}

void p_send_abort_down(struct proxy *p, struct psession *s, const struct pclient *c, uint8_t flags,
                       const char *text)
{
    const struct addr *to = c != NULL ? &c->addr : &s->priv;
    if (c == NULL && !addr_is_set(to))
        return; /* unicast mode: no group */
    unsigned how = abort_how(s, c);
    struct wire_msg m;
    abort_msg(&m, s, c != NULL ? c->id : 0, flags, text);
    uint8_t *b = p->scratch;
    if (how & ABORT_SEALED) {
        ssize_t n = wire_msg_encode(b + SKEYS_MSG_OFF, sizeof(p->scratch) - SKEYS_MSG_OFF, &m);
        p_send_hdr(p, s, b, ABORT, true, s->seq_down++);
        ssize_t r = n < 0 ? n : keys_seal_down(s->k, b, (size_t)n, sizeof(p->scratch));
        if (r > 0)
            p_send(p, to, b, (size_t)r);
        else
            PLOG(p, s, LL_WARN, "cannot seal ABORT: %s", keys_strerror((int)r));
    }
    if (how & ABORT_CLEAR) {
        ssize_t n = wire_msg_encode(b + UFTP_HDR_LEN, sizeof(p->scratch) - UFTP_HDR_LEN, &m);
        p_send_hdr(p, s, b, ABORT, true, s->seq_down++);
        if (n > 0)
            p_send(p, to, b, UFTP_HDR_LEN + (size_t)n);
    }
}

/* One KEYINFO (counter ctr) with n entries to, signed; false when it cannot be built. */
static bool keyinfo_out(struct proxy *p, struct psession *s, const struct wire_destkey *keys,
                        size_t n, uint64_t ctr, size_t siglen, const struct addr *to)
{
    struct wire_msg m;
    memset(&m, 0, sizeof(m));
    m.func = KEYINFO;
    m.u.keyinfo.ver = s->version;
    m.u.keyinfo.iv_ctr = ctr;
    m.u.keyinfo.siglen = (uint16_t)siglen; /* sig NULL: zeros to sign over */
    m.u.keyinfo.keys.host = keys;
    m.u.keyinfo.keys.n = n;
    uint8_t *b = p->scratch;
    ssize_t len = wire_msg_encode(b + UFTP_HDR_LEN, sizeof(p->scratch) - UFTP_HDR_LEN, &m);
    if (len < 0)
        return false;
    p_send_hdr(p, s, b, KEYINFO, true, 0);
    /* spec §1.9 item 5: v4 KEYINFO comes as from the server (its ID is in the IV). */
    if (s->version == UFTP_VER4)
        be32_put(b + 4, s->server_id);
    len += UFTP_HDR_LEN;
    if (keys_sign_keyinfo(s->k, b, (size_t)len) != CRYPTO_OK) {
        PLOG(p, s, LL_WARN, "cannot sign KEYINFO");
        return false;
    }
    p_send(p, to, b, (size_t)len);
    return true;
}

void p_send_keyinfo(struct proxy *p, struct psession *s, const struct wire_ids *list)
{
    if (!s->encrypted || !keys_keyed(s->k))
        return;
    size_t siglen = keys_siglen(s->k);
    size_t per = wire_max_destkeys(s->blocksize);
    size_t room = (UFTP_MAX_DATAGRAM - UFTP_HDR_LEN - 12 - siglen) / WIRE_DESTKEY_LEN;
    if (per > room)
        per = room;
    if (per == 0)
        per = 1;
    struct wire_destkey *keys = calloc(per, sizeof(*keys));
    if (keys == NULL)
        return;
    size_t i = 0, sent = 0;
    bool owed = false;
    while (i < s->ncl) {
        uint64_t ctr = keys_keyinfo_ctr(s->k);
        size_t n = 0;
        for (; i < s->ncl && n < per; i++) {
            struct pclient *c = &s->cl[i];
            if (c->state != PC_CONF || c->k == NULL) /* (k NULL: a downstream proxy's) */
                continue;
            owed = true;
            if (list != NULL && !wire_ids_contains(list, c->id))
                continue;
            int rc = keys_peer_wrap(s->k, c->k, c->id, ctr, keys[n].master);
            if (rc < 0) {
                PLOG(p, s, LL_WARN, "cannot wrap the group master for %08X: %s", c->id,
                     keys_strerror(rc));
                continue;
            }
            keys[n++].id = c->id;
        }
        if (n == 0)
            continue;
        if (!keyinfo_out(p, s, keys, n, ctr, siglen, &s->priv))
            break;
        sent += n;
    }
    /* spec §3.5: a downstream proxy gets its own, by unicast (it is no member of our group). */
    for (size_t j = 0; j < s->ndn; j++) {
        struct pdown *d = &s->dn[j];
        if (d->state != PD_AUTHED)
            continue;
        owed = true;
        if (list != NULL && !wire_ids_contains(list, d->id))
            continue;
        uint64_t ctr = keys_keyinfo_ctr(s->k);
        int rc = keys_peer_wrap(s->k, d->k, d->id, ctr, keys[0].master);
        if (rc < 0) {
            PLOG(p, s, LL_WARN, "cannot wrap the group master for downstream proxy %08X: %s", d->id,
                 keys_strerror(rc));
            continue;
        }
        keys[0].id = d->id;
        if (keyinfo_out(p, s, keys, 1, ctr, siglen, &d->addr))
            PLOG(p, s, LL_VERBOSE, "sent KEYINFO to downstream proxy %08X", d->id);
    }
    crypto_wipe(keys, per * sizeof(*keys));
    free(keys);
    if (sent > 0)
        PLOG(p, s, LL_VERBOSE, "sent KEYINFO for %zu client%s", sent, sent == 1 ? "" : "s");
    /* spec §3.4: resent every 2 GRTT while anyone has not acknowledged. */
    s->keyinfo_at = owed ? (p->now ? p->now : 1) : 0;
}
