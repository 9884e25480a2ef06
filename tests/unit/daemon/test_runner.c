/*
 * The runner against real child processes. The test binary doubles as the
 * child: with UFTP_RUNNER_MODE set it reports what it was given (argv, open
 * descriptors, stdin, process group, signal state, environment) instead of
 * running the tests.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/daemon/runner.h"
#include "core/log.h"
#include "cu.h"

/* ---- the child side ---- */

static int child_report(int argc, char **argv, const char *out)
{
    FILE *f = fopen(out, "w");
    if (!f)
        return 2;
    for (int i = 1; i < argc; i++)
        fprintf(f, "arg %s\n", argv[i]);
    DIR *d = opendir("/proc/self/fd");
    int dfd = d ? dirfd(d) : -1;
    fprintf(f, "fds");
    for (struct dirent *e; d && (e = readdir(d));) {
        int fd = atoi(e->d_name);
        if (e->d_name[0] != '.' && fd != dfd && fd != fileno(f))
            fprintf(f, " %d", fd);
    }
    fprintf(f, "\n");
    if (d)
        closedir(d);
    struct stat in, null;
    fprintf(f, "stdin %s\n",
            fstat(0, &in) == 0 && stat("/dev/null", &null) == 0 && in.st_rdev == null.st_rdev
                ? "null"
                : "other");
    fprintf(f, "pgid %s\n", getpgid(0) == getpid() ? "own" : "shared");
    sigset_t m;
    sigprocmask(SIG_BLOCK, NULL, &m);
    fprintf(f, "mask %s\n", sigismember(&m, SIGTERM) || sigismember(&m, SIGCHLD) ? "set" : "empty");
    struct sigaction sa;
    sigaction(SIGPIPE, NULL, &sa);
    fprintf(f, "sigpipe %s\n", sa.sa_handler == SIG_DFL ? "default" : "changed");
    fprintf(f, "notify %s\n", getenv("NOTIFY_SOCKET") ? "set" : "unset");
    fclose(f);
    return 0;
}

static int child_main(int argc, char **argv, const char *mode)
{
    if (!strncmp(mode, "report:", 7))
        return child_report(argc, argv, mode + 7);
    if (!strncmp(mode, "count:", 6)) {
        FILE *f = fopen(mode + 6, "a");
        if (!f)
            return 2;
        fprintf(f, "%d %s %s\n", argc, argc > 3 ? argv[3] : "-", argv[argc - 1]);
        fclose(f);
        return 0;
    }
    if (!strncmp(mode, "exit:", 5))
        return atoi(mode + 5);
    if (!strcmp(mode, "ignoreterm"))
        signal(SIGTERM, SIG_IGN);
    if (!strncmp(mode, "family:", 7)) {
        /* A grandchild in the same process group: a timeout must take it down too. */
        pid_t g = fork();
        if (g == 0) {
            sleep(30);
            _exit(0);
        }
        FILE *f = fopen(mode + 7, "w");
        if (f) {
            fprintf(f, "%ld\n", (long)g);
            fclose(f);
        }
    }
    sleep(30);
    return 0;
}

/* ---- the tests ---- */

static char self[PATH_MAX];
static char dir[] = "/tmp/uftp-runner-XXXXXX";

struct seen {
    int n;
    struct runner_done last; /* last.path is not kept: it dies with the job */
    char paths[8][PATH_MAX];
};

static void on_done(void *arg, const struct runner_done *d)
{
    struct seen *s = arg;
    if (s->n < 8)
        snprintf(s->paths[s->n], sizeof(s->paths[0]), "%s", d->path);
    s->n++;
    s->last = *d;
    s->last.path = NULL;
}

/* A stand-in for the libevent loop: poll the runner's fd until its deadline. */
static void drive(struct runner *r, int max_ms)
{
    uint64_t end = runner_now_us() + (uint64_t)max_ms * 1000;
    for (;;) {
        uint64_t now = runner_now_us();
        runner_poll(r, now);
        if (runner_running(r) + runner_queued(r) == 0 || now >= end)
            return;
        uint64_t dl = runner_deadline(r);
        int ms = dl == UINT64_MAX ? 1000 : dl <= now ? 0 : (int)((dl - now + 999) / 1000);
        if (ms > 1000)
            ms = 1000;
        struct pollfd p = {.fd = runner_fd(r), .events = POLLIN};
        poll(&p, p.fd >= 0 ? 1 : 0, ms);
    }
}

static char *slurp(const char *p)
{
    static char buf[65536];
    buf[0] = '\0';
    int fd = open(p, O_RDONLY);
    if (fd < 0)
        return buf;
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    buf[n > 0 ? n : 0] = '\0';
    close(fd);
    return buf;
}

static void test_postreceive_argv(void)
{
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
    char out[PATH_MAX + 16], mode[PATH_MAX + 32];
    snprintf(out, sizeof(out), "%s/report", dir);
    snprintf(mode, sizeof(mode), "report:%s", out);
    setenv("UFTP_RUNNER_MODE", mode, 1);
    struct seen s = {0};
    struct runner_cfg cfg = {.out_fd = -1, .done = on_done, .done_arg = &s};
    struct runner *r = runner_new(&cfg);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    /* A descriptor of ours that is not close-on-exec must not leak into the child. */
    int leak = open("/dev/null", O_RDONLY);
    const char *files[] = {"/var/lib/uftpd/incoming/a b.txt", "/var/lib/uftpd/incoming/-x"};
    CU_ASSERT_EQUAL(runner_postreceive(r, self, 0x0A0B0C0D, files, 2, runner_now_us()), 1);
    CU_ASSERT_EQUAL(runner_running(r), 1);
    drive(r, 10000);
    close(leak);
    CU_ASSERT_EQUAL(s.n, 1);
    CU_ASSERT(s.last.pid > 0);
    CU_ASSERT(WIFEXITED(s.last.status) && WEXITSTATUS(s.last.status) == 0);
    CU_ASSERT(!s.last.timed_out);
    CU_ASSERT_EQUAL(s.last.spawn_err, 0);
    CU_ASSERT_STRING_EQUAL(s.paths[0], self);
    /* spec §2.2: cmd -I <GROUPID as %08X> file...; no shell, so spaces and dashes stay. */
    CU_ASSERT_STRING_EQUAL(slurp(out), "arg -I\n"
                                       "arg 0A0B0C0D\n"
                                       "arg /var/lib/uftpd/incoming/a b.txt\n"
                                       "arg /var/lib/uftpd/incoming/-x\n"
                                       "fds 0 1 2\n"
                                       "stdin null\n"
                                       "pgid own\n"
                                       "mask empty\n"
                                       "sigpipe default\n"
                                       "notify unset\n");
    runner_free(r);
}

static void test_clean_signals(void)
{
    /* Even when the daemon blocks and ignores signals, the command starts clean. */
    char out[PATH_MAX + 16], mode[PATH_MAX + 32];
    snprintf(out, sizeof(out), "%s/report2", dir);
    snprintf(mode, sizeof(mode), "report:%s", out);
    setenv("UFTP_RUNNER_MODE", mode, 1);
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigprocmask(SIG_BLOCK, &block, &old);
    signal(SIGPIPE, SIG_IGN);
    struct runner_cfg cfg = {.out_fd = -1};
    struct runner *r = runner_new(&cfg);
    const char *argv[] = {self, "one", NULL};
    CU_ASSERT_EQUAL(runner_submit(r, argv, runner_now_us()), 0);
    drive(r, 10000);
    runner_free(r);
    sigprocmask(SIG_SETMASK, &old, NULL);
    signal(SIGPIPE, SIG_DFL);
    CU_ASSERT_STRING_EQUAL(slurp(out), "arg one\nfds 0 1 2\nstdin null\npgid own\nmask empty\n"
                                       "sigpipe default\nnotify unset\n");
}

static void test_exit_status_and_fd(void)
{
    setenv("UFTP_RUNNER_MODE", "exit:3", 1);
    struct seen s = {0};
    struct runner_cfg cfg = {.out_fd = -1, .done = on_done, .done_arg = &s};
    struct runner *r = runner_new(&cfg);
    const char *argv[] = {self, NULL};
    CU_ASSERT_EQUAL(runner_submit(r, argv, runner_now_us()), 0);
    /* The fd wakes the loop when the child exits, long before any deadline. */
    if (runner_fd(r) >= 0) {
        struct pollfd p = {.fd = runner_fd(r), .events = POLLIN};
        CU_ASSERT_EQUAL(poll(&p, 1, 10000), 1);
        CU_ASSERT(runner_deadline(r) > runner_now_us() + 200 * 1000000ULL);
    }
    drive(r, 10000);
    CU_ASSERT_EQUAL(s.n, 1);
    CU_ASSERT(WIFEXITED(s.last.status) && WEXITSTATUS(s.last.status) == 3);
    CU_ASSERT_EQUAL(runner_deadline(r), UINT64_MAX);
    if (runner_fd(r) >= 0) {
        struct pollfd p = {.fd = runner_fd(r), .events = POLLIN};
        CU_ASSERT_EQUAL(poll(&p, 1, 0), 0); /* nothing left to report */
    }
    runner_free(r);
}

static void test_spawn_failure(void)
{
    struct seen s = {0};
    struct runner_cfg cfg = {.out_fd = -1, .done = on_done, .done_arg = &s};
    struct runner *r = runner_new(&cfg);
    const char *argv[] = {"/nonexistent/postreceive", "-I", "00000001", NULL};
    CU_ASSERT_EQUAL(runner_submit(r, argv, runner_now_us()), 0);
    CU_ASSERT_EQUAL(s.n, 1);
    CU_ASSERT_EQUAL(s.last.pid, 0);
    CU_ASSERT_EQUAL(s.last.spawn_err, ENOENT);
    CU_ASSERT_EQUAL(runner_running(r), 0);
    runner_free(r);
}

static void test_time_limit(void)
{
    /* SIGTERM at the limit. */
    setenv("UFTP_RUNNER_MODE", "sleep", 1);
    struct seen s = {0};
    struct runner_cfg cfg = {.out_fd = -1,
                             .done = on_done,
                             .done_arg = &s,
                             .time_limit_us = 200000,
                             .kill_grace_us = 200000};
    struct runner *r = runner_new(&cfg);
    const char *argv[] = {self, NULL};
    uint64_t t0 = runner_now_us();
    CU_ASSERT_EQUAL(runner_submit(r, argv, t0), 0);
    CU_ASSERT_EQUAL(runner_deadline(r), t0 + 200000);
    drive(r, 10000);
    CU_ASSERT_EQUAL(s.n, 1);
    CU_ASSERT(s.last.timed_out);
    CU_ASSERT(WIFSIGNALED(s.last.status) && WTERMSIG(s.last.status) == SIGTERM);
    CU_ASSERT(s.last.run_us >= 200000 && s.last.run_us < 5000000);

    /* SIGKILL after the grace period when SIGTERM is ignored. */
    setenv("UFTP_RUNNER_MODE", "ignoreterm", 1);
    t0 = runner_now_us();
    CU_ASSERT_EQUAL(runner_submit(r, argv, t0), 0);
    /* Give it time to install SIG_IGN before the limit strikes. */
    usleep(100000);
    drive(r, 10000);
    CU_ASSERT_EQUAL(s.n, 2);
    CU_ASSERT(s.last.timed_out);
    CU_ASSERT(WIFSIGNALED(s.last.status) && WTERMSIG(s.last.status) == SIGKILL);
    CU_ASSERT(s.last.run_us >= 400000);

    /* The whole process group goes, not just the command. */
    char out[PATH_MAX + 16], mode[PATH_MAX + 32];
    snprintf(out, sizeof(out), "%s/grandchild", dir);
    snprintf(mode, sizeof(mode), "family:%s", out);
    setenv("UFTP_RUNNER_MODE", mode, 1);
    CU_ASSERT_EQUAL(runner_submit(r, argv, runner_now_us()), 0);
    drive(r, 10000);
    CU_ASSERT_EQUAL(s.n, 3);
    CU_ASSERT(s.last.timed_out);
    long g = atol(slurp(out));
    CU_ASSERT_FATAL(g > 0);
    char stat_path[64], st[512];
    snprintf(stat_path, sizeof(stat_path), "/proc/%ld/stat", g);
    bool gone = false;
    for (int i = 0; i < 50 && !gone; i++) {
        snprintf(st, sizeof(st), "%s", slurp(stat_path));
        const char *rp = strrchr(st, ')');
        gone = !st[0] || (rp && rp[1] == ' ' && (rp[2] == 'Z' || rp[2] == 'X'));
        if (!gone)
            usleep(20000);
    }
    CU_ASSERT(gone);
    runner_free(r);
}

static void run_queue(bool poll_only)
{
    char out[PATH_MAX + 16], mode[PATH_MAX + 32];
    snprintf(out, sizeof(out), "%s/count", dir);
    snprintf(mode, sizeof(mode), "count:%s", out);
    setenv("UFTP_RUNNER_MODE", mode, 1);
    struct seen s = {0};
    struct runner_cfg cfg = {.out_fd = -1,
                             .done = on_done,
                             .done_arg = &s,
                             .max_running = 1,
                             .max_queued = 2,
                             .poll_only = poll_only};
    struct runner *r = runner_new(&cfg);
    unlink(out);
    const char *a1[] = {self, "-I", "00000001", "first", NULL};
    const char *a2[] = {self, "-I", "00000002", "second", NULL};
    const char *a3[] = {self, "-I", "00000003", "third", NULL};
    uint64_t now = runner_now_us();
    CU_ASSERT_EQUAL(runner_submit(r, a1, now), 0);
    CU_ASSERT_EQUAL(runner_submit(r, a2, now), 0);
    CU_ASSERT_EQUAL(runner_submit(r, a3, now), 0);
    CU_ASSERT_EQUAL(runner_running(r), 1);
    CU_ASSERT_EQUAL(runner_queued(r), 2);
    CU_ASSERT_EQUAL(runner_submit(r, a3, now), -EAGAIN);
    if (poll_only) {
        CU_ASSERT_EQUAL(runner_fd(r), -1);
        CU_ASSERT_EQUAL(runner_deadline(r), now + RUNNER_POLL_US);
    } else {
        CU_ASSERT(runner_fd(r) >= 0);
    }
    drive(r, 20000);
    CU_ASSERT_EQUAL(s.n, 3);
    /* One at a time, in order. */
    CU_ASSERT_STRING_EQUAL(slurp(out), "4 first first\n4 second second\n4 third third\n");
    runner_free(r);
}

static void test_queue(void)
{
    run_queue(false);
}

static void test_queue_polling(void)
{
    run_queue(true);
}

static void test_bounds_and_split(void)
{
    char out[PATH_MAX + 16], mode[PATH_MAX + 32];
    snprintf(out, sizeof(out), "%s/split", dir);
    snprintf(mode, sizeof(mode), "count:%s", out);
    setenv("UFTP_RUNNER_MODE", mode, 1);
    struct seen s = {0};
    struct runner_cfg cfg = {.out_fd = -1, .done = on_done, .done_arg = &s, .max_running = 1};
    struct runner *r = runner_new(&cfg);

    /* 5000 names: 4093 fit beside cmd -I GID, the other 907 go to a second run. */
    enum { N = 5000 };
    static char names[N][8];
    static const char *files[N];
    for (int i = 0; i < N; i++) {
        snprintf(names[i], sizeof(names[i]), "f%04d", i);
        files[i] = names[i];
    }
    CU_ASSERT_EQUAL(runner_postreceive(r, self, 7, files, N, runner_now_us()), 2);
    drive(r, 20000);
    CU_ASSERT_EQUAL(s.n, 2);
    CU_ASSERT_STRING_EQUAL(slurp(out), "4096 f0000 f4092\n910 f4093 f4999\n");

    /* Split by bytes: 40 names of 4000 bytes, 128 KiB per vector -> 32 + 8. */
    unlink(out);
    static char fat[40][4000];
    const char *fatv[40];
    for (int i = 0; i < 40; i++) {
        memset(fat[i], 'a' + i % 26, sizeof(fat[i]) - 1);
        fat[i][sizeof(fat[i]) - 1] = '\0';
        fatv[i] = fat[i];
    }
    CU_ASSERT_EQUAL(runner_postreceive(r, self, 7, fatv, 40, runner_now_us()), 2);
    drive(r, 20000);
    CU_ASSERT_EQUAL(s.n, 4);
    const char *txt = slurp(out);
    CU_ASSERT(strncmp(txt, "35 ", 3) == 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(txt, "\n11 "));

    /* No files at all (an empty -T session) still runs once: cmd -I GID. */
    unlink(out);
    CU_ASSERT_EQUAL(runner_postreceive(r, self, 7, NULL, 0, runner_now_us()), 1);
    drive(r, 20000);
    CU_ASSERT_STRING_EQUAL(slurp(out), "3 - 00000007\n");

    /* Refusals. */
    static char huge[RUNNER_ARGV_BYTES];
    memset(huge, 'h', sizeof(huge) - 1);
    const char *hv[] = {huge};
    CU_ASSERT_EQUAL(runner_postreceive(r, self, 7, hv, 1, runner_now_us()), -E2BIG);
    const char *hv2[] = {self, huge, NULL};
    CU_ASSERT_EQUAL(runner_submit(r, hv2, runner_now_us()), -E2BIG);
    static const char *many[RUNNER_ARGC_MAX + 2];
    for (int i = 0; i <= RUNNER_ARGC_MAX; i++)
        many[i] = i ? "x" : self;
    many[RUNNER_ARGC_MAX + 1] = NULL;
    CU_ASSERT_EQUAL(runner_submit(r, many, runner_now_us()), -E2BIG);
    many[RUNNER_ARGC_MAX] = NULL; /* exactly RUNNER_ARGC_MAX entries is fine */
    CU_ASSERT_EQUAL(runner_submit(r, many, runner_now_us()), 0);
    drive(r, 20000);
    const char *rel[] = {"postreceive.sh", NULL};
    CU_ASSERT_EQUAL(runner_submit(r, rel, runner_now_us()), -EINVAL);
    const char *empty[] = {NULL};
    CU_ASSERT_EQUAL(runner_submit(r, empty, runner_now_us()), -EINVAL);
    CU_ASSERT_EQUAL(runner_postreceive(r, "bin/x", 7, files, 1, runner_now_us()), -EINVAL);
    runner_free(r);
    unlink(out);
}

static void test_command_check(void)
{
    CU_ASSERT_EQUAL(runner_command_check(self), 0);
    CU_ASSERT_EQUAL(runner_command_check("relative/x"), -EINVAL);
    CU_ASSERT_EQUAL(runner_command_check(NULL), -EINVAL);
    CU_ASSERT_EQUAL(runner_command_check("/nonexistent/x"), -ENOENT);
    CU_ASSERT_EQUAL(runner_command_check("/"), -EISDIR);
    CU_ASSERT_EQUAL(runner_command_check("/dev/null"), -ENOEXEC);
    char p[PATH_MAX + 16];
    snprintf(p, sizeof(p), "%s/noexec", dir);
    int fd = open(p, O_WRONLY | O_CREAT, 0644);
    close(fd);
    CU_ASSERT_EQUAL(runner_command_check(p), -EACCES);
    unlink(p);
}

static void test_terminate_and_free(void)
{
    setenv("UFTP_RUNNER_MODE", "sleep", 1);
    struct seen s = {0};
    struct runner_cfg cfg = {.out_fd = -1, .done = on_done, .done_arg = &s, .max_running = 1};
    struct runner *r = runner_new(&cfg);
    const char *argv[] = {self, NULL};
    uint64_t now = runner_now_us();
    CU_ASSERT_EQUAL(runner_submit(r, argv, now), 0);
    CU_ASSERT_EQUAL(runner_submit(r, argv, now), 0);
    CU_ASSERT_EQUAL(runner_queued(r), 1);
    /* Stopping: SIGTERM now, the queue dropped. */
    runner_terminate(r, runner_now_us());
    CU_ASSERT_EQUAL(runner_queued(r), 0);
    drive(r, 10000);
    CU_ASSERT_EQUAL(s.n, 1);
    CU_ASSERT(WIFSIGNALED(s.last.status) && WTERMSIG(s.last.status) == SIGTERM);
    /* runner_free() kills and reaps what still runs. */
    CU_ASSERT_EQUAL(runner_submit(r, argv, runner_now_us()), 0);
    CU_ASSERT_EQUAL(runner_running(r), 1);
    runner_free(r);
    CU_ASSERT_EQUAL(waitpid(-1, NULL, WNOHANG), -1); /* no child left, none unreaped */
    CU_ASSERT_EQUAL(errno, ECHILD);
    runner_free(NULL);
    static const char *const left[] = {"report", "report2", "grandchild", "count", "split"};
    for (size_t i = 0; i < sizeof(left) / sizeof(left[0]); i++) {
        char p[PATH_MAX + 16];
        snprintf(p, sizeof(p), "%s/%s", dir, left[i]);
        unlink(p);
    }
    CU_ASSERT_EQUAL(rmdir(dir), 0);
}

static const struct cu_test runner_tests[] = {
    {"post-receive argv and child state", test_postreceive_argv},
    {"clean signal state", test_clean_signals},
    {"exit status, wakeup fd", test_exit_status_and_fd},
    {"spawn failure", test_spawn_failure},
    {"time limit: TERM, KILL, process group", test_time_limit},
    {"queue", test_queue},
    {"queue, polling without pidfds", test_queue_polling},
    {"argv bounds and splitting", test_bounds_and_split},
    {"command check", test_command_check},
    {"terminate and free", test_terminate_and_free},
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    const char *mode = getenv("UFTP_RUNNER_MODE");
    if (mode)
        return child_main(argc, argv, mode);
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n <= 0)
        return 2;
    self[n] = '\0';
    log_init("test_runner", LL_ERR);
    static const struct cu_suite suites[] = {{"daemon/runner", runner_tests}};
    return cu_run(suites, 1);
}
