/*
 * uftpd's storage (receiver/store.c) in a temp tree: the write cache
 * coalesces consecutive blocks, blocks of a receive batch are written from
 * its buffers without a copy, a file is invisible at its name until
 * close(DONE), a failed or aborted file leaves nothing behind and an older
 * version intact, write errors are sticky, -t names its temp files, -T
 * receives into a session dir moved at the end, symlinks on the way are
 * never followed. (Built with receiver/store.c by
 * tests/integration/transfer/CMakeLists.txt.)
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/fs/beneath.h"
#include "core/fs/fs.h"
#include "core/wire/wire.h"
#include "cu.h"
#include "receiver/store.h"

static char root[64];
static char destpath[PATH_MAX], temppath[PATH_MAX];
static const char *dests[1];

static const char *at(const char *rel)
{
    static char buf[4][PATH_MAX];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof(buf[k]), "%s/%s", root, rel);
    return buf[k];
}

static int rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(p);
}

static void setup(void)
{
    snprintf(root, sizeof(root), "/tmp/uftp-store.XXXXXX");
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(root));
    snprintf(destpath, sizeof(destpath), "%s/dest", root);
    snprintf(temppath, sizeof(temppath), "%s/temp", root);
    CU_ASSERT_EQUAL_FATAL(mkdir(destpath, 0755), 0);
    CU_ASSERT_EQUAL_FATAL(mkdir(temppath, 0755), 0);
    CU_ASSERT_EQUAL_FATAL(mkdir(at("outside"), 0755), 0);
    dests[0] = destpath;
}

static void teardown(void)
{
    nftw(root, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

static struct receiver_file rf(const char *rel, uint8_t type, uint64_t size, uint16_t file_id)
{
    struct receiver_file f = {
        .server_id = 0x01020304,
        .group_id = 0xABCD0001,
        .group_inst = 0,
        .file_id = file_id,
        .ftype = type,
        .dest = 0,
        .rel = rel,
        .name = rel,
        .link = "",
        .size = size,
        .mtime = 1000000000,
    };
    return f;
}

static size_t count_entries(const char *dir, const char *prefix)
{
    DIR *d = opendir(dir);
    size_t n = 0;
    if (d == NULL)
        return 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") &&
            !strncmp(e->d_name, prefix, strlen(prefix)))
            n++;
    closedir(d);
    return n;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    char *b = malloc(1 << 22);
    *len = fread(b, 1, 1 << 22, f);
    fclose(f);
    return b;
}

/* The file at rel (under the test's directory) holds exactly want[0..size). */
static void expect_file(const char *rel, const void *want, size_t size)
{
    size_t len;
    char *got = slurp(at(rel), &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(got);
    CU_ASSERT_EQUAL(len, size);
    CU_ASSERT(len == size && memcmp(got, want, size) == 0);
    free(got);
}

static void put(const char *rel, const char *content)
{
    FILE *f = fopen(at(rel), "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs(content, f);
    fclose(f);
}

/* 3 MiB in 1300-byte blocks, in order: one flush per full 1 MiB cache, content and time right. */
static void test_coalesce(void)
{
    setup();
    struct store st;
    CU_ASSERT_EQUAL_FATAL(store_init(&st, dests, 1, NULL, false, 1 << 20, NULL), 0);
    const size_t size = 3 << 20, blk = 1300;
    uint8_t *data = malloc(size);
    for (size_t i = 0; i < size; i++)
        data[i] = (uint8_t)(i * 7 + i / 4096);
    struct receiver_file f = rf("sub/dir/big.bin", FTYPE_REG, size, 1);
    void *h = NULL;
    CU_ASSERT_EQUAL_FATAL(store_callbacks.open(&st, &f, &h), 0);
    for (size_t off = 0; off < size; off += blk) {
        size_t n = size - off < blk ? size - off : blk;
        CU_ASSERT_EQUAL(store_callbacks.write(&st, h, off, data + off, n), 0);
    }
    /* Nothing visible before the end. */
    CU_ASSERT_EQUAL(access(at("dest/sub/dir/big.bin"), F_OK), -1);
    CU_ASSERT_EQUAL(store_callbacks.close(&st, h, RECEIVER_CLOSE_DONE, &f), 0);
    size_t len;
    char *got = slurp(at("dest/sub/dir/big.bin"), &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(got);
    CU_ASSERT_EQUAL(len, size);
    CU_ASSERT(memcmp(got, data, size) == 0);
    struct stat sb;
    CU_ASSERT_EQUAL(stat(at("dest/sub/dir/big.bin"), &sb), 0);
    CU_ASSERT_EQUAL(sb.st_mtime, 1000000000);
    /* 2420 blocks: 806 fit the 1 MiB cache, so 3 full runs and the tail. */
    CU_ASSERT_EQUAL(st.writes, (size + blk - 1) / blk);
    CU_ASSERT_EQUAL(st.flushes, 4);
    CU_ASSERT_EQUAL(count_entries(at("dest/sub/dir"), ".~uftp-"), 0);
    free(got);
    free(data);
    store_free(&st);
    teardown();
}

/* Blocks out of order and a retransmitted gap: still right. */
static void test_out_of_order(void)
{
    setup();
    struct store st;
    CU_ASSERT_EQUAL_FATAL(store_init(&st, dests, 1, NULL, false, 10240, NULL), 0);
    const size_t blk = 1000, nblk = 40, size = blk * nblk - 300;
    uint8_t *data = malloc(size);
    for (size_t i = 0; i < size; i++)
        data[i] = (uint8_t)(i ^ (i >> 8));
    struct receiver_file f = rf("ooo.bin", FTYPE_REG, size, 2);
    void *h = NULL;
    CU_ASSERT_EQUAL_FATAL(store_callbacks.open(&st, &f, &h), 0);
    /* Odd blocks first, then even ones backwards. */
    for (size_t b = 1; b < nblk; b += 2) {
        size_t n = b == nblk - 1 ? size - b * blk : blk;
        CU_ASSERT_EQUAL(store_callbacks.write(&st, h, b * blk, data + b * blk, n), 0);
    }
    for (size_t b = nblk; b-- > 0;) {
        if (b % 2 == 0)
            CU_ASSERT_EQUAL(store_callbacks.write(&st, h, b * blk, data + b * blk, blk), 0);
    }
    CU_ASSERT_EQUAL(store_callbacks.close(&st, h, RECEIVER_CLOSE_DONE, &f), 0);
    expect_file("dest/ooo.bin", data, size);
    free(data);
    store_free(&st);
    teardown();
}

/* An aborted update leaves the old version and no temp file, in both temp modes. */
static void test_abort_keeps_old(void)
{
    for (int named = 0; named < 2; named++) {
        setup();
        struct store st;
        CU_ASSERT_EQUAL_FATAL(store_init(&st, dests, 1, NULL, named, 1 << 20, NULL), 0);
        put("dest/f.txt", "old");
        struct receiver_file f = rf("f.txt", FTYPE_REG, 5000, 3);
        void *h = NULL;
        CU_ASSERT_EQUAL_FATAL(store_callbacks.open(&st, &f, &h), 0);
        uint8_t blk[1000];
        memset(blk, 'n', sizeof(blk));
        CU_ASSERT_EQUAL(store_callbacks.write(&st, h, 0, blk, sizeof(blk)), 0);
        /* -t: the temp file is visible under the reference's name. */
        CU_ASSERT_EQUAL(count_entries(destpath, "f.txt.~uftp-ABCD0001-0003"), (size_t)named);
        CU_ASSERT_EQUAL(store_callbacks.close(&st, h, RECEIVER_CLOSE_ABORT, &f), 0);
        size_t len;
        char *got = slurp(at("dest/f.txt"), &len);
        CU_ASSERT_PTR_NOT_NULL_FATAL(got);
        CU_ASSERT_EQUAL(len, 3);
        CU_ASSERT(memcmp(got, "old", 3) == 0);
        free(got);
        CU_ASSERT_EQUAL(count_entries(destpath, ".~uftp-"), 0);
        CU_ASSERT_EQUAL(count_entries(destpath, "f.txt.~"), 0);
        store_free(&st);
        teardown();
    }
}

/*
 * Issue 18: an unnamed temp file whose name was free is linked straight to
 * it, so a name too long to take the temp suffix (".~uftp-GROUP-FILE", 20
 * more bytes) completes; a name taken while the file was received is still
 * replaced whole (temp name, rename), and a stale temp name is no obstacle.
 */
static void test_fresh_link(void)
{
    setup();
    struct store st;
    CU_ASSERT_EQUAL_FATAL(store_init(&st, dests, 1, NULL, false, 1 << 20, NULL), 0);
    if (!st.use_tmpfile) { /* the file system has no O_TMPFILE: nothing to see */
        store_free(&st);
        teardown();
        return;
    }
    char lname[NAME_MAX + 1];
    memset(lname, 'L', 245);
    lname[245] = '\0';
    char rel[NAME_MAX + 8];
    snprintf(rel, sizeof(rel), "dest/%s", lname);
    struct receiver_file f = rf(lname, FTYPE_REG, 5, 4);
    void *h = NULL;
    CU_ASSERT_EQUAL_FATAL(store_callbacks.open(&st, &f, &h), 0);
    CU_ASSERT_EQUAL(store_callbacks.write(&st, h, 0, "fresh", 5), 0);
    CU_ASSERT_EQUAL(access(at(rel), F_OK), -1);
    CU_ASSERT_EQUAL(store_callbacks.close(&st, h, RECEIVER_CLOSE_DONE, &f), 0);
    expect_file(rel, "fresh", 5);
    struct stat sb;
    CU_ASSERT_EQUAL(stat(at(rel), &sb), 0);
    CU_ASSERT_EQUAL(sb.st_mtime, 1000000000);

    /* Free at open, taken before the end (with a stale temp name of ours). */
    struct receiver_file g = rf("g.txt", FTYPE_REG, 3, 5);
    CU_ASSERT_EQUAL_FATAL(store_callbacks.open(&st, &g, &h), 0);
    CU_ASSERT_EQUAL(store_callbacks.write(&st, h, 0, "new", 3), 0);
    put("dest/g.txt", "someone else's");
    put("dest/g.txt.~uftp-ABCD0001-0005", "stale");
    CU_ASSERT_EQUAL(store_callbacks.close(&st, h, RECEIVER_CLOSE_DONE, &g), 0);
    expect_file("dest/g.txt", "new", 3);
    CU_ASSERT_EQUAL(count_entries(destpath, "g.txt.~"), 0);
    CU_ASSERT_EQUAL(count_entries(destpath, ""), 2);
    store_free(&st);
    teardown();
}

static int fail_after;
static ssize_t failing_pwritev(int fd, const struct iovec *iov, int iovcnt, off_t off)
{
    if (fail_after-- <= 0) {
        errno = ENOSPC;
        return -1;
    }
    return pwritev(fd, iov, iovcnt, off);
}

/* A full disk: the error sticks, close(DONE) fails, nothing is left. */
static void test_write_error(void)
{
    setup();
    struct store st;
    CU_ASSERT_EQUAL_FATAL(store_init(&st, dests, 1, NULL, false, 10240, NULL), 0);
    const size_t size = 100000;
    uint8_t *data = calloc(1, size);
    struct receiver_file f = rf("full.bin", FTYPE_REG, size, 4);
    void *h = NULL;
    CU_ASSERT_EQUAL_FATAL(store_callbacks.open(&st, &f, &h), 0);
    fail_after = 2;
    fs_set_pwritev(failing_pwritev);
    int rc = 0;
    size_t off;
    for (off = 0; off < size && rc == 0; off += 1000)
        rc = store_callbacks.write(&st, h, off, data + off, 1000);
    CU_ASSERT_EQUAL(rc, -ENOSPC);
    CU_ASSERT(off < size);
    /* Sticky: later writes fail too, and so does the final flush. */
    CU_ASSERT_EQUAL(store_callbacks.write(&st, h, off, data + off, 1000), -ENOSPC);
    CU_ASSERT_EQUAL(store_callbacks.close(&st, h, RECEIVER_CLOSE_DONE, &f), -ENOSPC);
    fs_set_pwritev(NULL);
    CU_ASSERT_EQUAL(access(at("dest/full.bin"), F_OK), -1);
    CU_ASSERT_EQUAL(count_entries(destpath, ""), 0);
    free(data);
    store_free(&st);
    teardown();
}

/* -T: files land in TEMP/_group_<GROUP>_<INST>_<SERVER>/ and move into the dest at the end. */
static void test_session_dir(void)
{
    setup();
    struct store st;
    CU_ASSERT_EQUAL_FATAL(store_init(&st, dests, 1, temppath, false, 1 << 20, NULL), 0);
    struct receiver_file f = rf("d/x.txt", FTYPE_REG, 3, 1);
    void *h = NULL;
    CU_ASSERT_EQUAL_FATAL(store_callbacks.open(&st, &f, &h), 0);
    CU_ASSERT_EQUAL(store_callbacks.write(&st, h, 0, "abc", 3), 0);
    CU_ASSERT_EQUAL(store_callbacks.close(&st, h, RECEIVER_CLOSE_DONE, &f), 0);
    struct receiver_file d = rf("emptydir", FTYPE_DIR, 0, 2);
    CU_ASSERT_EQUAL(store_callbacks.mkdir(&st, &d), 0);
    CU_ASSERT_EQUAL(access(at("temp/_group_ABCD0001_0_01020304/d/x.txt"), F_OK), 0);
    CU_ASSERT_EQUAL(access(at("dest/d/x.txt"), F_OK), -1);
    store_callbacks.session_end(&st, 0x01020304, 0xABCD0001, 0, true);
    CU_ASSERT_EQUAL(access(at("dest/d/x.txt"), F_OK), 0);
    CU_ASSERT_EQUAL(access(at("dest/emptydir"), F_OK), 0);
    CU_ASSERT_EQUAL(count_entries(temppath, ""), 0);

    /* A failed session leaves nothing anywhere. */
    struct receiver_file g = rf("y.txt", FTYPE_REG, 3, 1);
    g.group_id = 0xABCD0002;
    CU_ASSERT_EQUAL_FATAL(store_callbacks.open(&st, &g, &h), 0);
    CU_ASSERT_EQUAL(store_callbacks.write(&st, h, 0, "xyz", 3), 0);
    CU_ASSERT_EQUAL(store_callbacks.close(&st, h, RECEIVER_CLOSE_DONE, &g), 0);
    store_callbacks.session_end(&st, 0x01020304, 0xABCD0002, 0, false);
    CU_ASSERT_EQUAL(access(at("dest/y.txt"), F_OK), -1);
    CU_ASSERT_EQUAL(count_entries(temppath, ""), 0);
    store_free(&st);
    teardown();
}

/* Links: replaced atomically, never followed; dirs: existing is "1". */
static void test_links_dirs(void)
{
    setup();
    struct store st;
    CU_ASSERT_EQUAL_FATAL(store_init(&st, dests, 1, NULL, false, 1 << 20, NULL), 0);
    char outside[PATH_MAX];
    snprintf(outside, sizeof(outside), "%s/outside", root);
    struct receiver_file l = rf("evil", FTYPE_LINK, 0, 1);
    l.link = outside;
    CU_ASSERT_EQUAL(store_callbacks.symlink(&st, &l), 0);
    char buf[PATH_MAX];
    ssize_t n = readlink(at("dest/evil"), buf, sizeof(buf) - 1);
    CU_ASSERT_EQUAL_FATAL(n, (ssize_t)strlen(outside));
    /* Replacing it with another target. */
    l.link = "elsewhere";
    CU_ASSERT_EQUAL(store_callbacks.symlink(&st, &l), 0);
    n = readlink(at("dest/evil"), buf, sizeof(buf) - 1);
    CU_ASSERT_EQUAL(n, 9);
    l.link = outside;
    CU_ASSERT_EQUAL(store_callbacks.symlink(&st, &l), 0);
    /* Through the link: refused, for files, dirs, links. */
    struct receiver_file f = rf("evil/planted", FTYPE_REG, 1, 2);
    void *h = NULL;
    CU_ASSERT_EQUAL(store_callbacks.open(&st, &f, &h), FILE_ESYMLINK);
    struct receiver_file d = rf("evil/dir", FTYPE_DIR, 0, 3);
    CU_ASSERT(store_callbacks.mkdir(&st, &d) < 0);
    struct receiver_file l2 = rf("evil/l2", FTYPE_LINK, 0, 4);
    l2.link = "x";
    CU_ASSERT(store_callbacks.symlink(&st, &l2) < 0);
    CU_ASSERT_EQUAL(count_entries(at("outside"), ""), 0);
    /* A regular file in the link's place replaces the link itself. */
    struct receiver_file r = rf("evil", FTYPE_REG, 2, 5);
    CU_ASSERT_EQUAL_FATAL(store_callbacks.open(&st, &r, &h), 0);
    CU_ASSERT_EQUAL(store_callbacks.write(&st, h, 0, "ok", 2), 0);
    CU_ASSERT_EQUAL(store_callbacks.close(&st, h, RECEIVER_CLOSE_DONE, &r), 0);
    struct stat sb;
    CU_ASSERT_EQUAL(lstat(at("dest/evil"), &sb), 0);
    CU_ASSERT(S_ISREG(sb.st_mode));
    CU_ASSERT_EQUAL(count_entries(at("outside"), ""), 0);
    /* Directories: new 0, existing 1; a file in the way of a dir is refused. */
    struct receiver_file e = rf("a/b/c", FTYPE_DIR, 0, 6);
    CU_ASSERT_EQUAL(store_callbacks.mkdir(&st, &e), 0);
    CU_ASSERT_EQUAL(store_callbacks.mkdir(&st, &e), 1);
    put("dest/plainfile", "x");
    struct receiver_file pf = rf("plainfile", FTYPE_DIR, 0, 7);
    CU_ASSERT(store_callbacks.mkdir(&st, &pf) < 0);
    /* A directory in the way of a file is refused at open. */
    struct receiver_file df = rf("a/b", FTYPE_REG, 1, 8);
    CU_ASSERT_EQUAL(store_callbacks.open(&st, &df, &h), -EISDIR);
    /* @DELETE removes a tree, never what a link points to. */
    put("outside/keep", "k");
    struct receiver_file del = rf("evil", FTYPE_DELETE, 0, 9);
    CU_ASSERT_EQUAL(store_callbacks.remove(&st, &del), 0);
    struct receiver_file del2 = rf("a", FTYPE_DELETE, 0, 10);
    CU_ASSERT_EQUAL(store_callbacks.remove(&st, &del2), 0);
    CU_ASSERT_EQUAL(access(at("dest/a"), F_OK), -1);
    CU_ASSERT_EQUAL(access(at("outside/keep"), F_OK), 0);
    uint64_t avail = 0;
    CU_ASSERT_EQUAL(store_callbacks.free_space(&st, &del, &avail), 0);
    CU_ASSERT(avail > 0);
    store_free(&st);
    teardown();
}

/* The default destination is created when missing; other missing dirs are errors. */
static void test_init_dirs(void)
{
    setup();
    struct store st;
    char def[PATH_MAX];
    snprintf(def, sizeof(def), "%s/var/lib/incoming", root);
    const char *d1[1] = {def};
    CU_ASSERT_EQUAL(store_init(&st, d1, 1, NULL, false, 1 << 20, NULL), -ENOENT);
    CU_ASSERT_EQUAL(store_init(&st, d1, 1, NULL, false, 1 << 20, def), 0);
    struct stat sb;
    CU_ASSERT_EQUAL(stat(def, &sb), 0);
    CU_ASSERT(S_ISDIR(sb.st_mode));
    store_free(&st);
    char missing[PATH_MAX];
    snprintf(missing, sizeof(missing), "%s/nope", root);
    CU_ASSERT_EQUAL(store_init(&st, dests, 1, missing, false, 1 << 20, NULL), -ENOENT);
    teardown();
}

/* What the post-receive hook was given: "GROUP path path..." per call. */
static char hook_log[16][1024];
static int hook_calls;

static void hook(void *arg, uint32_t group_id, const char *const *paths, size_t n)
{
    (void)arg;
    if (hook_calls >= 16)
        return;
    char *b = hook_log[hook_calls++];
    int k = snprintf(b, 1024, "%08X", group_id);
    for (size_t i = 0; i < n && k > 0 && k < 1024; i++)
        k += snprintf(b + k, 1024 - (size_t)k, " %s", paths[i] + strlen(root));
}

static void write_file(struct store *st, struct receiver_file *f, const char *content, bool done)
{
    void *h = NULL;
    f->size = strlen(content);
    CU_ASSERT_EQUAL_FATAL(store_callbacks.open(st, f, &h), 0);
    CU_ASSERT_EQUAL(store_callbacks.write(st, h, 0, content, strlen(content)), 0);
    CU_ASSERT_EQUAL(
        store_callbacks.close(st, h, done ? RECEIVER_CLOSE_DONE : RECEIVER_CLOSE_ABORT, f), 0);
}

static char *read_text(const char *path)
{
    static char buf[256];
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return NULL;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

/* Without -T the hook hears of each completed file, at its full path, never of an aborted one. */
static void test_received_hook(void)
{
    setup();
    struct store st;
    CU_ASSERT_EQUAL_FATAL(store_init(&st, dests, 1, NULL, false, 1 << 20, NULL), 0);
    st.received = hook;
    hook_calls = 0;
    struct receiver_file f = rf("a/b.txt", FTYPE_REG, 0, 1);
    write_file(&st, &f, "one", true);
    struct receiver_file g = rf("c.txt", FTYPE_REG, 0, 2);
    write_file(&st, &g, "two", false);
    struct receiver_file d = rf("dir", FTYPE_DIR, 0, 3);
    CU_ASSERT_EQUAL(store_callbacks.mkdir(&st, &d), 0);
    CU_ASSERT_EQUAL(hook_calls, 1);
    CU_ASSERT_STRING_EQUAL(hook_log[0], "ABCD0001 /dest/a/b.txt");
    store_free(&st);
    teardown();
}

/* -A: a replaced file, a replaced link and a deleted tree move to backup/DATE/TIME/<dest>/<rel>. */
static void test_backups(void)
{
    setup();
    struct store st;
    char bpath[PATH_MAX];
    snprintf(bpath, sizeof(bpath), "%s/backup", root);
    CU_ASSERT_EQUAL_FATAL(mkdir(bpath, 0755), 0);
    const char *bdirs[] = {bpath, bpath};
    CU_ASSERT_EQUAL_FATAL(store_init(&st, dests, 1, NULL, false, 1 << 20, NULL), 0);
    /* One backup dir per dest, not the dest itself. */
    CU_ASSERT_EQUAL(store_set_backups(&st, bdirs, 2), -EINVAL);
    CU_ASSERT_EQUAL(store_set_backups(&st, dests, 1), -EINVAL);
    CU_ASSERT_EQUAL(store_set_backups(&st, bdirs, 1), 0);
    /* 2001-09-09 03:46:40 local time: the session's start names the backup dir. */
    store_session_begin(&st, 0x01020304, 0xABCD0001, 0, 1000000000);
    struct tm tm;
    time_t t0 = 1000000000;
    localtime_r(&t0, &tm);
    char stamp[32];
    strftime(stamp, sizeof(stamp), "%Y%m%d/%H%M%S", &tm);
    char prefix[512];
    CU_ASSERT_FATAL(snprintf(prefix, sizeof(prefix), "backup/%s/%s", stamp, destpath + 1) <
                    (int)sizeof(prefix));

    CU_ASSERT_EQUAL(mkdir(at("dest/sub"), 0755), 0);
    put("dest/sub/f.txt", "old");
    struct receiver_file f = rf("sub/f.txt", FTYPE_REG, 0, 1);
    write_file(&st, &f, "new", true);
    CU_ASSERT_STRING_EQUAL(read_text(at("dest/sub/f.txt")), "new");
    char rel[600];
    CU_ASSERT_FATAL(snprintf(rel, sizeof(rel), "%s/sub/f.txt", prefix) < (int)sizeof(rel));
    CU_ASSERT_PTR_NOT_NULL_FATAL(read_text(at(rel)));
    CU_ASSERT_STRING_EQUAL(read_text(at(rel)), "old");
    /* A new file replaces nothing: no backup. */
    struct receiver_file n = rf("fresh.txt", FTYPE_REG, 0, 2);
    write_file(&st, &n, "x", true);
    CU_ASSERT_FATAL(snprintf(rel, sizeof(rel), "%s/fresh.txt", prefix) < (int)sizeof(rel));
    CU_ASSERT_EQUAL(access(at(rel), F_OK), -1);
    /* @DELETE of a tree moves it whole. */
    CU_ASSERT_EQUAL(mkdir(at("dest/tree"), 0755), 0);
    put("dest/tree/x", "x");
    struct receiver_file del = rf("tree", FTYPE_DELETE, 0, 3);
    CU_ASSERT_EQUAL(store_callbacks.remove(&st, &del), 0);
    CU_ASSERT_EQUAL(access(at("dest/tree"), F_OK), -1);
    CU_ASSERT_FATAL(snprintf(rel, sizeof(rel), "%s/tree/x", prefix) < (int)sizeof(rel));
    CU_ASSERT_EQUAL(access(at(rel), F_OK), 0);
    /* Deleting what is not there is fine. */
    struct receiver_file none = rf("nothing", FTYPE_DELETE, 0, 4);
    CU_ASSERT_EQUAL(store_callbacks.remove(&st, &none), -ENOENT);
    /* Issue 14 item 4: the same name again never overwrites the first backup. */
    struct receiver_file again = rf("sub/f.txt", FTYPE_REG, 0, 5);
    write_file(&st, &again, "newer", true);
    CU_ASSERT_STRING_EQUAL(read_text(at("dest/sub/f.txt")), "newer");
    CU_ASSERT_FATAL(snprintf(rel, sizeof(rel), "%s/sub/f.txt", prefix) < (int)sizeof(rel));
    CU_ASSERT_STRING_EQUAL(read_text(at(rel)), "old");
    CU_ASSERT_FATAL(snprintf(rel, sizeof(rel), "%s/sub/f.txt.~1~", prefix) < (int)sizeof(rel));
    CU_ASSERT_PTR_NOT_NULL_FATAL(read_text(at(rel)));
    CU_ASSERT_STRING_EQUAL(read_text(at(rel)), "new");
    store_callbacks.session_end(&st, 0x01020304, 0xABCD0001, 0, true);
    /*
     * A session whose backups cannot be made (its backup dir is a file):
     * nothing is replaced, nothing is deleted.
     */
    time_t t1 = 1000003600;
    store_session_begin(&st, 0x01020304, 0xABCD0009, 0, t1);
    localtime_r(&t1, &tm);
    strftime(stamp, sizeof(stamp), "%Y%m%d", &tm);
    snprintf(rel, sizeof(rel), "backup/%s", stamp);
    char hour[32];
    strftime(hour, sizeof(hour), "%H%M%S", &tm);
    mkdir(at(rel), 0755);
    CU_ASSERT_FATAL(snprintf(rel, sizeof(rel), "backup/%s/%s", stamp, hour) < (int)sizeof(rel));
    put(rel, "in the way");
    struct receiver_file keep = rf("sub/f.txt", FTYPE_DELETE, 0, 1);
    keep.group_id = 0xABCD0009;
    CU_ASSERT(store_callbacks.remove(&st, &keep) < 0);
    CU_ASSERT_STRING_EQUAL(read_text(at("dest/sub/f.txt")), "newer");
    struct receiver_file repl = rf("sub/f.txt", FTYPE_REG, 5, 2);
    repl.group_id = 0xABCD0009;
    void *h = NULL;
    CU_ASSERT_EQUAL_FATAL(store_callbacks.open(&st, &repl, &h), 0);
    CU_ASSERT_EQUAL(store_callbacks.write(&st, h, 0, "later", 5), 0);
    CU_ASSERT(store_callbacks.close(&st, h, RECEIVER_CLOSE_DONE, &repl) < 0);
    CU_ASSERT_STRING_EQUAL(read_text(at("dest/sub/f.txt")), "newer");
    store_callbacks.session_end(&st, 0x01020304, 0xABCD0009, 0, false);
    store_free(&st);
    teardown();
}

/* -T -i: file by file into existing dirs, one hook call per file and per empty dir. */
static void test_move_each(void)
{
    setup();
    struct store st;
    CU_ASSERT_EQUAL_FATAL(store_init(&st, dests, 1, temppath, false, 1 << 20, NULL), 0);
    st.received = hook;
    st.move_each = true;
    hook_calls = 0;
    /* Already in the dest: a dir with a file to keep, and a file where a dir arrives. */
    CU_ASSERT_EQUAL(mkdir(at("dest/d"), 0755), 0);
    put("dest/d/keep.txt", "keep");
    put("dest/e", "a file in the way");
    struct receiver_file f1 = rf("d/new.txt", FTYPE_REG, 0, 1);
    write_file(&st, &f1, "new", true);
    struct receiver_file f2 = rf("e/x/y.txt", FTYPE_REG, 0, 2);
    write_file(&st, &f2, "y", true);
    struct receiver_file d = rf("empty", FTYPE_DIR, 0, 3);
    CU_ASSERT_EQUAL(store_callbacks.mkdir(&st, &d), 0);
    CU_ASSERT_EQUAL(hook_calls, 0); /* nothing is delivered before the end */
    store_callbacks.session_end(&st, 0x01020304, 0xABCD0001, 0, true);
    CU_ASSERT_STRING_EQUAL(read_text(at("dest/d/keep.txt")), "keep");
    CU_ASSERT_STRING_EQUAL(read_text(at("dest/d/new.txt")), "new");
    CU_ASSERT_STRING_EQUAL(read_text(at("dest/e/x/y.txt")), "y");
    CU_ASSERT_EQUAL(hook_calls, 3);
    CU_ASSERT_STRING_EQUAL(hook_log[0], "ABCD0001 /dest/d/new.txt");
    CU_ASSERT_STRING_EQUAL(hook_log[1], "ABCD0001 /dest/e/x/y.txt");
    CU_ASSERT_STRING_EQUAL(hook_log[2], "ABCD0001 /dest/empty");
    CU_ASSERT_EQUAL(count_entries(temppath, ""), 0);
    store_free(&st);
    teardown();
}

/* -T alone: whole top-level entries replace existing ones; one hook call lists them. */
static void test_move_all(void)
{
    setup();
    struct store st;
    CU_ASSERT_EQUAL_FATAL(store_init(&st, dests, 1, temppath, false, 1 << 20, NULL), 0);
    st.received = hook;
    hook_calls = 0;
    CU_ASSERT_EQUAL(mkdir(at("dest/d"), 0755), 0);
    put("dest/d/old.txt", "old");
    struct receiver_file f1 = rf("d/new.txt", FTYPE_REG, 0, 1);
    write_file(&st, &f1, "new", true);
    struct receiver_file f2 = rf("top.txt", FTYPE_REG, 0, 2);
    write_file(&st, &f2, "top", true);
    store_callbacks.session_end(&st, 0x01020304, 0xABCD0001, 0, true);
    CU_ASSERT_EQUAL(access(at("dest/d/old.txt"), F_OK), -1);
    CU_ASSERT_STRING_EQUAL(read_text(at("dest/d/new.txt")), "new");
    CU_ASSERT_EQUAL(hook_calls, 1);
    CU_ASSERT_STRING_EQUAL(hook_log[0], "ABCD0001 /dest/d /dest/top.txt");
    /* An aborted session delivers nothing. */
    struct receiver_file g = rf("z.txt", FTYPE_REG, 0, 1);
    g.group_id = 0xABCD0002;
    write_file(&st, &g, "z", true);
    store_callbacks.session_end(&st, 0x01020304, 0xABCD0002, 0, false);
    CU_ASSERT_EQUAL(hook_calls, 1);
    store_free(&st);
    teardown();
}

/* pwritev that records each call's iovecs, for the receive-batch tests. */
static int pw_calls;
static const uint8_t *pw_lo, *pw_hi;
static int pw_outside;          /* iovecs pointing outside [pw_lo, pw_hi) */
static size_t pw_outside_bytes; /* the bytes they carry */
static int pw_maxcnt;
static int pw_midpage; /* calls ending inside a page (STORE_PAGE) */
static ssize_t counting_pwritev(int fd, const struct iovec *iov, int iovcnt, off_t off)
{
    pw_calls++;
    if (iovcnt > pw_maxcnt)
        pw_maxcnt = iovcnt;
    size_t len = 0;
    for (int i = 0; i < iovcnt; i++) {
        const uint8_t *p = iov[i].iov_base;
        len += iov[i].iov_len;
        if (p < pw_lo || p + iov[i].iov_len > pw_hi) {
            pw_outside++;
            pw_outside_bytes += iov[i].iov_len;
        }
    }
    if (((uint64_t)off + len) % STORE_PAGE != 0)
        pw_midpage++;
    return pwritev(fd, iov, iovcnt, off);
}

/*
 * A receive batch (issue 8): blocks written from the declared buffers are
 * not copied but queued, and leave at store_batch_end in one pwritev per
 * run of consecutive blocks, for two files at once; a gap starts a new run.
 * Issue 18: each write ends on a page boundary unless it ends the file; the
 * bytes past a run's last boundary (less than a page, the only bytes
 * copied) lead the next run of the file.
 */
static void test_batch_zero_copy(void)
{
    setup();
    struct store st;
    CU_ASSERT_EQUAL_FATAL(store_init(&st, dests, 1, NULL, false, 1 << 20, NULL), 0);
    const size_t blk = 1300, nblk = 200, size = blk * nblk;
    uint8_t *rx = malloc(2 * size); /* the "receive buffers": two files' blocks */
    for (size_t i = 0; i < 2 * size; i++)
        rx[i] = (uint8_t)(i * 13 + i / 977);
    struct receiver_file fa = rf("a.bin", FTYPE_REG, size, 1);
    struct receiver_file fb = rf("b.bin", FTYPE_REG, size, 2);
    void *ha = NULL, *hb = NULL;
    CU_ASSERT_EQUAL_FATAL(store_callbacks.open(&st, &fa, &ha), 0);
    CU_ASSERT_EQUAL_FATAL(store_callbacks.open(&st, &fb, &hb), 0);
    pw_calls = pw_outside = pw_maxcnt = pw_midpage = 0;
    pw_outside_bytes = 0;
    pw_lo = rx;
    pw_hi = rx + 2 * size;
    fs_set_pwritev(counting_pwritev);

    /* Batch 1: a's first half, b's blocks interleaved with it. */
    store_batch_begin(&st, rx, 2 * size);
    for (size_t b = 0; b < nblk / 2; b++) {
        CU_ASSERT_EQUAL(store_callbacks.write(&st, ha, b * blk, rx + b * blk, blk), 0);
        CU_ASSERT_EQUAL(store_callbacks.write(&st, hb, b * blk, rx + size + b * blk, blk), 0);
    }
    CU_ASSERT_EQUAL(pw_calls, 0); /* nothing written before the batch ends */
    store_batch_end(&st);
    CU_ASSERT_EQUAL(pw_calls, 2);
    /* 100 blocks end at 130,000 = 31 pages + 3,024 bytes: the last two blocks
     * and 424 bytes of the one before wait for the next run. */
    CU_ASSERT_EQUAL(pw_maxcnt, (int)nblk / 2 - 2);
    CU_ASSERT_EQUAL(pw_midpage, 0);
    CU_ASSERT_EQUAL(pw_outside, 0);

    /* Batch 2: a's second half with one block missing (a gap: two runs), b's rest. */
    pw_calls = 0;
    store_batch_begin(&st, rx, 2 * size);
    for (size_t b = nblk / 2; b < nblk; b++) {
        if (b != 150)
            CU_ASSERT_EQUAL(store_callbacks.write(&st, ha, b * blk, rx + b * blk, blk), 0);
        CU_ASSERT_EQUAL(store_callbacks.write(&st, hb, b * blk, rx + size + b * blk, blk), 0);
    }
    store_batch_end(&st);
    /* a: blocks 100-149 led by batch 1's tail; that run's own tail alone (block 151
     * does not follow it); blocks 151-199, which end the file. b: 100-199 led by its tail. */
    CU_ASSERT_EQUAL(pw_calls, 4);
    CU_ASSERT_EQUAL(pw_midpage, 3); /* the lone tail, and both ends of file */
    /* Only the three tails were copied: every other byte went straight from the buffers. */
    CU_ASSERT_EQUAL(pw_outside, 3);
    CU_ASSERT_EQUAL(pw_outside_bytes, 3024 + 195000 % STORE_PAGE + 3024);

    /* The missing block arrives outside a batch (from elsewhere): through the cache. */
    uint8_t copy[1300];
    memcpy(copy, rx + 150 * blk, blk);
    CU_ASSERT_EQUAL(store_callbacks.write(&st, ha, 150 * blk, copy, blk), 0);
    memset(rx + 150 * blk, 0, blk); /* the caller's buffer may change afterwards */
    CU_ASSERT_EQUAL(store_callbacks.close(&st, ha, RECEIVER_CLOSE_DONE, &fa), 0);
    CU_ASSERT_EQUAL(store_callbacks.close(&st, hb, RECEIVER_CLOSE_DONE, &fb), 0);
    CU_ASSERT_EQUAL(pw_outside, 4); /* and that one block, from the cache */
    fs_set_pwritev(NULL);
    memcpy(rx + 150 * blk, copy, blk);

    expect_file("dest/a.bin", rx, size);
    expect_file("dest/b.bin", rx + size, size);
    free(rx);
    store_free(&st);
    teardown();
}

/* A queued run is capped at -c bytes (and STORE_QUEUE_MAX blocks). */
static void test_batch_cap(void)
{
    setup();
    struct store st;
    CU_ASSERT_EQUAL_FATAL(store_init(&st, dests, 1, NULL, false, 10240, NULL), 0);
    const size_t blk = 1000, nblk = 35, size = blk * nblk;
    uint8_t *rx = malloc(size);
    for (size_t i = 0; i < size; i++)
        rx[i] = (uint8_t)(i * 31);
    struct receiver_file f = rf("cap.bin", FTYPE_REG, size, 1);
    void *h = NULL;
    CU_ASSERT_EQUAL_FATAL(store_callbacks.open(&st, &f, &h), 0);
    pw_calls = pw_outside = pw_maxcnt = 0;
    pw_lo = rx;
    pw_hi = rx + size;
    fs_set_pwritev(counting_pwritev);
    store_batch_begin(&st, rx, size);
    for (size_t b = 0; b < nblk; b++)
        CU_ASSERT_EQUAL(store_callbacks.write(&st, h, b * blk, rx + b * blk, blk), 0);
    store_batch_end(&st);
    fs_set_pwritev(NULL);
    /* 10 blocks of 1000 fit 10240 bytes: runs of 10, 10, 10, 5. */
    CU_ASSERT_EQUAL(pw_calls, 4);
    CU_ASSERT_EQUAL(pw_maxcnt, 10);
    CU_ASSERT_EQUAL(store_callbacks.close(&st, h, RECEIVER_CLOSE_DONE, &f), 0);
    expect_file("dest/cap.bin", rx, size);
    free(rx);
    store_free(&st);
    teardown();
}

/*
 * Issue 18: runs shorter than a page (one block a batch) wait in the cache
 * until the data crosses a page boundary, then leave up to it; the run that
 * ends the file leaves whole. The file is exact.
 */
static void test_batch_page_tails(void)
{
    setup();
    struct store st;
    CU_ASSERT_EQUAL_FATAL(store_init(&st, dests, 1, NULL, false, 1 << 20, NULL), 0);
    const size_t blk = 1000, nblk = 20, size = blk * nblk;
    uint8_t *rx = malloc(size);
    for (size_t i = 0; i < size; i++)
        rx[i] = (uint8_t)(i * 29 + i / 251);
    struct receiver_file f = rf("tails.bin", FTYPE_REG, size, 1);
    void *h = NULL;
    CU_ASSERT_EQUAL_FATAL(store_callbacks.open(&st, &f, &h), 0);
    pw_calls = pw_outside = pw_maxcnt = pw_midpage = 0;
    pw_outside_bytes = 0;
    pw_lo = rx;
    pw_hi = rx + size;
    fs_set_pwritev(counting_pwritev);
    int calls[20]; /* nblk */
    for (size_t b = 0; b < nblk; b++) {
        store_batch_begin(&st, rx, size);
        CU_ASSERT_EQUAL(store_callbacks.write(&st, h, b * blk, rx + b * blk, blk), 0);
        store_batch_end(&st);
        calls[b] = pw_calls;
    }
    fs_set_pwritev(NULL);
    /* Writes when a block crosses 4096, 8192, 12288, 16384, and at the end of the file. */
    CU_ASSERT_EQUAL(calls[3], 0);
    CU_ASSERT_EQUAL(calls[4], 1);
    CU_ASSERT_EQUAL(calls[8], 2);
    CU_ASSERT_EQUAL(calls[12], 3);
    CU_ASSERT_EQUAL(calls[16], 4);
    CU_ASSERT_EQUAL(calls[18], 4);
    CU_ASSERT_EQUAL(pw_calls, 5);
    CU_ASSERT_EQUAL(pw_midpage, 1); /* only the end of the file */
    CU_ASSERT_EQUAL(store_callbacks.close(&st, h, RECEIVER_CLOSE_DONE, &f), 0);
    expect_file("dest/tails.bin", rx, size);
    free(rx);
    store_free(&st);
    teardown();
}

/*
 * A write error found when a batch's queue is flushed sticks: the file's
 * next write and its close(DONE) fail, nothing is left; a file closed
 * (aborted) with blocks queued drops them, and the batch's end no longer
 * touches it.
 */
static void test_batch_errors(void)
{
    setup();
    struct store st;
    CU_ASSERT_EQUAL_FATAL(store_init(&st, dests, 1, NULL, false, 1 << 20, NULL), 0);
    const size_t blk = 1000, size = 20 * blk;
    uint8_t *rx = calloc(1, size);
    struct receiver_file f = rf("err.bin", FTYPE_REG, size, 1);
    void *h = NULL;
    CU_ASSERT_EQUAL_FATAL(store_callbacks.open(&st, &f, &h), 0);
    fail_after = 0;
    fs_set_pwritev(failing_pwritev);
    store_batch_begin(&st, rx, size);
    for (size_t b = 0; b < 10; b++)
        CU_ASSERT_EQUAL(store_callbacks.write(&st, h, b * blk, rx + b * blk, blk), 0);
    store_batch_end(&st);
    fs_set_pwritev(NULL);
    CU_ASSERT_EQUAL(store_callbacks.write(&st, h, 10 * blk, rx + 10 * blk, blk), -ENOSPC);
    CU_ASSERT_EQUAL(store_callbacks.close(&st, h, RECEIVER_CLOSE_DONE, &f), -ENOSPC);
    CU_ASSERT_EQUAL(access(at("dest/err.bin"), F_OK), -1);

    struct receiver_file g = rf("gone.bin", FTYPE_REG, size, 2);
    CU_ASSERT_EQUAL_FATAL(store_callbacks.open(&st, &g, &h), 0);
    pw_calls = 0;
    pw_lo = rx;
    pw_hi = rx + size;
    fs_set_pwritev(counting_pwritev);
    store_batch_begin(&st, rx, size);
    CU_ASSERT_EQUAL(store_callbacks.write(&st, h, 0, rx, blk), 0);
    CU_ASSERT_EQUAL(store_callbacks.close(&st, h, RECEIVER_CLOSE_ABORT, &g), 0);
    store_batch_end(&st);
    fs_set_pwritev(NULL);
    CU_ASSERT_EQUAL(pw_calls, 0);
    CU_ASSERT_EQUAL(count_entries(destpath, ""), 0);
    free(rx);
    store_free(&st);
    teardown();
}

/* Issue 14 item 7: a declared size reserves at most --preallocate ahead of the data. */
static void test_prealloc_bound(void)
{
    setup();
    struct store st;
    CU_ASSERT_EQUAL_FATAL(store_init(&st, dests, 1, NULL, true, 1 << 20, NULL), 0);
    st.prealloc = 1 << 20;
    struct receiver_file f = rf("claimed.bin", FTYPE_REG, UINT64_C(1) << 30, 7);
    void *h = NULL;
    CU_ASSERT_EQUAL_FATAL(store_callbacks.open(&st, &f, &h), 0);
    char tmp[NAME_MAX + 1], rel[NAME_MAX + 16];
    CU_ASSERT_FATAL(fs_temp_name(tmp, sizeof(tmp), "claimed.bin", f.group_id, f.file_id) > 0);
    snprintf(rel, sizeof(rel), "dest/%s", tmp);
    struct stat sb;
    CU_ASSERT_EQUAL_FATAL(stat(at(rel), &sb), 0);
    CU_ASSERT((uint64_t)sb.st_blocks * 512 <= (2u << 20)); /* not 1 GiB */
    /* As data arrives, the reservation follows it. */
    static uint8_t block[1 << 16];
    for (uint64_t off = 0; off < (4u << 20); off += sizeof(block))
        CU_ASSERT_EQUAL(store_callbacks.write(&st, h, off, block, sizeof(block)), 0);
    CU_ASSERT_EQUAL_FATAL(stat(at(rel), &sb), 0);
    CU_ASSERT((uint64_t)sb.st_blocks * 512 <= (6u << 20));
    CU_ASSERT(store_callbacks.close(&st, h, RECEIVER_CLOSE_ABORT, &f) == 0);
    store_free(&st);
    teardown();
}

/*
 * Issue 13, -T restart state: a failed session keeps its completed file,
 * its partial file and a record of the partial file's blocks; a session of
 * another server ID, or of the same ID with another key, resumes none of it
 * (and leaves it alone); the same server with the same key, in a later
 * instance, gets COMPLETE for the completed file, PARTIAL with exactly the
 * kept blocks for the other, and a correct whole file at the end.
 */
static void test_restart_state(void)
{
    setup();
    struct store st;
    CU_ASSERT_EQUAL_FATAL(store_init(&st, dests, 1, temppath, false, 1 << 20, NULL), 0);
    st.restart_keep_s = 3600;
    static uint8_t fpa[20], fpb[20];
    memset(fpa, 0xAA, sizeof(fpa));
    memset(fpb, 0xBB, sizeof(fpb));
    enum { BS = 512, NB = 11, SZ = 10 * BS + 100 };
    static uint8_t data[SZ];
    for (size_t i = 0; i < SZ; i++)
        data[i] = (uint8_t)(i * 7 + i / 512);
    void *h = NULL;

    /* Instance 0: done.txt complete, big with blocks 0, 1, 2 and 5, then the session fails. */
    struct receiver_file d = rf("done.txt", FTYPE_REG, 3, 1);
    struct receiver_file b = rf("sub/big", FTYPE_REG, SZ, 2);
    d.blocksize = b.blocksize = BS;
    d.server_fp = b.server_fp = fpa;
    d.server_fplen = b.server_fplen = 20;
    CU_ASSERT_EQUAL_FATAL(store_callbacks.open(&st, &d, &h), 0);
    CU_ASSERT_EQUAL(store_callbacks.write(&st, h, 0, "abc", 3), 0);
    CU_ASSERT_EQUAL(store_callbacks.close(&st, h, RECEIVER_CLOSE_DONE, &d), 0);
    CU_ASSERT_EQUAL_FATAL(store_callbacks.open(&st, &b, &h), 0);
    static const int kept[] = {0, 1, 2, 5};
    for (size_t i = 0; i < 4; i++)
        CU_ASSERT_EQUAL(
            store_callbacks.write(&st, h, (uint64_t)kept[i] * BS, data + kept[i] * BS, BS), 0);
    CU_ASSERT_EQUAL(store_callbacks.close(&st, h, RECEIVER_CLOSE_KEEP, &b), 0);
    store_callbacks.session_end(&st, 0x01020304, 0xABCD0001, 0, false);
    CU_ASSERT_EQUAL(access(at("temp/_group_ABCD0001_0_01020304/sub/big"), F_OK), 0);
    CU_ASSERT_EQUAL(access(at("temp/_group_ABCD0001_0_01020304.restart"), F_OK), 0);
    size_t len = 0;
    char *rec = slurp(at("temp/_group_ABCD0001_0_01020304.restart"), &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
    rec[len < (1 << 22) ? len : (1 << 22) - 1] = '\0';
    CU_ASSERT_PTR_NOT_NULL(strstr(rec, "\nfile sub/big 5220 512 11\nmap 2700\nend\n"));
    CU_ASSERT_PTR_NULL(strstr(rec, "\nfailed 0\n"));
    free(rec);

    /* Another server reusing the group ID, and the same ID with another key: fresh files. */
    struct receiver_file x = b;
    x.server_id = 0x05060708;
    x.group_inst = 1;
    CU_ASSERT_EQUAL_FATAL(store_callbacks.open(&st, &x, &h), 0);
    CU_ASSERT_EQUAL(store_callbacks.close(&st, h, RECEIVER_CLOSE_ABORT, &x), 0);
    store_callbacks.session_end(&st, 0x05060708, 0xABCD0001, 1, false);
    x = b;
    x.server_fp = fpb;
    x.group_inst = 2;
    CU_ASSERT_EQUAL_FATAL(store_callbacks.open(&st, &x, &h), 0);
    CU_ASSERT_EQUAL(store_callbacks.close(&st, h, RECEIVER_CLOSE_ABORT, &x), 0);
    store_callbacks.session_end(&st, 0x01020304, 0xABCD0001, 2, false);
    CU_ASSERT_EQUAL(access(at("temp/_group_ABCD0001_0_01020304/sub/big"), F_OK), 0);
    CU_ASSERT_EQUAL(access(at("temp/_group_ABCD0001_0_01020304/done.txt"), F_OK), 0);

    /* Instance 3 of the same server and key: resumed. */
    d.group_inst = b.group_inst = 3;
    CU_ASSERT_EQUAL(store_callbacks.open(&st, &d, &h), RECEIVER_OPEN_COMPLETE);
    CU_ASSERT_EQUAL_FATAL(store_callbacks.open(&st, &b, &h), RECEIVER_OPEN_PARTIAL);
    for (uint32_t i = 0; i < NB; i++) {
        bool want = i == 0 || i == 1 || i == 2 || i == 5;
        CU_ASSERT_EQUAL(store_callbacks.held(&st, h, i), want);
        if (!want) {
            size_t n = i == NB - 1 ? SZ - i * BS : BS;
            CU_ASSERT_EQUAL(store_callbacks.write(&st, h, (uint64_t)i * BS, data + i * BS, n), 0);
        }
    }
    CU_ASSERT_EQUAL(store_callbacks.close(&st, h, RECEIVER_CLOSE_DONE, &b), 0);
    store_callbacks.session_end(&st, 0x01020304, 0xABCD0001, 3, true);
    char *got = slurp(at("dest/sub/big"), &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(got);
    CU_ASSERT_EQUAL(len, SZ);
    CU_ASSERT(len == SZ && memcmp(got, data, SZ) == 0);
    free(got);
    got = slurp(at("dest/done.txt"), &len);
    CU_ASSERT(got != NULL && len == 3 && memcmp(got, "abc", 3) == 0);
    free(got);
    /* Only the other server's and the other key's state is left. */
    CU_ASSERT_EQUAL(count_entries(temppath, "_group_ABCD0001_3_"), 0);
    CU_ASSERT_EQUAL(count_entries(temppath, "_group_ABCD0001_0_"), 0);
    CU_ASSERT_EQUAL(count_entries(temppath, "_group_ABCD0001_1_05060708"), 2);
    CU_ASSERT_EQUAL(count_entries(temppath, "_group_ABCD0001_2_01020304"), 2);

    /* A daemon restarted later: kept state survives, expired state goes. */
    store_free(&st);
    CU_ASSERT_EQUAL_FATAL(store_init(&st, dests, 1, temppath, false, 1 << 20, NULL), 0);
    st.restart_keep_s = 3600;
    put("dest/sub/stale.~uftp-ABCD0001-0002", "partial");
    store_reclaim(&st);
    CU_ASSERT_EQUAL(count_entries(temppath, "_group_ABCD0001_1_05060708"), 2);
    CU_ASSERT_EQUAL(access(at("dest/sub/stale.~uftp-ABCD0001-0002"), F_OK), -1);
    /* Expired: dropped as the next -T session starts, or at the next start. */
    st.restart_keep_s = 1;
    sleep(1);
    struct receiver_file n = rf("n.txt", FTYPE_REG, 3, 1);
    n.group_id = 0xABCD0009;
    n.blocksize = BS;
    CU_ASSERT_EQUAL_FATAL(store_callbacks.open(&st, &n, &h), 0);
    CU_ASSERT_EQUAL(count_entries(temppath, "_group_ABCD0001_"), 0);
    CU_ASSERT_EQUAL(store_callbacks.close(&st, h, RECEIVER_CLOSE_ABORT, &n), 0);
    store_callbacks.session_end(&st, 0x01020304, 0xABCD0009, 0, false);
    CU_ASSERT_EQUAL(count_entries(temppath, "_group_ABCD0009_"), 2); /* kept: dir, record */
    sleep(1);
    store_reclaim(&st);
    CU_ASSERT_EQUAL(count_entries(temppath, ""), 0);
    store_free(&st);
    teardown();
}

/*
 * Issue 13: what kept state lacks counts against free space (another server's
 * session is told less; the state's own server, which may resume it, is not),
 * and --restart-keep runs out on a timer (store_expire) with no session
 * starting, never for a running session's state.
 */
static void test_restart_need_expire(void)
{
    setup();
    struct store st;
    CU_ASSERT_EQUAL_FATAL(store_init(&st, dests, 1, temppath, false, 1 << 20, NULL), 0);
    st.restart_keep_s = 3600;
    enum { BS = 512, SZ = 10 * BS + 100 };
    static uint8_t data[SZ];
    void *h = NULL, *h2 = NULL;
    struct receiver_file b = rf("big", FTYPE_REG, SZ, 1);
    b.blocksize = BS;
    CU_ASSERT_EQUAL_FATAL(store_callbacks.open(&st, &b, &h), 0);
    for (int i = 0; i < 3; i++)
        CU_ASSERT_EQUAL(store_callbacks.write(&st, h, (uint64_t)i * BS, data, BS), 0);
    /* Running: nothing promised yet, and never expired. */
    CU_ASSERT_EQUAL(store_kept_need(&st, 0x05060708, 0xABCD0002), 0);
    CU_ASSERT_EQUAL(store_callbacks.close(&st, h, RECEIVER_CLOSE_KEEP, &b), 0);
    store_callbacks.session_end(&st, 0x01020304, 0xABCD0001, 0, false);
    /* Failed: 8 blocks lacking, the last one 100 bytes. */
    CU_ASSERT_EQUAL(store_kept_need(&st, 0x05060708, 0xABCD0002), 7 * BS + 100);
    CU_ASSERT_EQUAL(store_kept_need(&st, 0x05060708, 0xABCD0001), 7 * BS + 100);
    CU_ASSERT_EQUAL(store_kept_need(&st, 0x01020304, 0xABCD0001), 0); /* its own */
    uint64_t raw = 0, told = 0;
    struct receiver_file o = rf("other", FTYPE_REG, 10, 1);
    o.server_id = 0x05060708;
    o.group_id = 0xABCD0002;
    CU_ASSERT_EQUAL(store_callbacks.free_space(&st, &o, &told), 0);
    CU_ASSERT_EQUAL(fs_free_space(st.tempfd, &raw), 0);
    /* (other writers on the file system may move raw a little between the two calls) */
    CU_ASSERT(told + 7 * BS + 100 <= raw + (1u << 20) && told + 7 * BS + 100 + (1u << 20) >= raw);
    /* A running session of another group: its state is never expired. */
    b.group_id = 0xABCD0003;
    CU_ASSERT_EQUAL_FATAL(store_callbacks.open(&st, &b, &h2), 0);
    CU_ASSERT_EQUAL(store_callbacks.write(&st, h2, 0, data, BS), 0);
    CU_ASSERT_EQUAL(store_expire(&st), 0); /* kept an hour */
    CU_ASSERT_EQUAL(count_entries(temppath, "_group_ABCD0001_"), 2);
    st.restart_keep_s = 1;
    sleep(1);
    CU_ASSERT_EQUAL(store_expire(&st), 1);
    CU_ASSERT_EQUAL(count_entries(temppath, "_group_ABCD0001_"), 0);
    CU_ASSERT_EQUAL(count_entries(temppath, "_group_ABCD0003_"), 2); /* running: dir, record */
    CU_ASSERT_EQUAL(store_kept_need(&st, 0x05060708, 0xABCD0002), 0);
    CU_ASSERT_EQUAL(store_callbacks.close(&st, h2, RECEIVER_CLOSE_ABORT, &b), 0);
    store_callbacks.session_end(&st, 0x01020304, 0xABCD0003, 0, false);
    store_free(&st);
    teardown();
}

static const struct cu_test store_tests[] = {
    {"reservations follow the data (--preallocate)", test_prealloc_bound},
    {"coalesces consecutive blocks", test_coalesce},
    {"blocks out of order", test_out_of_order},
    {"abort keeps the old version", test_abort_keeps_old},
    {"a new name is linked straight, a taken one replaced", test_fresh_link},
    {"write errors stick and leave nothing", test_write_error},
    {"-T session dir", test_session_dir},
    {"-T restart state: kept, resumed by its server only, reclaimed", test_restart_state},
    {"-T restart state: counts against free space, expires on a timer", test_restart_need_expire},
    {"links and dirs", test_links_dirs},
    {"destination dirs", test_init_dirs},
    {"post-receive hook per completed file", test_received_hook},
    {"-A backup dirs", test_backups},
    {"-T -i moves file by file", test_move_each},
    {"-T moves the top level, one hook call", test_move_all},
    {"receive batch: queued, not copied", test_batch_zero_copy},
    {"receive batch: runs capped at -c", test_batch_cap},
    {"receive batch: sub-page runs wait for a page boundary", test_batch_page_tails},
    {"receive batch: errors stick, aborts drop", test_batch_errors},
    {NULL, NULL},
};

CU_MAIN({"shell/store", store_tests})
