/*
 * Completion at a client or response proxy (spec §3.4): the clients'
 * COMPLETE, merged by file, status and free space (core/proto/agg.h); the
 * session's is the end of a client (DONE), and once every client is done
 * or out, of the session. The aggregates go upstream sealed under our key
 * in an encrypted session.
 */
#include <string.h>

#include "proxy/engine/proxy_int.h"

PROXY_HANDLER(p_complete_recv)
{
    const struct wire_complete *cm = &in->m.u.complete;
    if (c->state == PC_ABORTED)
        return;
    if (cm->ids.n > 0) {
        p_drop(p, in->from,
               "client list in a client's answer: proxies behind proxies are not supported");
        return;
    }
    struct agg_msg am = {.func = COMPLETE,
                         .file_id = cm->file_id,
                         .status = cm->status,
                         .has_freespace = cm->has_freespace,
                         .freespace = cm->freespace};
    if (cm->file_id == 0) {
        p_client_step(p, s, c, CE_COMPLETE, NULL);
        p_session_event(p, s, SE_CLIENT_DONE, NULL);
    }
    p_aggq_add(p, s, &am, c->id);
}

size_t p_complete_flush(struct proxy *p, struct psession *s, const struct agg_slot *sl)
{
    struct wire_msg m;
    memset(&m, 0, sizeof(m));
    m.func = COMPLETE;
    m.u.complete.ver = s->version;
    m.u.complete.file_id = sl->file_id;
    m.u.complete.status = sl->status;
    m.u.complete.has_freespace = sl->has_freespace;
    m.u.complete.freespace = sl->freespace;
    m.u.complete.ids = wire_ids_of(sl->ids, sl->nids);
    return p_send_up(p, s, &m, UP_APP) ? sl->nids : 0;
}
