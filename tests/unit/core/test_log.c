/*
 * core/log.c: the daemons' log file (spec §2.2 -L, -g, -n; issue 7):
 * created 0640 without following a symlink, rolled to NAME.1 .. NAME.keep
 * past the size limit, reopened at its path after an outside rotation
 * (SIGHUP), and status lines mixed in raw (@LOG).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"
#include "cu.h"

static char dir[64];

static const char *path(const char *name)
{
    static char buf[4][128];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof(buf[k]), "%s/%s", dir, name);
    return buf[k];
}

static long size_of(const char *p)
{
    struct stat sb;
    return stat(p, &sb) == 0 ? (long)sb.st_size : -1;
}

static size_t count_in(const char *p, const char *needle)
{
    FILE *f = fopen(p, "r");
    if (f == NULL)
        return 0;
    char line[512];
    size_t n = 0;
    while (fgets(line, sizeof(line), f) != NULL)
        n += strstr(line, needle) != NULL;
    fclose(f);
    return n;
}

static void setup(void)
{
    snprintf(dir, sizeof(dir), "/tmp/uftp-log.XXXXXX");
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
    log_init("test", LL_INFO);
}

static void teardown(void)
{
    log_close();
    const char *names[] = {"d.log", "d.log.1", "d.log.2", "d.log.3", "link", "moved", NULL};
    for (int i = 0; names[i]; i++)
        unlink(path(names[i]));
    rmdir(dir);
}

/* -g / -n: past the limit the file moves to .1, .1 to .2, and nothing beyond keep is made. */
static void test_roll(void)
{
    setup();
    mode_t old = umask(022);
    CU_ASSERT_EQUAL_FATAL(log_open_file(path("d.log"), 1000, 2), 0);
    umask(old);
    CU_ASSERT_EQUAL(log_get_sink(), LOG_SINK_FILE);
    struct stat sb;
    CU_ASSERT_EQUAL(stat(path("d.log"), &sb), 0);
    CU_ASSERT_EQUAL(sb.st_mode & 0777, 0640);
    for (int i = 0; i < 100; i++)
        log_info("line %03d of some length to fill the file quickly", i);
    CU_ASSERT(size_of(path("d.log")) >= 0 && size_of(path("d.log")) < 1000);
    CU_ASSERT(size_of(path("d.log.1")) >= 1000);
    CU_ASSERT(size_of(path("d.log.2")) >= 1000);
    CU_ASSERT_EQUAL(size_of(path("d.log.3")), -1);
    /* The newest lines are in the current file, the last rolled one just before. */
    CU_ASSERT_EQUAL(count_in(path("d.log"), "line 099"), 1);
    CU_ASSERT_EQUAL(count_in(path("d.log.1"), "line 099"), 0);
    teardown();
}

/* logrotate moves the file away; log_reopen() (SIGHUP) starts a new one at the path. */
static void test_reopen(void)
{
    setup();
    CU_ASSERT_EQUAL_FATAL(log_open_file(path("d.log"), 0, 5), 0);
    log_info("before");
    CU_ASSERT_EQUAL(rename(path("d.log"), path("moved")), 0);
    log_info("still to the moved file");
    CU_ASSERT_EQUAL(log_reopen(), 0);
    log_info("after");
    log_raw("RESULT;raw status line");
    CU_ASSERT_EQUAL(count_in(path("moved"), "before"), 1);
    CU_ASSERT_EQUAL(count_in(path("moved"), "still"), 1);
    CU_ASSERT_EQUAL(count_in(path("d.log"), "after"), 1);
    CU_ASSERT_EQUAL(count_in(path("d.log"), "before"), 0);
    /* Raw lines carry no prefix or timestamp. */
    FILE *f = fopen(path("d.log"), "r");
    char line[256] = "", last[256] = "";
    while (f && fgets(line, sizeof(line), f))
        memcpy(last, line, sizeof(last));
    if (f)
        fclose(f);
    CU_ASSERT_STRING_EQUAL(last, "RESULT;raw status line\n");
    teardown();
}

/* A symlink at the log path is never followed (spec §6.13: the reference's /tmp log). */
static void test_no_symlink(void)
{
    setup();
    CU_ASSERT_EQUAL_FATAL(symlink(path("moved"), path("link")), 0);
    CU_ASSERT_EQUAL(log_open_file(path("link"), 0, 5), -ELOOP);
    CU_ASSERT_EQUAL(log_get_sink(), LOG_SINK_STDERR);
    CU_ASSERT_EQUAL(size_of(path("moved")), -1);
    teardown();
}

static const struct cu_test log_tests[] = {
    {"-g/-n: rolls and keeps N", test_roll},
    {"reopen after an outside rotation", test_reopen},
    {"no symlink followed", test_no_symlink},
    {NULL, NULL},
};

CU_MAIN({"core/log", log_tests})
