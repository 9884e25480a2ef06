/*
 * Fuzzes the host list parsers (spec §2, §6.9), offline: the first byte
 * picks the format, the second the entry limit; the rest is the file.
 */
#include <stdlib.h>
#include <string.h>

#include "core/conf/hostlist.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct conf_hostlist l;
    char msg[512];
    if (size < 2)
        return 0;
    struct conf_hl_spec spec = {(enum conf_hl_kind)(data[0] % 5), data[1], NULL};
    const char *text = (const char *)data + 2;
    size_t len = size - 2;

    msg[0] = '\0';
    int rc = conf_hostlist_parse(&l, &spec, "fz", text, len, msg, sizeof(msg));
    if (rc == 0) {
        if (l.n > spec.max)
            __builtin_trap();
        for (size_t i = 0; i < l.n; i++)
            if (l.v[i].id == 0 || l.v[i].id == 0xffffffffu || l.v[i].fp_len > CONF_FP_MAX ||
                !l.v[i].name || l.v[i].proxy_id == 0xffffffffu)
                __builtin_trap();
        conf_hostlist_free(&l);
    } else if (strncmp(msg, "fz", 2) != 0 || l.n != 0) {
        __builtin_trap();
    }

    /* The same bytes as an -H id,id,... argument. */
    char *z = malloc(len + 1);
    if (!z)
        return 0;
    memcpy(z, text, len);
    z[len] = '\0';
    spec.kind = CONF_HL_IDS;
    if (conf_hostlist_parse_ids(&l, &spec, z, msg, sizeof(msg)) == 0)
        conf_hostlist_free(&l);
    free(z);
    return 0;
}
