/*
 * The sender's walk over a temp tree: order, types, excludes, -E / -D / -o
 * naming (spec §2.1), pseudo-files, limits, and list files.
 */
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/fs/walk.h"
#include "core/wire/wire.h"
#include "cu.h"

static char root[64];

static const char *at(const char *rel)
{
    /* A ring: callers keep at most a few results at once; setup() runs first. */
    static char buf[32][PATH_MAX + 80];
    static int k;
    k = (k + 1) % 32;
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

static int rm_cb(const char *p, const struct stat *s, int flag, struct FTW *f)
{
    return remove(p);
}

/*
 * root/src/a.txt            "hello"
 * root/src/b/c.txt          "c"
 * root/src/b/d4/x.txt       ""
 * root/src/b/empty/
 * root/src/b/fifo           (skipped: special)
 * root/src/b/link        -> ../a.txt
 * root/src/B.txt, root/src/b.txt: sort order checks
 * root/only-fifo/fifo
 */
static void setup(void)
{
    snprintf(root, sizeof(root), "/tmp/uftp-walk-XXXXXX");
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(root));
    mkdir(at("src"), 0755);
    mkdir(at("src/b"), 0755);
    mkdir(at("src/b/d4"), 0755);
    mkdir(at("src/b/empty"), 0755);
    mkdir(at("only-fifo"), 0755);
    put("src/a.txt", "hello");
    put("src/B.txt", "B");
    put("src/b.txt", "bb");
    put("src/b/c.txt", "c");
    put("src/b/d4/x.txt", "");
    mkfifo(at("src/b/fifo"), 0600);
    mkfifo(at("only-fifo/fifo"), 0600);
    CU_ASSERT_EQUAL(symlink("../a.txt", at("src/b/link")), 0);
}

static void teardown(void)
{
    nftw(root, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

/* Runs a walk; each item or skip becomes one line of out (joined by '\n'). */
static char out[16384];

static void walk(const struct fs_walk_opts *o, const char *const *items, size_t n)
{
    struct fs_walk *w;
    struct file_item it;
    size_t len = 0;
    int rc;

    out[0] = '\0';
    CU_ASSERT_EQUAL_FATAL(fs_walk_new(&w, o, items, n), 0);
    while ((rc = fs_walk_next(w, &it)) != 0) {
        char line[1024];
        if (rc < 0) {
            snprintf(line, sizeof(line), "skip %d\n", rc);
        } else {
            switch (it.type) {
            case FTYPE_REG:
                snprintf(line, sizeof(line), "R %s %llu\n", it.name, (unsigned long long)it.size);
                break;
            case FTYPE_DIR:
                snprintf(line, sizeof(line), "D %s\n", it.name);
                break;
            case FTYPE_LINK:
                snprintf(line, sizeof(line), "L %s -> %s\n", it.name, it.link);
                break;
            case FTYPE_DELETE:
                snprintf(line, sizeof(line), "X %s\n", it.name);
                break;
            case FTYPE_FREESPACE:
                snprintf(line, sizeof(line), "F %s\n", it.name);
                break;
            default:
                snprintf(line, sizeof(line), "? %s\n", it.name);
            }
        }
        size_t l = strlen(line);
        CU_ASSERT_FATAL(len + l < sizeof(out));
        memcpy(out + len, line, l + 1);
        len += l;
    }
    fs_walk_free(w);
}

#define CHECK_WALK(want)                                                                           \
    do {                                                                                           \
        if (strcmp(out, want) != 0)                                                                \
            printf("\n--- got:\n%s--- want:\n%s", out, want);                                      \
        CU_ASSERT_STRING_EQUAL(out, want);                                                         \
    } while (0)

static void test_basic(void)
{
    setup();
    struct fs_walk_opts o = {0};
    const char *items[] = {at("src")};
    walk(&o, items, 1);
    /* Byte order: "B.txt" < "a.txt" < "b" < "b.txt". */
    CHECK_WALK("R src/B.txt 1\n"
               "R src/a.txt 5\n"
               "R src/b/c.txt 1\n"
               "R src/b/d4/x.txt 0\n"
               "D src/b/empty\n"
               "skip -1041\n"
               "L src/b/link -> ../a.txt\n"
               "R src/b.txt 2\n");
    teardown();
}

static void test_item_fields(void)
{
    setup();
    struct fs_walk_opts o = {0};
    const char *items[] = {at("src/b/c.txt"), at("src/b/link"), at("src/b/fifo"), at("nothere")};
    struct fs_walk *w;
    struct file_item it;
    struct stat st;
    CU_ASSERT_EQUAL_FATAL(fs_walk_new(&w, &o, items, 4), 0);
    CU_ASSERT_EQUAL(fs_walk_next(w, &it), 1);
    CU_ASSERT_EQUAL(it.type, FTYPE_REG);
    CU_ASSERT_STRING_EQUAL(it.path, at("src/b/c.txt"));
    CU_ASSERT_STRING_EQUAL(it.name, "c.txt");
    CU_ASSERT_STRING_EQUAL(it.link, "");
    CU_ASSERT_EQUAL(stat(at("src/b/c.txt"), &st), 0);
    CU_ASSERT_EQUAL(it.mtime, st.st_mtime);
    CU_ASSERT_EQUAL(fs_walk_next(w, &it), 1);
    CU_ASSERT_EQUAL(it.type, FTYPE_LINK);
    CU_ASSERT_STRING_EQUAL(it.link, "../a.txt");
    CU_ASSERT_EQUAL(fs_walk_next(w, &it), FILE_EWALK_SPECIAL);
    char want[PATH_MAX + 64];
    snprintf(want, sizeof(want), "skipping special file '%s'", at("src/b/fifo"));
    CU_ASSERT_STRING_EQUAL(fs_walk_msg(w), want);
    CU_ASSERT_EQUAL(fs_walk_next(w, &it), -ENOENT);
    snprintf(want, sizeof(want), "skipping '%s': No such file or directory", at("nothere"));
    CU_ASSERT_STRING_EQUAL(fs_walk_msg(w), want);
    CU_ASSERT_EQUAL(fs_walk_next(w, &it), 0);
    CU_ASSERT_EQUAL(fs_walk_next(w, &it), 0);
    fs_walk_free(w);
    teardown();
}

static void test_excludes(void)
{
    setup();
    /* -X paths are as traversed from the item's last component (spec §2.1). */
    const char *ex[] = {"src/b/d4", "src/a.txt/", "src/b/fifo"};
    struct fs_walk_opts o = {.excludes = ex, .nexclude = 3};
    const char *items[] = {at("src")};
    walk(&o, items, 1);
    CHECK_WALK("R src/B.txt 1\n"
               "skip -1040\n"
               "R src/b/c.txt 1\n"
               "skip -1040\n"
               "D src/b/empty\n"
               "skip -1040\n"
               "L src/b/link -> ../a.txt\n"
               "R src/b.txt 2\n");
    /* The same paths apply under -D and -E; and an item itself can be excluded. */
    const char *ex2[] = {"src", "c.txt"};
    const char *base[] = {root};
    struct fs_walk_opts o2 = {
        .excludes = ex2, .nexclude = 2, .dest_name = "D", .base_dirs = base, .nbase = 1};
    const char *items2[] = {at("src"), at("src/b/c.txt"), at("src/b/d4")};
    walk(&o2, items2, 3);
    CHECK_WALK("skip -1040\n"
               "skip -1040\n"
               "R D/src/b/d4/x.txt 0\n");
    teardown();
}

static void test_follow(void)
{
    setup();
    struct fs_walk_opts o = {.follow_links = true};
    const char *items[] = {at("src/b")};
    /* b/loop -> . : a loop once links are followed. */
    CU_ASSERT_EQUAL(symlink(".", at("src/b/loop")), 0);
    CU_ASSERT_EQUAL(symlink("missing", at("src/b/zdangle")), 0);
    walk(&o, items, 1);
    CHECK_WALK("R b/c.txt 1\n"
               "R b/d4/x.txt 0\n"
               "D b/empty\n"
               "skip -1041\n"
               "R b/link 5\n"
               "skip -1044\n"
               "skip -2\n");
    o.follow_links = false;
    walk(&o, items, 1);
    CHECK_WALK("R b/c.txt 1\n"
               "R b/d4/x.txt 0\n"
               "D b/empty\n"
               "skip -1041\n"
               "L b/link -> ../a.txt\n"
               "L b/loop -> .\n"
               "L b/zdangle -> missing\n");
    teardown();
}

static void test_dest_name(void)
{
    setup();
    const char *one[] = {at("src/a.txt")};
    const char *two[] = {at("src/a.txt"), at("src/b/d4")};
    struct fs_walk_opts o = {.dest_name = "renamed.txt"};
    /* One item, no -o: the item takes the -D name. */
    walk(&o, one, 1);
    CHECK_WALK("R renamed.txt 5\n");
    /* -o: -D is a directory. */
    o.dest_is_dir = true;
    o.dest_name = "dir/";
    walk(&o, one, 1);
    CHECK_WALK("R dir/a.txt 5\n");
    /* Several items: under -D. A directory item renamed by -D keeps its tree. */
    o.dest_is_dir = false;
    o.dest_name = "/abs/dir";
    walk(&o, two, 2);
    CHECK_WALK("R /abs/dir/a.txt 5\n"
               "R /abs/dir/d4/x.txt 0\n");
    const char *dir[] = {at("src/b/d4")};
    o.dest_name = "newname";
    walk(&o, dir, 1);
    CHECK_WALK("R newname/x.txt 0\n");
    /* Odd -D names are normalised; ".." is refused. */
    o.dest_name = "./x//y/";
    walk(&o, one, 1);
    CHECK_WALK("R x/y 5\n");
    o.dest_name = "x/../y";
    walk(&o, one, 1);
    CHECK_WALK("skip -1045\n");
    teardown();
}

static void test_base_dirs(void)
{
    char b1[PATH_MAX], b2[PATH_MAX], b3[PATH_MAX];
    setup();
    snprintf(b1, sizeof(b1), "%s/sr", root); /* a prefix, not a parent */
    snprintf(b2, sizeof(b2), "%s/src/", root);
    snprintf(b3, sizeof(b3), "%s", root);
    const char *bases[] = {b1, b2, b3};
    const char *items[] = {at("src/b/c.txt"), at("src/a.txt"), at("only-fifo"), "/elsewhere/x"};
    struct fs_walk_opts o = {.base_dirs = bases, .nbase = 3};
    walk(&o, items, 4);
    CHECK_WALK("R b/c.txt 1\n"
               "R a.txt 5\n"
               "skip -1041\n"
               "D only-fifo\n" /* nothing beneath it could be sent */
               "skip -1042\n");
    /* The man page example: -E /path -D /remote/dir /path/to/file1 /path/to/file2. */
    o.dest_name = "/remote/dir";
    o.nbase = 2;
    o.base_dirs = bases + 1;
    const char *two[] = {at("src/b/c.txt"), at("src/b/d4/x.txt")};
    walk(&o, two, 2);
    CHECK_WALK("R /remote/dir/b/c.txt 1\n"
               "R /remote/dir/b/d4/x.txt 0\n");
    /* One item with -D: the -D name, but it must still be under a base. */
    walk(&o, two, 1);
    CHECK_WALK("R /remote/dir 1\n");
    const char *out1[] = {at("only-fifo")};
    o.nbase = 1;
    walk(&o, out1, 1);
    CHECK_WALK("skip -1042\n");
    /* The base dir itself is not an item under it. */
    const char *self[] = {b2};
    walk(&o, self, 1);
    CHECK_WALK("skip -1042\n");
    /* The root as a base. */
    const char *slash[] = {"/"};
    struct fs_walk_opts r = {.base_dirs = slash, .nbase = 1};
    walk(&r, out1, 1);
    char want[PATH_MAX];
    snprintf(want, sizeof(want), "skip -1041\nD %s/only-fifo\n", root + 1);
    CHECK_WALK(want);
    teardown();
}

static void test_pseudo_files(void)
{
    const char *items[] = {"@FREESPACE", "@DELETE:/some/path/gone", "@DELETE:rel/"};
    struct fs_walk_opts o = {0};
    walk(&o, items, 3);
    CHECK_WALK("F .\n"
               "X gone\n"
               "X rel\n");
    o.dest_name = "D";
    walk(&o, items, 3);
    CHECK_WALK("F .\n"
               "X D/gone\n"
               "X D/rel\n");
    const char *base[] = {"/some"};
    struct fs_walk_opts e = {.base_dirs = base, .nbase = 1};
    walk(&e, items, 3);
    CHECK_WALK("F .\n"
               "X path/gone\n"
               "skip -1042\n");
    const char *bad[] = {"@DELETE:", "@DELETE:/", "@DELETE:a/.."};
    walk(&o, bad, 3);
    CHECK_WALK("skip -1045\n"
               "skip -1045\n"
               "skip -1045\n");
    /* The pseudo-file has no local path and is not looked up. */
    struct fs_walk *w;
    struct file_item it;
    CU_ASSERT_EQUAL(fs_walk_new(&w, &e, items + 1, 1), 0);
    CU_ASSERT_EQUAL(fs_walk_next(w, &it), 1);
    CU_ASSERT_STRING_EQUAL(it.path, "");
    CU_ASSERT_EQUAL(it.type, FTYPE_DELETE);
    fs_walk_free(w);
}

static void test_long_names(void)
{
    char a[201], b[121], lnk[302], rel[PATH_MAX];
    memset(a, 'a', 200);
    a[200] = '\0';
    memset(b, 'b', 120);
    b[120] = '\0';
    memset(lnk, 'l', 301);
    lnk[301] = '\0';
    setup();
    mkdir(at("L"), 0755);
    snprintf(rel, sizeof(rel), "L/%s", a);
    mkdir(at(rel), 0755);
    /* "L/a{200}/b{120}" is 323 bytes: skipped. "L/a{200}/b{97}" is 300: sent. */
    snprintf(rel, sizeof(rel), "L/%s/%s", a, b);
    put(rel, "x");
    b[97] = '\0';
    snprintf(rel, sizeof(rel), "L/%s/%s", a, b);
    put(rel, "y");
    snprintf(rel, sizeof(rel), "L/%s/%s", a, "zlink");
    CU_ASSERT_EQUAL(symlink(lnk, at(rel)), 0);
    const char *items[] = {at("L")};
    struct fs_walk_opts o = {0};
    walk(&o, items, 1);
    char want[1024];
    snprintf(want, sizeof(want), "R L/%s/%s 1\nskip -1043\nskip -1043\n", a, b);
    CHECK_WALK(want);
    teardown();
}

static void test_odd_items(void)
{
    char item[PATH_MAX];
    struct fs_walk_opts o = {0};
    setup();
    /* "x/y/.." and "x/." are named "x"; "/" has no name. */
    char item2[PATH_MAX];
    mkdir(at("x"), 0755);
    mkdir(at("x/y"), 0755);
    snprintf(item, sizeof(item), "%s/x/y/..", root);
    snprintf(item2, sizeof(item2), "%s/x/.", root);
    const char *items[] = {item, item2, "/", ""};
    walk(&o, items, 4);
    CHECK_WALK("D x/y\n"
               "D x/y\n"
               "skip -1045\n"
               "skip -1045\n");
    /* Too many items. */
    static const char *many[FS_MAX_FILES + 1];
    for (size_t i = 0; i <= FS_MAX_FILES; i++)
        many[i] = "f";
    struct fs_walk *w = NULL;
    CU_ASSERT_EQUAL(fs_walk_new(&w, &o, many, FS_MAX_FILES + 1), -E2BIG);
    CU_ASSERT_EQUAL(fs_walk_new(&w, &o, many, FS_MAX_FILES), 0);
    fs_walk_free(w);
    teardown();
}

static void test_list_files(void)
{
    static const char text[] = "a\r\n\nb\n\n  c \r\n\r\nlast";
    struct fs_list l;
    char msg[256];
    FILE *f = fmemopen((void *)text, sizeof(text) - 1, "r");
    CU_ASSERT_EQUAL(fs_list_read_fp(&l, f, "list", 10, msg, sizeof(msg)), 0);
    fclose(f);
    CU_ASSERT_EQUAL_FATAL(l.n, 4);
    CU_ASSERT_STRING_EQUAL(l.v[0], "a");
    CU_ASSERT_STRING_EQUAL(l.v[1], "b");
    CU_ASSERT_STRING_EQUAL(l.v[2], "  c ");
    CU_ASSERT_STRING_EQUAL(l.v[3], "last");
    fs_list_free(&l);

    f = fmemopen((void *)text, sizeof(text) - 1, "r");
    CU_ASSERT_EQUAL(fs_list_read_fp(&l, f, "list", 2, msg, sizeof(msg)), FILE_EWALK_LIST);
    fclose(f);
    CU_ASSERT_STRING_EQUAL(msg, "list:5: more than 2 entries");
    CU_ASSERT_EQUAL(l.n, 0);
    CU_ASSERT_PTR_NULL(l.v);

    static const char nul[] = "ok\nbad\0byte\n";
    f = fmemopen((void *)nul, sizeof(nul) - 1, "r");
    CU_ASSERT_EQUAL(fs_list_read_fp(&l, f, "x", 10, msg, sizeof(msg)), FILE_EWALK_LIST);
    fclose(f);
    CU_ASSERT_STRING_EQUAL(msg, "x:2: NUL byte in line");

    char *big = malloc(PATH_MAX + 10);
    memset(big, 'p', PATH_MAX + 10);
    big[PATH_MAX + 9] = '\n';
    f = fmemopen(big, PATH_MAX + 10, "r");
    CU_ASSERT_EQUAL(fs_list_read_fp(&l, f, "y", 10, msg, sizeof(msg)), FILE_EWALK_LIST);
    fclose(f);
    CU_ASSERT_STRING_EQUAL(msg, "y:1: line longer than 4096 bytes");
    /* Exactly PATH_MAX bytes is fine. */
    big[PATH_MAX] = '\n';
    f = fmemopen(big, PATH_MAX + 1, "r");
    CU_ASSERT_EQUAL(fs_list_read_fp(&l, f, "y", 10, msg, sizeof(msg)), 0);
    fclose(f);
    CU_ASSERT_EQUAL(l.n, 1);
    CU_ASSERT_EQUAL(strlen(l.v[0]), PATH_MAX);
    fs_list_free(&l);
    free(big);

    CU_ASSERT_EQUAL(fs_list_read(&l, "/nonexistent/list", 10, msg, sizeof(msg)), -ENOENT);
    CU_ASSERT_STRING_EQUAL(msg, "/nonexistent/list: No such file or directory");
    setup();
    put("files", "src/a.txt\nsrc/b\n");
    CU_ASSERT_EQUAL(fs_list_read(&l, at("files"), FS_MAX_FILES, msg, sizeof(msg)), 0);
    CU_ASSERT_EQUAL(l.n, 2);
    fs_list_free(&l);
    teardown();
}

static const struct cu_test walk_tests[] = {
    {"sorted recursive walk with every type", test_basic},
    {"item fields and skip messages", test_item_fields},
    {"exclude list", test_excludes},
    {"follow links with loop detection", test_follow},
    {"-D and -o naming", test_dest_name},
    {"-E base dirs", test_base_dirs},
    {"@FREESPACE and @DELETE", test_pseudo_files},
    {"300-byte names and link targets", test_long_names},
    {"odd items and the item limit", test_odd_items},
    {"list files (-i, -X)", test_list_files},
    {NULL, NULL},
};

CU_MAIN({"fs/walk", walk_tests})
