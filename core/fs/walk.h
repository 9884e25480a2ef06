/*
 * The sender's view of the files to send (spec §1.5, §2.1 "Files / naming").
 *
 * fs_walk turns the command-line items into a deterministic stream of
 * things to announce: regular files, empty directories, symlinks (as links
 * unless -l), and the pseudo-files @DELETE:path and @FREESPACE. Directories
 * are walked recursively in byte-sorted order; special files are skipped.
 *
 * Wire names, as the 5.0.1 sender builds them (server_send.c), with its
 * defects fixed:
 *  - an item's top name is its last path component; with -E base dirs it is
 *    the path below the first base dir that contains it, at a component
 *    boundary (5.0.1 compared raw prefixes and kept the remainder's leading
 *    '/', so `-E /path` sent "/to/file" and with -D "dir//to/file");
 *    an item under no base dir is skipped, even with -D;
 *  - with -D, if there is one item and no -o, the item is renamed to the -D
 *    name (-E does not change the name then); otherwise the top name goes
 *    under the -D name: "D/top". The item count includes pseudo-files;
 *  - children are "parent/child"; the name is normalised (no "//", no "."
 *    components) and an item whose name would have a ".." component or
 *    exceed 300 bytes is skipped;
 *  - excludes (-X) match the path as traversed from the item's last
 *    component ("d1/d4"), whatever -D and -E say, and apply to the item
 *    itself too;
 *  - @FREESPACE is sent with the name "." (as 5.0.1 does); @DELETE:path is
 *    named like any item (-E is matched against path, which 5.0.1 did not
 *    do) and is not looked up locally;
 *  - a directory is sent as FTYPE_DIR when nothing beneath it was sent (a
 *    truly empty one, or one whose entries were all skipped);
 *  - an item named "." or ".." takes the last component of its real path.
 */
#ifndef UFTP_FS_WALK_H
#define UFTP_FS_WALK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/fs/fs.h"

/* spec §4 server limits. */
#define FS_MAX_FILES    10000 /* command-line / -i items */
#define FS_MAX_EXCLUDES 500

struct fs_walk_opts {
    const char *dest_name;        /* -D, or NULL */
    bool dest_is_dir;             /* -o */
    const char *const *base_dirs; /* -E */
    size_t nbase;
    const char *const *excludes; /* -X entries */
    size_t nexclude;
    bool follow_links; /* -l */
};

struct fs_walk;

/*
 * Starts a walk over items[0..nitems) (copied, as are the options).
 * Returns 0, -ENOMEM, or -E2BIG if nitems > FS_MAX_FILES.
 */
int fs_walk_new(struct fs_walk **w, const struct fs_walk_opts *o, const char *const *items,
                size_t nitems);

/*
 * Produces the next item into *it (strings valid until the next call).
 * Returns 1 for an item, 0 at the end, or a negative code when an entry is
 * skipped: FILE_EWALK_* or -errno (a stat / readdir / readlink failure). Then
 * fs_walk_msg() holds a log line naming it, and the walk goes on with the
 * next call.
 */
int fs_walk_next(struct fs_walk *w, struct file_item *it);
const char *fs_walk_msg(const struct fs_walk *w);
void fs_walk_free(struct fs_walk *w);

/* A list of strings read from a file. */
struct fs_list {
    char **v;
    size_t n;
};

/*
 * Reads a list file (-i: files to send, "-" = stdin; -X: excludes): one
 * path per line, CR/LF stripped, empty lines ignored. At most max entries
 * and PATH_MAX bytes a line. Returns 0, or FILE_EWALK_LIST / -errno with a
 * message "file:line: ..." in msg.
 */
int fs_list_read(struct fs_list *out, const char *path, size_t max, char *msg, size_t msglen);
int fs_list_read_fp(struct fs_list *out, FILE *f, const char *label, size_t max, char *msg,
                    size_t msglen);
void fs_list_free(struct fs_list *l);

#endif
