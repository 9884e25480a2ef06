/*
 * ABORT at a client or response proxy (spec §1.4, §3.4): a client's goes
 * upstream with host = the client; the server's ends the session (unless
 * it names only the current file), names one of our clients, or names us
 * (then we tell our clients, who cannot recognise it).
 */

#include "proxy/engine/proxy_int.h"

PROXY_HANDLER(p_abort_from_client)
{
    if (!in->sealed && s->encrypted && keys_peer_has_app(c->k)) {
        /* A client holding keys aborts encrypted (spec §1.4 rules). */
        PLOG(p, s, LL_PROTO, "rejecting cleartext ABORT from %08X", c->id);
        p->st.dropped++;
        return;
    }
    char text[WIRE_ABORT_TEXT_LEN + 1];
    p_clean_text(text, sizeof(text), in->m.u.abort.text);
    PLOG(p, s, LL_WARN, "transfer aborted by client %08X: %s", c->id, text);
    p_client_step(p, s, c, CE_ABORT, NULL);
    p_send_abort_up(p, s, c->id, text);
}

/* in->sealed: the ENCRYPTED datagram went to the clients already (p_fwd_down). */
PROXY_HANDLER(p_abort_from_server)
{
    const struct wire_abort *a = &in->m.u.abort;
    if (!in->sealed) {
        if (s->encrypted && keys_keyed(s->k)) {
            p_drop(p, in->from, "cleartext ABORT once keyed");
            return;
        }
        p_send_forward(p, &s->priv, in->pkt, in->len);
    }
    char text[WIRE_ABORT_TEXT_LEN + 1];
    p_clean_text(text, sizeof(text), a->text);
    if (a->host == 0 || a->host == p->cfg.proxy_id) {
        bool current = (a->flags & FLAG_CURRENT_FILE) != 0;
        PLOG(p, s, LL_WARN, "aborted by the server%s: %s", current ? " (current file)" : "", text);
        /* The server's own ABORT reached the clients (forwarded, or heard
         * directly); one addressed to us they cannot recognise. */
        if (a->host == p->cfg.proxy_id)
            p_send_abort_down(p, s, NULL, a->flags, text);
        if (!current)
            p_session_event(p, s, SE_SERVER_ABORT, NULL);
        return;
    }
    struct pclient *cl = p_client_of(s, a->host);
    if (cl != NULL) {
        PLOG(p, s, LL_VERBOSE, "server aborted client %08X: %s", cl->id, text);
        p_client_step(p, s, cl, CE_ABORT, NULL);
    }
}
