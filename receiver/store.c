/*
 * uftpd's storage over core/fs; see store.h for the rules it keeps.
 */
#include "receiver/store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/fs/beneath.h"
#include "core/fs/fs.h"
#include "core/base/file.h"
#include "core/log.h"
#include "core/wire/wire.h"
#include "receiver/rstate.h"

enum wmode {
    W_TMPFILE, /* unnamed O_TMPFILE, linked in at the end */
    W_NAMED,   /* NAME.~uftp-GROUP-FILE, renamed at the end */
    W_INPLACE, /* -T: the session dir is the temp space */
};

struct wfile {
    enum wmode mode;
    int fd;
    int dirfd; /* the directory holding the final name */
    char leaf[NAME_MAX + 1];
    char tmp[NAME_MAX + 1];
    int64_t mtime;
    uint64_t size;     /* what the FILEINFO declared */
    uint64_t reserved; /* bytes reserved with fallocate from offset 0 */
    uint8_t *cbuf;     /* cache: one run of consecutive bytes at coff (allocated on first use) */
    size_t ccap, clen;
    uint64_t coff;
    /* Queue: a run of consecutive blocks still in the receive buffers, at qoff. */
    struct iovec *qv;
    size_t qn;
    size_t qlen;
    uint64_t qoff;
    struct wfile *qnext; /* on the store's list of files with a queue */
    bool queued;
    int err; /* sticky: the first write error */
    /* Issue 13 (-T): blocks written (1 bit each, f->blocksize), and the record's schedule. */
    uint8_t *map;
    uint32_t blocksize, blocks;
    struct store_sess *sess;
    uint64_t unsynced;  /* bytes written since the record was last brought up to date */
    uint64_t synced_at; /* CLOCK_MONOTONIC µs of that */
    int rfd;            /* read back for parity decoding (issue 17): opened on first use, else -1 */
    bool fresh;         /* nothing was at the final name when the file was opened */
};

/* ---- directories ---- */

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* mkdir -p for the built-in default destination (a trusted, absolute path). */
static int mkdir_p(const char *path, mode_t mode)
{
    char buf[PATH_MAX];
    if (strlen(path) >= sizeof(buf))
        return -ENAMETOOLONG;
    memcpy(buf, path, strlen(path) + 1);
    for (char *p = buf + 1;; p++) {
        if (*p == '/' || *p == '\0') {
            char c = *p;
            *p = '\0';
            if (mkdir(buf, mode) < 0 && errno != EEXIST)
                return -errno;
            *p = c;
            if (c == '\0')
                break;
        }
    }
    return 0;
}

/* O_TMPFILE in dirfd, then linked to a name: needs kernel, file system and /proc support. */
static int tmpfile_link(int fd, int dirfd, const char *name)
{
    char proc[64];
    snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
    if (linkat(AT_FDCWD, proc, dirfd, name, AT_SYMLINK_FOLLOW) == 0)
        return 0;
    int e = errno;
    /* Without /proc: AT_EMPTY_PATH (needs CAP_DAC_READ_SEARCH). */
    if (linkat(fd, "", dirfd, name, AT_EMPTY_PATH) == 0)
        return 0;
    return -e;
}

static bool probe_tmpfile(int dirfd)
{
    int fd = openat(dirfd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
    if (fd < 0)
        return false;
    char name[64];
    snprintf(name, sizeof(name), ".~uftp-probe-%ld", (long)getpid());
    (void)unlinkat(dirfd, name, 0);
    bool ok = tmpfile_link(fd, dirfd, name) == 0;
    close(fd);
    if (ok)
        (void)unlinkat(dirfd, name, 0);
    return ok;
}

int store_init(struct store *st, const char *const *dests, size_t ndest, const char *tempdir,
               bool named_temp, size_t cache, const char *create_default)
{
    memset(st, 0, sizeof(*st));
    st->tempfd = -1;
    for (size_t i = 0; i < FILE_MAX_DIRS; i++)
        st->destfd[i] = st->backupfd[i] = -1;
    for (size_t i = 0; i < RECEIVER_MAX_SESSIONS; i++)
        st->sess[i].fd = -1;
    if (ndest == 0 || ndest > FILE_MAX_DIRS)
        return -EINVAL;
    st->dests = dests;
    st->ndest = ndest;
    st->cache = cache;
    st->prealloc = STORE_PREALLOC_DEF;
    for (size_t i = 0; i < ndest; i++) {
        int fd = fs_dir_open(dests[i]);
        if (fd == -ENOENT && create_default != NULL && ndest == 1 &&
            strcmp(dests[i], create_default) == 0) {
            int rc = mkdir_p(dests[i], 0750);
            if (rc < 0) {
                log_errx("cannot create destination %s: %s", dests[i], strerror(-rc));
                return rc;
            }
            log_info("created destination %s", dests[i]);
            fd = fs_dir_open(dests[i]);
        }
        if (fd < 0) {
            log_errx("destination %s: %s", dests[i], strerror(-fd));
            store_free(st);
            return fd;
        }
        st->destfd[i] = fd;
    }
    if (tempdir != NULL) {
        st->tempfd = fs_dir_open(tempdir);
        if (st->tempfd < 0) {
            int rc = st->tempfd;
            log_errx("temp dir %s: %s", tempdir, strerror(-rc));
            store_free(st);
            return rc;
        }
        /* Files move into place with rename(2), so -T must share the destination's fs. */
        if (!fs_same_fs(st->tempfd, st->destfd[0])) {
            log_errx("temp dir %s is not on the file system of %s", tempdir, dests[0]);
            store_free(st);
            return -EXDEV;
        }
    }
    st->use_tmpfile = !named_temp && tempdir == NULL && probe_tmpfile(st->destfd[0]);
    log_verbose("storage: %s, cache %zu bytes",
                tempdir           ? "session temp dir"
                : st->use_tmpfile ? "unnamed temp files"
                                  : "named temp files",
                cache);
    return 0;
}

static void sess_release(struct store_sess *s);

void store_free(struct store *st)
{
    for (size_t i = 0; i < FILE_MAX_DIRS; i++) {
        if (st->destfd[i] >= 0)
            close(st->destfd[i]);
        if (st->backupfd[i] >= 0)
            close(st->backupfd[i]);
        st->destfd[i] = st->backupfd[i] = -1;
    }
    st->nbackup = 0;
    for (size_t i = 0; i < RECEIVER_MAX_SESSIONS; i++)
        sess_release(&st->sess[i]);
    if (st->tempfd >= 0)
        close(st->tempfd);
    st->tempfd = -1;
}

static void fail_log(const struct receiver_file *f, const char *what, int err)
{
    char esc[200];
    file_name_escape(esc, sizeof(esc), f->name, strlen(f->name));
    log_verbose("group %08X: %s '%s': %s", f->group_id, what, esc, file_strerror(err));
}

int store_set_backups(struct store *st, const char *const *dirs, size_t n)
{
    if (n != st->ndest) {
        log_errx("give one backup dir (-A) per destination dir (-D): %zu for %zu", n, st->ndest);
        return -EINVAL;
    }
    for (size_t i = 0; i < n; i++) {
        if (dirs[i][0] != '/' || strcmp(dirs[i], st->dests[i]) == 0) {
            log_errx("backup dir %s: must be absolute and not the destination dir", dirs[i]);
            return -EINVAL;
        }
        int fd = fs_dir_open(dirs[i]);
        if (fd < 0) {
            log_errx("backup dir %s: %s", dirs[i], strerror(-fd));
            return fd;
        }
        /* Replaced files move there by rename(2): no copies, nothing half-moved. */
        if (!fs_same_fs(fd, st->destfd[i])) {
            log_errx("backup dir %s is not on the file system of %s", dirs[i], st->dests[i]);
            close(fd);
            return -EXDEV;
        }
        if (st->backupfd[i] >= 0)
            close(st->backupfd[i]);
        st->backupfd[i] = fd;
    }
    st->nbackup = n;
    return 0;
}

void store_session_begin(struct store *st, uint32_t server_id, uint32_t group_id,
                         uint8_t group_inst, time_t t)
{
    struct store_start *free_slot = NULL;
    for (size_t i = 0; i < RECEIVER_MAX_SESSIONS; i++) {
        struct store_start *s = &st->starts[i];
        if (s->used && s->server_id == server_id && s->group_id == group_id &&
            s->group_inst == group_inst)
            return;
        if (!s->used && free_slot == NULL)
            free_slot = s;
    }
    if (free_slot == NULL)
        return;
    free_slot->used = true;
    free_slot->server_id = server_id;
    free_slot->group_id = group_id;
    free_slot->group_inst = group_inst;
    localtime_r(&t, &free_slot->tm);
}

static struct store_start *start_find(struct store *st, uint32_t server_id, uint32_t group_id,
                                      uint8_t group_inst)
{
    for (size_t i = 0; i < RECEIVER_MAX_SESSIONS; i++)
        if (st->starts[i].used && st->starts[i].server_id == server_id &&
            st->starts[i].group_id == group_id && st->starts[i].group_inst == group_inst)
            return &st->starts[i];
    return NULL;
}

/* dir + "/" + rel, for log lines and the post-receive command. */
static int join_path(char *out, size_t cap, const char *dir, const char *rel)
{
    size_t dl = strlen(dir);
    while (dl > 1 && dir[dl - 1] == '/')
        dl--;
    int n = snprintf(out, cap, "%.*s%s%s", (int)dl, dir, dl == 1 && dir[0] == '/' ? "" : "/", rel);
    return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : n;
}

static void received(struct store *st, uint32_t group_id, const char *dir, const char *rel)
{
    char path[PATH_MAX];
    if (st->received == NULL || join_path(path, sizeof(path), dir, rel) < 0)
        return;
    const char *p = path;
    st->received(st->received_arg, group_id, &p, 1);
}

/*
 * -A (spec §2.2): moves what is at leaf (beneath dirfd, the parent of f)
 * to backup/YYYYMMDD/HHMMSS/<dest>/<rel> before it is replaced or deleted.
 * A backup never replaces another (issue 14 item 4: the same name twice in
 * a session, or two sessions started in the same second): the name takes
 * a ".~N~" suffix instead. Returns 0 when moved or nothing was there, else
 * < 0: then the caller must neither replace nor delete it (5.0.1 went on
 * without the backup).
 */
#define BACKUP_MAX_SUFFIX 999

static int backup_existing(struct store *st, const struct receiver_file *f, int dirfd,
                           const char *leaf)
{
    if (f->dest >= st->nbackup || st->backupfd[f->dest] < 0)
        return -ENOENT;
    struct stat sb;
    if (fstatat(dirfd, leaf, &sb, AT_SYMLINK_NOFOLLOW) < 0)
        return errno == ENOENT ? 0 : -errno;
    struct tm tm;
    const struct store_start *ss = start_find(st, f->server_id, f->group_id, f->group_inst);
    if (ss != NULL) {
        tm = ss->tm;
    } else {
        time_t now = time(NULL);
        localtime_r(&now, &tm);
    }
    char rel[PATH_MAX], name[PATH_MAX];
    int rc = file_backup_name(rel, sizeof(rel), &tm, st->dests[f->dest], f->rel);
    for (int n = 0; rc >= 0; n++) {
        if (n > BACKUP_MAX_SUFFIX) {
            rc = -EEXIST;
            break;
        }
        int k = n == 0 ? snprintf(name, sizeof(name), "%s", rel)
                       : snprintf(name, sizeof(name), "%s.~%d~", rel, n);
        if (k < 0 || (size_t)k >= sizeof(name)) {
            rc = FILE_ENAME_LONG;
            break;
        }
        rc = fs_rename(dirfd, leaf, st->backupfd[f->dest], name, FS_F_PARENTS | FS_F_NOREPLACE);
        if (rc != -EEXIST && rc != -ENOTEMPTY)
            break; /* moved, or failed for good */
        rc = 0;    /* taken: the next name */
    }
    if (rc < 0)
        fail_log(f, "cannot back up the existing", rc);
    else
        log_verbose("group %08X: backed up the old %s to %s", f->group_id, leaf, name);
    return rc < 0 ? rc : 0;
}

/* -T state belongs to (server, group, instance), never to a group ID alone (issue 14 item 5). */
static struct store_sess *sess_find(struct store *st, uint32_t sid, uint32_t gid, uint8_t inst)
{
    for (size_t i = 0; i < RECEIVER_MAX_SESSIONS; i++)
        if (st->sess[i].fd >= 0 && st->sess[i].server_id == sid && st->sess[i].group_id == gid &&
            st->sess[i].group_inst == inst)
            return &st->sess[i];
    return NULL;
}

/* ---- restart state (issue 13, rstate.h) ---- */

static int w_flush(struct store *st, struct wfile *w);

/* A directory stream of its own (a dup'd fd would share the offset of earlier reads). */
static DIR *dir_at(int fd)
{
    int d = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (d < 0)
        return NULL;
    DIR *r = fdopendir(d);
    if (r == NULL)
        close(d);
    return r;
}

static uint64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static bool same_fp(const struct rstate *r, const struct receiver_file *f)
{
    return r->fplen == f->server_fplen &&
           (r->fplen == 0 || memcmp(r->fp, f->server_fp, r->fplen) == 0);
}

/* Removes a session dir and its record (expired, or moved into place). */
static void rs_remove(struct store *st, const char *dirname)
{
    char rec[96];
    snprintf(rec, sizeof(rec), "%s.restart", dirname);
    int rc = fs_remove(st->tempfd, dirname);
    if (rc < 0 && rc != -ENOENT)
        log_warnx("cannot remove %s: %s", dirname, file_strerror(rc));
    (void)unlinkat(st->tempfd, rec, 0);
}

/* "_group_G_I_S" parsed; false when the name is not a session dir's. */
static bool rs_parse(const char *name, uint32_t *g, unsigned *inst, uint32_t *s)
{
    char tail;
    return sscanf(name, "_group_%8X_%u_%8X%c", g, inst, s, &tail) == 3 && *inst <= 255;
}

/*
 * A new session of server sid: the most recent failed instance of the same
 * group, server and key fingerprint is renamed to this one's name and its
 * record kept as s->prev. Another server's state (another server ID, or
 * the same ID with another key) is never touched (issue 13).
 */
static void rs_resume(struct store *st, struct store_sess *s, const struct receiver_file *f)
{
    DIR *d = dir_at(st->tempfd);
    if (d == NULL)
        return;
    char **names = NULL;
    size_t n = 0;
    if (fs_dir_names(d, &names, &n) < 0)
        return;
    char best[64] = "";
    struct rstate *prev = NULL;
    int64_t now = (int64_t)time(NULL);
    for (size_t i = 0; i < n; i++) {
        uint32_t g, sid;
        unsigned inst;
        if (!rs_parse(names[i], &g, &inst, &sid) || strstr(names[i], ".") != NULL ||
            (g == f->group_id && sid == f->server_id && inst == f->group_inst))
            continue;
        char leaf[96];
        snprintf(leaf, sizeof(leaf), "%s.restart", names[i]);
        struct rstate *r = calloc(1, sizeof(*r));
        if (r == NULL || rstate_read(st->tempfd, leaf, r) < 0 || r->failed == 0 ||
            r->server_id != sid || r->group_id != g || r->group_inst != inst) {
            free(r);
            continue;
        }
        if (now - r->failed >= st->restart_keep_s) {
            /* Expired (anyone's): a running daemon drops it as each new session starts. */
            log_info("group %08X: restart state of %08X instance %u expired", g, sid, inst);
            rs_remove(st, names[i]);
            rstate_free(r);
            free(r);
            continue;
        }
        if (g != f->group_id || sid != f->server_id) {
            rstate_free(r);
            free(r);
            continue;
        }
        if (!same_fp(r, f)) {
            log_warnx("group %08X: restart state of %08X instance %u kept: the key differs", g, sid,
                      inst);
            rstate_free(r);
            free(r);
            continue;
        }
        /* The latest instance wins (instances count up, spec §1.1). */
        if (prev == NULL || inst > prev->group_inst) {
            if (prev != NULL) {
                rstate_free(prev);
                free(prev);
            }
            prev = r;
            snprintf(best, sizeof(best), "%s", names[i]);
        } else {
            rstate_free(r);
            free(r);
        }
    }
    fs_names_free(names, n);
    if (prev == NULL)
        return;
    char to[64], oldrec[96];
    fs_session_name(to, sizeof(to), f->server_id, f->group_id, f->group_inst);
    snprintf(oldrec, sizeof(oldrec), "%s.restart", best);
    if (renameat(st->tempfd, best, st->tempfd, to) < 0) {
        log_warnx("group %08X: cannot take over %s: %s", f->group_id, best, strerror(errno));
        rstate_free(prev);
        free(prev);
        return;
    }
    (void)unlinkat(st->tempfd, oldrec, 0);
    log_info("group %08X: resuming instance %u of server %08X (%s%s)", f->group_id,
             (unsigned)prev->group_inst, f->server_id,
             prev->has_file ? "a partial file: " : "no partial file",
             prev->has_file ? prev->rel : "");
    s->prev = prev;
}

/* The session's record, made on its first regular file. */
static struct rstate *rs_rec(struct store_sess *s, const struct receiver_file *f)
{
    if (s->rec == NULL && (s->rec = calloc(1, sizeof(*s->rec))) != NULL) {
        s->rec->server_id = f->server_id;
        s->rec->group_id = f->group_id;
        s->rec->group_inst = f->group_inst;
        if (f->server_fplen > 0 && f->server_fplen <= RSTATE_FP_MAX) {
            memcpy(s->rec->fp, f->server_fp, f->server_fplen);
            s->rec->fplen = f->server_fplen;
        }
    }
    return s->rec;
}

static void rs_write(struct store *st, struct store_sess *s)
{
    int rc = rstate_write(st->tempfd, s->rec);
    if (rc < 0)
        log_warnx("group %08X: cannot write the restart record: %s", s->group_id, strerror(-rc));
}

/*
 * The record brought up to date with w: its data flushed and on disk first,
 * so that no block the record calls received can be missing after a crash.
 */
static int rs_sync(struct store *st, struct wfile *w, bool has_file)
{
    struct rstate *r = w->sess ? w->sess->rec : NULL;
    if (r == NULL)
        return 0;
    if (has_file) {
        int rc = w_flush(st, w);
        if (rc < 0)
            return rc;
        if (fdatasync(w->fd) < 0)
            return -errno;
        size_t mb = ((size_t)w->blocks + 7) / 8;
        if (r->map == NULL || r->blocks != w->blocks) {
            free(r->map);
            if ((r->map = calloc(mb ? mb : 1, 1)) == NULL)
                return -ENOMEM;
        }
        memcpy(r->map, w->map, mb);
        r->blocks = w->blocks;
    }
    r->has_file = has_file;
    w->unsynced = 0;
    w->synced_at = mono_us();
    rs_write(st, w->sess);
    return 0;
}

/* The session's temp dir (-T), opened (and created) on first use. */
static int sess_fd(struct store *st, const struct receiver_file *f)
{
    uint32_t sid = f->server_id, gid = f->group_id;
    uint8_t inst = f->group_inst;
    struct store_sess *s = sess_find(st, sid, gid, inst);
    if (s != NULL)
        return s->fd;
    for (size_t i = 0; i < RECEIVER_MAX_SESSIONS; i++) {
        if (st->sess[i].fd >= 0)
            continue;
        st->sess[i] = (struct store_sess){sid, gid, inst, -1, NULL, NULL};
        if (st->restart_keep_s > 0) {
            /* Issue 13: this exact name kept by someone else is not ours to write into. */
            char leaf[96];
            struct rstate r;
            rstate_name(leaf, sizeof(leaf), sid, gid, inst);
            if (rstate_read(st->tempfd, leaf, &r) == 0) {
                bool mine = same_fp(&r, f);
                rstate_free(&r);
                if (!mine) {
                    log_warnx("group %08X: instance %u of %08X is kept for another key", gid,
                              (unsigned)inst, sid);
                    return -EEXIST;
                }
            }
            rs_resume(st, &st->sess[i], f);
        }
        int fd = fs_session_open(st->tempfd, sid, gid, inst, FS_F_PARENTS);
        if (fd < 0) {
            rstate_free(st->sess[i].prev);
            free(st->sess[i].prev);
            st->sess[i].prev = NULL;
            return fd;
        }
        st->sess[i].fd = fd;
        return fd;
    }
    return -EMFILE;
}

static void sess_release(struct store_sess *s)
{
    if (s->fd >= 0)
        close(s->fd);
    s->fd = -1;
    for (struct rstate **r = &s->rec; r != NULL; r = r == &s->rec ? &s->prev : NULL) {
        if (*r != NULL) {
            rstate_free(*r);
            free(*r);
            *r = NULL;
        }
    }
}

/* Where f is created: its dest dir, or with -T the session's temp dir. */
static int base_of(struct store *st, const struct receiver_file *f)
{
    if (st->tempfd >= 0)
        return sess_fd(st, f);
    if (f->dest >= st->ndest)
        return -EINVAL;
    return st->destfd[f->dest];
}

/* ---- regular files ---- */

static int w_flush_cache(struct store *st, struct wfile *w)
{
    if (w->err < 0)
        return w->err;
    if (w->clen == 0)
        return 0;
    st->flushes++;
    struct iovec iov = {w->cbuf, w->clen};
    ssize_t r = fs_pwritev_all(w->fd, &iov, 1, (off_t)w->coff);
    if (r < 0) {
        w->err = (int)r;
        return w->err;
    }
    w->clen = 0;
    return 0;
}

/* Takes w off the list of files with a queue. */
static void q_unlist(struct store *st, struct wfile *w)
{
    if (!w->queued)
        return;
    for (struct wfile **p = &st->queued; *p != NULL; p = &(*p)->qnext) {
        if (*p == w) {
            *p = w->qnext;
            break;
        }
    }
    w->qnext = NULL;
    w->queued = false;
}

/*
 * Writes the queued run with one pwritev (fs_pwritev_all), ending on a page
 * boundary: the bytes past the run's last boundary (less than a page) are
 * copied to the cache and lead the next run when it follows on, unless the
 * run ends the file. A write that starts or ends inside a page costs the
 * page cache about twice the CPU per byte of one that does not (ext4, 1300-
 * byte blocks in 62,400-byte runs: 0.39-0.47 vs 0.20-0.28 s per GiB, issue
 * 18, bench/RESULTS.md); holding at most a page back per run is cheaper.
 */
static int w_flush_queue(struct store *st, struct wfile *w)
{
    q_unlist(st, w);
    if (w->qn == 0)
        return w->err;
    int cnt = (int)w->qn;
    uint64_t start = w->qoff, end = w->qoff + w->qlen;
    w->qn = 0;
    w->qlen = 0;
    if (w->err < 0)
        return w->err;
    struct iovec *v = w->qv + 1; /* w->qv[0] is kept for a held tail */
    if (w->clen > 0 && w->clen < STORE_PAGE && w->coff + w->clen == start) {
        v = w->qv;
        v[0].iov_base = w->cbuf;
        v[0].iov_len = w->clen;
        cnt++;
        start = w->coff;
    } else if (w->clen > 0 && w_flush_cache(st, w) < 0) {
        return w->err;
    }
    size_t hold = 0;
    if (end < w->size && w->ccap >= STORE_PAGE) {
        hold = (size_t)(end % STORE_PAGE);
        if (hold > end - start)
            hold = (size_t)(end - start);
    }
    /* The held bytes, from the end of the run backwards (the iovecs are ours). */
    uint8_t tail[STORE_PAGE];
    for (size_t need = hold; need > 0;) {
        struct iovec *e = &v[cnt - 1];
        size_t take = e->iov_len < need ? e->iov_len : need;
        memcpy(tail + need - take, (const uint8_t *)e->iov_base + e->iov_len - take, take);
        need -= take;
        e->iov_len -= take;
        if (e->iov_len == 0)
            cnt--;
    }
    w->clen = 0; /* a leading tail is in v[0] or in tail */
    if (cnt > 0) {
        st->flushes++;
        ssize_t r = fs_pwritev_all(w->fd, v, cnt, (off_t)start);
        if (r < 0) {
            w->err = (int)r;
            return w->err;
        }
    }
    if (hold > 0) {
        if (w->cbuf == NULL && (w->cbuf = malloc(w->ccap)) == NULL) {
            w->err = -ENOMEM;
            return w->err;
        }
        memcpy(w->cbuf, tail, hold);
        w->coff = end - hold;
        w->clen = hold;
    }
    return w->err;
}

static int w_flush(struct store *st, struct wfile *w)
{
    int rc = w_flush_queue(st, w);
    if (rc < 0)
        return rc;
    return w_flush_cache(st, w);
}

static void w_free(struct store *st, struct wfile *w)
{
    q_unlist(st, w);
    if (w->fd >= 0)
        close(w->fd);
    if (w->dirfd >= 0)
        close(w->dirfd);
    if (w->rfd >= 0)
        close(w->rfd);
    free(w->cbuf);
    free(w->qv);
    free(w->map);
    free(w);
}

void store_batch_begin(struct store *st, const void *lo, size_t len)
{
    st->zc_lo = lo;
    st->zc_hi = (const uint8_t *)lo + len;
}

void store_batch_end(struct store *st)
{
    while (st->queued != NULL) {
        struct wfile *w = st->queued;
        (void)w_flush_queue(st, w); /* an error stays in w->err for the next call */
    }
    st->zc_lo = st->zc_hi = NULL;
}

/*
 * Keeps the file's blocks reserved up to min(size, end + --preallocate),
 * in steps of at least half of that, so that a disk filling up fails the
 * file at once while a claimed size reserves nothing it has not earned.
 * 0, or -ENOSPC (the disk or quota is full). Other fallocate errors
 * (EOPNOTSUPP...) stop reserving: the writes allocate.
 */
static int reserve(struct store *st, struct wfile *w, uint64_t end)
{
    if (st->prealloc == 0 || w->reserved >= w->size || w->fd < 0)
        return 0;
    uint64_t want = end + st->prealloc;
    if (want > w->size)
        want = w->size;
    if (want <= w->reserved || (want < w->size && want - w->reserved < st->prealloc / 2))
        return 0;
    if (fallocate(w->fd, FALLOC_FL_KEEP_SIZE, (off_t)w->reserved, (off_t)(want - w->reserved)) <
        0) {
        if (errno == ENOSPC || errno == EDQUOT)
            return -ENOSPC;
        w->reserved = w->size; /* not supported here: stop trying */
        return 0;
    }
    w->reserved = want;
    return 0;
}

static int st_open(void *ctx, const struct receiver_file *f, void **h)
{
    struct store *st = ctx;
    int base = base_of(st, f);
    if (base < 0) {
        fail_log(f, "cannot open the directory for", base);
        return base;
    }
    const char *leaf;
    int dirfd = fs_parent_open(base, f->rel, FS_F_PARENTS, &leaf);
    if (dirfd < 0) {
        fail_log(f, "cannot resolve", dirfd);
        return dirfd;
    }
    struct wfile *w = calloc(1, sizeof(*w));
    if (w == NULL) {
        close(dirfd);
        return -ENOMEM;
    }
    w->fd = -1;
    w->rfd = -1;
    w->dirfd = dirfd;
    w->mtime = f->mtime;
    int rc;
    if (strlen(leaf) > NAME_MAX) {
        rc = FILE_ENAME_COMPLONG;
        goto fail;
    }
    memcpy(w->leaf, leaf, strlen(leaf) + 1);
    /* A directory in the way would only fail the final rename: refuse now. */
    struct stat sb;
    if (fstatat(dirfd, leaf, &sb, AT_SYMLINK_NOFOLLOW) == 0) {
        if (S_ISDIR(sb.st_mode)) {
            rc = -EISDIR;
            goto fail;
        }
    } else {
        w->fresh = errno == ENOENT;
    }
    int kept = 0;
    if (st->tempfd >= 0) {
        w->mode = W_INPLACE;
        /* Issue 13: what an earlier instance of this session left. */
        w->sess = sess_find(st, f->server_id, f->group_id, f->group_inst);
        struct rstate *p = w->sess && st->restart_keep_s > 0 ? w->sess->prev : NULL;
        if (p != NULL && p->has_file && strcmp(p->rel, f->rel) == 0 && p->size == f->size &&
            p->blocksize == f->blocksize) {
            rc = w->fd = fs_file_open(dirfd, leaf, 0);
            if (rc >= 0) {
                kept = RECEIVER_OPEN_PARTIAL;
                w->map = p->map; /* taken over */
                p->map = NULL;
                p->has_file = false;
            }
        } else if (p != NULL && fstatat(dirfd, leaf, &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
                   S_ISREG(sb.st_mode) && (uint64_t)sb.st_size == f->size &&
                   (!p->has_file || strcmp(p->rel, f->rel) != 0)) {
            /* Not the one partial file of the record: completed before it (rstate.h). */
            w_free(st, w);
            return RECEIVER_OPEN_COMPLETE;
        }
        if (!kept)
            rc = w->fd = fs_file_open(dirfd, leaf, FS_F_TRUNC);
    } else {
        rc = -EOPNOTSUPP;
        if (st->use_tmpfile) {
            w->mode = W_TMPFILE;
            rc = w->fd = openat(dirfd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0666);
            if (rc < 0)
                rc = -errno;
        }
        if (rc < 0 && (rc == -EOPNOTSUPP || rc == -EISDIR || rc == -EINVAL)) {
            w->mode = W_NAMED;
            rc = fs_temp_name(w->tmp, sizeof(w->tmp), leaf, f->group_id, f->file_id);
            if (rc >= 0)
                rc = w->fd = fs_file_open(dirfd, w->tmp, FS_F_TRUNC);
        }
    }
    if (rc < 0) {
        w->fd = -1;
        goto fail;
    }
    /*
     * Reserve the first blocks now: a full disk refuses the file before any
     * data is sent, and the writes skip the file system's per-page delayed
     * allocation (a third less CPU on ext4). Never the whole declared size
     * (issue 14 item 7): reserve() keeps at most --preallocate ahead of the
     * data. Without fallocate support the writes allocate as they go.
     */
    w->size = f->size;
    rc = reserve(st, w, 0);
    if (rc < 0) {
        if (w->mode == W_NAMED)
            (void)unlinkat(dirfd, w->tmp, 0);
        else if (w->mode == W_INPLACE)
            (void)unlinkat(dirfd, leaf, 0);
        goto fail;
    }
    /* The cache is allocated on first use: data written from the receive
     * buffers (store_batch_begin) never needs it. */
    w->ccap = f->size < st->cache ? (size_t)f->size : st->cache;
    if (w->sess != NULL && st->restart_keep_s > 0 && f->blocksize > 0) {
        /* Issue 13: the record names this file before any of its data is written. */
        w->blocksize = f->blocksize;
        w->blocks = (uint32_t)((f->size + f->blocksize - 1) / f->blocksize);
        size_t mb = ((size_t)w->blocks + 7) / 8;
        struct rstate *r = rs_rec(w->sess, f);
        if (w->map == NULL && (w->map = calloc(mb ? mb : 1, 1)) == NULL) {
            rc = -ENOMEM;
            goto fail;
        }
        if (r != NULL) {
            snprintf(r->rel, sizeof(r->rel), "%s", f->rel);
            r->size = f->size;
            r->blocksize = f->blocksize;
            r->failed = 0;
            if ((rc = rs_sync(st, w, true)) < 0)
                goto fail;
        }
    }
    *h = w;
    return kept;
fail:
    fail_log(f, "cannot create", rc);
    w_free(st, w);
    return rc;
}

/* True when data lies in the receive buffers declared by store_batch_begin. */
static bool in_batch(const struct store *st, const void *data, size_t len)
{
    const uint8_t *p = data;
    return st->zc_lo != NULL && p >= st->zc_lo && p <= st->zc_hi && len <= (size_t)(st->zc_hi - p);
}

/*
 * Queues a block that stays in the receive buffers until store_batch_end:
 * no copy; consecutive blocks leave in one pwritev of at most -c bytes.
 */
static int q_write(struct store *st, struct wfile *w, uint64_t off, const void *data, size_t len)
{
    if (w->qn > 0 &&
        (off != w->qoff + w->qlen || w->qn == STORE_QUEUE_MAX || w->qlen + len > st->cache)) {
        int rc = w_flush_queue(st, w);
        if (rc < 0)
            return rc;
    }
    if (w->qv == NULL && (w->qv = malloc((STORE_QUEUE_MAX + 1) * sizeof(*w->qv))) == NULL)
        return -ENOMEM;
    if (w->qn == 0) {
        w->qoff = off;
        if (!w->queued) {
            w->queued = true;
            w->qnext = st->queued;
            st->queued = w;
        }
    }
    w->qv[1 + w->qn].iov_base = (void *)data;
    w->qv[1 + w->qn].iov_len = len;
    w->qn++;
    w->qlen += len;
    return 0;
}

static int write_data(void *ctx, void *h, uint64_t off, const void *data, size_t len)
{
    struct store *st = ctx;
    struct wfile *w = h;
    if (w->err < 0)
        return w->err;
    st->writes++;
    if (off + len > w->reserved && (w->err = reserve(st, w, off + len)) < 0)
        return w->err;
    if (in_batch(st, data, len))
        return q_write(st, w, off, data, len);
    if (w->cbuf == NULL && w->ccap > 0 && (w->cbuf = malloc(w->ccap)) == NULL)
        return -ENOMEM;
    if (w->clen > 0 && off == w->coff + w->clen && w->clen + len <= w->ccap) {
        memcpy(w->cbuf + w->clen, data, len);
        w->clen += len;
        return w->clen == w->ccap ? w_flush_cache(st, w) : 0;
    }
    int rc = w_flush_cache(st, w);
    if (rc < 0)
        return rc;
    if (len >= w->ccap) {
        st->flushes++;
        ssize_t r = fs_pwrite_all(w->fd, data, len, (off_t)off);
        if (r < 0)
            w->err = (int)r;
        return w->err;
    }
    memcpy(w->cbuf, data, len);
    w->coff = off;
    w->clen = len;
    return 0;
}

/* A block, and with -T restart its mark; the record follows every so often (rstate.h). */
static int st_write(void *ctx, void *h, uint64_t off, const void *data, size_t len)
{
    struct store *st = ctx;
    struct wfile *w = h;
    int rc = write_data(ctx, h, off, data, len);
    if (rc < 0 || w->map == NULL)
        return rc;
    uint64_t b = off / w->blocksize;
    if (b < w->blocks)
        w->map[b / 8] |= (uint8_t)(1u << (b % 8));
    w->unsynced += len;
    if (w->unsynced >= RSTATE_SYNC_BYTES ||
        (w->unsynced > 0 && mono_us() - w->synced_at >= RSTATE_SYNC_US))
        rc = w->err = rs_sync(st, w, true);
    return rc;
}

/* The block map, for the engine after open returned RECEIVER_OPEN_PARTIAL. */
static bool st_held(void *ctx, void *h, uint32_t block)
{
    const struct wfile *w = h;
    (void)ctx;
    return w->map != NULL && block < w->blocks && (w->map[block / 8] >> (block % 8) & 1);
}

/* Blocks already written, read back for parity decoding (issue 17): what is still
 * queued or cached goes to the file first. */
static int st_read(void *ctx, void *h, uint64_t off, void *data, size_t len)
{
    struct store *st = ctx;
    struct wfile *w = h;
    int rc = w_flush(st, w);
    if (rc < 0)
        return rc;
    if (w->rfd < 0) {
        /* The file is open write-only (core/fs): the same inode, for reading,
         * through /proc (an O_TMPFILE file has no name yet). */
        char p[64];
        snprintf(p, sizeof(p), "/proc/self/fd/%d", w->fd);
        if ((w->rfd = open(p, O_RDONLY | O_CLOEXEC)) < 0)
            return -errno;
    }
    for (size_t done = 0; done < len;) {
        ssize_t r = pread(w->rfd, (uint8_t *)data + done, len - done, (off_t)(off + done));
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -errno; /* EBADF: a file we may only write */
        if (r == 0)
            return -EIO;
        done += (size_t)r;
    }
    return 0;
}

/*
 * An unnamed file whose final name was free when it was opened is linked
 * straight to it (a new file: nothing to replace, nothing to back up): one
 * linkat instead of a temp name, its rename and their directory handles
 * (issue 18, per-file cost of small files), and a name too long for a temp
 * name still works. The deferred write errors close() reports (NFS, FUSE
 * flush) are collected first, on a duplicate, so the name never shows a
 * file that failed. -EEXIST: the name was taken since; the caller renames
 * over it as for any existing file. Otherwise 0 or a negative errno with
 * nothing at the final name.
 */
static int link_fresh(struct store *st, struct wfile *w, const struct receiver_file *f)
{
    int keep = fcntl(w->fd, F_DUPFD_CLOEXEC, 0);
    if (keep < 0)
        return -errno;
    int rc = close(w->fd);
    w->fd = keep;
    if (rc < 0)
        return -errno;
    rc = tmpfile_link(w->fd, w->dirfd, w->leaf);
    if (rc < 0)
        return rc;
    close(w->fd); /* written, flushed and checked above */
    w->fd = -1;
    w->mode = W_NAMED; /* linked: st_close and w_free have no temp name to remove */
    w->tmp[0] = '\0';
    received(st, f->group_id, st->dests[f->dest], f->rel);
    return 0;
}

static int finish(struct store *st, struct wfile *w, const struct receiver_file *f)
{
    int rc = w_flush(st, w);
    if (rc < 0)
        return rc;
    struct timespec ts[2] = {{(time_t)w->mtime, 0}, {(time_t)w->mtime, 0}};
    if (futimens(w->fd, ts) < 0)
        log_warn("cannot set the time of %s", w->leaf);
    switch (w->mode) {
    case W_INPLACE:
        /* Issue 13: on disk before the record stops naming it as partial. */
        if (w->map != NULL && fdatasync(w->fd) < 0)
            return -errno;
        break;
    case W_TMPFILE: {
        if (w->fresh && (rc = link_fresh(st, w, f)) != -EEXIST)
            return rc;
        /* Link under a temp name first: linkat cannot replace an existing
         * file. A stale one of a killed daemon's is in the way only then. */
        rc = fs_temp_name(w->tmp, sizeof(w->tmp), w->leaf, f->group_id, f->file_id);
        if (rc < 0)
            return rc;
        rc = tmpfile_link(w->fd, w->dirfd, w->tmp);
        if (rc == -EEXIST) {
            (void)unlinkat(w->dirfd, w->tmp, 0);
            rc = tmpfile_link(w->fd, w->dirfd, w->tmp);
        }
        if (rc < 0) {
            w->tmp[0] = '\0';
            return rc;
        }
        w->mode = W_NAMED;
        break;
    }
    case W_NAMED:
        break;
    }
    /* close() can report a deferred write error (NFS, quotas). */
    rc = close(w->fd);
    w->fd = -1;
    if (rc < 0)
        return -errno;
    if (w->mode == W_NAMED) {
        /* Issue 14 item 4: without its backup the old file is not replaced. */
        if (st->nbackup > 0 && (rc = backup_existing(st, f, w->dirfd, w->leaf)) < 0)
            return rc;
        rc = fs_rename(w->dirfd, w->tmp, w->dirfd, w->leaf, 0);
        if (rc == 0)
            received(st, f->group_id, st->dests[f->dest], f->rel);
        return rc;
    }
    return 0;
}

static int st_close(void *ctx, void *h, enum receiver_close how, const struct receiver_file *f)
{
    struct store *st = ctx;
    struct wfile *w = h;
    int rc = 0;
    if (how == RECEIVER_CLOSE_KEEP && w->map != NULL) {
        /* Issue 13: the session failed; the file and its record stay for a restart. */
        rc = rs_sync(st, w, true);
        if (rc == 0) {
            w_free(st, w);
            return 0;
        }
        fail_log(f, "cannot keep", rc);
    }
    if (how == RECEIVER_CLOSE_DONE) {
        rc = finish(st, w, f);
        if (rc < 0)
            fail_log(f, "cannot complete", rc);
    }
    if (how != RECEIVER_CLOSE_DONE || rc < 0) {
        /* Nothing of a failed file stays behind (store.h). */
        if (w->mode == W_NAMED && w->tmp[0] != '\0')
            (void)unlinkat(w->dirfd, w->tmp, 0);
        else if (w->mode == W_INPLACE)
            (void)unlinkat(w->dirfd, w->leaf, 0);
    }
    if (w->map != NULL)
        rs_sync(st, w, false); /* the record names no partial file any more */
    w_free(st, w);
    return rc;
}

/* ---- directories, links, deletions ---- */

static int st_mkdir(void *ctx, const struct receiver_file *f)
{
    struct store *st = ctx;
    int base = base_of(st, f);
    if (base < 0)
        return base;
    struct file_stat s;
    if (fs_stat(base, f->rel, &s) == 0 && s.type == FTYPE_DIR)
        return 1;
    int rc = fs_mkdir(base, f->rel, FS_F_PARENTS);
    if (rc < 0) {
        fail_log(f, "cannot create directory", rc);
        return rc;
    }
    /* 5.0.1 senders give directories and links time 0: keep ours then. */
    if (f->mtime != 0)
        (void)fs_set_mtime(base, f->rel, f->mtime);
    return 0;
}

static int st_symlink(void *ctx, const struct receiver_file *f)
{
    struct store *st = ctx;
    int base = base_of(st, f);
    if (base < 0)
        return base;
    const char *leaf;
    int dirfd = fs_parent_open(base, f->rel, FS_F_PARENTS, &leaf);
    if (dirfd < 0) {
        fail_log(f, "cannot resolve", dirfd);
        return dirfd;
    }
    char tmp[NAME_MAX + 1];
    int rc = fs_temp_name(tmp, sizeof(tmp), leaf, f->group_id, f->file_id);
    if (rc >= 0) {
        (void)unlinkat(dirfd, tmp, 0);
        rc = fs_symlink(dirfd, tmp, f->link, 0);
    }
    if (rc >= 0) {
        /* Issue 14 item 4: without its backup the old file is not replaced. */
        if (st->nbackup > 0 && st->tempfd < 0)
            rc = backup_existing(st, f, dirfd, leaf);
        /* Replaces a file or link atomically; a directory in the way fails. */
        if (rc >= 0)
            rc = fs_rename(dirfd, tmp, dirfd, leaf, 0);
        if (rc < 0)
            (void)unlinkat(dirfd, tmp, 0);
    }
    if (rc >= 0 && f->mtime != 0)
        (void)fs_set_mtime(dirfd, leaf, f->mtime);
    else
        fail_log(f, "cannot create symlink", rc);
    close(dirfd);
    return rc < 0 ? rc : 0;
}

static int st_remove(void *ctx, const struct receiver_file *f)
{
    struct store *st = ctx;
    if (f->dest >= st->ndest)
        return -EINVAL;
    if (st->nbackup > 0) {
        /*
         * -A: @DELETE moves the file (or tree) to the backup dir instead, and
         * never deletes anything whose backup failed (issue 14 item 4: 5.0.1
         * and we used to fall back to a real delete).
         */
        const char *leaf;
        int dirfd = fs_parent_open(st->destfd[f->dest], f->rel, 0, &leaf);
        if (dirfd < 0)
            return dirfd;
        struct stat sb;
        int rc = fstatat(dirfd, leaf, &sb, AT_SYMLINK_NOFOLLOW) < 0
                     ? -errno
                     : backup_existing(st, f, dirfd, leaf);
        close(dirfd);
        if (rc == -ENOENT)
            return rc; /* nothing to delete: fine (receiver_storage.remove) */
        if (rc < 0)
            fail_log(f, "not deleted: no backup of", rc);
        return rc;
    }
    int rc = fs_remove(st->destfd[f->dest], f->rel);
    if (rc < 0 && rc != -ENOENT)
        fail_log(f, "cannot delete", rc);
    return rc;
}

/* The bytes kept record r still lacks: what its file needs to be finished. */
static uint64_t rs_lacks(const struct rstate *r)
{
    if (!r->has_file || r->blocksize == 0 || r->map == NULL)
        return 0;
    uint64_t need = 0;
    for (uint32_t i = 0; i < r->blocks; i++) {
        if (r->map[i / 8] >> (i % 8) & 1)
            continue;
        uint64_t off = (uint64_t)i * r->blocksize;
        if (off < r->size)
            need += r->size - off < r->blocksize ? r->size - off : r->blocksize;
    }
    return need;
}

/*
 * Each kept restart record under the temp dir (a session dir named as
 * rs_parse reads it, with its record readable): fn gets the dir's name and ids
 * and the record, freed after. Nothing when restart state is not kept.
 */
struct kept_id {
    const char *name; /* the session dir */
    uint32_t group_id, server_id;
    unsigned inst;
};
typedef void kept_fn(struct store *st, const struct kept_id *id, const struct rstate *r, void *arg);

static void kept_each(struct store *st, kept_fn *fn, void *arg)
{
    if (st->tempfd < 0 || st->restart_keep_s == 0)
        return;
    DIR *d = dir_at(st->tempfd);
    char **names = NULL;
    size_t n = 0;
    if (d == NULL || fs_dir_names(d, &names, &n) < 0)
        return;
    for (size_t i = 0; i < n; i++) {
        struct kept_id id = {.name = names[i]};
        if (!rs_parse(names[i], &id.group_id, &id.inst, &id.server_id) ||
            strchr(names[i], '.') != NULL)
            continue;
        char leaf[96];
        struct rstate r;
        snprintf(leaf, sizeof(leaf), "%s.restart", names[i]);
        if (rstate_read(st->tempfd, leaf, &r) < 0)
            continue;
        fn(st, &id, &r, arg);
        rstate_free(&r);
    }
    fs_names_free(names, n);
}

struct kept_need {
    uint32_t server_id, group_id;
    uint64_t need;
};

static void kept_need_one(struct store *st, const struct kept_id *id, const struct rstate *r,
                          void *arg)
{
    (void)st;
    struct kept_need *k = arg;
    if (r->failed != 0 && !(id->group_id == k->group_id && id->server_id == k->server_id))
        k->need += rs_lacks(r);
}

uint64_t store_kept_need(struct store *st, uint32_t server_id, uint32_t group_id)
{
    struct kept_need k = {.server_id = server_id, .group_id = group_id};
    kept_each(st, kept_need_one, &k);
    return k.need;
}

/*
 * Issue 13: what kept restart state still lacks is promised to its server's
 * restart, so it counts against the space a session is told and checked
 * against (not its own server's state for this group: that is what it may
 * resume). Recomputed at most once a second per group (records are read).
 */
static int st_free_space(void *ctx, const struct receiver_file *f, uint64_t *avail)
{
    struct store *st = ctx;
    int fd = st->tempfd >= 0 ? st->tempfd : st->destfd[f->dest < st->ndest ? f->dest : 0];
    int rc = fs_free_space(fd, avail);
    if (rc < 0 || st->tempfd < 0 || st->restart_keep_s == 0)
        return rc;
    uint64_t now = mono_us();
    if (st->kept_at == 0 || now - st->kept_at >= 1000000 || st->kept_sid != f->server_id ||
        st->kept_gid != f->group_id) {
        st->kept_need = store_kept_need(st, f->server_id, f->group_id);
        st->kept_at = now;
        st->kept_sid = f->server_id;
        st->kept_gid = f->group_id;
    }
    *avail = *avail > st->kept_need ? *avail - st->kept_need : 0;
    return 0;
}

static int st_stat(void *ctx, const struct receiver_file *f, struct file_stat *s)
{
    struct store *st = ctx;
    int base;
    if (st->tempfd >= 0) {
        /* spec §2.2: with -T the comparison is against the (empty) session dir. */
        struct store_sess *ss = sess_find(st, f->server_id, f->group_id, f->group_inst);
        if (ss == NULL)
            return -ENOENT;
        base = ss->fd;
    } else {
        if (f->dest >= st->ndest)
            return -EINVAL;
        base = st->destfd[f->dest];
    }
    return fs_stat(base, f->rel, s);
}

/* The sorted entry names of a directory (without "." and ".."). */
static int list_names(int dirfd, char ***out, size_t *count)
{
    *out = NULL;
    *count = 0;
    int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    DIR *d = fdopendir(fd);
    if (d == NULL) {
        close(fd);
        return -ENOMEM;
    }
    char **v = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    struct dirent *de;
    while ((errno = 0, de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 16;
            char **nv = realloc(v, nc * sizeof(*nv));
            if (nv == NULL) {
                rc = -ENOMEM;
                break;
            }
            v = nv;
            cap = nc;
        }
        if ((v[n] = strdup(de->d_name)) == NULL) {
            rc = -ENOMEM;
            break;
        }
        n++;
    }
    if (rc == 0 && errno != 0)
        rc = -errno;
    closedir(d);
    if (rc == 0 && n > 1)
        qsort(v, n, sizeof(*v), cmp_names);
    *out = v;
    *count = n;
    return rc;
}

static void free_names(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

/*
 * -T -i (spec §2.2): moves the tree under from into to one file at a time,
 * merging into existing directories (a non-directory in the way of one is
 * removed, a directory in the way of a file too), and reports each file
 * moved (an empty directory as itself) for the post-receive command.
 * rel/rlen is the path below the dest so far. Returns the number of
 * entries moved, or the first error.
 */
static int move_each(struct store *st, uint32_t group_id, int from, int to, char *rel, size_t rlen,
                     int depth)
{
    if (depth > FILE_NAME_MAX_DEPTH)
        return -ELOOP;
    char **names;
    size_t n;
    int rc = list_names(from, &names, &n);
    int moved = 0;
    for (size_t i = 0; i < n && rc >= 0; i++) {
        size_t nl = strlen(names[i]);
        if (rlen + nl + 2 > PATH_MAX) {
            rc = -ENAMETOOLONG;
            break;
        }
        char *end = rel + rlen;
        if (rlen > 0)
            *end++ = '/';
        memcpy(end, names[i], nl + 1);
        size_t sub = (size_t)(end - rel) + nl;
        struct stat ss, ds;
        if (fstatat(from, names[i], &ss, AT_SYMLINK_NOFOLLOW) < 0) {
            rc = -errno;
            break;
        }
        bool dest_exists = fstatat(to, names[i], &ds, AT_SYMLINK_NOFOLLOW) == 0;
        if (S_ISDIR(ss.st_mode)) {
            if (dest_exists && !S_ISDIR(ds.st_mode) && (rc = fs_remove(to, names[i])) < 0)
                break;
            if ((!dest_exists || !S_ISDIR(ds.st_mode)) && mkdirat(to, names[i], 0777) < 0 &&
                errno != EEXIST) {
                rc = -errno;
                break;
            }
            int f2 = fs_subdir_open(from, names[i], 0);
            int t2 = f2 < 0 ? f2 : fs_subdir_open(to, names[i], 0);
            if (f2 < 0 || t2 < 0) {
                rc = f2 < 0 ? f2 : t2;
                if (f2 >= 0)
                    close(f2);
                break;
            }
            int k = move_each(st, group_id, f2, t2, rel, sub, depth + 1);
            close(f2);
            close(t2);
            if (k < 0) {
                rc = k;
                break;
            }
            if (k == 0)
                received(st, group_id, st->dests[0], rel); /* as 5.0.1: an empty dir */
            moved += k;
            if (unlinkat(from, names[i], AT_REMOVEDIR) < 0) {
                rc = -errno;
                break;
            }
        } else {
            if (dest_exists && S_ISDIR(ds.st_mode) && (rc = fs_remove(to, names[i])) < 0)
                break;
            if (renameat(from, names[i], to, names[i]) < 0) {
                rc = -errno;
                break;
            }
            /* Issue 14 item 6: a symlink is never handed to -s as a received file. */
            if (!S_ISLNK(ss.st_mode))
                received(st, group_id, st->dests[0], rel);
            moved++;
        }
        rel[rlen] = '\0';
    }
    rel[rlen] = '\0';
    free_names(names, n);
    return rc < 0 ? rc : moved;
}

/* -T alone: the whole top level moves; one post-receive run gets what arrived. */
static int move_all(struct store *st, uint32_t group_id, int sessfd)
{
    char **names;
    size_t n;
    int rc = list_names(sessfd, &names, &n);
    if (rc < 0)
        return rc;
    rc = fs_session_move(sessfd, st->destfd[0], NULL, NULL);
    if (st->received != NULL) {
        /* What left the session dir arrived, even when a later move failed. */
        char **paths = calloc(n ? n : 1, sizeof(*paths));
        size_t k = 0;
        for (size_t i = 0; paths != NULL && i < n; i++) {
            struct stat sb;
            char p[PATH_MAX];
            /* Moved (gone from the session dir), and not a symlink (issue 14 item 6). */
            if (fstatat(sessfd, names[i], &sb, AT_SYMLINK_NOFOLLOW) == 0 ||
                (fstatat(st->destfd[0], names[i], &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
                 S_ISLNK(sb.st_mode)) ||
                join_path(p, sizeof(p), st->dests[0], names[i]) < 0 ||
                (paths[k] = strdup(p)) == NULL)
                continue;
            k++;
        }
        if (k > 0)
            st->received(st->received_arg, group_id, (const char *const *)paths, k);
        free_names(paths, k);
    }
    free_names(names, n);
    return rc;
}

static void st_session_end(void *ctx, uint32_t server_id, uint32_t group_id, uint8_t group_inst,
                           bool completed)
{
    struct store *st = ctx;
    struct store_start *start = start_find(st, server_id, group_id, group_inst);
    if (start != NULL)
        start->used = false;
    if (st->tempfd < 0)
        return;
    struct store_sess *s = sess_find(st, server_id, group_id, group_inst);
    if (s == NULL)
        return;
    char name[64];
    fs_session_name(name, sizeof(name), server_id, group_id, group_inst);
    bool remove = true;
    if (completed) {
        char rel[PATH_MAX] = "";
        int n = st->move_each ? move_each(st, group_id, s->fd, st->destfd[0], rel, 0, 0)
                              : move_all(st, group_id, s->fd);
        if (n < 0) {
            log_errx("group %08X: cannot move the received files into %s: %s; they stay in "
                     "the temp dir",
                     group_id, st->dests[0], file_strerror(n));
            remove = false;
        } else {
            log_info("group %08X: moved %d %s%s into %s", group_id, n,
                     st->move_each ? "file" : "item", n == 1 ? "" : "s", st->dests[0]);
        }
    } else if (st->restart_keep_s > 0 && s->rec != NULL) {
        /* Issue 13: kept for a restart by the same server (rstate.h). */
        s->rec->failed = (int64_t)time(NULL);
        rs_write(st, s);
        log_info("group %08X: session from %08X failed, its temp dir is kept %lld s for a restart",
                 group_id, server_id, (long long)st->restart_keep_s);
        remove = false;
    } else {
        log_info("group %08X: session from %08X failed, discarding its temp dir", group_id,
                 server_id);
    }
    sess_release(s);
    if (remove)
        rs_remove(st, name);
}

const struct receiver_storage store_callbacks = {
    .open = st_open,
    .write = st_write,
    .read = st_read,
    .close = st_close,
    .mkdir = st_mkdir,
    .symlink = st_symlink,
    .remove = st_remove,
    .free_space = st_free_space,
    .stat = st_stat,
    .session_end = st_session_end,
    .held = st_held,
};

struct kept_expire {
    int64_t now;
    unsigned gone;
};

/* Running sessions (failed 0) and dirs without a record are not ours to judge here. */
static void kept_expire_one(struct store *st, const struct kept_id *id, const struct rstate *r,
                            void *arg)
{
    struct kept_expire *k = arg;
    if (r->failed != 0 && k->now - r->failed >= st->restart_keep_s) {
        log_info("group %08X: restart state of %08X instance %u expired", id->group_id,
                 id->server_id, id->inst);
        rs_remove(st, id->name);
        k->gone++;
    }
}

unsigned store_expire(struct store *st)
{
    struct kept_expire k = {.now = (int64_t)time(NULL)};
    kept_each(st, kept_expire_one, &k);
    if (k.gone > 0)
        st->kept_at = 0;
    return k.gone;
}

/* ---- reclaiming what a killed daemon left (issue 13) ---- */

/* -t temp files ("NAME.~uftp-XXXXXXXX-XXXX") of ours beneath dirfd; depth-limited. */
static unsigned reclaim_named(int dirfd, int depth)
{
    DIR *d = dir_at(dirfd);
    char **names = NULL;
    size_t n = 0;
    unsigned gone = 0;
    if (d == NULL || fs_dir_names(d, &names, &n) < 0)
        return 0;
    for (size_t i = 0; i < n; i++) {
        struct stat sb;
        if (fstatat(dirfd, names[i], &sb, AT_SYMLINK_NOFOLLOW) < 0)
            continue;
        if (S_ISDIR(sb.st_mode) && depth < 64) {
            int sub = openat(dirfd, names[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (sub >= 0) {
                gone += reclaim_named(sub, depth + 1);
                close(sub);
            }
            continue;
        }
        const char *m = strstr(names[i], ".~uftp-");
        unsigned g, fid;
        char tail;
        if (!S_ISREG(sb.st_mode) || sb.st_uid != geteuid() || m == NULL ||
            sscanf(m, ".~uftp-%8X-%4X%c", &g, &fid, &tail) != 2 || strlen(m) != 7 + 8 + 1 + 4)
            continue;
        if (unlinkat(dirfd, names[i], 0) == 0)
            gone++;
    }
    fs_names_free(names, n);
    return gone;
}

void store_reclaim(struct store *st)
{
    for (size_t i = 0; i < st->ndest; i++) {
        unsigned n = reclaim_named(st->destfd[i], 0);
        if (n > 0)
            log_info("removed %u temp file%s left by a daemon that did not finish (%s)", n,
                     n == 1 ? "" : "s", st->dests[i]);
    }
    if (st->tempfd < 0)
        return;
    DIR *d = dir_at(st->tempfd);
    char **names = NULL;
    size_t n = 0;
    if (d == NULL || fs_dir_names(d, &names, &n) < 0)
        return;
    int64_t now = (int64_t)time(NULL);
    unsigned kept = 0, expired = 0, stray = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t g, sid;
        unsigned inst;
        if (!rs_parse(names[i], &g, &inst, &sid) || strchr(names[i], '.') != NULL)
            continue;
        char leaf[96];
        snprintf(leaf, sizeof(leaf), "%s.restart", names[i]);
        struct rstate r;
        if (st->restart_keep_s == 0 || rstate_read(st->tempfd, leaf, &r) < 0) {
            /* No record: nothing in it can be resumed safely. */
            rs_remove(st, names[i]);
            stray++;
            continue;
        }
        if (r.failed == 0) {
            /* Its daemon died with it running: restartable from now on. */
            r.failed = now;
            (void)rstate_write(st->tempfd, &r);
        }
        if (now - r.failed >= st->restart_keep_s) {
            rs_remove(st, names[i]);
            expired++;
        } else {
            kept++;
        }
        rstate_free(&r);
    }
    /* Records whose dir is gone, and .tmp leftovers of a crash mid-write. */
    for (size_t i = 0; i < n; i++) {
        const char *dot = strchr(names[i], '.');
        if (strncmp(names[i], "_group_", 7) != 0 || dot == NULL)
            continue;
        char dir[64];
        size_t dl = (size_t)(dot - names[i]);
        if (dl >= sizeof(dir))
            continue;
        memcpy(dir, names[i], dl);
        dir[dl] = '\0';
        struct stat sb;
        if (strcmp(dot, ".restart.tmp") == 0 ||
            (strcmp(dot, ".restart") == 0 && fstatat(st->tempfd, dir, &sb, 0) < 0))
            (void)unlinkat(st->tempfd, names[i], 0);
    }
    fs_names_free(names, n);
    if (kept + expired + stray > 0)
        log_info("temp dir: %u session%s kept for a restart, %u expired, %u without a record "
                 "removed",
                 kept, kept == 1 ? "" : "s", expired, stray);
}
