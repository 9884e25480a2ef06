#include "core/base/file.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

struct comp {
    const char *p;
    size_t len;
};

static bool is_ctrl(unsigned char c)
{
    return c < 0x20 || c == 0x7f;
}

void file_name_escape(char *out, size_t cap, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0, full = 0;

    if (cap == 0)
        return;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        full += (is_ctrl(c) || c == '\\' || c == '\'' || c >= 0x80) ? 4 : 1;
    }
    /* When it all fits, write it all; otherwise keep room for "...". */
    size_t room = full + 1 <= cap ? cap - 1 : (cap > 4 ? cap - 4 : 0);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        bool esc = is_ctrl(c) || c == '\\' || c == '\'' || c >= 0x80;
        if (o + (esc ? 4 : 1) > room)
            break;
        if (esc) {
            out[o++] = '\\';
            out[o++] = 'x';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
        } else {
            out[o++] = (char)c;
        }
    }
    if (full + 1 > cap)
        while (o + 1 < cap && o < room + 3)
            out[o++] = '.';
    out[o] = '\0';
}

/* Splits p[0..len) on '/' into comps; an empty component is kept as such. */
static int split(const char *p, size_t len, struct comp *comps, size_t *n, bool collapse)
{
    size_t k = 0, start = 0;

    for (size_t i = 0; i <= len; i++) {
        if (i < len && p[i] != '/')
            continue;
        size_t clen = i - start;
        if (clen > 0 || !collapse) {
            if (k == FILE_NAME_MAX_DEPTH)
                return FILE_ENAME_DEPTH;
            comps[k].p = p + start;
            comps[k].len = clen;
            k++;
        }
        start = i + 1;
    }
    *n = k;
    return 0;
}

static int check_comps(const struct comp *c, size_t n)
{
    if (n == 0)
        return FILE_ENAME_EMPTYCOMP;
    for (size_t i = 0; i < n; i++) {
        if (c[i].len == 0)
            return FILE_ENAME_EMPTYCOMP;
        if (c[i].len == 1 && c[i].p[0] == '.')
            return FILE_ENAME_DOT;
        if (c[i].len == 2 && c[i].p[0] == '.' && c[i].p[1] == '.')
            return FILE_ENAME_DOTDOT;
        if (c[i].len > NAME_MAX)
            return FILE_ENAME_COMPLONG;
    }
    return 0;
}

static const char *verdict(int err)
{
    switch (err) {
    case FILE_ENAME_EMPTY:
        return "is empty";
    case FILE_ENAME_LONG:
        return "is longer than 300 bytes";
    case FILE_ENAME_EMPTYCOMP:
        return "has an empty component";
    case FILE_ENAME_DOT:
        return "has a '.' component";
    case FILE_ENAME_DOTDOT:
        return "has a '..' component";
    case FILE_ENAME_BACKSLASH:
        return "has a backslash";
    case FILE_ENAME_CTRL:
        return "has a control character";
    case FILE_ENAME_COMPLONG:
        return "has a component longer than 255 bytes";
    case FILE_ENAME_DEPTH:
        return "has too many components";
    case FILE_ENAME_ABS:
        return "is absolute, which is refused with a temp dir";
    case FILE_ENAME_NOTUNDER:
        return "is absolute and under no destination directory";
    case FILE_ENAME_ISDEST:
        return "is a destination directory itself";
    }
    return "is invalid";
}

static int fail(int err, const char *name, size_t len, char *msg, size_t msglen)
{
    if (msg && msglen) {
        char esc[160];
        file_name_escape(esc, sizeof(esc), name, len);
        snprintf(msg, msglen, "name '%s' %s", esc, verdict(err));
    }
    return err;
}

/* Does dest (trusted, absolute) prefix the name's components? */
static int match_dest(const char *dest, const struct comp *c, size_t n, size_t *skip)
{
    struct comp dc[FILE_NAME_MAX_DEPTH];
    size_t dn;
    size_t dlen = strlen(dest);

    if (dlen == 0 || dest[0] != '/')
        return -1;
    if (split(dest + 1, dlen - 1, dc, &dn, true) < 0)
        return -1;
    if (n < dn)
        return -1;
    for (size_t i = 0; i < dn; i++)
        if (dc[i].len != c[i].len || memcmp(dc[i].p, c[i].p, c[i].len) != 0)
            return -1;
    *skip = dn;
    return n == dn ? 0 : 1;
}

int file_name_check(struct file_name *out, const char *name, size_t len, const char *const *dests,
                    size_t ndest, unsigned flags, char *msg, size_t msglen)
{
    struct comp c[FILE_NAME_MAX_DEPTH];
    size_t n, first = 0;
    int rc;

    if (len == 0)
        return fail(FILE_ENAME_EMPTY, name, len, msg, msglen);
    if (len > FILE_WIRE_NAME_MAX)
        return fail(FILE_ENAME_LONG, name, len, msg, msglen);
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)name[i];
        if (is_ctrl(ch))
            return fail(FILE_ENAME_CTRL, name, len, msg, msglen);
        if (ch == '\\')
            return fail(FILE_ENAME_BACKSLASH, name, len, msg, msglen);
    }
    bool abs = name[0] == '/';
    rc = split(name + abs, len - abs, c, &n, flags & FILE_NAME_COLLAPSE_SLASHES);
    if (rc == 0)
        rc = check_comps(c, n);
    if (rc < 0)
        return fail(rc, name, len, msg, msglen);

    out->dest = 0;
    if (abs) {
        bool isdest = false, found = false;
        if (flags & FILE_NAME_NO_ABS)
            return fail(FILE_ENAME_ABS, name, len, msg, msglen);
        /* spec §2.2 -D: strictly under a dest dir; the first match wins. */
        for (size_t i = 0; i < ndest && !found; i++) {
            size_t skip;
            int m = match_dest(dests[i], c, n, &skip);
            if (m == 0)
                isdest = true;
            if (m == 1) {
                out->dest = i;
                first = skip;
                found = true;
            }
        }
        if (!found)
            return fail(isdest ? FILE_ENAME_ISDEST : FILE_ENAME_NOTUNDER, name, len, msg, msglen);
    }

    size_t o = 0;
    for (size_t i = first; i < n; i++) {
        if (o)
            out->rel[o++] = '/';
        memcpy(out->rel + o, c[i].p, c[i].len);
        o += c[i].len;
    }
    out->rel[o] = '\0';
    out->ncomp = n - first;
    return 0;
}

int file_rel_check(const char *rel)
{
    size_t len = strnlen(rel, PATH_MAX + 1);
    size_t start = 0;
    size_t depth = 0;

    if (len == 0)
        return FILE_ENAME_EMPTY;
    if (len > PATH_MAX)
        return FILE_ENAME_LONG;
    if (rel[0] == '/')
        return FILE_ENAME_ABS;
    for (size_t i = 0; i <= len; i++) {
        if (i < len) {
            if (is_ctrl((unsigned char)rel[i]))
                return FILE_ENAME_CTRL;
            if (rel[i] != '/')
                continue;
        }
        size_t clen = i - start;
        const char *p = rel + start;
        if (clen == 0)
            return FILE_ENAME_EMPTYCOMP;
        if (clen == 1 && p[0] == '.')
            return FILE_ENAME_DOT;
        if (clen == 2 && p[0] == '.' && p[1] == '.')
            return FILE_ENAME_DOTDOT;
        if (clen > NAME_MAX)
            return FILE_ENAME_COMPLONG;
        /* Local paths (temp files, walks) may be deeper than wire names. */
        if (++depth > PATH_MAX / 2)
            return FILE_ENAME_DEPTH;
        start = i + 1;
    }
    return 0;
}

int file_link_check(const char *target, size_t len, unsigned policy)
{
    if (len == 0)
        return FILE_ELINK_EMPTY;
    if (len > FILE_WIRE_NAME_MAX)
        return FILE_ELINK_LONG;
    for (size_t i = 0; i < len; i++)
        if (is_ctrl((unsigned char)target[i]))
            return FILE_ELINK_CTRL;
    if (policy & FILE_LINK_NONE)
        return FILE_ELINK_NONE;
    if ((policy & FILE_LINK_NO_ABS) && target[0] == '/')
        return FILE_ELINK_ABS;
    if (policy & FILE_LINK_NO_DOTDOT) {
        size_t start = 0;
        for (size_t i = 0; i <= len; i++) {
            if (i < len && target[i] != '/')
                continue;
            if (i - start == 2 && target[start] == '.' && target[start + 1] == '.')
                return FILE_ELINK_DOTDOT;
            start = i + 1;
        }
    }
    return 0;
}

/*
 * Walks the '/'-separated components of p[0..len) onto a depth counter:
 * "." and empty ones stay, ".." climbs (false when it would climb above
 * depth 0), others descend.
 */
static bool walk_depth(const char *p, size_t len, long *depth)
{
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && p[i] != '/')
            continue;
        size_t cl = i - start;
        if (cl == 2 && p[start] == '.' && p[start + 1] == '.') {
            if (*depth == 0)
                return false;
            (*depth)--;
        } else if (cl > 0 && !(cl == 1 && p[start] == '.')) {
            (*depth)++;
        }
        start = i + 1;
    }
    return true;
}

/* Lexically normalises the absolute path p[0..len) into out ("/a/b"); false if it does not fit. */
static bool normalise_abs(const char *p, size_t len, char *out, size_t cap)
{
    size_t o = 0, start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && p[i] != '/')
            continue;
        size_t cl = i - start;
        if (cl == 2 && p[start] == '.' && p[start + 1] == '.') {
            while (o > 0 && out[o - 1] != '/')
                o--;
            if (o > 0)
                o--; /* the '/' before it; ".." at the root stays there */
        } else if (cl > 0 && !(cl == 1 && p[start] == '.')) {
            if (o + 1 + cl + 1 > cap)
                return false;
            out[o++] = '/';
            memcpy(out + o, p + start, cl);
            o += cl;
        }
        start = i + 1;
    }
    out[o] = '\0';
    return true;
}

int file_link_beneath(const char *rel, const char *target, size_t len, const char *dest)
{
    if (len == 0)
        return FILE_ELINK_OUTSIDE;
    if (target[0] != '/') {
        /* From the link's directory: rel's components but its last. */
        size_t rl = strlen(rel);
        while (rl > 0 && rel[rl - 1] != '/')
            rl--;
        long depth = 0;
        if (!walk_depth(rel, rl, &depth) || !walk_depth(target, len, &depth))
            return FILE_ELINK_OUTSIDE;
        return 0;
    }
    char t[PATH_MAX], d[PATH_MAX];
    if (!normalise_abs(target, len, t, sizeof(t)) ||
        !normalise_abs(dest, strlen(dest), d, sizeof(d)))
        return FILE_ELINK_OUTSIDE;
    size_t dl = strlen(d);
    if (dl == 0) /* dest is "/": everything is beneath it */
        return 0;
    if (strncmp(t, d, dl) == 0 && (t[dl] == '\0' || t[dl] == '/'))
        return 0;
    return FILE_ELINK_OUTSIDE;
}

int file_backup_name(char *out, size_t cap, const struct tm *start, const char *destdir,
                     const char *rel)
{
    char stamp[32];
    if (strftime(stamp, sizeof(stamp), "%Y%m%d/%H%M%S", start) == 0)
        return FILE_ENAME_LONG;
    size_t o = 0;
    int n = snprintf(out, cap, "%s", stamp);
    if (n < 0 || (size_t)n >= cap)
        return FILE_ENAME_LONG;
    o = (size_t)n;
    /* The dest dir's components, without empty ones ("/srv//in/" is srv/in). */
    for (const char *p = destdir; *p;) {
        while (*p == '/')
            p++;
        size_t len = strcspn(p, "/");
        if (len == 0)
            break;
        if (o + 1 + len >= cap)
            return FILE_ENAME_LONG;
        out[o++] = '/';
        memcpy(out + o, p, len);
        o += len;
        p += len;
    }
    n = snprintf(out + o, cap - o, "/%s", rel);
    if (n < 0 || (size_t)n >= cap - o || o + (size_t)n > PATH_MAX)
        return FILE_ENAME_LONG;
    return (int)(o + (size_t)n);
}

/* By -1000 - code (the FILE_E* codes count down from -1000, file.h). */
static const char *const file_errs[] = {
    [-1000 - FILE_ENAME_EMPTY] = "empty name",
    [-1000 - FILE_ENAME_LONG] = "name too long",
    [-1000 - FILE_ENAME_EMPTYCOMP] = "empty path component",
    [-1000 - FILE_ENAME_DOT] = "'.' path component",
    [-1000 - FILE_ENAME_DOTDOT] = "'..' path component",
    [-1000 - FILE_ENAME_BACKSLASH] = "backslash in name",
    [-1000 - FILE_ENAME_CTRL] = "control character in name",
    [-1000 - FILE_ENAME_COMPLONG] = "path component too long",
    [-1000 - FILE_ENAME_DEPTH] = "too many path components",
    [-1000 - FILE_ENAME_ABS] = "absolute names not allowed",
    [-1000 - FILE_ENAME_NOTUNDER] = "absolute name under no destination directory",
    [-1000 - FILE_ENAME_ISDEST] = "name is a destination directory",
    [-1000 - FILE_ELINK_EMPTY] = "empty link target",
    [-1000 - FILE_ELINK_LONG] = "link target too long",
    [-1000 - FILE_ELINK_CTRL] = "control character in link target",
    [-1000 - FILE_ELINK_ABS] = "absolute link target refused",
    [-1000 - FILE_ELINK_NONE] = "symbolic links refused (--symlinks none)",
    [-1000 - FILE_ELINK_OUTSIDE] =
        "link target resolves outside the destination (--symlinks beneath)",
    [-1000 - FILE_ELINK_DOTDOT] = "link target with '..' refused",
    [-1000 - FILE_ESYMLINK] = "symlink in path",
    [-1000 - FILE_EFINALLINK] = "target is a symlink",
    [-1000 - FILE_ENOTREG] = "target is not a regular file",
    [-1000 - FILE_EHARDLINK] = "target has other hard links",
    [-1000 - FILE_EDEPTH] = "directory tree too deep",
    [-1000 - FILE_EWALK_EXCLUDED] = "excluded",
    [-1000 - FILE_EWALK_SPECIAL] = "special file",
    [-1000 - FILE_EWALK_NOBASE] = "under no base directory",
    [-1000 - FILE_EWALK_LONG] = "name longer than 300 bytes",
    [-1000 - FILE_EWALK_LOOP] = "directory loop",
    [-1000 - FILE_EWALK_BADNAME] = "no usable name",
    [-1000 - FILE_EWALK_LIST] = "bad list file",
};

const char *file_strerror(int err)
{
    if (err == FILE_OK)
        return "success";
    if (err <= -1000 && err > -1000 - (int)(sizeof(file_errs) / sizeof(file_errs[0])) &&
        file_errs[-1000 - err] != NULL)
        return file_errs[-1000 - err];
    if (err < 0 && err > -4096)
        return strerror(-err);
    return "unknown error";
}
