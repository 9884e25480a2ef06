#include "core/fs/beneath.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/base/file.h"
#include "core/wire/wire.h"

/* Directories are opened readable (fs_session_move lists them) and never through a link. */
#define DIR_FLAGS (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)

static enum fs_resolve_mode resolve_mode = FS_RESOLVE_AUTO;
static int have_openat2 = -1; /* -1: not probed yet */

void fs_set_resolve_mode(enum fs_resolve_mode mode)
{
    resolve_mode = mode;
}

static long sys_openat2(int dirfd, const char *path, int flags)
{
    struct open_how how;
    memset(&how, 0, sizeof(how));
    how.flags = (uint64_t)flags;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
    return syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
}

bool fs_using_openat2(void)
{
    if (resolve_mode == FS_RESOLVE_WALK)
        return false;
    if (have_openat2 < 0) {
        long fd = sys_openat2(AT_FDCWD, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd >= 0) {
            close((int)fd);
            have_openat2 = 1;
        } else {
            /* Old kernels say ENOSYS; some seccomp filters say EPERM. */
            have_openat2 = !(errno == ENOSYS || errno == EPERM);
        }
    }
    return have_openat2 == 1;
}

static int dup_dir(int fd)
{
    int d = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    return d < 0 ? -errno : d;
}

/* Why did opening name (beneath dir) as a directory fail with e? */
static int classify(int dir, const char *name, int e)
{
    struct stat st;
    if (fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
        if (S_ISLNK(st.st_mode))
            return FILE_ESYMLINK;
        if (!S_ISDIR(st.st_mode))
            return -ENOTDIR;
    }
    return -e;
}

/* Opens one component (no '/') beneath dir, creating it if asked. */
static int open_one(int dir, const char *name, bool create)
{
    for (int tries = 0; tries < 2; tries++) {
        int fd = openat(dir, name, DIR_FLAGS);
        if (fd >= 0)
            return fd;
        int e = errno;
        if (e == ENOENT && create && tries == 0) {
            /* EEXIST: someone else made it meanwhile; open what is there. */
            if (mkdirat(dir, name, 0777) == 0 || errno == EEXIST)
                continue;
            return -errno;
        }
        if (e == ELOOP || e == ENOTDIR)
            return classify(dir, name, e);
        return -e;
    }
    return -ENOENT;
}

/* The fallback: one openat(O_NOFOLLOW | O_DIRECTORY) per component (spec §6.2 fix). */
static int walk_open(int base, char *path, bool create)
{
    int cur = base;
    char *p = path;

    while (*p) {
        char *slash = strchr(p, '/');
        if (slash)
            *slash = '\0';
        int fd = open_one(cur, p, create);
        if (slash)
            *slash = '/';
        if (cur != base)
            close(cur);
        if (fd < 0)
            return fd;
        cur = fd;
        if (!slash)
            break;
        p = slash + 1;
    }
    return cur == base ? dup_dir(base) : cur;
}

/* Opens the directory path (relative, checked) beneath base. */
static int open_path(int base, char *path, bool create)
{
    if (fs_using_openat2()) {
        for (int tries = 0; tries < 8; tries++) {
            long fd = sys_openat2(base, path, DIR_FLAGS);
            if (fd >= 0)
                return (int)fd;
            /* EAGAIN: a concurrent rename raced the lookup; try again. */
            if (errno == EAGAIN || errno == EINTR)
                continue;
            if (errno == ENOSYS)
                have_openat2 = 0;
            /*
             * A link or non-directory on the way (ELOOP, ENOTDIR), or a
             * missing directory to create: the walk, which is just as safe,
             * says which component and creates what is missing.
             */
            if (errno == ELOOP || errno == ENOTDIR || errno == ENOSYS ||
                (errno == ENOENT && create))
                break;
            return -errno;
        }
    }
    return walk_open(base, path, create);
}

int fs_dir_open(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    return fd < 0 ? -errno : fd;
}

int fs_parent_open(int base, const char *rel, unsigned flags, const char **leaf)
{
    char buf[PATH_MAX + 1];
    int rc = file_rel_check(rel);
    if (rc < 0)
        return rc;
    const char *slash = strrchr(rel, '/');
    if (!slash) {
        *leaf = rel;
        return dup_dir(base);
    }
    *leaf = slash + 1;
    size_t n = (size_t)(slash - rel);
    memcpy(buf, rel, n);
    buf[n] = '\0';
    return open_path(base, buf, flags & FS_F_PARENTS);
}

int fs_subdir_open(int base, const char *rel, unsigned flags)
{
    char buf[PATH_MAX + 1];
    int rc = file_rel_check(rel);
    if (rc < 0)
        return rc;
    snprintf(buf, sizeof(buf), "%s", rel);
    return open_path(base, buf, flags & FS_F_PARENTS);
}

int fs_file_open(int base, const char *rel, unsigned flags)
{
    const char *leaf;
    struct stat st;
    int rc = 0;
    int pfd = fs_parent_open(base, rel, flags, &leaf);
    if (pfd < 0)
        return pfd;

    /* Refuse a non-regular target before open() can touch a device. */
    if (fstatat(pfd, leaf, &st, AT_SYMLINK_NOFOLLOW) == 0) {
        if (S_ISLNK(st.st_mode))
            rc = FILE_EFINALLINK;
        else if (S_ISDIR(st.st_mode))
            rc = -EISDIR;
        else if (!S_ISREG(st.st_mode))
            rc = FILE_ENOTREG;
        else if (flags & FS_F_EXCL)
            rc = -EEXIST;
        if (rc < 0)
            goto out;
    }
    int oflags = O_WRONLY | O_CREAT | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK | O_CLOEXEC;
    if (flags & FS_F_EXCL)
        oflags |= O_EXCL;
    int fd = openat(pfd, leaf, oflags, 0666);
    if (fd < 0) {
        int e = errno;
        if (e == ELOOP)
            rc = FILE_EFINALLINK;
        else if (e == ENXIO)
            rc = FILE_ENOTREG; /* a fifo swapped in */
        else
            rc = -e;
        goto out;
    }
    /* Re-check what was actually opened: the tree may change under us. */
    if (fstat(fd, &st) < 0) {
        rc = -errno;
    } else if (!S_ISREG(st.st_mode)) {
        rc = FILE_ENOTREG;
    } else if (st.st_nlink > 1) {
        rc = FILE_EHARDLINK;
    } else if ((flags & FS_F_TRUNC) && st.st_size > 0 && ftruncate(fd, 0) < 0) {
        /* Truncate only after the checks: O_TRUNC would hit a hard-linked file. */
        rc = -errno;
    } else {
        int fl = fcntl(fd, F_GETFL);
        if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0)
            rc = -errno;
    }
    if (rc < 0)
        close(fd);
    else
        rc = fd;
out:
    close(pfd);
    return rc;
}

int fs_temp_name(char *out, size_t cap, const char *rel, uint32_t group_id, uint16_t file_id)
{
    int n = snprintf(out, cap, "%s.~uftp-%08X-%04X", rel, (unsigned)group_id, (unsigned)file_id);
    if (n < 0 || (size_t)n >= cap)
        return -ENAMETOOLONG;
    const char *leaf = strrchr(out, '/');
    leaf = leaf ? leaf + 1 : out;
    if (strlen(leaf) > NAME_MAX)
        return -ENAMETOOLONG;
    return n;
}

int fs_rename(int fbase, const char *from, int tbase, const char *to, unsigned flags)
{
    const char *fleaf, *tleaf;
    int rc;
    int fp = fs_parent_open(fbase, from, 0, &fleaf);
    if (fp < 0)
        return fp;
    int tp = fs_parent_open(tbase, to, flags & FS_F_PARENTS, &tleaf);
    if (tp < 0) {
        close(fp);
        return tp;
    }
    if (flags & FS_F_NOREPLACE) {
        rc = renameat2(fp, fleaf, tp, tleaf, RENAME_NOREPLACE);
        if (rc < 0 && errno == EINVAL) {
            /* The filesystem lacks RENAME_NOREPLACE: check, then rename. */
            struct stat st;
            if (fstatat(tp, tleaf, &st, AT_SYMLINK_NOFOLLOW) == 0)
                errno = EEXIST;
            else
                rc = renameat(fp, fleaf, tp, tleaf);
        }
    } else {
        rc = renameat(fp, fleaf, tp, tleaf);
    }
    rc = rc < 0 ? -errno : 0;
    close(fp);
    close(tp);
    return rc;
}

/* Removes name beneath dir, recursively, never following a symlink. */
static int remove_at(int dir, const char *name, int depth)
{
    struct stat st;
    if (fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return -errno;
    if (!S_ISDIR(st.st_mode))
        return unlinkat(dir, name, 0) < 0 ? -errno : 0;
    if (depth >= FS_REMOVE_MAX_DEPTH)
        return FILE_EDEPTH;

    int first = 0;
    for (int pass = 0; pass < 3; pass++) {
        int fd = openat(dir, name, DIR_FLAGS);
        if (fd < 0) {
            /* Swapped for a link since the stat: remove the link only. */
            if (errno == ELOOP || errno == ENOTDIR)
                return unlinkat(dir, name, 0) < 0 ? -errno : 0;
            return -errno;
        }
        DIR *d = fdopendir(fd);
        if (!d) {
            int e = errno;
            close(fd);
            return -e;
        }
        struct dirent *de;
        while ((de = readdir(d)) != NULL) {
            if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                continue;
            int rc = remove_at(dirfd(d), de->d_name, depth + 1);
            if (rc < 0 && rc != -ENOENT && first == 0)
                first = rc;
        }
        closedir(d);
        if (unlinkat(dir, name, AT_REMOVEDIR) == 0)
            return first;
        /* ENOTEMPTY: entries appeared while we listed; go round again. */
        if (errno != ENOTEMPTY || first < 0)
            return first < 0 ? first : -errno;
    }
    return -ENOTEMPTY;
}

int fs_remove(int base, const char *rel)
{
    const char *leaf;
    int pfd = fs_parent_open(base, rel, 0, &leaf);
    if (pfd < 0)
        return pfd;
    int rc = remove_at(pfd, leaf, 0);
    close(pfd);
    return rc;
}

int fs_symlink(int base, const char *rel, const char *target, unsigned flags)
{
    const char *leaf;
    int pfd = fs_parent_open(base, rel, flags, &leaf);
    if (pfd < 0)
        return pfd;
    int rc = symlinkat(target, pfd, leaf) < 0 ? -errno : 0;
    close(pfd);
    return rc;
}

int fs_mkdir(int base, const char *rel, unsigned flags)
{
    const char *leaf;
    int pfd = fs_parent_open(base, rel, flags, &leaf);
    if (pfd < 0)
        return pfd;
    int rc = 0;
    if (mkdirat(pfd, leaf, 0777) < 0) {
        rc = -errno;
        struct stat st;
        if (errno == EEXIST && fstatat(pfd, leaf, &st, AT_SYMLINK_NOFOLLOW) == 0) {
            if (S_ISDIR(st.st_mode))
                rc = 0;
            else if (S_ISLNK(st.st_mode))
                rc = FILE_EFINALLINK;
        }
    }
    close(pfd);
    return rc;
}

int fs_set_mtime(int base, const char *rel, int64_t mtime)
{
    const char *leaf;
    int pfd = fs_parent_open(base, rel, 0, &leaf);
    if (pfd < 0)
        return pfd;
    struct timespec ts[2] = {{(time_t)mtime, 0}, {(time_t)mtime, 0}};
    int rc = utimensat(pfd, leaf, ts, AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0;
    close(pfd);
    return rc;
}

int fs_stat(int base, const char *rel, struct file_stat *out)
{
    const char *leaf;
    struct stat st;
    int pfd = fs_parent_open(base, rel, 0, &leaf);
    if (pfd < 0)
        return pfd;
    int rc = fstatat(pfd, leaf, &st, AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0;
    close(pfd);
    if (rc < 0)
        return rc;
    out->type = S_ISREG(st.st_mode)   ? FTYPE_REG
                : S_ISDIR(st.st_mode) ? FTYPE_DIR
                : S_ISLNK(st.st_mode) ? FTYPE_LINK
                                      : -1;
    out->size = (uint64_t)st.st_size;
    out->mtime = (int64_t)st.st_mtime;
    out->mode = st.st_mode;
    out->nlink = st.st_nlink;
    out->dev = st.st_dev;
    return 0;
}

int fs_free_space(int dirfd, uint64_t *avail)
{
    struct statvfs sv;
    if (fstatvfs(dirfd, &sv) < 0)
        return -errno;
    uint64_t fr = sv.f_frsize ? sv.f_frsize : sv.f_bsize;
    uint64_t blocks = sv.f_bavail;
    *avail = (fr && blocks > UINT64_MAX / fr) ? UINT64_MAX : blocks * fr;
    return 0;
}

bool fs_same_fs(int fd1, int fd2)
{
    struct stat a, b;
    return fstat(fd1, &a) == 0 && fstat(fd2, &b) == 0 && a.st_dev == b.st_dev;
}

static fs_pwritev_fn pwritev_fn = pwritev;

void fs_set_pwritev(fs_pwritev_fn fn)
{
    pwritev_fn = fn ? fn : pwritev;
}

/* iovecs per pwritev: Linux takes up to 1024 (IOV_MAX); a receive batch of
 * blocks leaves in one call. */
#define IOV_CHUNK 1024

ssize_t fs_pwritev_all(int fd, const struct iovec *iov, int iovcnt, off_t off)
{
    size_t total = 0, done = 0, i = 0, skip = 0;
    size_t cnt = iovcnt < 0 ? 0 : (size_t)iovcnt;

    if (iovcnt < 0 || off < 0)
        return -EINVAL;
    for (size_t k = 0; k < cnt; k++) {
        if (iov[k].iov_len > (size_t)SSIZE_MAX - total)
            return -EINVAL;
        total += iov[k].iov_len;
    }
    while (done < total) {
        struct iovec v[IOV_CHUNK];
        int n = 0;
        for (size_t j = i; j < cnt && n < IOV_CHUNK; j++) {
            size_t s = j == i ? skip : 0;
            if (iov[j].iov_len == s)
                continue;
            v[n].iov_base = (char *)iov[j].iov_base + s;
            v[n].iov_len = iov[j].iov_len - s;
            n++;
        }
        ssize_t r = pwritev_fn(fd, v, n, off);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            if (errno == ENOSPC || errno == EDQUOT)
                return -ENOSPC;
            return -errno;
        }
        /* No progress on a regular file means the device is failing. */
        if (r == 0 || (size_t)r > total - done)
            return -EIO;
        off += r;
        done += (size_t)r;
        size_t left = (size_t)r;
        while (left > 0 && i < cnt) {
            size_t avail = iov[i].iov_len - skip;
            if (left < avail) {
                skip += left;
                left = 0;
            } else {
                left -= avail;
                i++;
                skip = 0;
            }
        }
    }
    return (ssize_t)done;
}

ssize_t fs_pwrite_all(int fd, const void *buf, size_t len, off_t off)
{
    struct iovec v = {(void *)buf, len};
    return fs_pwritev_all(fd, &v, 1, off);
}

int fs_session_name(char *out, size_t cap, uint32_t server_id, uint32_t group_id, uint8_t inst)
{
    int n = snprintf(out, cap, "_group_%08X_%u_%08X", (unsigned)group_id, (unsigned)inst,
                     (unsigned)server_id);
    return (n < 0 || (size_t)n >= cap) ? -ENAMETOOLONG : n;
}

int fs_session_open(int tempbase, uint32_t server_id, uint32_t group_id, uint8_t inst,
                    unsigned flags)
{
    char name[48];
    fs_session_name(name, sizeof(name), server_id, group_id, inst);
    return fs_subdir_open(tempbase, name, flags);
}

/* Lists dir's entries (fresh open file description), sorted. */
static int list_dir(int dir, char ***out, size_t *count)
{
    int fd = openat(dir, ".", DIR_FLAGS);
    if (fd < 0)
        return -errno;
    DIR *d = fdopendir(fd);
    if (!d) {
        int rc = -errno;
        close(fd);
        return rc;
    }
    return fs_dir_names(d, out, count);
}

int fs_session_move(int sessfd, int destfd, fs_move_fn exists, void *arg)
{
    char **names = NULL;
    size_t n = 0;
    int moved = 0, rc = list_dir(sessfd, &names, &n);
    if (rc < 0)
        return rc;
    if (n && !fs_same_fs(sessfd, destfd))
        rc = -EXDEV; /* spec §2.2 -T: rename only; tell the operator */
    for (size_t i = 0; i < n && rc >= 0; i++) {
        struct stat ts, ss;
        if (fstatat(destfd, names[i], &ts, AT_SYMLINK_NOFOLLOW) == 0) {
            if (exists) {
                int r = exists(names[i], arg);
                if (r < 0) {
                    rc = r;
                    break;
                }
                if (r == 1)
                    continue;
            } else if (fstatat(sessfd, names[i], &ss, AT_SYMLINK_NOFOLLOW) < 0) {
                rc = -errno;
                break;
            } else if (S_ISDIR(ts.st_mode) || S_ISDIR(ss.st_mode)) {
                /* Whole top-level dirs replace existing ones (spec §2.2 -T). */
                int r = fs_remove(destfd, names[i]);
                if (r < 0 && r != -ENOENT) {
                    rc = r;
                    break;
                }
            }
        }
        if (renameat(sessfd, names[i], destfd, names[i]) < 0) {
            rc = -errno;
            break;
        }
        moved++;
    }
    fs_names_free(names, n);
    return rc < 0 ? rc : moved;
}
