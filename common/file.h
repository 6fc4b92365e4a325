/*
 * file.h - writing and reading the files aftermath names itself (drafts,
 * `report --out`) without ever going through a link someone planted.
 */
#ifndef AM_FILE_H
#define AM_FILE_H

#include <stddef.h>

#include "common/buf.h"

/* Replaces path with the len bytes at p (STYLE rule 27): they are written
 * to a new file that mkstemp creates exclusively in path's directory
 * (".NAME.tmp.XXXXXX", mode 0600, never through a link, never an existing
 * file), which is then renamed over path. rename replaces a link at path
 * rather than following it, so nothing but path itself is ever written,
 * and a reader sees the old file or the new one, never half of one.
 * Returns 0, or -1 with err ("path: reason") and no temporary file left.
 * path must name a file, not end in '/'. */
int am_file_replace(const char *path, const void *p, size_t len, char *err, size_t errlen);

/* Results of am_file_read(). */
typedef enum am_file_read_rc {
    AM_FILE_ERROR = -1,     /* could not be read: errno set */
    AM_FILE_ABSENT = 0,     /* nothing at path */
    AM_FILE_READ = 1,       /* a regular file, appended to b */
    AM_FILE_NOT_REGULAR = 2 /* a link, a FIFO, a device, a directory: not opened
                             * through (a link) or not read (the others) */
} am_file_read_rc_t;

/* Appends the content of the regular file at path to b. A symbolic link
 * at path is not followed and anything but a regular file is not read
 * (opening never blocks, so a FIFO planted at path cannot hang the
 * caller): both give AM_FILE_NOT_REGULAR. */
am_file_read_rc_t am_file_read(const char *path, am_buf_t *b);

#endif
