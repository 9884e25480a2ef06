/*
 * Common definitions of core/fs: limits and error codes.
 *
 * Error convention: functions that only inspect text (name.h, walk naming)
 * return the FS_E* codes below. Functions that make system calls return
 * -errno for plain system failures (-ENOENT, -ENOSPC, -EIO, -EXDEV, ...) and
 * an FS_E* code for the conditions this module detects itself (a symlink on
 * the way, a hard-linked target, ...). FS_E* codes are all <= -1000 so they
 * never collide with a negated errno; fs_strerror() names both kinds.
 */
#ifndef UFTP_FS_H
#define UFTP_FS_H

#include <dirent.h>
#include <stddef.h>

/* spec §1.4 FILEINFO: name and link target are each at most 300 bytes. */
#define FS_WIRE_NAME_MAX 300
/* More components than this is refused; 300 bytes allow at most 150. */
#define FS_NAME_MAX_DEPTH 128
/* spec §4: 10 dest / backup / base dirs. */
#define FS_MAX_DIRS 10

enum fs_err {
    FS_OK = 0,
    /* Received names (name.h). */
    FS_ENAME_EMPTY = -1000,     /* zero-length name */
    FS_ENAME_LONG = -1001,      /* longer than FS_WIRE_NAME_MAX (or PATH_MAX) */
    FS_ENAME_EMPTYCOMP = -1002, /* "a//b", trailing '/', bare "/" */
    FS_ENAME_DOT = -1003,       /* a "." component */
    FS_ENAME_DOTDOT = -1004,    /* a ".." component, anywhere (spec §6.1) */
    FS_ENAME_BACKSLASH = -1005, /* '\\' (a separator on Windows senders) */
    FS_ENAME_CTRL = -1006,      /* NUL, 0x01..0x1f or 0x7f */
    FS_ENAME_COMPLONG = -1007,  /* a component longer than NAME_MAX */
    FS_ENAME_DEPTH = -1008,     /* more than FS_NAME_MAX_DEPTH components */
    FS_ENAME_ABS = -1009,       /* absolute name, but absolute names are off (-T) */
    FS_ENAME_NOTUNDER = -1010,  /* absolute name under no destination dir */
    FS_ENAME_ISDEST = -1011,    /* absolute name equal to a destination dir */
    /* Symlink targets (fs_link_target_check). */
    FS_ELINK_EMPTY = -1020,
    FS_ELINK_LONG = -1021,
    FS_ELINK_CTRL = -1022,
    FS_ELINK_ABS = -1023,    /* refused by policy */
    FS_ELINK_DOTDOT = -1024, /* refused by policy */
    /* Resolution beneath a directory (beneath.h). */
    FS_ESYMLINK = -1030,   /* a directory on the way is a symlink: never followed */
    FS_EFINALLINK = -1031, /* the final component is a symlink */
    FS_ENOTREG = -1032,    /* the target exists and is not a regular file */
    FS_EHARDLINK = -1033,  /* the target has other hard links: never written in place */
    FS_EDEPTH = -1034,     /* a tree too deep to remove */
    /* Sender walk (walk.h): an item or entry skipped, the walk goes on. */
    FS_EWALK_EXCLUDED = -1040, /* listed in -X */
    FS_EWALK_SPECIAL = -1041,  /* fifo, socket, device */
    FS_EWALK_NOBASE = -1042,   /* under no -E base dir */
    FS_EWALK_LONG = -1043,     /* wire name or link target over 300 bytes */
    FS_EWALK_LOOP = -1044,     /* directory loop through followed symlinks */
    FS_EWALK_BADNAME = -1045,  /* an item with no usable name ("/", "..") */
    FS_EWALK_LIST = -1046,     /* a list file (-i, -X) is malformed or too long */
};

/* A short text for any FS_E* code or negated errno. Never NULL. */
const char *fs_strerror(int err);

/* Reads every entry of d but "." and "..", sorted by strcmp (a deterministic
 * order; the reference used readdir order), and closes d in every case.
 * *out is a malloc'd vector of malloc'd names (free with fs_names_free).
 * Returns 0, -ENOMEM or a negated errno of readdir. */
int fs_dir_names(DIR *d, char ***out, size_t *count);
void fs_names_free(char **v, size_t n); /* v may be NULL */

#endif
