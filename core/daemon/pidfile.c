#include "core/daemon/pidfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct pidfile {
    int fd;
    dev_t dev;
    ino_t ino;
    char path[];
};

/* Rounds of "someone removed or replaced the file under us" before giving up. */
#define PIDFILE_RETRIES 8

static int lock_fd(int fd)
{
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
    return fcntl(fd, F_OFD_SETLK, &fl) < 0 ? -errno : 0;
}

/* The decimal pid at the start of the file; 0 when there is none. */
static pid_t read_pid(int fd)
{
    char buf[32];
    ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    char *end;
    errno = 0;
    long v = strtol(buf, &end, 10);
    if (errno || end == buf || (*end != '\n' && *end != '\0') || v <= 0 || v > 0x3fffffff)
        return 0;
    return (pid_t)v;
}

/* Whether path still names the file open on fd (not unlinked or replaced). */
static bool same_file(const char *path, const struct stat *st)
{
    struct stat now;
    return lstat(path, &now) == 0 && now.st_dev == st->st_dev && now.st_ino == st->st_ino;
}

int pidfile_open(const char *path, struct pidfile **out, pid_t *other)
{
    *out = NULL;
    if (other)
        *other = 0;
    for (int round = 0; round < PIDFILE_RETRIES; round++) {
        bool created = true;
        int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0644);
        if (fd < 0 && errno == EEXIST) {
            created = false;
            /* O_NONBLOCK: a planted fifo or device must not hang the start. */
            fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
            if (fd < 0 && errno == ENOENT)
                continue; /* its owner removed it meanwhile */
        }
        if (fd < 0)
            return -errno;
        struct stat st;
        if (fstat(fd, &st) < 0) {
            int e = errno;
            close(fd);
            return -e;
        }
        if (!S_ISREG(st.st_mode) || (!created && st.st_nlink != 1)) {
            close(fd);
            return -EINVAL;
        }
        int rc = lock_fd(fd);
        if (rc == -EAGAIN || rc == -EACCES) {
            if (other)
                *other = read_pid(fd);
            close(fd);
            return -EEXIST;
        }
        if (rc < 0) {
            close(fd);
            return rc;
        }
        /* The previous owner may have unlinked it between our open and lock. */
        if (!same_file(path, &st)) {
            close(fd);
            continue;
        }
        /* A stale file keeps its inode; its old content goes. Mode 0644 whatever the umask. */
        if ((!created && ftruncate(fd, 0) < 0) || (created && fchmod(fd, 0644) < 0)) {
            int e = errno;
            close(fd);
            return -e;
        }
        size_t len = strlen(path) + 1;
        struct pidfile *pf = malloc(sizeof(*pf) + len);
        if (!pf) {
            if (created)
                unlink(path);
            close(fd);
            return -ENOMEM;
        }
        pf->fd = fd;
        pf->dev = st.st_dev;
        pf->ino = st.st_ino;
        memcpy(pf->path, path, len);
        *out = pf;
        return 0;
    }
    return -EAGAIN;
}

int pidfile_write(struct pidfile *pf)
{
    char buf[24];
    int n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
    if (ftruncate(pf->fd, 0) < 0)
        return -errno;
    ssize_t w = pwrite(pf->fd, buf, (size_t)n, 0);
    if (w < 0)
        return -errno;
    return w == n ? 0 : -EIO;
}

void pidfile_close(struct pidfile *pf)
{
    if (!pf)
        return;
    close(pf->fd);
    free(pf);
}

void pidfile_remove(struct pidfile *pf)
{
    if (!pf)
        return;
    struct stat st = {.st_dev = pf->dev, .st_ino = pf->ino};
    /*
     * Empty it first: if the unlink is refused (the daemon no longer may
     * write the directory) no pid that could be reused stays behind.
     */
    (void)!ftruncate(pf->fd, 0);
    if (same_file(pf->path, &st))
        (void)unlink(pf->path);
    pidfile_close(pf);
}

pid_t pidfile_owner(const char *path)
{
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0)
        return -errno;
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
    pid_t rc;
    if (fcntl(fd, F_OFD_GETLK, &fl) < 0)
        rc = -errno;
    else if (fl.l_type == F_UNLCK)
        rc = 0;
    else {
        rc = read_pid(fd);
        if (rc == 0)
            rc = -EBADMSG;
    }
    close(fd);
    return rc;
}
