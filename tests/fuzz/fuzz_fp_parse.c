/* Fuzzes the fingerprint parser (spec §1.3): what parses must re-format and re-parse identically.
 */
#include <stdlib.h>
#include <string.h>

#include "core/crypto/crypto.h"
#include "core/crypto/fp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1024)
        return 0;
    char s[1025];
    memcpy(s, data, size);
    s[size] = '\0';
    uint8_t fp[FP_PARSE_MAX], fp2[FP_PARSE_MAX];
    size_t n, n2;
    if (fp_parse(s, fp, &n) != CRYPTO_OK) {
        if (n != 0)
            __builtin_trap();
        return 0;
    }
    char out[FP_PARSE_MAX * 3];
    if (n < 1 || n > FP_PARSE_MAX || fp_format(fp, n, out, sizeof(out)) != (int)(3 * n - 1))
        __builtin_trap();
    if (fp_parse(out, fp2, &n2) != CRYPTO_OK || n2 != n || memcmp(fp, fp2, n) != 0)
        __builtin_trap();
    (void)fp_match(fp, n, data, size);
    return 0;
}
