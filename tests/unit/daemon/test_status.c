#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/daemon/status.h"
#include "core/log.h"
#include "cu.h"

static char line[STATUS_LINE_MAX];

/* Formats with f(...) and compares the whole line, its length included. */
#define EXPECT_LINE(call, want)                                                                    \
    do {                                                                                           \
        int n_ = (call);                                                                           \
        CU_ASSERT_EQUAL(n_, (int)strlen(want));                                                    \
        CU_ASSERT_STRING_EQUAL(line, want);                                                        \
    } while (0)

static void test_sender_lines(void)
{
    /* The 5.0.1 server's words and units (spec §2.1, §7.11). */
    EXPECT_LINE(status_snd_connect(line, sizeof(line), true, "0x0A000001"),
                "CONNECT;success;0x0A000001\n");
    EXPECT_LINE(status_snd_connect(line, sizeof(line), false, "host-b"), "CONNECT;failed;host-b\n");
    EXPECT_LINE(status_snd_result(line, sizeof(line), "0x0A000001", "dir/file.bin", 1048575,
                                  STATUS_SND_COPY, 1234.5678),
                "RESULT;0x0A000001;dir/file.bin;1023KB;copy;1234.57KB/s\n");
    EXPECT_LINE(status_snd_result(line, sizeof(line), "c", "f", 2048, STATUS_SND_OVERWRITTEN, 0),
                "RESULT;c;f;2KB;overwritten;0.00KB/s\n");
    EXPECT_LINE(status_snd_result(line, sizeof(line), "c", "f", 0, STATUS_SND_SKIPPED, 99),
                "RESULT;c;f;0KB;skipped;\n");
    EXPECT_LINE(status_snd_result(line, sizeof(line), "c", "f", 0, STATUS_SND_REJECTED, 99),
                "RESULT;c;f;0KB;rejected;\n");
    EXPECT_LINE(status_snd_result(line, sizeof(line), "c", "f", 5000, STATUS_SND_MUTE, 0),
                "RESULT;c;f;4KB;mute;\n");
    EXPECT_LINE(status_snd_result(line, sizeof(line), "c", "f", 0, STATUS_SND_LOST, 0),
                "RESULT;c;f;0KB;lost;\n");
    EXPECT_LINE(status_snd_result(line, sizeof(line), "c", "f", 0, STATUS_SND_ABORTED, 0),
                "RESULT;c;f;0KB;aborted;\n");
    EXPECT_LINE(status_snd_result(line, sizeof(line), "c", "f", 0, (enum status_snd_res)42, 0),
                "RESULT;c;f;0KB;Unknown;\n");
    EXPECT_LINE(status_snd_freespace(line, sizeof(line), "big.iso", 123456789012LL),
                "FREESPACE;big.iso;123456789012\n");
    EXPECT_LINE(status_snd_freespace(line, sizeof(line), "x", -1), "FREESPACE;x;-1\n");
    EXPECT_LINE(status_snd_hstats(line, sizeof(line)),
                "HSTATS;target;copy;overwrite;skip;totalMB;time;speedKB/s\n");
    /* MB rounded down; time %.3f; speed %.2f. */
    EXPECT_LINE(status_snd_stats(line, sizeof(line), "0x0A000002", 3, 1, 2, 3 * 1048576 - 1, 2.5,
                                 status_kbps(3 * 1048576 - 1, 2.5)),
                "STATS;0x0A000002;3;1;2;2MB;2.500;1228.80KB/s\n");
    EXPECT_LINE(status_snd_stats(line, sizeof(line), "c", 0, 0, 0, UINT64_MAX, 0.0005, 0),
                "STATS;c;0;0;0;17592186044415MB;0.001;0.00KB/s\n");
}

static void test_receiver_lines(void)
{
    struct tm t = {
        .tm_year = 2024 - 1900, .tm_mon = 0, .tm_mday = 2, .tm_hour = 3, .tm_min = 4, .tm_sec = 5};
    EXPECT_LINE(status_rcv_connect(line, sizeof(line), &t, 0xC0A80101, 0x1234ABCD, "192.168.1.1",
                                   "sender.example"),
                "CONNECT;2024/01/02-03:04:05;C0A80101;1234ABCD;192.168.1.1;sender.example\n");
    EXPECT_LINE(status_rcv_connect(line, sizeof(line), &t, 1, 2, "fe80::1", "fe80::1"),
                "CONNECT;2024/01/02-03:04:05;00000001;00000002;fe80::1;fe80::1\n");
    static const char *const words[] = {"copied", "skipped", "overwritten", "rejected", "unknown"};
    for (int c = 0; c < 5; c++) {
        char want[256];
        snprintf(want, sizeof(want),
                 "RESULT;2024/01/02-03:04:05;0A000001;DEADBEEF;a/b.txt;1KB;%s\n", words[c]);
        EXPECT_LINE(status_rcv_result(line, sizeof(line), &t, 0x0A000001, 0xDEADBEEF, "a/b.txt",
                                      1024 + 1023, c),
                    want);
    }
    EXPECT_LINE(status_rcv_result(line, sizeof(line), &t, 0, 0, "x", 0, -1),
                "RESULT;2024/01/02-03:04:05;00000000;00000000;x;0KB;unknown\n");
}

/* Lines the 5.0.1 binaries wrote for one 3000000-byte file over loopback (uftp -S, uftpd -F). */
static void test_reference_lines(void)
{
    EXPECT_LINE(status_snd_connect(line, sizeof(line), true, "0xC0000202"),
                "CONNECT;success;0xC0000202\n");
    EXPECT_LINE(status_snd_result(line, sizeof(line), "0xC0000202", "f.bin", 3000000,
                                  STATUS_SND_COPY, 11959.13),
                "RESULT;0xC0000202;f.bin;2929KB;copy;11959.13KB/s\n");
    EXPECT_LINE(status_snd_hstats(line, sizeof(line)),
                "HSTATS;target;copy;overwrite;skip;totalMB;time;speedKB/s\n");
    EXPECT_LINE(
        status_snd_stats(line, sizeof(line), "0xC0000202", 1, 0, 0, 3000000, 0.245, 11959.13),
        "STATS;0xC0000202;1;0;0;2MB;0.245;11959.13KB/s\n");
    struct tm t1 = {
        .tm_year = 126, .tm_mon = 10, .tm_mday = 23, .tm_hour = 22, .tm_min = 15, .tm_sec = 21};
    struct tm t2 = t1;
    t2.tm_sec = 23;
    EXPECT_LINE(status_rcv_connect(line, sizeof(line), &t1, 0xC0000202, 0x0AB2F7E4, "127.0.0.1",
                                   "localhost"),
                "CONNECT;2026/11/23-22:15:21;C0000202;0AB2F7E4;127.0.0.1;localhost\n");
    EXPECT_LINE(
        status_rcv_result(line, sizeof(line), &t2, 0xC0000202, 0x0AB2F7E4, "f.bin", 3000000, 0),
        "RESULT;2026/11/23-22:15:23;C0000202;0AB2F7E4;f.bin;2929KB;copied\n");
}

static void test_escaping(void)
{
    /* A name cannot add a field or forge a line (the reference prints it raw). */
    EXPECT_LINE(status_snd_result(line, sizeof(line), "c", "a;b\nRESULT;x\\y\x7f", 0,
                                  STATUS_SND_SKIPPED, 0),
                "RESULT;c;a\\x3Bb\\x0ARESULT\\x3Bx\\x5Cy\\x7F;0KB;skipped;\n");
    /* UTF-8 passes unchanged. */
    EXPECT_LINE(status_snd_connect(line, sizeof(line), true, "h\xc3\xa9t\xc3\xa9"),
                "CONNECT;success;h\xc3\xa9t\xc3\xa9\n");
    struct tm t = {.tm_year = 100, .tm_mday = 1};
    EXPECT_LINE(status_rcv_connect(line, sizeof(line), &t, 1, 2, "1.2.3.4", "evil;\r"),
                "CONNECT;2000/01/01-00:00:00;00000001;00000002;1.2.3.4;evil\\x3B\\x0D\n");
    char nm[11];
    status_client_name(nm, 0x0A0B0C0D);
    CU_ASSERT_STRING_EQUAL(nm, "0x0A0B0C0D");
    CU_ASSERT_DOUBLE_EQUAL(status_kbps(2048, 2.0), 1.0, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(status_kbps(2048, 0.0), 0.0, 0);
    CU_ASSERT_DOUBLE_EQUAL(status_kbps(2048, -1.0), 0.0, 0);
}

static void test_bounds(void)
{
    /* Exactly enough room (line + NUL) works; one byte less fails with an empty buffer. */
    char small[32];
    const char *want = "CONNECT;success;abc\n";
    size_t need = strlen(want) + 1;
    CU_ASSERT_EQUAL(status_snd_connect(small, need, true, "abc"), (int)strlen(want));
    CU_ASSERT_STRING_EQUAL(small, want);
    CU_ASSERT_EQUAL(status_snd_connect(small, need - 1, true, "abc"), -ENOSPC);
    CU_ASSERT_STRING_EQUAL(small, "");
    CU_ASSERT_EQUAL(status_snd_hstats(small, sizeof(small)), -ENOSPC);
    CU_ASSERT_EQUAL(status_snd_hstats(NULL, 0), -ENOSPC);
    /* A 300-byte name of control bytes, escaped 4x, still fits STATUS_LINE_MAX. */
    char name[301];
    memset(name, '\x01', 300);
    name[300] = '\0';
    struct tm t = {.tm_year = 100, .tm_mday = 1};
    int n = status_rcv_result(line, sizeof(line), &t, 1, 2, name, 0, 0);
    CU_ASSERT_EQUAL(n, (int)strlen("RESULT;2000/01/01-00:00:00;00000001;00000002;") + 1200 +
                           (int)strlen(";0KB;copied\n"));
}

static char dir[] = "/tmp/uftp-status-XXXXXX";

static void path_in(char *buf, size_t len, const char *name)
{
    snprintf(buf, len, "%s/%s", dir, name);
}

static char *slurp(const char *path)
{
    static char buf[8192];
    buf[0] = '\0';
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return buf;
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    buf[n > 0 ? n : 0] = '\0';
    close(fd);
    return buf;
}

static void test_sink_file(void)
{
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
    char p[PATH_MAX], q[PATH_MAX];
    path_in(p, sizeof(p), "status");
    mode_t old = umask(0);
    struct status_sink *s;
    CU_ASSERT_EQUAL_FATAL(status_sink_open(p, &s), 0);
    struct stat st;
    CU_ASSERT_EQUAL(stat(p, &st), 0);
    CU_ASSERT_EQUAL(st.st_mode & 07777, 0640);
    umask(old);
    int n = status_snd_connect(line, sizeof(line), true, "a");
    CU_ASSERT_EQUAL(status_sink_write(s, line, (size_t)n), 0);
    n = status_snd_connect(line, sizeof(line), false, "b");
    CU_ASSERT_EQUAL(status_sink_write(s, line, (size_t)n), 0);
    CU_ASSERT_STRING_EQUAL(slurp(p), "CONNECT;success;a\nCONNECT;failed;b\n");
    /* Rotated away: reopen starts a new file at the path. */
    path_in(q, sizeof(q), "status.1");
    CU_ASSERT_EQUAL(rename(p, q), 0);
    CU_ASSERT_EQUAL(status_sink_reopen(s), 0);
    CU_ASSERT_EQUAL(status_sink_write(s, "X\n", 2), 0);
    CU_ASSERT_STRING_EQUAL(slurp(p), "X\n");
    CU_ASSERT_STRING_EQUAL(slurp(q), "CONNECT;success;a\nCONNECT;failed;b\n");
    status_sink_close(s);
    /* Appends to an existing file, never truncates. */
    CU_ASSERT_EQUAL(status_sink_open(p, &s), 0);
    CU_ASSERT_EQUAL(status_sink_write(s, "Y\n", 2), 0);
    CU_ASSERT_STRING_EQUAL(slurp(p), "X\nY\n");
    status_sink_close(s);

    /* Never through a symlink (spec §6.13), never into a fifo or directory. */
    path_in(q, sizeof(q), "link");
    CU_ASSERT_EQUAL(symlink(p, q), 0);
    CU_ASSERT_EQUAL(status_sink_open(q, &s), -ELOOP);
    CU_ASSERT_PTR_NULL(s);
    path_in(q, sizeof(q), "fifo");
    CU_ASSERT_EQUAL(mkfifo(q, 0600), 0);
    int rc = status_sink_open(q, &s);
    CU_ASSERT(rc == -EINVAL || rc == -ENXIO);
    CU_ASSERT_EQUAL(status_sink_open(dir, &s), -EISDIR);
    CU_ASSERT_EQUAL(status_sink_open("", &s), -EINVAL);
}

static void test_sink_log(void)
{
    /* @LOG: the line goes into the log as it is, without prefix or timestamp. */
    char p[PATH_MAX];
    path_in(p, sizeof(p), "log");
    log_init("uftpd", LL_INFO);
    CU_ASSERT_EQUAL_FATAL(log_open_file(p, 0, 1), 0);
    struct status_sink *s;
    CU_ASSERT_EQUAL_FATAL(status_sink_open("@LOG", &s), 0);
    int n = status_snd_connect(line, sizeof(line), true, "z");
    CU_ASSERT_EQUAL(status_sink_write(s, line, (size_t)n), 0);
    CU_ASSERT_EQUAL(status_sink_write(s, "NO-NEWLINE", 10), 0);
    CU_ASSERT_EQUAL(status_sink_reopen(s), 0);
    status_sink_close(s);
    log_close();
    CU_ASSERT_STRING_EQUAL(slurp(p), "CONNECT;success;z\nNO-NEWLINE\n");
}

static void test_cleanup(void)
{
    const char *names[] = {"status", "status.1", "link", "fifo", "log"};
    char p[PATH_MAX];
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        path_in(p, sizeof(p), names[i]);
        unlink(p);
    }
    CU_ASSERT_EQUAL(rmdir(dir), 0);
}

static const struct cu_test status_tests[] = {
    {"sender -S lines", test_sender_lines},
    {"receiver -F lines", test_receiver_lines},
    {"lines of the 5.0.1 binaries", test_reference_lines},
    {"escaping", test_escaping},
    {"bounds", test_bounds},
    {"file sink", test_sink_file},
    {"@LOG sink", test_sink_log},
    {"cleanup", test_cleanup},
    {NULL, NULL},
};

CU_MAIN({"daemon/status", status_tests})
