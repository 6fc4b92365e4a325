/*
 * replay_main.c - runs a libFuzzer target's LLVMFuzzerTestOneInput over
 * every file of the corpus directories (or files) named on the command
 * line, so that ctest replays the seed corpus and past crashes in every
 * build, with any compiler, without libFuzzer.
 *
 * Files are run in name order for a reproducible log. An argument that
 * yields no input at all is a failure: a missing corpus must not pass.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "replay: cannot open %s\n", path);
        return -1;
    }
    am_buf_t b = {0};
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        am_buf_append(&b, chunk, n);
    fclose(f);
    /* An exact-size copy, so that ASan sees a read past the input's end. */
    uint8_t *data = am_xmalloc(b.len ? b.len : 1);
    if (b.len)
        memcpy(data, b.p, b.len);
    LLVMFuzzerTestOneInput(data, b.len);
    free(data);
    am_buf_free(&b);
    return 0;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Runs every regular file in dir; returns how many, or -1. */
static long run_dir(const char *dir)
{
    DIR *dh = opendir(dir);
    if (!dh) {
        fprintf(stderr, "replay: cannot open directory %s\n", dir);
        return -1;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(dh))) {
        if (de->d_name[0] == '.')
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            names = am_xrealloc(names, cap * sizeof *names);
        }
        names[n++] = am_xstrdup(de->d_name);
    }
    closedir(dh);
    qsort(names, n, sizeof *names, by_name);
    long ran = 0;
    for (size_t i = 0; i < n; i++) {
        am_buf_t path = {0};
        am_buf_printf(&path, "%s/%s", dir, names[i]);
        struct stat sb;
        if (stat(path.p, &sb) == 0 && S_ISREG(sb.st_mode)) {
            if (run_file(path.p) != 0)
                ran = -1;
            else if (ran >= 0)
                ran++;
        }
        am_buf_free(&path);
        free(names[i]);
    }
    free(names);
    return ran;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s CORPUS_DIR|FILE...\n", argv[0]);
        return 2;
    }
    int rc = 0;
    for (int i = 1; i < argc; i++) {
        struct stat sb;
        long ran;
        if (stat(argv[i], &sb) != 0) {
            fprintf(stderr, "replay: %s does not exist\n", argv[i]);
            rc = 1;
            continue;
        }
        ran = S_ISDIR(sb.st_mode) ? run_dir(argv[i]) : (run_file(argv[i]) == 0 ? 1 : -1);
        if (ran <= 0) {
            fprintf(stderr, "replay: no input run from %s\n", argv[i]);
            rc = 1;
            continue;
        }
        printf("replay: %ld input%s from %s\n", ran, ran == 1 ? "" : "s", argv[i]);
    }
    return rc;
}
