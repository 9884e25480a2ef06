#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

/* fs_dir_names: every name but . and .., sorted bytewise, dir closed. */
static void test_dir_names(void)
{
    char tmpl[] = "/tmp/uftp-fsnames-XXXXXX";
    CU_ASSERT_FATAL(mkdtemp(tmpl) != NULL);
    int dfd = open(tmpl, O_RDONLY | O_DIRECTORY);
    CU_ASSERT_FATAL(dfd >= 0);
    const char *make[] = {"b", "a", "B", ".hidden", "z z"};
    for (size_t i = 0; i < 5; i++)
        CU_ASSERT_FATAL(mkdirat(dfd, make[i], 0700) == 0);
    char **v = NULL;
    size_t n = 0;
    CU_ASSERT_EQUAL_FATAL(fs_dir_names(opendir(tmpl), &v, &n), 0);
    CU_ASSERT_EQUAL_FATAL(n, 5);
    const char *want[] = {".hidden", "B", "a", "b", "z z"};
    for (size_t i = 0; i < 5; i++)
        CU_ASSERT_STRING_EQUAL(v[i], want[i]);
    fs_names_free(v, n);
    for (size_t i = 0; i < 5; i++)
        unlinkat(dfd, make[i], AT_REMOVEDIR);
    /* An empty directory: no names, and nothing to free but the vector. */
    v = NULL;
    CU_ASSERT_EQUAL(fs_dir_names(opendir(tmpl), &v, &n), 0);
    CU_ASSERT_EQUAL(n, 0);
    fs_names_free(v, n);
    close(dfd);
    rmdir(tmpl);
}

static const struct cu_test fs_tests[] = {
    {"error texts", test_strerror},
    {"directory names, sorted", test_dir_names},
    {NULL, NULL},
};

CU_MAIN({"fs/fs", fs_tests})
