/*
 * uftp's storage: the sender engine's file reads (sender_storage), one
 * preadv per data batch (DESIGN.md "The path of a data packet").
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "sender/uftp.h"

struct rfile {
    int fd;
};

static int st_open(void *ctx, const struct file_item *it, void **h)
{
    (void)ctx;
    int fd = open(it->path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return -errno;
    struct stat sb;
    if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
        int e = S_ISREG(sb.st_mode) ? errno : EINVAL;
        close(fd);
        return -e;
    }
    (void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    struct rfile *f = malloc(sizeof(*f));
    if (f == NULL) {
        close(fd);
        return -ENOMEM;
    }
    f->fd = fd;
    *h = f;
    return 0;
}

/* One preadv per batch; a short read is retried for the rest, EOF ends it. */
static ssize_t st_read(void *ctx, void *h, uint64_t off, const struct iovec *iov, int iovcnt)
{
    (void)ctx;
    struct rfile *f = h;
    struct iovec v[ENG_MAX_SEG];
    if (iovcnt < 0 || iovcnt > ENG_MAX_SEG)
        return -EINVAL;
    memcpy(v, iov, (size_t)iovcnt * sizeof(*v));
    struct iovec *p = v;
    int n = iovcnt;
    ssize_t total = 0;
    while (n > 0) {
        ssize_t r = preadv(f->fd, p, n, (off_t)(off + (uint64_t)total));
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (r == 0)
            break; /* the file shrank */
        total += r;
        while (n > 0 && (size_t)r >= p->iov_len) {
            r -= (ssize_t)p->iov_len;
            p++;
            n--;
        }
        if (n > 0) {
            p->iov_base = (uint8_t *)p->iov_base + r;
            p->iov_len -= (size_t)r;
        }
    }
    return total;
}

static void st_close(void *ctx, void *h)
{
    (void)ctx;
    struct rfile *f = h;
    close(f->fd);
    free(f);
}

const struct sender_storage file_storage = {st_open, st_read, st_close};
