/*
 * fuzz_time.c - libFuzzer target for am_time_parse(): never reads past
 * the input (it is not NUL-terminated), and whatever it accepts formats
 * back (am_time_format) to a string that parses to the same instant.
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
    int rc = am_time_parse((const char *)data, size, &ms, err, sizeof err);
    if (rc < 0 || rc == 1) {
        if (ms != AM_TIME_NONE) /* refused or the zero time: no instant */
            abort();
        return 0;
    }
    am_time_format(ms, out);
    /* Formatting may leave the 4-digit years (an offset crosses 9999 or 1);
     * then re-parsing fails, which is fine. The zero time reads as unset. */
    int rc2 = am_time_parse(out, strlen(out), &again, err, sizeof err);
    if (rc2 == 0 && again != ms) {
        fprintf(stderr, "time %s: %lld, then %lld\n", out, (long long)ms, (long long)again);
        abort();
    }
    return 0;
}
