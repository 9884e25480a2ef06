#include "core/daemon/runner.h"

#include "core/daemon/daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"

extern char **environ;

struct job {
    struct job *next;
    pid_t pid;
    int pidfd;
    int stage; /* 0 running, 1 sent SIGTERM, 2 sent SIGKILL */
    bool timed_out;
    uint64_t start_us, term_at, kill_at;
    size_t argc;
    char *argv[]; /* argc + 1 pointers, then the strings */
};

struct runner {
    struct runner_cfg cfg;
    int epfd;
    bool no_pidfd; /* pidfd_open failed once: poll instead */
    struct job *run;
    size_t nrun;
    struct job *qhead, *qtail;
    size_t nq;
    uint64_t last_now;
};

uint64_t runner_now_us(void)
{
    return daemon_mono_us();
}

struct runner *runner_new(const struct runner_cfg *cfg)
{
    struct runner *r = calloc(1, sizeof(*r));
    if (!r)
        return NULL;
    r->cfg = *cfg;
    if (!r->cfg.max_running)
        r->cfg.max_running = RUNNER_DEF_RUNNING;
    if (!r->cfg.max_queued)
        r->cfg.max_queued = RUNNER_DEF_QUEUED;
    if (!r->cfg.time_limit_us)
        r->cfg.time_limit_us = RUNNER_DEF_LIMIT_US;
    if (!r->cfg.kill_grace_us)
        r->cfg.kill_grace_us = RUNNER_DEF_GRACE_US;
    r->no_pidfd = cfg->poll_only;
    r->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (r->epfd < 0) {
        free(r);
        return NULL;
    }
    return r;
}

int runner_fd(const struct runner *r)
{
    return r->no_pidfd ? -1 : r->epfd;
}

size_t runner_running(const struct runner *r)
{
    return r->nrun;
}

size_t runner_queued(const struct runner *r)
{
    return r->nq;
}

int runner_command_check(const char *path)
{
    if (!path || path[0] != '/')
        return -EINVAL;
    struct stat st;
    if (stat(path, &st) < 0)
        return -errno;
    if (S_ISDIR(st.st_mode))
        return -EISDIR;
    if (!S_ISREG(st.st_mode))
        return -ENOEXEC;
    return access(path, X_OK) < 0 ? -errno : 0;
}

/* One allocation: the job, the pointer array, the strings. */
static struct job *job_new(const char *const argv[], int *err)
{
    size_t argc = 0, bytes = 0;
    for (; argv[argc]; argc++) {
        if (argc >= RUNNER_ARGC_MAX) {
            *err = -E2BIG;
            return NULL;
        }
        bytes += strlen(argv[argc]) + 1;
        if (bytes > RUNNER_ARGV_BYTES) {
            *err = -E2BIG;
            return NULL;
        }
    }
    if (argc == 0 || argv[0][0] != '/') {
        *err = -EINVAL;
        return NULL;
    }
    size_t ptrs = (argc + 1) * sizeof(char *);
    struct job *j = calloc(1, sizeof(*j) + ptrs + bytes);
    if (!j) {
        *err = -ENOMEM;
        return NULL;
    }
    char *s = (char *)j->argv + ptrs;
    for (size_t i = 0; i < argc; i++) {
        size_t n = strlen(argv[i]) + 1;
        memcpy(s, argv[i], n);
        j->argv[i] = s;
        s += n;
    }
    j->argv[argc] = NULL;
    j->argc = argc;
    j->pidfd = -1;
    return j;
}

static void job_free(struct job *j)
{
    if (j->pidfd >= 0)
        close(j->pidfd);
    free(j);
}

/* "cmd a b c" for the log, cut to fit. */
static void argv_text(const struct job *j, char *buf, size_t len)
{
    size_t n = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < j->argc && n + 1 < len; i++) {
        int w = snprintf(buf + n, len - n, "%s%s", i ? " " : "", j->argv[i]);
        if (w < 0)
            break;
        n += (size_t)w;
    }
    if (n >= len && len > 4)
        memcpy(buf + len - 4, "...", 4);
}

static void report(struct runner *r, const struct job *j, int status, int spawn_err,
                   uint64_t now_us)
{
    struct runner_done d = {
        .path = j->argv[0],
        .pid = j->pid,
        .status = status,
        .spawn_err = spawn_err,
        .timed_out = j->timed_out,
        .run_us = now_us > j->start_us ? now_us - j->start_us : 0,
    };
    double secs = (double)d.run_us / 1e6;
    if (spawn_err)
        log_warnx("cannot run %s: %s", j->argv[0], strerror(spawn_err));
    else if (j->timed_out)
        log_warnx("%s (pid %ld) ran past its %llu s limit and was killed", j->argv[0], (long)j->pid,
                  (unsigned long long)(r->cfg.time_limit_us / 1000000));
    else if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        log_verbose("%s (pid %ld) finished after %.1f s", j->argv[0], (long)j->pid, secs);
    else if (WIFEXITED(status))
        log_warnx("%s (pid %ld) exited with status %d", j->argv[0], (long)j->pid,
                  WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        log_warnx("%s (pid %ld) was killed by signal %d", j->argv[0], (long)j->pid,
                  WTERMSIG(status));
    if (r->cfg.done)
        r->cfg.done(r->cfg.done_arg, &d);
}

/* posix_spawn: no shell, its own process group, clean signals, only fds 0..2. */
static int spawn(struct runner *r, struct job *j)
{
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    sigset_t all, none;
    sigfillset(&all);
    sigemptyset(&none);
    int rc = posix_spawn_file_actions_init(&fa);
    if (rc)
        return rc;
    rc = posix_spawnattr_init(&at);
    if (rc) {
        posix_spawn_file_actions_destroy(&fa);
        return rc;
    }
    rc = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    if (!rc && r->cfg.out_fd >= 0) {
        rc = posix_spawn_file_actions_adddup2(&fa, r->cfg.out_fd, 1);
        if (!rc)
            rc = posix_spawn_file_actions_adddup2(&fa, r->cfg.out_fd, 2);
    } else if (!rc) {
        rc = posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
        if (!rc)
            rc = posix_spawn_file_actions_adddup2(&fa, 1, 2);
    }
    if (!rc)
        rc = posix_spawn_file_actions_addclosefrom_np(&fa, 3);
    if (!rc)
        rc = posix_spawnattr_setsigdefault(&at, &all);
    if (!rc)
        rc = posix_spawnattr_setsigmask(&at, &none);
    if (!rc)
        rc = posix_spawnattr_setpgroup(&at, 0);
    if (!rc)
        rc = posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK |
                                               POSIX_SPAWN_SETPGROUP);
    if (!rc)
        rc = posix_spawn(&j->pid, j->argv[0], &fa, &at, j->argv, environ);
    posix_spawnattr_destroy(&at);
    posix_spawn_file_actions_destroy(&fa);
    if (rc)
        return rc;

#ifdef SYS_pidfd_open
    if (!r->no_pidfd) {
        /* Race-free: the child stays ours (a zombie at worst) until we reap it. */
        j->pidfd = (int)syscall(SYS_pidfd_open, j->pid, 0);
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = j};
        if (j->pidfd < 0 || epoll_ctl(r->epfd, EPOLL_CTL_ADD, j->pidfd, &ev) < 0) {
            log_debug("no pidfd for child processes (%s): polling", strerror(errno));
            r->no_pidfd = true;
        }
    }
#else
    r->no_pidfd = true;
#endif
    return 0;
}

static void start(struct runner *r, struct job *j, uint64_t now_us)
{
    char text[512];
    argv_text(j, text, sizeof(text));
    j->start_us = now_us;
    j->term_at = now_us + r->cfg.time_limit_us;
    j->kill_at = j->term_at + r->cfg.kill_grace_us;
    int rc = spawn(r, j);
    if (rc) {
        j->pid = 0;
        report(r, j, 0, rc, now_us);
        job_free(j);
        return;
    }
    log_info("running %s (pid %ld)", text, (long)j->pid);
    j->next = r->run;
    r->run = j;
    r->nrun++;
}

int runner_submit(struct runner *r, const char *const argv[], uint64_t now_us)
{
    int err = 0;
    if (!argv)
        return -EINVAL;
    r->last_now = now_us;
    if (r->nrun >= r->cfg.max_running && r->nq >= r->cfg.max_queued)
        return -EAGAIN;
    struct job *j = job_new(argv, &err);
    if (!j)
        return err;
    if (r->nrun < r->cfg.max_running) {
        start(r, j, now_us);
        return 0;
    }
    if (r->qtail)
        r->qtail->next = j;
    else
        r->qhead = j;
    r->qtail = j;
    r->nq++;
    return 0;
}

int runner_postreceive(struct runner *r, const char *cmd, uint32_t group_id,
                       const char *const files[], size_t nfiles, uint64_t now_us)
{
    if (!cmd || cmd[0] != '/')
        return -EINVAL;
    char gid[9];
    snprintf(gid, sizeof(gid), "%08X", group_id);
    size_t fixed = strlen(cmd) + 1 + 3 + sizeof(gid);
    if (fixed > RUNNER_ARGV_BYTES)
        return -E2BIG;
    const char **v = malloc((RUNNER_ARGC_MAX + 1) * sizeof(*v));
    if (!v)
        return -ENOMEM;
    int runs = 0;
    size_t i = 0;
    do {
        size_t argc = 3, bytes = fixed;
        v[0] = cmd;
        v[1] = "-I";
        v[2] = gid;
        while (i < nfiles && argc < RUNNER_ARGC_MAX) {
            size_t n = strlen(files[i]) + 1;
            if (bytes + n > RUNNER_ARGV_BYTES)
                break;
            bytes += n;
            v[argc++] = files[i++];
        }
        if (argc == 3 && i < nfiles) {
            free(v);
            return runs ? runs : -E2BIG;
        }
        v[argc] = NULL;
        int rc = runner_submit(r, v, now_us);
        if (rc < 0) {
            free(v);
            return runs ? runs : rc;
        }
        runs++;
    } while (i < nfiles);
    free(v);
    return runs;
}

static void drop_queue(struct runner *r)
{
    if (r->nq)
        log_warnx("dropping %zu queued command run(s)", r->nq);
    while (r->qhead) {
        struct job *j = r->qhead;
        r->qhead = j->next;
        job_free(j);
    }
    r->qtail = NULL;
    r->nq = 0;
}

void runner_poll(struct runner *r, uint64_t now_us)
{
    r->last_now = now_us;
    struct job **pp = &r->run;
    while (*pp) {
        struct job *j = *pp;
        int status = 0;
        pid_t w = waitpid(j->pid, &status, WNOHANG);
        if (w == j->pid || (w < 0 && errno == ECHILD)) {
            /* ECHILD: someone set SIGCHLD to SIG_IGN; the status is lost. */
            *pp = j->next;
            r->nrun--;
            if (j->pidfd >= 0)
                epoll_ctl(r->epfd, EPOLL_CTL_DEL, j->pidfd, NULL);
            report(r, j, w < 0 ? 0 : status, 0, now_us);
            job_free(j);
            continue;
        }
        if (j->stage == 0 && now_us >= j->term_at) {
            j->timed_out = true;
            j->stage = 1;
            (void)kill(-j->pid, SIGTERM);
        }
        if (j->stage == 1 && now_us >= j->kill_at) {
            j->stage = 2;
            (void)kill(-j->pid, SIGKILL);
        }
        pp = &j->next;
    }
    while (r->qhead && r->nrun < r->cfg.max_running) {
        struct job *j = r->qhead;
        r->qhead = j->next;
        if (!r->qhead)
            r->qtail = NULL;
        r->nq--;
        j->next = NULL;
        start(r, j, now_us);
    }
}

uint64_t runner_deadline(const struct runner *r)
{
    uint64_t d = UINT64_MAX;
    for (const struct job *j = r->run; j; j = j->next) {
        if (j->stage == 0 && j->term_at < d)
            d = j->term_at;
        else if (j->stage == 1 && j->kill_at < d)
            d = j->kill_at;
    }
    if (r->nrun && r->no_pidfd && r->last_now + RUNNER_POLL_US < d)
        d = r->last_now + RUNNER_POLL_US;
    return d;
}

void runner_terminate(struct runner *r, uint64_t now_us)
{
    drop_queue(r);
    for (struct job *j = r->run; j; j = j->next) {
        if (j->stage == 0) {
            j->stage = 1;
            j->kill_at = now_us + r->cfg.kill_grace_us;
            (void)kill(-j->pid, SIGTERM);
        }
    }
}

void runner_free(struct runner *r)
{
    if (!r)
        return;
    drop_queue(r);
    while (r->run) {
        struct job *j = r->run;
        r->run = j->next;
        (void)kill(-j->pid, SIGKILL);
        while (waitpid(j->pid, NULL, 0) < 0 && errno == EINTR)
            ;
        job_free(j);
    }
    close(r->epfd);
    free(r);
}
