/*
 * Runs a fuzz target on the files named on its command line, once each,
 * without libFuzzer: the seed corpora as ctest smoke runs in every build
 * (and under ASan/UBSan in the sanitizer build). Exit 0, or a crash.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        FILE *f = fopen(argv[i], "rb");
        if (f == NULL || fseek(f, 0, SEEK_END) != 0) {
            perror(argv[i]);
            return 2;
        }
        long n = ftell(f);
        uint8_t *b = malloc(n > 0 ? (size_t)n : 1);
        rewind(f);
        if (b == NULL || n < 0 || fread(b, 1, (size_t)n, f) != (size_t)n) {
            perror(argv[i]);
            return 2;
        }
        fclose(f);
        LLVMFuzzerTestOneInput(b, (size_t)n);
        free(b);
    }
    printf("%d inputs\n", argc - 1);
    return 0;
}
