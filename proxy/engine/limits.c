/*
 * What the proxy refuses and drops, and how often it says so: bad
 * datagrams (LL_PROTO), limits of spec §4 (once a minute), refused
 * sessions and clients (once every 10 s), and the budget for public-key
 * work (spec §6.16, issue 14: core/proto/keywork.h).
 */
#include <stdarg.h>
#include <stdio.h>

#include "proxy/engine/proxy_int.h"

#define LIMIT_LOG_US  60000000u /* limit refusals: one log line a minute */
#define REFUSE_LOG_US 10000000u
#define BUDGET_LOG_US 10000000u

void p_drop(struct proxy *p, const struct addr *from, const char *why)
{
    char ab[ADDR_STRLEN];
    p->st.dropped++;
    ELOG(&p->env.log, LL_PROTO, "dropped datagram from %s: %s", addr_str(from, ab), why);
}

void p_limit(struct proxy *p, const char *fmt, ...)
{
    p->st.refused++;
    if (p->limit_logged_at != 0 && p->now < p->limit_logged_at + LIMIT_LOG_US)
        return;
    p->limit_logged_at = p->now ? p->now : 1;
    va_list ap;
    va_start(ap, fmt);
    char msg[256];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    ELOG(&p->env.log, LL_WARN,
         "limit reached: %s (further refusals are counted, not logged, for a minute)", msg);
}

void p_refuse(struct proxy *p, const char *fmt, ...)
{
    p->st.dropped++;
    int level = LL_WARN;
    if (p->refuse_logged_at != 0 && p->now < p->refuse_logged_at + REFUSE_LOG_US)
        level = LL_PROTO;
    else
        p->refuse_logged_at = p->now ? p->now : 1;
    if (!elog_enabled(&p->env.log, level))
        return;
    va_list ap;
    va_start(ap, fmt);
    elog_vmsg(&p->env.log, level, fmt, ap);
    va_end(ap);
}

bool p_pk_budget(struct proxy *p, uint64_t src, unsigned rank, uint64_t cost_us, const char *what)
{
    if (keywork_take(&p->pk, src, rank, cost_us, p->now)) {
        p->st.pk_done++;
        return true;
    }
    p->st.refused++;
    p->st.pk_limited++;
    if (p->pk_logged_at == 0 || p->now >= p->pk_logged_at + BUDGET_LOG_US) {
        p->pk_logged_at = p->now ? p->now : 1;
        ELOG(&p->env.log, LL_WARN,
             "public-key work budget exhausted (%u us/s, half kept for servers listed in -S "
             "at their address): %s refused (%llu so far)",
             (unsigned)p->cfg.pk_budget_us, what, (unsigned long long)p->pk.refused);
    }
    return false;
}
