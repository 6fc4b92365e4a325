/*
 * file.c - exclusive creation and rename for the files aftermath writes,
 * and reading without following links (see file.h).
 *
 * Design choice: a predictable temporary name ("X.tmp") opened with
 * fopen(..., "wb") follows a symbolic link someone placed there and
 * truncates its target, which may be the database itself. mkstemp creates
 * a fresh name with O_CREAT|O_EXCL, which fails on anything already there,
 * links included; the rename that follows never follows a link either.
 * Reading uses O_NOFOLLOW|O_NONBLOCK and checks the type with fstat on the
 * open descriptor, so what is checked is what is read.
 */
#include "common/file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int write_all(int fd, const char *p, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int am_file_replace(const char *path, const void *p, size_t len, char *err, size_t errlen)
{
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    if (!*base) {
        am_errf(err, errlen, "%s: not a file name", path);
        return -1;
    }
    am_buf_t tmp = {0};
    if (slash)
        am_buf_append(&tmp, path, (size_t)(base - path));
    am_buf_printf(&tmp, ".%s.tmp.XXXXXX", base);
    int fd = mkstemp(tmp.p);
    if (fd < 0) {
        am_errf(err, errlen, "%s: cannot create a temporary file beside it: %s", path,
                strerror(errno));
        am_buf_free(&tmp);
        return -1;
    }
    int rc = 0;
    if (write_all(fd, p, len) != 0) {
        am_errf(err, errlen, "%s: write failed: %s", path, strerror(errno));
        rc = -1;
    }
    if (close(fd) != 0 && rc == 0) {
        am_errf(err, errlen, "%s: write failed: %s", path, strerror(errno));
        rc = -1;
    }
    if (rc == 0 && rename(tmp.p, path) != 0) {
        am_errf(err, errlen, "%s: %s", path, strerror(errno));
        rc = -1;
    }
    if (rc != 0)
        unlink(tmp.p);
    am_buf_free(&tmp);
    return rc;
}

am_file_read_rc_t am_file_read(const char *path, am_buf_t *b)
{
    int fd;
    do
        fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    while (fd < 0 && errno == EINTR);
    if (fd < 0) {
        if (errno == ENOENT)
            return AM_FILE_ABSENT;
        /* O_NOFOLLOW on a link: ELOOP (POSIX, Linux), EMLINK (FreeBSD) */
        if (errno == ELOOP || errno == EMLINK)
            return AM_FILE_NOT_REGULAR;
        return AM_FILE_ERROR;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return AM_FILE_ERROR;
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return AM_FILE_NOT_REGULAR;
    }
    char chunk[8192];
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int e = errno;
            close(fd);
            errno = e;
            return AM_FILE_ERROR;
        }
        if (n == 0)
            break;
        am_buf_append(b, chunk, (size_t)n);
    }
    close(fd);
    return AM_FILE_READ;
}
