/*
 * fuzz_config.c - libFuzzer target for the `run` config loader
 * (run/config.c): any bytes are either refused with "path:..." or loaded
 * into a config whose printed form (--print-config) loads again, and
 * run_config_check() answers without crashing. The loader reads a file,
 * so each input is written to one temporary file first.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "run/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char path[64];

static void write_file(const void *data, size_t size)
{
    if (!path[0]) {
        snprintf(path, sizeof path, "/tmp/aftermath-fuzz-config-XXXXXX");
        int fd = mkstemp(path);
        if (fd < 0)
            abort();
        close(fd);
    }
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[1024] = "";
    write_file(data, size);
    run_config_t *cfg = run_config_load(path, err, sizeof err);
    if (!cfg) {
        if (strncmp(err, path, strlen(path)) != 0) {
            fprintf(stderr, "refusal without a place: %s\n", err);
            abort();
        }
        return 0;
    }
    (void)run_config_check(cfg, err, sizeof err);
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    run_config_print(cfg, out);
    fclose(out);
    write_file(text, len);
    run_config_t *again = run_config_load(path, err, sizeof err);
    if (!again) {
        fprintf(stderr, "printed config does not load: %s\n%s", err, text);
        abort();
    }
    run_config_destroy(again);
    run_config_destroy(cfg);
    free(text);
    return 0;
}
