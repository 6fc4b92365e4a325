/*
 * tmp_util.h - temporary files for tests.
 */
#ifndef TEST_TMP_UTIL_H
#define TEST_TMP_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Creates a fresh temporary directory; path must hold 64 bytes. */
static inline void tmp_dir(char *path)
{
    snprintf(path, 64, "/tmp/aftermath-test-XXXXXX");
    if (!mkdtemp(path))
        abort();
}

/* The whole file at path, NUL-terminated (the caller frees it), with its
 * length in *len when len is not NULL; NULL when it cannot be read. */
static inline char *tmp_read(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t n = 0, cap = 65536;
    char *p = malloc(cap + 1);
    size_t got;
    while (p && (got = fread(p + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            char *q = realloc(p, 2 * cap + 1);
            if (!q) {
                free(p);
                p = NULL;
            }
            p = q;
            cap *= 2;
        }
    }
    fclose(f);
    if (!p)
        abort();
    p[n] = '\0';
    if (len)
        *len = n;
    return p;
}

/* tmp_read(), but a file that cannot be read is test data missing: says
 * which and aborts. */
static inline char *tmp_slurp(const char *path)
{
    char *text = tmp_read(path, NULL);
    if (!text) {
        fprintf(stderr, "cannot read %s\n", path);
        abort();
    }
    return text;
}

/* Writes content to dir/name and returns the path (static buffer). */
static inline const char *tmp_write(const char *dir, const char *name, const char *content)
{
    static char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f)
        abort();
    fwrite(content, 1, strlen(content), f);
    fclose(f);
    return path;
}

static inline void tmp_rm_rf(const char *dir)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
}

#endif
