/* Outside sessions: heartbeats to the -H proxies (spec §1.8, §2.2), signed when challenged;
 * KEY_REQ to a v4 response proxy (-r) every 5 s until its PROXY_KEY (spec §1.9 item 4). */
#include "receiver/engine/recv_int.h"

#include "core/crypto/hbauth.h"
#include "core/crypto/sig.h"
#include "core/wire/proxykey.h"

/* A v4 PROXY_KEY: only from exactly the -r address, checked and verified (spec §1.9 item 4). */
void px_recv_key4(struct receiver *r, const struct addr *from, const uint8_t *pkt, size_t len)
{
    char ab[ADDR_STRLEN];
    if (!recv_has_px4(r) || !addr_equal(from, &r->cfg.resp_proxy)) {
        slot_drop(r, from, "v4 PROXY_KEY not from our response proxy (-r)");
        return;
    }
    if (len < UFTP_HDR_LEN + 4 ||
        !slot_pk_take(r, slot_src_key(r, from), KEYWORK_RANK_FIRST,
                      skeys_cost_verify(pkt + UFTP_HDR_LEN + 12, len - UFTP_HDR_LEN - 12)))
        return;
    struct crypto_key *sig = NULL, *dh = NULL;
    int rc = skeys_proxy4_key(pkt + UFTP_HDR_LEN, len - UFTP_HDR_LEN, r->cfg.resp_proxy_fp,
                              r->cfg.resp_proxy_fplen, &sig, &dh);
    if (rc != CRYPTO_OK) {
        slot_auth_failed(r, rc);
        ELOG(&r->env.log, LL_WARN, "rejecting PROXY_KEY from response proxy %s: %s",
             addr_str(from, ab), skeys_strerror(rc));
        return;
    }
    bool first = r->px4_dh == NULL;
    crypto_key_free(r->px4_sig);
    crypto_key_free(r->px4_dh);
    r->px4_sig = sig;
    r->px4_dh = dh;
    ELOG(&r->env.log, first ? LL_INFO : LL_VERBOSE, "received PROXY_KEY from response proxy %s",
         addr_str(from, ab));
}

void px_recv_hb_resp(struct receiver *r, const struct addr *from, const uint8_t *pkt, size_t len)
{
    struct wire_hb_resp m = {.ver = pkt[0]};
    char ab[ADDR_STRLEN];
    if (wire_hb_resp_decode(&m, pkt + UFTP_HDR_LEN, len - UFTP_HDR_LEN) < 0) {
        slot_drop(r, from, "malformed HB_RESP");
        return;
    }
    if (hb_resp(&r->hb, from, m.auth, m.nonce, r->now) < 0) {
        slot_drop(r, from, "HB_RESP from a host we send no heartbeats to");
        return;
    }
    if (m.auth == HB_AUTH_CHALLENGE)
        ELOG(&r->env.log, LL_VERBOSE, "heartbeat to %s: authentication requested",
             addr_str(from, ab));
    else if (m.auth == HB_AUTH_FAILED)
        ELOG(&r->env.log, LL_WARN, "heartbeat to %s: authentication failed", addr_str(from, ab));
    else
        ELOG(&r->env.log, LL_DEBUG, "heartbeat to %s: ok", addr_str(from, ab));
}

bool px_keyreq_output(struct receiver *r, struct eng_out *out)
{
    if (!recv_has_px4(r) || r->px4_dh != NULL || r->now < r->keyreq_at || r->shutdown)
        return false;
    r->keyreq_at = r->now + 5000000; /* every 5 s until PROXY_KEY (spec §1.9 item 4) */
    struct wire_key_req k = {.ver = UFTP_VER4};
    ssize_t n = wire_key_req_encode(out->buf + UFTP_HDR_LEN, out->cap - UFTP_HDR_LEN, &k);
    if (n < 0)
        return false;
    struct uftp_hdr h = {.version = UFTP_VER4, .func = KEY_REQ, .src_id = r->cfg.client_id};
    uftp_hdr_encode(out->buf, UFTP_HDR_LEN, &h);
    reply_out(out, &r->cfg.resp_proxy, UFTP_HDR_LEN + (size_t)n);
    char ab[ADDR_STRLEN];
    ELOG(&r->env.log, LL_VERBOSE, "sent KEY_REQ to %s", addr_str(&r->cfg.resp_proxy, ab));
    return true;
}

bool px_hb_output(struct receiver *r, struct eng_out *out)
{
    uint32_t nonce;
    int i;
    while (!r->shutdown && (i = hb_next(&r->hb, r->now, &nonce)) >= 0) {
        struct wire_hb_req m = {.ver = UFTP_VER5, .nonce = nonce};
        uint8_t sig[SIG_MAX];
        if (nonce != 0) {
            const struct crypto_key *k = slot_sigkey(r);
            if (k == NULL)
                continue;
            size_t bl;
            m.keyblob = crypto_key_blob(k, &bl);
            m.keylen = (uint16_t)bl;
            int sl = hbauth_sign(k, nonce, sig, sizeof(sig));
            if (sl < 0) {
                ELOG(&r->env.log, LL_WARN, "cannot sign a heartbeat: %s", crypto_strerror(sl));
                continue;
            }
            m.sig = sig;
            m.siglen = (uint16_t)sl;
        }
        ssize_t n = wire_hb_req_encode(out->buf + UFTP_HDR_LEN, out->cap - UFTP_HDR_LEN, &m);
        if (n < 0)
            continue;
        struct uftp_hdr h = {
            .version = UFTP_VER5, .func = HB_REQ, .seq = r->hb_seq++, .src_id = r->cfg.client_id};
        uftp_hdr_encode(out->buf, UFTP_HDR_LEN, &h);
        reply_out(out, &r->hb.hosts[i].addr, UFTP_HDR_LEN + (size_t)n);
        char ab[ADDR_STRLEN];
        ELOG(&r->env.log, LL_DEBUG, "sending %sHB_REQ to %s", nonce ? "authenticated " : "",
             addr_str(&out->dst, ab));
        return true;
    }
    return false;
}
