#include "core/fs/walk.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/base/file.h"
#include "core/wire/wire.h"

/* One directory being walked: its sorted entries and where its names end. */
struct frame {
    char **names;
    size_t n, next;
    size_t plen, nlen, rlen; /* lengths of path / name / rel for this dir */
    dev_t dev;
    ino_t ino;
    int64_t mtime;
    size_t emitted; /* w->emitted when the dir was entered */
};

struct fs_walk {
    char **items;
    size_t nitems, cur;
    char *dest;
    bool dest_is_dir, follow;
    char **bases;
    size_t nbase;
    char **excl;
    size_t nexcl;
    struct frame *stack;
    size_t depth, cap;
    size_t emitted;
    char path[PATH_MAX];
    char name[PATH_MAX];
    char rel[PATH_MAX];
    char link[PATH_MAX];
    char msg[PATH_MAX + 128];
};

static char **dup_strv(const char *const *v, size_t n)
{
    char **o = calloc(n ? n : 1, sizeof(*o));
    if (!o)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (!(o[i] = strdup(v[i]))) {
            fs_names_free(o, i);
            return NULL;
        }
    }
    return o;
}

/* Strips trailing '/' (but keeps a lone "/"). */
static void strip_slashes(char *s)
{
    size_t n = strlen(s);
    while (n > 1 && s[n - 1] == '/')
        s[--n] = '\0';
}

int fs_walk_new(struct fs_walk **wp, const struct fs_walk_opts *o, const char *const *items,
                size_t nitems)
{
    if (nitems > FS_MAX_FILES)
        return -E2BIG;
    struct fs_walk *w = calloc(1, sizeof(*w));
    if (!w)
        return -ENOMEM;
    w->nitems = nitems;
    w->nbase = o->nbase;
    w->nexcl = o->nexclude;
    w->dest_is_dir = o->dest_is_dir;
    w->follow = o->follow_links;
    w->items = dup_strv(items, nitems);
    w->bases = dup_strv(o->base_dirs, o->nbase);
    w->excl = dup_strv(o->excludes, o->nexclude);
    if (o->dest_name && o->dest_name[0])
        w->dest = strdup(o->dest_name);
    if (!w->items || !w->bases || !w->excl || (o->dest_name && o->dest_name[0] && !w->dest)) {
        fs_walk_free(w);
        return -ENOMEM;
    }
    for (size_t i = 0; i < w->nexcl; i++)
        strip_slashes(w->excl[i]);
    for (size_t i = 0; i < w->nbase; i++)
        strip_slashes(w->bases[i]);
    if (w->dest)
        strip_slashes(w->dest);
    *wp = w;
    return 0;
}

void fs_walk_free(struct fs_walk *w)
{
    if (!w)
        return;
    for (size_t i = 0; i < w->depth; i++)
        fs_names_free(w->stack[i].names, w->stack[i].n);
    free(w->stack);
    fs_names_free(w->items, w->nitems);
    fs_names_free(w->bases, w->nbase);
    fs_names_free(w->excl, w->nexcl);
    free(w->dest);
    free(w);
}

const char *fs_walk_msg(const struct fs_walk *w)
{
    return w->msg;
}

__attribute__((format(printf, 3, 4))) static int skip(struct fs_walk *w, int err, const char *fmt,
                                                      ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->msg, sizeof(w->msg), fmt, ap);
    va_end(ap);
    return err;
}

static bool excluded(const struct fs_walk *w, const char *rel)
{
    for (size_t i = 0; i < w->nexcl; i++)
        if (!strcmp(w->excl[i], rel))
            return true;
    return false;
}

static int emit(struct fs_walk *w, struct file_item *it, int type, const struct stat *st)
{
    if (strlen(w->name) > FILE_WIRE_NAME_MAX)
        return skip(w, FILE_EWALK_LONG, "skipping '%s': name '%s' is longer than %d bytes", w->path,
                    w->name, FILE_WIRE_NAME_MAX);
    memset(it, 0, sizeof(*it));
    it->type = type;
    it->path = w->path;
    it->name = w->name;
    it->link = type == FTYPE_LINK ? w->link : "";
    if (st) {
        it->size = type == FTYPE_REG ? (uint64_t)st->st_size : 0;
        it->mtime = (int64_t)st->st_mtime;
    }
    w->emitted++;
    return 1;
}

static int read_dir(const char *path, char ***out, size_t *count)
{
    DIR *d = opendir(path);
    if (!d)
        return -errno;
    return fs_dir_names(d, out, count);
}

/* Handles the entry now in w->path / w->name / w->rel. 2 = entered a dir. */
static int visit(struct fs_walk *w, struct file_item *it)
{
    struct stat st;

    if (excluded(w, w->rel))
        return skip(w, FILE_EWALK_EXCLUDED, "skipping excluded '%s'", w->rel);
    if ((w->follow ? stat(w->path, &st) : lstat(w->path, &st)) < 0)
        return skip(w, -errno, "skipping '%s': %s", w->path, strerror(errno));

    if (S_ISREG(st.st_mode))
        return emit(w, it, FTYPE_REG, &st);

    if (S_ISLNK(st.st_mode)) {
        ssize_t n = readlink(w->path, w->link, sizeof(w->link) - 1);
        if (n < 0)
            return skip(w, -errno, "skipping link '%s': %s", w->path, strerror(errno));
        w->link[n] = '\0';
        if (n == 0 || n > FILE_WIRE_NAME_MAX)
            return skip(w, FILE_EWALK_LONG, "skipping link '%s': target is %s", w->path,
                        n ? "longer than 300 bytes" : "empty");
        return emit(w, it, FTYPE_LINK, &st);
    }

    if (!S_ISDIR(st.st_mode))
        return skip(w, FILE_EWALK_SPECIAL, "skipping special file '%s'", w->path);

    /* With -l a link may lead back to a directory being walked. */
    for (size_t i = 0; i < w->depth; i++)
        if (w->stack[i].dev == st.st_dev && w->stack[i].ino == st.st_ino)
            return skip(w, FILE_EWALK_LOOP, "skipping '%s': directory loop", w->path);

    char **names = NULL;
    size_t n = 0;
    int rc = read_dir(w->path, &names, &n);
    if (rc < 0)
        return skip(w, rc, "skipping directory '%s': %s", w->path, strerror(-rc));
    if (n == 0) {
        free(names);
        return emit(w, it, FTYPE_DIR, &st);
    }
    if (strlen(w->name) + 2 > FILE_WIRE_NAME_MAX) {
        fs_names_free(names, n);
        return skip(w, FILE_EWALK_LONG,
                    "skipping '%s': names under '%s' would be longer than %d bytes", w->path,
                    w->name, FILE_WIRE_NAME_MAX);
    }
    if (w->depth == w->cap) {
        size_t nc = w->cap ? w->cap * 2 : 8;
        struct frame *ns = realloc(w->stack, nc * sizeof(*ns));
        if (!ns) {
            fs_names_free(names, n);
            return skip(w, -ENOMEM, "skipping '%s': out of memory", w->path);
        }
        w->stack = ns;
        w->cap = nc;
    }
    struct frame *f = &w->stack[w->depth++];
    f->names = names;
    f->n = n;
    f->next = 0;
    f->plen = strlen(w->path);
    f->nlen = strlen(w->name);
    f->rlen = strlen(w->rel);
    f->dev = st.st_dev;
    f->ino = st.st_ino;
    f->mtime = (int64_t)st.st_mtime;
    f->emitted = w->emitted;
    return 2;
}

/* Appends "/child" to buf (whose content is len bytes). */
static bool append(char *buf, size_t len, const char *child)
{
    int n = snprintf(buf + len, PATH_MAX - len, "/%s", child);
    return n >= 0 && (size_t)n < PATH_MAX - len;
}

/*
 * Writes the normalised form of s into out: leading '/' kept, empty and "."
 * components dropped. Returns FILE_ENAME_DOTDOT / FILE_ENAME_EMPTY / -ENAMETOOLONG.
 */
static int normalise(char *out, size_t cap, const char *s)
{
    size_t o = 0;
    if (s[0] == '/')
        out[o++] = '/';
    const char *p = s;
    bool any = false;
    while (*p) {
        while (*p == '/')
            p++;
        const char *e = strchr(p, '/');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == 0)
            break;
        if (len == 2 && p[0] == '.' && p[1] == '.')
            return FILE_ENAME_DOTDOT;
        if (!(len == 1 && p[0] == '.')) {
            if (o + len + 2 > cap)
                return -ENAMETOOLONG;
            if (any)
                out[o++] = '/';
            memcpy(out + o, p, len);
            o += len;
            any = true;
        }
        p += len;
    }
    out[o] = '\0';
    return any ? 0 : FILE_ENAME_EMPTY;
}

/* The part of local below base, at a component boundary, or NULL. */
static const char *under_base(const char *local, const char *base)
{
    size_t bl = strlen(base);
    if (bl == 1 && base[0] == '/')
        bl = 0; /* the root: everything absolute is under it */
    if (strncmp(local, base, bl) != 0 || local[bl] != '/')
        return NULL;
    const char *r = local + bl;
    while (*r == '/')
        r++;
    return *r ? r : NULL;
}

static int top_item(struct fs_walk *w, const char *item, struct file_item *it)
{
    char top[PATH_MAX], real[PATH_MAX];
    bool del = false;

    if (!strcmp(item, "@FREESPACE")) {
        /* 5.0.1 sends the free-space query with the name "." (server_send.c). */
        snprintf(w->name, sizeof(w->name), ".");
        w->path[0] = '\0';
        return emit(w, it, FTYPE_FREESPACE, NULL);
    }
    if (!strncmp(item, "@DELETE:", 8)) {
        item += 8;
        del = true;
    }
    if (strlen(item) >= sizeof(w->path))
        return skip(w, -ENAMETOOLONG, "skipping '%.64s...': path too long", item);
    if (!item[0])
        return skip(w, FILE_EWALK_BADNAME, "skipping an empty item");
    snprintf(w->path, sizeof(w->path), "%s", item);
    strip_slashes(w->path);

    const char *base = strrchr(w->path, '/');
    base = base ? base + 1 : w->path;
    if (!base[0] || !strcmp(base, ".") || !strcmp(base, "..")) {
        /* "/", "." or "..": use the name the directory really has. */
        if (del || !realpath(w->path, real) || !strcmp(real, "/"))
            return skip(w, FILE_EWALK_BADNAME, "skipping '%s': it has no name to send", item);
        base = strrchr(real, '/') + 1;
    }
    snprintf(w->rel, sizeof(w->rel), "%s", base);

    const char *t = base;
    if (w->nbase) {
        t = NULL;
        for (size_t i = 0; i < w->nbase && !t; i++)
            t = under_base(w->path, w->bases[i]);
        if (!t)
            return skip(w, FILE_EWALK_NOBASE, "skipping '%s': under no base directory", item);
    }
    int n;
    if (w->dest && (w->nitems > 1 || w->dest_is_dir))
        n = snprintf(top, sizeof(top), "%s/%s", w->dest, t);
    else
        n = snprintf(top, sizeof(top), "%s", w->dest ? w->dest : t);
    if (n < 0 || (size_t)n >= sizeof(top))
        return skip(w, -ENAMETOOLONG, "skipping '%s': name too long", item);
    int rc = normalise(w->name, sizeof(w->name), top);
    if (rc < 0)
        return skip(w, rc == -ENAMETOOLONG ? rc : FILE_EWALK_BADNAME,
                    "skipping '%s': unusable name '%s'", item, top);

    if (!del)
        return visit(w, it);
    if (excluded(w, w->rel))
        return skip(w, FILE_EWALK_EXCLUDED, "skipping excluded '%s'", w->rel);
    rc = emit(w, it, FTYPE_DELETE, NULL);
    it->path = "";
    return rc;
}

int fs_walk_next(struct fs_walk *w, struct file_item *it)
{
    for (;;) {
        int rc;
        w->msg[0] = '\0';
        if (w->depth > 0) {
            struct frame *f = &w->stack[w->depth - 1];
            w->path[f->plen] = '\0';
            w->name[f->nlen] = '\0';
            w->rel[f->rlen] = '\0';
            if (f->next == f->n) {
                /* Done with this dir: send it if nothing beneath was sent. */
                bool send = w->emitted == f->emitted;
                struct stat st;
                memset(&st, 0, sizeof(st));
                st.st_mtime = (time_t)f->mtime;
                fs_names_free(f->names, f->n);
                w->depth--;
                if (!send)
                    continue;
                /* w->path / w->name still name this dir until the next call. */
                return emit(w, it, FTYPE_DIR, &st);
            }
            const char *child = f->names[f->next++];
            if (!append(w->path, f->plen, child) || !append(w->name, f->nlen, child) ||
                !append(w->rel, f->rlen, child))
                return skip(w, -ENAMETOOLONG, "skipping '%s/%s': path too long", w->path, child);
            rc = visit(w, it);
        } else {
            if (w->cur == w->nitems)
                return 0;
            rc = top_item(w, w->items[w->cur++], it);
        }
        if (rc != 2)
            return rc;
    }
}

void fs_list_free(struct fs_list *l)
{
    fs_names_free(l->v, l->n);
    l->v = NULL;
    l->n = 0;
}

int fs_list_read_fp(struct fs_list *out, FILE *f, const char *label, size_t max, char *msg,
                    size_t msglen)
{
    char line[PATH_MAX + 1];
    size_t len = 0, lineno = 1, cap = 0;
    bool toolong = false;
    int rc = 0;

    out->v = NULL;
    out->n = 0;
    for (;;) {
        int c = getc(f);
        if (c == EOF && ferror(f)) {
            rc = -EIO;
            snprintf(msg, msglen, "%s: read error", label);
            break;
        }
        if (c != '\n' && c != EOF) {
            if (c == '\0') {
                rc = FILE_EWALK_LIST;
                snprintf(msg, msglen, "%s:%zu: NUL byte in line", label, lineno);
                break;
            }
            if (len < PATH_MAX)
                line[len++] = (char)c;
            else
                toolong = true;
            continue;
        }
        if (toolong) {
            rc = FILE_EWALK_LIST;
            snprintf(msg, msglen, "%s:%zu: line longer than %d bytes", label, lineno, PATH_MAX);
            break;
        }
        while (len > 0 && line[len - 1] == '\r')
            len--;
        line[len] = '\0';
        if (len > 0) {
            if (out->n == max) {
                rc = FILE_EWALK_LIST;
                snprintf(msg, msglen, "%s:%zu: more than %zu entries", label, lineno, max);
                break;
            }
            if ((rc = fs_names_push(&out->v, &out->n, &cap, line)) < 0) {
                snprintf(msg, msglen, "%s: out of memory", label);
                break;
            }
        }
        if (c == EOF)
            break;
        len = 0;
        lineno++;
    }
    if (rc < 0)
        fs_list_free(out);
    return rc;
}

int fs_list_read(struct fs_list *out, const char *path, size_t max, char *msg, size_t msglen)
{
    if (!strcmp(path, "-"))
        return fs_list_read_fp(out, stdin, "stdin", max, msg, msglen);
    FILE *f = fopen(path, "re");
    if (!f) {
        int e = errno;
        snprintf(msg, msglen, "%s: %s", path, strerror(e));
        return -e;
    }
    int rc = fs_list_read_fp(out, f, path, max, msg, msglen);
    fclose(f);
    return rc;
}
