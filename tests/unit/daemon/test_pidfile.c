#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/daemon/pidfile.h"
#include "cu.h"

static char dir[] = "/tmp/uftp-pidfile-XXXXXX";
static char path[PATH_MAX];

static char *slurp(const char *p)
{
    static char buf[256];
    buf[0] = '\0';
    int fd = open(p, O_RDONLY);
    if (fd < 0)
        return buf;
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    buf[n > 0 ? n : 0] = '\0';
    close(fd);
    return buf;
}

static void put(const char *p, const char *text)
{
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    CU_ASSERT_FATAL(fd >= 0);
    CU_ASSERT_EQUAL(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
}

static const char *mypid(void)
{
    static char buf[32];
    snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
    return buf;
}

static void test_create_lock_remove(void)
{
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/uftpd.pid", dir);
    mode_t old = umask(077);
    struct pidfile *pf;
    pid_t other = -1;
    CU_ASSERT_EQUAL_FATAL(pidfile_open(path, &pf, &other), 0);
    umask(old);
    CU_ASSERT_EQUAL(other, 0);
    struct stat st;
    CU_ASSERT_EQUAL(stat(path, &st), 0);
    CU_ASSERT_EQUAL(st.st_mode & 07777, 0644);      /* whatever the umask (spec §6.13: not 0666) */
    CU_ASSERT_EQUAL(pidfile_owner(path), -EBADMSG); /* locked, no pid written yet */
    CU_ASSERT_EQUAL(pidfile_write(pf), 0);
    CU_ASSERT_STRING_EQUAL(slurp(path), mypid());
    CU_ASSERT_EQUAL(pidfile_owner(path), getpid());
    CU_ASSERT_EQUAL(pidfile_write(pf), 0); /* rewriting replaces, never appends */
    CU_ASSERT_STRING_EQUAL(slurp(path), mypid());

    /* A second daemon is told who runs. */
    struct pidfile *pf2 = (struct pidfile *)1;
    CU_ASSERT_EQUAL(pidfile_open(path, &pf2, &other), -EEXIST);
    CU_ASSERT_PTR_NULL(pf2);
    CU_ASSERT_EQUAL(other, getpid());
    CU_ASSERT_EQUAL(pidfile_open(path, &pf2, NULL), -EEXIST);

    pidfile_remove(pf);
    CU_ASSERT_EQUAL(access(path, F_OK), -1);
    CU_ASSERT_EQUAL(pidfile_owner(path), -ENOENT);
}

static void test_stale(void)
{
    /* Left by a dead process: nobody holds the lock, so it is taken over in place. */
    put(path, "99999999\n");
    struct stat before, after;
    CU_ASSERT_EQUAL(stat(path, &before), 0);
    CU_ASSERT_EQUAL(pidfile_owner(path), 0);
    struct pidfile *pf;
    pid_t other = -1;
    CU_ASSERT_EQUAL_FATAL(pidfile_open(path, &pf, &other), 0);
    CU_ASSERT_EQUAL(other, 0);
    CU_ASSERT_STRING_EQUAL(slurp(path), ""); /* the stale pid is gone at once */
    CU_ASSERT_EQUAL(pidfile_write(pf), 0);
    CU_ASSERT_STRING_EQUAL(slurp(path), mypid());
    CU_ASSERT_EQUAL(stat(path, &after), 0);
    CU_ASSERT_EQUAL(before.st_ino, after.st_ino);
    pidfile_remove(pf);
    CU_ASSERT_EQUAL(access(path, F_OK), -1);
}

static void test_lock_survives_fork(void)
{
    /* Opened before detaching, the lock must belong to the forked daemon. */
    struct pidfile *pf;
    CU_ASSERT_EQUAL_FATAL(pidfile_open(path, &pf, NULL), 0);
    int sync[2];
    CU_ASSERT_EQUAL_FATAL(pipe(sync), 0);
    pid_t child = fork();
    CU_ASSERT_FATAL(child >= 0);
    if (child == 0) {
        close(sync[0]);
        if (pidfile_write(pf) != 0)
            _exit(1);
        (void)!write(sync[1], "x", 1);
        pause();
        _exit(0);
    }
    close(sync[1]);
    char c;
    CU_ASSERT_EQUAL(read(sync[0], &c, 1), 1);
    close(sync[0]);
    pidfile_close(pf); /* the parent leaves, as daemon_detach's original process does */
    CU_ASSERT_EQUAL(access(path, F_OK), 0);
    struct pidfile *pf2;
    pid_t other = 0;
    CU_ASSERT_EQUAL(pidfile_open(path, &pf2, &other), -EEXIST);
    CU_ASSERT_EQUAL(other, child);
    CU_ASSERT_EQUAL(pidfile_owner(path), child);
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    /* Dead now: stale, taken over. */
    CU_ASSERT_EQUAL(pidfile_open(path, &pf2, &other), 0);
    CU_ASSERT_EQUAL(other, 0);
    pidfile_remove(pf2);
}

static void test_refusals(void)
{
    char target[PATH_MAX], lnk[PATH_MAX];
    struct pidfile *pf;
    /* Never through a symlink, dangling or not. */
    snprintf(target, sizeof(target), "%s/target", dir);
    snprintf(lnk, sizeof(lnk), "%s/link.pid", dir);
    CU_ASSERT_EQUAL(symlink(target, lnk), 0);
    CU_ASSERT_EQUAL(pidfile_open(lnk, &pf, NULL), -ELOOP);
    CU_ASSERT_EQUAL(access(target, F_OK), -1);
    put(target, "1\n");
    CU_ASSERT_EQUAL(pidfile_open(lnk, &pf, NULL), -ELOOP);
    CU_ASSERT_STRING_EQUAL(slurp(target), "1\n");
    unlink(lnk);
    /* Not over a hard link to some other file. */
    CU_ASSERT_EQUAL(link(target, path), 0);
    CU_ASSERT_EQUAL(pidfile_open(path, &pf, NULL), -EINVAL);
    CU_ASSERT_STRING_EQUAL(slurp(target), "1\n");
    unlink(path);
    unlink(target);
    /* Not a fifo (without hanging) nor a directory. */
    CU_ASSERT_EQUAL(mkfifo(path, 0644), 0);
    CU_ASSERT_EQUAL(pidfile_open(path, &pf, NULL), -EINVAL);
    unlink(path);
    CU_ASSERT_EQUAL(mkdir(path, 0755), 0);
    CU_ASSERT_EQUAL(pidfile_open(path, &pf, NULL), -EISDIR);
    rmdir(path);
    /* A missing directory is the caller's error to report. */
    snprintf(lnk, sizeof(lnk), "%s/nodir/x.pid", dir);
    CU_ASSERT_EQUAL(pidfile_open(lnk, &pf, NULL), -ENOENT);
}

static void test_remove_only_ours(void)
{
    /* Replaced behind our back: removal leaves the new file alone. */
    struct pidfile *pf;
    CU_ASSERT_EQUAL_FATAL(pidfile_open(path, &pf, NULL), 0);
    CU_ASSERT_EQUAL(pidfile_write(pf), 0);
    char moved[PATH_MAX];
    snprintf(moved, sizeof(moved), "%s/moved", dir);
    CU_ASSERT_EQUAL(rename(path, moved), 0);
    put(path, "4242\n");
    pidfile_remove(pf);
    CU_ASSERT_STRING_EQUAL(slurp(path), "4242\n");
    CU_ASSERT_STRING_EQUAL(slurp(moved), ""); /* ours was emptied */
    unlink(moved);
    unlink(path);
    pidfile_remove(NULL);
    pidfile_close(NULL);
    CU_ASSERT_EQUAL(rmdir(dir), 0);
}

static const struct cu_test pidfile_tests[] = {
    {"create, lock, remove", test_create_lock_remove},
    {"stale file taken over", test_stale},
    {"lock survives fork", test_lock_survives_fork},
    {"symlink, hard link, fifo, dir", test_refusals},
    {"removes only its own file", test_remove_only_ours},
    {NULL, NULL},
};

CU_MAIN({"daemon/pidfile", pidfile_tests})
