/*
 * Files as the engines see them — the ground floor (DESIGN.md "The house"):
 * the error codes of file operations, the sender's file items, the
 * receiver's stat result, and the checks of names received from the
 * network. Pure text and values: no system call, usable by the engines.
 *
 * Error convention: functions that only inspect text (the checks below,
 * core/fs/walk.h naming) return the FILE_E* codes. core/fs functions that
 * make system calls return -errno for plain system failures (-ENOENT,
 * -ENOSPC, -EIO, -EXDEV, ...) and a FILE_E* code for the conditions they
 * detect themselves (a symlink on the way, a hard-linked target, ...).
 * FILE_E* codes are all <= -1000 so they never collide with a negated
 * errno; file_strerror() names both kinds. The engines get these codes back
 * from their storage callbacks and log them with file_strerror().
 *
 * Received names (FILEINFO, spec §1.4): a name is '/'-separated and at most
 * 300 bytes. It is split into components and refused if any component is
 * empty, ".", ".." (anywhere: the reference checked only the first "..",
 * spec §6.1), too long, or holds a backslash, NUL or another control
 * character. An absolute name must lie strictly under one of the
 * destination dirs (spec §2.2 -D); a relative one goes under the first. The
 * result is the dest dir index and a normalised relative remainder, which
 * core/fs/beneath.h then resolves component by component without following
 * symlinks (spec §6.2).
 */
#ifndef UFTP_BASE_FILE_H
#define UFTP_BASE_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* spec §1.4 FILEINFO: name and link target are each at most 300 bytes. */
#define FILE_WIRE_NAME_MAX 300
/* More components than this is refused; 300 bytes allow at most 150. */
#define FILE_NAME_MAX_DEPTH 128
/* spec §4: 10 dest / backup / base dirs. */
#define FILE_MAX_DIRS 10

enum file_err {
    FILE_OK = 0,
    /* Received names (file_name_check). */
    FILE_ENAME_EMPTY = -1000,     /* zero-length name */
    FILE_ENAME_LONG = -1001,      /* longer than FILE_WIRE_NAME_MAX (or PATH_MAX) */
    FILE_ENAME_EMPTYCOMP = -1002, /* "a//b", trailing '/', bare "/" */
    FILE_ENAME_DOT = -1003,       /* a "." component */
    FILE_ENAME_DOTDOT = -1004,    /* a ".." component, anywhere (spec §6.1) */
    FILE_ENAME_BACKSLASH = -1005, /* '\\' (a separator on Windows senders) */
    FILE_ENAME_CTRL = -1006,      /* NUL, 0x01..0x1f or 0x7f */
    FILE_ENAME_COMPLONG = -1007,  /* a component longer than NAME_MAX */
    FILE_ENAME_DEPTH = -1008,     /* more than FILE_NAME_MAX_DEPTH components */
    FILE_ENAME_ABS = -1009,       /* absolute name, but absolute names are off (-T) */
    FILE_ENAME_NOTUNDER = -1010,  /* absolute name under no destination dir */
    FILE_ENAME_ISDEST = -1011,    /* absolute name equal to a destination dir */
    /* Symlink targets (file_link_check). */
    FILE_ELINK_EMPTY = -1020,
    FILE_ELINK_LONG = -1021,
    FILE_ELINK_CTRL = -1022,
    FILE_ELINK_ABS = -1023,     /* refused by policy */
    FILE_ELINK_DOTDOT = -1024,  /* refused by policy */
    FILE_ELINK_NONE = -1025,    /* refused by policy: no links at all */
    FILE_ELINK_OUTSIDE = -1026, /* refused by policy: the target leaves the destination */
    /* Resolution beneath a directory (core/fs/beneath.h). */
    FILE_ESYMLINK = -1030,   /* a directory on the way is a symlink: never followed */
    FILE_EFINALLINK = -1031, /* the final component is a symlink */
    FILE_ENOTREG = -1032,    /* the target exists and is not a regular file */
    FILE_EHARDLINK = -1033,  /* the target has other hard links: never written in place */
    FILE_EDEPTH = -1034,     /* a tree too deep to remove */
    /* Sender walk (core/fs/walk.h): an item or entry skipped, the walk goes on. */
    FILE_EWALK_EXCLUDED = -1040, /* listed in -X */
    FILE_EWALK_SPECIAL = -1041,  /* fifo, socket, device */
    FILE_EWALK_NOBASE = -1042,   /* under no -E base dir */
    FILE_EWALK_LONG = -1043,     /* wire name or link target over 300 bytes */
    FILE_EWALK_LOOP = -1044,     /* directory loop through followed symlinks */
    FILE_EWALK_BADNAME = -1045,  /* an item with no usable name ("/", "..") */
    FILE_EWALK_LIST = -1046,     /* a list file (-i, -X) is malformed or too long */
};

/* A short text for any FILE_E* code or negated errno. Never NULL. */
const char *file_strerror(int err);

/* One thing the sender announces (produced by core/fs/walk.h). */
struct file_item {
    int type;         /* FTYPE_REG, _DIR, _LINK, _DELETE, _FREESPACE (wire.h) */
    const char *path; /* local path to read ("" for DELETE / FREESPACE) */
    const char *name; /* wire name, <= 300 bytes */
    const char *link; /* FTYPE_LINK: the link's target; else "" */
    uint64_t size;    /* FTYPE_REG */
    int64_t mtime;    /* FTYPE_REG, _DIR, _LINK */
};

/* What the receiver's storage reports about an existing file (sync mode). */
struct file_stat {
    int type; /* FTYPE_REG, FTYPE_DIR, FTYPE_LINK (core/wire/wire.h), or -1 */
    uint64_t size;
    int64_t mtime;
    uint32_t mode; /* st_mode */
    uint64_t nlink;
    uint64_t dev;
};

/* Flags for file_name_check(). */
enum {
    /* Refuse absolute names: uftpd -T receives only relative ones (spec §2.2). */
    FILE_NAME_NO_ABS = 0x01,
    /*
     * Collapse repeated '/' instead of refusing them. A 5.0.1 sender run with
     * `-E /base -D /abs` emits "/abs//rest" (the -E remainder keeps its
     * leading '/'); this lets a receiver accept that. Off by default.
     */
    FILE_NAME_COLLAPSE_SLASHES = 0x02,
};

struct file_name {
    size_t dest;                      /* index into the dest dir array */
    size_t ncomp;                     /* components in rel */
    char rel[FILE_WIRE_NAME_MAX + 1]; /* relative to that dir, no "//" */
};

/*
 * Checks the received name name[0..len) (not necessarily NUL-terminated; a
 * NUL inside it is refused) against the destination dirs dests[0..ndest),
 * which are absolute and trusted (configuration). On success fills *out and
 * returns 0. On failure returns one of FILE_ENAME_EMPTY, FILE_ENAME_LONG,
 * FILE_ENAME_EMPTYCOMP, FILE_ENAME_DOT, FILE_ENAME_DOTDOT, FILE_ENAME_BACKSLASH,
 * FILE_ENAME_CTRL, FILE_ENAME_COMPLONG, FILE_ENAME_DEPTH, FILE_ENAME_ABS,
 * FILE_ENAME_NOTUNDER, FILE_ENAME_ISDEST and, if msg is not NULL, writes a log
 * line such as "name 'x/../y' has a '..' component" (the name is escaped).
 */
int file_name_check(struct file_name *out, const char *name, size_t len, const char *const *dests,
                    size_t ndest, unsigned flags, char *msg, size_t msglen);

/*
 * Checks a relative path that core/fs is about to resolve: NUL-terminated,
 * at most PATH_MAX bytes, not absolute, no empty, "." or ".." components, no
 * control characters. Backslashes are allowed (local names). Returns 0 or an
 * FILE_ENAME_* code. Every beneath.h function calls this first.
 */
int file_rel_check(const char *rel);

/* Policy flags for file_link_check(). */
enum {
    FILE_LINK_NO_ABS = 0x01,    /* refuse "/..." targets */
    FILE_LINK_NO_DOTDOT = 0x02, /* refuse targets with a ".." component */
    FILE_LINK_NONE = 0x04,      /* refuse every link (uftpd --symlinks none) */
    /* The target must resolve inside the destination (uftpd --symlinks beneath,
     * the default; checked by file_link_beneath, which needs the link's place). */
    FILE_LINK_BENEATH = 0x08,
};

/*
 * Checks a received symlink target target[0..len). The target is opaque
 * text that is stored in the link and never followed by us (spec §6.2);
 * this only enforces the configured policy. Returns 0 or FILE_ELINK_EMPTY,
 * FILE_ELINK_LONG, FILE_ELINK_CTRL, FILE_ELINK_ABS, FILE_ELINK_DOTDOT,
 * FILE_ELINK_NONE.
 */
int file_link_check(const char *target, size_t len, unsigned policy);

/*
 * uftpd --symlinks beneath (issue 14 item 6): does a link at rel (checked,
 * relative to the destination dir dest, absolute) with target
 * target[0..len) resolve inside dest, read as text? A relative target is
 * taken from the link's directory, an absolute one must name dest or lie
 * beneath it; "." and ".." are resolved lexically ("a/../b" is "b"), so a
 * target never climbs out, even on the way. Symlinks already inside dest
 * are not followed: ours passed this same check, and the operator's own
 * are the operator's. Returns 0 or FILE_ELINK_OUTSIDE.
 */
int file_link_beneath(const char *rel, const char *target, size_t len, const char *dest);

/*
 * The path, beneath a backup dir, that a replaced file moves to (uftpd -A,
 * spec §2.2): "YYYYMMDD/HHMMSS/<destdir>/<rel>" where the date and time are
 * the session's start (local time, as 5.0.1 does) and <destdir> is the
 * absolute dest dir without its leading '/' (so backups of several dest dirs
 * do not collide). Returns the length, or FILE_ENAME_LONG if it does not fit
 * in cap or PATH_MAX.
 */
int file_backup_name(char *out, size_t cap, const struct tm *start, const char *destdir,
                     const char *rel);

/*
 * Writes s[0..len) into out (always NUL-terminated when cap > 0) with
 * non-printable bytes, quotes and backslashes escaped as \xNN, cut with
 * "..." if it does not fit. For log lines about hostile names.
 */
void file_name_escape(char *out, size_t cap, const char *s, size_t len);

#endif
