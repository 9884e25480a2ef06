#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "core/base/file.h"
#include "cu.h"

struct name_case {
    const char *name;
    size_t len; /* 0: strlen(name) */
    unsigned flags;
    int want;
    size_t dest;     /* when want == 0 */
    const char *rel; /* when want == 0 */
};

static const char *const dests[] = {"/dest", "/dest2", "/srv/x/"};

/* The hostile-name table: every verdict is exact. */
static const struct name_case cases[] = {
    {"", 0, 0, FILE_ENAME_EMPTY, 0, NULL},
    {"a", 0, 0, 0, 0, "a"},
    {"a/b/c", 0, 0, 0, 0, "a/b/c"},
    {"..", 0, 0, FILE_ENAME_DOTDOT, 0, NULL},
    {"../x", 0, 0, FILE_ENAME_DOTDOT, 0, NULL},
    {"a/..", 0, 0, FILE_ENAME_DOTDOT, 0, NULL},
    {"a/../b", 0, 0, FILE_ENAME_DOTDOT, 0, NULL},
    /* spec §6.1: the reference saw only the first ".." substring. */
    {"a..b/../../x", 0, 0, FILE_ENAME_DOTDOT, 0, NULL},
    {"a..b/../../escaped.txt", 0, 0, FILE_ENAME_DOTDOT, 0, NULL},
    {"x/y/z/../../..", 0, 0, FILE_ENAME_DOTDOT, 0, NULL},
    {"a..b", 0, 0, 0, 0, "a..b"},
    {"..a/b..", 0, 0, 0, 0, "..a/b.."},
    {"...", 0, 0, 0, 0, "..."},
    {".hidden", 0, 0, 0, 0, ".hidden"},
    {".", 0, 0, FILE_ENAME_DOT, 0, NULL},
    {"./a", 0, 0, FILE_ENAME_DOT, 0, NULL},
    {"a/./b", 0, 0, FILE_ENAME_DOT, 0, NULL},
    {"a/.", 0, 0, FILE_ENAME_DOT, 0, NULL},
    {"/etc/passwd", 0, 0, FILE_ENAME_NOTUNDER, 0, NULL},
    {"/", 0, 0, FILE_ENAME_EMPTYCOMP, 0, NULL},
    {"/dest", 0, 0, FILE_ENAME_ISDEST, 0, NULL},
    {"/dest/", 0, 0, FILE_ENAME_EMPTYCOMP, 0, NULL},
    {"/dest/x", 0, 0, 0, 0, "x"},
    {"/dest/x/y", 0, 0, 0, 0, "x/y"},
    {"/dest2/x", 0, 0, 0, 1, "x"},
    {"/dest2", 0, 0, FILE_ENAME_ISDEST, 0, NULL},
    {"/destx/y", 0, 0, FILE_ENAME_NOTUNDER, 0, NULL},
    {"/des/x", 0, 0, FILE_ENAME_NOTUNDER, 0, NULL},
    {"/dest/../etc/passwd", 0, 0, FILE_ENAME_DOTDOT, 0, NULL},
    {"/dest/./x", 0, 0, FILE_ENAME_DOT, 0, NULL},
    {"/srv/x/y", 0, 0, 0, 2, "y"}, /* a dest written with a trailing '/' */
    {"/srv/x", 0, 0, FILE_ENAME_ISDEST, 0, NULL},
    {"/srv/xy", 0, 0, FILE_ENAME_NOTUNDER, 0, NULL},
    {"/dest/x", 0, FILE_NAME_NO_ABS, FILE_ENAME_ABS, 0, NULL},
    {"x", 0, FILE_NAME_NO_ABS, 0, 0, "x"},
    {"a//b", 0, 0, FILE_ENAME_EMPTYCOMP, 0, NULL},
    {"a//b", 0, FILE_NAME_COLLAPSE_SLASHES, 0, 0, "a/b"},
    {"a/", 0, 0, FILE_ENAME_EMPTYCOMP, 0, NULL},
    {"a/", 0, FILE_NAME_COLLAPSE_SLASHES, 0, 0, "a"},
    {"//dest/x", 0, 0, FILE_ENAME_EMPTYCOMP, 0, NULL},
    {"/dest//to/file", 0, FILE_NAME_COLLAPSE_SLASHES, 0, 0, "to/file"},
    {"//", 0, FILE_NAME_COLLAPSE_SLASHES, FILE_ENAME_EMPTYCOMP, 0, NULL},
    {"a//../b", 0, FILE_NAME_COLLAPSE_SLASHES, FILE_ENAME_DOTDOT, 0, NULL},
    {"a\\b", 0, 0, FILE_ENAME_BACKSLASH, 0, NULL},
    {"..\\x", 0, 0, FILE_ENAME_BACKSLASH, 0, NULL},
    {"a\0b", 3, 0, FILE_ENAME_CTRL, 0, NULL},
    {"a\0", 2, 0, FILE_ENAME_CTRL, 0, NULL},
    {"\0", 1, 0, FILE_ENAME_CTRL, 0, NULL},
    {"a\x7f", 0, 0, FILE_ENAME_CTRL, 0, NULL},
    {"a\nb", 0, 0, FILE_ENAME_CTRL, 0, NULL},
    {"\tx", 0, 0, FILE_ENAME_CTRL, 0, NULL},
    {"x\x1b[2J", 0, 0, FILE_ENAME_CTRL, 0, NULL},
    {"caf\xc3\xa9/\xe2\x82\xac", 0, 0, 0, 0, "caf\xc3\xa9/\xe2\x82\xac"}, /* UTF-8 is fine */
    {"a b/-rf/~/$HOME/*", 0, 0, 0, 0, "a b/-rf/~/$HOME/*"},
};

static void test_table(void)
{
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct name_case *c = &cases[i];
        struct file_name out;
        char msg[256] = "";
        size_t len = c->len ? c->len : strlen(c->name);
        int rc = file_name_check(&out, c->name, len, dests, 3, c->flags, msg, sizeof(msg));
        if (rc != c->want)
            printf("\ncase %zu '%s': got %d want %d (%s)\n", i, c->name, rc, c->want, msg);
        CU_ASSERT_EQUAL(rc, c->want);
        if (rc == 0 && c->want == 0) {
            CU_ASSERT_EQUAL(out.dest, c->dest);
            CU_ASSERT_STRING_EQUAL(out.rel, c->rel);
            CU_ASSERT_STRING_EQUAL(msg, "");
        } else if (rc < 0) {
            CU_ASSERT_EQUAL(strncmp(msg, "name '", 6), 0);
        }
    }
}

static void test_only_one_dest(void)
{
    static const char *const one[] = {"/dest"};
    static const char *const root[] = {"/"};
    static const char *const nested[] = {"/d", "/d/sub"};
    struct file_name out;

    /* "/dest2/x" when the only dest is "/dest": a prefix is not a parent. */
    CU_ASSERT_EQUAL(file_name_check(&out, "/dest2/x", 8, one, 1, 0, NULL, 0), FILE_ENAME_NOTUNDER);
    CU_ASSERT_EQUAL(file_name_check(&out, "/x", 2, one, 0, 0, NULL, 0), FILE_ENAME_NOTUNDER);
    CU_ASSERT_EQUAL(file_name_check(&out, "rel/x", 5, one, 1, 0, NULL, 0), 0);
    CU_ASSERT_EQUAL(out.dest, 0);
    CU_ASSERT_EQUAL(out.ncomp, 2);
    CU_ASSERT_EQUAL(file_name_check(&out, "/etc/passwd", 11, root, 1, 0, NULL, 0), 0);
    CU_ASSERT_STRING_EQUAL(out.rel, "etc/passwd");
    /* The first dest that holds the name wins. */
    CU_ASSERT_EQUAL(file_name_check(&out, "/d/sub/f", 8, nested, 2, 0, NULL, 0), 0);
    CU_ASSERT_EQUAL(out.dest, 0);
    CU_ASSERT_STRING_EQUAL(out.rel, "sub/f");
}

static void test_lengths(void)
{
    char name[400];
    struct file_name out;

    /* 300 bytes is the FILEINFO limit (spec §1.4); 301 is refused. */
    memset(name, 'a', sizeof(name));
    for (int i = 200; i < 300; i += 50)
        name[i] = '/';
    CU_ASSERT_EQUAL(file_name_check(&out, name, 300, dests, 3, 0, NULL, 0), 0);
    CU_ASSERT_EQUAL(strlen(out.rel), 300);
    CU_ASSERT_EQUAL(file_name_check(&out, name, 301, dests, 3, 0, NULL, 0), FILE_ENAME_LONG);

    /* Components: 255 bytes pass, 256 do not. */
    memset(name, 'b', sizeof(name));
    name[255] = '/';
    name[256] = 'c';
    CU_ASSERT_EQUAL(file_name_check(&out, name, 257, dests, 3, 0, NULL, 0), 0);
    memset(name, 'b', 256);
    CU_ASSERT_EQUAL(file_name_check(&out, name, 256, dests, 3, 0, NULL, 0), FILE_ENAME_COMPLONG);
    CU_ASSERT_EQUAL(file_name_check(&out, name, 255, dests, 3, 0, NULL, 0), 0);

    /* 128 components pass, 129 are too many. */
    for (int i = 0; i < 129; i++) {
        name[2 * i] = 'd';
        name[2 * i + 1] = '/';
    }
    CU_ASSERT_EQUAL(file_name_check(&out, name, 255, dests, 3, 0, NULL, 0), 0);
    CU_ASSERT_EQUAL(out.ncomp, 128);
    CU_ASSERT_EQUAL(file_name_check(&out, name, 257, dests, 3, 0, NULL, 0), FILE_ENAME_DEPTH);
}

static void test_messages(void)
{
    struct file_name out;
    char msg[256];

    file_name_check(&out, "x/../y", 6, dests, 3, 0, msg, sizeof(msg));
    CU_ASSERT_STRING_EQUAL(msg, "name 'x/../y' has a '..' component");
    file_name_check(&out, "a\nb'", 4, dests, 3, 0, msg, sizeof(msg));
    CU_ASSERT_STRING_EQUAL(msg, "name 'a\\x0ab\\x27' has a control character");
    file_name_check(&out, "/etc/passwd", 11, dests, 3, 0, msg, sizeof(msg));
    CU_ASSERT_STRING_EQUAL(msg,
                           "name '/etc/passwd' is absolute and under no destination directory");
    file_name_check(&out, "/dest", 5, dests, 3, 0, msg, sizeof(msg));
    CU_ASSERT_STRING_EQUAL(msg, "name '/dest' is a destination directory itself");
    file_name_check(&out, "a\0b", 3, dests, 3, 0, msg, sizeof(msg));
    CU_ASSERT_STRING_EQUAL(msg, "name 'a\\x00b' has a control character");
    /* A small buffer still gets a terminated, truncated line. */
    file_name_check(&out, "a//b", 4, dests, 3, 0, msg, 10);
    CU_ASSERT_STRING_EQUAL(msg, "name 'a//");
}

static void test_escape(void)
{
    char out[16];
    file_name_escape(out, sizeof(out), "abc", 3);
    CU_ASSERT_STRING_EQUAL(out, "abc");
    file_name_escape(out, sizeof(out), "\\\x01\xff", 3);
    CU_ASSERT_STRING_EQUAL(out, "\\x5c\\x01\\xff");
    file_name_escape(out, sizeof(out), "0123456789abcdefghij", 20);
    CU_ASSERT_STRING_EQUAL(out, "0123456789ab...");
    file_name_escape(out, 6, "abcde", 5);
    CU_ASSERT_STRING_EQUAL(out, "abcde");
    file_name_escape(out, 6, "abcdef", 6);
    CU_ASSERT_STRING_EQUAL(out, "ab...");
    file_name_escape(out, 2, "abc", 3);
    CU_ASSERT_STRING_EQUAL(out, ".");
    file_name_escape(out, 1, "abc", 3);
    CU_ASSERT_STRING_EQUAL(out, "");
}

static void test_rel_check(void)
{
    char big[PATH_MAX + 10];
    CU_ASSERT_EQUAL(file_rel_check("a/b"), 0);
    CU_ASSERT_EQUAL(file_rel_check("a\\b"), 0); /* local names may hold backslashes */
    CU_ASSERT_EQUAL(file_rel_check(""), FILE_ENAME_EMPTY);
    CU_ASSERT_EQUAL(file_rel_check("/a"), FILE_ENAME_ABS);
    CU_ASSERT_EQUAL(file_rel_check("a/"), FILE_ENAME_EMPTYCOMP);
    CU_ASSERT_EQUAL(file_rel_check("a//b"), FILE_ENAME_EMPTYCOMP);
    CU_ASSERT_EQUAL(file_rel_check("a/./b"), FILE_ENAME_DOT);
    CU_ASSERT_EQUAL(file_rel_check("a/../b"), FILE_ENAME_DOTDOT);
    CU_ASSERT_EQUAL(file_rel_check("a\x01"), FILE_ENAME_CTRL);
    memset(big, 'x', sizeof(big));
    big[256] = '\0';
    CU_ASSERT_EQUAL(file_rel_check(big), FILE_ENAME_COMPLONG);
    memset(big, 'x', sizeof(big));
    for (size_t i = 0; i + 1 < sizeof(big); i += 2)
        big[i + 1] = '/';
    big[PATH_MAX] = '\0';
    CU_ASSERT_EQUAL(file_rel_check(big), FILE_ENAME_EMPTYCOMP); /* ends with '/' */
    big[PATH_MAX] = 'x';
    big[PATH_MAX + 1] = '\0';
    CU_ASSERT_EQUAL(file_rel_check(big), FILE_ENAME_LONG);
}

static void test_link_targets(void)
{
    char big[302];
    CU_ASSERT_EQUAL(file_link_check("x", 1, 0), 0);
    CU_ASSERT_EQUAL(file_link_check("", 0, 0), FILE_ELINK_EMPTY);
    CU_ASSERT_EQUAL(file_link_check("/etc", 4, 0), 0);
    CU_ASSERT_EQUAL(file_link_check("/etc", 4, FILE_LINK_NO_ABS), FILE_ELINK_ABS);
    CU_ASSERT_EQUAL(file_link_check("../../etc", 9, 0), 0);
    CU_ASSERT_EQUAL(file_link_check("../../etc", 9, FILE_LINK_NO_DOTDOT), FILE_ELINK_DOTDOT);
    CU_ASSERT_EQUAL(file_link_check("a/..", 4, FILE_LINK_NO_DOTDOT), FILE_ELINK_DOTDOT);
    CU_ASSERT_EQUAL(file_link_check("a..b/c..", 8, FILE_LINK_NO_DOTDOT), 0);
    CU_ASSERT_EQUAL(file_link_check("a\0b", 3, 0), FILE_ELINK_CTRL);
    memset(big, 'l', sizeof(big));
    CU_ASSERT_EQUAL(file_link_check(big, 300, 0), 0);
    CU_ASSERT_EQUAL(file_link_check(big, 301, 0), FILE_ELINK_LONG);
}

/* --symlinks none / beneath (issue 14 item 6). */
static void test_link_beneath(void)
{
    CU_ASSERT_EQUAL(file_link_check("x", 1, FILE_LINK_NONE), FILE_ELINK_NONE);
    CU_ASSERT_EQUAL(file_link_check("x", 1, FILE_LINK_BENEATH), 0);
    const char *d = "/srv/in";
#define B(rel, t) file_link_beneath(rel, t, strlen(t), d)
    CU_ASSERT_EQUAL(B("link", "a/b"), 0);
    CU_ASSERT_EQUAL(B("link", "."), 0);
    CU_ASSERT_EQUAL(B("link", ".."), FILE_ELINK_OUTSIDE);
    CU_ASSERT_EQUAL(B("d1/link", "../elsewhere"), 0);
    CU_ASSERT_EQUAL(B("d1/link", "../../elsewhere"), FILE_ELINK_OUTSIDE);
    CU_ASSERT_EQUAL(B("d1/d2/link", "../../x/../y"), 0);
    CU_ASSERT_EQUAL(B("link", "a/../../x"), FILE_ELINK_OUTSIDE); /* out on the way */
    CU_ASSERT_EQUAL(B("link", "a/../.."), FILE_ELINK_OUTSIDE);
    CU_ASSERT_EQUAL(B("link", "a//./b/"), 0);
    CU_ASSERT_EQUAL(B("link", "/srv/in"), 0);
    CU_ASSERT_EQUAL(B("link", "/srv/in/a/b"), 0);
    CU_ASSERT_EQUAL(B("link", "/srv//in/./a"), 0);
    CU_ASSERT_EQUAL(B("link", "/srv/inx"), FILE_ELINK_OUTSIDE);
    CU_ASSERT_EQUAL(B("link", "/srv"), FILE_ELINK_OUTSIDE);
    CU_ASSERT_EQUAL(B("link", "/etc/passwd"), FILE_ELINK_OUTSIDE);
    CU_ASSERT_EQUAL(B("link", "/srv/in/../out"), FILE_ELINK_OUTSIDE);
    CU_ASSERT_EQUAL(B("link", "/../srv/in/x"), 0);
    CU_ASSERT_EQUAL(B("link", ""), FILE_ELINK_OUTSIDE);
    CU_ASSERT_EQUAL(file_link_beneath("l", "/srv/in/x", 9, "/srv/in/"), 0);
    CU_ASSERT_EQUAL(file_link_beneath("l", "/anything", 9, "/"), 0);
#undef B
}

static void test_backup_name(void)
{
    char out[PATH_MAX + 8];
    struct tm t = {
        .tm_year = 124, .tm_mon = 0, .tm_mday = 2, .tm_hour = 3, .tm_min = 4, .tm_sec = 5};
    CU_ASSERT_EQUAL(file_backup_name(out, sizeof(out), &t, "/srv//in/", "a/b.txt"), 30);
    CU_ASSERT_STRING_EQUAL(out, "20240102/030405/srv/in/a/b.txt");
    CU_ASSERT_EQUAL(file_backup_name(out, sizeof(out), &t, "/", "x"), 17);
    CU_ASSERT_STRING_EQUAL(out, "20240102/030405/x");
    /* The result is a clean relative path for fs_rename(..., FS_F_PARENTS). */
    CU_ASSERT_EQUAL(file_rel_check(out), 0);
    CU_ASSERT_EQUAL(file_backup_name(out, 20, &t, "/srv/in", "a"), FILE_ENAME_LONG);
    CU_ASSERT_EQUAL(file_backup_name(out, 26, &t, "/srv/in", "abc"), FILE_ENAME_LONG);
    CU_ASSERT_EQUAL(file_backup_name(out, 27, &t, "/srv/in", "abc"), 26);
    CU_ASSERT_STRING_EQUAL(out, "20240102/030405/srv/in/abc");
}

static void test_strerror(void)
{
    /* Every FILE_E* code has its own text; negated errnos use strerror. */
    static const int codes[] = {
        FILE_ENAME_EMPTY,  FILE_ENAME_LONG,      FILE_ENAME_EMPTYCOMP, FILE_ENAME_DOT,
        FILE_ENAME_DOTDOT, FILE_ENAME_BACKSLASH, FILE_ENAME_CTRL,      FILE_ENAME_COMPLONG,
        FILE_ENAME_DEPTH,  FILE_ENAME_ABS,       FILE_ENAME_NOTUNDER,  FILE_ENAME_ISDEST,
        FILE_ELINK_EMPTY,  FILE_ELINK_LONG,      FILE_ELINK_CTRL,      FILE_ELINK_ABS,
        FILE_ELINK_DOTDOT, FILE_ESYMLINK,        FILE_EFINALLINK,      FILE_ENOTREG,
        FILE_EHARDLINK,    FILE_EDEPTH,          FILE_EWALK_EXCLUDED,  FILE_EWALK_SPECIAL,
        FILE_EWALK_NOBASE, FILE_EWALK_LONG,      FILE_EWALK_LOOP,      FILE_EWALK_BADNAME,
        FILE_EWALK_LIST,
    };
    size_t n = sizeof(codes) / sizeof(codes[0]);
    for (size_t i = 0; i < n; i++) {
        CU_ASSERT(codes[i] <= -1000);
        CU_ASSERT_STRING_NOT_EQUAL(file_strerror(codes[i]), "unknown error");
        for (size_t j = 0; j < i; j++)
            CU_ASSERT_STRING_NOT_EQUAL(file_strerror(codes[i]), file_strerror(codes[j]));
    }
    CU_ASSERT_STRING_EQUAL(file_strerror(FILE_ESYMLINK), "symlink in path");
    CU_ASSERT_STRING_EQUAL(file_strerror(-ENOSPC), strerror(ENOSPC));
    CU_ASSERT_STRING_EQUAL(file_strerror(0), "success");
    CU_ASSERT_STRING_EQUAL(file_strerror(-5000), "unknown error");
    CU_ASSERT_STRING_EQUAL(file_strerror(7), "unknown error");
}

static const struct cu_test name_tests[] = {
    {"hostile name table", test_table},
    {"dest dir matching", test_only_one_dest},
    {"length, component and depth limits", test_lengths},
    {"log messages", test_messages},
    {"escaping for logs", test_escape},
    {"relative path check", test_rel_check},
    {"symlink target policy", test_link_targets},
    {"symlinks beneath the destination", test_link_beneath},
    {"backup names (-A)", test_backup_name},
    {"error texts", test_strerror},
    {NULL, NULL},
};

CU_MAIN({"base/file", name_tests})
