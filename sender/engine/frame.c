/*
 * What every datagram of the sender shares, below the files that make
 * them (xmit.c, cc.c, fec.c, client.c): the queue of control messages
 * (jobs, one packet per poll), the common header (spec §1.1) and sealing
 * (ENCRYPTED, spec §1.8).
 */
#include "sender/engine/sender_int.h"

#include <stdio.h>
#include <string.h>

#include "core/base/quant.h"

static void job_push(struct sender *s, const struct sjob *j)
{
    if (s->job_n == SJOB_RING) {
        SLOG(s, LL_WARN, "output queue full, dropping %s", wire_func_name(j->func));
        return;
    }
    s->jobs[(s->job_head + s->job_n) % SJOB_RING] = *j;
    s->job_n++;
}

void job_list(struct sender *s, uint8_t func, uint8_t filter, bool conf)
{
    job_push(s, &(struct sjob){.func = func, .filter = filter, .conf = conf});
}

void job_regconf_proxied(struct sender *s)
{
    if (s->nproxy > 0)
        job_push(
            s, &(struct sjob){.func = REG_CONF, .filter = D_ACTIVE, .conf = true, .proxied = true});
}

void job_regconf_again(struct sender *s)
{
    job_push(s, &(struct sjob){.func = REG_CONF, .conf = true, .proxied = true, .anystate = true});
}

void job_done(struct sender *s, uint16_t file_id, uint16_t section)
{
    job_push(s, &(struct sjob){
                    .func = DONE, .filter = D_ACTIVE, .file_id = file_id, .section = section});
}

void job_done_early(struct sender *s, uint16_t file_id, uint16_t section)
{
    job_push(s, &(struct sjob){.func = DONE,
                               .filter = D_ACTIVE,
                               .and_registered = true,
                               .file_id = file_id,
                               .section = section});
}

void job_cong_ctrl(struct sender *s)
{
    job_push(s, &(struct sjob){.func = CONG_CTRL});
}

void job_abort(struct sender *s, uint32_t host, uint8_t flags, const char *text,
               const struct addr *peer)
{
    if (peer != NULL && s->job_n >= SJOB_RING / 2) {
        /* Answers to strangers never crowd out the session's own messages. */
        SLOG(s, LL_PROTO, "not answering %08X: output queue busy", host);
        return;
    }
    struct sjob j = {.func = ABORT, .host = host, .flags = flags, .to_peer = peer != NULL};
    snprintf(j.text, sizeof(j.text), "%s", text);
    if (peer != NULL)
        j.peer = *peer;
    job_push(s, &j);
}

/* The common header of every datagram we send (spec §1.1). */
void xmit_hdr(struct sender *s, uint8_t *p, uint8_t func)
{
    uint64_t adv = s_adv_grtt(s);
    if (adv != s->hdr_grtt_us || s->hdr_grtt == 0) {
        s->hdr_grtt_us = adv;
        s->hdr_grtt = quant_rtt_encode_us(adv);
    }
    if (s->ndest != s->hdr_ndest || s->hdr_gsize == 0) {
        s->hdr_ndest = s->ndest;
        s->hdr_gsize = quant_gsize_encode((uint32_t)s->ndest);
    }
    struct uftp_hdr h = {
        .version = s->cfg.version,
        .func = func,
        .seq = s->seq++,
        .src_id = s->cfg.server_id,
        .group_id = s->group_id,
        .group_inst = s->group_inst,
        .grtt = s->hdr_grtt,
        .gsize = s->hdr_gsize,
    };
    uftp_hdr_encode(p, UFTP_HDR_LEN, &h);
}

/*
 * Data stops this many blocks before the key's limit, so that an encrypted
 * ABORT can still tell everyone why (a few hundred full control messages).
 */
#define SEAL_RESERVE (UINT64_C(1) << 16)

/*
 * Seals a message encoded at p + s->moff (its header at p): the datagram's
 * length, or XMIT_ELIMIT (data only) / XMIT_ECRYPT.
 */
ssize_t xmit_seal(struct sender *s, uint8_t *p, size_t msglen, size_t cap, bool data)
{
    struct skeys_dir *tx = skeys_server_tx(s->keys);
    if (data && skeys_dir_left(tx) < SEAL_RESERVE + skeys_blocks(msglen)) {
        SLOG(s, LL_ERR,
             "the session key reached its usage limit (%llu of %llu cipher blocks): "
             "v5 cannot change keys within a session",
             (unsigned long long)tx->used, (unsigned long long)tx->limit);
        return XMIT_ELIMIT;
    }
    ssize_t n = skeys_seal(tx, skeys_server_ctr(s->keys), p, msglen, cap);
    if (n > 0)
        return n;
    SLOG(s, LL_ERR, "cannot encrypt: %s; ending the session", skeys_strerror((int)n));
    return XMIT_ECRYPT;
}

ssize_t xmit_seal_data(struct sender *s, uint8_t *p, size_t msglen, size_t cap)
{
    return xmit_seal(s, p, msglen, cap, true);
}
