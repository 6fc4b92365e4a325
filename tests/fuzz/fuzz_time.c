/*
 * fuzz_time.c - libFuzzer target for am_time_parse(): never reads past
 * the input (it is not NUL-terminated), and whatever it accepts formats
 * back (am_time_format) to a string that parses to the same instant; the
 * fraction is truncated, never rounded (the instant stays in the second
 * written); and the plausibility bounds judge every instant without
 * overflow, a plausible one also as a record time.
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
    /* Truncated: the instant is in the second the text names, so the
     * text without its fraction is at most 999 ms earlier. */
    const char *dot = memchr(data, '.', size);
    if (dot) {
        const uint8_t *end = (const uint8_t *)dot + 1;
        while (end < data + size && *end >= '0' && *end <= '9')
            end++;
        size_t head = (size_t)((const uint8_t *)dot - data), tail = size - (size_t)(end - data);
        char *whole = malloc(head + tail + 1);
        memcpy(whole, data, head);
        memcpy(whole + head, end, tail);
        whole[head + tail] = '\0';
        int64_t second;
        if (am_time_parse(whole, head + tail, &second, err, sizeof err) == 0 &&
            (ms < second || ms - second > 999)) {
            fprintf(stderr, "fraction of %.*s moved it out of its second\n", (int)size,
                    (const char *)data);
            abort();
        }
        free(whole);
    }
    int plausible = am_time_plausible(ms, AM_TIME_NONE, err, sizeof err) == 0;
    if (plausible != (am_time_record(ms) == ms) ||
        (plausible && am_time_plausible(ms, ms, err, sizeof err) != 0) ||
        am_time_record(am_time_record(ms)) != am_time_record(ms))
        abort();
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
