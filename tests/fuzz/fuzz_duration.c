/*
 * fuzz_duration.c - libFuzzer target for am_duration_parse(): bounds,
 * overflow, and a round trip through am_duration_format().
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/time.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int64_t ms, again;
    char err[256], out[AM_TIME_STRLEN];
    if (am_duration_parse((const char *)data, size, &ms, err, sizeof err) != 0)
        return 0;
    if (ms < 0)
        abort();
    am_duration_format(ms, out);
    if (am_duration_parse(out, strlen(out), &again, err, sizeof err) != 0 || again != ms) {
        fprintf(stderr, "duration %lld formats as %s: %s\n", (long long)ms, out, err);
        abort();
    }
    return 0;
}
