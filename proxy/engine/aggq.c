/*
 * The answers of a session's clients waiting to go upstream as aggregates
 * (spec §3.4, core/proto/agg.h). What each kind becomes upstream is its
 * family's business: engine.c hands their flushers down (p->flushers).
 */
#include "proxy/engine/proxy_int.h"

static void flush_slot(struct proxy *p, struct psession *s, int i)
{
    const struct agg_slot *sl = &s->agg.slots[i];
    agg_flusher *f = sl->func < p->nflushers ? p->flushers[sl->func] : NULL;
    size_t n = f != NULL ? f(p, s, sl) : 0;
    if (n > 0) {
        p->st.aggregated_out++;
        PLOG(p, s, LL_VERBOSE, "sent %s upstream for %zu client%s (%zu answers)",
             wire_func_name(sl->func), n, n == 1 ? "" : "s", sl->adds);
    }
    agg_clear(&s->agg, i);
}

void p_aggq_flush(struct proxy *p, struct psession *s, bool force)
{
    int i;
    while ((i = agg_due(&s->agg, p->now, force)) >= 0)
        flush_slot(p, s, i);
}

int p_aggq_add(struct proxy *p, struct psession *s, const struct agg_msg *am, uint32_t id)
{
    int rc = agg_add(&s->agg, am, id, p->now);
    if (rc == AGG_EFULL) {
        /* spec §3.4: no slot matches and none is free: flush them all. */
        if (!s->limit_logged) {
            s->limit_logged = true;
            PLOG(p, s, LL_WARN,
                 "limit reached: %u pending aggregates; flushing them all early (logged once "
                 "per session)",
                 s->agg.nslots);
        }
        p_aggq_flush(p, s, true);
        rc = agg_add(&s->agg, am, id, p->now);
    }
    if (rc < 0) {
        PLOG(p, s, LL_WARN, "cannot aggregate %s from %08X: %s", wire_func_name(am->func), id,
             agg_strerror(rc));
        return rc;
    }
    p->st.aggregated_in++;
    p->dirty = true;
    return rc;
}
