/* The Prometheus text format and its atomic file (metrics.h). */
#include "core/daemon/metrics.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void metrics_init(struct metrics_buf *b)
{
    memset(b, 0, sizeof(*b));
}

void metrics_free(struct metrics_buf *b)
{
    free(b->p);
    metrics_init(b);
}

void metrics_reset(struct metrics_buf *b)
{
    b->len = 0;
    b->oom = false;
    if (b->p != NULL)
        b->p[0] = '\0';
}

__attribute__((format(printf, 2, 3))) static void put(struct metrics_buf *b, const char *fmt, ...)
{
    if (b->oom)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        size_t room = b->cap - b->len;
        int n = vsnprintf(b->p ? b->p + b->len : NULL, room, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->oom = true;
            return;
        }
        if ((size_t)n < room) {
            b->len += (size_t)n;
            return;
        }
        size_t cap = b->cap ? b->cap * 2 : 4096;
        while (cap - b->len <= (size_t)n)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (p == NULL) {
            b->oom = true;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
}

void metrics_family(struct metrics_buf *b, const char *name, const char *type, const char *help)
{
    put(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static const char *open_brace(const char *labels)
{
    return labels != NULL && labels[0] != '\0' ? "{" : "";
}

static const char *close_brace(const char *labels)
{
    return labels != NULL && labels[0] != '\0' ? "}" : "";
}

void metrics_u64(struct metrics_buf *b, const char *name, const char *labels, uint64_t v)
{
    put(b, "%s%s%s%s %" PRIu64 "\n", name, open_brace(labels), labels ? labels : "",
        close_brace(labels), v);
}

void metrics_counter(struct metrics_buf *b, const char *name, const char *help, uint64_t v)
{
    metrics_family(b, name, "counter", help);
    metrics_u64(b, name, NULL, v);
}

void metrics_counters(struct metrics_buf *b, const char *name, const char *help, const char *label,
                      const struct metrics_row *rows, size_t n)
{
    metrics_family(b, name, "counter", help);
    for (size_t i = 0; i < n; i++)
        put(b, "%s{%s=\"%s\"} %" PRIu64 "\n", name, label, rows[i].value, rows[i].v);
}

int metrics_write(const struct metrics_buf *b, const char *path)
{
    if (b->oom)
        return -ENOMEM;
    return textfile_write(path, b->p, b->len, 0644);
}

int textfile_write(const char *path, const char *data, size_t len, unsigned mode)
{
    const char *slash = strrchr(path, '/');
    size_t dirlen = slash ? (size_t)(slash - path) + 1 : 0;
    size_t n = strlen(path) + 16;
    char *tmp = malloc(n);
    if (tmp == NULL)
        return -ENOMEM;
    /* A dot file: the collector reads only *.prom. */
    snprintf(tmp, n, "%.*s.%s.XXXXXX", (int)dirlen, path, path + dirlen);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        int e = errno;
        free(tmp);
        return -e;
    }
    int rc = 0;
    size_t off = 0;
    while (rc == 0 && off < len) {
        ssize_t w = write(fd, data + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            rc = w < 0 ? -errno : -EIO;
        else
            off += (size_t)w;
    }
    if (rc == 0 && fchmod(fd, (mode_t)mode) < 0)
        rc = -errno;
    if (close(fd) < 0 && rc == 0)
        rc = -errno;
    if (rc == 0 && rename(tmp, path) < 0)
        rc = -errno;
    if (rc < 0)
        (void)unlink(tmp);
    free(tmp);
    return rc;
}

int metrics_path_check(const char *path)
{
    if (path == NULL || path[0] != '/' || path[strlen(path) - 1] == '/')
        return -EINVAL;
    const char *slash = strrchr(path, '/');
    char dir[4096];
    size_t dl = (size_t)(slash - path);
    if (dl >= sizeof(dir))
        return -ENAMETOOLONG;
    memcpy(dir, path, dl);
    dir[dl] = '\0';
    struct stat st;
    if (stat(dl ? dir : "/", &st) < 0)
        return -errno;
    return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}
