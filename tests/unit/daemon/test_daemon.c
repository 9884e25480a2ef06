#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/daemon/daemon.h"
#include "core/log.h"
#include "cu.h"

static char dir[] = "/tmp/uftp-daemon-XXXXXX";

static char *slurp(const char *p)
{
    static char buf[4096];
    buf[0] = '\0';
    int fd = open(p, O_RDONLY);
    if (fd < 0)
        return buf;
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    buf[n > 0 ? n : 0] = '\0';
    close(fd);
    return buf;
}

static bool is_devnull(int fd)
{
    struct stat a, b;
    return fstat(fd, &a) == 0 && stat("/dev/null", &b) == 0 && S_ISCHR(a.st_mode) &&
           a.st_rdev == b.st_rdev;
}

/*
 * Runs daemon_detach() in a forked "original process": the daemon writes
 * what it sees to a file and calls daemon_detach_done(code) (or dies first
 * when code < 0). Returns the original process's exit status.
 */
static int run_detach(const char *out, int code)
{
    pid_t orig = fork();
    if (orig == 0) {
        umask(0);
        if (daemon_detach() != 0)
            _exit(99);
        char cwd[PATH_MAX] = "";
        (void)!getcwd(cwd, sizeof(cwd));
        mode_t um = umask(0);
        FILE *f = fopen(out, "w");
        if (!f)
            _exit(98);
        fprintf(f, "sid %s\n", getsid(0) == getpid() ? "leader" : "other");
        fprintf(f, "pgrp %s\n", getpgrp() == getpid() ? "own" : "other");
        fprintf(f, "cwd %s\n", cwd);
        fprintf(f, "umask %03o\n", (unsigned)um);
        fprintf(f, "stdin %s\n", is_devnull(0) ? "null" : "other");
        fprintf(f, "stdout %s\n", is_devnull(1) ? "null" : "other");
        fprintf(f, "stderr %s\n", is_devnull(2) ? "null" : "kept");
        fflush(f);
        if (code < 0)
            _exit(42); /* died before telling the original process */
        daemon_detach_done(code);
        daemon_detach_done(code + 1); /* a second call is a no-op */
        fprintf(f, "stderr %s\n", is_devnull(2) ? "null" : "kept");
        fclose(f);
        _exit(0);
    }
    int st = 0;
    waitpid(orig, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void wait_for(const char *path, const char *tail)
{
    for (int i = 0; i < 200; i++) {
        const char *s = slurp(path);
        size_t n = strlen(s), t = strlen(tail);
        if (n >= t && strcmp(s + n - t, tail) == 0)
            return;
        usleep(10000);
    }
}

static void test_detach(void)
{
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
    char out[PATH_MAX];
    snprintf(out, sizeof(out), "%s/detach", dir);
    /* The original process exits with the code the daemon reports. */
    CU_ASSERT_EQUAL(run_detach(out, 0), 0);
    wait_for(out, "stderr null\n");
    CU_ASSERT_STRING_EQUAL(slurp(out), "sid other\n"
                                       "pgrp other\n"
                                       "cwd /\n"
                                       "umask 027\n"
                                       "stdin null\n"
                                       "stdout null\n"
                                       "stderr kept\n"
                                       "stderr null\n");
    CU_ASSERT_EQUAL(run_detach(out, 6), 6);
    /* A daemon that dies before saying so makes the start fail. */
    CU_ASSERT_EQUAL(run_detach(out, -1), 1);
    unlink(out);
    /* Never detached here: a no-op that leaves stderr alone. */
    bool before = is_devnull(2);
    daemon_detach_done(0);
    CU_ASSERT_EQUAL(is_devnull(2), before);
}

static void test_systemd_detection(void)
{
    struct stat st;
    CU_ASSERT_EQUAL_FATAL(fstat(2, &st), 0);
    char js[64];
    unsetenv("JOURNAL_STREAM");
    CU_ASSERT(!daemon_stderr_is_journal());
    snprintf(js, sizeof(js), "%llu:%llu", (unsigned long long)st.st_dev,
             (unsigned long long)st.st_ino);
    setenv("JOURNAL_STREAM", js, 1);
    CU_ASSERT(daemon_stderr_is_journal());
    /* Inherited from a parent whose stderr was the journal: not ours. */
    snprintf(js, sizeof(js), "%llu:%llu", (unsigned long long)st.st_dev,
             (unsigned long long)st.st_ino + 1);
    setenv("JOURNAL_STREAM", js, 1);
    CU_ASSERT(!daemon_stderr_is_journal());
    setenv("JOURNAL_STREAM", "garbage", 1);
    CU_ASSERT(!daemon_stderr_is_journal());
    snprintf(js, sizeof(js), "%llu:%llux", (unsigned long long)st.st_dev,
             (unsigned long long)st.st_ino);
    setenv("JOURNAL_STREAM", js, 1);
    CU_ASSERT(!daemon_stderr_is_journal());
    unsetenv("JOURNAL_STREAM");
}

static void test_log_setup(void)
{
    char errf[PATH_MAX], logf[PATH_MAX];
    snprintf(errf, sizeof(errf), "%s/stderr", dir);
    snprintf(logf, sizeof(logf), "%s/log", dir);
    int saved = dup(2);
    int fd = open(errf, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    CU_ASSERT_FATAL(fd >= 0 && saved >= 0);
    dup2(fd, 2);
    close(fd);
    struct stat st;
    fstat(2, &st);
    char js[64];
    snprintf(js, sizeof(js), "%llu:%llu", (unsigned long long)st.st_dev,
             (unsigned long long)st.st_ino);
    log_init("uftpd", LL_INFO);

    /* Foreground under systemd: the journal, with priorities and no timestamps. */
    setenv("JOURNAL_STREAM", js, 1);
    struct daemon_log_cfg c = {.foreground = true, .logfile = logf, .keep = 5};
    CU_ASSERT_EQUAL(daemon_log_setup(&c), DAEMON_LOG_JOURNAL);
    log_errx("e1");
    log_warnx("w1");
    log_info("i1");
    log_verbose("v1"); /* below the level: not written */
    CU_ASSERT_STRING_EQUAL(slurp(errf), "<3>uftpd: e1\n<4>uftpd: w1\n<5>uftpd: i1\n");
    log_raw("RESULT;raw"); /* status lines (@LOG) stay unprefixed */
    CU_ASSERT_STRING_EQUAL(slurp(errf), "<3>uftpd: e1\n<4>uftpd: w1\n<5>uftpd: i1\nRESULT;raw\n");
    log_set_level_prefix(false);
    unsetenv("JOURNAL_STREAM");

    /* Foreground elsewhere: stderr with timestamps; -L ignored as in the reference. */
    CU_ASSERT_EQUAL(ftruncate(2, 0), 0);
    lseek(2, 0, SEEK_SET);
    CU_ASSERT_EQUAL(daemon_log_setup(&c), DAEMON_LOG_STDERR);
    log_warnx("w2");
    const char *s = slurp(errf);
    CU_ASSERT_EQUAL(strlen(s), strlen("YYYY/MM/DD HH:MM:SS.mmm uftpd: w2\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(s, " uftpd: w2\n"));
    CU_ASSERT_EQUAL(s[4], '/');
    CU_ASSERT_EQUAL(access(logf, F_OK), -1);

    /* Daemon mode with -L: the file (0640, O_NOFOLLOW), even under systemd. */
    setenv("JOURNAL_STREAM", js, 1);
    c.foreground = false;
    mode_t old = umask(0);
    CU_ASSERT_EQUAL(daemon_log_setup(&c), DAEMON_LOG_FILE);
    umask(old);
    log_warnx("w3");
    s = slurp(logf);
    CU_ASSERT_PTR_NOT_NULL(strstr(s, " uftpd: w3\n"));
    CU_ASSERT_EQUAL(s[0] != '<', 1);
    CU_ASSERT_EQUAL(stat(logf, &st), 0);
    CU_ASSERT_EQUAL(st.st_mode & 0777, 0640);
    /* SIGHUP after logrotate moved it: log_reopen() starts a new file. */
    char rotated[PATH_MAX + 8];
    snprintf(rotated, sizeof(rotated), "%s.1", logf);
    CU_ASSERT_EQUAL(rename(logf, rotated), 0);
    CU_ASSERT_EQUAL(log_reopen(), 0);
    log_warnx("w4");
    CU_ASSERT_PTR_NOT_NULL(strstr(slurp(logf), " uftpd: w4\n"));
    CU_ASSERT_PTR_NULL(strstr(slurp(rotated), "w4"));
    log_close();
    unlink(rotated);
    unlink(logf);
    /* A symlinked log file is refused and logging stays on stderr. */
    CU_ASSERT_EQUAL(symlink(errf, logf), 0);
    CU_ASSERT_EQUAL(daemon_log_setup(&c), -ELOOP);
    CU_ASSERT_EQUAL(log_get_sink(), LOG_SINK_STDERR);
    unlink(logf);

    /* Daemon mode without -L: syslog (not /tmp/uftpd.log, spec §6.13). */
    c.logfile = NULL;
    CU_ASSERT_EQUAL(daemon_log_setup(&c), DAEMON_LOG_SYSLOG);
    CU_ASSERT_EQUAL(log_get_sink(), LOG_SINK_SYSLOG);
    CU_ASSERT_EQUAL(log_reopen(), 0);
    log_close();
    unsetenv("JOURNAL_STREAM");
    log_set_timestamps(false);

    dup2(saved, 2);
    close(saved);
    unlink(errf);
    CU_ASSERT_STRING_EQUAL(daemon_logdest_name(DAEMON_LOG_JOURNAL), "journal");
    CU_ASSERT_STRING_EQUAL(daemon_logdest_name(DAEMON_LOG_SYSLOG), "syslog");
    CU_ASSERT_STRING_EQUAL(daemon_logdest_name(DAEMON_LOG_FILE), "file");
    CU_ASSERT_STRING_EQUAL(daemon_logdest_name(DAEMON_LOG_STDERR), "stderr");
    CU_ASSERT_STRING_EQUAL(daemon_logdest_name(-5), "unknown");
}

static void test_nice(void)
{
    CU_ASSERT_EQUAL(daemon_set_nice(20), -EINVAL);
    CU_ASSERT_EQUAL(daemon_set_nice(-21), -EINVAL);
    errno = 0;
    int cur = getpriority(PRIO_PROCESS, 0);
    CU_ASSERT_EQUAL(daemon_set_nice(cur), 0); /* already there: no system call needed */
    /* In a child, so the test process keeps its priority. */
    pid_t c = fork();
    if (c == 0) {
        int rc = daemon_set_nice(cur + 3 > 19 ? 19 : cur + 3);
        errno = 0;
        int now = getpriority(PRIO_PROCESS, 0);
        _exit(rc == 0 && now == (cur + 3 > 19 ? 19 : cur + 3) ? 0 : 1);
    }
    int st;
    waitpid(c, &st, 0);
    CU_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static void test_privs(void)
{
    struct daemon_privs p;
    CU_ASSERT_EQUAL(daemon_privs_get(&p), 0);
    CU_ASSERT_EQUAL(p.uid, getuid());
    CU_ASSERT_EQUAL(p.euid, geteuid());
    CU_ASSERT_EQUAL(p.gid, getgid());
    CU_ASSERT_EQUAL(p.egid, getegid());
    if (geteuid() == 0)
        CU_ASSERT(p.cap_eff != 0);
    log_init("test", LL_ERR); /* keep the warnings out of the test output */
    CU_ASSERT_EQUAL(daemon_privs_log(), p.euid == 0 || p.cap_eff ? 1 : 0);
    /* An unprivileged child with no_new_privs sees both. */
    pid_t c = fork();
    if (c == 0) {
        if (geteuid() == 0 && (setgid(65534) < 0 || setuid(65534) < 0))
            _exit(2);
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
            _exit(3);
        struct daemon_privs q;
        if (daemon_privs_get(&q) < 0)
            _exit(4);
        _exit(q.euid != 0 && q.cap_eff == 0 && q.no_new_privs && daemon_privs_log() == 0 ? 0 : 5);
    }
    int st;
    waitpid(c, &st, 0);
    CU_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    CU_ASSERT_EQUAL(rmdir(dir), 0);
}

/* The engines' clocks and rng: monotonic, wall offset consistent with
 * CLOCK_REALTIME, and random bytes that are not all the same. */
static void test_clocks_rng(void)
{
    uint64_t a = daemon_mono_us();
    struct timespec ts = {0, 2000000};
    nanosleep(&ts, NULL);
    uint64_t b = daemon_mono_us();
    CU_ASSERT(b >= a + 2000);
    CU_ASSERT(b < a + 2000000);
    struct timespec rt;
    clock_gettime(CLOCK_REALTIME, &rt);
    int64_t wall = (int64_t)rt.tv_sec * 1000000 + rt.tv_nsec / 1000;
    int64_t est = daemon_wall_offset_us() + (int64_t)daemon_mono_us();
    CU_ASSERT(est - wall >= 0 && est - wall < 1000000);
    uint8_t x[64] = {0}, y[64] = {0};
    CU_ASSERT_EQUAL(daemon_rng(NULL, x, sizeof(x)), 0);
    CU_ASSERT_EQUAL(daemon_rng(NULL, y, sizeof(y)), 0);
    CU_ASSERT(memcmp(x, y, sizeof(x)) != 0);
    CU_ASSERT_EQUAL(daemon_rng(NULL, x, 0), 0);
}

static const struct cu_test daemon_tests[] = {
    {"detach", test_detach},
    {"systemd detection", test_systemd_detection},
    {"log destination", test_log_setup},
    {"nice", test_nice},
    {"privileges", test_privs},
    {"clocks and rng", test_clocks_rng},
    {NULL, NULL},
};

CU_MAIN({"daemon/daemon", daemon_tests})
