#include "core/fs/fs.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

const char *fs_strerror(int err)
{
    switch (err) {
    case FS_OK:
        return "success";
    case FS_ENAME_EMPTY:
        return "empty name";
    case FS_ENAME_LONG:
        return "name too long";
    case FS_ENAME_EMPTYCOMP:
        return "empty path component";
    case FS_ENAME_DOT:
        return "'.' path component";
    case FS_ENAME_DOTDOT:
        return "'..' path component";
    case FS_ENAME_BACKSLASH:
        return "backslash in name";
    case FS_ENAME_CTRL:
        return "control character in name";
    case FS_ENAME_COMPLONG:
        return "path component too long";
    case FS_ENAME_DEPTH:
        return "too many path components";
    case FS_ENAME_ABS:
        return "absolute names not allowed";
    case FS_ENAME_NOTUNDER:
        return "absolute name under no destination directory";
    case FS_ENAME_ISDEST:
        return "name is a destination directory";
    case FS_ELINK_EMPTY:
        return "empty link target";
    case FS_ELINK_LONG:
        return "link target too long";
    case FS_ELINK_CTRL:
        return "control character in link target";
    case FS_ELINK_ABS:
        return "absolute link target refused";
    case FS_ELINK_DOTDOT:
        return "link target with '..' refused";
    case FS_ESYMLINK:
        return "symlink in path";
    case FS_EFINALLINK:
        return "target is a symlink";
    case FS_ENOTREG:
        return "target is not a regular file";
    case FS_EHARDLINK:
        return "target has other hard links";
    case FS_EDEPTH:
        return "directory tree too deep";
    case FS_EWALK_EXCLUDED:
        return "excluded";
    case FS_EWALK_SPECIAL:
        return "special file";
    case FS_EWALK_NOBASE:
        return "under no base directory";
    case FS_EWALK_LONG:
        return "name longer than 300 bytes";
    case FS_EWALK_LOOP:
        return "directory loop";
    case FS_EWALK_BADNAME:
        return "no usable name";
    case FS_EWALK_LIST:
        return "bad list file";
    }
    if (err < 0 && err > -4096)
        return strerror(-err);
    return "unknown error";
}

void fs_names_free(char **v, size_t n)
{
    if (!v)
        return;
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int fs_dir_names(DIR *d, char ***out, size_t *count)
{
    char **v = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    struct dirent *de;
    errno = 0;
    while ((de = readdir(d)) != NULL) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 16;
            char **nv = realloc(v, nc * sizeof(*nv));
            if (!nv) {
                rc = -ENOMEM;
                break;
            }
            v = nv;
            cap = nc;
        }
        if (!(v[n] = strdup(de->d_name))) {
            rc = -ENOMEM;
            break;
        }
        n++;
        errno = 0;
    }
    if (rc == 0 && errno)
        rc = -errno;
    closedir(d);
    if (rc < 0) {
        fs_names_free(v, n);
        return rc;
    }
    if (n)
        qsort(v, n, sizeof(*v), cmp_name);
    *out = v;
    *count = n;
    return 0;
}
