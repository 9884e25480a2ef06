/*
 * Heartbeats (spec §1.8), both sides: any role answers HB_REQ and sends
 * its own to the -H hosts; a server proxy with -s fp=... learns its
 * downstream from authenticated heartbeats only.
 */
#include "core/crypto/fp.h"
#include "core/crypto/hbauth.h"
#include "core/crypto/keyblob.h"
#include "core/crypto/sig.h"
#include "proxy/engine/proxy_int.h"

#define HB_VERIFY_US 300u /* budget for one heartbeat signature check */

uint32_t p_hb_nonce(struct proxy *p)
{
    uint32_t n = 0;
    while (n == 0)
        if (p->env.rng(p->env.ctx, &n, sizeof(n)) < 0)
            return 0;
    return n;
}

static void hb_answer(struct proxy *p, const struct addr *to, uint8_t auth)
{
    /*
     * Issue 14: at most 3 x what this source sent (HB_REQ and HB_RESP are
     * the same size), and, but for our downstream, AMP_STRAY_PER_S answers
     * a second: a flood from spoofed sources must not fill our send path.
     */
    p->charge = amp_table_get(&p->amps, p_src_key(p, to));
    if (!(addr_is_set(&p->down) && addr_equal(to, &p->down)) &&
        !ratelim_take(&p->strays, 1, p->now)) {
        p->st.amp_held++;
        return;
    }
    uint8_t b[64];
    struct wire_hb_resp m = {.ver = UFTP_VER5, .auth = auth, .nonce = 0};
    if (auth == HB_AUTH_CHALLENGE)
        m.nonce = p->nonce;
    ssize_t n = wire_hb_resp_encode(b + UFTP_HDR_LEN, sizeof(b) - UFTP_HDR_LEN, &m);
    if (n < 0)
        return;
    /* spec §1.4: always version 0x50, group 0. */
    struct uftp_hdr h = {.version = UFTP_VER5, .func = HB_RESP, .src_id = p->cfg.proxy_id};
    uftp_hdr_encode(b, UFTP_HDR_LEN, &h);
    p_send(p, to, b, UFTP_HDR_LEN + (size_t)n);
}

/*
 * HB_REQ. A server proxy with -s fp=... knows its downstream only from
 * heartbeats: the current downstream gets OK; anyone else a CHALLENGE with
 * the current nonce, and an answer with that nonce, a key of the right
 * fingerprint and a valid signature becomes the downstream (a NAT'd peer
 * whose address changed proves itself again). Everyone else answers OK to
 * anyone.
 */
PROXY_HANDLER(p_hb_req_recv)
{
    const struct addr *from = in->from;
    struct wire_hb_req m = {.ver = in->pkt[0]};
    char ab[ADDR_STRLEN];
    if (wire_hb_req_decode(&m, in->pkt + UFTP_HDR_LEN, in->len - UFTP_HDR_LEN) < 0) {
        p_drop(p, from, "malformed HB_REQ");
        return;
    }
    ELOG(&p->env.log, LL_DEBUG, "HB_REQ from %s", addr_str(from, ab));
    if (p->cfg.role != PROXY_SERVER || p->cfg.down_fplen == 0 ||
        (addr_is_set(&p->down) && addr_equal(from, &p->down))) {
        hb_answer(p, from, HB_AUTH_OK);
        return;
    }
    if (m.nonce != p->nonce || m.keylen == 0) {
        hb_answer(p, from, HB_AUTH_CHALLENGE);
        return;
    }
    /* Issue 14 item 3: the fingerprint costs one SHA-1, before any public-key work. */
    if (!fp_match(p->cfg.down_fp, p->cfg.down_fplen, m.keyblob, m.keylen)) {
        p->st.hb_auth_failed++;
        ELOG(&p->env.log, LL_PROTO, "heartbeat from %s: wrong key fingerprint", addr_str(from, ab));
        hb_answer(p, from, HB_AUTH_FAILED);
        return;
    }
    if (!p_pk_budget(p, p_src_key(p, from), 0, HB_VERIFY_US, "heartbeat signature check"))
        return;
    int rc = hbauth_verify(m.keyblob, m.keylen, m.sig, m.siglen, m.nonce, p->cfg.down_fp,
                           p->cfg.down_fplen);
    if (rc != CRYPTO_OK) {
        p->st.hb_auth_failed++;
        ELOG(&p->env.log, LL_WARN, "heartbeat from %s failed authentication: %s",
             addr_str(from, ab), rc == HBAUTH_EFP ? "wrong key fingerprint" : crypto_strerror(rc));
        hb_answer(p, from, HB_AUTH_FAILED);
        return;
    }
    p->st.hb_auth_ok++;
    if (addr_is_set(&p->down)) {
        char ob[ADDR_STRLEN];
        ELOG(&p->env.log, LL_INFO, "downstream moved from %s to %s (authenticated heartbeat)",
             addr_str(&p->down, ob), addr_str(from, ab));
    } else {
        ELOG(&p->env.log, LL_INFO, "using %s as downstream (authenticated heartbeat)",
             addr_str(from, ab));
    }
    p->down = *from;
    /* A fresh nonce: a captured answer cannot be replayed from elsewhere. */
    uint32_t n = p_hb_nonce(p);
    if (n != 0)
        p->nonce = n;
    hb_answer(p, from, HB_AUTH_OK);
}

PROXY_HANDLER(p_hb_resp_recv)
{
    struct wire_hb_resp m = {.ver = in->pkt[0]};
    char ab[ADDR_STRLEN];
    if (wire_hb_resp_decode(&m, in->pkt + UFTP_HDR_LEN, in->len - UFTP_HDR_LEN) < 0) {
        p_drop(p, in->from, "malformed HB_RESP");
        return;
    }
    if (hb_resp(&p->hb, in->from, m.auth, m.nonce, p->now) < 0) {
        p_drop(p, in->from, "HB_RESP from a host we send no heartbeats to");
        return;
    }
    if (m.auth == HB_AUTH_CHALLENGE)
        ELOG(&p->env.log, LL_VERBOSE, "heartbeat to %s: authentication requested",
             addr_str(in->from, ab));
    else if (m.auth == HB_AUTH_FAILED)
        ELOG(&p->env.log, LL_WARN, "heartbeat to %s: authentication failed",
             addr_str(in->from, ab));
    else
        ELOG(&p->env.log, LL_DEBUG, "heartbeat to %s: ok", addr_str(in->from, ab));
}

void p_hb_emit(struct proxy *p)
{
    int i;
    uint32_t nonce;
    while ((i = hb_next(&p->hb, p->now, &nonce)) >= 0) {
        uint8_t b[UFTP_HDR_LEN + 8 + KEYBLOB_MAX + SIG_MAX + 8];
        struct wire_hb_req m = {.ver = UFTP_VER5, .nonce = nonce};
        uint8_t sig[SIG_MAX];
        if (nonce != 0) {
            size_t bl;
            m.keyblob = crypto_key_blob(p->cfg.key, &bl);
            m.keylen = (uint16_t)bl;
            int sl = hbauth_sign(p->cfg.key, nonce, sig, sizeof(sig));
            if (sl < 0) {
                ELOG(&p->env.log, LL_WARN, "cannot sign a heartbeat: %s", crypto_strerror(sl));
                continue;
            }
            m.sig = sig;
            m.siglen = (uint16_t)sl;
        }
        ssize_t n = wire_hb_req_encode(b + UFTP_HDR_LEN, sizeof(b) - UFTP_HDR_LEN, &m);
        if (n < 0)
            continue;
        struct uftp_hdr h = {.version = UFTP_VER5, .func = HB_REQ, .src_id = p->cfg.proxy_id};
        uftp_hdr_encode(b, UFTP_HDR_LEN, &h);
        const struct addr *to = &p->hb.hosts[i].addr;
        char ab[ADDR_STRLEN];
        ELOG(&p->env.log, LL_DEBUG, "sending %sHB_REQ to %s", nonce ? "authenticated " : "",
             addr_str(to, ab));
        p_send(p, to, b, UFTP_HDR_LEN + (size_t)n);
    }
}
