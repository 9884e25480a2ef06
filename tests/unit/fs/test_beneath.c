/*
 * Resolution beneath a destination, in a temp tree with planted symlinks.
 * Every scenario runs twice: with openat2 and with the O_NOFOLLOW walk.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "core/fs/beneath.h"
#include "core/base/file.h"
#include "core/wire/wire.h"
#include "cu.h"

static char root[64];
static int dest; /* fd of root/dest */
static int mode; /* 0: openat2, 1: walk */

static const char *at(const char *rel)
{
    static char buf[4][PATH_MAX];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof(buf[k]), "%s/%s", root, rel);
    return buf[k];
}

static void put(const char *rel, const char *content)
{
    FILE *f = fopen(at(rel), "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs(content, f);
    fclose(f);
}

static const char *get(const char *rel)
{
    static char buf[256];
    FILE *f = fopen(at(rel), "r");
    if (!f)
        return NULL;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static bool exists(const char *rel)
{
    struct stat st;
    return lstat(at(rel), &st) == 0;
}

static bool is_link(const char *rel)
{
    struct stat st;
    return lstat(at(rel), &st) == 0 && S_ISLNK(st.st_mode);
}

static int nentries;
static int count_cb(const char *p, const struct stat *s, int flag, struct FTW *f)
{
    nentries++;
    return 0;
}

/* Number of entries in the tree at rel (never following links). */
static int count(const char *rel)
{
    nentries = 0;
    nftw(at(rel), count_cb, 16, FTW_PHYS);
    return nentries;
}

static int rm_cb(const char *p, const struct stat *s, int flag, struct FTW *f)
{
    return remove(p);
}

/*
 * root/dest            the destination (fd `dest`)
 * root/outside/        must never change: secret, target.txt, sub/keep
 * root/dest/evil    -> root/outside          (spec §6.2)
 */
static void setup(void)
{
    snprintf(root, sizeof(root), "/tmp/uftp-fs-XXXXXX");
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(root));
    mkdir(at("dest"), 0755);
    mkdir(at("outside"), 0755);
    mkdir(at("outside/sub"), 0755);
    put("outside/secret", "secret");
    put("outside/target.txt", "target");
    put("outside/sub/keep", "keep");
    CU_ASSERT_EQUAL(symlink(at("outside"), at("dest/evil")), 0);
    dest = fs_dir_open(at("dest"));
    CU_ASSERT_FATAL(dest >= 0);
}

static void teardown(void)
{
    close(dest);
    nftw(root, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

static void both(void (*body)(void))
{
    for (mode = 0; mode < 2; mode++) {
        fs_set_resolve_mode(mode ? FS_RESOLVE_WALK : FS_RESOLVE_AUTO);
        setup();
        body();
        /* The outside tree is never touched, whatever the scenario. */
        CU_ASSERT_STRING_EQUAL(get("outside/secret"), "secret");
        CU_ASSERT_STRING_EQUAL(get("outside/target.txt"), "target");
        CU_ASSERT_STRING_EQUAL(get("outside/sub/keep"), "keep");
        CU_ASSERT_EQUAL(count("outside"), 5);
        teardown();
    }
    fs_set_resolve_mode(FS_RESOLVE_AUTO);
}

static void body_modes(void)
{
    /* This kernel has openat2; the walk can be forced. */
    CU_ASSERT_EQUAL(fs_using_openat2(), mode == 0);
}

static void write_str(int fd, const char *s)
{
    CU_ASSERT_EQUAL(fs_pwrite_all(fd, s, strlen(s), 0), (ssize_t)strlen(s));
}

static void body_create_parents(void)
{
    int fd = fs_file_open(dest, "a/b/c.txt", FS_F_PARENTS);
    CU_ASSERT_FATAL(fd >= 0);
    write_str(fd, "hello");
    close(fd);
    CU_ASSERT_STRING_EQUAL(get("dest/a/b/c.txt"), "hello");
    /* Without FS_F_PARENTS a missing parent is an error, and nothing is made. */
    CU_ASSERT_EQUAL(fs_file_open(dest, "x/y/z", 0), -ENOENT);
    CU_ASSERT_FALSE(exists("dest/x"));
    /* Malformed rel paths are refused before any system call. */
    CU_ASSERT_EQUAL(fs_file_open(dest, "../escape", FS_F_PARENTS), FILE_ENAME_DOTDOT);
    CU_ASSERT_EQUAL(fs_file_open(dest, "/tmp/abs", FS_F_PARENTS), FILE_ENAME_ABS);
    CU_ASSERT_EQUAL(fs_file_open(dest, "a//b", FS_F_PARENTS), FILE_ENAME_EMPTYCOMP);
    CU_ASSERT_EQUAL(fs_file_open(dest, "a/./b", FS_F_PARENTS), FILE_ENAME_DOT);
    CU_ASSERT_FALSE(exists("escape"));
}

static void body_symlink_escape(void)
{
    /* spec §6.2 proof: dest/evil -> outside, outside/sub exists. */
    CU_ASSERT_EQUAL(fs_file_open(dest, "evil/sub/planted.txt", FS_F_PARENTS), FILE_ESYMLINK);
    CU_ASSERT_FALSE(exists("outside/sub/planted.txt"));
    CU_ASSERT_EQUAL(fs_file_open(dest, "evil/newdir/x", FS_F_PARENTS), FILE_ESYMLINK);
    CU_ASSERT_FALSE(exists("outside/newdir"));
    CU_ASSERT_EQUAL(fs_mkdir(dest, "evil/made", FS_F_PARENTS), FILE_ESYMLINK);
    CU_ASSERT_EQUAL(fs_symlink(dest, "evil/l", "x", 0), FILE_ESYMLINK);
    CU_ASSERT_EQUAL(fs_set_mtime(dest, "evil/secret", 1), FILE_ESYMLINK);
    CU_ASSERT_EQUAL(fs_subdir_open(dest, "evil", 0), FILE_ESYMLINK);
    CU_ASSERT_EQUAL(fs_subdir_open(dest, "evil/sub", FS_F_PARENTS), FILE_ESYMLINK);
    struct file_stat st;
    CU_ASSERT_EQUAL(fs_stat(dest, "evil/secret", &st), FILE_ESYMLINK);
    /* A link deeper in the tree is caught as well. */
    CU_ASSERT_EQUAL(fs_mkdir(dest, "d1/d2", FS_F_PARENTS), 0);
    CU_ASSERT_EQUAL(symlink(at("outside"), at("dest/d1/d2/deep")), 0);
    CU_ASSERT_EQUAL(fs_file_open(dest, "d1/d2/deep/sub/x", FS_F_PARENTS), FILE_ESYMLINK);
    /* Relative links too. */
    CU_ASSERT_EQUAL(symlink("../../../outside", at("dest/d1/d2/rel")), 0);
    CU_ASSERT_EQUAL(fs_file_open(dest, "d1/d2/rel/secret", 0), FILE_ESYMLINK);
}

static void body_final_symlink(void)
{
    CU_ASSERT_EQUAL(symlink(at("outside/target.txt"), at("dest/link")), 0);
    CU_ASSERT_EQUAL(fs_file_open(dest, "link", FS_F_TRUNC), FILE_EFINALLINK);
    CU_ASSERT_EQUAL(fs_file_open(dest, "link", FS_F_EXCL), FILE_EFINALLINK);
    /* A dangling link must not create its target. */
    CU_ASSERT_EQUAL(symlink(at("outside/new.txt"), at("dest/dangle")), 0);
    CU_ASSERT_EQUAL(fs_file_open(dest, "dangle", 0), FILE_EFINALLINK);
    CU_ASSERT_FALSE(exists("outside/new.txt"));
    CU_ASSERT_EQUAL(fs_mkdir(dest, "dangle", 0), FILE_EFINALLINK);
}

static void body_type_mismatch(void)
{
    put("dest/file", "f");
    CU_ASSERT_EQUAL(fs_file_open(dest, "file/x", FS_F_PARENTS), -ENOTDIR);
    CU_ASSERT_EQUAL(fs_file_open(dest, "file/x", 0), -ENOTDIR);
    CU_ASSERT_EQUAL(fs_mkdir(dest, "file", 0), -EEXIST);
    CU_ASSERT_EQUAL(fs_mkdir(dest, "dir", 0), 0);
    CU_ASSERT_EQUAL(fs_mkdir(dest, "dir", 0), 0); /* already there: fine */
    CU_ASSERT_EQUAL(fs_file_open(dest, "dir", 0), -EISDIR);
    CU_ASSERT_EQUAL(mkfifo(at("dest/fifo"), 0600), 0);
    CU_ASSERT_EQUAL(fs_file_open(dest, "fifo", 0), FILE_ENOTREG); /* and does not block */
}

static void body_hardlink(void)
{
    CU_ASSERT_EQUAL(link(at("outside/secret"), at("dest/hl")), 0);
    CU_ASSERT_EQUAL(fs_file_open(dest, "hl", FS_F_TRUNC), FILE_EHARDLINK);
    CU_ASSERT_EQUAL(fs_file_open(dest, "hl", 0), FILE_EHARDLINK);
    CU_ASSERT_STRING_EQUAL(get("dest/hl"), "secret");
    CU_ASSERT_EQUAL(unlink(at("dest/hl")), 0);
}

static void body_excl_trunc(void)
{
    put("dest/f", "0123456789");
    CU_ASSERT_EQUAL(fs_file_open(dest, "f", FS_F_EXCL), -EEXIST);
    int fd = fs_file_open(dest, "f", 0);
    CU_ASSERT_FATAL(fd >= 0);
    write_str(fd, "ab");
    close(fd);
    CU_ASSERT_STRING_EQUAL(get("dest/f"), "ab23456789"); /* restart: written in place */
    fd = fs_file_open(dest, "f", FS_F_TRUNC);
    CU_ASSERT_FATAL(fd >= 0);
    write_str(fd, "xy");
    close(fd);
    CU_ASSERT_STRING_EQUAL(get("dest/f"), "xy");
    /* The fd is blocking, write-only, close-on-exec. */
    fd = fs_file_open(dest, "g", FS_F_EXCL);
    CU_ASSERT_FATAL(fd >= 0);
    int fl = fcntl(fd, F_GETFL);
    CU_ASSERT_EQUAL(fl & (O_ACCMODE | O_NONBLOCK), O_WRONLY);
    CU_ASSERT(fcntl(fd, F_GETFD) & FD_CLOEXEC);
    close(fd);
}

static void body_temp_rename(void)
{
    char tmp[PATH_MAX];
    CU_ASSERT_EQUAL(fs_temp_name(tmp, sizeof(tmp), "d/f.txt", 0x1234abcd, 0x42), 27);
    CU_ASSERT_STRING_EQUAL(tmp, "d/f.txt.~uftp-1234ABCD-0042");
    int fd = fs_file_open(dest, tmp, FS_F_PARENTS | FS_F_EXCL);
    CU_ASSERT_FATAL(fd >= 0);
    write_str(fd, "data");
    close(fd);
    put("dest/d/f.txt", "old");
    CU_ASSERT_EQUAL(fs_rename(dest, tmp, dest, "d/f.txt", FS_F_NOREPLACE), -EEXIST);
    CU_ASSERT_EQUAL(fs_rename(dest, tmp, dest, "d/f.txt", 0), 0);
    CU_ASSERT_STRING_EQUAL(get("dest/d/f.txt"), "data");
    CU_ASSERT_FALSE(exists("dest/d/f.txt.~uftp-1234ABCD-0042"));
    /* Over a non-empty directory: the caller has to decide. */
    put("dest/t", "t");
    CU_ASSERT_EQUAL(fs_rename(dest, "t", dest, "d", 0), -EISDIR);
    /* Into a symlinked dir: refused; from one: refused. */
    CU_ASSERT_EQUAL(fs_rename(dest, "t", dest, "evil/t", FS_F_PARENTS), FILE_ESYMLINK);
    CU_ASSERT_EQUAL(fs_rename(dest, "evil/secret", dest, "stolen", 0), FILE_ESYMLINK);
    /* A final symlink is renamed itself, never followed. */
    CU_ASSERT_EQUAL(symlink(at("outside/target.txt"), at("dest/lnk")), 0);
    CU_ASSERT_EQUAL(fs_rename(dest, "t", dest, "lnk", 0), 0);
    CU_ASSERT_FALSE(is_link("dest/lnk"));
    CU_ASSERT_STRING_EQUAL(get("dest/lnk"), "t");
    /* Parents on the target side. */
    put("dest/u", "u");
    CU_ASSERT_EQUAL(fs_rename(dest, "u", dest, "p/q/u", 0), -ENOENT);
    CU_ASSERT_EQUAL(fs_rename(dest, "u", dest, "p/q/u", FS_F_PARENTS), 0);
    CU_ASSERT_STRING_EQUAL(get("dest/p/q/u"), "u");
    /* A name whose last component would pass NAME_MAX. */
    char lng[300];
    memset(lng, 'n', 250);
    lng[250] = '\0';
    CU_ASSERT_EQUAL(fs_temp_name(tmp, sizeof(tmp), lng, 1, 1), -ENAMETOOLONG);
    CU_ASSERT_EQUAL(fs_temp_name(tmp, 20, "abc", 1, 1), -ENAMETOOLONG);
}

static void body_backup(void)
{
    /* uftpd -A: the replaced file moves under the backup dir, parents made. */
    char name[PATH_MAX];
    struct tm t = {.tm_year = 124, .tm_mon = 11, .tm_mday = 31, .tm_hour = 23, .tm_min = 59};
    mkdir(at("backup"), 0755);
    int bk = fs_dir_open(at("backup"));
    CU_ASSERT_FATAL(bk >= 0);
    CU_ASSERT_EQUAL(fs_mkdir(dest, "a", 0), 0);
    put("dest/a/f", "old");
    CU_ASSERT(file_backup_name(name, sizeof(name), &t, "/srv/in", "a/f") > 0);
    CU_ASSERT_EQUAL(fs_rename(dest, "a/f", bk, name, FS_F_PARENTS), 0);
    CU_ASSERT_STRING_EQUAL(get("backup/20241231/235900/srv/in/a/f"), "old");
    CU_ASSERT_FALSE(exists("dest/a/f"));
    /* A symlink planted in the backup tree is not followed either. */
    CU_ASSERT_EQUAL(symlink(at("outside"), at("backup/20241231/235900/srv/in/b")), 0);
    put("dest/a/g", "g");
    CU_ASSERT_EQUAL(fs_rename(dest, "a/g", bk, "20241231/235900/srv/in/b/sub/g", FS_F_PARENTS),
                    FILE_ESYMLINK);
    close(bk);
}

static void body_remove(void)
{
    /* A tree holding links to the outside: the links go, the outside stays. */
    CU_ASSERT_EQUAL(fs_mkdir(dest, "t/b/c", FS_F_PARENTS), 0);
    put("dest/t/a", "a");
    put("dest/t/b/c/d", "d");
    CU_ASSERT_EQUAL(symlink(at("outside"), at("dest/t/b/dirlink")), 0);
    CU_ASSERT_EQUAL(symlink(at("outside/secret"), at("dest/t/filelink")), 0);
    CU_ASSERT_EQUAL(link(at("dest/t/a"), at("dest/t/b/hard")), 0);
    CU_ASSERT_EQUAL(fs_remove(dest, "t"), 0);
    CU_ASSERT_FALSE(exists("dest/t"));
    /* Through a symlink: refused. The symlink itself: removed, not its target. */
    CU_ASSERT_EQUAL(fs_remove(dest, "evil/sub"), FILE_ESYMLINK);
    CU_ASSERT_EQUAL(fs_remove(dest, "evil/secret"), FILE_ESYMLINK);
    CU_ASSERT_EQUAL(fs_remove(dest, "evil"), 0);
    CU_ASSERT_FALSE(exists("dest/evil"));
    CU_ASSERT_EQUAL(fs_remove(dest, "evil"), -ENOENT);
    put("dest/f", "f");
    CU_ASSERT_EQUAL(fs_remove(dest, "f"), 0);
    CU_ASSERT_EQUAL(fs_remove(dest, "../outside"), FILE_ENAME_DOTDOT);
}

static void body_symlink_mkdir(void)
{
    char buf[64];
    /* The target is opaque text; the link is never followed afterwards. */
    CU_ASSERT_EQUAL(fs_symlink(dest, "s/l", at("outside"), FS_F_PARENTS), 0);
    ssize_t n = readlink(at("dest/s/l"), buf, sizeof(buf) - 1);
    CU_ASSERT_FATAL(n > 0);
    buf[n] = '\0';
    CU_ASSERT_STRING_EQUAL(buf, at("outside"));
    CU_ASSERT_EQUAL(fs_symlink(dest, "s/l", "other", 0), -EEXIST);
    CU_ASSERT_EQUAL(fs_file_open(dest, "s/l/sub/x", FS_F_PARENTS), FILE_ESYMLINK);
    CU_ASSERT_EQUAL(fs_mkdir(dest, "s/l/y", FS_F_PARENTS), FILE_ESYMLINK);
    CU_ASSERT_EQUAL(fs_mkdir(dest, "m/n/o", 0), -ENOENT);
    CU_ASSERT_EQUAL(fs_mkdir(dest, "m/n/o", FS_F_PARENTS), 0);
    struct stat st;
    CU_ASSERT(lstat(at("dest/m/n/o"), &st) == 0 && S_ISDIR(st.st_mode));
    int fd = fs_subdir_open(dest, "m/n", 0);
    CU_ASSERT(fd >= 0);
    if (fd >= 0)
        close(fd);
    CU_ASSERT_EQUAL(fs_subdir_open(dest, "m/none", 0), -ENOENT);
    fd = fs_subdir_open(dest, "m/new/deeper", FS_F_PARENTS);
    CU_ASSERT(fd >= 0);
    if (fd >= 0)
        close(fd);
    CU_ASSERT(exists("dest/m/new/deeper"));
}

static void body_stat_mtime(void)
{
    struct file_stat st;
    put("dest/f", "12345");
    CU_ASSERT_EQUAL(fs_set_mtime(dest, "f", 1000000000), 0);
    CU_ASSERT_EQUAL(fs_stat(dest, "f", &st), 0);
    CU_ASSERT_EQUAL(st.type, FTYPE_REG);
    CU_ASSERT_EQUAL(st.size, 5);
    CU_ASSERT_EQUAL(st.mtime, 1000000000);
    CU_ASSERT_EQUAL(st.nlink, 1);
    /* On a link: the link's own time; the target keeps its own. */
    struct stat before, after;
    CU_ASSERT_EQUAL(stat(at("outside/target.txt"), &before), 0);
    CU_ASSERT_EQUAL(symlink(at("outside/target.txt"), at("dest/l")), 0);
    CU_ASSERT_EQUAL(fs_set_mtime(dest, "l", 12345), 0);
    CU_ASSERT_EQUAL(fs_stat(dest, "l", &st), 0);
    CU_ASSERT_EQUAL(st.type, FTYPE_LINK);
    CU_ASSERT_EQUAL(st.mtime, 12345);
    CU_ASSERT_EQUAL(stat(at("outside/target.txt"), &after), 0);
    CU_ASSERT_EQUAL(before.st_mtime, after.st_mtime);
    CU_ASSERT_EQUAL(fs_mkdir(dest, "d", 0), 0);
    CU_ASSERT_EQUAL(fs_stat(dest, "d", &st), 0);
    CU_ASSERT_EQUAL(st.type, FTYPE_DIR);
    CU_ASSERT_EQUAL(mkfifo(at("dest/p"), 0600), 0);
    CU_ASSERT_EQUAL(fs_stat(dest, "p", &st), 0);
    CU_ASSERT_EQUAL(st.type, -1);
    CU_ASSERT_EQUAL(fs_stat(dest, "none", &st), -ENOENT);
    CU_ASSERT_EQUAL(fs_set_mtime(dest, "none", 1), -ENOENT);
}

static void body_free_space(void)
{
    uint64_t avail = 0;
    struct statvfs sv;
    CU_ASSERT_EQUAL(fs_free_space(dest, &avail), 0);
    CU_ASSERT_EQUAL(statvfs(at("dest"), &sv), 0);
    CU_ASSERT(avail > 0);
    /* Within 64 MiB of what statvfs said a moment later. */
    uint64_t ref = (uint64_t)sv.f_bavail * sv.f_frsize;
    CU_ASSERT((avail > ref ? avail - ref : ref - avail) < (64u << 20));
    CU_ASSERT_EQUAL(fs_free_space(-1, &avail), -EBADF);
}

static void body_session(void)
{
    char name[48];
    CU_ASSERT_EQUAL(fs_session_name(name, sizeof(name), 0x0A000001, 0xdeadbeef, 3), 26);
    CU_ASSERT_STRING_EQUAL(name, "_group_DEADBEEF_3_0A000001");
    /* Owned by (server, group, instance): another server's or instance's is another dir. */
    char other[48];
    fs_session_name(other, sizeof(other), 0x0A000002, 0xdeadbeef, 3);
    CU_ASSERT_STRING_NOT_EQUAL(name, other);
    fs_session_name(other, sizeof(other), 0x0A000001, 0xdeadbeef, 4);
    CU_ASSERT_STRING_NOT_EQUAL(name, other);
    mkdir(at("temp"), 0755);
    int temp = fs_dir_open(at("temp"));
    CU_ASSERT_FATAL(temp >= 0);
    CU_ASSERT_EQUAL(fs_session_open(temp, 0x0A000001, 0xdeadbeef, 3, 0), -ENOENT);
    int sess = fs_session_open(temp, 0x0A000001, 0xdeadbeef, 3, FS_F_PARENTS);
    CU_ASSERT_FATAL(sess >= 0);
    CU_ASSERT(exists("temp/_group_DEADBEEF_3_0A000001"));
    int fd = fs_file_open(sess, "top/a", FS_F_PARENTS);
    CU_ASSERT(fd >= 0);
    close(fd);
    fd = fs_file_open(sess, "file2", 0);
    write_str(fd, "new");
    close(fd);
    fd = fs_file_open(sess, "zzz", 0);
    close(fd);
    /* The dest already has a dir "top" (replaced whole) and a file "file2". */
    CU_ASSERT_EQUAL(fs_mkdir(dest, "top/old", FS_F_PARENTS), 0);
    put("dest/file2", "old");
    CU_ASSERT_EQUAL(fs_session_move(sess, dest, NULL, NULL), 3);
    CU_ASSERT(exists("dest/top/a"));
    CU_ASSERT_FALSE(exists("dest/top/old"));
    CU_ASSERT_STRING_EQUAL(get("dest/file2"), "new");
    CU_ASSERT(exists("dest/zzz"));
    CU_ASSERT_EQUAL(count("temp/_group_DEADBEEF_3_0A000001"), 1);
    close(sess);
    CU_ASSERT_EQUAL(fs_remove(temp, name), 0);
    close(temp);
}

static int skip_existing(const char *name, void *arg)
{
    (*(int *)arg)++;
    return strcmp(name, "keepme") == 0 ? 1 : 0;
}

static void body_session_callback(void)
{
    mkdir(at("temp"), 0755);
    int temp = fs_dir_open(at("temp"));
    int sess = fs_session_open(temp, 1, 7, 0, FS_F_PARENTS);
    CU_ASSERT_FATAL(sess >= 0);
    put("temp/_group_00000007_0_00000001/keepme", "session");
    put("temp/_group_00000007_0_00000001/replace", "session");
    put("dest/keepme", "dest");
    put("dest/replace", "dest");
    int calls = 0;
    CU_ASSERT_EQUAL(fs_session_move(sess, dest, skip_existing, &calls), 1);
    CU_ASSERT_EQUAL(calls, 2);
    CU_ASSERT_STRING_EQUAL(get("dest/keepme"), "dest");
    CU_ASSERT_STRING_EQUAL(get("dest/replace"), "session");
    CU_ASSERT(exists("temp/_group_00000007_0_00000001/keepme"));
    /* An empty session moves nothing. */
    int s2 = fs_session_open(temp, 1, 8, 0, FS_F_PARENTS);
    CU_ASSERT_EQUAL(fs_session_move(s2, dest, NULL, NULL), 0);
    close(s2);
    close(sess);
    close(temp);
}

static void test_session_exdev(void)
{
    char shm[64] = "/dev/shm/uftp-fs-XXXXXX";
    setup();
    if (!mkdtemp(shm)) {
        teardown();
        return; /* no /dev/shm: nothing to test */
    }
    int other = fs_dir_open(shm);
    CU_ASSERT_FATAL(other >= 0);
    if (fs_same_fs(other, dest)) {
        close(other);
        rmdir(shm);
        teardown();
        return;
    }
    CU_ASSERT_FALSE(fs_same_fs(other, dest));
    int sess = fs_session_open(other, 1, 1, 0, FS_F_PARENTS);
    CU_ASSERT_FATAL(sess >= 0);
    int fd = fs_file_open(sess, "f", 0);
    close(fd);
    CU_ASSERT_EQUAL(fs_session_move(sess, dest, NULL, NULL), -EXDEV);
    CU_ASSERT_EQUAL(fs_rename(sess, "f", dest, "f", 0), -EXDEV);
    CU_ASSERT_FALSE(exists("dest/f"));
    close(sess);
    CU_ASSERT_EQUAL(fs_remove(other, "_group_00000001_0_00000001"), 0);
    close(other);
    CU_ASSERT_EQUAL(rmdir(shm), 0);
    teardown();
}

/* pwritev stand-ins: EINTR first, then at most 3 bytes per call. */
static int calls;
static char sink[1024];
static ssize_t short_writes(int fd, const struct iovec *iov, int n, off_t off)
{
    if (calls++ == 0) {
        errno = EINTR;
        return -1;
    }
    size_t w = 0;
    for (int i = 0; i < n && w < 3; i++) {
        size_t k = iov[i].iov_len < 3 - w ? iov[i].iov_len : 3 - w;
        memcpy(sink + off + w, iov[i].iov_base, k);
        w += k;
    }
    return (ssize_t)w;
}

static int fail_errno;
static ssize_t failing(int fd, const struct iovec *iov, int n, off_t off)
{
    calls++;
    if (fail_errno == 0)
        return 0; /* no progress */
    errno = fail_errno;
    return -1;
}

static void test_pwritev(void)
{
    struct iovec v[3] = {{"abcd", 4}, {"", 0}, {"efghijk", 7}};
    calls = 0;
    memset(sink, 0, sizeof(sink));
    fs_set_pwritev(short_writes);
    CU_ASSERT_EQUAL(fs_pwritev_all(-1, v, 3, 10), 11);
    CU_ASSERT_STRING_EQUAL(sink + 10, "abcdefghijk");
    CU_ASSERT_EQUAL(calls, 5); /* EINTR + 4 short writes */

    fs_set_pwritev(failing);
    int errs[] = {ENOSPC, EDQUOT, EIO, EBADF, 0};
    int want[] = {-ENOSPC, -ENOSPC, -EIO, -EBADF, -EIO};
    for (int i = 0; i < 5; i++) {
        fail_errno = errs[i];
        CU_ASSERT_EQUAL(fs_pwritev_all(-1, v, 3, 0), want[i]);
    }
    fs_set_pwritev(NULL);
    CU_ASSERT_EQUAL(fs_pwritev_all(-1, v, -1, 0), -EINVAL);
    CU_ASSERT_EQUAL(fs_pwritev_all(-1, v, 0, 0), 0);

    /* The real thing: /dev/full says ENOSPC. */
    int fd = open("/dev/full", O_WRONLY);
    if (fd >= 0) {
        CU_ASSERT_EQUAL(fs_pwrite_all(fd, "x", 1, 0), -ENOSPC);
        close(fd);
    }

    /* More iovecs than one pwritev chunk, with empty ones mixed in. */
    setup();
    struct iovec many[300];
    char bytes[300];
    for (int i = 0; i < 300; i++) {
        bytes[i] = (char)('a' + i % 26);
        many[i].iov_base = &bytes[i];
        many[i].iov_len = i % 3 == 1 ? 0 : 1;
    }
    fd = fs_file_open(dest, "many", 0);
    CU_ASSERT_EQUAL(fs_pwritev_all(fd, many, 300, 5), 200);
    struct stat st;
    CU_ASSERT_EQUAL(fstat(fd, &st), 0);
    CU_ASSERT_EQUAL(st.st_size, 205);
    char back[200];
    close(fd);
    fd = open(at("dest/many"), O_RDONLY);
    CU_ASSERT_EQUAL(pread(fd, back, 200, 5), 200);
    int k = 0, ok = 1;
    for (int i = 0; i < 300; i++)
        if (i % 3 != 1)
            ok &= back[k++] == bytes[i];
    CU_ASSERT(ok);
    close(fd);
    teardown();
}

#define BOTH(fn)                                                                                   \
    static void test_##fn(void)                                                                    \
    {                                                                                              \
        both(body_##fn);                                                                           \
    }
BOTH(modes)
BOTH(create_parents)
BOTH(symlink_escape)
BOTH(final_symlink)
BOTH(type_mismatch)
BOTH(hardlink)
BOTH(excl_trunc)
BOTH(temp_rename)
BOTH(backup)
BOTH(remove)
BOTH(symlink_mkdir)
BOTH(stat_mtime)
BOTH(free_space)
BOTH(session)
BOTH(session_callback)

static const struct cu_test beneath_tests[] = {
    {"openat2 in use, walk can be forced", test_modes},
    {"files with missing parents; bad rel paths", test_create_parents},
    {"spec 6.2: never through a symlinked dir", test_symlink_escape},
    {"never through a final symlink", test_final_symlink},
    {"file where a dir is expected and back", test_type_mismatch},
    {"hard-linked targets are not written", test_hardlink},
    {"exclusive, in place and truncating opens", test_excl_trunc},
    {"temp file then atomic rename", test_temp_rename},
    {"backup moves (-A)", test_backup},
    {"remove trees without following links", test_remove},
    {"symlinks and directories beneath", test_symlink_mkdir},
    {"stat and mtime without following", test_stat_mtime},
    {"free space", test_free_space},
    {"temp dir session moved into dest", test_session},
    {"session move asks about existing entries", test_session_callback},
    {"session move across filesystems is EXDEV", test_session_exdev},
    {"pwritev writer: EINTR, short writes, errors", test_pwritev},
    {NULL, NULL},
};

CU_MAIN({"fs/beneath", beneath_tests})
