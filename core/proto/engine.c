/*
 * Helpers for struct eng_out (core/proto/engine.h).
 */
#include "core/proto/engine.h"

#include <string.h>

const char *eng_strerror(int err)
{
    switch (err) {
    case ENG_OK:
        return "success";
    case ENG_EINVAL:
        return "invalid argument or configuration";
    case ENG_ENOMEM:
        return "out of memory";
    case ENG_ENOSPC:
        return "output buffer too small";
    case ENG_ERNG:
        return "random number generator failed";
    default:
        return "unknown engine error";
    }
}

void eng_out_reset(struct eng_out *out)
{
    out->kind = ENG_NONE;
    addr_clear(&out->dst);
    out->len = 0;
    out->seglen = 0;
    out->nseg = 0;
    addr_clear(&out->group);
    addr_clear(&out->source);
    out->ifindex = 0;
    out->exit_code = 0;
}

int eng_out_check(const struct eng_out *out)
{
    if (out->buf == NULL || out->cap < ENG_MIN_BUF || out->max_seg == 0)
        return ENG_ENOSPC;
    return ENG_OK;
}
