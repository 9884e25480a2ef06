#include <errno.h>
#include <string.h>

#include "core/fs/fs.h"
#include "cu.h"

static void test_strerror(void)
{
    /* Every FS_E* code has its own text; negated errnos use strerror. */
    static const int codes[] = {
        FS_ENAME_EMPTY,     FS_ENAME_LONG,   FS_ENAME_EMPTYCOMP, FS_ENAME_DOT,     FS_ENAME_DOTDOT,
        FS_ENAME_BACKSLASH, FS_ENAME_CTRL,   FS_ENAME_COMPLONG,  FS_ENAME_DEPTH,   FS_ENAME_ABS,
        FS_ENAME_NOTUNDER,  FS_ENAME_ISDEST, FS_ELINK_EMPTY,     FS_ELINK_LONG,    FS_ELINK_CTRL,
        FS_ELINK_ABS,       FS_ELINK_DOTDOT, FS_ESYMLINK,        FS_EFINALLINK,    FS_ENOTREG,
        FS_EHARDLINK,       FS_EDEPTH,       FS_EWALK_EXCLUDED,  FS_EWALK_SPECIAL, FS_EWALK_NOBASE,
        FS_EWALK_LONG,      FS_EWALK_LOOP,   FS_EWALK_BADNAME,   FS_EWALK_LIST,
    };
    size_t n = sizeof(codes) / sizeof(codes[0]);
    for (size_t i = 0; i < n; i++) {
        CU_ASSERT(codes[i] <= -1000);
        CU_ASSERT_STRING_NOT_EQUAL(fs_strerror(codes[i]), "unknown error");
        for (size_t j = 0; j < i; j++)
            CU_ASSERT_STRING_NOT_EQUAL(fs_strerror(codes[i]), fs_strerror(codes[j]));
    }
    CU_ASSERT_STRING_EQUAL(fs_strerror(FS_ESYMLINK), "symlink in path");
    CU_ASSERT_STRING_EQUAL(fs_strerror(-ENOSPC), strerror(ENOSPC));
    CU_ASSERT_STRING_EQUAL(fs_strerror(0), "success");
    CU_ASSERT_STRING_EQUAL(fs_strerror(-5000), "unknown error");
    CU_ASSERT_STRING_EQUAL(fs_strerror(7), "unknown error");
}

static const struct cu_test fs_tests[] = {
    {"error texts", test_strerror},
    {NULL, NULL},
};

CU_MAIN({"fs/fs", fs_tests})
