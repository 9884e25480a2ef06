/*
 * Common definitions of core/fs. The limits, error codes (FILE_E*,
 * file_strerror) and received-name checks are the floor's
 * (core/base/file.h), shared with the engines.
 */
#ifndef UFTP_FS_H
#define UFTP_FS_H

#include <dirent.h>
#include <stddef.h>

#include "core/base/file.h"

/* Reads every entry of d but "." and "..", sorted by strcmp (a deterministic
 * order; the reference used readdir order), and closes d in every case.
 * *out is a malloc'd vector of malloc'd names (free with fs_names_free).
 * Returns 0, -ENOMEM or a negated errno of readdir. */
int fs_dir_names(DIR *d, char ***out, size_t *count);
void fs_names_free(char **v, size_t n); /* v may be NULL */
/* Appends a copy of name to the vector v[0..*n) of *cap slots, grown as needed. 0 or -ENOMEM. */
int fs_names_push(char ***v, size_t *n, size_t *cap, const char *name);

/*
 * Replaces the file leaf (in the directory dirfd, AT_FDCWD for the current
 * one) with data[0..len) crash-safely (issue 13: restart state): written
 * to leaf + ".tmp", fsync'd, renamed over leaf, the directory fsync'd. A
 * crash leaves the old contents or the new, never a mix; a stale .tmp is
 * harmless. Mode 0600. Returns 0 or a negated errno.
 */
int fs_replace(int dirfd, const char *leaf, const void *data, size_t len);

#endif
