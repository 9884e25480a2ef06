#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/fs/fs.h"
#include "cu.h"

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
    {"directory names, sorted", test_dir_names},
    {NULL, NULL},
};

CU_MAIN({"fs/fs", fs_tests})
