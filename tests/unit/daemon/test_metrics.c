#include <errno.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/daemon/metrics.h"
#include "cu.h"

static char dir[64];

static void mkdir_tmp(void)
{
    snprintf(dir, sizeof(dir), "/tmp/uftp-metrics-XXXXXX");
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
}

static size_t entries(void)
{
    DIR *d = opendir(dir);
    size_t n = 0;
    struct dirent *e;
    while (d != NULL && (e = readdir(d)) != NULL)
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    if (d != NULL)
        closedir(d);
    return n;
}

static char *slurp(const char *path)
{
    static char buf[65536];
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return NULL;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    return buf;
}

/* The exposition format: HELP and TYPE once per family, then its samples. */
static void test_format(void)
{
    struct metrics_buf b;
    metrics_init(&b);
    metrics_family(&b, "x_total", "counter", "Things.");
    metrics_u64(&b, "x_total", NULL, 3);
    metrics_u64(&b, "x_total", "", 4);
    metrics_u64(&b, "x_total", "reason=\"a\"", 18446744073709551615ULL);
    metrics_counter(&b, "y_total", "One.", 5);
    const struct metrics_row rows[] = {{"a", 1}, {"b", 2}};
    metrics_counters(&b, "z_total", "Split.", "why", rows, 2);
    CU_ASSERT_FALSE(b.oom);
    CU_ASSERT_STRING_EQUAL(b.p, "# HELP x_total Things.\n# TYPE x_total counter\n"
                                "x_total 3\nx_total 4\n"
                                "x_total{reason=\"a\"} 18446744073709551615\n"
                                "# HELP y_total One.\n# TYPE y_total counter\ny_total 5\n"
                                "# HELP z_total Split.\n# TYPE z_total counter\n"
                                "z_total{why=\"a\"} 1\nz_total{why=\"b\"} 2\n");
    metrics_reset(&b);
    CU_ASSERT_EQUAL(b.len, 0);
    /* Past the first allocation: the buffer grows. */
    for (int i = 0; i < 2000; i++)
        metrics_u64(&b, "a_rather_long_metric_name_total", "reason=\"something\"", (uint64_t)i);
    CU_ASSERT_FALSE(b.oom);
    CU_ASSERT(b.len > 4096);
    CU_ASSERT_PTR_NOT_NULL(
        strstr(b.p, "a_rather_long_metric_name_total{reason=\"something\"} 1999\n"));
    metrics_free(&b);
}

/* Replaced by rename: the old content or the new, never a mix, no temp file left. */
static void test_write(void)
{
    mkdir_tmp();
    char path[128];
    snprintf(path, sizeof(path), "%s/uftpd.prom", dir);
    struct metrics_buf b;
    metrics_init(&b);
    metrics_family(&b, "a_total", "counter", "A.");
    metrics_u64(&b, "a_total", NULL, 1);
    CU_ASSERT_EQUAL(metrics_write(&b, path), 0);
    CU_ASSERT_STRING_EQUAL(slurp(path), "# HELP a_total A.\n# TYPE a_total counter\na_total 1\n");
    struct stat st1, st2;
    CU_ASSERT_EQUAL(stat(path, &st1), 0);
    CU_ASSERT_EQUAL(st1.st_mode & 0777, 0644);
    metrics_reset(&b);
    metrics_family(&b, "a_total", "counter", "A.");
    metrics_u64(&b, "a_total", NULL, 2);
    CU_ASSERT_EQUAL(metrics_write(&b, path), 0);
    CU_ASSERT_EQUAL(stat(path, &st2), 0);
    CU_ASSERT_NOT_EQUAL(st1.st_ino, st2.st_ino); /* a new file, renamed over */
    CU_ASSERT_PTR_NOT_NULL(strstr(slurp(path), "a_total 2\n"));
    CU_ASSERT_EQUAL(entries(), 1);
    /* A buffer that lost an append is refused; the file stays. */
    b.oom = true;
    CU_ASSERT_EQUAL(metrics_write(&b, path), -ENOMEM);
    CU_ASSERT_PTR_NOT_NULL(strstr(slurp(path), "a_total 2\n"));
    /* A missing directory: an error, nothing created. */
    b.oom = false;
    char bad[160];
    snprintf(bad, sizeof(bad), "%s/none/x.prom", dir);
    CU_ASSERT_EQUAL(metrics_write(&b, bad), -ENOENT);
    CU_ASSERT_EQUAL(entries(), 1);
    metrics_free(&b);
    unlink(path);
    rmdir(dir);
}

static void test_path_check(void)
{
    CU_ASSERT_EQUAL(metrics_path_check(NULL), -EINVAL);
    CU_ASSERT_EQUAL(metrics_path_check("rel.prom"), -EINVAL);
    CU_ASSERT_EQUAL(metrics_path_check("/tmp/"), -EINVAL);
    CU_ASSERT_EQUAL(metrics_path_check("/tmp/x.prom"), 0);
    CU_ASSERT_EQUAL(metrics_path_check("/nonexistent-dir-uftp/x.prom"), -ENOENT);
    CU_ASSERT_EQUAL(metrics_path_check("/etc/passwd/x.prom"), -ENOTDIR);
}

static const struct cu_test metrics_tests[] = {
    {"exposition format", test_format},
    {"atomic write", test_write},
    {"path check", test_path_check},
    {NULL, NULL},
};

CU_MAIN({"daemon/metrics", metrics_tests})
