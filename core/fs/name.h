/*
 * Validation of file names received from the network (FILEINFO, spec §1.4):
 * pure text checks, no system calls, usable by the engines.
 *
 * A received name is '/'-separated and at most 300 bytes. It is split into
 * components and refused if any component is empty, ".", ".." (anywhere: the
 * reference checked only the first "..", spec §6.1), too long, or holds a
 * backslash, NUL or another control character. An absolute name must lie
 * strictly under one of the destination dirs (spec §2.2 -D); a relative one
 * goes under the first. The result is the dest dir index and a normalised
 * relative remainder, which core/fs/beneath.h then resolves component by
 * component without following symlinks (spec §6.2).
 */
#ifndef UFTP_FS_NAME_H
#define UFTP_FS_NAME_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "core/fs/fs.h"

/* Flags for fs_name_check(). */
enum {
    /* Refuse absolute names: uftpd -T receives only relative ones (spec §2.2). */
    FS_NAME_NO_ABS = 0x01,
    /*
     * Collapse repeated '/' instead of refusing them. A 5.0.1 sender run with
     * `-E /base -D /abs` emits "/abs//rest" (the -E remainder keeps its
     * leading '/'); this lets a receiver accept that. Off by default.
     */
    FS_NAME_COLLAPSE_SLASHES = 0x02,
};

struct fs_name {
    size_t dest;                    /* index into the dest dir array */
    size_t ncomp;                   /* components in rel */
    char rel[FS_WIRE_NAME_MAX + 1]; /* relative to that dir, no "//" */
};

/*
 * Checks the received name name[0..len) (not necessarily NUL-terminated; a
 * NUL inside it is refused) against the destination dirs dests[0..ndest),
 * which are absolute and trusted (configuration). On success fills *out and
 * returns 0. On failure returns one of FS_ENAME_EMPTY, FS_ENAME_LONG,
 * FS_ENAME_EMPTYCOMP, FS_ENAME_DOT, FS_ENAME_DOTDOT, FS_ENAME_BACKSLASH,
 * FS_ENAME_CTRL, FS_ENAME_COMPLONG, FS_ENAME_DEPTH, FS_ENAME_ABS,
 * FS_ENAME_NOTUNDER, FS_ENAME_ISDEST and, if msg is not NULL, writes a log
 * line such as "name 'x/../y' has a '..' component" (the name is escaped).
 */
int fs_name_check(struct fs_name *out, const char *name, size_t len, const char *const *dests,
                  size_t ndest, unsigned flags, char *msg, size_t msglen);

/*
 * Checks a relative path that core/fs is about to resolve: NUL-terminated,
 * at most PATH_MAX bytes, not absolute, no empty, "." or ".." components, no
 * control characters. Backslashes are allowed (local names). Returns 0 or an
 * FS_ENAME_* code. Every beneath.h function calls this first.
 */
int fs_rel_check(const char *rel);

/* Policy flags for fs_link_target_check(). */
enum {
    FS_LINK_NO_ABS = 0x01,    /* refuse "/..." targets */
    FS_LINK_NO_DOTDOT = 0x02, /* refuse targets with a ".." component */
};

/*
 * Checks a received symlink target target[0..len). The target is opaque
 * text that is stored in the link and never followed by us (spec §6.2);
 * this only enforces the configured policy. Returns 0 or FS_ELINK_EMPTY,
 * FS_ELINK_LONG, FS_ELINK_CTRL, FS_ELINK_ABS, FS_ELINK_DOTDOT.
 */
int fs_link_target_check(const char *target, size_t len, unsigned policy);

/*
 * The path, beneath a backup dir, that a replaced file moves to (uftpd -A,
 * spec §2.2): "YYYYMMDD/HHMMSS/<destdir>/<rel>" where the date and time are
 * the session's start (local time, as 5.0.1 does) and <destdir> is the
 * absolute dest dir without its leading '/' (so backups of several dest dirs
 * do not collide). Returns the length, or FS_ENAME_LONG if it does not fit
 * in cap or PATH_MAX.
 */
int fs_backup_name(char *out, size_t cap, const struct tm *start, const char *destdir,
                   const char *rel);

/*
 * Writes s[0..len) into out (always NUL-terminated when cap > 0) with
 * non-printable bytes, quotes and backslashes escaped as \xNN, cut with
 * "..." if it does not fit. For log lines about hostile names.
 */
void fs_name_escape(char *out, size_t cap, const char *s, size_t len);

#endif
