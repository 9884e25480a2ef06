#include "core/proto/fresh.h"

#include <string.h>

void fresh_init(struct fresh *f, uint64_t window_us)
{
    memset(f, 0, sizeof(*f));
    f->window_us = window_us;
}

int fresh_check(const struct fresh *f, uint32_t server_id, uint32_t group_id, uint8_t inst,
                uint64_t tstamp_us, uint64_t wall_us)
{
    if (f->window_us == 0)
        return FRESH_OK;
    uint64_t skew = tstamp_us > wall_us ? tstamp_us - wall_us : wall_us - tstamp_us;
    if (skew > f->window_us)
        return FRESH_ESTALE;
    for (size_t i = 0; i < FRESH_MEMORY; i++)
        if (f->e[i].until_us > wall_us && f->e[i].server_id == server_id &&
            f->e[i].group_id == group_id && f->e[i].inst == inst)
            return FRESH_EREPLAY;
    return FRESH_OK;
}

void fresh_note(struct fresh *f, uint32_t server_id, uint32_t group_id, uint8_t inst,
                uint64_t tstamp_us, uint64_t wall_us)
{
    if (f->window_us == 0)
        return;
    /* Moot once the ANNOUNCE itself would be refused as stale (either clock's view). */
    uint64_t t = tstamp_us > wall_us ? tstamp_us : wall_us;
    uint64_t until = t + f->window_us;
    size_t k = 0;
    for (size_t i = 0; i < FRESH_MEMORY; i++) {
        if (f->e[i].until_us <= wall_us) {
            k = i; /* empty or expired */
            break;
        }
        if (f->e[i].until_us < f->e[k].until_us)
            k = i;
    }
    f->e[k].server_id = server_id;
    f->e[k].group_id = group_id;
    f->e[k].inst = inst;
    f->e[k].until_us = until;
}

const char *fresh_strerror(int err)
{
    switch (err) {
    case FRESH_OK:
        return "ok";
    case FRESH_ESTALE:
        return "timestamp outside the announce window (a replay, or clocks apart)";
    case FRESH_EREPLAY:
        return "this session was already announced (a replay)";
    default:
        return "?";
    }
}
