/*
 * A thin layer over CUnit so that each test file is a table and a main.
 *
 *   static const struct cu_test buf_tests[] = {
 *       {"reads big-endian", test_read_be}, {NULL, NULL}};
 *   CU_MAIN({"wire/buf", buf_tests})
 */
#ifndef UFTP_TEST_CU_H
#define UFTP_TEST_CU_H

#include <CUnit/CUnit.h>
#include <stddef.h>

struct cu_test {
    const char *name;
    void (*fn)(void);
};

struct cu_suite {
    const char *name;
    const struct cu_test *tests; /* NULL-terminated */
};

/* Runs the suites verbosely; returns 0 when every test passed. */
int cu_run(const struct cu_suite *suites, size_t n);

/* Path of a file under the source tree (UFTP_SRC or the working dir). */
const char *cu_srcpath(const char *rel);

#define CU_MAIN(...)                                                                               \
    int main(void)                                                                                 \
    {                                                                                              \
        static const struct cu_suite suites_[] = {__VA_ARGS__};                                    \
        return cu_run(suites_, sizeof(suites_) / sizeof(suites_[0]));                              \
    }

#endif
