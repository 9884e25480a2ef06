/*
 * ABORT from a receiver (spec §1.4), in any phase: it leaves the session,
 * a proxy with its clients; a proxy may relay one of its clients' (host).
 * With -q everyone else is aborted too.
 */
#include "sender/engine/sender_int.h"

#include <stdio.h>
#include <string.h>

SENDER_HANDLER(abort_recv)
{
    const struct wire_abort *a = &m->u.abort;
    uint32_t src = h->src_id;
    char text[WIRE_ABORT_TEXT_LEN + 8];
    file_name_escape(text, sizeof(text), a->text, strlen(a->text)); /* network text */
    if (d != NULL && a->host != 0) {
        /* A proxy relaying its client's abort (spec §3.4). */
        src = a->host;
        d = dest_of(s, a->host);
    }
    if (d == NULL) {
        SLOG(s, LL_WARN, "transfer aborted by %08X: %s", src, text);
        return;
    }
    SLOG(s, LL_WARN, "transfer aborted by %s %08X: %s", d->isproxy ? "proxy" : "client", d->id,
         text);
    char why[WIRE_ABORT_TEXT_LEN + 48];
    snprintf(why, sizeof(why), "aborted by the %s: %s", d->isproxy ? "proxy" : "receiver", text);
    const char *was = s->why;
    s->why = why;
    client_lose(s, d, CE_ABORT);
    s->why = was;
    if (s->cfg.quit_on_error)
        client_abort_all(s, "A client aborted, aborting all", 0, M_ACTIVE | 1u << D_REGISTERED);
    session_event(s, SE_LEFT, NULL);
}
