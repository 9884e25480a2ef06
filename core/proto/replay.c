#include "core/proto/replay.h"

#include <string.h>

#define WORDS (REPLAY_BITS / 64)

void replay_init(struct replay *r)
{
    memset(r, 0, sizeof(*r));
    r->map[0] = 1; /* counter 0 counts as seen */
}

int replay_check(const struct replay *r, uint64_t ctr)
{
    if (ctr > r->top)
        return REPLAY_OK;
    if (r->top - ctr >= REPLAY_WINDOW)
        return REPLAY_EOLD;
    uint64_t bit = UINT64_C(1) << (ctr % 64);
    return (r->map[(ctr / 64) % WORDS] & bit) ? REPLAY_EDUP : REPLAY_OK;
}

int replay_update(struct replay *r, uint64_t ctr)
{
    int rc = replay_check(r, ctr);
    if (rc)
        return rc;
    if (ctr > r->top) {
        /* Clear the words the window slides over; a jump of a whole map or
         * more clears everything, so the cost is bounded by WORDS. */
        uint64_t cur = r->top / 64, next = ctr / 64;
        uint64_t n = next - cur < WORDS ? next - cur : WORDS;
        for (uint64_t i = 1; i <= n; i++)
            r->map[(cur + i) % WORDS] = 0;
        r->top = ctr;
    }
    r->map[(ctr / 64) % WORDS] |= UINT64_C(1) << (ctr % 64);
    return REPLAY_OK;
}
