/*
 * Fuzzes received-name validation (spec §6.1): whatever is accepted must be
 * a clean relative path beneath a dest dir, with no '..', '.', empty or
 * control-character components.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/base/file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const dests[] = {"/dest", "/dest2/sub", "/"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct file_name out;
    char msg[256];
    unsigned flags = size ? data[0] & 3 : 0;
    size_t ndest = size > 1 ? data[1] % 4 : 0;
    const char *name = size > 2 ? (const char *)data + 2 : "";
    size_t len = size > 2 ? size - 2 : 0;

    int rc = file_name_check(&out, name, len, dests, ndest, flags, msg, sizeof(msg));
    if (rc == 0) {
        size_t n = strlen(out.rel);
        if (n == 0 || n > len || n > FILE_WIRE_NAME_MAX || file_rel_check(out.rel) != 0 ||
            out.dest >= (ndest ? ndest : 1) || strchr(out.rel, '\\'))
            __builtin_trap();
    } else if (rc > -1000 || strlen(msg) == 0) {
        __builtin_trap();
    }
    (void)file_link_check(name, len, flags);
    char *z = malloc(len + 1);
    if (z) {
        memcpy(z, name, len);
        z[len] = '\0';
        (void)file_rel_check(z);
        file_name_escape(msg, (size + 1) % sizeof(msg), z, len);
        free(z);
    }
    return 0;
}
