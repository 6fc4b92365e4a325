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
