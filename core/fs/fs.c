#include "core/fs/fs.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

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
