#include "cu.h"

#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>

int cu_run(const struct cu_suite *suites, size_t n)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    for (size_t i = 0; i < n; i++) {
        CU_pSuite s = CU_add_suite(suites[i].name, NULL, NULL);
        if (!s)
            return 2;
        for (const struct cu_test *t = suites[i].tests; t->name; t++)
            if (!CU_add_test(s, t->name, t->fn))
                return 2;
    }
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
    unsigned ran = CU_get_number_of_tests_run();
    CU_cleanup_registry();
    return (failed || ran == 0) ? 1 : 0;
}

const char *cu_srcpath(const char *rel)
{
    static char buf[4096];
    const char *src = getenv("UFTP_SRC");
    snprintf(buf, sizeof(buf), "%s/%s", src ? src : ".", rel);
    return buf;
}
